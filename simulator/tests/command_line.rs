//! The simulator's own command line. (Being an integration test of this package also makes
//! `cargo test` build the `ecs-simulator` binary, which the inventory's tests run.)

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ecs-simulator");

fn run(bin: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .env_clear()
        .output()
        .expect("run ecs-simulator")
}

#[test]
fn version_and_usage() {
    let out = run(Path::new(BIN), &["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        concat!("ecs-simulator ", env!("CARGO_PKG_VERSION"), "\n")
    );
    let out = run(Path::new(BIN), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for sub in ["serve", "generate", "demo"] {
        assert!(err.contains(sub), "usage without {sub}: {err}");
    }
}

#[test]
fn demo_without_the_inventory_beside_it_names_the_fix() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lone = dir.path().join("ecs-simulator");
    if std::fs::hard_link(BIN, &lone).is_err() {
        std::fs::copy(BIN, &lone).expect("copy the simulator");
    }
    let out = run(&lone, &["demo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end(),
        format!(
            "ecs-simulator: error: {} is missing; build both binaries first: cargo build --release",
            dir.path().join("alicloud_inventory").display()
        )
    );
}

#[test]
fn serve_documents_and_checks_the_quota_options() {
    let out = run(Path::new(BIN), &["serve", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for opt in ["--quota <N>", "--quota-window-ms <MS>", "[default: 60000]"] {
        assert!(help.contains(opt), "no {opt} in: {help}");
    }
    for bad in [["--quota", "0"], ["--quota-window-ms", "0"]] {
        let mut args = vec!["serve", "--fleet", "/nonexistent"];
        args.extend(bad);
        let out = run(Path::new(BIN), &args);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(bad[0]), "{bad:?}: {err}");
    }
}
