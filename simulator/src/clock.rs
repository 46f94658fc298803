//! The simulator clock: the wall clock moved by `--clock-skew-secs`.

#[derive(Clone, Copy, Default)]
pub struct Clock {
    /// Seconds added to the wall clock.
    pub skew: i64,
}

impl Clock {
    /// Unix seconds.
    pub fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.skew
    }

    /// Unix milliseconds (quota windows are shorter than a second in tests).
    pub fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis() + self.skew * 1000
    }

    /// The `Date` header: the service's clock, as a client reads the service's minute from it.
    pub fn http_date(&self) -> String {
        http_date(self.now())
    }
}

/// RFC 7231 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

#[cfg(test)]
mod tests;
