//! Errors while evaluating a graph: which binding, which rollout, what inputs.

use std::fmt;

use rlr_lang::Span;

use crate::layout::SetId;

/// Where in the batch something went wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct At {
    /// Whose rollouts.
    pub set: SetId,
    /// The group (prompt), 0-based.
    pub group: usize,
    /// The rollout within its group, 0-based; `None` for a group-level value.
    pub rollout: Option<usize>,
}

/// A failed evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalError {
    /// The binding being computed.
    pub node: String,
    /// Where that binding is written.
    pub span: Option<Span>,
    /// What went wrong.
    pub message: String,
    /// The rollout or group, when one is to blame.
    pub at: Option<At>,
    /// The values the binding read there, as `name = value`.
    pub inputs: Vec<(String, String)>,
}

impl EvalError {
    /// An error with a message; the executor fills in node, span and inputs.
    pub fn new(message: impl Into<String>) -> EvalError {
        EvalError {
            node: String::new(),
            span: None,
            message: message.into(),
            at: None,
            inputs: Vec::new(),
        }
    }

    /// The same error, located at a rollout or group.
    pub fn at(mut self, at: At) -> EvalError {
        self.at = Some(at);
        self
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.node, self.message)?;
        if let Some(at) = &self.at {
            write!(f, " (group {}", at.group)?;
            if let Some(r) = at.rollout {
                write!(f, ", rollout {r}")?;
            }
            if at.set != SetId::Main {
                write!(f, " of branch `{}`", at.set)?;
            }
            f.write_str(")")?;
        }
        if !self.inputs.is_empty() {
            let inputs: Vec<String> = self
                .inputs
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            write!(f, "; inputs: {}", inputs.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for EvalError {}

/// Shorthand for results of evaluation.
pub type Result<T> = std::result::Result<T, EvalError>;
