//! Our engine against Ansible's: fixtures/constructed/expected/*.json were recorded by
//! fixtures/constructed/record.py from `ansible-inventory --list` with the script inventory
//! fixtures/constructed/inventory.json and each case file.

use super::super::*;
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, HashMap};

const INVENTORY: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/constructed/inventory.json"
));
const BASE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/constructed/base.json"
));

const CASES: &[(&str, &str)] = &[
    (
        "default_and_trailing",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/constructed/expected/default_and_trailing.json"
        )),
    ),
    (
        "full",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/constructed/expected/full.json"
        )),
    ),
    (
        "keyed_int_key",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/constructed/expected/keyed_int_key.json"
        )),
    ),
    (
        "keyed_lazy_lists",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/constructed/expected/keyed_lazy_lists.json"
        )),
    ),
    (
        "leading_false",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/constructed/expected/leading_false.json"
        )),
    ),
    (
        "strict_compose_error",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/constructed/expected/strict_compose_error.json"
        )),
    ),
    (
        "strict_group_error",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/constructed/expected/strict_group_error.json"
        )),
    ),
    (
        "strict_group_undefined",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/constructed/expected/strict_group_undefined.json"
        )),
    ),
    (
        "strict_keyed_empty",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/constructed/expected/strict_keyed_empty.json"
        )),
    ),
    (
        "strict_keyed_empty_list",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/constructed/expected/strict_keyed_empty_list.json"
        )),
    ),
    (
        "strict_keyed_error",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/constructed/expected/strict_keyed_error.json"
        )),
    ),
    (
        "strict_ok",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/constructed/expected/strict_ok.json"
        )),
    ),
];

/// A group as `ansible-inventory --list` shows it.
#[derive(Debug, Default, Clone, PartialEq)]
struct Group {
    hosts: Vec<String>,
    children: Vec<String>,
}

struct Input {
    /// Hosts in the order Ansible's script plugin adds them: first appearance in a group.
    hosts: Vec<String>,
    hostvars: Map<String, Json>,
    base_groups: BTreeMap<String, Group>,
    base_all: Vec<String>,
}

fn strings(v: Option<&Json>) -> Vec<String> {
    v.and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().expect("name").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn groups_of(list: &Json) -> (BTreeMap<String, Group>, Vec<String>) {
    let mut groups = BTreeMap::new();
    let mut all = Vec::new();
    for (name, g) in list.as_object().expect("list output") {
        if name == "_meta" {
            continue;
        }
        if name == "all" {
            all = strings(g.get("children"));
            continue;
        }
        groups.insert(
            name.clone(),
            Group {
                hosts: strings(g.get("hosts")),
                children: strings(g.get("children")),
            },
        );
    }
    (groups, all)
}

fn input() -> Input {
    let inventory: Json = serde_json::from_str(INVENTORY).expect("inventory.json");
    let base: Json = serde_json::from_str(BASE).expect("base.json");
    let mut hosts = Vec::new();
    // The groups of inventory.json sort with the fleet's `alicloud` first, as in the file.
    for (name, g) in inventory.as_object().expect("inventory") {
        if name == "_meta" {
            continue;
        }
        for h in strings(g.get("hosts")) {
            if !hosts.contains(&h) {
                hosts.push(h);
            }
        }
    }
    let hostvars = base["_meta"]["hostvars"]
        .as_object()
        .expect("hostvars")
        .clone();
    let (base_groups, base_all) = groups_of(&base);
    assert!(
        hosts.len() >= 10 && base_groups.len() > 30,
        "fixture too small"
    );
    Input {
        hosts,
        hostvars,
        base_groups,
        base_all,
    }
}

/// Runs a configuration over the input as Ansible would, giving `--list`'s groups, `all`'s
/// children and hostvars; or the first host error.
/// Groups, `all`'s children, hostvars.
type Listed = (BTreeMap<String, Group>, Vec<String>, Map<String, Json>);

fn run(c: &Constructed, input: &Input) -> Result<Listed, HostError> {
    let mut groups = input.base_groups.clone();
    let mut created = Vec::new();
    let mut hostvars = input.hostvars.clone();
    let mut has_parent: HashMap<String, bool> = HashMap::new();
    for host in &input.hosts {
        let group_names: Vec<String> = input
            .base_groups
            .iter()
            .filter(|(_, g)| g.hosts.contains(host))
            .map(|(n, _)| n.clone())
            .collect();
        let vars = input.hostvars[host].as_object().expect("host vars");
        let result = c.apply(host, vars, &group_names)?;
        let hv = hostvars[host].as_object_mut().expect("host vars");
        for (k, v) in result.vars {
            hv.insert(k, v);
        }
        for m in result.groups {
            let (group, parent) = (m.group.to_string(), m.parent.map(|p| p.to_string()));
            let mut ensure = |name: &str| {
                if !groups.contains_key(name) {
                    groups.insert(name.to_owned(), Group::default());
                    created.push(name.to_owned());
                }
            };
            ensure(&group);
            if let Some(p) = &parent {
                ensure(p);
            }
            let g = groups.get_mut(&group).expect("created");
            if !g.hosts.contains(host) {
                g.hosts.push(host.clone());
            }
            if let Some(p) = parent {
                has_parent.insert(group.clone(), true);
                let pg = groups.get_mut(&p).expect("created");
                if !pg.children.contains(&group) {
                    pg.children.push(group);
                }
            }
        }
    }
    // Ansible makes `all` the parent of the groups that have no other parent once every
    // source is read, so a script's group that became a parent_group's child leaves `all`.
    let mut all: Vec<String> = input.base_all.iter().chain(&created).cloned().collect();
    all.retain(|g| !has_parent.contains_key(g));
    // --list leaves out groups with neither hosts nor children.
    groups.retain(|_, g| !g.hosts.is_empty() || !g.children.is_empty());
    Ok((groups, all, hostvars))
}

/// Runs every host; for a failure, gives the error of the first failing host.
fn check_error(name: &str, config: &Json, ansible_error: &str, input: &Input) {
    let c = match Constructed::from_value(config) {
        Err(e) => {
            // Ansible finds these only when a host reaches the entry; we refuse the config.
            assert!(
                ansible_error.contains("mutually exclusive"),
                "{name}: we refused the configuration ({e}) but Ansible said: {ansible_error}"
            );
            return;
        }
        Ok(c) => c,
    };
    match run(&c, input) {
        Ok(_) => panic!("{name}: Ansible failed ({ansible_error}) but we did not"),
        Err(e) => {
            // Ansible names the host in its message when the entry failed for one.
            if ansible_error.contains(" host ") {
                assert!(
                    [" ", ":", ","]
                        .iter()
                        .any(|end| ansible_error.contains(&format!("host {}{end}", e.host))),
                    "{name}: we failed for host {} ({e}), Ansible: {ansible_error}",
                    e.host
                );
            }
        }
    }
}

#[test]
fn matches_ansible_on_every_recorded_case() {
    let input = input();
    let mut failures = Vec::new();
    for (name, text) in CASES {
        let expected: Json = serde_json::from_str(text).expect("expected json");
        let config = &expected["config"];
        if let Some(err) = expected.get("error").and_then(Json::as_str) {
            check_error(name, config, err, &input);
            continue;
        }
        let c = Constructed::from_value(config).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (groups, all, hostvars) = run(&c, &input).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (want_groups, want_all) = groups_of(&expected["list"]);
        for (g, want) in &want_groups {
            match groups.get(g) {
                None => failures.push(format!("{name}: group {g} missing (Ansible: {want:?})")),
                Some(got) if got != want => {
                    failures.push(format!("{name}: group {g}: ours {got:?}, Ansible {want:?}"))
                }
                _ => {}
            }
        }
        for g in groups.keys() {
            if !want_groups.contains_key(g) {
                failures.push(format!("{name}: group {g} is not in Ansible's output"));
            }
        }
        // The order of all's children follows the configuration's order, which a
        // serde_json::Map (sorted) does not keep; compare them as sets.
        let (mut all, mut want_all) = (all, want_all);
        all.sort();
        want_all.sort();
        if all != want_all {
            failures.push(format!(
                "{name}: all.children: ours {all:?}, Ansible {want_all:?}"
            ));
        }
        let want_vars = expected["list"]["_meta"]["hostvars"]
            .as_object()
            .expect("hostvars");
        for (host, want) in want_vars {
            let got = hostvars.get(host).and_then(Json::as_object);
            let want = want.as_object().expect("host vars");
            for (k, v) in want {
                match got.and_then(|g| g.get(k)) {
                    Some(x) if x == v => {}
                    other => {
                        failures.push(format!("{name}: {host}.{k}: ours {other:?}, Ansible {v}"))
                    }
                }
            }
            for k in got
                .map(|g| g.keys().collect::<Vec<_>>())
                .unwrap_or_default()
            {
                if !want.contains_key(k) {
                    failures.push(format!(
                        "{name}: {host}.{k} = {} is not in Ansible's output",
                        hostvars[host][k]
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences from Ansible:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
