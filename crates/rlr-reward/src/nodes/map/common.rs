//! Helpers the element-wise families share (map, combine, gate, `renorm`),
//! also used by reductions, normalisers and relations: reading a signal
//! parameter that may arrive as a constant, aligning several inputs to the
//! output's scope with their lengths and segmentations checked, and naming
//! the rollout an entry belongs to in errors.

use std::borrow::Cow;
use std::sync::Arc;

use rlr_lang::Scope;
use rlr_lang::ir::Const;

use crate::error::{At, EvalError, Result};
use crate::kit;
use crate::layout::{Layout, Segs, SetId};
use crate::node::{Call, Cx};
use crate::value::{Data, Value};

/// The value of a signal parameter. A signal parameter left at its registry
/// default (`otherwise = 0`, `by = true`) arrives as a constant; it becomes a
/// step-scope value, which broadcasts to any scope.
pub(crate) fn signal<'c>(call: &'c Call<'_>, name: &str) -> Result<Cow<'c, Value>> {
    if let Ok(v) = call.value(name) {
        return Ok(Cow::Borrowed(v));
    }
    let value = match call.constant(name)? {
        Const::Real(x) => Value::real(*x),
        Const::Int(i) => Value::real(*i as f64),
        Const::Bool(b) => Value::scalar(Data::Bool(vec![*b])),
        Const::Str(s) | Const::Name(s) => Value::scalar(Data::Label(vec![Some(s.clone())])),
        c => return Err(EvalError::new(format!("`{name}` = {c} is not a value"))),
    };
    Ok(Cow::Owned(value))
}

/// Whether two segmentations are the same one.
fn same_segs(a: &Segs, b: &Segs) -> bool {
    Arc::ptr_eq(a, b) || **a == **b
}

/// The one segmentation carried by the inputs, or an error if two differ.
pub(crate) fn common_segs(call: &Call<'_>, inputs: &[&Value]) -> Result<Option<Segs>> {
    let mut found: Option<Segs> = None;
    for s in inputs.iter().filter_map(|v| v.segs.as_ref()) {
        match &found {
            None => found = Some(s.clone()),
            Some(f) if same_segs(f, s) => {}
            Some(f) => {
                return Err(EvalError::new(format!(
                    "`{}` combines segment values of two different segmentations (from `{}` and \
                     `{}`), which do not line up",
                    call.builtin.name, f.origin, s.origin
                )));
            }
        }
    }
    Ok(found)
}

/// Inputs brought to the output's scope, all of the same length.
pub(crate) struct Aligned {
    /// The inputs, in order, at the output's scope.
    pub values: Vec<Value>,
    /// The segmentation of segment-scope outputs.
    pub segs: Option<Segs>,
    /// The number of output entries.
    pub len: usize,
}

/// Aligns the inputs to `call.out.scope`, checking that every one has one
/// entry per output entry.
pub(crate) fn align_all(call: &Call<'_>, cx: &Cx<'_>, inputs: &[&Value]) -> Result<Aligned> {
    let segs = common_segs(call, inputs)?;
    let values: Vec<Value> = inputs
        .iter()
        .map(|v| kit::align(v, call, cx, segs.as_ref()))
        .collect::<Result<_>>()?;
    let len = kit::entries(call.out.scope, call, cx, segs.as_ref())?;
    for (k, v) in values.iter().enumerate() {
        if v.data.len() != len {
            return Err(EvalError::new(format!(
                "`{}`: input {} has {} entries where {} {} values of `{}` are expected",
                call.builtin.name,
                k + 1,
                v.data.len(),
                len,
                call.out.scope,
                call.set
            )));
        }
    }
    Ok(Aligned { values, segs, len })
}

/// Applies `f(index, row)` to every entry of real inputs aligned to the
/// output's scope (bools read as 0/1). Returns the results and the
/// segmentation for segment-scope outputs.
pub(crate) fn rows<T>(
    call: &Call<'_>,
    cx: &Cx<'_>,
    inputs: &[&Value],
    mut f: impl FnMut(usize, &[f64]) -> Result<T>,
) -> Result<(Vec<T>, Option<Segs>)> {
    let aligned = align_all(call, cx, inputs)?;
    let cols: Vec<Cow<'_, [f64]>> = aligned
        .values
        .iter()
        .map(|v| kit::reals(v, call.builtin.name))
        .collect::<Result<_>>()?;
    let mut row = vec![0.0; cols.len()];
    let mut out = Vec::with_capacity(aligned.len);
    for i in 0..aligned.len {
        for (k, c) in cols.iter().enumerate() {
            row[k] = c[i];
        }
        out.push(f(i, &row)?);
    }
    Ok((out, aligned.segs))
}

/// A real output computed element-wise from real inputs.
pub(crate) fn map_real(
    call: &Call<'_>,
    cx: &Cx<'_>,
    inputs: &[&Value],
    f: impl Fn(&[f64]) -> f64,
) -> Result<Value> {
    let (out, segs) = rows(call, cx, inputs, |_, row| Ok(f(row)))?;
    Ok(kit::output(call, Data::Real(out), segs))
}

/// Where entry `index` of a `scope` value of `set` lies, for error messages.
pub(crate) fn locate(
    cx: &Cx<'_>,
    scope: Scope,
    set: &SetId,
    segs: Option<&Segs>,
    index: usize,
) -> Option<At> {
    let layout: &Layout = cx.layouts.get(set)?;
    let response = match scope {
        Scope::Step | Scope::Batch => return None,
        Scope::Group => {
            return (index < layout.groups).then(|| At {
                set: set.clone(),
                group: index,
                rollout: None,
            });
        }
        Scope::Response => index,
        Scope::Segment => {
            let s = segs?;
            (0..s.seg_start.len().saturating_sub(1)).find(|r| s.of(*r).contains(&index))?
        }
        Scope::Token => {
            (0..layout.responses()).find(|r| layout.response_tokens(*r).contains(&index))?
        }
    };
    let group = *layout.group_of.get(response)?;
    Some(At {
        set: set.clone(),
        group,
        rollout: Some(response - layout.group_start[group]),
    })
}

/// An error about entry `index` of the call's output, located at its rollout.
pub(crate) fn error_at(
    call: &Call<'_>,
    cx: &Cx<'_>,
    segs: Option<&Segs>,
    index: usize,
    message: String,
) -> EvalError {
    let e = EvalError::new(message);
    match locate(cx, call.out.scope, &call.set, segs, index) {
        Some(at) => e.at(at),
        None => e,
    }
}
