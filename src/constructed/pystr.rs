//! Python's text forms of values, and Ansible's group-name sanitising.
//!
//! Ansible builds group names with `'%s' % value`, and its filters (`string`, `join`, `lower`,
//! …) call `str()`, so `True`, `None`, `1e+20` and `['a', 1]` must come out as Python
//! writes them, not as minijinja displays them.

use minijinja::value::{Value, ValueKind};
use std::fmt::Write;

/// Python's `str(value)`.
pub fn py_str(v: &Value) -> String {
    match v.kind() {
        ValueKind::String => v.as_str().unwrap_or_default().to_owned(),
        _ => {
            let mut out = String::new();
            write_repr(&mut out, v, false);
            out
        }
    }
}

/// [`py_str`], borrowing a string instead of copying it.
pub fn py_text(v: &Value) -> std::borrow::Cow<'_, str> {
    match v.as_str() {
        Some(s) if v.kind() == ValueKind::String => std::borrow::Cow::Borrowed(s),
        _ => std::borrow::Cow::Owned(py_str(v)),
    }
}

/// Python's `repr(value)`.
pub fn py_repr(v: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, v, true);
    out
}

fn write_repr(out: &mut String, v: &Value, quote_strings: bool) {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::Number => {
            if v.is_integer() {
                let _ = write!(out, "{v}");
            } else {
                out.push_str(&py_float(f64::try_from(v.clone()).unwrap_or(f64::NAN)));
            }
        }
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default();
            if quote_strings {
                write_str_repr(out, s);
            } else {
                out.push_str(s);
            }
        }
        ValueKind::Map => {
            out.push('{');
            if let Ok(keys) = v.try_iter() {
                for (i, k) in keys.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &k, true);
                    out.push_str(": ");
                    write_repr(out, &v.get_item(&k).unwrap_or_default(), true);
                }
            }
            out.push('}');
        }
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            if let Ok(items) = v.try_iter() {
                for (i, item) in items.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &item, true);
                }
            }
            out.push(']');
        }
        _ => {
            let _ = write!(out, "{v}");
        }
    }
}

/// Python's `repr(str)`: single quotes unless the text holds `'` and no `"`.
fn write_str_repr(out: &mut String, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {
                let n = c as u32;
                if n < 0x100 {
                    let _ = write!(out, "\\x{n:02x}");
                } else {
                    let _ = write!(out, "\\u{n:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// Python's `repr(float)`: shortest round-trip digits, fixed notation for exponents in
/// -4..16, otherwise `d.ddde+XX`.
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{:e}", f.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let n = digits.len() as i32;
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            if n <= exp + 1 {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', (exp + 1 - n) as usize));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..(exp + 1) as usize]);
                out.push('.');
                out.push_str(&digits[(exp + 1) as usize..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    out
}

/// Ansible's `to_safe_group_name` with `TRANSFORM_INVALID_GROUP_CHARS=always`: the pattern
/// `^[\d\W]|[^\w]` replaced by `_` — a leading digit and every character that is not a
/// Unicode letter, number or underscore.
pub fn safe_group_name(name: &str) -> String {
    safe_group_name_of(&[name])
}

/// [`safe_group_name`] of the parts joined, without joining them first.
pub fn safe_group_name_of(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    crate::group_names::ANSIBLE.name_into(parts, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constructed::engine::from_json;
    use serde_json::json;

    /// What Python 3's `str()` and `repr()` give for the same values.
    #[test]
    fn str_and_repr_are_pythons() {
        let cases = [
            (json!(null), "None", "None"),
            (json!(true), "True", "True"),
            (json!(false), "False", "False"),
            (json!(4096), "4096", "4096"),
            (json!(4096.0), "4096.0", "4096.0"),
            (json!(1e20), "1e+20", "1e+20"),
            (json!("it's"), "it's", "\"it's\""),
            (json!("say \"hi\""), "say \"hi\"", "'say \"hi\"'"),
            (json!("it's \"x\""), "it's \"x\"", "'it\\'s \"x\"'"),
            (json!("a\\b\n\r\t"), "a\\b\n\r\t", "'a\\\\b\\n\\r\\t'"),
            (
                json!("\u{1}\u{7f}\u{85}é"),
                "\u{1}\u{7f}\u{85}é",
                "'\\x01\\x7f\\x85é'",
            ),
            (json!([]), "[]", "[]"),
            (
                json!(["a", 1, null, true, 1.5, []]),
                "['a', 1, None, True, 1.5, []]",
                "['a', 1, None, True, 1.5, []]",
            ),
            // minijinja writes 1e20 as 100000000000000000000.0, and quotes text its own way.
            (
                json!([1e20, "it's", "\u{1}"]),
                "[1e+20, \"it's\", '\\x01']",
                "[1e+20, \"it's\", '\\x01']",
            ),
            (
                json!({"k": 1e20, "q": "it's"}),
                "{'k': 1e+20, 'q': \"it's\"}",
                "{'k': 1e+20, 'q': \"it's\"}",
            ),
            (json!({}), "{}", "{}"),
            (
                json!({"k": "v", "m": {"x": null}, "n": [1]}),
                "{'k': 'v', 'm': {'x': None}, 'n': [1]}",
                "{'k': 'v', 'm': {'x': None}, 'n': [1]}",
            ),
        ];
        for (json, str_, repr) in cases {
            let v = from_json(&json);
            assert_eq!(py_str(&v), str_, "str({json})");
            assert_eq!(py_text(&v), str_, "str({json}), borrowed");
            assert_eq!(py_repr(&v), repr, "repr({json})");
        }
        assert_eq!(py_str(&Value::UNDEFINED), "None");
        assert_eq!(
            [f64::INFINITY, f64::NEG_INFINITY, f64::NAN].map(py_float),
            ["inf", "-inf", "nan"]
        );
    }
}
