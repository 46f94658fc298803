//! The constructed step of the inventory build (docs/DESIGN.md, "Constructed"): for one host,
//! after its name and default groups, compose → groups → keyed_groups over its hostvars; the
//! composed variables join the printed hostvars, over any hostvar of the same name.
//!
//! The decoder has already written the hostvars the `hostvars` selection keeps (sorted JSON)
//! and taken out, as values, the few the expressions read (`PendingVars`): the step only
//! splices the composed variables into that JSON.

use std::borrow::Cow;

use serde_json::Value;

use super::{HostError, Membership};
use crate::instance::PendingVars;
use crate::settings::Settings;
use crate::tree::write_str;

/// What the step gives the inventory for one host.
#[derive(Debug)]
pub struct Shaped {
    /// The printed hostvars: compact JSON, keys sorted.
    pub hostvars: Box<str>,
    /// Constructed group memberships, in the order Ansible adds them.
    pub groups: Vec<Membership>,
}

/// The step for every host of one build.
pub struct Step<'a> {
    s: &'a Settings,
}

/// The key of the member of `json` starting at `start` (its opening quote), and where the key
/// ends.
fn key_at(json: &str, start: usize) -> (Cow<'_, str>, usize) {
    let b = json.as_bytes();
    let mut i = start + 1;
    let mut escaped = false;
    while b[i] != b'"' {
        if b[i] == b'\\' {
            escaped = true;
            i += 1;
        }
        i += 1;
    }
    let key = if escaped {
        Cow::Owned(serde_json::from_str(&json[start..=i]).expect("written by serde_json"))
    } else {
        Cow::Borrowed(&json[start + 1..i])
    };
    (key, i + 1)
}

impl<'a> Step<'a> {
    pub fn new(s: &'a Settings) -> Step<'a> {
        Step { s }
    }

    /// Runs the step for host `name` with hostvars `vars`. `group_names` gives the groups the
    /// host is in so far (Ansible's `group_names`); it is asked for only when an expression
    /// reads it.
    pub fn shape(
        &mut self,
        name: &str,
        vars: PendingVars,
        group_names: impl FnOnce() -> Vec<String>,
    ) -> Result<Shaped, HostError> {
        let mut groups = Vec::new();
        let mut composed: Vec<(String, Value)> = Vec::new();
        if let Some(c) = &self.s.constructed {
            let names = if c.reads("group_names") {
                group_names()
            } else {
                Vec::new()
            };
            let result = c.apply(name, &vars.reads, &names)?;
            groups = result.groups;
            composed = result.vars;
        }
        // Of one name, the last composed value wins.
        composed.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept: Vec<&(String, Value)> = Vec::with_capacity(composed.len());
        for (i, c) in composed.iter().enumerate() {
            if composed.get(i + 1).is_none_or(|next| next.0 != c.0) {
                kept.push(c);
            }
        }

        let json = vars.json.as_str();
        let mut out = Vec::with_capacity(json.len() + 64 * kept.len());
        out.push(b'{');
        let mut next = kept.into_iter().peekable();
        let put = |out: &mut Vec<u8>, (k, v): &(String, Value)| {
            if out.len() > 1 {
                out.push(b',');
            }
            write_str(out, k);
            out.push(b':');
            serde_json::to_writer(&mut *out, v).expect("a JSON value serializes");
        };
        for (n, &start) in vars.starts.iter().enumerate() {
            let start = start as usize;
            let end = vars
                .starts
                .get(n + 1)
                .map_or(json.len() - 1, |&s| s as usize - 1);
            let (key, _) = key_at(json, start);
            while let Some(c) = next.next_if(|c| c.0.as_str() < key.as_ref()) {
                put(&mut out, c);
            }
            if let Some(c) = next.next_if(|c| c.0.as_str() == key.as_ref()) {
                put(&mut out, c);
                continue;
            }
            if out.len() > 1 {
                out.push(b',');
            }
            out.extend_from_slice(&json.as_bytes()[start..end]);
        }
        for c in next {
            put(&mut out, c);
        }
        out.push(b'}');
        Ok(Shaped {
            hostvars: String::from_utf8(out)
                .expect("written from UTF-8")
                .into_boxed_str(),
            groups,
        })
    }
}
