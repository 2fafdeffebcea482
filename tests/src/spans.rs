//! Span invariants over every fixture, recipe and example that parses:
//! each child's span lies inside its parent's, siblings come in order, and
//! everything lies inside the file.

use rlr_lang::ast::*;
use rlr_lang::{SourceId, Span};

struct Walk {
    errors: Vec<String>,
}

impl Walk {
    fn inside(&mut self, parent: Span, child: Span, what: &str) {
        if !parent.contains(child) {
            self.errors
                .push(format!("{what} {child:?} is outside its parent {parent:?}"));
        }
    }

    fn ordered(&mut self, spans: &[Span], what: &str) {
        for w in spans.windows(2) {
            if w[0].end > w[1].start {
                self.errors.push(format!(
                    "{what}: {:?} overlaps or precedes {:?}",
                    w[0], w[1]
                ));
            }
        }
    }

    fn expr(&mut self, parent: Span, e: &Expr) {
        self.inside(parent, e.span, "expression");
        match &e.kind {
            ExprKind::Path(p) => {
                self.inside(e.span, p.span, "path");
                let spans: Vec<Span> = p.segments.iter().map(|s| s.span).collect();
                self.ordered(&spans, "path segments");
            }
            ExprKind::Call(c) => self.call(e.span, c),
            ExprKind::List(xs) | ExprKind::Tuple(xs) => {
                self.ordered(&xs.iter().map(|x| x.span).collect::<Vec<_>>(), "elements");
                xs.iter().for_each(|x| self.expr(e.span, x));
            }
            ExprKind::Unary { operand, .. } => self.expr(e.span, operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.ordered(&[lhs.span, rhs.span], "operands");
                self.expr(e.span, lhs);
                self.expr(e.span, rhs);
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.ordered(&[cond.span, then.span, otherwise.span], "if");
                for x in [cond, then, otherwise] {
                    self.expr(e.span, x);
                }
            }
            ExprKind::When {
                value,
                cond,
                otherwise,
            } => {
                self.ordered(&[value.span, cond.span, otherwise.span], "when");
                for x in [value, cond, otherwise] {
                    self.expr(e.span, x);
                }
            }
            ExprKind::Range { from, to } => {
                self.ordered(&[from.span, to.span], "range");
                self.expr(e.span, from);
                self.expr(e.span, to);
            }
            ExprKind::Number { .. } | ExprKind::Str(_) | ExprKind::Bool(_) => {}
        }
    }

    fn call(&mut self, parent: Span, c: &Call) {
        self.inside(parent, c.span, "call");
        self.inside(c.span, c.callee.span, "callee");
        let spans: Vec<Span> = c.args.iter().map(|a| a.span).collect();
        self.ordered(&spans, "arguments");
        for a in &c.args {
            self.inside(c.span, a.span, "argument");
            if let Some(n) = &a.name {
                self.inside(a.span, n.span, "argument name");
            }
            self.expr(a.span, &a.value);
            if let Some(f) = &a.filter {
                self.expr(a.span, f);
            }
        }
    }

    fn binding(&mut self, parent: Span, b: &Binding) {
        self.inside(parent, b.span, "binding");
        self.inside(b.span, b.name.span, "binding name");
        self.expr(b.span, &b.value);
        if let Some(f) = &b.fallback {
            self.expr(b.span, f);
        }
    }

    fn file(&mut self, f: &File) {
        let spans: Vec<Span> = f.items.iter().map(Item::span).collect();
        self.ordered(&spans, "items");
        for item in &f.items {
            let s = item.span();
            self.inside(f.span, s, "item");
            match item {
                Item::Import(i) => self.inside(s, i.path.span, "import path"),
                Item::Recipe(r) => {
                    self.inside(s, r.name.span, "recipe name");
                    for fl in &r.fields {
                        self.inside(s, fl.span, "field");
                        self.expr(fl.span, &fl.value);
                    }
                }
                Item::Decl(d) => {
                    self.inside(s, d.name.span, "declared name");
                    self.call(s, &d.value);
                }
                Item::Fn(def) => {
                    self.inside(s, def.name.span, "function name");
                    for p in &def.params {
                        self.inside(s, p.span, "parameter");
                        if let Some(d) = &p.default {
                            self.expr(p.span, d);
                        }
                    }
                    for b in &def.bindings {
                        self.binding(s, b);
                    }
                    self.expr(s, &def.result);
                }
                Item::Stage(st) => {
                    self.inside(s, st.name.span, "stage name");
                    self.call(s, &st.header);
                    if let Some(body) = &st.body {
                        self.inside(s, body.span, "stage body");
                        let spans: Vec<Span> = body.items.iter().map(StageItem::span).collect();
                        self.ordered(&spans, "stage statements");
                        for it in &body.items {
                            let is = it.span();
                            self.inside(body.span, is, "statement");
                            match it {
                                StageItem::Setting(fl) => self.expr(is, &fl.value),
                                StageItem::Branch(b) => self.call(is, &b.value),
                                StageItem::Reward(r) => {
                                    r.bindings.iter().for_each(|b| self.binding(is, b))
                                }
                                StageItem::Filter(fl) => {
                                    self.expr(is, &fl.cond);
                                    if let Some(u) = &fl.unless {
                                        self.expr(is, u);
                                    }
                                }
                                StageItem::Optimize(o) => {
                                    self.expr(is, &o.target);
                                    for x in
                                        [&o.scaled_by, &o.weight, &o.r#where].into_iter().flatten()
                                    {
                                        self.expr(is, x);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Checks the span invariants of one parsed file; returns the violations.
pub fn violations(text: &str) -> Vec<String> {
    let Ok(file) = rlr_lang::parse::parse(SourceId(0), text) else {
        return Vec::new();
    };
    let mut w = Walk { errors: Vec::new() };
    w.file(&file);
    let len = text.len() as u32;
    if file.span.end != len {
        w.errors.push(format!(
            "file span ends at {} but the text has {len} bytes",
            file.span.end
        ));
    }
    for c in &file.comments {
        if c.span.end > len || !text[c.span.start as usize..].starts_with('#') {
            w.errors
                .push(format!("comment span {:?} does not start at a `#`", c.span));
        }
    }
    w.errors
}

#[test]
fn every_parsed_file_has_nested_ordered_spans() {
    let mut checked = 0;
    for dir in ["tests/fixtures", "recipes", "examples", "book/src"] {
        for p in rlr_tests::files(dir, "rlr") {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let v = violations(&text);
            assert!(v.is_empty(), "{}: {}", rlr_tests::rel(&p), v.join("\n"));
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} files found");
}
