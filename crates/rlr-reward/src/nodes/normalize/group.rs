//! The group normalisers: z-score, centring, min–max and rank, each within
//! every part P of the `by` partition of each group (or of the batch).

use crate::error::{EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

use super::parts::units;

/// Normalises the reals of `x` unit by unit: `f` maps the NaN-free values of
/// one unit (at least one) to their normalised values. NaN entries stay NaN
/// and take no part in the statistics.
fn normalize(call: &Call<'_>, cx: &Cx<'_>, f: impl Fn(&[f64]) -> Vec<f64>) -> Result<Value> {
    let given = call.value("x")?;
    let x = if given.scope == call.out.scope {
        given.clone()
    } else {
        kit::align(given, call, cx, given.segs.as_ref())?
    };
    let xs = kit::reals(&x, call.builtin.name)?;
    let mut out = vec![f64::NAN; xs.len()];
    let mut idx = Vec::new();
    let mut vals = Vec::new();
    for unit in units(call, cx, &x)? {
        idx.clear();
        vals.clear();
        for i in unit {
            if !xs[i].is_nan() {
                idx.push(i);
                vals.push(xs[i]);
            }
        }
        if vals.is_empty() {
            continue;
        }
        for (i, y) in idx.iter().zip(f(&vals)) {
            out[*i] = y;
        }
    }
    Ok(kit::output(call, Data::Real(out), x.segs.clone()))
}

/// `zscore`: group z-score: (x − mean_P(x)) / (std_P(x) + eps) within each
/// part P. A part with one member uses mean 0 and std 1 (verl), i.e.
/// x / (1 + eps). This is GRPO's outcome advantage applied to a reward;
/// EVOL-RL and AlphaAlign use it partitioned.
///
/// [CODE] verl compute_grpo_outcome_advantage (verl/trainer/ppo/core_algos.py, copy
/// in YujunZhou/EVOL-RL); DeepSeekMath (arXiv:2402.03300).
pub(crate) struct Zscore;

impl Node for Zscore {
    fn name(&self) -> &'static str {
        "zscore"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let eps = call.real("eps")?;
        let bessel = call.flag("bessel")?;
        normalize(call, cx, |v| {
            let (mean, std) = if v.len() == 1 {
                (0.0, 1.0)
            } else {
                kit::mean_std(v, bessel)
            };
            v.iter().map(|x| (x - mean) / (std + eps)).collect()
        })
    }
}

/// `center`: mean-centring: x − mean_P(x) within each part P (a part with one
/// member uses mean 0). Dr.GRPO's advantage without the std division.
///
/// [INFER] Dr.GRPO (arXiv:2503.20783; verl norm_adv_by_std_in_grpo = False).
pub(crate) struct Center;

impl Node for Center {
    fn name(&self) -> &'static str {
        "center"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        normalize(call, cx, |v| {
            let mean = if v.len() == 1 {
                0.0
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            };
            v.iter().map(|x| x - mean).collect()
        })
    }
}

/// The `degenerate` value, checked to be a number.
fn degenerate(call: &Call<'_>) -> Result<f64> {
    let d = call.real("degenerate")?;
    if d.is_nan() {
        return Err(EvalError::new("`degenerate` is not a number"));
    }
    Ok(d)
}

/// `minmax`: min–max scaling: (x − min_P) / (max_P − min_P) within each part
/// P; `degenerate` where max_P = min_P, `alone` where the part has one member.
/// EVOL-RL scales novelty this way twice inside the correct and the incorrect
/// partition: a singleton gets 0.5 the first time and 1 the second.
///
/// [CODE] EVOL-RL _compute_similarity_based_rewards (YujunZhou/EVOL-RL,
/// verl/workers/reward_manager/semantic_novelty.py; arXiv:2509.15194).
pub(crate) struct Minmax;

impl Node for Minmax {
    fn name(&self) -> &'static str {
        "minmax"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let d = degenerate(call)?;
        // Older calls (without the parameter) treat a lone member as degenerate.
        let alone = call.real("alone").unwrap_or(d);
        normalize(call, cx, |v| {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if v.len() == 1 {
                vec![alone; 1]
            } else if hi <= lo {
                vec![d; v.len()]
            } else {
                v.iter().map(|x| (x - lo) / (hi - lo)).collect()
            }
        })
    }
}

/// Average 1-based ranks of `v` (ties share the mean of their ranks).
fn average_ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        // Positions i..=j (0-based) hold equal values: ranks i+1..=j+1, mean (i + j) / 2 + 1.
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    ranks
}

/// `rank`: normalised rank: (rank_P(x) − 1) / (n_P − 1) within each part P of
/// n_P members, ties given their average rank; `degenerate` for a part of one member.
///
/// [INFER] methods.md §P.2 GroupNormalize "rank".
pub(crate) struct Rank;

impl Node for Rank {
    fn name(&self) -> &'static str {
        "rank"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let d = degenerate(call)?;
        normalize(call, cx, |v| {
            if v.len() == 1 {
                return vec![d];
            }
            let n = v.len() as f64;
            average_ranks(v)
                .into_iter()
                .map(|r| (r - 1.0) / (n - 1.0))
                .collect()
        })
    }
}
