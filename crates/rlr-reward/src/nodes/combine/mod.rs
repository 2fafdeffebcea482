//! Node family: combine — several inputs of one scope into one (methods.md §P.2 node 6).
//!
//! Every input is aligned to the output's scope (the finest among them);
//! variadic combinators take their inputs from the `x` parameter, after any
//! constant that comes first (`weighted_sum([0.9, 0.1], a, b)`). A NaN input
//! makes the entry NaN, except in `first_valid`, where NaN means "no value".

use crate::error::{EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

use super::map::common::{align_all, error_at, map_real};

#[cfg(test)]
mod tests;

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[
    &Maximum,
    &Minimum,
    &Average,
    &MedianOf,
    &Product,
    &WeightedSum,
    &MeanMinusStd,
    &FirstValid,
    &Dot,
];

/// The inputs of a variadic combinator, at least one.
fn inputs<'c>(call: &'c Call<'_>) -> Result<Vec<&'c Value>> {
    let xs = call.values("x");
    if xs.is_empty() {
        return Err(EvalError::new(format!(
            "`{}` needs at least one input",
            call.builtin.name
        )));
    }
    Ok(xs)
}

/// NaN if any entry of the row is NaN, else `f(row)`.
fn strict(row: &[f64], f: impl Fn(&[f64]) -> f64) -> f64 {
    if row.iter().any(|x| x.is_nan()) {
        f64::NAN
    } else {
        f(row)
    }
}

/// The median of a row (mean of the two middle values for an even count).
fn median(row: &[f64]) -> f64 {
    let mut s = row.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// `maximum`: element-wise maximum of two or more inputs. `max(a, b, ...)`
/// with two or more positional arguments means this; `max(x)` with one is the
/// reduction. PEARL scales its reasoning advantage by `max(evidence, 0.5)`.
///
/// [CODE] PEARL perception weight w_g = max(mean r^p, τ = 0.5) (MiliLab/PEARL@dab5b0a,
/// verl/trainer/ray_trainer.py compute_advantage; arXiv:2511.18437).
pub(crate) struct Maximum;

impl Node for Maximum {
    fn name(&self) -> &'static str {
        "maximum"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        map_real(call, cx, &inputs(call)?, |r| {
            strict(r, |r| r.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        })
    }
}

/// `minimum`: element-wise minimum of two or more inputs. `min(a, b, ...)`
/// with two or more positional arguments means this; `min(x)` with one is the
/// reduction. PAR's Ceil baseline is `min(r, 4)`; the Clip mechanism is
/// `min(prm - eta, 0)`.
///
/// [CODE] PAR reward_ceil (PorUna-byte/PAR, trainers/reward_shaper.py); [2ND] Clip
/// mechanism (arXiv:2410.15115); worst-case ensemble, Helping or Herding (arXiv:2312.09244).
pub(crate) struct Minimum;

impl Node for Minimum {
    fn name(&self) -> &'static str {
        "minimum"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        map_real(call, cx, &inputs(call)?, |r| {
            strict(r, |r| r.iter().copied().fold(f64::INFINITY, f64::min))
        })
    }
}

/// `average`: element-wise mean of two or more inputs, (1/K) Σ_k x_k.
/// `mean(a, b, ...)` with two or more positional arguments means this.
///
/// [2ND] Helping or Herding reward-model ensembles (arXiv:2312.09244): mean,
/// median, min and mean − λ·std aggregation.
pub(crate) struct Average;

impl Node for Average {
    fn name(&self) -> &'static str {
        "average"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        map_real(call, cx, &inputs(call)?, |r| {
            r.iter().sum::<f64>() / r.len() as f64
        })
    }
}

/// `median_of`: element-wise median of two or more inputs (the mean of the two
/// middle values for an even count). `median(a, b, ...)` with two or more
/// positional arguments means this.
///
/// [2ND] Helping or Herding reward-model ensembles (arXiv:2312.09244): mean,
/// median, min and mean − λ·std aggregation.
pub(crate) struct MedianOf;

impl Node for MedianOf {
    fn name(&self) -> &'static str {
        "median_of"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        map_real(call, cx, &inputs(call)?, |r| strict(r, median))
    }
}

/// `product`: element-wise product Π_k x_k (GRPO-S multiplies the reward by a
/// difficulty factor; SophiaVL-R1's trust · anneal · thinking).
///
/// [INFER] GRPO-S difficulty weighting (arXiv:2503.18991).
pub(crate) struct Product;

impl Node for Product {
    fn name(&self) -> &'static str {
        "product"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        map_real(call, cx, &inputs(call)?, |r| r.iter().product())
    }
}

/// `weighted_sum`: Σ_k w_k · x_k, one constant weight per input; the counts
/// must match. The weights come first: `weighted_sum([0.9, 0.1], accuracy,
/// form)`. TRL's `reward_weights` (sum before normalisation).
///
/// [2ND] TRL GRPOTrainer reward_weights (TRL docs); [CODE] PEARL r^o = 0.9·acc +
/// 0.1·fmt (MiliLab/PEARL@dab5b0a, math_mqa.py).
pub(crate) struct WeightedSum;

impl Node for WeightedSum {
    fn name(&self) -> &'static str {
        "weighted_sum"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let w = call.reals("weights")?;
        let xs = inputs(call)?;
        if w.len() != xs.len() {
            return Err(EvalError::new(format!(
                "`weighted_sum` has {} weights for {} inputs; give one weight per input",
                w.len(),
                xs.len()
            )));
        }
        map_real(call, cx, &xs, |r| {
            r.iter().zip(&w).map(|(x, w)| x * w).sum()
        })
    }
}

/// `mean_minus_std`: uncertainty-penalised ensemble: mean_j x_j − k · std_j
/// x_j, with the population standard deviation over the inputs. The penalty
/// comes first: `mean_minus_std(0.5, r1, r2, r3)`.
///
/// [2ND] Helping or Herding (arXiv:2312.09244); λ unverified [INFER].
pub(crate) struct MeanMinusStd;

impl Node for MeanMinusStd {
    fn name(&self) -> &'static str {
        "mean_minus_std"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let k = call.real("k")?;
        map_real(call, cx, &inputs(call)?, |r| {
            let (mean, std) = kit::mean_std(r, false);
            mean - k * std
        })
    }
}

/// `first_valid`: the first input that has a value: a NaN (an empty reduction
/// without fallback, a failed computation) counts as no value; NaN if no input
/// has one. Lets a cheap rule stand in where an expensive judge failed.
///
/// A judge skipped under `on_error = "skip"` holds its `default`, which this
/// node cannot tell from a score: it counts as a value unless the executor
/// hands skipped entries in as NaN.
///
/// [INFER] methods.md §P.2 Combine "first-valid".
pub(crate) struct FirstValid;

impl Node for FirstValid {
    fn name(&self) -> &'static str {
        "first_valid"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        map_real(call, cx, &inputs(call)?, |r| {
            r.iter().copied().find(|x| !x.is_nan()).unwrap_or(f64::NAN)
        })
    }
}

/// `dot`: Σ_j w_j · v_j: a weighted sum of a vector's components (multi-aspect
/// reward models, rubric criteria). The weight count must match the vector's
/// length (a mismatch is a run error naming the rollout).
///
/// [2ND] Multi-objective GRPO aspect weights; Rubric Anchors weighted criteria
/// (arXiv:2508.12790).
pub(crate) struct Dot;

impl Node for Dot {
    fn name(&self) -> &'static str {
        "dot"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let w = call.reals("weights")?;
        let aligned = align_all(call, cx, &[call.value("v")?])?;
        let Some(Data::Vector(vs)) = aligned.values.first().map(|v| &v.data) else {
            return Err(EvalError::new("`dot` needs a vector"));
        };
        let out = vs
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if v.len() == w.len() {
                    Ok(v.iter().zip(&w).map(|(a, b)| a * b).sum())
                } else {
                    let msg = format!(
                        "`dot` has {} weights for a vector of {} components",
                        w.len(),
                        v.len()
                    );
                    Err(error_at(call, cx, aligned.segs.as_ref(), i, msg))
                }
            })
            .collect::<Result<Vec<f64>>>()?;
        Ok(kit::output(call, Data::Real(out), aligned.segs))
    }
}
