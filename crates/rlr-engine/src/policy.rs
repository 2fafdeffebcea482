//! The policy a recipe trains: the built-in transformer (`gpt(...)`) or a
//! pretrained Llama-architecture model (`load(...)`), as one Burn module
//! with one call convention, so that sampling, packing, training, held-out
//! evaluation, checkpoints and the benchmark never ask which it is.
//!
//! Both take `[batch, time]` ids and a `[batch, queries, keys]` mask from
//! [`attention_mask`](crate::model::attention_mask) (true = hidden), count
//! rotary positions from the first cached key, and extend a
//! [`KvCache`] when given one. Building a policy from a declaration (and
//! reading its files) is `policy/build.rs`.

use burn::prelude::*;

use crate::kv_cache::KvCache;
use crate::llama::Llama;
use crate::model::Gpt;

mod build;
mod path;
#[cfg(test)]
mod runs;
#[cfg(test)]
mod tests;

pub use build::{Built, build, declared_model};
pub use path::expand_env;

/// A trainable policy. The derive visits the variant's parameters under its
/// name (`Gpt.…`, `Llama.…`), so a checkpoint of one kind never loads into
/// the other.
#[derive(Module, Debug)]
// One per model of a run, moved a few times per step: the size difference
// costs nothing next to a forward pass, and boxing would hide the module.
#[allow(clippy::large_enum_variant)]
pub enum Policy {
    /// The built-in decoder-only transformer.
    Gpt(Gpt),
    /// A pretrained Llama-architecture model.
    Llama(Llama),
}

/// The sizes that decide a policy's cost: what `rlr bench` counts FLOPs and
/// parameters from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dims {
    /// Transformer blocks.
    pub layers: usize,
    /// Width of the residual stream.
    pub width: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (fewer than `heads` under grouped-query attention).
    pub kv_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// Hidden width of the gated MLP.
    pub hidden: usize,
    /// Vocabulary (embedding rows, logits per position).
    pub vocab: usize,
    /// Whether the output head is the embedding table.
    pub tied: bool,
    /// Longest sequence.
    pub context: usize,
}

impl Dims {
    /// Weights: per block the q, k, v, o projections, a gated MLP (three
    /// `width × hidden` matrices) and two norm scales; the embedding, a
    /// separate head when untied, and the final norm.
    pub fn parameters(&self) -> usize {
        let (q, kv) = (self.heads * self.head_dim, self.kv_heads * self.head_dim);
        let block = self.width * (2 * q + 2 * kv) + 3 * self.width * self.hidden + 2 * self.width;
        let head = if self.tied {
            0
        } else {
            self.vocab * self.width
        };
        self.layers * block + self.vocab * self.width + head + self.width
    }

    /// Forward FLOPs for one token that attends to `keys` positions: two
    /// per weight of every matmul (the head included, the embedding
    /// look-up not) plus `2·2·layers·heads·head_dim·keys` for attention's
    /// scores and mix (Kaplan et al. 2020; PaLM appendix B).
    pub fn forward_flops(&self, keys: usize) -> f64 {
        let (q, kv) = (self.heads * self.head_dim, self.kv_heads * self.head_dim);
        let block = self.width * (2 * q + 2 * kv) + 3 * self.width * self.hidden;
        let matmuls = self.layers * block + self.width * self.vocab;
        let attention = 2 * self.layers * q * keys;
        2.0 * (matmuls + attention) as f64
    }
}

impl Policy {
    /// Logits `[batch, time, vocab]` of `tokens` `[batch, time]`, attending
    /// to what `cache` holds first and appending this call's keys and values.
    pub fn forward(
        &self,
        tokens: Tensor<2, Int>,
        mask: Tensor<3, Bool>,
        cache: Option<&mut KvCache>,
    ) -> Tensor<3> {
        match self {
            Policy::Gpt(m) => m.forward(tokens, mask, cache),
            Policy::Llama(m) => m.forward(tokens, mask, cache),
        }
    }

    /// The longest sequence the model accepts.
    pub fn context(&self) -> usize {
        match self {
            Policy::Gpt(m) => m.context(),
            Policy::Llama(m) => m.context(),
        }
    }

    /// Its sizes.
    pub fn dims(&self) -> Dims {
        match self {
            Policy::Gpt(m) => m.dims(),
            Policy::Llama(m) => m.dims(),
        }
    }

    /// One line for people: the kind and its sizes.
    pub fn describe(&self) -> String {
        let d = self.dims();
        let kind = match self {
            Policy::Gpt(_) => "gpt",
            Policy::Llama(_) => "llama",
        };
        let heads = if d.kv_heads == d.heads {
            d.heads.to_string()
        } else {
            format!("{} ({} key/value)", d.heads, d.kv_heads)
        };
        format!(
            "{kind}(layers = {}, width = {}, heads = {heads}, mlp = {}, vocab = {}, context = {})",
            d.layers, d.width, d.hidden, d.vocab, d.context
        )
    }
}
