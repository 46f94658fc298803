//! The constructed step of the inventory build (docs/DESIGN.md, "Constructed"): for one host,
//! after its name and default groups, compose → groups → keyed_groups over its hostvars. The
//! decoder gives the step the few hostvars the expressions read, as values, before it writes
//! the hostvars; it then writes the composed variables in their place, over any hostvar of the
//! same name.

use std::ops::Range;
use std::sync::Arc;

use super::{Constructed, GroupNames, HostError, Membership};

/// What the step gives one host.
#[derive(Debug, Default)]
pub struct Shaped {
    /// The composed variables: name and where its compact JSON is in `json`, sorted by name,
    /// one per name (the last composed value of a name wins).
    pub composed: Vec<(Arc<str>, Range<usize>)>,
    pub json: String,
    /// Constructed group memberships, in the order Ansible adds them.
    pub groups: Vec<Membership>,
}

/// The step for the hosts of one page.
pub struct Step<'a> {
    c: Option<&'a Constructed>,
    names: GroupNames,
}

impl<'a> Step<'a> {
    /// The step of configuration `c`; none: the step adds nothing.
    pub fn new(c: Option<&'a Constructed>) -> Step<'a> {
        let names = match c {
            Some(c) => GroupNames::reuse(c.id()),
            None => GroupNames::default(),
        };
        Step { c, names }
    }

    /// Runs the step for host `name`. `reads` are its values of the variables the expressions
    /// read (`Constructed::slot_names`); `group_names` gives the groups the host is in so far
    /// (Ansible's `group_names`), asked for only when an expression reads it.
    pub fn shape(
        &mut self,
        name: &str,
        reads: Vec<minijinja::Value>,
        group_names: impl FnOnce() -> Vec<String>,
    ) -> Result<Shaped, HostError> {
        let Some(c) = self.c else {
            return Ok(Shaped::default());
        };
        let names = if c.reads("group_names") {
            group_names()
        } else {
            Vec::new()
        };
        let result = c.apply_slots(name, reads, &names, &mut self.names)?;
        let mut composed = result.vars;
        // Reversed, then a stable sort: of one name, the last composed value comes first, and
        // is the one kept.
        composed.reverse();
        composed.sort_by(|a, b| a.0.cmp(&b.0));
        composed.dedup_by(|later, first| later.0 == first.0);
        Ok(Shaped {
            composed,
            json: result.json,
            groups: result.groups,
        })
    }
}

impl Drop for Step<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.c {
            std::mem::take(&mut self.names).keep(c.id());
        }
    }
}
