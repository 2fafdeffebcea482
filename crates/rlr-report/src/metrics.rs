//! Reading a run directory's `metrics.jsonl` into its stages and series.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::ReportError;
use crate::series::{Point, Series, flatten, order};

/// The metrics file of a run directory.
pub const METRICS: &str = "metrics.jsonl";

/// One stage of a run, as its metrics show it.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// The stage's name.
    pub name: String,
    /// Where its step 0 sits on the run's x axis: the steps of the stages before it.
    pub offset: f64,
    /// Its largest logged step.
    pub last_step: u64,
    /// Lines logged for it.
    pub lines: usize,
}

/// One run directory's metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// What plots and tables call it (the directory's name by default).
    pub name: String,
    /// The run directory.
    pub dir: PathBuf,
    /// Whether `metrics.jsonl` exists (a run that has not logged a step has none).
    pub has_file: bool,
    /// Stages in the order they first appear.
    pub stages: Vec<Stage>,
    /// Every quantity, by key.
    pub series: BTreeMap<String, Series>,
    /// Lines read (steps logged).
    pub lines: usize,
}

/// One parsed line, before the x axis is known.
struct Line {
    stage: usize,
    step: u64,
    entries: Vec<crate::series::Entry>,
}

impl Run {
    /// Reads `dir/metrics.jsonl`. A directory without the file is a run with
    /// no metrics ([`Run::no_metrics`] says why); a line that is not a JSON
    /// object with a `stage` name and a whole-number `step` is an error
    /// naming the file and line. A last line without its newline that does
    /// not parse is being written by a live run and is left out.
    pub fn load(dir: &Path) -> Result<Run, ReportError> {
        if !dir.is_dir() {
            return Err(ReportError::io(dir, "not a run directory"));
        }
        let path = dir.join(METRICS);
        if !path.is_file() {
            let mut run = Run::from_text(dir, "")?;
            run.has_file = false;
            return Ok(run);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| ReportError::io(&path, e))?;
        Run::from_text(dir, &text)
    }

    /// The run in `dir` whose `metrics.jsonl` holds `text` (errors name that file).
    pub fn from_text(dir: &Path, text: &str) -> Result<Run, ReportError> {
        let path = dir.join(METRICS);
        let name = dir.file_name().map_or_else(
            || dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut run = Run {
            name,
            dir: dir.to_path_buf(),
            has_file: true,
            stages: Vec::new(),
            series: BTreeMap::new(),
            lines: 0,
        };
        let mut lines = Vec::new();
        let count = text.lines().count();
        for (i, raw) in text.lines().enumerate() {
            if raw.trim().is_empty() {
                continue;
            }
            let partial = i + 1 == count && !text.ends_with('\n');
            match run.line(raw) {
                Ok(line) => lines.push(line),
                Err(_) if partial => {}
                Err(message) => {
                    return Err(ReportError::Malformed {
                        path,
                        line: i + 1,
                        message,
                    });
                }
            }
        }
        run.lines = lines.len();
        // Stages follow one another on the x axis.
        for l in &lines {
            let s = &mut run.stages[l.stage];
            s.last_step = s.last_step.max(l.step);
            s.lines += 1;
        }
        let mut offset = 0.0;
        for s in &mut run.stages {
            s.offset = offset;
            offset += s.last_step as f64;
        }
        for l in lines {
            let x = run.stages[l.stage].offset + l.step as f64;
            for (key, y, std) in l.entries {
                let series = run.series.entry(key.clone()).or_insert_with(|| Series {
                    key,
                    points: Vec::new(),
                });
                series.points.push(Point {
                    stage: l.stage,
                    step: l.step,
                    x,
                    y,
                    std,
                });
            }
        }
        Ok(run)
    }

    /// One line: its stage (registered on first sight), step and numbers.
    fn line(&mut self, raw: &str) -> Result<Line, String> {
        let value: Value = serde_json::from_str(raw).map_err(|e| format!("not JSON: {e}"))?;
        let Value::Object(map) = value else {
            return Err("not a JSON object".into());
        };
        let stage = map
            .get("stage")
            .and_then(Value::as_str)
            .ok_or("no `stage` name")?;
        let step = map
            .get("step")
            .and_then(Value::as_u64)
            .ok_or("no `step` (a whole number)")?;
        let index = match self.stages.iter().position(|s| s.name == stage) {
            Some(i) => i,
            None => {
                self.stages.push(Stage {
                    name: stage.to_string(),
                    offset: 0.0,
                    last_step: 0,
                    lines: 0,
                });
                self.stages.len() - 1
            }
        };
        Ok(Line {
            stage: index,
            step,
            entries: flatten(&map),
        })
    }

    /// Why the run has nothing to plot, if it has nothing.
    pub fn no_metrics(&self) -> Option<&'static str> {
        if !self.has_file {
            Some("no metrics.jsonl (no step logged yet)")
        } else if self.lines == 0 {
            Some("metrics.jsonl has no steps")
        } else {
            None
        }
    }

    /// The last value of `key` in the whole run.
    pub fn last(&self, key: &str) -> Option<f64> {
        self.series.get(key).and_then(Series::last)
    }

    /// Every key, in display order ([`order`]).
    pub fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self.series.keys().map(String::as_str).collect();
        keys.sort_by_key(|k| order(k));
        keys
    }
}

/// Renames runs whose names collide to their directories as given, so
/// legends and tables tell them apart.
pub fn disambiguate(runs: &mut [Run]) {
    let names: Vec<String> = runs.iter().map(|r| r.name.clone()).collect();
    for r in runs.iter_mut() {
        if names.iter().filter(|n| **n == r.name).count() > 1 {
            r.name = r.dir.display().to_string();
        }
    }
}

#[cfg(test)]
/// Two stages as the engine writes them: SFT (no reward) then RL with
/// per-binding metrics and a held-out evaluation at the end.
pub(crate) const TWO_STAGES: &str = r#"{"stage":"warmup","step":1,"loss":2.0,"grad_norm":1.0,"length":5.0}
{"stage":"warmup","step":2,"loss":1.5,"grad_norm":0.9,"length":5.0,"eval/accuracy":0.25,"eval/length":4.0}
{"stage":"rl","step":1,"loss":0.1,"kl":0.0,"entropy":1.2,"length":6.0,"reward":0.5,"metrics":{"nodes":{"correct":{"count":6,"mean":0.5,"std":0.5,"min":0.0,"max":1.0}},"halted":0.0,"dropped":0.0,"zero_variance":[0.5]}}
{"stage":"rl","step":2,"loss":0.2,"kl":0.01,"entropy":1.1,"length":7.0,"reward":0.75,"metrics":{"nodes":{"correct":{"count":6,"mean":0.75,"std":0.25}},"halted":0.0,"dropped":0.0,"zero_variance":[0.0]},"eval/accuracy":0.5,"eval/length":4.5}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Run, ReportError> {
        Run::from_text(Path::new("a"), text)
    }

    #[test]
    fn two_stages_become_series_on_one_axis() {
        let run = parsed(TWO_STAGES).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run.lines, 4);
        let stages: Vec<(&str, f64, u64)> = run
            .stages
            .iter()
            .map(|s| (s.name.as_str(), s.offset, s.last_step))
            .collect();
        assert_eq!(stages, [("warmup", 0.0, 2), ("rl", 2.0, 2)]);
        let xy = |key: &str| -> Vec<(f64, f64)> {
            run.series[key].points.iter().map(|p| (p.x, p.y)).collect()
        };
        assert_eq!(xy("loss"), [(1.0, 2.0), (2.0, 1.5), (3.0, 0.1), (4.0, 0.2)]);
        assert_eq!(xy("reward"), [(3.0, 0.5), (4.0, 0.75)]);
        assert_eq!(xy("eval/accuracy"), [(2.0, 0.25), (4.0, 0.5)]);
        let correct = &run.series["binding/correct"].points;
        assert_eq!(
            correct
                .iter()
                .map(|p| (p.x, p.y, p.std))
                .collect::<Vec<_>>(),
            [(3.0, 0.5, Some(0.5)), (4.0, 0.75, Some(0.25))]
        );
        assert_eq!(correct[1].stage, 1);
        assert_eq!(correct[1].step, 2);
        assert_eq!(xy("metrics/zero_variance/0"), [(3.0, 0.5), (4.0, 0.0)]);
        assert_eq!(run.last("eval/accuracy"), Some(0.5));
        assert_eq!(run.series["eval/accuracy"].last_in(0), Some(0.25));
        assert_eq!(
            &run.keys()[..6],
            ["reward", "eval/accuracy", "kl", "entropy", "length", "loss"]
        );
        assert_eq!(run.keys().last(), Some(&"binding/correct"));
    }

    #[test]
    fn a_malformed_line_is_an_error_with_its_line_number() {
        let mut lines: Vec<&str> = TWO_STAGES.lines().collect();
        lines.insert(2, r#"{"stage":"rl","step":1,"loss":"#);
        let text = lines.join("\n") + "\n";
        let err = parsed(&text).err().unwrap_or_else(|| panic!("no error"));
        let shown = err.to_string();
        assert!(shown.starts_with("a/metrics.jsonl:3: not JSON"), "{shown}");
        assert!(matches!(err, ReportError::Malformed { line: 3, .. }));
        for (bad, why) in [
            ("[1, 2]", "a/metrics.jsonl:1: not a JSON object"),
            (r#"{"step": 1}"#, "a/metrics.jsonl:1: no `stage` name"),
            (
                r#"{"stage": "rl", "step": -1}"#,
                "a/metrics.jsonl:1: no `step` (a whole number)",
            ),
        ] {
            let err = parsed(&format!("{bad}\n")).err().map(|e| e.to_string());
            assert_eq!(err.as_deref(), Some(why));
        }
    }

    #[test]
    fn a_line_being_written_is_left_out_and_blank_lines_are_skipped() {
        let text = format!("\n{TWO_STAGES}{{\"stage\":\"rl\",\"st");
        let run = parsed(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run.lines, 4);
    }

    #[test]
    fn a_run_without_metrics_says_so() {
        let dir = std::env::temp_dir().join(format!("rlr-report-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let run = Run::load(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            run.no_metrics(),
            Some("no metrics.jsonl (no step logged yet)")
        );
        std::fs::write(dir.join(METRICS), "").unwrap_or_else(|e| panic!("{e}"));
        let run = Run::load(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run.no_metrics(), Some("metrics.jsonl has no steps"));
        let _ = std::fs::remove_dir_all(&dir);
        let err = Run::load(&dir).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.ends_with("not a run directory")));
    }

    #[test]
    fn colliding_names_become_paths() {
        let mut a = parsed(TWO_STAGES).unwrap_or_else(|e| panic!("{e}"));
        let mut b = a.clone();
        a.dir = PathBuf::from("x/a");
        b.dir = PathBuf::from("y/a");
        let mut runs = [a, b];
        disambiguate(&mut runs);
        assert_eq!(runs[0].name, "x/a");
        assert_eq!(runs[1].name, "y/a");
    }
}
