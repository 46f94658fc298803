//! One test per promise of the README that no other module checks: where the configuration is
//! found, the group switches, the address warning, the rarer credential sources, what the cache
//! key is made of, the limit on requests in flight, the paging limits, `| head`, and that no
//! signature or token travels in a URL. Each runs the real binary against the simulator.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::harness::{self, fixture, output, place_binary, Output, Sim, Workspace, KEY, SECRET};
use crate::inventory::expected_default_hosts;

const ROLE_ARN: &str = "acs:ram::1234567890123456:role/inventory-reader";
const OTHER_ROLE_ARN: &str = "acs:ram::6543210987654321:role/cross-account-reader";
const ECS_ROLE: &str = "inventory-node";
const PROFILE_KEY: (&str, &str) = ("LTAIprofile", "profile-secret-8d41b07a");
/// A second permanent key, to tell the sources apart (and for the cache key).
const OTHER_KEY: (&str, &str) = ("LTAIother", "other-secret-5e2b9c71");

fn golden(name: &str) -> Value {
    let path = fixture(&format!("golden/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("golden")).expect("golden JSON")
}

fn hosts_of(v: &Value) -> BTreeSet<String> {
    v["_meta"]["hostvars"]
        .as_object()
        .expect("_meta.hostvars")
        .keys()
        .cloned()
        .collect()
}

fn groups_of(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .expect("an object")
        .keys()
        .filter(|k| *k != "_meta" && *k != "alicloud")
        .cloned()
        .collect()
}

/// A simulator that knows every credential source of these tests.
fn full_sim(extra: &[&str]) -> Sim {
    let profile = format!("{}:{}", PROFILE_KEY.0, PROFILE_KEY.1);
    let other = format!("{}:{}", OTHER_KEY.0, OTHER_KEY.1);
    let mut args = vec![
        "--role-arn",
        ROLE_ARN,
        "--role-arn",
        OTHER_ROLE_ARN,
        "--ecs-role",
        ECS_ROLE,
        "--access-key",
        &profile,
        "--access-key",
        &other,
    ];
    args.extend_from_slice(extra);
    Sim::fixture_fleet(&args)
}

/// Runs the inventory with all three endpoints on `sim` and only the given environment.
fn run_env(ws: &Workspace, sim: &Sim, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut vars = vec![
        ("ALICLOUD_ECS_ENDPOINT", sim.url.as_str()),
        ("ALICLOUD_STS_ENDPOINT", sim.url.as_str()),
        ("ALICLOUD_METADATA_ENDPOINT", sim.url.as_str()),
    ];
    for (k, v) in env {
        vars.retain(|(ek, _)| ek != k);
        vars.push((k, v));
    }
    ws.run(args, &vars)
}

fn with_config<'a>(ini: &'a Path, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--config", ini.to_str().expect("UTF-8 path")];
    all.extend_from_slice(args);
    all
}

const KEYS: [(&str, &str); 2] = [
    ("ALICLOUD_ACCESS_KEY", KEY),
    ("ALICLOUD_SECRET_KEY", SECRET),
];

/// The AccessKeyId of every ECS request, in order.
fn ecs_key_ids(sim: &Sim) -> Vec<String> {
    sim.requests()
        .iter()
        .filter(|r| r["action"] != "AssumeRole")
        .map(|r| {
            r["params"]["AccessKeyId"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Writes `text` to `path` (parents created), mode 0600.
fn write_private(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
    chmod(path, 0o600);
}

/// The fixture fleet with `edit` applied to every instance, written into the workspace.
fn edited_fleet(ws: &Workspace, edit: impl Fn(&mut Value)) -> PathBuf {
    let text = std::fs::read_to_string(fixture("fleet.json")).expect("fleet");
    let mut fleet: Value = serde_json::from_str(&text).expect("fleet JSON");
    for i in fleet["instances"].as_array_mut().expect("instances") {
        edit(i);
    }
    let path = ws.path("edited-fleet.json");
    std::fs::write(&path, fleet.to_string()).expect("write fleet");
    path
}

// ---- where the configuration is found ----

/// An ini that is easy to recognise in the output (nested groups) and keeps the cache in the
/// workspace.
fn recognisable_ini(ws: &Workspace) -> String {
    format!(
        "[ecs]\nnested_groups = True\ncache_path = {}\n",
        ws.cache_dir().display()
    )
}

/// The run used the recognisable ini: nested groups, the cache where it says.
fn assert_used_recognisable_ini(out: &Output, ws: &Workspace) {
    out.assert_success();
    assert_eq!(out.json(), golden("nested_groups"));
    assert_eq!(
        ws.cache_files().len(),
        1,
        "the cache is in the ini's cache_path"
    );
}

/// The command that runs `bin` as `run_env` would run the inventory.
fn command_for(bin: &Path, ws: &Workspace, sim: &Sim, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_clear()
        .env("HOME", ws.dir.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ALICLOUD_ECS_ENDPOINT", &sim.url)
        .envs(KEYS)
        .stdin(Stdio::null());
    cmd
}

#[test]
fn ini_beside_the_executable_is_found_through_a_symlink() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    // The /etc/ansible deployment: the binary and its ini in one directory, a symlink to the
    // binary elsewhere, and an ini beside the link that must not be read.
    let real = ws.path("etc-ansible");
    std::fs::create_dir_all(&real).unwrap();
    let bin = real.join("alicloud_inventory");
    place_binary(&bin);
    std::fs::write(real.join("alicloud.ini"), recognisable_ini(&ws)).unwrap();
    let links = ws.path("bin");
    std::fs::create_dir_all(&links).unwrap();
    let link = links.join("alicloud_inventory");
    std::os::unix::fs::symlink(&bin, &link).unwrap();
    std::fs::write(links.join("alicloud.ini"), "[ecs]\nnested_groups = maybe\n").unwrap();

    let out = output(command_for(&link, &ws, &sim, &["--list"]));
    assert_used_recognisable_ini(&out, &ws);
    let verbose = output(command_for(&link, &ws, &sim, &["--list", "-v"]));
    let want = format!("config: {}", real.join("alicloud.ini").display());
    assert!(verbose.stderr.contains(&want), "{}", verbose.stderr);
}

#[test]
fn ini_in_the_user_config_directory_is_found() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let beside = Path::new(env!("CARGO_BIN_EXE_alicloud_inventory")).with_file_name("alicloud.ini");
    assert!(!beside.exists(), "{} would be read first", beside.display());
    let ini = ws.path(".config/alicloud_inventory/alicloud.ini");
    std::fs::create_dir_all(ini.parent().unwrap()).unwrap();
    std::fs::write(&ini, recognisable_ini(&ws)).unwrap();
    assert_used_recognisable_ini(&run_env(&ws, &sim, &["--list"], &KEYS), &ws);
    let verbose = run_env(&ws, &sim, &["-v"], &KEYS);
    assert!(
        verbose
            .stderr
            .contains(&format!("config: {}", ini.display())),
        "{}",
        verbose.stderr
    );
}

#[test]
fn without_any_ini_the_defaults_apply_and_the_cache_is_in_the_home_cache() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let out = run_env(&ws, &sim, &["--list"], &KEYS);
    out.assert_success();
    assert_eq!(out.json(), golden("default"));
    let cache_dir = ws.path(".cache/alicloud_inventory");
    let files: Vec<_> = std::fs::read_dir(&cache_dir)
        .unwrap_or_else(|e| panic!("{}: {e}", cache_dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap();
    assert!(
        files[0].is_file() && name.starts_with("alicloud_inventory-"),
        "{name}"
    );
    let verbose = run_env(&ws, &sim, &["-v"], &KEYS);
    assert!(
        verbose
            .stderr
            .contains("config: none found, built-in defaults"),
        "{}",
        verbose.stderr
    );
    assert!(verbose.stderr.contains("cache hit"), "{}", verbose.stderr);
}

#[test]
fn config_flag_beats_the_environment_which_beats_the_config_directory() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let bad = "[ecs]\nnested_groups = maybe\n";
    // ALICLOUD_INI_PATH, with `~` and `$VAR` expanded, names a broken file; --config wins.
    std::fs::create_dir_all(ws.path("inis/env")).unwrap();
    std::fs::write(ws.path("inis/env/a.ini"), bad).unwrap();
    let good = ws.path("good.ini");
    std::fs::write(&good, recognisable_ini(&ws)).unwrap();
    let env_path = [
        ("ALICLOUD_INI_PATH", "~/inis/$WHICH/a.ini"),
        ("WHICH", "env"),
        KEYS[0],
        KEYS[1],
    ];
    let out = run_env(&ws, &sim, &with_config(&good, &["--list"]), &env_path);
    assert_used_recognisable_ini(&out, &ws);
    // Without --config the environment's file is read: proof that it was the one beaten.
    run_env(&ws, &sim, &["--list"], &env_path)
        .assert_failure(2, &format!("{}:2", ws.path("inis/env/a.ini").display()));
    // And the environment beats the config directory.
    std::fs::write(ws.path("inis/env/a.ini"), recognisable_ini(&ws)).unwrap();
    let user = ws.path(".config/alicloud_inventory/alicloud.ini");
    std::fs::create_dir_all(user.parent().unwrap()).unwrap();
    std::fs::write(&user, bad).unwrap();
    assert_used_recognisable_ini(&run_env(&ws, &sim, &["--list"], &env_path), &ws);
}

// ---- groups ----

/// The extension groups on and hosts named by `host_name`, so that every kind of group,
/// the instance-id groups too, is there to be switched off.
const ALL_GROUPS: &str = "hostname_variable = host_name\ngroup_by_instance_state = True\n\
     group_by_os_type = True\ngroup_by_key_pair = True\ngroup_by_resource_group = True\n\
     group_by_charge_type = True";

/// An ASCII value as a group name part.
fn plain(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

#[test]
fn every_group_by_switch_removes_its_groups_and_only_those() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let all = ws.run_sim(&sim, &ws.ini(ALL_GROUPS), &[]);
    all.assert_success();
    let all = all.json();
    let groups = groups_of(&all);
    let vars: Vec<&Value> = all["_meta"]["hostvars"]
        .as_object()
        .unwrap()
        .values()
        .collect();
    let values = |k: &str| -> BTreeSet<String> {
        vars.iter().map(|v| plain(v[k].as_str().unwrap())).collect()
    };
    let prefixed = |p: &str| -> BTreeSet<String> {
        groups
            .iter()
            .filter(|g| g.starts_with(p))
            .cloned()
            .collect()
    };
    // The extension groups, by the names the README gives.
    for g in [
        "state_running",
        "os_linux",
        "key_pair_deploy_key",
        "resource_group_rg_acfmzw2jz2z4ldq",
        "charge_PostPaid",
        "charge_PrePaid",
    ] {
        assert!(groups.contains(g), "{g} in {groups:?}");
    }
    let cases: [(&str, BTreeSet<String>); 15] = [
        ("group_by_instance_id", values("id")),
        ("group_by_region", values("region")),
        ("group_by_availability_zone", values("availability_zone")),
        ("group_by_image_id", values("image_id")),
        ("group_by_instance_type", prefixed("type_")),
        ("group_by_vpc_id", prefixed("vpc_id_")),
        ("group_by_vswitch_id", prefixed("subnet_")),
        ("group_by_security_group", prefixed("security_group_")),
        ("group_by_tag_keys", prefixed("tag_")),
        ("group_by_tag_none", ["tag_none".to_string()].into()),
        ("group_by_instance_state", prefixed("state_")),
        ("group_by_os_type", prefixed("os_")),
        ("group_by_key_pair", prefixed("key_pair_")),
        ("group_by_resource_group", prefixed("resource_group_")),
        ("group_by_charge_type", prefixed("charge_")),
    ];
    for (switch, kind) in cases {
        assert!(
            !kind.is_empty() && kind.is_subset(&groups),
            "{switch}: {kind:?}"
        );
        let text = ALL_GROUPS.replace(&format!("{switch} = True"), "");
        let ini = ws.ini_named(
            &format!("{switch}.ini"),
            &format!("{text}\n{switch} = False"),
        );
        let out = ws.run_sim(&sim, &ini, &[]);
        out.assert_success();
        let v = out.json();
        let want: BTreeSet<String> = groups.difference(&kind).cloned().collect();
        assert_eq!(groups_of(&v), want, "{switch} = False");
        assert_eq!(hosts_of(&v), hosts_of(&all), "{switch}: the same hosts");
    }
    // The extensions are off by default.
    let default = groups_of(&golden("default"));
    for p in ["state_", "os_", "key_pair_", "resource_group_", "charge_"] {
        assert!(default.iter().all(|g| !g.starts_with(p)), "{p}");
    }
}

#[test]
fn ascii_group_names_from_the_ini() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let base = "destination_variable = private_ip_address";
    let unicode = ws.run_sim(&sim, &ws.ini_named("u.ini", base), &[]);
    unicode.assert_success();
    let unicode = groups_of(&unicode.json());
    assert!(unicode.contains("tag_env_生产"), "{unicode:?}");
    assert!(unicode.contains("tag_env_测试") || !unicode.iter().any(|g| g.contains("测")));
    let ascii = ws.run_sim(
        &sim,
        &ws.ini_named("a.ini", &format!("{base}\nascii_group_names = True")),
        &[],
    );
    ascii.assert_success();
    let ascii = groups_of(&ascii.json());
    assert!(ascii.contains("tag_env___"), "{ascii:?}");
    assert!(ascii.iter().all(|g| g.is_ascii()), "{ascii:?}");
    // Only the non-ASCII names change.
    let same: BTreeSet<&String> = unicode.iter().filter(|g| g.is_ascii()).collect();
    assert_eq!(same, ascii.iter().filter(|g| *g != "tag_env___").collect());
}

// ---- warnings ----

#[test]
fn every_instance_left_out_for_lack_of_an_address_is_one_warning() {
    let ws = Workspace::new();
    let fleet = edited_fleet(&ws, |i| {
        i["PublicIpAddress"] = json!({"IpAddress": []});
        i["EipAddress"] = json!({"AllocationId": "", "IpAddress": "", "InternetChargeType": ""});
    });
    let sim = Sim::start(&fleet, &[]);
    let out = ws.run_sim(&sim, &ws.ini(""), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    // The fixture fleet has 10 running instances.
    assert!(
        out.stderr.starts_with(
            "alicloud_inventory: warning: all 10 instances were left out for lack of an address in public_ip_address"
        ) && out.stderr.contains("destination_variable = private_ip_address"),
        "{}",
        out.stderr
    );
    let v = out.json();
    assert!(hosts_of(&v).is_empty());
    assert_eq!(v["alicloud"]["hosts"], json!([]));
    // With private addresses allowed, the same fleet lists the instances that have one,
    // quietly: leaving some out is no warning.
    let out = ws.run_sim(
        &sim,
        &ws.ini_named("p.ini", "destination_variable = private_ip_address"),
        &[],
    );
    out.assert_success();
    let listed = hosts_of(&out.json()).len();
    assert!((1..10).contains(&listed), "{listed}");
}

// ---- credentials ----

fn profile(name: &str, mode: &str, fields: &[(&str, Value)]) -> Value {
    let mut p = json!({
        "name": name, "mode": mode, "access_key_id": "", "access_key_secret": "",
        "sts_token": "", "ram_role_name": "", "ram_role_arn": "", "ram_session_name": "",
        "expired_seconds": 0, "region_id": "cn-hangzhou", "output_format": "json"
    });
    for (k, v) in fields {
        p[*k] = v.clone();
    }
    p
}

fn ak_profile(name: &str, key: (&str, &str)) -> Value {
    profile(
        name,
        "AK",
        &[
            ("access_key_id", json!(key.0)),
            ("access_key_secret", json!(key.1)),
        ],
    )
}

#[test]
fn sdk_names_for_the_profile_and_the_ecs_role() {
    let sim = full_sim(&[]);
    let ws = Workspace::new();
    write_private(
        &ws.path(".aliyun/config.json"),
        &json!({"current": "other", "profiles": [
            ak_profile("other", OTHER_KEY), ak_profile("dev", PROFILE_KEY),
        ]})
        .to_string(),
    );
    let out = run_env(&ws, &sim, &[], &[("ALIBABA_CLOUD_PROFILE", "dev")]);
    out.assert_success();
    assert_eq!(out.json(), golden("default"));
    let ids = ecs_key_ids(&sim);
    assert!(
        !ids.is_empty() && ids.iter().all(|i| i == PROFILE_KEY.0),
        "{ids:?}"
    );

    let ws = Workspace::new();
    let before = sim.stats()["metadata_requests"].as_u64().unwrap();
    let seen = ecs_key_ids(&sim).len();
    let out = run_env(&ws, &sim, &[], &[("ALIBABA_CLOUD_ECS_METADATA", ECS_ROLE)]);
    out.assert_success();
    assert_eq!(out.json(), golden("default"));
    assert!(sim.stats()["metadata_requests"].as_u64().unwrap() > before);
    let ids = ecs_key_ids(&sim)[seen..].to_vec();
    assert!(
        !ids.is_empty() && ids.iter().all(|i| i.starts_with("STS.")),
        "{ids:?}"
    );
}

#[test]
fn a_profile_file_named_alone_gives_its_current_profile() {
    let sim = full_sim(&[]);
    let file_text = json!({"current": "ops", "profiles": [
        ak_profile("dev", OTHER_KEY), ak_profile("ops", PROFILE_KEY),
    ]})
    .to_string();
    // From the environment, then from the ini.
    let ws = Workspace::new();
    let file = ws.path("team/profiles.json");
    write_private(&file, &file_text);
    let out = run_env(
        &ws,
        &sim,
        &with_config(&ws.ini(""), &[]),
        &[("ALICLOUD_SHARED_CREDENTIALS_FILE", file.to_str().unwrap())],
    );
    out.assert_success();
    let ws2 = Workspace::new();
    let file2 = ws2.path("team/profiles.json");
    write_private(&file2, &file_text);
    let ini = ws2.ini(&format!(
        "[credentials]\nalicloud_shared_credentials_file = {}",
        file2.display()
    ));
    run_env(&ws2, &sim, &with_config(&ini, &[]), &[]).assert_success();
    let ids = ecs_key_ids(&sim);
    assert!(
        !ids.is_empty() && ids.iter().all(|i| i == PROFILE_KEY.0),
        "{ids:?}"
    );
}

#[test]
fn a_ram_role_arn_profile_and_a_role_to_assume_are_assumed_in_turn() {
    let sim = full_sim(&[]);
    let ws = Workspace::new();
    write_private(
        &ws.path(".aliyun/config.json"),
        &json!({"current": "cross", "profiles": [profile("cross", "RamRoleArn", &[
            ("access_key_id", json!(PROFILE_KEY.0)), ("access_key_secret", json!(PROFILE_KEY.1)),
            ("ram_role_arn", json!(ROLE_ARN)), ("ram_session_name", json!("laptop")),
        ])]})
        .to_string(),
    );
    let out = run_env(
        &ws,
        &sim,
        &[],
        &[
            ("ALICLOUD_PROFILE", "cross"),
            ("ALICLOUD_ASSUME_ROLE_ARN", OTHER_ROLE_ARN),
        ],
    );
    out.assert_success();
    assert_eq!(out.json(), golden("default"));
    let log = sim.requests();
    let assumed: Vec<&Value> = log.iter().filter(|r| r["action"] == "AssumeRole").collect();
    assert_eq!(assumed.len(), 2, "{assumed:?}");
    // The profile's role first, with the profile's key; then the role to assume, with the
    // first role's temporary key.
    assert_eq!(assumed[0]["params"]["RoleArn"], ROLE_ARN);
    assert_eq!(assumed[0]["params"]["AccessKeyId"], PROFILE_KEY.0);
    assert_eq!(assumed[1]["params"]["RoleArn"], OTHER_ROLE_ARN);
    let first_sts = assumed[1]["params"]["AccessKeyId"].as_str().unwrap();
    assert!(first_sts.starts_with("STS."), "{first_sts}");
    let ids = ecs_key_ids(&sim);
    assert!(!ids.is_empty(), "no ECS call");
    assert!(
        ids.iter().all(|i| i.starts_with("STS.") && i != first_sts),
        "ECS calls are signed with the second role's key: {ids:?}"
    );
}

#[test]
fn a_warm_cache_needs_no_sts_call() {
    let sim = full_sim(&[]);
    let ws = Workspace::new();
    let env = [KEYS[0], KEYS[1], ("ALICLOUD_ASSUME_ROLE_ARN", ROLE_ARN)];
    let cold = run_env(&ws, &sim, &[], &env);
    cold.assert_success();
    let calls = sim.api_requests();
    let assumed = |sim: &Sim| {
        sim.requests()
            .iter()
            .filter(|r| r["action"] == "AssumeRole")
            .count()
    };
    assert_eq!(assumed(&sim), 1);
    for args in [&["--list"][..], &["--host", "i_bp1aaaaaaaaaaaaaaa01"][..]] {
        let warm = run_env(&ws, &sim, args, &env);
        warm.assert_success();
        assert!(warm.json().is_object());
    }
    assert_eq!(sim.api_requests(), calls, "no STS and no ECS call");
    assert_eq!(assumed(&sim), 1);
}

#[test]
fn credentials_in_the_ecs_section_and_a_literal_percent() {
    // A secret with ConfigParser's interpolation syntax in it: taken as written.
    let secret = "pct%(home)s%%x-1f0c";
    let key = format!("LTAIpercent:{secret}");
    let sim = Sim::fixture_fleet(&["--access-key", &key]);
    let ws = Workspace::new();
    let ini = ws.ini(&format!(
        "alicloud_access_key = LTAIpercent\nalicloud_secret_key = {secret}"
    ));
    chmod(&ini, 0o600);
    let out = ws.run(
        &with_config(&ini, &[]),
        &[("ALICLOUD_ECS_ENDPOINT", &sim.url)],
    );
    out.assert_success();
    assert_eq!(out.json(), golden("default"));
    let ids = ecs_key_ids(&sim);
    assert!(
        !ids.is_empty() && ids.iter().all(|i| i == "LTAIpercent"),
        "{ids:?}"
    );
}

// ---- the cache key ----

#[test]
fn the_cache_key_changes_with_key_id_regions_filters_and_endpoint_and_nothing_secret() {
    let sim = full_sim(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("");
    let other_sim = Sim::fixture_fleet(&[]);
    // Each run: its arguments, its environment, whether it must be a new cache file.
    let other_key = [
        ("ALICLOUD_ACCESS_KEY", OTHER_KEY.0),
        ("ALICLOUD_SECRET_KEY", OTHER_KEY.1),
    ];
    let wrong_secret = [KEYS[0], ("ALICLOUD_SECRET_KEY", "not-the-secret")];
    let regions = ws.ini_named("regions.ini", "regions = cn-hangzhou, cn-shanghai");
    let filters = ws.ini_named("filters.ini", "instance_filters = tag:role=web");
    let tuning = ws.ini_named(
        "tuning.ini",
        "timeout = 7\nmax_concurrency = 3\nmax_retries = 1",
    );
    type Case<'a> = (&'a str, &'a Path, &'a [(&'a str, &'a str)], &'a Sim, bool);
    let cases: Vec<Case> = vec![
        ("first run", &ini, &KEYS, &sim, true),
        ("same settings", &ini, &KEYS, &sim, false),
        ("another access key id", &ini, &other_key, &sim, true),
        ("the regions", &regions, &KEYS, &sim, true),
        ("the filters", &filters, &KEYS, &sim, true),
        ("another endpoint", &ini, &KEYS, &other_sim, true),
        // Not part of the key: the secret (a wrong one is never even used), timeouts and
        // concurrency.
        ("another secret", &ini, &wrong_secret, &sim, false),
        ("timeouts and concurrency", &tuning, &KEYS, &sim, false),
    ];
    let mut files = 0;
    for (what, ini, env, sim, new) in cases {
        let calls = sim.api_requests();
        let out = run_env(&ws, sim, &with_config(ini, &[]), env);
        out.assert_success();
        let now = ws.cache_files().len();
        if new {
            assert_eq!(now, files + 1, "{what}: a cache file of its own");
            assert!(sim.api_requests() > calls, "{what}: the API was called");
        } else {
            assert_eq!(now, files, "{what}: the same cache file");
            assert_eq!(sim.api_requests(), calls, "{what}: answered from the cache");
        }
        files = now;
    }
    for f in ws.cache_files() {
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        for s in [KEY, SECRET, OTHER_KEY.0, OTHER_KEY.1, "not-the-secret"] {
            assert!(!name.contains(s), "{name}");
        }
    }
}

// ---- concurrency ----

fn generated_fleet(ws: &Workspace, instances: &str, seed: &str) -> (PathBuf, String) {
    // Nearly every instance running with a public address: thousands of hosts.
    let json = harness::generate(&[
        "--regions",
        "1",
        "--instances",
        instances,
        "--seed",
        seed,
        "--stopped-fraction",
        "0",
        "--loopback",
    ]);
    let path = ws.path(&format!("fleet-{instances}.json"));
    std::fs::write(&path, &json).unwrap();
    let v: Value = serde_json::from_slice(&json).unwrap();
    let region = v["regions"][0]["RegionId"].as_str().unwrap().to_string();
    (path, region)
}

#[test]
fn requests_in_flight_never_exceed_max_concurrency() {
    let ws = Workspace::new();
    // 20 pages that answer slowly, so that requests overlap as far as they are let.
    let (fleet, region) = generated_fleet(&ws, "2000", "21");
    let regions = format!("regions = {region}");
    for (max, lowest) in [(3, 3), (1, 1), (16, 4)] {
        let sim = Sim::start(&fleet, &["--latency-ms", "100"]);
        let ini = ws.ini_named(
            &format!("c{max}.ini"),
            &format!("{regions}\nmax_concurrency = {max}"),
        );
        let out = ws.run_sim(&sim, &ini, &["--refresh-cache"]);
        out.assert_success();
        assert_eq!(hosts_of(&out.json()), expected_default_hosts(&fleet, None));
        let peak = sim.stats()["max_in_flight"].as_u64().unwrap();
        assert!(
            (lowest..=max).contains(&peak),
            "max_concurrency = {max}: {peak} requests in flight at once"
        );
    }
}

#[test]
fn throttling_halves_the_requests_in_flight() {
    let ws = Workspace::new();
    let (fleet, region) = generated_fleet(&ws, "5000", "22");
    // The service refuses what goes beyond 4 requests in flight; 8 are allowed to start.
    let sim = Sim::start(
        &fleet,
        &["--latency-ms", "50", "--throttle-above-inflight", "4"],
    );
    // Refusals here are not per window: a short window keeps each hold short.
    let ini = ws.ini(&format!(
        "regions = {region}\nmax_retries = 10\nthrottle_window = 0.2"
    ));
    let out = ws.run_sim(&sim, &ini, &["-v"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(hosts_of(&out.json()), expected_default_hosts(&fleet, None));
    let s = sim.stats();
    let (throttled, requests) = (
        s["throttled"].as_u64().unwrap(),
        s["requests"].as_u64().unwrap(),
    );
    // 50 pages after page 1. The first burst of up to 8 is refused above 4 (how many of the
    // 16 are in flight at once depends on the machine's load, so only "some" is asserted);
    // then the limit halves to about the 4 the service takes and stays near it, so few more
    // are refused. A client that kept 16 in flight would have 3 of every 4 refused (measured:
    // over 60).
    assert!(throttled >= 1, "the first burst is throttled: {throttled}");
    assert!(
        s["max_in_flight"].as_u64().unwrap() <= 8,
        "never above max_concurrency"
    );
    assert!(
        throttled <= 30,
        "{throttled} of {requests} requests throttled"
    );
}

// ---- paging ----

#[test]
fn a_region_whose_total_count_never_settles_is_listed_three_times_then_fails() {
    let ws = Workspace::new();
    let (fleet, region) = generated_fleet(&ws, "250", "23");
    let sim = Sim::start(&fleet, &["--fault", &format!("{region}:churning")]);
    let ini = ws.ini(&format!("regions = {region}"));
    let out = ws.run_sim(&sim, &ini, &[]);
    out.assert_failure(1, &format!("region {region}: InconsistentPaging"));
    assert!(out.stderr.contains("over 3 listings"), "{}", out.stderr);
    assert!(ws.cache_files().is_empty(), "nothing is cached");
    let firsts = sim
        .requests()
        .iter()
        .filter(|r| r["params"]["PageNumber"] == "1")
        .count();
    assert_eq!(firsts, 3, "three listings, each from page 1");
}

#[test]
fn an_unbelievable_total_count_is_refused_without_paging() {
    let ws = Workspace::new();
    let sim = Sim::fixture_fleet(&["--fault", "cn-shanghai:huge-total"]);
    let out = ws.run_sim(&sim, &ws.ini("regions = cn-shanghai"), &[]);
    out.assert_failure(
        1,
        "region cn-shanghai: MalformedResponse: TotalCount 2000001 is not believable",
    );
    assert_eq!(sim.api_requests(), 1, "no page beyond the first");
}

// ---- output ----

/// Runs the inventory, reads `keep` bytes of its stdout and closes the pipe, as `| head -c`
/// does; returns the exit status and stderr.
fn read_then_close(mut cmd: Command, keep: usize) -> (i32, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the inventory");
    let mut stdout = child.stdout.take().unwrap();
    let mut head = vec![0u8; keep];
    stdout.read_exact(&mut head).expect("the first bytes");
    assert_eq!(head[0], b'{');
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap().code().unwrap_or(-1), stderr)
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let ws = Workspace::new();
    // Megabytes of output, more than a pipe holds.
    let json = harness::generate(&[
        "--regions",
        "2",
        "--instances",
        "4000",
        "--seed",
        "24",
        "--loopback",
    ]);
    let fleet = ws.path("fleet.json");
    std::fs::write(&fleet, json).unwrap();
    let sim = Sim::start(&fleet, &[]);
    let ini = ws.ini("all_instances = True");
    // Cold (printed while the cache is written), then warm (copied from the cache).
    for args in [&["--refresh-cache"][..], &["--list"][..]] {
        let (code, stderr) = read_then_close(ws.sim_command(&sim, &ini, args, &[]), 100);
        assert_eq!((code, stderr.as_str()), (0, ""), "{args:?}");
    }
    // The cache written by the interrupted cold run is whole.
    let full = ws.run_sim(&sim, &ini, &["--list"]);
    full.assert_success();
    assert_eq!(hosts_of(&full.json()).len(), 4000);
    assert!(full.stdout.len() > 4 << 20, "{} bytes", full.stdout.len());
}

#[test]
fn no_signature_or_token_is_ever_part_of_a_url() {
    let sim = full_sim(&[]);
    let ws = Workspace::new();
    let minted = sim.mint_sts(3600);
    let s = |k: &str| minted[k].as_str().unwrap().to_string();
    let (id, secret, token) = (s("AccessKeyId"), s("AccessKeySecret"), s("SecurityToken"));
    let out = run_env(
        &ws,
        &sim,
        &[],
        &[
            ("ALICLOUD_ACCESS_KEY", &id),
            ("ALICLOUD_SECRET_KEY", &secret),
            ("ALICLOUD_SECURITY_TOKEN", &token),
            ("ALICLOUD_ASSUME_ROLE_ARN", ROLE_ARN),
        ],
    );
    out.assert_success();
    let log = sim.requests();
    let actions: BTreeSet<&str> = log.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["AssumeRole", "DescribeInstances", "DescribeRegions"].into()
    );
    for r in &log {
        assert_eq!(r["method"], "POST", "{r}");
        assert_eq!(r["query_keys"], json!([]), "nothing in the URL: {r}");
    }
}
