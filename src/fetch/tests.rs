use super::*;
use crate::api::secret::{Credentials, Secret};
use crate::config::Env;
use serde_json::json;

fn settings() -> Settings {
    Settings::from_ini(None, &Env::default()).unwrap()
}

fn opts() -> HostvarOptions {
    HostvarOptions::from_settings(&settings())
}

fn instance(id: &str, status: &str) -> Instance {
    let raw = json!({"InstanceId": id, "Status": status, "RegionId": "r",
                     "PublicIpAddress": {"IpAddress": ["1.2.3.4"]}});
    Instance::from_api(raw, &opts()).unwrap()
}

#[test]
fn endpoints_from_the_template_the_region_or_the_default() {
    let mut s = settings();
    assert_eq!(
        endpoint_for(&s, "cn-x", None),
        "https://ecs.cn-x.aliyuncs.com"
    );
    assert_eq!(
        endpoint_for(&s, "cn-x", Some("")),
        "https://ecs.cn-x.aliyuncs.com"
    );
    assert_eq!(
        endpoint_for(&s, "cn-x", Some("ecs.cn-x.example.com")),
        "https://ecs.cn-x.example.com"
    );
    assert_eq!(
        endpoint_for(&s, "cn-x", Some("http://127.0.0.1:9/")),
        "http://127.0.0.1:9"
    );
    s.ecs_endpoint = Some("http://proxy/{region}/api".into());
    assert_eq!(
        endpoint_for(&s, "cn-x", Some("ecs.cn-x.example.com")),
        "http://proxy/cn-x/api"
    );
}

#[test]
fn pages_from_the_total_count_and_the_cap() {
    assert_eq!(page_count(0), Ok(0));
    assert_eq!(page_count(1), Ok(1));
    assert_eq!(page_count(100), Ok(1));
    assert_eq!(page_count(101), Ok(2));
    assert_eq!(page_count(MAX_TOTAL_COUNT), Ok(20_000));
    assert_eq!(
        page_count(MAX_TOTAL_COUNT + 1),
        Err("TotalCount 2000001 is not believable".into())
    );
    assert!(page_count(u64::MAX).is_err());
}

#[test]
fn the_first_instance_of_an_id_is_handed_over_once() {
    let mut seen = HashSet::default();
    let mut got = Vec::new();
    let mut a = instance("i-a", "Running");
    a.region = "first".into();
    hand_over(
        &mut seen,
        vec![a, instance("i-b", "Running"), instance("i-a", "Running")],
        &mut |i| got.push(i),
    );
    hand_over(
        &mut seen,
        vec![instance("i-b", "Running"), instance("i-c", "Running")],
        &mut |i| got.push(i),
    );
    let ids: Vec<&str> = got.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["i-a", "i-b", "i-c"]);
    assert_eq!(got[0].region, "first");
}

#[test]
fn a_page_keeps_the_wanted_states_and_its_total_count() {
    let body = json!({"TotalCount": 250, "Instances": {"Instance": [
        {"InstanceId": "i-1", "Status": "Running"},
        {"InstanceId": "i-2", "Status": "Stopped"},
    ]}})
    .to_string();
    let (total, all) = parse_page(200, body.as_bytes(), &opts()).unwrap();
    assert_eq!((total, all.len()), (250, 2));
    let running = ["running".to_string()];
    // A struct in serde's sequence form goes through serde_json, as it always did.
    let list = json!([{"InstanceId": "i-1", "Status": "Running"},
                      {"InstanceId": "i-2", "Status": "Stopped"}]);
    let seq = json!([250, {"Instance": list}]).to_string();
    for body in [body.clone(), seq] {
        let (total, running) = decode_page(200, body.as_bytes(), &opts(), Some(&running), None)
            .unwrap()
            .unwrap();
        let ids: Vec<&str> = running.iter().map(|i| i.id.as_str()).collect();
        assert_eq!((total, ids), (250, vec!["i-1"]), "{body}");
    }
    let bad = json!({"TotalCount": 1, "Instances": {"Instance": [{"Status": "Running"}]}});
    assert!(parse_page(200, bad.to_string().as_bytes(), &opts()).is_err());
    let e = parse_page(400, br#"{"Code":"Forbidden.RAM","Message":"no"}"#, &opts());
    assert_eq!(e.unwrap_err(), "Forbidden.RAM: no");
}

#[test]
fn usual_pages_are_read_in_place_and_odd_ones_left_to_serde_json() {
    let fleet: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/fleet_full.json"
    )))
    .unwrap();
    let body = json!({"RequestId": "r", "TotalCount": 4, "PageNumber": 1, "PageSize": 100,
                      "Instances": {"Instance": fleet["instances"]}})
    .to_string();
    let (total, list) = read_page(&body, &opts(), None, None)
        .expect("read in place")
        .unwrap();
    assert_eq!((total, list.len()), (4, 4));
    for odd in [
        r#"[1, {"Instance": []}]"#,
        r#"{"TotalCount": 1, "TotalCount": 1, "Instances": {}}"#,
        r#"{"Total\u0043ount": 1, "Instances": {}}"#,
        r#"{"TotalCount": 1.0, "Instances": {}}"#,
        r#"{"TotalCount": 1, "Instances": {"Instance": [1,]}}"#,
        r#"{"TotalCount": 1}"#,
    ] {
        assert!(read_page(odd, &opts(), None, None).is_none(), "{odd}");
    }
}

fn api(status: u16, code: &str) -> CallError {
    CallError::Api {
        status,
        code: code.into(),
        message: "m.".into(),
    }
}

#[test]
fn errors_name_the_scope_the_code_and_the_fix() {
    let line = |e: CallError, retries| api_error("r", e, retries).to_string();
    assert_eq!(
        line(api(400, "Forbidden.RAM"), 5),
        "region r: Forbidden.RAM: m. (add it to regions_exclude or grant ecs:DescribeInstances)"
    );
    assert_eq!(
        line(api(400, "Throttling.User"), 3),
        "region r: Throttling.User: m. (still throttled; raise throttle_wait in alicloud.ini, or run again later)"
    );
    assert_eq!(
        api_error(
            "r",
            CallError::ThrottleWait {
                code: "Throttling.User".into(),
                message: "m.".into(),
                action: "DescribeInstances".into(),
                waited: std::time::Duration::from_millis(70_400),
            },
            3
        )
        .to_string(),
        "region r: Throttling.User: m. (DescribeInstances still throttled after waiting 70.4 s for the service's next windows; raise throttle_wait in alicloud.ini, or run again later)"
    );
    assert!(line(api(400, "SignatureDoesNotMatch"), 1).ends_with("(check the access key secret)"));
    assert!(line(api(400, "InvalidAccessKeyId.NotFound"), 1).ends_with("(check the access key id)"));
    assert!(line(api(400, "InvalidTimeStamp.Expired"), 1).contains("NTP"));
    assert!(line(api(400, "InvalidSecurityToken.Expired"), 1).contains("fresh credentials"));
    assert!(line(api(400, "InvalidRegionId.NotFound"), 1)
        .ends_with("(r is not a region: check regions in alicloud.ini)"));
    assert_eq!(line(api(400, "Odd"), 1), "region r: Odd: m.");
    let malformed = CallError::Malformed {
        len: 3,
        source: serde_json::from_str::<u8>("x").unwrap_err(),
    };
    let l = line(malformed, 1);
    assert!(
        l.starts_with("region r: MalformedResponse: ") && l.ends_with("check ecs_endpoint)"),
        "{l}"
    );
}

#[tokio::test]
async fn a_transport_error_says_how_often_it_was_retried() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = || async {
        reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap_err()
    };
    let e = api_error("x", CallError::Transport(refused().await), 2).to_string();
    assert!(e.starts_with("region x: could not connect"), "{e}");
    assert!(e.contains(" after 2 retries (check the endpoint"), "{e}");
    let e = api_error("x", CallError::Transport(refused().await), 0).to_string();
    assert!(!e.contains("retries ("), "{e}");
}

#[tokio::test]
async fn listed_regions_are_taken_as_written_less_the_excluded() {
    let mut s = settings();
    s.regions = Regions::List(vec!["a".into(), "b".into(), "a".into(), "c".into()]);
    s.regions_exclude = vec!["b".into()];
    s.ecs_endpoint = Some("http://sim/{region}".into());
    let creds = Credentials {
        access_key_id: "k".into(),
        secret: Secret::new("s"),
        security_token: None,
        source: "test".into(),
    };
    let client = Client::new(creds, std::time::Duration::from_secs(1), 1, 0).unwrap();
    let t = targets(&client, &s, "home").await.unwrap();
    let got: Vec<(&str, &str)> = t
        .iter()
        .map(|t| (t.region.as_str(), t.endpoint.as_str()))
        .collect();
    assert_eq!(got, [("a", "http://sim/a"), ("c", "http://sim/c")]);
    assert_eq!(client.stats().requests, 0, "no DescribeRegions");
}

#[test]
fn failures_name_the_retries_and_the_fix() {
    let e = api_error("cn-x", api(503, "ServiceUnavailable"), 1);
    assert_eq!(
        e.to_string(),
        "region cn-x: ServiceUnavailable: m. (still failing after 1 retry; run again later, or raise max_retries in alicloud.ini)"
    );
    assert_eq!(e.exit_code(), crate::error::exit_codes::RUNTIME);
    let e = api_error("cn-x", api(502, "HTTP502"), 0);
    assert!(e.to_string().ends_with("(not retried as max_retries = 0; run again later, or raise max_retries in alicloud.ini)"), "{e}");
    let e = api_error("cn-x", api(400, "Throttling.User"), 5);
    assert!(
        e.to_string().contains("raise throttle_wait"),
        "throttling waits for windows, not retries: {e}"
    );
}

#[test]
fn refusals_the_operator_must_fix_exit_2() {
    let e = api_error("ALL", api(404, "InvalidRegionId.NotFound"), 5);
    assert_eq!(
        e.to_string(),
        "region ALL: InvalidRegionId.NotFound: m. (ALL is not a region: check regions in alicloud.ini)"
    );
    assert_eq!(e.exit_code(), crate::error::exit_codes::CONFIG);
    let e = regions_error("cn-x", api(403, "Forbidden.RAM"), 5);
    assert_eq!(
        e.to_string(),
        "DescribeRegions: Forbidden.RAM: m. (grant ecs:DescribeRegions, or list the regions in 'regions' in alicloud.ini so that it is not needed)"
    );
    assert_eq!(e.exit_code(), crate::error::exit_codes::CONFIG);
    let e = regions_error("cn-x", api(404, "InvalidRegionId.NotFound"), 5);
    assert!(
        e.to_string()
            .ends_with("(cn-x is not a region: check alicloud_region or ALICLOUD_REGION)"),
        "{e}"
    );
    assert_eq!(e.exit_code(), crate::error::exit_codes::CONFIG);
    // A region the account may not list stays a runtime failure.
    let e = api_error("cn-x", api(403, "Forbidden.RAM"), 5);
    assert_eq!(e.exit_code(), crate::error::exit_codes::RUNTIME);
    assert!(e.to_string().contains("ecs:DescribeInstances"), "{e}");
}
