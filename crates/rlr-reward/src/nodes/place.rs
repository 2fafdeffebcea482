//! Node family: placement. Response and segment values onto tokens.
//!
//! A response with no tokens receives nothing. A segment's tokens run from
//! the token after the previous segment's end (the response's first token
//! for the first segment) to its own `end_token`; an `end_token` past the
//! response's last token counts as the last token. Values several segments
//! put on one token are summed.

use std::ops::Range;

use rlr_lang::Scope;

use crate::error::{EvalError, Result};
use crate::kit;
use crate::layout::{Layout, Segmentation, Segs};
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[&Place, &Spread];

/// The segmentation a segment value carries, checked against the rollouts' layout.
pub(super) fn segmentation<'s>(
    segs: Option<&'s Segs>,
    layout: &Layout,
    what: &str,
) -> Result<&'s Segmentation> {
    let s = segs.ok_or_else(|| {
        EvalError::new(format!(
            "`{what}` is a segment value without its segmentation"
        ))
    })?;
    let ok = s.seg_start.len() == layout.responses() + 1
        && s.seg_start.first() == Some(&0)
        && s.seg_start.windows(2).all(|w| w[0] <= w[1])
        && s.end_token.len() == s.len();
    if ok {
        Ok(s)
    } else {
        Err(EvalError::new(format!(
            "`{what}`'s segmentation (from `{}`) does not match these {} rollouts",
            s.origin,
            layout.responses()
        )))
    }
}

/// The token range (batch-wide indices) of every segment; empty for responses without tokens.
pub(super) fn segment_spans(segs: &Segmentation, layout: &Layout) -> Vec<Range<usize>> {
    let mut spans = Vec::with_capacity(segs.len());
    for r in 0..layout.responses() {
        let tokens = layout.response_tokens(r);
        let n = tokens.len();
        let mut next = 0;
        for k in segs.of(r) {
            if n == 0 {
                spans.push(tokens.start..tokens.start);
                continue;
            }
            let end = segs.end_token[k].min(n - 1);
            let start = next.min(end);
            spans.push(tokens.start + start..tokens.start + end + 1);
            next = next.max(end + 1);
        }
    }
    spans
}

/// A placement input: response values, or segment values with their segmentation.
enum Input<'v> {
    /// One value per response.
    Responses(Vec<f64>),
    /// One value per segment.
    Segments(Vec<f64>, &'v Segmentation),
}

/// Reads `x`, bringing values coarser than a response down to responses.
fn input<'v>(x: &'v Value, call: &Call<'_>, cx: &Cx<'_>) -> Result<Input<'v>> {
    let layout = cx.layout(&call.set)?;
    match x.scope {
        Scope::Segment => {
            let segs = segmentation(x.segs.as_ref(), layout, "x")?;
            let xs = kit::reals(x, "x")?.into_owned();
            if xs.len() != segs.len() {
                return Err(EvalError::new(format!(
                    "`x` has {} values for {} segments",
                    xs.len(),
                    segs.len()
                )));
            }
            Ok(Input::Segments(xs, segs))
        }
        Scope::Token => Err(EvalError::new(format!(
            "`{}` takes response or segment values, not token values",
            call.builtin.name
        ))),
        _ => {
            let v = cx.broadcast(x, Scope::Response, &call.set, None)?;
            let xs = kit::reals(&v, "x")?.into_owned();
            if xs.len() != layout.responses() {
                return Err(EvalError::new(format!(
                    "`x` has {} values for {} responses",
                    xs.len(),
                    layout.responses()
                )));
            }
            Ok(Input::Responses(xs))
        }
    }
}

/// `place(x, at)`: puts values on tokens, 0 elsewhere: `last` writes a
/// response value at the last generated token (verl's convention, so
/// Σ_t r_t = r; segment values are summed there); `segment_end` writes each
/// segment value at its segment's last token (PPR, Clip/Delta, IGPO, G-RA; a
/// response value counts as one segment ending at the last token); `all`
/// copies the value to every generated token (a segment value to every token
/// of its segment).
///
/// [CODE] verl reward placement at the last valid token (verl/workers/reward_manager);
/// [CODE] IGPO turn-end placement (GuoqingWang1/IGPO, scrl/llm_agent/generation.py).
pub struct Place;

impl Node for Place {
    fn name(&self) -> &'static str {
        "place"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let at = match call.text("at") {
            Ok(at @ ("last" | "segment_end" | "all")) => at,
            Ok(other) => {
                return Err(EvalError::new(format!(
                    "`at` must be \"last\", \"segment_end\" or \"all\", not {other:?}"
                )));
            }
            Err(_) if !call.args.iter().any(|(n, _)| *n == "at") => "last",
            Err(e) => return Err(e),
        };
        let x = call.value("x")?;
        let layout = cx.layout(&call.set)?;
        let mut out = vec![0.0; layout.tokens()];
        let last = |r: usize| {
            let t = layout.response_tokens(r);
            (!t.is_empty()).then(|| t.end - 1)
        };
        match (input(x, call, cx)?, at) {
            (Input::Responses(xs), "all") => {
                for (r, v) in xs.iter().enumerate() {
                    out[layout.response_tokens(r)].fill(*v);
                }
            }
            (Input::Responses(xs), _) => {
                for (r, v) in xs.iter().enumerate() {
                    if let Some(t) = last(r) {
                        out[t] += v;
                    }
                }
            }
            (Input::Segments(xs, segs), "last") => {
                for r in 0..layout.responses() {
                    if let Some(t) = last(r) {
                        out[t] += segs.of(r).map(|k| xs[k]).sum::<f64>();
                    }
                }
            }
            (Input::Segments(xs, segs), "segment_end") => {
                for (span, v) in segment_spans(segs, layout).iter().zip(&xs) {
                    if !span.is_empty() {
                        out[span.end - 1] += v;
                    }
                }
            }
            (Input::Segments(xs, segs), _) => {
                for (span, v) in segment_spans(segs, layout).into_iter().zip(&xs) {
                    for o in &mut out[span] {
                        *o += v;
                    }
                }
            }
        }
        Ok(kit::output(call, Data::Real(out), None))
    }
}

/// `spread(x)`: spreads each value evenly over its tokens: x / |y| on every
/// generated token of the response (x_k / |segment k| on the tokens of
/// segment k), so the token sum equals x.
///
/// [INFER] methods.md §P.2 Place "uniform".
pub struct Spread;

impl Node for Spread {
    fn name(&self) -> &'static str {
        "spread"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let x = call.value("x")?;
        let layout = cx.layout(&call.set)?;
        let mut out = vec![0.0; layout.tokens()];
        let spans: Vec<(Range<usize>, f64)> = match input(x, call, cx)? {
            Input::Responses(xs) => xs
                .into_iter()
                .enumerate()
                .map(|(r, v)| (layout.response_tokens(r), v))
                .collect(),
            Input::Segments(xs, segs) => segment_spans(segs, layout).into_iter().zip(xs).collect(),
        };
        for (span, v) in spans {
            let share = v / span.len().max(1) as f64;
            for o in &mut out[span] {
                *o += share;
            }
        }
        Ok(kit::output(call, Data::Real(out), None))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rlr_lang::ir::Const;
    use rlr_lang::{Kind, Scope};
    use serde_json::json;

    use super::*;
    use crate::layout::SetId;
    use crate::node::{Arg, Node};
    use crate::testing::{Fixture, call, constant, reals_of, responses};

    /// Responses of 3, 0 and 2 tokens (one token per character).
    fn fixture() -> Fixture {
        Fixture::new(&[(&["abc", ""], json!({})), (&["de"], json!({}))])
    }

    fn run(node: &dyn Node, x: Value, at: Option<&str>) -> Result<Value> {
        let mut fx = fixture();
        let mut args = vec![("x", Arg::from(x))];
        if let Some(at) = at {
            args.push(("at", constant(Const::Str(at.into()))));
        }
        let c = call(node.name(), args, (Scope::Token, Kind::Real), &[]);
        node.eval(&c, &mut fx.cx("placed"))
    }

    /// Segments: response 0 has segments ending at tokens 0, 2 and 2 (two end
    /// at the last token); response 1 (no tokens) has one; response 2 has one
    /// ending at token 7 (past its end → its last token).
    fn segments(xs: &[f64]) -> Value {
        let segs = Segmentation {
            seg_start: vec![0, 3, 4, 5],
            end_token: vec![0, 2, 2, 0, 7],
            origin: "steps".into(),
        };
        Value {
            scope: Scope::Segment,
            set: SetId::Main,
            segs: Some(Arc::new(segs)),
            data: Data::Real(xs.to_vec()),
        }
    }

    #[test]
    fn response_values_at_last_token() {
        // Tokens: r0 → 0..3, r1 → none, r2 → 3..5. r1's value goes nowhere.
        let out = run(&Place, responses(&[1.0, 5.0, 2.0]), None).unwrap();
        assert_eq!(out.scope, Scope::Token);
        assert_eq!(
            out.reals().unwrap().into_owned(),
            vec![0.0, 0.0, 1.0, 0.0, 2.0]
        );
        assert_eq!(
            reals_of(run(
                &Place,
                responses(&[1.0, 5.0, 2.0]),
                Some("segment_end")
            )),
            vec![0.0, 0.0, 1.0, 0.0, 2.0]
        );
        assert_eq!(
            reals_of(run(&Place, responses(&[1.0, 5.0, 2.0]), Some("all"))),
            vec![1.0, 1.0, 1.0, 2.0, 2.0]
        );
        // A group value is a response value of each member.
        let g = Value::new(Scope::Group, SetId::Main, Data::Real(vec![3.0, 4.0]));
        assert_eq!(
            reals_of(run(&Place, g, Some("last"))),
            vec![0.0, 0.0, 3.0, 0.0, 4.0]
        );
    }

    #[test]
    fn segment_values_at_segment_ends() {
        // Segment ends: 0.1 at token 0; 0.2 and 0.4 both at token 2 (summed 0.6);
        // 9 in the empty response is dropped; 0.5 at token 4 (end 7 clamped to 1 → 3 + 1).
        let out = reals_of(run(
            &Place,
            segments(&[0.1, 0.2, 0.4, 9.0, 0.5]),
            Some("segment_end"),
        ));
        assert_eq!(out, vec![0.1, 0.0, 0.2 + 0.4, 0.0, 0.5]);
        // `last`: r0's three segments summed at token 2 (0.7), r2's at token 4.
        let out = reals_of(run(
            &Place,
            segments(&[0.1, 0.2, 0.4, 9.0, 0.5]),
            Some("last"),
        ));
        assert_eq!(out, vec![0.0, 0.0, 0.1 + 0.2 + 0.4, 0.0, 0.5]);
        // `all`: spans [0], [1, 2], [2] (ends at the same token) and [3, 4].
        let out = reals_of(run(
            &Place,
            segments(&[0.1, 0.2, 0.4, 9.0, 0.5]),
            Some("all"),
        ));
        assert_eq!(out, vec![0.1, 0.2, 0.2 + 0.4, 0.5, 0.5]);
    }

    #[test]
    fn zero_token_and_empty_batches() {
        let mut fx = Fixture::new(&[(&[""], json!({}))]);
        for at in ["last", "segment_end", "all"] {
            let c = call(
                "place",
                vec![
                    ("x", Arg::from(responses(&[1.0]))),
                    ("at", constant(Const::Str(at.into()))),
                ],
                (Scope::Token, Kind::Real),
                &[],
            );
            assert_eq!(reals_of(Place.eval(&c, &mut fx.cx("p"))), Vec::<f64>::new());
        }
        let c = call(
            "spread",
            vec![("x", Arg::from(responses(&[1.0])))],
            (Scope::Token, Kind::Real),
            &[],
        );
        assert_eq!(
            reals_of(Spread.eval(&c, &mut fx.cx("p"))),
            Vec::<f64>::new()
        );
        let mut none = Fixture::new(&[]);
        let c = call(
            "place",
            vec![("x", Arg::from(responses(&[])))],
            (Scope::Token, Kind::Real),
            &[],
        );
        assert_eq!(
            reals_of(Place.eval(&c, &mut none.cx("p"))),
            Vec::<f64>::new()
        );
    }

    #[test]
    fn spread_keeps_token_sums() {
        // r0: 3/3 on each of 3 tokens; r2: 1/2 on each of 2.
        assert_eq!(
            reals_of(run(&Spread, responses(&[3.0, 7.0, 1.0]), None)),
            vec![1.0, 1.0, 1.0, 0.5, 0.5]
        );
        // Segments: 0.1 on [0]; 0.2/2 on [1, 2]; 0.4 on [2]; 0.5/2 on [3, 4].
        let out = reals_of(run(&Spread, segments(&[0.1, 0.2, 0.4, 9.0, 0.5]), None));
        let want = [0.1, 0.1, 0.1 + 0.4, 0.25, 0.25];
        for (a, b) in out.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{out:?}");
        }
    }

    #[test]
    fn bad_inputs_are_errors_and_nan_stays_put() {
        assert!(run(&Place, responses(&[1.0]), None).is_err());
        assert!(
            run(
                &Place,
                Value::new(Scope::Token, SetId::Main, Data::Real(vec![0.0; 5])),
                None
            )
            .is_err()
        );
        assert!(run(&Place, segments(&[1.0]), None).is_err());
        let mut bad = segments(&[1.0]);
        bad.segs = Some(Arc::new(Segmentation {
            seg_start: vec![0, 1],
            end_token: vec![0],
            origin: "x".into(),
        }));
        assert!(run(&Place, bad, None).is_err());
        let mut no_segs = segments(&[0.0; 5]);
        no_segs.segs = None;
        assert!(run(&Spread, no_segs, None).is_err());
        assert!(run(&Place, responses(&[1.0, 2.0, 3.0]), Some("middle")).is_err());
        let out = reals_of(run(&Place, responses(&[f64::NAN, 0.0, 1.0]), None));
        assert!(out[2].is_nan() && out[0] == 0.0 && out[4] == 1.0);
    }

    #[test]
    fn implements_every_registry_name_of_the_family() {
        let mut want: Vec<&str> = rlr_lang::registry::all()
            .into_iter()
            .filter(|b| {
                b.category == rlr_lang::registry::Category::Node(rlr_lang::registry::Family::Place)
            })
            .map(|b| b.name)
            .collect();
        let mut have: Vec<&str> = ALL.iter().map(|n| n.name()).collect();
        want.sort_unstable();
        have.sort_unstable();
        assert_eq!(have, want);
    }
}
