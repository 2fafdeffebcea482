//! Majority vote.

use rlr_lang::Kind;

use crate::error::{EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

use super::members::members;
use super::stats::norm_label;

/// The winning member among `list` by `key` (members whose key is `None` do
/// not vote): the most votes, ties to the value whose first vote came first.
fn vote(list: &[usize], key: impl Fn(usize) -> Option<String>) -> Option<usize> {
    // (key, votes, first member), in order of first appearance.
    let mut tally: Vec<(String, usize, usize)> = Vec::new();
    for &i in list {
        let Some(k) = key(i) else { continue };
        match tally.iter_mut().find(|t| t.0 == k) {
            Some(t) => t.1 += 1,
            None => tally.push((k, 1, i)),
        }
    }
    let mut best: Option<&(String, usize, usize)> = None;
    for t in &tally {
        if best.is_none_or(|b| t.1 > b.1) {
            best = Some(t);
        }
    }
    best.map(|b| b.2)
}

/// `mode`: majority vote: the most frequent value among the members, labels
/// compared after the same normalisation as `exact` (trimmed, whitespace runs
/// as one space, lower-cased); empty labels do not vote; ties go to the value
/// sampled first; the result is that value as first sampled. The empty label
/// if nobody voted. An empty member set gives the empty label (NaN for reals,
/// false for bools) and is recorded as an empty partition. TTRL's
/// pseudo-label is `mode(answer)`.
///
/// [CODE] TTRL majority vote in EVOL-RL (YujunZhou/EVOL-RL,
/// verl/utils/reward_score/ttrl/ttt_metrics.py; arXiv:2509.15194); [PAPER] Co-Reward
/// (tmlr-group/Co-Reward, CoReward-paper.pdf eqs. 6–8).
pub(crate) struct Mode;

impl Node for Mode {
    fn name(&self) -> &'static str {
        "mode"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let x = call.value("x")?;
        let m = members(call, cx, x)?;
        for (o, list) in m.lists.iter().enumerate() {
            if list.is_empty() {
                m.record_empty(o, cx);
            }
        }
        let data = match &x.data {
            Data::Label(_) | Data::Text(_) => {
                let texts = kit::texts(x, "mode")?;
                let key = |i: usize| Some(norm_label(texts[i])).filter(|k| !k.is_empty());
                let winners: Vec<Option<String>> = m
                    .lists
                    .iter()
                    .map(|list| vote(list, key).map(|i| texts[i].to_string()))
                    .collect();
                if call.out.kind == Kind::Text {
                    Data::Text(winners.into_iter().map(Option::unwrap_or_default).collect())
                } else {
                    Data::Label(winners)
                }
            }
            Data::Bool(b) => Data::Bool(
                m.lists
                    .iter()
                    .map(|list| vote(list, |i| Some(b[i].to_string())).is_some_and(|i| b[i]))
                    .collect(),
            ),
            Data::Real(r) => {
                // Votes by value; -0 votes with 0; NaN does not vote.
                let key = |i: usize| (!r[i].is_nan()).then(|| (r[i] + 0.0).to_bits().to_string());
                let winners: Vec<f64> = m
                    .lists
                    .iter()
                    .enumerate()
                    .map(|(o, list)| match vote(list, key) {
                        Some(i) => r[i],
                        None => {
                            if !list.is_empty() {
                                m.record_empty(o, cx);
                            }
                            f64::NAN
                        }
                    })
                    .collect();
                Data::Real(winners)
            }
            Data::Vector(_) => return Err(EvalError::new("`mode` cannot vote over vectors")),
        };
        Ok(kit::output(call, data, None))
    }
}
