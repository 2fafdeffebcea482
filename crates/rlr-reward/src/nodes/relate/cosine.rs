//! Cosine similarities: between two embeddings, and of each response with
//! the other members of its group (EVOL-RL's semantic novelty).

use crate::error::{EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::nodes::map::common::{align_all, error_at, signal};
use crate::nodes::normalize::parts::keys;
use crate::value::{Data, Value};

/// a·b / (|a| |b|), 0 if either is zero; `None` if the dimensions differ.
fn cosine(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() {
        return None;
    }
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    Some(if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        (dot / (na * nb)).clamp(-1.0, 1.0)
    })
}

/// `similarity`: cosine similarity a·b / (|a| |b|) (0 if either is zero).
/// ARMed's semantic reward and GRPO-S's data hardness 1 − cos compare a
/// response or prompt with a reference. Vectors of different lengths are a
/// run error naming the rollout.
///
/// [INFER] ARMed adaptive semantic reward; GRPO-S data-level hardness (arXiv:2503.18991).
pub(crate) struct Similarity;

impl Node for Similarity {
    fn name(&self) -> &'static str {
        "similarity"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let aligned = align_all(call, cx, &[call.value("a")?, call.value("b")?])?;
        let (Data::Vector(a), Data::Vector(b)) = (&aligned.values[0].data, &aligned.values[1].data)
        else {
            return Err(EvalError::new("`similarity` needs two vectors"));
        };
        let out = a
            .iter()
            .zip(b)
            .enumerate()
            .map(|(i, (a, b))| {
                cosine(a, b).ok_or_else(|| {
                    let msg = format!(
                        "`similarity` of vectors of {} and {} components",
                        a.len(),
                        b.len()
                    );
                    error_at(call, cx, aligned.segs.as_ref(), i, msg)
                })
            })
            .collect::<Result<Vec<f64>>>()?;
        Ok(kit::output(call, Data::Real(out), aligned.segs))
    }
}

/// How similarities to the other members are reduced.
#[derive(Clone, Copy, PartialEq)]
enum Reduce {
    Mean,
    Max,
}

/// The similarity of each response of the call's rollouts to the other
/// members of its group: reduce_{j ≠ i} cos(e_i, e_j) (clipped to [0, 1] if
/// `clip`) over the members j in i's part of `by` where `among` holds; if
/// none qualifies, over all other qualifying members of the group; if still
/// none, `alone`. Members where `among` is false get `alone`. `by = None`
/// keeps the group whole.
fn to_group(
    call: &Call<'_>,
    cx: &Cx<'_>,
    reduce: Reduce,
    by: Option<&[String]>,
    clip: bool,
    alone: f64,
) -> Result<Vec<f64>> {
    let layout = cx.layout(&call.set)?;
    let aligned = align_all(call, cx, &[call.value("e")?])?;
    let Data::Vector(e) = &aligned.values[0].data else {
        return Err(EvalError::new(format!(
            "`{}` needs embeddings (vectors)",
            call.builtin.name
        )));
    };
    let among = signal(call, "among")?;
    let among = align_all(call, cx, &[&among])?;
    let among = kit::bools(&among.values[0], "among")?.to_vec();
    let mut out = vec![alone; layout.responses()];
    for g in 0..layout.groups {
        let members = layout.group(g);
        for i in members.clone() {
            if !among[i] {
                continue;
            }
            let others: Vec<usize> = members.clone().filter(|&j| j != i && among[j]).collect();
            let same: Vec<usize> = match by {
                Some(k) => others.iter().copied().filter(|&j| k[j] == k[i]).collect(),
                None => others.clone(),
            };
            let chosen = if same.is_empty() { others } else { same };
            if chosen.is_empty() {
                continue;
            }
            let mut sims = Vec::with_capacity(chosen.len());
            for j in chosen {
                let s = cosine(&e[i], &e[j]).ok_or_else(|| {
                    let msg = format!(
                        "`{}`: embeddings of {} and {} components in one group",
                        call.builtin.name,
                        e[i].len(),
                        e[j].len()
                    );
                    error_at(call, cx, None, i, msg)
                })?;
                sims.push(if clip { s.clamp(0.0, 1.0) } else { s });
            }
            out[i] = match reduce {
                Reduce::Mean => sims.iter().sum::<f64>() / sims.len() as f64,
                Reduce::Max => sims.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            };
        }
    }
    Ok(out)
}

/// The `alone` value.
fn alone(call: &Call<'_>) -> Result<f64> {
    call.real("alone")
}

/// `cosine_to_group`: similarity of each response to the other members of its
/// group: reduce_{j ≠ i} clip01(cos(e_i, e_j)) over the members j in i's `by`
/// part where `among` holds; if none qualifies, over all other qualifying
/// members of the group; if still none, `alone`. Members where `among` is
/// false get `alone`.
///
/// [CODE] EVOL-RL _compute_novelty_rewards (YujunZhou/EVOL-RL,
/// verl/workers/reward_manager/semantic_novelty.py; arXiv:2509.15194).
pub(crate) struct CosineToGroup;

impl Node for CosineToGroup {
    fn name(&self) -> &'static str {
        "cosine_to_group"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let reduce = match call.text("reduce")? {
            "mean" => Reduce::Mean,
            "max" => Reduce::Max,
            other => {
                return Err(EvalError::new(format!(
                    "`cosine_to_group`: unknown reduction \"{other}\""
                )));
            }
        };
        let by = keys(call, cx, "by", &call.set)?;
        let out = to_group(
            call,
            cx,
            reduce,
            Some(&by),
            call.flag("clip")?,
            alone(call)?,
        )?;
        Ok(kit::output(call, Data::Real(out), None))
    }
}

/// `novelty`: EVOL-RL's semantic novelty: 1 − (0.5 · s̄_i + 0.5 · s^max_i),
/// with s̄_i = cosine_to_group(e, "mean", by, among) (mean similarity within
/// the own part) and s^max_i = cosine_to_group(e, "max", among = among) (max
/// similarity to any other valid member), cosines clipped to [0, 1]. EVOL-RL
/// then min–max scales it twice within each part and maps it to the bands
/// [0.5, 1] (correct) and [−1, −0.5] (incorrect).
/// Members where `among` is false get 1 − `alone` (both similarities are `alone`).
///
/// [CODE] EVOL-RL (YujunZhou/EVOL-RL, verl/workers/reward_manager/semantic_novelty.py;
/// arXiv:2509.15194).
pub(crate) struct Novelty;

impl Node for Novelty {
    fn name(&self) -> &'static str {
        "novelty"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let by = keys(call, cx, "by", &call.set)?;
        let alone = alone(call)?;
        let mean = to_group(call, cx, Reduce::Mean, Some(&by), true, alone)?;
        let max = to_group(call, cx, Reduce::Max, None, true, alone)?;
        let out = mean
            .iter()
            .zip(&max)
            .map(|(a, b)| 1.0 - (0.5 * a + 0.5 * b))
            .collect();
        Ok(kit::output(call, Data::Real(out), None))
    }
}
