//! `--check`: validates the configuration as a run would, and says what a run would use, without
//! calling any API (docs/DESIGN.md, "Command line"). Like `nginx -t`: exit 0 and a short summary
//! on stdout, or exit 2 and the one line a run would have failed with.
//!
//! It goes through the same steps as a run up to the first network call: settings (every option
//! parsed and checked), the credential chain (which source wins; profile files are read), the
//! home region and the cache file. The metadata service and STS are never contacted, so an ECS
//! RAM role or a role to assume is reported, not tried. Nothing here may print a secret.

use std::fmt::Write as _;
use std::path::Path;

use crate::cache::{Cache, Lookup};
use crate::config::{Env, Regions, Settings};
use crate::credentials::{self, Plan};
use crate::diag;
use crate::error::Result;
use crate::fetch::fan_out::Source;

/// Checks the configuration found from `config` and `env`; returns the summary to print.
pub fn check(config: Option<&Path>, env: &Env) -> Result<String> {
    let settings = Settings::load(config, env)?;
    for w in &settings.warnings {
        diag::warn(w);
    }
    let source = Source::of(&settings, env)?;
    let home_region = credentials::home_region(&settings, env);
    let constructed = constructed(&settings)?;
    let cache = Cache::for_run(&settings, &source.identity(&settings), &home_region);
    Ok(summary(
        &settings,
        &source,
        &home_region,
        &cache,
        &constructed,
    ))
}

/// The constructed entries (`keyed_groups`, `groups`, `compose`; compiled when the settings
/// were read, so a bad one has already failed) and the accounts, one line each.
fn constructed(settings: &Settings) -> Result<Vec<String>> {
    let mut lines = settings
        .constructed
        .as_ref()
        .map(|c| c.describe())
        .unwrap_or_default();
    if let Some(accounts) = &settings.accounts {
        let aliases: Vec<&str> = accounts.iter().map(|a| a.alias.as_str()).collect();
        lines.push(format!(
            "accounts {} ({})",
            aliases.len(),
            aliases.join(", ")
        ));
    }
    if let Some(sel) = &settings.hostvars {
        lines.push(format!("hostvars {}", sel.patterns.join(", ")));
    }
    Ok(lines)
}

/// The summary `--check` prints: what a run with this configuration would use.
pub fn summary(
    settings: &Settings,
    source: &Source,
    home_region: &str,
    cache: &Cache,
    constructed: &[String],
) -> String {
    let mut s = String::from(
        "alicloud_inventory --check: the configuration is valid (checked without any API, STS \
         or metadata request)\n",
    );
    let mut row = |label: &str, value: &str| {
        let _ = writeln!(s, "{:<13}{value}", format!("{label}:"));
    };
    row(
        "config",
        &match &settings.source {
            Some(p) => p.display().to_string(),
            None => "none found: built-in defaults".to_string(),
        },
    );
    row(
        "credentials",
        &match source {
            Source::One(plan) => credential_kind(plan),
            Source::Accounts(_) => source.describe(),
        },
    );
    row("home region", home_region);
    let mut regions = match &settings.regions {
        Regions::All => "all (from DescribeRegions)".to_string(),
        Regions::List(list) => list.join(", "),
    };
    if !settings.regions_exclude.is_empty() {
        let _ = write!(regions, "; except {}", settings.regions_exclude.join(", "));
    }
    row("regions", &regions);
    let mut instances = match &settings.instance_states {
        None => "every state".to_string(),
        Some(states) => format!("state {}", states.join(", ")),
    };
    if !settings.filters.is_empty() {
        let text = |sets: &[crate::config::FilterSet]| {
            sets.iter()
                .map(|set| {
                    let pairs: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    pairs.join(", ")
                })
                .collect::<Vec<_>>()
                .join(" | ")
        };
        let include = &settings.filters.include;
        let _ = write!(instances, "; filters {}", text(include));
        if include.len() > 1 {
            let _ = write!(instances, " ({} listings per region)", include.len());
        }
        if !settings.filters.exclude.is_empty() {
            let _ = write!(instances, "; except {}", text(&settings.filters.exclude));
        }
    }
    row("instances", &instances);
    // The rule in force: the plugin's precedence list, else hostname_variable, else the address.
    let named = if !settings.hostnames.is_empty() {
        let first: Vec<String> = settings.hostnames.iter().map(|h| h.to_string()).collect();
        let fallback = match settings.flavor {
            crate::config::Flavor::Plugin => "else their address, else their instance id",
            crate::config::Flavor::Script => "else their address",
        };
        format!("the first of {} with a value, {fallback}", first.join(", "))
    } else if !settings.hostname_variable.is_empty() {
        format!("{}, else their address", settings.hostname_variable)
    } else {
        "their address".to_string()
    };
    let mut hosts = format!(
        "named by {named}, reached at {}",
        settings.destination_variables.join(" or ")
    );
    if !settings.require_address {
        hosts.push_str(" (listed without ansible_host where they have none)");
    }
    for (what, re) in [
        ("include", &settings.pattern_include),
        ("exclude", &settings.pattern_exclude),
    ] {
        if let Some(re) = re {
            let _ = write!(hosts, "; {what} {}", re.as_str());
        }
    }
    row("hosts", &hosts);
    row("groups", &groups(settings));
    row(
        "constructed",
        &if constructed.is_empty() {
            "none".to_string()
        } else {
            constructed.join("; ")
        },
    );
    row("cache", &cache_state(cache));
    if let Some(sel) = &settings.hostvars {
        row("hostvars", &hostvar_patterns(&sel.patterns, cache));
    }
    if let Some(e) = &settings.ecs_endpoint {
        row("endpoint", e);
    }
    row(
        "warnings",
        &match settings.warnings.len() {
            0 => "none".to_string(),
            n => format!("{n}, on stderr"),
        },
    );
    s
}

/// Which credentials a run would use, by kind: where they come from, never a key or secret.
pub fn credential_kind(plan: &Plan) -> String {
    match plan {
        Plan::Static(c) => {
            let token = if c.security_token.is_some() {
                " with a security token"
            } else {
                ""
            };
            match c.source.as_str() {
                "environment" => format!("environment access key{token}"),
                "ini" => format!("access key in the ini{token}"),
                other => match other.strip_prefix("profile ") {
                    Some(rest) => {
                        format!("aliyun CLI profile {}", rest.replacen(" (", " (mode ", 1))
                    }
                    None => other.to_string(),
                },
            }
        }
        Plan::EcsRamRole(r) => format!(
            "ECS RAM role '{}' ({}; metadata service {}, not contacted)",
            r.name, r.origin, r.metadata_endpoint
        ),
        Plan::AssumeRole { base, role } => format!(
            "STS AssumeRole {} ({}; session '{}', {} s{}; not called) with {}",
            role.role_arn,
            role.origin,
            role.session_name,
            role.duration_seconds,
            if role.policy.is_some() {
                ", with a policy"
            } else {
                ""
            },
            credential_kind(base)
        ),
    }
}

/// The groups a run makes: `alicloud`, then every `group_by_*` switched on, then the switches
/// that change names.
fn groups(settings: &Settings) -> String {
    let g = &settings.group_by;
    let switches = [
        ("instance_id", g.instance_id),
        ("region", g.region),
        ("availability_zone", g.availability_zone),
        ("image_id", g.image_id),
        ("instance_type", g.instance_type),
        ("vpc_id", g.vpc_id),
        ("vswitch_id", g.vswitch_id),
        ("security_group", g.security_group),
        ("tag_keys", g.tag_keys),
        ("tag_none", g.tag_none),
        ("instance_state", g.instance_state),
        ("os_type", g.os_type),
        ("key_pair", g.key_pair),
        ("resource_group", g.resource_group),
        ("charge_type", g.charge_type),
    ];
    let mut on = vec!["alicloud"];
    on.extend(switches.iter().filter(|(_, v)| *v).map(|(n, _)| *n));
    let flag = |b: bool| if b { "on" } else { "off" };
    format!(
        "{}; nested_groups {}, replace_dash_in_groups {}, ascii_group_names {}",
        on.join(", "),
        flag(settings.nested_groups),
        flag(settings.replace_dash_in_groups),
        flag(settings.ascii_group_names)
    )
}

fn cache_state(cache: &Cache) -> String {
    let path = cache.path.display();
    let max = cache.max_age;
    if let Some(why) = cache.untrusted() {
        return why;
    }
    if let Some(why) = cache.unwritable() {
        return format!(
            "{why}: no cache can be written there, so every run calls the API (set cache_path to a directory)"
        );
    }
    match cache.age() {
        Lookup::Miss("no cache yet") => {
            format!("{path}: none yet (the next run calls the API; cache_max_age {max} s)")
        }
        Lookup::Miss(why) => format!("{path}: {why} (the next run calls the API)"),
        Lookup::Corrupt(why) => format!("{why} (the next run rebuilds it)"),
        Lookup::Untrusted(why) => why,
        Lookup::Hit(age) if age < max => match cache.read_list() {
            Lookup::Hit(_) => format!(
                "{path}: written {} ago, fresh for {} more (cache_max_age {max} s)",
                duration(age),
                duration(max - age)
            ),
            Lookup::Miss(why) => format!("{path}: {why} (the next run calls the API)"),
            Lookup::Corrupt(why) => format!("{why} (the next run rebuilds it)"),
            Lookup::Untrusted(why) => why,
        },
        Lookup::Hit(age) => format!(
            "{path}: written {} ago, stale (cache_max_age {max} s: the next run calls the API)",
            duration(age)
        ),
    }
}

/// Which `hostvars` patterns match no hostvar: against the cached inventory, the only data
/// `--check` has (it calls no API).
fn hostvar_patterns(patterns: &[String], cache: &Cache) -> String {
    let list = match (cache.untrusted(), cache.read_list()) {
        (None, Lookup::Hit(list)) => list,
        _ => {
            return format!(
                "{} (not checked against any host: no usable cached inventory)",
                patterns.join(", ")
            )
        }
    };
    let Some(names) = list
        .json()
        .ok()
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .and_then(|v| {
            let hosts = v.get("_meta")?.get("hostvars")?.as_object()?.clone();
            Some(
                hosts
                    .values()
                    .filter_map(|h| h.as_object())
                    .flat_map(|h| h.keys().cloned())
                    .collect::<std::collections::BTreeSet<String>>(),
            )
        })
    else {
        return format!(
            "{} (the cached inventory could not be read)",
            patterns.join(", ")
        );
    };
    let unmatched: Vec<&str> = patterns
        .iter()
        .filter(|p| !names.iter().any(|n| crate::config::glob_match(p, n)))
        .map(String::as_str)
        .collect();
    if unmatched.is_empty() {
        format!(
            "{}: each matches a hostvar of the cached inventory",
            patterns.join(", ")
        )
    } else {
        format!(
            "{}: {} {} no hostvar of the cached inventory, so {} nothing (the names are footmark's, docs/HOSTVARS.md)",
            patterns.join(", "),
            unmatched.join(", "),
            if unmatched.len() == 1 { "matches" } else { "match" },
            if unmatched.len() == 1 { "it prints" } else { "they print" },
        )
    }
}

/// `42 s`, `5 min`, `3 h`, `2 d`: the size of an age, not its exact value.
fn duration(secs: u64) -> String {
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min", secs / 60),
        7200..172_800 => format!("{} h", secs / 3600),
        _ => format!("{} d", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::secret::{Credentials, Secret};

    #[test]
    fn durations_are_rounded_to_a_readable_unit() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(119), "119 s");
        assert_eq!(duration(300), "5 min");
        assert_eq!(duration(7200), "2 h");
        assert_eq!(duration(3 * 86_400 + 5), "3 d");
    }

    #[test]
    fn credential_kinds_name_the_source_and_no_key() {
        let creds = |source: &str, token: bool| {
            Plan::Static(Credentials {
                access_key_id: "LTAIkeyid0123".into(),
                secret: Secret::new("s3cr3t-value-0123456789"),
                security_token: token.then(|| Secret::new("token-value-0123456789")),
                source: source.into(),
            })
        };
        assert_eq!(
            credential_kind(&creds("environment", false)),
            "environment access key"
        );
        assert_eq!(
            credential_kind(&creds("ini", true)),
            "access key in the ini with a security token"
        );
        let profile = credential_kind(&creds(
            "profile 'dev' (AK) in /h/.aliyun/config.json",
            false,
        ));
        assert_eq!(
            profile,
            "aliyun CLI profile 'dev' (mode AK) in /h/.aliyun/config.json"
        );
        for p in [creds("environment", true), creds("ini", true)] {
            let k = credential_kind(&p);
            assert!(!k.contains("LTAI") && !k.contains("s3cr3t") && !k.contains("token-value"));
        }
    }
}
