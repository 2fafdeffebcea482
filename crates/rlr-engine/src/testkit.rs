//! Helpers the engine's tests share: token batches, logit differences, a
//! tiny random Llama, and a tiny byte-level BPE vocabulary.

use std::collections::BTreeMap;

use burn::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rlr_weights::vocab::{TOKEN_CONTROL, TOKEN_NORMAL, Vocab};
use rlr_weights::{LlamaConfig, Tensor as HostTensor, Weights};

/// A `[rows, time]` batch of token ids (every row the same length).
pub(crate) fn tokens(rows: &[Vec<i64>], device: &Device) -> Tensor<2, Int> {
    let t = rows[0].len();
    let flat: Vec<i64> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), t]), device)
}

/// The largest absolute difference between two logit tensors.
pub(crate) fn max_abs_diff(a: Tensor<3>, b: Tensor<3>) -> f32 {
    (a - b)
        .abs()
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap_or_else(|e| panic!("{e:?}"))
        .into_iter()
        .fold(0.0, f32::max)
}

/// A tiny Llama config: 4 query heads over 2 key/value heads, head width 8
/// (not width / heads), tied or not.
pub(crate) fn tiny_llama_config(tied: bool) -> LlamaConfig {
    LlamaConfig {
        vocab_size: 37,
        hidden_size: 24,
        intermediate_size: 40,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        // Not hidden / heads: the attention width (32) differs from the model's (24).
        head_dim: 8,
        rope_theta: 10_000.0,
        rms_norm_eps: 1e-5,
        max_position_embeddings: 64,
        tie_word_embeddings: tied,
        bos_token_id: Some(1),
        eos_token_id: Some(2),
    }
}

/// Random weights of every tensor `config` implies; norms near 1.
pub(crate) fn random_weights(config: LlamaConfig, seed: u64) -> Weights {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let tensors: BTreeMap<String, HostTensor> = rlr_weights::llama::expected_shapes(&config)
        .into_iter()
        .map(|(name, shape)| {
            let n = shape.iter().product();
            let norm = name.ends_with("norm.weight");
            let data = (0..n)
                .map(|_| {
                    let u: f32 = rng.random_range(-1.0..1.0);
                    if norm { 1.0 + 0.2 * u } else { 0.3 * u }
                })
                .collect();
            (name, HostTensor { shape, data })
        })
        .collect();
    Weights { config, tensors }
}

/// The tiny BPE vocabulary's special tokens (ids 0, 1, 2).
const TINY_SPECIALS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
/// Its merges: `hello world` is `hell o Ġw o r l d`.
const TINY_MERGES: [&str; 4] = ["h e", "l l", "he ll", "Ġ w"];
/// A ChatML-like template over the tiny vocabulary.
pub(crate) const TINY_TEMPLATE: &str = "{% for m in messages %}{{ bos_token }}{{ m.role }}\n{{ m.content }}{{ eos_token }}\n{% endfor %}{% if add_generation_prompt %}{{ bos_token }}assistant\n{% endif %}";

/// GPT-2's byte-to-character map: printable bytes as themselves, the rest
/// shifted above 255, so every byte is one visible character.
fn byte_chars() -> Vec<char> {
    let printable =
        |b: u32| (33..=126).contains(&b) || (161..=172).contains(&b) || (174..=255).contains(&b);
    let mut shifted = 0;
    (0u32..256)
        .map(|b| {
            if printable(b) {
                char::from_u32(b).unwrap_or('?')
            } else {
                shifted += 1;
                char::from_u32(255 + shifted).unwrap_or('?')
            }
        })
        .collect()
}

/// A tiny byte-level BPE vocabulary in GGUF form (rlr-weights rebuilds a
/// tokenizer.json from it). Ids: 0–2 special (`<|endoftext|>`,
/// `<|im_start|>` = BOS, `<|im_end|>` = EOS), then the 256 byte characters,
/// then one per merge.
pub(crate) fn tiny_bpe() -> Vocab {
    let mut tokens: Vec<String> = TINY_SPECIALS.iter().map(|s| s.to_string()).collect();
    tokens.extend(byte_chars().into_iter().map(String::from));
    tokens.extend(TINY_MERGES.iter().map(|m| m.replace(' ', "")));
    let mut token_types = vec![TOKEN_CONTROL; TINY_SPECIALS.len()];
    token_types.resize(tokens.len(), TOKEN_NORMAL);
    Vocab {
        model: "gpt2".into(),
        pre: Some("gpt2".into()),
        tokens,
        token_types,
        merges: TINY_MERGES.iter().map(|m| m.to_string()).collect(),
        bos_token_id: Some(1),
        eos_token_id: Some(2),
        pad_token_id: Some(0),
        chat_template: Some(TINY_TEMPLATE.into()),
    }
}
