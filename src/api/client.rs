//! The signed RPC client and its retry policy (docs/DESIGN.md, "The API client").
//!
//! Requests are POSTed as forms, so neither the signature nor a security token ever appears in a
//! URL, where proxies and error messages would show it.

use std::time::{Duration, Instant};

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Deserialize;

use crate::api::http;
use crate::api::limiter::{Answered, Limiter};
use crate::api::secret::Credentials;
use crate::api::sign;
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
}

impl CallError {
    pub fn is_throttle(&self) -> bool {
        matches!(self, CallError::Api { code, .. } if codes::classify(code) == Class::Throttled)
    }

    /// Throttling, an unavailable service, 5xx, timeouts and connection errors.
    pub fn is_retryable(&self) -> bool {
        match self {
            CallError::Api { status, code, .. } => codes::is_retryable(*status, code),
            CallError::Transport(_) => true,
            CallError::Malformed { .. } => false,
        }
    }
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

pub struct Client {
    http: reqwest::Client,
    creds: Credentials,
    limiter: Limiter,
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
            limiter: Limiter::new(max_concurrency),
            max_retries,
            stats: Default::default(),
        })
    }

    pub fn stats(&self) -> Stats {
        *self.stats.lock().expect("stats lock")
    }

    pub fn max_in_flight(&self) -> usize {
        self.limiter.max_in_flight()
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
        let mut attempt = 0u32;
        loop {
            let slot = self.limiter.acquire().await;
            let started = Instant::now();
            let exchanged = self.exchange(endpoint, version, action, params).await;
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
            self.limiter.done(slot, outcome);
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
    ) -> Result<(u16, impl AsRef<[u8]>), CallError> {
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
        let bytes = response.bytes().await.map_err(CallError::Transport)?;
        Ok((status, bytes))
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
