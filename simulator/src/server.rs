//! The HTTP side: one port serves the RPC API (ECS and STS at `/`), the metadata service and the
//! `/_sim/*` test hooks. Authentication, faults, statistics and the request log live here.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

// The versions the inventory sends are the ones the simulator accepts.
use alicloud_inventory::api::client::{ECS_VERSION, STS_VERSION};
use alicloud_inventory::api::sign;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::fleet::{page, Filters, Fleet, Instance};
use crate::sts::{self, Sts};

/// How far a timestamp may be from the simulator clock, and how long a nonce is remembered.
const WINDOW_SECS: i64 = 15 * 60;
/// Lifetime of the metadata service's temporary credentials.
const METADATA_TTL_SECS: i64 = 6 * 3600;

/// Injected failures, per region (see `--fault`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Forbidden,
    Unavailable,
    Internal,
    Throttle,
    Hang,
    Truncated,
    WrongShape,
    Error200,
    Shifting,
    Flaky,
    Churning,
    HugeTotal,
}

impl Fault {
    pub const NAMES: &'static [(&'static str, Fault)] = &[
        ("forbidden", Fault::Forbidden),
        ("unavailable", Fault::Unavailable),
        ("internal", Fault::Internal),
        ("throttle", Fault::Throttle),
        ("hang", Fault::Hang),
        ("truncated", Fault::Truncated),
        ("wrong-shape", Fault::WrongShape),
        ("error-200", Fault::Error200),
        ("shifting", Fault::Shifting),
        ("flaky", Fault::Flaky),
        ("churning", Fault::Churning),
        ("huge-total", Fault::HugeTotal),
    ];
}

/// The id of the default account (the one of `--fleet` and `--access-key`).
pub const DEFAULT_ACCOUNT_ID: &str = "1000000000000001";

/// Everything `serve` was told on the command line.
pub struct Config {
    pub listen: SocketAddr,
    pub keys: HashMap<String, String>,
    pub latency: Duration,
    pub throttle_first: u64,
    pub throttle_above_inflight: Option<usize>,
    pub faults: Vec<(String, Fault)>,
    pub clock_skew: i64,
    /// Roles AssumeRole may assume, each with the accounts it trusts (`None`: every account).
    pub role_arns: Vec<(String, Option<Vec<String>>)>,
    pub account_id: String,
    /// The account of each key in `keys` that is not the default account's.
    pub key_accounts: HashMap<String, String>,
    pub ecs_role: Option<String>,
    pub port_file: Option<PathBuf>,
    pub verbose: bool,
}

/// Request parameters in arrival order (names may repeat; lookups take the first).
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `application/x-www-form-urlencoded` (also a query string): `+` is a space.
    pub fn parse_into(&mut self, text: &str) {
        for part in text.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            self.0.push((decode(k), decode(v)));
        }
    }
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// An error answer of the service.
#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub fn missing_parameter(name: &str) -> ApiError {
        ApiError::new(
            400,
            "MissingParameter",
            format!("The input parameter \"{name}\" that is mandatory for processing this request is not supplied."),
        )
    }

    pub fn invalid_parameter(name: &str, why: &str) -> ApiError {
        ApiError::new(
            400,
            "InvalidParameter",
            format!("The specified parameter \"{name}\" is not valid: {why}."),
        )
    }

    fn throttling() -> ApiError {
        ApiError::new(
            400,
            "Throttling.User",
            "Request was denied due to user flow control.",
        )
    }

    fn unavailable() -> ApiError {
        ApiError::new(
            503,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        )
    }

    fn internal() -> ApiError {
        ApiError::new(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        )
    }
}

/// What a handler answers: the status and the JSON text of the body.
struct Reply {
    status: u16,
    body: String,
    throttled: bool,
}

impl Reply {
    fn ok(body: String) -> Reply {
        Reply {
            status: 200,
            body,
            throttled: false,
        }
    }

    fn error(e: &ApiError, request_id: &str, host: &str) -> Reply {
        let body = json!({
            "RequestId": request_id,
            "HostId": host,
            "Code": e.code,
            "Message": e.message,
            "Recommend": format!("https://api.aliyun.com/troubleshoot?q={}&product={}", e.code,
                if host.starts_with("sts") { "Sts" } else { "Ecs" }),
        });
        Reply {
            status: e.status,
            body: body.to_string(),
            throttled: e.code.starts_with("Throttling"),
        }
    }
}

fn json_response(status: u16, body: String, request_id: Option<&str>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(id) = request_id.and_then(|id| header::HeaderValue::from_str(id).ok()) {
        resp.headers_mut().insert("x-acs-request-id", id);
    }
    resp
}

fn text_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], body).into_response()
}

#[derive(Default)]
struct Stats {
    requests: u64,
    by_action: BTreeMap<String, u64>,
    by_region: BTreeMap<String, u64>,
    by_account: BTreeMap<String, AccountStats>,
    throttled: u64,
    errors: u64,
    max_in_flight: usize,
    metadata: u64,
    /// Bytes of the bodies of the successful answers: what a client decodes.
    ok_body_bytes: u64,
}

/// The requests of one served account.
#[derive(Default, serde::Serialize)]
struct AccountStats {
    requests: u64,
    throttled: u64,
    max_in_flight: usize,
}

/// Who signed a request.
struct Caller {
    account: String,
    arn: String,
    kind: &'static str,
}

struct LogEntry {
    id: u64,
    method: String,
    /// The names of the parameters in the URL's query string (values are not kept), so tests
    /// can check that no signature or token travels in a URL.
    query_keys: Vec<String>,
    action: Option<String>,
    region: Option<String>,
    params: Map<String, Value>,
    status: Option<u16>,
}

#[derive(Default)]
struct Log {
    next_id: u64,
    entries: Vec<LogEntry>,
}

#[derive(Default)]
struct Nonces {
    order: VecDeque<(i64, String)>,
    seen: HashSet<String>,
}

/// Per-region state of the stateful faults.
#[derive(Default)]
struct FaultState {
    flaky_calls: u64,
    shifting_served: bool,
    churning_served: u64,
}

pub struct Sim {
    cfg: Config,
    fleet: Fleet,
    /// The other accounts' fleets, by account id.
    fleets: HashMap<String, Fleet>,
    sts: Sts,
    nonces: Mutex<Nonces>,
    stats: Mutex<Stats>,
    log: Mutex<Log>,
    faults: Mutex<HashMap<String, FaultState>>,
    in_flight: AtomicUsize,
    /// Requests in flight per served account.
    account_in_flight: Mutex<HashMap<String, usize>>,
    arrivals: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string().to_uppercase()
}

/// Decrements the in-flight count however the request ends (a hung one is dropped).
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The same for one account's count.
struct AccountInFlight<'a>(&'a Mutex<HashMap<String, usize>>, String);

impl Drop for AccountInFlight<'_> {
    fn drop(&mut self) {
        if let Some(n) = lock(self.0).get_mut(&self.1) {
            *n = n.saturating_sub(1);
        }
    }
}

/// The account id of a role ARN (`acs:ram::ID:role/NAME`).
fn account_of_arn(arn: &str) -> Option<&str> {
    arn.strip_prefix("acs:ram::")?
        .split(':')
        .next()
        .filter(|id| !id.is_empty())
}

impl Sim {
    pub fn new(cfg: Config, fleet: Fleet, fleets: HashMap<String, Fleet>) -> Sim {
        Sim {
            cfg,
            fleet,
            fleets,
            account_in_flight: Mutex::default(),
            sts: Sts::default(),
            nonces: Mutex::default(),
            stats: Mutex::default(),
            log: Mutex::default(),
            faults: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            arrivals: AtomicU64::new(0),
        }
    }

    /// The simulator clock (unix seconds): now + `--clock-skew-secs`.
    fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.cfg.clock_skew
    }

    fn fault_for(&self, account: &str, region: &str) -> Option<Fault> {
        // An account's own fault beats one for every account; a region beats `*`.
        let faults = &self.cfg.faults;
        let mine = |r: &str| format!("{account}/{r}");
        [mine(region), mine("*"), region.to_owned(), "*".to_owned()]
            .iter()
            .find_map(|want| faults.iter().find(|(r, _)| r == want))
            .map(|(_, f)| *f)
    }

    /// The account a key belongs to (the default one for a key nobody issued).
    fn account_of_key(&self, key_id: &str) -> String {
        if let Some(a) = self.cfg.key_accounts.get(key_id) {
            return a.clone();
        }
        match self.sts.get(key_id) {
            Some(c) => c.account,
            None => self.cfg.account_id.clone(),
        }
    }

    /// The account whose fleet and limits a caller of `account` gets: its own when it is
    /// served, else the default account's.
    fn served<'a>(&'a self, account: &'a str) -> &'a str {
        if self.fleets.contains_key(account) {
            account
        } else {
            &self.cfg.account_id
        }
    }

    fn fleet_of(&self, account: &str) -> &Fleet {
        self.fleets.get(account).unwrap_or(&self.fleet)
    }

    /// Records the arrival of an API request; returns its log id.
    fn arrive(
        &self,
        method: &str,
        query_keys: Vec<String>,
        params: &Params,
        in_flight: (usize, &str, usize),
    ) -> u64 {
        let (in_flight, account, in_account) = in_flight;
        let action = params.get("Action").map(str::to_owned);
        let region = params.get("RegionId").map(str::to_owned);
        {
            let mut st = lock(&self.stats);
            st.requests += 1;
            *st.by_action
                .entry(action.clone().unwrap_or_default())
                .or_default() += 1;
            if let Some(r) = &region {
                *st.by_region.entry(r.clone()).or_default() += 1;
            }
            st.max_in_flight = st.max_in_flight.max(in_flight);
            let a = st.by_account.entry(account.to_owned()).or_default();
            a.requests += 1;
            a.max_in_flight = a.max_in_flight.max(in_account);
        }
        let logged: Map<String, Value> = params
            .iter()
            .filter(|(k, _)| !matches!(*k, "Signature" | "SecurityToken"))
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect();
        let mut log = lock(&self.log);
        let id = log.next_id;
        log.next_id += 1;
        log.entries.push(LogEntry {
            id,
            method: method.to_owned(),
            query_keys,
            action,
            region,
            params: logged,
            status: None,
        });
        id
    }

    fn finish(&self, id: u64, reply: &Reply, account: &str) {
        {
            let mut st = lock(&self.stats);
            if reply.status >= 400 {
                st.errors += 1;
            } else {
                st.ok_body_bytes += reply.body.len() as u64;
            }
            if reply.throttled {
                st.throttled += 1;
                st.by_account
                    .entry(account.to_owned())
                    .or_default()
                    .throttled += 1;
            }
        }
        let mut log = lock(&self.log);
        if let Ok(i) = log.entries.binary_search_by_key(&id, |e| e.id) {
            log.entries[i].status = Some(reply.status);
        }
    }

    fn reset(&self) {
        *lock(&self.stats) = Stats::default();
        lock(&self.log).entries.clear();
        lock(&self.faults).clear();
    }

    /// Checks the common parameters, the credential and the signature, in the service's order.
    fn authenticate(&self, method: &str, p: &Params) -> Result<Caller, ApiError> {
        for name in [
            "Action",
            "Version",
            "Format",
            "AccessKeyId",
            "SignatureMethod",
            "SignatureVersion",
            "SignatureNonce",
            "Timestamp",
            "Signature",
        ] {
            if p.get(name).is_none_or_empty() {
                return Err(ApiError::missing_parameter(name));
            }
        }
        if p.get("SignatureMethod") != Some("HMAC-SHA1") {
            return Err(ApiError::invalid_parameter(
                "SignatureMethod",
                "only HMAC-SHA1 is supported",
            ));
        }
        if p.get("SignatureVersion") != Some("1.0") {
            return Err(ApiError::invalid_parameter(
                "SignatureVersion",
                "only 1.0 is supported",
            ));
        }
        let key_id = p.get("AccessKeyId").unwrap_or_default();
        let token = p.get("SecurityToken").filter(|t| !t.is_empty());
        let (secret, caller) = if let Some(secret) = self.cfg.keys.get(key_id) {
            if token.is_some() {
                return Err(ApiError::new(
                    400,
                    "InvalidSecurityToken.MismatchWithAccessKey",
                    "Specified SecurityToken mismatch with the AccessKey.",
                ));
            }
            let account = self.account_of_key(key_id);
            let caller = Caller {
                arn: format!("acs:ram::{account}:root"),
                account,
                kind: "Account",
            };
            (secret.clone(), caller)
        } else if let Some(cred) = self.sts.get(key_id) {
            match token {
                None => {
                    return Err(ApiError::new(
                        400,
                        "InvalidSecurityToken.Missing",
                        "The input parameter \"SecurityToken\" that is mandatory for processing this request is not supplied.",
                    ))
                }
                Some(t) if !sign::signatures_match(t, &cred.token) => {
                    return Err(ApiError::new(
                        400,
                        "InvalidSecurityToken.MismatchWithAccessKey",
                        "Specified SecurityToken mismatch with the AccessKey.",
                    ))
                }
                Some(_) => {}
            }
            if cred.expires <= self.now() {
                return Err(ApiError::new(
                    400,
                    "InvalidSecurityToken.Expired",
                    "Specified SecurityToken is expired.",
                ));
            }
            let caller = Caller {
                account: cred.account.clone(),
                arn: cred.arn.clone(),
                kind: "AssumedRoleUser",
            };
            (cred.secret, caller)
        } else {
            return Err(ApiError::new(
                404,
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
            ));
        };
        let ts = p.get("Timestamp").unwrap_or_default();
        let Some(ts) = parse_timestamp(ts) else {
            return Err(ApiError::new(
                400,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            ));
        };
        if (ts - self.now()).abs() > WINDOW_SECS {
            return Err(ApiError::new(
                400,
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired.",
            ));
        }
        let given = p.get("Signature").unwrap_or_default();
        let sts = sign::string_to_sign(method, &sign::canonical_query(&p.0));
        if !sign::signatures_match(given, &sign::signature(&secret, &sts)) {
            return Err(ApiError::new(
                400,
                "SignatureDoesNotMatch",
                format!("Specified signature is not matched with our calculation. server string to sign is:{sts}"),
            ));
        }
        let nonce = p.get("SignatureNonce").unwrap_or_default();
        let now = self.now();
        let mut n = lock(&self.nonces);
        while let Some((t, _)) = n.order.front() {
            if now - *t <= WINDOW_SECS {
                break;
            }
            if let Some((_, old)) = n.order.pop_front() {
                n.seen.remove(&old);
            }
        }
        if !n.seen.insert(nonce.to_owned()) {
            return Err(ApiError::new(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            ));
        }
        n.order.push_back((now, nonce.to_owned()));
        Ok(caller)
    }

    /// One API request, start to end (stats and log around [`Sim::answer`]).
    /// The reply and its request id, which the service also sends as a header (whatever the
    /// body: a cut one too).
    async fn api(&self, method: &str, query_keys: Vec<String>, params: Params) -> (Reply, String) {
        let key_account = self.account_of_key(params.get("AccessKeyId").unwrap_or_default());
        let account = self.served(&key_account).to_owned();
        let before = {
            let mut counts = lock(&self.account_in_flight);
            let n = counts.entry(account.clone()).or_default();
            *n += 1;
            *n - 1
        };
        let _account_guard = AccountInFlight(&self.account_in_flight, account.clone());
        // Counted after the account's count: whoever sees a request in `in_flight` (the
        // stats) also finds it in its account's count, which throttling reads.
        let before_all = self.in_flight.fetch_add(1, Ordering::SeqCst);
        let _guard = InFlight(&self.in_flight);
        let id = self.arrive(
            method,
            query_keys,
            &params,
            (before_all + 1, &account, before + 1),
        );
        let request_id = request_id();
        let host = if params.get("Version") == Some(STS_VERSION) {
            "sts.aliyuncs.com"
        } else {
            "ecs.aliyuncs.com"
        };
        let reply = match self.answer(method, &params, before, &request_id).await {
            Ok(r) => r,
            Err(e) => Reply::error(&e, &request_id, host),
        };
        self.finish(id, &reply, &account);
        if self.cfg.verbose {
            eprintln!(
                "ecs-simulator: {method} {} {} -> {}",
                params.get("Action").unwrap_or("-"),
                params.get("RegionId").unwrap_or("-"),
                reply.status
            );
        }
        (reply, request_id)
    }

    async fn answer(
        &self,
        method: &str,
        p: &Params,
        in_flight_before: usize,
        request_id: &str,
    ) -> Result<Reply, ApiError> {
        let arrival = self.arrivals.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(limit) = self.cfg.throttle_above_inflight {
            if in_flight_before >= limit {
                return Err(ApiError::throttling());
            }
        }
        if !self.cfg.latency.is_zero() {
            tokio::time::sleep(self.cfg.latency).await;
        }
        if arrival <= self.cfg.throttle_first {
            return Err(ApiError::throttling());
        }
        let caller = self.authenticate(method, p)?;
        let action = p.get("Action").unwrap_or_default();
        let version = p.get("Version").unwrap_or_default();
        let wanted = match action {
            "DescribeRegions" | "DescribeInstances" => ECS_VERSION,
            "AssumeRole" | "GetCallerIdentity" => STS_VERSION,
            _ => {
                return Err(ApiError::new(
                    404,
                    "InvalidAction.NotFound",
                    format!(
                        "Specified api is not found, please check your url and method. ({action})"
                    ),
                ))
            }
        };
        if version != wanted {
            return Err(ApiError::new(
                400,
                "InvalidVersion",
                format!("Specified parameter Version is not valid: {action} needs {wanted}."),
            ));
        }
        if !p
            .get("Format")
            .unwrap_or_default()
            .eq_ignore_ascii_case("JSON")
        {
            return Err(ApiError::invalid_parameter(
                "Format",
                "the simulator only answers JSON",
            ));
        }
        let account = self.served(&caller.account);
        match action {
            "DescribeRegions" => self.describe_regions(account, request_id).await,
            "DescribeInstances" => self.describe_instances(account, p, request_id).await,
            "GetCallerIdentity" => Ok(Reply::ok(
                json!({
                    "RequestId": request_id,
                    "AccountId": caller.account,
                    "UserId": caller.account,
                    "PrincipalId": caller.account,
                    "Arn": caller.arn,
                    "IdentityType": caller.kind,
                })
                .to_string(),
            )),
            _ => self.assume_role(&caller, p, request_id),
        }
    }

    /// Applies the fault configured for `region`, if any. `Ok(None)`: answer normally (for
    /// `truncated` and `shifting` the caller shapes the normal answer).
    async fn fault(
        &self,
        account: &str,
        region: &str,
        request_id: &str,
    ) -> Result<Option<Reply>, ApiError> {
        let Some(fault) = self.fault_for(account, region) else {
            return Ok(None);
        };
        match fault {
            Fault::Forbidden => Err(ApiError::new(
                403,
                "Forbidden.RAM",
                "User not authorized to operate on the specified resource.",
            )),
            Fault::Unavailable => Err(ApiError::unavailable()),
            Fault::Internal => Err(ApiError::internal()),
            Fault::Throttle => Err(ApiError::throttling()),
            Fault::Hang => std::future::pending().await,
            Fault::WrongShape => Ok(Some(Reply::ok(
                json!({"RequestId": request_id, "Instances": "oops", "Regions": "oops", "TotalCount": "x"})
                    .to_string(),
            ))),
            Fault::Error200 => Ok(Some(Reply::ok(
                json!({
                    "RequestId": request_id,
                    "Code": "InternalError",
                    "Message": "The request processing has failed due to some unknown error, exception or failure.",
                })
                .to_string(),
            ))),
            Fault::Flaky => {
                let mut f = lock(&self.faults);
                let st = f.entry(format!("{account}/{region}")).or_default();
                st.flaky_calls += 1;
                if st.flaky_calls % 2 == 1 {
                    Err(ApiError::unavailable())
                } else {
                    Ok(None)
                }
            }
            Fault::Truncated | Fault::Shifting | Fault::Churning | Fault::HugeTotal => Ok(None),
        }
    }

    fn truncate_if_faulty(&self, account: &str, region: &str, mut body: String) -> String {
        if self.fault_for(account, region) == Some(Fault::Truncated) {
            let mut cut = body.len() / 2;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
        }
        body
    }

    async fn describe_regions(&self, account: &str, request_id: &str) -> Result<Reply, ApiError> {
        // Only `*` faults (every account's or this one's) reach DescribeRegions.
        let mine = format!("{account}/*");
        let star = self
            .cfg
            .faults
            .iter()
            .any(|(r, _)| r == "*" || *r == mine)
            .then_some("*");
        if let Some(region) = star {
            if let Some(r) = self.fault(account, region, request_id).await? {
                return Ok(r);
            }
        }
        let regions = &self.fleet_of(account).regions;
        let body = json!({"RequestId": request_id, "Regions": {"Region": regions}}).to_string();
        let body = match star {
            Some(r) => self.truncate_if_faulty(account, r, body),
            None => body,
        };
        Ok(Reply::ok(body))
    }

    async fn describe_instances(
        &self,
        account: &str,
        p: &Params,
        request_id: &str,
    ) -> Result<Reply, ApiError> {
        let region = match p.get("RegionId") {
            Some(r) if !r.is_empty() => r,
            _ => return Err(ApiError::missing_parameter("RegionId")),
        };
        let number = positive(p, "PageNumber", 1, u64::MAX)?;
        let size = positive(p, "PageSize", 10, 100)?;
        let filters = Filters::parse(p)?;
        if let Some(r) = self.fault(account, region, request_id).await? {
            return Ok(r);
        }
        let Some(all) = self.fleet_of(account).instances.get(region) else {
            return Err(ApiError::new(
                404,
                "InvalidRegionId.NotFound",
                "The specified RegionId does not exist.",
            ));
        };
        let fault = self.fault_for(account, region);
        let extra: Vec<Instance> = match fault {
            Some(Fault::Shifting) => {
                let mut f = lock(&self.faults);
                let st = f.entry(format!("{account}/{region}")).or_default();
                let shifted = st.shifting_served;
                st.shifting_served = true;
                if shifted {
                    all.first()
                        .and_then(new_instance_like)
                        .into_iter()
                        .collect()
                } else {
                    Vec::new()
                }
            }
            // One more instance created before every request: TotalCount never settles.
            Some(Fault::Churning) => {
                let mut f = lock(&self.faults);
                let st = f.entry(format!("{account}/{region}")).or_default();
                let n = st.churning_served;
                st.churning_served += 1;
                all.first()
                    .map(|like| (0..n).filter_map(|i| churned_like(like, i)).collect())
                    .unwrap_or_default()
            }
            _ => Vec::new(),
        };
        let selected: Vec<&Instance> = extra
            .iter()
            .chain(all.iter())
            .filter(|i| filters.is_empty() || filters.matches(&i.f))
            .collect();
        // A broken answer: a TotalCount no region holds, with a normal page.
        let total = if fault == Some(Fault::HugeTotal) {
            2_000_001
        } else {
            selected.len()
        };
        let items = page(&selected, number, size);
        let mut body =
            String::with_capacity(128 + items.iter().map(|i| i.raw.len() + 1).sum::<usize>());
        let _ = write!(
            body,
            r#"{{"RequestId":{},"TotalCount":{},"PageNumber":{},"PageSize":{},"Instances":{{"Instance":["#,
            Value::from(request_id),
            total,
            number,
            size
        );
        for (i, inst) in items.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&inst.raw);
        }
        body.push_str("]}}");
        Ok(Reply::ok(self.truncate_if_faulty(account, region, body)))
    }

    fn assume_role(
        &self,
        caller: &Caller,
        p: &Params,
        request_id: &str,
    ) -> Result<Reply, ApiError> {
        let arn = match p.get("RoleArn") {
            Some(a) if !a.is_empty() => a,
            _ => return Err(ApiError::missing_parameter("RoleArn")),
        };
        let session = match p.get("RoleSessionName") {
            Some(s) if !s.is_empty() => s,
            _ => return Err(ApiError::missing_parameter("RoleSessionName")),
        };
        let session_ok = (2..=64).contains(&session.len())
            && session
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
        if !session_ok {
            return Err(ApiError::new(
                400,
                "InvalidParameter.RoleSessionName",
                "The parameter RoleSessionName is wrongly formed.",
            ));
        }
        let duration = match p.get("DurationSeconds").filter(|d| !d.is_empty()) {
            None => 3600,
            Some(d) => match d.parse::<i64>() {
                Ok(d) if (900..=3600).contains(&d) => d,
                _ => {
                    return Err(ApiError::new(
                        400,
                        "InvalidParameter.DurationSeconds",
                        "The Min/Max value of DurationSeconds is 15min/1hr.",
                    ))
                }
            },
        };
        if let Some(policy) = p.get("Policy").filter(|d| !d.is_empty()) {
            if !serde_json::from_str::<Value>(policy).is_ok_and(|v| v.is_object()) {
                return Err(ApiError::new(
                    400,
                    "InvalidParameter.PolicyGrammar",
                    "The parameter Policy has not a valid grammar.",
                ));
            }
        }
        // The role must exist, and its trust policy must name the caller's account.
        let trusted = self.cfg.role_arns.iter().any(|(r, trust)| {
            r == arn && trust.as_ref().is_none_or(|t| t.contains(&caller.account))
        });
        if !trusted {
            return Err(ApiError::new(
                403,
                "NoPermission",
                "You are not authorized to do this action. You should be authorized by RAM.",
            ));
        }
        let account = account_of_arn(arn).unwrap_or(&self.cfg.account_id);
        let role_name = arn.rsplit('/').next().unwrap_or("role");
        let cred = self.sts.mint(
            self.now() + duration,
            account,
            &format!("acs:ram::{account}:assumed-role/{role_name}/{session}"),
        );
        Ok(Reply::ok(
            sts::assume_role_json(&cred, request_id, arn, session).to_string(),
        ))
    }
}

trait NoneOrEmpty {
    fn is_none_or_empty(&self) -> bool;
}

impl NoneOrEmpty for Option<&str> {
    fn is_none_or_empty(&self) -> bool {
        self.iter().all(|s| s.is_empty())
    }
}

/// An optional integer parameter in `1..=max`.
fn positive(p: &Params, name: &str, default: u64, max: u64) -> Result<u64, ApiError> {
    match p.get(name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid_parameter(
                name,
                &format!("it must be an integer from 1 to {max}"),
            )),
        },
    }
}

/// Strict `YYYY-MM-DDThh:mm:ssZ` → unix seconds.
fn parse_timestamp(ts: &str) -> Option<i64> {
    let b = ts.as_bytes();
    let shape_ok = b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    chrono::NaiveDateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%SZ")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

/// The instance "created mid-listing" by the `shifting` fault: a copy of `like` with a new id.
fn new_instance_like(like: &Instance) -> Option<Instance> {
    let mut v: Value = serde_json::from_str(&like.raw).ok()?;
    let obj = v.as_object_mut()?;
    let id = format!(
        "i-shifted{}",
        &like.f.id.get(2..13).unwrap_or("00000000000")
    );
    obj.insert("InstanceId".into(), Value::from(id.clone()));
    obj.insert(
        "InstanceName".into(),
        Value::from(format!("created-mid-listing-{id}")),
    );
    obj.insert("HostName".into(), Value::from(format!("iZ{}Z", &id[2..])));
    Some(Instance::from_value(&v))
}

/// The `n`th instance "created" by the `churning` fault: a copy of `like` with a new id.
fn churned_like(like: &Instance, n: u64) -> Option<Instance> {
    let mut v: Value = serde_json::from_str(&like.raw).ok()?;
    let id = format!("i-churned{n:012}");
    v.as_object_mut()?
        .insert("InstanceId".into(), Value::from(id));
    Some(Instance::from_value(&v))
}

type AppState = Arc<Sim>;

async fn api_handler(
    State(sim): State<AppState>,
    method: Method,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    if method != Method::GET && method != Method::POST {
        let rid = request_id();
        let e = ApiError::new(
            405,
            "UnsupportedHTTPMethod",
            "This http method is not supported: use GET or POST.",
        );
        let r = Reply::error(&e, &rid, "ecs.aliyuncs.com");
        return json_response(r.status, r.body, Some(&rid));
    }
    let mut params = Params(Vec::new());
    params.parse_into(query.as_deref().unwrap_or_default());
    let query_keys = params.0.iter().map(|(k, _)| k.clone()).collect();
    if method == Method::POST {
        params.parse_into(&String::from_utf8_lossy(&body));
    }
    let (reply, rid) = sim.api(method.as_str(), query_keys, params).await;
    json_response(reply.status, reply.body, Some(&rid))
}

async fn metadata_roles(State(sim): State<AppState>) -> Response {
    lock(&sim.stats).metadata += 1;
    match &sim.cfg.ecs_role {
        Some(role) => text_response(StatusCode::OK, role.clone()),
        None => text_response(StatusCode::NOT_FOUND, "404 - Not Found\n".into()),
    }
}

async fn metadata_role(State(sim): State<AppState>, Path(role): Path<String>) -> Response {
    lock(&sim.stats).metadata += 1;
    if sim.cfg.ecs_role.as_deref() != Some(role.as_str()) {
        return text_response(StatusCode::NOT_FOUND, "404 - Not Found\n".into());
    }
    let now = sim.now();
    let account = &sim.cfg.account_id;
    let cred = sim.sts.mint(
        now + METADATA_TTL_SECS,
        account,
        &format!("acs:ram::{account}:assumed-role/{role}/ecs"),
    );
    json_response(200, sts::metadata_json(&cred, now).to_string(), None)
}

/// IMDSv2-style session token: handed out, accepted, never required.
async fn metadata_token() -> Response {
    let token: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(40)
        .collect();
    text_response(StatusCode::OK, token)
}

async fn sim_mint(State(sim): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let mut p = Params(Vec::new());
    p.parse_into(query.as_deref().unwrap_or_default());
    let ttl = match p.get("ttl").map(str::parse::<i64>) {
        None => 3600,
        Some(Ok(t)) => t,
        Some(Err(_)) => {
            let rid = request_id();
            let r = Reply::error(
                &ApiError::invalid_parameter("ttl", "it must be an integer number of seconds"),
                &rid,
                "simulator",
            );
            return json_response(r.status, r.body, Some(&rid));
        }
    };
    let now = sim.now();
    let account = &sim.cfg.account_id;
    let cred = sim.sts.mint(
        now.saturating_add(ttl),
        account,
        &format!("acs:ram::{account}:assumed-role/simulator/minted"),
    );
    json_response(200, sts::metadata_json(&cred, now).to_string(), None)
}

async fn sim_stats(State(sim): State<AppState>) -> Response {
    let st = lock(&sim.stats);
    let body = json!({
        "requests": st.requests,
        "by_action": st.by_action,
        "by_region": st.by_region,
        "by_account": st.by_account,
        "throttled": st.throttled,
        "errors": st.errors,
        "max_in_flight": st.max_in_flight,
        "in_flight": sim.in_flight.load(Ordering::SeqCst),
        "metadata_requests": st.metadata,
        "ok_body_bytes": st.ok_body_bytes,
    });
    json_response(200, body.to_string(), None)
}

async fn sim_requests(State(sim): State<AppState>) -> Response {
    let log = lock(&sim.log);
    let entries: Vec<Value> = log
        .entries
        .iter()
        .map(|e| {
            json!({
                "method": e.method,
                "query_keys": e.query_keys,
                "action": e.action,
                "region": e.region,
                "params": e.params,
                "status": e.status,
            })
        })
        .collect();
    json_response(200, Value::Array(entries).to_string(), None)
}

async fn sim_reset(State(sim): State<AppState>) -> Response {
    sim.reset();
    json_response(200, r#"{"reset":true}"#.into(), None)
}

async fn not_found() -> Response {
    let rid = request_id();
    let e = ApiError::new(
        404,
        "NotFound",
        "No such path on this endpoint; the API is at /.",
    );
    let r = Reply::error(&e, &rid, "ecs.aliyuncs.com");
    json_response(r.status, r.body, Some(&rid))
}

pub fn router(sim: Arc<Sim>) -> Router {
    const CREDS: &str = "/latest/meta-data/ram/security-credentials";
    Router::new()
        .route("/", any(api_handler))
        .route(CREDS, get(metadata_roles))
        .route(&format!("{CREDS}/"), get(metadata_roles))
        .route(&format!("{CREDS}/{{role}}"), get(metadata_role))
        .route("/latest/api/token", put(metadata_token))
        .route("/_sim/mint-sts", post(sim_mint))
        .route("/_sim/stats", get(sim_stats))
        .route("/_sim/requests", get(sim_requests))
        .route("/_sim/reset", post(sim_reset))
        .fallback(not_found)
        .with_state(sim)
}

/// Registers for SIGTERM and SIGINT at once (not when first polled), so a signal sent as soon as
/// the URL is announced stops the server cleanly rather than killing it.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let register =
            |kind: SignalKind| signal(kind).map_err(|e| format!("cannot handle signals: {e}"));
        let mut term = register(SignalKind::terminate())?;
        let mut int = register(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Binds, announces the URL on stdout (and in the port file), and serves until a signal.
pub async fn run(cfg: Config, fleet: Fleet, fleets: HashMap<String, Fleet>) -> Result<(), String> {
    use std::io::Write;
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cfg.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let url = format!("http://{addr}");
    let shutdown = shutdown_signal()?;
    if let Some(path) = &cfg.port_file {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, format!("{url}\n"))
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {url}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write to stdout: {e}"))?;
    }
    let app = router(Arc::new(Sim::new(cfg, fleet, fleets)));
    tokio::select! {
        r = axum::serve(listener, app).into_future() => r.map_err(|e| format!("server error: {e}")),
        () = shutdown => Ok(()),
    }
}
