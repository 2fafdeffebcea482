//! Held-out evaluation: greedy responses to the task's held-out prompts,
//! scored by exact match of the extracted answer (`\boxed{}`, `<answer>`,
//! else the last line) with `sample.answer`, or, for a response with
//! neither `\boxed{}` nor `<answer>` (a pretrained model answering in
//! prose: "3 + 4 = 7."), of its last number. Tools run as in training.

use burn::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rlr_reward::nodes::verify::{boxed_content, extract_answer, last_number, tag_content};
use rlr_tasks::{Split, Task};

use crate::policy::Policy;
use crate::sample::{Sampling, Tools, generate_with_tools};
use crate::vocab::Vocab;

/// Prompts decoded together.
const CHUNK: usize = 64;

/// Held-out responses kept per evaluation for `evals.jsonl`.
pub const EXAMPLES: usize = 8;

/// One held-out response, as `evals.jsonl` records it.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// The held-out problem's index.
    pub index: usize,
    /// Its prompt.
    pub prompt: String,
    /// The greedy response (tool outputs included).
    pub response: String,
    /// The reference answer.
    pub answer: String,
    /// Whether the response was counted correct.
    pub correct: bool,
}

/// The result of one held-out evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Heldout {
    /// Fraction of prompts answered exactly.
    pub accuracy: f64,
    /// Mean response length in tokens.
    pub mean_length: f64,
    /// Prompts evaluated.
    pub prompts: usize,
    /// The first [`EXAMPLES`] responses.
    pub examples: Vec<Example>,
}

/// Evaluates `model` (a non-autodiff copy) on held-out problems `0..prompts`.
pub fn evaluate(
    model: &Policy,
    vocab: &Vocab,
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
    let mut examples = Vec::new();
    for chunk in samples.chunks(CHUNK) {
        let ids: Vec<Vec<u32>> = chunk
            .iter()
            .map(|s| vocab.encode_prompt(s.prompt()))
            .collect::<Result<_, _>>()?;
        let out = generate_with_tools(
            model,
            vocab,
            &ids,
            &Sampling::greedy(max_tokens),
            tools,
            &mut rng,
            device,
        )?;
        for (s, r) in chunk.iter().zip(&out) {
            length += r.tokens.len();
            let right = is_correct(&r.text, s.answer());
            if right {
                correct += 1;
            }
            if examples.len() < EXAMPLES {
                examples.push(Example {
                    index: examples.len(),
                    prompt: s.prompt().to_string(),
                    response: r.text.clone(),
                    answer: s.answer().to_string(),
                    correct: right,
                });
            }
        }
    }
    let n = samples.len().max(1) as f64;
    Ok(Heldout {
        accuracy: correct as f64 / n,
        mean_length: length as f64 / n,
        prompts: samples.len(),
        examples,
    })
}

/// Whether `text` answers `answer`: its extracted answer, or, when it marks
/// none (no `\boxed{}`, no `<answer>`), its last number.
fn is_correct(text: &str, answer: &str) -> bool {
    let answer = answer.trim();
    if extract_answer(text).as_deref().map(str::trim) == Some(answer) {
        return true;
    }
    let marked = boxed_content(text).is_some() || tag_content(text, "answer").is_some();
    !marked && last_number(text) == Some(answer)
}

#[cfg(test)]
mod tests {
    use super::is_correct;

    #[test]
    fn marked_answers_decide_and_prose_falls_back_on_its_last_number() {
        assert!(is_correct("<think>3+4=7</think>\n\\boxed{7}", "7"));
        assert!(is_correct("12 + 0 = 12.", "12"));
        assert!(is_correct("3 - 6 = -3", "-3"));
        assert!(is_correct("7", "7"));
        assert!(!is_correct("3 - 6 = 3", "-3"));
        // A marked wrong answer is wrong even if a later number is right.
        assert!(!is_correct("\\boxed{8} or 7", "7"));
        assert!(!is_correct("<answer>8</answer> 7", "7"));
        assert!(!is_correct("no number", "7"));
    }
}
