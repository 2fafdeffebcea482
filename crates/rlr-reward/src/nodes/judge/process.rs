//! Process judges: `judge.steps` (whole reasoning), and per segment
//! `judge.atoms`, `judge.prm`, `judge.principle`.

use crate::error::Result;
use crate::node::{Call, Cx, Node};
use crate::nodes::verify::{
    close, evaluate, extract_answer, math_equal_str, ngram_repetition, numbers_in, parse_number,
};
use crate::value::Value;

use super::rules::{
    TOL, entities, entity_in, field, last_number, lines, norm, stated_in_order, states,
    tool_outputs, well_formed,
};
use super::{Judge, JudgeItem, Scorer, drive};

/// `judge.steps(text, sample, grid = 0.1, noise = 0.0, on_error = "fail",
/// default = 0.0)`. Thinking judge: one score in [0, 1] for the whole
/// reasoning, on a grid of `grid`. The built-in judge: with s the fraction of
/// the task's reference intermediate results (`sample.steps`, one per line)
/// that the text states correctly, in order, and ρ = ngram_repetition(text,
/// n = 4), score = round_grid(clip(s · (1 − ρ) + ε, 0, 1)), ε ~ N(0, noise²);
/// for tasks without reference steps, s = 1 if the text reaches the correct
/// answer, else 0.
///
/// rlr's reading: "states, in order" is a greedy subsequence match — each
/// reference line is looked for after the previous match, a numeric line as a
/// number written in the text (relative tolerance 1e-6), any other line as
/// text (ASCII case-insensitive); "reaches the correct answer" means
/// `math_equal(extract_answer(text), sample.answer)` or the text's last number
/// equals the answer. A task with neither `sample.steps` nor `sample.answer`
/// is a failed judgement.
///
/// [PAPER] SophiaVL-R1 (arXiv:2505.17018) §3.1 and [CODE]
/// get_process_reward/extract_score (kxfan2002/SophiaVL-R1@a818494,
/// verl/workers/reward/custom.py): a learned Qwen2.5-VL-3B judge there; the
/// rule-based stand-in is rlr's [INFER].
pub(super) struct Steps;

/// Whether a text reaches a reference answer.
pub(super) fn reaches(text: &str, answer: &str) -> bool {
    if extract_answer(text).is_some_and(|a| math_equal_str(&a, answer, TOL)) {
        return true;
    }
    match (last_number(text), parse_number(answer)) {
        (Some(x), Some(y)) => close(x, y, TOL),
        _ => false,
    }
}

impl Judge for Steps {
    fn score(&self, items: &[JudgeItem<'_>]) -> Vec<std::result::Result<f64, String>> {
        items
            .iter()
            .map(|it| {
                let steps = field(it.sample, "steps").unwrap_or_default();
                let refs = lines(&steps);
                let s = if !refs.is_empty() {
                    stated_in_order(it.text, &refs) as f64 / refs.len() as f64
                } else if let Some(answer) = field(it.sample, "answer") {
                    f64::from(u8::from(reaches(it.text, &answer)))
                } else {
                    return Err(
                        "the task has neither `sample.steps` nor `sample.answer`".to_string()
                    );
                };
                Ok(s * (1.0 - ngram_repetition(it.text, 4)))
            })
            .collect()
    }
}

impl Node for Steps {
    fn name(&self) -> &'static str {
        "judge.steps"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        drive(call, cx, Scorer::Scalar(self))
    }
}

/// `judge.atoms(segments, sample, noise = 0.0, on_error = "fail", default =
/// 0.0)`. Reasoning reward model over atomic thoughts: one score in [0, 1] per
/// segment. The built-in judge gives 1 to a thought that states a fact or
/// intermediate result true for the prompt (found in `sample.facts`,
/// `sample.path` or `sample.steps`), 0 to one that states a false one, and 0.5
/// to one that states none (planning, reflection), plus ε ~ N(0, noise²),
/// clipped to [0, 1].
///
/// rlr's reading: a thought states a true fact if it contains one of the
/// reference lines (a numeric line as a number, any other as whole words,
/// case-insensitively); it states a false one if, stating none of them, it
/// writes a number that appears in no reference line and not in
/// `sample.prompt` (false statements are recognised by their numbers). A task
/// without any of the three fields is a failed judgement.
///
/// [2ND] Atom-Searcher RRM (arXiv:2508.12800): a large reasoning LLM prompted
/// as judge there; the stand-in and the mean aggregation are [INFER].
pub(super) struct Atoms;

impl Judge for Atoms {
    fn score(&self, items: &[JudgeItem<'_>]) -> Vec<std::result::Result<f64, String>> {
        items
            .iter()
            .map(|it| {
                let fields: Vec<String> = ["facts", "path", "steps"]
                    .iter()
                    .filter_map(|k| field(it.sample, k))
                    .collect();
                let refs: Vec<&str> = fields.iter().flat_map(|f| lines(f)).collect();
                if refs.is_empty() {
                    return Err(
                        "the task has none of `sample.facts`, `sample.path`, `sample.steps`"
                            .to_string(),
                    );
                }
                if refs.iter().any(|r| states(it.text, r)) {
                    return Ok(1.0);
                }
                let prompt = field(it.sample, "prompt").unwrap_or_default();
                let known: Vec<f64> = refs
                    .iter()
                    .flat_map(|r| numbers_in(r))
                    .chain(numbers_in(&prompt))
                    .collect();
                let false_number = numbers_in(it.text)
                    .iter()
                    .any(|x| !known.iter().any(|k| close(*x, *k, TOL)));
                Ok(if false_number { 0.0 } else { 0.5 })
            })
            .collect()
    }
}

impl Node for Atoms {
    fn name(&self) -> &'static str {
        "judge.atoms"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        drive(call, cx, Scorer::Scalar(self))
    }
}

/// `judge.prm(segments, sample, noise = 0.0, on_error = "fail", default =
/// 0.0)`. Process reward model: for each step k, the probability
/// r_process(q, p^(k)) ∈ [0, 1] that it is correct given the steps before it.
/// The built-in PRM gives 1 to a step whose stated result matches the
/// reference result of that step (`sample.steps`, line k) or follows correctly
/// from the previous stated result, 0 otherwise, plus ε ~ N(0, noise²),
/// clipped to [0, 1].
///
/// rlr's reading: a step's stated result is the last number it writes; it
/// "follows correctly" if its last `=` has an arithmetic expression before it
/// (numbers, + − × ÷, parentheses) that evaluates exactly to the number after
/// it and, unless it is the first step with a result, uses the previous
/// step's stated result as an operand. Steps without `sample.steps` can only
/// score by the second rule.
///
/// [2ND] Clip/Delta PRM setting (arXiv:2410.15115); TP-GRPO generative PRM
/// (arXiv:2507.23317): learned PRMs there; the rule-based stand-in is rlr's
/// [INFER].
pub(super) struct Prm;

/// Whether a step's last equation `expr = value` is correct arithmetic using `previous` (if any).
pub(super) fn follows(step: &str, previous: Option<f64>) -> bool {
    let Some(eq) = step.rfind('=') else {
        return false;
    };
    let lhs = &step[..eq];
    let start = lhs
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit() || " .+-*/()×÷·−\t".contains(*c))
        .last()
        .map_or(lhs.len(), |(i, _)| i);
    let Some((value, used)) = evaluate(lhs[start..].trim()) else {
        return false;
    };
    let Some(rhs) = numbers_in(&step[eq + 1..]).first().copied() else {
        return false;
    };
    close(value.to_f64(), rhs, TOL)
        && previous.is_none_or(|p| used.iter().any(|u| close(u.to_f64(), p, TOL)))
}

impl Judge for Prm {
    fn score(&self, items: &[JudgeItem<'_>]) -> Vec<std::result::Result<f64, String>> {
        items
            .iter()
            .map(|it| {
                let k = it.segment.unwrap_or(0);
                let steps = field(it.sample, "steps").unwrap_or_default();
                let refs = lines(&steps);
                let result = last_number(it.text);
                let reference = refs.get(k).and_then(|r| parse_number(r));
                if matches!((result, reference), (Some(x), Some(y)) if close(x, y, TOL)) {
                    return Ok(1.0);
                }
                let previous = it
                    .segments
                    .get(..k)
                    .and_then(|before| before.iter().rev().find_map(|s| last_number(s)));
                Ok(f64::from(u8::from(follows(it.text, previous))))
            })
            .collect()
    }
}

impl Node for Prm {
    fn name(&self) -> &'static str {
        "judge.prm"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        drive(call, cx, Scorer::Scalar(self))
    }
}

/// `judge.principle(segments, sample, noise = 0.0, on_error = "fail", default
/// = 0.0)`. Principle process reward: each segment k gets score_k /
/// max_score_k ∈ [0, 1] against fixed principles. The built-in judge checks
/// four: well-formed (tags closed, any tool call parses), grounded (every
/// entity it asserts appears in the prompt or an earlier tool output),
/// progress (it reaches an entity of the gold path `sample.path` not reached
/// before), not repeated (it is not a copy of an earlier segment); score =
/// #satisfied/4 + ε, clipped.
///
/// rlr's reading: tags are `<name>`/`</name>` pairs in nesting order, a
/// `<tool_call>` holds one JSON object per line, `<search>`/`<calc>` are
/// non-blank; entities are numbers and runs of capitalised words (a single
/// capitalised word starting a sentence is not one), found case-insensitively
/// as whole words; tool outputs are `<result>` blocks of the rollout ending
/// before the segment's end; "reached" means mentioned; without `sample.path`
/// the goals are the entities of `sample.steps`, else of `sample.facts` (none
/// of them is a failed judgement); copies are compared after trimming,
/// lower-casing and collapsing whitespace.
///
/// [2ND] PPR principle process reward model (arXiv:2509.25598): a Qwen3-8B
/// PPRM emitting <score>/<max_score> there; the four principles are rlr's
/// [INFER].
pub(super) struct Principle;

impl Judge for Principle {
    fn score(&self, items: &[JudgeItem<'_>]) -> Vec<std::result::Result<f64, String>> {
        items
            .iter()
            .map(|it| {
                let Some(path) = ["path", "steps", "facts"]
                    .iter()
                    .find_map(|k| field(it.sample, k))
                else {
                    return Err(
                        "the task has no `sample.path` (nor `sample.steps`, `sample.facts`)"
                            .to_string(),
                    );
                };
                let k = it.segment.unwrap_or(0);
                let before = it.segments.get(..k).unwrap_or(&[]);
                let prompt = field(it.sample, "prompt").unwrap_or_default();
                let rollout_text = it.rollout.map_or("", |r| r.text.as_str());
                let end = it.end.unwrap_or(rollout_text.len());
                let mut sources: Vec<&str> = vec![&prompt];
                sources.extend(
                    tool_outputs(rollout_text)
                        .into_iter()
                        .filter(|(e, _)| *e <= end)
                        .map(|(_, t)| t),
                );

                let formed = well_formed(it.text);
                let grounded = entities(it.text).iter().all(|e| entity_in(e, &sources));
                let goals = entities(&path);
                let reached = |s: &str| {
                    goals
                        .iter()
                        .filter(|g| entity_in(g, &[s]))
                        .cloned()
                        .collect::<Vec<_>>()
                };
                let new = reached(it.text);
                let progress = new
                    .iter()
                    .any(|g| !before.iter().any(|b| entity_in(g, &[b.as_str()])));
                let fresh = !before.iter().any(|b| norm(b) == norm(it.text));
                let satisfied = [formed, grounded, progress, fresh]
                    .iter()
                    .filter(|b| **b)
                    .count();
                Ok(satisfied as f64 / 4.0)
            })
            .collect()
    }
}

impl Node for Principle {
    fn name(&self) -> &'static str {
        "judge.principle"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        drive(call, cx, Scorer::Scalar(self))
    }
}
