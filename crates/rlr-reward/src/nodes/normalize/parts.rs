//! The parts a `by` partition splits each group (or the batch) into, shared
//! by the normalisers and the relations.

use std::borrow::Cow;

use rlr_lang::Scope;

use crate::error::{EvalError, Result};
use crate::layout::{Layout, SetId};
use crate::node::{Call, Cx};
use crate::nodes::map::common::signal;
use crate::nodes::reduce::members::check_len;
use crate::nodes::reduce::stats::norm_label;
use crate::value::{Data, Value};

/// The `by` key of every response of `set`: a bool splits in two, a label
/// into one part per normalised value (labels that are missing or empty form
/// one part together).
pub(crate) fn keys(call: &Call<'_>, cx: &Cx<'_>, name: &str, set: &SetId) -> Result<Vec<String>> {
    let by: Cow<'_, Value> = signal(call, name)?;
    let layout = cx.layout(set)?;
    let by = match by.scope {
        Scope::Response => by.into_owned(),
        s if s < Scope::Response => cx.broadcast(&by, Scope::Response, set, None)?,
        s => {
            return Err(EvalError::new(format!(
                "`{name}` must be a response value, not a {s} value"
            )));
        }
    };
    let keys: Vec<String> = match &by.data {
        Data::Bool(b) => b.iter().map(|b| b.to_string()).collect(),
        Data::Label(_) | Data::Text(_) => by
            .texts()
            .unwrap_or_default()
            .into_iter()
            .map(norm_label)
            .collect(),
        d => {
            return Err(EvalError::new(format!(
                "`{name}` is {}, not true/false or a label",
                d.kind()
            )));
        }
    };
    if keys.len() != layout.responses() {
        return Err(EvalError::new(format!(
            "`{name}` has {} entries for {} responses of `{set}`",
            keys.len(),
            layout.responses()
        )));
    }
    Ok(keys)
}

/// The responses of each unit (a group, or the batch with `over = "batch"`),
/// split into the parts of `keys`, each part in response order.
pub(crate) fn response_parts(layout: &Layout, keys: &[String], batch: bool) -> Vec<Vec<usize>> {
    let units: Vec<std::ops::Range<usize>> = if batch {
        std::iter::once(0..layout.responses()).collect()
    } else {
        (0..layout.groups).map(|g| layout.group(g)).collect()
    };
    let mut out = Vec::new();
    for unit in units {
        let mut parts: Vec<(&str, Vec<usize>)> = Vec::new();
        for r in unit {
            match parts.iter_mut().find(|p| p.0 == keys[r]) {
                Some(p) => p.1.push(r),
                None => parts.push((&keys[r], vec![r])),
            }
        }
        out.extend(parts.into_iter().map(|p| p.1));
    }
    out
}

/// The sets of entries of `x` normalised together: per part of each group
/// (or of the batch) of responses. Response values: the part's responses.
/// Segment values: all segments of the part's responses together. Token
/// values: per position t, the t-th token of each response of the part that
/// has one.
pub(crate) fn units(call: &Call<'_>, cx: &Cx<'_>, x: &Value) -> Result<Vec<Vec<usize>>> {
    let layout = cx.layout(&x.set)?;
    check_len(call, layout, x)?;
    let batch = match call.text("over") {
        Ok("batch") => true,
        Ok("group") | Err(_) => false,
        Ok(other) => {
            return Err(EvalError::new(format!(
                "`over` = \"{other}\": expected \"group\" or \"batch\""
            )));
        }
    };
    let keys = keys(call, cx, "by", &x.set)?;
    let parts = response_parts(layout, &keys, batch);
    Ok(match x.scope {
        Scope::Response => parts,
        Scope::Segment => {
            let segs = x
                .segs
                .as_ref()
                .ok_or_else(|| EvalError::new("a segment value came without its segmentation"))?;
            parts
                .into_iter()
                .map(|p| p.into_iter().flat_map(|r| segs.of(r)).collect())
                .collect()
        }
        Scope::Token => {
            let mut out = Vec::new();
            for p in parts {
                let longest = p
                    .iter()
                    .map(|&r| layout.response_tokens(r).len())
                    .max()
                    .unwrap_or(0);
                for t in 0..longest {
                    out.push(
                        p.iter()
                            .filter(|&&r| layout.response_tokens(r).len() > t)
                            .map(|&r| layout.token_start[r] + t)
                            .collect(),
                    );
                }
            }
            out
        }
        s => {
            return Err(EvalError::new(format!(
                "`{}` normalises response, segment or token values, not {s} values",
                call.builtin.name
            )));
        }
    })
}
