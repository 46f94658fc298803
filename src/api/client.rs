//! The signed RPC client and its retry policy (docs/DESIGN.md, "The API client").
//!
//! Requests are POSTed as forms, so neither the signature nor a security token ever appears in a
//! URL, where proxies and error messages would show it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Deserialize;

use crate::api::http;
use crate::api::limiter::{Answered, Limiter};
use crate::api::secret::Credentials;
use crate::api::sign;
use crate::api::throttle::{self, Hold, Holds};
use crate::error::Error;
use crate::info;
use crate::service_codes::{self as codes, Class};

pub const ECS_VERSION: &str = "2014-05-26";
pub const STS_VERSION: &str = "2015-04-01";

/// Why a call failed. The text of each is what the operator reads after the scope.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The service answered with an error body.
    #[error("{code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// No usable answer: connection refused, timeout, body cut off.
    #[error("{}", http::describe(.0))]
    Transport(#[source] reqwest::Error),
    /// A 200 whose body is not what the action returns.
    #[error("the service returned a body that is not the expected JSON ({source}, {len} bytes)")]
    Malformed {
        len: usize,
        #[source]
        source: serde_json::Error,
    },
    /// Still throttled when the region's waits for throttled windows reached `throttle_wait`.
    #[error("{code}: {message}")]
    ThrottleWait {
        code: String,
        message: String,
        action: String,
        waited: Duration,
    },
}

impl CallError {
    pub fn is_throttle(&self) -> bool {
        match self {
            CallError::Api { code, .. } => codes::classify(code) == Class::Throttled,
            CallError::ThrottleWait { .. } => true,
            _ => false,
        }
    }

    /// Throttling, an unavailable service, 5xx, timeouts and connection errors.
    pub fn is_retryable(&self) -> bool {
        match self {
            CallError::Api { status, code, .. } => codes::is_retryable(*status, code),
            CallError::Transport(_) => true,
            CallError::Malformed { .. } | CallError::ThrottleWait { .. } => false,
        }
    }
}

/// The fix for [`CallError::ThrottleWait`], in parentheses.
pub fn throttle_wait_hint(action: &str, waited: Duration) -> String {
    format!(
        " ({action} still throttled after waiting {:.1} s for the service's next windows; raise throttle_wait in alicloud.ini, or run again later)",
        waited.as_secs_f64()
    )
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
}

/// Counters for `-v` and the benchmark.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub requests: u64,
    pub retries: u64,
    pub throttled: u64,
}

/// Requests in flight in the whole process, all accounts and regions together: each is a socket,
/// and the usual soft limit is 1,024 file descriptors.
static SOCKETS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(256);

/// What the client keeps per region (the `RegionId` of a call; "" for calls without one):
/// the service's limits are per region, so its adaptive limit and its holds are too.
struct Region {
    limiter: Limiter,
    holds: Holds,
}

pub struct Client {
    http: reqwest::Client,
    creds: Credentials,
    max_concurrency: usize,
    throttle_window: Duration,
    throttle_wait: Duration,
    regions: std::sync::Mutex<HashMap<String, Arc<Region>>>,
    max_retries: u32,
    stats: std::sync::Mutex<Stats>,
}

impl Client {
    pub fn new(
        creds: Credentials,
        timeout: Duration,
        max_concurrency: usize,
        max_retries: u32,
    ) -> Result<Client, Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(max_concurrency)
            .user_agent(http::USER_AGENT)
            .build()
            .map_err(|source| Error::HttpClient {
                what: "HTTPS",
                source,
            })?;
        Ok(Client {
            http,
            creds,
            max_concurrency,
            throttle_window: Duration::from_secs(60),
            throttle_wait: Duration::from_secs(70),
            regions: Default::default(),
            max_retries,
            stats: Default::default(),
        })
    }

    /// The service's throttling window, and how long in all a region may wait for windows.
    pub fn with_throttle(mut self, window: Duration, wait: Duration) -> Client {
        self.throttle_window = window;
        self.throttle_wait = wait;
        self
    }

    fn region(&self, params: &[(String, String)]) -> (String, Arc<Region>) {
        let name = params
            .iter()
            .find(|(k, _)| k == "RegionId")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let mut regions = self.regions.lock().expect("regions lock");
        let region = regions.entry(name.clone()).or_insert_with(|| {
            Arc::new(Region {
                limiter: Limiter::new(self.max_concurrency),
                holds: Holds::new(self.throttle_window, self.throttle_wait),
            })
        });
        (name, region.clone())
    }

    /// The regions whose calls were held for throttled windows: how long in all, how many holds.
    pub fn waits(&self) -> Vec<(String, Duration, u32)> {
        let regions = self.regions.lock().expect("regions lock");
        let mut v: Vec<_> = regions
            .iter()
            .map(|(name, r)| {
                let (waited, holds) = r.holds.waited();
                (name.clone(), waited, holds)
            })
            .filter(|(_, _, holds)| *holds > 0)
            .collect();
        v.sort();
        v
    }

    pub fn stats(&self) -> Stats {
        *self.stats.lock().expect("stats lock")
    }

    /// The most requests one region had in flight at once.
    pub fn max_in_flight(&self) -> usize {
        let regions = self.regions.lock().expect("regions lock");
        regions
            .values()
            .map(|r| r.limiter.max_in_flight())
            .max()
            .unwrap_or(0)
    }

    /// Calls `action` at `endpoint` with retries, and decodes the answer as `T`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        version: &str,
        action: &str,
        params: &[(String, String)],
        what: &str,
    ) -> Result<T, CallError> {
        self.call_with(endpoint, version, action, params, what, decode::<T>)
            .await
    }

    /// [`Client::call`] with the answer's status and body decoded by `decode_with`.
    pub async fn call_with<T>(
        &self,
        endpoint: &str,
        version: &str,
        action: &str,
        params: &[(String, String)],
        what: &str,
        decode_with: impl Fn(u16, &[u8]) -> Result<T, CallError>,
    ) -> Result<T, CallError> {
        let (region_name, region) = self.region(params);
        let mut attempt = 0u32;
        loop {
            if let Some(until) = region.holds.until(action, Instant::now()) {
                tokio::time::sleep_until(until.into()).await;
            }
            let slot = region.limiter.acquire().await;
            if region.holds.until(action, Instant::now()).is_some() {
                // Held while waiting for the slot: that window already said no.
                region.limiter.done(slot, Answered::Other);
                continue;
            }
            let socket = SOCKETS.acquire().await.expect("never closed");
            let started = Instant::now();
            let exchanged = self.exchange(endpoint, version, action, params).await;
            drop(socket);
            let mut date = None;
            let exchanged = exchanged.map(|(status, d, bytes)| {
                date = d;
                (status, bytes)
            });
            let outcome = match &exchanged {
                Ok((200, _)) => Answered::Success,
                Ok((status, bytes))
                    if decode::<IgnoredAny>(*status, bytes.as_ref())
                        .is_err_and(|e| e.is_throttle()) =>
                {
                    Answered::Throttled
                }
                _ => Answered::Other,
            };
            region.limiter.done(slot, outcome);
            // Decoding a page is CPU work: it happens after the slot is handed back, so it
            // does not hold the place of a request in flight.
            let result = exchanged
                .and_then(|(status, bytes)| decode_with(status, bytes.as_ref()))
                .map_err(|e| redact(e, &self.creds));
            {
                let mut s = self.stats.lock().expect("stats lock");
                s.requests += 1;
                s.throttled += (outcome == Answered::Throttled) as u64;
            }
            let err = match result {
                Ok(v) => {
                    info!(2, "{what}: ok in {} ms", started.elapsed().as_millis());
                    return Ok(v);
                }
                Err(e) => e,
            };
            if outcome == Answered::Throttled {
                // Not a retry in the old sense: the wait is bounded by throttle_wait instead.
                let local_ms = chrono::Utc::now().timestamp_millis();
                let service_ms = throttle::service_ms(date.as_deref(), local_ms);
                match region.holds.throttled(action, Instant::now(), service_ms) {
                    Hold::New(wait) => info!(
                        1,
                        "region {region_name}: {action} throttled; holding it {} ms, to the next window",
                        wait.as_millis()
                    ),
                    Hold::Already => {}
                    Hold::OverBudget(waited) => {
                        return Err(match err {
                            CallError::Api { code, message, .. } => CallError::ThrottleWait {
                                code,
                                message,
                                action: action.to_string(),
                                waited,
                            },
                            other => other,
                        })
                    }
                }
                self.stats.lock().expect("stats lock").retries += 1;
                continue;
            }
            if !err.is_retryable() || attempt >= self.max_retries {
                return Err(err);
            }
            attempt += 1;
            self.stats.lock().expect("stats lock").retries += 1;
            let delay = backoff(attempt, err.is_throttle());
            info!(
                1,
                "{what}: {} (retry {attempt}/{} in {} ms)",
                err,
                self.max_retries,
                delay.as_millis()
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One signed request: the status and the body, or why there is none.
    async fn exchange(
        &self,
        endpoint: &str,
        version: &str,
        action: &str,
        params: &[(String, String)],
    ) -> Result<(u16, Option<String>, impl AsRef<[u8]>), CallError> {
        let body = form_body(&signed_form(&self.creds, version, action, params));
        let response = self
            .http
            .post(format!("{endpoint}/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(CallError::Transport)?;
        let status = response.status().as_u16();
        let date = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = response.bytes().await.map_err(CallError::Transport)?;
        Ok((status, date, bytes))
    }
}

/// The common parameters, the action's own, and the signature over all of them, with a fresh
/// nonce and the current time.
pub fn signed_form(
    creds: &Credentials,
    version: &str,
    action: &str,
    params: &[(String, String)],
) -> Vec<(String, String)> {
    signed_form_at(
        creds,
        version,
        action,
        params,
        &uuid::Uuid::new_v4().to_string(),
        &chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

/// [`signed_form`] with a given nonce and timestamp, so that known answers can be checked.
pub fn signed_form_at(
    creds: &Credentials,
    version: &str,
    action: &str,
    params: &[(String, String)],
    nonce: &str,
    timestamp: &str,
) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = vec![
        ("Action".into(), action.into()),
        ("Version".into(), version.into()),
        ("Format".into(), "JSON".into()),
        ("AccessKeyId".into(), creds.access_key_id.clone()),
        ("SignatureMethod".into(), "HMAC-SHA1".into()),
        ("SignatureVersion".into(), "1.0".into()),
        ("SignatureNonce".into(), nonce.into()),
        ("Timestamp".into(), timestamp.into()),
    ];
    if let Some(token) = &creds.security_token {
        form.push(("SecurityToken".into(), token.expose().to_string()));
    }
    form.extend(params.iter().cloned());
    let signature = sign::sign("POST", creds.secret.expose(), &form);
    form.push(("Signature".into(), signature));
    form
}

/// The form as the request body: each name and value percent-encoded, in the form's order.
pub fn form_body(form: &[(String, String)]) -> String {
    form.iter()
        .map(|(k, v)| format!("{}={}", sign::encode(k), sign::encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Turns a response into `T` or the service's error.
pub fn decode<T: DeserializeOwned>(status: u16, bytes: &[u8]) -> Result<T, CallError> {
    if status == 200 {
        match serde_json::from_slice::<T>(bytes) {
            Ok(v) => return Ok(v),
            Err(e) => {
                // A 200 carrying an error body is still an error from the service.
                if let Ok(err) = serde_json::from_slice::<ErrorBody>(bytes) {
                    return Err(CallError::Api {
                        status,
                        code: err.code,
                        message: err.message,
                    });
                }
                return Err(CallError::Malformed {
                    len: bytes.len(),
                    source: e,
                });
            }
        }
    }
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(err) => Err(CallError::Api {
            status,
            code: err.code,
            message: err.message,
        }),
        Err(_) => Err(CallError::Api {
            status,
            code: format!("HTTP{status}"),
            message: format!("HTTP status {status} without an error body"),
        }),
    }
}

/// The service's message with the secrets of `creds` taken out.
fn redact(e: CallError, creds: &Credentials) -> CallError {
    match e {
        CallError::Api {
            status,
            code,
            message,
        } => CallError::Api {
            status,
            code,
            message: creds.redact(&message),
        },
        other => other,
    }
}

/// Exponential backoff with jitter: 200 ms, 400 ms, 800 ms ... capped at 5 s, each scaled by a
/// random factor in [0.5, 1) so that concurrent requests do not retry in lockstep.
fn backoff(attempt: u32, throttled: bool) -> Duration {
    let base_ms = if throttled { 300 } else { 200 };
    let ms = (base_ms * 2u64.pow(attempt.saturating_sub(1).min(10))).min(5_000);
    Duration::from_millis(((ms as f64) * (0.5 + fastrand::f64() / 2.0)) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::secret::Secret;

    /// The independent known answers of fixtures/signing (made with Python's hmac and checked
    /// with the official SDK): the form the client builds, its signature and its body, byte
    /// for byte, for every POST vector.
    #[test]
    fn form_is_signed_over_every_parameter() {
        let doc: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/signing/vectors.json"
        )))
        .unwrap();
        let pairs = |v: &serde_json::Value| -> Vec<(String, String)> {
            serde_json::from_value(v.clone()).unwrap()
        };
        let mut checked = 0;
        for v in doc["vectors"].as_array().unwrap() {
            if v["method"] != "POST" {
                continue;
            }
            let name = v["name"].as_str().unwrap();
            let common = pairs(&v["common"]);
            let get = |k: &str| common.iter().find(|(n, _)| n == k).map(|(_, x)| x.clone());
            let creds = Credentials {
                access_key_id: get("AccessKeyId").unwrap(),
                secret: Secret::new(v["secret"].as_str().unwrap()),
                security_token: get("SecurityToken").map(Secret::new),
                source: "test".into(),
            };
            let params = pairs(&v["params"]);
            let form = signed_form_at(
                &creds,
                &get("Version").unwrap(),
                &get("Action").unwrap(),
                &params,
                &get("SignatureNonce").unwrap(),
                &get("Timestamp").unwrap(),
            );
            let mut want = common.clone();
            want.extend(params);
            want.push(("Signature".into(), v["signature"].as_str().unwrap().into()));
            assert_eq!(form, want, "{name}");
            assert_eq!(form_body(&form), v["body"].as_str().unwrap(), "{name}");
            checked += 1;
        }
        assert_eq!(checked, 4, "the POST vectors");

        let creds = Credentials {
            access_key_id: "testid".into(),
            secret: Secret::new("testsecret"),
            security_token: Some(Secret::new("tok")),
            source: "test".into(),
        };
        let form = signed_form(
            &creds,
            ECS_VERSION,
            "DescribeInstances",
            &[("RegionId".into(), "cn-hangzhou".into())],
        );
        let nonce = |f: &Vec<(String, String)>| {
            f.iter()
                .find(|(k, _)| k == "SignatureNonce")
                .unwrap()
                .1
                .clone()
        };
        let again = signed_form(&creds, ECS_VERSION, "DescribeInstances", &[]);
        assert_ne!(nonce(&form), nonce(&again), "a fresh nonce per request");
        let ts = &form.iter().find(|(k, _)| k == "Timestamp").unwrap().1;
        assert!(
            chrono::NaiveDateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%SZ").is_ok(),
            "{ts}"
        );
        assert!(form.iter().any(|(k, v)| k == "SecurityToken" && v == "tok"));
    }

    #[test]
    fn decode_classifies_answers() {
        #[derive(Deserialize, Debug)]
        struct Ok1 {
            #[serde(rename = "TotalCount")]
            _t: u64,
        }
        assert!(decode::<Ok1>(200, br#"{"TotalCount": 3}"#).is_ok());
        let e =
            decode::<Ok1>(400, br#"{"Code":"Throttling.User","Message":"slow down"}"#).unwrap_err();
        assert!(e.is_throttle() && e.is_retryable());
        let e = decode::<Ok1>(200, br#"{"Code":"InternalError","Message":"x"}"#).unwrap_err();
        assert!(
            matches!(e, CallError::Api { ref code, .. } if code == "InternalError")
                && e.is_retryable()
        );
        let e = decode::<Ok1>(200, br#"{"TotalCount": 3"#).unwrap_err();
        assert!(matches!(e, CallError::Malformed { .. }) && !e.is_retryable());
        let e = decode::<Ok1>(
            404,
            br#"{"Code":"InvalidAccessKeyId.NotFound","Message":"x"}"#,
        )
        .unwrap_err();
        assert!(!e.is_retryable());
        assert!(decode::<Ok1>(502, b"<html>").unwrap_err().is_retryable());
    }

    #[test]
    fn service_messages_lose_the_string_to_sign_and_any_secret() {
        let creds = Credentials {
            access_key_id: "id".into(),
            secret: Secret::new("s3cr3t/x"),
            security_token: Some(Secret::new("tok+en/1")),
            source: "test".into(),
        };
        let e = redact(
            CallError::Api {
                status: 400,
                code: "SignatureDoesNotMatch".into(),
                message: "Specified signature is not matched. server string to sign is:POST&%2F&SecurityToken%3Dtok%252Ben%252F1".into(),
            },
            &creds,
        );
        assert!(
            matches!(&e, CallError::Api { message, .. } if message == "Specified signature is not matched."),
            "{e:?}"
        );
        let e = redact(
            CallError::Api {
                status: 400,
                code: "X".into(),
                message: "a s3cr3t/x b tok%2Ben%2F1 c".into(),
            },
            &creds,
        );
        assert!(
            matches!(&e, CallError::Api { message, .. } if message == "a *** b *** c"),
            "{e:?}"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1, false) < Duration::from_millis(200));
        assert!(backoff(3, false) >= Duration::from_millis(400));
        assert!(backoff(20, true) <= Duration::from_secs(5));
    }
}
