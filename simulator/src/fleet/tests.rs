use super::*;

#[test]
fn glob_matches_like_the_api() {
    assert!(glob("web-*", "web-001"));
    assert!(glob("*", ""));
    assert!(glob("*-0*1", "web-001"));
    assert!(!glob("web-*", "db-001"));
    assert!(glob("exact", "exact"));
    assert!(!glob("exact", "exactly"));
}

#[test]
fn paging_is_total() {
    let v: Vec<u32> = (0..250).collect();
    assert_eq!(page(&v, 1, 100).len(), 100);
    assert_eq!(page(&v, 3, 100).len(), 50);
    assert_eq!(page(&v, 4, 100).len(), 0);
    assert_eq!(page(&v, u64::MAX, 100).len(), 0);
}
