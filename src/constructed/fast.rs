//! The common shapes of expressions, evaluated without minijinja's VM: lookups, constants, the
//! plain filters, `default`, the `defined`/`undefined` tests, comparisons, `in`, `/`, `and`,
//! `or` and `not`.
//!
//! A host's minijinja evaluation costs a good deal more than these steps themselves (setting
//! up the VM, finding each filter by name). The tree is minijinja's own parse of the
//! expression, and each step does what the VM's instruction for it does. Any other shape, and
//! any step where the VM would fail, gives no answer: the caller then evaluates with minijinja,
//! which has the last word and the error message.

use super::engine::{defaulted, plain_filter, Args, FilterFn};
use minijinja::machinery::{ast, parse_expr};
use minijinja::value::{Value, ValueKind, ValueOrKwargs};
use std::collections::HashMap;

/// An expression in a shape evaluated here.
pub struct Fast(Node);

enum Node {
    Const(Value),
    /// A top-level variable, by its slot in the host's context.
    Slot(usize),
    Attr(Box<Node>, Box<str>),
    Filter(Box<Node>, FilterFn, Box<Args>),
    Default(Box<Node>, Value, bool),
    /// `is defined` (true) or `is undefined` (false).
    Defined(Box<Node>, bool),
    Compare(Box<Node>, Op, Box<Node>),
    /// Item, container, and whether it is `not in`.
    In(Box<Node>, Box<Node>, bool),
    Div(Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
}

#[derive(Clone, Copy)]
enum Op {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

/// A step's result: a value, or an undefined one (which only `default` and the tests take).
enum Out {
    Value(Value),
    Undefined,
}

impl Fast {
    /// `source` when its shape is one of those above; `slots` gives each top-level variable's
    /// slot. `chain`: whether the expression is evaluated again in minijinja's `Chainable`
    /// mode when strict mode fails on an undefined value (see `Expr`), the mode whose results
    /// `default` and the tests give here; without it, they are left to minijinja.
    pub fn compile(source: &str, slots: &HashMap<String, usize>, chain: bool) -> Option<Fast> {
        let tree = parse_expr(source).ok()?;
        Compiler { slots, chain }.node(&tree).map(Fast)
    }

    /// An expression that is `value`.
    pub fn constant(value: Value) -> Fast {
        Fast(Node::Const(value))
    }

    /// The value, or `None` where minijinja must answer. `slots` are the host's variables,
    /// undefined where the host has none.
    pub fn eval(&self, slots: &[Value]) -> Option<Value> {
        match eval(&self.0, slots)? {
            Out::Value(v) if !v.is_undefined() => Some(v),
            _ => None,
        }
    }
}

struct Compiler<'a> {
    slots: &'a HashMap<String, usize>,
    chain: bool,
}

impl Compiler<'_> {
    fn node(&self, e: &ast::Expr<'_>) -> Option<Node> {
        // What minijinja's code generator folds into a constant.
        if let Some(v) = e.as_const() {
            return Some(Node::Const(v));
        }
        let boxed = |e: &ast::Expr<'_>| self.node(e).map(Box::new);
        Some(match e {
            ast::Expr::Var(v) => Node::Slot(*self.slots.get(v.id)?),
            ast::Expr::GetAttr(a) => Node::Attr(boxed(&a.expr)?, a.name.into()),
            ast::Expr::Filter(f) => {
                let input = boxed(f.expr.as_ref()?)?;
                let args = f
                    .args
                    .iter()
                    .map(|a| match a {
                        ast::CallArg::Pos(e) => e.as_const(),
                        _ => None,
                    })
                    .collect::<Option<Vec<Value>>>()?;
                match f.name {
                    "default" | "d" if args.len() <= 2 => {
                        let mut args = args.into_iter();
                        let default = args.next().unwrap_or_else(|| Value::from(""));
                        let boolean = args.next().is_some_and(|b| b.is_true());
                        Node::Default(input, default, boolean)
                    }
                    name => {
                        let (f, spec) = plain_filter(name)?;
                        let args: Vec<ValueOrKwargs> = args.into_iter().map(Into::into).collect();
                        let args = Args::parse(&args, name, spec).ok()??;
                        Node::Filter(input, f, Box::new(args))
                    }
                }
            }
            ast::Expr::Test(t) if t.args.is_empty() => match t.name {
                "defined" => Node::Defined(boxed(&t.expr)?, true),
                "undefined" => Node::Defined(boxed(&t.expr)?, false),
                _ => return None,
            },
            // minijinja's parser makes a single comparison a `BinOp` (`not in`: a `not` around
            // `in`); only a chain (`a < b < c`) is a `Compare`, left to minijinja.
            ast::Expr::BinOp(b) => {
                let (left, right) = (boxed(&b.left)?, boxed(&b.right)?);
                match b.op {
                    ast::BinOpKind::Eq => Node::Compare(left, Op::Eq, right),
                    ast::BinOpKind::Ne => Node::Compare(left, Op::Ne, right),
                    ast::BinOpKind::Lt => Node::Compare(left, Op::Lt, right),
                    ast::BinOpKind::Lte => Node::Compare(left, Op::Lte, right),
                    ast::BinOpKind::Gt => Node::Compare(left, Op::Gt, right),
                    ast::BinOpKind::Gte => Node::Compare(left, Op::Gte, right),
                    ast::BinOpKind::In => Node::In(left, right, false),
                    ast::BinOpKind::Div => Node::Div(left, right),
                    ast::BinOpKind::ScAnd => Node::And(left, right),
                    ast::BinOpKind::ScOr => Node::Or(left, right),
                    _ => return None,
                }
            }
            ast::Expr::UnaryOp(u) => match u.op {
                ast::UnaryOpKind::Not => Node::Not(boxed(&u.expr)?),
                ast::UnaryOpKind::Neg => return None,
            },
            _ => return None,
        })
        .filter(|n| self.chain || !matches!(n, Node::Default(..) | Node::Defined(..)))
    }
}

/// A defined value, or `None`: every step but `default` and the tests fails on undefined.
fn value(node: &Node, slots: &[Value]) -> Option<Value> {
    match eval(node, slots)? {
        Out::Value(v) => Some(v),
        Out::Undefined => None,
    }
}

fn eval(node: &Node, slots: &[Value]) -> Option<Out> {
    Some(Out::Value(match node {
        Node::Const(v) => v.clone(),
        // An undefined variable may still be one of minijinja's globals.
        Node::Slot(i) => slots.get(*i).filter(|v| !v.is_undefined())?.clone(),
        Node::Attr(base, name) => match eval(base, slots)? {
            // Chainable mode's lookup on an undefined value. Strict mode's fails: then only
            // an expression with `default` or a test is evaluated again in chainable mode, and
            // only `default` and the tests take an undefined value here.
            Out::Undefined => return Some(Out::Undefined),
            Out::Value(v) if v.kind() == ValueKind::Map => match v.get_attr(name).ok()? {
                found if found.is_undefined() => return Some(Out::Undefined),
                found => found,
            },
            Out::Value(_) => return None,
        },
        Node::Filter(input, f, args) => {
            let v = f(value(input, slots)?, args).ok()?;
            if v.is_undefined() {
                return None;
            }
            v
        }
        Node::Default(input, default, boolean) => {
            let v = match eval(input, slots)? {
                Out::Value(v) => v,
                Out::Undefined => Value::UNDEFINED,
            };
            defaulted(v, default.clone(), *boolean)
        }
        Node::Defined(input, defined) => {
            let is = matches!(eval(input, slots)?, Out::Value(_));
            Value::from(is == *defined)
        }
        Node::Compare(left, op, right) => {
            let (a, b) = (value(left, slots)?, value(right, slots)?);
            Value::from(match op {
                Op::Eq => a == b,
                Op::Ne => a != b,
                Op::Lt => a < b,
                Op::Lte => a <= b,
                Op::Gt => a > b,
                Op::Gte => a >= b,
            })
        }
        Node::In(item, container, negated) => {
            let (item, container) = (value(item, slots)?, value(container, slots)?);
            let found = match (container.as_str(), item.as_str()) {
                (Some(text), Some(part)) => text.contains(part),
                (None, _) if container.kind() == ValueKind::Seq => {
                    container.try_iter().ok()?.any(|x| x == item)
                }
                _ => return None,
            };
            Value::from(found != *negated)
        }
        Node::Div(left, right) => {
            let number = |v: Value| match v.kind() {
                ValueKind::Number => f64::try_from(v).ok(),
                _ => None,
            };
            let (a, b) = (number(value(left, slots)?)?, number(value(right, slots)?)?);
            if b == 0.0 {
                return None;
            }
            Value::from(a / b)
        }
        Node::And(left, right) => match value(left, slots)? {
            a if !a.is_true() => a,
            _ => value(right, slots)?,
        },
        Node::Or(left, right) => match value(left, slots)? {
            a if a.is_true() => a,
            _ => value(right, slots)?,
        },
        Node::Not(input) => Value::from(!value(input, slots)?.is_true()),
    }))
}
