//! The report's index page, in Markdown and HTML: the runs, their final
//! metrics per stage, and every plot.

use std::fmt::Write as _;

use crate::metrics::Run;
use crate::report::Plot;
use crate::series::HEADLINE;

/// A number in a table: four decimals, no trailing zeros.
pub fn value(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// Text safe inside a Markdown table cell.
pub fn escape_md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Text safe inside HTML.
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The headline keys any run logged: the columns of the final-metrics table.
fn columns(runs: &[Run]) -> Vec<&'static str> {
    HEADLINE
        .iter()
        .copied()
        .filter(|k| runs.iter().any(|r| r.series.contains_key(*k)))
        .collect()
}

/// One row per run and stage: its steps and the last value of each column there.
fn rows(runs: &[Run], columns: &[&str]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for run in runs {
        for (i, stage) in run.stages.iter().enumerate() {
            let mut row = vec![
                run.name.clone(),
                stage.name.clone(),
                stage.lines.to_string(),
            ];
            for key in columns {
                row.push(
                    run.series
                        .get(*key)
                        .and_then(|s| s.last_in(i))
                        .map(value)
                        .unwrap_or_default(),
                );
            }
            rows.push(row);
        }
    }
    rows
}

fn title(runs: &[Run]) -> String {
    let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
    format!("Run report: {}", names.join(", "))
}

/// The index as Markdown.
pub fn markdown(runs: &[Run], plots: &[Plot]) -> String {
    let mut s = format!(
        "# {}\n\n| run | directory | steps |\n|---|---|---|\n",
        title(runs)
    );
    for r in runs {
        let _ = writeln!(
            s,
            "| {} | `{}` | {} |",
            escape_md(&r.name),
            escape_md(&r.dir.display().to_string()),
            r.lines
        );
    }
    for r in runs {
        if let Some(why) = r.no_metrics() {
            let _ = write!(s, "\n`{}` has no metrics: {why}.\n", escape_md(&r.name));
        }
    }
    let columns = columns(runs);
    let rows = rows(runs, &columns);
    if !rows.is_empty() {
        s.push_str(
            "\n## Final metrics\n\nThe last value of each stage.\n\n| run | stage | steps |",
        );
        for c in &columns {
            let _ = write!(s, " {c} |");
        }
        s.push_str("\n|---|---|---|");
        s.push_str(&"---|".repeat(columns.len()));
        s.push('\n');
        for row in rows {
            let cells: Vec<String> = row.iter().map(|c| escape_md(c)).collect();
            let _ = writeln!(s, "| {} |", cells.join(" | "));
        }
    }
    if !plots.is_empty() {
        s.push_str("\n## Plots\n");
    }
    for p in plots {
        let _ = write!(
            s,
            "\n### {}\n\n![{}]({})\n\n[SVG]({})\n",
            p.key, p.key, p.png, p.svg
        );
    }
    s
}

/// The index as a standalone HTML page (the SVGs embedded as images).
pub fn html(runs: &[Run], plots: &[Plot]) -> String {
    let title = escape_html(&title(runs));
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left}}img{{max-width:100%}}</style>\n\
         </head>\n<body>\n<h1>{title}</h1>\n<table>\n<tr><th>run</th><th>directory</th><th>steps</th></tr>\n"
    );
    for r in runs {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            escape_html(&r.name),
            escape_html(&r.dir.display().to_string()),
            r.lines
        );
    }
    s.push_str("</table>\n");
    for r in runs {
        if let Some(why) = r.no_metrics() {
            let _ = writeln!(
                s,
                "<p><code>{}</code> has no metrics: {}.</p>",
                escape_html(&r.name),
                escape_html(why)
            );
        }
    }
    let columns = columns(runs);
    let rows = rows(runs, &columns);
    if !rows.is_empty() {
        s.push_str("<h2>Final metrics</h2>\n<p>The last value of each stage.</p>\n<table>\n<tr><th>run</th><th>stage</th><th>steps</th>");
        for c in &columns {
            let _ = write!(s, "<th>{}</th>", escape_html(c));
        }
        s.push_str("</tr>\n");
        for row in rows {
            s.push_str("<tr>");
            for c in row {
                let _ = write!(s, "<td>{}</td>", escape_html(&c));
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</table>\n");
    }
    if !plots.is_empty() {
        s.push_str("<h2>Plots</h2>\n");
    }
    for p in plots {
        let key = escape_html(&p.key);
        let _ = writeln!(
            s,
            "<h3 id=\"{}\">{key}</h3>\n<p><img src=\"{}\" alt=\"{key}\"><br><a href=\"{}\">PNG</a></p>",
            escape_html(&p.svg),
            escape_html(&p.svg),
            escape_html(&p.png)
        );
    }
    s.push_str("</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_short() {
        assert_eq!(value(0.5), "0.5");
        assert_eq!(value(0.123456), "0.1235");
        assert_eq!(value(3.0), "3");
        assert_eq!(value(-0.00001), "0");
        assert_eq!(escape_html("<a&b>"), "&lt;a&amp;b&gt;");
        assert_eq!(escape_md("a|b"), "a\\|b");
    }
}
