#![no_main]
//! Fuzz target `constructed_fast`: the fast path of constructed expressions against minijinja's
//! VM. The check and the generator are shared with the unit test that replays
//! fixtures/fuzz/constructed_fast/ (see src/constructed/tests/fast_checks.rs, which names the
//! library as `crate::constructed`).

use alicloud_inventory::constructed;

#[path = "../../../src/constructed/tests/fast_checks.rs"]
mod fast_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // Long text only makes minijinja's parser slower, not the comparison stronger.
    if data.len() <= 4096 {
        fast_checks::fuzz(data);
    }
});
