//! Text rules the built-in judges share: reading sample fields, finding
//! stated results, entities, tool outputs and well-formed markup.

use crate::nodes::verify::{
    after_think, close, format_number, number_spans, numbers_in, parse_number, parse_tool_lines,
};

use super::Sample;

/// Tolerance for "states the same number".
pub(super) const TOL: f64 = 1e-6;

/// A sample field as text: strings as they are, numbers and booleans
/// printed, arrays one element per line; `None` if absent or null.
pub(super) fn field(sample: &Sample, key: &str) -> Option<String> {
    fn text(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => n.as_f64().map(format_number),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            serde_json::Value::Array(a) => {
                Some(a.iter().filter_map(text).collect::<Vec<_>>().join("\n"))
            }
            serde_json::Value::Object(_) => Some(v.to_string()),
        }
    }
    sample.get(key).and_then(text)
}

/// A sample field as a flag: a JSON boolean, or the strings "true"/"1".
pub(super) fn flag(sample: &Sample, key: &str) -> bool {
    match sample.get(key) {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => matches!(s.trim(), "true" | "1"),
        Some(serde_json::Value::Number(n)) => n.as_f64().is_some_and(|x| x != 0.0),
        _ => false,
    }
}

/// The non-blank lines of a text, trimmed.
pub(super) fn lines(s: &str) -> Vec<&str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}

/// ASCII lower-case, whitespace collapsed, trailing `.` dropped: for "states this fact" tests.
pub(super) fn norm(s: &str) -> String {
    let t = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    t.trim_end_matches(['.', '!', ';']).trim().to_string()
}

/// Whether `hay` contains `needle` as whole words (bounded by non-alphanumerics).
pub(super) fn contains_words(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    hay.match_indices(needle).any(|(i, m)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + m.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        edge(before) && edge(after)
    })
}

/// Whether a text states a reference line: a number written in it (if the
/// line is a number), else the line itself as whole words (normalised).
pub(super) fn states(text: &str, reference: &str) -> bool {
    match parse_number(reference) {
        Some(v) => numbers_in(text).iter().any(|x| close(*x, v, TOL)),
        None => contains_words(&norm(text), &norm(reference)),
    }
}

/// How many of the reference lines the text states in order (a greedy
/// subsequence: each reference is looked for after the previous match).
pub(super) fn stated_in_order(text: &str, refs: &[&str]) -> usize {
    let spans = number_spans(text);
    let lower = text.to_ascii_lowercase();
    let mut cursor = 0;
    let mut matched = 0;
    for r in refs {
        let found = match parse_number(r) {
            Some(v) => spans
                .iter()
                .find(|(s, _, x)| *s >= cursor && close(*x, v, TOL))
                .map(|(_, e, _)| *e),
            None => {
                let needle = r.trim().to_ascii_lowercase();
                lower
                    .get(cursor..)
                    .and_then(|rest| rest.find(&needle))
                    .map(|i| cursor + i + needle.len())
            }
        };
        if let Some(end) = found {
            cursor = end;
            matched += 1;
        }
    }
    matched
}

/// The last number written in a text.
pub(super) fn last_number(text: &str) -> Option<f64> {
    numbers_in(text).last().copied()
}

/// The response is `<think>...</think>` followed by a non-blank answer part.
pub(super) fn format_ok(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with("<think>") && t.contains("</think>") && !after_think(t).trim().is_empty()
}

/// The contents of the `<result>...</result>` tool outputs of a text, with their end offsets.
pub(super) fn tool_outputs(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("<result>") {
        let start = from + i + "<result>".len();
        let Some(j) = text[start..].find("</result>") else {
            break;
        };
        out.push((start + j + "</result>".len(), &text[start..start + j]));
        from = start + j + "</result>".len();
    }
    out
}

/// The text without its tool outputs.
pub(super) fn without_tool_outputs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some(i) = text[from..].find("<result>") {
        let start = from + i;
        out.push_str(&text[from..start]);
        match text[start..].find("</result>") {
            Some(j) => from = start + j + "</result>".len(),
            None => return out,
        }
    }
    out.push_str(&text[from..]);
    out
}

/// Something a text asserts: a name or a number.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Entity {
    /// A run of capitalised words (`Varo Labs`).
    Name(String),
    /// A number.
    Num(f64),
}

/// Replaces markup tags `<name>`/`</name>` by line breaks.
fn strip_tags(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if b[i] == b'<' {
            let body = if b.get(i + 1) == Some(&b'/') {
                i + 2
            } else {
                i + 1
            };
            let mut j = body;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'_' | b'-')) {
                j += 1;
            }
            if j > body && b.get(j) == Some(&b'>') {
                out.push('\n');
                i = j + 1;
                continue;
            }
        }
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// The entities a text asserts: its numbers, and runs of capitalised words —
/// a run breaks at punctuation; a single capitalised word that starts a line
/// or a sentence (after `.`, `!`, `?`, `:`) and the word "I" are not entities.
pub(super) fn entities(text: &str) -> Vec<Entity> {
    let clean = strip_tags(text);
    let mut out: Vec<Entity> = numbers_in(&clean).into_iter().map(Entity::Num).collect();
    for line in clean.lines() {
        let mut run: Vec<&str> = Vec::new();
        let mut run_at_start = false;
        let mut sentence_start = true;
        let flush = |run: &mut Vec<&str>, at_start: bool, out: &mut Vec<Entity>| {
            let single_common = run.len() == 1 && (at_start || run[0] == "I");
            if !run.is_empty() && !single_common {
                out.push(Entity::Name(run.join(" ")));
            }
            run.clear();
        };
        for raw in line.split_whitespace() {
            let core = raw.trim_matches(|c: char| !c.is_alphanumeric());
            let capital = core.chars().next().is_some_and(char::is_uppercase);
            if capital {
                if run.is_empty() {
                    run_at_start = sentence_start;
                }
                run.push(core);
            } else {
                flush(&mut run, run_at_start, &mut out);
            }
            let ends_clause = raw.ends_with(['.', ',', ';', ':', '!', '?', ')']);
            if ends_clause {
                flush(&mut run, run_at_start, &mut out);
            }
            sentence_start = raw.ends_with(['.', '!', '?', ':']);
        }
        flush(&mut run, run_at_start, &mut out);
    }
    out
}

/// Whether an entity appears in any of the sources (names case-insensitively as whole words).
pub(super) fn entity_in(e: &Entity, sources: &[&str]) -> bool {
    match e {
        Entity::Name(n) => {
            let n = n.to_lowercase();
            sources
                .iter()
                .any(|s| contains_words(&s.to_lowercase(), &n))
        }
        Entity::Num(x) => sources
            .iter()
            .any(|s| numbers_in(s).iter().any(|y| close(*y, *x, TOL))),
    }
}

/// Markup is well formed: every `<name>` is closed by `</name>` in nesting
/// order; every `<tool_call>` block holds JSON objects, one per line; every
/// `<search>`/`<calc>` block is non-blank.
pub(super) fn well_formed(text: &str) -> bool {
    let b = text.as_bytes();
    let mut stack: Vec<&str> = Vec::new();
    let mut blocks: Vec<(&str, usize)> = Vec::new();
    for (i, _) in text.match_indices('<') {
        let closing = b.get(i + 1) == Some(&b'/');
        let body = if closing { i + 2 } else { i + 1 };
        let mut j = body;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'_' | b'-')) {
            j += 1;
        }
        if j == body || b.get(j) != Some(&b'>') || !b[body].is_ascii_alphabetic() {
            continue;
        }
        let name = &text[body..j];
        if closing {
            if stack.pop() != Some(name) {
                return false;
            }
            if let Some(pos) = blocks.iter().rposition(|(n, _)| *n == name) {
                let (_, start) = blocks.remove(pos);
                let content = text[start..i].trim();
                let ok = match name {
                    "tool_call" => {
                        parse_tool_lines(content).is_some_and(|v| v.iter().all(|x| x.is_object()))
                    }
                    "search" | "calc" => !content.is_empty(),
                    _ => true,
                };
                if !ok {
                    return false;
                }
            }
        } else {
            stack.push(name);
            blocks.push((name, j + 1));
        }
    }
    stack.is_empty()
}

/// `\boxed{...}` groups and `<answer>...</answer>` blocks removed (the answer hidden from a listener).
pub(super) fn hide_answer(text: &str) -> String {
    let mut t = text.to_string();
    while let Some(i) = t.find("\\boxed{") {
        let start = i + "\\boxed{".len();
        match crate::nodes::verify::matching_brace(&t, start) {
            Some(end) => t = format!("{}{}", &t[..i], &t[end + 1..]),
            None => {
                t.truncate(i);
                break;
            }
        }
    }
    while let Some(i) = t.find("<answer>") {
        match t[i..].find("</answer>") {
            Some(j) => t = format!("{}{}", &t[..i], &t[i + j + "</answer>".len()..]),
            None => {
                t.truncate(i);
                break;
            }
        }
    }
    t
}
