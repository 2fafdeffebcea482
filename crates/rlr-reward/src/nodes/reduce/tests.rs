//! Hand-computed checks of the reductions.

use std::sync::Arc;

use rlr_lang::ir::Const;
use rlr_lang::{Kind, Scope};
use serde_json::json;

use crate::layout::{Segmentation, SetId};
use crate::node::Arg;
use crate::nodes::lookup;
use crate::testing::{Fixture, call, constant, flags, responses};
use crate::value::{Data, Value};

fn v(x: Value) -> Arg<'static> {
    Arg::from(x)
}

/// Runs `name` with an optional `where` partition; returns the data and the recorded empty partitions.
fn run(
    fx: &mut Fixture,
    name: &str,
    args: Vec<(&'static str, Arg<'static>)>,
    partition: Option<Value>,
    out: (Scope, Kind),
) -> crate::Result<(Data, Vec<Option<usize>>)> {
    let node = lookup(name).expect("implemented");
    let mut c = call(name, args, out, &[]);
    c.partition = partition.map(std::sync::Arc::new);
    let mut cx = fx.cx("r");
    let value = node.eval(&c, &mut cx)?;
    assert_eq!(value.scope, out.0);
    Ok((value.data, cx.empty_partitions))
}

fn reals(d: &Data) -> Vec<f64> {
    match d {
        Data::Real(r) => r.clone(),
        other => panic!("not reals: {other:?}"),
    }
}

use crate::testing::assert_close as close;

const G: (Scope, Kind) = (Scope::Group, Kind::Real);

/// Three groups: 4 responses, 2 responses, 1 response (a group of one).
fn fixture() -> Fixture {
    Fixture::new(&[
        (&["a", "b", "c", "d"], json!({})),
        (&["e", "f"], json!({})),
        (&["g"], json!({})),
    ])
}

#[test]
fn sophiavl_trust_weight_pieces() {
    let mut fx = fixture();
    // outcome: group 0 [1, 0.6, 0, 0.2], group 1 [0, 0.1] (nobody correct), group 2 [1].
    let outcome = [1.0, 0.6, 0.0, 0.2, 0.0, 0.1, 1.0];
    let correct: Vec<bool> = outcome.iter().map(|o| *o >= 0.5).collect();
    let thinking = [0.6, 0.4, 0.9, 0.7, 0.3, 0.5, 0.8];
    // μ_c: group 0 (0.6 + 0.4) / 2 = 0.5; group 1 empty → NaN, recorded; group 2 0.8.
    let (mu_c, empty) = run(
        &mut fx,
        "mean",
        vec![("x", v(responses(&thinking)))],
        Some(flags(&correct)),
        G,
    )
    .unwrap();
    close(&reals(&mu_c), &[0.5, f64::NAN, 0.8]);
    assert_eq!(empty, vec![Some(1)]);
    // μ_w: group 0 (0.9 + 0.7) / 2 = 0.8; group 1 (0.3 + 0.5) / 2 = 0.4; group 2 empty → NaN, recorded.
    let wrong: Vec<bool> = correct.iter().map(|c| !c).collect();
    let (mu_w, empty) = run(
        &mut fx,
        "mean",
        vec![("x", v(responses(&thinking)))],
        Some(flags(&wrong)),
        G,
    )
    .unwrap();
    close(&reals(&mu_w), &[0.8, 0.4, f64::NAN]);
    assert_eq!(empty, vec![Some(2)]);
    // γ in group 0: μ_c = 0.5 < μ_w = 0.8 → exp(0.5 − 0.8) = exp(−0.3) = 0.7408182206817179.
    let gamma0 = (reals(&mu_c)[0] - reals(&mu_w)[0]).exp();
    assert!((gamma0 - 0.740_818_220_681_717_9).abs() < 1e-12);
    // The degenerate-group test: all(outcome >= 0.9) per group → [false, false, true];
    // all(outcome <= 0.1) → [false, true, false].
    let hi: Vec<bool> = outcome.iter().map(|o| *o >= 0.9).collect();
    let lo: Vec<bool> = outcome.iter().map(|o| *o <= 0.1).collect();
    let (d, empty) = run(
        &mut fx,
        "all",
        vec![("x", v(flags(&hi)))],
        None,
        (Scope::Group, Kind::Bool),
    )
    .unwrap();
    assert_eq!((d, empty), (Data::Bool(vec![false, false, true]), vec![]));
    let (d, _) = run(
        &mut fx,
        "all",
        vec![("x", v(flags(&lo)))],
        None,
        (Scope::Group, Kind::Bool),
    )
    .unwrap();
    assert_eq!(d, Data::Bool(vec![false, true, false]));
}

#[test]
fn std_sum_and_groups_of_one() {
    let mut fx = fixture();
    let x = || responses(&[1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 9.0]);
    // Bessel std of [1, 2, 3, 4]: mean 2.5, Σ(x − x̄)² = 5 → √(5/3) = 1.2909944487358056;
    // [5, 5] → 0; a single member → 0.
    let (d, empty) = run(&mut fx, "std", vec![("x", v(x()))], None, G).unwrap();
    close(&reals(&d), &[(5.0f64 / 3.0).sqrt(), 0.0, 0.0]);
    assert!(empty.is_empty());
    // Population std: √(5/4) = 1.118033988749895.
    let (d, _) = run(
        &mut fx,
        "std",
        vec![("x", v(x())), ("bessel", constant(Const::Bool(false)))],
        None,
        G,
    )
    .unwrap();
    close(&reals(&d), &[1.25f64.sqrt(), 0.0, 0.0]);
    // sum: 10, 10, 9; mean 2.5, 5, 9; max 4, 5, 9; min 1, 5, 9.
    close(
        &reals(&run(&mut fx, "sum", vec![("x", v(x()))], None, G).unwrap().0),
        &[10.0, 10.0, 9.0],
    );
    close(
        &reals(
            &run(&mut fx, "mean", vec![("x", v(x()))], None, G)
                .unwrap()
                .0,
        ),
        &[2.5, 5.0, 9.0],
    );
    close(
        &reals(&run(&mut fx, "max", vec![("x", v(x()))], None, G).unwrap().0),
        &[4.0, 5.0, 9.0],
    );
    close(
        &reals(&run(&mut fx, "min", vec![("x", v(x()))], None, G).unwrap().0),
        &[1.0, 5.0, 9.0],
    );
    // Empty `where` partition for sum: 0, but recorded so that the fallback replaces it.
    let p = flags(&[true, false, false, false, false, false, false]);
    let (d, empty) = run(&mut fx, "sum", vec![("x", v(x()))], Some(p.clone()), G).unwrap();
    close(&reals(&d), &[1.0, 0.0, 0.0]);
    assert_eq!(empty, vec![Some(1), Some(2)]);
    // std over an empty partition is NaN; over one member 0.
    let (d, empty) = run(&mut fx, "std", vec![("x", v(x()))], Some(p), G).unwrap();
    close(&reals(&d), &[0.0, f64::NAN, f64::NAN]);
    assert_eq!(empty, vec![Some(1), Some(2)]);
}

#[test]
fn count_any_all_defined_on_empty_partitions() {
    let mut fx = fixture();
    let x = || flags(&[true, false, true, true, false, false, true]);
    let p = flags(&[true, true, false, false, false, false, true]);
    // Group 0 members {0, 1}: count 1, any true, all false. Group 1 empty: 0, false, true
    // (defined, not recorded). Group 2 {6}: 1, true, true.
    let (d, empty) = run(&mut fx, "count", vec![("x", v(x()))], Some(p.clone()), G).unwrap();
    close(&reals(&d), &[1.0, 0.0, 1.0]);
    assert!(empty.is_empty());
    let (d, empty) = run(
        &mut fx,
        "any",
        vec![("x", v(x()))],
        Some(p.clone()),
        (Scope::Group, Kind::Bool),
    )
    .unwrap();
    assert_eq!((d, empty), (Data::Bool(vec![true, false, true]), vec![]));
    let (d, empty) = run(
        &mut fx,
        "all",
        vec![("x", v(x()))],
        Some(p),
        (Scope::Group, Kind::Bool),
    )
    .unwrap();
    assert_eq!((d, empty), (Data::Bool(vec![false, true, true]), vec![]));
    // max / min of bools are any / all.
    let (d, _) = run(
        &mut fx,
        "max",
        vec![("x", v(x()))],
        None,
        (Scope::Group, Kind::Bool),
    )
    .unwrap();
    assert_eq!(d, Data::Bool(vec![true, false, true]));
    let (d, _) = run(
        &mut fx,
        "min",
        vec![("x", v(x()))],
        None,
        (Scope::Group, Kind::Bool),
    )
    .unwrap();
    assert_eq!(d, Data::Bool(vec![false, false, true]));
}

#[test]
fn quantile_and_median_interpolate() {
    let mut fx = fixture();
    let x = || responses(&[4.0, 1.0, 3.0, 2.0, 0.0, 10.0, 7.0]);
    // Sorted [1, 2, 3, 4], q = 0.8: h = 3 · 0.8 = 2.4 → 3 + 0.4 · (4 − 3) = 3.4;
    // [0, 10]: h = 0.8 → 8; [7] → 7.
    let (d, _) = run(
        &mut fx,
        "quantile",
        vec![("x", v(x())), ("q", constant(Const::Real(0.8)))],
        None,
        G,
    )
    .unwrap();
    close(&reals(&d), &[3.4, 8.0, 7.0]);
    // Median: (2 + 3) / 2 = 2.5; 5; 7.
    close(
        &reals(
            &run(&mut fx, "median", vec![("x", v(x()))], None, G)
                .unwrap()
                .0,
        ),
        &[2.5, 5.0, 7.0],
    );
    // Over the batch: sorted [0, 1, 2, 3, 4, 7, 10], q = 0.8: h = 4.8 → 4 + 0.8 · 3 = 6.4.
    let (d, _) = run(
        &mut fx,
        "quantile",
        vec![
            ("x", v(x())),
            ("q", constant(Const::Real(0.8))),
            ("over", constant(Const::Str("batch".into()))),
        ],
        None,
        (Scope::Batch, Kind::Real),
    )
    .unwrap();
    close(&reals(&d), &[6.4]);
    assert!(
        run(
            &mut fx,
            "quantile",
            vec![("x", v(x())), ("q", constant(Const::Real(1.5)))],
            None,
            G
        )
        .is_err()
    );
}

#[test]
fn nan_members_are_missing() {
    let mut fx = fixture();
    // Group 0: [1, NaN, 3, NaN] → mean 2; group 1 [NaN, NaN] → NaN, recorded; group 2 [5].
    let x = responses(&[1.0, f64::NAN, 3.0, f64::NAN, f64::NAN, f64::NAN, 5.0]);
    let (d, empty) = run(&mut fx, "mean", vec![("x", v(x))], None, G).unwrap();
    close(&reals(&d), &[2.0, f64::NAN, 5.0]);
    assert_eq!(empty, vec![Some(1)]);
}

#[test]
fn token_and_segment_reductions() {
    // Responses "ab", "" (no tokens) | "xyz".
    let mut fx = Fixture::new(&[(&["ab", ""], json!({})), (&["xyz"], json!({}))]);
    let tokens = Value::new(
        Scope::Token,
        SetId::Main,
        Data::Real(vec![1.0, 3.0, 2.0, 2.0, 5.0]),
    );
    let r = (Scope::Response, Kind::Real);
    // Token → response mean: 2, (no tokens) NaN recorded for group 0, 3.
    let (d, empty) = run(&mut fx, "mean", vec![("x", v(tokens.clone()))], None, r).unwrap();
    close(&reals(&d), &[2.0, f64::NAN, 3.0]);
    assert_eq!(empty, vec![Some(0)]);
    // Token → group straight (`over = "group"`): [1, 3] | [2, 2, 5] → 2, 3.
    let (d, _) = run(&mut fx, "mean", vec![("x", v(tokens.clone()))], None, G).unwrap();
    close(&reals(&d), &[2.0, 3.0]);
    // Token → batch: 13 / 5.
    let (d, _) = run(
        &mut fx,
        "sum",
        vec![("x", v(tokens))],
        None,
        (Scope::Batch, Kind::Real),
    )
    .unwrap();
    close(&reals(&d), &[13.0]);
    // Segments: response 0 has 2, response 1 none, response 2 has 1. Sum → 3, 0 (defined,
    // not recorded without a partition), 4.
    let segs = Arc::new(Segmentation {
        seg_start: vec![0, 2, 2, 3],
        end_token: vec![0, 1, 2],
        origin: "turns".into(),
    });
    let x = Value {
        scope: Scope::Segment,
        set: SetId::Main,
        segs: Some(segs.clone()),
        data: Data::Real(vec![1.0, 2.0, 4.0]),
    };
    let (d, empty) = run(&mut fx, "sum", vec![("x", v(x.clone()))], None, r).unwrap();
    close(&reals(&d), &[3.0, 0.0, 4.0]);
    assert!(empty.is_empty());
    // A response-scope `where` broadcasts to the segments: keep responses 0 and 1 only.
    let (d, empty) = run(
        &mut fx,
        "max",
        vec![("x", v(x))],
        Some(flags(&[true, true, false])),
        r,
    )
    .unwrap();
    close(&reals(&d), &[2.0, f64::NAN, f64::NAN]);
    assert_eq!(empty, vec![Some(0), Some(1)]);
    // Group → batch.
    let g = Value::new(Scope::Group, SetId::Main, Data::Real(vec![1.0, 4.0]));
    let (d, _) = run(
        &mut fx,
        "mean",
        vec![("x", v(g))],
        None,
        (Scope::Batch, Kind::Real),
    )
    .unwrap();
    close(&reals(&d), &[2.5]);
}

#[test]
fn batch_wide_empty_partition_is_none() {
    let mut fx = fixture();
    let (d, empty) = run(
        &mut fx,
        "mean",
        vec![("x", v(responses(&[1.0; 7])))],
        Some(flags(&[false; 7])),
        (Scope::Batch, Kind::Real),
    )
    .unwrap();
    close(&reals(&d), &[f64::NAN]);
    assert_eq!(empty, vec![None]);
}

#[test]
fn mode_of_labels() {
    let mut fx = fixture();
    let labels = |xs: &[Option<&str>]| {
        Value::new(
            Scope::Response,
            SetId::Main,
            Data::Label(xs.iter().map(|x| x.map(str::to_string)).collect()),
        )
    };
    let l = (Scope::Group, Kind::Label);
    // Group 0: " 42", "7", "42 ", None → "42" (2 votes, normalised), as first sampled: " 42".
    // Group 1: "7", "X" tie → "7" (first). Group 2: None → nobody voted → the empty label.
    let x = labels(&[
        Some(" 42"),
        Some("7"),
        Some("42 "),
        None,
        Some("7"),
        Some("X"),
        None,
    ]);
    let (d, empty) = run(&mut fx, "mode", vec![("x", v(x.clone()))], None, l).unwrap();
    assert_eq!(
        d,
        Data::Label(vec![Some(" 42".into()), Some("7".into()), None])
    );
    assert!(empty.is_empty());
    // Case and inner whitespace: "A  b", "a b", "c" → "A  b".
    let mut small = Fixture::new(&[(&["1", "2", "3"], json!({}))]);
    let y = labels(&[Some("c"), Some("A  b"), Some("a b")]);
    let (d, _) = run(&mut small, "mode", vec![("x", v(y))], None, l).unwrap();
    assert_eq!(d, Data::Label(vec![Some("A  b".into())]));
    // An empty partition gives the empty label, recorded.
    let p = flags(&[true, true, true, true, false, false, true]);
    let (d, empty) = run(&mut fx, "mode", vec![("x", v(x))], Some(p), l).unwrap();
    assert_eq!(d, Data::Label(vec![Some(" 42".into()), None, None]));
    assert_eq!(empty, vec![Some(1)]);
}

#[test]
fn mode_of_numbers_and_flags() {
    let mut fx = fixture();
    // Reals: [2, 3, 3, 2] tie → 2 (first); [NaN, NaN] → nobody voted → NaN, recorded; [-0.0] → -0.
    let x = responses(&[2.0, 3.0, 3.0, 2.0, f64::NAN, f64::NAN, -0.0]);
    let (d, empty) = run(&mut fx, "mode", vec![("x", v(x))], None, G).unwrap();
    close(&reals(&d), &[2.0, f64::NAN, 0.0]);
    assert_eq!(empty, vec![Some(1)]);
    let b = flags(&[false, true, true, false, true, true, false]);
    let (d, _) = run(
        &mut fx,
        "mode",
        vec![("x", v(b))],
        None,
        (Scope::Group, Kind::Bool),
    )
    .unwrap();
    assert_eq!(d, Data::Bool(vec![false, true, false]));
}

#[test]
fn errors_not_panics() {
    let mut fx = fixture();
    // Wrong length.
    assert!(
        run(
            &mut fx,
            "mean",
            vec![("x", v(responses(&[1.0, 2.0])))],
            None,
            G
        )
        .is_err()
    );
    // Partition of the wrong length.
    assert!(
        run(
            &mut fx,
            "mean",
            vec![("x", v(responses(&[1.0; 7])))],
            Some(flags(&[true])),
            G
        )
        .is_err()
    );
    // A response value cannot be reduced to responses.
    assert!(
        run(
            &mut fx,
            "mean",
            vec![("x", v(responses(&[1.0; 7])))],
            None,
            (Scope::Response, Kind::Real)
        )
        .is_err()
    );
    // A group-scope partition broadcasts to the responses.
    let p = Value::new(
        Scope::Group,
        SetId::Main,
        Data::Bool(vec![true, false, true]),
    );
    let (d, empty) = run(
        &mut fx,
        "count",
        vec![("x", v(flags(&[true; 7])))],
        Some(p),
        G,
    )
    .unwrap();
    close(&reals(&d), &[4.0, 0.0, 1.0]);
    assert!(empty.is_empty());
    // Empty batch.
    let mut empty_fx = Fixture::new(&[]);
    let (d, empty) = run(
        &mut empty_fx,
        "mean",
        vec![("x", v(responses(&[])))],
        None,
        G,
    )
    .unwrap();
    assert_eq!((d, empty), (Data::Real(vec![]), vec![]));
    let (d, empty) = run(
        &mut empty_fx,
        "mean",
        vec![("x", v(responses(&[])))],
        None,
        (Scope::Batch, Kind::Real),
    )
    .unwrap();
    assert!(reals(&d)[0].is_nan());
    assert_eq!(empty, vec![None]);
}
