//! Packing prompt + response sequences into teacher-forcing tensors: inputs
//! are the sequence without its last token, targets without its first, right
//! padded. Response token `j` of a row is predicted at target column
//! `prompt_len - 1 + j`, so per-token values (advantages, masks, log-probs)
//! move between rollouts and tensors by that index.

use burn::prelude::*;

use crate::model::attention_mask;

/// The id right padding uses. Any id of the vocabulary would do (padding is
/// never attended to by real positions and never trained on); 0 is one in
/// every vocabulary.
const PAD: u32 = 0;

/// One training sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    /// Prompt ids (at least one).
    pub prompt: Vec<u32>,
    /// Response ids (ending with EOS where the response ended with it).
    pub response: Vec<u32>,
}

/// A packed minibatch.
#[derive(Debug)]
pub struct Packed {
    /// `[rows, time]` input ids.
    pub inputs: Tensor<2, Int>,
    /// `[rows, time]` target ids.
    pub targets: Tensor<2, Int>,
    /// Causal attention mask over the inputs.
    pub mask: Tensor<3, Bool>,
    /// Rows.
    pub rows: usize,
    /// Columns (longest sequence minus one).
    pub time: usize,
    /// Target column of each row's first response token.
    pub start: Vec<usize>,
    /// Response tokens per row.
    pub lens: Vec<usize>,
}

impl Packed {
    /// Spreads per-response-token values into a `[rows × time]` host array (zero elsewhere).
    pub fn spread(&self, per_row: &[Vec<f32>]) -> Vec<f32> {
        let mut out = vec![0.0; self.rows * self.time];
        for (r, values) in per_row.iter().enumerate() {
            for (j, &v) in values.iter().enumerate().take(self.lens[r]) {
                out[r * self.time + self.start[r] + j] = v;
            }
        }
        out
    }

    /// Collects per-response-token values of each row from a `[rows × time]` host array.
    pub fn gather(&self, flat: &[f32]) -> Vec<Vec<f32>> {
        (0..self.rows)
            .map(|r| {
                let at = r * self.time + self.start[r];
                flat[at..at + self.lens[r]].to_vec()
            })
            .collect()
    }

    /// A float tensor of shape `[rows, time]` from a host array.
    pub fn tensor(&self, flat: Vec<f32>, device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(flat, [self.rows, self.time]), device)
    }
}

/// Packs sequences for one forward pass.
pub fn pack(seqs: &[Sequence], device: &Device) -> Result<Packed, String> {
    let time = seqs
        .iter()
        .map(|s| s.prompt.len() + s.response.len())
        .max()
        .unwrap_or(0)
        .saturating_sub(1);
    if time == 0 {
        return Err("nothing to train on: every sequence is a single token".into());
    }
    let rows = seqs.len();
    let mut inputs = Vec::with_capacity(rows * time);
    let mut targets = Vec::with_capacity(rows * time);
    let mut start = Vec::with_capacity(rows);
    let mut lens = Vec::with_capacity(rows);
    for s in seqs {
        if s.prompt.is_empty() {
            return Err("a training sequence has an empty prompt".into());
        }
        let full: Vec<u32> = s.prompt.iter().chain(&s.response).copied().collect();
        let pad = time + 1 - full.len();
        let padded = || full.iter().copied().chain(std::iter::repeat_n(PAD, pad));
        inputs.extend(padded().take(time).map(i64::from));
        targets.extend(padded().skip(1).map(i64::from));
        start.push(s.prompt.len() - 1);
        lens.push(s.response.len());
    }
    // Right padding only follows real tokens, so the causal mask alone keeps
    // it out of every real position.
    let no_pad = vec![vec![false; time]; rows];
    Ok(Packed {
        inputs: Tensor::from_data(TensorData::new(inputs, [rows, time]), device),
        targets: Tensor::from_data(TensorData::new(targets, [rows, time]), device),
        mask: attention_mask(&no_pad, time, device),
        rows,
        time,
        start,
        lens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend;
    use crate::tokenizer::{BOS, EOS};

    #[test]
    fn response_tokens_land_at_their_target_columns_and_back() {
        let device = backend::plain();
        let seqs = vec![
            Sequence {
                prompt: vec![BOS, 10, 11],
                response: vec![20, 21, EOS],
            },
            Sequence {
                prompt: vec![BOS],
                response: vec![30],
            },
        ];
        let p = pack(&seqs, &device).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((p.rows, p.time), (2, 5));
        let targets: Vec<i64> = p
            .targets
            .clone()
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap_or_default();
        assert_eq!(
            targets,
            vec![10, 11, 20, 21, i64::from(EOS), 30, 0, 0, 0, 0]
        );
        let flat = p.spread(&[vec![1.0, 2.0, 3.0], vec![4.0]]);
        assert_eq!(flat, vec![0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(p.gather(&flat), vec![vec![1.0, 2.0, 3.0], vec![4.0]]);
    }
}
