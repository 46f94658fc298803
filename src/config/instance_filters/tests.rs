use super::*;
use serde_json::json;

fn sets(v: Value) -> Result<Vec<FilterSet>, String> {
    filter_sets_of_map(v.as_object().unwrap())
}

fn pairs(p: &[(&str, &str)]) -> FilterSet {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn filters_become_api_parameters() {
    let f = parse_instance_filters(
        "instance_type=ecs.g6.large, tag:env=prod, tag:role, instance_ids=i-1;i-2, vpc_id = vpc-1",
    )
    .unwrap();
    let want: Vec<(String, String)> = [
        ("InstanceType", "ecs.g6.large"),
        ("Tag.1.Key", "env"),
        ("Tag.1.Value", "prod"),
        ("Tag.2.Key", "role"),
        ("InstanceIds", "[\"i-1\",\"i-2\"]"),
        ("VpcId", "vpc-1"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(f, want);
    assert!(parse_instance_filters("zone_id=a,zone_id=b").is_err());
    assert!(parse_instance_filters("eip_addresses=;").is_err());
    assert_eq!(parse_instance_filters("tag: x=1").unwrap()[0].1, "x");
    assert!(parse_instance_filters("zone_id").is_err());
}

#[test]
fn at_most_twenty_tag_filters() {
    let tags = |n: usize| {
        (1..=n)
            .map(|i| format!("tag:k{i}=v"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let f = parse_instance_filters(&tags(20)).unwrap();
    assert_eq!(f.len(), 40);
    assert_eq!(f[38], ("Tag.20.Key".to_string(), "k20".to_string()));
    assert_eq!(
        parse_instance_filters(&tags(21)).unwrap_err(),
        "at most 20 tag filters"
    );
}

/// aws_ec2's meaning: a list is any of its values. The keys the API takes as a JSON array stay
/// one request; any other list is one set per value, and two lists multiply.
#[test]
fn list_values_are_ored_with_the_fewest_sets() {
    let s = sets(json!({"instance_type": ["a", "b"], "instance_ids": ["i-1", "i-2"]})).unwrap();
    assert_eq!(
        s,
        [
            pairs(&[("InstanceIds", r#"["i-1","i-2"]"#), ("InstanceType", "a")]),
            pairs(&[("InstanceIds", r#"["i-1","i-2"]"#), ("InstanceType", "b")]),
        ]
    );
    let s = sets(json!({"tag:env": ["prod", "staging"], "zone_id": ["z1", "z2", "z3"]})).unwrap();
    assert_eq!(s.len(), 6);
    assert!(s.contains(&pairs(&[
        ("Tag.1.Key", "env"),
        ("Tag.1.Value", "staging"),
        ("ZoneId", "z3")
    ])));
    // A plain value is one set, as before.
    assert_eq!(
        sets(json!({"status": "Stopped"})).unwrap(),
        [pairs(&[("Status", "Stopped")])]
    );
    assert!(sets(json!({"zone_id": []}))
        .unwrap_err()
        .contains("empty list"));
    let many =
        json!({"zone_id": (0..9).collect::<Vec<_>>(), "instance_type": (0..8).collect::<Vec<_>>()});
    assert_eq!(
        sets(many).unwrap_err(),
        "list values make 72 combinations, each its own listing of every region; at most 64 (use fewer values, or include_filters)"
    );
}

/// footmark's form (alibaba.alicloud#300): `tags: {K: V}` is a tag filter per key.
#[test]
fn footmarks_tags_mapping_is_tag_filters() {
    let s = sets(json!({"tags": {"env": "staging", "role": null}, "vpc_id": "v"})).unwrap();
    assert_eq!(
        s,
        [pairs(&[
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "staging"),
            ("Tag.2.Key", "role"),
            ("VpcId", "v"),
        ])]
    );
    let s = sets(json!({"tags": {"env": ["a", "b"]}})).unwrap();
    assert_eq!(s.len(), 2);
    assert!(sets(json!({"tags": "env=prod"}))
        .unwrap_err()
        .contains("mapping"));
}
