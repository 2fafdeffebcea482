//! # rlr-engine: the training engine on Burn
//!
//! The only crate that uses Burn. It builds the policy a recipe declares
//! (`model.rs`, `tokenizer.rs`), samples rollouts with a key/value cache
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
#[cfg(feature = "pretrained")]
pub mod hf_tokenizer;
#[cfg(feature = "pretrained")]
pub mod llama;
pub mod loss;
pub mod manifest;
pub mod model;
pub mod pack;
pub mod progress;
pub mod round;
pub mod rundir;
pub mod sample;
pub mod settings;
#[cfg(test)]
mod testkit;
pub mod tokenizer;
pub mod train;

pub use manifest::{Manifest, RecipeText};
pub use model::{Gpt, GptSpec, KvCache};
pub use progress::Progress;
pub use tokenizer::CharTokenizer;
pub use train::{RunOptions, Summary, run};
