use super::*;

#[test]
fn http_date_is_imf_fixdate() {
    // RFC 7231's own example.
    assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

#[test]
fn skew_moves_both_clocks() {
    let ahead = Clock { skew: 3600 };
    let d = ahead.now() - Clock::default().now();
    assert!((3599..=3601).contains(&d), "{d}");
    let d = ahead.now_ms() - Clock::default().now_ms();
    assert!((3_599_000..=3_601_000).contains(&d), "{d}");
}
