#![no_main]
//! Fuzz target `assume_role`: `config::values::parse_assume_role` (the flow mapping of ini `assume_role`).
//! The check is shared with the unit test that replays fixtures/fuzz/assume_role/ (see
//! src/config/values/checks.rs, which names the library as `crate::config`).

use alicloud_inventory::config;

#[path = "../../../src/config/values/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::assume_role(data);
});
