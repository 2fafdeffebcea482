//! pest errors turned into diagnostics in the user's terms.
//!
//! Every rule that can appear in an error has a description here; the
//! messages name tokens and constructs ("`=`", "an expression"), never rules.

use std::collections::BTreeSet;

use pest::error::{Error, ErrorVariant, InputLocation};

use super::Rule;
use crate::diagnostic::Diagnostic;
use crate::source::{SourceId, Span};

/// Words the grammar reserves; they cannot name bindings, settings or functions.
pub const KEYWORDS: &[&str] = &[
    "import", "recipe", "model", "task", "tool", "fn", "stage", "branch", "reward", "halt", "drop",
    "optimize", "when", "unless", "else", "if", "then", "where", "and", "or", "not", "true",
    "false",
];

/// How a rule is named to the user, or `None` when it is never worth naming.
fn describe(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        EOI => "the end of the file",
        import | recipe | decl | decl_kind | fn_def | stage | kw_import | kw_recipe | kw_model
        | kw_task | kw_tool | kw_fn | kw_stage => {
            "an item (`import`, `recipe`, `model`, `task`, `tool`, `fn` or `stage`)"
        }
        branch | reward | filter | filter_kind | optimize | kw_branch | kw_reward | kw_halt
        | kw_drop | kw_optimize => {
            "a stage statement (`name = value`, `branch`, `reward`, `halt`, `drop` or `optimize`)"
        }
        field => "a setting `name = value`",
        binding => "a binding `name = value`",
        expr | operation | primary | if_expr | call | callee | number | string | boolean | list
        | paren | path | neg | not | kw_if | kw_not | kw_true | kw_false | string_inner => {
            "an expression"
        }
        or | and | eq | ne | le | ge | lt | gt | add | sub | mul | div | pow | kw_or | kw_and => {
            "an operator"
        }
        ident | key => "a name",
        param => "a parameter name",
        arg => "an argument",
        assign => "`=`",
        arrow => "`->`",
        fallback | kw_else => "`else`",
        kw_then => "`then`",
        when_tail | kw_when => "`when`",
        unless | kw_unless => "`unless`",
        where_tail | where_clause | kw_where => "`where`",
        on_clause | kw_on => "`on`",
        scaled_by | kw_scaled => "`scaled by`",
        kw_by => "`by`",
        weight | kw_weight => "`weight`",
        fn_expr | fn_block | stage_body | item | field_block | params | stage_item | infix
        | prefix | args | ident_char => return None,
        comma => "`,`",
        file | keyword | WHITESPACE | COMMENT => return None,
    })
}

/// Converts a pest error into a located diagnostic.
pub fn from_pest(source: SourceId, text: &str, err: &Error<Rule>) -> Diagnostic {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    }
    .min(text.len());

    let mut expected: BTreeSet<&'static str> = BTreeSet::new();
    if let ErrorVariant::ParsingError { positives, .. } = &err.variant {
        expected.extend(positives.iter().filter_map(|r| describe(*r)));
    }
    if let Some(attempts) = err.parse_attempts() {
        for token in attempts.expected_tokens() {
            if let Some(p) = punctuation(&token.to_string()) {
                expected.insert(p);
            }
        }
    }
    if let ErrorVariant::CustomError { message } = &err.variant {
        // Raised by pest's own guards (call or stack limits).
        return Diagnostic::error(
            "E0010",
            format!("the parser gave up: {message}"),
            Span::new(source, pos, pos),
        )
        .help("simplify the expression here, or split it into named bindings");
    }

    if expected.contains("an expression") {
        // These all start expressions; naming them separately is noise.
        for starter in ["`(`", "`[`", "a name"] {
            expected.remove(starter);
        }
    }
    let (found, found_span) = found_at(source, text, pos);
    let list = join_or(&expected.iter().copied().collect::<Vec<_>>());
    let message = if list.is_empty() {
        format!("did not expect {found} here")
    } else {
        format!("expected {list}, found {found}")
    };
    let mut d = Diagnostic::error("E0010", message, found_span).label(if list.is_empty() {
        "unexpected here".to_string()
    } else {
        shorten(&expected)
    });

    let word = word_at(text, pos);
    if KEYWORDS.contains(&word) && expected.contains("a name") {
        d = d.help(format!("`{word}` is a reserved word; choose another name"));
    } else if text[pos..].starts_with(':') && expected.contains("`=`") {
        d = d.help("settings and bindings are written `name = value`, not `name: value`");
    } else if pos >= text.trim_end().len() {
        if let Some(open) = unclosed_bracket(text) {
            let c = &text[open..open + 1];
            d = d
                .with(
                    Span::new(source, open, open + 1),
                    format!("this `{c}` is never closed"),
                )
                .help(format!("add the matching `{}`", closing(c)));
        }
    } else if text[pos..].starts_with("==") && expected.contains("`=`") {
        d = d.help("`==` compares; a binding or setting is written `name = value`");
    } else if expected.len() == 1 && expected.contains("`=`") && !word.is_empty() {
        d = d.help(
            "each statement is `name = value`; is a `=` or the previous line's value missing?",
        );
    } else if text[pos..].starts_with('=') && expected.contains("an operator") {
        d = d.help("to compare, write `==`; a binding's name comes first: `name = value`");
    }
    d
}

fn punctuation(token: &str) -> Option<&'static str> {
    Some(match token {
        "(" => "`(`",
        ")" => "`)`",
        "{" => "`{`",
        "}" => "`}`",
        "[" => "`[`",
        "]" => "`]`",
        "," => "`,`",
        _ => return None,
    })
}

/// What stands at `pos`, for "found ...", and the span to underline.
fn found_at(source: SourceId, text: &str, pos: usize) -> (String, Span) {
    let rest = &text[pos..];
    let Some(c) = rest.chars().next() else {
        let end = text.len();
        return ("the end of the file".into(), Span::new(source, end, end));
    };
    let word = word_at(text, pos);
    if !word.is_empty() {
        let kind = if KEYWORDS.contains(&word) {
            "the keyword"
        } else if word.starts_with(|c: char| c.is_ascii_digit()) {
            "the number"
        } else {
            "the name"
        };
        return (
            format!("{kind} `{word}`"),
            Span::new(source, pos, pos + word.len()),
        );
    }
    if c == '\n' {
        return ("the end of the line".into(), Span::new(source, pos, pos));
    }
    if c == '"' {
        return ("a string".into(), Span::new(source, pos, pos + 1));
    }
    let op_len = rest
        .char_indices()
        .find(|(_, c)| !"=<>!-+*/^:".contains(*c))
        .map_or(rest.len(), |(i, _)| i);
    if op_len > 1 {
        return (
            format!("`{}`", &rest[..op_len]),
            Span::new(source, pos, pos + op_len),
        );
    }
    (format!("`{c}`"), Span::new(source, pos, pos + c.len_utf8()))
}

fn word_at(text: &str, pos: usize) -> &str {
    let rest = &text[pos..];
    let end = rest
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.'))
        .map_or(rest.len(), |(i, _)| i);
    rest[..end].trim_end_matches('.')
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

fn shorten(expected: &BTreeSet<&'static str>) -> String {
    if expected.len() <= 3 {
        format!(
            "expected {}",
            join_or(&expected.iter().copied().collect::<Vec<_>>())
        )
    } else {
        "not expected here".into()
    }
}

fn closing(open: &str) -> &'static str {
    match open {
        "(" => ")",
        "[" => "]",
        _ => "}",
    }
}

/// The offset of the last bracket left open at the end of the text.
fn unclosed_bracket(text: &str) -> Option<usize> {
    let mut stack = Vec::new();
    for (i, c) in super::lexical::brackets(text) {
        if matches!(c, '(' | '[' | '{') {
            stack.push(i);
        } else {
            stack.pop();
        }
    }
    stack.pop()
}
