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

/// One entry of `hostnames`, the alicloud_ecs plugin's precedence list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hostname {
    /// A hostvar (`instance_id`, `instance_name`, `private_ip_address`, ...).
    Var(String),
    /// `tag:K1,K2=V` or `{tags: "K1,K2=V"}`: the value of tag K1, else `K2_V` when tag K2 is
    /// V, in that order (the plugin's `_get_tag_hostname`).
    Tags(Vec<(String, Option<String>)>),
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
        }
    }
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
            Value::String(s) => Ok(match s.strip_prefix("tag:") {
                Some(spec) => Hostname::tags(spec),
                None => Hostname::Var(s.clone()),
            }),
            Value::Object(m) if m.len() == 1 => match m.get("tags") {
                Some(Value::String(spec)) => Ok(Hostname::tags(spec)),
                _ => Err(format!("{v} is not {{tags: \"KEY,KEY=VALUE\"}}")),
            },
            other => Err(format!(
                "{other} is not a hostvar name, tag:KEY or {{tags: \"KEY,KEY=VALUE\"}}"
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
        assert_eq!(
            h(serde_json::json!({"tags": "Name", "x": 1})),
            r#"{"tags":"Name","x":1} is not a hostvar name, tag:KEY or {tags: "KEY,KEY=VALUE"}"#
        );
        assert_eq!(
            h(serde_json::json!({})),
            r#"{} is not a hostvar name, tag:KEY or {tags: "KEY,KEY=VALUE"}"#
        );
        assert_eq!(
            h(serde_json::json!({"tag": "Name"})),
            r#"{"tag":"Name"} is not {tags: "KEY,KEY=VALUE"}"#
        );
    }
}
