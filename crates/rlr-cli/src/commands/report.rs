//! `rlr report RUN...`: plots of one or more run directories' metrics (PNG
//! and SVG per quantity, the runs overlaid) and an index page listing each
//! run's final metrics.

use std::io;
use std::path::{Path, PathBuf};

use clap::Args;
use rlr_report::Run;

use super::{Ctx, plural};
use crate::{EXIT_FAILED, EXIT_INPUT, EXIT_OK};

/// Arguments of `rlr report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Run directories written by `rlr run` (their `metrics.jsonl` is read).
    #[arg(value_name = "RUN", required = true)]
    pub runs: Vec<String>,
    /// Where to write the plots and `index.md` / `index.html` (default:
    /// `RUN/report` for one run, `reports/<names joined by +>` for several).
    #[arg(long, value_name = "DIR")]
    pub out: Option<String>,
}

/// The default report folder.
fn default_out(runs: &[Run]) -> PathBuf {
    match runs {
        [one] => one.dir.join("report"),
        _ => {
            let names: Vec<String> = runs
                .iter()
                .map(|r| rlr_report::report::file_stem(&r.name))
                .collect();
            Path::new("reports").join(names.join("+"))
        }
    }
}

/// Runs `rlr report`: exit 1 if a run directory or its metrics cannot be
/// read (or no run has any), 2 if the report cannot be written, else 0.
pub fn run(ctx: &mut Ctx<'_>, args: &ReportArgs) -> io::Result<i32> {
    let mut runs = Vec::with_capacity(args.runs.len());
    for dir in &args.runs {
        match Run::load(Path::new(dir)) {
            Ok(r) => runs.push(r),
            Err(e) => {
                ctx.error(&e.to_string(), &[], None);
                return Ok(EXIT_INPUT);
            }
        }
    }
    rlr_report::metrics::disambiguate(&mut runs);
    for r in &runs {
        if let Some(why) = r.no_metrics() {
            ctx.status(&format!("note: `{}` has no metrics: {why}", r.name));
        }
    }
    if runs.iter().all(|r| r.no_metrics().is_some()) {
        ctx.error(
            "nothing to report: no run has metrics",
            &[],
            Some("`rlr run RECIPE --out DIR` writes DIR/metrics.jsonl as it trains"),
        );
        return Ok(EXIT_INPUT);
    }
    let out = args
        .out
        .as_ref()
        .map_or_else(|| default_out(&runs), PathBuf::from);
    match rlr_report::write_report(&runs, &out) {
        Ok(written) => {
            ctx.status(&format!(
                "report of {}: {} in {} (index.md, index.html)",
                plural(runs.len(), "run"),
                plural(written.plots.len(), "plot"),
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
