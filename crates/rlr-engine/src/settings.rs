//! Reading a stage's resolved settings (`ir::Stage::settings`, every default
//! filled in by the checker) into typed values, with errors that name the
//! stage and the setting.

use rlr_lang::ir::{Const, Stage};

use crate::loss::{EntropyTerms, Importance, KlEstimator, LossAgg, PolicyLoss};
use crate::sample::Sampling;

/// How a stage's KL reference moves (`kl_anchor`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Anchor {
    /// The policy as the stage started.
    Frozen,
    /// Reset to the current policy every N steps (0: never).
    Reset(u64),
    /// π_ref ← (1 − rate)·π_ref + rate·π_θ after every step.
    Ema(f64),
}

/// Typed access to one stage's settings.
pub struct Settings<'a> {
    stage: &'a Stage,
}

impl<'a> Settings<'a> {
    /// The settings of `stage`.
    pub fn of(stage: &'a Stage) -> Settings<'a> {
        Settings { stage }
    }

    fn missing(&self, name: &str, want: &str) -> String {
        format!(
            "stage `{}`: setting `{name}` should be {want}, found {:?}",
            self.stage.name,
            self.stage.settings.get(name)
        )
    }

    /// A real setting.
    pub fn real(&self, name: &str) -> Result<f64, String> {
        self.stage
            .settings
            .get(name)
            .and_then(Const::as_f64)
            .ok_or_else(|| self.missing(name, "a number"))
    }

    /// A real setting, or `default` when the stage kind has no such setting.
    pub fn real_or(&self, name: &str, default: f64) -> Result<f64, String> {
        match self.stage.settings.get(name) {
            None => Ok(default),
            Some(_) => self.real(name),
        }
    }

    /// A non-negative integer setting.
    pub fn count(&self, name: &str) -> Result<usize, String> {
        match self.stage.settings.get(name) {
            Some(Const::Int(i)) if *i >= 0 => Ok(*i as usize),
            _ => Err(self.missing(name, "a non-negative integer")),
        }
    }

    /// A non-negative integer setting, or `default` when absent.
    pub fn count_or(&self, name: &str, default: usize) -> Result<usize, String> {
        match self.stage.settings.get(name) {
            None => Ok(default),
            Some(_) => self.count(name),
        }
    }

    /// A string (choice) setting.
    pub fn text(&self, name: &str) -> Result<&'a str, String> {
        match self.stage.settings.get(name) {
            Some(Const::Str(s)) => Ok(s.as_str()),
            _ => Err(self.missing(name, "a string")),
        }
    }

    /// A pair setting such as `clip = (0.2, 0.28)`; one number sets both.
    pub fn pair(&self, name: &str) -> Result<(f64, f64), String> {
        match self.stage.settings.get(name) {
            Some(Const::Pair(a, b)) => Ok((*a, *b)),
            Some(c) => c
                .as_f64()
                .map(|x| (x, x))
                .ok_or_else(|| self.missing(name, "a pair of numbers")),
            None => Err(self.missing(name, "a pair of numbers")),
        }
    }

    /// A list of strings (`stop`).
    pub fn strings(&self, name: &str) -> Result<Vec<String>, String> {
        match self.stage.settings.get(name) {
            None => Ok(Vec::new()),
            Some(Const::List(items)) => items
                .iter()
                .map(|c| match c {
                    Const::Str(s) => Ok(s.clone()),
                    _ => Err(self.missing(name, "a list of strings")),
                })
                .collect(),
            Some(_) => Err(self.missing(name, "a list of strings")),
        }
    }

    /// The sampling settings of an RL stage.
    pub fn sampling(&self) -> Result<Sampling, String> {
        Ok(Sampling {
            temperature: self.real("temperature")?,
            top_p: self.real_or("top_p", 1.0)?,
            top_k: self.count_or("top_k", 0)?,
            max_tokens: self.count("max_tokens")?,
            stop: self.strings("stop")?,
        })
    }

    /// The clipped policy-gradient loss of an RL stage.
    pub fn policy_loss(&self) -> Result<PolicyLoss, String> {
        let (clip_low, clip_high) = self.pair("clip")?;
        Ok(PolicyLoss {
            clip_low,
            clip_high,
            dual_clip: self.real("dual_clip")?,
            // With `kl_in = "reward"` the runtime subtracts β·KL from the
            // token rewards; the loss then has no KL term of its own.
            kl: if self.kl_in_reward()? {
                0.0
            } else {
                self.real("kl")?
            },
            estimator: KlEstimator::parse(self.text("kl_estimator")?)
                .map_err(|e| format!("stage `{}`: {e}", self.stage.name))?,
            importance: match self.stage.settings.get("importance") {
                None => Importance::Token,
                Some(_) => Importance::parse(self.text("importance")?)
                    .map_err(|e| format!("stage `{}`: {e}", self.stage.name))?,
            },
            entropy: EntropyTerms {
                coef: self.real_or("entropy_coef", 0.0)?,
                band: self.pair_or("entropy_band", (0.0, 0.0))?,
                band_coef: self.pair_or("entropy_band_coef", (0.0, 0.0))?,
            },
        })
    }

    /// Whether the KL penalty goes into the token rewards (`kl_in = "reward"`, with `kl > 0`).
    pub fn kl_in_reward(&self) -> Result<bool, String> {
        Ok(match self.stage.settings.get("kl_in") {
            None => false,
            Some(_) => self.text("kl_in")? == "reward" && self.real("kl")? > 0.0,
        })
    }

    /// A pair setting, or `default` when absent.
    pub fn pair_or(&self, name: &str, default: (f64, f64)) -> Result<(f64, f64), String> {
        match self.stage.settings.get(name) {
            None => Ok(default),
            Some(_) => self.pair(name),
        }
    }

    /// The reference policy's schedule (`kl_anchor`, `anchor_every`, `anchor_rate`).
    pub fn anchor(&self) -> Result<Anchor, String> {
        let kind = match self.stage.settings.get("kl_anchor") {
            None => "frozen",
            Some(_) => self.text("kl_anchor")?,
        };
        Ok(match kind {
            "frozen" => Anchor::Frozen,
            "reset" => Anchor::Reset(self.count_or("anchor_every", 0)? as u64),
            "ema" => Anchor::Ema(self.real_or("anchor_rate", 0.01)?),
            other => {
                return Err(format!(
                    "stage `{}`: unknown kl_anchor `{other}`",
                    self.stage.name
                ));
            }
        })
    }

    /// SFT token weighting (`weighting`).
    pub fn weighting(&self) -> Result<&'a str, String> {
        self.text_or("weighting", "none")
    }

    /// A string setting, `default` when the stage does not give it.
    pub fn text_or(&self, name: &str, default: &'a str) -> Result<&'a str, String> {
        match self.stage.settings.get(name) {
            None => Ok(default),
            Some(_) => self.text(name),
        }
    }

    /// The loss aggregation of an RL stage.
    pub fn loss_agg(&self) -> Result<LossAgg, String> {
        LossAgg::parse(self.text("loss_agg")?)
            .map_err(|e| format!("stage `{}`: {e}", self.stage.name))
    }

    /// Fails, naming the setting, where the stage asks for something this
    /// engine does not do yet, so nothing is silently ignored: checked for
    /// every stage before the first one trains.
    pub fn refuse_unsupported(&self) -> Result<(), String> {
        if self.stage.branches.is_empty() {
            return Ok(());
        }
        let sampling = self.sampling()?;
        for b in &self.stage.branches {
            crate::branch::BranchPlan::of(self.stage, b, &sampling)?;
        }
        Ok(())
    }
}
