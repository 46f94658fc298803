//! The Jinja environment: minijinja with the Ansible filters and tests that constructed
//! configurations use, and conversions between JSON and minijinja values.
//!
//! Undefined values follow Ansible 2.19: a missing variable or key is undefined; looking an
//! attribute up on it, or passing it through a filter, stays undefined; `default`, `defined`
//! and `undefined` see it; any other use (an operator, a truth test, a result) is an error.
//! minijinja's `Strict` mode gives all of that except the chained lookup (`a.b.c` with `a.b`
//! missing is an error at once), so an expression that fails on an undefined value and could
//! catch one is evaluated again in `Chainable` mode (see `Compiled::eval`).

use super::pystr::{py_float, py_repr, py_str, py_text};
use minijinja::value::{Kwargs, Rest, Value, ValueKind, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

/// The shared environments: configuration only holds compiled expressions.
pub fn strict_env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| build_env(UndefinedBehavior::Strict))
}

pub fn chainable_env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| build_env(UndefinedBehavior::Chainable))
}

fn build_env(undefined: UndefinedBehavior) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(undefined);
    // Python's str methods (startswith, split, …) and dict.keys()/values()/items().
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    // Ansible's Jinja has no autoescaping and keeps the text of values as is.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);

    for &(name, f, spec) in FILTERS {
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
    // regex_search takes any number of `\N` / `\g<name>` group references.
    env.add_filter(
        "regex_search",
        |value: Value, rest: Rest<ValueOrKwargs>| -> Result<Value, Error> {
            if value.is_undefined() {
                return Ok(value);
            }
            f_regex_search(value, rest)
        },
    );
    // default/d see undefined values; ternary accepts undefined branches it does not pick.
    env.add_filter("default", f_default);
    env.add_filter("d", f_default);
    env.add_filter(
        "ternary",
        |value: Value, t: Value, f: Value, none: Option<Value>| -> Result<Value, Error> {
            no_undefined(&value)?;
            Ok(match none {
                Some(n) if value.is_none() && !n.is_none() => n,
                _ if value.is_true() => t,
                _ => f,
            })
        },
    );
    // The higher-order filters are minijinja's; they call the filters and tests above.
    macro_rules! delegate {
        ($($name:literal => $f:path);* $(;)?) => {$(
            env.add_filter(
                $name,
                |state: &mut State, value: Value, rest: Rest<minijinja::value::ValueOrKwargs>| {
                    if value.is_undefined() {
                        return Ok(value);
                    }
                    $f(state, value, rest).map(Value::from)
                },
            );
        )*};
    }
    delegate! {
        "map" => minijinja::filters::map;
    }
    env.add_filter(
        "select",
        |state: &mut State,
         value: Value,
         test: Option<String>,
         rest: Rest<minijinja::value::ValueOrKwargs>| {
            if value.is_undefined() {
                return Ok(value);
            }
            minijinja::filters::select(state, value, test.map(Into::into), rest).map(Value::from)
        },
    );
    env.add_filter(
        "reject",
        |state: &mut State,
         value: Value,
         test: Option<String>,
         rest: Rest<minijinja::value::ValueOrKwargs>| {
            if value.is_undefined() {
                return Ok(value);
            }
            minijinja::filters::reject(state, value, test.map(Into::into), rest).map(Value::from)
        },
    );
    env.add_filter(
        "selectattr",
        |state: &mut State,
         value: Value,
         attr: String,
         test: Option<String>,
         rest: Rest<minijinja::value::ValueOrKwargs>| {
            if value.is_undefined() {
                return Ok(value);
            }
            minijinja::filters::selectattr(state, value, attr.into(), test.map(Into::into), rest)
                .map(Value::from)
        },
    );
    env.add_filter(
        "rejectattr",
        |state: &mut State,
         value: Value,
         attr: String,
         test: Option<String>,
         rest: Rest<minijinja::value::ValueOrKwargs>| {
            if value.is_undefined() {
                return Ok(value);
            }
            minijinja::filters::rejectattr(state, value, attr.into(), test.map(Into::into), rest)
                .map(Value::from)
        },
    );

    env.add_test("defined", |v: Value| !v.is_undefined());
    env.add_test("undefined", |v: Value| v.is_undefined());
    env.add_test("string", |v: Value| -> Result<bool, Error> {
        no_undefined(&v)?;
        Ok(v.kind() == ValueKind::String)
    });
    // Python's bool is an int, so `true is number`.
    env.add_test("number", |v: Value| -> Result<bool, Error> {
        no_undefined(&v)?;
        Ok(matches!(v.kind(), ValueKind::Number | ValueKind::Bool))
    });
    env.add_test("mapping", |v: Value| -> Result<bool, Error> {
        no_undefined(&v)?;
        Ok(v.kind() == ValueKind::Map)
    });
    // Jinja's `sequence`: anything with a length and items, so strings and dicts too.
    env.add_test("sequence", |v: Value| -> Result<bool, Error> {
        no_undefined(&v)?;
        Ok(matches!(
            v.kind(),
            ValueKind::String | ValueKind::Seq | ValueKind::Map
        ))
    });
    env.add_test("in", |v: Value, container: Value| -> Result<bool, Error> {
        no_undefined(&v)?;
        no_undefined(&container)?;
        py_contains(&container, &v)
    });
    env.add_test("match", |v: Value, rest: Rest<ValueOrKwargs>| {
        t_regex(v, rest, "match")
    });
    env.add_test("search", |v: Value, rest: Rest<ValueOrKwargs>| {
        t_regex(v, rest, "search")
    });
    env.add_test("regex", |v: Value, rest: Rest<ValueOrKwargs>| {
        t_regex(v, rest, "regex")
    });
    env
}

/// A filter of [`FILTERS`]: called with a value that is not undefined and its arguments.
pub type FilterFn = fn(Value, &Args) -> Result<Value, Error>;

/// The Ansible filters whose arguments are plain values, with their Python parameter names.
/// An undefined value gives undefined, and so does an undefined argument.
const FILTERS: &[(&str, FilterFn, &[&str])] = &[
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
fn cased(s: &str, upper: bool) -> Value {
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

fn no_undefined(v: &Value) -> Result<(), Error> {
    if v.is_undefined() {
        Err(Error::new(
            ErrorKind::UndefinedError,
            "an undefined value was used",
        ))
    } else {
        Ok(())
    }
}

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Positional and keyword arguments of an Ansible filter, by Python parameter name.
pub struct Args {
    /// By the position of the name in the filter's spec (six at most: `regex_replace`); an
    /// array, as a filter call is too short for an allocation not to show.
    values: [Option<Value>; 6],
    /// Extra positional arguments when the spec starts with "*" (combine).
    star: Vec<Value>,
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

    fn get(&self, i: usize) -> Option<&Value> {
        self.values[i].as_ref().filter(|v| !v.is_none())
    }

    fn flag(&self, i: usize) -> bool {
        self.values[i].as_ref().is_some_and(Value::is_true)
    }

    /// [`Args::str`] with an empty default, borrowing a string argument.
    fn text(&self, i: usize) -> std::borrow::Cow<'_, str> {
        self.get(i).map_or(std::borrow::Cow::Borrowed(""), py_text)
    }

    fn str(&self, i: usize, default: &str) -> String {
        self.get(i)
            .map(py_str)
            .unwrap_or_else(|| default.to_owned())
    }

    fn int(&self, i: usize, default: i64) -> Result<i64, Error> {
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
fn f_default(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
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

fn f_trim(v: Value, a: &Args) -> Result<Value, Error> {
    let s = py_str(&v);
    Ok(Value::from(match a.get(0) {
        None => s.trim().to_owned(),
        Some(chars) => {
            let chars = py_str(chars);
            s.trim_matches(|c| chars.contains(c)).to_owned()
        }
    }))
}

fn f_replace(v: Value, a: &Args) -> Result<Value, Error> {
    let s = py_str(&v);
    let (old, new) = (a.str(0, ""), a.str(1, ""));
    let count = a.int(2, -1)?;
    Ok(Value::from(if count < 0 {
        s.replace(&old, &new)
    } else {
        s.replacen(&old, &new, count as usize)
    }))
}

type RegexCache = HashMap<String, Vec<((bool, bool), Rc<regex::Regex>)>>;

thread_local! {
    static REGEX_CACHE: RefCell<RegexCache> = RefCell::new(HashMap::new());
}

/// Compiled once per pattern and flags: patterns are constants of the configuration, and
/// compiling one costs more than evaluating a whole entry. Shared, not cloned: a cloned
/// Regex starts with an empty match cache, which is as slow as compiling.
fn regex(pattern: &str, ignorecase: bool, multiline: bool) -> Result<Rc<regex::Regex>, Error> {
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
enum Repl {
    Text(String),
    Group(usize),
    Named(String),
}

fn parse_replacement(t: &str) -> Result<Vec<Repl>, Error> {
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

fn f_regex_replace(v: Value, a: &Args) -> Result<Value, Error> {
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

fn f_regex_search(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
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

fn f_regex_findall(v: Value, a: &Args) -> Result<Value, Error> {
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
fn f_split(v: Value, a: &Args) -> Result<Value, Error> {
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
fn py_iter(v: &Value, what: &str) -> Result<Vec<Value>, Error> {
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
fn attr_get(item: &Value, attribute: Option<&str>) -> Result<Vec<Value>, Error> {
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

fn fold_case(keys: Vec<Value>, case_sensitive: bool) -> Vec<Value> {
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

fn f_sort(v: Value, a: &Args) -> Result<Value, Error> {
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

fn f_unique(v: Value, a: &Args) -> Result<Value, Error> {
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

fn f_join(v: Value, a: &Args) -> Result<Value, Error> {
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

fn f_first(v: Value, _: &Args) -> Result<Value, Error> {
    Ok(py_iter(&v, "first")?
        .into_iter()
        .next()
        .unwrap_or(Value::UNDEFINED))
}

fn f_last(v: Value, _: &Args) -> Result<Value, Error> {
    Ok(py_iter(&v, "last")?.pop().unwrap_or(Value::UNDEFINED))
}

fn f_length(v: Value, _: &Args) -> Result<Value, Error> {
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

fn f_dict2items(v: Value, a: &Args) -> Result<Value, Error> {
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

fn f_items2dict(v: Value, a: &Args) -> Result<Value, Error> {
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
fn dict_from(pairs: Vec<(Value, Value)>) -> Value {
    Value::from_pairs(pairs)
}

/// Python's `int(text, base)`: surrounding whitespace, a sign, `_` between digits, and a
/// `0x`/`0o`/`0b` prefix matching the base (any of them with base 0).
fn py_parse_int(s: &str, base: u32) -> Option<i64> {
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
fn py_parse_float(s: &str) -> Option<f64> {
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

fn py_to_float(v: &Value) -> Option<f64> {
    match v.kind() {
        ValueKind::Bool => Some(v.is_true() as i64 as f64),
        ValueKind::Number => f64::try_from(v.clone()).ok(),
        ValueKind::String => py_parse_float(v.as_str().unwrap_or_default()),
        _ => None,
    }
}

/// Jinja's `int` filter: `int(value, base)`, else `int(float(value))`, else the default.
fn f_int(v: Value, a: &Args) -> Result<Value, Error> {
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

fn f_float(v: Value, a: &Args) -> Result<Value, Error> {
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

fn f_combine(v: Value, a: &Args) -> Result<Value, Error> {
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

fn check_dict(v: &Value) -> Result<(), Error> {
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
fn merge_hash(x: &Value, y: &Value, recursive: bool, list_merge: &str) -> Result<Value, Error> {
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
            Some(xv) if xv.kind() == ValueKind::Seq && yv.kind() == ValueKind::Seq => {
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

fn t_regex(v: Value, rest: Rest<ValueOrKwargs>, kind: &str) -> Result<bool, Error> {
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
fn anchored_match(re: &regex::Regex, s: &str) -> bool {
    let anchored = format!("^(?:{})", re.as_str());
    regex(&anchored, false, false)
        .map(|r| r.is_match(s))
        .unwrap_or(false)
}

/// Python's `x in container`.
fn py_contains(container: &Value, x: &Value) -> Result<bool, Error> {
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

fn py_eq_seq(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| py_eq(x, y))
}

fn py_cmp_seq(a: &[Value], b: &[Value]) -> Result<Ordering, Error> {
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
fn py_cmp(a: &Value, b: &Value) -> Result<Ordering, Error> {
    let num = |v: &Value| matches!(v.kind(), ValueKind::Number | ValueKind::Bool);
    if num(a) && num(b) {
        if a.is_integer() && b.is_integer() {
            if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
                return Ok(x.cmp(&y));
            }
        }
        let (x, y) = (py_to_float(a), py_to_float(b));
        return Ok(x.partial_cmp(&y).unwrap_or(Ordering::Equal));
    }
    match (a.kind(), b.kind()) {
        (ValueKind::String, ValueKind::String) => Ok(a.as_str().cmp(&b.as_str())),
        (ValueKind::Seq, ValueKind::Seq) => {
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
        ValueKind::Number => {
            serde_json::to_writer(&mut *out, &json_number(v)?).expect("a number serializes")
        }
        ValueKind::String => crate::json::write_value(out, v.as_str().unwrap_or_default()),
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

fn undefined_in_result() -> Error {
    Error::new(
        ErrorKind::UndefinedError,
        "the result holds an undefined value",
    )
}

fn not_storable(v: &Value) -> Error {
    err(format!(
        "a value of type {} cannot be stored in a variable",
        v.kind()
    ))
}

/// A number as JSON: an integer when it is one that fits, else a finite float.
fn json_number(v: &Value) -> Result<serde_json::Number, Error> {
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
