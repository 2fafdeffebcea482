//! Comments are skipped by the grammar; `rlr fmt` needs them back, so they are
//! collected by a small scan that knows only strings and comments.

use super::lexical::Part;
use crate::ast::Comment;
use crate::source::{SourceId, Span};

/// Every `# ...` comment of a text that parsed, in order.
pub fn collect(source: SourceId, text: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let close = |start: usize, end: usize, out: &mut Vec<Comment>| {
        out.push(Comment {
            text: text[start + 1..end].trim_end().to_string(),
            span: Span::new(source, start, end),
        });
    };
    for (i, _, part) in super::lexical::classify(text) {
        match (part, start) {
            (Part::Comment, None) => start = Some(i),
            (Part::Comment, Some(_)) => {}
            (_, Some(s)) => {
                close(s, i, &mut out);
                start = None;
            }
            (_, None) => {}
        }
    }
    if let Some(s) = start {
        close(s, text.len(), &mut out);
    }
    out
}
