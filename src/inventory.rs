//! From instances to Ansible's inventory (docs/DESIGN.md, "Groups and names"): hostnames, groups
//! and nesting.
//!
//! Hosts are sorted by name and groups refer to them by index, so a 100,000-host inventory does
//! not copy every name into every group it belongs to.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use compact_str::CompactString;
use regex::Regex;

use crate::constructed::{step, HostError};
use crate::instance::{Instance, MakeShape, Shape};
use crate::settings::Settings;

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

/// The sanitizing rules of docs/DESIGN.md, "Groups and names".
#[derive(Debug, Clone, Copy)]
pub struct Namer {
    pub replace_dash: bool,
    pub ascii_only: bool,
}

/// The ASCII bytes a group name keeps: `_`, letters and digits, and (`KEEP_DASH`) `-`.
const fn keep_table(dash: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = c == b'_' || c.is_ascii_alphanumeric() || (dash && c == b'-');
        b += 1;
    }
    t
}
static KEEP: [bool; 256] = keep_table(false);
static KEEP_DASH: [bool; 256] = keep_table(true);

fn letter_or_decimal() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[\p{L}\p{Nd}]$").expect("static regex"))
}

fn is_decimal(c: char) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    c.is_ascii_digit()
        || (!c.is_ascii()
            && RE
                .get_or_init(|| Regex::new(r"^\p{Nd}$").expect("static regex"))
                .is_match(c.encode_utf8(&mut [0; 4])))
}

impl Namer {
    pub fn from_settings(s: &Settings) -> Namer {
        Namer {
            replace_dash: s.replace_dash_in_groups,
            ascii_only: s.ascii_group_names,
        }
    }

    /// Keeps `_`, ASCII letters and digits, and (unless ascii_only) non-ASCII letters and decimal
    /// digits, which is what Ansible's Unicode-aware check accepts; every other character is `_`.
    pub fn sanitize(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        self.sanitize_into(s, &mut out);
        out
    }

    /// [`Namer::sanitize`], appended to `out`.
    fn sanitize_into(&self, s: &str, out: &mut String) {
        let table = if self.replace_dash { &KEEP } else { &KEEP_DASH };
        if s.is_ascii() {
            // Most names: copied in runs between the bytes replaced.
            let mut from = 0;
            for (i, &b) in s.as_bytes().iter().enumerate() {
                if !table[b as usize] {
                    out.push_str(&s[from..i]);
                    out.push('_');
                    from = i + 1;
                }
            }
            out.push_str(&s[from..]);
            return;
        }
        out.extend(s.chars().map(|c| {
            let keep = if c.is_ascii() {
                table[c as usize]
            } else {
                !self.ascii_only && letter_or_decimal().is_match(c.encode_utf8(&mut [0; 4]))
            };
            if keep {
                c
            } else {
                '_'
            }
        }));
    }

    /// A group name: sanitized, with a leading `_` when it would start with a digit.
    pub fn group(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 1);
        self.group_into(&[s], &mut out);
        out
    }

    /// [`Namer::group`] of the concatenated `parts`, appended to `out`.
    fn group_into(&self, parts: &[&str], out: &mut String) {
        let start = out.len();
        for part in parts {
            self.sanitize_into(part, out);
        }
        if out[start..].chars().next().is_some_and(is_decimal) {
            out.insert(start, '_');
        }
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
struct Membership {
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
    list: Vec<Membership>,
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
        self.list.push(Membership {
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
                out.list.push(Membership {
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
/// unsanitized, as in the Python script.
fn host_name(inst: &Instance, s: &Settings, namer: &Namer) -> String {
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
        if inst.address.is_empty() || !wanted(&name, s) {
            // Left out by the builder; nothing to compute.
            return None;
        }
        Some(
            self.step
                .shape(&name, reads, || default_group_names(inst, s, namer, &name)),
        )
    }
}

/// Builds the inventory from fetched instances (already filtered by state).
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
        if inst.address.is_empty() {
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
            s: _,
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
            let base = format!("{}_{}", p.name, namer.sanitize(&p.id).to_lowercase());
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
mod tests {
    use super::*;
    use crate::instance::HostvarOptions;
    use crate::settings::Env;
    use serde_json::json;

    fn settings() -> Settings {
        Settings::from_ini(None, &Env::default()).unwrap()
    }

    fn inst(id: &str, name: &str, tags: &[(&str, &str)], s: &Settings) -> Instance {
        decode(raw(id, name, tags), s)
    }

    /// The instance as a fetch decodes it, the constructed step included.
    fn decode(raw: serde_json::Value, s: &Settings) -> Instance {
        let opts = HostvarOptions::from_settings(s);
        Instance::from_api_shaped(raw, &opts, Some(&mut Shaper::new(s))).unwrap()
    }

    fn raw(id: &str, name: &str, tags: &[(&str, &str)]) -> serde_json::Value {
        let tags: Vec<_> = tags
            .iter()
            .map(|(k, v)| json!({"TagKey": k, "TagValue": v}))
            .collect();
        json!({
            "InstanceId": id, "RegionId": "cn-hangzhou", "ZoneId": "cn-hangzhou-g", "Status": "Running",
            "ImageId": "m-bp1", "InstanceType": "ecs.g6.large", "InstanceName": name,
            "VpcAttributes": {"VpcId": "vpc-1", "VSwitchId": "vsw-1", "PrivateIpAddress": {"IpAddress": ["10.0.0.1"]}},
            "PublicIpAddress": {"IpAddress": ["47.0.0.1"]},
            "SecurityGroupIds": {"SecurityGroupId": ["sg-1"]},
            "Tags": {"Tag": tags}
        })
    }

    fn hosts_of(inv: &Inventory, group: &str) -> Vec<String> {
        inv.groups[group]
            .hosts
            .iter()
            .map(|&i| inv.hosts[i as usize].name.clone())
            .collect()
    }

    #[test]
    fn sanitizing_keeps_unicode_letters_and_maps_the_rest() {
        let n = Namer {
            replace_dash: true,
            ascii_only: false,
        };
        assert_eq!(n.sanitize("cn-hangzhou"), "cn_hangzhou");
        assert_eq!(n.sanitize("tag_env=prod"), "tag_env_prod");
        assert_eq!(n.sanitize("a b:c.d"), "a_b_c_d");
        assert_eq!(n.sanitize("tag_env_生产"), "tag_env_生产");
        assert_eq!(n.sanitize("é½²"), "é__", "No-category digits are not kept");
        assert_eq!(n.group("1web"), "_1web");
        assert_eq!(n.group("٣x"), "_٣x", "a Unicode decimal digit also leads");
        let ascii = Namer {
            replace_dash: false,
            ascii_only: true,
        };
        assert_eq!(ascii.sanitize("tag_env_生产-x"), "tag_env___-x");
    }

    /// Names kept from earlier hosts are the names a host alone gets, whatever the split of
    /// their parts (`tag_` `a_b` and `tag_a` `_b`), characters and leading digits.
    #[test]
    fn group_names_kept_between_hosts_are_those_made_afresh() {
        let s = settings();
        let namer = Namer::from_settings(&s);
        let tag_sets: [&[(&str, &str)]; 5] = [
            &[("a_b", "x"), ("env", "prod")],
            &[("a", "b_x"), ("env", "生产-1")],
            &[("1st", "9"), ("a_b", "")],
            &[("env", "prod"), ("a_b", "x"), ("tier", "prod")],
            &[("é½²", "v w"), ("a", "b_x")],
        ];
        let mut kept = Memberships::default();
        let names = |m: &Memberships| -> Vec<(String, Option<String>, bool)> {
            m.list
                .iter()
                .map(|x| {
                    let parent = x.parent.map(|p| m.name(p).to_string());
                    (m.name(x.group).to_string(), parent, x.holds_host)
                })
                .collect()
        };
        for round in 0..2 {
            for (n, tags) in tag_sets.iter().enumerate() {
                let i = inst(&format!("i-{n}"), "web", tags, &s);
                let mut fresh = Memberships::default();
                fresh.of_host(&i, &s, &namer, "web");
                kept.of_host(&i, &s, &namer, "web");
                assert!(!fresh.list.is_empty());
                assert_eq!(names(&kept), names(&fresh), "round {round}, host {n}");
                if n == 3 {
                    let groups: Vec<_> = names(&kept).into_iter().map(|x| x.0).collect();
                    for g in [
                        "tag_env_prod",
                        "tag_tier_prod",
                        "tag_a_b_x",
                        "type_ecs_g6_large",
                    ] {
                        assert!(groups.iter().any(|x| x == g), "{g} in {groups:?}");
                    }
                }
            }
        }
        assert!(kept.made.len() > 10, "names were kept: {}", kept.made.len());
        assert!(
            !kept.made.values().any(|n| n.starts_with("i_")),
            "instance ids are not kept"
        );
    }

    #[test]
    fn default_groups_and_no_group_named_like_its_host() {
        let s = settings();
        let inv = build(
            vec![
                inst("i-b", "b", &[("env", "prod"), ("empty", "")], &s),
                inst("i-a", "a", &[], &s),
            ],
            &s,
        );
        let names: Vec<_> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, vec!["i_a", "i_b"]);
        assert!(!inv.groups.contains_key("i_a") && !inv.groups.contains_key("i_b"));
        for g in [
            "cn_hangzhou",
            "cn_hangzhou_g",
            "m_bp1",
            "type_ecs_g6_large",
            "vpc_id_vpc_1",
            "subnet_vsw_1",
            "security_group_sg_1",
        ] {
            assert_eq!(hosts_of(&inv, g), vec!["i_a", "i_b"], "{g}");
        }
        assert_eq!(hosts_of(&inv, "tag_env_prod"), vec!["i_b"]);
        assert_eq!(hosts_of(&inv, "tag_empty"), vec!["i_b"]);
        assert_eq!(hosts_of(&inv, "tag_none"), vec!["i_a"]);
        assert!(
            !inv.groups.contains_key("tag_env"),
            "no key group without nesting"
        );
        assert!(inv.warnings.is_empty());
    }

    #[test]
    fn duplicate_names_both_stay_with_a_warning() {
        let mut s = settings();
        s.hostname_variable = "tag_Name".into();
        let inv = build(
            vec![
                inst("i-1", "", &[("Name", "web")], &s),
                inst("i-2", "", &[("Name", "web")], &s),
                inst("i-3", "", &[], &s),
            ],
            &s,
        );
        let names: Vec<_> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["47.0.0.1", "web_i_1", "web_i_2"],
            "no Name tag falls back to the address"
        );
        assert_eq!(inv.warnings.len(), 1);
        assert!(
            inv.warnings[0].contains("'web' is shared"),
            "{}",
            inv.warnings[0]
        );
    }

    #[test]
    fn host_is_found_by_its_final_name_only() {
        let mut s = settings();
        s.hostname_variable = "tag_Name".into();
        let inv = build(
            vec![
                inst("i-2", "", &[("Name", "web")], &s),
                inst("i-1", "", &[("Name", "web")], &s),
                inst("i-3", "", &[], &s),
            ],
            &s,
        );
        for (name, id) in [("web_i_1", "i-1"), ("web_i_2", "i-2"), ("47.0.0.1", "i-3")] {
            let vars: serde_json::Value =
                serde_json::from_str(&inv.host(name).expect(name).hostvars).unwrap();
            assert_eq!(vars["id"], id, "{name}");
        }
        assert!(inv.host("web").is_none(), "the clashing name is no host");
        assert!(inv.host("i_3").is_none() && inv.host("").is_none());
    }

    #[test]
    fn a_new_name_is_never_one_already_taken() {
        let mut s = settings();
        s.hostname_variable = "tag_Name".into();
        let inv = build(
            vec![
                inst("i-1", "", &[("Name", "web")], &s),
                inst("i-2", "", &[("Name", "web")], &s),
                inst("i-3", "", &[("Name", "web_i_1")], &s),
            ],
            &s,
        );
        let names: Vec<_> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, vec!["web_i_1", "web_i_1_2", "web_i_2"]);
        assert!(
            inv.warnings[0].contains("keeping every instance as web_i_1_2, web_i_2"),
            "{:?}",
            inv.warnings
        );
    }

    #[test]
    fn host_named_like_a_group_is_renamed() {
        let mut s = settings();
        s.hostname_variable = "tag_Name".into();
        let inv = build(vec![inst("i-1", "", &[("Name", "cn-hangzhou")], &s)], &s);
        assert_eq!(inv.hosts[0].name, "cn_hangzhou_i_1");
        assert!(inv.warnings[0].contains("also a group name"));
    }

    #[test]
    fn nested_groups_and_csv_tags() {
        let mut s = settings();
        s.nested_groups = true;
        s.expand_csv_tags = true;
        let inv = build(vec![inst("i-1", "", &[("svc", "a, b")], &s)], &s);
        assert_eq!(hosts_of(&inv, "tag_svc_a"), vec!["i_1"]);
        assert_eq!(hosts_of(&inv, "tag_svc_b"), vec!["i_1"]);
        let children = |g: &str| inv.groups[g].children.iter().cloned().collect::<Vec<_>>();
        assert_eq!(children("tag_svc"), vec!["tag_svc_a", "tag_svc_b"]);
        assert!(inv.groups["tag_svc"].hosts.is_empty());
        assert_eq!(children("tags"), vec!["tag_svc"]);
        assert_eq!(children("regions"), vec!["cn_hangzhou"]);
        assert_eq!(children("cn_hangzhou"), vec!["cn_hangzhou_g"]);
        assert_eq!(children("zones"), vec!["cn_hangzhou_g"]);
        assert!(
            !inv.groups.contains_key("instances"),
            "its only child is named like the host"
        );
    }

    #[test]
    fn account_groups_and_one_id_in_two_accounts() {
        let mut s = settings();
        s.group_by.account = true;
        s.nested_groups = true;
        let in_account = |alias: &str| {
            let mut opts = HostvarOptions::from_settings(&s);
            opts.account = Some(crate::instance::AccountVars {
                alias: alias.into(),
                id: format!("id-{alias}"),
            });
            let raw = json!({"InstanceId": "i-1", "RegionId": "cn-hangzhou", "Status": "Running",
                "PublicIpAddress": {"IpAddress": ["47.0.0.1"]}});
            Instance::from_api(raw, &opts).unwrap()
        };
        // Whatever order they arrive in, the same instance listed under two aliases gets the
        // same names.
        for order in [["prod", "dev-1"], ["dev-1", "prod"]] {
            let inv = build(order.iter().map(|a| in_account(a)).collect(), &s);
            assert_eq!(hosts_of(&inv, "account_dev_1"), vec!["i_1_i_1"]);
            assert_eq!(hosts_of(&inv, "account_prod"), vec!["i_1_i_1_2"]);
            let children: Vec<_> = inv.groups["accounts"].children.iter().collect();
            assert_eq!(children, ["account_dev_1", "account_prod"]);
            let vars: serde_json::Value =
                serde_json::from_str(&inv.host("i_1_i_1_2").unwrap().hostvars).unwrap();
            assert_eq!(
                (vars["account_alias"].as_str(), vars["account_id"].as_str()),
                (Some("prod"), Some("id-prod"))
            );
        }
        let one = in_account("prod");
        s.group_by.account = false;
        let inv = build(vec![one], &s);
        assert!(
            inv.groups.keys().all(|g| !g.starts_with("account")),
            "{:?}",
            inv.groups.keys()
        );
    }

    #[test]
    fn patterns_match_at_the_start() {
        let mut s = settings();
        s.pattern_include = Some(crate::settings::parse_pattern("i_[ab]").unwrap());
        s.pattern_exclude = Some(crate::settings::parse_pattern("b").unwrap());
        let inv = build(
            vec![
                inst("i-a", "", &[], &s),
                inst("i-b", "", &[], &s),
                inst("x-i-a", "", &[], &s),
            ],
            &s,
        );
        let names: Vec<_> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, vec!["i_a", "i_b"]);
        assert_eq!(inv.filtered_out, 1);
    }

    #[test]
    fn hostile_names_stay_valid_and_apart() {
        let mut s = settings();
        s.hostname_variable = "tag_Name".into();
        let long = "x".repeat(10_000);
        let inv = build(
            vec![
                // Punctuation only: a name of underscores, still a valid, distinct host.
                inst(
                    "i-1",
                    "",
                    &[("Name", "!!!"), ("a.b", "c"), ("a-b", "c")],
                    &s,
                ),
                // An empty Name falls back to the address.
                inst("i-2", "", &[("Name", ""), (long.as_str(), "生产 ☃")], &s),
                inst("i-3", "", &[("Name", "\u{0}\n\t"), ("😀", "")], &s),
            ],
            &s,
        );
        let names: Vec<_> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
        // "!!!" and "\0\n\t" both become "___": kept apart by their ids, with a warning.
        assert_eq!(names, vec!["47.0.0.1", "____i_1", "____i_3"]);
        assert_eq!(inv.warnings.len(), 1);
        // "a.b" and "a-b" sanitize to one group, which holds the host once.
        assert_eq!(hosts_of(&inv, "tag_a_b_c").len(), 1);
        assert!(inv.groups.contains_key(&format!("tag_{long}_生产__")));
        assert!(
            inv.groups.contains_key("tag__"),
            "an emoji key is replaced, not dropped"
        );
        for g in inv.groups.keys() {
            assert!(
                !g.is_empty() && g.chars().all(|c| c == '_' || c.is_alphanumeric()),
                "{g:?}"
            );
        }
        let mut seen = std::collections::HashSet::new();
        assert!(
            names.iter().all(|n| seen.insert(*n)),
            "names are unique: {names:?}"
        );
    }

    #[test]
    fn zones_nest_under_regions_only_when_both_switches_are_on() {
        let mut s = settings();
        s.nested_groups = true;
        s.group_by.region = false;
        let inv = build(vec![inst("i-1", "", &[], &s)], &s);
        assert!(!inv.groups.contains_key("cn_hangzhou"), "no region group");
        assert_eq!(hosts_of(&inv, "cn_hangzhou_g"), vec!["i_1"]);
        let mut s = settings();
        s.group_by.availability_zone = false;
        for nested in [false, true] {
            s.nested_groups = nested;
            let inv = build(vec![inst("i-1", "", &[], &s)], &s);
            assert!(
                !inv.groups.contains_key("cn_hangzhou_g"),
                "nested: {nested}"
            );
            assert_eq!(hosts_of(&inv, "cn_hangzhou"), vec!["i_1"]);
            assert!(inv.groups["cn_hangzhou"].children.is_empty());
        }
    }

    #[test]
    fn comma_values_are_split_only_when_asked_and_tag_none_needs_both_switches() {
        let mut s = settings();
        let inv = build(
            vec![
                inst("i-1", "", &[("svc", "a, b")], &s),
                inst("i-2", "", &[], &s),
            ],
            &s,
        );
        assert_eq!(hosts_of(&inv, "tag_svc_a__b"), vec!["i_1"]);
        assert!(!inv.groups.contains_key("tag_svc_a"));
        assert_eq!(hosts_of(&inv, "tag_none"), vec!["i_2"]);
        for off in ["tag_keys", "tag_none"] {
            s = settings();
            match off {
                "tag_keys" => s.group_by.tag_keys = false,
                _ => s.group_by.tag_none = false,
            }
            let inv = build(
                vec![
                    inst("i-1", "", &[("svc", "a")], &s),
                    inst("i-2", "", &[], &s),
                ],
                &s,
            );
            assert!(!inv.groups.contains_key("tag_none"), "{off} off");
            assert_eq!(inv.groups.contains_key("tag_svc_a"), off == "tag_none");
        }
    }

    #[test]
    fn instances_without_an_address_are_counted_and_left_out() {
        let s = settings();
        let none = |id: &str| {
            let mut i = inst(id, "", &[], &s);
            i.address.clear();
            i
        };
        let inv = build(vec![none("i-1"), inst("i-2", "", &[], &s), none("i-3")], &s);
        assert_eq!(inv.without_address, 2);
        let names: Vec<_> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, vec!["i_2"]);
        assert_eq!(inv.filtered_out, 0);
    }

    #[test]
    fn the_suffix_counts_up_past_every_taken_name() {
        let mut s = settings();
        s.hostname_variable = "tag_Name".into();
        let inv = build(
            vec![
                inst("i-1", "", &[("Name", "web")], &s),
                inst("i-2", "", &[("Name", "web")], &s),
                inst("i-3", "", &[("Name", "web_i_1")], &s),
                inst("i-4", "", &[("Name", "web_i_1_2")], &s),
                inst("i-5", "", &[("Name", "web_i_1_3")], &s),
            ],
            &s,
        );
        let names: Vec<_> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["web_i_1", "web_i_1_2", "web_i_1_3", "web_i_1_4", "web_i_2"]
        );
        let vars: serde_json::Value =
            serde_json::from_str(&inv.host("web_i_1_4").unwrap().hostvars).unwrap();
        assert_eq!(vars["id"], "i-1");
    }

    /// Settings from `[ecs]` lines, for the constructed options.
    fn with(lines: &str) -> Settings {
        let ini =
            crate::ini::Ini::parse(std::path::Path::new("a.ini"), &format!("[ecs]\n{lines}\n"))
                .unwrap();
        Settings::from_ini(Some(&ini), &Env::default()).unwrap()
    }

    fn vars_of(inv: &Inventory, host: &str) -> serde_json::Value {
        serde_json::from_str(&inv.host(host).expect(host).hostvars).unwrap()
    }

    /// Keyed group names outlive their page for the next page of the same configuration on
    /// the thread (the very names are shared), and never serve another configuration.
    #[test]
    fn keyed_group_names_are_kept_for_the_next_page_of_their_configuration_only() {
        let a = with("keyed_groups = [{key: zone_id, prefix: a}]");
        let b = with("keyed_groups = [{key: zone_id, prefix: b}]");
        let page = |s: &Settings| {
            let body = json!({"TotalCount": 1, "Instances": {"Instance": [raw("i-1", "", &[])]}})
                .to_string();
            let opts = HostvarOptions::from_settings(s);
            let (_, mut list) = crate::fetch::parse_page_shaped(
                200,
                body.as_bytes(),
                &opts,
                Some(&Shapers(Arc::new(s.clone()))),
            )
            .unwrap();
            list.remove(0).constructed.remove(0).group
        };
        let (first, second) = (page(&a), page(&a));
        assert_eq!(&*first, "a_cn_hangzhou_g");
        assert!(Arc::ptr_eq(&first, &second), "kept for the next page");
        assert_eq!(&*page(&b), "b_cn_hangzhou_g");
        let after = page(&a);
        assert_eq!(&*after, "a_cn_hangzhou_g");
        assert!(
            !Arc::ptr_eq(&first, &after),
            "another configuration came between"
        );
    }

    /// A page resolves the keys of the variables the entries read once: a variable that only a
    /// later instance of the page has is still read for it, and each host gets its own.
    #[test]
    fn a_variable_only_later_instances_of_a_page_have_is_read_for_them() {
        let s = with("compose = {sn: serial_number, kp: key_pair_name | upper}");
        let instance = |id: &str, extra: serde_json::Value| {
            let mut raw = raw(id, "", &[]);
            raw.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            raw
        };
        let body = json!({"TotalCount": 3, "Instances": {"Instance": [
            instance("i-1", json!({})),
            instance("i-2", json!({"SerialNumber": "sn-2", "KeyPairName": "k2"})),
            instance("i-3", json!({"SerialNumber": "sn-3", "KeyPairName": "k3"})),
        ]}})
        .to_string();
        let opts = HostvarOptions::from_settings(&s);
        let (_, list) = crate::fetch::parse_page_shaped(
            200,
            body.as_bytes(),
            &opts,
            Some(&Shapers(Arc::new(s.clone()))),
        )
        .unwrap();
        let inv = build(list, &s);
        let mut got: Vec<_> = inv
            .hosts
            .iter()
            .map(|h| {
                let v: serde_json::Value = serde_json::from_str(&h.hostvars).unwrap();
                (v["id"].clone(), v.get("sn").cloned(), v.get("kp").cloned())
            })
            .collect();
        got.sort_by_key(|(id, _, _)| id.to_string());
        assert_eq!(
            got,
            vec![
                (json!("i-1"), None, None),
                (json!("i-2"), Some(json!("sn-2")), Some(json!("K2"))),
                (json!("i-3"), Some(json!("sn-3")), Some(json!("K3")))
            ]
        );
    }

    #[test]
    fn group_names_are_the_default_groups_the_host_is_in() {
        let s = with("compose = {g: group_names}");
        let inv = build(
            vec![inst("i-a", "", &[("env", "prod"), ("empty", "")], &s)],
            &s,
        );
        // Not its own instance-id group (the host is named like it), nor the tag key group
        // that exists only under nesting.
        assert_eq!(
            vars_of(&inv, "i_a")["g"],
            json!([
                "alicloud",
                "cn_hangzhou",
                "cn_hangzhou_g",
                "m_bp1",
                "security_group_sg_1",
                "subnet_vsw_1",
                "tag_empty",
                "tag_env_prod",
                "type_ecs_g6_large",
                "vpc_id_vpc_1"
            ])
        );
        // Named otherwise, the host is in its instance-id group; nested, in every ancestor.
        let s =
            with("compose = {g: group_names}\nnested_groups = True\nhostname_variable = tag_Name");
        let inv = build(
            vec![inst("i-a", "", &[("Name", "web"), ("env", "prod")], &s)],
            &s,
        );
        assert_eq!(
            vars_of(&inv, "web")["g"],
            json!([
                "alicloud",
                "cn_hangzhou",
                "cn_hangzhou_g",
                "i_a",
                "images",
                "instances",
                "m_bp1",
                "regions",
                "security_group_sg_1",
                "security_groups",
                "subnet_vsw_1",
                "subnets",
                "tag_Name",
                "tag_Name_web",
                "tag_env",
                "tag_env_prod",
                "tags",
                "type_ecs_g6_large",
                "types",
                "vpc_id_vpc_1",
                "vpcs",
                "zones"
            ])
        );
    }

    #[test]
    fn the_shaper_shapes_only_the_hosts_the_builder_keeps() {
        let s = with("compose = {g: group_names}\npattern_exclude = i_b");
        let mut without = raw("i-a", "", &[]);
        without["VpcAttributes"]["PrivateIpAddress"]["IpAddress"] = json!([]);
        without["PublicIpAddress"]["IpAddress"] = json!([]);
        let no_address = decode(without, &s);
        let excluded = inst("i-b", "", &[], &s);
        let kept = inst("i-c", "", &[], &s);
        assert_eq!(no_address.address, "");
        assert_eq!(&*no_address.hostvars, "");
        assert_eq!(&*excluded.hostvars, "");
        assert!(
            kept.hostvars.contains(r#""g":["alicloud","#),
            "{}",
            kept.hostvars
        );
        let inv = build(vec![kept], &s);
        assert_eq!(vars_of(&inv, "i_c")["g"][0], "alicloud");
    }

    #[test]
    fn a_strict_failure_is_the_one_of_the_host_first_by_name() {
        let s = with("compose = {x: nope.y}\nstrict = True");
        for order in [["i-b", "i-a", "i-c"], ["i-a", "i-c", "i-b"]] {
            let mut b = Builder::new(&s);
            for id in order {
                b.add(inst(id, "", &[], &s));
            }
            let e = b.take_error().expect("a strict failure");
            assert_eq!(e.host, "i_a", "{order:?}");
            assert!(b.take_error().is_none(), "taken once");
            assert!(b.finish().hosts.is_empty(), "no failing host is built");
        }
    }

    #[test]
    fn of_two_failing_hosts_with_one_name_the_lower_instance_id_is_reported() {
        let s = with(
            "hostname_variable = instance_name\ncompose = {x: ecs_tags.k1, z: ecs_tags.k2}\nstrict = True",
        );
        for order in [["i-a", "i-b"], ["i-b", "i-a"]] {
            let mut b = Builder::new(&s);
            for id in order {
                // i-a lacks k1 (fails on x), i-b lacks k2 (fails on z).
                let tag = if id == "i-a" {
                    ("k2", "v")
                } else {
                    ("k1", "v")
                };
                b.add(inst(id, "web", &[tag], &s));
            }
            let e = b.take_error().expect("a strict failure");
            assert_eq!(
                (e.host.as_str(), e.entry.as_str()),
                ("web", "compose.x"),
                "{order:?}"
            );
        }
        // One id listed in two accounts, failing on different entries: the entry decides.
        for tags in [[("k2", "v"), ("k1", "v")], [("k1", "v"), ("k2", "v")]] {
            let mut b = Builder::new(&s);
            for tag in tags {
                b.add(inst("i-a", "web", &[tag], &s));
            }
            let e = b.take_error().expect("a strict failure");
            assert_eq!(e.entry, "compose.x", "{tags:?}");
        }
    }
}
