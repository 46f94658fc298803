//! Compiled expressions: batches of one configuration's expressions, how each is evaluated
//! (strict, then chainable where an undefined value may be caught), and the host's variables
//! as the expressions see them.

use super::*;

/// The composed variables as `encode` gives them, and the memberships.
pub(super) struct Ran<T> {
    pub(super) vars: Vec<T>,
    pub(super) groups: Vec<Membership>,
}

/// A compiled expression. Evaluated in strict mode; when that fails on an undefined value
/// and the expression can catch one (`default`, `defined`, `undefined`), evaluated again
/// letting lookups on undefined values chain, as Ansible's do.
pub(super) struct Expr {
    pub(super) source: String,
    pub(super) strict: Expression<'static, 'static>,
    pub(super) chain: Option<Expression<'static, 'static>>,
    /// The expression when its shape is a common one (a lookup, a filter, a comparison...),
    /// evaluated without minijinja's VM where it can be (see `fast`): most entries of a
    /// typical configuration are, and a VM evaluation costs a good deal more than their steps.
    /// Set once every expression's variables have their slots.
    pub(super) fast: Option<fast::Fast>,
}

/// Several entries' expressions as one list expression, so that a host costs one minijinja
/// evaluation (which sets up a VM) instead of one per entry. Only the list's defined items are
/// used: an entry whose item is undefined, or every entry when the list fails, is evaluated on
/// its own, which gives exactly what that entry alone gives.
pub(super) struct Batch {
    pub(super) expr: Option<Expression<'static, 'static>>,
    pub(super) len: usize,
}

impl Batch {
    /// A batch of `exprs` (those that are not direct lookups); each gets its slot in `slots`.
    pub(super) fn new<'e>(
        exprs: impl Iterator<Item = &'e Expr>,
        slots: &mut Vec<Option<usize>>,
    ) -> Batch {
        let mut sources = Vec::new();
        for e in exprs {
            if e.batched() {
                slots.push(Some(sources.len()));
                sources.push(format!("({})", e.source));
            } else {
                slots.push(None);
            }
        }
        let expr = (sources.len() > 1)
            .then(|| {
                strict_env()
                    .compile_expression_owned(format!("[{}]", sources.join(", ")))
                    .ok()
            })
            .flatten();
        if expr.is_none() {
            slots.iter_mut().for_each(|s| *s = None);
        }
        Batch {
            expr,
            len: sources.len(),
        }
    }

    /// The items, or nothing when the list fails.
    pub(super) fn eval(&self, ctx: &Value) -> Vec<Value> {
        match self.expr.as_ref().map(|e| e.eval(ctx.clone())) {
            Some(Ok(list)) if list.len() == Some(self.len) => list
                .try_iter()
                .map(|items| items.collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

/// `expr`'s value from a batch's items when there is a defined one, else from `expr` alone.
pub(super) fn from_batch(
    items: &[Value],
    slot: Option<usize>,
    expr: &Expr,
    ctx: &Value,
) -> Result<Value, minijinja::Error> {
    match slot.and_then(|i| items.get(i)) {
        Some(v) if !v.is_undefined() => Ok(v.clone()),
        _ => expr.eval(ctx),
    }
}

impl Expr {
    pub(super) fn compile(source: &str, entry: &str) -> Result<Expr, ConfigError> {
        if let Some(message) = refused_name(source) {
            return Err(ConfigError {
                entry: entry.to_owned(),
                message,
            });
        }
        let strict = strict_env()
            .compile_expression_owned(source.to_owned())
            .map_err(|e| ConfigError {
                entry: entry.to_owned(),
                message: format!("invalid expression {source:?}: {}", describe(&e)),
            })?;
        let chain = catches_undefined(source).then(|| {
            chainable_env()
                .compile_expression_owned(source.to_owned())
                .expect("compiled in strict mode already")
        });
        Ok(Expr {
            source: source.to_owned(),
            strict,
            chain,
            fast: None,
        })
    }

    /// Whether a host's evaluation goes to minijinja (as part of a [`Batch`]).
    pub(super) fn batched(&self) -> bool {
        self.fast.is_none()
    }

    /// The value from the shapes `fast` knows, or `None`.
    pub(super) fn eval_fast(&self, ctx: &Value) -> Option<Value> {
        let vars = ctx.downcast_object_ref::<HostVars>()?;
        self.fast.as_ref()?.eval(&vars.slots)
    }

    pub(super) fn eval(&self, ctx: &Value) -> Result<Value, minijinja::Error> {
        self.eval_fast(ctx).map_or_else(|| self.eval_jinja(ctx), Ok)
    }

    /// [`Expr::eval`], and an undefined value anywhere in the result is an error. `fast`'s
    /// values need no check: they are made of host variables (from JSON), composed ones
    /// (which went to JSON), constants, and what the plain filters make of these.
    pub(super) fn eval_defined(&self, ctx: &Value) -> Result<Value, minijinja::Error> {
        match self.eval_fast(ctx) {
            Some(v) => Ok(v),
            None => self
                .eval_jinja(ctx)
                .and_then(|v| check_defined(&v).map(|_| v)),
        }
    }

    pub(super) fn eval_jinja(&self, ctx: &Value) -> Result<Value, minijinja::Error> {
        match self.strict.eval(ctx.clone()) {
            Err(e) if e.kind() == ErrorKind::UndefinedError => match &self.chain {
                Some(chain) => chain.eval(ctx.clone()).map_err(|_| e),
                None => Err(e),
            },
            other => other,
        }
    }

    pub(super) fn variables(&self) -> impl Iterator<Item = String> {
        self.strict.undeclared_variables(false).into_iter()
    }
}

pub(super) fn catches_undefined(source: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"\b(default|defined|undefined)\b|\|\s*d\b").expect("static regex")
    })
    .is_match(source)
}

/// An error's text with minijinja's detail, on one line.
pub(super) fn describe(e: &minijinja::Error) -> String {
    let mut msg = e.to_string();
    if let Some(detail) = e.detail() {
        if !msg.contains(detail) {
            msg = format!("{msg}: {detail}");
        }
    }
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(super) fn undefined_error() -> minijinja::Error {
    minijinja::Error::new(ErrorKind::UndefinedError, "the result is undefined")
}

/// Ansible finalises a result: an undefined value anywhere in it is an error.
pub(super) fn check_defined(v: &Value) -> Result<(), minijinja::Error> {
    match v.kind() {
        ValueKind::Undefined => Err(undefined_error()),
        ValueKind::Seq | ValueKind::Iterable => {
            for item in v.try_iter()? {
                check_defined(&item)?;
            }
            Ok(())
        }
        ValueKind::Map => {
            for k in v.try_iter()? {
                check_defined(&v.get_item(&k)?)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A host's variables for the expressions: only those they read, converted once per host.
#[derive(Debug, Clone)]
pub(super) struct HostVars {
    /// The variables' names and slots: a dozen or so, where a scan beats hashing.
    pub(super) names: Arc<[(Box<str>, usize)]>,
    pub(super) slots: Vec<Value>,
}

impl Object for HostVars {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        // Length and first byte first: most names differ there, without a call to memcmp.
        let first = key.as_bytes().first();
        let &(_, i) = self.names.iter().find(|(name, _)| {
            name.len() == key.len() && name.as_bytes().first() == first && &**name == key
        })?;
        let v = &self.slots[i];
        (!v.is_undefined()).then(|| v.clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }
}
