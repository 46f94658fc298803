//! Holds for throttled windows (docs/DESIGN.md, "The API client").
//!
//! ECS counts calls per (account, region, operation) per window of its own clock, and a window
//! that said no stays closed until it ends: retrying inside it only adds to the account's load.
//! So a throttling answer holds that region's calls to that operation until the next window of
//! the service's clock (its `Date` header; the local clock without one). The holds of one region
//! may add up to `throttle_wait` at most; past it the call fails.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Holds {
    window_ms: i64,
    budget: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    until: HashMap<String, Instant>,
    waited: Duration,
    holds: u32,
}

/// What a throttling answer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// A new hold of this long.
    New(Duration),
    /// The window was already held (the call was sent before the hold began).
    Already,
    /// A new hold would take the region's waits past the budget; how long it has waited.
    OverBudget(Duration),
}

impl Holds {
    pub fn new(window: Duration, budget: Duration) -> Holds {
        Holds {
            window_ms: (window.as_millis() as i64).max(1),
            budget,
            state: Mutex::default(),
        }
    }

    /// Until when calls to `action` wait; `None` when they may go now.
    pub fn until(&self, action: &str, now: Instant) -> Option<Instant> {
        let st = self.state.lock().expect("holds lock");
        st.until.get(action).copied().filter(|u| *u > now)
    }

    /// A throttling answer to `action` at local instant `now`, when the service's clock read
    /// `service_ms` (milliseconds since the epoch).
    pub fn throttled(&self, action: &str, now: Instant, service_ms: i64) -> Hold {
        let mut st = self.state.lock().expect("holds lock");
        if st.until.get(action).is_some_and(|u| *u > now) {
            return Hold::Already;
        }
        let wait = until_next_window(service_ms, self.window_ms);
        if st.waited + wait > self.budget {
            return Hold::OverBudget(st.waited);
        }
        st.waited += wait;
        st.holds += 1;
        st.until.insert(action.to_string(), now + wait);
        Hold::New(wait)
    }

    /// How long the region's calls were held in all, and how many holds that was.
    pub fn waited(&self) -> (Duration, u32) {
        let st = self.state.lock().expect("holds lock");
        (st.waited, st.holds)
    }
}

/// From `now_ms` to the start of the next window of `window_ms`, windows aligned to the epoch.
pub fn until_next_window(now_ms: i64, window_ms: i64) -> Duration {
    let window_ms = window_ms.max(1);
    Duration::from_millis((window_ms - now_ms.rem_euclid(window_ms)) as u64)
}

/// The service's clock when it answered: its `Date` header (whole seconds) when there is one,
/// else `local_ms`. Within the same second the local clock gives the fraction; otherwise the
/// start of the header's second, which can only make a hold longer, never end it early.
pub fn service_ms(date: Option<&str>, local_ms: i64) -> i64 {
    let Some(secs) = date
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(d.trim()).ok())
        .map(|d| d.timestamp())
    else {
        return local_ms;
    };
    if secs == local_ms.div_euclid(1000) {
        local_ms
    } else {
        secs * 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_window_starts_at_a_multiple_of_the_window() {
        assert_eq!(until_next_window(60_000, 60_000), Duration::from_secs(60));
        assert_eq!(
            until_next_window(61_500, 60_000),
            Duration::from_millis(58_500)
        );
        assert_eq!(until_next_window(119_999, 60_000), Duration::from_millis(1));
        assert_eq!(until_next_window(2_250, 1_000), Duration::from_millis(750));
    }

    #[test]
    fn the_date_header_gives_the_service_clock() {
        let date = "Sat, 05 Dec 2026 15:30:07 GMT";
        let secs = chrono::DateTime::parse_from_rfc2822(date)
            .unwrap()
            .timestamp();
        assert_eq!(service_ms(Some(date), secs * 1000 + 420), secs * 1000 + 420);
        assert_eq!(service_ms(Some(date), secs * 1000 + 5_420), secs * 1000);
        assert_eq!(service_ms(Some(date), secs * 1000 - 3_000), secs * 1000);
        assert_eq!(service_ms(None, 1234), 1234);
        assert_eq!(service_ms(Some("yesterday"), 1234), 1234);
    }

    #[test]
    fn one_hold_per_closed_window_and_the_budget_bounds_them() {
        let h = Holds::new(Duration::from_secs(1), Duration::from_millis(1_600));
        let t = Instant::now();
        assert_eq!(h.until("A", t), None);
        assert_eq!(
            h.throttled("A", t, 10_400),
            Hold::New(Duration::from_millis(600))
        );
        assert_eq!(h.until("A", t), Some(t + Duration::from_millis(600)));
        assert_eq!(h.until("B", t), None, "other operations are not held");
        assert_eq!(h.throttled("A", t, 10_500), Hold::Already);
        let t2 = t + Duration::from_millis(600);
        assert_eq!(h.until("A", t2), None, "the hold ends with the window");
        assert_eq!(
            h.throttled("A", t2, 11_000),
            Hold::New(Duration::from_secs(1))
        );
        let t3 = t2 + Duration::from_secs(1);
        assert_eq!(
            h.throttled("A", t3, 12_000),
            Hold::OverBudget(Duration::from_millis(1_600))
        );
        assert_eq!(h.waited(), (Duration::from_millis(1_600), 2));
    }
}
