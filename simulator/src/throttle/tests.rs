use super::*;

fn quota(limit: u64, window_ms: u64) -> Throttle {
    Throttle::new(0, None, Some(Quota::new(limit, window_ms)))
}

fn served(t: &Throttle, region: &str, action: &str, now_ms: i64) -> bool {
    t.check_quota("1", region, action, now_ms).is_ok()
}

#[test]
fn a_window_serves_its_quota_then_throttles_until_the_next() {
    let t = quota(2, 60_000);
    assert!(served(&t, "cn-a", "DescribeInstances", 120_000));
    assert!(served(&t, "cn-a", "DescribeInstances", 150_000));
    let e = t
        .check_quota("1", "cn-a", "DescribeInstances", 179_999)
        .unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (400, "Throttling.User"));
    // Minute T+1.
    assert!(served(&t, "cn-a", "DescribeInstances", 180_000));
    assert!(served(&t, "cn-a", "DescribeInstances", 180_001));
    assert!(!served(&t, "cn-a", "DescribeInstances", 180_002));
}

#[test]
fn regions_actions_and_accounts_have_quotas_of_their_own() {
    let t = quota(1, 1_000);
    assert!(served(&t, "cn-a", "DescribeInstances", 0));
    assert!(!served(&t, "cn-a", "DescribeInstances", 1));
    assert!(served(&t, "cn-b", "DescribeInstances", 2));
    assert!(served(&t, "cn-a", "DescribeRegions", 3));
    assert!(t.check_quota("2", "cn-a", "DescribeInstances", 4).is_ok());
}

#[test]
fn throttled_calls_do_not_use_the_quota_and_reset_restores_it() {
    let t = quota(1, 1_000);
    assert!(served(&t, "cn-a", "X", 0));
    for ms in 1..100 {
        assert!(!served(&t, "cn-a", "X", ms));
    }
    assert!(served(&t, "cn-a", "X", 1_000));
    t.reset();
    assert!(served(&t, "cn-a", "X", 1_001));
}

#[test]
fn windows_are_aligned_to_the_epoch() {
    let t = quota(1, 500);
    assert!(served(&t, "cn-a", "X", 499));
    // 500 opens a new window although only 1 ms has passed.
    assert!(served(&t, "cn-a", "X", 500));
    // Before the epoch too (a clock skewed far back).
    assert!(served(&t, "cn-a", "X", -1));
    assert!(!served(&t, "cn-a", "X", -500));
}

#[test]
fn no_quota_is_unlimited() {
    let t = Throttle::new(0, None, None);
    for ms in 0..1_000 {
        assert!(served(&t, "cn-a", "X", ms));
    }
}
