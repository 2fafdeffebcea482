//! Expressions on one line, with parentheses only where the grammar needs them.
//!
//! Precedence comes from [`BinaryOp::precedence`] and [`UnaryOp::precedence`]
//! (one scale for both). `^` is right-associative, comparisons do not
//! associate, the other operators associate to the left. `if` and `when` are
//! parenthesised whenever they stand inside an operator or before a `when`,
//! because their last branch would otherwise swallow what follows.

use crate::ast::{Arg, BinaryOp, Call, Expr, ExprKind, UnaryOp};

/// Binding strength of what an expression prints as, on the operators' scale:
/// atoms bind tightest, `if`/`when`/`->` loosest.
fn strength(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => op.precedence(),
        ExprKind::Unary { op, .. } => op.precedence(),
        ExprKind::If { .. } | ExprKind::When { .. } | ExprKind::Range { .. } => 0,
        _ => u8::MAX,
    }
}

/// An expression as a complete `expr` of the grammar (no outer parentheses).
pub(crate) fn expr(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, e);
    out
}

/// Writes a full expression. A range is only valid as a call argument, so
/// anywhere else it is bracketed (the parser never produces that).
fn write_expr(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Range { .. } => write_paren(out, e),
        _ => write_bare(out, e),
    }
}

/// Writes `e` inside parentheses when `paren` holds.
fn write_maybe(out: &mut String, e: &Expr, paren: bool) {
    if paren {
        write_paren(out, e);
    } else {
        write_expr(out, e);
    }
}

fn write_paren(out: &mut String, e: &Expr) {
    out.push('(');
    write_bare(out, e);
    out.push(')');
}

fn write_bare(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Number { raw, .. } => out.push_str(raw),
        ExprKind::Str(s) => out.push_str(&string(s)),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::Path(p) => out.push_str(&p.dotted()),
        ExprKind::Call(c) => write_call(out, c),
        ExprKind::List(items) => {
            out.push('[');
            write_list(out, items);
            out.push(']');
        }
        ExprKind::Tuple(items) => {
            out.push('(');
            write_list(out, items);
            out.push(')');
        }
        ExprKind::Unary { op, operand } => {
            out.push_str(match op {
                UnaryOp::Neg => "-",
                UnaryOp::Not => "not ",
            });
            write_maybe(out, operand, strength(operand) < op.precedence());
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let p = op.precedence();
            let (l, r) = (strength(lhs), strength(rhs));
            let tight = *op == BinaryOp::Pow || op.is_comparison();
            // `and` inside `or` is bracketed although precedence does not need
            // it: readers should not have to remember which binds tighter.
            let mixed = |e: &Expr| {
                *op == BinaryOp::Or
                    && matches!(
                        e.kind,
                        ExprKind::Binary {
                            op: BinaryOp::And,
                            ..
                        }
                    )
            };
            write_maybe(out, lhs, l < p || (l == p && tight) || mixed(lhs));
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            let right_assoc = *op == BinaryOp::Pow;
            write_maybe(out, rhs, r < p || (r == p && !right_assoc) || mixed(rhs));
        }
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => {
            out.push_str("if ");
            write_expr(out, cond);
            out.push_str(" then ");
            write_expr(out, then);
            out.push_str(" else ");
            write_expr(out, otherwise);
        }
        ExprKind::When {
            value,
            cond,
            otherwise,
        } => {
            // `value` and `cond` are operator expressions in the grammar.
            write_maybe(out, value, strength(value) == 0);
            out.push_str(" when ");
            write_maybe(out, cond, strength(cond) == 0);
            out.push_str(" else ");
            write_expr(out, otherwise);
        }
        ExprKind::Range { from, to } => {
            write_expr(out, from);
            out.push_str(" -> ");
            write_expr(out, to);
        }
    }
}

fn write_list(out: &mut String, items: &[Expr]) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_expr(out, item);
    }
}

fn write_call(out: &mut String, c: &Call) {
    out.push_str(&c.callee.dotted());
    out.push('(');
    for (i, a) in c.args.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_arg(out, a);
    }
    out.push(')');
}

/// A call on one line: `f(a, b = 1)`.
pub(crate) fn call(c: &Call) -> String {
    let mut out = String::new();
    write_call(&mut out, c);
    out
}

/// One argument: `value`, `name = value`, `from -> to`, `value where cond`.
pub(crate) fn arg(a: &Arg) -> String {
    let mut out = String::new();
    write_arg(&mut out, a);
    out
}

fn write_arg(out: &mut String, a: &Arg) {
    if let Some(name) = &a.name {
        out.push_str(&name.name);
        out.push_str(" = ");
    }
    // A range is exactly what an argument may hold at its top.
    write_bare(out, &a.value);
    if let Some(filter) = &a.filter {
        out.push_str(" where ");
        write_expr(out, filter);
    }
}

/// A string literal with canonical escapes: `\\`, `\"`, `\n`, `\t`, `\r`, and
/// `\u{X}` for any other control character.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:X}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
