//! The differential check of `constructed::fast` against minijinja's VM, and the generator of
//! its input. The unit test (fast_differential.rs) drives the generator with a fixed seed; the
//! fuzz target `constructed_fast` (tests/fuzz/fuzz_targets/) includes this file, with
//! `constructed` imported at its root, and drives it with the fuzzer's bytes. A disagreement
//! panics.

#![allow(dead_code)]

use crate::constructed;
use serde_json::{json, Map, Value as Json};

/// How often the fast path answered, declined, or did not take the expression at all.
#[derive(Debug, Default)]
pub struct Tally {
    pub answered: usize,
    pub declined: usize,
    pub not_fast: usize,
    /// The sources of answered expressions, for the test to see each shape answered.
    pub answered_sources: Vec<String>,
}

/// `source` on each of `hosts`: wherever the fast path answers, minijinja gives the same value
/// of the same type (the `Debug` text tells `4096` from `4096.0` and `'1'` from `1`).
pub fn compare(source: &str, hosts: &[Map<String, Json>], tally: &mut Tally) {
    let Some(results) = constructed::fast_against_jinja(source, hosts) else {
        tally.not_fast += 1;
        return;
    };
    let mut answered = false;
    for (host, (fast, jinja)) in hosts.iter().zip(results) {
        let Some(got) = fast else {
            tally.declined += 1;
            continue;
        };
        let want = jinja.unwrap_or_else(|e| {
            panic!("{source} on {host:?}: fast gives {got:?}, minijinja fails: {e}")
        });
        assert_eq!(
            (got.kind(), format!("{got:?}")),
            (want.kind(), format!("{want:?}")),
            "{source} on {host:?}: fast (left) against minijinja (right)"
        );
        tally.answered += 1;
        answered = true;
    }
    if answered {
        tally.answered_sources.push(source.to_owned());
    }
}

/// The fuzz target: bytes starting with `=` are text, the expression on the first line and a
/// host (a JSON object) on each later one, the boundary hosts when none parses; any other
/// bytes are choices for the generator.
pub fn fuzz(data: &[u8]) -> Tally {
    let mut tally = Tally::default();
    if let Some(text) = data.strip_prefix(b"=") {
        let Ok(text) = std::str::from_utf8(text) else {
            return tally;
        };
        let mut lines = text.lines();
        let source = lines.next().unwrap_or("");
        let mut hosts: Vec<Map<String, Json>> = lines
            .filter_map(|l| serde_json::from_str::<Map<String, Json>>(l).ok())
            .collect();
        if hosts.is_empty() {
            hosts = boundary_hosts();
        }
        compare(source, &hosts, &mut tally);
        return tally;
    }
    let mut bytes = data.iter();
    // Choice 0 is always the shortest, so the input running out ends the expression.
    let mut pick = |n: usize| bytes.next().map_or(0, |&b| b as usize % n);
    let source = expression(&mut pick, 3);
    let mut hosts = boundary_hosts();
    hosts.push(host(&mut pick));
    compare(&source, &hosts, &mut tally);
    tally
}

/// The variables expressions read; `missing` is on no host.
pub const VARS: &[&str] = &["x", "y", "z", "m", "missing"];

/// Values at the boundaries: equal numbers, int against float, empty strings, lists and maps,
/// Unicode, the ends of the integer ranges.
pub fn pool() -> Vec<Json> {
    vec![
        json!(0),
        json!(1),
        json!(-1),
        json!(4096),
        json!(4095),
        json!(4097),
        json!(4096.0),
        json!(4095.5),
        json!(0.0),
        json!(-0.0),
        json!(0.5),
        json!(1e308),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(""),
        json!("a"),
        json!("A"),
        json!("ab"),
        json!("b"),
        json!("4096"),
        json!("é"),
        json!("É"),
        json!("日本"),
        json!(" a "),
        json!("a,b"),
        json!(true),
        json!(false),
        json!(null),
        json!([]),
        json!([4096]),
        json!(["a", "é"]),
        json!([4096.0, "a", null]),
        json!([[]]),
        json!(["", "a"]),
        json!({}),
        json!({"k": 4096}),
        json!({"k": "a", "j": {}}),
        json!({"é": "", "k": null}),
        json!({"k": {"j": 4096.0}}),
        json!({"j": []}),
    ]
}

/// Hosts that put the boundaries side by side: no variables at all, equal numbers, int
/// against float, the empty values, Unicode.
pub fn boundary_hosts() -> Vec<Map<String, Json>> {
    let hosts = [
        json!({}),
        json!({"x": 4096, "y": 4096, "z": 4096.0, "m": {"k": 4096, "j": {"k": 4096.0}}}),
        json!({"x": 4096, "y": 4095, "z": "4096", "m": {"k": [4096], "j": "4096"}}),
        json!({"x": "", "y": [], "z": {}, "m": {}}),
        json!({"x": "é", "y": "日本", "z": ["é", ""], "m": {"é": "É", "k": "a,b"}}),
        json!({"x": 0, "y": -0.0, "z": false, "m": {"k": null, "j": true}}),
        json!({"x": "a", "y": "ab", "z": ["a", "ab"], "m": {"k": "ab", "j": ["b"]}}),
    ];
    hosts
        .into_iter()
        .map(|h| match h {
            Json::Object(m) => m,
            _ => unreachable!("each is an object"),
        })
        .collect()
}

/// A host: each variable but `missing` a value of the pool, or absent (one time in eight).
pub fn host(pick: &mut dyn FnMut(usize) -> usize) -> Map<String, Json> {
    let pool = pool();
    let mut host = Map::new();
    for name in &VARS[..4] {
        if pick(8) != 0 {
            host.insert((*name).to_owned(), pool[pick(pool.len())].clone());
        }
    }
    host
}

/// A Jinja literal of `v`.
pub fn literal(v: &Json) -> String {
    match v {
        Json::Null => "none".to_owned(),
        Json::Bool(b) => b.to_string(),
        // serde_json writes a float with its `.0` or exponent, so it stays a float.
        Json::Number(n) => n.to_string(),
        Json::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Json::Array(a) => format!("[{}]", a.iter().map(literal).collect::<Vec<_>>().join(", ")),
        Json::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", literal(&Json::from(k.as_str())), literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn constant(pick: &mut dyn FnMut(usize) -> usize) -> String {
    let pool = pool();
    literal(&pool[pick(pool.len())])
}

/// A variable, a lookup in one (dotted, or a subscript, which is left to minijinja), or a
/// constant. Choice 0: a variable.
fn atom(pick: &mut dyn FnMut(usize) -> usize) -> String {
    let var = VARS[pick(VARS.len())];
    let key = ["k", "j"][pick(2)];
    match pick(16) {
        0..=5 => var.to_owned(),
        6..=7 => format!("{var}.{key}"),
        8 => format!("{var}.{key}.{}", ["k", "j"][pick(2)]),
        9 => format!("{var}[{}]", ["'k'", "'é'", "0"][pick(3)]),
        _ => constant(pick),
    }
}

/// A filter call: those the fast path knows, with plain arguments (now and then of the wrong
/// type), and some it leaves to minijinja.
fn filter(pick: &mut dyn FnMut(usize) -> usize) -> String {
    const PLAIN: &[&str] = &[
        "lower",
        "upper",
        "string",
        "trim",
        "first",
        "last",
        "length",
        "count",
        "list",
        "unique",
        "sort",
        "int",
        "float",
        "bool",
        "dict2items",
        "items2dict",
    ];
    match pick(24) {
        0..=9 => PLAIN[pick(PLAIN.len())].to_owned(),
        10..=11 => [
            "replace('a', 'b')",
            "replace('', '-', 1)",
            "replace('é', 'e')",
        ][pick(3)]
        .to_owned(),
        12..=13 => [
            "split(',')",
            "split()",
            "split(',', 1)",
            "join(',')",
            "join",
        ][pick(5)]
        .to_owned(),
        14..=15 => [
            "regex_replace('^a', 'b')",
            "regex_findall('[a-z]')",
            "trim('a')",
            "int(7)",
            "int(0, 16)",
            "float(0.5)",
            "sort(true)",
            "combine({'k': 1})",
        ][pick(8)]
        .to_owned(),
        16 => format!("{}({})", PLAIN[pick(PLAIN.len())], constant(pick)),
        // Left to minijinja: keyword arguments, filters of its own, a variable argument.
        17 => ["join(d=',')", "abs", "title", "replace(x, 'b')"][pick(4)].to_owned(),
        18 => "default".to_owned(),
        19..=20 => format!("{}({})", ["default", "d"][pick(2)], constant(pick)),
        21..=22 => format!(
            "{}({}, {})",
            ["default", "d"][pick(2)],
            constant(pick),
            ["true", "false", "1", "''", "none"][pick(5)]
        ),
        // One argument too many: minijinja fails.
        _ => format!("default({}, true, 1)", constant(pick)),
    }
}

/// An expression of the shapes the fast path claims (and a few it leaves to minijinja),
/// nested up to `depth` operators deep. Choice 0: an atom.
pub fn expression(pick: &mut dyn FnMut(usize) -> usize, depth: u32) -> String {
    if depth == 0 {
        return atom(pick);
    }
    let sub = |pick: &mut dyn FnMut(usize) -> usize| format!("({})", expression(pick, depth - 1));
    match pick(32) {
        0..=4 => atom(pick),
        5..=8 => {
            let e = sub(pick);
            format!("{e} | {}", filter(pick))
        }
        9..=10 => {
            let e = sub(pick);
            // `string` and a test with an argument are left to minijinja.
            let test = [
                "defined",
                "undefined",
                "defined",
                "undefined",
                "string",
                "defined(1)",
            ][pick(6)];
            let not = ["", "not "][pick(2)];
            format!("{e} is {not}{test}")
        }
        11..=20 => {
            let (a, b) = (sub(pick), sub(pick));
            let op = ["==", "!=", "<", "<=", ">", ">=", "in", "not in"][pick(8)];
            format!("{a} {op} {b}")
        }
        21..=22 => {
            let (a, b) = (sub(pick), sub(pick));
            format!("{a} / {b}")
        }
        23..=26 => {
            let (a, b) = (sub(pick), sub(pick));
            format!("{a} {} {b}", ["and", "or"][pick(2)])
        }
        27..=29 => {
            let e = sub(pick);
            format!("not {e}")
        }
        // Left to minijinja: other operators, a chained comparison, a negation.
        _ => {
            let (a, b) = (sub(pick), sub(pick));
            match pick(4) {
                0 => format!("{a} + {b}"),
                1 => format!("{a} < {b} < {}", sub(pick)),
                2 => format!("-{a}"),
                _ => format!("{a} // {b}"),
            }
        }
    }
}
