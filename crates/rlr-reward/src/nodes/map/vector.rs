//! Reading one component of a vector.

use crate::error::{EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

use super::common::{align_all, error_at};

/// `component`: the i-th component of a vector (1-based), e.g. one rubric
/// criterion to veto on. A vector shorter than i is a run error naming the rollout.
///
/// [2ND] Rubric Anchors veto on a critical criterion (arXiv:2508.12790).
pub(crate) struct Component;

impl Node for Component {
    fn name(&self) -> &'static str {
        "component"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let i = call.int("i")?;
        if i < 1 {
            return Err(EvalError::new(format!(
                "`component`: i = {i}, but components are numbered from 1"
            )));
        }
        let k = (i - 1) as usize;
        let aligned = align_all(call, cx, &[call.value("v")?])?;
        let Some(Data::Vector(vs)) = aligned.values.first().map(|v| &v.data) else {
            return Err(EvalError::new("`component` needs a vector"));
        };
        let out = vs
            .iter()
            .enumerate()
            .map(|(n, v)| {
                v.get(k).copied().ok_or_else(|| {
                    let msg = format!(
                        "`component`: asked for component {i} of a vector of {}",
                        v.len()
                    );
                    error_at(call, cx, aligned.segs.as_ref(), n, msg)
                })
            })
            .collect::<Result<Vec<f64>>>()?;
        Ok(kit::output(call, Data::Real(out), aligned.segs))
    }
}
