//! Schedules: functions of the training step (methods.md §P.2 node 11).
//! `step` is 1-based; `steps` is the stage's total.

use crate::registry::spec::{AT_LEAST_ONE, fixed, node, optional, real, required};
use crate::registry::{Builtin, DefaultValue, Family, ParamSpec, ParamType};
use crate::types::{Kind, Scope};

const S: Family = Family::Schedule;

const RANGE: ParamSpec = required(
    "range",
    ParamType::Range,
    None,
    "start -> end, e.g. `0.5 -> 0`",
);

const OVER: ParamSpec = optional(
    "over",
    ParamType::Int,
    DefaultValue::Ref("steps"),
    Some(AT_LEAST_ONE),
    "T: the number of steps the schedule runs over",
);

const fn schedule(
    name: &'static str,
    params: &'static [ParamSpec],
    doc: &'static str,
    source: &'static str,
) -> Builtin {
    node(
        name,
        S,
        params,
        fixed(Scope::Step, Kind::Real, None),
        doc,
        source,
    )
}

/// The schedules.
pub(super) const ALL: &[Builtin] = &[
    schedule(
        "constant",
        &[required("v", ParamType::Real, None, "the value")],
        "v at every step. A plain number means the same; `constant` names it in the graph.",
        "[INFER] methods.md §P.2 Schedule \"const\".",
    ),
    schedule(
        "linear",
        &[RANGE, OVER],
        "Linear ramp: a + (b − a) · min(step / T, 1) for `a -> b`, holding b after T. \
         Atom-Searcher's weight `linear(0.5 -> 0, over = steps)` is α = 0.5 · (1 − step/T_MAX); \
         ToolRL's SCHEDULEREWARD format maximum is `linear(2 -> 1, over = 150)`.",
        "[2ND] Atom-Searcher linear decay (arXiv:2508.12800; constant 0.5 [INFER]); [CODE] ToolRL \
         SCHEDULEREWARD (qiancheng0/ToolRL, rlla.py).",
    ),
    schedule(
        "cosine",
        &[RANGE, OVER],
        "Cosine ramp: b + (a − b) · (1 + cos(π · min(step / T, 1))) / 2 for `a -> b`.",
        "[INFER] methods.md §P.2 Schedule \"cosine\".",
    ),
    schedule(
        "exponential",
        &[real("scale", 1.0, None, "the value at step 0"), OVER],
        "Exponential decay: scale · exp(−step / T). SophiaVL-R1 anneals its thinking reward by \
         α · exp(−step / T) with α = 0.3: the paper takes T = total steps, the code a config \
         constant (12000).",
        "[PAPER] SophiaVL-R1 (arXiv:2505.17018) eqs. 4–6; [CODE] kxfan2002/SophiaVL-R1@a818494 \
         verl/workers/reward/custom.py (T = worker.reward.alpha).",
    ),
    schedule(
        "piecewise",
        &[required(
            "points",
            ParamType::Points,
            None,
            "(step, value) points with increasing steps",
        )],
        "Piecewise-linear in the step: the value at each listed step, linear in between, the \
         first value before the first point and the last after the last. ToolRL's dynamic \
         length target is `piecewise([(0, 384), (105, 640)])`.",
        "[CODE] ToolRL SCHEDULELENGTH (qiancheng0/ToolRL, rlla.py).",
    ),
    schedule(
        "curriculum",
        &[required(
            "points",
            ParamType::Points,
            None,
            "(step, value) stage starts with increasing steps",
        )],
        "Stage curriculum: the value of the last point whose step is <= the current step (the \
         first value before it). ToolRL's two-stage MAX1STEP30MAX3 scales correctness by 1/3 \
         before step 30: `curriculum([(1, 1/3), (30, 1)])`.",
        "[CODE] ToolRL MAX1STEP30MAX3 (qiancheng0/ToolRL, rlla.py).",
    ),
    schedule(
        "warmup",
        &[required(
            "over",
            ParamType::Int,
            Some(AT_LEAST_ONE),
            "the number of warm-up steps",
        )],
        "Linear warm-up from 0 to 1: min(step / over, 1).",
        "[CODE] EVOL-RL 3 % learning-rate warm-up (YujunZhou/EVOL-RL, \
         verl/examples/labelfree/evol_rl.sh).",
    ),
];
