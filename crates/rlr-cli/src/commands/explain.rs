//! `rlr explain [NAME]`: document one built-in, or list them all.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

use clap::Args;
use rlr_lang::diagnostic::did_you_mean;
use rlr_lang::registry::{self, Builtin, CONTEXT, Category};

use super::Ctx;
use crate::{EXIT_INPUT, EXIT_OK};

/// Arguments of `rlr explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A built-in (`zscore`, `grpo`, `arith`, ...) or a context name (`text`, `step`, ...);
    /// without it, every built-in is listed.
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
}

/// Runs `rlr explain`: the documentation on standard output, exit 0; an unknown
/// name is an error with a suggestion, exit 1.
pub fn run(ctx: &mut Ctx<'_>, args: &ExplainArgs) -> io::Result<i32> {
    let Some(name) = &args.name else {
        ctx.out(&listing())?;
        return Ok(EXIT_OK);
    };
    if let Some(b) = registry::lookup(name) {
        let mut text = registry::explain(b);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        ctx.out(&text)?;
        return Ok(EXIT_OK);
    }
    if let Some(c) = CONTEXT.iter().find(|c| c.name == name) {
        let ty =
            c.ty.map_or_else(|| "the task's sample record".to_string(), |t| t.to_string());
        ctx.out(&format!(
            "{}: {ty}\ncontext name (readable in every reward expression)\n\n{}",
            c.name,
            wrap(c.doc, 88)
        ))?;
        return Ok(EXIT_OK);
    }
    let builtins = registry::all();
    let candidates = builtins
        .iter()
        .map(|b| b.name)
        .chain(CONTEXT.iter().map(|c| c.name));
    let help = match did_you_mean(name, candidates) {
        Some(n) => format!("did you mean `{n}`?"),
        None => "run `rlr explain` to list every built-in".to_string(),
    };
    ctx.error(
        &format!("no built-in or context name called `{name}`"),
        &[],
        Some(&help),
    );
    Ok(EXIT_INPUT)
}

/// Every built-in grouped by what it is, each with its one-line signature,
/// then the context names.
pub fn listing() -> String {
    let mut groups: BTreeMap<(u8, Category), Vec<&'static Builtin>> = BTreeMap::new();
    for b in registry::all() {
        let rank = match b.category {
            Category::Model => 0,
            Category::Task => 1,
            Category::Tool => 2,
            Category::Stage => 3,
            Category::Node(_) => 4,
        };
        groups.entry((rank, b.category)).or_default().push(b);
    }
    let mut out = String::new();
    for ((_, category), builtins) in groups {
        let heading = match category {
            Category::Model => "models".to_string(),
            Category::Task => "tasks".to_string(),
            Category::Tool => "tools".to_string(),
            Category::Stage => "stages".to_string(),
            Category::Node(f) => format!("{} nodes", f.name()),
        };
        let _ = writeln!(out, "{heading}:");
        for b in builtins {
            let _ = writeln!(out, "  {}", short_signature(b));
        }
        out.push('\n');
    }
    out.push_str("context names:\n");
    for c in CONTEXT {
        let ty =
            c.ty.map_or_else(|| "sample record".to_string(), |t| t.to_string());
        let _ = writeln!(out, "  {}: {ty}", c.name);
    }
    out.push_str("\nRun `rlr explain NAME` for the parameters, defaults and source of one.\n");
    out
}

/// The longest signature listed in full; longer ones (stages, with dozens of
/// settings) show only their required parameters.
const LIST_WIDTH: usize = 120;

/// The one-line signature, or for a long one `name(required, ...) -> output`.
fn short_signature(b: &Builtin) -> String {
    let full = registry::signature(b);
    if full.chars().count() <= LIST_WIDTH {
        return full;
    }
    let output = full.find(") -> ").map_or("", |i| &full[i + 1..]);
    let required: Vec<&str> = b
        .params
        .iter()
        .filter(|p| p.default.is_none())
        .map(|p| p.name)
        .chain(std::iter::once("..."))
        .collect();
    format!("{}({}){output}", b.name, required.join(", "))
}

/// `text` word-wrapped to `width` columns, ending in a newline.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}
