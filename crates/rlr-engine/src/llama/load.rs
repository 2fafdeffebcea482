//! Building a [`Llama`] from host weights: Hugging Face names and row-major
//! `[out, in]` matrices become Burn parameters (`Linear` keeps `[in, out]`,
//! so matrices are transposed on the way).

use burn::module::Param;
use burn::nn::{Embedding, Linear, RmsNorm};
use burn::prelude::*;
use rlr_weights::Weights;

use super::{Llama, LlamaBlock};

impl Llama {
    /// The model `weights` describe, with its parameters on `device` (an
    /// autodiff device gives trainable parameters). The weights are checked
    /// against their config first: a missing, extra or mis-shaped tensor is
    /// an error naming it.
    pub fn from_weights(weights: &Weights, device: &Device) -> Result<Llama, String> {
        weights.validate().map_err(|e| e.to_string())?;
        let c = &weights.config;
        let get = |name: &str| {
            weights
                .get(name)
                .ok_or_else(|| format!("the weights have no `{name}`"))
        };
        let linear = |name: &str| -> Result<Linear, String> {
            let t = get(name)?;
            let [rows, cols] = dims2(name, &t.shape)?;
            Ok(Linear {
                weight: Param::from_data(
                    TensorData::new(transpose(&t.data, rows, cols), [cols, rows]),
                    device,
                ),
                bias: None,
            })
        };
        let norm = |name: &str| -> Result<RmsNorm, String> {
            let t = get(name)?;
            Ok(RmsNorm {
                gamma: Param::from_data(TensorData::new(t.data.clone(), [t.data.len()]), device),
                epsilon: c.rms_norm_eps,
            })
        };
        let blocks = (0..c.num_hidden_layers)
            .map(|i| {
                let p = format!("model.layers.{i}.");
                Ok(LlamaBlock {
                    input_norm: norm(&format!("{p}input_layernorm.weight"))?,
                    q: linear(&format!("{p}self_attn.q_proj.weight"))?,
                    k: linear(&format!("{p}self_attn.k_proj.weight"))?,
                    v: linear(&format!("{p}self_attn.v_proj.weight"))?,
                    o: linear(&format!("{p}self_attn.o_proj.weight"))?,
                    post_norm: norm(&format!("{p}post_attention_layernorm.weight"))?,
                    gate: linear(&format!("{p}mlp.gate_proj.weight"))?,
                    up: linear(&format!("{p}mlp.up_proj.weight"))?,
                    down: linear(&format!("{p}mlp.down_proj.weight"))?,
                    heads: c.num_attention_heads,
                    kv_heads: c.num_key_value_heads,
                    head_dim: c.head_dim,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let embed_name = "model.embed_tokens.weight";
        let e = get(embed_name)?;
        let [vocab, hidden] = dims2(embed_name, &e.shape)?;
        let embed = Embedding {
            // Embedding rows are tokens in both layouts: no transpose.
            weight: Param::from_data(TensorData::new(e.data.clone(), [vocab, hidden]), device),
        };
        let lm_head = if c.tie_word_embeddings {
            None
        } else {
            Some(linear("lm_head.weight")?)
        };
        Ok(Llama {
            embed,
            blocks,
            norm: norm("model.norm.weight")?,
            lm_head,
            rope_theta: c.rope_theta,
            head_dim: c.head_dim,
            context: c.max_position_embeddings,
        })
    }
}

fn dims2(name: &str, shape: &[usize]) -> Result<[usize; 2], String> {
    match shape {
        [r, c] => Ok([*r, *c]),
        _ => Err(format!("`{name}` has shape {shape:?}, expected a matrix")),
    }
}

/// Row-major `[rows, cols]` to row-major `[cols, rows]`.
fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    for (r, row) in data.chunks_exact(cols).enumerate().take(rows) {
        for (c, &x) in row.iter().enumerate() {
            out[c * rows + r] = x;
        }
    }
    out
}
