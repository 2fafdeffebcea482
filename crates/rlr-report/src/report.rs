//! A report of one or more runs: one chart per quantity, every run that
//! logged it overlaid, written as PNG and SVG beside an index page.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::chart::{Chart, Line, Mark};
use crate::error::ReportError;
use crate::metrics::Run;
use crate::series::order;

/// One written plot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plot {
    /// The quantity.
    pub key: String,
    /// The PNG's file name, in the report folder.
    pub png: String,
    /// The SVG's file name, in the report folder.
    pub svg: String,
}

/// What [`write_report`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// The plots, in display order.
    pub plots: Vec<Plot>,
    /// `index.md` and `index.html`.
    pub index: Vec<PathBuf>,
}

/// Every key any run logged, in display order.
pub fn keys(runs: &[Run]) -> Vec<String> {
    let all: BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.series.keys().map(String::as_str))
        .collect();
    let mut keys: Vec<&str> = all.into_iter().collect();
    keys.sort_by_key(|k| order(k));
    keys.into_iter().map(str::to_string).collect()
}

/// The chart of `key`: one line per run that logged it (run `i` in colour
/// `i`), broken at stage boundaries, with the std band of a binding, and
/// a mark where each stage it was logged in starts. A quantity logged in
/// one stage only (a reward binding) spans the chart, not a sliver at the
/// end of the warm-up's steps.
pub fn chart(runs: &[Run], key: &str) -> Chart {
    let mut lines = Vec::new();
    // Per run, the stages this quantity has points in.
    let mut logged_in: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); runs.len()];
    for (i, run) in runs.iter().enumerate() {
        let Some(series) = run.series.get(key) else {
            continue;
        };
        let mut line = Line {
            label: run.name.clone(),
            color: i,
            ..Line::default()
        };
        let mut stage = None;
        for p in &series.points {
            logged_in[i].insert(p.stage);
            // A new stage starts a new segment (and band).
            if stage != Some(p.stage) {
                stage = Some(p.stage);
                line.segments.push(Vec::new());
                line.bands.push(Vec::new());
            }
            if let Some(seg) = line.segments.last_mut() {
                seg.push((p.x, p.y));
            }
            if let (Some(std), Some(band)) = (p.std, line.bands.last_mut()) {
                band.push((p.x, p.y - std, p.y + std));
            }
        }
        line.bands.retain(|b| !b.is_empty());
        lines.push(line);
    }
    let mut marks: Vec<Mark> = Vec::new();
    for (run, logged) in runs.iter().zip(&logged_in) {
        for s in logged.iter().filter_map(|k| run.stages.get(*k)) {
            if !marks.iter().any(|m| m.x == s.offset && m.label == s.name) {
                marks.push(Mark {
                    x: s.offset,
                    label: s.name.clone(),
                    line: s.offset > 0.0,
                });
            }
        }
    }
    let staged = runs.iter().any(|r| r.stages.len() > 1);
    let (title, y_label) = match key.strip_prefix("binding/") {
        Some(name) => (
            format!("binding {name} (mean ± std over the batch)"),
            format!("{name} (mean)"),
        ),
        None => (key.to_string(), key.to_string()),
    };
    Chart {
        title,
        x_label: if staged {
            "step (stages one after another)".into()
        } else {
            "step".into()
        },
        y_label,
        lines,
        marks,
    }
}

/// A file name for a key: `/` becomes `-`, anything but letters, digits,
/// `.`, `_` and `-` becomes `_`.
pub fn file_stem(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            '/' => '-',
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') => c,
            _ => '_',
        })
        .collect()
}

/// File stems for `keys`, made distinct (`a/b` and `a-b` would collide).
pub fn file_stems(keys: &[String]) -> Vec<String> {
    let mut used = BTreeSet::new();
    keys.iter()
        .map(|k| {
            let base = file_stem(k);
            let mut stem = base.clone();
            let mut n = 2;
            while !used.insert(stem.clone()) {
                stem = format!("{base}-{n}");
                n += 1;
            }
            stem
        })
        .collect()
}

/// Writes a PNG and an SVG per quantity and `index.md` / `index.html`
/// into `out` (created if needed).
pub fn write_report(runs: &[Run], out: &Path) -> Result<Written, ReportError> {
    std::fs::create_dir_all(out).map_err(|e| ReportError::io(out, e))?;
    let keys = keys(runs);
    let mut plots = Vec::with_capacity(keys.len());
    for (key, stem) in keys.iter().zip(file_stems(&keys)) {
        let c = chart(runs, key);
        let plot = Plot {
            key: key.clone(),
            png: format!("{stem}.png"),
            svg: format!("{stem}.svg"),
        };
        crate::draw::png(&c, &out.join(&plot.png))?;
        crate::draw::svg(&c, &out.join(&plot.svg))?;
        plots.push(plot);
    }
    let mut index = Vec::new();
    for (name, text) in [
        ("index.md", crate::index::markdown(runs, &plots)),
        ("index.html", crate::index::html(runs, &plots)),
    ] {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| ReportError::io(&path, e))?;
        index.push(path);
    }
    Ok(Written { plots, index })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_safe_and_distinct() {
        let keys: Vec<String> = ["eval/accuracy", "eval-accuracy", "binding/a b"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            file_stems(&keys),
            ["eval-accuracy", "eval-accuracy-2", "binding-a_b"]
        );
    }

    #[test]
    fn a_quantity_of_one_stage_spans_its_chart_and_marks_only_that_stage() {
        let run = Run::from_text(Path::new("a"), crate::metrics::TWO_STAGES)
            .unwrap_or_else(|e| panic!("{e}"));
        // `correct` is logged in `rl` only (steps 3 and 4 of the run's axis).
        let c = chart(std::slice::from_ref(&run), "binding/correct");
        let marks: Vec<(&str, f64)> = c.marks.iter().map(|m| (m.label.as_str(), m.x)).collect();
        assert_eq!(marks, [("rl", 2.0)]);
        assert_eq!(c.x_range(), (2.0, 4.0));
        // Held-out accuracy is logged in both: both marks, from 0.
        let c = chart(std::slice::from_ref(&run), "eval/accuracy");
        assert_eq!(c.marks.len(), 2);
        assert_eq!(c.x_range(), (0.0, 4.0));
    }

    #[test]
    fn a_report_of_two_runs_has_every_plot_and_an_index() {
        let base = std::env::temp_dir().join(format!("rlr-report-two-{}", std::process::id()));
        let mut runs = Vec::new();
        for name in ["run-a", "run-b"] {
            let dir = base.join(name);
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
            let text = crate::metrics::TWO_STAGES
                .replace("0.75", if name == "run-a" { "0.75" } else { "0.6" });
            std::fs::write(dir.join("metrics.jsonl"), text).unwrap_or_else(|e| panic!("{e}"));
            runs.push(Run::load(&dir).unwrap_or_else(|e| panic!("{e}")));
        }
        let out = base.join("report");
        let written = write_report(&runs, &out).unwrap_or_else(|e| panic!("{e}"));
        let keys: Vec<&str> = written.plots.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(&keys[..3], ["reward", "eval/accuracy", "kl"]);
        assert!(keys.contains(&"binding/correct") && keys.contains(&"grad_norm"));
        for p in &written.plots {
            assert!(
                out.join(&p.png).is_file() && out.join(&p.svg).is_file(),
                "{}",
                p.key
            );
        }
        let svg = std::fs::read_to_string(out.join("reward.svg")).unwrap_or_else(|e| panic!("{e}"));
        let texts = crate::draw::svg_texts(&svg);
        assert!(
            texts.iter().any(|t| t == "run-a") && texts.iter().any(|t| t == "run-b"),
            "{texts:?}"
        );
        let md = std::fs::read_to_string(out.join("index.md")).unwrap_or_else(|e| panic!("{e}"));
        assert!(md.starts_with("# Run report: run-a, run-b\n"), "{md}");
        assert!(
            md.contains(
                "| run | stage | steps | reward | eval/accuracy | kl | entropy | length | loss |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| run-a | warmup | 2 |  | 0.25 |  |  | 5 | 1.5 |"),
            "{md}"
        );
        assert!(
            md.contains("| run-b | rl | 2 | 0.6 | 0.5 | 0.01 | 1.1 | 7 | 0.2 |"),
            "{md}"
        );
        assert!(md.contains("![eval/accuracy](eval-accuracy.png)"), "{md}");
        let html =
            std::fs::read_to_string(out.join("index.html")).unwrap_or_else(|e| panic!("{e}"));
        assert!(html.contains("<img src=\"binding-correct.svg\""), "{html}");
        let _ = std::fs::remove_dir_all(&base);
    }
}
