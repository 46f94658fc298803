//! Replays every kept fuzz input (`fixtures/fuzz/<target>/`: the seed corpus and every crash or
//! timeout the fuzzers in `tests/fuzz` found, minimized) through the same checks the fuzz targets
//! run, so a fixed crash stays fixed in CI without a fuzzer.
//!
//! The checks live here, in `checks`, and the fuzz targets include this file
//! (`#[path = "../../integration/fuzz_regressions.rs"]`), so both run exactly the same code. A
//! check fails by panicking (a library panic or a broken invariant), which is a crash for the
//! fuzzer and a failed test here.

pub mod checks {
    use std::collections::{BTreeSet, HashSet};
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;

    use alicloud_inventory::config::ini::Ini;
    use alicloud_inventory::config::instance_filters::parse_instance_filters;
    use alicloud_inventory::config::{Env, Settings};
    use alicloud_inventory::error::Error;
    use alicloud_inventory::fetch::{
        hand_over, page_count, parse_page, MAX_TOTAL_COUNT, PAGE_SIZE,
    };
    use alicloud_inventory::hostvars::HostvarOptions;
    use alicloud_inventory::inventory::{build, Namer};
    use alicloud_inventory::output::write_list;
    use regex::Regex;
    use serde_json::Value;

    /// What docs/DESIGN.md, "Groups and names" allows in a sanitized name: `_`, ASCII letters and
    /// digits, and Unicode letters (L*) and decimal digits (Nd). `\p{L}` and `\p{Nd}` hold exactly
    /// A-Z a-z 0-9 of ASCII.
    fn valid_name() -> &'static Regex {
        static RE: OnceLock<Regex> = OnceLock::new();
        RE.get_or_init(|| Regex::new(r"^[_\p{L}\p{Nd}]*$").expect("static regex"))
    }

    fn decimal() -> &'static Regex {
        static RE: OnceLock<Regex> = OnceLock::new();
        RE.get_or_init(|| Regex::new(r"^\p{Nd}").expect("static regex"))
    }

    /// What a check made of one input; the replay compares it with the outcome recorded for
    /// that input, so an input that stops reaching the code it was kept for fails the test.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Verdict {
        /// Refused by the parser (an error, not a panic).
        Refused,
        /// Got through: settings read, filters accepted, or a page that made hosts.
        Accepted,
        /// An ini that parsed, with a value the settings refuse.
        BadValue,
        /// A page that decoded but made no host.
        NoHosts,
        /// A page whose TotalCount the fetch loop refuses as a broken answer.
        Capped,
    }

    /// Target `ini`: `Ini::parse`, then `Settings::from_ini`; errors are fine, panics are not, and
    /// every line number an error or entry carries is a line of the input. Accepted when the
    /// input parsed as an ini (so the settings were read).
    pub fn ini(data: &[u8]) -> Verdict {
        let Ok(text) = std::str::from_utf8(data) else {
            return Verdict::Refused;
        };
        let lines = text.lines().count();
        let ini = match Ini::parse(Path::new("f.ini"), text) {
            Ok(ini) => ini,
            Err(e) => {
                let msg = e.to_string();
                let line: usize = msg
                    .strip_prefix("f.ini:")
                    .and_then(|r| r.split_once(':'))
                    .and_then(|(n, _)| n.parse().ok())
                    .unwrap_or_else(|| panic!("parse error without f.ini:LINE: {msg:?}"));
                assert!(
                    (1..=lines).contains(&line),
                    "parse error on line {line} of a {lines}-line input: {msg:?}"
                );
                return Verdict::Refused;
            }
        };
        for s in &ini.sections {
            assert!(
                (1..=lines).contains(&s.line),
                "section [{}] on line {}",
                s.name,
                s.line
            );
            for e in &s.entries {
                assert!(
                    (1..=lines).contains(&e.line),
                    "option {} on line {}",
                    e.key,
                    e.line
                );
                assert!(!e.key.is_empty(), "an empty option name on line {}", e.line);
            }
        }
        match Settings::from_ini(Some(&ini), &Env::default()) {
            Ok(_) => Verdict::Accepted,
            Err(Error::ConfigValue {
                file, line, option, ..
            }) => {
                assert_eq!(file, PathBuf::from("f.ini"));
                assert!(
                    (1..=lines).contains(&line),
                    "option '{option}': error on line {line} of a {lines}-line input"
                );
                Verdict::BadValue
            }
            Err(_) => Verdict::BadValue,
        }
    }

    const LIST_KEYS: &[&str] = &[
        "InstanceIds",
        "PrivateIpAddresses",
        "PublicIpAddresses",
        "EipAddresses",
    ];

    /// Target `instance_filters`: list-valued parameters are JSON arrays of strings, at most 20
    /// tag filters numbered from 1, no parameter twice.
    pub fn instance_filters(data: &[u8]) -> Verdict {
        let Ok(text) = std::str::from_utf8(data) else {
            return Verdict::Refused;
        };
        let Ok(params) = parse_instance_filters(text) else {
            return Verdict::Refused;
        };
        let mut names = HashSet::new();
        let mut tag_keys = 0;
        for (k, v) in &params {
            assert!(
                names.insert(k.as_str()),
                "parameter {k} twice in {params:?}"
            );
            if LIST_KEYS.contains(&k.as_str()) {
                let items: Vec<String> = serde_json::from_str(v)
                    .unwrap_or_else(|e| panic!("{k}={v:?} is not a JSON array of strings: {e}"));
                for i in &items {
                    assert!(!i.is_empty() && !i.contains(';'), "{k} item {i:?}");
                }
            }
            if let Some(rest) = k.strip_prefix("Tag.") {
                let (n, field) = rest.split_once('.').expect("Tag.N.Field");
                let n: usize = n.parse().expect("Tag.N numbered");
                assert!((1..=20).contains(&n), "{k}");
                match field {
                    "Key" => {
                        tag_keys += 1;
                        assert_eq!(n, tag_keys, "tag filters numbered in order: {params:?}");
                    }
                    "Value" => assert!(names.contains(format!("Tag.{n}.Key").as_str())),
                    other => panic!("unexpected tag field {other}"),
                }
            }
        }
        assert!(tag_keys <= 20, "{tag_keys} tag filters");
        Verdict::Accepted
    }

    fn opts(format_variant: bool) -> HostvarOptions {
        HostvarOptions {
            destination_variables: vec!["public_ip_address".into(), "private_ip_address".into()],
            destination_format: if format_variant {
                "{0}.x".into()
            } else {
                String::new()
            },
            destination_format_tags: if format_variant {
                vec!["Name".into()]
            } else {
                vec![]
            },
            hostname_variable: "tag_Name".into(),
            hostnames: vec![],
            legacy_tags_hostvar: false,
            address_optional: false,
            rename: None,
            account: None,
            keep_vars: false,
            reads: Vec::new(),
            selection: None,
        }
    }

    fn check_name(n: &Namer, source: &str) {
        let s = n.sanitize(source);
        assert!(valid_name().is_match(&s), "sanitize({source:?}) = {s:?}");
        assert_eq!(
            s.chars().count(),
            source.chars().count(),
            "one character per character: sanitize({source:?}) = {s:?}"
        );
        let g = n.group(source);
        assert!(valid_name().is_match(&g), "group({source:?}) = {g:?}");
        assert!(
            !decimal().is_match(&g),
            "group({source:?}) = {g:?} starts with a digit"
        );
    }

    /// Target `response`: the first byte picks the HTTP status (low 4 bits: 0 → 400, 1 → 500,
    /// 2 → 503, else 200) and the hostvar options (bit 4: destination_format `{0}.x` with tags
    /// `[Name]`); the rest is the body of a DescribeInstances answer. The page goes through
    /// fetch's own TotalCount cap and de-duplication, then into an inventory that is written.
    pub fn response(data: &[u8]) -> Verdict {
        let Some((&sel, body)) = data.split_first() else {
            return Verdict::Refused;
        };
        let status = match sel & 0x0f {
            0 => 400,
            1 => 500,
            2 => 503,
            _ => 200,
        };
        let opts = opts(sel & 0x10 != 0);
        let Ok((total, instances)) = parse_page(status, body, &opts) else {
            return Verdict::Refused;
        };
        assert_eq!(status, 200, "only a 200 carries instances");
        // The fetch loop queues the pages page_count gives: never more than the cap allows,
        // always enough for every instance, and refused only above the cap.
        let capped = match page_count(total) {
            Ok(pages) => {
                assert!(
                    pages <= MAX_TOTAL_COUNT.div_ceil(PAGE_SIZE),
                    "{pages} pages for TotalCount {total}"
                );
                assert!(pages * PAGE_SIZE >= total && pages * PAGE_SIZE < total + PAGE_SIZE);
                false
            }
            Err(m) => {
                assert!(total > MAX_TOTAL_COUNT, "TotalCount {total} refused: {m}");
                assert!(m.contains(&total.to_string()), "{m}");
                true
            }
        };
        let namer = Namer {
            replace_dash: true,
            ascii_only: false,
        };
        for inst in &instances {
            let v: Value = serde_json::from_str(&inst.hostvars)
                .unwrap_or_else(|e| panic!("hostvars of {} are not JSON: {e}", inst.id));
            let vars = v.as_object().expect("hostvars are a JSON object");
            assert_eq!(
                vars.get("id").and_then(Value::as_str),
                Some(inst.id.as_str())
            );
            assert_eq!(
                vars.get("ansible_host").and_then(Value::as_str),
                Some(inst.address.as_str())
            );
            assert!(vars.get("ecs_tags").is_some_and(Value::is_object));
            assert!(!vars.contains_key("tags"), "tags is a reserved name");
            check_name(&namer, &inst.hostname_source);
            check_name(&namer, &inst.id);
            for (k, v) in &inst.tags {
                check_name(&namer, &format!("tag_{k}_{v}"));
            }
        }

        // De-duplicated by id as fetch does it, with fetch's own code: the first of each id
        // goes on, once.
        let page = instances.clone();
        let mut seen = HashSet::default();
        let mut instances = Vec::new();
        hand_over(&mut seen, page.clone(), &mut |i| instances.push(i));
        let ids: HashSet<&str> = page.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(instances.len(), ids.len(), "one instance per id");
        for kept in &instances {
            let first = page
                .iter()
                .find(|i| i.id == kept.id)
                .expect("from the page");
            assert_eq!(kept, first, "the first instance of an id is kept");
        }
        let again = instances.len();
        hand_over(&mut seen, page, &mut |_| panic!("an id handed over twice"));
        assert_eq!(again, instances.len());
        let settings = Settings::from_ini(None, &Env::default()).expect("default settings");
        let inv = build(instances, &settings);
        let mut out = Vec::new();
        write_list(&inv, &mut out).expect("writing to a Vec");
        let doc: Value = serde_json::from_slice(&out).expect("--list output is JSON");
        let doc = doc.as_object().expect("--list output is an object");
        let all: BTreeSet<&str> = doc["alicloud"]["hosts"]
            .as_array()
            .expect("alicloud.hosts")
            .iter()
            .map(|h| h.as_str().expect("host names are strings"))
            .collect();
        for h in &inv.hosts {
            assert!(
                all.contains(h.name.as_str()),
                "host {} not in alicloud",
                h.name
            );
        }
        {
            // docs/DESIGN.md, "Groups and names": instances that resolve to one name all stay (each
            // renamed `<name>_<id>`), and no group is named like a host; `Inventory::hosts`
            // documents its names as unique. A host named `_meta` is only a host, so it is left
            // out.
            assert_eq!(all.len(), inv.hosts.len(), "two hosts share a name");
            for h in &inv.hosts {
                assert!(
                    h.name == "_meta" || !doc.contains_key(&h.name),
                    "host {} is also a group",
                    h.name
                );
            }
        }
        let hostvars = doc["_meta"]["hostvars"]
            .as_object()
            .expect("_meta.hostvars");
        for (name, vars) in hostvars {
            assert!(
                all.contains(name.as_str()),
                "hostvars of {name} but no such host"
            );
            assert!(vars.is_object(), "hostvars of {name}");
        }
        for (group, g) in doc {
            if group == "_meta" {
                continue;
            }
            assert!(
                !group.is_empty() && valid_name().is_match(group) && !decimal().is_match(group),
                "group name {group:?}"
            );
            for h in g["hosts"].as_array().expect("every group has hosts") {
                let h = h.as_str().expect("host names are strings");
                assert!(all.contains(h), "group {group} holds {h}, not in alicloud");
            }
        }
        if capped {
            Verdict::Capped
        } else if inv.hosts.is_empty() {
            Verdict::NoHosts
        } else {
            Verdict::Accepted
        }
    }
}

use std::path::PathBuf;

use checks::Verdict::{self, Accepted, BadValue, Capped, NoHosts, Refused};

/// Every kept input of one target, by path; at least one, so an empty or missing directory
/// fails rather than passes.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/fuzz")
        .join(target);
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).expect("readable input");
            (p, bytes)
        })
        .collect();
    out.sort();
    assert!(
        !out.is_empty(),
        "no kept inputs in {}: the regression test would prove nothing",
        dir.display()
    );
    out
}

/// Runs `check` on every kept input of `target` and compares each verdict with `expected`,
/// which names every input: a check that panics, an input that no longer reaches the code it
/// was kept for, and a kept input without a recorded verdict all fail.
fn replay(
    target: &str,
    check: impl Fn(&[u8]) -> Verdict + std::panic::RefUnwindSafe,
    expected: &[(&str, Verdict)],
) {
    let mut problems = Vec::new();
    let inputs = inputs(target);
    for (path, bytes) in &inputs {
        let name = path.file_name().and_then(|n| n.to_str()).expect("a name");
        let want = expected.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        match (std::panic::catch_unwind(|| check(bytes)), want) {
            (Err(_), _) => problems.push(format!("{name}: the check failed")),
            (Ok(got), None) => problems.push(format!(
                "{name}: gave {got:?}; record it in the table of expected verdicts"
            )),
            (Ok(got), Some(want)) if got != want => {
                problems.push(format!("{name}: gave {got:?}, expected {want:?}"))
            }
            _ => {}
        }
    }
    for (name, _) in expected {
        if !inputs.iter().any(|(p, _)| p.ends_with(name)) {
            problems.push(format!("{name}: no such kept input"));
        }
    }
    assert!(problems.is_empty(), "{target}: {problems:#?}");
}

#[test]
fn ini_inputs() {
    replay(
        "ini",
        checks::ini,
        &[
            ("seed-assume-role", Accepted),
            ("seed-assume-role-bad", BadValue),
            ("seed-bad-bool", BadValue),
            ("seed-bad-filter-continued", BadValue),
            ("seed-bad-numbers", BadValue),
            ("seed-bad-regex", BadValue),
            ("seed-bad-state", BadValue),
            ("seed-before-section", Refused),
            ("seed-colon-and-empty-key", Refused),
            ("seed-comments-only", Accepted),
            ("seed-continuation", Accepted),
            ("seed-duplicate-option", Refused),
            ("seed-duplicate-section", Refused),
            ("seed-empty", Accepted),
            ("seed-example", Accepted),
            ("seed-example-crlf-bom", Accepted),
            ("seed-no-separator", Refused),
            ("seed-quotes-and-paths", Accepted),
            ("seed-timeout-inf", BadValue),
            ("seed-unicode", Refused),
            ("seed-unknown-things", Accepted),
            ("seed-unterminated-header", Refused),
        ],
    );
}

#[test]
fn instance_filters_inputs() {
    replay(
        "instance_filters",
        checks::instance_filters,
        &[
            ("seed-00", Accepted),
            ("seed-01", Refused),
            ("seed-02", Refused),
            ("seed-03", Refused),
            ("seed-04", Accepted),
            ("seed-05", Accepted),
            ("seed-06", Refused),
            ("seed-07", Refused),
            ("seed-08", Accepted),
            ("seed-09", Accepted),
            ("seed-10", Refused),
            ("seed-11", Accepted),
            ("seed-12", Accepted),
            ("seed-13", Accepted),
        ],
    );
}

#[test]
fn response_inputs() {
    replay(
        "response",
        checks::response,
        &[
            ("bug-renamed-host-takes-a-group-name", Accepted),
            ("bug-renamed-host-takes-another-hosts-name", Accepted),
            ("seed-deep-unknown-fields", Accepted),
            ("seed-duplicate-ids", Accepted),
            ("seed-empty-page", NoHosts),
            ("seed-error-in-200", Refused),
            ("seed-fleet-page-1", Accepted),
            ("seed-fleet-page-2-format", Accepted),
            ("seed-forbidden-400", Refused),
            ("seed-host-named-like-group", Accepted),
            ("seed-html-500", Refused),
            ("seed-no-instance-list", NoHosts),
            ("seed-odd-types", Refused),
            ("seed-one-instance", Accepted),
            ("seed-oversized-tags", Accepted),
            ("seed-same-group-names", Accepted),
            ("seed-throttled-503", Refused),
            ("seed-too-deep", Refused),
            ("seed-total-count-huge", Capped),
            ("seed-total-count-negative", Refused),
            ("seed-truncated", Refused),
            ("seed-unicode-tags", Accepted),
        ],
    );
}
