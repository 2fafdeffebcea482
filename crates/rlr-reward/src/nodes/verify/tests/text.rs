//! String measures.

use crate::batch::{Batch, Group, Rollout};
use crate::testing::{Fixture, constant, reals_of, responses};
use rlr_lang::ir::Const;

use super::*;

// ---- text -------------------------------------------------------------------------------------

#[test]
fn matches_and_counts_with_dotall() {
    let mut fx = fixture(&["", ""]);
    // PEARL's format pattern; `.` crosses the newline
    let v = run(
        &mut fx,
        "matches",
        vec![
            ("text", texts(&["<think>a\nb</think>\n\\boxed{1}", "no"])),
            ("pattern", s("<think>.*</think>.*\\\\boxed\\{.*\\}")),
        ],
        RB,
    );
    assert_eq!(bools(v), vec![true, false]);
    let v = run(
        &mut fx,
        "match_count",
        vec![
            ("text", texts(&["user: hi user: there", ""])),
            ("pattern", s("user: ")),
        ],
        RR,
    );
    assert_eq!(reals_of(v), vec![2.0, 0.0]);
    let err = run(
        &mut fx,
        "matches",
        vec![("text", texts(&["a", "b"])), ("pattern", s("("))],
        RB,
    )
    .unwrap_err();
    assert!(
        err.message.contains("not a valid regular expression"),
        "{}",
        err.message
    );
}

#[test]
fn token_f1_squad() {
    let mut fx = fixture(&["", "", "", "", ""]);
    // "The cat sat" → [cat, sat]; "cat sat down" → [cat, sat, down]: c = 2, P = 1, R = 2/3, F1 = 0.8.
    // with sep "|": aliases "dog", "cat sat" → max(0, 1) = 1. both empty → 1; only one empty → 0;
    // a missing label is empty.
    let v = run(
        &mut fx,
        "token_f1",
        vec![
            (
                "a",
                labels(&[
                    Some("The cat sat"),
                    Some("the cat, sat!"),
                    Some(""),
                    Some(""),
                    None,
                ]),
            ),
            (
                "b",
                labels(&[
                    Some("cat sat down"),
                    Some("dog|cat sat"),
                    Some("the"),
                    Some("x"),
                    Some("y"),
                ]),
            ),
        ],
        RR,
    );
    // row 2 without sep: [cat, sat] vs [dogcat, sat] (| is punctuation, removed) → c = 1, P = 1/2, R = 1/2, F1 = 0.5
    // row 3: "the" normalises to nothing → both empty → 1
    approx(&reals_of(v), &[0.8, 0.5, 1.0, 0.0, 0.0]);
    let v = run(
        &mut fx,
        "token_f1",
        vec![
            (
                "a",
                labels(&[
                    Some("The cat sat"),
                    Some("the cat, sat!"),
                    Some(""),
                    Some(""),
                    None,
                ]),
            ),
            (
                "b",
                labels(&[
                    Some("cat sat down"),
                    Some("dog|cat sat"),
                    Some("the"),
                    Some("x"),
                    Some("y"),
                ]),
            ),
            ("sep", s("|")),
        ],
        RR,
    );
    approx(&reals_of(v), &[0.8, 1.0, 1.0, 0.0, 0.0]);
}

#[test]
fn jaccard_of_ngrams() {
    let mut fx = fixture(&["", "", ""]);
    // n = 1: {a,b,c} vs {b,c,d}: 2 / 4; {x} vs {y}: 0; both empty: 1
    let v = run(
        &mut fx,
        "jaccard",
        vec![
            ("a", texts(&["a b c", "x", ""])),
            ("b", texts(&["B c d", "y", " "])),
        ],
        RR,
    );
    approx(&reals_of(v), &[0.5, 0.0, 1.0]);
    // n = 2: {ab, bc} vs {ab, bd}: 1 / 3; "x" has no bigram, "y" neither: both empty → 1
    let v = run(
        &mut fx,
        "jaccard",
        vec![
            ("a", texts(&["a b c", "x", "p q"])),
            ("b", texts(&["a b d", "y", "q p"])),
            ("n", int(2)),
        ],
        RR,
    );
    approx(&reals_of(v), &[1.0 / 3.0, 1.0, 0.0]);
}

#[test]
fn rouge_variants() {
    // a = the cat sat, b = the cat ran. R1: 2 common, P = R = 2/3 → 2/3. R2: {the cat, cat sat} vs
    // {the cat, cat ran}: 1 common, P = R = 1/2 → 1/2. RL: LCS "the cat" = 2 → 2/3.
    // mean = (2/3 + 1/2 + 2/3)/3 = 11/18.
    let mut fx = fixture(&["", ""]);
    let case = |fx: &mut Fixture, variant: &str| {
        reals_of(run(
            fx,
            "rouge",
            vec![
                ("a", texts(&["The cat sat", ""])),
                ("b", texts(&["the cat ran", ""])),
                ("variant", s(variant)),
            ],
            RR,
        ))
    };
    approx(&case(&mut fx, "1"), &[2.0 / 3.0, 0.0]);
    approx(&case(&mut fx, "2"), &[0.5, 0.0]);
    approx(&case(&mut fx, "l"), &[2.0 / 3.0, 0.0]);
    approx(&case(&mut fx, "mean"), &[11.0 / 18.0, 0.0]);
}

#[test]
fn wer_edit_distance() {
    let mut fx = fixture(&["", "", ""]);
    // "a b c" → "a x c d": substitute b→x, insert d: 2 edits / 4 words = 0.5; both empty: 0; only b empty: 1
    let v = run(
        &mut fx,
        "wer",
        vec![
            ("a", texts(&["a b c", "", "z"])),
            ("b", texts(&["a x c d", "", ""])),
        ],
        RR,
    );
    approx(&reals_of(v), &[0.5, 0.0, 1.0]);
}

#[test]
fn ngram_repetition_ratio() {
    let mut fx = fixture(&["", ""]);
    // bigrams of "a b a b a": ab ba ab ba → 2 distinct repeated / 4 = 0.5; one word < n = 2 → 0
    let v = run(
        &mut fx,
        "ngram_repetition",
        vec![("text", texts(&["a b a b a", "a"])), ("n", int(2))],
        RR,
    );
    approx(&reals_of(v), &[0.5, 0.0]);
}

#[test]
fn phrase_count_distinct_or_total() {
    let mut fx = fixture(&["", ""]);
    let text = texts(&["Wait, let me check. WAIT again.", ""]);
    let phrases = strs(&["wait", "Let me check", "hmm"]);
    // distinct: wait, let me check → 2; total: wait ×2 + let me check ×1 = 3
    let v = run(
        &mut fx,
        "phrase_count",
        vec![("text", text.clone()), ("phrases", phrases.clone())],
        RR,
    );
    approx(&reals_of(v), &[2.0, 0.0]);
    let v = run(
        &mut fx,
        "phrase_count",
        vec![
            ("text", text),
            ("phrases", phrases),
            ("distinct", constant(Const::Bool(false))),
        ],
        RR,
    );
    approx(&reals_of(v), &[3.0, 0.0]);
}

#[test]
fn json_valid_is_strict() {
    let mut fx = fixture(&["", "", "", "", ""]);
    let v = run(
        &mut fx,
        "json_valid",
        vec![(
            "text",
            texts(&[" {\"a\": [1, 2]} ", "{a:1}", "", "1 2", "[1,]"]),
        )],
        RB,
    );
    assert_eq!(bools(v), vec![true, false, false, false, false]);
}

#[test]
fn length_of_units() {
    let mut fx = fixture(&["<think>abc</think>xy", ""]);
    let v = run(
        &mut fx,
        "length_of",
        vec![("text", texts(&["a b  c", ""])), ("unit", s("words"))],
        RR,
    );
    approx(&reals_of(v), &[3.0, 0.0]);
    let v = run(
        &mut fx,
        "length_of",
        vec![("text", texts(&["héllo", ""])), ("unit", s("chars"))],
        RR,
    );
    approx(&reals_of(v), &[5.0, 0.0]);
    // character tokens: the whole rollout is 7 + 3 + 8 + 2 = 20 tokens; its think part 3
    let v = run(
        &mut fx,
        "length_of",
        vec![("text", texts(&["<think>abc</think>xy", ""]))],
        RR,
    );
    approx(&reals_of(v), &[20.0, 0.0]);
    let v = run(
        &mut fx,
        "length_of",
        vec![("text", texts(&["abc", ""]))],
        RR,
    );
    approx(&reals_of(v), &[3.0, 0.0]);
    // with offsets: tokens "<think>" "abc" "</think>" "xy" start at 0, 7, 10, 18 → think "abc" is 1 token
    let rollout = Rollout {
        offsets: vec![0, 7, 10, 18],
        ..Rollout::from_text("<think>abc</think>xy")
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
    let v = run(&mut fx, "length_of", vec![("text", texts(&["abc"]))], RR);
    approx(&reals_of(v), &[1.0]);
    let v = run(
        &mut fx,
        "length_of",
        vec![("text", texts(&["<think>abc</think>xy"]))],
        RR,
    );
    approx(&reals_of(v), &[4.0]);
}

#[test]
fn overlong_dapo() {
    let mut fx = fixture(&["", "", "", "", ""]);
    // L_exp = 20 − 4 = 16: 10 → 0, 16 → 0, 18 → −(2)/4 = −0.5, 20 → −1, NaN → NaN
    let v = run(
        &mut fx,
        "overlong",
        vec![
            (
                "length",
                real(responses(&[10.0, 16.0, 18.0, 20.0, f64::NAN])),
            ),
            ("max", int(20)),
            ("buffer", int(4)),
        ],
        RR,
    );
    approx(&reals_of(v), &[0.0, 0.0, -0.5, -1.0, f64::NAN]);
    let err = run(
        &mut fx,
        "overlong",
        vec![
            ("length", real(responses(&[1.0; 5]))),
            ("max", int(20)),
            ("buffer", int(0)),
        ],
        RR,
    );
    assert!(err.is_err());
}
