//! Node family: reduce — reductions to a coarser scope, with `where`
//! partitions (methods.md §P.2 node 7).
//!
//! The input's entries are reduced to `call.out.scope`: token or segment →
//! response, response → group, group → batch, or straight to the scope named
//! by `over`. A `where` partition keeps only the members where it holds.
//! Where no member is left the result is NaN (the empty label for `mode`)
//! and the group (or the batch) is recorded in `cx.empty_partitions`, so the
//! binding's `else` fallback replaces exactly those entries; `count`, `any`
//! and `all` have defined values there instead (0, false, true), and `sum`
//! gives 0. For a response-scope result (a token or segment reduction) the
//! group of the response is recorded and only that response's entry is NaN.

use crate::node::Node;

mod logic;
pub(crate) mod members;
mod mode;
mod numeric;
pub(crate) mod stats;

#[cfg(test)]
mod tests;

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[
    &numeric::Mean,
    &numeric::Std,
    &numeric::Sum,
    &logic::Count,
    &logic::Any,
    &logic::All,
    &mode::Mode,
    &numeric::Quantile,
    &numeric::Median,
    &numeric::Max,
    &numeric::Min,
];
