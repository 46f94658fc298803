//! The HTTP side in process: a real listener, raw HTTP/1.1 requests signed as the inventory
//! signs them.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::router;
use crate::api::{sign, ECS_VERSION};
use crate::config::{Config, DEFAULT_ACCOUNT_ID};
use crate::faults::Fault;
use crate::fleet::Fleet;
use crate::sim::Sim;

const FLEET: &str = r#"{"regions": [{"RegionId": "cn-a"}, {"RegionId": "cn-b"}, {"RegionId": "cn-c"}],
 "instances": [{"InstanceId": "i-a1", "RegionId": "cn-a"}, {"InstanceId": "i-b1", "RegionId": "cn-b"},
               {"InstanceId": "i-c1", "RegionId": "cn-c"}]}"#;

fn config() -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        keys: HashMap::from([("testid".to_owned(), "testsecret".to_owned())]),
        latency: Duration::ZERO,
        throttle_first: 0,
        throttle_above_inflight: None,
        quota: None,
        quota_window_ms: 60_000,
        faults: Vec::new(),
        clock_skew: 0,
        role_arns: Vec::new(),
        account_id: DEFAULT_ACCOUNT_ID.to_owned(),
        key_accounts: HashMap::new(),
        ecs_role: None,
        port_file: None,
        verbose: false,
    }
}

/// The server runs on its own runtime until the test ends.
struct Server {
    addr: SocketAddr,
    _rt: tokio::runtime::Runtime,
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

fn serve(cfg: Config) -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let fleet = Fleet::from_json(FLEET).expect("fleet");
    let app = router(Arc::new(Sim::new(cfg, fleet, HashMap::new())));
    rt.spawn(async move { axum::serve(listener, app).await });
    Server { addr, _rt: rt }
}

impl Server {
    fn http(&self, method: &str, target: &str) -> Resp {
        let mut s = TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        write!(
            s,
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            self.addr
        )
        .expect("send");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("read");
        let raw = String::from_utf8(raw).expect("utf-8");
        let (head, body) = raw.split_once("\r\n\r\n").expect("a header block");
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|c| c.parse().ok())
            .expect("a status line");
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Resp {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    /// A signed ECS call of `action` in `region`.
    fn call(&self, action: &str, region: &str) -> Resp {
        let nonce = uuid::Uuid::new_v4().to_string();
        let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let p = [
            ("Action", action),
            ("Version", ECS_VERSION),
            ("Format", "JSON"),
            ("AccessKeyId", "testid"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", &nonce),
            ("Timestamp", &ts),
            ("RegionId", region),
        ];
        let sig = sign::sign("GET", "testsecret", &p);
        let query = format!(
            "{}&Signature={}",
            sign::canonical_query(&p),
            sign::encode(&sig)
        );
        self.http("GET", &format!("/?{query}"))
    }

    fn stats(&self) -> Value {
        self.http("GET", "/_sim/stats").json()
    }
}

fn window(window_ms: i64) -> i64 {
    chrono::Utc::now().timestamp_millis().div_euclid(window_ms)
}

/// Sleeps into the window after `w`.
fn sleep_past(w: i64, window_ms: i64) {
    let next = (w + 1) * window_ms;
    let wait = next - chrono::Utc::now().timestamp_millis();
    if wait > 0 {
        std::thread::sleep(Duration::from_millis(wait as u64 + 20));
    }
}

/// An answer's error fields but its request id.
fn error_of(r: &Resp) -> (u16, Value) {
    let mut v = r.json();
    v.as_object_mut().expect("an object").remove("RequestId");
    (r.status, v)
}

#[test]
fn a_region_over_its_quota_is_throttled_until_the_next_window() {
    const WINDOW: i64 = 500;
    let mut cfg = config();
    cfg.quota = Some(2);
    cfg.quota_window_ms = WINDOW as u64;
    cfg.faults = vec![("cn-c".to_owned(), Fault::Throttle)];
    let sim = serve(cfg);
    // Calls that straddle a window boundary prove nothing: try again in the next window.
    for _attempt in 0..20 {
        sim.http("POST", "/_sim/reset");
        let w = window(WINDOW);
        let served = [
            sim.call("DescribeInstances", "cn-a"),
            sim.call("DescribeInstances", "cn-a"),
        ];
        let refused = sim.call("DescribeInstances", "cn-a");
        let other_region = sim.call("DescribeInstances", "cn-b");
        let other_action = sim.call("DescribeRegions", "cn-a");
        if window(WINDOW) != w {
            continue;
        }
        for r in &served {
            assert_eq!(r.status, 200, "{}", r.body);
        }
        // The very answer of a throttle fault.
        let fault = sim.call("DescribeInstances", "cn-c");
        assert_eq!(error_of(&refused), error_of(&fault));
        assert_eq!(refused.json()["Code"], "Throttling.User");
        assert_eq!(other_region.status, 200, "{}", other_region.body);
        assert_eq!(other_action.status, 200, "{}", other_action.body);

        sleep_past(w, WINDOW);
        let next = sim.call("DescribeInstances", "cn-a");
        assert_eq!(next.status, 200, "{}", next.body);
        assert_eq!(
            next.json()["Instances"]["Instance"][0]["InstanceId"],
            "i-a1"
        );

        let st = sim.stats();
        assert_eq!(st["throttled"], 2, "{st}");
        assert_eq!(
            st["throttled_by_region"],
            serde_json::json!({"cn-a": 1, "cn-c": 1}),
            "{st}"
        );
        return;
    }
    panic!("no five calls fitted in one {WINDOW} ms window");
}

#[test]
fn without_a_quota_nothing_is_throttled() {
    let sim = serve(config());
    for _ in 0..30 {
        let r = sim.call("DescribeInstances", "cn-a");
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let st = sim.stats();
    assert_eq!(st["throttled"], 0, "{st}");
    assert_eq!(st["throttled_by_region"], serde_json::json!({}), "{st}");
}

#[test]
fn short_windows_keep_a_throttled_client_fast() {
    // One call per 500 ms window: a client that waits for the next window gets every page.
    const WINDOW: u64 = 500;
    let mut cfg = config();
    cfg.quota = Some(1);
    cfg.quota_window_ms = WINDOW;
    let sim = serve(cfg);
    let start = Instant::now();
    for _ in 0..4 {
        let mut tries = 0;
        while sim.call("DescribeInstances", "cn-a").status != 200 {
            tries += 1;
            assert!(tries < 100, "never served");
            std::thread::sleep(Duration::from_millis(WINDOW / 5));
        }
    }
    // Four windows at most (each call fits the next); the bound only catches a minute-long wait.
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    let st = sim.stats();
    assert_eq!(st["requests"], st["throttled"].as_u64().unwrap_or(0) + 4);
}

#[test]
fn every_answer_is_dated_by_the_simulator_clock() {
    for skew in [0, 3600] {
        let mut cfg = config();
        cfg.clock_skew = skew;
        let sim = serve(cfg);
        let answers = [
            sim.call("DescribeInstances", "cn-a"),
            sim.call("DescribeInstances", "xx-none"),
            sim.http("GET", "/?Action=DescribeRegions"),
            sim.http("DELETE", "/"),
            sim.http("GET", "/no/such/path"),
            sim.http("GET", "/latest/meta-data/ram/security-credentials/"),
            sim.http("PUT", "/latest/api/token"),
            sim.http("GET", "/_sim/stats"),
            sim.http("GET", "/_sim/reset"),
        ];
        let now = chrono::Utc::now().timestamp() + skew;
        for r in &answers {
            let date = r
                .header("date")
                .unwrap_or_else(|| panic!("no Date on a {} answer", r.status));
            assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
            // Ours replaces hyper's, not added beside it.
            let dates = r
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("date"));
            assert_eq!(dates.count(), 1);
            let t = chrono::DateTime::parse_from_rfc2822(date)
                .unwrap_or_else(|e| panic!("{date}: {e}"))
                .timestamp();
            assert!((now - t).abs() <= 60, "{date} is not near {now}");
        }
        let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
        // An hour ahead, the signed calls' timestamps are expired.
        let signed: [u16; 2] = if skew == 0 { [200, 404] } else { [400, 400] };
        assert_eq!(statuses[..2], signed);
        assert_eq!(statuses[2..], [400, 405, 404, 404, 200, 200, 405]);
    }
}
