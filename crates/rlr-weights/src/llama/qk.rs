//! llama.cpp's q/k row permutation. Its converter reorders each head's rows
//! of `q_proj` and `k_proj` from Hugging Face's half-split RoPE pairs
//! (`rotate_half`: dimension i pairs with i + hd/2) to adjacent pairs
//! (2i, 2i+1), which its interleaved RoPE expects. Undoing it makes the
//! weights correct for `rotate_half` again.

/// Hugging Face row order from GGUF's, for a row-major `[n_head·hd, cols]`
/// matrix: `w.reshape(n_head, hd/2, 2, cols).swapaxes(1, 2).reshape(n_head·hd, cols)`.
/// Use the query head count for `q_proj`, the key/value head count for
/// `k_proj`. `data.len()` must be a multiple of `n_head · cols`, with an even
/// `hd`; otherwise the data is returned unchanged.
pub fn unpermute_qk(data: &[f32], n_head: usize, cols: usize) -> Vec<f32> {
    reorder(data, n_head, cols, |hd, j, i| (j * (hd / 2) + i, 2 * i + j))
}

/// The converter's permutation (GGUF row order from Hugging Face's), the
/// inverse of [`unpermute_qk`]: `w.reshape(n_head, 2, hd/2, cols).swapaxes(1, 2)`.
pub fn permute_qk(data: &[f32], n_head: usize, cols: usize) -> Vec<f32> {
    reorder(data, n_head, cols, |hd, j, i| (2 * i + j, j * (hd / 2) + i))
}

/// Copies rows within each head: `rows(hd, j, i)` gives (destination,
/// source) row within the head for pair member `j` of pair `i`.
fn reorder(
    data: &[f32],
    n_head: usize,
    cols: usize,
    rows: impl Fn(usize, usize, usize) -> (usize, usize),
) -> Vec<f32> {
    let head = n_head.saturating_mul(cols);
    if head == 0 || !data.len().is_multiple_of(head) || !(data.len() / head).is_multiple_of(2) {
        return data.to_vec();
    }
    let hd = data.len() / head;
    let mut out = vec![0.0; data.len()];
    for h in 0..n_head {
        for j in 0..2 {
            for i in 0..hd / 2 {
                let (dst, src) = rows(hd, j, i);
                let (dst, src) = ((h * hd + dst) * cols, (h * hd + src) * cols);
                out[dst..dst + cols].copy_from_slice(&data[src..src + cols]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_two_heads_of_four() {
        // Row r of the GGUF matrix holds [10r, 10r + 1]. Within each head of
        // 4 rows, GGUF order is (pair 0: dims 0, 2), (pair 1: dims 1, 3) laid
        // out adjacently; HF order is dims 0, 1, 2, 3 = GGUF rows 0, 2, 1, 3.
        let gguf: Vec<f32> = (0..8)
            .flat_map(|r| [10.0 * r as f32, 10.0 * r as f32 + 1.0])
            .collect();
        let hf = unpermute_qk(&gguf, 2, 2);
        let want_rows = [0, 2, 1, 3, 4, 6, 5, 7];
        let want: Vec<f32> = want_rows
            .iter()
            .flat_map(|&r| [10.0 * r as f32, 10.0 * r as f32 + 1.0])
            .collect();
        assert_eq!(hf, want);
        assert_eq!(permute_qk(&hf, 2, 2), gguf);
    }

    #[test]
    fn hand_computed_one_head_of_six() {
        // hd = 6: HF row k (k < 3) is GGUF row 2k; HF row 3 + k is GGUF row 2k + 1.
        let gguf: Vec<f32> = (0..6).map(|r| r as f32).collect();
        assert_eq!(
            unpermute_qk(&gguf, 1, 1),
            vec![0.0, 2.0, 4.0, 1.0, 3.0, 5.0]
        );
    }

    #[test]
    fn round_trips_and_tolerates_bad_sizes() {
        let w: Vec<f32> = (0..3 * 8 * 5).map(|v| v as f32).collect();
        assert_eq!(unpermute_qk(&permute_qk(&w, 3, 5), 3, 5), w);
        assert_eq!(unpermute_qk(&w, 0, 5), w);
        assert_eq!(unpermute_qk(&w[..7], 2, 1), w[..7].to_vec());
    }
}
