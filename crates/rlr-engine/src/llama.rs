//! A pretrained Llama-architecture causal LM on Burn (SmolLM2, TinyLlama,
//! Llama-2-style checkpoints): token embedding, pre-norm blocks of
//! grouped-query attention with `rotate_half` rotary positions and a SwiGLU
//! MLP, no biases, a final RMSNorm and a tied or separate output head.
//!
//! Weights come from `rlr_weights::Weights` (GGUF or safetensors, Hugging
//! Face names and layout) through [`Llama::from_weights`] (`load.rs`); a
//! recipe reaches it as [`crate::policy::Policy::Llama`]. The
//! call convention is that of the built-in [`crate::model::Gpt`]: a
//! `[batch, queries, keys]` mask from [`crate::model::attention_mask`]
//! (true = hidden), positions counted from the first cached key, and a
//! key/value cache that each call extends.

use burn::nn::{Embedding, Linear, RmsNorm};
use burn::prelude::*;
use burn::tensor::activation::{silu, softmax};

use crate::kv_cache::KvCache;

#[cfg(test)]
mod golden;
mod load;
#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;

/// One pre-norm block: attention then MLP, each added to the residual stream.
#[derive(Module, Debug)]
pub struct LlamaBlock {
    input_norm: RmsNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    post_norm: RmsNorm,
    gate: Linear,
    up: Linear,
    down: Linear,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
}

/// The Llama causal language model.
#[derive(Module, Debug)]
pub struct Llama {
    embed: Embedding,
    blocks: Vec<LlamaBlock>,
    norm: RmsNorm,
    /// `None` when the head is tied to the embedding.
    lm_head: Option<Linear>,
    rope_theta: f64,
    head_dim: usize,
    context: usize,
}

/// Cosines and sines of the rotary angles of a run of positions, each
/// `[1, 1, time, head_dim]` in `rotate_half` order (the half-width table
/// repeated twice).
struct Rope {
    cos: Tensor<4>,
    sin: Tensor<4>,
}

impl Rope {
    fn new(theta: f64, head_dim: usize, start: usize, time: usize, device: &Device) -> Rope {
        let half = head_dim / 2;
        let mut cos = Vec::with_capacity(time * head_dim);
        let mut sin = Vec::with_capacity(time * head_dim);
        for p in start..start + time {
            // Angles in f64 (as the numpy reference does): at position 8000
            // an f32 angle is already off by ~1e-4 rad.
            let row: Vec<f64> = (0..head_dim)
                .map(|i| p as f64 * theta.powf(-(2.0 * (i % half) as f64) / head_dim as f64))
                .collect();
            cos.extend(row.iter().map(|a| a.cos() as f32));
            sin.extend(row.iter().map(|a| a.sin() as f32));
        }
        let shape = [1, 1, time, head_dim];
        Rope {
            cos: Tensor::from_data(TensorData::new(cos, shape), device),
            sin: Tensor::from_data(TensorData::new(sin, shape), device),
        }
    }

    /// `x * cos + rotate_half(x) * sin` on `[batch, heads, time, head_dim]`,
    /// where `rotate_half([a, b]) = [-b, a]` over the two halves of a head.
    fn apply(&self, x: Tensor<4>) -> Tensor<4> {
        let hd = x.dims()[3];
        let half = hd / 2;
        let a = x.clone().narrow(3, 0, half);
        let b = x.clone().narrow(3, half, half);
        let rotated = Tensor::cat(vec![b.neg(), a], 3);
        x * self.cos.clone() + rotated * self.sin.clone()
    }
}

impl Llama {
    /// The longest sequence the model was trained for.
    pub fn context(&self) -> usize {
        self.context
    }

    /// Vocabulary size (rows of the embedding, columns of the logits).
    pub fn vocab(&self) -> usize {
        self.embed.weight.dims()[0]
    }

    /// Its sizes.
    pub fn dims(&self) -> crate::policy::Dims {
        let [vocab, width] = self.embed.weight.dims();
        let first = self.blocks.first();
        crate::policy::Dims {
            layers: self.blocks.len(),
            width,
            heads: first.map_or(0, |b| b.heads),
            kv_heads: first.map_or(0, |b| b.kv_heads),
            head_dim: self.head_dim,
            // `Linear` keeps `[in, out]`: the gate is `[width, hidden]`.
            hidden: first.map_or(0, |b| b.gate.weight.dims()[1]),
            vocab,
            tied: self.lm_head.is_none(),
            context: self.context,
        }
    }

    /// Logits `[batch, time, vocab]` of `tokens` `[batch, time]`, attending
    /// to what `cache` holds first and appending this call's keys and values
    /// to it. `mask` is `[batch, time, cached + time]`, true = hidden (from
    /// [`crate::model::attention_mask`]); positions count from the first
    /// cached key, so left padding shifts them but not their differences.
    pub fn forward(
        &self,
        tokens: Tensor<2, Int>,
        mask: Tensor<3, Bool>,
        cache: Option<&mut KvCache>,
    ) -> Tensor<3> {
        let [batch, time] = tokens.dims();
        let device = tokens.device();
        let start = cache.as_ref().map_or(0, |c| c.len());
        let rope = Rope::new(self.rope_theta, self.head_dim, start, time, &device);
        let mut x = self.embed.forward(tokens);
        let mut cache = cache;
        for (i, block) in self.blocks.iter().enumerate() {
            let past = cache.as_ref().and_then(|c| c.layer(i));
            let (y, kv) = block.forward(x, &rope, past, mask.clone());
            x = y;
            if let Some(c) = cache.as_mut() {
                c.set(i, kv);
            }
        }
        let h = self.norm.forward(x);
        let width = h.dims()[2];
        let flat = h.reshape([batch * time, width]);
        let logits = match &self.lm_head {
            Some(head) => head.forward(flat),
            // Tied head: scores against the embedding table.
            None => flat.matmul(self.embed.weight.val().transpose()),
        };
        let vocab = logits.dims()[1];
        logits.reshape([batch, time, vocab])
    }

    /// Greedy decoding of one prompt with the key/value cache: up to
    /// `max_new` tokens, stopping after `eos`. A smoke-test and benchmark
    /// helper; batched sampling with temperature lives in `sample.rs`.
    pub fn greedy(
        &self,
        prompt: &[u32],
        max_new: usize,
        eos: Option<u32>,
        device: &Device,
    ) -> Vec<u32> {
        let mut cache = KvCache::new();
        let mut out = Vec::new();
        let mut step: Vec<i64> = prompt.iter().map(|&t| i64::from(t)).collect();
        while out.len() < max_new && !step.is_empty() {
            let time = step.len();
            let keys = cache.len() + time;
            let tokens = Tensor::from_data(TensorData::new(step, [1, time]), device);
            let mask = crate::model::attention_mask(&[vec![false; keys]], time, device);
            let logits = self.forward(tokens, mask, Some(&mut cache));
            let last = logits.narrow(1, time - 1, 1);
            let next = last
                .argmax(2)
                .into_data()
                .convert::<i64>()
                .try_to_vec::<i64>()
                .ok()
                .and_then(|v| v.first().copied())
                .and_then(|t| u32::try_from(t).ok());
            let Some(next) = next else { break };
            out.push(next);
            if Some(next) == eos {
                break;
            }
            step = vec![i64::from(next)];
        }
        out
    }
}

impl LlamaBlock {
    fn forward(
        &self,
        x: Tensor<3>,
        rope: &Rope,
        past: Option<(Tensor<4>, Tensor<4>)>,
        mask: Tensor<3, Bool>,
    ) -> (Tensor<3>, (Tensor<4>, Tensor<4>)) {
        let [b, t, _] = x.dims();
        let (h, kvh, hd) = (self.heads, self.kv_heads, self.head_dim);
        let split = |y: Tensor<3>, heads: usize| y.reshape([b, t, heads, hd]).swap_dims(1, 2);
        let n = self.input_norm.forward(x.clone());
        let q = rope.apply(split(self.q.forward(n.clone()), h));
        let k = rope.apply(split(self.k.forward(n.clone()), kvh));
        let v = split(self.v.forward(n), kvh);
        let (k, v) = match past {
            Some((pk, pv)) => (Tensor::cat(vec![pk, k], 2), Tensor::cat(vec![pv, v], 2)),
            None => (k, v),
        };
        let keys = k.dims()[2];
        let group = h / kvh;
        // Grouped-query attention without repeating keys: query head
        // `j * group + r` uses key/value head `j`, so the `group` query heads
        // of one key head are stacked along the query axis of one matmul.
        let q = q
            .mul_scalar(1.0 / (hd as f64).sqrt())
            .reshape([b, kvh, group * t, hd]);
        let scores = q.matmul(k.clone().swap_dims(2, 3)).reshape([b, h, t, keys]);
        let hidden = mask.unsqueeze_dim::<4>(1).expand([b, h, t, keys]);
        // A large negative rather than -inf: a fully hidden row (padding
        // queries) then gives uniform weights instead of NaN.
        let scores = scores.mask_fill(hidden, -1.0e9);
        let attn = softmax(scores, 3)
            .reshape([b, kvh, group * t, keys])
            .matmul(v.clone())
            .reshape([b, h, t, hd])
            .swap_dims(1, 2)
            .reshape([b, t, h * hd]);
        let x = x + self.o.forward(attn);
        let m = self.post_norm.forward(x.clone());
        let mlp = silu(self.gate.forward(m.clone())) * self.up.forward(m);
        let x = x + self.down.forward(mlp);
        (x, (k, v))
    }
}
