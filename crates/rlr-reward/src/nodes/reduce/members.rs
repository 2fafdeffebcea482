//! Which input entries each output entry of a reduction reduces over, after
//! the `where` partition, and how empty member sets are reported.

use rlr_lang::Scope;

use crate::error::{EvalError, Result};
use crate::layout::Layout;
use crate::node::{Call, Cx};
use crate::value::Value;

/// The member sets of a reduction.
pub(crate) struct Members {
    /// For each output entry, the indices of its members in the input, in order.
    pub lists: Vec<Vec<usize>>,
    /// For each output entry, the group it belongs to (`None` for a batch value).
    pub groups: Vec<Option<usize>>,
}

impl Members {
    /// Records that output entry `o` had no members: its group (or the batch)
    /// goes to `cx.empty_partitions`, once.
    pub(crate) fn record_empty(&self, o: usize, cx: &mut Cx<'_>) {
        let g = self.groups.get(o).copied().flatten();
        if !cx.empty_partitions.contains(&g) {
            cx.empty_partitions.push(g);
        }
    }
}

/// The number of entries a `scope` value of a set with `layout` has.
pub(crate) fn expected_len(scope: Scope, layout: &Layout, x: &Value) -> Result<usize> {
    Ok(match scope {
        Scope::Step | Scope::Batch => 1,
        Scope::Group => layout.groups,
        Scope::Response => layout.responses(),
        Scope::Token => layout.tokens(),
        Scope::Segment => {
            let segs = x
                .segs
                .as_ref()
                .ok_or_else(|| EvalError::new("a segment value came without its segmentation"))?;
            if segs.seg_start.len() != layout.responses() + 1 {
                return Err(EvalError::new(format!(
                    "the segmentation from `{}` covers {} responses where `{}` has {}",
                    segs.origin,
                    segs.seg_start.len().saturating_sub(1),
                    x.set,
                    layout.responses()
                )));
            }
            segs.len()
        }
    })
}

/// Checks that `x` has one entry per `x.scope` entry of its rollouts.
pub(crate) fn check_len(call: &Call<'_>, layout: &Layout, x: &Value) -> Result<()> {
    let n = expected_len(x.scope, layout, x)?;
    if x.data.len() != n {
        return Err(EvalError::new(format!(
            "`{}`: its input has {} entries where {} {} values of `{}` are expected",
            call.builtin.name,
            x.data.len(),
            n,
            x.scope,
            x.set
        )));
    }
    Ok(())
}

/// The output entry each input entry belongs to, and the number of output entries.
fn owners(call: &Call<'_>, layout: &Layout, x: &Value) -> Result<(Vec<usize>, usize)> {
    let from = x.scope;
    let to = call.out.scope;
    let response_of = || -> Result<Vec<usize>> {
        match from {
            Scope::Response => Ok((0..layout.responses()).collect()),
            Scope::Token => Ok(layout.response_of_tokens()),
            Scope::Segment => match &x.segs {
                Some(s) => Ok(s.response_of()),
                None => Err(EvalError::new(
                    "a segment value came without its segmentation",
                )),
            },
            _ => Err(EvalError::new(format!("a {from} value has no responses"))),
        }
    };
    match (from, to) {
        (Scope::Segment | Scope::Token, Scope::Response) => {
            Ok((response_of()?, layout.responses()))
        }
        (Scope::Response | Scope::Segment | Scope::Token, Scope::Group) => Ok((
            response_of()?
                .into_iter()
                .map(|r| layout.group_of[r])
                .collect(),
            layout.groups,
        )),
        (Scope::Group | Scope::Response | Scope::Segment | Scope::Token, Scope::Batch) => {
            Ok((vec![0; x.data.len()], 1))
        }
        _ => Err(EvalError::new(format!(
            "`{}` cannot reduce a {from} value to a {to} value",
            call.builtin.name
        ))),
    }
}

/// The partition of the call, as one flag per entry of `x` (a coarser
/// partition broadcasts down to `x`'s scope).
fn partition(call: &Call<'_>, cx: &Cx<'_>, x: &Value) -> Result<Option<Vec<bool>>> {
    let Some(p) = &call.partition else {
        return Ok(None);
    };
    let p = if p.scope < x.scope {
        std::sync::Arc::new(cx.broadcast(p, x.scope, &x.set, x.segs.as_ref())?)
    } else {
        p.clone()
    };
    let flags = p.bools().ok_or_else(|| {
        EvalError::new(format!(
            "the `where` partition of `{}` is {}, not true/false",
            call.builtin.name,
            p.data.kind()
        ))
    })?;
    if flags.len() != x.data.len() || p.scope != x.scope {
        return Err(EvalError::new(format!(
            "the `where` partition of `{}` has {} {} entries for {} {} values",
            call.builtin.name,
            flags.len(),
            p.scope,
            x.data.len(),
            x.scope
        )));
    }
    Ok(Some(flags.to_vec()))
}

/// The member sets of `x` for a reduction to `call.out.scope`, restricted to
/// the `where` partition.
pub(crate) fn members(call: &Call<'_>, cx: &Cx<'_>, x: &Value) -> Result<Members> {
    let layout = cx.layout(&x.set)?;
    check_len(call, layout, x)?;
    let (owner, n_out) = owners(call, layout, x)?;
    let keep = partition(call, cx, x)?;
    let mut lists = vec![Vec::new(); n_out];
    for (i, o) in owner.into_iter().enumerate() {
        if keep.as_ref().is_none_or(|k| k[i]) {
            lists[o].push(i);
        }
    }
    let groups = (0..n_out)
        .map(|o| match call.out.scope {
            Scope::Group => Some(o),
            Scope::Response => layout.group_of.get(o).copied(),
            _ => None,
        })
        .collect();
    Ok(Members { lists, groups })
}
