//! The one in-memory form every loader produces: a config and f32 tensors
//! under Hugging Face names in row-major Hugging Face layout, checked
//! against the shapes the config implies.

use std::collections::BTreeMap;

use crate::error::{Error, Location, Result};
use crate::llama::{LlamaConfig, expected_shapes_iter};

/// A dense f32 tensor, row-major (the last dimension varies fastest).
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Dimensions, slowest first (`[out, in]` for a linear layer's weight).
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values.
    pub data: Vec<f32>,
}

/// A Llama model's weights: its config and every tensor by Hugging Face name
/// (`model.embed_tokens.weight`, `model.layers.N.self_attn.q_proj.weight`,
/// …, `model.norm.weight`, and `lm_head.weight` unless tied).
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// The model's hyper-parameters.
    pub config: LlamaConfig,
    /// The tensors, by name.
    pub tensors: BTreeMap<String, Tensor>,
}

impl Weights {
    /// The tensor named `name`.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.tensors.get(name)
    }

    /// Number of parameters (values over all tensors).
    pub fn parameter_count(&self) -> usize {
        self.tensors.values().map(|t| t.data.len()).sum()
    }

    /// Checks that the tensors are exactly those the config implies, with
    /// the implied shapes, and that each holds as many values as its shape
    /// says. All problems are reported in one error.
    pub fn validate(&self) -> Result<()> {
        for (name, t) in &self.tensors {
            let n = t.shape.iter().try_fold(1usize, |p, &d| p.checked_mul(d));
            if n != Some(t.data.len()) {
                return Err(Error::tensor(
                    name,
                    format!("shape {:?} but {} values", t.shape, t.data.len()),
                ));
            }
        }
        check_shapes(
            &self.config,
            self.tensors
                .iter()
                .map(|(k, t)| (k.as_str(), t.shape.as_slice())),
        )
    }
}

/// Checks named shapes against those `config` implies: every expected name
/// present with its shape, nothing else. Reports every missing, mis-shaped
/// and unexpected name at once (location [`Location::Tensors`]).
pub fn check_shapes<'a>(
    config: &LlamaConfig,
    tensors: impl IntoIterator<Item = (&'a str, &'a [usize])>,
) -> Result<()> {
    let mut have: BTreeMap<&str, &[usize]> = tensors.into_iter().collect();
    // Refuse absurd layer counts before listing their names.
    if config.num_hidden_layers > have.len() {
        return Err(Error::key(
            "num_hidden_layers",
            format!(
                "the config has {} layers but there are only {} tensors",
                config.num_hidden_layers,
                have.len()
            ),
        ));
    }
    let mut problems = Vec::new();
    let mut names = Vec::new();
    for (name, want) in expected_shapes_iter(config) {
        match have.remove(name.as_str()) {
            None => problems.push(format!("missing `{name}` (expected shape {want:?})")),
            Some(got) if got != want.as_slice() => {
                problems.push(format!("`{name}` has shape {got:?}, expected {want:?}"));
            }
            Some(_) => continue,
        }
        names.push(name);
    }
    for (name, got) in have {
        problems.push(format!("unexpected `{name}` (shape {got:?})"));
        names.push(name.to_string());
    }
    if problems.is_empty() {
        return Ok(());
    }
    let mut message = format!(
        "{} tensor problem{} for this config:",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        message.push_str("\n  ");
        message.push_str(&p);
    }
    Err(Error::new(Location::Tensors(names), message))
}
