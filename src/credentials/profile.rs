//! The aliyun CLI's profile file (`~/.aliyun/config.json`): profiles of every mode, read without
//! ever quoting the file's content, which holds secrets.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::api::secret::{Credentials, Secret};
use crate::config::{self, Env, Settings};
use crate::credentials::metadata::EcsRole;
use crate::credentials::plan::Plan;
use crate::credentials::sts::{RoleToAssume, DEFAULT_DURATION_SECONDS, DEFAULT_SESSION_NAME};
use crate::diag;
use crate::error::{Error, Result};
use crate::info;

/// Step 3 of the chain: the profile `name` (with where it was named), or else the `current`
/// profile of `file`. Asked for, the file must exist and hold the profile.
pub(super) fn asked_for(
    name: Option<(String, &str)>,
    file: Option<PathBuf>,
    settings: &Settings,
    env: &Env,
) -> Result<Plan> {
    let path = match file {
        Some(p) => p,
        None => default_profile_file(env).ok_or_else(|| {
            Error::Credentials(
                "a profile is named but HOME is not set, so ~/.aliyun/config.json cannot be \
                 found (set ALICLOUD_SHARED_CREDENTIALS_FILE)"
                    .into(),
            )
        })?,
    };
    let wanted = name.as_ref().map(|(n, _)| n.as_str());
    let file = read_profile_file(&path, wanted)?;
    let (name, by) = match &name {
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
    profile_plan(&file, &name, by, &path, settings)
}

/// Step 5 of the chain: the `current` profile of the default file, if that file exists and
/// names one.
pub(super) fn implicit(settings: &Settings, env: &Env) -> Result<Option<Plan>> {
    let Some(path) = default_profile_file(env).filter(|p| p.is_file()) else {
        return Ok(None);
    };
    let file = read_profile_file(&path, None)?;
    if file.current().is_empty() {
        info!(1, "{} names no current profile; not used", path.display());
        return Ok(None);
    }
    let name = file.current().to_string();
    profile_plan(&file, &name, "its 'current'", &path, settings).map(Some)
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
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Credentials(format!(
                "{for_profile}the aliyun CLI config {} does not exist (run `aliyun configure \
                 --profile NAME`, or set ALICLOUD_SHARED_CREDENTIALS_FILE to the file)",
                path.display()
            ))
        } else {
            Error::CredentialFile {
                context: for_profile.clone(),
                path: path.to_path_buf(),
                source: e,
            }
        }
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
            let role = RoleToAssume::checked(
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
    if let Some(w) = config::readable_secret_warning(path) {
        diag::warn(&w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::chain::plan;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs)
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
        assert!(matches!(id(&[]), Err(Error::NoCredentials { .. })));
        std::fs::remove_file(dir.join("config.json")).unwrap();
        assert!(matches!(id(&[]), Err(Error::NoCredentials { .. })));
        let e = id(&[("ALICLOUD_PROFILE", "dev")]).unwrap_err().to_string();
        assert!(
            e.contains("profile 'dev'") && e.contains("config.json does not exist"),
            "{e}"
        );
    }
}
