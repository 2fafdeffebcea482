//! Relations of each response's reward to a reference set: PAR, LSC, the
//! general kernel relation and the reference quantile.

use crate::error::{EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::nodes::map::common::align_all;
use crate::nodes::map::func::{log_sigmoid, normal_quantile, sigmoid, sigmoid_poly};
use crate::nodes::reduce::stats::quantile;
use crate::value::{Data, Value};

use super::refs::{no_group_references, no_references, per_group, per_response};

/// Computes `f(x_i, refs_i)` for every response i of the call's rollouts;
/// `refs_i` is never empty (an empty set is an error naming the rollout).
fn relate_each(call: &Call<'_>, cx: &Cx<'_>, f: impl Fn(f64, &[f64]) -> f64) -> Result<Value> {
    let refs = per_response(call, cx, call.value("refs")?)?;
    let aligned = align_all(call, cx, &[call.value("x")?])?;
    let xs = kit::reals(&aligned.values[0], call.builtin.name)?;
    if refs.len() != xs.len() {
        return Err(EvalError::new(format!(
            "`{}`: {} values for {} reference sets",
            call.builtin.name,
            xs.len(),
            refs.len()
        )));
    }
    let out = xs
        .iter()
        .zip(&refs)
        .enumerate()
        .map(|(i, (x, r))| {
            if r.is_empty() {
                Err(no_references(call, cx, i))
            } else {
                Ok(f(*x, r))
            }
        })
        .collect::<Result<Vec<f64>>>()?;
    Ok(kit::output(call, Data::Real(out), None))
}

/// The q-quantile of a normal fitted to `refs` (mean, sample std with n − 1;
/// a single reference is its own quantile).
fn normal_fit_quantile(refs: &[f64], q: f64) -> f64 {
    let (mean, std) = kit::mean_std(refs, true);
    if std == 0.0 {
        mean
    } else {
        mean + std * normal_quantile(q)
    }
}

/// `par`: Preference As Reward: r_RL = (1/M) Σ_{m=1}^{M} σ(k · (x − ref_m)),
/// the reward model's own Bradley–Terry probability that the response beats
/// the reference responses. PAR uses k = 1, M = 10 SFT references; ablations
/// M ∈ {1, 3, 5, 8}. `m` > 0 keeps the first m references (PAR's
/// `reward_maxref`).
///
/// [CODE] PAR reward_sigmoid with reward_relative (PorUna-byte/PAR,
/// trainers/reward_shaper.py; arXiv:2502.18770).
pub(crate) struct Par;

impl Node for Par {
    fn name(&self) -> &'static str {
        "par"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let k = call.real("k")?;
        let m = call.int("m")?;
        if m < 0 {
            return Err(EvalError::new(format!("`par`: m = {m} must be >= 0")));
        }
        relate_each(call, cx, |x, refs| {
            let refs = if m > 0 {
                &refs[..refs.len().min(m as usize)]
            } else {
                refs
            };
            refs.iter().map(|r| sigmoid(k * (x - r))).sum::<f64>() / refs.len() as f64
        })
    }
}

/// `lsc`: log-sigmoid-centred reward: log σ(x − r_ref), r_ref = Φ^{-1}(q;
/// μ_ref, σ_ref), the q-quantile of a normal fitted to the prompt's reference
/// rewards (sample std; one reference is its own quantile). Bounded above by
/// 0, with diminishing returns once x ≫ r_ref. Summing it over several
/// rewards is the LSC conjunction.
///
/// [PAPER] Transforming and Combining Rewards (arXiv:2402.00742) §7.1 (default
/// quantile unverified, methods.md §S.4); [CODE] PAR's re-implementation reward_lsc
/// with q = 0.85 (PorUna-byte/PAR).
pub(crate) struct Lsc;

impl Node for Lsc {
    fn name(&self) -> &'static str {
        "lsc"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let q = call.real("q")?;
        relate_each(call, cx, |x, refs| {
            log_sigmoid(x - normal_fit_quantile(refs, q))
        })
    }
}

/// `relate`: general relation: reduce_{b ∈ refs} g(x, b). Kernels g(a, b):
/// σ(k(a − b)), tanh(k(a − b)), sigmoid_poly(k(a − b)), log σ(k(a − b)) or
/// a − b ("difference", without k); reduced by mean, max or min. Covers
/// PAR's centred baselines (tanh, fitted polynomial, σ with k ∈ {1, 2, 3});
/// SgFC is `relate(r - 3, refs)`. `par` is `relate` with the sigmoid kernel
/// and mean.
///
/// [CODE] PAR reward_tanh / reward_fittedpoly / reward_sgfc (PorUna-byte/PAR,
/// trainers/reward_shaper.py; arXiv:2502.18770).
pub(crate) struct Relate;

impl Node for Relate {
    fn name(&self) -> &'static str {
        "relate"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let k = call.real("k")?;
        let kernel: fn(f64) -> f64 = match call.text("kernel")? {
            "sigmoid" => sigmoid,
            "tanh" => f64::tanh,
            "poly" => sigmoid_poly,
            "log_sigmoid" => log_sigmoid,
            "difference" => |d| d,
            other => {
                return Err(EvalError::new(format!(
                    "`relate`: unknown kernel \"{other}\""
                )));
            }
        };
        let scale = if call.text("kernel")? == "difference" {
            1.0
        } else {
            k
        };
        let reduce = call.text("reduce")?;
        if !matches!(reduce, "mean" | "max" | "min") {
            return Err(EvalError::new(format!(
                "`relate`: unknown reduction \"{reduce}\""
            )));
        }
        relate_each(call, cx, |x, refs| {
            let g = refs.iter().map(|b| kernel(scale * (x - b)));
            match reduce {
                "max" => g.fold(f64::NEG_INFINITY, f64::max),
                "min" => g.fold(f64::INFINITY, f64::min),
                _ => g.sum::<f64>() / refs.len() as f64,
            }
        })
    }
}

/// `ref_quantile`: one reference value per prompt: the q-quantile of its
/// reference set, from a normal fit (μ, sample σ; one reference is its own
/// quantile) or empirically (linear interpolation between order statistics,
/// as `quantile`). `log_sigmoid(r - ref_quantile(refs))` is `lsc`.
///
/// [CODE] PAR reward_lsc reference (PorUna-byte/PAR, trainers/reward_shaper.py).
pub(crate) struct RefQuantile;

impl Node for RefQuantile {
    fn name(&self) -> &'static str {
        "ref_quantile"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let q = call.real("q")?;
        let normal = match call.text("fit")? {
            "normal" => true,
            "empirical" => false,
            other => {
                return Err(EvalError::new(format!(
                    "`ref_quantile`: unknown fit \"{other}\""
                )));
            }
        };
        let out = per_group(call, cx, call.value("refs")?)?
            .iter()
            .enumerate()
            .map(|(g, refs)| match (refs.is_empty(), normal) {
                (true, _) => Err(no_group_references(call, g)),
                (false, true) => Ok(normal_fit_quantile(refs, q)),
                (false, false) => Ok(quantile(refs, q)),
            })
            .collect::<Result<Vec<f64>>>()?;
        Ok(kit::output(call, Data::Real(out), None))
    }
}
