//! The STS side: temporary credentials, minted by AssumeRole, the metadata service and the
//! `/_sim/mint-sts` hook, then accepted by the ECS actions together with their token; and the
//! STS actions, AssumeRole and GetCallerIdentity.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::clock::Clock;
use crate::error::ApiError;
use crate::params::Params;
use crate::reply::Reply;

/// Who signed a request.
pub struct Caller {
    pub account: String,
    pub arn: String,
    pub kind: &'static str,
}

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

/// The account id of a role ARN (`acs:ram::ID:role/NAME`).
fn account_of_arn(arn: &str) -> Option<&str> {
    arn.strip_prefix("acs:ram::")?
        .split(':')
        .next()
        .filter(|id| !id.is_empty())
}

/// GetCallerIdentity.
pub fn caller_identity(caller: &Caller, request_id: &str) -> Reply {
    Reply::ok(
        json!({
            "RequestId": request_id,
            "AccountId": caller.account,
            "UserId": caller.account,
            "PrincipalId": caller.account,
            "Arn": caller.arn,
            "IdentityType": caller.kind,
        })
        .to_string(),
    )
}

/// The roles AssumeRole may assume, each with the accounts it trusts (`None`: every account).
pub type Roles = [(String, Option<Vec<String>>)];

impl Sts {
    /// AssumeRole. A role in an account nobody named is in `default_account`.
    pub fn assume_role(
        &self,
        roles: &Roles,
        default_account: &str,
        clock: Clock,
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
        let trusted = roles.iter().any(|(r, trust)| {
            r == arn && trust.as_ref().is_none_or(|t| t.contains(&caller.account))
        });
        if !trusted {
            return Err(ApiError::new(
                403,
                "NoPermission",
                "You are not authorized to do this action. You should be authorized by RAM.",
            ));
        }
        let account = account_of_arn(arn).unwrap_or(default_account);
        let role_name = arn.rsplit('/').next().unwrap_or("role");
        let cred = self.mint(
            clock.now() + duration,
            account,
            &format!("acs:ram::{account}:assumed-role/{role_name}/{session}"),
        );
        Ok(Reply::ok(
            assume_role_json(&cred, request_id, arn, session).to_string(),
        ))
    }
}
