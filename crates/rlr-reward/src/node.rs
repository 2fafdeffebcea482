//! The one trait every node kind implements, and what it is given.
//!
//! A node receives its arguments already evaluated ([`Call`]) and the
//! batch's context ([`Cx`]); it returns one [`Value`] of the scope the
//! checker inferred (`call.out`). To add a node kind: add its signature to
//! `rlr_lang::registry`, implement [`Node`] under the same name, and list it
//! in `nodes::ALL`. A test checks that both sides name the same set.

use std::collections::BTreeMap;

use rlr_lang::ir::Const;
use rlr_lang::registry::Builtin;
use rlr_lang::{Scope, ValueType};

use crate::batch::{Batch, Group, Rollout};
use crate::error::{EvalError, Result};
use crate::layout::{Layout, Segs, SetId};
use crate::state::State;
use crate::value::{Value, broadcast};

/// A node kind's implementation.
pub trait Node: Sync {
    /// The registry name it implements (`mean`, `judge.steps`, ...).
    fn name(&self) -> &'static str;
    /// Computes the node's value.
    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value>;
}

/// An evaluated argument.
#[derive(Clone, Debug)]
pub enum Arg<'a> {
    /// A graph value (shared with the executor's table, never copied).
    Value(std::sync::Arc<Value>),
    /// A constant.
    Const(&'a Const),
}

impl From<Value> for Arg<'_> {
    fn from(v: Value) -> Self {
        Arg::Value(std::sync::Arc::new(v))
    }
}

/// A call of a node: its arguments by parameter name, in parameter order.
#[derive(Debug)]
pub struct Call<'a> {
    /// The signature.
    pub builtin: &'static Builtin,
    /// Arguments; a variadic parameter appears once per value.
    pub args: Vec<(&'static str, Arg<'a>)>,
    /// `where` partition of the first argument (bool, at the first argument's
    /// scope); for an advantage estimator, the rollouts an objective's
    /// `where` keeps (one bool per response).
    pub partition: Option<std::sync::Arc<Value>>,
    /// The type the checker inferred for the result.
    pub out: ValueType,
    /// The rollouts the result belongs to.
    pub set: SetId,
}

impl<'a> Call<'a> {
    fn missing(&self, name: &str) -> EvalError {
        EvalError::new(format!(
            "`{}` was called without `{name}`",
            self.builtin.name
        ))
    }

    /// The value of a signal parameter.
    pub fn value(&self, name: &str) -> Result<&Value> {
        self.args
            .iter()
            .find_map(|(n, a)| match a {
                Arg::Value(v) if *n == name => Some(&**v),
                _ => None,
            })
            .ok_or_else(|| self.missing(name))
    }

    /// Every value given to a (variadic) signal parameter, in order.
    pub fn values(&self, name: &str) -> Vec<&Value> {
        self.args
            .iter()
            .filter_map(|(n, a)| match a {
                Arg::Value(v) if *n == name => Some(&**v),
                _ => None,
            })
            .collect()
    }

    /// The constant of a parameter.
    pub fn constant(&self, name: &str) -> Result<&'a Const> {
        self.args
            .iter()
            .find_map(|(n, a)| match a {
                Arg::Const(c) if *n == name => Some(*c),
                _ => None,
            })
            .ok_or_else(|| self.missing(name))
    }

    /// A numeric constant.
    pub fn real(&self, name: &str) -> Result<f64> {
        match self.constant(name) {
            Ok(c) => c
                .as_f64()
                .ok_or_else(|| EvalError::new(format!("`{name}` is not a number"))),
            // Numeric parameters may also be given as step-scope values (schedules).
            Err(e) => match self.value(name) {
                Ok(v) if v.scope <= Scope::Batch => {
                    v.reals().and_then(|r| r.first().copied()).ok_or(e)
                }
                _ => Err(e),
            },
        }
    }

    /// An integer constant.
    pub fn int(&self, name: &str) -> Result<i64> {
        self.real(name).map(|x| x as i64)
    }

    /// A boolean constant.
    pub fn flag(&self, name: &str) -> Result<bool> {
        match self.constant(name)? {
            Const::Bool(b) => Ok(*b),
            _ => Err(EvalError::new(format!("`{name}` is not true/false"))),
        }
    }

    /// A string (or choice) constant.
    pub fn text(&self, name: &str) -> Result<&'a str> {
        match self.constant(name)? {
            Const::Str(s) | Const::Name(s) => Ok(s),
            _ => Err(EvalError::new(format!("`{name}` is not a string"))),
        }
    }

    /// A list of strings.
    pub fn texts(&self, name: &str) -> Result<Vec<&'a str>> {
        match self.constant(name)? {
            Const::List(items) => Ok(items
                .iter()
                .filter_map(|c| match c {
                    Const::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect()),
            _ => Err(EvalError::new(format!("`{name}` is not a list of strings"))),
        }
    }

    /// A list of numbers.
    pub fn reals(&self, name: &str) -> Result<Vec<f64>> {
        match self.constant(name)? {
            Const::List(items) => Ok(items.iter().filter_map(Const::as_f64).collect()),
            _ => Err(EvalError::new(format!("`{name}` is not a list of numbers"))),
        }
    }

    /// A pair such as a range or a clip interval.
    pub fn pair(&self, name: &str) -> Result<(f64, f64)> {
        match self.constant(name)? {
            Const::Pair(a, b) | Const::Range(a, b) => Ok((*a, *b)),
            c => c
                .as_f64()
                .map(|x| (x, x))
                .ok_or_else(|| EvalError::new(format!("`{name}` is not a pair"))),
        }
    }

    /// `(step, value)` points.
    pub fn points(&self, name: &str) -> Result<Vec<(f64, f64)>> {
        match self.constant(name)? {
            Const::Points(p) => Ok(p.clone()),
            Const::List(l) if l.is_empty() => Ok(Vec::new()),
            _ => Err(EvalError::new(format!(
                "`{name}` is not a list of (step, value) pairs"
            ))),
        }
    }
}

/// Everything a node can read besides its arguments.
pub struct Cx<'a> {
    /// The rollouts.
    pub batch: &'a Batch,
    /// The layout of the main rollouts and of each branch.
    pub layouts: &'a BTreeMap<SetId, Layout>,
    /// The current step (1-based) and the stage's total steps.
    pub step: f64,
    /// The stage's total steps.
    pub steps: f64,
    /// The recipe's seed, for seeded draws.
    pub seed: u64,
    /// The binding being computed (keys state and seeded draws).
    pub node: &'a str,
    /// For lazy evaluation under `when`: only responses marked true need a value.
    pub active: Option<Vec<bool>>,
    /// State kept across steps.
    pub state: &'a mut State,
    /// Calls and failures of expensive nodes, by binding.
    pub counters: &'a mut BTreeMap<String, Counter>,
    /// Responses a judge asked to leave out of this step's loss (`on_error = "skip"`).
    pub skipped: &'a mut Vec<(SetId, usize)>,
    /// The model, for probes; `None` when replaying without one.
    pub probes: Option<&'a dyn Probes>,
    /// Groups whose `where` partition was empty in the binding being computed
    /// (`None`: a batch-wide reduction's partition was empty). A reduction
    /// that meets an empty partition returns NaN there and records it here;
    /// the binding's `else` fallback then replaces exactly those entries.
    pub empty_partitions: Vec<Option<usize>>,
}

/// Calls of an expensive node in one step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counter {
    /// Items scored.
    pub calls: u64,
    /// Items that failed.
    pub failures: u64,
}

/// One question for a model: how likely is `continuation` after `prompt`
/// and `context`?
///
/// The split mirrors a rollout: `prompt` is read the way the engine reads a
/// task prompt (its chat template, or `BOS prompt \n`) and `context` follows
/// as response text, so a probe of "prompt, then this response" sees the
/// same tokens the rollout was sampled after.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProbeRequest {
    /// The task prompt (empty: no prompt at all).
    pub prompt: String,
    /// Response text after the prompt (part of a rollout, or a rewritten one).
    pub context: String,
    /// The text whose log-probability is asked for.
    pub continuation: String,
}

impl ProbeRequest {
    /// A request with the given parts.
    pub fn new(
        prompt: impl Into<String>,
        context: impl Into<String>,
        continuation: impl Into<String>,
    ) -> ProbeRequest {
        ProbeRequest {
            prompt: prompt.into(),
            context: context.into(),
            continuation: continuation.into(),
        }
    }

    /// Prompt and context as one text (what a person reads before the continuation).
    pub fn before(&self) -> String {
        format!("{}{}", self.prompt, self.context)
    }
}

/// What only a model can compute: log-probabilities of given text.
pub trait Probes {
    /// `(sum of log-probabilities, token count)` of each request's
    /// continuation, under the policy (`reference = false`) or the
    /// reference model.
    fn logprob(
        &self,
        requests: &[ProbeRequest],
        reference: bool,
    ) -> std::result::Result<Vec<(f64, usize)>, String>;
}

impl Cx<'_> {
    /// The layout of a set of rollouts.
    pub fn layout(&self, set: &SetId) -> Result<&Layout> {
        self.layouts
            .get(set)
            .ok_or_else(|| EvalError::new(format!("the batch has no rollouts for `{set}`")))
    }

    /// Response `r` of a set (responses are numbered across groups).
    pub fn rollout(&self, set: &SetId, r: usize) -> Option<&Rollout> {
        let layout = self.layouts.get(set)?;
        let g = *layout.group_of.get(r)?;
        let i = r - layout.group_start[g];
        let group = self.batch.groups.get(g)?;
        match set {
            SetId::Main => group.rollouts.get(i),
            SetId::Branch(b) => group.branches.get(b)?.get(i),
        }
    }

    /// Group `g`.
    pub fn group(&self, g: usize) -> Option<&Group> {
        self.batch.groups.get(g)
    }

    /// Spreads a value to a finer scope of the call's rollouts.
    pub fn broadcast(
        &self,
        v: &Value,
        to: Scope,
        set: &SetId,
        segs: Option<&Segs>,
    ) -> Result<Value> {
        let layout = self.layout(set)?;
        Ok(broadcast(v, to, set, layout, segs))
    }

    /// A uniform draw in [0, 1) determined by the seed, the step, this binding and `key`.
    pub fn uniform(&self, key: u64) -> f64 {
        let mut h = self.seed ^ 0x9E37_79B9_7F4A_7C15;
        for b in self.node.bytes() {
            h = splitmix(h ^ u64::from(b));
        }
        h = splitmix(h ^ (self.step as u64));
        h = splitmix(h ^ key);
        (h >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal draw, determined like [`Cx::uniform`].
    pub fn normal(&self, key: u64) -> f64 {
        let u1 = self.uniform(key.wrapping_mul(2)).max(f64::MIN_POSITIVE);
        let u2 = self.uniform(key.wrapping_mul(2).wrapping_add(1));
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
