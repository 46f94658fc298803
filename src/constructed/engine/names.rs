//! Which filters and tests an expression may use, checked when the configuration is loaded.
//!
//! The check walks minijinja's own parse tree (the one `fast` evaluates): a filter or test
//! name is a node there, so a `|` inside a string literal or a variable called `random` can
//! not be mistaken for one, and the names that higher-order filters take as string
//! arguments (`map('to_json')`, `select('match', …)`, `selectattr('a', 'version', …)`) are
//! constants beside them. A name passed in a variable can only be found when a host is
//! evaluated; minijinja then reports it as unknown.

use minijinja::machinery::ast::{CallArg, Expr};
use minijinja::machinery::parse_expr;

/// Filters that work here as they do in Ansible 2.19 (ansible.builtin and Jinja2 builtins).
pub const SUPPORTED_FILTERS: &[&str] = &[
    // Registered in `engine` (mod.rs, filters.rs, python.rs).
    "lower",
    "upper",
    "string",
    "trim",
    "replace",
    "regex_replace",
    "regex_findall",
    "regex_search",
    "split",
    "join",
    "first",
    "last",
    "length",
    "count",
    "list",
    "sort",
    "unique",
    "dict2items",
    "items2dict",
    "int",
    "float",
    "bool",
    "combine",
    "default",
    "d",
    "ternary",
    "map",
    "select",
    "reject",
    "selectattr",
    "rejectattr",
    // ansible_filters.rs
    "to_json",
    "to_nice_json",
    "from_json",
    "flatten",
    "hash",
    "sha1",
    "md5",
    "checksum",
    "b64encode",
    "b64decode",
    "to_uuid",
    "basename",
    "dirname",
    "splitext",
    "normpath",
    "path_join",
    "commonpath",
    "quote",
    "regex_escape",
    "mandatory",
    "type_debug",
    "extract",
    "subelements",
    "zip",
    "zip_longest",
    "union",
    "intersect",
    "difference",
    "symmetric_difference",
    "product",
    "permutations",
    "combinations",
    "log",
    "pow",
    "root",
    "human_readable",
    "human_to_bytes",
    "rekey_on_member",
    "urlsplit",
    "urldecode",
    // minijinja's builtins that behave as Jinja2's on inventory data.
    "abs",
    "capitalize",
    "reverse",
    "round",
    "sum",
    "min",
    "max",
    "dictsort",
    "items",
    "batch",
    "slice",
    // jinja_filters.rs
    "title",
    "wordcount",
    "center",
    "truncate",
    "indent",
    "urlencode",
    "filesizeformat",
    "tojson",
    "escape",
    "e",
    "forceescape",
    "safe",
    "groupby",
    // pyformat.rs
    "format",
];

/// Tests that work here as they do in Ansible 2.19.
pub const SUPPORTED_TESTS: &[&str] = &[
    // Registered in `engine` (mod.rs).
    "defined",
    "undefined",
    "string",
    "number",
    "mapping",
    "sequence",
    "in",
    "match",
    "search",
    "regex",
    // ansible_tests.rs
    "truthy",
    "falsy",
    "subset",
    "issubset",
    "superset",
    "issuperset",
    "contains",
    "version",
    "version_compare",
    "any",
    "all",
    "nan",
    "isnan",
    "uri",
    "url",
    "urn",
    "abs",
    "is_abs",
    // minijinja's builtins that behave as Jinja2's on inventory data.
    "none",
    "boolean",
    "odd",
    "even",
    "divisibleby",
    "integer",
    "float",
    "iterable",
    "lower",
    "upper",
    "eq",
    "equalto",
    "==",
    "ne",
    "!=",
    "lt",
    "lessthan",
    "<",
    "le",
    "<=",
    "gt",
    "greaterthan",
    ">",
    "ge",
    ">=",
    "true",
    "false",
    "sameas",
];

/// Filters Ansible has that are refused here, with the reason.
pub const REFUSED_FILTERS: &[(&str, &str)] = &[
    ("random", "its result changes from run to run"),
    ("shuffle", "its result changes from run to run"),
    (
        "password_hash",
        "it salts with random bytes and needs passlib's exact algorithms",
    ),
    ("vault", "it needs the controller's vault secrets"),
    ("unvault", "it needs the controller's vault secrets"),
    ("fileglob", "it reads the controller's disk"),
    ("realpath", "it reads the controller's disk"),
    (
        "relpath",
        "it depends on the controller's working directory",
    ),
    (
        "expanduser",
        "it depends on the controller's home directory",
    ),
    ("expandvars", "it depends on the controller's environment"),
    (
        "strftime",
        "it depends on the controller's clock and time zone",
    ),
    (
        "to_datetime",
        "it makes a Python datetime, which has no JSON form",
    ),
    ("to_yaml", "PyYAML's exact output is not reproduced"),
    ("to_nice_yaml", "PyYAML's exact output is not reproduced"),
    ("from_yaml", "PyYAML's YAML 1.1 reading is not reproduced"),
    (
        "from_yaml_all",
        "PyYAML's YAML 1.1 reading is not reproduced",
    ),
    (
        "win_basename",
        "Windows path rules (ntpath) are not implemented",
    ),
    (
        "win_dirname",
        "Windows path rules (ntpath) are not implemented",
    ),
    (
        "win_splitdrive",
        "Windows path rules (ntpath) are not implemented",
    ),
    (
        "comment",
        "comment decoration is for template files and is not implemented",
    ),
    ("pprint", "Python's pprint layout is not reproduced"),
    (
        "attr",
        "Python object attributes do not exist here; use .key or ['key']",
    ),
    ("wordwrap", "not implemented"),
    ("striptags", "not implemented"),
    ("urlize", "HTML output is not implemented"),
    ("xmlattr", "HTML output is not implemented"),
];

/// Tests Ansible has that are refused here, with the reason.
pub const REFUSED_TESTS: &[(&str, &str)] = &[
    ("file", "it reads the controller's disk"),
    ("is_file", "it reads the controller's disk"),
    ("directory", "it reads the controller's disk"),
    ("is_dir", "it reads the controller's disk"),
    ("link", "it reads the controller's disk"),
    ("is_link", "it reads the controller's disk"),
    ("exists", "it reads the controller's disk"),
    ("link_exists", "it reads the controller's disk"),
    ("same_file", "it reads the controller's disk"),
    ("is_same_file", "it reads the controller's disk"),
    ("mount", "it reads the controller's disk"),
    ("is_mount", "it reads the controller's disk"),
    ("vaulted_file", "it reads the controller's disk"),
    (
        "vault_encrypted",
        "vaulted values never come from inventory data",
    ),
    ("failed", "it tests a task's result"),
    ("failure", "it tests a task's result"),
    ("succeeded", "it tests a task's result"),
    ("success", "it tests a task's result"),
    ("successful", "it tests a task's result"),
    ("reachable", "it tests a task's result"),
    ("unreachable", "it tests a task's result"),
    ("timedout", "it tests a task's result"),
    ("changed", "it tests a task's result"),
    ("change", "it tests a task's result"),
    ("skipped", "it tests a task's result"),
    ("skip", "it tests a task's result"),
    ("finished", "it tests a task's result"),
    ("started", "it tests a task's result"),
    ("callable", "no inventory value is callable"),
    ("escaped", "HTML markup is not implemented"),
    (
        "filter",
        "it depends on the plugins installed on the controller",
    ),
    (
        "test",
        "it depends on the plugins installed on the controller",
    ),
];

/// The first filter or test in `source` that is not supported here, as a message; `None`
/// when every name is supported or the source does not parse (compiling reports that).
pub fn refused_name(source: &str) -> Option<String> {
    let tree = parse_expr(source).ok()?;
    let mut found = None;
    walk(&tree, &mut found);
    found
}

fn message(kind: &str, name: &str) -> Option<String> {
    let (supported, refused) = match kind {
        "filter" => (SUPPORTED_FILTERS, REFUSED_FILTERS),
        _ => (SUPPORTED_TESTS, REFUSED_TESTS),
    };
    if supported.contains(&name) {
        return None;
    }
    let why = refused
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("it is not an ansible.builtin or Jinja2 one", |(_, why)| why);
    Some(format!(
        "{kind} '{name}' is not supported here ({why}); see docs/DESIGN.md \"Filters and tests\""
    ))
}

/// Jinja's global functions: `range` and `dict` work; Ansible's others are refused.
fn function_message(name: &str) -> Option<String> {
    let why = match name {
        "range" | "dict" => return None,
        "lookup" | "query" | "q" => "it runs a lookup plugin on the controller",
        "now" => "it depends on the controller's clock",
        "lipsum" => "its result changes from run to run",
        "cycler" | "joiner" | "namespace" | "undef" => "it is for templates, not expressions",
        _ => "it is not a Jinja2 or Ansible function",
    };
    Some(format!(
        "function '{name}' is not supported here ({why}); see docs/DESIGN.md \"Filters and tests\""
    ))
}

fn check(kind: &str, name: &str, found: &mut Option<String>) {
    if found.is_none() {
        *found = message(kind, name);
    }
}

/// The positional argument `i` when it is a constant string.
fn const_str(args: &[CallArg<'_>], i: usize) -> Option<String> {
    let pos = args.iter().filter_map(|a| match a {
        CallArg::Pos(e) => Some(e),
        _ => None,
    });
    match pos.into_iter().nth(i)? {
        Expr::Const(c) => c.value.as_str().map(str::to_owned),
        _ => None,
    }
}

fn walk_args(args: &[CallArg<'_>], found: &mut Option<String>) {
    for a in args {
        match a {
            CallArg::Pos(e)
            | CallArg::Kwarg(_, e)
            | CallArg::PosSplat(e)
            | CallArg::KwargSplat(e) => walk(e, found),
        }
    }
}

fn walk(e: &Expr<'_>, found: &mut Option<String>) {
    match e {
        Expr::Var(_) | Expr::Const(_) => {}
        Expr::Slice(s) => {
            walk(&s.expr, found);
            for x in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                walk(x, found);
            }
        }
        Expr::UnaryOp(u) => walk(&u.expr, found),
        Expr::BinOp(b) => {
            walk(&b.left, found);
            walk(&b.right, found);
        }
        Expr::Compare(c) => {
            walk(&c.expr, found);
            c.ops.iter().for_each(|op| walk(&op.expr, found));
        }
        Expr::IfExpr(i) => {
            walk(&i.test_expr, found);
            walk(&i.true_expr, found);
            if let Some(f) = &i.false_expr {
                walk(f, found);
            }
        }
        Expr::Filter(f) => {
            check("filter", f.name, found);
            // The names higher-order filters call, when they are constants.
            match f.name {
                "map" => {
                    if let Some(n) = const_str(&f.args, 0) {
                        check("filter", &n, found);
                    }
                }
                "select" | "reject" => {
                    if let Some(n) = const_str(&f.args, 0) {
                        check("test", &n, found);
                    }
                }
                "selectattr" | "rejectattr" => {
                    if let Some(n) = const_str(&f.args, 1) {
                        check("test", &n, found);
                    }
                }
                _ => {}
            }
            if let Some(x) = &f.expr {
                walk(x, found);
            }
            walk_args(&f.args, found);
        }
        Expr::Test(t) => {
            check("test", t.name, found);
            if matches!(t.name, "version" | "version_compare") {
                let pep440 = t.args.iter().enumerate().any(|(i, a)| match a {
                    CallArg::Kwarg("version_type", Expr::Const(c)) => {
                        c.value.as_str() == Some("pep440")
                    }
                    CallArg::Pos(Expr::Const(c)) => i == 3 && c.value.as_str() == Some("pep440"),
                    _ => false,
                });
                if pep440 && found.is_none() {
                    *found = Some(format!(
                        "test '{}' with version_type='pep440' is not supported here (PEP 440 ordering is not implemented); see docs/DESIGN.md \"Filters and tests\"",
                        t.name
                    ));
                }
            }
            walk(&t.expr, found);
            walk_args(&t.args, found);
        }
        Expr::GetAttr(g) => walk(&g.expr, found),
        Expr::GetItem(g) => {
            walk(&g.expr, found);
            walk(&g.subscript_expr, found);
        }
        Expr::Call(c) => {
            if let Expr::Var(v) = &c.expr {
                if found.is_none() {
                    *found = function_message(v.id);
                }
            }
            walk(&c.expr, found);
            walk_args(&c.args, found);
        }
        Expr::List(l) => l.items.iter().for_each(|x| walk(x, found)),
        Expr::Tuple(t) => t.items.iter().for_each(|x| walk(x, found)),
        Expr::Map(m) => m.keys.iter().chain(&m.values).for_each(|x| walk(x, found)),
    }
}
