//! Tensor names: GGUF's llama names to Hugging Face's, and the full list of
//! names and shapes a config implies.

use super::LlamaConfig;

/// Per-block tensors: (GGUF suffix after `blk.N.`, Hugging Face suffix after
/// `model.layers.N.`).
const BLOCK: &[(&str, &str)] = &[
    ("attn_norm.weight", "input_layernorm.weight"),
    ("attn_q.weight", "self_attn.q_proj.weight"),
    ("attn_k.weight", "self_attn.k_proj.weight"),
    ("attn_v.weight", "self_attn.v_proj.weight"),
    ("attn_output.weight", "self_attn.o_proj.weight"),
    ("ffn_norm.weight", "post_attention_layernorm.weight"),
    ("ffn_gate.weight", "mlp.gate_proj.weight"),
    ("ffn_up.weight", "mlp.up_proj.weight"),
    ("ffn_down.weight", "mlp.down_proj.weight"),
];

/// Whole-model tensors: (GGUF name, Hugging Face name).
const GLOBAL: &[(&str, &str)] = &[
    ("token_embd.weight", "model.embed_tokens.weight"),
    ("output_norm.weight", "model.norm.weight"),
    ("output.weight", "lm_head.weight"),
];

/// The Hugging Face name of a GGUF llama tensor (`blk.3.attn_q.weight` →
/// `model.layers.3.self_attn.q_proj.weight`); `None` for a name this crate
/// does not know (such as `rope_freqs.weight`).
pub fn hf_name(gguf: &str) -> Option<String> {
    if let Some((_, hf)) = GLOBAL.iter().find(|(g, _)| *g == gguf) {
        return Some((*hf).to_string());
    }
    let rest = gguf.strip_prefix("blk.")?;
    let (n, suffix) = rest.split_once('.')?;
    // Canonical decimal only, so that two GGUF names never map to one HF name.
    let layer: usize = n.parse().ok()?;
    if layer.to_string() != n {
        return None;
    }
    let (_, hf) = BLOCK.iter().find(|(g, _)| *g == suffix)?;
    Some(format!("model.layers.{layer}.{hf}"))
}

/// Every tensor name `config` implies, with its row-major shape, in a
/// stable order (embedding, blocks in order, final norm, head if untied).
pub fn expected_shapes(config: &LlamaConfig) -> Vec<(String, Vec<usize>)> {
    expected_shapes_iter(config).collect()
}

pub(crate) fn expected_shapes_iter(
    c: &LlamaConfig,
) -> impl Iterator<Item = (String, Vec<usize>)> + '_ {
    let h = c.hidden_size;
    // Saturating: an absurd config then fails the parameter-count overflow check.
    let q = c.num_attention_heads.saturating_mul(c.head_dim);
    let kv = c.num_key_value_heads.saturating_mul(c.head_dim);
    let i = c.intermediate_size;
    let block = move |l: usize| {
        let p = format!("model.layers.{l}.");
        [
            ("input_layernorm.weight", vec![h]),
            ("self_attn.q_proj.weight", vec![q, h]),
            ("self_attn.k_proj.weight", vec![kv, h]),
            ("self_attn.v_proj.weight", vec![kv, h]),
            ("self_attn.o_proj.weight", vec![h, q]),
            ("post_attention_layernorm.weight", vec![h]),
            ("mlp.gate_proj.weight", vec![i, h]),
            ("mlp.up_proj.weight", vec![i, h]),
            ("mlp.down_proj.weight", vec![h, i]),
        ]
        .into_iter()
        .map(move |(s, shape)| (format!("{p}{s}"), shape))
    };
    let head =
        (!c.tie_word_embeddings).then(|| ("lm_head.weight".to_string(), vec![c.vocab_size, h]));
    std::iter::once((
        "model.embed_tokens.weight".to_string(),
        vec![c.vocab_size, h],
    ))
    .chain((0..c.num_hidden_layers).flat_map(block))
    .chain(std::iter::once(("model.norm.weight".to_string(), vec![h])))
    .chain(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_llama_name() {
        let cases = [
            ("token_embd.weight", "model.embed_tokens.weight"),
            ("output_norm.weight", "model.norm.weight"),
            ("output.weight", "lm_head.weight"),
            (
                "blk.0.attn_q.weight",
                "model.layers.0.self_attn.q_proj.weight",
            ),
            (
                "blk.12.attn_k.weight",
                "model.layers.12.self_attn.k_proj.weight",
            ),
            (
                "blk.1.attn_v.weight",
                "model.layers.1.self_attn.v_proj.weight",
            ),
            (
                "blk.1.attn_output.weight",
                "model.layers.1.self_attn.o_proj.weight",
            ),
            (
                "blk.29.ffn_gate.weight",
                "model.layers.29.mlp.gate_proj.weight",
            ),
            ("blk.2.ffn_up.weight", "model.layers.2.mlp.up_proj.weight"),
            (
                "blk.2.ffn_down.weight",
                "model.layers.2.mlp.down_proj.weight",
            ),
            (
                "blk.3.attn_norm.weight",
                "model.layers.3.input_layernorm.weight",
            ),
            (
                "blk.3.ffn_norm.weight",
                "model.layers.3.post_attention_layernorm.weight",
            ),
        ];
        for (g, hf) in cases {
            assert_eq!(hf_name(g).as_deref(), Some(hf), "{g}");
        }
        for g in [
            "rope_freqs.weight",
            "blk.01.attn_q.weight",
            "blk.x.attn_q.weight",
            "blk.1.attn_q.bias",
            "blk.-1.attn_q.weight",
        ] {
            assert_eq!(hf_name(g), None, "{g}");
        }
    }
}
