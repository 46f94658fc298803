//! From instances to Ansible's inventory (docs/DESIGN.md, "Groups and names"): hostnames, groups
//! and nesting.
//!
//! Hosts are sorted by name and groups refer to them by index, so a 100,000-host inventory does
//! not copy every name into every group it belongs to.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use compact_str::CompactString;

use crate::config::{Flavor, Settings};
use crate::constructed::{step, HostError};
use crate::group_names::Rule;
use crate::hostvars::{Instance, MakeShape, Shape};

#[derive(Debug)]
pub struct Host {
    pub name: String,
    pub hostvars: Box<str>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Group {
    /// Indices into `Inventory::hosts`, ascending (so sorted by name).
    pub hosts: Vec<u32>,
    pub children: BTreeSet<String>,
}

#[derive(Debug, Default)]
pub struct Inventory {
    /// Sorted by name; names are unique.
    pub hosts: Vec<Host>,
    /// Every group but `alicloud`, which is all hosts and is written from `hosts` directly.
    pub groups: BTreeMap<String, Group>,
    /// Lines the operator must see on stderr.
    pub warnings: Vec<String>,
    /// Instances left out because they have no address.
    pub without_address: usize,
    /// Instances left out by pattern_include / pattern_exclude.
    pub filtered_out: usize,
}

impl Inventory {
    /// The host named `name` (what `--host` prints the hostvars of).
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts
            .binary_search_by(|h| h.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.hosts[i])
    }
}

/// The sanitizing rules of docs/DESIGN.md, "Groups and names", as the settings set them.
#[derive(Debug, Clone, Copy)]
pub struct Namer {
    pub replace_dash: bool,
    pub ascii_only: bool,
}

impl Namer {
    pub fn from_settings(s: &Settings) -> Namer {
        Namer {
            replace_dash: s.replace_dash_in_groups,
            ascii_only: s.ascii_group_names,
        }
    }

    fn rule(&self) -> Rule {
        Rule {
            keep_dash: !self.replace_dash,
            ascii_only: self.ascii_only,
            ansible: false,
        }
    }

    /// Keeps `_`, ASCII letters and digits, and (unless ascii_only) non-ASCII letters and decimal
    /// digits, which is what Ansible's Unicode-aware check accepts; every other character is `_`.
    pub fn sanitize(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        self.rule().sanitize_into(s, &mut out);
        out
    }

    /// A group name: sanitized, with a leading `_` when it would start with a digit.
    pub fn group(&self, s: &str) -> String {
        self.rule().name(s)
    }

    /// [`Namer::group`] of the concatenated `parts`, appended to `out`.
    fn group_into(&self, parts: &[&str], out: &mut String) {
        self.rule().name_into(parts, out)
    }
}

/// A group name in [`Memberships`]: one of the fixed parents, or a range of its text.
#[derive(Clone, Copy)]
enum Name {
    Fixed(&'static str),
    Text(u32, u32),
}

impl Name {
    fn of(self, text: &str) -> &str {
        match self {
            Name::Fixed(s) => s,
            Name::Text(a, b) => &text[a as usize..b as usize],
        }
    }
}

/// One group an instance belongs to.
struct GroupLink {
    group: Name,
    /// The parent under nested_groups (docs/DESIGN.md, "Groups and names").
    parent: Option<Name>,
    /// False for a tag key group that only exists as the parent of its value groups.
    holds_host: bool,
}

/// How many group names [`Memberships`] keeps by their parts.
const MAX_MADE: usize = 1 << 16;

/// The groups of one instance, their names in one reused buffer: a host's dozen group names
/// cost no allocation each.
#[derive(Default)]
struct Memberships {
    text: String,
    list: Vec<GroupLink>,
    /// Each group name made so far, by the text of its parts: the hosts of a fleet share most
    /// of their regions, zones, types and tags, and a name is looked up for less than it costs
    /// to make.
    made: HashMap<Box<str>, Box<str>, rustc_hash::FxBuildHasher>,
    parts: String,
}

impl Memberships {
    fn clear(&mut self) {
        self.text.clear();
        self.list.clear();
    }

    fn name(&self, n: Name) -> &str {
        n.of(&self.text)
    }

    /// The groups of the host `name`, as it is put in them: without the groups only nesting
    /// keeps (and without parents) when not nested, and not in its own instance-id group when
    /// it is named like it.
    fn of_host(&mut self, inst: &Instance, s: &Settings, namer: &Namer, name: &str) {
        self.clear();
        groups_of(inst, s, namer, self);
        let id_group = self.unique(namer, &inst.id);
        let Memberships { text, list, .. } = self;
        let id_group = id_group.of(text);
        list.retain(|x| {
            let group = x.group.of(text);
            (s.nested_groups || x.holds_host) && !(group == name && group == id_group)
        });
        if !s.nested_groups {
            list.iter_mut().for_each(|x| x.parent = None);
        }
    }

    /// Writes the group name made of `parts` and returns it.
    fn group(&mut self, namer: &Namer, parts: &[&str]) -> Name {
        let start = self.text.len();
        // Sanitizing maps each character alone: the parts' name is that of their concatenation.
        self.parts.clear();
        parts.iter().for_each(|p| self.parts.push_str(p));
        match self.made.get(self.parts.as_str()) {
            Some(made) => self.text.push_str(made),
            None => {
                namer.group_into(&[&self.parts], &mut self.text);
                if self.made.len() < MAX_MADE {
                    let made = &self.text[start..];
                    self.made.insert(self.parts.as_str().into(), made.into());
                }
            }
        }
        Name::Text(start as u32, self.text.len() as u32)
    }

    /// Writes the group name of a text no other host has (an instance id), not kept.
    fn unique(&mut self, namer: &Namer, text: &str) -> Name {
        let start = self.text.len();
        namer.group_into(&[text], &mut self.text);
        Name::Text(start as u32, self.text.len() as u32)
    }

    /// Adds the group made of `parts` when `cond` holds and `value` is not empty.
    fn add(
        &mut self,
        namer: &Namer,
        cond: bool,
        value: &str,
        parts: &[&str],
        parent: Option<Name>,
    ) {
        if cond && !value.is_empty() {
            let group = self.group(namer, parts);
            self.holds(group, parent);
        }
    }

    /// The host is in `group`, itself in `parent`.
    fn holds(&mut self, group: Name, parent: Option<Name>) {
        self.list.push(GroupLink {
            group,
            parent,
            holds_host: true,
        });
    }
}

/// The groups one instance belongs to.
fn groups_of(inst: &Instance, s: &Settings, n: &Namer, out: &mut Memberships) {
    let g = &s.group_by;
    if g.instance_id && !inst.id.is_empty() {
        let group = out.unique(n, &inst.id);
        out.holds(group, Some(Name::Fixed("instances")));
    }
    out.add(
        n,
        g.region,
        &inst.region,
        &[&inst.region],
        Some(Name::Fixed("regions")),
    );
    out.add(
        n,
        g.availability_zone,
        &inst.zone,
        &[&inst.zone],
        Some(Name::Fixed("zones")),
    );
    if g.region && g.availability_zone && !inst.region.is_empty() {
        let region = out.group(n, &[&inst.region]);
        out.add(n, true, &inst.zone, &[&inst.zone], Some(region));
    }
    out.add(
        n,
        g.image_id,
        &inst.image_id,
        &[&inst.image_id],
        Some(Name::Fixed("images")),
    );
    out.add(
        n,
        g.instance_type,
        &inst.instance_type,
        &["type_", &inst.instance_type],
        Some(Name::Fixed("types")),
    );
    out.add(
        n,
        g.vpc_id,
        &inst.vpc_id,
        &["vpc_id_", &inst.vpc_id],
        Some(Name::Fixed("vpcs")),
    );
    out.add(
        n,
        g.vswitch_id,
        &inst.vswitch_id,
        &["subnet_", &inst.vswitch_id],
        Some(Name::Fixed("subnets")),
    );
    for sg in &inst.security_groups {
        out.add(
            n,
            g.security_group,
            sg,
            &["security_group_", sg],
            Some(Name::Fixed("security_groups")),
        );
    }
    if g.tag_keys {
        for (k, v) in &inst.tags {
            let key_group = out.group(n, &["tag_", k]);
            let mut add_value = |value: &str| {
                if !value.is_empty() {
                    let group = out.group(n, &["tag_", k, "_", value]);
                    out.holds(group, Some(key_group));
                }
                out.list.push(GroupLink {
                    group: key_group,
                    parent: Some(Name::Fixed("tags")),
                    holds_host: value.is_empty(),
                });
            };
            if s.expand_csv_tags && v.contains(',') {
                v.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .for_each(add_value);
            } else {
                add_value(v);
            }
        }
    }
    if g.tag_keys && g.tag_none && inst.tags.is_empty() {
        out.holds(Name::Fixed("tag_none"), Some(Name::Fixed("tags")));
    }
    out.add(
        n,
        g.instance_state,
        &inst.state,
        &["state_", &inst.state],
        None,
    );
    out.add(n, g.os_type, &inst.os_type, &["os_", &inst.os_type], None);
    out.add(
        n,
        g.key_pair,
        &inst.key_pair,
        &["key_pair_", &inst.key_pair],
        None,
    );
    out.add(
        n,
        g.resource_group,
        &inst.resource_group,
        &["resource_group_", &inst.resource_group],
        None,
    );
    out.add(
        n,
        g.charge_type,
        &inst.charge_type,
        &["charge_", &inst.charge_type],
        None,
    );
    out.add(
        n,
        g.account,
        &inst.account_alias,
        &["account_", &inst.account_alias],
        Some(Name::Fixed("accounts")),
    );
}

/// A host's name. Without a value for hostname_variable (no such tag), the address,
/// unsanitized, as in the Python script. A YAML's `hostnames` name hosts as the alicloud_ecs
/// plugin does: as they are, unless they hold `:`; where no entry gives a name (the plugin
/// drops the host), the address, else the instance id.
fn host_name(inst: &Instance, s: &Settings, namer: &Namer) -> String {
    if s.flavor == Flavor::Plugin && !s.hostnames.is_empty() {
        let raw = [&inst.hostname_source, &inst.address, &inst.id]
            .into_iter()
            .find(|t| !t.is_empty())
            .map_or("", |t| t.as_str());
        return if raw.contains(':') {
            s.naming().name(raw)
        } else {
            raw.to_string()
        };
    }
    if (s.hostname_variable.is_empty() && s.hostnames.is_empty()) || inst.hostname_source.is_empty()
    {
        inst.address.to_string()
    } else {
        namer.sanitize(&inst.hostname_source).to_lowercase()
    }
}

/// pattern_include / pattern_exclude (re.match: anchored at the start).
fn wanted(name: &str, s: &Settings) -> bool {
    s.pattern_include
        .as_ref()
        .is_none_or(|re| re.is_match(name))
        && !s
            .pattern_exclude
            .as_ref()
            .is_some_and(|re| re.is_match(name))
}

/// Ansible's `group_names` for a host: its default groups and their ancestors, and
/// `alicloud`, sorted.
fn default_group_names(inst: &Instance, s: &Settings, namer: &Namer, name: &str) -> Vec<String> {
    let mut m = Memberships::default();
    m.of_host(inst, s, namer, name);
    let mut names = vec!["alicloud"];
    for x in &m.list {
        names.extend(x.parent.map(|p| m.name(p)));
        names.push(m.name(x.group));
    }
    names.sort_unstable();
    names.dedup();
    names.into_iter().map(str::to_string).collect()
}

/// The constructed step (docs/DESIGN.md, "Constructed") as the decoder runs it on each
/// instance: names the host as the builder will, and leaves out the hosts the builder leaves
/// out. Runs where the instance's page is decoded.
pub struct Shaper<'a> {
    s: &'a Settings,
    namer: Namer,
    step: step::Step<'a>,
}

impl<'a> Shaper<'a> {
    pub fn new(s: &'a Settings) -> Shaper<'a> {
        Shaper {
            s,
            namer: Namer::from_settings(s),
            step: step::Step::new(s.constructed.as_deref()),
        }
    }
}

/// The constructed step of these settings, one per page decoder.
pub struct Shapers(pub Arc<Settings>);

impl MakeShape for Shapers {
    fn make(&self) -> Box<dyn Shape + '_> {
        Box::new(Shaper::new(&self.0))
    }
}

impl Shape for Shaper<'_> {
    fn shape(
        &mut self,
        inst: &Instance,
        reads: Vec<minijinja::Value>,
    ) -> Option<Result<step::Shaped, HostError>> {
        let (s, namer) = (self.s, &self.namer);
        let name = host_name(inst, s, namer);
        if (inst.address.is_empty() && s.require_address) || !wanted(&name, s) {
            // Left out by the builder; nothing to compute.
            return None;
        }
        Some(
            self.step
                .shape(&name, reads, || default_group_names(inst, s, namer, &name)),
        )
    }
}

/// Builds the inventory from fetched instances (already filtered by state); for the tests and
/// the fuzz targets (the `fuzzing` feature), since a run builds as pages arrive.
#[cfg(any(test, feature = "fuzzing"))]
pub fn build(instances: Vec<Instance>, s: &Settings) -> Inventory {
    let mut b = Builder::new(s);
    for inst in instances {
        b.add(inst);
    }
    b.finish()
}

/// Builds an inventory one instance at a time, so that naming and grouping run while later
/// pages are still being fetched; only what needs every host (name clashes, sorting) waits for
/// [`Builder::finish`]. Each instance is reduced at once to its name, id, hostvars and
/// (group id, parent id) pairs, with group names interned: 100,000 hosts do not each hold a
/// dozen owned group-name strings.
pub struct Builder<'a> {
    s: &'a Settings,
    namer: Namer,
    interner: Interner,
    pending: Vec<Pending>,
    scratch: Memberships,
    without_address: usize,
    filtered_out: usize,
    /// A constructed entry that failed with `strict`, and the instance id: of the host first by
    /// name, then by id, so that the message does not depend on the order pages arrive in. The
    /// build is refused.
    error: Option<(HostError, String)>,
}

impl<'a> Builder<'a> {
    pub fn new(s: &'a Settings) -> Builder<'a> {
        Builder {
            s,
            namer: Namer::from_settings(s),
            interner: Interner::default(),
            pending: Vec::new(),
            scratch: Memberships::default(),
            without_address: 0,
            filtered_out: 0,
            error: None,
        }
    }

    /// The constructed failure that ends the run, if any (docs/DESIGN.md, "Constructed").
    pub fn take_error(&mut self) -> Option<HostError> {
        self.error.take().map(|(e, _)| e)
    }

    /// Adds one instance; the caller gives each instance id once.
    pub fn add(&mut self, mut inst: Instance) {
        let (s, namer) = (self.s, &self.namer);
        if inst.address.is_empty() && s.require_address {
            self.without_address += 1;
            return;
        }
        let name = host_name(&inst, s, namer);
        if !wanted(&name, s) {
            self.filtered_out += 1;
            return;
        }
        if let Some(e) = inst.constructed_error.take() {
            // Two failing hosts of one name: the lower instance id decides, then (one id listed
            // in two accounts) the entry and the message; only equal failures remain equal.
            fn key<'e>(e: &'e HostError, id: &'e str) -> [&'e str; 4] {
                [&e.host, id, &e.entry, &e.message]
            }
            let first = |(old, old_id): &(HostError, String)| key(&e, &inst.id) < key(old, old_id);
            if self.error.as_ref().is_none_or(first) {
                self.error = Some((e, inst.id.to_string()));
            }
            return;
        }
        let m = &mut self.scratch;
        m.of_host(&inst, s, namer, &name);
        let mut groups = Vec::with_capacity(m.list.len() + inst.constructed.len());
        for x in &m.list {
            let parent = x.parent.map_or(NO_PARENT, |p| self.interner.id(m.name(p)));
            groups.push((self.interner.id(m.name(x.group)), parent, x.holds_host));
        }
        for c in inst.constructed.drain(..) {
            let parent = c
                .parent
                .map_or(NO_PARENT, |p| self.interner.id_of_shared(&p));
            groups.push((self.interner.id_of_shared(&c.group), parent, true));
        }
        self.pending.push(Pending {
            name,
            id: inst.id,
            hostvars: inst.hostvars,
            groups,
        });
    }

    pub fn finish(self) -> Inventory {
        let Builder {
            s,
            namer,
            interner,
            mut pending,
            without_address,
            filtered_out,
            ..
        } = self;
        let mut inv = Inventory {
            without_address,
            filtered_out,
            ..Default::default()
        };
        // Instances arrive in any order; renaming below follows instance ids, so that the same
        // account always gives the same names.
        // The same id listed in two accounts (one account under two aliases) is ordered by its
        // hostvars, which name the account.
        pending.sort_unstable_by(|a, b| a.id.cmp(&b.id).then_with(|| a.hostvars.cmp(&b.hostvars)));

        // Two instances with one name, or a host named like a group: suffix the instance id.
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for p in &pending {
            *counts.entry(p.name.as_str()).or_default() += 1;
        }
        let is_group = |n: &str| n == "alicloud" || interner.ids.contains_key(n);
        let clashing: BTreeSet<String> = pending
            .iter()
            .filter(|p| counts[p.name.as_str()] > 1 || is_group(&p.name))
            .map(|p| p.name.clone())
            .collect();
        drop(counts);
        // A new name must not be taken either: by a host that keeps its name, by another renamed
        // host, or by a group (`web`, `web` and a third host named `web_i_1` must stay three hosts).
        let mut taken: HashSet<String> = pending
            .iter()
            .filter(|p| !clashing.contains(&p.name))
            .map(|p| p.name.clone())
            .collect();
        let mut renamed: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for p in pending.iter_mut().filter(|p| clashing.contains(&p.name)) {
            let base = if s.flavor == Flavor::Plugin {
                format!("{}_{}", p.name, p.id)
            } else {
                format!("{}_{}", p.name, namer.sanitize(&p.id).to_lowercase())
            };
            let mut name = base.clone();
            let mut n = 2;
            while taken.contains(&name) || is_group(&name) {
                name = format!("{base}_{n}");
                n += 1;
            }
            taken.insert(name.clone());
            renamed
                .entry(std::mem::replace(&mut p.name, name.clone()))
                .or_default()
                .push(name);
        }
        for (name, new_names) in &renamed {
            let kind = if is_group(name) {
                "is also a group name"
            } else {
                "is shared by several instances"
            };
            inv.warnings.push(format!(
                "hostname '{name}' {kind}; keeping every instance as {} (set hostname_variable or hostnames to something unique)",
                new_names.join(", ")
            ));
        }

        // Sort hosts by name; indices follow that order, so group lists come out sorted.
        pending.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        let mut groups: Vec<(Vec<u32>, BTreeSet<u32>)> =
            vec![Default::default(); interner.names.len()];
        inv.hosts.reserve_exact(pending.len());
        for (idx, p) in pending.into_iter().enumerate() {
            let idx = idx as u32;
            for (g, parent, holds_host) in p.groups {
                if parent != NO_PARENT {
                    groups[parent as usize].1.insert(g);
                }
                let hosts = &mut groups[g as usize].0;
                if holds_host && hosts.last() != Some(&idx) {
                    hosts.push(idx);
                }
            }
            inv.hosts.push(Host {
                name: p.name,
                hostvars: p.hostvars,
            });
        }
        // Children are named before any name is moved out of the interner.
        let groups: Vec<Group> = groups
            .into_iter()
            .map(|(hosts, children)| Group {
                hosts,
                children: children
                    .into_iter()
                    .map(|c| interner.names[c as usize].clone())
                    .collect(),
            })
            .collect();
        inv.groups = interner.names.into_iter().zip(groups).collect();
        inv
    }
}

const NO_PARENT: u32 = u32::MAX;

/// A host between naming and output: the group ids it belongs to, with their nesting parents.
struct Pending {
    name: String,
    id: CompactString,
    hostvars: Box<str>,
    groups: Vec<(u32, u32, bool)>,
}

/// Group names to dense ids and back.
#[derive(Default)]
struct Interner {
    /// A fast hash: a W1 build looks up a dozen names per host.
    ids: HashMap<String, u32, rustc_hash::FxBuildHasher>,
    names: Vec<String>,
    /// Constructed group names by their address: a page's hosts share them (`GroupNames`), so
    /// most are found without hashing their text. Each is held, so that no other name gets its
    /// address.
    shared: HashMap<usize, (u32, Arc<str>), rustc_hash::FxBuildHasher>,
}

impl Interner {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }

    fn id_of_shared(&mut self, name: &Arc<str>) -> u32 {
        let address = Arc::as_ptr(name).cast::<u8>() as usize;
        if let Some(&(id, _)) = self.shared.get(&address) {
            return id;
        }
        let id = self.id(name);
        self.shared.insert(address, (id, name.clone()));
        id
    }
}

#[cfg(test)]
mod tests;
