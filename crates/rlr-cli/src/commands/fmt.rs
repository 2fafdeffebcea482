//! `rlr fmt [--check] FILE...`: rewrite recipes in the canonical layout.

use std::io;
use std::path::Path;

use clap::Args;
use rlr_lang::{Source, Sources};

use super::Ctx;
use crate::{EXIT_FAILED, EXIT_INPUT, EXIT_OK};

/// Arguments of `rlr fmt`.
#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Write nothing; list the files that would change and exit 1 if any would.
    #[arg(long)]
    pub check: bool,
    /// Recipe files to format in place; `-` formats standard input to standard output.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
}

/// What happened to one file.
enum Outcome {
    Unchanged,
    Changed,
    /// Unreadable or unparsable: the reason is already printed.
    Wrong,
    /// Could not be written back: the reason is already printed.
    Failed,
}

/// Runs `rlr fmt`. Exit 0 when everything is formatted (or, with `--check`,
/// already was); 1 when a file cannot be read or parsed, or `--check` finds a
/// file that would change; 2 when a file cannot be written.
pub fn run(ctx: &mut Ctx<'_>, args: &FmtArgs) -> io::Result<i32> {
    let (mut changed, mut wrong, mut failed) = (false, false, false);
    for file in &args.files {
        match one(ctx, file, args.check)? {
            Outcome::Unchanged => {}
            Outcome::Changed => changed = true,
            Outcome::Wrong => wrong = true,
            Outcome::Failed => failed = true,
        }
    }
    Ok(if failed {
        EXIT_FAILED
    } else if wrong || (args.check && changed) {
        EXIT_INPUT
    } else {
        EXIT_OK
    })
}

fn one(ctx: &mut Ctx<'_>, file: &str, check: bool) -> io::Result<Outcome> {
    let Some((name, text)) = ctx.read_input(file) else {
        return Ok(Outcome::Wrong);
    };
    let mut sources = Sources::new();
    let id = sources.add(Source::new(name.clone(), text.clone()));
    let formatted = match rlr_lang::fmt::format(id, &text) {
        Ok(f) => f,
        Err(d) => {
            ctx.diagnostics(&sources, &[d]);
            return Ok(Outcome::Wrong);
        }
    };
    let changed = formatted != text;
    if check {
        if changed {
            ctx.out(&format!("{name}\n"))?;
            return Ok(Outcome::Changed);
        }
        return Ok(Outcome::Unchanged);
    }
    if file == "-" {
        ctx.out(&formatted)?;
    } else {
        let written = if changed {
            std::fs::write(Path::new(file), &formatted)
        } else {
            Ok(())
        };
        if let Err(e) = written {
            ctx.error(&format!("cannot write `{file}`: {e}"), &[], None);
            return Ok(Outcome::Failed);
        }
    }
    Ok(if changed {
        Outcome::Changed
    } else {
        Outcome::Unchanged
    })
}
