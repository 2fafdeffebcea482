//! Every node kind of the registry, one file per family.

use crate::node::Node;

mod advantage;
mod combine;
mod filter;
mod gate;
pub mod judge;
mod map;
mod normalize;
mod place;
mod probe;
mod reduce;
mod relate;
mod running;
mod scan;
mod schedule;
pub mod verify;
mod weight;

/// Every node implementation.
pub fn all() -> impl Iterator<Item = &'static dyn Node> {
    [
        advantage::ALL,
        combine::ALL,
        filter::ALL,
        gate::ALL,
        judge::ALL,
        map::ALL,
        normalize::ALL,
        place::ALL,
        probe::ALL,
        reduce::ALL,
        relate::ALL,
        running::ALL,
        scan::ALL,
        schedule::ALL,
        verify::ALL,
        weight::ALL,
    ]
    .into_iter()
    .flat_map(|family| family.iter().copied())
}

/// The implementation of a registry name.
pub fn lookup(name: &str) -> Option<&'static dyn Node> {
    all().find(|n| n.name() == name)
}
