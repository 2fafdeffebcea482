//! Node family: probe — extra forward passes of the policy or the reference
//! model (methods.md §P.2 node 3), through [`crate::node::Probes`].
//!
//! Probes run only where the binding's `when` asks for a value
//! (`cx.active`); elsewhere they output a neutral value (`logprob_of` 0,
//! `perplexity` 1, `answer_likelihood` 0) that `when` replaces. Every request
//! counts one call in `cx.counters[binding]`; a model error fails the binding
//! (and counts every request of the batch as failed). Without a model
//! (`cx.probes == None`, replay) they are an error. Each request names the
//! task prompt and the response text after it apart
//! ([`ProbeRequest`]), so the engine templates the prompt exactly as it
//! does for sampling.
//!
//! `kl_estimate` needs no model: it reads the rollouts' logged
//! log-probabilities.

use rlr_lang::Scope;

use crate::error::{At, EvalError, Result};
use crate::kit;
use crate::layout::{Layout, Segs, SetId};
use crate::node::{Call, Cx, Node, ProbeRequest};
use crate::nodes::judge::{end_byte, needs_model};
use crate::nodes::verify::aligned;
use crate::value::{Data, Value};

#[cfg(test)]
mod tests;

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[&LogprobOf, &Perplexity, &AnswerLikelihood, &KlEstimate];

fn reference_model(call: &Call<'_>) -> Result<bool> {
    match call.text("model")? {
        "policy" => Ok(false),
        "reference" => Ok(true),
        other => Err(EvalError::new(format!(
            "`model` must be \"policy\" or \"reference\", not {other:?}"
        ))),
    }
}

/// For each entry of a value of `scope`: the response it belongs to (`None` for group entries) and its group.
fn owners(
    scope: Scope,
    layout: &Layout,
    segs: Option<&Segs>,
    n: usize,
) -> Result<Vec<(Option<usize>, usize)>> {
    let out: Vec<(Option<usize>, usize)> = match scope {
        Scope::Group => (0..layout.groups).map(|g| (None, g)).collect(),
        Scope::Response => (0..layout.responses())
            .map(|r| (Some(r), layout.group_of[r]))
            .collect(),
        Scope::Segment => match segs {
            Some(s) => s
                .response_of()
                .into_iter()
                .map(|r| (Some(r), layout.group_of.get(r).copied().unwrap_or(0)))
                .collect(),
            None => return Err(EvalError::new("segments without a segmentation")),
        },
        other => {
            return Err(EvalError::new(format!(
                "a probe cannot score one value per {other}"
            )));
        }
    };
    if out.len() != n
        || out
            .iter()
            .any(|(r, g)| r.is_some_and(|r| r >= layout.responses()) || *g >= layout.groups)
    {
        return Err(EvalError::new(format!(
            "{n} values do not line up with the rollouts' {} {scope}s",
            out.len()
        )));
    }
    Ok(out)
}

/// Whether entry `(response, group)` needs a value under `when`.
fn is_active(cx: &Cx<'_>, layout: &Layout, owner: (Option<usize>, usize)) -> bool {
    let Some(active) = &cx.active else {
        return true;
    };
    match owner {
        (Some(r), _) => active.get(r).copied().unwrap_or(true),
        (None, g) => layout
            .group(g)
            .any(|r| active.get(r).copied().unwrap_or(true)),
    }
}

fn sample_prompt(cx: &Cx<'_>, name: &str, set: &SetId, group: usize) -> Result<String> {
    match cx.group(group).and_then(|g| g.sample.get("prompt")) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        _ => Err(EvalError::new(format!(
            "`{name}` needs `sample.prompt` to build its context"
        ))
        .at(At {
            set: set.clone(),
            group,
            rollout: None,
        })),
    }
}

/// Sends the requests to the model, counting them; `(sum of log-probabilities, token count)` per request.
fn ask(
    cx: &mut Cx<'_>,
    name: &str,
    requests: &[ProbeRequest],
    reference: bool,
) -> Result<Vec<(f64, usize)>> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let probes = cx.probes.ok_or_else(|| needs_model(name))?;
    let result = probes.logprob(requests, reference);
    let counter = cx.counters.entry(cx.node.to_string()).or_default();
    counter.calls += requests.len() as u64;
    match result {
        Ok(v) if v.len() == requests.len() => Ok(v),
        Ok(v) => {
            counter.failures += requests.len() as u64;
            Err(EvalError::new(format!(
                "`{name}`: the model gave {} results for {} requests",
                v.len(),
                requests.len()
            )))
        }
        Err(e) => {
            counter.failures += requests.len() as u64;
            Err(EvalError::new(format!("`{name}`: the model failed: {e}")))
        }
    }
}

/// Shared body of `logprob_of` and `perplexity`: the mean (or sum) log-probability of each active text.
fn text_logprobs(
    call: &Call<'_>,
    cx: &mut Cx<'_>,
    sum: bool,
) -> Result<(Vec<Option<f64>>, Option<Segs>)> {
    let name = call.builtin.name;
    let given_prompt = match call.text("given")? {
        "prompt" => true,
        "none" => false,
        other => {
            return Err(EvalError::new(format!(
                "`given` must be \"prompt\" or \"none\", not {other:?}"
            )));
        }
    };
    let reference = reference_model(call)?;
    let (vals, segs) = aligned(call, cx, &["text"])?;
    let texts = kit::texts(&vals[0], "text")?;
    let layout = cx.layout(&call.set)?.clone();
    let owner = owners(call.out.scope, &layout, segs.as_ref(), texts.len())?;
    let mut requests = Vec::new();
    let mut asked = Vec::new();
    for (i, o) in owner.iter().enumerate() {
        if !is_active(cx, &layout, *o) {
            continue;
        }
        let prompt = if given_prompt {
            sample_prompt(cx, name, &call.set, o.1)?
        } else {
            String::new()
        };
        requests.push(ProbeRequest::new(prompt, "", texts[i]));
        asked.push(i);
    }
    let scores = ask(cx, name, &requests, reference)?;
    let mut out = vec![None; texts.len()];
    for (i, (s, count)) in asked.into_iter().zip(scores) {
        out[i] = Some(if sum {
            s
        } else if count == 0 {
            0.0
        } else {
            s / count as f64
        });
    }
    Ok((out, segs))
}

/// `logprob_of(text, given = "prompt", model = "policy", reduce = "mean")`.
/// Teacher-forced log-likelihood of the text: mean (or sum) over its tokens
/// y_t of log π(y_t | c, y_<t), with c the prompt (`given = "prompt"`,
/// `sample.prompt`) or empty (`given = "none"`, an extra forward pass on an
/// answer-only batch). A text of no tokens has mean 0.
///
/// [CODE] SAR compute_ppl_qa_log
/// (amazon-science/Self-Aligned-Reward-Towards_Effective_and_Efficient_Reasoners@08892d0,
/// verl/utils/reward_score/efficiency_reward.py; arXiv:2509.05489).
pub(super) struct LogprobOf;

impl Node for LogprobOf {
    fn name(&self) -> &'static str {
        "logprob_of"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let sum = match call.text("reduce")? {
            "mean" => false,
            "sum" => true,
            other => {
                return Err(EvalError::new(format!(
                    "`reduce` must be \"mean\" or \"sum\", not {other:?}"
                )));
            }
        };
        let (lp, segs) = text_logprobs(call, cx, sum)?;
        Ok(kit::output(
            call,
            Data::Real(lp.into_iter().map(|x| x.unwrap_or(0.0)).collect()),
            segs,
        ))
    }
}

/// `perplexity(text, given = "prompt", model = "policy")`. Perplexity of the
/// text: ppl = exp(−mean_t log π(y_t | c, y_<t)), c the prompt or nothing
/// (1 for a text of no tokens). SAR's self-aligned reward is
/// R_SA = max((ppl(a) − ppl(a|q)) / ppl(a), −1).
///
/// [CODE] SAR (amazon-science/Self-Aligned-Reward-Towards_Effective_and_Efficient_Reasoners@08892d0,
/// efficiency_reward.py::compute_ppl_qa_log, use_denominator=True,
/// use_comparison=True, use_log=False; arXiv:2509.05489).
pub(super) struct Perplexity;

impl Node for Perplexity {
    fn name(&self) -> &'static str {
        "perplexity"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let (lp, segs) = text_logprobs(call, cx, false)?;
        Ok(kit::output(
            call,
            Data::Real(
                lp.into_iter()
                    .map(|x| x.map_or(1.0, |m| (-m).exp()))
                    .collect(),
            ),
            segs,
        ))
    }
}

/// `answer_likelihood(context, target, model = "policy", prefix = "")`.
/// Probability of the gold answer after a context: `prefix` and the target
/// are appended and teacher-forced,
/// P = exp(mean over target tokens of log π(gt_j | prompt, context, prefix, gt_<j)),
/// the geometric-mean token probability. The context is the prompt alone for
/// a group-scope argument (the argument's text itself, e.g.
/// `sample.prompt`), `sample.prompt` followed by the argument for a response,
/// and `sample.prompt` followed by the rollout's text up to the end of the
/// token that ends segment k for segments. The prefix ends the request's
/// response text (its context), so it is teacher-forced but not scored: only
/// the target's tokens count. A blank target (or one of no tokens) has
/// P = 0. IGPO's turn reward is the information gain IG_k = P_k − P_{k−1},
/// with the bridge `"\nNow there's enough information to answer\n</think>\n<answer>\n"`
/// as the prefix.
///
/// [CODE] IGPO (GuoqingWang1/IGPO, scrl/llm_agent/generation.py lines
/// ~410–425, verl/utils/reward_score/info_gain.py; arXiv:2510.14967).
pub(super) struct AnswerLikelihood;

impl Node for AnswerLikelihood {
    fn name(&self) -> &'static str {
        "answer_likelihood"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let name = call.builtin.name;
        let reference = reference_model(call)?;
        let context_scope = call.value("context")?.scope;
        let (vals, segs) = aligned(call, cx, &["context", "target"])?;
        let contexts = kit::texts(&vals[0], "context")?;
        let targets = kit::texts(&vals[1], "target")?;
        let layout = cx.layout(&call.set)?.clone();
        let owner = owners(call.out.scope, &layout, segs.as_ref(), contexts.len())?;
        let context_segs = call.value("context")?.segs.clone();
        let bridge = call.text("prefix")?;
        let mut requests = Vec::new();
        let mut asked = Vec::new();
        for (i, o) in owner.iter().enumerate() {
            if !is_active(cx, &layout, *o) || targets[i].trim().is_empty() {
                continue;
            }
            let request = match context_scope {
                Scope::Group | Scope::Step | Scope::Batch => {
                    ProbeRequest::new(contexts[i], bridge, targets[i])
                }
                Scope::Response | Scope::Token => ProbeRequest::new(
                    sample_prompt(cx, name, &call.set, o.1)?,
                    format!("{}{bridge}", contexts[i]),
                    targets[i],
                ),
                Scope::Segment => {
                    let prompt = sample_prompt(cx, name, &call.set, o.1)?;
                    let rollout = o.0.and_then(|r| cx.rollout(&call.set, r));
                    let end_token = context_segs
                        .as_ref()
                        .and_then(|s| s.end_token.get(i).copied());
                    let before = rollout.map_or("", |ro| {
                        ro.text.get(..end_byte(ro, end_token)).unwrap_or(&ro.text)
                    });
                    ProbeRequest::new(prompt, format!("{before}{bridge}"), targets[i])
                }
            };
            requests.push(request);
            asked.push(i);
        }
        let scores = ask(cx, name, &requests, reference)?;
        let mut out = vec![0.0; contexts.len()];
        for (i, (s, count)) in asked.into_iter().zip(scores) {
            out[i] = if count == 0 {
                0.0
            } else {
                (s / count as f64).exp()
            };
        }
        Ok(kit::output(call, Data::Real(out), segs))
    }
}

/// `kl_estimate(estimator = "k3")`. Per-token KL estimate between the
/// sampling policy and the reference, from the rollout's log-probabilities
/// (no extra pass): with d = logprob − ref_logprob, k1 = d, k2 = d²/2,
/// k3 = exp(−d) + d − 1 clamped to [−10, 10] (verl `low_var_kl`). A rollout
/// with tokens but without both arrays of one value per token is an error
/// naming it; NaN log-probabilities give NaN.
///
/// [CODE] verl kl_penalty (verl/trainer/ppo/core_algos.py, copy in
/// YujunZhou/EVOL-RL); estimators from Schulman, "Approximating KL
/// divergence" (2020).
pub(super) struct KlEstimate;

impl Node for KlEstimate {
    fn name(&self) -> &'static str {
        "kl_estimate"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let estimator = call.text("estimator")?;
        let k: fn(f64) -> f64 = match estimator {
            "k1" => |d| d,
            "k2" => |d| 0.5 * d * d,
            "k3" => |d| ((-d).exp() + d - 1.0).clamp(-10.0, 10.0),
            other => {
                return Err(EvalError::new(format!(
                    "`estimator` must be \"k1\", \"k2\" or \"k3\", not {other:?}"
                )));
            }
        };
        let layout = cx.layout(&call.set)?;
        let mut out = Vec::with_capacity(layout.tokens());
        for r in 0..layout.responses() {
            let g = layout.group_of[r];
            let at = At {
                set: call.set.clone(),
                group: g,
                rollout: Some(r - layout.group_start[g]),
            };
            let Some(rollout) = cx.rollout(&call.set, r) else {
                return Err(EvalError::new("the batch has no such rollout").at(at));
            };
            let n = layout.response_tokens(r).len();
            if n == 0 {
                continue;
            }
            if rollout.logprob.len() != n || rollout.ref_logprob.len() != n {
                return Err(EvalError::new(format!(
                    "`kl_estimate` needs `logprob` and `ref_logprob` for every token: the rollout has {n} tokens, {} \
                     logprob and {} ref_logprob values",
                    rollout.logprob.len(),
                    rollout.ref_logprob.len()
                ))
                .at(at));
            }
            out.extend(
                rollout
                    .logprob
                    .iter()
                    .zip(&rollout.ref_logprob)
                    .map(|(lp, rl)| k(lp - rl)),
            );
        }
        Ok(kit::output(call, Data::Real(out), None))
    }
}
