#![no_main]
//! Fuzz target `expand_path`: `config::values::expand_path` (`~` and `$VAR` in paths).
//! The check is shared with the unit test that replays fixtures/fuzz/expand_path/ (see
//! src/config/values/checks.rs, which names the library as `crate::config`).

use alicloud_inventory::config;

#[path = "../../../src/config/values/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::expand_path(data);
});
