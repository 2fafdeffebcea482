//! A compact, stable rendering of syntax trees for snapshots: one node per
//! line, with `line:col-line:col` spans.

use std::fmt::Write as _;

use rlr_lang::Source;
use rlr_lang::ast::*;

struct Printer<'a> {
    src: &'a Source,
    out: String,
}

impl Printer<'_> {
    fn at(&self, span: rlr_lang::Span) -> String {
        let (l1, c1) = self.src.line_col(span.start as usize);
        let (l2, c2) = self.src.line_col(span.end as usize);
        format!("@{l1}:{c1}-{l2}:{c2}")
    }

    fn line(&mut self, depth: usize, text: &str, span: rlr_lang::Span) {
        let at = self.at(span);
        let _ = writeln!(self.out, "{}{text} {at}", "  ".repeat(depth));
    }

    fn expr(&mut self, d: usize, e: &Expr) {
        match &e.kind {
            ExprKind::Number { raw, .. } => self.line(d, &format!("Number {raw}"), e.span),
            ExprKind::Str(s) => self.line(d, &format!("Str {s:?}"), e.span),
            ExprKind::Bool(b) => self.line(d, &format!("Bool {b}"), e.span),
            ExprKind::Path(p) => self.line(d, &format!("Path {}", p.dotted()), e.span),
            ExprKind::Call(c) => self.call(d, c),
            ExprKind::List(xs) | ExprKind::Tuple(xs) => {
                let what = if matches!(e.kind, ExprKind::List(_)) {
                    "List"
                } else {
                    "Tuple"
                };
                self.line(d, what, e.span);
                xs.iter().for_each(|x| self.expr(d + 1, x));
            }
            ExprKind::Unary { op, operand } => {
                self.line(d, &format!("Unary {op:?}"), e.span);
                self.expr(d + 1, operand);
            }
            ExprKind::Binary { op, lhs, rhs } => {
                self.line(d, &format!("Binary {}", op.symbol()), e.span);
                self.expr(d + 1, lhs);
                self.expr(d + 1, rhs);
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.line(d, "If", e.span);
                for x in [cond, then, otherwise] {
                    self.expr(d + 1, x);
                }
            }
            ExprKind::When {
                value,
                cond,
                otherwise,
            } => {
                self.line(d, "When", e.span);
                for x in [value, cond, otherwise] {
                    self.expr(d + 1, x);
                }
            }
            ExprKind::Range { from, to } => {
                self.line(d, "Range", e.span);
                self.expr(d + 1, from);
                self.expr(d + 1, to);
            }
        }
    }

    fn call(&mut self, d: usize, c: &Call) {
        self.line(d, &format!("Call {}", c.callee.dotted()), c.span);
        for a in &c.args {
            let name = a
                .name
                .as_ref()
                .map_or(String::new(), |n| format!(" {}=", n.name));
            self.line(d + 1, &format!("Arg{name}"), a.span);
            self.expr(d + 2, &a.value);
            if let Some(f) = &a.filter {
                self.line(d + 2, "Where", f.span);
                self.expr(d + 3, f);
            }
        }
    }

    fn binding(&mut self, d: usize, b: &Binding) {
        self.line(d, &format!("Binding {}", b.name.name), b.span);
        self.expr(d + 1, &b.value);
        if let Some(f) = &b.fallback {
            self.line(d + 1, "Else", f.span);
            self.expr(d + 2, f);
        }
    }

    fn file(&mut self, f: &File) {
        for item in &f.items {
            match item {
                Item::Import(i) => self.line(0, &format!("Import {:?}", i.path.value), i.span),
                Item::Recipe(r) => {
                    self.line(0, &format!("Recipe {:?}", r.name.value), r.span);
                    for fl in &r.fields {
                        self.line(1, &format!("Field {}", fl.name.name), fl.span);
                        self.expr(2, &fl.value);
                    }
                }
                Item::Decl(dl) => {
                    self.line(
                        0,
                        &format!("{} {}", dl.kind.keyword(), dl.name.name),
                        dl.span,
                    );
                    self.call(1, &dl.value);
                }
                Item::Fn(def) => {
                    let params: Vec<&str> =
                        def.params.iter().map(|p| p.name.name.as_str()).collect();
                    self.line(
                        0,
                        &format!("Fn {}({})", def.name.name, params.join(", ")),
                        def.span,
                    );
                    for p in def.params.iter().filter(|p| p.default.is_some()) {
                        self.line(1, &format!("Default {}", p.name.name), p.span);
                        if let Some(x) = &p.default {
                            self.expr(2, x);
                        }
                    }
                    def.bindings.iter().for_each(|b| self.binding(1, b));
                    self.line(1, "Result", def.result.span);
                    self.expr(2, &def.result);
                }
                Item::Stage(s) => {
                    self.line(0, &format!("Stage {}", s.name.name), s.span);
                    self.call(1, &s.header);
                    for it in s.body.iter().flat_map(|b| &b.items) {
                        match it {
                            StageItem::Setting(fl) => {
                                self.line(1, &format!("Setting {}", fl.name.name), fl.span);
                                self.expr(2, &fl.value);
                            }
                            StageItem::Branch(b) => {
                                self.line(1, &format!("Branch {}", b.name.name), b.span);
                                self.call(2, &b.value);
                            }
                            StageItem::Reward(r) => {
                                self.line(1, "Reward", r.span);
                                r.bindings.iter().for_each(|b| self.binding(2, b));
                            }
                            StageItem::Filter(fl) => {
                                self.line(1, &format!("Filter {}", fl.kind.keyword()), fl.span);
                                self.expr(2, &fl.cond);
                                if let Some(u) = &fl.unless {
                                    self.line(2, "Unless", u.span);
                                    self.expr(3, u);
                                }
                            }
                            StageItem::Optimize(o) => {
                                self.line(1, "Optimize", o.span);
                                self.expr(2, &o.target);
                                if let Some(b) = &o.on {
                                    self.line(2, &format!("On {}", b.name), b.span);
                                }
                                if let Some(x) = &o.scaled_by {
                                    self.line(2, "ScaledBy", x.span);
                                    self.expr(3, x);
                                }
                                if let Some(x) = &o.weight {
                                    self.line(2, "Weight", x.span);
                                    self.expr(3, x);
                                }
                                if let Some(x) = &o.r#where {
                                    self.line(2, "Where", x.span);
                                    self.expr(3, x);
                                }
                            }
                        }
                    }
                }
            }
        }
        for c in &f.comments {
            self.line(0, &format!("Comment {:?}", c.text), c.span);
        }
    }
}

/// The tree of a parsed file, one node per line.
pub fn render(src: &Source, file: &File) -> String {
    let mut p = Printer {
        src,
        out: String::new(),
    };
    p.file(file);
    p.out
}
