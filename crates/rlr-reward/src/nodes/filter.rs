//! Node family: filter. Seeded random group conditions for `halt`/`drop`
//! filters and reward noise.
//!
//! Draws come from [`Cx::uniform`] keyed by the group index (`per = "group"`)
//! or by one constant key (`per = "batch"`), so the same seed, step and
//! binding draw the same values on every run and thread count.

use rlr_lang::Scope;

use crate::error::{EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[&Chance, &Flip];

/// The key of the single draw of `per = "batch"` (group keys are group indices).
const BATCH_KEY: u64 = u64::MAX;

/// The probability parameter, checked to lie in [0, 1].
fn probability(call: &Call<'_>) -> Result<f64> {
    let p = call.real("p")?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(EvalError::new(format!(
            "`p` must be a probability in [0, 1], not {p}"
        )))
    }
}

/// Whether draws are per group (`true`) or once for the batch.
fn per_group(call: &Call<'_>) -> Result<bool> {
    match call.text("per") {
        Ok("group") => Ok(true),
        Ok("batch") => Ok(false),
        Ok(other) => Err(EvalError::new(format!(
            "`per` must be \"group\" or \"batch\", not {other:?}"
        ))),
        Err(_) if !call.args.iter().any(|(n, _)| *n == "per") => Ok(true),
        Err(e) => Err(e),
    }
}

/// One Bernoulli(p) draw per group (or one shared by all groups).
fn draws(cx: &Cx<'_>, groups: usize, p: f64, per_group: bool) -> Vec<bool> {
    if per_group {
        (0..groups).map(|g| cx.uniform(g as u64) < p).collect()
    } else {
        let hit = cx.uniform(BATCH_KEY) < p;
        vec![hit; groups]
    }
}

/// `chance(p, per)`: a seeded Bernoulli(p) draw, true with probability p,
/// derived from (seed, step, prompt) so reruns draw the same:
/// chance_g = 1[u(seed, step, binding, g) < p]. `halt when evidence <= 0.01
/// unless chance(0.3)` keeps a failing prompt anyway 30 % of the time. ⚠ PEARL's
/// released code draws once per generation batch (all prompts kept together):
/// use `per = "batch"` to match it.
///
/// [CODE] PEARL trim bypass skip_filter = random() < 0.3 (MiliLab/PEARL@dab5b0a,
/// verl/trainer/ray_trainer.py _make_batch_data; arXiv:2511.18437).
pub struct Chance;

impl Node for Chance {
    fn name(&self) -> &'static str {
        "chance"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let p = probability(call)?;
        let per_group = per_group(call)?;
        let groups = cx.layout(&call.set)?.groups;
        Ok(kit::output(
            call,
            Data::Bool(draws(cx, groups, p, per_group)),
            None,
        ))
    }
}

/// `flip(x, p, per)`: reward noise: with probability p (a seeded draw per
/// group, as in the paper's code, or per batch) the reward is flipped,
/// r ← 1 − r, for every member of the group. A value coarser than a group
/// (one per step or batch) takes the single batch draw.
///
/// [CODE] Climb Carves Wisdom noisy rewards (trestad/Noisy-Rewards-in-Learning-to-Reason,
/// verl/workers/reward_manager/naive.py).
pub struct Flip;

impl Node for Flip {
    fn name(&self) -> &'static str {
        "flip"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let p = probability(call)?;
        let per_group = per_group(call)?;
        let x = call.value("x")?;
        let segs = x.segs.clone();
        let x = kit::align(x, call, cx, segs.as_ref())?;
        let xs = kit::reals(&x, "x")?;
        let layout = cx.layout(&call.set)?;
        // The group of every entry; `None` for values coarser than a group.
        let group_of: Option<Vec<usize>> = match x.scope {
            Scope::Step | Scope::Batch => None,
            Scope::Group => Some((0..layout.groups).collect()),
            Scope::Response => Some(layout.group_of.clone()),
            Scope::Segment => {
                let s = segs
                    .as_ref()
                    .filter(|s| s.seg_start.len() == layout.responses() + 1)
                    .ok_or_else(|| {
                        EvalError::new(
                            "`x` is a segment value without a segmentation of these rollouts",
                        )
                    })?;
                Some(
                    s.response_of()
                        .into_iter()
                        .map(|r| layout.group_of[r])
                        .collect(),
                )
            }
            Scope::Token => Some(
                layout
                    .response_of_tokens()
                    .into_iter()
                    .map(|r| layout.group_of[r])
                    .collect(),
            ),
        };
        let out: Vec<f64> = match group_of {
            None => {
                let hit = cx.uniform(BATCH_KEY) < p;
                xs.iter().map(|&v| if hit { 1.0 - v } else { v }).collect()
            }
            Some(group_of) => {
                if group_of.len() != xs.len() {
                    return Err(EvalError::new(format!(
                        "`x` has {} entries but its {} scope has {}",
                        xs.len(),
                        x.scope,
                        group_of.len()
                    )));
                }
                let hits = draws(cx, layout.groups, p, per_group);
                xs.iter()
                    .zip(&group_of)
                    .map(|(&v, &g)| if hits[g] { 1.0 - v } else { v })
                    .collect()
            }
        };
        Ok(kit::output(call, Data::Real(out), segs))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rlr_lang::ir::Const;
    use rlr_lang::{Kind, Scope};
    use serde_json::json;

    use super::*;
    use crate::layout::{Segmentation, SetId};
    use crate::node::Arg;
    use crate::testing::{Fixture, call, constant, flags, reals_of, responses};

    fn groups(n: usize) -> Fixture {
        let texts: Vec<(&[&str], serde_json::Value)> =
            (0..n).map(|_| (&["ab", "c"][..], json!({}))).collect();
        Fixture::new(&texts)
    }

    fn chance(fx: &mut Fixture, node: &'static str, p: f64, per: &str) -> Vec<bool> {
        let c = call(
            "chance",
            vec![
                ("p", constant(Const::Real(p))),
                ("per", constant(Const::Str(per.into()))),
            ],
            (Scope::Group, Kind::Bool),
            &[],
        );
        let v = Chance.eval(&c, &mut fx.cx(node)).unwrap();
        assert_eq!(v.scope, Scope::Group);
        v.bools().unwrap().to_vec()
    }

    #[test]
    fn chance_is_reproducible_and_varies_by_group() {
        let mut fx = groups(64);
        let a = chance(&mut fx, "keep", 0.5, "group");
        let b = chance(&mut fx, "keep", 0.5, "group");
        assert_eq!(a, b, "same seed, step and binding draw the same");
        assert_eq!(a.len(), 64);
        // Different groups differ: with p = 0.5 over 64 groups both outcomes occur.
        assert!(a.iter().any(|&h| h) && a.iter().any(|&h| !h), "{a:?}");
        // Each draw is u(key = g) < p, exactly.
        let cx = fx.cx("keep");
        let expected: Vec<bool> = (0..64).map(|g| cx.uniform(g) < 0.5).collect();
        assert_eq!(a, expected);
    }

    #[test]
    fn chance_changes_with_step_and_extremes_are_certain() {
        let mut fx = groups(64);
        let a = chance(&mut fx, "keep", 0.5, "group");
        fx.batch.step = 2;
        let b = chance(&mut fx, "keep", 0.5, "group");
        assert_ne!(a, b, "another step draws again");
        assert!(chance(&mut fx, "keep", 1.0, "group").iter().all(|&h| h));
        assert!(chance(&mut fx, "keep", 0.0, "group").iter().all(|&h| !h));
    }

    #[test]
    fn chance_per_batch_is_one_draw() {
        let mut fx = groups(40);
        for step in 1..=20 {
            fx.batch.step = step;
            let v = chance(&mut fx, "keep", 0.5, "batch");
            assert!(v.iter().all(|&h| h == v[0]), "{v:?}");
        }
    }

    #[test]
    fn chance_rejects_bad_p_and_handles_empty_batch() {
        let mut fx = Fixture::new(&[]);
        assert!(chance(&mut fx, "keep", 0.3, "group").is_empty());
        let c = call(
            "chance",
            vec![("p", constant(Const::Real(1.5)))],
            (Scope::Group, Kind::Bool),
            &[],
        );
        assert!(Chance.eval(&c, &mut fx.cx("keep")).is_err());
        let c = call(
            "chance",
            vec![("p", constant(Const::Real(f64::NAN)))],
            (Scope::Group, Kind::Bool),
            &[],
        );
        assert!(Chance.eval(&c, &mut fx.cx("keep")).is_err());
    }

    fn flip(fx: &mut Fixture, x: Value, p: f64, per: &str, out: Scope) -> Vec<f64> {
        let c = call(
            "flip",
            vec![
                ("x", Arg::from(x)),
                ("p", constant(Const::Real(p))),
                ("per", constant(Const::Str(per.into()))),
            ],
            (out, Kind::Real),
            &[],
        );
        reals_of(Flip.eval(&c, &mut fx.cx("noisy")))
    }

    #[test]
    fn flip_flips_whole_groups() {
        let mut fx = groups(32);
        // Rewards 1, 0 in every group (2 responses per group).
        let x: Vec<f64> = (0..32).flat_map(|_| [1.0, 0.0]).collect();
        let out = flip(&mut fx, responses(&x), 0.5, "group", Scope::Response);
        let cx = fx.cx("noisy");
        for g in 0..32 {
            let hit = cx.uniform(g as u64) < 0.5;
            // Flipped groups read 0, 1 (r ← 1 − r); others unchanged.
            let want = if hit { [0.0, 1.0] } else { [1.0, 0.0] };
            assert_eq!(&out[2 * g..2 * g + 2], &want, "group {g}");
        }
        assert!(out.chunks(2).any(|c| c == [0.0, 1.0]) && out.chunks(2).any(|c| c == [1.0, 0.0]));
        // p = 0: unchanged; p = 1: all flipped, bools read as 0/1.
        assert_eq!(
            flip(&mut fx, responses(&x), 0.0, "group", Scope::Response),
            x
        );
        let all: Vec<f64> = x.iter().map(|v| 1.0 - v).collect();
        let b: Vec<bool> = x.iter().map(|&v| v > 0.5).collect();
        assert_eq!(flip(&mut fx, flags(&b), 1.0, "group", Scope::Response), all);
    }

    #[test]
    fn flip_tokens_follow_their_group_and_batch_flips_all() {
        let mut fx = groups(16);
        // Tokens: per group "ab" (2 tokens) and "c" (1 token) → 3 per group; all 0.25.
        let x = Value::new(Scope::Token, SetId::Main, Data::Real(vec![0.25; 48]));
        let out = flip(&mut fx, x.clone(), 0.5, "group", Scope::Token);
        for g in 0..16 {
            let tokens = &out[3 * g..3 * g + 3];
            assert!(
                tokens.iter().all(|&v| v == tokens[0]),
                "a group's tokens flip together"
            );
        }
        let batch = flip(&mut fx, x, 0.5, "batch", Scope::Token);
        assert!(batch.iter().all(|&v| v == batch[0]));
        // A NaN reward stays NaN; a step value uses the batch draw.
        let nan = flip(
            &mut fx,
            responses(&[f64::NAN; 32]),
            1.0,
            "group",
            Scope::Response,
        );
        assert!(nan.iter().all(|v| v.is_nan()));
        assert_eq!(
            flip(&mut fx, Value::real(0.2), 1.0, "group", Scope::Step),
            vec![0.8]
        );
    }

    #[test]
    fn flip_segments_follow_their_group() {
        // Two groups of "ab", "c"; segments: r0 two, r1 none, r2 one, r3 one.
        let mut fx = groups(2);
        let segs = Segmentation {
            seg_start: vec![0, 2, 2, 3, 4],
            end_token: vec![0, 1, 0, 0],
            origin: "s".into(),
        };
        let x = Value {
            scope: Scope::Segment,
            set: SetId::Main,
            segs: Some(Arc::new(segs)),
            data: Data::Real(vec![0.0, 1.0, 0.0, 1.0]),
        };
        let out = flip(&mut fx, x, 1.0, "group", Scope::Segment);
        assert_eq!(out, vec![1.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn flip_rejects_mismatched_lengths() {
        let mut fx = groups(2);
        let c = call(
            "flip",
            vec![
                ("x", Arg::from(responses(&[1.0]))),
                ("p", constant(Const::Real(0.5))),
            ],
            (Scope::Response, Kind::Real),
            &[],
        );
        assert!(Flip.eval(&c, &mut fx.cx("noisy")).is_err());
    }

    #[test]
    fn implements_every_registry_name_of_the_family() {
        let mut want: Vec<&str> = rlr_lang::registry::all()
            .into_iter()
            .filter(|b| {
                b.category == rlr_lang::registry::Category::Node(rlr_lang::registry::Family::Filter)
            })
            .map(|b| b.name)
            .collect();
        let mut have: Vec<&str> = ALL.iter().map(|n| n.name()).collect();
        want.sort_unstable();
        have.sort_unstable();
        assert_eq!(have, want);
    }
}
