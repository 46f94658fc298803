//! The `groups` and `keyed_groups` entries: what each is made of, and how a keyed group is
//! read from the configuration.

use super::*;

pub(super) enum Cond {
    Const(bool),
    Expr(Box<Expr>),
}

pub(super) struct GroupEntry {
    pub(super) name: Arc<str>,
    pub(super) cond: Cond,
}

/// A keyed group's `parent_group`: none or a fixed group (made once), or a template with
/// `{{ expression }}` parts, rendered per host.
pub(super) enum Parent {
    Fixed(Option<Arc<str>>),
    Template(Vec<Part>),
}

impl Parent {
    pub(super) fn exprs(&self) -> impl Iterator<Item = &Expr> {
        let parts = match self {
            Parent::Template(parts) => &parts[..],
            Parent::Fixed(_) => &[],
        };
        parts.iter().filter_map(|p| match p {
            Part::Expr(e) => Some(&**e),
            Part::Text(_) => None,
        })
    }
}

/// A part of a `parent_group` template.
pub(super) enum Part {
    Text(String),
    Expr(Box<Expr>),
}

pub(super) struct KeyedEntry {
    pub(super) index: usize,
    pub(super) key: Expr,
    /// Python's `str()` of the option values, as `'%s%s%s'` formats them.
    pub(super) prefix: String,
    pub(super) prefix_is_empty: bool,
    pub(super) separator: String,
    pub(super) default_value: Option<String>,
    pub(super) trailing_separator_false: bool,
    pub(super) parent: Parent,
}

pub(super) fn compile_keyed(
    index: usize,
    e: &serde_json::Value,
) -> Result<KeyedEntry, ConfigError> {
    let entry = format!("keyed_groups[{index}]");
    let m = match e {
        serde_json::Value::Object(m) if !m.is_empty() => m,
        _ => return Err(config_err(entry, "must be a mapping with a key")),
    };
    for k in m.keys() {
        if !matches!(
            k.as_str(),
            "key"
                | "prefix"
                | "separator"
                | "default_value"
                | "trailing_separator"
                | "parent_group"
        ) {
            if let Some(w) = unknown_key_warning(&entry, k) {
                crate::diag::warn(&w);
            }
        }
    }
    let key = match m.get("key") {
        Some(serde_json::Value::String(s)) => Expr::compile(s, &entry)?,
        Some(_) => return Err(config_err(entry, "key must be an expression (a string)")),
        None => return Err(config_err(entry, "has no key")),
    };
    let present = |name: &str| m.get(name).filter(|v| !v.is_null());
    let default_value = present("default_value").map(json_str);
    let trailing = present("trailing_separator");
    if default_value.is_some() && trailing.is_some() {
        return Err(config_err(
            entry,
            "default_value and trailing_separator are mutually exclusive",
        ));
    }
    let parent = match m.get("parent_group") {
        None | Some(serde_json::Value::Null) => Parent::Fixed(None),
        Some(serde_json::Value::String(s)) => parse_template(s, &entry)?,
        Some(_) => return Err(config_err(entry, "parent_group must be a string")),
    };
    // An explicit `prefix: null` is the text "None" to Ansible, like any other value.
    let prefix = m.get("prefix").map(json_str).unwrap_or_default();
    let prefix_is_empty = m.get("prefix").is_none()
        || matches!(m.get("prefix"), Some(serde_json::Value::String(s)) if s.is_empty());
    Ok(KeyedEntry {
        index,
        key,
        prefix,
        prefix_is_empty,
        separator: m
            .get("separator")
            .map(json_str)
            .unwrap_or_else(|| "_".into()),
        default_value,
        trailing_separator_false: matches!(trailing, Some(serde_json::Value::Bool(false))),
        parent,
    })
}

/// Splits `text {{ expr }} text` into parts; `{% %}` blocks are not supported. Text alone is a
/// fixed parent.
pub(super) fn parse_template(s: &str, entry: &str) -> Result<Parent, ConfigError> {
    if s.contains("{%") {
        return Err(config_err(
            entry,
            "parent_group supports {{ }} expressions only, not {% %} blocks",
        ));
    }
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(Part::Text(rest[..start].to_owned()));
        }
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| config_err(entry, format!("unclosed {{{{ in parent_group {s:?}")))?;
        parts.push(Part::Expr(Box::new(Expr::compile(
            after[..end].trim(),
            entry,
        )?)));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_owned()));
    }
    if parts.iter().all(|p| matches!(p, Part::Text(_))) {
        return Ok(Parent::Fixed(
            (!s.is_empty()).then(|| safe_group_name(s).into()),
        ));
    }
    Ok(Parent::Template(parts))
}

/// Ansible reads only its own keys from a keyed_groups entry and ignores any other: so do we,
/// saying so once per key and process (a configuration may be compiled more than once). The
/// warning, or None when this key was already warned about.
pub(super) fn unknown_key_warning(entry: &str, key: &str) -> Option<String> {
    static WARNED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if warned.iter().any(|k| k == key) {
        return None;
    }
    warned.push(key.to_owned());
    let hint = if key == "leading_separator" {
        "it is a top-level option, not one of an entry"
    } else {
        "known: key, prefix, separator, default_value, trailing_separator, parent_group"
    };
    Some(format!(
        "constructed {entry}: option {key:?} is ignored, as Ansible ignores it ({hint})"
    ))
}
