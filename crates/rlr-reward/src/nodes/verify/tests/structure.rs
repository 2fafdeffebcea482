//! Tool calls, segmenters, structure checks and countdown.

use rlr_lang::{Kind, Scope};

use crate::batch::{Batch, Group, Rollout};
use crate::node::Arg;
use crate::testing::{Fixture, reals_of, responses};
use crate::value::{Data, Value};

use super::*;

// ---- tools ------------------------------------------------------------------------------------

const GT: &str =
    "<tool_call>\n{\"name\": \"f\", \"parameters\": {\"a\": 1, \"b\": 2}}\n</tool_call>";

fn tool_match(preds: &[&str], expected: &str, mode: &str) -> Vec<f64> {
    let mut fx = fixture(&vec![""; preds.len()]);
    let exp: Vec<&str> = vec![expected; preds.len()];
    reals_of(run(
        &mut fx,
        "tool_call_match",
        vec![
            ("text", texts(preds)),
            ("expected", texts(&exp)),
            ("mode", s(mode)),
        ],
        RR,
    ))
}

#[test]
fn tool_call_match_fine() {
    let preds = [
        // identical up to key order and spacing → 1
        "<think>x</think>\n<tool_call>\n{\"parameters\":{\"b\":2,\"a\":1},\"name\":\"f\"}\n</tool_call>",
        // b wrong: S = J(names) 1 + [J(keys) 1 + 1 value] = 3; S_max = 1 + (1 + 2) = 4 → 0.75
        "<tool_call>\n{\"name\":\"f\",\"parameters\":{\"a\":1,\"b\":3}}\n</tool_call>",
        // wrong name: J([f],[g]) = 0, nothing matched → 0
        "<tool_call>\n{\"name\":\"g\",\"parameters\":{\"a\":1,\"b\":2}}\n</tool_call>",
        // b missing: 1 + [J([a,b],[a]) = 1/2 + 1] = 2.5 / 4 = 0.625
        "<tool_call>\n{\"name\":\"f\",\"parameters\":{\"a\":1}}\n</tool_call>",
        // no block, unparsable line → 0
        "no call",
        "<tool_call>\n{bad json}\n</tool_call>",
    ];
    approx(
        &tool_match(&preds, GT, "fine"),
        &[1.0, 0.75, 0.0, 0.625, 0.0, 0.0],
    );
    // intermediate: S = J(names) + #exact; S_max = 1 + #calls = 2 → [1, 0.5, 0, 0.5, 0, 0]
    approx(
        &tool_match(&preds, GT, "intermediate"),
        &[1.0, 0.5, 0.0, 0.5, 0.0, 0.0],
    );
    approx(
        &tool_match(&preds, GT, "coarse"),
        &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    );
    // refined: key Jaccard [a,b] vs [a] is 0 → (1 + 0 + 1) / 4 = 0.5
    approx(
        &tool_match(&preds, GT, "refined"),
        &[1.0, 0.75, 0.0, 0.5, 0.0, 0.0],
    );
}

#[test]
fn tool_call_match_greedy_and_references() {
    // gt [f(a=1), f(a=2)], pred [f(a=2), f(a=1)]: names equal → 1; gt1 best is pred1 (1 + 1 = 2),
    // gt2 takes pred0 (2): S = 5, S_max = 1 + 2 + 2 = 5 → 1
    let gt = "<tool_call>\n{\"name\":\"f\",\"parameters\":{\"a\":1}}\n{\"name\":\"f\",\"parameters\":{\"a\":2}}\n</tool_call>";
    let pred = "<tool_call>\n{\"name\":\"f\",\"parameters\":{\"a\":2}}\n{\"name\":\"f\",\"parameters\":{\"a\":1}}\n</tool_call>";
    approx(&tool_match(&[pred], gt, "fine"), &[1.0]);
    // a reference without calls: any prediction scores 0
    approx(
        &tool_match(&[pred, "none"], "<response>hi</response>", "fine"),
        &[0.0, 0.0],
    );
    // a reference that does not parse is an error
    let mut fx = fixture(&[""]);
    let err = run(
        &mut fx,
        "tool_call_match",
        vec![
            ("text", texts(&[pred])),
            ("expected", texts(&["<tool_call>\nnope\n</tool_call>"])),
        ],
        RR,
    );
    assert!(err.is_err());
}

#[test]
fn tool_call_count_counts_object_lines() {
    let mut fx = fixture(&["", ""]);
    let t = "<tool_call>\n{\"name\":\"f\"}\nnot json\n{\"name\":\"g\"}\n</tool_call> <tool_call>[1]</tool_call>";
    let v = run(
        &mut fx,
        "tool_call_count",
        vec![("text", texts(&[t, ""]))],
        RR,
    );
    approx(&reals_of(v), &[2.0, 0.0]);
}

#[test]
fn toolrl_format_templates() {
    let only_response = "<think>t</think>\n<response>r</response>";
    let only_call = "<think>t</think>\n<tool_call>\n{}\n</tool_call>";
    let both = "<think>t</think>\n<tool_call>\n{}\n</tool_call>\n<response>r</response>";
    let cases: &[(&str, &str, bool)] = &[
        (
            "<think>x</think>\n<response>y</response>",
            only_response,
            true,
        ),
        (
            "<think>x</think>\n<response>y</response>\n",
            only_response,
            true,
        ),
        (
            "<think>x</think><response>y</response>",
            only_response,
            false,
        ),
        (
            "<think>x</think>\n<response>y</response><response>z</response>",
            only_response,
            false,
        ),
        (
            "<think>x</think>\n<tool_call>\n{\"name\":\"f\"}\n</tool_call>",
            only_call,
            true,
        ),
        (
            "<think>x</think>\n<tool_call>\n{}\n</tool_call>\n<response>y</response>",
            both,
            true,
        ),
        ("<think>x</think>\n<response>y</response>", both, false),
        ("<think>x</think>", "", true),
        ("<think>x</think> extra", "", false),
    ];
    let mut fx = fixture(&vec![""; cases.len()]);
    let t: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let e: Vec<&str> = cases.iter().map(|c| c.1).collect();
    let v = run(
        &mut fx,
        "toolrl_format",
        vec![("text", texts(&t)), ("expected", texts(&e))],
        RB,
    );
    assert_eq!(bools(v), cases.iter().map(|c| c.2).collect::<Vec<_>>());
}

// ---- structure --------------------------------------------------------------------------------

#[test]
fn answers_correct_denominators() {
    let t = [
        "<a1>3</a1><a2>4</a2>",      // 1 right of 2 produced; of 3 expected
        "\\boxed{3} and \\boxed{5}", // boxed fallback: 2 of 2; 2 of 3
        "<a1>3</a1>",                // ⚠ 1 of 1 produced; 1 of 3
        "nothing",                   // 0
        "<a1>3\n</a1>",              // newline inside: not an answer → 0
    ];
    let mut fx = fixture(&vec![""; t.len()]);
    let expected = group_text(&["3\n5\n\n7"]);
    let v = run(
        &mut fx,
        "answers_correct",
        vec![("text", texts(&t)), ("expected", expected.clone())],
        RR,
    );
    approx(&reals_of(v), &[0.5, 1.0, 1.0, 0.0, 0.0]);
    let v = run(
        &mut fx,
        "answers_correct",
        vec![
            ("text", texts(&t)),
            ("expected", expected),
            ("denominator", s("expected")),
        ],
        RR,
    );
    approx(&reals_of(v), &[1.0 / 3.0, 2.0 / 3.0, 1.0 / 3.0, 0.0, 0.0]);
}

#[test]
fn atomic_format_rules() {
    let tags = strs(&["plan", "verify"]);
    let cases: &[(&str, bool, bool)] = &[
        // (text, with tags [plan, verify], with tags [])
        (
            "<think><plan>p</plan> <search>q</search><result>r</result>\n<verify>v</verify></think><answer>a</answer>",
            true,
            true,
        ),
        (
            "<think><plan><verify>x</verify></plan></think><answer>a</answer>",
            false,
            false,
        ),
        ("<think> </think><answer>a</answer>", false, false),
        ("<think><foo>x</foo></think><answer>a</answer>", false, true),
        ("<think><plan>p</plan></think>", false, false),
        (
            "<think><plan>p</plan></think><answer>a</answer> more",
            false,
            false,
        ),
        (
            "<think><plan>p</plan>loose text</think><answer>a</answer>",
            false,
            false,
        ),
    ];
    let t: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let mut fx = fixture(&vec![""; t.len()]);
    let v = run(
        &mut fx,
        "atomic_format",
        vec![("text", texts(&t)), ("tags", tags)],
        RB,
    );
    assert_eq!(bools(v), cases.iter().map(|c| c.1).collect::<Vec<_>>());
    let v = run(&mut fx, "atomic_format", vec![("text", texts(&t))], RB);
    assert_eq!(bools(v), cases.iter().map(|c| c.2).collect::<Vec<_>>());
}

fn segs_of(v: &Value) -> (Vec<usize>, Vec<usize>, Vec<String>) {
    let segs = v.segs.as_ref().expect("segmentation");
    let t = match &v.data {
        Data::Text(t) => t.clone(),
        other => panic!("not text: {other:?}"),
    };
    (segs.seg_start.clone(), segs.end_token.clone(), t)
}

#[test]
fn segments_cut_tagged_blocks() {
    // "<think>" 0..7, "<plan>" 7..13, "p1" 13..15, "</plan>" 15..22 → closing '>' at byte 21;
    // " x " 22..25, "<verify>" 25..33, "v" 33, "</verify>" 34..43 → '>' at 42. Character tokens.
    let text = "<think><plan>p1</plan> x <verify>v</verify></think>";
    let mut fx = fixture(&[text, "no blocks"]);
    let v = run(
        &mut fx,
        "segments",
        vec![
            ("text", texts(&[text, "no blocks"])),
            ("tags", strs(&["plan", "verify"])),
        ],
        ST,
    )
    .expect("segments");
    assert_eq!(v.scope, Scope::Segment);
    assert_eq!(
        segs_of(&v),
        (
            vec![0, 2, 2],
            vec![21, 42],
            vec!["p1".to_string(), "v".to_string()]
        )
    );
    // no tags: innermost blocks only, the think block is looked into
    let v = run(
        &mut fx,
        "segments",
        vec![("text", texts(&[text, "no blocks"]))],
        ST,
    )
    .expect("segments");
    assert_eq!(
        segs_of(&v),
        (
            vec![0, 2, 2],
            vec![21, 42],
            vec!["p1".to_string(), "v".to_string()]
        )
    );
}

#[test]
fn steps_of_splits_and_locates() {
    // "a\n\n b \nc": pieces "a"@0, ""@2, " b "@3 (b at 4), "c"@7
    let mut fx = fixture(&["a\n\n b \nc", "<think>x\ny</think>z", ""]);
    let v = run(
        &mut fx,
        "steps_of",
        vec![("text", texts(&["a\n\n b \nc", "x\ny", ""]))],
        ST,
    )
    .expect("steps");
    // second response: `think` "x\ny" starts at byte 7 of its rollout → steps end at tokens 7 and 9;
    // the empty third response has none
    assert_eq!(
        segs_of(&v),
        (
            vec![0, 3, 5, 5],
            vec![0, 4, 7, 7, 9],
            ["a", "b", "c", "x", "y"]
                .iter()
                .map(|s| s.to_string())
                .collect()
        )
    );
}

#[test]
fn turns_of_by_text_and_by_tool_flags() {
    // "call " 0..5, "<result>out</result>" 5..25, " next" 25..30: turns "call" (last byte 3) and "next" (29)
    let text = "call <result>out</result> next";
    let mut fx = fixture(&[text, ""]);
    let v = run(&mut fx, "turns_of", vec![("text", texts(&[text, ""]))], ST).expect("turns");
    assert_eq!(
        segs_of(&v),
        (
            vec![0, 2, 2],
            vec![3, 29],
            vec!["call".to_string(), "next".to_string()]
        )
    );
    // tool flags: tokens a b X Y c d, X Y inserted by a tool → turns "ab" ending at token 1, "cd" at 5
    let rollout = Rollout {
        tool: vec![false, false, true, true, false, false],
        ..Rollout::from_text("abXYcd")
    };
    let mut fx = Fixture::from_batch(Batch {
        step: 1,
        steps: 1,
        groups: vec![Group {
            sample: Default::default(),
            rollouts: vec![rollout],
            branches: Default::default(),
        }],
    });
    let v = run(&mut fx, "turns_of", vec![("text", texts(&["abXYcd"]))], ST).expect("turns");
    assert_eq!(
        segs_of(&v),
        (
            vec![0, 2],
            vec![1, 5],
            vec!["ab".to_string(), "cd".to_string()]
        )
    );
}

#[test]
fn textual_verifier_on_segments_keeps_the_segmentation() {
    let mut fx = fixture(&["a1\nbb\nc2"]);
    let steps = run(
        &mut fx,
        "steps_of",
        vec![("text", texts(&["a1\nbb\nc2"]))],
        ST,
    )
    .expect("steps");
    let v = run(
        &mut fx,
        "matches",
        vec![("text", Arg::from(steps.clone())), ("pattern", s("[0-9]"))],
        (Scope::Segment, Kind::Bool),
    )
    .expect("matches");
    assert_eq!(v.bools(), Some(&[true, false, true][..]));
    assert_eq!(v.segs, steps.segs);
    // length in tokens of each step: 2 characters each
    let v = run(
        &mut fx,
        "length_of",
        vec![("text", Arg::from(steps))],
        (Scope::Segment, Kind::Real),
    );
    approx(&reals_of(v), &[2.0, 2.0, 2.0]);
}

#[test]
fn equation_valid_countdown() {
    let exprs = [
        Some("(3+5)*2"),          // 16 with 3, 5, 2 → 1
        Some("3*5+2"),            // 17 → 0
        Some("(3+5)*2*2"),        // 2 used twice → 0
        Some("(3 + 5) × 2 = 16"), // part before '=' → 1
        Some("8*2"),              // numbers differ → 0
        Some("3/0+5+2"),          // division by zero → 0
        Some("-3+5+2"),           // unary minus → 0
        None,                     // nothing extracted → 0
    ];
    let mut fx = fixture(&vec![""; exprs.len()]);
    let v = run(
        &mut fx,
        "equation_valid",
        vec![
            ("expr", labels(&exprs)),
            ("numbers", group_text(&["3 5 2"])),
            ("target", group_text(&["16"])),
        ],
        RR,
    );
    approx(&reals_of(v), &[1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    // exact rationals: 6/4 = 3/2 against a fraction and a real target
    let mut fx = fixture(&["", ""]);
    let v = run(
        &mut fx,
        "equation_valid",
        vec![
            ("expr", labels(&[Some("6/4"), Some("6/4")])),
            ("numbers", group_text(&["6 4"])),
            ("target", texts(&["3/2", "1.4"])),
        ],
        RR,
    );
    approx(&reals_of(v), &[1.0, 0.0]);
    let v = run(
        &mut fx,
        "equation_valid",
        vec![
            ("expr", labels(&[Some("6/4"), Some("4/6")])),
            ("numbers", group_text(&["6 4"])),
            ("target", real(responses(&[1.5, 1.5]))),
        ],
        RR,
    );
    approx(&reals_of(v), &[1.0, 0.0]);
}

#[test]
fn segmenters_on_an_empty_batch() {
    let mut fx = Fixture::new(&[]);
    for name in ["segments", "steps_of", "turns_of"] {
        let v = run(&mut fx, name, vec![("text", texts(&[]))], ST).expect(name);
        assert_eq!(v.segs.as_ref().map(|s| s.seg_start.clone()), Some(vec![0]));
    }
}

#[test]
fn implements_exactly_the_registry_family() {
    use rlr_lang::registry::{Category, Family, names_in};
    let mut want = names_in(|c| c == Category::Node(Family::Verify));
    let mut have: Vec<&str> = ALL.iter().map(|n| n.name()).collect();
    want.sort_unstable();
    have.sort_unstable();
    assert_eq!(have, want);
}
