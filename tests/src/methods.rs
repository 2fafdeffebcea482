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
    dropped: bool,
    /// The group's task record, from the run's rollouts.
    sample: Value,
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
fn scored(recipe: &str, extra: &[&str], plant: fn(&Value) -> String) -> Vec<Scored> {
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
    args.extend(["--set", "prompts=2"]);
    args.extend_from_slice(extra);
    rlr(&args);
    let text = fs::read_to_string(dir.join("run/rollouts.jsonl")).expect("rollouts");
    let mut sample = Value::Null;
    let mut seen = std::collections::BTreeSet::new();
    let mut samples: BTreeMap<(u64, u64), Value> = BTreeMap::new();
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
            let key = (
                v["step"].as_u64().unwrap_or(0),
                v["group"].as_u64().unwrap_or(0),
            );
            Scored {
                key,
                sample: samples.get(&key).cloned().unwrap_or(Value::Null),
                index: v["index"].as_u64().unwrap_or(0),
                values: v["values"].as_object().cloned().unwrap_or_default(),
                advantages,
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
    let rows = scored("recipes/dapo.rlr", &["--set", "batch=2"], answer);
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
    let rows = scored("recipes/raft.rlr", &["--set", "batch=2"], answer);
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

/// PEARL's demonstration format: think, then the boxed answer.
fn boxed(sample: &Value) -> String {
    format!("<think>\nso\n</think>\n\\boxed{{{}}}", answer(sample))
}

#[test]
fn pearl_scores_outcome_and_anchors_the_advantage_on_perception() {
    let rows = scored("recipes/pearl.rlr", &["--set", "batch=2"], boxed);
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
    let rows = scored("recipes/alphaalign.rlr", &["--set", "batch=2"], refusal);
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
