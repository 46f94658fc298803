//! The resolved settings: `alicloud.ini` (docs/DESIGN.md, "Configuration") read with the Python
//! script's value rules, or an `alicloud.yml` in the alicloud_ecs plugin's format, plus the
//! environment's endpoint overrides. Everything downstream takes a `Settings`.
//!
//! A file format is only a reader ([`Options`]); what the options mean, their defaults and
//! their checks are here, once for every format, and the value parsers are in [`values`].

mod account_entries;
mod env;
pub mod instance_filters;
pub mod ini;
mod ini_options;
mod options;
mod pyyaml;
mod shaping;
pub mod values;
mod yaml_options;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::ini::Ini;
use crate::constructed::Constructed;
use crate::error::{Error, Result};

pub use account_entries::{parse_accounts, Account, AccountCredentials, ACCOUNT_KEYS};
pub use env::Env;
use ini_options::IniOptions;
pub use instance_filters::{FilterSet, Filters};
pub use options::{Flavor, Options, CREDENTIAL_OPTIONS, ECS_OPTIONS};
pub use shaping::{glob_match, Hostname, HostnameTemplate, HostvarSelection};
use values::{destination_alias, parse_states};
pub use values::{
    expand_path, parse_assume_role, parse_bool, parse_pattern, parse_regions, split_list,
    AssumeRole, Pattern, STATES,
};
use yaml_options::YamlOptions;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    All,
    List(Vec<String>),
}

/// The `group_by_*` switches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupBy {
    pub instance_id: bool,
    pub region: bool,
    pub availability_zone: bool,
    pub image_id: bool,
    pub instance_type: bool,
    pub vpc_id: bool,
    pub vswitch_id: bool,
    pub security_group: bool,
    pub tag_keys: bool,
    pub tag_none: bool,
    pub instance_state: bool,
    pub os_type: bool,
    pub key_pair: bool,
    pub resource_group: bool,
    pub charge_type: bool,
    /// `account_<alias>` (docs/DESIGN.md, "Accounts").
    pub account: bool,
}

/// The `[credentials]` options; the environment is consulted in `credentials`.
#[derive(Debug, Clone, Default)]
pub struct IniCredentials {
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub security_token: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub shared_credentials_file: Option<String>,
    pub ecs_role_name: Option<String>,
    pub assume_role: Option<AssumeRole>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The ini file read, if any.
    pub source: Option<PathBuf>,
    /// Whose defaults apply: alicloud.py's (an ini) or the alicloud_ecs plugin's (a YAML).
    pub flavor: Flavor,
    /// A host needs an address (`destination_variable`): alicloud.py's rule, and a YAML's
    /// when it sets `destination_variable`.
    pub require_address: bool,
    /// `use_contrib_script_compatible_sanitization`: constructed group names (and host names
    /// holding `:`) keep `-` and lose every other character outside `[A-Za-z0-9_]`.
    pub contrib_sanitization: bool,
    pub regions: Regions,
    pub regions_exclude: Vec<String>,
    /// Hostvar names in preference order, aliases already resolved.
    pub destination_variables: Vec<String>,
    pub destination_format: String,
    pub destination_format_tags: Vec<String>,
    pub hostname_variable: String,
    /// Lower-case states to keep; `None` keeps every state (`all_instances = True`).
    pub instance_states: Option<Vec<String>>,
    pub cache_path: PathBuf,
    pub cache_max_age: u64,
    pub nested_groups: bool,
    pub replace_dash_in_groups: bool,
    pub legacy_tags_hostvar: bool,
    pub ascii_group_names: bool,
    pub expand_csv_tags: bool,
    pub group_by: GroupBy,
    pub pattern_include: Option<Pattern>,
    pub pattern_exclude: Option<Pattern>,
    /// The listings `instance_filters` (or `filters`, `include_filters`, `exclude_filters`)
    /// ask for, already in API form.
    pub filters: Filters,
    /// Base URL template (`{region}` replaced); `None` = the region's RegionEndpoint.
    pub ecs_endpoint: Option<String>,
    pub sts_endpoint: String,
    pub metadata_endpoint: String,
    pub max_concurrency: usize,
    pub timeout: Duration,
    pub max_retries: u32,
    /// The service's throttling window (windows aligned to its clock).
    pub throttle_window: Duration,
    /// How long a region may wait in all for throttled windows to end.
    pub throttle_wait: Duration,
    pub credentials: IniCredentials,
    /// `accounts`: the accounts to list, each with its credentials; `None` = the one account
    /// of the credential chain.
    pub accounts: Option<Vec<Account>>,
    /// An account that fails is left out with a warning instead of failing the run.
    pub skip_failed_accounts: bool,
    /// aws_ec2's `strict_permissions`: false leaves out, with a warning, a region that
    /// refuses DescribeInstances (403) instead of failing the run.
    pub strict_permissions: bool,
    /// aws_ec2's `hostvars_prefix` and `hostvars_suffix`, when either is set.
    pub hostvars_rename: Option<(String, String)>,
    /// Constructed groups and variables (docs/DESIGN.md, "Constructed"); `None` without
    /// `compose`, `groups` and `keyed_groups`.
    pub constructed: Option<Arc<Constructed>>,
    /// That configuration as canonical JSON, for the cache key; empty without one.
    pub constructed_config: String,
    /// The hostvars to print; `None` prints them all.
    pub hostvars: Option<HostvarSelection>,
    /// The alicloud_ecs plugin's hostname precedence list; empty: `hostname_variable` names hosts.
    pub hostnames: Vec<Hostname>,
    /// Warnings the operator must see (unknown options, a readable secret).
    pub warnings: Vec<String>,
}

impl Settings {
    /// Finds the configuration (in the search order of docs/DESIGN.md, "Configuration"), reads
    /// it as an ini, or as YAML when it is named `*.yml` or `*.yaml`, and applies the environment.
    pub fn load(config: Option<&Path>, env: &Env) -> Result<Settings> {
        match find_ini(config, env)? {
            Some(path) if is_yaml(&path) => {
                let yaml = YamlOptions::read(&path)?;
                Settings::from_options(&yaml, yaml.warnings(), env)
            }
            Some(path) => Settings::from_ini(Some(&Ini::read(&path)?), env),
            None => Settings::from_ini(None, env),
        }
    }

    pub fn from_ini(ini: Option<&Ini>, env: &Env) -> Result<Settings> {
        let empty = Ini::default();
        let options = IniOptions::new(ini.unwrap_or(&empty));
        Settings::from_options(&options, options.warnings(), env)
    }

    /// The settings of any format's options; `warnings` are the reader's own (unknown options).
    pub fn from_options(
        reader: &impl Options,
        mut warnings: Vec<String>,
        env: &Env,
    ) -> Result<Settings> {
        let regions = match reader.string("regions") {
            None => Regions::All,
            Some(v) => parse_regions(&v).map_err(|m| reader.invalid("regions", m))?,
        };
        // Every listed region excluded: an empty inventory nobody asked for, cached as good.
        if let Regions::List(list) = &regions {
            let exclude = reader.list("regions_exclude");
            if !list.is_empty() && list.iter().all(|r| exclude.contains(r)) {
                return Err(reader.invalid(
                    "regions_exclude",
                    format!(
                        "excludes every region regions lists ({}), which leaves nothing to list; remove them from one of the two",
                        list.join(", ")
                    ),
                ));
            }
        }
        let destination_variables: Vec<String> = {
            let list = reader.list("destination_variable");
            let list = if list.is_empty() {
                vec!["public_ip_address".to_string()]
            } else {
                list
            };
            list.into_iter()
                .map(|v| destination_alias(&v).to_string())
                .collect()
        };
        let flavor = reader.flavor();
        let plugin = flavor == Flavor::Plugin;
        // The plugin lists every state unless told otherwise.
        let all_instances = reader.boolean(
            "all_instances",
            plugin && reader.list("instance_states").is_empty(),
        )?;
        let instance_states = if all_instances {
            None
        } else {
            let states = reader.list("instance_states");
            let states = if states.is_empty() {
                vec!["running".to_string()]
            } else {
                states
            };
            Some(parse_states(&states).map_err(|m| reader.invalid("instance_states", m))?)
        };
        let cache_path = match reader.string("cache_path").filter(|s| !s.is_empty()) {
            Some(p) => expand_path(&p, env),
            None => default_cache_dir(env),
        };
        let b = |name: &str, default: bool| reader.boolean(name, default);
        let accounts = reader.accounts()?;
        let group_by = GroupBy {
            instance_id: b("group_by_instance_id", !plugin)?,
            region: b("group_by_region", !plugin)?,
            availability_zone: b("group_by_availability_zone", !plugin)?,
            image_id: b("group_by_image_id", !plugin)?,
            instance_type: b("group_by_instance_type", !plugin)?,
            vpc_id: b("group_by_vpc_id", !plugin)?,
            vswitch_id: b("group_by_vswitch_id", !plugin)?,
            security_group: b("group_by_security_group", !plugin)?,
            tag_keys: b("group_by_tag_keys", !plugin)?,
            tag_none: b("group_by_tag_none", !plugin)?,
            instance_state: b("group_by_instance_state", false)?,
            os_type: b("group_by_os_type", false)?,
            key_pair: b("group_by_key_pair", false)?,
            resource_group: b("group_by_resource_group", false)?,
            charge_type: b("group_by_charge_type", false)?,
            account: b("group_by_account", accounts.is_some())?,
        };
        let timeout_secs = seconds(reader, "timeout", 10.0, 3600.0)?;
        let max_concurrency = whole_number(reader, "max_concurrency", 8, 1, 1024)? as usize;
        let max_retries = whole_number(reader, "max_retries", 5, 0, 20)? as u32;
        let throttle_window = seconds(reader, "throttle_window", 60.0, 3600.0)?;
        let throttle_wait = seconds(reader, "throttle_wait", 70.0, 3600.0)?;

        // The environment beats the file; a bad value names where it came from.
        let endpoint_of = |var: &str, option: &str| -> Result<Option<String>> {
            if let Some(e) = env.first(&[var]) {
                return values::endpoint(&e)
                    .map(Some)
                    .map_err(|m| Error::Config(format!("{var}: {m}")));
            }
            match reader.string(option).filter(|s| !s.is_empty()) {
                Some(e) => values::endpoint(&e)
                    .map(Some)
                    .map_err(|m| reader.invalid(option, m)),
                None => Ok(None),
            }
        };
        let ecs_endpoint = endpoint_of("ALICLOUD_ECS_ENDPOINT", "ecs_endpoint")?;
        let sts_endpoint = endpoint_of("ALICLOUD_STS_ENDPOINT", "sts_endpoint")?
            .unwrap_or_else(|| "https://sts.aliyuncs.com".to_string());
        let metadata_endpoint = env
            .first(&["ALICLOUD_METADATA_ENDPOINT"])
            .map(|e| e.trim_end_matches('/').to_string())
            .unwrap_or_else(|| "http://100.100.100.200".to_string());

        let cred = |name: &str| reader.string(name).filter(|s| !s.is_empty());
        let assume_role = reader.assume_role()?;
        let credentials = IniCredentials {
            access_key: cred("alicloud_access_key"),
            secret_key: cred("alicloud_secret_key"),
            security_token: cred("alicloud_security_token"),
            region: cred("alicloud_region"),
            profile: cred("alicloud_profile"),
            shared_credentials_file: cred("alicloud_shared_credentials_file"),
            ecs_role_name: cred("alicloud_ecs_role_name"),
            assume_role,
        };
        let account_keys = accounts
            .iter()
            .flatten()
            .any(|a| matches!(a.credentials, AccountCredentials::Keys { .. }));
        if credentials.secret_key.is_some() || credentials.security_token.is_some() || account_keys
        {
            if let Some(w) = reader.source().and_then(readable_secret_warning) {
                warnings.push(w);
            }
        }

        let filters = reader.filters()?;
        // A status filter outside the states kept: an empty inventory nobody asked for.
        if let Some(states) = &instance_states {
            let statuses = filters
                .include
                .iter()
                .flatten()
                .filter(|(k, _)| k == "Status");
            for (_, status) in statuses {
                if !states.contains(&status.to_ascii_lowercase()) {
                    return Err(reader.invalid(
                        "instance_filters",
                        format!(
                            "the status filter {status} keeps only instances that instance_states ({}) leaves out, so nothing would be listed; set all_instances to true, or add {} to instance_states",
                            states.join(", "),
                            status.to_ascii_lowercase()
                        ),
                    ));
                }
            }
        }
        let contrib_sanitization =
            reader.boolean("use_contrib_script_compatible_sanitization", false)?;
        let mut shaping = shaping::read(reader, contrib_sanitization)?;
        // The plugin's default precedence, where no hostname_variable takes its place.
        if plugin && shaping.hostnames.is_empty() && reader.raw("hostname_variable").is_none() {
            shaping.hostnames = vec![
                Hostname::Var("instance_id".into()),
                Hostname::Var("instance_name".into()),
            ];
        }

        Ok(Settings {
            source: reader.source().map(Path::to_path_buf),
            flavor,
            require_address: !plugin || reader.raw("destination_variable").is_some(),
            contrib_sanitization,
            regions,
            regions_exclude: reader.list("regions_exclude"),
            destination_variables,
            destination_format: reader.string("destination_format").unwrap_or_default(),
            destination_format_tags: reader.list("destination_format_tags"),
            hostname_variable: reader
                .string("hostname_variable")
                .unwrap_or_else(|| "instance_id".into()),
            instance_states,
            cache_path,
            cache_max_age: max_age(reader, "cache_max_age", 300)?,
            nested_groups: b("nested_groups", false)?,
            replace_dash_in_groups: b("replace_dash_in_groups", true)?,
            legacy_tags_hostvar: b("legacy_tags_hostvar", false)?,
            ascii_group_names: b("ascii_group_names", false)?,
            expand_csv_tags: b("expand_csv_tags", false)?,
            group_by,
            pattern_include: reader.regex("pattern_include")?,
            pattern_exclude: reader.regex("pattern_exclude")?,
            filters,
            ecs_endpoint,
            sts_endpoint,
            metadata_endpoint,
            max_concurrency,
            timeout: Duration::from_secs_f64(timeout_secs),
            max_retries,
            throttle_window: Duration::from_secs_f64(throttle_window),
            throttle_wait: Duration::from_secs_f64(throttle_wait),
            credentials,
            skip_failed_accounts: b("skip_failed_accounts", false)?,
            strict_permissions: b("strict_permissions", true)?,
            hostvars_rename: {
                let p = reader.string("hostvars_prefix").unwrap_or_default();
                let s = reader.string("hostvars_suffix").unwrap_or_default();
                (!p.is_empty() || !s.is_empty()).then_some((p, s))
            },
            accounts,
            constructed: shaping.constructed,
            constructed_config: shaping.constructed_config,
            hostvars: shaping.hostvars,
            hostnames: shaping.hostnames,
            warnings,
        })
    }

    /// How constructed group names, and a YAML's host names holding `:`, are sanitized.
    pub fn naming(&self) -> crate::group_names::Naming {
        if self.contrib_sanitization {
            crate::group_names::Naming::Contrib
        } else {
            crate::group_names::Naming::Ansible
        }
    }

    /// Everything that changes the answer, as one canonical string: the cache key is made of it
    /// (plus the access key id). Timeouts and concurrency do not change the answer, so they are
    /// left out; no secret is ever part of it.
    pub fn fingerprint(&self) -> String {
        let re = |r: &Option<Pattern>| r.as_ref().map(|r| r.as_str().to_string());
        format!(
            "{:?}|{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}|{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{:?}|{:?}|{}|{:?}",
            self.flavor,
            self.require_address,
            self.contrib_sanitization,
            self.regions,
            self.regions_exclude,
            self.destination_variables,
            self.destination_format,
            self.destination_format_tags,
            self.hostname_variable,
            self.instance_states,
            self.nested_groups,
            self.replace_dash_in_groups,
            self.legacy_tags_hostvar,
            self.ascii_group_names,
            self.expand_csv_tags,
            self.group_by,
            re(&self.pattern_include),
            re(&self.pattern_exclude),
            self.filters,
            self.ecs_endpoint,
            self.constructed_config,
            self.hostvars,
            self.hostnames,
            self.strict_permissions,
            self.hostvars_rename,
        )
    }
}

/// A whole number option from `lo` to `hi`; every error states that range.
fn whole_number(reader: &impl Options, name: &str, default: i64, lo: i64, hi: i64) -> Result<i64> {
    let Some(v) = reader.string(name).filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    let range = format!("use a whole number from {lo} to {hi}");
    let digits = v.strip_prefix(['+', '-']).unwrap_or(&v);
    match v.parse::<i128>() {
        Ok(n) if (i128::from(lo)..=i128::from(hi)).contains(&n) => Ok(n as i64),
        // Too many digits for i128 is out of range too.
        Ok(_) => Err(reader.invalid(name, format!("'{v}' is out of range ({range})"))),
        Err(_) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Err(reader.invalid(name, format!("'{v}' is out of range ({range})")))
        }
        Err(_) => Err(reader.invalid(name, format!("'{v}' is not a whole number ({range})"))),
    }
}

/// A duration in seconds, more than 0 and at most `max`.
fn seconds(reader: &impl Options, name: &str, default: f64, max: f64) -> Result<f64> {
    let Some(v) = reader.string(name).filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    match v.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= max => Ok(s),
        Ok(_) => Err(reader.invalid(
            name,
            format!("must be more than 0 and at most {max} seconds, not '{v}'"),
        )),
        Err(_) => Err(reader.invalid(
            name,
            format!("'{v}' is not a number of seconds (use more than 0, at most {max})"),
        )),
    }
}

/// `cache_max_age`: whole seconds, as the Python script read it; a negative age, like 0, means
/// the cache is always stale.
fn max_age(reader: &impl Options, name: &str, default: u64) -> Result<u64> {
    let Some(v) = reader.string(name).filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    let digits = v.strip_prefix(['+', '-']).unwrap_or(&v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(reader.invalid(
            name,
            format!("'{v}' is not a whole number of seconds (0 or less: always refresh)"),
        ));
    }
    // Beyond u64 (or i128) is "never stale", as any age that large is.
    Ok(match v.parse::<i128>() {
        Ok(n) => n.clamp(0, i128::from(u64::MAX)) as u64,
        Err(_) if v.starts_with('-') => 0,
        Err(_) => u64::MAX,
    })
}

/// The file search order of docs/DESIGN.md, "Configuration"; `Ok(None)` = built-in defaults.
fn find_ini(config: Option<&Path>, env: &Env) -> Result<Option<PathBuf>> {
    let explicit = config.map(Path::to_path_buf).or_else(|| {
        env.first(&["ALICLOUD_INI_PATH"])
            .map(|p| expand_path(&p, env))
    });
    if let Some(p) = explicit {
        // Regular files only: a pipe, a FIFO or a device may never end, or never start.
        return match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => Err(Error::Config(format!(
                "config file {} is a directory (name the ini file in it with --config or ALICLOUD_INI_PATH)",
                p.display()
            ))),
            Ok(m) if !m.is_file() => Err(ini::not_regular(&p)),
            Ok(_) => Ok(Some(p)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::Config(format!(
                "config file {} does not exist (check --config or ALICLOUD_INI_PATH)",
                p.display()
            ))),
            Err(source) => Err(Error::ConfigFile { path: p, source }),
        };
    }
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
        .and_then(|p| p.parent().map(Path::to_path_buf));
    // An alicloud.yml beside the executable counts only where no alicloud.ini is.
    let beside_exe = exe_dir.as_ref().map(|d| d.join("alicloud.ini"));
    let yaml_beside_exe = exe_dir.as_ref().map(|d| d.join("alicloud.yml"));
    let in_config_dir = directories::ProjectDirs::from("", "", "alicloud_inventory")
        .map(|d| d.config_dir().join("alicloud.ini"));
    Ok([beside_exe, yaml_beside_exe, in_config_dir]
        .into_iter()
        .flatten()
        .find(|p| p.is_file()))
}

/// Whether a config file is read as the alicloud_ecs plugin's YAML (by its name).
pub fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

fn default_cache_dir(env: &Env) -> PathBuf {
    directories::ProjectDirs::from("", "", "alicloud_inventory")
        .map(|d| d.cache_dir().to_path_buf())
        .or_else(|| env.home().map(|h| h.join(".cache/alicloud_inventory")))
        .unwrap_or_else(|| std::env::temp_dir().join("alicloud_inventory"))
}

/// As ssh does for keys: a secret in a file others can read deserves a warning.
#[cfg(unix)]
pub fn readable_secret_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o044 != 0).then(|| {
        format!(
            "{} holds a secret and is readable by {} (run: chmod 600 {})",
            path.display(),
            if mode & 0o004 != 0 {
                "everyone"
            } else {
                "its group"
            },
            path.display()
        )
    })
}

#[cfg(not(unix))]
pub fn readable_secret_warning(_: &Path) -> Option<String> {
    None
}

#[cfg(test)]
mod tests;
