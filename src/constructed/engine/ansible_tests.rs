//! ansible.builtin tests beyond those of `engine/mod.rs`, each as Ansible 2.19's
//! `plugins/test/{core,mathstuff,uri,files}.py` has it (docs/DESIGN.md, "Filters and tests").

use super::*;

pub(super) fn register(env: &mut Environment<'static>) {
    for (name, want) in [("truthy", true), ("falsy", false)] {
        env.add_test(name, move |v: Value, rest: Rest<ValueOrKwargs>| {
            let convert = Args::parse(&rest, name, &["convert_bool"])?.is_some_and(|a| a.flag(0));
            truthy(&v, convert).map(|t| t == want)
        });
    }
    for name in ["subset", "issubset"] {
        env.add_test(name, |a: Value, b: Value| subset(&a, &b));
    }
    for name in ["superset", "issuperset"] {
        env.add_test(name, |a: Value, b: Value| subset(&b, &a));
    }
    env.add_test("contains", |seq: Value, x: Value| -> Result<bool, Error> {
        no_undefined(&seq)?;
        no_undefined(&x)?;
        py_contains(&seq, &x)
    });
    for name in ["version", "version_compare"] {
        env.add_test(name, |v: Value, rest: Rest<ValueOrKwargs>| {
            let a = Args::parse(
                &rest,
                "version_compare",
                &["version", "operator", "strict", "version_type"],
            )?
            .ok_or_else(|| Error::new(ErrorKind::UndefinedError, "an undefined value was used"))?;
            version_compare(&v, &a)
        });
    }
    env.add_test("any", |v: Value| -> Result<bool, Error> {
        Ok(py_iter(&v, "any")?.iter().any(Value::is_true))
    });
    env.add_test("all", |v: Value| -> Result<bool, Error> {
        Ok(py_iter(&v, "all")?.iter().all(Value::is_true))
    });
    for name in ["nan", "isnan"] {
        env.add_test(name, |v: Value| -> Result<bool, Error> {
            no_undefined(&v)?;
            Ok(v.kind() == ValueKind::Number && py_to_float(&v).is_some_and(f64::is_nan))
        });
    }
    env.add_test("uri", |v: Value, schemes: Option<Value>| {
        is_uri(&v, schemes.as_ref())
    });
    env.add_test(
        "url",
        |v: Value, schemes: Option<Value>| -> Result<bool, Error> {
            Ok(is_uri(&v, schemes.as_ref())? && {
                let text = py_text(&v);
                let (scheme, netloc) = scheme_netloc(&text);
                !netloc.is_empty() || scheme == "file"
            })
        },
    );
    env.add_test("urn", |v: Value| {
        is_uri(&v, Some(&Value::from(vec!["urn"])))
    });
    // Jinja's `iterable`: whatever iter() takes (minijinja's also says yes to none).
    env.add_test("iterable", |v: Value| -> Result<bool, Error> {
        no_undefined(&v)?;
        Ok(matches!(
            v.kind(),
            ValueKind::String | ValueKind::Seq | ValueKind::Map | ValueKind::Iterable
        ))
    });
    for name in ["abs", "is_abs"] {
        env.add_test(name, |v: Value| -> Result<bool, Error> {
            no_undefined(&v)?;
            Ok(py_text(&v).starts_with('/'))
        });
    }
}

/// Python's `bool(value)`, after Ansible's `boolean()` when `convert_bool`: its words, in any
/// case and with spaces around, are booleans; other text is not one of them (a TypeError it
/// ignores), so `bool()` decides, and numbers are what `bool()` makes of them either way.
fn truthy(v: &Value, convert_bool: bool) -> Result<bool, Error> {
    no_undefined(v)?;
    // Its true words are text that is not empty, which bool() takes as true anyway.
    if convert_bool
        && v.kind() == ValueKind::String
        && matches!(
            py_text(v).trim().to_lowercase().as_str(),
            "n" | "no" | "off" | "0" | "false" | "f"
        )
    {
        return Ok(false);
    }
    Ok(v.is_true())
}

/// `set(a) <= set(b)`: a Python set takes no list or dict.
fn subset(a: &Value, b: &Value) -> Result<bool, Error> {
    no_undefined(a)?;
    no_undefined(b)?;
    let (a, b) = (py_iter(a, "set")?, py_iter(b, "set")?);
    if let Some(x) = a.iter().chain(&b).find(|x| {
        matches!(
            x.kind(),
            ValueKind::Seq | ValueKind::Iterable | ValueKind::Map
        )
    }) {
        return Err(err(format!("unhashable type: '{}'", py_type(x))));
    }
    Ok(a.iter().all(|x| b.iter().any(|y| py_eq(x, y))))
}

/// The scheme and netloc as urllib.parse.urlparse finds them.
fn scheme_netloc(url: &str) -> (String, &str) {
    let mut rest = url;
    let mut scheme = String::new();
    if let Some(i) = url.find(':') {
        let s = &url[..i];
        if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            scheme = s.to_ascii_lowercase();
            rest = &url[i + 1..];
        }
    }
    let netloc = match rest.strip_prefix("//") {
        Some(r) => &r[..r.find(['/', '?', '#']).unwrap_or(r.len())],
        None => "",
    };
    (scheme, netloc)
}

/// `is_uri`: urlparse always gives a scheme and a path (maybe empty), so only the schemes
/// can say no; urlparse fails (false) on what is not a string.
fn is_uri(v: &Value, schemes: Option<&Value>) -> Result<bool, Error> {
    no_undefined(v)?;
    if v.kind() != ValueKind::String {
        return Ok(false);
    }
    let (scheme, _) = scheme_netloc(&py_text(v));
    match schemes.filter(|s| s.is_true()) {
        None => Ok(true),
        Some(s) => py_contains(s, &Value::from(scheme)),
    }
}

/// A LooseVersion component: a number or a run of letters/other characters.
#[derive(PartialEq, Clone)]
enum Part {
    Num(u128),
    Text(String),
}

fn loose(s: &str) -> Vec<Part> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r"(\d+|[a-z]+|\.)").expect("static regex"));
    // re.split keeps the separators: the text between matches is a component too.
    let mut parts = Vec::new();
    let mut last = 0;
    for m in re.find_iter(s) {
        if m.start() > last {
            parts.push(&s[last..m.start()]);
        }
        parts.push(m.as_str());
        last = m.end();
    }
    if last < s.len() {
        parts.push(&s[last..]);
    }
    parts
        .into_iter()
        .filter(|p| !p.is_empty() && *p != ".")
        .map(|p| match p.parse::<u128>() {
            Ok(n) => Part::Num(n),
            Err(_) => Part::Text(p.to_owned()),
        })
        .collect()
}

/// LooseVersion's list comparison; with `mixed` (SemanticVersion's prerelease), a number sorts
/// before text instead of failing.
fn cmp_parts(a: &[Part], b: &[Part], mixed: bool) -> Result<Ordering, Error> {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (Part::Num(x), Part::Num(y)) => x.cmp(y),
            (Part::Text(x), Part::Text(y)) => x.cmp(y),
            (Part::Num(_), Part::Text(_)) if mixed => Ordering::Less,
            (Part::Text(_), Part::Num(_)) if mixed => Ordering::Greater,
            _ => return Err(err(
                "Version comparison failed: '<' not supported between instances of 'int' and 'str'",
            )),
        };
        if o != Ordering::Equal {
            return Ok(o);
        }
    }
    Ok(a.len().cmp(&b.len()))
}

fn cmp_loose(a: &[Part], b: &[Part]) -> Result<Ordering, Error> {
    cmp_parts(a, b, false)
}

/// SemanticVersion: the core numbers and the prerelease identifiers; build metadata does
/// not count.
fn semver(s: &str) -> Result<([u128; 3], Vec<Part>), Error> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        let id = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)";
        regex::Regex::new(&format!(
            r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-({id}(?:\.{id})*))?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$"
        ))
        .expect("static regex")
    });
    let bad = || {
        err(format!(
            "Version comparison failed: invalid semantic version '{s}'"
        ))
    };
    let c = re.captures(s).ok_or_else(bad)?;
    let n = |i: usize| c[i].parse::<u128>().map_err(|_| bad());
    let pre = c.get(4).map_or(Vec::new(), |m| {
        m.as_str()
            .split('.')
            // The pattern lets no sign in, so what parses is all digits.
            .map(|p| match p.parse::<u128>() {
                Ok(n) => Part::Num(n),
                _ => Part::Text(p.to_owned()),
            })
            .collect()
    });
    Ok(([n(1)?, n(2)?, n(3)?], pre))
}

/// StrictVersion: `N.N[.N][{a|b}N]`; a release sorts after its pre-releases.
/// A StrictVersion: its numbers and its pre-release (`a` or `b`, and a number).
type Strict = ([u64; 3], Option<(char, u64)>);

fn strict(s: &str) -> Result<Strict, Error> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"^(\d+)\.(\d+)(\.(\d+))?([ab](\d+))?$").expect("static regex")
    });
    let bad = || {
        err(format!(
            "Version comparison failed: invalid version number '{s}'"
        ))
    };
    let c = re.captures(s).ok_or_else(bad)?;
    let n = |i: usize| {
        c.get(i)
            .map_or(Ok(0), |m| m.as_str().parse::<u64>().map_err(|_| bad()))
    };
    let pre = match c.get(5) {
        Some(m) => Some((m.as_str().chars().next().unwrap_or('a'), n(6)?)),
        None => None,
    };
    Ok(([n(1)?, n(2)?, n(4)?], pre))
}

fn version_compare(v: &Value, a: &Args) -> Result<bool, Error> {
    no_undefined(v)?;
    let version = a.values[0].clone().unwrap_or_default();
    if a.get(2).is_some() && a.get(3).is_some() {
        return Err(err("Cannot specify both 'strict' and 'version_type'"));
    }
    if !v.is_true() {
        return Err(err("Input version value cannot be empty"));
    }
    if !version.is_true() {
        return Err(err("Version parameter to compare against cannot be empty"));
    }
    let op = match a.str(1, "eq").as_str() {
        "==" | "=" | "eq" => "eq",
        "<" | "lt" => "lt",
        "<=" | "le" => "le",
        ">" | "gt" => "gt",
        ">=" | "ge" => "ge",
        "!=" | "<>" | "ne" => "ne",
        other => return Err(err(format!("Invalid operator type ({other})"))),
    };
    let kind = if a.flag(2) {
        "strict".to_owned()
    } else {
        a.str(3, "loose")
    };
    let (x, y) = (py_str(v), py_str(&version));
    let ord = match kind.as_str() {
        "loose" => cmp_loose(&loose(&x), &loose(&y))?,
        "strict" => {
            let (x, y) = (strict(&x)?, strict(&y)?);
            x.0.cmp(&y.0).then(match (x.1, y.1) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(p), Some(q)) => p.cmp(&q),
            })
        }
        "semver" | "semantic" => {
            let (x, y) = (semver(&x)?, semver(&y)?);
            x.0.cmp(&y.0).then(match (x.1.is_empty(), y.1.is_empty()) {
                (true, true) => Ordering::Equal,
                (false, true) => Ordering::Less,
                (true, false) => Ordering::Greater,
                (false, false) => cmp_parts(&x.1, &y.1, true)?,
            })
        }
        "pep440" => {
            return Err(err(format!(
                "version_type {kind:?} is not supported here (loose, strict)"
            )))
        }
        other => return Err(err(format!("Invalid version type ({other})"))),
    };
    Ok(match op {
        "eq" => ord == Ordering::Equal,
        "ne" => ord != Ordering::Equal,
        "lt" => ord == Ordering::Less,
        "le" => ord != Ordering::Greater,
        "gt" => ord == Ordering::Greater,
        _ => ord != Ordering::Less,
    })
}
