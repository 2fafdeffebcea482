//! Building batches and calls by hand, for unit tests of node kinds.

use std::collections::BTreeMap;

use rlr_lang::ir::Const;
use rlr_lang::registry;
use rlr_lang::{Kind, Scope, ValueType};

use crate::batch::{Batch, Group, Rollout};
use crate::error::Result;
use crate::layout::{Layout, SetId};
use crate::node::{Arg, Call, Counter, Cx};
use crate::state::State;
use crate::value::{Data, Value};

/// A batch and everything a [`Cx`] borrows.
pub struct Fixture {
    /// The rollouts.
    pub batch: Batch,
    /// Layouts of the main rollouts and branches.
    pub layouts: BTreeMap<SetId, Layout>,
    /// State across steps.
    pub state: State,
    /// Judge counters.
    pub counters: BTreeMap<String, Counter>,
    /// Skipped rollouts.
    pub skipped: Vec<(SetId, usize)>,
}

/// Layouts of a batch's main rollouts and of every branch it holds.
pub fn layouts(batch: &Batch) -> BTreeMap<SetId, Layout> {
    let mut out = BTreeMap::new();
    let main: Vec<&Vec<Rollout>> = batch.groups.iter().map(|g| &g.rollouts).collect();
    out.insert(SetId::Main, layout_of(&main));
    let mut names: Vec<&String> = batch
        .groups
        .iter()
        .flat_map(|g| g.branches.keys())
        .collect();
    names.sort();
    names.dedup();
    for name in names {
        let sets: Vec<Vec<Rollout>> = batch
            .groups
            .iter()
            .map(|g| g.branches.get(name).cloned().unwrap_or_default())
            .collect();
        let refs: Vec<&Vec<Rollout>> = sets.iter().collect();
        out.insert(SetId::Branch(name.clone()), layout_of(&refs));
    }
    out
}

fn layout_of(groups: &[&Vec<Rollout>]) -> Layout {
    let per_group: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let tokens: Vec<usize> = groups
        .iter()
        .flat_map(|g| g.iter().map(Rollout::token_count))
        .collect();
    Layout::new(&per_group, &tokens)
}

impl Fixture {
    /// Groups of responses given as texts, with one sample record per group.
    pub fn new(groups: &[(&[&str], serde_json::Value)]) -> Fixture {
        let batch = Batch {
            step: 1,
            steps: 10,
            groups: groups
                .iter()
                .map(|(texts, sample)| Group {
                    sample: sample.as_object().cloned().unwrap_or_default(),
                    rollouts: texts.iter().map(|t| Rollout::from_text(t)).collect(),
                    branches: BTreeMap::new(),
                })
                .collect(),
        };
        Fixture::from_batch(batch)
    }

    /// A fixture around a prepared batch.
    pub fn from_batch(batch: Batch) -> Fixture {
        let layouts = layouts(&batch);
        Fixture {
            batch,
            layouts,
            state: State::default(),
            counters: BTreeMap::new(),
            skipped: Vec::new(),
        }
    }

    /// A context for evaluating the binding `node`.
    pub fn cx(&mut self, node: &'static str) -> Cx<'_> {
        Cx {
            batch: &self.batch,
            layouts: &self.layouts,
            step: self.batch.step as f64,
            steps: self.batch.steps as f64,
            seed: 7,
            node,
            active: None,
            state: &mut self.state,
            counters: &mut self.counters,
            skipped: &mut self.skipped,
            probes: None,
            empty_partitions: Vec::new(),
        }
    }
}

/// A response-scope real value of the main rollouts.
pub fn responses(xs: &[f64]) -> Value {
    Value::new(Scope::Response, SetId::Main, Data::Real(xs.to_vec()))
}

/// A response-scope bool value of the main rollouts.
pub fn flags(xs: &[bool]) -> Value {
    Value::new(Scope::Response, SetId::Main, Data::Bool(xs.to_vec()))
}

/// A call of the registry's `name` with the given arguments; parameters not
/// given take their registry defaults (constants only).
pub fn call<'a>(
    name: &str,
    args: Vec<(&'static str, Arg<'a>)>,
    out: (Scope, Kind),
    consts: &'a [Const],
) -> Call<'a> {
    let builtin = registry::lookup(name).unwrap_or_else(|| panic!("no built-in `{name}`"));
    let _ = consts;
    let mut full: Vec<(&'static str, Arg<'a>)> = Vec::new();
    for p in builtin.params {
        let given: Vec<Arg<'a>> = args
            .iter()
            .filter(|(n, _)| *n == p.name)
            .map(|(_, a)| a.clone())
            .collect();
        if given.is_empty() {
            if let Some(d) = p.default.and_then(default_const) {
                full.push((p.name, Arg::Const(Box::leak(Box::new(d)))));
            }
        } else {
            full.extend(given.into_iter().map(|a| (p.name, a)));
        }
    }
    Call {
        builtin,
        args: full,
        partition: None,
        out: ValueType::new(out.0, out.1),
        set: SetId::Main,
    }
}

fn default_const(d: registry::DefaultValue) -> Option<Const> {
    use registry::DefaultValue as D;
    Some(match d {
        D::Real(x) => Const::Real(x),
        D::Int(i) => Const::Int(i),
        D::Bool(b) => Const::Bool(b),
        D::Str(s) => Const::Str(s.to_string()),
        D::Pair(a, b) => Const::Pair(a, b),
        D::EmptyList => Const::List(Vec::new()),
        D::Ref(_) => return None,
    })
}

/// Leaks a constant for the lifetime of a test.
pub fn constant(c: Const) -> Arg<'static> {
    Arg::Const(Box::leak(Box::new(c)))
}

/// The reals of a result, for assertions.
pub fn reals_of(v: Result<Value>) -> Vec<f64> {
    match v {
        Ok(v) => v.reals().map(|r| r.into_owned()).unwrap_or_default(),
        Err(e) => panic!("evaluation failed: {e}"),
    }
}

/// Asserts two number lists are equal within 1e-9 (NaN equals NaN).
pub fn assert_close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() < 1e-9 || (x.is_nan() && y.is_nan()),
            "{a:?} vs {b:?}"
        );
    }
}
