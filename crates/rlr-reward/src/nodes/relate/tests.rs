//! Hand-computed checks of the relations.

use std::collections::BTreeMap;

use rlr_lang::ir::Const;
use rlr_lang::{Kind, Scope};
use serde_json::json;

use crate::batch::{Batch, Group, Rollout};
use crate::layout::SetId;
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
    let mut cx = fx.cx("rel");
    node.eval(&c, &mut cx)
}

use crate::testing::assert_close as close;

fn sigma(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

const R: (Scope, Kind) = (Scope::Response, Kind::Real);

/// Per-prompt reference vectors.
fn group_vectors(vs: &[&[f64]]) -> Value {
    Value::new(
        Scope::Group,
        SetId::Main,
        Data::Vector(vs.iter().map(|v| v.to_vec()).collect()),
    )
}

fn embeddings(vs: &[&[f64]]) -> Value {
    Value::new(
        Scope::Response,
        SetId::Main,
        Data::Vector(vs.iter().map(|v| v.to_vec()).collect()),
    )
}

#[test]
fn par_with_two_references() {
    // Group 0: x = [1, 2]; group 1: x = [3]. References per prompt [0, 2, 100] and [1, 5, 100];
    // m = 2 keeps the first two.
    let mut fx = Fixture::new(&[(&["a", "b"], json!({})), (&["c"], json!({}))]);
    let refs = || group_vectors(&[&[0.0, 2.0, 100.0], &[1.0, 5.0, 100.0]]);
    let out = reals_of(run(
        &mut fx,
        "par",
        vec![
            ("x", v(responses(&[1.0, 2.0, 3.0]))),
            ("refs", v(refs())),
            ("m", constant(Const::Int(2))),
        ],
        R,
    ));
    // x = 1: (σ(1) + σ(−1)) / 2 = 0.5.  x = 2: (σ(2) + σ(0)) / 2 = (0.8807970779778823 + 0.5) / 2.
    // x = 3 vs [1, 5]: (σ(2) + σ(−2)) / 2 = 0.5.
    close(&out, &[0.5, (0.880_797_077_977_882_3 + 0.5) / 2.0, 0.5]);
    // k = 2, all three references (m = 0): x = 1 vs [0, 2, 100]: (σ(2) + σ(−2) + σ(−198)) / 3 ≈ 1/3.
    let out = reals_of(run(
        &mut fx,
        "par",
        vec![
            ("x", v(responses(&[1.0, 2.0, 3.0]))),
            ("refs", v(refs())),
            ("k", constant(Const::Real(2.0))),
        ],
        R,
    ));
    close(
        &out[..1],
        &[(sigma(2.0) + sigma(-2.0) + sigma(-198.0)) / 3.0],
    );
}

#[test]
fn par_against_the_other_members_and_a_branch() {
    // Group 0 has three main rollouts and two branch rollouts; group 1 one of each.
    let rollouts = |n: usize| (0..n).map(|_| Rollout::from_text("t")).collect::<Vec<_>>();
    let group = |main: usize, probe: usize| Group {
        sample: serde_json::Map::new(),
        rollouts: rollouts(main),
        branches: BTreeMap::from([("probe".to_string(), rollouts(probe))]),
    };
    let mut fx = Fixture::from_batch(Batch {
        step: 1,
        steps: 10,
        groups: vec![group(3, 2), group(1, 1)],
    });
    // The other members (j ≠ i): x = [1, 2, 3 | 4]. Response 0 vs {2, 3}: (σ(−1) + σ(−2)) / 2;
    // response 1 vs {1, 3}: (σ(1) + σ(−1)) / 2 = 0.5; response 2 vs {1, 2}: (σ(2) + σ(1)) / 2.
    // Response 3 is alone in its group: no references → an error naming group 1, rollout 0.
    let x = || responses(&[1.0, 2.0, 3.0, 4.0]);
    let e = run(&mut fx, "par", vec![("x", v(x())), ("refs", v(x()))], R).unwrap_err();
    assert_eq!(e.at.map(|a| (a.group, a.rollout)), Some((1, Some(0))));
    // A branch's values: all members of the paired group. Probe = [0, 2 | 4].
    let probe = Value::new(
        Scope::Response,
        SetId::Branch("probe".into()),
        Data::Real(vec![0.0, 2.0, 4.0]),
    );
    let out = reals_of(run(
        &mut fx,
        "par",
        vec![("x", v(x())), ("refs", v(probe))],
        R,
    ));
    // 1 vs {0, 2}: 0.5; 2 vs {0, 2}: (σ(2) + σ(0)) / 2; 3 vs {0, 2}: (σ(3) + σ(1)) / 2; 4 vs {4}: σ(0) = 0.5.
    close(
        &out,
        &[
            0.5,
            (sigma(2.0) + 0.5) / 2.0,
            (sigma(3.0) + sigma(1.0)) / 2.0,
            0.5,
        ],
    );
    // Only group 0, three members: the j ≠ i form.
    let mut one = Fixture::new(&[(&["a", "b", "c"], json!({}))]);
    let out = reals_of(run(
        &mut one,
        "par",
        vec![
            ("x", v(responses(&[1.0, 2.0, 3.0]))),
            ("refs", v(responses(&[1.0, 2.0, 3.0]))),
        ],
        R,
    ));
    close(
        &out,
        &[
            (sigma(-1.0) + sigma(-2.0)) / 2.0,
            0.5,
            (sigma(2.0) + sigma(1.0)) / 2.0,
        ],
    );
}

#[test]
fn lsc_and_ref_quantile() {
    let mut fx = Fixture::new(&[(&["a", "b"], json!({})), (&["c"], json!({}))]);
    // Group 0 refs [1, 3]: mean 2, sample std √2; r_ref = 2 + √2 · Φ^{-1}(0.85)
    // = 2 + 1.4142135623730951 · 1.0364333894937898 = 3.4657372...; group 1 refs [5]: r_ref = 5.
    let refs = || group_vectors(&[&[1.0, 3.0], &[5.0]]);
    let r0 = 2.0 + 2f64.sqrt() * 1.036_433_389_493_789_8;
    let out = reals_of(run(
        &mut fx,
        "lsc",
        vec![("x", v(responses(&[4.0, 0.0, 5.0]))), ("refs", v(refs()))],
        R,
    ));
    // log σ(4 − r0), log σ(0 − r0), log σ(0) = −ln 2.
    close(
        &out,
        &[
            sigma(4.0 - r0).ln(),
            sigma(-r0).ln(),
            -std::f64::consts::LN_2,
        ],
    );
    let g = (Scope::Group, Kind::Real);
    let out = reals_of(run(&mut fx, "ref_quantile", vec![("refs", v(refs()))], g));
    close(&out, &[r0, 5.0]);
    // Empirical, q = 0.25: [1, 3] → h = 0.25 → 1.5; [5] → 5.
    let out = reals_of(run(
        &mut fx,
        "ref_quantile",
        vec![
            ("refs", v(refs())),
            ("q", constant(Const::Real(0.25))),
            ("fit", constant(Const::Str("empirical".into()))),
        ],
        g,
    ));
    close(&out, &[1.5, 5.0]);
    // An empty reference set (NaN values are left out) is an error naming the prompt.
    let e = run(
        &mut fx,
        "ref_quantile",
        vec![("refs", v(group_vectors(&[&[1.0], &[f64::NAN]])))],
        g,
    )
    .unwrap_err();
    assert_eq!(e.at.map(|a| (a.group, a.rollout)), Some((1, None)));
}

#[test]
fn relate_kernels() {
    let mut fx = Fixture::new(&[(&["a", "b"], json!({}))]);
    let refs = || group_vectors(&[&[1.0, 4.0]]);
    let args = |kernel: &str, reduce: &str| {
        vec![
            ("x", v(responses(&[2.0, 5.0]))),
            ("refs", v(refs())),
            ("kernel", constant(Const::Str(kernel.into()))),
            ("reduce", constant(Const::Str(reduce.into()))),
        ]
    };
    // difference: 2 − {1, 4} = {1, −2}: max 1, min −2, mean −0.5; 5 − {1, 4} = {4, 1}.
    close(
        &reals_of(run(&mut fx, "relate", args("difference", "max"), R)),
        &[1.0, 4.0],
    );
    close(
        &reals_of(run(&mut fx, "relate", args("difference", "min"), R)),
        &[-2.0, 1.0],
    );
    close(
        &reals_of(run(&mut fx, "relate", args("difference", "mean"), R)),
        &[-0.5, 2.5],
    );
    // tanh, mean: (tanh 1 + tanh(−2)) / 2.
    let out = reals_of(run(&mut fx, "relate", args("tanh", "mean"), R));
    close(&out[..1], &[(1f64.tanh() + (-2f64).tanh()) / 2.0]);
    // sigmoid with mean is `par`.
    let par = reals_of(run(
        &mut fx,
        "par",
        vec![("x", v(responses(&[2.0, 5.0]))), ("refs", v(refs()))],
        R,
    ));
    close(
        &reals_of(run(&mut fx, "relate", args("sigmoid", "mean"), R)),
        &par,
    );
    // log_sigmoid and poly: log σ(1), log σ(−2) → mean; poly(4) and poly(1) ∈ (0, 1).
    let out = reals_of(run(&mut fx, "relate", args("log_sigmoid", "mean"), R));
    close(&out[..1], &[(sigma(1.0).ln() + sigma(-2.0).ln()) / 2.0]);
    let out = reals_of(run(&mut fx, "relate", args("poly", "max"), R));
    assert!(out.iter().all(|x| *x > 0.5 && *x < 1.0));
}

#[test]
fn similarity_cosine() {
    let mut fx = Fixture::new(&[(&["a", "b", "c"], json!({}))]);
    let a = embeddings(&[&[1.0, 0.0], &[0.0, 0.0], &[3.0, 4.0]]);
    // One reference per prompt, broadcast: b = [1, 1].
    let b = group_vectors(&[&[1.0, 1.0]]);
    // [1, 0]·[1, 1] / (1 · √2) = 1/√2; zero vector → 0; (3 + 4) / (5 √2) = 7 / (5 √2).
    let out = reals_of(run(
        &mut fx,
        "similarity",
        vec![("a", v(a)), ("b", v(b))],
        R,
    ));
    close(
        &out,
        &[
            std::f64::consts::FRAC_1_SQRT_2,
            0.0,
            7.0 / (5.0 * 2f64.sqrt()),
        ],
    );
    let bad = embeddings(&[&[1.0, 0.0], &[1.0], &[1.0, 0.0]]);
    let e = run(
        &mut fx,
        "similarity",
        vec![("a", v(bad)), ("b", v(group_vectors(&[&[1.0, 1.0]])))],
        R,
    )
    .unwrap_err();
    assert_eq!(e.at.map(|a| (a.group, a.rollout)), Some((0, Some(1))));
}

/// Group 0: four responses; group 1: three; group 2: one.
fn evol_fixture() -> Fixture {
    Fixture::new(&[
        (&["a", "b", "c", "d"], json!({})),
        (&["e", "f", "g"], json!({})),
        (&["h"], json!({})),
    ])
}

fn evol_embeddings() -> Value {
    let s = std::f64::consts::FRAC_1_SQRT_2;
    embeddings(&[
        &[1.0, 0.0],
        &[s, s],
        &[0.0, 1.0],
        &[-1.0, 0.0],
        &[1.0, 0.0],
        &[0.0, 1.0],
        &[1.0, 0.0],
        &[1.0, 0.0],
    ])
}

#[test]
fn evol_rl_cosine_to_group_and_novelty() {
    let mut fx = evol_fixture();
    let c = std::f64::consts::FRAC_1_SQRT_2;
    // Group 0 clipped cosines: c01 = 1/√2, c02 = 0, c03 = −1 → 0, c12 = 1/√2, c13 = −1/√2 → 0, c23 = 0.
    // `by` (correct) = [T, T, F, F]; group 1: [T, F, F] with `among` (valid) = [T, T, F]; group 2 alone.
    let by = || flags(&[true, true, false, false, true, false, false, true]);
    let among = || flags(&[true, true, true, true, true, true, false, true]);
    // Mean within the own part: 0 → {1}: 1/√2; 1 → {0}: 1/√2; 2 → {3}: 0; 3 → {2}: 0.
    // Group 1: response 4's part {4} has no other → all other valid members {5}: cos([1,0],[0,1]) = 0;
    // response 5's part {5, 6} but 6 is not valid → fallback {4}: 0; response 6 is not valid → alone 0.5.
    // Group 2: nobody else → alone 0.5.
    let mean = reals_of(run(
        &mut fx,
        "cosine_to_group",
        vec![
            ("e", v(evol_embeddings())),
            ("by", v(by())),
            ("among", v(among())),
        ],
        R,
    ));
    close(&mean, &[c, c, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5]);
    // Max over all other valid members: 0 → 1/√2; 1 → 1/√2; 2 → 1/√2; 3 → 0; 4 → 0; 5 → 0; 6, 7 → 0.5.
    let max = reals_of(run(
        &mut fx,
        "cosine_to_group",
        vec![
            ("e", v(evol_embeddings())),
            ("reduce", constant(Const::Str("max".into()))),
            ("among", v(among())),
        ],
        R,
    ));
    close(&max, &[c, c, c, 0.0, 0.0, 0.0, 0.5, 0.5]);
    // Novelty = 1 − (0.5 · mean + 0.5 · max): 1 − c, 1 − c, 1 − c/2, 1, 1, 1, 0.5, 0.5.
    let nov = reals_of(run(
        &mut fx,
        "novelty",
        vec![
            ("e", v(evol_embeddings())),
            ("by", v(by())),
            ("among", v(among())),
        ],
        R,
    ));
    close(
        &nov,
        &[1.0 - c, 1.0 - c, 1.0 - c / 2.0, 1.0, 1.0, 1.0, 0.5, 0.5],
    );
    // Without clipping, c03 = −1 enters the mean of response 0 over the whole group: (c + 0 − 1) / 3.
    let out = reals_of(run(
        &mut fx,
        "cosine_to_group",
        vec![
            ("e", v(evol_embeddings())),
            ("clip", constant(Const::Bool(false))),
        ],
        R,
    ));
    close(&out[..1], &[(c - 1.0) / 3.0]);
}

#[test]
fn relation_errors_not_panics() {
    let mut fx = evol_fixture();
    // Embeddings of different sizes inside a group.
    let bad = embeddings(&[
        &[1.0, 0.0],
        &[1.0],
        &[1.0, 0.0],
        &[1.0, 0.0],
        &[1.0],
        &[1.0],
        &[1.0],
        &[1.0],
    ]);
    assert!(run(&mut fx, "cosine_to_group", vec![("e", v(bad))], R).is_err());
    // Reference vectors for the wrong number of prompts.
    let refs = group_vectors(&[&[1.0]]);
    assert!(
        run(
            &mut fx,
            "par",
            vec![("x", v(responses(&[0.0; 8]))), ("refs", v(refs))],
            R
        )
        .is_err()
    );
    // Text is no reference set.
    let text = Value::new(Scope::Group, SetId::Main, Data::Text(vec!["a".into(); 3]));
    assert!(
        run(
            &mut fx,
            "par",
            vec![("x", v(responses(&[0.0; 8]))), ("refs", v(text))],
            R
        )
        .is_err()
    );
    // Empty batch.
    let mut empty = Fixture::new(&[]);
    let out = run(&mut empty, "novelty", vec![("e", v(embeddings(&[])))], R).unwrap();
    assert_eq!(out.data, Data::Real(vec![]));
    let out = run(
        &mut empty,
        "par",
        vec![("x", v(responses(&[]))), ("refs", v(group_vectors(&[])))],
        R,
    )
    .unwrap();
    assert_eq!(out.data, Data::Real(vec![]));
}
