//! The options that shape the inventory beyond naming and default groups, read the same way
//! from every format: constructed groups and variables (`compose`, `groups`, `keyed_groups`,
//! `strict`, `leading_separator`; docs/DESIGN.md, "Constructed"), the printed hostvars
//! (`hostvars`) and the alicloud_ecs plugin's hostname precedence list (`hostnames`).

use std::sync::Arc;

use serde_json::Value;

use crate::config::options::Options;
use crate::config::values;
use crate::constructed::Constructed;
use crate::error::Result;

/// Which hostvars `--list` and `--host` print: names matching one of the glob patterns (`*`
/// any run of characters, `?` one character), plus the composed variables, `ansible_host`
/// and `ansible_ssh_host`, which are always kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostvarSelection {
    pub patterns: Vec<String>,
}

impl HostvarSelection {
    pub fn keeps(&self, name: &str) -> bool {
        matches!(name, "ansible_host" | "ansible_ssh_host")
            || self.patterns.iter().any(|p| glob_match(p, name))
    }
}

/// `*` matches any run of characters, `?` any one; everything else matches itself. Works on
/// UTF-8 bytes without allocating: it runs for every hostvar of every host.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    // The length of the character starting at byte `i` of the text.
    let char_len = |i: usize| text[i..].chars().next().map_or(1, char::len_utf8);
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and the text position it has swallowed up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'?' {
            pi += 1;
            ti += char_len(ti);
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            let next = st + char_len(st);
            (pi, ti) = (sp + 1, next);
            star = Some((sp, next));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

/// One entry of `hostnames`, the alicloud_ecs plugin's precedence list (with aws_ec2's
/// mapping entries and templates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hostname {
    /// A hostvar (`instance_id`, `instance_name`, `private_ip_address`, ...).
    Var(String),
    /// `tag:K1,K2=V` or `{tags: "K1,K2=V"}`: the value of tag K1, else `K2_V` when tag K2 is
    /// V, in that order (the plugin's `_get_tag_hostname`).
    Tags(Vec<(String, Option<String>)>),
    /// aws_ec2's `{name, prefix, separator}`: prefix, separator and name when both have a
    /// value, else the name. A word that is no hostvar of the instance is itself.
    Joined {
        name: Box<Hostname>,
        prefix: Option<Box<Hostname>>,
        separator: String,
    },
    /// An entry holding `{{ }}`: rendered per host by the engine of `compose`.
    Template(HostnameTemplate),
}

/// A templated `hostnames` entry, compiled once.
#[derive(Clone)]
pub struct HostnameTemplate {
    pub source: String,
    /// One compose entry whose value is the rendered text.
    pub compiled: Arc<Constructed>,
}

impl PartialEq for HostnameTemplate {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for HostnameTemplate {}

/// The source only: it says what the entry means (and goes into the cache key).
impl std::fmt::Debug for HostnameTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.source)
    }
}

impl std::fmt::Display for Hostname {
    /// As the plugin's option writes it: `instance_id`, `tag:K1,K2=V`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Hostname::Var(v) => f.write_str(v),
            Hostname::Tags(tags) => {
                f.write_str("tag:")?;
                for (i, (k, v)) in tags.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(k)?;
                    if let Some(v) = v {
                        write!(f, "={v}")?;
                    }
                }
                Ok(())
            }
            Hostname::Joined {
                name,
                prefix: Some(prefix),
                separator,
            } => write!(f, "{prefix}{separator}{name}"),
            Hostname::Joined { name, .. } => write!(f, "{name}"),
            Hostname::Template(t) => f.write_str(&t.source),
        }
    }
}

/// A template's text as one expression: its `{{ }}` parts joined with the text between them.
fn template_expression(source: &str) -> std::result::Result<String, String> {
    if source.contains("{%") || source.contains("{#") {
        return Err(format!(
            "{source:?}: only {{{{ }}}} expressions are rendered in hostnames, not {{% %}} or {{# #}}"
        ));
    }
    let mut parts: Vec<String> = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(serde_json::to_string(&rest[..start]).expect("a string serializes"));
        }
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("{source:?}: unclosed {{{{"))?;
        let expr = after[..end].trim();
        if expr.is_empty() {
            return Err(format!("{source:?}: empty {{{{ }}}}"));
        }
        parts.push(format!("(({expr}) | string)"));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(serde_json::to_string(rest).expect("a string serializes"));
    }
    Ok(parts.join(" ~ "))
}

impl Hostname {
    fn tags(spec: &str) -> Hostname {
        // Split as the plugin does: on ',' and then '=', without trimming.
        Hostname::Tags(
            spec.split(',')
                .map(|item| match item.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (item.to_string(), None),
                })
                .collect(),
        )
    }

    fn parse(v: &Value) -> std::result::Result<Hostname, String> {
        match v {
            Value::String(s) if s.contains("{{") => {
                let expr = template_expression(s)?;
                let config = serde_json::json!({ "compose": { "hostname": expr } });
                let compiled = Constructed::from_value(&config)
                    .map_err(|e| format!("{s:?}: {}", e.message))?;
                Ok(Hostname::Template(HostnameTemplate {
                    source: s.clone(),
                    compiled: Arc::new(compiled),
                }))
            }
            Value::String(s) => Ok(match s.strip_prefix("tag:") {
                Some(spec) => Hostname::tags(spec),
                None => Hostname::Var(s.clone()),
            }),
            Value::Object(m) if m.len() == 1 && m.contains_key("tags") => match m.get("tags") {
                Some(Value::String(spec)) => Ok(Hostname::tags(spec)),
                _ => Err(format!("{v} is not {{tags: \"KEY,KEY=VALUE\"}}")),
            },
            Value::Object(m) if m.contains_key("name") => {
                if let Some(k) = m
                    .keys()
                    .find(|k| !matches!(k.as_str(), "name" | "prefix" | "separator"))
                {
                    return Err(format!(
                        "unknown key '{k}' in a hostnames mapping (name, prefix, separator)"
                    ));
                }
                let part = |key: &str| -> std::result::Result<Option<Box<Hostname>>, String> {
                    match m.get(key) {
                        None | Some(Value::Null) => Ok(None),
                        Some(Value::String(s)) if s.is_empty() => Ok(None),
                        Some(p @ Value::String(_)) => Hostname::parse(p).map(|h| Some(Box::new(h))),
                        Some(_) => Err(format!("{key} in a hostnames mapping must be a string")),
                    }
                };
                let separator = match m.get("separator") {
                    None => "_".to_string(),
                    Some(s) => values::scalar_text(s)
                        .ok_or("separator in a hostnames mapping must be a string")?,
                };
                if m.contains_key("separator") && part("prefix")?.is_none() {
                    return Err("a hostnames mapping with a separator needs a prefix".into());
                }
                Ok(Hostname::Joined {
                    name: part("name")?.ok_or("name in a hostnames mapping is empty")?,
                    prefix: part("prefix")?,
                    separator,
                })
            }
            other => Err(format!(
                "{other} is not a hostvar name, tag:KEY, {{tags: \"KEY,KEY=VALUE\"}}, {{name: ..., prefix: ..., separator: ...}} or a {{{{ template }}}}"
            )),
        }
    }
}

/// What [`read`] found.
pub(super) struct Shaping {
    pub constructed: Option<Arc<Constructed>>,
    /// The constructed configuration as canonical JSON; empty without one.
    pub constructed_config: String,
    pub hostvars: Option<HostvarSelection>,
    pub hostnames: Vec<Hostname>,
}

/// `contrib` is `use_contrib_script_compatible_sanitization`, which names constructed groups.
pub(super) fn read(reader: &impl Options, contrib: bool) -> Result<Shaping> {
    let mut config = serde_json::Map::new();
    for name in ["compose", "groups", "keyed_groups"] {
        if let Some(v) = reader.value(name)?.filter(|v| !v.is_null()) {
            config.insert(name.to_string(), v);
        }
    }
    let (constructed, constructed_config) = if config.is_empty() {
        (None, String::new())
    } else {
        config.insert(
            "strict".into(),
            Value::Bool(reader.boolean("strict", false)?),
        );
        config.insert(
            "leading_separator".into(),
            Value::Bool(reader.boolean("leading_separator", true)?),
        );
        // Only when set, so that other configurations keep their cache keys.
        if contrib {
            config.insert("contrib_sanitization".into(), Value::Bool(true));
        }
        let config = Value::Object(config);
        let compiled = Constructed::from_value(&config).map_err(|e| {
            // `compose.NAME`, `keyed_groups[N]`: the option is the entry's first part.
            let option = e.entry.split(['.', '[']).next().unwrap_or("compose");
            reader.invalid(option, format!("{}: {}", e.entry, e.message))
        })?;
        (Some(Arc::new(compiled)), config.to_string())
    };

    let hostvars = match reader.raw("hostvars") {
        None => None,
        Some(raw) => Some(HostvarSelection {
            patterns: patterns(reader, raw)?,
        }),
    };

    let mut hostnames = Vec::new();
    match reader.value("hostnames")? {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in &items {
                hostnames.push(Hostname::parse(item).map_err(|m| reader.invalid("hostnames", m))?);
            }
        }
        Some(one) => {
            hostnames.push(Hostname::parse(&one).map_err(|m| reader.invalid("hostnames", m))?)
        }
    }
    if !hostnames.is_empty() && reader.raw("hostname_variable").is_some() {
        return Err(reader.invalid(
            "hostnames",
            "set one of hostnames and hostname_variable".into(),
        ));
    }
    Ok(Shaping {
        constructed,
        constructed_config,
        hostvars,
        hostnames,
    })
}

/// `hostvars`: the ini's comma list (`a, b*`), or a list (`[a, b*]`, or YAML's own). A comma
/// list is not read as YAML, where a leading `*` would be an alias.
fn patterns(reader: &impl Options, raw: &str) -> Result<Vec<String>> {
    let items = if raw.trim_start().starts_with('[') {
        match reader.value("hostvars")? {
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    values::scalar_text(i).ok_or_else(|| {
                        reader.invalid("hostvars", format!("{i} is not a hostvar name pattern"))
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            _ => return Err(reader.invalid("hostvars", "must be a list of patterns".into())),
        }
    } else {
        reader.list("hostvars")
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_names() {
        for (p, t, want) in [
            ("region*", "region", true),
            ("region*", "region_id", true),
            ("region*", "a_region", false),
            ("*_id", "instance_id", true),
            ("*_id", "instance_ids", false),
            ("i?", "id", true),
            ("i?", "i", false),
            ("*a*b*", "xaxxbx", true),
            ("*a*b", "xaxxbx", false),
            ("", "", true),
            ("", "x", false),
            ("*", "", true),
            ("生*", "生产", true),
            ("?产", "生产", true),
            ("??", "生产", true),
            ("?", "生产", false),
            ("*产", "生产", true),
            ("a*?c", "ab生c", true),
        ] {
            assert_eq!(glob_match(p, t), want, "{p:?} vs {t:?}");
        }
        let sel = HostvarSelection {
            patterns: vec!["instance_id".into()],
        };
        assert!(sel.keeps("instance_id") && sel.keeps("ansible_host") && !sel.keeps("id"));
    }

    #[test]
    fn hostnames_read_as_the_plugin_reads_them() {
        let h = |v: Value| Hostname::parse(&v);
        assert_eq!(
            h(Value::from("instance_name")),
            Ok(Hostname::Var("instance_name".into()))
        );
        assert_eq!(
            h(Value::from("tag:Name,env=prod")),
            Ok(Hostname::Tags(vec![
                ("Name".into(), None),
                ("env".into(), Some("prod".into()))
            ]))
        );
        assert_eq!(
            h(serde_json::json!({"tags": "Name"})),
            Ok(Hostname::Tags(vec![("Name".into(), None)]))
        );
        assert!(h(serde_json::json!({"tag": "Name"})).is_err());
        assert!(h(serde_json::json!(3)).is_err());
    }

    fn ini(text: &str) -> Result<crate::config::Settings> {
        let ini = crate::config::ini::Ini::parse(std::path::Path::new("a.ini"), text)?;
        crate::config::Settings::from_ini(Some(&ini), &crate::config::Env::default())
    }

    #[test]
    fn ini_values_are_yaml_flow_and_may_continue() {
        let s = ini(
            "[ecs]\ncompose = {env: \"ecs_tags.env | default('none')\",\n    cores: cpu}\n\
             keyed_groups = [{key: zone_id, prefix: zone},\n  {key: ecs_tags, prefix: tag}]\n\
             strict = yes\nhostvars = instance_id, region*\n",
        )
        .unwrap();
        let c = s.constructed.expect("compiled");
        assert!(c.strict() && c.reads("ecs_tags") && c.reads("cpu") && c.reads("zone_id"));
        assert_eq!(
            s.hostvars.unwrap().patterns,
            vec!["instance_id".to_string(), "region*".into()]
        );
        assert!(s.constructed_config.contains("\"keyed_groups\""));
        let plain = ini("[ecs]\n").unwrap();
        assert!(plain.constructed.is_none() && plain.hostvars.is_none());
        let listed = ini("[ecs]\nhostvars = ['*_id', ecs_tags]\n").unwrap();
        assert_eq!(listed.hostvars.unwrap().patterns, vec!["*_id", "ecs_tags"]);
        assert!(ini("[ecs]\nhostvars = []\n")
            .unwrap()
            .hostvars
            .unwrap()
            .patterns
            .is_empty());
    }

    #[test]
    fn bad_entries_are_config_errors_naming_line_and_entry() {
        let e = ini("[ecs]\n\ncompose = {a: \"x |\"}\n").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let e = e.to_string();
        assert!(
            e.starts_with("a.ini:3: option 'compose': compose.a: invalid expression"),
            "{e}"
        );
        let e = ini("[ecs]\nkeyed_groups = [{prefix: x}]\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "a.ini:2: option 'keyed_groups': keyed_groups[0]: has no key"
        );
        let e = ini("[ecs]\nkeyed_groups = [zone_id]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("keyed_groups[0]: must be a mapping with a key"),
            "{e}"
        );
        let e =
            ini("[ecs]\nkeyed_groups = [{key: a, default_value: x, trailing_separator: false}]\n")
                .unwrap_err()
                .to_string();
        assert!(e.contains("mutually exclusive"), "{e}");
        let e = ini("[ecs]\ngroups = {a: b\n").unwrap_err().to_string();
        assert!(
            e.starts_with("a.ini:2: option 'groups': not valid YAML"),
            "{e}"
        );
    }

    #[test]
    fn a_tags_mapping_holds_tags_and_nothing_else() {
        let h = |v: Value| Hostname::parse(&v).unwrap_err();
        let any = r#" is not a hostvar name, tag:KEY, {tags: "KEY,KEY=VALUE"}, {name: ..., prefix: ..., separator: ...} or a {{ template }}"#;
        assert_eq!(
            h(serde_json::json!({"tags": "Name", "x": 1})),
            format!(r#"{{"tags":"Name","x":1}}{any}"#)
        );
        assert_eq!(h(serde_json::json!({})), format!("{{}}{any}"));
        assert_eq!(
            h(serde_json::json!({"tags": 1})),
            r#"{"tags":1} is not {tags: "KEY,KEY=VALUE"}"#
        );
        // aws_ec2's mappings: only its keys, a name, and a prefix with a separator.
        assert_eq!(
            h(serde_json::json!({"name": "a", "sep": "-"})),
            "unknown key 'sep' in a hostnames mapping (name, prefix, separator)"
        );
        assert_eq!(
            h(serde_json::json!({"name": "a", "separator": "-"})),
            "a hostnames mapping with a separator needs a prefix"
        );
        assert_eq!(
            h(serde_json::json!({"name": ""})),
            "name in a hostnames mapping is empty"
        );
        let ok = Hostname::parse(&serde_json::json!({"name": "tag:Name", "prefix": "x"})).unwrap();
        assert_eq!(ok.to_string(), "x_tag:Name");
        // Templates: {{ }} only, closed, compiled when read.
        assert!(h(serde_json::json!("{% if x %}a{% endif %}{{ b }}")).contains("only {{ }}"));
        assert!(h(serde_json::json!("a-{{ b")).ends_with("unclosed {{"));
        assert!(h(serde_json::json!("{{ }}")).ends_with("empty {{ }}"));
        assert_eq!(
            template_expression("web-{{ a }}.{{ b|upper }}").unwrap(),
            r#""web-" ~ ((a) | string) ~ "." ~ ((b|upper) | string)"#
        );
    }
}
