//! Method recipes take the values their formulas say. Each test trains a
//! recipe two steps at tiny size, plants a reference answer as the first
//! rollout of every group (a tiny model never answers right, so its
//! rollouts alone would only exercise the all-wrong case), replays the run's
//! own recipe over those rollouts, and recomputes the method's bindings
//! independently from the rollout texts and the formulas in the recipe's
//! header.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use serde_json::Value;

/// Runs `rlr` in-process; panics with its stderr when it fails.
fn rlr(args: &[&str]) {
    let args: Vec<String> = args.iter().map(|a| (*a).to_string()).collect();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = rlr_cli::run(&args, &mut &b""[..], &mut stdout, &mut stderr);
    assert_eq!(code, 0, "{args:?}: {}", String::from_utf8_lossy(&stderr));
}

/// One replayed rollout: its group key and its binding values.
struct Scored {
    key: (u64, u64),
    index: u64,
    values: serde_json::Map<String, Value>,
    advantages: BTreeMap<String, Vec<f64>>,
    /// Per objective: whether each token counts in the loss.
    mask: BTreeMap<String, Vec<bool>>,
    dropped: bool,
    /// The group's task record, from the run's rollouts.
    sample: Value,
    /// The rollout's text (as planted).
    text: String,
    /// The branch, or none for a main rollout.
    branch: Option<String>,
}

impl Scored {
    fn num(&self, name: &str) -> f64 {
        match &self.values[name] {
            Value::Bool(b) => f64::from(u8::from(*b)),
            v => v.as_f64().unwrap_or(f64::NAN),
        }
    }
}

/// Trains `recipe` two steps at tiny size, sets the text of each main
/// group's first rollout to `plant(sample)`, and replays the stage.
fn scored(recipe: &str, plant: fn(&Value) -> String) -> Vec<Scored> {
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "rlr-methods-{}-{}",
        std::process::id(),
        recipe.replace('/', "_")
    ));
    let _ = fs::remove_dir_all(&dir);
    let out = dir.join("run").to_string_lossy().into_owned();
    let path = rlr_tests::root()
        .join(recipe)
        .to_string_lossy()
        .into_owned();
    let mut args = vec!["run", &path, "--out", &out];
    args.extend_from_slice(rlr_tests::TINY);
    // Every method recipe has an sft warm-up and an RL stage.
    args.extend(["--set", "prompts=2", "--set", "batch=2"]);
    rlr(&args);
    let text = fs::read_to_string(dir.join("run/rollouts.jsonl")).expect("rollouts");
    let mut sample = Value::Null;
    let mut seen = std::collections::BTreeSet::new();
    let mut samples: BTreeMap<(u64, u64), Value> = BTreeMap::new();
    // Texts by (step, group, branch, position in the group), as replay numbers them.
    type At = (u64, u64, Option<String>, u64);
    let mut texts: BTreeMap<At, String> = BTreeMap::new();
    let mut next: BTreeMap<(u64, u64, Option<String>), u64> = BTreeMap::new();
    let mut lines = Vec::new();
    for line in text.lines() {
        let mut row: Value = serde_json::from_str(line).expect("a JSON row");
        if let Some(s) = row.get("sample") {
            sample = s.clone();
        }
        let key = (row["step"].as_u64(), row["group"].as_u64());
        let first = row.get("branch").is_none() && seen.insert(key);
        if let (Some(step), Some(group)) = key {
            samples
                .entry((step, group))
                .or_insert_with(|| sample.clone());
        }
        if first {
            let planted = plant(&sample);
            let n = planted.chars().count().max(1);
            if let Some(obj) = row.as_object_mut() {
                obj.remove("offsets");
                for field in ["tokens", "logprob", "ref_logprob", "entropy", "tool"] {
                    if let Some(Value::Array(xs)) = obj.get_mut(field) {
                        let last = xs.last().cloned().unwrap_or(Value::Null);
                        xs.resize(n, last);
                    }
                }
                obj.insert("text".into(), Value::String(planted));
                obj.insert("truncated".into(), Value::Bool(false));
            }
        }
        let branch = row["branch"].as_str().map(str::to_string);
        let at = (
            row["step"].as_u64().unwrap_or(0),
            row["group"].as_u64().unwrap_or(0),
            branch,
        );
        let position = next.entry(at.clone()).or_default();
        let text = row["text"].as_str().unwrap_or("").to_string();
        texts.insert((at.0, at.1, at.2, *position), text);
        *position += 1;
        lines.push(row.to_string());
    }
    let planted = dir.join("planted.jsonl");
    fs::write(&planted, lines.join("\n")).expect("write");
    let scored = dir.join("scored.jsonl");
    let own = dir.join("run/recipe.rlr");
    rlr(&[
        "replay",
        &own.to_string_lossy(),
        "--rollouts",
        &planted.to_string_lossy(),
        "--out",
        &scored.to_string_lossy(),
    ]);
    let rows = fs::read_to_string(&scored)
        .expect("scored")
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a scored row");
            let advantages = v["advantages"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, xs)| {
                            let xs = xs.as_array().cloned().unwrap_or_default();
                            (k.clone(), xs.iter().filter_map(Value::as_f64).collect())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mask = v["mask"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, xs)| {
                            let xs = xs.as_array().cloned().unwrap_or_default();
                            (k.clone(), xs.iter().filter_map(Value::as_bool).collect())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let key = (
                v["step"].as_u64().unwrap_or(0),
                v["group"].as_u64().unwrap_or(0),
            );
            let index = v["index"].as_u64().unwrap_or(0);
            let branch = v["branch"].as_str().map(str::to_string);
            Scored {
                key,
                sample: samples.get(&key).cloned().unwrap_or(Value::Null),
                text: texts
                    .get(&(key.0, key.1, branch.clone(), index))
                    .cloned()
                    .unwrap_or_default(),
                branch,
                index,
                values: v["values"].as_object().cloned().unwrap_or_default(),
                advantages,
                mask,
                dropped: v["dropped"].as_bool().unwrap_or(false),
            }
        })
        .collect();
    let _ = fs::remove_dir_all(&dir);
    rows
}

fn groups(rows: &[Scored]) -> BTreeMap<(u64, u64), Vec<&Scored>> {
    let mut out: BTreeMap<(u64, u64), Vec<&Scored>> = BTreeMap::new();
    for r in rows {
        out.entry(r.key).or_default().push(r);
    }
    out
}

fn answer(sample: &Value) -> String {
    sample["answer"].as_str().unwrap_or("").to_string()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

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

/// PEARL's demonstration format: think, then the boxed answer.
fn boxed(sample: &Value) -> String {
    format!("<think>\nso\n</think>\n\\boxed{{{}}}", answer(sample))
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

/// The values of a list binding (segment values, vector components).
fn list(r: &Scored, name: &str) -> Vec<f64> {
    r.values[name]
        .as_array()
        .map(|xs| xs.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
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

/// The task's reference intermediate results, one per line of `sample.steps`.
fn reference_steps(sample: &Value) -> std::str::Lines<'_> {
    sample["steps"].as_str().unwrap_or("").lines()
}

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
