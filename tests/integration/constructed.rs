//! Constructed groups and variables, the hostvar selection and the alicloud_ecs plugin's YAML
//! config, end to end: the real binary against the simulator's fixture fleet.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::harness::{self, Output, Sim, Workspace};
use serde_json::{json, Value};

/// A YAML config in the plugin's format, with the workspace's cache directory.
fn yml(ws: &Workspace, name: &str, body: &str) -> PathBuf {
    let path = ws.path(name);
    let text = format!("cache_connection: {}\n{body}\n", ws.cache_dir().display());
    std::fs::write(&path, text).expect("write yml");
    path
}

/// Runs with ALICLOUD_INI_PATH instead of --config, as Ansible would.
fn run_env(ws: &Workspace, sim: &Sim, config: &Path, args: &[&str]) -> Output {
    harness::output(ws.command(
        args,
        &[
            ("ALICLOUD_INI_PATH", config.to_str().expect("UTF-8 path")),
            ("ALICLOUD_ECS_ENDPOINT", sim.url.as_str()),
            ("ALICLOUD_ACCESS_KEY", harness::KEY),
            ("ALICLOUD_SECRET_KEY", harness::SECRET),
        ],
    ))
}

fn hosts(list: &Value, group: &str) -> Vec<String> {
    list[group]["hosts"]
        .as_array()
        .unwrap_or_else(|| panic!("no group {group} in {list}"))
        .iter()
        .map(|h| h.as_str().expect("name").to_string())
        .collect()
}

fn children(list: &Value, group: &str) -> Vec<String> {
    list[group]["children"]
        .as_array()
        .unwrap_or_else(|| panic!("group {group} has no children"))
        .iter()
        .map(|h| h.as_str().expect("name").to_string())
        .collect()
}

/// Every file of the cache directory and its bytes.
fn cache_snapshot(ws: &Workspace) -> BTreeMap<PathBuf, Vec<u8>> {
    ws.cache_files()
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read cache file");
            (p, bytes)
        })
        .collect()
}

const WEB_01: &str = "i_bp1aaaaaaaaaaaaaaa01";
const SMALL: &str = "i_bp1aaaaaaaaaaaaaaa06";
const LEGACY: &str = "i_uf6bbbbbbbbbbbbbbb08";
const TRAINER: &str = "i_uf6bbbbbbbbbbbbbbb09";
const SG_WEB: &str = "i_t4nccccccccccccccc13";

const INI_ENTRIES: &str = r#"compose = {cores: cpu, mem_gb: "memory / 1024", big: "cpu >= 4",
    env: "ecs_tags.env | default('none')", tag_keys: "ecs_tags.keys() | list | sort"}
groups = {large: "cpu >= 4", hangzhou: "region_id == 'cn-hangzhou'", everyone: true}
keyed_groups = [{key: ecs_tags.role, prefix: role, parent_group: roles},
    {key: "ecs_tags.services.split(',') if ecs_tags.services is defined else []", prefix: svc}]"#;

#[test]
fn ini_entries_make_groups_and_native_vars_and_are_cached() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini(INI_ENTRIES);
    let out = ws.run_sim(&sim, &ini, &["--list"]);
    out.assert_success();
    let list = out.json();
    let hv = &list["_meta"]["hostvars"];
    assert_eq!(hv[LEGACY]["cores"], json!(4));
    assert_eq!(hv[LEGACY]["mem_gb"], json!(8.0));
    assert_eq!(hv[LEGACY]["big"], json!(true));
    assert_eq!(hv[WEB_01]["big"], json!(false));
    assert_eq!(hv[LEGACY]["env"], json!("prod"));
    assert_eq!(
        hv[SMALL]["env"],
        json!("none"),
        "default() catches the missing tag"
    );
    assert_eq!(hv[SMALL]["tag_keys"], json!([]));
    // Jinja's sort ignores case.
    assert_eq!(hv[TRAINER]["tag_keys"], json!(["env", "Name", "role"]));
    assert_eq!(hosts(&list, "large"), vec![LEGACY, TRAINER]);
    assert_eq!(hosts(&list, "everyone").len(), 8);
    assert_eq!(
        hosts(&list, "hangzhou"),
        vec![
            WEB_01,
            "i_bp1aaaaaaaaaaaaaaa02",
            "i_bp1aaaaaaaaaaaaaaa04",
            SMALL
        ]
    );
    assert_eq!(hosts(&list, "role_worker"), vec![TRAINER]);
    assert_eq!(children(&list, "roles"), vec!["role_web", "role_worker"]);
    assert!(hosts(&list, "roles").is_empty());
    assert_eq!(hosts(&list, "svc_nginx"), vec![WEB_01, SG_WEB]);
    assert_eq!(hosts(&list, "svc_redis"), vec![WEB_01, SG_WEB]);
    // The default groups are still there.
    assert_eq!(hosts(&list, "tag_role_worker"), vec![TRAINER]);

    // --host is that host's entry, composed variables included, from the cache.
    let before = sim.api_requests();
    let host = ws.run_sim(&sim, &ini, &["--host", LEGACY]);
    host.assert_success();
    assert_eq!(host.json(), hv[LEGACY]);
    let warm = ws.run_sim(&sim, &ini, &["--list"]);
    warm.assert_success();
    assert_eq!(warm.stdout, out.stdout);
    assert_eq!(sim.api_requests(), before, "warm runs make no API call");
}

#[test]
fn the_entries_are_part_of_the_cache_key() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let a = ws.ini_named("a.ini", "compose = {x: cpu}");
    let b = ws.ini_named("b.ini", "compose = {x: memory}");
    let out_a = ws.run_sim(&sim, &a, &[]);
    out_a.assert_success();
    let out_b = ws.run_sim(&sim, &b, &[]);
    out_b.assert_success();
    assert_eq!(out_a.json()["_meta"]["hostvars"][LEGACY]["x"], json!(4));
    assert_eq!(out_b.json()["_meta"]["hostvars"][LEGACY]["x"], json!(8192));
    assert_eq!(ws.cache_files().len(), 2, "one cache per configuration");
    let sel = ws.ini_named("c.ini", "compose = {x: cpu}\nhostvars = instance_id");
    ws.run_sim(&sim, &sel, &[]).assert_success();
    assert_eq!(
        ws.cache_files().len(),
        3,
        "the hostvar selection is in the key"
    );
    let before = sim.api_requests();
    assert_eq!(ws.run_sim(&sim, &a, &[]).stdout, out_a.stdout);
    assert_eq!(sim.api_requests(), before);
}

#[test]
fn hostvar_selection_trims_output_not_what_expressions_see() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini(
        "hostvars = instance_id, region*\n\
         compose = {cores: cpu}\n\
         keyed_groups = [{key: instance_type, prefix: t}]",
    );
    let out = ws.run_sim(&sim, &ini, &[]);
    out.assert_success();
    let list = out.json();
    for (name, vars) in list["_meta"]["hostvars"].as_object().expect("hostvars") {
        let keys: Vec<&str> = vars
            .as_object()
            .expect("vars")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            vec![
                "ansible_host",
                "ansible_ssh_host",
                "cores",
                "instance_id",
                "region",
                "region_id"
            ],
            "{name}"
        );
    }
    assert_eq!(hosts(&list, "t_ecs_c6_xlarge"), vec![LEGACY]);
    let host = ws.run_sim(&sim, &ini, &["--host", LEGACY]);
    assert_eq!(host.json(), list["_meta"]["hostvars"][LEGACY]);

    // An empty selection keeps only what is always kept.
    let none = ws.ini_named("none.ini", "hostvars = []");
    let out = ws.run_sim(&sim, &none, &[]);
    out.assert_success();
    assert_eq!(
        out.json()["_meta"]["hostvars"][LEGACY],
        json!({"ansible_host": "47.100.3.8", "ansible_ssh_host": "47.100.3.8"})
    );
}

#[test]
fn group_names_holds_the_default_groups_and_their_ancestors() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("nested_groups = True\ncompose = {gn: group_names}");
    let out = ws.run_sim(&sim, &ini, &[]);
    out.assert_success();
    let gn = &out.json()["_meta"]["hostvars"][TRAINER]["gn"];
    let gn: Vec<&str> = gn
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for g in [
        "alicloud",
        "cn_shanghai",
        "regions",
        "zones",
        "tags",
        "tag_role",
        "tag_role_worker",
    ] {
        assert!(gn.contains(&g), "{g} missing from {gn:?}");
    }
    let mut sorted = gn.clone();
    sorted.sort();
    assert_eq!(gn, sorted, "group_names is sorted");
    assert!(!gn.contains(&"all") && !gn.contains(&"instances"), "{gn:?}");
}

#[test]
fn strict_off_skips_a_failing_entry_for_that_host_only() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini =
        ws.ini("compose = {role: ecs_tags.role}\ngroups = {has_role: \"ecs_tags.role == 'web'\"}");
    let out = ws.run_sim(&sim, &ini, &[]);
    out.assert_success();
    let list = out.json();
    assert_eq!(list["_meta"]["hostvars"][TRAINER]["role"], json!("worker"));
    assert!(list["_meta"]["hostvars"][SMALL].get("role").is_none());
    assert!(!hosts(&list, "has_role").contains(&SMALL.to_string()));
    assert_eq!(hosts(&list, "has_role").len(), 6);
}

/// An empty keyed group name ends the run whatever strict says, as in Ansible; the message no
/// longer says "strict is on" when it is off.
#[test]
fn an_empty_group_name_fails_with_the_strict_setting_it_has() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let entry = "keyed_groups = [{key: \"''\", default_value: '', prefix: '', separator: ''}]";
    for (strict, says) in [
        ("False", "Ansible refuses this one even with strict off"),
        ("True", "strict is on"),
    ] {
        let ini = ws.ini(&format!("{entry}\nstrict = {strict}"));
        let out = ws.run_sim(&sim, &ini, &[]);
        out.assert_failure(2, "invalid empty group name");
        assert!(
            out.stderr.contains(says),
            "strict = {strict}: {}",
            out.stderr
        );
    }
}

#[test]
fn plugin_yaml_through_alicloud_ini_path() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let config = yml(
        &ws,
        "alicloud.yml",
        "plugin: alibaba.alicloud.alicloud_ecs\n\
         regions:\n  - cn-shanghai\n\
         hostnames:\n  - {tags: \"role=worker\"}\n  - tag:Name\n  - instance_id\n\
         filters:\n  instance_type: ecs.g6.large\n  'tag:env': prod\n\
         keyed_groups:\n  - key: ecs_tags.env\n    prefix: env\n\
         compose:\n  cores: cpu\n\
         hostvars: [instance_id]\n\
         cache_timeout: 600\n",
    );
    let out = run_env(&ws, &sim, &config, &["--list"]);
    out.assert_success();
    let list = out.json();
    // cn-shanghai, g6.large, env=prod: only web-01 there, named by its tag as it is (the
    // plugin sanitizes only names holding `:`).
    let names: Vec<&String> = list["_meta"]["hostvars"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(names, vec!["web-01"]);
    assert_eq!(hosts(&list, "env_prod"), vec!["web-01"]);
    assert_eq!(
        list["_meta"]["hostvars"]["web-01"],
        json!({"ansible_host": "47.100.10.10", "ansible_ssh_host": "47.100.10.10",
               "cores": 2, "instance_id": "i-uf6bbbbbbbbbbbbbbb10"})
    );
    let reqs = sim.requests();
    assert!(
        reqs.iter().all(|r| r["action"] == "DescribeInstances"),
        "regions are listed"
    );
    for r in &reqs {
        assert_eq!(r["region"], "cn-shanghai");
        assert_eq!(r["params"]["InstanceType"], "ecs.g6.large");
        assert_eq!(r["params"]["Tag.1.Key"], "env");
        assert_eq!(r["params"]["Tag.1.Value"], "prod");
    }

    // The precedence list: a {tags: "K=V"} entry names the host K_V.
    let config = yml(
        &ws,
        "names.alicloud.yml",
        // instance_states narrows the plugin's every-state default.
        "plugin: alicloud_ecs\nregions: [cn-shanghai]\ninstance_states: [running]\nhostnames: [{tags: \"role=worker\"}, \"tag:Name\"]\n",
    );
    let out = run_env(&ws, &sim, &config, &[]);
    out.assert_success();
    let list = out.json();
    let hv = list["_meta"]["hostvars"].as_object().unwrap();
    assert_eq!(hv["role_worker"]["instance_id"], "i-uf6bbbbbbbbbbbbbbb09");
    assert_eq!(hv["legacy-01"]["instance_id"], "i-uf6bbbbbbbbbbbbbbb08");
}

#[test]
fn unknown_yaml_option_warns_with_the_nearest_name() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let config = yml(
        &ws,
        "alicloud.yml",
        "plugin: alicloud_ecs\nregoins: [cn-shanghai]",
    );
    let out = ws.run_sim(&sim, &config, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr.trim_end(),
        format!(
            "alicloud_inventory: warning: {}:3: unknown option 'regoins' ignored (did you mean 'regions'?)",
            config.display()
        )
    );
    // Every state and no address needed, as the plugin lists them: the whole fleet.
    assert_eq!(
        out.json()["alicloud"]["hosts"].as_array().unwrap().len(),
        14
    );
}

#[test]
fn alicloud_yml_beside_the_executable_unless_an_ini_is() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let dir = ws.path("bin");
    std::fs::create_dir(&dir).unwrap();
    let exe = dir.join("alicloud_inventory");
    harness::place_binary(&exe);
    std::fs::write(
        dir.join("alicloud.yml"),
        format!(
            "plugin: alicloud_ecs\ncache_connection: {}\ncompose: {{from_yml: \"true\"}}\n",
            ws.cache_dir().display()
        ),
    )
    .unwrap();
    let run = || {
        let mut cmd = std::process::Command::new(&exe);
        cmd.env_clear()
            .env("HOME", ws.dir.path())
            .env("ALICLOUD_ECS_ENDPOINT", &sim.url)
            .env("ALICLOUD_ACCESS_KEY", harness::KEY)
            .env("ALICLOUD_SECRET_KEY", harness::SECRET)
            .arg("--list");
        harness::output(cmd)
    };
    let out = run();
    out.assert_success();
    assert_eq!(
        out.json()["_meta"]["hostvars"]["i-uf6bbbbbbbbbbbbbbb08"]["from_yml"],
        json!(true)
    );
    std::fs::write(
        dir.join("alicloud.ini"),
        format!("[ecs]\ncache_path = {}\n", ws.cache_dir().display()),
    )
    .unwrap();
    let out = run();
    out.assert_success();
    assert!(
        out.json()["_meta"]["hostvars"][LEGACY]
            .get("from_yml")
            .is_none(),
        "alicloud.ini wins over alicloud.yml"
    );
}

/// The configuration is refused: exit 2, nothing on stdout, one line holding `needle`, and the
/// cache an earlier good run wrote is as it was.
fn refused(file: &str, body: &str, needle: &str) {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let good = ws.ini("compose = {x: cpu}");
    ws.run_sim(&sim, &good, &[]).assert_success();
    let before = cache_snapshot(&ws);
    assert_eq!(before.len(), 1);
    let bad = if file.ends_with(".ini") {
        ws.ini_named(file, body)
    } else {
        yml(&ws, file, body)
    };
    for args in [&[][..], &["--refresh-cache"], &["--host", LEGACY]] {
        let out = ws.run_sim(&sim, &bad, args);
        out.assert_failure(2, needle);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        assert_eq!(
            cache_snapshot(&ws),
            before,
            "the cache is untouched ({file}, {args:?})"
        );
    }
}

#[test]
fn a_yaml_syntax_error_names_file_and_line() {
    refused(
        "bad.yml",
        "plugin: alicloud_ecs\ncompose:\n  a: \"cpu\n",
        "bad.yml:4: YAML syntax error: ",
    );
}

#[test]
fn a_wrong_plugin_is_refused() {
    refused(
        "aws.yml",
        "plugin: amazon.aws.aws_ec2",
        "aws.yml:2: option 'plugin': 'amazon.aws.aws_ec2' is another inventory plugin",
    );
}

#[test]
fn a_jinja_syntax_error_names_the_entry() {
    refused(
        "jinja.yml",
        "plugin: alicloud_ecs\ncompose:\n  broken: \"cpu +\"\n",
        "option 'compose': compose.broken: invalid expression \"cpu +\"",
    );
    refused(
        "jinja.ini",
        "groups = {ok: true, bad: \"cpu >= \"}",
        "jinja.ini:3: option 'groups': groups.bad: invalid expression",
    );
}

#[test]
fn a_keyed_group_that_is_not_a_mapping_or_has_no_key_is_refused() {
    refused(
        "list.yml",
        "plugin: alicloud_ecs\nkeyed_groups:\n  - zone_id\n",
        "option 'keyed_groups': keyed_groups[0]: must be a mapping with a key",
    );
    refused(
        "nokey.yml",
        "plugin: alicloud_ecs\nkeyed_groups:\n  - key: zone_id\n  - prefix: x\n",
        "option 'keyed_groups': keyed_groups[1]: has no key",
    );
}

#[test]
fn default_value_with_trailing_separator_is_refused() {
    refused(
        "both.ini",
        "keyed_groups = [{key: ecs_tags, default_value: x, trailing_separator: false}]",
        "keyed_groups[0]: default_value and trailing_separator are mutually exclusive",
    );
}

#[test]
fn a_strict_failure_names_host_entry_and_error() {
    refused(
        "strict.yml",
        "plugin: alicloud_ecs\nstrict: true\ncompose:\n  role: ecs_tags.role\n",
        // Named as the plugin names it: the instance id as it is.
        "constructed compose.role failed for host i-bp1aaaaaaaaaaaaaaa06: could not set role",
    );
}

/// A `hostvars` pattern that matches nothing (a typo) silently printed no hostvars; it is now
/// one warning naming it, and the patterns that match are not.
#[test]
fn a_hostvars_pattern_that_matches_nothing_is_named() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("hostvars = instnce_id, instance_name, ecs_*");
    let out = ws.run_sim(&sim, &ini, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.starts_with(
            "alicloud_inventory: warning: hostvars pattern 'instnce_id' matches no hostvar of any host"
        ),
        "{}",
        out.stderr
    );
    let list = out.json();
    let vars = list["_meta"]["hostvars"].as_object().unwrap();
    assert!(vars.values().all(|v| v.get("instance_name").is_some()));
    let ini = ws.ini("hostvars = instance_*");
    ws.run_sim(&sim, &ini, &["--refresh-cache"])
        .assert_success();
}

/// A filter or test that is not supported here is refused when the configuration is loaded,
/// by name and with the reason, in either config format and wherever the name sits.
#[test]
fn an_unsupported_filter_or_test_is_refused_by_name() {
    refused(
        "random.yml",
        "plugin: alicloud_ecs\ncompose:\n  pick: \"security_group_ids | random\"\n",
        "option 'compose': compose.pick: filter 'random' is not supported here (its result changes from run to run); see docs/DESIGN.md \"Filters and tests\"",
    );
    refused(
        "file.ini",
        "groups = {local: \"ecs_tags.keys() | select('file') | list\"}",
        "groups.local: test 'file' is not supported here (it reads the controller's disk)",
    );
    refused(
        "nested.yml",
        "plugin: alicloud_ecs\nkeyed_groups:\n  - key: \"zone_id if zone_id is link else 'x'\"\n",
        "keyed_groups[0]: test 'link' is not supported here",
    );
    refused(
        "unknown.yml",
        "plugin: alicloud_ecs\ncompose:\n  q: \"ecs_tags | json_query('a')\"\n",
        "compose.q: filter 'json_query' is not supported here (it is not an ansible.builtin or Jinja2 one)",
    );
}

/// Ansible ignores keys of a keyed_groups entry it does not know (`leading_separator` is a
/// top-level option): warned about once per key, and the entries work.
#[test]
fn unknown_keys_of_a_keyed_group_are_warned_about_once_and_ignored() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let config = yml(
        &ws,
        "alicloud.yml",
        "plugin: alicloud_ecs\nkeyed_groups:\n\
         \x20 - {key: \"'x'\", prefix: k, leading_separator: false, bogus: 1}\n\
         \x20 - {key: \"'y'\", prefix: '', leading_separator: false}\n",
    );
    let out = run_env(&ws, &sim, &config, &["--list"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert!(lines.iter().any(|l| l.starts_with(
        "alicloud_inventory: warning: constructed keyed_groups[0]: option \"leading_separator\" is ignored, as Ansible ignores it (it is a top-level option"
    )), "{}", out.stderr);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("option \"bogus\" is ignored")),
        "{}",
        out.stderr
    );
    let list = out.json();
    // A YAML lists the whole fleet, as the plugin does.
    assert_eq!(hosts(&list, "k_x").len(), 14);
    // The top-level leading_separator (true) still applies to the empty prefix.
    assert_eq!(hosts(&list, "_y").len(), 14);
}

/// The ansible.builtin filters reach the output as Ansible writes them (json.dumps's
/// separators, hashlib's hex digest, os.path's split).
#[test]
fn ansible_filters_work_end_to_end() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let config = yml(
        &ws,
        "alicloud.yml",
        "plugin: alicloud_ecs\ncompose:\n\
         \x20 as_json: \"{'id': instance_id, 'n': [1, 2.5]} | to_json\"\n\
         \x20 digest: instance_id | sha1\n\
         \x20 parts: \"'/a/b.tar.gz' | splitext\"\n\
         groups:\n\
         \x20 modern: \"'2.19.1' is version('2.9', '>')\"\n",
    );
    let out = run_env(&ws, &sim, &config, &["--list"]);
    out.assert_success();
    let list = out.json();
    // Named as the plugin names it: the instance id as it is.
    let vars = &list["_meta"]["hostvars"]["i-uf6bbbbbbbbbbbbbbb08"];
    assert_eq!(
        vars["as_json"],
        json!("{\"id\": \"i-uf6bbbbbbbbbbbbbbb08\", \"n\": [1, 2.5]}")
    );
    assert_eq!(
        vars["digest"],
        json!("fca688fe420546620c8288979782d55965fa8235")
    );
    assert_eq!(vars["parts"], json!(["/a/b.tar", ".gz"]));
    assert_eq!(hosts(&list, "modern").len(), 14);
}
