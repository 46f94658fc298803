//! The resolved settings: `alicloud.ini` (SPEC §3) read with the Python script's value rules,
//! plus the environment's endpoint overrides. Everything downstream takes a `Settings`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;

use crate::error::{Error, Result};
use crate::ini::{Entry, Ini};

/// A snapshot of the process environment, so tests can hand in their own.
#[derive(Debug, Clone, Default)]
pub struct Env(pub HashMap<String, String>);

impl Env {
    pub fn from_process() -> Env {
        Env(std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect())
    }

    /// The first of `names` that is set to a non-empty value.
    pub fn first(&self, names: &[&str]) -> Option<String> {
        names
            .iter()
            .find_map(|n| self.0.get(*n).filter(|v| !v.is_empty()).cloned())
    }

    pub fn home(&self) -> Option<PathBuf> {
        self.first(&["HOME"]).map(PathBuf::from)
    }
}

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
}

/// `assume_role = {role_arn: ..., session_name: ..., session_expiration: ..., policy: ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: String,
    pub session_expiration: u32,
    pub policy: Option<String>,
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
    pub pattern_include: Option<Regex>,
    pub pattern_exclude: Option<Regex>,
    /// DescribeInstances parameters from `instance_filters`, already in API form.
    pub instance_filters: Vec<(String, String)>,
    /// Base URL template (`{region}` replaced); `None` = the region's RegionEndpoint.
    pub ecs_endpoint: Option<String>,
    pub sts_endpoint: String,
    pub metadata_endpoint: String,
    pub max_concurrency: usize,
    pub timeout: Duration,
    pub max_retries: u32,
    pub credentials: IniCredentials,
    /// Warnings the operator must see (unknown options, a readable secret).
    pub warnings: Vec<String>,
}

pub const ECS_OPTIONS: &[&str] = &[
    "regions",
    "regions_exclude",
    "destination_variable",
    "destination_format",
    "destination_format_tags",
    "hostname_variable",
    "all_instances",
    "instance_states",
    "cache_path",
    "cache_max_age",
    "nested_groups",
    "replace_dash_in_groups",
    "legacy_tags_hostvar",
    "ascii_group_names",
    "expand_csv_tags",
    "group_by_instance_id",
    "group_by_region",
    "group_by_availability_zone",
    "group_by_image_id",
    "group_by_instance_type",
    "group_by_vpc_id",
    "group_by_vswitch_id",
    "group_by_security_group",
    "group_by_tag_keys",
    "group_by_tag_none",
    "group_by_instance_state",
    "group_by_os_type",
    "group_by_key_pair",
    "group_by_resource_group",
    "group_by_charge_type",
    "pattern_include",
    "pattern_exclude",
    "instance_filters",
    "ecs_endpoint",
    "sts_endpoint",
    "max_concurrency",
    "timeout",
    "max_retries",
];

pub const CREDENTIAL_OPTIONS: &[&str] = &[
    "alicloud_access_key",
    "alicloud_secret_key",
    "alicloud_security_token",
    "alicloud_region",
    "alicloud_profile",
    "alicloud_shared_credentials_file",
    "alicloud_ecs_role_name",
    "assume_role",
];

pub const STATES: &[&str] = &["pending", "running", "starting", "stopping", "stopped"];

/// `instance_filters` keys and their DescribeInstances parameters; `true` = list-valued.
const FILTERS: &[(&str, &str, bool)] = &[
    ("instance_type", "InstanceType", false),
    ("vpc_id", "VpcId", false),
    ("vswitch_id", "VSwitchId", false),
    ("zone_id", "ZoneId", false),
    ("status", "Status", false),
    ("instance_name", "InstanceName", false),
    ("image_id", "ImageId", false),
    ("security_group_id", "SecurityGroupId", false),
    ("instance_ids", "InstanceIds", true),
    ("resource_group_id", "ResourceGroupId", false),
    ("key_pair_name", "KeyPairName", false),
    ("instance_charge_type", "InstanceChargeType", false),
    ("internet_charge_type", "InternetChargeType", false),
    ("instance_network_type", "InstanceNetworkType", false),
    ("private_ip_addresses", "PrivateIpAddresses", true),
    ("public_ip_addresses", "PublicIpAddresses", true),
    ("eip_addresses", "EipAddresses", true),
];

impl Settings {
    /// Finds the ini (SPEC §3 search order), reads it and applies the environment.
    pub fn load(config: Option<&Path>, env: &Env) -> Result<Settings> {
        let ini = match find_ini(config, env)? {
            Some(path) => Some(Ini::read(&path)?),
            None => None,
        };
        Settings::from_ini(ini.as_ref(), env)
    }

    pub fn from_ini(ini: Option<&Ini>, env: &Env) -> Result<Settings> {
        let empty = Ini::default();
        let ini = ini.unwrap_or(&empty);
        let reader = Reader { ini };
        let mut warnings = Vec::new();
        for section in &ini.sections {
            let known: &[&str] = match section.name.as_str() {
                "ecs" => ECS_OPTIONS,
                "credentials" => CREDENTIAL_OPTIONS,
                other => {
                    warnings.push(format!(
                        "{}:{}: unknown section [{other}] ignored (options go in [ecs] and [credentials])",
                        ini.path.display(),
                        section.line
                    ));
                    continue;
                }
            };
            for e in &section.entries {
                // Credential options are also accepted in [ecs], as some old files have them there.
                if known.contains(&e.key.as_str()) || CREDENTIAL_OPTIONS.contains(&e.key.as_str()) {
                    continue;
                }
                // Only the first word is quoted: `alicloud_secret_key abc:def` (an '=' missing)
                // reads as the option "alicloud_secret_key abc", and abc may be a secret.
                let word = e.key.split_whitespace().next().unwrap_or("");
                let shown = if word.len() < e.key.len() {
                    format!("{word} …")
                } else {
                    e.key.clone()
                };
                let all = ECS_OPTIONS.iter().chain(CREDENTIAL_OPTIONS);
                let nearest = all
                    .map(|k| (strsim::levenshtein(k, word), *k))
                    .min()
                    .filter(|(d, _)| *d <= 3.max(word.len() / 3))
                    .map(|(_, k)| format!(" (did you mean '{k}'?)"))
                    .unwrap_or_default();
                warnings.push(format!(
                    "{}:{}: unknown option '{shown}' in [{}] ignored{nearest}",
                    ini.path.display(),
                    e.line,
                    section.name
                ));
            }
        }

        let regions = match reader.string("regions").as_deref().map(str::trim) {
            None | Some("") | Some("all") => Regions::All,
            Some(_) => Regions::List(reader.list("regions")),
        };
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
        let all_instances = reader.boolean("all_instances", false)?;
        let instance_states = if all_instances {
            None
        } else {
            let states = reader.list("instance_states");
            let states = if states.is_empty() {
                vec!["running".to_string()]
            } else {
                states
            };
            let mut out = Vec::new();
            for s in states {
                let lower = s.to_lowercase();
                if !STATES.contains(&lower.as_str()) {
                    return Err(reader.invalid(
                        "instance_states",
                        format!("unknown instance state '{s}' (use {})", STATES.join(", ")),
                    ));
                }
                out.push(lower);
            }
            Some(out)
        };
        let cache_path = match reader.string("cache_path").filter(|s| !s.is_empty()) {
            Some(p) => expand_path(&p, env),
            None => default_cache_dir(env),
        };
        let b = |name: &str, default: bool| reader.boolean(name, default);
        let group_by = GroupBy {
            instance_id: b("group_by_instance_id", true)?,
            region: b("group_by_region", true)?,
            availability_zone: b("group_by_availability_zone", true)?,
            image_id: b("group_by_image_id", true)?,
            instance_type: b("group_by_instance_type", true)?,
            vpc_id: b("group_by_vpc_id", true)?,
            vswitch_id: b("group_by_vswitch_id", true)?,
            security_group: b("group_by_security_group", true)?,
            tag_keys: b("group_by_tag_keys", true)?,
            tag_none: b("group_by_tag_none", true)?,
            instance_state: b("group_by_instance_state", false)?,
            os_type: b("group_by_os_type", false)?,
            key_pair: b("group_by_key_pair", false)?,
            resource_group: b("group_by_resource_group", false)?,
            charge_type: b("group_by_charge_type", false)?,
        };
        let timeout_secs = reader.number::<f64>("timeout", 10.0)?;
        if !(timeout_secs > 0.0 && timeout_secs <= 3600.0) {
            return Err(reader.invalid("timeout", "must be between 0 and 3600 seconds".into()));
        }
        let max_concurrency = reader.number::<usize>("max_concurrency", 16)?;
        if !(1..=1024).contains(&max_concurrency) {
            return Err(reader.invalid("max_concurrency", "must be between 1 and 1024".into()));
        }
        let max_retries = reader.number::<u32>("max_retries", 5)?;
        if max_retries > 20 {
            return Err(reader.invalid("max_retries", "must be between 0 and 20".into()));
        }

        let ecs_endpoint = env
            .first(&["ALICLOUD_ECS_ENDPOINT"])
            .or_else(|| reader.string("ecs_endpoint").filter(|s| !s.is_empty()))
            .map(|e| with_scheme(&e));
        let sts_endpoint = env
            .first(&["ALICLOUD_STS_ENDPOINT"])
            .or_else(|| reader.string("sts_endpoint").filter(|s| !s.is_empty()))
            .map(|e| with_scheme(&e))
            .unwrap_or_else(|| "https://sts.aliyuncs.com".to_string());
        let metadata_endpoint = env
            .first(&["ALICLOUD_METADATA_ENDPOINT"])
            .map(|e| e.trim_end_matches('/').to_string())
            .unwrap_or_else(|| "http://100.100.100.200".to_string());

        let cred = |name: &str| reader.string(name).filter(|s| !s.is_empty());
        let assume_role = match reader.entry("assume_role").filter(|e| !e.value.is_empty()) {
            Some(e) => {
                Some(parse_assume_role(&e.value).map_err(|m| reader.invalid("assume_role", m))?)
            }
            None => None,
        };
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
        if credentials.secret_key.is_some() || credentials.security_token.is_some() {
            if let Some(w) = readable_secret_warning(&ini.path) {
                warnings.push(w);
            }
        }

        Ok(Settings {
            source: (!ini.path.as_os_str().is_empty()).then(|| ini.path.clone()),
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
            cache_max_age: reader.number::<u64>("cache_max_age", 300)?,
            nested_groups: b("nested_groups", false)?,
            replace_dash_in_groups: b("replace_dash_in_groups", true)?,
            legacy_tags_hostvar: b("legacy_tags_hostvar", false)?,
            ascii_group_names: b("ascii_group_names", false)?,
            expand_csv_tags: b("expand_csv_tags", false)?,
            group_by,
            pattern_include: reader.regex("pattern_include")?,
            pattern_exclude: reader.regex("pattern_exclude")?,
            instance_filters: reader.filters()?,
            ecs_endpoint,
            sts_endpoint,
            metadata_endpoint,
            max_concurrency,
            timeout: Duration::from_secs_f64(timeout_secs),
            max_retries,
            credentials,
            warnings,
        })
    }

    /// Everything that changes the answer, as one canonical string: the cache key is made of it
    /// (plus the access key id). Timeouts and concurrency do not change the answer, so they are
    /// left out; no secret is ever part of it.
    pub fn fingerprint(&self) -> String {
        let re = |r: &Option<Regex>| r.as_ref().map(|r| r.as_str().to_string());
        format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}|{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}",
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
            self.instance_filters,
            self.ecs_endpoint,
        )
    }
}

/// `eip_address` and `inner_ip_address` are the Python script's names for the two addresses.
fn destination_alias(name: &str) -> &str {
    match name {
        "eip_address" => "public_ip_address",
        "inner_ip_address" => "private_ip_address",
        other => other,
    }
}

fn with_scheme(endpoint: &str) -> String {
    let e = endpoint.trim().trim_end_matches('/');
    if e.starts_with("http://") || e.starts_with("https://") {
        e.to_string()
    } else {
        format!("https://{e}")
    }
}

/// Looks up options in [ecs] (or [credentials] for the credential options) and converts values,
/// turning every bad value into an error that names file, line and option.
struct Reader<'a> {
    ini: &'a Ini,
}

impl Reader<'_> {
    fn entry(&self, name: &str) -> Option<&Entry> {
        let sections: &[&str] = if CREDENTIAL_OPTIONS.contains(&name) {
            &["credentials", "ecs"]
        } else {
            &["ecs"]
        };
        sections
            .iter()
            .filter_map(|s| self.ini.section(s))
            .find_map(|s| s.entries.iter().find(|e| e.key == name))
    }

    fn string(&self, name: &str) -> Option<String> {
        self.entry(name).map(|e| unquote(&e.value).to_string())
    }

    /// A comma list (newlines of continued values count as commas), empty items dropped.
    fn list(&self, name: &str) -> Vec<String> {
        self.string(name)
            .map(|v| split_list(&v))
            .unwrap_or_default()
    }

    fn invalid(&self, name: &str, message: String) -> Error {
        match self.entry(name) {
            Some(e) => Error::ConfigValue {
                file: self.ini.path.clone(),
                line: e.line,
                option: name.to_string(),
                message,
            },
            None => Error::Config(format!("option '{name}': {message}")),
        }
    }

    fn boolean(&self, name: &str, default: bool) -> Result<bool> {
        let Some(v) = self.string(name).filter(|v| !v.is_empty()) else {
            return Ok(default);
        };
        parse_bool(&v).ok_or_else(|| {
            self.invalid(name, format!("'{v}' is not a boolean (use True or False)"))
        })
    }

    fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T> {
        let Some(v) = self.string(name).filter(|v| !v.is_empty()) else {
            return Ok(default);
        };
        v.parse::<T>()
            .map_err(|_| self.invalid(name, format!("'{v}' is not a valid number")))
    }

    fn regex(&self, name: &str) -> Result<Option<Regex>> {
        let Some(v) = self.string(name).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        // Python's re.match anchors at the start only.
        Regex::new(&format!("^(?:{v})")).map(Some).map_err(|e| {
            let detail = e
                .to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string();
            self.invalid(name, format!("bad regular expression '{v}': {detail}"))
        })
    }

    fn filters(&self) -> Result<Vec<(String, String)>> {
        let Some(raw) = self.string("instance_filters") else {
            return Ok(Vec::new());
        };
        parse_instance_filters(&raw).map_err(|m| self.invalid("instance_filters", m))
    }
}

pub fn split_list(v: &str) -> Vec<String> {
    v.split([',', '\n'])
        .map(|s| unquote(s.trim()).to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// YAML quoting, as `yaml.safe_load` would strip it.
fn unquote(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// YAML 1.1 booleans as the Python script read them, plus 1/0.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" | "y" => Some(true),
        "false" | "no" | "off" | "0" | "n" => Some(false),
        _ => None,
    }
}

/// `key=value` pairs, comma-separated, into DescribeInstances parameters.
pub fn parse_instance_filters(raw: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let mut params: Vec<(String, String)> = Vec::new();
    let mut tags = 0;
    for item in raw
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let (key, value) = match item.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (item, None),
        };
        if let Some(tag_key) = key.strip_prefix("tag:").map(str::trim) {
            if tag_key.is_empty() {
                return Err(format!(
                    "'{item}': tag filter without a key (use tag:KEY=VALUE)"
                ));
            }
            tags += 1;
            if tags > 20 {
                return Err("at most 20 tag filters".into());
            }
            params.push((format!("Tag.{tags}.Key"), tag_key.to_string()));
            if let Some(v) = value {
                params.push((format!("Tag.{tags}.Value"), v.to_string()));
            }
            continue;
        }
        let Some(&(_, api, is_list)) = FILTERS.iter().find(|(k, _, _)| *k == key) else {
            let nearest = FILTERS
                .iter()
                .map(|(k, _, _)| (strsim::levenshtein(k, key), *k))
                .min()
                .map(|(_, k)| format!("; did you mean '{k}'?"))
                .unwrap_or_default();
            return Err(format!(
                "unknown filter key '{key}' (keys are snake_case DescribeInstances parameters, or tag:KEY{nearest})"
            ));
        };
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Err(format!("filter '{key}' needs a value ({key}=VALUE)"));
        };
        if params.iter().any(|(p, _)| p == api) {
            return Err(format!(
                "filter '{key}' given twice (list-valued keys take a;b)"
            ));
        }
        let value = if is_list {
            let items: Vec<&str> = value
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if items.is_empty() {
                return Err(format!(
                    "filter '{key}' needs at least one value ({key}=a;b)"
                ));
            }
            serde_json::to_string(&items).expect("strings serialize")
        } else {
            value.to_string()
        };
        params.push((api.to_string(), value));
    }
    Ok(params)
}

/// A YAML flow mapping of plain or quoted scalars: `{role_arn: acs:ram::1:role/x, policy: "..."}`.
pub fn parse_assume_role(raw: &str) -> std::result::Result<AssumeRole, String> {
    let body = raw
        .trim()
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .ok_or(
            "expected a mapping like {role_arn: acs:ram::123:role/name, session_name: ansible}",
        )?;
    let mut items = Vec::new();
    let (mut cur, mut quote, mut depth) = (String::new(), None::<char>, 0i32);
    for c in body.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c)
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.push(c)
            }
            (None, '{' | '[') => {
                depth += 1;
                cur.push(c)
            }
            (None, '}' | ']') => {
                depth -= 1;
                cur.push(c)
            }
            (None, ',') if depth == 0 => items.push(std::mem::take(&mut cur)),
            (None, c) => cur.push(c),
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    items.push(cur);
    let mut role = AssumeRole {
        session_expiration: 3600,
        ..Default::default()
    };
    for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        // In a flow mapping the separator is ': ' (the ARN's own colons have no space after them).
        let (k, v) = item
            .split_once(": ")
            .or_else(|| item.strip_suffix(':').map(|k| (k, "")))
            .ok_or_else(|| format!("'{item}' is not 'key: value'"))?;
        let v = unquote(v).to_string();
        match k.trim() {
            "role_arn" => role.role_arn = v,
            "session_name" => role.session_name = v,
            "session_expiration" => {
                role.session_expiration = v
                    .parse()
                    .ok()
                    .filter(|n| (900..=43200).contains(n))
                    .ok_or_else(|| format!("session_expiration '{v}' must be 900..43200 seconds"))?
            }
            "policy" => role.policy = Some(v).filter(|p| !p.is_empty()),
            other => {
                return Err(format!(
                    "unknown key '{other}' (role_arn, session_name, session_expiration, policy)"
                ))
            }
        }
    }
    if role.role_arn.is_empty() {
        return Err("role_arn is missing".into());
    }
    Ok(role)
}

/// The file search order of SPEC §3; `Ok(None)` = built-in defaults.
fn find_ini(config: Option<&Path>, env: &Env) -> Result<Option<PathBuf>> {
    let explicit = config.map(Path::to_path_buf).or_else(|| {
        env.first(&["ALICLOUD_INI_PATH"])
            .map(|p| expand_path(&p, env))
    });
    if let Some(p) = explicit {
        if !p.is_file() {
            return Err(Error::Config(format!(
                "config file {} does not exist (check --config or ALICLOUD_INI_PATH)",
                p.display()
            )));
        }
        return Ok(Some(p));
    }
    let beside_exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
        .and_then(|p| p.parent().map(|d| d.join("alicloud.ini")));
    let in_config_dir = directories::ProjectDirs::from("", "", "alicloud_inventory")
        .map(|d| d.config_dir().join("alicloud.ini"));
    Ok([beside_exe, in_config_dir]
        .into_iter()
        .flatten()
        .find(|p| p.is_file()))
}

/// `~` and `$VAR` / `${VAR}` expansion, as Python's expanduser(expandvars()) did.
pub fn expand_path(p: &str, env: &Env) -> PathBuf {
    let mut out = String::new();
    let mut rest = p;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (name, tail) = if let Some(b) = after.strip_prefix('{') {
            match b.find('}') {
                Some(end) => (&b[..end], &b[end + 1..]),
                None => ("", after),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match env.0.get(name).filter(|_| !name.is_empty()) {
            Some(v) => out.push_str(v),
            None => out.push_str(&rest[pos..rest.len() - tail.len()]),
        }
        rest = tail;
    }
    out.push_str(rest);
    match (out.strip_prefix('~'), env.home()) {
        (Some(tail), Some(home)) if tail.is_empty() || tail.starts_with('/') => {
            home.join(tail.trim_start_matches('/'))
        }
        _ => PathBuf::from(out),
    }
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
mod tests {
    use super::*;

    fn settings(text: &str) -> Result<Settings> {
        let ini = Ini::parse(Path::new("a.ini"), text)?;
        Settings::from_ini(Some(&ini), &Env::default())
    }

    #[test]
    fn defaults_match_the_spec() {
        let s = Settings::from_ini(None, &Env::default()).unwrap();
        assert_eq!(s.regions, Regions::All);
        assert_eq!(s.destination_variables, vec!["public_ip_address"]);
        assert_eq!(s.hostname_variable, "instance_id");
        assert_eq!(s.instance_states, Some(vec!["running".to_string()]));
        assert_eq!(
            (s.cache_max_age, s.max_concurrency, s.max_retries),
            (300, 16, 5)
        );
        assert_eq!(s.timeout, Duration::from_secs(10));
        assert!(s.replace_dash_in_groups && !s.nested_groups && s.group_by.tag_none);
        assert!(!s.group_by.os_type && s.ecs_endpoint.is_none());
        assert_eq!(s.sts_endpoint, "https://sts.aliyuncs.com");
    }

    #[test]
    fn yaml_booleans_lists_and_aliases() {
        let s = settings(
            "[ecs]\nnested_groups = yes\nreplace_dash_in_groups = Off\nregions = cn-hangzhou, cn-beijing\n\
             destination_variable = inner_ip_address, eip_address\nall_instances = TRUE\n",
        )
        .unwrap();
        assert!(s.nested_groups && !s.replace_dash_in_groups);
        assert_eq!(
            s.regions,
            Regions::List(vec!["cn-hangzhou".into(), "cn-beijing".into()])
        );
        assert_eq!(
            s.destination_variables,
            vec!["private_ip_address", "public_ip_address"]
        );
        assert_eq!(s.instance_states, None);
    }

    #[test]
    fn bad_values_name_file_line_and_option() {
        let e = settings("[ecs]\n\nnested_groups = maybe\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "a.ini:3: option 'nested_groups': 'maybe' is not a boolean (use True or False)"
        );
        assert_eq!(e.exit_code(), 2);
        let e = settings("[ecs]\ninstance_states = running, sleeping\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("a.ini:2: option 'instance_states': unknown instance state 'sleeping'"),
            "{e}"
        );
        let e = settings("[ecs]\npattern_include = web[\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("a.ini:2: option 'pattern_include': bad regular expression"),
            "{e}"
        );
        let e = settings("[ecs]\ncache_max_age = soon\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("'soon' is not a valid number"), "{e}");
        let e = settings("[ecs]\ninstance_filters = flavor=x\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown filter key 'flavor'"), "{e}");
    }

    #[test]
    fn unknown_option_warns_with_the_nearest_name() {
        let s = settings("[ecs]\nregion = all\nfoo_bar_baz_qux = 1\n").unwrap();
        assert_eq!(
            s.warnings[0],
            "a.ini:2: unknown option 'region' in [ecs] ignored (did you mean 'regions'?)"
        );
        assert!(!s.warnings[1].contains("did you mean"), "{}", s.warnings[1]);
    }

    #[test]
    fn a_secret_missing_its_equals_sign_is_not_quoted() {
        let s = settings("[credentials]\nalicloud_secret_key abc:def\n").unwrap();
        assert!(!s.warnings[0].contains("abc"), "{}", s.warnings[0]);
        assert!(
            s.warnings[0].contains("'alicloud_secret_key …'"),
            "{}",
            s.warnings[0]
        );
    }

    #[test]
    fn filters_become_api_parameters() {
        let f = parse_instance_filters(
            "instance_type=ecs.g6.large, tag:env=prod, tag:role, instance_ids=i-1;i-2, vpc_id = vpc-1",
        )
        .unwrap();
        let want: Vec<(String, String)> = [
            ("InstanceType", "ecs.g6.large"),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "prod"),
            ("Tag.2.Key", "role"),
            ("InstanceIds", "[\"i-1\",\"i-2\"]"),
            ("VpcId", "vpc-1"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(f, want);
        assert!(parse_instance_filters("zone_id=a,zone_id=b").is_err());
        assert!(parse_instance_filters("eip_addresses=;").is_err());
        assert_eq!(parse_instance_filters("tag: x=1").unwrap()[0].1, "x");
        assert!(parse_instance_filters("zone_id").is_err());
    }

    #[test]
    fn assume_role_flow_mapping() {
        let r = parse_assume_role(
            "{role_arn: acs:ram::123:role/x, session_name: s, session_expiration: 900, policy: \"{\\\"Version\\\": \\\"1\\\", \\\"a\\\": [1,2]}\"}",
        )
        .unwrap();
        assert_eq!(r.role_arn, "acs:ram::123:role/x");
        assert_eq!(r.session_name, "s");
        assert_eq!(r.session_expiration, 900);
        assert!(r.policy.unwrap().contains("[1,2]"));
        assert!(parse_assume_role("{session_name: s}").is_err());
        assert!(parse_assume_role("role_arn").is_err());
    }

    #[test]
    fn endpoint_env_beats_ini_and_paths_expand() {
        let mut env = Env::default();
        env.0
            .insert("ALICLOUD_ECS_ENDPOINT".into(), "http://127.0.0.1:9/".into());
        env.0.insert("HOME".into(), "/home/op".into());
        env.0.insert("X".into(), "y".into());
        let ini = Ini::parse(
            Path::new("a.ini"),
            "[ecs]\necs_endpoint = ecs.example.com\n",
        )
        .unwrap();
        let s = Settings::from_ini(Some(&ini), &env).unwrap();
        assert_eq!(s.ecs_endpoint.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(
            expand_path("~/c/$X/${X}z/$NOPE", &env),
            PathBuf::from("/home/op/c/y/yz/$NOPE")
        );
    }
}
