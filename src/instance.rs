//! One ECS instance, as the inventory needs it: the few typed fields that grouping and naming
//! read, and its hostvars (docs/DESIGN.md, "Hostvars") already serialized. Serializing at once
//! keeps a 100,000 instance run from holding every API object as a JSON tree until the end.

use serde_json::{Map, Value};

use crate::settings::Settings;

/// How hostvars and the address are built; taken from the settings.
#[derive(Debug, Clone)]
pub struct HostvarOptions {
    pub destination_variables: Vec<String>,
    pub destination_format: String,
    pub destination_format_tags: Vec<String>,
    pub hostname_variable: String,
    pub legacy_tags_hostvar: bool,
}

impl HostvarOptions {
    pub fn from_settings(s: &Settings) -> HostvarOptions {
        HostvarOptions {
            destination_variables: s.destination_variables.clone(),
            destination_format: s.destination_format.clone(),
            destination_format_tags: s.destination_format_tags.clone(),
            hostname_variable: s.hostname_variable.clone(),
            legacy_tags_hostvar: s.legacy_tags_hostvar,
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
    /// The hostvars object, compact JSON with sorted keys.
    pub hostvars: Box<str>,
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

/// Converts keys recursively; a wrapper object whose only member is a list becomes the list.
fn convert(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            if map.len() == 1 && map.values().next().is_some_and(Value::is_array) {
                return convert(map.into_iter().next().expect("one member").1);
            }
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (snake_case(&k), convert(v)))
                    .collect(),
            )
        }
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
        if out.len() == 1 && out.values().next().is_some_and(Value::is_array) {
            return Ok(out.into_iter().next().expect("one member").1);
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

/// The non-empty strings of a (converted, so unwrapped) list such as `["1.2.3.4"]`.
fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn first_non_empty(candidates: impl IntoIterator<Item = String>) -> String {
    candidates
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or_default()
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

impl Instance {
    /// Builds an instance from one raw `Instances.Instance[]` object of DescribeInstances.
    pub fn from_api(raw: Value, opts: &HostvarOptions) -> Result<Instance, String> {
        Instance::from_converted(convert(raw), opts)
    }

    /// Builds an instance from an object whose keys are already converted (see [`Converted`]).
    pub fn from_converted(value: Value, opts: &HostvarOptions) -> Result<Instance, String> {
        let Value::Object(fields) = value else {
            return Err("an instance that is not a JSON object".into());
        };
        let text = |k: &str| {
            fields
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let id = text("instance_id");
        if id.is_empty() {
            return Err("an instance without InstanceId".into());
        }
        let tags: Vec<(String, String)> = fields
            .get("tags")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| {
                        let k = t.get("tag_key")?.as_str()?;
                        let v = t.get("tag_value").and_then(Value::as_str).unwrap_or("");
                        Some((k.to_string(), v.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let vpc = fields.get("vpc_attributes");
        let vpc_text = |k: &str| {
            vpc.and_then(|v| v.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let private_ip = first_non_empty(
            strings(vpc.and_then(|v| v.get("private_ip_address")))
                .into_iter()
                .chain(strings(fields.get("inner_ip_address"))),
        );
        let eip = fields.get("eip_address");
        let eip_text = |k: &str| {
            eip.and_then(|v| v.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let public_ip = first_non_empty(
            strings(fields.get("public_ip_address"))
                .into_iter()
                .chain([eip_text("ip_address")]),
        );
        let eip_map = Value::Object(Map::from_iter(
            ["allocation_id", "internet_charge_type", "ip_address"]
                .map(|k| (k.to_string(), Value::from(eip_text(k)))),
        ));
        let gpu_amount = fields.get("gpuamount").cloned().unwrap_or(Value::from(0));
        let gpu_spec = text("gpuspec");

        let mut inst = Instance {
            region: text("region_id"),
            zone: text("zone_id"),
            state: text("status").to_lowercase(),
            image_id: text("image_id"),
            instance_type: text("instance_type"),
            vpc_id: vpc_text("vpc_id"),
            vswitch_id: vpc_text("vswitch_id"),
            os_type: text("ostype"),
            key_pair: text("key_pair_name"),
            resource_group: text("resource_group_id"),
            charge_type: text("instance_charge_type"),
            security_groups: strings(fields.get("security_group_ids")),
            tags,
            id,
            address: String::new(),
            hostname_source: String::new(),
            hostvars: Box::from(""),
        };

        // Every API field stays where it is; reserved names move to an `ecs_` prefix.
        let mut vars = fields;
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
        // The Python script's keys win over converted fields of the same name.
        let tag_map: Map<String, Value> = inst
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect();
        let mut put = |k: &str, v: Value| {
            vars.insert(k.to_string(), v);
        };
        put("id", Value::from(inst.id.as_str()));
        put("state", Value::from(inst.state.as_str()));
        put("availability_zone", Value::from(inst.zone.as_str()));
        put("region", Value::from(inst.region.as_str()));
        put("private_ip_address", Value::from(private_ip));
        put("public_ip_address", Value::from(public_ip));
        put("eip", eip_map);
        put(
            "gpu",
            Value::Object(Map::from_iter([
                ("amount".to_string(), gpu_amount),
                ("spec".to_string(), Value::from(gpu_spec.as_str())),
                ("specification".to_string(), Value::from(gpu_spec)),
            ])),
        );
        put("vpc_id", Value::from(inst.vpc_id.as_str()));
        put("vswitch_id", Value::from(inst.vswitch_id.as_str()));
        put(
            "security_group_ids",
            Value::from(
                inst.security_groups
                    .iter()
                    .map(|s| Value::from(s.as_str()))
                    .collect::<Vec<_>>(),
            ),
        );
        if !vars.get("network_interfaces").is_some_and(Value::is_array) {
            vars.insert("network_interfaces".into(), Value::Array(Vec::new()));
        }
        if opts.legacy_tags_hostvar {
            vars.insert("tags".into(), Value::Object(tag_map.clone()));
        }
        vars.insert("ecs_tags".into(), Value::Object(tag_map));

        inst.address = inst.destination(&vars, opts);
        inst.hostname_source = inst.hostname_value(&vars, opts);
        vars.insert("ansible_host".into(), Value::from(inst.address.as_str()));
        vars.insert(
            "ansible_ssh_host".into(),
            Value::from(inst.address.as_str()),
        );
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
        first_non_empty(
            opts.destination_variables
                .iter()
                .map(|v| as_text(vars.get(v))),
        )
    }

    fn hostname_value(&self, vars: &Map<String, Value>, opts: &HostvarOptions) -> String {
        let var = opts.hostname_variable.as_str();
        if var.is_empty() {
            return self.address.clone();
        }
        if let Some(key) = var.strip_prefix("tag_") {
            return self.tag(key).unwrap_or("").to_string();
        }
        as_text(vars.get(var))
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
            legacy_tags_hostvar: false,
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

    #[test]
    fn snake_case_matches_the_python_library() {
        for (a, b) in [
            ("InstanceId", "instance_id"),
            ("OSName", "osname"),
            ("VSwitchId", "vswitch_id"),
            ("GPUAmount", "gpuamount"),
            ("IoOptimized", "io_optimized"),
            ("InternetMaxBandwidthIn", "internet_max_bandwidth_in"),
            ("EipAddress", "eip_address"),
        ] {
            assert_eq!(snake_case(a), b);
        }
    }

    #[test]
    fn converting_while_decoding_equals_converting_after() {
        let text = sample().to_string();
        let Converted(direct) = serde_json::from_str(&text).unwrap();
        assert_eq!(direct, convert(sample()));
        assert_eq!(
            direct["vpc_attributes"]["private_ip_address"],
            json!(["172.16.0.1"])
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
            json!(["172.16.0.1"])
        );
        assert_eq!(v["osname"], "CentOS");
        assert_eq!(v["spot_strategy"], "NoSpot", "unknown fields pass through");
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
}
