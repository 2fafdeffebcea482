//! Held-out evaluation: greedy responses to the task's held-out prompts,
//! scored by exact match of the extracted answer (`\boxed{}`, `<answer>`,
//! else the last line) with `sample.answer`. Tools run as in training.

use burn::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rlr_reward::nodes::verify::extract_answer;
use rlr_tasks::{Split, Task};

use crate::model::Gpt;
use crate::pack::encode_prompt;
use crate::sample::{Sampling, Tools, generate_with_tools};

/// Prompts decoded together.
const CHUNK: usize = 64;

/// The result of one held-out evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Heldout {
    /// Fraction of prompts answered exactly.
    pub accuracy: f64,
    /// Mean response length in tokens.
    pub mean_length: f64,
    /// Prompts evaluated.
    pub prompts: usize,
}

/// Evaluates `model` (a non-autodiff copy) on held-out problems `0..prompts`.
pub fn evaluate(
    model: &Gpt,
    task: &dyn Task,
    tools: &Tools,
    prompts: usize,
    max_tokens: usize,
    device: &Device,
) -> Result<Heldout, String> {
    let samples: Vec<_> = (0..prompts as u64)
        .map(|i| task.sample(Split::Heldout, i))
        .collect();
    // Greedy decoding draws nothing; the generator is only a formality.
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut correct = 0usize;
    let mut length = 0usize;
    for chunk in samples.chunks(CHUNK) {
        let ids: Vec<Vec<u32>> = chunk.iter().map(|s| encode_prompt(s.prompt())).collect();
        let out = generate_with_tools(
            model,
            &ids,
            &Sampling::greedy(max_tokens),
            tools,
            &mut rng,
            device,
        )?;
        for (s, r) in chunk.iter().zip(&out) {
            length += r.tokens.len();
            let got = extract_answer(&r.text);
            if got.as_deref().map(str::trim) == Some(s.answer().trim()) {
                correct += 1;
            }
        }
    }
    let n = samples.len().max(1) as f64;
    Ok(Heldout {
        accuracy: correct as f64 / n,
        mean_length: length as f64 / n,
        prompts: samples.len(),
    })
}
