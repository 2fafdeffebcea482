//! # rlr-engine: the training engine on Burn
//!
//! The only crate that uses Burn. It builds the policy a recipe declares
//! (`policy.rs`: the built-in `model.rs` or a pretrained `llama.rs`) and its
//! vocabulary (`vocab.rs`: `tokenizer.rs` or `hf_tokenizer.rs`), samples
//! rollouts with a key/value cache
//! (`sample.rs`), turns the reward runtime's signals into losses
//! (`loss.rs`) and runs a recipe's stages in order (`train.rs`).
//!
//! ```text
//! ir::Program ──▶ train::run: per stage, per step
//!     task samples ──▶ sample::generate (KV cache) ──▶ rlr_reward::evaluate
//!     ──▶ loss (PPO clip, KL, aggregation) ──▶ AdamW ──▶ metrics.jsonl, rollouts.jsonl
//! ```

pub mod anchor;
pub mod backend;
pub mod bench;
pub mod branch;
pub mod checkpoint;
pub mod grad_clip;
pub mod heldout;
pub mod hf_tokenizer;
pub mod kv_cache;
pub mod llama;
pub mod loss;
pub mod manifest;
pub mod model;
pub mod pack;
pub mod policy;
pub mod probes;
pub mod progress;
pub mod round;
pub mod rundir;
pub mod sample;
pub mod settings;
#[cfg(test)]
mod testkit;
pub mod tokenizer;
pub mod train;
pub mod vocab;

pub use kv_cache::KvCache;
pub use manifest::{Manifest, RecipeText};
pub use model::{Gpt, GptSpec};
pub use policy::Policy;
pub use progress::Progress;
pub use tokenizer::CharTokenizer;
pub use train::{RunOptions, Summary, run};
pub use vocab::Vocab;
