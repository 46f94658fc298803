//! Throttling as the service does it (issue 31): a quota per (account, region, operation) per
//! window of the service's clock. A throttled region waits for the next window and succeeds;
//! other regions are not held; the wait is bounded by `throttle_wait`; `-v` says who waited.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::harness::{generate, Sim, Workspace};
use serde_json::Value;

/// The simulator's quota window and the inventory's `throttle_window`.
const WINDOW_MS: u64 = 2_000;

/// Four regions: the first with 600 running instances (6 pages), the others about 67 each (one
/// page). Returns the fleet and the big region's id.
fn skewed_fleet(ws: &Workspace) -> (PathBuf, String) {
    let json = generate(&[
        "--regions",
        "4",
        "--instances",
        "800",
        "--skew",
        "0.75",
        "--seed",
        "31",
        "--stopped-fraction",
        "0",
        "--loopback",
    ]);
    let path = ws.path("skewed.json");
    std::fs::write(&path, &json).unwrap();
    let v: Value = serde_json::from_slice(&json).unwrap();
    let big = v["regions"][0]["RegionId"].as_str().unwrap().to_string();
    (path, big)
}

/// Sleeps until just after a window boundary of the local clock (the simulator's too), so
/// that a run's first calls all fall in one window.
fn start_of_a_window() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let into = (now.as_millis() % WINDOW_MS as u128) as u64;
    std::thread::sleep(Duration::from_millis(WINDOW_MS - into + 50));
}

fn hosts(out: &crate::harness::Output) -> Vec<String> {
    let mut h: Vec<String> = out.json()["_meta"]["hostvars"]
        .as_object()
        .expect("hostvars")
        .keys()
        .cloned()
        .collect();
    h.sort();
    h
}

fn ini(ws: &Workspace, name: &str, wait: &str) -> PathBuf {
    ws.ini_named(
        name,
        &format!(
            "throttle_window = {}\nthrottle_wait = {wait}",
            WINDOW_MS as f64 / 1000.0
        ),
    )
}

#[test]
fn a_throttled_region_waits_for_the_next_window_and_the_others_are_not_held() {
    let ws = Workspace::new();
    let (fleet, big) = skewed_fleet(&ws);
    let ini = ini(&ws, "a.ini", "30");
    let unthrottled = {
        let sim = Sim::start(&fleet, &[]);
        let out = ws.run_sim(&sim, &ini, &["--refresh-cache"]);
        out.assert_success();
        hosts(&out)
    };
    assert!(unthrottled.len() > 700, "{}", unthrottled.len());

    // Four DescribeInstances per region per window: the big region's six pages need two.
    let window = WINDOW_MS.to_string();
    let sim = Sim::start(&fleet, &["--quota", "4", "--quota-window-ms", &window]);
    start_of_a_window();
    let started = Instant::now();
    let out = ws.run_sim(&sim, &ini, &["--refresh-cache", "-v"]);
    let elapsed = started.elapsed();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(hosts(&out), unthrottled, "the same hosts as unthrottled");

    let stats = sim.stats();
    let by_region = stats["throttled_by_region"].as_object().expect("by region");
    let throttled = by_region.get(&big).and_then(Value::as_u64).unwrap_or(0);
    assert!(throttled >= 1, "the big region was throttled: {stats}");
    assert!(
        throttled <= 4,
        "no more than the calls in flight when the window closed: {stats}"
    );
    assert!(
        by_region
            .iter()
            .all(|(r, n)| r == &big || n.as_u64() == Some(0)),
        "only the big region was throttled: {stats}"
    );
    // Generous: a hold lasts at most one window, and the run needs one or two.
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");

    // The other regions finished before the big region's calls resumed.
    let log = sim.requests();
    let first_throttle = log
        .iter()
        .position(|r| r["region"] == big.as_str() && r["status"] == 400)
        .expect("a throttled answer in the log");
    let resumed = log
        .iter()
        .skip(first_throttle)
        .position(|r| r["region"] == big.as_str() && r["status"] == 200)
        .map(|i| i + first_throttle)
        .expect("the big region resumed");
    let last_other = log
        .iter()
        .rposition(|r| r["action"] == "DescribeInstances" && r["region"] != big.as_str())
        .expect("other regions");
    assert!(
        last_other < resumed,
        "other regions were held: their last call is #{last_other}, the big region resumed at #{resumed}"
    );

    // -v says which region waited and how long.
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains(&format!("region {big}: waited ")))
        .unwrap_or_else(|| panic!("no wait reported: {}", out.stderr));
    assert!(
        line.contains(" ms for throttled windows (1 hold)"),
        "{line}"
    );
    assert!(
        !out.stderr
            .lines()
            .any(|l| l.contains(": waited ") && !l.contains(&big)),
        "{}",
        out.stderr
    );
}

#[test]
fn the_wait_is_bounded_by_throttle_wait() {
    let ws = Workspace::new();
    let (fleet, big) = skewed_fleet(&ws);
    // One call per region per window: the big region's six pages would need six windows.
    let window = WINDOW_MS.to_string();
    let sim = Sim::start(&fleet, &["--quota", "1", "--quota-window-ms", &window]);
    let ini = ini(&ws, "b.ini", "3");
    let started = Instant::now();
    let out = ws.run_sim(&sim, &ini, &["--refresh-cache"]);
    let elapsed = started.elapsed();
    out.assert_failure(1, &format!("region {big}: Throttling.User"));
    assert!(
        out.stderr
            .contains("DescribeInstances still throttled after waiting")
            && out.stderr.contains("raise throttle_wait"),
        "{}",
        out.stderr
    );
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    let throttled = sim.stats()["throttled_by_region"][&big]
        .as_u64()
        .unwrap_or(0);
    assert!(
        throttled <= 12,
        "a few calls per closed window, not a storm: {throttled}"
    );
}
