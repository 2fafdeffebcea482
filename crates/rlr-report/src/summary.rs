//! A sweep's summary table: each point's parameters, status and final
//! metrics (the last value of each headline quantity in its run), as CSV
//! and Markdown.

use std::fmt::Write as _;

use crate::index::{escape_md, value};
use crate::metrics::Run;
use crate::series::HEADLINE;

/// One point of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct PointRow {
    /// Its index in the sweep.
    pub index: usize,
    /// Each variable and its value as written.
    pub params: Vec<(String, String)>,
    /// Its recipe file.
    pub file: String,
    /// Its run directory.
    pub run_dir: String,
    /// `done`, `failed`, ...
    pub status: String,
    /// Its metrics, when the run directory has them.
    pub run: Option<Run>,
}

/// The headline quantities any point logged: the metric columns.
pub fn columns(rows: &[PointRow]) -> Vec<&'static str> {
    HEADLINE
        .iter()
        .copied()
        .filter(|k| {
            rows.iter().any(|r| {
                r.run
                    .as_ref()
                    .is_some_and(|run| run.series.contains_key(*k))
            })
        })
        .collect()
}

/// The header and cells of every row: index, the variables, file, run,
/// status, steps, then the last value of each metric column.
fn table(rows: &[PointRow]) -> (Vec<String>, Vec<Vec<String>>) {
    let metrics = columns(rows);
    let mut header = vec!["index".to_string()];
    header.extend(
        rows.first()
            .into_iter()
            .flat_map(|r| r.params.iter().map(|(n, _)| n.clone())),
    );
    header.extend(["file", "run", "status", "steps"].map(String::from));
    header.extend(metrics.iter().map(|m| format!("final {m}")));
    let cells = rows
        .iter()
        .map(|r| {
            let mut row = vec![r.index.to_string()];
            row.extend(r.params.iter().map(|(_, v)| v.clone()));
            row.push(r.file.clone());
            row.push(r.run_dir.clone());
            row.push(r.status.clone());
            row.push(
                r.run
                    .as_ref()
                    .map(|run| run.lines.to_string())
                    .unwrap_or_default(),
            );
            for m in &metrics {
                row.push(
                    r.run
                        .as_ref()
                        .and_then(|run| run.last(m))
                        .map(value)
                        .unwrap_or_default(),
                );
            }
            row
        })
        .collect();
    (header, cells)
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The table as CSV, one line per point.
pub fn csv(rows: &[PointRow]) -> String {
    let (header, cells) = table(rows);
    let mut s = String::new();
    for row in std::iter::once(&header).chain(&cells) {
        let fields: Vec<String> = row.iter().map(|c| csv_field(c)).collect();
        let _ = writeln!(s, "{}", fields.join(","));
    }
    s
}

/// The table as a Markdown page titled `title`.
pub fn markdown(title: &str, rows: &[PointRow]) -> String {
    let (header, cells) = table(rows);
    let mut s = format!("# {}\n\n", escape_md(title));
    let line = |cells: &[String]| {
        let escaped: Vec<String> = cells.iter().map(|c| escape_md(c)).collect();
        format!("| {} |\n", escaped.join(" | "))
    };
    s.push_str(&line(&header));
    s.push('|');
    s.push_str(&"---|".repeat(header.len()));
    s.push('\n');
    for row in &cells {
        s.push_str(&line(row));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn rows_show_parameters_status_and_final_metrics() {
        let run = Run::from_text(Path::new("runs/point-0"), crate::metrics::TWO_STAGES)
            .unwrap_or_else(|e| panic!("{e}"));
        let rows = vec![
            PointRow {
                index: 0,
                params: vec![("lr".into(), "1e-3".into()), ("tag".into(), "a,b".into())],
                file: "point-0.rlr".into(),
                run_dir: "runs/point-0".into(),
                status: "done".into(),
                run: Some(run),
            },
            PointRow {
                index: 1,
                params: vec![("lr".into(), "3e-3".into()), ("tag".into(), "c".into())],
                file: "point-1.rlr".into(),
                run_dir: "runs/point-1".into(),
                status: "failed".into(),
                run: None,
            },
        ];
        assert_eq!(
            csv(&rows),
            "index,lr,tag,file,run,status,steps,final reward,final eval/accuracy,final kl,final entropy,final length,final loss\n\
             0,1e-3,\"a,b\",point-0.rlr,runs/point-0,done,4,0.75,0.5,0.01,1.1,7,0.2\n\
             1,3e-3,c,point-1.rlr,runs/point-1,failed,,,,,,,\n"
        );
        let md = markdown("sweep t", &rows);
        assert!(
            md.starts_with("# sweep t\n\n| index | lr | tag | file |"),
            "{md}"
        );
        assert!(
            md.contains("| 1 | 3e-3 | c | point-1.rlr | runs/point-1 | failed |  |"),
            "{md}"
        );
    }
}
