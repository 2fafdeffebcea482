//! The key/value cache both policies share: per block, the keys (after
//! rotation) and values of every position seen so far, each
//! `[batch, kv_heads, positions, head_dim]` (the built-in model has as many
//! key/value heads as query heads; grouped-query attention caches only the
//! shared ones). Each forward call appends its positions.

use burn::prelude::*;

/// Keys and values of the positions seen so far, one pair per block.
#[derive(Clone, Debug, Default)]
pub struct KvCache {
    layers: Vec<(Tensor<4>, Tensor<4>)>,
}

impl KvCache {
    /// An empty cache.
    pub fn new() -> KvCache {
        KvCache::default()
    }

    /// Positions cached so far.
    pub fn len(&self) -> usize {
        self.layers.first().map_or(0, |(k, _)| k.dims()[2])
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Block `i`'s keys and values, if any were cached.
    pub(crate) fn layer(&self, i: usize) -> Option<(Tensor<4>, Tensor<4>)> {
        self.layers.get(i).cloned()
    }

    /// Replaces (or, for a block seen the first time, adds) block `i`'s entry.
    pub(crate) fn set(&mut self, i: usize, kv: (Tensor<4>, Tensor<4>)) {
        if i < self.layers.len() {
            self.layers[i] = kv;
        } else {
            self.layers.push(kv);
        }
    }
}
