//! The YAML format's reader: a file in the alicloud_ecs inventory plugin's format
//! (`plugin: alicloud_ecs`), so that one `alicloud.yml` serves the plugin and this inventory.
//!
//! It takes the plugin's options (`regions` as a list, `hostnames`, `filters`, the constructed
//! options, `cache`, `cache_timeout`, `cache_connection` and the credential options under the
//! plugin's names) and every alicloud.ini option under its own name, with YAML types. A plugin
//! name and the ini name of one option cannot both be set. Errors name file and line; an
//! unknown option is a warning naming the nearest option, as for the ini.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

use crate::config::account_entries::{parse_accounts, Account};
use crate::config::instance_filters::{
    filter_sets_of_map, parse_instance_filters, FilterSet, Filters, MAX_SETS,
};
use crate::config::options::{Flavor, Options, CREDENTIAL_OPTIONS, ECS_OPTIONS};
use crate::config::pyyaml::{self, Node};
use crate::config::values::{self, AssumeRole};
use crate::error::{Error, Result};

/// The plugin's names of options that alicloud.ini names otherwise.
const ALIASES: &[(&str, &str)] = &[
    ("cache_connection", "cache_path"),
    ("cache_timeout", "cache_max_age"),
    ("ecs_role_name", "alicloud_ecs_role_name"),
    ("profile", "alicloud_profile"),
    (
        "shared_credentials_file",
        "alicloud_shared_credentials_file",
    ),
    ("alicloud_assume_role", "assume_role"),
    ("filters", "instance_filters"),
    // The alicloud doc fragment's aliases.
    ("access_key", "alicloud_access_key"),
    ("access_key_id", "alicloud_access_key"),
    ("secret_key", "alicloud_secret_key"),
    ("secret_access_key", "alicloud_secret_key"),
    ("security_token", "alicloud_security_token"),
    ("region", "alicloud_region"),
    ("region_id", "alicloud_region"),
    ("role_name", "alicloud_ecs_role_name"),
    ("alicloud_assume_role_arn", "assume_role_arn"),
    (
        "alicloud_assume_role_session_name",
        "assume_role_session_name",
    ),
    (
        "alicloud_assume_role_session_expiration",
        "assume_role_session_expiration",
    ),
    ("protocol", "alicloud_protocol"),
    // aws_ec2's names of the same things.
    ("session_token", "alicloud_security_token"),
    ("endpoint_url", "ecs_endpoint"),
];

/// The fragment's top-level parts of a role to assume, and the key each is in the
/// `alicloud_assume_role` block.
const ROLE_PARTS: &[(&str, &str)] = &[
    ("assume_role_arn", "role_arn"),
    ("assume_role_session_name", "session_name"),
    ("assume_role_session_expiration", "session_expiration"),
];

/// Options of the alicloud_ecs and aws_ec2 plugins that cannot mean here what they mean there,
/// with why: refused when set (to anything but their default, where one is given), since
/// ignoring them could change which hosts are listed, or how.
const REFUSED: &[(&str, Option<&str>, &str)] = &[
    (
        "allow_duplicated_hosts",
        Some("false"),
        "one host per instance here; name hosts uniquely with hostnames",
    ),
    (
        "use_ssm_inventory",
        Some("false"),
        "AWS Systems Manager has no ECS counterpart here",
    ),
    (
        "use_contrib_script_compatible_ec2_tag_keys",
        Some("false"),
        "ECS tags are the ecs_tags hostvar (and tags in expressions)",
    ),
    (
        "route53_enabled",
        Some("false"),
        "Route 53 is AWS's; ECS host names come from hostnames",
    ),
    (
        "iam_role_arn",
        None,
        "an AWS role; for ECS use alicloud_assume_role or assume_role_arn",
    ),
    (
        "aws_profile",
        None,
        "an AWS credential; for ECS use profile",
    ),
    (
        "aws_access_key",
        None,
        "an AWS credential; for ECS use alicloud_access_key",
    ),
    (
        "aws_secret_key",
        None,
        "an AWS credential; for ECS use alicloud_secret_key",
    ),
    (
        "aws_security_token",
        None,
        "an AWS credential; for ECS use alicloud_security_token",
    ),
];

/// The plugin's options that alicloud.ini has no counterpart of.
const PLUGIN_OPTIONS: &[&str] = &[
    "plugin",
    "hostnames",
    "cache",
    "use_contrib_script_compatible_sanitization",
    // aws_ec2's, with its meaning (README, "Options of aws_ec2").
    "include_filters",
    "exclude_filters",
    "strict_permissions",
    "hostvars_prefix",
    "hostvars_suffix",
    // The alicloud doc fragment's own.
    "assume_role_arn",
    "assume_role_session_name",
    "assume_role_session_expiration",
    "alicloud_protocol",
];

/// Ansible's own cache options: our cache is our own, so they are accepted and ignored; and
/// `executable`, the collection's plugin's option naming this binary (packaging/collection).
const IGNORED: &[&str] = &["cache_plugin", "cache_prefix", "executable"];

/// Options that take a list.
const LISTS: &[&str] = &[
    "regions",
    "regions_exclude",
    "destination_variable",
    "destination_format_tags",
    "instance_states",
    "hostvars",
    "hostnames",
    "keyed_groups",
    "accounts",
    "include_filters",
    "exclude_filters",
];

/// Options whose value is a mapping (or, as in the ini, text).
const MAPPINGS: &[&str] = &["compose", "groups", "instance_filters", "assume_role"];

struct Entry {
    /// The name as written (the plugin's or the ini's).
    key: String,
    line: usize,
    value: Value,
    /// The value as an ini would hold it; `None` for a mapping.
    text: Option<String>,
}

pub struct YamlOptions {
    path: PathBuf,
    /// By the ini's name of the option.
    entries: HashMap<String, Entry>,
    /// Values implied by plugin options (`cache: false`, ...), by the ini's name, with the line
    /// of the option that implies them.
    implied: HashMap<&'static str, (String, usize)>,
    warnings: Vec<String>,
}

/// Names the file only: values may be secrets.
impl fmt::Debug for YamlOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YamlOptions")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The top-level mapping, keys with their lines, in file order; values with their spans, for
/// PyYAML's reading of plain scalars.
struct TopLevel(Vec<(Spanned<String>, Spanned<Node>)>);

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<TopLevel, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopLevel;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of options")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<TopLevel, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry::<Spanned<String>, Spanned<Node>>()? {
                    out.push(entry);
                }
                Ok(TopLevel(out))
            }
            fn visit_unit<E>(self) -> std::result::Result<TopLevel, E> {
                Ok(TopLevel(Vec::new()))
            }
        }
        d.deserialize_map(V)
    }
}

fn nearest(word: &str) -> String {
    ECS_OPTIONS
        .iter()
        .chain(CREDENTIAL_OPTIONS)
        .chain(PLUGIN_OPTIONS)
        .chain(ALIASES.iter().map(|(a, _)| a))
        .map(|k| (strsim::levenshtein(k, word), *k))
        .min()
        .filter(|(d, _)| *d <= 3.max(word.len() / 3))
        .map(|(_, k)| format!(" (did you mean '{k}'?)"))
        .unwrap_or_default()
}

/// A list of scalars as the ini's comma list; `None` for anything else.
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(values::scalar_text)
            .collect::<Option<Vec<_>>>()
            .map(|t| t.join(", ")),
        other => values::scalar_text(other),
    }
}

impl YamlOptions {
    pub fn read(path: &Path) -> Result<YamlOptions> {
        let text = crate::config::ini::read_text(path, "the alicloud_ecs plugin's YAML")?;
        YamlOptions::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<YamlOptions> {
        let at = |line: usize, message: String| {
            Error::Config(format!("{}:{line}: {message}", path.display()))
        };
        let top: TopLevel = serde_saphyr::from_str_with_options(text, values::yaml_options())
            .map_err(|e| {
                let line = e.location().map_or(1, |l| l.line() as usize);
                at(
                    line,
                    format!(
                        "YAML syntax error: {} (fix the file; it must be a mapping of options)",
                        values::yaml_error(&e.to_string())
                    ),
                )
            })?;
        let mut y = YamlOptions {
            path: path.to_path_buf(),
            entries: HashMap::new(),
            implied: HashMap::new(),
            warnings: Vec::new(),
        };
        for (key, node) in top.0 {
            let value = pyyaml::to_value(&node, text);
            let line = key.referenced.line() as usize;
            let key = key.value;
            if IGNORED.contains(&key.as_str()) {
                continue;
            }
            if let Some(&(_, default, why)) = REFUSED.iter().find(|(k, _, _)| *k == key) {
                let text = values::scalar_text(&value);
                let is_default = match (default, text.as_deref()) {
                    (_, Some("")) => true,
                    (Some(d), Some(t)) => values::parse_bool(t) == values::parse_bool(d),
                    _ => false,
                };
                if !is_default {
                    return Err(Error::ConfigValue {
                        file: path.to_path_buf(),
                        line,
                        option: key,
                        message: format!("is not supported here: {why}"),
                    });
                }
                continue;
            }
            let name = match ALIASES.iter().find(|(a, _)| *a == key) {
                Some((_, ini)) => ini.to_string(),
                None if ECS_OPTIONS
                    .iter()
                    .chain(CREDENTIAL_OPTIONS)
                    .chain(PLUGIN_OPTIONS)
                    .any(|k| *k == key) =>
                {
                    key.clone()
                }
                None => {
                    y.warnings.push(format!(
                        "{}:{line}: unknown option '{key}' ignored{}",
                        path.display(),
                        nearest(&key)
                    ));
                    continue;
                }
            };
            if let Some(prev) = y.entries.get(&name) {
                return Err(at(
                    line,
                    format!(
                        "'{key}' and '{}' (line {}) set the same option; keep one",
                        prev.key, prev.line
                    ),
                ));
            }
            let text = text_of(&value);
            let fits = match &value {
                Value::Array(_) => LISTS.contains(&name.as_str()),
                Value::Object(_) => MAPPINGS.contains(&name.as_str()) || name == "hostnames",
                _ => true,
            };
            if !fits {
                let want = if MAPPINGS.contains(&name.as_str()) {
                    "a mapping"
                } else if LISTS.contains(&name.as_str()) {
                    "a list or a value"
                } else {
                    "a single value"
                };
                return Err(Error::ConfigValue {
                    file: path.to_path_buf(),
                    line,
                    option: key,
                    // The kind, never the value: it may hold a secret.
                    message: format!("must be {want}, not {}", kind_of(&value)),
                });
            }
            // A list of values must not hold lists or mappings: `regions: [[cn-beijing]]` was
            // read as no regions at all, so every region was listed.
            let takes_structures = matches!(
                name.as_str(),
                "keyed_groups" | "hostnames" | "accounts" | "include_filters" | "exclude_filters"
            );
            if let Value::Array(items) = &value {
                if !takes_structures && items.iter().any(|i| i.is_array() || i.is_object()) {
                    return Err(Error::ConfigValue {
                        file: path.to_path_buf(),
                        line,
                        option: key,
                        message: "holds a list or mapping inside the list; write a flat list such as [a, b]".into(),
                    });
                }
            }
            y.entries.insert(
                name,
                Entry {
                    key,
                    line,
                    value,
                    text,
                },
            );
        }

        match y.entries.get("plugin") {
            None => {
                return Err(Error::Config(format!(
                    "{}: no plugin option (a YAML config is in the alicloud_ecs plugin's format: add the line plugin: alicloud_ecs)",
                    path.display()
                )))
            }
            Some(e) => {
                let name = e.text.clone().unwrap_or_default();
                if name != "alicloud_ecs" && !name.ends_with(".alicloud_ecs") {
                    return Err(Error::ConfigValue {
                        file: path.to_path_buf(),
                        line: e.line,
                        option: e.key.clone(),
                        message: format!(
                            "'{name}' is another inventory plugin (write plugin: alicloud_ecs, or alibaba.alicloud.alicloud_ecs)"
                        ),
                    });
                }
            }
        }
        if let Some(p) = y.entries.get("alicloud_protocol") {
            match p.text.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("") | Some("https") => {}
                Some(_) => {
                    return Err(Error::ConfigValue {
                        file: path.to_path_buf(),
                        line: p.line,
                        option: p.key.clone(),
                        message: "only https is used here (requests over http would travel in clear; an http:// ecs_endpoint is the way to test against a local service)".into(),
                    })
                }
            }
        }
        if !y.boolean("cache", true)? {
            let line = y.entries["cache"].line;
            y.implied.insert("cache_max_age", ("0".into(), line));
        }
        if y.boolean("use_contrib_script_compatible_sanitization", false)? {
            let line = y.entries["use_contrib_script_compatible_sanitization"].line;
            y.implied
                .insert("replace_dash_in_groups", ("false".into(), line));
            y.implied.insert("ascii_group_names", ("true".into(), line));
        }
        Ok(y)
    }

    /// `include_filters` or `exclude_filters`: a list of `filters` mappings, each its own sets.
    fn filter_list(&self, name: &str) -> Result<Vec<FilterSet>> {
        let mut sets = Vec::new();
        match self.entries.get(name).map(|e| &e.value) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let Value::Object(m) = item else {
                        return Err(self.invalid(
                            name,
                            format!("entry {i} must be a mapping of filters, like filters"),
                        ));
                    };
                    sets.extend(
                        filter_sets_of_map(m)
                            .map_err(|msg| self.invalid(name, format!("entry {i}: {msg}")))?,
                    );
                }
            }
            Some(_) => return Err(self.invalid(name, "must be a list of filters mappings".into())),
        }
        if sets.len() > MAX_SETS {
            return Err(self.invalid(
                name,
                format!(
                    "makes {} listings of every region; at most {MAX_SETS}",
                    sets.len()
                ),
            ));
        }
        Ok(sets)
    }

    /// Unknown options, each with file and line and the nearest option's name.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }
}

/// What kind of YAML value `v` is, for a message that must not quote it.
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
        _ => "a single value",
    }
}

impl Options for YamlOptions {
    fn source(&self) -> Option<&Path> {
        Some(self.path.as_path())
    }

    fn flavor(&self) -> Flavor {
        Flavor::Plugin
    }

    fn raw(&self, name: &str) -> Option<&str> {
        match self.implied.get(name) {
            Some((v, _)) => Some(v),
            None => self.entries.get(name).and_then(|e| e.text.as_deref()),
        }
    }

    fn invalid(&self, name: &str, message: String) -> Error {
        let at = match self.implied.get(name) {
            Some((_, line)) => Some((*line, name.to_string())),
            None => self.entries.get(name).map(|e| (e.line, e.key.clone())),
        };
        match at {
            Some((line, option)) => Error::ConfigValue {
                file: self.path.clone(),
                line,
                option,
                message,
            },
            None => Error::Config(format!(
                "{}: option '{name}': {message}",
                self.path.display()
            )),
        }
    }

    /// YAML strings are taken as they are: their quotes were YAML's.
    fn string(&self, name: &str) -> Option<String> {
        self.raw(name).map(str::to_string)
    }

    fn list(&self, name: &str) -> Vec<String> {
        match self.entries.get(name).map(|e| &e.value) {
            Some(Value::Array(items)) if !self.implied.contains_key(name) => items
                .iter()
                .filter_map(values::scalar_text)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            _ => self.raw(name).map(values::split_list).unwrap_or_default(),
        }
    }

    fn value(&self, name: &str) -> Result<Option<Value>> {
        Ok(self.entries.get(name).map(|e| e.value.clone()))
    }

    /// `filters` with aws_ec2's `include_filters` and `exclude_filters`: instances matching
    /// `filters` or an `include_filters` entry (everything when neither is set), less those
    /// matching an `exclude_filters` entry.
    fn filters(&self) -> Result<Filters> {
        let mut include = match self.entries.get("instance_filters").map(|e| &e.value) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(m)) if m.is_empty() => Vec::new(),
            Some(Value::Object(m)) => {
                filter_sets_of_map(m).map_err(|msg| self.invalid("instance_filters", msg))?
            }
            Some(_) => {
                let raw = self.raw("instance_filters").unwrap_or_default();
                vec![parse_instance_filters(raw)
                    .map_err(|msg| self.invalid("instance_filters", msg))?]
            }
        };
        include.extend(self.filter_list("include_filters")?);
        if include.is_empty() {
            include.push(Vec::new());
        }
        Ok(Filters {
            include,
            exclude: self.filter_list("exclude_filters")?,
        })
    }

    /// A YAML list of mappings, as the ini's flow list reads (a string is read as one).
    fn accounts(&self) -> Result<Option<Vec<Account>>> {
        let parsed = match self.entries.get("accounts").map(|e| &e.value) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => return Ok(None),
            Some(Value::String(text)) => values::parse_yaml(text).and_then(|v| parse_accounts(&v)),
            Some(v) => parse_accounts(v),
        };
        parsed.map(Some).map_err(|m| self.invalid("accounts", m))
    }

    /// `alicloud_assume_role` (a mapping, or the ini's text), with the fragment's top-level
    /// `alicloud_assume_role_arn`, `_session_name` and `_session_expiration` filling it in.
    fn assume_role(&self) -> Result<Option<AssumeRole>> {
        let mut parts = serde_json::Map::new();
        for &(option, key) in ROLE_PARTS {
            if let Some(e) = self.entries.get(option).filter(|e| !e.value.is_null()) {
                parts.insert(key.to_string(), e.value.clone());
            }
        }
        let block = match self.entries.get("assume_role").map(|e| &e.value) {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m.clone()),
            Some(_) => match self.raw("assume_role").filter(|v| !v.is_empty()) {
                Some(v) if parts.is_empty() => {
                    return values::parse_assume_role(v)
                        .map(Some)
                        .map_err(|m| self.invalid("assume_role", m))
                }
                Some(v) => match values::parse_yaml(v) {
                    Ok(Value::Object(m)) => Some(m),
                    _ => {
                        return Err(self.invalid(
                            "assume_role",
                            "must be a mapping {role_arn: ..., session_name: ...}".into(),
                        ))
                    }
                },
                None => None,
            },
        };
        if block.is_none() && parts.is_empty() {
            return Ok(None);
        }
        let mut merged = block.unwrap_or_default();
        for (key, value) in parts {
            let option = ROLE_PARTS
                .iter()
                .find(|(_, k)| *k == key)
                .map_or("", |(o, _)| *o);
            if merged.contains_key(&key) {
                return Err(self.invalid(
                    option,
                    format!("{key} is also set in alicloud_assume_role; keep one"),
                ));
            }
            merged.insert(key, value);
        }
        let option = if self.entries.contains_key("assume_role") {
            "assume_role"
        } else {
            "assume_role_arn"
        };
        values::assume_role_of(&merged)
            .map(Some)
            .map_err(|msg| self.invalid(option, msg))
    }
}

#[cfg(test)]
mod tests;
