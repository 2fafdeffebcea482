//! Which responses train: RAFT's and SuperHF's best of each group, T1's
//! balanced subset.

use super::*;

#[test]
fn raft_trains_exactly_the_best_response_of_each_group() {
    let rows = scored("recipes/raft.rlr", answer);
    for g in groups(&rows).values() {
        let top = g.iter().map(|r| r.num("score")).fold(f64::MIN, f64::max);
        let first_top = g
            .iter()
            .filter(|r| r.num("score") == top)
            .map(|r| r.index)
            .min()
            .unwrap_or(0);
        let chosen: Vec<&&Scored> = g.iter().filter(|r| r.num("chosen") == 1.0).collect();
        assert_eq!(chosen.len(), 1, "one response per group");
        assert_eq!(chosen[0].index, first_top, "the first best-scoring one");
        for r in g {
            let adv = r.advantages.values().flatten().copied().fold(0.0, f64::max);
            if r.index == first_top {
                assert!(adv > 0.0, "the chosen response is pushed up");
            } else {
                assert!(r.advantages.values().flatten().all(|&a| a == 0.0));
            }
        }
    }
}

#[test]
fn t1_trains_a_balanced_subset_with_the_subsets_own_baseline() {
    let rows = scored("recipes/t1.rlr", answer);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let (subset, eps) = (8usize, 1e-6);
    for g in groups.values() {
        assert_eq!(g.len(), 16, "K = 16 sampled");
        let right: Vec<bool> = g.iter().map(|r| r.num("correct") >= 0.5).collect();
        assert!(right[0], "the planted answer is right");
        // The first q_right right answers and the first subset − q_right
        // wrong ones, in sampling order.
        let n_right = right.iter().filter(|x| **x).count();
        let n_wrong = g.len() - n_right;
        let q_right = (subset / 2)
            .max(subset.saturating_sub(n_wrong))
            .min(n_right);
        let (mut seen_right, mut seen_wrong) = (0, 0);
        let kept: Vec<bool> = right
            .iter()
            .map(|&ok| {
                let seen = if ok { &mut seen_right } else { &mut seen_wrong };
                *seen += 1;
                if ok {
                    *seen <= q_right
                } else {
                    *seen <= subset - q_right
                }
            })
            .collect();
        assert_eq!(kept.iter().filter(|k| **k).count(), subset);
        // GRPO over the kept eight only: mean and Bessel std of their rewards.
        let xs: Vec<f64> = g
            .iter()
            .zip(&kept)
            .filter(|(_, k)| **k)
            .map(|(r, _)| r.num("correct"))
            .collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let std =
            (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt();
        // The whole group's baseline, which the subset's must differ from
        // here (1 right of 16 against 1 right of 8).
        let all: Vec<f64> = g.iter().map(|r| r.num("correct")).collect();
        let all_mean = all.iter().sum::<f64>() / all.len() as f64;
        for (r, &k) in g.iter().zip(&kept) {
            assert_eq!(r.num("kept") == 1.0, k, "rollout {}", r.index);
            let adv = &r.advantages["correct"];
            let mask = &r.mask["correct"];
            assert_eq!(adv.len(), mask.len());
            if k {
                let want = (r.num("correct") - mean) / (std + eps);
                assert!(adv.iter().all(|&a| close(a, want)), "{adv:?} vs {want}");
                assert!(
                    mask.iter().all(|m| *m),
                    "a kept rollout trains on every token"
                );
            } else {
                assert!(adv.iter().all(|&a| a == 0.0), "{adv:?}");
                assert!(
                    mask.iter().all(|m| !*m),
                    "a left-out rollout is off the mask"
                );
            }
        }
        if n_right == 1 {
            assert!(!close(mean, all_mean), "the baseline is the subset's");
        }
    }
}

#[test]
fn superhf_fine_tunes_on_the_first_best_response_with_weight_n() {
    let rows = scored("recipes/superhf.rlr", boxed);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    for g in groups.values() {
        let n = g.len() as f64;
        assert_eq!(n, 8.0, "n = group = 8");
        let scores: Vec<f64> = g.iter().map(|r| reward_model(&r.text, &r.sample)).collect();
        assert_eq!(scores[0], 3.0, "the planted answer: right and well formed");
        let top = scores.iter().copied().fold(f64::MIN, f64::max);
        let first_top = scores.iter().position(|s| *s == top).unwrap_or(0);
        for (i, (r, &s)) in g.iter().zip(&scores).enumerate() {
            assert!(close(r.num("score"), s), "{:?}", r.text);
            let chosen = i == first_top;
            assert_eq!(r.num("chosen") == 1.0, chosen, "rollout {i}");
            let scale = if chosen { n * n / (n - 1.0) } else { 0.0 };
            assert!(close(r.num("sft_scale"), scale));
            // (chosen − 1/n) · chosen n²/(n − 1): n on the chosen response,
            // and 0 (not Dr.GRPO's −1/n) on the others.
            assert_advantage(r, "chosen", if chosen { n } else { 0.0 });
        }
    }
}
