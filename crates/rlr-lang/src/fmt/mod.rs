//! The canonical layout of a recipe, behind `rlr fmt`.
//!
//! [`format()`] parses a text and prints its syntax tree back with every
//! comment. Formatting is idempotent, and its output parses to the same tree
//! (spans aside) with the same comments; [`format()`] re-parses what it printed
//! and refuses, with a diagnostic, to return text that would not.
//!
//! Layout:
//!
//! * one statement per line; blocks (stage bodies, `reward`, `fn`) indent by 2;
//! * top-level items keep one blank line where the source had any, and `fn`
//!   and `stage` items always get one before them; inside blocks blank lines
//!   are kept (at most one), never after `{` or before `}`;
//! * consecutive bindings, settings, recipe fields and declarations (no blank
//!   line or comment line between) align their `=`;
//! * a call that would pass [`MAX_WIDTH`] columns, or that has comments
//!   inside its parentheses, puts one argument per line, 4 columns in, with a
//!   trailing comma; the recipe header does the same with 2;
//! * comments stay where they were relative to the code (see `comments.rs`);
//!   one inside a construct that cannot hold it moves to a line of its own
//!   before the statement.
//!
//! Files: `comments.rs` shares comments among lines, `expr.rs` prints
//! expressions, `items.rs` lays out items and statements, `verify.rs` checks
//! that a result means what its input meant.

mod comments;
mod expr;
mod items;
mod verify;

use std::ops::Range;

use crate::ast::Comment;
use crate::diagnostic::Diagnostic;
use crate::parse;
use crate::source::SourceId;

use comments::{Text, comment_text};

/// Lines longer than this many columns have their calls broken up.
pub const MAX_WIDTH: usize = 100;

/// Formats one recipe text canonically.
///
/// Fails with the parser's diagnostic when `text` does not parse, or with an
/// internal-error diagnostic (`E0090`) in the unexpected case that the
/// formatted text would not mean what `text` means.
pub fn format(source: SourceId, text: &str) -> Result<String, Diagnostic> {
    let file = parse::parse(source, text)?;
    let out = items::Printer::new(text, &file.comments).file(&file);
    verify::same_meaning(source, &file, &out)?;
    Ok(out)
}

/// One child laid out on its own: comments it could not place (to go on
/// lines of their own before it) and its lines, already indented.
pub(crate) struct Rendered<'c> {
    /// Comments from inside the child, moved before it.
    hoisted: Vec<&'c Comment>,
    /// The child's lines.
    lines: Vec<String>,
}

impl<'c> Rendered<'c> {
    /// A child of one line that places none of its comments.
    fn line(line: String, hoisted: Vec<&'c Comment>) -> Self {
        Rendered {
            hoisted,
            lines: vec![line],
        }
    }
}

/// The lines of one block, assembled child by child, deciding blank lines
/// from the source.
pub(crate) struct Lines<'t, 'a> {
    text: &'t Text<'a>,
    keep_blanks: bool,
    out: Vec<String>,
    prev_end: Option<usize>,
}

impl<'t, 'a> Lines<'t, 'a> {
    fn new(text: &'t Text<'a>, keep_blanks: bool) -> Self {
        Lines {
            text,
            keep_blanks,
            out: Vec::new(),
            prev_end: None,
        }
    }

    /// Whether the source has a blank line between what came last and `start`.
    fn blank_before(&self, start: usize) -> bool {
        self.keep_blanks
            && self
                .prev_end
                .is_some_and(|p| self.text.blank_between(p, start))
    }

    fn push(&mut self, blank: bool, end: usize, lines: Vec<String>) {
        if blank && !self.out.is_empty() {
            self.out.push(String::new());
        }
        self.out.extend(lines);
        self.prev_end = Some(end);
    }

    fn comment(&mut self, indent: usize, c: &Comment, blank: bool, at: Range<usize>) {
        let line = format!("{}{}", spaces(indent), comment_text(c));
        self.push(blank, at.end, vec![line]);
    }

    /// One child with its leading comments, hoisted comments and trailing
    /// comment. `blank` says whether a blank line goes before the group.
    fn group(
        &mut self,
        indent: usize,
        leading: &[&Comment],
        child: Rendered<'_>,
        span: Range<usize>,
        trailing: Option<&Comment>,
        blank: bool,
    ) {
        let mut blank = Some(blank);
        for c in leading {
            let b = blank
                .take()
                .unwrap_or_else(|| self.blank_before(c.span.range().start));
            self.comment(indent, c, b, c.span.range());
        }
        for c in &child.hoisted {
            let b = blank
                .take()
                .unwrap_or_else(|| self.blank_before(span.start));
            self.comment(indent, c, b, span.start..span.start);
        }
        let b = blank
            .take()
            .unwrap_or_else(|| self.blank_before(span.start));
        let mut lines = child.lines;
        let mut end = span.end;
        if let Some(c) = trailing {
            push_trailing(&mut lines, c);
            end = end.max(c.span.range().end);
        }
        self.push(b, end, lines);
    }

    /// Full-line comments after the last child.
    fn end_comments(&mut self, indent: usize, comments: &[&Comment]) {
        for c in comments {
            let b = self.blank_before(c.span.range().start);
            self.comment(indent, c, b, c.span.range());
        }
    }

    fn finish(self) -> Vec<String> {
        self.out
    }
}

/// Appends a trailing comment to the last line, two spaces after the code.
fn push_trailing(lines: &mut Vec<String>, c: &Comment) {
    match lines.last_mut() {
        Some(last) => {
            last.push_str("  ");
            last.push_str(&comment_text(c));
        }
        None => lines.push(comment_text(c)),
    }
}

/// `n` spaces.
fn spaces(n: usize) -> String {
    " ".repeat(n)
}

/// The width of a line in columns (characters).
fn width(line: &str) -> usize {
    line.chars().count()
}

/// Column widths for runs of aligned statements. `keys[i]` is the natural
/// width of each aligned part of child `i` (`None`: not alignable);
/// `breaks[i]` ends a run before child `i`. Every child of a run gets the
/// run's widest key.
fn align(keys: &[Option<(usize, usize)>], breaks: &[bool]) -> Vec<(usize, usize)> {
    let mut pads = vec![(0, 0); keys.len()];
    let mut i = 0;
    while i < keys.len() {
        if keys[i].is_none() {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < keys.len() && keys[j].is_some() && !breaks[j] {
            j += 1;
        }
        let w = keys[i..j]
            .iter()
            .flatten()
            .fold((0, 0), |(a, b), &(x, y)| (a.max(x), b.max(y)));
        for pad in &mut pads[i..j] {
            *pad = w;
        }
        i = j;
    }
    pads
}

#[cfg(test)]
mod tests;
