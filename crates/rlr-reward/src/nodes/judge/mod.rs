//! Node family: judge — model or endpoint scores, guarded by `when`, with an
//! error policy (methods.md §P.2 node 2).
//!
//! Every judge implements only its scoring, [`Judge::score`] (or
//! [`VectorJudge::score`] for vector outputs), on a batch of [`JudgeItem`]s;
//! one driver, [`drive`], does the rest for all of them:
//!
//! * `when`: only responses where `cx.active` is true (or that have no mask)
//!   are scored; every other entry takes `default`;
//! * errors: a judgement that fails or is NaN (or infinite) follows
//!   `on_error` — `"fail"` stops with an error naming the rollout,
//!   `"default"` takes `default`, `"skip"` takes `default` and drops the
//!   rollout from the step's loss (`cx.skipped`);
//! * noise: where the call has `noise = σ > 0`, ε = σ · N(0, 1) is added to
//!   each score with a seeded draw keyed by the entry (and component), so runs
//!   are reproducible; then the score is clipped to the judge's range and,
//!   where the call has `grid = g`, rounded to the nearest multiple of g;
//! * counters: every scored item counts one call in
//!   `cx.counters[binding]`, every failure one failure.
//!
//! The built-in judges are deterministic rule-based stand-ins for the learned
//! models of the papers (see each one's documentation).

use rlr_lang::Scope;

use crate::batch::Rollout;
use crate::error::{At, EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node, Probes};
use crate::value::{Data, Value};

mod outcome;
mod process;
mod rules;

#[cfg(test)]
mod tests;

pub use outcome::embed;

/// The implementations of this family.
pub(super) static ALL: &[&dyn Node] = &[
    &process::Steps,
    &process::Atoms,
    &process::Prm,
    &outcome::Reader,
    &process::Principle,
    &outcome::Rubric,
    &outcome::Listener,
    &outcome::Embed,
    &outcome::RewardModel,
];

/// The sample record of a group (`sample.answer`, ...).
pub type Sample = serde_json::Map<String, serde_json::Value>;

/// One thing to judge: a response's text, or one segment of it.
pub struct JudgeItem<'a> {
    /// The text judged: the judge's first argument for this response (or this segment).
    pub text: &'a str,
    /// For segment judges, the texts of every segment of the same response, in
    /// order (the judged one is `segments[k]` with `k = segment`); empty otherwise.
    pub segments: &'a [String],
    /// For segment judges, the segment's index within its response.
    pub segment: Option<usize>,
    /// For segment judges, the byte offset in the rollout's text just after
    /// the token that ends the segment.
    pub end: Option<usize>,
    /// The group's task record.
    pub sample: &'a Sample,
    /// The rollout the text belongs to.
    pub rollout: Option<&'a Rollout>,
    /// The group (prompt), 0-based.
    pub group: usize,
    /// The response, numbered across the call's rollouts.
    pub response: usize,
    /// The judge's further text arguments for this entry, in parameter order
    /// (`judge.reader`: questions, answers).
    pub args: Vec<&'a str>,
    /// The call (its constant parameters).
    pub call: &'a Call<'a>,
    /// The model, for judges that score with it.
    pub probes: Option<&'a dyn Probes>,
}

/// A judge with one score per item.
pub trait Judge: Sync {
    /// Scores a batch of items, one result per item, in order; `Err` is a
    /// failed judgement (a parse failure, a missing reference) with its reason.
    fn score(&self, items: &[JudgeItem<'_>]) -> Vec<std::result::Result<f64, String>>;

    /// The interval scores are clipped to after noise; `None` for unbounded scores.
    fn range(&self) -> Option<(f64, f64)> {
        Some((0.0, 1.0))
    }

    /// The further text parameters the items carry in `args`.
    fn args(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether it needs the model (`cx.probes`).
    fn needs_probes(&self) -> bool {
        false
    }
}

/// A judge with a vector of scores per item (rubric grades, embeddings).
pub trait VectorJudge: Sync {
    /// The number of components, from the call's parameters.
    fn width(&self, call: &Call<'_>) -> Result<usize>;

    /// Scores a batch of items, one vector of `width` components per item.
    fn score(
        &self,
        items: &[JudgeItem<'_>],
        width: usize,
    ) -> Vec<std::result::Result<Vec<f64>, String>>;

    /// The interval each component is clipped to after noise; `None` for unbounded.
    fn range(&self) -> Option<(f64, f64)> {
        Some((0.0, 1.0))
    }
}

/// Which kind of judge [`drive`] runs.
#[derive(Clone, Copy)]
pub enum Scorer<'j> {
    /// One real per entry.
    Scalar(&'j dyn Judge),
    /// One vector per entry.
    Vector(&'j dyn VectorJudge),
}

/// The message of a model-only node evaluated without a model.
pub fn needs_model(name: &str) -> EvalError {
    EvalError::new(format!(
        "`{name}` needs the policy model (a probe); replay cannot compute it — log its values with the \
         rollouts or run with the engine"
    ))
}

/// Runs a judge on the call's entries (responses or segments, per the output
/// scope), applying `when`, `on_error`/`default`, noise, clipping, grid
/// rounding and the counters; see the module documentation.
pub fn drive(call: &Call<'_>, cx: &mut Cx<'_>, scorer: Scorer<'_>) -> Result<Value> {
    let name = call.builtin.name;
    let input = call.builtin.params.first().map_or("text", |p| p.name);
    let extra: &[&str] = match scorer {
        Scorer::Scalar(j) => j.args(),
        Scorer::Vector(_) => &[],
    };
    let mut names = vec![input];
    names.extend_from_slice(extra);
    let (vals, segs) = crate::nodes::verify::aligned(call, cx, &names)?;
    let texts: Vec<String> = kit::texts(&vals[0], input)?
        .into_iter()
        .map(str::to_string)
        .collect();
    let args: Vec<Vec<&str>> = vals[1..]
        .iter()
        .zip(extra)
        .map(|(v, n)| kit::texts(v, n))
        .collect::<Result<_>>()?;
    let n = texts.len();

    let layout = cx.layout(&call.set)?.clone();
    // One text per prompt (`judge.embed(sample.prompt)`) is judged once per
    // group, owned by the group's first response, with no rollout.
    let per_group = call.out.scope == Scope::Group;
    let (owner, seg_index): (Vec<usize>, Vec<Option<usize>>) = match (call.out.scope, &segs) {
        (Scope::Response, _) => ((0..n).collect(), vec![None; n]),
        (Scope::Group, _) if n == layout.groups => (
            (0..n).map(|g| layout.group_start[g]).collect(),
            vec![None; n],
        ),
        (Scope::Segment, Some(s)) => {
            let owner = s.response_of();
            let index = owner
                .iter()
                .enumerate()
                .map(|(i, r)| Some(i.saturating_sub(s.seg_start.get(*r).copied().unwrap_or(0))))
                .collect();
            (owner, index)
        }
        (Scope::Segment, None) => {
            return Err(EvalError::new(format!(
                "`{name}` was given segments without a segmentation"
            )));
        }
        (scope, _) => {
            return Err(EvalError::new(format!(
                "`{name}` cannot judge one value per {scope}"
            )));
        }
    };
    if owner.len() != n || owner.iter().any(|r| *r >= layout.responses()) {
        return Err(EvalError::new(format!(
            "`{name}`: the segments do not belong to these rollouts"
        )));
    }

    let (width, range) = match scorer {
        Scorer::Scalar(j) => (1, j.range()),
        Scorer::Vector(j) => (j.width(call)?, j.range()),
    };
    let default = call.real("default")?;
    let on_error = call.text("on_error")?;
    if !matches!(on_error, "fail" | "default" | "skip") {
        return Err(EvalError::new(format!(
            "`on_error` must be \"fail\", \"default\" or \"skip\", not {on_error:?}"
        )));
    }
    let noise = call.real("noise").unwrap_or(0.0);
    let grid = call.real("grid").ok().filter(|g| *g > 0.0);

    // The responses entry `i` stands for (a whole group for a group value).
    let members = |i: usize| -> std::ops::Range<usize> {
        if per_group {
            layout.group(i)
        } else {
            owner[i]..owner[i] + 1
        }
    };
    let active: Vec<usize> = (0..n)
        .filter(|i| {
            cx.active
                .as_ref()
                .is_none_or(|a| members(*i).any(|r| a.get(r).copied().unwrap_or(true)))
        })
        .collect();
    if active.is_empty() {
        let data = if let Scorer::Vector(_) = scorer {
            Data::Vector(vec![vec![default; width]; n])
        } else {
            Data::Real(vec![default; n])
        };
        return Ok(kit::output(call, data, segs));
    }
    if matches!(scorer, Scorer::Scalar(j) if j.needs_probes()) && cx.probes.is_none() {
        return Err(needs_model(name));
    }

    let batch = cx.batch;
    let probes = cx.probes;
    let set = call.set.clone();
    let rollouts: Vec<Option<&Rollout>> = (0..layout.responses())
        .map(|r| rollout_of(batch, &set, &layout, r))
        .collect();
    let empty = Sample::new();
    let items: Vec<JudgeItem<'_>> = active
        .iter()
        .map(|&i| {
            let r = owner[i];
            let g = if per_group { i } else { layout.group_of[r] };
            let (segments, end): (&[String], Option<usize>) = match (&segs, seg_index[i]) {
                (Some(s), Some(k)) => {
                    let range = s.of(r);
                    let end = rollouts[r]
                        .map(|ro| end_byte(ro, s.end_token.get(range.start + k).copied()));
                    (texts.get(range).unwrap_or(&[]), end)
                }
                _ => (&[], None),
            };
            JudgeItem {
                text: &texts[i],
                segments,
                segment: seg_index[i],
                end,
                sample: batch.groups.get(g).map_or(&empty, |grp| &grp.sample),
                rollout: if per_group { None } else { rollouts[r] },
                group: g,
                response: r,
                args: args
                    .iter()
                    .map(|a| a.get(i).copied().unwrap_or(""))
                    .collect(),
                call,
                probes,
            }
        })
        .collect();

    let results: Vec<std::result::Result<Vec<f64>, String>> = match scorer {
        Scorer::Scalar(j) => j
            .score(&items)
            .into_iter()
            .map(|r| r.map(|x| vec![x]))
            .collect(),
        Scorer::Vector(j) => j.score(&items, width),
    };
    drop(items);

    let mut out = vec![vec![default; width]; n];
    let mut failures = 0u64;
    let mut first_failure: Option<(usize, String)> = None;
    for (k, &i) in active.iter().enumerate() {
        let result = match results.get(k) {
            Some(Ok(v)) if v.len() != width => {
                Err(format!("gave {} scores instead of {width}", v.len()))
            }
            Some(Ok(v)) if v.iter().any(|x| !x.is_finite()) => {
                Err(format!("gave a non-finite score {v:?}"))
            }
            Some(r) => r.clone(),
            None => Err("gave no score".to_string()),
        };
        match result {
            Ok(mut v) => {
                for (c, x) in v.iter_mut().enumerate() {
                    if noise > 0.0 {
                        *x += noise * cx.normal((i * width + c) as u64);
                    }
                    if let Some((lo, hi)) = range {
                        *x = x.clamp(lo, hi);
                    }
                    if let Some(g) = grid {
                        // k·g, with the float error of the product rounded away (0.7, not 0.7000000000000001)
                        *x = ((*x / g).round() * g * 1e12).round() / 1e12;
                        if let Some((lo, hi)) = range {
                            *x = x.clamp(lo, hi);
                        }
                    }
                }
                out[i] = v;
            }
            Err(msg) => {
                failures += 1;
                if on_error == "skip" {
                    for r in members(i) {
                        if !cx.skipped.contains(&(set.clone(), r)) {
                            cx.skipped.push((set.clone(), r));
                        }
                    }
                }
                if first_failure.is_none() {
                    first_failure = Some((i, msg));
                }
            }
        }
    }
    let counter = cx.counters.entry(cx.node.to_string()).or_default();
    counter.calls += active.len() as u64;
    counter.failures += failures;
    if let (Some((i, msg)), "fail") = (first_failure, on_error) {
        let r = owner[i];
        let g = if per_group { i } else { layout.group_of[r] };
        return Err(EvalError::new(format!("`{name}` failed: {msg}")).at(At {
            set,
            group: g,
            rollout: (!per_group).then(|| r - layout.group_start[g]),
        }));
    }
    let data = match scorer {
        Scorer::Scalar(_) => Data::Real(out.into_iter().map(|v| v[0]).collect()),
        Scorer::Vector(_) => Data::Vector(out),
    };
    Ok(kit::output(call, data, segs))
}

/// Response `r` of a set, without borrowing the context.
fn rollout_of<'b>(
    batch: &'b crate::batch::Batch,
    set: &crate::layout::SetId,
    layout: &crate::layout::Layout,
    r: usize,
) -> Option<&'b Rollout> {
    let g = *layout.group_of.get(r)?;
    let i = r - layout.group_start[g];
    let group = batch.groups.get(g)?;
    match set {
        crate::layout::SetId::Main => group.rollouts.get(i),
        crate::layout::SetId::Branch(b) => group.branches.get(b)?.get(i),
    }
}

/// The byte just after token `t` of a rollout (the text's end for the last token or none).
pub(crate) fn end_byte(rollout: &Rollout, t: Option<usize>) -> usize {
    let Some(t) = t else {
        return rollout.text.len();
    };
    rollout
        .token_offsets()
        .get(t + 1)
        .copied()
        .unwrap_or(rollout.text.len())
        .min(rollout.text.len())
}
