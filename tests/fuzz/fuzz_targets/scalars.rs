#![no_main]
//! Fuzz target `scalars`: `settings::values::{parse_bool, split_list, unquote}` (booleans and lists).
//! The check is shared with the unit test that replays fixtures/fuzz/scalars/ (see
//! src/settings/values/checks.rs, which names the library as `crate::settings`).

use alicloud_inventory::settings;

#[path = "../../../src/settings/values/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::scalars(data);
});
