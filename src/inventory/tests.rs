use super::*;
use crate::config::Env;
use crate::hostvars::HostvarOptions;
use serde_json::json;

fn settings() -> Settings {
    Settings::from_ini(None, &Env::default()).unwrap()
}

fn inst(id: &str, name: &str, tags: &[(&str, &str)], s: &Settings) -> Instance {
    decode(raw(id, name, tags), s)
}

/// The instance as a fetch decodes it, the constructed step included.
fn decode(raw: serde_json::Value, s: &Settings) -> Instance {
    let opts = HostvarOptions::from_settings(s);
    Instance::from_api_shaped(raw, &opts, Some(&mut Shaper::new(s))).unwrap()
}

fn raw(id: &str, name: &str, tags: &[(&str, &str)]) -> serde_json::Value {
    let tags: Vec<_> = tags
        .iter()
        .map(|(k, v)| json!({"TagKey": k, "TagValue": v}))
        .collect();
    json!({
        "InstanceId": id, "RegionId": "cn-hangzhou", "ZoneId": "cn-hangzhou-g", "Status": "Running",
        "ImageId": "m-bp1", "InstanceType": "ecs.g6.large", "InstanceName": name,
        "VpcAttributes": {"VpcId": "vpc-1", "VSwitchId": "vsw-1", "PrivateIpAddress": {"IpAddress": ["10.0.0.1"]}},
        "PublicIpAddress": {"IpAddress": ["47.0.0.1"]},
        "SecurityGroupIds": {"SecurityGroupId": ["sg-1"]},
        "Tags": {"Tag": tags}
    })
}

fn hosts_of(inv: &Inventory, group: &str) -> Vec<String> {
    inv.groups[group]
        .hosts
        .iter()
        .map(|&i| inv.hosts[i as usize].name.clone())
        .collect()
}

#[test]
fn sanitizing_keeps_unicode_letters_and_maps_the_rest() {
    let n = Namer {
        replace_dash: true,
        ascii_only: false,
    };
    assert_eq!(n.sanitize("cn-hangzhou"), "cn_hangzhou");
    assert_eq!(n.sanitize("tag_env=prod"), "tag_env_prod");
    assert_eq!(n.sanitize("a b:c.d"), "a_b_c_d");
    assert_eq!(n.sanitize("tag_env_生产"), "tag_env_生产");
    assert_eq!(n.sanitize("é½²"), "é__", "No-category digits are not kept");
    assert_eq!(n.group("1web"), "_1web");
    assert_eq!(n.group("٣x"), "_٣x", "a Unicode decimal digit also leads");
    let ascii = Namer {
        replace_dash: false,
        ascii_only: true,
    };
    assert_eq!(ascii.sanitize("tag_env_生产-x"), "tag_env___-x");
}

/// Names kept from earlier hosts are the names a host alone gets, whatever the split of
/// their parts (`tag_` `a_b` and `tag_a` `_b`), characters and leading digits.
#[test]
fn group_names_kept_between_hosts_are_those_made_afresh() {
    let s = settings();
    let namer = Namer::from_settings(&s);
    let tag_sets: [&[(&str, &str)]; 5] = [
        &[("a_b", "x"), ("env", "prod")],
        &[("a", "b_x"), ("env", "生产-1")],
        &[("1st", "9"), ("a_b", "")],
        &[("env", "prod"), ("a_b", "x"), ("tier", "prod")],
        &[("é½²", "v w"), ("a", "b_x")],
    ];
    let mut kept = Memberships::default();
    let names = |m: &Memberships| -> Vec<(String, Option<String>, bool)> {
        m.list
            .iter()
            .map(|x| {
                let parent = x.parent.map(|p| m.name(p).to_string());
                (m.name(x.group).to_string(), parent, x.holds_host)
            })
            .collect()
    };
    for round in 0..2 {
        for (n, tags) in tag_sets.iter().enumerate() {
            let i = inst(&format!("i-{n}"), "web", tags, &s);
            let mut fresh = Memberships::default();
            fresh.of_host(&i, &s, &namer, "web");
            kept.of_host(&i, &s, &namer, "web");
            assert!(!fresh.list.is_empty());
            assert_eq!(names(&kept), names(&fresh), "round {round}, host {n}");
            if n == 3 {
                let groups: Vec<_> = names(&kept).into_iter().map(|x| x.0).collect();
                for g in [
                    "tag_env_prod",
                    "tag_tier_prod",
                    "tag_a_b_x",
                    "type_ecs_g6_large",
                ] {
                    assert!(groups.iter().any(|x| x == g), "{g} in {groups:?}");
                }
            }
        }
    }
    assert!(kept.made.len() > 10, "names were kept: {}", kept.made.len());
    assert!(
        !kept.made.values().any(|n| n.starts_with("i_")),
        "instance ids are not kept"
    );
}

#[test]
fn default_groups_and_no_group_named_like_its_host() {
    let s = settings();
    let inv = build(
        vec![
            inst("i-b", "b", &[("env", "prod"), ("empty", "")], &s),
            inst("i-a", "a", &[], &s),
        ],
        &s,
    );
    let names: Vec<_> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, vec!["i_a", "i_b"]);
    assert!(!inv.groups.contains_key("i_a") && !inv.groups.contains_key("i_b"));
    for g in [
        "cn_hangzhou",
        "cn_hangzhou_g",
        "m_bp1",
        "type_ecs_g6_large",
        "vpc_id_vpc_1",
        "subnet_vsw_1",
        "security_group_sg_1",
    ] {
        assert_eq!(hosts_of(&inv, g), vec!["i_a", "i_b"], "{g}");
    }
    assert_eq!(hosts_of(&inv, "tag_env_prod"), vec!["i_b"]);
    assert_eq!(hosts_of(&inv, "tag_empty"), vec!["i_b"]);
    assert_eq!(hosts_of(&inv, "tag_none"), vec!["i_a"]);
    assert!(
        !inv.groups.contains_key("tag_env"),
        "no key group without nesting"
    );
    assert!(inv.warnings.is_empty());
}

#[test]
fn duplicate_names_both_stay_with_a_warning() {
    let mut s = settings();
    s.hostname_variable = "tag_Name".into();
    let inv = build(
        vec![
            inst("i-1", "", &[("Name", "web")], &s),
            inst("i-2", "", &[("Name", "web")], &s),
            inst("i-3", "", &[], &s),
        ],
        &s,
    );
    let names: Vec<_> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["47.0.0.1", "web_i_1", "web_i_2"],
        "no Name tag falls back to the address"
    );
    assert_eq!(inv.warnings.len(), 1);
    assert!(
        inv.warnings[0].contains("'web' is shared"),
        "{}",
        inv.warnings[0]
    );
}

#[test]
fn host_is_found_by_its_final_name_only() {
    let mut s = settings();
    s.hostname_variable = "tag_Name".into();
    let inv = build(
        vec![
            inst("i-2", "", &[("Name", "web")], &s),
            inst("i-1", "", &[("Name", "web")], &s),
            inst("i-3", "", &[], &s),
        ],
        &s,
    );
    for (name, id) in [("web_i_1", "i-1"), ("web_i_2", "i-2"), ("47.0.0.1", "i-3")] {
        let vars: serde_json::Value =
            serde_json::from_str(&inv.host(name).expect(name).hostvars).unwrap();
        assert_eq!(vars["id"], id, "{name}");
    }
    assert!(inv.host("web").is_none(), "the clashing name is no host");
    assert!(inv.host("i_3").is_none() && inv.host("").is_none());
}

#[test]
fn a_new_name_is_never_one_already_taken() {
    let mut s = settings();
    s.hostname_variable = "tag_Name".into();
    let inv = build(
        vec![
            inst("i-1", "", &[("Name", "web")], &s),
            inst("i-2", "", &[("Name", "web")], &s),
            inst("i-3", "", &[("Name", "web_i_1")], &s),
        ],
        &s,
    );
    let names: Vec<_> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, vec!["web_i_1", "web_i_1_2", "web_i_2"]);
    assert!(
        inv.warnings[0].contains("keeping every instance as web_i_1_2, web_i_2"),
        "{:?}",
        inv.warnings
    );
}

#[test]
fn host_named_like_a_group_is_renamed() {
    let mut s = settings();
    s.hostname_variable = "tag_Name".into();
    let inv = build(vec![inst("i-1", "", &[("Name", "cn-hangzhou")], &s)], &s);
    assert_eq!(inv.hosts[0].name, "cn_hangzhou_i_1");
    assert!(inv.warnings[0].contains("also a group name"));
}

#[test]
fn nested_groups_and_csv_tags() {
    let mut s = settings();
    s.nested_groups = true;
    s.expand_csv_tags = true;
    let inv = build(vec![inst("i-1", "", &[("svc", "a, b")], &s)], &s);
    assert_eq!(hosts_of(&inv, "tag_svc_a"), vec!["i_1"]);
    assert_eq!(hosts_of(&inv, "tag_svc_b"), vec!["i_1"]);
    let children = |g: &str| inv.groups[g].children.iter().cloned().collect::<Vec<_>>();
    assert_eq!(children("tag_svc"), vec!["tag_svc_a", "tag_svc_b"]);
    assert!(inv.groups["tag_svc"].hosts.is_empty());
    assert_eq!(children("tags"), vec!["tag_svc"]);
    assert_eq!(children("regions"), vec!["cn_hangzhou"]);
    assert_eq!(children("cn_hangzhou"), vec!["cn_hangzhou_g"]);
    assert_eq!(children("zones"), vec!["cn_hangzhou_g"]);
    assert!(
        !inv.groups.contains_key("instances"),
        "its only child is named like the host"
    );
}

#[test]
fn account_groups_and_one_id_in_two_accounts() {
    let mut s = settings();
    s.group_by.account = true;
    s.nested_groups = true;
    let in_account = |alias: &str| {
        let mut opts = HostvarOptions::from_settings(&s);
        opts.account = Some(crate::hostvars::AccountVars {
            alias: alias.into(),
            id: format!("id-{alias}"),
        });
        let raw = json!({"InstanceId": "i-1", "RegionId": "cn-hangzhou", "Status": "Running",
            "PublicIpAddress": {"IpAddress": ["47.0.0.1"]}});
        Instance::from_api(raw, &opts).unwrap()
    };
    // Whatever order they arrive in, the same instance listed under two aliases gets the
    // same names.
    for order in [["prod", "dev-1"], ["dev-1", "prod"]] {
        let inv = build(order.iter().map(|a| in_account(a)).collect(), &s);
        assert_eq!(hosts_of(&inv, "account_dev_1"), vec!["i_1_i_1"]);
        assert_eq!(hosts_of(&inv, "account_prod"), vec!["i_1_i_1_2"]);
        let children: Vec<_> = inv.groups["accounts"].children.iter().collect();
        assert_eq!(children, ["account_dev_1", "account_prod"]);
        let vars: serde_json::Value =
            serde_json::from_str(&inv.host("i_1_i_1_2").unwrap().hostvars).unwrap();
        assert_eq!(
            (vars["account_alias"].as_str(), vars["account_id"].as_str()),
            (Some("prod"), Some("id-prod"))
        );
    }
    let one = in_account("prod");
    s.group_by.account = false;
    let inv = build(vec![one], &s);
    assert!(
        inv.groups.keys().all(|g| !g.starts_with("account")),
        "{:?}",
        inv.groups.keys()
    );
}

#[test]
fn patterns_match_at_the_start() {
    let mut s = settings();
    s.pattern_include = Some(crate::config::parse_pattern("i_[ab]").unwrap());
    s.pattern_exclude = Some(crate::config::parse_pattern("b").unwrap());
    let inv = build(
        vec![
            inst("i-a", "", &[], &s),
            inst("i-b", "", &[], &s),
            inst("x-i-a", "", &[], &s),
        ],
        &s,
    );
    let names: Vec<_> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, vec!["i_a", "i_b"]);
    assert_eq!(inv.filtered_out, 1);
}

#[test]
fn hostile_names_stay_valid_and_apart() {
    let mut s = settings();
    s.hostname_variable = "tag_Name".into();
    let long = "x".repeat(10_000);
    let inv = build(
        vec![
            // Punctuation only: a name of underscores, still a valid, distinct host.
            inst(
                "i-1",
                "",
                &[("Name", "!!!"), ("a.b", "c"), ("a-b", "c")],
                &s,
            ),
            // An empty Name falls back to the address.
            inst("i-2", "", &[("Name", ""), (long.as_str(), "生产 ☃")], &s),
            inst("i-3", "", &[("Name", "\u{0}\n\t"), ("😀", "")], &s),
        ],
        &s,
    );
    let names: Vec<_> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
    // "!!!" and "\0\n\t" both become "___": kept apart by their ids, with a warning.
    assert_eq!(names, vec!["47.0.0.1", "____i_1", "____i_3"]);
    assert_eq!(inv.warnings.len(), 1);
    // "a.b" and "a-b" sanitize to one group, which holds the host once.
    assert_eq!(hosts_of(&inv, "tag_a_b_c").len(), 1);
    assert!(inv.groups.contains_key(&format!("tag_{long}_生产__")));
    assert!(
        inv.groups.contains_key("tag__"),
        "an emoji key is replaced, not dropped"
    );
    for g in inv.groups.keys() {
        assert!(
            !g.is_empty() && g.chars().all(|c| c == '_' || c.is_alphanumeric()),
            "{g:?}"
        );
    }
    let mut seen = std::collections::HashSet::new();
    assert!(
        names.iter().all(|n| seen.insert(*n)),
        "names are unique: {names:?}"
    );
}

#[test]
fn zones_nest_under_regions_only_when_both_switches_are_on() {
    let mut s = settings();
    s.nested_groups = true;
    s.group_by.region = false;
    let inv = build(vec![inst("i-1", "", &[], &s)], &s);
    assert!(!inv.groups.contains_key("cn_hangzhou"), "no region group");
    assert_eq!(hosts_of(&inv, "cn_hangzhou_g"), vec!["i_1"]);
    let mut s = settings();
    s.group_by.availability_zone = false;
    for nested in [false, true] {
        s.nested_groups = nested;
        let inv = build(vec![inst("i-1", "", &[], &s)], &s);
        assert!(
            !inv.groups.contains_key("cn_hangzhou_g"),
            "nested: {nested}"
        );
        assert_eq!(hosts_of(&inv, "cn_hangzhou"), vec!["i_1"]);
        assert!(inv.groups["cn_hangzhou"].children.is_empty());
    }
}

#[test]
fn comma_values_are_split_only_when_asked_and_tag_none_needs_both_switches() {
    let mut s = settings();
    let inv = build(
        vec![
            inst("i-1", "", &[("svc", "a, b")], &s),
            inst("i-2", "", &[], &s),
        ],
        &s,
    );
    assert_eq!(hosts_of(&inv, "tag_svc_a__b"), vec!["i_1"]);
    assert!(!inv.groups.contains_key("tag_svc_a"));
    assert_eq!(hosts_of(&inv, "tag_none"), vec!["i_2"]);
    for off in ["tag_keys", "tag_none"] {
        s = settings();
        match off {
            "tag_keys" => s.group_by.tag_keys = false,
            _ => s.group_by.tag_none = false,
        }
        let inv = build(
            vec![
                inst("i-1", "", &[("svc", "a")], &s),
                inst("i-2", "", &[], &s),
            ],
            &s,
        );
        assert!(!inv.groups.contains_key("tag_none"), "{off} off");
        assert_eq!(inv.groups.contains_key("tag_svc_a"), off == "tag_none");
    }
}

#[test]
fn instances_without_an_address_are_counted_and_left_out() {
    let s = settings();
    let none = |id: &str| {
        let mut i = inst(id, "", &[], &s);
        i.address.clear();
        i
    };
    let inv = build(vec![none("i-1"), inst("i-2", "", &[], &s), none("i-3")], &s);
    assert_eq!(inv.without_address, 2);
    let names: Vec<_> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, vec!["i_2"]);
    assert_eq!(inv.filtered_out, 0);
}

#[test]
fn the_suffix_counts_up_past_every_taken_name() {
    let mut s = settings();
    s.hostname_variable = "tag_Name".into();
    let inv = build(
        vec![
            inst("i-1", "", &[("Name", "web")], &s),
            inst("i-2", "", &[("Name", "web")], &s),
            inst("i-3", "", &[("Name", "web_i_1")], &s),
            inst("i-4", "", &[("Name", "web_i_1_2")], &s),
            inst("i-5", "", &[("Name", "web_i_1_3")], &s),
        ],
        &s,
    );
    let names: Vec<_> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["web_i_1", "web_i_1_2", "web_i_1_3", "web_i_1_4", "web_i_2"]
    );
    let vars: serde_json::Value =
        serde_json::from_str(&inv.host("web_i_1_4").unwrap().hostvars).unwrap();
    assert_eq!(vars["id"], "i-1");
}

/// Settings from `[ecs]` lines, for the constructed options.
fn with(lines: &str) -> Settings {
    let ini =
        crate::config::ini::Ini::parse(std::path::Path::new("a.ini"), &format!("[ecs]\n{lines}\n"))
            .unwrap();
    Settings::from_ini(Some(&ini), &Env::default()).unwrap()
}

fn vars_of(inv: &Inventory, host: &str) -> serde_json::Value {
    serde_json::from_str(&inv.host(host).expect(host).hostvars).unwrap()
}

/// Keyed group names outlive their page for the next page of the same configuration on
/// the thread (the very names are shared), and never serve another configuration.
#[test]
fn keyed_group_names_are_kept_for_the_next_page_of_their_configuration_only() {
    let a = with("keyed_groups = [{key: zone_id, prefix: a}]");
    let b = with("keyed_groups = [{key: zone_id, prefix: b}]");
    let page = |s: &Settings| {
        let body =
            json!({"TotalCount": 1, "Instances": {"Instance": [raw("i-1", "", &[])]}}).to_string();
        let opts = HostvarOptions::from_settings(s);
        let (_, mut list) = crate::fetch::parse_page_shaped(
            200,
            body.as_bytes(),
            &opts,
            Some(&Shapers(Arc::new(s.clone()))),
        )
        .unwrap();
        list.remove(0).constructed.remove(0).group
    };
    let (first, second) = (page(&a), page(&a));
    assert_eq!(&*first, "a_cn_hangzhou_g");
    assert!(Arc::ptr_eq(&first, &second), "kept for the next page");
    assert_eq!(&*page(&b), "b_cn_hangzhou_g");
    let after = page(&a);
    assert_eq!(&*after, "a_cn_hangzhou_g");
    assert!(
        !Arc::ptr_eq(&first, &after),
        "another configuration came between"
    );
}

/// A page resolves the keys of the variables the entries read once: a variable that only a
/// later instance of the page has is still read for it, and each host gets its own.
#[test]
fn a_variable_only_later_instances_of_a_page_have_is_read_for_them() {
    let s = with("compose = {sn: serial_number, kp: key_pair_name | upper}");
    let instance = |id: &str, extra: serde_json::Value| {
        let mut raw = raw(id, "", &[]);
        raw.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        raw
    };
    let body = json!({"TotalCount": 3, "Instances": {"Instance": [
        instance("i-1", json!({})),
        instance("i-2", json!({"SerialNumber": "sn-2", "KeyPairName": "k2"})),
        instance("i-3", json!({"SerialNumber": "sn-3", "KeyPairName": "k3"})),
    ]}})
    .to_string();
    let opts = HostvarOptions::from_settings(&s);
    let (_, list) = crate::fetch::parse_page_shaped(
        200,
        body.as_bytes(),
        &opts,
        Some(&Shapers(Arc::new(s.clone()))),
    )
    .unwrap();
    let inv = build(list, &s);
    let mut got: Vec<_> = inv
        .hosts
        .iter()
        .map(|h| {
            let v: serde_json::Value = serde_json::from_str(&h.hostvars).unwrap();
            (v["id"].clone(), v.get("sn").cloned(), v.get("kp").cloned())
        })
        .collect();
    got.sort_by_key(|(id, _, _)| id.to_string());
    assert_eq!(
        got,
        vec![
            (json!("i-1"), None, None),
            (json!("i-2"), Some(json!("sn-2")), Some(json!("K2"))),
            (json!("i-3"), Some(json!("sn-3")), Some(json!("K3")))
        ]
    );
}

#[test]
fn group_names_are_the_default_groups_the_host_is_in() {
    let s = with("compose = {g: group_names}");
    let inv = build(
        vec![inst("i-a", "", &[("env", "prod"), ("empty", "")], &s)],
        &s,
    );
    // Not its own instance-id group (the host is named like it), nor the tag key group
    // that exists only under nesting.
    assert_eq!(
        vars_of(&inv, "i_a")["g"],
        json!([
            "alicloud",
            "cn_hangzhou",
            "cn_hangzhou_g",
            "m_bp1",
            "security_group_sg_1",
            "subnet_vsw_1",
            "tag_empty",
            "tag_env_prod",
            "type_ecs_g6_large",
            "vpc_id_vpc_1"
        ])
    );
    // Named otherwise, the host is in its instance-id group; nested, in every ancestor.
    let s = with("compose = {g: group_names}\nnested_groups = True\nhostname_variable = tag_Name");
    let inv = build(
        vec![inst("i-a", "", &[("Name", "web"), ("env", "prod")], &s)],
        &s,
    );
    assert_eq!(
        vars_of(&inv, "web")["g"],
        json!([
            "alicloud",
            "cn_hangzhou",
            "cn_hangzhou_g",
            "i_a",
            "images",
            "instances",
            "m_bp1",
            "regions",
            "security_group_sg_1",
            "security_groups",
            "subnet_vsw_1",
            "subnets",
            "tag_Name",
            "tag_Name_web",
            "tag_env",
            "tag_env_prod",
            "tags",
            "type_ecs_g6_large",
            "types",
            "vpc_id_vpc_1",
            "vpcs",
            "zones"
        ])
    );
}

#[test]
fn the_shaper_shapes_only_the_hosts_the_builder_keeps() {
    let s = with("compose = {g: group_names}\npattern_exclude = i_b");
    let mut without = raw("i-a", "", &[]);
    without["VpcAttributes"]["PrivateIpAddress"]["IpAddress"] = json!([]);
    without["PublicIpAddress"]["IpAddress"] = json!([]);
    let no_address = decode(without, &s);
    let excluded = inst("i-b", "", &[], &s);
    let kept = inst("i-c", "", &[], &s);
    assert_eq!(no_address.address, "");
    assert_eq!(&*no_address.hostvars, "");
    assert_eq!(&*excluded.hostvars, "");
    assert!(
        kept.hostvars.contains(r#""g":["alicloud","#),
        "{}",
        kept.hostvars
    );
    let inv = build(vec![kept], &s);
    assert_eq!(vars_of(&inv, "i_c")["g"][0], "alicloud");
}

#[test]
fn a_strict_failure_is_the_one_of_the_host_first_by_name() {
    let s = with("compose = {x: nope.y}\nstrict = True");
    for order in [["i-b", "i-a", "i-c"], ["i-a", "i-c", "i-b"]] {
        let mut b = Builder::new(&s);
        for id in order {
            b.add(inst(id, "", &[], &s));
        }
        let e = b.take_error().expect("a strict failure");
        assert_eq!(e.host, "i_a", "{order:?}");
        assert!(b.take_error().is_none(), "taken once");
        assert!(b.finish().hosts.is_empty(), "no failing host is built");
    }
}

#[test]
fn of_two_failing_hosts_with_one_name_the_lower_instance_id_is_reported() {
    let s = with(
        "hostname_variable = instance_name\ncompose = {x: ecs_tags.k1, z: ecs_tags.k2}\nstrict = True",
    );
    for order in [["i-a", "i-b"], ["i-b", "i-a"]] {
        let mut b = Builder::new(&s);
        for id in order {
            // i-a lacks k1 (fails on x), i-b lacks k2 (fails on z).
            let tag = if id == "i-a" {
                ("k2", "v")
            } else {
                ("k1", "v")
            };
            b.add(inst(id, "web", &[tag], &s));
        }
        let e = b.take_error().expect("a strict failure");
        assert_eq!(
            (e.host.as_str(), e.entry.as_str()),
            ("web", "compose.x"),
            "{order:?}"
        );
    }
    // One id listed in two accounts, failing on different entries: the entry decides.
    for tags in [[("k2", "v"), ("k1", "v")], [("k1", "v"), ("k2", "v")]] {
        let mut b = Builder::new(&s);
        for tag in tags {
            b.add(inst("i-a", "web", &[tag], &s));
        }
        let e = b.take_error().expect("a strict failure");
        assert_eq!(e.entry, "compose.x", "{tags:?}");
    }
}
