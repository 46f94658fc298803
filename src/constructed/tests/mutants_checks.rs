//! Checks that cargo-mutants asked for (docs/TESTING.md, "Mutation testing"): behaviour of
//! `constructed` that no other test pinned down.

use super::*;

fn host() -> Json {
    json!({
        "status": "Running",
        "region_id": "cn-hangzhou",
        "zone_id": "cn-hangzhou-g",
        "off": false,
    })
}

/// How a strict `compose` of `expr` fails on [`host`].
fn strict_failure(expr: &str) -> HostError {
    let c = compile(json!({"strict": true, "compose": {"v": expr}}));
    c.apply("h1", &vars(host()), &[]).unwrap_err()
}

/// A `parent_group` template's variables get their slots even when no other entry reads them,
/// and the text around its expressions is kept. A template of one expression alone whose
/// value is false gives no parent (not "False").
#[test]
fn parent_group_templates_read_their_own_variables_and_keep_their_text() {
    let c = compile(json!({"keyed_groups": [
        {"key": "status", "prefix": "st", "parent_group": "pre_{{ region_id }}_post"},
        {"key": "status", "prefix": "s2", "parent_group": "{{ zone_id }}"},
        {"key": "status", "prefix": "s3", "parent_group": "{{ off }}"},
    ]}));
    assert_eq!(
        groups_of(&c, host()),
        [
            (
                "st_Running".to_owned(),
                Some("pre_cn_hangzhou_post".to_owned())
            ),
            ("s2_Running".to_owned(), Some("cn_hangzhou_g".to_owned())),
            ("s3_Running".to_owned(), None),
        ]
    );
}

/// An empty mapping is told apart from a mapping that lacks only its key.
#[test]
fn an_empty_keyed_group_is_named_as_such() {
    let e = Constructed::from_value(&json!({"keyed_groups": [{}]})).unwrap_err();
    assert_eq!(e.entry, "keyed_groups[0]");
    assert!(e.message.contains("must be a mapping with a key"), "{e}");
}

/// Ansible's `ternary`: the third value only for `none`, a false value picks the second.
#[test]
fn ternary_picks_as_ansible_does() {
    let hv = json!({"yes": true, "no": false, "empty": "", "nothing": null});
    for (expr, want) in [
        ("yes | ternary('y', 'n', 'z')", json!("y")),
        ("no | ternary('y', 'n', 'z')", json!("n")),
        ("empty | ternary('y', 'n')", json!("n")),
        ("nothing | ternary('y', 'n')", json!("n")),
        ("nothing | ternary('y', 'n', 'z')", json!("z")),
        ("nothing | ternary('y', 'n', none)", json!("n")),
    ] {
        assert_eq!(compose_one(expr, hv.clone()), Some(want), "{expr}");
    }
}

/// Python's `int()`, `float()` and Ansible's `bool` at their edges; the expected values are
/// Python 3's (`int(float(x))` where `int(x, base)` fails, as Jinja's `int` filter does).
#[test]
fn numbers_and_truth_are_pythons() {
    let cases: &[(&str, Json)] = &[
        // Above 2**53 a float is no longer exact: int() reads the digits, not float().
        ("'9007199254740993' | int", json!(9007199254740993_i64)),
        (
            "'9007199254740993' | int(0, 0)",
            json!(9007199254740993_i64),
        ),
        ("'9_007_199_254_740_993' | int", json!(9007199254740993_i64)),
        ("'-9007199254740993' | int", json!(-9007199254740993_i64)),
        ("' -17 ' | int", json!(-17)),
        // A leading zero is no base-0 integer: float() reads it.
        (
            "'09007199254740993' | int(0, 0)",
            json!(9007199254740992_i64),
        ),
        ("'00' | int(7, 0)", json!(0)),
        ("'-0x1f' | int(0, 16)", json!(-31)),
        ("'+0x1f' | int(0, 16)", json!(31)),
        ("'0b101' | int(0, 0)", json!(5)),
        ("'0o17' | int(0, 0)", json!(15)),
        ("'0b11' | int(0, 16)", json!(2833)),
        ("'0x' | int(7, 16)", json!(7)),
        // No such base: int() fails, float() reads the text.
        ("'5' | int(0, 37)", json!(5)),
        ("'_1' | int(7)", json!(7)),
        ("'1_' | int(7)", json!(7)),
        ("'1__0' | int(7)", json!(7)),
        ("4.7 | int", json!(4)),
        ("9007199254740993 | int", json!(9007199254740993_i64)),
        ("true | int", json!(1)),
        ("'nan' | int(7)", json!(7)),
        ("'1e3' | int", json!(1000)),
        ("'1_0.5' | float", json!(10.5)),
        ("'1e5' | float", json!(100000.0)),
        ("'_1' | float(7.5)", json!(7.5)),
        ("'1_' | float(7.5)", json!(7.5)),
        ("'1__0' | float(7.5)", json!(7.5)),
        ("'0x10' | float(7.5)", json!(7.5)),
        ("'-Infinity' | float < -1e308", json!(true)),
        ("'inf' | float > 1e308", json!(true)),
        ("'NaN' | float | string", json!("nan")),
        ("true | float", json!(1.0)),
        ("2 | float", json!(2.0)),
        ("true | bool", json!(true)),
        ("false | bool", json!(false)),
        ("1.0 | bool", json!(true)),
        ("2.5 | bool", json!(false)),
        ("0 | bool", json!(false)),
        ("nothing | bool", json!(false)),
    ];
    let hv = json!({"nothing": null});
    assert_composes(cases, &hv);
}

/// Python's `in`, `==` across numbers and booleans, ordering, and the regex tests'
/// `match_type`s.
#[test]
fn containment_equality_and_order_are_pythons() {
    let cases: &[(&str, Json)] = &[
        ("'b' is in 'abc'", json!(true)),
        ("'x' is in 'abc'", json!(false)),
        ("'a' is in {'a': 1}", json!(true)),
        ("'z' is in {'a': 1}", json!(false)),
        ("1 is in [1.0]", json!(true)),
        ("true is in [1]", json!(true)),
        ("'1' is in [1]", json!(false)),
        ("'a' is in ['a']", json!(true)),
        ("'b' is in ['a']", json!(false)),
        (
            "['a', 'b', 'a', 1, 1.0, true] | unique",
            json!(["a", "b", 1]),
        ),
        ("[[2], [1, 2], [1]] | sort", json!([[1], [1, 2], [2]])),
        ("[3, 1.5, true, 2] | sort", json!([true, 1.5, 2, 3])),
        (
            "[9007199254740993, 9007199254740992.0] | sort",
            json!([9007199254740992.0, 9007199254740993_i64]),
        ),
        (
            "[9007199254740992.0, 9007199254740993] | sort(reverse=true)",
            json!([9007199254740993_i64, 9007199254740992.0]),
        ),
        ("'abc' is regex('b', match_type='match')", json!(false)),
        ("'abc' is regex('a', match_type='match')", json!(true)),
        ("'abc' is regex('abc', match_type='fullmatch')", json!(true)),
        (
            "'abcd' is regex('abc', match_type='fullmatch')",
            json!(false),
        ),
        (
            "'xabc' is regex('abc', match_type='fullmatch')",
            json!(false),
        ),
        ("'xabc' is regex('abc')", json!(true)),
    ];
    assert_composes(cases, &json!({}));
    // Python raises TypeError: the entry fails (and is skipped, not being strict).
    for expr in ["1 is in 'abc'", "1 is in 5", "[1, 'b'] | sort"] {
        assert_eq!(compose_one(expr, json!({})), None, "{expr}");
    }
}

/// An invalid expression's message gives minijinja's detail once.
#[test]
fn an_invalid_expression_is_described_once() {
    let e = Constructed::from_value(&json!({"compose": {"v": "cpu +"}}))
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        e.message,
        "invalid expression \"cpu +\": syntax error: unexpected end of input, expected expression (in <expression>:1)"
    );
}

/// A keyed group's key holding an undefined value inside a list or a mapping fails the entry,
/// as Ansible's finalised template does: no group is made of it.
#[test]
fn an_undefined_value_inside_a_key_fails_the_entry() {
    for key in ["[status, missing]", "{'a': missing}", "[[missing]]"] {
        let c = compile(json!({"keyed_groups": [{"key": key, "prefix": "k"}]}));
        assert_eq!(groups_of(&c, host()), [], "{key}");
        let c = compile(json!({"strict": true, "keyed_groups": [{"key": key}]}));
        let e = c.apply("h1", &vars(host()), &[]).unwrap_err();
        assert_eq!(e.entry, "keyed_groups[0]", "{key}");
    }
}

/// The one stderr line of each failure: the entry, the host where there is one, and why.
#[test]
fn failures_are_written_as_one_line_naming_the_entry() {
    let e = Constructed::from_value(&json!({"compose": {"v": "cpu +"}}))
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("constructed compose.v: {}", e.message)
    );
    let e = strict_failure("missing + 1");
    assert_eq!(
        e.to_string(),
        format!("constructed compose.v failed for host h1: {}", e.message)
    );
    assert!(!e.message.is_empty());
}

/// A configuration's debug text counts its entries rather than listing compiled expressions.
#[test]
fn a_configuration_debugs_as_its_counts() {
    let c = compile(
        json!({"compose": {"a": "1"}, "groups": {"g": "true", "h": "false"}, "strict": true}),
    );
    assert_eq!(
        format!("{c:?}"),
        "Constructed { compose: 1, groups: 2, keyed_groups: 0, strict: true, leading_separator: true }"
    );
}

/// Only a conditional wholly inside one `{{ }}` is the expression within; two of them are
/// not cut apart into something else.
#[test]
fn a_conditional_of_two_templates_is_read_whole() {
    let e = Constructed::from_value(&json!({"groups": {"g": "{{ a }} and {{ b }}"}})).unwrap_err();
    assert_eq!(e.entry, "groups.g");
    assert!(
        e.message
            .starts_with("invalid expression \"{{ a }} and {{ b }}\""),
        "{e}"
    );
    let c = compile(json!({"groups": {"g": "{{ status == 'Running' }}"}}));
    assert_eq!(groups_of(&c, host()), [("g".to_owned(), None)]);
}

/// Compose and the groups are never one batch when a group reads a composed variable, even
/// when both would be batches: a composed variable replaces the host's own.
#[test]
fn groups_reading_a_composed_variable_see_it_even_when_both_are_batches() {
    let c = compile(json!({
        "compose": {"cpu": "cpu * 2", "memory": "memory * 2"},
        "groups": {"big": "cpu * 1 > 3", "huge": "memory * 1 > 10000"},
    }));
    assert!(c.joint.is_none());
    let hv = json!({"cpu": 2, "memory": 8192});
    assert_eq!(
        groups_of(&c, hv),
        [("big".to_owned(), None), ("huge".to_owned(), None)]
    );
}

/// `--check`'s lines for a configuration: each kind of entry only when there is one.
#[test]
fn a_configuration_describes_its_entries() {
    let c = compile(json!({
        "compose": {"a": "1", "b": "2"},
        "groups": {"g": "true"},
        "keyed_groups": [{"key": "status"}, {"key": "zone_id"}],
        "strict": true,
        "leading_separator": false,
    }));
    assert_eq!(
        c.describe(),
        [
            "compose a, b",
            "groups g",
            "2 keyed_groups",
            "strict true, leading_separator false"
        ]
    );
    assert_eq!(
        compile(json!({})).describe(),
        ["strict false, leading_separator true"]
    );
}

/// The host's groups so far are asked for only when an expression reads `group_names`.
#[test]
fn group_names_are_asked_for_only_when_read() {
    let asked = std::cell::Cell::new(0);
    let groups = || {
        asked.set(asked.get() + 1);
        vec!["web".to_owned()]
    };
    let c = compile(json!({"compose": {"v": "status"}}));
    assert_eq!(c.slot_names(), ["status"]);
    let shaped = step::Step::new(Some(&c))
        .shape("h1", vec![minijinja::Value::from("Running")], groups)
        .unwrap();
    assert_eq!(shaped.json, "\"Running\"");
    assert_eq!(asked.get(), 0);
    let c = compile(json!({"compose": {"v": "group_names"}}));
    let shaped = step::Step::new(Some(&c))
        .shape("h1", vec![minijinja::Value::UNDEFINED], groups)
        .unwrap();
    assert_eq!((shaped.json.as_str(), asked.get()), ("[\"web\"]", 1));
}

/// A conditional whose value is undefined fails as undefined, not as a value of another type.
#[test]
fn an_undefined_conditional_fails_as_undefined() {
    let c = compile(json!({"strict": true, "groups": {"g": "missing | upper"}}));
    let e = c.apply("h1", &vars(host()), &[]).unwrap_err();
    assert_eq!(e.entry, "groups.g");
    assert!(e.message.ends_with("the result is undefined"), "{e}");
    let c = compile(json!({"groups": {"g": "missing | upper"}}));
    assert_eq!(groups_of(&c, host()), []);
}

/// With `strict`, a parent group that cannot be made fails the host; without, the entry is
/// skipped.
#[test]
fn a_parent_group_that_fails_fails_the_host_when_strict() {
    let entry = json!({"key": "status", "parent_group": "{{ missing }}"});
    let c = compile(json!({"strict": true, "keyed_groups": [entry.clone()]}));
    let e = c.apply("h1", &vars(host()), &[]).unwrap_err();
    assert_eq!(e.entry, "keyed_groups[0]");
    assert!(
        e.message
            .starts_with("could not generate parent group for group Running: "),
        "{e}"
    );
    let c = compile(json!({"keyed_groups": [entry]}));
    assert_eq!(groups_of(&c, host()), []);
}

/// A filter given more arguments than it takes fails the entry, naming the filter.
#[test]
fn too_many_filter_arguments_fail_the_entry() {
    assert_eq!(compose_one("'a' | upper(1)", json!({})), None);
    let e = strict_failure("'a' | replace('a', 'b', 1, 2)");
    assert!(
        e.message.contains("replace() got too many arguments"),
        "{e}"
    );
}

/// `default` takes its arguments by keyword too, as Jinja's does; `replace`'s count.
#[test]
fn default_keywords_and_replace_counts() {
    let hv = json!({"empty": ""});
    for (expr, want) in [
        ("missing | default(default_value='x')", json!("x")),
        ("empty | default('x', boolean=true)", json!("x")),
        (
            "empty | default(default_value='x', boolean=true)",
            json!("x"),
        ),
        ("empty | default(default_value='x')", json!("")),
        // Python's str.replace: a count of 0 replaces nothing, a negative one everything.
        ("'aaa' | replace('a', 'b', 0)", json!("aaa")),
        ("'aaa' | replace('a', 'b', -2)", json!("bbb")),
    ] {
        assert_eq!(compose_one(expr, hv.clone()), Some(want), "{expr}");
    }
}

/// One pattern with different flags is two regexes, however they are kept for reuse.
#[test]
fn a_pattern_with_other_flags_is_another_regex() {
    let c = compile(json!({"compose": {
        "a": "'ABC' is search('a[b]c', ignorecase=true)",
        "b": "'ABC' is search('a[b]c')",
        "c": "'ABC' is search('a[b]c', ignorecase=true)",
    }}));
    let r = c.apply("h1", &vars(host()), &[]).unwrap();
    assert_eq!(
        r.vars,
        [
            ("a".to_owned(), json!(true)),
            ("b".to_owned(), json!(false)),
            ("c".to_owned(), json!(true)),
        ]
    );
}

/// The regex filters' arguments as Python's `re` and Ansible read them (each expected value is
/// what Python 3.11's `re.sub`, `re.search` and `str.split` give): two-digit group references,
/// escapes of other characters kept, ASCII-letter escapes refused, `mandatory_count`, the
/// search flags and group arguments, and `split`'s `maxsplit`.
#[test]
fn regex_and_split_arguments_are_pythons() {
    let hv = json!({});
    for (expr, want) in [
        (
            r"'abcdefghijkl' | regex_replace('(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)', '\\11-\\1')",
            Some(json!("k-al")),
        ),
        (r"'a' | regex_replace('a', '\\.')", Some(json!("\\."))),
        (r"'a' | regex_replace('a', '\\q')", None),
        (
            "'aXa' | regex_replace('a', 'b', mandatory_count=2)",
            Some(json!("bXb")),
        ),
        ("'aXa' | regex_replace('a', 'b', mandatory_count=3)", None),
        (
            "'ABC' | regex_search('abc', ignorecase=true)",
            Some(json!("ABC")),
        ),
        ("'ABC' | regex_search('abc')", Some(json!(null))),
        (
            r"'a\nb' | regex_search('^b', multiline=true)",
            Some(json!("b")),
        ),
        (r"'a\nb' | regex_search('^b')", Some(json!(null))),
        (
            r"'ab' | regex_search('(?P<x>a)(b)', '\\g<x>', '\\2')",
            Some(json!(["a", "b"])),
        ),
        (r"'ab' | regex_search('(?P<x>a)(b)', '\\3')", None),
        ("'a,b,c' | split(',', 1)", Some(json!(["a", "b,c"]))),
        ("'a,b' | split(',', 0)", Some(json!(["a,b"]))),
        ("'a b  c d' | split(none, 1)", Some(json!(["a", "b  c d"]))),
        ("'a b c' | split(none, 0)", Some(json!(["a b c"]))),
    ] {
        assert_eq!(compose_one(expr, hv.clone()), want, "{expr}");
    }
}

/// `items2dict` refuses an item without its key or its value, and `combine` anything but
/// dicts, as Ansible's do (each a failed entry, not a value).
#[test]
fn items2dict_and_combine_refuse_what_ansible_refuses() {
    let hv = json!({});
    for (expr, want) in [
        (
            "[{'key': 'a', 'value': 1}] | items2dict | length",
            Some(json!(1)),
        ),
        ("[{'key': 'a'}] | items2dict | length", None),
        ("[{'value': 1}] | items2dict | length", None),
        ("{'a': 1} | combine({'b': 2}) | length", Some(json!(2))),
        ("1 | combine({'a': 1}) | length", None),
        ("{'a': 1} | combine([1]) | length", None),
        // Python's len() of a range.
        ("range(3) | length", Some(json!(3))),
    ] {
        assert_eq!(compose_one(expr, hv.clone()), want, "{expr}");
    }
}

/// `combine`'s `list_merge`, as Ansible's `merge_hash` gives it (ansible-core 2.19's
/// `ansible.utils.vars.merge_hash` on the same values): a list merges only with a list.
#[test]
fn combine_merges_lists_as_merge_hash_does() {
    let hv = json!({});
    for (how, want) in [
        ("replace", json!([2, 3])),
        ("keep", json!([1, 2])),
        ("append", json!([1, 2, 2, 3])),
        ("prepend", json!([2, 3, 1, 2])),
        ("append_rp", json!([1, 2, 3])),
        ("prepend_rp", json!([2, 3, 1])),
    ] {
        let expr =
            format!("({{'a': [1, 2], 'b': 1}} | combine({{'a': [2, 3]}}, list_merge='{how}')).a");
        assert_eq!(compose_one(&expr, hv.clone()), Some(want), "{how}");
    }
    for (expr, want) in [
        (
            "({'a': [1, 2]} | combine({'a': 'x'}, list_merge='append')).a",
            json!("x"),
        ),
        (
            "({'a': 'x'} | combine({'a': [1]}, list_merge='append')).a",
            json!([1]),
        ),
    ] {
        assert_eq!(compose_one(expr, hv.clone()), Some(want), "{expr}");
    }
}

/// With `strict`, `combine` of something that is not a dict fails with Ansible's words, not
/// the engine's.
#[test]
fn combine_of_a_non_dict_says_so() {
    for expr in ["1 | combine({'a': 1})", "{'a': 1} | combine([2])"] {
        let e = strict_failure(expr);
        assert!(
            e.message
                .contains("failed to combine variables, expected dicts but got a 'int'"),
            "{expr}: {}",
            e.message
        );
    }
}

/// `to_json` of a value holding an undefined one fails on the undefined value, as Ansible's
/// does (AnsibleUndefinedVariable), not on a type it cannot write.
#[test]
fn to_json_of_an_undefined_item_fails_on_the_undefined_value() {
    let e = strict_failure("[nope] | to_json");
    assert!(e.message.contains("undefined value"), "{e}");
}

/// `b64encode` and `b64decode` take UTF-8 only (any spelling): another encoding is refused,
/// not read as UTF-8 (Ansible would give that encoding's bytes).
#[test]
fn base64_filters_refuse_other_encodings() {
    for expr in [
        "'é' | b64encode(encoding='latin-1')",
        "'6Q==' | b64decode(encoding='latin-1')",
    ] {
        let e = strict_failure(expr);
        assert!(
            e.message
                .contains("encoding \"latin-1\" is not supported here"),
            "{e}"
        );
    }
    assert_eq!(
        compose_one("'é' | b64encode(encoding='UTF_8')", host()),
        Some(json!("w6k="))
    );
}

/// `b64decode` of a length that cannot be base64 says how many data characters it counted,
/// in CPython's words.
#[test]
fn b64decode_counts_the_data_characters() {
    let e = strict_failure("'QU!JDR' | b64decode");
    assert!(
        e.message
            .contains("number of data characters (5) cannot be 1 more than a multiple of 4"),
        "{e}"
    );
}

/// `to_json`'s `profile` and `separators` are refused each on its own, not only together.
#[test]
fn to_json_refuses_profile_and_separators_each() {
    for expr in [
        "{'a': 1} | to_json(separators=[',', ':'])",
        "{'a': 1} | to_json(profile='tagless')",
    ] {
        let e = strict_failure(expr);
        assert!(
            e.message
                .contains("profile and separators are not supported here"),
            "{expr}: {e}"
        );
    }
}

/// `mandatory` fails with its message, or Ansible's own when the message is `none`.
#[test]
fn mandatory_fails_with_its_message() {
    for (expr, want) in [
        ("nope | mandatory('give it')", "give it"),
        ("nope | mandatory(none)", "Mandatory variable not defined."),
        ("nope | mandatory", "Mandatory variable not defined."),
    ] {
        let e = strict_failure(expr);
        assert!(e.message.contains(want), "{expr}: {e}");
    }
}

/// `subelements` of something that is neither a list nor a mapping says so, in Ansible's
/// words, before it looks at any item.
#[test]
fn subelements_names_what_it_takes() {
    let e = strict_failure("'abc' | subelements('x')");
    assert!(
        e.message
            .contains("obj must be a list of dicts or a nested dict"),
        "{e}"
    );
}

/// A composed variable's name must be one Ansible takes: an ASCII identifier that is not a
/// keyword.
#[test]
fn compose_names_are_checked() {
    for bad in ["my-var", "1x", "none", "True", "not", "café", ""] {
        let e = Constructed::from_value(&json!({"compose": {bad: "1"}}))
            .map(|_| ())
            .unwrap_err();
        assert_eq!(e.entry, format!("compose.{bad}"));
        assert!(
            e.message.contains("is not a variable name Ansible accepts"),
            "{e}"
        );
    }
    for good in ["_x", "a1", "Nonesuch", "not_this"] {
        Constructed::from_value(&json!({"compose": {good: "1"}}))
            .unwrap_or_else(|e| panic!("{good}: {e}"));
    }
}

/// A `groups` entry may not be named `_meta` (the hostvars' place in the JSON), nor anything
/// that names to the empty group.
#[test]
fn groups_named_meta_or_nothing_are_refused() {
    for name in ["_meta", ""] {
        let e = Constructed::from_value(&json!({"groups": {name: "true"}}))
            .map(|_| ())
            .unwrap_err();
        assert!(
            e.message.contains("a group cannot be named ''"),
            "{name}: {e}"
        );
    }
}

/// An unknown key of a keyed group is warned about once per key, with the known keys, and
/// `leading_separator` with where it belongs.
#[test]
fn unknown_keyed_group_keys_are_warned_about_once() {
    let w = keyed::unknown_key_warning("keyed_groups[0]", "prefx_for_this_test").unwrap();
    assert_eq!(
        w,
        "constructed keyed_groups[0]: option \"prefx_for_this_test\" is ignored, as Ansible ignores it (known: key, prefix, separator, default_value, trailing_separator, parent_group)"
    );
    assert_eq!(
        keyed::unknown_key_warning("keyed_groups[1]", "prefx_for_this_test"),
        None
    );
    assert!(keyed::unknown_key_warning("keyed_groups[2]", "other_for_this_test").is_some());
    if let Some(w) = keyed::unknown_key_warning("keyed_groups[0]", "leading_separator") {
        assert!(
            w.ends_with("(it is a top-level option, not one of an entry)"),
            "{w}"
        );
    }
}

/// Math filters to the last bit, where the comparison with Ansible allows a rounding step:
/// `log` base 10 is `log10` (3.0, not 2.9999999999999996), `root` 2 is `sqrt` (not `pow`),
/// and `abs` of an int stays an int.
#[test]
fn math_filters_are_exact() {
    for (expr, want) in [
        ("1000 | log(10)", json!(3.0)),
        ("2921 | root(2)", json!(54.04627646748664)),
        ("-5 | abs", json!(5)),
    ] {
        assert_eq!(compose_one(expr, host()), Some(want), "{expr}");
    }
}

/// `rekey_on_member` of something that is neither a list nor a mapping says so, in
/// Ansible's words, before it looks at any item.
#[test]
fn rekey_on_member_names_what_it_takes() {
    let e = strict_failure("'abc' | rekey_on_member('id')");
    assert!(
        e.message.contains("Type is not a valid list, set, or dict"),
        "{e}"
    );
}
