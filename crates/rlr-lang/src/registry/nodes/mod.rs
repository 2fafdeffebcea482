//! Reward-graph nodes: one file per family of methods.md §P.2. The 18th node
//! kind, Objective, is the stage's settings and `optimize` statements
//! (see `stages`).

mod advantage;
mod combine;
mod filter;
mod gate;
mod judge;
mod map;
mod normalize;
mod place;
mod probe;
mod reduce;
mod relate;
mod rollout;
mod running;
mod scan;
mod schedule;
mod verify;
mod weight;

use super::Builtin;

/// Every node built-in, one slice per family, in methods.md §P.2 order.
pub static ALL: &[&[Builtin]] = &[
    verify::ALL,
    judge::ALL,
    probe::ALL,
    rollout::ALL,
    map::ALL,
    combine::ALL,
    reduce::ALL,
    normalize::ALL,
    relate::ALL,
    gate::ALL,
    schedule::ALL,
    running::ALL,
    filter::ALL,
    place::ALL,
    scan::ALL,
    advantage::ALL,
    weight::ALL,
];
