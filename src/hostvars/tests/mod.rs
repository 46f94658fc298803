//! The hostvars' tests: unit tests of the conversion, the in-place decoder against the
//! tree-based oracle (`against_oracle`), and the oracle itself.

mod against_oracle;
pub(crate) mod oracle;

use super::*;
use serde_json::json;

fn opts() -> HostvarOptions {
    HostvarOptions {
        destination_variables: vec!["public_ip_address".into()],
        destination_format: String::new(),
        destination_format_tags: vec![],
        hostname_variable: "instance_id".into(),
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

fn sample() -> Value {
    json!({
        "InstanceId": "i-bp1", "RegionId": "cn-hangzhou", "ZoneId": "cn-hangzhou-g",
        "Status": "Running", "OSName": "CentOS", "GPUAmount": 1, "GPUSpec": "NVIDIA T4",
        "VpcAttributes": {"VpcId": "vpc-1", "VSwitchId": "vsw-1",
                          "PrivateIpAddress": {"IpAddress": ["172.16.0.1"]}, "NatIpAddress": ""},
        "PublicIpAddress": {"IpAddress": []},
        "EipAddress": {"AllocationId": "eip-1", "IpAddress": "47.1.1.1", "InternetChargeType": "PayByTraffic"},
        "SecurityGroupIds": {"SecurityGroupId": ["sg-1", "sg-2"]},
        "Tags": {"Tag": [{"TagKey": "Name", "TagValue": "Web 1"}, {"TagKey": "env", "TagValue": ""}]},
        "NetworkInterfaces": {"NetworkInterface": [{"MacAddress": "00:16", "PrimaryIpAddress": "172.16.0.1"}]},
        "SpotStrategy": "NoSpot", "InternetMaxBandwidthIn": 100
    })
}

#[test]
fn hostvars_have_the_python_keys_and_every_field() {
    let i = Instance::from_api(sample(), &opts()).unwrap();
    let v: Value = serde_json::from_str(&i.hostvars).unwrap();
    assert_eq!(v["id"], "i-bp1");
    assert_eq!(v["state"], "running");
    assert_eq!(v["availability_zone"], "cn-hangzhou-g");
    assert_eq!(v["private_ip_address"], "172.16.0.1");
    assert_eq!(v["public_ip_address"], "47.1.1.1", "falls back to the EIP");
    assert_eq!(v["ansible_host"], "47.1.1.1");
    assert_eq!(v["ansible_ssh_host"], "47.1.1.1");
    assert_eq!(v["eip"]["allocation_id"], "eip-1");
    assert_eq!(
        v["gpu"],
        json!({"amount": 1, "spec": "NVIDIA T4", "specification": "NVIDIA T4"})
    );
    assert_eq!(v["security_group_ids"], json!(["sg-1", "sg-2"]));
    assert_eq!(v["network_interfaces"][0]["mac_address"], "00:16");
    assert_eq!(
        v["vpc_attributes"]["private_ip_address"],
        json!({"ip_address": ["172.16.0.1"]})
    );
    assert_eq!(v["status"], "running", "footmark lower-cases it");
    // Python's str.lower(), beyond ASCII too.
    let mut odd = sample();
    odd["Status"] = json!("ÜBER-İ");
    let i = Instance::from_api(odd, &opts()).unwrap();
    assert_eq!(i.state, "über-i\u{307}");
    assert_eq!(v["osname"], "CentOS");
    assert_eq!(v["spot_strategy"], "NoSpot", "fields footmark drops stay");
    assert_eq!(v["internet_max_bandwidth_in"], 100);
    assert_eq!(v["ecs_tags"], json!({"Name": "Web 1", "env": ""}));
    assert!(v.get("tags").is_none(), "tags is a reserved name");
    assert_eq!(i.hostname_source, "i-bp1");
    assert_eq!(i.security_groups, vec!["sg-1", "sg-2"]);
}

#[test]
fn destination_preference_format_and_hostname_variable() {
    let mut o = opts();
    o.destination_variables = vec!["private_ip_address".into(), "public_ip_address".into()];
    o.hostname_variable = "tag_Name".into();
    o.legacy_tags_hostvar = true;
    let i = Instance::from_api(sample(), &o).unwrap();
    assert_eq!(i.address, "172.16.0.1");
    assert_eq!(i.hostname_source, "Web 1");
    let v: Value = serde_json::from_str(&i.hostvars).unwrap();
    assert_eq!(v["tags"]["Name"], "Web 1");
    o.destination_format = "{0}.example.com".into();
    o.destination_format_tags = vec!["Name".into()];
    assert_eq!(
        Instance::from_api(sample(), &o).unwrap().address,
        "Web 1.example.com"
    );
    o.hostname_variable = String::new();
    let i = Instance::from_api(sample(), &o).unwrap();
    assert_eq!(i.hostname_source, i.address);
}

#[test]
fn no_address_and_no_id() {
    let mut raw = sample();
    raw["EipAddress"] = json!({"AllocationId": "", "IpAddress": "", "InternetChargeType": ""});
    assert_eq!(Instance::from_api(raw, &opts()).unwrap().address, "");
    assert!(Instance::from_api(json!({"Status": "Running"}), &opts()).is_err());
}

/// The instances of fixtures/fleet_full.json (every field of the API reference at least
/// once), converted, by instance id.
fn full_fleet() -> std::collections::BTreeMap<String, Value> {
    let fleet: Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/fleet_full.json"
    )))
    .expect("fleet");
    let mut o = opts();
    o.destination_variables = vec!["public_ip_address".into(), "private_ip_address".into()];
    fleet["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|raw| {
            let i = Instance::from_api(raw.clone(), &o).expect("converts");
            (
                i.id.to_string(),
                serde_json::from_str(&i.hostvars).expect("JSON"),
            )
        })
        .collect()
}

#[test]
fn nested_network_fields_keep_their_wrappers() {
    let all = full_fleet();
    let v = &all["i-bp1ffffffffffffff01"];
    // network_interfaces loses its own wrapper, and only that one.
    let nic = &v["network_interfaces"][0];
    assert_eq!(nic["network_interface_id"], "eni-bp1full0000001");
    assert_eq!(
        nic["private_ip_sets"]["private_ip_set"][1],
        json!({"primary": false, "private_dns_name": "", "private_ip_address": "172.16.10.2"})
    );
    assert_eq!(
        nic["ipv6_sets"]["ipv6_set"][0],
        json!({"ipv6_address": "2408:4005:3ff:1::1", "primary": true})
    );
    assert_eq!(
        nic["ipv4_prefix_sets"],
        json!({"ipv4_prefix_set": [{"ipv4_prefix": "172.16.10.16/28"}]})
    );
    assert_eq!(
        nic["ipv6_prefix_sets"],
        json!({"ipv6_prefix_set": [{"ipv6_prefix": "2408:4005:3ff:1:8000::/80"}]})
    );
    assert_eq!(
        v["network_interfaces"][1]["ipv6_sets"],
        json!({"ipv6_set": []})
    );
    assert_eq!(
        v["rdma_ip_address"],
        json!({"ip_address": ["10.200.0.1", "10.200.0.2"]})
    );
    assert_eq!(
        v["operation_locks"],
        json!({"lock_reason": [{"lock_msg": "overdue payment", "lock_reason": "financial"}]})
    );
    assert_eq!(
        v["vpc_attributes"],
        json!({"nat_ip_address": "172.16.10.254", "private_ip_address": {"ip_address": ["172.16.10.1"]},
               "vpc_id": "vpc-bp1full0000001", "vswitch_id": "vsw-bp1full0000001"})
    );
    assert_eq!(v["vpc_id"], "vpc-bp1full0000001");
    assert_eq!(v["vswitch_id"], "vsw-bp1full0000001");
    assert_eq!(v["private_ip_address"], "172.16.10.1");
    assert_eq!(
        v["security_group_ids"],
        json!(["sg-bp1full0000001", "sg-bp1full0000002"])
    );
}

#[test]
fn eip_keeps_every_sub_field_and_addresses_become_strings() {
    let all = full_fleet();
    let v = &all["i-bp1ffffffffffffff01"];
    assert_eq!(
        v["eip"],
        json!({"allocation_id": "eip-bp1full0000001", "bandwidth": 10,
               "internet_charge_type": "PayByBandwidth", "ip_address": "47.110.1.1",
               "is_support_unassociate": true})
    );
    assert_eq!(
        v["public_ip_address"], "47.110.1.1",
        "the EIP, for want of a public IP"
    );
    assert_eq!(
        v["inner_ip_address"], "",
        "an empty list is an empty string"
    );
    let classic = &all["i-bp1ffffffffffffff02"];
    assert_eq!(
        classic["inner_ip_address"], "10.80.1.2",
        "the first address"
    );
    assert_eq!(
        classic["private_ip_address"], "10.80.1.2",
        "no VPC address: the inner one"
    );
    assert_eq!(classic["public_ip_address"], "47.110.2.2");
    assert_eq!(classic["vpc_id"], "");
    assert_eq!(classic["network_interfaces"], json!([]));
    let stopped = &all["i-2zeffffffffffffff03"];
    assert_eq!(
        stopped["public_ip_address"], "39.96.3.3",
        "the first of two"
    );
    assert_eq!(stopped["status"], "stopped");
    assert_eq!(stopped["state"], "stopped");
}

#[test]
fn option_objects_and_unknown_fields_are_converted_in_depth() {
    let all = full_fleet();
    let v = &all["i-bp1ffffffffffffff01"];
    assert_eq!(v["cpu_options"]["enable_visst"], true);
    assert_eq!(v["cpu_options"]["threads_per_core"], 2);
    assert_eq!(
        v["private_dns_name_options"]["enable_instance_id_dns_aaaarecord"],
        true
    );
    assert_eq!(v["image_options"]["current_osnvme_supported"], true);
    assert_eq!(v["metadata_options"]["http_put_response_hop_limit"], 2);
    assert_eq!(
        v["dedicated_host_attribute"]["dedicated_host_cluster_id"],
        "dc-bp1full0000001"
    );
    assert_eq!(
        v["ecs_capacity_reservation_attr"]["capacity_reservation_preference"],
        "target"
    );
    assert_eq!(v["additional_info"]["node_serial_number"], "SN-0001");
    assert_eq!(v["clock_options"]["ptp_status"], "enabled");
    assert_eq!(v["hibernation_options"]["configured"], true);
    assert_eq!(v["security_options"]["enable_secure_boot"], true);
    assert_eq!(
        v["dedicated_instance_attribute"],
        json!({"affinity": "host", "tenancy": "host"})
    );
    assert_eq!(
        v["gpu"],
        json!({"amount": 1, "spec": "NVIDIA A10", "specification": "NVIDIA A10"})
    );
    assert_eq!(v["availability_zone"], "cn-hangzhou-h");
    assert_eq!(v["isp"], "BGP");
    assert_eq!(v["enable_nvs"], true);
    assert_eq!(v["osname_en"], "Alibaba Cloud Linux  3.2104 LTS 64 bit");
    assert_eq!(v["spot_price_limit"], 0.98);
    assert_eq!(
        v["future_field"],
        json!({"nested_thing": {"item": ["a", "b"]}, "some_count": 3})
    );
    assert_eq!(
        v["ecs_tags"],
        json!({"Name": "gpu-trainer", "cost-center": "", "env": "生产", "team": "ml"})
    );
}

#[test]
fn tags_as_footmark_reads_them() {
    let mut raw = sample();
    raw["Tags"] = json!({"Tag": [
        {"TagKey": "a", "TagValue": "1"}, {"TagKey": "", "TagValue": "x"},
        {"TagKey": "b"}, {"TagKey": "a", "TagValue": "2"}
    ]});
    let i = Instance::from_api(raw, &opts()).unwrap();
    let v: Value = serde_json::from_str(&i.hostvars).unwrap();
    assert_eq!(v["ecs_tags"], json!({"a": "2", "b": null}));
    assert_eq!(
        i.tags,
        vec![
            ("a".into(), "2".into()),
            ("b".into(), CompactString::default())
        ]
    );
}

#[test]
fn hostname_variable_reads_footmarks_aliases() {
    let mut raw = sample();
    raw["InstanceName"] = json!("web-one");
    raw["KeyPairName"] = json!("kp");
    let mut o = opts();
    for (var, want) in [
        ("name", "web-one"),
        ("key_name", "kp"),
        ("subnet_id", "vsw-1"),
        ("zone_id", "cn-hangzhou-g"),
        ("private_ip_address", "172.16.0.1"),
        ("tag_missing", ""),
    ] {
        o.hostname_variable = var.into();
        let i = Instance::from_api(raw.clone(), &o).unwrap();
        assert_eq!(i.hostname_source, want, "{var}");
    }
}

#[test]
fn the_eip_stands_in_for_an_empty_public_address_only() {
    let public = |p: Value, eip: &str| {
        let mut raw = sample();
        raw["PublicIpAddress"] = p;
        raw["EipAddress"]["IpAddress"] = json!(eip);
        let i = Instance::from_api(raw, &opts()).unwrap();
        let v: Value = serde_json::from_str(&i.hostvars).unwrap();
        v["public_ip_address"].clone()
    };
    assert_eq!(public(json!({"IpAddress": []}), "1.1.1.1"), "1.1.1.1");
    assert_eq!(
        public(json!({"IpAddress": ["2.2.2.2"]}), "1.1.1.1"),
        "2.2.2.2"
    );
    assert_eq!(public(json!({"IpAddress": []}), ""), "");
    // Odd shapes follow Python's truth values.
    assert_eq!(public(json!([]), "1.1.1.1"), "1.1.1.1");
    assert_eq!(public(json!(["3.3.3.3"]), "1.1.1.1"), json!(["3.3.3.3"]));
    assert_eq!(public(json!(0), "1.1.1.1"), "1.1.1.1");
    assert_eq!(public(json!(7), "1.1.1.1"), 7);
    assert_eq!(public(json!(""), "1.1.1.1"), "1.1.1.1");
    // An EIP address that is an empty object is no address.
    let mut raw = sample();
    raw["EipAddress"]["IpAddress"] = json!({});
    let v: Value =
        serde_json::from_str(&Instance::from_api(raw, &opts()).unwrap().hostvars).unwrap();
    assert_eq!(v["public_ip_address"], "");
}

#[test]
fn hostname_and_address_from_numbers_booleans_and_lists() {
    let mut raw = sample();
    raw["Cpu"] = json!(4);
    raw["IoOptimized"] = json!(true);
    let mut o = opts();
    for (var, want) in [
        ("cpu", "4"),
        ("io_optimized", "true"),
        ("security_group_ids", "sg-1"),
        ("vpc_attributes", ""),
    ] {
        o.hostname_variable = var.into();
        let i = Instance::from_api(raw.clone(), &o).unwrap();
        assert_eq!(i.hostname_source, want, "{var}");
    }
    o.hostname_variable = "instance_id".into();
    o.destination_variables = vec!["cpu".into()];
    assert_eq!(Instance::from_api(raw, &o).unwrap().address, "4");
}

#[test]
fn network_interfaces_given_as_a_list_stay_a_list() {
    let mut raw = sample();
    raw["NetworkInterfaces"] = json!([{"MacAddress": "00:aa"}]);
    let v: Value =
        serde_json::from_str(&Instance::from_api(raw.clone(), &opts()).unwrap().hostvars).unwrap();
    assert_eq!(v["network_interfaces"], json!([{"mac_address": "00:aa"}]));
    raw["NetworkInterfaces"] = json!("odd");
    let v: Value =
        serde_json::from_str(&Instance::from_api(raw, &opts()).unwrap().hostvars).unwrap();
    assert_eq!(v["network_interfaces"], json!([]));
}

#[test]
fn destination_format_needs_both_of_its_options() {
    let mut o = opts();
    o.destination_format = "{0}.example.com".into();
    assert_eq!(
        Instance::from_api(sample(), &o).unwrap().address,
        "47.1.1.1"
    );
    o.destination_format = String::new();
    o.destination_format_tags = vec!["Name".into()];
    assert_eq!(
        Instance::from_api(sample(), &o).unwrap().address,
        "47.1.1.1"
    );
    o.destination_format = "{0}-{1}.example.com".into();
    o.destination_format_tags = vec!["Name".into(), "missing".into()];
    assert_eq!(
        Instance::from_api(sample(), &o).unwrap().address,
        "Web 1-.example.com"
    );
}

#[test]
fn hostnames_take_the_first_tag_with_a_value() {
    let mut o = opts();
    o.hostname_variable = String::new();
    let name = |o: &HostvarOptions| Instance::from_api(sample(), o).unwrap().hostname_source;
    // `env` is set but empty: no name, so the next tag gives it.
    o.hostnames = vec![Hostname::Tags(vec![
        ("missing".into(), None),
        ("env".into(), None),
        ("Name".into(), None),
    ])];
    assert_eq!(name(&o), "Web 1");
    o.hostnames = vec![Hostname::Tags(vec![("Name".into(), None)])];
    assert_eq!(name(&o), "Web 1");
    // `K=V` names the host `K_V`, and only when the tag has that value.
    o.hostnames = vec![Hostname::Tags(vec![
        ("Name".into(), Some("Web 2".into())),
        ("Name".into(), Some("Web 1".into())),
    ])];
    assert_eq!(name(&o), "Name_Web 1");
    // No tag gives a name: the next entry of the list does.
    o.hostnames = vec![
        Hostname::Tags(vec![("env".into(), None), ("missing".into(), None)]),
        Hostname::Var("region_id".into()),
    ];
    assert_eq!(name(&o), "cn-hangzhou");
    o.hostnames = vec![Hostname::Tags(vec![("env".into(), None)])];
    assert_eq!(name(&o), "");
}

/// Python's truth value of each kind of hostvar, as footmark's `if value:` reads it.
#[test]
fn truth_values_are_pythons() {
    let tree = Tree::new("");
    let names = [CompactString::from("a")];
    let cases: [(Val, bool); 10] = [
        (Val::Str(""), false),
        (Val::Str("0"), true),
        (Val::EmptyList, false),
        (Val::List(&[]), false),
        (Val::List(&names), true),
        (Val::Tags(&[]), false),
        (Val::Tags(&[("a", None)]), true),
        (Val::NoEip, true),
        (
            Val::Gpu {
                amount: None,
                spec: None,
            },
            true,
        ),
        (Val::Str("x"), true),
    ];
    for (i, (v, want)) in cases.into_iter().enumerate() {
        assert_eq!(v.truthy(&tree), want, "case {i}: {v:?}");
    }
}
