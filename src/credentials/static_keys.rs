//! Steps 1 and 2 of the chain: keys given directly, in the environment or the ini. They need no
//! network, so they are also the base of most roles to assume.

use crate::api::secret::{Credentials, Secret};
use crate::config::{Env, Settings};
use crate::error::{Error, Result};

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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs)
    }

    #[test]
    fn environment_beats_ini_and_aliases_work() {
        let s = super::super::test_settings_with_ini_keys();
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
