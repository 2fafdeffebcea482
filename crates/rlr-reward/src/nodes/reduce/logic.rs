//! Reductions of conditions: count, any, all. Each has a defined value over
//! an empty member set (0, false, true), which is not reported as an empty
//! partition: the binding's `else` fallback does not replace it.

use crate::error::Result;
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

use super::members::members;

/// For each output entry, how many members there are and how many hold.
fn tally(call: &Call<'_>, cx: &Cx<'_>) -> Result<Vec<(usize, usize)>> {
    let x = call.value("x")?;
    let m = members(call, cx, x)?;
    let xs = kit::bools(x, call.builtin.name)?;
    Ok(m.lists
        .iter()
        .map(|list| (list.len(), list.iter().filter(|&&i| xs[i]).count()))
        .collect())
}

/// `count`: number of members where x holds (and the `where` condition, if
/// any); 0 over an empty partition (a defined value, not an empty partition).
///
/// [CODE] verl group statistics (verl/trainer/ppo/core_algos.py, copy in
/// YujunZhou/EVOL-RL); partitioned means as in SophiaVL-R1 (arXiv:2505.17018 eqs. 1–3).
pub(crate) struct Count;

impl Node for Count {
    fn name(&self) -> &'static str {
        "count"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let out = tally(call, cx)?
            .into_iter()
            .map(|(_, k)| k as f64)
            .collect();
        Ok(kit::output(call, Data::Real(out), None))
    }
}

/// `any`: true iff x holds for at least one member (false for an empty
/// partition: a defined value, not an empty partition).
///
/// [CODE] SophiaVL-R1 degenerate-group test (kxfan2002/SophiaVL-R1@a818494,
/// verl/workers/reward/custom.py).
pub(crate) struct Any;

impl Node for Any {
    fn name(&self) -> &'static str {
        "any"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let out = tally(call, cx)?.into_iter().map(|(_, k)| k > 0).collect();
        Ok(kit::output(call, Data::Bool(out), None))
    }
}

/// `all`: true iff x holds for every member (true for an empty partition: a
/// defined value, not an empty partition). SophiaVL-R1's code skips the
/// thinking judge for groups where `all(outcome >= 0.9) or all(outcome <= 0.1)`.
///
/// [CODE] SophiaVL-R1 (kxfan2002/SophiaVL-R1@a818494, verl/workers/reward/custom.py).
pub(crate) struct All;

impl Node for All {
    fn name(&self) -> &'static str {
        "all"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let out = tally(call, cx)?.into_iter().map(|(n, k)| k == n).collect();
        Ok(kit::output(call, Data::Bool(out), None))
    }
}
