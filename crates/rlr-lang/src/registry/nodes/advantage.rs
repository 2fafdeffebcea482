//! Advantage estimators (methods.md §P.2 node 16). The stage's `advantage`
//! setting applies one of these to every `optimize`d reward; as nodes they make
//! the advantages a named signal that can be weighted, masked and logged.
//! Rewards given per response count as placed at the last token.

use crate::registry::spec::{POSITIVE, REAL, REWARD, TOKEN, UNIT, fixed, flag, node, real, signal};
use crate::registry::{Builtin, Family, ParamSpec};
use crate::types::{Kind, Scope};

const A: Family = Family::Advantage;

const R: ParamSpec = signal(
    "r",
    REAL,
    REWARD,
    "rewards per response, or per token after `place`",
);

const EPS: ParamSpec = real(
    "eps",
    1e-6,
    Some(POSITIVE),
    "added to the standard deviation",
);

const fn estimator(
    name: &'static str,
    params: &'static [ParamSpec],
    doc: &'static str,
    source: &'static str,
) -> Builtin {
    node(
        name,
        A,
        params,
        fixed(Scope::Token, Kind::Real, None),
        doc,
        source,
    )
}

/// The advantage estimators.
pub(super) const ALL: &[Builtin] = &[
    estimator(
        "advantage.grpo",
        &[R, EPS, flag("bessel", true, "unbiased std (torch.std)")],
        "GRPO outcome advantage: with R_i = Σ_t r_{i,t}, A_i = (R_i − mean_G(R)) / (std_G(R) + \
         eps), broadcast to every generated token of response i (A_{i,t} = A_i · mask_{i,t}). A \
         group of one uses mean 0, std 1.",
        "[CODE] verl compute_grpo_outcome_advantage (verl/trainer/ppo/core_algos.py, copy in \
         YujunZhou/EVOL-RL); DeepSeekMath (arXiv:2402.03300).",
    ),
    estimator(
        "advantage.dr_grpo",
        &[R],
        "Dr.GRPO advantage: A_i = R_i − mean_G(R), no division by the std, broadcast to tokens. \
         Pair with `loss_agg = seq-mean-token-sum-norm`.",
        "[INFER] Dr.GRPO (arXiv:2503.20783; verl norm_adv_by_std_in_grpo = False).",
    ),
    estimator(
        "advantage.rloo",
        &[R],
        "REINFORCE leave-one-out: A_i = R_i − (1/(G − 1)) Σ_{j ≠ i} R_j, broadcast to tokens (0 \
         for a group of one).",
        "[2ND] RLOO, Back to Basics (arXiv:2402.14740); verl/TRL RLOO estimators.",
    ),
    estimator(
        "advantage.reinforce_pp",
        &[R, EPS],
        "REINFORCE++: token returns G_{i,t} = Σ_{t' >= t} r_{i,t'} (with the KL penalty in the \
         reward when `kl_in = reward`), whitened over the whole batch: A = (G − mean_batch(G)) / \
         (std_batch(G) + eps); no group baseline.",
        "[INFER] REINFORCE++ (arXiv:2501.03262) as in verl's reinforce_plus_plus estimator.",
    ),
    estimator(
        "advantage.per_position",
        &[
            signal(
                "r",
                REAL,
                TOKEN,
                "token rewards, e.g. `place(ig, at = \"segment_end\")`",
            ),
            real("gamma", 1.0, Some(UNIT), "the discount γ of the return"),
        ],
        "IGPO's per-position group baseline: G_{i,t} = Σ_{t' >= t} γ^{t'−t} r_{i,t'}, then \
         A_{i,t} = G_{i,t} − mean_{j ∈ group, |y_j| >= t} G_{j,t} (positions aligned by token \
         index; the std is not divided in the released code).",
        "[CODE] IGPO compute_grpo_outcome_advantage (GuoqingWang1/IGPO, \
         verl/trainer/ppo/core_algos.py; arXiv:2510.14967).",
    ),
    estimator(
        "advantage.grpo_process",
        &[
            signal("r", REAL, TOKEN, "step rewards placed at step ends"),
            EPS,
        ],
        "GRPO process supervision: all step rewards of the group are normalised jointly, \
         r̃ = (r − mean) / (std + eps), then A_{i,t} = Σ of r̃_{i,j} over the steps j ending at \
         or after t.",
        "[INFER] DeepSeekMath §4.1.3 process supervision (arXiv:2402.03300), from memory of the \
         paper.",
    ),
];
