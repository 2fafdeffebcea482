//! Running statistics across committed, discarded and restored steps.

use std::sync::Arc;

use rlr_lang::ir::Const;
use rlr_lang::{Kind, Scope};
use serde_json::json;

use super::*;
use crate::layout::{Segmentation, SetId};
use crate::node::Arg;
use crate::state::State;
use crate::testing::{Fixture, call, constant, reals_of, responses};

fn fixture() -> Fixture {
    Fixture::new(&[(&["a", "b"], json!({})), (&["c", "d"], json!({}))])
}

fn run(
    fx: &mut Fixture,
    name: &str,
    x: Value,
    extra: Vec<(&'static str, Arg<'static>)>,
    out: Scope,
) -> Vec<f64> {
    let node = super::super::lookup(name).unwrap_or_else(|| panic!("no `{name}`"));
    let mut args = vec![("x", Arg::from(x))];
    args.extend(extra);
    let c = call(name, args, (out, Kind::Real), &[]);
    reals_of(node.eval(&c, &mut fx.cx("stat")))
}

fn after() -> (&'static str, Arg<'static>) {
    ("update", constant(Const::Str("after".into())))
}

use crate::testing::assert_close as close;

#[test]
fn merge_matches_one_pass() {
    // [1, 2] then [3, 4, 5]: mean 3, population variance (4+1+0+1+4)/5 = 2.
    let m = Moments::of(&[1.0, 2.0]).merge(Moments::of(&[3.0, 4.0, 5.0]));
    assert_eq!(m.n, 5);
    close(
        &[m.mean, m.m2, m.std(), m.min, m.max],
        &[3.0, 10.0, 2f64.sqrt(), 1.0, 5.0],
    );
    assert_eq!(
        Moments::default().merge(Moments::of(&[])),
        Moments::default()
    );
}

#[test]
fn mean_and_std_across_committed_steps() {
    let mut fx = fixture();
    // Step 1, update before: [1, 2, 3, 4] → mean 2.5, population var 1.25.
    close(
        &run(
            &mut fx,
            "running_mean",
            responses(&[1.0, 2.0, 3.0, 4.0]),
            vec![],
            Scope::Batch,
        ),
        &[2.5],
    );
    fx.state.commit();
    // Step 2 (same binding key "stat"): [5, 6, 7, 8] merged: mean 4.5,
    // population var of 1..8 = (8² − 1)/12 = 5.25 → std 2.2912878.
    close(
        &run(
            &mut fx,
            "running_std",
            responses(&[5.0, 6.0, 7.0, 8.0]),
            vec![],
            Scope::Batch,
        ),
        &[5.25f64.sqrt()],
    );
    fx.state.commit();
    let m: Moments = fx.state.get("stat").unwrap();
    assert_eq!(m.n, 8);
    close(&[m.mean, m.min, m.max], &[4.5, 1.0, 8.0]);
}

#[test]
fn update_after_uses_committed_state() {
    let mut fx = fixture();
    // Nothing committed yet: PAR's initial mean 0.
    close(
        &run(
            &mut fx,
            "running_mean",
            responses(&[1.0, 2.0, 3.0, 4.0]),
            vec![after()],
            Scope::Batch,
        ),
        &[0.0],
    );
    // Within the step, a second evaluation still reads the committed (empty) state.
    close(
        &run(
            &mut fx,
            "running_mean",
            responses(&[1.0, 2.0, 3.0, 4.0]),
            vec![after()],
            Scope::Batch,
        ),
        &[0.0],
    );
    fx.state.commit();
    close(
        &run(
            &mut fx,
            "running_mean",
            responses(&[9.0, 9.0, 9.0, 9.0]),
            vec![after()],
            Scope::Batch,
        ),
        &[2.5],
    );
}

#[test]
fn discarded_step_leaves_state_unchanged() {
    let mut fx = fixture();
    run(
        &mut fx,
        "running_mean",
        responses(&[1.0, 2.0, 3.0, 4.0]),
        vec![],
        Scope::Batch,
    );
    fx.state.commit();
    let before = fx.state.clone();
    run(
        &mut fx,
        "running_mean",
        responses(&[100.0, 100.0, 100.0, 100.0]),
        vec![],
        Scope::Batch,
    );
    fx.state.discard();
    assert_eq!(fx.state, before);
    // The next step merges with the state of step 1 only: [1..4] + [0,0,0,0] → mean 10/8.
    close(
        &run(
            &mut fx,
            "running_mean",
            responses(&[0.0; 4]),
            vec![],
            Scope::Batch,
        ),
        &[1.25],
    );
}

#[test]
fn state_round_trips_through_serde() {
    let mut fx = fixture();
    run(
        &mut fx,
        "running_std",
        responses(&[1.0, 2.0, 3.0, 4.0]),
        vec![],
        Scope::Batch,
    );
    fx.state.commit();
    let text = serde_json::to_string(&fx.state).unwrap();
    let back: State = serde_json::from_str(&text).unwrap();
    assert_eq!(back, fx.state);
    let a: Moments = fx.state.get("stat").unwrap();
    let b: Moments = back.get("stat").unwrap();
    assert_eq!(a, b);
    // The restored state continues the statistics.
    fx.state = back;
    close(
        &run(
            &mut fx,
            "running_mean",
            responses(&[5.0, 6.0, 7.0, 8.0]),
            vec![],
            Scope::Batch,
        ),
        &[4.5],
    );
}

#[test]
fn zscore_uses_running_statistics() {
    let mut fx = fixture();
    // Step 1: [1, 2, 3, 4]: μ 2.5, σ sqrt(1.25) = 1.118034.
    let s = 1.25f64.sqrt();
    close(
        &run(
            &mut fx,
            "running_zscore",
            responses(&[1.0, 2.0, 3.0, 4.0]),
            vec![],
            Scope::Response,
        ),
        &[-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s],
    );
    fx.state.commit();
    // Step 2 with update after: the step-1 statistics apply to [5, 2.5, NaN, 0].
    close(
        &run(
            &mut fx,
            "running_zscore",
            responses(&[5.0, 2.5, f64::NAN, 0.0]),
            vec![after()],
            Scope::Response,
        ),
        &[2.5 / s, 0.0, f64::NAN, -2.5 / s],
    );
}

#[test]
fn zscore_with_zero_std_divides_by_one() {
    let mut fx = fixture();
    // All equal: μ 2, σ 0 → x − 2.
    close(
        &run(
            &mut fx,
            "running_zscore",
            responses(&[2.0; 4]),
            vec![],
            Scope::Response,
        ),
        &[0.0; 4],
    );
}

#[test]
fn clip_to_mean_plus_minus_k_std() {
    let mut fx = fixture();
    // [0, 0, 0, 4]: μ 1, population var (1+1+1+9)/4 = 3, σ 1.7320508.
    // k = 1: [1 − 1.732, 1 + 1.732] = [−0.732, 2.732]: 0 stays, 4 → 2.732.
    let s = 3f64.sqrt();
    close(
        &run(
            &mut fx,
            "running_clip",
            responses(&[0.0, 0.0, 0.0, 4.0]),
            vec![],
            Scope::Response,
        ),
        &[0.0, 0.0, 0.0, 1.0 + s],
    );
    fx.state.commit();
    // k = 0.5, update after: [1 − 0.866, 1 + 0.866]; −5 → 0.134, 1 stays, NaN stays NaN.
    close(
        &run(
            &mut fx,
            "running_clip",
            responses(&[-5.0, 1.0, f64::NAN, 5.0]),
            vec![("k", constant(Const::Real(0.5))), after()],
            Scope::Response,
        ),
        &[1.0 - 0.5 * s, 1.0, f64::NAN, 1.0 + 0.5 * s],
    );
}

#[test]
fn minmax_scales_and_handles_degenerate() {
    let mut fx = fixture();
    // One value seen so far everywhere: max = min → degenerate 0.5.
    close(
        &run(
            &mut fx,
            "running_minmax",
            responses(&[3.0; 4]),
            vec![],
            Scope::Response,
        ),
        &[0.5; 4],
    );
    fx.state.commit();
    // Step 2, before: min 1, max 5 (3 from step 1): (x − 1)/4.
    close(
        &run(
            &mut fx,
            "running_minmax",
            responses(&[1.0, 5.0, 2.0, 3.0]),
            vec![],
            Scope::Response,
        ),
        &[0.0, 1.0, 0.25, 0.5],
    );
    // Nothing committed and update after: degenerate.
    let mut fresh = fixture();
    close(
        &run(
            &mut fresh,
            "running_minmax",
            responses(&[1.0, 2.0, 3.0, 4.0]),
            vec![after(), ("degenerate", constant(Const::Real(0.0)))],
            Scope::Response,
        ),
        &[0.0; 4],
    );
}

#[test]
fn ema_starts_from_first_mean() {
    let mut fx = fixture();
    let beta = || ("beta", constant(Const::Real(0.9)));
    // Step 1: mean 2.5 → m = 2.5.
    close(
        &run(
            &mut fx,
            "ema",
            responses(&[1.0, 2.0, 3.0, 4.0]),
            vec![beta()],
            Scope::Batch,
        ),
        &[2.5],
    );
    fx.state.commit();
    // Step 2: mean 12.5 → 0.9 · 2.5 + 0.1 · 12.5 = 2.25 + 1.25 = 3.5.
    close(
        &run(
            &mut fx,
            "ema",
            responses(&[11.0, 12.0, 13.0, 14.0]),
            vec![beta()],
            Scope::Batch,
        ),
        &[3.5],
    );
    fx.state.commit();
    // Step 3 with update after: reads 3.5; a batch of NaN leaves it unchanged.
    close(
        &run(
            &mut fx,
            "ema",
            responses(&[f64::NAN; 4]),
            vec![beta(), after()],
            Scope::Batch,
        ),
        &[3.5],
    );
    fx.state.commit();
    let a: Average = fx.state.get("stat").unwrap();
    assert_eq!(a, Average { batches: 2, m: 3.5 });
}

#[test]
fn nan_and_infinite_values_do_not_enter_the_statistics() {
    let mut fx = fixture();
    close(
        &run(
            &mut fx,
            "running_mean",
            responses(&[1.0, f64::NAN, f64::INFINITY, 3.0]),
            vec![],
            Scope::Batch,
        ),
        &[2.0],
    );
    fx.state.commit();
    let m: Moments = fx.state.get("stat").unwrap();
    assert_eq!(m.n, 2);
}

#[test]
fn empty_batch_and_segment_values() {
    // An empty batch: mean 0 (nothing seen), no entries to transform.
    let mut empty = Fixture::new(&[]);
    close(
        &run(
            &mut empty,
            "running_mean",
            responses(&[]),
            vec![],
            Scope::Batch,
        ),
        &[0.0],
    );
    close(
        &run(
            &mut empty,
            "running_zscore",
            responses(&[]),
            vec![],
            Scope::Response,
        ),
        &[],
    );
    // Segment values keep their segmentation.
    let mut fx = fixture();
    let segs = Arc::new(Segmentation {
        seg_start: vec![0, 2, 2, 3, 3],
        end_token: vec![0, 0, 0],
        origin: "s".into(),
    });
    let x = Value {
        scope: Scope::Segment,
        set: SetId::Main,
        segs: Some(segs.clone()),
        data: Data::Real(vec![0.0, 2.0, 4.0]),
    };
    let node = super::super::lookup("running_zscore").unwrap();
    let c = call(
        "running_zscore",
        vec![("x", Arg::from(x))],
        (Scope::Segment, Kind::Real),
        &[],
    );
    let out = node.eval(&c, &mut fx.cx("seg")).unwrap();
    assert_eq!(out.segs, Some(segs));
    // μ 2, σ sqrt(8/3) = 1.6329932.
    let s = (8.0f64 / 3.0).sqrt();
    close(&out.reals().unwrap(), &[-2.0 / s, 0.0, 2.0 / s]);
}

#[test]
fn implements_every_registry_name_of_the_family() {
    let mut want: Vec<&str> = rlr_lang::registry::all()
        .into_iter()
        .filter(|b| {
            b.category
                == rlr_lang::registry::Category::Node(rlr_lang::registry::Family::RunningStat)
        })
        .map(|b| b.name)
        .collect();
    let mut have: Vec<&str> = ALL.iter().map(|n| n.name()).collect();
    want.sort_unstable();
    have.sort_unstable();
    assert_eq!(have, want);
}
