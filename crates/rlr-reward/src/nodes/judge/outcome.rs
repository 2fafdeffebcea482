//! Response judges: `judge.reader`, `judge.rubric`, `judge.listener`,
//! `judge.embed`, `judge.reward_model`.

use crate::error::{EvalError, Result};
use crate::node::{Call, Cx, Node, ProbeRequest};
use crate::nodes::verify::{extract_answer, math_equal_str, ngram_repetition, tag_content, words};
use crate::value::Value;

use super::rules::{
    TOL, entities, entity_in, field, flag, format_ok, hide_answer, lines, states, tool_outputs,
    without_tool_outputs,
};
use super::{Judge, JudgeItem, Scorer, VectorJudge, drive};

/// `judge.reader(text, questions, answers, on_error = "fail", default =
/// 0.0)`. Reader judge: a frozen reader answers each question given only
/// `text`; the score is the share answered correctly (graded with
/// `math_equal`). CapRL rewards a caption by how well a text-only LLM answers
/// questions about the image from it.
///
/// The built-in reader is a rule-based stand-in that answers by lookup:
/// question k counts as answered correctly iff its reference answer (line k
/// of `answers`) is stated in the text — as a number written in it (relative
/// tolerance 1e-6) if the answer is a number, else as whole words,
/// case-insensitively. score = #found / K with K the number of non-blank
/// answer lines. No answers, or a number of questions different from K, is a
/// failed judgement.
///
/// [2ND] CapRL (InternLM/CapRL README; a Qwen2.5-3B reader there,
/// permutation count unverified [INFER]).
pub(super) struct Reader;

impl Judge for Reader {
    fn score(&self, items: &[JudgeItem<'_>]) -> Vec<std::result::Result<f64, String>> {
        items
            .iter()
            .map(|it| {
                let questions = lines(it.args.first().copied().unwrap_or(""));
                let answers = lines(it.args.get(1).copied().unwrap_or(""));
                if answers.is_empty() {
                    return Err("there are no reference answers".to_string());
                }
                if !questions.is_empty() && questions.len() != answers.len() {
                    return Err(format!(
                        "{} questions but {} answers",
                        questions.len(),
                        answers.len()
                    ));
                }
                let found = answers.iter().filter(|a| states(it.text, a)).count();
                Ok(found as f64 / answers.len() as f64)
            })
            .collect()
    }

    fn args(&self) -> &'static [&'static str] {
        &["questions", "answers"]
    }
}

impl Node for Reader {
    fn name(&self) -> &'static str {
        "judge.reader"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        drive(call, cx, Scorer::Scalar(self))
    }
}

const CRITERIA: [&str; 5] = ["correct", "format", "concise", "grounded", "no_repetition"];

fn criteria(call: &Call<'_>) -> Result<Vec<&'static str>> {
    let given = call.texts("criteria")?;
    if given.is_empty() {
        return Ok(CRITERIA.to_vec());
    }
    given
        .iter()
        .map(|c| {
            CRITERIA.iter().copied().find(|k| k == c).ok_or_else(|| {
                EvalError::new(format!(
                    "unknown rubric criterion {c:?}; the criteria are {}",
                    CRITERIA.join(", ")
                ))
            })
        })
        .collect()
}

/// `correct`: math_equal(extract_answer(text), sample.answer).
fn correct(it: &JudgeItem<'_>) -> std::result::Result<bool, String> {
    let answer = field(it.sample, "answer").ok_or("the task has no `sample.answer`")?;
    Ok(extract_answer(it.text).is_some_and(|a| math_equal_str(&a, &answer, TOL)))
}

fn grade(it: &JudgeItem<'_>, criterion: &str) -> std::result::Result<f64, String> {
    let unit = |b: bool| f64::from(u8::from(b));
    Ok(match criterion {
        "correct" => unit(correct(it)?),
        "format" => unit(format_ok(it.text)),
        "concise" => {
            let reference = field(it.sample, "expected")
                .or_else(|| {
                    let steps = field(it.sample, "steps")?;
                    Some(format!("{steps}\n{}", field(it.sample, "answer").unwrap_or_default()))
                })
                .or_else(|| field(it.sample, "answer"))
                .ok_or("the task has no reference (`sample.expected`, `sample.steps` or `sample.answer`)")?;
            let response = words(it.text).len();
            if response == 0 {
                1.0
            } else {
                (2.0 * words(&reference).len() as f64 / response as f64).min(1.0)
            }
        }
        "grounded" => {
            let asserted = entities(&without_tool_outputs(it.text));
            if asserted.is_empty() {
                1.0
            } else {
                let prompt = field(it.sample, "prompt").unwrap_or_default();
                let mut sources: Vec<&str> = vec![&prompt];
                sources.extend(tool_outputs(it.text).into_iter().map(|(_, t)| t));
                asserted.iter().filter(|e| entity_in(e, &sources)).count() as f64
                    / asserted.len() as f64
            }
        }
        _ => 1.0 - ngram_repetition(it.text, 4),
    })
}

/// `judge.rubric(text, sample, criteria = [], noise = 0.0, on_error =
/// "fail", default = 0.0)`. Rubric judge: a vector with one grade in [0, 1]
/// per criterion, in the order given. `correct` =
/// math_equal(answer, sample.answer); `format` = 1 if the response is
/// <think>...</think> then an answer; `concise` = min(1, 2·|reference| /
/// |response|) in words; `grounded` = the share of asserted facts found in the
/// prompt or tool outputs; `no_repetition` = 1 − ngram_repetition(text, n =
/// 4). Each grade gets its own ε ~ N(0, noise²) and is clipped to [0, 1];
/// `default` fills every component where the judge is not called or failed.
///
/// rlr's reading: `answer` = `extract_answer(text)`; "then an answer" = a
/// non-blank text after `</think>`; the reference is `sample.expected`, else
/// `sample.steps` with `sample.answer`, else `sample.answer` (an empty
/// response is concise: 1); asserted facts are the numbers and capitalised
/// names of the text outside `<result>` tool outputs (1 if it asserts none);
/// an unknown criterion is an error; a missing `sample.answer` (for
/// `correct`) or reference (for `concise`) is a failed judgement.
///
/// [2ND] Rubric Anchors / Rubicon (arXiv:2508.12790) and multi-objective GRPO
/// aspect scores: judge LLMs there; the built-in criteria are rlr's [INFER].
pub(super) struct Rubric;

impl VectorJudge for Rubric {
    fn width(&self, call: &Call<'_>) -> Result<usize> {
        Ok(criteria(call)?.len())
    }

    fn score(
        &self,
        items: &[JudgeItem<'_>],
        _width: usize,
    ) -> Vec<std::result::Result<Vec<f64>, String>> {
        items
            .iter()
            .map(|it| {
                let cs = criteria(it.call).map_err(|e| e.message)?;
                cs.iter().map(|c| grade(it, c)).collect()
            })
            .collect()
    }
}

impl Node for Rubric {
    fn name(&self) -> &'static str {
        "judge.rubric"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        drive(call, cx, Scorer::Vector(self))
    }
}

/// `judge.listener(text, sample, slot = "\\boxed{", on_error = "fail",
/// default = 0.0)`. Listener confidence: a frozen listener (the reference
/// policy) re-reads the reasoning with the final answer hidden and gives its
/// confidence in the correct answer, P = exp(mean over the tokens of
/// `sample.answer` of log π_ref(token | prompt, reasoning, slot, earlier
/// answer tokens)).
///
/// Computed with the model (`Probes::logprob`, reference = true). The
/// context is `sample.prompt` followed by the text cut just after its last
/// `slot` (the opening of the answer, whatever the response wrote there is
/// dropped); a text without `slot` has its `\boxed{}` groups and `<answer>`
/// blocks removed and `slot` appended, so the listener is always asked for
/// the answer where the format puts it. An empty `slot` asks right after the
/// text with its answers removed. Needs the engine (replay without a model
/// is an error). A missing `sample.answer` or an answer of no tokens is
/// a failed judgement; a model error fails every item of the batch.
///
/// [2ND] Listener-Rewarded Thinking (arXiv:2506.22832): a separate frozen VLM
/// there; the weighting and this likelihood form are [INFER].
pub(super) struct Listener;

impl Judge for Listener {
    fn score(&self, items: &[JudgeItem<'_>]) -> Vec<std::result::Result<f64, String>> {
        let mut out: Vec<std::result::Result<f64, String>> = Vec::with_capacity(items.len());
        let mut requests = Vec::new();
        let mut asked = Vec::new();
        for (k, it) in items.iter().enumerate() {
            match field(it.sample, "answer").filter(|a| !a.trim().is_empty()) {
                None => out.push(Err("the task has no `sample.answer`".to_string())),
                Some(answer) => {
                    let prompt = field(it.sample, "prompt").unwrap_or_default();
                    let slot = it.call.text("slot").unwrap_or("");
                    requests.push(ProbeRequest::new(
                        prompt,
                        listener_context(it.text, slot),
                        answer,
                    ));
                    asked.push(k);
                    out.push(Err("not scored".to_string()));
                }
            }
        }
        if requests.is_empty() {
            return out;
        }
        let Some(probes) = items.first().and_then(|it| it.probes) else {
            for k in asked {
                out[k] = Err("there is no model to listen with".to_string());
            }
            return out;
        };
        match probes.logprob(&requests, true) {
            Ok(scores) if scores.len() == requests.len() => {
                for (k, (sum, count)) in asked.into_iter().zip(scores) {
                    out[k] = if count == 0 {
                        Err("the answer has no tokens".to_string())
                    } else {
                        Ok((sum / count as f64).exp())
                    };
                }
            }
            Ok(scores) => {
                for k in asked {
                    out[k] = Err(format!(
                        "the model gave {} scores for {} requests",
                        scores.len(),
                        requests.len()
                    ));
                }
            }
            Err(e) => {
                for k in asked {
                    out[k] = Err(format!("the model failed: {e}"));
                }
            }
        }
        out
    }

    fn needs_probes(&self) -> bool {
        true
    }
}

/// The listener's context: the text up to and including its last `slot`, or
/// the text with its answers hidden followed by `slot`.
fn listener_context(text: &str, slot: &str) -> String {
    if slot.is_empty() {
        return hide_answer(text);
    }
    match text.rfind(slot) {
        Some(i) => text[..i + slot.len()].to_string(),
        None => hide_answer(text) + slot,
    }
}

impl Node for Listener {
    fn name(&self) -> &'static str {
        "judge.listener"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        drive(call, cx, Scorer::Scalar(self))
    }
}

/// FNV-1a over the bytes, finished with a splitmix64 mix.
fn hash(kind: u8, feature: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in std::iter::once(kind).chain(feature.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

/// The built-in embedding of `judge.embed`: word unigrams (lower-cased runs
/// of letters and digits) and character 3-grams (of the lower-cased text with
/// whitespace runs collapsed to one space, trimmed), each hashed (FNV-1a,
/// splitmix64 finish) into bucket `h mod dim` with sign `+1` if the top bit
/// of h is 0, else `−1`; counts are summed and the vector L2-normalised. An
/// empty text gives the zero vector. `dim = 0` gives an empty vector.
pub fn embed(text: &str, dim: usize) -> Vec<f64> {
    let mut v = vec![0.0; dim];
    if dim == 0 {
        return v;
    }
    let lower = text.to_lowercase();
    let mut add = |kind: u8, f: &str| {
        let h = hash(kind, f);
        let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
        v[(h % dim as u64) as usize] += sign;
    };
    for w in lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        add(b'w', w);
    }
    let collapsed: Vec<char> = lower
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .collect();
    for tri in collapsed.windows(3) {
        add(b'c', &tri.iter().collect::<String>());
    }
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// `judge.embed(text, dim = 256, on_error = "fail", default = 0.0)`. Text
/// embedding: the built-in embedder hashes word unigrams and character
/// 3-grams into `dim` signed buckets (feature hashing, counts) and
/// L2-normalises the result, so cos(e_i, e_j) measures surface similarity
/// (see [`embed`] for the exact features and hash). Stands in for EVOL-RL's
/// Qwen3-Embedding-4B. Where it is not called, every component is `default`.
///
/// [CODE] EVOL-RL semantic novelty (YujunZhou/EVOL-RL,
/// verl/workers/reward_manager/semantic_novelty.py; arXiv:2509.15194): a
/// learned embedding model there; the hashing embedder is rlr's [INFER].
pub(super) struct Embed;

impl VectorJudge for Embed {
    fn width(&self, call: &Call<'_>) -> Result<usize> {
        let dim = call.int("dim")?;
        if dim < 1 {
            return Err(EvalError::new(format!(
                "`dim` must be at least 1, not {dim}"
            )));
        }
        Ok(dim as usize)
    }

    fn score(
        &self,
        items: &[JudgeItem<'_>],
        width: usize,
    ) -> Vec<std::result::Result<Vec<f64>, String>> {
        items.iter().map(|it| Ok(embed(it.text, width))).collect()
    }

    fn range(&self) -> Option<(f64, f64)> {
        None
    }
}

impl Node for Embed {
    fn name(&self) -> &'static str {
        "judge.embed"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        drive(call, cx, Scorer::Vector(self))
    }
}

/// `judge.reward_model(text, sample, noise = 0.0, on_error = "fail", default
/// = 0.0)`. A Bradley–Terry-style reward model: one unbounded score per
/// response. The built-in model scores r = 2·c + f − 2·ρ + ε, with
/// c = math_equal(answer, sample.answer) (or exact for label tasks; for
/// refusals on `safety`, 1 iff the refusal is appropriate), f = 1 if the
/// response is <think>...</think> then an answer, ρ =
/// ngram_repetition(text, n = 4) and ε ~ N(0, noise²), so r ∈ [−2, 3] without
/// noise.
///
/// rlr's reading: `answer` = `extract_answer(text)`; `math_equal` already
/// compares non-numeric labels as normalised strings (so it covers label
/// tasks); a refusal is a non-empty `<refuse>...</refuse>` block; where
/// `sample.harmful` is true, c = 1 iff the response refuses, elsewhere c = 1
/// iff it does not refuse and its answer is right; "then an answer" = a
/// non-blank text after `</think>`. A missing `sample.answer` on a prompt that
/// is not harmful is a failed judgement.
///
/// [CODE] PAR's RM read-out at the last response token (PorUna-byte/PAR,
/// trainers/basic_trainer.py; arXiv:2502.18770): a learned RM there; the
/// built-in score is rlr's [INFER].
pub(super) struct RewardModel;

impl Judge for RewardModel {
    fn score(&self, items: &[JudgeItem<'_>]) -> Vec<std::result::Result<f64, String>> {
        items
            .iter()
            .map(|it| {
                let refused = tag_content(it.text, "refuse").is_some();
                let c = if flag(it.sample, "harmful") {
                    refused
                } else {
                    !refused && correct(it)?
                };
                let f = format_ok(it.text);
                let rho = ngram_repetition(it.text, 4);
                Ok(2.0 * f64::from(u8::from(c)) + f64::from(u8::from(f)) - 2.0 * rho)
            })
            .collect()
    }

    fn range(&self) -> Option<(f64, f64)> {
        None
    }
}

impl Node for RewardModel {
    fn name(&self) -> &'static str {
        "judge.reward_model"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        drive(call, cx, Scorer::Scalar(self))
    }
}
