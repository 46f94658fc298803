use super::*;
use serde_json::{json, Map, Value as Json};

mod differential;
mod rules;

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

fn groups_of(c: &Constructed, hostvars: Json) -> Vec<(String, Option<String>)> {
    c.apply("h1", &vars(hostvars), &[])
        .expect("apply")
        .groups
        .into_iter()
        .map(|m| (m.group, m.parent))
        .collect()
}
