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
}
