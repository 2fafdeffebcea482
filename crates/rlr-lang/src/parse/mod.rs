//! Text to [`ast::File`]. The only module that knows pest exists.
//!
//! A syntax error stops the parse (pest finds one at a time); its diagnostic
//! names what was expected in the user's terms, never a grammar rule.

mod comments;
mod errors;
mod lexical;
mod lower;

use pest::Parser as _;

use crate::ast;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceId, Span};

pub use comments::collect as collect_comments;

#[allow(missing_docs)]
mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "../../../grammar/rlr.pest"]
    pub struct RlrParser;
}
use grammar::{RlrParser, Rule};

/// The deepest nesting of brackets accepted. Deeper input is rejected before
/// parsing so that neither the parser nor the checker can exhaust the stack.
pub const MAX_NESTING: usize = 64;

/// The largest file accepted, in bytes.
pub const MAX_SIZE: usize = 4 << 20;

/// Parses one source text into a syntax tree.
pub fn parse(source: SourceId, text: &str) -> Result<ast::File, Diagnostic> {
    prefilter(source, text)?;
    // Expected-token tracking is process-wide in pest; it is always on, so that
    // messages do not depend on what other threads parse.
    pest::set_error_detail(true);
    let mut pairs =
        RlrParser::parse(Rule::file, text).map_err(|e| errors::from_pest(source, text, &e))?;
    let file = pairs
        .next()
        .ok_or_else(|| Diagnostic::error("E0001", "empty parse", Span::new(source, 0, 0)))?;
    let lowerer = lower::Lowerer::new(source, text);
    let items = lowerer.file(file)?;
    Ok(ast::File {
        items,
        comments: comments::collect(source, text),
        span: Span::new(source, 0, text.len()),
    })
}

/// Rejects input no recipe can be: too large, not text, or nested too deep.
fn prefilter(source: SourceId, text: &str) -> Result<(), Diagnostic> {
    if text.len() > MAX_SIZE {
        return Err(Diagnostic::error(
            "E0002",
            format!(
                "this file is {} bytes; recipes are limited to {} bytes",
                text.len(),
                MAX_SIZE
            ),
            Span::new(source, 0, 0),
        )
        .help("split shared definitions into files brought in with `import`"));
    }
    if let Some(pos) =
        text.find(|c: char| c == '\0' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t')))
    {
        let end = pos + text[pos..].chars().next().map_or(1, char::len_utf8);
        return Err(Diagnostic::error(
            "E0003",
            "this file contains a control character and is probably not a recipe",
            Span::new(source, pos, end),
        )
        .label("unexpected control character")
        .help("recipes are UTF-8 text; check that the right file was given"));
    }
    let mut depth = 0usize;
    for (i, c) in lexical::brackets(text) {
        if matches!(c, '(' | '[' | '{') {
            depth += 1;
            if depth > MAX_NESTING {
                return Err(Diagnostic::error(
                    "E0004",
                    format!("brackets are nested more than {MAX_NESTING} deep"),
                    Span::new(source, i, i + 1),
                )
                .label("too deep")
                .help("name intermediate values with bindings instead of nesting"));
            }
        } else {
            depth = depth.saturating_sub(1);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
