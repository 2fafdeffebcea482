//! Random group conditions for `halt when ... unless ...`, `drop when ...`, and
//! reward noise (methods.md §P.2 node 13; the filters themselves are statements).

use crate::registry::spec::{ANY, REAL, UNIT, choice, fixed, node, required, same_real, signal};
use crate::registry::{Builtin, Family, ParamSpec, ParamType};
use crate::types::{Kind, Scope};

const F: Family = Family::Filter;

const PER: ParamSpec = choice(
    "per",
    &["group", "batch"],
    "group",
    "draw once per prompt, or once per step for the whole batch",
);

/// The random conditions.
pub(super) const ALL: &[Builtin] = &[
    node(
        "chance",
        F,
        &[
            required("p", ParamType::Real, Some(UNIT), "the probability of true"),
            PER,
        ],
        fixed(Scope::Group, Kind::Bool, None),
        "A seeded Bernoulli(p) draw, true with probability p, derived from (seed, step, prompt) \
         so reruns draw the same. `halt when evidence <= 0.01 unless chance(0.3)` keeps a \
         failing prompt anyway 30 % of the time. ⚠ PEARL's released code draws once per \
         generation batch (all prompts kept together): use `per = \"batch\"` to match it.",
        "[CODE] PEARL trim bypass skip_filter = random() < 0.3 (MiliLab/PEARL@dab5b0a, \
         verl/trainer/ray_trainer.py _make_batch_data; arXiv:2511.18437).",
    ),
    node(
        "flip",
        F,
        &[
            signal("x", REAL, ANY, "a reward in [0, 1], e.g. correctness"),
            required("p", ParamType::Real, Some(UNIT), "the flip probability"),
            PER,
        ],
        same_real(None),
        "Reward noise: with probability p (a seeded draw per group, as in the paper's code, or \
         per batch) the reward is flipped, r ← 1 − r, for every member of the group.",
        "[CODE] Climb Carves Wisdom noisy rewards (trestad/Noisy-Rewards-in-Learning-to-Reason, \
         verl/workers/reward_manager/naive.py).",
    ),
];
