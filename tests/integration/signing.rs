//! The simulator checks signatures with the inventory's own signing code, so a mistake shared by
//! both would pass every other test. Here it is given requests signed without that code (the
//! known answers of fixtures/signing, made with Python's hmac and checked with the official
//! SDK): it must accept them as they are and refuse them with one character changed.

use serde_json::Value;

use crate::harness::{fixture, Sim, KEY, SECRET};

const ROLE_ARN: &str = "acs:ram::1234567890123456:role/inventory-reader";

fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(fixture("signing/vectors.json")).expect("vectors");
    let doc: Value = serde_json::from_str(&text).expect("vectors JSON");
    doc["vectors"].as_array().expect("vectors").clone()
}

fn param<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v["common"]
        .as_array()?
        .iter()
        .find(|p| p[0] == name)
        .and_then(|p| p[1].as_str())
}

#[test]
fn the_simulator_accepts_independently_signed_requests_and_nothing_else() {
    // The vectors signed with the test key, POSTed as the inventory sends them.
    let usable: Vec<Value> = vectors()
        .into_iter()
        .filter(|v| {
            v["method"] == "POST" && param(v, "AccessKeyId") == Some(KEY) && v["secret"] == SECRET
        })
        .collect();
    let names: Vec<&str> = usable.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "post_with_unicode_filters",
            "post_with_json_array_filters",
            "assume_role_with_policy"
        ]
    );
    for v in &usable {
        let name = v["name"].as_str().unwrap();
        // The simulator's clock set to the vector's time, so its timestamp is current.
        let ts = param(v, "Timestamp").unwrap();
        let at = chrono::NaiveDateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%SZ")
            .unwrap()
            .and_utc()
            .timestamp();
        let skew = (at - chrono::Utc::now().timestamp()).to_string();
        let sim = Sim::fixture_fleet(&["--clock-skew-secs", &skew, "--role-arn", ROLE_ARN]);
        let body = v["body"].as_str().unwrap();
        // One character of the signature changed: refused.
        let sig_at = body.rfind("&Signature=").unwrap() + "&Signature=".len();
        let mut altered = body.to_string();
        let c = if &body[sig_at..sig_at + 1] == "A" {
            "B"
        } else {
            "A"
        };
        altered.replace_range(sig_at..sig_at + 1, c);
        let r = sim.http("POST", "/", Some(&altered));
        assert_eq!(
            (r.status, r.code()),
            (400, "SignatureDoesNotMatch".into()),
            "{name}"
        );
        // As made: accepted.
        let r = sim.http("POST", "/", Some(body));
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        let answer = r.json();
        match param(v, "Action").unwrap() {
            "AssumeRole" => assert!(answer["Credentials"]["AccessKeyId"].is_string(), "{name}"),
            _ => assert!(answer["TotalCount"].is_u64(), "{name}: {answer}"),
        }
        // The log holds what was sent, as the service read it.
        let log = sim.requests();
        let last = log.last().unwrap();
        for p in v["params"].as_array().unwrap() {
            assert_eq!(last["params"][p[0].as_str().unwrap()], p[1], "{name}");
        }
    }
}
