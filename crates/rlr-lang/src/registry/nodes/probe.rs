//! Probes: extra forward passes of the policy or the reference model
//! (methods.md §P.2 node 3). Per-token log-probabilities and entropies of the
//! rollout itself are context names (`logprob`, `ref_logprob`, `entropy`).

use crate::registry::spec::{
    LABEL, NON_POSITIVE, TEXT, TEXTUAL, UNIT, choice, fixed, node, same_real, signal, string,
};
use crate::registry::{Builtin, Family, ParamSpec};
use crate::types::{Kind, Scope};

const P: Family = Family::Probe;

const MODEL: ParamSpec = choice(
    "model",
    &["policy", "reference"],
    "policy",
    "score with the sampling policy π_old or the frozen reference π_ref",
);

const fn probe(
    name: &'static str,
    params: &'static [ParamSpec],
    output: crate::registry::Output,
    doc: &'static str,
    source: &'static str,
) -> Builtin {
    Builtin {
        expensive: true,
        ..node(name, P, params, output, doc, source)
    }
}

/// Where `answer_likelihood`'s context may live: the prompt alone (group), the whole
/// rollout (response) or the rollout up to the end of each segment.
const CONTEXTS: &[Scope] = &[Scope::Group, Scope::Response, Scope::Segment];

/// The probes.
pub(super) const ALL: &[Builtin] = &[
    probe(
        "logprob_of",
        &[
            signal(
                "text",
                TEXT,
                TEXTUAL,
                "the tokens to score, normally `text`",
            ),
            choice(
                "given",
                &["prompt", "none"],
                "prompt",
                "condition on the prompt, or on nothing (the query removed)",
            ),
            MODEL,
            choice(
                "reduce",
                &["mean", "sum"],
                "mean",
                "average or sum the token log-probabilities",
            ),
        ],
        same_real(Some(NON_POSITIVE)),
        "Teacher-forced log-likelihood of the text: mean (or sum) over its tokens y_t of \
         log π(y_t | c, y_<t), with c the prompt (`given = \"prompt\"`) or empty (`given = \
         \"none\"`, an extra forward pass on an answer-only batch).",
        "[CODE] SAR compute_ppl_qa_log (amazon-science/Self-Aligned-Reward-Towards_Effective_\
         and_Efficient_Reasoners@08892d0, verl/utils/reward_score/efficiency_reward.py; \
         arXiv:2509.05489).",
    ),
    probe(
        "perplexity",
        &[
            signal(
                "text",
                TEXT,
                TEXTUAL,
                "the tokens to score, normally `text`",
            ),
            choice(
                "given",
                &["prompt", "none"],
                "prompt",
                "ppl(a|q) with the prompt, ppl(a) without it",
            ),
            MODEL,
        ],
        same_real(Some(crate::registry::NumRange::at_least(1.0))),
        "Perplexity of the text: ppl = exp(−mean_t log π(y_t | c, y_<t)), c the prompt or \
         nothing. SAR's self-aligned reward is R_SA = max((ppl(a) − ppl(a|q)) / ppl(a), −1): \
         `maximum((perplexity(text, given = \"none\") - perplexity(text)) / perplexity(text, \
         given = \"none\"), -1)`, added with weight 0.2.",
        "[CODE] SAR (amazon-science/Self-Aligned-Reward-Towards_Effective_and_Efficient_\
         Reasoners@08892d0, efficiency_reward.py::compute_ppl_qa_log, use_denominator=True, \
         use_comparison=True, use_log=False; arXiv:2509.05489).",
    ),
    probe(
        "answer_likelihood",
        &[
            signal(
                "context",
                TEXT,
                CONTEXTS,
                "`sample.prompt` (prompt alone), `text` (whole rollout) or segments (rollout up \
                 to the end of each segment)",
            ),
            signal(
                "target",
                // A task's answer is a label (`sample.answer`); a missing one scores 0.
                LABEL,
                TEXTUAL,
                "the gold answer, e.g. `sample.answer`",
            ),
            MODEL,
            string(
                "prefix",
                "",
                "text teacher-forced between the context and the target, not scored (IGPO's \
                 bridge to the answer); \"\" appends the target right after the context",
            ),
        ],
        same_real(Some(UNIT)),
        "Probability of the gold answer after a context: `prefix` and the target are appended \
         and teacher-forced, P = exp(mean over target tokens of log π(gt_j | prompt, context, \
         prefix, gt_<j)), the geometric-mean token probability; the prefix's own tokens are not \
         scored. The context is the prompt alone for a group-scope argument, the whole rollout \
         for a response, and the rollout up to and including segment k for segments. IGPO's \
         turn reward is the information gain IG_k = P_k − P_{k−1}: \
         `backward_difference(answer_likelihood(turns_of(text), sample.answer), initial = \
         answer_likelihood(sample.prompt, sample.answer))`, with IGPO's bridge \
         `prefix = \"\\nNow there's enough information to answer\\n</think>\\n<answer>\\n\"` \
         in both calls.",
        "[CODE] IGPO (GuoqingWang1/IGPO, scrl/llm_agent/generation.py lines ~410–425, \
         verl/utils/reward_score/info_gain.py; arXiv:2510.14967).",
    ),
    node(
        "kl_estimate",
        P,
        &[choice(
            "estimator",
            &["k1", "k2", "k3"],
            "k3",
            "Schulman's estimators of KL(π_θ ‖ π_ref)",
        )],
        fixed(Scope::Token, Kind::Real, None),
        "Per-token KL estimate between the sampling policy and the reference, from the \
         rollout's log-probabilities (no extra pass): with d = logprob − ref_logprob, k1 = d, \
         k2 = d²/2, k3 = exp(−d) + d − 1 clamped to [−10, 10] (verl `low_var_kl`). For a KL \
         penalty in the reward as ToolRL runs it, prefer the stage setting `kl_in = reward`.",
        "[CODE] verl kl_penalty (verl/trainer/ppo/core_algos.py, copy in YujunZhou/EVOL-RL); \
         estimators from Schulman, \"Approximating KL divergence\" (2020).",
    ),
];
