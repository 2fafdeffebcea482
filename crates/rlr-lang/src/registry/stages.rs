//! Stage kinds: `stage warmup = sft(policy, train, ...)`, `stage rl = grpo(...)`.
//!
//! The settings of an RL stage are the Objective node of methods.md §P.2
//! (clipped policy gradient, KL, entropy, entropy band) plus sampling, batching,
//! multi-turn and dynamic-sampling controls. All RL kinds take the same
//! settings; their defaults differ where the methods differ (methods.md §0).
//!
//! One RL step: the branches a `halt` filter needs, the filter, the main
//! rollouts (multi-turn with tools where declared), the reward graph, `drop`
//! filters (refilling for up to `max_rounds`), advantages, then `epochs`
//! passes of clipped policy-gradient updates over minibatches; `optimize`
//! statements say which rewards drive which loss terms.

use super::spec::{
    AT_LEAST_ONE, HALF_OPEN_UNIT, NON_NEGATIVE, POSITIVE, UNIT, choice, flag, int, item, optional,
    real, required, strings,
};
use super::{Builtin, Category, DefaultValue, ParamSpec, ParamType};

const MODEL: ParamSpec = required("model", ParamType::Model, None, "the policy to train");
const TASK: ParamSpec = required("task", ParamType::Task, None, "the task to train on");

const KL_ESTIMATORS: &[&str] = &["k1", "k2", "k3"];
const LOSS_AGG: &[&str] = &[
    "token-mean",
    "seq-mean-token-mean",
    "seq-mean-token-sum",
    "seq-mean-token-sum-norm",
];
const ADVANTAGES: &[&str] = &["grpo", "dr_grpo", "rloo", "reinforce_pp", "per_position"];

/// What differs between the RL stage kinds.
struct Rl {
    group: i64,
    kl: f64,
    kl_estimator: &'static str,
    kl_in: &'static str,
    clip: (f64, f64),
    dual_clip: f64,
    loss_agg: &'static str,
    advantage: &'static str,
    importance: &'static str,
    max_rounds: i64,
}

const RL_SETTINGS: usize = 38;

const fn rl(d: Rl) -> [ParamSpec; RL_SETTINGS] {
    [
        MODEL,
        TASK,
        int(
            "steps",
            100,
            Some(AT_LEAST_ONE),
            "optimiser steps; `steps` in expressions",
        ),
        int("prompts", 16, Some(AT_LEAST_ONE), "prompts per step"),
        int(
            "group",
            d.group,
            Some(AT_LEAST_ONE),
            "G: rollouts per prompt",
        ),
        real("lr", 1e-6, Some(POSITIVE), "AdamW learning rate"),
        int(
            "warmup",
            0,
            Some(NON_NEGATIVE),
            "linear learning-rate warm-up steps",
        ),
        real(
            "weight_decay",
            0.0,
            Some(NON_NEGATIVE),
            "AdamW weight decay",
        ),
        real(
            "grad_clip",
            1.0,
            Some(NON_NEGATIVE),
            "clip the gradient's global norm to this; 0 is off",
        ),
        int(
            "epochs",
            1,
            Some(AT_LEAST_ONE),
            "μ: optimisation passes over each step's rollouts (PPO epochs)",
        ),
        optional(
            "minibatch",
            ParamType::Int,
            DefaultValue::Ref("prompts"),
            Some(AT_LEAST_ONE),
            "prompts (with their groups) per optimiser update; the default is one update per \
             pass",
        ),
        real("temperature", 1.0, Some(POSITIVE), "sampling temperature"),
        real("top_p", 1.0, Some(HALF_OPEN_UNIT), "nucleus sampling mass"),
        int("top_k", 0, Some(NON_NEGATIVE), "top-k sampling; 0 is off"),
        int(
            "max_tokens",
            128,
            Some(AT_LEAST_ONE),
            "generation limit per response; in multi-turn rollouts it bounds the whole rollout, tool output included",
        ),
        strings("stop", "extra stop strings besides the end token"),
        optional(
            "clip",
            ParamType::RealPair,
            DefaultValue::Pair(d.clip.0, d.clip.1),
            Some(UNIT),
            "(ε_low, ε_high): the ratio is clipped to [1 − ε_low, 1 + ε_high]; one number sets \
             both",
        ),
        real(
            "dual_clip",
            d.dual_clip,
            Some(NON_NEGATIVE),
            "c: for A < 0 the loss is capped at −A·c (must be > 1); 0 is off",
        ),
        choice(
            "loss_agg",
            LOSS_AGG,
            d.loss_agg,
            "how token losses are averaged: over all tokens, per sequence then over sequences, \
             or sums normalised by max_tokens (Dr.GRPO)",
        ),
        choice(
            "advantage",
            ADVANTAGES,
            d.advantage,
            "the estimator applied to `optimize`d rewards, as `advantage.NAME`; its group \
             statistics are over the rollouts an `optimize ... where` keeps",
        ),
        choice(
            "importance",
            &["token", "sequence"],
            d.importance,
            "per-token ratios, or GSPO's length-normalised sequence ratio",
        ),
        real(
            "kl",
            d.kl,
            Some(NON_NEGATIVE),
            "β: the KL coefficient; 0 needs no reference",
        ),
        choice(
            "kl_estimator",
            KL_ESTIMATORS,
            d.kl_estimator,
            "k1 = d, k2 = d²/2, k3 = e^{−d} + d − 1 with d = log π_θ − log π_ref",
        ),
        choice(
            "kl_in",
            &["loss", "reward"],
            d.kl_in,
            "add β·KL to the loss per token, or subtract it from the token rewards",
        ),
        choice(
            "kl_anchor",
            &["frozen", "reset", "ema"],
            "frozen",
            "the reference: the starting policy, reset to the current policy every \
             `anchor_every` steps (T1), or an EMA of the policy",
        ),
        int(
            "anchor_every",
            0,
            Some(NON_NEGATIVE),
            "reset period of `kl_anchor = reset`; 0 never resets",
        ),
        real(
            "anchor_rate",
            0.01,
            Some(UNIT),
            "EMA rate of `kl_anchor = ema`: π_ref ← (1 − rate)·π_ref + rate·π_θ per step",
        ),
        real(
            "entropy_coef",
            0.0,
            Some(NON_NEGATIVE),
            "c_H: entropy bonus, L −= c_H · token-mean H",
        ),
        optional(
            "entropy_band",
            ParamType::RealPair,
            DefaultValue::Pair(0.0, 0.0),
            Some(NON_NEGATIVE),
            "(τ_low, τ_high): SPINE's entropy band",
        ),
        optional(
            "entropy_band_coef",
            ParamType::RealPair,
            DefaultValue::Pair(0.0, 0.0),
            Some(NON_NEGATIVE),
            "(λ_low, λ_high): penalties λ_low·[τ_low − H]_+ + λ_high·[H − τ_high]_+ on the \
             trained tokens; (0, 0) is off",
        ),
        int(
            "turns",
            1,
            Some(AT_LEAST_ONE),
            "assistant turns per rollout (with tools)",
        ),
        optional(
            "tools",
            ParamType::Tools,
            DefaultValue::EmptyList,
            None,
            "tools the policy may call between turns",
        ),
        choice(
            "mask",
            &["none", "tool_output"],
            "none",
            "drop tool-inserted tokens from every loss term",
        ),
        flag(
            "mask_truncated",
            false,
            "drop responses that hit max_tokens from the loss (DAPO overlong filtering)",
        ),
        int(
            "max_rounds",
            d.max_rounds,
            Some(AT_LEAST_ONE),
            "generation rounds a `drop when` filter may use to refill the batch",
        ),
        int(
            "round_to",
            1,
            Some(AT_LEAST_ONE),
            "after `halt`/`drop`, truncate the kept prompts to a multiple of this (PEARL: 32)",
        ),
        int(
            "eval_every",
            0,
            Some(NON_NEGATIVE),
            "evaluate every this many steps; 0 never",
        ),
        int(
            "eval_prompts",
            64,
            Some(NON_NEGATIVE),
            "held-out prompts per evaluation",
        ),
    ]
}

const GRPO: [ParamSpec; RL_SETTINGS] = rl(Rl {
    group: 8,
    kl: 0.04,
    kl_estimator: "k3",
    kl_in: "loss",
    clip: (0.2, 0.2),
    dual_clip: 3.0,
    loss_agg: "seq-mean-token-mean",
    advantage: "grpo",
    importance: "token",
    max_rounds: 1,
});

const DAPO: [ParamSpec; RL_SETTINGS] = rl(Rl {
    group: 16,
    kl: 0.0,
    kl_estimator: "k3",
    kl_in: "loss",
    clip: (0.2, 0.28),
    dual_clip: 10.0,
    loss_agg: "token-mean",
    advantage: "grpo",
    importance: "token",
    max_rounds: 10,
});

const DR_GRPO: [ParamSpec; RL_SETTINGS] = rl(Rl {
    group: 8,
    kl: 0.0,
    kl_estimator: "k3",
    kl_in: "loss",
    clip: (0.2, 0.2),
    dual_clip: 3.0,
    loss_agg: "seq-mean-token-sum-norm",
    advantage: "dr_grpo",
    importance: "token",
    max_rounds: 1,
});

const RLOO: [ParamSpec; RL_SETTINGS] = rl(Rl {
    group: 4,
    kl: 0.05,
    kl_estimator: "k1",
    kl_in: "reward",
    clip: (0.2, 0.2),
    dual_clip: 3.0,
    loss_agg: "token-mean",
    advantage: "rloo",
    importance: "token",
    max_rounds: 1,
});

const REINFORCE_PP: [ParamSpec; RL_SETTINGS] = rl(Rl {
    group: 4,
    kl: 0.01,
    kl_estimator: "k2",
    kl_in: "reward",
    clip: (0.2, 0.2),
    dual_clip: 3.0,
    loss_agg: "token-mean",
    advantage: "reinforce_pp",
    importance: "token",
    max_rounds: 1,
});

const GSPO: [ParamSpec; RL_SETTINGS] = rl(Rl {
    group: 8,
    kl: 0.0,
    kl_estimator: "k3",
    kl_in: "loss",
    clip: (3e-4, 4e-4),
    dual_clip: 0.0,
    loss_agg: "seq-mean-token-mean",
    advantage: "grpo",
    importance: "sequence",
    max_rounds: 1,
});

/// The stage kinds.
pub static ALL: &[Builtin] = &[
    item(
        "sft",
        Category::Stage,
        &[
            MODEL,
            TASK,
            int("steps", 500, Some(AT_LEAST_ONE), "optimiser steps"),
            real("lr", 3e-4, Some(POSITIVE), "AdamW learning rate"),
            int("batch", 32, Some(AT_LEAST_ONE), "demonstrations per step"),
            choice(
                "weighting",
                &["none", "dft", "asft"],
                "none",
                "token weights: 1 (SFT), sg(p) (DFT), or sg(p) with a KL anchor (ASFT)",
            ),
            real(
                "kl",
                0.0,
                Some(NON_NEGATIVE),
                "λ: forward KL(π_ref ‖ π_θ) over the full vocabulary (ASFT; its code uses 0.1)",
            ),
            int(
                "warmup",
                0,
                Some(NON_NEGATIVE),
                "linear learning-rate warm-up steps",
            ),
            real(
                "weight_decay",
                0.0,
                Some(NON_NEGATIVE),
                "AdamW weight decay",
            ),
            real(
                "grad_clip",
                1.0,
                Some(NON_NEGATIVE),
                "clip the gradient's global norm to this; 0 is off",
            ),
            int(
                "max_tokens",
                128,
                Some(AT_LEAST_ONE),
                "demonstrations are cut at this length; also the held-out responses' budget",
            ),
            int(
                "turns",
                1,
                Some(AT_LEAST_ONE),
                "assistant turns per held-out rollout (with tools)",
            ),
            optional(
                "tools",
                ParamType::Tools,
                DefaultValue::EmptyList,
                None,
                "tools the held-out rollouts may call, and whose outputs `mask` finds in the \
                 demonstrations",
            ),
            choice(
                "mask",
                &["none", "tool_output"],
                "none",
                "`tool_output`: the tools' outputs in a demonstration (a call's output where the \
                 demonstration repeats it verbatim) are context, not targets",
            ),
            int(
                "eval_every",
                0,
                Some(NON_NEGATIVE),
                "evaluate every this many steps; 0 never",
            ),
            int(
                "eval_prompts",
                64,
                Some(NON_NEGATIVE),
                "held-out prompts per evaluation",
            ),
        ],
        "Supervised fine-tuning on the task's reference demonstrations (teacher-forced, no \
         sampling): L = (1/N_valid) Σ_t [w_t · (−log p_θ(y_t)) + λ · KL(π_ref(·|ctx_t) ‖ \
         π_θ(·|ctx_t))], with w_t = 1 (`none`), w_t = sg(p_θ(y_t)) the detached probability of \
         the target token (`dft`), or the same with the KL term (`asft`, λ = `kl`).",
        "[CODE] ASFT train_v2.py mode=\"asft\" (zhuchichi56/ASFT; arXiv:2509.23753) for dft/asft; \
         DFT (arXiv:2508.05629).",
    ),
    item(
        "grpo",
        Category::Stage,
        &GRPO,
        "Group Relative Policy Optimization: A_i = (r_i − mean_G) / (std_G + 1e-6) broadcast to \
         tokens, J = E[(1/G) Σ_i (1/|y_i|) Σ_t (min(ρ A, clip(ρ, 1 − ε_low, 1 + ε_high) A) − β \
         D_KL,t)] with the k3 estimator in the loss, β = 0.04, ε = 0.2, dual clip 3.",
        "[CODE] verl core_algos.py (copy in YujunZhou/EVOL-RL); DeepSeekMath (arXiv:2402.03300) \
         settings from memory [INFER].",
    ),
    item(
        "dapo",
        Category::Stage,
        &DAPO,
        "DAPO: GRPO with clip-higher (ε_low 0.2, ε_high 0.28), token-mean loss, no KL, dual clip \
         10, G = 16, and dynamic sampling: `drop when std(accuracy) == 0` refills the batch for \
         up to `max_rounds` = 10 generation rounds. Add `overlong(length, buffer = ...)` to the \
         reward for overlong shaping.",
        "[CODE] verl recipe/dapo (run_dapo_qwen2.5_32b.sh, dapo_ray_trainer.py; copy in \
         YujunZhou/EVOL-RL); DAPO (arXiv:2503.14476).",
    ),
    item(
        "dr_grpo",
        Category::Stage,
        &DR_GRPO,
        "Dr.GRPO: GRPO without the std division (A_i = r_i − mean_G) and without per-sequence \
         length normalisation (loss summed per sequence and divided by G · max_tokens), no KL.",
        "[INFER] Understanding R1-Zero-like training (arXiv:2503.20783); verl \
         norm_adv_by_std_in_grpo = False, loss_agg_mode = seq-mean-token-sum-norm; TRL \
         loss_type = \"dr_grpo\".",
    ),
    item(
        "rloo",
        Category::Stage,
        &RLOO,
        "REINFORCE leave-one-out: A_i = r_i − mean_{j ≠ i} r_j, a k1 KL penalty (β = 0.05) in \
         the token rewards, token-mean loss.",
        "[2ND] Back to Basics / RLOO (arXiv:2402.14740) and TRL's RLOOTrainer defaults; \
         constants [INFER].",
    ),
    item(
        "reinforce_pp",
        Category::Stage,
        &REINFORCE_PP,
        "REINFORCE++: token returns with the KL penalty in the reward (β = 0.01), whitened over \
         the whole batch instead of per group; clipped surrogate, token-mean loss.",
        "[INFER] REINFORCE++ (arXiv:2501.03262) as in verl's reinforce_plus_plus estimator; \
         constants unverified.",
    ),
    item(
        "gspo",
        Category::Stage,
        &GSPO,
        "Group Sequence Policy Optimization: the GRPO advantage with a sequence-level, \
         length-normalised importance ratio s_i = (π_θ(y_i|x) / π_old(y_i|x))^{1/|y_i|} clipped \
         to [1 − 3e-4, 1 + 4e-4], no KL. TRL's importance_sampling_level = \"sequence\".",
        "[INFER] GSPO (arXiv:2507.18071), constants from memory; [2ND] TRL \
         importance_sampling_level.",
    ),
];
