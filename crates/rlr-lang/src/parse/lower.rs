//! Parse tree to [`ast`], one function per grammar rule.
//!
//! The grammar guarantees the shape of each pair, so a mismatch here is a bug
//! in this file; it is still reported as a diagnostic rather than a panic.

use std::sync::OnceLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::Rule;
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceId, Span};

type Result<T> = std::result::Result<T, Diagnostic>;

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::or, Assoc::Left))
            .op(Op::infix(Rule::and, Assoc::Left))
            .op(Op::prefix(Rule::not))
            .op(Op::infix(Rule::eq, Assoc::Left)
                | Op::infix(Rule::ne, Assoc::Left)
                | Op::infix(Rule::lt, Assoc::Left)
                | Op::infix(Rule::le, Assoc::Left)
                | Op::infix(Rule::gt, Assoc::Left)
                | Op::infix(Rule::ge, Assoc::Left))
            .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
            .op(Op::infix(Rule::mul, Assoc::Left) | Op::infix(Rule::div, Assoc::Left))
            .op(Op::prefix(Rule::neg))
            .op(Op::infix(Rule::pow, Assoc::Right))
    })
}

/// Lowers pairs of one source into syntax nodes.
pub struct Lowerer<'a> {
    source: SourceId,
    text: &'a str,
    /// How deeply expressions are nested right now (see [`MAX_DEPTH`]).
    depth: std::cell::Cell<usize>,
}

/// The deepest nesting of expressions accepted (`if` in `if`, operands of
/// operands). Later passes recurse over expressions, so this bounds their stack.
pub const MAX_DEPTH: usize = 32;

/// The most operators one expression may chain (`a + b + ...`).
pub const MAX_OPERATORS: usize = 256;

impl<'a> Lowerer<'a> {
    pub fn new(source: SourceId, text: &'a str) -> Self {
        Lowerer {
            source,
            text,
            depth: std::cell::Cell::new(0),
        }
    }

    /// The pair's span without the whitespace and comments pest consumed
    /// after it while trying optional parts that were not there.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(
            self.source,
            s.start(),
            trim_end(self.text, s.start(), s.end()),
        )
    }

    fn bug(&self, pair: &Pair<'_, Rule>, what: &str) -> Diagnostic {
        Diagnostic::error(
            "E0099",
            format!("internal error: unexpected syntax while reading {what}"),
            self.span(pair),
        )
        .help("please report this recipe; the parser and its grammar disagree")
    }

    fn next<'i>(
        &self,
        pairs: &mut Pairs<'i, Rule>,
        parent: &Pair<'i, Rule>,
        what: &str,
    ) -> Result<Pair<'i, Rule>> {
        pairs.next().ok_or_else(|| self.bug(parent, what))
    }

    pub fn file(&self, file: Pair<'_, Rule>) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        for pair in file.into_inner() {
            let item = match pair.as_rule() {
                Rule::import => Item::Import(self.import(pair)?),
                Rule::recipe => Item::Recipe(self.recipe(pair)?),
                Rule::decl => Item::Decl(self.decl(pair)?),
                Rule::fn_def => Item::Fn(self.fn_def(pair)?),
                Rule::stage => Item::Stage(self.stage(pair)?),
                Rule::EOI => continue,
                _ => return Err(self.bug(&pair, "a top-level item")),
            };
            items.push(item);
        }
        Ok(items)
    }

    fn import(&self, pair: Pair<'_, Rule>) -> Result<Import> {
        let span = self.span(&pair);
        let string = pair
            .clone()
            .into_inner()
            .find(|p| p.as_rule() == Rule::string)
            .ok_or_else(|| self.bug(&pair, "an import"))?;
        Ok(Import {
            path: self.string(string)?,
            span,
        })
    }

    fn recipe(&self, pair: Pair<'_, Rule>) -> Result<RecipeMeta> {
        let span = self.span(&pair);
        let mut name = None;
        let mut fields = Vec::new();
        for p in pair.clone().into_inner() {
            match p.as_rule() {
                Rule::string => name = Some(self.string(p)?),
                Rule::field => fields.push(self.field(p)?),
                _ => {}
            }
        }
        let name = name.ok_or_else(|| self.bug(&pair, "a recipe header"))?;
        Ok(RecipeMeta { name, fields, span })
    }

    fn field(&self, pair: Pair<'_, Rule>) -> Result<Field> {
        let span = self.span(&pair);
        let mut inner = pair
            .clone()
            .into_inner()
            .filter(|p| p.as_rule() != Rule::assign);
        let name = self.ident(inner.next().ok_or_else(|| self.bug(&pair, "a setting"))?);
        let value = self.expr(inner.next().ok_or_else(|| self.bug(&pair, "a setting"))?)?;
        Ok(Field { name, value, span })
    }

    fn decl(&self, pair: Pair<'_, Rule>) -> Result<Decl> {
        let span = self.span(&pair);
        let mut inner = pair
            .clone()
            .into_inner()
            .filter(|p| p.as_rule() != Rule::assign);
        let kind_pair = inner
            .next()
            .ok_or_else(|| self.bug(&pair, "a declaration"))?;
        let kind = match kind_pair.as_str() {
            "model" => DeclKind::Model,
            "task" => DeclKind::Task,
            _ => DeclKind::Tool,
        };
        let name = self.ident(
            inner
                .next()
                .ok_or_else(|| self.bug(&pair, "a declaration"))?,
        );
        let value = self.call(
            inner
                .next()
                .ok_or_else(|| self.bug(&pair, "a declaration"))?,
        )?;
        Ok(Decl {
            kind,
            name,
            value,
            span,
        })
    }

    fn fn_def(&self, pair: Pair<'_, Rule>) -> Result<FnDef> {
        let span = self.span(&pair);
        let mut name = None;
        let mut params = Vec::new();
        let mut bindings = Vec::new();
        let mut result = None;
        let mut block = false;
        for p in pair.clone().into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::param => params.push(self.param(p)?),
                Rule::fn_expr => {
                    let e = p.clone().into_inner().find(|q| q.as_rule() == Rule::expr);
                    result = Some(self.expr(e.ok_or_else(|| self.bug(&p, "a function body"))?)?);
                }
                Rule::fn_block => {
                    block = true;
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::binding => bindings.push(self.binding(q)?),
                            Rule::expr => result = Some(self.expr(q)?),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        let name = name.ok_or_else(|| self.bug(&pair, "a function"))?;
        let result = result.ok_or_else(|| self.bug(&pair, "a function body"))?;
        Ok(FnDef {
            name,
            params,
            bindings,
            result,
            block,
            span,
        })
    }

    fn param(&self, pair: Pair<'_, Rule>) -> Result<Param> {
        let span = self.span(&pair);
        let mut inner = pair
            .clone()
            .into_inner()
            .filter(|p| p.as_rule() != Rule::assign);
        let name = self.ident(inner.next().ok_or_else(|| self.bug(&pair, "a parameter"))?);
        let default = inner.next().map(|p| self.expr(p)).transpose()?;
        Ok(Param {
            name,
            default,
            span,
        })
    }

    fn stage(&self, pair: Pair<'_, Rule>) -> Result<Stage> {
        let span = self.span(&pair);
        let mut name = None;
        let mut header = None;
        let mut body = None;
        for p in pair.clone().into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::call => header = Some(self.call(p)?),
                Rule::stage_body => body = Some(self.stage_body(p)?),
                _ => {}
            }
        }
        Ok(Stage {
            name: name.ok_or_else(|| self.bug(&pair, "a stage"))?,
            header: header.ok_or_else(|| self.bug(&pair, "a stage"))?,
            body,
            span,
        })
    }

    fn stage_body(&self, pair: Pair<'_, Rule>) -> Result<StageBody> {
        let span = self.span(&pair);
        let mut items = Vec::new();
        for p in pair.into_inner() {
            items.push(match p.as_rule() {
                Rule::field => StageItem::Setting(self.field(p)?),
                Rule::branch => StageItem::Branch(self.branch(p)?),
                Rule::reward => StageItem::Reward(self.reward(p)?),
                Rule::filter => StageItem::Filter(self.filter(p)?),
                Rule::optimize => StageItem::Optimize(Box::new(self.optimize(p)?)),
                _ => return Err(self.bug(&p, "a stage statement")),
            });
        }
        Ok(StageBody { items, span })
    }

    fn branch(&self, pair: Pair<'_, Rule>) -> Result<Branch> {
        let span = self.span(&pair);
        let mut name = None;
        let mut value = None;
        for p in pair.clone().into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::call => value = Some(self.call(p)?),
                _ => {}
            }
        }
        Ok(Branch {
            name: name.ok_or_else(|| self.bug(&pair, "a branch"))?,
            value: value.ok_or_else(|| self.bug(&pair, "a branch"))?,
            span,
        })
    }

    fn reward(&self, pair: Pair<'_, Rule>) -> Result<RewardBlock> {
        let span = self.span(&pair);
        let mut bindings = Vec::new();
        for p in pair.into_inner() {
            if p.as_rule() == Rule::binding {
                bindings.push(self.binding(p)?);
            }
        }
        Ok(RewardBlock { bindings, span })
    }

    fn binding(&self, pair: Pair<'_, Rule>) -> Result<Binding> {
        let span = self.span(&pair);
        let mut name = None;
        let mut value = None;
        let mut fallback = None;
        for p in pair.clone().into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::expr => value = Some(self.expr(p)?),
                Rule::fallback => {
                    let e = p.clone().into_inner().find(|q| q.as_rule() == Rule::expr);
                    fallback = Some(self.expr(e.ok_or_else(|| self.bug(&p, "a fallback"))?)?);
                }
                _ => {}
            }
        }
        Ok(Binding {
            name: name.ok_or_else(|| self.bug(&pair, "a binding"))?,
            value: value.ok_or_else(|| self.bug(&pair, "a binding"))?,
            fallback,
            span,
        })
    }

    fn filter(&self, pair: Pair<'_, Rule>) -> Result<Filter> {
        let span = self.span(&pair);
        let mut kind = FilterKind::Halt;
        let mut cond = None;
        let mut unless = None;
        for p in pair.clone().into_inner() {
            match p.as_rule() {
                Rule::filter_kind => {
                    kind = if p.as_str() == "drop" {
                        FilterKind::Drop
                    } else {
                        FilterKind::Halt
                    }
                }
                Rule::expr => cond = Some(self.expr(p)?),
                Rule::unless => {
                    let e = p.clone().into_inner().find(|q| q.as_rule() == Rule::expr);
                    unless = Some(self.expr(e.ok_or_else(|| self.bug(&p, "`unless`"))?)?);
                }
                _ => {}
            }
        }
        Ok(Filter {
            kind,
            cond: cond.ok_or_else(|| self.bug(&pair, "a filter"))?,
            unless,
            span,
        })
    }

    fn optimize(&self, pair: Pair<'_, Rule>) -> Result<Optimize> {
        let span = self.span(&pair);
        let mut target = None;
        let mut on = None;
        let mut scaled_by = None;
        let mut weight = None;
        let mut r#where = None;
        let mut seen: Vec<(Rule, Span)> = Vec::new();
        for p in pair.clone().into_inner() {
            if matches!(
                p.as_rule(),
                Rule::on_clause | Rule::scaled_by | Rule::weight | Rule::where_clause
            ) {
                let here = self.span(&p);
                if let Some((_, first)) = seen.iter().find(|(r, _)| *r == p.as_rule()) {
                    let word = p.as_str().split_whitespace().next().unwrap_or("clause");
                    return Err(Diagnostic::error("E0014", format!("`{word}` is given twice in one `optimize`"), here)
                        .with(*first, "first given here")
                        .help("write each of `on`, `scaled by`, `weight` and `where` at most once; use a second `optimize` for a second term"));
                }
                seen.push((p.as_rule(), here));
            }
            match p.as_rule() {
                Rule::expr => target = Some(self.expr(p)?),
                Rule::on_clause => {
                    let id = p.clone().into_inner().find(|q| q.as_rule() == Rule::ident);
                    on = Some(self.ident(id.ok_or_else(|| self.bug(&p, "`on`"))?));
                }
                Rule::scaled_by => {
                    let e = p.clone().into_inner().find(|q| q.as_rule() == Rule::expr);
                    scaled_by = Some(self.expr(e.ok_or_else(|| self.bug(&p, "`scaled by`"))?)?);
                }
                Rule::weight => {
                    let e = p.clone().into_inner().find(|q| q.as_rule() == Rule::expr);
                    weight = Some(self.expr(e.ok_or_else(|| self.bug(&p, "`weight`"))?)?);
                }
                Rule::where_clause => {
                    let e = p.clone().into_inner().find(|q| q.as_rule() == Rule::expr);
                    r#where = Some(self.expr(e.ok_or_else(|| self.bug(&p, "`where`"))?)?);
                }
                _ => {}
            }
        }
        Ok(Optimize {
            target: target.ok_or_else(|| self.bug(&pair, "`optimize`"))?,
            on,
            scaled_by,
            weight,
            r#where,
            span,
        })
    }

    // ------------------------------------------------------------ expressions

    fn expr(&self, pair: Pair<'_, Rule>) -> Result<Expr> {
        let depth = self.depth.get() + 1;
        if depth > MAX_DEPTH {
            return Err(Diagnostic::error(
                "E0005",
                format!("expressions are nested more than {MAX_DEPTH} deep here"),
                self.span(&pair),
            )
            .help("name parts of the expression with their own bindings"));
        }
        self.depth.set(depth);
        let out = self.expr_inner(pair);
        self.depth.set(depth - 1);
        out
    }

    fn expr_inner(&self, pair: Pair<'_, Rule>) -> Result<Expr> {
        let span = self.span(&pair);
        let mut inner = pair.clone().into_inner();
        let op = self.next(&mut inner, &pair, "an expression")?;
        let value = self.operation(op)?;
        match inner.next() {
            None => Ok(value),
            Some(tail) => {
                let mut parts = tail
                    .clone()
                    .into_inner()
                    .filter(|p| matches!(p.as_rule(), Rule::operation | Rule::expr));
                let cond =
                    self.operation(parts.next().ok_or_else(|| self.bug(&tail, "`when`"))?)?;
                let otherwise =
                    self.expr(parts.next().ok_or_else(|| self.bug(&tail, "`when`"))?)?;
                Ok(Expr {
                    kind: ExprKind::When {
                        value: Box::new(value),
                        cond: Box::new(cond),
                        otherwise: Box::new(otherwise),
                    },
                    span,
                })
            }
        }
    }

    fn operation(&self, pair: Pair<'_, Rule>) -> Result<Expr> {
        let source = self.source;
        let operators = pair
            .clone()
            .into_inner()
            .filter(|p| !is_operand(p.as_rule()))
            .count();
        if operators > MAX_OPERATORS {
            return Err(Diagnostic::error(
                "E0005",
                format!("this expression has {operators} operators; the limit is {MAX_OPERATORS}"),
                self.span(&pair),
            )
            .help("split it into several bindings, or use a reduction such as `sum(...)`"));
        }
        pratt()
            .map_primary(|p| self.primary(p))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let start = op.as_span().start();
                let kind = if op.as_rule() == Rule::neg {
                    UnaryOp::Neg
                } else {
                    UnaryOp::Not
                };
                Ok(Expr {
                    span: Span::new(source, start, rhs.span.end as usize),
                    kind: ExprKind::Unary {
                        op: kind,
                        operand: Box::new(rhs),
                    },
                })
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let op_kind = match op.as_rule() {
                    Rule::or => BinaryOp::Or,
                    Rule::and => BinaryOp::And,
                    Rule::eq => BinaryOp::Eq,
                    Rule::ne => BinaryOp::Ne,
                    Rule::lt => BinaryOp::Lt,
                    Rule::le => BinaryOp::Le,
                    Rule::gt => BinaryOp::Gt,
                    Rule::ge => BinaryOp::Ge,
                    Rule::add => BinaryOp::Add,
                    Rule::sub => BinaryOp::Sub,
                    Rule::mul => BinaryOp::Mul,
                    Rule::div => BinaryOp::Div,
                    _ => BinaryOp::Pow,
                };
                // `(a < b) == c` is fine: the brackets end before the operator.
                let bracketed =
                    self.text[lhs.span.end as usize..op.as_span().start()].contains(')');
                if op_kind.is_comparison()
                    && !bracketed
                    && let ExprKind::Binary { op: inner, .. } = &lhs.kind
                    && inner.is_comparison()
                {
                    let s = op.as_span();
                    return Err(Diagnostic::error(
                        "E0011",
                        "comparisons cannot be chained",
                        Span::new(source, s.start(), s.end()),
                    )
                    .label("second comparison")
                    .with(lhs.span, "this is already a comparison")
                    .help("join two comparisons with `and`, e.g. `0 < x and x < 1`"));
                }
                Ok(Expr {
                    span: lhs.span.to(rhs.span),
                    kind: ExprKind::Binary {
                        op: op_kind,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                })
            })
            .parse(pair.into_inner())
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> Result<Expr> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::number => return self.number(pair),
            Rule::string => {
                let s = self.string(pair)?;
                ExprKind::Str(s.value)
            }
            Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
            Rule::path => ExprKind::Path(self.path(pair)),
            Rule::call => ExprKind::Call(self.call(pair)?),
            Rule::list => ExprKind::List(self.exprs(pair)?),
            Rule::paren => {
                let is_tuple = pair
                    .clone()
                    .into_inner()
                    .any(|p| p.as_rule() == Rule::comma);
                let mut items = self.exprs(pair.clone())?;
                if is_tuple {
                    ExprKind::Tuple(items)
                } else {
                    return items.pop().ok_or_else(|| self.bug(&pair, "parentheses"));
                }
            }
            Rule::if_expr => {
                let mut parts = pair
                    .clone()
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::expr);
                let mut take = |this: &Self| -> Result<Box<Expr>> {
                    let p = parts.next().ok_or_else(|| this.bug(&pair, "`if`"))?;
                    Ok(Box::new(this.expr(p)?))
                };
                let cond = take(self)?;
                let then = take(self)?;
                let otherwise = take(self)?;
                ExprKind::If {
                    cond,
                    then,
                    otherwise,
                }
            }
            _ => return Err(self.bug(&pair, "an expression")),
        };
        Ok(Expr { kind, span })
    }

    fn exprs(&self, pair: Pair<'_, Rule>) -> Result<Vec<Expr>> {
        pair.into_inner()
            .filter(|p| p.as_rule() == Rule::expr)
            .map(|p| self.expr(p))
            .collect()
    }

    fn number(&self, pair: Pair<'_, Rule>) -> Result<Expr> {
        let span = self.span(&pair);
        let raw = pair.as_str().to_string();
        let value: f64 = raw.replace('_', "").parse().map_err(|_| {
            Diagnostic::error("E0012", format!("`{raw}` is not a valid number"), span)
                .help("write numbers like `3`, `0.5` or `3e-4`")
        })?;
        if !value.is_finite() {
            return Err(Diagnostic::error(
                "E0012",
                format!("`{raw}` is too large to be a number"),
                span,
            )
            .help("numbers must be finite 64-bit floats"));
        }
        Ok(Expr {
            kind: ExprKind::Number { value, raw },
            span,
        })
    }

    fn call(&self, pair: Pair<'_, Rule>) -> Result<Call> {
        let span = self.span(&pair);
        let mut inner = pair.clone().into_inner();
        let head = self.next(&mut inner, &pair, "a call")?;
        let path = head
            .clone()
            .into_inner()
            .next()
            .ok_or_else(|| self.bug(&head, "a call"))?;
        let callee = self.path(path);
        let mut args = Vec::new();
        for p in inner {
            if p.as_rule() == Rule::arg {
                args.push(self.arg(p)?);
            }
        }
        Ok(Call { callee, args, span })
    }

    fn arg(&self, pair: Pair<'_, Rule>) -> Result<Arg> {
        let span = self.span(&pair);
        let mut name = None;
        let mut exprs = Vec::new();
        let mut arrow = false;
        let mut filter = None;
        for p in pair.clone().into_inner() {
            match p.as_rule() {
                Rule::ident | Rule::key => name = Some(self.ident(p)),
                Rule::expr => exprs.push(self.expr(p)?),
                Rule::arrow => arrow = true,
                Rule::where_tail => {
                    let e = p.clone().into_inner().find(|q| q.as_rule() == Rule::expr);
                    filter = Some(self.expr(e.ok_or_else(|| self.bug(&p, "`where`"))?)?);
                }
                _ => {}
            }
        }
        let mut exprs = exprs.into_iter();
        let first = exprs.next().ok_or_else(|| self.bug(&pair, "an argument"))?;
        let value = if arrow {
            let to = exprs.next().ok_or_else(|| self.bug(&pair, "`->`"))?;
            Expr {
                span: first.span.to(to.span),
                kind: ExprKind::Range {
                    from: Box::new(first),
                    to: Box::new(to),
                },
            }
        } else {
            first
        };
        Ok(Arg {
            name,
            value,
            filter,
            span,
        })
    }

    fn path(&self, pair: Pair<'_, Rule>) -> Path {
        let span = self.span(&pair);
        let segments = pair.into_inner().map(|p| self.ident(p)).collect();
        Path { segments, span }
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn string(&self, pair: Pair<'_, Rule>) -> Result<StrLit> {
        let span = self.span(&pair);
        let inner_start = pair.as_span().start() + 1;
        let raw = pair.as_str();
        let raw = &raw[1..raw.len().saturating_sub(1).max(1)];
        let mut value = String::with_capacity(raw.len());
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                value.push(c);
                continue;
            }
            let bad = |len: usize, what: &str| {
                Diagnostic::error(
                    "E0013",
                    format!("unknown escape `{}` in a string", &raw[i..(i + len).min(raw.len())]),
                    Span::new(self.source, inner_start + i, inner_start + (i + len).min(raw.len())),
                )
                .label(what.to_string())
                .help("the escapes are \\\\, \\\", \\n, \\t, \\r and \\u{XXXX}; write \\\\ for a backslash")
            };
            match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, '\\')) => value.push('\\'),
                Some((_, '"')) => value.push('"'),
                Some((_, 'u')) => {
                    let rest = &raw[i + 2..];
                    let close = rest.find('}');
                    let code = rest
                        .strip_prefix('{')
                        .and_then(|r| close.map(|c| &r[..c - 1]))
                        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                        .and_then(char::from_u32);
                    match (code, close) {
                        (Some(ch), Some(c)) => {
                            value.push(ch);
                            for _ in 0..c + 1 {
                                chars.next();
                            }
                        }
                        _ => return Err(bad(2, "expected `\\u{XXXX}` with 1 to 6 hex digits")),
                    }
                }
                Some((_, c)) => return Err(bad(1 + c.len_utf8(), "not an escape")),
                None => return Err(bad(1, "a string cannot end with a lone backslash")),
            }
        }
        let _ = self.text;
        Ok(StrLit { value, span })
    }
}

/// The end of `text[start..end]` with trailing whitespace and comments removed.
fn trim_end(text: &str, start: usize, mut end: usize) -> usize {
    loop {
        let trimmed = start + text[start..end].trim_end().len();
        let line_start = text[start..trimmed]
            .rfind('\n')
            .map_or(start, |i| start + i + 1);
        match comment_start(&text[line_start..trimmed]) {
            Some(i) => end = line_start + i,
            None => return trimmed,
        }
    }
}

/// Where a `#` comment starts in one line, ignoring `#` inside strings.
fn comment_start(line: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '#' {
            return Some(i);
        }
    }
    None
}

/// Whether a child of an operator expression is an operand (not an operator).
fn is_operand(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::if_expr
            | Rule::call
            | Rule::number
            | Rule::string
            | Rule::boolean
            | Rule::list
            | Rule::paren
            | Rule::path
    )
}
