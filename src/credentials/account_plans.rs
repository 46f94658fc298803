//! The credentials of each entry of `accounts` (docs/DESIGN.md, "Accounts"): decided without any
//! network call, like the chain, so a warm cache is found first; resolved per account, with the
//! base credentials (the chain's answer) fetched once for every role that is assumed with them.

use std::sync::Arc;

use serde::Deserialize;

use crate::api::client::{CallError, Client, STS_VERSION};
use crate::api::secret::Credentials;
use crate::config::{self, Account, AccountCredentials, Env, Settings};
use crate::credentials::chain;
use crate::credentials::metadata::EcsRole;
use crate::credentials::plan::Plan;
use crate::credentials::profile;
use crate::credentials::sts::{RoleToAssume, DEFAULT_DURATION_SECONDS, DEFAULT_SESSION_NAME};
use crate::error::{Error, Result};
use crate::service_codes::{self as codes, Class};

/// The run's base credentials, resolved at most once however many accounts use them.
#[derive(Debug)]
pub struct Base {
    plan: Plan,
    creds: tokio::sync::OnceCell<Credentials>,
}

impl Base {
    async fn credentials(&self) -> Result<Credentials> {
        self.creds
            .get_or_try_init(|| self.plan.clone().resolve())
            .await
            .cloned()
    }
}

/// How one account's keys are obtained.
#[derive(Debug, Clone)]
enum Reach {
    /// The base credentials themselves.
    Base(Arc<Base>),
    /// A role assumed with the base credentials.
    RoleOnBase(Arc<Base>, RoleToAssume),
    /// Credentials of its own (a profile, keys, an ECS RAM role).
    Own(Plan),
}

/// One account of `accounts`, ready to be resolved.
#[derive(Debug, Clone)]
pub struct AccountPlan {
    pub alias: String,
    reach: Reach,
}

/// The plan of every account; `Error::Account` names the entry that cannot be planned.
pub fn account_plans(
    settings: &Settings,
    env: &Env,
    accounts: &[Account],
) -> Result<Vec<AccountPlan>> {
    let origin = match &settings.source {
        Some(p) => format!("the accounts option in {}", p.display()),
        None => "the accounts option".to_string(),
    };
    let mut base: Option<Arc<Base>> = None;
    let mut plans = Vec::with_capacity(accounts.len());
    for account in accounts {
        let wrap = |source: Error| Error::Account {
            alias: account.alias.clone(),
            source: Box::new(source),
        };
        let mut base_plan = || -> Result<Arc<Base>> {
            if let Some(b) = &base {
                return Ok(b.clone());
            }
            let b = Arc::new(Base {
                plan: chain::plan(settings, env)?,
                creds: tokio::sync::OnceCell::new(),
            });
            base = Some(b.clone());
            Ok(b)
        };
        let reach = match &account.credentials {
            AccountCredentials::Base => Reach::Base(base_plan().map_err(wrap)?),
            AccountCredentials::Role {
                role_arn,
                session_name,
                session_expiration,
                policy,
            } => {
                let role = RoleToAssume::checked(
                    role_arn,
                    session_name.as_deref().unwrap_or(DEFAULT_SESSION_NAME),
                    session_expiration.unwrap_or(DEFAULT_DURATION_SECONDS),
                    policy.clone(),
                    settings,
                    &origin,
                )
                .map_err(|m| wrap(Error::Config(m)))?;
                Reach::RoleOnBase(base_plan().map_err(wrap)?, role)
            }
            AccountCredentials::Profile(name) => {
                let file = env
                    .first(&["ALICLOUD_SHARED_CREDENTIALS_FILE"])
                    .or_else(|| settings.credentials.shared_credentials_file.clone())
                    .map(|p| config::expand_path(&p, env));
                Reach::Own(
                    profile::asked_for(Some((name.clone(), origin.as_str())), file, settings, env)
                        .map_err(wrap)?,
                )
            }
            AccountCredentials::Keys {
                access_key,
                secret_key,
                security_token,
            } => Reach::Own(Plan::Static(Credentials {
                access_key_id: access_key.clone(),
                secret: secret_key.clone(),
                security_token: security_token.clone(),
                source: format!("the keys of account '{}' in {origin}", account.alias),
            })),
            AccountCredentials::EcsRole(name) => Reach::Own(Plan::EcsRamRole(EcsRole {
                name: name.clone(),
                metadata_endpoint: settings.metadata_endpoint.clone(),
                origin: origin.clone(),
            })),
        };
        plans.push(AccountPlan {
            alias: account.alias.clone(),
            reach,
        });
    }
    Ok(plans)
}

/// The account id of a role ARN (`acs:ram::ACCOUNT_ID:role/NAME`).
fn account_of_arn(arn: &str) -> Option<String> {
    let id = arn.strip_prefix("acs:ram::")?.split(':').next()?;
    (!id.is_empty()).then(|| id.to_string())
}

impl AccountPlan {
    /// The plan as the chain would write it, for identity and `-v`.
    fn as_plan(&self) -> Plan {
        match &self.reach {
            Reach::Base(b) => b.plan.clone(),
            Reach::RoleOnBase(b, role) => Plan::AssumeRole {
                base: Box::new(b.plan.clone()),
                role: role.clone(),
            },
            Reach::Own(p) => p.clone(),
        }
    }

    /// A stable name for the account, part of the cache key: role ARN, key id or RAM role name
    /// (through [`Plan::identity`]); never a secret.
    pub fn identity(&self) -> String {
        self.as_plan().identity()
    }

    /// Where the credentials come from, in words, for `-v`.
    pub fn source(&self) -> String {
        self.as_plan().source()
    }

    /// The account id when the plan names it: the ARN of the role assumed last. Otherwise
    /// STS GetCallerIdentity tells it ([`caller_account_id`]).
    pub fn known_account_id(&self) -> Option<String> {
        match self.as_plan() {
            Plan::AssumeRole { role, .. } => account_of_arn(&role.role_arn),
            _ => None,
        }
    }

    /// The keys to list this account with: the shared base credentials, a role assumed with
    /// them, or the account's own.
    pub async fn credentials(&self) -> Result<Credentials> {
        match &self.reach {
            Reach::Base(b) => b.credentials().await,
            Reach::RoleOnBase(b, role) => role.assume(&b.credentials().await?).await,
            Reach::Own(p) => p.clone().resolve().await,
        }
    }
}

#[derive(Deserialize)]
struct CallerIdentity {
    #[serde(rename = "AccountId")]
    account_id: String,
}

/// STS GetCallerIdentity with `client`'s keys: the id of the account they belong to. It needs
/// no RAM permission.
pub async fn caller_account_id(client: &Client, sts_endpoint: &str) -> Result<String> {
    let scope = format!("credentials: GetCallerIdentity at {sts_endpoint}");
    let answer: CallerIdentity = client
        .call(
            sts_endpoint,
            STS_VERSION,
            "GetCallerIdentity",
            &[],
            "sts GetCallerIdentity",
        )
        .await
        .map_err(|e| match e {
            CallError::Api { code, message, .. } => {
                let hint = match codes::classify(&code) {
                    Class::BadKeyId | Class::BadSignature => " (check the account's keys)",
                    Class::BadToken => {
                        " (the security token is invalid or expired; get fresh credentials)"
                    }
                    Class::Clock => " (check this machine's clock: is NTP running?)",
                    Class::Throttled | Class::Unavailable => {
                        " (STS is unavailable; run again later)"
                    }
                    _ => "",
                };
                Error::Api {
                    scope: scope.clone(),
                    code,
                    message,
                    hint: hint.to_string(),
                }
            }
            e => Error::Transport {
                scope: scope.clone(),
                message: format!(
                    "{e} (check sts_endpoint or ALICLOUD_STS_ENDPOINT and the network)"
                ),
                source: Some(e.into()),
            },
        })?;
    if answer.account_id.trim().is_empty() {
        return Err(Error::Api {
            scope,
            code: "MalformedResponse".into(),
            message: "GetCallerIdentity answered without an AccountId".into(),
            hint: String::new(),
        });
    }
    Ok(answer.account_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ini::Ini;

    fn settings(accounts: &str) -> Settings {
        let ini = Ini::parse(
            std::path::Path::new("a.ini"),
            &format!("[ecs]\naccounts = {accounts}\n"),
        )
        .unwrap();
        Settings::from_ini(Some(&ini), &Env::default()).unwrap()
    }

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs)
    }

    #[test]
    fn identities_name_roles_and_keys_never_secrets() {
        let s = settings(
            "[{alias: a, role_arn: acs:ram::111:role/r}, {alias: b}, {alias: c, alicloud_access_key: LTAIc, alicloud_secret_key: sec-c-123456}]",
        );
        let e = env(&[
            ("ALICLOUD_ACCESS_KEY", "LTAIbase"),
            ("ALICLOUD_SECRET_KEY", "sec-base-123456"),
        ]);
        let plans = account_plans(&s, &e, s.accounts.as_ref().unwrap()).unwrap();
        let ids: Vec<String> = plans.iter().map(AccountPlan::identity).collect();
        assert_eq!(
            ids,
            [
                "key:LTAIbase>assume:acs:ram::111:role/r",
                "key:LTAIbase",
                "key:LTAIc"
            ]
        );
        assert_eq!(plans[0].known_account_id().as_deref(), Some("111"));
        assert_eq!(plans[1].known_account_id(), None);
        let shown = format!(
            "{plans:?}{}",
            plans.iter().map(|p| p.source()).collect::<String>()
        );
        assert!(
            !shown.contains("sec-c-123456") && !shown.contains("sec-base-123456"),
            "{shown}"
        );
    }

    #[test]
    fn a_role_without_base_credentials_names_the_account() {
        let s = settings("[{alias: c, alicloud_access_key: k, alicloud_secret_key: s}, {alias: r, role_arn: acs:ram::1:role/x}]");
        let e = account_plans(&s, &Env::default(), s.accounts.as_ref().unwrap()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("account 'r': no Alibaba Cloud credentials"),
            "{e}"
        );
        assert_eq!(e.exit_code(), 2);
        // An account with keys of its own needs no base credentials.
        let s = settings("[{alias: c, alicloud_access_key: k, alicloud_secret_key: s}]");
        assert!(account_plans(&s, &Env::default(), s.accounts.as_ref().unwrap()).is_ok());
        let s = settings("[{alias: bad, role_arn: acs:ram::1:user/x}]");
        let e = account_plans(
            &s,
            &env(&[("ALICLOUD_ACCESS_KEY", "k"), ("ALICLOUD_SECRET_KEY", "s")]),
            s.accounts.as_ref().unwrap(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("account 'bad': the accounts option in a.ini: 'acs:ram::1:user/x' is not a RAM role ARN"), "{e}");
    }

    #[test]
    fn account_ids_of_arns() {
        assert_eq!(
            account_of_arn("acs:ram::123:role/x").as_deref(),
            Some("123")
        );
        assert_eq!(account_of_arn("acs:ram:::role/x"), None);
        assert_eq!(account_of_arn("arn:aws:iam::1:role/x"), None);
    }
}
