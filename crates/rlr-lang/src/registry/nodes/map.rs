//! Element-wise maths on one scope (methods.md §P.2 node 5). Arithmetic,
//! comparisons, `and`/`or`/`not` and `if/then/else` are syntax; everything
//! else lives here. Numeric parameters typed as signals may be schedules or
//! group values (ToolRL's scheduled bounds).

use crate::registry::spec::{
    ANY, AT_LEAST_ONE, NON_NEGATIVE, NON_POSITIVE, OPEN_UNIT, POSITIVE, REAL, SAME_BOOL,
    SIGNED_UNIT, UNIT, VECTOR, flag, node, real, required, same_real, signal,
};
use crate::registry::{Builtin, Family, NumRange, ParamSpec, ParamType};

const M: Family = Family::Map;

const X: ParamSpec = signal("x", REAL, ANY, "the input, any scope");

const fn unary(
    name: &'static str,
    range: Option<NumRange>,
    doc: &'static str,
    source: &'static str,
) -> Builtin {
    node(name, M, &[X], same_real(range), doc, source)
}

const BASIC: &str = "[INFER] standard function; part of methods.md §P.2's closed Map library.";

/// The element-wise functions.
pub(super) const ALL: &[Builtin] = &[
    unary("exp", Some(POSITIVE), "e^x.", BASIC),
    unary(
        "log",
        None,
        "Natural logarithm ln x; x must be > 0 (a non-positive input is a run error naming the \
         binding).",
        BASIC,
    ),
    unary("sqrt", Some(NON_NEGATIVE), "√x; x must be >= 0.", BASIC),
    unary("abs", Some(NON_NEGATIVE), "|x|.", BASIC),
    unary(
        "sign",
        Some(SIGNED_UNIT),
        "−1, 0 or 1 as x is negative, zero or positive.",
        BASIC,
    ),
    unary(
        "tanh",
        Some(SIGNED_UNIT),
        "tanh x. PAR's centred-tanh baseline is `relate(r, refs, kernel = \"tanh\")`.",
        "[CODE] PAR reward_tanh (PorUna-byte/PAR, trainers/reward_shaper.py; arXiv:2502.18770).",
    ),
    unary("floor", None, "The largest integer <= x.", BASIC),
    unary(
        "sigmoid_poly",
        Some(UNIT),
        "PAR's fitted polynomial: the least-squares degree-5 polynomial fit of σ on [−5, 5] \
         (fitted on 1001 evenly spaced points), 0 below −5 and 1 above 5.",
        "[CODE] PAR reward_fittedpoly (PorUna-byte/PAR, trainers/reward_shaper.py; \
         arXiv:2502.18770).",
    ),
    node(
        "sigmoid",
        M,
        &[X, real("k", 1.0, Some(POSITIVE), "steepness")],
        same_real(Some(OPEN_UNIT)),
        "Logistic σ(k·x) = 1 / (1 + e^{−k·x}). Plain (uncentred) sigmoid shaping in PAR; the \
         centred, reference-relative form is `par`.",
        "[CODE] PAR reward_sigmoid without reward_relative (PorUna-byte/PAR, \
         trainers/reward_shaper.py; arXiv:2502.18770).",
    ),
    node(
        "log_sigmoid",
        M,
        &[X, real("k", 1.0, Some(POSITIVE), "steepness")],
        same_real(Some(NON_POSITIVE)),
        "log σ(k·x) = −log(1 + e^{−k·x}), computed stably. The LSC transformation is \
         `log_sigmoid(r - reference)`; summing it over several rewards is the LSC conjunction \
         log Π_k P(good_k).",
        "[PAPER] Transforming and Combining Rewards (arXiv:2402.00742) §7.1–7.2; [CODE] PAR \
         reward_lsc.",
    ),
    node(
        "clamp",
        M,
        &[
            X,
            signal("lo", REAL, ANY, "lower bound; may be a schedule"),
            signal("hi", REAL, ANY, "upper bound; may be a schedule"),
        ],
        same_real(None),
        "min(max(x, lo), hi). PAR's Clip baseline uses running bounds (`running_clip`); \
         ToolRL's scheduled reward ranges clamp a linear schedule.",
        "[CODE] ToolRL SCHEDULEREWARD bounds (qiancheng0/ToolRL, rlla.py; arXiv:2504.13958).",
    ),
    node(
        "round",
        M,
        &[
            X,
            real(
                "to",
                1.0,
                Some(POSITIVE),
                "round to the nearest multiple of this",
            ),
        ],
        same_real(None),
        "The nearest multiple of `to`, halves away from zero (SophiaVL-R1's thinking scores lie \
         on a 0.1 grid).",
        BASIC,
    ),
    node(
        "between",
        M,
        &[
            X,
            signal("lo", REAL, ANY, "lower bound"),
            signal("hi", REAL, ANY, "upper bound"),
            flag("inclusive", false, "include the bounds"),
        ],
        SAME_BOOL,
        "lo < x < hi (or lo <= x <= hi with `inclusive`). PEARL's dynamic sampling keeps a \
         group iff between(mean(accuracy), 0.01, 0.99) or between(mean(perceived), 0.01, \
         0.99).",
        "[CODE] PEARL mixfilter (MiliLab/PEARL@dab5b0a, verl/trainer/ray_trainer.py; \
         arXiv:2511.18437).",
    ),
    node(
        "interp",
        M,
        &[
            X,
            required(
                "points",
                ParamType::Points,
                None,
                "(x, y) points with increasing x",
            ),
        ],
        same_real(None),
        "Piecewise-linear interpolation through the points: y at each listed x, linear in \
         between, the first/last y outside.",
        "[INFER] methods.md §P.2 Map \"piecewise-linear\".",
    ),
    node(
        "component",
        M,
        &[
            signal(
                "v",
                VECTOR,
                ANY,
                "a vector, e.g. `judge.rubric(text, sample)`",
            ),
            required(
                "i",
                ParamType::Int,
                Some(AT_LEAST_ONE),
                "which component, 1-based",
            ),
        ],
        same_real(None),
        "The i-th component of a vector (1-based), e.g. one rubric criterion to veto on.",
        "[2ND] Rubric Anchors veto on a critical criterion (arXiv:2508.12790).",
    ),
];
