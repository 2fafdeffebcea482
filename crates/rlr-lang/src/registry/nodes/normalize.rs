//! Group normalisers and ReNorm (methods.md §P.2 node 8).
//!
//! Each normaliser works within every group (or the whole batch with
//! `over = "batch"`), separately inside each part of the `by` partition.

use crate::registry::spec::{
    MEMBERS, PARTITION, POSITIVE, REAL, RESPONSE, SIGNED_UNIT, TEXTUAL, UNIT, choice, flag, node,
    real, same_real, signal, signal_or,
};
use crate::registry::{Builtin, DefaultValue, Family, ParamSpec};

const N: Family = Family::Normalize;

const X: ParamSpec = signal(
    "x",
    REAL,
    MEMBERS,
    "the values to normalise; token values are normalised per position",
);

const BY: ParamSpec = signal_or(
    "by",
    PARTITION,
    RESPONSE,
    DefaultValue::Bool(true),
    "partition: a bool splits each group in two, a label into one part per value; the default \
     `true` keeps the group whole",
);

const OVER: ParamSpec = choice(
    "over",
    &["group", "batch"],
    "group",
    "normalise within each group (GRPO) or across the whole batch (TRL scale_rewards=\"batch\")",
);

const DEGENERATE: ParamSpec = real(
    "degenerate",
    0.5,
    Some(UNIT),
    "the value for a part with one member or with all members equal",
);

const ALONE: ParamSpec = real(
    "alone",
    0.5,
    Some(UNIT),
    "the value for a part with one member",
);

/// The normalisers.
pub(super) const ALL: &[Builtin] = &[
    node(
        "zscore",
        N,
        &[
            X,
            real(
                "eps",
                1e-6,
                Some(POSITIVE),
                "added to the standard deviation",
            ),
            flag(
                "bessel",
                true,
                "unbiased standard deviation (n − 1), as torch.std",
            ),
            BY,
            OVER,
        ],
        same_real(None),
        "Group z-score: (x − mean_P(x)) / (std_P(x) + eps) within each part P. A part with one \
         member uses mean 0 and std 1 (verl), i.e. x / (1 + eps). This is GRPO's outcome \
         advantage applied to a reward; EVOL-RL and AlphaAlign use it partitioned.",
        "[CODE] verl compute_grpo_outcome_advantage (verl/trainer/ppo/core_algos.py, copy in \
         YujunZhou/EVOL-RL); DeepSeekMath (arXiv:2402.03300).",
    ),
    node(
        "center",
        N,
        &[X, BY, OVER],
        same_real(None),
        "Mean-centring: x − mean_P(x) within each part P (a part with one member uses mean 0). \
         Dr.GRPO's advantage without the std division.",
        "[INFER] Dr.GRPO (arXiv:2503.20783; verl norm_adv_by_std_in_grpo = False).",
    ),
    node(
        "minmax",
        N,
        &[X, DEGENERATE, BY, OVER, ALONE],
        same_real(Some(UNIT)),
        "Min–max scaling: (x − min_P) / (max_P − min_P) within each part P; `degenerate` where \
         max_P = min_P, `alone` where the part has one member. EVOL-RL scales novelty this way \
         twice inside the correct and the incorrect partition: the first time a singleton gets \
         0.5, the second time 1 (a single correct answer earns the band's top, 1.0; a single \
         incorrect one −0.5), while equal members get 0.5 both times.",
        "[CODE] EVOL-RL _compute_similarity_based_rewards (YujunZhou/EVOL-RL, \
         verl/workers/reward_manager/semantic_novelty.py; arXiv:2509.15194).",
    ),
    node(
        "rank",
        N,
        &[X, DEGENERATE, BY, OVER],
        same_real(Some(UNIT)),
        "Normalised rank: (rank_P(x) − 1) / (n_P − 1) within each part P of n_P members, ties \
         given their average rank; `degenerate` for a part of one member.",
        "[INFER] methods.md §P.2 GroupNormalize \"rank\".",
    ),
    node(
        "renorm",
        N,
        &[
            signal(
                "process",
                REAL,
                TEXTUAL,
                "process rewards in [0, 1], e.g. `judge.principle(turns, sample)`",
            ),
            signal("outcome", REAL, RESPONSE, "the outcome reward in {0, 1}"),
        ],
        same_real(Some(SIGNED_UNIT)),
        "ReNorm: r̂_k = (r^p_k − ½) + (r^o − ½) = r^p_k + r^o − 1, the outcome broadcast to every \
         step. Sign-consistent: r̂ ∈ [−1, 0] when the outcome is wrong, [0, 1] when right.",
        "[2ND] PPR/ReNorm (arXiv:2509.25598; a paper summary and an ICLR 2026 review); the exact \
         form is [INFER] (methods.md §S.2).",
    ),
];
