//! The path, URL and shell filters: Python's posixpath, urllib.parse and shlex rules, on
//! text alone (nothing here reads the controller's disk or environment).

use super::*;

/// posixpath.basename
pub(super) fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// posixpath.dirname: the head, without trailing slashes unless it is all slashes.
pub(super) fn dirname(p: &str) -> String {
    let head = &p[..p.rfind('/').map_or(0, |i| i + 1)];
    if !head.is_empty() && head.chars().any(|c| c != '/') {
        head.trim_end_matches('/').to_owned()
    } else {
        head.to_owned()
    }
}

/// posixpath.splitext: the extension starts at the last dot of the last part, unless the
/// part is all dots before it.
pub(super) fn f_splitext(v: Value, _: &Args) -> Result<Value, Error> {
    let p = py_text(&v);
    let base_at = p.rfind('/').map_or(0, |i| i + 1);
    let (root, ext) = match p[base_at..].rfind('.') {
        Some(dot) if p[base_at..base_at + dot].chars().any(|c| c != '.') => {
            p.split_at(base_at + dot)
        }
        _ => (&*p, ""),
    };
    Ok(Value::from(vec![Value::from(root), Value::from(ext)]))
}

/// posixpath.normpath
pub(super) fn normpath(p: &str) -> String {
    if p.is_empty() {
        return ".".to_owned();
    }
    let initial = if p.starts_with("//") && !p.starts_with("///") {
        "//"
    } else if p.starts_with('/') {
        "/"
    } else {
        ""
    };
    let mut parts: Vec<&str> = Vec::new();
    for comp in p.split('/') {
        match comp {
            "" | "." => {}
            ".." if initial.is_empty() && parts.last().is_none_or(|l| *l == "..") => {
                parts.push(comp)
            }
            ".." => {
                if !parts.is_empty() {
                    parts.pop();
                }
            }
            c => parts.push(c),
        }
    }
    let joined = format!("{initial}{}", parts.join("/"));
    if joined.is_empty() {
        ".".to_owned()
    } else {
        joined
    }
}

pub(super) fn f_path_join(v: Value, _: &Args) -> Result<Value, Error> {
    let parts: Vec<Value> = match v.kind() {
        ValueKind::String => vec![v],
        _ if is_seq(&v) => v.try_iter()?.collect(),
        _ => {
            return Err(err(format!(
                "|path_join expects string or sequence, got {} instead.",
                py_type(&v)
            )))
        }
    };
    let mut out = String::new();
    for p in parts {
        let p = p
            .as_str()
            .ok_or_else(|| err("path_join: the parts must be strings"))?;
        if p.starts_with('/') {
            out = p.to_owned();
        } else if out.is_empty() || out.ends_with('/') {
            out.push_str(p);
        } else {
            out.push('/');
            out.push_str(p);
        }
    }
    Ok(Value::from(out))
}

pub(super) fn f_commonpath(v: Value, _: &Args) -> Result<Value, Error> {
    if !is_seq(&v) {
        return Err(err(format!(
            "|commonpath expects sequence, got {} instead.",
            py_type(&v)
        )));
    }
    let paths: Vec<String> = v.try_iter()?.map(|p| py_str(&p)).collect();
    if paths.is_empty() {
        return Err(err("commonpath() arg is an empty sequence"));
    }
    let abs = paths[0].starts_with('/');
    if paths.iter().any(|p| p.starts_with('/') != abs) {
        return Err(err("Can't mix absolute and relative paths"));
    }
    let split: Vec<Vec<&str>> = paths
        .iter()
        .map(|p| {
            p.split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .collect()
        })
        .collect();
    let mut common: Vec<&str> = split[0].clone();
    for s in &split[1..] {
        let n = common.iter().zip(s).take_while(|(a, b)| a == b).count();
        common.truncate(n);
    }
    Ok(Value::from(format!(
        "{}{}",
        if abs { "/" } else { "" },
        common.join("/")
    )))
}

/// shlex.quote
pub(super) fn f_quote(v: Value, _: &Args) -> Result<Value, Error> {
    let s = if v.is_none() {
        String::new()
    } else {
        py_str(&v)
    };
    if s.is_empty() {
        return Ok(Value::from("''"));
    }
    let safe = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    Ok(Value::from(if safe {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\"'\"'"))
    }))
}

/// urllib.parse.urlsplit, as a dict of its attributes, or one of them.
pub(super) fn f_urlsplit(v: Value, a: &Args) -> Result<Value, Error> {
    let url = py_str(&v);
    let mut rest = url.as_str();
    let mut scheme = String::new();
    if let Some(i) = rest.find(':') {
        let s = &rest[..i];
        if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            scheme = s.to_ascii_lowercase();
            rest = &rest[i + 1..];
        }
    }
    let mut netloc = "";
    if let Some(r) = rest.strip_prefix("//") {
        let end = r.find(['/', '?', '#']).unwrap_or(r.len());
        netloc = &r[..end];
        rest = &r[end..];
    }
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (userinfo, hostport) = match netloc.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, netloc),
    };
    let (username, password) = match userinfo {
        None => (Value::from(()), Value::from(())),
        Some(u) => match u.split_once(':') {
            Some((n, p)) => (Value::from(n), Value::from(p)),
            None => (Value::from(u), Value::from(())),
        },
    };
    let (host, port) = if let Some(r) = hostport.strip_prefix('[') {
        match r.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => return Err(err("Invalid IPv6 URL")),
        }
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let hostname = if host.is_empty() {
        Value::from(())
    } else {
        Value::from(host.to_lowercase())
    };
    let port = match port.filter(|p| !p.is_empty()) {
        None => Value::from(()),
        Some(p) => match p.parse::<u32>() {
            Ok(n) if n <= 65535 && p.chars().all(|c| c.is_ascii_digit()) => Value::from(n),
            _ => {
                return Err(err(format!(
                    "Port could not be cast to integer value as '{p}'"
                )))
            }
        },
    };
    let parts = [
        ("fragment", Value::from(fragment)),
        ("hostname", hostname),
        ("netloc", Value::from(netloc)),
        ("password", password),
        ("path", Value::from(path)),
        ("port", port),
        ("query", Value::from(query)),
        ("scheme", Value::from(scheme)),
        ("username", username),
    ];
    match a.get(0).map(py_str).filter(|q| !q.is_empty()) {
        None => Ok(dict_from(
            parts
                .into_iter()
                .map(|(k, x)| (Value::from(k), x))
                .collect(),
        )),
        Some(q) => parts
            .into_iter()
            .find(|(k, _)| *k == q)
            .map(|(_, x)| x)
            .ok_or_else(|| err(format!("urlsplit: unknown URL component: {q}"))),
    }
}

/// urllib.parse.unquote_plus: `+` is a space, invalid UTF-8 is U+FFFD.
pub(super) fn f_urldecode(v: Value, _: &Args) -> Result<Value, Error> {
    let s = py_str(&v).replace('+', " ");
    Ok(Value::from(
        percent_encoding::percent_decode_str(&s)
            .decode_utf8_lossy()
            .into_owned(),
    ))
}
