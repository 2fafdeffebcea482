//! Reductions to a coarser scope, with `where` partitions (methods.md §P.2 node 7).
//!
//! Every reduction takes `over`: `"next"` (the default) reduces one scope up
//! (token or segment -> response, response -> group, group -> batch); a scope
//! name reduces straight to it. Where a `where` partition can be empty the
//! binding must give a fallback (`gap = mean(t where c) - mean(t where not c) else 0`).
//! `max`/`min`/`mean`/`median` with two or more positional signals are the
//! element-wise combinators `maximum`/`minimum`/`average`/`median_of`.

use crate::registry::spec::{
    BOOL, NON_NEGATIVE, REAL, UNIT, VOTABLE, choice, flag, node, out, required, signal,
};
use crate::registry::{Builtin, Family, KindRule, NumRange, ParamSpec, ParamType, ScopeRule};
use crate::types::{Kind, Scope};

/// What a reduction can read: anything finer than a batch.
const REDUCIBLE: &[Scope] = &[Scope::Group, Scope::Response, Scope::Segment, Scope::Token];

const OVER: ParamSpec = choice(
    "over",
    &["next", "response", "group", "batch"],
    "next",
    "the scope to reduce to; `next` is one scope coarser than the input",
);

const fn reduction(
    name: &'static str,
    params: &'static [ParamSpec],
    kind: KindRule,
    range: Option<NumRange>,
    doc: &'static str,
    source: &'static str,
) -> Builtin {
    Builtin {
        partition: true,
        ..node(
            name,
            Family::Reduce,
            params,
            out(ScopeRule::Reduce, kind, range),
            doc,
            source,
        )
    }
}

const REAL_X: ParamSpec = signal("x", REAL, REDUCIBLE, "the values to reduce");

const GRPO_STATS: &str = "[CODE] verl group statistics (verl/trainer/ppo/core_algos.py, copy in \
                          YujunZhou/EVOL-RL); partitioned means as in SophiaVL-R1 (arXiv:2505.17018 \
                          eqs. 1–3).";

/// The reductions.
pub(super) const ALL: &[Builtin] = &[
    reduction(
        "mean",
        &[REAL_X, OVER],
        KindRule::Fixed(Kind::Real),
        None,
        "Mean of the members (1/n) Σ x over each group (or response, batch), restricted to \
         those where the `where` condition holds. `mean(perceived)` is PEARL's p̄_g; \
         `mean(thinking where correct)` is SophiaVL-R1's μ_c.",
        GRPO_STATS,
    ),
    reduction(
        "std",
        &[
            REAL_X,
            flag(
                "bessel",
                true,
                "divide by n − 1 (unbiased, torch.std) instead of n",
            ),
            OVER,
        ],
        KindRule::Fixed(Kind::Real),
        Some(NON_NEGATIVE),
        "Standard deviation of the members: √(Σ (x − x̄)² / (n − 1)) with `bessel` (verl's \
         torch.std), else / n; 0 for a single member. DAPO's dynamic sampling drops groups \
         with `std(accuracy) == 0`.",
        "[CODE] verl GRPO std and DAPO dynamic sampling (verl recipe/dapo/src/\
         dapo_ray_trainer.py; arXiv:2503.14476).",
    ),
    reduction(
        "sum",
        &[REAL_X, OVER],
        KindRule::Fixed(Kind::Real),
        None,
        "Sum of the members, Σ x (0 for an empty partition unless a fallback is given). \
         `sum(gated_turn_rewards)` is G-RA's Σ_t r̃_t.",
        "[2ND] G-RA accumulation (arXiv:2508.10548).",
    ),
    reduction(
        "count",
        &[signal("x", BOOL, REDUCIBLE, "the condition to count"), OVER],
        KindRule::Fixed(Kind::Real),
        Some(NON_NEGATIVE),
        "Number of members where x holds (and the `where` condition, if any).",
        GRPO_STATS,
    ),
    reduction(
        "any",
        &[signal("x", BOOL, REDUCIBLE, "the condition"), OVER],
        KindRule::Fixed(Kind::Bool),
        None,
        "True iff x holds for at least one member (false for an empty partition).",
        "[CODE] SophiaVL-R1 degenerate-group test (kxfan2002/SophiaVL-R1@a818494, \
         verl/workers/reward/custom.py).",
    ),
    reduction(
        "all",
        &[signal("x", BOOL, REDUCIBLE, "the condition"), OVER],
        KindRule::Fixed(Kind::Bool),
        None,
        "True iff x holds for every member (true for an empty partition). SophiaVL-R1's code \
         skips the thinking judge for groups where `all(outcome >= 0.9) or all(outcome <= \
         0.1)`.",
        "[CODE] SophiaVL-R1 (kxfan2002/SophiaVL-R1@a818494, verl/workers/reward/custom.py).",
    ),
    reduction(
        "mode",
        &[
            signal("x", VOTABLE, REDUCIBLE, "the votes, e.g. `answer`"),
            OVER,
        ],
        KindRule::First,
        None,
        "Majority vote: the most frequent value among the members, labels compared after the \
         same normalisation as `exact`; empty labels do not vote; ties go to the value \
         sampled first; the empty label if nobody voted. TTRL's pseudo-label is \
         `mode(answer)`.",
        "[CODE] TTRL majority vote in EVOL-RL (YujunZhou/EVOL-RL, \
         verl/utils/reward_score/ttrl/ttt_metrics.py; arXiv:2509.15194); [PAPER] Co-Reward \
         (tmlr-group/Co-Reward, CoReward-paper.pdf eqs. 6–8).",
    ),
    reduction(
        "quantile",
        &[
            REAL_X,
            required("q", ParamType::Real, Some(UNIT), "the quantile level"),
            OVER,
        ],
        KindRule::Fixed(Kind::Real),
        None,
        "The q-quantile of the members, interpolating linearly between order statistics \
         (numpy's default). SPINE's forking threshold is `quantile(entropy, 0.8, over = \
         \"batch\")`.",
        "[INFER] SPINE forking-token quantile (arXiv:2511.17938; ρ ≈ 0.2 as in \"Beyond the \
         80/20 rule\", arXiv:2506.01939).",
    ),
    reduction(
        "median",
        &[REAL_X, OVER],
        KindRule::Fixed(Kind::Real),
        None,
        "The median of the members (`quantile(x, 0.5)`).",
        GRPO_STATS,
    ),
    reduction(
        "max",
        &[REAL_X, OVER],
        KindRule::First,
        None,
        "The largest member. With two or more positional signals `max(a, b, ...)` is the \
         element-wise `maximum` instead.",
        GRPO_STATS,
    ),
    reduction(
        "min",
        &[REAL_X, OVER],
        KindRule::First,
        None,
        "The smallest member. With two or more positional signals `min(a, b, ...)` is the \
         element-wise `minimum` instead.",
        GRPO_STATS,
    ),
];
