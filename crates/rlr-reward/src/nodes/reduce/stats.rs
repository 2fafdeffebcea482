//! Statistics of a list of numbers and the label normalisation votes and
//! partitions use.

/// The q-quantile of `xs` (NaN-free), interpolating linearly between order
/// statistics as numpy's default does: with the sorted values v_0..v_{n−1}
/// and h = (n − 1)·q, v_⌊h⌋ + (h − ⌊h⌋)·(v_{⌊h⌋+1} − v_⌊h⌋). NaN for no values.
pub(crate) fn quantile(xs: &[f64], q: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// A label as votes and partitions compare it (the normalisation of
/// `exact`): trimmed, runs of whitespace as one space, lower-cased.
pub(crate) fn norm_label(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}
