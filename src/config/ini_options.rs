//! The ini format's reader: options in `[ecs]`, credential options in `[credentials]` (or in
//! `[ecs]`, where some old files have them), every error naming file and line, and a warning for
//! what the file holds that no option is.

use std::path::Path;

use crate::config::ini::{Entry, Ini};
use crate::config::options::{Options, CREDENTIAL_OPTIONS, ECS_OPTIONS};
use crate::error::Error;

pub struct IniOptions<'a> {
    ini: &'a Ini,
}

impl<'a> IniOptions<'a> {
    pub fn new(ini: &'a Ini) -> IniOptions<'a> {
        IniOptions { ini }
    }

    fn entry(&self, name: &str) -> Option<&'a Entry> {
        let sections: &[&str] = if CREDENTIAL_OPTIONS.contains(&name) {
            &["credentials", "ecs"]
        } else if ECS_OPTIONS.contains(&name) {
            &["ecs"]
        } else {
            // Not an ini option (`hostnames` is the YAML's): ignored, as its warning says.
            &[]
        };
        sections
            .iter()
            .filter_map(|s| self.ini.section(s))
            .find_map(|s| s.entries.iter().find(|e| e.key == name))
    }

    /// Unknown sections and options, each with file and line, and the nearest option name.
    pub fn warnings(&self) -> Vec<String> {
        let ini = self.ini;
        let mut warnings = Vec::new();
        for section in &ini.sections {
            let known: &[&str] = match section.name.as_str() {
                "ecs" => ECS_OPTIONS,
                "credentials" => CREDENTIAL_OPTIONS,
                other => {
                    warnings.push(format!(
                        "{}:{}: unknown section [{other}] ignored (options go in [ecs] and [credentials])",
                        ini.path.display(),
                        section.line
                    ));
                    continue;
                }
            };
            for e in &section.entries {
                // Credential options are also accepted in [ecs], as some old files have them there.
                if known.contains(&e.key.as_str()) || CREDENTIAL_OPTIONS.contains(&e.key.as_str()) {
                    continue;
                }
                // Only the first word is quoted: `alicloud_secret_key abc:def` (an '=' missing)
                // reads as the option "alicloud_secret_key abc", and abc may be a secret.
                let word = e.key.split_whitespace().next().unwrap_or("");
                let shown = if word.len() < e.key.len() {
                    format!("{word} …")
                } else {
                    e.key.clone()
                };
                let all = ECS_OPTIONS.iter().chain(CREDENTIAL_OPTIONS);
                let nearest = all
                    .map(|k| (strsim::levenshtein(k, word), *k))
                    .min()
                    .filter(|(d, _)| *d <= 3.max(word.len() / 3))
                    .map(|(_, k)| format!(" (did you mean '{k}'?)"))
                    .unwrap_or_default();
                warnings.push(format!(
                    "{}:{}: unknown option '{shown}' in [{}] ignored{nearest}",
                    ini.path.display(),
                    e.line,
                    section.name
                ));
            }
        }
        warnings
    }
}

impl Options for IniOptions<'_> {
    fn source(&self) -> Option<&Path> {
        Some(self.ini.path.as_path()).filter(|p| !p.as_os_str().is_empty())
    }

    fn raw(&self, name: &str) -> Option<&str> {
        self.entry(name).map(|e| e.value.as_str())
    }

    fn invalid(&self, name: &str, message: String) -> Error {
        match self.entry(name) {
            Some(e) => Error::ConfigValue {
                file: self.ini.path.clone(),
                line: e.line,
                option: name.to_string(),
                message,
            },
            None => Error::Config(format!("option '{name}': {message}")),
        }
    }
}
