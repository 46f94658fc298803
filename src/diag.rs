//! Diagnostics on stderr. A successful run prints nothing (Ansible shows any stderr text as
//! `[ERROR]`), so informational lines wait for `-v`; warnings are for things the operator must act
//! on. Nothing passed here may contain a secret.
//!
//! Every line is written with its error dropped: a stderr on a full disk or a closed pipe must
//! not change the outcome of the run (`eprintln!` would panic there).

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

static VERBOSITY: AtomicU8 = AtomicU8::new(0);

pub fn set_verbosity(v: u8) {
    VERBOSITY.store(v, Ordering::Relaxed);
}

pub fn enabled(level: u8) -> bool {
    VERBOSITY.load(Ordering::Relaxed) >= level
}

/// `alicloud_inventory: <line>` on stderr, whether or not stderr takes it.
pub fn line(args: fmt::Arguments) {
    let _ = writeln!(std::io::stderr(), "alicloud_inventory: {args}");
}

/// `alicloud_inventory: warning: ...` — always shown.
pub fn warn(msg: &str) {
    line(format_args!("warning: {msg}"));
}

/// `alicloud_inventory: error: ...`, the one line of a failed run.
pub fn error(msg: &dyn fmt::Display) {
    line(format_args!("error: {msg}"));
}

/// `1 region`, `2 regions`: a count and its noun, for diagnostics.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Shown with `-v` (level 1) or more.
#[macro_export]
macro_rules! info {
    ($level:expr, $($arg:tt)*) => {
        if $crate::diag::enabled($level) {
            $crate::diag::line(format_args!($($arg)*));
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_take_the_plural_except_for_one() {
        assert_eq!(super::count(0, "region"), "0 regions");
        assert_eq!(super::count(1, "region"), "1 region");
        assert_eq!(super::count(2, "page"), "2 pages");
    }
}
