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
    // Jinja2 builtins where minijinja's differ: positional arguments, Python's bool as int.
    ("abs", f_abs, &[]),
    ("dictsort", f_dictsort, &["case_sensitive", "by", "reverse"]),
];

pub(super) fn register(env: &mut Environment<'static>) {
    add_plain_filters(env, ANSIBLE_FILTERS);
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
    let text = py_text(&v);
    let bytes = a2b_base64(text.as_bytes(), a.flag(1)).map_err(err)?;
    String::from_utf8(bytes)
        .map(Value::from)
        .map_err(|_| err("b64decode: the decoded bytes are not UTF-8"))
}

/// CPython's `binascii.a2b_base64` (not strict): characters outside the alphabet are
/// skipped, and a complete padding ends the input.
fn a2b_base64(input: &[u8], urlsafe: bool) -> Result<Vec<u8>, String> {
    let (mut quad_pos, mut pads, mut left, mut data) = (0u8, 0u8, 0u8, 0usize);
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    for &c in input {
        if c == b'=' {
            if quad_pos >= 2 {
                pads += 1;
                if quad_pos + pads >= 4 {
                    return Ok(out);
                }
            }
            continue;
        }
        let x = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'-' if urlsafe => 62,
            b'_' if urlsafe => 63,
            _ => continue,
        };
        pads = 0;
        data += 1;
        match quad_pos {
            0 => left = x,
            1 => {
                out.push((left << 2) | (x >> 4));
                left = x & 0x0f;
            }
            2 => {
                out.push((left << 4) | (x >> 2));
                left = x & 0x03;
            }
            _ => out.push((left << 6) | x),
        }
        quad_pos = (quad_pos + 1) % 4;
    }
    match quad_pos {
        0 => Ok(out),
        1 => Err(format!("Invalid base64-encoded string: number of data characters ({data}) cannot be 1 more than a multiple of 4")),
        _ => Err("Incorrect padding".to_owned()),
    }
}

fn f_to_uuid(v: Value, a: &Args) -> Result<Value, Error> {
    let ns = a.str(0, "361E6D51-FAEC-444A-9079-341386DA8E2E");
    let ns = uuid::Uuid::parse_str(&ns)
        .map_err(|e| err(format!("Invalid value '{ns}' for 'namespace': {e}")))?;
    Ok(Value::from(
        uuid::Uuid::new_v5(&ns, py_text(&v).as_bytes()).to_string(),
    ))
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
        Some(m) if is_seq(m) => keys.extend(m.try_iter()?),
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
        _ if is_seq(&v) => v.try_iter()?.collect(),
        _ => return Err(err("obj must be a list of dicts or a nested dict")),
    };
    let path: Vec<Value> = match a.values[0].as_ref() {
        Some(s) if s.kind() == ValueKind::String => {
            py_text(s).split('.').map(Value::from).collect()
        }
        Some(s) if is_seq(s) => s.try_iter()?.collect(),
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
        if !is_seq(&values) {
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
        _ if is_seq(&v) => v.try_iter()?.collect(),
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

fn f_abs(v: Value, _: &Args) -> Result<Value, Error> {
    match v.kind() {
        ValueKind::Bool => Ok(Value::from(v.is_true() as i64)),
        ValueKind::Number if v.is_integer() => v
            .as_i64()
            .and_then(i64::checked_abs)
            .map(Value::from)
            .ok_or_else(|| err("abs: integer out of range")),
        ValueKind::Number => Ok(Value::from(py_to_float(&v).unwrap_or(f64::NAN).abs())),
        _ => Err(err(format!(
            "bad operand type for abs(): '{}'",
            py_type(&v)
        ))),
    }
}

/// Jinja's dictsort: the (key, value) pairs sorted by key or value, strings compared
/// lower-cased unless `case_sensitive`.
fn f_dictsort(v: Value, a: &Args) -> Result<Value, Error> {
    if v.kind() != ValueKind::Map {
        return Err(err("You can only sort by either \"key\" or \"value\""));
    }
    let by = match a.str(1, "key").as_str() {
        "key" => 0,
        "value" => 1,
        _ => return Err(err("You can only sort by either \"key\" or \"value\"")),
    };
    let case_sensitive = a.flag(0);
    let mut pairs: Vec<(Value, Value)> = v
        .try_iter()?
        .map(|k| {
            let x = v.get_item(&k).unwrap_or_default();
            (k, x)
        })
        .collect();
    let key = |p: &(Value, Value)| {
        let x = if by == 0 { &p.0 } else { &p.1 };
        match x.as_str() {
            Some(s) if !case_sensitive => Value::from(s.to_lowercase()),
            _ => x.clone(),
        }
    };
    let mut failed = None;
    pairs.sort_by(|p, q| {
        py_cmp(&key(p), &key(q)).unwrap_or_else(|e| {
            failed = Some(e);
            Ordering::Equal
        })
    });
    if let Some(e) = failed {
        return Err(e);
    }
    if a.flag(2) {
        pairs.reverse();
    }
    Ok(Value::from(
        pairs
            .into_iter()
            .map(|(k, x)| Value::from(vec![k, x]))
            .collect::<Vec<_>>(),
    ))
}
