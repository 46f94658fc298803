//! `--graph [GROUP]`: the group tree, byte for byte as `ansible-inventory --graph [GROUP]`
//! (ansible-core 2.19) prints it for this inventory (docs/DESIGN.md, "Command line").
//!
//! It is computed from the `--list` output, the same bytes Ansible's script plugin reads, so
//! every group the output holds is drawn, whatever made it. Ansible's order is the order in
//! which its `InventoryData` met groups and hosts, nothing is sorted when drawing:
//! - groups are known in the order `all`, `ungrouped`, then each top-level key of the JSON in
//!   document order, with the groups named in its `children` right after it;
//! - a group's hosts and children keep the order of its `hosts` and `children` lists;
//! - `all` has `ungrouped` first, then every group without a parent, in the order known;
//! - `ungrouped` holds the hosts that are in no group but `all`;
//! - the hosts of `all` are never drawn.
//!
//! Each line is `"  |" * depth + "--" + name` (just the name at depth 0), groups as `@NAME:`.
//! Only the groups are parsed: `_meta` (the hostvars, nearly all of the bytes) is stepped over
//! by a scan that follows only strings and braces, in less than half the instructions serde
//! needs to skip it.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{self, Write};

use rustc_hash::FxBuildHasher;

use crate::json::reader::ws;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

/// A name as it appears in the JSON, borrowed unless it holds escapes.
#[derive(Deserialize)]
struct Name<'a>(#[serde(borrow)] Cow<'a, str>);

/// One group of the `--list` output (its `vars`, if any, are not drawn).
#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(default, borrow)]
    hosts: Vec<Name<'a>>,
    #[serde(default, borrow)]
    children: Vec<Name<'a>>,
}

/// The top-level groups in document order, `_meta` skipped unread.
struct Groups<'a>(Vec<(Cow<'a, str>, Entry<'a>)>);

impl<'de> Deserialize<'de> for Groups<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Groups<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an inventory object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Groups<'de>, A::Error> {
                let mut groups = Vec::new();
                while let Some(Name(key)) = map.next_key()? {
                    if key == "_meta" {
                        map.next_value::<IgnoredAny>()?;
                    } else {
                        groups.push((key, map.next_value()?));
                    }
                }
                Ok(Groups(groups))
            }
        }
        d.deserialize_map(V)
    }
}

const ALL: usize = 0;
const UNGROUPED: usize = 1;

/// Groups and hosts as Ansible's `InventoryData` holds them after `reconcile_inventory()`.
pub struct Tree {
    groups: Vec<String>,
    group_ids: HashMap<String, usize, FxBuildHasher>,
    children: Vec<Vec<usize>>,
    has_parent: Vec<bool>,
    hosts: Vec<Vec<u32>>,
    host_names: Vec<String>,
}

/// A group to draw from, checked by [`Tree::start`].
#[derive(Debug, Clone, Copy)]
pub struct Start(usize);

/// Why the tree could not be drawn.
#[derive(Debug)]
pub enum GraphError {
    /// The `--list` output is not an inventory (a damaged cache, never our own output).
    Json(serde_json::Error),
    /// The group asked for is not in the inventory.
    UnknownGroup(String),
    /// A group is its own ancestor (Ansible refuses such an inventory too).
    Loop(String),
}

impl Tree {
    /// The tree of a `--list` output.
    pub fn from_list(json: &[u8]) -> Result<Tree, GraphError> {
        match meta_span(json) {
            // The groups after `_meta` are parsed from a copy (they are a small part).
            Some((start, end)) if end < json.len() => {
                let mut rest = Vec::with_capacity(start + 2 + json.len() - end);
                rest.extend_from_slice(&json[..start]);
                rest.extend_from_slice(b"{}");
                rest.extend_from_slice(&json[end..]);
                let Groups(entries) = serde_json::from_slice(&rest).map_err(GraphError::Json)?;
                Tree::from_groups(entries)
            }
            _ => {
                let Groups(entries) = serde_json::from_slice(json).map_err(GraphError::Json)?;
                Tree::from_groups(entries)
            }
        }
    }

    fn from_groups(entries: Vec<(Cow<'_, str>, Entry<'_>)>) -> Result<Tree, GraphError> {
        let mut t = Tree {
            groups: Vec::new(),
            group_ids: HashMap::with_capacity_and_hasher(entries.len() + 2, FxBuildHasher),
            children: Vec::new(),
            has_parent: Vec::new(),
            hosts: Vec::new(),
            host_names: Vec::new(),
        };
        t.group("all");
        t.group("ungrouped");
        t.children[ALL].push(UNGROUPED);
        t.has_parent[UNGROUPED] = true;

        // A key given twice counts once, with its last value (a Python dict).
        let mut last: HashMap<&str, usize, FxBuildHasher> =
            HashMap::with_capacity_and_hasher(entries.len(), FxBuildHasher);
        for (i, (name, _)) in entries.iter().enumerate() {
            last.insert(name, i);
        }
        // Usually one group (`alicloud`) holds every host.
        let most = entries.iter().map(|(_, e)| e.hosts.len()).max();
        let mut host_ids: HashMap<&str, u32, FxBuildHasher> =
            HashMap::with_capacity_and_hasher(most.unwrap_or(0), FxBuildHasher);
        // Per host and per group: the entry that last added it, so each list is de-duplicated.
        let mut host_mark: Vec<usize> = Vec::new();
        let mut child_mark: Vec<usize> = Vec::new();
        let mut seen: HashSet<&str, FxBuildHasher> =
            HashSet::with_capacity_and_hasher(entries.len(), FxBuildHasher);
        let order: Vec<usize> = entries
            .iter()
            .filter(|(name, _)| seen.insert(name))
            .map(|(name, _)| last[name.as_ref()])
            .collect();
        for (epoch, i) in order.into_iter().enumerate() {
            let epoch = epoch + 1;
            let (name, entry) = &entries[i];
            let g = t.group(name);
            for Name(h) in &entry.hosts {
                let next = t.host_names.len() as u32;
                let id = *host_ids.entry(h).or_insert(next);
                if id == next {
                    t.host_names.push(h.to_string());
                    host_mark.push(0);
                }
                if host_mark[id as usize] != epoch {
                    host_mark[id as usize] = epoch;
                    t.hosts[g].push(id);
                }
            }
            for Name(c) in &entry.children {
                let c = t.group(c);
                child_mark.resize(t.groups.len(), 0);
                if c == g {
                    return Err(GraphError::Loop(t.groups[g].to_string()));
                }
                if child_mark[c] != epoch && !(g == ALL && c == UNGROUPED) {
                    child_mark[c] = epoch;
                    t.children[g].push(c);
                    t.has_parent[c] = true;
                }
            }
        }
        t.reconcile();
        Ok(t)
    }

    fn group(&mut self, name: &str) -> usize {
        if let Some(&g) = self.group_ids.get(name) {
            return g;
        }
        let g = self.groups.len();
        self.group_ids.insert(name.to_string(), g);
        self.groups.push(name.to_string());
        self.children.push(Vec::new());
        self.has_parent.push(false);
        self.hosts.push(Vec::new());
        g
    }

    /// `InventoryData.reconcile_inventory()`: parentless groups under `all`, hosts in no group
    /// but `all` into `ungrouped` (and out of it when they are in another group).
    fn reconcile(&mut self) {
        for g in UNGROUPED..self.groups.len() {
            if !self.has_parent[g] {
                self.has_parent[g] = true;
                self.children[ALL].push(g);
            }
        }
        let n = self.host_names.len();
        let (mut in_other, mut in_ungrouped) = (vec![false; n], vec![false; n]);
        for (g, hosts) in self.hosts.iter().enumerate() {
            for &h in hosts {
                match g {
                    ALL => {}
                    UNGROUPED => in_ungrouped[h as usize] = true,
                    _ => in_other[h as usize] = true,
                }
            }
        }
        self.hosts[UNGROUPED].retain(|&h| !in_other[h as usize]);
        for h in 0..n {
            if !in_other[h] && !in_ungrouped[h] {
                self.hosts[UNGROUPED].push(h as u32);
            }
        }
    }

    /// The group to draw from (`all` for the whole inventory), once it is known that it exists
    /// and that no group under it is its own ancestor, so that drawing cannot fail half-way.
    pub fn start(&self, group: &str) -> Result<Start, GraphError> {
        let Some(&g) = self.group_ids.get(group) else {
            return Err(GraphError::UnknownGroup(group.to_string()));
        };
        // 0: not seen, 1: on the current path, 2: seen with all below it.
        let mut state = vec![0u8; self.groups.len()];
        self.check_loops(g, &mut state)?;
        Ok(Start(g))
    }

    fn check_loops(&self, g: usize, state: &mut [u8]) -> Result<(), GraphError> {
        match state[g] {
            1 => return Err(GraphError::Loop(self.groups[g].clone())),
            2 => return Ok(()),
            _ => {}
        }
        state[g] = 1;
        for &c in &self.children[g] {
            self.check_loops(c, state)?;
        }
        state[g] = 2;
        Ok(())
    }

    /// Draws the tree from `start`.
    pub fn write<W: Write>(&self, start: &Start, out: &mut W) -> io::Result<()> {
        self.write_group(start.0, 0, out)
    }

    fn write_group<W: Write>(&self, g: usize, depth: usize, out: &mut W) -> io::Result<()> {
        line(out, depth, &["@", &self.groups[g], ":"])?;
        for &c in &self.children[g] {
            self.write_group(c, depth + 1, out)?;
        }
        if g != ALL {
            for &h in &self.hosts[g] {
                line(out, depth + 1, &[&self.host_names[h as usize]])?;
            }
        }
        Ok(())
    }

    /// Number of groups, `all` and `ungrouped` included.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Number of distinct hosts.
    pub fn host_count(&self) -> usize {
        self.host_names.len()
    }
}

/// Where the value of the top-level key `_meta` starts and ends, when it is an object; found
/// without parsing, by following only strings and braces (brackets can be ignored: a key is a
/// string followed by `:`, which no array holds). `None` when there is no such key or the JSON
/// is cut short (the parser then says what is wrong).
fn meta_span(json: &[u8]) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'"' => {
                let end = string_end(json, i + 1)?;
                if depth == 1 && &json[i..end] == b"\"_meta\"" {
                    let v = ws(json, end);
                    if json.get(v) == Some(&b':') {
                        let v = ws(json, v + 1);
                        return (json.get(v) == Some(&b'{'))
                            .then(|| object_end(json, v))
                            .flatten()
                            .map(|e| (v, e));
                    }
                }
                i = end;
                continue;
            }
            b'{' => depth += 1,
            b'}' => depth = depth.checked_sub(1)?,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index just past the object that opens at `start`.
fn object_end(json: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < json.len() {
        match json[i] {
            b'"' => {
                i = string_end(json, i + 1)?;
                continue;
            }
            b'{' => depth += 1,
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index just past the closing quote of the string whose contents start at `i`. Strings
/// are most of the hostvars' bytes, so they are crossed eight bytes at a time.
fn string_end(json: &[u8], mut i: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A high bit in each byte of `w` equal to `b`; exact up to the first such byte, which is all
    // that is used (a borrow can only mark bytes above a true match).
    let bytes_equal = |w: u64, b: u8| {
        let x = w ^ (ONES * u64::from(b));
        x.wrapping_sub(ONES) & !x & HIGH
    };
    loop {
        while let Some(chunk) = json.get(i..i + 8) {
            let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            let found = bytes_equal(w, b'"') | bytes_equal(w, b'\\');
            if found != 0 {
                i += (found.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        match json.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
}

fn line<W: Write>(out: &mut W, depth: usize, parts: &[&str]) -> io::Result<()> {
    for _ in 0..depth {
        out.write_all(b"  |")?;
    }
    if depth > 0 {
        out.write_all(b"--")?;
    }
    for p in parts {
        out.write_all(p.as_bytes())?;
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(json: &str, start: &str) -> String {
        let t = Tree::from_list(json.as_bytes()).unwrap();
        let mut out = Vec::new();
        t.write(&t.start(start).unwrap(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ansible_order_ungrouped_first_children_before_hosts() {
        // Written as ansible-core 2.19 draws this script output (checked against it).
        let json = r#"{"_meta":{"hostvars":{"h1":{"x":[1,{"y":"}"}]},"h2":{}}},
            "alicloud":{"hosts":["h2","h1"]},
            "regions":{"children":["r_b","r_a"],"hosts":[]},
            "r_a":{"hosts":["h1"]},"r_b":{"children":["z_b"],"hosts":[]},"z_b":{"hosts":["h2"]},
            "empty":{"hosts":[]}}"#;
        assert_eq!(
            graph(json, "all"),
            "@all:\n  |--@ungrouped:\n  |--@alicloud:\n  |  |--h2\n  |  |--h1\n  |--@regions:\n\
             \x20 |  |--@r_b:\n  |  |  |--@z_b:\n  |  |  |  |--h2\n  |  |--@r_a:\n  |  |  |--h1\n\
             \x20 |--@empty:\n"
        );
        assert_eq!(graph(json, "r_b"), "@r_b:\n  |--@z_b:\n  |  |--h2\n");
        let t = Tree::from_list(json.as_bytes()).unwrap();
        assert!(matches!(
            t.start("nope"),
            Err(GraphError::UnknownGroup(g)) if g == "nope"
        ));
        assert_eq!((t.group_count(), t.host_count()), (8, 2));
    }

    #[test]
    fn hosts_of_all_only_are_ungrouped_and_all_hosts_are_not_drawn() {
        let json =
            r#"{"all":{"hosts":["a","b"]},"ungrouped":{"hosts":["c","b"]},"g":{"hosts":["b"]}}"#;
        assert_eq!(
            graph(json, "all"),
            "@all:\n  |--@ungrouped:\n  |  |--c\n  |  |--a\n  |--@g:\n  |  |--b\n"
        );
    }

    #[test]
    fn the_scan_steps_over_any_meta_exactly() {
        // Escapes, braces and `_meta` inside strings, at every offset of the 8-byte steps.
        for pad in 0..20 {
            let a = "a".repeat(pad);
            let meta = format!(
                r#"{{"hostvars":{{"h{a}":{{"s":"{a}\"}}{{\\","_meta":"\\\"_meta\":{{","t":[{{"u":"}}"}}]}}}}}}"#
            );
            let json = format!(
                r#"{{"A{a}":{{"hosts":["h{a}"]}}, "_meta" : {meta} ,"g":{{"hosts":["h{a}"],"children":["A{a}"]}}}}"#
            );
            let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
            let (start, end) = meta_span(json.as_bytes()).expect("found");
            assert_eq!(&json[start..end], meta, "pad {pad}");
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&json[start..end]).unwrap(),
                parsed["_meta"]
            );
            assert_eq!(
                graph(&json, "all"),
                format!("@all:\n  |--@ungrouped:\n  |--@g:\n  |  |--@A{a}:\n  |  |  |--h{a}\n  |  |--h{a}\n")
            );
        }
        // No `_meta`, or one that is not an object: the parser reads everything.
        assert_eq!(meta_span(br#"{"g":{"hosts":["_meta"]}}"#), None);
        assert_eq!(meta_span(br#"{"_meta":[]}"#), None);
        assert_eq!(meta_span(br#"{"_meta":{"hostvars":{"#), None);
        assert_eq!(
            graph(r#"{"g":{"hosts":["_meta"]}}"#, "g"),
            "@g:\n  |--_meta\n"
        );
    }

    #[test]
    fn duplicates_and_loops() {
        let json = r#"{"g":{"hosts":["a","a"],"children":["k","k"]},"k":{"hosts":[]}}"#;
        assert_eq!(graph(json, "g"), "@g:\n  |--@k:\n  |--a\n");
        let looped = r#"{"a":{"children":["b"]},"b":{"children":["a"]}}"#;
        let t = Tree::from_list(looped.as_bytes()).unwrap();
        assert!(matches!(t.start("a"), Err(GraphError::Loop(_))));
        // Only the part drawn is checked, as only it is drawn.
        assert!(t.start("all").is_ok());
        assert!(matches!(Tree::from_list(b"[1]"), Err(GraphError::Json(_))));
    }
}
