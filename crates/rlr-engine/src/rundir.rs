//! The run directory: `metrics.jsonl` (one JSON line per step, no
//! wall-clock values, so the same recipe and seed give the same file) and
//! `rollouts.jsonl` (the replay schema, `rlr_reward::replay::Row`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rlr_reward::replay::Row;

/// Open writers of a run directory.
pub struct RunDir {
    path: PathBuf,
    metrics: BufWriter<File>,
    rollouts: BufWriter<File>,
}

impl RunDir {
    /// Creates (or empties) the run files in `path`, creating the folder.
    pub fn create(path: &Path) -> Result<RunDir, String> {
        std::fs::create_dir_all(path)
            .map_err(|e| format!("cannot create run directory {}: {e}", path.display()))?;
        let open = |name: &str| {
            let p = path.join(name);
            File::create(&p)
                .map(BufWriter::new)
                .map_err(|e| format!("cannot write {}: {e}", p.display()))
        };
        Ok(RunDir {
            path: path.to_path_buf(),
            metrics: open("metrics.jsonl")?,
            rollouts: open("rollouts.jsonl")?,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one step's metrics line.
    pub fn metrics(&mut self, line: &serde_json::Value) -> Result<(), String> {
        writeln!(self.metrics, "{line}")
            .and_then(|()| self.metrics.flush())
            .map_err(|e| format!("writing metrics.jsonl: {e}"))
    }

    /// Appends rollouts.
    pub fn rollouts(&mut self, rows: &[Row]) -> Result<(), String> {
        for row in rows {
            let line =
                serde_json::to_string(row).map_err(|e| format!("encoding a rollout: {e}"))?;
            writeln!(self.rollouts, "{line}")
                .map_err(|e| format!("writing rollouts.jsonl: {e}"))?;
        }
        self.rollouts
            .flush()
            .map_err(|e| format!("writing rollouts.jsonl: {e}"))
    }
}
