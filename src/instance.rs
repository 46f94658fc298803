//! One ECS instance, as the inventory needs it: the few typed fields that grouping and naming
//! read, and its hostvars already serialized. Serializing at once keeps a 100,000 instance run
//! from holding every API object as a JSON tree until the end.
//!
//! The hostvars follow footmark 1.26.0 (the library behind the Python alicloud.py), field by
//! field, so playbooks written against the script keep working: see docs/HOSTVARS.md.

use serde_json::{Map, Value};

use crate::constructed::{HostError, Membership};
use crate::settings::{Hostname, Settings};

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
    /// The account the instances belong to, when `accounts` is set: hostvars `account_alias`
    /// and `account_id`.
    pub account: Option<AccountVars>,
    /// Keep the hostvars as a map (`Instance::vars`) for the constructed step or the hostvar
    /// selection, which serialize them once they are done.
    pub keep_vars: bool,
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
            account: None,
            keep_vars: s.constructed.is_some() || s.hostvars.is_some(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub id: String,
    pub region: String,
    pub zone: String,
    /// Lower-case, as in `state`.
    pub state: String,
    pub image_id: String,
    pub instance_type: String,
    pub vpc_id: String,
    pub vswitch_id: String,
    pub security_groups: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub os_type: String,
    pub key_pair: String,
    pub resource_group: String,
    pub charge_type: String,
    /// `ansible_host`; empty when the instance has no usable address.
    pub address: String,
    /// The raw value of `hostname_variable` (not yet sanitized); empty when it has none.
    pub hostname_source: String,
    /// The hostvars object, compact JSON with sorted keys; empty when `vars` holds them.
    pub hostvars: Box<str>,
    /// The alias of the account it was listed in; empty without `accounts`.
    pub account_alias: String,
    /// The hostvars as a map, when `HostvarOptions::keep_vars` asks for it, until the
    /// constructed step (`inventory::prepare`) serializes them.
    pub vars: Option<Map<String, Value>>,
    /// The constructed groups the host joins (`inventory::prepare`).
    pub constructed: Vec<Membership>,
    /// A constructed entry that failed for this host with `strict`.
    pub constructed_error: Option<HostError>,
}

/// Ansible's reserved variable names (ansible-core `vars/reserved.py`, 2.19): a hostvar with one
/// of these names makes every Ansible run warn, so API fields that would get one are prefixed.
pub const RESERVED: &[&str] = &[
    "action",
    "always",
    "any_errors_fatal",
    "args",
    "async",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "block",
    "changed_when",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "delay",
    "delegate_facts",
    "delegate_to",
    "diff",
    "environment",
    "fact_path",
    "failed_when",
    "force_handlers",
    "gather_facts",
    "gather_subset",
    "gather_timeout",
    "handlers",
    "hosts",
    "ignore_errors",
    "ignore_unreachable",
    "import_playbook",
    "include",
    "include_role",
    "include_tasks",
    "listen",
    "local_action",
    "loop",
    "loop_control",
    "max_fail_percentage",
    "module_defaults",
    "name",
    "no_log",
    "notify",
    "order",
    "poll",
    "port",
    "post_tasks",
    "pre_tasks",
    "register",
    "remote_user",
    "rescue",
    "retries",
    "role",
    "roles",
    "run_once",
    "serial",
    "strategy",
    "tags",
    "tasks",
    "throttle",
    "timeout",
    "until",
    "vars",
    "vars_files",
    "vars_prompt",
    "when",
    "with_",
];

/// `InstanceId` → `instance_id`, `OSName` → `osname`, `VSwitchId` → `vswitch_id`: a word starts at
/// each run of upper-case letters, as the Python script's library converted names.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_upper = true;
    for c in name.chars() {
        let upper = c.is_ascii_uppercase();
        if upper && !prev_upper {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
        prev_upper = upper;
    }
    out
}

/// Converts keys recursively, as footmark's `parse_value` does. Wrapper objects such as
/// `{"IpAddress": [...]}` stay objects: footmark unwraps only a few top-level fields, one by one
/// (see [`Instance::from_converted`]).
fn convert(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (snake_case(&k), convert(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(convert).collect()),
        other => other,
    }
}

/// An API value deserialized with its keys converted on the way in, as `convert` would
/// leave it: one tree is built instead of a raw tree and then a converted copy, which roughly
/// halves the allocations of decoding a page.
pub struct Converted(pub Value);

impl<'de> serde::Deserialize<'de> for Converted {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Converted, D::Error> {
        d.deserialize_any(ConvertVisitor).map(Converted)
    }
}

struct ConvertVisitor;

impl<'de> serde::de::Visitor<'de> for ConvertVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Converted(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(SnakeKey(k)) = map.next_key()? {
            let Converted(v) = map.next_value()?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

/// A map key, converted to snake_case as it is read.
struct SnakeKey(String);

impl<'de> serde::Deserialize<'de> for SnakeKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SnakeKey, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = SnakeKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E>(self, v: &str) -> Result<SnakeKey, E> {
                Ok(SnakeKey(snake_case(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// Python's truth value of a JSON value: footmark tests its fields with `if value:`.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// footmark's rewrite of `public_ip_address` and `inner_ip_address`: `{"ip_address": [...]}`
/// becomes its first element, or "" for an empty list; any other value stays.
fn first_address(v: Value) -> Value {
    match v {
        Value::Object(mut m) => match m.remove("ip_address") {
            Some(Value::Array(a)) => a.into_iter().next().unwrap_or_else(|| Value::from("")),
            _ => Value::from(""),
        },
        other => other,
    }
}

/// `v[key]` when `v` is an object.
fn member<'a>(v: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    v.and_then(|v| v.get(key))
}

fn text_of(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or("").to_string()
}

/// A hostvar as a plain string: strings as they are, numbers and booleans printed, lists by
/// their first string.
fn as_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Array(a)) => a.iter().find_map(|x| x.as_str()).unwrap_or("").to_string(),
        _ => String::new(),
    }
}

/// What the Python script's `getattr(instance, name)` read for `hostname_variable` and
/// `destination_variable`: footmark's aliases first, then the hostvar of that name.
fn attr<'a>(vars: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    let name = match name {
        "name" => "instance_name",
        "subnet_id" => "vswitch_id",
        "key_name" | "keypair" | "key_pair" => "key_pair_name",
        other => other,
    };
    vars.get(name)
}

/// The tags as footmark reads them: entries without a key are skipped, and of two entries with
/// one key the last value wins (a Python dict), in the place of the first.
fn tags_of(v: Option<&Value>) -> (Vec<(String, String)>, Map<String, Value>) {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut map = Map::new();
    let list = member(v, "tag").and_then(Value::as_array);
    for t in list.into_iter().flatten() {
        let Some(k) = t
            .get("tag_key")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
        else {
            continue;
        };
        // footmark: `tag.get('tag_value', None)`.
        let value = t.get("tag_value").cloned().unwrap_or(Value::Null);
        let text = value.as_str().unwrap_or("").to_string();
        match pairs.iter_mut().find(|(pk, _)| pk == k) {
            Some(p) => p.1 = text,
            None => pairs.push((k.to_string(), text)),
        }
        map.insert(k.to_string(), value);
    }
    (pairs, map)
}

impl Instance {
    /// Builds an instance from one raw `Instances.Instance[]` object of DescribeInstances.
    pub fn from_api(raw: Value, opts: &HostvarOptions) -> Result<Instance, String> {
        Instance::from_converted(convert(raw), opts)
    }

    /// Builds an instance from an object whose keys are already converted (see [`Converted`]).
    ///
    /// Every API field is a hostvar under its converted name, as footmark parsed it (wrappers
    /// kept), except the values footmark's `Instance` rewrites: `status` lower-case,
    /// `public_ip_address` and `inner_ip_address` strings, `network_interfaces` the list inside
    /// its wrapper. On top come the keys footmark's `read()` adds (`id`, `availability_zone`,
    /// `private_ip_address`, `eip`, `gpu`, `vpc_id`, `vswitch_id`) and ours (`region`, `state`,
    /// `security_group_ids` as a list, `ecs_tags`, `ansible_host`, `ansible_ssh_host`). The
    /// fields `read()` leaves out or renames stay too, so nothing the API says is lost.
    pub fn from_converted(value: Value, opts: &HostvarOptions) -> Result<Instance, String> {
        let Value::Object(mut vars) = value else {
            return Err("an instance that is not a JSON object".into());
        };
        let id = text_of(vars.get("instance_id"));
        if id.is_empty() {
            return Err("an instance without InstanceId".into());
        }

        // The values footmark's Instance.__setattr__ rewrites.
        if let Some(Value::String(s)) = vars.get_mut("status") {
            *s = s.to_lowercase();
        }
        let inner = vars.remove("inner_ip_address").map(first_address);
        let mut public = vars
            .remove("public_ip_address")
            .map(first_address)
            .unwrap_or_else(|| Value::from(""));
        // footmark falls back to the EIP only when EipAddress came before PublicIpAddress in
        // the answer; we always do.
        if !truthy(&public) {
            if let Some(ip) = member(vars.get("eip_address"), "ip_address").filter(|v| truthy(v)) {
                public = ip.clone();
            }
        }
        let nics = match vars.remove("network_interfaces") {
            Some(Value::Object(mut m)) => m
                .remove("network_interface")
                .filter(Value::is_array)
                .unwrap_or_else(|| Value::Array(Vec::new())),
            Some(list @ Value::Array(_)) => list,
            _ => Value::Array(Vec::new()),
        };

        // What read() derives.
        let vpc = vars.get("vpc_attributes");
        let private = member(member(vpc, "private_ip_address"), "ip_address")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .cloned()
            .or_else(|| inner.clone())
            .unwrap_or_else(|| Value::from(""));
        let vpc_id = member(vpc, "vpc_id").cloned().unwrap_or_else(|| "".into());
        let vswitch_id = member(vpc, "vswitch_id")
            .cloned()
            .unwrap_or_else(|| "".into());
        let zone = vars.get("zone_id").cloned().unwrap_or_else(|| "".into());
        let eip = vars.get("eip_address").cloned().unwrap_or_else(|| {
            Value::Object(Map::from_iter(
                ["allocation_id", "internet_charge_type", "ip_address"]
                    .map(|k| (k.to_string(), Value::from(""))),
            ))
        });
        let gpu_spec = vars.get("gpuspec").cloned().unwrap_or_else(|| "".into());
        let gpu = Value::Object(Map::from_iter([
            (
                "amount".to_string(),
                vars.get("gpuamount").cloned().unwrap_or_else(|| 0.into()),
            ),
            // footmark never fills `spec` (it is always ""); we give GPUSpec in both.
            ("spec".to_string(), gpu_spec.clone()),
            ("specification".to_string(), gpu_spec),
        ]));
        let (tags, tag_map) = tags_of(vars.get("tags"));
        let security_groups: Vec<String> =
            member(vars.get("security_group_ids"), "security_group_id")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();

        let text = |k: &str| text_of(vars.get(k));
        let mut inst = Instance {
            region: text("region_id"),
            zone: zone.as_str().unwrap_or("").to_string(),
            state: text("status"),
            image_id: text("image_id"),
            instance_type: text("instance_type"),
            vpc_id: vpc_id.as_str().unwrap_or("").to_string(),
            vswitch_id: vswitch_id.as_str().unwrap_or("").to_string(),
            os_type: text("ostype"),
            key_pair: text("key_pair_name"),
            resource_group: text("resource_group_id"),
            charge_type: text("instance_charge_type"),
            security_groups,
            tags,
            id,
            address: String::new(),
            hostname_source: String::new(),
            hostvars: Box::from(""),
            account_alias: String::new(),
            vars: None,
            constructed: Vec::new(),
            constructed_error: None,
        };

        // No hostvar may carry one of Ansible's reserved names: such a field moves to `ecs_`.
        let reserved: Vec<String> = vars
            .keys()
            .filter(|k| RESERVED.contains(&k.as_str()))
            .cloned()
            .collect();
        for k in reserved {
            if let Some(v) = vars.remove(&k) {
                vars.insert(format!("ecs_{k}"), v);
            }
        }
        let mut put = |k: &str, v: Value| {
            vars.insert(k.to_string(), v);
        };
        put("id", Value::from(inst.id.as_str()));
        put("state", Value::from(inst.state.as_str()));
        put("availability_zone", zone);
        put("region", Value::from(inst.region.as_str()));
        put("private_ip_address", private);
        put("public_ip_address", public);
        if let Some(inner) = inner {
            put("inner_ip_address", inner);
        }
        put("eip", eip);
        put("gpu", gpu);
        put("vpc_id", vpc_id);
        put("vswitch_id", vswitch_id);
        put(
            "security_group_ids",
            Value::from(
                inst.security_groups
                    .iter()
                    .map(|s| Value::from(s.as_str()))
                    .collect::<Vec<_>>(),
            ),
        );
        put("network_interfaces", nics);
        if opts.legacy_tags_hostvar {
            put("tags", Value::Object(tag_map.clone()));
        }
        put("ecs_tags", Value::Object(tag_map));
        if let Some(account) = &opts.account {
            put("account_alias", Value::from(account.alias.as_str()));
            put("account_id", Value::from(account.id.as_str()));
            inst.account_alias = account.alias.clone();
        }

        inst.address = inst.destination(&vars, opts);
        inst.hostname_source = inst.hostname_value(&vars, opts);
        vars.insert("ansible_host".into(), Value::from(inst.address.as_str()));
        vars.insert(
            "ansible_ssh_host".into(),
            Value::from(inst.address.as_str()),
        );
        if opts.keep_vars {
            inst.vars = Some(vars);
            return Ok(inst);
        }
        // One allocation of about the right size instead of a doubling series.
        let mut out = Vec::with_capacity(3072);
        serde_json::to_writer(&mut out, &vars).expect("a JSON map serializes");
        inst.hostvars = String::from_utf8(out)
            .expect("serde_json writes UTF-8")
            .into_boxed_str();
        Ok(inst)
    }

    fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `destination_format` with tag values when both format options are set, else the first
    /// non-empty of the destination variables.
    fn destination(&self, vars: &Map<String, Value>, opts: &HostvarOptions) -> String {
        if !opts.destination_format.is_empty() && !opts.destination_format_tags.is_empty() {
            let mut out = opts.destination_format.clone();
            for (i, tag) in opts.destination_format_tags.iter().enumerate() {
                out = out.replace(&format!("{{{i}}}"), self.tag(tag).unwrap_or(""));
            }
            return out;
        }
        opts.destination_variables
            .iter()
            .map(|v| as_text(attr(vars, v)))
            .find(|s| !s.is_empty())
            .unwrap_or_default()
    }

    /// The raw value `hostname_variable` names; empty when there is none, and the inventory then
    /// names the host by its address, as the Python script did.
    fn hostname_value(&self, vars: &Map<String, Value>, opts: &HostvarOptions) -> String {
        if !opts.hostnames.is_empty() {
            return self.preferred_hostname(vars, &opts.hostnames);
        }
        let var = opts.hostname_variable.as_str();
        if var.is_empty() {
            return self.address.clone();
        }
        if let Some(key) = var.strip_prefix("tag_") {
            return self.tag(key).unwrap_or("").to_string();
        }
        as_text(attr(vars, var))
    }
}

impl Instance {
    /// The first non-empty entry of the plugin's `hostnames` list: a hostvar, or a tag's value
    /// (`K`), or `K_V` when tag K is V; empty when none gives a name.
    fn preferred_hostname(&self, vars: &Map<String, Value>, hostnames: &[Hostname]) -> String {
        for h in hostnames {
            let name = match h {
                Hostname::Var(var) => as_text(attr(vars, var)),
                Hostname::Tags(prefs) => prefs
                    .iter()
                    .find_map(|(k, want)| match (self.tag(k), want) {
                        (Some(v), Some(want)) if v == want => Some(format!("{k}_{v}")),
                        (Some(v), None) if !v.is_empty() => Some(v.to_string()),
                        _ => None,
                    })
                    .unwrap_or_default(),
            };
            if !name.is_empty() {
                return name;
            }
        }
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts() -> HostvarOptions {
        HostvarOptions {
            destination_variables: vec!["public_ip_address".into()],
            destination_format: String::new(),
            destination_format_tags: vec![],
            hostname_variable: "instance_id".into(),
            hostnames: vec![],
            legacy_tags_hostvar: false,
            account: None,
            keep_vars: false,
        }
    }

    fn sample() -> Value {
        json!({
            "InstanceId": "i-bp1", "RegionId": "cn-hangzhou", "ZoneId": "cn-hangzhou-g",
            "Status": "Running", "OSName": "CentOS", "GPUAmount": 1, "GPUSpec": "NVIDIA T4",
            "VpcAttributes": {"VpcId": "vpc-1", "VSwitchId": "vsw-1",
                              "PrivateIpAddress": {"IpAddress": ["172.16.0.1"]}, "NatIpAddress": ""},
            "PublicIpAddress": {"IpAddress": []},
            "EipAddress": {"AllocationId": "eip-1", "IpAddress": "47.1.1.1", "InternetChargeType": "PayByTraffic"},
            "SecurityGroupIds": {"SecurityGroupId": ["sg-1", "sg-2"]},
            "Tags": {"Tag": [{"TagKey": "Name", "TagValue": "Web 1"}, {"TagKey": "env", "TagValue": ""}]},
            "NetworkInterfaces": {"NetworkInterface": [{"MacAddress": "00:16", "PrimaryIpAddress": "172.16.0.1"}]},
            "SpotStrategy": "NoSpot", "InternetMaxBandwidthIn": 100
        })
    }

    /// Every key of the API's Instance, nested included (ECS SDK 7.11.8), and the name footmark
    /// 1.26.0's `convert_name` gives it.
    #[test]
    fn snake_case_matches_footmark_for_every_api_key() {
        for (a, b) in [
            ("AdditionalInfo", "additional_info"),
            ("EnableHighDensityMode", "enable_high_density_mode"),
            ("ManagedHostId", "managed_host_id"),
            ("NodeSerialNumber", "node_serial_number"),
            ("AutoReleaseTime", "auto_release_time"),
            ("ClockOptions", "clock_options"),
            ("PtpStatus", "ptp_status"),
            ("ClusterId", "cluster_id"),
            ("Cpu", "cpu"),
            ("CpuOptions", "cpu_options"),
            ("CoreCount", "core_count"),
            ("EnableVISST", "enable_visst"),
            ("EnableVRDT", "enable_vrdt"),
            ("NestedVirtualization", "nested_virtualization"),
            ("Numa", "numa"),
            ("ThreadsPerCore", "threads_per_core"),
            ("TopologyType", "topology_type"),
            ("TurboMode", "turbo_mode"),
            ("CreationTime", "creation_time"),
            ("CreditSpecification", "credit_specification"),
            ("DedicatedHostAttribute", "dedicated_host_attribute"),
            ("DedicatedHostClusterId", "dedicated_host_cluster_id"),
            ("DedicatedHostId", "dedicated_host_id"),
            ("DedicatedHostName", "dedicated_host_name"),
            ("DedicatedInstanceAttribute", "dedicated_instance_attribute"),
            ("Affinity", "affinity"),
            ("Tenancy", "tenancy"),
            ("DeletionProtection", "deletion_protection"),
            ("DeploymentSetGroupNo", "deployment_set_group_no"),
            ("DeploymentSetId", "deployment_set_id"),
            ("Description", "description"),
            ("DeviceAvailable", "device_available"),
            (
                "EcsCapacityReservationAttr",
                "ecs_capacity_reservation_attr",
            ),
            ("CapacityReservationId", "capacity_reservation_id"),
            (
                "CapacityReservationPreference",
                "capacity_reservation_preference",
            ),
            ("EipAddress", "eip_address"),
            ("AllocationId", "allocation_id"),
            ("Bandwidth", "bandwidth"),
            ("InternetChargeType", "internet_charge_type"),
            ("IpAddress", "ip_address"),
            ("IsSupportUnassociate", "is_support_unassociate"),
            ("EnableNVS", "enable_nvs"),
            ("ExpiredTime", "expired_time"),
            ("GPUAmount", "gpuamount"),
            ("GPUSpec", "gpuspec"),
            ("HibernationOptions", "hibernation_options"),
            ("Configured", "configured"),
            ("HostName", "host_name"),
            ("HpcClusterId", "hpc_cluster_id"),
            ("ISP", "isp"),
            ("ImageId", "image_id"),
            ("ImageOptions", "image_options"),
            ("CurrentOSNVMeSupported", "current_osnvme_supported"),
            ("LoginAsNonRoot", "login_as_non_root"),
            ("InnerIpAddress", "inner_ip_address"),
            ("InstanceChargeType", "instance_charge_type"),
            ("InstanceId", "instance_id"),
            ("InstanceName", "instance_name"),
            ("InstanceNetworkType", "instance_network_type"),
            ("InstanceType", "instance_type"),
            ("InstanceTypeFamily", "instance_type_family"),
            ("InternetMaxBandwidthIn", "internet_max_bandwidth_in"),
            ("InternetMaxBandwidthOut", "internet_max_bandwidth_out"),
            ("IoOptimized", "io_optimized"),
            ("KeyPairName", "key_pair_name"),
            ("LocalStorageAmount", "local_storage_amount"),
            ("LocalStorageCapacity", "local_storage_capacity"),
            ("Memory", "memory"),
            ("MetadataOptions", "metadata_options"),
            ("HttpEndpoint", "http_endpoint"),
            ("HttpPutResponseHopLimit", "http_put_response_hop_limit"),
            ("HttpTokens", "http_tokens"),
            ("InstanceMetadataTags", "instance_metadata_tags"),
            ("NetworkInterfaces", "network_interfaces"),
            ("NetworkInterface", "network_interface"),
            ("Ipv4PrefixSets", "ipv4_prefix_sets"),
            ("Ipv4PrefixSet", "ipv4_prefix_set"),
            ("Ipv4Prefix", "ipv4_prefix"),
            ("Ipv6PrefixSets", "ipv6_prefix_sets"),
            ("Ipv6PrefixSet", "ipv6_prefix_set"),
            ("Ipv6Prefix", "ipv6_prefix"),
            ("Ipv6Sets", "ipv6_sets"),
            ("Ipv6Set", "ipv6_set"),
            ("Ipv6Address", "ipv6_address"),
            ("Primary", "primary"),
            ("MacAddress", "mac_address"),
            ("NetworkInterfaceId", "network_interface_id"),
            ("PrimaryIpAddress", "primary_ip_address"),
            ("PrivateIpSets", "private_ip_sets"),
            ("PrivateIpSet", "private_ip_set"),
            ("PrivateDnsName", "private_dns_name"),
            ("PrivateIpAddress", "private_ip_address"),
            ("Type", "type"),
            ("OSName", "osname"),
            ("OSNameEn", "osname_en"),
            ("OSType", "ostype"),
            ("OperationLocks", "operation_locks"),
            ("LockReason", "lock_reason"),
            ("LockMsg", "lock_msg"),
            ("PrivateDnsNameOptions", "private_dns_name_options"),
            (
                "EnableInstanceIdDnsAAAARecord",
                "enable_instance_id_dns_aaaarecord",
            ),
            (
                "EnableInstanceIdDnsARecord",
                "enable_instance_id_dns_arecord",
            ),
            ("EnableIpDnsARecord", "enable_ip_dns_arecord"),
            ("EnableIpDnsPtrRecord", "enable_ip_dns_ptr_record"),
            ("HostnameType", "hostname_type"),
            ("PublicIpAddress", "public_ip_address"),
            ("RdmaIpAddress", "rdma_ip_address"),
            ("Recyclable", "recyclable"),
            ("RegionId", "region_id"),
            ("ResourceGroupId", "resource_group_id"),
            ("SaleCycle", "sale_cycle"),
            ("SecurityGroupIds", "security_group_ids"),
            ("SecurityGroupId", "security_group_id"),
            ("SecurityOptions", "security_options"),
            ("EnableSecureBoot", "enable_secure_boot"),
            ("SerialNumber", "serial_number"),
            ("SpotDuration", "spot_duration"),
            ("SpotInterruptionBehavior", "spot_interruption_behavior"),
            ("SpotPriceLimit", "spot_price_limit"),
            ("SpotStrategy", "spot_strategy"),
            ("StartTime", "start_time"),
            ("Status", "status"),
            ("StoppedMode", "stopped_mode"),
            ("Tags", "tags"),
            ("Tag", "tag"),
            ("TagKey", "tag_key"),
            ("TagValue", "tag_value"),
            ("VlanId", "vlan_id"),
            ("VpcAttributes", "vpc_attributes"),
            ("NatIpAddress", "nat_ip_address"),
            ("VSwitchId", "vswitch_id"),
            ("VpcId", "vpc_id"),
            ("ZoneId", "zone_id"),
        ] {
            assert_eq!(snake_case(a), b, "{a}");
        }
    }

    #[test]
    fn converting_while_decoding_equals_converting_after() {
        let text = sample().to_string();
        let Converted(direct) = serde_json::from_str(&text).unwrap();
        assert_eq!(direct, convert(sample()));
        assert_eq!(
            direct["vpc_attributes"]["private_ip_address"],
            json!({"ip_address": ["172.16.0.1"]}),
            "wrappers stay"
        );
    }

    #[test]
    fn hostvars_have_the_python_keys_and_every_field() {
        let i = Instance::from_api(sample(), &opts()).unwrap();
        let v: Value = serde_json::from_str(&i.hostvars).unwrap();
        assert_eq!(v["id"], "i-bp1");
        assert_eq!(v["state"], "running");
        assert_eq!(v["availability_zone"], "cn-hangzhou-g");
        assert_eq!(v["private_ip_address"], "172.16.0.1");
        assert_eq!(v["public_ip_address"], "47.1.1.1", "falls back to the EIP");
        assert_eq!(v["ansible_host"], "47.1.1.1");
        assert_eq!(v["ansible_ssh_host"], "47.1.1.1");
        assert_eq!(v["eip"]["allocation_id"], "eip-1");
        assert_eq!(
            v["gpu"],
            json!({"amount": 1, "spec": "NVIDIA T4", "specification": "NVIDIA T4"})
        );
        assert_eq!(v["security_group_ids"], json!(["sg-1", "sg-2"]));
        assert_eq!(v["network_interfaces"][0]["mac_address"], "00:16");
        assert_eq!(
            v["vpc_attributes"]["private_ip_address"],
            json!({"ip_address": ["172.16.0.1"]})
        );
        assert_eq!(v["status"], "running", "footmark lower-cases it");
        assert_eq!(v["osname"], "CentOS");
        assert_eq!(v["spot_strategy"], "NoSpot", "fields footmark drops stay");
        assert_eq!(v["internet_max_bandwidth_in"], 100);
        assert_eq!(v["ecs_tags"], json!({"Name": "Web 1", "env": ""}));
        assert!(v.get("tags").is_none(), "tags is a reserved name");
        assert_eq!(i.hostname_source, "i-bp1");
        assert_eq!(i.security_groups, vec!["sg-1", "sg-2"]);
    }

    #[test]
    fn destination_preference_format_and_hostname_variable() {
        let mut o = opts();
        o.destination_variables = vec!["private_ip_address".into(), "public_ip_address".into()];
        o.hostname_variable = "tag_Name".into();
        o.legacy_tags_hostvar = true;
        let i = Instance::from_api(sample(), &o).unwrap();
        assert_eq!(i.address, "172.16.0.1");
        assert_eq!(i.hostname_source, "Web 1");
        let v: Value = serde_json::from_str(&i.hostvars).unwrap();
        assert_eq!(v["tags"]["Name"], "Web 1");
        o.destination_format = "{0}.example.com".into();
        o.destination_format_tags = vec!["Name".into()];
        assert_eq!(
            Instance::from_api(sample(), &o).unwrap().address,
            "Web 1.example.com"
        );
        o.hostname_variable = String::new();
        let i = Instance::from_api(sample(), &o).unwrap();
        assert_eq!(i.hostname_source, i.address);
    }

    #[test]
    fn no_address_and_no_id() {
        let mut raw = sample();
        raw["EipAddress"] = json!({"AllocationId": "", "IpAddress": "", "InternetChargeType": ""});
        assert_eq!(Instance::from_api(raw, &opts()).unwrap().address, "");
        assert!(Instance::from_api(json!({"Status": "Running"}), &opts()).is_err());
    }

    /// The instances of fixtures/fleet_full.json (every field of the API reference at least
    /// once), converted, by instance id.
    fn full_fleet() -> std::collections::BTreeMap<String, Value> {
        let fleet: Value =
            serde_json::from_str(include_str!("../fixtures/fleet_full.json")).expect("fleet");
        let mut o = opts();
        o.destination_variables = vec!["public_ip_address".into(), "private_ip_address".into()];
        fleet["instances"]
            .as_array()
            .expect("instances")
            .iter()
            .map(|raw| {
                let i = Instance::from_api(raw.clone(), &o).expect("converts");
                (i.id, serde_json::from_str(&i.hostvars).expect("JSON"))
            })
            .collect()
    }

    #[test]
    fn nested_network_fields_keep_their_wrappers() {
        let all = full_fleet();
        let v = &all["i-bp1ffffffffffffff01"];
        // network_interfaces loses its own wrapper, and only that one.
        let nic = &v["network_interfaces"][0];
        assert_eq!(nic["network_interface_id"], "eni-bp1full0000001");
        assert_eq!(
            nic["private_ip_sets"]["private_ip_set"][1],
            json!({"primary": false, "private_dns_name": "", "private_ip_address": "172.16.10.2"})
        );
        assert_eq!(
            nic["ipv6_sets"]["ipv6_set"][0],
            json!({"ipv6_address": "2408:4005:3ff:1::1", "primary": true})
        );
        assert_eq!(
            nic["ipv4_prefix_sets"],
            json!({"ipv4_prefix_set": [{"ipv4_prefix": "172.16.10.16/28"}]})
        );
        assert_eq!(
            nic["ipv6_prefix_sets"],
            json!({"ipv6_prefix_set": [{"ipv6_prefix": "2408:4005:3ff:1:8000::/80"}]})
        );
        assert_eq!(
            v["network_interfaces"][1]["ipv6_sets"],
            json!({"ipv6_set": []})
        );
        assert_eq!(
            v["rdma_ip_address"],
            json!({"ip_address": ["10.200.0.1", "10.200.0.2"]})
        );
        assert_eq!(
            v["operation_locks"],
            json!({"lock_reason": [{"lock_msg": "overdue payment", "lock_reason": "financial"}]})
        );
        assert_eq!(
            v["vpc_attributes"],
            json!({"nat_ip_address": "172.16.10.254", "private_ip_address": {"ip_address": ["172.16.10.1"]},
                   "vpc_id": "vpc-bp1full0000001", "vswitch_id": "vsw-bp1full0000001"})
        );
        assert_eq!(v["vpc_id"], "vpc-bp1full0000001");
        assert_eq!(v["vswitch_id"], "vsw-bp1full0000001");
        assert_eq!(v["private_ip_address"], "172.16.10.1");
        assert_eq!(
            v["security_group_ids"],
            json!(["sg-bp1full0000001", "sg-bp1full0000002"])
        );
    }

    #[test]
    fn eip_keeps_every_sub_field_and_addresses_become_strings() {
        let all = full_fleet();
        let v = &all["i-bp1ffffffffffffff01"];
        assert_eq!(
            v["eip"],
            json!({"allocation_id": "eip-bp1full0000001", "bandwidth": 10,
                   "internet_charge_type": "PayByBandwidth", "ip_address": "47.110.1.1",
                   "is_support_unassociate": true})
        );
        assert_eq!(
            v["public_ip_address"], "47.110.1.1",
            "the EIP, for want of a public IP"
        );
        assert_eq!(
            v["inner_ip_address"], "",
            "an empty list is an empty string"
        );
        let classic = &all["i-bp1ffffffffffffff02"];
        assert_eq!(
            classic["inner_ip_address"], "10.80.1.2",
            "the first address"
        );
        assert_eq!(
            classic["private_ip_address"], "10.80.1.2",
            "no VPC address: the inner one"
        );
        assert_eq!(classic["public_ip_address"], "47.110.2.2");
        assert_eq!(classic["vpc_id"], "");
        assert_eq!(classic["network_interfaces"], json!([]));
        let stopped = &all["i-2zeffffffffffffff03"];
        assert_eq!(
            stopped["public_ip_address"], "39.96.3.3",
            "the first of two"
        );
        assert_eq!(stopped["status"], "stopped");
        assert_eq!(stopped["state"], "stopped");
    }

    #[test]
    fn option_objects_and_unknown_fields_are_converted_in_depth() {
        let all = full_fleet();
        let v = &all["i-bp1ffffffffffffff01"];
        assert_eq!(v["cpu_options"]["enable_visst"], true);
        assert_eq!(v["cpu_options"]["threads_per_core"], 2);
        assert_eq!(
            v["private_dns_name_options"]["enable_instance_id_dns_aaaarecord"],
            true
        );
        assert_eq!(v["image_options"]["current_osnvme_supported"], true);
        assert_eq!(v["metadata_options"]["http_put_response_hop_limit"], 2);
        assert_eq!(
            v["dedicated_host_attribute"]["dedicated_host_cluster_id"],
            "dc-bp1full0000001"
        );
        assert_eq!(
            v["ecs_capacity_reservation_attr"]["capacity_reservation_preference"],
            "target"
        );
        assert_eq!(v["additional_info"]["node_serial_number"], "SN-0001");
        assert_eq!(v["clock_options"]["ptp_status"], "enabled");
        assert_eq!(v["hibernation_options"]["configured"], true);
        assert_eq!(v["security_options"]["enable_secure_boot"], true);
        assert_eq!(
            v["dedicated_instance_attribute"],
            json!({"affinity": "host", "tenancy": "host"})
        );
        assert_eq!(
            v["gpu"],
            json!({"amount": 1, "spec": "NVIDIA A10", "specification": "NVIDIA A10"})
        );
        assert_eq!(v["availability_zone"], "cn-hangzhou-h");
        assert_eq!(v["isp"], "BGP");
        assert_eq!(v["enable_nvs"], true);
        assert_eq!(v["osname_en"], "Alibaba Cloud Linux  3.2104 LTS 64 bit");
        assert_eq!(v["spot_price_limit"], 0.98);
        assert_eq!(
            v["future_field"],
            json!({"nested_thing": {"item": ["a", "b"]}, "some_count": 3})
        );
        assert_eq!(
            v["ecs_tags"],
            json!({"Name": "gpu-trainer", "cost-center": "", "env": "生产", "team": "ml"})
        );
    }

    #[test]
    fn tags_as_footmark_reads_them() {
        let mut raw = sample();
        raw["Tags"] = json!({"Tag": [
            {"TagKey": "a", "TagValue": "1"}, {"TagKey": "", "TagValue": "x"},
            {"TagKey": "b"}, {"TagKey": "a", "TagValue": "2"}
        ]});
        let i = Instance::from_api(raw, &opts()).unwrap();
        let v: Value = serde_json::from_str(&i.hostvars).unwrap();
        assert_eq!(v["ecs_tags"], json!({"a": "2", "b": null}));
        assert_eq!(
            i.tags,
            vec![
                ("a".to_string(), "2".to_string()),
                ("b".to_string(), String::new())
            ]
        );
    }

    #[test]
    fn hostname_variable_reads_footmarks_aliases() {
        let mut raw = sample();
        raw["InstanceName"] = json!("web-one");
        raw["KeyPairName"] = json!("kp");
        let mut o = opts();
        for (var, want) in [
            ("name", "web-one"),
            ("key_name", "kp"),
            ("subnet_id", "vsw-1"),
            ("zone_id", "cn-hangzhou-g"),
            ("private_ip_address", "172.16.0.1"),
            ("tag_missing", ""),
        ] {
            o.hostname_variable = var.into();
            let i = Instance::from_api(raw.clone(), &o).unwrap();
            assert_eq!(i.hostname_source, want, "{var}");
        }
    }

    #[test]
    fn every_kind_of_json_value_is_converted_while_decoding() {
        let text = r#"{"ABool": true, "BNeg": -3, "CFloat": 1.5, "DText": "a\"b",
                      "ENull": null, "FList": [false, 0, "", {"GKey": []}]}"#;
        let Converted(direct) = serde_json::from_str(text).unwrap();
        let after = convert(serde_json::from_str(text).unwrap());
        assert_eq!(direct, after);
        assert_eq!(
            direct,
            json!({"abool": true, "bneg": -3, "cfloat": 1.5, "dtext": "a\"b", "enull": null,
                   "flist": [false, 0, "", {"gkey": []}]})
        );
        // From a value tree, strings arrive owned.
        let Converted(owned) = serde_json::from_value(json!({"HText": "x"})).unwrap();
        assert_eq!(owned, json!({"htext": "x"}));
    }

    #[test]
    fn the_eip_stands_in_for_an_empty_public_address_only() {
        let public = |p: Value, eip: &str| {
            let mut raw = sample();
            raw["PublicIpAddress"] = p;
            raw["EipAddress"]["IpAddress"] = json!(eip);
            let i = Instance::from_api(raw, &opts()).unwrap();
            let v: Value = serde_json::from_str(&i.hostvars).unwrap();
            v["public_ip_address"].clone()
        };
        assert_eq!(public(json!({"IpAddress": []}), "1.1.1.1"), "1.1.1.1");
        assert_eq!(
            public(json!({"IpAddress": ["2.2.2.2"]}), "1.1.1.1"),
            "2.2.2.2"
        );
        assert_eq!(public(json!({"IpAddress": []}), ""), "");
        // Odd shapes follow Python's truth values.
        assert_eq!(public(json!([]), "1.1.1.1"), "1.1.1.1");
        assert_eq!(public(json!(["3.3.3.3"]), "1.1.1.1"), json!(["3.3.3.3"]));
        assert_eq!(public(json!(0), "1.1.1.1"), "1.1.1.1");
        assert_eq!(public(json!(7), "1.1.1.1"), 7);
        assert_eq!(public(json!(""), "1.1.1.1"), "1.1.1.1");
        // An EIP address that is an empty object is no address.
        let mut raw = sample();
        raw["EipAddress"]["IpAddress"] = json!({});
        let v: Value =
            serde_json::from_str(&Instance::from_api(raw, &opts()).unwrap().hostvars).unwrap();
        assert_eq!(v["public_ip_address"], "");
    }

    #[test]
    fn hostname_and_address_from_numbers_booleans_and_lists() {
        let mut raw = sample();
        raw["Cpu"] = json!(4);
        raw["IoOptimized"] = json!(true);
        let mut o = opts();
        for (var, want) in [
            ("cpu", "4"),
            ("io_optimized", "true"),
            ("security_group_ids", "sg-1"),
            ("vpc_attributes", ""),
        ] {
            o.hostname_variable = var.into();
            let i = Instance::from_api(raw.clone(), &o).unwrap();
            assert_eq!(i.hostname_source, want, "{var}");
        }
        o.hostname_variable = "instance_id".into();
        o.destination_variables = vec!["cpu".into()];
        assert_eq!(Instance::from_api(raw, &o).unwrap().address, "4");
    }

    #[test]
    fn network_interfaces_given_as_a_list_stay_a_list() {
        let mut raw = sample();
        raw["NetworkInterfaces"] = json!([{"MacAddress": "00:aa"}]);
        let v: Value =
            serde_json::from_str(&Instance::from_api(raw.clone(), &opts()).unwrap().hostvars)
                .unwrap();
        assert_eq!(v["network_interfaces"], json!([{"mac_address": "00:aa"}]));
        raw["NetworkInterfaces"] = json!("odd");
        let v: Value =
            serde_json::from_str(&Instance::from_api(raw, &opts()).unwrap().hostvars).unwrap();
        assert_eq!(v["network_interfaces"], json!([]));
    }

    #[test]
    fn destination_format_needs_both_of_its_options() {
        let mut o = opts();
        o.destination_format = "{0}.example.com".into();
        assert_eq!(
            Instance::from_api(sample(), &o).unwrap().address,
            "47.1.1.1"
        );
        o.destination_format = String::new();
        o.destination_format_tags = vec!["Name".into()];
        assert_eq!(
            Instance::from_api(sample(), &o).unwrap().address,
            "47.1.1.1"
        );
        o.destination_format = "{0}-{1}.example.com".into();
        o.destination_format_tags = vec!["Name".into(), "missing".into()];
        assert_eq!(
            Instance::from_api(sample(), &o).unwrap().address,
            "Web 1-.example.com"
        );
    }
}
