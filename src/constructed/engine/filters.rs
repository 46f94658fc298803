//! The Ansible filters of the environment whose arguments are plain values, and `combine`.

use super::*;

/// A filter of [`FILTERS`]: called with a value that is not undefined and its arguments.
pub type FilterFn = fn(Value, &Args) -> Result<Value, Error>;

/// The Ansible filters whose arguments are plain values, with their Python parameter names.
/// An undefined value gives undefined, and so does an undefined argument.
pub(super) const FILTERS: &[(&str, FilterFn, &[&str])] = &[
    ("lower", |v, _| Ok(cased(&py_text(&v), false)), &[]),
    ("upper", |v, _| Ok(cased(&py_text(&v), true)), &[]),
    ("string", |v, _| Ok(Value::from(py_str(&v))), &[]),
    ("trim", f_trim, &["chars"]),
    ("replace", f_replace, &["old", "new", "count"]),
    (
        "regex_replace",
        f_regex_replace,
        &[
            "pattern",
            "replacement",
            "ignorecase",
            "multiline",
            "count",
            "mandatory_count",
        ],
    ),
    (
        "regex_findall",
        f_regex_findall,
        &["regex", "multiline", "ignorecase"],
    ),
    ("split", f_split, &["sep", "maxsplit"]),
    ("join", f_join, &["d", "attribute"]),
    ("first", f_first, &[]),
    ("last", f_last, &[]),
    ("length", f_length, &[]),
    ("count", f_length, &[]),
    ("list", |v, _| Ok(Value::from(py_iter(&v, "list")?)), &[]),
    ("sort", f_sort, &["reverse", "case_sensitive", "attribute"]),
    ("unique", f_unique, &["case_sensitive", "attribute"]),
    ("dict2items", f_dict2items, &["key_name", "value_name"]),
    ("items2dict", f_items2dict, &["key_name", "value_name"]),
    ("int", f_int, &["default", "base"]),
    ("float", f_float, &["default"]),
    ("bool", |v, _| Ok(Value::from(to_bool(&v))), &[]),
    ("combine", f_combine, &["*", "recursive", "list_merge"]),
];

/// `s` in upper or lower case. A short ASCII text (most statuses, types and names) is cased
/// on the stack: minijinja keeps a string that short inline, so the value costs no allocation.
pub(super) fn cased(s: &str, upper: bool) -> Value {
    let mut buf = [0u8; 22];
    match buf.get_mut(..s.len()) {
        Some(b) if s.is_ascii() => {
            b.copy_from_slice(s.as_bytes());
            if upper {
                b.make_ascii_uppercase();
            } else {
                b.make_ascii_lowercase();
            }
            Value::from(std::str::from_utf8(b).expect("ASCII"))
        }
        _ if upper => Value::from(s.to_uppercase()),
        _ => Value::from(s.to_lowercase()),
    }
}

/// The filter of [`FILTERS`] called `name`, with its parameter names.
pub fn plain_filter(name: &str) -> Option<(FilterFn, &'static [&'static str])> {
    FILTERS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, f, spec)| (f, spec))
}

pub(super) fn no_undefined(v: &Value) -> Result<(), Error> {
    if v.is_undefined() {
        Err(Error::new(
            ErrorKind::UndefinedError,
            "an undefined value was used",
        ))
    } else {
        Ok(())
    }
}

pub(super) fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Positional and keyword arguments of an Ansible filter, by Python parameter name.
pub struct Args {
    /// By the position of the name in the filter's spec (six at most: `regex_replace`); an
    /// array, as a filter call is too short for an allocation not to show.
    pub(super) values: [Option<Value>; 6],
    /// Extra positional arguments when the spec starts with "*" (combine).
    pub(super) star: Vec<Value>,
}

impl Args {
    /// `None` when an argument is undefined: the filter's result is then undefined too.
    pub fn parse(
        rest: &[ValueOrKwargs],
        filter: &str,
        spec: &[&str],
    ) -> Result<Option<Args>, Error> {
        let (star_spec, names) = match spec.first() {
            Some(&"*") => (true, &spec[1..]),
            _ => (false, spec),
        };
        debug_assert!(
            names.len() <= 6,
            "{filter} takes more arguments than Args holds"
        );
        let mut values: [Option<Value>; 6] = Default::default();
        let mut star = Vec::new();
        let mut positional = 0;
        for arg in rest.iter().map(|a| &**a) {
            if arg.is_kwargs() {
                let kwargs = Kwargs::try_from(arg.clone())?;
                for key in kwargs.args() {
                    let Some(i) = names.iter().position(|n| *n == key) else {
                        return Err(err(format!(
                            "{filter}() got an unexpected keyword argument '{key}'"
                        )));
                    };
                    let v: Value = kwargs.get(key)?;
                    if v.is_undefined() {
                        return Ok(None);
                    }
                    values[i] = Some(v);
                }
                continue;
            }
            if arg.is_undefined() {
                return Ok(None);
            }
            if star_spec {
                star.push(arg.clone());
            } else if positional < names.len() {
                values[positional] = Some(arg.clone());
                positional += 1;
            } else {
                return Err(err(format!("{filter}() got too many arguments")));
            }
        }
        Ok(Some(Args { values, star }))
    }

    pub(super) fn get(&self, i: usize) -> Option<&Value> {
        self.values[i].as_ref().filter(|v| !v.is_none())
    }

    pub(super) fn flag(&self, i: usize) -> bool {
        self.values[i].as_ref().is_some_and(Value::is_true)
    }

    /// [`Args::str`] with an empty default, borrowing a string argument.
    pub(super) fn text(&self, i: usize) -> std::borrow::Cow<'_, str> {
        self.get(i).map_or(std::borrow::Cow::Borrowed(""), py_text)
    }

    pub(super) fn str(&self, i: usize, default: &str) -> String {
        self.get(i)
            .map(py_str)
            .unwrap_or_else(|| default.to_owned())
    }

    pub(super) fn int(&self, i: usize, default: i64) -> Result<i64, Error> {
        match self.get(i) {
            None => Ok(default),
            Some(v) if v.kind() == ValueKind::Bool => Ok(v.is_true() as i64),
            Some(v) => v
                .as_i64()
                .ok_or_else(|| err(format!("an integer is required, got {}", py_repr(v)))),
        }
    }
}

/// Jinja's `default(default_value='', boolean=False)`; the default may be `none`.
pub(super) fn f_default(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let mut default = Value::from("");
    let mut boolean = false;
    let mut positional = 0;
    for arg in rest.iter().map(|a| &**a) {
        if arg.is_kwargs() {
            let kwargs = Kwargs::try_from(arg.clone())?;
            for key in kwargs.args() {
                let v: Value = kwargs.get(key)?;
                match key {
                    "default_value" => default = v,
                    "boolean" => boolean = v.is_true(),
                    _ => {
                        return Err(err(format!(
                            "default() got an unexpected keyword argument '{key}'"
                        )))
                    }
                }
            }
        } else {
            match positional {
                0 => default = arg.clone(),
                1 => boolean = arg.is_true(),
                _ => return Err(err("default() got too many arguments")),
            }
            positional += 1;
        }
    }
    Ok(defaulted(value, default, boolean))
}

/// What `default(default, boolean)` gives for `value`.
pub fn defaulted(value: Value, default: Value, boolean: bool) -> Value {
    if value.is_undefined() || (boolean && !value.is_true()) {
        default
    } else {
        value
    }
}

pub(super) fn f_trim(v: Value, a: &Args) -> Result<Value, Error> {
    let s = py_str(&v);
    Ok(Value::from(match a.get(0) {
        None => s.trim().to_owned(),
        Some(chars) => {
            let chars = py_str(chars);
            s.trim_matches(|c| chars.contains(c)).to_owned()
        }
    }))
}

pub(super) fn f_replace(v: Value, a: &Args) -> Result<Value, Error> {
    let s = py_str(&v);
    let (old, new) = (a.str(0, ""), a.str(1, ""));
    let count = a.int(2, -1)?;
    Ok(Value::from(if count < 0 {
        s.replace(&old, &new)
    } else {
        s.replacen(&old, &new, count as usize)
    }))
}

pub(super) type RegexCache = HashMap<String, Vec<((bool, bool), Rc<regex::Regex>)>>;

thread_local! {
    static REGEX_CACHE: RefCell<RegexCache> = RefCell::new(HashMap::new());
}

/// Compiled once per pattern and flags: patterns are constants of the configuration, and
/// compiling one costs more than evaluating a whole entry. Shared, not cloned: a cloned
/// Regex starts with an empty match cache, which is as slow as compiling.
pub(super) fn regex(
    pattern: &str,
    ignorecase: bool,
    multiline: bool,
) -> Result<Rc<regex::Regex>, Error> {
    REGEX_CACHE.with(|cache| {
        let flags = (ignorecase, multiline);
        if let Some(list) = cache.borrow().get(pattern) {
            if let Some((_, re)) = list.iter().find(|(f, _)| *f == flags) {
                return Ok(re.clone());
            }
        }
        let re = regex::RegexBuilder::new(pattern)
            .case_insensitive(ignorecase)
            .multi_line(multiline)
            .build()
            .map_err(|e| err(format!("invalid regular expression {pattern:?}: {e}")))?;
        let re = Rc::new(re);
        let mut cache = cache.borrow_mut();
        if cache.len() > 1024 {
            cache.clear();
        }
        cache
            .entry(pattern.to_owned())
            .or_default()
            .push((flags, re.clone()));
        Ok(re)
    })
}

/// One piece of a Python `re.sub` replacement template.
pub(super) enum Repl {
    Text(String),
    Group(usize),
    Named(String),
}

pub(super) fn parse_replacement(t: &str) -> Result<Vec<Repl>, Error> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        let Some(n) = chars.next() else {
            return Err(err("bad escape (end of pattern)"));
        };
        let group = match n {
            'g' => {
                if chars.next() != Some('<') {
                    return Err(err("missing < in \\g group reference"));
                }
                let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
                match name.parse::<usize>() {
                    Ok(i) => Some(Repl::Group(i)),
                    Err(_) => Some(Repl::Named(name)),
                }
            }
            '0'..='9' => {
                let mut num = n.to_digit(10).unwrap_or(0) as usize;
                if let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                    num = num * 10 + d as usize;
                    chars.next();
                }
                Some(Repl::Group(num))
            }
            'n' => {
                text.push('\n');
                None
            }
            't' => {
                text.push('\t');
                None
            }
            'r' => {
                text.push('\r');
                None
            }
            '\\' => {
                text.push('\\');
                None
            }
            c if c.is_ascii_alphabetic() => return Err(err(format!("bad escape \\{c}"))),
            c => {
                text.push('\\');
                text.push(c);
                None
            }
        };
        if let Some(g) = group {
            if !text.is_empty() {
                parts.push(Repl::Text(std::mem::take(&mut text)));
            }
            parts.push(g);
        }
    }
    if !text.is_empty() {
        parts.push(Repl::Text(text));
    }
    Ok(parts)
}

pub(super) fn f_regex_replace(v: Value, a: &Args) -> Result<Value, Error> {
    let s = py_text(&v);
    let re = regex(&a.text(0), a.flag(2), a.flag(3))?;
    let parts = parse_replacement(&a.text(1))?;
    let count = a.int(4, 0)?;
    let mandatory = a.int(5, 0)?;
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut subs = 0;
    for caps in re.captures_iter(&s) {
        if count > 0 && subs >= count {
            break;
        }
        let m = caps.get(0).expect("group 0");
        out.push_str(&s[last..m.start()]);
        for p in &parts {
            match p {
                Repl::Text(t) => out.push_str(t),
                Repl::Group(i) => {
                    if *i >= caps.len() {
                        return Err(err(format!("invalid group reference {i}")));
                    }
                    out.push_str(caps.get(*i).map_or("", |m| m.as_str()));
                }
                Repl::Named(n) => match re.capture_names().flatten().any(|x| x == n) {
                    true => out.push_str(caps.name(n).map_or("", |m| m.as_str())),
                    false => return Err(err(format!("unknown group name '{n}'"))),
                },
            }
        }
        last = m.end();
        subs += 1;
    }
    out.push_str(&s[last..]);
    if mandatory != 0 && mandatory != subs {
        return Err(err(format!(
            "'{}' should match {mandatory} times, but matches {subs} times in '{s}'",
            a.str(0, "")
        )));
    }
    Ok(Value::from(out))
}

pub(super) fn f_regex_search(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let mut pattern = None;
    let mut groups = Vec::new();
    let (mut ignorecase, mut multiline) = (false, false);
    for arg in rest.iter().map(|a| &**a) {
        if arg.is_kwargs() {
            let kwargs = Kwargs::try_from(arg.clone())?;
            for key in kwargs.args() {
                let v: Value = kwargs.get(key)?;
                match key {
                    "ignorecase" => ignorecase = v.is_true(),
                    "multiline" => multiline = v.is_true(),
                    _ => {}
                }
            }
        } else if arg.is_undefined() {
            return Ok(Value::UNDEFINED);
        } else if pattern.is_none() {
            pattern = Some(py_str(arg));
        } else {
            let g = py_str(arg);
            if let Some(name) = g.strip_prefix("\\g<").and_then(|r| r.strip_suffix('>')) {
                groups.push(match name.parse::<usize>() {
                    Ok(i) => Repl::Group(i),
                    Err(_) => Repl::Named(name.to_owned()),
                });
            } else if let Some(n) = g.strip_prefix('\\').and_then(|r| {
                let digits: String = r.chars().take_while(char::is_ascii_digit).collect();
                digits.parse::<usize>().ok()
            }) {
                groups.push(Repl::Group(n));
            } else {
                return Err(err("Unknown argument"));
            }
        }
    }
    let s = py_str(&value);
    let re = regex(&pattern.unwrap_or_default(), ignorecase, multiline)?;
    let Some(caps) = re.captures(&s) else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(caps.get(0).map_or("", |m| m.as_str())));
    }
    let mut out = Vec::new();
    for g in groups {
        let m = match g {
            Repl::Group(i) if i < caps.len() => caps.get(i),
            Repl::Named(n) => caps.name(&n),
            _ => return Err(err("no such group")),
        };
        out.push(m.map_or(Value::from(()), |m| Value::from(m.as_str())));
    }
    Ok(Value::from(out))
}

pub(super) fn f_regex_findall(v: Value, a: &Args) -> Result<Value, Error> {
    let s = py_str(&v);
    let re = regex(&a.str(0, ""), a.flag(2), a.flag(1))?;
    let ngroups = re.captures_len() - 1;
    let out: Vec<Value> = re
        .captures_iter(&s)
        .map(|caps| {
            let g = |i: usize| Value::from(caps.get(i).map_or("", |m| m.as_str()));
            match ngroups {
                0 => g(0),
                1 => g(1),
                n => Value::from((1..=n).map(g).collect::<Vec<_>>()),
            }
        })
        .collect();
    Ok(Value::from(out))
}

/// Python's `str.split(sep=None, maxsplit=-1)`.
pub(super) fn f_split(v: Value, a: &Args) -> Result<Value, Error> {
    let s = py_str(&v);
    let maxsplit = a.int(1, -1)?;
    let parts: Vec<Value> = match a.get(0) {
        Some(sep) => {
            let sep = py_str(sep);
            if sep.is_empty() {
                return Err(err("empty separator"));
            }
            if maxsplit < 0 {
                s.split(sep.as_str()).map(Value::from).collect()
            } else {
                s.splitn(maxsplit as usize + 1, sep.as_str())
                    .map(Value::from)
                    .collect()
            }
        }
        None => {
            let mut out = Vec::new();
            let mut rest = s.trim_start();
            while !rest.is_empty() {
                if maxsplit >= 0 && out.len() as i64 == maxsplit {
                    out.push(Value::from(rest));
                    break;
                }
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                out.push(Value::from(&rest[..end]));
                rest = rest[end..].trim_start();
            }
            out
        }
    };
    Ok(Value::from(parts))
}

/// Python's `iter(value)` as a list: a string gives its characters, a dict its keys.
pub(super) fn py_iter(v: &Value, what: &str) -> Result<Vec<Value>, Error> {
    match v.kind() {
        ValueKind::String => Ok(v
            .as_str()
            .unwrap_or_default()
            .chars()
            .map(Value::from)
            .collect()),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => Ok(v.try_iter()?.collect()),
        _ => Err(err(format!(
            "{what}: '{}' object is not iterable",
            py_type(v)
        ))),
    }
}

/// Ansible's `is_sequence`: a list, not a string or a mapping. minijinja's lazy sequences (of
/// `+`, `range`, `reverse`, `map`...) are lists too, as Ansible 2.19 has them.
pub fn is_seq(v: &Value) -> bool {
    matches!(v.kind(), ValueKind::Seq | ValueKind::Iterable)
}

pub fn py_type(v: &Value) -> &'static str {
    match v.kind() {
        ValueKind::Undefined => "AnsibleUndefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if v.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Seq | ValueKind::Iterable => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
}

/// `attribute="a.b,c"` as Jinja's `make_multi_attrgetter` reads it.
pub(super) fn attr_get(item: &Value, attribute: Option<&str>) -> Result<Vec<Value>, Error> {
    let Some(attribute) = attribute else {
        return Ok(vec![item.clone()]);
    };
    attribute
        .split(',')
        .map(|path| {
            let mut v = item.clone();
            for part in path.split('.') {
                let next = match part.parse::<i64>() {
                    Ok(i) => v.get_item(&Value::from(i))?,
                    Err(_) => v.get_attr(part)?,
                };
                if next.is_undefined() {
                    return Err(Error::new(
                        ErrorKind::UndefinedError,
                        format!("object of type '{}' has no attribute '{part}'", py_type(&v)),
                    ));
                }
                v = next;
            }
            Ok(v)
        })
        .collect()
}

pub(super) fn fold_case(keys: Vec<Value>, case_sensitive: bool) -> Vec<Value> {
    if case_sensitive {
        return keys;
    }
    keys.into_iter()
        .map(|k| match k.as_str() {
            Some(s) => Value::from(s.to_lowercase()),
            None => k,
        })
        .collect()
}

pub(super) fn f_sort(v: Value, a: &Args) -> Result<Value, Error> {
    let items = py_iter(&v, "sort")?;
    let attribute = a.get(2).map(py_str);
    let mut keyed = items
        .into_iter()
        .map(|item| {
            let key = fold_case(attr_get(&item, attribute.as_deref())?, a.flag(1));
            Ok((key, item))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let reverse = a.flag(0);
    let mut failure = None;
    keyed.sort_by(|(ka, _), (kb, _)| {
        let r = if reverse {
            py_cmp_seq(kb, ka)
        } else {
            py_cmp_seq(ka, kb)
        };
        r.unwrap_or_else(|e| {
            failure.get_or_insert(e);
            Ordering::Equal
        })
    });
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(Value::from(
        keyed.into_iter().map(|(_, item)| item).collect::<Vec<_>>(),
    ))
}

pub(super) fn f_unique(v: Value, a: &Args) -> Result<Value, Error> {
    let items = py_iter(&v, "unique")?;
    let attribute = a.get(1).map(py_str);
    let mut seen: Vec<Vec<Value>> = Vec::new();
    let mut out = Vec::new();
    for item in items {
        let key = fold_case(attr_get(&item, attribute.as_deref())?, a.flag(0));
        if !seen.iter().any(|k| py_eq_seq(k, &key)) {
            seen.push(key);
            out.push(item);
        }
    }
    Ok(Value::from(out))
}

pub(super) fn f_join(v: Value, a: &Args) -> Result<Value, Error> {
    let sep = a.str(0, "");
    let attribute = a.get(1).map(py_str);
    let items = py_iter(&v, "join")?;
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(&sep);
        }
        match &attribute {
            Some(attr) => out.push_str(&py_str(&attr_get(item, Some(attr))?[0])),
            None => out.push_str(&py_str(item)),
        }
    }
    Ok(Value::from(out))
}

pub(super) fn f_first(v: Value, _: &Args) -> Result<Value, Error> {
    Ok(py_iter(&v, "first")?
        .into_iter()
        .next()
        .unwrap_or(Value::UNDEFINED))
}

pub(super) fn f_last(v: Value, _: &Args) -> Result<Value, Error> {
    Ok(py_iter(&v, "last")?.pop().unwrap_or(Value::UNDEFINED))
}

pub(super) fn f_length(v: Value, _: &Args) -> Result<Value, Error> {
    match v.kind() {
        ValueKind::String => Ok(Value::from(v.as_str().unwrap_or_default().chars().count())),
        ValueKind::Seq | ValueKind::Map => Ok(Value::from(v.len().unwrap_or(0))),
        ValueKind::Iterable => Ok(Value::from(v.try_iter()?.count())),
        _ => Err(err(format!(
            "object of type '{}' has no len()",
            py_type(&v)
        ))),
    }
}

pub(super) fn f_dict2items(v: Value, a: &Args) -> Result<Value, Error> {
    if v.kind() != ValueKind::Map {
        return Err(err(format!(
            "dict2items requires a dictionary, got {} instead.",
            py_type(&v)
        )));
    }
    let (kn, vn) = (a.str(0, "key"), a.str(1, "value"));
    let out: Vec<Value> = v
        .try_iter()?
        .map(|k| {
            let val = v.get_item(&k).unwrap_or_default();
            Value::from_pairs([
                (Value::from(kn.as_str()), k),
                (Value::from(vn.as_str()), val),
            ])
        })
        .collect();
    Ok(Value::from(out))
}

pub(super) fn f_items2dict(v: Value, a: &Args) -> Result<Value, Error> {
    if !matches!(v.kind(), ValueKind::Seq | ValueKind::Iterable) {
        return Err(err(format!(
            "items2dict requires a list, got {} instead.",
            py_type(&v)
        )));
    }
    let (kn, vn) = (a.str(0, "key"), a.str(1, "value"));
    let mut pairs = Vec::new();
    for item in v.try_iter()? {
        if item.kind() != ValueKind::Map {
            return Err(err(format!(
                "items2dict requires a list of dictionaries, got {} instead.",
                py_repr(&v)
            )));
        }
        let (k, val) = (item.get_attr(&kn)?, item.get_attr(&vn)?);
        if k.is_undefined() || val.is_undefined() {
            return Err(err(format!(
                "items2dict requires each dictionary in the list to contain the keys '{kn}' and '{vn}', got {} instead.",
                py_repr(&v)
            )));
        }
        pairs.push((k, val));
    }
    Ok(dict_from(pairs))
}

/// A dict from pairs, later keys replacing earlier ones in place (Python's dict).
pub(super) fn dict_from(pairs: Vec<(Value, Value)>) -> Value {
    Value::from_pairs(pairs)
}

pub(super) fn f_combine(v: Value, a: &Args) -> Result<Value, Error> {
    let mut terms = Vec::new();
    for t in std::iter::once(v).chain(a.star.iter().cloned()) {
        if matches!(t.kind(), ValueKind::Seq | ValueKind::Iterable) {
            terms.extend(t.try_iter()?);
        } else {
            terms.push(t);
        }
    }
    let recursive = a.flag(0);
    let list_merge = a.str(1, "replace");
    if !matches!(
        list_merge.as_str(),
        "replace" | "keep" | "append" | "prepend" | "append_rp" | "prepend_rp"
    ) {
        return Err(err(format!("merge_hash: 'list_merge' argument can only be equal to 'replace', 'keep', 'append', 'prepend', 'append_rp' or 'prepend_rp', got {list_merge}")));
    }
    let mut iter = terms.into_iter();
    let Some(mut acc) = iter.next() else {
        return Ok(dict_from(Vec::new()));
    };
    check_dict(&acc)?;
    for t in iter {
        check_dict(&t)?;
        acc = merge_hash(&acc, &t, recursive, &list_merge)?;
    }
    Ok(acc)
}

pub(super) fn check_dict(v: &Value) -> Result<(), Error> {
    if v.kind() != ValueKind::Map {
        return Err(err(format!(
            "failed to combine variables, expected dicts but got a '{}'",
            py_type(v)
        )));
    }
    Ok(())
}

/// Ansible's `merge_hash(x, y)`: y wins; nested dicts merge when recursive; lists follow
/// `list_merge`.
pub(super) fn merge_hash(
    x: &Value,
    y: &Value,
    recursive: bool,
    list_merge: &str,
) -> Result<Value, Error> {
    let mut pairs: Vec<(Value, Value)> = x
        .try_iter()?
        .map(|k| {
            let v = x.get_item(&k).unwrap_or_default();
            (k, v)
        })
        .collect();
    for k in y.try_iter()? {
        let yv = y.get_item(&k)?;
        let slot = pairs.iter().position(|(pk, _)| pk == &k);
        let merged = match slot.map(|i| &pairs[i].1) {
            Some(xv) if recursive && xv.kind() == ValueKind::Map && yv.kind() == ValueKind::Map => {
                merge_hash(xv, &yv, recursive, list_merge)?
            }
            Some(xv) if is_seq(xv) && is_seq(&yv) => {
                let xs: Vec<Value> = xv.try_iter()?.collect();
                let ys: Vec<Value> = yv.try_iter()?.collect();
                let without = |a: &[Value], b: &[Value]| -> Vec<Value> {
                    a.iter()
                        .filter(|z| !b.iter().any(|w| py_eq(w, z)))
                        .cloned()
                        .collect()
                };
                match list_merge {
                    "keep" => xv.clone(),
                    "append" => Value::from([xs, ys].concat()),
                    "prepend" => Value::from([ys, xs].concat()),
                    "append_rp" => Value::from([without(&xs, &ys), ys].concat()),
                    "prepend_rp" => Value::from([ys.clone(), without(&xs, &ys)].concat()),
                    _ => yv,
                }
            }
            _ => yv,
        };
        match slot {
            Some(i) => pairs[i].1 = merged,
            None => pairs.push((k, merged)),
        }
    }
    Ok(dict_from(pairs))
}
