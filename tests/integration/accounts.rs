//! One inventory over several accounts (docs/DESIGN.md, "Accounts"): the real binary against a
//! simulator serving a control account (the fixture fleet, the base keys) and three accounts of
//! generated fleets: two reached by a role the control account may assume, one by an aliyun CLI
//! profile holding that account's own key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use alicloud_inventory::api::client::signed_form;
use alicloud_inventory::api::secret::{Credentials, Secret};
use alicloud_inventory::api::sign;
use serde_json::{json, Value};

use crate::harness::{fixture, generate, Output, Sim, Workspace, KEY, SECRET};

/// The simulator's default account: the fixture fleet and the base keys.
const CONTROL: &str = "1000000000000001";
const PROD: &str = "2000000000000001";
const STAGING: &str = "2000000000000002";
const TEAM: &str = "2000000000000003";
const PROD_ROLE: &str = "acs:ram::2000000000000001:role/inventory-reader";
const STAGING_ROLE: &str = "acs:ram::2000000000000002:role/inventory-reader";
/// A permanent key of the team account, reached through a profile.
const TEAM_KEY: (&str, &str) = ("LTAIteam", "team-secret-5e1f0a9c33d2");

/// The three accounts' fleets, generated into the workspace: disjoint addresses, distinct ids.
struct Fleets {
    prod: PathBuf,
    staging: PathBuf,
    team: PathBuf,
}

fn fleets(ws: &Workspace) -> Fleets {
    let write = |name: &str, args: &[&str]| {
        let path = ws.path(name);
        std::fs::write(&path, generate(args)).expect("write fleet");
        path
    };
    Fleets {
        prod: write(
            "prod.json",
            &[
                "--regions",
                "3",
                "--instances",
                "24",
                "--seed",
                "21",
                "--loopback",
                "--address-offset",
                "10000",
            ],
        ),
        staging: write(
            "staging.json",
            &[
                "--regions",
                "2",
                "--instances",
                "16",
                "--seed",
                "22",
                "--loopback",
                "--address-offset",
                "20000",
            ],
        ),
        team: write(
            "team.json",
            &[
                "--regions",
                "3",
                "--instances",
                "18",
                "--seed",
                "23",
                "--loopback",
                "--address-offset",
                "30000",
            ],
        ),
    }
}

/// A simulator serving the control account and the three others; the two roles trust the
/// control account only.
fn start(f: &Fleets, extra: &[&str]) -> Sim {
    let accounts = [
        format!("{PROD}:{}", f.prod.display()),
        format!("{STAGING}:{}", f.staging.display()),
        format!("{TEAM}:{}", f.team.display()),
    ];
    let team_key = format!("{TEAM}:{}:{}", TEAM_KEY.0, TEAM_KEY.1);
    let prod_role = format!("{PROD_ROLE}={CONTROL}");
    let staging_role = format!("{STAGING_ROLE}={CONTROL}");
    let mut args: Vec<&str> = vec![
        "--account",
        &accounts[0],
        "--account",
        &accounts[1],
        "--account",
        &accounts[2],
        "--account-key",
        &team_key,
        "--role-arn",
        &prod_role,
        "--role-arn",
        &staging_role,
    ];
    args.extend_from_slice(extra);
    Sim::start(&fixture("fleet.json"), &args)
}

/// The aliyun CLI config with the team profile, private as the CLI writes it.
fn write_profile(ws: &Workspace) {
    use std::os::unix::fs::PermissionsExt;
    let dir = ws.path(".aliyun");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join("config.json");
    let config = json!({"current": "", "profiles": [{
        "name": "team", "mode": "AK", "access_key_id": TEAM_KEY.0,
        "access_key_secret": TEAM_KEY.1, "region_id": "cn-hangzhou"}]});
    std::fs::write(&path, config.to_string()).expect("write profile");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// Two roles and a profile; prod has its own regions, team excludes one; the value spans
/// continuation lines, as a long list does in a real file.
const ACCOUNTS: &str = "accounts = [{alias: prod, role_arn: \"acs:ram::2000000000000001:role/inventory-reader\", regions: [cn-hangzhou, cn-beijing]},
    {alias: staging, role_arn: acs:ram::2000000000000002:role/inventory-reader},
    {alias: team, profile: team, regions_exclude: [cn-shanghai]}]";

fn run(ws: &Workspace, sim: &Sim, ini: &Path, args: &[&str]) -> Output {
    ws.run_sim_env(
        sim,
        ini,
        args,
        &[("ALICLOUD_STS_ENDPOINT", sim.url.as_str())],
    )
}

/// The hosts a fleet gives with the default settings: running instances of the regions
/// listed (all when `None`) less those excluded, by name, with their region.
fn expected(fleet: &Path, regions: Option<&[&str]>, exclude: &[&str]) -> BTreeMap<String, String> {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(fleet).expect("fleet")).expect("fleet JSON");
    v["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .filter(|i| i["Status"] == "Running")
        .filter(|i| {
            let r = i["RegionId"].as_str().unwrap_or_default();
            regions.is_none_or(|l| l.contains(&r)) && !exclude.contains(&r)
        })
        .map(|i| {
            let id = i["InstanceId"].as_str().expect("id");
            (
                id.to_lowercase().replace('-', "_"),
                i["RegionId"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn group(v: &Value, name: &str) -> BTreeSet<String> {
    v[name]["hosts"]
        .as_array()
        .unwrap_or_else(|| panic!("no group {name}"))
        .iter()
        .map(|h| h.as_str().expect("host").to_string())
        .collect()
}

fn actions(sim: &Sim, action: &str) -> Vec<Value> {
    sim.requests()
        .into_iter()
        .filter(|r| r["action"] == action)
        .collect()
}

#[test]
fn three_accounts_by_role_and_profile_with_their_own_regions() {
    let ws = Workspace::new();
    let f = fleets(&ws);
    write_profile(&ws);
    let sim = start(&f, &[]);
    let ini = ws.ini(ACCOUNTS);
    let out = run(&ws, &sim, &ini, &[]);
    out.assert_success();
    let v = out.json();

    let want = [
        (
            "prod",
            PROD,
            expected(&f.prod, Some(&["cn-hangzhou", "cn-beijing"]), &[]),
        ),
        ("staging", STAGING, expected(&f.staging, None, &[])),
        ("team", TEAM, expected(&f.team, None, &["cn-shanghai"])),
    ];
    let mut all = BTreeSet::new();
    for (alias, id, hosts) in &want {
        assert!(hosts.len() >= 5, "{alias}: a fleet too small to test with");
        let names: BTreeSet<String> = hosts.keys().cloned().collect();
        assert_eq!(
            group(&v, &format!("account_{alias}")),
            names,
            "account_{alias}"
        );
        for (name, region) in hosts {
            let hv = &v["_meta"]["hostvars"][name];
            assert_eq!(hv["account_alias"], *alias, "{name}");
            assert_eq!(hv["account_id"], *id, "{name}");
            assert_eq!(hv["region"], region.as_str(), "{name}");
        }
        all.extend(names);
    }
    // Nothing else: not the control account's fleet, not prod's cn-shanghai, not team's
    // excluded region.
    assert_eq!(group(&v, "alicloud"), all);
    assert!(
        v.get("accounts").is_none(),
        "no parent group without nested_groups"
    );

    // Two roles assumed with the base keys, one GetCallerIdentity (the profile's account), and
    // every DescribeInstances signed by the account's own keys.
    let assumed: BTreeSet<String> = actions(&sim, "AssumeRole")
        .iter()
        .map(|r| r["params"]["RoleArn"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        assumed,
        BTreeSet::from([PROD_ROLE.to_string(), STAGING_ROLE.to_string()])
    );
    assert!(actions(&sim, "AssumeRole")
        .iter()
        .all(|r| r["params"]["AccessKeyId"] == KEY));
    let who = actions(&sim, "GetCallerIdentity");
    assert_eq!(who.len(), 1, "{who:?}");
    assert_eq!(who[0]["params"]["AccessKeyId"], TEAM_KEY.0);
    let stats = sim.stats();
    for id in [PROD, STAGING, TEAM] {
        assert!(
            stats["by_account"][id]["requests"].as_u64().unwrap() > 0,
            "{stats}"
        );
    }
    // prod was never asked about cn-shanghai, nor team; staging was listed in its 2 regions.
    let described: Vec<(String, String)> = actions(&sim, "DescribeInstances")
        .iter()
        .map(|r| {
            (
                r["params"]["AccessKeyId"].as_str().unwrap().to_string(),
                r["region"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        !described
            .iter()
            .any(|(k, r)| k == TEAM_KEY.0 && r == "cn-shanghai"),
        "{described:?}"
    );
    assert_eq!(
        described.iter().filter(|(_, r)| r == "cn-shanghai").count(),
        1,
        "{described:?}"
    );

    // -v reports each account: id, instances, regions, pages, throttled requests, time.
    let out = run(&ws, &sim, &ini, &["--refresh-cache", "-v"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for (alias, id, hosts) in &want {
        let line = out
            .stderr
            .lines()
            .find(|l| l.contains(&format!("account '{alias}' ({id}): ")) && l.contains(" pages, "))
            .unwrap_or_else(|| panic!("no -v line for {alias}: {}", out.stderr));
        assert!(
            line.contains(&format!(": {} instances in ", hosts.len())),
            "{line}"
        );
        assert!(
            line.contains(" throttled, ") && line.ends_with(" ms"),
            "{line}"
        );
    }
    assert!(
        out.stderr
            .contains("account 'prod' (2000000000000001): regions cn-hangzhou, cn-beijing"),
        "{}",
        out.stderr
    );
    assert!(
        !crate::harness::leaks(&out.stderr, TEAM_KEY.1)
            && !crate::harness::leaks(&out.stderr, SECRET)
    );
}

#[test]
fn account_groups_nest_under_accounts_and_can_be_switched_off() {
    let ws = Workspace::new();
    let f = fleets(&ws);
    write_profile(&ws);
    let sim = start(&f, &[]);
    let out = run(
        &ws,
        &sim,
        &ws.ini(&format!("{ACCOUNTS}\nnested_groups = True")),
        &[],
    );
    out.assert_success();
    let v = out.json();
    let children: BTreeSet<&str> = v["accounts"]["children"]
        .as_array()
        .expect("accounts.children")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(
        children,
        BTreeSet::from(["account_prod", "account_staging", "account_team"])
    );
    assert!(v["accounts"]
        .get("hosts")
        .is_none_or(|h| h.as_array().is_some_and(|a| a.is_empty())));

    let out = run(
        &ws,
        &sim,
        &ws.ini(&format!("{ACCOUNTS}\ngroup_by_account = False")),
        &[],
    );
    out.assert_success();
    let v = out.json();
    let groups: Vec<&String> = v
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with("account"))
        .collect();
    assert!(groups.is_empty(), "{groups:?}");
    let hv = v["_meta"]["hostvars"].as_object().unwrap();
    assert!(
        hv.values().all(|h| h["account_alias"].is_string()),
        "the hostvars stay"
    );
}

/// The cache file's bytes, by name.
fn cache_bytes(ws: &Workspace) -> BTreeMap<PathBuf, Vec<u8>> {
    ws.cache_files()
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).expect("read cache");
            (p, b)
        })
        .collect()
}

#[test]
fn a_failing_account_fails_the_run_naming_it_and_keeps_the_cache() {
    let ws = Workspace::new();
    let f = fleets(&ws);
    write_profile(&ws);
    let sim = start(&f, &[]);
    let ini = ws.ini(ACCOUNTS);
    run(&ws, &sim, &ini, &[]).assert_success();
    let before = cache_bytes(&ws);
    assert_eq!(before.len(), 1, "one cache file for the whole set");

    // The service refuses staging's listing (Forbidden.RAM in every region, DescribeRegions
    // included: a permission only the operator can grant, so exit 2).
    let fault = format!("{STAGING}/*:forbidden");
    let sim = {
        let listen = format!("127.0.0.1:{}", sim.port());
        drop(sim);
        start(&f, &["--listen", &listen, "--fault", &fault])
    };
    let out = run(&ws, &sim, &ini, &["--refresh-cache"]);
    out.assert_failure(2, "account 'staging': ");
    assert!(out.stderr.contains("Forbidden.RAM"), "{}", out.stderr);
    assert_eq!(cache_bytes(&ws), before, "the cache is untouched");

    // The control account may not assume prod's role: NoPermission, a configuration error.
    let prod_role = format!("{PROD_ROLE}={TEAM}");
    let staging_role = format!("{STAGING_ROLE}={CONTROL}");
    let team_key = format!("{TEAM}:{}:{}", TEAM_KEY.0, TEAM_KEY.1);
    let accounts: Vec<String> = [(PROD, &f.prod), (STAGING, &f.staging), (TEAM, &f.team)]
        .iter()
        .map(|(id, p)| format!("{id}:{}", p.display()))
        .collect();
    let listen = format!("127.0.0.1:{}", sim.port());
    drop(sim);
    let sim = Sim::start(
        &fixture("fleet.json"),
        &[
            "--listen",
            &listen,
            "--account",
            &accounts[0],
            "--account",
            &accounts[1],
            "--account",
            &accounts[2],
            "--account-key",
            &team_key,
            "--role-arn",
            &prod_role,
            "--role-arn",
            &staging_role,
        ],
    );
    let out = run(&ws, &sim, &ini, &["--refresh-cache"]);
    out.assert_failure(2, "account 'prod': ");
    assert!(
        out.stderr.contains("NoPermission") && out.stderr.contains(PROD_ROLE),
        "{}",
        out.stderr
    );
    assert_eq!(cache_bytes(&ws), before, "the cache is untouched");
    // The cache still answers a plain --list, with every account.
    let out = run(&ws, &sim, &ini, &[]);
    out.assert_success();
    assert!(out.json()["account_staging"]["hosts"]
        .as_array()
        .is_some_and(|h| !h.is_empty()));
}

#[test]
fn skip_failed_accounts_prints_the_others_warns_once_and_caches_nothing() {
    let ws = Workspace::new();
    let f = fleets(&ws);
    write_profile(&ws);
    let fault = format!("{STAGING}/*:forbidden");
    let sim = start(&f, &["--fault", &fault]);
    let ini = ws.ini(&format!("{ACCOUNTS}\nskip_failed_accounts = True"));
    let out = run(&ws, &sim, &ini, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "one warning for the one failed account: {}",
        out.stderr
    );
    assert!(
        lines[0].starts_with("alicloud_inventory: warning: account 'staging' left out: ")
            && lines[0].contains("Forbidden.RAM"),
        "{}",
        lines[0]
    );
    let v = out.json();
    assert!(v.get("account_staging").is_none());
    let mut want: BTreeSet<String> = expected(&f.prod, Some(&["cn-hangzhou", "cn-beijing"]), &[])
        .into_keys()
        .collect();
    want.extend(expected(&f.team, None, &["cn-shanghai"]).into_keys());
    assert_eq!(group(&v, "alicloud"), want);
    assert!(
        ws.cache_files().is_empty(),
        "a partial inventory is not cached"
    );

    // So the next run asks the API again; with staging back, it caches the whole set.
    let listen = format!("127.0.0.1:{}", sim.port());
    drop(sim);
    let sim = start(&f, &["--listen", &listen]);
    let out = run(&ws, &sim, &ini, &[]);
    out.assert_success();
    assert!(sim.api_requests() > 0);
    assert_eq!(
        group(&out.json(), "account_staging"),
        expected(&f.staging, None, &[]).into_keys().collect()
    );
    assert_eq!(ws.cache_files().len(), 1);

    // Every account failing is a failed run, not an empty inventory.
    let listen = format!("127.0.0.1:{}", sim.port());
    drop(sim);
    let sim = start(&f, &["--listen", &listen, "--fault", "*:unavailable"]);
    let out = run(
        &ws,
        &sim,
        &ws.ini(&format!(
            "{ACCOUNTS}\nskip_failed_accounts = True\nmax_retries = 0"
        )),
        &["--refresh-cache"],
    );
    out.assert_failure(1, "ServiceUnavailable");
    assert!(
        out.stderr
            .starts_with("alicloud_inventory: error: account '"),
        "{}",
        out.stderr
    );
}

#[test]
fn hostnames_colliding_across_accounts_both_stay() {
    let ws = Workspace::new();
    // Two accounts with the same machines by name: the fixture fleet, and a copy whose ids
    // differ.
    let text = std::fs::read_to_string(fixture("fleet.json")).unwrap();
    let mut copy: Value = serde_json::from_str(&text).unwrap();
    for i in copy["instances"].as_array_mut().unwrap() {
        let id = i["InstanceId"].as_str().unwrap().replacen("i-", "i-z", 1);
        i["InstanceId"] = Value::from(id);
    }
    let a = fixture("fleet.json");
    let b = ws.path("copy.json");
    std::fs::write(&b, copy.to_string()).unwrap();
    let accounts = [
        format!("{PROD}:{}", a.display()),
        format!("{STAGING}:{}", b.display()),
    ];
    let prod_role = format!("{PROD_ROLE}={CONTROL}");
    let staging_role = format!("{STAGING_ROLE}={CONTROL}");
    let sim = Sim::start(
        &fixture("fleet.json"),
        &[
            "--account",
            &accounts[0],
            "--account",
            &accounts[1],
            "--role-arn",
            &prod_role,
            "--role-arn",
            &staging_role,
        ],
    );
    let ini = ws.ini(
        "hostname_variable = instance_name\naccounts = [{alias: a, role_arn: \"acs:ram::2000000000000001:role/inventory-reader\"}, {alias: b, role_arn: \"acs:ram::2000000000000002:role/inventory-reader\"}]",
    );
    let out = run(&ws, &sim, &ini, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = out.json();
    let hv = &v["_meta"]["hostvars"];
    // web-01 of each account: both kept, renamed by instance id, one warning naming them.
    let a_name = "web_01_i_bp1aaaaaaaaaaaaaaa01";
    let b_name = "web_01_i_zbp1aaaaaaaaaaaaaaa01";
    assert_eq!(hv[a_name]["account_alias"], "a");
    assert_eq!(hv[b_name]["account_alias"], "b");
    assert!(hv.get("web_01").is_none());
    assert!(group(&v, "account_a").contains(a_name) && group(&v, "account_b").contains(b_name));
    assert_eq!(group(&v, "account_a").len(), group(&v, "account_b").len());
    let warning = out
        .stderr
        .lines()
        .find(|l| l.contains("hostname 'web_01' is shared by several instances"))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    assert!(
        warning.contains(a_name) && warning.contains(b_name),
        "{warning}"
    );
    assert!(
        out.stderr
            .lines()
            .all(|l| l.starts_with("alicloud_inventory: warning: hostname '")),
        "{}",
        out.stderr
    );
}

#[test]
fn a_warm_cache_answers_list_and_host_without_sts_or_api() {
    let ws = Workspace::new();
    let f = fleets(&ws);
    write_profile(&ws);
    let sim = start(&f, &[]);
    let ini = ws.ini(ACCOUNTS);
    let cold = run(&ws, &sim, &ini, &[]);
    cold.assert_success();
    assert_eq!(ws.cache_files().len(), 1);
    let team_host = expected(&f.team, None, &["cn-shanghai"])
        .into_keys()
        .next()
        .unwrap();

    sim.http("POST", "/_sim/reset", None);
    let warm = run(&ws, &sim, &ini, &[]);
    warm.assert_success();
    assert_eq!(warm.json(), cold.json());
    let host = run(&ws, &sim, &ini, &["--host", &team_host]);
    host.assert_success();
    assert_eq!(host.json(), cold.json()["_meta"]["hostvars"][&team_host]);
    assert_eq!(host.json()["account_id"], TEAM);
    let stats = sim.stats();
    assert_eq!(stats["requests"], 0, "no STS or ECS call: {stats}");

    // The cache key holds each account's identity: another role is another file.
    let other = ws.ini(&ACCOUNTS.replace(
        "role_arn: acs:ram::2000000000000002:role/inventory-reader",
        "role_arn: acs:ram::2000000000000002:role/other",
    ));
    let out = run(&ws, &sim, &other, &[]);
    out.assert_failure(2, "account 'staging': ");
    assert_eq!(ws.cache_files().len(), 1, "the failed set wrote no file");
    for file in ws.cache_files() {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!crate::harness::leaks(&text, TEAM_KEY.1) && !crate::harness::leaks(&text, SECRET));
    }
}

#[test]
fn account_entries_are_checked_with_file_line_and_option() {
    let ws = Workspace::new();
    let sim = Sim::fixture_fleet(&[]);
    for (accounts, want) in [
        ("[{alias: a}, {alias: a}]", "alias 'a' is used twice"),
        (
            "[{alias: a, role_arn: x, profile: p}]",
            "role_arn and profile are alternatives",
        ),
        ("[{role_arn: acs:ram::1:role/x}]", "'alias' is missing"),
        (
            "[{alias: a, rol_arn: acs:ram::1:role/x}]",
            "did you mean 'role_arn'",
        ),
        ("[{alias: a}", "unclosed bracket '['"),
    ] {
        let ini = ws.ini(&format!("regions = cn-hangzhou\n\naccounts = {accounts}"));
        let out = run(&ws, &sim, &ini, &[]);
        out.assert_failure(2, want);
        assert!(
            out.stderr
                .contains(&format!("{}:5: option 'accounts': ", ini.display())),
            "{}",
            out.stderr
        );
    }
    // An entry with nothing but an alias uses the base credentials; its account id is the
    // control account's, from GetCallerIdentity.
    let out = run(&ws, &sim, &ws.ini("accounts = [{alias: main}]"), &[]);
    out.assert_success();
    let v = out.json();
    assert_eq!(group(&v, "account_main"), group(&v, "alicloud"));
    assert!(v["_meta"]["hostvars"]
        .as_object()
        .unwrap()
        .values()
        .all(|h| h["account_id"] == CONTROL));
}

#[test]
fn accounts_are_listed_at_once_each_region_within_its_own_max_concurrency() {
    let ws = Workspace::new();
    let f = fleets(&ws);
    write_profile(&ws);
    let sim = start(&f, &["--latency-ms", "100"]);
    let ini = ws.ini(&format!("{ACCOUNTS}\nmax_concurrency = 2"));
    let out = run(&ws, &sim, &ini, &[]);
    out.assert_success();
    let stats = sim.stats();
    // max_concurrency is per (account, region): an account has at most 2 per region in flight.
    for (id, regions) in [(PROD, 3), (STAGING, 2), (TEAM, 3)] {
        let m = stats["by_account"][id]["max_in_flight"].as_u64().unwrap();
        assert!(
            m <= 2 * regions,
            "account {id}: {m} in flight, above max_concurrency: {stats}"
        );
    }
    assert!(
        stats["max_in_flight"].as_u64().unwrap() > 2,
        "the accounts did not overlap: {stats}"
    );
}

/// A signed call to the simulator with `creds`.
fn call(
    sim: &Sim,
    creds: &Credentials,
    action: &str,
    params: &[(&str, &str)],
) -> crate::harness::Resp {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let version = if action.starts_with("Describe") {
        "2014-05-26"
    } else {
        "2015-04-01"
    };
    let form = signed_form(creds, version, action, &params);
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{}={}", sign::encode(k), sign::encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    sim.http("POST", "/", Some(&body))
}

fn creds(id: &str, secret: &str, token: Option<&str>) -> Credentials {
    Credentials {
        access_key_id: id.into(),
        secret: Secret::new(secret),
        security_token: token.map(Secret::new),
        source: "test".into(),
    }
}

#[test]
fn the_simulator_serves_each_account_its_fleet_and_identity() {
    let ws = Workspace::new();
    let f = fleets(&ws);
    let sim = start(&f, &[]);
    let control = creds(KEY, SECRET, None);
    let team = creds(TEAM_KEY.0, TEAM_KEY.1, None);

    let who = call(&sim, &control, "GetCallerIdentity", &[]).json();
    assert_eq!(
        (who["AccountId"].as_str(), who["IdentityType"].as_str()),
        (Some(CONTROL), Some("Account"))
    );
    let who = call(&sim, &team, "GetCallerIdentity", &[]).json();
    assert_eq!(who["AccountId"], TEAM);

    // A role of prod, assumed by the control account, sees prod's fleet and says so.
    let r = call(
        &sim,
        &control,
        "AssumeRole",
        &[("RoleArn", PROD_ROLE), ("RoleSessionName", "t1")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let c = &r.json()["Credentials"];
    let prod = creds(
        c["AccessKeyId"].as_str().unwrap(),
        c["AccessKeySecret"].as_str().unwrap(),
        c["SecurityToken"].as_str(),
    );
    let who = call(&sim, &prod, "GetCallerIdentity", &[]).json();
    assert_eq!(who["AccountId"], PROD);
    assert_eq!(
        who["Arn"],
        format!("acs:ram::{PROD}:assumed-role/inventory-reader/t1")
    );
    let regions = |c: &Credentials| -> Vec<String> {
        call(&sim, c, "DescribeRegions", &[]).json()["Regions"]["Region"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["RegionId"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(regions(&prod), ["cn-hangzhou", "cn-shanghai", "cn-beijing"]);
    assert_eq!(
        regions(&control),
        ["cn-hangzhou", "cn-shanghai", "ap-southeast-1"]
    );
    let page = call(
        &sim,
        &prod,
        "DescribeInstances",
        &[("RegionId", "cn-beijing"), ("PageSize", "100")],
    )
    .json();
    let total = expected(&f.prod, Some(&["cn-beijing"]), &[]).len() as u64;
    assert!(page["TotalCount"].as_u64().unwrap() >= total && total > 0);

    // Fleets generated with address offsets apart share no address.
    let addresses = |p: &Path| -> BTreeSet<String> {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        v["instances"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| {
                i["PublicIpAddress"]["IpAddress"][0]
                    .as_str()
                    .map(String::from)
            })
            .collect()
    };
    let (a, b) = (addresses(&f.prod), addresses(&f.staging));
    assert!(!a.is_empty() && a.is_disjoint(&b), "{a:?} {b:?}");

    // The roles trust the control account only: the team account gets NoPermission.
    let r = call(
        &sim,
        &team,
        "AssumeRole",
        &[("RoleArn", STAGING_ROLE), ("RoleSessionName", "t2")],
    );
    assert_eq!(
        (r.status, r.code()),
        (403, "NoPermission".to_string()),
        "{}",
        r.body
    );
}

#[test]
fn the_simulator_refuses_inconsistent_accounts() {
    let fleet = fixture("fleet.json");
    let fleet = fleet.to_str().unwrap();
    for (args, want) in [
        (vec!["--account-key", "9:k:s"], "which no --account serves"),
        (
            vec!["--account", &format!("{CONTROL}:{fleet}")],
            "given twice",
        ),
        (vec!["--account", "5:"], "the fleet file is empty"),
        (
            vec!["--role-arn", "acs:ram::5:role/x="],
            "no account after '='",
        ),
    ] {
        let out = crate::harness::simulator(&["serve", "--fleet", fleet])
            .args(&args)
            .output()
            .expect("run the simulator");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(want),
            "{args:?}: {err}"
        );
    }
}
