//! ToolRL's checks: `toolrl_format`, `tool_call_match`, `tool_call_count`.

use serde_json::Value as Json;

use crate::error::{EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::Value;

use super::{aligned, bools_out, reals_out, regex};

const OPEN: &str = "<tool_call>";
const CLOSE: &str = "</tool_call>";

/// The first `<tool_call>` block's content, trimmed (ToolRL:
/// `text.split("<tool_call>")[1].split("</tool_call>")[0].strip()`); `None` if
/// there is no opening tag or no closing tag after it.
fn first_block(text: &str) -> Option<&str> {
    let start = text.find(OPEN)? + OPEN.len();
    let end = start + text[start..].find(CLOSE)?;
    Some(text[start..end].trim())
}

/// The lines of a tool-call block as JSON values; `None` if any line (empty ones included) fails to parse.
pub(crate) fn parse_tool_lines(block: &str) -> Option<Vec<Json>> {
    block
        .split('\n')
        .map(|l| serde_json::from_str::<Json>(l).ok())
        .collect()
}

/// One parsed call: its name and parameters.
struct ToolCall<'j> {
    raw: &'j Json,
    name: &'j str,
    params: &'j serde_json::Map<String, Json>,
}

fn calls(values: &[Json]) -> Option<Vec<ToolCall<'_>>> {
    values
        .iter()
        .map(|v| {
            let name = v.get("name")?.as_str()?;
            let params = v.get("parameters")?.as_object()?;
            Some(ToolCall {
                raw: v,
                name,
                params,
            })
        })
        .collect()
}

/// JSON equality as Python's `==` on parsed values: numbers compare by value.
fn json_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// ToolRL's `match_score`: 1 if the lists are equal; with `refined`, 0
/// otherwise; 0 if either is empty; else the multiset Jaccard
/// |A ∩ B| / (|A| + |B| − |A ∩ B|).
fn match_score(a: &[&str], b: &[&str], refined: bool) -> f64 {
    if a == b {
        return 1.0;
    }
    if refined || a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let mut rest: Vec<&str> = b.to_vec();
    let mut common = 0usize;
    for x in a {
        if let Some(i) = rest.iter().position(|y| y == x) {
            rest.swap_remove(i);
            common += 1;
        }
    }
    let union = a.len() + b.len() - common;
    if union == 0 {
        0.0
    } else {
        common as f64 / union as f64
    }
}

/// S / S_max of ToolRL's `compute_tool_call_reward` for parsed lists.
fn tool_score(gt_raw: &[Json], pd_raw: &[Json], mode: &str) -> Option<f64> {
    if gt_raw.len() == pd_raw.len() && gt_raw.iter().zip(pd_raw).all(|(g, p)| json_eq(g, p)) {
        return Some(1.0);
    }
    if mode == "coarse" {
        return Some(0.0);
    }
    let gt = calls(gt_raw)?;
    let pd = calls(pd_raw)?;
    let refined = mode == "refined";
    let intermediate = mode == "intermediate";
    let gt_names: Vec<&str> = gt.iter().map(|c| c.name).collect();
    let pd_names: Vec<&str> = pd.iter().map(|c| c.name).collect();
    let mut score = match_score(&gt_names, &pd_names, refined);
    let mut max = 1.0;
    let mut used = vec![false; pd.len()];
    for g in &gt {
        max += if intermediate {
            1.0
        } else {
            1.0 + g.params.len() as f64
        };
        let mut best: Option<(usize, f64)> = None;
        for (i, p) in pd.iter().enumerate() {
            if used[i] || p.name != g.name {
                continue;
            }
            if intermediate {
                if json_eq(g.raw, p.raw) {
                    best = Some((i, 1.0));
                    break;
                }
                continue;
            }
            let gk: Vec<&str> = g.params.keys().map(String::as_str).collect();
            let pk: Vec<&str> = p.params.keys().map(String::as_str).collect();
            let values = g
                .params
                .iter()
                .filter(|(k, v)| p.params.get(*k).is_some_and(|w| json_eq(v, w)))
                .count();
            let s = match_score(&gk, &pk, refined) + values as f64;
            if s > best.map_or(0.0, |b| b.1) {
                best = Some((i, s));
            }
        }
        if let Some((i, s)) = best {
            used[i] = true;
            score += s;
        }
    }
    Some(score / max)
}

/// `tool_call_match(text, expected, mode = "fine")`. ToolRL's tool-call
/// correctness, scaled to [0, 1]. Both sides' `<tool_call>` blocks are parsed
/// (one JSON object {"name", "parameters"} per line). 1 if the call lists are
/// identical; 0 if the response has no `<tool_call>` block or a line fails to
/// parse; otherwise S/S_max with S = J(names_gt, names_pred) + Σ_{g ∈ gt} max
/// over unused predicted calls p with p.name = g.name of
/// [J(keys(g), keys(p)) + Σ_{k ∈ g} 1[p_k = g_k]],
/// S_max = 1 + Σ_g (1 + |params(g)|), J the multiset Jaccard
/// |A ∩ B| / (|A| + |B| − |A ∩ B|), and predicted calls matched greedily
/// one-to-one. Modes: `intermediate` scores each reference call all-or-nothing
/// (S = J(names) + #calls matched exactly, S_max = 1 + #reference calls);
/// `coarse` is 1 iff identical, else 0; `refined` sets the Jaccard to 0
/// unless the lists are identical — as in the released `match_score`, for
/// both the name and the parameter-key Jaccard.
///
/// As in the code, only the first `<tool_call>` block of each side is read, a
/// predicted call lacking a string `name` or an object `parameters` counts as
/// a parse failure, and parameter keys are compared in sorted order. A
/// reference without a `<tool_call>` block is the empty list (so the score is
/// 0); a reference block that does not parse is an error.
///
/// [CODE] ToolRL (qiancheng0/ToolRL, verl/utils/reward_score/rlla.py;
/// arXiv:2504.13958) §3.3 and the INTERMEDIATEREWARD/COARSEREWARD/
/// REFINEDREWARD flags.
pub(super) struct ToolCallMatch;

impl Node for ToolCallMatch {
    fn name(&self) -> &'static str {
        "tool_call_match"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let mode = call.text("mode")?;
        if !matches!(mode, "fine" | "intermediate" | "coarse" | "refined") {
            return Err(EvalError::new(format!(
                "`mode` must be \"fine\", \"intermediate\", \"coarse\" or \"refined\", not {mode:?}"
            )));
        }
        let (vals, segs) = aligned(call, cx, &["text", "expected"])?;
        let texts = kit::texts(&vals[0], "text")?;
        let expected = kit::texts(&vals[1], "expected")?;
        let mut out = Vec::with_capacity(texts.len());
        for (t, e) in texts.iter().zip(&expected) {
            let gt = match first_block(e) {
                None => Vec::new(),
                Some(b) => parse_tool_lines(b).ok_or_else(|| {
                    EvalError::new(format!(
                        "the reference tool calls do not parse as JSON lines: {b:?}"
                    ))
                })?,
            };
            let score = first_block(t)
                .and_then(parse_tool_lines)
                .and_then(|pd| tool_score(&gt, &pd, mode));
            out.push(score.unwrap_or(0.0));
        }
        Ok(reals_out(call, out, segs))
    }
}

/// `tool_call_count(text)`. The number of tool calls in the text: JSON lines
/// inside `<tool_call>` blocks (every closed block) that parse as JSON
/// objects. `tool_call_count(sample.tool_calls) > 0` is ToolRL's "the
/// reference has a tool call" condition.
///
/// [CODE] ToolRL (qiancheng0/ToolRL, rlla.py).
pub(super) struct ToolCallCount;

/// The number of JSON-object lines in every closed `<tool_call>` block.
pub(crate) fn count_calls(text: &str) -> usize {
    let mut n = 0;
    let mut from = 0;
    while let Some(i) = text[from..].find(OPEN) {
        let start = from + i + OPEN.len();
        let Some(j) = text[start..].find(CLOSE) else {
            break;
        };
        let block = &text[start..start + j];
        n += block
            .lines()
            .filter(|l| serde_json::from_str::<Json>(l.trim()).is_ok_and(|v| v.is_object()))
            .count();
        from = start + j + CLOSE.len();
    }
    n
}

impl Node for ToolCallCount {
    fn name(&self) -> &'static str {
        "tool_call_count"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let (vals, segs) = aligned(call, cx, &["text"])?;
        let out = kit::texts(&vals[0], "text")?
            .iter()
            .map(|t| count_calls(t) as f64)
            .collect();
        Ok(reals_out(call, out, segs))
    }
}

/// `toolrl_format(text, expected)`. ToolRL's format check: true iff the whole
/// response matches the template the reference implies: only `<response>`:
/// `^<think>.*?</think>\n<response>.*?</response>$`; only `<tool_call>`:
/// `^<think>.*?</think>\n<tool_call>\n.*?\n</tool_call>$`; both: think,
/// tool_call, response in that order; neither: `^<think>.*?</think>$`; each
/// `<response>`/`<tool_call>` tag exactly once (as the code counts them; the
/// think tags are not counted). `.` matches newlines and `$` also matches
/// before a final newline, as Python's `re.search(..., re.DOTALL)`.
///
/// [CODE] ToolRL (qiancheng0/ToolRL, rlla.py; arXiv:2504.13958) §3.3,
/// R_format ∈ {0, 1}.
pub(super) struct ToolrlFormat;

impl Node for ToolrlFormat {
    fn name(&self) -> &'static str {
        "toolrl_format"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let only_response = regex(
            r"(?s)\A<think>.*?</think>\n<response>.*?</response>\n?\z",
            "toolrl_format",
        )?;
        let only_call = regex(
            r"(?s)\A<think>.*?</think>\n<tool_call>\n.*?\n</tool_call>\n?\z",
            "toolrl_format",
        )?;
        let both = regex(
            r"(?s)\A<think>.*?</think>\n<tool_call>\n.*?\n</tool_call>\n<response>.*?</response>\n?\z",
            "toolrl_format",
        )?;
        let neither = regex(r"(?s)\A<think>.*?</think>\n?\z", "toolrl_format")?;
        let (vals, segs) = aligned(call, cx, &["text", "expected"])?;
        let texts = kit::texts(&vals[0], "text")?;
        let expected = kit::texts(&vals[1], "expected")?;
        let once = |t: &str, tag: &str| {
            t.matches(&format!("<{tag}>")).count() == 1
                && t.matches(&format!("</{tag}>")).count() == 1
        };
        let out = texts
            .iter()
            .zip(&expected)
            .map(
                |(t, e)| match (e.contains("<response>"), e.contains(OPEN)) {
                    (true, false) => only_response.is_match(t) && once(t, "response"),
                    (false, true) => only_call.is_match(t) && once(t, "tool_call"),
                    (true, true) => both.is_match(t) && once(t, "tool_call") && once(t, "response"),
                    (false, false) => neither.is_match(t),
                },
            )
            .collect();
        Ok(bools_out(call, out, segs))
    }
}
