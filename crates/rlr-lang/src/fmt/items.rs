//! Layout of items, statements and blocks.

use std::ops::Range;

use super::comments::{Text, place, split};
use super::expr::{self, string};
use super::{Lines, MAX_WIDTH, Rendered, align, push_trailing, spaces, width};
use crate::ast::{
    Arg, Binding, Call, Comment, Expr, ExprKind, Field, File, FilterKind, FnDef, Item, RecipeMeta,
    RewardBlock, Stage, StageItem,
};

/// Indentation of a block's body.
const BLOCK: usize = 2;
/// Indentation of a broken call's arguments.
const ARGS: usize = 4;

/// What a block needs to know about each of its children.
trait Child {
    /// The child's bytes in the source.
    fn span(&self) -> Range<usize>;
    /// The widths to align across a run of such children, if it aligns.
    fn key(&self) -> Option<(usize, usize)> {
        None
    }
    /// Whether a blank line always goes before it (unless it comes first).
    fn force_blank(&self) -> bool {
        false
    }
}

impl Child for Item {
    fn span(&self) -> Range<usize> {
        Item::span(self).range()
    }
    fn key(&self) -> Option<(usize, usize)> {
        match self {
            Item::Decl(d) => Some((d.kind.keyword().len(), width(&d.name.name))),
            _ => None,
        }
    }
    fn force_blank(&self) -> bool {
        matches!(self, Item::Fn(_) | Item::Stage(_))
    }
}

impl Child for StageItem {
    fn span(&self) -> Range<usize> {
        StageItem::span(self).range()
    }
    fn key(&self) -> Option<(usize, usize)> {
        match self {
            StageItem::Setting(f) => f.key(),
            _ => None,
        }
    }
}

impl Child for Field {
    fn span(&self) -> Range<usize> {
        self.span.range()
    }
    fn key(&self) -> Option<(usize, usize)> {
        Some((0, width(&self.name.name)))
    }
}

impl Child for Binding {
    fn span(&self) -> Range<usize> {
        self.span.range()
    }
    fn key(&self) -> Option<(usize, usize)> {
        Some((0, width(&self.name.name)))
    }
}

impl Child for Arg {
    fn span(&self) -> Range<usize> {
        self.span.range()
    }
}

/// A statement of a `fn` block: a binding, or the result at the end.
enum FnChild<'x> {
    Binding(&'x Binding),
    Result(&'x Expr),
}

impl Child for FnChild<'_> {
    fn span(&self) -> Range<usize> {
        match self {
            FnChild::Binding(b) => b.span.range(),
            FnChild::Result(e) => e.span.range(),
        }
    }
    fn key(&self) -> Option<(usize, usize)> {
        match self {
            FnChild::Binding(b) => b.key(),
            FnChild::Result(_) => None,
        }
    }
}

/// The parts of `name = value [else fallback]`, and what follows on the line.
struct Assign<'x> {
    name: &'x str,
    value: &'x Expr,
    fallback: Option<&'x Expr>,
    suffix: &'x str,
    /// Bracket the last expression (see [`ends_with_path`]).
    guard: bool,
}

/// Whether printed code ends with a name, so that a `(` after it would
/// make a call.
fn ends_with_path(code: &str) -> bool {
    let word_len = code
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
        .count();
    let word = code.get(code.len() - word_len..).unwrap_or_default();
    word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && !matches!(word, "true" | "false")
}

/// A block's opening-line comment and its body lines.
type Body<'c> = (Option<&'c Comment>, Vec<String>);

/// Prints a syntax tree against the text it was parsed from.
pub(crate) struct Printer<'a> {
    text: Text<'a>,
}

impl<'a> Printer<'a> {
    /// A printer for a tree parsed from `text`.
    pub(crate) fn new(text: &'a str, comments: &[Comment]) -> Self {
        Printer {
            text: Text::new(text, comments),
        }
    }

    /// The whole file, ending with a newline (empty if there is nothing).
    pub(crate) fn file(&self, file: &File) -> String {
        let comments: Vec<&Comment> = file.comments.iter().collect();
        let (_, lines) = self.block(0, true, None, &comments, &file.items, |item, inner, pad| {
            self.item(item, inner, pad)
        });
        if lines.is_empty() {
            String::new()
        } else {
            lines.join("\n") + "\n"
        }
    }

    /// Lays out the children of a block at `indent`: shares out the
    /// comments, aligns runs, decides blank lines. `keep_blanks` keeps the
    /// source's blank lines between children.
    fn block<'c, T: Child>(
        &self,
        indent: usize,
        keep_blanks: bool,
        open_line: Option<usize>,
        comments: &[&'c Comment],
        children: &[T],
        render: impl Fn(&T, Vec<&'c Comment>, (usize, usize)) -> Rendered<'c>,
    ) -> Body<'c> {
        let spans: Vec<Range<usize>> = children.iter().map(|c| self.text.trim(c.span())).collect();
        let pl = place(&self.text, comments, &spans, open_line);
        let mut renders: Vec<Rendered<'c>> = children
            .iter()
            .zip(&pl.inner)
            .map(|(c, inner)| render(c, inner.clone(), (0, 0)))
            .collect();
        let mut blanks = vec![false; children.len()];
        for i in 1..children.len() {
            let prev_end = pl.trailing[i - 1].map_or(spans[i - 1].end, |c| {
                spans[i - 1].end.max(c.span.range().end)
            });
            let start = pl.leading[i]
                .first()
                .map_or(spans[i].start, |c| c.span.range().start);
            blanks[i] = children[i].force_blank()
                || (keep_blanks && self.text.blank_between(prev_end, start));
        }
        let breaks: Vec<bool> = (0..children.len())
            .map(|i| blanks[i] || !pl.leading[i].is_empty() || !renders[i].hoisted.is_empty())
            .collect();
        let keys: Vec<Option<(usize, usize)>> = children.iter().map(Child::key).collect();
        let pads = align(&keys, &breaks);
        for (i, child) in children.iter().enumerate() {
            if keys[i].is_some() && keys[i] != Some(pads[i]) {
                renders[i] = render(child, pl.inner[i].clone(), pads[i]);
            }
        }
        let mut lines = Lines::new(&self.text, keep_blanks);
        for (i, r) in renders.into_iter().enumerate() {
            lines.group(
                indent,
                &pl.leading[i],
                r,
                spans[i].clone(),
                pl.trailing[i],
                blanks[i],
            );
        }
        lines.end_comments(indent, &pl.end);
        (pl.open, lines.finish())
    }

    /// Closes a block: the opening-line comment goes after `{`, then the
    /// body, then `}` at `indent`.
    fn close_block(&self, head: &mut Rendered<'_>, body: Body<'_>, indent: usize) {
        let (open, lines) = body;
        if let Some(c) = open {
            push_trailing(&mut head.lines, c);
        }
        head.lines.extend(lines);
        head.lines.push(format!("{}}}", spaces(indent)));
    }

    /// The region strictly inside the braces of a block ending at `end`,
    /// whose `{` is the first one from `from`.
    fn braces(&self, from: usize, end: usize) -> Option<Range<usize>> {
        self.text.region(from, '{', end.saturating_sub(1), '}')
    }

    fn item<'c>(&self, item: &Item, inner: Vec<&'c Comment>, pad: (usize, usize)) -> Rendered<'c> {
        match item {
            Item::Import(i) => Rendered::line(format!("import {}", string(&i.path.value)), inner),
            Item::Recipe(r) => self.recipe(r, inner),
            Item::Decl(d) => {
                let prefix = format!(
                    "{:<kw$} {:<name$} = ",
                    d.kind.keyword(),
                    d.name.name,
                    kw = pad.0,
                    name = pad.1
                );
                self.call_stmt(0, &prefix, &d.value, "", inner)
            }
            Item::Fn(f) => self.fn_def(f, inner),
            Item::Stage(s) => self.stage(0, s, inner),
        }
    }

    /// `recipe "Name" { a = 1, b = 2 }`, or one field per line.
    fn recipe<'c>(&self, r: &RecipeMeta, inner: Vec<&'c Comment>) -> Rendered<'c> {
        let head = format!("recipe {}", string(&r.name.value));
        let end = self.text.trim(r.span.range()).end;
        let region = self.braces(r.name.span.range().end, end);
        let (inside, hoisted) = split(inner, region.as_ref());
        if r.fields.is_empty() && inside.is_empty() {
            return Rendered::line(head, hoisted);
        }
        let fields: Vec<String> = r
            .fields
            .iter()
            .map(|f| format!("{} = {}", f.name.name, expr::expr(&f.value)))
            .collect();
        let one = format!("{head} {{ {} }}", fields.join(", "));
        if inside.is_empty() && width(&one) <= MAX_WIDTH {
            return Rendered::line(one, hoisted);
        }
        let open_line = region.map(|g| self.text.line(g.start));
        let body = self.block(
            BLOCK,
            false,
            open_line,
            &inside,
            &r.fields,
            |f, inner, pad| self.field(BLOCK, f, ",", inner, pad),
        );
        let mut out = Rendered {
            hoisted,
            lines: vec![format!("{head} {{")],
        };
        self.close_block(&mut out, body, 0);
        out
    }

    /// `fn name(params) = expr` or `fn name(params) { bindings result }`.
    fn fn_def<'c>(&self, f: &FnDef, inner: Vec<&'c Comment>) -> Rendered<'c> {
        let params: Vec<String> = f
            .params
            .iter()
            .map(|p| match &p.default {
                Some(d) => format!("{} = {}", p.name.name, expr::expr(d)),
                None => p.name.name.clone(),
            })
            .collect();
        let head = format!("fn {}({})", f.name.name, params.join(", "));
        if !f.block {
            return Rendered::line(format!("{head} = {}", expr::expr(&f.result)), inner);
        }
        let end = self.text.trim(f.span.range()).end;
        let after_params = f.params.last().map_or(f.name.span.range().end, |p| {
            self.text.trim(p.span.range()).end
        });
        let region = self
            .text
            .find(after_params, end, ')')
            .and_then(|paren| self.braces(paren + 1, end));
        let (inside, hoisted) = split(inner, region.as_ref());
        let mut children: Vec<FnChild<'_>> = f.bindings.iter().map(FnChild::Binding).collect();
        children.push(FnChild::Result(&f.result));
        // Nothing separates the result from the last binding: `x = a` then
        // `-b` reads as `x = a - b`, and `x = f` then `(a, b)` as a call.
        let mut result = expr::expr(&f.result);
        if result.starts_with('-') && !f.bindings.is_empty() {
            result = format!("({result})");
        }
        let guarded = f.bindings.last().filter(|b| {
            let last = b.fallback.as_ref().unwrap_or(&b.value);
            result.starts_with('(') && ends_with_path(&expr::expr(last))
        });
        let open_line = region.map(|g| self.text.line(g.start));
        let body = self.block(
            BLOCK,
            true,
            open_line,
            &inside,
            &children,
            |c, inner, pad| match c {
                FnChild::Binding(b) => {
                    let guard = guarded.is_some_and(|g| std::ptr::eq(g, *b));
                    self.binding(BLOCK, b, guard, inner, pad)
                }
                FnChild::Result(_) => Rendered::line(format!("{}{result}", spaces(BLOCK)), inner),
            },
        );
        let mut out = Rendered {
            hoisted,
            lines: vec![format!("{head} {{")],
        };
        self.close_block(&mut out, body, 0);
        out
    }

    /// `stage name = kind(args) { ... }`.
    fn stage<'c>(&self, indent: usize, s: &Stage, inner: Vec<&'c Comment>) -> Rendered<'c> {
        let prefix = format!("stage {} = ", s.name.name);
        let Some(body) = &s.body else {
            return self.call_stmt(indent, &prefix, &s.header, "", inner);
        };
        let sp = body.span.range();
        let region = self.braces(sp.start, sp.end);
        let (inside, rest) = split(inner, region.as_ref());
        if body.items.is_empty() && inside.is_empty() {
            return self.call_stmt(indent, &prefix, &s.header, " {}", rest);
        }
        let mut out = self.call_stmt(indent, &prefix, &s.header, " {", rest);
        let open_line = region.map(|g| self.text.line(g.start));
        let inner_indent = indent + BLOCK;
        let lines = self.block(
            inner_indent,
            true,
            open_line,
            &inside,
            &body.items,
            |item, inner, pad| self.stage_item(inner_indent, item, inner, pad),
        );
        self.close_block(&mut out, lines, indent);
        out
    }

    fn stage_item<'c>(
        &self,
        indent: usize,
        item: &StageItem,
        inner: Vec<&'c Comment>,
        pad: (usize, usize),
    ) -> Rendered<'c> {
        let ind = spaces(indent);
        match item {
            StageItem::Setting(f) => self.field(indent, f, "", inner, pad),
            StageItem::Branch(b) => self.call_stmt(
                indent,
                &format!("branch {} = ", b.name.name),
                &b.value,
                "",
                inner,
            ),
            StageItem::Reward(r) => self.reward(indent, r, inner),
            StageItem::Filter(f) => {
                let kw = match f.kind {
                    FilterKind::Halt => "halt",
                    FilterKind::Drop => "drop",
                };
                let mut line = format!("{ind}{kw} when {}", expr::expr(&f.cond));
                if let Some(u) = &f.unless {
                    line.push_str(" unless ");
                    line.push_str(&expr::expr(u));
                }
                Rendered::line(line, inner)
            }
            StageItem::Optimize(o) => {
                let mut line = format!("{ind}optimize {}", expr::expr(&o.target));
                if let Some(on) = &o.on {
                    line.push_str(" on ");
                    line.push_str(&on.name);
                }
                if let Some(s) = &o.scaled_by {
                    line.push_str(" scaled by ");
                    line.push_str(&expr::expr(s));
                }
                if let Some(w) = &o.weight {
                    line.push_str(" weight ");
                    line.push_str(&expr::expr(w));
                }
                if let Some(m) = &o.r#where {
                    line.push_str(" where ");
                    line.push_str(&expr::expr(m));
                }
                Rendered::line(line, inner)
            }
        }
    }

    /// `reward { bindings }`.
    fn reward<'c>(&self, indent: usize, r: &RewardBlock, inner: Vec<&'c Comment>) -> Rendered<'c> {
        let sp = r.span.range();
        let region = self.braces(sp.start, sp.end);
        let (inside, hoisted) = split(inner, region.as_ref());
        let ind = spaces(indent);
        if r.bindings.is_empty() && inside.is_empty() {
            return Rendered::line(format!("{ind}reward {{}}"), hoisted);
        }
        let open_line = region.map(|g| self.text.line(g.start));
        let inner_indent = indent + BLOCK;
        let body = self.block(
            inner_indent,
            true,
            open_line,
            &inside,
            &r.bindings,
            |b, inner, pad| self.binding(inner_indent, b, false, inner, pad),
        );
        let mut out = Rendered {
            hoisted,
            lines: vec![format!("{ind}reward {{")],
        };
        self.close_block(&mut out, body, indent);
        out
    }

    /// `name = expr [else fallback]`, the name padded to `pad.1`; with
    /// `guard`, the last expression is bracketed.
    fn binding<'c>(
        &self,
        indent: usize,
        b: &Binding,
        guard: bool,
        inner: Vec<&'c Comment>,
        pad: (usize, usize),
    ) -> Rendered<'c> {
        let a = Assign {
            name: &b.name.name,
            value: &b.value,
            fallback: b.fallback.as_ref(),
            suffix: "",
            guard,
        };
        self.assign(indent, a, inner, pad)
    }

    /// `name = value` (a setting or a recipe field) followed by `suffix`.
    fn field<'c>(
        &self,
        indent: usize,
        f: &Field,
        suffix: &str,
        inner: Vec<&'c Comment>,
        pad: (usize, usize),
    ) -> Rendered<'c> {
        let a = Assign {
            name: &f.name.name,
            value: &f.value,
            fallback: None,
            suffix,
            guard: false,
        };
        self.assign(indent, a, inner, pad)
    }

    /// `name = value[ else fallback][suffix]`, the name padded to `pad.1`;
    /// a call value may be broken over lines.
    fn assign<'c>(
        &self,
        indent: usize,
        a: Assign<'_>,
        inner: Vec<&'c Comment>,
        pad: (usize, usize),
    ) -> Rendered<'c> {
        let prefix = format!("{:<w$} = ", a.name, w = pad.1);
        let bracket = |e: &Expr| match a.guard {
            true => format!("({})", expr::expr(e)),
            false => expr::expr(e),
        };
        let (value, suffix) = match a.fallback {
            Some(e) => (
                expr::expr(a.value),
                format!(" else {}{}", bracket(e), a.suffix),
            ),
            None => (bracket(a.value), a.suffix.to_string()),
        };
        match &a.value.kind {
            ExprKind::Call(c) => self.call_stmt(indent, &prefix, c, &suffix, inner),
            _ => Rendered::line(format!("{}{prefix}{value}{suffix}", spaces(indent)), inner),
        }
    }

    /// A statement `prefix call suffix` at `indent`, on one line if it fits
    /// and has no comments inside the call's parentheses, else with one
    /// argument per line.
    fn call_stmt<'c>(
        &self,
        indent: usize,
        prefix: &str,
        call: &Call,
        suffix: &str,
        comments: Vec<&'c Comment>,
    ) -> Rendered<'c> {
        let ind = spaces(indent);
        let sp = call.span.range();
        let region = self.text.region(
            call.callee.span.range().end,
            '(',
            sp.end.saturating_sub(1),
            ')',
        );
        let (inside, hoisted) = split(comments, region.as_ref());
        let one = format!("{ind}{prefix}{}{suffix}", expr::call(call));
        if inside.is_empty() && (call.args.is_empty() || width(&one) <= MAX_WIDTH) {
            return Rendered::line(one, hoisted);
        }
        let open_line = region.map(|g| self.text.line(g.start));
        let arg_indent = indent + ARGS;
        let args = self.block(
            arg_indent,
            false,
            open_line,
            &inside,
            &call.args,
            |a, inner, _| Rendered::line(format!("{}{},", spaces(arg_indent), expr::arg(a)), inner),
        );
        let mut out = Rendered {
            hoisted,
            lines: vec![format!("{ind}{prefix}{}(", call.callee.dotted())],
        };
        let (open, lines) = args;
        if let Some(c) = open {
            push_trailing(&mut out.lines, c);
        }
        out.lines.extend(lines);
        out.lines.push(format!("{ind}){suffix}"));
        out
    }
}
