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

#[cfg(test)]
mod coverage {
    use rlr_lang::registry::{self, Category};

    /// The registry and the runtime name the same node kinds, so no name exists twice.
    #[test]
    fn every_registry_node_has_exactly_one_implementation() {
        let mut missing = Vec::new();
        for b in registry::all() {
            // `rollout` declares a branch; the engine samples it, nothing evaluates it.
            if let Category::Node(family) = b.category
                && family != registry::Family::Rollout
            {
                let n = super::all().filter(|i| i.name() == b.name).count();
                if n != 1 {
                    missing.push(format!("{} ({n} implementations)", b.name));
                }
            }
        }
        assert!(missing.is_empty(), "{missing:?}");
        for imp in super::all() {
            let known = registry::lookup(imp.name())
                .is_some_and(|b| matches!(b.category, Category::Node(_)));
            assert!(
                known,
                "`{}` is implemented but not in the registry",
                imp.name()
            );
        }
    }
}
