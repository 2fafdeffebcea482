//! Running statistics kept across steps and checkpointed with the policy
//! (methods.md §P.2 node 12).

use crate::registry::spec::{
    MEMBERS, NON_NEGATIVE, POSITIVE, REAL, UNIT, choice, fixed, node, real, same_real, signal,
};
use crate::registry::{Builtin, Family, ParamSpec};
use crate::types::{Kind, Scope};

const RS: Family = Family::RunningStat;

const X: ParamSpec = signal(
    "x",
    REAL,
    MEMBERS,
    "the values; every value of every step counts",
);

const UPDATE: ParamSpec = choice(
    "update",
    &["before", "after"],
    "before",
    "fold this step's values into the statistics before using them (PAR) or only at the \
     step's state commit",
);

const PAR_STATS: &str = "[CODE] PAR RunningStats (PorUna-byte/PAR, trainers/reward_shaper.py: \
                         parallel Welford merge with the batch's population variance; \
                         arXiv:2502.18770).";

/// The running statistics.
pub(super) const ALL: &[Builtin] = &[
    node(
        "running_mean",
        RS,
        &[X, UPDATE],
        fixed(Scope::Batch, Kind::Real, None),
        "The mean of every value of x seen so far in the stage (Welford), one value per step.",
        PAR_STATS,
    ),
    node(
        "running_std",
        RS,
        &[X, UPDATE],
        fixed(Scope::Batch, Kind::Real, Some(NON_NEGATIVE)),
        "The population standard deviation of every value of x seen so far (parallel Welford \
         merge), one value per step.",
        PAR_STATS,
    ),
    node(
        "ema",
        RS,
        &[
            X,
            real("beta", 0.9, Some(UNIT), "decay: weight kept on the past"),
            UPDATE,
        ],
        fixed(Scope::Batch, Kind::Real, None),
        "Exponential moving average of the batch mean: m_s = β · m_{s−1} + (1 − β) · \
         mean_batch(x), starting from the first batch's mean.",
        "[INFER] methods.md §P.2 RunningStat \"EMA(β)\".",
    ),
    node(
        "running_zscore",
        RS,
        &[X, UPDATE],
        same_real(None),
        "PAR's Meanstd baseline: (x − μ_run) / σ_run with the running mean and population std \
         of all values so far (σ_run = 0 divides by 1).",
        PAR_STATS,
    ),
    node(
        "running_clip",
        RS,
        &[
            X,
            real(
                "k",
                1.0,
                Some(POSITIVE),
                "half-width in running standard deviations",
            ),
            UPDATE,
        ],
        same_real(None),
        "PAR's Clip baseline: clip(x, μ_run − k·σ_run, μ_run + k·σ_run).",
        PAR_STATS,
    ),
    node(
        "running_minmax",
        RS,
        &[
            X,
            real(
                "degenerate",
                0.5,
                Some(UNIT),
                "the value while max_run = min_run",
            ),
            UPDATE,
        ],
        same_real(None),
        "PAR's Minmax baseline: (x − min_run) / (max_run − min_run) with the smallest and largest \
         values seen so far.",
        PAR_STATS,
    ),
];
