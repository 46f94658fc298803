use super::*;
use serde_json::{json, Map, Value as Json};

mod differential;
mod fast_checks;
mod fast_differential;
mod mutants_checks;
mod rules;
mod filters_against_ansible;
mod filter_names;

/// One host's variables from a JSON literal.
fn vars(v: Json) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        other => panic!("not a mapping: {other}"),
    }
}

fn compile(config: Json) -> Constructed {
    Constructed::from_value(&config).unwrap_or_else(|e| panic!("{e}"))
}

fn compose_one(expr: &str, hostvars: Json) -> Option<Json> {
    let c = compile(json!({"compose": {"v": expr}}));
    let r = c.apply("h1", &vars(hostvars), &[]).expect("not strict");
    r.vars.into_iter().find(|(k, _)| k == "v").map(|(_, v)| v)
}

/// Composes each expression on `hostvars` and fails, listing them all, where a value is not
/// the one expected.
fn assert_composes(cases: &[(&str, Json)], hostvars: &Json) {
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(expr, want)| {
            let got = compose_one(expr, hostvars.clone());
            (got.as_ref() != Some(want)).then(|| format!("{expr}: got {got:?}, want {want}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The composed values the step writes are the text of what `apply` gives, and fail alike.
#[test]
fn composed_values_are_written_as_their_json() {
    let exprs = [
        "1",
        "-5",
        "2 ** 70",
        "-(2 ** 64)",
        "2 ** 127",
        "1.0",
        "-0.0",
        "1e300",
        "1 / 3",
        "1e300 * 1e300",
        "none",
        "true",
        "false",
        "[false, true, {'f': false}]",
        "'a\"b\\\\c é \\n \\u0001'",
        "[1, 'x', none, [2.5], []]",
        "{'b': 1, 'a': {'z': [1], 'y': none}, 'é': {}}",
        "{1: 'int', '1': 'str'}",
        "{'1': 'str', 1: 'int', true: 't'}",
        "range(3)",
        "{'x': [1, 1e300 * 1e300]}",
        "{'x': 1, 1: 1e300 * 1e300}",
    ];
    let mut failed = 0;
    let mut values: Vec<(String, minijinja::Value)> = exprs
        .iter()
        .map(|e| {
            let v = engine::strict_env()
                .compile_expression(e)
                .and_then(|x| x.eval(minijinja::context! {}))
                .unwrap_or_else(|err| panic!("{e}: {err}"));
            (e.to_string(), v)
        })
        .collect();
    values.push((
        "[1, undefined]".into(),
        minijinja::Value::from(vec![minijinja::Value::from(1), minijinja::Value::UNDEFINED]),
    ));
    for (what, v) in values {
        let mut out = Vec::new();
        let written = write_json(&v, &mut out).map(|()| String::from_utf8(out).unwrap());
        let want = to_json(&v).map(|j| j.to_string());
        match (written, want) {
            // Beyond 64 bits the written text stays exact, where serde_json's Number (the
            // reference's) can only hold a float.
            (Ok(a), Ok(_)) if what == "2 ** 70" => assert_eq!(a, "1180591620717411303424"),
            (Ok(a), Ok(_)) if what == "-(2 ** 64)" => assert_eq!(a, "-18446744073709551616"),
            (Ok(a), Ok(_)) if what == "2 ** 127" => {
                assert_eq!(a, "170141183460469231731687303715884105728")
            }
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{what}"),
            (Err(a), Err(b)) => {
                assert_eq!(
                    (a.kind(), a.to_string()),
                    (b.kind(), b.to_string()),
                    "{what}"
                );
                failed += 1;
            }
            (a, b) => panic!("{what}: {a:?} vs {b:?}"),
        }
    }
    assert_eq!(
        failed, 4,
        "the non-finite floats and the undefined item fail"
    );
}

fn groups_of(c: &Constructed, hostvars: Json) -> Vec<(String, Option<String>)> {
    c.apply("h1", &vars(hostvars), &[])
        .expect("apply")
        .groups
        .into_iter()
        .map(|m| (m.group.to_string(), m.parent.map(|p| p.to_string())))
        .collect()
}

/// A configuration evaluates its entries as one batch per host; each entry alone (a batch
/// of one is no batch) must give the same on every fixture host: with entries that fail for
/// some hosts (the batch then fails or has undefined items) and without.
#[test]
fn batched_entries_give_what_each_entry_alone_gives() {
    let base: Json = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/constructed/base.json"
    )))
    .expect("base.json");
    let compose = json!({
        "cores": "cpu", "env": "ecs_tags.env | default('none')", "role": "ecs_tags.role",
        "upper": "edge_text | upper", "n": "memory / 1024",
        "tags": "ecs_tags.keys() | list | sort", "chained": "a.b.c | default(1)",
        "both": "cpu ~ '/' ~ memory"
    });
    // `fast` takes `big`, `status | lower` and three compose entries; the entries it does
    // not take go to minijinja, in a batch.
    let groups = json!({
        "big": "cpu >= 4", "num": "cpu", "always": true,
        "tagged": "ecs_tags.keys() | list | length > 1"
    });
    let keyed = json!([
        {"key": "ecs_tags", "prefix": "tag"}, {"key": "status | lower", "prefix": "s"},
        {"key": "ecs_tags.keys() | list", "prefix": "k"},
        {"key": "ecs_tags.role", "prefix": "r"}, {"key": "edge_list", "prefix": "l"},
        {"key": "missing | default('')", "prefix": "m", "default_value": "none"}
    ]);
    let failing_compose = json!({"bad": "cpu + 'x'", "u": "no_such_var"});
    let failing_groups = json!({"prod": "ecs_tags.env == 'prod'", "undef": "nope == 1"});
    let mut batched = 0;
    for with_failures in [false, true] {
        let (mut c, mut g) = (compose.clone(), groups.clone());
        if with_failures {
            c.as_object_mut()
                .unwrap()
                .extend(failing_compose.as_object().unwrap().clone());
            g.as_object_mut()
                .unwrap()
                .extend(failing_groups.as_object().unwrap().clone());
        }
        let all = compile(json!({"compose": c, "groups": g, "keyed_groups": keyed}));
        assert!(all.compose_batch.expr.is_some() && all.late_batch.expr.is_some());
        let alone: Vec<Constructed> = c
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| compile(json!({"compose": {k: v}})))
            .chain(
                g.as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| compile(json!({"groups": {k: v}}))),
            )
            .chain(
                keyed
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| compile(json!({"keyed_groups": [k]}))),
            )
            .collect();
        let names = vec!["alicloud".to_owned()];
        for (host, vars) in base["_meta"]["hostvars"].as_object().unwrap() {
            let vars = vars.as_object().unwrap();
            let got = all.apply(host, vars, &names).expect("not strict");
            let mut want = HostResult::default();
            for one in &alone {
                let r = one.apply(host, vars, &names).expect("not strict");
                want.vars.extend(r.vars);
                want.groups.extend(r.groups);
            }
            // Group memberships come in entry order: groups, then keyed groups.
            assert_eq!(got, want, "{host} (failing entries: {with_failures})");
            batched += got.vars.len();
        }
    }
    assert!(batched > 50, "too little to compare: {batched}");
}

/// Each shape `fast` evaluates gives what minijinja gives, for variables of every type, missing
/// ones and failing steps included; where minijinja fails, `fast` has no answer.
#[test]
fn fast_shapes_give_what_minijinja_gives() {
    let exprs = [
        "cpu",
        "ecs_tags.env",
        "ecs_tags.role.x",
        "true",
        "ecs_tags.env | default('none')",
        "ecs_tags.env | d('x', true)",
        "ecs_tags.a.b | default(1)",
        "ecs_tags.env.x is defined",
        "ecs_tags.env is defined",
        "ecs_tags.env is undefined",
        r"instance_type | regex_replace('^ecs\\.', '')",
        "memory / 1024",
        "memory / cpu",
        "sg | length",
        "name | upper",
        "name | lower",
        "'web' in (ecs_tags.role | default(''))",
        "'sg-1' in sg",
        "'eb' in name",
        "'sg-9' not in sg",
        "cpu >= 4",
        "cpu <= 4",
        "memory <= 8192",
        "cpu < f",
        "cpu == 4",
        "status == 'running'",
        "status != 'Stopped'",
        "status | lower == 'running'",
        "ostype | default('') == 'linux'",
        "status | lower",
        "not flag",
        "flag and cpu",
        "nothing or name",
        "cpu > 2 and status != 'Stopped'",
        "name | replace('-', '_')",
        "name | trim",
        "sg | first",
        "sg | join(',')",
        "cpu | int",
        "f | float",
        "name | string",
        "ecs_tags.role | split(',')",
        "nothing | default('n')",
        "nothing | default('n', true)",
        "ecs_tags.missing or 'x'",
        "ecs_tags.role.x == 1",
    ];
    let hosts = [
        json!({"cpu": 4, "memory": 8192, "status": "Running", "name": "Web-01 ",
               "ecs_tags": {"env": "prod", "role": "web,db"}, "sg": ["sg-1", "sg-2"],
               "instance_type": "ecs.g6.large", "ostype": "linux", "f": 2.5, "flag": true,
               "nothing": null}),
        json!({"cpu": "4", "memory": 0, "status": 5, "ecs_tags": "x", "sg": {"sg-1": 1},
               "instance_type": 3, "ostype": null, "f": -0.0, "flag": false, "nothing": 0}),
        json!({"cpu": 4.0, "memory": true, "status": null, "name": "", "ecs_tags": {},
               "sg": [], "f": "2", "flag": [], "nothing": ""}),
        json!({"cpu": 9223372036854775808u64, "memory": 1e308, "ecs_tags": {"env": null,
               "role": ["web"]}, "sg": [1, "sg-1"], "name": ["x"], "flag": "no"}),
        json!({}),
    ];
    let compose: Map<String, Json> = exprs
        .iter()
        .enumerate()
        .map(|(i, e)| (format!("e{i:02}"), json!(e)))
        .collect();
    let c = compile(json!({ "compose": compose }));
    let (mut answered, mut declined) = (0, 0);
    for host in &hosts {
        let slots: Vec<minijinja::Value> = c
            .slot_names()
            .iter()
            .map(|n| host.get(n).map_or(minijinja::Value::UNDEFINED, from_json))
            .collect();
        let ctx = minijinja::Value::from_dyn_object(c.host_vars(slots.clone()));
        for (source, (_, e)) in exprs.iter().zip(&c.compose) {
            let fast = e
                .fast
                .as_ref()
                .unwrap_or_else(|| panic!("{source}: not a fast shape"));
            let want = e.eval_jinja(&ctx);
            match fast.eval(&slots) {
                Some(got) => {
                    let want = want.unwrap_or_else(|err| {
                        panic!("{source} on {host}: fast gives {got:?}, minijinja fails: {err}")
                    });
                    assert_eq!(
                        (got.kind(), format!("{got:?}")),
                        (want.kind(), format!("{want:?}")),
                        "{source} on {host}"
                    );
                    answered += 1;
                }
                None => declined += 1,
            }
        }
    }
    // Both ways are taken often enough to mean something.
    assert!(
        answered > 100 && declined > 30,
        "{answered} answered, {declined} declined"
    );
}

/// Groups that read a composed variable see its composed value, so they are not evaluated
/// with compose in one batch.
/// Names a page's hosts share are kept per keyed entry: the same text under two entries makes
/// two groups, and a later host gets the names an earlier one made.
#[test]
fn group_names_kept_for_later_hosts_are_each_entrys_own() {
    let c = compile(json!({"keyed_groups": [
        {"key": "zone", "prefix": "a"},
        {"key": "zone", "prefix": "b", "separator": "-"},
        {"key": "tags", "prefix": "t"},
        {"key": "tags", "prefix": "u", "separator": ""},
    ]}));
    let mut names = GroupNames::default();
    let hosts = [
        json!({"zone": "z-1", "tags": {"k": "v"}}),
        json!({"zone": "z-1", "tags": {"k": "v", "kv": ""}}),
    ];
    let slot_names = c.slot_names();
    let mut got = Vec::new();
    for (n, h) in hosts.iter().enumerate() {
        let slots = slot_names
            .iter()
            .map(|name| h.get(name).map_or(minijinja::Value::UNDEFINED, from_json))
            .collect();
        let r = c
            .apply_slots(&format!("h{n}"), slots, &[], &mut names)
            .expect("apply");
        let want = c
            .apply(&format!("h{n}"), &vars(h.clone()), &[])
            .expect("apply");
        assert_eq!(r.groups, want.groups, "host {n}");
        got.push(
            r.groups
                .iter()
                .map(|m| m.group.to_string())
                .collect::<Vec<_>>(),
        );
    }
    // `z-1` is the text after the prefix and separator of both zone entries.
    assert_eq!(got[0], ["a_z_1", "b_z_1", "t_k_v", "ukv"]);
    assert_eq!(got[1], ["a_z_1", "b_z_1", "t_k_v", "t_kv_", "ukv", "ukv"]);
}

#[test]
fn entries_reading_composed_variables_see_them() {
    let c = compile(json!({
        "compose": {"x": "cpu * 10", "y": "cpu + 1"},
        "groups": {"g": "x > 15", "h": "cpu > 1"},
        "keyed_groups": [{"key": "'k' ~ y", "prefix": "p"}, {"key": "x | string", "prefix": "q"}]
    }));
    assert!(c.joint.is_none());
    let r = c.apply("h1", &vars(json!({"cpu": 2})), &[]).unwrap();
    let groups: Vec<&str> = r.groups.iter().map(|m| &*m.group).collect();
    assert_eq!(groups, vec!["g", "h", "p_k3", "q_20"]);
    let plain = compile(json!({
        "compose": {"x": "cpu * 10", "y": "cpu + 1"},
        "groups": {"h": "cpu + 0 > 1", "i": "cpu + 0 < 1"}
    }));
    assert!(plain.joint.is_some());
}

/// Per-host cost of a typical configuration (7 compose, 4 groups, 7 keyed groups) over the
/// fixture fleet's hostvars. Run: cargo test --release --lib constructed::tests::bench --
/// --ignored --nocapture
#[test]
#[ignore]
fn bench() {
    let base: Json = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/constructed/base.json"
    )))
    .expect("base.json");
    let fleet: Vec<(String, Map<String, Json>)> = base["_meta"]["hostvars"]
        .as_object()
        .expect("hostvars")
        .iter()
        .map(|(h, v)| (h.clone(), v.as_object().expect("vars").clone()))
        .collect();
    let c = compile(json!({
        "compose": {
            "ansible_host": "private_ip_address",
            "env": "ecs_tags.env | default('none')",
            "short_type": "instance_type | regex_replace('^ecs\\\\.', '')",
            "cores": "cpu",
            "mem_gb": "memory / 1024",
            "sg_count": "security_group_ids | length",
            "name_upper": "instance_name | upper",
        },
        "groups": {
            "web": "'web' in (ecs_tags.role | default(''))",
            "big": "cpu >= 4",
            "running": "status == 'Running'",
            "linux": "ostype | default('') == 'linux'",
        },
        "keyed_groups": [
            {"key": "ecs_tags", "prefix": "tag"},
            {"key": "zone_id", "prefix": "zone", "parent_group": "zones"},
            {"key": "region_id", "prefix": "region"},
            {"key": "instance_type", "prefix": "type"},
            {"key": "security_group_ids", "prefix": "sg"},
            {"key": "env", "prefix": "env"},
            {"key": "status | lower", "prefix": "status"},
        ],
    }));
    let groups = vec!["alicloud".to_owned(), "cn_hangzhou".to_owned()];
    // CPU time of this thread: the machine is shared, wall time is not a measure.
    let cpu = || {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into the timespec we own.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    };
    let time = |c: &Constructed| {
        let start = cpu();
        for i in 0..5_000 {
            let (h, v) = &fleet[i % fleet.len()];
            std::hint::black_box(c.apply(h, v, &groups).expect("apply"));
        }
        (cpu() - start) / 5_000
    };
    for (label, config) in [
        ("nothing", json!({})),
        ("1 compose `cpu`", json!({"compose": {"x": "cpu"}})),
        (
            "1 compose regex_replace",
            json!({"compose": {"x": "instance_type | regex_replace('^ecs\\\\.', '')"}}),
        ),
        ("1 group", json!({"groups": {"x": "cpu >= 4"}})),
        (
            "1 compose `cpu >= 4`",
            json!({"compose": {"x": "cpu >= 4"}}),
        ),
        (
            "1 compose `ecs_tags`",
            json!({"compose": {"x": "ecs_tags"}}),
        ),
        (
            "1 compose `status | lower`",
            json!({"compose": {"x": "status | lower"}}),
        ),
        (
            "1 keyed string",
            json!({"keyed_groups": [{"key": "zone_id", "prefix": "z"}]}),
        ),
        (
            "1 keyed mapping",
            json!({"keyed_groups": [{"key": "ecs_tags", "prefix": "tag"}]}),
        ),
    ] {
        println!("{label}: {:?} per host", time(&compile(config)));
    }
    let n = 20_000;
    let mut memberships = 0;
    let start = cpu();
    for i in 0..n {
        let (h, v) = &fleet[i % fleet.len()];
        let r = c.apply(h, v, &groups).expect("apply");
        memberships += r.groups.len();
    }
    let per_host = (cpu() - start) / n as u32;
    println!(
        "constructed: {per_host:?} per host, {:?} per 10,000 hosts ({memberships} memberships)",
        per_host * 10_000
    );
    assert!(memberships > n * 5, "too few groups: {memberships}");
}
