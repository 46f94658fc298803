//! The credential chain: which configured source wins, decided without any network call.

use crate::config::{self, Env, Settings};
use crate::credentials::metadata::EcsRole;
use crate::credentials::plan::Plan;
use crate::credentials::profile;
use crate::credentials::static_keys::static_keys;
use crate::credentials::sts::role_to_assume;
use crate::error::{Error, Result};
use crate::info;

/// The region used for DescribeRegions and STS (`ALICLOUD_REGION` or `ALICLOUD_REGION_ID`, the
/// config's `alicloud_region`, `cn-hangzhou`).
pub fn home_region(settings: &Settings, env: &Env) -> String {
    env.first(&[
        "ALICLOUD_REGION",
        "ALICLOUD_REGION_ID",
        "ALIBABA_CLOUD_REGION_ID",
    ])
    .or_else(|| settings.credentials.region.clone())
    .unwrap_or_else(|| "cn-hangzhou".to_string())
}

const ENV_PROFILE: &[&str] = &["ALICLOUD_PROFILE", "ALIBABA_CLOUD_PROFILE"];
const ENV_PROFILE_FILE: &[&str] = &["ALICLOUD_SHARED_CREDENTIALS_FILE"];
const ENV_ECS_ROLE: &[&str] = &["ALICLOUD_ECS_ROLE_NAME", "ALIBABA_CLOUD_ECS_METADATA"];

/// Walks the chain (docs/DESIGN.md, "Credentials") and returns the first source that is configured, with the role
/// to assume (if any) on top. No network: see [`Plan::resolve`].
///
/// The order:
/// 1. environment keys (`ALICLOUD_ACCESS_KEY`/`_ID`, `ALIBABA_CLOUD_ACCESS_KEY_ID`, ...);
/// 2. ini keys (`alicloud_access_key`, `alicloud_secret_key`, `alicloud_security_token`);
/// 3. an aliyun CLI profile, **when one is asked for**: a profile named by `ALICLOUD_PROFILE`
///    (alias `ALIBABA_CLOUD_PROFILE`) or ini `alicloud_profile`, or a profile file named by
///    `ALICLOUD_SHARED_CREDENTIALS_FILE` or ini `alicloud_shared_credentials_file` (then its
///    `current` profile is used). Asked for, the file must exist and hold that profile;
/// 4. the ECS RAM role of `ALICLOUD_ECS_ROLE_NAME` (alias `ALIBABA_CLOUD_ECS_METADATA`) or ini
///    `alicloud_ecs_role_name`;
/// 5. last, when nothing above is configured: the `current` profile of the default file
///    `~/.aliyun/config.json`, if that file exists and names one, so a laptop where
///    `aliyun configure` was run works with no further setup (as the aliyun CLI and the
///    official SDKs do). Being implicit, it never overrides an explicit source.
///
/// Then `ALICLOUD_ASSUME_ROLE_ARN` (with `ALICLOUD_ASSUME_ROLE_SESSION_NAME` and
/// `ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION`) or else ini `assume_role` adds an AssumeRole step
/// on top of whichever source won.
pub fn plan(settings: &Settings, env: &Env) -> Result<Plan> {
    let base = base_plan(settings, env)?;
    Ok(match role_to_assume(settings, env)? {
        Some(role) => Plan::AssumeRole {
            base: Box::new(base),
            role,
        },
        None => base,
    })
}

fn base_plan(settings: &Settings, env: &Env) -> Result<Plan> {
    let ini = &settings.credentials;
    let profile_name = env_named(env, ENV_PROFILE).or_else(|| {
        ini.profile
            .clone()
            .map(|n| (n, "alicloud_profile in the ini"))
    });
    let profile_file = env_named(env, ENV_PROFILE_FILE)
        .map(|(p, by)| (config::expand_path(&p, env), by))
        .or_else(|| {
            ini.shared_credentials_file.as_deref().map(|p| {
                (
                    config::expand_path(p, env),
                    "alicloud_shared_credentials_file in the ini",
                )
            })
        });
    let ecs_role = env_named(env, ENV_ECS_ROLE).or_else(|| {
        ini.ecs_role_name
            .clone()
            .map(|n| (n, "alicloud_ecs_role_name in the ini"))
    });
    let ignored = |winner: &str| {
        if let Some((_, by)) = &profile_name {
            info!(1, "{by} ignored: {winner} come first");
        }
        if let Some((_, by)) = &ecs_role {
            info!(1, "{by} ignored: {winner} come first");
        }
    };

    // Steps 1 and 2.
    if let Some(c) = static_keys(settings, env)? {
        ignored(&format!("the keys in the {}", c.source));
        return Ok(Plan::Static(c));
    }

    // Step 3: a profile asked for by name, or the current profile of a file named explicitly.
    if profile_name.is_some() || profile_file.is_some() {
        if let Some((_, by)) = &ecs_role {
            info!(1, "{by} ignored: the profile comes first");
        }
        return profile::asked_for(profile_name, profile_file.map(|(p, _)| p), settings, env);
    }

    // Step 4.
    if let Some((name, by)) = ecs_role {
        return Ok(Plan::EcsRamRole(EcsRole {
            name,
            metadata_endpoint: settings.metadata_endpoint.clone(),
            origin: by.to_string(),
        }));
    }

    // Last: the aliyun CLI's current profile, when its default file exists.
    let file_keys = match &settings.source {
        Some(p) if crate::config::is_yaml(p) => {
            "alicloud_access_key and alicloud_secret_key in the YAML file"
        }
        _ => "alicloud_access_key/alicloud_secret_key in the [credentials] section of alicloud.ini",
    };
    profile::implicit(settings, env)?.ok_or(Error::NoCredentials { file_keys })
}

/// The value of the first of `names` that is set, with that name.
fn env_named(env: &Env, names: &[&'static str]) -> Option<(String, &'static str)> {
    names.iter().find_map(|n| env.first(&[n]).map(|v| (v, *n)))
}
