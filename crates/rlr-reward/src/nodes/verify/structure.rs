//! Structural checks: `atomic_format`, `answers_correct`.

use crate::error::{EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::Value;

use super::segment::{block_at, tag_at};
use super::{aligned, all_boxed, bools_out, math_equal_str, reals_out};

// ---- atomic format ---------------------------------------------------------------------------

/// Tags of tool calls and tool outputs that may separate atomic thoughts.
const TOOL_TAGS: &[&str] = &["search", "calc", "tool_call", "result"];

fn atomic_ok(text: &str, tags: &[&str]) -> bool {
    let is_atomic = |n: &str| {
        if tags.is_empty() {
            !TOOL_TAGS.contains(&n)
        } else {
            tags.iter().any(|t| t.eq_ignore_ascii_case(n))
        }
    };
    let is_tool = |n: &str| TOOL_TAGS.contains(&n) && !is_atomic(n);
    let has_atomic_tag = |s: &str| {
        s.match_indices('<').any(|(i, _)| {
            let name = match s[i + 1..].strip_prefix('/') {
                Some(rest) => rest.find('>').map(|e| &rest[..e]),
                None => tag_at(s, i).map(|(n, _)| n),
            };
            name.is_some_and(|n| !n.is_empty() && is_atomic(n))
        })
    };
    // Skips whitespace and tool blocks from `i`; returns where something else starts.
    let skip = |s: &str, mut i: usize| -> usize {
        loop {
            i += s[i..].len() - s[i..].trim_start().len();
            match block_at(s, i) {
                Some(b) if is_tool(b.name) => i = b.close_end,
                _ => return i,
            }
        }
    };
    let t = text.trim();
    let Some(rest) = t.strip_prefix("<think>") else {
        return false;
    };
    let Some(close) = rest.find("</think>") else {
        return false;
    };
    let body = &rest[..close];
    let mut thoughts = 0;
    let mut i = 0;
    loop {
        i = skip(body, i);
        if i >= body.len() {
            break;
        }
        match block_at(body, i) {
            Some(b) if is_atomic(b.name) && !has_atomic_tag(&body[b.content.clone()]) => {
                thoughts += 1;
                i = b.close_end;
            }
            _ => return false,
        }
    }
    if thoughts == 0 {
        return false;
    }
    let after = &rest[close + "</think>".len()..];
    let i = skip(after, 0);
    match block_at(after, i) {
        Some(b) if b.name == "answer" => after[b.close_end..].trim().is_empty(),
        _ => false,
    }
}

/// `atomic_format(text, tags = [])`. Atom-Searcher's well-formedness: true iff
/// the response is `<think>BODY</think>` followed by `<answer>...</answer>`,
/// where BODY is one or more atomic-thought blocks `<T>...</T>` (T in `tags`,
/// or any name if `tags` is empty), each closed, none nested, separated only
/// by whitespace, tool calls and tool outputs.
///
/// rlr's choices: tool calls and outputs are the blocks `<search>`, `<calc>`,
/// `<tool_call>` and `<result>` (not atomic thoughts unless named in `tags`);
/// they may also stand between `</think>` and `<answer>`; only whitespace may
/// surround the rest; "nested" means an atomic-thought tag inside an atomic
/// thought (a tool call inside one is allowed); tag names match `tags`
/// ignoring ASCII case.
///
/// [INFER] Atom-Searcher (arXiv:2508.12800): atomic thoughts [2ND]; the exact
/// format rule and its −1 penalty are unverified (methods.md §S.1).
pub(super) struct AtomicFormat;

impl Node for AtomicFormat {
    fn name(&self) -> &'static str {
        "atomic_format"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let tags = call.texts("tags")?;
        let (vals, segs) = aligned(call, cx, &["text"])?;
        let out = kit::texts(&vals[0], "text")?
            .iter()
            .map(|t| atomic_ok(t, &tags))
            .collect();
        Ok(bools_out(call, out, segs))
    }
}

// ---- multi-answer accuracy -------------------------------------------------------------------

/// PEARL's `<aK>...</aK>` answers in order of appearance (regex `<a(\d+)>(.*?)</a\1>`, no newline inside).
pub(crate) fn numbered_answers(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(k) = text[i..].find("<a") {
        let at = i + k;
        let mut j = at + 2;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > at + 2 && b.get(j) == Some(&b'>') {
            let close = format!("</a{}>", &text[at + 2..j]);
            let start = j + 1;
            if let Some(e) = text[start..].find(&close) {
                let content = &text[start..start + e];
                if !content.contains('\n') {
                    out.push(content);
                    i = start + e + close.len();
                    continue;
                }
            }
        }
        i = at + 1;
    }
    out
}

/// `answers_correct(text, expected, denominator = "produced")`. PEARL's
/// multi-answer accuracy. `expected` holds K reference answers, one per line
/// (blank lines ignored). Answers are taken from the response's
/// `<a1>...</a1>`, `<a2>...</a2>`, ... blocks or, if there are none, from its
/// `\boxed{}` contents in order, zipped with the references in order, and each
/// pair graded with `math_equal`. r = #correct / D, with D the number of
/// answers extracted (`produced`) or K (`expected`); r = 0 if nothing was
/// extracted (or there are no references). ⚠ With `produced`, a response
/// answering only the first sub-question, correctly, scores 1.
///
/// [CODE] PEARL accuracy_reward_mqa (MiliLab/PEARL@dab5b0a,
/// examples/reward_function/math_mqa.py; arXiv:2511.18437) §1.2.
pub(super) struct AnswersCorrect;

/// `answers_correct` of one response.
pub(crate) fn answers_correct(text: &str, expected: &str, by_expected: bool) -> f64 {
    let refs: Vec<&str> = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut answers = numbered_answers(text);
    if answers.is_empty() {
        answers = all_boxed(text);
    }
    if answers.is_empty() || refs.is_empty() {
        return 0.0;
    }
    let correct = refs
        .iter()
        .zip(&answers)
        .filter(|(r, a)| math_equal_str(a, r, 1e-6))
        .count();
    let d = if by_expected {
        refs.len()
    } else {
        answers.len()
    };
    correct as f64 / d as f64
}

impl Node for AnswersCorrect {
    fn name(&self) -> &'static str {
        "answers_correct"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let by_expected = match call.text("denominator")? {
            "produced" => false,
            "expected" => true,
            other => {
                return Err(EvalError::new(format!(
                    "`denominator` must be \"produced\" or \"expected\", not {other:?}"
                )));
            }
        };
        let (vals, segs) = aligned(call, cx, &["text", "expected"])?;
        let texts = kit::texts(&vals[0], "text")?;
        let expected = kit::texts(&vals[1], "expected")?;
        let out = texts
            .iter()
            .zip(&expected)
            .map(|(t, e)| answers_correct(t, e, by_expected))
            .collect();
        Ok(reals_out(call, out, segs))
    }
}
