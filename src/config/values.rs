//! The value parsers of the configuration, shared by every file format: the ini reader uses them
//! today, and another format only needs a reader of its own. They take text and return a value
//! or a message (the reader adds file, line and option), and each is a fuzz target
//! (`tests/fuzz`, seeds in `fixtures/fuzz/<target>/`, replayed by the tests below).

use std::path::PathBuf;

use serde_saphyr::Spanned;

use crate::config::env::Env;
use crate::config::pyyaml::{self, Node};
use crate::config::Regions;

/// `assume_role = {role_arn: ..., session_name: ..., session_expiration: ..., policy: ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: String,
    pub session_expiration: u32,
    pub policy: Option<String>,
}

/// The states `instance_states` may name.
pub const STATES: &[&str] = &["pending", "running", "starting", "stopping", "stopped"];

/// `instance_states`: each a known state, any case; returned lower-case.
pub fn parse_states(states: &[String]) -> Result<Vec<String>, String> {
    states
        .iter()
        .map(|s| {
            let lower = s.to_lowercase();
            if STATES.contains(&lower.as_str()) {
                Ok(lower)
            } else {
                Err(format!(
                    "unknown instance state '{s}' (use {})",
                    STATES.join(", ")
                ))
            }
        })
        .collect()
}

/// `pattern_include` / `pattern_exclude`: the operator's regular expression, matched at the
/// start of a name only, as Python's `re.match` does. The pattern is compiled on its own and the
/// search is anchored: nothing is spliced around it, so a `)` in the pattern cannot close a group
/// of ours (`zzz)|(web` is refused, as Python refuses it) and a verbose-mode comment cannot
/// swallow one.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    re: regex_automata::meta::Regex,
}

impl Pattern {
    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches at the start of `name`.
    pub fn is_match(&self, name: &str) -> bool {
        let input = regex_automata::Input::new(name).anchored(regex_automata::Anchored::Yes);
        self.re.is_match(input)
    }
}

pub fn parse_pattern(v: &str) -> Result<Pattern, String> {
    match regex_automata::meta::Regex::new(v) {
        Ok(re) => Ok(Pattern {
            source: v.to_string(),
            re,
        }),
        Err(e) => {
            // A syntax error renders as the pattern, a caret line and the reason: keep the reason.
            let detail = match e.syntax_error() {
                Some(syntax) => syntax
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .trim_start_matches("error: ")
                    .to_string(),
                None => match e.size_limit() {
                    Some(limit) => format!("it compiles to more than {limit} bytes"),
                    None => e.to_string(),
                },
            };
            Err(format!("bad regular expression '{v}': {detail}"))
        }
    }
}

/// `regions`: empty or `all` for every region DescribeRegions lists, else a comma list of region
/// ids, which must name at least one. An id is letters, digits, `-` and `_`, so that it cannot
/// change the host of an endpoint it is put into.
pub fn parse_regions(v: &str) -> Result<Regions, String> {
    let v = unquote(v).trim();
    if v.is_empty() || v == "all" {
        return Ok(Regions::All);
    }
    let regions = split_list(v);
    if regions.is_empty() {
        return Err(format!(
            "no region in the list '{v}' (name regions, e.g. cn-hangzhou, cn-beijing, or all)"
        ));
    }
    if regions.iter().any(|r| r == "all") {
        return Err("'all' in a list of regions (use regions = all on its own)".into());
    }
    if let Some(bad) = regions.iter().find(|r| {
        !r.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        return Err(format!(
            "'{bad}' is not a region id (region ids are like cn-hangzhou: letters, digits and '-')"
        ));
    }
    Ok(Regions::List(regions))
}

/// `eip_address` and `inner_ip_address` are the Python script's names for the two addresses.
pub fn destination_alias(name: &str) -> &str {
    match name {
        "eip_address" => "public_ip_address",
        "inner_ip_address" => "private_ip_address",
        other => other,
    }
}

/// An endpoint as a base URL: `https://` unless a scheme is given, no trailing `/`.
pub fn with_scheme(endpoint: &str) -> String {
    let e = endpoint.trim().trim_end_matches('/');
    if e.starts_with("http://") || e.starts_with("https://") {
        e.to_string()
    } else {
        format!("https://{e}")
    }
}

/// An endpoint as [`with_scheme`] makes it, checked as a URL (with `{region}` standing for a
/// region id): another scheme, a port past 65535 or a space in the host is refused here, not
/// retried and blamed on the network.
pub fn endpoint(raw: &str) -> Result<String, String> {
    let e = raw.trim();
    if let Some((scheme, rest)) = e.split_once("://") {
        if scheme != "http" && scheme != "https" {
            return Err(format!(
                "'{e}' is not an http:// or https:// URL (write a host name, or https://HOST[:PORT][/PATH])"
            ));
        }
        if rest.trim_matches('/').is_empty() {
            return Err(format!(
                "'{e}' has no host (write https://HOST[:PORT][/PATH])"
            ));
        }
    }
    let url = with_scheme(e);
    match reqwest::Url::parse(&url.replace("{region}", "cn-hangzhou")) {
        Ok(u) if u.host_str().is_some_and(|h| !h.is_empty()) => Ok(url),
        Ok(_) => Err(format!(
            "'{e}' has no host (write https://HOST[:PORT][/PATH])"
        )),
        Err(why) => Err(format!(
            "'{e}' is not a valid URL: {why} (write https://HOST[:PORT][/PATH])"
        )),
    }
}

/// A comma list (newlines of continued values count as commas), items unquoted, empty ones
/// dropped.
pub fn split_list(v: &str) -> Vec<String> {
    v.split([',', '\n'])
        .map(|s| unquote(s.trim()).to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// YAML quoting, as `yaml.safe_load` would strip it.
pub fn unquote(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// YAML 1.1 booleans as the Python script read them, plus 1/0.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" | "y" => Some(true),
        "false" | "no" | "off" | "0" | "n" => Some(false),
        _ => None,
    }
}

/// A YAML scalar as the text an ini would hold; `None` for a list or a mapping.
pub fn scalar_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => Some(String::new()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// How YAML is read, in files and in ini values: the structure by serde-saphyr, one line per
/// error; its plain scalars then as Ansible's PyYAML reads them ([`pyyaml`]).
pub fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        with_snippet: false,
        legacy_octal_numbers: true,
    }
}

/// A YAML value (`{a: b}`, `[x, y]`, a scalar) as JSON; the error says where in `text`.
pub fn parse_yaml(text: &str) -> Result<serde_json::Value, String> {
    serde_saphyr::from_str_with_options::<Spanned<Node>>(text, yaml_options())
        .map(|node| pyyaml::to_value(&node, text))
        .map_err(|e| format!("not valid YAML: {}", yaml_error(&e.to_string())))
}

/// The YAML reader's message on one line, its hints for programmers (the names of its API)
/// replaced by the operator's fix.
pub fn yaml_error(message: &str) -> String {
    let m = one_line(message);
    // Each phrase, and the fix an operator can act on.
    const HINTS: &[(&str, &str)] = &[
        (
            ", set DuplicateKeyPolicy in Options if acceptable",
            " (a key set twice: keep one)",
        ),
        (
            "multiple YAML documents detected; use from_str_multiple or from_str_multiple_with_options",
            "more than one YAML document (remove the '---' line: the file holds one mapping of options)",
        ),
    ];
    let mut m = HINTS
        .iter()
        .fold(m, |m, (phrase, fix)| m.replace(phrase, fix));
    if let Some(at) = m.find("budget breached:") {
        // "budget breached: Nodes { nodes: 250001 } at line …": the reader's own limit.
        let rest = m[at..]
            .find(" at line ")
            .map_or("", |i| &m[at + i..])
            .to_string();
        m = format!(
            "{}more YAML than a configuration holds (a list or mapping of hundreds of thousands of items){rest}",
            &m[..at]
        );
    }
    m
}

/// A message on one line: newlines and runs of spaces become single spaces.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `assume_role` written as a YAML flow mapping in an ini value (`{role_arn: acs:ram::1:role/x,
/// policy: "..."}`): read by the same YAML reader as every other structured value.
pub fn parse_assume_role(raw: &str) -> Result<AssumeRole, String> {
    match parse_yaml(raw)? {
        serde_json::Value::Object(m) => assume_role_of(&m),
        _ => Err(
            "expected a mapping like {role_arn: acs:ram::123:role/name, session_name: ansible}"
                .into(),
        ),
    }
}

/// `alicloud_assume_role: {role_arn: ..., session_name: ..., session_expiration: ..., policy: ...}`.
pub fn assume_role_of(
    m: &serde_json::Map<String, serde_json::Value>,
) -> std::result::Result<AssumeRole, String> {
    let mut role = AssumeRole {
        session_expiration: 3600,
        ..Default::default()
    };
    for (k, v) in m {
        let text = match v {
            // A policy may be written as a mapping: it is sent as JSON.
            serde_json::Value::Object(_) if k == "policy" => v.to_string(),
            v => scalar_text(v).ok_or_else(|| format!("{k} must be a single value"))?,
        };
        // The doc fragment names the block's keys `alicloud_assume_role_arn`, ...; the
        // plugin's code reads `role_arn`, ...: both are taken.
        let key = match k.as_str() {
            "alicloud_assume_role_arn" | "assume_role_arn" => "role_arn",
            "alicloud_assume_role_session_name" | "assume_role_session_name" => "session_name",
            "alicloud_assume_role_session_expiration" | "assume_role_session_expiration" => {
                "session_expiration"
            }
            "alicloud_assume_role_policy" | "assume_role_policy" => "policy",
            other => other,
        };
        match key {
            "role_arn" => role.role_arn = text,
            "session_name" => role.session_name = text,
            "session_expiration" => {
                role.session_expiration = text
                    .parse()
                    .ok()
                    .filter(|n| (900..=43200).contains(n))
                    .ok_or_else(|| {
                        "session_expiration must be a number of seconds from 900 to 43200"
                            .to_string()
                    })?
            }
            "policy" => role.policy = Some(text).filter(|p| !p.is_empty()),
            other => {
                return Err(format!(
                    "unknown key '{other}' (role_arn, session_name, session_expiration, policy)"
                ))
            }
        }
    }
    if role.role_arn.is_empty() {
        return Err("role_arn is missing".into());
    }
    Ok(role)
}

/// `~` and `$VAR` / `${VAR}` expansion, as Python's expanduser(expandvars()) did.
pub fn expand_path(p: &str, env: &Env) -> PathBuf {
    let mut out = String::new();
    let mut rest = p;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (name, tail) = if let Some(b) = after.strip_prefix('{') {
            match b.find('}') {
                Some(end) => (&b[..end], &b[end + 1..]),
                None => ("", after),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match env.0.get(name).filter(|_| !name.is_empty()) {
            Some(v) => out.push_str(v),
            None => out.push_str(&rest[pos..rest.len() - tail.len()]),
        }
        rest = tail;
    }
    out.push_str(rest);
    match (out.strip_prefix('~'), env.home()) {
        (Some(tail), Some(home)) if tail.is_empty() || tail.starts_with('/') => {
            home.join(tail.trim_start_matches('/'))
        }
        _ => PathBuf::from(out),
    }
}

#[cfg(test)]
mod checks;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assume_role_flow_mapping() {
        let r = parse_assume_role(
            "{role_arn: acs:ram::123:role/x, session_name: s, session_expiration: 900, policy: \"{\\\"Version\\\": \\\"1\\\", \\\"a\\\": [1,2]}\"}",
        )
        .unwrap();
        assert_eq!(r.role_arn, "acs:ram::123:role/x");
        assert_eq!(r.session_name, "s");
        assert_eq!(r.session_expiration, 900);
        assert!(r.policy.unwrap().contains("[1,2]"));
        assert!(parse_assume_role("{session_name: s}").is_err());
        assert!(parse_assume_role("role_arn").is_err());
    }

    #[test]
    fn paths_expand_home_and_known_variables_only() {
        let env = Env([("HOME", "/home/op"), ("X", "y")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect());
        assert_eq!(
            expand_path("~/c/$X/${X}z/$NOPE", &env),
            PathBuf::from("/home/op/c/y/yz/$NOPE")
        );
        assert_eq!(expand_path("~bob/x", &env), PathBuf::from("~bob/x"));
        assert_eq!(expand_path("a/${X", &env), PathBuf::from("a/${X"));
    }

    #[test]
    fn scalars_lists_states_and_patterns() {
        assert_eq!(parse_bool(" Yes "), Some(true));
        assert_eq!(parse_bool("OFF"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(
            split_list("a, 'b c' ,\n\"d\",,"),
            vec!["a".to_string(), "b c".into(), "d".into()]
        );
        assert_eq!(
            parse_states(&["Running".into(), "stopped".into()]).unwrap(),
            vec!["running", "stopped"]
        );
        let e = parse_states(&["sleeping".into()]).unwrap_err();
        assert!(
            e.starts_with("unknown instance state 'sleeping' (use pending,"),
            "{e}"
        );
        assert!(parse_pattern("web").unwrap().is_match("web-1"));
        assert!(!parse_pattern("web").unwrap().is_match("a-web"));
        let e = parse_pattern("web[").unwrap_err();
        assert!(e.starts_with("bad regular expression 'web[': "), "{e}");
        assert_eq!(with_scheme("ecs.example.com/"), "https://ecs.example.com");
        assert_eq!(
            endpoint("ecs.example.com/").unwrap(),
            "https://ecs.example.com"
        );
        assert_eq!(
            endpoint("http://127.0.0.1:9/{region}/").unwrap(),
            "http://127.0.0.1:9/{region}"
        );
        for (bad, why) in [
            ("ftp://h", "not an http:// or https:// URL"),
            ("http://127.0.0.1:99999", "invalid port number"),
            ("http://bad host:1", "not a valid URL"),
            ("https://", "has no host"),
        ] {
            let e = endpoint(bad).unwrap_err();
            assert!(e.contains(why) && e.contains("https://HOST"), "{bad}: {e}");
        }
        assert_eq!(with_scheme(" http://127.0.0.1:9/ "), "http://127.0.0.1:9");
    }

    /// Every kept input of fuzz target `target`, at least one, through its check; at least one
    /// input must be accepted, or the corpus tests only the error paths.
    fn replay(target: &str, check: impl Fn(&[u8]) -> bool + std::panic::RefUnwindSafe) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/fuzz")
            .join(target);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        assert!(!paths.is_empty(), "no kept inputs in {}", dir.display());
        let (mut accepted, mut failed) = (0, Vec::new());
        for path in &paths {
            let bytes = std::fs::read(path).expect("readable input");
            match std::panic::catch_unwind(|| check(&bytes)) {
                Ok(true) => accepted += 1,
                Ok(false) => {}
                Err(_) => failed.push(path.display().to_string()),
            }
        }
        assert!(failed.is_empty(), "{target}: failing inputs {failed:#?}");
        assert!(accepted > 0, "{target}: no kept input gets past the parser");
    }

    #[test]
    fn fuzz_inputs_assume_role() {
        replay("assume_role", checks::assume_role);
    }

    #[test]
    fn fuzz_inputs_expand_path() {
        replay("expand_path", checks::expand_path);
    }

    #[test]
    fn fuzz_inputs_scalars() {
        replay("scalars", checks::scalars);
    }

    #[test]
    fn fuzz_inputs_pattern() {
        replay("pattern", checks::pattern);
    }

    #[test]
    fn fuzz_inputs_regions() {
        replay("regions", checks::regions);
    }

    #[test]
    fn patterns_are_compiled_alone_and_anchored() {
        let p = parse_pattern("web|db").unwrap();
        assert!(p.is_match("web-1") && p.is_match("db-1") && !p.is_match("a-web"));
        assert_eq!(p.as_str(), "web|db");
        // Spliced into ^(?:...), this would be ^(?:zzz)|(web): valid, and unanchored.
        let e = parse_pattern("zzz)|(web").unwrap_err();
        assert_eq!(e, "bad regular expression 'zzz)|(web': unopened group");
        // A verbose-mode comment would swallow a spliced ')'.
        let p = parse_pattern("(?x) web  # the web servers").unwrap();
        assert!(p.is_match("web-1") && !p.is_match("x-web"));
        assert!(parse_pattern("(?i)WEB").unwrap().is_match("web"));
        let e = parse_pattern("a{1000}{1000}").unwrap_err();
        assert!(e.contains("compiles to more than"), "{e}");
    }

    #[test]
    fn regions_name_at_least_one_plain_region() {
        assert_eq!(parse_regions(""), Ok(Regions::All));
        assert_eq!(parse_regions(" all "), Ok(Regions::All));
        assert_eq!(parse_regions("'all'"), Ok(Regions::All));
        assert_eq!(
            parse_regions("cn-hangzhou,\n'cn-beijing' ,"),
            Ok(Regions::List(vec![
                "cn-hangzhou".into(),
                "cn-beijing".into()
            ]))
        );
        for bad in [",,,", " , ", "\n,"] {
            let e = parse_regions(bad).unwrap_err();
            assert!(e.starts_with("no region in the list"), "{bad:?}: {e}");
        }
        let e = parse_regions("cn-hangzhou, ecs.example.com/x").unwrap_err();
        assert!(
            e.starts_with("'ecs.example.com/x' is not a region id"),
            "{e}"
        );
        assert!(parse_regions("all, cn-hangzhou").is_err());
    }

    /// The YAML reader's hints name its API ("set DuplicateKeyPolicy in Options", "use
    /// from_str_multiple", "budget breached: Nodes { .. }"); the operator gets a fix instead.
    #[test]
    fn yaml_errors_name_the_fix_not_the_library() {
        for (text, want) in [
            (
                "{a: 1, a: 2}",
                "duplicate mapping key: a (a key set twice: keep one)",
            ),
            (
                "a: 1\n---\nb: 2\n",
                "more than one YAML document (remove the '---' line",
            ),
        ] {
            let e = parse_yaml(text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
            assert!(!e.contains("Options") && !e.contains("from_str"), "{e}");
        }
        let big = format!("[{}]", vec!["a"; 260_000].join(", "));
        let e = parse_yaml(&big).unwrap_err();
        assert!(e.contains("more YAML than a configuration holds"), "{e}");
        assert!(!e.contains("budget") && !e.contains("Nodes {"), "{e}");
    }

    /// One grammar for structured values, in ini and YAML alike (docs/DESIGN.md,
    /// "Configuration"): a policy written as a mapping is sent as compact JSON, its commas
    /// kept; plain scalars are YAML 1.1's, so `no` in an `accounts` entry is a boolean (the
    /// alias "false"), as Ansible's PyYAML reads it, where the ini's own flow reader kept "no".
    #[test]
    fn structured_ini_values_are_read_as_yaml() {
        let r = parse_assume_role(
            r#"{role_arn: acs:ram::1:role/x, policy: {"Version": "1", "Statement": [{"Action": ["a", "b"]}]}, session_name: s}"#,
        )
        .unwrap();
        assert_eq!(
            r.policy.as_deref(),
            Some(r#"{"Statement":[{"Action":["a","b"]}],"Version":"1"}"#)
        );
        assert_eq!(r.session_name, "s");
        let accounts = crate::config::parse_accounts(
            &parse_yaml("[{alias: no, role_arn: 'acs:ram::2:role/r'}]").unwrap(),
        )
        .unwrap();
        assert_eq!(accounts[0].alias, "false");
        assert!(parse_yaml("[{alias: a, alicloud_secret_key: x: y}]").is_err());
    }

    #[test]
    fn yaml_scalars_are_the_text_an_ini_would_hold() {
        use serde_json::json;
        assert_eq!(scalar_text(&json!(null)), Some(String::new()));
        assert_eq!(scalar_text(&json!(true)), Some("true".into()));
        assert_eq!(scalar_text(&json!(3)), Some("3".into()));
        assert_eq!(scalar_text(&json!(" a ")), Some(" a ".into()));
        assert_eq!(scalar_text(&json!([1])), None);
        assert_eq!(scalar_text(&json!({"a": 1})), None);
    }

    #[test]
    fn yaml_is_read_as_ansible_reads_it_and_errors_take_one_line() {
        use serde_json::json;
        // YAML 1.1, as PyYAML: a leading 0 is octal.
        assert_eq!(
            parse_yaml("{mode: 0755, cache: yes}").unwrap(),
            json!({"mode": 493, "cache": true})
        );
        let e = parse_yaml("{a: [b,\n  c").unwrap_err();
        assert!(e.starts_with("not valid YAML: "), "{e}");
        assert!(!e.contains('\n') && !e.contains("  "), "{e}");
        assert_eq!(one_line(" a\n  b\tc "), "a b c");
    }
}
