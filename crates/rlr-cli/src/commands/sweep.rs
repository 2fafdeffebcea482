//! `rlr sweep TEMPLATE`: render a templated recipe (`.rlr.j2`) at every point
//! of a grid, check every point, write the rendered recipes, then train each
//! point as a child `rlr run` (`--jobs N` at once) and write a summary of
//! their final metrics. `--check` stops after writing the points.
//!
//! A point's run directory is `OUT/runs/point-NNN`. After its `rlr run`
//! exits 0 the sweep writes a [`DONE`] marker there; a point whose directory
//! holds the marker and its own recipe is not run again, one with a
//! checkpoint of its own recipe is resumed (`rlr run --resume`), any other
//! starts afresh. So re-running an interrupted sweep finishes it.

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::Args;
use rlr_lang::template::{self, Axis, Param, Random, Variant};
use rlr_report::summary::{self, PointRow};

use super::{Ctx, plural};
use crate::loader::{self, FsLoader};
use crate::{EXIT_FAILED, EXIT_INPUT, EXIT_OK};

/// Arguments of `rlr sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The template (`.rlr.j2`): a recipe with minijinja placeholders.
    #[arg(value_name = "TEMPLATE")]
    pub template: String,
    /// A variable and its values, e.g. `--grid lr=1e-5,3e-5` (repeatable; the
    /// points are every combination, the last variable varying fastest).
    #[arg(long, value_name = "NAME=V1,V2,...", value_parser = Axis::parse)]
    pub grid: Vec<Axis>,
    /// A variable whose values advance together with the other `--zip`
    /// variables (repeatable; all zipped lists have the same length).
    #[arg(long, value_name = "NAME=V1,V2,...", value_parser = Axis::parse)]
    pub zip: Vec<Axis>,
    /// Sample this many points of the grid, without replacement (needs `--seed`).
    #[arg(long, value_name = "N", requires = "seed")]
    pub random: Option<usize>,
    /// Seed of `--random`'s generator.
    #[arg(long, value_name = "S", requires = "random")]
    pub seed: Option<u64>,
    /// Where to write the rendered recipes and `points.csv` (default: `sweeps/<template stem>/`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<String>,
    /// Render, check and write the points, then stop with exit 0 (no runs).
    #[arg(long)]
    pub check: bool,
    /// How many points to train at once, each an `rlr run` process.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = parse_jobs)]
    pub jobs: usize,
    /// Override a field of every rendered point, as `rlr run --set` does
    /// (`--set rl.steps=20` for a quick pass over the grid). Repeatable;
    /// the overridden points are checked, written and run.
    #[arg(long, value_name = "KEY=VALUE", value_parser = super::run::parse_key_value)]
    pub set: Vec<(String, String)>,
}

/// Parses `--jobs`: a whole number of at least 1.
fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "expected a number of processes of at least 1, found `{s}`"
        )),
    }
}

/// A template's name without `.rlr.j2` (or `.j2`, or its extension), for the default folder.
pub fn template_stem(path: &str) -> String {
    let file = Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |f| f.to_string_lossy().into_owned());
    for suffix in [".rlr.j2", ".j2", ".rlr"] {
        if let Some(stem) = file.strip_suffix(suffix)
            && !stem.is_empty()
        {
            return stem.to_string();
        }
    }
    Path::new(&file)
        .file_stem()
        .map_or(file.clone(), |s| s.to_string_lossy().into_owned())
}

/// Whether a path names a template rather than a plain recipe.
pub fn is_template(path: &str) -> bool {
    path.ends_with(".j2")
}

/// Renders and compiles one point of the template at `path` (text `text`):
/// includes come from the template's own folder, imports as for a recipe there.
pub fn compile_point(path: &str, text: &str, point: &[Param]) -> Variant {
    let folder = Path::new(path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut includes = |name: &str| {
        let file = folder.join(name);
        loader::read_recipe(&file, &file.to_string_lossy())
    };
    let mut imports = FsLoader::new();
    template::compile(path, text, point, &mut includes, &mut imports)
}

/// Runs `rlr sweep`: exit 1 (with the diagnostic) if a point does not render
/// or check, nothing written; otherwise the points are written, then (not
/// with `--check`) trained: exit 0 when every point finished, 2 if one failed.
pub fn run(ctx: &mut Ctx<'_>, args: &SweepArgs) -> io::Result<i32> {
    let random = args.random.map(|count| Random {
        count,
        seed: args.seed.unwrap_or(0),
    });
    let points = match template::points(&args.grid, &args.zip, random) {
        Ok(p) => p,
        Err(why) => {
            ctx.error(&why, &[], None);
            return Ok(EXIT_INPUT);
        }
    };
    let text = match loader::read_recipe(Path::new(&args.template), &args.template) {
        Ok(t) => t,
        Err(why) => {
            ctx.error(&why, &[], None);
            return Ok(EXIT_INPUT);
        }
    };
    // Every point renders and checks before anything is written.
    let mut rendered = Vec::with_capacity(points.len());
    for (i, point) in points.iter().enumerate() {
        let v = compile_point(&args.template, &text, point);
        let c = &v.compilation;
        ctx.diagnostics(&c.sources, &c.diagnostics);
        if c.has_errors() || v.text.is_none() {
            ctx.error(
                &format!(
                    "point {} of {} (`{}`) does not check; nothing was written",
                    i + 1,
                    points.len(),
                    v.name
                ),
                &[],
                None,
            );
            return Ok(EXIT_INPUT);
        }
        let text = v.text.unwrap_or_default();
        if args.set.is_empty() {
            rendered.push(text);
            continue;
        }
        // Overrides rewrite the rendered recipe, which is checked again
        // (ranges, names) as `rlr run --set` would.
        let what = format!("point {} of {} (`{}`)", i + 1, points.len(), v.name);
        let overridden = match rlr_lang::overrides::apply(&text, &args.set) {
            Ok(t) => t,
            Err(why) => {
                ctx.error(&format!("{what}: {why}; nothing was written"), &[], None);
                return Ok(EXIT_INPUT);
            }
        };
        if ctx
            .compile_text(&args.template, &v.name, &overridden)
            .program()
            .is_none()
        {
            ctx.error(
                &format!("{what} does not check with the `--set` overrides; nothing was written"),
                &[],
                None,
            );
            return Ok(EXIT_INPUT);
        }
        rendered.push(overridden);
    }
    let out = args.out.as_ref().map_or_else(
        || PathBuf::from("sweeps").join(template_stem(&args.template)),
        PathBuf::from,
    );
    let shown = out.to_string_lossy().into_owned();
    if let Err(e) = write_points(&out, &points, &rendered) {
        ctx.error(
            &format!("cannot write the sweep to `{shown}`: {e}"),
            &[],
            None,
        );
        return Ok(EXIT_FAILED);
    }
    let done = format!(
        "{} rendered and checked in {shown}",
        plural(points.len(), "point")
    );
    ctx.status(&done);
    if args.check {
        return Ok(EXIT_OK);
    }
    run_points(ctx, args, &out, &points, &rendered)
}

/// The marker a sweep writes into a point's run directory once `rlr run`
/// has exited 0 there (the engine writes no end-of-run file of its own).
pub const DONE: &str = "done";

/// A point's `rlr run` output (standard output and error), in its run directory.
pub const LOG: &str = "sweep.log";

/// What a point's run directory needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Todo {
    /// Its run finished: nothing.
    Done,
    /// It holds a checkpoint of this recipe: `rlr run --resume`.
    Resume,
    /// Anything else (no run, another recipe's): a fresh `rlr run`.
    Fresh,
}

/// What the run directory `dir` of a point whose recipe is `recipe` needs.
/// Only a run of the same recipe text counts: after the template changed,
/// a point starts afresh.
pub fn todo(dir: &Path, recipe: &str) -> Todo {
    let same = fs::read_to_string(dir.join("recipe.rlr")).is_ok_and(|t| t == recipe);
    if !same {
        Todo::Fresh
    } else if dir.join(DONE).is_file() {
        Todo::Done
    } else if rlr_engine::checkpoint::folder(dir).is_some() {
        Todo::Resume
    } else {
        Todo::Fresh
    }
}

/// One point to train.
struct Job {
    index: usize,
    name: String,
    recipe: PathBuf,
    dir: PathBuf,
    todo: Todo,
}

/// The `rlr` program to start for each point: this one. A test harness
/// calling [`crate::run`] in-process is not `rlr`, and starting it with
/// `run ...` would not train, so it is refused.
fn rlr_program() -> Result<PathBuf, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find this program to train the points with: {e}"))?;
    if exe.file_stem().is_some_and(|s| s == "rlr") {
        Ok(exe)
    } else {
        Err(format!(
            "cannot run the points: this program ({}) is not `rlr`",
            exe.display()
        ))
    }
}

/// Trains every point that is not done, `--jobs` at once, then writes
/// `summary.csv` and `summary.md`.
fn run_points(
    ctx: &mut Ctx<'_>,
    args: &SweepArgs,
    out: &Path,
    points: &[template::Point],
    rendered: &[String],
) -> io::Result<i32> {
    let exe = match rlr_program() {
        Ok(p) => p,
        Err(why) => {
            ctx.error(&why, &[], Some("`--check` stops after writing the points"));
            return Ok(EXIT_FAILED);
        }
    };
    let n = points.len();
    let jobs: Vec<Job> = rendered
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let file = point_file(i, n);
            let name = file.trim_end_matches(".rlr").to_string();
            let dir = out.join("runs").join(&name);
            Job {
                index: i,
                todo: todo(&dir, text),
                name,
                recipe: out.join(&file),
                dir,
            }
        })
        .collect();
    let pending: Vec<&Job> = jobs.iter().filter(|j| j.todo != Todo::Done).collect();
    let already = n - pending.len();
    if pending.is_empty() {
        ctx.status(&format!("every point is already done ({n})"));
    } else {
        let resumed = pending.iter().filter(|j| j.todo == Todo::Resume).count();
        let mut line = format!(
            "running {} ({} at a time)",
            plural(pending.len(), "point"),
            args.jobs.min(pending.len())
        );
        if resumed > 0 {
            let _ = write!(line, ", {resumed} of them resumed");
        }
        if already > 0 {
            let _ = write!(line, "; {already} already done");
        }
        ctx.status(&line);
    }
    let mut failed = std::collections::BTreeMap::new();
    let mut finished = 0;
    execute(&exe, &pending, args.jobs, |job, result, took| {
        finished += 1;
        let params = describe(&points[job.index]);
        let head = format!("[{finished}/{}] {}{params}", pending.len(), job.name);
        match result {
            Ok(()) => ctx.status(&format!("{head}: finished in {:.1} s", took.as_secs_f64())),
            Err(why) => {
                ctx.status(&format!("{head}: failed: {why}"));
                failed.insert(job.index, why);
            }
        }
    });
    let mut rows = Vec::with_capacity(n);
    for job in &jobs {
        let run = match rlr_report::Run::load(&job.dir) {
            Ok(r) => Some(r),
            Err(e) => {
                ctx.status(&format!("note: {}: {e}", job.name));
                None
            }
        };
        rows.push(PointRow {
            index: job.index,
            params: points[job.index]
                .iter()
                .map(|p| (p.name.clone(), p.text.clone()))
                .collect(),
            file: point_file(job.index, n),
            run_dir: format!("runs/{}", job.name),
            status: if failed.contains_key(&job.index) {
                "failed".into()
            } else {
                "done".into()
            },
            run,
        });
    }
    let title = format!("Sweep of {}", args.template);
    let shown = out.display();
    for (name, text) in [
        ("summary.csv", summary::csv(&rows)),
        ("summary.md", summary::markdown(&title, &rows)),
    ] {
        if let Err(e) = write_if_changed(&out.join(name), &text) {
            ctx.error(&format!("cannot write {shown}/{name}: {e}"), &[], None);
            return Ok(EXIT_FAILED);
        }
    }
    let tables = format!("{shown}/summary.csv and {shown}/summary.md");
    if failed.is_empty() {
        ctx.status(&format!("{} done; summary in {tables}", plural(n, "point")));
        Ok(EXIT_OK)
    } else {
        ctx.error(
            &format!("{} of {n} points failed; summary in {tables}", failed.len()),
            &[],
            Some("run the same command again: finished points are kept, interrupted ones resume"),
        );
        Ok(EXIT_FAILED)
    }
}

/// ` (gate=0.01, bypass=0.3)`, or nothing for a point without variables.
fn describe(point: &template::Point) -> String {
    if point.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = point
        .iter()
        .map(|p| format!("{}={}", p.name, p.text))
        .collect();
    format!(" ({})", parts.join(", "))
}

/// Runs `pending` on `jobs` worker threads, each waiting on one `rlr run`
/// child at a time; `report` is called on this thread as each one ends.
fn execute(
    exe: &Path,
    pending: &[&Job],
    jobs: usize,
    mut report: impl FnMut(&Job, Result<(), String>, Duration),
) {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(pending.len()) {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                while let Some(job) = pending.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let started = Instant::now();
                    let result = run_one(exe, job);
                    if tx.send((*job, result, started.elapsed())).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (job, result, took) in rx {
            report(job, result, took);
        }
    });
}

/// One point's `rlr run` (fresh or resumed), its output appended to its
/// log; the [`DONE`] marker once it exited 0.
fn run_one(exe: &Path, job: &Job) -> Result<(), String> {
    let fail = |what: &str, e: io::Error| format!("{what} {}: {e}", job.dir.display());
    fs::create_dir_all(&job.dir).map_err(|e| fail("cannot create", e))?;
    let log_path = job.dir.join(LOG);
    let log = match job.todo {
        Todo::Done => return Ok(()),
        Todo::Fresh => {
            // A stale marker must not outlive the run it marked.
            match fs::remove_file(job.dir.join(DONE)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(fail("cannot clear the marker in", e));
                }
                _ => {}
            }
            File::create(&log_path)
        }
        Todo::Resume => OpenOptions::new().append(true).create(true).open(&log_path),
    }
    .map_err(|e| fail("cannot write the log in", e))?;
    let err = log
        .try_clone()
        .map_err(|e| fail("cannot write the log in", e))?;
    let mut cmd = Command::new(exe);
    if job.todo == Todo::Resume {
        cmd.args(["run", "--resume"]).arg(&job.dir);
    } else {
        cmd.arg("run").arg(&job.recipe).arg("--out").arg(&job.dir);
    }
    let status = cmd
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .status()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    if !status.success() {
        let how = status
            .code()
            .map_or_else(|| "was killed".to_string(), |c| format!("exited with {c}"));
        return Err(format!(
            "`rlr run` {how} (its output: {})",
            log_path.display()
        ));
    }
    fs::write(job.dir.join(DONE), "`rlr run` exited 0\n").map_err(|e| fail("cannot mark", e))
}

/// The file name of point `i` of `n`: `point-000.rlr`, wider past 1000 points.
pub fn point_file(i: usize, n: usize) -> String {
    let width = n.saturating_sub(1).to_string().len().max(3);
    format!("point-{i:0width$}.rlr")
}

/// Writes each rendered point and `points.csv`, rewriting only what changed
/// and removing `point-*.rlr` files left by an earlier, larger sweep.
fn write_points(out: &Path, points: &[template::Point], rendered: &[String]) -> io::Result<()> {
    fs::create_dir_all(out)?;
    let n = points.len();
    let names: Vec<String> = (0..n).map(|i| point_file(i, n)).collect();
    for (name, text) in names.iter().zip(rendered) {
        write_if_changed(&out.join(name), text)?;
    }
    for entry in fs::read_dir(out)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let is_point = name
            .strip_prefix("point-")
            .and_then(|r| r.strip_suffix(".rlr"))
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        if is_point && !names.contains(&name) {
            fs::remove_file(out.join(&name))?;
        }
    }
    let mut csv = String::from("index");
    for p in points.first().into_iter().flatten() {
        let _ = write!(csv, ",{}", csv_field(&p.name));
    }
    csv.push_str(",file\n");
    for (i, (point, name)) in points.iter().zip(&names).enumerate() {
        let _ = write!(csv, "{i}");
        for p in point {
            let _ = write!(csv, ",{}", csv_field(&p.text));
        }
        let _ = writeln!(csv, ",{name}");
    }
    write_if_changed(&out.join("points.csv"), &csv)
}

fn write_if_changed(path: &Path, text: &str) -> io::Result<()> {
    if fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    fs::write(path, text)
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(template_stem("a/pearl_gate.rlr.j2"), "pearl_gate");
        assert_eq!(template_stem("x.j2"), "x");
        assert_eq!(template_stem("x.txt"), "x");
        assert_eq!(point_file(3, 6), "point-003.rlr");
        assert_eq!(point_file(3, 1001), "point-0003.rlr");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("3e-4"), "3e-4");
    }

    #[test]
    fn jobs_are_at_least_one() {
        assert_eq!(parse_jobs("2"), Ok(2));
        assert!(parse_jobs("0").is_err() && parse_jobs("x").is_err());
    }

    #[test]
    fn a_point_is_done_only_with_its_own_recipe_and_the_marker() {
        let dir = std::env::temp_dir().join(format!("rlr-sweep-todo-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(todo(&dir, "r"), Todo::Fresh);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        fs::write(dir.join("recipe.rlr"), "r").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(todo(&dir, "r"), Todo::Fresh);
        fs::write(dir.join(DONE), "").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(todo(&dir, "r"), Todo::Done);
        // The template changed since: the old run does not count.
        assert_eq!(todo(&dir, "other"), Todo::Fresh);
        let _ = fs::remove_dir_all(&dir);
    }
}
