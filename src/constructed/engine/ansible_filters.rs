//! ansible.builtin filters beyond the common ones of `filters.rs`, each as Ansible 2.19's
//! `plugins/filter/{core,mathstuff,urls,urlsplit}.py` has it (docs/DESIGN.md, "Filters and
//! tests"). Python's behaviour is kept where inventory data can reach it: `json.dumps`
//! separators, `os.path` (posixpath) rules, `shlex.quote`, `re.escape`, `itertools`.

use super::*;
use base64::Engine as _;

/// These filters, with their Python parameter names; as in `FILTERS`, an undefined value or
/// argument gives undefined.
const ANSIBLE_FILTERS: &[(&str, FilterFn, &[&str])] = &[
    (
        "to_json",
        f_to_json,
        &[
            "profile",
            "indent",
            "sort_keys",
            "ensure_ascii",
            "separators",
        ],
    ),
    (
        "to_nice_json",
        f_to_nice_json,
        &["indent", "sort_keys", "ensure_ascii"],
    ),
    ("from_json", f_from_json, &[]),
    ("flatten", f_flatten, &["levels", "skip_nulls"]),
    ("hash", |v, a| digest(&v, &a.str(0, "sha1")), &["hashtype"]),
    ("sha1", |v, _| digest(&v, "sha1"), &[]),
    ("checksum", |v, _| digest(&v, "sha1"), &[]),
    ("md5", |v, _| digest(&v, "md5"), &[]),
    ("b64encode", f_b64encode, &["encoding", "urlsafe"]),
    ("b64decode", f_b64decode, &["encoding", "urlsafe"]),
    ("to_uuid", f_to_uuid, &["namespace"]),
    (
        "basename",
        |v, _| Ok(Value::from(basename(&py_text(&v)))),
        &[],
    ),
    (
        "dirname",
        |v, _| Ok(Value::from(dirname(&py_text(&v)))),
        &[],
    ),
    ("splitext", f_splitext, &[]),
    (
        "normpath",
        |v, _| Ok(Value::from(normpath(&py_text(&v)))),
        &[],
    ),
    ("path_join", f_path_join, &[]),
    ("commonpath", f_commonpath, &[]),
    ("quote", f_quote, &[]),
    ("regex_escape", f_regex_escape, &["re_type"]),
    ("type_debug", |v, _| Ok(Value::from(py_type(&v))), &[]),
    ("extract", f_extract, &["container", "morekeys"]),
    (
        "subelements",
        f_subelements,
        &["subelements", "skip_missing"],
    ),
    ("zip", f_zip, &["*"]),
    ("zip_longest", f_zip_longest, &["*", "fillvalue"]),
    ("union", |v, a| set_op(v, a, "union"), &["b"]),
    ("intersect", |v, a| set_op(v, a, "intersect"), &["b"]),
    ("difference", |v, a| set_op(v, a, "difference"), &["b"]),
    (
        "symmetric_difference",
        |v, a| set_op(v, a, "symmetric_difference"),
        &["b"],
    ),
    ("product", f_product, &["*", "repeat"]),
    ("permutations", f_permutations, &["r"]),
    ("combinations", f_combinations, &["r"]),
    ("log", f_log, &["base"]),
    ("pow", f_pow, &["y"]),
    ("root", f_root, &["base"]),
    ("human_readable", f_human_readable, &["isbits", "unit"]),
    (
        "human_to_bytes",
        f_human_to_bytes,
        &["default_unit", "isbits"],
    ),
    ("rekey_on_member", f_rekey_on_member, &["key", "duplicates"]),
    ("urlsplit", f_urlsplit, &["query"]),
    ("urldecode", f_urldecode, &[]),
];

pub(super) fn register(env: &mut Environment<'static>) {
    for &(name, f, spec) in ANSIBLE_FILTERS {
        env.add_filter(name, move |value: Value, rest: Rest<ValueOrKwargs>| {
            if value.is_undefined() {
                return Ok(value);
            }
            match Args::parse(&rest, name, spec)? {
                Some(args) => f(value, &args),
                None => Ok(Value::UNDEFINED),
            }
        });
    }
    // mandatory is the one filter that sees an undefined value and fails on it.
    env.add_filter(
        "mandatory",
        |value: Value, msg: Option<Value>| -> Result<Value, Error> {
            if !value.is_undefined() {
                return Ok(value);
            }
            Err(Error::new(
                ErrorKind::UndefinedError,
                match msg.filter(|m| !m.is_none()) {
                    Some(m) => py_str(&m),
                    None => "Mandatory variable not defined.".to_owned(),
                },
            ))
        },
    );
}

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
                        _ => {
                            // Python writes bool, None and number keys as their JSON text, quoted.
                            let mut key = String::new();
                            self.dump(k, depth + 1, &mut key)?;
                            self.string(&key, out);
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

fn f_to_json(v: Value, a: &Args) -> Result<Value, Error> {
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

fn f_to_nice_json(v: Value, a: &Args) -> Result<Value, Error> {
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

fn f_from_json(v: Value, _: &Args) -> Result<Value, Error> {
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

/// Ansible's `is_sequence`: a list, not a string or a mapping.
fn is_seq(v: &Value) -> bool {
    matches!(v.kind(), ValueKind::Seq | ValueKind::Iterable)
}

fn flatten(items: Vec<Value>, levels: Option<i64>, skip_nulls: bool) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for e in items {
        if skip_nulls && (e.is_none() || matches!(e.as_str(), Some("None" | "null"))) {
            continue;
        }
        if is_seq(&e) {
            match levels {
                None => out.extend(flatten(e.try_iter()?.collect(), None, skip_nulls)?),
                Some(l) if l >= 1 => {
                    out.extend(flatten(e.try_iter()?.collect(), Some(l - 1), skip_nulls)?)
                }
                Some(_) => out.push(e),
            }
        } else {
            out.push(e);
        }
    }
    Ok(out)
}

fn f_flatten(v: Value, a: &Args) -> Result<Value, Error> {
    let levels = a.get(0).map(|_| a.int(0, 0)).transpose()?;
    let skip_nulls = a.values[1].as_ref().is_none_or(Value::is_true);
    Ok(Value::from(flatten(
        py_iter(&v, "flatten")?,
        levels,
        skip_nulls,
    )?))
}

/// `to_bytes(data)`: a string's UTF-8, else the text of `str(data)`.
fn digest(v: &Value, hashtype: &str) -> Result<Value, Error> {
    use sha2::Digest as _;
    let data = py_text(v);
    let data = data.as_bytes();
    let hex = match hashtype {
        "md5" => format!("{:x}", md5::Md5::digest(data)),
        "sha1" => format!("{:x}", sha1::Sha1::digest(data)),
        "sha224" => format!("{:x}", sha2::Sha224::digest(data)),
        "sha256" => format!("{:x}", sha2::Sha256::digest(data)),
        "sha384" => format!("{:x}", sha2::Sha384::digest(data)),
        "sha512" => format!("{:x}", sha2::Sha512::digest(data)),
        other => {
            return Err(err(format!(
                "hash: hash type {other:?} is not supported here (md5, sha1, sha224, sha256, sha384, sha512)"
            )))
        }
    };
    Ok(Value::from(hex))
}

fn utf8_only(a: &Args, filter: &str) -> Result<(), Error> {
    match a
        .str(0, "utf-8")
        .to_ascii_lowercase()
        .replace('_', "-")
        .as_str()
    {
        "utf-8" | "utf8" => Ok(()),
        other => Err(err(format!(
            "{filter}: encoding {other:?} is not supported here (utf-8)"
        ))),
    }
}

fn f_b64encode(v: Value, a: &Args) -> Result<Value, Error> {
    utf8_only(a, "b64encode")?;
    let text = py_text(&v);
    let engine = if a.flag(1) {
        &base64::engine::general_purpose::URL_SAFE
    } else {
        &base64::engine::general_purpose::STANDARD
    };
    Ok(Value::from(engine.encode(text.as_bytes())))
}

fn f_b64decode(v: Value, a: &Args) -> Result<Value, Error> {
    utf8_only(a, "b64decode")?;
    let urlsafe = a.flag(1);
    // Python's b64decode drops characters outside the alphabet.
    let text: String = py_text(&v)
        .chars()
        .map(|c| match (urlsafe, c) {
            (true, '-') => '+',
            (true, '_') => '/',
            _ => c,
        })
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|e| err(format!("b64decode: {e}")))?;
    String::from_utf8(bytes)
        .map(Value::from)
        .map_err(|_| err("b64decode: the decoded bytes are not UTF-8"))
}

fn f_to_uuid(v: Value, a: &Args) -> Result<Value, Error> {
    let ns = a.str(0, "361E6D51-FAEC-444A-9079-341386DA8E2E");
    let ns = uuid::Uuid::parse_str(&ns)
        .map_err(|e| err(format!("Invalid value '{ns}' for 'namespace': {e}")))?;
    Ok(Value::from(
        uuid::Uuid::new_v5(&ns, py_text(&v).as_bytes()).to_string(),
    ))
}

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
fn f_splitext(v: Value, _: &Args) -> Result<Value, Error> {
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

fn f_path_join(v: Value, _: &Args) -> Result<Value, Error> {
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

fn f_commonpath(v: Value, _: &Args) -> Result<Value, Error> {
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
fn f_quote(v: Value, _: &Args) -> Result<Value, Error> {
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

fn f_regex_escape(v: Value, a: &Args) -> Result<Value, Error> {
    let s = py_str(&v);
    let special: &str = match a.str(0, "python").as_str() {
        "python" => "()[]{}?*+-|^$\\.&~# \t\n\r\u{b}\u{c}",
        "posix_basic" => "].[^$*\\",
        "posix_extended" => return Err(err("Regex type (posix_extended) not yet implemented")),
        other => return Err(err(format!("Invalid regex type ({other})"))),
    };
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if special.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(Value::from(out))
}

fn f_extract(v: Value, a: &Args) -> Result<Value, Error> {
    let mut keys = vec![v];
    match a.values[1].as_ref().filter(|m| !m.is_none()) {
        None => {}
        Some(m) if m.kind() == ValueKind::Seq => keys.extend(m.try_iter()?),
        Some(m) => keys.push(m.clone()),
    }
    let mut value = a.values[0].clone().unwrap_or_default();
    for k in keys {
        value = value.get_item(&k).unwrap_or(Value::UNDEFINED);
        if value.is_undefined() {
            break;
        }
    }
    Ok(value)
}

fn f_subelements(v: Value, a: &Args) -> Result<Value, Error> {
    let elements: Vec<Value> = match v.kind() {
        ValueKind::Map => v
            .try_iter()?
            .map(|k| v.get_item(&k).unwrap_or_default())
            .collect(),
        ValueKind::Seq => v.try_iter()?.collect(),
        _ => return Err(err("obj must be a list of dicts or a nested dict")),
    };
    let path: Vec<Value> = match a.values[0].as_ref() {
        Some(s) if s.kind() == ValueKind::String => {
            py_text(s).split('.').map(Value::from).collect()
        }
        Some(s) if s.kind() == ValueKind::Seq => s.try_iter()?.collect(),
        _ => return Err(err("subelements must be a list or a string")),
    };
    let skip_missing = a.flag(1);
    let mut out = Vec::new();
    for e in elements {
        let mut values = e.clone();
        for key in &path {
            if values.kind() != ValueKind::Map {
                return Err(err(format!(
                    "the key {} should point to a dictionary, got '{}'",
                    py_str(key),
                    py_str(&values)
                )));
            }
            match values.get_item(key) {
                Ok(x) if !x.is_undefined() => values = x,
                _ if skip_missing => {
                    values = Value::from(Vec::<Value>::new());
                    break;
                }
                _ => {
                    return Err(err(format!(
                        "could not find {} key in iterated item {}",
                        py_repr(key),
                        py_repr(&values)
                    )))
                }
            }
        }
        if values.kind() != ValueKind::Seq {
            return Err(err(format!(
                "the key {} should point to a list, got {}",
                py_repr(&path.last().cloned().unwrap_or_default()),
                py_repr(&values)
            )));
        }
        for x in values.try_iter()? {
            out.push(Value::from(vec![e.clone(), x]));
        }
    }
    Ok(Value::from(out))
}

fn iterables(v: &Value, a: &Args, what: &str) -> Result<Vec<Vec<Value>>, Error> {
    std::iter::once(v)
        .chain(&a.star)
        .map(|x| py_iter(x, what))
        .collect()
}

fn f_zip(v: Value, a: &Args) -> Result<Value, Error> {
    let lists = iterables(&v, a, "zip")?;
    let n = lists.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Value::from(
        (0..n)
            .map(|i| Value::from(lists.iter().map(|l| l[i].clone()).collect::<Vec<_>>()))
            .collect::<Vec<_>>(),
    ))
}

fn f_zip_longest(v: Value, a: &Args) -> Result<Value, Error> {
    let lists = iterables(&v, a, "zip_longest")?;
    let fill = a.values[0].clone().unwrap_or(Value::from(()));
    let n = lists.iter().map(Vec::len).max().unwrap_or(0);
    Ok(Value::from(
        (0..n)
            .map(|i| {
                Value::from(
                    lists
                        .iter()
                        .map(|l| l.get(i).cloned().unwrap_or_else(|| fill.clone()))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    ))
}

/// The set filters. Ansible builds a Python set, whose order for strings changes from run to
/// run (hash randomisation); the order here is the first-seen one, which is Ansible's own
/// fallback for unhashable items. docs/DESIGN.md says to `| sort` for a stable result.
fn set_op(v: Value, a: &Args, op: &str) -> Result<Value, Error> {
    let left = py_iter(&v, op)?;
    let right = py_iter(&a.values[0].clone().unwrap_or_default(), op)?;
    let has = |list: &[Value], x: &Value| list.iter().any(|y| py_eq(x, y));
    let candidates: Vec<Value> = match op {
        "union" => left.iter().chain(&right).cloned().collect(),
        "intersect" => left.iter().filter(|x| has(&right, x)).cloned().collect(),
        "difference" => left.iter().filter(|x| !has(&right, x)).cloned().collect(),
        _ => left
            .iter()
            .filter(|x| !has(&right, x))
            .chain(right.iter().filter(|x| !has(&left, x)))
            .cloned()
            .collect(),
    };
    let mut out: Vec<Value> = Vec::new();
    // Small integers sit in a Python set in the order of their values.
    let mut candidates = candidates;
    if candidates
        .iter()
        .all(|x| x.is_integer() && x.kind() == ValueKind::Number)
    {
        candidates.sort_by_key(|x| x.as_i64());
    }
    for x in candidates {
        if !has(&out, &x) {
            out.push(x);
        }
    }
    Ok(Value::from(out))
}

fn f_product(v: Value, a: &Args) -> Result<Value, Error> {
    let mut lists = iterables(&v, a, "product")?;
    let repeat = a.int(0, 1)?;
    if repeat < 0 {
        return Err(err("repeat argument cannot be negative"));
    }
    let base = lists.clone();
    for _ in 1..repeat {
        lists.extend(base.iter().cloned());
    }
    if repeat == 0 {
        lists.clear();
    }
    let mut out: Vec<Vec<Value>> = vec![Vec::new()];
    for l in &lists {
        out = out
            .iter()
            .flat_map(|prefix| {
                l.iter().map(move |x| {
                    let mut p = prefix.clone();
                    p.push(x.clone());
                    p
                })
            })
            .collect();
    }
    Ok(Value::from(
        out.into_iter().map(Value::from).collect::<Vec<_>>(),
    ))
}

/// itertools' index sequences for `r` of `n` items, in its order.
fn choose(n: usize, r: usize, ordered: bool, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    if prefix.len() == r {
        out.push(prefix.clone());
        return;
    }
    let start = if ordered {
        0
    } else {
        prefix.last().map_or(0, |l| l + 1)
    };
    for i in start..n {
        if ordered && prefix.contains(&i) {
            continue;
        }
        prefix.push(i);
        choose(n, r, ordered, prefix, out);
        prefix.pop();
    }
}

fn pick(v: &Value, r: Option<i64>, ordered: bool, what: &str) -> Result<Value, Error> {
    let items = py_iter(v, what)?;
    let r = r.unwrap_or(items.len() as i64);
    if r < 0 {
        return Err(err("r must be non-negative"));
    }
    let mut idx = Vec::new();
    if r as usize <= items.len() {
        choose(items.len(), r as usize, ordered, &mut Vec::new(), &mut idx);
    }
    Ok(Value::from(
        idx.into_iter()
            .map(|ix| Value::from(ix.into_iter().map(|i| items[i].clone()).collect::<Vec<_>>()))
            .collect::<Vec<_>>(),
    ))
}

fn f_permutations(v: Value, a: &Args) -> Result<Value, Error> {
    let r = a.get(0).map(|_| a.int(0, 0)).transpose()?;
    pick(&v, r, true, "permutations")
}

fn f_combinations(v: Value, a: &Args) -> Result<Value, Error> {
    if a.get(0).is_none() {
        return Err(err("combinations() missing required argument 'r' (pos 2)"));
    }
    pick(&v, Some(a.int(0, 0)?), false, "combinations")
}

/// A number as Python's math functions take it (bool and int included); `what` names the
/// filter in the error.
fn num(v: &Value, what: &str) -> Result<f64, Error> {
    match v.kind() {
        ValueKind::Number | ValueKind::Bool => py_to_float(v).ok_or_else(|| err("bad number")),
        _ => Err(err(format!("{what}() can only be used on numbers"))),
    }
}

fn float_result(f: f64) -> Result<Value, Error> {
    if f.is_nan() {
        Err(err("math domain error"))
    } else {
        Ok(Value::from(f))
    }
}

fn f_log(v: Value, a: &Args) -> Result<Value, Error> {
    let x = num(&v, "log")?;
    if x <= 0.0 {
        return Err(err("math domain error"));
    }
    match a.get(0) {
        None => float_result(x.ln()),
        Some(b) if py_eq(b, &Value::from(10)) => float_result(x.log10()),
        Some(b) => {
            let b = num(b, "log")?;
            if b <= 0.0 || b == 1.0 {
                return Err(err("math domain error"));
            }
            float_result(x.ln() / b.ln())
        }
    }
}

fn f_pow(v: Value, a: &Args) -> Result<Value, Error> {
    let x = num(&v, "pow")?;
    let y = num(a.values[0].as_ref().unwrap_or(&Value::from(())), "pow")?;
    float_result(x.powf(y))
}

fn f_root(v: Value, a: &Args) -> Result<Value, Error> {
    let x = num(&v, "root")?;
    match a.get(0) {
        None => float_result(x.sqrt()),
        Some(b) if py_eq(b, &Value::from(2)) => float_result(x.sqrt()),
        Some(b) => float_result(x.powf(1.0 / num(b, "root")?)),
    }
}

const SIZES: [(char, u32); 9] = [
    ('Y', 80),
    ('Z', 70),
    ('E', 60),
    ('P', 50),
    ('T', 40),
    ('G', 30),
    ('M', 20),
    ('K', 10),
    ('B', 0),
];

fn f_human_readable(v: Value, a: &Args) -> Result<Value, Error> {
    let size = match v.kind() {
        ValueKind::Number | ValueKind::Bool => py_to_float(&v).unwrap_or(0.0),
        _ => return Err(err("human_readable() failed on bad input")),
    };
    let base = if a.flag(0) { "bits" } else { "Bytes" };
    let unit = a.get(1).map(|u| py_str(u).to_uppercase());
    let (mut suffix, mut shift) = ('B', 0);
    for &(s, sh) in &SIZES {
        (suffix, shift) = (s, sh);
        let hit = match &unit {
            None => size >= 2f64.powi(sh as i32),
            Some(u) => u.starts_with(s),
        };
        if hit {
            break;
        }
    }
    let suffix = if shift != 0 {
        format!("{suffix}{}", &base[..1])
    } else {
        base.to_owned()
    };
    Ok(Value::from(format!(
        "{:.2} {suffix}",
        size / 2f64.powi(shift as i32)
    )))
}

fn f_human_to_bytes(v: Value, a: &Args) -> Result<Value, Error> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"^([0-9]*\.?[0-9]+)(?:\s*([A-Za-z]+))?\s*$").expect("static regex")
    });
    let text = py_str(&v);
    let bad = || err("human_to_bytes() can't interpret the input");
    let caps = re
        .captures(text.strip_suffix('\n').unwrap_or(&text))
        .ok_or_else(bad)?;
    let n: f64 = caps[1].parse().map_err(|_| bad())?;
    let unit = caps
        .get(2)
        .map(|m| m.as_str().to_owned())
        .or_else(|| a.get(0).map(py_str));
    let Some(unit) = unit else {
        return Ok(Value::from(n.round_ties_even() as i64));
    };
    let key = unit.chars().next().ok_or_else(bad)?.to_ascii_uppercase();
    let &(_, shift) = SIZES.iter().find(|(s, _)| *s == key).ok_or_else(bad)?;
    let bits = a.flag(1);
    if unit.chars().count() > 1 {
        let names = [
            ("B", "byte", "bit"),
            ("K", "kilobyte", "kilobit"),
            ("M", "megabyte", "megabit"),
            ("G", "gigabyte", "gigabit"),
            ("T", "terabyte", "terabit"),
            ("P", "petabyte", "petabit"),
            ("E", "exabyte", "exabit"),
            ("Z", "zetabyte", "zetabit"),
            ("Y", "yottabyte", "yottabit"),
        ];
        let (k, byte, bit) = names
            .iter()
            .find(|(k, _, _)| k.starts_with(key))
            .ok_or_else(bad)?;
        let (long, short) = if bits {
            (*bit, format!("{k}b"))
        } else {
            (*byte, format!("{k}B"))
        };
        let short = if key == 'B' {
            (if bits { "b" } else { "B" }).to_owned()
        } else {
            short
        };
        if unit.to_lowercase() != long && unit != short {
            return Err(bad());
        }
    }
    Ok(Value::from(
        (n * 2f64.powi(shift as i32)).round_ties_even() as i64
    ))
}

fn f_rekey_on_member(v: Value, a: &Args) -> Result<Value, Error> {
    let key = a.values[0].clone().unwrap_or_default();
    let duplicates = a.str(1, "error");
    if duplicates != "error" && duplicates != "overwrite" {
        return Err(err(format!(
            "duplicates parameter to rekey_on_member has unknown value '{duplicates}'"
        )));
    }
    let items: Vec<Value> = match v.kind() {
        ValueKind::Map => v
            .try_iter()?
            .map(|k| v.get_item(&k).unwrap_or_default())
            .collect(),
        ValueKind::Seq => v.try_iter()?.collect(),
        _ => return Err(err("Type is not a valid list, set, or dict")),
    };
    let mut out: Vec<(Value, Value)> = Vec::new();
    for item in items {
        if item.kind() != ValueKind::Map {
            return Err(err("List item is not a valid dict"));
        }
        let k = item
            .get_item(&key)
            .ok()
            .filter(|k| !k.is_undefined())
            .ok_or_else(|| err(format!("Key {} was not found.", py_repr(&key))))?;
        match out.iter_mut().find(|(x, _)| py_eq(x, &k)) {
            Some(_) if duplicates == "error" => {
                return Err(err(format!(
                    "Key {} is not unique, cannot continue",
                    py_repr(&k)
                )))
            }
            Some(slot) => slot.1 = item,
            None => out.push((k, item)),
        }
    }
    Ok(dict_from(out))
}

/// urllib.parse.urlsplit, as a dict of its attributes, or one of them.
fn f_urlsplit(v: Value, a: &Args) -> Result<Value, Error> {
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
fn f_urldecode(v: Value, _: &Args) -> Result<Value, Error> {
    let s = py_str(&v).replace('+', " ");
    Ok(Value::from(
        percent_encoding::percent_decode_str(&s)
            .decode_utf8_lossy()
            .into_owned(),
    ))
}
