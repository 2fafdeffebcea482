//! `manifest.toml`: what a run was, so that it can be reproduced and
//! resumed: the recipe's hash (of the resolved text, `--set` applied), the
//! overrides, the seed, the backend, the crate versions and a hash of every
//! data file the tasks read and every model file the models were built from.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The recipe as the command line gave it.
#[derive(Clone, Debug, Default)]
pub struct RecipeText {
    /// Where it came from (a path, or `<stdin>`).
    pub origin: String,
    /// The text that was compiled (overrides applied).
    pub text: String,
    /// The `--set` overrides, as given.
    pub sets: Vec<(String, String)>,
}

/// The contents of `manifest.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// rlr's version.
    pub rlr: String,
    /// The recipe's name (`recipe "GRPO"`).
    pub recipe: String,
    /// Where the recipe came from.
    pub origin: String,
    /// SHA-256 of the resolved recipe text (saved beside as `recipe.rlr`).
    pub recipe_sha256: String,
    /// The overrides, `KEY=VALUE`.
    pub sets: Vec<String>,
    /// The recipe's seed.
    pub seed: u64,
    /// The Burn backend.
    pub backend: String,
    /// Burn's version.
    pub burn: String,
    /// SHA-256 of each data file read by a task, by the path the recipe
    /// names, and of each model or tokenizer file read, by
    /// `model NAME: PATH` (the path as written, `$VARIABLE`s unexpanded).
    pub data: BTreeMap<String, String>,
}

/// Hex SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Manifest {
    /// The manifest of a run of `program` compiled from `recipe`.
    pub fn new(
        program: &rlr_lang::ir::Program,
        recipe: &RecipeText,
        data: BTreeMap<String, String>,
    ) -> Manifest {
        Manifest {
            rlr: env!("CARGO_PKG_VERSION").to_string(),
            recipe: program.name.clone(),
            origin: recipe.origin.clone(),
            recipe_sha256: sha256(recipe.text.as_bytes()),
            sets: recipe
                .sets
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            seed: program.seed(),
            backend: crate::backend::NAME.to_string(),
            burn: crate::backend::BURN_VERSION.to_string(),
            data,
        }
    }

    /// Writes `manifest.toml` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), String> {
        let text = toml::to_string(self).map_err(|e| format!("encoding manifest.toml: {e}"))?;
        let path = dir.join("manifest.toml");
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Reads `manifest.toml` from `dir`.
    pub fn read(dir: &Path) -> Result<Manifest, String> {
        let path = dir.join("manifest.toml");
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{} is not an rlr manifest: {e}", path.display()))
    }

    /// Why a run with manifest `self` cannot continue the run that wrote
    /// `before`, if it cannot.
    pub fn mismatch(&self, before: &Manifest) -> Option<String> {
        let pairs = [
            (
                "recipe (its resolved text)",
                &self.recipe_sha256,
                &before.recipe_sha256,
            ),
            ("backend", &self.backend, &before.backend),
            ("Burn version", &self.burn, &before.burn),
        ];
        for (what, now, then) in pairs {
            if now != then {
                return Some(format!(
                    "the {what} changed since the run started ({then} then, {now} now)"
                ));
            }
        }
        if self.data != before.data {
            // Name the first file that differs (data files by path, model
            // files by model and path).
            let changed = self
                .data
                .iter()
                .find(|(k, v)| before.data.get(*k) != Some(*v))
                .map(|(k, _)| k)
                .or_else(|| before.data.keys().find(|k| !self.data.contains_key(*k)));
            return Some(match changed {
                Some(k) => format!("a data or model file changed since the run started ({k})"),
                None => "a data file changed since the run started".to_string(),
            });
        }
        None
    }
}
