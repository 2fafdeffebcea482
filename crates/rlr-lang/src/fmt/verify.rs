//! The formatter's safety net: formatted text must parse to the same tree
//! (spans aside) and keep the same comments, or it is not returned.

use crate::ast::{
    Arg, Binding, Call, Expr, ExprKind, Field, File, Ident, Item, Path, StageItem, StrLit,
};
use crate::diagnostic::Diagnostic;
use crate::parse;
use crate::source::{SourceId, Span};

/// Checks that `out` means what `file` (parsed from the input) means.
pub(crate) fn same_meaning(source: SourceId, file: &File, out: &str) -> Result<(), Diagnostic> {
    let again = parse::parse(source, out).map_err(|d| {
        internal(
            source,
            format!("the formatted text would not parse ({})", d.message),
        )
    })?;
    if without_spans(&file.items) != without_spans(&again.items) {
        return Err(internal(
            source,
            "formatting would change the recipe's meaning".into(),
        ));
    }
    if comment_texts(file) != comment_texts(&again) {
        return Err(internal(
            source,
            "formatting would lose or change a comment".into(),
        ));
    }
    Ok(())
}

fn internal(source: SourceId, what: String) -> Diagnostic {
    Diagnostic::error(
        "E0090",
        format!("internal error: {what}"),
        Span::new(source, 0, 0),
    )
    .note("the file was left as it is")
    .help("please report this recipe; `rlr fmt` has a bug")
}

/// The comments' texts, sorted (a comment hoisted out of a construct may
/// change places with one left inside it).
fn comment_texts(file: &File) -> Vec<&str> {
    let mut texts: Vec<&str> = file.comments.iter().map(|c| c.text.as_str()).collect();
    texts.sort_unstable();
    texts
}

/// A copy of `items` with every span zeroed.
pub(crate) fn without_spans(items: &[Item]) -> Vec<Item> {
    let mut items = items.to_vec();
    items.iter_mut().for_each(item);
    items
}

const ZERO: Span = Span {
    source: SourceId(0),
    start: 0,
    end: 0,
};

fn item(i: &mut Item) {
    match i {
        Item::Import(i) => {
            i.span = ZERO;
            strlit(&mut i.path);
        }
        Item::Recipe(r) => {
            r.span = ZERO;
            strlit(&mut r.name);
            r.fields.iter_mut().for_each(field);
        }
        Item::Decl(d) => {
            d.span = ZERO;
            ident(&mut d.name);
            call(&mut d.value);
        }
        Item::Fn(f) => {
            f.span = ZERO;
            ident(&mut f.name);
            for p in &mut f.params {
                p.span = ZERO;
                ident(&mut p.name);
                if let Some(d) = &mut p.default {
                    expr(d);
                }
            }
            f.bindings.iter_mut().for_each(binding);
            expr(&mut f.result);
        }
        Item::Stage(s) => {
            s.span = ZERO;
            ident(&mut s.name);
            call(&mut s.header);
            if let Some(body) = &mut s.body {
                body.span = ZERO;
                body.items.iter_mut().for_each(stage_item);
            }
        }
    }
}

fn stage_item(i: &mut StageItem) {
    match i {
        StageItem::Setting(f) => field(f),
        StageItem::Branch(b) => {
            b.span = ZERO;
            ident(&mut b.name);
            call(&mut b.value);
        }
        StageItem::Reward(r) => {
            r.span = ZERO;
            r.bindings.iter_mut().for_each(binding);
        }
        StageItem::Filter(f) => {
            f.span = ZERO;
            expr(&mut f.cond);
            if let Some(u) = &mut f.unless {
                expr(u);
            }
        }
        StageItem::Optimize(o) => {
            o.span = ZERO;
            expr(&mut o.target);
            if let Some(on) = &mut o.on {
                ident(on);
            }
            for e in [&mut o.scaled_by, &mut o.weight, &mut o.r#where]
                .into_iter()
                .flatten()
            {
                expr(e);
            }
        }
    }
}

fn field(f: &mut Field) {
    f.span = ZERO;
    ident(&mut f.name);
    expr(&mut f.value);
}

fn binding(b: &mut Binding) {
    b.span = ZERO;
    ident(&mut b.name);
    expr(&mut b.value);
    if let Some(e) = &mut b.fallback {
        expr(e);
    }
}

fn call(c: &mut Call) {
    c.span = ZERO;
    path(&mut c.callee);
    c.args.iter_mut().for_each(arg);
}

fn arg(a: &mut Arg) {
    a.span = ZERO;
    if let Some(n) = &mut a.name {
        ident(n);
    }
    expr(&mut a.value);
    if let Some(f) = &mut a.filter {
        expr(f);
    }
}

fn path(p: &mut Path) {
    p.span = ZERO;
    p.segments.iter_mut().for_each(ident);
}

fn ident(i: &mut Ident) {
    i.span = ZERO;
}

fn strlit(s: &mut StrLit) {
    s.span = ZERO;
}

/// Zeroes an expression's spans.
pub(crate) fn expr(e: &mut Expr) {
    e.span = ZERO;
    match &mut e.kind {
        ExprKind::Number { .. } | ExprKind::Str(_) | ExprKind::Bool(_) => {}
        ExprKind::Path(p) => path(p),
        ExprKind::Call(c) => call(c),
        ExprKind::List(items) | ExprKind::Tuple(items) => items.iter_mut().for_each(expr),
        ExprKind::Unary { operand, .. } => expr(operand),
        ExprKind::Binary { lhs, rhs, .. } => {
            expr(lhs);
            expr(rhs);
        }
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => {
            expr(cond);
            expr(then);
            expr(otherwise);
        }
        ExprKind::When {
            value,
            cond,
            otherwise,
        } => {
            expr(value);
            expr(cond);
            expr(otherwise);
        }
        ExprKind::Range { from, to } => {
            expr(from);
            expr(to);
        }
    }
}
