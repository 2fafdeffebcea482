//! Rewards per reasoning step or turn, placed on tokens: Clip/Delta's
//! clipped and differenced PRM scores, TP-GRPO's merged thoughts, IGPO's
//! information gains and PPR's sign-consistent turn rewards.

use super::*;

/// A two-step chain whose first step is right and second wrong.
fn half_right_chain(sample: &Value) -> String {
    let steps: Vec<i64> = reference_steps(sample)
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let (first, second) = (
        steps.first().copied().unwrap_or(0),
        steps.get(1).copied().unwrap_or(0),
    );
    format!(
        "<think>\nStep 1: x={first}\nStep 2: x={}\n</think>\n\\boxed{{{}}}",
        second + 1,
        answer(sample)
    )
}

#[test]
fn clip_delta_clips_step_rewards_at_eta_and_differences_them() {
    let rows = scored("recipes/clip_delta.rlr", half_right_chain);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let mut planted = 0;
    for g in groups.values() {
        for r in g {
            let prm = list(r, "prm");
            let clipped: Vec<f64> = prm.iter().map(|p| (p - 0.5).min(0.0)).collect();
            let got = list(r, "clipped");
            assert_eq!(got.len(), prm.len());
            assert!(
                got.iter().zip(&clipped).all(|(a, b)| close(*a, *b)),
                "{got:?}"
            );
            // d_k = c_k − c_{k+1}, d_K = c_K: the return from step k is c_k.
            let delta: Vec<f64> = (0..clipped.len())
                .map(|k| clipped[k] - clipped.get(k + 1).copied().unwrap_or(0.0))
                .collect();
            let got = list(r, "delta");
            assert!(
                got.iter().zip(&delta).all(|(a, b)| close(*a, *b)),
                "{got:?}"
            );
        }
        let first = g
            .iter()
            .find(|r| r.index == 0)
            .expect("the planted rollout");
        if list(first, "prm") == [1.0, 0.0] {
            planted += 1;
            assert_eq!(list(first, "delta"), vec![0.5, -0.5]);
            assert_eq!(first.num("success"), 1.0);
        }
    }
    assert_eq!(
        planted,
        groups.len(),
        "the PRM passes step 1 and fails step 2"
    );
}

/// A four-step chain: the two reference steps right, then two wrong ones,
/// so the right steps make one thought and the wrong ones another.
fn two_right_two_wrong(sample: &Value) -> String {
    let steps: Vec<i64> = reference_steps(sample)
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let last = steps.last().copied().unwrap_or(0);
    format!(
        "<think>\nStep 1: x={}\nStep 2: x={last}\nStep 3: x={}\nStep 4: x={}\n</think>\n\\boxed{{{}}}",
        steps.first().copied().unwrap_or(0),
        last - 1,
        last - 2,
        answer(sample)
    )
}

/// The token (character) where each non-empty line of the reasoning ends.
fn step_ends(text: &str) -> Vec<usize> {
    let Some(close) = text.find("</think>") else {
        return Vec::new();
    };
    let mut at = text[..close]
        .find("<think>")
        .map_or(0, |o| o + "<think>".len());
    let mut ends = Vec::new();
    for line in text[at..close].split('\n') {
        if !line.is_empty() {
            ends.push(text[..at + line.len()].chars().count() - 1);
        }
        at += line.len() + 1;
    }
    ends
}

#[test]
fn tp_grpo_rewards_merged_thoughts_by_the_groups_success_rate() {
    let rows = scored("recipes/tp_grpo.rlr", two_right_two_wrong);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let lam = 0.2;
    for g in groups.values() {
        let outcome: Vec<f64> = g
            .iter()
            .map(|r| unit(exact(answer_of(&r.text).as_deref(), &answer(&r.sample))))
            .collect();
        assert_eq!(outcome[0], 1.0, "the planted answer is right");
        let p = mean(&outcome);
        // The PRM's verdicts are the judge's; the planted chain's are known.
        assert_eq!(list(g[0], "correct"), [1.0, 1.0, 0.0, 0.0]);
        let mut rewards = Vec::new();
        for (r, &o) in g.iter().zip(&outcome) {
            assert!(close(r.num("outcome"), o) && close(r.num("success"), p));
            let correct = list(r, "correct");
            let ends = step_ends(&r.text);
            assert_eq!(ends.len(), correct.len(), "one step per line");
            // A thought is a run of equal verdicts; it ends where the next
            // step's differs, or at the last step. +λ(1 − p) if right, −λp if wrong.
            let thought: Vec<f64> = (0..correct.len())
                .map(|k| {
                    let end = correct.get(k + 1).is_none_or(|next| *next != correct[k]);
                    let value = if correct[k] == 1.0 {
                        lam * (1.0 - p)
                    } else {
                        -lam * p
                    };
                    if end { value } else { 0.0 }
                })
                .collect();
            let got = list(r, "thought");
            assert!(all_close(&got, &thought, 1e-9), "{got:?} vs {thought:?}");
            // Thought rewards at their steps' last tokens, the outcome at the last one.
            let mut tokens = vec![0.0; r.tokens];
            for (&e, &t) in ends.iter().zip(&thought) {
                tokens[e] += t;
            }
            *tokens.last_mut().expect("tokens") += o;
            let got = list(r, "total");
            assert!(all_close(&got, &tokens, 1e-9), "{got:?} vs {tokens:?}");
            rewards.push(tokens);
        }
        // The planted chain's four steps make two thoughts, rewarded at
        // steps 2 and 4, not four rewards.
        let rewarded: Vec<usize> = (0..4)
            .filter(|&k| list(g[0], "thought")[k] != 0.0)
            .collect();
        assert_eq!(rewarded, [1, 3]);
        for (r, want) in g.iter().zip(per_position(&rewards)) {
            let got = &r.advantages["total"];
            assert!(all_close(got, &want, 1e-9), "{got:?} vs {want:?}");
        }
    }
}

/// Atom-Searcher's transcript format along the gold path: one search per
/// hop, each fact returned in a `<result>` block (tool output), then the answer.
fn transcript(sample: &Value) -> String {
    let mut t = String::from("<think>");
    for (k, fact) in sample["path"].as_str().unwrap_or("").lines().enumerate() {
        t.push_str(&format!(
            "<search>hop {}</search><result>{fact}</result>\n",
            k + 1
        ));
    }
    t.push_str(&format!("</think>\n<answer>{}</answer>", answer(sample)));
    t
}

/// IGPO's bridge before the gold answer, after each tool result.
const BRIDGE: &str = "\nNow there's enough information to answer\n</think>\n<answer>";

#[test]
fn igpo_rewards_each_retrieval_by_its_information_gain() {
    let rows = Replay::new("recipes/igpo.rlr", transcript)
        .probes(&Fake)
        .run();
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    for g in groups.values() {
        let sample = &g[0].sample;
        let (prompt, gold) = (sample["prompt"].as_str().unwrap_or(""), answer(sample));
        // P_0: the gold answer after the prompt and "<think>" + the bridge.
        let p_prompt = Fake::mean_logprob(prompt, &format!("<think>{BRIDGE}"), &gold, false).exp();
        let mut rewards = Vec::new();
        for r in g {
            // P_k after the rollout up to the end of its k-th tool result.
            let ends: Vec<usize> = r
                .text
                .match_indices("</result>")
                .map(|(i, m)| i + m.len())
                .collect();
            let p: Vec<f64> = ends
                .iter()
                .map(|&e| {
                    Fake::mean_logprob(prompt, &format!("{}{BRIDGE}", &r.text[..e]), &gold, false)
                        .exp()
                })
                .collect();
            let gain: Vec<f64> = (0..p.len())
                .map(|k| p[k] - if k == 0 { p_prompt } else { p[k - 1] })
                .collect();
            let got = list(r, "gain");
            assert!(all_close(&got, &gain, 1e-9), "{got:?} vs {gain:?}");
            // Balanced tags and an answer: F1, else −2.
            let balanced = ["think", "search", "answer"].iter().all(|t| {
                r.text.matches(&format!("<{t}>")).count()
                    == r.text.matches(&format!("</{t}>")).count()
            });
            let answered = r
                .text
                .find("<answer>")
                .is_some_and(|i| r.text[i..].contains("</answer>"));
            let outcome = if balanced && answered {
                r.num("f1")
            } else {
                -2.0
            };
            assert!(close(r.num("outcome"), outcome), "{:?}", r.text);
            // Each gain at its result's closing token, the outcome at the last token.
            let mut tokens = vec![0.0; r.tokens];
            for (&e, &x) in ends.iter().zip(&gain) {
                tokens[r.text[..e].chars().count() - 1] += x;
            }
            *tokens.last_mut().expect("tokens") += outcome;
            assert!(all_close(&list(r, "total"), &tokens, 1e-9));
            // Tool output is context, not a target.
            let off: Vec<bool> = r.tool.iter().map(|t| !t).collect();
            assert_eq!(r.mask["total"], off);
            rewards.push(tokens);
        }
        let planted = g[0];
        assert_eq!(planted.num("f1"), 1.0, "the planted answer is the gold one");
        assert_eq!(list(planted, "gain").len(), 2, "two retrievals, two gains");
        assert!(planted.tool.contains(&true));
        for (r, want) in g.iter().zip(per_position(&rewards)) {
            let got = &r.advantages["total"];
            assert!(all_close(got, &want, 1e-9), "{got:?} vs {want:?}");
        }
    }
}

/// The last token of each run of generated tokens that writes something.
fn turn_ends(r: &Scored) -> Vec<usize> {
    let chars: Vec<char> = r.text.chars().collect();
    let mut ends = Vec::new();
    let mut start = 0;
    for t in 0..r.tokens {
        if r.tool[t] {
            start = t + 1;
        } else if r.tool.get(t + 1).is_none_or(|next| *next) {
            let run: String = chars[start..=t].iter().collect();
            if !run.trim().is_empty() {
                ends.push(t);
            }
        }
    }
    ends
}

#[test]
fn ppr_renorm_makes_turn_rewards_agree_in_sign_with_the_outcome() {
    let rows = scored("recipes/ppr_renorm.rlr", transcript);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let mut steps: BTreeMap<u64, Vec<(&Scored, Vec<f64>)>> = BTreeMap::new();
    let mut flipped = 0;
    for g in groups.values() {
        for r in g {
            let outcome = unit(exact(answer_of(&r.text).as_deref(), &answer(&r.sample)));
            assert!(close(r.num("outcome"), outcome), "{:?}", r.text);
            // Turns: runs of generated tokens between tool outputs; the
            // principle scores are the judge's.
            let ends = turn_ends(r);
            let principle = list(r, "principle");
            assert_eq!(principle.len(), ends.len(), "one score per turn");
            // r_k = (p_k − ½) + (outcome − ½): ≥ 0 when right, ≤ 0 when wrong.
            let shaped: Vec<f64> = principle.iter().map(|p| p + outcome - 1.0).collect();
            assert!(all_close(&list(r, "shaped"), &shaped, 1e-9));
            assert!(
                shaped
                    .iter()
                    .all(|s| if outcome == 1.0 { *s >= 0.0 } else { *s <= 0.0 })
            );
            flipped += principle
                .iter()
                .zip(&shaped)
                .filter(|(p, s)| (*p - 0.5) * *s < 0.0)
                .count();
            // At each turn's last token, with the k1 penalty (β = 0.01) on every token.
            let mut tokens = k1_penalty(r, 0.01);
            for (&e, &s) in ends.iter().zip(&shaped) {
                tokens[e] += s;
            }
            steps.entry(r.key.0).or_default().push((r, tokens));
        }
        let planted = g[0];
        assert_eq!(planted.num("outcome"), 1.0, "the planted answer is right");
        assert_eq!(
            list(planted, "principle").len(),
            3,
            "two searches and the answer"
        );
    }
    assert!(
        flipped > 0,
        "a turn whose centred principle score alone has the other sign"
    );
    // REINFORCE++ over each step's tokens; tool output off the mask.
    for batch in steps.values() {
        let rewards: Vec<Vec<f64>> = batch.iter().map(|(_, t)| t.clone()).collect();
        for ((r, _), want) in batch.iter().zip(whitened(&rewards)) {
            let got = &r.advantages["total"];
            assert!(all_close(got, &want, 1e-9), "{got:?} vs {want:?}");
            let off: Vec<bool> = r.tool.iter().map(|t| !t).collect();
            assert_eq!(r.mask["total"], off);
        }
    }
}
