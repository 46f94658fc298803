//! The JSON filters as Ansible has them: `to_json` and `to_nice_json` write what Python's
//! `json.dumps` writes (separators, indent, sorted keys, `\\uXXXX` escapes), `from_json`
//! reads JSON.

use super::*;

/// Python's `json.dumps`: `sep` between items and `colon` after keys; `indent` puts each item
/// on its own line; non-ASCII escaped as `\uXXXX` when `ascii`.
pub(super) struct PyJson {
    pub(super) indent: Option<usize>,
    pub(super) sort_keys: bool,
    pub(super) ascii: bool,
    pub(super) sep: &'static str,
    pub(super) colon: &'static str,
}

impl PyJson {
    pub(super) fn dump(&self, v: &Value, depth: usize, out: &mut String) -> Result<(), Error> {
        match v.kind() {
            ValueKind::Undefined => return Err(undefined_in_result()),
            ValueKind::None => out.push_str("null"),
            ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
            ValueKind::Number if v.is_integer() => out.push_str(&v.to_string()),
            ValueKind::Number => {
                let f = f64::try_from(v.clone()).unwrap_or(f64::NAN);
                out.push_str(&match py_float(f).as_str() {
                    "inf" => "Infinity".to_owned(),
                    "-inf" => "-Infinity".to_owned(),
                    "nan" => "NaN".to_owned(),
                    s => s.to_owned(),
                });
            }
            ValueKind::String => self.string(v.as_str().unwrap_or_default(), out),
            ValueKind::Seq | ValueKind::Iterable => {
                let items: Vec<Value> = v.try_iter()?.collect();
                self.container('[', ']', items.len(), depth, out, |i, out| {
                    self.dump(&items[i], depth + 1, out)
                })?;
            }
            ValueKind::Map => {
                let mut pairs: Vec<(Value, Value)> = v
                    .try_iter()?
                    .map(|k| {
                        let x = v.get_item(&k).unwrap_or_default();
                        (k, x)
                    })
                    .collect();
                if self.sort_keys {
                    let mut failed = None;
                    pairs.sort_by(|a, b| {
                        py_cmp(&a.0, &b.0).unwrap_or_else(|e| {
                            failed = Some(e);
                            Ordering::Equal
                        })
                    });
                    if let Some(e) = failed {
                        return Err(e);
                    }
                }
                self.container('{', '}', pairs.len(), depth, out, |i, out| {
                    let (k, x) = &pairs[i];
                    match k.kind() {
                        ValueKind::String => self.string(k.as_str().unwrap_or_default(), out),
                        ValueKind::Bool | ValueKind::None | ValueKind::Number => {
                            // Python writes these keys as their JSON text, quoted.
                            let mut key = String::new();
                            self.dump(k, 0, &mut key)?;
                            self.string(&key, out);
                        }
                        _ => {
                            // A tuple's key; Python cannot hash a list or a dict.
                            return Err(err(format!(
                                "Key of type '{}' is not JSON serializable",
                                py_type(k)
                            )));
                        }
                    }
                    out.push_str(self.colon);
                    self.dump(x, depth + 1, out)
                })?;
            }
            _ => return Err(not_storable(v)),
        }
        Ok(())
    }

    fn container(
        &self,
        open: char,
        close: char,
        len: usize,
        depth: usize,
        out: &mut String,
        mut item: impl FnMut(usize, &mut String) -> Result<(), Error>,
    ) -> Result<(), Error> {
        out.push(open);
        if len == 0 {
            out.push(close);
            return Ok(());
        }
        let newline = |out: &mut String, d: usize| {
            if let Some(n) = self.indent {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', n * d));
            }
        };
        for i in 0..len {
            if i > 0 {
                out.push_str(self.sep);
            }
            newline(out, depth + 1);
            item(i, out)?;
        }
        newline(out, depth);
        out.push(close);
        Ok(())
    }

    fn string(&self, s: &str, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20 || (self.ascii && !c.is_ascii()) => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

fn json_indent(a: &Args, i: usize, default: Option<usize>) -> Result<Option<usize>, Error> {
    match a.get(i) {
        None => Ok(default),
        Some(v) => Ok(Some(
            usize::try_from(
                v.as_i64()
                    .ok_or_else(|| err("indent: only integer indents are supported here"))?,
            )
            .unwrap_or(0),
        )),
    }
}

pub(super) fn f_to_json(v: Value, a: &Args) -> Result<Value, Error> {
    if a.get(0).is_some() || a.get(4).is_some() {
        return Err(err(
            "to_json: profile and separators are not supported here",
        ));
    }
    let indent = json_indent(a, 1, None)?;
    let dumper = PyJson {
        indent,
        sort_keys: a.flag(2),
        ascii: a.values[3].as_ref().is_none_or(Value::is_true),
        // Python uses "," with an indent, so that lines do not end in a space.
        sep: if indent.is_some() { "," } else { ", " },
        colon: ": ",
    };
    let mut out = String::new();
    dumper.dump(&v, 0, &mut out)?;
    Ok(Value::from(out))
}

pub(super) fn f_to_nice_json(v: Value, a: &Args) -> Result<Value, Error> {
    let dumper = PyJson {
        indent: json_indent(a, 0, Some(4))?,
        sort_keys: a.values[1].as_ref().is_none_or(Value::is_true),
        ascii: a.values[2].as_ref().is_none_or(Value::is_true),
        sep: ",",
        colon: ": ",
    };
    let mut out = String::new();
    dumper.dump(&v, 0, &mut out)?;
    Ok(Value::from(out))
}

pub(super) fn f_from_json(v: Value, _: &Args) -> Result<Value, Error> {
    let text = v.as_str().ok_or_else(|| {
        err(format!(
            "from_json: the JSON object must be str, not {}",
            py_type(&v)
        ))
    })?;
    let parsed: serde_json::Value =
        serde_json::from_str(text).map_err(|e| err(format!("from_json: invalid JSON: {e}")))?;
    Ok(from_json(&parsed))
}
