//! Stable text and DOT renderings of a compiled program (`rlr graph`).

use std::fmt::Write as _;

use crate::ast::{BinaryOp, UnaryOp};
use crate::ir::{Arg, Const, Expr, ExprKind, Node, NodeId, Origin, Program, RewardGraph, Stage};
use crate::registry::Family;

/// A readable listing of every stage's graph, nodes in topological order.
pub fn text(p: &Program) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "recipe {:?}", p.name);
    for (k, v) in &p.meta {
        let _ = writeln!(out, "  {k} = {v}");
    }
    for d in &p.decls {
        let args = d
            .args
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "{} {} = {}({args})",
            d.kind.keyword(),
            d.name,
            d.builtin
        );
    }
    for s in &p.stages {
        stage_text(&mut out, s);
    }
    out
}

fn stage_text(out: &mut String, s: &Stage) {
    let _ = writeln!(
        out,
        "\nstage {} = {}(model = {}, task = {})",
        s.name, s.kind, s.model, s.task
    );
    for (k, v) in &s.settings {
        let _ = writeln!(out, "  setting {k} = {v}");
    }
    for b in &s.branches {
        let args = b
            .args
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "  branch {} prompt={} {args}",
            b.name,
            s.graph.node(b.prompt).name
        );
    }
    let g = &s.graph;
    for id in &g.order {
        let n = g.node(*id);
        let _ = write!(out, "  node {} : {} [{}]", n.name, n.ty, n.family.name());
        if let Some(r) = &n.rollouts {
            let _ = write!(out, " on {r}");
        }
        let _ = write!(out, " = {}", expr(g, &n.expr));
        if let Some(f) = &n.fallback {
            let _ = write!(out, " else {}", expr(g, f));
        }
        out.push('\n');
    }
    for f in &s.filters {
        let _ = write!(out, "  {} when {}", f.kind.keyword(), g.node(f.cond).name);
        if let Some(u) = f.unless {
            let _ = write!(out, " unless {}", g.node(u).name);
        }
        out.push('\n');
    }
    for o in &s.objectives {
        let _ = write!(out, "  optimize {}", g.node(o.target).name);
        if let Some(b) = &o.branch {
            let _ = write!(out, " on {b}");
        }
        if let Some(x) = o.scale {
            let _ = write!(out, " scaled by {}", g.node(x).name);
        }
        if let Some(w) = o.weight {
            let _ = write!(out, " weight {}", g.node(w).name);
        }
        if let Some(m) = o.r#where {
            let _ = write!(out, " where {}", g.node(m).name);
        }
        out.push('\n');
    }
}

/// An expression written back in recipe syntax, with node references by name.
pub fn expr(g: &RewardGraph, e: &Expr) -> String {
    match &e.kind {
        ExprKind::Const(c) => c.to_string(),
        ExprKind::Node(id) => g.node(*id).name.clone(),
        ExprKind::Context(n) => (*n).to_string(),
        ExprKind::BranchContext { branch, name } => format!("{branch}.{name}"),
        ExprKind::Sample(f) => format!("sample.{f}"),
        ExprKind::SampleRecord => "sample".into(),
        ExprKind::Call {
            builtin,
            args,
            partition,
        } => {
            let mut parts = Vec::new();
            let mut named = false;
            for (i, (name, a)) in args.iter().enumerate() {
                // Leading signals read positionally; after the first constant, everything is named.
                let mut s = match a {
                    Arg::Signal(x) if !named => expr(g, x),
                    Arg::Signal(x) => format!("{name} = {}", expr(g, x)),
                    Arg::Const(c) => {
                        named = true;
                        format!("{name} = {c}")
                    }
                };
                if i == 0
                    && let Some(p) = partition
                {
                    let _ = write!(s, " where {}", expr(g, p));
                }
                parts.push(s);
            }
            format!("{builtin}({})", parts.join(", "))
        }
        ExprKind::Unary(op, a) => match op {
            UnaryOp::Neg => format!("-{}", wrap(g, a)),
            UnaryOp::Not => format!("not {}", wrap(g, a)),
        },
        ExprKind::Binary(op, a, b) => format!("{} {} {}", wrap(g, a), op_str(*op), wrap(g, b)),
        ExprKind::If(c, a, b) => {
            format!("if {} then {} else {}", expr(g, c), expr(g, a), expr(g, b))
        }
        ExprKind::When(v, c, d) => {
            format!("{} when {} else {}", wrap(g, v), expr(g, c), expr(g, d))
        }
    }
}

fn op_str(op: BinaryOp) -> &'static str {
    op.symbol()
}

fn wrap(g: &RewardGraph, e: &Expr) -> String {
    match e.kind {
        ExprKind::Binary(..) | ExprKind::If(..) | ExprKind::When(..) => format!("({})", expr(g, e)),
        _ => expr(g, e),
    }
}

/// Graphviz DOT: one cluster per stage; gates, schedules, normalisers, judges,
/// filters and objectives drawn distinctly.
pub fn dot(p: &Program) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", quote(&p.name));
    out.push_str("  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [color=\"#555555\"];\n");
    for (si, s) in p.stages.iter().enumerate() {
        let _ = writeln!(out, "  subgraph cluster_{si} {{");
        let _ = writeln!(
            out,
            "    label={};",
            quote(&format!("stage {} ({})", s.name, s.kind))
        );
        let g = &s.graph;
        for id in &g.order {
            let n = g.node(*id);
            let _ = writeln!(out, "    {} [{}];", node_id(si, *id), style(n));
        }
        for e in g.dag.edge_indices() {
            if let Some((a, b)) = g.dag.edge_endpoints(e) {
                let _ = writeln!(
                    out,
                    "    {} -> {};",
                    node_id(si, g.dag[a]),
                    node_id(si, g.dag[b])
                );
            }
        }
        for (k, o) in s.objectives.iter().enumerate() {
            let label = match &o.branch {
                Some(b) => format!("optimize on {b}"),
                None => "optimize".to_string(),
            };
            let _ = writeln!(
                out,
                "    s{si}_obj{k} [label={}, shape=doubleoctagon, style=filled, fillcolor=\"#dddddd\"];",
                quote(&label)
            );
            let _ = writeln!(out, "    {} -> s{si}_obj{k};", node_id(si, o.target));
            if let Some(x) = o.scale {
                let _ = writeln!(
                    out,
                    "    {} -> s{si}_obj{k} [style=dashed, label=\"scale\"];",
                    node_id(si, x)
                );
            }
            if let Some(w) = o.weight {
                let _ = writeln!(
                    out,
                    "    {} -> s{si}_obj{k} [style=dashed, label=\"weight\"];",
                    node_id(si, w)
                );
            }
            if let Some(m) = o.r#where {
                let _ = writeln!(
                    out,
                    "    {} -> s{si}_obj{k} [style=dashed, label=\"where\"];",
                    node_id(si, m)
                );
            }
        }
        for (k, f) in s.filters.iter().enumerate() {
            let _ = writeln!(
                out,
                "    s{si}_filter{k} [label={}, shape=octagon, style=filled, fillcolor=\"#f4cccc\"];",
                quote(f.kind.keyword())
            );
            let _ = writeln!(out, "    {} -> s{si}_filter{k};", node_id(si, f.cond));
            if let Some(u) = f.unless {
                let _ = writeln!(
                    out,
                    "    {} -> s{si}_filter{k} [style=dashed, label=\"unless\"];",
                    node_id(si, u)
                );
            }
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

fn node_id(stage: usize, id: NodeId) -> String {
    format!("s{stage}_n{}", id.0)
}

fn style(n: &Node) -> String {
    let (shape, color) = match n.family {
        Family::Gate => ("diamond", "#f9cb9c"),
        Family::Schedule => ("hexagon", "#9fc5e8"),
        Family::Normalize => ("parallelogram", "#b6d7a8"),
        Family::Judge => ("box3d", "#ffe599"),
        Family::Probe => ("box3d", "#d5a6bd"),
        Family::Verify => ("box", "#ffffff"),
        Family::Reduce => ("invtrapezium", "#d9d2e9"),
        Family::Filter => ("octagon", "#f4cccc"),
        Family::RunningStat => ("cylinder", "#cfe2f3"),
        Family::Advantage | Family::Weight => ("cds", "#eeeeee"),
        _ => ("ellipse", "#ffffff"),
    };
    let mut label = format!("{}\n{} · {}", n.name, n.ty, n.family.name());
    if let Some(r) = &n.rollouts {
        let _ = write!(label, "\non {r}");
    }
    let dashed = matches!(
        n.origin,
        Origin::FnLocal { .. } | Origin::FnArg { .. } | Origin::BranchPrompt
    );
    format!(
        "label={}, shape={shape}, style=\"filled{}\", fillcolor=\"{color}\"",
        quote(&label),
        if dashed { ",dashed" } else { "" }
    )
}

fn quote(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Renders a constant as it would be written in a recipe.
pub fn constant(c: &Const) -> String {
    c.to_string()
}
