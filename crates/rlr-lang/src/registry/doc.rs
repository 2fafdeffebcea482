//! Documentation of built-ins: the plain text `rlr explain NAME` prints and the
//! Markdown pages of the book's reference, both generated from the registry.

use std::fmt::Write as _;

use super::{Builtin, Category, DefaultValue, KindRule, Output, ParamSpec, ParamType, ScopeRule};
use crate::types::{Kind, Scope};

/// The width `explain` wraps paragraphs to.
const WIDTH: usize = 88;

/// A parameter type in words: `response real`, `real constant`, `one of "k1", "k2", "k3"`.
pub fn describe_type(ty: &ParamType) -> String {
    match ty {
        ParamType::Signal { kinds, scopes } => {
            let kinds = kind_words(kinds);
            if Scope::ALL.iter().all(|s| scopes.contains(s)) {
                format!("{kinds} (any scope)")
            } else {
                let names: Vec<&str> = scopes.iter().map(|s| s.name()).collect();
                format!("{} {kinds}", join_or(&names))
            }
        }
        ParamType::Real => "real constant".to_string(),
        ParamType::Int => "integer constant".to_string(),
        ParamType::Bool => "boolean constant".to_string(),
        ParamType::Str => "string".to_string(),
        ParamType::Choice(choices) => {
            let quoted: Vec<String> = choices.iter().map(|c| format!("\"{c}\"")).collect();
            format!("one of {}", quoted.join(", "))
        }
        ParamType::StrList => "list of strings".to_string(),
        ParamType::RealList => "list of reals".to_string(),
        ParamType::RealPair => "pair of reals (low, high), or one real for both".to_string(),
        ParamType::Range => "range `start -> end`".to_string(),
        ParamType::Points => "list of (step, value) points".to_string(),
        ParamType::Model => "model".to_string(),
        ParamType::Task => "task".to_string(),
        ParamType::Tools => "list of tools".to_string(),
        ParamType::Branch => "branch".to_string(),
        ParamType::Sample => "the `sample` record".to_string(),
    }
}

/// A default value as a recipe would write it: `1e-6`, `"fail"`, `steps`, `(0.2, 0.28)`, `[]`.
pub fn describe_default(value: &DefaultValue) -> String {
    match value {
        DefaultValue::Real(x) => real(*x),
        DefaultValue::Int(n) => n.to_string(),
        DefaultValue::Bool(b) => b.to_string(),
        DefaultValue::Str(s) => format!("\"{}\"", s.escape_debug()),
        DefaultValue::Ref(name) => (*name).to_string(),
        DefaultValue::Pair(a, b) => format!("({}, {})", real(*a), real(*b)),
        DefaultValue::EmptyList => "[]".to_string(),
    }
}

/// The one-line signature: `mean(x [where COND], over = "next") -> real, one scope coarser ...`.
pub fn signature(b: &Builtin) -> String {
    let mut params = Vec::with_capacity(b.params.len() + 1);
    for (i, p) in b.params.iter().enumerate() {
        let mut s = p.name.to_string();
        if i == 0 && b.partition {
            s.push_str(" [where COND]");
        }
        if let Some(d) = &p.default {
            let _ = write!(s, " = {}", describe_default(d));
        }
        params.push(s);
        if b.variadic && i + 1 == b.params.len() {
            params.push("...".to_string());
        }
    }
    format!("{}({}) -> {}", b.name, params.join(", "), output_words(b))
}

/// The signature on one line if it fits `WIDTH`, the output on a second line if only
/// the call fits, else one parameter per line.
fn signature_block(b: &Builtin) -> String {
    let line = signature(b);
    if line.chars().count() <= WIDTH {
        return line;
    }
    if let Some((call, output)) = line.split_once(") -> ")
        && call.chars().count() < WIDTH
    {
        return format!("{call})\n    -> {output}");
    }
    let mut out = format!("{}(\n", b.name);
    for (i, p) in b.params.iter().enumerate() {
        let _ = write!(out, "    {}", p.name);
        if i == 0 && b.partition {
            out.push_str(" [where COND]");
        }
        if let Some(d) = &p.default {
            let _ = write!(out, " = {}", describe_default(d));
        }
        out.push_str(",\n");
        if b.variadic && i + 1 == b.params.len() {
            out.push_str("    ...\n");
        }
    }
    let _ = write!(out, ") -> {}", output_words(b));
    out
}

/// What `rlr explain NAME` prints: signature, category, the doc paragraph, every
/// parameter with its type, default, range and doc, the task's sample fields, and the source.
pub fn explain(b: &Builtin) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", signature_block(b));
    let _ = writeln!(out, "{}", category_line(b));
    out.push('\n');
    wrap_into(&mut out, b.doc, "", WIDTH);
    if !b.params.is_empty() {
        out.push_str("\nParameters:\n");
        for p in b.params {
            let facts = format!("{}: {}", p.name, param_facts(p));
            wrap_hanging(&mut out, "  ", &facts, "      ", WIDTH);
            wrap_into(&mut out, p.doc, "      ", WIDTH);
        }
    }
    if !b.sample_fields.is_empty() {
        out.push_str("\nSample fields:\n");
        for f in b.sample_fields {
            let _ = writeln!(out, "  sample.{}: {}", f.name, f.ty);
            wrap_into(&mut out, f.doc, "      ", WIDTH);
        }
    }
    out.push('\n');
    wrap_hanging(&mut out, "Source: ", b.source, "        ", WIDTH);
    out
}

/// The book's reference page for a built-in, in Markdown.
pub fn markdown(b: &Builtin) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# `{}`\n", b.name);
    let _ = writeln!(out, "*{}*\n", category_line(b));
    let _ = writeln!(out, "```rlr\n{}\n```\n", signature_block(b));
    let _ = writeln!(out, "{}\n", md(b.doc));
    if !b.params.is_empty() {
        out.push_str("## Parameters\n\n");
        out.push_str("| parameter | type | default | range | description |\n");
        out.push_str("|---|---|---|---|---|\n");
        for p in b.params {
            let default = match &p.default {
                Some(d) => format!("`{}`", describe_default(d)),
                None => "required".to_string(),
            };
            let range = p.range.map(|r| r.to_string()).unwrap_or_default();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                p.name,
                cell(&describe_type(&p.ty)),
                cell(&default),
                cell(&range),
                cell(&md(p.doc))
            );
        }
        out.push('\n');
    }
    if let Category::Node(_) = b.category {
        let _ = writeln!(out, "**Output:** {}.\n", output_words(b));
    }
    if !b.sample_fields.is_empty() {
        out.push_str("## Sample fields\n\n");
        out.push_str("| field | type | description |\n|---|---|---|\n");
        for f in b.sample_fields {
            let _ = writeln!(
                out,
                "| `sample.{}` | {} | {} |",
                f.name,
                f.ty,
                cell(&md(f.doc))
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "**Source:** {}", md(b.source));
    out
}

// ---- helpers -------------------------------------------------------------------------------

/// A real as a recipe would write it (`1e-6`, `0.04`, `1.0`).
fn real(x: f64) -> String {
    format!("{x:?}")
}

/// Kind names joined with "or"; bools are implied by reals and text by labels.
fn kind_words(kinds: &[Kind]) -> String {
    let names: Vec<&str> = kinds
        .iter()
        .filter(|k| {
            let implied_bool = **k == Kind::Bool && kinds.contains(&Kind::Real);
            let implied_text = **k == Kind::Text && kinds.contains(&Kind::Label);
            !implied_bool && !implied_text
        })
        .map(|k| k.name())
        .collect();
    join_or(&names)
}

/// `a`, `a or b`, `a, b or c`.
fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// The output of a node in words; the kind of thing a constructor makes otherwise.
fn output_words(b: &Builtin) -> String {
    match b.category {
        Category::Node(_) => node_output_words(&b.output, b.params.first().map(|p| p.name)),
        Category::Model => "model".to_string(),
        Category::Task => "task".to_string(),
        Category::Tool => "tool".to_string(),
        Category::Stage => "stage".to_string(),
    }
}

fn node_output_words(o: &Output, first: Option<&str>) -> String {
    let kind = match o.kind {
        KindRule::Fixed(k) => k.name().to_string(),
        KindRule::First => format!("same kind as `{}`", first.unwrap_or("its first argument")),
    };
    let mut s = match o.scope {
        ScopeRule::Fixed(scope) => format!("{scope} {kind}"),
        ScopeRule::Place => format!("token {kind}"),
        ScopeRule::Inputs => format!("{kind} at the scope of its inputs"),
        ScopeRule::Reduce => format!("{kind}, one scope coarser than its input (or `over`)"),
    };
    match o.range {
        Some(r) if r.min.is_some() && r.max.is_some() => {
            let _ = write!(s, " in {r}");
        }
        Some(r) => {
            let _ = write!(s, ", {r}");
        }
        None => {}
    }
    s
}

/// `reduction (reward-graph node); accepts `where`; ...`
fn category_line(b: &Builtin) -> String {
    let mut s = match b.category {
        Category::Node(f) => format!("{} (reward-graph node)", f.name()),
        Category::Model => "model constructor".to_string(),
        Category::Task => "task constructor".to_string(),
        Category::Tool => "tool constructor".to_string(),
        Category::Stage => "stage kind".to_string(),
    };
    if b.partition {
        s.push_str("; accepts `where`");
    }
    if b.variadic {
        s.push_str("; takes any number of inputs");
    }
    if b.expensive {
        s.push_str("; expensive: guard with `when`");
    }
    s
}

/// `type, default D, range R` or `type, required`.
fn param_facts(p: &ParamSpec) -> String {
    let mut s = describe_type(&p.ty);
    match &p.default {
        Some(d) => {
            let _ = write!(s, ", default {}", describe_default(d));
        }
        None => s.push_str(", required"),
    }
    if let Some(r) = p.range {
        let _ = write!(s, ", range {r}");
    }
    s
}

/// Escapes prose for Markdown: `<` outside code spans would open an HTML tag
/// (`<think>` would vanish), so it becomes `&lt;`.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' if !in_code => out.push_str("&lt;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Appends `text` word-wrapped to `width` columns, each line starting with `indent`.
fn wrap_into(out: &mut String, text: &str, indent: &str, width: usize) {
    wrap_hanging(out, indent, text, indent, width);
}

/// Appends `text` word-wrapped to `width` columns: the first line starts with
/// `first`, the others with `indent`.
fn wrap_hanging(out: &mut String, first: &str, text: &str, indent: &str, width: usize) {
    let mut line = String::from(first);
    let mut empty = true;
    for word in text.split_whitespace() {
        let len = line.chars().count() + 1 + word.chars().count();
        if !empty && len > width {
            out.push_str(&line);
            out.push('\n');
            line = String::from(indent);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    if !empty {
        out.push_str(&line);
        out.push('\n');
    }
}
