#![no_main]
//! Fuzz target `instance_filters`; the check is shared with the regression test that replays
//! fixtures/fuzz/instance_filters/ (see tests/fuzz_regressions.rs).

#[path = "../../fuzz_regressions.rs"]
mod regressions;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    regressions::checks::instance_filters(data);
});
