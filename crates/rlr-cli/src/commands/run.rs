//! `rlr run FILE`: check the recipe (with `--set` overrides applied), then
//! train it with the engine (`rlr-engine`), writing the run directory;
//! `rlr run --resume DIR` continues a run from its last checkpoint.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use super::Ctx;
use crate::{EXIT_FAILED, EXIT_INPUT, EXIT_OK};

/// Arguments of `rlr run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The recipe to train (`-` reads standard input); not with `--resume`.
    #[arg(value_name = "FILE", required_unless_present = "resume")]
    pub file: Option<String>,
    /// Directory for the run's files (default `runs/<recipe stem>`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<String>,
    /// Override a recipe field: `seed=3`, `steps=50` (every stage with that
    /// setting), `rl.lr=3e-4` (one stage), `policy.width=64` (a model or task
    /// argument). Repeatable; checked like the recipe.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub set: Vec<(String, String)>,
    /// Device to train on: `cpu` (the default build's only device).
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
    /// Continue the run in DIR from its last checkpoint, with the recipe
    /// and overrides it started with (DIR/recipe.rlr).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["file", "set", "out"])]
    pub resume: Option<String>,
    /// Write a checkpoint every N steps (and at the end of every stage).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub checkpoint_every: u64,
    /// Without a terminal, print a progress line every N steps (0: never).
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

/// The files a recipe imports, by their path relative to the recipe's
/// folder; imports from outside it (`../x.rlr`) are left out.
fn imported_files(sources: &rlr_lang::source::Sources, origin: &str) -> Vec<(PathBuf, String)> {
    let folder = Path::new(origin).parent().unwrap_or(Path::new(""));
    sources
        .iter()
        .skip(1)
        .filter_map(|(_, s)| {
            let rel = Path::new(&s.name).strip_prefix(folder).ok()?;
            let inside = rel
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            inside.then(|| (rel.to_path_buf(), s.text.clone()))
        })
        .collect()
}

/// What to train: the recipe's origin, its text with overrides applied, the
/// overrides and the run directory.
struct Plan {
    origin: String,
    text: String,
    sets: Vec<(String, String)>,
    out: PathBuf,
    resume: bool,
}

/// Runs `rlr run`: exit 1 with diagnostics if the recipe (or an override)
/// is wrong, 2 if training fails, 0 when every stage finished.
pub fn run(ctx: &mut Ctx<'_>, args: &RunArgs) -> io::Result<i32> {
    if let Some(d) = args.device.as_deref().filter(|d| *d != "cpu") {
        ctx.error(
            &format!("device `{d}` is not in this build"),
            &[],
            Some("this build trains on `cpu`"),
        );
        return Ok(EXIT_INPUT);
    }
    let plan = match plan(ctx, args) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let compiled = ctx.compile_text(&plan.origin, &plan.origin, &plan.text);
    let imports = compiled
        .compilation
        .as_ref()
        .map(|c| imported_files(&c.sources, &plan.origin))
        .unwrap_or_default();
    let Some(program) = compiled.program() else {
        return Ok(EXIT_INPUT);
    };
    let folder = if plan.origin == "-" {
        PathBuf::from(".")
    } else {
        Path::new(&plan.origin)
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let read = |p: &str| {
        let path = folder.join(p);
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    // Model and tokenizer files, like data files, are relative to the recipe.
    let locate = |p: &str| folder.join(p);
    let out = plan.out.clone();
    let result = {
        let mut bar = Bar {
            stderr: &mut *ctx.stderr,
            terminal: ctx.terminal,
            every: args.progress,
            drawn: false,
        };
        let mut progress = |p: &rlr_engine::Progress<'_>| bar.step(p);
        let result = rlr_engine::run(
            &program,
            rlr_engine::RunOptions {
                out: plan.out,
                recipe: rlr_engine::RecipeText {
                    origin: plan.origin,
                    text: plan.text,
                    sets: plan.sets,
                },
                resume: plan.resume,
                checkpoint_every: args.checkpoint_every,
                stop_after: None,
                read: &read,
                locate: &locate,
                progress: &mut progress,
            },
        );
        bar.end();
        result
    };
    // The run directory replays on its own: `rlr replay DIR/recipe.rlr`
    // finds the imports beside it, at the paths the recipe names.
    if out.is_dir() {
        for (rel, text) in &imports {
            let path = out.join(rel);
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&path, text));
            if let Err(e) = written {
                ctx.status(&format!(
                    "warning: cannot save import {}: {e}",
                    path.display()
                ));
            }
        }
    }
    match result {
        Ok(summary) => {
            for (stage, accuracy) in &summary.stages {
                match accuracy {
                    Some(a) => ctx.status(&format!("stage `{stage}`: held-out accuracy {a:.4}")),
                    None => ctx.status(&format!("stage `{stage}`: done")),
                }
            }
            ctx.status(&format!("run directory: {}", out.display()));
            if let Some(rss) = rlr_engine::bench::peak_rss() {
                ctx.status(&format!(
                    "peak memory (RSS): {:.0} MiB",
                    rss as f64 / (1024.0 * 1024.0)
                ));
            }
            Ok(EXIT_OK)
        }
        Err(why) => {
            let help = format!(
                "the last checkpoint is kept: `rlr run --resume {}` continues from it",
                out.display()
            );
            let resumable = rlr_engine::checkpoint::folder(&out).is_some();
            ctx.error(&why, &[], resumable.then_some(help.as_str()));
            Ok(EXIT_FAILED)
        }
    }
}

/// Reads the recipe (or the resumed run's) and applies `--set`.
fn plan(ctx: &mut Ctx<'_>, args: &RunArgs) -> Result<Plan, i32> {
    if let Some(dir) = &args.resume {
        let dir = PathBuf::from(dir);
        let manifest = rlr_engine::Manifest::read(&dir).map_err(|e| {
            ctx.error(&format!("cannot resume: {e}"), &[], None);
            EXIT_INPUT
        })?;
        let path = dir.join("recipe.rlr");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            ctx.error(
                &format!("cannot resume: {}: {e}", path.display()),
                &[],
                None,
            );
            EXIT_INPUT
        })?;
        let sets = manifest
            .sets
            .iter()
            .filter_map(|s| parse_key_value(s).ok())
            .collect();
        return Ok(Plan {
            origin: manifest.origin,
            text,
            sets,
            out: dir,
            resume: true,
        });
    }
    let file = args.file.clone().unwrap_or_else(|| "-".into());
    let Some((_, text)) = ctx.read_input(&file) else {
        return Err(EXIT_INPUT);
    };
    let text = rlr_lang::overrides::apply(&text, &args.set).map_err(|e| {
        ctx.error(&e, &[], None);
        EXIT_INPUT
    })?;
    let out = args
        .out
        .as_ref()
        .map_or_else(|| default_out(&file), PathBuf::from);
    Ok(Plan {
        origin: file,
        text,
        sets: args.set.clone(),
        out,
        resume: false,
    })
}

/// The progress display: one line redrawn in place on a terminal, else a
/// line every `every` steps (and at the end of each stage).
struct Bar<'a> {
    stderr: &'a mut dyn Write,
    terminal: bool,
    every: u64,
    drawn: bool,
}

impl Bar<'_> {
    fn step(&mut self, p: &rlr_engine::Progress<'_>) {
        let last = p.step == p.steps;
        if !self.terminal && (self.every == 0 || (!p.step.is_multiple_of(self.every) && !last)) {
            return;
        }
        let width = 24usize;
        let filled = (p.step as usize * width) / (p.steps.max(1) as usize);
        let mut text = format!(
            "[{}/{} {}] {:>5}/{} {}{} {:.2}s/step",
            p.stage_index.0 + 1,
            p.stage_index.1,
            p.stage,
            p.step,
            p.steps,
            "#".repeat(filled),
            ".".repeat(width - filled),
            p.seconds,
        );
        for (key, label) in [
            ("loss", "loss"),
            ("reward", "reward"),
            ("kl", "kl"),
            ("eval/accuracy", "acc"),
        ] {
            if let Some(v) = p.metrics.get(key).and_then(serde_json::Value::as_f64) {
                text.push_str(&format!(" {label} {v:.3}"));
            }
        }
        // A closed stderr is not an error worth stopping training for.
        let _ = if self.terminal {
            self.drawn = !last;
            write!(
                self.stderr,
                "\r\x1b[2K{text}{}",
                if last { "\n" } else { "" }
            )
        } else {
            writeln!(self.stderr, "{text}")
        };
        let _ = self.stderr.flush();
    }

    fn end(&mut self) {
        if self.drawn {
            let _ = writeln!(self.stderr);
            self.drawn = false;
        }
    }
}
