//! Node family: weight. Advantage weights and token masks, used in
//! `optimize R scaled by W`.

use std::borrow::Cow;

use rlr_lang::Scope;

use crate::error::{At, EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[&Mask, &ForkingTokens, &ToolOutputMask];

/// `mask(x, keep)`: x where keep holds, else 0: x · 1[keep] (a NaN x where
/// keep is false gives 0). Masks truncated samples (`mask(a, not truncated)`,
/// DAPO's overlong filtering), late votes (`mask(a, index <= 32)`, EVOL-RL) or
/// non-forking tokens. A coarser `keep` broadcasts down.
///
/// [CODE] DAPO overlong filtering / TRL mask_truncated_completions; EVOL-RL trains
/// on the first 32 of 64 votes (YujunZhou/EVOL-RL, verl/examples/labelfree/evol_rl.sh).
pub struct Mask;

impl Node for Mask {
    fn name(&self) -> &'static str {
        "mask"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let x = call.value("x")?;
        let keep = call.value("keep")?;
        let segs = kit::segs_of(&[x, keep]);
        let expected = kit::entries(call.out.scope, call, cx, segs.as_ref())?;
        let x = kit::align(x, call, cx, segs.as_ref())?;
        let keep = kit::align(keep, call, cx, segs.as_ref())?;
        let xs = kit::reals(&x, "x")?;
        let ks: Cow<'_, [bool]> = match keep.bools() {
            Some(b) => Cow::Borrowed(b),
            None => Cow::Owned(
                kit::reals(&keep, "keep")?
                    .iter()
                    .map(|v| *v != 0.0 && !v.is_nan())
                    .collect(),
            ),
        };
        if xs.len() != expected || ks.len() != expected {
            return Err(EvalError::new(format!(
                "`x` ({} values) and `keep` ({} values) do not line up at {} scope ({expected} entries)",
                xs.len(),
                ks.len(),
                call.out.scope
            )));
        }
        let out: Vec<f64> = xs
            .iter()
            .zip(ks.iter())
            .map(|(v, k)| if *k { *v } else { 0.0 })
            .collect();
        Ok(kit::output(call, Data::Real(out), segs))
    }
}

/// The q-quantile of `xs`, interpolating linearly between order statistics
/// (numpy's default); `None` when there are no numbers.
fn quantile(xs: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

/// `forking_tokens(entropy, q, over)`: SPINE's forking tokens: true where
/// H_t >= Q_q(H), the q-quantile of the entropies of all generated tokens in
/// the batch (or the response), i.e. the top 1 − q share of high-entropy
/// branch points. `optimize r scaled by forking_tokens(entropy)` updates only
/// them. The quantile interpolates linearly (numpy's default); NaN entropies
/// are left out of it and never fork.
///
/// [INFER] SPINE (arXiv:2511.17938; abstract only) with ρ = 1 − q ≈ 0.2 as in
/// "Beyond the 80/20 rule" (arXiv:2506.01939).
pub struct ForkingTokens;

impl Node for ForkingTokens {
    fn name(&self) -> &'static str {
        "forking_tokens"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let q = call.real("q")?;
        if !(0.0..=1.0).contains(&q) {
            return Err(EvalError::new(format!(
                "`q` must be a quantile level in [0, 1], not {q}"
            )));
        }
        let per_response = match call.text("over") {
            Ok("batch") => false,
            Ok("response") => true,
            Ok(other) => {
                return Err(EvalError::new(format!(
                    "`over` must be \"batch\" or \"response\", not {other:?}"
                )));
            }
            Err(_) if !call.args.iter().any(|(n, _)| *n == "over") => false,
            Err(e) => return Err(e),
        };
        let layout = cx.layout(&call.set)?;
        let h = call.value("entropy")?;
        if h.scope != Scope::Token {
            return Err(EvalError::new(format!(
                "`entropy` must be a token value, not a {} value",
                h.scope
            )));
        }
        let h = kit::reals(h, "entropy")?;
        if h.len() != layout.tokens() {
            return Err(EvalError::new(format!(
                "`entropy` has {} values for {} tokens",
                h.len(),
                layout.tokens()
            )));
        }
        let spans: Vec<std::ops::Range<usize>> = if per_response {
            (0..layout.responses())
                .map(|r| layout.response_tokens(r))
                .collect()
        } else {
            std::iter::once(0..h.len()).collect()
        };
        let mut out = vec![false; h.len()];
        for span in spans {
            if let Some(threshold) = quantile(&h[span.clone()], q) {
                for t in span {
                    out[t] = h[t] >= threshold;
                }
            }
        }
        Ok(kit::output(call, Data::Bool(out), None))
    }
}

/// `tool_output_mask()`: true on tokens the policy generated, false on tokens a
/// tool inserted into a multi-turn rollout (retrieved documents, tool results;
/// `Rollout.tool`), so they carry no loss. The stage setting
/// `mask = tool_output` applies it to every term. A rollout without tool flags
/// is all generated.
///
/// [INFER] Atom-Searcher / DeepResearcher-style masking of retrieved content
/// (arXiv:2508.12800).
pub struct ToolOutputMask;

impl Node for ToolOutputMask {
    fn name(&self) -> &'static str {
        "tool_output_mask"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let layout = cx.layout(&call.set)?;
        let mut out = Vec::with_capacity(layout.tokens());
        for r in 0..layout.responses() {
            let n = layout.response_tokens(r).len();
            let tool = cx
                .rollout(&call.set, r)
                .map_or(&[][..], |ro| ro.tool.as_slice());
            if tool.is_empty() {
                out.extend(std::iter::repeat_n(true, n));
            } else if tool.len() == n {
                out.extend(tool.iter().map(|t| !t));
            } else {
                let group = layout.group_of[r];
                let at = At {
                    set: call.set.clone(),
                    group,
                    rollout: Some(r - layout.group_start[group]),
                };
                return Err(EvalError::new(format!(
                    "the rollout has {} tool flags for {n} tokens",
                    tool.len()
                ))
                .at(at));
            }
        }
        Ok(kit::output(call, Data::Bool(out), None))
    }
}

#[cfg(test)]
mod tests {
    use rlr_lang::ir::Const;
    use rlr_lang::{Kind, Scope};
    use serde_json::json;

    use super::*;
    use crate::batch::{Batch, Group, Rollout};
    use crate::layout::SetId;
    use crate::node::Arg;
    use crate::testing::{Fixture, call, constant, flags, reals_of, responses};

    fn tokens(xs: &[f64]) -> Value {
        Value::new(Scope::Token, SetId::Main, Data::Real(xs.to_vec()))
    }

    /// Responses "abc", "" and "de": 5 tokens.
    fn fixture() -> Fixture {
        Fixture::new(&[(&["abc", ""], json!({})), (&["de"], json!({}))])
    }

    fn mask(x: Value, keep: Value, out: Scope) -> Result<Value> {
        let c = call(
            "mask",
            vec![("x", Arg::from(x)), ("keep", Arg::from(keep))],
            (out, Kind::Real),
            &[],
        );
        Mask.eval(&c, &mut fixture().cx("m"))
    }

    #[test]
    fn mask_keeps_or_zeroes() {
        // Response values: [1, NaN, 3] where [true, false, false] → [1, 0, 0].
        assert_eq!(
            reals_of(mask(
                responses(&[1.0, f64::NAN, 3.0]),
                flags(&[true, false, false]),
                Scope::Response
            )),
            vec![1.0, 0.0, 0.0]
        );
        // A response mask broadcasts to token advantages: drop response 2 ("de").
        let out = reals_of(mask(
            tokens(&[0.5, 0.5, 0.5, -1.0, -1.0]),
            flags(&[true, true, false]),
            Scope::Token,
        ));
        assert_eq!(out, vec![0.5, 0.5, 0.5, 0.0, 0.0]);
        // A group mask and a token mask.
        let g = Value::new(Scope::Group, SetId::Main, Data::Bool(vec![false, true]));
        assert_eq!(
            reals_of(mask(responses(&[1.0, 2.0, 3.0]), g, Scope::Response)),
            vec![0.0, 0.0, 3.0]
        );
        let keep = Value::new(
            Scope::Token,
            SetId::Main,
            Data::Bool(vec![true, false, true, false, true]),
        );
        assert_eq!(
            reals_of(mask(tokens(&[1.0, 2.0, 3.0, 4.0, 5.0]), keep, Scope::Token)),
            vec![1.0, 0.0, 3.0, 0.0, 5.0]
        );
        assert!(
            mask(
                responses(&[1.0]),
                flags(&[true, true, true]),
                Scope::Response
            )
            .is_err()
        );
    }

    fn forking(h: &[f64], q: f64, over: &str) -> Result<Value> {
        let c = call(
            "forking_tokens",
            vec![
                ("entropy", Arg::from(tokens(h))),
                ("q", constant(Const::Real(q))),
                ("over", constant(Const::Str(over.into()))),
            ],
            (Scope::Token, Kind::Bool),
            &[],
        );
        ForkingTokens.eval(&c, &mut fixture().cx("f"))
    }

    #[test]
    fn forking_tokens_top_quantile() {
        // Batch entropies [0.1, 2.0, 0.5, 1.0, 3.0]; sorted [0.1, 0.5, 1, 2, 3];
        // q = 0.8 → position 3.2 → 2 + 0.2 · (3 − 2) = 2.2: only 3.0 forks.
        let out = forking(&[0.1, 2.0, 0.5, 1.0, 3.0], 0.8, "batch").unwrap();
        assert_eq!(out.bools().unwrap(), &[false, false, false, false, true]);
        // q = 0.5 → the median 1.0: tokens with H >= 1.
        assert_eq!(
            forking(&[0.1, 2.0, 0.5, 1.0, 3.0], 0.5, "batch")
                .unwrap()
                .bools()
                .unwrap(),
            &[false, true, false, true, true]
        );
        // Per response: "abc" [0.1, 2, 0.5] q 0.5 → 0.5; "de" [1, 3] → 2.
        assert_eq!(
            forking(&[0.1, 2.0, 0.5, 1.0, 3.0], 0.5, "response")
                .unwrap()
                .bools()
                .unwrap(),
            &[false, true, true, false, true]
        );
        // NaN entropies never fork and do not move the quantile: [1, NaN, 3, 2, 0] q 1 → 3.
        assert_eq!(
            forking(&[1.0, f64::NAN, 3.0, 2.0, 0.0], 1.0, "batch")
                .unwrap()
                .bools()
                .unwrap(),
            &[false, false, true, false, false]
        );
        assert!(forking(&[1.0], 0.8, "batch").is_err());
        assert!(forking(&[1.0; 5], 1.5, "batch").is_err());
    }

    #[test]
    fn tool_output_mask_from_rollouts() {
        let with_tool = Rollout {
            tool: vec![false, true, true, false],
            ..Rollout::from_text("abcd")
        };
        let batch = Batch {
            step: 1,
            steps: 1,
            groups: vec![Group {
                rollouts: vec![with_tool, Rollout::from_text(""), Rollout::from_text("xy")],
                ..Group::default()
            }],
        };
        let mut fx = Fixture::from_batch(batch);
        let c = call("tool_output_mask", vec![], (Scope::Token, Kind::Bool), &[]);
        let out = ToolOutputMask.eval(&c, &mut fx.cx("t")).unwrap();
        assert_eq!(
            out.bools().unwrap(),
            &[true, false, false, true, true, true]
        );
        // Flags that do not match the tokens are an error naming the rollout.
        fx.batch.groups[0].rollouts[2].tool = vec![true];
        let err = ToolOutputMask.eval(&c, &mut fx.cx("t")).unwrap_err();
        assert_eq!(err.at.map(|a| a.rollout), Some(Some(2)));
    }

    #[test]
    fn implements_every_registry_name_of_the_family() {
        let mut want: Vec<&str> = rlr_lang::registry::all()
            .into_iter()
            .filter(|b| {
                b.category == rlr_lang::registry::Category::Node(rlr_lang::registry::Family::Weight)
            })
            .map(|b| b.name)
            .collect();
        let mut have: Vec<&str> = ALL.iter().map(|n| n.name()).collect();
        want.sort_unstable();
        have.sort_unstable();
        assert_eq!(have, want);
    }
}
