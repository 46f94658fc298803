//! Conversions between JSON and minijinja values: what expressions see, and what a result
//! is written as.

use super::*;
use crate::json::reader::{dedup_last, Node, Tree};

/// A JSON number as a minijinja value: an integer when it is one, else a float.
pub fn number(n: &serde_json::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::from(i)
    } else if let Some(u) = n.as_u64() {
        Value::from(u)
    } else {
        Value::from(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// A JSON value as a minijinja value; maps keep their order.
pub fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::from(()),
        serde_json::Value::Bool(b) => Value::from(*b),
        serde_json::Value::Number(n) => number(n),
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(a) => Value::from(a.iter().map(from_json).collect::<Vec<_>>()),
        serde_json::Value::Object(m) => Value::from_pairs(
            m.iter()
                .map(|(k, v)| (Value::from(k.as_str()), from_json(v))),
        ),
    }
}

/// A result as JSON. An undefined value anywhere in it is an error, as when Ansible
/// finalises a template result. What `write_json` is checked against.
#[cfg(test)]
pub fn to_json(v: &Value) -> Result<serde_json::Value, Error> {
    Ok(match v.kind() {
        ValueKind::Undefined => return Err(undefined_in_result()),
        ValueKind::None => serde_json::Value::Null,
        ValueKind::Bool => serde_json::Value::Bool(v.is_true()),
        ValueKind::Number => serde_json::Value::Number(json_number(v)?),
        ValueKind::String => serde_json::Value::String(v.as_str().unwrap_or_default().to_owned()),
        ValueKind::Seq | ValueKind::Iterable => serde_json::Value::Array(
            v.try_iter()?
                .map(|i| to_json(&i))
                .collect::<Result<_, _>>()?,
        ),
        ValueKind::Map => {
            let mut m = serde_json::Map::new();
            for k in v.try_iter()? {
                let val = to_json(&v.get_item(&k)?)?;
                m.insert(py_str(&k), val);
            }
            serde_json::Value::Object(m)
        }
        _ => return Err(not_storable(v)),
    })
}

/// [`to_json`]'s value written as serde_json writes it (compact), without building it; the
/// same errors.
pub fn write_json(v: &Value, out: &mut Vec<u8>) -> Result<(), Error> {
    match v.kind() {
        ValueKind::Undefined => return Err(undefined_in_result()),
        ValueKind::None => out.extend_from_slice(b"null"),
        ValueKind::Bool if v.is_true() => out.extend_from_slice(b"true"),
        ValueKind::Bool => out.extend_from_slice(b"false"),
        // An integer's text is its JSON, beyond 64 bits too (`2**64` stays exact, as
        // Python's and JSON's do).
        ValueKind::Number if v.is_integer() => out.extend_from_slice(v.to_string().as_bytes()),
        ValueKind::Number => {
            serde_json::to_writer(&mut *out, &json_number(v)?).expect("a number serializes")
        }
        ValueKind::String => crate::json::write_str(out, v.as_str().unwrap_or_default()),
        ValueKind::Seq | ValueKind::Iterable => {
            out.push(b'[');
            for (n, item) in v.try_iter()?.enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                write_json(&item, out)?;
            }
            out.push(b']');
        }
        ValueKind::Map => {
            // serde_json's map: sorted by key, the last of equal keys kept; every value is
            // checked, kept or not.
            let mut members = Vec::new();
            for k in v.try_iter()? {
                let mut json = Vec::new();
                write_json(&v.get_item(&k)?, &mut json)?;
                members.push((py_str(&k), json));
            }
            members.sort_by(|a, b| a.0.cmp(&b.0));
            out.push(b'{');
            let mut first = true;
            let mut rest = members.iter().peekable();
            while let Some((k, json)) = rest.next() {
                if rest.peek().is_some_and(|next| next.0 == *k) {
                    continue;
                }
                if !std::mem::take(&mut first) {
                    out.push(b',');
                }
                crate::json::write_str(out, k);
                out.push(b':');
                out.extend_from_slice(json);
            }
            out.push(b'}');
        }
        _ => return Err(not_storable(v)),
    }
    Ok(())
}

pub(super) fn undefined_in_result() -> Error {
    Error::new(
        ErrorKind::UndefinedError,
        "the result holds an undefined value",
    )
}

pub(super) fn not_storable(v: &Value) -> Error {
    err(format!(
        "a value of type {} cannot be stored in a variable",
        v.kind()
    ))
}

/// A number as JSON: an integer when it is one that fits, else a finite float.
pub(super) fn json_number(v: &Value) -> Result<serde_json::Number, Error> {
    if let (true, Some(i)) = (v.is_integer(), v.as_i64()) {
        Ok(i.into())
    } else if let (true, Ok(u)) = (v.is_integer(), u64::try_from(v.clone())) {
        Ok(u.into())
    } else {
        let f = f64::try_from(v.clone()).unwrap_or(f64::NAN);
        serde_json::Number::from_f64(f)
            .ok_or_else(|| err(format!("{} is not a JSON number", py_float(f))))
    }
}

/// A node of a decoded page as the constructed expressions see it: what `constructed`'s `from_json` makes
/// of serde_json's tree of it (maps sorted by key, the last of duplicate keys kept),
/// without building that tree first.
pub fn jinja_of_node(tree: &Tree, id: u32) -> Value {
    use minijinja::Value as J;
    match tree.node(id) {
        Node::Null => J::from(()),
        Node::Bool(b) => J::from(b),
        Node::Num {
            start,
            len,
            plain: true,
        } => {
            // What serde_json reads a plain integer as: i64 where it fits, else u64.
            let token = tree.token(start, len);
            match token.parse::<i64>() {
                Ok(i) => J::from(i),
                Err(_) => J::from(token.parse::<u64>().expect("a plain number is a u64")),
            }
        }
        Node::Num { start, len, .. } => number(&tree.num(start, len)),
        Node::Str(t) => J::from(tree.text(t)),
        Node::Arr { .. } => J::from(
            tree.items(id)
                .unwrap_or(&[])
                .iter()
                .map(|&x| jinja_of_node(tree, x))
                .collect::<Vec<_>>(),
        ),
        Node::Obj { .. } => jinja_map(
            tree.members(id)
                .iter()
                .map(|&(k, v)| (tree.keys.text(k), v)),
            |v| jinja_of_node(tree, v),
        ),
    }
}

/// A minijinja map of `members` as serde_json's map holds them: sorted by key, the last of
/// duplicate keys kept.
pub(super) fn jinja_map<'k, T: Copy>(
    members: impl Iterator<Item = (&'k str, T)>,
    value: impl Fn(T) -> minijinja::Value,
) -> minijinja::Value {
    let mut members: Vec<(&str, T)> = members.collect();
    // Stable: of equal keys, the last one stays last.
    members.sort_by(|a, b| a.0.cmp(b.0));
    dedup_last(&mut members, |a, b| a.0 == b.0);
    minijinja::Value::from_pairs(members.into_iter().map(|(k, v)| (k, value(v))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value as JsonValue;

    /// Numbers reach the expressions as serde_json's reading of them would make them.
    #[test]
    fn numbers_for_the_expressions_are_serde_jsons() {
        for token in [
            "0",
            "7",
            "-1",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "-9223372036854775808",
            "1.5",
            "1e3",
            "-0",
        ] {
            let mut tree = Tree::new(token);
            let (n, _) = tree.read(0, 1).unwrap();
            let want = match serde_json::from_str::<JsonValue>(token).unwrap() {
                JsonValue::Number(n) => number(&n),
                other => panic!("{other}"),
            };
            let got = jinja_of_node(&tree, n);
            assert_eq!(got, want, "{token}");
            assert_eq!(got.kind(), want.kind(), "{token}");
            assert_eq!(got.to_string(), want.to_string(), "{token}");
        }
    }

    /// Pages' objects, arrays and scalars reach the expressions as serde_json's reading makes
    /// them: keys sorted, the last of duplicate keys kept.
    #[test]
    fn pages_for_the_expressions_are_serde_jsons() {
        for page in [
            r#"{"b": 1, "a": [true, null, "x", 2.5, {}], "b": {"z": false, "y": 2, "z": 3}}"#,
            r#"[{"k": 1, "k": 2, "j": 0}, [], "é"]"#,
        ] {
            let mut tree = Tree::new(page);
            let (n, _) = tree.read(0, 8).unwrap();
            let want = from_json(&serde_json::from_str::<JsonValue>(page).unwrap());
            let got = jinja_of_node(&tree, n);
            assert_eq!(got, want, "{page}");
            assert_eq!(got.to_string(), want.to_string(), "{page}");
        }
    }
}
