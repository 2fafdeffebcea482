//! Node family: relate — each response against its group or a reference set
//! (methods.md §P.2 node 9).
//!
//! A reference set comes as a per-prompt vector (a task field such as PAR's
//! SFT reference rewards), as a per-prompt real, as a response-scope real of
//! the same rollouts (the other members j ≠ i of the group), or as a
//! response-scope real of another branch (all members of the paired group).
//! NaN references are left out; a response left with no reference is a run
//! error naming it. Embeddings are compared by cosine similarity.

use crate::node::Node;

mod cosine;
mod reference;
mod refs;

#[cfg(test)]
mod tests;

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[
    &reference::Par,
    &reference::Lsc,
    &reference::Relate,
    &reference::RefQuantile,
    &cosine::Similarity,
    &cosine::CosineToGroup,
    &cosine::Novelty,
];
