//! `rlr bench [RECIPE]`: how fast this machine samples and trains the
//! recipe's policy (`recipes/grpo.rlr`'s by default): rollout and train
//! tokens per second, the FLOP rate achieved, the backend's matmul rate as
//! the peak to compare with, and the peak memory.

use std::io;
use std::path::{Path, PathBuf};

use clap::Args;

use super::Ctx;
use crate::{EXIT_FAILED, EXIT_INPUT, EXIT_OK};

/// Arguments of `rlr bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The recipe whose policy and batch to measure (its first RL stage).
    #[arg(value_name = "RECIPE", default_value = "recipes/grpo.rlr")]
    pub file: String,
    /// Sequences at once (default: the stage's `prompts × group`).
    #[arg(long, value_name = "N")]
    pub batch: Option<usize>,
    /// Prompt tokens per sequence (default 16).
    #[arg(long, value_name = "N")]
    pub prompt: Option<usize>,
    /// New tokens per sequence (default: the stage's `max_tokens`).
    #[arg(long, value_name = "N")]
    pub new_tokens: Option<usize>,
    /// Timed repetitions; the fastest is reported.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub reps: usize,
    /// Side of the square matmul that measures the backend's peak.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub matmul: usize,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `rlr bench`: exit 1 if the recipe is wrong or its model cannot be
/// built (a missing file), 2 if a measurement fails.
pub fn run(ctx: &mut Ctx<'_>, args: &BenchArgs) -> io::Result<i32> {
    let Some(program) = ctx.compile(&args.file).program() else {
        return Ok(EXIT_INPUT);
    };
    // Model and tokenizer paths are relative to the recipe, as in `rlr run`.
    let folder = Path::new(&args.file)
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let locate = |p: &str| folder.join(p);
    let built = rlr_engine::bench::bench_model(&program).and_then(|decl| {
        let device = rlr_engine::backend::device();
        let built = rlr_engine::policy::build(decl, program.seed(), &device, &locate)?;
        let options = rlr_engine::bench::BenchOptions::of(&program, &built.policy)?;
        Ok((built.policy, built.vocab, options))
    });
    let (policy, vocab, mut options) = match built {
        Ok(b) => b,
        Err(e) => {
            ctx.error(&e, &[], None);
            return Ok(EXIT_INPUT);
        }
    };
    options.batch = args.batch.unwrap_or(options.batch);
    options.prompt = args.prompt.unwrap_or(options.prompt);
    options.new_tokens = args.new_tokens.unwrap_or(options.new_tokens);
    options.reps = args.reps;
    options.matmul = args.matmul;
    match rlr_engine::bench::run(&options, policy, &vocab) {
        Ok(report) => {
            if args.json {
                ctx.out(&format!("{}\n", report.json()))?;
            } else {
                ctx.out(&report.table(&options))?;
            }
            Ok(EXIT_OK)
        }
        Err(e) => {
            ctx.error(&e, &[], None);
            Ok(EXIT_FAILED)
        }
    }
}
