//! Where each comment goes.
//!
//! The grammar skips comments, so the syntax tree only lists them with their
//! spans. The printer lays a block out as a list of children (items,
//! statements, bindings, arguments) and asks [`place`] to share the block's
//! comments among them:
//!
//! * a comment with code before it on its line *trails* the last child that
//!   ends on that line (or the block's opening line, after `{` or `(`);
//! * a comment alone on its line *leads* the next child, or, after the last
//!   child, stays at the end of the block;
//! * a comment inside a child's span is handed to that child, which either
//!   places it itself or hoists it to a full line before itself.

use std::ops::Range;

use crate::ast::Comment;

/// The source text, with a line index and a scanner that skips strings and
/// comments. Every lookup is bounds-checked: a span that does not fit the
/// text gives "nothing found", never a panic.
pub(crate) struct Text<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    /// `(end, start)` of every comment (its end before any `\r`), sorted by end.
    comment_ends: Vec<(usize, usize)>,
}

impl<'a> Text<'a> {
    /// Indexes `text`, whose comments are `comments`.
    pub(crate) fn new(text: &'a str, comments: &[Comment]) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut comment_ends: Vec<(usize, usize)> = comments
            .iter()
            .map(|c| {
                let start = c.span.range().start;
                (start + 1 + c.text.len(), start)
            })
            .collect();
        comment_ends.sort_unstable();
        Text {
            text,
            line_starts,
            comment_ends,
        }
    }

    /// `range` without the blanks and comments at its end. (The parser's
    /// spans of rules that end in an optional part run on over the
    /// whitespace and comments that follow.)
    pub(crate) fn trim(&self, range: Range<usize>) -> Range<usize> {
        let mut end = range.end.min(self.text.len());
        loop {
            let Some(head) = self.text.get(range.start..end) else {
                return range;
            };
            end = range.start + head.trim_end().len();
            match self.comment_ends.binary_search_by_key(&end, |&(e, _)| e) {
                Ok(i) if self.comment_ends[i].1 >= range.start && self.comment_ends[i].1 < end => {
                    end = self.comment_ends[i].1;
                }
                _ => return range.start..end,
            }
        }
    }

    /// The 0-based line holding byte `pos`.
    pub(crate) fn line(&self, pos: usize) -> usize {
        match self.line_starts.binary_search(&pos) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// Whether only blanks precede the comment on its line.
    pub(crate) fn is_full_line(&self, c: &Comment) -> bool {
        let start = c.span.start as usize;
        let line_start = self.line_starts.get(self.line(start)).copied().unwrap_or(0);
        self.text
            .get(line_start..start)
            .is_none_or(|s| s.trim().is_empty())
    }

    /// Whether a whole blank line lies between bytes `a` and `b`.
    pub(crate) fn blank_between(&self, a: usize, b: usize) -> bool {
        if b <= a {
            return false;
        }
        let Some(between) = self.text.get(a..b) else {
            return false;
        };
        let parts: Vec<&str> = between.split('\n').collect();
        parts.len() > 2
            && parts[1..parts.len() - 1]
                .iter()
                .any(|l| l.trim().is_empty())
    }

    /// The first `target` at or after `from` and before `to` that is code
    /// (not inside a string or a comment).
    pub(crate) fn find(&self, from: usize, to: usize, target: char) -> Option<usize> {
        let hay = self.text.get(from..to.min(self.text.len()))?;
        let mut in_string = false;
        let mut escaped = false;
        let mut in_comment = false;
        for (i, c) in hay.char_indices() {
            if in_comment {
                in_comment = c != '\n';
            } else if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') | (false, '\n') => in_string = false,
                    _ => {}
                }
            } else if c == target {
                return Some(from + i);
            } else if c == '"' {
                in_string = true;
            } else if c == '#' {
                in_comment = true;
            }
        }
        None
    }

    /// Whether byte `pos` is the character `c`.
    pub(crate) fn is_at(&self, pos: usize, c: char) -> bool {
        self.text.get(pos..).is_some_and(|s| s.starts_with(c))
    }

    /// The region strictly between an opening bracket found from `from` and
    /// the closing bracket at `close`, if both are where they should be.
    pub(crate) fn region(
        &self,
        from: usize,
        open: char,
        close_at: usize,
        close: char,
    ) -> Option<Range<usize>> {
        let start = self.find(from, close_at, open)?;
        self.is_at(close_at, close).then_some(start..close_at)
    }
}

/// How one block's comments are shared among its children.
pub(crate) struct Placement<'c> {
    /// A comment at the end of the block's opening line (after `{` or `(`).
    pub open: Option<&'c Comment>,
    /// Full-line comments before each child.
    pub leading: Vec<Vec<&'c Comment>>,
    /// Comments inside each child's span, for the child to place.
    pub inner: Vec<Vec<&'c Comment>>,
    /// The comment at the end of each child's last line.
    pub trailing: Vec<Option<&'c Comment>>,
    /// Full-line comments after the last child.
    pub end: Vec<&'c Comment>,
}

/// Shares `comments` among `children` (sorted, disjoint byte ranges).
/// `open_line` is the line of the block's opening bracket, if it has one.
pub(crate) fn place<'c>(
    text: &Text<'_>,
    comments: &[&'c Comment],
    children: &[Range<usize>],
    open_line: Option<usize>,
) -> Placement<'c> {
    let n = children.len();
    let mut p = Placement {
        open: None,
        leading: vec![Vec::new(); n],
        inner: vec![Vec::new(); n],
        trailing: vec![None; n],
        end: Vec::new(),
    };
    for &c in comments {
        let start = c.span.start as usize;
        // The children that start at or before the comment.
        let before = children.partition_point(|r| r.start <= start);
        let last = before.checked_sub(1);
        if let Some(last) = last.filter(|&i| start < children[i].end) {
            p.inner[last].push(c);
            continue;
        }
        if !text.is_full_line(c) {
            let line = text.line(start);
            let ends_here = |&i: &usize| text.line(children[i].end) == line;
            let free = |&i: &usize| p.trailing[i].is_none();
            if let Some(last) = last.filter(ends_here).filter(free) {
                p.trailing[last] = Some(c);
                continue;
            }
            if before == 0 && open_line == Some(line) && p.open.is_none() {
                p.open = Some(c);
                continue;
            }
        }
        match p.leading.get_mut(before) {
            Some(lead) => lead.push(c),
            None => p.end.push(c),
        }
    }
    p
}

/// Splits `comments` into those inside `region` and the rest.
pub(crate) fn split<'c>(
    comments: Vec<&'c Comment>,
    region: Option<&Range<usize>>,
) -> (Vec<&'c Comment>, Vec<&'c Comment>) {
    match region {
        Some(r) => comments
            .into_iter()
            .partition(|c| r.contains(&(c.span.start as usize))),
        None => (Vec::new(), comments),
    }
}

/// `#` and the comment's text, as it was written.
pub(crate) fn comment_text(c: &Comment) -> String {
    format!("#{}", c.text)
}
