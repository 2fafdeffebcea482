//! Hand-computed checks of the combinators.

use std::sync::Arc;

use rlr_lang::ir::Const;
use rlr_lang::{Kind, Scope};
use serde_json::json;

use crate::layout::{Segmentation, SetId};
use crate::node::Arg;
use crate::nodes::lookup;
use crate::testing::{Fixture, call, constant, reals_of, responses};
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
    let mut cx = fx.cx("c");
    node.eval(&c, &mut cx)
}

use crate::testing::assert_close as close;

/// Groups ["a", "b"] and ["c"] (a group of one).
fn fixture() -> Fixture {
    Fixture::new(&[(&["a", "bb"], json!({})), (&["c"], json!({}))])
}

const R: (Scope, Kind) = (Scope::Response, Kind::Real);

fn group(xs: &[f64]) -> Value {
    Value::new(Scope::Group, SetId::Main, Data::Real(xs.to_vec()))
}

#[test]
fn maximum_minimum_with_broadcast() {
    let mut fx = fixture();
    // PEARL: max(evidence, 0.5) with evidence per group [0.3, 0.8] → [0.5, 0.8] on each response.
    let out = reals_of(run(
        &mut fx,
        "maximum",
        vec![("x", v(group(&[0.3, 0.8]))), ("x", v(Value::real(0.5)))],
        R,
    ));
    close(&out, &[0.5, 0.5, 0.8]);
    // min(r, 4) (PAR Ceil): [3, 5, NaN] → [3, 4, NaN].
    let out = reals_of(run(
        &mut fx,
        "minimum",
        vec![
            ("x", v(responses(&[3.0, 5.0, f64::NAN]))),
            ("x", v(Value::real(4.0))),
        ],
        R,
    ));
    close(&out, &[3.0, 4.0, f64::NAN]);
}

#[test]
fn average_median_product() {
    let mut fx = fixture();
    let a = || responses(&[1.0, 2.0, 3.0]);
    let b = || responses(&[3.0, 2.0, 0.0]);
    let c = || responses(&[8.0, -1.0, 0.0]);
    // average: (1+3+8)/3 = 4, (2+2−1)/3 = 1, (3+0+0)/3 = 1.
    close(
        &reals_of(run(
            &mut fx,
            "average",
            vec![("x", v(a())), ("x", v(b())), ("x", v(c()))],
            R,
        )),
        &[4.0, 1.0, 1.0],
    );
    // median of three: 3, 2, 0; of two (mean of the middle pair): 2, 2, 1.5.
    close(
        &reals_of(run(
            &mut fx,
            "median_of",
            vec![("x", v(a())), ("x", v(b())), ("x", v(c()))],
            R,
        )),
        &[3.0, 2.0, 0.0],
    );
    close(
        &reals_of(run(
            &mut fx,
            "median_of",
            vec![("x", v(a())), ("x", v(b()))],
            R,
        )),
        &[2.0, 2.0, 1.5],
    );
    // product: 1·3·8 = 24, 2·2·(−1) = −4, 0.
    close(
        &reals_of(run(
            &mut fx,
            "product",
            vec![("x", v(a())), ("x", v(b())), ("x", v(c()))],
            R,
        )),
        &[24.0, -4.0, 0.0],
    );
}

#[test]
fn weighted_sum_counts_must_match() {
    let mut fx = fixture();
    let w = Const::List(vec![Const::Real(0.9), Const::Real(0.1)]);
    // PEARL r^o = 0.9·acc + 0.1·fmt: acc [1, 0, 1], fmt (bool) [1, 1, 0] → [1.0, 0.1, 0.9].
    let fmt = Value::new(
        Scope::Response,
        SetId::Main,
        Data::Bool(vec![true, true, false]),
    );
    let out = reals_of(run(
        &mut fx,
        "weighted_sum",
        vec![
            ("weights", constant(w.clone())),
            ("x", v(responses(&[1.0, 0.0, 1.0]))),
            ("x", v(fmt)),
        ],
        R,
    ));
    close(&out, &[1.0, 0.1, 0.9]);
    let e = run(
        &mut fx,
        "weighted_sum",
        vec![("weights", constant(w)), ("x", v(responses(&[1.0; 3])))],
        R,
    )
    .unwrap_err();
    assert!(
        e.message.contains("2 weights for 1 inputs"),
        "{}",
        e.message
    );
}

#[test]
fn mean_minus_std_population() {
    let mut fx = fixture();
    // Inputs per entry: (1, 3) → mean 2, population std 1 → 2 − 0.5 · 1 = 1.5;
    // (2, 2) → 2 − 0 = 2; (0, 4) → 2 − 0.5 · 2 = 1.
    let out = reals_of(run(
        &mut fx,
        "mean_minus_std",
        vec![
            ("k", constant(Const::Real(0.5))),
            ("x", v(responses(&[1.0, 2.0, 0.0]))),
            ("x", v(responses(&[3.0, 2.0, 4.0]))),
        ],
        R,
    ));
    close(&out, &[1.5, 2.0, 1.0]);
}

#[test]
fn first_valid_skips_nan() {
    let mut fx = fixture();
    let judge = responses(&[f64::NAN, 0.7, f64::NAN]);
    let rule = responses(&[0.2, 0.1, f64::NAN]);
    let out = reals_of(run(
        &mut fx,
        "first_valid",
        vec![
            ("x", v(judge)),
            ("x", v(rule)),
            ("x", v(Value::real(f64::NAN))),
        ],
        R,
    ));
    close(&out, &[0.2, 0.7, f64::NAN]);
}

#[test]
fn dot_weights() {
    let mut fx = fixture();
    let vecs = Value::new(
        Scope::Response,
        SetId::Main,
        Data::Vector(vec![vec![1.0, 2.0], vec![0.0, 1.0], vec![4.0, 0.0]]),
    );
    let w = Const::List(vec![Const::Real(0.5), Const::Real(2.0)]);
    // 0.5·1 + 2·2 = 4.5; 2; 2.
    let out = reals_of(run(
        &mut fx,
        "dot",
        vec![("v", v(vecs)), ("weights", constant(w.clone()))],
        R,
    ));
    close(&out, &[4.5, 2.0, 2.0]);
    let bad = Value::new(
        Scope::Response,
        SetId::Main,
        Data::Vector(vec![vec![1.0, 2.0], vec![1.0], vec![4.0, 0.0]]),
    );
    let e = run(
        &mut fx,
        "dot",
        vec![("v", v(bad)), ("weights", constant(w))],
        R,
    )
    .unwrap_err();
    assert_eq!(e.at.map(|a| (a.group, a.rollout)), Some((0, Some(1))));
}

#[test]
fn segment_scope_and_mismatches() {
    let mut fx = fixture();
    let segs = Arc::new(Segmentation {
        seg_start: vec![0, 1, 3, 3],
        end_token: vec![0, 0, 1],
        origin: "turns".into(),
    });
    let x = Value {
        scope: Scope::Segment,
        set: SetId::Main,
        segs: Some(segs.clone()),
        data: Data::Real(vec![1.0, 2.0, 3.0]),
    };
    // Response values broadcast to segments: [10, 20, 30] → segments of responses 0, 1, 1.
    let out = run(
        &mut fx,
        "product",
        vec![("x", v(x)), ("x", v(responses(&[10.0, 20.0, 30.0])))],
        (Scope::Segment, Kind::Real),
    )
    .unwrap();
    assert_eq!(out.data, Data::Real(vec![10.0, 40.0, 60.0]));
    assert!(out.segs.is_some());
    // Two different segmentations do not line up.
    let other = Arc::new(Segmentation {
        seg_start: vec![0, 2, 3, 3],
        end_token: vec![0, 0, 1],
        origin: "steps".into(),
    });
    let a = Value {
        scope: Scope::Segment,
        set: SetId::Main,
        segs: Some(segs),
        data: Data::Real(vec![1.0; 3]),
    };
    let b = Value {
        scope: Scope::Segment,
        set: SetId::Main,
        segs: Some(other),
        data: Data::Real(vec![1.0; 3]),
    };
    let e = run(
        &mut fx,
        "average",
        vec![("x", v(a)), ("x", v(b))],
        (Scope::Segment, Kind::Real),
    )
    .unwrap_err();
    assert!(e.message.contains("segmentations"));
    // Wrong lengths and no inputs are errors, not panics.
    assert!(run(&mut fx, "average", vec![("x", v(responses(&[1.0])))], R).is_err());
    assert!(run(&mut fx, "average", vec![], R).is_err());
    // Empty batch.
    let mut empty = Fixture::new(&[]);
    let out = run(
        &mut empty,
        "maximum",
        vec![("x", v(responses(&[]))), ("x", v(Value::real(1.0)))],
        R,
    )
    .unwrap();
    assert_eq!(out.data, Data::Real(vec![]));
}
