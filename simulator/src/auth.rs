//! The request checks before any action: the common parameters, the credential, the
//! timestamp, the signature and the nonce, in the service's order.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use crate::api::sign;
use crate::clock::Clock;
use crate::error::ApiError;
use crate::params::Params;
use crate::sts::{Caller, Sts};
use crate::sync::lock;

/// How far a timestamp may be from the simulator clock, and how long a nonce is remembered.
const WINDOW_SECS: i64 = 15 * 60;

#[derive(Default)]
struct Nonces {
    order: VecDeque<(i64, String)>,
    seen: HashSet<String>,
}

pub struct Auth {
    /// Permanent keys: id → secret.
    keys: HashMap<String, String>,
    /// The account of each key in `keys` that is not the default account's.
    key_accounts: HashMap<String, String>,
    default_account: String,
    clock: Clock,
    nonces: Mutex<Nonces>,
}

impl Auth {
    pub fn new(
        keys: HashMap<String, String>,
        key_accounts: HashMap<String, String>,
        default_account: String,
        clock: Clock,
    ) -> Auth {
        Auth {
            keys,
            key_accounts,
            default_account,
            clock,
            nonces: Mutex::default(),
        }
    }

    /// The account a key belongs to (the default one for a key nobody issued).
    pub fn account_of_key(&self, sts: &Sts, key_id: &str) -> String {
        if let Some(a) = self.key_accounts.get(key_id) {
            return a.clone();
        }
        match sts.get(key_id) {
            Some(c) => c.account,
            None => self.default_account.clone(),
        }
    }

    /// Checks the common parameters, the credential and the signature, in the service's order.
    pub fn authenticate(&self, sts: &Sts, method: &str, p: &Params) -> Result<Caller, ApiError> {
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
        let (secret, caller) = if let Some(secret) = self.keys.get(key_id) {
            if token.is_some() {
                return Err(ApiError::new(
                    400,
                    "InvalidSecurityToken.MismatchWithAccessKey",
                    "Specified SecurityToken mismatch with the AccessKey.",
                ));
            }
            let account = self.account_of_key(sts, key_id);
            let caller = Caller {
                arn: format!("acs:ram::{account}:root"),
                account,
                kind: "Account",
            };
            (secret.clone(), caller)
        } else if let Some(cred) = sts.get(key_id) {
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
            if cred.expires <= self.clock.now() {
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
        if (ts - self.clock.now()).abs() > WINDOW_SECS {
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
        let now = self.clock.now();
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
}

trait NoneOrEmpty {
    fn is_none_or_empty(&self) -> bool;
}

impl NoneOrEmpty for Option<&str> {
    fn is_none_or_empty(&self) -> bool {
        self.iter().all(|s| s.is_empty())
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
