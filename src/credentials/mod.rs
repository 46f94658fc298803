//! Where the keys come from: the chain of sources (environment, ini, aliyun CLI profile, ECS RAM
//! role) and an optional STS AssumeRole on top. One file per source; [`plan`] walks the chain
//! without any network call, so a warm cache is found before anything is fetched, and
//! [`Plan::resolve`] does the network part.
//!
//! This module only names its parts: each part imports its siblings directly, never this file,
//! so nothing here imports back what imports it.

mod account_plans;
mod chain;
mod metadata;
mod plan;
mod profile;
mod static_keys;
mod sts;

pub use crate::api::secret::{Credentials, Secret};
pub use account_plans::{account_plans, caller_account_id, AccountPlan};
pub use chain::{home_region, plan};
pub use metadata::{EcsRole, METADATA_CONNECT_TIMEOUT, METADATA_TIMEOUT};
pub use plan::Plan;
pub use static_keys::static_keys;
pub use sts::{RoleToAssume, DEFAULT_DURATION_SECONDS, DEFAULT_SESSION_NAME};

/// Default settings with keys in the ini, for the providers' tests.
#[cfg(test)]
fn test_settings_with_ini_keys() -> crate::config::Settings {
    use crate::config::{Env, Settings};
    let mut s = Settings::from_ini(None, &Env::default()).unwrap();
    s.credentials.access_key = Some("ini-key".into());
    s.credentials.secret_key = Some("ini-secret".into());
    s
}
