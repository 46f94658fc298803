#![no_main]
//! Fuzz target `instance_filters`; the check is shared with the regression test that replays
//! fixtures/fuzz/instance_filters/ (see tests/integration/fuzz_regressions.rs).

// Each target uses one check; the replay helpers are for the test binary.
#[allow(dead_code)]
#[path = "../../integration/fuzz_regressions.rs"]
mod regressions;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    regressions::checks::instance_filters(data);
});
