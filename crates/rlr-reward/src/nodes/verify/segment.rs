//! Segmenters: `segments`, `steps_of`, `turns_of` — the segment-scope
//! values judges, probes and `place` work on.

use std::sync::Arc;

use rlr_lang::Scope;

use crate::batch::Rollout;
use crate::error::{EvalError, Result};
use crate::kit;
use crate::layout::{Segmentation, Segs};
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

use super::locate;

/// One segment found in a response.
pub(crate) struct Cut {
    /// The segment's text.
    pub text: String,
    /// Byte offset, in the rollout's text, of the segment's last byte.
    pub last: usize,
    /// The token that ends it, when known directly (tool flags); else the token containing `last`.
    pub end_token: Option<usize>,
}

/// A segment-scope text value from the segments of each response of the call's rollouts.
/// Responses without tokens get no segments (there is no token to end them at).
pub(crate) fn segment_value(call: &Call<'_>, cx: &Cx<'_>, cuts: Vec<Vec<Cut>>) -> Result<Value> {
    let mut seg_start = vec![0];
    let mut end_token = Vec::new();
    let mut texts = Vec::new();
    for (r, cs) in cuts.into_iter().enumerate() {
        if let Some(rollout) = cx.rollout(&call.set, r) {
            let n = rollout.token_count();
            if n > 0 {
                let offsets = rollout.token_offsets();
                for c in cs {
                    let t = c
                        .end_token
                        .unwrap_or_else(|| token_containing(&offsets, c.last));
                    end_token.push(t.min(n - 1));
                    texts.push(c.text);
                }
            }
        }
        seg_start.push(texts.len());
    }
    let segs: Segs = Arc::new(Segmentation {
        seg_start,
        end_token,
        origin: cx.node.to_string(),
    });
    Ok(Value {
        scope: Scope::Segment,
        set: call.set.clone(),
        segs: Some(segs),
        data: Data::Text(texts),
    })
}

/// The token whose start offset is the last one at or before `byte` (as `Rollout::token_at`).
fn token_containing(offsets: &[usize], byte: usize) -> usize {
    offsets.partition_point(|&o| o <= byte).saturating_sub(1)
}

/// The `text` argument at response scope (a coarser value is broadcast), one per response.
fn response_texts(call: &Call<'_>, cx: &Cx<'_>) -> Result<Vec<String>> {
    let v = call.value("text")?;
    if v.scope > Scope::Response {
        return Err(EvalError::new(format!(
            "`text` must be one text per response, not per {}",
            v.scope
        )));
    }
    let v = cx.broadcast(v, Scope::Response, &call.set, None)?;
    let n = cx.layout(&call.set)?.responses();
    let texts = kit::texts(&v, "text")?;
    if texts.len() != n {
        return Err(EvalError::new(format!(
            "`text` has {} entries for {n} responses",
            texts.len()
        )));
    }
    Ok(texts.into_iter().map(str::to_string).collect())
}

/// For each response: its rollout (if any) and where its `text` argument starts in the rollout's text.
fn owners<'c>(
    call: &Call<'_>,
    cx: &'c Cx<'_>,
    texts: &[String],
) -> Vec<(Option<&'c Rollout>, usize)> {
    texts
        .iter()
        .enumerate()
        .map(|(r, t)| {
            let rollout = cx.rollout(&call.set, r);
            let base = rollout.map_or(0, |ro| locate(&ro.text, t));
            (rollout, base)
        })
        .collect()
}

/// A cut of `piece` (at byte `start` of a text that begins at `base` in its rollout), trimmed; `None` if blank.
fn trimmed_cut(piece: &str, start: usize, base: usize) -> Option<Cut> {
    let text = piece.trim();
    if text.is_empty() {
        return None;
    }
    let lead = piece.len() - piece.trim_start().len();
    Some(Cut {
        text: text.to_string(),
        last: base + start + lead + text.len() - 1,
        end_token: None,
    })
}

/// An opening tag `<name>` at byte `i`: its name and the byte after `>`.
pub(crate) fn tag_at(text: &str, i: usize) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'<') {
        return None;
    }
    let first = *b.get(i + 1)?;
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return None;
    }
    let mut j = i + 2;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'_' | b'-' | b'.' | b':'))
    {
        j += 1;
    }
    (b.get(j) == Some(&b'>')).then(|| (&text[i + 1..j], j + 1))
}

/// A `<name>...</name>` block.
pub(super) struct Block<'t> {
    /// The tag name.
    pub(super) name: &'t str,
    /// The content's byte range.
    pub(super) content: std::ops::Range<usize>,
    /// The byte after the closing tag.
    pub(super) close_end: usize,
}

/// The closed block opening at byte `i`, if any.
pub(super) fn block_at(text: &str, i: usize) -> Option<Block<'_>> {
    let (name, after) = tag_at(text, i)?;
    let close = format!("</{name}>");
    let end = after + text[after..].find(&close)?;
    Some(Block {
        name,
        content: after..end,
        close_end: end + close.len(),
    })
}

fn contains_block(text: &str) -> bool {
    text.match_indices('<')
        .any(|(i, _)| block_at(text, i).is_some())
}

/// The blocks `segments` cuts: with `tags`, every closed block whose name is
/// one of them (ASCII case-insensitive), scanning inside other tags; without,
/// every closed block that contains no other closed block (the innermost).
fn tagged_blocks<'t>(text: &'t str, tags: &[&str]) -> Vec<Block<'t>> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(k) = text[i..].find('<') {
        let at = i + k;
        let Some((name, after)) = tag_at(text, at) else {
            i = at + 1;
            continue;
        };
        let wanted = tags.is_empty() || tags.iter().any(|t| t.eq_ignore_ascii_case(name));
        match block_at(text, at) {
            Some(b) if wanted && !(tags.is_empty() && contains_block(&text[b.content.clone()])) => {
                i = b.close_end;
                out.push(b);
            }
            _ => i = after,
        }
    }
    out
}

/// `segments(text, tags = [])`. Splits a response into segments: one per
/// `<T>...</T>` block with T in `tags` (any tag if empty), in order. A
/// segment's text is the block's content (trimmed) and its end is the token
/// that closes the tag (the token holding the closing tag's `>`, where
/// `place(x, at = "segment_end")` puts its value). Text outside the blocks
/// belongs to no segment; a response without blocks has no segments, so
/// reductions over it take their fallback.
///
/// rlr's choices: tag names match `tags` ignoring ASCII case; blocks are not
/// nested — with `tags`, the first matching block is cut and scanning goes on
/// after its closing tag (blocks of other names are looked into); with no
/// `tags`, only innermost blocks (containing no other closed block) are cut,
/// so `<think><plan>..</plan></think>` gives the plan, not the think block.
///
/// [2ND] Atom-Searcher atomic thoughts (arXiv:2508.12800).
pub(super) struct Segments;

impl Node for Segments {
    fn name(&self) -> &'static str {
        "segments"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let tags = call.texts("tags")?;
        let texts = response_texts(call, cx)?;
        let cuts = owners(call, cx, &texts)
            .iter()
            .zip(&texts)
            .map(|((_, base), t)| {
                tagged_blocks(t, &tags)
                    .into_iter()
                    .map(|b| Cut {
                        text: t[b.content].trim().to_string(),
                        last: base + b.close_end - 1,
                        end_token: None,
                    })
                    .collect()
            })
            .collect();
        segment_value(call, cx, cuts)
    }
}

/// `steps_of(text, sep = "\n")`. Splits reasoning into steps at `sep` (empty
/// steps dropped; steps trimmed); each step is a segment ending at its last
/// token (the token holding its last non-blank byte). An empty `sep` makes
/// the whole text one step.
///
/// [2ND] Clip/Delta reasoning steps (arXiv:2410.15115); [INFER] DeepSeekMath
/// process supervision (arXiv:2402.03300).
pub(super) struct StepsOf;

impl Node for StepsOf {
    fn name(&self) -> &'static str {
        "steps_of"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let sep = call.text("sep")?;
        let texts = response_texts(call, cx)?;
        let cuts = owners(call, cx, &texts)
            .iter()
            .zip(&texts)
            .map(|((_, base), t)| split_steps(t, sep, *base))
            .collect();
        segment_value(call, cx, cuts)
    }
}

fn split_steps(text: &str, sep: &str, base: usize) -> Vec<Cut> {
    if sep.is_empty() {
        return trimmed_cut(text, 0, base).into_iter().collect();
    }
    let mut out = Vec::new();
    let mut pos = 0;
    for piece in text.split(sep) {
        out.extend(trimmed_cut(piece, pos, base));
        pos += piece.len() + sep.len();
    }
    out
}

/// `turns_of(text)`. One segment per assistant turn of a multi-turn rollout
/// (tool outputs excluded); a segment ends at the turn's last generated
/// token. A single-turn rollout is one segment.
///
/// How turns are found: when `text` is the rollout's own text and the rollout
/// records which tokens a tool inserted (`tool`), a turn is a maximal run of
/// generated tokens, ending at the run's last token. Otherwise the text is cut
/// at tool outputs written as `<result>...</result>` (the built-in tools'
/// format; an unclosed `<result>` runs to the end), each piece trimmed and
/// ending at its last non-blank byte. Blank turns are dropped, so an empty
/// response has no segments.
///
/// [CODE] IGPO turn rewards at the last token of each assistant turn
/// (GuoqingWang1/IGPO, scrl/llm_agent/generation.py); [2ND] G-RA per-turn
/// rewards (arXiv:2508.10548).
pub(super) struct TurnsOf;

impl Node for TurnsOf {
    fn name(&self) -> &'static str {
        "turns_of"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let texts = response_texts(call, cx)?;
        let cuts = owners(call, cx, &texts)
            .iter()
            .zip(&texts)
            .map(|((rollout, base), t)| {
                rollout
                    .filter(|ro| ro.text == *t)
                    .and_then(turns_by_flags)
                    .unwrap_or_else(|| turns_by_text(t, *base))
            })
            .collect();
        segment_value(call, cx, cuts)
    }
}

fn turns_by_flags(rollout: &Rollout) -> Option<Vec<Cut>> {
    let n = rollout.token_count();
    if rollout.tool.len() != n || n == 0 {
        return None;
    }
    let offsets = rollout.token_offsets();
    let byte = |t: usize| {
        offsets
            .get(t)
            .copied()
            .unwrap_or(rollout.text.len())
            .min(rollout.text.len())
    };
    let mut out = Vec::new();
    let mut t = 0;
    while t < n {
        if rollout.tool[t] {
            t += 1;
            continue;
        }
        let start = t;
        while t < n && !rollout.tool[t] {
            t += 1;
        }
        let text = rollout.text.get(byte(start)..byte(t)).unwrap_or("").trim();
        if !text.is_empty() {
            out.push(Cut {
                text: text.to_string(),
                last: byte(t).saturating_sub(1),
                end_token: Some(t - 1),
            });
        }
    }
    Some(out)
}

fn turns_by_text(text: &str, base: usize) -> Vec<Cut> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let (piece_end, next) = match text[pos..].find("<result>") {
            Some(i) => {
                let open = pos + i;
                let after = open + "<result>".len();
                let next = text[after..]
                    .find("</result>")
                    .map_or(text.len(), |j| after + j + "</result>".len());
                (open, next)
            }
            None => (text.len(), text.len()),
        };
        out.extend(trimmed_cut(&text[pos..piece_end], pos, base));
        pos = next;
    }
    out
}
