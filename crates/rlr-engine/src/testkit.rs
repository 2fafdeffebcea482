//! Helpers the engine's model tests share (the built-in GPT and the Llama).

use burn::prelude::*;

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
