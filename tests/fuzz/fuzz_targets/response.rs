#![no_main]
//! Fuzz target `response`; the check is shared with the regression test that replays
//! fixtures/fuzz/response/ (see tests/fuzz_regressions.rs).

#[path = "../../fuzz_regressions.rs"]
mod regressions;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    regressions::checks::response(data);
});
