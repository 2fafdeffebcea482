//! Hand-computed checks of the map family.

use std::sync::Arc;

use rlr_lang::ir::Const;
use rlr_lang::{Kind, Scope};
use serde_json::json;

use super::func;
use crate::layout::{Segmentation, SetId};
use crate::node::Arg;
use crate::nodes::lookup;
use crate::testing::{Fixture, call, constant, reals_of, responses};
use crate::value::{Data, Value};

fn v(x: Value) -> Arg<'static> {
    Arg::from(x)
}

/// Runs `name` on the fixture with the given args and output type.
fn run(
    fx: &mut Fixture,
    name: &str,
    args: Vec<(&'static str, Arg<'static>)>,
    out: (Scope, Kind),
) -> crate::Result<Value> {
    let node = lookup(name).expect("implemented");
    let c = call(name, args, out, &[]);
    let mut cx = fx.cx("m");
    node.eval(&c, &mut cx)
}

use crate::testing::assert_close as close;

/// Two groups: ["ab", "c"] and ["xyz"] (one response, a group of one).
fn fixture() -> Fixture {
    Fixture::new(&[(&["ab", "c"], json!({})), (&["xyz"], json!({}))])
}

const R: (Scope, Kind) = (Scope::Response, Kind::Real);

#[test]
fn unary_functions() {
    let mut fx = fixture();
    let x = || responses(&[0.0, -2.5, 1.0]);
    close(
        &reals_of(run(&mut fx, "exp", vec![("x", v(x()))], R)),
        &[1.0, (-2.5f64).exp(), std::f64::consts::E],
    );
    close(
        &reals_of(run(&mut fx, "abs", vec![("x", v(x()))], R)),
        &[0.0, 2.5, 1.0],
    );
    close(
        &reals_of(run(&mut fx, "sign", vec![("x", v(x()))], R)),
        &[0.0, -1.0, 1.0],
    );
    close(
        &reals_of(run(&mut fx, "floor", vec![("x", v(x()))], R)),
        &[0.0, -3.0, 1.0],
    );
    close(
        &reals_of(run(&mut fx, "tanh", vec![("x", v(x()))], R)),
        &[0.0, (-2.5f64).tanh(), 1f64.tanh()],
    );
    // NaN passes through.
    let nan = responses(&[f64::NAN, 4.0, 0.25]);
    close(
        &reals_of(run(&mut fx, "sqrt", vec![("x", v(nan))], R)),
        &[f64::NAN, 2.0, 0.5],
    );
    close(
        &reals_of(run(
            &mut fx,
            "log",
            vec![("x", v(responses(&[1.0, 1.0, std::f64::consts::E])))],
            R,
        )),
        &[0.0, 0.0, 1.0],
    );
}

#[test]
fn log_of_non_positive_names_the_rollout() {
    let mut fx = fixture();
    let e = run(
        &mut fx,
        "log",
        vec![("x", v(responses(&[1.0, 2.0, 0.0])))],
        R,
    )
    .unwrap_err();
    // Response 2 is the only rollout of group 1.
    let at = e.at.expect("located");
    assert_eq!((at.group, at.rollout), (1, Some(0)));
    assert!(e.message.contains("not > 0"));
    let e = run(
        &mut fx,
        "sqrt",
        vec![("x", v(responses(&[1.0, -1.0, 0.0])))],
        R,
    )
    .unwrap_err();
    assert_eq!(e.at.map(|a| (a.group, a.rollout)), Some((0, Some(1))));
}

#[test]
fn logistic_family() {
    let mut fx = fixture();
    // σ(2 · 0.5) = σ(1) = 1 / (1 + e^-1) = 0.7310585786300049; σ(0) = 0.5;
    // σ(2 · -400) underflows to ~0 without NaN.
    let out = reals_of(run(
        &mut fx,
        "sigmoid",
        vec![
            ("x", v(responses(&[0.5, 0.0, -400.0]))),
            ("k", constant(Const::Real(2.0))),
        ],
        R,
    ));
    close(&out[..2], &[0.731_058_578_630_004_9, 0.5]);
    assert!(out[2] >= 0.0 && out[2] < 1e-300);
    // log σ(x): log σ(0) = −ln 2; log σ(−800) = −800 − ln(1 + e^−800) ≈ −800; log σ(800) ≈ 0.
    let out = reals_of(run(
        &mut fx,
        "log_sigmoid",
        vec![("x", v(responses(&[0.0, -800.0, 800.0])))],
        R,
    ));
    close(&out, &[-std::f64::consts::LN_2, -800.0, 0.0]);
}

#[test]
fn fitted_polynomial() {
    // σ − ½ is odd, so the fit is ½ at 0; outside [−5, 5] it is 0 / 1.
    assert!((func::sigmoid_poly(0.0) - 0.5).abs() < 1e-12);
    assert_eq!(func::sigmoid_poly(-5.0), 0.0);
    assert_eq!(func::sigmoid_poly(-7.0), 0.0);
    assert_eq!(func::sigmoid_poly(5.0), 1.0);
    // Odd symmetry: p(x) + p(−x) = 1.
    assert!((func::sigmoid_poly(1.3) + func::sigmoid_poly(-1.3) - 1.0).abs() < 1e-9);
    // A degree-5 fit stays within 0.02 of σ on the interval and is increasing near 0.
    for i in -49..50 {
        let x = f64::from(i) / 10.0;
        assert!(
            (func::sigmoid_poly(x) - func::sigmoid(x)).abs() < 0.02,
            "x = {x}"
        );
    }
    assert!(func::sigmoid_poly(0.1) > 0.5);
    let mut fx = fixture();
    let out = reals_of(run(
        &mut fx,
        "sigmoid_poly",
        vec![("x", v(responses(&[0.0, 6.0, -6.0])))],
        R,
    ));
    close(&out, &[0.5, 1.0, 0.0]);
}

#[test]
fn normal_quantile_values() {
    // Φ^{-1}(0.85) = 1.0364333894937898, Φ^{-1}(0.975) = 1.959963984540054, Φ^{-1}(0.01) = −2.3263478740408408.
    assert!((func::normal_quantile(0.85) - 1.036_433_389_493_789_8).abs() < 1e-14);
    assert!((func::normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-14);
    assert!((func::normal_quantile(0.01) + 2.326_347_874_040_840_8).abs() < 1e-14);
    // Far tail (the third branch of AS 241): Φ^{-1}(1e-20) = −9.262340089798408.
    assert!((func::normal_quantile(1e-20) + 9.262_340_089_798_408).abs() < 1e-12);
    assert_eq!(func::normal_quantile(0.5), 0.0);
    assert_eq!(func::normal_quantile(1.0), f64::INFINITY);
    assert!(func::normal_quantile(1.5).is_nan());
}

#[test]
fn clamp_with_schedule_and_group_bounds() {
    let mut fx = fixture();
    // lo = 0 (a step value), hi per group: [1, 2]. x = [−1, 1.5, 3] → [0, 1, 2].
    let lo = Value::real(0.0);
    let hi = Value::new(Scope::Group, SetId::Main, Data::Real(vec![1.0, 2.0]));
    let out = reals_of(run(
        &mut fx,
        "clamp",
        vec![
            ("x", v(responses(&[-1.0, 1.5, 3.0]))),
            ("lo", v(lo)),
            ("hi", v(hi)),
        ],
        R,
    ));
    close(&out, &[0.0, 1.0, 2.0]);
    // Bounds given as constants work too.
    let out = reals_of(run(
        &mut fx,
        "clamp",
        vec![
            ("x", v(responses(&[-1.0, 0.5, f64::NAN]))),
            ("lo", constant(Const::Real(0.0))),
            ("hi", constant(Const::Int(1))),
        ],
        R,
    ));
    close(&out, &[0.0, 0.5, f64::NAN]);
}

#[test]
fn round_to_grid() {
    let mut fx = fixture();
    // 0.25 / 0.1 = 2.4999… is a half → 3 · 0.1; −0.25 → −0.3; 0.34 → 0.3.
    let out = reals_of(run(
        &mut fx,
        "round",
        vec![
            ("x", v(responses(&[0.25, -0.25, 0.34]))),
            ("to", constant(Const::Real(0.1))),
        ],
        R,
    ));
    close(
        &out,
        &[
            0.30000000000000004,
            -0.30000000000000004,
            0.30000000000000004,
        ],
    );
    // Default `to` = 1: 2.5 → 3, −2.5 → −3, 1.49 → 1.
    let out = reals_of(run(
        &mut fx,
        "round",
        vec![("x", v(responses(&[2.5, -2.5, 1.49])))],
        R,
    ));
    close(&out, &[3.0, -3.0, 1.0]);
}

#[test]
fn between_bounds() {
    let mut fx = fixture();
    let args = |inclusive: bool| {
        vec![
            ("x", v(responses(&[0.01, 0.5, f64::NAN]))),
            ("lo", v(Value::real(0.01))),
            ("hi", v(Value::real(0.99))),
            ("inclusive", constant(Const::Bool(inclusive))),
        ]
    };
    let out = run(
        &mut fx,
        "between",
        args(false),
        (Scope::Response, Kind::Bool),
    )
    .unwrap();
    assert_eq!(out.data, Data::Bool(vec![false, true, false]));
    let out = run(
        &mut fx,
        "between",
        args(true),
        (Scope::Response, Kind::Bool),
    )
    .unwrap();
    assert_eq!(out.data, Data::Bool(vec![true, true, false]));
}

#[test]
fn interp_points() {
    let mut fx = fixture();
    let pts = Const::Points(vec![(0.0, 0.0), (1.0, 10.0), (3.0, 20.0)]);
    // −1 → 0 (first y); 0.5 → 5; 2 → 10 + 10 · (1/2) = 15; 4 → 20 (last y).
    let out = reals_of(run(
        &mut fx,
        "interp",
        vec![
            (
                "x",
                v(Value::new(
                    Scope::Group,
                    SetId::Main,
                    Data::Real(vec![-1.0, 0.5]),
                )),
            ),
            ("points", constant(pts.clone())),
        ],
        (Scope::Group, Kind::Real),
    ));
    close(&out, &[0.0, 5.0]);
    let out = reals_of(run(
        &mut fx,
        "interp",
        vec![
            ("x", v(responses(&[2.0, 4.0, 1.0]))),
            ("points", constant(pts)),
        ],
        R,
    ));
    close(&out, &[15.0, 20.0, 10.0]);
    let bad = Const::Points(vec![(1.0, 0.0), (0.0, 1.0)]);
    assert!(
        run(
            &mut fx,
            "interp",
            vec![("x", v(responses(&[0.0; 3]))), ("points", constant(bad))],
            R
        )
        .is_err()
    );
    assert!(
        run(
            &mut fx,
            "interp",
            vec![
                ("x", v(responses(&[0.0; 3]))),
                ("points", constant(Const::Points(vec![])))
            ],
            R
        )
        .is_err()
    );
}

#[test]
fn component_of_vectors() {
    let mut fx = fixture();
    let vecs = Value::new(
        Scope::Response,
        SetId::Main,
        Data::Vector(vec![vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0]]),
    );
    let out = reals_of(run(
        &mut fx,
        "component",
        vec![("v", v(vecs.clone())), ("i", constant(Const::Int(1)))],
        R,
    ));
    close(&out, &[1.0, 3.0, 5.0]);
    // The third vector has no second component: an error naming group 1, rollout 0.
    let e = run(
        &mut fx,
        "component",
        vec![("v", v(vecs)), ("i", constant(Const::Int(2)))],
        R,
    )
    .unwrap_err();
    assert_eq!(e.at.map(|a| (a.group, a.rollout)), Some((1, Some(0))));
}

#[test]
fn segment_and_token_scopes() {
    let mut fx = fixture();
    // Segments: response 0 has 2, response 1 none, response 2 has 1.
    let segs = Arc::new(Segmentation {
        seg_start: vec![0, 2, 2, 3],
        end_token: vec![0, 1, 2],
        origin: "steps".into(),
    });
    let x = Value {
        scope: Scope::Segment,
        set: SetId::Main,
        segs: Some(segs.clone()),
        data: Data::Real(vec![-1.0, 2.0, -3.0]),
    };
    let out = run(
        &mut fx,
        "abs",
        vec![("x", v(x))],
        (Scope::Segment, Kind::Real),
    )
    .unwrap();
    assert_eq!(out.segs.as_ref().map(|s| s.len()), Some(3));
    assert_eq!(out.data, Data::Real(vec![1.0, 2.0, 3.0]));
    // A response-scope bound broadcasts to the segments: hi = [0, 9, 1] per response.
    let x = Value {
        scope: Scope::Segment,
        set: SetId::Main,
        segs: Some(segs),
        data: Data::Real(vec![5.0, 5.0, 5.0]),
    };
    let out = reals_of(run(
        &mut fx,
        "clamp",
        vec![
            ("x", v(x)),
            ("lo", v(Value::real(-9.0))),
            ("hi", v(responses(&[0.0, 9.0, 1.0]))),
        ],
        (Scope::Segment, Kind::Real),
    ));
    close(&out, &[0.0, 0.0, 1.0]);
    // Tokens: "ab", "c", "xyz" → 6 tokens.
    let t = Value::new(
        Scope::Token,
        SetId::Main,
        Data::Real(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]),
    );
    let out = reals_of(run(
        &mut fx,
        "sign",
        vec![("x", v(t))],
        (Scope::Token, Kind::Real),
    ));
    close(&out, &[0.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
}

#[test]
fn mismatched_lengths_and_empty_batches() {
    let mut fx = fixture();
    let e = run(&mut fx, "exp", vec![("x", v(responses(&[1.0, 2.0])))], R).unwrap_err();
    assert!(e.message.contains("entries"), "{}", e.message);
    let mut empty = Fixture::new(&[]);
    let out = run(&mut empty, "exp", vec![("x", v(responses(&[])))], R).unwrap();
    assert_eq!(out.data, Data::Real(vec![]));
    // Text is not a number.
    let text = Value::new(
        Scope::Response,
        SetId::Main,
        Data::Text(vec!["a".into(); 3]),
    );
    assert!(run(&mut fx, "exp", vec![("x", v(text))], R).is_err());
}

#[test]
fn every_builtin_of_the_element_wise_and_group_families_is_implemented() {
    use rlr_lang::registry::{self, Category, Family};
    let families = [
        Family::Map,
        Family::Combine,
        Family::Reduce,
        Family::Normalize,
        Family::Relate,
        Family::Gate,
    ];
    let names: Vec<&str> = registry::all()
        .into_iter()
        .filter(|b| matches!(b.category, Category::Node(f) if families.contains(&f)))
        .map(|b| b.name)
        .collect();
    assert_eq!(names.len(), 50);
    for name in names {
        assert!(
            lookup(name).is_some_and(|n| n.name() == name),
            "`{name}` has no implementation"
        );
    }
}
