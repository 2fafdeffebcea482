//! Series: one quantity over a run's steps. Which numbers of a metrics line
//! become which series (`flatten`), and the order they are shown in.

use serde_json::{Map, Value};

/// One step's value of a quantity.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The stage, an index into [`crate::Run::stages`].
    pub stage: usize,
    /// The step within its stage, 1-based, as logged.
    pub step: u64,
    /// Position on the run's x axis: the stage's offset plus the step, so
    /// stages follow one another.
    pub x: f64,
    /// The value.
    pub y: f64,
    /// The spread around it (a binding's standard deviation), when logged.
    pub std: Option<f64>,
}

/// A quantity over the steps of a run, in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// The quantity: a top-level key (`reward`, `eval/accuracy`), or
    /// `metrics/KEY` (filter and objective figures), or `binding/NAME` (a
    /// reward-graph binding's mean).
    pub key: String,
    /// Its values, one per step that logged it.
    pub points: Vec<Point>,
}

impl Series {
    /// The last value, if any.
    pub fn last(&self) -> Option<f64> {
        self.points.last().map(|p| p.y)
    }

    /// The last value logged in stage `stage`.
    pub fn last_in(&self, stage: usize) -> Option<f64> {
        self.points
            .iter()
            .rev()
            .find(|p| p.stage == stage)
            .map(|p| p.y)
    }
}

/// The quantities every report leads with, in this order.
pub const HEADLINE: &[&str] = &["reward", "eval/accuracy", "kl", "entropy", "length", "loss"];

/// Where a key is shown: headline keys first, then other top-level keys,
/// then `metrics/...`, then bindings; by name within each group.
pub fn order(key: &str) -> (usize, &str) {
    let rank = if let Some(i) = HEADLINE.iter().position(|h| *h == key) {
        i
    } else if key.starts_with("binding/") {
        HEADLINE.len() + 3
    } else if key.starts_with("metrics/") {
        HEADLINE.len() + 2
    } else {
        HEADLINE.len() + 1
    };
    (rank, key)
}

/// One logged number: key, value and spread.
pub type Entry = (String, f64, Option<f64>);

/// Every number of a metrics line except `stage` and `step`: top-level
/// numbers under their own key, nested ones joined with `/` (`eval/...` are
/// already flat), each binding of `metrics.nodes` as `binding/NAME` with its
/// mean and standard deviation. Strings, booleans and nulls are left out.
pub fn flatten(line: &Map<String, Value>) -> Vec<Entry> {
    let mut out = Vec::new();
    for (key, value) in line {
        match key.as_str() {
            "stage" | "step" => {}
            "metrics" => metrics(value, &mut out),
            _ => numbers(key, value, &mut out),
        }
    }
    out
}

/// The runtime's per-step metrics: bindings by name, then the rest.
fn metrics(value: &Value, out: &mut Vec<Entry>) {
    let Value::Object(m) = value else {
        return numbers("metrics", value, out);
    };
    for (key, v) in m {
        if key == "nodes"
            && let Value::Object(nodes) = v
        {
            for (name, stats) in nodes {
                let mean = stats.get("mean").and_then(Value::as_f64);
                let std = stats.get("std").and_then(Value::as_f64);
                if let Some(mean) = mean {
                    out.push((format!("binding/{name}"), mean, std));
                }
            }
        } else {
            numbers(&format!("metrics/{key}"), v, out);
        }
    }
}

/// The numbers of `value`, nested keys and array indices joined with `/`.
fn numbers(key: &str, value: &Value, out: &mut Vec<Entry>) {
    match value {
        Value::Number(n) => {
            if let Some(y) = n.as_f64().filter(|y| y.is_finite()) {
                out.push((key.to_string(), y, None));
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                numbers(&format!("{key}/{k}"), v, out);
            }
        }
        Value::Array(xs) => {
            for (i, v) in xs.iter().enumerate() {
                numbers(&format!("{key}/{i}"), v, out);
            }
        }
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_number_becomes_a_key() {
        let line = json!({
            "stage": "rl", "step": 3, "loss": 0.5, "reward": null, "eval/accuracy": 0.25,
            "extra": {"a": 1, "b": [2, 3]}, "flag": true,
            "metrics": {
                "nodes": {"correct": {"count": 6, "mean": 0.5, "std": 0.1}, "text_node": {"count": 6}},
                "halted": 0.0, "zero_variance": [0.5]
            }
        });
        let Value::Object(m) = line else {
            panic!("not an object")
        };
        let mut got = flatten(&m);
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let keys: Vec<&str> = got.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            keys,
            [
                "binding/correct",
                "eval/accuracy",
                "extra/a",
                "extra/b/0",
                "extra/b/1",
                "loss",
                "metrics/halted",
                "metrics/zero_variance/0"
            ]
        );
        assert_eq!(got[0], ("binding/correct".into(), 0.5, Some(0.1)));
    }

    #[test]
    fn headline_keys_lead() {
        let mut keys = vec!["binding/x", "metrics/halted", "grad_norm", "loss", "reward"];
        keys.sort_by_key(|k| order(k));
        assert_eq!(
            keys,
            ["reward", "loss", "grad_norm", "metrics/halted", "binding/x"]
        );
    }
}
