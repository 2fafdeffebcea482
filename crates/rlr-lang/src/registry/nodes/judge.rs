//! Judges: model or endpoint scores, guarded by `when`, with an error policy
//! (methods.md §P.2 node 2).
//!
//! The built-in judges are deterministic, rule-based stand-ins for the learned
//! reward models of the papers, computed from the task's reference fields, so
//! that recipes run offline and bit-reproducibly. Each one says which model it
//! stands in for; `noise` imitates an imperfect model.

use crate::registry::spec::{
    AT_LEAST_ONE, JUDGE_DEFAULT, NON_NEGATIVE, ON_ERROR, POSITIVE, RESPONSE, SEGMENT, TEXT,
    TEXTUAL, UNIT, fixed, int, node, out, real, required, signal, string, strings,
};
use crate::registry::{Builtin, Family, KindRule, ParamSpec, ParamType, ScopeRule};
use crate::types::{Kind, Scope};

const J: Family = Family::Judge;

const SAMPLE: ParamSpec = required(
    "sample",
    ParamType::Sample,
    None,
    "the prompt's task record (references the judge may read)",
);

const NOISE: ParamSpec = real(
    "noise",
    0.0,
    Some(NON_NEGATIVE),
    "standard deviation of seeded Gaussian noise added to each score before clipping, to \
     imitate an imperfect judge",
);

const fn judge(
    name: &'static str,
    params: &'static [ParamSpec],
    output: crate::registry::Output,
    doc: &'static str,
    source: &'static str,
) -> Builtin {
    Builtin {
        expensive: true,
        ..node(name, J, params, output, doc, source)
    }
}

/// The judges.
pub(super) const ALL: &[Builtin] = &[
    judge(
        "judge.steps",
        &[
            signal(
                "text",
                TEXT,
                RESPONSE,
                "the reasoning to judge, e.g. `think`",
            ),
            SAMPLE,
            real(
                "grid",
                0.1,
                Some(POSITIVE),
                "scores are rounded to multiples of this",
            ),
            NOISE,
            ON_ERROR,
            JUDGE_DEFAULT,
        ],
        fixed(Scope::Response, Kind::Real, Some(UNIT)),
        "Thinking judge: one score in [0, 1] for the whole reasoning, on a grid of `grid` \
         (SophiaVL-R1's thinking reward model grades logical soundness, correct steps, error \
         identification and redundancy on {0, 0.1, ..., 1}). The built-in judge: with s the \
         fraction of the task's reference intermediate results (`sample.steps`, one per line) \
         that the text states correctly, in order, and ρ = ngram_repetition(text, n = 4), \
         score = round_grid(clip(s · (1 − ρ) + ε, 0, 1)), ε ~ N(0, noise²); for tasks \
         without reference steps, s = 1 if the text reaches the correct answer, else 0.",
        "[PAPER] SophiaVL-R1 (arXiv:2505.17018) §3.1 and [CODE] get_process_reward/extract_score \
         (kxfan2002/SophiaVL-R1@a818494, verl/workers/reward/custom.py): a learned \
         Qwen2.5-VL-3B judge there; the rule-based stand-in is rlr's [INFER].",
    ),
    judge(
        "judge.atoms",
        &[
            signal(
                "segments",
                TEXT,
                SEGMENT,
                "the atomic thoughts, e.g. `segments(text, tags = [...])`",
            ),
            SAMPLE,
            NOISE,
            ON_ERROR,
            JUDGE_DEFAULT,
        ],
        fixed(Scope::Segment, Kind::Real, Some(UNIT)),
        "Reasoning reward model over atomic thoughts: one score in [0, 1] per segment. The \
         built-in judge gives 1 to a thought that states a fact or intermediate result true \
         for the prompt (found in `sample.facts`, `sample.path` or `sample.steps`), 0 to one \
         that states a false one, and 0.5 to one that states none (planning, reflection), plus \
         ε ~ N(0, noise²), clipped to [0, 1]. Atom-Searcher averages these per response: \
         `mean(judge.atoms(atoms, sample))`.",
        "[2ND] Atom-Searcher RRM (arXiv:2508.12800): a large reasoning LLM prompted as judge \
         there; the stand-in and the mean aggregation are [INFER].",
    ),
    judge(
        "judge.prm",
        &[
            signal(
                "segments",
                TEXT,
                SEGMENT,
                "the reasoning steps, e.g. `steps_of(think)`",
            ),
            SAMPLE,
            NOISE,
            ON_ERROR,
            JUDGE_DEFAULT,
        ],
        fixed(Scope::Segment, Kind::Real, Some(UNIT)),
        "Process reward model: for each step k, the probability r_process(q, p^(k)) ∈ [0, 1] \
         that it is correct given the steps before it. The built-in PRM gives 1 to a step \
         whose stated result matches the reference result of that step (`sample.steps`, line \
         k) or follows correctly from the previous stated result, 0 otherwise, plus ε ~ N(0, \
         noise²), clipped to [0, 1]. Clip/Delta shapes it with `minimum(prm - eta, 0)` and \
         `first_difference`.",
        "[2ND] Clip/Delta PRM setting (arXiv:2410.15115); TP-GRPO generative PRM \
         (arXiv:2507.23317): learned PRMs there; the rule-based stand-in is rlr's [INFER].",
    ),
    judge(
        "judge.reader",
        &[
            signal(
                "text",
                TEXT,
                RESPONSE,
                "what the reader sees instead of the source, e.g. a caption or summary",
            ),
            signal(
                "questions",
                TEXT,
                TEXTUAL,
                "questions, one per line, e.g. `sample.checklist_prompt`",
            ),
            signal(
                "answers",
                TEXT,
                TEXTUAL,
                "their reference answers, one per line",
            ),
            ON_ERROR,
            JUDGE_DEFAULT,
        ],
        fixed(Scope::Response, Kind::Real, Some(UNIT)),
        "Reader judge: a frozen reader (the reference policy, greedy decoding) answers each \
         question given only `text`; the score is the share answered correctly (graded with \
         `math_equal`). CapRL rewards a caption by how well a text-only LLM answers questions \
         about the image from it (CapRL also averages over option permutations of \
         multiple-choice questions).",
        "[2ND] CapRL (InternLM/CapRL README; a Qwen2.5-3B reader there, permutation count \
         unverified [INFER]).",
    ),
    judge(
        "judge.principle",
        &[
            signal(
                "segments",
                TEXT,
                SEGMENT,
                "the steps or turns to judge, e.g. `turns_of(text)`",
            ),
            SAMPLE,
            NOISE,
            ON_ERROR,
            JUDGE_DEFAULT,
        ],
        fixed(Scope::Segment, Kind::Real, Some(UNIT)),
        "Principle process reward: each segment k gets score_k / max_score_k ∈ [0, 1] against \
         fixed principles. The built-in judge checks four: well-formed (tags closed, any tool \
         call parses), grounded (every entity it asserts appears in the prompt or an earlier \
         tool output), progress (it reaches an entity of the gold path `sample.path` not \
         reached before), not repeated (it is not a copy of an earlier segment); score = \
         #satisfied/4 + ε, clipped. Combine with the outcome by `renorm`.",
        "[2ND] PPR principle process reward model (arXiv:2509.25598): a Qwen3-8B PPRM emitting \
         <score>/<max_score> there; the four principles are rlr's [INFER].",
    ),
    judge(
        "judge.rubric",
        &[
            signal("text", TEXT, RESPONSE, "the response"),
            SAMPLE,
            strings(
                "criteria",
                "criteria to grade, from \"correct\", \"format\", \"concise\", \"grounded\", \
                 \"no_repetition\"; empty means all five",
            ),
            NOISE,
            ON_ERROR,
            JUDGE_DEFAULT,
        ],
        fixed(Scope::Response, Kind::Vector, None),
        "Rubric judge: a vector with one grade in [0, 1] per criterion, in the order given. \
         `correct` = math_equal(answer, sample.answer); `format` = 1 if the response is \
         <think>...</think> then an answer; `concise` = min(1, 2·|reference| / |response|) in \
         words; `grounded` = the share of asserted facts found in the prompt or tool outputs; \
         `no_repetition` = 1 − ngram_repetition(text, n = 4). Aggregate with `dot` (weighted \
         sum), `component` (veto a critical criterion with `gate`), or concave maps for \
         saturation.",
        "[2ND] Rubric Anchors / Rubicon (arXiv:2508.12790) and multi-objective GRPO aspect \
         scores: judge LLMs there; the built-in criteria are rlr's [INFER].",
    ),
    judge(
        "judge.listener",
        &[
            signal(
                "text",
                TEXT,
                RESPONSE,
                "the response shown to the listener, usually `text`",
            ),
            SAMPLE,
            string(
                "slot",
                "\\boxed{",
                "the opening of the answer: the listener reads the text up to its last `slot` \
                 (or the text with its answers removed, then `slot`) and is asked for the \
                 correct answer there; \"\" asks right after the text",
            ),
            ON_ERROR,
            JUDGE_DEFAULT,
        ],
        fixed(Scope::Response, Kind::Real, Some(UNIT)),
        "Listener confidence: a frozen listener (the reference policy) re-reads the reasoning \
         with the final answer hidden and gives its confidence in the correct answer, \
         P = exp(mean over the tokens of `sample.answer` of log π_ref(token | prompt, text up to \
         the answer's `slot`, earlier answer tokens)). Listener-Rewarded Thinking adds λ·P to the accuracy reward.",
        "[2ND] Listener-Rewarded Thinking (arXiv:2506.22832): a separate frozen VLM there; the \
         weighting and this likelihood form are [INFER].",
    ),
    judge(
        "judge.embed",
        &[
            signal(
                "text",
                TEXT,
                TEXTUAL,
                "the text to embed, e.g. `after_think`",
            ),
            int("dim", 256, Some(AT_LEAST_ONE), "embedding dimension"),
            ON_ERROR,
            JUDGE_DEFAULT,
        ],
        out(ScopeRule::Inputs, KindRule::Fixed(Kind::Vector), None),
        "Text embedding: the built-in embedder hashes word unigrams and character 3-grams into \
         `dim` signed buckets (feature hashing, counts) and L2-normalises the result, so \
         cos(e_i, e_j) measures surface similarity. Stands in for EVOL-RL's \
         Qwen3-Embedding-4B (dimension 2560, text left-truncated to 16,000 tokens). Feed it to \
         `similarity`, `cosine_to_group` or `novelty`.",
        "[CODE] EVOL-RL semantic novelty (YujunZhou/EVOL-RL, \
         verl/workers/reward_manager/semantic_novelty.py; arXiv:2509.15194): a learned \
         embedding model there; the hashing embedder is rlr's [INFER].",
    ),
    judge(
        "judge.reward_model",
        &[
            signal("text", TEXT, RESPONSE, "the response"),
            SAMPLE,
            NOISE,
            ON_ERROR,
            JUDGE_DEFAULT,
        ],
        fixed(Scope::Response, Kind::Real, None),
        "A Bradley–Terry-style reward model: one unbounded score per response. The built-in \
         model scores r = 2·c + f − 2·ρ + ε, with c = math_equal(answer, sample.answer) (or \
         exact for label tasks; for refusals on `safety`, 1 iff the refusal is appropriate), \
         f = 1 if the response is <think>...</think> then an answer, ρ = ngram_repetition(text, \
         n = 4) and ε ~ N(0, noise²), so r ∈ [−2, 3] without noise. It is what PAR, LSC and \
         the shaping baselines transform, and what AlphaAlign normalises as helpfulness.",
        "[CODE] PAR's RM read-out at the last response token (PorUna-byte/PAR, \
         trainers/basic_trainer.py; arXiv:2502.18770): a learned RM there; the built-in score is \
         rlr's [INFER].",
    ),
];
