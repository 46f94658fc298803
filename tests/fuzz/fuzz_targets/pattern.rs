#![no_main]
//! Fuzz target `pattern`: `config::values::parse_pattern` (ini `pattern_include`/`pattern_exclude`).
//! The check is shared with the unit test that replays fixtures/fuzz/pattern/ (see
//! src/config/values/checks.rs, which names the library as `crate::config`).

use alicloud_inventory::config;

#[path = "../../../src/config/values/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::pattern(data);
});
