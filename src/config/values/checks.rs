//! The checks of the value-parser fuzz targets `assume_role`, `expand_path`, `scalars`, `pattern`
//! and `regions`. The
//! fuzz targets (tests/fuzz/fuzz_targets/) include this file, with `settings` imported at their
//! root, and the unit tests of `values` replay fixtures/fuzz/<target>/ through it, so both run
//! the same code. A check fails by panicking; it returns whether the input got past the parser.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use crate::config::values;
use crate::config::{Env, Regions};

/// Target `assume_role`: an accepted mapping has a role ARN and a valid expiration, and writing
/// its values back as a flow mapping (double-quoted) reads the same role again.
pub fn assume_role(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(role) = values::parse_assume_role(text) else {
        return false;
    };
    assert!(!role.role_arn.is_empty(), "no role_arn in {text:?}");
    assert!(
        (900..=43200).contains(&role.session_expiration),
        "session_expiration {} from {text:?}",
        role.session_expiration
    );
    assert_ne!(
        role.policy.as_deref(),
        Some(""),
        "an empty policy is no policy"
    );
    let values = [
        Some(&role.role_arn),
        Some(&role.session_name),
        role.policy.as_ref(),
    ];
    if values.iter().flatten().all(|v| !v.contains('"')) {
        let mut again = format!(
            "{{role_arn: \"{}\", session_name: \"{}\", session_expiration: {}",
            role.role_arn, role.session_name, role.session_expiration
        );
        if let Some(p) = &role.policy {
            again.push_str(&format!(", policy: \"{p}\""));
        }
        again.push('}');
        assert_eq!(
            values::parse_assume_role(&again).as_ref(),
            Ok(&role),
            "{text:?} written back as {again:?}"
        );
    }
    true
}

/// Target `expand_path`, with HOME=/home/op, X=y and EMPTY set to "": no `$` is ever added;
/// without a `$`, only a leading `~` or `~/` changes anything, and it becomes HOME.
pub fn expand_path(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let env = Env([("HOME", "/home/op"), ("X", "y"), ("EMPTY", "")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect());
    let out = values::expand_path(text, &env);
    let dollars = |s: &str| s.matches('$').count();
    assert!(
        dollars(&out.to_string_lossy()) <= dollars(text),
        "{text:?} expanded to {out:?}"
    );
    if !text.contains('$') {
        let want = match text.strip_prefix('~') {
            Some(tail) if tail.is_empty() || tail.starts_with('/') => {
                Path::new("/home/op").join(tail.trim_start_matches('/'))
            }
            _ => PathBuf::from(text),
        };
        assert_eq!(out, want, "{text:?}");
    }
    true
}

/// Target `scalars`: booleans ignore case and surrounding blanks; list items are non-empty, hold
/// no separator, and plain items survive being joined and split again; unquoting only removes.
pub fn scalars(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let b = values::parse_bool(text);
    assert_eq!(
        values::parse_bool(&text.to_ascii_uppercase()),
        b,
        "{text:?}"
    );
    assert_eq!(values::parse_bool(&format!(" \t{text} ")), b, "{text:?}");

    let items = values::split_list(text);
    let separators = text.matches([',', '\n']).count();
    assert!(items.len() <= separators + 1, "{text:?} gave {items:?}");
    for i in &items {
        assert!(
            !i.is_empty() && !i.contains([',', '\n']),
            "{text:?} gave {items:?}"
        );
    }
    let plain =
        |i: &String| i.trim() == i && !i.starts_with(['"', '\'']) && !i.ends_with(['"', '\'']);
    if items.iter().all(plain) {
        assert_eq!(values::split_list(&items.join(", ")), items, "{text:?}");
    }

    let u = values::unquote(text);
    assert!(text.contains(u), "unquote({text:?}) = {u:?}");
    b.is_some() || !items.is_empty()
}

/// Target `pattern`: the first line is a pattern, the other lines names. A pattern is accepted
/// exactly when it parses on its own, and then matches a name exactly when a search for it alone
/// finds a match at the start (a leftmost match starts at 0 whenever any match does), as
/// Python's `re.match`: nothing can make it match mid-name.
pub fn pattern(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let (pat, names) = text.split_once('\n').unwrap_or((text, ""));
    let parsed = values::parse_pattern(pat);
    let alone = regex::Regex::new(pat);
    assert_eq!(
        parsed.is_ok(),
        alone.is_ok(),
        "{pat:?}: {:?} / {:?}",
        parsed.as_ref().err(),
        alone.as_ref().err()
    );
    let (Ok(p), Ok(re)) = (parsed, alone) else {
        return false;
    };
    assert_eq!(p.as_str(), pat);
    for name in names
        .lines()
        .chain([pat, "", "web-01", "i_bp1aaaaaaaaaaaaaaa01", "zzz"])
    {
        let at_start = re.find(name).is_some_and(|m| m.start() == 0);
        assert_eq!(p.is_match(name), at_start, "{pat:?} on {name:?}");
    }
    true
}

/// Target `regions`: empty or `all` is every region; an accepted list is not empty, its ids are
/// letters, digits, `-` and `_` (never `all`), and written back as a list it reads the same; a
/// refused value says why.
pub fn regions(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let plain = |r: &str| {
        !r.is_empty()
            && r != "all"
            && r.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    match values::parse_regions(text) {
        Ok(Regions::All) => {
            let v = values::unquote(text).trim();
            assert!(v.is_empty() || v == "all", "{text:?} read as all");
            true
        }
        Ok(Regions::List(list)) => {
            assert!(!list.is_empty(), "{text:?}");
            assert!(list.iter().all(|r| plain(r)), "{text:?} gave {list:?}");
            assert_eq!(
                values::parse_regions(&list.join(", ")),
                Ok(Regions::List(list.clone())),
                "{text:?}"
            );
            true
        }
        Err(m) => {
            assert!(!m.is_empty());
            let items = values::split_list(values::unquote(text).trim());
            assert!(
                items.is_empty() || !items.iter().all(|r| plain(r)),
                "{text:?} refused ({m}) although {items:?} are region ids"
            );
            false
        }
    }
}
