//! Typing expressions: names, operators, built-in calls (scopes, kinds,
//! broadcasting, reductions, partitions) and the expansion of user functions.

use std::collections::{BTreeMap, HashMap};

use super::Checker;
use super::consts;
use crate::ast::{self, BinaryOp, UnaryOp};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::ir::{self, Arg, Const, ExprKind, NodeId, Origin};
use crate::registry::{self, Builtin, Category, Family, KindRule, ParamSpec, ParamType, ScopeRule};
use crate::source::Span;
use crate::types::{Kind, Scope, ValueType};

/// A typed expression and the rollouts its values belong to
/// (`None`: the main rollouts, or a scope coarser than a response).
#[derive(Clone, Debug)]
pub(super) struct Typed {
    pub e: ir::Expr,
    pub set: Option<String>,
}

impl Typed {
    fn ty(&self) -> ValueType {
        self.e.ty
    }
}

/// What the stage makes visible to expressions.
pub(super) struct StageCx<'s> {
    pub settings: &'s BTreeMap<String, Const>,
    pub setting_names: Vec<&'static str>,
    pub task: Option<&'static Builtin>,
    /// Fields the task declares itself (`jsonl(fields = [...])`), read as text.
    pub task_fields: Vec<String>,
    pub branches: HashMap<String, Span>,
    pub bindings: HashMap<String, NodeId>,
    /// Binding names refused with an error (reserved or duplicate).
    pub rejected: std::collections::HashSet<String>,
    pub nodes: Vec<Option<ir::Node>>,
    /// Per node: whether its value depends on the main rollouts.
    pub uses_main: Vec<bool>,
    /// Bindings read as constant arguments (`gra(..., delta = d)`): used,
    /// though no graph edge leaves them.
    pub const_reads: std::collections::HashSet<NodeId>,
}

/// The names visible inside a function body.
pub(super) struct FnEnv {
    pub params: HashMap<String, Typed>,
    pub locals: HashMap<String, NodeId>,
}

/// Lexical environment: the stage, or a function body (which cannot see the caller's bindings).
pub(super) enum Env<'e> {
    Stage,
    Fn(&'e FnEnv),
}

/// Checks the expressions of one stage.
pub(super) struct Ex<'c, 'a, 's> {
    pub c: &'c mut Checker<'a>,
    pub st: &'c mut StageCx<'s>,
    /// `where` partitions met in the binding being typed.
    pub partitions: usize,
    /// The node name function locals are prefixed with.
    pub prefix: String,
    /// Functions being expanded, outermost first.
    pub fn_stack: Vec<(String, Span)>,
}

fn real(scope: Scope) -> ValueType {
    ValueType::new(scope, Kind::Real)
}

fn konst(c: Const, kind: Kind, span: Span) -> Typed {
    Typed {
        e: ir::Expr {
            kind: ExprKind::Const(c),
            ty: ValueType::new(Scope::Step, kind),
            span,
        },
        set: None,
    }
}

/// Matches call arguments to parameters: positional first, then named.
/// Returns each parameter (the last repeated for variadic extras) with its
/// argument, and the problems found; callers report those and go on checking
/// what matched, so one file's errors all come out at once.
pub(super) fn match_args<'x>(
    b: &'static Builtin,
    call: &'x ast::Call,
) -> (
    Vec<(&'static ParamSpec, Option<&'x ast::Arg>)>,
    Vec<Diagnostic>,
) {
    let mut slots: Vec<(&'static ParamSpec, Option<&'x ast::Arg>)> =
        b.params.iter().map(|p| (p, None)).collect();
    let mut errors = Vec::new();
    let mut positional = 0usize;
    let mut seen_named = false;
    let mut misplaced = false;
    for arg in &call.args {
        match &arg.name {
            None => {
                if seen_named {
                    misplaced = true;
                    errors.push(
                        Diagnostic::error(
                            "E0201",
                            "a positional argument cannot follow named ones",
                            arg.span,
                        )
                        .help("put positional arguments first, or name this one"),
                    );
                    continue;
                }
                if positional < slots.len() {
                    slots[positional].1 = Some(arg);
                } else if b.variadic && !b.params.is_empty() {
                    let last = &b.params[b.params.len() - 1];
                    slots.push((last, Some(arg)));
                } else {
                    errors.push(
                        Diagnostic::error(
                            "E0202",
                            format!(
                                "`{}` takes at most {} positional argument{}, but this is number {}",
                                b.name,
                                b.params.len(),
                                if b.params.len() == 1 { "" } else { "s" },
                                positional + 1
                            ),
                            arg.span,
                        )
                        .label("extra argument")
                        .help(format!("`rlr explain {}` shows its parameters", b.name)),
                    );
                }
                positional += 1;
            }
            Some(name) => {
                seen_named = true;
                match slots.iter_mut().position(|(p, _)| p.name == name.name) {
                    Some(i) if slots[i].1.is_some() => {
                        let prev = slots[i].1.map(|a| a.span);
                        let mut d = Diagnostic::error(
                            "E0203",
                            format!("`{}` is given twice", name.name),
                            name.span,
                        );
                        if let Some(prev) = prev {
                            d = d.with(prev, "first given here");
                        }
                        errors.push(d);
                    }
                    Some(i) => slots[i].1 = Some(arg),
                    None => {
                        let mut d = Diagnostic::error(
                            "E0204",
                            format!("`{}` has no parameter `{}`", b.name, name.name),
                            name.span,
                        )
                        .label("unknown parameter");
                        d = match did_you_mean(&name.name, b.params.iter().map(|p| p.name)) {
                            Some(m) => d.help(format!("did you mean `{m}`?")),
                            None => d.help(format!(
                                "its parameters are {}",
                                b.params
                                    .iter()
                                    .map(|p| format!("`{}`", p.name))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )),
                        };
                        errors.push(d);
                    }
                }
            }
        }
    }
    // A misplaced positional argument was meant for a missing parameter: one error is enough.
    for (p, a) in slots.iter().filter(|_| !misplaced) {
        if a.is_none() && p.default.is_none() {
            errors.push(
                Diagnostic::error(
                    "E0205",
                    format!("`{}` needs the argument `{}`", b.name, p.name),
                    call.span,
                )
                .label(format!("`{}` missing", p.name))
                .help(format!("{}: {}", p.name, p.doc)),
            );
        }
    }
    (slots, errors)
}

impl<'c, 'a, 's> Ex<'c, 'a, 's> {
    fn err(&mut self, d: Diagnostic) -> Option<Typed> {
        let d = match self.fn_stack.last() {
            Some((name, at)) => d.with(*at, format!("in this call of `{name}`")),
            None => d,
        };
        self.c.diags.push(d);
        None
    }

    /// Types an expression.
    pub fn expr(&mut self, e: &ast::Expr, env: &Env<'_>) -> Option<Typed> {
        use ast::ExprKind as K;
        match &e.kind {
            K::Number { value, .. } => Some(konst(Const::Real(*value), Kind::Real, e.span)),
            K::Str(s) => Some(konst(Const::Str(s.clone()), Kind::Text, e.span)),
            K::Bool(b) => Some(konst(Const::Bool(*b), Kind::Bool, e.span)),
            K::Path(p) => self.path(p, env),
            K::Call(call) => self.call(call, env),
            K::List(_) | K::Tuple(_) => self.err(
                Diagnostic::error("E0210", "lists and tuples are only allowed as constant arguments", e.span)
                    .help("pass them to a parameter that takes a list, e.g. `segments(text, tags = [\"plan\", \"act\"])`"),
            ),
            K::Range { .. } => self.err(
                Diagnostic::error("E0211", "`->` only appears in schedule arguments", e.span)
                    .help("write e.g. `linear(0.5 -> 0, over = steps)`"),
            ),
            K::Unary { op, operand } => {
                let t = self.expr(operand, env)?;
                let (want, out) = match op {
                    UnaryOp::Neg => (Kind::Real, Kind::Real),
                    UnaryOp::Not => (Kind::Bool, Kind::Bool),
                };
                if !t.ty().kind.converts_to(want) {
                    return self.kind_error(&t, want, if *op == UnaryOp::Neg { "`-`" } else { "`not`" });
                }
                let ty = ValueType::new(t.ty().scope, out);
                Some(Typed {
                    set: t.set.clone(),
                    e: ir::Expr { kind: ExprKind::Unary(*op, Box::new(t.e)), ty, span: e.span },
                })
            }
            K::Binary { op, lhs, rhs } => {
                let (a, b) = (self.expr(lhs, env), self.expr(rhs, env));
                let (a, b) = (a?, b?);
                self.binary(*op, a, b, e.span)
            }
            K::If { cond, then, otherwise } | K::When { value: then, cond, otherwise } => {
                let is_when = matches!(e.kind, K::When { .. });
                let (c, t, o) = (self.expr(cond, env), self.expr(then, env), self.expr(otherwise, env));
                let (c, t, o) = (c?, t?, o?);
                if c.ty().kind != Kind::Bool {
                    return self.err(
                        Diagnostic::error(
                            "E0212",
                            format!("a condition must be true/false, but this is a {}", c.ty()),
                            c.e.span,
                        )
                        .label("not a bool")
                        .help("compare it, e.g. `x >= 0.5`"),
                    );
                }
                let kind = self.unify_kinds(&t, &o)?;
                let (scope, set) = self.unify_scopes(&[&c, &t, &o])?;
                let ty = ValueType::new(scope, kind);
                let kind = if is_when {
                    ExprKind::When(Box::new(t.e), Box::new(c.e), Box::new(o.e))
                } else {
                    ExprKind::If(Box::new(c.e), Box::new(t.e), Box::new(o.e))
                };
                Some(Typed { e: ir::Expr { kind, ty, span: e.span }, set })
            }
        }
    }

    fn kind_error(&mut self, t: &Typed, want: Kind, what: &str) -> Option<Typed> {
        self.err(
            Diagnostic::error(
                "E0213",
                format!("{what} needs a {want} value, but this is {}", t.ty()),
                t.e.span,
            )
            .label(format!("{} here", t.ty().kind)),
        )
    }

    fn unify_kinds(&mut self, a: &Typed, b: &Typed) -> Option<Kind> {
        let (x, y) = (a.ty().kind, b.ty().kind);
        if x == y {
            return Some(x);
        }
        if x.converts_to(y) {
            return Some(y);
        }
        if y.converts_to(x) {
            return Some(x);
        }
        self.err(
            Diagnostic::error(
                "E0214",
                format!("the two branches have different kinds: {x} and {y}"),
                b.e.span,
            )
            .with(a.e.span, format!("this is {x}"))
            .label(format!("this is {y}"))
            .help("both sides of `if`/`when` must be numbers, or both true/false, or both text"),
        )
        .map(|_| x)
    }

    /// The finest scope of the operands, checking each broadcasts to it and all
    /// per-rollout operands come from the same rollouts.
    fn unify_scopes(&mut self, parts: &[&Typed]) -> Option<(Scope, Option<String>)> {
        let finest = parts
            .iter()
            .map(|p| p.ty().scope)
            .max()
            .unwrap_or(Scope::Step);
        for p in parts {
            let s = p.ty().scope;
            if !s.broadcasts_to(finest) {
                let finest_part = parts
                    .iter()
                    .find(|q| q.ty().scope == finest)
                    .map_or(p.e.span, |q| q.e.span);
                return self
                    .err(
                        Diagnostic::error(
                            "E0220",
                            format!("a {s} value cannot be combined with {finest} values directly"),
                            p.e.span,
                        )
                        .label(format!("one value per {s}"))
                        .with(finest_part, format!("one value per {finest}"))
                        .help(if finest == Scope::Token {
                            "put it on tokens with `place(x)` (at the last token) or `place(x, at = \"all\")`".to_string()
                        } else {
                            format!("reduce the {finest} values first, e.g. `mean(x)`")
                        }),
                    )
                    .map(|_| (finest, None));
            }
        }
        let mut set: Option<(&Option<String>, Span)> = None;
        for p in parts.iter().filter(|p| p.ty().scope >= Scope::Response) {
            match set {
                None => set = Some((&p.set, p.e.span)),
                Some((s, at)) if *s != p.set => {
                    let name = |s: &Option<String>| match s {
                        Some(b) => format!("the `{b}` branch's rollouts"),
                        None => "the main rollouts".to_string(),
                    };
                    return self
                        .err(
                            Diagnostic::error(
                                "E0221",
                                format!("this mixes values of {} with values of {}", name(s), name(&p.set)),
                                p.e.span,
                            )
                            .label(format!("from {}", name(&p.set)))
                            .with(at, format!("from {}", name(s)))
                            .help("rollouts of different branches do not line up; reduce one side to the group first, e.g. `mean(x)`"),
                        )
                        .map(|_| (finest, None));
                }
                _ => {}
            }
        }
        let set = if finest >= Scope::Response {
            set.and_then(|(s, _)| s.clone())
        } else {
            None
        };
        Some((finest, set))
    }

    fn binary(&mut self, op: BinaryOp, a: Typed, b: Typed, span: Span) -> Option<Typed> {
        use BinaryOp::*;
        let kind = match op {
            Add | Sub | Mul | Div | Pow | Lt | Le | Gt | Ge => {
                for t in [&a, &b] {
                    if !t.ty().kind.converts_to(Kind::Real) {
                        return self.kind_error(t, Kind::Real, &format!("`{}`", op.symbol()));
                    }
                }
                if op.is_comparison() {
                    Kind::Bool
                } else {
                    Kind::Real
                }
            }
            Eq | Ne => {
                let numeric = |k: Kind| k.converts_to(Kind::Real);
                let textual = |k: Kind| k.converts_to(Kind::Label);
                let (x, y) = (a.ty().kind, b.ty().kind);
                if !((numeric(x) && numeric(y)) || (textual(x) && textual(y))) {
                    return self.err(
                        Diagnostic::error("E0215", format!("cannot compare {x} with {y}"), span)
                            .with(a.e.span, x.name())
                            .with(b.e.span, y.name())
                            .help("compare numbers with numbers, and labels or text with labels or text"),
                    );
                }
                Kind::Bool
            }
            And | Or => {
                for t in [&a, &b] {
                    if t.ty().kind != Kind::Bool {
                        return self.kind_error(t, Kind::Bool, &format!("`{}`", op.symbol()));
                    }
                }
                Kind::Bool
            }
        };
        let (scope, set) = self.unify_scopes(&[&a, &b])?;
        Some(Typed {
            e: ir::Expr {
                kind: ExprKind::Binary(op, Box::new(a.e), Box::new(b.e)),
                ty: ValueType::new(scope, kind),
                span,
            },
            set,
        })
    }

    fn node_ref(&self, id: NodeId, span: Span) -> Option<Typed> {
        let node = self.st.nodes.get(id.0 as usize)?.as_ref()?;
        Some(Typed {
            e: ir::Expr {
                kind: ExprKind::Node(id),
                ty: node.ty,
                span,
            },
            set: node.rollouts.clone(),
        })
    }

    fn visible_names(&self, env: &Env<'_>) -> Vec<String> {
        let mut names: Vec<String> = registry::CONTEXT
            .iter()
            .map(|c| c.name.to_string())
            .collect();
        names.extend(self.st.settings.keys().cloned());
        match env {
            Env::Stage => names.extend(self.st.bindings.keys().cloned()),
            Env::Fn(f) => {
                names.extend(f.params.keys().cloned());
                names.extend(f.locals.keys().cloned());
            }
        }
        names
    }

    fn path(&mut self, p: &ast::Path, env: &Env<'_>) -> Option<Typed> {
        let first = &p.segments[0];
        let name = first.name.as_str();
        if p.segments.len() == 1 {
            if let Env::Fn(f) = env {
                if let Some(t) = f.params.get(name) {
                    let mut t = t.clone();
                    t.e.span = p.span;
                    return Some(t);
                }
                if let Some(id) = f.locals.get(name) {
                    return self.node_ref(*id, p.span);
                }
            } else if self.st.rejected.contains(name) {
                return None;
            } else if let Some(id) = self.st.bindings.get(name) {
                // Untyped means it failed to check or sits on a cycle; both are reported already.
                return self.node_ref(*id, p.span);
            }
            if let Some(c) = self.st.settings.get(name) {
                let kind = match c {
                    Const::Bool(_) => Kind::Bool,
                    Const::Str(_) => Kind::Text,
                    c if c.as_f64().is_some() => Kind::Real,
                    _ => {
                        return self.err(
                            Diagnostic::error(
                                "E0216",
                                format!(
                                    "the setting `{name}` is {}, which expressions cannot read",
                                    super::consts::describe(c)
                                ),
                                p.span,
                            )
                            .help("expressions can read numeric, true/false and string settings"),
                        );
                    }
                };
                let c = c
                    .as_f64()
                    .filter(|_| kind == Kind::Real)
                    .map_or_else(|| c.clone(), Const::Real);
                return Some(konst(c, kind, p.span));
            }
            if let Some(ctx) = registry::CONTEXT.iter().find(|c| c.name == name) {
                return match ctx.ty {
                    Some(ty) => Some(Typed {
                        e: ir::Expr { kind: ExprKind::Context(ctx.name), ty, span: p.span },
                        set: None,
                    }),
                    None => self.err(
                        Diagnostic::error("E0217", format!("`{name}` is a record, not a value"), p.span)
                            .help(format!("read one of its fields, e.g. `{name}.answer`; or pass it whole to a judge")),
                    ),
                };
            }
            if self.st.branches.contains_key(name) {
                return self.err(
                    Diagnostic::error(
                        "E0218",
                        format!("`{name}` is a branch of rollouts, not a value"),
                        p.span,
                    )
                    .help(format!("read a field of its rollouts, e.g. `{name}.text`")),
                );
            }
            if let Some((kind, _)) = self.c.decls.get(name) {
                return self.err(
                    Diagnostic::error(
                        "E0218",
                        format!("`{name}` is a {}, not a value", kind.keyword()),
                        p.span,
                    )
                    .help(
                        "models, tasks and tools are passed to stages and built-ins that take them",
                    ),
                );
            }
            if self.c.fns.contains_key(name) || registry::lookup(name).is_some() {
                return self.err(
                    Diagnostic::error("E0219", format!("`{name}` is a function; call it"), p.span)
                        .help(format!("write `{name}(...)`")),
                );
            }
            return self.undefined(name, p.span, env);
        }
        // Dotted paths: `sample.field` or `branch.context`.
        let field = &p.segments[1];
        if p.segments.len() > 2 {
            return self.err(Diagnostic::error(
                "E0230",
                format!("`{}` has too many parts", p.dotted()),
                p.span,
            ));
        }
        if name == "sample" {
            let task = self.st.task?;
            if !task.sample_fields.iter().any(|f| f.name == field.name)
                && self.st.task_fields.contains(&field.name)
            {
                return Some(Typed {
                    e: ir::Expr {
                        kind: ExprKind::Sample(field.name.clone()),
                        ty: ValueType::new(Scope::Group, Kind::Text),
                        span: p.span,
                    },
                    set: None,
                });
            }
            return match task.sample_fields.iter().find(|f| f.name == field.name) {
                Some(f) => Some(Typed {
                    e: ir::Expr {
                        kind: ExprKind::Sample(f.name.to_string()),
                        ty: f.ty,
                        span: p.span,
                    },
                    set: None,
                }),
                None => {
                    let mut d = Diagnostic::error(
                        "E0231",
                        format!(
                            "the task `{}` has no sample field `{}`",
                            task.name, field.name
                        ),
                        field.span,
                    )
                    .label("unknown field");
                    let own = self.st.task_fields.iter().map(String::as_str);
                    d = match did_you_mean(
                        &field.name,
                        task.sample_fields.iter().map(|f| f.name).chain(own),
                    ) {
                        Some(m) => d.help(format!("did you mean `sample.{m}`?")),
                        None => d.help(format!(
                            "its fields are {}",
                            task.sample_fields
                                .iter()
                                .map(|f| format!("`{}`", f.name))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    };
                    self.err(d)
                }
            };
        }
        if self.st.branches.contains_key(name) {
            return match registry::CONTEXT.iter().find(|c| c.name == field.name) {
                Some(ctx) if ctx.ty.is_some_and(|t| t.scope >= Scope::Response) => Some(Typed {
                    e: ir::Expr {
                        kind: ExprKind::BranchContext {
                            branch: name.to_string(),
                            name: ctx.name,
                        },
                        ty: ctx.ty.unwrap_or(real(Scope::Response)),
                        span: p.span,
                    },
                    set: Some(name.to_string()),
                }),
                _ => {
                    let fields: Vec<&str> = registry::CONTEXT
                        .iter()
                        .filter(|c| c.ty.is_some_and(|t| t.scope >= Scope::Response))
                        .map(|c| c.name)
                        .collect();
                    let mut d = Diagnostic::error(
                        "E0232",
                        format!("rollouts of `{name}` have no field `{}`", field.name),
                        field.span,
                    );
                    d = match did_you_mean(&field.name, fields.iter().copied()) {
                        Some(m) => d.help(format!("did you mean `{name}.{m}`?")),
                        None => d.help(format!("rollout fields are {}", fields.join(", "))),
                    };
                    self.err(d)
                }
            };
        }
        if registry::lookup(&p.dotted()).is_some() {
            return self.err(
                Diagnostic::error(
                    "E0219",
                    format!("`{}` is a function; call it", p.dotted()),
                    p.span,
                )
                .help(format!("write `{}(...)`", p.dotted())),
            );
        }
        self.undefined(name, first.span, env)
    }

    fn undefined(&mut self, name: &str, span: Span, env: &Env<'_>) -> Option<Typed> {
        let names = self.visible_names(env);
        let mut d = Diagnostic::error("E0100", format!("`{name}` is not defined"), span)
            .label("unknown name");
        d = match did_you_mean(name, names.iter().map(String::as_str)) {
            Some(m) => d.help(format!("did you mean `{m}`?")),
            None if matches!(env, Env::Fn(_)) => {
                d.help("a function body sees only its parameters, its own bindings, settings and context names")
            }
            None => d.help("define it in a `reward` block, e.g. `name = ...`"),
        };
        self.err(d)
    }

    fn call(&mut self, call: &ast::Call, env: &Env<'_>) -> Option<Typed> {
        let mut name = call.callee.dotted();
        if call.callee.segments.len() == 1
            && let Some(f) = self.c.fns.get(&name).copied()
        {
            return self.expand(f, call, env);
        }
        // `max(a, b)` is element-wise; `max(x)` reduces.
        let positional = call.args.iter().filter(|a| a.name.is_none()).count();
        if positional >= 2
            && let Some(elementwise) = elementwise_name(&name)
        {
            name = elementwise.to_string();
        }
        let Some(b) = registry::lookup(&name) else {
            let mut candidates = registry::names_in(|c| matches!(c, Category::Node(_)));
            candidates.extend(self.c.fns.keys().map(|k| k.as_str()));
            let mut d = Diagnostic::error(
                "E0100",
                format!("there is no function called `{name}`"),
                call.callee.span,
            )
            .label("unknown function");
            d = match did_you_mean(&name, candidates) {
                Some(m) => d.help(format!("did you mean `{m}`? (`rlr explain {m}`)")),
                None => d.help("define it with `fn`, or see the built-ins in the book's reference"),
            };
            return self.err(d);
        };
        let family = match b.category {
            Category::Node(f) => f,
            other => {
                let kw = match other {
                    Category::Model => "model NAME = ",
                    Category::Task => "task NAME = ",
                    Category::Tool => "tool NAME = ",
                    _ => "stage NAME = ",
                };
                return self.err(
                    Diagnostic::error(
                        "E0233",
                        format!("`{name}` is not a reward function"),
                        call.callee.span,
                    )
                    .help(format!("declare it at the top level: `{kw}{name}(...)`")),
                );
            }
        };
        if family == Family::Rollout {
            return self.err(
                Diagnostic::error(
                    "E0234",
                    format!("`{name}` creates a branch of rollouts"),
                    call.span,
                )
                .help(format!(
                    "declare it in the stage: `branch NAME = {name}(...)`, then read `NAME.text`"
                )),
            );
        }
        let (slots, problems) = match_args(b, call);
        let mut failed = !problems.is_empty();
        for d in problems {
            self.err(d);
        }
        let mut args: Vec<(&'static str, Arg)> = Vec::new();
        let mut signals: Vec<Typed> = Vec::new();
        let mut partition = None;
        for (i, (param, arg)) in slots.iter().enumerate() {
            let Some(arg) = arg else {
                if let Some(d) = param.default {
                    let scope = self.st.settings.clone();
                    match (param.ty, consts::default_const(d, &scope)) {
                        (ParamType::Signal { kinds, .. }, Some(c)) => {
                            let kind = match c {
                                Const::Bool(_) => Kind::Bool,
                                Const::Str(_) => Kind::Text,
                                _ => kinds.first().copied().unwrap_or(Kind::Real),
                            };
                            let c = c
                                .as_f64()
                                .filter(|_| kind == Kind::Real)
                                .map_or(c, Const::Real);
                            args.push((param.name, Arg::Signal(konst(c, kind, call.span).e)));
                        }
                        (_, Some(c)) => args.push((param.name, Arg::Const(c))),
                        (_, None) => {}
                    }
                }
                continue;
            };
            if let Some(filter) = &arg.filter
                && !(b.partition && i == 0)
            {
                self.err(
                    Diagnostic::error(
                        "E0240",
                        format!("`{name}` does not take a `where` partition"),
                        filter.span,
                    )
                    .help("`where` restricts reductions such as `mean(x where correct)`"),
                );
                failed = true;
            }
            match param.ty {
                ParamType::Signal { kinds, scopes } => {
                    let Some(t) = self.expr(&arg.value, env) else {
                        failed = true;
                        continue;
                    };
                    if !kinds.iter().any(|k| t.ty().kind.converts_to(*k)) {
                        let want = kinds
                            .iter()
                            .map(|k| k.name())
                            .collect::<Vec<_>>()
                            .join(" or ");
                        self.err(
                            Diagnostic::error(
                                "E0241",
                                format!(
                                    "`{}` of `{name}` expects a {want} value, found {}",
                                    param.name,
                                    t.ty()
                                ),
                                t.e.span,
                            )
                            .label(format!("{} here", t.ty().kind)),
                        );
                        failed = true;
                        continue;
                    }
                    let s = t.ty().scope;
                    if !scopes.is_empty() && !scopes.iter().any(|a| s.broadcasts_to(*a)) {
                        let want = scopes
                            .iter()
                            .map(|s| s.name())
                            .collect::<Vec<_>>()
                            .join(" or ");
                        let mut d = Diagnostic::error(
                            "E0242",
                            format!(
                                "`{}` of `{name}` expects {want} values, found {s} values",
                                param.name
                            ),
                            t.e.span,
                        )
                        .label(format!("one value per {s}"));
                        if let Some(target) = scopes.iter().copied().filter(|a| *a < s).max() {
                            d = d
                                .help(format!("reduce it to the {target} first, e.g. `mean(...)`"));
                        }
                        self.err(d);
                        failed = true;
                        continue;
                    }
                    if let (Some(filter), true) = (&arg.filter, b.partition && i == 0) {
                        if let Some(f) = self.expr(filter, env) {
                            if f.ty().kind != Kind::Bool {
                                self.err(
                                    Diagnostic::error(
                                        "E0243",
                                        format!(
                                            "a `where` partition must be true/false, found {}",
                                            f.ty()
                                        ),
                                        f.e.span,
                                    )
                                    .help("write a condition, e.g. `x where score >= 0.5`"),
                                );
                                failed = true;
                            } else if self.unify_scopes(&[&t, &f]).is_some() {
                                self.partitions += 1;
                                partition = Some(Box::new(f.e));
                            } else {
                                failed = true;
                            }
                        } else {
                            failed = true;
                        }
                    }
                    args.push((param.name, Arg::Signal(t.e.clone())));
                    signals.push(t);
                }
                ParamType::Sample => match &arg.value.kind {
                    ast::ExprKind::Path(p) if p.dotted() == "sample" => {
                        args.push((
                            param.name,
                            Arg::Signal(ir::Expr {
                                kind: ExprKind::SampleRecord,
                                ty: ValueType::new(Scope::Group, Kind::Text),
                                span: p.span,
                            }),
                        ));
                    }
                    _ => {
                        self.err(
                            Diagnostic::error(
                                "E0244",
                                format!("`{}` of `{name}` expects the record `sample`", param.name),
                                arg.value.span,
                            )
                            .help("pass `sample` itself"),
                        );
                        failed = true;
                    }
                },
                ParamType::Branch => match &arg.value.kind {
                    ast::ExprKind::Path(p)
                        if p.segments.len() == 1
                            && self.st.branches.contains_key(&p.segments[0].name) =>
                    {
                        args.push((
                            param.name,
                            Arg::Const(Const::Name(p.segments[0].name.clone())),
                        ));
                    }
                    _ => {
                        self.err(Diagnostic::error(
                            "E0245",
                            format!("`{}` of `{name}` expects a branch name", param.name),
                            arg.value.span,
                        ));
                        failed = true;
                    }
                },
                _ => {
                    // Inside a function, a constant may come through a parameter.
                    let through_param = match env {
                        Env::Fn(f) => mentions_any(&arg.value, &f.params),
                        Env::Stage => false,
                    };
                    let value = if through_param {
                        match self.expr(&arg.value, env) {
                            Some(t) => fold(&t.e).ok_or_else(|| {
                                Diagnostic::error(
                                    "E0305",
                                    format!(
                                        "`{}` of `{name}` must be a constant known before the run",
                                        param.name
                                    ),
                                    arg.value.span,
                                )
                                .label(format!("a {} value at this call", t.ty()))
                                .help(
                                    "pass a literal or a stage setting for this function parameter",
                                )
                            }),
                            None => {
                                failed = true;
                                continue;
                            }
                        }
                    } else {
                        let decls = &self.c.decls;
                        let names = |n: &str| decls.contains_key(n);
                        let declared: Vec<&str> = decls.keys().map(String::as_str).collect();
                        let read = std::cell::RefCell::new(Vec::new());
                        let (bound, nodes) = (&self.st.bindings, &self.st.nodes);
                        let bindings = |n: &str| {
                            let id = bound.get(n)?;
                            read.borrow_mut().push(*id);
                            Some(
                                nodes
                                    .get(id.0 as usize)
                                    .and_then(Option::as_ref)
                                    .and_then(|node| fold(&node.expr)),
                            )
                        };
                        let cenv = consts::ConstEnv {
                            settings: self.st.settings,
                            names: &names,
                            declared: &declared,
                            bindings: &bindings,
                        };
                        let value = consts::eval(&arg.value, &cenv);
                        self.st.const_reads.extend(read.into_inner());
                        value
                    };
                    match value.and_then(|v| self.c.conform_named(v, param, &arg.value)) {
                        Ok(v) => args.push((param.name, Arg::Const(v))),
                        Err(d) => {
                            self.err(d);
                            failed = true;
                        }
                    }
                }
            }
        }
        if failed {
            return None;
        }
        // A relation compares each response with a reference set, which may be
        // another branch's rollouts (PAR's references): its first per-response
        // input decides whose rollouts the result belongs to. A coarser one
        // before it (GRPO-S's prompt embedding against the reference
        // rollouts) has no rollouts of its own and must not decide.
        let refs: Vec<&Typed> = if family == Family::Relate {
            let own = signals
                .iter()
                .find(|t| t.ty().scope >= Scope::Response)
                .or(signals.first())
                .map(|t| t.set.clone());
            signals
                .iter()
                .filter(|t| t.ty().scope < Scope::Response || Some(&t.set) == own.as_ref())
                .collect()
        } else {
            signals.iter().collect()
        };
        let (finest, set) = self.unify_scopes(&refs)?;
        let scope = match b.output.scope {
            ScopeRule::Fixed(s) => s,
            ScopeRule::Inputs => finest,
            ScopeRule::Place => Scope::Token,
            ScopeRule::Reduce => {
                let input = signals.first().map_or(Scope::Step, |t| t.ty().scope);
                if input == Scope::Segment {
                    // A response can have no segments: like an empty partition, it needs a fallback.
                    self.partitions += 1;
                }
                let over = args.iter().find_map(|(n, a)| match (n, a) {
                    (&"over", Arg::Const(Const::Str(s))) => Scope::from_name(s),
                    _ => None,
                });
                match over {
                    Some(target) if target < input => target,
                    Some(target) => {
                        return self.err(
                            Diagnostic::error(
                                "E0246",
                                format!("`{name}` cannot reduce {input} values over the {target}"),
                                call.span,
                            )
                            .help(format!("`over` must be coarser than {input}")),
                        );
                    }
                    None => match input.reduced() {
                        Some(s) => s,
                        None => {
                            return self.err(
                                Diagnostic::error("E0247", format!("`{name}` has nothing to reduce: its input is one {input} value"), call.span)
                                    .help("reductions take per-token, per-segment, per-response or per-group values"),
                            );
                        }
                    },
                }
            }
        };
        let kind = match b.output.kind {
            KindRule::Fixed(k) => k,
            KindRule::First => signals.first().map_or(Kind::Real, |t| t.ty().kind),
        };
        let set = if scope >= Scope::Response { set } else { None };
        Some(Typed {
            e: ir::Expr {
                kind: ExprKind::Call {
                    builtin: b.name,
                    args,
                    partition,
                },
                ty: ValueType::new(scope, kind),
                span: call.span,
            },
            set,
        })
    }

    /// Adds a node (function local, function argument, or statement input).
    pub fn add_node(
        &mut self,
        name: String,
        origin: Origin,
        t: Typed,
        fallback: Option<ir::Expr>,
        span: Span,
    ) -> NodeId {
        let id = NodeId(self.st.nodes.len() as u32);
        let node = make_node(name, origin, t, fallback, span, self.st);
        let main = node_uses_main(&node, self.st);
        self.st.nodes.push(Some(node));
        self.st.uses_main.push(main);
        id
    }

    /// A node name not yet taken in this stage.
    pub fn fresh_name(&self, base: &str) -> String {
        let taken = |n: &str| {
            self.st.nodes.iter().flatten().any(|x| x.name == n) || self.st.bindings.contains_key(n)
        };
        if !taken(base) {
            return base.to_string();
        }
        (2..)
            .map(|i| format!("{base}#{i}"))
            .find(|n| !taken(n))
            .unwrap_or_default()
    }

    fn expand(&mut self, f: &'a ast::FnDef, call: &ast::Call, env: &Env<'_>) -> Option<Typed> {
        let fname = f.name.name.clone();
        self.c.used_fns.insert(fname.clone());
        if let Some(pos) = self.fn_stack.iter().position(|(n, _)| *n == fname) {
            let path: Vec<&str> = self.fn_stack[pos..]
                .iter()
                .map(|(n, _)| n.as_str())
                .chain([fname.as_str()])
                .collect();
            return self.err(
                Diagnostic::error(
                    "E0250",
                    format!("`{fname}` calls itself ({})", path.join(" -> ")),
                    call.span,
                )
                .with(f.name.span, "defined here")
                .help("functions are expanded where they are called, so they cannot be recursive"),
            );
        }
        // Arguments are typed where the call is written.
        let mut bound: Vec<Option<&ast::Expr>> = vec![None; f.params.len()];
        let mut ok = true;
        let mut positional = 0;
        for arg in &call.args {
            if let Some(filter) = &arg.filter {
                self.err(
                    Diagnostic::error(
                        "E0240",
                        format!("`{fname}` does not take a `where` partition"),
                        filter.span,
                    )
                    .help("apply `where` inside the function body, to a reduction"),
                );
                ok = false;
            }
            let slot = match &arg.name {
                None => {
                    positional += 1;
                    if positional > f.params.len() {
                        self.err(
                            Diagnostic::error(
                                "E0202",
                                format!("`{fname}` takes {} argument{}, but this is number {positional}", f.params.len(), if f.params.len() == 1 { "" } else { "s" }),
                                arg.span,
                            )
                            .with(f.name.span, "defined here"),
                        );
                        ok = false;
                        continue;
                    }
                    positional - 1
                }
                Some(n) => match f.params.iter().position(|p| p.name.name == n.name) {
                    Some(i) => i,
                    None => {
                        let mut d = Diagnostic::error(
                            "E0204",
                            format!("`{fname}` has no parameter `{}`", n.name),
                            n.span,
                        )
                        .with(f.name.span, "defined here");
                        if let Some(m) =
                            did_you_mean(&n.name, f.params.iter().map(|p| p.name.name.as_str()))
                        {
                            d = d.help(format!("did you mean `{m}`?"));
                        }
                        self.err(d);
                        ok = false;
                        continue;
                    }
                },
            };
            if bound[slot].is_some() {
                self.err(Diagnostic::error(
                    "E0203",
                    format!("`{}` is given twice", f.params[slot].name.name),
                    arg.span,
                ));
                ok = false;
            }
            bound[slot] = Some(&arg.value);
        }
        let mut fenv = FnEnv {
            params: HashMap::new(),
            locals: HashMap::new(),
        };
        let mut arg_types = Vec::new();
        for (p, value) in f.params.iter().zip(&bound) {
            let t = match value {
                Some(v) => self.expr(v, env),
                None => match &p.default {
                    Some(d) => {
                        self.fn_stack.push((fname.clone(), call.span));
                        let t = self.expr(d, &Env::Fn(&fenv));
                        self.fn_stack.pop();
                        t
                    }
                    None => {
                        self.err(
                            Diagnostic::error(
                                "E0205",
                                format!("`{fname}` needs the argument `{}`", p.name.name),
                                call.span,
                            )
                            .with(p.name.span, "parameter defined here"),
                        );
                        None
                    }
                },
            };
            let Some(mut t) = t else {
                ok = false;
                continue;
            };
            if contains_call(&t.e) {
                // Bind a computed argument once, so it is not evaluated at every use.
                let name = self.fresh_name(&format!("{}.{}", self.prefix, p.name.name));
                let span = t.e.span;
                let id = self.add_node(
                    name,
                    Origin::FnArg {
                        function: fname.clone(),
                    },
                    t,
                    None,
                    span,
                );
                t = self.node_ref(id, span)?;
            }
            arg_types.push(t.clone());
            fenv.params.insert(p.name.name.clone(), t);
        }
        if !ok {
            return None;
        }
        self.fn_stack.push((fname.clone(), call.span));
        let outer_prefix = self.prefix.clone();
        let mut result = Some(());
        for b in &f.bindings {
            if fenv.locals.contains_key(&b.name.name) || fenv.params.contains_key(&b.name.name) {
                self.err(Diagnostic::error(
                    "E0101",
                    format!("`{}` is defined twice in `{fname}`", b.name.name),
                    b.name.span,
                ));
                result = None;
                continue;
            }
            let node_name = self.fresh_name(&format!("{outer_prefix}.{}", b.name.name));
            let saved = std::mem::replace(&mut self.partitions, 0);
            self.prefix = node_name.clone();
            let t = self.expr(&b.value, &Env::Fn(&fenv));
            let fb = b
                .fallback
                .as_ref()
                .and_then(|x| self.expr(x, &Env::Fn(&fenv)));
            let parts = std::mem::replace(&mut self.partitions, saved);
            self.prefix = outer_prefix.clone();
            let Some(t) = t else {
                result = None;
                continue;
            };
            let Some(fb) = self.fallback(&b.name.name, &t, b.fallback.as_ref(), fb, parts, b.span)
            else {
                result = None;
                continue;
            };
            let id = self.add_node(
                node_name,
                Origin::FnLocal {
                    function: fname.clone(),
                },
                t,
                fb,
                b.span,
            );
            fenv.locals.insert(b.name.name.clone(), id);
        }
        let out = result.and_then(|_| self.expr(&f.result, &Env::Fn(&fenv)));
        self.fn_stack.pop();
        let mut out = out?;
        out.e.span = call.span;
        Some(out)
    }

    /// Checks a binding's `else` fallback against its `where` partitions.
    /// Returns `None` on error, `Some(fallback)` otherwise.
    pub fn fallback(
        &mut self,
        name: &str,
        value: &Typed,
        written: Option<&ast::Expr>,
        typed: Option<Typed>,
        partitions: usize,
        span: Span,
    ) -> Option<Option<ir::Expr>> {
        match (written, typed) {
            (None, _) if partitions > 0 => self
                .err(
                    Diagnostic::error(
                        "E0260",
                        format!("`{name}` reduces over values that can be empty: a `where` partition, or a response's segments"),
                        span,
                    )
                    .label("no fallback")
                    .help(format!("say what `{name}` is then: add `else VALUE` at the end of the binding")),
                )
                .map(|_| None),
            (None, _) => Some(None),
            (Some(w), _) if partitions == 0 => self
                .err(
                    Diagnostic::error("E0261", format!("`{name}` has an `else` fallback but no `where` partition"), w.span)
                        .label("never used")
                        .help("`else` after a binding gives its value where a `where` partition is empty; remove it"),
                )
                .map(|_| None),
            (Some(_), None) => None,
            (Some(_), Some(fb)) => {
                if !fb.ty().kind.converts_to(value.ty().kind) && !value.ty().kind.converts_to(fb.ty().kind) {
                    return self
                        .err(
                            Diagnostic::error(
                                "E0262",
                                format!("the fallback is {} but `{name}` is {}", fb.ty().kind, value.ty().kind),
                                fb.e.span,
                            ),
                        )
                        .map(|_| None);
                }
                if !fb.ty().scope.broadcasts_to(value.ty().scope) {
                    return self
                        .err(
                            Diagnostic::error(
                                "E0263",
                                format!("the fallback is a {} value but `{name}` is a {} value", fb.ty().scope, value.ty().scope),
                                fb.e.span,
                            )
                            .help("use a constant or a value at the same or a coarser scope"),
                        )
                        .map(|_| None);
                }
                Some(Some(fb.e))
            }
        }
    }
}

/// The element-wise combinator a reduction's name stands for when it is given
/// two or more positional values (`max(evidence, 0.5)`).
pub fn elementwise_name(reduction: &str) -> Option<&'static str> {
    Some(match reduction {
        "max" => "maximum",
        "min" => "minimum",
        "mean" => "average",
        "median" => "median_of",
        _ => return None,
    })
}

/// Whether an expression reads any of these (function parameter) names.
fn mentions_any(e: &ast::Expr, names: &HashMap<String, Typed>) -> bool {
    use ast::ExprKind as K;
    match &e.kind {
        K::Path(p) => p.segments.len() == 1 && names.contains_key(&p.segments[0].name),
        K::Call(c) => c.args.iter().any(|a| mentions_any(&a.value, names)),
        K::List(xs) | K::Tuple(xs) => xs.iter().any(|x| mentions_any(x, names)),
        K::Unary { operand, .. } => mentions_any(operand, names),
        K::Binary { lhs, rhs, .. } => mentions_any(lhs, names) || mentions_any(rhs, names),
        K::Range { from, to } => mentions_any(from, names) || mentions_any(to, names),
        K::If {
            cond,
            then,
            otherwise,
        }
        | K::When {
            value: then,
            cond,
            otherwise,
        } => {
            mentions_any(cond, names) || mentions_any(then, names) || mentions_any(otherwise, names)
        }
        K::Number { .. } | K::Str(_) | K::Bool(_) => false,
    }
}

/// The constant a typed expression folds to, if it reads nothing computed during the run.
fn fold(e: &ir::Expr) -> Option<Const> {
    match &e.kind {
        ExprKind::Const(c) => Some(c.clone()),
        ExprKind::Unary(UnaryOp::Neg, a) => Some(Const::Real(-fold(a)?.as_f64()?)),
        ExprKind::Binary(op, a, b) => {
            let (x, y) = (fold(a)?.as_f64()?, fold(b)?.as_f64()?);
            let r = match op {
                BinaryOp::Add => x + y,
                BinaryOp::Sub => x - y,
                BinaryOp::Mul => x * y,
                BinaryOp::Div => x / y,
                BinaryOp::Pow => x.powf(y),
                _ => return None,
            };
            r.is_finite().then_some(Const::Real(r))
        }
        _ => None,
    }
}

fn contains_call(e: &ir::Expr) -> bool {
    match &e.kind {
        ExprKind::Call { .. } => true,
        ExprKind::Unary(_, a) => contains_call(a),
        ExprKind::Binary(_, a, b) => contains_call(a) || contains_call(b),
        ExprKind::If(a, b, c) | ExprKind::When(a, b, c) => {
            contains_call(a) || contains_call(b) || contains_call(c)
        }
        _ => false,
    }
}

/// Builds a node, deriving its family and range from its expression.
pub(super) fn make_node(
    name: String,
    origin: Origin,
    t: Typed,
    fallback: Option<ir::Expr>,
    span: Span,
    st: &StageCx<'_>,
) -> ir::Node {
    let (family, range) = describe(&t.e, st);
    ir::Node {
        name,
        origin,
        ty: t.e.ty,
        rollouts: if t.e.ty.scope >= Scope::Response {
            t.set
        } else {
            None
        },
        family,
        range,
        expr: t.e,
        fallback,
        span,
    }
}

/// The family a node is drawn as, and its value interval when known.
fn describe(e: &ir::Expr, st: &StageCx<'_>) -> (Family, Option<(f64, f64)>) {
    match &e.kind {
        ExprKind::Call { builtin, .. } => {
            let b = registry::lookup(builtin);
            let family = match b.map(|b| b.category) {
                Some(Category::Node(f)) => f,
                _ => Family::Map,
            };
            let range = b
                .and_then(|b| b.output.range)
                .and_then(|r| Some((r.min?, r.max?)));
            (family, range)
        }
        ExprKind::If(..) | ExprKind::When(..) => (Family::Gate, None),
        ExprKind::Node(id) => st
            .nodes
            .get(id.0 as usize)
            .and_then(|n| n.as_ref())
            .map_or((Family::Map, None), |n| (n.family, n.range)),
        _ if e.ty.scope == Scope::Step && mentions_step(e) => (Family::Schedule, None),
        ExprKind::Binary(_, a, b) => {
            // An arithmetic node whose operand is a schedule call is still a schedule.
            let (fa, _) = describe(a, st);
            let (fb, _) = describe(b, st);
            if e.ty.scope == Scope::Step && (fa == Family::Schedule || fb == Family::Schedule) {
                (Family::Schedule, None)
            } else {
                (Family::Map, None)
            }
        }
        _ => (Family::Map, None),
    }
}

fn mentions_step(e: &ir::Expr) -> bool {
    match &e.kind {
        ExprKind::Context(name) => *name == "step",
        ExprKind::Unary(_, a) => mentions_step(a),
        ExprKind::Binary(_, a, b) => mentions_step(a) || mentions_step(b),
        ExprKind::If(a, b, c) | ExprKind::When(a, b, c) => {
            mentions_step(a) || mentions_step(b) || mentions_step(c)
        }
        ExprKind::Call { args, .. } => args
            .iter()
            .any(|(_, a)| matches!(a, Arg::Signal(x) if mentions_step(x))),
        _ => false,
    }
}

/// Whether a node's value depends on the main rollouts (so it cannot decide a `halt`).
pub(super) fn node_uses_main(node: &ir::Node, st: &StageCx<'_>) -> bool {
    fn walk(e: &ir::Expr, st: &StageCx<'_>) -> bool {
        match &e.kind {
            ExprKind::Context(_) => e.ty.scope >= Scope::Response,
            ExprKind::Node(id) => st.uses_main.get(id.0 as usize).copied().unwrap_or(false),
            ExprKind::Call {
                args, partition, ..
            } => {
                args.iter()
                    .any(|(_, a)| matches!(a, Arg::Signal(x) if walk(x, st)))
                    || partition.as_ref().is_some_and(|p| walk(p, st))
            }
            ExprKind::Unary(_, a) => walk(a, st),
            ExprKind::Binary(_, a, b) => walk(a, st) || walk(b, st),
            ExprKind::If(a, b, c) | ExprKind::When(a, b, c) => {
                walk(a, st) || walk(b, st) || walk(c, st)
            }
            _ => false,
        }
    }
    walk(&node.expr, st) || node.fallback.as_ref().is_some_and(|f| walk(f, st))
}
