//! Parity with the Python alicloud.py. For each ini in fixtures/alicloud-py, the binary runs
//! against the simulator serving the fleet the script was recorded on, and its `--list` must
//! give the same instances, the same hostname for each, every hostvar the script printed with an
//! equal value, and every group with the same members (group names compared after mapping every
//! character outside `[A-Za-z0-9_]` to `_`). The only exceptions are the deliberate differences
//! of README.md, "Differences from alicloud.py", each named here by its row. `--host` must print
//! exactly the `--list` entry of every host.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::harness::{fixture, Sim, Workspace};
use serde_json::{Map, Value};
use Diff::*;

/// A deliberate difference, named by the first cell of its README row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Diff {
    DuplicateHostnames,
    ReplaceDash,
    NonAscii,
    InstanceIdGroup,
    TagsHostvar,
    GpuSpec,
}

impl Diff {
    const ALL: [Diff; 6] = [
        Diff::DuplicateHostnames,
        Diff::ReplaceDash,
        Diff::NonAscii,
        Diff::InstanceIdGroup,
        Diff::TagsHostvar,
        Diff::GpuSpec,
    ];

    fn row(self) -> &'static str {
        match self {
            Diff::DuplicateHostnames => "Duplicate hostnames",
            Diff::ReplaceDash => "`replace_dash_in_groups`",
            Diff::NonAscii => "Non-ASCII letters in names",
            Diff::InstanceIdGroup => "The instance-id group",
            Diff::TagsHostvar => "The `tags` hostvar",
            Diff::GpuSpec => "`gpu.spec`",
        }
    }
}

/// The first cells of the rows of README.md's "Differences from alicloud.py" table.
fn readme_rows() -> BTreeSet<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let start = readme
        .find("\n## Differences from alicloud.py\n")
        .expect("README.md has a \"Differences from alicloud.py\" section");
    let section = &readme[start + 1..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |e| e + 1)];
    section
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("| ---") && !l.starts_with("|---"))
        .skip(1) // the header
        .filter_map(|l| l.split('|').nth(1))
        .map(|c| c.trim().to_string())
        .collect()
}

/// Group names as the comparison sees them.
fn norm(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A group: its member hosts and its child groups (normalized), whatever its shape.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Group {
    hosts: BTreeSet<String>,
    children: BTreeSet<String>,
}

/// Every group but `_meta`, by normalized name (groups that normalize alike are merged), with
/// each member host given as `name_of(host)`.
fn groups(inv: &Value, name_of: impl Fn(&str) -> String) -> BTreeMap<String, Group> {
    let mut out: BTreeMap<String, Group> = BTreeMap::new();
    for (k, v) in inv.as_object().expect("an object") {
        if k == "_meta" {
            continue;
        }
        let strs = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|h| h.as_str().expect("a name").to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        let (hosts, children) = match v {
            Value::Array(_) => (strs(Some(v)), vec![]),
            _ => (strs(v.get("hosts")), strs(v.get("children"))),
        };
        let g = out.entry(norm(k)).or_default();
        g.hosts.extend(hosts.iter().map(|h| name_of(h)));
        g.children.extend(children.iter().map(|c| norm(c)));
    }
    out
}

fn hostvars(inv: &Value) -> &Map<String, Value> {
    inv["_meta"]["hostvars"]
        .as_object()
        .expect("_meta.hostvars")
}

fn instance_id(vars: &Value) -> String {
    vars["instance_id"]
        .as_str()
        .expect("instance_id")
        .to_string()
}

/// Runs one variant and compares; returns the differences it had to allow.
fn parity(variant: &str) -> BTreeSet<Diff> {
    let fleet: PathBuf = if variant.starts_with("full") {
        fixture("fleet_full.json")
    } else {
        fixture("fleet.json")
    };
    let ini = fixture(&format!("alicloud-py/{variant}.ini"));
    let ini_text = std::fs::read_to_string(&ini).expect("ini");
    let script: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture(&format!("alicloud-py/{variant}.json"))).expect("json"),
    )
    .expect("recorded JSON");
    let fleet_ids: BTreeSet<String> = {
        let f: Value = serde_json::from_str(&std::fs::read_to_string(&fleet).unwrap()).unwrap();
        f["instances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["InstanceId"].as_str().unwrap().to_string())
            .collect()
    };

    let sim = Sim::start(&fleet, &[]);
    let ws = Workspace::new();
    // The ini has no cache_path: the cache goes to the workspace's home.
    let out = ws.run_sim(&sim, &ini, &["--list"]);
    assert_eq!(out.code, 0, "{variant}: {}", out.stderr);
    let ours = out.json();
    let rows = readme_rows();
    let mut used = BTreeSet::new();
    let mut allow = |d: Diff, what: &str| {
        assert!(
            rows.contains(d.row()),
            "{variant}: {what} needs the README row {:?}",
            d.row()
        );
        used.insert(d);
    };
    for line in out.stderr.lines() {
        assert!(
            line.starts_with("alicloud_inventory: warning: hostname '")
                && line.contains("is shared by several instances"),
            "{variant}: unexpected stderr line {line:?}"
        );
        allow(Diff::DuplicateHostnames, "the duplicate-hostname warning");
    }

    // The script's name for each instance: from its hostvars, or, for an instance whose
    // hostvars a later one with the same name overwrote, from its own instance-id group.
    let mut script_name: BTreeMap<String, String> = BTreeMap::new();
    for (name, vars) in hostvars(&script) {
        script_name.insert(instance_id(vars), name.clone());
    }
    for id in &fleet_ids {
        if let Some(members) = script.get(id.as_str()).and_then(Value::as_array) {
            let name = members[0].as_str().unwrap().to_string();
            script_name.entry(id.clone()).or_insert(name);
        }
    }
    let ours_name: BTreeMap<String, String> = hostvars(&ours)
        .iter()
        .map(|(name, vars)| (instance_id(vars), name.clone()))
        .collect();
    assert!(!ours_name.is_empty(), "{variant}: no host at all");

    // Same instance set.
    assert_eq!(
        ours_name.keys().collect::<Vec<_>>(),
        script_name.keys().collect::<Vec<_>>(),
        "{variant}: instance sets differ"
    );

    // Same hostname per instance.
    let mut shared: BTreeMap<&str, usize> = BTreeMap::new();
    for n in script_name.values() {
        *shared.entry(n.as_str()).or_default() += 1;
    }
    let keeps_dash = ini_text.lines().any(|l| {
        let l = l.replace(' ', "");
        l == "replace_dash_in_groups=False"
    });
    for (id, want) in &script_name {
        let got = &ours_name[id];
        if got == want {
            continue;
        }
        let suffix = format!("_{}", norm(id).to_lowercase());
        if shared[want.as_str()] > 1 && got.starts_with(&format!("{want}{suffix}")) {
            allow(Diff::DuplicateHostnames, got);
        } else if keeps_dash && got.replace('-', "_") == *want {
            allow(Diff::ReplaceDash, got);
        } else if !got.is_ascii()
            && got
                .chars()
                .map(|c| if c.is_ascii() { c } else { '_' })
                .collect::<String>()
                == *want
        {
            allow(Diff::NonAscii, got);
        } else {
            panic!("{variant}: {id} is {got:?}, alicloud.py named it {want:?}");
        }
    }

    // Every hostvar the script printed, with an equal value.
    for (name, want) in hostvars(&script) {
        let id = instance_id(want);
        let got = &hostvars(&ours)[&ours_name[&id]];
        for (k, w) in want.as_object().unwrap() {
            if k == "tags" {
                assert!(got.get("tags").is_none(), "{variant}: {name}: tags");
                assert_eq!(got["ecs_tags"], *w, "{variant}: {name}: ecs_tags");
                allow(Diff::TagsHostvar, name);
                continue;
            }
            let g = got
                .get(k)
                .unwrap_or_else(|| panic!("{variant}: {name}: hostvar {k} is missing"));
            if g == w {
                continue;
            }
            if k == "gpu" && w["spec"] == "" {
                // The script never fills `spec`; we give GPUSpec there as in `specification`.
                let mut fixed = w.clone();
                fixed["spec"] = w.get("specification").cloned().unwrap_or("".into());
                if *g == fixed {
                    allow(Diff::GpuSpec, name);
                    continue;
                }
            }
            panic!("{variant}: {name}: hostvar {k} is {g}, alicloud.py printed {w}");
        }
    }

    // Every group with the same members, named as alicloud.py named each instance.
    let id_of_ours: BTreeMap<&str, &str> = ours_name
        .iter()
        .map(|(id, n)| (n.as_str(), id.as_str()))
        .collect();
    let mut want_groups = groups(&script, |h| h.to_string());
    let got_groups = groups(&ours, |h| script_name[id_of_ours[h]].clone());
    // An instance-id group we leave out: the host is named by its instance id.
    let dropped: BTreeSet<String> = fleet_ids
        .iter()
        .filter(|id| {
            let g = norm(id);
            !got_groups.contains_key(&g)
                && want_groups.contains_key(&g)
                && ours_name
                    .get(*id)
                    .is_some_and(|n| norm(n) == norm(id).to_lowercase())
                && want_groups[&g].hosts == BTreeSet::from([script_name[*id].clone()])
                && want_groups[&g].children.is_empty()
        })
        .map(|id| norm(id))
        .collect();
    for g in &dropped {
        want_groups.remove(g);
        allow(Diff::InstanceIdGroup, g);
    }
    for group in want_groups.values_mut() {
        group.children.retain(|c| !dropped.contains(c));
    }
    // A parent left with nothing (nested `instances`) is not emitted either.
    want_groups.retain(|name, g| {
        let empty = g.hosts.is_empty() && g.children.is_empty();
        if empty && !got_groups.contains_key(name) {
            assert!(!dropped.is_empty(), "{variant}: empty group {name}");
            return false;
        }
        true
    });
    let names: BTreeSet<&String> = want_groups.keys().chain(got_groups.keys()).collect();
    for name in names {
        assert_eq!(
            got_groups.get(name),
            want_groups.get(name),
            "{variant}: group {name} (ours, then alicloud.py's)"
        );
    }

    // --host prints exactly the --list entry, for every host.
    for (name, vars) in hostvars(&ours) {
        let host = ws.run_sim(&sim, &ini, &["--host", name]);
        assert_eq!(host.code, 0, "{variant}: --host {name}: {}", host.stderr);
        assert_eq!(host.json(), *vars, "{variant}: --host {name}");
    }
    used
}

/// Each variant, its fleet's recorded output, and exactly the differences it needs.
const VARIANTS: &[(&str, &[Diff])] = &[
    ("default", &[InstanceIdGroup, TagsHostvar, GpuSpec]),
    ("private", &[InstanceIdGroup, TagsHostvar, GpuSpec]),
    ("by_name_tag", &[DuplicateHostnames, TagsHostvar, GpuSpec]),
    ("by_address", &[TagsHostvar, GpuSpec]),
    ("running_only", &[InstanceIdGroup, TagsHostvar, GpuSpec]),
    ("nested", &[InstanceIdGroup, TagsHostvar, GpuSpec]),
    ("csv_tags", &[InstanceIdGroup, TagsHostvar, GpuSpec]),
    (
        "dash_kept",
        &[ReplaceDash, InstanceIdGroup, TagsHostvar, GpuSpec],
    ),
    ("include", &[InstanceIdGroup, TagsHostvar, GpuSpec]),
    ("filtered", &[InstanceIdGroup, TagsHostvar]),
    ("full", &[InstanceIdGroup, TagsHostvar, GpuSpec]),
    ("full_private", &[NonAscii, TagsHostvar, GpuSpec]),
];

/// Runs a variant; the differences it allowed must be exactly those listed for it, so that an
/// exception no longer needed cannot linger and hide a regression.
fn check(variant: &str) {
    let (_, want) = VARIANTS
        .iter()
        .find(|(v, _)| *v == variant)
        .expect("a listed variant");
    let used = parity(variant);
    assert_eq!(
        used.into_iter().collect::<Vec<_>>(),
        want.iter()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>(),
        "{variant}: the differences it needed"
    );
}

macro_rules! variants {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name));
            }
        )*
    };
}

variants!(
    default,
    private,
    by_name_tag,
    by_address,
    running_only,
    nested,
    csv_tags,
    dash_kept,
    include,
    filtered,
    full,
    full_private,
);

/// Every recorded variant has its test, and every difference the tests may allow has its
/// README row and is needed by some variant.
#[test]
fn every_variant_is_tested_and_every_exception_is_documented() {
    let mut recorded: Vec<String> = std::fs::read_dir(fixture("alicloud-py"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "ini").then(|| p.file_stem().unwrap().to_string_lossy().into())
        })
        .collect();
    recorded.sort();
    let mut listed: Vec<&str> = VARIANTS.iter().map(|(v, _)| *v).collect();
    listed.sort();
    assert_eq!(recorded, listed);

    let rows = readme_rows();
    for d in Diff::ALL {
        assert!(rows.contains(d.row()), "README has no row {:?}", d.row());
        assert!(
            VARIANTS.iter().any(|(_, ds)| ds.contains(&d)),
            "no variant needs {d:?}"
        );
    }
}
