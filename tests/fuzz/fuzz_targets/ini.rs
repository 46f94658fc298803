#![no_main]
//! Fuzz target `ini`; the check is shared with the regression test that replays
//! fixtures/fuzz/ini/ (see tests/fuzz_regressions.rs).

#[path = "../../fuzz_regressions.rs"]
mod regressions;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    regressions::checks::ini(data);
});
