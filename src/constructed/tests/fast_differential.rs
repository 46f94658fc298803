//! The fast path against minijinja's VM on generated expressions and hosts (fast_checks.rs),
//! with a fixed seed, and on the kept inputs of the fuzz target `constructed_fast`.

use super::fast_checks::{self, Tally};
use std::path::PathBuf;

/// Generated expressions, each on the boundary hosts and two random ones. A disagreement
/// panics in `compare`; the tally shows both ways were taken, and each shape was answered.
#[test]
fn fast_path_agrees_with_minijinja_on_generated_expressions() {
    let mut rng = fastrand::Rng::with_seed(32);
    let mut pick = |n: usize| rng.usize(..n);
    let mut tally = Tally::default();
    for _ in 0..5000 {
        let source = fast_checks::expression(&mut pick, 3);
        let mut hosts = fast_checks::boundary_hosts();
        hosts.push(fast_checks::host(&mut pick));
        hosts.push(fast_checks::host(&mut pick));
        fast_checks::compare(&source, &hosts, &mut tally);
    }
    assert!(
        tally.answered > 6000 && tally.declined > 10000 && tally.not_fast > 1500,
        "{} answered, {} declined, {} not fast",
        tally.answered,
        tally.declined,
        tally.not_fast
    );
    let shapes = [
        ".",
        "['",
        "==",
        "!=",
        " < ",
        "<=",
        " > ",
        ">=",
        " in ",
        " not in ",
        " / ",
        " and ",
        " or ",
        "not (",
        "| default",
        "| d(",
        "is defined",
        "is undefined",
        "is not defined",
        "| lower",
        "| split(",
        "| int",
        "| length",
    ];
    for shape in shapes {
        assert!(
            tally.answered_sources.iter().any(|s| s.contains(shape)),
            "no answered expression has {shape:?}"
        );
    }
}

/// The kept inputs of the fuzz target, each compared again.
#[test]
fn fuzz_inputs_constructed_fast() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz/constructed_fast");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let mut answered = 0;
    for path in &paths {
        let bytes = std::fs::read(path).expect("readable input");
        answered += fast_checks::fuzz(&bytes).answered;
    }
    assert!(
        answered > 0,
        "no kept input in {} is answered",
        dir.display()
    );
}
