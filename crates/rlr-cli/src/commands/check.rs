//! `rlr check FILE...`: compile each recipe and report every problem.

use std::io;

use clap::{Args, ValueEnum};

use super::{Ctx, plural};
use crate::render::Style;
use crate::{EXIT_INPUT, EXIT_OK};

/// Arguments of `rlr check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Recipe files to check (`-` reads standard input).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Rich)]
    pub format: DiagnosticFormat,
    /// Treat warnings as errors.
    #[arg(long)]
    pub deny_warnings: bool,
}

/// How `rlr check` prints diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    /// Source snippets with underlines, notes and help.
    Rich,
    /// One line each: `file:line:col: error[CODE]: message`.
    Short,
}

/// Runs `rlr check`. Exit 0 when no recipe has errors (or warnings, with
/// `--deny-warnings`), 1 otherwise. Standard output stays empty.
pub fn run(ctx: &mut Ctx<'_>, args: &CheckArgs) -> io::Result<i32> {
    ctx.renderer.style = match args.format {
        DiagnosticFormat::Rich => Style::Rich,
        DiagnosticFormat::Short => Style::Short,
    };
    let (mut errors, mut warnings) = (0, 0);
    for file in &args.files {
        let compiled = ctx.compile(file);
        errors += compiled.errors;
        warnings += compiled.warnings;
    }
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    let mut summary = format!(
        "checked {}: {}, {}",
        plural(args.files.len(), "recipe"),
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    if args.deny_warnings && warnings > 0 {
        summary.push_str(" (warnings denied)");
    }
    ctx.status(&summary);
    Ok(if failed { EXIT_INPUT } else { EXIT_OK })
}
