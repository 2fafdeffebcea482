//! Relations: each response against its group or a reference set
//! (methods.md §P.2 node 9).

use crate::registry::spec::{
    ANY, BOOL, NON_NEGATIVE, NON_POSITIVE, OPEN_UNIT, PARTITION, POSITIVE, REAL, REFERENCE,
    RESPONSE, SIGNED_UNIT, UNIT, VECTOR, choice, fixed, flag, int, node, real, same_real, signal,
    signal_or,
};
use crate::registry::{Builtin, DefaultValue, Family, ParamSpec};
use crate::types::{Kind, Scope};

const R: Family = Family::Relate;

const X: ParamSpec = signal("x", REAL, RESPONSE, "each response's reward");

/// Where a reference set comes from.
const REF_SCOPES: &[Scope] = &[Scope::Group, Scope::Response];

const REFS: ParamSpec = signal(
    "refs",
    REFERENCE,
    REF_SCOPES,
    "the reference set: a per-prompt vector (e.g. a task field), or a response-scope real \
     whose values on the other members of the group (j ≠ i), or on all members of the paired \
     group of another branch, form the set",
);

const E: ParamSpec = signal(
    "e",
    VECTOR,
    RESPONSE,
    "embeddings, e.g. `judge.embed(after_think)`",
);

const BY: ParamSpec = signal_or(
    "by",
    PARTITION,
    RESPONSE,
    DefaultValue::Bool(true),
    "compare only with members of the same part (EVOL-RL: correct vs incorrect); `true` is the \
     whole group",
);

const AMONG: ParamSpec = signal_or(
    "among",
    BOOL,
    RESPONSE,
    DefaultValue::Bool(true),
    "only members where this holds take part, as comparers and as compared (EVOL-RL: valid \
     answers)",
);

const ALONE: ParamSpec = real(
    "alone",
    0.5,
    Some(UNIT),
    "the similarity when no other member qualifies",
);

/// The relations.
pub(super) const ALL: &[Builtin] = &[
    node(
        "par",
        R,
        &[
            X,
            REFS,
            real("k", 1.0, Some(POSITIVE), "sigmoid steepness"),
            int(
                "m",
                0,
                Some(NON_NEGATIVE),
                "use the first m references (PAR's reward_maxref); 0 uses all",
            ),
        ],
        same_real(Some(OPEN_UNIT)),
        "Preference As Reward: r_RL = (1/M) Σ_{m=1}^{M} σ(k · (x − ref_m)), the reward model's \
         own Bradley–Terry probability that the response beats the reference responses. PAR \
         uses k = 1, M = 10 SFT references; ablations M ∈ {1, 3, 5, 8}.",
        "[CODE] PAR reward_sigmoid with reward_relative (PorUna-byte/PAR, \
         trainers/reward_shaper.py; arXiv:2502.18770).",
    ),
    node(
        "lsc",
        R,
        &[
            X,
            REFS,
            real(
                "q",
                0.85,
                Some(UNIT),
                "quantile of the reference rewards used as r_ref",
            ),
        ],
        same_real(Some(NON_POSITIVE)),
        "Log-sigmoid-centred reward: log σ(x − r_ref), r_ref = Φ^{-1}(q; μ_ref, σ_ref), the \
         q-quantile of a normal fitted to the prompt's reference rewards (sample std). Bounded \
         above by 0, with diminishing returns once x ≫ r_ref. Summing it over several rewards \
         is the LSC conjunction.",
        "[PAPER] Transforming and Combining Rewards (arXiv:2402.00742) §7.1 (default quantile \
         unverified, methods.md §S.4); [CODE] PAR's re-implementation reward_lsc with q = 0.85 \
         (PorUna-byte/PAR).",
    ),
    node(
        "relate",
        R,
        &[
            X,
            REFS,
            choice(
                "kernel",
                &["sigmoid", "tanh", "poly", "log_sigmoid", "difference"],
                "sigmoid",
                "g(a, b): σ(k(a − b)), tanh(k(a − b)), sigmoid_poly(k(a − b)), log σ(k(a − b)) or \
                 a − b",
            ),
            real("k", 1.0, Some(POSITIVE), "steepness inside the kernel"),
            choice(
                "reduce",
                &["mean", "max", "min"],
                "mean",
                "how the kernel values over the set are reduced",
            ),
        ],
        same_real(None),
        "General relation: reduce_{b ∈ refs} g(x, b). Covers PAR's centred baselines (tanh, \
         fitted polynomial, σ with k ∈ {1, 2, 3}); SgFC is `relate(r - 3, refs)`. `par` is \
         `relate` with the sigmoid kernel and mean.",
        "[CODE] PAR reward_tanh / reward_fittedpoly / reward_sgfc (PorUna-byte/PAR, \
         trainers/reward_shaper.py; arXiv:2502.18770).",
    ),
    node(
        "ref_quantile",
        R,
        &[
            signal(
                "refs",
                REFERENCE,
                REF_SCOPES,
                "the reference set, as for `par`",
            ),
            real("q", 0.85, Some(UNIT), "the quantile level"),
            choice(
                "fit",
                &["normal", "empirical"],
                "normal",
                "Φ^{-1}(q) of a normal fit (PAR's LSC) or the empirical quantile",
            ),
        ],
        fixed(Scope::Group, Kind::Real, None),
        "One reference value per prompt: the q-quantile of its reference set, from a normal \
         fit (μ, sample σ) or empirically. `log_sigmoid(r - ref_quantile(refs))` is `lsc`.",
        "[CODE] PAR reward_lsc reference (PorUna-byte/PAR, trainers/reward_shaper.py).",
    ),
    node(
        "similarity",
        R,
        &[
            signal("a", VECTOR, ANY, "one embedding"),
            signal(
                "b",
                VECTOR,
                ANY,
                "the other, e.g. `judge.embed(sample.answer)`",
            ),
        ],
        same_real(Some(SIGNED_UNIT)),
        "Cosine similarity a·b / (|a| |b|) (0 if either is zero). ARMed's semantic reward and \
         GRPO-S's data hardness 1 − cos compare a response or prompt with a reference.",
        "[INFER] ARMed adaptive semantic reward; GRPO-S data-level hardness (arXiv:2503.18991).",
    ),
    node(
        "cosine_to_group",
        R,
        &[
            E,
            choice(
                "reduce",
                &["mean", "max"],
                "mean",
                "mean or max similarity to the others",
            ),
            BY,
            AMONG,
            flag("clip", true, "clip each cosine to [0, 1] first"),
            ALONE,
        ],
        same_real(Some(SIGNED_UNIT)),
        "Similarity of each response to the other members of its group: reduce_{j ≠ i} \
         clip01(cos(e_i, e_j)) over the members j in i's `by` part where `among` holds; if none \
         qualifies, over all other qualifying members of the group; if still none, `alone`. \
         Members where `among` is false get `alone`.",
        "[CODE] EVOL-RL _compute_novelty_rewards (YujunZhou/EVOL-RL, \
         verl/workers/reward_manager/semantic_novelty.py; arXiv:2509.15194).",
    ),
    node(
        "novelty",
        R,
        &[E, BY, AMONG, ALONE],
        same_real(Some(UNIT)),
        "EVOL-RL's semantic novelty: 1 − (0.5 · s̄_i + 0.5 · s^max_i), with s̄_i = \
         cosine_to_group(e, \"mean\", by, among) (mean similarity within the own part) and \
         s^max_i = cosine_to_group(e, \"max\", among = among) (max similarity to any other valid \
         member). EVOL-RL then min–max scales it twice within each part and maps it to the bands \
         [0.5, 1] (correct) and [−1, −0.5] (incorrect).",
        "[CODE] EVOL-RL (YujunZhou/EVOL-RL, verl/workers/reward_manager/semantic_novelty.py; \
         arXiv:2509.15194).",
    ),
];
