//! Verifiers: rule checks on text (methods.md §P.2 node 1).

use crate::registry::spec::{
    AT_LEAST_ONE, LABEL, NON_NEGATIVE, NON_POSITIVE, NUMERIC_LABEL, REAL, RESPONSE, SAME_BOOL,
    TEXT, TEXTUAL, UNIT, choice, fixed, flag, int, node, optional, out, real, required, same_real,
    signal, string, strings,
};
use crate::registry::{Builtin, DefaultValue, Family, KindRule, ParamType, ScopeRule};
use crate::types::{Kind, Scope};

const V: Family = Family::Verify;

/// The verifiers.
pub(super) const ALL: &[Builtin] = &[
    node(
        "exact",
        V,
        &[
            signal("a", LABEL, TEXTUAL, "the answer to check, e.g. `answer`"),
            signal("b", LABEL, TEXTUAL, "the reference, e.g. `sample.answer`"),
            flag(
                "normalize",
                true,
                "trim, collapse whitespace and lower-case both sides first",
            ),
        ],
        same_real(Some(UNIT)),
        "Exact match: r = 1[norm(a) = norm(b)], else 0. With `normalize` (the default) both \
         labels are trimmed, runs of whitespace become one space and letters are lower-cased; \
         an empty label never equals anything, so a response with no extractable answer scores \
         0. The scope is the finer of the two inputs (response for `exact(answer, \
         sample.answer)`, group for comparing two votes).",
        "[PAPER] SophiaVL-R1 (arXiv:2505.17018) §3.3 numerical/multiple-choice outcome reward; \
         [CODE] TTRL majority check in EVOL-RL (YujunZhou/EVOL-RL, \
         verl/utils/reward_score/ttrl/ttt_metrics.py). The normalisation is rlr's.",
    ),
    node(
        "numeric_equal",
        V,
        &[
            signal("a", NUMERIC_LABEL, TEXTUAL, "the answer to check"),
            signal("b", NUMERIC_LABEL, TEXTUAL, "the reference"),
            real(
                "tol",
                1e-6,
                Some(NON_NEGATIVE),
                "relative tolerance: |a − b| <= tol · max(1, |b|)",
            ),
        ],
        same_real(Some(UNIT)),
        "Numeric match: both sides are parsed as numbers (integers, decimals, scientific \
         notation, thousands separators `1,234`, a leading sign, simple fractions `p/q`) and \
         r = 1[|a − b| <= tol · max(1, |b|)]; r = 0 if either side does not parse.",
        "[PAPER] SophiaVL-R1 (arXiv:2505.17018) §3.3 numerical outcome reward; parsing rules are \
         rlr's [INFER].",
    ),
    node(
        "math_equal",
        V,
        &[
            signal(
                "a",
                NUMERIC_LABEL,
                TEXTUAL,
                "the answer to check, e.g. `boxed(text)`",
            ),
            signal(
                "b",
                NUMERIC_LABEL,
                TEXTUAL,
                "the reference, e.g. `sample.answer`",
            ),
            real(
                "tol",
                1e-6,
                Some(NON_NEGATIVE),
                "relative tolerance when both sides are numbers",
            ),
        ],
        same_real(Some(UNIT)),
        "Mathematical equivalence in the style of mathruler's grade_answer: both sides are \
         normalised (strip `$`, `\\text{...}` wrappers, `\\left`/`\\right`, `^\\circ`, spaces and a \
         trailing period; `\\dfrac`/`\\tfrac` become `\\frac`; thousands commas are removed), then \
         compared as numbers when both parse (integers, decimals, `p/q`, `\\frac{p}{q}`, \
         percentages as written: r = 1[|a − b| <= tol · max(1, |b|)]), otherwise as normalised \
         strings. r ∈ {0, 1}; an empty side gives 0.",
        "[CODE] PEARL accuracy reward via mathruler grade_answer (MiliLab/PEARL@dab5b0a, \
         examples/reward_function/math_mqa.py; arXiv:2511.18437); DAPO rule reward \
         (verl/utils/reward_score/math_dapo.py, arXiv:2503.14476).",
    ),
    node(
        "boxed",
        V,
        &[signal("text", TEXT, TEXTUAL, "the text to search")],
        out(ScopeRule::Inputs, KindRule::Fixed(Kind::Label), None),
        "The content of the last `\\boxed{...}` in the text, with balanced braces \
         (`\\boxed{\\frac{1}{2}}` gives `\\frac{1}{2}`); the empty label if there is none.",
        "[CODE] PEARL extract_boxed (MiliLab/PEARL@dab5b0a, math_mqa.py); Climb Carves Wisdom \
         answer extraction (trestad/Noisy-Rewards-in-Learning-to-Reason, math_score.py).",
    ),
    node(
        "last_number",
        V,
        &[signal("text", TEXT, TEXTUAL, "the text to search")],
        out(ScopeRule::Inputs, KindRule::Fixed(Kind::Label), None),
        "The last number written in the text, as written (`-3`, `2.5`, `1,234`): digits with \
         optional thousands groups and decimals, and a minus sign directly before them unless \
         it follows a letter, digit or closing bracket (`3-6` ends with `6`, `= -3` with `-3`); \
         the empty label if there is none. For models that answer in prose (\"3 + 4 = 7.\"): \
         `math_equal(last_number(text), sample.answer)`.",
        "[INFER] rlr's reading of the common last-number fallback of math graders (e.g. the \
         GSM8K evaluation's final-number match); the number syntax is that of `judge.steps`.",
    ),
    node(
        "tag",
        V,
        &[
            signal("text", TEXT, TEXTUAL, "the text to search"),
            required(
                "name",
                ParamType::Str,
                None,
                "the tag name, e.g. \"answer\" for <answer>...</answer>",
            ),
        ],
        out(ScopeRule::Inputs, KindRule::Fixed(Kind::Label), None),
        "The content of the last `<name>...</name>` block in the text, trimmed; the empty label \
         if there is none or it is not closed.",
        "[CODE] tagged answers in ToolRL (qiancheng0/ToolRL, verl/utils/reward_score/rlla.py) and \
         SophiaVL-R1's judge parser (kxfan2002/SophiaVL-R1@a818494, extract_score).",
    ),
    node(
        "matches",
        V,
        &[
            signal("text", TEXT, TEXTUAL, "the text to test"),
            required(
                "pattern",
                ParamType::Str,
                None,
                "a regular expression (Rust regex syntax), checked with the recipe",
            ),
        ],
        SAME_BOOL,
        "True iff the regular expression matches somewhere in the text; anchor with `^...$` to \
         require the whole text. `.` also matches newlines (flag `s`). PEARL's format check is \
         `matches(text, \"<think>.*</think>.*\\\\boxed\\\\{.*\\\\}\")` (the released code first \
         strips whitespace around `<`, `>` and `/`).",
        "[CODE] PEARL format reward (MiliLab/PEARL@dab5b0a, math_mqa.py); ToolRL format \
         templates (qiancheng0/ToolRL, rlla.py).",
    ),
    node(
        "match_count",
        V,
        &[
            signal("text", TEXT, TEXTUAL, "the text to search"),
            required(
                "pattern",
                ParamType::Str,
                None,
                "a regular expression (Rust regex syntax)",
            ),
        ],
        same_real(Some(NON_NEGATIVE)),
        "The number of non-overlapping matches of the regular expression in the text (flag `s` \
         as in `matches`). Climb Carves Wisdom subtracts the count of \"user: \" from its \
         reasoning-pattern reward.",
        "[CODE] Climb Carves Wisdom think_reward (trestad/Noisy-Rewards-in-Learning-to-Reason, \
         verl/utils/reward_score/math_score.py).",
    ),
    node(
        "token_f1",
        V,
        &[
            signal("a", LABEL, TEXTUAL, "the prediction, e.g. `answer`"),
            signal(
                "b",
                LABEL,
                TEXTUAL,
                "the gold answer(s), e.g. `sample.answer`",
            ),
            string(
                "sep",
                "",
                "if not empty, `b` holds several gold aliases separated by this string and the \
                 best F1 is taken",
            ),
        ],
        same_real(Some(UNIT)),
        "SQuAD token F1: both sides are normalised (lower-case, punctuation and the articles \
         a/an/the removed, split on whitespace); with c = |tokens(a) ∩ tokens(b)| as multisets, \
         P = c/|a|, R = c/|b|, F1 = 2PR/(P + R), 0 when c = 0; if either side is empty F1 = 1 \
         when both are, else 0. With `sep`, F1 = max over the aliases of b.",
        "[2ND] Atom-Searcher outcome reward (arXiv:2508.12800, secondary summaries); [CODE] IGPO \
         final-turn F1 (GuoqingWang1/IGPO, verl/utils/reward_score/info_gain.py); definition \
         [PAPER] SQuAD (arXiv:1606.05250).",
    ),
    node(
        "jaccard",
        V,
        &[
            signal("a", LABEL, TEXTUAL, "one text"),
            signal("b", LABEL, TEXTUAL, "the other text"),
            int(
                "n",
                1,
                Some(AT_LEAST_ONE),
                "compare sets of word n-grams of this length",
            ),
        ],
        same_real(Some(UNIT)),
        "Jaccard similarity of the sets of word n-grams: |A ∩ B| / |A ∪ B|, 1 when both are \
         empty. Words are whitespace-separated after lower-casing.",
        "[INFER] Reasoning-SQL schema-linking and n-gram rewards (arXiv:2503.23157, weights and \
         tokenisation unverified); ToolRL uses the multiset form for tool names [CODE].",
    ),
    node(
        "rouge",
        V,
        &[
            signal("a", LABEL, TEXTUAL, "the prediction"),
            signal("b", LABEL, TEXTUAL, "the reference"),
            choice(
                "variant",
                &["1", "2", "l", "mean"],
                "mean",
                "ROUGE-1, ROUGE-2, ROUGE-L, or the mean of the three",
            ),
        ],
        same_real(Some(UNIT)),
        "ROUGE F-measure over lower-cased word tokens: ROUGE-n from n-gram overlap counts, \
         ROUGE-L from the longest common subsequence; `mean` = (R1 + R2 + RL)/3, SophiaVL-R1's \
         free-form reward.",
        "[PAPER] SophiaVL-R1 (arXiv:2505.17018) §3.3 free-form outcome reward.",
    ),
    node(
        "wer",
        V,
        &[
            signal("a", LABEL, TEXTUAL, "the hypothesis"),
            signal("b", LABEL, TEXTUAL, "the reference"),
        ],
        same_real(Some(NON_NEGATIVE)),
        "Word error rate: the word-level Levenshtein distance from a to b divided by the number \
         of words in b (can exceed 1; 0 if both are empty, 1 if only b is). SophiaVL-R1's OCR \
         reward is `-wer(answer, sample.answer)`.",
        "[PAPER] SophiaVL-R1 (arXiv:2505.17018) §3.3 OCR outcome reward.",
    ),
    node(
        "tool_call_match",
        V,
        &[
            signal("text", TEXT, TEXTUAL, "the response"),
            signal(
                "expected",
                TEXT,
                TEXTUAL,
                "the reference calls, e.g. `sample.tool_calls`",
            ),
            choice(
                "mode",
                &["fine", "intermediate", "coarse", "refined"],
                "fine",
                "ToolRL's granularity variants",
            ),
        ],
        same_real(Some(UNIT)),
        "ToolRL's tool-call correctness, scaled to [0, 1]. Both sides' `<tool_call>` blocks are \
         parsed (one JSON object {\"name\", \"parameters\"} per line). 1 if the call lists are \
         identical; 0 if the response has no `<tool_call>` block or a line fails to parse; \
         otherwise S/S_max with S = J(names_gt, names_pred) + Σ_{g ∈ gt} max over unused \
         predicted calls p with p.name = g.name of [J(keys(g), keys(p)) + Σ_{k ∈ g} \
         1[p_k = g_k]], S_max = 1 + Σ_g (1 + |params(g)|), J the multiset Jaccard \
         |A ∩ B| / (|A| + |B| − |A ∩ B|), and predicted calls matched greedily one-to-one. \
         ToolRL's reward is R_correct = −3 + 6 · tool_call_match(...) where the reference has \
         a call, else 0. Modes: `intermediate` scores each reference call all-or-nothing \
         (S = J(names) + #calls matched exactly, S_max = 1 + #reference calls); `coarse` is \
         1 iff identical, else 0; `refined` sets the name Jaccard to 0 unless the lists are \
         identical.",
        "[CODE] ToolRL (qiancheng0/ToolRL, verl/utils/reward_score/rlla.py; arXiv:2504.13958) \
         §3.3 and the INTERMEDIATEREWARD/COARSEREWARD/REFINEDREWARD flags.",
    ),
    node(
        "tool_call_count",
        V,
        &[signal("text", TEXT, TEXTUAL, "the text to parse")],
        same_real(Some(NON_NEGATIVE)),
        "The number of tool calls in the text: JSON lines inside `<tool_call>` blocks that \
         parse. `tool_call_count(sample.tool_calls) > 0` is ToolRL's \"the reference has a tool \
         call\" condition.",
        "[CODE] ToolRL (qiancheng0/ToolRL, rlla.py).",
    ),
    node(
        "toolrl_format",
        V,
        &[
            signal("text", TEXT, TEXTUAL, "the response"),
            signal(
                "expected",
                TEXT,
                TEXTUAL,
                "the reference response, e.g. `sample.expected`",
            ),
        ],
        SAME_BOOL,
        "ToolRL's format check: true iff the whole response matches the template the reference \
         implies: only `<response>`: `^<think>.*?</think>\\n<response>.*?</response>$`; only \
         `<tool_call>`: `^<think>.*?</think>\\n<tool_call>\\n.*?\\n</tool_call>$`; both: think, \
         tool_call, response in that order; neither: `^<think>.*?</think>$`; each block exactly \
         once.",
        "[CODE] ToolRL (qiancheng0/ToolRL, rlla.py; arXiv:2504.13958) §3.3, R_format ∈ {0, 1}.",
    ),
    node(
        "length_of",
        V,
        &[
            signal("text", TEXT, TEXTUAL, "the text to measure, e.g. `think`"),
            choice(
                "unit",
                &["tokens", "words", "chars"],
                "tokens",
                "policy tokenizer tokens, whitespace-separated words, or Unicode characters",
            ),
        ],
        same_real(Some(NON_NEGATIVE)),
        "The length of the text in the chosen unit. ToolRL's length reward is \
         `minimum(length_of(think, unit = \"words\") / 512, 1)`. For the whole response in \
         tokens, the context name `length` is the same number without re-tokenising.",
        "[CODE] ToolRL WITHLENGTH (qiancheng0/ToolRL, rlla.py); PAR length penalty \
         (PorUna-byte/PAR, trainers/reward_shaper.py).",
    ),
    node(
        "ngram_repetition",
        V,
        &[
            signal("text", TEXT, TEXTUAL, "the text"),
            int("n", 20, Some(AT_LEAST_ONE), "n-gram length in words"),
        ],
        same_real(Some(UNIT)),
        "Repetition ratio: (number of distinct word n-grams that occur more than once) / (total \
         number of word n-grams); 0 if the text has fewer than n words.",
        "[CODE] Climb Carves Wisdom ngram_rep_ratio_20 (trestad/Noisy-Rewards-in-Learning-to-\
         Reason, verl/utils/reward_score/math_score.py).",
    ),
    node(
        "phrase_count",
        V,
        &[
            signal(
                "text",
                TEXT,
                TEXTUAL,
                "the text, lower-cased before matching",
            ),
            required(
                "phrases",
                ParamType::StrList,
                None,
                "the phrases to look for, lower-case",
            ),
            flag(
                "distinct",
                true,
                "count each phrase once if present (true) or every occurrence (false)",
            ),
        ],
        same_real(Some(NON_NEGATIVE)),
        "Counts phrases in the lower-cased text: with `distinct`, the number of phrases that \
         occur at least once (presence, not frequency); otherwise the total number of \
         non-overlapping occurrences. Climb Carves Wisdom's reasoning-pattern reward is \
         RPR = max(0, min(1, count/20) − ngram_repetition(think, n = 20) − \
         #occurrences(\"user: \")) over its 40 key phrases (\"wait\", \"alternatively\", \"let me \
         check\", ...).",
        "[CODE] Climb Carves Wisdom think_reward (trestad/Noisy-Rewards-in-Learning-to-Reason, \
         verl/utils/reward_score/math_score.py).",
    ),
    node(
        "json_valid",
        V,
        &[signal(
            "text",
            TEXT,
            TEXTUAL,
            "the text, trimmed before parsing",
        )],
        SAME_BOOL,
        "True iff the trimmed text is exactly one JSON value (RFC 8259).",
        "[CODE] the parse step of ToolRL's correctness reward (qiancheng0/ToolRL, rlla.py); \
         generic structured-output check.",
    ),
    node(
        "answers_correct",
        V,
        &[
            signal("text", TEXT, TEXTUAL, "the response to the checklist"),
            signal(
                "expected",
                TEXT,
                TEXTUAL,
                "the reference answers, one per line, e.g. `sample.checklist_answers`",
            ),
            choice(
                "denominator",
                &["produced", "expected"],
                "produced",
                "divide by the number of answers the response gave (released code) or by the \
                 number of sub-questions",
            ),
        ],
        same_real(Some(UNIT)),
        "PEARL's multi-answer accuracy. `expected` holds K reference answers, one per line. \
         Answers are taken from the response's `<a1>...</a1>`, `<a2>...</a2>`, ... blocks or, if \
         there are none, from its `\\boxed{}` contents in order, zipped with the references in \
         order, and each pair graded with `math_equal`. r = #correct / D, with D the number of \
         answers extracted (`produced`) or K (`expected`); r = 0 if nothing was extracted. ⚠ \
         With `produced`, a response answering only the first sub-question, correctly, scores \
         1.",
        "[CODE] PEARL accuracy_reward_mqa (MiliLab/PEARL@dab5b0a, \
         examples/reward_function/math_mqa.py; arXiv:2511.18437) §1.2.",
    ),
    node(
        "atomic_format",
        V,
        &[
            signal("text", TEXT, RESPONSE, "the response"),
            strings(
                "tags",
                "the atomic-thought tag names allowed; empty allows any tag name",
            ),
        ],
        SAME_BOOL,
        "Atom-Searcher's well-formedness: true iff the response is `<think>BODY</think>` \
         followed by `<answer>...</answer>`, where BODY is one or more atomic-thought blocks \
         `<T>...</T>` (T in `tags`, or any name if `tags` is empty), each closed, none nested, \
         separated only by whitespace, tool calls and tool outputs.",
        "[INFER] Atom-Searcher (arXiv:2508.12800): atomic thoughts [2ND]; the exact format rule \
         and its −1 penalty are unverified (methods.md §S.1).",
    ),
    node(
        "segments",
        V,
        &[
            signal("text", TEXT, RESPONSE, "the response"),
            strings(
                "tags",
                "tag names that open a segment; empty means every tag",
            ),
        ],
        fixed(Scope::Segment, Kind::Text, None),
        "Splits a response into segments: one per `<T>...</T>` block with T in `tags` (any tag \
         if empty), in order. A segment's text is the block's content and its end is the token \
         that closes the tag (where `place(x, at = \"segment_end\")` puts its value). Text \
         outside the blocks belongs to no segment; a response without blocks has no segments, \
         so reductions over it take their fallback.",
        "[2ND] Atom-Searcher atomic thoughts (arXiv:2508.12800).",
    ),
    node(
        "steps_of",
        V,
        &[
            signal(
                "text",
                TEXT,
                RESPONSE,
                "the reasoning to split, e.g. `think`",
            ),
            string("sep", "\n", "the separator between steps"),
        ],
        fixed(Scope::Segment, Kind::Text, None),
        "Splits reasoning into steps at `sep` (empty steps dropped); each step is a segment \
         ending at its last token. The unit process reward models score (Clip/Delta, \
         DeepSeekMath process supervision).",
        "[2ND] Clip/Delta reasoning steps (arXiv:2410.15115); [INFER] DeepSeekMath process \
         supervision (arXiv:2402.03300).",
    ),
    node(
        "turns_of",
        V,
        &[signal(
            "text",
            TEXT,
            RESPONSE,
            "a multi-turn rollout, normally `text`",
        )],
        fixed(Scope::Segment, Kind::Text, None),
        "One segment per assistant turn of a multi-turn rollout (tool outputs excluded); a \
         segment ends at the turn's last generated token. A single-turn rollout is one segment.",
        "[CODE] IGPO turn rewards at the last token of each assistant turn (GuoqingWang1/IGPO, \
         scrl/llm_agent/generation.py); [2ND] G-RA per-turn rewards (arXiv:2508.10548).",
    ),
    node(
        "overlong",
        V,
        &[
            signal(
                "length",
                REAL,
                RESPONSE,
                "the response length in tokens, normally `length`",
            ),
            optional(
                "max",
                ParamType::Int,
                DefaultValue::Ref("max_tokens"),
                Some(AT_LEAST_ONE),
                "L_max, the generation limit",
            ),
            required(
                "buffer",
                ParamType::Int,
                Some(AT_LEAST_ONE),
                "L_buf, the soft-penalty zone before L_max",
            ),
            real("factor", 1.0, Some(NON_NEGATIVE), "the penalty at L_max"),
        ],
        same_real(Some(NON_POSITIVE)),
        "DAPO's overlong reward shaping: with L_exp = max − buffer, r = min(−(length − L_exp) / \
         buffer · factor, 0), i.e. 0 up to L_exp, then falling linearly to −factor at max. \
         Added to the task reward. The DAPO recipe uses max = 20480, buffer = 4096, factor = 1.",
        "[CODE] DAPO (verl recipe/dapo, verl/workers/reward_manager/dapo.py; arXiv:2503.14476) \
         §0.2.4.",
    ),
    node(
        "equation_valid",
        V,
        &[
            signal(
                "expr",
                LABEL,
                TEXTUAL,
                "the proposed arithmetic expression, e.g. `answer`",
            ),
            signal(
                "numbers",
                TEXT,
                TEXTUAL,
                "the allowed numbers, e.g. `sample.numbers`",
            ),
            signal(
                "target",
                NUMERIC_LABEL,
                TEXTUAL,
                "the target value, e.g. `sample.target`",
            ),
        ],
        same_real(Some(UNIT)),
        "Countdown check: 1 iff `expr` is an arithmetic expression over + − × ÷ and parentheses \
         that uses each of `numbers` exactly once (whitespace-separated) and evaluates exactly \
         (rational arithmetic) to `target`; else 0.",
        "[INFER] Countdown task reward as popularised by TinyZero; the exact rule is rlr's.",
    ),
];
