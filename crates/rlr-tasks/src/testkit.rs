//! Test helpers for the synthetic tasks: declarations with registry
//! defaults, the checks every task must pass, and reward nodes of
//! `rlr-reward` evaluated on one sample and one response.

use std::collections::{BTreeMap, HashSet};

use rlr_lang::ir::{Const, Decl};
use rlr_lang::registry::{self, DefaultValue};
use rlr_lang::{Kind, Scope, Span};
use rlr_reward::node::Arg;
use rlr_reward::nodes::verify::extract_answer;
use rlr_reward::testing::{Fixture, call, constant, reals_of};
use rlr_reward::{Data, SetId, Value};

use crate::{Sample, Split, Task};

/// Asserts that the registry's default for `builtin`'s string parameter
/// `param` is `expected`, the constant the task falls back on.
pub(crate) fn assert_registry_default(builtin: &str, param: &str, expected: &str) {
    let spec = registry::lookup(builtin)
        .and_then(|b| b.params.iter().find(|p| p.name == param))
        .and_then(|p| p.default);
    assert!(
        matches!(&spec, Some(DefaultValue::Str(s)) if *s == expected),
        "{builtin}({param}): {spec:?}"
    );
}

/// A task declaration of `builtin` with the registry's defaults and `args` over them.
pub(crate) fn decl(builtin: &str, args: &[(&str, Const)]) -> Decl {
    let b = registry::lookup(builtin).unwrap_or_else(|| panic!("no built-in `{builtin}`"));
    let mut map = BTreeMap::new();
    for p in b.params {
        let d = match p.default {
            Some(DefaultValue::Int(i)) => Const::Int(i),
            Some(DefaultValue::Real(x)) => Const::Real(x),
            Some(DefaultValue::Bool(x)) => Const::Bool(x),
            Some(DefaultValue::Str(s)) => Const::Str(s.to_string()),
            Some(DefaultValue::EmptyList) => Const::List(Vec::new()),
            _ => continue,
        };
        map.insert(p.name.to_string(), d);
    }
    for (k, v) in args {
        assert!(
            map.contains_key(*k) || b.params.iter().any(|p| p.name == *k),
            "no parameter `{k}`"
        );
        map.insert(k.to_string(), v.clone());
    }
    Decl {
        kind: rlr_lang::ast::DeclKind::Task,
        name: "train".to_string(),
        builtin: b.name,
        args: map,
        span: Span::default(),
    }
}

/// An integer constant.
pub(crate) fn int(i: i64) -> Const {
    Const::Int(i)
}

/// A real constant.
pub(crate) fn share(x: f64) -> Const {
    Const::Real(x)
}

/// A string constant.
pub(crate) fn text(s: &str) -> Const {
    Const::Str(s.to_string())
}

/// The checks every task passes: determinism, seeds matter, exactly the
/// registry's fields with the registry's kinds, and disjoint splits (by prompt)
/// over `n` samples of each.
pub(crate) fn common<T: Task>(make: impl Fn(u64) -> T, n: u64) {
    let (a, b, other) = (make(11), make(11), make(12));
    let builtin = registry::lookup(a.name()).unwrap_or_else(|| panic!("no `{}`", a.name()));
    let mut differ = 0;
    let mut prompts: [HashSet<String>; 2] = [HashSet::new(), HashSet::new()];
    for (k, split) in [Split::Train, Split::Heldout].into_iter().enumerate() {
        for i in 0..n {
            let s = a.sample(split, i);
            if i < 50 {
                assert_eq!(s, b.sample(split, i), "not deterministic");
                if s != other.sample(split, i) {
                    differ += 1;
                }
            }
            let names: Vec<&str> = s.fields.keys().map(String::as_str).collect();
            let mut want: Vec<&str> = builtin.sample_fields.iter().map(|f| f.name).collect();
            want.sort_unstable();
            assert_eq!(names, want, "fields of `{}`", a.name());
            for f in builtin.sample_fields {
                let v = &s.fields[f.name];
                match f.ty.kind {
                    Kind::Bool => assert!(v.is_boolean(), "{}: {v}", f.name),
                    Kind::Real => assert!(v.is_number(), "{}: {v}", f.name),
                    _ => assert!(v.is_string(), "{}: {v}", f.name),
                }
            }
            assert!(!s.prompt().is_empty());
            assert!(!s.demonstration.is_empty());
            prompts[k].insert(s.prompt().to_string());
        }
    }
    assert!(
        differ >= 50,
        "another seed changed only {differ} of 100 samples"
    );
    let shared = prompts[0].intersection(&prompts[1]).count();
    assert_eq!(
        shared,
        0,
        "the splits of `{}` share {shared} prompts",
        a.name()
    );
}

fn response_text(t: &str) -> Arg<'static> {
    Arg::from(Value::new(
        Scope::Response,
        SetId::Main,
        Data::Text(vec![t.to_string()]),
    ))
}

fn response_label(t: &str) -> Arg<'static> {
    Arg::from(Value::new(
        Scope::Response,
        SetId::Main,
        Data::Label(vec![extract_answer(t)]),
    ))
}

fn group_label(t: &str) -> Arg<'static> {
    Arg::from(Value::new(
        Scope::Group,
        SetId::Main,
        Data::Label(vec![Some(t.to_string())]),
    ))
}

fn group_text(t: &str) -> Arg<'static> {
    Arg::from(Value::new(
        Scope::Group,
        SetId::Main,
        Data::Text(vec![t.to_string()]),
    ))
}

/// Evaluates the node `name` on one response `text` of a group with `sample`.
fn eval(
    name: &str,
    sample: &Sample,
    text: &str,
    args: Vec<(&'static str, Arg<'static>)>,
    out: (Scope, Kind),
) -> Value {
    let record = serde_json::Value::Object(sample.fields.clone());
    let mut fx = Fixture::new(&[(&[text], record)]);
    let node = rlr_reward::nodes::lookup(name).unwrap_or_else(|| panic!("no node `{name}`"));
    node.eval(&call(name, args, out, &[]), &mut fx.cx("test"))
        .unwrap_or_else(|e| panic!("{name} failed: {e}"))
}

fn real(v: Value) -> f64 {
    let xs = reals_of(Ok(v));
    assert_eq!(xs.len(), 1);
    xs[0]
}

const RR: (Scope, Kind) = (Scope::Response, Kind::Real);

/// `exact(answer, b)` with `answer` extracted from `text`.
pub(crate) fn exact(text: &str, b: &str) -> f64 {
    let s = Sample {
        fields: serde_json::Map::new(),
        demonstration: String::new(),
        auxiliary: Vec::new(),
    };
    real(eval(
        "exact",
        &s,
        text,
        vec![("a", response_label(text)), ("b", group_label(b))],
        RR,
    ))
}

/// `math_equal(boxed(text), sample.answer)`.
pub(crate) fn math_equal_boxed(s: &Sample, text: &str) -> f64 {
    let boxed = eval(
        "boxed",
        s,
        text,
        vec![("text", response_text(text))],
        (Scope::Response, Kind::Label),
    );
    real(eval(
        "math_equal",
        s,
        text,
        vec![("a", Arg::from(boxed)), ("b", group_label(s.answer()))],
        RR,
    ))
}

/// `matches(text, pattern)`.
pub(crate) fn matches(text: &str, pattern: &str) -> bool {
    let s = Sample {
        fields: serde_json::Map::new(),
        demonstration: String::new(),
        auxiliary: Vec::new(),
    };
    let v = eval(
        "matches",
        &s,
        text,
        vec![
            ("text", response_text(text)),
            ("pattern", constant(Const::Str(pattern.to_string()))),
        ],
        (Scope::Response, Kind::Bool),
    );
    match v.data {
        Data::Bool(b) => b == [true],
        other => panic!("not a flag: {other:?}"),
    }
}

/// A judge `name(text, sample)` on a sample's demonstration.
pub(crate) fn judge(name: &str, s: &Sample) -> f64 {
    real(eval(
        name,
        s,
        &s.demonstration,
        vec![("text", response_text(&s.demonstration))],
        RR,
    ))
}

/// `judge.reward_model(text, sample)` on the demonstration: 3 is full marks.
pub(crate) fn reward_model(s: &Sample) -> f64 {
    judge("judge.reward_model", s)
}

/// `answers_correct(text, sample.checklist_answers)` for a response `text`.
pub(crate) fn answers_correct(s: &Sample, text: &str) -> f64 {
    let expected = s
        .fields
        .get("checklist_answers")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    real(eval(
        "answers_correct",
        s,
        text,
        vec![
            ("text", response_text(text)),
            ("expected", group_text(expected)),
        ],
        RR,
    ))
}

/// `equation_valid(answer, sample.numbers, sample.target)`.
pub(crate) fn equation_valid(s: &Sample, text: &str) -> f64 {
    let field = |k: &str| {
        s.fields
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    real(eval(
        "equation_valid",
        s,
        text,
        vec![
            ("expr", response_label(text)),
            ("numbers", group_text(&field("numbers"))),
            ("target", group_label(&field("target"))),
        ],
        RR,
    ))
}

/// The maths rewards of the recipes give a demonstration full marks:
/// `exact(answer, sample.answer)`, `math_equal(boxed(text), sample.answer)`,
/// PEARL's format pattern, `judge.steps`, and `after_think` has a boxed number
/// (EVOL-RL's validity).
pub(crate) fn full_marks_math(s: &Sample) {
    let d = &s.demonstration;
    assert_eq!(exact(d, s.answer()), 1.0, "exact: {d}");
    assert_eq!(math_equal_boxed(s, d), 1.0, "math_equal: {d}");
    assert!(
        matches(d, "(?s)<think>.*</think>.*\\\\boxed\\{.*\\}"),
        "format: {d}"
    );
    assert!(
        matches(d, "</think>(?s:.)*\\\\boxed\\{[^}]*[0-9][^}]*\\}"),
        "valid: {d}"
    );
    assert_eq!(judge("judge.steps", s), 1.0, "judge.steps: {d}");
}
