//! Advantage weights and token masks (methods.md §P.2 node 17). Use them in
//! `optimize R scaled by W` (weights the advantages) or, for the bools,
//! `optimize R where M` (the tokens or rollouts the term trains on).

use crate::registry::spec::{
    ANY, BOOL, REAL, TOKEN, UNIT, choice, fixed, node, real, same_real, signal,
};
use crate::registry::{Builtin, Family};
use crate::types::{Kind, Scope};

const W: Family = Family::Weight;

/// The weights and masks.
pub(super) const ALL: &[Builtin] = &[
    node(
        "mask",
        W,
        &[
            signal("x", REAL, ANY, "the values to mask"),
            signal(
                "keep",
                BOOL,
                ANY,
                "where to keep them; a coarser mask broadcasts down",
            ),
        ],
        same_real(None),
        "x where keep holds, else 0: x · 1[keep]. Masks truncated samples (`mask(a, not \
         truncated)`, DAPO's overlong filtering), late votes (`mask(a, index <= 32)`, EVOL-RL) \
         or non-forking tokens.",
        "[CODE] DAPO overlong filtering / TRL mask_truncated_completions; EVOL-RL trains on the \
         first 32 of 64 votes (YujunZhou/EVOL-RL, verl/examples/labelfree/evol_rl.sh).",
    ),
    node(
        "forking_tokens",
        W,
        &[
            signal(
                "entropy",
                REAL,
                TOKEN,
                "token entropies, normally `entropy`",
            ),
            real(
                "q",
                0.8,
                Some(UNIT),
                "the entropy quantile above which a token forks",
            ),
            choice(
                "over",
                &["batch", "response"],
                "batch",
                "where the quantile is taken",
            ),
        ],
        fixed(Scope::Token, Kind::Bool, None),
        "SPINE's forking tokens: true where H_t >= Q_q(H), the q-quantile of the entropies of \
         all generated tokens in the batch (or the response), i.e. the top 1 − q share of \
         high-entropy branch points. `optimize r where forking_tokens(entropy)` trains only \
         them: the other tokens are out of the term's policy gradient, normaliser, KL and \
         entropy terms (`scaled by` would only zero their advantages).",
        "[INFER] SPINE (arXiv:2511.17938; abstract only) with ρ = 1 − q ≈ 0.2 as in \"Beyond \
         the 80/20 rule\" (arXiv:2506.01939).",
    ),
    node(
        "tool_output_mask",
        W,
        &[],
        fixed(Scope::Token, Kind::Bool, None),
        "True on tokens the policy generated, false on tokens a tool inserted into a \
         multi-turn rollout (retrieved documents, tool results), so they carry no loss. The \
         stage setting `mask = tool_output` applies it to every term.",
        "[INFER] Atom-Searcher / DeepResearcher-style masking of retrieved content \
         (arXiv:2508.12800).",
    ),
];
