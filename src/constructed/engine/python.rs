//! Python's semantics where Jinja in Ansible has them: number parsing, truth, `in`, equality
//! and ordering across types, and the regex tests.

use super::*;

/// Python's `int(text, base)`: surrounding whitespace, a sign, `_` between digits, and a
/// `0x`/`0o`/`0b` prefix matching the base (any of them with base 0).
pub(super) fn py_parse_int(s: &str, base: u32) -> Option<i64> {
    let t = s.trim();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let lower = t.to_ascii_lowercase();
    let (base, digits) = match (base, lower.get(..2)) {
        (0 | 16, Some("0x")) => (16, &lower[2..]),
        (0 | 8, Some("0o")) => (8, &lower[2..]),
        (0 | 2, Some("0b")) => (2, &lower[2..]),
        (0, _) => {
            if lower.len() > 1
                && lower.starts_with('0')
                && !lower.trim_start_matches('0').is_empty()
            {
                return None;
            }
            (10, lower.as_str())
        }
        (b, _) => (b, lower.as_str()),
    };
    if !(2..=36).contains(&base)
        || digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    let n = i64::from_str_radix(&clean, base).ok()?;
    Some(if neg { -n } else { n })
}

/// Python's `float(text)`.
pub(super) fn py_parse_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() || t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    let clean: String = t.chars().filter(|c| *c != '_').collect();
    match clean.to_ascii_lowercase().trim_start_matches(['+', '-']) {
        "inf" | "infinity" | "nan" => {}
        x if x.chars().any(|c| c.is_ascii_alphabetic() && c != 'e') => return None,
        _ => {}
    }
    clean.parse::<f64>().ok()
}

pub(super) fn py_to_float(v: &Value) -> Option<f64> {
    match v.kind() {
        ValueKind::Bool => Some(v.is_true() as i64 as f64),
        ValueKind::Number => f64::try_from(v.clone()).ok(),
        ValueKind::String => py_parse_float(v.as_str().unwrap_or_default()),
        _ => None,
    }
}

/// Jinja's `int` filter: `int(value, base)`, else `int(float(value))`, else the default.
pub(super) fn f_int(v: Value, a: &Args) -> Result<Value, Error> {
    let default = a.values[0].clone().unwrap_or(Value::from(0));
    let base = a.int(1, 10)?;
    let direct = match v.kind() {
        ValueKind::String => py_parse_int(v.as_str().unwrap_or_default(), base as u32),
        ValueKind::Bool => Some(v.is_true() as i64),
        ValueKind::Number if v.is_integer() => return Ok(v),
        _ => None,
    };
    if let Some(n) = direct {
        return Ok(Value::from(n));
    }
    Ok(match py_to_float(&v) {
        Some(f) if f.is_finite() => Value::from(f.trunc() as i64),
        _ => default,
    })
}

pub(super) fn f_float(v: Value, a: &Args) -> Result<Value, Error> {
    Ok(match py_to_float(&v) {
        Some(f) => Value::from(f),
        None => a.values[0].clone().unwrap_or(Value::from(0.0)),
    })
}

/// Ansible's `bool` filter: yes/on/true/1 and no/off/false/0 in any case; ints and bools by
/// their text; anything else is `value == 1`.
pub fn to_bool(v: &Value) -> bool {
    let text = match v.kind() {
        ValueKind::String => Some(v.as_str().unwrap_or_default().to_lowercase()),
        ValueKind::Bool => Some(if v.is_true() { "true" } else { "false" }.to_owned()),
        ValueKind::Number if v.is_integer() => Some(v.to_string()),
        _ => None,
    };
    match text.as_deref() {
        Some("yes" | "on" | "true" | "1") => true,
        Some("no" | "off" | "false" | "0") => false,
        Some(_) => false,
        None => py_to_float(v) == Some(1.0) && v.kind() == ValueKind::Number,
    }
}

pub(super) fn t_regex(v: Value, rest: Rest<ValueOrKwargs>, kind: &str) -> Result<bool, Error> {
    no_undefined(&v)?;
    let Some(a) = Args::parse(
        &rest,
        kind,
        &["pattern", "ignorecase", "multiline", "match_type"],
    )?
    else {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "an undefined value was used",
        ));
    };
    let match_type = match kind {
        "regex" => a.str(3, "search"),
        k => k.to_owned(),
    };
    let s = py_str(&v);
    let re = regex(&a.str(0, ""), a.flag(1), a.flag(2))?;
    Ok(match match_type.as_str() {
        "match" => re.find(&s).is_some_and(|m| m.start() == 0) || anchored_match(&re, &s),
        "fullmatch" => re
            .find(&s)
            .is_some_and(|m| m.start() == 0 && m.end() == s.len()),
        _ => re.is_match(&s),
    })
}

/// `re.match` tries only at position 0, where the leftmost-first match may start later.
pub(super) fn anchored_match(re: &regex::Regex, s: &str) -> bool {
    let anchored = format!("^(?:{})", re.as_str());
    regex(&anchored, false, false)
        .map(|r| r.is_match(s))
        .unwrap_or(false)
}

/// Python's `x in container`.
pub(super) fn py_contains(container: &Value, x: &Value) -> Result<bool, Error> {
    match container.kind() {
        ValueKind::String => match x.as_str() {
            Some(s) => Ok(container.as_str().unwrap_or_default().contains(s)),
            None => Err(err(format!(
                "'in <string>' requires string as left operand, not {}",
                py_type(x)
            ))),
        },
        ValueKind::Seq | ValueKind::Iterable => Ok(container.try_iter()?.any(|i| py_eq(&i, x))),
        ValueKind::Map => Ok(container.try_iter()?.any(|k| py_eq(&k, x))),
        _ => Err(err(format!(
            "argument of type '{}' is not iterable",
            py_type(container)
        ))),
    }
}

/// Python's `==`, where `1 == 1.0 == True`.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    let num = |v: &Value| matches!(v.kind(), ValueKind::Number | ValueKind::Bool);
    if num(a) && num(b) {
        return py_to_float(a) == py_to_float(b);
    }
    a == b
}

pub(super) fn py_eq_seq(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| py_eq(x, y))
}

pub(super) fn py_cmp_seq(a: &[Value], b: &[Value]) -> Result<Ordering, Error> {
    for (x, y) in a.iter().zip(b) {
        match py_cmp(x, y)? {
            Ordering::Equal => continue,
            o => return Ok(o),
        }
    }
    Ok(a.len().cmp(&b.len()))
}

/// Python's ordering: numbers with numbers, strings with strings, lists item by item;
/// anything else is a TypeError.
pub(super) fn py_cmp(a: &Value, b: &Value) -> Result<Ordering, Error> {
    let num = |v: &Value| matches!(v.kind(), ValueKind::Number | ValueKind::Bool);
    if num(a) && num(b) {
        // Exactly, as Python compares an int with a float: a float with an integral value
        // is an i64 here (past 2**53, an i64 made a float is no longer exact).
        if a.is_integer() || b.is_integer() {
            if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
                return Ok(x.cmp(&y));
            }
        }
        let (x, y) = (py_to_float(a), py_to_float(b));
        return Ok(x.partial_cmp(&y).unwrap_or(Ordering::Equal));
    }
    match (a.kind(), b.kind()) {
        (ValueKind::String, ValueKind::String) => Ok(a.as_str().cmp(&b.as_str())),
        (ValueKind::Seq | ValueKind::Iterable, ValueKind::Seq | ValueKind::Iterable) => {
            let xs: Vec<Value> = a.try_iter()?.collect();
            let ys: Vec<Value> = b.try_iter()?.collect();
            py_cmp_seq(&xs, &ys)
        }
        _ => Err(err(format!(
            "'<' not supported between instances of '{}' and '{}'",
            py_type(a),
            py_type(b)
        ))),
    }
}
