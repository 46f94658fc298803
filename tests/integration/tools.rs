//! The operator's tools: `--graph [GROUP]` (byte for byte what `ansible-inventory --graph`
//! prints, from the cache), `--pretty` and `--check` (docs/DESIGN.md, "Command line").

use std::path::Path;

use serde_json::json;

use crate::harness::{fixture, leaks, Output, Sim, Workspace, KEY, SECRET};

/// `ansible-inventory --graph` output recorded with ansible-core 2.19 (fixtures/graph/README.md).
fn recorded(name: &str) -> String {
    std::fs::read_to_string(fixture(&format!("graph/{name}.txt"))).expect("recorded graph")
}

/// The API and metadata requests the simulator has served so far.
fn calls(sim: &Sim) -> (u64, u64) {
    let st = sim.stats();
    (
        st["requests"].as_u64().expect("requests"),
        st["metadata_requests"].as_u64().expect("metadata_requests"),
    )
}

/// Runs `--graph ARGS` on a warm cache: same bytes as the recording, and no request at all.
fn assert_graph(fleet: &str, ecs: &str, args: &[&str], want: &str) {
    let sim = Sim::start(&fixture(fleet), &[]);
    let ws = Workspace::new();
    let ini = ws.ini(ecs);
    ws.run_sim(&sim, &ini, &["--list"]).assert_success();
    let before = calls(&sim);
    let mut all = vec!["--graph"];
    all.extend_from_slice(args);
    let out = ws.run_sim(&sim, &ini, &all);
    out.assert_success();
    assert_eq!(calls(&sim), before, "--graph on a warm cache calls nothing");
    assert!(
        out.stdout == recorded(want),
        "--graph {args:?} differs from fixtures/graph/{want}.txt:\n{}",
        out.stdout
    );
}

#[test]
fn graph_is_what_ansible_inventory_draws() {
    assert_graph("fleet.json", "", &[], "default");
}

#[test]
fn graph_with_nested_groups_is_what_ansible_inventory_draws() {
    assert_graph("fleet.json", "nested_groups = True", &[], "nested_groups");
    assert_graph(
        "fleet.json",
        "nested_groups = True",
        &["tags"],
        "nested_groups-tags",
    );
}

#[test]
fn graph_of_unicode_names_and_every_state_is_what_ansible_inventory_draws() {
    assert_graph(
        "fleet_full.json",
        "nested_groups = True\nall_instances = True\nhostname_variable = tag_Name",
        &[],
        "full_nested_by_name",
    );
}

#[test]
fn graph_of_one_group_and_of_all() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("");
    let list = ws.run_sim(&sim, &ini, &["--list"]).json();
    let all = ws.run_sim(&sim, &ini, &["--graph", "all"]);
    all.assert_success();
    assert_eq!(all.stdout, recorded("default"), "--graph all is --graph");
    // A group's subtree: its line, then its hosts one level down, as --list has them.
    let out = ws.run_sim(&sim, &ini, &["--graph=cn_hangzhou"]);
    out.assert_success();
    let hosts: Vec<&str> = list["cn_hangzhou"]["hosts"]
        .as_array()
        .expect("cn_hangzhou hosts")
        .iter()
        .map(|h| h.as_str().expect("name"))
        .collect();
    assert!(!hosts.is_empty());
    let want: String = std::iter::once("@cn_hangzhou:".to_string())
        .chain(hosts.iter().map(|h| format!("  |--{h}")))
        .map(|l| l + "\n")
        .collect();
    assert_eq!(out.stdout, want);
    // Ansible's implicit group is there too, empty: every host is in `alicloud`.
    let out = ws.run_sim(&sim, &ini, &["--graph", "ungrouped"]);
    out.assert_success();
    assert_eq!(out.stdout, "@ungrouped:\n");
}

#[test]
fn graph_of_an_unknown_group_is_exit_2_and_one_line() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("");
    ws.run_sim(&sim, &ini, &["--list"]).assert_success();
    let before = calls(&sim);
    let out = ws.run_sim(&sim, &ini, &["--graph", "no_such_group"]);
    out.assert_failure(2, "no group 'no_such_group'");
    assert_eq!(calls(&sim), before, "answered from the warm cache");
}

#[test]
fn graph_on_a_cold_cache_fetches_once_and_fills_the_cache() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("");
    let out = ws.run_sim(&sim, &ini, &["--graph"]);
    out.assert_success();
    assert_eq!(out.stdout, recorded("default"));
    assert!(sim.api_requests() > 0, "a cold --graph calls the API");
    let before = calls(&sim);
    let list = ws.run_sim(&sim, &ini, &["--list"]);
    list.assert_success();
    assert_eq!(calls(&sim), before, "--list is then served from the cache");
    // --refresh-cache with --graph calls the API again and draws the same tree.
    let again = ws.run_sim(&sim, &ini, &["--graph", "--refresh-cache"]);
    again.assert_success();
    assert!(calls(&sim).0 > before.0);
    assert_eq!(again.stdout, out.stdout);
}

/// `--pretty` output: the same value as the compact one, four-space indents, sorted keys.
fn assert_pretty_of(pretty: &Output, plain: &Output) {
    pretty.assert_success();
    plain.assert_success();
    assert_eq!(pretty.json(), plain.json(), "the same data");
    assert_ne!(pretty.stdout, plain.stdout);
    let lines: Vec<&str> = pretty.stdout.lines().collect();
    assert!(lines.len() > 10, "{}", pretty.stdout);
    assert_eq!(lines[0], "{");
    assert!(lines[1].starts_with("    \""), "{}", lines[1]);
    assert!(pretty.stdout.ends_with("}\n"));
    // Python's json.dumps(sort_keys=True, indent=4) lays it out the same way.
    let mut want = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut want, fmt);
    serde::Serialize::serialize(&plain.json(), &mut ser).unwrap();
    assert_eq!(pretty.stdout, String::from_utf8(want).unwrap() + "\n");
}

#[test]
fn pretty_list_and_host_are_the_same_data_indented() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("");
    let plain = ws.run_sim(&sim, &ini, &["--list"]);
    let pretty = ws.run_sim(&sim, &ini, &["--list", "--pretty"]);
    assert_pretty_of(&pretty, &plain);
    // Keys sorted at every level: `_meta` sorts among the groups as in the compact output.
    let keys: Vec<&str> = pretty
        .stdout
        .lines()
        .filter(|l| l.starts_with("    \"") && !l.starts_with("     "))
        .map(|l| l.trim().split('"').nth(1).expect("a key"))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(keys, sorted);
    assert!(keys.contains(&"_meta") && keys.contains(&"alicloud"));
    // --pretty alone is --list --pretty, as no arguments is --list.
    let alone = ws.run_sim(&sim, &ini, &["--pretty"]);
    assert_eq!(alone.stdout, pretty.stdout);

    let host = plain.json()["alicloud"]["hosts"][0]
        .as_str()
        .expect("a host")
        .to_string();
    let plain_host = ws.run_sim(&sim, &ini, &["--host", &host]);
    let pretty_host = ws.run_sim(&sim, &ini, &["--host", &host, "--pretty"]);
    assert_pretty_of(&pretty_host, &plain_host);
    assert_eq!(
        pretty_host.json(),
        plain.json()["_meta"]["hostvars"][&host],
        "--host --pretty is the host's entry of --list"
    );
    let unknown = ws.run_sim(&sim, &ini, &["--host", "i_no_such_host", "--pretty"]);
    unknown.assert_success();
    assert_eq!(unknown.stdout, "{}\n");
}

#[test]
fn tools_refuse_to_be_combined_with_what_they_cannot_show() {
    let ws = Workspace::new();
    for args in [
        &["--graph", "--host", "x"][..],
        &["--graph", "--list"],
        &["--graph", "--pretty"],
        &["--check", "--list"],
        &["--check", "--host", "x"],
        &["--check", "--graph"],
        &["--check", "--refresh-cache"],
    ] {
        let out = ws.run(args, &[]);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
        // Clap names the option that cannot be combined.
        assert!(out.stderr.contains(args[0]), "{args:?}: {}", out.stderr);
    }
}

/// The summary's value for `label` (`label:` at the start of a line).
fn row<'a>(summary: &'a str, label: &str) -> &'a str {
    summary
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{label}:")))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no '{label}:' line in:\n{summary}"))
}

#[test]
fn check_summarises_a_valid_config_without_any_request() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini(
        "regions = cn-hangzhou, cn-shanghai\nnested_groups = True\ngroup_by_os_type = yes\n\
         cache_max_age = 600\ninstance_filters = vpc_id=vpc-1",
    );
    let out = ws.run_sim(&sim, &ini, &["--check"]);
    out.assert_success();
    let s = &out.stdout;
    assert!(
        s.starts_with("alicloud_inventory --check: the configuration is valid (checked without"),
        "{s}"
    );
    assert_eq!(row(s, "config"), ini.display().to_string());
    assert_eq!(row(s, "credentials"), "environment access key");
    assert_eq!(row(s, "regions"), "cn-hangzhou, cn-shanghai");
    assert_eq!(row(s, "instances"), "state running; filters VpcId=vpc-1");
    let groups = row(s, "groups");
    assert!(
        groups.starts_with("alicloud, instance_id, region,")
            && groups.contains("os_type")
            && !groups.contains("key_pair")
            && groups
                .ends_with("nested_groups on, replace_dash_in_groups on, ascii_group_names off"),
        "{groups}"
    );
    assert_eq!(row(s, "constructed"), "none");
    assert_eq!(
        row(s, "hosts"),
        "named by instance_id, else their address, reached at public_ip_address"
    );
    let cache = row(s, "cache");
    assert!(
        cache.starts_with(&ws.cache_dir().display().to_string())
            && cache.ends_with("none yet (the next run calls the API; cache_max_age 600 s)"),
        "{cache}"
    );
    assert_eq!(row(s, "warnings"), "none");
    assert!(!leaks(s, SECRET) && !leaks(s, KEY), "{s}");
    assert_eq!(calls(&sim), (0, 0), "--check calls no API");
    assert!(
        ws.cache_files().is_empty(),
        "--check writes no cache: {:?}",
        ws.cache_files()
    );

    // After a run, the cache line names the file that run wrote, and its age.
    ws.run_sim(&sim, &ini, &["--list"]).assert_success();
    let before = calls(&sim);
    let out = ws.run_sim(&sim, &ini, &["--check"]);
    out.assert_success();
    let cache = row(&out.stdout, "cache");
    let file = &ws.cache_files()[0];
    assert!(
        cache.starts_with(&format!("{}: written ", file.display()))
            && cache.contains(" s ago, fresh for ")
            && cache.ends_with("more (cache_max_age 600 s)"),
        "{cache}"
    );
    assert_eq!(calls(&sim), before);
}

/// The naming rule in force, whichever option sets it (it always said "instance_id" before).
#[test]
fn check_names_the_hostnames_rule_in_force() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("hostname_variable = tag_Name");
    let out = ws.run_sim(&sim, &ini, &["--check"]);
    out.assert_success();
    assert_eq!(
        row(&out.stdout, "hosts"),
        "named by tag_Name, else their address, reached at public_ip_address"
    );
    let yml = ws.path("prod.alicloud.yml");
    std::fs::write(
        &yml,
        format!(
            "plugin: alicloud_ecs\ncache_connection: {}\nhostnames: [tag:Name, {{tags: 'env,role=web'}}, instance_id]\n",
            ws.cache_dir().display()
        ),
    )
    .unwrap();
    let out = ws.run_sim(&sim, &yml, &["--check"]);
    out.assert_success();
    assert!(
        row(&out.stdout, "hosts").starts_with(
            "named by the first of tag:Name, tag:env,role=web, instance_id with a value, else their address, else their instance id, reached at "
        ),
        "{}",
        out.stdout
    );
    assert_eq!(calls(&sim), (0, 0));
}

/// A cache_path under a regular file: `--check` said the next run would rebuild the cache, which
/// no run can write; it now says so, and what to do.
#[test]
fn check_says_when_no_cache_can_be_written() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let file = ws.path("a-file");
    std::fs::write(&file, "x").unwrap();
    let ini = ws.path("alicloud.ini");
    std::fs::write(
        &ini,
        format!("[ecs]\ncache_path = {}\n", file.join("cache").display()),
    )
    .unwrap();
    let out = ws.run_sim(&sim, &ini, &["--check"]);
    out.assert_success();
    let cache = row(&out.stdout, "cache");
    assert!(
        cache.starts_with(&format!("{} is a file, not a directory", file.display()))
            && cache.ends_with(
                "no cache can be written there, so every run calls the API (set cache_path to a directory)"
            ),
        "{cache}"
    );
}

#[test]
fn check_lists_the_constructed_entries_and_refuses_a_bad_one() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini(
        "compose = {cores: cpu, env: \"ecs_tags.env | default('none')\"}\n\
         groups = {big: \"cpu >= 8\"}\n\
         keyed_groups = [{key: zone_id, prefix: zone}, {key: ecs_tags, prefix: tag}]\n\
         hostvars = instance_id, region*",
    );
    let out = ws.run_sim(&sim, &ini, &["--check"]);
    out.assert_success();
    assert_eq!(
        row(&out.stdout, "constructed"),
        "compose cores, env; groups big; 2 keyed_groups; strict false, leading_separator true; \
         hostvars instance_id, region*"
    );
    assert_eq!(calls(&sim), (0, 0), "--check calls no API");

    // A Jinja syntax error: the line a run fails with, naming the entry.
    let bad = ws.ini_named("bad.ini", "groups = {big: \"cpu >=\"}");
    let out = ws.run_sim(&sim, &bad, &["--check"]);
    out.assert_failure(2, "groups.big");
    assert_eq!(calls(&sim), (0, 0));
}

#[test]
fn check_names_each_credential_source_by_kind_and_contacts_none() {
    const ROLE_ARN: &str = "acs:ram::1234567890123456:role/inventory-reader";
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let endpoints = [
        ("ALICLOUD_ECS_ENDPOINT", sim.url.as_str()),
        ("ALICLOUD_STS_ENDPOINT", sim.url.as_str()),
        ("ALICLOUD_METADATA_ENDPOINT", sim.url.as_str()),
    ];
    let check = |ini: &Path, env: &[(&str, &str)]| {
        let mut all = endpoints.to_vec();
        all.extend_from_slice(env);
        let out = ws.run(&["--config", ini.to_str().unwrap(), "--check"], &all);
        out.assert_success();
        for secret in [SECRET, "ini-secret-3f9a7c2e11", "profile-secret-8d41b07a"] {
            assert!(!leaks(&out.stdout, secret), "{}", out.stdout);
        }
        row(&out.stdout, "credentials").to_string()
    };
    let plain = ws.ini("");

    let ecs_role = check(&plain, &[("ALICLOUD_ECS_ROLE_NAME", "inventory-node")]);
    assert_eq!(
        ecs_role,
        format!(
            "ECS RAM role 'inventory-node' (ALICLOUD_ECS_ROLE_NAME; metadata service {}, not contacted)",
            sim.url
        )
    );

    let assumed = check(
        &plain,
        &[
            ("ALICLOUD_ACCESS_KEY", KEY),
            ("ALICLOUD_SECRET_KEY", SECRET),
            ("ALICLOUD_ASSUME_ROLE_ARN", ROLE_ARN),
        ],
    );
    assert!(
        assumed.starts_with(&format!("STS AssumeRole {ROLE_ARN} ("))
            && assumed.contains(
                "session 'alicloud_inventory', 3600 s; not called) with environment access key"
            ),
        "{assumed}"
    );

    let in_ini = ws.ini_named(
        "keys.ini",
        "[credentials]\nalicloud_access_key = LTAIini\nalicloud_secret_key = ini-secret-3f9a7c2e11",
    );
    std::fs::set_permissions(&in_ini, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    assert_eq!(check(&in_ini, &[]), "access key in the ini");

    let profiles = ws.path("profiles.json");
    let doc = json!({"current": "dev", "profiles": [{
        "name": "dev", "mode": "AK", "access_key_id": "LTAIprofile",
        "access_key_secret": "profile-secret-8d41b07a"
    }]});
    std::fs::write(&profiles, doc.to_string()).unwrap();
    std::fs::set_permissions(
        &profiles,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    assert_eq!(
        check(
            &plain,
            &[
                ("ALICLOUD_PROFILE", "dev"),
                (
                    "ALICLOUD_SHARED_CREDENTIALS_FILE",
                    profiles.to_str().unwrap()
                )
            ]
        ),
        format!(
            "aliyun CLI profile 'dev' (mode AK) in {}",
            profiles.display()
        )
    );
    assert_eq!(calls(&sim), (0, 0), "no ECS, STS or metadata request");
}

#[test]
fn check_fails_with_the_line_a_run_fails_with() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let keys = [
        ("ALICLOUD_ECS_ENDPOINT", sim.url.as_str()),
        ("ALICLOUD_ACCESS_KEY", KEY),
        ("ALICLOUD_SECRET_KEY", SECRET),
    ];
    let missing = ws.path("missing.ini");
    // What stderr must mention, the configuration, the environment.
    type Case<'a> = (&'a str, std::path::PathBuf, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "is not a boolean",
            ws.ini_named("case1.ini", "nested_groups = maybe"),
            keys.to_vec(),
        ),
        (
            "is not a whole number of seconds",
            ws.ini_named("case2.ini", "cache_max_age = soon"),
            keys.to_vec(),
        ),
        (
            "max_concurrency",
            ws.ini_named("case3.ini", "max_concurrency = 0"),
            keys.to_vec(),
        ),
        (
            "bad regular expression",
            ws.ini_named("case4.ini", "pattern_include = web["),
            keys.to_vec(),
        ),
        (
            "unknown filter key",
            ws.ini_named("case5.ini", "instance_filters = flavor=x"),
            keys.to_vec(),
        ),
        (
            "unknown instance state",
            ws.ini_named("case6.ini", "instance_states = running, sleeping"),
            keys.to_vec(),
        ),
        ("does not exist", missing, keys.to_vec()),
        (
            "ALICLOUD_SECRET_KEY is set but ALICLOUD_ACCESS_KEY is not",
            ws.ini_named("case7.ini", ""),
            vec![("ALICLOUD_SECRET_KEY", SECRET)],
        ),
        (
            "no Alibaba Cloud credentials found",
            ws.ini_named("case8.ini", ""),
            vec![],
        ),
        (
            "profile 'nobody'",
            ws.ini_named("case9.ini", ""),
            vec![("ALICLOUD_PROFILE", "nobody")],
        ),
        (
            "must be a number of seconds, 900..43200",
            ws.ini_named("case10.ini", ""),
            [
                &keys[..],
                &[
                    (
                        "ALICLOUD_ASSUME_ROLE_ARN",
                        "acs:ram::1234567890123456:role/r",
                    ),
                    ("ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION", "60"),
                ],
            ]
            .concat(),
        ),
    ];
    for (needle, ini, env) in cases {
        let config = ["--config", ini.to_str().unwrap()];
        let run = ws.run(&[&config[..], &["--list"]].concat(), &env);
        let check = ws.run(&[&config[..], &["--check"]].concat(), &env);
        assert_eq!(check.code, 2, "{needle}: {}{}", check.stdout, check.stderr);
        check.assert_failure(2, needle);
        assert_eq!(check.stderr, run.stderr, "--check fails as a run does");
        assert_eq!(run.code, 2);
        assert!(!leaks(&check.stderr, SECRET), "{}", check.stderr);
    }
    assert_eq!(calls(&sim), (0, 0));
}

#[test]
fn check_reports_warnings_as_a_run_does() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("region = all");
    let out = ws.run_sim(&sim, &ini, &["--check"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(row(&out.stdout, "warnings"), "1, on stderr");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.starts_with("alicloud_inventory: warning: ")
            && out.stderr.contains("did you mean 'regions'?"),
        "{}",
        out.stderr
    );
}

#[test]
fn demo_draws_the_tree_and_says_what_happened() {
    let ws = Workspace::new();
    let args = ["--regions", "2", "--instances", "12"];
    let fleet = ws.path("fleet.json");
    std::fs::write(
        &fleet,
        crate::harness::generate(&[&args[..], &["--seed", "2024"]].concat()),
    )
    .unwrap();
    let want = crate::inventory::expected_default_hosts(&fleet, None);
    assert!(!want.is_empty());
    let out = crate::harness::output({
        let mut cmd = crate::harness::simulator(&["demo"]);
        cmd.args(args)
            .env_clear()
            .env("HOME", ws.dir.path())
            .env("TMPDIR", ws.dir.path());
        cmd
    });
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let (tree, text) = out
        .stdout
        .split_once("\n\n")
        .expect("a tree, then a paragraph");
    assert!(
        tree.starts_with("@all:\n  |--@ungrouped:\n  |--@alicloud:\n"),
        "{tree}"
    );
    let under_alicloud: std::collections::BTreeSet<String> = tree
        .lines()
        .skip(3)
        .take_while(|l| l.starts_with("  |  |--"))
        .map(|l| l["  |  |--".len()..].to_string())
        .collect();
    assert_eq!(under_alicloud, want);
    let text = text.replace('\n', " ");
    assert!(
        text.starts_with(&format!(
            "{} hosts in {} groups, from 12 instances in 2 regions ({} are not running",
            want.len(),
            tree.lines().filter(|l| l.contains("@")).count() - 2,
            12 - want.len()
        )),
        "{text}"
    );
    for needle in [
        "with no API call",
        "ansible-inventory -i alicloud_inventory --graph",
        "ecs-simulator demo -- --list",
        "-- --list --pretty",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    // The demo cleans up after itself.
    let left: Vec<_> = std::fs::read_dir(ws.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("alicloud-inventory-demo")
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn check_reports_a_stale_or_damaged_cache() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let stale = ws.ini_named("stale.ini", "cache_max_age = 0");
    ws.run_sim(&sim, &stale, &["--list"]).assert_success();
    let out = ws.run_sim(&sim, &stale, &["--check"]);
    out.assert_success();
    let file = ws.cache_files()[0].display().to_string();
    assert_eq!(
        row(&out.stdout, "cache"),
        format!("{file}: written 0 s ago, stale (cache_max_age 0 s: the next run calls the API)")
    );

    // cache_max_age is not part of the cache's key: this is the same file, fresh.
    let fresh = ws.ini("");
    let files = ws.cache_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];
    let mut bytes = std::fs::read(file).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    std::fs::write(file, bytes).unwrap();
    let before = calls(&sim);
    let out = ws.run_sim(&sim, &fresh, &["--check"]);
    out.assert_success();
    assert_eq!(
        row(&out.stdout, "cache"),
        format!(
            "{} failed its checksum (the next run rebuilds it)",
            file.display()
        )
    );
    assert_eq!(calls(&sim), before);
}

#[test]
fn graph_and_pretty_without_a_writable_cache_and_into_a_closed_pipe() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    // A cache_path under a regular file cannot be written: the answer is printed anyway.
    let ini = ws.path("nocache.ini");
    std::fs::write(&ini, "[ecs]\ncache_path = /dev/null/cache\n").unwrap();
    let out = ws.run_sim(&sim, &ini, &["--graph"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("cannot write the cache"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, recorded("default"));
    let pretty = ws.run_sim(&sim, &ini, &["--pretty"]);
    assert_eq!(pretty.code, 0, "{}", pretty.stderr);
    let plain = ws.run_sim(&sim, &ini, &["--list"]);
    assert_eq!(pretty.json(), plain.json());

    // A reader that stops reading at once (`| head -c0`) ends the run quietly.
    let warm = ws.ini("");
    ws.run_sim(&sim, &warm, &["--list"]).assert_success();
    for args in [&["--graph"][..], &["--list", "--pretty"]] {
        let mut child = ws
            .sim_command(&sim, &warm, args, &[])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(out.stderr.is_empty(), "{args:?}: {:?}", out.stderr);
    }
}

/// `--check` names the `hostvars` patterns that match no hostvar (issue 29): against the
/// cached inventory, its only data, and says so when there is none.
#[test]
fn check_names_hostvar_patterns_that_match_nothing() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("hostvars = instnce_id, instance_*, ecs_tags");
    let out = ws.run_sim(&sim, &ini, &["--check"]);
    out.assert_success();
    assert_eq!(
        row(&out.stdout, "hostvars"),
        "instnce_id, instance_*, ecs_tags (not checked against any host: no usable cached inventory)"
    );
    let run = ws.run_sim(&sim, &ini, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let before = calls(&sim);
    let out = ws.run_sim(&sim, &ini, &["--check"]);
    out.assert_success();
    assert_eq!(
        row(&out.stdout, "hostvars"),
        "instnce_id, instance_*, ecs_tags: instnce_id matches no hostvar of the cached inventory, so it prints nothing (the names are footmark's, docs/HOSTVARS.md)"
    );
    assert_eq!(calls(&sim), before, "--check calls nothing");
    let ini = ws.ini("hostvars = instance_*");
    ws.run_sim(&sim, &ini, &[]).assert_success();
    let out = ws.run_sim(&sim, &ini, &["--check"]);
    assert_eq!(
        row(&out.stdout, "hostvars"),
        "instance_*: each matches a hostvar of the cached inventory"
    );
}
