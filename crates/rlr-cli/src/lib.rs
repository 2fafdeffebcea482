//! # rlr-cli: the `rlr` command
//!
//! `rlr check`, `rlr graph`, `rlr explain`, `rlr fmt`, `rlr run`, `rlr replay`,
//! `rlr diff`, `rlr sweep`, `rlr sample` and `rlr report`, wired with clap.
//! The binary only calls [`main`]; tests call [`run`] with in-memory streams.
//!
//! Exit codes: [`EXIT_OK`] (0) ok, [`EXIT_INPUT`] (1) the recipe or input is
//! wrong (diagnostics printed), [`EXIT_FAILED`] (2) the run failed.
//! Standard output carries only what a command produces (a graph, an
//! explanation, formatted text); diagnostics and summaries go to standard error.

pub mod commands;
pub mod loader;
pub mod render;

use std::any::Any;
use std::io::{self, IsTerminal, Read, Write};
use std::panic::{self, AssertUnwindSafe};

use clap::{Parser, Subcommand, ValueEnum};

use crate::commands::Ctx;
use crate::render::{Renderer, Style};

/// Exit code: everything is fine.
pub const EXIT_OK: i32 = 0;
/// Exit code: the recipe or input is wrong; diagnostics were printed.
pub const EXIT_INPUT: i32 = 1;
/// Exit code: the run failed (or the tool itself did).
pub const EXIT_FAILED: i32 = 2;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "rlr",
    version,
    about = "Check, draw, document, format and run RL post-training recipes (.rlr files).",
    after_help = "Exit codes: 0 ok, 1 the recipe or input is wrong (diagnostics printed), 2 the run failed.",
    arg_required_else_help = true
)]
pub struct Cli {
    /// When to colour diagnostics: `auto` colours when standard error is a terminal and NO_COLOR is unset.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// When to colour diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard error is a terminal and `NO_COLOR` is unset or empty.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile recipes and report every error and warning.
    Check(commands::check::CheckArgs),
    /// Print a recipe's compiled reward graphs as Graphviz DOT or text.
    Graph(commands::graph::GraphArgs),
    /// Explain a built-in (signature, parameters, defaults, source), or list them all.
    Explain(commands::explain::ExplainArgs),
    /// Format recipes in place (or check that they are formatted).
    Fmt(commands::fmt::FmtArgs),
    /// Check a recipe and train it.
    Run(commands::run::RunArgs),
    /// Re-score logged rollouts with a recipe's reward graph; compare two graphs.
    Replay(commands::replay::ReplayArgs),
    /// Show the semantic differences between two recipes or two run directories.
    ///
    /// Both recipes are compiled and their resolved programs compared: the recipe's
    /// metadata, declarations and stage settings (defaults filled in), stages added or
    /// removed, reward-graph nodes added, removed or redefined (with the constants that
    /// changed), edges added or removed, filters and objectives. Comments and formatting
    /// are not differences. For run directories the recipe each run used (overrides
    /// applied) is compared, then the runs' overrides, backend, versions and data files.
    Diff(commands::diff::DiffArgs),
    /// Print problems of a recipe's tasks as JSON lines: every sample field and the demonstration.
    ///
    /// The recipe is compiled, its tasks are built with its seed (data files are read
    /// relative to the recipe's folder) and problems `--from` to `--from + N - 1` of the
    /// split are printed, one JSON object per line: `task`, `split`, `index`, `sample`
    /// (the fields rewards read as `sample.*`) and `demonstration` (the reference
    /// response SFT stages train on).
    Sample(commands::sample::SampleArgs),
    /// Render a templated recipe (`.rlr.j2`) at every point of a grid and check them all.
    ///
    /// Every point is rendered and checked before anything else; a template error or a
    /// point that does not check stops the sweep with its diagnostic (exit 1) and writes
    /// nothing. Then the rendered recipes are written to `--out` as `point-000.rlr`, ...
    /// with `points.csv` (index, the variables, the file), and each point is trained with
    /// `rlr run` into `--out/runs/point-000/` (`--jobs N` at once); a finished point is not
    /// run again and an interrupted one is resumed. `summary.csv` and `summary.md` list
    /// each point's variables and final metrics. `--check` stops after writing the points.
    Sweep(commands::sweep::SweepArgs),
    /// Plot one or more runs' metrics (PNG and SVG per quantity, runs overlaid) with an index page.
    ///
    /// Every number of each run's `metrics.jsonl` becomes a plot: reward, held-out accuracy,
    /// KL, entropy, length, loss, and each reward-graph binding's mean with its standard
    /// deviation as a band. Stages follow one another on the x axis, their boundaries marked.
    /// `index.md` and `index.html` embed every plot and list each run's final metrics.
    Report(commands::report::ReportArgs),
    /// Measure sampling and training speed of a recipe's policy on this machine.
    ///
    /// Reports rollout tokens/s (KV-cache sampling), train tokens/s (forward, backward,
    /// AdamW), the FLOP rate each achieves (analytic counts) against the backend's own
    /// square-matmul rate, and the process's peak memory. Defaults follow the recipe's
    /// first RL stage (`prompts × group` sequences, its `max_tokens`).
    Bench(commands::bench::BenchArgs),
}

/// Runs `rlr` with `args` (the arguments after the program name) on the given
/// streams and returns the exit code. `--color auto` means no colour here,
/// since the streams are not known to be terminals; see [`run_with_terminal`].
pub fn run(
    args: &[String],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    run_with_terminal(args, stdin, stdout, stderr, false)
}

/// [`run`], told whether `stderr` is a terminal (which `--color auto` colours
/// unless `NO_COLOR` is set to something non-empty).
pub fn run_with_terminal(
    args: &[String],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    stderr_is_terminal: bool,
) -> i32 {
    let auto_color =
        stderr_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let argv = std::iter::once("rlr".to_string()).chain(args.iter().cloned());
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e, args, auto_color, stdout, stderr),
    };
    let color = match cli.color {
        ColorChoice::Auto => auto_color,
        ColorChoice::Always => true,
        ColorChoice::Never => false,
    };
    let mut ctx = Ctx {
        stdin,
        stdout,
        stderr,
        renderer: Renderer::new(Style::Rich, color),
        terminal: stderr_is_terminal,
    };
    let result = match &cli.command {
        Command::Check(a) => commands::check::run(&mut ctx, a),
        Command::Graph(a) => commands::graph::run(&mut ctx, a),
        Command::Explain(a) => commands::explain::run(&mut ctx, a),
        Command::Fmt(a) => commands::fmt::run(&mut ctx, a),
        Command::Run(a) => commands::run::run(&mut ctx, a),
        Command::Replay(a) => commands::replay::run(&mut ctx, a),
        Command::Diff(a) => commands::diff::run(&mut ctx, a),
        Command::Sample(a) => commands::sample::run(&mut ctx, a),
        Command::Sweep(a) => commands::sweep::run(&mut ctx, a),
        Command::Report(a) => commands::report::run(&mut ctx, a),
        Command::Bench(a) => commands::bench::run(&mut ctx, a),
    };
    let result = result.and_then(|code| ctx.stdout.flush().map(|()| code));
    match result {
        Ok(code) => code,
        // The reader went away (`rlr explain | head`): nothing left to say.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            ctx.error(&format!("cannot write to standard output: {e}"), &[], None);
            EXIT_FAILED
        }
    }
}

/// Prints clap's help, version or usage error. Help and version go to standard
/// output with exit 0; a usage error goes to standard error with exit 1.
fn usage_error(
    e: &clap::Error,
    args: &[String],
    auto_color: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    // The arguments did not parse, so honour an explicit `--color` by hand.
    let mut color = auto_color;
    for (i, a) in args.iter().enumerate() {
        let value = match a.strip_prefix("--color=") {
            Some(v) => Some(v),
            None if a == "--color" => args.get(i + 1).map(String::as_str),
            None => None,
        };
        match value {
            Some("always") => color = true,
            Some("never") => color = false,
            _ => {}
        }
    }
    let styled = e.render();
    let text = if color {
        styled.ansi().to_string()
    } else {
        styled.to_string()
    };
    if e.use_stderr() {
        let _ = stderr.write_all(text.as_bytes());
        EXIT_INPUT
    } else {
        let _ = stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush());
        EXIT_OK
    }
}

/// The whole program, on the process's real streams and arguments. Returns the
/// exit code. A panic (always a bug) is reported as an internal error, exit 2.
pub fn main() -> i32 {
    panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(
            io::stderr(),
            "internal error: {}{place}\nthis is a bug in rlr; please report it with the command and recipe that caused it",
            panic_message(info.payload())
        );
    }));
    let mut args = Vec::new();
    for a in std::env::args_os().skip(1) {
        match a.into_string() {
            Ok(s) => args.push(s),
            Err(bad) => {
                let _ = writeln!(
                    io::stderr(),
                    "error: argument {} is not valid UTF-8",
                    bad.to_string_lossy()
                );
                return EXIT_INPUT;
            }
        }
    }
    let is_terminal = io::stderr().is_terminal();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut stdin = io::stdin().lock();
        let mut stdout = io::stdout().lock();
        let mut stderr = io::stderr().lock();
        run_with_terminal(&args, &mut stdin, &mut stdout, &mut stderr, is_terminal)
    }));
    outcome.unwrap_or(EXIT_FAILED)
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "panic"
    }
}
