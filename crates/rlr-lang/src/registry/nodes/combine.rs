//! Combinators: several inputs of one scope into one (methods.md §P.2 node 6).
//!
//! `max`, `min`, `mean` and `median` are reductions when called with one
//! signal; with two or more positional signals the checker routes them to the
//! element-wise `maximum`, `minimum`, `average` and `median_of` below.
//!
//! Variadic built-ins take their signals last, so a constant parameter comes
//! first, positionally: `weighted_sum([0.9, 0.1], accuracy, form)`,
//! `mean_minus_std(0.5, r1, r2, r3)`.

use crate::registry::spec::{ANY, NON_NEGATIVE, REAL, VECTOR, node, required, same_real, signal};
use crate::registry::{Builtin, Family, ParamSpec, ParamType};

const C: Family = Family::Combine;

const XS: ParamSpec = signal(
    "x",
    REAL,
    ANY,
    "two or more inputs, broadcast to the finest scope among them",
);

const fn variadic(
    name: &'static str,
    params: &'static [ParamSpec],
    doc: &'static str,
    source: &'static str,
) -> Builtin {
    Builtin {
        variadic: true,
        ..node(name, C, params, same_real(None), doc, source)
    }
}

const ENSEMBLE: &str = "[2ND] Helping or Herding reward-model ensembles (arXiv:2312.09244): \
                        mean, median, min and mean − λ·std aggregation.";

/// The combinators.
pub(super) const ALL: &[Builtin] = &[
    variadic(
        "maximum",
        &[XS],
        "Element-wise maximum of two or more inputs. `max(a, b, ...)` with two or more \
         positional arguments means this; `max(x)` with one is the reduction. PEARL scales its \
         reasoning advantage by `max(evidence, 0.5)`.",
        "[CODE] PEARL perception weight w_g = max(mean r^p, τ = 0.5) (MiliLab/PEARL@dab5b0a, \
         verl/trainer/ray_trainer.py compute_advantage; arXiv:2511.18437).",
    ),
    variadic(
        "minimum",
        &[XS],
        "Element-wise minimum of two or more inputs. `min(a, b, ...)` with two or more \
         positional arguments means this; `min(x)` with one is the reduction. PAR's Ceil \
         baseline is `min(r, 4)`; the Clip mechanism is `min(prm - eta, 0)`.",
        "[CODE] PAR reward_ceil (PorUna-byte/PAR, trainers/reward_shaper.py); [2ND] Clip \
         mechanism (arXiv:2410.15115); worst-case ensemble, Helping or Herding \
         (arXiv:2312.09244).",
    ),
    variadic(
        "average",
        &[XS],
        "Element-wise mean of two or more inputs, (1/K) Σ_k x_k. `mean(a, b, ...)` with two or \
         more positional arguments means this.",
        ENSEMBLE,
    ),
    variadic(
        "median_of",
        &[XS],
        "Element-wise median of two or more inputs (the mean of the two middle values for an \
         even count). `median(a, b, ...)` with two or more positional arguments means this.",
        ENSEMBLE,
    ),
    variadic(
        "product",
        &[XS],
        "Element-wise product Π_k x_k (GRPO-S multiplies the reward by a difficulty factor; \
         SophiaVL-R1's trust · anneal · thinking).",
        "[INFER] GRPO-S difficulty weighting (arXiv:2503.18991).",
    ),
    variadic(
        "weighted_sum",
        &[
            required(
                "weights",
                ParamType::RealList,
                None,
                "one weight per input, in order",
            ),
            XS,
        ],
        "Σ_k w_k · x_k, one constant weight per input; the counts must match. The weights \
         come first: `weighted_sum([0.9, 0.1], accuracy, form)`. TRL's `reward_weights` (sum \
         before normalisation). Arithmetic (`0.9 * accuracy + 0.1 * form`) is the same and \
         also allows weights that are signals or schedules.",
        "[2ND] TRL GRPOTrainer reward_weights (TRL docs); [CODE] PEARL r^o = 0.9·acc + 0.1·fmt \
         (MiliLab/PEARL@dab5b0a, math_mqa.py).",
    ),
    variadic(
        "mean_minus_std",
        &[
            required(
                "k",
                ParamType::Real,
                Some(NON_NEGATIVE),
                "the uncertainty penalty λ",
            ),
            XS,
        ],
        "Uncertainty-penalised ensemble: mean_j x_j − k · std_j x_j, with the population \
         standard deviation over the inputs. The penalty comes first: `mean_minus_std(0.5, r1, \
         r2, r3)`.",
        "[2ND] Helping or Herding (arXiv:2312.09244); λ unverified [INFER].",
    ),
    variadic(
        "first_valid",
        &[XS],
        "The first input that has a value: a judge skipped under `on_error = \"skip\"`, a NaN \
         or an empty reduction without fallback counts as no value. Lets a cheap rule stand in \
         where an expensive judge failed.",
        "[INFER] methods.md §P.2 Combine \"first-valid\".",
    ),
    node(
        "dot",
        C,
        &[
            signal(
                "v",
                VECTOR,
                ANY,
                "a vector, e.g. `judge.rubric(text, sample)`",
            ),
            required(
                "weights",
                ParamType::RealList,
                None,
                "one weight per component",
            ),
        ],
        same_real(None),
        "Σ_j w_j · v_j: a weighted sum of a vector's components (multi-aspect reward models, \
         rubric criteria). The weight count must match the vector's length.",
        "[2ND] Multi-objective GRPO aspect weights; Rubric Anchors weighted criteria \
         (arXiv:2508.12790).",
    ),
];
