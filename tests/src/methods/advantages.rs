//! The advantage estimators on the recipes that name them: GRPO's z-score,
//! Dr.GRPO's centring, RLOO's leave-one-out baseline with its KL penalty in
//! the reward, and SPINE's whole-group advantages on a token mask.

use serde_json::Value;

use super::*;

/// The arithmetic recipes' reward: exact match of the extracted answer.
fn correct(r: &Scored) -> f64 {
    unit(exact(answer_of(&r.text).as_deref(), &answer(&r.sample)))
}

#[test]
fn grpo_z_scores_the_reward_within_each_group() {
    let rows = scored("recipes/grpo.rlr", answer);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let mut informative = 0;
    for g in groups.values() {
        let rewards: Vec<f64> = g.iter().map(|r| correct(r)).collect();
        assert_eq!(rewards[0], 1.0, "the planted answer is right");
        // (r − mean) / (std + 1e-6) with Bessel's std: one right answer of
        // 8 gets 0.875 / √(1/8) ≈ 2.47, not 2.65 (population std) or 0.875.
        let want = z_scores(&rewards);
        for (r, (&c, &a)) in g.iter().zip(rewards.iter().zip(&want)) {
            assert!(close(r.num("correct"), c), "{:?}", r.text);
            assert_advantage(r, "correct", a);
            assert!(r.mask["correct"].iter().all(|m| *m), "no filter, no mask");
        }
        informative += usize::from(rewards.iter().any(|x| *x != rewards[0]));
    }
    assert!(informative >= 1, "a group with right and wrong answers");
}

#[test]
fn dr_grpo_centres_the_reward_without_dividing_by_the_std() {
    let rows = scored("recipes/dr_grpo.rlr", answer);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let mut informative = 0;
    for g in groups.values() {
        let rewards: Vec<f64> = g.iter().map(|r| correct(r)).collect();
        assert_eq!(rewards[0], 1.0, "the planted answer is right");
        let m = mean(&rewards);
        for (r, &c) in g.iter().zip(&rewards) {
            assert!(close(r.num("correct"), c));
            assert_advantage(r, "correct", c - m);
        }
        if rewards.iter().any(|x| *x != rewards[0]) {
            informative += 1;
            // Where the std is not 1, GRPO's z-score is another number.
            assert!(!close(rewards[0] - m, z_scores(&rewards)[0]));
        }
    }
    assert!(informative >= 1, "a group with right and wrong answers");
}

#[test]
fn rloo_baselines_each_reward_on_the_others_after_the_kl_penalty() {
    let rows = scored("recipes/rloo.rlr", boxed);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let mut informative = 0;
    for g in groups.values() {
        assert_eq!(g.len(), 4, "k = 4");
        let scores: Vec<f64> = g.iter().map(|r| reward_model(&r.text, &r.sample)).collect();
        assert_eq!(scores[0], 3.0, "the planted answer: right and well formed");
        // R_i = score_i − β Σ_t (log π − log π_ref)_t, k1 with β = 0.05.
        let returns: Vec<f64> = g
            .iter()
            .zip(&scores)
            .map(|(r, s)| s + k1_penalty(r, 0.05).iter().sum::<f64>())
            .collect();
        let total: f64 = returns.iter().sum();
        let k = returns.len() as f64;
        for (r, (&s, &ret)) in g.iter().zip(scores.iter().zip(&returns)) {
            assert!(close(r.num("score"), s), "{:?}", r.text);
            // A_i = R_i − mean of the other k − 1.
            assert_advantage(r, "score", ret - (total - ret) / (k - 1.0));
        }
        informative += usize::from(scores.iter().any(|x| *x != scores[0]));
    }
    assert!(
        informative >= 1,
        "a group whose leave-one-out baseline differs from its mean"
    );
}

#[test]
fn spine_trains_only_the_forking_tokens_with_whole_group_advantages() {
    let rows = scored("recipes/spine.rlr", answer);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let mut on = 0usize;
    for g in groups.values() {
        // GRPO over the whole group (a token mask leaves the estimator alone).
        let xs: Vec<f64> = g.iter().map(|r| r.num("agrees")).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let std =
            (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt();
        for r in g {
            let forking: Vec<bool> = r.values["forking"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_bool).collect())
                .unwrap_or_default();
            let adv = &r.advantages["agrees"];
            let mask = &r.mask["agrees"];
            assert_eq!(mask, &forking, "the loss covers the forking tokens only");
            let want = (r.num("agrees") - mean) / (std + 1e-6);
            assert!(adv.iter().all(|&a| close(a, want)), "{adv:?} vs {want}");
            on += mask.iter().filter(|m| **m).count();
        }
    }
    assert!(on > 0, "some tokens fork");
}
