//! Compile-time constants: literals, stage settings and arithmetic on them,
//! checked against a parameter's type and range.

use std::collections::BTreeMap;

use crate::ast::{self, BinaryOp, ExprKind, UnaryOp};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::ir::Const;
use crate::registry::{DefaultValue, NumRange, ParamSpec, ParamType};

/// Names a constant expression may read: stage settings so far, and declared names.
pub struct ConstEnv<'a> {
    /// Stage settings resolved so far.
    pub settings: &'a BTreeMap<String, Const>,
    /// Declared model, task, tool and branch names.
    pub names: &'a dyn Fn(&str) -> bool,
    /// Declared names, for "did you mean".
    pub declared: &'a [&'a str],
    /// Reward bindings: `Some(Some(c))` for one that folds to the constant `c`
    /// (`delta = 0.5`, so `--set` can reach a constant-only argument),
    /// `Some(None)` for one computed during the run, `None` for other names.
    pub bindings: &'a dyn Fn(&str) -> Option<Option<Const>>,
}

/// For constant contexts that see no reward bindings.
pub fn no_bindings(_: &str) -> Option<Option<Const>> {
    None
}

/// Evaluates an expression that must be known before the run.
pub fn eval(e: &ast::Expr, env: &ConstEnv<'_>) -> Result<Const, Diagnostic> {
    Ok(match &e.kind {
        ExprKind::Number { value, raw } => {
            let integral = !raw.contains(['.', 'e', 'E']);
            if integral && value.abs() < 9.0e15 {
                Const::Int(*value as i64)
            } else {
                Const::Real(*value)
            }
        }
        ExprKind::Str(s) => Const::Str(s.clone()),
        ExprKind::Bool(b) => Const::Bool(*b),
        ExprKind::List(items) => {
            let items = items
                .iter()
                .map(|i| eval(i, env))
                .collect::<Result<Vec<_>, _>>()?;
            if !items.is_empty() && items.iter().all(|c| matches!(c, Const::Pair(..))) {
                Const::Points(
                    items
                        .iter()
                        .filter_map(|c| match c {
                            Const::Pair(a, b) => Some((*a, *b)),
                            _ => None,
                        })
                        .collect(),
                )
            } else {
                Const::List(items)
            }
        }
        ExprKind::Tuple(items) => {
            let nums = items
                .iter()
                .map(|i| eval(i, env).map(|c| (c.as_f64(), i.span)))
                .collect::<Result<Vec<_>, _>>()?;
            match nums.as_slice() {
                [(Some(a), _), (Some(b), _)] => Const::Pair(*a, *b),
                _ => {
                    return Err(Diagnostic::error(
                        "E0301",
                        "a tuple here must be a pair of numbers",
                        e.span,
                    )
                    .help("write e.g. `(0.2, 0.28)`"));
                }
            }
        }
        ExprKind::Range { from, to } => {
            let a = number(from, env)?;
            let b = number(to, env)?;
            Const::Range(a, b)
        }
        ExprKind::Unary {
            op: UnaryOp::Neg,
            operand,
        } => match eval(operand, env)? {
            Const::Int(i) => Const::Int(-i),
            c => Const::Real(-c.as_f64().ok_or_else(|| not_number(operand))?),
        },
        ExprKind::Unary {
            op: UnaryOp::Not,
            operand,
        } => match eval(operand, env)? {
            Const::Bool(b) => Const::Bool(!b),
            _ => {
                return Err(Diagnostic::error(
                    "E0302",
                    "`not` needs a true/false value",
                    operand.span,
                ));
            }
        },
        ExprKind::Binary { op, lhs, rhs }
            if matches!(
                op,
                BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Pow
            ) =>
        {
            let (a, b) = (eval(lhs, env)?, eval(rhs, env)?);
            if let (Const::Int(x), Const::Int(y), BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul) =
                (&a, &b, op)
            {
                let r = match op {
                    BinaryOp::Add => x.checked_add(*y),
                    BinaryOp::Sub => x.checked_sub(*y),
                    _ => x.checked_mul(*y),
                };
                if let Some(r) = r {
                    return Ok(Const::Int(r));
                }
            }
            let x = a.as_f64().ok_or_else(|| not_number(lhs))?;
            let y = b.as_f64().ok_or_else(|| not_number(rhs))?;
            let r = match op {
                BinaryOp::Add => x + y,
                BinaryOp::Sub => x - y,
                BinaryOp::Mul => x * y,
                BinaryOp::Div => x / y,
                _ => x.powf(y),
            };
            if !r.is_finite() {
                return Err(Diagnostic::error(
                    "E0303",
                    "this constant is not a finite number",
                    e.span,
                )
                .help("check for a division by zero or an overflow"));
            }
            Const::Real(r)
        }
        ExprKind::Path(p) if p.segments.len() == 1 => {
            let name = &p.segments[0].name;
            if let Some(c) = env.settings.get(name) {
                c.clone()
            } else if let Some(bound) = (env.bindings)(name) {
                match bound {
                    Some(c) => c,
                    None => {
                        return Err(Diagnostic::error(
                            "E0305",
                            format!(
                                "`{name}` is computed during the run, but this must be a constant"
                            ),
                            e.span,
                        )
                        .label("a reward binding that reads run-time values")
                        .help(format!(
                            "bind `{name}` to a number (`{name} = 0.5`) or write the number here"
                        )));
                    }
                }
            } else if (env.names)(name) {
                Const::Name(name.clone())
            } else {
                let mut d = Diagnostic::error(
                    "E0304",
                    format!("`{name}` is not a constant known before the run"),
                    e.span,
                )
                .label("not a setting or declared name");
                if let Some(s) = did_you_mean(name, env.declared.iter().copied()) {
                    d = d.help(format!("did you mean `{s}`?"));
                } else if let Some(s) = did_you_mean(name, env.settings.keys().map(String::as_str))
                {
                    d = d.help(format!("did you mean the setting `{s}`?"));
                } else {
                    d = d.help(
                        "constants are numbers, strings, lists, stage settings and declared names",
                    );
                }
                return Err(d);
            }
        }
        _ => {
            return Err(Diagnostic::error(
                "E0305",
                "this must be a constant known before the run",
                e.span,
            )
            .label("computed during the run")
            .help(
                "write a literal or a stage setting here; graph values cannot set this parameter",
            ));
        }
    })
}

fn not_number(e: &ast::Expr) -> Diagnostic {
    Diagnostic::error("E0306", "expected a number here", e.span)
}

fn number(e: &ast::Expr, env: &ConstEnv<'_>) -> Result<f64, Diagnostic> {
    eval(e, env)?.as_f64().ok_or_else(|| not_number(e))
}

/// Converts a registry default into a constant.
pub fn default_const(d: DefaultValue, settings: &BTreeMap<String, Const>) -> Option<Const> {
    Some(match d {
        DefaultValue::Real(x) => Const::Real(x),
        DefaultValue::Int(i) => Const::Int(i),
        DefaultValue::Bool(b) => Const::Bool(b),
        DefaultValue::Str(s) => Const::Str(s.to_string()),
        DefaultValue::Pair(a, b) => Const::Pair(a, b),
        DefaultValue::EmptyList => Const::List(Vec::new()),
        DefaultValue::Ref(name) => return settings.get(name).cloned(),
    })
}

/// Checks a constant against a parameter; returns the value converted to the parameter's type.
pub fn conform(value: Const, param: &ParamSpec, e: &ast::Expr) -> Result<Const, Diagnostic> {
    let wrong = |expected: &str| {
        Diagnostic::error(
            "E0310",
            format!(
                "`{}` expects {expected}, found {}",
                param.name,
                describe(&value)
            ),
            e.span,
        )
        .label(format!("expected {expected}"))
    };
    let out = match (param.ty, &value) {
        (ParamType::Real, c) => Const::Real(
            c.as_f64()
                .filter(|_| !matches!(c, Const::Bool(_)))
                .ok_or_else(|| wrong("a number"))?,
        ),
        (ParamType::Int, Const::Int(i)) => Const::Int(*i),
        (ParamType::Int, Const::Real(x)) if x.fract() == 0.0 && x.abs() < 9.0e15 => {
            Const::Int(*x as i64)
        }
        (ParamType::Int, _) => return Err(wrong("a whole number")),
        (ParamType::Bool, Const::Bool(b)) => Const::Bool(*b),
        (ParamType::Bool, _) => return Err(wrong("`true` or `false`")),
        (ParamType::Str, Const::Str(s)) => Const::Str(s.clone()),
        (ParamType::Str, _) => return Err(wrong("a string")),
        (ParamType::Choice(options), Const::Str(s) | Const::Name(s)) => {
            if options.contains(&s.as_str()) {
                Const::Str(s.clone())
            } else {
                let mut d = Diagnostic::error(
                    "E0311",
                    format!("`{s}` is not a valid value for `{}`", param.name),
                    e.span,
                )
                .label(format!("expected one of {}", quoted(options)));
                if let Some(m) = did_you_mean(s, options.iter().copied()) {
                    d = d.help(format!("did you mean \"{m}\"?"));
                }
                return Err(d);
            }
        }
        (ParamType::Choice(options), _) => {
            return Err(wrong(&format!("one of {}", quoted(options))));
        }
        (ParamType::StrList, Const::List(items))
            if items.iter().all(|i| matches!(i, Const::Str(_))) =>
        {
            value.clone()
        }
        (ParamType::StrList, _) => return Err(wrong("a list of strings")),
        (ParamType::RealList, Const::List(items)) => {
            let xs = items
                .iter()
                .map(Const::as_f64)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| wrong("a list of numbers"))?;
            Const::List(xs.into_iter().map(Const::Real).collect())
        }
        (ParamType::RealList, _) => return Err(wrong("a list of numbers")),
        (ParamType::RealPair, Const::Pair(a, b)) => Const::Pair(*a, *b),
        (ParamType::RealPair, c) => {
            let x = c
                .as_f64()
                .filter(|_| !matches!(c, Const::Bool(_)))
                .ok_or_else(|| wrong("a number or a pair `(low, high)`"))?;
            Const::Pair(x, x)
        }
        (ParamType::Range, Const::Range(a, b)) => Const::Range(*a, *b),
        (ParamType::Range, _) => return Err(wrong("`start -> end`")),
        (ParamType::Points, Const::Points(p)) => Const::Points(p.clone()),
        (ParamType::Points, Const::List(l)) if l.is_empty() => Const::Points(Vec::new()),
        (ParamType::Points, _) => return Err(wrong("a list of `(step, value)` pairs")),
        _ => return Err(wrong("a constant of another type")),
    };
    if let Some(range) = param.range {
        check_range(&out, &range, param, e)?;
    }
    Ok(out)
}

fn check_range(
    c: &Const,
    range: &NumRange,
    param: &ParamSpec,
    e: &ast::Expr,
) -> Result<(), Diagnostic> {
    let values: Vec<f64> = match c {
        Const::Real(x) => vec![*x],
        Const::Int(i) => vec![*i as f64],
        Const::Pair(a, b) | Const::Range(a, b) => vec![*a, *b],
        Const::List(items) => items.iter().filter_map(Const::as_f64).collect(),
        _ => vec![],
    };
    if let Some(bad) = values.into_iter().find(|x| !range.contains(*x)) {
        return Err(Diagnostic::error(
            "E0312",
            format!("`{}` must be {range}, but is {bad}", param.name),
            e.span,
        )
        .label("out of range")
        .help(format!("{}: {}", param.name, param.doc)));
    }
    Ok(())
}

fn quoted(options: &[&str]) -> String {
    options
        .iter()
        .map(|o| format!("\"{o}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A constant described for messages.
pub fn describe(c: &Const) -> String {
    match c {
        Const::Real(x) => format!("the number {x}"),
        Const::Int(i) => format!("the number {i}"),
        Const::Bool(b) => format!("`{b}`"),
        Const::Str(s) => format!("the string {s:?}"),
        Const::List(_) => "a list".into(),
        Const::Pair(..) => "a pair".into(),
        Const::Range(..) => "a range `a -> b`".into(),
        Const::Points(_) => "a list of pairs".into(),
        Const::Name(n) => format!("the name `{n}`"),
    }
}
