//! `rlr sample RECIPE`: show what a recipe's tasks look like. The recipe is
//! compiled, its declared task (or every task) is built with the recipe's
//! seed, and problems are printed to standard output as JSON lines:
//! `{"task", "split", "index", "sample": {every sample field}, "demonstration"}`,
//! and `"auxiliary": [{"prompt", "demonstration"}]` where the task teaches
//! extra prompts in SFT (`evidence_math(checklist = true)`).
//! Data files (`jsonl(path = ...)`) are read relative to the recipe's folder.

use std::io;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use rlr_lang::ast::DeclKind;
use rlr_lang::diagnostic::did_you_mean;
use rlr_tasks::{Split, Task};

use super::Ctx;
use crate::{EXIT_INPUT, EXIT_OK};

/// Arguments of `rlr sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// The recipe whose tasks to sample (`-` reads standard input; data files are then
    /// read relative to the current folder).
    #[arg(value_name = "RECIPE")]
    pub file: String,
    /// The declared task to sample (`task NAME = ...`); every task when left out.
    #[arg(long, value_name = "NAME")]
    pub task: Option<String>,
    /// Which split to draw from.
    #[arg(long, value_enum, default_value_t = SplitChoice::Train)]
    pub split: SplitChoice,
    /// How many problems to print per task.
    #[arg(short = 'n', default_value_t = 3, value_name = "N")]
    pub n: u64,
    /// The index of the first problem.
    #[arg(long = "from", default_value_t = 0, value_name = "I")]
    pub from: u64,
}

/// A split named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitChoice {
    /// The training problems.
    Train,
    /// The held-out problems.
    Heldout,
}

impl SplitChoice {
    fn split(self) -> Split {
        match self {
            SplitChoice::Train => Split::Train,
            SplitChoice::Heldout => Split::Heldout,
        }
    }

    fn name(self) -> &'static str {
        match self {
            SplitChoice::Train => "train",
            SplitChoice::Heldout => "heldout",
        }
    }
}

/// Runs `rlr sample`: JSON lines on standard output, exit 0; a recipe that does
/// not check, an unknown task or one that cannot be built is exit 1.
pub fn run(ctx: &mut Ctx<'_>, args: &SampleArgs) -> io::Result<i32> {
    let Some(program) = ctx.compile(&args.file).program() else {
        return Ok(EXIT_INPUT);
    };
    let tasks: Vec<&rlr_lang::ir::Decl> = program
        .decls
        .iter()
        .filter(|d| d.kind == DeclKind::Task)
        .collect();
    let chosen: Vec<&rlr_lang::ir::Decl> = match &args.task {
        None => tasks.clone(),
        Some(name) => match tasks.iter().find(|d| &d.name == name) {
            Some(d) => vec![*d],
            None => {
                let help = match did_you_mean(name, tasks.iter().map(|d| d.name.as_str())) {
                    Some(n) => format!("did you mean `{n}`?"),
                    None => {
                        let names: Vec<String> =
                            tasks.iter().map(|d| format!("`{}`", d.name)).collect();
                        format!("the recipe's tasks: {}", names.join(", "))
                    }
                };
                ctx.error(
                    &format!("the recipe declares no task called `{name}`"),
                    &[],
                    Some(&help),
                );
                return Ok(EXIT_INPUT);
            }
        },
    };
    if chosen.is_empty() {
        ctx.error("the recipe declares no task", &[], None);
        return Ok(EXIT_INPUT);
    }
    let folder = recipe_folder(&args.file);
    let read = |p: &str| {
        let path = folder.join(p);
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let split = args.split.split();
    for decl in chosen {
        let task = match rlr_tasks::build(decl, program.seed(), &read) {
            Ok(t) => t,
            Err(why) => {
                ctx.error(&format!("task `{}`: {why}", decl.name), &[], None);
                return Ok(EXIT_INPUT);
            }
        };
        let end = args.from.saturating_add(args.n);
        let end = task.len(split).map_or(end, |len| end.min(len));
        if end < args.from.saturating_add(args.n) {
            ctx.status(&format!(
                "task `{}` has {} {} problems",
                decl.name,
                end,
                args.split.name()
            ));
        }
        for index in args.from..end {
            ctx.out(&line(
                &decl.name,
                args.split.name(),
                index,
                task.as_ref(),
                split,
            ))?;
        }
    }
    Ok(EXIT_OK)
}

/// The folder data files are read from: the recipe's, or the current one for standard input.
fn recipe_folder(file: &str) -> PathBuf {
    if file == "-" {
        return PathBuf::from(".");
    }
    Path::new(file)
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// One JSON line, keys in a fixed order.
fn line(name: &str, split: &str, index: u64, task: &dyn Task, which: Split) -> String {
    let s = task.sample(which, index);
    let json = |v: &str| serde_json::Value::String(v.to_string()).to_string();
    let auxiliary = if s.auxiliary.is_empty() {
        String::new()
    } else {
        let items: Vec<serde_json::Value> = s
            .auxiliary
            .iter()
            .map(|a| serde_json::json!({"prompt": a.prompt, "demonstration": a.demonstration}))
            .collect();
        format!(",\"auxiliary\":{}", serde_json::Value::Array(items))
    };
    format!(
        "{{\"task\":{},\"split\":{},\"index\":{index},\"sample\":{},\"demonstration\":{}{auxiliary}}}\n",
        json(name),
        json(split),
        serde_json::Value::Object(s.fields),
        json(&s.demonstration)
    )
}
