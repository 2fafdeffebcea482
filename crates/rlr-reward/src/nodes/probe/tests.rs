//! Tests of the probe family: expected values are worked out by hand in the comments.

use std::cell::RefCell;
use std::f64::consts::LN_2;

use rlr_lang::ir::Const;
use rlr_lang::{Kind, Scope};
use serde_json::json;

use crate::batch::{Batch, Group, Rollout};
use crate::error::Result;
use crate::layout::SetId;
use crate::node::{Arg, Cx, ProbeRequest, Probes};
use crate::testing::{Fixture, call, constant, reals_of};
use crate::value::{Data, Value};

const RR: (Scope, Kind) = (Scope::Response, Kind::Real);

fn eval(
    name: &str,
    args: Vec<(&'static str, Arg<'static>)>,
    out: (Scope, Kind),
    cx: &mut Cx<'_>,
) -> Result<Value> {
    let node = crate::nodes::lookup(name).unwrap_or_else(|| panic!("no `{name}`"));
    node.eval(&call(name, args, out, &[]), cx)
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

fn approx(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x.is_nan() && y.is_nan()) || (x - y).abs() < 1e-9,
            "{a:?} vs {b:?}"
        );
    }
}

/// A model giving each character of a continuation probability 1/2, recording what it was asked.
#[derive(Default)]
struct Halves {
    seen: RefCell<Vec<(String, String, bool)>>,
    /// The requests themselves, prompt and context apart.
    requests: RefCell<Vec<ProbeRequest>>,
    fail: bool,
}

impl Probes for Halves {
    fn logprob(
        &self,
        requests: &[ProbeRequest],
        reference: bool,
    ) -> std::result::Result<Vec<(f64, usize)>, String> {
        if self.fail {
            return Err("out of memory".to_string());
        }
        self.seen.borrow_mut().extend(
            requests
                .iter()
                .map(|r| (r.before(), r.continuation.clone(), reference)),
        );
        self.requests.borrow_mut().extend(requests.iter().cloned());
        Ok(requests
            .iter()
            .map(|r| {
                let n = r.continuation.chars().count();
                (-(n as f64) * LN_2, n)
            })
            .collect())
    }
}

fn seen(m: &Halves) -> Vec<(String, String, bool)> {
    m.seen.borrow().clone()
}

#[test]
fn logprob_of_mean_sum_and_context() {
    let t = ["abc", ""];
    let mut fx = Fixture::new(&[(&t, json!({"prompt": "Q"}))]);
    let model = Halves::default();
    let mut cx = fx.cx("lp");
    cx.probes = Some(&model);
    // mean over 3 characters of −ln 2 = −ln 2; the empty text has mean 0
    approx(
        &reals_of(eval("logprob_of", vec![("text", texts(&t))], RR, &mut cx)),
        &[-LN_2, 0.0],
    );
    // sum: 3 · −ln 2; without the prompt; under the reference model
    let v = eval(
        "logprob_of",
        vec![
            ("text", texts(&t)),
            ("reduce", s("sum")),
            ("given", s("none")),
            ("model", s("reference")),
        ],
        RR,
        &mut cx,
    );
    approx(&reals_of(v), &[-3.0 * LN_2, 0.0]);
    assert_eq!(
        seen(&model),
        vec![
            ("Q".into(), "abc".into(), false),
            ("Q".into(), "".into(), false),
            ("".into(), "abc".into(), true),
            ("".into(), "".into(), true)
        ]
    );
    assert_eq!(fx.counters["lp"].calls, 4);
}

#[test]
fn perplexity_is_exp_of_minus_mean() {
    let t = ["ab", ""];
    let mut fx = Fixture::new(&[(&t, json!({"prompt": "Q"}))]);
    let model = Halves::default();
    let mut cx = fx.cx("ppl");
    cx.probes = Some(&model);
    // exp(ln 2) = 2; no tokens → 1
    approx(
        &reals_of(eval("perplexity", vec![("text", texts(&t))], RR, &mut cx)),
        &[2.0, 1.0],
    );
}

#[test]
fn probes_need_a_model_and_obey_when() {
    let t = ["ab", "cd"];
    let mut fx = Fixture::new(&[(&t, json!({"prompt": "Q"}))]);
    let err = eval(
        "perplexity",
        vec![("text", texts(&t))],
        RR,
        &mut fx.cx("ppl"),
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        "`perplexity` needs the policy model (a probe); replay cannot compute it — log its values with the rollouts \
         or run with the engine"
    );
    // only the active response is asked; the other gets the neutral 1
    let model = Halves::default();
    let mut cx = fx.cx("ppl");
    cx.probes = Some(&model);
    cx.active = Some(vec![false, true]);
    approx(
        &reals_of(eval("perplexity", vec![("text", texts(&t))], RR, &mut cx)),
        &[1.0, 2.0],
    );
    assert_eq!(seen(&model), vec![("Q".into(), "cd".into(), false)]);
    // nothing active: no model needed
    let mut cx = fx.cx("ppl");
    cx.active = Some(vec![false, false]);
    approx(
        &reals_of(eval("logprob_of", vec![("text", texts(&t))], RR, &mut cx)),
        &[0.0, 0.0],
    );
}

#[test]
fn model_errors_and_missing_prompts_fail() {
    let t = ["ab"];
    let mut fx = Fixture::new(&[(&t, json!({"prompt": "Q"}))]);
    let model = Halves {
        fail: true,
        ..Halves::default()
    };
    let mut cx = fx.cx("lp");
    cx.probes = Some(&model);
    let err = eval("logprob_of", vec![("text", texts(&t))], RR, &mut cx).unwrap_err();
    assert!(err.message.contains("out of memory"), "{}", err.message);
    assert_eq!(
        (fx.counters["lp"].calls, fx.counters["lp"].failures),
        (1, 1)
    );
    let mut fx = Fixture::new(&[(&t, json!({}))]);
    let model = Halves::default();
    let mut cx = fx.cx("lp");
    cx.probes = Some(&model);
    let err = eval("logprob_of", vec![("text", texts(&t))], RR, &mut cx).unwrap_err();
    assert!(err.message.contains("sample.prompt"), "{}", err.message);
}

#[test]
fn answer_likelihood_group_response_and_segments() {
    let t = ["ab\ncd", "x"];
    let mut fx = Fixture::new(&[(&t, json!({"prompt": "P:", "answer": "42"}))]);
    let model = Halves::default();
    let answer = || group_text(&["42"]);
    // segments of the first response: "ab" ends at token 1 (byte 2), "cd" at token 4 (the text's end)
    let segs = eval(
        "steps_of",
        vec![("text", texts(&t))],
        (Scope::Segment, Kind::Text),
        &mut fx.cx("s"),
    )
    .expect("steps");
    let mut cx = fx.cx("al");
    cx.probes = Some(&model);
    // two answer characters at 1/2 each: P = exp(mean log p) = 1/2 whatever the context
    let v = eval(
        "answer_likelihood",
        vec![("context", group_text(&["P:"])), ("target", answer())],
        (Scope::Group, Kind::Real),
        &mut cx,
    );
    approx(&reals_of(v), &[0.5]);
    let v = eval(
        "answer_likelihood",
        vec![("context", texts(&t)), ("target", answer())],
        RR,
        &mut cx,
    );
    approx(&reals_of(v), &[0.5, 0.5]);
    let v = eval(
        "answer_likelihood",
        vec![("context", Arg::from(segs)), ("target", answer())],
        (Scope::Segment, Kind::Real),
        &mut cx,
    );
    approx(&reals_of(v), &[0.5, 0.5, 0.5]);
    let contexts: Vec<String> = seen(&model).into_iter().map(|(c, _, _)| c).collect();
    assert_eq!(
        contexts,
        vec!["P:", "P:ab\ncd", "P:x", "P:ab", "P:ab\ncd", "P:x"]
    );
    // a blank target: 0 without asking
    let v = eval(
        "answer_likelihood",
        vec![("context", texts(&t)), ("target", texts(&["", " "]))],
        RR,
        &mut cx,
    );
    approx(&reals_of(v), &[0.0, 0.0]);
    assert_eq!(fx.counters["al"].calls, 6);
}

#[test]
fn answer_likelihood_prefix_is_context_not_scored() {
    let t = ["ab\ncd", "x"];
    let mut fx = Fixture::new(&[(&t, json!({"prompt": "P:", "answer": "42"}))]);
    let model = Halves::default();
    let answer = || group_text(&["42"]);
    let bridge = || s("\n</think>\n<answer>");
    // segments of the first response: "ab" ends at byte 2, "cd" at the text's end
    let segs = eval(
        "steps_of",
        vec![("text", texts(&t))],
        (Scope::Segment, Kind::Text),
        &mut fx.cx("s"),
    )
    .expect("steps");
    let mut cx = fx.cx("al");
    cx.probes = Some(&model);
    // only the two answer characters are scored, at 1/2 each: P = 1/2 (this
    // model would give 1/2 to the prefix's characters too, so the requests
    // below show that the prefix is context, not continuation)
    for (context, out, n) in [
        (group_text(&["P:"]), Scope::Group, 1),
        (texts(&t), Scope::Response, 2),
        (Arg::from(segs), Scope::Segment, 3),
    ] {
        let v = eval(
            "answer_likelihood",
            vec![
                ("context", context),
                ("target", answer()),
                ("prefix", bridge()),
            ],
            (out, Kind::Real),
            &mut cx,
        );
        approx(&reals_of(v), &vec![0.5; n]);
    }
    let b = "\n</think>\n<answer>";
    let want = |prompt: &str, context: &str| ProbeRequest::new(prompt, context, "42");
    assert_eq!(
        *model.requests.borrow(),
        vec![
            // group: the argument is the prompt, the prefix the whole response text
            want("P:", b),
            // response: the rollout, then the prefix
            want("P:", &format!("ab\ncd{b}")),
            want("P:", &format!("x{b}")),
            // segments: the rollout up to each segment's end, then the prefix
            want("P:", &format!("ab{b}")),
            want("P:", &format!("ab\ncd{b}")),
            want("P:", &format!("x{b}")),
        ]
    );
    assert_eq!(fx.counters["al"].calls, 6);
}

fn logged(logprob: Vec<f64>, ref_logprob: Vec<f64>, text: &str) -> Rollout {
    Rollout {
        logprob,
        ref_logprob,
        ..Rollout::from_text(text)
    }
}

fn kl(estimator: &str, rollouts: Vec<Rollout>) -> Result<Value> {
    let mut fx = Fixture::from_batch(Batch {
        step: 1,
        steps: 1,
        groups: vec![Group {
            sample: Default::default(),
            rollouts,
            branches: Default::default(),
        }],
    });
    eval(
        "kl_estimate",
        vec![("estimator", s(estimator))],
        (Scope::Token, Kind::Real),
        &mut fx.cx("kl"),
    )
}

#[test]
fn kl_estimators_from_logged_logprobs() {
    // d = logprob − ref_logprob = [0.5, −1]; an empty response adds no tokens
    let rollouts = || {
        vec![
            logged(vec![-1.0, -2.0], vec![-1.5, -1.0], "ab"),
            Rollout::from_text(""),
        ]
    };
    approx(&reals_of(kl("k1", rollouts())), &[0.5, -1.0]);
    // k2 = d²/2
    approx(&reals_of(kl("k2", rollouts())), &[0.125, 0.5]);
    // k3 = e^{−d} + d − 1: e^{−0.5} − 0.5 = 0.106530659…, e^{1} − 2 = 0.718281828…
    approx(
        &reals_of(kl("k3", rollouts())),
        &[(-0.5f64).exp() - 0.5, 1f64.exp() - 2.0],
    );
    // clamped to 10: d = −20 gives e^{20} − 21; NaN stays NaN
    approx(
        &reals_of(kl(
            "k3",
            vec![logged(vec![-20.0, f64::NAN], vec![0.0, 0.0], "ab")],
        )),
        &[10.0, f64::NAN],
    );
    // a rollout without logged log-probabilities is named
    let err = kl("k3", vec![Rollout::from_text("ab")]).unwrap_err();
    assert_eq!(err.at.map(|a| (a.group, a.rollout)), Some((0, Some(0))));
}

#[test]
fn probes_on_an_empty_batch_ask_nothing() {
    let mut fx = Fixture::new(&[]);
    approx(
        &reals_of(eval(
            "perplexity",
            vec![("text", texts(&[]))],
            RR,
            &mut fx.cx("ppl"),
        )),
        &[],
    );
    approx(&reals_of(kl("k3", Vec::new())), &[]);
}

#[test]
fn implements_exactly_the_registry_family() {
    use rlr_lang::registry::{Category, Family, names_in};
    let mut want = names_in(|c| c == Category::Node(Family::Probe));
    let mut have: Vec<&str> = super::ALL.iter().map(|n| n.name()).collect();
    want.sort_unstable();
    have.sort_unstable();
    assert_eq!(have, want);
}
