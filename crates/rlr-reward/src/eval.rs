//! The executor: evaluates a stage's reward graph on a batch, in the
//! compiled order, then the filters and the objectives' advantages.
//!
//! Each binding's expression is evaluated as a tree; calls go to the node
//! implementations in [`crate::nodes`]. `when` computes its value only where
//! its condition holds (judges see `Cx::active`). A binding's `else`
//! fallback replaces the entries of groups whose `where` partition was
//! empty. Any other NaN or infinity is an error naming the binding, the
//! rollout and the inputs.

use std::collections::BTreeMap;
use std::sync::Arc;

use rlr_lang::ast::{BinaryOp, FilterKind, UnaryOp};
use rlr_lang::ir::{self, Const, ExprKind, NodeId, Stage};
use rlr_lang::{Kind, Scope};

use crate::batch::{Batch, Rollout};
use crate::error::{At, EvalError, Result};
use crate::layout::{Layout, SetId};
use crate::metrics::{Metrics, NodeMetrics};
use crate::node::{Arg, Call, Counter, Cx, Probes};
use crate::nodes;
use crate::objective::ObjectiveSignal;
use crate::state::State;
use crate::value::{Data, Value, broadcast};

/// What an evaluation needs besides the graph and the batch.
#[derive(Clone, Copy, Default)]
pub struct Options<'a> {
    /// The recipe's seed.
    pub seed: u64,
    /// The model, for probe nodes.
    pub probes: Option<&'a dyn Probes>,
    /// Only evaluate what can be known before the main rollouts (branches and
    /// what depends on them alone), and the `halt` filters.
    pub before_rollout: bool,
}

/// The result of evaluating a stage on a batch.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Each node's value, by node id; `None` if not evaluated (before rollout).
    pub values: Vec<Option<Arc<Value>>>,
    /// Groups removed before the main rollouts (`halt`).
    pub halted: Vec<bool>,
    /// Groups removed after them (`drop`).
    pub dropped: Vec<bool>,
    /// One training signal per `optimize`.
    pub objectives: Vec<ObjectiveSignal>,
    /// Responses left out of the loss by a judge's `on_error = "skip"`.
    pub skipped: Vec<(SetId, usize)>,
    /// Statistics of every binding.
    pub metrics: Metrics,
    /// The layouts the values are laid out by.
    pub layouts: BTreeMap<SetId, Layout>,
    /// Wall-clock time spent on each node (kept apart from the metrics, which
    /// must not depend on the machine).
    pub timings: Vec<std::time::Duration>,
    /// Wall-clock time inside each built-in and context name, by name.
    pub call_timings: BTreeMap<&'static str, std::time::Duration>,
}

/// Layouts of the main rollouts and every branch the stage declares.
pub fn layouts(stage: &Stage, batch: &Batch) -> BTreeMap<SetId, Layout> {
    let mut out = BTreeMap::new();
    let layout_of = |sets: Vec<&[Rollout]>| {
        let per_group: Vec<usize> = sets.iter().map(|g| g.len()).collect();
        let tokens: Vec<usize> = sets
            .iter()
            .flat_map(|g| g.iter().map(Rollout::token_count))
            .collect();
        Layout::new(&per_group, &tokens)
    };
    out.insert(
        SetId::Main,
        layout_of(batch.groups.iter().map(|g| g.rollouts.as_slice()).collect()),
    );
    for b in &stage.branches {
        let sets = batch
            .groups
            .iter()
            .map(|g| g.branches.get(&b.name).map_or(&[][..], Vec::as_slice))
            .collect();
        out.insert(SetId::Branch(b.name.clone()), layout_of(sets));
    }
    out
}

/// Evaluates a stage's graph, filters and objectives on a batch.
///
/// State updates of running statistics are staged in `state`; the caller
/// commits them after a successful optimiser step (or discards them).
pub fn evaluate(
    stage: &Stage,
    batch: &Batch,
    state: &mut State,
    options: &Options<'_>,
) -> Result<Evaluation> {
    let started = std::time::Instant::now();
    let layouts = layouts(stage, batch);
    let layout_time = started.elapsed();
    let g = &stage.graph;
    let skip = if options.before_rollout {
        needs_main(g)
    } else {
        vec![false; g.nodes.len()]
    };
    let mut call_timings: BTreeMap<&'static str, std::time::Duration> = BTreeMap::new();
    // Counting each rollout's tokens (characters, for the built-in tokenizer) is text work.
    call_timings.insert("tokens", layout_time);
    let mut counters: BTreeMap<String, Counter> = BTreeMap::new();
    let mut skipped = Vec::new();
    let steps = stage_steps(stage, batch);
    let (values, timings) = run_nodes(
        stage,
        batch,
        &layouts,
        &skip,
        state,
        options,
        Tally {
            call_timings: &mut call_timings,
            counters: &mut counters,
            skipped: &mut skipped,
        },
    )?;
    let groups = batch.groups.len();
    let mut halted = vec![false; groups];
    let mut dropped = vec![false; groups];
    for f in &stage.filters {
        if options.before_rollout && f.kind == FilterKind::Drop {
            continue;
        }
        let cond = group_flags(&values, f.cond, groups, &layouts)?;
        let unless = match f.unless {
            Some(u) => group_flags(&values, u, groups, &layouts)?,
            None => vec![false; groups],
        };
        let target = if f.kind == FilterKind::Halt {
            &mut halted
        } else {
            &mut dropped
        };
        for k in 0..groups {
            target[k] |= cond[k] && !unless[k];
        }
    }
    let mut objectives = Vec::new();
    if !options.before_rollout {
        for o in &stage.objectives {
            let mut cx = Cx {
                batch,
                layouts: &layouts,
                step: batch.step as f64,
                steps,
                seed: options.seed,
                node: "optimize",
                active: None,
                state,
                counters: &mut counters,
                skipped: &mut skipped,
                probes: options.probes,
                empty_partitions: Vec::new(),
            };
            let started = std::time::Instant::now();
            objectives.push(crate::objective::signal(
                stage, o, &values, &halted, &dropped, &mut cx,
            )?);
            *call_timings.entry("(objectives)").or_default() += started.elapsed();
        }
    }
    let started = std::time::Instant::now();
    let metrics = Metrics::of(g, &values, &counters, &halted, &dropped, &objectives);
    call_timings.insert("(metrics)", started.elapsed());
    Ok(Evaluation {
        values,
        halted,
        dropped,
        objectives,
        skipped,
        metrics,
        layouts,
        timings,
        call_timings,
    })
}

/// The stage's `steps` (what schedules run over), else the batch's.
fn stage_steps(stage: &Stage, batch: &Batch) -> f64 {
    match stage.settings.get("steps") {
        Some(c) => c.as_f64().unwrap_or(batch.steps as f64),
        None => batch.steps as f64,
    }
}

/// Each node's value, `None` where it was not evaluated.
type Values = Vec<Option<Arc<Value>>>;

/// Where node evaluations count their calls, failures and skipped rollouts.
struct Tally<'t> {
    call_timings: &'t mut BTreeMap<&'static str, std::time::Duration>,
    counters: &'t mut BTreeMap<String, Counter>,
    skipped: &'t mut Vec<(SetId, usize)>,
}

/// Evaluates the graph's nodes in order, leaving out those marked in `skip`
/// (and their values `None`).
fn run_nodes(
    stage: &Stage,
    batch: &Batch,
    layouts: &BTreeMap<SetId, Layout>,
    skip: &[bool],
    state: &mut State,
    options: &Options<'_>,
    tally: Tally<'_>,
) -> Result<(Values, Vec<std::time::Duration>)> {
    let g = &stage.graph;
    let mut values: Vec<Option<Arc<Value>>> = vec![None; g.nodes.len()];
    let mut timings = vec![std::time::Duration::ZERO; g.nodes.len()];
    let mut contexts: BTreeMap<(SetId, &'static str), Arc<Value>> = BTreeMap::new();
    let steps = stage_steps(stage, batch);
    for id in &g.order {
        if skip[id.0 as usize] {
            continue;
        }
        let node = g.node(*id);
        let mut ev = Evaluator {
            g,
            values: &values,
            contexts: &mut contexts,
            call_timings: &mut *tally.call_timings,
            cx: Cx {
                batch,
                layouts,
                step: batch.step as f64,
                steps,
                seed: options.seed,
                node: &node.name,
                active: None,
                state: &mut *state,
                counters: &mut *tally.counters,
                skipped: &mut *tally.skipped,
                probes: options.probes,
                empty_partitions: Vec::new(),
            },
        };
        let set = node.rollouts.clone().map_or(SetId::Main, SetId::Branch);
        let started = std::time::Instant::now();
        let result = ev
            .expr(&node.expr, &set)
            .and_then(|v| ev.finish(node, v, &set));
        timings[id.0 as usize] = started.elapsed();
        let value = result.map_err(|e| locate(e, node, &values, g, layouts))?;
        values[id.0 as usize] = Some(value);
    }
    Ok((values, timings))
}

/// Each branch's prompts, one per group, computed before any rollout: the
/// engine samples branches first (PEARL's checklist), then decides `halt`
/// with `before_rollout`, then samples the main rollouts.
pub fn branch_prompts(
    stage: &Stage,
    batch: &Batch,
    options: &Options<'_>,
) -> Result<BTreeMap<String, Vec<String>>> {
    let layouts = layouts(stage, batch);
    let g = &stage.graph;
    // Nothing that reads any rollout (main or branch) is known yet: a
    // binding on a branch, or one that reads a branch's rollouts inline
    // (`mean(length_of(refs.text))` is a group value of the main set).
    let main = needs_main(g);
    let branch_read = |k: &ExprKind| matches!(k, ExprKind::BranchContext { .. });
    let mut skip = vec![false; g.nodes.len()];
    for id in &g.order {
        let n = g.node(*id);
        let k = id.0 as usize;
        skip[k] = main[k]
            || (n.rollouts.is_some() && n.ty.scope >= Scope::Response)
            || n.expr.any(&branch_read)
            || n.fallback.as_ref().is_some_and(|f| f.any(&branch_read))
            || reads_nodes(&n.expr, &skip)
            || n.fallback.as_ref().is_some_and(|f| reads_nodes(f, &skip));
    }
    let (mut timings, mut counters, mut skipped) = (BTreeMap::new(), BTreeMap::new(), Vec::new());
    let (values, _) = run_nodes(
        stage,
        batch,
        &layouts,
        &skip,
        &mut State::default(),
        options,
        Tally {
            call_timings: &mut timings,
            counters: &mut counters,
            skipped: &mut skipped,
        },
    )?;
    let groups = batch.groups.len();
    let mut out = BTreeMap::new();
    for b in &stage.branches {
        let v = values
            .get(b.prompt.0 as usize)
            .and_then(|v| v.clone())
            .ok_or_else(|| {
                EvalError::new(format!(
                    "branch `{}`: its prompt depends on rollouts; it must be known before sampling",
                    b.name
                ))
            })?;
        let v = match (v.scope, layouts.get(&SetId::Main)) {
            (Scope::Step | Scope::Batch, Some(l)) => {
                broadcast(&v, Scope::Group, &SetId::Main, l, None)
            }
            _ => (*v).clone(),
        };
        match v.data {
            Data::Text(t) if t.len() == groups => {
                out.insert(b.name.clone(), t);
            }
            _ => {
                return Err(EvalError::new(format!(
                    "branch `{}`: the prompt is not one text per group",
                    b.name
                )));
            }
        }
    }
    Ok(out)
}

/// Whether `e` reads a node marked in `marked`.
fn reads_nodes(e: &ir::Expr, marked: &[bool]) -> bool {
    match &e.kind {
        ExprKind::Node(id) => marked[id.0 as usize],
        ExprKind::Call {
            args, partition, ..
        } => {
            args.iter()
                .any(|(_, a)| matches!(a, ir::Arg::Signal(x) if reads_nodes(x, marked)))
                || partition.as_ref().is_some_and(|p| reads_nodes(p, marked))
        }
        ExprKind::Unary(_, a) => reads_nodes(a, marked),
        ExprKind::Binary(_, a, b) => reads_nodes(a, marked) || reads_nodes(b, marked),
        ExprKind::If(a, b, c) | ExprKind::When(a, b, c) => {
            reads_nodes(a, marked) || reads_nodes(b, marked) || reads_nodes(c, marked)
        }
        _ => false,
    }
}

fn group_flags(
    values: &[Option<Arc<Value>>],
    id: NodeId,
    groups: usize,
    layouts: &BTreeMap<SetId, Layout>,
) -> Result<Vec<bool>> {
    let Some(v) = values.get(id.0 as usize).and_then(|v| v.as_ref()) else {
        return Ok(vec![false; groups]);
    };
    let v = match v.scope {
        Scope::Step | Scope::Batch => match layouts.get(&SetId::Main) {
            Some(l) => broadcast(v, Scope::Group, &SetId::Main, l, None),
            None => (**v).clone(),
        },
        _ => (**v).clone(),
    };
    match &v.data {
        Data::Bool(b) if b.len() == groups => Ok(b.clone()),
        _ => Err(EvalError::new(
            "a filter condition is not one true/false per group",
        )),
    }
}

/// Which nodes depend on the main rollouts (and so cannot be computed before them).
pub fn needs_main(g: &ir::RewardGraph) -> Vec<bool> {
    fn reads_main(e: &ir::Expr, done: &[bool]) -> bool {
        match &e.kind {
            ExprKind::Context(_) => e.ty.scope >= Scope::Response,
            ExprKind::Node(id) => done[id.0 as usize],
            ExprKind::Call {
                args, partition, ..
            } => {
                args.iter()
                    .any(|(_, a)| matches!(a, ir::Arg::Signal(x) if reads_main(x, done)))
                    || partition.as_ref().is_some_and(|p| reads_main(p, done))
            }
            ExprKind::Unary(_, a) => reads_main(a, done),
            ExprKind::Binary(_, a, b) => reads_main(a, done) || reads_main(b, done),
            ExprKind::If(a, b, c) | ExprKind::When(a, b, c) => {
                reads_main(a, done) || reads_main(b, done) || reads_main(c, done)
            }
            _ => false,
        }
    }
    let mut out = vec![false; g.nodes.len()];
    for id in &g.order {
        let n = g.node(*id);
        let main = n.rollouts.is_none() && n.ty.scope >= Scope::Response;
        out[id.0 as usize] = main
            || reads_main(&n.expr, &out)
            || n.fallback.as_ref().is_some_and(|f| reads_main(f, &out));
    }
    out
}

struct Evaluator<'e, 'a> {
    g: &'e ir::RewardGraph,
    values: &'e [Option<Arc<Value>>],
    contexts: &'e mut BTreeMap<(SetId, &'static str), Arc<Value>>,
    call_timings: &'e mut BTreeMap<&'static str, std::time::Duration>,
    cx: Cx<'a>,
}

impl Evaluator<'_, '_> {
    fn layout(&self, set: &SetId) -> Result<&Layout> {
        self.cx.layout(set)
    }

    fn expr(&mut self, e: &ir::Expr, set: &SetId) -> Result<Arc<Value>> {
        Ok(match &e.kind {
            ExprKind::Const(c) => Arc::new(Value::scalar(const_data(c))),
            ExprKind::Node(id) => self
                .values
                .get(id.0 as usize)
                .and_then(|v| v.clone())
                .ok_or_else(|| {
                    EvalError::new(format!("`{}` has no value yet", self.g.node(*id).name))
                })?,
            ExprKind::Context(name) => self.context(name, &SetId::Main)?,
            ExprKind::BranchContext { branch, name } => {
                self.context(name, &SetId::Branch(branch.clone()))?
            }
            ExprKind::Sample(field) => {
                // Cached like context names; the key cannot clash with them (`sample.` prefix).
                let key = (SetId::Branch(format!("sample.{field}")), "sample");
                match self.contexts.get(&key) {
                    Some(v) => v.clone(),
                    None => {
                        let v = Arc::new(self.sample(field, e.ty.kind)?);
                        self.contexts.insert(key, v.clone());
                        v
                    }
                }
            }
            ExprKind::SampleRecord => Arc::new(Value::new(
                Scope::Group,
                SetId::Main,
                Data::Text(
                    self.cx
                        .batch
                        .groups
                        .iter()
                        .map(|g| serde_json::Value::Object(g.sample.clone()).to_string())
                        .collect(),
                ),
            )),
            ExprKind::Call {
                builtin,
                args,
                partition,
            } => self.call(builtin, args, partition.as_deref(), e, set)?,
            ExprKind::Unary(op, a) => {
                let v = self.expr(a, set)?;
                Arc::new(unary(*op, &v)?)
            }
            ExprKind::Binary(op, a, b) => {
                let (x, y) = (self.expr(a, set)?, self.expr(b, set)?);
                let (x, y) = self.align2(&x, &y, e.ty.scope)?;
                Arc::new(binary(*op, &x, &y)?)
            }
            ExprKind::If(c, a, b) => {
                let (c, a, b) = (self.expr(c, set)?, self.expr(a, set)?, self.expr(b, set)?);
                Arc::new(self.select(&c, &a, &b, e)?)
            }
            ExprKind::When(v, c, d) => {
                let c = self.expr(c, set)?;
                let d = self.expr(d, set)?;
                let active = self.active_mask(&c, set)?;
                let saved = std::mem::replace(&mut self.cx.active, active);
                let v = self.expr(v, set);
                self.cx.active = saved;
                let v = v?;
                Arc::new(self.select(&c, &v, &d, e)?)
            }
        })
    }

    /// Response-level mask of where a `when` condition holds anywhere.
    fn active_mask(&self, c: &Value, set: &SetId) -> Result<Option<Vec<bool>>> {
        let layout = self.layout(set)?;
        let flags = c
            .bools()
            .ok_or_else(|| EvalError::new("a `when` condition is not true/false"))?;
        Ok(Some(match c.scope {
            Scope::Step | Scope::Batch => {
                vec![flags.first().copied().unwrap_or(false); layout.responses()]
            }
            Scope::Group => layout
                .group_of
                .iter()
                .map(|g| flags.get(*g).copied().unwrap_or(false))
                .collect(),
            Scope::Response => flags.to_vec(),
            Scope::Segment => {
                let segs = c
                    .segs
                    .as_ref()
                    .ok_or_else(|| EvalError::new("segment value without segments"))?;
                (0..layout.responses())
                    .map(|r| segs.of(r).any(|s| flags.get(s).copied().unwrap_or(false)))
                    .collect()
            }
            Scope::Token => (0..layout.responses())
                .map(|r| {
                    layout
                        .response_tokens(r)
                        .any(|t| flags.get(t).copied().unwrap_or(false))
                })
                .collect(),
        }))
    }

    fn align2(
        &self,
        x: &Arc<Value>,
        y: &Arc<Value>,
        scope: Scope,
    ) -> Result<(Arc<Value>, Arc<Value>)> {
        let set = [x, y]
            .iter()
            .find(|v| v.scope >= Scope::Response)
            .map_or(SetId::Main, |v| v.set.clone());
        let segs = x.segs.clone().or_else(|| y.segs.clone());
        let layout = self.layout(&set)?;
        let up = |v: &Arc<Value>| {
            if v.scope == scope {
                v.clone()
            } else {
                Arc::new(broadcast(v, scope, &set, layout, segs.as_ref()))
            }
        };
        let (a, b) = (up(x), up(y));
        if a.scope == Scope::Segment && b.scope == Scope::Segment && a.segs != b.segs {
            return Err(EvalError::new(
                "two segment values come from different segmentations (e.g. `segments(...)` and `steps_of(...)`) and do not line up",
            ));
        }
        Ok((a, b))
    }

    fn select(&self, c: &Value, a: &Value, b: &Value, e: &ir::Expr) -> Result<Value> {
        let scope = e.ty.scope;
        let set = [c, a, b]
            .iter()
            .find(|v| v.scope >= Scope::Response)
            .map_or(SetId::Main, |v| v.set.clone());
        let segs = [c, a, b].iter().find_map(|v| v.segs.clone());
        let layout = self.layout(&set)?;
        // Inputs already at the result's scope are read in place, not copied.
        fn up<'v>(
            v: &'v Value,
            scope: Scope,
            set: &SetId,
            layout: &Layout,
            segs: Option<&crate::layout::Segs>,
        ) -> std::borrow::Cow<'v, Value> {
            if v.scope == scope {
                std::borrow::Cow::Borrowed(v)
            } else {
                std::borrow::Cow::Owned(broadcast(v, scope, set, layout, segs))
            }
        }
        let (c, a, b) = (
            up(c, scope, &set, layout, segs.as_ref()),
            up(a, scope, &set, layout, segs.as_ref()),
            up(b, scope, &set, layout, segs.as_ref()),
        );
        let flags = c
            .bools()
            .ok_or_else(|| EvalError::new("a condition is not true/false"))?;
        let data = match (e.ty.kind, &a.data, &b.data) {
            (Kind::Real, _, _) => {
                let (x, y) = (a.reals().unwrap_or_default(), b.reals().unwrap_or_default());
                Data::Real(
                    flags
                        .iter()
                        .enumerate()
                        .map(|(i, f)| if *f { x.get(i) } else { y.get(i) }.copied().unwrap_or(0.0))
                        .collect(),
                )
            }
            (_, Data::Bool(x), Data::Bool(y)) => Data::Bool(
                flags
                    .iter()
                    .enumerate()
                    .map(|(i, f)| if *f { x[i] } else { y[i] })
                    .collect(),
            ),
            (_, Data::Text(x), Data::Text(y)) => Data::Text(
                flags
                    .iter()
                    .enumerate()
                    .map(|(i, f)| if *f { x[i].clone() } else { y[i].clone() })
                    .collect(),
            ),
            (_, x, y) => {
                let (x, y) = (Value::scalar(x.clone()), Value::scalar(y.clone()));
                let (tx, ty) = (x.texts().unwrap_or_default(), y.texts().unwrap_or_default());
                Data::Label(
                    flags
                        .iter()
                        .enumerate()
                        .map(|(i, f)| {
                            let s = if *f { tx.get(i) } else { ty.get(i) };
                            s.filter(|s| !s.is_empty()).map(|s| s.to_string())
                        })
                        .collect(),
                )
            }
        };
        Ok(Value {
            scope,
            set: if scope >= Scope::Response {
                set
            } else {
                SetId::Main
            },
            segs: if scope == Scope::Segment { segs } else { None },
            data,
        })
    }

    fn call(
        &mut self,
        builtin: &'static str,
        args: &[(&'static str, ir::Arg)],
        partition: Option<&ir::Expr>,
        e: &ir::Expr,
        set: &SetId,
    ) -> Result<Arc<Value>> {
        let spec = rlr_lang::registry::lookup(builtin)
            .ok_or_else(|| EvalError::new(format!("`{builtin}` is not a built-in")))?;
        let imp = nodes::lookup(builtin).ok_or_else(|| {
            EvalError::new(format!("the runtime has no implementation of `{builtin}`"))
        })?;
        let mut evaluated = Vec::with_capacity(args.len());
        let mut call_set: Option<SetId> = None;
        for (name, a) in args {
            match a {
                ir::Arg::Signal(x) => {
                    let v = self.expr(x, set)?;
                    if v.scope >= Scope::Response && call_set.is_none() {
                        call_set = Some(v.set.clone());
                    }
                    evaluated.push((*name, Arg::Value(v.clone())));
                }
                ir::Arg::Const(c) => evaluated.push((*name, Arg::Const(c))),
            }
        }
        let partition = match partition {
            Some(p) => Some(self.expr(p, set)?),
            None => None,
        };
        let call = Call {
            builtin: spec,
            args: evaluated,
            partition,
            out: e.ty,
            set: call_set.unwrap_or_else(|| set.clone()),
        };
        let started = std::time::Instant::now();
        let v = imp.eval(&call, &mut self.cx);
        *self.call_timings.entry(builtin).or_default() += started.elapsed();
        let v = v.map_err(|mut err| {
            if !err.message.starts_with('`') {
                err.message = format!("in `{builtin}`: {}", err.message);
            }
            err
        })?;
        Ok(Arc::new(v))
    }

    fn context(&mut self, name: &'static str, set: &SetId) -> Result<Arc<Value>> {
        if let Some(v) = self.contexts.get(&(set.clone(), name)) {
            return Ok(v.clone());
        }
        let started = std::time::Instant::now();
        let layout = self.layout(set)?.clone();
        let rollouts: Vec<&Rollout> = (0..layout.responses())
            .filter_map(|r| self.cx.rollout(set, r))
            .collect();
        let resp = |data| Value::new(Scope::Response, set.clone(), data);
        let tokens = |f: &dyn Fn(&Rollout) -> &Vec<f64>| -> Result<Value> {
            let mut out = Vec::with_capacity(layout.tokens());
            for (r, ro) in rollouts.iter().enumerate() {
                let n = layout.response_tokens(r).len();
                let xs = f(ro);
                if xs.len() != n {
                    return Err(EvalError::new(format!(
                        "`{name}` needs one value per token, but rollout {r} has {} values for {n} tokens",
                        xs.len()
                    )));
                }
                out.extend_from_slice(xs);
            }
            Ok(Value::new(Scope::Token, set.clone(), Data::Real(out)))
        };
        let v = match name {
            "text" => resp(Data::Text(
                rollouts.iter().map(|r| r.text.clone()).collect(),
            )),
            "think" => resp(Data::Text(
                rollouts
                    .iter()
                    .map(|r| nodes::verify::think_of(&r.text).to_string())
                    .collect(),
            )),
            "after_think" => resp(Data::Text(
                rollouts
                    .iter()
                    .map(|r| nodes::verify::after_think(&r.text).to_string())
                    .collect(),
            )),
            "answer" => resp(Data::Label(
                rollouts
                    .iter()
                    .map(|r| nodes::verify::extract_answer(&r.text))
                    .collect(),
            )),
            "length" => resp(Data::Real(
                rollouts
                    .iter()
                    .map(|r| (r.token_count() - r.tool.iter().filter(|t| **t).count()) as f64)
                    .collect(),
            )),
            "truncated" => resp(Data::Bool(rollouts.iter().map(|r| r.truncated).collect())),
            "index" => resp(Data::Real(
                (0..layout.responses())
                    .map(|r| (r - layout.group_start[layout.group_of[r]] + 1) as f64)
                    .collect(),
            )),
            "step" => Value::real(self.cx.step),
            "logprob" => tokens(&|r| &r.logprob)?,
            "ref_logprob" => tokens(&|r| &r.ref_logprob)?,
            "entropy" => tokens(&|r| &r.entropy)?,
            other => {
                return Err(EvalError::new(format!(
                    "the runtime does not know the context name `{other}`"
                )));
            }
        };
        let v = Arc::new(v);
        self.contexts.insert((set.clone(), name), v.clone());
        *self.call_timings.entry(name).or_default() += started.elapsed();
        Ok(v)
    }

    fn sample(&self, field: &str, kind: Kind) -> Result<Value> {
        let mut bad = None;
        let values: Vec<Option<&serde_json::Value>> = self
            .cx
            .batch
            .groups
            .iter()
            .map(|g| g.sample.get(field))
            .collect();
        if let Some(g) = values.iter().position(Option::is_none) {
            return Err(
                EvalError::new(format!("the sample of group {g} has no field `{field}`")).at(At {
                    set: SetId::Main,
                    group: g,
                    rollout: None,
                }),
            );
        }
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| match i {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n"),
            other => other.to_string(),
        };
        let data = match kind {
            Kind::Real => Data::Real(
                values
                    .iter()
                    .enumerate()
                    .map(|(g, v)| match v {
                        Some(serde_json::Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
                        Some(serde_json::Value::Bool(b)) => f64::from(u8::from(*b)),
                        Some(serde_json::Value::String(s)) => {
                            s.trim().parse().unwrap_or_else(|_| {
                                bad.get_or_insert(g);
                                f64::NAN
                            })
                        }
                        _ => {
                            bad.get_or_insert(g);
                            f64::NAN
                        }
                    })
                    .collect(),
            ),
            Kind::Bool => Data::Bool(
                values
                    .iter()
                    .map(|v| matches!(v, Some(serde_json::Value::Bool(true))))
                    .collect(),
            ),
            Kind::Text => Data::Text(
                values
                    .iter()
                    .map(|v| v.map(text).unwrap_or_default())
                    .collect(),
            ),
            Kind::Label => Data::Label(
                values
                    .iter()
                    .map(|v| v.map(text).filter(|s| !s.is_empty()))
                    .collect(),
            ),
            Kind::Vector => Data::Vector(
                values
                    .iter()
                    .map(|v| match v {
                        Some(serde_json::Value::Array(items)) => {
                            items.iter().filter_map(serde_json::Value::as_f64).collect()
                        }
                        _ => Vec::new(),
                    })
                    .collect(),
            ),
        };
        if let Some(g) = bad {
            return Err(
                EvalError::new(format!("`sample.{field}` of group {g} is not a number")).at(At {
                    set: SetId::Main,
                    group: g,
                    rollout: None,
                }),
            );
        }
        Ok(Value::new(Scope::Group, SetId::Main, data))
    }

    /// Applies the binding's fallback and checks that every number is finite.
    fn finish(&mut self, node: &ir::Node, v: Arc<Value>, set: &SetId) -> Result<Arc<Value>> {
        let empty = std::mem::take(&mut self.cx.empty_partitions);
        let mut v = v;
        if let Some(fb) = &node.fallback
            && !empty.is_empty()
        {
            {
                let f = self.expr(fb, set)?;
                let layout = self.layout(&v.set)?.clone();
                let f = broadcast(&f, v.scope, &v.set, &layout, v.segs.as_ref());
                let groups = entry_groups(&v, &layout);
                let batch_wide = empty.contains(&None);
                let mut out = (*v).clone();
                if let (Data::Real(xs), Some(fs)) = (&mut out.data, f.reals()) {
                    for (i, x) in xs.iter_mut().enumerate() {
                        let g = groups.get(i).copied().flatten();
                        let hit = batch_wide || g.is_some_and(|g| empty.contains(&Some(g)));
                        if hit && !x.is_finite() {
                            *x = fs.get(i).copied().unwrap_or(0.0);
                        }
                    }
                } else if let Data::Bool(_) = &out.data {
                    // Booleans carry no NaN; reductions to bool use their defined empty values.
                }
                v = Arc::new(out);
            }
        }
        if let Data::Real(xs) = &v.data
            && let Some(i) = xs.iter().position(|x| !x.is_finite())
        {
            let layout = self.layout(&v.set)?;
            let what = if xs[i].is_nan() {
                "not a number (NaN)"
            } else {
                "infinite"
            };
            let mut err = EvalError::new(format!("the value is {what}"));
            err.at = entry_at(&v, i, layout);
            err.message.push_str(
                "; guard the computation (with `clamp`, `maximum` or `if`) or fix its inputs",
            );
            return Err(err);
        }
        Ok(v)
    }
}

/// The rollout or group an entry of a value belongs to.
fn entry_at(v: &Value, i: usize, layout: &Layout) -> Option<At> {
    let response = match v.scope {
        Scope::Step | Scope::Batch => return None,
        Scope::Group => {
            return Some(At {
                set: SetId::Main,
                group: i,
                rollout: None,
            });
        }
        Scope::Response => i,
        Scope::Segment => v.segs.as_ref()?.response_of().get(i).copied()?,
        Scope::Token => layout.response_of_tokens().get(i).copied()?,
    };
    let group = *layout.group_of.get(response)?;
    Some(At {
        set: v.set.clone(),
        group,
        rollout: Some(response - layout.group_start[group]),
    })
}

/// The value of `v` at a rollout or group, for messages.
fn value_at(v: &Value, at: &At, layouts: &BTreeMap<SetId, Layout>) -> Option<String> {
    let layout = layouts.get(&v.set)?;
    let index = match v.scope {
        Scope::Step | Scope::Batch => 0,
        Scope::Group => at.group,
        Scope::Response if v.set == at.set => layout.group_start.get(at.group)? + at.rollout?,
        _ => return None,
    };
    Some(match &v.data {
        Data::Real(x) => format!("{}", x.get(index)?),
        Data::Bool(x) => format!("{}", x.get(index)?),
        Data::Text(x) => format!("{:?}", truncate(x.get(index)?)),
        Data::Label(x) => format!("{:?}", x.get(index)?.as_deref().map(truncate)),
        Data::Vector(x) => format!("[{} values]", x.get(index)?.len()),
    })
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

/// The group of each entry of a value (None for step/batch scope).
fn entry_groups(v: &Value, layout: &Layout) -> Vec<Option<usize>> {
    match v.scope {
        Scope::Step | Scope::Batch => vec![None; v.data.len()],
        Scope::Group => (0..v.data.len()).map(Some).collect(),
        Scope::Response => layout.group_of.iter().map(|g| Some(*g)).collect(),
        Scope::Segment => match &v.segs {
            Some(s) => s
                .response_of()
                .into_iter()
                .map(|r| layout.group_of.get(r).copied())
                .collect(),
            None => vec![None; v.data.len()],
        },
        Scope::Token => layout
            .response_of_tokens()
            .into_iter()
            .map(|r| layout.group_of.get(r).copied())
            .collect(),
    }
}

/// Turns an error inside a binding into one that names it, finds the first
/// bad entry, and lists the binding's inputs there.
fn locate(
    mut e: EvalError,
    node: &ir::Node,
    values: &[Option<Arc<Value>>],
    g: &ir::RewardGraph,
    layouts: &BTreeMap<SetId, Layout>,
) -> EvalError {
    e.node = node.name.clone();
    e.span = Some(node.span);
    if let Some(at) = &e.at {
        let mut refs = Vec::new();
        node.expr.references(&mut refs);
        refs.sort_by_key(|(id, _)| *id);
        refs.dedup_by_key(|(id, _)| *id);
        for (id, _) in refs {
            if let Some(Some(v)) = values.get(id.0 as usize)
                && let Some(text) = value_at(v, at, layouts)
            {
                e.inputs.push((g.node(id).name.clone(), text));
            }
        }
    }
    e
}

fn const_data(c: &Const) -> Data {
    match c {
        Const::Bool(b) => Data::Bool(vec![*b]),
        Const::Str(s) | Const::Name(s) => Data::Text(vec![s.clone()]),
        c => Data::Real(vec![c.as_f64().unwrap_or(f64::NAN)]),
    }
}

fn unary(op: UnaryOp, v: &Value) -> Result<Value> {
    let data = match op {
        UnaryOp::Neg => Data::Real(
            v.reals()
                .ok_or_else(|| EvalError::new("`-` needs a number"))?
                .iter()
                .map(|x| -x)
                .collect(),
        ),
        UnaryOp::Not => Data::Bool(
            v.bools()
                .ok_or_else(|| EvalError::new("`not` needs true/false"))?
                .iter()
                .map(|b| !b)
                .collect(),
        ),
    };
    Ok(Value { data, ..v.clone() })
}

fn binary(op: BinaryOp, x: &Value, y: &Value) -> Result<Value> {
    use BinaryOp::*;
    let n = x.data.len().max(y.data.len());
    let pick = |len: usize, i: usize| if len == 1 { 0 } else { i };
    let data = match op {
        And | Or => {
            let (a, b) = (x.bools().unwrap_or_default(), y.bools().unwrap_or_default());
            Data::Bool(
                (0..n)
                    .map(|i| {
                        let (p, q) = (
                            a.get(pick(a.len(), i)).copied().unwrap_or(false),
                            b.get(pick(b.len(), i)).copied().unwrap_or(false),
                        );
                        if op == And { p && q } else { p || q }
                    })
                    .collect(),
            )
        }
        Eq | Ne if x.reals().is_none() || y.reals().is_none() => {
            let (a, b) = (x.texts().unwrap_or_default(), y.texts().unwrap_or_default());
            Data::Bool(
                (0..n)
                    .map(|i| {
                        let p = a.get(pick(a.len(), i)).map(|s| s.trim());
                        let q = b.get(pick(b.len(), i)).map(|s| s.trim());
                        (p == q) == (op == Eq)
                    })
                    .collect(),
            )
        }
        Add | Sub | Mul | Div if matches!((&x.data, &y.data), (Data::Real(a), Data::Real(b)) if a.len() == b.len()) =>
        {
            // The common case, kept to a tight loop: two real columns of one scope.
            let (Data::Real(a), Data::Real(b)) = (&x.data, &y.data) else {
                unreachable!()
            };
            let f = match op {
                Add => |p: f64, q: f64| p + q,
                Sub => |p: f64, q: f64| p - q,
                Mul => |p: f64, q: f64| p * q,
                _ => |p: f64, q: f64| p / q,
            };
            Data::Real(a.iter().zip(b).map(|(p, q)| f(*p, *q)).collect())
        }
        Lt | Le | Gt | Ge if matches!((&x.data, &y.data), (Data::Real(_), Data::Real(b)) if b.len() == 1) =>
        {
            // A column against a constant (`outcome >= 0.5`).
            let (Data::Real(a), Data::Real(b)) = (&x.data, &y.data) else {
                unreachable!()
            };
            let q = b[0];
            Data::Bool(match op {
                Lt => a.iter().map(|p| *p < q).collect(),
                Le => a.iter().map(|p| *p <= q).collect(),
                Gt => a.iter().map(|p| *p > q).collect(),
                _ => a.iter().map(|p| *p >= q).collect(),
            })
        }
        _ => {
            let (a, b) = (x.reals().unwrap_or_default(), y.reals().unwrap_or_default());
            let get = |v: &[f64], i: usize| v.get(pick(v.len(), i)).copied().unwrap_or(f64::NAN);
            match op {
                Add | Sub | Mul | Div | Pow => Data::Real(
                    (0..n)
                        .map(|i| {
                            let (p, q) = (get(&a, i), get(&b, i));
                            match op {
                                Add => p + q,
                                Sub => p - q,
                                Mul => p * q,
                                Div => p / q,
                                _ => p.powf(q),
                            }
                        })
                        .collect(),
                ),
                _ => Data::Bool(
                    (0..n)
                        .map(|i| {
                            let (p, q) = (get(&a, i), get(&b, i));
                            match op {
                                Eq => p == q,
                                Ne => p != q,
                                Lt => p < q,
                                Le => p <= q,
                                Gt => p > q,
                                _ => p >= q,
                            }
                        })
                        .collect(),
                ),
            }
        }
    };
    let base = if x.data.len() >= y.data.len() { x } else { y };
    Ok(Value {
        data,
        ..base.clone()
    })
}

/// Metrics of one node (re-exported for the engine's logs).
pub type Stats = NodeMetrics;
