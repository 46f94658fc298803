#![no_main]
//! Fuzz target `regions`: `settings::values::parse_regions` (ini `regions`).
//! The check is shared with the unit test that replays fixtures/fuzz/regions/ (see
//! src/settings/values/checks.rs, which names the library as `crate::settings`).

use alicloud_inventory::settings;

#[path = "../../../src/settings/values/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::regions(data);
});
