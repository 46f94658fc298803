//! The credential chain of SPEC §3: environment, ini, aliyun CLI profile, ECS RAM role, then an
//! optional STS AssumeRole on top. The secret and the token live in [`Secret`], whose `Debug`
//! and `Display` never show the value, so no log line or error can carry them by accident.

use crate::error::{Error, Result};
use crate::settings::{Env, Settings};

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The only way to the value: for signing and for the STS/metadata calls.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret: Secret,
    pub security_token: Option<Secret>,
    /// Where they came from, for `-v` and for error hints ("environment", "ini", ...).
    pub source: String,
}

const ENV_KEY: &[&str] = &[
    "ALICLOUD_ACCESS_KEY",
    "ALICLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
];
const ENV_SECRET: &[&str] = &[
    "ALICLOUD_SECRET_KEY",
    "ALICLOUD_SECRET_ACCESS_KEY",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
];
const ENV_TOKEN: &[&str] = &["ALICLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_SECURITY_TOKEN"];

/// The region used for DescribeRegions and STS (`ALICLOUD_REGION`, ini, `cn-hangzhou`).
pub fn home_region(settings: &Settings, env: &Env) -> String {
    env.first(&["ALICLOUD_REGION", "ALIBABA_CLOUD_REGION_ID"])
        .or_else(|| settings.credentials.region.clone())
        .unwrap_or_else(|| "cn-hangzhou".to_string())
}

/// Steps 1 and 2 of the chain: keys given directly, in the environment or the ini.
pub fn static_keys(settings: &Settings, env: &Env) -> Result<Option<Credentials>> {
    let (key, secret) = (env.first(ENV_KEY), env.first(ENV_SECRET));
    match (key, secret) {
        (Some(key), Some(secret)) => {
            return Ok(Some(Credentials {
                access_key_id: key,
                secret: Secret::new(secret),
                security_token: env.first(ENV_TOKEN).map(Secret::new),
                source: "environment".into(),
            }))
        }
        (Some(_), None) => {
            return Err(Error::Config(
                "ALICLOUD_ACCESS_KEY is set but ALICLOUD_SECRET_KEY is not (set both, or neither)"
                    .into(),
            ))
        }
        (None, Some(_)) => {
            return Err(Error::Config(
                "ALICLOUD_SECRET_KEY is set but ALICLOUD_ACCESS_KEY is not (set both, or neither)"
                    .into(),
            ))
        }
        (None, None) => {}
    }
    let ini = &settings.credentials;
    match (&ini.access_key, &ini.secret_key) {
        (Some(key), Some(secret)) => Ok(Some(Credentials {
            access_key_id: key.clone(),
            secret: Secret::new(secret.clone()),
            security_token: ini.security_token.clone().map(Secret::new),
            source: "ini".into(),
        })),
        (Some(_), None) | (None, Some(_)) => Err(Error::Config(format!(
            "{}: alicloud_access_key and alicloud_secret_key must be set together",
            settings
                .source
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ))),
        (None, None) => Ok(None),
    }
}

/// Which credentials a run will use, decided without any network call, so a warm cache can be
/// found (its key includes [`Plan::identity`]) before anything is fetched.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Long-lived or given keys: environment, ini.
    Static(Credentials),
}

impl Plan {
    /// A stable name for the account and role in use; part of the cache key, never secret.
    pub fn identity(&self) -> String {
        match self {
            Plan::Static(c) => format!("key:{}", c.access_key_id),
        }
    }

    pub fn source(&self) -> &str {
        match self {
            Plan::Static(c) => &c.source,
        }
    }

    /// The keys to sign ECS calls with.
    pub async fn resolve(self) -> Result<Credentials> {
        match self {
            Plan::Static(c) => Ok(c),
        }
    }
}

/// Walks the chain of SPEC §3 and returns the first source that is configured.
pub fn plan(settings: &Settings, env: &Env) -> Result<Plan> {
    match static_keys(settings, env)? {
        Some(c) => Ok(Plan::Static(c)),
        None => Err(Error::NoCredentials),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env(pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    fn settings_with_ini_keys() -> Settings {
        let mut s = Settings::from_ini(None, &Env::default()).unwrap();
        s.credentials.access_key = Some("ini-key".into());
        s.credentials.secret_key = Some("ini-secret".into());
        s
    }

    #[test]
    fn environment_beats_ini_and_aliases_work() {
        let s = settings_with_ini_keys();
        let c = static_keys(
            &s,
            &env(&[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "k"),
                ("ALICLOUD_SECRET_ACCESS_KEY", "s"),
            ]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (
                c.access_key_id.as_str(),
                c.secret.expose(),
                c.source.as_str()
            ),
            ("k", "s", "environment")
        );
        let c = static_keys(&s, &Env::default()).unwrap().unwrap();
        assert_eq!(
            (c.access_key_id.as_str(), c.source.as_str()),
            ("ini-key", "ini")
        );
    }

    #[test]
    fn half_a_pair_is_an_error_and_secrets_do_not_print() {
        let s = Settings::from_ini(None, &Env::default()).unwrap();
        assert!(static_keys(&s, &env(&[("ALICLOUD_ACCESS_KEY", "k")])).is_err());
        assert!(static_keys(&s, &Env::default()).unwrap().is_none());
        let c = static_keys(
            &s,
            &env(&[
                ("ALICLOUD_ACCESS_KEY", "k"),
                ("ALICLOUD_SECRET_KEY", "hunter2"),
                ("ALICLOUD_SECURITY_TOKEN", "tok"),
            ]),
        )
        .unwrap()
        .unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("tok\""),
            "{shown}"
        );
    }
}
