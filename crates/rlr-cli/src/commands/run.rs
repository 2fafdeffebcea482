//! `rlr run FILE`: check the recipe, then train. The engine does not exist
//! yet, so after checking this reports that and exits 2.

use std::io;

use clap::Args;

use super::Ctx;
use crate::{EXIT_FAILED, EXIT_INPUT};

/// Arguments of `rlr run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The recipe to train (`-` reads standard input).
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Directory for checkpoints, logs and rollouts (not active yet: arrives with the engine).
    #[arg(long, value_name = "DIR")]
    pub out: Option<String>,
    /// Override a recipe setting, e.g. `--set seed=3` (repeatable; not active yet).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub set: Vec<(String, String)>,
    /// Device to train on, e.g. `cpu` or `cuda:0` (not active yet).
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
    /// Resume from the checkpoints in this run directory (not active yet).
    #[arg(long, value_name = "DIR")]
    pub resume: Option<String>,
}

/// Parses `KEY=VALUE` for `--set`.
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("expected KEY=VALUE, found `{s}`")),
    }
}

/// Runs `rlr run`: exit 1 with diagnostics if the recipe is wrong; otherwise
/// exit 2, because the training engine is not built yet.
pub fn run(ctx: &mut Ctx<'_>, args: &RunArgs) -> io::Result<i32> {
    if ctx.compile(&args.file).program().is_none() {
        return Ok(EXIT_INPUT);
    }
    ctx.error(
        "the training engine is not built yet (it lands with the engine issue); the recipe checks",
        &[],
        None,
    );
    Ok(EXIT_FAILED)
}
