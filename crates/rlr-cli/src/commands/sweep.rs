//! `rlr sweep TEMPLATE`: render a templated recipe (`.rlr.j2`) at every point
//! of a grid, check every point, and write the rendered recipes. Runs arrive
//! with the training engine; until then this stops after writing (exit 2, or
//! exit 0 with `--check`).

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use clap::Args;
use rlr_lang::template::{self, Axis, Param, Random, Variant};

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
    /// How many points to train at once (not active yet: arrives with the engine).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
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
/// or check, nothing written; otherwise the points are written and the exit
/// is 2 (no engine yet), or 0 with `--check`.
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
        rendered.push(v.text.unwrap_or_default());
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
    if args.check {
        ctx.status(&done);
        Ok(EXIT_OK)
    } else {
        ctx.error(
            &format!("running sweep points is not wired to the engine yet (train one with `rlr run`); {done}"),
            &[],
            Some("`--check` stops here with exit 0"),
        );
        Ok(EXIT_FAILED)
    }
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
}
