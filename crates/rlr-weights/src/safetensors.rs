//! Hugging Face model directories: `config.json` plus one
//! `model.safetensors` holding F32, F16 or BF16 tensors, already in Hugging
//! Face names and layout (no permutation to undo).

use std::collections::BTreeMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use crate::error::{Error, Location, Result};
use crate::llama::LlamaConfig;
use crate::weights::{Tensor, Weights, check_shapes};

/// The config file of a model directory.
pub const CONFIG_FILE: &str = "config.json";
/// The weights file of a model directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// Loads `dir/config.json` and `dir/model.safetensors`. Errors name the file.
pub fn load_dir(dir: &Path) -> Result<Weights> {
    let config_path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&config_path).map_err(|e| {
        Error::new(Location::File, format!("cannot read: {e}")).in_file(&config_path)
    })?;
    let config = LlamaConfig::from_hf_json(&text).map_err(|e| e.in_file(&config_path))?;
    let path = dir.join(WEIGHTS_FILE);
    let bytes = std::fs::read(&path).map_err(|e| {
        let sharded = dir.join("model.safetensors.index.json").exists();
        let why = if sharded {
            format!("cannot read: {e} (sharded checkpoints are not supported; merge the shards into one file)")
        } else {
            format!("cannot read: {e}")
        };
        Error::new(Location::File, why).in_file(&path)
    })?;
    weights_from_safetensors(config, &bytes).map_err(|e| e.in_file(&path))
}

/// Reads a safetensors file held in memory as the weights of `config`. A
/// tied model's `lm_head.weight`, when the file has one, is dropped (the
/// embedding is the head). Names, shapes and dtypes are all checked, and
/// all problems reported at once, before anything is converted.
pub fn weights_from_safetensors(config: LlamaConfig, bytes: &[u8]) -> Result<Weights> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| Error::new(Location::File, format!("not a valid safetensors file: {e}")))?;
    let mut views: Vec<_> = st
        .iter()
        .filter(|(name, _)| !(config.tie_word_embeddings && *name == "lm_head.weight"))
        .collect();
    views.sort_by(|a, b| a.0.cmp(b.0));
    let bad: Vec<String> = views
        .iter()
        .filter(|(_, v)| !matches!(v.dtype(), Dtype::F32 | Dtype::F16 | Dtype::BF16))
        .map(|(n, v)| format!("`{n}` is {:?}", v.dtype()))
        .collect();
    if !bad.is_empty() {
        let names = views
            .iter()
            .filter(|(_, v)| !matches!(v.dtype(), Dtype::F32 | Dtype::F16 | Dtype::BF16))
            .map(|(n, _)| n.to_string())
            .collect();
        return Err(Error::new(
            Location::Tensors(names),
            format!(
                "only F32, F16 and BF16 tensors can be read:\n  {}",
                bad.join("\n  ")
            ),
        ));
    }
    check_shapes(&config, views.iter().map(|(n, v)| (*n, v.shape())))?;
    let tensors: BTreeMap<String, Tensor> = views
        .into_iter()
        .map(|(name, v)| {
            let data = to_f32(v.dtype(), v.data());
            (
                name.to_string(),
                Tensor {
                    shape: v.shape().to_vec(),
                    data,
                },
            )
        })
        .collect();
    Ok(Weights { config, tensors })
}

/// Little-endian F32, F16 or BF16 bytes as f32 (other dtypes were refused).
fn to_f32(dtype: Dtype, b: &[u8]) -> Vec<f32> {
    match dtype {
        Dtype::F32 => b
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Dtype::F16 => b
            .chunks_exact(2)
            .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        Dtype::BF16 => b
            .chunks_exact(2)
            .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        _ => Vec::new(),
    }
}
