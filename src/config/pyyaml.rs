//! Plain YAML scalars as PyYAML (YAML 1.1, Ansible's reader) resolves them. serde-saphyr reads
//! the structure; each plain scalar's own text (from its span) is then resolved by PyYAML's
//! implicit resolvers, where the two readers differ: `y`/`n` stay strings, `1e3` and `0o17`
//! are strings, `1:30` is 90, `+.5` a string. Quoted, block and tagged scalars are strings or
//! what their tag says, as serde-saphyr read them.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;

/// A YAML node with the span of each scalar.
pub enum Node {
    Scalar(Value),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<Node>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a YAML value")
            }
            fn visit_bool<E>(self, b: bool) -> Result<Node, E> {
                Ok(Node::Scalar(Value::Bool(b)))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Node, E> {
                Ok(Node::Scalar(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Node, E> {
                Ok(Node::Scalar(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Node, E> {
                Ok(Node::Scalar(
                    Number::from_f64(n).map_or(Value::Null, Value::Number),
                ))
            }
            fn visit_str<E>(self, s: &str) -> Result<Node, E> {
                Ok(Node::Scalar(Value::String(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Node, E> {
                Ok(Node::Scalar(Value::String(s)))
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Scalar(Value::Null))
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Scalar(Value::Null))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
                Node::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<Node>>()? {
                    out.push(item);
                }
                Ok(Node::Seq(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<Spanned<Node>, Spanned<Node>>()? {
                    out.push(entry);
                }
                Ok(Node::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `node` as JSON, its plain scalars resolved as PyYAML does; `src` is the text it was read
/// from. Mapping keys are the text of their value (JSON keys are strings).
pub fn to_value(node: &Spanned<Node>, src: &str) -> Value {
    match &node.value {
        Node::Scalar(v) => scalar(v, node, src),
        Node::Seq(items) => Value::Array(items.iter().map(|i| to_value(i, src)).collect()),
        Node::Map(entries) => {
            let mut out = Map::new();
            for (k, v) in entries {
                let key = match to_value(k, src) {
                    Value::String(s) => s,
                    Value::Null => "null".into(),
                    other => other.to_string(),
                };
                out.insert(key, to_value(v, src));
            }
            Value::Object(out)
        }
    }
}

/// A scalar: its text, where it is a plain one, through PyYAML's resolvers.
fn scalar(read: &Value, node: &Spanned<Node>, src: &str) -> Value {
    // An alias is read where its anchor defined the node.
    let span = node.defined.span();
    let text = span
        .byte_offset()
        .zip(span.byte_len())
        .and_then(|(at, len)| src.get(at as usize..(at + len) as usize));
    let (Some(text), Some(at)) = (text, span.byte_offset()) else {
        return read.clone();
    };
    let plain =
        !text.starts_with(['\'', '"', '|', '>', '!', '&', '*']) && !tagged(&src[..at as usize]);
    // A plain scalar over several lines is folded by the reader: only one-line tokens are
    // resolved (every implicit type is one).
    if !plain || text.contains(['\n', '\r']) || text.trim() != text {
        return read.clone();
    }
    resolve(text).unwrap_or_else(|| match read {
        Value::String(_) => read.clone(),
        _ => Value::String(text.to_string()),
    })
}

/// Whether the node properties just before a scalar (`&anchor`, `!tag`, in any order) hold a
/// tag: a tagged scalar is what its tag says, as the reader read it.
fn tagged(before: &str) -> bool {
    before
        .trim_end()
        .rsplit(|c: char| c.is_whitespace() || matches!(c, '[' | '{' | ',' | '-' | '?'))
        .take_while(|w| w.starts_with(['&', '!']))
        .any(|w| w.starts_with('!'))
}

/// PyYAML's implicit resolvers (`resolver.py`, YAML 1.1) on a plain scalar's text: `None` for
/// a string. Infinities and NaN stay strings: JSON has no such numbers.
pub fn resolve(t: &str) -> Option<Value> {
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Some(Value::Bool(true))
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Some(Value::Bool(false))
        }
        _ => {}
    }
    int(t).or_else(|| float(t))
}

fn sign(t: &str) -> (bool, &str) {
    match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    }
}

fn signed(neg: bool, n: i128) -> Option<Value> {
    let n = if neg { -n } else { n };
    i64::try_from(n)
        .map(Value::from)
        .or_else(|_| u64::try_from(n).map(Value::from))
        .ok()
        // Beyond 64 bits: kept as its text, which is exact.
        .or_else(|| Some(Value::String(n.to_string())))
}

/// `[-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+ |
/// [-+]?[1-9][0-9_]*(:[0-5]?[0-9])+`
fn int(t: &str) -> Option<Value> {
    let (neg, body) = sign(t);
    let digits = |s: &str, radix: u32| -> Option<i128> {
        let clean: String = s.chars().filter(|&c| c != '_').collect();
        if clean.is_empty() {
            return None;
        }
        i128::from_str_radix(&clean, radix).ok()
    };
    let all = |s: &str, ok: fn(char) -> bool| !s.is_empty() && s.chars().all(ok);
    if let Some(b) = body.strip_prefix("0b") {
        return all(b, |c| matches!(c, '0' | '1' | '_'))
            .then(|| digits(b, 2))
            .flatten()
            .and_then(|n| signed(neg, n));
    }
    if let Some(h) = body.strip_prefix("0x") {
        return all(h, |c| c.is_ascii_hexdigit() || c == '_')
            .then(|| digits(h, 16))
            .flatten()
            .and_then(|n| signed(neg, n));
    }
    if body == "0" {
        return signed(neg, 0);
    }
    if let Some(o) = body.strip_prefix('0') {
        return all(o, |c| matches!(c, '0'..='7' | '_'))
            .then(|| digits(o, 8))
            .flatten()
            .and_then(|n| signed(neg, n));
    }
    if !body.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if body.contains(':') {
        // Base 60: `1:30` is 90.
        let mut parts = body.split(':');
        let first = parts.next()?;
        if !all(first, |c| c.is_ascii_digit() || c == '_') {
            return None;
        }
        let mut n = digits(first, 10)?;
        for p in parts {
            if p.is_empty() || p.len() > 2 || !p.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let d: i128 = p.parse().ok()?;
            if d > 59 || (p.len() == 2 && !p.starts_with(['0', '1', '2', '3', '4', '5'])) {
                return None;
            }
            n = n.checked_mul(60)?.checked_add(d)?;
        }
        return signed(neg, n);
    }
    all(body, |c| c.is_ascii_digit() || c == '_')
        .then(|| digits(body, 10))
        .flatten()
        .and_then(|n| signed(neg, n))
}

/// `[-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)? | [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*`
/// (PyYAML's, whose first form needs a digit before the dot unless there is no sign; `.inf`
/// and `.nan` are strings here).
fn float(t: &str) -> Option<Value> {
    let (neg, body) = sign(t);
    let has_sign = body.len() != t.len();
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    if let Some(e) = exp {
        let digits = e.strip_prefix(['+', '-'])?;
        if !e.starts_with(['+', '-'])
            || digits.is_empty()
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
    }
    let value = if mantissa.contains(':') {
        if exp.is_some() {
            return None;
        }
        let (whole, frac) = mantissa.split_once('.')?;
        let mut parts = whole.split(':');
        let first = parts.next()?;
        if first.is_empty() || !first.chars().all(|c| c.is_ascii_digit() || c == '_') {
            return None;
        }
        let mut n: f64 = first.replace('_', "").parse().ok()?;
        for p in parts {
            if p.is_empty() || p.len() > 2 || !p.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let d: f64 = p.parse().ok()?;
            if d > 59.0 {
                return None;
            }
            n = n * 60.0 + d;
        }
        let frac = frac.replace('_', "");
        if !frac.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        n + format!("0.{frac}0").parse::<f64>().ok()?
    } else {
        let (whole, frac) = mantissa.split_once('.')?;
        let whole_ok = if whole.is_empty() {
            !has_sign
        } else {
            whole.starts_with(|c: char| c.is_ascii_digit())
                && whole.chars().all(|c| c.is_ascii_digit() || c == '_')
        };
        if !whole_ok || !frac.chars().all(|c| c.is_ascii_digit() || c == '_') {
            return None;
        }
        if whole.is_empty()
            && (frac.is_empty() || !frac.starts_with(|c: char| c.is_ascii_digit() || c == '_'))
        {
            return None;
        }
        // PyYAML's constructor drops `_`.
        let text: String = format!(
            "{}.{}{}",
            if whole.is_empty() { "0" } else { whole },
            frac,
            exp.map(|e| format!("e{e}")).unwrap_or_default()
        )
        .replace('_', "");
        text.parse::<f64>().ok()?
    };
    let value = if neg { -value } else { value };
    Number::from_f64(value).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Through the reader: plain scalars resolved by their own text, quoted ones kept,
    /// aliases as their anchor, keys too.
    #[test]
    fn documents_read_as_pyyaml_reads_them() {
        let v = crate::config::values::parse_yaml(
            "[y, 1e3, '1:30', 1:30, \"y\", yes, {y: n, 017: 0o17}, &a 1_0, *a, !!str 12, +.5, ~]",
        )
        .unwrap();
        assert_eq!(
            v,
            json!(["y", "1e3", "1:30", 90, "y", true, {"y": "n", "15": "0o17"}, 10, 10, "12", "+.5", null])
        );
        let v =
            crate::config::values::parse_yaml("a: y\nb:\n  - n\n  - 1:30\nc: |\n  1:30\n").unwrap();
        assert_eq!(v, json!({"a": "y", "b": ["n", 90], "c": "1:30\n"}));
    }

    /// What PyYAML 6.0's `yaml.safe_load` gives for each plain scalar (Ansible's reader).
    #[test]
    fn plain_scalars_resolve_as_pyyaml() {
        for (text, want) in [
            ("y", json!("y")),
            ("n", json!("n")),
            ("Y", json!("Y")),
            ("N", json!("N")),
            ("yes", json!(true)),
            ("Off", json!(false)),
            ("~", json!(null)),
            ("1e3", json!("1e3")),
            ("1.0e3", json!("1.0e3")),
            ("1.0e+3", json!(1000.0)),
            ("1.5", json!(1.5)),
            ("1.", json!(1.0)),
            (".5", json!(0.5)),
            ("+.5", json!("+.5")),
            ("-1.5", json!(-1.5)),
            ("0o17", json!("0o17")),
            ("017", json!(15)),
            ("019", json!("019")),
            ("0x1A", json!(26)),
            ("0b101", json!(5)),
            ("1_000", json!(1000)),
            ("1:30", json!(90)),
            ("190:20:30", json!(685230)),
            ("1:30:15.5", json!(5415.5)),
            ("1:60", json!("1:60")),
            ("-0", json!(0)),
            ("+1", json!(1)),
            ("0", json!(0)),
            (".inf", json!(".inf")),
            ("2001-12-14", json!("2001-12-14")),
            ("18446744073709551616", json!("18446744073709551616")),
            ("18446744073709551615", json!(18446744073709551615u64)),
            ("cn-hangzhou", json!("cn-hangzhou")),
            ("1.2.3", json!("1.2.3")),
        ] {
            let got = resolve(text).unwrap_or_else(|| json!(text));
            assert_eq!(got, want, "{text:?}");
        }
    }
}
