//! The credential chain of SPEC §3: environment, ini, aliyun CLI profile, ECS RAM role, then an
//! optional STS AssumeRole on top. The secret and the token live in [`Secret`], whose `Debug`
//! and `Display` never show the value, so no log line or error can carry them by accident.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::client::{CallError, Client, STS_VERSION};
use crate::error::{Error, Result};
use crate::info;
use crate::settings::{self, Env, Settings};

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
/// found (its key includes [`Plan::identity`]) before anything is fetched. [`Plan::resolve`]
/// does the network part: the metadata service for an ECS RAM role, STS for a role to assume.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Keys given directly: environment, ini, or an `AK` / `StsToken` profile.
    Static(Credentials),
    /// Temporary keys of the instance's RAM role, from the metadata service (step 4, or a
    /// profile in mode `EcsRamRole`).
    EcsRamRole(EcsRole),
    /// STS AssumeRole with the credentials of `base` (a `RamRoleArn` profile, or the role to
    /// assume of `ALICLOUD_ASSUME_ROLE_ARN` / ini `assume_role` on top of any other source).
    AssumeRole { base: Box<Plan>, role: RoleToAssume },
}

/// An ECS RAM role whose keys the metadata service hands out.
#[derive(Debug, Clone)]
pub struct EcsRole {
    pub name: String,
    /// Base URL of the metadata service, without a trailing `/`.
    pub metadata_endpoint: String,
    /// Where the role name came from, for `-v` and errors.
    pub origin: String,
}

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
    /// Where the role came from, for `-v` and errors.
    pub origin: String,
}

impl Plan {
    /// A stable name for the account and role in use; part of the cache key. Never a secret,
    /// never a temporary key id (those change at every run): a RAM role is named by its role
    /// name, an assumed role by its ARN on top of the base identity.
    pub fn identity(&self) -> String {
        match self {
            Plan::Static(c) => format!("key:{}", c.access_key_id),
            Plan::EcsRamRole(r) => format!("ecs-role:{}", r.name),
            Plan::AssumeRole { base, role } => {
                let policy = role
                    .policy
                    .as_deref()
                    .map(|p| format!("+policy:{:08x}", crc32fast::hash(p.as_bytes())))
                    .unwrap_or_default();
                format!("{}>assume:{}{policy}", base.identity(), role.role_arn)
            }
        }
    }

    /// Where the credentials come from, in words, for `-v`.
    pub fn source(&self) -> String {
        match self {
            Plan::Static(c) => c.source.clone(),
            Plan::EcsRamRole(r) => r.describe(),
            Plan::AssumeRole { base, role } => format!(
                "AssumeRole {} ({}) with {}",
                role.role_arn,
                role.origin,
                base.source()
            ),
        }
    }

    /// The keys to sign ECS calls with: fetched from the metadata service and STS as needed.
    pub async fn resolve(self) -> Result<Credentials> {
        // Roles to assume, outermost first; they are assumed innermost first.
        let mut roles = Vec::new();
        let mut plan = self;
        let mut creds = loop {
            match plan {
                Plan::AssumeRole { base, role } => {
                    roles.push(role);
                    plan = *base;
                }
                Plan::Static(c) => break c,
                Plan::EcsRamRole(r) => break r.fetch().await?,
            }
        };
        for role in roles.into_iter().rev() {
            creds = role.assume(&creds).await?;
        }
        Ok(creds)
    }
}

const ENV_PROFILE: &[&str] = &["ALICLOUD_PROFILE", "ALIBABA_CLOUD_PROFILE"];
const ENV_PROFILE_FILE: &[&str] = &["ALICLOUD_SHARED_CREDENTIALS_FILE"];
const ENV_ECS_ROLE: &[&str] = &["ALICLOUD_ECS_ROLE_NAME", "ALIBABA_CLOUD_ECS_METADATA"];
const ENV_ASSUME_ARN: &str = "ALICLOUD_ASSUME_ROLE_ARN";
const ENV_ASSUME_SESSION: &str = "ALICLOUD_ASSUME_ROLE_SESSION_NAME";
const ENV_ASSUME_EXPIRATION: &str = "ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION";

/// `RoleSessionName` when none is configured.
pub const DEFAULT_SESSION_NAME: &str = "alicloud_inventory";
/// `DurationSeconds` when none is configured.
pub const DEFAULT_DURATION_SECONDS: u32 = 3600;
/// The metadata service answers in milliseconds or not at all (off ECS, 100.100.100.200 is a
/// black hole), so its whole exchange gets a short budget of its own.
pub const METADATA_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(2);

/// Walks the chain of SPEC §3 and returns the first source that is configured, with the role
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
        .map(|(p, by)| (settings::expand_path(&p, env), by))
        .or_else(|| {
            ini.shared_credentials_file.as_deref().map(|p| {
                (
                    settings::expand_path(p, env),
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
        let path = match &profile_file {
            Some((p, _)) => p.clone(),
            None => default_profile_file(env).ok_or_else(|| {
                Error::Credentials(
                    "a profile is named but HOME is not set, so ~/.aliyun/config.json cannot be \
                     found (set ALICLOUD_SHARED_CREDENTIALS_FILE)"
                        .into(),
                )
            })?,
        };
        let wanted = profile_name.as_ref().map(|(n, _)| n.as_str());
        let file = read_profile_file(&path, wanted)?;
        let (name, by) = match &profile_name {
            Some((n, by)) => (n.clone(), *by),
            None if !file.current().is_empty() => (file.current().to_string(), "its 'current'"),
            None => {
                return Err(Error::Credentials(format!(
                    "{} names no current profile (name one with ALICLOUD_PROFILE or \
                     alicloud_profile, or run `aliyun configure`)",
                    path.display()
                )))
            }
        };
        if let Some((_, by)) = &ecs_role {
            info!(1, "{by} ignored: the profile comes first");
        }
        return profile_plan(&file, &name, by, &path, settings);
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
    if let Some(path) = default_profile_file(env).filter(|p| p.is_file()) {
        let file = read_profile_file(&path, None)?;
        if !file.current().is_empty() {
            let name = file.current().to_string();
            return profile_plan(&file, &name, "its 'current'", &path, settings);
        }
        info!(1, "{} names no current profile; not used", path.display());
    }
    Err(Error::NoCredentials)
}

/// The value of the first of `names` that is set, with that name.
fn env_named(env: &Env, names: &[&'static str]) -> Option<(String, &'static str)> {
    names.iter().find_map(|n| env.first(&[n]).map(|v| (v, *n)))
}

fn default_profile_file(env: &Env) -> Option<PathBuf> {
    env.home().map(|h| h.join(".aliyun").join("config.json"))
}

/// The aliyun CLI's `config.json`. Only the fields in use are read; the CLI writes many more.
/// No `Debug`: it holds secrets.
#[derive(Deserialize, Default)]
struct ProfileFile {
    #[serde(default)]
    current: Option<String>,
    #[serde(default)]
    profiles: Option<Vec<Profile>>,
}

impl ProfileFile {
    fn current(&self) -> &str {
        self.current.as_deref().unwrap_or("")
    }

    fn profiles(&self) -> &[Profile] {
        self.profiles.as_deref().unwrap_or(&[])
    }
}

/// One profile. The CLI writes every field, empty when unused, so empty means absent.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Profile {
    name: Option<String>,
    mode: Option<String>,
    access_key_id: Option<String>,
    access_key_secret: Option<String>,
    sts_token: Option<String>,
    ram_role_name: Option<String>,
    ram_role_arn: Option<String>,
    ram_session_name: Option<String>,
    expired_seconds: Option<u64>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Parses a profile file. A syntax error is reported by line and column only: serde's own
/// messages may quote the offending value, and that value may be a secret.
fn parse_profile_file(text: &str, path: &Path) -> Result<ProfileFile> {
    serde_json::from_str::<ProfileFile>(text).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => {
                "is not an aliyun CLI config (a value of the wrong type"
            }
            _ => "is not valid JSON (syntax error",
        };
        Error::Credentials(format!(
            "{} {what} at line {}, column {}; fix it or run `aliyun configure`)",
            path.display(),
            e.line(),
            e.column()
        ))
    })
}

/// Reads the profile file; `wanted` (a profile name) only improves the messages.
fn read_profile_file(path: &Path, wanted: Option<&str>) -> Result<ProfileFile> {
    let for_profile = wanted
        .map(|n| format!("profile '{n}': "))
        .unwrap_or_default();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Credentials(if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "{for_profile}the aliyun CLI config {} does not exist (run `aliyun configure \
                 --profile NAME`, or set ALICLOUD_SHARED_CREDENTIALS_FILE to the file)",
                path.display()
            )
        } else {
            format!("{for_profile}cannot read {}: {e}", path.display())
        })
    })?;
    parse_profile_file(&text, path).map_err(|e| match e {
        Error::Credentials(m) if !for_profile.is_empty() => {
            Error::Credentials(format!("{for_profile}{m}"))
        }
        e => e,
    })
}

/// The plan for profile `name` of `file`.
fn profile_plan(
    file: &ProfileFile,
    name: &str,
    by: &str,
    path: &Path,
    settings: &Settings,
) -> Result<Plan> {
    let Some(p) = file
        .profiles()
        .iter()
        .find(|p| nonempty(&p.name) == Some(name))
    else {
        let names: Vec<&str> = file
            .profiles()
            .iter()
            .filter_map(|p| nonempty(&p.name))
            .collect();
        return Err(Error::Credentials(format!(
            "profile '{name}' (from {by}) is not in {} (it has: {}; run `aliyun configure --profile {name}`)",
            path.display(),
            if names.is_empty() { "no profiles".to_string() } else { names.join(", ") }
        )));
    };
    let mode = nonempty(&p.mode).unwrap_or("AK");
    let missing = |field: &str| {
        Error::Credentials(format!(
            "profile '{name}' in {}: mode {mode} needs '{field}' (run `aliyun configure --profile {name} --mode {mode}`)",
            path.display()
        ))
    };
    let keys = |with_token: bool| -> Result<Credentials> {
        let id = nonempty(&p.access_key_id).ok_or_else(|| missing("access_key_id"))?;
        let secret = nonempty(&p.access_key_secret).ok_or_else(|| missing("access_key_secret"))?;
        let token = if with_token {
            Some(Secret::new(
                nonempty(&p.sts_token).ok_or_else(|| missing("sts_token"))?,
            ))
        } else {
            None
        };
        warn_if_readable(path);
        Ok(Credentials {
            access_key_id: id.to_string(),
            secret: Secret::new(secret),
            security_token: token,
            source: format!("profile '{name}' ({mode}) in {}", path.display()),
        })
    };
    match mode {
        "AK" => Ok(Plan::Static(keys(false)?)),
        "StsToken" => Ok(Plan::Static(keys(true)?)),
        "EcsRamRole" => Ok(Plan::EcsRamRole(EcsRole {
            name: nonempty(&p.ram_role_name)
                .ok_or_else(|| missing("ram_role_name"))?
                .to_string(),
            metadata_endpoint: settings.metadata_endpoint.clone(),
            origin: format!("profile '{name}' in {}", path.display()),
        })),
        "RamRoleArn" => {
            let role_arn = nonempty(&p.ram_role_arn).ok_or_else(|| missing("ram_role_arn"))?;
            let base = keys(false)?;
            let what = format!("profile '{name}' in {}", path.display());
            let session_name = nonempty(&p.ram_session_name).unwrap_or(DEFAULT_SESSION_NAME);
            let duration_seconds = match p.expired_seconds {
                None | Some(0) => DEFAULT_DURATION_SECONDS,
                Some(s) => u32::try_from(s)
                    .ok()
                    .filter(|s| (900..=43200).contains(s))
                    .ok_or_else(|| {
                        Error::Credentials(format!(
                            "{what}: expired_seconds {s} must be 900..43200"
                        ))
                    })?,
            };
            let role = checked_role(
                role_arn,
                session_name,
                duration_seconds,
                None,
                settings,
                &what,
            )
            .map_err(Error::Credentials)?;
            Ok(Plan::AssumeRole {
                base: Box::new(Plan::Static(base)),
                role,
            })
        }
        other => Err(Error::Credentials(format!(
            "profile '{name}' in {}: mode '{other}' is not supported (use AK, StsToken, EcsRamRole or RamRoleArn)",
            path.display()
        ))),
    }
}

/// As for the ini: a file of keys that others can read deserves a warning (ssh does the same).
fn warn_if_readable(path: &Path) {
    if let Some(w) = crate::settings::readable_secret_warning(path) {
        crate::diag::warn(&w);
    }
}

/// The role to assume on top of the chain: `ALICLOUD_ASSUME_ROLE_ARN` (the whole role then comes
/// from the environment), else ini `assume_role`, whose session name and expiration the
/// environment may still override.
fn role_to_assume(settings: &Settings, env: &Env) -> Result<Option<RoleToAssume>> {
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
    checked_role(
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

/// Checks what STS would refuse anyway, so the operator hears it as a configuration error that
/// names where the value came from.
fn checked_role(
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
        origin: origin.to_string(),
    })
}

/// The metadata service's credential document. No `Debug`: it holds secrets.
#[derive(Deserialize)]
struct MetadataCredentials {
    #[serde(rename = "Code", default)]
    code: String,
    #[serde(rename = "AccessKeyId", default)]
    access_key_id: String,
    #[serde(rename = "AccessKeySecret", default)]
    access_key_secret: String,
    #[serde(rename = "SecurityToken", default)]
    security_token: String,
}

impl EcsRole {
    fn describe(&self) -> String {
        format!(
            "ECS RAM role '{}' ({}) from the metadata service {}",
            self.name, self.origin, self.metadata_endpoint
        )
    }

    fn scope(&self) -> String {
        format!(
            "credentials: ECS RAM role '{}' from the metadata service {}",
            self.name, self.metadata_endpoint
        )
    }

    /// The role's temporary keys, within [`METADATA_TIMEOUT`] all told.
    async fn fetch(&self) -> Result<Credentials> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(METADATA_CONNECT_TIMEOUT)
            .timeout(METADATA_TIMEOUT)
            .user_agent(concat!("alicloud_inventory/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Io(format!("cannot start the HTTP client: {e}")))?;
        let started = std::time::Instant::now();
        let result = match tokio::time::timeout(METADATA_TIMEOUT, self.fetch_with(&http)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Transport {
                scope: self.scope(),
                message: format!(
                    "no answer within {} s (is this an ECS instance? check ALICLOUD_METADATA_ENDPOINT)",
                    METADATA_TIMEOUT.as_secs()
                ),
            }),
        };
        info!(
            2,
            "metadata: role '{}' {} in {} ms",
            self.name,
            if result.is_ok() { "ok" } else { "failed" },
            started.elapsed().as_millis()
        );
        result
    }

    async fn fetch_with(&self, http: &reqwest::Client) -> Result<Credentials> {
        let unreachable = |e: reqwest::Error| {
            Error::Transport {
            scope: self.scope(),
            message: format!(
                "{} (is this an ECS instance with the role attached? check ALICLOUD_METADATA_ENDPOINT)",
                crate::client::transport_message(&e)
            ),
        }
        };
        let base = format!(
            "{}/latest/meta-data/ram/security-credentials/",
            self.metadata_endpoint
        );
        // Hardened mode (IMDSv2-style): ask for a session token; an older service without the
        // token path still answers plain GETs.
        let token = match http
            .put(format!("{}/latest/api/token", self.metadata_endpoint))
            .header("X-aliyun-ecs-metadata-token-ttl-seconds", "60")
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => r.text().await.ok().map(|t| t.trim().to_string()),
            Ok(_) => None,
            Err(e) => return Err(unreachable(e)),
        };
        let get = |url: String| {
            let req = http.get(url);
            match &token {
                Some(t) => req.header("X-aliyun-ecs-metadata-token", t.as_str()),
                None => req,
            }
        };
        let response = get(format!("{base}{}", crate::sign::encode(&self.name)))
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(unreachable)?;
        if status == 404 {
            let attached = match get(base.clone()).send().await {
                Ok(r) if r.status().is_success() => r
                    .text()
                    .await
                    .unwrap_or_default()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            };
            return Err(Error::Credentials(format!(
                "ECS RAM role '{}' ({}) is not attached to this instance: the metadata service {} answered 404 (roles attached: {}; check the role name)",
                self.name,
                self.origin,
                self.metadata_endpoint,
                if attached.is_empty() { "none" } else { &attached }
            )));
        }
        if status != 200 {
            return Err(Error::Transport {
                scope: self.scope(),
                message: format!("the metadata service answered HTTP {status}"),
            });
        }
        let doc: MetadataCredentials = serde_json::from_slice(&body).map_err(|_| Error::Transport {
            scope: self.scope(),
            message: format!(
                "the metadata service answered a document that is not the credentials JSON ({} bytes)",
                body.len()
            ),
        })?;
        if doc.code != "Success"
            || doc.access_key_id.is_empty()
            || doc.access_key_secret.is_empty()
            || doc.security_token.is_empty()
        {
            return Err(Error::Transport {
                scope: self.scope(),
                message: format!(
                    "the metadata service has no usable credentials for the role (Code '{}')",
                    doc.code
                ),
            });
        }
        Ok(Credentials {
            access_key_id: doc.access_key_id,
            secret: Secret::new(doc.access_key_secret),
            security_token: Some(Secret::new(doc.security_token)),
            source: self.describe(),
        })
    }
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
    /// STS AssumeRole signed with `base`; the role's temporary keys.
    async fn assume(&self, base: &Credentials) -> Result<Credentials> {
        let client =
            Client::new(base.clone(), self.timeout, 1, self.max_retries).map_err(Error::Io)?;
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
                let message = crate::client::redact_message(&message, base);
                let hint = match code.as_str() {
                    "NoPermission" => format!(
                        "the base credentials ({}) may not assume this role: grant them sts:AssumeRole on it, and check that the role's trust policy allows their account",
                        base.source
                    ),
                    c if c.starts_with("EntityNotExist") => "check the role ARN".to_string(),
                    c if c.starts_with("InvalidParameter") => format!("check {}", self.origin),
                    c if c.starts_with("InvalidAccessKeyId") || c == "SignatureDoesNotMatch" => {
                        format!("check the keys of the base credentials ({})", base.source)
                    }
                    c if c.starts_with("InvalidSecurityToken") => format!(
                        "the security token of the base credentials ({}) is invalid or expired; get fresh credentials",
                        base.source
                    ),
                    c if c.starts_with("InvalidTimeStamp") => {
                        "check this machine's clock: is NTP running?".to_string()
                    }
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
                message: crate::client::redact_message(&message, base),
                hint: format!(
                    " (STS is unavailable after {} retries; run again later)",
                    self.max_retries
                ),
            },
            CallError::Transport(m) => Error::Transport {
                scope,
                message: format!(
                    "{m} (check sts_endpoint or ALICLOUD_STS_ENDPOINT and the network)"
                ),
            },
            CallError::Malformed(m) => Error::Transport {
                scope,
                message: format!("{m} (check sts_endpoint or ALICLOUD_STS_ENDPOINT)"),
            },
        }
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

    const CLI_FILE: &str = r#"{
        "current": "dev",
        "profiles": [
            {"name": "dev", "mode": "AK", "access_key_id": "LTAIdev", "access_key_secret": "dev-secret",
             "sts_token": "", "ram_role_name": "", "ram_role_arn": "", "ram_session_name": "",
             "private_key": "", "key_pair_name": "", "expired_seconds": 0, "verified": "",
             "region_id": "cn-hangzhou", "output_format": "json", "language": "en", "site": "",
             "retry_timeout": 0, "connect_timeout": 0, "retry_count": 0},
            {"name": "sts", "mode": "StsToken", "access_key_id": "STS.x", "access_key_secret": "sts-secret", "sts_token": "tok/en+="},
            {"name": "node", "mode": "EcsRamRole", "ram_role_name": "inventory-node", "access_key_id": null},
            {"name": "cross", "mode": "RamRoleArn", "access_key_id": "LTAIdev", "access_key_secret": "dev-secret",
             "ram_role_arn": "acs:ram::1:role/reader", "ram_session_name": "", "expired_seconds": 0},
            {"name": "short", "mode": "RamRoleArn", "access_key_id": "LTAIdev", "access_key_secret": "dev-secret",
             "ram_role_arn": "acs:ram::1:role/reader", "ram_session_name": "me", "expired_seconds": 60},
            {"name": "legacy", "access_key_id": "LTAIold", "access_key_secret": "old-secret"}
        ],
        "meta_path": ""
    }"#;

    fn profile_of(name: &str) -> Result<Plan> {
        let path = Path::new("/h/.aliyun/config.json");
        let file = parse_profile_file(CLI_FILE, path).unwrap();
        let s = Settings::from_ini(None, &Env::default()).unwrap();
        profile_plan(&file, name, "test", path, &s)
    }

    #[test]
    fn profiles_of_every_mode_parse_as_the_cli_writes_them() {
        let Plan::Static(c) = profile_of("dev").unwrap() else {
            panic!("AK is static")
        };
        assert_eq!(
            (c.access_key_id.as_str(), c.secret.expose()),
            ("LTAIdev", "dev-secret")
        );
        assert!(c.security_token.is_none());
        assert_eq!(c.source, "profile 'dev' (AK) in /h/.aliyun/config.json");

        let Plan::Static(c) = profile_of("sts").unwrap() else {
            panic!("StsToken is static")
        };
        assert_eq!(
            c.security_token.as_ref().map(Secret::expose),
            Some("tok/en+=")
        );

        let plan = profile_of("node").unwrap();
        assert!(matches!(&plan, Plan::EcsRamRole(r) if r.name == "inventory-node"));
        assert_eq!(plan.identity(), "ecs-role:inventory-node");

        let plan = profile_of("cross").unwrap();
        let Plan::AssumeRole { base, role } = &plan else {
            panic!("RamRoleArn assumes")
        };
        assert!(matches!(**base, Plan::Static(ref c) if c.access_key_id == "LTAIdev"));
        assert_eq!(role.role_arn, "acs:ram::1:role/reader");
        assert_eq!(role.session_name, DEFAULT_SESSION_NAME);
        assert_eq!(role.duration_seconds, DEFAULT_DURATION_SECONDS);
        assert_eq!(plan.identity(), "key:LTAIdev>assume:acs:ram::1:role/reader");

        // A profile without a mode is an AK profile (older CLI files).
        assert!(
            matches!(profile_of("legacy").unwrap(), Plan::Static(c) if c.access_key_id == "LTAIold")
        );
        let e = profile_of("short").unwrap_err().to_string();
        assert!(e.contains("expired_seconds 60 must be 900..43200"), "{e}");
        let e = profile_of("nope").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .contains("it has: dev, sts, node, cross, short, legacy"),
            "{e}"
        );
    }

    #[test]
    fn a_broken_profile_file_is_named_without_quoting_its_content() {
        let path = Path::new("/h/c.json");
        let e = parse_profile_file(
            r#"{"profiles": [{"name": "a", "access_key_secret": "s3cr3t"#,
            path,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.contains("/h/c.json is not valid JSON") && !e.contains("s3cr3t"),
            "{e}"
        );
        let e = parse_profile_file(r#"{"profiles": [{"access_key_secret": 987654}]}"#, path)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("wrong type at line 1") && !e.contains("987654"),
            "{e}"
        );
        let e = parse_profile_file(r#"{"profiles": {"name": "SECRETISH"}}"#, path)
            .err()
            .unwrap()
            .to_string();
        assert!(!e.contains("SECRETISH"), "{e}");
        assert!(parse_profile_file("{}", path)
            .unwrap()
            .profiles()
            .is_empty());
    }

    #[test]
    fn the_default_file_is_consulted_only_when_nothing_is_configured() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".aliyun");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("config.json"), CLI_FILE).unwrap();
        let h = home.path().to_str().unwrap();
        let s = Settings::from_ini(None, &Env::default()).unwrap();
        let id = |pairs: &[(&str, &str)]| {
            let mut all = vec![("HOME", h)];
            all.extend_from_slice(pairs);
            plan(&s, &env(&all)).map(|p| p.identity())
        };
        assert_eq!(id(&[]).unwrap(), "key:LTAIdev", "its current profile");
        assert_eq!(
            id(&[("ALICLOUD_PROFILE", "node")]).unwrap(),
            "ecs-role:inventory-node"
        );
        assert_eq!(
            id(&[("ALICLOUD_ECS_ROLE_NAME", "r1")]).unwrap(),
            "ecs-role:r1"
        );
        assert_eq!(
            id(&[
                ("ALICLOUD_ECS_ROLE_NAME", "r1"),
                ("ALICLOUD_PROFILE", "dev")
            ])
            .unwrap(),
            "key:LTAIdev",
            "a named profile beats the ECS role"
        );
        assert_eq!(
            id(&[
                ("ALICLOUD_ACCESS_KEY", "k"),
                ("ALICLOUD_SECRET_KEY", "s"),
                ("ALICLOUD_PROFILE", "dev")
            ])
            .unwrap(),
            "key:k"
        );
        std::fs::write(
            dir.join("config.json"),
            r#"{"current": "", "profiles": []}"#,
        )
        .unwrap();
        assert!(matches!(id(&[]), Err(Error::NoCredentials)));
        std::fs::remove_file(dir.join("config.json")).unwrap();
        assert!(matches!(id(&[]), Err(Error::NoCredentials)));
        let e = id(&[("ALICLOUD_PROFILE", "dev")]).unwrap_err().to_string();
        assert!(
            e.contains("profile 'dev'") && e.contains("config.json does not exist"),
            "{e}"
        );
    }

    #[test]
    fn the_role_to_assume_comes_from_the_environment_or_the_ini() {
        let mut s = settings_with_ini_keys();
        s.credentials.assume_role = Some(crate::settings::AssumeRole {
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

    #[test]
    fn service_messages_lose_the_string_to_sign_and_every_secret() {
        let creds = Credentials {
            access_key_id: "id".into(),
            secret: Secret::new("s3cr3t/x"),
            security_token: Some(Secret::new("tok+en/1")),
            source: "test".into(),
        };
        assert_eq!(
            crate::client::redact_message(
                "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&SecurityToken%3Dtok%252Ben%252F1",
                &creds
            ),
            "Specified signature is not matched with our calculation."
        );
        assert_eq!(
            crate::client::redact_message("a s3cr3t/x b tok%2Ben%2F1 c tok+en/1", &creds),
            "a *** b *** c ***"
        );
    }
}
