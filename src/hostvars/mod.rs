//! One ECS instance, as the inventory needs it: the few typed fields that grouping and naming
//! read, and its hostvars already serialized. Serializing at once keeps a 100,000 instance run
//! from holding every API object as a JSON tree until the end.
//!
//! The hostvars follow footmark 1.26.0 (the library behind the Python alicloud.py), field by
//! field, so playbooks written against the script keep working: see docs/HOSTVARS.md.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use compact_str::CompactString;
#[cfg(test)]
use serde_json::Value;

use crate::config::{Hostname, HostnameTemplate, HostvarSelection, Settings};
use crate::constructed::step::Shaped;
use crate::constructed::{jinja_of_node, GroupNames, HostError, Membership};
use crate::json::reader::{dedup_last, Keys, Node, Tree, WriteScratch};
use crate::json::{self, write_str};

#[cfg(test)]
pub(crate) mod tests;

/// How deep an instance is read: serde_json's own limit, so that the reader declines no
/// instance serde_json reads.
pub(crate) const MAX_DEPTH: u32 = 128;

/// How hostvars and the address are built; taken from the settings.
#[derive(Debug, Clone)]
pub struct HostvarOptions {
    pub destination_variables: Vec<String>,
    pub destination_format: String,
    pub destination_format_tags: Vec<String>,
    pub hostname_variable: String,
    /// The alicloud_ecs plugin's precedence list; when set, it names hosts instead of
    /// `hostname_variable`.
    pub hostnames: Vec<Hostname>,
    pub legacy_tags_hostvar: bool,
    /// A host may lack an address (a YAML's default): then it gets no `ansible_host`.
    pub address_optional: bool,
    /// aws_ec2's `hostvars_prefix` and `hostvars_suffix`: around the name of every hostvar
    /// from the API (not composed ones, not `ansible_*`).
    pub rename: Option<(String, String)>,
    /// The account the instances belong to, when `accounts` is set: hostvars `account_alias`
    /// and `account_id`.
    pub account: Option<AccountVars>,
    /// Run the constructed step ([`Shape`]) before writing the hostvars: it adds the composed
    /// variables.
    pub keep_vars: bool,
    /// The hostvars the constructed expressions read, in the order of their slots
    /// (`Constructed::slot_names`): given to the step as values.
    pub reads: Vec<String>,
    /// The `hostvars` selection: only the hostvars it keeps are printed.
    pub selection: Option<HostvarSelection>,
}

/// The hostvars that say which account an instance belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountVars {
    pub alias: String,
    pub id: String,
}

impl HostvarOptions {
    pub fn from_settings(s: &Settings) -> HostvarOptions {
        HostvarOptions {
            destination_variables: s.destination_variables.clone(),
            destination_format: s.destination_format.clone(),
            destination_format_tags: s.destination_format_tags.clone(),
            hostname_variable: s.hostname_variable.clone(),
            hostnames: s.hostnames.clone(),
            legacy_tags_hostvar: s.legacy_tags_hostvar,
            address_optional: !s.require_address,
            rename: s.hostvars_rename.clone(),
            account: None,
            keep_vars: s.constructed.is_some(),
            // `tags`, as the plugin's users write it, reads `ecs_tags` where no `tags`
            // hostvar is made (docs/DESIGN.md, "Tags in expressions").
            reads: s
                .constructed
                .as_ref()
                .map(|c| c.slot_names())
                .unwrap_or_default()
                .into_iter()
                .map(|n| api_name(&n, s.hostvars_rename.as_ref()))
                .map(|n| match n.as_str() {
                    "tags" if !s.legacy_tags_hostvar => "ecs_tags".to_string(),
                    _ => n,
                })
                .collect(),
            selection: s.hostvars.clone(),
        }
    }
}

/// The hostvar an expression's variable `name` reads: with `hostvars_prefix`/`_suffix`, the
/// API's variables go by their new names only (an empty name reads nothing).
fn api_name(name: &str, rename: Option<&(String, String)>) -> String {
    match rename {
        Some((prefix, suffix)) if !name.starts_with("ansible_") => name
            .strip_prefix(prefix.as_str())
            .and_then(|n| n.strip_suffix(suffix.as_str()))
            .unwrap_or_default()
            .to_string(),
        _ => name.to_string(),
    }
}

/// `name` as printed: renamed when it is the API's.
fn printed_name<'n>(name: &'n str, rename: Option<&(String, String)>) -> Cow<'n, str> {
    match rename {
        Some((prefix, suffix)) if !name.starts_with("ansible_") => {
            Cow::Owned(format!("{prefix}{name}{suffix}"))
        }
        _ => Cow::Borrowed(name),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub id: CompactString,
    pub region: CompactString,
    pub zone: CompactString,
    /// Lower-case, as in `state`.
    pub state: CompactString,
    pub image_id: CompactString,
    pub instance_type: CompactString,
    pub vpc_id: CompactString,
    pub vswitch_id: CompactString,
    pub security_groups: Vec<CompactString>,
    pub tags: Vec<(CompactString, CompactString)>,
    pub os_type: CompactString,
    pub key_pair: CompactString,
    pub resource_group: CompactString,
    pub charge_type: CompactString,
    /// `ansible_host`; empty when the instance has no usable address.
    pub address: CompactString,
    /// The raw value of `hostname_variable` (not yet sanitized); empty when it has none.
    pub hostname_source: CompactString,
    /// The hostvars object, compact JSON with sorted keys; empty for a host the constructed
    /// step leaves out.
    pub hostvars: Box<str>,
    /// The alias of the account it was listed in; empty without `accounts`.
    pub account_alias: String,
    /// The constructed groups the host joins ([`Shape`]).
    pub constructed: Vec<Membership>,
    /// A constructed entry that failed for this host with `strict`.
    pub constructed_error: Option<HostError>,
}

/// A hostvar's value: one of the API's, or one made here.
#[derive(Debug, Clone, Copy)]
enum Val<'t> {
    Node(u32),
    Str(&'t str),
    EmptyList,
    /// footmark's `eip` of an instance without EipAddress.
    NoEip,
    Gpu {
        amount: Option<u32>,
        spec: Option<u32>,
    },
    List(&'t [CompactString]),
    /// Tag keys, sorted, and their values (null when the tag has none).
    Tags(&'t [(&'t str, Option<u32>)]),
}

impl<'t> Val<'t> {
    fn write(self, tree: &Tree, out: &mut Vec<u8>, scratch: &mut WriteScratch) {
        match self {
            Val::Node(n) => tree.write(n, out, scratch),
            Val::Str(s) => write_str(out, s),
            Val::EmptyList => out.extend_from_slice(b"[]"),
            Val::NoEip => out.extend_from_slice(
                br#"{"allocation_id":"","internet_charge_type":"","ip_address":""}"#,
            ),
            Val::Gpu { amount, spec } => {
                out.extend_from_slice(br#"{"amount":"#);
                match amount {
                    Some(n) => tree.write(n, out, scratch),
                    None => out.push(b'0'),
                }
                for key in [&br#","spec":"#[..], br#","specification":"#] {
                    out.extend_from_slice(key);
                    match spec {
                        Some(n) => tree.write(n, out, scratch),
                        None => out.extend_from_slice(b"\"\""),
                    }
                }
                out.push(b'}');
            }
            Val::List(items) => {
                out.push(b'[');
                for (i, s) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, s);
                }
                out.push(b']');
            }
            Val::Tags(tags) => {
                out.push(b'{');
                for (i, (k, v)) in tags.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, k);
                    out.push(b':');
                    match v {
                        Some(n) => tree.write(*n, out, scratch),
                        None => out.extend_from_slice(b"null"),
                    }
                }
                out.push(b'}');
            }
        }
    }

    /// The value as the constructed expressions see it (the hostvar's JSON, converted).
    fn to_jinja(self, tree: &Tree) -> minijinja::Value {
        use minijinja::Value as J;
        match self {
            Val::Node(n) => jinja_of_node(tree, n),
            Val::Str(s) => J::from(s),
            Val::EmptyList => J::from(Vec::<J>::new()),
            Val::NoEip => J::from_pairs(
                ["allocation_id", "internet_charge_type", "ip_address"].map(|k| (k, J::from(""))),
            ),
            Val::Gpu { amount, spec } => {
                let spec = spec.map_or_else(|| J::from(""), |n| jinja_of_node(tree, n));
                J::from_pairs([
                    (
                        "amount",
                        amount.map_or_else(|| J::from(0), |n| jinja_of_node(tree, n)),
                    ),
                    ("spec", spec.clone()),
                    ("specification", spec),
                ])
            }
            Val::List(items) => items.iter().map(|s| J::from(s.as_str())).collect(),
            // Sorted and deduplicated already (`tags_of`).
            Val::Tags(tags) => J::from_pairs(
                tags.iter()
                    .map(|&(k, v)| (k, v.map_or_else(|| J::from(()), |n| jinja_of_node(tree, n)))),
            ),
        }
    }

    /// What `hostname_variable` and `destination_variable` read from a hostvar: strings as they
    /// are, numbers and booleans printed, lists by their first string.
    fn text(self, tree: &Tree) -> CompactString {
        match self {
            Val::Node(n) => tree.as_text(n),
            Val::Str(s) => s.into(),
            Val::List(items) => items.first().cloned().unwrap_or_default(),
            Val::EmptyList | Val::NoEip | Val::Gpu { .. } | Val::Tags(_) => {
                CompactString::default()
            }
        }
    }

    fn truthy(self, tree: &Tree) -> bool {
        match self {
            Val::Node(n) => tree.truthy(n),
            Val::Str(s) => !s.is_empty(),
            Val::EmptyList => false,
            Val::List(items) => !items.is_empty(),
            Val::Tags(tags) => !tags.is_empty(),
            Val::NoEip | Val::Gpu { .. } => true,
        }
    }
}

/// footmark's rewrite of `public_ip_address` and `inner_ip_address`: `{"ip_address": [...]}`
/// becomes its first element, or "" for an empty list; any other value stays.
fn first_address(tree: &Tree, n: u32) -> Val<'static> {
    if !matches!(tree.node(n), Node::Obj { .. }) {
        return Val::Node(n);
    }
    match tree
        .get(n, tree.keys.known.ip_address)
        .and_then(|a| tree.items(a))
    {
        Some(items) => items.first().map_or(Val::Str(""), |&x| Val::Node(x)),
        None => Val::Str(""),
    }
}

/// Tag keys, sorted, and the node of each one's value.
type TagMap<'t> = Vec<(&'t str, Option<u32>)>;

/// The tags as footmark reads them: entries without a key are skipped, and of two entries with
/// one key the last value wins (a Python dict), in the place of the first. Also the tag map,
/// sorted by key.
fn tags_of<'t>(
    tree: &'t Tree,
    tags: Option<u32>,
) -> (Vec<(CompactString, CompactString)>, TagMap<'t>) {
    let known = tree.keys.known;
    let list = tags
        .and_then(|t| tree.get(t, known.tag))
        .and_then(|l| tree.items(l));
    let n = list.map_or(0, <[u32]>::len);
    let (mut pairs, mut map) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for &t in list.unwrap_or(&[]) {
        let Some(k) = tree
            .get(t, known.tag_key)
            .and_then(|k| tree.str_of(k))
            .filter(|k| !k.is_empty())
        else {
            continue;
        };
        // footmark: `tag.get('tag_value', None)`.
        let value = tree.get(t, known.tag_value);
        let text = value.and_then(|v| tree.str_of(v)).unwrap_or("");
        match pairs.iter_mut().find(|(pk, _)| pk == k) {
            Some(p) => p.1 = text.into(),
            None => pairs.push((k.into(), text.into())),
        }
        map.push((k, value));
    }
    map.sort_by(|a, b| a.0.cmp(b.0));
    dedup_last(&mut map, |a, b| a.0 == b.0);
    (pairs, map)
}

/// What `hostname_variable` and `destination_variable` name: footmark's aliases first, then
/// the hostvar of that name (the Python script's `getattr(instance, name)`).
fn alias(name: &str) -> &str {
    match name {
        "name" => "instance_name",
        "subnet_id" => "vswitch_id",
        "key_name" | "keypair" | "key_pair" => "key_pair_name",
        other => other,
    }
}

/// Working space of one page's decoding, kept between its instances.
#[derive(Default)]
pub(crate) struct Scratch {
    out: Vec<u8>,
    /// `out` again, when template values had to be marked.
    marked: Vec<u8>,
    write: WriteScratch,
    top: Vec<(u32, u32)>,
    /// What the `hostvars` selection answered for each key id so far.
    keeps: Vec<Option<bool>>,
    /// The key id of each of `HostvarOptions::reads`, once an instance of the page had it.
    read_keys: Vec<Option<u32>>,
}

/// Makes the constructed step for one page decoder (`inventory::Shapers`): pages are decoded on
/// several tasks at once, each with a step of its own. Given by the caller, so that fetching
/// needs nothing of the inventory.
pub trait MakeShape: Send + Sync {
    fn make(&self) -> Box<dyn Shape + '_>;
}

/// The constructed step (`inventory::Shaper`), run on each decoded instance whose hostvars
/// it adds to (`HostvarOptions::keep_vars`), before they are written.
pub trait Shape {
    /// `reads` holds the values of `HostvarOptions::reads`, in that order, undefined where
    /// the instance has none. None: the inventory leaves the host out, so its hostvars are
    /// not written.
    fn shape(
        &mut self,
        inst: &Instance,
        reads: Vec<minijinja::Value>,
    ) -> Option<Result<Shaped, HostError>>;
}

impl Instance {
    /// Builds an instance from one raw `Instances.Instance[]` object of DescribeInstances.
    #[cfg(test)]
    pub fn from_api(raw: Value, opts: &HostvarOptions) -> Result<Instance, String> {
        Instance::from_api_shaped(raw, opts, None)
    }

    /// [`Instance::from_api`], with the constructed step when `opts` asks for it.
    #[cfg(test)]
    pub fn from_api_shaped(
        raw: Value,
        opts: &HostvarOptions,
        shape: Option<&mut (dyn Shape + '_)>,
    ) -> Result<Instance, String> {
        let text = raw.to_string();
        let mut tree = Tree::new(&text);
        let (root, _) = tree
            .read(0, MAX_DEPTH)
            .map_err(|_| "an instance too deep to read".to_string())?;
        let mut scratch = Scratch::default();
        Instance::from_tree(&tree, root, opts, None, &mut scratch, shape)
            .map(|i| i.expect("no filter"))
    }

    /// Builds an instance from the object `root` of `tree`; None when its state is not one of
    /// `states`.
    ///
    /// Every API field is a hostvar under its converted name, as footmark parsed it (wrappers
    /// kept), except the values footmark's `Instance` rewrites: `status` lower-case,
    /// `public_ip_address` and `inner_ip_address` strings, `network_interfaces` the list inside
    /// its wrapper. On top come the keys footmark's `read()` adds (`id`, `availability_zone`,
    /// `private_ip_address`, `eip`, `gpu`, `vpc_id`, `vswitch_id`) and ours (`region`, `state`,
    /// `security_group_ids` as a list, `ecs_tags`, `ansible_host`, `ansible_ssh_host`). The
    /// fields `read()` leaves out or renames stay too, so nothing the API says is lost.
    pub(crate) fn from_tree(
        tree: &Tree,
        root: u32,
        opts: &HostvarOptions,
        states: Option<&[String]>,
        scratch: &mut Scratch,
        shape: Option<&mut (dyn Shape + '_)>,
    ) -> Result<Option<Instance>, String> {
        if !tree.is_object(root) {
            return Err("an instance that is not a JSON object".into());
        }
        let keys = &tree.keys;
        let k = keys.known;
        // The members by key, the last of duplicate keys kept: the map footmark works on.
        let top = &mut scratch.top;
        top.clear();
        top.extend_from_slice(tree.members(root));
        tree.sort_members(0, top, &mut scratch.write.orders);
        dedup_last(top, |a, b| a.0 == b.0);
        let top = &scratch.top[..];
        let get = |key: u32| {
            top.binary_search_by_key(&keys.rank(key), |&(k, _)| keys.rank(k))
                .ok()
                .map(|i| top[i].1)
        };
        let text = |key: u32| get(key).and_then(|n| tree.str_of(n)).unwrap_or("");

        let id = text(k.instance_id);
        if id.is_empty() {
            return Err("an instance without InstanceId".into());
        }
        // footmark's Instance.__setattr__ lower-cases the status.
        let status = text(k.status);
        let state = if status.is_ascii() {
            // Unicode's lowercasing walks each character: ten times the cost, same result.
            let mut s = CompactString::from(status);
            s.make_ascii_lowercase();
            s
        } else {
            CompactString::from_str_to_lowercase(status)
        };
        if states.is_some_and(|s| !s.iter().any(|x| *x == state)) {
            return Ok(None);
        }
        let inner = get(k.inner_ip_address).map(|n| first_address(tree, n));
        let mut public = get(k.public_ip_address).map_or(Val::Str(""), |n| first_address(tree, n));
        let eip_address = get(k.eip_address);
        // footmark falls back to the EIP only when EipAddress came before PublicIpAddress in
        // the answer; we always do.
        if !public.truthy(tree) {
            if let Some(ip) = eip_address
                .and_then(|e| tree.get(e, k.ip_address))
                .filter(|&ip| tree.truthy(ip))
            {
                public = Val::Node(ip);
            }
        }
        let nics = match get(k.network_interfaces) {
            Some(n) if tree.is_object(n) => tree
                .get(n, k.network_interface)
                .filter(|&l| tree.is_array(l))
                .map_or(Val::EmptyList, Val::Node),
            Some(n) if tree.is_array(n) => Val::Node(n),
            _ => Val::EmptyList,
        };

        // What read() derives.
        let vpc = get(k.vpc_attributes);
        let in_vpc = |key: u32| vpc.and_then(|v| tree.get(v, key));
        let private = in_vpc(k.private_ip_address)
            .and_then(|p| tree.get(p, k.ip_address))
            .and_then(|a| tree.items(a))
            .and_then(|a| a.first())
            .map(|&n| Val::Node(n))
            .or(inner)
            .unwrap_or(Val::Str(""));
        let node_or_empty = |n: Option<u32>| n.map_or(Val::Str(""), Val::Node);
        let vpc_id = in_vpc(k.vpc_id);
        let vswitch_id = in_vpc(k.vswitch_id);
        let zone = get(k.zone_id);
        let eip = eip_address.map_or(Val::NoEip, Val::Node);
        // footmark never fills `spec` (it is always ""); we give GPUSpec in both.
        let gpu = Val::Gpu {
            amount: get(k.gpuamount),
            spec: get(k.gpuspec),
        };
        let (tags, tag_map) = tags_of(tree, get(k.tags));
        let security_groups: Vec<CompactString> = get(k.security_group_ids)
            .and_then(|s| tree.get(s, k.security_group_id))
            .and_then(|l| tree.items(l))
            .unwrap_or(&[])
            .iter()
            .filter_map(|&n| tree.str_of(n))
            .filter(|s| !s.is_empty())
            .map(CompactString::from)
            .collect();
        let str_of = |n: Option<u32>| n.and_then(|n| tree.str_of(n)).unwrap_or("");
        let region = text(k.region_id);
        let status_is_text = get(k.status).is_some_and(|n| tree.str_of(n).is_some());

        // The API's fields, then what replaces or joins them (the later of one key wins).
        let mut vars: Vec<(u32, Val)> = Vec::with_capacity(top.len() + 24);
        let mut extra: Vec<(u32, Val)> = Vec::with_capacity(24);
        for &(key, v) in top {
            if key == k.inner_ip_address
                || key == k.public_ip_address
                || key == k.network_interfaces
            {
                continue;
            }
            if key == k.status && status_is_text {
                vars.push((key, Val::Str(&state)));
            } else if keys.is_renamed(key) {
                // No hostvar may carry one of Ansible's reserved names: such a field moves to
                // `ecs_`.
                extra.push((keys.renamed(key), Val::Node(v)));
            } else {
                vars.push((key, Val::Node(v)));
            }
        }
        extra.extend([
            (k.id, Val::Str(id)),
            (k.state, Val::Str(&state)),
            (k.availability_zone, node_or_empty(zone)),
            (k.region, Val::Str(region)),
            (k.private_ip_address, private),
            (k.public_ip_address, public),
        ]);
        if let Some(inner) = inner {
            extra.push((k.inner_ip_address, inner));
        }
        extra.extend([
            (k.eip, eip),
            (k.gpu, gpu),
            (k.vpc_id, node_or_empty(vpc_id)),
            (k.vswitch_id, node_or_empty(vswitch_id)),
            (k.security_group_ids, Val::List(&security_groups)),
            (k.network_interfaces, nics),
        ]);
        if opts.legacy_tags_hostvar {
            extra.push((k.tags, Val::Tags(&tag_map)));
        }
        extra.push((k.ecs_tags, Val::Tags(&tag_map)));
        if let Some(account) = &opts.account {
            extra.push((k.account_alias, Val::Str(&account.alias)));
            extra.push((k.account_id, Val::Str(&account.id)));
        }
        let mut vars = merge(vars, extra, keys);
        let find = |vars: &[(u32, Val)], key: u32| {
            vars.binary_search_by_key(&keys.rank(key), |&(k, _)| keys.rank(k))
        };

        let mut inst = Instance {
            id: id.into(),
            region: region.into(),
            zone: str_of(zone).into(),
            state: CompactString::default(),
            image_id: text(k.image_id).into(),
            instance_type: text(k.instance_type).into(),
            vpc_id: str_of(vpc_id).into(),
            vswitch_id: str_of(vswitch_id).into(),
            os_type: text(k.ostype).into(),
            key_pair: text(k.key_pair_name).into(),
            resource_group: text(k.resource_group_id).into(),
            charge_type: text(k.instance_charge_type).into(),
            security_groups: Vec::new(),
            tags,
            address: CompactString::default(),
            hostname_source: CompactString::default(),
            hostvars: Box::from(""),
            account_alias: opts
                .account
                .as_ref()
                .map(|a| a.alias.clone())
                .unwrap_or_default(),
            constructed: Vec::new(),
            constructed_error: None,
        };
        let lookup = |name: &str| {
            keys.id(alias(name))
                .and_then(|key| find(&vars, key).ok())
                .map_or_else(CompactString::default, |i| vars[i].1.text(tree))
        };
        inst.address = inst.destination(&lookup, opts);
        let present = |name: &str| {
            keys.id(alias(name))
                .is_some_and(|key| find(&vars, key).is_ok())
        };
        let render = |t: &HostnameTemplate| {
            let slots = t
                .compiled
                .slot_names()
                .iter()
                .map(|n| match n.as_str() {
                    "tags" if !opts.legacy_tags_hostvar => "ecs_tags",
                    n => n,
                })
                .map(|n| {
                    keys.id(alias(n))
                        .and_then(|key| find(&vars, key).ok())
                        .map_or(minijinja::Value::UNDEFINED, |i| vars[i].1.to_jinja(tree))
                })
                .collect();
            let mut names = GroupNames::default();
            let Ok(out) = t.compiled.apply_slots("", slots, &[], &mut names) else {
                return CompactString::default();
            };
            out.vars
                .first()
                .map_or_else(CompactString::default, |(_, at)| {
                    let json = &out.json[at.clone()];
                    serde_json::from_str::<String>(json)
                        .map_or_else(|_| json.into(), CompactString::from)
                })
        };
        let names = HostnameSources {
            lookup: &lookup,
            present: &present,
            render: &render,
        };
        inst.hostname_source = inst.hostname_value(&names, opts);
        // The constructed step, on every variable before the selection, with the instance's
        // grouping fields (a copy: `vars` borrows them).
        let mut shaped = Shaped::default();
        if let Some(shape) = shape.filter(|_| opts.keep_vars) {
            let read_keys = &mut scratch.read_keys;
            read_keys.resize(opts.reads.len(), None);
            let reads = opts
                .reads
                .iter()
                .zip(read_keys.iter_mut())
                .map(|(name, id)| {
                    if id.is_none() {
                        *id = keys.id(name);
                    }
                    *id
                })
                .map(|id| match id {
                    Some(key) if key == k.ansible_host || key == k.ansible_ssh_host => {
                        minijinja::Value::from(inst.address.as_str())
                    }
                    Some(key) => find(&vars, key)
                        .map_or(minijinja::Value::UNDEFINED, |i| vars[i].1.to_jinja(tree)),
                    None => minijinja::Value::UNDEFINED,
                })
                .collect();
            inst.state = state.clone();
            inst.security_groups = security_groups.clone();
            match shape.shape(&inst, reads) {
                None => return Ok(Some(inst)),
                Some(Ok(mut s)) => {
                    inst.constructed = std::mem::take(&mut s.groups);
                    shaped = s;
                }
                Some(Err(e)) => inst.constructed_error = Some(e),
            }
        }
        let address = inst.address.as_str();
        // A host without an address (a YAML's, which needs none) gets no `ansible_host`.
        let no_address = address.is_empty() && opts.address_optional;
        for key in [k.ansible_host, k.ansible_ssh_host]
            .into_iter()
            .filter(|_| !no_address)
        {
            match find(&vars, key) {
                Ok(i) => vars[i].1 = Val::Str(address),
                Err(i) => vars.insert(i, (key, Val::Str(address))),
            }
        }

        let keeps = &mut scratch.keeps;
        if opts.selection.is_some() {
            keeps.resize(keys.len(), None);
        }
        let out = &mut scratch.out;
        out.clear();
        out.push(b'{');
        // Composed variables, sorted by name, go in their place (found by name: `vars` is
        // sorted by name too), over any hostvar of their name; the selection keeps every one.
        // Renamed hostvars sort otherwise: the composed ones are put in after.
        let rename = opts.rename.as_ref();
        let composed: &[(Arc<str>, Range<usize>)] = match rename {
            Some(_) => &[],
            None => &shaped.composed,
        };
        let places: Vec<(usize, bool)> = composed
            .iter()
            .map(|(name, _)| {
                // The first byte decides most steps, without a call to memcmp.
                let by_name = |&(key, _): &(u32, Val)| {
                    let text = keys.text(key);
                    match text.as_bytes().first().cmp(&name.as_bytes().first()) {
                        std::cmp::Ordering::Equal => text.cmp(name),
                        other => other,
                    }
                };
                match vars.binary_search_by(by_name) {
                    Ok(i) => (i, true),
                    Err(i) => (i, false),
                }
            })
            .collect();
        let json = shaped.json.as_bytes();
        let put = |out: &mut Vec<u8>, (name, at): &(Arc<str>, Range<usize>)| {
            if out.len() > 1 {
                out.push(b',');
            }
            write_str(out, name);
            out.push(b':');
            out.extend_from_slice(&json[at.clone()]);
        };
        let mut c = 0;
        for (i, &(key, v)) in vars.iter().enumerate() {
            let mut replaced = false;
            while let Some(&(_, over)) = places.get(c).filter(|&&(at, _)| at == i) {
                put(out, &composed[c]);
                replaced |= over;
                c += 1;
            }
            if replaced {
                continue;
            }
            if let Some(sel) = &opts.selection {
                let keep = *keeps[key as usize]
                    .get_or_insert_with(|| sel.keeps(&printed_name(keys.text(key), rename)));
                if !keep {
                    continue;
                }
            }
            if out.len() > 1 {
                out.push(b',');
            }
            match rename {
                None => out.extend_from_slice(keys.json(key)),
                Some(_) => {
                    write_str(out, &printed_name(keys.text(key), rename));
                    out.push(b':');
                }
            }
            v.write(tree, out, &mut scratch.write);
        }
        for rest in &composed[c..] {
            put(out, rest);
        }
        out.push(b'}');
        if rename.is_some() {
            with_composed(out, &shaped);
        }
        // Cloud data is never template text for Ansible (docs/DESIGN.md, "Untrusted values").
        json::mark_unsafe(out, &mut scratch.marked);
        inst.hostvars = simdutf8::basic::from_utf8(out)
            .expect("written from UTF-8")
            .into();
        inst.state = state;
        inst.security_groups = security_groups;
        Ok(Some(inst))
    }

    fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `destination_format` with tag values when both format options are set, else the first
    /// non-empty of the destination variables.
    fn destination(
        &self,
        lookup: &dyn Fn(&str) -> CompactString,
        opts: &HostvarOptions,
    ) -> CompactString {
        if !opts.destination_format.is_empty() && !opts.destination_format_tags.is_empty() {
            let mut out = opts.destination_format.clone();
            for (i, tag) in opts.destination_format_tags.iter().enumerate() {
                out = out.replace(&format!("{{{i}}}"), self.tag(tag).unwrap_or(""));
            }
            return out.into();
        }
        opts.destination_variables
            .iter()
            .map(|v| lookup(v))
            .find(|s| !s.is_empty())
            .unwrap_or_default()
    }

    /// The raw value `hostname_variable` names; empty when there is none, and the inventory then
    /// names the host by its address, as the Python script did.
    fn hostname_value(&self, names: &HostnameSources, opts: &HostvarOptions) -> CompactString {
        if !opts.hostnames.is_empty() {
            return self.preferred_hostname(names, &opts.hostnames);
        }
        let var = opts.hostname_variable.as_str();
        if var.is_empty() {
            return self.address.clone();
        }
        if let Some(key) = var.strip_prefix("tag_") {
            return self.tag(key).unwrap_or("").into();
        }
        (names.lookup)(var)
    }

    /// The first non-empty entry of the plugin's `hostnames` list: a hostvar, or a tag's value
    /// (`K`), or `K_V` when tag K is V; empty when none gives a name.
    fn preferred_hostname(&self, names: &HostnameSources, hostnames: &[Hostname]) -> CompactString {
        hostnames
            .iter()
            .map(|h| self.hostname_of(names, h, false))
            .find(|name| !name.is_empty())
            .unwrap_or_default()
    }

    /// One entry's name; `literal`: a word that is no hostvar of the instance is itself
    /// (aws_ec2's rule, in its mapping entries).
    fn hostname_of(&self, names: &HostnameSources, h: &Hostname, literal: bool) -> CompactString {
        match h {
            Hostname::Var(var) if literal && !(names.present)(var) => var.as_str().into(),
            Hostname::Var(var) => (names.lookup)(var),
            Hostname::Tags(prefs) => prefs
                .iter()
                .find_map(|(k, want)| match (self.tag(k), want) {
                    (Some(v), Some(want)) if v == want => Some(format!("{k}_{v}").into()),
                    (Some(v), None) if !v.is_empty() => Some(v.into()),
                    _ => None,
                })
                .unwrap_or_default(),
            Hostname::Template(t) => (names.render)(t),
            Hostname::Joined {
                name,
                prefix,
                separator,
            } => {
                let name = self.hostname_of(names, name, true);
                let prefix = prefix
                    .as_ref()
                    .map(|p| self.hostname_of(names, p, true))
                    .unwrap_or_default();
                if name.is_empty() || prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}{separator}{name}").into()
                }
            }
        }
    }
}

/// What a host name can be made of: a hostvar's text, whether the instance has a hostvar,
/// and a rendered template.
struct HostnameSources<'a> {
    lookup: &'a dyn Fn(&str) -> CompactString,
    present: &'a dyn Fn(&str) -> bool,
    render: &'a dyn Fn(&HostnameTemplate) -> CompactString,
}

/// The renamed hostvars in `out` with the composed variables over them, sorted by name.
fn with_composed(out: &mut Vec<u8>, shaped: &Shaped) {
    let Ok(mut vars) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(out)
    else {
        return;
    };
    for (name, at) in &shaped.composed {
        if let Ok(v) = serde_json::from_str(&shaped.json[at.clone()]) {
            vars.insert(name.to_string(), v);
        }
    }
    out.clear();
    serde_json::to_writer(&mut *out, &vars).expect("a map of JSON values serializes");
}

/// `base` (sorted, one entry per key) with `extra` put in order over it: of one key, the last
/// entry of `extra` wins.
fn merge<V: Copy>(base: Vec<(u32, V)>, mut extra: Vec<(u32, V)>, keys: &Keys) -> Vec<(u32, V)> {
    extra.sort_by_key(|&(k, _)| keys.rank(k));
    dedup_last(&mut extra, |a, b| a.0 == b.0);
    let mut out = Vec::with_capacity(base.len() + extra.len());
    let rank_at = |e: usize| extra.get(e).map_or(u32::MAX, |&(k, _)| keys.rank(k));
    let (mut e, mut next) = (0, rank_at(0));
    for &(k, v) in &base {
        let rank = keys.rank(k);
        while next < rank {
            out.push(extra[e]);
            e += 1;
            next = rank_at(e);
        }
        // Equal ranks are equal keys: the extra one replaces the API's.
        if next != rank {
            out.push((k, v));
        }
    }
    out.extend_from_slice(&extra[e..]);
    out
}
