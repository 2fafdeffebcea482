//! Schedule bindings evaluated without rollouts, for plotting them before
//! a run (`rlr graph --schedules`).
//!
//! A binding is *step-only* when its value depends on nothing but the step:
//! it is one value per step and its expression reads only constants, the
//! `step` context name, other step-only bindings, and calls of schedules
//! (`linear`, `cosine`, `exponential`, ...) or element-wise maths on them.
//! Such bindings are evaluated by the ordinary executor on a batch with no
//! groups, so a plot shows exactly what a run computes.

use rlr_lang::Scope;
use rlr_lang::ir::{self, ExprKind, NodeId, Stage};
use rlr_lang::registry::{self, Category, Family};

use crate::batch::Batch;
use crate::error::{EvalError, Result};
use crate::eval::{Options, evaluate};
use crate::state::State;
use crate::value::Data;

/// Families whose calls are pure functions of their arguments.
fn pure(builtin: &str) -> Option<Family> {
    match registry::lookup(builtin)?.category {
        Category::Node(f @ (Family::Schedule | Family::Map | Family::Combine)) => Some(f),
        _ => None,
    }
}

/// Whether `e` reads only the step (given which nodes do), and whether it
/// calls a schedule somewhere (directly or through a node that does).
fn step_only(e: &ir::Expr, only: &[bool], sched: &[bool]) -> (bool, bool) {
    let all = |es: &[&ir::Expr]| {
        es.iter().fold((true, false), |(ok, s), x| {
            let (o, t) = step_only(x, only, sched);
            (ok && o, s || t)
        })
    };
    if e.ty.scope != Scope::Step {
        return (false, false);
    }
    match &e.kind {
        ExprKind::Const(_) => (true, false),
        ExprKind::Context(name) => (*name == "step", false),
        ExprKind::Node(id) => {
            let i = id.0 as usize;
            (
                only.get(i).copied().unwrap_or(false),
                sched.get(i).copied().unwrap_or(false),
            )
        }
        ExprKind::Call {
            builtin,
            args,
            partition,
        } => {
            let Some(family) = pure(builtin) else {
                return (false, false);
            };
            let signals: Vec<&ir::Expr> = args
                .iter()
                .filter_map(|(_, a)| match a {
                    ir::Arg::Signal(x) => Some(x),
                    ir::Arg::Const(_) => None,
                })
                .collect();
            let (ok, s) = all(&signals);
            (ok && partition.is_none(), s || family == Family::Schedule)
        }
        ExprKind::Unary(_, a) => step_only(a, only, sched),
        ExprKind::Binary(_, a, b) => all(&[a, b]),
        ExprKind::If(a, b, c) | ExprKind::When(a, b, c) => all(&[a, b, c]),
        ExprKind::BranchContext { .. } | ExprKind::Sample(_) | ExprKind::SampleRecord => {
            (false, false)
        }
    }
}

/// For every node of `stage`'s graph: whether it is step-only, and whether
/// it also reads a schedule.
fn classify(stage: &Stage) -> (Vec<bool>, Vec<bool>) {
    let g = &stage.graph;
    let mut only = vec![false; g.nodes.len()];
    let mut sched = vec![false; g.nodes.len()];
    for id in &g.order {
        let n = g.node(*id);
        let (ok, s) = step_only(&n.expr, &only, &sched);
        let fallback_ok = n
            .fallback
            .as_ref()
            .is_none_or(|f| step_only(f, &only, &sched).0);
        let i = id.0 as usize;
        only[i] = ok && fallback_ok && n.rollouts.is_none() && n.ty.scope == Scope::Step;
        sched[i] = only[i] && s;
    }
    (only, sched)
}

/// The step-only bindings of `stage` that read a schedule, in graph order
/// (a plain constant such as `beta = 0.5` is step-only but not a schedule).
pub fn schedule_bindings(stage: &Stage) -> Vec<NodeId> {
    let (_, sched) = classify(stage);
    stage
        .graph
        .order
        .iter()
        .copied()
        .filter(|id| sched[id.0 as usize])
        .collect()
}

/// The value of each of `nodes` (step-only bindings of `stage`) at each of
/// `steps` (1-based), evaluated with no rollouts: `values[i][k]` is node
/// `i` at step `steps[k]`; flags are 1 or 0. A node that is not step-only
/// is an error.
pub fn trace(stage: &Stage, nodes: &[NodeId], steps: &[u64], seed: u64) -> Result<Vec<Vec<f64>>> {
    let (only, _) = classify(stage);
    for id in nodes {
        if !only.get(id.0 as usize).copied().unwrap_or(false) {
            let name = stage
                .graph
                .nodes
                .get(id.0 as usize)
                .map_or("?", |n| n.name.as_str());
            return Err(EvalError::new(format!(
                "`{name}` depends on more than the step; only step-only bindings can be traced"
            )));
        }
    }
    // Only the step-only nodes, no filters or objectives: nothing reads rollouts.
    let mut bare = stage.clone();
    bare.graph.order.retain(|id| only[id.0 as usize]);
    bare.filters.clear();
    bare.objectives.clear();
    bare.branches.clear();
    let total = match stage.settings.get("steps") {
        Some(c) => c.as_f64().map_or(0, |s| s.max(0.0) as u64),
        None => steps.iter().copied().max().unwrap_or(0),
    };
    let options = Options {
        seed,
        probes: None,
        before_rollout: false,
    };
    let mut out = vec![Vec::with_capacity(steps.len()); nodes.len()];
    let mut state = State::default();
    for &step in steps {
        let batch = Batch {
            step,
            steps: total,
            groups: Vec::new(),
        };
        let ev = evaluate(&bare, &batch, &mut state, &options)?;
        for (i, id) in nodes.iter().enumerate() {
            let v = ev
                .values
                .get(id.0 as usize)
                .and_then(|v| v.as_ref())
                .ok_or_else(|| EvalError::new("a step-only binding was not evaluated"))?;
            let x = match &v.data {
                Data::Real(xs) => xs.first().copied(),
                Data::Bool(bs) => bs.first().map(|b| f64::from(u8::from(*b))),
                _ => None,
            };
            out[i].push(x.unwrap_or(f64::NAN));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECIPE: &str = r#"recipe "s" { seed = 1 }
model policy = gpt(layers = 1, width = 16, heads = 2, context = 48)
task  train  = arith(max = 9)
stage rl = grpo(policy, train) {
  steps = 10
  reward {
    correct = exact(answer, sample.answer)
    alpha   = linear(0.5 -> 0, over = steps)
    warm    = warmup(over = 4)
    both    = alpha * warm + 1
    late    = step > 5
    beta    = 0.5
    total   = correct + alpha * correct
  }
  optimize total
}
"#;

    fn stage() -> Stage {
        let c = rlr_lang::compile("s.rlr", RECIPE, &mut rlr_lang::NoImports);
        let p = c.program.unwrap_or_else(|| panic!("{:?}", c.diagnostics));
        p.stages
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no stage"))
    }

    #[test]
    fn only_step_only_schedule_bindings_are_found() {
        let s = stage();
        let names: Vec<&str> = schedule_bindings(&s)
            .iter()
            .map(|id| s.graph.node(*id).name.as_str())
            .collect();
        assert_eq!(names, ["alpha", "warm", "both"]);
    }

    #[test]
    fn traces_match_the_schedules_formulas() {
        let s = stage();
        let ids = schedule_bindings(&s);
        let steps: Vec<u64> = (1..=10).collect();
        let v = trace(&s, &ids, &steps, 1).unwrap_or_else(|e| panic!("{e}"));
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} != {b}");
        // alpha = 0.5 · (1 − step/10); warm = min(step/4, 1); both = alpha · warm + 1.
        for (k, step) in steps.iter().enumerate() {
            let t = *step as f64;
            let alpha = 0.5 * (1.0 - t / 10.0);
            let warm = (t / 4.0).min(1.0);
            close(v[0][k], alpha);
            close(v[1][k], warm);
            close(v[2][k], alpha * warm + 1.0);
        }
        // A flag of the step traces as 0/1; a binding that reads rollouts is refused.
        let late = s.graph.find("late").unwrap_or_else(|| panic!("no late"));
        let v = trace(&s, &[late], &[5, 6], 1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v, [[0.0, 1.0]]);
        let total = s.graph.find("total").unwrap_or_else(|| panic!("no total"));
        assert!(trace(&s, &[total], &[1], 1).is_err());
    }
}
