//! Statistics of every binding each step, logged without being asked:
//! mean, std, min and max of numbers; the pass rate of flags; calls and
//! failures of judges; filter and zero-variance fractions; the rollouts and
//! tokens each objective trains on.

use std::collections::BTreeMap;
use std::sync::Arc;

use rlr_lang::ir::RewardGraph;
use serde::{Deserialize, Serialize};

use crate::node::Counter;
use crate::objective::ObjectiveSignal;
use crate::value::{Data, Value};

/// One binding's statistics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeMetrics {
    /// Entries counted (finite numbers or flags).
    pub count: usize,
    /// Mean of the numbers (or the pass rate of flags).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Population standard deviation of the numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
    /// Smallest number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Fraction of flags that are true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass_rate: Option<f64>,
    /// Items scored by an expensive node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<u64>,
    /// Items that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures: Option<u64>,
}

/// Every binding's statistics and the step's filter and objective figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// By binding name, in name order.
    pub nodes: BTreeMap<String, NodeMetrics>,
    /// Fraction of groups halted before rollout.
    pub halted: f64,
    /// Fraction of groups dropped after rollout.
    pub dropped: f64,
    /// Per objective (in recipe order): fraction of groups whose reward has zero spread.
    pub zero_variance: Vec<f64>,
    /// Per objective: rollouts with at least one token in its loss (after
    /// filters, masks and its `where`).
    #[serde(default)]
    pub trained_rollouts: Vec<usize>,
    /// Per objective: tokens in its loss.
    #[serde(default)]
    pub trained_tokens: Vec<usize>,
}

impl NodeMetrics {
    /// Statistics of one value.
    pub fn of(v: &Value) -> NodeMetrics {
        match &v.data {
            Data::Real(xs) => {
                let finite: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
                if finite.is_empty() {
                    return NodeMetrics::default();
                }
                let n = finite.len() as f64;
                let mean = finite.iter().sum::<f64>() / n;
                let var = finite.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
                NodeMetrics {
                    count: finite.len(),
                    mean: Some(mean),
                    std: Some(var.sqrt()),
                    min: finite.iter().copied().reduce(f64::min),
                    max: finite.iter().copied().reduce(f64::max),
                    ..NodeMetrics::default()
                }
            }
            Data::Bool(b) if !b.is_empty() => {
                let rate = b.iter().filter(|x| **x).count() as f64 / b.len() as f64;
                NodeMetrics {
                    count: b.len(),
                    pass_rate: Some(rate),
                    mean: Some(rate),
                    ..NodeMetrics::default()
                }
            }
            other => NodeMetrics {
                count: other.len(),
                ..NodeMetrics::default()
            },
        }
    }
}

impl Metrics {
    /// Statistics of a whole evaluation.
    pub fn of(
        g: &RewardGraph,
        values: &[Option<Arc<Value>>],
        counters: &BTreeMap<String, Counter>,
        halted: &[bool],
        dropped: &[bool],
        objectives: &[ObjectiveSignal],
    ) -> Metrics {
        let mut nodes = BTreeMap::new();
        for (node, v) in g.nodes.iter().zip(values) {
            let Some(v) = v else { continue };
            let mut m = NodeMetrics::of(v);
            if let Some(c) = counters.get(&node.name) {
                m.calls = Some(c.calls);
                m.failures = Some(c.failures);
            }
            nodes.insert(node.name.clone(), m);
        }
        let frac = |xs: &[bool]| {
            if xs.is_empty() {
                0.0
            } else {
                xs.iter().filter(|x| **x).count() as f64 / xs.len() as f64
            }
        };
        Metrics {
            nodes,
            halted: frac(halted),
            dropped: frac(dropped),
            zero_variance: objectives.iter().map(|o| o.zero_variance).collect(),
            trained_rollouts: objectives.iter().map(|o| o.trained_rollouts).collect(),
            trained_tokens: objectives.iter().map(|o| o.trained_tokens).collect(),
        }
    }
}
