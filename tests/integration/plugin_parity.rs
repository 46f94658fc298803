//! Parity with the real alibaba.alicloud.alicloud_ecs inventory plugin. For each YAML of
//! fixtures/alicloud-ecs, the binary runs against the simulator serving the fleet the plugin was
//! recorded on, with the same file, and its `--list` is compared with the plugin's: the instance
//! set, each instance's host name, every hostvar value the plugin printed, and every group with
//! its hosts and children. Differences are sorted into kinds and counted; the only ones let
//! pass are the deliberate differences of README.md, "Differences from the alicloud_ecs
//! plugin", each named here by its row ([`Allow`]).
//!
//! `ours_equals_the_plugin` fails listing every other difference. `plugin_parity_report` prints
//! the per-variant counts and never fails (`cargo test --test integration plugin_parity_report
//! -- --ignored --nocapture`); `PARITY_REPORT=1` prints them from the strict test as well.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::harness::{fixture, Sim, Workspace};
use serde_json::{Map, Value};

/// A deliberate difference, named by the first cell of its README row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Allow {
    /// The plugin sets `region` to the zone (`host['region'] = host['availability_zone']`).
    RegionIsZone,
    /// footmark's `read()` never fills `gpu.spec`; ours gives GPUSpec there.
    GpuSpec,
    /// The tag map is `ecs_tags` here (`tags` is reserved in Ansible), unless
    /// `legacy_tags_hostvar` asks for `tags`.
    TagsHostvar,
    /// Hostvars the plugin does not print (never a composed one).
    ExtraHostvars,
    /// Instances that resolve to one name: the plugin merges them into one host, ours keeps
    /// each (renamed, with a warning).
    SameNameMerged,
    /// An instance no `hostnames` entry names: the plugin drops it, ours names it.
    UnnamedDropped,
}

impl Allow {
    const ALL: [Allow; 6] = [
        Allow::RegionIsZone,
        Allow::GpuSpec,
        Allow::TagsHostvar,
        Allow::ExtraHostvars,
        Allow::SameNameMerged,
        Allow::UnnamedDropped,
    ];

    /// The first cell of its row in README.md's "Differences from the alicloud_ecs plugin".
    fn row(self) -> &'static str {
        match self {
            Allow::RegionIsZone => "`region`",
            Allow::GpuSpec => "`gpu.spec`",
            Allow::TagsHostvar => "The `tags` hostvar",
            Allow::ExtraHostvars => "Extra hostvars",
            Allow::SameNameMerged => "Same-named instances",
            Allow::UnnamedDropped => "Instances with no name",
        }
    }
}

const SECTION: &str = "\n## Differences from the alicloud_ecs plugin\n";

/// The first cells of the rows of README.md's section [`SECTION`] (empty when it is missing).
fn readme_rows() -> BTreeSet<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let Some(start) = readme.find(SECTION) else {
        return BTreeSet::new();
    };
    let section = &readme[start + 1..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |e| e + 1)];
    section
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("| ---") && !l.starts_with("|---"))
        .skip(1)
        .filter_map(|l| l.split('|').nth(1))
        .map(|c| c.trim().to_string())
        .collect()
}

/// The recorded variants: `fixtures/alicloud-ecs/<name>.alicloud.yml` and `<name>.json`.
const VARIANTS: &[&str] = &[
    "plain",
    "constructed",
    "contrib",
    "filter_status",
    "filter_tags",
    "filter_type",
    "hostnames",
    "hostnames_tags",
    "hostnames_tag_only",
    "hostnames_colon",
    "hostnames_tag_value",
    "keyed_options",
];

/// `{"__ansible_unsafe": s}` is `s` (ours marks template-like strings, ansible-core all).
fn plain(v: &Value) -> Value {
    match v {
        Value::Object(m) if m.len() == 1 && m.contains_key("__ansible_unsafe") => {
            m["__ansible_unsafe"].clone()
        }
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), plain(x))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(plain).collect()),
        _ => v.clone(),
    }
}

/// What the comparison needs of a variant's YAML.
#[derive(Debug, Default, Clone)]
struct Config {
    hostnames: Vec<String>,
    contrib: bool,
    compose: BTreeSet<String>,
}

impl Config {
    fn read(yaml: &str) -> Config {
        let v: Value = serde_saphyr::from_str(yaml).expect("the variant's YAML");
        let strs = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        Config {
            hostnames: strs(v.get("hostnames")),
            contrib: v["use_contrib_script_compatible_sanitization"] == Value::Bool(true),
            compose: v
                .get("compose")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
        }
    }
}

/// Python's truth of a JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), String::from)
}

/// The plugin's group-name sanitizer, used on host names holding `:`: ansible-core's
/// `to_safe_group_name(force=True)` (`^[\d\W]|[^\w]`, Unicode-aware), or the contrib one.
fn sanitize(name: &str, contrib: bool) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            let ok = if contrib {
                c.is_ascii_alphanumeric() || c == '_' || c == '-'
            } else {
                (c.is_alphanumeric() || c == '_') && !(i == 0 && c.is_numeric())
            };
            if ok {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The name the plugin gives an instance with these hostvars (ours, whose tag map may be
/// `ecs_tags`), or None when it leaves it out (`_get_hostname` in the plugin).
fn plugin_name(cfg: &Config, vars: &Value) -> Option<String> {
    let default = ["instance_id".to_string(), "instance_name".to_string()];
    let prefs = if cfg.hostnames.is_empty() {
        &default[..]
    } else {
        &cfg.hostnames[..]
    };
    let empty = Value::Object(Map::new());
    let tags = vars
        .get("tags")
        .or_else(|| vars.get("ecs_tags"))
        .unwrap_or(&empty);
    let found = prefs.iter().find_map(|pref| {
        if let Some(spec) = pref.strip_prefix("tag:") {
            spec.split(',').find_map(|part| match part.split_once('=') {
                Some((k, v)) => {
                    (tags.get(k).and_then(Value::as_str) == Some(v)).then(|| format!("{k}_{v}"))
                }
                None => tags.get(part).filter(|v| truthy(v)).map(text),
            })
        } else {
            vars.get(pref.as_str()).filter(|v| truthy(v)).map(text)
        }
    })?;
    Some(if found.contains(':') {
        sanitize(&found, cfg.contrib)
    } else {
        found
    })
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Group {
    hosts: BTreeSet<String>,
    children: BTreeSet<String>,
}

/// Every group but `_meta` and `all`, members renamed by `name_of` (None: left out). `all` only
/// lists the top-level groups (ansible-inventory prints it, a script need not), which the other
/// groups' children already tell; an `ungrouped` with no host is dropped.
fn groups(inv: &Value, name_of: impl Fn(&str) -> Option<String>) -> BTreeMap<String, Group> {
    let mut out = BTreeMap::new();
    for (k, v) in inv.as_object().expect("an object") {
        if k == "_meta" || k == "all" {
            continue;
        }
        let strs = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        let (hosts, children) = match v {
            Value::Array(_) => (strs(Some(v)), vec![]),
            _ => (strs(v.get("hosts")), strs(v.get("children"))),
        };
        let g = Group {
            hosts: hosts.iter().filter_map(|h| name_of(h)).collect(),
            children: children.into_iter().collect(),
        };
        if k == "ungrouped" && g.hosts.is_empty() {
            continue;
        }
        out.insert(k.clone(), g);
    }
    out
}

fn hostvars(inv: &Value) -> &Map<String, Value> {
    inv["_meta"]["hostvars"]
        .as_object()
        .expect("_meta.hostvars")
}

fn id_of(vars: &Value) -> String {
    text(&vars["instance_id"])
}

/// The differences found in one variant, by kind, each with a line saying what it is.
#[derive(Debug, Default)]
struct Diffs {
    failed_run: Option<String>,
    hosts_missing: Vec<String>,
    hosts_extra: Vec<String>,
    hosts_renamed: Vec<String>,
    /// By hostvar name.
    hostvars: BTreeMap<String, Vec<String>>,
    groups_missing: Vec<String>,
    groups_extra: Vec<String>,
    groups_differing: Vec<String>,
    /// How often each allowance was used (per host; per group for an empty group).
    allowed: BTreeMap<Allow, usize>,
    /// The names of the hostvars let pass as ours only.
    extra_names: BTreeSet<String>,
}

impl Diffs {
    fn hostvar_count(&self) -> usize {
        self.hostvars.values().map(Vec::len).sum()
    }

    fn total(&self) -> usize {
        usize::from(self.failed_run.is_some())
            + self.hosts_missing.len()
            + self.hosts_extra.len()
            + self.hosts_renamed.len()
            + self.hostvar_count()
            + self.groups_missing.len()
            + self.groups_extra.len()
            + self.groups_differing.len()
    }

    fn allow(&mut self, a: Allow) {
        *self.allowed.entry(a).or_default() += 1;
    }

    /// Every difference, at most `limit` examples of each kind.
    fn describe(&self, variant: &str, limit: usize) -> String {
        let mut s = String::new();
        let mut list = |what: &str, items: &[String]| {
            if items.is_empty() {
                return;
            }
            let _ = writeln!(s, "  {variant}: {what}: {}", items.len());
            for i in items.iter().take(limit) {
                let _ = writeln!(s, "    {i}");
            }
            if items.len() > limit {
                let _ = writeln!(s, "    ... and {} more", items.len() - limit);
            }
        };
        if let Some(e) = &self.failed_run {
            list("our run failed", std::slice::from_ref(e));
        }
        list(
            "hosts missing (the plugin lists them, ours not)",
            &self.hosts_missing,
        );
        list("hosts extra (ours only)", &self.hosts_extra);
        list("hosts renamed (same instance id)", &self.hosts_renamed);
        for (k, items) in &self.hostvars {
            list(&format!("hostvar {k:?} differs"), items);
        }
        list("groups missing", &self.groups_missing);
        list("groups extra", &self.groups_extra);
        list("groups whose members differ", &self.groups_differing);
        s
    }
}

fn short(v: Option<&Value>) -> String {
    let s = v.map_or("(missing)".to_string(), Value::to_string);
    if s.chars().count() > 80 {
        format!("{}...", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

fn few(set: &BTreeSet<&String>) -> String {
    let mut v: Vec<&str> = set.iter().take(3).map(|s| s.as_str()).collect();
    if set.len() > 3 {
        v.push("...");
    }
    format!("{} {v:?}", set.len())
}

/// Compares our `--list` with the plugin's (both already without unsafe markers).
fn compare(cfg: &Config, plugin: &Value, ours: &Value) -> Diffs {
    let mut d = Diffs::default();
    let p_hv = hostvars(plugin);
    let o_hv = hostvars(ours);
    let p_by_id: BTreeMap<String, &String> = p_hv.iter().map(|(n, v)| (id_of(v), n)).collect();
    let o_by_id: BTreeMap<String, &String> = o_hv.iter().map(|(n, v)| (id_of(v), n)).collect();
    // The name the plugin would give each of our instances, and how many share each name.
    let expected: BTreeMap<&String, Option<String>> =
        o_hv.iter().map(|(n, v)| (n, plugin_name(cfg, v))).collect();
    let mut sharing: BTreeMap<&str, usize> = BTreeMap::new();
    for e in expected.values().flatten() {
        *sharing.entry(e.as_str()).or_default() += 1;
    }

    // Hosts, and the plugin's name for each of our hosts (None: left out of the comparison).
    let mut name_map: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (id, p_name) in &p_by_id {
        if !o_by_id.contains_key(id) {
            d.hosts_missing.push(if **p_name == *id {
                id.clone()
            } else {
                format!("{p_name} ({id})")
            });
        }
    }
    for (id, o_name) in &o_by_id {
        let mapped = match (p_by_id.get(id), &expected[o_name]) {
            (Some(p_name), _) if p_name == o_name => Some((*p_name).clone()),
            (Some(p_name), e) => {
                if e.as_deref() == Some(p_name.as_str()) && sharing[p_name.as_str()] > 1 {
                    d.allow(Allow::SameNameMerged);
                } else {
                    d.hosts_renamed
                        .push(format!("{id}: the plugin's {p_name:?}, ours {o_name:?}"));
                }
                Some((*p_name).clone())
            }
            (None, None) => {
                d.allow(Allow::UnnamedDropped);
                None
            }
            (None, Some(e)) if p_hv.get(e).is_some_and(|v| id_of(v) != *id) => {
                d.allow(Allow::SameNameMerged);
                Some(e.clone())
            }
            (None, _) => {
                d.hosts_extra.push(format!("{o_name} ({id})"));
                Some((*o_name).clone())
            }
        };
        name_map.insert((*o_name).clone(), mapped);
    }

    // Every hostvar the plugin printed, and ours that it did not.
    for (p_name, pv) in p_hv {
        let id = id_of(pv);
        let Some(o_name) = o_by_id.get(&id) else {
            continue;
        };
        let ov = &o_hv[*o_name];
        for (k, want) in pv.as_object().expect("hostvars") {
            let got = ov.get(k);
            if got == Some(want) {
                continue;
            }
            let allowed = match k.as_str() {
                "tags" => (got.is_none() && ov.get("ecs_tags") == Some(want))
                    .then_some(Allow::TagsHostvar),
                "region" => (Some(want) == pv.get("availability_zone")
                    && got
                        .and_then(Value::as_str)
                        .is_some_and(|r| want.as_str().unwrap_or("").starts_with(r)))
                .then_some(Allow::RegionIsZone),
                "gpu" if want["spec"] == "" => got
                    .filter(|g| {
                        let mut g = (*g).clone();
                        g["spec"] = "".into();
                        g == *want
                    })
                    .map(|_| Allow::GpuSpec),
                _ => None,
            };
            match allowed {
                Some(a) => d.allow(a),
                None => d.hostvars.entry(k.clone()).or_default().push(format!(
                    "{p_name}: the plugin {}, ours {}",
                    short(Some(want)),
                    short(got)
                )),
            }
        }
        let mut extra = false;
        for (k, got) in ov.as_object().expect("hostvars") {
            if pv.get(k).is_some() {
                continue;
            }
            if cfg.compose.contains(k) {
                d.hostvars.entry(k.clone()).or_default().push(format!(
                    "{p_name}: the plugin (missing), ours {}",
                    short(Some(got))
                ));
            } else {
                d.extra_names.insert(k.clone());
                extra = true;
            }
        }
        if extra {
            d.allow(Allow::ExtraHostvars);
        }
    }

    // Every group, with our members named as the plugin named them.
    let p_groups = groups(plugin, |h| Some(h.to_string()));
    let o_groups = groups(ours, |h| {
        name_map.get(h).cloned().unwrap_or(Some(h.to_string()))
    });
    let o_raw = groups(ours, |h| Some(h.to_string()));
    let names: BTreeSet<&String> = p_groups.keys().chain(o_groups.keys()).collect();
    for name in names {
        match (p_groups.get(name), o_groups.get(name)) {
            (Some(_), None) => d.groups_missing.push(name.clone()),
            // A group of ours whose every member is an instance the plugin leaves out.
            (None, Some(g))
                if g.hosts.is_empty()
                    && g.children.is_empty()
                    && o_raw.get(name).is_some_and(|r| !r.hosts.is_empty()) =>
            {
                d.allow(Allow::UnnamedDropped)
            }
            (None, Some(_)) => d.groups_extra.push(name.clone()),
            (Some(p), Some(o)) if p != o => {
                let mut what = vec![];
                for (label, a, b) in [
                    ("hosts", &p.hosts, &o.hosts),
                    ("children", &p.children, &o.children),
                ] {
                    let only_p: BTreeSet<&String> = a.difference(b).collect();
                    let only_o: BTreeSet<&String> = b.difference(a).collect();
                    if !only_p.is_empty() {
                        what.push(format!("{label} only the plugin's {}", few(&only_p)));
                    }
                    if !only_o.is_empty() {
                        what.push(format!("{label} only ours {}", few(&only_o)));
                    }
                }
                d.groups_differing
                    .push(format!("{name}: {}", what.join("; ")));
            }
            _ => {}
        }
    }
    d
}

fn load(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs one variant against the simulator and compares.
fn run_variant(variant: &str) -> Diffs {
    let yml = fixture(&format!("alicloud-ecs/{variant}.alicloud.yml"));
    let cfg = Config::read(&std::fs::read_to_string(&yml).expect("yml"));
    let plugin = plain(&load(&fixture(&format!("alicloud-ecs/{variant}.json"))));
    let sim = Sim::start(&fixture("alicloud-ecs/fleet.json"), &[]);
    let ws = Workspace::new();
    let out = ws.run_sim(&sim, &yml, &["--list"]);
    if out.code != 0 {
        let mut d = Diffs {
            failed_run: Some(format!("exit {}: {}", out.code, out.stderr.trim())),
            ..Diffs::default()
        };
        d.hosts_missing = hostvars(&plugin).keys().cloned().collect();
        d.groups_missing = groups(&plugin, |h| Some(h.to_string()))
            .into_keys()
            .collect();
        return d;
    }
    compare(&cfg, &plugin, &plain(&out.json()))
}

/// The per-variant counts, one line each.
fn table(results: &[(&str, Diffs)]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<19} {:>4} {:>7} {:>5} {:>7} {:>8} {:>7} {:>6} {:>7}  allowed",
        "variant",
        "run",
        "missing",
        "extra",
        "renamed",
        "hostvars",
        "groups-",
        "groups+",
        "members"
    );
    for (v, d) in results {
        let allowed: Vec<String> = d
            .allowed
            .iter()
            .map(|(a, n)| format!("{a:?} {n}"))
            .collect();
        let _ = writeln!(
            s,
            "{:<19} {:>4} {:>7} {:>5} {:>7} {:>8} {:>7} {:>6} {:>7}  {}",
            v,
            if d.failed_run.is_some() { "FAIL" } else { "ok" },
            d.hosts_missing.len(),
            d.hosts_extra.len(),
            d.hosts_renamed.len(),
            d.hostvar_count(),
            d.groups_missing.len(),
            d.groups_extra.len(),
            d.groups_differing.len(),
            allowed.join(", ")
        );
    }
    s.push_str("hostvar values differing, by name:\n");
    for (v, d) in results {
        let by: Vec<String> = d
            .hostvars
            .iter()
            .map(|(k, items)| format!("{k} {}", items.len()))
            .collect();
        if !by.is_empty() {
            let _ = writeln!(s, "  {v}: {}", by.join(", "));
        }
    }
    let extra: BTreeSet<&String> = results.iter().flat_map(|(_, d)| &d.extra_names).collect();
    let _ = writeln!(s, "our extra hostvars (allowed): {extra:?}");
    s
}

fn run_all() -> Vec<(&'static str, Diffs)> {
    VARIANTS.iter().map(|v| (*v, run_variant(v))).collect()
}

/// Ours gives what the plugin gave, but for the allowed differences, on every variant.
#[test]
fn ours_equals_the_plugin() {
    let results = run_all();
    if std::env::var_os("PARITY_REPORT").is_some() {
        eprintln!("{}", table(&results));
    }
    let rows = readme_rows();
    let mut problems = String::new();
    for a in results
        .iter()
        .flat_map(|(_, d)| d.allowed.keys())
        .collect::<BTreeSet<_>>()
    {
        if !rows.contains(a.row()) {
            let _ = writeln!(
                problems,
                "  {a:?} is allowed but README.md has no row {:?} under {:?}",
                a.row(),
                SECTION.trim()
            );
        }
    }
    for (v, d) in &results {
        problems.push_str(&d.describe(v, 5));
    }
    assert!(
        problems.is_empty(),
        "ours differs from the alicloud_ecs plugin:\n{}\n{problems}",
        table(&results)
    );
}

/// Prints the per-variant counts; fails only when a variant cannot be compared at all.
#[test]
#[ignore = "a report: --ignored --nocapture"]
fn plugin_parity_report() {
    let results = run_all();
    println!("{}", table(&results));
    if std::env::var_os("PARITY_REPORT").is_some_and(|v| v == "full") {
        for (v, d) in &results {
            print!("{}", d.describe(v, 20));
        }
    }
}

/// Every YAML here has its recording, the fleet is the one recorded on, and every allowance
/// has a README row title.
#[test]
fn plugin_recordings_are_complete() {
    let mut recorded: Vec<String> = std::fs::read_dir(fixture("alicloud-ecs"))
        .expect("fixtures/alicloud-ecs")
        .filter_map(|e| {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            name.strip_suffix(".alicloud.yml").map(String::from)
        })
        .collect();
    recorded.sort();
    let mut listed: Vec<&str> = VARIANTS.to_vec();
    listed.sort();
    assert_eq!(recorded, listed, "the variants here and in VARIANTS");
    let meta = load(&fixture("alicloud-ecs/meta.json"));
    for v in VARIANTS {
        let out = plain(&load(&fixture(&format!("alicloud-ecs/{v}.json"))));
        assert!(!hostvars(&out).is_empty(), "{v}: no host recorded");
        assert!(
            out["alicloud"]["hosts"].is_array(),
            "{v}: no alicloud group"
        );
        assert!(meta["wall_seconds"][v].is_number(), "{v}: no wall time");
    }
    let fleet = std::fs::read(fixture("alicloud-ecs/fleet.json")).expect("fleet");
    assert_eq!(
        format!("{:08x}", crc32fast::hash(&fleet)),
        meta["fleet"]["crc32"].as_str().expect("crc32"),
        "fleet.json is not the fleet the plugin was recorded on: re-record (record.sh)"
    );
    for a in Allow::ALL {
        assert!(!a.row().is_empty());
    }
}

/// The comparison finds each kind of difference, and none between a recording and itself.
#[test]
fn the_comparison_finds_each_kind_of_difference() {
    let plugin = plain(&load(&fixture("alicloud-ecs/constructed.json")));
    let cfg = Config::read(
        &std::fs::read_to_string(fixture("alicloud-ecs/constructed.alicloud.yml")).unwrap(),
    );
    let same = compare(&cfg, &plugin, &plugin);
    assert_eq!(same.total(), 0, "{}", same.describe("itself", 5));
    assert!(same.allowed.is_empty());

    let mut ours = plugin.clone();
    let hv = ours["_meta"]["hostvars"].as_object_mut().unwrap();
    let names: Vec<String> = hv.keys().cloned().collect();
    // one host gone, one renamed, one hostvar changed, the tags moved to ecs_tags, region
    // made the region, one extra hostvar
    hv.remove(&names[0]);
    let moved = hv.remove(&names[1]).unwrap();
    hv.insert("renamed-host".into(), moved);
    hv[&names[2]]["instance_type"] = "ecs.other".into();
    let tags = hv[&names[3]]
        .as_object_mut()
        .unwrap()
        .remove("tags")
        .unwrap();
    hv[&names[3]]["ecs_tags"] = tags;
    let zone = hv[&names[4]]["availability_zone"]
        .as_str()
        .unwrap()
        .to_string();
    let region = &zone[..zone.rfind('-').unwrap()];
    hv[&names[4]]["region"] = region.into();
    hv[&names[4]]["region_id"] = region.into();
    hv[&names[5]]["env"] = "changed".into();
    let groups = ours.as_object_mut().unwrap();
    groups.remove("prod");
    groups.insert(
        "extra_group".into(),
        serde_json::json!({"hosts": [names[6]]}),
    );
    groups["web"]["hosts"].as_array_mut().unwrap().pop();
    let d = compare(&cfg, &plugin, &ours);
    assert_eq!(d.hosts_missing.len(), 1, "{d:?}");
    assert_eq!(d.hosts_renamed.len(), 1, "{d:?}");
    assert!(d.hosts_extra.is_empty(), "{d:?}");
    assert_eq!(d.hostvars["instance_type"].len(), 1);
    assert_eq!(d.hostvars["env"].len(), 1);
    assert!(!d.hostvars.contains_key("tags"), "{:?}", d.hostvars);
    assert!(!d.hostvars.contains_key("region_id"));
    assert_eq!(d.allowed[&Allow::TagsHostvar], 1);
    assert_eq!(d.allowed[&Allow::RegionIsZone], 1);
    assert!(!d.hostvars.contains_key("region"));
    // ecs_tags on one host, region_id on another
    assert_eq!(d.allowed[&Allow::ExtraHostvars], 2);
    assert_eq!(d.groups_missing, ["prod"]);
    assert_eq!(d.groups_extra, ["extra_group"]);
    assert_eq!(d.groups_differing.len(), 1, "{:?}", d.groups_differing);
    assert!(d.groups_differing[0].starts_with("web: hosts only the plugin's 1"));
}

/// The plugin's host-name rules as the comparison applies them (`_get_hostname`).
#[test]
fn plugin_names_follow_its_hostnames_rules() {
    let vars = serde_json::json!({
        "instance_id": "i-1", "instance_name": "web 1", "public_ip_address": "",
        "private_ip_address": "10.0.0.1", "ecs_tags": {"Name": "", "app:x": "a: b", "env": "生产"}
    });
    let cfg = |h: &[&str], contrib: bool| Config {
        hostnames: h.iter().map(|s| s.to_string()).collect(),
        contrib,
        ..Config::default()
    };
    assert_eq!(plugin_name(&cfg(&[], false), &vars).as_deref(), Some("i-1"));
    let fall = cfg(
        &["tag:Name", "public_ip_address", "private_ip_address"],
        false,
    );
    assert_eq!(plugin_name(&fall, &vars).as_deref(), Some("10.0.0.1"));
    assert_eq!(plugin_name(&cfg(&["tag:Name"], false), &vars), None);
    assert_eq!(
        plugin_name(&cfg(&["tag:app:x"], false), &vars).as_deref(),
        Some("a__b")
    );
    assert_eq!(
        plugin_name(&cfg(&["tag:nope,env=生产"], false), &vars).as_deref(),
        Some("env_生产")
    );
    assert_eq!(sanitize("1a:生-b", false), "_a_生_b");
    assert_eq!(sanitize("1a:生-b", true), "1a__-b");
}
