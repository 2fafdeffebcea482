//! String measures: `matches`, `match_count`, `token_f1`, `jaccard`, `rouge`,
//! `wer`, `ngram_repetition`, `phrase_count`, `json_valid`, `length_of`,
//! `overlong`.

use std::collections::{BTreeMap, BTreeSet};

use rlr_lang::Scope;

use crate::error::{EvalError, Result};
use crate::kit;
use crate::layout::Segs;
use crate::node::{Call, Cx, Node};
use crate::value::Value;

use super::{aligned, bools_out, labs, locate, reals_out, regex};

/// The texts of the `text` argument, aligned to the output, and their segmentation.
fn text_arg(call: &Call<'_>, cx: &Cx<'_>) -> Result<(Value, Option<Segs>)> {
    let (mut vals, segs) = aligned(call, cx, &["text"])?;
    Ok((vals.remove(0), segs))
}

/// Applies `f` to every text of the `text` argument (aligned to the output)
/// and builds the output value from the results.
fn per_text<T>(
    call: &Call<'_>,
    cx: &Cx<'_>,
    f: impl Fn(&str) -> T,
    out: fn(&Call<'_>, Vec<T>, Option<Segs>) -> Value,
) -> Result<Value> {
    let (v, segs) = text_arg(call, cx)?;
    let data = kit::texts(&v, "text")?.iter().map(|t| f(t)).collect();
    Ok(out(call, data, segs))
}

/// Whitespace-separated words.
pub(crate) fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

/// `matches(text, pattern)`. True iff the regular expression matches
/// somewhere in the text; anchor with `^...$` to require the whole text. `.`
/// also matches newlines (flag `s`). An invalid pattern is an error.
///
/// [CODE] PEARL format reward (MiliLab/PEARL@dab5b0a, math_mqa.py); ToolRL
/// format templates (qiancheng0/ToolRL, rlla.py).
pub(super) struct Matches;

impl Node for Matches {
    fn name(&self) -> &'static str {
        "matches"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let re = regex(&format!("(?s){}", call.text("pattern")?), "pattern")?;
        per_text(call, cx, |t| re.is_match(t), bools_out)
    }
}

/// `match_count(text, pattern)`. The number of non-overlapping matches of the
/// regular expression in the text (flag `s` as in `matches`).
///
/// [CODE] Climb Carves Wisdom think_reward
/// (trestad/Noisy-Rewards-in-Learning-to-Reason,
/// verl/utils/reward_score/math_score.py).
pub(super) struct MatchCount;

impl Node for MatchCount {
    fn name(&self) -> &'static str {
        "match_count"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let re = regex(&format!("(?s){}", call.text("pattern")?), "pattern")?;
        per_text(call, cx, |t| re.find_iter(t).count() as f64, reals_out)
    }
}

/// SQuAD normalisation: lower-case, drop ASCII punctuation and the articles a/an/the, split on whitespace.
fn squad_tokens(s: &str) -> Vec<String> {
    let lower: String = s
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect();
    lower
        .split_whitespace()
        .filter(|w| !matches!(*w, "a" | "an" | "the"))
        .map(str::to_string)
        .collect()
}

fn multiset<T: Ord + Clone>(items: &[T]) -> BTreeMap<T, usize> {
    let mut m = BTreeMap::new();
    for x in items {
        *m.entry(x.clone()).or_insert(0) += 1;
    }
    m
}

fn overlap<T: Ord>(a: &BTreeMap<T, usize>, b: &BTreeMap<T, usize>) -> usize {
    a.iter()
        .map(|(k, n)| (*n).min(b.get(k).copied().unwrap_or(0)))
        .sum()
}

fn f_measure(common: usize, pred: usize, gold: usize) -> f64 {
    if common == 0 || pred == 0 || gold == 0 {
        return 0.0;
    }
    let p = common as f64 / pred as f64;
    let r = common as f64 / gold as f64;
    2.0 * p * r / (p + r)
}

/// SQuAD token F1 of two texts.
pub(crate) fn token_f1(pred: &str, gold: &str) -> f64 {
    let (p, g) = (squad_tokens(pred), squad_tokens(gold));
    if p.is_empty() || g.is_empty() {
        return f64::from(u8::from(p.is_empty() && g.is_empty()));
    }
    f_measure(overlap(&multiset(&p), &multiset(&g)), p.len(), g.len())
}

/// `token_f1(a, b, sep = "")`. SQuAD token F1: both sides are normalised
/// (lower-case, punctuation and the articles a/an/the removed, split on
/// whitespace); with c = |tokens(a) ∩ tokens(b)| as multisets, P = c/|a|,
/// R = c/|b|, F1 = 2PR/(P + R), 0 when c = 0; if either side is empty F1 = 1
/// when both are, else 0. With `sep`, F1 = max over the aliases of b (empty
/// aliases are ignored unless all are empty). A missing label is empty.
///
/// [2ND] Atom-Searcher outcome reward (arXiv:2508.12800, secondary
/// summaries); [CODE] IGPO final-turn F1 (GuoqingWang1/IGPO,
/// verl/utils/reward_score/info_gain.py); definition [PAPER] SQuAD
/// (arXiv:1606.05250).
pub(super) struct TokenF1;

impl Node for TokenF1 {
    fn name(&self) -> &'static str {
        "token_f1"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let sep = call.text("sep")?;
        let (vals, segs) = aligned(call, cx, &["a", "b"])?;
        let (a, b) = (labs(&vals[0], "a")?, labs(&vals[1], "b")?);
        let out = a
            .iter()
            .zip(&b)
            .map(|(x, y)| {
                let x = x.text().unwrap_or_default();
                let y = y.text().unwrap_or_default();
                if sep.is_empty() {
                    return token_f1(&x, &y);
                }
                let mut aliases: Vec<&str> =
                    y.split(sep).filter(|s| !s.trim().is_empty()).collect();
                if aliases.is_empty() {
                    aliases.push("");
                }
                aliases.iter().map(|g| token_f1(&x, g)).fold(0.0, f64::max)
            })
            .collect();
        Ok(reals_out(call, out, segs))
    }
}

fn ngram_set(text: &str, n: usize) -> BTreeSet<Vec<String>> {
    let w: Vec<String> = text
        .to_lowercase()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    w.windows(n).map(<[String]>::to_vec).collect()
}

/// `jaccard(a, b, n = 1)`. Jaccard similarity of the sets of word n-grams:
/// |A ∩ B| / |A ∪ B|, 1 when both are empty. Words are whitespace-separated
/// after lower-casing.
///
/// [INFER] Reasoning-SQL schema-linking and n-gram rewards (arXiv:2503.23157,
/// weights and tokenisation unverified); ToolRL uses the multiset form for
/// tool names [CODE].
pub(super) struct Jaccard;

impl Node for Jaccard {
    fn name(&self) -> &'static str {
        "jaccard"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let n = call.int("n")?.max(1) as usize;
        let (vals, segs) = aligned(call, cx, &["a", "b"])?;
        let (a, b) = (labs(&vals[0], "a")?, labs(&vals[1], "b")?);
        let out = a
            .iter()
            .zip(&b)
            .map(|(x, y)| {
                let sa = ngram_set(&x.text().unwrap_or_default(), n);
                let sb = ngram_set(&y.text().unwrap_or_default(), n);
                let union = sa.union(&sb).count();
                if union == 0 {
                    1.0
                } else {
                    sa.intersection(&sb).count() as f64 / union as f64
                }
            })
            .collect();
        Ok(reals_out(call, out, segs))
    }
}

/// ROUGE tokens: lower-cased runs of letters and digits (rouge-score's tokenizer).
fn rouge_tokens(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn rouge_n(a: &[String], b: &[String], n: usize) -> f64 {
    let grams =
        |t: &[String]| -> Vec<Vec<String>> { t.windows(n).map(<[String]>::to_vec).collect() };
    let (ga, gb) = (grams(a), grams(b));
    f_measure(overlap(&multiset(&ga), &multiset(&gb)), ga.len(), gb.len())
}

fn lcs(a: &[String], b: &[String]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                cur[j].max(prev[j + 1])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// ROUGE of a prediction against a reference; `variant` is "1", "2", "l" or "mean".
pub(crate) fn rouge(pred: &str, reference: &str, variant: &str) -> f64 {
    let (a, b) = (rouge_tokens(pred), rouge_tokens(reference));
    let r1 = || rouge_n(&a, &b, 1);
    let r2 = || rouge_n(&a, &b, 2);
    let rl = || f_measure(lcs(&a, &b), a.len(), b.len());
    match variant {
        "1" => r1(),
        "2" => r2(),
        "l" => rl(),
        _ => (r1() + r2() + rl()) / 3.0,
    }
}

/// `rouge(a, b, variant = "mean")`. ROUGE F-measure over lower-cased word
/// tokens: ROUGE-n from n-gram overlap counts, ROUGE-L from the longest common
/// subsequence; `mean` = (R1 + R2 + RL)/3, SophiaVL-R1's free-form reward.
/// Tokens are runs of letters and digits, as rouge-score's tokenizer; a side
/// without tokens (or n-grams) scores 0, as in rouge-score.
///
/// [PAPER] SophiaVL-R1 (arXiv:2505.17018) §3.3 free-form outcome reward.
pub(super) struct Rouge;

impl Node for Rouge {
    fn name(&self) -> &'static str {
        "rouge"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let variant = call.text("variant")?;
        if !matches!(variant, "1" | "2" | "l" | "mean") {
            return Err(EvalError::new(format!(
                "`variant` must be \"1\", \"2\", \"l\" or \"mean\", not {variant:?}"
            )));
        }
        let (vals, segs) = aligned(call, cx, &["a", "b"])?;
        let (a, b) = (labs(&vals[0], "a")?, labs(&vals[1], "b")?);
        let out = a
            .iter()
            .zip(&b)
            .map(|(x, y)| {
                rouge(
                    &x.text().unwrap_or_default(),
                    &y.text().unwrap_or_default(),
                    variant,
                )
            })
            .collect();
        Ok(reals_out(call, out, segs))
    }
}

/// Word error rate of a hypothesis against a reference.
pub(crate) fn wer(hyp: &str, reference: &str) -> f64 {
    let (h, r) = (words(hyp), words(reference));
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    let mut prev: Vec<usize> = (0..=r.len()).collect();
    let mut cur = vec![0usize; r.len() + 1];
    for (i, x) in h.iter().enumerate() {
        cur[0] = i + 1;
        for (j, y) in r.iter().enumerate() {
            let sub = prev[j] + usize::from(x != y);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[r.len()] as f64 / r.len() as f64
}

/// `wer(a, b)`. Word error rate: the word-level Levenshtein distance from a to
/// b divided by the number of words in b (can exceed 1; 0 if both are empty, 1
/// if only b is). Words are whitespace-separated, compared as written.
///
/// [PAPER] SophiaVL-R1 (arXiv:2505.17018) §3.3 OCR outcome reward.
pub(super) struct Wer;

impl Node for Wer {
    fn name(&self) -> &'static str {
        "wer"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let (vals, segs) = aligned(call, cx, &["a", "b"])?;
        let (a, b) = (labs(&vals[0], "a")?, labs(&vals[1], "b")?);
        let out = a
            .iter()
            .zip(&b)
            .map(|(x, y)| wer(&x.text().unwrap_or_default(), &y.text().unwrap_or_default()))
            .collect();
        Ok(reals_out(call, out, segs))
    }
}

/// (distinct word n-grams occurring more than once) / (number of word n-grams); 0 under n words.
pub(crate) fn ngram_repetition(text: &str, n: usize) -> f64 {
    let w = words(text);
    let n = n.max(1);
    if w.len() < n {
        return 0.0;
    }
    let grams: Vec<&[&str]> = w.windows(n).collect();
    let counts = multiset(&grams);
    counts.values().filter(|c| **c > 1).count() as f64 / grams.len() as f64
}

/// `ngram_repetition(text, n = 20)`. Repetition ratio: (number of distinct
/// word n-grams that occur more than once) / (total number of word n-grams); 0
/// if the text has fewer than n words. Words are whitespace-separated, as
/// written (the released code lower-cases the text before).
///
/// [CODE] Climb Carves Wisdom ngram_rep_ratio_20
/// (trestad/Noisy-Rewards-in-Learning-to-Reason,
/// verl/utils/reward_score/math_score.py).
pub(super) struct NgramRepetition;

impl Node for NgramRepetition {
    fn name(&self) -> &'static str {
        "ngram_repetition"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let n = call.int("n")?.max(1) as usize;
        per_text(call, cx, |t| ngram_repetition(t, n), reals_out)
    }
}

/// `phrase_count(text, phrases, distinct = true)`. Counts phrases in the
/// lower-cased text: with `distinct`, the number of phrases that occur at
/// least once (presence, not frequency); otherwise the total number of
/// non-overlapping occurrences. Phrases are lower-cased too; empty phrases
/// count nothing. Climb Carves Wisdom's reasoning-pattern reward is
/// RPR = max(0, min(1, count/20) − ngram_repetition(think, n = 20) −
/// #occurrences("user: ")) over its 40 key phrases.
///
/// [CODE] Climb Carves Wisdom think_reward
/// (trestad/Noisy-Rewards-in-Learning-to-Reason,
/// verl/utils/reward_score/math_score.py).
pub(super) struct PhraseCount;

impl Node for PhraseCount {
    fn name(&self) -> &'static str {
        "phrase_count"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let phrases: Vec<String> = call
            .texts("phrases")?
            .iter()
            .map(|p| p.to_lowercase())
            .filter(|p| !p.is_empty())
            .collect();
        let distinct = call.flag("distinct")?;
        let count = |t: &str| {
            let t = t.to_lowercase();
            let n: usize = if distinct {
                phrases.iter().filter(|p| t.contains(p.as_str())).count()
            } else {
                phrases.iter().map(|p| t.matches(p.as_str()).count()).sum()
            };
            n as f64
        };
        per_text(call, cx, count, reals_out)
    }
}

/// `json_valid(text)`. True iff the trimmed text is exactly one JSON value
/// (RFC 8259), as serde_json parses it (nesting deeper than 128 levels is
/// rejected).
///
/// [CODE] the parse step of ToolRL's correctness reward (qiancheng0/ToolRL,
/// rlla.py); generic structured-output check.
pub(super) struct JsonValid;

impl Node for JsonValid {
    fn name(&self) -> &'static str {
        "json_valid"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        per_text(
            call,
            cx,
            |t| serde_json::from_str::<serde_json::Value>(t.trim()).is_ok(),
            bools_out,
        )
    }
}

/// `length_of(text, unit = "tokens")`. The length of the text in the chosen
/// unit: policy tokenizer tokens, whitespace-separated words, or Unicode
/// characters. ToolRL's length reward is
/// `minimum(length_of(think, unit = "words") / 512, 1)`.
///
/// Tokens: the rollout's tokens that start inside the text, where the text is
/// the rollout's text or a part of it (`think`, a segment); a text that is not
/// part of its rollout counts one token per character (the built-in
/// character tokenizer).
///
/// [CODE] ToolRL WITHLENGTH (qiancheng0/ToolRL, rlla.py); PAR length penalty
/// (PorUna-byte/PAR, trainers/reward_shaper.py).
pub(super) struct LengthOf;

impl Node for LengthOf {
    fn name(&self) -> &'static str {
        "length_of"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let unit = call.text("unit")?;
        let (v, segs) = text_arg(call, cx)?;
        let texts = kit::texts(&v, "text")?;
        let out = match unit {
            "words" => texts.iter().map(|t| words(t).len() as f64).collect(),
            "chars" => texts.iter().map(|t| t.chars().count() as f64).collect(),
            "tokens" => {
                let owner: Vec<Option<usize>> = match (call.out.scope, &segs) {
                    (Scope::Response, _) => (0..texts.len()).map(Some).collect(),
                    (Scope::Segment, Some(s)) => s.response_of().into_iter().map(Some).collect(),
                    _ => vec![None; texts.len()],
                };
                texts
                    .iter()
                    .zip(owner)
                    .map(|(t, r)| {
                        let rollout = r.and_then(|r| cx.rollout(&call.set, r));
                        token_length(t, rollout) as f64
                    })
                    .collect()
            }
            other => {
                return Err(EvalError::new(format!(
                    "`unit` must be \"tokens\", \"words\" or \"chars\", not {other:?}"
                )));
            }
        };
        Ok(reals_out(call, out, segs))
    }
}

fn token_length(text: &str, rollout: Option<&crate::batch::Rollout>) -> usize {
    let Some(rollout) = rollout else {
        return text.chars().count();
    };
    if text == rollout.text {
        return rollout.token_count();
    }
    let base = locate(&rollout.text, text);
    if rollout.text.get(base..base + text.len()) != Some(text) {
        return text.chars().count();
    }
    let end = base + text.len();
    rollout
        .token_offsets()
        .iter()
        .filter(|o| **o >= base && **o < end)
        .count()
}

/// `overlong(length, max = max_tokens, buffer, factor = 1.0)`. DAPO's
/// overlong reward shaping: with L_exp = max − buffer,
/// r = min(−(length − L_exp) / buffer · factor, 0), i.e. 0 up to L_exp, then
/// falling linearly to −factor at max. A NaN length gives NaN.
///
/// [CODE] DAPO (verl recipe/dapo, verl/workers/reward_manager/dapo.py;
/// arXiv:2503.14476) §0.2.4.
pub(super) struct Overlong;

impl Node for Overlong {
    fn name(&self) -> &'static str {
        "overlong"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let max = call.real("max")?;
        let buffer = call.real("buffer")?;
        let factor = call.real("factor")?;
        if buffer.is_nan() || buffer <= 0.0 {
            return Err(EvalError::new(format!(
                "`buffer` must be at least 1, not {buffer}"
            )));
        }
        let expected = max - buffer;
        let length = call.value("length")?;
        kit::map_reals(call, cx, &[length], |x| {
            let l = x[0];
            if l.is_nan() {
                return f64::NAN;
            }
            let r = -(l - expected) / buffer * factor;
            if r < 0.0 { r } else { 0.0 }
        })
    }
}
