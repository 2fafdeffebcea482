//! Scans along the segments or tokens of each response (methods.md §P.2 node 15).

use crate::registry::spec::{ANY, REAL, SEQUENCE, UNIT, node, real, same_real, signal, signal_or};
use crate::registry::{Builtin, DefaultValue, Family, ParamSpec};

const SC: Family = Family::Scan;

const X: ParamSpec = signal("x", REAL, SEQUENCE, "values per segment or per token");

/// The scans.
pub(super) const ALL: &[Builtin] = &[
    node(
        "return_to_go",
        SC,
        &[X, real("gamma", 1.0, Some(UNIT), "the discount γ")],
        same_real(None),
        "Discounted return-to-go: G_k = Σ_{j >= k} γ^{j−k} x_j. IGPO's advantage starts from \
         the token return with γ = 1; DeepSeekMath's process supervision sums normalised step \
         rewards from each step on.",
        "[CODE] IGPO compute_grpo_outcome_advantage (GuoqingWang1/IGPO, \
         verl/trainer/ppo/core_algos.py); [INFER] DeepSeekMath process supervision \
         (arXiv:2402.03300).",
    ),
    node(
        "first_difference",
        SC,
        &[X],
        same_real(None),
        "The Delta mechanism: d_k = x_k − x_{k+1} for k < K and d_K = x_K, so that the \
         return-to-go from any step equals that step's own value (Σ_{j >= k} d_j = x_k). \
         Clip-Delta applies it after `minimum(prm - eta, 0)`.",
        "[2ND] Clip/Delta (arXiv:2410.15115, ICLR 2025 reviews); the last-step boundary term is \
         [INFER] (methods.md §S.5).",
    ),
    node(
        "backward_difference",
        SC,
        &[
            X,
            signal_or(
                "initial",
                REAL,
                ANY,
                DefaultValue::Real(0.0),
                "x_0, the value before the first element; may be a response or group signal",
            ),
        ],
        same_real(None),
        "Increments: d_k = x_k − x_{k−1}, with x_0 = `initial`. IGPO's information gain \
         IG_k = P_k − P_{k−1} with P_0 the gold-answer probability from the prompt alone.",
        "[CODE] IGPO (GuoqingWang1/IGPO, scrl/llm_agent/generation.py; arXiv:2510.14967).",
    ),
    node(
        "cumsum",
        SC,
        &[X],
        same_real(None),
        "Running sum from the start: c_k = Σ_{j <= k} x_j.",
        "[INFER] methods.md §P.2 Scan \"cumulative sum\".",
    ),
    node(
        "cummax",
        SC,
        &[X],
        same_real(None),
        "Running maximum from the start: c_k = max_{j <= k} x_j.",
        "[INFER] methods.md §P.2 Scan \"cumulative max\".",
    ),
];
