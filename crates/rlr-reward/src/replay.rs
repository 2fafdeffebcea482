//! Replaying logged rollouts: the `rollouts.jsonl` schema, reading it with
//! located errors, evaluating a stage on it, and comparing two graphs.
//!
//! One line per rollout:
//!
//! ```json
//! {"stage": "rl", "step": 3, "group": 0, "branch": null,
//!  "sample": {"answer": "12"}, "text": "... \\boxed{12}", "truncated": false,
//!  "tokens": [..], "offsets": [..], "logprob": [..], "ref_logprob": [..], "entropy": [..], "tool": [..]}
//! ```
//!
//! Lines with the same `stage`, `step` and `group` form one group; `branch`
//! names an auxiliary branch's rollout (absent or null: a main rollout).
//! The group's `sample` is taken from its first line.

use std::collections::BTreeMap;

use rlr_lang::ir::Stage;
use serde::{Deserialize, Serialize};

use crate::batch::{Batch, Group, Rollout};
use crate::error::EvalError;
use crate::eval::{Evaluation, Options, evaluate};
use crate::layout::SetId;
use crate::state::State;
use crate::value::{Data, Value};

/// One line of `rollouts.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// The stage that generated it.
    pub stage: String,
    /// The step, 1-based.
    pub step: u64,
    /// The group (prompt) within the step, 0-based.
    pub group: usize,
    /// The branch, or none for a main rollout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The prompt's task record.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub sample: serde_json::Map<String, serde_json::Value>,
    /// The rollout itself.
    #[serde(flatten)]
    pub rollout: Rollout,
}

/// A problem in a rollouts file, with its 1-based line.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadError {
    /// The line.
    pub line: usize,
    /// What is wrong (names the field when one is missing).
    pub message: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Reads `rollouts.jsonl` text into batches of one stage, in step order.
pub fn read(text: &str, stage: &str) -> Result<Vec<Batch>, ReadError> {
    let mut steps: BTreeMap<u64, BTreeMap<usize, Group>> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: Row = serde_json::from_str(line).map_err(|e| ReadError {
            line: i + 1,
            message: clean(&e),
        })?;
        if row.stage != stage {
            continue;
        }
        if !row.rollout.offsets.is_empty() {
            // Equal neighbours are tokens that complete no character alone.
            let ok =
                row.rollout.offsets.windows(2).all(|w| w[0] <= w[1])
                    && row.rollout.offsets.iter().all(|o| {
                        *o <= row.rollout.text.len() && row.rollout.text.is_char_boundary(*o)
                    });
            if !ok {
                return Err(ReadError {
                    line: i + 1,
                    message: "`offsets` must not decrease and must fall on character boundaries of `text`"
                        .into(),
                });
            }
        }
        let n = row.rollout.token_count();
        for (field, len) in [
            ("logprob", row.rollout.logprob.len()),
            ("ref_logprob", row.rollout.ref_logprob.len()),
            ("entropy", row.rollout.entropy.len()),
            ("tool", row.rollout.tool.len()),
        ] {
            if len != 0 && len != n {
                return Err(ReadError {
                    line: i + 1,
                    message: format!("`{field}` has {len} entries but the rollout has {n} tokens"),
                });
            }
        }
        let group = steps
            .entry(row.step)
            .or_default()
            .entry(row.group)
            .or_default();
        if group.sample.is_empty() {
            group.sample = row.sample;
        }
        match row.branch {
            None => group.rollouts.push(row.rollout),
            Some(b) => group.branches.entry(b).or_default().push(row.rollout),
        }
    }
    Ok(steps
        .into_iter()
        .map(|(step, groups)| Batch {
            step,
            steps: 0,
            groups: groups.into_values().collect(),
        })
        .collect())
}

fn clean(e: &serde_json::Error) -> String {
    // serde's message already names missing and unknown fields; drop its position (we give the line).
    let s = e.to_string();
    match s.find(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// One output line: every binding's value, the advantages and masks of one rollout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// The step.
    pub step: u64,
    /// The group.
    pub group: usize,
    /// The branch, or none for a main rollout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The rollout's position in its group, 0-based.
    pub index: usize,
    /// Each binding's value for this rollout (group and step values repeated;
    /// segment and token values as lists).
    pub values: BTreeMap<String, serde_json::Value>,
    /// Per objective that trains on these rollouts: the token advantages.
    pub advantages: BTreeMap<String, Vec<f64>>,
    /// Per objective: whether each token counts in the loss.
    pub mask: BTreeMap<String, Vec<bool>>,
    /// Whether the group was halted before rollout.
    pub halted: bool,
    /// Whether the group was dropped after rollout.
    pub dropped: bool,
}

/// Evaluates a stage on each batch, with running statistics carried across steps.
pub fn replay(
    stage: &Stage,
    batches: &[Batch],
    seed: u64,
) -> Result<Vec<(Batch, Evaluation)>, EvalError> {
    let mut state = State::default();
    let total = stage
        .settings
        .get("steps")
        .and_then(|c| c.as_f64())
        .unwrap_or(0.0) as u64;
    let mut out = Vec::new();
    for b in batches {
        let mut b = b.clone();
        b.steps = total.max(b.step);
        let ev = evaluate(
            stage,
            &b,
            &mut state,
            &Options {
                seed,
                probes: None,
                before_rollout: false,
            },
        )?;
        state.commit();
        out.push((b, ev));
    }
    Ok(out)
}

/// The per-rollout lines of an evaluation.
pub fn scored(stage: &Stage, batch: &Batch, ev: &Evaluation) -> Vec<Scored> {
    let mut out = Vec::new();
    for (set, layout) in &ev.layouts {
        for r in 0..layout.responses() {
            let g = layout.group_of[r];
            let mut values = BTreeMap::new();
            for (node, v) in stage.graph.nodes.iter().zip(&ev.values) {
                let Some(v) = v else { continue };
                if v.scope >= rlr_lang::Scope::Response && v.set != *set {
                    continue;
                }
                if let Some(j) = json_at(v, g, r, layout) {
                    values.insert(node.name.clone(), j);
                }
            }
            let mut advantages = BTreeMap::new();
            let mut mask = BTreeMap::new();
            for (k, o) in ev.objectives.iter().enumerate() {
                if o.set != *set {
                    continue;
                }
                let name = stage.graph.node(stage.objectives[k].target).name.clone();
                let key = if advantages.contains_key(&name) {
                    format!("{name}#{k}")
                } else {
                    name
                };
                let tokens = layout.response_tokens(r);
                advantages.insert(
                    key.clone(),
                    o.advantages
                        .get(tokens.clone())
                        .map(<[f64]>::to_vec)
                        .unwrap_or_default(),
                );
                mask.insert(
                    key,
                    o.mask.get(tokens).map(<[bool]>::to_vec).unwrap_or_default(),
                );
            }
            out.push(Scored {
                step: batch.step,
                group: g,
                branch: match set {
                    SetId::Main => None,
                    SetId::Branch(b) => Some(b.clone()),
                },
                index: r - layout.group_start[g],
                values,
                advantages,
                mask,
                halted: ev.halted.get(g).copied().unwrap_or(false),
                dropped: ev.dropped.get(g).copied().unwrap_or(false),
            });
        }
    }
    out
}

fn json_at(
    v: &Value,
    g: usize,
    r: usize,
    layout: &crate::layout::Layout,
) -> Option<serde_json::Value> {
    use rlr_lang::Scope::*;
    let range = match v.scope {
        Step | Batch => 0..1,
        Group => g..g + 1,
        Response => r..r + 1,
        Segment => v.segs.as_ref()?.of(r),
        Token => layout.response_tokens(r),
    };
    let one = |i: usize| -> Option<serde_json::Value> {
        Some(match &v.data {
            Data::Real(x) => serde_json::Value::from(*x.get(i)?),
            Data::Bool(x) => serde_json::Value::from(*x.get(i)?),
            Data::Text(x) => serde_json::Value::from(x.get(i)?.clone()),
            Data::Label(x) => x
                .get(i)?
                .clone()
                .map_or(serde_json::Value::Null, serde_json::Value::from),
            Data::Vector(x) => serde_json::Value::from(x.get(i)?.clone()),
        })
    };
    if matches!(v.scope, Segment | Token) {
        Some(serde_json::Value::Array(range.filter_map(one).collect()))
    } else {
        one(range.start)
    }
}

/// What changed between two graphs on the same rollouts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Comparison {
    /// Bindings only in the first recipe.
    pub removed: Vec<String>,
    /// Bindings only in the second.
    pub added: Vec<String>,
    /// For bindings in both whose numbers differ: entries changed, mean and max |Δ|.
    pub changed: BTreeMap<String, Delta>,
    /// Rollouts (step, group, index, branch) whose advantage changed sign, per objective position.
    pub sign_flips: Vec<(u64, usize, usize, Option<String>)>,
    /// Groups whose `halt` or `drop` decision changed: (step, group, filter, before, after).
    pub filters: Vec<(u64, usize, &'static str, bool, bool)>,
}

/// How one binding's numbers changed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Delta {
    /// Entries compared.
    pub entries: usize,
    /// Entries that differ.
    pub changed: usize,
    /// Mean absolute difference over all entries.
    pub mean_abs: f64,
    /// Largest absolute difference.
    pub max_abs: f64,
}

/// Compares two replays of the same batches.
pub fn compare(
    a_stage: &Stage,
    a: &[(Batch, Evaluation)],
    b_stage: &Stage,
    b: &[(Batch, Evaluation)],
) -> Comparison {
    let names = |s: &Stage| {
        s.graph
            .nodes
            .iter()
            .map(|n| n.name.clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let (na, nb) = (names(a_stage), names(b_stage));
    let mut c = Comparison {
        removed: na.difference(&nb).cloned().collect(),
        added: nb.difference(&na).cloned().collect(),
        ..Comparison::default()
    };
    for ((batch, ea), (_, eb)) in a.iter().zip(b) {
        for name in na.intersection(&nb) {
            let (Some(ia), Some(ib)) = (a_stage.graph.find(name), b_stage.graph.find(name)) else {
                continue;
            };
            let (Some(Some(va)), Some(Some(vb))) =
                (ea.values.get(ia.0 as usize), eb.values.get(ib.0 as usize))
            else {
                continue;
            };
            let (Some(xa), Some(xb)) = (va.reals(), vb.reals()) else {
                continue;
            };
            if xa.len() != xb.len() {
                continue;
            }
            let d = c.changed.entry(name.clone()).or_default();
            for (p, q) in xa.iter().zip(xb.iter()) {
                let diff = if p.is_nan() && q.is_nan() {
                    0.0
                } else {
                    (p - q).abs()
                };
                d.entries += 1;
                if diff > 1e-12 {
                    d.changed += 1;
                }
                d.mean_abs += diff;
                d.max_abs = d.max_abs.max(diff);
            }
        }
        for (k, (oa, ob)) in ea.objectives.iter().zip(&eb.objectives).enumerate() {
            let _ = k;
            let Some(layout) = ea.layouts.get(&oa.set) else {
                continue;
            };
            for r in 0..layout.responses() {
                let first = layout.response_tokens(r).next();
                let (Some(t), true) = (first, oa.set == ob.set) else {
                    continue;
                };
                let (x, y) = (
                    oa.advantages.get(t).copied().unwrap_or(0.0),
                    ob.advantages.get(t).copied().unwrap_or(0.0),
                );
                if x * y < 0.0 {
                    let g = layout.group_of[r];
                    let branch = match &oa.set {
                        SetId::Main => None,
                        SetId::Branch(b) => Some(b.clone()),
                    };
                    c.sign_flips
                        .push((batch.step, g, r - layout.group_start[g], branch));
                }
            }
        }
        for (kind, xa, xb) in [
            ("halt", &ea.halted, &eb.halted),
            ("drop", &ea.dropped, &eb.dropped),
        ] {
            for (g, (p, q)) in xa.iter().zip(xb.iter()).enumerate() {
                if p != q {
                    c.filters.push((batch.step, g, kind, *p, *q));
                }
            }
        }
    }
    c.changed.retain(|_, d| d.changed > 0);
    for d in c.changed.values_mut() {
        d.mean_abs /= d.entries.max(1) as f64;
    }
    c
}
