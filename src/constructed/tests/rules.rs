//! One test per rule of Ansible's constructed plugin; expected values are what
//! ansible-core 2.19 gives for the same expression.

use super::*;

fn host() -> Json {
    json!({
        "instance_name": "web-01",
        "cpu": 2,
        "memory": 8192,
        "io_optimized": true,
        "status": "Running",
        "zone_id": "cn-hangzhou-g",
        "region_id": "cn-hangzhou",
        "security_group_ids": ["sg-1", "sg-2"],
        "ecs_tags": {"Name": "web-01", "env": "prod", "role": "web"},
        "empty": "",
        "nothing": null,
        "tags_list": ["b", "A", "a", "c", "b"],
        "objs": [{"k": "a", "v": 1}, {"k": "b", "v": 2}, {"k": "c"}],
    })
}

#[test]
fn composed_values_keep_their_native_types() {
    assert_eq!(compose_one("cpu * 2", host()), Some(json!(4)));
    assert_eq!(compose_one("memory / 1024", host()), Some(json!(8.0)));
    assert_eq!(compose_one("memory // 1000", host()), Some(json!(8)));
    assert_eq!(compose_one("cpu > 1", host()), Some(json!(true)));
    assert_eq!(
        compose_one("[cpu, io_optimized, nothing]", host()),
        Some(json!([2, true, null]))
    );
    assert_eq!(
        compose_one("{'c': cpu, 't': ecs_tags.env}", host()),
        Some(json!({"c": 2, "t": "prod"}))
    );
    assert_eq!(compose_one("nothing", host()), Some(json!(null)));
}

#[test]
fn compose_entries_see_only_original_vars_and_groups_see_composed_ones() {
    let c = compile(json!({
        "compose": {"a_first": "cpu + 1", "b_second": "a_first | default('unset')", "status": "'stopped'"},
        "groups": {"three": "a_first == 3", "stopped": "status == 'stopped'"},
        "keyed_groups": [{"key": "a_first | string", "prefix": "n"}],
    }));
    let r = c.apply("h1", &vars(host()), &[]).unwrap();
    let got: HashMap<_, _> = r.vars.into_iter().collect();
    assert_eq!(got["a_first"], json!(3));
    assert_eq!(got["b_second"], json!("unset"));
    let groups: Vec<_> = r.groups.iter().map(|m| &*m.group).collect();
    // serde_json::Map sorts the entries by name.
    assert_eq!(groups, ["stopped", "three", "n_3"]);
}

#[test]
fn an_undefined_value_skips_the_entry_unless_strict() {
    for expr in [
        "missing",
        "ecs_tags.missing",
        "[missing, 1]",
        "missing == 1",
        "missing ~ 'x'",
        "cpu + 'x'",
        "cpu / 0",
    ] {
        assert_eq!(compose_one(expr, host()), None, "{expr}");
        let c = compile(json!({"strict": true, "compose": {"v": expr}}));
        let e = c.apply("h1", &vars(host()), &[]).unwrap_err();
        assert_eq!((e.host.as_str(), e.entry.as_str()), ("h1", "compose.v"));
        assert!(!e.to_string().contains('\n'), "one line: {e}");
    }
}

#[test]
fn default_catches_undefined_even_through_lookups_and_filters() {
    assert_eq!(
        compose_one("missing | default('x')", host()),
        Some(json!("x"))
    );
    assert_eq!(compose_one("missing | d(7)", host()), Some(json!(7)));
    assert_eq!(
        compose_one("ecs_tags.nope.deeper | default('deep')", host()),
        Some(json!("deep"))
    );
    assert_eq!(
        compose_one("missing | lower | default('caught')", host()),
        Some(json!("caught"))
    );
    assert_eq!(
        compose_one("missing.attr is defined", host()),
        Some(json!(false))
    );
    assert_eq!(
        compose_one("nothing | default('x')", host()),
        Some(json!(null))
    );
    assert_eq!(
        compose_one("empty | default('x', true)", host()),
        Some(json!("x"))
    );
    assert_eq!(
        compose_one("missing | default(None)", host()),
        Some(json!(null))
    );
    assert_eq!(
        compose_one("[] | first | default(0)", host()),
        Some(json!(0))
    );
}

#[test]
fn a_conditional_must_give_a_boolean() {
    let c = compile(
        json!({"groups": {"named": "instance_name", "yes": "cpu == 2", "always": true, "never": false}}),
    );
    assert_eq!(
        groups_of(&c, host()),
        [("always".to_owned(), None), ("yes".to_owned(), None)]
    );
    let strict = compile(json!({"strict": true, "groups": {"named": "instance_name"}}));
    let e = strict.apply("h1", &vars(host()), &[]).unwrap_err();
    assert_eq!(e.entry, "groups.named");
    assert!(e.message.contains("boolean"), "{e}");
    // `a and b` gives b, a string here, as in Python.
    let and = compile(json!({"groups": {"g": "io_optimized and instance_name"}}));
    assert!(groups_of(&and, host()).is_empty());
    // A conditional wholly in {{ }} is the expression inside.
    let wrapped = compile(json!({"groups": {"g": "{{ cpu == 2 }}"}}));
    assert_eq!(groups_of(&wrapped, host()).len(), 1);
}

#[test]
fn group_names_are_sanitized_like_ansible_always() {
    assert_eq!(to_safe_group_name("bad-name!"), "bad_name_");
    assert_eq!(to_safe_group_name("9zone"), "_zone");
    assert_eq!(to_safe_group_name("a9"), "a9");
    assert_eq!(to_safe_group_name("Zürich 東京"), "Zürich_東京");
    assert_eq!(to_safe_group_name("٣x"), "_x", "a leading Unicode digit");
    assert_eq!(
        to_safe_group_name("x²"),
        "x²",
        "other numbers are word characters"
    );
    let c = compile(
        json!({"groups": {"web-servers": true}, "keyed_groups": [{"key": "'1.2 x'", "prefix": ""}]}),
    );
    assert_eq!(
        groups_of(&c, host()),
        [
            ("web_servers".to_owned(), None),
            ("_1_2_x".to_owned(), None)
        ]
    );
}

fn keyed(entry: Json, hostvars: Json) -> Vec<String> {
    let c = compile(json!({"keyed_groups": [entry]}));
    groups_of(&c, hostvars)
        .into_iter()
        .map(|(g, _)| g)
        .collect()
}

#[test]
fn keyed_group_keys_string_list_and_mapping() {
    assert_eq!(
        keyed(json!({"key": "status", "prefix": "st"}), host()),
        ["st_Running"]
    );
    assert_eq!(
        keyed(
            json!({"key": "security_group_ids", "prefix": "sg", "separator": "-"}),
            host()
        ),
        ["sg_sg_1", "sg_sg_2"]
    );
    assert_eq!(
        keyed(json!({"key": "ecs_tags", "prefix": "tag"}), host()),
        ["tag_Name_web_01", "tag_env_prod", "tag_role_web"]
    );
    // No prefix: the separator still leads, unless leading_separator is false.
    assert_eq!(keyed(json!({"key": "status"}), host()), ["_Running"]);
    let c = compile(
        json!({"leading_separator": false, "keyed_groups": [{"key": "status"}, {"key": "status", "prefix": "s"}]}),
    );
    let got: Vec<_> = groups_of(&c, host()).into_iter().map(|(g, _)| g).collect();
    assert_eq!(got, ["Running", "s_Running"]);
}

#[test]
fn keyed_group_values_print_as_python_does() {
    let hv = json!({"m": {"a": "", "b": null, "c": 0, "d": false, "e": 1.5, "f": 1e20}, "l": ["", null, true, 2]});
    assert_eq!(
        keyed(json!({"key": "m", "prefix": "p"}), hv.clone()),
        [
            "p_a_",
            "p_b_None",
            "p_c_0",
            "p_d_False",
            "p_e_1_5",
            "p_f_1e_20"
        ]
    );
    assert_eq!(
        keyed(
            json!({"key": "m", "prefix": "p", "trailing_separator": false}),
            hv.clone()
        ),
        ["p_a", "p_b", "p_c_0", "p_d_False", "p_e_1_5", "p_f_1e_20"]
    );
    assert_eq!(
        keyed(
            json!({"key": "m", "prefix": "p", "default_value": "dv"}),
            hv.clone()
        ),
        [
            "p_a_dv",
            "p_b_dv",
            "p_c_0",
            "p_d_False",
            "p_e_1_5",
            "p_f_1e_20"
        ]
    );
    assert_eq!(
        keyed(json!({"key": "l", "prefix": "l"}), hv.clone()),
        ["l_", "l_None", "l_True", "l_2"]
    );
    assert_eq!(
        keyed(
            json!({"key": "l", "prefix": "l", "default_value": "dv"}),
            hv.clone()
        ),
        ["l_dv", "l_dv", "l_True", "l_2"]
    );
    assert_eq!(
        keyed(
            json!({"key": "nothing", "prefix": "n", "default_value": "dv"}),
            host()
        ),
        ["n_dv"]
    );
    assert!(keyed(json!({"key": "empty", "prefix": "n"}), host()).is_empty());
    // A prefix that is not a string is formatted too.
    assert_eq!(
        keyed(json!({"key": "status", "prefix": 12}), host()),
        ["_2_Running"]
    );
}

#[test]
fn keyed_group_failures() {
    // A key of another type fails even without strict, as in Ansible.
    let c = compile(json!({"keyed_groups": [{"key": "cpu"}]}));
    let e = c.apply("h1", &vars(host()), &[]).unwrap_err();
    assert_eq!(e.entry, "keyed_groups[0]");
    assert!(e.message.contains("<class 'int'>"), "{e}");
    // An empty key is an error when strict, except an empty list or mapping.
    let strict = |key: &str| {
        compile(json!({"strict": true, "keyed_groups": [{"key": key}]})).apply(
            "h1",
            &vars(host()),
            &[],
        )
    };
    assert!(strict("empty")
        .unwrap_err()
        .message
        .contains("resulted empty"));
    assert!(strict("[]").unwrap().groups.is_empty());
    assert!(strict("{}").unwrap().groups.is_empty());
    assert!(strict("missing").is_err());
    assert!(keyed(json!({"key": "missing"}), host()).is_empty());
}

#[test]
fn parent_groups_static_and_templated() {
    let c = compile(json!({"keyed_groups": [
        {"key": "zone_id", "prefix": "zone", "parent_group": "{{ region_id }}_zones"},
        {"key": "region_id", "parent_group": "regions"},
        {"key": "status", "parent_group": "{{ missing }}"},
    ]}));
    assert_eq!(
        groups_of(&c, host()),
        [
            (
                "zone_cn_hangzhou_g".to_owned(),
                Some("cn_hangzhou_zones".to_owned())
            ),
            ("_cn_hangzhou".to_owned(), Some("regions".to_owned())),
        ]
    );
}

#[test]
fn magic_variables() {
    let c = compile(json!({"compose": {
        "n": "inventory_hostname",
        "s": "inventory_hostname_short",
        "g": "group_names",
    }}));
    let groups = ["zeta".to_owned(), "all".to_owned(), "alpha".to_owned()];
    let r = c.apply("web.example.com", &vars(host()), &groups).unwrap();
    assert_eq!(
        r.vars,
        [
            ("g".to_owned(), json!(["alpha", "zeta"])),
            ("n".to_owned(), json!("web.example.com")),
            ("s".to_owned(), json!("web")),
        ]
    );
    let r = c.apply("10.0.0.5", &vars(host()), &[]).unwrap();
    assert_eq!(r.vars[2], ("s".to_owned(), json!("10.0.0.5")));
}

#[test]
fn configuration_errors_name_the_entry() {
    let err = |config: Json| Constructed::from_value(&config).unwrap_err();
    let e = err(json!({"compose": {"broken": "cpu +"}}));
    assert_eq!(e.entry, "compose.broken");
    assert_eq!(err(json!({"groups": {"g": "(("}})).entry, "groups.g");
    assert_eq!(err(json!({"groups": {"g": " "}})).entry, "groups.g");
    assert_eq!(
        err(json!({"keyed_groups": ["status"]})).entry,
        "keyed_groups[0]"
    );
    assert_eq!(
        err(json!({"keyed_groups": [{"prefix": "x"}]})).entry,
        "keyed_groups[0]"
    );
    let e = err(
        json!({"keyed_groups": [{"key": "a"}, {"key": "b", "default_value": "x", "trailing_separator": true}]}),
    );
    assert_eq!(e.entry, "keyed_groups[1]");
    assert!(e.message.contains("mutually exclusive"), "{e}");
    assert_eq!(err(json!({"strict": "yes"})).entry, "strict");
    assert_eq!(err(json!({"keyed_group": []})).entry, "keyed_group");
    assert_eq!(err(json!({"compose": {"n": 5}})).entry, "compose.n");
    assert!(!e.to_string().contains('\n'));
    // null options are absent ones.
    let c = compile(json!({"plugin": "constructed", "compose": null, "strict": null}));
    assert!(!c.strict());
}

#[test]
fn filters_match_ansible() {
    let cases: &[(&str, Json)] = &[
        ("instance_name | upper", json!("WEB-01")),
        ("io_optimized | lower", json!("true")),
        // Python's str.upper()/lower(): short ASCII, long, and not ASCII.
        ("'Web-01 x' | lower", json!("web-01 x")),
        (
            "'abcdefghijklmnopqrstuvwxyz' | upper",
            json!("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        ),
        ("'ÉcOle' | lower", json!("école")),
        ("'straße' | upper", json!("STRASSE")),
        ("instance_name | replace('-', '_')", json!("web_01")),
        ("'aaa' | replace('a', 'b', 2)", json!("bba")),
        (
            "zone_id | regex_replace('^(\\w+)-(\\w+)', '\\\\2.\\\\1')",
            json!("hangzhou.cn-g"),
        ),
        (
            "zone_id | regex_replace('(?P<x>g)$', '<\\\\g<x>>')",
            json!("cn-hangzhou-<g>"),
        ),
        // Python's re.sub: a plain replacement, a count, empty matches, `\\n` read as a newline.
        ("zone_id | regex_replace('-', '_')", json!("cn_hangzhou_g")),
        (
            "zone_id | regex_replace('-', '', count=1)",
            json!("cnhangzhou-g"),
        ),
        ("'abc' | regex_replace('x*', '-')", json!("-a-b-c-")),
        ("'a1b2' | regex_replace('[0-9]', '\\\\n')", json!("a\nb\n")),
        (
            "'ecs.g6' | regex_replace('^ECS\\\\.', '', ignorecase=True)",
            json!("g6"),
        ),
        ("zone_id | regex_search('h\\\\w+')", json!("hangzhou")),
        ("zone_id | regex_search('zz')", json!(null)),
        (
            "zone_id | regex_search('(\\\\w+)-(\\\\w+)', '\\\\2')",
            json!(["hangzhou"]),
        ),
        ("'a1b22' | regex_findall('\\\\d+')", json!(["1", "22"])),
        (
            "'a1b22' | regex_findall('([a-z])(\\\\d)')",
            json!([["a", "1"], ["b", "2"]]),
        ),
        ("'a,b' | split(',')", json!(["a", "b"])),
        ("' a  b ' | split", json!(["a", "b"])),
        ("security_group_ids | join(',')", json!("sg-1,sg-2")),
        ("[1, 2] | join", json!("12")),
        ("tags_list | first", json!("b")),
        ("tags_list | last", json!("b")),
        ("ecs_tags | first", json!("Name")),
        ("tags_list | length", json!(5)),
        ("'abc' | length", json!(3)),
        ("'ab' | list", json!(["a", "b"])),
        ("tags_list | sort", json!(["A", "a", "b", "b", "c"])),
        (
            "tags_list | sort(case_sensitive=true, reverse=true)",
            json!(["c", "b", "b", "a", "A"]),
        ),
        (
            "objs | sort(attribute='k', reverse=true) | map(attribute='k') | list",
            json!(["c", "b", "a"]),
        ),
        ("tags_list | unique", json!(["b", "A", "c"])),
        (
            "tags_list | unique(case_sensitive=true)",
            json!(["b", "A", "a", "c"]),
        ),
        (
            "objs | map(attribute='v', default=0) | list",
            json!([1, 2, 0]),
        ),
        (
            "tags_list | map('upper') | list",
            json!(["B", "A", "A", "C", "B"]),
        ),
        (
            "tags_list | select('match', '[ab]') | list",
            json!(["b", "a", "b"]),
        ),
        (
            "tags_list | reject('search', 'a') | list",
            json!(["b", "A", "c", "b"]),
        ),
        (
            "objs | selectattr('v', 'defined') | map(attribute='k') | list",
            json!(["a", "b"]),
        ),
        (
            "objs | rejectattr('k', 'in', ['a', 'b']) | list",
            json!([{"k": "c"}]),
        ),
        ("{'a': 1} | dict2items", json!([{"key": "a", "value": 1}])),
        ("[{'key': 'a', 'value': 1}] | items2dict", json!({"a": 1})),
        (
            "[{'n': 'a', 'v': 1}] | items2dict(key_name='n', value_name='v')",
            json!({"a": 1}),
        ),
        ("'42' | int", json!(42)),
        ("'4.7' | int", json!(4)),
        ("'x' | int(7)", json!(7)),
        ("'0x1A' | int(0, 16)", json!(26)),
        ("'3.5' | float", json!(3.5)),
        ("'x' | float", json!(0.0)),
        ("io_optimized | string", json!("True")),
        ("nothing | string", json!("None")),
        ("security_group_ids | string", json!("['sg-1', 'sg-2']")),
        ("{'a': 1.0} | string", json!("{'a': 1.0}")),
        ("'yes' | bool", json!(true)),
        ("'Off' | bool", json!(false)),
        ("1 | bool", json!(true)),
        ("2 | bool", json!(false)),
        ("'foo' | bool", json!(false)),
        ("'  x y \\n' | trim", json!("x y")),
        ("io_optimized | ternary('y', 'n')", json!("y")),
        ("nothing | ternary('y', 'n', 'z')", json!("z")),
        (
            "{'a': 1, 'b': 2} | combine({'a': 9, 'c': 3})",
            json!({"a": 9, "b": 2, "c": 3}),
        ),
        (
            "{'a': {'b': 1}} | combine({'a': {'c': 2}})",
            json!({"a": {"c": 2}}),
        ),
        (
            "{'a': {'b': 1}} | combine({'a': {'c': 2}}, recursive=true)",
            json!({"a": {"b": 1, "c": 2}}),
        ),
        (
            "{'l': [1]} | combine({'l': [2]}, list_merge='append')",
            json!({"l": [1, 2]}),
        ),
        ("[{'a': 1}, {'b': 2}] | combine", json!({"a": 1, "b": 2})),
        ("ecs_tags.keys() | list", json!(["Name", "env", "role"])),
        ("ecs_tags.values() | list", json!(["web-01", "prod", "web"])),
        (
            "ecs_tags.items() | list",
            json!([["Name", "web-01"], ["env", "prod"], ["role", "web"]]),
        ),
        ("ecs_tags.get('x', 'd')", json!("d")),
        ("instance_name.startswith('web')", json!(true)),
        ("instance_name.endswith('01')", json!(true)),
        ("zone_id.split('-')", json!(["cn", "hangzhou", "g"])),
        ("'  x '.strip()", json!("x")),
        (
            "instance_name.upper().replace('-', '+').lower()",
            json!("web+01"),
        ),
    ];
    assert_composes(cases, &host());
}

#[test]
fn tests_match_ansible() {
    let cases: &[(&str, bool)] = &[
        ("instance_name is match('web')", true),
        ("instance_name is match('eb')", false),
        ("instance_name is search('eb')", true),
        ("instance_name is regex('WEB', ignorecase=true)", true),
        ("ecs_tags.env is defined", true),
        ("ecs_tags.nope is undefined", true),
        ("'sg-1' is in security_group_ids", true),
        ("'env' in ecs_tags", true),
        ("'sg-9' in security_group_ids", false),
        ("instance_name is string", true),
        ("cpu is string", false),
        ("cpu is number", true),
        ("io_optimized is number", true),
        ("ecs_tags is mapping", true),
        ("security_group_ids is mapping", false),
        ("security_group_ids is sequence", true),
        ("instance_name is sequence", true),
        ("ecs_tags is sequence", true),
        ("cpu is sequence", false),
    ];
    let cases: Vec<(&str, Json)> = cases.iter().map(|&(e, b)| (e, json!(b))).collect();
    assert_composes(&cases, &host());
    // A test on an undefined value fails, except defined/undefined.
    assert_eq!(compose_one("missing is string", host()), None);
}

#[test]
fn python_float_text() {
    use super::super::pystr::py_float;
    for (f, s) in [
        (1.0, "1.0"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        (-2.5e-7, "-2.5e-07"),
        (0.30000000000000004, "0.30000000000000004"),
    ] {
        assert_eq!(py_float(f), s, "{f}");
    }
}
