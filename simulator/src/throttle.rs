//! Throttling that is not a region's fault: `--throttle-first` and `--throttle-above-inflight`.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ApiError;

pub struct Throttle {
    /// The first this many API requests are throttled.
    first: u64,
    /// A request arriving while this many of its account are in flight is throttled.
    above_in_flight: Option<usize>,
    /// API requests so far, throttled ones too.
    arrivals: AtomicU64,
}

impl Throttle {
    pub fn new(first: u64, above_in_flight: Option<usize>) -> Throttle {
        Throttle {
            first,
            above_in_flight,
            arrivals: AtomicU64::new(0),
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
}
