//! Llama-architecture GGUF files in Hugging Face form: names mapped
//! (`names`), dimensions reversed to row-major, q/k rows un-permuted (`qk`),
//! and the config read from metadata (`config`).

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Location, Result};
use crate::gguf::Gguf;
use crate::weights::{Tensor, Weights, check_shapes};

mod config;
mod names;
mod qk;

pub use config::LlamaConfig;
pub(crate) use names::expected_shapes_iter;
pub use names::{expected_shapes, hf_name};
pub use qk::{permute_qk, unpermute_qk};

/// Reads a llama GGUF file into [`Weights`].
pub fn load_gguf(path: &Path) -> Result<Weights> {
    let g = Gguf::read_file(path)?;
    weights_from_gguf(&g).map_err(|e| e.in_file(path))
}

/// Converts a parsed llama GGUF into [`Weights`]: every tensor dequantised
/// to f32 under its Hugging Face name, in row-major `[out, in]` layout, with
/// `q_proj`/`k_proj` rows un-permuted for `rotate_half` RoPE. Names and
/// shapes are all checked against the config before anything is
/// dequantised; a tensor this crate does not know is an error.
pub fn weights_from_gguf(g: &Gguf) -> Result<Weights> {
    let config = LlamaConfig::from_gguf(g)?;
    let mut unknown = Vec::new();
    let mut mapped = Vec::with_capacity(g.tensors.len());
    for info in &g.tensors {
        match hf_name(&info.name) {
            Some(hf) => mapped.push((hf, info.shape(), info)),
            None => unknown.push(info.name.clone()),
        }
    }
    if !unknown.is_empty() {
        let list = unknown
            .iter()
            .map(|n| format!("\n  `{n}`"))
            .collect::<String>();
        return Err(Error::new(
            Location::Tensors(unknown),
            format!(
                "tensors that are not part of a plain Llama model (RoPE scaling factors and biases are not supported):{list}"
            ),
        ));
    }
    check_shapes(
        &config,
        mapped.iter().map(|(n, s, _)| (n.as_str(), s.as_slice())),
    )?;
    let mut tensors = BTreeMap::new();
    for (hf, shape, info) in mapped {
        let mut data = g.dequantize(info)?;
        let cols = shape.last().copied().unwrap_or(1);
        if hf.ends_with("self_attn.q_proj.weight") {
            data = unpermute_qk(&data, config.num_attention_heads, cols);
        } else if hf.ends_with("self_attn.k_proj.weight") {
            data = unpermute_qk(&data, config.num_key_value_heads, cols);
        }
        tensors.insert(hf, Tensor { shape, data });
    }
    Ok(Weights { config, tensors })
}
