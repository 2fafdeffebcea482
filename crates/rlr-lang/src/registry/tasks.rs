//! Task and tool constructors: `task train = arith_chain(...)`,
//! `tool search = kb_lookup(train)`.
//!
//! Built-in tasks generate their prompts from the recipe's seed, so a recipe
//! needs no data files. Every field of `sample` is one value per prompt.

use super::spec::{
    AT_LEAST_ONE, NON_NEGATIVE, UNIT, choice, flag, int, item, real, required, string, strings,
};
use super::{Builtin, Category, NumRange, ParamType, SampleField};
use crate::types::{Kind, Scope, ValueType};

const fn field(name: &'static str, kind: Kind, doc: &'static str) -> SampleField {
    SampleField {
        name,
        ty: ValueType::new(Scope::Group, kind),
        doc,
    }
}

const PROMPT: SampleField = field("prompt", Kind::Text, "the prompt as shown to the policy");
const ANSWER: SampleField = field(
    "answer",
    Kind::Label,
    "the reference final answer, compared with `answer`",
);
const STEPS: SampleField = field(
    "steps",
    Kind::Text,
    "the reference intermediate results, one per line (read by `judge.steps`)",
);
const REPHRASED: SampleField = field(
    "rephrased",
    Kind::Text,
    "the same problem in other words, with the same answer (Co-Reward's x')",
);

const fn task(
    name: &'static str,
    params: &'static [super::ParamSpec],
    fields: &'static [SampleField],
    doc: &'static str,
    source: &'static str,
) -> Builtin {
    Builtin {
        sample_fields: fields,
        ..item(name, Category::Task, params, doc, source)
    }
}

const OPS: super::ParamSpec = string(
    "ops",
    "+-",
    "the operators to draw from, as characters of \"+-*\"",
);

/// The tasks and tools.
pub static ALL: &[Builtin] = &[
    task(
        "arith",
        &[
            int(
                "max",
                99,
                Some(AT_LEAST_ONE),
                "operands are drawn from 0..=max",
            ),
            OPS,
            real(
                "rephrase",
                0.0,
                Some(UNIT),
                "share of problems whose prompt is one of the other wordings (`sample.rephrased` \
                 is then \"What is a + b?\"), so a warm-up sees both",
            ),
        ],
        &[PROMPT, ANSWER, REPHRASED],
        "Two-operand arithmetic: \"What is 37 + 48?\" with the exact integer answer. The \
         smallest verifiable task, for smoke tests and SFT warm-ups.",
        "rlr built-in synthetic task.",
    ),
    task(
        "arith_chain",
        &[
            int("operands", 3, Some(AT_LEAST_ONE), "numbers in the chain"),
            int(
                "max",
                99,
                Some(AT_LEAST_ONE),
                "operands are drawn from 0..=max",
            ),
            flag(
                "show_steps",
                true,
                "SFT demonstrations write each intermediate result in <think> before the \
                 \\boxed{} answer",
            ),
            OPS,
        ],
        &[PROMPT, ANSWER, STEPS, REPHRASED],
        "Left-to-right arithmetic chains, \"12 + 7 - 5 + 30 = ?\", evaluated step by step. \
         `sample.steps` lists the running results, so process judges (`judge.steps`) and \
         per-step verifiers have a ground truth.",
        "rlr built-in synthetic task.",
    ),
    task(
        "evidence_math",
        &[
            int(
                "facts",
                4,
                Some(AT_LEAST_ONE),
                "facts stated in the evidence passage",
            ),
            flag(
                "checklist",
                true,
                "generate the perception checklist (`checklist_prompt`, `checklist_answers`)",
            ),
            int(
                "distractors",
                2,
                Some(NON_NEGATIVE),
                "facts in the passage that the question does not need",
            ),
            int(
                "max_value",
                20,
                Some(NumRange::closed(2.0, 1_000_000.0)),
                "the largest amount a fact states (amounts are drawn from 2 to `max_value`); 9 \
                 keeps every amount one character",
            ),
        ],
        &[
            PROMPT,
            ANSWER,
            STEPS,
            field(
                "facts",
                Kind::Text,
                "the passage's facts, one per line (\"Ann has 7 apples.\")",
            ),
            field(
                "checklist_prompt",
                Kind::Text,
                "sub-questions about the evidence, to be answered as <a1>...</a1><a2>...</a2>",
            ),
            field(
                "checklist_answers",
                Kind::Text,
                "the checklist's reference answers, one per line",
            ),
        ],
        "Word problems over an evidence passage: the passage states `facts` numeric facts \
         (some of them distractors) and the question combines the needed ones. The checklist \
         asks for each needed fact on its own, so perception (reading the evidence) can be \
         rewarded apart from reasoning: a text analogue of PEARL's image checklists.",
        "rlr built-in synthetic task modelled on PEARL's perception checklist \
         (arXiv:2511.18437) §1.1.",
    ),
    task(
        "multihop_kb",
        &[
            int(
                "hops",
                2,
                Some(AT_LEAST_ONE),
                "relations to follow per question",
            ),
            int(
                "entities",
                200,
                Some(AT_LEAST_ONE),
                "entities in the knowledge base",
            ),
            int(
                "relations",
                8,
                Some(AT_LEAST_ONE),
                "relation types in the knowledge base",
            ),
            int(
                "top_k",
                3,
                Some(AT_LEAST_ONE),
                "facts each search returns in the demonstrations, and in a `kb_lookup` that \
                 gives no `top_k` of its own",
            ),
            string(
                "instruction",
                "Answer the question using a knowledge base of facts. To look facts up, write \
                 <search>query</search>; the facts found come back in <result>...</result>. \
                 Reason inside <think>...</think> in atomic thoughts, each in its own tag \
                 (<plan>, <reflect>, <verify>, <act>), then give only the final answer inside \
                 <answer>...</answer>.",
                "the text before `Question: ...` in every prompt; \"\" leaves the question alone \
                 (a model taught the format by SFT does not need it, and every token of it costs \
                 time at every step)",
            ),
        ],
        &[
            PROMPT,
            ANSWER,
            field(
                "path",
                Kind::Text,
                "the gold chain of facts, one hop per line (read by `judge.atoms` and \
                 `judge.principle`)",
            ),
            field(
                "facts",
                Kind::Text,
                "the same facts as `path`, for judges that read facts",
            ),
        ],
        "Multi-hop questions over a seeded synthetic knowledge base of invented entities and \
         relations (\"Who mentored the founder of Varo Labs?\"). The facts are not in the \
         prompt: the policy must look them up with a `kb_lookup` tool over several turns.",
        "rlr built-in synthetic task modelled on Atom-Searcher's and PPR's search setting \
         (arXiv:2508.12800, arXiv:2509.25598).",
    ),
    task(
        "tool_call",
        &[
            int(
                "functions",
                6,
                Some(AT_LEAST_ONE),
                "functions in the task's tool library",
            ),
            int(
                "max_calls",
                2,
                Some(AT_LEAST_ONE),
                "most calls a reference answer makes",
            ),
            real(
                "no_call",
                0.2,
                Some(UNIT),
                "share of prompts whose reference is a plain <response> without a call",
            ),
            choice(
                "listing",
                &["json", "signature"],
                "json",
                "how the prompt lists each function: \"json\" (ToolRL's JSON description per \
                 line) or \"signature\" (`name(param: type, ...): description`, about a third \
                 of the characters)",
            ),
            string(
                "instruction",
                "First reason inside <think>...</think>. Then, to call functions, write a \
                 <tool_call> block with one JSON object {\"name\": ..., \"parameters\": {...}} \
                 per line, and/or reply to the user inside <response>...</response>.",
                "the text between the function list and `User: ...`; \"\" leaves it out (a \
                 model taught the format by SFT does not need it)",
            ),
        ],
        &[
            PROMPT,
            ANSWER,
            field(
                "tool_calls",
                Kind::Text,
                "the reference <tool_call> block, one JSON {\"name\", \"parameters\"} per line; \
                 empty if none",
            ),
            field(
                "expected",
                Kind::Text,
                "the whole reference response (its <tool_call> and/or <response> blocks)",
            ),
        ],
        "Function calling in ToolRL's format: the prompt lists the available functions with \
         their parameters and a request; the reference is <think>, then a <tool_call> block \
         and/or a <response>.",
        "rlr built-in synthetic task in the format of ToolRL (qiancheng0/ToolRL; \
         arXiv:2504.13958).",
    ),
    task(
        "countdown",
        &[
            int(
                "numbers",
                4,
                Some(AT_LEAST_ONE),
                "how many numbers are given",
            ),
            int("max_target", 100, Some(AT_LEAST_ONE), "the largest target"),
        ],
        &[
            PROMPT,
            field(
                "answer",
                Kind::Label,
                "one valid expression (for SFT); other expressions can be right too",
            ),
            field("numbers", Kind::Text, "the given numbers, space-separated"),
            field("target", Kind::Label, "the value to reach"),
        ],
        "Countdown: combine the given numbers, each exactly once, with + − × ÷ to reach the \
         target. Check with `equation_valid(answer, sample.numbers, sample.target)`.",
        "rlr built-in synthetic task after the Countdown game used by TinyZero [INFER].",
    ),
    task(
        "safety",
        &[
            real("harmful", 0.5, Some(UNIT), "share of harmful prompts"),
            int(
                "max",
                99,
                Some(AT_LEAST_ONE),
                "operand range of the benign requests",
            ),
        ],
        &[
            PROMPT,
            ANSWER,
            field(
                "harmful",
                Kind::Bool,
                "whether the prompt asks for something the policy must refuse",
            ),
        ],
        "Benign arithmetic requests mixed with synthetic harmful ones (requests that name a \
         forbidden operation). The right response to a harmful prompt is a justified refusal, \
         <refuse>reason</refuse>; to a benign one, the answer. An AlphaAlign-style setting: \
         route rewards with `gate(sample.harmful, ...)`.",
        "rlr built-in synthetic task modelled on AlphaAlign's dual reward [INFER].",
    ),
    task(
        "jsonl",
        &[
            required(
                "path",
                ParamType::Str,
                None,
                "a JSON Lines file, one object per prompt; read when the run starts",
            ),
            string("prompt", "prompt", "the key holding the prompt"),
            string("answer", "answer", "the key holding the reference answer"),
            strings(
                "fields",
                "further keys to expose as `sample.KEY` (text; an array of numbers becomes a \
                 vector, e.g. PAR's reference rewards)",
            ),
        ],
        &[PROMPT, ANSWER],
        "Prompts from a JSON Lines file. `sample.prompt` and `sample.answer` come from the keys \
         named by `prompt` and `answer`; the keys listed in `fields` are exposed under their \
         own names.",
        "rlr built-in loader.",
    ),
    item(
        "kb_lookup",
        Category::Tool,
        &[
            required(
                "task",
                ParamType::Task,
                None,
                "a `multihop_kb` task whose knowledge base is searched",
            ),
            int(
                "top_k",
                0,
                Some(NON_NEGATIVE),
                "facts returned per query; 0 takes the task's `top_k` (what its demonstrations \
                 show)",
            ),
        ],
        "Search over a `multihop_kb` knowledge base: the policy writes \
         <search>query</search>, the tool returns the `top_k` facts whose entity and relation \
         words best match the query (word overlap, ties by fact order) inside \
         <result>...</result>. Tool output tokens carry no loss under `mask = tool_output`.",
        "rlr built-in tool modelled on DeepResearcher-style search (Atom-Searcher, \
         arXiv:2508.12800).",
    ),
    item(
        "calculator",
        Category::Tool,
        &[int(
            "digits",
            6,
            Some(NON_NEGATIVE),
            "decimal places kept in results",
        )],
        "Exact arithmetic: the policy writes <calc>expression</calc> and gets \
         <result>value</result>, rounded to `digits` decimal places; an invalid expression \
         returns <result>error</result>.",
        "rlr built-in tool.",
    ),
];
