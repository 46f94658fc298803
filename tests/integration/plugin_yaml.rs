//! A YAML config means what the alicloud_ecs plugin makes of it (docs/DESIGN.md, "Two formats,
//! two peers"), and its filters what aws_ec2's users expect of lists, `include_filters` and
//! `exclude_filters`. The expected hosts come from the fixture fleet (fixtures/fleet.json).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::harness::{Output, Sim, Workspace};

fn run(ws: &Workspace, sim: &Sim, body: &str) -> Output {
    let path: PathBuf = ws.path("prod.alicloud.yml");
    let text = format!(
        "plugin: alibaba.alicloud.alicloud_ecs\ncache: false\ncache_connection: {}\n{body}\n",
        ws.cache_dir().display()
    );
    std::fs::write(&path, text).expect("write yml");
    ws.run_sim(sim, &path, &["--list"])
}

fn names(list: &Value) -> BTreeSet<String> {
    list["_meta"]["hostvars"]
        .as_object()
        .expect("hostvars")
        .keys()
        .cloned()
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const ALL_IDS: [&str; 14] = [
    "i-bp1aaaaaaaaaaaaaaa01",
    "i-bp1aaaaaaaaaaaaaaa02",
    "i-bp1aaaaaaaaaaaaaaa03",
    "i-bp1aaaaaaaaaaaaaaa04",
    "i-bp1aaaaaaaaaaaaaaa05",
    "i-bp1aaaaaaaaaaaaaaa06",
    "i-bp1aaaaaaaaaaaaaaa07",
    "i-uf6bbbbbbbbbbbbbbb08",
    "i-uf6bbbbbbbbbbbbbbb09",
    "i-uf6bbbbbbbbbbbbbbb10",
    "i-uf6bbbbbbbbbbbbbbb11",
    "i-uf6bbbbbbbbbbbbbbb12",
    "i-t4nccccccccccccccc13",
    "i-t4nccccccccccccccc14",
];

/// Every state, no address needed, hosts named by their instance id as it is, and no group
/// but `alicloud`: the plugin's inventory of this fleet. The ini's defaults gave 8 hosts
/// named `i_…` in about 60 groups.
#[test]
fn a_plain_yaml_lists_what_the_plugin_lists() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let out = run(&ws, &sim, "");
    out.assert_success();
    let list = out.json();
    assert_eq!(names(&list), set(&ALL_IDS));
    let groups: BTreeSet<&str> = list
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(groups, BTreeSet::from(["_meta", "alicloud"]));
    assert_eq!(list["alicloud"]["hosts"].as_array().unwrap().len(), 14);
    // Pending and without an address: listed, with no ansible_host to mislead.
    let pending = &list["_meta"]["hostvars"]["i-bp1aaaaaaaaaaaaaaa07"];
    assert_eq!(pending["status"], "pending");
    assert!(pending.get("ansible_host").is_none(), "{pending}");
    let web = &list["_meta"]["hostvars"]["i-bp1aaaaaaaaaaaaaaa01"];
    assert_eq!(web["ansible_host"], "47.96.10.11");
}

/// The options that narrow still narrow: alicloud.py's defaults, asked for by name, give its
/// 8 running hosts with an address.
#[test]
fn options_that_narrow_still_narrow() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let out = run(
        &ws,
        &sim,
        "instance_states: [running]\ndestination_variable: [public_ip_address]\ngroup_by_region: true",
    );
    out.assert_success();
    let list = out.json();
    assert_eq!(
        names(&list),
        set(&[
            "i-bp1aaaaaaaaaaaaaaa01",
            "i-bp1aaaaaaaaaaaaaaa02",
            "i-bp1aaaaaaaaaaaaaaa04",
            "i-bp1aaaaaaaaaaaaaaa06",
            "i-uf6bbbbbbbbbbbbbbb08",
            "i-uf6bbbbbbbbbbbbbbb09",
            "i-uf6bbbbbbbbbbbbbbb10",
            "i-t4nccccccccccccccc13",
        ])
    );
    assert_eq!(list["cn_shanghai"]["hosts"].as_array().unwrap().len(), 3);
}

/// The plugin's hostnames: the first entry with a value, as it is; `K_V` for `tag:K=V`; a
/// name holding `:` sanitized; an instance no entry names falls back to its address, then
/// its id (the plugin drops it).
#[test]
fn hostnames_follow_the_plugin() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let out = run(
        &ws,
        &sim,
        "regions: [cn-hangzhou]\nhostnames: ['tag:role=db', 'tag:app:tier.v1 x', public_ip_address]",
    );
    out.assert_success();
    let list = out.json();
    assert_eq!(
        names(&list),
        set(&[
            "role_db",
            // `front end: v1.2` holds `:`: Ansible's group sanitization.
            "front_end__v1_2",
            "47.96.10.11",
            "47.96.10.13",
            "47.96.10.16",
            // The gateway's public_ip_address is its EIP, as footmark reads it.
            "47.98.20.4",
            // No entry and no address: the pending one keeps its id.
            "i-bp1aaaaaaaaaaaaaaa07",
        ])
    );
}

/// `tags` in expressions reads the tags (the hostvar stays `ecs_tags`), and
/// `use_contrib_script_compatible_sanitization` names constructed groups with the plugins'
/// regex (dashes kept).
#[test]
fn tags_in_expressions_and_contrib_group_names() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let body = "regions: [cn-hangzhou]\ncompose:\n  env: tags.env\n\
                keyed_groups:\n  - key: tags.role\n    prefix: role\n  - key: instance_name\n    prefix: name\n\
                groups:\n  prod: tags.env == 'prod'\n";
    let out = run(&ws, &sim, body);
    out.assert_success();
    let list = out.json();
    let hv = &list["_meta"]["hostvars"];
    assert_eq!(hv["i-bp1aaaaaaaaaaaaaaa01"]["env"], "prod");
    assert!(hv["i-bp1aaaaaaaaaaaaaaa01"].get("tags").is_none());
    assert_eq!(hv["i-bp1aaaaaaaaaaaaaaa01"]["ecs_tags"]["role"], "web");
    assert_eq!(
        list["prod"]["hosts"],
        json!([
            "i-bp1aaaaaaaaaaaaaaa01",
            "i-bp1aaaaaaaaaaaaaaa02",
            "i-bp1aaaaaaaaaaaaaaa04"
        ])
    );
    assert_eq!(list["role_db"]["hosts"], json!(["i-bp1aaaaaaaaaaaaaaa03"]));
    assert!(
        list.get("name_web_01").is_some(),
        "Ansible's rule by default"
    );

    let out = run(
        &ws,
        &sim,
        &format!("{body}use_contrib_script_compatible_sanitization: true\n"),
    );
    out.assert_success();
    let list = out.json();
    assert_eq!(
        list["name_web-01"]["hosts"],
        json!(["i-bp1aaaaaaaaaaaaaaa01"])
    );
    assert!(list.get("name_web_01").is_none());
    assert_eq!(
        list["name_launch-in-progress"]["hosts"],
        json!(["i-bp1aaaaaaaaaaaaaaa07"])
    );
}

/// The hosts of a filters body, and the DescribeInstances requests it cost.
fn filtered(body: &str) -> (BTreeSet<String>, Vec<Value>) {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let out = run(&ws, &sim, body);
    out.assert_success();
    let reqs = sim
        .requests()
        .into_iter()
        .filter(|r| r["action"] == "DescribeInstances")
        .collect();
    (names(&out.json()), reqs)
}

/// A status filter replaces the every-state default (it was intersected with `running`, which
/// gave nothing), and footmark's `tags` mapping is a tag filter.
#[test]
fn status_and_footmark_tags_filters() {
    let (hosts, _) = filtered("filters: {status: Stopped}");
    assert_eq!(hosts, set(&["i-bp1aaaaaaaaaaaaaaa05"]));
    let (hosts, reqs) = filtered("filters:\n  tags: {env: staging}");
    assert_eq!(
        hosts,
        set(&["i-bp1aaaaaaaaaaaaaaa05", "i-t4nccccccccccccccc14"])
    );
    assert!(reqs
        .iter()
        .all(|r| r["params"]["Tag.1.Key"] == "env" && r["params"]["Tag.1.Value"] == "staging"));
    // Where states are kept (an ini's running default, or asked for), a status outside them
    // listed nothing with exit 0: now refused, naming the fix.
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let out = ws.run_sim(&sim, &ws.ini("instance_filters = status=Stopped"), &[]);
    out.assert_failure(
        2,
        "option 'instance_filters': the status filter Stopped keeps only instances that instance_states (running) leaves out, so nothing would be listed; set all_instances to true, or add stopped to instance_states",
    );
    let out = run(
        &ws,
        &sim,
        "instance_states: [running]\nfilters: {status: Stopped}",
    );
    out.assert_failure(2, "the status filter Stopped keeps only instances");
    assert_eq!(sim.api_requests(), 0);
}

/// A list is any of its values, in the fewest requests: the ids in one JSON array, the types
/// one listing each.
#[test]
fn list_values_are_ored() {
    let (hosts, reqs) =
        filtered("regions: [cn-hangzhou, cn-shanghai]\nfilters: {instance_type: [ecs.r6.large, ecs.c6.xlarge]}");
    assert_eq!(
        hosts,
        set(&["i-bp1aaaaaaaaaaaaaaa03", "i-uf6bbbbbbbbbbbbbbb08"])
    );
    assert_eq!(reqs.len(), 4, "two regions, two types: {reqs:?}");
    let (hosts, reqs) = filtered(
        "regions: [cn-hangzhou]\nfilters: {instance_ids: [i-bp1aaaaaaaaaaaaaaa01, i-bp1aaaaaaaaaaaaaaa05]}",
    );
    assert_eq!(
        hosts,
        set(&["i-bp1aaaaaaaaaaaaaaa01", "i-bp1aaaaaaaaaaaaaaa05"])
    );
    assert_eq!(reqs.len(), 1);
    let (hosts, _) = filtered("filters: {'tag:env': [staging, dev]}");
    assert_eq!(
        hosts,
        set(&[
            "i-bp1aaaaaaaaaaaaaaa05",
            "i-t4nccccccccccccccc14",
            "i-uf6bbbbbbbbbbbbbbb09",
            "i-uf6bbbbbbbbbbbbbbb11",
        ])
    );
}

/// aws_ec2's include_filters and exclude_filters: `filters` or any include entry, less any
/// exclude entry; each entry is its own listing.
#[test]
fn include_and_exclude_filters() {
    let (hosts, reqs) = filtered(
        "regions: [cn-hangzhou, ap-southeast-1]\nfilters:\n  tags: {role: db}\ninclude_filters:\n  - tags: {role: cache}\n",
    );
    assert_eq!(
        hosts,
        set(&["i-bp1aaaaaaaaaaaaaaa03", "i-t4nccccccccccccccc14"])
    );
    assert_eq!(reqs.len(), 4);
    let (hosts, _) = filtered("exclude_filters:\n  - {status: Stopped}\n  - tags: {env: prod}\n");
    let want: BTreeSet<String> = set(&[
        "i-bp1aaaaaaaaaaaaaaa03",
        "i-bp1aaaaaaaaaaaaaaa06",
        "i-bp1aaaaaaaaaaaaaaa07",
        "i-uf6bbbbbbbbbbbbbbb09",
        "i-uf6bbbbbbbbbbbbbbb11",
        "i-uf6bbbbbbbbbbbbbbb12",
        "i-t4nccccccccccccccc14",
    ]);
    assert_eq!(hosts, want);
    // Only include_filters: `filters` unset lists only what they match.
    let (hosts, _) = filtered("include_filters:\n  - {instance_type: ecs.r6.large}\n");
    assert_eq!(hosts, set(&["i-bp1aaaaaaaaaaaaaaa03"]));
}

/// aws_ec2's strict_permissions: by default a region that refuses fails the run; when false it
/// is left out with one warning, and the others are listed.
#[test]
fn strict_permissions_false_leaves_a_refusing_region_out() {
    let sim = Sim::fixture_fleet(&["--fault", "cn-shanghai:forbidden"]);
    let ws = Workspace::new();
    let out = run(&ws, &sim, "regions: [cn-hangzhou, cn-shanghai]");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("Forbidden.RAM"), "{}", out.stderr);
    let out = run(
        &ws,
        &sim,
        "regions: [cn-hangzhou, cn-shanghai]\nstrict_permissions: false",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("region cn-shanghai left out (strict_permissions is false)"),
        "{}",
        out.stderr
    );
    let hosts = names(&out.json());
    assert_eq!(hosts.len(), 7);
    assert!(hosts.iter().all(|h| h.starts_with("i-bp1")), "{hosts:?}");
}

/// aws_ec2's hostvars_prefix and hostvars_suffix: around the API's hostvars, not composed ones
/// or ansible_*; expressions read the new names.
#[test]
fn hostvars_prefix_and_suffix() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let out = run(
        &ws,
        &sim,
        "regions: [cn-shanghai]\nhostvars_prefix: ecs_\nhostvars_suffix: _v\n\
         compose:\n  kind: ecs_instance_type_v\n  raw: instance_type | default('none')\n",
    );
    out.assert_success();
    let list = out.json();
    let hv = &list["_meta"]["hostvars"]["i-uf6bbbbbbbbbbbbbbb08"];
    assert_eq!(hv["ecs_instance_type_v"], "ecs.c6.xlarge");
    assert_eq!(hv["ecs_ecs_tags_v"]["env"], "prod");
    assert!(hv.get("instance_type").is_none(), "{hv}");
    assert_eq!(hv["kind"], "ecs.c6.xlarge");
    assert_eq!(hv["raw"], "none", "the old name reads nothing");
    assert_eq!(hv["ansible_host"], "47.100.3.8");
}

/// aws_ec2's `{name, prefix, separator}` entries (a word that is no hostvar is itself), and
/// entries holding `{{ }}`, rendered per host by the engine of compose.
#[test]
fn hostnames_mappings_and_templates() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let out = run(
        &ws,
        &sim,
        "regions: [cn-shanghai]\nhostnames:\n  - name: 'tag:Name'\n    prefix: ecs\n    separator: '-'\n",
    );
    out.assert_success();
    assert_eq!(
        names(&out.json()),
        set(&[
            "ecs-1st-batch",
            "ecs-isolated",
            "ecs-legacy-01",
            "ecs-trainer",
            "ecs-web-01",
        ])
    );
    let out = run(
        &ws,
        &sim,
        "regions: [cn-shanghai]\nhostnames:\n  - \"{{ tags.role | default('') }}\"\n  - \"{{ instance_name | upper }}.{{ zone_id }}\"\n",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 2, "{}", out.stderr);
    let list = out.json();
    let hosts = names(&list);
    // Three hosts share role web, two worker: kept apart by their ids, with a warning each.
    assert!(hosts.contains("ISOLATED.cn-shanghai-b"), "{hosts:?}");
    assert!(hosts.contains("web_i-uf6bbbbbbbbbbbbbbb08"), "{hosts:?}");
    assert_eq!(hosts.len(), 5, "{hosts:?}");
    let e = run(&ws, &sim, "hostnames: ['{{ instance_id | upper(']");
    assert_eq!(e.code, 2, "{}", e.stderr);
    assert!(e.stdout.is_empty());
    // A filter that is not supported is refused at load, in a hostnames template as in compose.
    let e = run(&ws, &sim, "hostnames: ['{{ instance_id | random }}']");
    e.assert_failure(2, "filter 'random' is not supported here");
}
