//! # rlr-reward: the reward-graph runtime
//!
//! Evaluates a compiled stage graph ([`rlr_lang::ir::Stage`]) on a [`Batch`]
//! of rollouts, without a model: verifiers, judges, reductions, normalisers,
//! gates, schedules, running statistics, filters, placement, scans and
//! advantage estimators, with per-node metrics. The training engine supplies
//! what only a model can give through [`node::Probes`]; `rlr replay`
//! re-scores logged rollouts with it.
//!
//! ```text
//! Batch ──layouts──▶ eval::Evaluation (graph.order; `when` evaluated lazily)
//!       ──▶ filters (halt, drop) ──▶ objectives (token rewards → advantages → weights, masks)
//!       ──▶ metrics per binding ──▶ state commit (running statistics)
//! ```

pub mod batch;
pub mod error;
pub mod eval;
pub mod kit;
pub mod layout;
pub mod metrics;
pub mod node;
pub mod nodes;
pub mod objective;
pub mod replay;
pub mod schedules;
pub mod state;
#[doc(hidden)]
pub mod testing;
pub mod value;

pub use batch::{Batch, Group, Rollout};
pub use error::{EvalError, Result};

pub use eval::{Evaluation, Options, branch_prompts, evaluate};
pub use layout::{Layout, SetId};
pub use node::{ProbeRequest, Probes};
pub use state::State;
pub use value::{Data, Value};
