//! Node family: verify — rule checks on text (methods.md §P.2 node 1).
//!
//! * `equal.rs`: answer comparison and extraction (`exact`, `numeric_equal`,
//!   `math_equal`, `boxed`, `last_number`, `tag`);
//! * `text.rs`: string measures (`matches`, `match_count`, `token_f1`,
//!   `jaccard`, `rouge`, `wer`, `ngram_repetition`, `phrase_count`,
//!   `json_valid`, `length_of`, `overlong`);
//! * `tools.rs`: ToolRL's checks (`toolrl_format`, `tool_call_match`,
//!   `tool_call_count`);
//! * `segment.rs`: segmenters (`segments`, `steps_of`, `turns_of`);
//! * `structure.rs`: structural checks (`atomic_format`, `answers_correct`);
//! * `countdown.rs`: `equation_valid`.
//!
//! The extraction helpers the executor and the judges share
//! ([`extract_answer`], [`think_of`], [`after_think`]) live here.

use std::borrow::Cow;

use crate::error::{EvalError, Result};
use crate::kit;
use crate::layout::Segs;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

mod countdown;
mod equal;
mod segment;
mod structure;
mod text;
mod tools;

#[cfg(test)]
mod tests;

pub(crate) use countdown::evaluate;
pub(crate) use equal::{math_equal_str, parse_number};
pub(crate) use text::{ngram_repetition, words};
pub(crate) use tools::parse_tool_lines;

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[
    &equal::Exact,
    &equal::NumericEqual,
    &equal::MathEqual,
    &equal::Boxed,
    &equal::LastNumber,
    &equal::Tag,
    &text::Matches,
    &text::MatchCount,
    &text::TokenF1,
    &text::Jaccard,
    &text::Rouge,
    &text::Wer,
    &tools::ToolCallMatch,
    &tools::ToolCallCount,
    &tools::ToolrlFormat,
    &text::LengthOf,
    &text::NgramRepetition,
    &text::PhraseCount,
    &text::JsonValid,
    &structure::AnswersCorrect,
    &structure::AtomicFormat,
    &segment::Segments,
    &segment::StepsOf,
    &segment::TurnsOf,
    &text::Overlong,
    &countdown::EquationValid,
];

// ---- extraction shared with the executor and the judges ----------------------------------

/// The final answer of a response, as the context name `answer` reads it:
/// the content of the last `\boxed{...}` (balanced braces), else of the last
/// `<answer>...</answer>`, else the last non-empty line; trimmed. `None` if
/// that is empty. As [`boxed_content`] and [`tag_content`], only the last
/// `\boxed{` (or `<answer>`) is looked at: if it is not closed (or empty), the
/// next rule applies.
pub fn extract_answer(text: &str) -> Option<String> {
    if let Some(b) = boxed_content(text) {
        return Some(b.to_string());
    }
    if let Some(a) = tag_content(text, "answer") {
        return Some(a.to_string());
    }
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map(str::to_string)
}

/// The text inside the first `<think>...</think>` (untrimmed); empty if there
/// is none. When the response has a `</think>` but no `<think>` before it (the
/// opening tag was part of the prompt, as in R1-style templates), the text
/// before the first `</think>`.
pub fn think_of(text: &str) -> &str {
    let Some(close) = text.find("</think>") else {
        return "";
    };
    match text[..close].find("<think>") {
        Some(open) => &text[open + "<think>".len()..close],
        None => &text[..close],
    }
}

/// The text after the first `</think>`; the whole text if there is none.
pub fn after_think(text: &str) -> &str {
    match text.find("</think>") {
        Some(i) => &text[i + "</think>".len()..],
        None => text,
    }
}

/// The content of the last `\boxed{` in the text up to its matching brace,
/// trimmed; `None` if there is none, it is not closed, or it is empty
/// (mathruler's `extract_boxed_content`).
pub fn boxed_content(text: &str) -> Option<&str> {
    let start = text.rfind("\\boxed{")? + "\\boxed{".len();
    let end = matching_brace(text, start)?;
    let inner = text[start..end].trim();
    (!inner.is_empty()).then_some(inner)
}

/// Every closed `\boxed{...}` content of the text, in order, trimmed.
pub(crate) fn all_boxed(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("\\boxed{") {
        let start = from + i + "\\boxed{".len();
        match matching_brace(text, start) {
            Some(end) => {
                out.push(text[start..end].trim());
                from = end + 1;
            }
            None => break,
        }
    }
    out
}

/// The byte index of the `}` closing a group whose content starts at `start`.
pub(crate) fn matching_brace(text: &str, start: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.as_bytes().iter().enumerate().skip(start) {
        match b {
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The content of the last `<name>...</name>` block, trimmed; `None` if the
/// last opening tag is not closed, or there is none, or it is empty.
pub fn tag_content<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.rfind(&open)? + open.len();
    let end = start + text[start..].find(&close)?;
    let inner = text[start..end].trim();
    (!inner.is_empty()).then_some(inner)
}

/// Where `part` lies in `whole` (a rollout's text): 0 if it is the whole
/// text, the offset of [`think_of`]/[`after_think`] if it is one of them, else
/// its first occurrence, else 0 (a text that is not part of the rollout is
/// mapped onto the rollout from its start).
pub(crate) fn locate(whole: &str, part: &str) -> usize {
    if part.len() == whole.len() || part.is_empty() {
        return 0;
    }
    let think = think_of(whole);
    if think == part && !think.is_empty() {
        return think.as_ptr() as usize - whole.as_ptr() as usize;
    }
    let after = after_think(whole);
    if after == part {
        return whole.len() - after.len();
    }
    whole.find(part).unwrap_or(0)
}

/// Numbers written in a text, in order: digit runs with optional thousands
/// commas and decimals; a `-` directly before the digits is a sign unless it
/// follows a letter, digit or closing bracket (then it is a minus).
pub(crate) fn numbers_in(text: &str) -> Vec<f64> {
    number_spans(text).into_iter().map(|(_, _, x)| x).collect()
}

/// The last number written in `text`, as written (sign included): what
/// `last_number(text)` gives and held-out evaluation falls back on.
pub fn last_number(text: &str) -> Option<&str> {
    number_spans(text)
        .last()
        .map(|&(start, end, _)| &text[start..end])
}

/// [`numbers_in`] with each number's byte range (sign included).
pub(crate) fn number_spans(text: &str) -> Vec<(usize, usize, f64)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && (b[i - 1].is_ascii_digit() || b[i - 1] == b'.')) {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        while b.get(j) == Some(&b',')
            && b.get(j + 1..j + 4)
                .is_some_and(|g| g.iter().all(u8::is_ascii_digit))
            && !b.get(j + 4).is_some_and(u8::is_ascii_digit)
        {
            j += 4;
        }
        if j + 1 < b.len() && b[j] == b'.' && b[j + 1].is_ascii_digit() {
            j += 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
        }
        let digits: String = text[start..j].chars().filter(|c| *c != ',').collect();
        if let Ok(x) = digits.parse::<f64>() {
            let signed = start > 0
                && b[start - 1] == b'-'
                && !(start > 1
                    && (b[start - 2].is_ascii_alphanumeric()
                        || matches!(b[start - 2], b')' | b']' | b'}')));
            if signed {
                out.push((start - 1, j, -x));
            } else {
                out.push((start, j, x));
            }
        }
        i = j;
    }
    out
}

/// Whether two numbers agree: |a − b| <= tol · max(1, |b|).
pub(crate) fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

// ---- argument helpers ------------------------------------------------------------------------

/// One entry of a label-like argument.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Lab<'v> {
    /// Nothing was extracted.
    Missing,
    /// A text or label.
    Text(&'v str),
    /// A number given as a real signal.
    Num(f64),
}

impl Lab<'_> {
    /// The entry as text (numbers printed; integers without a decimal point).
    pub(crate) fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Lab::Missing => None,
            Lab::Text(s) => Some(Cow::Borrowed(s)),
            Lab::Num(x) => Some(Cow::Owned(format_number(*x))),
        }
    }
}

/// A number as a label would write it.
pub(crate) fn format_number(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// The entries of a label, text or real value.
pub(crate) fn labs<'v>(v: &'v Value, what: &str) -> Result<Vec<Lab<'v>>> {
    Ok(match &v.data {
        Data::Text(t) => t.iter().map(|s| Lab::Text(s)).collect(),
        Data::Label(l) => l
            .iter()
            .map(|s| s.as_deref().map_or(Lab::Missing, Lab::Text))
            .collect(),
        Data::Real(x) => x.iter().map(|x| Lab::Num(*x)).collect(),
        Data::Bool(_) | Data::Vector(_) => {
            return Err(EvalError::new(format!(
                "`{what}` is {}, not a label, text or number",
                v.data.kind()
            )));
        }
    })
}

/// The signal arguments `names`, aligned to the output's scope, and the segmentation they carry.
pub(crate) fn aligned(
    call: &Call<'_>,
    cx: &Cx<'_>,
    names: &[&str],
) -> Result<(Vec<Value>, Option<Segs>)> {
    let raw: Vec<&Value> = names.iter().map(|n| call.value(n)).collect::<Result<_>>()?;
    let segs = kit::segs_of(&raw);
    let vals: Vec<Value> = raw
        .iter()
        .map(|v| kit::align(v, call, cx, segs.as_ref()))
        .collect::<Result<_>>()?;
    let n = vals.first().map_or(0, |v| v.data.len());
    if let Some(bad) = vals.iter().position(|v| v.data.len() != n) {
        return Err(EvalError::new(format!(
            "`{}` has {} entries but `{}` has {n}",
            names[bad],
            vals[bad].data.len(),
            names[0]
        )));
    }
    Ok((vals, segs))
}

/// Compiles a regular expression, or says why it is not one.
pub(crate) fn regex(pattern: &str, what: &str) -> Result<regex::Regex> {
    regex::Regex::new(pattern)
        .map_err(|e| EvalError::new(format!("`{what}` is not a valid regular expression: {e}")))
}

/// A real result of one value per entry.
pub(crate) fn reals_out(call: &Call<'_>, data: Vec<f64>, segs: Option<Segs>) -> Value {
    kit::output(call, Data::Real(data), segs)
}

/// A bool result of one value per entry.
pub(crate) fn bools_out(call: &Call<'_>, data: Vec<bool>, segs: Option<Segs>) -> Value {
    kit::output(call, Data::Bool(data), segs)
}
