//! State kept across steps (running statistics, anchors): serialisable with
//! the checkpoint, changed only when a step commits.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Every stateful node's state, keyed by node name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Committed state.
    pub nodes: BTreeMap<String, serde_json::Value>,
    /// Updates computed this step, applied by [`State::commit`].
    #[serde(skip)]
    pending: BTreeMap<String, serde_json::Value>,
}

impl State {
    /// The committed state of a node, if any (and if it has the expected shape).
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.nodes
            .get(key)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// Records a node's new state, to take effect at the next commit.
    pub fn stage<T: Serialize>(&mut self, key: &str, value: &T) {
        if let Ok(v) = serde_json::to_value(value) {
            self.pending.insert(key.to_string(), v);
        }
    }

    /// Applies this step's updates (after a successful optimiser step).
    pub fn commit(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        self.nodes.extend(pending);
    }

    /// Drops this step's updates (the step failed or was a replay).
    pub fn discard(&mut self) {
        self.pending.clear();
    }
}
