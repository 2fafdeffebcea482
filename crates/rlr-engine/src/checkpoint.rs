//! Checkpoints: everything a run needs to continue exactly where it was.
//!
//! A checkpoint is the folder `checkpoint/` of the run directory:
//! `position.json` (stage, step, optimiser updates, task counters, the
//! sampler's RNG position, the reward graph's state, the byte lengths of
//! `metrics.jsonl` and `rollouts.jsonl` at that moment), one Burn record per
//! model (`model-NAME.bpk`), the current stage's frozen reference
//! (`reference.bpk`) and the optimiser (`optimizer.bpk`).
//!
//! Writing is atomic: the new checkpoint is written to `checkpoint.new/`,
//! then swapped in by two renames, so a run killed at any moment leaves a
//! complete `checkpoint/` or `checkpoint.old/`. On resume the log files are
//! cut back to the recorded lengths: the steps after the checkpoint are run
//! again and produce the same lines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::store::ModuleRecord;
use serde::{Deserialize, Serialize};

use crate::policy::Policy;

/// The folder names inside a run directory.
const CURRENT: &str = "checkpoint";
const NEW: &str = "checkpoint.new";
const OLD: &str = "checkpoint.old";

/// Where a run stood at a checkpoint (`position.json`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// The recipe's hash: a checkpoint resumes only the run that wrote it.
    pub recipe_hash: String,
    /// Index of the stage in progress.
    pub stage: usize,
    /// Its name (for messages).
    pub stage_name: String,
    /// Steps of that stage completed.
    pub step: u64,
    /// Optimiser updates in that stage (the learning-rate warm-up counts them).
    pub updates: u64,
    /// Held-out accuracy of the stage's last evaluation (`None` before one).
    pub accuracy: Option<f64>,
    /// Stages finished before it, with their final held-out accuracy.
    pub finished: Vec<(String, Option<f64>)>,
    /// Next train problem of each task.
    pub next: BTreeMap<String, u64>,
    /// The sampler's ChaCha word position (a `u128` as text: JSON numbers are `f64`).
    pub rng_word_pos: String,
    /// The reward graph's state (running statistics, anchors).
    pub reward_state: rlr_reward::State,
    /// Bytes of `metrics.jsonl` and `rollouts.jsonl` written at this point.
    pub metrics_bytes: u64,
    /// See `metrics_bytes`.
    pub rollouts_bytes: u64,
}

/// What a checkpoint holds besides its position.
pub struct Saved<'a> {
    /// Every model by name, the one being trained included.
    pub models: Vec<(&'a str, &'a Policy)>,
    /// The current stage's frozen reference policy, if it has one.
    pub reference: Option<&'a Policy>,
    /// The current stage's optimiser.
    pub optimizer: Option<&'a ModuleOptimizer>,
}

/// A checkpoint read back.
pub struct Loaded {
    /// Where the run stood.
    pub position: Position,
    /// Model records by name.
    pub models: BTreeMap<String, ModuleRecord>,
    /// The reference's record.
    pub reference: Option<ModuleRecord>,
    /// The optimiser's state.
    pub optimizer: Option<OptimizerRecord>,
}

fn model_file(name: &str) -> String {
    format!("model-{name}.bpk")
}

/// Writes a checkpoint into `run` atomically.
pub fn save(run: &Path, position: &Position, saved: &Saved<'_>) -> Result<(), String> {
    let new = run.join(NEW);
    if new.exists() {
        std::fs::remove_dir_all(&new).map_err(|e| io_err(&new, e))?;
    }
    std::fs::create_dir_all(&new).map_err(|e| io_err(&new, e))?;
    for (name, model) in &saved.models {
        let path = new.join(model_file(name));
        (*model)
            .clone()
            .into_record()
            .save(&path)
            .map_err(|e| format!("saving {}: {e}", path.display()))?;
    }
    if let Some(r) = saved.reference {
        let path = new.join("reference.bpk");
        r.clone()
            .into_record()
            .save(&path)
            .map_err(|e| format!("saving {}: {e}", path.display()))?;
    }
    if let Some(o) = saved.optimizer {
        let path = new.join("optimizer.bpk");
        o.to_record()
            .save(&path)
            .map_err(|e| format!("saving {}: {e}", path.display()))?;
    }
    let text = serde_json::to_string_pretty(position)
        .map_err(|e| format!("encoding the checkpoint position: {e}"))?;
    let path = new.join("position.json");
    std::fs::write(&path, text).map_err(|e| io_err(&path, e))?;
    // Swap: current -> old, new -> current, drop old. A kill between the
    // renames leaves `checkpoint.old/` complete, which `load` falls back to.
    let current = run.join(CURRENT);
    let old = run.join(OLD);
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| io_err(&old, e))?;
    }
    if current.exists() {
        std::fs::rename(&current, &old).map_err(|e| io_err(&current, e))?;
    }
    std::fs::rename(&new, &current).map_err(|e| io_err(&new, e))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| io_err(&old, e))?;
    }
    Ok(())
}

/// The checkpoint folder to resume from: `checkpoint/`, or `checkpoint.old/`
/// when a kill came between the two renames of [`save`].
pub fn folder(run: &Path) -> Option<PathBuf> {
    [CURRENT, OLD]
        .iter()
        .map(|n| run.join(n))
        .find(|p| p.join("position.json").is_file())
}

/// Reads the checkpoint of `run`.
pub fn load(run: &Path) -> Result<Loaded, String> {
    let dir = folder(run).ok_or_else(|| {
        format!(
            "{} has no checkpoint to resume from (no {CURRENT}/position.json)",
            run.display()
        )
    })?;
    let path = dir.join("position.json");
    let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
    let position: Position = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a checkpoint position: {e}", path.display()))?;
    let mut models = BTreeMap::new();
    let entries = std::fs::read_dir(&dir).map_err(|e| io_err(&dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_err(&dir, e))?;
        let file = entry.file_name().to_string_lossy().into_owned();
        if let Some(name) = file
            .strip_prefix("model-")
            .and_then(|f| f.strip_suffix(".bpk"))
        {
            models.insert(name.to_string(), record(&entry.path())?);
        }
    }
    let reference = dir.join("reference.bpk");
    let reference = reference
        .is_file()
        .then(|| record(&reference))
        .transpose()?;
    let optimizer = dir.join("optimizer.bpk");
    let optimizer = if optimizer.is_file() {
        Some(
            OptimizerRecord::load(&optimizer)
                .map_err(|e| format!("reading {}: {e}", optimizer.display()))?,
        )
    } else {
        None
    };
    Ok(Loaded {
        position,
        models,
        reference,
        optimizer,
    })
}

fn record(path: &Path) -> Result<ModuleRecord, String> {
    ModuleRecord::load(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

/// `model` with the weights of `record` (same architecture), checked.
pub fn restore(model: Policy, record: ModuleRecord, what: &str) -> Result<Policy, String> {
    model
        .try_load_record(record)
        .map_err(|e| format!("the checkpoint's {what} does not fit the recipe's model: {e}"))
}

/// Removes the checkpoints of an earlier run in `run` (a fresh run there).
pub fn remove(run: &Path) -> Result<(), String> {
    for name in [CURRENT, NEW, OLD] {
        let p = run.join(name);
        if p.exists() {
            std::fs::remove_dir_all(&p).map_err(|e| io_err(&p, e))?;
        }
    }
    Ok(())
}

/// Cuts `path` back to `len` bytes (the steps after a checkpoint are redone).
pub fn truncate(path: &Path, len: u64) -> Result<(), String> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| io_err(path, e))?;
    let have = file.metadata().map_err(|e| io_err(path, e))?.len();
    if have < len {
        return Err(format!(
            "{} is shorter ({have} bytes) than the checkpoint recorded ({len}): the run directory was changed",
            path.display()
        ));
    }
    file.set_len(len).map_err(|e| io_err(path, e))
}

fn io_err(path: &Path, e: std::io::Error) -> String {
    format!("{}: {e}", path.display())
}
