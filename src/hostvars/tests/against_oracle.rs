//! The in-place decoder (`fetch::parse_page` over `crate::json::reader`) against the tree-based
//! conversion it replaced (`oracle`): the same instances, fields and hostvars bytes, or the
//! same error, for the fixtures' fleets, the fuzz corpus, a generated fleet, hand-written odd
//! objects and many mutated pages.

use std::sync::Arc;

use serde_json::{json, Value};

use super::oracle;
use crate::config::{Env, Hostname, HostvarSelection, Settings};
use crate::constructed::step::Shaped;
use crate::constructed::{jinja_of_json, Constructed, HostError};
use crate::fetch::{parse_page, parse_page_shaped};
use crate::hostvars::{AccountVars, HostvarOptions, Instance, Shape};

fn base_opts() -> HostvarOptions {
    HostvarOptions {
        destination_variables: vec!["public_ip_address".into(), "private_ip_address".into()],
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

/// The option sets every input is decoded with: each reads hostvars another way.
fn option_sets() -> Vec<HostvarOptions> {
    let mut all = vec![base_opts()];
    let mut o = base_opts();
    o.destination_variables = vec!["private_ip_address".into(), "cpu".into()];
    o.hostname_variable = "tag_Name".into();
    o.legacy_tags_hostvar = true;
    all.push(o);
    let mut o = base_opts();
    o.destination_format = "{0}-{1}.example".into();
    o.destination_format_tags = vec!["Name".into(), "env".into()];
    o.hostname_variable = "name".into();
    o.account = Some(AccountVars {
        alias: "prod \"main\"".into(),
        id: "1234".into(),
    });
    all.push(o);
    let mut o = base_opts();
    o.hostnames = vec![
        Hostname::Tags(vec![
            ("missing".into(), None),
            ("env".into(), Some("prod".into())),
        ]),
        Hostname::Var("security_group_ids".into()),
        Hostname::Var("spot_price_limit".into()),
        Hostname::Var("key_name".into()),
    ];
    o.hostname_variable = String::new();
    o.destination_variables = vec!["eip".into(), "inner_ip_address".into(), "memory".into()];
    all.push(o);
    all
}

fn same_instance(new: &Instance, old: &Instance, what: &str) {
    let fields = |i: &Instance| {
        (
            (i.id.clone(), i.region.clone(), i.zone.clone()),
            i.state.clone(),
            i.image_id.clone(),
            i.instance_type.clone(),
            i.vpc_id.clone(),
            i.vswitch_id.clone(),
            i.security_groups.clone(),
            i.tags.clone(),
            (
                i.os_type.clone(),
                i.key_pair.clone(),
                i.resource_group.clone(),
            ),
            (
                i.charge_type.clone(),
                i.address.clone(),
                i.hostname_source.clone(),
            ),
            i.account_alias.clone(),
        )
    };
    assert_eq!(fields(new), fields(old), "{what}");
    assert_eq!(new.hostvars, old.hostvars, "{what}: hostvars");
}

/// Decodes `body` both ways with every option set; returns how many instances there were.
fn compare(status: u16, body: &[u8], what: &str) -> usize {
    let mut n = 0;
    for opts in option_sets() {
        let new = parse_page(status, body, &opts);
        let old = oracle::parse_page(status, body, &opts);
        match (new, old) {
            (Ok((total, new)), Ok((old_total, old))) => {
                assert_eq!(total, old_total, "{what}: TotalCount");
                assert_eq!(new.len(), old.len(), "{what}: instances");
                for (a, (b, _)) in new.iter().zip(&old) {
                    same_instance(a, b, what);
                }
                n = new.len();
            }
            (Err(new), Err(old)) => assert_eq!(new, old, "{what}: error"),
            (new, old) => panic!(
                "{what}: decoder {:?}, oracle {:?}",
                new.map(|(t, i)| (t, i.len())),
                old.map(|(t, i)| (t, i.len()))
            ),
        }
    }
    n
}

fn page(instances: &[Value]) -> String {
    json!({"RequestId": "r", "TotalCount": instances.len(), "PageNumber": 1, "PageSize": 100,
           "Instances": {"Instance": instances}})
    .to_string()
}

fn fleet(text: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(text).expect("fleet");
    v["instances"].as_array().expect("instances").clone()
}

#[test]
fn the_fixture_fleets_decode_as_before() {
    let full = fleet(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/fleet_full.json"
    )));
    assert_eq!(
        compare(200, page(&full).as_bytes(), "fleet_full"),
        full.len()
    );
    let small = fleet(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/fleet.json"
    )));
    assert_eq!(compare(200, page(&small).as_bytes(), "fleet"), small.len());
    // Pretty-printed, and with the page's members in another order.
    let pretty = serde_json::to_string_pretty(&json!({"Instances": {"Instance": full},
                                                       "TotalCount": 4}))
    .unwrap();
    assert_eq!(compare(200, pretty.as_bytes(), "pretty"), 4);
}

#[test]
fn the_fuzz_corpus_decodes_as_before() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz/response");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures/fuzz/response") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let Some((&sel, body)) = data.split_first() else {
            continue;
        };
        let status = match sel & 0x0f {
            0 => 400,
            1 => 500,
            2 => 503,
            _ => 200,
        };
        compare(status, body, &path.display().to_string());
        seen += 1;
    }
    assert!(seen >= 20, "{seen} inputs");
}

/// Instances made from fleet_full's, each changed a little: other ids, tags, addresses, fields
/// dropped or given other types.
fn generated(count: usize, seed: u64) -> Vec<Value> {
    let base = fleet(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/fleet_full.json"
    )));
    let mut rng = fastrand::Rng::with_seed(seed);
    let odd = [
        json!(null),
        json!(0),
        json!(-0.0),
        json!(1.5e300),
        json!(""),
        json!("x\"y\\z\u{1}"),
        json!([]),
        json!({}),
        json!([{"IpAddress": ["9.9.9.9"]}]),
        json!({"IpAddress": "1.1.1.1"}),
        json!(true),
        json!(u64::MAX),
        json!(i64::MIN),
    ];
    (0..count)
        .map(|n| {
            let mut inst = base[n % base.len()].clone();
            let m = inst.as_object_mut().unwrap();
            m.insert("InstanceId".into(), json!(format!("i-gen{n:05}")));
            let keys: Vec<String> = m.keys().cloned().collect();
            for _ in 0..rng.usize(0..4) {
                let k = &keys[rng.usize(..keys.len())];
                if k == "InstanceId" {
                    continue;
                }
                if rng.bool() {
                    m.remove(k);
                } else {
                    m.insert(k.clone(), odd[rng.usize(..odd.len())].clone());
                }
            }
            let env = ["prod", "dev", ""][n % 3];
            m.insert(
                "Tags".into(),
                json!({"Tag": [{"TagKey": "Name", "TagValue": format!("h-{n}")},
                               {"TagKey": "env", "TagValue": env}]}),
            );
            inst
        })
        .collect()
}

#[test]
fn a_generated_fleet_decodes_as_before() {
    let all = generated(300, 7);
    for chunk in all.chunks(100) {
        assert_eq!(
            compare(200, page(chunk).as_bytes(), "generated"),
            chunk.len()
        );
    }
}

/// Objects written by hand where decoding is easy to get wrong.
#[test]
fn odd_objects_decode_as_before() {
    let cases = [
        // Duplicate keys: the last wins, at the top and nested.
        r#"{"InstanceId":"i-1","Cpu":1,"Cpu":2,"VpcAttributes":{"VpcId":"a","VpcId":"b"}}"#,
        // Keys that collide once converted, both orders.
        r#"{"InstanceId":"i-1","instance_id":"i-2","ZoneId":"z1","zone_id":"z2"}"#,
        r#"{"instance_id":"i-2","InstanceId":"i-1","OSName":"a","OSName":"b","osname":"c"}"#,
        // Reserved names, and a field already named like the renamed one.
        r#"{"InstanceId":"i-1","Name":"n","ecs_name":"old","Port":22,"Vars":{"A":1},"Tags":{"Tag":[]},"EcsTags":"x"}"#,
        // Escapes in keys and values, and text serde_json escapes its own way.
        r#"{"InstanceId":"i-\u00e9\/1","Desc\u0072iption":"a\/b\u0000c\"d\\e\n\t\u001f\u007f","Tags":{"Tag":[{"TagKey":"K\"ey","TagValue":"v\\al"},{"Tag\u004bey":"\ud83d\ude00","TagValue":"\u00e9"}]}}"#,
        // Numbers as serde_json prints them.
        r#"{"InstanceId":"i-1","A":1.0,"B":1e300,"C":-0,"D":-0.0,"E":18446744073709551615,"F":18446744073709551616,"G":-9223372036854775808,"H":-9223372036854775809,"I":0.1e-5,"J":1E+2,"K":123456789012345678901234567890,"L":-1,"M":2.5e-320,"N":100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000}"#,
        // Addresses in every shape footmark meets.
        r#"{"InstanceId":"i-1","PublicIpAddress":{"IpAddress":[{"A":1}]},"InnerIpAddress":{"IpAddress":"x"},"EipAddress":{"IpAddress":0}}"#,
        r#"{"InstanceId":"i-1","PublicIpAddress":{"IpAddress":[],"IpAddress":["2.2.2.2"]},"InnerIpAddress":[],"EipAddress":{"IpAddress":"1.1.1.1"},"VpcAttributes":{"PrivateIpAddress":{"IpAddress":[null]}}}"#,
        r#"{"InstanceId":"i-1","PublicIpAddress":null,"EipAddress":[],"VpcAttributes":[],"NetworkInterfaces":{"NetworkInterface":{}},"SecurityGroupIds":{"SecurityGroupId":["",1,"sg"]}}"#,
        r#"{"InstanceId":"i-1","NetworkInterfaces":[[{"B":1,"A":[{"D":{},"C":[]}]}]],"GPUAmount":"2","GPUSpec":null,"Status":7}"#,
        r#"{"InstanceId":"i-1","Status":"RUNNİNG","Tags":{"Tag":[{"TagKey":"a","TagValue":1},{"TagKey":"a"},{"TagKey":"b","TagValue":"x"},{"TagKey":"a","TagValue":"2"}],"Tag":[{"TagKey":"z"}]}}"#,
        // Not usable as an instance.
        r#"{"Status":"Running"}"#,
        r#"{"InstanceId":""}"#,
        r#"{"InstanceId":5}"#,
        r#"[1,2]"#,
        r#""i-1""#,
        // Whitespace everywhere JSON allows it.
        " {\n\t\"InstanceId\" :\r\"i-1\" , \"A\" : [ 1 , { } , [ ] ] ,\"B\":{ \"C\" : null } } ",
        // Deep, but within serde_json's limit.
        &format!(
            r#"{{"InstanceId":"i-1","Deep":{}1{}}}"#,
            "[".repeat(110),
            "]".repeat(110)
        ),
        &format!(
            r#"{{"InstanceId":"i-1","Deep":{}1{}}}"#,
            "[".repeat(124),
            "]".repeat(124)
        ),
        &format!(
            r#"{{"InstanceId":"i-1","Deep":{}1{}}}"#,
            "[".repeat(125),
            "]".repeat(125)
        ),
    ];
    for case in cases {
        let body = format!(r#"{{"TotalCount":1,"Instances":{{"Instance":[{case}]}}}}"#);
        compare(200, body.as_bytes(), case);
        // The same instance after a valid one, and before an invalid one.
        let body = format!(
            r#"{{"TotalCount":3,"Instances":{{"Instance":[{{"InstanceId":"i-0"}},{case},{{"Status":1}}]}}}}"#
        );
        compare(200, body.as_bytes(), case);
    }
}

/// Pages that are not what they should be: the same error, word for word.
#[test]
fn broken_pages_fail_as_before() {
    let good = r#"{"InstanceId":"i-1","Cpu":1}"#;
    let bodies = [
        String::new(),
        " ".into(),
        "null".into(),
        "[]".into(),
        "{}".into(),
        r#"{"TotalCount":1}"#.into(),
        r#"{"Instances":{"Instance":[]}}"#.into(),
        r#"{"TotalCount":-1,"Instances":{}}"#.into(),
        r#"{"TotalCount":1.0,"Instances":{}}"#.into(),
        r#"{"TotalCount":1e2,"Instances":{}}"#.into(),
        r#"{"TotalCount":"1","Instances":{}}"#.into(),
        r#"{"TotalCount":18446744073709551616,"Instances":{}}"#.into(),
        r#"{"TotalCount":18446744073709551615,"Instances":{}}"#.into(),
        r#"{"TotalCount":1,"TotalCount":2,"Instances":{}}"#.into(),
        r#"{"TotalCount":1,"Instances":{},"Instances":{}}"#.into(),
        r#"{"TotalCount":1,"Instances":null}"#.into(),
        r#"{"TotalCount":1,"Instances":{"Instance":null}}"#.into(),
        r#"{"TotalCount":1,"Instances":{"Instance":[],"Instance":[]}}"#.into(),
        r#"{"TotalCount":1,"Instances":{"Instance":{}}}"#.into(),
        r#"{"Total\u0043ount":1,"Instances":{"Inst\u0061nce":[]}}"#.into(),
        format!(r#"{{"TotalCount":1,"Instances":{{"Instance":[{good},]}}}}"#),
        format!(r#"{{"TotalCount":1,"Instances":{{"Instance":[{good}]}},}}"#),
        format!(r#"{{"TotalCount":1,"Instances":{{"Instance":[{good}]}}}}x"#),
        format!(r#"{{"TotalCount":1,"Instances":{{"Instance":[{good}]}}}} "#),
        format!(r#"{{"TotalCount":1,"Instances":{{"Instance":[{good}]}}"#),
        r#"{"TotalCount":1,"Instances":{"Instance":[{"InstanceId":"i-1","A":01}]}}"#.into(),
        r#"{"TotalCount":1,"Instances":{"Instance":[{"InstanceId":"i-1","A":1.}]}}"#.into(),
        r#"{"TotalCount":1,"Instances":{"Instance":[{"InstanceId":"i-1","A":-}]}}"#.into(),
        r#"{"TotalCount":1,"Instances":{"Instance":[{"InstanceId":"i-1","A":1e400}]}}"#.into(),
        r#"{"TotalCount":1,"Instances":{"Instance":[{"InstanceId":"i-1","A":tru}]}}"#.into(),
        r#"{"TotalCount":1,"Instances":{"Instance":[{"InstanceId":"i-1","A":"\x"}]}}"#.into(),
        r#"{"TotalCount":1,"Instances":{"Instance":[{"InstanceId":"i-1","A":"\ud800"}]}}"#.into(),
        "{\"TotalCount\":1,\"Instances\":{\"Instance\":[{\"InstanceId\":\"i-1\",\"A\":\"\u{1}\"}]}}"
            .into(),
        r#"{"TotalCount":1,"Instances":{"Instance":[{"InstanceId":"i-1",1:2}]}}"#.into(),
        r#"{"TotalCount":1,"Instances":{"Instance":[{"InstanceId" "i-1"}]}}"#.into(),
        r#"{"Code":"Throttling.User","Message":"slow down"}"#.into(),
        r#"{"TotalCount":1,"Unknown":[1e400],"Instances":{"Instance":[]}}"#.into(),
        format!(
            r#"{{"TotalCount":1,"Unknown":{}1{},"Instances":{{"Instance":[]}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        ),
        format!(
            r#"{{"TotalCount":1,"Instances":{{"Instance":[{{"InstanceId":"i-1","D":{}1{}}}]}}}}"#,
            "[".repeat(126),
            "]".repeat(126)
        ),
        format!(
            r#"{{"TotalCount":1,"Instances":{{"Instance":[{{"InstanceId":"i-1","D":{}1{}}}]}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        ),
    ];
    for body in &bodies {
        compare(200, body.as_bytes(), body);
    }
    for status in [400, 403, 500, 503] {
        compare(
            status,
            br#"{"Code":"Forbidden.RAM","Message":"no"}"#,
            "error body",
        );
        compare(status, b"<html>", "html");
    }
    // Bytes that are not UTF-8, in a value and in a member the page does not read.
    let mut bad = br#"{"TotalCount":1,"X":"#.to_vec();
    bad.extend_from_slice(b"\"\xff\",\"Instances\":{\"Instance\":[]}}");
    compare(200, &bad, "not UTF-8 in an unread member");
    let mut bad = br#"{"TotalCount":1,"Instances":{"Instance":[{"InstanceId":"#.to_vec();
    bad.extend_from_slice(b"\"\xff\"}]}}");
    compare(200, &bad, "not UTF-8 in an instance");
}

/// Random edits of a real page: whatever each makes of it, both decoders make the same.
#[test]
fn mutated_pages_decode_as_before() {
    let base = page(&generated(6, 3));
    let mut rng = fastrand::Rng::with_seed(11);
    let alphabet = b"{}[]\",:\\ 0123456789.eE+-tfnulx\xc3\xa9";
    let mut decoded = 0;
    for round in 0..1500 {
        let mut body = base.clone().into_bytes();
        for _ in 0..rng.usize(1..4) {
            let at = rng.usize(..body.len());
            match rng.u8(0..3) {
                0 => {
                    body.remove(at);
                }
                1 => body.insert(at, alphabet[rng.usize(..alphabet.len())]),
                _ => body[at] = alphabet[rng.usize(..alphabet.len())],
            }
        }
        let opts = &option_sets()[round % 4];
        let new = parse_page(200, &body, opts);
        let old = oracle::parse_page(200, &body, opts);
        let what = String::from_utf8_lossy(&body);
        match (new, old) {
            (Ok((t, new)), Ok((ot, old))) => {
                assert_eq!((t, new.len()), (ot, old.len()), "{what}");
                for (a, (b, _)) in new.iter().zip(&old) {
                    same_instance(a, b, &what);
                }
                decoded += 1;
            }
            (Err(a), Err(b)) => assert_eq!(a, b, "{what}"),
            (a, b) => panic!("{what}: {:?} vs {:?}", a.is_ok(), b.is_ok()),
        }
    }
    assert!(decoded > 100, "only {decoded} mutated pages decoded");
}

/// With a `hostvars` selection or constructed entries: the printed hostvars are the old map's
/// selected members, the values the expressions read are the old map's, and the composed
/// variables are written where inserting them into the old map puts them.
#[test]
fn selections_and_constructed_reads_match_the_old_map() {
    let mut settings = Settings::from_ini(None, &Env::default()).expect("defaults");
    let config = json!({
        "compose": {"ansible_host": "private_ip_address", "zzz": "cpu * 2", "Aa": "'x'",
                    "ecs_tags": "{'a': 1}", "cpu": "cpu + 1"},
        "groups": {"big": "cpu >= 4"},
        "keyed_groups": [{"key": "ecs_tags", "prefix": "tag"}, {"key": "osname_en"}],
        "strict": false, "leading_separator": true});
    settings.constructed = Some(Arc::new(Constructed::from_value(&config).expect("config")));
    let all = generated(40, 5);
    let body = page(&all);
    for patterns in [
        None,
        Some(vec!["instance_*", "ecs_tags", "zzz", "region*", "?pu"]),
    ] {
        let sel = patterns.map(|p| HostvarSelection {
            patterns: p.into_iter().map(String::from).collect(),
        });
        settings.hostvars = sel.clone();
        let mut opts = HostvarOptions::from_settings(&settings);
        opts.destination_variables = base_opts().destination_variables;
        assert!(opts.keep_vars);
        let expected_reads = ["cpu", "ecs_tags", "osname_en", "private_ip_address"];
        let mut sorted = opts.reads.clone();
        sorted.sort();
        assert_eq!(sorted, expected_reads);
        let (_, old) = oracle::parse_page(200, body.as_bytes(), &opts).expect("decodes");

        // What the step is given: the old map's values, converted.
        let mut recorder = Recorder::default();
        for raw in &all {
            Instance::from_api_shaped(raw.clone(), &opts, Some(&mut recorder)).expect("decodes");
        }
        assert_eq!(recorder.0.len(), old.len());
        for ((id, reads), (old_inst, map)) in recorder.0.iter().zip(&old) {
            assert_eq!(id, &old_inst.id);
            for (name, got) in opts.reads.iter().zip(reads) {
                let want = map
                    .get(name)
                    .map_or(minijinja::Value::UNDEFINED, jinja_of_json);
                assert_eq!(format!("{got:?}"), format!("{want:?}"), "{id} {name}");
            }
        }

        // What is printed: the whole old map, composed variables inserted over it, then the
        // selection (which keeps every composed variable).
        let (_, new) = parse_page_shaped(
            200,
            body.as_bytes(),
            &opts,
            Some(&crate::inventory::Shapers(Arc::new(settings.clone()))),
        )
        .expect("decodes");
        assert_eq!(new.len(), old.len());
        let mut shaped = 0;
        for (inst, (old_inst, map)) in new.into_iter().zip(old) {
            let keeps = |k: &str| sel.as_ref().is_none_or(|s| s.keeps(k));
            assert_eq!(inst.address, old_inst.address);
            if inst.address.is_empty() {
                // Left out by the builder: not shaped, not written.
                assert_eq!(&*inst.hostvars, "", "{}", inst.id);
                continue;
            }
            let c = settings.constructed.as_ref().unwrap();
            let result = c.apply(&inst.id, &map, &[]).expect("not strict");
            let mut want = map.clone();
            let composed: Vec<String> = result.vars.iter().map(|(k, _)| k.clone()).collect();
            for (k, v) in result.vars {
                want.insert(k, v);
            }
            want.retain(|k, _| composed.contains(k) || keeps(k));
            assert_eq!(&*inst.hostvars, serde_json::to_string(&want).unwrap());
            assert_eq!(inst.constructed, result.groups);
            shaped += 1;
        }
        assert!(shaped > 20, "only {shaped} hosts shaped");
    }
}

/// Records what the constructed step is given, and adds nothing.
#[derive(Default)]
struct Recorder(Vec<(String, Vec<minijinja::Value>)>);

impl Shape for Recorder {
    fn shape(
        &mut self,
        inst: &Instance,
        reads: Vec<minijinja::Value>,
    ) -> Option<Result<Shaped, HostError>> {
        self.0.push((inst.id.to_string(), reads));
        Some(Ok(Shaped::default()))
    }
}

/// Decoding throughput over full-size pages (every field of the API's Instance), old and new:
/// `cargo test --release --lib decode_throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn decode_throughput() {
    let full = fleet(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/fleet_full.json"
    )));
    let instances: Vec<Value> = full.iter().cycle().take(100).cloned().collect();
    let pages: Vec<String> = (0..100)
        .map(|p| {
            let list: Vec<Value> = instances
                .iter()
                .enumerate()
                .map(|(n, i)| {
                    let mut i = i.clone();
                    i["InstanceId"] = json!(format!("i-bp{p:04}{n:04}"));
                    i
                })
                .collect();
            page(&list)
        })
        .collect();
    let bytes: usize = pages.iter().map(String::len).sum();
    let opts = base_opts();
    let time = |name: &str, f: &dyn Fn(&[u8]) -> usize| {
        let mut best = f64::MAX;
        let mut count = 0;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            count = pages.iter().map(|p| f(p.as_bytes())).sum::<usize>();
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "{name:<40} {:7.1} MB/s  {:6.2} µs/instance ({count} instances, {} bytes per instance)",
            bytes as f64 / best / 1e6,
            best * 1e6 / count as f64,
            bytes / count.max(1)
        );
        count
    };
    time("serde_json::Value, parse only", &|b| {
        let v: Value = serde_json::from_slice(b).unwrap();
        v["Instances"]["Instance"].as_array().unwrap().len()
    });
    let old = time("tree per instance (before)", &|b| {
        oracle::parse_page(200, b, &opts).unwrap().1.len()
    });
    time("in place: read only", &|b| {
        let text = std::str::from_utf8(b).unwrap();
        let mut tree = crate::json::reader::Tree::new(text);
        tree.read(0, 128).unwrap();
        100
    });
    let new = time("in place (after)", &|b| {
        parse_page(200, b, &opts).unwrap().1.len()
    });
    assert_eq!(old, new);
}
