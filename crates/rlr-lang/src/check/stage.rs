//! Checking one stage: settings, branches, reward bindings (ordered by their
//! references, cycles reported), filters and objectives.

use std::collections::{BTreeMap, HashMap};

use super::Checker;
use super::expr::{Env, Ex, StageCx, make_node, node_uses_main};
use crate::ast::{self, FilterKind, StageItem};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::graph;
use crate::ir::{self, NodeId, Origin};
use crate::registry::{self, Category, Family, ParamType};
use crate::source::Span;
use crate::types::{Kind, Scope};

/// Checks a stage and compiles its reward graph.
pub(super) fn check_stage<'a>(c: &mut Checker<'a>, s: &'a ast::Stage) -> Option<ir::Stage> {
    let kind_name = s.header.callee.dotted();
    let Some(kind) = registry::lookup(&kind_name).filter(|b| b.category == Category::Stage) else {
        let kinds = registry::names_in(|c| c == Category::Stage);
        let mut d = Diagnostic::error(
            "E0120",
            format!("there is no stage kind called `{kind_name}`"),
            s.header.callee.span,
        )
        .label("unknown stage kind");
        d = match did_you_mean(&kind_name, kinds.iter().copied()) {
            Some(m) => d.help(format!("did you mean `{m}`?")),
            None => d.help(format!("stage kinds are {}", kinds.join(", "))),
        };
        c.diags.push(d);
        return None;
    };

    // Header arguments and body settings are one set of settings.
    let mut combined = s.header.clone();
    let mut branches = Vec::new();
    let mut bindings: Vec<&'a ast::Binding> = Vec::new();
    let mut filters = Vec::new();
    let mut objectives = Vec::new();
    for item in s.body.iter().flat_map(|b| &b.items) {
        match item {
            StageItem::Setting(f) => combined.args.push(ast::Arg {
                name: Some(f.name.clone()),
                value: f.value.clone(),
                filter: None,
                span: f.span,
            }),
            StageItem::Branch(b) => branches.push(b),
            StageItem::Reward(r) => bindings.extend(r.bindings.iter()),
            StageItem::Filter(f) => filters.push(f),
            StageItem::Optimize(o) => objectives.push(o),
        }
    }
    let settings = c.const_args(kind, &combined, &BTreeMap::new())?;
    let model = kind
        .params
        .iter()
        .find(|p| p.ty == ParamType::Model)
        .and_then(|p| settings.get(p.name))
        .map(|c| c.to_string())
        .unwrap_or_default();
    let task_name = kind
        .params
        .iter()
        .find(|p| p.ty == ParamType::Task)
        .and_then(|p| settings.get(p.name))
        .map(|c| c.to_string())
        .unwrap_or_default();
    // The task's constructor defines the fields of `sample`.
    let task = c.tasks.get(&task_name).copied();
    let task_fields = c.task_fields.get(&task_name).cloned().unwrap_or_default();

    let is_sft = kind.name == "sft";
    if is_sft {
        let rl_items: Vec<Span> = s
            .body
            .iter()
            .flat_map(|b| &b.items)
            .filter(|i| !matches!(i, StageItem::Setting(_)))
            .map(StageItem::span)
            .collect();
        if let Some(first) = rl_items.first() {
            c.diags.push(
                Diagnostic::error("E0170", "an `sft` stage trains on the task's demonstrations; it has no rewards", *first)
                    .help("move rewards, branches, filters and `optimize` into an RL stage such as `grpo`"),
            );
            return None;
        }
    } else if objectives.is_empty() {
        c.diags.push(
            Diagnostic::error(
                "E0171",
                format!("the stage `{}` optimizes nothing", s.name.name),
                s.name.span,
            )
            .label("no `optimize` statement")
            .help("add `optimize NAME` inside the stage, naming the reward binding to maximise"),
        );
    }

    let mut st = StageCx {
        settings: &settings,
        setting_names: kind.params.iter().map(|p| p.name).collect(),
        task,
        task_fields,
        branches: HashMap::new(),
        bindings: HashMap::new(),
        rejected: Default::default(),
        nodes: Vec::new(),
        uses_main: Vec::new(),
        const_reads: Default::default(),
    };

    // Names: bindings and branches share the stage's namespace.
    let mut ok = true;
    let mut taken: HashMap<String, Span> = HashMap::new();
    let mut claim = |c: &mut Checker<'a>, st: &StageCx<'_>, ident: &ast::Ident| -> bool {
        let name = &ident.name;
        let clash = if let Some(why) = super::reserved_meaning(name) {
            Some(why)
        } else if st.setting_names.contains(&name.as_str()) {
            Some(format!("`{name}` is a setting of `{}` stages", kind.name))
        } else if let Some((k, _)) = c.decls.get(name) {
            Some(format!("`{name}` is already the name of a {}", k.keyword()))
        } else {
            None
        };
        if let Some(why) = clash {
            c.diags
                .push(Diagnostic::error("E0104", why, ident.span).help("choose another name"));
            return false;
        }
        if let Some(prev) = taken.insert(name.clone(), ident.span) {
            c.diags.push(
                Diagnostic::error(
                    "E0101",
                    format!("`{name}` is defined twice in this stage"),
                    ident.span,
                )
                .with(prev, "first defined here")
                .help("each binding names one node of the reward graph; rename one of them"),
            );
            return false;
        }
        true
    };
    for b in &branches {
        if claim(c, &st, &b.name) {
            st.branches.insert(b.name.name.clone(), b.name.span);
        } else {
            ok = false;
        }
    }
    let mut stage_bindings: Vec<&'a ast::Binding> = Vec::new();
    for b in bindings {
        if claim(c, &st, &b.name) {
            st.bindings
                .insert(b.name.name.clone(), NodeId(stage_bindings.len() as u32));
            stage_bindings.push(b);
        } else {
            // Already reported: later uses of the name should not add more errors.
            if !st.bindings.contains_key(&b.name.name) {
                st.rejected.insert(b.name.name.clone());
            }
            ok = false;
        }
    }
    st.nodes = vec![None; stage_bindings.len()];
    st.uses_main = vec![false; stage_bindings.len()];

    // Order bindings by what they read; report cycles with their full path.
    let refs: Vec<Vec<(usize, Span)>> = stage_bindings
        .iter()
        .map(|b| {
            let mut out = Vec::new();
            free_names(&b.value, &st.bindings, &mut out);
            if let Some(f) = &b.fallback {
                free_names(f, &st.bindings, &mut out);
            }
            out
        })
        .collect();
    let (order, cycles) = graph::order_with_cycles(stage_bindings.len(), &refs);
    for cycle in cycles {
        ok = false;
        c.diags.push(cycle_diagnostic(&stage_bindings, &cycle));
    }
    let in_cycle: Vec<bool> = {
        let mut v = vec![true; stage_bindings.len()];
        for i in &order {
            v[*i] = false;
        }
        v
    };

    let mut ex = Ex {
        c,
        st: &mut st,
        partitions: 0,
        prefix: String::new(),
        fn_stack: Vec::new(),
    };

    // Branch prompts come first: they may not read bindings.
    let mut branch_defs = Vec::new();
    for b in &branches {
        if let Some(def) = branch(&mut ex, b) {
            branch_defs.push(def);
        } else {
            ok = false;
        }
    }

    for i in order {
        if in_cycle[i] {
            continue;
        }
        let b = stage_bindings[i];
        ex.partitions = 0;
        ex.prefix = b.name.name.clone();
        let t = ex.expr(&b.value, &Env::Stage);
        let fb = b.fallback.as_ref().and_then(|f| ex.expr(f, &Env::Stage));
        let parts = ex.partitions;
        let Some(t) = t else {
            ok = false;
            continue;
        };
        let Some(fb) = ex.fallback(&b.name.name, &t, b.fallback.as_ref(), fb, parts, b.span) else {
            ok = false;
            continue;
        };
        let node = make_node(b.name.name.clone(), Origin::Binding, t, fb, b.span, ex.st);
        ex.st.uses_main[i] = node_uses_main(&node, ex.st);
        ex.st.nodes[i] = Some(node);
    }

    let mut filter_defs = Vec::new();
    for f in &filters {
        match filter(&mut ex, f) {
            Some(def) => filter_defs.push(def),
            None => ok = false,
        }
    }
    let mut objective_defs = Vec::new();
    for o in &objectives {
        match objective(&mut ex, o) {
            Some(def) => objective_defs.push(def),
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    let nodes: Vec<ir::Node> = st.nodes.into_iter().collect::<Option<Vec<_>>>()?;
    let graph = graph::build(nodes);
    let used_by_statements: Vec<NodeId> = filter_defs
        .iter()
        .flat_map(|f: &ir::FilterDef| std::iter::once(f.cond).chain(f.unless))
        .chain(objective_defs.iter().flat_map(|o: &ir::Objective| {
            std::iter::once(o.target)
                .chain(o.scale)
                .chain(o.weight)
                .chain(o.r#where)
        }))
        .chain(branch_defs.iter().map(|b: &ir::BranchDef| b.prompt))
        .collect();
    for (i, node) in graph.nodes.iter().enumerate() {
        let id = NodeId(i as u32);
        let read = graph
            .dag
            .neighbors_directed(
                petgraph::graph::NodeIndex::new(i),
                petgraph::Direction::Outgoing,
            )
            .next()
            .is_some();
        if node.origin == Origin::Binding
            && !read
            && !used_by_statements.contains(&id)
            && !st.const_reads.contains(&id)
            && !node.name.starts_with('_')
        {
            c.diags.push(
                Diagnostic::warning("W0101", format!("`{}` is computed but never used", node.name), node.span)
                    .label("not read by any binding, filter or objective")
                    .help(format!("it is still computed and logged each step; name it `_{}` to mark it as a metric", node.name)),
            );
        }
    }
    Some(ir::Stage {
        name: s.name.name.clone(),
        kind: kind.name,
        model,
        task: task_name,
        settings,
        branches: branch_defs,
        graph,
        filters: filter_defs,
        objectives: objective_defs,
        span: s.span,
    })
}

/// The stage bindings an expression reads, syntactically (not inside function bodies).
fn free_names(e: &ast::Expr, bindings: &HashMap<String, NodeId>, out: &mut Vec<(usize, Span)>) {
    use ast::ExprKind as K;
    match &e.kind {
        K::Path(p) => {
            if p.segments.len() == 1
                && let Some(id) = bindings.get(&p.segments[0].name)
            {
                out.push((id.0 as usize, p.span));
            }
        }
        K::Call(call) => {
            for a in &call.args {
                free_names(&a.value, bindings, out);
                if let Some(f) = &a.filter {
                    free_names(f, bindings, out);
                }
            }
        }
        K::List(xs) | K::Tuple(xs) => xs.iter().for_each(|x| free_names(x, bindings, out)),
        K::Unary { operand, .. } => free_names(operand, bindings, out),
        K::Binary { lhs, rhs, .. } => {
            free_names(lhs, bindings, out);
            free_names(rhs, bindings, out);
        }
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
            free_names(cond, bindings, out);
            free_names(then, bindings, out);
            free_names(otherwise, bindings, out);
        }
        K::Range { from, to } => {
            free_names(from, bindings, out);
            free_names(to, bindings, out);
        }
        K::Number { .. } | K::Str(_) | K::Bool(_) => {}
    }
}

fn cycle_diagnostic(bindings: &[&ast::Binding], cycle: &[(usize, Span)]) -> Diagnostic {
    let names: Vec<&str> = cycle
        .iter()
        .map(|(i, _)| bindings[*i].name.name.as_str())
        .collect();
    let first = bindings[cycle[0].0];
    let mut path = names.join(" -> ");
    path.push_str(&format!(" -> {}", names[0]));
    let mut d = Diagnostic::error(
        "E0150",
        format!("`{}` depends on itself: {path}", first.name.name),
        first.name.span,
    )
    .label("part of a cycle");
    for (k, (i, at)) in cycle.iter().enumerate() {
        let next = names[(k + 1) % names.len()];
        d = d.with(
            *at,
            format!("`{}` reads `{next}` here", bindings[*i].name.name),
        );
    }
    d.help("a reward graph must be acyclic; compute the shared part in its own binding, or use a value from the previous step with a running statistic")
}

fn branch(ex: &mut Ex<'_, '_, '_>, b: &ast::Branch) -> Option<ir::BranchDef> {
    let callee = b.value.callee.dotted();
    let Some(builtin) =
        registry::lookup(&callee).filter(|x| x.category == Category::Node(Family::Rollout))
    else {
        ex.c.diags.push(
            Diagnostic::error(
                "E0130",
                format!("a branch is built with `rollout(...)`, not `{callee}`"),
                b.value.callee.span,
            )
            .help("write e.g. `branch probe = rollout(sample.checklist_prompt, n = group)`"),
        );
        return None;
    };
    let (slots, problems) = super::expr::match_args(builtin, &b.value);
    if !problems.is_empty() {
        ex.c.diags.extend(problems);
        return None;
    }
    let mut prompt = None;
    let mut rest = ast::Call {
        callee: b.value.callee.clone(),
        args: Vec::new(),
        span: b.value.span,
    };
    for (param, arg) in slots {
        let Some(arg) = arg else { continue };
        if matches!(param.ty, ParamType::Signal { .. }) {
            ex.prefix = format!("{}.{}", b.name.name, param.name);
            let t = ex.expr(&arg.value, &Env::Stage)?;
            if t.e.ty.kind != Kind::Text || t.e.ty.scope > Scope::Group {
                ex.c.diags.push(
                    Diagnostic::error(
                        "E0131",
                        format!(
                            "a branch prompt must be one text per prompt, found {}",
                            t.e.ty
                        ),
                        t.e.span,
                    )
                    .help("use a task field such as `sample.checklist_prompt`"),
                );
                return None;
            }
            let name = ex.fresh_name(&format!("{}.prompt", b.name.name));
            prompt = Some(ex.add_node(name, Origin::BranchPrompt, t, None, arg.span));
        } else {
            rest.args.push(ast::Arg {
                name: Some(ast::Ident {
                    name: param.name.to_string(),
                    span: arg.span,
                }),
                ..arg.clone()
            });
        }
    }
    // Constant arguments (n, temperature, ...) may read stage settings such as `group`.
    let settings = ex.st.settings.clone();
    let no_prompt: Vec<_> = builtin
        .params
        .iter()
        .filter(|p| !matches!(p.ty, ParamType::Signal { .. }))
        .copied()
        .collect();
    let mut args = BTreeMap::new();
    let decls = &ex.c.decls;
    let names = |n: &str| decls.contains_key(n);
    let declared: Vec<&str> = decls.keys().map(String::as_str).collect();
    let env = super::consts::ConstEnv {
        settings: &settings,
        names: &names,
        declared: &declared,
        bindings: &super::consts::no_bindings,
    };
    for p in &no_prompt {
        let given = rest
            .args
            .iter()
            .find(|a| a.name.as_ref().is_some_and(|n| n.name == p.name));
        let value = match given {
            Some(a) => match super::consts::eval(&a.value, &env)
                .and_then(|v| super::consts::conform(v, p, &a.value))
            {
                Ok(v) => v,
                Err(d) => {
                    ex.c.diags.push(d);
                    return None;
                }
            },
            None => match p
                .default
                .and_then(|d| super::consts::default_const(d, &settings))
            {
                Some(v) => v,
                None => continue,
            },
        };
        args.insert(p.name.to_string(), value);
    }
    Some(ir::BranchDef {
        name: b.name.name.clone(),
        prompt: prompt?,
        args,
        span: b.span,
    })
}

fn statement_node(
    ex: &mut Ex<'_, '_, '_>,
    base: &str,
    origin: Origin,
    e: &ast::Expr,
) -> Option<(NodeId, super::expr::Typed)> {
    ex.partitions = 0;
    ex.prefix = base.to_string();
    let t = ex.expr(e, &Env::Stage)?;
    if ex.partitions > 0 {
        ex.c.diags.push(
            Diagnostic::error("E0260", "a `where` partition here needs a fallback", e.span).help(
                "compute it in a reward binding with `else VALUE`, and use that binding here",
            ),
        );
        return None;
    }
    if let ir::ExprKind::Node(id) = t.e.kind {
        return Some((id, t));
    }
    let name = ex.fresh_name(base);
    let span = e.span;
    let id = ex.add_node(name, origin, t.clone(), None, span);
    Some((id, t))
}

fn filter(ex: &mut Ex<'_, '_, '_>, f: &ast::Filter) -> Option<ir::FilterDef> {
    let kw = f.kind.keyword();
    let (cond, ct) = statement_node(ex, kw, Origin::Filter(f.kind), &f.cond)?;
    if f.kind == FilterKind::Drop {
        warn_shaped_variance(ex, &ct.e);
    }
    let unless = match &f.unless {
        Some(u) => Some(statement_node(
            ex,
            &format!("{kw}.unless"),
            Origin::FilterUnless(f.kind),
            u,
        )?),
        None => None,
    };
    for (t, what) in std::iter::once((&ct, "condition"))
        .chain(unless.as_ref().map(|(_, t)| (t, "`unless` condition")))
    {
        if t.e.ty.kind != Kind::Bool {
            ex.c.diags.push(
                Diagnostic::error(
                    "E0161",
                    format!("a filter's {what} must be true/false, found {}", t.e.ty),
                    t.e.span,
                )
                .help("compare it, e.g. `mean(accuracy) <= 0.01`"),
            );
            return None;
        }
        if t.e.ty.scope > Scope::Group {
            ex.c.diags.push(
                Diagnostic::error(
                    "E0162",
                    format!(
                        "`{kw}` keeps or removes whole prompts, but this is one value per {}",
                        t.e.ty.scope
                    ),
                    t.e.span,
                )
                .help("reduce it to the group, e.g. `all(x)`, `any(x)` or `mean(x) <= 0.01`"),
            );
            return None;
        }
    }
    if f.kind == FilterKind::Halt {
        for (id, e) in std::iter::once((cond, &f.cond)).chain(
            unless
                .as_ref()
                .map(|(id, _)| (*id, f.unless.as_ref().unwrap_or(&f.cond))),
        ) {
            if ex.st.uses_main.get(id.0 as usize).copied().unwrap_or(false) {
                ex.c.diags.push(
                    Diagnostic::error("E0160", "`halt` acts before the main rollouts, but this condition reads them", e.span)
                        .label("depends on the main rollouts")
                        .help("decide with values of a branch (e.g. `mean(perceived)` on a probe branch), or use `drop when` to filter after rollout"),
                );
                return None;
            }
        }
    }
    Some(ir::FilterDef {
        kind: f.kind,
        cond,
        unless: unless.map(|(id, _)| id),
        span: f.span,
    })
}

fn objective(ex: &mut Ex<'_, '_, '_>, o: &ast::Optimize) -> Option<ir::Objective> {
    let (target, tt) = statement_node(ex, "optimize", Origin::Objective, &o.target)?;
    if !tt.e.ty.kind.converts_to(Kind::Real) {
        ex.c.diags.push(
            Diagnostic::error(
                "E0180",
                format!("`optimize` needs a numeric reward, found {}", tt.e.ty),
                tt.e.span,
            )
            .help("optimize a real-valued binding (true/false count as 1/0)"),
        );
        return None;
    }
    if tt.e.ty.scope < Scope::Response {
        ex.c.diags.push(
            Diagnostic::error(
                "E0181",
                format!("`optimize` needs a reward per rollout, segment or token, found one per {}", tt.e.ty.scope),
                tt.e.span,
            )
            .help(if tt.e.ty.scope == Scope::Step {
                "a step-level value gives every rollout the same reward, so there is nothing to learn; use it as a weight or schedule"
            } else {
                "a group-level value gives every rollout of a prompt the same reward, so there is nothing to learn; use it to scale a per-rollout reward"
            }),
        );
        return None;
    }
    let branch = match &o.on {
        Some(b) if !ex.st.branches.contains_key(&b.name) => {
            let mut d =
                Diagnostic::error("E0182", format!("there is no branch `{}`", b.name), b.span);
            if let Some(m) = did_you_mean(&b.name, ex.st.branches.keys().map(String::as_str)) {
                d = d.help(format!("did you mean `{m}`?"));
            } else {
                d = d.help("declare it in the stage: `branch NAME = rollout(...)`");
            }
            ex.c.diags.push(d);
            return None;
        }
        Some(b) => Some(b.name.clone()),
        None => None,
    };
    if tt.set != branch {
        let (found, help) = match (&tt.set, &branch) {
            (Some(s), None) => (
                format!("the `{s}` branch's rollouts"),
                format!("add `on {s}`"),
            ),
            (None, Some(b)) => (
                "the main rollouts".to_string(),
                format!("compute it from `{b}.…` fields, or drop `on {b}`"),
            ),
            (Some(s), Some(_)) => (
                format!("the `{s}` branch's rollouts"),
                format!("write `on {s}`"),
            ),
            (None, None) => (String::new(), String::new()),
        };
        ex.c.diags.push(
            Diagnostic::error(
                "E0183",
                format!("this reward is computed on {found}"),
                tt.e.span,
            )
            .help(help),
        );
        return None;
    }
    let scale = match &o.scaled_by {
        Some(e) => {
            let (id, t) = statement_node(ex, "optimize.scale", Origin::Objective, e)?;
            if !t.e.ty.kind.converts_to(Kind::Real) {
                ex.c.diags.push(Diagnostic::error(
                    "E0184",
                    format!("`scaled by` needs a number, found {}", t.e.ty),
                    t.e.span,
                ));
                return None;
            }
            if t.e.ty.scope >= Scope::Response && t.set != tt.set {
                ex.c.diags.push(
                    Diagnostic::error(
                        "E0221",
                        "the scale comes from other rollouts than the reward",
                        t.e.span,
                    )
                    .help("reduce it to the group first, e.g. `mean(x)`"),
                );
                return None;
            }
            Some(id)
        }
        None => None,
    };
    let weight = match &o.weight {
        Some(e) => {
            let (id, t) = statement_node(ex, "optimize.weight", Origin::Objective, e)?;
            if !t.e.ty.kind.converts_to(Kind::Real) || t.e.ty.scope != Scope::Step {
                ex.c.diags.push(
                    Diagnostic::error(
                        "E0185",
                        format!(
                            "a term's `weight` must be one number per step, found {}",
                            t.e.ty
                        ),
                        t.e.span,
                    )
                    .help("use a constant or a schedule such as `linear(1 -> 0, over = steps)`"),
                );
                return None;
            }
            Some(id)
        }
        None => None,
    };
    let r#where = match &o.r#where {
        Some(e) => {
            let (id, t) = statement_node(ex, "optimize.where", Origin::Objective, e)?;
            // A bool per rollout or per token; coarser bools broadcast down
            // (a group's rollouts all in or all out), segment bools do not
            // reach tokens without `place`, as everywhere else.
            let scope_ok = t.e.ty.scope != Scope::Segment;
            if t.e.ty.kind != Kind::Bool || !scope_ok {
                let help = if t.e.ty.kind != Kind::Bool {
                    "compare it, e.g. `where x > 0`; to weight the advantages by a number, use `scaled by`"
                } else {
                    "reduce it to one per rollout, e.g. `where all(m)` or `where any(m)`"
                };
                ex.c.diags.push(
                    Diagnostic::error(
                        "E0186",
                        format!(
                            "`where` on `optimize` needs true/false per rollout or per token, found {}",
                            t.e.ty
                        ),
                        t.e.span,
                    )
                    .help(help),
                );
                return None;
            }
            if t.e.ty.scope >= Scope::Response && t.set != tt.set {
                ex.c.diags.push(
                    Diagnostic::error(
                        "E0221",
                        "the `where` mask comes from other rollouts than the reward",
                        t.e.span,
                    )
                    .help("reduce it to the group first, e.g. `any(x)`"),
                );
                return None;
            }
            Some(id)
        }
        None => None,
    };
    Some(ir::Objective {
        target,
        branch,
        scale,
        weight,
        r#where,
        span: o.span,
    })
}

/// Dynamic sampling on the spread of a shaped reward keeps groups in which
/// every rollout failed but the shaping varies (verl-recipe PR#125: such a
/// filter "destroys the policy within 40 steps"). Warn unless the value whose
/// spread is tested is binary or lies in [0, 1].
fn warn_shaped_variance(ex: &mut Ex<'_, '_, '_>, e: &ir::Expr) {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ir::ExprKind::Call { builtin, args, .. } => {
                if *builtin == "std"
                    && let Some((_, ir::Arg::Signal(x))) = args.first()
                {
                    {
                        let bounded = x.ty.kind == Kind::Bool
                            || match &x.kind {
                                ir::ExprKind::Node(id) => ex
                                    .st
                                    .nodes
                                    .get(id.0 as usize)
                                    .and_then(|n| n.as_ref())
                                    .is_some_and(|n| {
                                        n.ty.kind == Kind::Bool
                                            || n.range
                                                .is_some_and(|(lo, hi)| lo >= 0.0 && hi <= 1.0)
                                    }),
                                _ => false,
                            };
                        if !bounded {
                            ex.c.diags.push(
                                Diagnostic::warning("W0103", "dynamic sampling on the spread of a shaped reward", x.span)
                                    .label("not a binary or [0, 1] outcome")
                                    .note("a group where every rollout failed still varies through its shaping terms, so it is kept and trained on noise (verl-recipe PR#125)")
                                    .help("filter on the outcome itself, e.g. `drop when std(correct) == 0`"),
                            );
                        }
                    }
                }
                for (_, a) in args {
                    if let ir::Arg::Signal(x) = a {
                        stack.push(x);
                    }
                }
            }
            ir::ExprKind::Unary(_, a) => stack.push(a),
            ir::ExprKind::Binary(_, a, b) => {
                stack.push(a);
                stack.push(b);
            }
            ir::ExprKind::If(a, b, c) | ir::ExprKind::When(a, b, c) => {
                stack.extend([&**a, &**b, &**c]);
            }
            _ => {}
        }
    }
}
