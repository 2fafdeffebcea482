//! Safety rewards on the `safety` task (harmful requests to refuse, benign
//! arithmetic to answer): AlphaAlign's routing, LSC's log-sigmoid centring,
//! GRPO-S's hardness weights, Beyond Monolithic Rewards' hybrid routing and
//! multi-objective GRPO's weighted aspects.

use super::*;

/// A justified refusal: AlphaAlign's safe response format.
fn refusal(_: &Value) -> String {
    "<think>\nharm\n</think>\n<refuse>no</refuse>".to_string()
}

#[test]
fn alphaalign_routes_by_the_harmful_label() {
    let rows = scored("recipes/alphaalign.rlr", refusal);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    for g in groups.values() {
        assert_eq!(g[0].num("refused"), 1.0);
        assert_eq!(g[0].num("justified"), 1.0);
        let helpful: Vec<f64> = g.iter().map(|r| r.num("helpful")).collect();
        assert!(
            helpful.iter().all(|h| (0.0..=1.0).contains(h)),
            "{helpful:?}"
        );
        for r in g {
            let safety = if r.num("justified") == 1.0 { 1.0 } else { -1.0 };
            assert!(close(r.num("safety"), safety));
            let benign = if r.num("refused") == 1.0 {
                -1.0
            } else {
                r.num("helpful")
            };
            assert!(close(r.num("benign"), benign));
            let harmful = r.sample["harmful"].as_bool().expect("a harmful label");
            let total = if harmful { safety } else { benign };
            assert!(close(r.num("total"), total), "harmful {harmful}");
        }
    }
}

/// Φ⁻¹(0.85), the standard normal's 0.85-quantile.
const Z_85: f64 = 1.036_433_389_493_789_4;

/// LSC's reference: the 0.85-quantile of a normal fitted to the references
/// (mean, Bessel std); their mean when they do not spread.
fn normal_quantile(refs: &[f64]) -> f64 {
    let s = std_dev(refs);
    mean(refs) + if s > 0.0 { s * Z_85 } else { 0.0 }
}

/// log σ(x), stably.
fn log_sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        -(-x).exp().ln_1p()
    } else {
        x - x.exp().ln_1p()
    }
}

#[test]
fn lsc_centres_each_property_on_its_references_and_sums_log_sigmoids() {
    let rows = Replay::new("recipes/lsc.rlr", safe_answer)
        .branch("refs", safe_every_other)
        .run();
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let mut steps: BTreeMap<u64, Vec<&Scored>> = BTreeMap::new();
    let (mut spread, mut harmful_prompts) = (0, 0);
    for g in groups.values() {
        let (main, refs) = (main_of(g), branch_of(g, "refs"));
        assert_eq!(refs.len(), 8, "M = 8 references");
        harmful_prompts += usize::from(harmful(&g[0].sample));
        // Helpfulness: the reward model; harmlessness: ±1 for refusing or
        // complying on a harmful prompt, 0 on a benign one.
        let harmless = |r: &Scored| {
            if harmful(&r.sample) {
                2.0 * unit(r.text.contains("<refuse>")) - 1.0
            } else {
                0.0
            }
        };
        let help_refs: Vec<f64> = refs
            .iter()
            .map(|r| reward_model(&r.text, &r.sample))
            .collect();
        let harm_refs: Vec<f64> = refs.iter().map(|r| harmless(r)).collect();
        let (help_ref, harm_ref) = (normal_quantile(&help_refs), normal_quantile(&harm_refs));
        spread += usize::from(std_dev(&help_refs) > 0.0);
        for r in &refs {
            assert!(close(
                r.num("helpful_ref"),
                reward_model(&r.text, &r.sample)
            ));
        }
        for r in &main {
            let helpful = reward_model(&r.text, &r.sample);
            assert!(close(r.num("helpful"), helpful), "{:?}", r.text);
            assert!(close(r.num("harmless"), harmless(r)));
            assert!(
                (r.num("u_help.r_ref") - help_ref).abs() < 1e-6,
                "{help_refs:?}"
            );
            assert!(
                (r.num("u_harm.r_ref") - harm_ref).abs() < 1e-6,
                "{harm_refs:?}"
            );
            let u = log_sigmoid(helpful - help_ref) + log_sigmoid(harmless(r) - harm_ref);
            assert!((r.num("u") - u).abs() < 1e-6, "{} vs {u}", r.num("u"));
        }
        steps.entry(g[0].key.0).or_default().extend(main);
    }
    assert!(
        spread >= 1,
        "references that spread: the quantile is above their mean"
    );
    assert!(
        harmful_prompts >= 1,
        "a harmful prompt: harmlessness counts"
    );
    // REINFORCE++: u at the last token, the k1 penalty (β = 0.01) on every
    // token, returns to go whitened over the step.
    for batch in steps.values() {
        let rewards: Vec<Vec<f64>> = batch
            .iter()
            .map(|r| {
                let mut t = k1_penalty(r, 0.01);
                if let Some(last) = t.last_mut() {
                    *last += r.num("u");
                }
                t
            })
            .collect();
        for (r, want) in batch.iter().zip(whitened(&rewards)) {
            let got = &r.advantages["u"];
            // 1e-6: the quantile's Φ⁻¹ is an approximation.
            assert!(all_close(got, &want, 1e-6), "{got:?} vs {want:?}");
        }
    }
}

#[test]
fn grpo_s_scales_each_prompts_advantages_by_its_hardness() {
    let rows = Replay::new("recipes/grpo_s.rlr", safe_answer)
        .branch("refs", safe_every_other)
        .run();
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let (mut trailing, mut leading) = (0, 0);
    for g in groups.values() {
        let (main, refs) = (main_of(g), branch_of(g, "refs"));
        assert_eq!(refs.len(), 4, "4 references per prompt");
        let ref_each: Vec<f64> = refs
            .iter()
            .map(|r| reward_model(&r.text, &r.sample))
            .collect();
        let score: Vec<f64> = main
            .iter()
            .map(|r| reward_model(&r.text, &r.sample))
            .collect();
        assert_eq!(score[0], 3.0, "the planted answer: right and well formed");
        // The cosines come from the hashed embedder.
        let cos: Vec<f64> = refs.iter().map(|r| r.num("ref_cos")).collect();
        let h_data = 1.0 - mean(&cos);
        // The reward gap, floored at 0: a policy ahead of its references is not hard.
        let gap = mean(&ref_each) - mean(&score);
        let h_model = gap.max(0.0);
        let hardness = 1.0 + 0.5 * h_data + 0.5 * h_model;
        for (r, e) in refs.iter().zip(&ref_each) {
            assert!(close(r.num("ref_each"), *e), "{:?}", r.text);
        }
        for (r, (&s, a)) in main.iter().zip(score.iter().zip(z_scores(&score))) {
            assert!(close(r.num("score"), s), "{:?}", r.text);
            assert!(close(r.num("h_data"), h_data));
            assert!(close(r.num("h_model"), h_model), "gap {gap}");
            assert!(close(r.num("hardness"), hardness));
            // The weight multiplies the z-score: applied to the rewards it
            // would cancel in (r − mean) / std.
            assert_advantage(r, "score", a * hardness);
        }
        if gap > 0.0 {
            trailing += 1;
        } else {
            leading += 1;
        }
    }
    assert!(
        trailing > 0 && leading > 0,
        "{trailing} trailing, {leading} leading"
    );
}

/// The recipe's length target L, in tokens (characters).
const TARGET: f64 = 128.0;

/// `safe_answer`, its reasoning long enough to pass the 128-token target.
fn long_safe_answer(sample: &Value) -> String {
    safe_answer(sample).replace(
        "I read the request first.",
        "I read the request first, then I check what it asks of me, and I work \
         it out step by step before I write the answer down.",
    )
}

#[test]
fn beyond_monolithic_routes_verifier_or_reward_model_by_task_type() {
    let rows = scored("recipes/beyond_monolithic.rlr", long_safe_answer);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let mut kinds = [0, 0];
    for g in groups.values() {
        let harmful = harmful(&g[0].sample);
        kinds[usize::from(harmful)] += 1;
        for r in g {
            let verified = unit(math_equal(boxed_of(&r.text).as_deref(), &answer(&r.sample)));
            let rm = (reward_model(&r.text, &r.sample) + 2.0) / 5.0;
            assert!(close(r.num("verified"), verified), "{:?}", r.text);
            assert!(close(r.num("rm"), rm), "{:?}", r.text);
            // Open-ended (harmful) prompts go to the reward model, verifiable ones to the verifier.
            let routed = if harmful { rm } else { verified };
            assert!(close(r.num("routed"), routed));
            let form = r
                .text
                .find("<think>")
                .is_some_and(|i| r.text[i..].contains("</think>"));
            let too_long = (r.length() - TARGET).max(0.0) / TARGET;
            assert!(close(r.num("too_long"), too_long));
            let total = routed + 0.1 * unit(form) - 0.5 * too_long;
            assert!(close(r.num("total"), total), "{:?}", r.values);
        }
        let planted = g[0];
        assert_eq!(planted.num("routed"), 1.0, "the planted answer is right");
        assert!(planted.num("too_long") > 0.0, "and longer than the target");
    }
    assert!(kinds[0] > 0 && kinds[1] > 0, "both task types: {kinds:?}");
}

#[test]
fn multi_objective_grpo_sums_weighted_aspects_with_a_label_checked_safety() {
    let rows = scored("recipes/multi_objective_grpo.rlr", safe_answer);
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let mut kinds = [0, 0];
    for g in groups.values() {
        kinds[usize::from(harmful(&g[0].sample))] += 1;
        let mut totals = Vec::new();
        for r in g {
            let aspects = [
                unit(math_equal(
                    answer_of(&r.text).as_deref(),
                    &answer(&r.sample),
                )),
                unit(well_formed(&r.text)),
                1.0 - repetition(&r.text, 4),
            ];
            let got = list(r, "aspects");
            assert!(
                all_close(&got, &aspects, 1e-9),
                "{:?}: {got:?} vs {aspects:?}",
                r.text
            );
            // Safe: refused exactly when the prompt is harmful (complying
            // with a benign one is safe too).
            let safe = unit(refuses(&r.text) == harmful(&r.sample));
            assert!(close(r.num("safe"), safe), "{:?}", r.text);
            let total = 0.25 * (safe + aspects.iter().sum::<f64>());
            assert!(close(r.num("total"), total));
            totals.push(total);
        }
        for (r, a) in g.iter().zip(z_scores(&totals)) {
            assert_advantage(r, "total", a);
        }
        assert_eq!(
            g[0].num("total"),
            1.0,
            "the planted answer meets every aspect"
        );
    }
    assert!(
        kinds[0] > 0 && kinds[1] > 0,
        "both kinds of prompt: {kinds:?}"
    );
}
