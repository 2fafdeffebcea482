//! An outcome reshaped: DAPO's overlong penalty and dynamic sampling, Climb
//! Carves Wisdom's reasoning-pattern reward under noisy labels, PEARL's
//! perception anchor, PAR's win rate against references, Co-Reward's
//! cross-phrasing votes.

use super::*;

#[test]
fn dapo_shapes_overlong_answers_and_drops_uniform_groups() {
    let rows = scored("recipes/dapo.rlr", answer);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let mut kept = 0;
    for g in groups.values() {
        let correct: Vec<f64> = g.iter().map(|r| r.num("correct")).collect();
        assert_eq!(correct[0], 1.0, "the planted answer is right");
        let uniform = correct.iter().all(|&c| c == correct[0]);
        for r in g {
            let c = r.num("correct");
            assert!(close(r.num("signed"), 2.0 * c - 1.0));
            // overlong with max 16, buffer 16: −(L − 0)/16 capped at 0, floored by the −1 of a full-length answer.
            assert!(r.num("long") <= 0.0 && r.num("long") >= -1.0);
            assert!(close(r.num("total"), r.num("signed") + r.num("long")));
            assert_eq!(r.dropped, uniform, "drop when std(correct) == 0");
        }
        kept += usize::from(!uniform);
    }
    assert!(kept >= 1, "the planted answers make groups informative");
}

#[test]
fn pearl_scores_outcome_and_anchors_the_advantage_on_perception() {
    let rows = scored("recipes/pearl.rlr", boxed);
    let main: Vec<Scored> = rows
        .into_iter()
        .filter(|r| r.values.contains_key("outcome"))
        .collect();
    let groups = groups(&main);
    assert!(groups.len() >= 2);
    for g in groups.values() {
        assert_eq!(g[0].num("accuracy"), 1.0, "the planted answer is right");
        assert_eq!(g[0].num("form"), 1.0, "and well formed");
        let solved = g.iter().map(|r| r.num("accuracy")).sum::<f64>() / g.len() as f64;
        for r in g {
            assert!(close(
                r.num("outcome"),
                0.9 * r.num("accuracy") + 0.1 * r.num("form")
            ));
            assert!(close(r.num("solved"), solved));
            let evidence = r.num("evidence");
            let informative =
                (solved > 0.01 && solved < 0.99) || (evidence > 0.01 && evidence < 0.99);
            assert_eq!(r.num("informative") == 1.0, informative);
            assert_eq!(r.dropped, !informative, "drop when not informative");
            assert!(close(r.num("optimize.scale"), evidence.max(0.5)));
        }
    }
}

/// Three of RPR's key phrases ("wait", "let me check", "therefore"), then the boxed answer.
fn patterned(sample: &Value) -> String {
    format!(
        "<think>\nwait, let me check. therefore\n</think>\n\\boxed{{{}}}",
        answer(sample)
    )
}

/// The Reasoning Pattern Reward's 40 phrases, as the paper's code lists them.
const RPR_PHRASES: &[&str] = &[
    "i need to",
    "we need to",
    "wait",
    "alternatively",
    "let me check",
    "let me see",
    "let's focus on",
    "we know that",
    "we can observe ",
    "we can see ",
    "let me try",
    "let's try",
    "let us try",
    "first, ",
    "firstly, ",
    "next, ",
    "finally, ",
    "let us first",
    "let's first",
    "let me first",
    "try again",
    "still not",
    "not working",
    "not correct",
    "does not work",
    "doesn't work",
    "makes sence",
    "since we ",
    "because we ",
    "consequently",
    "as a result",
    "thus",
    "therefore",
    "hence",
    "so that",
    "thereby",
    "if we",
    "given there ",
    "for instance ",
    "for example ",
];

#[test]
fn climb_rpr_counts_reasoning_phrases_and_flips_whole_groups() {
    let rows = scored("recipes/climb_rpr.rlr", patterned);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    for g in groups.values() {
        assert_eq!(g[0].num("correct"), 1.0, "the planted answer is right");
        assert_eq!(g[0].num("patterns"), 3.0, "{}", g[0].text);
        // The flip is drawn once per group.
        let flipped = g[0].num("noisy") != g[0].num("correct");
        for r in g {
            let lower = r.text.to_lowercase();
            let present = RPR_PHRASES.iter().filter(|p| lower.contains(*p)).count() as f64;
            assert!(close(r.num("patterns"), present), "{:?}", r.text);
            let users = lower.matches("user: ").count() as f64;
            assert!(close(r.num("user_turns"), users));
            // Under 20 words there is no 20-gram to repeat.
            assert!(r.text.split_whitespace().count() < 20);
            let rpr = ((present / 20.0).min(1.0) - users).max(0.0);
            assert!(close(r.num("rpr"), rpr));
            let c = r.num("correct");
            let noisy = if flipped { 1.0 - c } else { c };
            assert!(close(r.num("noisy"), noisy));
            // Calibration: RPR where the noisy reward is 0.
            let total = if noisy < 0.5 { rpr } else { noisy };
            assert!(close(r.num("total"), total));
        }
    }
}

#[test]
fn par_shapes_the_score_into_its_win_rate_against_the_reference_table() {
    let rows = scored("recipes/par.rlr", answer);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    for g in groups.values() {
        let refs: Vec<f64> = g
            .iter()
            .filter(|r| r.branch.as_deref() == Some("refs"))
            .map(|r| r.num("ref_score"))
            .collect();
        assert_eq!(refs.len(), 10, "M = 10 references per prompt");
        for r in g.iter().filter(|r| r.branch.is_none()) {
            // Length penalty 0.01 per token beyond 300: none at this size.
            assert!(close(r.num("penalised"), r.num("score")));
            // r = (1/M) Σ_m σ(k (r − r_ref_m)), k = 1.
            let shaped = refs
                .iter()
                .map(|x| 1.0 / (1.0 + (-(r.num("penalised") - x)).exp()))
                .sum::<f64>()
                / refs.len() as f64;
            assert!(
                (r.num("shaped") - shaped).abs() < 1e-9,
                "{} vs {shaped}",
                r.num("shaped")
            );
        }
    }
}

/// The right answer on the rephrased side too, in every other group: there
/// the two sides' votes agree, elsewhere they differ.
fn rephrased_every_other(sample: &Value, k: usize) -> Option<String> {
    k.is_multiple_of(2).then(|| answer(sample))
}

/// The majority of the non-empty labels (compared as `exact` does), ties to
/// the one sampled first.
fn mode(labels: &[String]) -> String {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let count = |l: &str| labels.iter().filter(|m| norm(m) == norm(l)).count();
    let mut best = String::new();
    for l in labels.iter().filter(|l| !norm(l).is_empty()) {
        if best.is_empty() || count(l) > count(&best) {
            best = l.clone();
        }
    }
    best
}

#[test]
fn co_reward_rewards_each_phrasing_by_the_other_phrasings_vote() {
    let rows = Replay::new("recipes/co_reward.rlr", answer)
        .branch("rephrased", rephrased_every_other)
        .run();
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let norm = |v: &Value| v.as_str().unwrap_or("").trim().to_lowercase();
    let (mut agree, mut disagree) = (0, 0);
    for g in groups.values() {
        let original = main_of(g);
        let rephrased = branch_of(g, "rephrased");
        assert_eq!((original.len(), rephrased.len()), (8, 8), "G on each side");
        let answers = |side: &[&Scored]| -> Vec<String> {
            side.iter()
                .map(|r| answer_of(&r.text).unwrap_or_default())
                .collect()
        };
        let (vote, vote_rephrased) = (mode(&answers(&original)), mode(&answers(&rephrased)));
        assert_eq!(
            vote,
            answer(&original[0].sample),
            "the planted answer wins ties"
        );
        assert_eq!(norm(&original[0].values["vote"]), vote.to_lowercase());
        assert_eq!(
            norm(&original[0].values["vote_rephrased"]),
            vote_rephrased.to_lowercase()
        );
        // r_i = 1[ans(y_i) = mode(ans(y'))], r'_i = 1[ans(y'_i) = mode(ans(y))],
        // each side with its own GRPO advantage.
        for (side, other, name) in [
            (&original, &vote_rephrased, "original_ok"),
            (&rephrased, &vote, "rephrased_ok"),
        ] {
            let ok: Vec<f64> = answers(side)
                .iter()
                .map(|a| unit(a.trim() == other.trim()))
                .collect();
            let adv = z_scores(&ok);
            for ((r, &o), &a) in side.iter().zip(&ok).zip(&adv) {
                assert!(close(r.num(name), o), "{name} of {:?}", r.text);
                assert_advantage(r, name, a);
            }
        }
        // The planted answer agrees with its own side's vote; its reward is
        // whether the other side's agrees.
        if vote_rephrased == vote {
            agree += 1;
            assert_eq!(original[0].num("original_ok"), 1.0);
        } else {
            disagree += 1;
            assert_eq!(original[0].num("original_ok"), 0.0);
        }
    }
    assert!(
        agree > 0 && disagree > 0,
        "{agree} agreeing, {disagree} not"
    );
}
