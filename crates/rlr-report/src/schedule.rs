//! Plots of schedule bindings over their stage's steps (`rlr graph
//! --schedules`): the values come from the reward runtime; this draws them
//! and writes an index.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::chart::{Chart, Line};
use crate::error::ReportError;
use crate::index::{escape_html, escape_md, value};
use crate::report::file_stems;

/// One binding's value at each step of its stage.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// The stage.
    pub stage: String,
    /// The binding.
    pub binding: String,
    /// `(step, value)`, in step order.
    pub points: Vec<(u64, f64)>,
}

impl Trace {
    /// The chart of this trace alone.
    pub fn chart(&self) -> Chart {
        Chart {
            title: format!("{} in stage {}", self.binding, self.stage),
            x_label: format!("step of {}", self.stage),
            y_label: self.binding.clone(),
            lines: vec![Line {
                label: self.binding.clone(),
                color: 0,
                segments: vec![
                    self.points
                        .iter()
                        .filter(|(_, v)| v.is_finite())
                        .map(|(s, v)| (*s as f64, *v))
                        .collect(),
                ],
                bands: Vec::new(),
            }],
            marks: Vec::new(),
        }
    }

    /// The first, last, smallest and largest value.
    pub fn summary(&self) -> Option<[f64; 4]> {
        let first = self.points.first()?.1;
        let last = self.points.last()?.1;
        let (lo, hi) = self
            .points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| {
                (lo.min(*v), hi.max(*v))
            });
        Some([first, last, lo, hi])
    }
}

/// Writes `STAGE-BINDING.png` and `.svg` for every trace and `index.md`
/// and `index.html` (titled after `recipe`) into `out`; returns the files.
pub fn write_schedules(
    recipe: &str,
    traces: &[Trace],
    out: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out).map_err(|e| ReportError::io(out, e))?;
    let names: Vec<String> = traces
        .iter()
        .map(|t| format!("{}/{}", t.stage, t.binding))
        .collect();
    let stems = file_stems(&names);
    let mut files = Vec::new();
    for (t, stem) in traces.iter().zip(&stems) {
        let c = t.chart();
        let png = out.join(format!("{stem}.png"));
        let svg = out.join(format!("{stem}.svg"));
        crate::draw::png(&c, &png)?;
        crate::draw::svg(&c, &svg)?;
        files.push(png);
        files.push(svg);
    }
    let title = format!("Schedules of {recipe}");
    let mut md = format!(
        "# {}\n\n| stage | binding | steps | first | last | min | max |\n|---|---|---|---|---|---|---|\n",
        escape_md(&title)
    );
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:2px 8px}}img{{max-width:100%}}</style>\n</head>\n<body>\n\
         <h1>{t}</h1>\n<table>\n<tr><th>stage</th><th>binding</th><th>steps</th><th>first</th><th>last</th>\
         <th>min</th><th>max</th></tr>\n",
        t = escape_html(&title)
    );
    for t in traces {
        let cells: Vec<String> = t
            .summary()
            .map(|s| s.iter().map(|v| value(*v)).collect())
            .unwrap_or_else(|| vec![String::new(); 4]);
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            escape_md(&t.stage),
            escape_md(&t.binding),
            t.points.len(),
            cells.join(" | ")
        );
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td>",
            escape_html(&t.stage),
            escape_html(&t.binding),
            t.points.len()
        );
        for c in &cells {
            let _ = write!(html, "<td>{c}</td>");
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
    for (t, stem) in traces.iter().zip(&stems) {
        let name = format!("{} / {}", t.stage, t.binding);
        let _ = write!(
            md,
            "\n## {}\n\n![{}]({stem}.png)\n\n[SVG]({stem}.svg)\n",
            escape_md(&name),
            escape_md(&name)
        );
        let _ = writeln!(
            html,
            "<h2>{n}</h2>\n<p><img src=\"{stem}.svg\" alt=\"{n}\"><br><a href=\"{stem}.png\">PNG</a></p>",
            n = escape_html(&name)
        );
    }
    html.push_str("</body>\n</html>\n");
    for (name, text) in [("index.md", md), ("index.html", html)] {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| ReportError::io(&path, e))?;
        files.push(path);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_summarises_and_charts() {
        let t = Trace {
            stage: "rl".into(),
            binding: "alpha".into(),
            points: vec![(1, 0.5), (2, 0.25), (3, 0.0)],
        };
        assert_eq!(t.summary(), Some([0.5, 0.0, 0.0, 0.5]));
        let c = t.chart();
        assert_eq!(
            c.lines[0].segments[0],
            [(1.0, 0.5), (2.0, 0.25), (3.0, 0.0)]
        );
        // The axis starts at the first step, not 0.
        assert_eq!(c.x_range(), (1.0, 3.0));
    }
}
