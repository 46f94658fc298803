//! The fleet: regions and instances loaded from a fleet file, the DescribeInstances filters and
//! paging.
//!
//! Instances stay raw JSON (each kept as its compact serialization) so that unknown fields pass
//! through untouched; the few fields the filters look at are extracted once at load time.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::error::ApiError;
use crate::params::Params;

/// One instance: its raw JSON text and the fields the filters need.
pub struct Instance {
    pub raw: String,
    pub f: Fields,
}

/// The filterable fields of an instance (empty string or empty list when absent).
#[derive(Default)]
pub struct Fields {
    pub id: String,
    pub name: String,
    pub status: String,
    pub instance_type: String,
    pub family: String,
    pub vpc_id: String,
    pub vswitch_id: String,
    pub zone_id: String,
    pub image_id: String,
    pub resource_group_id: String,
    pub key_pair_name: String,
    pub charge_type: String,
    pub internet_charge_type: String,
    pub network_type: String,
    pub security_groups: Vec<String>,
    pub private_ips: Vec<String>,
    pub inner_ips: Vec<String>,
    pub public_ips: Vec<String>,
    pub eips: Vec<String>,
    pub tags: Vec<(String, String)>,
}

/// The whole simulated account.
pub struct Fleet {
    /// `DescribeRegions` entries, raw.
    pub regions: Vec<Value>,
    /// Instances per region id, in file order.
    pub instances: HashMap<String, Vec<Instance>>,
}

fn s(v: &Value, path: &[&str]) -> String {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return String::new(),
        }
    }
    cur.as_str().map(str::to_owned).unwrap_or_default()
}

fn list(v: &Value, path: &[&str]) -> Vec<String> {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return Vec::new(),
        }
    }
    cur.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str())
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

impl Fields {
    pub fn of(v: &Value) -> Fields {
        let eip = s(v, &["EipAddress", "IpAddress"]);
        let tags = v
            .pointer("/Tags/Tag")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|t| (s(t, &["TagKey"]), s(t, &["TagValue"])))
                    .collect()
            })
            .unwrap_or_default();
        Fields {
            id: s(v, &["InstanceId"]),
            name: s(v, &["InstanceName"]),
            status: s(v, &["Status"]),
            instance_type: s(v, &["InstanceType"]),
            family: s(v, &["InstanceTypeFamily"]),
            vpc_id: s(v, &["VpcAttributes", "VpcId"]),
            vswitch_id: s(v, &["VpcAttributes", "VSwitchId"]),
            zone_id: s(v, &["ZoneId"]),
            image_id: s(v, &["ImageId"]),
            resource_group_id: s(v, &["ResourceGroupId"]),
            key_pair_name: s(v, &["KeyPairName"]),
            charge_type: s(v, &["InstanceChargeType"]),
            internet_charge_type: s(v, &["InternetChargeType"]),
            network_type: s(v, &["InstanceNetworkType"]),
            security_groups: list(v, &["SecurityGroupIds", "SecurityGroupId"]),
            private_ips: list(v, &["VpcAttributes", "PrivateIpAddress", "IpAddress"]),
            inner_ips: list(v, &["InnerIpAddress", "IpAddress"]),
            public_ips: list(v, &["PublicIpAddress", "IpAddress"]),
            eips: if eip.is_empty() {
                Vec::new()
            } else {
                vec![eip]
            },
            tags,
        }
    }
}

impl Instance {
    pub fn from_value(v: &Value) -> Instance {
        Instance {
            raw: v.to_string(),
            f: Fields::of(v),
        }
    }
}

impl Fleet {
    pub fn load(path: &std::path::Path) -> Result<Fleet, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read fleet file {}: {e}", path.display()))?;
        Fleet::from_json(&text).map_err(|e| format!("fleet file {}: {e}", path.display()))
    }

    pub fn from_json(text: &str) -> Result<Fleet, String> {
        // Instances are converted one at a time while parsing, so a fleet of 100,000 never
        // exists as one big JSON tree.
        let file: FleetFile =
            serde_json::from_str(text).map_err(|e| format!("invalid fleet: {e}"))?;
        let mut instances: HashMap<String, Vec<Instance>> = HashMap::new();
        for r in &file.regions {
            match r.get("RegionId").and_then(Value::as_str) {
                Some(id) if !id.is_empty() => {
                    if instances.insert(id.to_owned(), Vec::new()).is_some() {
                        return Err(format!("region {id} listed twice"));
                    }
                }
                _ => return Err("every region needs a RegionId string".into()),
            }
        }
        let mut seen = HashSet::new();
        for (i, (region, inst)) in file.instances.0.into_iter().enumerate() {
            let id = inst.f.id.clone();
            if id.is_empty() {
                return Err(format!("instance #{i} has no InstanceId"));
            }
            if !seen.insert(id.clone()) {
                return Err(format!("instance {id} listed twice"));
            }
            match instances.get_mut(&region) {
                Some(l) => l.push(inst),
                None => return Err(format!("instance {id}: unknown RegionId {region:?}")),
            }
        }
        Ok(Fleet {
            regions: file.regions,
            instances,
        })
    }
}

#[derive(serde::Deserialize)]
struct FleetFile {
    regions: Vec<Value>,
    #[serde(default)]
    instances: Instances,
}

/// The `instances` array, each element converted as soon as it is parsed.
#[derive(Default)]
struct Instances(Vec<(String, Instance)>);

impl<'de> serde::Deserialize<'de> for Instances {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Instances;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of instance objects")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Instances, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<Value>()? {
                    if !v.is_object() {
                        return Err(serde::de::Error::custom("an instance is not an object"));
                    }
                    out.push((s(&v, &["RegionId"]), Instance::from_value(&v)));
                }
                Ok(Instances(out))
            }
        }
        d.deserialize_seq(Visit)
    }
}

type Str = fn(&Fields) -> &str;
type Strs = fn(&Fields) -> &[String];

/// One DescribeInstances filter.
enum Filter {
    Eq(Str, String),
    Name(String),
    Contains(Strs, String),
    AnyOf(Vec<Strs>, HashSet<String>),
    Tag(String, Option<String>),
}

/// The parsed filters of one DescribeInstances request (all ANDed).
pub struct Filters(Vec<Filter>);

const EQ_FILTERS: &[(&str, Str)] = &[
    ("InstanceType", |f| &f.instance_type),
    ("InstanceTypeFamily", |f| &f.family),
    ("VpcId", |f| &f.vpc_id),
    ("VSwitchId", |f| &f.vswitch_id),
    ("ZoneId", |f| &f.zone_id),
    ("Status", |f| &f.status),
    ("ImageId", |f| &f.image_id),
    ("ResourceGroupId", |f| &f.resource_group_id),
    ("KeyPairName", |f| &f.key_pair_name),
    ("InstanceChargeType", |f| &f.charge_type),
    ("InternetChargeType", |f| &f.internet_charge_type),
    ("InstanceNetworkType", |f| &f.network_type),
];

fn ids(f: &Fields) -> &[String] {
    std::slice::from_ref(&f.id)
}

/// Maximum number of tag filters, as in the real API.
pub const MAX_TAGS: usize = 20;

impl Filters {
    pub fn parse(p: &Params) -> Result<Filters, ApiError> {
        let mut out = Vec::new();
        for (name, get) in EQ_FILTERS {
            if let Some(v) = p.get(name).filter(|v| !v.is_empty()) {
                out.push(Filter::Eq(*get, v.to_owned()));
            }
        }
        if let Some(v) = p.get("InstanceName").filter(|v| !v.is_empty()) {
            out.push(Filter::Name(v.to_owned()));
        }
        if let Some(v) = p.get("SecurityGroupId").filter(|v| !v.is_empty()) {
            out.push(Filter::Contains(|f| &f.security_groups, v.to_owned()));
        }
        let arrays: [(&str, Vec<Strs>); 5] = [
            ("InstanceIds", vec![ids]),
            (
                "PrivateIpAddresses",
                vec![|f| &f.private_ips, |f| &f.inner_ips],
            ),
            ("InnerIpAddresses", vec![|f| &f.inner_ips]),
            ("PublicIpAddresses", vec![|f| &f.public_ips]),
            ("EipAddresses", vec![|f| &f.eips]),
        ];
        for (name, getters) in arrays {
            if let Some(v) = p.get(name).filter(|v| !v.is_empty()) {
                let set = json_string_array(v).ok_or_else(|| {
                    ApiError::invalid_parameter(name, "it must be a JSON array of strings")
                })?;
                if !set.is_empty() {
                    out.push(Filter::AnyOf(getters, set));
                }
            }
        }
        let mut tags: Vec<(Option<String>, Option<String>)> = vec![(None, None); MAX_TAGS];
        for (k, v) in p.iter() {
            let Some(rest) = k.strip_prefix("Tag.") else {
                continue;
            };
            let Some((n, which)) = rest.split_once('.') else {
                continue;
            };
            if which != "Key" && which != "Value" {
                continue;
            }
            let n: usize = match n.parse() {
                Ok(n) if (1..=MAX_TAGS).contains(&n) => n,
                _ => {
                    return Err(ApiError::invalid_parameter(
                        k,
                        "the tag index must be between 1 and 20",
                    ))
                }
            };
            let slot = &mut tags[n - 1];
            if which == "Key" {
                slot.0 = Some(v.to_owned());
            } else {
                slot.1 = Some(v.to_owned());
            }
        }
        for (i, (key, value)) in tags.into_iter().enumerate() {
            match (key, value) {
                (Some(k), v) if !k.is_empty() => {
                    out.push(Filter::Tag(k, v.filter(|v| !v.is_empty())));
                }
                (None, None) => {}
                _ => {
                    return Err(ApiError::missing_parameter(&format!("Tag.{}.Key", i + 1)));
                }
            }
        }
        Ok(Filters(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, f: &Fields) -> bool {
        self.0.iter().all(|filter| match filter {
            Filter::Eq(get, want) => get(f) == want,
            Filter::Name(pattern) => glob(pattern, &f.name),
            Filter::Contains(get, want) => get(f).iter().any(|x| x == want),
            Filter::AnyOf(getters, set) => getters
                .iter()
                .any(|get| get(f).iter().any(|x| set.contains(x))),
            Filter::Tag(key, value) => f
                .tags
                .iter()
                .any(|(k, v)| k == key && value.iter().all(|want| v == want)),
        })
    }
}

/// `["a","b"]` → {a, b}; anything else → None.
fn json_string_array(v: &str) -> Option<HashSet<String>> {
    let parsed: Value = serde_json::from_str(v).ok()?;
    parsed
        .as_array()?
        .iter()
        .map(|x| x.as_str().map(str::to_owned))
        .collect()
}

/// `*` matches any run of characters (the only wildcard of the real InstanceName filter).
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The items of page `number` (from 1) of size `size`.
pub fn page<T>(items: &[T], number: u64, size: u64) -> &[T] {
    let start = (number - 1).saturating_mul(size);
    let start = usize::try_from(start)
        .unwrap_or(usize::MAX)
        .min(items.len());
    let end = start.saturating_add(size as usize).min(items.len());
    &items[start..end]
}

#[cfg(test)]
mod tests;
