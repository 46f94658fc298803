//! Constructed groups and variables, as Ansible's `constructed` inventory plugin makes them.
//!
//! A configuration ([`Constructed::from_value`]) holds `compose` (variable: expression),
//! `groups` (group: conditional), `keyed_groups` (list of `{key, prefix, separator,
//! default_value, trailing_separator, parent_group}`), `strict` and `leading_separator`.
//! Expressions are compiled once; [`Constructed::apply_slots`] then runs per host, in Ansible's
//! order: every compose entry (each sees the host's original variables only), then every
//! `groups` entry, then every keyed group (both see the composed variables).
//!
//! Like Ansible, only groups that get a host exist: a `groups` entry that matches no host,
//! or a keyed group's `parent_group` whose keyed groups got no host, creates nothing. After
//! the last host, `all`'s children are the groups with no other parent: a group that became
//! a `parent_group`'s child is no longer listed under `all`.
//!
//! Where we differ from Ansible on purpose: an entry that can never work (a Jinja syntax
//! error, a non-string expression, a keyed group without `key`, `default_value` with
//! `trailing_separator`) is a configuration error here, where Ansible skips it per host or
//! fails only once a host reaches it. Known gaps of the engine (minijinja): `%` string
//! formatting and lookups (`lookup`, `query`) are not there (the entry fails), and regular
//! expressions follow Rust's `regex` syntax (no look-around or back-references).

mod engine;
mod expr;
mod fast;
mod keyed;
mod pystr;
pub mod step;
#[cfg(test)]
mod tests;

use crate::group_names::Naming;
#[cfg(test)]
use engine::to_json;
use engine::{chainable_env, from_json, py_type, refused_name, strict_env, write_json};
use expr::*;
use keyed::*;
use minijinja::value::{Enumerator, Object, Value, ValueKind};
use minijinja::{ErrorKind, Expression};
use pystr::{py_str, py_text, safe_group_name};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[cfg(test)]
pub(crate) use engine::from_json as jinja_of_json;
pub use engine::jinja_of_node;
pub use engine::number as jinja_number;
pub use pystr::safe_group_name as to_safe_group_name;

/// A configuration that can never work: names the entry and says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// `compose.NAME`, `groups.NAME`, `keyed_groups[N]`, or the option's name.
    pub entry: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "constructed {}: {}", self.entry, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// An entry failed for a host: with `strict`, or one of the failures Ansible never skips
/// (a keyed group key of another type than string, list or mapping; an empty group name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError {
    pub host: String,
    pub entry: String,
    pub message: String,
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "constructed {} failed for host {}: {}",
            self.entry, self.host, self.message
        )
    }
}

impl std::error::Error for HostError {}

/// The host joins `group`; when `parent` is set, `group` is also a child of `parent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// Shared: most hosts join groups other hosts joined (see [`GroupNames`]).
    pub group: Arc<str>,
    pub parent: Option<Arc<str>>,
}

/// The keyed groups' names made so far, per entry, by the text that follows the entry's prefix
/// and separator: hosts share most of them (a zone, a type, a status), so each is sanitized
/// once and then shared.
#[derive(Default)]
pub struct GroupNames {
    by_entry: Vec<HashMap<Box<str>, Arc<str>, rustc_hash::FxBuildHasher>>,
    key: String,
}

/// Names kept past the pages that made them at most; more are dropped with their page.
const MAX_KEPT_NAMES: usize = 1 << 14;

/// Tells configurations apart, so that kept names serve only the one that made them.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The names the last page this thread shaped made, and for which configuration: the next
    /// page has mostly the same zones, types and tags.
    static SPARE_NAMES: RefCell<Option<(u64, GroupNames)>> = const { RefCell::new(None) };
}

impl GroupNames {
    /// The names the last page shaped on this thread made for configuration `owner`, or none.
    pub fn reuse(owner: u64) -> GroupNames {
        SPARE_NAMES.with(|s| match s.borrow_mut().take() {
            Some((o, names)) if o == owner => names,
            _ => GroupNames::default(),
        })
    }

    /// Keeps the names for the next page of configuration `owner` on this thread.
    pub fn keep(self, owner: u64) {
        if self.by_entry.iter().map(HashMap::len).sum::<usize>() <= MAX_KEPT_NAMES {
            SPARE_NAMES.with(|s| *s.borrow_mut() = Some((owner, self)));
        }
    }
}

/// What the configuration adds to one host, as [`Constructed::apply`] gives it.
#[cfg(test)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostResult {
    /// Composed variables in configuration order; they replace host variables of the
    /// same name.
    pub vars: Vec<(String, serde_json::Value)>,
    /// Memberships in the order Ansible adds them (may repeat a group).
    pub groups: Vec<Membership>,
}

/// What [`Constructed::apply_slots`] adds to one host.
#[derive(Debug, Default)]
pub struct Composed {
    /// Composed variables in configuration order, each with where its compact JSON is in
    /// `json`.
    pub vars: Vec<(Arc<str>, std::ops::Range<usize>)>,
    pub json: String,
    /// Memberships in the order Ansible adds them (may repeat a group).
    pub groups: Vec<Membership>,
}

/// A compiled constructed configuration. Cheap to share between threads.
pub struct Constructed {
    /// This configuration's own number (`GroupNames::reuse`).
    id: u64,
    /// Each name is shared with every host's result.
    compose: Vec<(Arc<str>, Expr)>,
    groups: Vec<GroupEntry>,
    keyed: Vec<KeyedEntry>,
    strict: bool,
    leading_separator: bool,
    /// How group names are sanitized (`use_contrib_script_compatible_sanitization`).
    naming: Naming,
    /// Every top-level variable the expressions read, and its slot in a host's context.
    index: Arc<HashMap<String, usize>>,
    /// The same, as a list for lookups during evaluation.
    names: Arc<[(Box<str>, usize)]>,
    /// The slot of each compose entry's variable, when an expression reads it.
    compose_at: Vec<Option<usize>>,
    /// The slots of `inventory_hostname`, `inventory_hostname_short` and `group_names`.
    magic_at: [Option<usize>; 3],
    /// The compose expressions as one batch, and each entry's item in it.
    compose_batch: Batch,
    compose_slots: Vec<Option<usize>>,
    /// The groups conditionals and the keyed groups' keys (which see the same variables) as
    /// one batch: first the groups' items, then the keys'.
    late_batch: Batch,
    group_slots: Vec<Option<usize>>,
    keyed_slots: Vec<Option<usize>>,
    /// Both batches as one, when no expression of the second reads a composed variable (so
    /// it sees the same values before compose as after); its first items are compose's.
    joint: Option<(Batch, usize)>,
}

impl fmt::Debug for Constructed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Constructed")
            .field("compose", &self.compose.len())
            .field("groups", &self.groups.len())
            .field("keyed_groups", &self.keyed.len())
            .field("strict", &self.strict)
            .field("leading_separator", &self.leading_separator)
            .finish()
    }
}

fn config_err(entry: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        entry: entry.into(),
        message: message.into(),
    }
}

fn opt_bool(
    map: &serde_json::Map<String, serde_json::Value>,
    key: &str,
    default: bool,
) -> Result<bool, ConfigError> {
    match map.get(key) {
        None | Some(serde_json::Value::Null) => Ok(default),
        Some(serde_json::Value::Bool(b)) => Ok(*b),
        Some(other) => Err(config_err(
            key,
            format!("must be true or false, not {other}"),
        )),
    }
}

/// Python's `str()` of a JSON scalar from the configuration.
fn json_str(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => py_str(&from_json(other)),
    }
}

/// Ansible's `validate_variable_name`: a Python identifier, ASCII, not a Jinja keyword.
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(
            name,
            "true" | "false" | "none" | "True" | "False" | "None" | "not"
        )
}

impl Constructed {
    /// Compiles a plugin-style mapping: `{compose: {...}, groups: {...}, keyed_groups: [...],
    /// strict: bool, leading_separator: bool}` (`plugin` is accepted and ignored).
    pub fn from_value(config: &serde_json::Value) -> Result<Constructed, ConfigError> {
        let map = config
            .as_object()
            .ok_or_else(|| config_err("configuration", "must be a mapping"))?;
        for key in map.keys() {
            if !matches!(
                key.as_str(),
                "plugin"
                    | "compose"
                    | "groups"
                    | "keyed_groups"
                    | "strict"
                    | "leading_separator"
                    | "contrib_sanitization"
            ) {
                return Err(config_err(
                    key.as_str(),
                    "unknown option (known: compose, groups, keyed_groups, strict, leading_separator)",
                ));
            }
        }
        let strict = opt_bool(map, "strict", false)?;
        let leading_separator = opt_bool(map, "leading_separator", true)?;
        let naming = if opt_bool(map, "contrib_sanitization", false)? {
            Naming::Contrib
        } else {
            Naming::Ansible
        };

        let mut compose: Vec<(Arc<str>, Expr)> = Vec::new();
        match map.get("compose") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Object(entries)) => {
                for (name, expr) in entries {
                    let entry = format!("compose.{name}");
                    if !is_variable_name(name) {
                        return Err(config_err(
                            entry,
                            "is not a variable name Ansible accepts: ASCII letters, digits and _, not starting with a digit, not true/false/none/not (2.19 warns on every run, 2.23 refuses it); rename it",
                        ));
                    }
                    let serde_json::Value::String(source) = expr else {
                        return Err(config_err(entry, "must be an expression (a string)"));
                    };
                    compose.push((name.as_str().into(), Expr::compile(source, &entry)?));
                }
            }
            Some(_) => return Err(config_err("compose", "must be a mapping")),
        }

        let mut groups = Vec::new();
        match map.get("groups") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Object(entries)) => {
                for (name, cond) in entries {
                    let entry = format!("groups.{name}");
                    let cond = match cond {
                        serde_json::Value::Bool(b) => Cond::Const(*b),
                        serde_json::Value::String(s) => {
                            let s = s.trim();
                            if s.is_empty() {
                                return Err(config_err(
                                    entry,
                                    "empty conditional expressions are not allowed",
                                ));
                            }
                            // A conditional wholly inside {{ }} is the expression within.
                            let s = match s.strip_prefix("{{").and_then(|r| r.strip_suffix("}}")) {
                                Some(inner) if !inner.contains("{{") => inner.trim(),
                                _ => s,
                            };
                            Cond::Expr(Box::new(Expr::compile(s, &entry)?))
                        }
                        _ => {
                            return Err(config_err(
                                entry,
                                "must be a conditional expression (a string) or a boolean",
                            ))
                        }
                    };
                    let name = naming.name(name);
                    if name.is_empty() || name == "_meta" {
                        return Err(config_err(
                            entry,
                            "a group cannot be named '' or '_meta' (_meta holds the hostvars in the inventory's JSON); name it otherwise",
                        ));
                    }
                    groups.push(GroupEntry {
                        name: name.into(),
                        cond,
                    });
                }
            }
            Some(_) => return Err(config_err("groups", "must be a mapping")),
        }

        let mut keyed = Vec::new();
        match map.get("keyed_groups") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Array(entries)) => {
                for (index, e) in entries.iter().enumerate() {
                    keyed.push(compile_keyed(index, e)?);
                }
            }
            Some(_) => return Err(config_err("keyed_groups", "must be a list")),
        }

        let mut index = HashMap::new();
        let mut add = |name: String| {
            let n = index.len();
            index.entry(name).or_insert(n);
        };
        for (_, e) in &compose {
            e.variables().for_each(&mut add);
        }
        for g in &groups {
            if let Cond::Expr(e) = &g.cond {
                e.variables().for_each(&mut add);
            }
        }
        for k in &keyed {
            k.key.variables().for_each(&mut add);
            for e in k.parent.exprs() {
                e.variables().for_each(&mut add);
            }
        }
        let set_fast = |e: &mut Expr| {
            e.fast = fast::Fast::compile(&e.source, &index, e.chain.is_some());
        };
        compose.iter_mut().for_each(|(_, e)| set_fast(e));
        for g in &mut groups {
            if let Cond::Expr(e) = &mut g.cond {
                set_fast(e);
            }
        }
        for k in &mut keyed {
            set_fast(&mut k.key);
            if let Parent::Template(parts) = &mut k.parent {
                for p in parts {
                    if let Part::Expr(e) = p {
                        set_fast(e);
                    }
                }
            }
        }
        let mut compose_slots = Vec::new();
        let compose_batch = Batch::new(compose.iter().map(|(_, e)| e), &mut compose_slots);
        // Constant conditionals take no item: a placeholder constant keeps the slots aligned.
        let placeholder = Expr {
            source: String::new(),
            strict: strict_env()
                .compile_expression_owned("none".to_owned())
                .expect("a constant"),
            chain: None,
            fast: Some(fast::Fast::constant(Value::from(()))),
        };
        let late: Vec<&Expr> = groups
            .iter()
            .map(|g| match &g.cond {
                Cond::Expr(e) => &**e,
                Cond::Const(_) => &placeholder,
            })
            .chain(keyed.iter().map(|k| &k.key))
            .collect();
        let mut late_slots = Vec::new();
        let late_batch = Batch::new(late.iter().copied(), &mut late_slots);
        let reads_composed = late.iter().any(|e| {
            e.batched()
                && e.variables()
                    .any(|v| compose.iter().any(|(name, _)| **name == v))
        });
        let joint = (compose_batch.expr.is_some() && late_batch.expr.is_some() && !reads_composed)
            .then(|| {
                let mut ignored = Vec::new();
                let exprs = compose.iter().map(|(_, e)| e).chain(late.iter().copied());
                (Batch::new(exprs, &mut ignored), compose_batch.len)
            })
            .filter(|(b, _)| b.expr.is_some());
        let keyed_slots = late_slots.split_off(groups.len());
        let compose_at = compose
            .iter()
            .map(|(n, _)| index.get(&**n).copied())
            .collect();
        Ok(Constructed {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            compose,
            groups,
            keyed,
            strict,
            leading_separator,
            naming,
            names: index
                .iter()
                .map(|(name, &i)| (name.as_str().into(), i))
                .collect(),
            compose_at,
            magic_at: [
                "inventory_hostname",
                "inventory_hostname_short",
                "group_names",
            ]
            .map(|n| index.get(n).copied()),
            index: Arc::new(index),
            compose_batch,
            compose_slots,
            late_batch,
            group_slots: late_slots,
            keyed_slots,
            joint,
        })
    }

    pub fn strict(&self) -> bool {
        self.strict
    }

    /// Tells this configuration from every other one of the process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The entries, one line each (for `--check`): the composed variables, the conditional
    /// groups, and how many keyed groups.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.compose.is_empty() {
            let names: Vec<&str> = self.compose.iter().map(|(n, _)| &**n).collect();
            lines.push(format!("compose {}", names.join(", ")));
        }
        if !self.groups.is_empty() {
            let names: Vec<&str> = self.groups.iter().map(|g| &*g.name).collect();
            lines.push(format!("groups {}", names.join(", ")));
        }
        if !self.keyed.is_empty() {
            lines.push(format!("{} keyed_groups", self.keyed.len()));
        }
        lines.push(format!(
            "strict {}, leading_separator {}",
            self.strict, self.leading_separator
        ));
        lines
    }

    /// Whether an expression reads the top-level variable `name`.
    pub fn reads(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// The top-level variables the expressions read (the only hostvars the entries look at),
    /// each at its slot: what [`Constructed::apply_slots`] takes.
    pub fn slot_names(&self) -> Vec<String> {
        let mut names = vec![String::new(); self.index.len()];
        for (name, &i) in self.index.iter() {
            names[i] = name.clone();
        }
        names
    }

    /// Runs the configuration for one host. `hostvars` are the host's variables;
    /// `group_names` the groups it is already in (Ansible's `group_names` variable, sorted,
    /// without `all`). Entries that fail are skipped unless `strict`. The reference the tests
    /// hold [`Constructed::apply_slots`] to: the build uses that.
    #[cfg(test)]
    pub fn apply(
        &self,
        host: &str,
        hostvars: &serde_json::Map<String, serde_json::Value>,
        group_names: &[String],
    ) -> Result<HostResult, HostError> {
        let mut slots = vec![Value::UNDEFINED; self.index.len()];
        for (name, &i) in self.index.iter() {
            if let Some(v) = hostvars.get(name) {
                slots[i] = from_json(v);
            }
        }
        let encode =
            |i: usize, v: &Value| to_json(v).map(|json| (self.compose[i].0.to_string(), json));
        let ran = self.run(host, slots, group_names, encode, &mut GroupNames::default())?;
        Ok(HostResult {
            vars: ran.vars,
            groups: ran.groups,
        })
    }

    /// Runs the configuration for host `host`, whose variables are already converted
    /// (`slots[i]` is the value of [`Constructed::slot_names`]`[i]`, undefined where the host
    /// has none); `group_names` are the groups it is already in (Ansible's `group_names`,
    /// without `all`). Entries that fail are skipped unless `strict`. The composed variables
    /// come as compact JSON text, one after the other in `Composed::json`. `names` keeps the
    /// keyed groups' names for the next hosts.
    pub fn apply_slots(
        &self,
        host: &str,
        slots: Vec<Value>,
        group_names: &[String],
        names: &mut GroupNames,
    ) -> Result<Composed, HostError> {
        // Most composed values are short: one allocation for them all.
        let mut json = Vec::with_capacity(16 * self.compose.len());
        let encode = |i: usize, v: &Value| {
            let start = json.len();
            match write_json(v, &mut json) {
                Ok(()) => Ok((self.compose[i].0.clone(), start..json.len())),
                Err(e) => {
                    json.truncate(start);
                    Err(e)
                }
            }
        };
        let ran = self.run(host, slots, group_names, encode, names)?;
        Ok(Composed {
            vars: ran.vars,
            json: String::from_utf8(json).expect("written from UTF-8"),
            groups: ran.groups,
        })
    }

    /// Runs the entries; `encode` turns a composed value (and its entry's index) into what the
    /// result holds.
    fn run<T>(
        &self,
        host: &str,
        mut slots: Vec<Value>,
        group_names: &[String],
        mut encode: impl FnMut(usize, &Value) -> Result<T, minijinja::Error>,
        names: &mut GroupNames,
    ) -> Result<Ran<T>, HostError> {
        debug_assert_eq!(slots.len(), self.index.len());
        let magic = self.magic(host, group_names);
        for (i, v) in &magic {
            slots[*i] = v.clone();
        }
        let fail = |entry: String, message: String| HostError {
            host: host.to_owned(),
            entry,
            message,
        };
        let mut result = Ran {
            vars: Vec::with_capacity(self.compose.len()),
            // Most keyed groups give a group or two per host.
            groups: Vec::with_capacity(self.groups.len() + 2 * self.keyed.len()),
        };

        let mut late_items = None;
        // The composed values the later entries read: set once compose is done, as each
        // compose entry sees the host's original variables only.
        let mut values = Vec::new();
        let mut vars = self.host_vars(slots);
        if !self.compose.is_empty() {
            let ctx = Value::from_dyn_object(vars.clone());
            // One evaluation for every entry when it can be; when it fails, one per batch.
            let joint = self
                .joint
                .as_ref()
                .map(|(batch, split)| (batch.eval(&ctx), *split))
                .filter(|(items, _)| !items.is_empty());
            let items = match joint {
                Some((mut items, split)) => {
                    late_items = Some(items.split_off(split));
                    items
                }
                None => self.compose_batch.eval(&ctx),
            };
            for (k, ((name, expr), &slot)) in
                self.compose.iter().zip(&self.compose_slots).enumerate()
            {
                let composed = from_batch(&items, slot, expr, &ctx)
                    .and_then(|v| encode(k, &v).map(|json| (v, json)));
                match composed {
                    Ok((value, json)) => {
                        if let Some(&Some(i)) = self.compose_at.get(k) {
                            values.push((i, value));
                        }
                        result.vars.push(json);
                    }
                    Err(e) if self.strict => {
                        return Err(fail(
                            format!("compose.{name}"),
                            format!("could not set {name}: {}", describe(&e)),
                        ))
                    }
                    Err(_) => {}
                }
            }
            // The context is the only other holder, unless an evaluation kept it.
            drop(ctx);
            let slots = &mut Arc::make_mut(&mut vars).slots;
            for (i, v) in values.drain(..) {
                slots[i] = v;
            }
            // Ansible's magic variables win over composed ones of the same name.
            for (i, v) in magic {
                slots[i] = v;
            }
        }
        let ctx = Value::from_dyn_object(vars);
        let items = match late_items {
            Some(items) => items,
            None => self.late_batch.eval(&ctx),
        };

        for (g, &slot) in self.groups.iter().zip(&self.group_slots) {
            let matched = match &g.cond {
                Cond::Const(b) => Ok(*b),
                Cond::Expr(e) => from_batch(&items, slot, e, &ctx).and_then(|v| match v.kind() {
                    ValueKind::Bool => Ok(v.is_true()),
                    ValueKind::Undefined => Err(undefined_error()),
                    _ => Err(minijinja::Error::new(
                        ErrorKind::InvalidOperation,
                        format!(
                            "conditional result ({}) was derived from value of type '{}'; conditionals must have a boolean result",
                            if v.is_true() { "True" } else { "False" },
                            py_type(&v)
                        ),
                    )),
                }),
            };
            match matched {
                Ok(true) => result.groups.push(Membership {
                    group: g.name.clone(),
                    parent: None,
                }),
                Ok(false) => {}
                Err(e) if self.strict => {
                    return Err(fail(
                        format!("groups.{}", g.name),
                        format!(
                            "could not add host {host} to group {}: {}",
                            g.name,
                            describe(&e)
                        ),
                    ))
                }
                Err(_) => {}
            }
        }

        for (k, &slot) in self.keyed.iter().zip(&self.keyed_slots) {
            // Ansible finalises the key: an undefined value anywhere in it is an error.
            let key = match slot.and_then(|i| items.get(i)) {
                Some(v) if !v.is_undefined() => check_defined(v).map(|_| v.clone()),
                _ => k.key.eval_defined(&ctx),
            };
            self.apply_keyed(k, host, &ctx, key, &mut result.groups, names)?;
        }
        Ok(result)
    }

    fn magic(&self, host: &str, group_names: &[String]) -> Vec<(usize, Value)> {
        let mut out = Vec::new();
        let [hostname, short, names] = self.magic_at;
        if let Some(i) = hostname {
            out.push((i, Value::from(host)));
        }
        if let Some(i) = short {
            let short = if host.parse::<std::net::IpAddr>().is_ok() {
                host
            } else {
                host.split('.').next().unwrap_or(host)
            };
            out.push((i, Value::from(short)));
        }
        if let Some(i) = names {
            let mut names: Vec<&str> = group_names
                .iter()
                .map(String::as_str)
                .filter(|g| *g != "all")
                .collect();
            names.sort_unstable();
            out.push((i, names.into_iter().map(Value::from).collect()));
        }
        out
    }

    /// The host's variables; as a context for the expressions, `Value::from_dyn_object`.
    fn host_vars(&self, slots: Vec<Value>) -> Arc<HostVars> {
        Arc::new(HostVars {
            names: self.names.clone(),
            slots,
        })
    }

    fn apply_keyed(
        &self,
        k: &KeyedEntry,
        host: &str,
        ctx: &Value,
        key: Result<Value, minijinja::Error>,
        groups: &mut Vec<Membership>,
        names: &mut GroupNames,
    ) -> Result<(), HostError> {
        let fail = |message: String| HostError {
            host: host.to_owned(),
            entry: format!("keyed_groups[{}]", k.index),
            message,
        };
        let key = match key {
            Ok(v) => v,
            Err(e) if self.strict => {
                return Err(fail(format!(
                    "could not generate group from {} entry: {}",
                    k.key.source,
                    describe(&e)
                )))
            }
            Err(_) => return Ok(()),
        };
        let is_default_value = |v: &Value| v.is_none() || v.as_str() == Some("");
        let use_default = is_default_value(&key) && k.default_value.is_some();
        if !(key.is_true() || use_default) {
            // An empty list or mapping is a valid key that makes no group.
            let empty_container = (engine::is_seq(&key) || key.kind() == ValueKind::Map)
                && key.try_iter().is_ok_and(|mut items| items.next().is_none());
            if self.strict && !empty_container {
                return Err(fail(format!(
                    "no key or key resulted empty for {}, invalid entry",
                    k.key.source
                )));
            }
            return Ok(());
        }

        let parent = match &k.parent {
            Parent::Fixed(p) => Ok(p.clone()),
            Parent::Template(parts) => self.render_parent(parts, ctx),
        };
        let parent = match parent {
            Ok(p) => p,
            Err(e) if self.strict => {
                return Err(fail(format!(
                    "could not generate parent group for group {}: {}",
                    py_str(&key),
                    describe(&e)
                )))
            }
            Err(_) => return Ok(()),
        };

        let sep = if k.prefix_is_empty && !self.leading_separator {
            ""
        } else {
            k.separator.as_str()
        };
        if names.by_entry.len() <= k.index {
            names.by_entry.resize_with(k.index + 1, HashMap::default);
        }
        let (made, bare_text) = (&mut names.by_entry[k.index], &mut names.key);
        // Each group name from its parts, without joining them first; or as made before.
        let mut add = |bare: &[&str]| {
            bare_text.clear();
            bare.iter().for_each(|b| bare_text.push_str(b));
            let group = match made.get(bare_text.as_str()) {
                Some(group) => group.clone(),
                None => {
                    let mut parts = [""; 5];
                    parts[..2].copy_from_slice(&[k.prefix.as_str(), sep]);
                    parts[2..2 + bare.len()].copy_from_slice(bare);
                    let mut group = String::new();
                    self.naming.name_into(&parts[..2 + bare.len()], &mut group);
                    let group: Arc<str> = group.into();
                    made.insert(bare_text.as_str().into(), group.clone());
                    group
                }
            };
            if group.is_empty() {
                return Err(fail("invalid empty group name".into()));
            }
            // `_meta` holds the hostvars in the script protocol: such a group would replace them.
            if &*group == "_meta" {
                return Err(fail(
                    "makes the group '_meta', the name of the hostvars in the inventory's JSON (change the prefix or the separator)".into(),
                ));
            }
            // A group as its own parent: Ansible refuses it ("can't add group to itself").
            if parent.as_deref() == Some(&*group) {
                return Err(fail(format!(
                    "group '{group}' would be its own parent_group (choose a parent_group no key makes)"
                )));
            }
            groups.push(Membership {
                group,
                parent: parent.clone(),
            });
            Ok(())
        };
        if use_default {
            add(&[k.default_value.as_deref().unwrap_or_default()])?;
            return Ok(());
        }
        match key.kind() {
            ValueKind::String => add(&[&py_text(&key)])?,
            // A list, or one of minijinja's lazy ones (`a + b`, `range`, `reverse`).
            ValueKind::Seq | ValueKind::Iterable => {
                for item in key.try_iter().map_err(|e| fail(describe(&e)))? {
                    match &k.default_value {
                        Some(d) if is_default_value(&item) => add(&[d])?,
                        _ => add(&[&py_text(&item)])?,
                    }
                }
            }
            ValueKind::Map => {
                for gname in key.try_iter().map_err(|e| fail(describe(&e)))? {
                    let gval = key.get_item(&gname).unwrap_or_default();
                    let gname = py_text(&gname);
                    if is_default_value(&gval) {
                        match &k.default_value {
                            Some(d) => add(&[&gname, &k.separator, d])?,
                            None if k.trailing_separator_false => add(&[&gname])?,
                            None => add(&[&gname, &k.separator, &py_text(&gval)])?,
                        }
                    } else {
                        add(&[&gname, &k.separator, &py_text(&gval)])?;
                    }
                }
            }
            _ => {
                return Err(fail(format!(
                    "invalid group name format, expected a string or a list of them or dictionary, got: <class '{}'>",
                    py_type(&key)
                )))
            }
        }
        Ok(())
    }

    fn render_parent(
        &self,
        parts: &[Part],
        ctx: &Value,
    ) -> Result<Option<Arc<str>>, minijinja::Error> {
        let text = match parts {
            [Part::Expr(e)] => {
                let v = e.eval(ctx)?;
                check_defined(&v)?;
                if !v.is_true() {
                    return Ok(None);
                }
                py_str(&v)
            }
            parts => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        Part::Text(t) => s.push_str(t),
                        Part::Expr(e) => {
                            let v = e.eval(ctx)?;
                            check_defined(&v)?;
                            s.push_str(&py_str(&v));
                        }
                    }
                }
                s
            }
        };
        Ok((!text.is_empty()).then(|| safe_group_name(&text).into()))
    }
}

/// `source` as a compose entry, evaluated for each of `hosts` by `fast` and by minijinja (as
/// [`Expr::eval_jinja`]); `None` when it does not compile or `fast` does not take its shape.
/// Only for the differential test and its fuzz target (src/constructed/tests/fast_checks.rs).
#[cfg(any(test, feature = "fuzzing"))]
pub fn fast_against_jinja(
    source: &str,
    hosts: &[serde_json::Map<String, serde_json::Value>],
) -> Option<Vec<FastAndJinja>> {
    let c = Constructed::from_value(&serde_json::json!({ "compose": { "v": source } })).ok()?;
    let (_, e) = c.compose.first()?;
    let fast = e.fast.as_ref()?;
    let names = c.slot_names();
    let one = |host: &serde_json::Map<String, serde_json::Value>| {
        let slots: Vec<Value> = names
            .iter()
            .map(|n| host.get(n).map_or(Value::UNDEFINED, from_json))
            .collect();
        let ctx = Value::from_dyn_object(c.host_vars(slots.clone()));
        (fast.eval(&slots), e.eval_jinja(&ctx))
    };
    Some(hosts.iter().map(one).collect())
}

/// What `fast` gives (`None`: no answer) and what minijinja gives.
#[cfg(any(test, feature = "fuzzing"))]
pub type FastAndJinja = (Option<Value>, Result<Value, minijinja::Error>);
