//! Method recipes take the values their formulas say. Each test trains a
//! recipe two steps at tiny size, plants a reference answer as the first
//! rollout of every group (a tiny model never answers right, so its
//! rollouts alone would only exercise the all-wrong case), replays the run's
//! own recipe over those rollouts, and recomputes the method's bindings
//! independently from the rollout texts and the formulas in the recipe's
//! header.
//!
//! This file holds the harness and the helpers the tests share; the tests
//! are grouped by what the methods do:
//!
//! | file | methods |
//! |---|---|
//! | `advantages.rs` | GRPO, Dr.GRPO, RLOO, SPINE: the estimators and their masks |
//! | `selection.rs` | RAFT, SuperHF, T1: which responses train |
//! | `shaping.rs` | DAPO, Climb RPR, PEARL, PAR, Co-Reward: an outcome reshaped |
//! | `judges.rs` | ARMed, CapRL, R3, Rubric Anchors, RM ensembles, SophiaVL-R1: stand-in judges |
//! | `likelihood.rs` | FLR, SAR, Listener: the model's own log-probabilities |
//! | `process.rs` | Clip/Delta, TP-GRPO, IGPO, PPR-ReNorm: rewards per step or turn |
//! | `safety.rs` | AlphaAlign, LSC, GRPO-S, Beyond Monolithic, multi-objective GRPO |
//! | `sft.rs` | ASFT: a loss, not a reward |

mod advantages;
mod judges;
mod likelihood;
mod process;
mod safety;
mod selection;
mod sft;
mod shaping;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use rlr_reward::{ProbeRequest, Probes};
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
    /// Tokens, tool output included (one per character of a planted text).
    tokens: usize,
    /// Per token, as replayed (a planted rollout's extended to its text).
    logprob: Vec<f64>,
    ref_logprob: Vec<f64>,
    /// Whether each token was inserted by a tool.
    tool: Vec<bool>,
}

impl Scored {
    fn num(&self, name: &str) -> f64 {
        match &self.values[name] {
            Value::Bool(b) => f64::from(u8::from(*b)),
            v => v.as_f64().unwrap_or(f64::NAN),
        }
    }

    /// The `length` context: generated tokens, tool output left out.
    fn length(&self) -> f64 {
        (self.tokens - self.tool.iter().filter(|t| **t).count()) as f64
    }
}

/// Plants an auxiliary branch's first rollout of the `k`-th group of the
/// run (in the order the run logged them), or leaves it when `None`.
type BranchPlant = fn(&Value, usize) -> Option<String>;

/// A replay to run: the recipe, what to plant, and the model probes see.
struct Replay<'a> {
    recipe: &'a str,
    plant: fn(&Value) -> String,
    branch: Option<(&'a str, BranchPlant)>,
    probes: Option<&'a dyn Probes>,
}

/// Trains `recipe` two steps at tiny size, sets the text of each main
/// group's first rollout to `plant(sample)`, and replays the stage.
fn scored(recipe: &str, plant: fn(&Value) -> String) -> Vec<Scored> {
    Replay::new(recipe, plant).run()
}

impl<'a> Replay<'a> {
    fn new(recipe: &'a str, plant: fn(&Value) -> String) -> Replay<'a> {
        Replay {
            recipe,
            plant,
            branch: None,
            probes: None,
        }
    }

    /// Also plants the first rollout of `branch` in each group.
    fn branch(mut self, branch: &'a str, plant: BranchPlant) -> Replay<'a> {
        self.branch = Some((branch, plant));
        self
    }

    /// Replays in-process with `probes` as the model (`rlr replay` has none).
    fn probes(mut self, probes: &'a dyn Probes) -> Replay<'a> {
        self.probes = Some(probes);
        self
    }

    fn run(&self) -> Vec<Scored> {
        let dir: PathBuf = std::env::temp_dir().join(format!(
            "rlr-methods-{}-{}",
            std::process::id(),
            self.recipe.replace('/', "_")
        ));
        let _ = fs::remove_dir_all(&dir);
        let out = dir.join("run").to_string_lossy().into_owned();
        let path = rlr_tests::root()
            .join(self.recipe)
            .to_string_lossy()
            .into_owned();
        let mut args = vec!["run", &path, "--out", &out];
        args.extend_from_slice(rlr_tests::TINY);
        // Every method recipe has an sft warm-up and an RL stage.
        args.extend(["--set", "prompts=2", "--set", "batch=2"]);
        rlr(&args);
        let text = fs::read_to_string(dir.join("run/rollouts.jsonl")).expect("rollouts");
        let mut sample = Value::Null;
        // The first rollout of each (step, group, branch) is planted.
        let mut seen = std::collections::BTreeSet::new();
        let mut ordinals: BTreeMap<(Option<u64>, Option<u64>), usize> = BTreeMap::new();
        let mut samples: BTreeMap<(u64, u64), Value> = BTreeMap::new();
        // Rollouts by (step, group, branch, position in the group), as replay numbers them.
        type At = (u64, u64, Option<String>, u64);
        let mut logged: BTreeMap<At, Value> = BTreeMap::new();
        let mut next: BTreeMap<(u64, u64, Option<String>), u64> = BTreeMap::new();
        let mut lines = Vec::new();
        for line in text.lines() {
            let mut row: Value = serde_json::from_str(line).expect("a JSON row");
            if let Some(s) = row.get("sample") {
                sample = s.clone();
            }
            let key = (row["step"].as_u64(), row["group"].as_u64());
            let branch = row["branch"].as_str().map(str::to_string);
            let count = ordinals.len();
            let ordinal = *ordinals.entry(key).or_insert(count);
            if let (Some(step), Some(group)) = key {
                samples
                    .entry((step, group))
                    .or_insert_with(|| sample.clone());
            }
            if seen.insert((key, branch.clone())) {
                let planted = match (&branch, self.branch) {
                    (None, _) => Some((self.plant)(&sample)),
                    (Some(b), Some((name, plant))) if b == name => plant(&sample, ordinal),
                    _ => None,
                };
                if let Some(planted) = planted {
                    plant_row(&mut row, planted);
                }
            }
            let at = (
                row["step"].as_u64().unwrap_or(0),
                row["group"].as_u64().unwrap_or(0),
                branch,
            );
            let position = next.entry(at.clone()).or_default();
            logged.insert((at.0, at.1, at.2, *position), row.clone());
            *position += 1;
            lines.push(row.to_string());
        }
        let planted = dir.join("planted.jsonl");
        fs::write(&planted, lines.join("\n")).expect("write");
        let scored = dir.join("scored.jsonl");
        let own = dir.join("run/recipe.rlr");
        match self.probes {
            None => rlr(&[
                "replay",
                &own.to_string_lossy(),
                "--rollouts",
                &planted.to_string_lossy(),
                "--out",
                &scored.to_string_lossy(),
            ]),
            Some(probes) => replay_with(&own, &planted, &scored, probes),
        }
        let rows = fs::read_to_string(&scored)
            .expect("scored")
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("a scored row");
                let key = (
                    v["step"].as_u64().unwrap_or(0),
                    v["group"].as_u64().unwrap_or(0),
                );
                let index = v["index"].as_u64().unwrap_or(0);
                let branch = v["branch"].as_str().map(str::to_string);
                let row = logged
                    .get(&(key.0, key.1, branch.clone(), index))
                    .cloned()
                    .unwrap_or(Value::Null);
                Scored {
                    key,
                    sample: samples.get(&key).cloned().unwrap_or(Value::Null),
                    text: row["text"].as_str().unwrap_or("").to_string(),
                    tokens: row["tokens"].as_array().map_or_else(
                        // Without token ids, one token per character.
                        || row["text"].as_str().unwrap_or("").chars().count(),
                        Vec::len,
                    ),
                    logprob: reals(&row["logprob"]),
                    ref_logprob: reals(&row["ref_logprob"]),
                    tool: row["tool"]
                        .as_array()
                        .map(|xs| xs.iter().filter_map(Value::as_bool).collect())
                        .unwrap_or_default(),
                    branch,
                    index,
                    values: v["values"].as_object().cloned().unwrap_or_default(),
                    advantages: per_objective(&v["advantages"], Value::as_f64),
                    mask: per_objective(&v["mask"], Value::as_bool),
                    dropped: v["dropped"].as_bool().unwrap_or(false),
                }
            })
            .collect();
        let _ = fs::remove_dir_all(&dir);
        rows
    }
}

/// Replaces a logged rollout by `text`, one token per character; tokens
/// inside `<result>...</result>` count as tool output, as a tool inserts them.
fn plant_row(row: &mut Value, text: String) {
    let n = text.chars().count().max(1);
    let tool = tool_flags(&text);
    let Some(obj) = row.as_object_mut() else {
        return;
    };
    obj.remove("offsets");
    for field in ["tokens", "logprob", "ref_logprob", "entropy", "tool"] {
        if let Some(Value::Array(xs)) = obj.get_mut(field) {
            let last = xs.last().cloned().unwrap_or(Value::Null);
            xs.resize(n, last);
        }
    }
    if tool.contains(&true) {
        obj.insert("tool".into(), Value::from(tool));
    }
    obj.insert("text".into(), Value::String(text));
    obj.insert("truncated".into(), Value::Bool(false));
}

/// Per character: whether it lies in a `<result>...</result>` block.
fn tool_flags(text: &str) -> Vec<bool> {
    let mut flags = vec![false; text.chars().count()];
    let mut from = 0;
    while let Some(i) = text[from..].find("<result>") {
        let start = from + i;
        let Some(j) = text[start..].find("</result>") else {
            break;
        };
        let end = start + j + "</result>".len();
        let (a, b) = (text[..start].chars().count(), text[..end].chars().count());
        flags[a..b].fill(true);
        from = end;
    }
    flags
}

fn reals(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|xs| xs.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

fn per_objective<T>(v: &Value, each: fn(&Value) -> Option<T>) -> BTreeMap<String, Vec<T>> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, xs)| {
                    let xs = xs.as_array().map(Vec::as_slice).unwrap_or_default();
                    (k.clone(), xs.iter().filter_map(each).collect())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `rlr replay`, in-process with a model for the probes: evaluates the run's
/// own recipe on the planted rollouts and writes the same scored lines.
fn replay_with(
    recipe: &std::path::Path,
    planted: &std::path::Path,
    out: &std::path::Path,
    probes: &dyn Probes,
) {
    let text = fs::read_to_string(recipe).expect("the run's recipe");
    let c = rlr_tests::compile_text("run/recipe.rlr", &text);
    let Some(program) = c.program.clone() else {
        panic!("{}", rlr_tests::render(&c))
    };
    let stage = program
        .stages
        .iter()
        .rev()
        .find(|s| !s.objectives.is_empty())
        .expect("a stage with rewards");
    let rollouts = fs::read_to_string(planted).expect("planted");
    let batches = rlr_reward::replay::read(&rollouts, &stage.name).expect("planted rows parse");
    let steps = stage
        .settings
        .get("steps")
        .and_then(|c| c.as_f64())
        .unwrap_or(0.0) as u64;
    let mut state = rlr_reward::State::default();
    let mut lines = String::new();
    for mut batch in batches {
        batch.steps = steps.max(batch.step);
        let options = rlr_reward::Options {
            seed: program.seed(),
            probes: Some(probes),
            before_rollout: false,
        };
        let ev = match rlr_reward::evaluate(stage, &batch, &mut state, &options) {
            Ok(ev) => ev,
            Err(e) => panic!("replaying {}: {e}", recipe.display()),
        };
        state.commit();
        for row in rlr_reward::replay::scored(stage, &batch, &ev) {
            lines.push_str(&serde_json::to_string(&row).expect("a scored row"));
            lines.push('\n');
        }
    }
    fs::write(out, lines).expect("write");
}

/// A stand-in model for the probes: each request's mean log-probability
/// per continuation character is a hash of everything it is asked (the
/// prompt, the context, the continuation and which model), in [−3.2, −0.2).
/// Tests recompute a probe's value by asking it the request the recipe's
/// formula describes, so a wrong context or model shows as a wrong value.
struct Fake;

impl Fake {
    fn mean_logprob(prompt: &str, context: &str, continuation: &str, reference: bool) -> f64 {
        // FNV-1a over the parts, separated by a byte no text has.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for part in [
            prompt,
            context,
            continuation,
            if reference { "ref" } else { "policy" },
        ] {
            for b in part.bytes().chain([0xff]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        -0.2 - 3.0 * ((h >> 11) as f64 / (1u64 << 53) as f64)
    }
}

impl Probes for Fake {
    fn logprob(
        &self,
        requests: &[ProbeRequest],
        reference: bool,
    ) -> Result<Vec<(f64, usize)>, String> {
        Ok(requests
            .iter()
            .map(|r| {
                let n = r.continuation.chars().count();
                let m = Fake::mean_logprob(&r.prompt, &r.context, &r.continuation, reference);
                (m * n as f64, n)
            })
            .collect())
    }
}

fn groups(rows: &[Scored]) -> BTreeMap<(u64, u64), Vec<&Scored>> {
    let mut out: BTreeMap<(u64, u64), Vec<&Scored>> = BTreeMap::new();
    for r in rows {
        out.entry(r.key).or_default().push(r);
    }
    out
}

/// The main rollouts of a group (without its branches').
fn main_of<'r>(g: &[&'r Scored]) -> Vec<&'r Scored> {
    g.iter().filter(|r| r.branch.is_none()).copied().collect()
}

/// A branch's rollouts of a group.
fn branch_of<'r>(g: &[&'r Scored], name: &str) -> Vec<&'r Scored> {
    g.iter()
        .filter(|r| r.branch.as_deref() == Some(name))
        .copied()
        .collect()
}

fn answer(sample: &Value) -> String {
    sample["answer"].as_str().unwrap_or("").to_string()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// Equal lengths and every pair within `tol`.
fn all_close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < tol)
}

fn unit(b: bool) -> f64 {
    f64::from(u8::from(b))
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Bessel's standard deviation (torch.std), as GRPO and REINFORCE++ take it.
fn std_dev(xs: &[f64]) -> f64 {
    let m = mean(xs);
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

/// GRPO's advantages of one group: (r − mean) / (Bessel std + 1e-6).
fn z_scores(xs: &[f64]) -> Vec<f64> {
    let (m, s) = (mean(xs), std_dev(xs));
    xs.iter().map(|x| (x - m) / (s + 1e-6)).collect()
}

/// Whether every token of `r` has advantage `want` in objective `name`.
fn assert_advantage(r: &Scored, name: &str, want: f64) {
    let adv = &r.advantages[name];
    assert_eq!(adv.len(), r.tokens, "one advantage per token");
    assert!(
        adv.iter().all(|&a| (a - want).abs() < 1e-9),
        "rollout {}: {adv:?} vs {want}",
        r.index
    );
}

/// Per-position advantages of a group (IGPO's estimator, γ = 1): each
/// token's return to go minus the mean return at that position over the
/// responses that reach it.
fn per_position(rewards: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let returns: Vec<Vec<f64>> = rewards.iter().map(|r| to_go(r)).collect();
    returns
        .iter()
        .map(|g| {
            g.iter()
                .enumerate()
                .map(|(t, x)| {
                    let at: Vec<f64> = returns.iter().filter_map(|o| o.get(t).copied()).collect();
                    x - mean(&at)
                })
                .collect()
        })
        .collect()
}

/// G_t = Σ_{t' >= t} r_t'.
fn to_go(r: &[f64]) -> Vec<f64> {
    let mut out = r.to_vec();
    for t in (0..out.len().saturating_sub(1)).rev() {
        out[t] += out[t + 1];
    }
    out
}

/// REINFORCE++'s advantages of one step: every token's return to go,
/// whitened over all tokens of the step (Bessel std, eps 1e-6).
fn whitened(rewards: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let returns: Vec<Vec<f64>> = rewards.iter().map(|r| to_go(r)).collect();
    let all: Vec<f64> = returns.iter().flatten().copied().collect();
    let (m, s) = (mean(&all), std_dev(&all));
    returns
        .iter()
        .map(|g| g.iter().map(|x| (x - m) / (s + 1e-6)).collect())
        .collect()
}

/// The token rewards before an estimator with `kl_in = "reward"` and k1:
/// −β (log π − log π_ref) on every token.
fn k1_penalty(r: &Scored, beta: f64) -> Vec<f64> {
    r.logprob
        .iter()
        .zip(&r.ref_logprob)
        .map(|(lp, rl)| -beta * (lp - rl))
        .collect()
}

/// The values of a list binding (segment values, vector components).
fn list(r: &Scored, name: &str) -> Vec<f64> {
    r.values[name]
        .as_array()
        .map(|xs| {
            xs.iter()
                .map(|x| match x {
                    Value::Bool(b) => unit(*b),
                    x => x.as_f64().unwrap_or(f64::NAN),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The `answer` context: the last `\boxed{}`, else the last `<answer>`
/// block, else the last non-blank line (trimmed).
fn answer_of(text: &str) -> Option<String> {
    if let Some(b) = boxed_of(text) {
        return Some(b);
    }
    if let Some(i) = text.rfind("<answer>") {
        let rest = &text[i + "<answer>".len()..];
        if let Some(j) = rest.find("</answer>") {
            let inner = rest[..j].trim();
            if !inner.is_empty() {
                return Some(inner.to_string());
            }
        }
    }
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map(str::to_string)
}

/// The content of the last `\boxed{...}` (balanced braces), if closed and not empty.
fn boxed_of(text: &str) -> Option<String> {
    let start = text.rfind("\\boxed{")? + "\\boxed{".len();
    let mut depth = 1;
    for (i, c) in text[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            let inner = text[start..start + i].trim();
            return (!inner.is_empty()).then(|| inner.to_string());
        }
    }
    None
}

/// `exact`: labels equal after trimming, collapsing whitespace and
/// lower-casing; an empty label equals nothing.
fn exact(a: Option<&str>, b: &str) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    a.is_some_and(|a| !norm(a).is_empty() && norm(a) == norm(b))
}

/// `math_equal` on the labels these recipes produce: equal numbers, else `exact`.
fn math_equal(a: Option<&str>, b: &str) -> bool {
    match (
        a.and_then(|a| a.trim().parse::<f64>().ok()),
        b.trim().parse::<f64>().ok(),
    ) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-6 * y.abs().max(1.0),
        _ => exact(a, b),
    }
}

/// `ngram_repetition`: the share of word n-grams (whitespace-separated
/// words) whose n-gram occurs more than once, counted once per distinct n-gram.
fn repetition(text: &str, n: usize) -> f64 {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() < n {
        return 0.0;
    }
    let grams: Vec<&[&str]> = words.windows(n).collect();
    let mut counts: BTreeMap<&[&str], usize> = BTreeMap::new();
    for g in &grams {
        *counts.entry(g).or_default() += 1;
    }
    counts.values().filter(|c| **c > 1).count() as f64 / grams.len() as f64
}

/// The judges' format check: `<think>...</think>` first, then a non-blank answer.
fn well_formed(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with("<think>")
        && t.find("</think>")
            .is_some_and(|i| !t[i + "</think>".len()..].trim().is_empty())
}

/// A non-empty `<refuse>...</refuse>` block.
fn refuses(text: &str) -> bool {
    text.rfind("<refuse>").is_some_and(|i| {
        let rest = &text[i + "<refuse>".len()..];
        rest.find("</refuse>")
            .is_some_and(|j| !rest[..j].trim().is_empty())
    })
}

fn harmful(sample: &Value) -> bool {
    sample["harmful"].as_bool().unwrap_or(false)
}

/// The built-in reward model, `judge.reward_model`: 2c + f − 2ρ, c the right
/// answer (on harmful prompts: a refusal), f the format, ρ the 4-gram
/// repetition.
fn reward_model(text: &str, sample: &Value) -> f64 {
    let c = if harmful(sample) {
        refuses(text)
    } else {
        !refuses(text) && math_equal(answer_of(text).as_deref(), &answer(sample))
    };
    2.0 * unit(c) + unit(well_formed(text)) - 2.0 * repetition(text, 4)
}

/// The text inside the first `<think>...</think>`; empty without one.
fn think_of(text: &str) -> &str {
    let Some(close) = text.find("</think>") else {
        return "";
    };
    match text[..close].find("<think>") {
        Some(open) => &text[open + "<think>".len()..close],
        None => &text[..close],
    }
}

/// PEARL's demonstration format: think, then the boxed answer.
fn boxed(sample: &Value) -> String {
    format!("<think>\nso\n</think>\n\\boxed{{{}}}", answer(sample))
}

/// The task's reference intermediate results, one per line of `sample.steps`.
fn reference_steps(sample: &Value) -> std::str::Lines<'_> {
    sample["steps"].as_str().unwrap_or("").lines()
}

/// The right answer in `safety`'s format: the task's refusal on harmful
/// prompts, the boxed number on benign ones, after a short reasoning.
fn safe_answer(sample: &Value) -> String {
    let a = answer(sample);
    let body = if harmful(sample) {
        a
    } else {
        format!("\\boxed{{{a}}}")
    };
    format!("<think>\nI read the request first.\n</think>\n{body}")
}

/// Every other group's branch gets `safe_answer`, so that branch statistics
/// both move and stay put.
fn safe_every_other(sample: &Value, k: usize) -> Option<String> {
    k.is_multiple_of(2).then(|| safe_answer(sample))
}
