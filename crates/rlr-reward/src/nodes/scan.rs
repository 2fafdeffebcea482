//! Node family: scan. Sequential scans along the segments or the tokens of
//! each response; a sequence never crosses from one response into the next.
//! A value coarser than a segment (one per response, say) is a sequence of
//! one per entry. NaN entries propagate along the scan.

use std::ops::Range;

use rlr_lang::Scope;

use super::place::segmentation;
use crate::error::{EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[
    &ReturnToGo,
    &FirstDifference,
    &BackwardDifference,
    &Cumsum,
    &Cummax,
];

/// `x` at the output's scope and its sequences: entry ranges, one per
/// response (or one per entry for values coarser than a segment).
fn sequences(call: &Call<'_>, cx: &Cx<'_>) -> Result<(Value, Vec<Range<usize>>)> {
    let x = call.value("x")?;
    let segs = x.segs.clone();
    let x = kit::align(x, call, cx, segs.as_ref())?;
    let n = kit::reals(&x, "x")?.len();
    let layout = cx.layout(&call.set)?;
    let ranges: Vec<Range<usize>> = match call.out.scope {
        Scope::Token => (0..layout.responses())
            .map(|r| layout.response_tokens(r))
            .collect(),
        Scope::Segment => {
            let s = segmentation(segs.as_ref(), layout, "x")?;
            (0..layout.responses()).map(|r| s.of(r)).collect()
        }
        _ => (0..n).map(|i| i..i + 1).collect(),
    };
    let expected = ranges.last().map_or(0, |r| r.end);
    if n != expected {
        return Err(EvalError::new(format!(
            "`x` has {n} values, but its {} scope has {expected}",
            call.out.scope
        )));
    }
    Ok((x, ranges))
}

/// Runs `f` over every sequence of `x`; `f` gets the sequence's values and
/// writes the result into the output slice.
fn scan(call: &Call<'_>, cx: &Cx<'_>, f: impl Fn(&[f64], &mut [f64])) -> Result<Value> {
    let (x, ranges) = sequences(call, cx)?;
    let xs = kit::reals(&x, "x")?;
    let mut out = vec![0.0; xs.len()];
    for range in ranges {
        f(&xs[range.clone()], &mut out[range]);
    }
    Ok(kit::output(call, Data::Real(out), x.segs.clone()))
}

/// `return_to_go(x, gamma)`: discounted return-to-go:
/// G_k = Σ_{j >= k} γ^{j−k} x_j = x_k + γ · G_{k+1}. IGPO's advantage starts
/// from the token return with γ = 1; DeepSeekMath's process supervision sums
/// normalised step rewards from each step on.
///
/// [CODE] IGPO compute_grpo_outcome_advantage (GuoqingWang1/IGPO,
/// verl/trainer/ppo/core_algos.py); [INFER] DeepSeekMath process supervision
/// (arXiv:2402.03300).
pub struct ReturnToGo;

impl Node for ReturnToGo {
    fn name(&self) -> &'static str {
        "return_to_go"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let gamma = call.real("gamma")?;
        if gamma.is_nan() {
            return Err(EvalError::new("`gamma` is not a number"));
        }
        scan(call, cx, |xs, out| {
            let mut g = 0.0;
            for (o, x) in out.iter_mut().zip(xs).rev() {
                g = x + gamma * g;
                *o = g;
            }
        })
    }
}

/// `first_difference(x)`: the Delta mechanism: d_k = x_k − x_{k+1} for k < K
/// and d_K = x_K, so that the return-to-go from any step equals that step's
/// own value (Σ_{j >= k} d_j = x_k). Clip-Delta applies it after
/// `minimum(prm - eta, 0)`.
///
/// [2ND] Clip/Delta (arXiv:2410.15115, ICLR 2025 reviews); the last-step
/// boundary term is [INFER] (methods.md §S.5).
pub struct FirstDifference;

impl Node for FirstDifference {
    fn name(&self) -> &'static str {
        "first_difference"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        scan(call, cx, |xs, out| {
            for (k, o) in out.iter_mut().enumerate() {
                *o = match xs.get(k + 1) {
                    Some(next) => xs[k] - next,
                    None => xs[k],
                };
            }
        })
    }
}

/// `backward_difference(x, initial)`: increments d_k = x_k − x_{k−1}, with
/// x_0 = `initial`. IGPO's information gain IG_k = P_k − P_{k−1} with P_0 the
/// gold-answer probability from the prompt alone. `initial` may be a step,
/// group or response value (one x_0 per response), or a value at x's own scope
/// (each sequence's first entry is its x_0).
///
/// [CODE] IGPO (GuoqingWang1/IGPO, scrl/llm_agent/generation.py; arXiv:2510.14967).
pub struct BackwardDifference;

impl Node for BackwardDifference {
    fn name(&self) -> &'static str {
        "backward_difference"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let out_scope = call.out.scope;
        let layout = cx.layout(&call.set)?;
        let (x, ranges) = sequences(call, cx)?;
        // One x_0 per sequence.
        let starts: Vec<f64> = match call.value("initial") {
            Err(_) if call.args.iter().any(|(n, _)| *n == "initial") => {
                vec![call.real("initial")?; ranges.len()]
            }
            Err(_) => vec![0.0; ranges.len()],
            Ok(init) => {
                let per_sequence = if out_scope >= Scope::Segment {
                    Scope::Response
                } else {
                    out_scope
                };
                if init.scope <= per_sequence {
                    let v = cx.broadcast(init, per_sequence, &call.set, x.segs.as_ref())?;
                    kit::reals(&v, "initial")?.into_owned()
                } else if init.scope == out_scope {
                    let v = kit::reals(init, "initial")?;
                    ranges
                        .iter()
                        .map(|r| v.get(r.start).copied().unwrap_or(0.0))
                        .collect()
                } else {
                    return Err(EvalError::new(format!(
                        "`initial` is a {} value; give one per response or one per {}",
                        init.scope, out_scope
                    )));
                }
            }
        };
        if starts.len() != ranges.len() {
            return Err(EvalError::new(format!(
                "`initial` has {} values for {} sequences ({} responses)",
                starts.len(),
                ranges.len(),
                layout.responses()
            )));
        }
        let xs = kit::reals(&x, "x")?;
        let mut out = vec![0.0; xs.len()];
        for (range, x0) in ranges.iter().zip(&starts) {
            let mut prev = *x0;
            for k in range.clone() {
                out[k] = xs[k] - prev;
                prev = xs[k];
            }
        }
        Ok(kit::output(call, Data::Real(out), x.segs.clone()))
    }
}

/// `cumsum(x)`: running sum from the start: c_k = Σ_{j <= k} x_j.
///
/// [INFER] methods.md §P.2 Scan "cumulative sum".
pub struct Cumsum;

impl Node for Cumsum {
    fn name(&self) -> &'static str {
        "cumsum"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        scan(call, cx, |xs, out| {
            let mut c = 0.0;
            for (o, x) in out.iter_mut().zip(xs) {
                c += x;
                *o = c;
            }
        })
    }
}

/// `cummax(x)`: running maximum from the start: c_k = max_{j <= k} x_j (NaN
/// from the first NaN on).
///
/// [INFER] methods.md §P.2 Scan "cumulative max".
pub struct Cummax;

impl Node for Cummax {
    fn name(&self) -> &'static str {
        "cummax"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        scan(call, cx, |xs, out| {
            let mut c = f64::NEG_INFINITY;
            for (o, &x) in out.iter_mut().zip(xs) {
                c = if c.is_nan() || x.is_nan() {
                    f64::NAN
                } else {
                    c.max(x)
                };
                *o = c;
            }
        })
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
    use crate::node::{Arg, Node};
    use crate::testing::{Fixture, call, constant, reals_of, responses};

    /// Two groups: responses of 3, 0 and 2 tokens.
    fn fixture() -> Fixture {
        Fixture::new(&[(&["abc", ""], json!({})), (&["de"], json!({}))])
    }

    fn tokens(xs: &[f64]) -> Value {
        Value::new(Scope::Token, SetId::Main, Data::Real(xs.to_vec()))
    }

    /// Segments: 2 in response 0, none in response 1, 3 in response 2.
    fn segments(xs: &[f64]) -> Value {
        let segs = Segmentation {
            seg_start: vec![0, 2, 2, 5],
            end_token: vec![0, 2, 0, 1, 1],
            origin: "steps".into(),
        };
        Value {
            scope: Scope::Segment,
            set: SetId::Main,
            segs: Some(Arc::new(segs)),
            data: Data::Real(xs.to_vec()),
        }
    }

    fn run(node: &dyn Node, x: Value, extra: Vec<(&'static str, Arg<'static>)>) -> Result<Value> {
        let mut fx = fixture();
        let scope = x.scope;
        let mut args = vec![("x", Arg::from(x))];
        args.extend(extra);
        let c = call(node.name(), args, (scope, Kind::Real), &[]);
        node.eval(&c, &mut fx.cx("scan"))
    }

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (x, y) in a.iter().zip(b) {
            assert!(
                (x - y).abs() < 1e-12 || (x.is_nan() && y.is_nan()),
                "{a:?} vs {b:?}"
            );
        }
    }

    fn gamma(g: f64) -> (&'static str, Arg<'static>) {
        ("gamma", constant(Const::Real(g)))
    }

    #[test]
    fn return_to_go_with_discount() {
        // Response 0 tokens [0, 0, 1], γ = 0.9: G = [0.81, 0.9, 1]; response 2 [2, 1]: [2.9, 1].
        close(
            &reals_of(run(
                &ReturnToGo,
                tokens(&[0.0, 0.0, 1.0, 2.0, 1.0]),
                vec![gamma(0.9)],
            )),
            &[0.81, 0.9, 1.0, 2.9, 1.0],
        );
        // γ = 1 (default): plain suffix sums [1, 1, 1, 3, 1].
        close(
            &reals_of(run(&ReturnToGo, tokens(&[0.0, 0.0, 1.0, 2.0, 1.0]), vec![])),
            &[1.0, 1.0, 1.0, 3.0, 1.0],
        );
        // Segments: r0 [1, 2] → [3, 2]; r2 [1, 1, 1] with γ 0.5 → [1.75, 1.5, 1].
        let out = run(
            &ReturnToGo,
            segments(&[1.0, 2.0, 1.0, 1.0, 1.0]),
            vec![gamma(0.5)],
        )
        .unwrap();
        assert!(out.segs.is_some());
        close(&out.reals().unwrap(), &[2.0, 2.0, 1.75, 1.5, 1.0]);
    }

    #[test]
    fn first_difference_telescopes() {
        // Clip/Delta: r0 [0.3, 0.5] → [−0.2, 0.5]; r2 [−0.1, −0.4, 0] → [0.3, −0.4, 0].
        let out = reals_of(run(
            &FirstDifference,
            segments(&[0.3, 0.5, -0.1, -0.4, 0.0]),
            vec![],
        ));
        close(&out, &[0.3 - 0.5, 0.5, -0.1 + 0.4, -0.4, 0.0]);
        // Return-to-go of the differences gives back x.
        let back = reals_of(run(&ReturnToGo, segments(&out), vec![]));
        close(&back, &[0.3, 0.5, -0.1, -0.4, 0.0]);
    }

    #[test]
    fn backward_difference_with_initial() {
        // IGPO: P = r0 [0.2, 0.5], r2 [0.1, 0.4, 0.9] with P_0 = 0 → [0.2, 0.3, 0.1, 0.3, 0.5].
        close(
            &reals_of(run(
                &BackwardDifference,
                segments(&[0.2, 0.5, 0.1, 0.4, 0.9]),
                vec![],
            )),
            &[0.2, 0.3, 0.1, 0.3, 0.5],
        );
        // P_0 per response [0.1, 7, 0.05]: r0 [0.1, 0.3]; r2 [0.05, 0.3, 0.5].
        let init = ("initial", Arg::from(responses(&[0.1, 7.0, 0.05])));
        close(
            &reals_of(run(
                &BackwardDifference,
                segments(&[0.2, 0.5, 0.1, 0.4, 0.9]),
                vec![init],
            )),
            &[0.2 - 0.1, 0.3, 0.1 - 0.05, 0.3, 0.5],
        );
        // P_0 per group [0.1, 0.05]: same for r0 and r2 here.
        let init = (
            "initial",
            Arg::from(Value::new(
                Scope::Group,
                SetId::Main,
                Data::Real(vec![0.1, 0.05]),
            )),
        );
        close(
            &reals_of(run(
                &BackwardDifference,
                segments(&[0.2, 0.5, 0.1, 0.4, 0.9]),
                vec![init],
            )),
            &[0.2 - 0.1, 0.3, 0.1 - 0.05, 0.3, 0.5],
        );
        // A constant initial.
        let init = ("initial", constant(Const::Real(1.0)));
        close(
            &reals_of(run(
                &BackwardDifference,
                tokens(&[1.0, 2.0, 4.0, 0.0, 0.0]),
                vec![init],
            )),
            &[0.0, 1.0, 2.0, -1.0, 0.0],
        );
    }

    #[test]
    fn cumsum_and_cummax() {
        close(
            &reals_of(run(&Cumsum, tokens(&[1.0, 2.0, 3.0, 4.0, 5.0]), vec![])),
            &[1.0, 3.0, 6.0, 4.0, 9.0],
        );
        close(
            &reals_of(run(&Cummax, tokens(&[1.0, 3.0, 2.0, -4.0, -5.0]), vec![])),
            &[1.0, 3.0, 3.0, -4.0, -4.0],
        );
        close(
            &reals_of(run(
                &Cummax,
                tokens(&[1.0, f64::NAN, 2.0, 0.0, 1.0]),
                vec![],
            )),
            &[1.0, f64::NAN, f64::NAN, 0.0, 1.0],
        );
        close(
            &reals_of(run(&Cumsum, segments(&[1.0, 1.0, 2.0, 2.0, 2.0]), vec![])),
            &[1.0, 2.0, 2.0, 4.0, 6.0],
        );
    }

    #[test]
    fn response_values_are_sequences_of_one() {
        close(
            &reals_of(run(&FirstDifference, responses(&[1.0, 2.0, 3.0]), vec![])),
            &[1.0, 2.0, 3.0],
        );
        close(
            &reals_of(run(
                &ReturnToGo,
                responses(&[1.0, 2.0, 3.0]),
                vec![gamma(0.5)],
            )),
            &[1.0, 2.0, 3.0],
        );
        let init = (
            "initial",
            Arg::from(Value::new(
                Scope::Group,
                SetId::Main,
                Data::Real(vec![1.0, 2.0]),
            )),
        );
        close(
            &reals_of(run(
                &BackwardDifference,
                responses(&[1.0, 2.0, 3.0]),
                vec![init],
            )),
            &[0.0, 1.0, 1.0],
        );
    }

    #[test]
    fn mismatches_are_errors_and_empty_is_empty() {
        assert!(run(&Cumsum, tokens(&[1.0, 2.0]), vec![]).is_err());
        let mut no_segs = segments(&[1.0; 5]);
        no_segs.segs = None;
        assert!(run(&Cumsum, no_segs, vec![]).is_err());
        assert!(run(&Cumsum, segments(&[1.0; 4]), vec![]).is_err());
        let mut fx = Fixture::new(&[(&[""], json!({}))]);
        let c = call(
            "return_to_go",
            vec![("x", Arg::from(tokens(&[])))],
            (Scope::Token, Kind::Real),
            &[],
        );
        assert_eq!(
            reals_of(ReturnToGo.eval(&c, &mut fx.cx("s"))),
            Vec::<f64>::new()
        );
    }

    #[test]
    fn implements_every_registry_name_of_the_family() {
        let mut want: Vec<&str> = rlr_lang::registry::all()
            .into_iter()
            .filter(|b| {
                b.category == rlr_lang::registry::Category::Node(rlr_lang::registry::Family::Scan)
            })
            .map(|b| b.name)
            .collect();
        let mut have: Vec<&str> = ALL.iter().map(|n| n.name()).collect();
        want.sort_unstable();
        have.sort_unstable();
        assert_eq!(have, want);
    }
}
