//! Stand-in judges and what recipes build on them: ARMed's rescaled
//! embedding similarity, CapRL's reader, R3's regularised relevance, Rubric
//! Anchors' saturated criteria, a reward-model ensemble, SophiaVL-R1's
//! trusted thinking judge. The embedder is hashed n-grams, so its
//! similarities are read from the replay; everything built on them is
//! recomputed.

use super::*;

#[test]
fn rm_ensemble_z_scores_each_member_and_penalises_their_disagreement() {
    let rows = scored("recipes/rm_ensemble.rlr", answer);
    let members = ["rm1", "rm2", "rm3", "rm4"];
    let mut steps: BTreeMap<u64, Vec<&Scored>> = BTreeMap::new();
    for r in &rows {
        steps.entry(r.key.0).or_default().push(r);
    }
    let mut disagree = false;
    for batch in steps.values() {
        // Each member is z-scored over the batch (Bessel's std).
        for m in members {
            let xs: Vec<f64> = batch.iter().map(|r| r.num(m)).collect();
            let n = xs.len() as f64;
            let mean = xs.iter().sum::<f64>() / n;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
            assert!(mean.abs() < 1e-6, "{m}: mean {mean}");
            assert!((var.sqrt() - 1.0).abs() < 1e-3, "{m}: std {}", var.sqrt());
        }
        for r in batch {
            let mut xs: Vec<f64> = members.iter().map(|m| r.num(m)).collect();
            disagree |= xs.iter().any(|x| !close(*x, xs[0]));
            let mean = xs.iter().sum::<f64>() / 4.0;
            let std = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
            xs.sort_by(f64::total_cmp);
            assert!(close(r.num("ens_mean"), mean));
            assert!(close(r.num("ens_median"), (xs[1] + xs[2]) / 2.0));
            assert!(close(r.num("ens_min"), xs[0]));
            assert!((r.num("ens_std") - std).abs() < 1e-9);
            // aggregation = "mean_minus_std", lambda = 1.
            assert!((r.num("total") - (mean - std)).abs() < 1e-9);
        }
    }
    assert!(disagree, "members draw their own noise");
}

/// The passage's facts restated, then the boxed answer.
fn grounded(sample: &Value) -> String {
    format!(
        "<think>\n{}\n</think>\n\\boxed{{{}}}",
        sample["facts"].as_str().unwrap_or(""),
        answer(sample)
    )
}

#[test]
fn rubric_anchors_saturates_each_criterion_and_vetoes_ungrounded_answers() {
    let rows = scored("recipes/rubric_anchors.rlr", grounded);
    let weights = [0.4, 0.2, 0.1, 0.2, 0.1];
    let mut vetoed = [0, 0];
    for r in &rows {
        let grades = list(r, "grades");
        assert_eq!(grades.len(), 5, "{:?}", r.values["grades"]);
        assert!(grades.iter().all(|g| (0.0..=1.0).contains(g)));
        let (correct, grounded) = (grades[0], grades[3]);
        assert!(close(r.num("correct"), correct) && close(r.num("grounded"), grounded));
        let saturated: f64 = weights.iter().zip(&grades).map(|(w, g)| w * g.sqrt()).sum();
        assert!(close(r.num("saturated"), saturated));
        let veto = grounded < 0.5;
        vetoed[usize::from(veto)] += 1;
        let total = if veto {
            0.0
        } else {
            saturated + 0.1 * correct * grounded
        };
        assert!(close(r.num("total"), total), "{:?}", r.values);
    }
    assert!(
        vetoed[0] > 0 && vetoed[1] > 0,
        "both sides of the veto: {vetoed:?}"
    );
}

/// SophiaVL-R1's demonstration format: the steps, then the boxed answer.
fn chain(sample: &Value) -> String {
    let steps: Vec<String> = reference_steps(sample)
        .enumerate()
        .map(|(k, s)| format!("Step {}: x={s}", k + 1))
        .collect();
    format!(
        "<think>\n{}\n</think>\n\\boxed{{{}}}",
        steps.join("\n"),
        answer(sample)
    )
}

#[test]
fn sophiavl_r1_trusts_the_thinking_judge_as_far_as_it_agrees_with_correctness() {
    let rows = scored("recipes/sophiavl_r1.rlr", chain);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    for g in groups.values() {
        assert_eq!(g[0].num("outcome"), 1.0, "the planted answer is right");
        let (mut right, mut wrong) = (Vec::new(), Vec::new());
        for r in g {
            let t = r.num("thinking");
            assert!((0.0..=1.0).contains(&t));
            if r.num("outcome") >= 0.5 {
                right.push(t)
            } else {
                wrong.push(t)
            }
        }
        let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
        // γ = exp(μ_c − μ_w) when the judge prefers wrong answers' thinking, else 1
        // (and 1 when either side is empty).
        let gamma = if right.is_empty() || wrong.is_empty() {
            1.0
        } else {
            let gap = mean(&right) - mean(&wrong);
            if gap < 0.0 { gap.exp() } else { 1.0 }
        };
        let degenerate = wrong.is_empty() || right.is_empty();
        for r in g {
            assert!(
                close(r.num("gamma"), gamma),
                "{} vs {gamma}",
                r.num("gamma")
            );
            assert_eq!(r.num("degenerate") == 1.0, degenerate);
            if degenerate {
                assert_eq!(r.num("thinking"), 0.0, "a degenerate group is not judged");
            }
            // α·exp(−step / T), T = the stage's 2 steps.
            let alpha = 0.3 * (-(r.key.0 as f64) / 2.0).exp();
            assert!(close(r.num("alpha"), alpha));
            let total = r.num("outcome") + gamma * alpha * r.num("thinking");
            assert!(close(r.num("total"), total));
        }
    }
}

/// The reference result itself (`evidence_math`'s `steps`, the answer's
/// line): its embedding is the reference's, so its similarity is 1.
fn the_reference(sample: &Value) -> String {
    sample["steps"].as_str().unwrap_or("").to_string()
}

#[test]
fn armed_rescales_the_semantic_reward_within_each_group() {
    let rows = scored("recipes/armed.rlr", the_reference);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let mut spread = 0;
    for g in groups.values() {
        let semantic: Vec<f64> = g.iter().map(|r| r.num("semantic")).collect();
        assert!((semantic[0] - 1.0).abs() < 1e-9, "{semantic:?}");
        let lo = semantic.iter().copied().fold(f64::MAX, f64::min);
        let hi = semantic.iter().copied().fold(f64::MIN, f64::max);
        for (r, &s) in g.iter().zip(&semantic) {
            // Group min-max, 0.5 where every similarity is the same.
            let adaptive = if hi > lo { (s - lo) / (hi - lo) } else { 0.5 };
            assert!(close(r.num("adaptive"), adaptive), "{s} in [{lo}, {hi}]");
            let correct = unit(math_equal(
                answer_of(&r.text).as_deref(),
                &answer(&r.sample),
            ));
            assert!(close(r.num("correct"), correct), "{:?}", r.text);
            assert!(close(r.num("total"), correct + 0.5 * adaptive));
        }
        if hi > lo {
            spread += 1;
            // The most similar answer gets the full 0.5, whatever its raw similarity.
            assert!(close(g[0].num("adaptive"), 1.0));
            assert!(g.iter().any(|r| r.num("adaptive") == 0.0));
        }
    }
    assert!(spread >= 1, "a group whose similarities differ");
}

/// The first checklist answer stated in the reasoning, the second only
/// after it, then the right final answer: a reader of the reasoning alone
/// answers one question of two.
fn first_fact(sample: &Value) -> String {
    let answers: Vec<&str> = sample["checklist_answers"]
        .as_str()
        .unwrap_or("")
        .lines()
        .collect();
    let (first, second) = (
        answers.first().unwrap_or(&""),
        answers.get(1).unwrap_or(&""),
    );
    format!(
        "<think>\nThe first answer is {first}.\n</think>\nThe second is {second}, so \\boxed{{{}}}",
        answer(sample)
    )
}

/// The numbers written in a text.
fn numbers_in(text: &str) -> Vec<f64> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars().chain([' ']) {
        if c.is_ascii_digit() || (c == '.' && !cur.is_empty() && !cur.contains('.')) {
            cur.push(c);
        } else if !cur.is_empty() {
            out.extend(cur.trim_end_matches('.').parse::<f64>().ok());
            cur.clear();
        }
    }
    out
}

#[test]
fn caprl_rewards_the_share_of_questions_a_reader_answers_from_the_reasoning() {
    let rows = scored("recipes/caprl.rlr", first_fact);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let mut partial = 0;
    for g in groups.values() {
        let mut answered = Vec::new();
        for r in g {
            // The reader sees the reasoning only: a question counts when its
            // answer is a number written there.
            let stated = numbers_in(think_of(&r.text));
            let answers: Vec<f64> = r.sample["checklist_answers"]
                .as_str()
                .unwrap_or("")
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect();
            assert!(!answers.is_empty());
            let found = answers.iter().filter(|a| stated.contains(a)).count();
            let share = found as f64 / answers.len() as f64;
            assert!(close(r.num("answered"), share), "{:?}: {share}", r.text);
            answered.push(share);
        }
        for (r, a) in g.iter().zip(z_scores(&answered)) {
            assert_advantage(r, "answered", a);
        }
        // The planted answer is right but carries one fact of two: the
        // reward is the reader's share, not the answer's correctness.
        assert!(close(g[0].num("_correct"), 1.0));
        partial += usize::from(answered[0] > 0.0 && answered[0] < 1.0);
    }
    assert!(
        partial >= 1,
        "a description that answers some questions only"
    );
}

/// The prompt twice: relevant to it, repetitive, and past 64 tokens.
fn prompt_twice(sample: &Value) -> String {
    let p = sample["prompt"].as_str().unwrap_or("");
    format!("{p}\n{p}")
}

#[test]
fn r3_regularises_relevance_by_repetition_and_length() {
    let rows = scored("recipes/r3.rlr", prompt_twice);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    for g in groups.values() {
        for r in g {
            let relevance = r.num("relevance");
            assert!((-1.0..=1.0 + 1e-12).contains(&relevance));
            let repetition = repetition(&r.text, 4);
            assert!(close(r.num("repetition"), repetition), "{:?}", r.text);
            let too_long = (r.length() - 64.0).max(0.0) / 64.0;
            assert!(close(r.num("too_long"), too_long));
            let total = relevance - 0.5 * repetition - 0.5 * too_long;
            assert!(close(r.num("total"), total));
        }
        // The planted text repeats the prompt: relevance near 1 (the prompt's
        // own words), and both regularisers bite.
        let planted = g[0];
        assert!(
            planted.num("relevance") > 0.9,
            "{}",
            planted.num("relevance")
        );
        assert!(
            g[1..]
                .iter()
                .all(|r| r.num("relevance") < planted.num("relevance"))
        );
        assert!(planted.num("repetition") > 0.0 && planted.num("too_long") > 0.0);
    }
}
