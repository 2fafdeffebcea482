//! What a running stage reports as it goes: a [`Progress`] event per step
//! for the caller to draw (the CLI's progress bar), and `timings.jsonl`,
//! where wall-clock figures live so that `metrics.jsonl` stays reproducible.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// One finished step.
pub struct Progress<'a> {
    /// The stage's name.
    pub stage: &'a str,
    /// The stage's position among the recipe's stages (0-based) and their number.
    pub stage_index: (usize, usize),
    /// Steps of the stage done (1-based) and in all.
    pub step: u64,
    /// See `step`.
    pub steps: u64,
    /// The step's metrics line (`loss`, `reward`, `eval/accuracy`, ...).
    pub metrics: &'a Value,
    /// Seconds this step took.
    pub seconds: f64,
}

/// Wall-clock time of a step's phases.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    started: Option<Instant>,
    phases: Vec<(&'static str, Duration)>,
    /// Tokens sampled this step.
    pub sampled_tokens: usize,
    /// Tokens trained on this step (forward and backward, every epoch).
    pub trained_tokens: usize,
}

impl Clock {
    /// A clock for a step that starts now.
    pub fn start() -> Clock {
        Clock {
            started: Some(Instant::now()),
            ..Clock::default()
        }
    }

    /// Runs `f`, adding its time to `phase`.
    pub fn time<T>(&mut self, phase: &'static str, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.add(phase, t.elapsed());
        out
    }

    /// Adds `d` to `phase` (for phases that are not one closure).
    pub fn add(&mut self, phase: &'static str, d: Duration) {
        match self.phases.iter_mut().find(|(p, _)| *p == phase) {
            Some((_, total)) => *total += d,
            None => self.phases.push((phase, d)),
        }
    }

    /// Seconds since the step started.
    pub fn seconds(&self) -> f64 {
        self.started.map_or(0.0, |s| s.elapsed().as_secs_f64())
    }

    /// The step's `timings.jsonl` line.
    pub fn line(&self, stage: &str, step: u64) -> Value {
        let total = self.seconds();
        let mut line = json!({ "stage": stage, "step": step, "seconds": total });
        for (phase, d) in &self.phases {
            line[format!("{phase}_seconds")] = json!(d.as_secs_f64());
        }
        let rate = |tokens: usize, phase: &str| {
            self.phases
                .iter()
                .find(|(p, _)| *p == phase)
                .map(|(_, d)| tokens as f64 / d.as_secs_f64().max(1e-9))
        };
        if self.sampled_tokens > 0 {
            line["sample_tokens_per_second"] = json!(rate(self.sampled_tokens, "sample"));
        }
        if self.trained_tokens > 0 {
            line["train_tokens_per_second"] = json!(rate(self.trained_tokens, "train"));
        }
        line
    }
}
