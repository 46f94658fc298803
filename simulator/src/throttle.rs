//! Throttling that is not a region's fault: `--throttle-first`, `--throttle-above-inflight`,
//! and the service's documented model, a quota per (account, region, action) per window
//! (`--quota`, `--quota-window-ms`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::error::ApiError;
use crate::sync::lock;

pub struct Throttle {
    /// The first this many API requests are throttled.
    first: u64,
    /// A request arriving while this many of its account are in flight is throttled.
    above_in_flight: Option<usize>,
    /// API requests so far, throttled ones too.
    arrivals: AtomicU64,
    quota: Option<Quota>,
}

impl Throttle {
    pub fn new(first: u64, above_in_flight: Option<usize>, quota: Option<Quota>) -> Throttle {
        Throttle {
            first,
            above_in_flight,
            arrivals: AtomicU64::new(0),
            quota,
        }
    }

    /// Counts a request in; its number (from 1) is for [`Throttle::check_first`].
    pub fn arrive(&self) -> u64 {
        self.arrivals.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// At arrival: `in_flight_before` of the caller's account were already in flight.
    pub fn check_in_flight(&self, in_flight_before: usize) -> Result<(), ApiError> {
        match self.above_in_flight {
            Some(limit) if in_flight_before >= limit => Err(ApiError::throttling()),
            _ => Ok(()),
        }
    }

    /// After the latency.
    pub fn check_first(&self, arrival: u64) -> Result<(), ApiError> {
        if arrival <= self.first {
            return Err(ApiError::throttling());
        }
        Ok(())
    }

    /// A call of `action` in `region` by `account` at `now_ms` (the simulator clock).
    pub fn check_quota(
        &self,
        account: &str,
        region: &str,
        action: &str,
        now_ms: i64,
    ) -> Result<(), ApiError> {
        match &self.quota {
            Some(q) if !q.take(account, region, action, now_ms) => Err(ApiError::throttling()),
            _ => Ok(()),
        }
    }

    /// `/_sim/reset`: every quota is whole again.
    pub fn reset(&self) {
        if let Some(q) = &self.quota {
            lock(&q.used).clear();
        }
    }
}

/// `limit` calls per window of `window_ms`, windows aligned to the epoch as the service's
/// are to wall-clock minutes: a call refused in window T succeeds in window T+1.
pub struct Quota {
    limit: u64,
    window_ms: u64,
    used: Mutex<HashMap<Key, Used>>,
}

/// (account, region, action).
type Key = (String, String, String);
/// (window, calls served in it).
type Used = (i64, u64);

impl Quota {
    pub fn new(limit: u64, window_ms: u64) -> Quota {
        Quota {
            limit,
            window_ms: window_ms.max(1),
            used: Mutex::default(),
        }
    }

    /// Whether the call is served; only served calls use the quota.
    fn take(&self, account: &str, region: &str, action: &str, now_ms: i64) -> bool {
        let window = now_ms.div_euclid(i64::try_from(self.window_ms).unwrap_or(i64::MAX));
        let mut used = lock(&self.used);
        let key = (account.to_owned(), region.to_owned(), action.to_owned());
        let (w, n) = used.entry(key).or_insert((window, 0));
        if *w != window {
            *w = window;
            *n = 0;
        }
        if *n >= self.limit {
            return false;
        }
        *n += 1;
        true
    }
}

#[cfg(test)]
mod tests;
