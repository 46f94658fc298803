//! Which instances to list: `instance_filters` (the ini) and the YAML's `filters`,
//! `include_filters` and `exclude_filters`, as sets of DescribeInstances parameters
//! (docs/DESIGN.md, "Filters"). An instance is listed when it matches one include set and no
//! exclude set; each set is its own listing of every region.

use serde_json::{Map, Value};

use crate::config::values::scalar_text;

/// One listing's DescribeInstances parameters (the filters ANDed).
pub type FilterSet = Vec<(String, String)>;

/// The listings a run makes: the union of `include`, minus the union of `exclude`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    /// Never empty; one empty set lists everything.
    pub include: Vec<FilterSet>,
    pub exclude: Vec<FilterSet>,
}

impl Default for Filters {
    fn default() -> Filters {
        Filters {
            include: vec![Vec::new()],
            exclude: Vec::new(),
        }
    }
}

impl Filters {
    /// True when every instance is asked for.
    pub fn is_empty(&self) -> bool {
        self.exclude.is_empty() && self.include.iter().all(Vec::is_empty)
    }
}

/// More listings than this per region from one filters mapping is refused: list values
/// multiply.
pub const MAX_SETS: usize = 64;

/// `instance_filters` keys and their DescribeInstances parameters; `true` = list-valued.
const FILTERS: &[(&str, &str, bool)] = &[
    ("instance_type", "InstanceType", false),
    ("vpc_id", "VpcId", false),
    ("vswitch_id", "VSwitchId", false),
    ("zone_id", "ZoneId", false),
    ("status", "Status", false),
    ("instance_name", "InstanceName", false),
    ("image_id", "ImageId", false),
    ("security_group_id", "SecurityGroupId", false),
    ("instance_ids", "InstanceIds", true),
    ("resource_group_id", "ResourceGroupId", false),
    ("key_pair_name", "KeyPairName", false),
    ("instance_charge_type", "InstanceChargeType", false),
    ("internet_charge_type", "InternetChargeType", false),
    ("instance_network_type", "InstanceNetworkType", false),
    ("private_ip_addresses", "PrivateIpAddresses", true),
    ("public_ip_addresses", "PublicIpAddresses", true),
    ("eip_addresses", "EipAddresses", true),
];

/// `key=value` pairs, comma-separated, into DescribeInstances parameters.
pub fn parse_instance_filters(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut params: Vec<(String, String)> = Vec::new();
    let mut tags = 0;
    for item in raw
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let (key, value) = match item.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (item, None),
        };
        add_filter(&mut params, &mut tags, item, key, value)?;
    }
    Ok(params)
}

/// The `filters` mapping of a YAML config (the alicloud_ecs plugin's option, with aws_ec2's
/// meaning for lists): a list value is any of its items. The API takes a JSON array for the
/// list-valued keys (`instance_ids`, the address keys), so those stay one request; any other
/// key with a list takes one set per item, and several such keys multiply. footmark's `tags`
/// mapping (`tags: {env: prod}`) is a tag filter per key.
pub fn filter_sets_of_map(map: &Map<String, Value>) -> Result<Vec<FilterSet>, String> {
    // Each filter with its alternatives: (key as written, the values it may take).
    let mut choices: Vec<(String, Vec<Option<String>>)> = Vec::new();
    for (key, value) in map {
        if key.trim() == "tags" {
            let Value::Object(tags) = value else {
                return Err(
                    "filter 'tags' must be a mapping of tag keys to values (tags: {env: prod})"
                        .into(),
                );
            };
            for (k, v) in tags {
                choices.push((
                    format!("tag:{k}"),
                    alternatives(&format!("tags.{k}"), v, false)?,
                ));
            }
            continue;
        }
        let listed = FILTERS
            .iter()
            .any(|&(k, _, is_list)| k == key.trim() && is_list);
        choices.push((key.clone(), alternatives(key, value, listed)?));
    }
    let count = choices
        .iter()
        .try_fold(1usize, |n, (_, alts)| n.checked_mul(alts.len().max(1)))
        .unwrap_or(usize::MAX);
    if count > MAX_SETS {
        return Err(format!(
            "list values make {count} combinations, each its own listing of every region; at most {MAX_SETS} (use fewer values, or include_filters)"
        ));
    }
    let mut sets = vec![Vec::new()];
    for (key, alts) in &choices {
        let mut next = Vec::with_capacity(sets.len() * alts.len());
        for set in &sets {
            for alt in alts {
                let mut set: Vec<(String, Option<String>)> = Vec::clone(set);
                set.push((key.clone(), alt.clone()));
                next.push(set);
            }
        }
        sets = next;
    }
    sets.into_iter()
        .map(|set| {
            let mut params = Vec::new();
            let mut tags = 0;
            for (key, value) in &set {
                let item = match value {
                    Some(t) => format!("{key}={t}"),
                    None => key.clone(),
                };
                add_filter(&mut params, &mut tags, &item, key.trim(), value.as_deref())?;
            }
            Ok(params)
        })
        .collect()
}

/// The values one filter may take: a scalar is one; a list is each of its items, or for a
/// list-valued API key (`joined`) all of them at once (`a;b`, as the ini writes it).
fn alternatives(key: &str, value: &Value, joined: bool) -> Result<Vec<Option<String>>, String> {
    match value {
        Value::Null => Ok(vec![None]),
        Value::Array(items) => {
            let mut texts = Vec::with_capacity(items.len());
            for i in items {
                let t = scalar_text(i)
                    .filter(|t| !(joined && t.contains(';')))
                    .ok_or_else(|| format!("filter '{key}': list items must be plain values"))?;
                texts.push(t);
            }
            if texts.is_empty() {
                return Err(format!(
                    "filter '{key}' is an empty list, which matches nothing (remove it, or give values)"
                ));
            }
            Ok(if joined {
                vec![Some(texts.join(";"))]
            } else {
                texts.into_iter().map(Some).collect()
            })
        }
        other => Ok(vec![Some(scalar_text(other).ok_or_else(|| {
            format!("filter '{key}' must be a value or a list of them")
        })?)]),
    }
}

/// One filter into `params`; `item` is the filter as written, for messages.
fn add_filter(
    params: &mut Vec<(String, String)>,
    tags: &mut usize,
    item: &str,
    key: &str,
    value: Option<&str>,
) -> Result<(), String> {
    if let Some(tag_key) = key.strip_prefix("tag:").map(str::trim) {
        if tag_key.is_empty() {
            return Err(format!(
                "'{item}': tag filter without a key (use tag:KEY=VALUE)"
            ));
        }
        *tags += 1;
        if *tags > 20 {
            return Err("at most 20 tag filters".into());
        }
        params.push((format!("Tag.{tags}.Key"), tag_key.to_string()));
        if let Some(v) = value {
            params.push((format!("Tag.{tags}.Value"), v.to_string()));
        }
        return Ok(());
    }
    let Some(&(_, api, is_list)) = FILTERS.iter().find(|(k, _, _)| *k == key) else {
        let nearest = FILTERS
            .iter()
            .map(|(k, _, _)| (strsim::levenshtein(k, key), *k))
            .min()
            .map(|(_, k)| format!("; did you mean '{k}'?"))
            .unwrap_or_default();
        return Err(format!(
            "unknown filter key '{key}' (keys are snake_case DescribeInstances parameters, or tag:KEY{nearest})"
        ));
    };
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Err(format!("filter '{key}' needs a value ({key}=VALUE)"));
    };
    if params.iter().any(|(p, _)| p == api) {
        return Err(format!(
            "filter '{key}' given twice (list-valued keys take a;b)"
        ));
    }
    let value = if is_list {
        let items: Vec<&str> = value
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if items.is_empty() {
            return Err(format!(
                "filter '{key}' needs at least one value ({key}=a;b)"
            ));
        }
        serde_json::to_string(&items).expect("strings serialize")
    } else {
        value.to_string()
    };
    params.push((api.to_string(), value));
    Ok(())
}

#[cfg(test)]
mod tests;
