//! The input of one evaluation: a batch of groups of rollouts, as the engine
//! produces them and as `rollouts.jsonl` stores them (see the book's replay
//! chapter for the file schema).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One generated response and what the engine measured on it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    /// The decoded response (all assistant turns and tool outputs, in order).
    pub text: String,
    /// Token ids of the response, if known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<u32>,
    /// Byte offset in `text` where each token starts. When absent, each
    /// character is one token (the built-in character tokenizer). Offsets
    /// never decrease; a token that adds no character of its own (the
    /// first bytes of one that the next token completes) starts where the
    /// next one does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offsets: Vec<usize>,
    /// Log-probability of each token under the policy that sampled it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logprob: Vec<f64>,
    /// Log-probability of each token under the reference model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ref_logprob: Vec<f64>,
    /// Entropy of the policy's next-token distribution at each token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entropy: Vec<f64>,
    /// Whether each token was inserted by a tool rather than generated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool: Vec<bool>,
    /// Whether generation stopped at the token limit.
    #[serde(default)]
    pub truncated: bool,
}

impl Rollout {
    /// A rollout of `text` with one token per character.
    pub fn from_text(text: &str) -> Rollout {
        Rollout {
            text: text.to_string(),
            ..Rollout::default()
        }
    }

    /// Number of tokens (generated and tool-inserted).
    pub fn token_count(&self) -> usize {
        if !self.offsets.is_empty() {
            self.offsets.len()
        } else if !self.tokens.is_empty() {
            self.tokens.len()
        } else {
            self.text.chars().count()
        }
    }

    /// Byte offset where each token starts.
    pub fn token_offsets(&self) -> Vec<usize> {
        if !self.offsets.is_empty() {
            self.offsets.clone()
        } else {
            self.text
                .char_indices()
                .map(|(i, _)| i)
                .take(self.token_count())
                .collect()
        }
    }

    /// The token that contains byte `offset` of the text: the last one
    /// starting at or before it (the last token for offsets past the end).
    pub fn token_at(&self, offset: usize) -> usize {
        let offsets = self.token_offsets();
        offsets.partition_point(|&o| o <= offset).saturating_sub(1)
    }
}

/// One prompt: its task record and its rollouts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// The task's fields for this prompt (`sample.answer`, ...).
    pub sample: serde_json::Map<String, serde_json::Value>,
    /// The main rollouts.
    pub rollouts: Vec<Rollout>,
    /// Rollouts of auxiliary branches, by branch name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub branches: BTreeMap<String, Vec<Rollout>>,
}

/// A training step's rollouts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// The step, 1-based.
    pub step: u64,
    /// The stage's total steps.
    pub steps: u64,
    /// The groups.
    pub groups: Vec<Group>,
}
