//! Tests of the verify family: expected values are worked out by hand in the comments.
//! `text.rs` tests the string measures, `structure.rs` the tool, segment and structure checks.

mod structure;
mod text;

use rlr_lang::ir::Const;
use rlr_lang::{Kind, Scope};
use serde_json::json;

use crate::error::Result;
use crate::layout::SetId;
use crate::node::Arg;
use crate::testing::{Fixture, call, constant, reals_of, responses};
use crate::value::{Data, Value};

use super::{ALL, after_think, extract_answer, think_of};

fn run(
    fx: &mut Fixture,
    name: &str,
    args: Vec<(&'static str, Arg<'static>)>,
    out: (Scope, Kind),
) -> Result<Value> {
    let node = ALL
        .iter()
        .find(|n| n.name() == name)
        .unwrap_or_else(|| panic!("no `{name}`"));
    let c = call(name, args, out, &[]);
    let mut cx = fx.cx("node");
    node.eval(&c, &mut cx)
}

fn texts(xs: &[&str]) -> Arg<'static> {
    Arg::from(Value::new(
        Scope::Response,
        SetId::Main,
        Data::Text(xs.iter().map(|s| s.to_string()).collect()),
    ))
}

fn labels(xs: &[Option<&str>]) -> Arg<'static> {
    Arg::from(Value::new(
        Scope::Response,
        SetId::Main,
        Data::Label(xs.iter().map(|s| s.map(str::to_string)).collect()),
    ))
}

fn group_text(xs: &[&str]) -> Arg<'static> {
    Arg::from(Value::new(
        Scope::Group,
        SetId::Main,
        Data::Text(xs.iter().map(|s| s.to_string()).collect()),
    ))
}

fn real(v: Value) -> Arg<'static> {
    Arg::from(v)
}

fn s(x: &str) -> Arg<'static> {
    constant(Const::Str(x.to_string()))
}

fn strs(xs: &[&str]) -> Arg<'static> {
    constant(Const::List(
        xs.iter().map(|x| Const::Str(x.to_string())).collect(),
    ))
}

fn int(i: i64) -> Arg<'static> {
    constant(Const::Int(i))
}

fn fixture(texts: &[&str]) -> Fixture {
    Fixture::new(&[(texts, json!({"answer": "x"}))])
}

const RR: (Scope, Kind) = (Scope::Response, Kind::Real);
const RB: (Scope, Kind) = (Scope::Response, Kind::Bool);
const RL: (Scope, Kind) = (Scope::Response, Kind::Label);
const ST: (Scope, Kind) = (Scope::Segment, Kind::Text);

fn bools(v: Result<Value>) -> Vec<bool> {
    v.expect("evaluation").bools().expect("bools").to_vec()
}

fn labels_of(v: Result<Value>) -> Vec<Option<String>> {
    match v.expect("evaluation").data {
        Data::Label(l) => l,
        other => panic!("not labels: {other:?}"),
    }
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

// ---- extraction helpers -----------------------------------------------------------------------

#[test]
fn extraction_helpers() {
    // last closed \boxed wins, braces balanced
    assert_eq!(
        extract_answer("so \\boxed{1} or \\boxed{\\frac{1}{2}}.").as_deref(),
        Some("\\frac{1}{2}")
    );
    // no box: the last <answer> block
    assert_eq!(
        extract_answer("<answer> 7 </answer>\ntrailing").as_deref(),
        Some("7")
    );
    // neither: the last non-empty line, trimmed
    assert_eq!(extract_answer("first\n  42  \n\n").as_deref(), Some("42"));
    assert_eq!(extract_answer("  \n "), None);
    assert_eq!(think_of("<think>abc</think>rest"), "abc");
    // the opening tag was in the prompt
    assert_eq!(think_of("abc</think>rest"), "abc");
    assert_eq!(think_of("no tags"), "");
    assert_eq!(after_think("<think>abc</think>rest"), "rest");
    assert_eq!(after_think("no tags"), "no tags");
}

// ---- equal ------------------------------------------------------------------------------------

#[test]
fn exact_normalises_and_rejects_empty() {
    // group answer "the  answer" broadcast to 3 responses; labels normalised: trim, collapse, lower
    let mut fx = fixture(&["", "", ""]);
    let v = run(
        &mut fx,
        "exact",
        vec![
            ("a", labels(&[Some(" The Answer "), Some("x"), None])),
            ("b", group_text(&["the  answer"])),
        ],
        RR,
    );
    assert_eq!(reals_of(v), vec![1.0, 0.0, 0.0]);
    // without normalisation case matters; an empty label never matches, even an empty one
    let v = run(
        &mut fx,
        "exact",
        vec![
            ("a", labels(&[Some("A"), Some(""), Some("b")])),
            ("b", labels(&[Some("a"), Some(""), Some("b")])),
            ("normalize", constant(Const::Bool(false))),
        ],
        RR,
    );
    assert_eq!(reals_of(v), vec![0.0, 0.0, 1.0]);
}

#[test]
fn exact_group_of_one_and_empty_batch() {
    let mut fx = Fixture::new(&[(&["x"], json!({}))]);
    let v = run(
        &mut fx,
        "exact",
        vec![("a", labels(&[Some("5")])), ("b", group_text(&["5"]))],
        RR,
    );
    assert_eq!(reals_of(v), vec![1.0]);
    let mut empty = Fixture::new(&[]);
    let v = run(
        &mut empty,
        "exact",
        vec![("a", labels(&[])), ("b", group_text(&[]))],
        RR,
    );
    assert_eq!(reals_of(v), Vec::<f64>::new());
}

#[test]
fn numeric_equal_parses_numbers() {
    let mut fx = fixture(&["", "", "", "", "", ""]);
    // 1,234 = 1234; 3/4 = 0.75; 1e3 = 1000; "abc" does not parse; "12,34" is not a thousands number;
    // 2.0000001 vs 2: |d| = 1e-7 <= 1e-6 · max(1, 2)
    let v = run(
        &mut fx,
        "numeric_equal",
        vec![
            (
                "a",
                texts(&["1,234", "3/4", "1e3", "abc", "12,34", "2.0000001"]),
            ),
            (
                "b",
                real(responses(&[1234.0, 0.75, 1000.0, 1.0, 1234.0, 2.0])),
            ),
        ],
        RR,
    );
    assert_eq!(reals_of(v), vec![1.0, 1.0, 1.0, 0.0, 0.0, 1.0]);
    // NaN reference never matches; a missing label gives 0
    let mut fx = fixture(&["", ""]);
    let v = run(
        &mut fx,
        "numeric_equal",
        vec![
            ("a", labels(&[Some("1"), None])),
            ("b", real(responses(&[f64::NAN, 1.0]))),
        ],
        RR,
    );
    assert_eq!(reals_of(v), vec![0.0, 0.0]);
}

#[test]
fn math_equal_normalises_latex() {
    let a = [
        "\\frac{1}{2}",    // = 0.5
        "$\\dfrac{3}{4}$", // \dfrac → \frac, $ stripped = 0.75
        "1,000",           // thousands comma removed
        "50\\%",           // percentage as written: 50
        "\\text{Yes}.",    // \text unwrapped, trailing period, lower-case: "yes"
        "90^\\circ",       // degrees stripped
        "x + 1",           // strings without spaces: "x+1"
        "",                // empty side gives 0
        "-\\frac12",       // -1/2
        "\\boxed{2}",      // whole-answer box unwrapped
        "3",               // 3 ≠ 4
    ];
    let b = [
        "0.5", "3/4", "1000", "50", "yes", "90", "x+1", "", "-0.5", "2", "4",
    ];
    let mut fx = fixture(&vec![""; a.len()]);
    let v = run(
        &mut fx,
        "math_equal",
        vec![("a", texts(&a)), ("b", texts(&b))],
        RR,
    );
    assert_eq!(
        reals_of(v),
        vec![1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0]
    );
}

#[test]
fn boxed_and_tag_extract_the_last() {
    let mut fx = fixture(&["", "", "", ""]);
    let v = run(
        &mut fx,
        "boxed",
        vec![(
            "text",
            texts(&[
                "a \\boxed{\\frac{1}{2}} b",
                "\\boxed{1} then \\boxed{2}",
                "none",
                "\\boxed{3} \\boxed{4",
            ]),
        )],
        RL,
    );
    assert_eq!(
        labels_of(v),
        vec![Some("\\frac{1}{2}".into()), Some("2".into()), None, None]
    );
    let mut fx = fixture(&["", "", ""]);
    let v = run(
        &mut fx,
        "tag",
        vec![
            (
                "text",
                texts(&[
                    "<answer> 5 </answer>",
                    "<answer>1</answer><answer>2",
                    "nothing",
                ]),
            ),
            ("name", s("answer")),
        ],
        RL,
    );
    assert_eq!(labels_of(v), vec![Some("5".into()), None, None]);
}

#[test]
fn last_number_is_the_last_one_written_with_its_sign() {
    let mut fx = fixture(&["", "", "", "", "", ""]);
    let v = run(
        &mut fx,
        "last_number",
        vec![(
            "text",
            texts(&[
                "3 - 6 = -3.",
                "12 + 0 = 12 in arithmetic",
                "So 3-6 is it",
                "about 1,234.5 apples",
                "no digits",
                "\\boxed{42}",
            ]),
        )],
        RL,
    );
    assert_eq!(
        labels_of(v),
        vec![
            Some("-3".into()),
            Some("12".into()),
            Some("6".into()),
            Some("1,234.5".into()),
            None,
            Some("42".into()),
        ]
    );
}
