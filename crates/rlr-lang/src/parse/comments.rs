//! Comments are skipped by the grammar; `rlr fmt` needs them back, so they are
//! collected by a small scan that knows only strings and comments.

use crate::ast::Comment;
use crate::source::{SourceId, Span};

/// Every `# ...` comment of a text that parsed, in order.
pub fn collect(source: SourceId, text: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') | (false, '\n') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '#' => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                out.push(Comment {
                    text: text[i + 1..end].trim_end().to_string(),
                    span: Span::new(source, i, end),
                });
                // Skip the comment's characters.
                for _ in text[i + 1..end].chars() {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    out
}
