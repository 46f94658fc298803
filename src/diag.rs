//! Diagnostics on stderr. A successful run prints nothing (Ansible shows any stderr text as
//! `[ERROR]`), so informational lines wait for `-v`; warnings are for things the operator must act
//! on. Nothing passed here may contain a secret.

use std::sync::atomic::{AtomicU8, Ordering};

static VERBOSITY: AtomicU8 = AtomicU8::new(0);

pub fn set_verbosity(v: u8) {
    VERBOSITY.store(v, Ordering::Relaxed);
}

pub fn enabled(level: u8) -> bool {
    VERBOSITY.load(Ordering::Relaxed) >= level
}

/// `alicloud_inventory: warning: ...` — always shown.
pub fn warn(msg: &str) {
    eprintln!("alicloud_inventory: warning: {msg}");
}

/// Shown with `-v` (level 1) or more.
#[macro_export]
macro_rules! info {
    ($level:expr, $($arg:tt)*) => {
        if $crate::diag::enabled($level) {
            eprintln!("alicloud_inventory: {}", format_args!($($arg)*));
        }
    };
}
