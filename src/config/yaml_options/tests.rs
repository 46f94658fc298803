use super::*;

fn parse(text: &str) -> Result<YamlOptions> {
    YamlOptions::parse(Path::new("a.yml"), text)
}

/// The collection's plugin (packaging/collection) documents every option this reader
/// takes, under the plugin's name or as an alias, and no option it does not take.
#[test]
fn the_collection_plugin_documents_every_option() {
    let plugin = include_str!("../../../packaging/collection/plugins/inventory/alicloud_ecs.py");
    let doc = plugin
        .split("DOCUMENTATION = r\"\"\"")
        .nth(1)
        .and_then(|d| d.split("\"\"\"").next())
        .expect("DOCUMENTATION");
    // ansible-doc and the build refuse a DOCUMENTATION that is not YAML (`: ` in a plain value).
    if let Err(e) = crate::config::values::parse_yaml(doc) {
        panic!("the plugin's DOCUMENTATION is not YAML: {e}");
    }
    let options = doc.split("\noptions:\n").nth(1).expect("options:");
    let options = options.split("\nnotes:").next().unwrap();
    let mut documented: Vec<String> = Vec::new();
    for line in options.lines() {
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
            if !name.starts_with(' ') {
                documented.push(name.to_string());
            }
        } else if let Some(list) = line.trim().strip_prefix("aliases: [") {
            let list = list.trim_end_matches(']');
            documented.extend(list.split(',').map(|a| a.trim().to_string()));
        }
    }
    let taken: Vec<&str> = ECS_OPTIONS
        .iter()
        .chain(CREDENTIAL_OPTIONS)
        .chain(PLUGIN_OPTIONS)
        .chain(IGNORED)
        .chain(ALIASES.iter().map(|(a, _)| a))
        .copied()
        .collect();
    for name in &taken {
        assert!(
            documented.iter().any(|d| d == name),
            "{name} is not documented"
        );
    }
    for name in &documented {
        assert!(
            taken.contains(&name.as_str()),
            "{name} is documented but not read"
        );
    }
}

#[test]
fn plugin_names_map_to_ini_options() {
    let y = parse(
        "plugin: alibaba.alicloud.alicloud_ecs\nregions: [cn-hangzhou, cn-beijing]\n\
         cache_timeout: 60\ncache_connection: /tmp/c\nprofile: p\n\
         filters: {instance_type: ecs.g6.large, 'tag:env': 'a,b', instance_ids: [i-1, i-2]}\n\
         alicloud_assume_role: {role_arn: 'acs:ram::1:role/x', session_expiration: 900}\n\
         nested_groups: yes\ncache_plugin: jsonfile\n",
    )
    .unwrap();
    assert_eq!(y.list("regions"), vec!["cn-hangzhou", "cn-beijing"]);
    assert_eq!(y.string("cache_max_age").as_deref(), Some("60"));
    assert_eq!(y.string("cache_path").as_deref(), Some("/tmp/c"));
    assert_eq!(y.string("alicloud_profile").as_deref(), Some("p"));
    assert!(y.boolean("nested_groups", false).unwrap());
    let f = y.filters().unwrap().include.remove(0);
    assert!(f.contains(&("InstanceType".into(), "ecs.g6.large".into())));
    assert!(f.contains(&("Tag.1.Value".into(), "a,b".into())), "{f:?}");
    assert!(f.contains(&("InstanceIds".into(), "[\"i-1\",\"i-2\"]".into())));
    let r = y.assume_role().unwrap().unwrap();
    assert_eq!(
        (r.role_arn.as_str(), r.session_expiration),
        ("acs:ram::1:role/x", 900)
    );
    assert!(y.warnings().is_empty(), "{:?}", y.warnings());
}

#[test]
fn cache_off_and_script_sanitization() {
    let y = parse(
        "plugin: alicloud_ecs\ncache: no\nuse_contrib_script_compatible_sanitization: true\n",
    )
    .unwrap();
    assert_eq!(y.string("cache_max_age").as_deref(), Some("0"));
    assert!(!y.boolean("replace_dash_in_groups", true).unwrap());
    assert!(y.boolean("ascii_group_names", false).unwrap());
}

#[test]
fn bad_files_name_file_and_line() {
    let e = parse("plugin: alicloud_ecs\ncompose:\n  a: \"x\n").unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let e = e.to_string();
    assert!(e.starts_with("a.yml:3: YAML syntax error: "), "{e}");
    let e = parse("plugin: aws_ec2\n").unwrap_err().to_string();
    assert!(
        e.starts_with("a.yml:1: option 'plugin': 'aws_ec2' is another inventory plugin"),
        "{e}"
    );
    let e = parse("regions: []\n").unwrap_err().to_string();
    assert!(e.starts_with("a.yml: no plugin option"), "{e}");
    let e = parse("plugin: alicloud_ecs\ncache_timeout: 1\ncache_max_age: 2\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("a.yml:3: 'cache_max_age' and 'cache_timeout' (line 2)"),
        "{e}"
    );
    let e = parse("plugin: alicloud_ecs\nnested_groups: {a: 1}\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("a.yml:2: option 'nested_groups': must be a single value"),
        "{e}"
    );
    let e = parse("- plugin\n").unwrap_err().to_string();
    assert!(e.starts_with("a.yml:1: YAML syntax error"), "{e}");
}

#[test]
fn accounts_are_a_yaml_list() {
    let y = parse(
        "plugin: alicloud_ecs\naccounts:\n  - alias: prod\n    role_arn: acs:ram::1234567890123456:role/r\n  - alias: team\n    profile: team\n    regions: [cn-hangzhou]\n",
    )
    .unwrap();
    let a = y.accounts().unwrap().unwrap();
    let aliases: Vec<&str> = a.iter().map(|a| a.alias.as_str()).collect();
    assert_eq!(aliases, ["prod", "team"]);
    let e = parse("plugin: alicloud_ecs\naccounts:\n  - profile: x\n")
        .unwrap()
        .accounts()
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("a.yml:2: option 'accounts': "), "{e}");
    assert!(parse("plugin: alicloud_ecs\n")
        .unwrap()
        .accounts()
        .unwrap()
        .is_none());
}

#[test]
fn unknown_options_warn_with_the_nearest_name() {
    let y = parse("plugin: alicloud_ecs\nregoins: [a]\nhostname: [x]\n").unwrap();
    let w = y.warnings();
    assert_eq!(
        w[0],
        "a.yml:2: unknown option 'regoins' ignored (did you mean 'regions'?)"
    );
    assert!(w[1].contains("did you mean 'hostnames'?"), "{}", w[1]);
}

/// The alicloud doc fragment's aliases and top-level role options were warned about and
/// ignored: the run then listed the caller's own account.
#[test]
fn the_fragments_aliases_and_role_options_are_read() {
    let y = parse(
        "plugin: alicloud_ecs\naccess_key: AK\nsecret_access_key: SK\nsecurity_token: T\n\
         region_id: cn-beijing\nrole_name: r\nprotocol: HTTPS\n\
         alicloud_assume_role_arn: 'acs:ram::1:role/x'\nassume_role_session_name: s\n\
         alicloud_assume_role_session_expiration: 900\n",
    )
    .unwrap();
    assert!(y.warnings().is_empty(), "{:?}", y.warnings());
    assert_eq!(y.string("alicloud_access_key").as_deref(), Some("AK"));
    assert_eq!(y.string("alicloud_secret_key").as_deref(), Some("SK"));
    assert_eq!(y.string("alicloud_security_token").as_deref(), Some("T"));
    assert_eq!(y.string("alicloud_region").as_deref(), Some("cn-beijing"));
    assert_eq!(y.string("alicloud_ecs_role_name").as_deref(), Some("r"));
    let r = y.assume_role().unwrap().unwrap();
    assert_eq!(
        (
            r.role_arn.as_str(),
            r.session_name.as_str(),
            r.session_expiration
        ),
        ("acs:ram::1:role/x", "s", 900)
    );
    // The block and a top-level part together; the same part twice is refused.
    let y = parse(
        "plugin: alicloud_ecs\nalicloud_assume_role: {role_arn: a}\nassume_role_session_name: s\n",
    )
    .unwrap();
    assert_eq!(y.assume_role().unwrap().unwrap().session_name, "s");
    let e =
        parse("plugin: alicloud_ecs\nalicloud_assume_role: {role_arn: a}\nassume_role_arn: b\n")
            .unwrap()
            .assume_role()
            .unwrap_err()
            .to_string();
    assert_eq!(
        e,
        "a.yml:3: option 'assume_role_arn': role_arn is also set in alicloud_assume_role; keep one"
    );
    // The block's keys under the fragment's names.
    let y = parse(
        "plugin: alicloud_ecs\nassume_role: {alicloud_assume_role_arn: a, alicloud_assume_role_session_expiration: 1000}\n",
    )
    .unwrap();
    assert_eq!(y.assume_role().unwrap().unwrap().session_expiration, 1000);
    let e = parse("plugin: alicloud_ecs\nalicloud_protocol: http\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("a.yml:2: option 'alicloud_protocol': only https is used here"),
        "{e}"
    );
}

/// aws_ec2's options that mean nothing for ECS are refused when set, with why.
#[test]
fn aws_options_without_an_ecs_meaning_are_refused() {
    let e = parse("plugin: alicloud_ecs\nallow_duplicated_hosts: true\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "a.yml:2: option 'allow_duplicated_hosts': is not supported here: one host per instance here; name hosts uniquely with hostnames"
    );
    assert!(
        parse("plugin: alicloud_ecs\nallow_duplicated_hosts: no\nuse_ssm_inventory: false\n")
            .unwrap()
            .warnings()
            .is_empty()
    );
    let e = parse("plugin: alicloud_ecs\niam_role_arn: arn:aws:iam::1:role/x\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("is not supported here: an AWS role"), "{e}");
}

#[test]
fn debug_names_the_file_only() {
    let y = parse("plugin: alicloud_ecs\nalicloud_secret_key: hunter22\n").unwrap();
    assert_eq!(format!("{y:?}"), "YamlOptions { path: \"a.yml\", .. }");
}

#[test]
fn a_far_typo_of_a_long_name_is_matched_and_a_short_one_is_not() {
    // Four letters wrong in a 20-letter name: more than 3, within a third.
    let y = parse("plugin: alicloud_ecs\ndxstxnation_vxrixble: x\nzzzzzzzz: 1\n").unwrap();
    assert_eq!(
        y.warnings(),
        [
            "a.yml:2: unknown option 'dxstxnation_vxrixble' ignored (did you mean 'destination_variable'?)",
            "a.yml:3: unknown option 'zzzzzzzz' ignored",
        ]
    );
}

#[test]
fn a_list_only_goes_where_a_list_belongs() {
    let e = |text: &str| {
        parse(&format!("plugin: alicloud_ecs\n{text}\n"))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        e("nested_groups: [a]"),
        "a.yml:2: option 'nested_groups': must be a single value, not a list"
    );
    assert_eq!(
        e("compose: [a]"),
        "a.yml:2: option 'compose': must be a mapping, not a list"
    );
    // Items nested in a list were dropped, and the option read as unset (every region).
    for nested in [
        "regions: [[cn-beijing]]",
        "regions_exclude: [cn-hangzhou, [cn-beijing]]",
        "instance_states: [[stopped]]",
        "hostvars: [{a: b}]",
    ] {
        let msg = e(nested);
        assert!(
            msg.ends_with(
                "holds a list or mapping inside the list; write a flat list such as [a, b]"
            ),
            "{nested}: {msg}"
        );
    }
}

#[test]
fn assume_role_as_a_mapping_or_as_the_inis_text() {
    let role = |text: &str| {
        parse(&format!("plugin: alicloud_ecs\n{text}\n"))
            .unwrap()
            .assume_role()
    };
    let r = role("alicloud_assume_role: {role_arn: 'acs:ram::1:role/x', policy: {Version: '1'}}")
        .unwrap()
        .unwrap();
    assert_eq!(r.role_arn, "acs:ram::1:role/x");
    assert_eq!(r.session_expiration, 3600);
    assert_eq!(r.policy.as_deref(), Some(r#"{"Version":"1"}"#));
    let r = role("alicloud_assume_role: {role_arn: r, policy: '{\"a\": 1}'}")
        .unwrap()
        .unwrap();
    assert_eq!(r.policy.as_deref(), Some(r#"{"a": 1}"#));
    let r = role("alicloud_assume_role: {role_arn: r, policy: ''}")
        .unwrap()
        .unwrap();
    assert_eq!(r.policy, None);
    // Only the policy may be a mapping.
    assert_eq!(
        role("alicloud_assume_role: {role_arn: {a: 1}}")
            .unwrap_err()
            .to_string(),
        "a.yml:2: option 'alicloud_assume_role': role_arn must be a single value"
    );
    let r = role("alicloud_assume_role: '{role_arn: acs:ram::1:role/y}'")
        .unwrap()
        .unwrap();
    assert_eq!(r.role_arn, "acs:ram::1:role/y");
    assert_eq!(role("alicloud_assume_role: ''").unwrap(), None);
}

#[test]
fn settings_read_from_yaml_keep_their_structure() {
    use crate::config::{Env, Hostname, Settings};
    let y = parse(
        "plugin: alicloud_ecs\ncompose: {a: b}\nhostnames: [instance_name, 'tag:Name']\n\
         destination_format_tags: ['a,b', \"'q'\"]\naccounts: '[{alias: a}]'\n",
    )
    .unwrap();
    assert_eq!(
        y.value("compose").unwrap(),
        Some(serde_json::json!({"a": "b"}))
    );
    assert_eq!(y.value("groups").unwrap(), None);
    let s = Settings::from_options(&y, y.warnings(), &Env::default()).unwrap();
    assert_eq!(s.source.as_deref(), Some(Path::new("a.yml")));
    assert!(s.constructed.is_some());
    assert_eq!(
        s.hostnames,
        [
            Hostname::Var("instance_name".into()),
            Hostname::Tags(vec![("Name".into(), None)])
        ]
    );
    // List items are taken whole: no splitting at commas, no quotes stripped.
    assert_eq!(s.destination_format_tags, ["a,b", "'q'"]);
    // accounts as text is read as the ini's flow list; blank text is no accounts.
    assert_eq!(s.accounts.unwrap()[0].alias, "a");
    let y = parse("plugin: alicloud_ecs\naccounts: ' '\n").unwrap();
    assert_eq!(y.accounts().unwrap(), None);
}
