//! Placement: response and segment values onto tokens (methods.md §P.2 node 14).
//! Going the other way (tokens or segments to a response) is a reduction:
//! `mean(judge.atoms(atoms, sample))`.

use crate::registry::spec::{REAL, TEXTUAL, choice, fixed, node, out, signal};
use crate::registry::{Builtin, Family, KindRule, ScopeRule};
use crate::types::{Kind, Scope};

const PL: Family = Family::Place;

/// The placements.
pub(super) const ALL: &[Builtin] = &[
    node(
        "place",
        PL,
        &[
            signal("x", REAL, TEXTUAL, "a response or segment value"),
            choice(
                "at",
                &["last", "segment_end", "all"],
                "last",
                "the response's last token, each segment's last token, or every token",
            ),
        ],
        out(ScopeRule::Place, KindRule::Fixed(Kind::Real), None),
        "Puts values on tokens, 0 elsewhere: `last` writes a response value at the last \
         generated token (verl's convention, so Σ_t r_t = r; segment values are summed there); \
         `segment_end` writes each segment value at its segment's last token (PPR, Clip/Delta, \
         IGPO, G-RA); `all` copies the value to every generated token.",
        "[CODE] verl reward placement at the last valid token (verl/workers/reward_manager); \
         [CODE] IGPO turn-end placement (GuoqingWang1/IGPO, scrl/llm_agent/generation.py).",
    ),
    node(
        "spread",
        PL,
        &[signal("x", REAL, TEXTUAL, "a response or segment value")],
        fixed(Scope::Token, Kind::Real, None),
        "Spreads each value evenly over its tokens: x / |y| on every generated token of the \
         response (x_k / |segment k| on the tokens of segment k), so the token sum equals x.",
        "[INFER] methods.md §P.2 Place \"uniform\".",
    ),
];
