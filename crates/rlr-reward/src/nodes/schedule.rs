//! Node family: schedule. Functions of the training step: `cx.step` is
//! 1-based, `T` is the `over` parameter or, when the call has none, the
//! stage's total `cx.steps`. Every schedule returns one step-scope real.

use crate::error::{EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[
    &Constant,
    &Linear,
    &Cosine,
    &Exponential,
    &Piecewise,
    &Curriculum,
    &Warmup,
];

/// The step-scope output of a schedule.
fn scalar(call: &Call<'_>, x: f64) -> Value {
    kit::output(call, Data::Real(vec![x]), None)
}

/// `T`: the `over` parameter, or the stage's total steps when it is absent.
fn horizon(call: &Call<'_>, cx: &Cx<'_>) -> Result<f64> {
    let given = call.args.iter().any(|(n, _)| *n == "over");
    let t = if given { call.real("over")? } else { cx.steps };
    if t.is_finite() && t > 0.0 {
        Ok(t)
    } else {
        Err(EvalError::new(format!(
            "`{}` runs over T = {t} steps; T must be a positive number of steps",
            call.builtin.name
        )))
    }
}

/// `min(step / T, 1)`, never below 0.
fn progress(call: &Call<'_>, cx: &Cx<'_>) -> Result<f64> {
    let t = horizon(call, cx)?;
    Ok((cx.step / t).clamp(0.0, 1.0))
}

/// The `(step, value)` points of a call, ordered by step (stable for equal steps).
fn points(call: &Call<'_>) -> Result<Vec<(f64, f64)>> {
    let mut p = call.points("points")?;
    if p.is_empty() {
        return Err(EvalError::new(format!(
            "`{}` needs at least one (step, value) point",
            call.builtin.name
        )));
    }
    if p.iter().any(|(s, v)| s.is_nan() || v.is_nan()) {
        return Err(EvalError::new(format!(
            "`{}` has a point that is not a number",
            call.builtin.name
        )));
    }
    p.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(p)
}

/// `constant(v)`: v at every step. A plain number means the same; `constant`
/// names it in the graph.
///
/// [INFER] methods.md §P.2 Schedule "const".
pub struct Constant;

impl Node for Constant {
    fn name(&self) -> &'static str {
        "constant"
    }

    fn eval(&self, call: &Call<'_>, _cx: &mut Cx<'_>) -> Result<Value> {
        Ok(scalar(call, call.real("v")?))
    }
}

/// `linear(a -> b, over = T)`: linear ramp a + (b − a) · min(step / T, 1),
/// holding b after T. Atom-Searcher's weight `linear(0.5 -> 0, over = steps)`
/// is α = 0.5 · (1 − step/T_MAX); ToolRL's SCHEDULEREWARD format maximum is
/// `linear(2 -> 1, over = 150)`.
///
/// [2ND] Atom-Searcher linear decay (arXiv:2508.12800; constant 0.5 [INFER]);
/// [CODE] ToolRL SCHEDULEREWARD (qiancheng0/ToolRL, rlla.py).
pub struct Linear;

impl Node for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let (a, b) = call.pair("range")?;
        let f = progress(call, cx)?;
        Ok(scalar(call, a + (b - a) * f))
    }
}

/// `cosine(a -> b, over = T)`: cosine ramp b + (a − b) · (1 + cos(π · min(step / T, 1))) / 2.
///
/// [INFER] methods.md §P.2 Schedule "cosine".
pub struct Cosine;

impl Node for Cosine {
    fn name(&self) -> &'static str {
        "cosine"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let (a, b) = call.pair("range")?;
        let f = progress(call, cx)?;
        Ok(scalar(
            call,
            b + (a - b) * (1.0 + (std::f64::consts::PI * f).cos()) / 2.0,
        ))
    }
}

/// `exponential(scale, over = T)`: exponential decay scale · exp(−step / T),
/// not clamped after T. SophiaVL-R1 anneals its thinking reward by
/// α · exp(−step / T) with α = 0.3: the paper takes T = total steps, the code a
/// config constant (12000).
///
/// [PAPER] SophiaVL-R1 (arXiv:2505.17018) eqs. 4–6; [CODE]
/// kxfan2002/SophiaVL-R1@a818494 verl/workers/reward/custom.py (T = worker.reward.alpha).
pub struct Exponential;

impl Node for Exponential {
    fn name(&self) -> &'static str {
        "exponential"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let scale = call.real("scale")?;
        let t = horizon(call, cx)?;
        Ok(scalar(call, scale * (-cx.step / t).exp()))
    }
}

/// `piecewise(points)`: piecewise-linear in the step: the value at each listed
/// step, linear in between, the first value before the first point and the
/// last after the last. ToolRL's dynamic length target is
/// `piecewise([(0, 384), (105, 640)])`.
///
/// [CODE] ToolRL SCHEDULELENGTH (qiancheng0/ToolRL, rlla.py).
pub struct Piecewise;

impl Node for Piecewise {
    fn name(&self) -> &'static str {
        "piecewise"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let p = points(call)?;
        let s = cx.step;
        // The first point strictly after the step.
        let i = p.partition_point(|(at, _)| *at <= s);
        let v = match (p.get(i.wrapping_sub(1)), p.get(i)) {
            (None, Some((_, v))) => *v,
            (Some((_, v)), None) => *v,
            // s0 <= s < s1, so s1 > s0.
            (Some((s0, v0)), Some((s1, v1))) => v0 + (v1 - v0) * (s - s0) / (s1 - s0),
            (None, None) => return Err(EvalError::new("`piecewise` has no points")),
        };
        Ok(scalar(call, v))
    }
}

/// `curriculum(points)`: stage curriculum: the value of the last point whose
/// step is <= the current step (the first value before it). ToolRL's two-stage
/// MAX1STEP30MAX3 scales correctness by 1/3 before step 30:
/// `curriculum([(1, 1/3), (30, 1)])`.
///
/// [CODE] ToolRL MAX1STEP30MAX3 (qiancheng0/ToolRL, rlla.py).
pub struct Curriculum;

impl Node for Curriculum {
    fn name(&self) -> &'static str {
        "curriculum"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let p = points(call)?;
        let i = p.partition_point(|(at, _)| *at <= cx.step);
        let v = p.get(i.saturating_sub(1)).map_or(f64::NAN, |(_, v)| *v);
        Ok(scalar(call, v))
    }
}

/// `warmup(over)`: linear warm-up from 0 to 1: min(step / over, 1).
///
/// [CODE] EVOL-RL 3 % learning-rate warm-up (YujunZhou/EVOL-RL,
/// verl/examples/labelfree/evol_rl.sh).
pub struct Warmup;

impl Node for Warmup {
    fn name(&self) -> &'static str {
        "warmup"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        Ok(scalar(call, progress(call, cx)?))
    }
}

#[cfg(test)]
mod tests {
    use rlr_lang::ir::Const;
    use rlr_lang::{Kind, Scope};
    use serde_json::json;

    use super::*;
    use crate::node::Arg;
    use crate::testing::{Fixture, call, constant, reals_of};

    /// Evaluates `name` at `step` of a 10-step stage.
    fn at(name: &str, args: Vec<(&'static str, Arg<'static>)>, step: u64) -> Result<Value> {
        let mut fx = Fixture::new(&[(&["a"], json!({}))]);
        fx.batch.step = step;
        let node = super::super::lookup(name).unwrap_or_else(|| panic!("no `{name}`"));
        let c = call(name, args, (Scope::Step, Kind::Real), &[]);
        node.eval(&c, &mut fx.cx("sched"))
    }

    fn value(name: &str, args: Vec<(&'static str, Arg<'static>)>, step: u64) -> f64 {
        let v = reals_of(at(name, args, step));
        assert_eq!(v.len(), 1);
        v[0]
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    fn range(a: f64, b: f64) -> (&'static str, Arg<'static>) {
        ("range", constant(Const::Range(a, b)))
    }

    fn over(t: i64) -> (&'static str, Arg<'static>) {
        ("over", constant(Const::Int(t)))
    }

    #[test]
    fn constant_is_v() {
        close(
            value("constant", vec![("v", constant(Const::Real(0.3)))], 7),
            0.3,
        );
        let out = at("constant", vec![("v", constant(Const::Real(0.3)))], 7).unwrap();
        assert_eq!(out.scope, Scope::Step);
    }

    #[test]
    fn linear_ramps_and_holds() {
        // 0.5 -> 0 over T = 10: 0.5 + (0 − 0.5) · step/10.
        close(value("linear", vec![range(0.5, 0.0), over(10)], 1), 0.45);
        close(value("linear", vec![range(0.5, 0.0), over(10)], 5), 0.25);
        close(value("linear", vec![range(0.5, 0.0), over(10)], 10), 0.0);
        close(value("linear", vec![range(0.5, 0.0), over(10)], 25), 0.0);
        // ToolRL: 2 -> 1 over 150 at step 75: 2 − 75/150 = 1.5.
        close(value("linear", vec![range(2.0, 1.0), over(150)], 75), 1.5);
    }

    #[test]
    fn linear_without_over_uses_stage_steps() {
        // The fixture's stage has 10 steps: step 4 → 0 + (1 − 0) · 0.4.
        close(value("linear", vec![range(0.0, 1.0)], 4), 0.4);
    }

    #[test]
    fn cosine_ramps() {
        // 1 -> 0 over 10: b + (a − b)(1 + cos(π f))/2.
        // step 1: (1 + cos(0.1π))/2 = (1 + 0.9510565163)/2 = 0.97552825815.
        close(
            value("cosine", vec![range(1.0, 0.0), over(10)], 1),
            (1.0 + (0.1 * std::f64::consts::PI).cos()) / 2.0,
        );
        assert!(
            (value("cosine", vec![range(1.0, 0.0), over(10)], 1) - 0.975_528_258_15).abs() < 1e-10
        );
        // step 5: (1 + cos(π/2))/2 = 0.5.
        close(value("cosine", vec![range(1.0, 0.0), over(10)], 5), 0.5);
        // step 10 and after: (1 + cos π)/2 = 0.
        close(value("cosine", vec![range(1.0, 0.0), over(10)], 10), 0.0);
        close(value("cosine", vec![range(1.0, 0.0), over(10)], 40), 0.0);
        // 2 -> 4: at T/2, 4 + (2 − 4) · 0.5 = 3.
        close(value("cosine", vec![range(2.0, 4.0), over(10)], 5), 3.0);
    }

    #[test]
    fn exponential_decays_without_clamp() {
        let scale = ("scale", constant(Const::Real(0.3)));
        // SophiaVL: 0.3 · exp(−step/T), T = 10.
        close(
            value("exponential", vec![scale.clone(), over(10)], 1),
            0.3 * (-0.1f64).exp(),
        ); // 0.271451225
        assert!(
            (value("exponential", vec![scale.clone(), over(10)], 1) - 0.271_451_225_4).abs() < 1e-9
        );
        close(
            value("exponential", vec![scale.clone(), over(10)], 5),
            0.3 * (-0.5f64).exp(),
        ); // 0.181959198
        close(
            value("exponential", vec![scale.clone(), over(10)], 10),
            0.3 * (-1.0f64).exp(),
        ); // 0.110363832
        close(
            value("exponential", vec![scale.clone(), over(10)], 20),
            0.3 * (-2.0f64).exp(),
        ); // keeps decaying
        // The code's T = 12000 at step 1500: 0.3 · e^{−0.125} = 0.3 · 0.882496903 = 0.264749071.
        assert!(
            (value("exponential", vec![scale, over(12000)], 1500) - 0.264_749_071).abs() < 1e-8
        );
    }

    #[test]
    fn piecewise_interpolates_and_holds_ends() {
        let pts = || {
            (
                "points",
                constant(Const::Points(vec![(0.0, 384.0), (105.0, 640.0)])),
            )
        };
        // step 1: 384 + 256 · 1/105 = 386.438095...
        close(value("piecewise", vec![pts()], 1), 384.0 + 256.0 / 105.0);
        // step 52.5 is not an integer; step 42: 384 + 256 · 0.4 = 486.4.
        close(value("piecewise", vec![pts()], 42), 486.4);
        close(value("piecewise", vec![pts()], 105), 640.0);
        close(value("piecewise", vec![pts()], 500), 640.0);
        // Before the first point: the first value.
        let late = || {
            (
                "points",
                constant(Const::Points(vec![(10.0, 1.0), (20.0, 3.0), (30.0, 0.0)])),
            )
        };
        close(value("piecewise", vec![late()], 1), 1.0);
        close(value("piecewise", vec![late()], 15), 2.0);
        close(value("piecewise", vec![late()], 25), 1.5);
    }

    #[test]
    fn curriculum_holds_each_value() {
        let pts = || {
            (
                "points",
                constant(Const::Points(vec![(1.0, 1.0 / 3.0), (30.0, 1.0)])),
            )
        };
        close(value("curriculum", vec![pts()], 1), 1.0 / 3.0);
        close(value("curriculum", vec![pts()], 29), 1.0 / 3.0);
        close(value("curriculum", vec![pts()], 30), 1.0);
        close(value("curriculum", vec![pts()], 300), 1.0);
        // Before the first point: the first value.
        let late = (
            "points",
            constant(Const::Points(vec![(5.0, 2.0), (8.0, 4.0)])),
        );
        close(value("curriculum", vec![late], 2), 2.0);
    }

    #[test]
    fn warmup_reaches_one() {
        close(value("warmup", vec![over(4)], 1), 0.25);
        close(value("warmup", vec![over(4)], 2), 0.5);
        close(value("warmup", vec![over(4)], 4), 1.0);
        close(value("warmup", vec![over(4)], 9), 1.0);
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert!(at("linear", vec![range(0.0, 1.0), over(0)], 1).is_err());
        assert!(
            at(
                "piecewise",
                vec![("points", constant(Const::Points(Vec::new())))],
                1
            )
            .is_err()
        );
        assert!(
            at(
                "curriculum",
                vec![("points", constant(Const::List(Vec::new())))],
                1
            )
            .is_err()
        );
        assert!(
            at(
                "piecewise",
                vec![("points", constant(Const::Points(vec![(0.0, f64::NAN)])))],
                1
            )
            .is_err()
        );
    }

    #[test]
    fn implements_every_registry_name_of_the_family() {
        let mut want: Vec<&str> = rlr_lang::registry::all()
            .into_iter()
            .filter(|b| {
                b.category
                    == rlr_lang::registry::Category::Node(rlr_lang::registry::Family::Schedule)
            })
            .map(|b| b.name)
            .collect();
        let mut have: Vec<&str> = ALL.iter().map(|n| n.name()).collect();
        want.sort_unstable();
        have.sort_unstable();
        assert_eq!(have, want);
    }
}
