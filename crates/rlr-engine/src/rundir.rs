//! The run directory: `metrics.jsonl` (one JSON line per step, no
//! wall-clock values, so the same recipe and seed give the same file),
//! `rollouts.jsonl` (the replay schema, `rlr_reward::replay::Row`),
//! `timings.jsonl` (wall-clock seconds and tokens/s per step),
//! `evals.jsonl` (the first held-out responses of every evaluation), the resolved
//! `recipe.rlr`, `manifest.toml` and `checkpoint/`.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rlr_reward::replay::Row;

/// An append-only log file that knows its length (checkpoints record it).
struct Log {
    name: &'static str,
    file: BufWriter<File>,
    len: u64,
}

impl Log {
    fn open(dir: &Path, name: &'static str, fresh: bool) -> Result<Log, String> {
        let path = dir.join(name);
        let file = if fresh {
            File::create(&path)
        } else {
            OpenOptions::new().append(true).create(true).open(&path)
        }
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let len = file
            .metadata()
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        Ok(Log {
            name,
            file: BufWriter::new(file),
            len,
        })
    }

    /// Appends lines and flushes, so a killed run loses at most this write.
    fn lines(&mut self, lines: &[String]) -> Result<(), String> {
        for line in lines {
            writeln!(self.file, "{line}").map_err(|e| format!("writing {}: {e}", self.name))?;
            self.len += line.len() as u64 + 1;
        }
        self.file
            .flush()
            .map_err(|e| format!("writing {}: {e}", self.name))
    }
}

/// Open writers of a run directory.
pub struct RunDir {
    path: PathBuf,
    metrics: Log,
    rollouts: Log,
    timings: Log,
    evals: Log,
}

impl RunDir {
    /// Creates (or empties) the run files in `path`, creating the folder.
    pub fn create(path: &Path) -> Result<RunDir, String> {
        Self::open(path, true)
    }

    /// Opens the run files of `path` for appending (resuming a run, after
    /// the logs were cut back to the checkpoint).
    pub fn append(path: &Path) -> Result<RunDir, String> {
        Self::open(path, false)
    }

    fn open(path: &Path, fresh: bool) -> Result<RunDir, String> {
        std::fs::create_dir_all(path)
            .map_err(|e| format!("cannot create run directory {}: {e}", path.display()))?;
        Ok(RunDir {
            path: path.to_path_buf(),
            metrics: Log::open(path, "metrics.jsonl", fresh)?,
            rollouts: Log::open(path, "rollouts.jsonl", fresh)?,
            timings: Log::open(path, "timings.jsonl", fresh)?,
            evals: Log::open(path, "evals.jsonl", fresh)?,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes written to `metrics.jsonl` and `rollouts.jsonl` so far.
    pub fn lengths(&self) -> (u64, u64) {
        (self.metrics.len, self.rollouts.len)
    }

    /// Writes a file of the run (the resolved recipe).
    pub fn write(&self, name: &str, text: &str) -> Result<(), String> {
        let path = self.path.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Appends one step's metrics line.
    pub fn metrics(&mut self, line: &serde_json::Value) -> Result<(), String> {
        self.metrics.lines(&[line.to_string()])
    }

    /// Appends one step's timings line.
    pub fn timings(&mut self, line: &serde_json::Value) -> Result<(), String> {
        self.timings.lines(&[line.to_string()])
    }

    /// Appends held-out responses, one JSON object each.
    pub fn evals(&mut self, lines: &[serde_json::Value]) -> Result<(), String> {
        let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        self.evals.lines(&lines)
    }

    /// Appends rollouts.
    pub fn rollouts(&mut self, rows: &[Row]) -> Result<(), String> {
        let lines = rows
            .iter()
            .map(|row| serde_json::to_string(row).map_err(|e| format!("encoding a rollout: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        self.rollouts.lines(&lines)
    }
}
