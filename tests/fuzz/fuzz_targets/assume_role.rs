#![no_main]
//! Fuzz target `assume_role`: `settings::values::parse_assume_role` (the flow mapping of ini `assume_role`).
//! The check is shared with the unit test that replays fixtures/fuzz/assume_role/ (see
//! src/settings/values/checks.rs, which names the library as `crate::settings`).

use alicloud_inventory::settings;

#[path = "../../../src/settings/values/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::assume_role(data);
});
