//! Which filters, tests and functions an expression may use: every name Ansible has is either
//! supported (and then really registered) or refused when the configuration is loaded.

use super::*;
use engine::{REFUSED_FILTERS, REFUSED_TESTS, SUPPORTED_FILTERS, SUPPORTED_TESTS};

/// The plugin lists of ansible-core 2.19.14 (`FilterModule().filters()` of
/// plugins/filter/{core,mathstuff,encryption,urls,urlsplit}.py, `TestModule().tests()` of
/// plugins/test/{core,mathstuff,files,uri}.py) and Jinja2's `FILTERS` and `TESTS`, printed
/// from the venv; 2.21.5 has the same.
const ANSIBLE_FILTERS: &str = "b64decode b64encode basename bool checksum combinations combine comment commonpath d default dict2items difference dirname expanduser expandvars extract fileglob flatten from_json from_yaml from_yaml_all groupby hash human_readable human_to_bytes intersect items2dict log mandatory map md5 normpath password_hash path_join permutations pow product quote random realpath regex_escape regex_findall regex_replace regex_search reject rejectattr rekey_on_member relpath root select selectattr sha1 shuffle split splitext strftime subelements symmetric_difference ternary to_datetime to_json to_nice_json to_nice_yaml to_uuid to_yaml type_debug union unique unvault urldecode urlsplit vault win_basename win_dirname win_splitdrive zip zip_longest";
const ANSIBLE_TESTS: &str = "abs all any change changed contains defined directory exists failed failure falsy file finished is_abs is_dir is_file is_link is_mount is_same_file isnan issubset issuperset link link_exists match mount nan reachable regex same_file search skip skipped started subset succeeded success successful superset timedout truthy undefined unreachable uri url urn vault_encrypted vaulted_file version version_compare";
const JINJA_FILTERS: &str = "abs attr batch capitalize center count d default dictsort e escape filesizeformat first float forceescape format groupby indent int items join last length list lower map max min pprint random reject rejectattr replace reverse round safe select selectattr slice sort string striptags sum title tojson trim truncate unique upper urlencode urlize wordcount wordwrap xmlattr";
const JINJA_TESTS: &str = "!= < <= == > >= boolean callable defined divisibleby eq equalto escaped even false filter float ge greaterthan gt in integer iterable le lessthan lower lt mapping ne none number odd sameas sequence string test true undefined upper";

fn decided(name: &str, supported: &[&str], refused: &[(&str, &str)]) -> usize {
    supported.iter().filter(|n| **n == name).count()
        + refused.iter().filter(|(n, _)| *n == name).count()
}

#[test]
fn every_ansible_and_jinja_name_is_supported_or_refused_once() {
    for name in ANSIBLE_FILTERS.split(' ').chain(JINJA_FILTERS.split(' ')) {
        assert_eq!(
            decided(name, SUPPORTED_FILTERS, REFUSED_FILTERS),
            1,
            "filter {name}"
        );
    }
    for name in ANSIBLE_TESTS.split(' ').chain(JINJA_TESTS.split(' ')) {
        assert_eq!(
            decided(name, SUPPORTED_TESTS, REFUSED_TESTS),
            1,
            "test {name}"
        );
    }
}

/// A supported name is registered: calling it never fails as an unknown filter or test.
#[test]
fn every_supported_name_is_registered() {
    let env = engine::strict_env();
    for name in SUPPORTED_FILTERS {
        let e = env
            .compile_expression_owned(format!("[1] | {name}"))
            .unwrap();
        if let Err(err) = e.eval(minijinja::context! {}) {
            assert_ne!(err.kind(), ErrorKind::UnknownFilter, "filter {name}: {err}");
        }
    }
    for name in SUPPORTED_TESTS {
        let src = match *name {
            "==" | "!=" | "<" | "<=" | ">" | ">=" => format!("1 is {} 1", name),
            _ => format!("1 is {name}"),
        };
        let Ok(e) = env.compile_expression_owned(src.clone()) else {
            continue; // `1 is ==` is Jinja2 syntax minijinja's parser does not take
        };
        if let Err(err) = e.eval(minijinja::context! {}) {
            assert_ne!(err.kind(), ErrorKind::UnknownTest, "test {name}: {err}");
        }
    }
}

fn refusal(expr: &str) -> String {
    match Constructed::from_value(&json!({"compose": {"v": expr}})) {
        Ok(_) => panic!("{expr} was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_refused_name_is_refused_with_its_reason() {
    for (name, why) in REFUSED_FILTERS {
        assert_eq!(
            refusal(&format!("x | {name}")),
            format!("constructed compose.v: filter '{name}' is not supported here ({why}); see docs/DESIGN.md \"Filters and tests\"")
        );
    }
    for (name, why) in REFUSED_TESTS {
        let msg = refusal(&format!("x is {name}"));
        assert!(
            msg.contains(&format!("test '{name}' is not supported here ({why})")),
            "{msg}"
        );
    }
}

#[test]
fn names_are_found_wherever_they_sit_and_only_there() {
    for (expr, needle) in [
        ("[1] | map('random') | list", "filter 'random'"),
        ("x | select('file') | list", "test 'file'"),
        ("x | rejectattr('a', 'exists') | list", "test 'exists'"),
        ("(a if b else c | shuffle)", "filter 'shuffle'"),
        ("{'k': [x | vault('s')]}", "filter 'vault'"),
        ("x[y | fileglob]", "filter 'fileglob'"),
        ("x.y(z is mount)", "test 'mount'"),
        ("x | json_query('a')", "filter 'json_query' is not supported here (it is not an ansible.builtin or Jinja2 one)"),
        ("lookup('pipe', 'id')", "function 'lookup' is not supported here (it runs a lookup plugin"),
        ("query('env', 'HOME')", "function 'query'"),
        ("now()", "function 'now' is not supported here (it depends on the controller's clock)"),
        ("lipsum()", "function 'lipsum' is not supported here (its result changes from run to run)"),
        ("cycler(1, 2)", "function 'cycler' is not supported here (it is for templates"),
        ("joiner()", "function 'joiner' is not supported here (it is for templates"),
        ("namespace(a=1)", "function 'namespace' is not supported here (it is for templates"),
        ("undef()", "function 'undef' is not supported here (it is for templates"),
        ("frobnicate()", "function 'frobnicate' is not supported here (it is not a Jinja2 or Ansible function)"),
        ("x is version('1', version_type='pep440')", "version_type='pep440'"),
        ("x is version('1', 'eq', false, 'pep440')", "version_type='pep440'"),
    ] {
        let msg = refusal(expr);
        assert!(msg.contains(needle), "{expr}: {msg}");
    }
    // Text in a string, a variable called like a filter, methods, range and dict are fine.
    for expr in [
        "'a | random' ~ 'is file'",
        "random + shuffle",
        "ecs_tags.keys() | list",
        "range(3) | list",
        "dict(a=1)",
        "x | map('upper') | list",
        "x | select('match', '^a') | list",
        "x is version('1', version_type='semver')",
        "x is version('pep440', 'lt')",
        "x is version('1', 'eq', false, 'loose')",
    ] {
        Constructed::from_value(&json!({"compose": {"v": expr}}))
            .unwrap_or_else(|e| panic!("{expr}: {e}"));
    }
}

/// The end-to-end comparison with Ansible's own `constructed` (tests/e2e/e2e.py, FILTERS)
/// uses every supported filter and test, so adding one to the lists without it fails here.
#[test]
fn the_e2e_comparison_uses_every_supported_name() {
    let e2e = include_str!("../../../tests/e2e/e2e.py");
    let block = e2e
        .split("FILTERS = {\"compose\"")
        .nth(1)
        .and_then(|b| b.split("}, \"groups\"").next())
        .expect("FILTERS in e2e.py");
    let used = |pattern: &str| -> Vec<String> {
        regex::Regex::new(pattern)
            .unwrap()
            .captures_iter(block)
            .map(|c| c[1].to_owned())
            .collect()
    };
    let filters: Vec<String> = [r"\|\s*(\w+)", r"map\('(\w+)'"]
        .iter()
        .flat_map(|p| used(p))
        .collect();
    let tests: Vec<String> = [
        r"\bis\s+(\w+)",
        r"(?:select|reject)\('([^']+)'",
        r"(?:selectattr|rejectattr)\('\w+', '(\w+)'",
    ]
    .iter()
    .flat_map(|p| used(p))
    .collect();
    for name in SUPPORTED_FILTERS {
        assert!(
            filters.iter().any(|f| f == name),
            "filter {name} is not in e2e.py's FILTERS"
        );
    }
    for name in SUPPORTED_TESTS {
        assert!(
            tests.iter().any(|t| t == name),
            "test {name} is not in e2e.py's FILTERS"
        );
    }
}
