//! Small tools node implementations share: aligning inputs to the output's
//! scope, reading numbers, building the output, iterating over groups.

use std::borrow::Cow;

use rlr_lang::Scope;

use crate::error::{EvalError, Result};
use crate::layout::{Layout, Segs};
use crate::node::{Call, Cx};
use crate::value::{Data, Value};

/// The numbers of a value (bools as 0/1), or an error naming the parameter.
pub fn reals<'v>(v: &'v Value, what: &str) -> Result<Cow<'v, [f64]>> {
    v.reals()
        .ok_or_else(|| EvalError::new(format!("`{what}` is {}, not a number", v.data.kind())))
}

/// The flags of a value, or an error naming the parameter.
pub fn bools<'v>(v: &'v Value, what: &str) -> Result<&'v [bool]> {
    v.bools()
        .ok_or_else(|| EvalError::new(format!("`{what}` is {}, not true/false", v.data.kind())))
}

/// The texts of a value (labels as text), or an error naming the parameter.
pub fn texts<'v>(v: &'v Value, what: &str) -> Result<Vec<&'v str>> {
    v.texts()
        .ok_or_else(|| EvalError::new(format!("`{what}` is {}, not text", v.data.kind())))
}

/// The segmentation carried by any of the values (for segment-scope outputs).
pub fn segs_of(values: &[&Value]) -> Option<Segs> {
    values.iter().find_map(|v| v.segs.clone())
}

/// Brings a value to the output's scope (broadcasting down).
pub fn align(v: &Value, call: &Call<'_>, cx: &Cx<'_>, segs: Option<&Segs>) -> Result<Value> {
    if v.scope == call.out.scope {
        return Ok(v.clone());
    }
    if v.scope > call.out.scope {
        return Err(EvalError::new(format!(
            "a {} value cannot be used as a {} value",
            v.scope, call.out.scope
        )));
    }
    cx.broadcast(v, call.out.scope, &call.set, segs)
}

/// The output value of a call from its data.
pub fn output(call: &Call<'_>, data: Data, segs: Option<Segs>) -> Value {
    Value {
        scope: call.out.scope,
        set: if call.out.scope >= Scope::Response {
            call.set.clone()
        } else {
            Default::default()
        },
        segs: if call.out.scope == Scope::Segment {
            segs
        } else {
            None
        },
        data,
    }
}

/// The number of entries a value of `scope` has for the call's rollouts.
pub fn entries(scope: Scope, call: &Call<'_>, cx: &Cx<'_>, segs: Option<&Segs>) -> Result<usize> {
    let layout: &Layout = cx.layout(&call.set)?;
    Ok(match scope {
        Scope::Step | Scope::Batch => 1,
        Scope::Group => layout.groups,
        Scope::Response => layout.responses(),
        Scope::Segment => segs.map_or(0, |s| s.len()),
        Scope::Token => layout.tokens(),
    })
}

/// Applies `f` element-wise to real inputs aligned to the output's scope.
pub fn map_reals(
    call: &Call<'_>,
    cx: &Cx<'_>,
    inputs: &[&Value],
    f: impl Fn(&[f64]) -> f64,
) -> Result<Value> {
    let segs = segs_of(inputs);
    let aligned: Vec<Value> = inputs
        .iter()
        .map(|v| align(v, call, cx, segs.as_ref()))
        .collect::<Result<_>>()?;
    let cols: Vec<Cow<'_, [f64]>> = aligned
        .iter()
        .map(|v| reals(v, call.builtin.name))
        .collect::<Result<_>>()?;
    let n = cols.iter().map(|c| c.len()).max().unwrap_or(0);
    let mut row = vec![0.0; cols.len()];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        for (k, c) in cols.iter().enumerate() {
            row[k] = c.get(i).copied().unwrap_or(0.0);
        }
        out.push(f(&row));
    }
    Ok(output(call, Data::Real(out), segs))
}

/// For each group, the range of its responses.
pub fn groups(layout: &Layout) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> + '_ {
    (0..layout.groups).map(move |g| (g, layout.group(g)))
}

/// Mean and standard deviation (Bessel-corrected if `bessel` and n > 1).
pub fn mean_std(xs: &[f64], bessel: bool) -> (f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let ss: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
    let denom = if bessel && n > 1 { n - 1 } else { n };
    (mean, (ss / denom as f64).sqrt())
}
