//! The inventory's integration tests: the real binary against the simulator on a free loopback
//! port.

use std::collections::BTreeSet;
use std::path::Path;

use crate::harness::{self, fixture, Sim, Workspace};
use serde_json::Value;

/// Compares with a reviewed snapshot in fixtures/golden (pretty-printed for review). With
/// `UPDATE_GOLDEN=1` a differing snapshot is rewritten and the test still fails, so an update
/// is never a silent pass: review the diff, then run again.
fn assert_golden(name: &str, stdout: &str) {
    let value: Value = serde_json::from_str(stdout).expect("JSON");
    // The compact output must already be in canonical (sorted) form.
    assert_eq!(
        serde_json::to_string(&value).unwrap() + "\n",
        stdout,
        "output is not sorted compact JSON"
    );
    assert_valid_inventory(name, &value, name != "replace_dash_false");
    let pretty = serde_json::to_string_pretty(&value).unwrap() + "\n";
    let path = fixture(&format!("golden/{name}.json"));
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    if want != pretty && std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &pretty).unwrap();
        panic!(
            "{name}: rewrote {}; review the diff and run again",
            path.display()
        );
    }
    assert!(!want.is_empty(), "missing snapshot {}", path.display());
    assert!(
        want == pretty,
        "{name}: output differs from {}; diff it by hand",
        path.display()
    );
}

/// The invariants Ansible needs, on what the program printed: every group an object with a
/// hosts list, no group named like a host, every host in `alicloud` and in `_meta.hostvars`,
/// every group name valid (no `-` unless dashes are kept), every member of a group a host,
/// every child a group.
fn assert_valid_inventory(what: &str, v: &Value, no_dashes: bool) {
    let hosts: BTreeSet<&str> = v["_meta"]["hostvars"]
        .as_object()
        .unwrap_or_else(|| panic!("{what}: no _meta.hostvars"))
        .keys()
        .map(String::as_str)
        .collect();
    assert!(!hosts.is_empty(), "{what}: no host");
    let all: BTreeSet<&str> = v["alicloud"]["hosts"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no alicloud group"))
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(all, hosts, "{what}");
    let groups = v.as_object().unwrap();
    for (name, group) in groups {
        if name == "_meta" {
            continue;
        }
        let members = group["hosts"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: group {name} has no hosts list"));
        for h in members {
            assert!(
                hosts.contains(h.as_str().unwrap()),
                "{what}: {name} holds {h}, no host"
            );
        }
        for c in group["children"].as_array().into_iter().flatten() {
            let c = c.as_str().unwrap();
            assert!(
                groups.contains_key(c),
                "{what}: {name} has child {c}, no group"
            );
        }
        assert!(
            !hosts.contains(name.as_str()),
            "{what}: group {name} is named like a host"
        );
        let first = name.chars().next().unwrap();
        assert!(
            !first.is_ascii_digit(),
            "{what}: {name} starts with a digit"
        );
        assert!(
            name.chars()
                .all(|c| c == '_' || c.is_alphanumeric() || c == '-'),
            "{what}: {name}"
        );
        if no_dashes {
            assert!(!name.contains('-'), "{what}: {name} has a dash");
        }
    }
}

fn golden_case(name: &str, ecs: &str) {
    golden_case_warning(name, ecs, None)
}

fn golden_case_warning(name: &str, ecs: &str, warning: Option<&str>) {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let out = ws.run_sim(&sim, &ws.ini(ecs), &["--list"]);
    match warning {
        None => out.assert_success(),
        Some(w) => {
            assert_eq!(out.code, 0);
            assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
            assert!(
                out.stderr.starts_with("alicloud_inventory: warning: ") && out.stderr.contains(w),
                "{}",
                out.stderr
            );
        }
    }
    assert_golden(name, &out.stdout);
    // Byte-identical on a second, uncached run.
    let again = ws.run_sim(&sim, &ws.ini(ecs), &["--refresh-cache"]);
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn golden_default() {
    golden_case("default", "");
}

#[test]
fn golden_nested_groups() {
    golden_case("nested_groups", "nested_groups = True");
}

#[test]
fn golden_expand_csv_tags() {
    golden_case("expand_csv_tags", "expand_csv_tags = yes");
}

#[test]
fn golden_keep_dashes() {
    golden_case("replace_dash_false", "replace_dash_in_groups = False");
}

#[test]
fn golden_hostname_tag_name() {
    // Two instances carry Name=web-01: both stay, suffixed with their ids, and the operator is told.
    golden_case_warning(
        "hostname_tag_name",
        "hostname_variable = tag_Name\nall_instances = True",
        Some("hostname 'web_01' is shared by several instances; keeping every instance as web_01_i_bp1aaaaaaaaaaaaaaa01, web_01_i_uf6bbbbbbbbbbbbbbb10"),
    );
}

#[test]
fn golden_private_destination() {
    golden_case(
        "private_destination",
        "destination_variable = private_ip_address",
    );
}

fn generate(ws: &Workspace, args: &[&str]) -> std::path::PathBuf {
    let path = ws.path("fleet.json");
    std::fs::write(&path, harness::generate(args)).unwrap();
    path
}

/// Running instances with a public address: the hosts the default ini lists.
pub(crate) fn expected_default_hosts(fleet: &Path, skip_region: Option<&str>) -> BTreeSet<String> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(fleet).unwrap()).unwrap();
    v["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| {
            i["Status"] == "Running" && Some(i["RegionId"].as_str().unwrap()) != skip_region
        })
        .filter(|i| {
            let public = i["PublicIpAddress"]["IpAddress"]
                .as_array()
                .is_some_and(|a| !a.is_empty());
            let eip = i["EipAddress"]["IpAddress"]
                .as_str()
                .is_some_and(|s| !s.is_empty());
            public || eip
        })
        .map(|i| {
            i["InstanceId"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .replace('-', "_")
        })
        .collect()
}

pub(crate) fn hosts_of(out: &Value) -> BTreeSet<String> {
    out["_meta"]["hostvars"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[test]
fn many_pages_in_one_region() {
    let ws = Workspace::new();
    let fleet = generate(
        &ws,
        &[
            "--regions",
            "2",
            "--instances",
            "460",
            "--skew",
            "0.9",
            "--seed",
            "7",
        ],
    );
    let sim = Sim::start(&fleet, &[]);
    let out = ws.run_sim(&sim, &ws.ini("regions = all"), &["--list"]);
    out.assert_success();
    let want = expected_default_hosts(&fleet, None);
    assert!(
        want.len() > 300,
        "the fleet should need several pages: {}",
        want.len()
    );
    assert_eq!(hosts_of(&out.json()), want);
    // Every page fetched once: ceil(running / 100) per region (Status=Running is sent, so
    // stopped instances cost no pages), and page 1 even of an empty region.
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&fleet).unwrap()).unwrap();
    let mut want_pages: std::collections::BTreeMap<String, (u64, u64)> = v["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["RegionId"].as_str().unwrap().to_string(), (0, 0)))
        .collect();
    for i in v["instances"].as_array().unwrap() {
        let counts = want_pages.get_mut(i["RegionId"].as_str().unwrap()).unwrap();
        counts.0 += 1;
        counts.1 += u64::from(i["Status"] == "Running");
    }
    assert!(
        want_pages
            .values()
            .any(|(all, running)| all.div_ceil(100) > running.div_ceil(100)),
        "the stopped instances of some region would cost a page: {want_pages:?}"
    );
    let mut got_pages: std::collections::BTreeMap<String, u64> = Default::default();
    for r in sim.requests() {
        if r["action"] == "DescribeInstances" {
            assert_eq!(r["params"]["Status"], "Running", "{r}");
            *got_pages
                .entry(r["region"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    for (region, (_, running)) in &want_pages {
        assert_eq!(
            got_pages.get(region).copied().unwrap_or(0),
            running.div_ceil(100).max(1),
            "pages of {region}"
        );
    }
    let pages: Vec<(String, String)> = sim
        .requests()
        .iter()
        .filter(|r| r["action"] == "DescribeInstances")
        .map(|r| {
            (
                r["region"].as_str().unwrap().to_string(),
                r["params"]["PageNumber"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let unique: BTreeSet<_> = pages.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        pages.len(),
        "a page was fetched twice: {pages:?}"
    );
    assert!(
        pages.iter().any(|(_, p)| p == "4"),
        "the big region has at least 4 pages: {pages:?}"
    );
    assert!(sim
        .requests()
        .iter()
        .all(|r| r["action"] != "DescribeInstances" || r["params"]["PageSize"] == "100"));
}

#[test]
fn regions_all_minus_excluded() {
    let ws = Workspace::new();
    let fleet = generate(&ws, &["--regions", "4", "--instances", "80", "--seed", "3"]);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&fleet).unwrap()).unwrap();
    let excluded = v["regions"][1]["RegionId"].as_str().unwrap().to_string();
    let sim = Sim::start(&fleet, &[]);
    let out = ws.run_sim(
        &sim,
        &ws.ini(&format!("regions = all\nregions_exclude = {excluded}")),
        &[],
    );
    out.assert_success();
    assert_eq!(
        hosts_of(&out.json()),
        expected_default_hosts(&fleet, Some(&excluded))
    );
    let reqs = sim.requests();
    assert_eq!(reqs[0]["action"], "DescribeRegions");
    assert!(reqs
        .iter()
        .all(|r| r["region"] != excluded.as_str() || r["action"] == "DescribeRegions"));
    let asked: BTreeSet<&str> = reqs
        .iter()
        .filter(|r| r["action"] == "DescribeInstances")
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    assert_eq!(asked.len(), 3);
}

#[test]
fn explicit_regions_skip_describe_regions() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let out = ws.run_sim(&sim, &ws.ini("regions = cn-shanghai"), &[]);
    out.assert_success();
    let reqs = sim.requests();
    assert!(
        reqs.iter()
            .all(|r| r["action"] == "DescribeInstances" && r["region"] == "cn-shanghai"),
        "{reqs:?}"
    );
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("golden/default.json")).unwrap())
            .unwrap();
    let want: BTreeSet<String> = golden["_meta"]["hostvars"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v["region"] == "cn-shanghai")
        .map(|(h, _)| h.clone())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(hosts_of(&out.json()), want, "the hosts of cn-shanghai only");
}

#[test]
fn every_instance_filter_reaches_the_api_as_its_parameter() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let filters = [
        (
            "instance_type",
            "ecs.g6.large",
            "InstanceType",
            "ecs.g6.large",
        ),
        ("vpc_id", "vpc-1", "VpcId", "vpc-1"),
        ("vswitch_id", "vsw-1", "VSwitchId", "vsw-1"),
        ("zone_id", "cn-hangzhou-g", "ZoneId", "cn-hangzhou-g"),
        ("status", "Running", "Status", "Running"),
        ("instance_name", "web*", "InstanceName", "web*"),
        ("image_id", "m-1", "ImageId", "m-1"),
        ("security_group_id", "sg-1", "SecurityGroupId", "sg-1"),
        ("instance_ids", "i-1;i-2", "InstanceIds", r#"["i-1","i-2"]"#),
        ("resource_group_id", "rg-1", "ResourceGroupId", "rg-1"),
        ("key_pair_name", "kp", "KeyPairName", "kp"),
        (
            "instance_charge_type",
            "PostPaid",
            "InstanceChargeType",
            "PostPaid",
        ),
        (
            "internet_charge_type",
            "PayByTraffic",
            "InternetChargeType",
            "PayByTraffic",
        ),
        ("instance_network_type", "vpc", "InstanceNetworkType", "vpc"),
        (
            "private_ip_addresses",
            "10.0.0.1;10.0.0.2",
            "PrivateIpAddresses",
            r#"["10.0.0.1","10.0.0.2"]"#,
        ),
        (
            "public_ip_addresses",
            "47.0.0.1",
            "PublicIpAddresses",
            r#"["47.0.0.1"]"#,
        ),
        (
            "eip_addresses",
            "47.0.0.2",
            "EipAddresses",
            r#"["47.0.0.2"]"#,
        ),
    ];
    let spec: Vec<String> = filters
        .iter()
        .map(|(k, v, _, _)| format!("{k}={v}"))
        .chain(["tag:env=prod".into(), "tag:role".into()])
        .collect();
    let ini = ws.ini(&format!(
        "regions = cn-hangzhou\ninstance_filters = {}",
        spec.join(", ")
    ));
    let out = ws.run_sim(&sim, &ini, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = sim.requests();
    let params = &reqs
        .iter()
        .find(|r| r["action"] == "DescribeInstances")
        .expect("a listing")["params"];
    for (_, _, api, want) in filters {
        assert_eq!(params[api], want, "{api}");
    }
    assert_eq!(params["Tag.1.Key"], "env");
    assert_eq!(params["Tag.1.Value"], "prod");
    assert_eq!(params["Tag.2.Key"], "role");
    assert!(params.get("Tag.2.Value").is_none());
}

#[test]
fn tag_filter_is_applied_by_the_service() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let out = ws.run_sim(&sim, &ws.ini("instance_filters = tag:role=web"), &[]);
    out.assert_success();
    let v = out.json();
    let web: BTreeSet<String> = v["tag_role_web"]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    assert!(!web.is_empty());
    assert_eq!(hosts_of(&v), web, "only role=web hosts are listed");
}

#[test]
fn host_from_a_warm_cache_makes_no_request() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("");
    let list = ws.run_sim(&sim, &ini, &["--list"]);
    list.assert_success();
    let cold = sim.api_requests();
    assert!(cold >= 2);
    // Every host's --host is exactly its entry in --list.
    let listed = list.json();
    let hostvars = listed["_meta"]["hostvars"].as_object().unwrap();
    assert_eq!(hostvars.len(), 8);
    for (name, vars) in hostvars {
        let host = ws.run_sim(&sim, &ini, &["--host", name]);
        host.assert_success();
        assert_eq!(&host.json(), vars, "--host {name}");
    }
    assert_eq!(ws.run_sim(&sim, &ini, &["--list"]).stdout, list.stdout);
    assert_eq!(
        sim.api_requests(),
        cold,
        "--host and --list from a fresh cache call nothing"
    );

    // An unknown host refreshes once, then prints {}.
    let unknown = ws.run_sim(&sim, &ini, &["--host", "no_such_host"]);
    unknown.assert_success();
    assert_eq!(unknown.stdout, "{}\n");
    assert_eq!(sim.api_requests(), 2 * cold, "exactly one refresh");

    // --refresh-cache always calls the API, with --host too.
    ws.run_sim(&sim, &ini, &["--refresh-cache"])
        .assert_success();
    assert_eq!(sim.api_requests(), 3 * cold);
    let h = ws.run_sim(
        &sim,
        &ini,
        &["--refresh-cache", "--host", "i_bp1aaaaaaaaaaaaaaa01"],
    );
    h.assert_success();
    assert_eq!(h.json()["id"], "i-bp1aaaaaaaaaaaaaaa01");
    assert_eq!(sim.api_requests(), 4 * cold);
}

#[test]
fn cache_is_keyed_by_settings_and_private() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    ws.run_sim(&sim, &ws.ini_named("a.ini", ""), &[])
        .assert_success();
    let nested = ws.run_sim(&sim, &ws.ini_named("b.ini", "nested_groups = True"), &[]);
    nested.assert_success();
    assert!(
        nested.json().get("regions").is_some(),
        "a different ini does not get the other's cache"
    );
    let files = ws.cache_files();
    assert_eq!(files.len(), 2, "{files:?}");
    ws.assert_private_cache();
}

#[test]
fn max_age_zero_always_calls_the_api() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("cache_max_age = 0");
    ws.run_sim(&sim, &ini, &[]).assert_success();
    let n = sim.api_requests();
    ws.run_sim(&sim, &ini, &[]).assert_success();
    assert_eq!(sim.api_requests(), 2 * n);
}

// ---- errors: exit status, one stderr line, empty stdout ----

#[test]
fn wrong_secret() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let out = ws.run_sim_env(
        &sim,
        &ws.ini(""),
        &[],
        &[("ALICLOUD_SECRET_KEY", "not-the-secret")],
    );
    out.assert_failure(2, "SignatureDoesNotMatch");
    assert!(out.stderr.contains("check the access key secret"));
    assert!(!out.stderr.contains("not-the-secret"));
}

#[test]
fn unknown_access_key() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let out = ws.run_sim_env(
        &sim,
        &ws.ini(""),
        &[],
        &[("ALICLOUD_ACCESS_KEY", "LTAInobody")],
    );
    out.assert_failure(2, "InvalidAccessKeyId.NotFound");
}

#[test]
fn no_credentials() {
    let ws = Workspace::new();
    let out = ws.run(&["--config", ws.ini("").to_str().unwrap()], &[]);
    out.assert_failure(2, "no Alibaba Cloud credentials found");
    assert!(out.stderr.contains("ALICLOUD_ACCESS_KEY"));
    assert!(out.stderr.contains("[credentials] section of alicloud.ini"));
    // A YAML config is pointed to its own keys, not to an ini it does not have.
    let yml = ws.path("prod.alicloud.yml");
    std::fs::write(&yml, "plugin: alicloud_ecs\n").unwrap();
    let out = ws.run(&["--config", yml.to_str().unwrap()], &[]);
    out.assert_failure(
        2,
        "alicloud_access_key and alicloud_secret_key in the YAML file",
    );
    assert!(!out.stderr.contains("alicloud.ini"), "{}", out.stderr);
}

#[test]
fn throttling_that_clears_succeeds() {
    let sim = Sim::fixture_fleet(&["--throttle-first", "3"]);
    let ws = Workspace::new();
    let out = ws.run_sim(&sim, &ws.ini("throttle_window = 0.5"), &[]);
    out.assert_success();
    assert_eq!(hosts_of(&out.json()).len(), 8);
    assert_eq!(sim.stats()["throttled"], 3);
}

#[test]
fn throttling_that_never_clears_fails() {
    let sim = Sim::fixture_fleet(&["--fault", "cn-shanghai:throttle"]);
    let ws = Workspace::new();
    let ini = ws.ini("max_retries = 2\nthrottle_window = 0.5\nthrottle_wait = 1");
    let out = ws.run_sim(&sim, &ini, &[]);
    out.assert_failure(1, "region cn-shanghai: Throttling.User");
    assert!(
        out.stderr.contains("DescribeInstances still throttled")
            && out.stderr.contains("raise throttle_wait"),
        "{}",
        out.stderr
    );
    let tries = sim
        .requests()
        .iter()
        .filter(|r| r["region"] == "cn-shanghai")
        .count();
    // One call per window: the first, then one after each of the holds that fit in 1 s.
    assert!((2..=4).contains(&tries), "{tries} tries");
}

#[test]
fn failing_region_keeps_the_old_cache() {
    let ws = Workspace::new();
    let ini = ws.ini("");
    {
        let sim = Sim::fixture_fleet(&[]);
        ws.run_sim(&sim, &ini, &[]).assert_success();
    }
    let files = ws.cache_files();
    assert_eq!(files.len(), 1);
    let before = std::fs::read(&files[0]).unwrap();
    let sim = Sim::fixture_fleet(&["--fault", "ap-southeast-1:forbidden"]);
    let out = ws.run_sim(&sim, &ini, &["--refresh-cache"]);
    out.assert_failure(1, "region ap-southeast-1: Forbidden.RAM");
    assert!(out.stderr.contains("regions_exclude"));
    assert_eq!(ws.cache_files(), files, "no temp file left behind");
    assert_eq!(
        std::fs::read(&files[0]).unwrap(),
        before,
        "the previous cache is intact"
    );
}

#[test]
fn hanging_region_fails_within_timeout_times_tries() {
    let sim = Sim::fixture_fleet(&["--fault", "cn-hangzhou:hang"]);
    let ws = Workspace::new();
    let started = std::time::Instant::now();
    let out = ws.run_sim(&sim, &ws.ini("timeout = 1\nmax_retries = 1"), &[]);
    let elapsed = started.elapsed();
    out.assert_failure(1, "region cn-hangzhou: timed out");
    // Two tries of one second each, plus at most one backoff; far below the default 60 s.
    assert!(elapsed.as_secs_f64() < 5.0, "took {elapsed:?}");
}

#[test]
fn malformed_body() {
    for kind in ["truncated", "wrong-shape"] {
        let sim = Sim::fixture_fleet(&["--fault", &format!("cn-shanghai:{kind}")]);
        let ws = Workspace::new();
        let out = ws.run_sim(&sim, &ws.ini(""), &[]);
        out.assert_failure(1, "region cn-shanghai: MalformedResponse");
    }
}

/// A configuration error: exit 2 before any request (the keys are never used).
fn assert_bad_config(ecs: &str, needle: &str) {
    let ws = Workspace::new();
    let ini = ws.ini(ecs);
    let keys = [("ALICLOUD_ACCESS_KEY", "k"), ("ALICLOUD_SECRET_KEY", "s")];
    ws.run(&["--config", ini.to_str().unwrap()], &keys)
        .assert_failure(2, needle);
}

#[test]
fn bad_ini_value() {
    assert_bad_config(
        "nested_groups = maybe",
        ":3: option 'nested_groups': 'maybe' is not a boolean",
    );
}

#[test]
fn bad_regex() {
    assert_bad_config(
        "pattern_include = web[0-9",
        "option 'pattern_include': bad regular expression",
    );
}

#[test]
fn missing_config_file() {
    let ws = Workspace::new();
    let out = ws.run(&["--config", "/nonexistent/alicloud.ini"], &[]);
    out.assert_failure(2, "/nonexistent/alicloud.ini does not exist");
    let out = ws.run(&[], &[("ALICLOUD_INI_PATH", "~/nope.ini")]);
    out.assert_failure(2, "nope.ini does not exist");
}

#[test]
fn unknown_option_warns_but_succeeds() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let out = ws.run_sim(&sim, &ws.ini("nested_group = True"), &[]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("unknown option 'nested_group'")
            && out.stderr.contains("did you mean 'nested_groups'")
    );
    assert!(out.json()["alicloud"]["hosts"].as_array().unwrap().len() == 8);
}

#[test]
fn verbose_goes_to_stderr_only_when_asked() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let out = ws.run_sim(&sim, &ws.ini(""), &["-v"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stderr.contains("listed 10 instances in 3 regions:"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(harness::SECRET));
    out.json();
    // One region is "1 region".
    let one = ws.run_sim(
        &sim,
        &ws.ini("regions = cn-shanghai"),
        &["-v", "--refresh-cache"],
    );
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert!(one.stderr.contains(" in 1 region:"), "{}", one.stderr);
}

/// The documented example is a valid ini with every option, and gives the default inventory.
#[test]
fn example_ini_is_complete_and_valid() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("alicloud.ini.example"))
            .unwrap();
    for opt in alicloud_inventory::config::ECS_OPTIONS
        .iter()
        .chain(alicloud_inventory::config::CREDENTIAL_OPTIONS)
    {
        assert!(
            text.contains(&format!("\n{opt} =")) || text.contains(&format!("# {opt} =")),
            "{opt} is not documented"
        );
    }
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.path("example.ini");
    std::fs::write(
        &ini,
        text.replace(
            "[ecs]\n",
            &format!("[ecs]\ncache_path = {}\n", ws.cache_dir().display()),
        ),
    )
    .unwrap();
    let out = ws.run_sim(&sim, &ini, &[]);
    out.assert_success();
    let want: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("golden/default.json")).unwrap())
            .unwrap();
    assert_eq!(out.json(), want);
}
