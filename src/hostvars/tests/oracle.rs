//! The conversion as it was before the in-place decoder (`crate::json::reader`): serde_json's tree of
//! every instance, keys converted while decoding, then footmark's rewrites on the map. Kept
//! as the oracle the decoder is compared with (`tests::differential`), byte for byte.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::api::client;
use crate::config::Hostname;
use crate::footmark::RESERVED;
use crate::hostvars::{HostvarOptions, Instance};

pub use crate::footmark::snake_case;

#[derive(Deserialize)]
struct PageAnswer {
    #[serde(rename = "TotalCount")]
    total_count: u64,
    #[serde(rename = "Instances")]
    instances: InstanceList,
}

#[derive(Deserialize)]
struct InstanceList {
    #[serde(rename = "Instance", default)]
    instance: Vec<Converted>,
}

/// The old `fetch::parse_page`: the page's TotalCount and every instance with its whole map.
#[allow(clippy::type_complexity)]
pub fn parse_page(
    status: u16,
    body: &[u8],
    opts: &HostvarOptions,
) -> Result<(u64, Vec<(Instance, Map<String, Value>)>), String> {
    let answer: PageAnswer = client::decode(status, body).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for raw in answer.instances.instance {
        out.push(from_converted(raw.0, opts)?);
    }
    Ok((answer.total_count, out))
}

/// Converts keys recursively, as footmark's `parse_value` does. Wrapper objects such as
/// `{"IpAddress": [...]}` stay objects: footmark unwraps only a few top-level fields, one by one
/// (see [`Instance::from_converted`]).
pub(crate) fn convert(value: Value) -> Value {
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

/// Builds an instance from an object whose keys are already converted (see [`Converted`]).
///
/// Every API field is a hostvar under its converted name, as footmark parsed it (wrappers
/// kept), except the values footmark's `Instance` rewrites: `status` lower-case,
/// `public_ip_address` and `inner_ip_address` strings, `network_interfaces` the list inside
/// its wrapper. On top come the keys footmark's `read()` adds (`id`, `availability_zone`,
/// `private_ip_address`, `eip`, `gpu`, `vpc_id`, `vswitch_id`) and ours (`region`, `state`,
/// `security_group_ids` as a list, `ecs_tags`, `ansible_host`, `ansible_ssh_host`). The
/// fields `read()` leaves out or renames stay too, so nothing the API says is lost.
pub fn from_converted(
    value: Value,
    opts: &HostvarOptions,
) -> Result<(Instance, Map<String, Value>), String> {
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
    let security_groups: Vec<String> = member(vars.get("security_group_ids"), "security_group_id")
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
        region: text("region_id").into(),
        zone: zone.as_str().unwrap_or("").into(),
        state: text("status").into(),
        image_id: text("image_id").into(),
        instance_type: text("instance_type").into(),
        vpc_id: vpc_id.as_str().unwrap_or("").into(),
        vswitch_id: vswitch_id.as_str().unwrap_or("").into(),
        os_type: text("ostype").into(),
        key_pair: text("key_pair_name").into(),
        resource_group: text("resource_group_id").into(),
        charge_type: text("instance_charge_type").into(),
        security_groups: security_groups.into_iter().map(Into::into).collect(),
        tags: tags
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
        id: id.into(),
        address: Default::default(),
        hostname_source: Default::default(),
        hostvars: Box::from(""),
        account_alias: String::new(),
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

    inst.address = destination(&inst, &vars, opts).into();
    inst.hostname_source = hostname_value(&inst, &vars, opts).into();
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
    Ok((inst, vars))
}

/// `destination_format` with tag values when both format options are set, else the first
/// non-empty of the destination variables.
fn destination(inst: &Instance, vars: &Map<String, Value>, opts: &HostvarOptions) -> String {
    if !opts.destination_format.is_empty() && !opts.destination_format_tags.is_empty() {
        let mut out = opts.destination_format.clone();
        for (i, tag) in opts.destination_format_tags.iter().enumerate() {
            out = out.replace(&format!("{{{i}}}"), inst.tag(tag).unwrap_or(""));
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
fn hostname_value(inst: &Instance, vars: &Map<String, Value>, opts: &HostvarOptions) -> String {
    if !opts.hostnames.is_empty() {
        return preferred_hostname(inst, vars, &opts.hostnames);
    }
    let var = opts.hostname_variable.as_str();
    if var.is_empty() {
        return inst.address.to_string();
    }
    if let Some(key) = var.strip_prefix("tag_") {
        return inst.tag(key).unwrap_or("").to_string();
    }
    as_text(attr(vars, var))
}
/// The first non-empty entry of the plugin's `hostnames` list: a hostvar, or a tag's value
/// (`K`), or `K_V` when tag K is V; empty when none gives a name.
fn preferred_hostname(
    inst: &Instance,
    vars: &Map<String, Value>,
    hostnames: &[Hostname],
) -> String {
    for h in hostnames {
        let name = match h {
            Hostname::Var(var) => as_text(attr(vars, var)),
            Hostname::Tags(prefs) => prefs
                .iter()
                .find_map(|(k, want)| match (inst.tag(k), want) {
                    (Some(v), Some(want)) if v == want => Some(format!("{k}_{v}")),
                    (Some(v), None) if !v.is_empty() => Some(v.to_string()),
                    _ => None,
                })
                .unwrap_or_default(),
            // Newer than the oracle: its tests give neither.
            Hostname::Joined { .. } | Hostname::Template(_) => unreachable!("not in the oracle"),
        };
        if !name.is_empty() {
            return name;
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({"InstanceId": "i-bp1", "VpcAttributes": {"VpcId": "vpc-1",
               "PrivateIpAddress": {"IpAddress": ["172.16.0.1"]}}})
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
}
