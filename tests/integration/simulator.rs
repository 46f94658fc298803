//! Integration tests of the ECS API simulator: the real binary on a loopback port, real signed
//! HTTP/1.1 requests over a plain TCP socket.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use alicloud_inventory::api::sign;
use serde_json::Value;

use crate::harness::{
    self, fixture, generate, request, simulator, Resp, Sim, Workspace, KEY, SECRET,
};

/// A request's parameters before signing.
struct Req(Vec<(String, String)>);

impl Req {
    fn new(action: &str, version: &str, key: &str) -> Req {
        let p = [
            ("Action", action),
            ("Version", version),
            ("Format", "JSON"),
            ("AccessKeyId", key),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", &uuid::Uuid::new_v4().to_string()),
            (
                "Timestamp",
                &chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ),
        ];
        Req(p
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect())
    }

    fn ecs(action: &str) -> Req {
        Req::new(action, "2014-05-26", KEY)
    }

    fn set(mut self, k: &str, v: &str) -> Req {
        self.0.retain(|(n, _)| n != k);
        self.0.push((k.to_owned(), v.to_owned()));
        self
    }

    fn remove(mut self, k: &str) -> Req {
        self.0.retain(|(n, _)| n != k);
        self
    }

    /// The signed, encoded query (or form body).
    fn encoded(&self, method: &str, secret: &str) -> String {
        let sig = sign::sign(method, secret, &self.0);
        format!(
            "{}&Signature={}",
            sign::canonical_query(&self.0),
            sign::encode(&sig)
        )
    }
}

/// Signed API calls.
impl Sim {
    fn get(&self, req: &Req, secret: &str) -> Resp {
        self.http("GET", &format!("/?{}", req.encoded("GET", secret)), None)
    }

    fn call(&self, req: &Req) -> Resp {
        self.get(req, SECRET)
    }

    fn ok(&self, req: &Req) -> Value {
        let r = self.call(req);
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    }
}

fn instance_ids(v: &Value) -> Vec<String> {
    v["Instances"]["Instance"]
        .as_array()
        .expect("Instances.Instance array")
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn describe(region: &str) -> Req {
    Req::ecs("DescribeInstances").set("RegionId", region)
}

fn hz(n: u32) -> String {
    format!("i-bp1aaaaaaaaaaaaaaa{n:02}")
}

/// The instance fields of docs/DESIGN.md, "The API client"; every instance carries them all.
const FIELDS: &[&str] = &[
    "InstanceId",
    "InstanceName",
    "HostName",
    "Description",
    "RegionId",
    "ZoneId",
    "InstanceType",
    "InstanceTypeFamily",
    "Cpu",
    "Memory",
    "Status",
    "ImageId",
    "OSName",
    "OSType",
    "CreationTime",
    "ExpiredTime",
    "InstanceChargeType",
    "InternetChargeType",
    "InternetMaxBandwidthIn",
    "InternetMaxBandwidthOut",
    "IoOptimized",
    "InstanceNetworkType",
    "PublicIpAddress",
    "InnerIpAddress",
    "EipAddress",
    "VpcAttributes",
    "SecurityGroupIds",
    "NetworkInterfaces",
    "GPUAmount",
    "GPUSpec",
    "DeletionProtection",
    "CreditSpecification",
    "DeploymentSetId",
    "ResourceGroupId",
    "AutoReleaseTime",
    "KeyPairName",
];

fn check_shape(i: &Value) {
    for f in FIELDS {
        assert!(i.get(f).is_some(), "{f} missing in {i}");
    }
    assert!(i["PublicIpAddress"]["IpAddress"].is_array());
    assert!(i["InnerIpAddress"]["IpAddress"].is_array());
    assert!(i["VpcAttributes"]["PrivateIpAddress"]["IpAddress"].is_array());
    assert!(i["SecurityGroupIds"]["SecurityGroupId"].is_array());
    assert!(i["NetworkInterfaces"]["NetworkInterface"].is_array());
    assert!(i["EipAddress"]["IpAddress"].is_string());
    if let Some(t) = i.get("Tags") {
        assert!(t["Tag"].is_array());
    }
}

#[test]
fn describe_regions_signed_get_and_post() {
    let sim = Sim::fixture_fleet(&[]);
    let v = sim.ok(&Req::ecs("DescribeRegions"));
    assert!(v["RequestId"].is_string());
    let ids: Vec<&str> = v["Regions"]["Region"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["RegionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["cn-hangzhou", "cn-shanghai", "ap-southeast-1"]);
    assert_eq!(
        v["Regions"]["Region"][0]["RegionEndpoint"],
        "ecs.cn-hangzhou.aliyuncs.com"
    );

    // POST form, signed with POST.
    let body = Req::ecs("DescribeRegions").encoded("POST", SECRET);
    let r = sim.http("POST", "/", Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    // ... but a POST body signed as GET is refused.
    let body = Req::ecs("DescribeRegions").encoded("GET", SECRET);
    let r = sim.http("POST", "/", Some(&body));
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "SignatureDoesNotMatch")
    );
}

#[test]
fn authentication_failures() {
    // A second key beside the harness's KEY:SECRET.
    let sim = Sim::fixture_fleet(&["--access-key", "AKID1:s3cret"]);
    assert_eq!(
        sim.get(
            &Req::new("DescribeRegions", "2014-05-26", "AKID1"),
            "s3cret"
        )
        .status,
        200
    );

    let r = sim.get(&Req::ecs("DescribeRegions"), "wrong");
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "SignatureDoesNotMatch")
    );
    let msg = r.json()["Message"].as_str().unwrap().to_owned();
    assert!(msg.starts_with("Specified signature is not matched with our calculation."));
    assert!(
        msg.contains(
            "server string to sign is:GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions"
        ),
        "{msg}"
    );
    assert!(!msg.contains(SECRET));
    let v = r.json();
    assert_eq!(v["HostId"], "ecs.aliyuncs.com");
    assert!(v["Recommend"]
        .as_str()
        .unwrap()
        .contains("SignatureDoesNotMatch"));
    assert!(v["RequestId"].is_string());

    let r = sim.call(&Req::new("DescribeRegions", "2014-05-26", "nobody"));
    assert_eq!(
        (r.status, r.code().as_str()),
        (404, "InvalidAccessKeyId.NotFound")
    );
    assert_eq!(r.json()["Message"], "Specified access key is not found.");

    let r = sim.call(&Req::ecs("DescribeRegions").remove("Timestamp"));
    assert_eq!((r.status, r.code().as_str()), (400, "MissingParameter"));
    assert!(r.body.contains(r#"\"Timestamp\""#), "{}", r.body);
    let r = sim.http("GET", "/", None);
    assert_eq!((r.status, r.code().as_str()), (400, "MissingParameter"));
    assert!(r.body.contains("Action"));

    let r = sim.call(&Req::ecs("DescribeRegions").set("SignatureMethod", "HMAC-SHA256"));
    assert_eq!((r.status, r.code().as_str()), (400, "InvalidParameter"));

    // Reused nonce: the second use is refused.
    let req = Req::ecs("DescribeRegions").set("SignatureNonce", "fixed-nonce-1");
    assert_eq!(sim.call(&req).status, 200);
    let r = sim.call(&req);
    assert_eq!((r.status, r.code().as_str()), (400, "SignatureNonceUsed"));

    // Timestamps.
    let old = (chrono::Utc::now() - chrono::Duration::minutes(16))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let r = sim.call(&Req::ecs("DescribeRegions").set("Timestamp", &old));
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "InvalidTimeStamp.Expired")
    );
    assert_eq!(
        r.json()["Message"],
        "Specified time stamp or date value is expired."
    );
    let near = (chrono::Utc::now() - chrono::Duration::minutes(10))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert_eq!(
        sim.call(&Req::ecs("DescribeRegions").set("Timestamp", &near))
            .status,
        200
    );
    for bad in [
        "2024-01-01 00:00:00",
        "2024-01-01T00:00:00.000Z",
        "2024-13-01T00:00:00Z",
    ] {
        let r = sim.call(&Req::ecs("DescribeRegions").set("Timestamp", bad));
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "InvalidTimeStamp.Format"),
            "{bad}"
        );
    }

    // Version, Format, Action.
    let r = sim.call(&Req::ecs("DescribeRegions").set("Version", "2016-03-14"));
    assert_eq!((r.status, r.code().as_str()), (400, "InvalidVersion"));
    let r = sim.call(&Req::ecs("DescribeRegions").set("Format", "XML"));
    assert_eq!((r.status, r.code().as_str()), (400, "InvalidParameter"));
    let r = sim.call(&Req::ecs("RebootInstance"));
    assert_eq!(
        (r.status, r.code().as_str()),
        (404, "InvalidAction.NotFound")
    );
}

#[test]
fn clock_skew_expires_every_timestamp() {
    let sim = Sim::fixture_fleet(&["--clock-skew-secs", "3600"]);
    let r = sim.call(&Req::ecs("DescribeRegions"));
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "InvalidTimeStamp.Expired")
    );
    let later = (chrono::Utc::now() + chrono::Duration::hours(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert_eq!(
        sim.call(&Req::ecs("DescribeRegions").set("Timestamp", &later))
            .status,
        200
    );
}

#[test]
fn paging_through_250_instances() {
    let ws = Workspace::new();
    let fleet = ws.path("fleet250.json");
    std::fs::write(&fleet, generate(&["--regions", "1", "--instances", "250"])).unwrap();
    let sim = Sim::start(&fleet, &[]);
    let mut seen = HashSet::new();
    for page in 1..=3 {
        let v = sim.ok(&describe("cn-hangzhou")
            .set("PageSize", "100")
            .set("PageNumber", &page.to_string()));
        assert_eq!(v["TotalCount"], 250);
        assert_eq!(v["PageNumber"], page);
        assert_eq!(v["PageSize"], 100);
        let ids = instance_ids(&v);
        assert_eq!(ids.len(), if page < 3 { 100 } else { 50 });
        for id in ids {
            assert!(seen.insert(id.clone()), "{id} twice");
        }
        for i in v["Instances"]["Instance"].as_array().unwrap() {
            check_shape(i);
        }
    }
    assert_eq!(seen.len(), 250);
    let v = sim.ok(&describe("cn-hangzhou")
        .set("PageSize", "100")
        .set("PageNumber", "4"));
    assert_eq!(instance_ids(&v).len(), 0);
    assert_eq!(v["TotalCount"], 250);
    // Defaults: page 1 of 10.
    let v = sim.ok(&describe("cn-hangzhou"));
    assert_eq!(
        (v["PageNumber"].clone(), v["PageSize"].clone()),
        (1.into(), 10.into())
    );
    assert_eq!(instance_ids(&v).len(), 10);

    for (k, bad) in [
        ("PageSize", "101"),
        ("PageSize", "0"),
        ("PageNumber", "0"),
        ("PageNumber", "x"),
    ] {
        let r = sim.call(&describe("cn-hangzhou").set(k, bad));
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "InvalidParameter"),
            "{k}={bad}"
        );
        assert!(r.body.contains(k));
    }
    let r = sim.call(&Req::ecs("DescribeInstances"));
    assert_eq!((r.status, r.code().as_str()), (400, "MissingParameter"));
    assert!(r.body.contains("RegionId"));
    let r = sim.call(&describe("cn-nowhere"));
    assert_eq!(
        (r.status, r.code().as_str()),
        (404, "InvalidRegionId.NotFound")
    );
}

#[test]
fn filters() {
    let sim = Sim::fixture_fleet(&[]);
    let ids = |req: Req| instance_ids(&sim.ok(&req.set("PageSize", "100")));

    let all = ids(describe("cn-hangzhou"));
    assert_eq!(all, (1..=7).map(hz).collect::<Vec<_>>());

    let prod = ids(describe("cn-hangzhou")
        .set("Tag.1.Key", "env")
        .set("Tag.1.Value", "prod"));
    assert_eq!(prod, [hz(1), hz(2), hz(4)]);
    let both = ids(describe("cn-hangzhou")
        .set("Tag.1.Key", "env")
        .set("Tag.1.Value", "prod")
        .set("Tag.2.Key", "app:tier.v1 x"));
    assert_eq!(both, [hz(2)]);
    assert_eq!(
        ids(describe("cn-hangzhou")
            .set("Tag.1.Key", "env")
            .set("Tag.1.Value", "生产")),
        [hz(3)]
    );
    assert_eq!(
        ids(describe("cn-hangzhou").set("Tag.1.Key", "backup")),
        [hz(3)]
    );
    let r = sim.call(&describe("cn-hangzhou").set("Tag.1.Value", "prod"));
    assert_eq!((r.status, r.code().as_str()), (400, "MissingParameter"));
    let r = sim.call(&describe("cn-hangzhou").set("Tag.21.Key", "env"));
    assert_eq!((r.status, r.code().as_str()), (400, "InvalidParameter"));

    let wanted = format!(r#"["{}","{}","i-nope"]"#, hz(5), hz(2));
    assert_eq!(
        ids(describe("cn-hangzhou").set("InstanceIds", &wanted)),
        [hz(2), hz(5)]
    );
    assert_eq!(
        ids(describe("cn-hangzhou").set("PrivateIpAddresses", r#"["172.16.2.21"]"#)),
        [hz(3)]
    );
    assert_eq!(
        ids(describe("cn-hangzhou").set("EipAddresses", r#"["47.98.20.4"]"#)),
        [hz(4)]
    );
    assert_eq!(
        ids(describe("cn-hangzhou").set("PublicIpAddresses", r#"["47.96.10.12"]"#)),
        [hz(2)]
    );
    for bad in [
        "i-bp1aaaaaaaaaaaaaaa01",
        r#"[1,2]"#,
        r#"{"a":"b"}"#,
        "[\"x\"",
    ] {
        let r = sim.call(&describe("cn-hangzhou").set("InstanceIds", bad));
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "InvalidParameter"),
            "{bad}"
        );
        assert!(r.json()["Message"]
            .as_str()
            .unwrap()
            .contains("InstanceIds"));
    }

    assert_eq!(
        ids(describe("cn-hangzhou").set("InstanceName", "web-*")),
        [hz(1), hz(2), hz(5)]
    );
    assert_eq!(
        ids(describe("cn-hangzhou").set("Status", "Stopped")),
        [hz(5)]
    );
    assert_eq!(
        ids(describe("cn-hangzhou").set("InstanceType", "ecs.r6.large")),
        [hz(3)]
    );
    assert_eq!(
        ids(describe("cn-hangzhou").set("SecurityGroupId", "sg-bp1sg00000000000002")),
        [hz(1)]
    );
    assert_eq!(ids(describe("cn-hangzhou").set("KeyPairName", "")).len(), 7);
    assert_eq!(
        ids(describe("cn-shanghai").set("InstanceNetworkType", "classic")),
        ["i-uf6bbbbbbbbbbbbbbb08"]
    );
    assert_eq!(
        ids(describe("cn-shanghai").set("PrivateIpAddresses", r#"["10.116.3.8"]"#)),
        ["i-uf6bbbbbbbbbbbbbbb08"]
    );
    // Unknown parameters are ignored.
    assert_eq!(
        ids(describe("cn-hangzhou").set("NoSuchFilter", "x")).len(),
        7
    );
    // The filtered TotalCount.
    let v = sim.ok(&describe("cn-hangzhou")
        .set("Status", "Running")
        .set("PageSize", "2"));
    assert_eq!(v["TotalCount"], 5);
    assert_eq!(instance_ids(&v).len(), 2);
}

#[test]
fn fixture_instances_have_the_full_shape_and_pass_unknown_fields_through() {
    let sim = Sim::fixture_fleet(&[]);
    let mut n = 0;
    for region in ["cn-hangzhou", "cn-shanghai", "ap-southeast-1"] {
        let v = sim.ok(&describe(region).set("PageSize", "100"));
        for i in v["Instances"]["Instance"].as_array().unwrap() {
            check_shape(i);
            assert_eq!(i["RegionId"], region);
            assert_eq!(i["SpotStrategy"], "NoSpot");
            n += 1;
        }
    }
    assert_eq!(n, 14);
    let v = sim.ok(&describe("cn-hangzhou").set("InstanceIds", &format!(r#"["{}"]"#, hz(1))));
    assert_eq!(
        v["Instances"]["Instance"][0]["MetadataOptions"]["HttpEndpoint"],
        "enabled"
    );
    let v = sim.ok(&describe("cn-hangzhou").set("InstanceIds", &format!(r#"["{}"]"#, hz(6))));
    assert!(v["Instances"]["Instance"][0].get("Tags").is_none());
}

fn assume(role: &str) -> Req {
    Req::new("AssumeRole", "2015-04-01", KEY)
        .set("RoleArn", role)
        .set("RoleSessionName", "inventory")
}

const ROLE: &str = "acs:ram::1234567890123456:role/inventory-reader";

#[test]
fn assume_role_and_security_tokens() {
    let sim = Sim::fixture_fleet(&["--role-arn", ROLE]);
    let v = sim.ok(&assume(ROLE).set("DurationSeconds", "900"));
    let c = &v["Credentials"];
    let id = c["AccessKeyId"].as_str().unwrap();
    let secret = c["AccessKeySecret"].as_str().unwrap();
    let token = c["SecurityToken"].as_str().unwrap();
    assert!(id.starts_with("STS."));
    assert_eq!(v["AssumedRoleUser"]["Arn"], format!("{ROLE}/inventory"));
    let exp = chrono::NaiveDateTime::parse_from_str(
        c["Expiration"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%SZ",
    )
    .unwrap()
    .and_utc();
    let left = (exp - chrono::Utc::now()).num_seconds();
    assert!((890..=905).contains(&left), "{left}");

    // The temporary key works with its token only.
    let req = || Req::new("DescribeInstances", "2014-05-26", id).set("RegionId", "cn-hangzhou");
    let r = sim.get(&req().set("SecurityToken", token), secret);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = sim.get(&req(), secret);
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "InvalidSecurityToken.Missing")
    );
    let r = sim.get(&req().set("SecurityToken", "CAISforged"), secret);
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "InvalidSecurityToken.MismatchWithAccessKey")
    );
    let r = sim.get(&req().set("SecurityToken", token), "wrong");
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "SignatureDoesNotMatch")
    );
    // A permanent key with a token is refused too.
    let r = sim.call(&describe("cn-hangzhou").set("SecurityToken", token));
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "InvalidSecurityToken.MismatchWithAccessKey")
    );

    // Role chaining: the temporary key may assume a role.
    let r = sim.get(
        &Req::new("AssumeRole", "2015-04-01", id)
            .set("SecurityToken", token)
            .set("RoleArn", ROLE)
            .set("RoleSessionName", "chained"),
        secret,
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // Denied role, bad duration, missing session, bad policy, wrong version.
    let r = sim.call(&assume("acs:ram::1234567890123456:role/admin"));
    assert_eq!((r.status, r.code().as_str()), (403, "NoPermission"));
    assert_eq!(r.json()["HostId"], "sts.aliyuncs.com");
    let r = sim.call(&assume(ROLE).set("DurationSeconds", "899"));
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "InvalidParameter.DurationSeconds")
    );
    let r = sim.call(&assume(ROLE).set("DurationSeconds", "3601"));
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "InvalidParameter.DurationSeconds")
    );
    let r = sim.call(&assume(ROLE).remove("RoleSessionName"));
    assert_eq!((r.status, r.code().as_str()), (400, "MissingParameter"));
    let r = sim.call(&assume(ROLE).set("Policy", "{not json"));
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "InvalidParameter.PolicyGrammar")
    );
    let policy = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}"#;
    assert_eq!(sim.call(&assume(ROLE).set("Policy", policy)).status, 200);
    let r = sim.call(&assume(ROLE).set("Version", "2014-05-26"));
    assert_eq!((r.status, r.code().as_str()), (400, "InvalidVersion"));
}

#[test]
fn expired_security_token_from_the_mint_hook() {
    let sim = Sim::fixture_fleet(&[]);
    let c = sim.mint_sts(-10);
    let req = Req::new(
        "DescribeRegions",
        "2014-05-26",
        c["AccessKeyId"].as_str().unwrap(),
    )
    .set("SecurityToken", c["SecurityToken"].as_str().unwrap());
    let r = sim.get(&req, c["AccessKeySecret"].as_str().unwrap());
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "InvalidSecurityToken.Expired")
    );
    assert_eq!(r.json()["Message"], "Specified SecurityToken is expired.");

    let c = sim.mint_sts(60);
    let req = Req::new(
        "DescribeRegions",
        "2014-05-26",
        c["AccessKeyId"].as_str().unwrap(),
    )
    .set("SecurityToken", c["SecurityToken"].as_str().unwrap());
    assert_eq!(
        sim.get(&req, c["AccessKeySecret"].as_str().unwrap()).status,
        200
    );
    let r = sim.http("POST", "/_sim/mint-sts?ttl=soon", None);
    assert_eq!(r.status, 400);
    // Hooks are not API requests.
    assert_eq!(sim.stats()["requests"], 2);
}

#[test]
fn metadata_service() {
    let sim = Sim::fixture_fleet(&["--ecs-role", "EcsInventoryRole"]);
    let r = sim.http("GET", "/latest/meta-data/ram/security-credentials/", None);
    assert_eq!((r.status, r.body.as_str()), (200, "EcsInventoryRole"));
    let r = sim.http(
        "GET",
        "/latest/meta-data/ram/security-credentials/EcsInventoryRole",
        None,
    );
    assert_eq!(r.status, 200);
    let c = r.json();
    assert_eq!(c["Code"], "Success");
    for k in [
        "AccessKeyId",
        "AccessKeySecret",
        "Expiration",
        "SecurityToken",
        "LastUpdated",
    ] {
        assert!(c[k].as_str().is_some_and(|s| !s.is_empty()), "{k}");
    }
    let req = Req::new(
        "DescribeRegions",
        "2014-05-26",
        c["AccessKeyId"].as_str().unwrap(),
    )
    .set("SecurityToken", c["SecurityToken"].as_str().unwrap());
    assert_eq!(
        sim.get(&req, c["AccessKeySecret"].as_str().unwrap()).status,
        200
    );
    let r = sim.http(
        "GET",
        "/latest/meta-data/ram/security-credentials/OtherRole",
        None,
    );
    assert_eq!(r.status, 404);
    assert_eq!(sim.stats()["metadata_requests"], 3);

    let plain = Sim::fixture_fleet(&[]);
    let r = plain.http("GET", "/latest/meta-data/ram/security-credentials/", None);
    assert_eq!(r.status, 404);
    let r = plain.http("GET", "/no/such/path", None);
    assert_eq!(r.status, 404);
    assert!(r.json()["RequestId"].is_string());
}

#[test]
fn faults() {
    let sim = Sim::fixture_fleet(&[
        "--fault",
        "f-forbidden:forbidden",
        "--fault",
        "f-unavailable:unavailable",
        "--fault",
        "f-internal:internal",
        "--fault",
        "f-throttle:throttle",
        "--fault",
        "f-hang:hang",
        "--fault",
        "f-wrong:wrong-shape",
        "--fault",
        "f-error200:error-200",
        "--fault",
        "cn-hangzhou:shifting",
        "--fault",
        "cn-shanghai:truncated",
        "--fault",
        "ap-southeast-1:flaky",
    ]);
    let expect = |region: &str, status: u16, code: &str| {
        let r = sim.call(&describe(region));
        assert_eq!(
            (r.status, r.code().as_str()),
            (status, code),
            "{region}: {}",
            r.body
        );
        assert!(r.json()["RequestId"].is_string());
        r
    };
    let r = expect("f-forbidden", 403, "Forbidden.RAM");
    assert_eq!(
        r.json()["Message"],
        "User not authorized to operate on the specified resource."
    );
    expect("f-unavailable", 503, "ServiceUnavailable");
    expect("f-unavailable", 503, "ServiceUnavailable");
    expect("f-internal", 500, "InternalError");
    let r = expect("f-throttle", 400, "Throttling.User");
    assert_eq!(
        r.json()["Message"],
        "Request was denied due to user flow control."
    );

    let r = sim.call(&describe("f-wrong"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["Instances"], "oops");
    let r = sim.call(&describe("f-error200"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["Code"], "InternalError");

    let r = sim.call(&describe("cn-shanghai"));
    assert_eq!(r.status, 200);
    assert!(
        serde_json::from_str::<Value>(&r.body).is_err(),
        "not truncated: {}",
        r.body
    );
    assert!(r.body.starts_with("{\"RequestId\""));

    // flaky: every other request fails.
    let statuses: Vec<u16> = (0..4)
        .map(|_| sim.call(&describe("ap-southeast-1")).status)
        .collect();
    assert_eq!(statuses, [503, 200, 503, 200]);

    // shifting: a new instance appears at the front after page 1 is served.
    let p1 = sim.ok(&describe("cn-hangzhou").set("PageSize", "3"));
    assert_eq!(p1["TotalCount"], 7);
    assert_eq!(instance_ids(&p1), [hz(1), hz(2), hz(3)]);
    let p2 = sim.ok(&describe("cn-hangzhou")
        .set("PageSize", "3")
        .set("PageNumber", "2"));
    assert_eq!(p2["TotalCount"], 8);
    assert_eq!(instance_ids(&p2), [hz(3), hz(4), hz(5)]);
    let p1 = sim.ok(&describe("cn-hangzhou").set("PageSize", "3"));
    assert_eq!(p1["TotalCount"], 8);
    let new_id = &instance_ids(&p1)[0];
    assert!(
        new_id.starts_with("i-") && !new_id.starts_with("i-bp1aaa"),
        "{new_id}"
    );

    // hang: no answer, and the server keeps serving others meanwhile.
    let q = describe("f-hang").encoded("GET", SECRET);
    let addr = sim.addr().to_owned();
    let hung = std::thread::spawn(move || {
        request(
            &addr,
            "GET",
            &format!("/?{q}"),
            None,
            Duration::from_millis(500),
        )
    });
    assert_eq!(sim.call(&Req::ecs("DescribeRegions")).status, 200);
    let err = hung.join().unwrap().err().expect("a hung request answered");
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );

    let stats = sim.stats();
    assert_eq!(stats["throttled"], 1);
    assert_eq!(stats["by_region"]["ap-southeast-1"], 4);
    assert!(stats["errors"].as_u64().unwrap() >= 6);
}

#[test]
fn star_fault_covers_describe_regions() {
    let sim = Sim::fixture_fleet(&[
        "--fault",
        "*:unavailable",
        "--fault",
        "cn-hangzhou:forbidden",
    ]);
    let r = sim.call(&Req::ecs("DescribeRegions"));
    assert_eq!((r.status, r.code().as_str()), (503, "ServiceUnavailable"));
    let r = sim.call(&describe("cn-shanghai"));
    assert_eq!((r.status, r.code().as_str()), (503, "ServiceUnavailable"));
    // A fault named for the region beats the `*` one.
    let r = sim.call(&describe("cn-hangzhou"));
    assert_eq!((r.status, r.code().as_str()), (403, "Forbidden.RAM"));
    // A fault never hides an authentication failure.
    let r = sim.get(&Req::ecs("DescribeRegions"), "wrong");
    assert_eq!(r.code(), "SignatureDoesNotMatch");
}

#[test]
fn throttle_first_then_serve() {
    let sim = Sim::fixture_fleet(&["--throttle-first", "2"]);
    let codes: Vec<(u16, String)> = (0..3)
        .map(|_| {
            let r = sim.call(&Req::ecs("DescribeRegions"));
            (r.status, r.code())
        })
        .collect();
    assert_eq!(
        codes,
        [
            (400, "Throttling.User".to_owned()),
            (400, "Throttling.User".to_owned()),
            (200, String::new())
        ]
    );
    let s = sim.stats();
    assert_eq!(
        (
            s["requests"].clone(),
            s["throttled"].clone(),
            s["errors"].clone()
        ),
        (3.into(), 2.into(), 2.into())
    );
}

#[test]
fn throttle_above_inflight() {
    let sim = Sim::fixture_fleet(&["--throttle-above-inflight", "2", "--fault", "f-hang:hang"]);
    let mut hung = Vec::new();
    for _ in 0..2 {
        let q = describe("f-hang").encoded("GET", SECRET);
        let addr = sim.addr().to_owned();
        hung.push(std::thread::spawn(move || {
            let _ = request(
                &addr,
                "GET",
                &format!("/?{q}"),
                None,
                Duration::from_secs(20),
            );
        }));
    }
    // Wait until both are in flight (observed, not slept).
    let deadline = Instant::now() + Duration::from_secs(20);
    while sim.stats()["in_flight"] != 2 {
        assert!(Instant::now() < deadline, "hung requests never arrived");
        std::thread::yield_now();
    }
    let r = sim.call(&Req::ecs("DescribeRegions"));
    assert_eq!((r.status, r.code().as_str()), (400, "Throttling.User"));
    let s = sim.stats();
    assert_eq!(s["max_in_flight"], 3);
    assert_eq!(s["throttled"], 1);
    drop(sim); // the hung connections end with the server
    for h in hung {
        h.join().unwrap();
    }
}

#[test]
fn latency_applies_concurrently() {
    let sim = Sim::fixture_fleet(&["--latency-ms", "300"]);
    let t = Instant::now();
    assert_eq!(sim.call(&Req::ecs("DescribeRegions")).status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    // Hooks are not delayed and not counted.
    let t = Instant::now();
    let _ = sim.stats();
    assert!(t.elapsed() < Duration::from_millis(300));

    let t = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let q = Req::ecs("DescribeRegions").encoded("GET", SECRET);
            let addr = sim.addr().to_owned();
            std::thread::spawn(move || harness::http(&addr, "GET", &format!("/?{q}"), None).status)
        })
        .collect();
    for th in threads {
        assert_eq!(th.join().unwrap(), 200);
    }
    // Eight sequential answers would take 2.4 s.
    assert!(
        t.elapsed() < Duration::from_millis(2000),
        "{:?}",
        t.elapsed()
    );
    assert!(sim.stats()["max_in_flight"].as_u64().unwrap() >= 2);
}

#[test]
fn stats_request_log_and_reset() {
    let sim = Sim::fixture_fleet(&["--role-arn", ROLE]);
    sim.ok(&Req::ecs("DescribeRegions"));
    sim.ok(&describe("cn-hangzhou").set("PageSize", "5"));
    let c = sim.ok(&assume(ROLE));
    let c = &c["Credentials"];
    let req = describe("cn-shanghai")
        .set("AccessKeyId", c["AccessKeyId"].as_str().unwrap())
        .set("SecurityToken", c["SecurityToken"].as_str().unwrap());
    assert_eq!(
        sim.get(&req, c["AccessKeySecret"].as_str().unwrap()).status,
        200
    );
    let _ = sim.get(&Req::ecs("DescribeRegions"), "wrong");

    let s = sim.stats();
    assert_eq!(s["requests"], 5);
    assert_eq!(s["by_action"]["DescribeRegions"], 2);
    assert_eq!(s["by_action"]["DescribeInstances"], 2);
    assert_eq!(s["by_action"]["AssumeRole"], 1);
    assert_eq!(s["by_region"]["cn-hangzhou"], 1);
    assert_eq!(s["errors"], 1);
    assert!(s["max_in_flight"].as_u64().unwrap() >= 1);

    let log = sim.requests();
    assert_eq!(log.len(), 5);
    assert_eq!(log[0]["action"], "DescribeRegions");
    assert_eq!(log[1]["region"], "cn-hangzhou");
    assert_eq!(log[1]["params"]["PageSize"], "5");
    assert_eq!(log[1]["status"], 200);
    assert_eq!(log[4]["status"], 400);
    // Method and the names (only) of the URL's parameters: these were signed GETs.
    assert_eq!(log[1]["method"], "GET");
    let keys = log[3]["query_keys"].as_array().unwrap();
    assert!(keys.contains(&"Signature".into()) && keys.contains(&"SecurityToken".into()));
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains("\"Signature\":"));
    assert!(!text.contains("\"SecurityToken\":"));
    assert!(!text.contains(c["SecurityToken"].as_str().unwrap()));
    assert!(!text.contains(c["AccessKeySecret"].as_str().unwrap()));
    assert!(!text.contains(SECRET));

    assert_eq!(sim.http("POST", "/_sim/reset", None).status, 200);
    let s = sim.stats();
    assert_eq!(
        (s["requests"].clone(), s["errors"].clone()),
        (0.into(), 0.into())
    );
    assert!(sim.requests().is_empty());
}

#[test]
fn port_file_and_sigterm() {
    let ws = Workspace::new();
    let pf = ws.path("port");
    let sim = Sim::fixture_fleet(&["--port-file", pf.to_str().unwrap()]);
    let url = std::fs::read_to_string(&pf).unwrap();
    assert_eq!(url.trim(), sim.url);
    let status = sim.terminate();
    assert!(status.success(), "{status:?}");
}

#[test]
fn bad_command_lines_and_fleets_fail_cleanly() {
    let ws = Workspace::new();
    let bad = ws.path("bad.json");
    std::fs::write(&bad, r#"{"regions": [{"RegionId": "cn-x"}], "instances": [{"InstanceId": "i-1", "RegionId": "cn-y"}]}"#).unwrap();
    let out = simulator(&["serve", "--fleet"]).arg(&bad).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown RegionId"));
    assert!(out.stdout.is_empty());
    let out = simulator(&["serve", "--fleet"])
        .arg(fixture("fleet.json"))
        .args(["--fault", "cn-x:explode"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn generate_is_deterministic_and_realistic() {
    let args = [
        "--regions",
        "22",
        "--instances",
        "3000",
        "--skew",
        "0.5",
        "--seed",
        "7",
    ];
    let a = generate(&args);
    assert_eq!(a, generate(&args), "same arguments, different bytes");
    assert_ne!(
        a,
        generate(&[
            "--regions",
            "22",
            "--instances",
            "3000",
            "--skew",
            "0.5",
            "--seed",
            "8"
        ])
    );

    let v: Value = serde_json::from_slice(&a).unwrap();
    let regions = v["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 22);
    assert_eq!(regions[0]["RegionId"], "cn-hangzhou");
    assert_eq!(regions[19]["RegionId"], "me-east-1");
    assert_eq!(regions[21]["RegionId"], "xx-region-22");
    let inst = v["instances"].as_array().unwrap();
    assert_eq!(inst.len(), 3000);
    let first = inst
        .iter()
        .filter(|i| i["RegionId"] == "cn-hangzhou")
        .count();
    assert_eq!(first, 1500);
    let mut ids = HashSet::new();
    let (mut stopped, mut untagged, mut no_tags_key, mut none_addr, mut unicode) = (0, 0, 0, 0, 0);
    for i in inst {
        check_shape(i);
        let id = i["InstanceId"].as_str().unwrap();
        assert_eq!(id.len(), 22);
        assert!(
            id[2..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{id}"
        );
        assert!(ids.insert(id.to_owned()));
        stopped += usize::from(i["Status"] == "Stopped");
        let tags = i["Tags"]["Tag"].as_array().map(Vec::len).unwrap_or(0);
        untagged += usize::from(tags == 0);
        no_tags_key += usize::from(i.get("Tags").is_none());
        unicode += usize::from(i["Tags"].to_string().contains("生产"));
        let addr = |p: &str| i.pointer(p).unwrap().to_string();
        if addr("/PublicIpAddress/IpAddress") == "[]"
            && addr("/EipAddress/IpAddress") == "\"\""
            && addr("/VpcAttributes/PrivateIpAddress/IpAddress") == "[]"
            && addr("/InnerIpAddress/IpAddress") == "[]"
        {
            none_addr += 1;
        }
    }
    assert!((200..400).contains(&stopped), "{stopped} stopped");
    assert!(untagged > 0 && no_tags_key > 0 && untagged > no_tags_key);
    assert!(none_addr > 0 && unicode > 0);
}

#[test]
fn generate_loopback_addresses_are_distinct() {
    let v: Value = serde_json::from_slice(&generate(&[
        "--regions",
        "3",
        "--instances",
        "2000",
        "--loopback",
    ]))
    .unwrap();
    let mut seen = HashSet::new();
    for i in v["instances"].as_array().unwrap() {
        let mut addrs: Vec<String> = Vec::new();
        for p in [
            "/PublicIpAddress/IpAddress",
            "/InnerIpAddress/IpAddress",
            "/VpcAttributes/PrivateIpAddress/IpAddress",
        ] {
            for a in i.pointer(p).unwrap().as_array().unwrap() {
                addrs.push(a.as_str().unwrap().to_owned());
            }
        }
        let eip = i["EipAddress"]["IpAddress"].as_str().unwrap();
        let public = i["PublicIpAddress"]["IpAddress"].as_array().unwrap();
        assert!(
            !eip.is_empty() || !public.is_empty(),
            "no public address: {i}"
        );
        if !eip.is_empty() {
            addrs.push(eip.to_owned());
        }
        for a in addrs {
            let ip: std::net::Ipv4Addr = a.parse().unwrap();
            assert!(ip.is_loopback() && a != "127.0.0.1", "{a}");
            assert!(seen.insert(a.clone()), "{a} reused");
        }
    }
    assert!(seen.len() > 2000);
}

#[test]
fn demo_runs_the_inventory_beside_it() {
    let ws = Workspace::new();
    // The demo's fleet: `generate`'s defaults with the demo's seed.
    let fleet = ws.path("fleet.json");
    let args = ["--regions", "2", "--instances", "12"];
    std::fs::write(&fleet, generate(&[&args[..], &["--seed", "2024"]].concat())).unwrap();
    let want = crate::inventory::expected_default_hosts(&fleet, None);
    assert!(!want.is_empty());

    let out = harness::output({
        let mut cmd = simulator(&["demo"]);
        cmd.args(args)
            .args(["--", "--list"])
            .env_clear()
            .env("HOME", ws.dir.path())
            .env("TMPDIR", ws.dir.path());
        cmd
    });
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(
        out.stderr.starts_with("demo: 12 instances in 2 regions"),
        "{}",
        out.stderr
    );
    assert_eq!(crate::inventory::hosts_of(&out.json()), want);
}

#[test]
fn default_access_key_only_without_access_key_switches() {
    let sim = Sim::serve(&fixture("fleet.json"), &[]);
    assert_eq!(
        sim.get(&Req::ecs("DescribeRegions"), "testsecret").status,
        200
    );
    let r = sim.call(&Req::ecs("DescribeRegions"));
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "SignatureDoesNotMatch")
    );

    let sim = Sim::serve(&fixture("fleet.json"), &["--access-key", "AKID1:s3cret"]);
    let r = sim.get(&Req::ecs("DescribeRegions"), "testsecret");
    assert_eq!(
        (r.status, r.code().as_str()),
        (404, "InvalidAccessKeyId.NotFound")
    );
}

/// The benchmark's decode throughput divides by this count: it must be the bytes of the
/// successful answers' bodies, and of nothing else.
#[test]
fn stats_count_the_bytes_of_successful_answers() {
    let sim = Sim::fixture_fleet(&[]);
    let a = sim.call(&describe("cn-hangzhou"));
    let b = sim.call(&describe("cn-shanghai").set("PageSize", "1"));
    let refused = sim.call(&describe("cn-hangzhou").set("PageSize", "0"));
    assert_eq!((a.status, b.status), (200, 200));
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(a.body.len() > 500, "{}", a.body);
    let want = (a.body.len() + b.body.len()) as u64;
    assert_eq!(sim.stats()["ok_body_bytes"], want);
}
