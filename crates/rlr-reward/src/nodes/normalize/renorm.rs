//! ReNorm: process rewards and the outcome brought to one sign-consistent scale.

use crate::error::Result;
use crate::node::{Call, Cx, Node};
use crate::nodes::map::common::map_real;
use crate::value::Value;

/// `renorm`: ReNorm: r̂_k = (r^p_k − ½) + (r^o − ½) = r^p_k + r^o − 1, the
/// outcome broadcast to every step. Sign-consistent: r̂ ∈ [−1, 0] when the
/// outcome is wrong, [0, 1] when right.
///
/// [2ND] PPR/ReNorm (arXiv:2509.25598; a paper summary and an ICLR 2026 review); the
/// exact form is [INFER] (methods.md §S.2).
pub(crate) struct Renorm;

impl Node for Renorm {
    fn name(&self) -> &'static str {
        "renorm"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        map_real(
            call,
            cx,
            &[call.value("process")?, call.value("outcome")?],
            |r| r[0] + r[1] - 1.0,
        )
    }
}
