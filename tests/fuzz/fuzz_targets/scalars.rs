#![no_main]
//! Fuzz target `scalars`: `config::values::{parse_bool, split_list, unquote}` (booleans and lists).
//! The check is shared with the unit test that replays fixtures/fuzz/scalars/ (see
//! src/config/values/checks.rs, which names the library as `crate::config`).

use alicloud_inventory::config;

#[path = "../../../src/config/values/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::scalars(data);
});
