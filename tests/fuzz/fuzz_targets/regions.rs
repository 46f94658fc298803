#![no_main]
//! Fuzz target `regions`: `config::values::parse_regions` (ini `regions`).
//! The check is shared with the unit test that replays fixtures/fuzz/regions/ (see
//! src/config/values/checks.rs, which names the library as `crate::config`).

use alicloud_inventory::config;

#[path = "../../../src/config/values/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::regions(data);
});
