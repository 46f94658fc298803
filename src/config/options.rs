//! What a configuration format provides, and the option names every format knows. A format
//! implements the three required methods of [`Options`] (an option's text, where the options
//! came from, an error that says where an option was set); the typed readings come with the
//! trait, built on the shared value parsers, so a new format only needs a reader.

use std::path::Path;

use crate::config::account_entries::{parse_accounts, Account};
use crate::config::instance_filters::{parse_instance_filters, Filters};
use crate::config::values::{self, AssumeRole, Pattern};
use crate::error::{Error, Result};

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
    "throttle_window",
    "throttle_wait",
    "accounts",
    "group_by_account",
    "skip_failed_accounts",
    // Constructed groups and variables (YAML flow values), and the printed hostvars.
    "compose",
    "groups",
    "keyed_groups",
    "strict",
    "leading_separator",
    "hostvars",
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

/// The peer a configuration format comes from, whose defaults it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `alicloud.ini`: alicloud.py's meaning (running instances with an address, its groups,
    /// its host names).
    Script,
    /// A plugin-style YAML: the alicloud_ecs plugin's (every instance, its host names, only
    /// the groups asked for).
    Plugin,
}

/// The options of one configuration file, as text.
pub trait Options {
    /// The file the options come from; `None` for the built-in defaults.
    fn source(&self) -> Option<&Path>;

    /// Option `name` as written, quotes and all; `None` when it is not set.
    fn raw(&self, name: &str) -> Option<&str>;

    /// An error about the value of option `name` that says where it was set.
    fn invalid(&self, name: &str, message: String) -> Error;

    /// Whose meaning the file's defaults follow: alicloud.py's for an ini, the alicloud_ecs
    /// plugin's for its YAML (docs/DESIGN.md, "Two formats, two peers").
    fn flavor(&self) -> Flavor {
        Flavor::Script
    }

    /// The value, unquoted.
    fn string(&self, name: &str) -> Option<String> {
        self.raw(name).map(|v| values::unquote(v).to_string())
    }

    /// A comma list, empty items dropped; empty when not set.
    fn list(&self, name: &str) -> Vec<String> {
        self.string(name)
            .map(|v| values::split_list(&v))
            .unwrap_or_default()
    }

    fn boolean(&self, name: &str, default: bool) -> Result<bool> {
        let Some(v) = self.string(name).filter(|v| !v.is_empty()) else {
            return Ok(default);
        };
        values::parse_bool(&v).ok_or_else(|| {
            self.invalid(name, format!("'{v}' is not a boolean (use True or False)"))
        })
    }

    fn regex(&self, name: &str) -> Result<Option<Pattern>> {
        let Some(v) = self.string(name).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        values::parse_pattern(&v)
            .map(Some)
            .map_err(|m| self.invalid(name, m))
    }

    /// `instance_filters` as DescribeInstances parameters: the ini's is one set.
    fn filters(&self) -> Result<Filters> {
        let Some(raw) = self.string("instance_filters") else {
            return Ok(Filters::default());
        };
        let set = parse_instance_filters(&raw).map_err(|m| self.invalid("instance_filters", m))?;
        Ok(Filters {
            include: vec![set],
            exclude: Vec::new(),
        })
    }

    /// The value read as YAML: the ini holds YAML flow syntax (`{a: b}`, `[x, y]`); `None`
    /// when not set.
    fn value(&self, name: &str) -> Result<Option<serde_json::Value>> {
        let Some(raw) = self.raw(name).filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        values::parse_yaml(raw)
            .map(Some)
            .map_err(|m| self.invalid(name, m))
    }

    /// `assume_role`, a flow mapping (read as written: its quotes are its own).
    fn assume_role(&self) -> Result<Option<AssumeRole>> {
        match self.raw("assume_role").filter(|v| !v.is_empty()) {
            Some(v) => values::parse_assume_role(v)
                .map(Some)
                .map_err(|m| self.invalid("assume_role", m)),
            None => Ok(None),
        }
    }

    /// `accounts`, written as a YAML flow list (it may span continuation lines). A format whose
    /// values are structured overrides this and hands its list to [`parse_accounts`].
    fn accounts(&self) -> Result<Option<Vec<Account>>> {
        match self.raw("accounts").filter(|v| !v.trim().is_empty()) {
            Some(v) => values::parse_yaml(v)
                .and_then(|v| parse_accounts(&v))
                .map(Some)
                .map_err(|m| self.invalid("accounts", m)),
            None => Ok(None),
        }
    }
}
