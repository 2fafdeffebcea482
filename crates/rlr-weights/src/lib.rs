//! # rlr-weights: pretrained Llama weights in one in-memory form
//!
//! Two sources, one result. A GGUF file (llama.cpp's format: metadata,
//! tensor table, F32/F16/BF16/Q8_0/Q4_1 data) or a Hugging Face model
//! directory (`config.json` + `model.safetensors` in F32/F16/BF16) becomes
//! [`Weights`]: a [`LlamaConfig`] and f32 [`Tensor`]s under Hugging Face
//! names in Hugging Face layout, checked against the shapes the config
//! implies. The training engine turns that into a model; this crate knows
//! nothing of Burn.
//!
//! ```text
//! model.gguf ──gguf::Gguf──▶ llama::weights_from_gguf ──▶ Weights { config, tensors }
//!            └─────────────▶ vocab::Vocab ──▶ tokenizer.json text, chat template, bos/eos
//! dir/config.json + dir/model.safetensors ──safetensors::load_dir──▶ Weights
//! ```
//!
//! Input is untrusted: every malformed file is an [`Error`] naming the byte
//! offset, key or tensor and what was expected; counts and lengths are
//! checked against the file's size before anything is allocated for them.

mod error;
pub mod gguf;
pub mod llama;
pub mod safetensors;
pub mod vocab;
mod weights;

pub use error::{Error, Location, Result};
pub use llama::LlamaConfig;
pub use weights::{Tensor, Weights, check_shapes};
