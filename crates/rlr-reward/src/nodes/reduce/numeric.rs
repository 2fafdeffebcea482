//! Reductions of numbers: mean, std, sum, quantile, median, max, min.
//!
//! NaN members count as missing and are left out. Where no member is left
//! (an empty `where` partition, a response without tokens or segments) the
//! result is NaN, recorded in `cx.empty_partitions` so that the binding's
//! `else` fallback replaces it; `sum` gives 0 there instead (still recorded
//! when a `where` partition emptied it).

use rlr_lang::Kind;

use crate::error::Result;
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

use super::members::members;
use super::stats::quantile;

/// What an empty member set gives.
#[derive(Clone, Copy)]
enum Empty {
    /// NaN, always recorded.
    Nan,
    /// This number, recorded only when a `where` partition emptied it.
    Defined(f64),
}

/// Reduces the reals of `x` over each output entry's members with `f`
/// (called with at least one NaN-free value).
fn reduce(
    call: &Call<'_>,
    cx: &mut Cx<'_>,
    empty: Empty,
    f: impl Fn(&[f64]) -> f64,
) -> Result<Value> {
    let x = call.value("x")?;
    let m = members(call, cx, x)?;
    let xs = kit::reals(x, call.builtin.name)?;
    let mut out = Vec::with_capacity(m.lists.len());
    let mut buf = Vec::new();
    for (o, list) in m.lists.iter().enumerate() {
        buf.clear();
        buf.extend(list.iter().map(|&i| xs[i]).filter(|v| !v.is_nan()));
        out.push(if buf.is_empty() {
            match empty {
                Empty::Nan => {
                    m.record_empty(o, cx);
                    f64::NAN
                }
                Empty::Defined(v) => {
                    if call.partition.is_some() {
                        m.record_empty(o, cx);
                    }
                    v
                }
            }
        } else {
            f(&buf)
        });
    }
    Ok(kit::output(call, Data::Real(out), None))
}

/// `mean`: mean of the members (1/n) Σ x over each group (or response, batch),
/// restricted to those where the `where` condition holds. `mean(perceived)` is
/// PEARL's p̄_g; `mean(thinking where correct)` is SophiaVL-R1's μ_c. NaN
/// (recorded as an empty partition) where no member is left.
///
/// [CODE] verl group statistics (verl/trainer/ppo/core_algos.py, copy in
/// YujunZhou/EVOL-RL); partitioned means as in SophiaVL-R1 (arXiv:2505.17018 eqs. 1–3).
pub(crate) struct Mean;

impl Node for Mean {
    fn name(&self) -> &'static str {
        "mean"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        reduce(call, cx, Empty::Nan, |v| {
            v.iter().sum::<f64>() / v.len() as f64
        })
    }
}

/// `std`: standard deviation of the members: √(Σ (x − x̄)² / (n − 1)) with
/// `bessel` (verl's torch.std), else / n; 0 for a single member. DAPO's
/// dynamic sampling drops groups with `std(accuracy) == 0`. NaN (recorded as
/// an empty partition) where no member is left.
///
/// [CODE] verl GRPO std and DAPO dynamic sampling (verl recipe/dapo/src/
/// dapo_ray_trainer.py; arXiv:2503.14476).
pub(crate) struct Std;

impl Node for Std {
    fn name(&self) -> &'static str {
        "std"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let bessel = call.flag("bessel")?;
        reduce(call, cx, Empty::Nan, |v| kit::mean_std(v, bessel).1)
    }
}

/// `sum`: sum of the members, Σ x (0 for an empty partition unless a fallback
/// is given: an empty `where` partition is recorded, so the binding's `else`
/// replaces the 0). `sum(gated_turn_rewards)` is G-RA's Σ_t r̃_t.
///
/// [2ND] G-RA accumulation (arXiv:2508.10548).
pub(crate) struct Sum;

impl Node for Sum {
    fn name(&self) -> &'static str {
        "sum"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        reduce(call, cx, Empty::Defined(0.0), |v| v.iter().sum())
    }
}

/// `quantile`: the q-quantile of the members, interpolating linearly between
/// order statistics (numpy's default): with the sorted members v_0..v_{n−1}
/// and h = (n − 1)·q, v_⌊h⌋ + (h − ⌊h⌋)(v_{⌊h⌋+1} − v_⌊h⌋). SPINE's forking
/// threshold is `quantile(entropy, 0.8, over = "batch")`. NaN (recorded as an
/// empty partition) where no member is left.
///
/// [INFER] SPINE forking-token quantile (arXiv:2511.17938; ρ ≈ 0.2 as in "Beyond
/// the 80/20 rule", arXiv:2506.01939).
pub(crate) struct Quantile;

impl Node for Quantile {
    fn name(&self) -> &'static str {
        "quantile"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let q = call.real("q")?;
        if !(0.0..=1.0).contains(&q) {
            return Err(crate::error::EvalError::new(format!(
                "`quantile`: q = {q} is not in [0, 1]"
            )));
        }
        reduce(call, cx, Empty::Nan, |v| quantile(v, q))
    }
}

/// `median`: the median of the members (`quantile(x, 0.5)`: the mean of the
/// two middle members for an even count). NaN (recorded as an empty
/// partition) where no member is left.
///
/// [CODE] verl group statistics (verl/trainer/ppo/core_algos.py, copy in
/// YujunZhou/EVOL-RL); partitioned means as in SophiaVL-R1 (arXiv:2505.17018 eqs. 1–3).
pub(crate) struct Median;

impl Node for Median {
    fn name(&self) -> &'static str {
        "median"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        reduce(call, cx, Empty::Nan, |v| quantile(v, 0.5))
    }
}

/// Max or min of bool members (`any` / `all`); false where none is left (recorded).
fn reduce_bools(call: &Call<'_>, cx: &mut Cx<'_>, max: bool) -> Result<Value> {
    let x = call.value("x")?;
    let m = members(call, cx, x)?;
    let xs = kit::bools(x, call.builtin.name)?;
    let mut out = Vec::with_capacity(m.lists.len());
    for (o, list) in m.lists.iter().enumerate() {
        if list.is_empty() {
            m.record_empty(o, cx);
            out.push(false);
        } else if max {
            out.push(list.iter().any(|&i| xs[i]));
        } else {
            out.push(list.iter().all(|&i| xs[i]));
        }
    }
    Ok(kit::output(call, Data::Bool(out), None))
}

/// `max`: the largest member (for bools: whether any holds). With two or more
/// positional signals `max(a, b, ...)` is the element-wise `maximum` instead.
/// NaN (false for bools), recorded as an empty partition, where no member is left.
///
/// [CODE] verl group statistics (verl/trainer/ppo/core_algos.py, copy in
/// YujunZhou/EVOL-RL); partitioned means as in SophiaVL-R1 (arXiv:2505.17018 eqs. 1–3).
pub(crate) struct Max;

impl Node for Max {
    fn name(&self) -> &'static str {
        "max"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        if call.out.kind == Kind::Bool {
            return reduce_bools(call, cx, true);
        }
        reduce(call, cx, Empty::Nan, |v| {
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        })
    }
}

/// `min`: the smallest member (for bools: whether all hold). With two or more
/// positional signals `min(a, b, ...)` is the element-wise `minimum` instead.
/// NaN (false for bools), recorded as an empty partition, where no member is left.
///
/// [CODE] verl group statistics (verl/trainer/ppo/core_algos.py, copy in
/// YujunZhou/EVOL-RL); partitioned means as in SophiaVL-R1 (arXiv:2505.17018 eqs. 1–3).
pub(crate) struct Min;

impl Node for Min {
    fn name(&self) -> &'static str {
        "min"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        if call.out.kind == Kind::Bool {
            return reduce_bools(call, cx, false);
        }
        reduce(call, cx, Empty::Nan, |v| {
            v.iter().copied().fold(f64::INFINITY, f64::min)
        })
    }
}
