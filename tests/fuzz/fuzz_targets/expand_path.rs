#![no_main]
//! Fuzz target `expand_path`: `settings::values::expand_path` (`~` and `$VAR` in paths).
//! The check is shared with the unit test that replays fixtures/fuzz/expand_path/ (see
//! src/settings/values/checks.rs, which names the library as `crate::settings`).

use alicloud_inventory::settings;

#[path = "../../../src/settings/values/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::expand_path(data);
});
