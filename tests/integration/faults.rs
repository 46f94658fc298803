//! The fault matrix: every fault gives its exit status, one stderr line, an empty stdout on
//! failure, and leaves the previous cache as it was.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::harness::{self, output, Sim, Workspace};
use serde_json::Value;

const FIXTURE_HOSTS: usize = 8;

fn host_count(v: &Value) -> usize {
    v["_meta"]["hostvars"].as_object().map_or(0, |m| m.len())
}

/// The reviewed `--list` of the fixture fleet with the default settings.
fn golden_default() -> Value {
    let text = std::fs::read_to_string(harness::fixture("golden/default.json")).expect("golden");
    serde_json::from_str(&text).expect("golden JSON")
}

/// A workspace with a good cache from a healthy simulator; returns it with the simulator (to
/// restart on the same endpoint, which is part of the cache key), the ini, the cache file and
/// its bytes.
fn with_good_cache(ecs: &str) -> (Workspace, Sim, PathBuf, PathBuf, Vec<u8>) {
    let ws = Workspace::new();
    let ini = ws.ini(ecs);
    let sim = Sim::fixture_fleet(&[]);
    ws.run_sim(&sim, &ini, &[]).assert_success();
    let files = ws.cache_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let bytes = std::fs::read(&files[0]).unwrap();
    let file = files[0].clone();
    (ws, sim, ini, file, bytes)
}

/// Runs a failing refresh against a faulty simulator and checks the old cache survived; returns
/// the output and the faulty simulator (for its request log).
fn assert_fault(sim_args: &[&str], ecs: &str, code: i32, needle: &str) -> (harness::Output, Sim) {
    let (ws, sim, ini, file, before) = with_good_cache(ecs);
    let sim = sim.restart(&harness::fixture("fleet.json"), sim_args);
    let out = ws.run_sim(&sim, &ini, &["--refresh-cache"]);
    out.assert_failure(code, needle);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the previous cache is intact"
    );
    assert_eq!(ws.cache_files(), vec![file], "no temp file left behind");
    (out, sim)
}

#[test]
fn throttling_storm_that_clears() {
    // Three regions in flight at once clear twelve refusals in a few rounds.
    let sim = Sim::fixture_fleet(&["--throttle-first", "12"]);
    let ws = Workspace::new();
    let ini = ws.ini(
        "regions = cn-hangzhou, cn-shanghai, ap-southeast-1\nmax_retries = 8\nthrottle_window = 0.5",
    );
    let out = ws.run_sim(&sim, &ini, &[]);
    out.assert_success();
    assert_eq!(host_count(&out.json()), FIXTURE_HOSTS);
}

#[test]
fn throttling_storm_that_does_not_clear() {
    assert_fault(
        &["--fault", "*:throttle"],
        "throttle_window = 0.5\nthrottle_wait = 1",
        1,
        "Throttling.User",
    );
}

#[test]
fn service_unavailable_everywhere() {
    let (_, sim) = assert_fault(
        &["--fault", "cn-hangzhou:unavailable"],
        "max_retries = 1",
        1,
        "region cn-hangzhou: ServiceUnavailable",
    );
    // One try and max_retries = 1 retry, each answered 503; then the run gives up.
    let tries: Vec<Value> = sim
        .requests()
        .into_iter()
        .filter(|r| r["action"] == "DescribeInstances" && r["region"] == "cn-hangzhou")
        .collect();
    assert_eq!(tries.len(), 2, "{tries:?}");
    assert!(tries.iter().all(|r| r["status"] == 503), "{tries:?}");
}

#[test]
fn flaky_region_recovers_by_retrying() {
    let sim = Sim::fixture_fleet(&["--fault", "cn-shanghai:flaky"]);
    let ws = Workspace::new();
    let out = ws.run_sim(&sim, &ws.ini("max_retries = 2"), &[]);
    out.assert_success();
    assert_eq!(host_count(&out.json()), FIXTURE_HOSTS);
}

#[test]
fn region_that_hangs_past_timeout() {
    let (ws, sim, ini, file, before) = with_good_cache("timeout = 1\nmax_retries = 1");
    let sim = sim.restart(
        &harness::fixture("fleet.json"),
        &["--fault", "ap-southeast-1:hang"],
    );
    let started = Instant::now();
    let out = ws.run_sim(&sim, &ini, &["--refresh-cache"]);
    let elapsed = started.elapsed();
    out.assert_failure(1, "region ap-southeast-1: timed out");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the previous cache is intact"
    );
    // Two one-second tries and one short backoff; a generous bound for a loaded machine, far
    // below what a hang without our own timeout would cost (forever).
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
}

#[test]
fn truncated_body() {
    assert_fault(
        &["--fault", "cn-hangzhou:truncated"],
        "",
        1,
        "MalformedResponse",
    );
}

#[test]
fn valid_json_of_the_wrong_shape() {
    assert_fault(
        &["--fault", "cn-hangzhou:wrong-shape"],
        "",
        1,
        "MalformedResponse",
    );
}

#[test]
fn ok_status_with_an_error_body() {
    assert_fault(
        &["--fault", "cn-shanghai:error-200"],
        "max_retries = 1",
        1,
        "region cn-shanghai: InternalError",
    );
}

#[test]
fn total_count_changing_between_pages_loses_nothing() {
    let ws = Workspace::new();
    let fleet_json = harness::generate(&[
        "--regions",
        "1",
        "--instances",
        "350",
        "--seed",
        "11",
        "--stopped-fraction",
        "0",
    ]);
    let fleet = ws.path("fleet.json");
    std::fs::write(&fleet, &fleet_json).unwrap();
    let v: Value = serde_json::from_slice(&fleet_json).unwrap();
    let region = v["regions"][0]["RegionId"].as_str().unwrap().to_string();
    let sim = Sim::start(&fleet, &["--fault", &format!("{region}:shifting")]);
    let out = ws.run_sim(
        &sim,
        &ws.ini("destination_variable = public_ip_address, private_ip_address"),
        &["-v"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("TotalCount changed while paging"),
        "{}",
        out.stderr
    );
    let hosts = out.json()["_meta"]["hostvars"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect::<Vec<_>>();
    let listed = |i: &&Value| {
        let any = |p: &str| {
            i.pointer(p)
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        };
        any("/PublicIpAddress/IpAddress")
            || any("/VpcAttributes/PrivateIpAddress/IpAddress")
            || any("/InnerIpAddress/IpAddress")
            || i.pointer("/EipAddress/IpAddress")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
    };
    let instances = v["instances"].as_array().unwrap();
    let running = |i: &&Value| i["Status"] == "Running";
    let want = instances.iter().filter(running).filter(listed).count();
    // The simulator copies the region's first instance, with a new id, to the front mid-listing.
    let first = &instances[0];
    let created = usize::from(running(&first) && listed(&first));
    assert!(want > 300);
    // Every original instance, plus the one created mid-listing; none twice.
    assert_eq!(hosts.len(), want + created, "{}", out.stderr);
}

#[test]
fn connection_refused() {
    let (ws, _sim, ini, file, before) = with_good_cache("max_retries = 1");
    // A port that was just free: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = ws.run(
        &["--config", ini.to_str().unwrap(), "--refresh-cache"],
        &[
            ("ALICLOUD_ECS_ENDPOINT", &url),
            ("ALICLOUD_ACCESS_KEY", harness::KEY),
            ("ALICLOUD_SECRET_KEY", harness::SECRET),
        ],
    );
    out.assert_failure(1, "DescribeRegions: could not connect");
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

#[test]
fn clock_skew_is_reported_with_an_ntp_hint() {
    let (out, _) = assert_fault(
        &["--clock-skew-secs", "3600"],
        "",
        1,
        "InvalidTimeStamp.Expired",
    );
    assert!(out.stderr.contains("NTP"), "{}", out.stderr);
}

// ---- files ----

#[test]
fn unwritable_cache_dir_still_prints_with_one_warning() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    // A regular file where the directory should be: fails even for root.
    let blocker = ws.path("blocker");
    std::fs::write(&blocker, "x").unwrap();
    let ini = ws.path("a.ini");
    std::fs::write(
        &ini,
        format!("[ecs]\ncache_path = {}/cache\n", blocker.display()),
    )
    .unwrap();
    let out = ws.run_sim(&sim, &ini, &[]);
    assert_eq!(out.code, 0);
    assert_eq!(host_count(&out.json()), FIXTURE_HOSTS);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("warning: cannot write the cache"),
        "{}",
        out.stderr
    );
}

#[test]
fn disk_full_while_writing_keeps_the_old_cache() {
    let (ws, sim, ini, file, before) = with_good_cache("");
    let mut cmd = ws.sim_command(&sim, &ini, &["--refresh-cache"], &[]);
    // RLIMIT_FSIZE makes writes past 4 KiB fail (EFBIG) like a full disk; SIGXFSZ is ignored so
    // the process sees the error instead of dying.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 4096,
                rlim_max: 4096,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let out = output(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        host_count(&out.json()),
        FIXTURE_HOSTS,
        "the inventory is still printed"
    );
    assert!(
        out.stderr.contains("warning: cannot write the cache"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(&file).unwrap(), before, "old cache intact");
    assert_eq!(ws.cache_files(), vec![file], "no temp file left behind");
}

fn corrupt_then_run(damage: impl Fn(&PathBuf), warned: bool) {
    let (ws, sim, ini, file, _) = with_good_cache("");
    damage(&file);
    let sim = sim.restart(&harness::fixture("fleet.json"), &[]);
    let golden = golden_default();
    let host = "i_bp1aaaaaaaaaaaaaaa01";
    for args in [&["--list"][..], &["--host", host][..]] {
        let before = sim.api_requests();
        let out = ws.run_sim(&sim, &ini, args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let want = if args[0] == "--host" {
            &golden["_meta"]["hostvars"][host]
        } else {
            &golden
        };
        assert!(want.is_object());
        assert_eq!(&out.json(), want, "{args:?}: the rebuilt answer");
        if warned {
            assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
            assert!(
                out.stderr.contains("rebuilding it from the API"),
                "{}",
                out.stderr
            );
        } else {
            assert!(out.stderr.is_empty(), "{}", out.stderr);
        }
        assert!(
            sim.api_requests() > before,
            "{args:?}: rebuilt from the API"
        );
        assert_eq!(ws.cache_files().len(), 1, "rewritten in place");
        damage(&file);
    }
}

#[test]
fn truncated_cache_is_rebuilt_with_a_warning() {
    corrupt_then_run(
        |f| {
            let len = std::fs::metadata(f).unwrap().len();
            let file = std::fs::OpenOptions::new().write(true).open(f).unwrap();
            file.set_len(len / 2).unwrap();
        },
        true,
    );
}

#[test]
fn flipped_byte_in_cache_is_rebuilt_with_a_warning() {
    let (ws, sim, ini, file, mut bytes) = with_good_cache("");
    let mid = bytes.len() / 3;
    bytes[mid] ^= 0x20;
    std::fs::write(&file, &bytes).unwrap();
    let out = ws.run_sim(&sim, &ini, &["--list"]);
    assert_eq!(out.code, 0);
    assert_eq!(host_count(&out.json()), FIXTURE_HOSTS);
    assert!(
        out.stderr
            .contains("failed its checksum; rebuilding it from the API"),
        "{}",
        out.stderr
    );
}

#[test]
fn garbage_cache_is_rebuilt_with_a_warning() {
    corrupt_then_run(|f| std::fs::write(f, b"\x00\xffnot a cache").unwrap(), true);
}

#[test]
fn cache_of_another_version_is_ignored() {
    corrupt_then_run(
        |f| {
            let mut b = std::fs::read(f).unwrap();
            let text = String::from_utf8_lossy(&b[..60]).to_string();
            let v = env!("CARGO_PKG_VERSION");
            let at = text.find(v).expect("version in the header");
            b[at] = b'9';
            std::fs::write(f, b).unwrap();
        },
        false,
    );
}

#[test]
fn planted_symlink_is_not_followed() {
    let (ws, sim, ini, file, _) = with_good_cache("");
    let victim = ws.path("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&victim, &file).unwrap();
    let out = ws.run_sim(&sim, &ini, &["--list"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(host_count(&out.json()), FIXTURE_HOSTS);
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "precious",
        "the link's target is untouched"
    );
    let meta = std::fs::symlink_metadata(&file).unwrap();
    assert!(
        meta.file_type().is_file(),
        "the link was replaced by a real cache file"
    );
}

#[test]
fn cache_modes_hold_under_a_permissive_umask() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("");
    let mut cmd = ws.sim_command(&sim, &ini, &[], &[]);
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    let out = output(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    ws.assert_private_cache();
}

// ---- concurrency ----

/// 50 processes run --list, --host and --refresh-cache on one cache at once; every output must
/// parse and be complete, and no temp file may be left. SOAK_SECS sets the duration (30).
#[test]
fn fifty_processes_on_one_cache() {
    let secs: u64 = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("cache_max_age = 2");
    ws.run_sim(&sim, &ini, &[]).assert_success();
    let golden = golden_default();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let runs: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50)
            .map(|i| {
                let (ws, sim, ini, golden) = (&ws, &sim, &ini, &golden);
                s.spawn(move || {
                    let mut n = 0;
                    while Instant::now() < deadline {
                        let args: &[&str] = match i % 5 {
                            0 => &["--refresh-cache"],
                            1 | 2 => &["--list"],
                            3 => &["--host", "i_uf6bbbbbbbbbbbbbbb10"],
                            _ => &["--refresh-cache", "--host", "i_bp1aaaaaaaaaaaaaaa04"],
                        };
                        let out = ws.run_sim(sim, ini, args);
                        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
                        assert!(out.stderr.is_empty(), "{args:?}: {}", out.stderr);
                        let v = out.json();
                        // Whole answers, exactly: a half-read cache or another host's
                        // hostvars would differ.
                        match args.last() {
                            Some(&host) if args.contains(&"--host") => {
                                let want = &golden["_meta"]["hostvars"][host];
                                assert!(want.is_object(), "{host} is in the golden file");
                                assert_eq!(&v, want, "{args:?}");
                            }
                            _ => assert_eq!(&v, golden, "{args:?}"),
                        }
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a worker failed"))
            .sum()
    });
    assert!(runs >= 50, "only {runs} runs");
    let files = ws.cache_files();
    assert_eq!(files.len(), 1, "no temp files left: {files:?}");
}

// ---- secrets ----

/// Every fault above, with temporary credentials (secret and security token) and -vvv: neither
/// the secret nor the token appears on stdout, stderr or in any file of the cache directory.
#[test]
fn no_secret_in_any_output_error_or_cache_file() {
    let fleet = harness::fixture("fleet.json");
    let ws = Workspace::new();
    let mut sim = Sim::fixture_fleet(&[]);
    let cred = sim.mint_sts(3600);
    let key = cred["AccessKeyId"].as_str().unwrap().to_string();
    let secret = cred["AccessKeySecret"].as_str().unwrap().to_string();
    let token = cred["SecurityToken"].as_str().unwrap().to_string();
    let wrong = "wrong-secret-value-42";
    let env = |s: &str| {
        vec![
            ("ALICLOUD_ACCESS_KEY", key.clone()),
            ("ALICLOUD_SECRET_KEY", s.to_string()),
            ("ALICLOUD_SECURITY_TOKEN", token.clone()),
        ]
    };
    let faults: &[&[&str]] = &[
        &[],
        &["--fault", "*:throttle"],
        &["--fault", "cn-hangzhou:unavailable"],
        &["--fault", "cn-hangzhou:forbidden"],
        &["--fault", "cn-hangzhou:truncated"],
        &["--fault", "cn-hangzhou:wrong-shape"],
        &["--fault", "cn-hangzhou:error-200"],
        &["--fault", "cn-hangzhou:hang"],
        &["--fault", "cn-hangzhou:shifting"],
        &["--clock-skew-secs", "3600"],
        &["--throttle-first", "2"],
    ];
    let ini = ws.ini("timeout = 1\nmax_retries = 1\nthrottle_window = 0.5\nthrottle_wait = 1");
    let mut outputs = Vec::new();
    for (i, fault) in faults.iter().enumerate() {
        // The minted credentials belong to the simulator process: keep it, restart only when
        // the switches change, and mint again.
        if i > 0 {
            sim = sim.restart(&fleet, fault);
        }
        let fresh = sim.mint_sts(3600);
        let (k, s, t) = (
            fresh["AccessKeyId"].as_str().unwrap().to_string(),
            fresh["AccessKeySecret"].as_str().unwrap().to_string(),
            fresh["SecurityToken"].as_str().unwrap().to_string(),
        );
        for (secret_used, args) in [
            (s.as_str(), &["-vvv", "--refresh-cache"][..]),
            (wrong, &["-vvv", "--refresh-cache"][..]),
        ] {
            let mut e = env(secret_used);
            e[0].1 = k.clone();
            e[2].1 = t.clone();
            let pairs: Vec<(&str, &str)> = e.iter().map(|(a, b)| (*a, b.as_str())).collect();
            let mut all = vec!["--config", ini.to_str().unwrap()];
            all.extend_from_slice(args);
            let mut with_endpoint = pairs.clone();
            with_endpoint.push(("ALICLOUD_ECS_ENDPOINT", sim.url.as_str()));
            let out = ws.run(&all, &with_endpoint);
            outputs.push((
                format!("{fault:?} {secret_used}"),
                out,
                [s.clone(), t.clone()],
            ));
        }
    }
    // A bad ini that holds the secret, and one whose secret line lost its '='.
    for text in [
        format!("[ecs]\nnested_groups = maybe\n[credentials]\nalicloud_access_key = {key}\nalicloud_secret_key = {secret}\n"),
        format!("[credentials]\nalicloud_secret_key {secret}\n"),
        format!("[credentials]\nalicloud_secret_key {secret}:x\n"),
    ] {
        let bad = ws.path("bad.ini");
        std::fs::write(&bad, text).unwrap();
        let out = ws.run(&["-vvv", "--config", bad.to_str().unwrap()], &[]);
        assert_ne!(out.code, 0);
        outputs.push(("bad ini".into(), out, [secret.clone(), token.clone()]));
    }
    assert!(
        outputs.iter().any(|(_, o, _)| o.code == 0),
        "some runs succeed"
    );
    assert!(
        outputs.iter().any(|(_, o, _)| o.code == 1),
        "some runs fail at run time"
    );
    assert!(
        outputs.iter().any(|(_, o, _)| o.code == 2),
        "some runs fail on configuration"
    );
    for (what, out, secrets) in &outputs {
        for s in secrets.iter().chain([&secret, &token, &wrong.to_string()]) {
            assert!(
                !harness::leaks(&out.stdout, s),
                "{what}: stdout holds a secret"
            );
            assert!(
                !harness::leaks(&out.stderr, s),
                "{what}: stderr holds a secret: {}",
                out.stderr
            );
        }
    }
    for f in std::fs::read_dir(ws.cache_dir()).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for (_, _, secrets) in &outputs {
            for s in secrets {
                assert!(!harness::leaks(&text, s), "a cache file holds a secret");
            }
        }
    }
}

/// The API answers with no instances where the cache had 8 hosts: the empty inventory is what
/// the service says, so it is printed and cached, with one warning (before: no word at all).
#[test]
fn a_refresh_that_finds_no_hosts_against_a_good_cache_warns() {
    let (ws, sim, ini, file, _) = with_good_cache("");
    let mut fleet: Value =
        serde_json::from_slice(&std::fs::read(harness::fixture("fleet.json")).unwrap()).unwrap();
    fleet["instances"] = Value::Array(Vec::new());
    let empty = ws.path("empty-fleet.json");
    std::fs::write(&empty, serde_json::to_vec(&fleet).unwrap()).unwrap();
    let sim = sim.restart(&empty, &[]);
    let out = ws.run_sim(&sim, &ini, &["--refresh-cache"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(host_count(&out.json()), 0);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.starts_with(
            "alicloud_inventory: warning: the API listed no hosts, where the cache had 8:"
        ),
        "{}",
        out.stderr
    );
    // Written: the next run reads the empty inventory from the cache, with no word.
    assert_eq!(ws.cache_files(), vec![file]);
    let out = ws.run_sim(&sim, &ini, &["--list"]);
    out.assert_success();
    assert_eq!(host_count(&out.json()), 0);
    // An empty answer again, against an empty cache: nothing to warn about.
    let out = ws.run_sim(&sim, &ini, &["--refresh-cache"]);
    out.assert_success();
}
