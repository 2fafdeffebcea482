//! # rlr-tasks: the built-in tasks
//!
//! Each task of the registry (`arith`, `arith_chain`, `evidence_math`,
//! `multihop_kb`, `tool_call`, `countdown`, `safety`, `jsonl`) is a seeded
//! generator of prompts with a train and a held-out split that never share a
//! problem, the task record every reward reads as `sample.*` (exactly the
//! fields the registry lists), and a demonstration: the reference response
//! in the format the rewards expect, for SFT stages. Tools (`kb_lookup`,
//! `calculator`) answer calls made during multi-turn rollouts.

use std::sync::Arc;

use rlr_lang::ir::{Const, Decl};

mod arith;
mod arith_chain;
mod countdown;
mod draw;
mod evidence_math;
mod jsonl;
mod multihop_kb;
mod rng;
mod safety;
#[cfg(test)]
mod testkit;
mod tool_call;
mod tools;

pub use rng::{Rng, fingerprint};

/// Which part of a task's problems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Split {
    /// Problems to train on.
    Train,
    /// Problems kept for evaluation; never generated for training.
    Heldout,
}

/// One problem of a task.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Every field of the task's `sample` record, as the registry lists them
    /// (`prompt` and `answer` included), as JSON values.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The reference response, in the format the task's rewards expect.
    pub demonstration: String,
    /// Further prompts the task teaches in SFT alongside the problem, each
    /// with its reference response (`evidence_math`'s perception checklist,
    /// answered as `<a1>..</a1><a2>..</a2>`): what a method's extra
    /// rollouts are asked, so that the warm-up teaches their format too.
    pub auxiliary: Vec<Auxiliary>,
}

/// An extra prompt and its reference response (see [`Sample::auxiliary`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Auxiliary {
    /// The prompt, as the branch that asks it shows it.
    pub prompt: String,
    /// The reference response.
    pub demonstration: String,
}

impl Sample {
    /// The prompt shown to the policy.
    pub fn prompt(&self) -> &str {
        self.fields
            .get("prompt")
            .and_then(|v| v.as_str())
            .unwrap_or("")
    }

    /// The reference answer.
    pub fn answer(&self) -> &str {
        self.fields
            .get("answer")
            .and_then(|v| v.as_str())
            .unwrap_or("")
    }
}

/// A built-in task.
pub trait Task: Send + Sync {
    /// The registry name of its constructor.
    fn name(&self) -> &'static str;
    /// Problem `index` of a split: a pure function of the task's arguments,
    /// the seed, the split and the index.
    fn sample(&self, split: Split, index: u64) -> Sample;
    /// How many distinct problems a split has, when finite (a data file).
    fn len(&self, split: Split) -> Option<u64> {
        let _ = split;
        None
    }
    /// The task as `Any`, for tools that need its concrete type
    /// (`kb_lookup` reads a `multihop_kb`'s knowledge base); `None` by default.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// A tool a policy can call during a multi-turn rollout.
pub trait Tool: Send + Sync {
    /// The tool's name in the recipe.
    fn name(&self) -> &str;
    /// The tag a call is written in: the policy writes `<TAG>input</TAG>`,
    /// and the closing tag is where the engine runs the tool.
    fn tag(&self) -> &str;
    /// The tool's output for one call (its input as the policy wrote it).
    fn call(&self, input: &str) -> String;
}

/// Reads a declaration's constant argument.
pub fn arg<'d>(decl: &'d Decl, name: &str) -> Option<&'d Const> {
    decl.args.get(name)
}

/// Builds the task a recipe declares (`task train = arith(max = 20)`).
///
/// `read` reads data files for `jsonl` (relative to the recipe).
pub fn build(
    decl: &Decl,
    seed: u64,
    read: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Arc<dyn Task>, String> {
    match decl.builtin {
        "arith" => Ok(Arc::new(arith::build(decl, seed)?)),
        "arith_chain" => Ok(Arc::new(arith_chain::build(decl, seed)?)),
        "evidence_math" => Ok(Arc::new(evidence_math::build(decl, seed)?)),
        "countdown" => Ok(Arc::new(countdown::build(decl, seed)?)),
        "safety" => Ok(Arc::new(safety::build(decl, seed)?)),
        "multihop_kb" => Ok(Arc::new(multihop_kb::MultihopKb::build(decl, seed)?)),
        "tool_call" => Ok(Arc::new(tool_call::ToolCall::build(decl, seed)?)),
        "jsonl" => Ok(Arc::new(jsonl::Jsonl::build(decl, read)?)),
        _ => Err(format!("there is no built-in task `{}`", decl.builtin)),
    }
}

/// Builds a tool a recipe declares (`tool search = kb_lookup(train)`), given its tasks by name.
pub fn build_tool(decl: &Decl, tasks: &[(String, Arc<dyn Task>)]) -> Result<Arc<dyn Tool>, String> {
    match decl.builtin {
        "kb_lookup" => Ok(Arc::new(tools::KbLookup::build(decl, tasks)?)),
        "calculator" => Ok(Arc::new(tools::Calculator::build(decl)?)),
        _ => Err(format!("there is no built-in tool `{}`", decl.builtin)),
    }
}
