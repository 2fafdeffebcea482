//! Auxiliary rollout branches (methods.md §P.2 node 4): `branch probe = rollout(...)`.

use crate::registry::spec::{
    AT_LEAST_ONE, GROUP, HALF_OPEN_UNIT, NON_NEGATIVE, POSITIVE, TEXT, choice, fixed, flag, node,
    optional, signal,
};
use crate::registry::{Builtin, DefaultValue, Family, ParamType};
use crate::types::{Kind, Scope};

/// The rollout constructor.
pub(super) const ALL: &[Builtin] = &[node(
    "rollout",
    Family::Rollout,
    &[
        signal(
            "prompt",
            TEXT,
            GROUP,
            "the prompt of each group's branch, e.g. `sample.checklist_prompt`",
        ),
        optional(
            "n",
            ParamType::Int,
            DefaultValue::Ref("group"),
            Some(AT_LEAST_ONE),
            "rollouts per prompt; the i-th is paired with the main rollout i",
        ),
        optional(
            "temperature",
            ParamType::Real,
            DefaultValue::Ref("temperature"),
            Some(POSITIVE),
            "sampling temperature",
        ),
        optional(
            "top_p",
            ParamType::Real,
            DefaultValue::Ref("top_p"),
            Some(HALF_OPEN_UNIT),
            "nucleus sampling mass",
        ),
        optional(
            "top_k",
            ParamType::Int,
            DefaultValue::Ref("top_k"),
            Some(NON_NEGATIVE),
            "top-k sampling; 0 is off",
        ),
        optional(
            "max_tokens",
            ParamType::Int,
            DefaultValue::Ref("max_tokens"),
            Some(AT_LEAST_ONE),
            "generation limit per rollout",
        ),
        choice(
            "model",
            &["policy", "reference"],
            "policy",
            "sample from the current policy or from the frozen reference (PAR's SFT references)",
        ),
        flag(
            "once",
            false,
            "sample this branch once per prompt before the stage's first step and reuse it \
             (PAR's offline reference table)",
        ),
    ],
    fixed(Scope::Group, Kind::Text, None),
    "An auxiliary branch: for every prompt of the step, n more rollouts of `prompt`, with its \
     own groups, paired index by index with the main rollouts. Reward expressions read it as \
     `NAME.text`, `NAME.answer`, ... at response scope on that branch; `halt when` may depend \
     on it, in which case it is sampled and scored before the main rollouts (PEARL's probe \
     checklist, n = 5, temperature 1.0, top_p 0.99). `optimize X on NAME` trains on it. \
     Sampling settings default to the stage's.",
    "[CODE] PEARL probe rollouts (MiliLab/PEARL@dab5b0a, verl/trainer/ray_trainer.py \
     _make_batch_data; arXiv:2511.18437); [PAPER] Co-Reward rephrased-question branch \
     (tmlr-group/Co-Reward, CoReward-paper.pdf §3.3); [CODE] PAR reference responses \
     (PorUna-byte/PAR gen_refs; arXiv:2502.18770).",
)];
