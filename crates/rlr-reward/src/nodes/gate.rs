//! Node family: gate — conditions that select or zero other rewards
//! (methods.md §P.2 node 10).
//!
//! Gates select: where a gate is closed the gated value is not read, so a
//! NaN there does not leak into the result (r̃ = value · 1[cond] would give
//! NaN · 0 = NaN). A coarser condition broadcasts down to the gated values.

use rlr_lang::Scope;

use crate::error::{EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

use super::map::common::{align_all, map_real, signal};

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[&Gate, &GatedSum, &Gra];

/// `gate`: value where cond holds, else `otherwise`: r̃ = value · 1[cond] +
/// otherwise · 1[¬cond] (as a selection: the unselected side is not read). A
/// response condition gates segment rewards (G-RA: `gate(outcome >= delta,
/// turn_reward)`); a task label routes between rewards (AlphaAlign:
/// `gate(sample.harmful, refusal, helpful)`).
///
/// [2ND] G-RA gate (arXiv:2508.10548); [INFER] AlphaAlign routing by prompt safety label.
pub(crate) struct Gate;

impl Node for Gate {
    fn name(&self) -> &'static str {
        "gate"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let otherwise = signal(call, "otherwise")?;
        map_real(
            call,
            cx,
            &[call.value("cond")?, call.value("value")?, &otherwise],
            |r| {
                if r[0] != 0.0 { r[1] } else { r[2] }
            },
        )
    }
}

/// `gated_sum`: chained gates over K reward channels in priority order: R =
/// Σ_i x_i · Π_{j < i} 1[x_j >= δ_j]; a channel counts only if every
/// higher-priority channel meets its threshold (a NaN channel fails its
/// threshold). The thresholds come first: `gated_sum([1, 0.5], outcome,
/// format, steps)`; there must be K − 1 of them.
///
/// [2ND] G-RA K-level form (arXiv:2508.10548).
pub(crate) struct GatedSum;

impl Node for GatedSum {
    fn name(&self) -> &'static str {
        "gated_sum"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let deltas = call.reals("thresholds")?;
        let xs = call.values("x");
        if xs.is_empty() || deltas.len() + 1 != xs.len() {
            return Err(EvalError::new(format!(
                "`gated_sum` has {} thresholds for {} channels; give one threshold for every channel but the last",
                deltas.len(),
                xs.len()
            )));
        }
        map_real(call, cx, &xs, |r| {
            let mut total = 0.0;
            for (i, x) in r.iter().enumerate() {
                total += x;
                // A NaN channel fails its threshold.
                if i < deltas.len() && (x.is_nan() || *x < deltas[i]) {
                    break;
                }
            }
            total
        })
    }
}

/// `gra`: Gated Reward Accumulation: R = r^high + Σ_t r^low_t · 1[r^high >= δ].
/// Too low a δ lets dense rewards grow while the outcome falls (D-RA); too
/// high leaves them unused. To place each gated turn reward at its turn's end
/// instead of summing, use `gate`. With per-turn (segment) low rewards the sum
/// runs over the response's segments (none: 0).
///
/// [2ND] G-RA (arXiv:2508.10548), emergentmind topic pages; per-turn placement [INFER].
pub(crate) struct Gra;

impl Node for Gra {
    fn name(&self) -> &'static str {
        "gra"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let delta = call.real("delta")?;
        let high = call.value("high")?;
        let low = call.value("low")?;
        if high.scope > Scope::Response {
            return Err(EvalError::new(format!(
                "`gra`: `high` must be one value per response, not per {}",
                high.scope
            )));
        }
        let high = align_all(call, cx, &[high])?;
        let high = kit::reals(&high.values[0], "high")?.into_owned();
        let n = high.len();
        // Σ_t r^low_t per response.
        let low_sums: Vec<f64> = if low.scope == Scope::Segment {
            let segs = low.segs.as_ref().ok_or_else(|| {
                EvalError::new("`gra`: segment rewards came without their segmentation")
            })?;
            let xs = kit::reals(low, "low")?;
            if segs.seg_start.len() != n + 1 || xs.len() != segs.len() {
                return Err(EvalError::new(format!(
                    "`gra`: {} segment rewards over {} segments of {} responses for {n} responses",
                    xs.len(),
                    segs.len(),
                    segs.seg_start.len().saturating_sub(1)
                )));
            }
            (0..n).map(|r| segs.of(r).map(|s| xs[s]).sum()).collect()
        } else if low.scope <= Scope::Response {
            let aligned = align_all(call, cx, &[low])?;
            kit::reals(&aligned.values[0], "low")?.into_owned()
        } else {
            return Err(EvalError::new(format!(
                "`gra`: `low` must be per response or per segment, not per {}",
                low.scope
            )));
        };
        let out = high
            .iter()
            .zip(&low_sums)
            .map(|(h, l)| if *h >= delta { h + l } else { *h })
            .collect();
        Ok(kit::output(call, Data::Real(out), None))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rlr_lang::ir::Const;
    use rlr_lang::{Kind, Scope};
    use serde_json::json;

    use crate::layout::{Segmentation, SetId};
    use crate::node::Arg;
    use crate::nodes::lookup;
    use crate::testing::{Fixture, call, constant, flags, reals_of, responses};
    use crate::value::{Data, Value};

    fn v(x: Value) -> Arg<'static> {
        Arg::from(x)
    }

    fn run(
        fx: &mut Fixture,
        name: &str,
        args: Vec<(&'static str, Arg<'static>)>,
        out: (Scope, Kind),
    ) -> crate::Result<Value> {
        let node = lookup(name).expect("implemented");
        let c = call(name, args, out, &[]);
        let mut cx = fx.cx("g");
        node.eval(&c, &mut cx)
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

    const R: (Scope, Kind) = (Scope::Response, Kind::Real);

    /// Groups of two and one responses.
    fn fixture() -> Fixture {
        Fixture::new(&[(&["ab", "c"], json!({})), (&["xyz"], json!({}))])
    }

    /// Response 0 has turns [0.5, 0.25], response 1 none, response 2 [1].
    fn turns(values: &[f64]) -> Value {
        let segs = Arc::new(Segmentation {
            seg_start: vec![0, 2, 2, 3],
            end_token: vec![0, 1, 2],
            origin: "turns".into(),
        });
        Value {
            scope: Scope::Segment,
            set: SetId::Main,
            segs: Some(segs),
            data: Data::Real(values.to_vec()),
        }
    }

    #[test]
    fn gate_selects_and_broadcasts() {
        let mut fx = fixture();
        // `otherwise` defaults to 0; a NaN behind a closed gate does not leak.
        let out = reals_of(run(
            &mut fx,
            "gate",
            vec![
                ("cond", v(flags(&[true, false, true]))),
                ("value", v(responses(&[2.0, f64::NAN, 3.0]))),
            ],
            R,
        ));
        close(&out, &[2.0, 0.0, 3.0]);
        // Atom-Searcher: gate(fmt_ok, mix, -1).
        let out = reals_of(run(
            &mut fx,
            "gate",
            vec![
                ("cond", v(flags(&[false, true, true]))),
                ("value", v(responses(&[0.7, 0.8, 0.9]))),
                ("otherwise", v(Value::real(-1.0))),
            ],
            R,
        ));
        close(&out, &[-1.0, 0.8, 0.9]);
        // AlphaAlign: a per-prompt label routes: harmful = [true, false] per group.
        let harmful = Value::new(Scope::Group, SetId::Main, Data::Bool(vec![true, false]));
        let out = reals_of(run(
            &mut fx,
            "gate",
            vec![
                ("cond", v(harmful)),
                ("value", v(responses(&[1.0, 2.0, 3.0]))),
                ("otherwise", v(responses(&[10.0, 20.0, 30.0]))),
            ],
            R,
        ));
        close(&out, &[1.0, 2.0, 30.0]);
        // G-RA per turn: a response condition gates segment rewards.
        let out = run(
            &mut fx,
            "gate",
            vec![
                ("cond", v(flags(&[false, true, true]))),
                ("value", v(turns(&[0.5, 0.25, 1.0]))),
            ],
            (Scope::Segment, Kind::Real),
        )
        .unwrap();
        assert!(out.segs.is_some());
        close(&reals_of(Ok(out)), &[0.0, 0.0, 1.0]);
    }

    #[test]
    fn gra_chain_with_one_gate_closed() {
        let mut fx = fixture();
        // δ = 1: r^high = [1, 0, 2]. Response 0: open → 1 + (0.5 + 0.25) = 1.75. Response 1: closed →
        // 0 (it has no turns anyway). Response 2: open → 2 + 1 = 3.
        let args = |high: &[f64]| {
            vec![
                ("high", v(responses(high))),
                ("low", v(turns(&[0.5, 0.25, 1.0]))),
                ("delta", constant(Const::Real(1.0))),
            ]
        };
        close(
            &reals_of(run(&mut fx, "gra", args(&[1.0, 0.0, 2.0]), R)),
            &[1.75, 0.0, 3.0],
        );
        // Gate of response 0 closed (0.5 < 1): its turn rewards are dropped → 0.5.
        close(
            &reals_of(run(&mut fx, "gra", args(&[0.5, 0.0, 2.0]), R)),
            &[0.5, 0.0, 3.0],
        );
        // Response-scope low rewards: R = high + low where open.
        let out = reals_of(run(
            &mut fx,
            "gra",
            vec![
                ("high", v(responses(&[1.0, 0.0, 2.0]))),
                ("low", v(responses(&[0.4, 9.0, f64::NAN]))),
                ("delta", constant(Const::Real(1.0))),
            ],
            R,
        ));
        close(&out, &[1.4, 0.0, f64::NAN]);
        // K-level chain: thresholds [1, 0.5] over (outcome, format, steps).
        // Entry 0: outcome 1 ≥ 1 open, format 0.6 ≥ 0.5 open → 1 + 0.6 + 0.3 = 1.9.
        // Entry 1: outcome 1 open, format 0.2 < 0.5 closes the steps channel → 1 + 0.2 = 1.2.
        // Entry 2: outcome 0 < 1 closes both lower channels → 0.
        let out = reals_of(run(
            &mut fx,
            "gated_sum",
            vec![
                (
                    "thresholds",
                    constant(Const::List(vec![Const::Int(1), Const::Real(0.5)])),
                ),
                ("x", v(responses(&[1.0, 1.0, 0.0]))),
                ("x", v(responses(&[0.6, 0.2, 0.9]))),
                ("x", v(responses(&[0.3, 0.3, 0.3]))),
            ],
            R,
        ));
        close(&out, &[1.9, 1.2, 0.0]);
    }

    #[test]
    fn gate_errors_not_panics() {
        let mut fx = fixture();
        // Wrong threshold count.
        let e = run(
            &mut fx,
            "gated_sum",
            vec![
                ("thresholds", constant(Const::List(vec![]))),
                ("x", v(responses(&[1.0; 3]))),
                ("x", v(responses(&[1.0; 3]))),
            ],
            R,
        )
        .unwrap_err();
        assert!(e.message.contains("thresholds"));
        // Mismatched lengths.
        assert!(
            run(
                &mut fx,
                "gate",
                vec![
                    ("cond", v(flags(&[true]))),
                    ("value", v(responses(&[1.0; 3])))
                ],
                R
            )
            .is_err()
        );
        let tokens = Value::new(Scope::Token, SetId::Main, Data::Real(vec![0.0; 6]));
        assert!(
            run(
                &mut fx,
                "gra",
                vec![
                    ("high", v(tokens)),
                    ("low", v(responses(&[0.0; 3]))),
                    ("delta", constant(Const::Real(0.0)))
                ],
                R
            )
            .is_err()
        );
        // Empty batch.
        let mut empty = Fixture::new(&[]);
        let out = run(
            &mut empty,
            "gra",
            vec![
                ("high", v(responses(&[]))),
                ("low", v(responses(&[]))),
                ("delta", constant(Const::Real(0.0))),
            ],
            R,
        )
        .unwrap();
        assert_eq!(out.data, Data::Real(vec![]));
    }
}
