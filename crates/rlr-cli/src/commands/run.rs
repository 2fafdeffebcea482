//! `rlr run FILE`: check the recipe, then train it with the engine
//! (`rlr-engine`), writing `metrics.jsonl` and `rollouts.jsonl` to the run
//! directory. `--set` and `--resume` are parsed but not supported yet.

use std::io;
use std::path::{Path, PathBuf};

use clap::Args;

use super::Ctx;
use crate::{EXIT_FAILED, EXIT_INPUT, EXIT_OK};

/// Arguments of `rlr run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The recipe to train (`-` reads standard input).
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Directory for logs and rollouts (default `runs/<recipe stem>`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<String>,
    /// Override a recipe setting, e.g. `--set seed=3` (repeatable; not supported yet).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub set: Vec<(String, String)>,
    /// Device to train on: `cpu` (the default; other devices are not supported yet).
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
    /// Resume from the checkpoints in this run directory (not supported yet).
    #[arg(long, value_name = "DIR")]
    pub resume: Option<String>,
    /// Print a progress line every this many steps.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub progress: u64,
}

/// Parses `KEY=VALUE` for `--set`.
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("expected KEY=VALUE, found `{s}`")),
    }
}

/// The default run directory: `runs/<recipe stem>` (`runs/stdin` for `-`).
fn default_out(file: &str) -> PathBuf {
    let stem = if file == "-" {
        "stdin".to_string()
    } else {
        let name = Path::new(file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into());
        name.trim_end_matches(".j2")
            .trim_end_matches(".rlr")
            .to_string()
    };
    Path::new("runs").join(stem)
}

/// Runs `rlr run`: exit 1 with diagnostics if the recipe is wrong, 2 if
/// training fails, 0 when every stage finished.
pub fn run(ctx: &mut Ctx<'_>, args: &RunArgs) -> io::Result<i32> {
    let Some(program) = ctx.compile(&args.file).program() else {
        return Ok(EXIT_INPUT);
    };
    let unsupported = [
        (!args.set.is_empty(), "`--set`"),
        (args.resume.is_some(), "`--resume`"),
        (
            args.device.as_deref().is_some_and(|d| d != "cpu"),
            "a device other than `cpu`",
        ),
    ];
    for (used, what) in unsupported {
        if used {
            ctx.error(
                &format!("{what} is not supported by the engine yet"),
                &[],
                None,
            );
            return Ok(EXIT_FAILED);
        }
    }
    let out = args
        .out
        .as_ref()
        .map_or_else(|| default_out(&args.file), PathBuf::from);
    let folder = if args.file == "-" {
        PathBuf::from(".")
    } else {
        Path::new(&args.file)
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let read = |p: &str| {
        let path = folder.join(p);
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let result = {
        let stderr = &mut *ctx.stderr;
        let mut progress = |line: &str| {
            // Progress goes out as it happens; a closed stderr is not an error.
            let _ = writeln!(stderr, "{line}");
        };
        rlr_engine::run(
            &program,
            rlr_engine::RunOptions {
                out: out.clone(),
                progress_every: args.progress,
                read: &read,
                progress: &mut progress,
            },
        )
    };
    match result {
        Ok(summary) => {
            for (stage, accuracy) in &summary.stages {
                ctx.status(&format!("stage `{stage}`: held-out accuracy {accuracy:.4}"));
            }
            ctx.status(&format!("run directory: {}", out.display()));
            Ok(EXIT_OK)
        }
        Err(why) => {
            ctx.error(&why, &[], None);
            Ok(EXIT_FAILED)
        }
    }
}
