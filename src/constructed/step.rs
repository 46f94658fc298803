//! The constructed step of the inventory build (docs/DESIGN.md, "Constructed"): for one host,
//! after its name and default groups, compose → groups → keyed_groups over all of its hostvars;
//! the composed variables join its hostvars, the `hostvars` selection trims what is printed,
//! and the hostvars are serialized once, as `Instance` does when neither is configured.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{HostError, Membership};
use crate::settings::Settings;

/// What the step gives the inventory for one host.
#[derive(Debug)]
pub struct Shaped {
    /// The printed hostvars: compact JSON, keys sorted.
    pub hostvars: Box<str>,
    /// Constructed group memberships, in the order Ansible adds them.
    pub groups: Vec<Membership>,
}

/// The step for every host of one build; it remembers which hostvar names the `hostvars`
/// selection keeps, since the same few dozen names come back on every host.
pub struct Step<'a> {
    s: &'a Settings,
    keeps: HashMap<Box<str>, bool>,
}

impl<'a> Step<'a> {
    pub fn new(s: &'a Settings) -> Step<'a> {
        Step {
            s,
            keeps: HashMap::new(),
        }
    }

    /// Runs the step for host `name` with hostvars `vars`. `group_names` gives the groups the
    /// host is in so far (Ansible's `group_names`); it is asked for only when an expression
    /// reads it.
    pub fn shape(
        &mut self,
        name: &str,
        mut vars: Map<String, Value>,
        group_names: impl FnOnce() -> Vec<String>,
    ) -> Result<Shaped, HostError> {
        let mut groups = Vec::new();
        let mut composed = Vec::new();
        if let Some(c) = &self.s.constructed {
            let names = if c.reads("group_names") {
                group_names()
            } else {
                Vec::new()
            };
            let result = c.apply(name, &vars, &names)?;
            groups = result.groups;
            for (k, v) in result.vars {
                vars.insert(k.clone(), v);
                composed.push(k);
            }
        }
        if let Some(sel) = &self.s.hostvars {
            let keeps = &mut self.keeps;
            vars.retain(|k, _| {
                if composed.contains(k) {
                    return true;
                }
                if let Some(&keep) = keeps.get(k.as_str()) {
                    return keep;
                }
                let keep = sel.keeps(k);
                keeps.insert(k.as_str().into(), keep);
                keep
            });
        }
        let mut out = Vec::with_capacity(3072);
        serde_json::to_writer(&mut out, &vars).expect("a JSON map serializes");
        Ok(Shaped {
            hostvars: String::from_utf8(out)
                .expect("serde_json writes UTF-8")
                .into_boxed_str(),
            groups,
        })
    }
}
