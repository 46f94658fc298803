//! Names from text (a leaf): the one sanitizer behind both rules in use (docs/DESIGN.md, "Groups
//! and names"). alicloud.py's rule, for the default groups and host names, and Ansible's
//! `to_safe_group_name` (`TRANSFORM_INVALID_GROUP_CHARS=always`), for constructed groups, keep
//! `_`, ASCII letters and digits and Unicode letters, and turn every other character into `_`.
//! They differ in three points, which a [`Rule`] sets: Ansible keeps every Unicode number
//! (`\w`), ours only decimal digits and, when asked, `-`; and a leading digit is replaced by `_`
//! in Ansible's, where ours puts a `_` in front.

use std::sync::OnceLock;

use regex::Regex;

/// How text becomes a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// `-` is kept (`replace_dash_in_groups = False`).
    pub keep_dash: bool,
    /// Every non-ASCII character becomes `_` (`ascii_group_names = True`).
    pub ascii_only: bool,
    /// Ansible's: every Unicode number is kept, and a leading digit is replaced by `_`. Else
    /// only decimal digits are kept, and a leading one gets a `_` in front.
    pub ansible: bool,
}

/// Ansible's `to_safe_group_name`, as constructed groups are named.
pub const ANSIBLE: Rule = Rule {
    keep_dash: false,
    ascii_only: false,
    ansible: true,
};

/// How constructed group names (and the plugin's host names holding `:`) are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Naming {
    /// Ansible's `to_safe_group_name` with `TRANSFORM_INVALID_GROUP_CHARS=always`.
    #[default]
    Ansible,
    /// `use_contrib_script_compatible_sanitization`: every character outside
    /// `[A-Za-z0-9_-]` becomes `_`, and nothing else changes (the plugins' regex).
    Contrib,
}

/// The contrib rule as a [`Rule`], used without its leading-digit step.
const CONTRIB: Rule = Rule {
    keep_dash: true,
    ascii_only: true,
    ansible: false,
};

impl Naming {
    /// The name of the concatenated `parts`, appended to `out`.
    pub fn name_into(self, parts: &[&str], out: &mut String) {
        match self {
            Naming::Ansible => ANSIBLE.name_into(parts, out),
            Naming::Contrib => parts.iter().for_each(|p| CONTRIB.sanitize_into(p, out)),
        }
    }

    /// [`Naming::name_into`] of one text.
    pub fn name(self, s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 1);
        self.name_into(&[s], &mut out);
        out
    }
}

fn letter_or_decimal() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[\p{L}\p{Nd}]$").expect("static regex"))
}

/// Python's `str.isalnum()`, which is what `re`'s `\w` matches besides `_`.
fn letter_or_number() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[\p{L}\p{N}]$").expect("static regex"))
}

/// A decimal digit, ASCII or not (`\p{Nd}`), as Python's `\d` matches it.
pub fn is_decimal(c: char) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    c.is_ascii_digit()
        || (!c.is_ascii()
            && RE
                .get_or_init(|| Regex::new(r"^\p{Nd}$").expect("static regex"))
                .is_match(c.encode_utf8(&mut [0; 4])))
}

/// The ASCII bytes a name keeps: `_`, letters and digits, and (`KEEP_DASH`) `-`.
const fn keep_table(dash: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = c == b'_' || c.is_ascii_alphanumeric() || (dash && c == b'-');
        b += 1;
    }
    t
}
static KEEP: [bool; 256] = keep_table(false);
static KEEP_DASH: [bool; 256] = keep_table(true);

impl Rule {
    /// The ASCII bytes kept, as a table: this runs for every byte of every group name of every
    /// host.
    #[inline]
    fn table(&self) -> &'static [bool; 256] {
        if self.keep_dash {
            &KEEP_DASH
        } else {
            &KEEP
        }
    }

    fn keeps(&self, c: char) -> bool {
        if c.is_ascii() {
            return self.table()[c as usize];
        }
        if self.ascii_only {
            return false;
        }
        let class = if self.ansible {
            letter_or_number()
        } else {
            letter_or_decimal()
        };
        class.is_match(c.encode_utf8(&mut [0; 4]))
    }

    /// `s` with every character the rule does not keep turned into `_`, appended to `out`
    /// (no rule for a leading digit: host names).
    pub fn sanitize_into(&self, s: &str, out: &mut String) {
        if s.is_ascii() {
            // Most names: copied in runs between the bytes replaced.
            let table = self.table();
            let mut from = 0;
            for (i, &b) in s.as_bytes().iter().enumerate() {
                if !table[b as usize] {
                    out.push_str(&s[from..i]);
                    out.push('_');
                    from = i + 1;
                }
            }
            out.push_str(&s[from..]);
            return;
        }
        out.extend(s.chars().map(|c| if self.keeps(c) { c } else { '_' }));
    }

    /// The name of the concatenated `parts`, sanitized, with the rule for a leading digit,
    /// appended to `out`.
    pub fn name_into(&self, parts: &[&str], out: &mut String) {
        let start = out.len();
        for part in parts {
            self.sanitize_into(part, out);
        }
        if out[start..].chars().next().is_some_and(is_decimal) {
            if self.ansible {
                let len = out[start..].chars().next().map_or(0, char::len_utf8);
                out.replace_range(start..start + len, "_");
            } else {
                out.insert(start, '_');
            }
        }
    }

    /// [`Rule::name_into`] of one text.
    pub fn name(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 1);
        self.name_into(&[s], &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: Rule = Rule {
        keep_dash: false,
        ascii_only: false,
        ansible: false,
    };

    #[test]
    fn the_two_rules_differ_only_where_they_say() {
        for (text, ours, ansible) in [
            ("cn-hangzhou", "cn_hangzhou", "cn_hangzhou"),
            ("tag_env=prod", "tag_env_prod", "tag_env_prod"),
            ("Zürich 東京", "Zürich_東京", "Zürich_東京"),
            // A leading digit: a `_` in front, or in its place.
            ("9zone", "_9zone", "_zone"),
            ("٣x", "_٣x", "_x"),
            // Numbers that are not decimal digits: kept by Ansible only.
            ("x²", "x_", "x²"),
            ("é½²", "é__", "é½²"),
            ("", "", ""),
        ] {
            assert_eq!(OURS.name(text), ours, "{text:?}");
            assert_eq!(ANSIBLE.name(text), ansible, "{text:?}");
        }
        let dash = Rule {
            keep_dash: true,
            ..OURS
        };
        assert_eq!(dash.name("cn-hangzhou"), "cn-hangzhou");
        let ascii = Rule {
            ascii_only: true,
            ..OURS
        };
        assert_eq!(ascii.name("tag_env_生产-x"), "tag_env____x");
        // A leading non-ASCII digit turned into `_` by ascii_only needs no `_` in front.
        assert_eq!(ascii.name("٣x"), "_x");
    }

    #[test]
    fn parts_are_named_as_their_concatenation() {
        for rule in [OURS, ANSIBLE] {
            let mut out = String::from("keep:");
            rule.name_into(&["9", "a-b", "é"], &mut out);
            assert_eq!(out, format!("keep:{}", rule.name("9a-bé")));
        }
    }

    /// The plugins' `re.sub(r"[^A-Za-z0-9\_\-]", "_", name)`, against Ansible's rule.
    #[test]
    fn contrib_naming_is_the_plugins_regex() {
        for (text, contrib, ansible) in [
            ("web-01.prod", "web-01_prod", "web_01_prod"),
            ("9zone", "9zone", "_zone"),
            ("Zürich:東京", "Z_rich___", "Zürich_東京"),
            ("a b/c", "a_b_c", "a_b_c"),
        ] {
            assert_eq!(Naming::Contrib.name(text), contrib, "{text:?}");
            assert_eq!(Naming::Ansible.name(text), ansible, "{text:?}");
        }
        let mut out = String::new();
        Naming::Contrib.name_into(&["env", "-", "a.b"], &mut out);
        assert_eq!(out, "env-a_b");
    }

    #[test]
    fn host_names_get_no_rule_for_a_leading_digit() {
        let mut out = String::new();
        OURS.sanitize_into("10.0.0.1", &mut out);
        assert_eq!(out, "10_0_0_1");
    }
}
