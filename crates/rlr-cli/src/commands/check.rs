//! `rlr check FILE...`: compile each recipe and report every problem. A
//! template (`.rlr.j2`) is checked as the one variant that `--var` gives.

use std::io;

use clap::{Args, ValueEnum};
use rlr_lang::template::Param;

use super::sweep::{compile_point, is_template};
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
    /// A template variable, e.g. `--var lr=3e-4` (repeatable): templates
    /// (`.rlr.j2`) are checked as the variant these values give.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = Param::parse)]
    pub vars: Vec<Param>,
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
    if !args.vars.is_empty() && !args.files.iter().any(|f| is_template(f)) {
        ctx.error(
            "`--var` sets template variables, but no file is a template (`.rlr.j2`)",
            &[],
            None,
        );
        return Ok(EXIT_INPUT);
    }
    let (mut errors, mut warnings) = (0, 0);
    for file in &args.files {
        if is_template(file) {
            let Some((name, text)) = ctx.read_input(file) else {
                errors += 1;
                continue;
            };
            let v = compile_point(&name, &text, &args.vars);
            let c = &v.compilation;
            ctx.diagnostics(&c.sources, &c.diagnostics);
            let e = c.diagnostics.iter().filter(|d| d.is_error()).count();
            errors += e;
            warnings += c.diagnostics.len() - e;
            continue;
        }
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
