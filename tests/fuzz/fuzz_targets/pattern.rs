#![no_main]
//! Fuzz target `pattern`: `settings::values::parse_pattern` (ini `pattern_include`/`pattern_exclude`).
//! The check is shared with the unit test that replays fixtures/fuzz/pattern/ (see
//! src/settings/values/checks.rs, which names the library as `crate::settings`).

use alicloud_inventory::settings;

#[path = "../../../src/settings/values/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::pattern(data);
});
