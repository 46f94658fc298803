//! Integration tests of every source and mode of the credential chain (docs/DESIGN.md,
//! "Credentials"), its precedence and its failures, with the real binary against the simulator
//! on a free loopback port (ECS, STS and the metadata service all on that one port).

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::harness::{fixture, Output, Sim, Workspace, KEY, SECRET};
use serde_json::{json, Value};

const ROLE_ARN: &str = "acs:ram::1234567890123456:role/inventory-reader";
const DENIED_ARN: &str = "acs:ram::1234567890123456:role/not-trusted";
const ECS_ROLE: &str = "inventory-node";
/// Further permanent keys the simulator accepts, to tell the sources apart.
const INI_KEY: (&str, &str) = ("LTAIini", "ini-secret-3f9a7c2e11");
const PROFILE_KEY: (&str, &str) = ("LTAIprofile", "profile-secret-8d41b07a");

fn sim() -> Sim {
    Sim::fixture_fleet(&[
        "--role-arn",
        ROLE_ARN,
        "--ecs-role",
        ECS_ROLE,
        "--access-key",
        &format!("{}:{}", INI_KEY.0, INI_KEY.1),
        "--access-key",
        &format!("{}:{}", PROFILE_KEY.0, PROFILE_KEY.1),
    ])
}

/// Runs the inventory with the simulator's endpoints and only the given environment (no keys).
fn run(ws: &Workspace, sim: &Sim, ini: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut all: Vec<&str> = vec!["--config", ini.to_str().expect("UTF-8 path")];
    all.extend_from_slice(args);
    let mut vars = vec![
        ("ALICLOUD_ECS_ENDPOINT", sim.url.as_str()),
        ("ALICLOUD_STS_ENDPOINT", sim.url.as_str()),
        ("ALICLOUD_METADATA_ENDPOINT", sim.url.as_str()),
    ];
    for (k, v) in env {
        vars.retain(|(ek, _)| ek != k);
        vars.push((k, v));
    }
    ws.run(&all, &vars)
}

/// The hosts of the fixture fleet with the default settings (the reviewed snapshot).
fn expected_hosts() -> BTreeSet<String> {
    let text = std::fs::read_to_string(fixture("golden/default.json")).expect("golden");
    hosts_of(&serde_json::from_str(&text).expect("golden JSON"))
}

fn hosts_of(v: &Value) -> BTreeSet<String> {
    v["alicloud"]["hosts"]
        .as_array()
        .expect("alicloud.hosts")
        .iter()
        .map(|h| h.as_str().expect("host name").to_string())
        .collect()
}

/// Exit 0, nothing on stderr, the whole fleet.
fn assert_lists_fleet(out: &Output) {
    out.assert_success();
    assert_eq!(hosts_of(&out.json()), expected_hosts());
}

/// The AccessKeyId of every ECS request, in order.
fn ecs_key_ids(sim: &Sim) -> Vec<String> {
    sim.requests()
        .iter()
        .filter(|r| {
            r["action"]
                .as_str()
                .is_some_and(|a| a.starts_with("Describe"))
        })
        .map(|r| {
            r["params"]["AccessKeyId"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

fn assume_role_requests(sim: &Sim) -> Vec<Value> {
    sim.requests()
        .into_iter()
        .filter(|r| r["action"] == "AssumeRole")
        .collect()
}

/// Every ECS request was signed with `key`.
fn assert_signed_with(sim: &Sim, key: &str) {
    let ids = ecs_key_ids(sim);
    assert!(!ids.is_empty(), "no ECS request was made");
    assert!(ids.iter().all(|i| i == key), "{ids:?}, want {key}");
}

/// Every ECS request was signed with temporary (STS) keys.
fn assert_signed_with_sts(sim: &Sim) {
    let ids = ecs_key_ids(sim);
    assert!(!ids.is_empty(), "no ECS request was made");
    assert!(ids.iter().all(|i| i.starts_with("STS.")), "{ids:?}");
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// An ini holding `[credentials]` lines, private to its owner.
fn ini_with_credentials(ws: &Workspace, credentials: &str) -> PathBuf {
    let path = ws.ini(&format!("[credentials]\n{credentials}"));
    chmod(&path, 0o600);
    path
}

/// Writes the aliyun CLI file at its default place, `~/.aliyun/config.json`, mode 0600.
fn write_profiles(ws: &Workspace, doc: &Value) -> PathBuf {
    let dir = ws.path(".aliyun");
    std::fs::create_dir_all(&dir).expect("mkdir ~/.aliyun");
    let path = dir.join("config.json");
    std::fs::write(&path, serde_json::to_string_pretty(doc).unwrap()).expect("write profiles");
    chmod(&path, 0o600);
    path
}

/// A profile as the aliyun CLI writes it: every field, empty when unused.
fn profile(name: &str, mode: &str, fields: &[(&str, Value)]) -> Value {
    let mut p = json!({
        "name": name, "mode": mode, "access_key_id": "", "access_key_secret": "",
        "sts_token": "", "ram_role_name": "", "ram_role_arn": "", "ram_session_name": "",
        "private_key": "", "key_pair_name": "", "expired_seconds": 0, "verified": "",
        "region_id": "cn-hangzhou", "output_format": "json", "language": "en",
        "site": "", "retry_timeout": 0, "connect_timeout": 0, "retry_count": 0
    });
    for (k, v) in fields {
        p[*k] = v.clone();
    }
    p
}

fn ak_profile(name: &str) -> Value {
    profile(
        name,
        "AK",
        &[
            ("access_key_id", json!(PROFILE_KEY.0)),
            ("access_key_secret", json!(PROFILE_KEY.1)),
        ],
    )
}

fn minted(sim: &Sim, ttl: i64) -> (String, String, String) {
    let m = sim.mint_sts(ttl);
    let s = |k: &str| m[k].as_str().expect(k).to_string();
    (s("AccessKeyId"), s("AccessKeySecret"), s("SecurityToken"))
}

// ---- one test per source and mode ----

#[test]
fn environment_keys() {
    let sim = sim();
    let ws = Workspace::new();
    let out = run(
        &ws,
        &sim,
        &ws.ini(""),
        &[],
        &[
            ("ALICLOUD_ACCESS_KEY", KEY),
            ("ALICLOUD_SECRET_KEY", SECRET),
        ],
    );
    assert_lists_fleet(&out);
    assert_signed_with(&sim, KEY);
}

#[test]
fn environment_aliases_and_sdk_names() {
    let sim = sim();
    let (id, secret, token) = minted(&sim, 3600);
    let cases: [[(&str, &str); 3]; 3] = [
        [
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", &id),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &secret),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", &token),
        ],
        [
            ("ALICLOUD_ACCESS_KEY_ID", &id),
            ("ALICLOUD_SECRET_ACCESS_KEY", &secret),
            ("ALICLOUD_SECURITY_TOKEN", &token),
        ],
        [
            ("ALICLOUD_ACCESS_KEY", &id),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &secret),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", &token),
        ],
    ];
    for env in cases {
        let ws = Workspace::new();
        let out = run(&ws, &sim, &ws.ini(""), &[], &env);
        assert_lists_fleet(&out);
    }
    assert_signed_with(&sim, &id);
}

#[test]
fn ini_keys() {
    let sim = sim();
    let ws = Workspace::new();
    let ini = ini_with_credentials(
        &ws,
        &format!(
            "alicloud_access_key = {}\nalicloud_secret_key = {}\n",
            INI_KEY.0, INI_KEY.1
        ),
    );
    assert_lists_fleet(&run(&ws, &sim, &ini, &[], &[]));
    assert_signed_with(&sim, INI_KEY.0);
}

#[test]
fn profile_ak_named_in_the_environment() {
    let sim = sim();
    let ws = Workspace::new();
    write_profiles(
        &ws,
        &json!({"current": "other", "profiles": [
            profile("other", "AK", &[("access_key_id", json!("LTAIwrong")), ("access_key_secret", json!("wrong-secret"))]),
            ak_profile("dev"),
        ]}),
    );
    let out = run(&ws, &sim, &ws.ini(""), &[], &[("ALICLOUD_PROFILE", "dev")]);
    assert_lists_fleet(&out);
    assert_signed_with(&sim, PROFILE_KEY.0);
}

#[test]
fn profile_ak_named_in_the_ini_from_an_explicit_file() {
    let sim = sim();
    let ws = Workspace::new();
    let file = ws.path("team-profiles.json");
    std::fs::write(
        &file,
        json!({"current": "", "profiles": [ak_profile("ops")]}).to_string(),
    )
    .unwrap();
    chmod(&file, 0o600);
    let ini = ws.ini(&format!(
        "[credentials]\nalicloud_profile = ops\nalicloud_shared_credentials_file = {}\n",
        file.display()
    ));
    assert_lists_fleet(&run(&ws, &sim, &ini, &[], &[]));
    assert_signed_with(&sim, PROFILE_KEY.0);
}

#[test]
fn profile_sts_token() {
    let sim = sim();
    let ws = Workspace::new();
    let (id, secret, token) = minted(&sim, 3600);
    write_profiles(
        &ws,
        &json!({"current": "sts", "profiles": [profile("sts", "StsToken", &[
            ("access_key_id", json!(id)), ("access_key_secret", json!(secret)), ("sts_token", json!(token)),
        ])]}),
    );
    let out = run(&ws, &sim, &ws.ini(""), &[], &[("ALICLOUD_PROFILE", "sts")]);
    assert_lists_fleet(&out);
    assert_signed_with(&sim, &id);
}

#[test]
fn profile_ecs_ram_role() {
    let sim = sim();
    let ws = Workspace::new();
    write_profiles(
        &ws,
        &json!({"current": "node", "profiles": [profile("node", "EcsRamRole", &[("ram_role_name", json!(ECS_ROLE))])]}),
    );
    let out = run(&ws, &sim, &ws.ini(""), &[], &[("ALICLOUD_PROFILE", "node")]);
    assert_lists_fleet(&out);
    assert_signed_with_sts(&sim);
    assert!(sim.stats()["metadata_requests"].as_u64().unwrap() >= 1);
}

#[test]
fn profile_ram_role_arn() {
    let sim = sim();
    let ws = Workspace::new();
    write_profiles(
        &ws,
        &json!({"current": "cross", "profiles": [profile("cross", "RamRoleArn", &[
            ("access_key_id", json!(PROFILE_KEY.0)), ("access_key_secret", json!(PROFILE_KEY.1)),
            ("ram_role_arn", json!(ROLE_ARN)), ("ram_session_name", json!("laptop-session")),
            ("expired_seconds", json!(900)),
        ])]}),
    );
    let out = run(
        &ws,
        &sim,
        &ws.ini(""),
        &[],
        &[("ALICLOUD_PROFILE", "cross")],
    );
    assert_lists_fleet(&out);
    let assumed = assume_role_requests(&sim);
    assert_eq!(assumed.len(), 1, "{assumed:?}");
    let p = &assumed[0]["params"];
    assert_eq!(
        (
            &p["AccessKeyId"],
            &p["RoleArn"],
            &p["RoleSessionName"],
            &p["DurationSeconds"],
            &p["Version"]
        ),
        (
            &json!(PROFILE_KEY.0),
            &json!(ROLE_ARN),
            &json!("laptop-session"),
            &json!("900"),
            &json!("2015-04-01")
        )
    );
    assert_signed_with_sts(&sim);
}

#[test]
fn current_profile_of_the_default_file_when_nothing_else_is_configured() {
    let sim = sim();
    let ws = Workspace::new();
    write_profiles(
        &ws,
        &json!({"current": "dev", "profiles": [ak_profile("dev")]}),
    );
    let out = run(&ws, &sim, &ws.ini(""), &["-v"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("credentials: profile 'dev' (AK)"),
        "{}",
        out.stderr
    );
    assert_signed_with(&sim, PROFILE_KEY.0);
}

#[test]
fn ecs_ram_role_from_the_metadata_service() {
    let sim = sim();
    let ws = Workspace::new();
    let out = run(
        &ws,
        &sim,
        &ws.ini(""),
        &[],
        &[("ALICLOUD_ECS_ROLE_NAME", ECS_ROLE)],
    );
    assert_lists_fleet(&out);
    assert_signed_with_sts(&sim);
    // The same from the ini.
    let ws = Workspace::new();
    let ini = ws.ini(&format!(
        "[credentials]\nalicloud_ecs_role_name = {ECS_ROLE}\n"
    ));
    assert_lists_fleet(&run(&ws, &sim, &ini, &[], &[]));
}

#[test]
fn a_warm_cache_needs_no_metadata_call() {
    let sim = sim();
    let ws = Workspace::new();
    let ini = ws.ini("");
    let env = [("ALICLOUD_ECS_ROLE_NAME", ECS_ROLE)];
    assert_lists_fleet(&run(&ws, &sim, &ini, &[], &env));
    let (metadata, api) = (sim.stats()["metadata_requests"].clone(), sim.api_requests());
    assert_lists_fleet(&run(&ws, &sim, &ini, &[], &env));
    assert_eq!(sim.stats()["metadata_requests"], metadata);
    assert_eq!(sim.api_requests(), api);
    // Another role is another cache: the role name is part of the cache key.
    let out = run(
        &ws,
        &sim,
        &ini,
        &[],
        &[("ALICLOUD_ECS_ROLE_NAME", "other-role")],
    );
    out.assert_failure(2, "'other-role'");
}

#[test]
fn assume_role_from_the_environment() {
    let sim = sim();
    let ws = Workspace::new();
    let out = run(
        &ws,
        &sim,
        &ws.ini(""),
        &[],
        &[
            ("ALICLOUD_ACCESS_KEY", KEY),
            ("ALICLOUD_SECRET_KEY", SECRET),
            ("ALICLOUD_ASSUME_ROLE_ARN", ROLE_ARN),
            ("ALICLOUD_ASSUME_ROLE_SESSION_NAME", "ansible-ci"),
            ("ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION", "1800"),
        ],
    );
    assert_lists_fleet(&out);
    let assumed = assume_role_requests(&sim);
    assert_eq!(assumed.len(), 1);
    let p = &assumed[0]["params"];
    assert_eq!(p["AccessKeyId"], KEY);
    assert_eq!(p["RoleArn"], ROLE_ARN);
    assert_eq!(p["RoleSessionName"], "ansible-ci");
    assert_eq!(p["DurationSeconds"], "1800");
    assert!(p.get("Policy").is_none());
    assert_signed_with_sts(&sim);
}

#[test]
fn assume_role_from_the_ini_on_top_of_an_ecs_ram_role() {
    let sim = sim();
    let ws = Workspace::new();
    let policy = r#"{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}]}"#;
    let ini = ws.ini(&format!(
        "[credentials]\nalicloud_ecs_role_name = {ECS_ROLE}\nassume_role = {{role_arn: {ROLE_ARN}, session_expiration: 900, policy: '{policy}'}}\n"
    ));
    assert_lists_fleet(&run(&ws, &sim, &ini, &[], &[]));
    let assumed = assume_role_requests(&sim);
    assert_eq!(assumed.len(), 1);
    let p = &assumed[0]["params"];
    assert!(
        p["AccessKeyId"].as_str().unwrap().starts_with("STS."),
        "signed with the role's keys: {p}"
    );
    assert_eq!(p["RoleArn"], ROLE_ARN);
    assert_eq!(p["RoleSessionName"], "alicloud_inventory");
    assert_eq!(p["DurationSeconds"], "900");
    assert_eq!(p["Policy"], policy);
    assert_signed_with_sts(&sim);
}

// ---- precedence ----

#[test]
fn environment_beats_ini_beats_profile_beats_ecs_role() {
    let sim = sim();
    let ws = Workspace::new();
    write_profiles(
        &ws,
        &json!({"current": "", "profiles": [ak_profile("dev")]}),
    );
    let ini = ini_with_credentials(
        &ws,
        &format!(
            "alicloud_access_key = {}\nalicloud_secret_key = {}\nalicloud_profile = dev\nalicloud_ecs_role_name = {ECS_ROLE}\n",
            INI_KEY.0, INI_KEY.1
        ),
    );
    let env_keys = [
        ("ALICLOUD_ACCESS_KEY", KEY),
        ("ALICLOUD_SECRET_KEY", SECRET),
    ];
    let used = |env: &[(&str, &str)]| {
        let _ = std::fs::remove_dir_all(ws.cache_dir()); // a cold cache for each run
        let before = ecs_key_ids(&sim).len();
        let out = run(&ws, &sim, &ini, &["-v"], env);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let ids = ecs_key_ids(&sim)[before..].to_vec();
        let first = ids.first().cloned().unwrap_or_default();
        assert!(ids.iter().all(|i| *i == first), "{ids:?}");
        (first, out.stderr)
    };
    let (id, stderr) = used(&env_keys);
    assert_eq!(id, KEY);
    assert!(stderr.contains("credentials: environment"), "{stderr}");
    assert!(
        stderr.contains("alicloud_profile in the ini ignored"),
        "{stderr}"
    );
    assert_eq!(used(&[("ALICLOUD_PROFILE", "dev")]).0, INI_KEY.0);

    // Without keys in the ini: the profile, then the ECS role.
    let ini = ini_with_credentials(
        &ws,
        &format!("alicloud_profile = dev\nalicloud_ecs_role_name = {ECS_ROLE}\n"),
    );
    let _ = std::fs::remove_dir_all(ws.cache_dir());
    let out = run(&ws, &sim, &ini, &[], &[]);
    assert_lists_fleet(&out);
    assert_eq!(ecs_key_ids(&sim).last().unwrap(), PROFILE_KEY.0);
    let ini = ws.ini(&format!(
        "[credentials]\nalicloud_ecs_role_name = {ECS_ROLE}\n"
    ));
    // The default file's current profile is implicit: an explicit ECS role beats it.
    write_profiles(
        &ws,
        &json!({"current": "dev", "profiles": [ak_profile("dev")]}),
    );
    let _ = std::fs::remove_dir_all(ws.cache_dir());
    assert_lists_fleet(&run(&ws, &sim, &ini, &[], &[]));
    assert!(ecs_key_ids(&sim).last().unwrap().starts_with("STS."));
}

// ---- failures ----

#[test]
fn expired_sts_token_is_refused_clearly() {
    let sim = sim();
    let ws = Workspace::new();
    let (id, secret, token) = minted(&sim, -60);
    let out = run(
        &ws,
        &sim,
        &ws.ini(""),
        &[],
        &[
            ("ALICLOUD_ACCESS_KEY", &id),
            ("ALICLOUD_SECRET_KEY", &secret),
            ("ALICLOUD_SECURITY_TOKEN", &token),
        ],
    );
    out.assert_failure(2, "InvalidSecurityToken.Expired");
    assert!(out.stderr.contains("expired"), "{}", out.stderr);
    assert!(!out.stderr.contains(&token) && !out.stderr.contains(&secret));
    // The same token as the base of an AssumeRole: named as the cause there too.
    let out = run(
        &ws,
        &sim,
        &ws.ini(""),
        &[],
        &[
            ("ALICLOUD_ACCESS_KEY", &id),
            ("ALICLOUD_SECRET_KEY", &secret),
            ("ALICLOUD_SECURITY_TOKEN", &token),
            ("ALICLOUD_ASSUME_ROLE_ARN", ROLE_ARN),
        ],
    );
    out.assert_failure(2, "InvalidSecurityToken.Expired");
    assert!(out.stderr.contains(ROLE_ARN), "{}", out.stderr);
}

#[test]
fn assume_role_denied_is_reported_clearly() {
    let sim = sim();
    let ws = Workspace::new();
    let out = run(
        &ws,
        &sim,
        &ws.ini(""),
        &[],
        &[
            ("ALICLOUD_ACCESS_KEY", KEY),
            ("ALICLOUD_SECRET_KEY", SECRET),
            ("ALICLOUD_ASSUME_ROLE_ARN", DENIED_ARN),
        ],
    );
    out.assert_failure(2, "NoPermission");
    assert!(out.stderr.contains(DENIED_ARN), "{}", out.stderr);
    assert!(out.stderr.contains("sts:AssumeRole"), "{}", out.stderr);
    assert!(ecs_key_ids(&sim).is_empty(), "no ECS call after a refusal");
}

#[test]
fn bad_assume_role_settings_are_configuration_errors() {
    let sim = sim();
    let ws = Workspace::new();
    let keys = [
        ("ALICLOUD_ACCESS_KEY", KEY),
        ("ALICLOUD_SECRET_KEY", SECRET),
    ];
    for (name, value, needle) in [
        (
            "ALICLOUD_ASSUME_ROLE_ARN",
            "arn:aws:iam::1:role/x",
            "not a RAM role ARN",
        ),
        (
            "ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION",
            "60",
            "900..43200",
        ),
        (
            "ALICLOUD_ASSUME_ROLE_SESSION_NAME",
            "no spaces please",
            "session name",
        ),
    ] {
        let mut env = keys.to_vec();
        env.push(("ALICLOUD_ASSUME_ROLE_ARN", ROLE_ARN));
        env.retain(|(k, _)| *k != name);
        env.push((name, value));
        run(&ws, &sim, &ws.ini(""), &[], &env).assert_failure(2, needle);
    }
    assert_eq!(sim.api_requests(), 0, "refused before any call");
}

/// A port nothing listens on.
fn closed_port() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    url
}

/// A loopback port whose accept queue is full, so a connection attempt gets no answer at all,
/// like the metadata address off ECS. Keep both values alive while it is used.
fn black_hole() -> (TcpListener, std::net::TcpStream, String) {
    use std::os::fd::AsRawFd;
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    // SAFETY: listen(2) on a socket we own; a backlog of 0 leaves room for one connection.
    assert_eq!(unsafe { libc::listen(l.as_raw_fd(), 0) }, 0);
    let addr = l.local_addr().unwrap();
    let filler = std::net::TcpStream::connect(addr).unwrap();
    // The next connection is not answered: check that before relying on it.
    let probe = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300));
    assert!(probe.is_err(), "the accept queue is not full");
    (l, filler, format!("http://{addr}"))
}

#[test]
fn metadata_service_unreachable_fails_fast() {
    let sim = sim();
    let ws = Workspace::new();
    let dead = closed_port();
    let started = Instant::now();
    let out = run(
        &ws,
        &sim,
        &ws.ini(""),
        &[],
        &[
            ("ALICLOUD_ECS_ROLE_NAME", ECS_ROLE),
            ("ALICLOUD_METADATA_ENDPOINT", &dead),
        ],
    );
    // A refused connection is final at once: no wait, no retry.
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    out.assert_failure(1, &dead);
    assert!(out.stderr.contains(ECS_ROLE), "{}", out.stderr);
    assert!(out.stderr.contains("could not connect"), "{}", out.stderr);
}

#[test]
fn metadata_service_that_never_accepts_gives_up_after_the_one_second_connect_timeout() {
    let sim = sim();
    let ws = Workspace::new();
    let (_listener, _filler, url) = black_hole();
    let started = Instant::now();
    let out = run(
        &ws,
        &sim,
        &ws.ini(""),
        &[],
        &[
            ("ALICLOUD_ECS_ROLE_NAME", ECS_ROLE),
            ("ALICLOUD_METADATA_ENDPOINT", &url),
        ],
    );
    let elapsed = started.elapsed();
    out.assert_failure(1, &url);
    // The connect timeout is 1 s, well inside the 2 s budget of the whole exchange.
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_millis(1800),
        "{elapsed:?}"
    );
    assert!(out.stderr.contains(ECS_ROLE), "{}", out.stderr);
}

#[test]
fn metadata_service_that_never_answers_times_out() {
    let sim = sim();
    let ws = Workspace::new();
    // Accepts connections (the kernel's backlog) but never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let started = Instant::now();
    let out = run(
        &ws,
        &sim,
        &ws.ini(""),
        &[],
        &[
            ("ALICLOUD_ECS_ROLE_NAME", ECS_ROLE),
            ("ALICLOUD_METADATA_ENDPOINT", &url),
        ],
    );
    let elapsed = started.elapsed();
    out.assert_failure(1, &url);
    // Connected, then no answer: the 2 s budget of the whole exchange, and not more.
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_millis(2800),
        "{elapsed:?}"
    );
    assert!(out.stderr.contains(ECS_ROLE), "{}", out.stderr);
}

#[test]
fn ecs_role_not_attached_names_the_attached_one() {
    let sim = sim();
    let ws = Workspace::new();
    let out = run(
        &ws,
        &sim,
        &ws.ini(""),
        &[],
        &[("ALICLOUD_ECS_ROLE_NAME", "no-such-role")],
    );
    out.assert_failure(2, "'no-such-role'");
    assert!(
        out.stderr.contains(&format!("roles attached: {ECS_ROLE}")),
        "{}",
        out.stderr
    );
}

#[test]
fn broken_profiles_are_configuration_errors_naming_profile_and_file() {
    let sim = sim();
    let ws = Workspace::new();
    let file = ws.path(".aliyun/config.json");
    let shown = file.display().to_string();
    let env = [("ALICLOUD_PROFILE", "dev")];
    let check = |needle: &str| {
        let out = run(&ws, &sim, &ws.ini(""), &[], &env);
        out.assert_failure(2, needle);
        assert!(out.stderr.contains("'dev'"), "{}", out.stderr);
        assert!(out.stderr.contains(&shown), "{}", out.stderr);
        out
    };

    check("does not exist");

    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "{\"current\": \"dev\", \"profiles\": [ {\"name\": \"dev\", \"access_key_secret\": \"half-written-secret").unwrap();
    let out = check("is not valid JSON");
    assert!(!out.stderr.contains("half-written-secret"));
    std::fs::write(
        &file,
        r#"{"profiles": [{"name": "dev", "access_key_secret": 123456789}]}"#,
    )
    .unwrap();
    let out = check("wrong type");
    assert!(!out.stderr.contains("123456789"), "{}", out.stderr);

    write_profiles(
        &ws,
        &json!({"current": "", "profiles": [ak_profile("prod"), ak_profile("staging")]}),
    );
    let out = check("is not in");
    assert!(out.stderr.contains("prod, staging"), "{}", out.stderr);

    for (mode, fields, needle) in [
        (
            "AK",
            vec![("access_key_id", json!("LTAIx"))],
            "access_key_secret",
        ),
        (
            "StsToken",
            vec![
                ("access_key_id", json!("LTAIx")),
                ("access_key_secret", json!("s3")),
            ],
            "sts_token",
        ),
        ("EcsRamRole", vec![], "ram_role_name"),
        (
            "RamRoleArn",
            vec![
                ("access_key_id", json!("LTAIx")),
                ("access_key_secret", json!("s3")),
            ],
            "ram_role_arn",
        ),
        ("RsaKeyPair", vec![], "not supported"),
    ] {
        write_profiles(
            &ws,
            &json!({"current": "dev", "profiles": [profile("dev", mode, &fields)]}),
        );
        let out = check(needle);
        assert!(out.stderr.contains(mode), "{}", out.stderr);
    }
    // A file named explicitly must exist too, even with no profile named.
    let out = run(
        &ws,
        &sim,
        &ws.ini(""),
        &[],
        &[(
            "ALICLOUD_SHARED_CREDENTIALS_FILE",
            "/nonexistent/config.json",
        )],
    );
    out.assert_failure(2, "/nonexistent/config.json does not exist");
    assert_eq!(sim.api_requests(), 0);
}

#[test]
fn readable_files_holding_secrets_are_warned_about() {
    let sim = sim();
    let ws = Workspace::new();
    let ini = ini_with_credentials(
        &ws,
        &format!(
            "alicloud_access_key = {}\nalicloud_secret_key = {}\n",
            INI_KEY.0, INI_KEY.1
        ),
    );
    assert_lists_fleet(&run(&ws, &sim, &ini, &[], &[]));
    chmod(&ini, 0o644);
    let out = run(&ws, &sim, &ini, &["--refresh-cache"], &[]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("holds a secret and is readable by everyone")
            && out.stderr.contains("chmod 600"),
        "{}",
        out.stderr
    );
    chmod(&ini, 0o640);
    let out = run(&ws, &sim, &ini, &[], &[]);
    assert!(
        out.stderr.contains("readable by its group"),
        "{}",
        out.stderr
    );

    // The same for the profile file.
    let ws = Workspace::new();
    let file = write_profiles(
        &ws,
        &json!({"current": "dev", "profiles": [ak_profile("dev")]}),
    );
    chmod(&file, 0o644);
    let out = run(&ws, &sim, &ws.ini(""), &[], &[]);
    assert_eq!(out.code, 0);
    assert!(
        out.stderr
            .contains("config.json holds a secret and is readable"),
        "{}",
        out.stderr
    );
}

// ---- secrets never leak ----

/// (name, ini `[credentials]` lines, environment, expected exit status)
type SweepCase = (&'static str, String, Vec<(String, String)>, i32);

#[test]
fn no_secret_reaches_stdout_stderr_or_the_cache_in_any_mode() {
    let sim = sim();
    let (sts_id, sts_secret, sts_token) = minted(&sim, 3600);
    let (old_id, old_secret, old_token) = minted(&sim, -60);
    let mut secrets: Vec<String> = vec![
        SECRET.into(),
        INI_KEY.1.into(),
        PROFILE_KEY.1.into(),
        sts_secret.clone(),
        sts_token.clone(),
        old_secret.clone(),
        old_token.clone(),
    ];
    // The encoded forms of the tokens too (they hold + / =).
    for t in [&sts_token, &old_token] {
        let once = alicloud_inventory::api::sign::encode(t);
        secrets.push(alicloud_inventory::api::sign::encode(&once));
        secrets.push(once);
    }
    // Keys minted inside the simulator (metadata, AssumeRole) are unknown here: look for their
    // shapes instead. Tokens start with CAIS; temporary secrets are 44 letters and digits.
    let token_shape = regex::Regex::new(r"CAIS[A-Za-z0-9+/%]{16}").unwrap();
    let secret_shape =
        regex::Regex::new(r"(^|[^A-Za-z0-9])[A-Za-z0-9]{44}([^A-Za-z0-9]|$)").unwrap();

    let arn_env = [("ALICLOUD_ASSUME_ROLE_ARN", ROLE_ARN)];
    let static_env = [
        ("ALICLOUD_ACCESS_KEY", KEY),
        ("ALICLOUD_SECRET_KEY", SECRET),
    ];
    let sts_env = [
        ("ALICLOUD_ACCESS_KEY", sts_id.as_str()),
        ("ALICLOUD_SECRET_KEY", sts_secret.as_str()),
        ("ALICLOUD_SECURITY_TOKEN", sts_token.as_str()),
    ];
    let expired_env = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", old_id.as_str()),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", old_secret.as_str()),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", old_token.as_str()),
    ];
    let wrong_secret_with_token = [
        ("ALICLOUD_ACCESS_KEY", sts_id.as_str()),
        ("ALICLOUD_SECRET_KEY", "not-the-secret-at-all"),
        ("ALICLOUD_SECURITY_TOKEN", sts_token.as_str()),
    ];
    let profiles = json!({"current": "ak", "profiles": [
        ak_profile("ak"),
        profile("sts", "StsToken", &[("access_key_id", json!(sts_id)), ("access_key_secret", json!(sts_secret)), ("sts_token", json!(sts_token))]),
        profile("node", "EcsRamRole", &[("ram_role_name", json!(ECS_ROLE))]),
        profile("cross", "RamRoleArn", &[("access_key_id", json!(PROFILE_KEY.0)), ("access_key_secret", json!(PROFILE_KEY.1)), ("ram_role_arn", json!(ROLE_ARN))]),
        profile("denied", "RamRoleArn", &[("access_key_id", json!(PROFILE_KEY.0)), ("access_key_secret", json!(PROFILE_KEY.1)), ("ram_role_arn", json!(DENIED_ARN))]),
    ]});
    let with = |a: &[(&'static str, &str)], b: &[(&'static str, &str)]| -> Vec<(String, String)> {
        a.iter()
            .chain(b)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let ini_keys = format!(
        "alicloud_access_key = {}\nalicloud_secret_key = {}\n",
        INI_KEY.0, INI_KEY.1
    );
    let cases: Vec<SweepCase> = vec![
        ("env", String::new(), with(&static_env, &[]), 0),
        ("env sts token", String::new(), with(&sts_env, &[]), 0),
        ("ini", ini_keys.clone(), with(&[], &[]), 0),
        (
            "profile AK",
            String::new(),
            with(&[("ALICLOUD_PROFILE", "ak")], &[]),
            0,
        ),
        (
            "profile StsToken",
            String::new(),
            with(&[("ALICLOUD_PROFILE", "sts")], &[]),
            0,
        ),
        (
            "profile EcsRamRole",
            String::new(),
            with(&[("ALICLOUD_PROFILE", "node")], &[]),
            0,
        ),
        (
            "profile RamRoleArn",
            String::new(),
            with(&[("ALICLOUD_PROFILE", "cross")], &[]),
            0,
        ),
        (
            "ecs role",
            String::new(),
            with(&[("ALICLOUD_ECS_ROLE_NAME", ECS_ROLE)], &[]),
            0,
        ),
        (
            "assume role env",
            String::new(),
            with(&static_env, &arn_env),
            0,
        ),
        (
            "assume role on sts",
            String::new(),
            with(&sts_env, &arn_env),
            0,
        ),
        (
            "assume role ini on ecs role",
            format!(
                "alicloud_ecs_role_name = {ECS_ROLE}\nassume_role = {{role_arn: {ROLE_ARN}}}\n"
            ),
            with(&[], &[]),
            0,
        ),
        ("expired token", String::new(), with(&expired_env, &[]), 2),
        (
            "expired token assume",
            String::new(),
            with(&expired_env, &arn_env),
            2,
        ),
        (
            "wrong secret with token",
            String::new(),
            with(&wrong_secret_with_token, &[]),
            2,
        ),
        (
            "wrong secret with token assume",
            String::new(),
            with(&wrong_secret_with_token, &arn_env),
            2,
        ),
        (
            "denied",
            String::new(),
            with(&static_env, &[("ALICLOUD_ASSUME_ROLE_ARN", DENIED_ARN)]),
            2,
        ),
        (
            "denied on sts",
            String::new(),
            with(&sts_env, &[("ALICLOUD_ASSUME_ROLE_ARN", DENIED_ARN)]),
            2,
        ),
        (
            "profile denied",
            String::new(),
            with(&[("ALICLOUD_PROFILE", "denied")], &[]),
            2,
        ),
        (
            "ini keys, bad profile",
            ini_keys,
            with(&[("ALICLOUD_PROFILE", "nope")], &[]),
            0,
        ),
    ];
    for (name, credentials, env, code) in cases {
        let ws = Workspace::new();
        write_profiles(&ws, &profiles);
        let ini = ini_with_credentials(&ws, &credentials);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut texts = Vec::new();
        for args in [
            &["-vvv"][..],
            &["-vvv", "--refresh-cache"],
            &["-vvv", "--host", "i_bp1aaaaaaaaaaaaaaa01"],
        ] {
            let out = run(&ws, &sim, &ini, args, &env);
            assert_eq!(out.code, code, "{name}: {}", out.stderr);
            texts.push((format!("{name} {args:?} stdout"), out.stdout));
            texts.push((format!("{name} {args:?} stderr"), out.stderr));
        }
        for f in ws.cache_files() {
            let bytes = std::fs::read(&f).unwrap();
            texts.push((
                f.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
        if code == 0 {
            assert!(!ws.cache_files().is_empty(), "{name}: a cache was written");
        }
        for (what, text) in &texts {
            for s in &secrets {
                assert!(!text.contains(s.as_str()), "{what} holds a secret:\n{text}");
            }
            assert!(!token_shape.is_match(text), "{what} holds a token:\n{text}");
            assert!(
                !secret_shape.is_match(text),
                "{what} holds a secret-shaped string:\n{text}"
            );
        }
    }
}
