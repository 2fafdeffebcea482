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

pub mod backend;
pub mod grad_clip;
pub mod heldout;
pub mod loss;
pub mod model;
pub mod pack;
pub mod rundir;
pub mod sample;
pub mod settings;
pub mod tokenizer;
pub mod train;

pub use model::{Gpt, GptSpec, KvCache};
pub use tokenizer::CharTokenizer;
pub use train::{RunOptions, Summary, run};
