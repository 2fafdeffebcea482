//! From an `optimize` statement to its training signal: token rewards
//! (placed), advantages by the stage's estimator, the `scaled by` weight,
//! and the mask of tokens that count in the loss.
//!
//! `where M` restricts the term. M per rollout (a group or step bool counts
//! for each of its rollouts): the estimator sees only the rollouts where M
//! holds (the group baselines are theirs), and the others are off the mask.
//! M per token: the tokens where it is false are off the mask; the
//! advantages are computed as without it. The mask is what every per-token
//! term of this objective's loss uses (the engine's policy gradient, KL,
//! entropy bonus and band, and the aggregation's normaliser).

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
    /// Rollouts with at least one token on the mask.
    pub trained_rollouts: usize,
    /// Tokens on the mask.
    pub trained_tokens: usize,
    /// The term's weight this step.
    pub weight: f64,
    /// Fraction of groups whose total reward has zero spread (over the
    /// rollouts `where` keeps; a group with at most one counts as flat).
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
    // `where M`: M per rollout (or coarser, broadcast to each rollout)
    // selects the rollouts, M per token the tokens.
    let (kept, kept_tokens) = match o.r#where {
        None => (None, None),
        Some(id) => {
            let m = get(id)?;
            let name = || stage.graph.node(id).name.clone();
            let to = match m.scope {
                Scope::Token => Scope::Token,
                Scope::Segment => {
                    return Err(EvalError::new(format!(
                        "`where {}` is per segment; the objective takes one per rollout or token",
                        name()
                    )));
                }
                _ => Scope::Response,
            };
            let m = broadcast(&m, to, &set, &layout, None);
            let bools = m.bools().map(<[bool]>::to_vec).unwrap_or_default();
            let expected = if to == Scope::Token {
                layout.tokens()
            } else {
                layout.responses()
            };
            if bools.len() != expected {
                return Err(EvalError::new(format!(
                    "`where {}` has {} true/false values for {expected} {}s",
                    name(),
                    bools.len(),
                    to
                )));
            }
            if to == Scope::Token {
                (None, Some(bools))
            } else {
                (Some(bools), None)
            }
        }
    };

    let rewards = Arc::new(rewards);
    let mut args = vec![(
        spec.params.first().map_or("r", |p| p.name),
        Arg::Value(rewards.clone()),
    )];
    args.extend(defaults.iter().map(|(n, c)| (*n, Arg::Const(c))));
    let call = Call {
        builtin: spec,
        args,
        // The estimators read a response-level partition as the rollouts
        // they see (`nodes::advantage`).
        partition: kept.as_ref().map(|k| {
            Arc::new(Value::new(
                Scope::Response,
                set.clone(),
                Data::Bool(k.clone()),
            ))
        }),
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
    // not tool output (when masked), not truncated responses (when masked),
    // and only those `where` keeps.
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
            || (mask_truncated && rollout.is_some_and(|x| x.truncated))
            || kept.as_ref().is_some_and(|k| !k[r]);
        for (k, t) in layout.response_tokens(r).enumerate() {
            let tool =
                mask_tools && rollout.is_some_and(|x| x.tool.get(k).copied().unwrap_or(false));
            let off = kept_tokens.as_ref().is_some_and(|m| !m[t]);
            mask[t] = !(out || tool || off);
        }
    }
    let trained_tokens = mask.iter().filter(|m| **m).count();
    let trained_rollouts = (0..layout.responses())
        .filter(|&r| mask[layout.response_tokens(r)].iter().any(|m| *m))
        .count();

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
        let xs: Vec<f64> = layout
            .group(g)
            .filter(|&r| kept.as_ref().is_none_or(|k| k[r]))
            .map(|r| totals[r])
            .collect();
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
        trained_rollouts,
        trained_tokens,
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

#[cfg(test)]
mod tests {
    //! `optimize R where M`, by hand: rewards are response lengths (texts of
    //! one token per character), so every baseline below is arithmetic.

    use std::collections::BTreeMap;

    use super::ObjectiveSignal;
    use crate::eval::{Options, evaluate};
    use crate::metrics::Metrics;
    use crate::{Batch, Group, Rollout, State};

    const EPS: f64 = 1e-6;

    /// Evaluates `optimize ...` in a grpo stage with `settings` on groups of
    /// rollouts; returns the first objective's signal and the metrics.
    fn run(settings: &str, optimize: &str, groups: &[&[Rollout]]) -> (ObjectiveSignal, Metrics) {
        let text = format!(
            "recipe \"w\" {{ seed = 1 }}\nmodel policy = gpt(layers = 2, width = 64, heads = 2)\n\
             task  train  = arith(max = 9)\nstage rl = grpo(policy, train{settings}) {{\n  \
             reward {{ r = length }}\n  {optimize}\n}}\n"
        );
        let c = rlr_lang::compile("t.rlr", &text, &mut rlr_lang::NoImports);
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        let p = c.program.expect("compiles");
        let batch = Batch {
            step: 1,
            steps: 10,
            groups: groups
                .iter()
                .map(|rs| Group {
                    sample: Default::default(),
                    rollouts: rs.to_vec(),
                    branches: BTreeMap::new(),
                })
                .collect(),
        };
        let ev = evaluate(
            &p.stages[0],
            &batch,
            &mut State::default(),
            &Options::default(),
        )
        .expect("evaluates");
        (ev.objectives[0].clone(), ev.metrics)
    }

    fn texts(xs: &[&str]) -> Vec<Rollout> {
        xs.iter().map(|t| Rollout::from_text(t)).collect()
    }

    /// One advantage per response (its first token's), and each response's mask.
    fn per_response(sig: &ObjectiveSignal, lengths: &[usize]) -> (Vec<f64>, Vec<Vec<bool>>) {
        let mut at = 0;
        let mut adv = Vec::new();
        let mut mask = Vec::new();
        for &n in lengths {
            let a = &sig.advantages[at..at + n];
            assert!(
                a.iter().all(|x| *x == a[0]),
                "one advantage per response: {a:?}"
            );
            adv.push(a[0]);
            mask.push(sig.mask[at..at + n].to_vec());
            at += n;
        }
        assert_eq!(at, sig.advantages.len());
        (adv, mask)
    }

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-9, "{a:?} vs {b:?}");
        }
    }

    /// R = [1, 2, 3, 4]; `where index != 2` keeps R = [1, 3, 4].
    const GROUP: [&str; 4] = ["a", "bb", "ccc", "dddd"];
    const LENGTHS: [usize; 4] = [1, 2, 3, 4];

    #[test]
    fn the_group_baseline_is_over_the_kept_rollouts() {
        let g = texts(&GROUP);
        // GRPO: mean 8/3, Bessel std √((25 + 1 + 16)/9 / 2) = √(7/3).
        let (sig, _) = run("", "optimize r where index != 2", &[&g]);
        let (adv, mask) = per_response(&sig, &LENGTHS);
        let (mean, std) = (8.0 / 3.0, (7.0f64 / 3.0).sqrt());
        let z = |r: f64| (r - mean) / (std + EPS);
        close(&adv, &[z(1.0), 0.0, z(3.0), z(4.0)]);
        // Without `where` the baseline is all four's: mean 2.5.
        let (all, _) = run("", "optimize r", &[&g]);
        let (adv_all, _) = per_response(&all, &LENGTHS);
        assert!((adv_all[0] - (1.0 - 2.5) / ((5.0f64 / 3.0).sqrt() + EPS)).abs() < 1e-9);
        // The dropped rollout has every token off the mask; the others all on.
        assert_eq!(mask[1], vec![false; 2]);
        assert!(mask[0].iter().chain(&mask[2]).chain(&mask[3]).all(|m| *m));
        assert_eq!((sig.trained_rollouts, sig.trained_tokens), (3, 8));
        // RLOO: R_i − mean of the other kept ones.
        let (sig, _) = run(
            ", advantage = \"rloo\"",
            "optimize r where index != 2",
            &[&g],
        );
        close(
            &per_response(&sig, &LENGTHS).0,
            &[1.0 - 3.5, 0.0, 3.0 - 2.5, 4.0 - 2.0],
        );
        // Dr.GRPO: R_i − mean.
        let (sig, _) = run(
            ", advantage = \"dr_grpo\"",
            "optimize r where index != 2",
            &[&g],
        );
        close(
            &per_response(&sig, &LENGTHS).0,
            &[1.0 - mean, 0.0, 3.0 - mean, 4.0 - mean],
        );
        // REINFORCE++: returns (R on every token of its response) whitened
        // over the kept rollouts' 8 tokens only.
        let (sig, _) = run(
            ", advantage = \"reinforce_pp\"",
            "optimize r where index != 2",
            &[&g],
        );
        let kept: Vec<f64> = [1.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0].to_vec();
        let m = kept.iter().sum::<f64>() / 8.0;
        let s = (kept.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / 7.0).sqrt();
        let w = |x: f64| (x - m) / (s + EPS);
        close(
            &per_response(&sig, &LENGTHS).0,
            &[w(1.0), 0.0, w(3.0), w(4.0)],
        );
    }

    #[test]
    fn a_coarser_mask_keeps_or_drops_whole_groups() {
        let (a, b) = (texts(&GROUP), texts(&["a", "bb"]));
        // Group bool: the second group (mean length 1.5) is dropped whole.
        let (sig, m) = run("", "optimize r where mean(r) > 2", &[&a, &b]);
        assert_eq!(&sig.mask[10..], &[false; 3]);
        assert!(sig.mask[..10].iter().all(|x| *x));
        assert_eq!(&sig.advantages[10..], &[0.0; 3]);
        assert_eq!((m.trained_rollouts, m.trained_tokens), (vec![4], vec![10]));
        // Step bool: all or nothing.
        let (sig, _) = run("", "optimize r where step > 5", &[&a]);
        assert!(sig.mask.iter().all(|x| !*x) && sig.advantages.iter().all(|x| *x == 0.0));
    }

    #[test]
    fn a_token_mask_leaves_the_advantages_and_removes_tokens() {
        let mut g = texts(&GROUP);
        for r in &mut g {
            // Entropy 1 on even positions, 0 on odd ones.
            r.entropy = (0..r.text.len()).map(|t| ((t + 1) % 2) as f64).collect();
        }
        let (plain, _) = run("", "optimize r", &[&g]);
        let (sig, m) = run("", "optimize r where entropy > 0.5", &[&g]);
        assert_eq!(
            sig.advantages, plain.advantages,
            "the estimator is unchanged"
        );
        let expected: Vec<bool> = LENGTHS
            .iter()
            .flat_map(|&n| (0..n).map(|t| t % 2 == 0))
            .collect();
        assert_eq!(sig.mask, expected);
        // The loss's normaliser counts the tokens on the mask: 1 + 1 + 2 + 2.
        assert_eq!(sig.trained_tokens, 6);
        assert_eq!(plain.trained_tokens, 10);
        assert_eq!((m.trained_rollouts[0], m.trained_tokens[0]), (4, 6));
        // With `scaled by`, the two compose: scaled advantages, masked tokens.
        let (both, _) = run("", "optimize r scaled by 2 where entropy > 0.5", &[&g]);
        let doubled: Vec<f64> = plain.advantages.iter().map(|a| 2.0 * a).collect();
        close(&both.advantages, &doubled);
        assert_eq!(both.mask, expected);
    }

    #[test]
    fn empty_and_single_kept_sets_are_safe() {
        let (a, b) = (texts(&GROUP), texts(&["a", "bb"]));
        // `length > 3`: group 0 keeps only "dddd", group 1 nothing.
        for (estimator, single) in [
            ("grpo", 4.0 / (1.0 + EPS)),
            ("dr_grpo", 4.0),
            ("rloo", 0.0),
            ("reinforce_pp", 0.0),
            ("per_position", 0.0),
        ] {
            let setting = format!(", advantage = \"{estimator}\"");
            let (sig, m) = run(&setting, "optimize r where length > 3", &[&a, &b]);
            assert!(
                sig.advantages.iter().all(|x| x.is_finite()),
                "{estimator}: {:?}",
                sig.advantages
            );
            assert!(sig.mask[..6].iter().all(|x| !*x) && sig.mask[6..10].iter().all(|x| *x));
            assert!(sig.mask[10..].iter().all(|x| !*x));
            assert!(sig.advantages[..6].iter().all(|x| *x == 0.0), "{estimator}");
            assert!(
                sig.advantages[10..].iter().all(|x| *x == 0.0),
                "{estimator}"
            );
            if estimator != "per_position" {
                // per_position's advantages vary along the tokens; its
                // single rollout is its own per-position baseline, so 0 too.
                close(&sig.advantages[6..10], &[single; 4]);
            } else {
                close(&sig.advantages[6..10], &[0.0; 4]);
            }
            // Both groups count as flat: one kept rollout, and none.
            assert_eq!(m.zero_variance, vec![1.0], "{estimator}");
            assert_eq!((m.trained_rollouts[0], m.trained_tokens[0]), (1, 4));
        }
        // Nothing kept anywhere: all zero, nothing on the mask.
        let (sig, _) = run("", "optimize r where length > 9", &[&a, &b]);
        assert!(sig.advantages.iter().all(|x| *x == 0.0));
        assert_eq!((sig.trained_rollouts, sig.trained_tokens), (0, 0));
    }
}
