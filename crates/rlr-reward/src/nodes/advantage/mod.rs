//! Node family: advantage estimator. Each turns rewards into one advantage
//! per generated token of `call.set`.
//!
//! Rewards come per response (R_i is the value; values per group or step are
//! every member's R_i) or per token (R_i = Σ_t r_{i,t}); a response reward
//! counts as placed at the response's last token. Responses without tokens
//! get no advantage entries. A NaN reward is an error naming its rollout.
//! The stage's `advantage = "NAME"` setting is the node [`estimator`]`(NAME)`.
//!
//! An objective's `optimize R where M` with M per rollout (or coarser) passes
//! M as `call.partition`, one bool per response (see [`kept`]): the
//! estimator then sees only the kept rollouts. Every group statistic (mean,
//! std, leave-one-out baseline, per-position mean, the batch whitening of
//! REINFORCE++) is taken over them, a group with one kept rollout gets the
//! estimator's single-rollout rule, a group with none contributes nothing,
//! and the rollouts left out get advantage 0 on every token.

use rlr_lang::Scope;

use crate::error::{At, EvalError, Result};
use crate::kit;
use crate::layout::{Layout, SetId};
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

#[cfg(test)]
mod tests;

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[
    &Grpo,
    &DrGrpo,
    &Rloo,
    &ReinforcePp,
    &PerPosition,
    &GrpoProcess,
];

/// The estimator named by the stage setting `advantage = "NAME"` (`grpo`,
/// `dr_grpo`, `rloo`, `reinforce_pp`, `per_position`; also `grpo_process`):
/// the node `advantage.NAME`.
#[allow(dead_code)] // for the executor, once `nodes` re-exports it
pub fn estimator(name: &str) -> Option<&'static dyn Node> {
    ALL.iter()
        .copied()
        .find(|n| n.name().strip_prefix("advantage.") == Some(name))
}

/// An error located at response `r` of `set`.
fn at(message: String, layout: &Layout, set: &SetId, r: usize) -> EvalError {
    let group = layout.group_of.get(r).copied().unwrap_or(0);
    let rollout = r - layout.group_start.get(group).copied().unwrap_or(0).min(r);
    EvalError::new(message).at(At {
        set: set.clone(),
        group,
        rollout: Some(rollout),
    })
}

/// A reward input: per response, or per token.
enum Rewards {
    /// One reward per response.
    Responses(Vec<f64>),
    /// One reward per token.
    Tokens(Vec<f64>),
}

/// Reads `r` (NaN is an error); values coarser than a response become one per response.
fn rewards(call: &Call<'_>, cx: &Cx<'_>) -> Result<Rewards> {
    let r = call.value("r")?;
    let layout = cx.layout(&call.set)?;
    let (xs, per_token) = match r.scope {
        Scope::Token => (kit::reals(r, "r")?.into_owned(), true),
        Scope::Segment => {
            return Err(EvalError::new(format!(
                "`{}` takes rewards per response or per token; put segment rewards on tokens with `place`",
                call.builtin.name
            )));
        }
        _ => {
            let v = cx.broadcast(r, Scope::Response, &call.set, None)?;
            (kit::reals(&v, "r")?.into_owned(), false)
        }
    };
    let expected = if per_token {
        layout.tokens()
    } else {
        layout.responses()
    };
    if xs.len() != expected {
        return Err(EvalError::new(format!(
            "`r` has {} values for {expected} {}",
            xs.len(),
            if per_token { "tokens" } else { "responses" }
        )));
    }
    if let Some(i) = xs.iter().position(|x| x.is_nan()) {
        let resp = if per_token {
            layout.response_of_tokens()[i]
        } else {
            i
        };
        return Err(at(
            format!(
                "the reward `r` is NaN ({} {i})",
                if per_token { "token" } else { "response" }
            ),
            layout,
            &call.set,
            resp,
        ));
    }
    Ok(if per_token {
        Rewards::Tokens(xs)
    } else {
        Rewards::Responses(xs)
    })
}

/// R_i per response: the value, or the sum of the response's token rewards.
fn returns(call: &Call<'_>, cx: &Cx<'_>) -> Result<Vec<f64>> {
    let layout = cx.layout(&call.set)?;
    Ok(match rewards(call, cx)? {
        Rewards::Responses(r) => r,
        Rewards::Tokens(t) => (0..layout.responses())
            .map(|i| t[layout.response_tokens(i)].iter().sum())
            .collect(),
    })
}

/// r_{i,t} per token: token rewards as they are, response rewards at the last token.
fn token_rewards(call: &Call<'_>, cx: &Cx<'_>) -> Result<Vec<f64>> {
    let layout = cx.layout(&call.set)?;
    Ok(match rewards(call, cx)? {
        Rewards::Tokens(t) => t,
        Rewards::Responses(r) => {
            let mut t = vec![0.0; layout.tokens()];
            for (i, v) in r.iter().enumerate() {
                let span = layout.response_tokens(i);
                if !span.is_empty() {
                    t[span.end - 1] = *v;
                }
            }
            t
        }
    })
}

/// A_i on every token of response i.
fn per_token(call: &Call<'_>, layout: &Layout, a: &[f64]) -> Value {
    let mut out = Vec::with_capacity(layout.tokens());
    for (i, v) in a.iter().enumerate() {
        out.extend(std::iter::repeat_n(*v, layout.response_tokens(i).len()));
    }
    kit::output(call, Data::Real(out), None)
}

/// In place, G_t = x_t + γ · G_{t+1} along each response's tokens.
fn discount(layout: &Layout, xs: &mut [f64], gamma: f64) {
    for i in 0..layout.responses() {
        let mut g = 0.0;
        for x in xs[layout.response_tokens(i)].iter_mut().rev() {
            g = *x + gamma * g;
            *x = g;
        }
    }
}

/// The `eps` parameter.
fn eps(call: &Call<'_>) -> Result<f64> {
    let e = call.real("eps")?;
    if e.is_nan() || e < 0.0 {
        return Err(EvalError::new(format!(
            "`eps` must be a positive number, not {e}"
        )));
    }
    Ok(e)
}

/// The rollouts the estimator sees: `call.partition` broadcast to one bool
/// per response (an objective's `where` mask), or `None` for all of them.
/// A token-level partition is refused: tokens are masked after the
/// estimator, by the objective.
fn kept(call: &Call<'_>, cx: &Cx<'_>) -> Result<Option<Vec<bool>>> {
    let Some(p) = &call.partition else {
        return Ok(None);
    };
    if p.scope > Scope::Response {
        return Err(EvalError::new(format!(
            "`{}` selects rollouts, not {}s: mask tokens in the objective",
            call.builtin.name, p.scope
        )));
    }
    let v = cx.broadcast(p, Scope::Response, &call.set, None)?;
    let layout = cx.layout(&call.set)?;
    match v.bools() {
        Some(b) if b.len() == layout.responses() => Ok(Some(b.to_vec())),
        _ => Err(EvalError::new(format!(
            "`{}`: the rollout selection is not one true/false per response",
            call.builtin.name
        ))),
    }
}

/// Each group's kept members (all of them without a selection), in order.
fn kept_groups<'l>(
    layout: &'l Layout,
    kept: Option<&'l [bool]>,
) -> impl Iterator<Item = Vec<usize>> + 'l {
    kit::groups(layout).map(move |(_, members)| members.filter(|&i| is_kept(kept, i)).collect())
}

/// Whether response `i` is kept.
fn is_kept(kept: Option<&[bool]>, i: usize) -> bool {
    kept.is_none_or(|k| k.get(i).copied().unwrap_or(false))
}

/// Group mean and std as verl takes them: a group of one uses mean 0, std 1.
fn group_stats(xs: &[f64], bessel: bool) -> (f64, f64) {
    if xs.len() == 1 {
        (0.0, 1.0)
    } else {
        kit::mean_std(xs, bessel)
    }
}

/// `advantage.grpo(r, eps, bessel)`: GRPO outcome advantage: with
/// R_i = Σ_t r_{i,t}, A_i = (R_i − mean_G(R)) / (std_G(R) + eps), broadcast
/// to every generated token of response i (A_{i,t} = A_i · mask_{i,t}). A
/// group of one uses mean 0, std 1.
///
/// [CODE] verl compute_grpo_outcome_advantage (verl/trainer/ppo/core_algos.py,
/// copy in YujunZhou/EVOL-RL); DeepSeekMath (arXiv:2402.03300).
pub struct Grpo;

impl Node for Grpo {
    fn name(&self) -> &'static str {
        "advantage.grpo"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let eps = eps(call)?;
        let bessel = call.flag("bessel").unwrap_or(true);
        let kept = kept(call, cx)?;
        let layout = cx.layout(&call.set)?;
        let r = returns(call, cx)?;
        let mut a = vec![0.0; r.len()];
        for members in kept_groups(layout, kept.as_deref()) {
            if members.is_empty() {
                continue;
            }
            let xs: Vec<f64> = members.iter().map(|&i| r[i]).collect();
            let (mean, std) = group_stats(&xs, bessel);
            for i in members {
                a[i] = (r[i] - mean) / (std + eps);
            }
        }
        Ok(per_token(call, layout, &a))
    }
}

/// `advantage.dr_grpo(r)`: Dr.GRPO advantage: A_i = R_i − mean_G(R), no
/// division by the std, broadcast to tokens (a group of one uses mean 0, as
/// verl's GRPO path does). Pair with `loss_agg = seq-mean-token-sum-norm`.
///
/// [INFER] Dr.GRPO (arXiv:2503.20783; verl norm_adv_by_std_in_grpo = False).
pub struct DrGrpo;

impl Node for DrGrpo {
    fn name(&self) -> &'static str {
        "advantage.dr_grpo"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let kept = kept(call, cx)?;
        let layout = cx.layout(&call.set)?;
        let r = returns(call, cx)?;
        let mut a = vec![0.0; r.len()];
        for members in kept_groups(layout, kept.as_deref()) {
            if members.is_empty() {
                continue;
            }
            let xs: Vec<f64> = members.iter().map(|&i| r[i]).collect();
            let (mean, _) = group_stats(&xs, false);
            for i in members {
                a[i] = r[i] - mean;
            }
        }
        Ok(per_token(call, layout, &a))
    }
}

/// `advantage.rloo(r)`: REINFORCE leave-one-out:
/// A_i = R_i − (1/(G − 1)) Σ_{j ≠ i} R_j, broadcast to tokens (0 for a group
/// of one).
///
/// [2ND] RLOO, Back to Basics (arXiv:2402.14740); verl/TRL RLOO estimators.
pub struct Rloo;

impl Node for Rloo {
    fn name(&self) -> &'static str {
        "advantage.rloo"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let kept = kept(call, cx)?;
        let layout = cx.layout(&call.set)?;
        let r = returns(call, cx)?;
        let mut a = vec![0.0; r.len()];
        for members in kept_groups(layout, kept.as_deref()) {
            let g = members.len();
            if g < 2 {
                continue;
            }
            let total: f64 = members.iter().map(|&i| r[i]).sum();
            for i in members {
                a[i] = r[i] - (total - r[i]) / (g - 1) as f64;
            }
        }
        Ok(per_token(call, layout, &a))
    }
}

/// `advantage.reinforce_pp(r, eps)`: REINFORCE++: token returns
/// G_{i,t} = Σ_{t' >= t} r_{i,t'} (with the KL penalty in the reward when
/// `kl_in = reward`), whitened over the whole batch:
/// A = (G − mean_batch(G)) / (std_batch(G) + eps), with the Bessel-corrected
/// std over all generated tokens (verl's masked_whiten); no group baseline.
///
/// [INFER] REINFORCE++ (arXiv:2501.03262) as in verl's reinforce_plus_plus estimator.
pub struct ReinforcePp;

impl Node for ReinforcePp {
    fn name(&self) -> &'static str {
        "advantage.reinforce_pp"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let eps = eps(call)?;
        let kept = kept(call, cx)?;
        let layout = cx.layout(&call.set)?;
        let mut g = token_rewards(call, cx)?;
        discount(layout, &mut g, 1.0);
        let a: Vec<f64> = match &kept {
            None => {
                let (mean, std) = kit::mean_std(&g, true);
                g.iter().map(|x| (x - mean) / (std + eps)).collect()
            }
            // Whitened over the kept rollouts' tokens only; the others get 0.
            Some(k) => {
                let owner = layout.response_of_tokens();
                let inside = |t: usize| k.get(owner[t]).copied().unwrap_or(false);
                let xs: Vec<f64> = (0..g.len()).filter(|&t| inside(t)).map(|t| g[t]).collect();
                let (mean, std) = kit::mean_std(&xs, true);
                (0..g.len())
                    .map(|t| {
                        if inside(t) {
                            (g[t] - mean) / (std + eps)
                        } else {
                            0.0
                        }
                    })
                    .collect()
            }
        };
        Ok(kit::output(call, Data::Real(a), None))
    }
}

/// `advantage.per_position(r, gamma)`: IGPO's per-position group baseline:
/// G_{i,t} = Σ_{t' >= t} γ^{t'−t} r_{i,t'}, then
/// A_{i,t} = G_{i,t} − mean_{j ∈ group, |y_j| >= t} G_{j,t} (positions aligned
/// by token index; the std is not divided in the released code).
///
/// [CODE] IGPO compute_grpo_outcome_advantage (GuoqingWang1/IGPO,
/// verl/trainer/ppo/core_algos.py; arXiv:2510.14967).
pub struct PerPosition;

impl Node for PerPosition {
    fn name(&self) -> &'static str {
        "advantage.per_position"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let gamma = call.real("gamma")?;
        if gamma.is_nan() {
            return Err(EvalError::new("`gamma` is not a number"));
        }
        let kept = kept(call, cx)?;
        let layout = cx.layout(&call.set)?;
        let mut g = token_rewards(call, cx)?;
        discount(layout, &mut g, gamma);
        let mut a = g.clone();
        for i in (0..layout.responses()).filter(|&i| !is_kept(kept.as_deref(), i)) {
            a[layout.response_tokens(i)].fill(0.0);
        }
        for members in kept_groups(layout, kept.as_deref()) {
            let longest = members
                .iter()
                .map(|&i| layout.response_tokens(i).len())
                .max()
                .unwrap_or(0);
            for t in 0..longest {
                let at_t: Vec<usize> = members
                    .iter()
                    .filter_map(|&i| {
                        let span = layout.response_tokens(i);
                        (t < span.len()).then_some(span.start + t)
                    })
                    .collect();
                let mean = at_t.iter().map(|&k| g[k]).sum::<f64>() / at_t.len() as f64;
                for k in at_t {
                    a[k] = g[k] - mean;
                }
            }
        }
        Ok(kit::output(call, Data::Real(a), None))
    }
}

/// `advantage.grpo_process(r, eps)`: GRPO process supervision: all step
/// rewards of the group are normalised jointly, r̃ = (r − mean) / (std + eps)
/// (Bessel std; one step in the group uses mean 0, std 1), then
/// A_{i,t} = Σ of r̃_{i,j} over the steps j ending at or after t. The steps
/// are the segments of a segment value, the last token of a response value,
/// and the non-zero entries of a token value (a step reward of exactly 0 on
/// tokens cannot be told from no step and is left out).
///
/// [INFER] DeepSeekMath §4.1.3 process supervision (arXiv:2402.03300), from
/// memory of the paper.
pub struct GrpoProcess;

impl Node for GrpoProcess {
    fn name(&self) -> &'static str {
        "advantage.grpo_process"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let eps = eps(call)?;
        let kept = kept(call, cx)?;
        let layout = cx.layout(&call.set)?;
        let steps = steps(call, cx)?;
        let mut tokens = vec![0.0; layout.tokens()];
        for members in kept_groups(layout, kept.as_deref()) {
            let values: Vec<f64> = members
                .iter()
                .flat_map(|&i| steps[i].iter().map(|s| s.1))
                .collect();
            if values.is_empty() {
                continue;
            }
            let (mean, std) = group_stats(&values, true);
            for i in members {
                for (t, v) in &steps[i] {
                    tokens[*t] += (v - mean) / (std + eps);
                }
            }
        }
        discount(layout, &mut tokens, 1.0);
        Ok(kit::output(call, Data::Real(tokens), None))
    }
}

/// The steps of every response: (token index in the batch, step reward).
fn steps(call: &Call<'_>, cx: &Cx<'_>) -> Result<Vec<Vec<(usize, f64)>>> {
    let layout = cx.layout(&call.set)?;
    let r = call.value("r")?;
    let mut steps = vec![Vec::new(); layout.responses()];
    if r.scope == Scope::Segment {
        let segs = super::place::segmentation(r.segs.as_ref(), layout, "r")?;
        let xs = kit::reals(r, "r")?;
        if xs.len() != segs.len() {
            return Err(EvalError::new(format!(
                "`r` has {} values for {} segments",
                xs.len(),
                segs.len()
            )));
        }
        let owner = segs.response_of();
        for (k, span) in super::place::segment_spans(segs, layout)
            .into_iter()
            .enumerate()
        {
            if xs[k].is_nan() {
                return Err(at(
                    format!("the reward `r` is NaN (segment {k})"),
                    layout,
                    &call.set,
                    owner[k],
                ));
            }
            if !span.is_empty() {
                steps[owner[k]].push((span.end - 1, xs[k]));
            }
        }
        return Ok(steps);
    }
    let per_response = r.scope < Scope::Segment;
    let t = token_rewards(call, cx)?;
    for (i, s) in steps.iter_mut().enumerate() {
        let span = layout.response_tokens(i);
        if per_response {
            if !span.is_empty() {
                s.push((span.end - 1, t[span.end - 1]));
            }
        } else {
            s.extend(span.filter(|&k| t[k] != 0.0).map(|k| (k, t[k])));
        }
    }
    Ok(steps)
}
