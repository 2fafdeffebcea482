//! Hand-computed checks of the normalisers.

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
    let mut cx = fx.cx("n");
    let value = node.eval(&c, &mut cx)?;
    assert!(cx.empty_partitions.is_empty());
    Ok(value)
}

use crate::testing::assert_close as close;

const R: (Scope, Kind) = (Scope::Response, Kind::Real);
const EPS: f64 = 1e-6;

/// Groups ["ab", "c", "d"] and ["xyz"] (a group of one).
fn fixture() -> Fixture {
    Fixture::new(&[(&["ab", "c", "d"], json!({})), (&["xyz"], json!({}))])
}

#[test]
fn grpo_zscore_with_a_group_of_one() {
    let mut fx = fixture();
    // Group 0: [1, 2, 3], mean 2, Bessel std √((1 + 0 + 1) / 2) = 1 → (x − 2) / (1 + 1e-6).
    // Group 1 has one member: mean 0, std 1 (verl) → 5 / (1 + 1e-6).
    let out = reals_of(run(
        &mut fx,
        "zscore",
        vec![("x", v(responses(&[1.0, 2.0, 3.0, 5.0])))],
        R,
    ));
    close(
        &out,
        &[
            -1.0 / (1.0 + EPS),
            0.0,
            1.0 / (1.0 + EPS),
            5.0 / (1.0 + EPS),
        ],
    );
    // Population std √(2/3) = 0.816496580927726.
    let out = reals_of(run(
        &mut fx,
        "zscore",
        vec![
            ("x", v(responses(&[1.0, 2.0, 3.0, 5.0]))),
            ("bessel", constant(Const::Bool(false))),
        ],
        R,
    ));
    let s = (2.0f64 / 3.0).sqrt() + EPS;
    close(&out, &[-1.0 / s, 0.0, 1.0 / s, 5.0 / (1.0 + EPS)]);
    // A constant group: std 0 → (x − x̄) / eps = 0.
    let out = reals_of(run(
        &mut fx,
        "zscore",
        vec![("x", v(responses(&[4.0, 4.0, 4.0, 0.0])))],
        R,
    ));
    close(&out, &[0.0, 0.0, 0.0, 0.0]);
}

#[test]
fn evol_rl_minmax_within_partitions() {
    // One group of five: novelty [0.2, 0.6, 0.4, 0.9, 0.3], base (correct) [T, T, T, F, T]...
    let mut fx = Fixture::new(&[(&["a", "b", "c", "d", "e"], json!({}))]);
    let base = flags(&[true, true, true, false, true]);
    let nov = responses(&[0.2, 0.6, 0.4, 0.9, 0.3]);
    // Correct part {0.2, 0.6, 0.4, 0.3}: min 0.2, max 0.6 → [0, 1, 0.5, 0.25];
    // the incorrect part is a singleton → degenerate 0.5.
    let once = reals_of(run(
        &mut fx,
        "minmax",
        vec![("x", v(nov)), ("by", v(base.clone()))],
        R,
    ));
    close(&once, &[0.0, 1.0, 0.5, 0.5, 0.25]);
    // The second min–max (EVOL-RL's band step) leaves it as it is; r_ok = 0.5 + 0.5·x.
    let twice = reals_of(run(
        &mut fx,
        "minmax",
        vec![("x", v(responses(&once))), ("by", v(base))],
        R,
    ));
    close(&twice, &once);
    let band: Vec<f64> = twice.iter().map(|x| 0.5 + 0.5 * x).collect();
    close(&band, &[0.5, 1.0, 0.75, 0.75, 0.625]);
    // All equal in a part → degenerate too (here 0.25); without `by`, the whole group.
    let out = reals_of(run(
        &mut fx,
        "minmax",
        vec![
            ("x", v(responses(&[0.3, 0.3, 0.3, 0.3, 0.3]))),
            ("degenerate", constant(Const::Real(0.25))),
        ],
        R,
    ));
    close(&out, &[0.25; 5]);
}

#[test]
fn label_partitions_and_batch_scope() {
    let mut fx = fixture();
    // `by` labels: "A", " a", "b" | "b": group 0 parts {0, 1} and {2}; group 1 {3}.
    let by = Value::new(
        Scope::Response,
        SetId::Main,
        Data::Label(vec![
            Some("A".into()),
            Some(" a".into()),
            Some("b".into()),
            Some("b".into()),
        ]),
    );
    // center: {1, 3} → [−1, 1]; {7} → 7 (one member: mean 0); {5} → 5.
    let out = reals_of(run(
        &mut fx,
        "center",
        vec![("x", v(responses(&[1.0, 3.0, 7.0, 5.0]))), ("by", v(by))],
        R,
    ));
    close(&out, &[-1.0, 1.0, 7.0, 5.0]);
    // over = "batch": mean of [1, 3, 7, 5] = 4 → [−3, −1, 3, 1].
    let out = reals_of(run(
        &mut fx,
        "center",
        vec![
            ("x", v(responses(&[1.0, 3.0, 7.0, 5.0]))),
            ("over", constant(Const::Str("batch".into()))),
        ],
        R,
    ));
    close(&out, &[-3.0, -1.0, 3.0, 1.0]);
}

#[test]
fn rank_with_ties() {
    let mut fx = Fixture::new(&[(&["a", "b", "c", "d"], json!({})), (&["e"], json!({}))]);
    // [3, 1, 3, 2]: ranks 1 → 1, 2 → 2, the two 3s share (3 + 4) / 2 = 3.5; (r − 1) / 3:
    // [2.5/3, 0, 2.5/3, 1/3]. The group of one gets `degenerate` = 0.5.
    let out = reals_of(run(
        &mut fx,
        "rank",
        vec![("x", v(responses(&[3.0, 1.0, 3.0, 2.0, 9.0])))],
        R,
    ));
    close(&out, &[2.5 / 3.0, 0.0, 2.5 / 3.0, 1.0 / 3.0, 0.5]);
}

#[test]
fn tokens_per_position_and_segments_jointly() {
    let mut fx = fixture();
    // Tokens: "ab" [1, 2], "c" [3], "d" [7] | "xyz" [4, 5, 6].
    let t = Value::new(
        Scope::Token,
        SetId::Main,
        Data::Real(vec![1.0, 2.0, 3.0, 7.0, 4.0, 5.0, 6.0]),
    );
    // Position 0 of group 0: {1, 3, 7}, mean 11/3 → [1 − 11/3, 3 − 11/3, 7 − 11/3];
    // position 1: {2} alone → 2. Group 1 has one response: unchanged.
    let out = run(
        &mut fx,
        "center",
        vec![("x", v(t))],
        (Scope::Token, Kind::Real),
    )
    .unwrap();
    assert_eq!(out.scope, Scope::Token);
    let m = 11.0 / 3.0;
    close(
        &reals_of(Ok(out)),
        &[1.0 - m, 2.0, 3.0 - m, 7.0 - m, 4.0, 5.0, 6.0],
    );
    // Segments: response 0 has [1, 3], response 1 none, response 2 [5] | response 3 [2].
    let segs = Arc::new(Segmentation {
        seg_start: vec![0, 2, 2, 3, 4],
        end_token: vec![0, 1, 0, 2],
        origin: "steps".into(),
    });
    let x = Value {
        scope: Scope::Segment,
        set: SetId::Main,
        segs: Some(segs),
        data: Data::Real(vec![1.0, 3.0, 5.0, 2.0]),
    };
    // Group 0 jointly {1, 3, 5}: mean 3, Bessel std 2 → [−2, 0, 2] / (2 + 1e-6); group 1 {2} → 2 / (1 + 1e-6).
    let out = run(
        &mut fx,
        "zscore",
        vec![("x", v(x))],
        (Scope::Segment, Kind::Real),
    )
    .unwrap();
    assert!(out.segs.is_some());
    let s = 2.0 + EPS;
    close(
        &reals_of(Ok(out)),
        &[-2.0 / s, 0.0, 2.0 / s, 2.0 / (1.0 + EPS)],
    );
}

#[test]
fn nan_entries_stay_nan() {
    let mut fx = fixture();
    // Group 0: [1, NaN, 3] → statistics over {1, 3}: min–max → [0, NaN, 1].
    let out = reals_of(run(
        &mut fx,
        "minmax",
        vec![("x", v(responses(&[1.0, f64::NAN, 3.0, 2.0])))],
        R,
    ));
    close(&out, &[0.0, f64::NAN, 1.0, 0.5]);
    // All NaN: NaN out, no error.
    let out = reals_of(run(
        &mut fx,
        "zscore",
        vec![("x", v(responses(&[f64::NAN; 4])))],
        R,
    ));
    assert!(out.iter().all(|x| x.is_nan()));
}

#[test]
fn renorm_is_sign_consistent() {
    let mut fx = fixture();
    let segs = Arc::new(Segmentation {
        seg_start: vec![0, 2, 2, 3, 3],
        end_token: vec![0, 1, 0],
        origin: "turns".into(),
    });
    let p = Value {
        scope: Scope::Segment,
        set: SetId::Main,
        segs: Some(segs),
        data: Data::Real(vec![0.8, 0.3, 1.0]),
    };
    // Outcome [1, 0, 0, 1]: segments of response 0 → 0.8 + 1 − 1 = 0.8, 0.3; of response 2 → 1 + 0 − 1 = 0.
    let out = run(
        &mut fx,
        "renorm",
        vec![
            ("process", v(p)),
            ("outcome", v(responses(&[1.0, 0.0, 0.0, 1.0]))),
        ],
        (Scope::Segment, Kind::Real),
    )
    .unwrap();
    close(&reals_of(Ok(out)), &[0.8, 0.3, 0.0]);
    // Response-scope process: 0.2 + 0 − 1 = −0.8 (wrong outcome → non-positive).
    let out = reals_of(run(
        &mut fx,
        "renorm",
        vec![
            ("process", v(responses(&[0.2, 1.0, 0.0, 0.5]))),
            ("outcome", v(responses(&[0.0, 1.0, 1.0, 1.0]))),
        ],
        R,
    ));
    close(&out, &[-0.8, 1.0, 0.0, 0.5]);
}

#[test]
fn errors_and_empty_batches() {
    let mut fx = fixture();
    assert!(run(&mut fx, "zscore", vec![("x", v(responses(&[1.0, 2.0])))], R).is_err());
    assert!(
        run(
            &mut fx,
            "zscore",
            vec![("x", v(responses(&[1.0; 4]))), ("by", v(flags(&[true])))],
            R
        )
        .is_err()
    );
    let mut empty = Fixture::new(&[]);
    let out = run(&mut empty, "rank", vec![("x", v(responses(&[])))], R).unwrap();
    assert_eq!(out.data, Data::Real(vec![]));
}
