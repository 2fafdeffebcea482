//! Hand-computed advantages.

use std::sync::Arc;

use rlr_lang::ir::Const;
use rlr_lang::{Kind, Scope};
use serde_json::json;

use super::*;
use crate::layout::{Segmentation, SetId};
use crate::node::Arg;
use crate::testing::{Fixture, call, constant, flags, reals_of, responses};

const EPS: f64 = 1e-6;

fn run(
    fx: &mut Fixture,
    node: &dyn Node,
    r: Value,
    extra: Vec<(&'static str, Arg<'static>)>,
) -> Result<Value> {
    let mut args = vec![("r", Arg::from(r))];
    args.extend(extra);
    let c = call(node.name(), args, (Scope::Token, Kind::Real), &[]);
    node.eval(&c, &mut fx.cx("adv"))
}

fn close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-9, "{a:?} vs {b:?}");
    }
}

fn tokens(xs: &[f64]) -> Value {
    Value::new(Scope::Token, SetId::Main, Data::Real(xs.to_vec()))
}

/// One group of four responses with 2, 1, 2 and 1 tokens.
fn four() -> Fixture {
    Fixture::new(&[(&["ab", "c", "de", "f"], json!({}))])
}

#[test]
fn grpo_bessel_z_score() {
    // R = [1, 0, 0, 1]: mean 0.5, Bessel std sqrt((4 · 0.25)/3) = 0.577350269;
    // A = ±0.5 / (0.577350269 + 1e-6) = ±0.866023...
    let s = (1.0f64 / 3.0).sqrt();
    let (p, n) = (0.5 / (s + EPS), -0.5 / (s + EPS));
    assert!((p - 0.866_023_9).abs() < 1e-6);
    let out = run(&mut four(), &Grpo, responses(&[1.0, 0.0, 0.0, 1.0]), vec![]).unwrap();
    assert_eq!(out.scope, Scope::Token);
    close(&out.reals().unwrap(), &[p, p, n, n, n, p]);
    // Population std (bessel = false): sqrt(0.25) = 0.5 → ±0.5/0.500001.
    let pop = run(
        &mut four(),
        &Grpo,
        responses(&[1.0, 0.0, 0.0, 1.0]),
        vec![("bessel", constant(Const::Bool(false)))],
    );
    let q = 0.5 / (0.5 + EPS);
    close(&reals_of(pop), &[q, q, -q, -q, -q, q]);
}

#[test]
fn grpo_from_token_rewards_and_groups_of_one() {
    // Token rewards summed: [0, 1 | 0 | 0, 0 | 1] → R = [1, 0, 0, 1] as above.
    let s = (1.0f64 / 3.0).sqrt();
    let (p, n) = (0.5 / (s + EPS), -0.5 / (s + EPS));
    close(
        &reals_of(run(
            &mut four(),
            &Grpo,
            tokens(&[0.0, 1.0, 0.0, 0.0, 0.0, 1.0]),
            vec![],
        )),
        &[p, p, n, n, n, p],
    );
    // Groups of one: mean 0, std 1 → A = R / (1 + eps); a constant group → 0.
    let mut fx = Fixture::new(&[(&["ab"], json!({})), (&["c", "d"], json!({}))]);
    close(
        &reals_of(run(&mut fx, &Grpo, responses(&[2.0, 1.0, 1.0]), vec![])),
        &[2.0 / (1.0 + EPS), 2.0 / (1.0 + EPS), 0.0, 0.0],
    );
}

#[test]
fn grpo_zero_token_response_and_empty_batch() {
    // R = [1, 0, 0], the middle response has no tokens: mean 1/3, Bessel std
    // sqrt((4/9 + 1/9 + 1/9)/2) = sqrt(1/3); A0 = (2/3)/0.57735 = 1.1547, A2 = −0.57735.
    let mut fx = Fixture::new(&[(&["ab", "", "c"], json!({}))]);
    let s = (1.0f64 / 3.0).sqrt() + EPS;
    close(
        &reals_of(run(&mut fx, &Grpo, responses(&[1.0, 0.0, 0.0]), vec![])),
        &[(2.0 / 3.0) / s, (2.0 / 3.0) / s, (-1.0 / 3.0) / s],
    );
    let mut empty = Fixture::new(&[]);
    for node in ALL {
        assert_eq!(
            reals_of(run(&mut empty, *node, responses(&[]), vec![])),
            Vec::<f64>::new(),
            "{}",
            node.name()
        );
    }
}

#[test]
fn nan_rewards_and_segment_rewards_are_errors() {
    let err = run(
        &mut four(),
        &Grpo,
        responses(&[1.0, f64::NAN, 0.0, 1.0]),
        vec![],
    )
    .unwrap_err();
    assert_eq!(
        err.at.as_ref().map(|a| (a.group, a.rollout)),
        Some((0, Some(1)))
    );
    let err = run(
        &mut four(),
        &ReinforcePp,
        tokens(&[0.0, 0.0, 0.0, 0.0, f64::NAN, 0.0]),
        vec![],
    )
    .unwrap_err();
    assert_eq!(err.at.as_ref().map(|a| a.rollout), Some(Some(2)));
    assert!(run(&mut four(), &Rloo, responses(&[1.0, 0.0]), vec![]).is_err());
    let segs = Segmentation {
        seg_start: vec![0, 1, 1, 1, 1],
        end_token: vec![0],
        origin: "s".into(),
    };
    let seg = Value {
        scope: Scope::Segment,
        set: SetId::Main,
        segs: Some(Arc::new(segs)),
        data: Data::Real(vec![1.0]),
    };
    assert!(run(&mut four(), &Grpo, seg, vec![]).is_err());
}

#[test]
fn dr_grpo_centres_only() {
    // [1, 0, 0, 1] − 0.5.
    close(
        &reals_of(run(
            &mut four(),
            &DrGrpo,
            responses(&[1.0, 0.0, 0.0, 1.0]),
            vec![],
        )),
        &[0.5, 0.5, -0.5, -0.5, -0.5, 0.5],
    );
    // A group of one keeps R (verl's mean 0); [3, 1] − 2 = [1, −1].
    let mut fx = Fixture::new(&[(&["a"], json!({})), (&["b", "c"], json!({}))]);
    close(
        &reals_of(run(&mut fx, &DrGrpo, responses(&[0.7, 3.0, 1.0]), vec![])),
        &[0.7, 1.0, -1.0],
    );
}

#[test]
fn rloo_leaves_one_out() {
    // [1, 0, 0]: A1 = 1 − (0 + 0)/2 = 1, A2 = A3 = 0 − (1 + 0)/2 = −0.5.
    let mut fx = Fixture::new(&[(&["a", "b", "c"], json!({})), (&["d"], json!({}))]);
    close(
        &reals_of(run(
            &mut fx,
            &Rloo,
            responses(&[1.0, 0.0, 0.0, 5.0]),
            vec![],
        )),
        &[1.0, -0.5, -0.5, 0.0],
    );
}

#[test]
fn reinforce_pp_whitens_over_the_batch() {
    // Response rewards [1, 0] on "abc" and "de": tokens [0, 0, 1 | 0, 0], returns
    // G = [1, 1, 1, 0, 0]; mean 0.6, Bessel var (3 · 0.16 + 2 · 0.36)/4 = 0.3.
    let mut fx = Fixture::new(&[(&["abc"], json!({})), (&["de"], json!({}))]);
    let s = 0.3f64.sqrt() + EPS;
    close(
        &reals_of(run(&mut fx, &ReinforcePp, responses(&[1.0, 0.0]), vec![])),
        &[0.4 / s, 0.4 / s, 0.4 / s, -0.6 / s, -0.6 / s],
    );
    // Token rewards [1, 0, 0 | 0, 2]: G = [1, 0, 0, 2, 2], mean 1, var 4/4 = 1.
    let d = 1.0 + EPS;
    close(
        &reals_of(run(
            &mut fx,
            &ReinforcePp,
            tokens(&[1.0, 0.0, 0.0, 0.0, 2.0]),
            vec![],
        )),
        &[0.0, -1.0 / d, -1.0 / d, 1.0 / d, 1.0 / d],
    );
    // One token in the whole batch: std 0 → 0.
    let mut one = Fixture::new(&[(&["a"], json!({}))]);
    close(
        &reals_of(run(&mut one, &ReinforcePp, responses(&[3.0]), vec![])),
        &[0.0],
    );
}

#[test]
fn per_position_baseline() {
    // "abc" tokens [0, 0.5, 1] and "de" [1, 0], γ = 1: G0 = [1.5, 1.5, 1], G1 = [1, 0].
    // Position 0: mean 1.25 → [0.25, −0.25]; position 1: mean 0.75 → [0.75, −0.75];
    // position 2: only response 0 → 0.
    let mut fx = Fixture::new(&[(&["abc", "de"], json!({}))]);
    let r = tokens(&[0.0, 0.5, 1.0, 1.0, 0.0]);
    close(
        &reals_of(run(&mut fx, &PerPosition, r.clone(), vec![])),
        &[0.25, 0.75, 0.0, -0.25, -0.75],
    );
    // γ = 0.5: G0 = [0.5, 1, 1], G1 = [1, 0]; means 0.75, 0.5, 1.
    let half = ("gamma", constant(Const::Real(0.5)));
    close(
        &reals_of(run(&mut fx, &PerPosition, r, vec![half])),
        &[-0.25, 0.5, 0.0, 0.25, -0.5],
    );
    // A response reward counts at the last token: [1, 0] → G0 = [1, 1, 1], G1 = [0, 0].
    close(
        &reals_of(run(&mut fx, &PerPosition, responses(&[1.0, 0.0]), vec![])),
        &[0.5, 0.5, 0.0, -0.5, -0.5],
    );
}

#[test]
fn grpo_process_normalises_steps_jointly() {
    // "abc" steps 1 at t0 and 0.5 at t2; "de" step −0.5 at t1. Steps [1, 0.5, −0.5]:
    // mean 1/3, Bessel std sqrt(7/12) = 0.763763; r̃ = [0.872872, 0.218218, −1.091089].
    let mut fx = Fixture::new(&[(&["abc", "de"], json!({}))]);
    let s = (7.0f64 / 12.0).sqrt() + EPS;
    let n = |v: f64| (v - 1.0 / 3.0) / s;
    let want = [n(1.0) + n(0.5), n(0.5), n(0.5), n(-0.5), n(-0.5)];
    close(
        &reals_of(run(
            &mut fx,
            &GrpoProcess,
            tokens(&[1.0, 0.0, 0.5, 0.0, -0.5]),
            vec![],
        )),
        &want,
    );
    assert!((want[0] - 1.091_089).abs() < 1e-5 && (want[3] + 1.091_089).abs() < 1e-5);
    // The same steps as segments (ends 0 and 2; 1), including a step reward of 0
    // (segment ending at token 1 of "abc") that token values could not show:
    // steps [1, 0, 0.5, −0.5]: mean 0.25, Bessel var (0.5625 + 0.0625 + 0.0625 + 0.5625)/3.
    let segs = Segmentation {
        seg_start: vec![0, 3, 4],
        end_token: vec![0, 1, 2, 1],
        origin: "steps".into(),
    };
    let seg = Value {
        scope: Scope::Segment,
        set: SetId::Main,
        segs: Some(Arc::new(segs)),
        data: Data::Real(vec![1.0, 0.0, 0.5, -0.5]),
    };
    let s = (1.25f64 / 3.0).sqrt() + EPS;
    let n = |v: f64| (v - 0.25) / s;
    close(
        &reals_of(run(&mut fx, &GrpoProcess, seg, vec![])),
        &[
            n(1.0) + n(0.0) + n(0.5),
            n(0.0) + n(0.5),
            n(0.5),
            n(-0.5),
            n(-0.5),
        ],
    );
}

#[test]
fn grpo_process_of_outcome_rewards_is_grpo() {
    let grpo = reals_of(run(
        &mut four(),
        &Grpo,
        responses(&[1.0, 0.0, 0.0, 1.0]),
        vec![],
    ));
    close(
        &reals_of(run(
            &mut four(),
            &GrpoProcess,
            responses(&[1.0, 0.0, 0.0, 1.0]),
            vec![],
        )),
        &grpo,
    );
    // No steps at all: zero advantages.
    close(
        &reals_of(run(&mut four(), &GrpoProcess, tokens(&[0.0; 6]), vec![])),
        &[0.0; 6],
    );
}

/// `run` with `call.partition` set, as an objective's `where` sets it.
fn run_kept(fx: &mut Fixture, node: &dyn Node, r: Value, kept: Value) -> Result<Value> {
    let mut c = call(
        node.name(),
        vec![("r", Arg::from(r))],
        (Scope::Token, Kind::Real),
        &[],
    );
    c.partition = Some(Arc::new(kept));
    node.eval(&c, &mut fx.cx("adv"))
}

#[test]
fn a_partition_selects_the_rollouts_every_statistic_is_over() {
    // R = [1, 0, 0, 1] on "ab", "c", "de", "f"; keep 0, 1, 3: R = [1, 0, 1].
    let kept = || flags(&[true, true, false, true]);
    let r = || responses(&[1.0, 0.0, 0.0, 1.0]);
    // GRPO: mean 2/3, Bessel std √(1/3).
    let s = (1.0f64 / 3.0).sqrt() + EPS;
    let (p, n) = ((1.0 - 2.0 / 3.0) / s, (0.0 - 2.0 / 3.0) / s);
    close(
        &reals_of(run_kept(&mut four(), &Grpo, r(), kept())),
        &[p, p, n, 0.0, 0.0, p],
    );
    // Per-position: position 0 over the kept three (G = 1, 0, 1; mean 2/3),
    // position 1 over "ab" alone (0).
    close(
        &reals_of(run_kept(&mut four(), &PerPosition, r(), kept())),
        &[1.0 / 3.0, 0.0, -2.0 / 3.0, 0.0, 0.0, 1.0 / 3.0],
    );
    // GRPO process on outcome rewards is GRPO, here too.
    close(
        &reals_of(run_kept(&mut four(), &GrpoProcess, r(), kept())),
        &[p, p, n, 0.0, 0.0, p],
    );
    // A group bool broadcasts to its rollouts; a token bool is refused.
    let group = Value::new(Scope::Group, SetId::Main, Data::Bool(vec![false]));
    close(
        &reals_of(run_kept(&mut four(), &Rloo, r(), group)),
        &[0.0; 6],
    );
    let per_token = Value::new(Scope::Token, SetId::Main, Data::Bool(vec![true; 6]));
    let err = run_kept(&mut four(), &Grpo, r(), per_token).expect_err("tokens");
    assert!(err.to_string().contains("selects rollouts"), "{err}");
}

#[test]
fn estimator_names_match_the_stage_setting() {
    for (setting, node) in [
        ("grpo", "advantage.grpo"),
        ("dr_grpo", "advantage.dr_grpo"),
        ("rloo", "advantage.rloo"),
        ("reinforce_pp", "advantage.reinforce_pp"),
        ("per_position", "advantage.per_position"),
    ] {
        assert_eq!(estimator(setting).map(|n| n.name()), Some(node));
    }
    assert!(estimator("gae").is_none());
    assert!(estimator("advantage.grpo").is_none());
}

#[test]
fn implements_every_registry_name_of_the_family() {
    let mut want: Vec<&str> = rlr_lang::registry::all()
        .into_iter()
        .filter(|b| {
            b.category == rlr_lang::registry::Category::Node(rlr_lang::registry::Family::Advantage)
        })
        .map(|b| b.name)
        .collect();
    let mut have: Vec<&str> = ALL.iter().map(|n| n.name()).collect();
    want.sort_unstable();
    have.sort_unstable();
    assert_eq!(have, want);
}
