//! Temporary (STS) credentials: minted by AssumeRole, the metadata service and the
//! `/_sim/mint-sts` hook, then accepted by the ECS actions together with their token.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{json, Value};

/// A temporary credential as the simulator remembers it.
#[derive(Clone)]
pub struct TempCred {
    pub id: String,
    pub secret: String,
    pub token: String,
    /// Unix seconds on the simulator clock.
    pub expires: i64,
    /// The account the credential belongs to.
    pub account: String,
    /// Who it signs as (GetCallerIdentity's `Arn`).
    pub arn: String,
}

#[derive(Default)]
pub struct Sts {
    creds: Mutex<HashMap<String, TempCred>>,
}

fn alnum(n: usize) -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(n)
        .collect()
}

/// A long token over the base64 alphabet (so `+`, `/` and `=` test the client's encoding).
fn token() -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let body: String = std::iter::repeat_with(|| B64[fastrand::usize(..B64.len())] as char)
        .take(420)
        .collect();
    format!("CAIS{body}==")
}

/// `YYYY-MM-DDThh:mm:ssZ` of unix seconds.
pub fn iso(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

impl Sts {
    /// Mints credentials of `account`, signing as `arn`, valid until `expires` (unix seconds,
    /// simulator clock).
    pub fn mint(&self, expires: i64, account: &str, arn: &str) -> TempCred {
        let cred = TempCred {
            id: format!("STS.NU{}", alnum(22)),
            secret: alnum(44),
            token: token(),
            expires,
            account: account.to_owned(),
            arn: arn.to_owned(),
        };
        self.creds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(cred.id.clone(), cred.clone());
        cred
    }

    pub fn get(&self, id: &str) -> Option<TempCred> {
        self.creds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }
}

/// The metadata service's credential document.
pub fn metadata_json(c: &TempCred, now: i64) -> Value {
    json!({
        "AccessKeyId": c.id,
        "AccessKeySecret": c.secret,
        "Expiration": iso(c.expires),
        "SecurityToken": c.token,
        "LastUpdated": iso(now),
        "Code": "Success",
    })
}

/// The `Credentials` object of an AssumeRole answer.
pub fn assume_role_json(c: &TempCred, request_id: &str, role_arn: &str, session: &str) -> Value {
    let role_id: String = std::iter::repeat_with(|| fastrand::digit(10))
        .take(18)
        .collect();
    json!({
        "RequestId": request_id,
        "AssumedRoleUser": {
            "Arn": format!("{role_arn}/{session}"),
            "AssumedRoleId": format!("3{role_id}:{session}"),
        },
        "Credentials": {
            "AccessKeyId": c.id,
            "AccessKeySecret": c.secret,
            "SecurityToken": c.token,
            "Expiration": iso(c.expires),
        }
    })
}
