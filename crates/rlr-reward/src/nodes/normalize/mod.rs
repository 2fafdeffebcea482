//! Node family: normalize — group normalisers and ReNorm (methods.md §P.2 node 8).
//!
//! Each normaliser works within every group (or the whole batch with
//! `over = "batch"`), separately inside each part of the `by` partition (a
//! bool splits a group in two, a label into one part per normalised value).
//! Response values are normalised per part; segment values jointly over all
//! segments of the part's responses (DeepSeekMath's process supervision);
//! token values per position (the t-th tokens of the part's responses). NaN
//! entries stay NaN and take no part in the statistics.

use crate::node::Node;

mod group;
pub(crate) mod parts;
mod renorm;

#[cfg(test)]
mod tests;

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[
    &group::Zscore,
    &group::Center,
    &group::Minmax,
    &group::Rank,
    &renorm::Renorm,
];
