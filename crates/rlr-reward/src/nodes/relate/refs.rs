//! Reference sets: per-prompt vectors, or the values of other responses.

use rlr_lang::Scope;

use crate::error::{At, EvalError, Result};
use crate::kit;
use crate::layout::{Layout, SetId};
use crate::node::{Call, Cx};
use crate::nodes::reduce::members::check_len;
use crate::value::{Data, Value};

/// The reference values of every response of the call's rollouts (NaN values
/// left out), from `refs`:
/// - a vector per prompt (group scope, e.g. a task field) or per response:
///   its components;
/// - a real per prompt (or one for the batch): that one value;
/// - a real per response of the same rollouts: the values of the other
///   members of the group (j ≠ i), in order;
/// - a real per response of another branch: all values of the paired group.
pub(crate) fn per_response(call: &Call<'_>, cx: &Cx<'_>, refs: &Value) -> Result<Vec<Vec<f64>>> {
    let layout = cx.layout(&call.set)?;
    let n = layout.responses();
    if refs.scope == Scope::Response && refs.set == call.set {
        check_len(call, layout, refs)?;
        if let Data::Vector(vs) = &refs.data {
            return Ok(vs.iter().map(|v| finite(v.iter().copied())).collect());
        }
        let xs = kit::reals(refs, "refs")?;
        return Ok((0..n)
            .map(|i| {
                finite(
                    layout
                        .group(layout.group_of[i])
                        .filter(|&j| j != i)
                        .map(|j| xs[j]),
                )
            })
            .collect());
    }
    let groups = per_group(call, cx, refs)?;
    Ok((0..n).map(|i| groups[layout.group_of[i]].clone()).collect())
}

/// The reference values of every group (prompt), from `refs`: a per-prompt
/// vector's components, a per-prompt real, or all values of the group's
/// responses (of the main rollouts or a branch).
pub(crate) fn per_group(call: &Call<'_>, cx: &Cx<'_>, refs: &Value) -> Result<Vec<Vec<f64>>> {
    let layout: &Layout = cx.layout(&call.set)?;
    let groups = layout.groups;
    match (refs.scope, &refs.data) {
        (Scope::Step | Scope::Batch, Data::Vector(vs)) => {
            let v = vs
                .first()
                .map(|v| finite(v.iter().copied()))
                .unwrap_or_default();
            Ok(vec![v; groups])
        }
        (Scope::Group, Data::Vector(vs)) if vs.len() == groups => {
            Ok(vs.iter().map(|v| finite(v.iter().copied())).collect())
        }
        (Scope::Step | Scope::Batch, _) => {
            let xs = kit::reals(refs, "refs")?;
            Ok(vec![finite(xs.first().copied()); groups])
        }
        (Scope::Group, Data::Real(_) | Data::Bool(_)) if refs.data.len() == groups => {
            let xs = kit::reals(refs, "refs")?;
            Ok(xs.iter().map(|x| finite(Some(*x))).collect())
        }
        (Scope::Response, Data::Real(_) | Data::Bool(_)) => {
            let other = cx.layout(&refs.set)?;
            check_len(call, other, refs)?;
            if other.groups != groups {
                return Err(EvalError::new(format!(
                    "the references of `{}` have {} groups where the rollouts have {groups}",
                    refs.set, other.groups
                )));
            }
            let xs = kit::reals(refs, "refs")?;
            Ok((0..groups)
                .map(|g| finite(other.group(g).map(|j| xs[j])))
                .collect())
        }
        (s, d) => Err(EvalError::new(format!(
            "`{}`: a {s} {} value of {} entries is not a reference set for {groups} prompts (give a \
             per-prompt vector or a response-scope real)",
            call.builtin.name,
            d.kind(),
            d.len()
        ))),
    }
}

/// The non-NaN values.
fn finite(xs: impl IntoIterator<Item = f64>) -> Vec<f64> {
    xs.into_iter().filter(|x| !x.is_nan()).collect()
}

/// The error for a response (of the call's rollouts) with no reference values.
pub(crate) fn no_references(call: &Call<'_>, cx: &Cx<'_>, r: usize) -> EvalError {
    let e = EvalError::new(format!(
        "`{}` has no reference values for this response (an empty reference set, or a group of \
         one compared with the other members)",
        call.builtin.name
    ));
    match cx
        .layouts
        .get(&call.set)
        .and_then(|l| l.group_of.get(r).map(|g| (*g, r - l.group_start[*g])))
    {
        Some((group, rollout)) => e.at(At {
            set: call.set.clone(),
            group,
            rollout: Some(rollout),
        }),
        None => e,
    }
}

/// The error for a group with no reference values.
pub(crate) fn no_group_references(call: &Call<'_>, g: usize) -> EvalError {
    EvalError::new(format!(
        "`{}` has no reference values for this prompt",
        call.builtin.name
    ))
    .at(At {
        set: SetId::Main,
        group: g,
        rollout: None,
    })
}
