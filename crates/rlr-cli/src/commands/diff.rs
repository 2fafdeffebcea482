//! `rlr diff A B`: a semantic diff of two compiled recipes, or of the
//! recipes two runs used (a run directory holds the recipe as run, with its
//! `--set` overrides, and `manifest.toml`), plus what else the runs differ in.

use std::io;
use std::path::Path;

use clap::Args;
use rlr_lang::diff;

use rlr_engine::Manifest;

use super::Ctx;
use crate::{EXIT_INPUT, EXIT_OK};

/// Arguments of `rlr diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old recipe or run directory (`-` reads standard input).
    #[arg(value_name = "A")]
    pub a: String,
    /// The new recipe or run directory (`-` reads standard input).
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
    let (a, ma) = side(ctx, &args.a);
    let (b, mb) = side(ctx, &args.b);
    let (Some(a), Some(b)) = (a, b) else {
        return Ok(EXIT_INPUT);
    };
    let d = diff::diff(&a, &b);
    ctx.out(&d.to_string())?;
    let runs = match (&ma, &mb) {
        (Some(x), Some(y)) => run_differences(x, y),
        _ => Vec::new(),
    };
    for line in &runs {
        ctx.out(&format!("{line}\n"))?;
    }
    Ok(if args.exit_code && (!d.is_empty() || !runs.is_empty()) {
        EXIT_INPUT
    } else {
        EXIT_OK
    })
}

/// A recipe file, or a run directory's recipe as run (imports resolved from
/// where the run's recipe came from) with its manifest.
fn side(ctx: &mut Ctx<'_>, path: &str) -> (Option<rlr_lang::ir::Program>, Option<Manifest>) {
    if path == "-" || !Path::new(path).is_dir() {
        return (ctx.compile(path).program(), None);
    }
    let dir = Path::new(path);
    let manifest = match Manifest::read(dir) {
        Ok(m) => m,
        Err(e) => {
            ctx.error(
                &format!("`{path}` is a directory but not a run directory: {e}"),
                &[],
                Some("compare two recipe files, or two folders written by `rlr run`"),
            );
            return (None, None);
        }
    };
    let file = dir.join("recipe.rlr");
    let name = file.to_string_lossy().into_owned();
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            ctx.error(&format!("cannot read {name}: {e}"), &[], None);
            return (None, None);
        }
    };
    let program = ctx.compile_text(&manifest.origin, &name, &text).program();
    (program, Some(manifest))
}

/// What two runs differ in besides their recipes: overrides, backend,
/// versions and the data files they read.
fn run_differences(a: &Manifest, b: &Manifest) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |what: &str, x: &str, y: &str| {
        if x != y {
            out.push(format!("run: {what} {x} -> {y}"));
        }
    };
    field("overrides", &a.sets.join(" "), &b.sets.join(" "));
    field("backend", &a.backend, &b.backend);
    field("burn", &a.burn, &b.burn);
    field("rlr", &a.rlr, &b.rlr);
    for (file, hash) in &a.data {
        match b.data.get(file) {
            None => out.push(format!("run: data file {file} only in the first run")),
            Some(h) if h != hash => out.push(format!("run: data file {file} changed")),
            Some(_) => {}
        }
    }
    for file in b.data.keys().filter(|f| !a.data.contains_key(*f)) {
        out.push(format!("run: data file {file} only in the second run"));
    }
    out
}
