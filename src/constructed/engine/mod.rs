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

mod ansible_filters;
mod ansible_json;
mod ansible_paths;
mod ansible_tests;
mod convert;
mod filters;
mod jinja_filters;
mod names;
mod pyformat;
mod python;

use ansible_json::*;
use ansible_paths::*;
pub use convert::*;
pub use filters::*;
pub use names::*;
pub use python::*;

/// Registers a table of filters whose arguments are plain values: an undefined value gives
/// undefined, and so does an undefined argument ([`Args::parse`]).
fn add_plain_filters(
    env: &mut Environment<'static>,
    table: &'static [(&'static str, FilterFn, &'static [&'static str])],
) {
    for &(name, f, spec) in table {
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
}

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

    add_plain_filters(&mut env, FILTERS);
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
            ValueKind::String | ValueKind::Seq | ValueKind::Iterable | ValueKind::Map
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
    ansible_filters::register(&mut env);
    ansible_tests::register(&mut env);
    jinja_filters::register(&mut env);
    env.add_filter("format", pyformat::f_format);
    env
}
