//! The `accounts` option (docs/DESIGN.md, "Accounts"): one inventory over several accounts. The
//! parser takes the value already structured (a list of mappings), so the ini, which writes it as
//! a YAML flow list, and a YAML file, which has it as a native list, share every rule.

use serde_json::Value;

use crate::api::secret::Secret;
use crate::config::values::split_list;
use crate::config::Regions;

/// One entry of `accounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Unique; names the group `account_<alias>`.
    pub alias: String,
    pub credentials: AccountCredentials,
    /// Overrides the top-level `regions`.
    pub regions: Option<Regions>,
    /// Overrides the top-level `regions_exclude`.
    pub regions_exclude: Option<Vec<String>>,
}

/// How an account is reached. No `Display`; `Debug` never shows a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountCredentials {
    /// The credentials a run without `accounts` would use.
    Base,
    /// A role assumed with the base credentials.
    Role {
        role_arn: String,
        session_name: Option<String>,
        session_expiration: Option<u32>,
        policy: Option<String>,
    },
    /// An aliyun CLI profile, from the same file the chain reads.
    Profile(String),
    /// Keys given in the entry.
    Keys {
        access_key: String,
        secret_key: Secret,
        security_token: Option<Secret>,
    },
    /// The ECS RAM role of this machine.
    EcsRole(String),
}

/// The keys an entry may have.
pub const ACCOUNT_KEYS: &[&str] = &[
    "alias",
    "role_arn",
    "session_name",
    "session_expiration",
    "policy",
    "profile",
    "alicloud_access_key",
    "alicloud_secret_key",
    "alicloud_security_token",
    "alicloud_ecs_role_name",
    "regions",
    "regions_exclude",
];

/// `accounts`: a non-empty list of mappings (see [`ACCOUNT_KEYS`]). Scalars may be strings,
/// numbers or booleans (a YAML reader types them); regions may be a list or a comma string.
pub fn parse_accounts(value: &Value) -> Result<Vec<Account>, String> {
    let Value::Array(items) = value else {
        return Err(
            "expected a list of accounts like [{alias: prod, role_arn: acs:ram::123:role/inventory}, {alias: dev, profile: dev}]"
                .into(),
        );
    };
    if items.is_empty() {
        return Err("the list is empty (remove the option to list one account)".into());
    }
    let mut accounts: Vec<Account> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let account = parse_entry(item).map_err(|m| {
            let alias = item.get("alias").and_then(scalar).unwrap_or_default();
            if alias.is_empty() {
                format!("entry {}: {m}", i + 1)
            } else {
                format!("entry {} ('{alias}'): {m}", i + 1)
            }
        })?;
        // Group names turn '-' into '_': two aliases must stay two groups either way.
        let folded = |a: &str| a.replace('-', "_");
        if let Some(other) = accounts
            .iter()
            .find(|a| folded(&a.alias) == folded(&account.alias))
        {
            return Err(if other.alias == account.alias {
                format!(
                    "alias '{}' is used twice (aliases must be unique)",
                    account.alias
                )
            } else {
                format!(
                    "aliases '{}' and '{}' would name one group (aliases must differ in more than - and _)",
                    other.alias, account.alias
                )
            });
        }
        // One account reached twice over the same regions lists every instance twice (as
        // `i_x_i_x` and `i_x_i_x_2`), and playbooks then run twice per host.
        if let Some(j) = accounts.iter().position(|a| same_reach(a, &account)) {
            return Err(format!(
                "entries {} ('{}') and {} ('{}') reach the same account with the same credentials over the same regions, so every instance would be listed twice (keep one, or give each its own regions)",
                j + 1,
                accounts[j].alias,
                i + 1,
                account.alias
            ));
        }
        accounts.push(account);
    }
    Ok(accounts)
}

/// Whether two entries list the same instances: the same credentials (by what names them: a
/// role ARN, a profile, an access key id, a RAM role, or the base credentials) and regions that
/// may overlap (only two explicit lists without a region in common cannot).
fn same_reach(a: &Account, b: &Account) -> bool {
    use AccountCredentials as C;
    let same_credentials = match (&a.credentials, &b.credentials) {
        (C::Base, C::Base) => true,
        (C::Role { role_arn: x, .. }, C::Role { role_arn: y, .. }) => x == y,
        (C::Profile(x), C::Profile(y)) | (C::EcsRole(x), C::EcsRole(y)) => x == y,
        (C::Keys { access_key: x, .. }, C::Keys { access_key: y, .. }) => x == y,
        _ => false,
    };
    let disjoint = match (&a.regions, &b.regions) {
        (Some(Regions::List(x)), Some(Regions::List(y))) => !x.iter().any(|r| y.contains(r)),
        _ => false,
    };
    same_credentials && !disjoint
}

/// A scalar as text; `None` for a list, a mapping or null.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_entry(item: &Value) -> Result<Account, String> {
    let Value::Object(map) = item else {
        return Err(
            "expected a mapping like {alias: prod, role_arn: acs:ram::123:role/inventory}".into(),
        );
    };
    for (key, value) in map {
        if !ACCOUNT_KEYS.contains(&key.as_str()) {
            // A word without a colon is most often the tail of a value that holds a comma (a
            // secret, say): it is never quoted, and neither is a key near no known one.
            if value.is_null() {
                return Err(format!(
                    "an item without a colon (a value holding a comma must be quoted: alicloud_secret_key: \"...\"; keys: {})",
                    ACCOUNT_KEYS.join(", ")
                ));
            }
            let nearest = ACCOUNT_KEYS
                .iter()
                .map(|k| (strsim::levenshtein(k, key), *k))
                .min()
                .filter(|(d, _)| *d <= 3.max(key.len() / 3));
            return Err(match nearest {
                Some((_, k)) => format!("unknown key '{key}'; did you mean '{k}'?"),
                None => format!(
                    "an unknown key, not quoted in case it is part of a secret (keys: {})",
                    ACCOUNT_KEYS.join(", ")
                ),
            });
        }
    }
    // A key given without a value (or null) counts as absent.
    let text = |k: &str| -> Result<Option<String>, String> {
        match map.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => scalar(v)
                .map(|s| Some(s).filter(|s| !s.is_empty()))
                .ok_or_else(|| format!("'{k}' must be a single value")),
        }
    };
    let alias = text("alias")?.ok_or("'alias' is missing (every account needs one)")?;
    if !alias
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "alias '{alias}' may hold only ASCII letters, digits, _ and - (it names the group account_{alias})"
        ));
    }

    let role_arn = text("role_arn")?;
    let profile = text("profile")?;
    let access_key = text("alicloud_access_key")?;
    let secret_key = text("alicloud_secret_key")?;
    let security_token = text("alicloud_security_token")?;
    let ecs_role = text("alicloud_ecs_role_name")?;
    let keys = access_key.is_some() || secret_key.is_some() || security_token.is_some();
    let ways: Vec<&str> = [
        (role_arn.is_some(), "role_arn"),
        (profile.is_some(), "profile"),
        (keys, "alicloud_access_key"),
        (ecs_role.is_some(), "alicloud_ecs_role_name"),
    ]
    .iter()
    .filter(|(set, _)| *set)
    .map(|(_, name)| *name)
    .collect();
    if ways.len() > 1 {
        return Err(format!(
            "{} are alternatives: give at most one way to reach the account",
            ways.join(" and ")
        ));
    }
    let role_only = ["session_name", "session_expiration", "policy"];
    if role_arn.is_none() {
        if let Some(k) = role_only
            .iter()
            .find(|k| map.get(**k).is_some_and(|v| !v.is_null()))
        {
            return Err(format!("'{k}' only goes with role_arn"));
        }
    }

    let credentials = if let Some(role_arn) = role_arn {
        let session_expiration = match text("session_expiration")? {
            None => None,
            Some(v) => Some(
                v.parse::<u32>()
                    .ok()
                    .filter(|n| (900..=43200).contains(n))
                    .ok_or_else(|| {
                        "session_expiration must be a number of seconds from 900 to 43200"
                            .to_string()
                    })?,
            ),
        };
        AccountCredentials::Role {
            role_arn,
            session_name: text("session_name")?,
            session_expiration,
            policy: text("policy")?,
        }
    } else if let Some(p) = profile {
        AccountCredentials::Profile(p)
    } else if keys {
        match (access_key, secret_key) {
            (Some(access_key), Some(secret)) => AccountCredentials::Keys {
                access_key,
                secret_key: Secret::new(secret),
                security_token: security_token.map(Secret::new),
            },
            _ => {
                return Err(
                    "alicloud_access_key and alicloud_secret_key must be given together".into(),
                )
            }
        }
    } else if let Some(name) = ecs_role {
        AccountCredentials::EcsRole(name)
    } else {
        AccountCredentials::Base
    };

    let list = |k: &str| -> Result<Option<Vec<String>>, String> {
        match map.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| scalar(v).ok_or_else(|| format!("'{k}' must be a list of region ids")))
                .filter(|r| r.as_ref().map_or(true, |s| !s.is_empty()))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(v) => scalar(v)
                .map(|s| Some(split_list(&s)))
                .ok_or_else(|| format!("'{k}' must be a list of region ids")),
        }
    };
    let regions = match list("regions")? {
        None => None,
        Some(l) if l.is_empty() || l == ["all"] => Some(Regions::All),
        Some(l) => Some(Regions::List(l)),
    };
    Ok(Account {
        alias,
        credentials,
        regions,
        regions_exclude: list("regions_exclude")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_of_entry() {
        let a = parse_accounts(&json!([
            {"alias": "prod", "role_arn": "acs:ram::111:role/inv", "session_name": "s", "session_expiration": 900, "regions": ["cn-hangzhou"]},
            {"alias": "dev", "profile": "dev", "regions": "cn-beijing, cn-shanghai", "regions_exclude": ["cn-shanghai"]},
            {"alias": "k-1", "alicloud_access_key": "LTAI1", "alicloud_secret_key": "hunter22"},
            {"alias": "node", "alicloud_ecs_role_name": "r", "regions": "all"},
            {"alias": 7},
        ]))
        .unwrap();
        assert_eq!(
            a[0].credentials,
            AccountCredentials::Role {
                role_arn: "acs:ram::111:role/inv".into(),
                session_name: Some("s".into()),
                session_expiration: Some(900),
                policy: None
            }
        );
        assert_eq!(
            a[0].regions,
            Some(Regions::List(vec!["cn-hangzhou".into()]))
        );
        assert_eq!(a[1].credentials, AccountCredentials::Profile("dev".into()));
        assert_eq!(
            a[1].regions,
            Some(Regions::List(vec![
                "cn-beijing".into(),
                "cn-shanghai".into()
            ]))
        );
        assert_eq!(a[1].regions_exclude, Some(vec!["cn-shanghai".to_string()]));
        assert!(matches!(a[2].credentials, AccountCredentials::Keys { .. }));
        assert!(
            !format!("{a:?}").contains("hunter22"),
            "Debug shows no secret"
        );
        assert_eq!(a[3].credentials, AccountCredentials::EcsRole("r".into()));
        assert_eq!(a[3].regions, Some(Regions::All));
        assert_eq!(
            (a[4].alias.as_str(), &a[4].credentials),
            ("7", &AccountCredentials::Base)
        );
        assert_eq!(a[4].regions, None);
    }

    #[test]
    fn mistakes_name_the_entry_and_the_rule() {
        for (v, want) in [
            (json!({"alias": "a"}), "expected a list"),
            (json!([]), "the list is empty"),
            (json!([{"role_arn": "x"}]), "entry 1: 'alias' is missing"),
            (json!([{"alias": "a b"}]), "may hold only"),
            (json!([{"alias": "a"}, {"alias": "a"}]), "used twice"),
            (
                json!([{"alias": "a-b"}, {"alias": "a_b"}]),
                "would name one group",
            ),
            (
                json!([{"alias": "a", "role_arn": "r", "profile": "p"}]),
                "entry 1 ('a'): role_arn and profile are alternatives",
            ),
            (
                json!([{"alias": "a", "policy": "{}"}]),
                "'policy' only goes with role_arn",
            ),
            (
                json!([{"alias": "a", "rol_arn": "r"}]),
                "did you mean 'role_arn'",
            ),
            (
                json!([{"alias": "a", "alicloud_access_key": "k"}]),
                "must be given together",
            ),
            (
                json!([{"alias": "a", "role_arn": "r", "session_expiration": 60}]),
                "from 900 to 43200",
            ),
            (
                json!([{"alias": "a", "regions": {"x": 1}}]),
                "list of region ids",
            ),
            (json!(["prod"]), "expected a mapping"),
        ] {
            let e = parse_accounts(&v).unwrap_err();
            assert!(e.contains(want), "{v}: {e}");
        }
    }

    #[test]
    fn a_secret_or_a_token_alone_still_asks_for_both_keys() {
        for entry in [
            json!({"alias": "a", "alicloud_secret_key": "s"}),
            json!({"alias": "a", "alicloud_security_token": "t"}),
        ] {
            assert_eq!(
                parse_accounts(&json!([entry])).unwrap_err(),
                "entry 1 ('a'): alicloud_access_key and alicloud_secret_key must be given together"
            );
        }
    }

    #[test]
    fn booleans_are_scalars_too() {
        let a = parse_accounts(&json!([{"alias": true, "profile": false}])).unwrap();
        assert_eq!(a[0].alias, "true");
        assert_eq!(
            a[0].credentials,
            AccountCredentials::Profile("false".into())
        );
    }

    /// Two aliases for one role listed every instance twice, with a warning that spoke of a
    /// name "shared by several instances".
    #[test]
    fn one_account_reached_twice_over_the_same_regions_is_refused() {
        let role = "acs:ram::1:role/r";
        let e = parse_accounts(&json!([
            {"alias": "a", "role_arn": role},
            {"alias": "b", "profile": "p"},
            {"alias": "c", "role_arn": role}
        ]))
        .unwrap_err();
        assert!(
            e.starts_with("entries 1 ('a') and 3 ('c') reach the same account"),
            "{e}"
        );
        assert!(parse_accounts(&json!([{"alias": "a"}, {"alias": "b"}])).is_err());
        let keys = |alias: &str| json!({"alias": alias, "alicloud_access_key": "AKIDDISTINCT", "alicloud_secret_key": "S3CRET"});
        let e = parse_accounts(&json!([keys("a"), keys("b")])).unwrap_err();
        assert!(e.starts_with("entries 1 ('a') and 2 ('b')"), "{e}");
        assert!(!e.contains("AKIDDISTINCT") && !e.contains("S3CRET"), "{e}");
        // One role split over regions that do not overlap is two halves of one account.
        let split = parse_accounts(&json!([
            {"alias": "east", "role_arn": role, "regions": ["cn-hangzhou"]},
            {"alias": "west", "role_arn": role, "regions": ["cn-chengdu"]}
        ]))
        .unwrap();
        assert_eq!(split.len(), 2);
        assert!(parse_accounts(&json!([
            {"alias": "east", "role_arn": role, "regions": ["cn-hangzhou"]},
            {"alias": "all", "role_arn": role}
        ]))
        .is_err());
    }

    #[test]
    fn an_unknown_key_is_matched_within_a_third_of_its_length() {
        // Four letters wrong in a 19-letter key: more than 3, within a third.
        let e = parse_accounts(&json!([{"alias": "a", "alxcxoud_sxcret_kxy": "s"}])).unwrap_err();
        assert_eq!(
            e,
            "entry 1 ('a'): unknown key 'alxcxoud_sxcret_kxy'; did you mean 'alicloud_secret_key'?"
        );
        let e = parse_accounts(&json!([{"alias": "a", "zzzzzzzz": "s"}])).unwrap_err();
        assert_eq!(
            e,
            format!(
                "entry 1 ('a'): an unknown key, not quoted in case it is part of a secret (keys: {})",
                ACCOUNT_KEYS.join(", ")
            )
        ); // The tail of a secret split at its comma is named by neither key nor value.
        let e = parse_accounts(
            &json!([{"alias": "a", "alicloud_secret_key": "Abc", "LongTail": null}]),
        )
        .unwrap_err();
        assert!(
            e.starts_with("entry 1 ('a'): an item without a colon"),
            "{e}"
        );
        assert!(!e.contains("LongTail") && !e.contains("Abc"), "{e}");
    }
}
