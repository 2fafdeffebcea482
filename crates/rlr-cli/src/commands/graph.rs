//! `rlr graph FILE`: print the compiled reward graph as DOT or text; with
//! `--schedules`, plot every schedule binding over its stage's steps.

use std::io;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use rlr_lang::diagnostic::did_you_mean;
use rlr_lang::dump;
use rlr_lang::ir::Program;
use rlr_report::Trace;

use super::{Ctx, plural};
use crate::{EXIT_FAILED, EXIT_INPUT, EXIT_OK};

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
    /// Instead of the graph, plot every schedule binding of each stage (a
    /// value of the step alone: `linear`, `cosine`, `warmup`, ... and maths
    /// on them) over the stage's `steps`, as PNG and SVG with an index, and
    /// print each one's first and last value.
    #[arg(long)]
    pub schedules: bool,
    /// Where `--schedules` writes its plots (default: `schedules/<recipe stem>/`).
    #[arg(long, value_name = "DIR", requires = "schedules")]
    pub out: Option<String>,
}

/// At most this many steps of a stage are evaluated for a plot (evenly
/// spaced, first and last included): more than a chart has pixels.
const MAX_POINTS: u64 = 2000;

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
    if args.schedules {
        return schedules(ctx, args, &program);
    }
    let text = match args.format {
        GraphFormat::Dot => dump::dot(&program),
        GraphFormat::Text => dump::text(&program),
    };
    ctx.out(&text)?;
    Ok(EXIT_OK)
}

/// The steps a plot of an `n`-step stage evaluates: all of them, or
/// [`MAX_POINTS`] evenly spaced ones from 1 to `n`.
fn sample_steps(n: u64) -> Vec<u64> {
    if n <= MAX_POINTS {
        return (1..=n).collect();
    }
    let mut steps: Vec<u64> = (0..MAX_POINTS)
        .map(|i| 1 + i * (n - 1) / (MAX_POINTS - 1))
        .collect();
    steps.dedup();
    steps
}

/// `rlr graph --schedules`: each stage's schedule bindings evaluated by the
/// reward runtime at its steps, plotted into `--out`; a summary line per
/// binding on standard output.
fn schedules(ctx: &mut Ctx<'_>, args: &GraphArgs, program: &Program) -> io::Result<i32> {
    let mut traces = Vec::new();
    for stage in &program.stages {
        let nodes = rlr_reward::schedules::schedule_bindings(stage);
        if nodes.is_empty() {
            continue;
        }
        let steps = stage
            .settings
            .get("steps")
            .and_then(|c| c.as_f64())
            .filter(|s| *s >= 1.0)
            .map_or(0, |s| s as u64);
        if steps == 0 {
            ctx.status(&format!(
                "note: stage `{}` has no `steps`, so its schedules are not plotted",
                stage.name
            ));
            continue;
        }
        let at = sample_steps(steps);
        let values = match rlr_reward::schedules::trace(stage, &nodes, &at, program.seed()) {
            Ok(v) => v,
            Err(e) => {
                ctx.error(&format!("stage `{}`: {e}", stage.name), &[], None);
                return Ok(EXIT_INPUT);
            }
        };
        for (id, ys) in nodes.iter().zip(values) {
            traces.push(Trace {
                stage: stage.name.clone(),
                binding: stage.graph.node(*id).name.clone(),
                points: at.iter().copied().zip(ys).collect(),
            });
        }
    }
    if traces.is_empty() {
        ctx.status(&format!("no schedule bindings in {}", args.file));
        return Ok(EXIT_OK);
    }
    let mut text = String::new();
    for t in &traces {
        if let (Some(first), Some(last), Some([_, _, lo, hi])) =
            (t.points.first(), t.points.last(), t.summary())
        {
            let v = rlr_report::index::value;
            text.push_str(&format!(
                "{}.{}: {} at step {} -> {} at step {} (min {}, max {})\n",
                t.stage,
                t.binding,
                v(first.1),
                first.0,
                v(last.1),
                last.0,
                v(lo),
                v(hi)
            ));
        }
    }
    ctx.out(&text)?;
    let out = args.out.as_ref().map_or_else(
        || Path::new("schedules").join(super::sweep::template_stem(&recipe_name(&args.file))),
        PathBuf::from,
    );
    match rlr_report::write_schedules(&args.file, &traces, &out) {
        Ok(_) => {
            ctx.status(&format!(
                "{} in {} (index.md, index.html)",
                plural(traces.len(), "schedule plot"),
                out.display()
            ));
            Ok(EXIT_OK)
        }
        Err(e) => {
            ctx.error(&e.to_string(), &[], None);
            Ok(EXIT_FAILED)
        }
    }
}

/// The recipe's name for the default folder (`stdin` for `-`).
fn recipe_name(file: &str) -> String {
    if file == "-" {
        "stdin".into()
    } else {
        file.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_stages_are_sampled_from_first_to_last_step() {
        assert_eq!(sample_steps(3), [1, 2, 3]);
        let s = sample_steps(100_000);
        assert_eq!(s.len() as u64, MAX_POINTS);
        assert_eq!((s[0], s[s.len() - 1]), (1, 100_000));
        assert!(s.windows(2).all(|w| w[0] < w[1]));
    }
}
