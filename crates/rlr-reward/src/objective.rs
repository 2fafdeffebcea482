//! From an `optimize` statement to its training signal: token rewards
//! (placed), advantages by the stage's estimator, the `scaled by` weight,
//! and the mask of tokens that count in the loss.

use std::sync::Arc;

use rlr_lang::ir::{self, Const, Stage};
use rlr_lang::{Kind, Scope, ValueType};

use crate::error::{EvalError, Result};
use crate::layout::SetId;
use crate::node::{Arg, Call, Cx};
use crate::nodes;
use crate::value::{Data, Value, broadcast};

/// One optimisation term's training signal.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectiveSignal {
    /// The rollouts it trains on.
    pub set: SetId,
    /// Token rewards (after placement).
    pub rewards: Vec<f64>,
    /// Token advantages after the estimator and the `scaled by` weight.
    pub advantages: Vec<f64>,
    /// Whether each token counts in the loss.
    pub mask: Vec<bool>,
    /// The term's weight this step.
    pub weight: f64,
    /// Fraction of groups whose total reward has zero spread.
    pub zero_variance: f64,
}

/// Computes the training signal of one objective.
pub fn signal(
    stage: &Stage,
    o: &ir::Objective,
    values: &[Option<Arc<Value>>],
    halted: &[bool],
    dropped: &[bool],
    cx: &mut Cx<'_>,
) -> Result<ObjectiveSignal> {
    let get = |id: ir::NodeId| {
        values
            .get(id.0 as usize)
            .and_then(|v| v.clone())
            .ok_or_else(|| {
                EvalError::new(format!("`{}` was not computed", stage.graph.node(id).name))
            })
    };
    let target = get(o.target)?;
    let set = o.branch.clone().map_or(SetId::Main, SetId::Branch);
    let layout = cx.layout(&set)?.clone();
    let setting = |name: &str| stage.settings.get(name);

    // Rewards per token: response values at the last token, segment values at segment ends.
    let rewards = match target.scope {
        Scope::Token => (*target).clone(),
        Scope::Response | Scope::Segment => {
            let place = nodes::lookup("place")
                .ok_or_else(|| EvalError::new("the runtime has no `place`"))?;
            let at = Const::Str(
                if target.scope == Scope::Segment {
                    "segment_end"
                } else {
                    "last"
                }
                .into(),
            );
            let spec = rlr_lang::registry::lookup("place")
                .ok_or_else(|| EvalError::new("no `place` in the registry"))?;
            let call = Call {
                builtin: spec,
                args: vec![("x", Arg::Value(target.clone())), ("at", Arg::Const(&at))],
                partition: None,
                out: ValueType::new(Scope::Token, Kind::Real),
                set: set.clone(),
            };
            place.eval(&call, cx)?
        }
        _ => {
            return Err(EvalError::new(
                "an objective's reward must be per rollout, segment or token",
            ));
        }
    };

    // `kl_in = "reward"` (verl's `use_kl_in_reward`, apply_kl_penalty):
    // r_t ← r_t − β·KL_t on every response token, before the estimator.
    let rewards = match (setting("kl_in"), setting("kl").and_then(Const::as_f64)) {
        (Some(Const::Str(m)), Some(beta)) if m == "reward" && beta > 0.0 => {
            kl_penalised(rewards, beta, setting("kl_estimator"), &set, cx)?
        }
        _ => rewards,
    };

    let estimator_name = match setting("advantage") {
        Some(Const::Str(s)) => s.clone(),
        _ => "grpo".to_string(),
    };
    let full = format!("advantage.{estimator_name}");
    let estimator = nodes::lookup(&full)
        .ok_or_else(|| EvalError::new(format!("unknown advantage estimator `{estimator_name}`")))?;
    let spec = rlr_lang::registry::lookup(&full)
        .ok_or_else(|| EvalError::new(format!("no `{full}` in the registry")))?;
    let defaults: Vec<(&'static str, Const)> = spec
        .params
        .iter()
        .skip(1)
        .filter_map(|p| {
            p.default
                .and_then(|d| default_const(d).map(|c| (p.name, c)))
        })
        .collect();
    let rewards = Arc::new(rewards);
    let mut args = vec![(
        spec.params.first().map_or("r", |p| p.name),
        Arg::Value(rewards.clone()),
    )];
    args.extend(defaults.iter().map(|(n, c)| (*n, Arg::Const(c))));
    let call = Call {
        builtin: spec,
        args,
        partition: None,
        out: ValueType::new(Scope::Token, Kind::Real),
        set: set.clone(),
    };
    let adv = estimator.eval(&call, cx)?;
    drop(call);
    let rewards = Arc::try_unwrap(rewards).unwrap_or_else(|shared| (*shared).clone());
    let mut advantages = into_reals(adv);

    if let Some(scale) = o.scale {
        let s = get(scale)?;
        let s = broadcast(&s, Scope::Token, &set, &layout, None);
        let s = s.reals().map(|r| r.into_owned()).unwrap_or_default();
        for (a, w) in advantages.iter_mut().zip(s.iter()) {
            *a *= w;
        }
    }
    let weight = match o.weight {
        Some(w) => get(w)?
            .reals()
            .and_then(|r| r.first().copied())
            .unwrap_or(1.0),
        None => 1.0,
    };

    // Which tokens count: not halted/dropped groups, not skipped rollouts,
    // not tool output (when masked), not truncated responses (when masked).
    let mask_tools = matches!(setting("mask"), Some(Const::Str(s)) if s == "tool_output");
    let mask_truncated = matches!(setting("mask_truncated"), Some(Const::Bool(true)));
    let mut mask = vec![true; layout.tokens()];
    let skipped: std::collections::HashSet<usize> = cx
        .skipped
        .iter()
        .filter(|(s, _)| *s == set)
        .map(|(_, i)| *i)
        .collect();
    for r in 0..layout.responses() {
        let g = layout.group_of[r];
        let skipped = skipped.contains(&r);
        let rollout = if mask_tools || mask_truncated {
            cx.rollout(&set, r)
        } else {
            None
        };
        let out = halted.get(g).copied().unwrap_or(false)
            || dropped.get(g).copied().unwrap_or(false)
            || skipped
            || (mask_truncated && rollout.is_some_and(|x| x.truncated));
        for (k, t) in layout.response_tokens(r).enumerate() {
            let tool =
                mask_tools && rollout.is_some_and(|x| x.tool.get(k).copied().unwrap_or(false));
            mask[t] = !(out || tool);
        }
    }

    // Zero-variance groups: total reward per response identical within the group.
    let token_rewards = into_reals(rewards);
    let totals: Vec<f64> = (0..layout.responses())
        .map(|r| {
            token_rewards
                .get(layout.response_tokens(r))
                .map_or(0.0, |xs| xs.iter().sum())
        })
        .collect();
    let mut flat = 0usize;
    for g in 0..layout.groups {
        let xs = &totals[layout.group(g)];
        if xs.iter().all(|x| (x - xs[0]).abs() < 1e-12) {
            flat += 1;
        }
    }
    let zero_variance = if layout.groups == 0 {
        0.0
    } else {
        flat as f64 / layout.groups as f64
    };
    Ok(ObjectiveSignal {
        set,
        rewards: token_rewards,
        advantages,
        mask,
        weight,
        zero_variance,
    })
}

/// `rewards − β·KL` per token, KL by the stage's estimator from the
/// rollouts' logged log-probabilities (the `kl_estimate` node).
fn kl_penalised(
    rewards: Value,
    beta: f64,
    estimator: Option<&Const>,
    set: &SetId,
    cx: &mut Cx<'_>,
) -> Result<Value> {
    // The engine logs reference log-probs whenever `kl_in = "reward"`; a
    // replay of rollouts logged without any (hand-made fixtures) is scored
    // without the penalty rather than refused.
    let layout = cx.layout(set)?;
    let logged = (0..layout.responses()).any(|r| {
        cx.rollout(set, r)
            .is_some_and(|x| !x.ref_logprob.is_empty())
    });
    if !logged {
        return Ok(rewards);
    }
    let node =
        nodes::lookup("kl_estimate").ok_or_else(|| EvalError::new("no `kl_estimate` node"))?;
    let spec = rlr_lang::registry::lookup("kl_estimate")
        .ok_or_else(|| EvalError::new("no `kl_estimate` in the registry"))?;
    let k3 = Const::Str("k3".into());
    let call = Call {
        builtin: spec,
        args: vec![("estimator", Arg::Const(estimator.unwrap_or(&k3)))],
        partition: None,
        out: ValueType::new(Scope::Token, Kind::Real),
        set: set.clone(),
    };
    let kl = into_reals(
        node.eval(&call, cx)
            .map_err(|e| EvalError::new(format!("kl_in = \"reward\": {e}")))?,
    );
    let mut r = into_reals(rewards);
    if kl.len() != r.len() {
        return Err(EvalError::new(format!(
            "kl_in = \"reward\": {} KL values for {} token rewards",
            kl.len(),
            r.len()
        )));
    }
    for (x, k) in r.iter_mut().zip(&kl) {
        *x -= beta * k;
    }
    Ok(Value::new(Scope::Token, set.clone(), Data::Real(r)))
}

/// The numbers of a value, taken without copying when it holds reals.
fn into_reals(v: Value) -> Vec<f64> {
    match v.data {
        Data::Real(x) => x,
        other => Value::scalar(other)
            .reals()
            .map(|r| r.into_owned())
            .unwrap_or_default(),
    }
}

fn default_const(d: rlr_lang::registry::DefaultValue) -> Option<Const> {
    use rlr_lang::registry::DefaultValue as D;
    Some(match d {
        D::Real(x) => Const::Real(x),
        D::Int(i) => Const::Int(i),
        D::Bool(b) => Const::Bool(b),
        D::Str(s) => Const::Str(s.to_string()),
        D::Pair(a, b) => Const::Pair(a, b),
        D::EmptyList => Const::List(Vec::new()),
        D::Ref(_) => return None,
    })
}
