//! Tests of the judge family: expected values are worked out by hand in the comments.

use std::cell::RefCell;

use rlr_lang::ir::Const;
use rlr_lang::{Kind, Scope};
use serde_json::json;

use crate::error::Result;
use crate::layout::SetId;
use crate::node::{Arg, Cx, ProbeRequest, Probes};
use crate::testing::{Fixture, call, constant, reals_of};
use crate::value::{Data, Value};

use super::{ALL, Judge, JudgeItem, Scorer, drive, embed};

const RR: (Scope, Kind) = (Scope::Response, Kind::Real);
const RV: (Scope, Kind) = (Scope::Response, Kind::Vector);
const SR: (Scope, Kind) = (Scope::Segment, Kind::Real);

fn eval(
    name: &str,
    args: Vec<(&'static str, Arg<'static>)>,
    out: (Scope, Kind),
    cx: &mut Cx<'_>,
) -> Result<Value> {
    let node = crate::nodes::lookup(name).unwrap_or_else(|| panic!("no `{name}`"));
    node.eval(&call(name, args, out, &[]), cx)
}

fn run(
    fx: &mut Fixture,
    name: &str,
    args: Vec<(&'static str, Arg<'static>)>,
    out: (Scope, Kind),
) -> Result<Value> {
    eval(name, args, out, &mut fx.cx("judge"))
}

fn texts(xs: &[&str]) -> Arg<'static> {
    Arg::from(Value::new(
        Scope::Response,
        SetId::Main,
        Data::Text(xs.iter().map(|s| s.to_string()).collect()),
    ))
}

fn group_text(xs: &[&str]) -> Arg<'static> {
    Arg::from(Value::new(
        Scope::Group,
        SetId::Main,
        Data::Text(xs.iter().map(|s| s.to_string()).collect()),
    ))
}

fn s(x: &str) -> Arg<'static> {
    constant(Const::Str(x.to_string()))
}

fn r(x: f64) -> Arg<'static> {
    constant(Const::Real(x))
}

fn approx(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-9, "{a:?} vs {b:?}");
    }
}

fn vectors(v: Result<Value>) -> Vec<Vec<f64>> {
    match v.expect("evaluation").data {
        Data::Vector(v) => v,
        other => panic!("not vectors: {other:?}"),
    }
}

/// Segments of each response, cut by `steps_of` at newlines.
fn steps(fx: &mut Fixture, xs: &[&str]) -> Arg<'static> {
    Arg::from(
        run(
            fx,
            "steps_of",
            vec![("text", texts(xs))],
            (Scope::Segment, Kind::Text),
        )
        .expect("steps_of"),
    )
}

/// A model whose log-probability of a continuation is −ln 2 per character (P = 1/2 per character).
#[derive(Default)]
struct Halves {
    seen: RefCell<Vec<(String, String, bool)>>,
}

impl Probes for Halves {
    fn logprob(
        &self,
        requests: &[ProbeRequest],
        reference: bool,
    ) -> std::result::Result<Vec<(f64, usize)>, String> {
        self.seen.borrow_mut().extend(
            requests
                .iter()
                .map(|r| (r.before(), r.continuation.clone(), reference)),
        );
        Ok(requests
            .iter()
            .map(|r| {
                let n = r.continuation.chars().count();
                (-(n as f64) * std::f64::consts::LN_2, n)
            })
            .collect())
    }
}

// ---- judge.steps and the driver ---------------------------------------------------------------

const CHAIN: &str = "{\"steps\": \"19\\n14\\n44\", \"answer\": \"44\"}";

#[test]
fn steps_fraction_in_order_on_the_grid() {
    let sample: serde_json::Value = serde_json::from_str(CHAIN).expect("json");
    let t = [
        "12 + 7 = 19, 19 - 5 = 14, 14 + 30 = 44", // 19, 14, 44 in order: s = 1; no repeated 4-gram → 1
        "12 + 7 = 19 then 44",                    // 19 ✓, 14 ✗, 44 ✓ → 2/3 → grid 0.1 → 0.7
        "44 then 14 then 19",                     // 19 found last, nothing after → 1/3 → 0.3
    ];
    let mut fx = Fixture::new(&[(&t, sample)]);
    let v = run(&mut fx, "judge.steps", vec![("text", texts(&t))], RR);
    assert_eq!(reals_of(v), vec![1.0, 0.7, 0.3]);
    assert_eq!(fx.counters["judge"].calls, 3);
}

#[test]
fn steps_repetition_and_answer_fallback() {
    // steps "5": "5 a b c 5 a b c" states it (s = 1); 4-grams 5abc abc5 bc5a c5ab 5abc: 1 repeated of 5,
    // ρ = 0.2 → 0.8. A task without steps: s = 1 iff the answer is reached.
    let t = ["5 a b c 5 a b c"];
    let mut fx = Fixture::new(&[(&t, json!({"steps": "5"}))]);
    approx(
        &reals_of(run(&mut fx, "judge.steps", vec![("text", texts(&t))], RR)),
        &[0.8],
    );
    let t = ["\\boxed{7}", "so 8", "it is 7"];
    let mut fx = Fixture::new(&[(&t, json!({"answer": "7"}))]);
    approx(
        &reals_of(run(&mut fx, "judge.steps", vec![("text", texts(&t))], RR)),
        &[1.0, 0.0, 1.0],
    );
}

#[test]
fn on_error_policies_and_counters() {
    // two groups: the second has no steps and no answer, so its judgement fails
    let mut fx = Fixture::new(&[(&["a"], json!({"answer": "a"})), (&["b", "c"], json!({}))]);
    let args = || vec![("text", texts(&["a", "b", "c"]))];
    let err = run(&mut fx, "judge.steps", args(), RR).unwrap_err();
    let at = err.at.expect("located");
    assert_eq!((at.group, at.rollout), (1, Some(0)));
    assert!(err.message.contains("judge.steps"), "{}", err.message);
    assert_eq!(
        (fx.counters["judge"].calls, fx.counters["judge"].failures),
        (3, 2)
    );

    let mut with = args();
    with.extend([("on_error", s("default")), ("default", r(0.25))]);
    approx(
        &reals_of(run(&mut fx, "judge.steps", with, RR)),
        &[1.0, 0.25, 0.25],
    );
    assert!(fx.skipped.is_empty());

    let mut with = args();
    with.extend([("on_error", s("skip")), ("default", r(0.25))]);
    approx(
        &reals_of(run(&mut fx, "judge.steps", with, RR)),
        &[1.0, 0.25, 0.25],
    );
    assert_eq!(fx.skipped, vec![(SetId::Main, 1), (SetId::Main, 2)]);
    assert_eq!(
        (fx.counters["judge"].calls, fx.counters["judge"].failures),
        (9, 6)
    );
}

#[test]
fn when_mask_scores_only_active_responses() {
    // the inactive response takes `default` and is not counted, even though it would fail
    let mut fx = Fixture::new(&[(&["a"], json!({"answer": "a"})), (&["b"], json!({}))]);
    let mut cx = fx.cx("judge");
    cx.active = Some(vec![true, false]);
    let v = eval(
        "judge.steps",
        vec![("text", texts(&["a", "b"])), ("default", r(-1.0))],
        RR,
        &mut cx,
    );
    approx(&reals_of(v), &[1.0, -1.0]);
    assert_eq!(fx.counters["judge"].calls, 1);
    // nothing active: no call at all
    let mut cx = fx.cx("judge");
    cx.active = Some(vec![false, false]);
    let v = eval(
        "judge.steps",
        vec![("text", texts(&["a", "b"]))],
        RR,
        &mut cx,
    );
    approx(&reals_of(v), &[0.0, 0.0]);
    assert_eq!(fx.counters["judge"].calls, 1);
}

#[test]
fn noise_is_seeded_clipped_and_on_the_grid() {
    let t = ["x"; 8];
    let mut fx = Fixture::new(&[(&t, json!({"answer": "x"}))]);
    let args = || vec![("text", texts(&t)), ("noise", r(0.3))];
    let a = reals_of(run(&mut fx, "judge.steps", args(), RR));
    let b = reals_of(run(&mut fx, "judge.steps", args(), RR));
    assert_eq!(a, b, "same seed, step and binding → same draws");
    // noiseless every score is 1; with σ = 0.3 some fall below, none leave [0, 1] or the grid
    assert!(a.iter().any(|x| *x < 1.0), "{a:?}");
    for x in &a {
        assert!(
            (0.0..=1.0).contains(x) && ((x * 10.0).round() - x * 10.0).abs() < 1e-9,
            "{a:?}"
        );
    }
}

struct Fixed(Vec<f64>);

impl Judge for Fixed {
    fn score(&self, items: &[JudgeItem<'_>]) -> Vec<std::result::Result<f64, String>> {
        items.iter().map(|it| Ok(self.0[it.response])).collect()
    }
}

#[test]
fn a_nan_judgement_is_a_failure() {
    let mut fx = Fixture::new(&[(&["a", "b"], json!({}))]);
    let c = call(
        "judge.steps",
        vec![
            ("text", texts(&["a", "b"])),
            ("on_error", s("default")),
            ("default", r(0.5)),
        ],
        RR,
        &[],
    );
    let mut cx = fx.cx("judge");
    let v = drive(&c, &mut cx, Scorer::Scalar(&Fixed(vec![f64::NAN, 0.33])));
    // 0.33 is rounded to the grid: 0.3
    approx(&reals_of(v), &[0.5, 0.3]);
    assert_eq!(fx.counters["judge"].failures, 1);
}

// ---- segment judges ---------------------------------------------------------------------------

#[test]
fn atoms_true_false_or_neutral() {
    let sample = json!({
        "facts": "Ann has 7 apples.\nBob has 3 pears.",
        "steps": "10",
        "prompt": "Ann has 7 apples and Bob has 3 pears. How many fruits?"
    });
    // thoughts: plan (no fact, no number) 0.5; the fact "ann has 7 apples" 1; the step result 10: 1;
    // 11 is in no reference nor the prompt: a false statement, 0. The second response has no segments.
    let t = [
        "I will add them\nann has 7 apples\n7 + 3 = 10\n7 + 3 = 11",
        "",
    ];
    let mut fx = Fixture::new(&[(&t, sample)]);
    let segs = steps(&mut fx, &t);
    let v = run(&mut fx, "judge.atoms", vec![("segments", segs)], SR).expect("atoms");
    assert_eq!(
        v.segs.as_ref().map(|s| s.seg_start.clone()),
        Some(vec![0, 4, 4])
    );
    approx(&reals_of(Ok(v)), &[0.5, 1.0, 1.0, 0.0]);
}

#[test]
fn prm_reference_or_correct_continuation() {
    let t = [
        "12 + 7 = 19\n19 - 5 = 14\n14 + 30 = 44",
        "12 + 7 = 20\n20 - 5 = 15\nno result",
    ];
    let mut fx = Fixture::new(&[(&t, json!({"steps": "19\n14"}))]);
    let segs = steps(&mut fx, &t);
    // response 1: 19 = line 1, 14 = line 2, step 3 has no line but 14 + 30 = 44 uses 14 → 1 1 1.
    // response 2: 20 ≠ 19 and 12 + 7 ≠ 20 → 0; 15 ≠ 14 but 20 − 5 = 15 from 20 → 1; no '=' → 0.
    approx(
        &reals_of(run(&mut fx, "judge.prm", vec![("segments", segs)], SR)),
        &[1.0, 1.0, 1.0, 0.0, 1.0, 0.0],
    );
}

#[test]
fn segment_judge_respects_when_per_response() {
    let t = ["12 + 7 = 19", "12 + 7 = 19\n19 - 5 = 14"];
    let mut fx = Fixture::new(&[(&t, json!({"steps": "19\n14"}))]);
    let segs = steps(&mut fx, &t);
    let mut cx = fx.cx("judge");
    cx.active = Some(vec![false, true]);
    let v = eval(
        "judge.prm",
        vec![("segments", segs), ("default", r(0.5))],
        SR,
        &mut cx,
    );
    approx(&reals_of(v), &[0.5, 1.0, 1.0]);
    assert_eq!(fx.counters["judge"].calls, 2);
}

#[test]
fn principle_four_checks() {
    let sample = json!({
        "prompt": "Who mentored the founder of Varo Labs?",
        "path": "Ann Kell founded Varo Labs.\nBob Ray mentored Ann Kell."
    });
    let t = [
        "<search>Varo Labs</search><result>Ann Kell founded Varo Labs.</result>The founder is Ann Kell.\
         <result>x</result>The founder is Ann Kell.<result>y</result>Carl Zed did it.",
        "<plan>unclosed",
    ];
    let mut fx = Fixture::new(&[(&t, sample)]);
    let turns = Arg::from(
        run(
            &mut fx,
            "turns_of",
            vec![("text", texts(&t))],
            (Scope::Segment, Kind::Text),
        )
        .expect("turns"),
    );
    // s0 "<search>Varo Labs</search>": formed, Varo Labs in the prompt, reaches Varo Labs, new → 4/4
    // s1 "The founder is Ann Kell.": formed, Ann Kell in the earlier tool output, reaches Ann Kell → 4/4
    // s2 (a copy of s1): formed, grounded, no new goal, repeated → 2/4
    // s3 "Carl Zed did it.": formed, Carl Zed nowhere → ungrounded, no goal, new → 2/4
    // s4 "<plan>unclosed": not formed, asserts nothing (grounded), no goal, new → 2/4
    let v = run(&mut fx, "judge.principle", vec![("segments", turns)], SR);
    approx(&reals_of(v), &[1.0, 1.0, 0.5, 0.5, 0.5]);
}

// ---- response judges --------------------------------------------------------------------------

#[test]
fn reader_looks_answers_up() {
    let t = ["Ann Kell has 7 apples", "Ann has 8", "annkell 7"];
    let mut fx = Fixture::new(&[(&t, json!({}))]);
    let args = |q: &str| {
        vec![
            ("text", texts(&t)),
            ("questions", group_text(&[q])),
            ("answers", group_text(&["7\nAnn Kell"])),
        ]
    };
    // 2/2; 0/2; 7 found, "ann kell" not as words → 1/2
    approx(
        &reals_of(run(&mut fx, "judge.reader", args("How many?\nWho?"), RR)),
        &[1.0, 0.0, 0.5],
    );
    // three questions for two answers: a failed judgement
    assert!(run(&mut fx, "judge.reader", args("a\nb\nc"), RR).is_err());
}

#[test]
fn rubric_grades_in_order() {
    let sample = json!({"answer": "7", "prompt": "Ann has 7 apples.", "steps": "7"});
    let t = [
        "<think>Ann has 7 apples.</think>\\boxed{7}",
        "\\boxed{8} and many more words here now",
    ];
    let mut fx = Fixture::new(&[(&t, sample)]);
    // response 1: correct 1, format 1, concise: reference "7\n7" = 2 words, response 4 words → min(1, 4/4) = 1,
    // grounded: asserts 7 and 7 (a lone sentence-initial "Ann" is no entity), both in the prompt → 1,
    // no_repetition: a single 4-gram → 1.
    // response 2: correct 0, format 0, concise 2·2/7, grounded: 8 is not in the prompt → 0, no_repetition 1.
    let v = vectors(run(&mut fx, "judge.rubric", vec![("text", texts(&t))], RV));
    approx(&v[0], &[1.0, 1.0, 1.0, 1.0, 1.0]);
    approx(&v[1], &[0.0, 0.0, 4.0 / 7.0, 0.0, 1.0]);
    let crit = constant(Const::List(vec![
        Const::Str("concise".into()),
        Const::Str("correct".into()),
    ]));
    let v = vectors(run(
        &mut fx,
        "judge.rubric",
        vec![("text", texts(&t)), ("criteria", crit)],
        RV,
    ));
    approx(&v[1], &[4.0 / 7.0, 0.0]);
    let bad = constant(Const::List(vec![Const::Str("style".into())]));
    assert!(
        run(
            &mut fx,
            "judge.rubric",
            vec![("text", texts(&t)), ("criteria", bad)],
            RV
        )
        .is_err()
    );
}

#[test]
fn listener_uses_the_reference_model_with_the_answer_hidden() {
    let t = ["<think>r</think>\\boxed{7}", "x"];
    let mut fx = Fixture::new(&[(&t, json!({"prompt": "P:", "answer": "7"}))]);
    let model = Halves::default();
    let mut cx = fx.cx("judge");
    cx.probes = Some(&model);
    // one answer character at probability 1/2 → P = exp(−ln 2) = 0.5
    let v = eval("judge.listener", vec![("text", texts(&t))], RR, &mut cx);
    approx(&reals_of(v), &[0.5, 0.5]);
    let seen = model.seen.borrow().clone();
    assert_eq!(
        seen[0],
        (
            "P:<think>r</think>\\boxed{".to_string(),
            "7".to_string(),
            true
        ),
        "the answer is cut at its slot and the reference model is asked"
    );
    assert_eq!(
        seen[1],
        ("P:x\\boxed{".to_string(), "7".to_string(), true),
        "a text without the slot gets it appended"
    );
    let empty = constant(Const::Str(String::new()));
    let mut cx = fx.cx("judge");
    cx.probes = Some(&model);
    eval(
        "judge.listener",
        vec![("text", texts(&t)), ("slot", empty)],
        RR,
        &mut cx,
    )
    .unwrap();
    assert_eq!(
        model.seen.borrow()[2].0,
        "P:<think>r</think>",
        "an empty slot hides the answer and asks right after the text"
    );
    // replay without a model
    let err = run(&mut fx, "judge.listener", vec![("text", texts(&t))], RR).unwrap_err();
    assert!(
        err.message.contains("needs the policy model"),
        "{}",
        err.message
    );
}

#[test]
fn embed_is_deterministic_and_normalised() {
    let e = embed("The cat sat on the mat", 16);
    assert_eq!(e, embed("the cat sat on the mat", 16), "lower-cased");
    approx(&[e.iter().map(|x| x * x).sum::<f64>()], &[1.0]);
    assert_eq!(embed("", 4), vec![0.0; 4]);
    // through the node: one vector of `dim` per response; inactive responses get `default` everywhere
    let t = ["a b", "a b", "zzz"];
    let mut fx = Fixture::new(&[(&t, json!({}))]);
    let mut cx = fx.cx("judge");
    cx.active = Some(vec![true, true, false]);
    let v = vectors(eval(
        "judge.embed",
        vec![("text", texts(&t)), ("dim", constant(Const::Int(8)))],
        RV,
        &mut cx,
    ));
    assert_eq!(v[0], v[1]);
    assert_eq!(v[0].len(), 8);
    assert_eq!(v[2], vec![0.0; 8]);
}

#[test]
fn embed_judges_a_text_per_prompt_once_per_group() {
    // `judge.embed(sample.prompt)`: one vector per group, one call each,
    // no rollout needed; a group none of whose responses is active is not asked.
    let mut fx = Fixture::new(&[(&["x", "y"], json!({})), (&["z", "w"], json!({}))]);
    let mut cx = fx.cx("ref");
    cx.active = Some(vec![true, false, false, false]);
    let v = vectors(eval(
        "judge.embed",
        vec![
            ("text", group_text(&["the cat", "a dog"])),
            ("dim", constant(Const::Int(8))),
        ],
        (Scope::Group, Kind::Vector),
        &mut cx,
    ));
    assert_eq!(v.len(), 2);
    assert_eq!(v[0], embed("the cat", 8));
    assert_eq!(v[1], vec![0.0; 8], "inactive group: the default");
    assert_eq!(cx.counters["ref"].calls, 1);
}

#[test]
fn reward_model_score() {
    // r = 2c + f − 2ρ: right with format 3, right without 2, wrong with format 1
    let t = [
        "<think>ok</think>\\boxed{7}",
        "\\boxed{7}",
        "<think>x</think>\\boxed{8}",
    ];
    let mut fx = Fixture::new(&[(&t, json!({"answer": "7"}))]);
    approx(
        &reals_of(run(
            &mut fx,
            "judge.reward_model",
            vec![("text", texts(&t))],
            RR,
        )),
        &[3.0, 2.0, 1.0],
    );
    // a harmful prompt: refusing is right (2), answering is not (0)
    let t = ["<refuse>no</refuse>", "\\boxed{7}"];
    let mut fx = Fixture::new(&[(&t, json!({"answer": "", "harmful": true}))]);
    approx(
        &reals_of(run(
            &mut fx,
            "judge.reward_model",
            vec![("text", texts(&t))],
            RR,
        )),
        &[2.0, 0.0],
    );
}

#[test]
fn empty_batches_and_responses_without_segments() {
    let mut fx = Fixture::new(&[]);
    let v = run(&mut fx, "judge.steps", vec![("text", texts(&[]))], RR);
    assert_eq!(reals_of(v), Vec::<f64>::new());
    // responses without any segment: an empty segment-scope result, nothing counted
    let t = ["", "  "];
    let mut fx = Fixture::new(&[(&t, json!({"steps": "1"}))]);
    let segs = steps(&mut fx, &t);
    let v = run(&mut fx, "judge.prm", vec![("segments", segs)], SR).expect("prm");
    assert_eq!(
        v.segs.as_ref().map(|s| s.seg_start.clone()),
        Some(vec![0, 0, 0])
    );
    assert_eq!(reals_of(Ok(v)), Vec::<f64>::new());
    assert_eq!(fx.counters.get("judge").map_or(0, |c| c.calls), 0);
}

#[test]
fn implements_exactly_the_registry_family() {
    use rlr_lang::registry::{Category, Family, names_in};
    let mut want = names_in(|c| c == Category::Node(Family::Judge));
    let mut have: Vec<&str> = ALL.iter().map(|n| n.name()).collect();
    want.sort_unstable();
    have.sort_unstable();
    assert_eq!(have, want);
}
