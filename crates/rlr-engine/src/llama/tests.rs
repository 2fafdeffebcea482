//! A tiny random Llama (4 query heads over 2 key/value heads): the Burn
//! model against the f64 reference, cached decoding against the full
//! forward, left padding, gradients on an autodiff device, bad weights.

use burn::optim::GradientsParams;
use burn::prelude::*;
use rlr_weights::Weights;

use super::{Llama, reference};
use crate::backend;
use crate::kv_cache::KvCache;
use crate::model::attention_mask;
use crate::testkit::{max_abs_diff, random_weights, tiny_llama_config as tiny_config, tokens};

fn host(x: Tensor<3>) -> Vec<f32> {
    x.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap_or_else(|e| panic!("{e:?}"))
}

fn load(w: &Weights, device: &Device) -> Llama {
    Llama::from_weights(w, device).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn matches_the_f64_reference_tied_and_untied() {
    let device = backend::plain();
    for tied in [true, false] {
        let w = random_weights(tiny_config(tied), 7);
        let model = load(&w, &device);
        let ids = [3usize, 14, 15, 9, 26, 5, 35];
        let row: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
        let logits = model.forward(
            tokens(&[row], &device),
            attention_mask(&[vec![false; ids.len()]], ids.len(), &device),
            None,
        );
        assert_eq!(logits.dims(), [1, ids.len(), 37]);
        let got = host(logits);
        let want = reference::forward(&w, &ids);
        let diff = want
            .iter()
            .flatten()
            .zip(&got)
            .map(|(&r, &g)| (r - f64::from(g)).abs())
            .fold(0.0, f64::max);
        // f32 against f64 on logits of size ~5: rounding only.
        assert!(
            diff < 1e-4,
            "tied={tied}: Burn and reference differ by {diff}"
        );
    }
}

#[test]
fn cached_incremental_forward_matches_the_full_forward() {
    let device = backend::plain();
    let model = load(&random_weights(tiny_config(true), 11), &device);
    // Row 1 is left-padded by two: its logits must not depend on the padding.
    let rows = vec![vec![1, 5, 6, 7, 8, 9, 10], vec![0, 0, 1, 7, 8, 9, 10]];
    let pad: Vec<Vec<bool>> = vec![
        vec![false; 7],
        vec![true, true, false, false, false, false, false],
    ];
    let full = model.forward(
        tokens(&rows, &device),
        attention_mask(&pad, 7, &device),
        None,
    );
    let mut cache = KvCache::new();
    let prefix: Vec<Vec<i64>> = rows.iter().map(|r| r[..3].to_vec()).collect();
    let prefix_pad: Vec<Vec<bool>> = pad.iter().map(|r| r[..3].to_vec()).collect();
    let mut parts = vec![model.forward(
        tokens(&prefix, &device),
        attention_mask(&prefix_pad, 3, &device),
        Some(&mut cache),
    )];
    // One step of two tokens, then single tokens.
    let mut t = 3;
    for width in [2, 1, 1] {
        let step: Vec<Vec<i64>> = rows.iter().map(|r| r[t..t + width].to_vec()).collect();
        let step_pad: Vec<Vec<bool>> = pad.iter().map(|r| r[..t + width].to_vec()).collect();
        parts.push(model.forward(
            tokens(&step, &device),
            attention_mask(&step_pad, width, &device),
            Some(&mut cache),
        ));
        t += width;
    }
    assert_eq!(cache.len(), 7);
    let incremental = Tensor::cat(parts, 1);
    // Padding positions see no real key and hold garbage in both; compare real ones.
    let diff = max_abs_diff(
        full.clone().slice([0..1, 0..7]),
        incremental.clone().slice([0..1, 0..7]),
    )
    .max(max_abs_diff(
        full.clone().slice([1..2, 2..7]),
        incremental.slice([1..2, 2..7]),
    ));
    assert!(diff < 1e-4, "cached and full logits differ by {diff}");

    // Relative positions: row 1's real tokens score as if unpadded.
    let alone = model.forward(
        tokens(&[vec![1, 7, 8, 9, 10]], &device),
        attention_mask(&[vec![false; 5]], 5, &device),
        None,
    );
    let diff = max_abs_diff(alone, full.slice([1..2, 2..7]));
    assert!(diff < 1e-4, "left padding changed logits by {diff}");
}

#[test]
fn greedy_decoding_equals_argmax_of_full_forwards() {
    let device = backend::plain();
    let w = random_weights(tiny_config(false), 5);
    let model = load(&w, &device);
    let prompt = [4u32, 8, 15, 16];
    let got = model.greedy(&prompt, 6, None, &device);
    let mut seq: Vec<usize> = prompt.iter().map(|&t| t as usize).collect();
    for _ in 0..6 {
        let last = reference::forward(&w, &seq).pop().unwrap_or_default();
        let (best, _) =
            last.iter().enumerate().fold(
                (0, f64::NEG_INFINITY),
                |b, (i, &v)| if v > b.1 { (i, v) } else { b },
            );
        seq.push(best);
    }
    let want: Vec<u32> = seq[prompt.len()..].iter().map(|&t| t as u32).collect();
    assert_eq!(got, want);
    // Stops right after EOS.
    let stop = got[2];
    let first = got.iter().position(|&t| t == stop).unwrap_or(2);
    assert_eq!(
        model.greedy(&prompt, 6, Some(stop), &device),
        got[..=first].to_vec()
    );
}

#[test]
fn trains_on_an_autodiff_device() {
    let device = backend::device();
    let model = load(&random_weights(tiny_config(true), 3), &device);
    let x = tokens(&[vec![1, 2, 3, 4], vec![5, 6, 7, 8]], &device);
    let logits = model.forward(
        x,
        attention_mask(&[vec![false; 4], vec![false; 4]], 4, &device),
        None,
    );
    let loss = logits.square().mean();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let norm = |p: &burn::module::Param<Tensor<2>>| {
        grads
            .get::<2>(p.id)
            .map(|g| g.abs().sum().into_scalar::<f32>())
    };
    // The shared embedding and every block's projections get a gradient.
    let e = norm(&model.embed.weight);
    assert!(e.is_some_and(|g| g > 0.0), "embedding gradient: {e:?}");
    for b in &model.blocks {
        for lin in [&b.q, &b.k, &b.v, &b.o, &b.gate, &b.up, &b.down] {
            let g = norm(&lin.weight);
            assert!(g.is_some_and(|g| g > 0.0), "projection gradient: {g:?}");
        }
    }
}

#[test]
fn bad_weights_are_errors() {
    let device = backend::plain();
    let mut w = random_weights(tiny_config(true), 1);
    w.tensors.remove("model.layers.1.mlp.up_proj.weight");
    let e = Llama::from_weights(&w, &device).err().unwrap_or_default();
    assert!(e.contains("model.layers.1.mlp.up_proj.weight"), "{e}");
    let mut w = random_weights(tiny_config(true), 1);
    if let Some(t) = w.tensors.get_mut("model.norm.weight") {
        t.data.pop();
    }
    let e = Llama::from_weights(&w, &device).err().unwrap_or_default();
    assert!(e.contains("model.norm.weight"), "{e}");
}
