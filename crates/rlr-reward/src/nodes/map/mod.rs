//! Node family: map — element-wise maths on one scope (methods.md §P.2 node 5).
//!
//! Every map aligns its inputs to the output's scope (a schedule or group
//! value used as a bound broadcasts down) and computes entry by entry; NaN
//! inputs give NaN outputs (`between` gives false). The helpers in `common`
//! and `func` are shared with the other element-wise families, reductions,
//! normalisers and relations.

use crate::node::Node;

mod bounded;
pub(crate) mod common;
pub(crate) mod func;
mod unary;
mod vector;

#[cfg(test)]
mod tests;

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[
    &unary::Exp,
    &unary::Log,
    &unary::Sqrt,
    &unary::Abs,
    &unary::Sign,
    &unary::Tanh,
    &unary::Floor,
    &unary::SigmoidPoly,
    &unary::Sigmoid,
    &unary::LogSigmoid,
    &bounded::Clamp,
    &bounded::Round,
    &bounded::Between,
    &bounded::Interp,
    &vector::Component,
];
