//! Jinja2 builtin filters whose minijinja versions differ from Jinja2's (or are missing), as
//! Jinja2 3.1 (Ansible's) writes them: text layout, HTML escaping, `tojson`, `urlencode`,
//! `filesizeformat` and `groupby`.

use super::*;

const JINJA_FILTERS: &[(&str, FilterFn, &[&str])] = &[
    ("title", f_title, &[]),
    ("wordcount", f_wordcount, &[]),
    ("center", f_center, &["width"]),
    (
        "truncate",
        f_truncate,
        &["length", "killwords", "end", "leeway"],
    ),
    ("indent", f_indent, &["width", "first", "blank"]),
    ("urlencode", f_urlencode, &[]),
    ("filesizeformat", f_filesizeformat, &["binary"]),
    ("tojson", f_tojson, &["indent"]),
    (
        "escape",
        |v, _| Ok(Value::from(html_escape(&py_str(&v)))),
        &[],
    ),
    ("e", |v, _| Ok(Value::from(html_escape(&py_str(&v)))), &[]),
    (
        "forceescape",
        |v, _| Ok(Value::from(html_escape(&py_str(&v)))),
        &[],
    ),
    ("safe", |v, _| Ok(Value::from(py_str(&v))), &[]),
    (
        "groupby",
        f_groupby,
        &["attribute", "default", "case_sensitive"],
    ),
];

pub(super) fn register(env: &mut Environment<'static>) {
    add_plain_filters(env, JINJA_FILTERS);
}

fn f_title(v: Value, _: &Args) -> Result<Value, Error> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r"[-\s({\[<]+").expect("static regex"));
    let s = py_str(&v);
    let word = |w: &str| {
        let mut c = w.chars();
        c.next().map_or(String::new(), |f| {
            f.to_uppercase()
                .chain(c.as_str().to_lowercase().chars())
                .collect()
        })
    };
    // re.split with a capturing group keeps the separators, which stay as they are.
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for m in re.find_iter(&s) {
        out.push_str(&word(&s[last..m.start()]));
        out.push_str(&word(m.as_str()));
        last = m.end();
    }
    out.push_str(&word(&s[last..]));
    Ok(Value::from(out))
}

fn f_wordcount(v: Value, _: &Args) -> Result<Value, Error> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r"\w+").expect("static regex"));
    Ok(Value::from(re.find_iter(&py_str(&v)).count()))
}

/// Python's str.center: the odd space goes left when the width is odd.
fn f_center(v: Value, a: &Args) -> Result<Value, Error> {
    let s = py_str(&v);
    let width = a.int(0, 80)?;
    let len = s.chars().count() as i64;
    if width <= len {
        return Ok(Value::from(s));
    }
    let pad = width - len;
    let left = pad / 2 + (pad & width & 1);
    Ok(Value::from(format!(
        "{}{s}{}",
        " ".repeat(left as usize),
        " ".repeat((pad - left) as usize)
    )))
}

fn f_truncate(v: Value, a: &Args) -> Result<Value, Error> {
    let s = py_str(&v);
    let length = a.int(0, 255)?;
    let end = a.str(2, "...");
    let leeway = a.int(3, 5)?;
    let end_len = end.chars().count() as i64;
    if length < end_len {
        return Err(err(format!("expected length >= {end_len}, got {length}")));
    }
    if leeway < 0 {
        return Err(err(format!("expected leeway >= 0, got {leeway}")));
    }
    let chars: Vec<char> = s.chars().collect();
    if chars.len() as i64 <= length + leeway {
        return Ok(Value::from(s));
    }
    let head: String = chars[..(length - end_len) as usize].iter().collect();
    if a.flag(1) {
        return Ok(Value::from(head + &end));
    }
    let kept = head.rsplit_once(' ').map_or(head.as_str(), |(k, _)| k);
    Ok(Value::from(format!("{kept}{end}")))
}

/// Python's str.splitlines (without the line ends) of a text that ends with a line end, as
/// `indent` makes it: no text follows the last one.
fn splitlines(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if matches!(
            c,
            '\n' | '\r'
                | '\u{b}'
                | '\u{c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        ) {
            out.push(&s[start..i]);
            let mut next = i + c.len_utf8();
            if c == '\r' && it.peek().is_some_and(|&(_, n)| n == '\n') {
                it.next();
                next += 1;
            }
            start = next;
        }
    }
    out
}

fn f_indent(v: Value, a: &Args) -> Result<Value, Error> {
    let indention = match a.get(0) {
        Some(w) if w.kind() == ValueKind::String => py_str(w),
        _ => " ".repeat(usize::try_from(a.int(0, 4)?).unwrap_or(0)),
    };
    let s = py_str(&v) + "\n";
    let lines = splitlines(&s);
    let mut rv = if a.flag(2) {
        lines.join(&format!("\n{indention}"))
    } else {
        let mut rv = lines.first().copied().unwrap_or("").to_owned();
        for line in lines.iter().skip(1) {
            rv.push('\n');
            if !line.is_empty() {
                rv.push_str(&indention);
            }
            rv.push_str(line);
        }
        rv
    };
    if a.flag(1) {
        rv.insert_str(0, &indention);
    }
    Ok(Value::from(rv))
}

/// urllib.parse.quote of the UTF-8 text; `/` stays unless `for_qs`, which also writes
/// spaces as `+`.
fn url_quote(v: &Value, for_qs: bool) -> String {
    let mut out = String::new();
    for b in py_str(v).bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) || (!for_qs && b == b'/') {
            out.push(b as char);
        } else if for_qs && b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn f_urlencode(v: Value, _: &Args) -> Result<Value, Error> {
    let pairs: Vec<(Value, Value)> = match v.kind() {
        ValueKind::Map => v
            .try_iter()?
            .map(|k| {
                let x = v.get_item(&k).unwrap_or_default();
                (k, x)
            })
            .collect(),
        _ if is_seq(&v) => v
            .try_iter()?
            .map(|item| {
                let kv: Vec<Value> = py_iter(&item, "urlencode")?;
                match <[Value; 2]>::try_from(kv) {
                    Ok([k, x]) => Ok((k, x)),
                    Err(_) => Err(err("urlencode: each item must be a (key, value) pair")),
                }
            })
            .collect::<Result<_, Error>>()?,
        _ => return Ok(Value::from(url_quote(&v, false))),
    };
    Ok(Value::from(
        pairs
            .iter()
            .map(|(k, x)| format!("{}={}", url_quote(k, true), url_quote(x, true)))
            .collect::<Vec<_>>()
            .join("&"),
    ))
}

fn f_filesizeformat(v: Value, a: &Args) -> Result<Value, Error> {
    let bytes = py_to_float(&v)
        .ok_or_else(|| err(format!("could not convert {} to float", py_repr(&v))))?;
    let binary = a.flag(0);
    let base: f64 = if binary { 1024.0 } else { 1000.0 };
    let prefixes: [&str; 8] = if binary {
        ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
    } else {
        ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    };
    if bytes == 1.0 {
        return Ok(Value::from("1 Byte"));
    }
    if bytes < base {
        return Ok(Value::from(format!("{} Bytes", bytes.trunc() as i64)));
    }
    let mut unit = base;
    for (i, prefix) in prefixes.iter().enumerate() {
        unit = base.powi(i as i32 + 2);
        if bytes < unit {
            return Ok(Value::from(format!("{:.1} {prefix}", base * bytes / unit)));
        }
    }
    // Past the last unit, Jinja writes the number in the last one.
    Ok(Value::from(format!(
        "{:.1} {}",
        base * bytes / unit,
        prefixes[7]
    )))
}

/// Jinja's htmlsafe_json_dumps with Jinja's default policy (sorted keys).
fn f_tojson(v: Value, a: &Args) -> Result<Value, Error> {
    let indent = match a.get(0) {
        None => None,
        Some(_) => Some(usize::try_from(a.int(0, 0)?).unwrap_or(0)),
    };
    let dumper = PyJson {
        indent,
        sort_keys: true,
        ascii: true,
        sep: if indent.is_some() { "," } else { ", " },
        colon: ": ",
    };
    let mut out = String::new();
    dumper.dump(&v, 0, &mut out)?;
    Ok(Value::from(
        out.replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026")
            .replace('\'', "\\u0027"),
    ))
}

/// markupsafe.escape
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Jinja's groupby: sorted by the attribute (lower-cased unless `case_sensitive`), then
/// `[grouper, items]` for each run of equal keys; the grouper is its first item's value.
fn f_groupby(v: Value, a: &Args) -> Result<Value, Error> {
    let attribute = a.str(0, "");
    let case_sensitive = a.flag(2);
    let mut keyed = Vec::new();
    for item in py_iter(&v, "groupby")? {
        let value = attr_get(&item, Some(&attribute))?.pop().unwrap_or_default();
        let key = match value.as_str() {
            Some(s) if !case_sensitive => Value::from(s.to_lowercase()),
            _ => value.clone(),
        };
        keyed.push((key, value, item));
    }
    let mut failed = None;
    keyed.sort_by(|x, y| {
        py_cmp(&x.0, &y.0).unwrap_or_else(|e| {
            failed = Some(e);
            Ordering::Equal
        })
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let mut groups: Vec<(Value, Value, Vec<Value>)> = Vec::new();
    for (key, value, item) in keyed {
        match groups.last_mut() {
            Some(g) if py_eq(&g.0, &key) => g.2.push(item),
            _ => groups.push((key, value, vec![item])),
        }
    }
    Ok(Value::from(
        groups
            .into_iter()
            .map(|(_, grouper, items)| Value::from(vec![grouper, Value::from(items)]))
            .collect::<Vec<_>>(),
    ))
}
