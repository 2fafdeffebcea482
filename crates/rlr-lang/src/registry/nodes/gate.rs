//! Gates: conditions that select or zero other rewards (methods.md §P.2 node 10).
//! `if COND then A else B` is the same selection written as syntax; PEARL's
//! `halt when` is a filter statement, not a gate.

use crate::registry::spec::{
    ANY, BOOL, REAL, TEXTUAL, fixed, node, required, same_real, signal, signal_or,
};
use crate::registry::{Builtin, DefaultValue, Family, ParamType};
use crate::types::{Kind, Scope};

const G: Family = Family::Gate;

/// The gates.
pub(super) const ALL: &[Builtin] = &[
    node(
        "gate",
        G,
        &[
            signal(
                "cond",
                BOOL,
                ANY,
                "where the value passes; a coarser condition broadcasts down",
            ),
            signal("value", REAL, ANY, "the gated value"),
            signal_or(
                "otherwise",
                REAL,
                ANY,
                DefaultValue::Real(0.0),
                "the value where the condition fails",
            ),
        ],
        same_real(None),
        "value where cond holds, else `otherwise`: r̃ = value · 1[cond] + otherwise · 1[¬cond]. \
         A response condition gates segment rewards (G-RA: `gate(outcome >= delta, turn_reward)`); \
         a task label routes between rewards (AlphaAlign: `gate(sample.harmful, refusal, \
         helpful)`).",
        "[2ND] G-RA gate (arXiv:2508.10548); [INFER] AlphaAlign routing by prompt safety label.",
    ),
    Builtin {
        variadic: true,
        ..node(
            "gated_sum",
            G,
            &[
                required(
                    "thresholds",
                    ParamType::RealList,
                    None,
                    "δ_j for every channel but the last, in priority order",
                ),
                signal(
                    "x",
                    REAL,
                    ANY,
                    "the reward channels, highest priority first",
                ),
            ],
            same_real(None),
            "Chained gates over K reward channels in priority order: R = Σ_i x_i · Π_{j < i} \
             1[x_j >= δ_j]; a channel counts only if every higher-priority channel meets its \
             threshold. The thresholds come first: `gated_sum([1, 0.5], outcome, format, \
             steps)`.",
            "[2ND] G-RA K-level form (arXiv:2508.10548).",
        )
    },
    node(
        "gra",
        G,
        &[
            signal("high", REAL, ANY, "the high-level (outcome) reward"),
            signal(
                "low",
                REAL,
                TEXTUAL,
                "the low-level rewards, one per response or per turn",
            ),
            required(
                "delta",
                ParamType::Real,
                None,
                "the threshold δ the outcome must reach",
            ),
        ],
        fixed(Scope::Response, Kind::Real, None),
        "Gated Reward Accumulation: R = r^high + Σ_t r^low_t · 1[r^high >= δ]. Too low a δ lets \
         dense rewards grow while the outcome falls (D-RA); too high leaves them unused. To \
         place each gated turn reward at its turn's end instead of summing, use `gate`.",
        "[2ND] G-RA (arXiv:2508.10548), emergentmind topic pages; per-turn placement [INFER].",
    ),
];
