//! Names every reward expression can read without declaring them, and the
//! keys of the `recipe "Name" { ... }` header.

use super::spec::{NON_NEGATIVE, int, string, strings};
use super::{ContextName, ParamSpec};
use crate::types::{Kind, Scope, ValueType};

const fn ctx(name: &'static str, scope: Scope, kind: Kind, doc: &'static str) -> ContextName {
    ContextName {
        name,
        ty: Some(ValueType::new(scope, kind)),
        doc,
    }
}

/// The names a reward expression can read: facts of the current rollout, its
/// tokens, the step, and the prompt's task record `sample`.
pub static CONTEXT: &[ContextName] = &[
    ctx(
        "text",
        Scope::Response,
        Kind::Text,
        "the response as generated, decoded; in multi-turn rollouts all assistant turns and tool \
         outputs in order",
    ),
    ctx(
        "think",
        Scope::Response,
        Kind::Text,
        "the text inside the first <think>...</think> of the response; empty if there is none",
    ),
    ctx(
        "after_think",
        Scope::Response,
        Kind::Text,
        "the text after the first </think>; the whole response if there is no </think> \
         (EVOL-RL scores novelty and validity on this part)",
    ),
    ctx(
        "answer",
        Scope::Response,
        Kind::Label,
        "the final answer extracted by the task's extractor (for the built-in tasks: the content \
         of the last \\boxed{...}, else of the last <answer>...</answer>, else the last line); \
         empty if nothing could be extracted",
    ),
    ctx(
        "length",
        Scope::Response,
        Kind::Real,
        "the number of tokens the policy generated for this response (tool outputs excluded)",
    ),
    ctx(
        "truncated",
        Scope::Response,
        Kind::Bool,
        "whether generation stopped at `max_tokens` instead of at an end token",
    ),
    ctx(
        "index",
        Scope::Response,
        Kind::Real,
        "the response's position in its group, 1-based in sampling order (EVOL-RL scores 64 \
         votes and trains on `index <= 32`)",
    ),
    ctx(
        "step",
        Scope::Step,
        Kind::Real,
        "the current optimiser step of the stage, 1-based (verl/EasyR1 convention: incremented \
         before the step runs)",
    ),
    ContextName {
        name: "sample",
        ty: None,
        doc: "the prompt's task record; its fields (`sample.answer`, `sample.checklist_prompt`, \
              ...) are listed by each task and are one value per group",
    },
    ctx(
        "logprob",
        Scope::Token,
        Kind::Real,
        "log π_old(y_t | x, y_<t): the sampling policy's log-probability of each generated token",
    ),
    ctx(
        "ref_logprob",
        Scope::Token,
        Kind::Real,
        "log π_ref(y_t | x, y_<t): the reference (anchor) policy's log-probability of each \
         generated token",
    ),
    ctx(
        "entropy",
        Scope::Token,
        Kind::Real,
        "H_t = −Σ_v π_old(v | x, y_<t) log π_old(v | x, y_<t): the sampling policy's entropy over \
         the whole vocabulary at each generated token (SPINE's forking tokens)",
    ),
];

/// The keys allowed in `recipe "Name" { ... }`.
pub static RECIPE_FIELDS: &[ParamSpec] = &[
    string(
        "paper",
        "",
        "the method's paper, e.g. \"arXiv:2511.18437\"; empty if none",
    ),
    int(
        "seed",
        0,
        Some(NON_NEGATIVE),
        "the run's master seed: model initialisation, task generation, sampling and every \
         `chance`/`flip` draw derive from it",
    ),
    string("description", "", "one paragraph on what the recipe does"),
    strings("authors", "who wrote the recipe"),
    strings("tags", "free-form labels for search and the book's index"),
    string("version", "", "the recipe's own version, free-form"),
];
