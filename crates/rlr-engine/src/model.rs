//! The built-in policy: a decoder-only transformer built from `gpt(layers,
//! width, heads, tokenizer, context, dropout, mlp_ratio)` with RMSNorm,
//! rotary positions, causal multi-head attention, a gated (SwiGLU) MLP and
//! the token embedding tied to the output head. Attention is written here
//! rather than taken from `burn::nn` because Burn's `MultiHeadAttention` has
//! no rotary hook and its "cache" re-feeds the whole sequence
//! (shared/design/burn.md §2c); ours keeps a real key/value cache.

use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig, RmsNorm,
    RmsNormConfig, RotaryEncoding, RotaryEncodingConfig, SwiGlu, SwiGluConfig,
};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use rlr_lang::ir::{Const, Decl};

use crate::kv_cache::KvCache;

/// The sizes of the built-in transformer.
#[derive(Clone, Debug, PartialEq)]
pub struct GptSpec {
    /// Transformer blocks.
    pub layers: usize,
    /// Model width (embedding size).
    pub width: usize,
    /// Attention heads; `width` must be a multiple of `2 * heads` (rotary pairs).
    pub heads: usize,
    /// Longest sequence (prompt and response) the rotary table covers.
    pub context: usize,
    /// Dropout after attention and the MLP while training.
    pub dropout: f64,
    /// Hidden size of the MLP as a multiple of `width`.
    pub mlp_ratio: usize,
    /// Vocabulary size (from the tokenizer).
    pub vocab: usize,
}

impl GptSpec {
    /// The spec a `gpt(...)` declaration describes, for a tokenizer of `vocab` ids.
    pub fn from_decl(decl: &Decl, vocab: usize) -> Result<GptSpec, String> {
        if decl.builtin != "gpt" {
            return Err(format!(
                "model `{}` is `{}`, not `gpt`",
                decl.name, decl.builtin
            ));
        }
        let int = |name: &str| -> Result<usize, String> {
            match decl.args.get(name) {
                Some(Const::Int(i)) if *i > 0 => Ok(*i as usize),
                other => Err(format!(
                    "model `{}`: `{name}` must be a positive integer, found {other:?}",
                    decl.name
                )),
            }
        };
        let dropout = decl
            .args
            .get("dropout")
            .and_then(Const::as_f64)
            .unwrap_or(0.0);
        let spec = GptSpec {
            layers: int("layers")?,
            width: int("width")?,
            heads: int("heads")?,
            context: int("context")?,
            dropout,
            mlp_ratio: int("mlp_ratio")?,
            vocab,
        };
        if !spec.width.is_multiple_of(2 * spec.heads) {
            return Err(format!(
                "model `{}`: width {} must be a multiple of 2 x heads ({}) for rotary positions",
                decl.name,
                spec.width,
                2 * spec.heads
            ));
        }
        Ok(spec)
    }

    /// A tiny model for tests.
    pub fn tiny(vocab: usize) -> GptSpec {
        GptSpec {
            layers: 2,
            width: 16,
            heads: 2,
            context: 32,
            dropout: 0.0,
            mlp_ratio: 2,
            vocab,
        }
    }

    /// Builds the model on `device` with weights drawn from the device's seeded generator.
    pub fn init(&self, device: &Device) -> Gpt {
        // GPT-2 style small init: N(0, 0.02) keeps tied logits near zero at the start.
        let small = Initializer::Normal {
            mean: 0.0,
            std: 0.02,
        };
        let blocks = (0..self.layers)
            .map(|_| Block {
                attn_norm: RmsNormConfig::new(self.width).init(device),
                wq: linear(self.width, self.width, &small, device),
                wk: linear(self.width, self.width, &small, device),
                wv: linear(self.width, self.width, &small, device),
                wo: linear(self.width, self.width, &small, device),
                mlp_norm: RmsNormConfig::new(self.width).init(device),
                gate: SwiGluConfig::new(self.width, self.width * self.mlp_ratio)
                    .with_initializer(small.clone())
                    .init(device),
                down: linear(self.width * self.mlp_ratio, self.width, &small, device),
                dropout: DropoutConfig::new(self.dropout).init(),
                heads: self.heads,
            })
            .collect();
        let model = Gpt {
            embed: EmbeddingConfig::new(self.vocab, self.width)
                .with_initializer(small)
                .init(device),
            blocks,
            norm: RmsNormConfig::new(self.width).init(device),
            rope: RotaryEncodingConfig::new(self.context, self.width / self.heads).init(device),
            context: self.context,
        };
        // Burn draws parameters lazily, at first use; touch them all now so
        // the draws follow the seed just set rather than whatever ran since.
        let one: Tensor<2, Int> = Tensor::from_data(TensorData::new(vec![0i64], [1, 1]), device);
        let _ = model.forward(one, attention_mask(&[vec![false]], 1, device), None);
        model
    }
}

fn linear(d_in: usize, d_out: usize, init: &Initializer, device: &Device) -> Linear {
    LinearConfig::new(d_in, d_out)
        .with_bias(false)
        .with_initializer(init.clone())
        .init(device)
}

/// One pre-norm transformer block.
#[derive(Module, Debug)]
pub struct Block {
    attn_norm: RmsNorm,
    wq: Linear,
    wk: Linear,
    wv: Linear,
    wo: Linear,
    mlp_norm: RmsNorm,
    gate: SwiGlu,
    down: Linear,
    dropout: Dropout,
    heads: usize,
}

/// The decoder-only transformer.
#[derive(Module, Debug)]
pub struct Gpt {
    embed: Embedding,
    blocks: Vec<Block>,
    norm: RmsNorm,
    rope: RotaryEncoding,
    context: usize,
}

/// Which keys each query may not see: `[batch, queries, keys]`, true = hidden.
/// Queries are the last `queries` of `keys` positions (causal), and keys
/// marked in `pad` (left padding) are hidden from everyone.
pub fn attention_mask(pad: &[Vec<bool>], queries: usize, device: &Device) -> Tensor<3, Bool> {
    let batch = pad.len();
    let keys = pad.first().map_or(0, Vec::len);
    let offset = keys - queries;
    let mut data = Vec::with_capacity(batch * queries * keys);
    for row in pad {
        for q in 0..queries {
            for (k, &is_pad) in row.iter().enumerate() {
                data.push(is_pad || k > q + offset);
            }
        }
    }
    Tensor::from_data(TensorData::new(data, [batch, queries, keys]), device)
}

impl Gpt {
    /// The longest sequence the model accepts.
    pub fn context(&self) -> usize {
        self.context
    }

    /// Its sizes (every head attends with its own keys and values).
    pub fn dims(&self) -> crate::policy::Dims {
        let [vocab, width] = self.embed.weight.dims();
        let heads = self.blocks.first().map_or(1, |b| b.heads);
        crate::policy::Dims {
            layers: self.blocks.len(),
            width,
            heads,
            kv_heads: heads,
            head_dim: width / heads.max(1),
            hidden: self.blocks.first().map_or(0, |b| b.down.weight.dims()[0]),
            vocab,
            tied: true,
            context: self.context,
        }
    }

    /// Logits `[batch, time, vocab]` of `tokens` `[batch, time]`, attending
    /// to what `cache` holds first and appending this call's keys and values
    /// to it. `mask` comes from [`attention_mask`] over cached + new positions.
    pub fn forward(
        &self,
        tokens: Tensor<2, Int>,
        mask: Tensor<3, Bool>,
        cache: Option<&mut KvCache>,
    ) -> Tensor<3> {
        let [batch, time] = tokens.dims();
        let start = cache.as_ref().map_or(0, |c| c.len());
        let mut x = self.embed.forward(tokens);
        let mut cache = cache;
        for (i, block) in self.blocks.iter().enumerate() {
            let past = cache.as_ref().and_then(|c| c.layer(i));
            let (y, kv) = block.forward(x, &self.rope, start, past, mask.clone());
            x = y;
            if let Some(c) = cache.as_mut() {
                c.set(i, kv);
            }
        }
        let h = self.norm.forward(x);
        let width = h.dims()[2];
        // Tied head: logits are scores against the embedding table.
        let table = self.embed.weight.val();
        let vocab = table.dims()[0];
        h.reshape([batch * time, width])
            .matmul(table.transpose())
            .reshape([batch, time, vocab])
    }
}

impl Block {
    fn forward(
        &self,
        x: Tensor<3>,
        rope: &RotaryEncoding,
        start: usize,
        past: Option<(Tensor<4>, Tensor<4>)>,
        mask: Tensor<3, Bool>,
    ) -> (Tensor<3>, (Tensor<4>, Tensor<4>)) {
        let [b, t, d] = x.dims();
        let h = self.heads;
        let hd = d / h;
        let split = |y: Tensor<3>| y.reshape([b, t, h, hd]).swap_dims(1, 2);
        let n = self.attn_norm.forward(x.clone());
        let q = rope.apply(split(self.wq.forward(n.clone())), start);
        let k = rope.apply(split(self.wk.forward(n.clone())), start);
        let v = split(self.wv.forward(n));
        let (k, v) = match past {
            Some((pk, pv)) => (Tensor::cat(vec![pk, k], 2), Tensor::cat(vec![pv, v], 2)),
            None => (k, v),
        };
        let keys = k.dims()[2];
        let scores = q
            .matmul(k.clone().swap_dims(2, 3))
            .div_scalar((hd as f32).sqrt());
        let hidden = mask.unsqueeze_dim::<4>(1).expand([b, h, t, keys]);
        // A large negative rather than -inf: a fully hidden row (padding
        // queries) then gives uniform weights instead of NaN.
        let scores = scores.mask_fill(hidden, -1.0e9);
        let attn = softmax(scores, 3)
            .matmul(v.clone())
            .swap_dims(1, 2)
            .reshape([b, t, d]);
        let x = x + self.dropout.forward(self.wo.forward(attn));
        let m = self.mlp_norm.forward(x.clone());
        let x = x.clone()
            + self
                .dropout
                .forward(self.down.forward(self.gate.forward(m)));
        (x, (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend;
    use crate::testkit::{max_abs_diff, tokens};

    #[test]
    fn forward_gives_logits_of_the_vocabulary_for_every_position() {
        let device = backend::device();
        let model = backend::seeded(&device, 3, |d| GptSpec::tiny(11).init(d));
        let x = tokens(&[vec![1, 2, 3, 4], vec![4, 3, 2, 1]], &device);
        let mask = attention_mask(&[vec![false; 4], vec![false; 4]], 4, &device);
        assert_eq!(model.forward(x, mask, None).dims(), [2, 4, 11]);
    }

    #[test]
    fn cached_incremental_forward_matches_the_full_forward() {
        let device = backend::device();
        let model = backend::seeded(&device, 5, |d| GptSpec::tiny(11).init(d));
        // Row 1 is left-padded by two: its logits must not depend on the padding.
        let rows = vec![vec![1, 5, 6, 7, 8, 9], vec![0, 0, 1, 7, 8, 9]];
        let pad: Vec<Vec<bool>> = rows
            .iter()
            .map(|r| r.iter().map(|&t| t == 0).collect())
            .collect();
        let full = model.forward(
            tokens(&rows, &device),
            attention_mask(&pad, 6, &device),
            None,
        );
        let mut cache = KvCache::default();
        let prefix: Vec<Vec<i64>> = rows.iter().map(|r| r[..3].to_vec()).collect();
        let prefix_pad: Vec<Vec<bool>> = pad.iter().map(|r| r[..3].to_vec()).collect();
        let mut parts = vec![model.forward(
            tokens(&prefix, &device),
            attention_mask(&prefix_pad, 3, &device),
            Some(&mut cache),
        )];
        for t in 3..6 {
            let step: Vec<Vec<i64>> = rows.iter().map(|r| vec![r[t]]).collect();
            let step_pad: Vec<Vec<bool>> = pad.iter().map(|r| r[..=t].to_vec()).collect();
            parts.push(model.forward(
                tokens(&step, &device),
                attention_mask(&step_pad, 1, &device),
                Some(&mut cache),
            ));
        }
        assert_eq!(cache.len(), 6);
        let incremental = Tensor::cat(parts, 1);
        // Padding positions see no real key and hold garbage in both; compare real ones.
        let diff = max_abs_diff(
            full.clone().slice([0..1, 0..6]),
            incremental.clone().slice([0..1, 0..6]),
        )
        .max(max_abs_diff(
            full.clone().slice([1..2, 2..6]),
            incremental.slice([1..2, 2..6]),
        ));
        assert!(diff < 1e-4, "cached and full logits differ by {diff}");

        // Relative positions: row 1's real tokens score as if unpadded.
        let alone = model.forward(
            tokens(&[vec![1, 7, 8, 9]], &device),
            attention_mask(&[vec![false; 4]], 4, &device),
            None,
        );
        let padded_row = full.slice([1..2, 2..6]);
        let diff = max_abs_diff(alone, padded_row);
        assert!(diff < 1e-4, "left padding changed logits by {diff}");
    }

    #[test]
    fn the_same_seed_gives_the_same_weights() {
        let run = |seed| {
            let device = backend::device();
            let model = backend::seeded(&device, seed, |d| GptSpec::tiny(11).init(d));
            let x = tokens(&[vec![1, 2, 3]], &device);
            let mask = attention_mask(&[vec![false; 3]], 3, &device);
            model.forward(x, mask, None)
        };
        assert_eq!(max_abs_diff(run(9), run(9)), 0.0);
        assert!(max_abs_diff(run(9), run(10)) > 0.0);
    }
}
