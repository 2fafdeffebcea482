//! `rlr diff A B`: a semantic diff of two compiled recipes.

use std::io;
use std::path::Path;

use clap::Args;
use rlr_lang::diff;

use super::Ctx;
use crate::{EXIT_INPUT, EXIT_OK};

/// Arguments of `rlr diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old recipe (`-` reads standard input). Recipe files only: run directories are not supported yet.
    #[arg(value_name = "A")]
    pub a: String,
    /// The new recipe (`-` reads standard input). Recipe files only: run directories are not supported yet.
    #[arg(value_name = "B")]
    pub b: String,
    /// Exit 1 when the recipes differ (like `git diff --exit-code`).
    #[arg(long)]
    pub exit_code: bool,
}

/// Runs `rlr diff`: the report on standard output, exit 0 (with `--exit-code`,
/// 1 when they differ); or diagnostics and exit 1 when either recipe is wrong.
pub fn run(ctx: &mut Ctx<'_>, args: &DiffArgs) -> io::Result<i32> {
    if args.a == "-" && args.b == "-" {
        ctx.error(
            "only one of the two recipes can be read from standard input",
            &[],
            None,
        );
        return Ok(EXIT_INPUT);
    }
    for path in [&args.a, &args.b] {
        if path != "-" && Path::new(path).is_dir() {
            ctx.error(
                &format!("`{path}` is a directory: comparing run directories is not supported yet"),
                &["run directories arrive with the training engine; today `rlr diff` compares two recipe files".to_string()],
                None,
            );
            return Ok(EXIT_INPUT);
        }
    }
    let a = ctx.compile(&args.a).program();
    let b = ctx.compile(&args.b).program();
    let (Some(a), Some(b)) = (a, b) else {
        return Ok(EXIT_INPUT);
    };
    let d = diff::diff(&a, &b);
    ctx.out(&d.to_string())?;
    Ok(if args.exit_code && !d.is_empty() {
        EXIT_INPUT
    } else {
        EXIT_OK
    })
}
