//! Node family: running statistic. Statistics of every value a binding has
//! seen in the stage, kept in [`State`](crate::state::State) under the
//! binding's name (`cx.node`).
//!
//! Within a step a node reads the state committed by earlier steps. With
//! `update = "before"` (PAR) it folds this step's values into a copy of that
//! state and uses the copy; with `update = "after"` it uses the committed
//! state as it is. Either way it stages the merged state, which takes effect
//! when the step commits (and is dropped if the step is discarded).
//!
//! Only finite values count; NaN and infinite entries are left out of the
//! statistics (and pass through the element-wise transforms as NaN). Before
//! any value was seen the statistics are PAR's initial ones: mean 0, standard
//! deviation 0; min-max scaling gives `degenerate` then.

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

#[cfg(test)]
mod tests;

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[
    &RunningMean,
    &RunningStd,
    &Ema,
    &RunningZscore,
    &RunningClip,
    &RunningMinmax,
];

/// Count, mean, sum of squared deviations and extremes of the values seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Moments {
    /// Values seen.
    n: u64,
    /// Their mean (0 when none).
    mean: f64,
    /// Σ (x − mean)².
    m2: f64,
    /// Smallest value (meaningless when `n = 0`).
    min: f64,
    /// Largest value (meaningless when `n = 0`).
    max: f64,
}

impl Moments {
    /// The moments of a batch (finite values only).
    fn of(xs: &[f64]) -> Moments {
        let finite: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
        if finite.is_empty() {
            return Moments::default();
        }
        let (mean, std) = kit::mean_std(&finite, false);
        let n = finite.len();
        Moments {
            n: n as u64,
            mean,
            m2: std * std * n as f64,
            min: finite.iter().copied().fold(f64::INFINITY, f64::min),
            max: finite.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    /// Chan et al.'s parallel merge: n = n_a + n_b, δ = μ_b − μ_a,
    /// μ = μ_a + δ · n_b / n, M2 = M2_a + M2_b + δ² · n_a · n_b / n.
    fn merge(self, b: Moments) -> Moments {
        if b.n == 0 {
            return self;
        }
        if self.n == 0 {
            return b;
        }
        let (na, nb) = (self.n as f64, b.n as f64);
        let n = na + nb;
        let delta = b.mean - self.mean;
        Moments {
            n: self.n + b.n,
            mean: self.mean + delta * nb / n,
            m2: self.m2 + b.m2 + delta * delta * na * nb / n,
            min: self.min.min(b.min),
            max: self.max.max(b.max),
        }
    }

    /// Population standard deviation (0 for fewer than two values).
    fn std(&self) -> f64 {
        if self.n > 1 {
            (self.m2 / self.n as f64).max(0.0).sqrt()
        } else {
            0.0
        }
    }
}

/// Exponential moving average of batch means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Average {
    /// Batches folded in.
    batches: u64,
    /// The average (0 before the first batch).
    m: f64,
}

/// Whether the statistics include this step's values (`update = "before"`).
fn before(call: &Call<'_>) -> Result<bool> {
    match call.text("update") {
        Ok("before") => Ok(true),
        Ok("after") => Ok(false),
        Ok(other) => Err(EvalError::new(format!(
            "`update` must be \"before\" or \"after\", not {other:?}"
        ))),
        // Not given: the registry default.
        Err(_) if !call.args.iter().any(|(n, _)| *n == "update") => Ok(true),
        Err(e) => Err(e),
    }
}

/// The values of `x` and the moments to use, staging the merged moments.
fn moments(call: &Call<'_>, cx: &mut Cx<'_>) -> Result<(Value, Moments)> {
    let x = call.value("x")?.clone();
    let batch = Moments::of(&kit::reals(&x, "x")?);
    let committed: Moments = cx.state.get(cx.node).unwrap_or_default();
    let merged = committed.merge(batch);
    cx.state.stage(cx.node, &merged);
    let used = if before(call)? { merged } else { committed };
    Ok((x, used))
}

/// Applies `f` to every entry of `x` (at x's own scope, which is the output's).
fn transform(call: &Call<'_>, x: &Value, f: impl Fn(f64) -> f64) -> Result<Value> {
    let xs = kit::reals(x, "x")?;
    let out: Vec<f64> = xs
        .iter()
        .map(|&v| if v.is_nan() { f64::NAN } else { f(v) })
        .collect();
    Ok(kit::output(call, Data::Real(out), x.segs.clone()))
}

/// `running_mean(x, update)`: the mean of every value of x seen so far in the
/// stage (Welford), one value per step.
///
/// [CODE] PAR RunningStats (PorUna-byte/PAR, trainers/reward_shaper.py:
/// parallel Welford merge with the batch's population variance; arXiv:2502.18770).
pub struct RunningMean;

impl Node for RunningMean {
    fn name(&self) -> &'static str {
        "running_mean"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let (_, m) = moments(call, cx)?;
        Ok(kit::output(call, Data::Real(vec![m.mean]), None))
    }
}

/// `running_std(x, update)`: the population standard deviation of every value
/// of x seen so far (parallel Welford merge), one value per step:
/// σ = sqrt(M2 / n), 0 for fewer than two values.
///
/// [CODE] PAR RunningStats (PorUna-byte/PAR, trainers/reward_shaper.py:
/// parallel Welford merge with the batch's population variance; arXiv:2502.18770).
pub struct RunningStd;

impl Node for RunningStd {
    fn name(&self) -> &'static str {
        "running_std"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let (_, m) = moments(call, cx)?;
        Ok(kit::output(call, Data::Real(vec![m.std()]), None))
    }
}

/// `ema(x, beta, update)`: exponential moving average of the batch mean:
/// m_s = β · m_{s−1} + (1 − β) · mean_batch(x), starting from the first
/// batch's mean (0 before any batch). A batch without finite values leaves it
/// unchanged.
///
/// [INFER] methods.md §P.2 RunningStat "EMA(β)".
pub struct Ema;

impl Node for Ema {
    fn name(&self) -> &'static str {
        "ema"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let x = call.value("x")?;
        let beta = call.real("beta")?;
        if !(0.0..=1.0).contains(&beta) {
            return Err(EvalError::new(format!(
                "`beta` must lie in [0, 1], not {beta}"
            )));
        }
        let batch = Moments::of(&kit::reals(x, "x")?);
        let committed: Average = cx.state.get(cx.node).unwrap_or_default();
        let merged = match (batch.n, committed.batches) {
            (0, _) => committed,
            (_, 0) => Average {
                batches: 1,
                m: batch.mean,
            },
            (_, k) => Average {
                batches: k + 1,
                m: beta * committed.m + (1.0 - beta) * batch.mean,
            },
        };
        cx.state.stage(cx.node, &merged);
        let used = if before(call)? { merged } else { committed };
        Ok(kit::output(call, Data::Real(vec![used.m]), None))
    }
}

/// `running_zscore(x, update)`: PAR's Meanstd baseline: (x − μ_run) / σ_run with
/// the running mean and population std of all values so far (σ_run = 0
/// divides by 1).
///
/// [CODE] PAR RunningStats (PorUna-byte/PAR, trainers/reward_shaper.py:
/// parallel Welford merge with the batch's population variance; arXiv:2502.18770).
pub struct RunningZscore;

impl Node for RunningZscore {
    fn name(&self) -> &'static str {
        "running_zscore"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let (x, m) = moments(call, cx)?;
        let s = m.std();
        let s = if s > 0.0 { s } else { 1.0 };
        transform(call, &x, |v| (v - m.mean) / s)
    }
}

/// `running_clip(x, k, update)`: PAR's Clip baseline:
/// clip(x, μ_run − k·σ_run, μ_run + k·σ_run).
///
/// [CODE] PAR RunningStats (PorUna-byte/PAR, trainers/reward_shaper.py:
/// parallel Welford merge with the batch's population variance; arXiv:2502.18770).
pub struct RunningClip;

impl Node for RunningClip {
    fn name(&self) -> &'static str {
        "running_clip"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let k = call.real("k")?;
        if k.is_nan() || k < 0.0 {
            return Err(EvalError::new(format!(
                "`k` must be a positive number, not {k}"
            )));
        }
        let (x, m) = moments(call, cx)?;
        let half = k * m.std();
        let (lo, hi) = (m.mean - half, m.mean + half);
        transform(call, &x, |v| v.max(lo).min(hi))
    }
}

/// `running_minmax(x, degenerate, update)`: PAR's Minmax baseline:
/// (x − min_run) / (max_run − min_run) with the smallest and largest values
/// seen so far; `degenerate` while max_run = min_run (or nothing was seen).
///
/// [CODE] PAR RunningStats (PorUna-byte/PAR, trainers/reward_shaper.py:
/// parallel Welford merge with the batch's population variance; arXiv:2502.18770).
pub struct RunningMinmax;

impl Node for RunningMinmax {
    fn name(&self) -> &'static str {
        "running_minmax"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let degenerate = call.real("degenerate")?;
        let (x, m) = moments(call, cx)?;
        let width = m.max - m.min;
        if m.n == 0 || width <= 0.0 {
            return transform(call, &x, |_| degenerate);
        }
        transform(call, &x, |v| (v - m.min) / width)
    }
}
