//! `rlr graph FILE`: print the compiled reward graph as DOT or text.

use std::io;

use clap::{Args, ValueEnum};
use rlr_lang::diagnostic::did_you_mean;
use rlr_lang::dump;

use super::Ctx;
use crate::{EXIT_INPUT, EXIT_OK};

/// Arguments of `rlr graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The recipe (`-` reads standard input).
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Graphviz DOT (pipe it to `dot -Tsvg`) or a readable text listing.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
    /// Show only the stage with this name.
    #[arg(long, value_name = "NAME")]
    pub stage: Option<String>,
}

/// The output format of `rlr graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// Every stage's nodes in topological order, one per line.
    Text,
}

/// Runs `rlr graph`: the graph on standard output, exit 0; or diagnostics and exit 1.
pub fn run(ctx: &mut Ctx<'_>, args: &GraphArgs) -> io::Result<i32> {
    let Some(mut program) = ctx.compile(&args.file).program() else {
        return Ok(EXIT_INPUT);
    };
    if let Some(name) = &args.stage {
        if !program.stages.iter().any(|s| &s.name == name) {
            let names: Vec<&str> = program.stages.iter().map(|s| s.name.as_str()).collect();
            let note = if names.is_empty() {
                "the recipe has no stages".to_string()
            } else {
                format!("the recipe's stages: {}", names.join(", "))
            };
            let help =
                did_you_mean(name, names.iter().copied()).map(|n| format!("did you mean `{n}`?"));
            ctx.error(
                &format!("no stage named `{name}`"),
                &[note],
                help.as_deref(),
            );
            return Ok(EXIT_INPUT);
        }
        program.stages.retain(|s| &s.name == name);
    }
    let text = match args.format {
        GraphFormat::Dot => dump::dot(&program),
        GraphFormat::Text => dump::text(&program),
    };
    ctx.out(&text)?;
    Ok(EXIT_OK)
}
