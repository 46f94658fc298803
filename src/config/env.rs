//! A snapshot of the process environment, taken once: settings and credentials read it, and tests
//! hand in their own.

use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct Env(pub HashMap<String, String>);

impl Env {
    pub fn from_process() -> Env {
        Env(std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect())
    }

    /// The first of `names` that is set to a non-empty value.
    pub fn first(&self, names: &[&str]) -> Option<String> {
        names
            .iter()
            .find_map(|n| self.0.get(*n).filter(|v| !v.is_empty()).cloned())
    }

    pub fn home(&self) -> Option<PathBuf> {
        self.first(&["HOME"]).map(PathBuf::from)
    }

    /// An environment of just these variables, for tests.
    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Env {
        Env(pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }
}
