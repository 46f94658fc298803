//! A role to assume with STS: where it is configured (the environment, the ini, a `RamRoleArn`
//! profile), the checks STS would make anyway, and the AssumeRole call itself.

use std::time::Duration;

use serde::Deserialize;

use crate::api::client::{self, CallError, Client, STS_VERSION};
use crate::api::secret::{Credentials, Secret};
use crate::config::{Env, Settings};
use crate::error::{Error, Result};
use crate::info;
use crate::service_codes::{self as codes, Class};

/// A role to assume with STS, and how to reach STS.
#[derive(Debug, Clone)]
pub struct RoleToAssume {
    pub role_arn: String,
    pub session_name: String,
    pub duration_seconds: u32,
    pub policy: Option<String>,
    pub sts_endpoint: String,
    pub timeout: Duration,
    pub max_retries: u32,
    /// The throttling window and the bound on waits, as for the listing.
    pub throttle_window: Duration,
    pub throttle_wait: Duration,
    /// Where the role came from, for `-v` and errors.
    pub origin: String,
}

const ENV_ASSUME_ARN: &str = "ALICLOUD_ASSUME_ROLE_ARN";
const ENV_ASSUME_SESSION: &str = "ALICLOUD_ASSUME_ROLE_SESSION_NAME";
const ENV_ASSUME_EXPIRATION: &str = "ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION";

/// `RoleSessionName` when none is configured.
pub const DEFAULT_SESSION_NAME: &str = "alicloud_inventory";
/// `DurationSeconds` when none is configured.
pub const DEFAULT_DURATION_SECONDS: u32 = 3600;

/// The role to assume on top of the chain: `ALICLOUD_ASSUME_ROLE_ARN` (the whole role then comes
/// from the environment), else ini `assume_role`, whose session name and expiration the
/// environment may still override.
pub(super) fn role_to_assume(settings: &Settings, env: &Env) -> Result<Option<RoleToAssume>> {
    let ini = settings.credentials.assume_role.as_ref();
    let session_env = env.first(&[ENV_ASSUME_SESSION]);
    let expiration = match env.first(&[ENV_ASSUME_EXPIRATION]) {
        Some(v) => Some(
            v.trim()
                .parse::<u32>()
                .ok()
                .filter(|s| (900..=43200).contains(s))
                .ok_or_else(|| {
                    Error::Config(format!(
                        "{ENV_ASSUME_EXPIRATION}='{v}' must be a number of seconds, 900..43200"
                    ))
                })?,
        ),
        None => None,
    };
    let (arn, session, duration, policy, origin) = match (env.first(&[ENV_ASSUME_ARN]), ini) {
        (Some(arn), _) => (
            arn,
            session_env,
            expiration,
            None,
            ENV_ASSUME_ARN.to_string(),
        ),
        (None, Some(r)) => (
            r.role_arn.clone(),
            session_env.or_else(|| Some(r.session_name.clone()).filter(|s| !s.is_empty())),
            expiration.or(Some(r.session_expiration)),
            r.policy.clone(),
            match &settings.source {
                Some(p) => format!("assume_role in {}", p.display()),
                None => "assume_role in the ini".to_string(),
            },
        ),
        (None, None) => {
            if session_env.is_some() || expiration.is_some() {
                info!(
                    1,
                    "{ENV_ASSUME_SESSION}/{ENV_ASSUME_EXPIRATION} ignored: no role to assume \
                     ({ENV_ASSUME_ARN} or ini assume_role)"
                );
            }
            return Ok(None);
        }
    };
    RoleToAssume::checked(
        &arn,
        session.as_deref().unwrap_or(DEFAULT_SESSION_NAME),
        duration.unwrap_or(DEFAULT_DURATION_SECONDS),
        policy,
        settings,
        &origin,
    )
    .map(Some)
    .map_err(Error::Config)
}

/// The answer of AssumeRole. No `Debug`: it holds secrets.
#[derive(Deserialize)]
struct AssumeRoleAnswer {
    #[serde(rename = "Credentials")]
    credentials: StsCredentials,
}

#[derive(Deserialize)]
struct StsCredentials {
    #[serde(rename = "AccessKeyId")]
    access_key_id: String,
    #[serde(rename = "AccessKeySecret")]
    access_key_secret: String,
    #[serde(rename = "SecurityToken")]
    security_token: String,
}

impl RoleToAssume {
    /// Checks what STS would refuse anyway, so the operator hears it as a configuration error that
    /// names where the value came from.
    pub(super) fn checked(
        role_arn: &str,
        session_name: &str,
        duration_seconds: u32,
        policy: Option<String>,
        settings: &Settings,
        origin: &str,
    ) -> std::result::Result<RoleToAssume, String> {
        let role_arn = role_arn.trim();
        if !(role_arn.starts_with("acs:ram::") && role_arn.contains(":role/")) {
            return Err(format!(
                "{origin}: '{role_arn}' is not a RAM role ARN (acs:ram::ACCOUNT_ID:role/NAME)"
            ));
        }
        let ok = (2..=64).contains(&session_name.len())
            && session_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
        if !ok {
            return Err(format!(
                "{origin}: session name '{session_name}' must be 2 to 64 of A-Z a-z 0-9 - _ . @"
            ));
        }
        if let Some(p) = &policy {
            if !serde_json::from_str::<serde_json::Value>(p).is_ok_and(|v| v.is_object()) {
                return Err(format!("{origin}: policy is not a JSON object"));
            }
        }
        Ok(RoleToAssume {
            role_arn: role_arn.to_string(),
            session_name: session_name.to_string(),
            duration_seconds,
            policy,
            sts_endpoint: settings.sts_endpoint.trim_end_matches('/').to_string(),
            timeout: settings.timeout,
            max_retries: settings.max_retries,
            throttle_window: settings.throttle_window,
            throttle_wait: settings.throttle_wait,
            origin: origin.to_string(),
        })
    }

    /// STS AssumeRole signed with `base`; the role's temporary keys.
    pub(super) async fn assume(&self, base: &Credentials) -> Result<Credentials> {
        // A throttled AssumeRole waits for the configured window, not the default minute.
        let client = Client::new(base.clone(), self.timeout, 1, self.max_retries)?
            .with_throttle(self.throttle_window, self.throttle_wait);
        let mut params: Vec<(String, String)> = vec![
            ("RoleArn".into(), self.role_arn.clone()),
            ("RoleSessionName".into(), self.session_name.clone()),
            ("DurationSeconds".into(), self.duration_seconds.to_string()),
        ];
        if let Some(p) = &self.policy {
            params.push(("Policy".into(), p.clone()));
        }
        let answer: AssumeRoleAnswer = client
            .call(
                &self.sts_endpoint,
                STS_VERSION,
                "AssumeRole",
                &params,
                &format!("sts AssumeRole {}", self.role_arn),
            )
            .await
            .map_err(|e| self.error(e, base))?;
        let c = answer.credentials;
        info!(
            1,
            "assumed role {} for {} s", self.role_arn, self.duration_seconds
        );
        Ok(Credentials {
            access_key_id: c.access_key_id,
            secret: Secret::new(c.access_key_secret),
            security_token: Some(Secret::new(c.security_token)),
            source: format!("AssumeRole {} with {}", self.role_arn, base.source),
        })
    }

    /// One line naming the role, the base credentials and the fix. A refusal (bad role, no
    /// permission, bad keys) is a configuration problem (exit 2); an STS outage is not (exit 1).
    fn error(&self, e: CallError, base: &Credentials) -> Error {
        let scope = format!(
            "credentials: AssumeRole {} at {}",
            self.role_arn, self.sts_endpoint
        );
        let outage = e.is_retryable();
        match e {
            CallError::Api { code, message, .. } if !outage => {
                let message = base.redact(&message);
                // `Forbidden*` gets the general hint: STS says NoPermission for a role it may
                // not assume.
                let hint = match codes::classify(&code) {
                    Class::NoPermission => format!(
                        "the base credentials ({}) may not assume this role: grant them sts:AssumeRole on it, and check that the role's trust policy allows their account",
                        base.source
                    ),
                    Class::NoSuchEntity => "check the role ARN".to_string(),
                    Class::InvalidParameter => format!("check {}", self.origin),
                    Class::BadKeyId | Class::BadSignature => {
                        format!("check the keys of the base credentials ({})", base.source)
                    }
                    Class::BadToken => format!(
                        "the security token of the base credentials ({}) is invalid or expired; get fresh credentials",
                        base.source
                    ),
                    Class::Clock => "check this machine's clock: is NTP running?".to_string(),
                    _ => format!("check {} and the base credentials ({})", self.origin, base.source),
                };
                Error::Credentials(format!(
                    "AssumeRole {} ({}): {code}: {message} ({hint})",
                    self.role_arn, self.origin
                ))
            }
            CallError::Api { code, message, .. } => Error::Api {
                scope,
                code,
                message: base.redact(&message),
                hint: format!(
                    " (STS is unavailable after {} retries; run again later)",
                    self.max_retries
                ),
            },
            CallError::ThrottleWait {
                code,
                message,
                action,
                waited,
            } => Error::Api {
                scope,
                code,
                message: base.redact(&message),
                hint: client::throttle_wait_hint(&action, waited),
            },
            e @ CallError::Transport(_) => Error::Transport {
                scope,
                message: format!(
                    "{e} (check sts_endpoint or ALICLOUD_STS_ENDPOINT and the network)"
                ),
                source: Some(e.into()),
            },
            e @ CallError::Malformed { .. } => Error::Transport {
                scope,
                message: format!("{e} (check sts_endpoint or ALICLOUD_STS_ENDPOINT)"),
                source: Some(e.into()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::chain::plan;
    use crate::credentials::plan::Plan;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs)
    }

    #[test]
    fn the_role_to_assume_comes_from_the_environment_or_the_ini() {
        let mut s = super::super::test_settings_with_ini_keys();
        s.credentials.assume_role = Some(crate::config::AssumeRole {
            role_arn: "acs:ram::1:role/ini".into(),
            session_name: "ini-session".into(),
            session_expiration: 1200,
            policy: Some(r#"{"Version": "1"}"#.into()),
        });
        let role = |pairs: &[(&str, &str)]| match plan(&s, &env(pairs)) {
            Ok(Plan::AssumeRole { role, base }) => Ok((role, base.identity())),
            Ok(other) => panic!("no role: {other:?}"),
            Err(e) => Err(e),
        };
        let (r, base) = role(&[]).unwrap();
        assert_eq!(
            (
                r.role_arn.as_str(),
                r.session_name.as_str(),
                r.duration_seconds,
                base.as_str()
            ),
            ("acs:ram::1:role/ini", "ini-session", 1200, "key:ini-key")
        );
        assert!(r.policy.is_some());
        let (r, _) = role(&[(ENV_ASSUME_SESSION, "env-session")]).unwrap();
        assert_eq!(
            (r.session_name.as_str(), r.duration_seconds),
            ("env-session", 1200)
        );
        let (r, _) = role(&[(ENV_ASSUME_ARN, "acs:ram::2:role/env")]).unwrap();
        assert_eq!(
            (
                r.role_arn.as_str(),
                r.session_name.as_str(),
                r.duration_seconds,
                r.policy
            ),
            (
                "acs:ram::2:role/env",
                DEFAULT_SESSION_NAME,
                DEFAULT_DURATION_SECONDS,
                None
            )
        );
        let e = role(&[(ENV_ASSUME_EXPIRATION, "soon")]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let e = role(&[(ENV_ASSUME_ARN, "acs:ram::2:user/x")]).unwrap_err();
        assert!(e.to_string().contains("not a RAM role ARN"), "{e}");
        // The policy is part of the identity (it narrows what is visible); the session is not.
        let with_policy = plan(&s, &Env::default()).unwrap().identity();
        s.credentials.assume_role.as_mut().unwrap().policy = None;
        let without = plan(&s, &Env::default()).unwrap().identity();
        assert_ne!(with_policy, without);
        assert_eq!(without, "key:ini-key>assume:acs:ram::1:role/ini");
        assert!(!with_policy.contains("ini-secret"));
    }
}
