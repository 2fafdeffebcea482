//! The checked program: every name resolved, every value typed, every
//! function expanded, every default filled in. The runtime executes this,
//! and `rlr graph` draws it. Nodes keep their spans for runtime errors.

use std::collections::BTreeMap;

use crate::ast::{BinaryOp, DeclKind, FilterKind, UnaryOp};
use crate::registry::Family;
use crate::source::Span;
use crate::types::ValueType;

/// A compiled recipe.
#[derive(Clone, Debug)]
pub struct Program {
    /// The recipe's name (`recipe "NAME"`).
    pub name: String,
    /// Metadata fields with defaults filled in (`paper`, `seed`, ...).
    pub meta: BTreeMap<String, Const>,
    /// Models, tasks and tools, in source order.
    pub decls: Vec<Decl>,
    /// Stages, run in source order on the same model.
    pub stages: Vec<Stage>,
}

impl Program {
    /// The recipe's seed.
    pub fn seed(&self) -> u64 {
        match self.meta.get("seed") {
            Some(Const::Int(s)) => *s as u64,
            _ => 0,
        }
    }

    /// The declaration called `name`.
    pub fn decl(&self, name: &str) -> Option<&Decl> {
        self.decls.iter().find(|d| d.name == name)
    }
}

/// A compile-time constant.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    /// A real number.
    Real(f64),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A string (or a choice among strings).
    Str(String),
    /// A list.
    List(Vec<Const>),
    /// A pair such as a clip range `(0.2, 0.28)`.
    Pair(f64, f64),
    /// `start -> end`.
    Range(f64, f64),
    /// `(step, value)` points of a piecewise schedule.
    Points(Vec<(f64, f64)>),
    /// The name of a declared model, task, tool or branch.
    Name(String),
}

impl Const {
    /// The value as a real, for numeric constants.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Const::Real(x) => Some(*x),
            Const::Int(i) => Some(*i as f64),
            Const::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }
}

impl std::fmt::Display for Const {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Const::Real(x) => write!(f, "{x:?}"),
            Const::Int(i) => write!(f, "{i}"),
            Const::Bool(b) => write!(f, "{b}"),
            Const::Str(s) => write!(f, "{s:?}"),
            Const::List(items) => {
                f.write_str("[")?;
                for (i, c) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("]")
            }
            Const::Pair(a, b) => write!(f, "({a:?}, {b:?})"),
            Const::Range(a, b) => write!(f, "{a:?} -> {b:?}"),
            Const::Points(ps) => {
                f.write_str("[")?;
                for (i, (a, b)) in ps.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "({a:?}, {b:?})")?;
                }
                f.write_str("]")
            }
            Const::Name(n) => f.write_str(n),
        }
    }
}

/// A model, task or tool declaration with all arguments resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    /// Model, task or tool.
    pub kind: DeclKind,
    /// The declared name.
    pub name: String,
    /// The constructor's registry name.
    pub builtin: &'static str,
    /// Every parameter of the constructor, defaults filled in.
    pub args: BTreeMap<String, Const>,
    /// The declaration.
    pub span: Span,
}

/// One stage: a training phase with its settings, reward graph, filters and objectives.
#[derive(Clone, Debug)]
pub struct Stage {
    /// The stage's name.
    pub name: String,
    /// The stage kind's registry name (`grpo`, `sft`, ...).
    pub kind: &'static str,
    /// The model it trains.
    pub model: String,
    /// The task it samples prompts from.
    pub task: String,
    /// Every setting of the stage kind, defaults filled in.
    pub settings: BTreeMap<String, Const>,
    /// Auxiliary rollout branches.
    pub branches: Vec<BranchDef>,
    /// The reward graph, including filter conditions and objective inputs.
    pub graph: RewardGraph,
    /// `halt`/`drop` filters.
    pub filters: Vec<FilterDef>,
    /// `optimize` terms.
    pub objectives: Vec<Objective>,
    /// The stage item.
    pub span: Span,
}

/// `branch NAME = rollout(...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct BranchDef {
    /// The branch's name.
    pub name: String,
    /// The node holding the branch's prompt (group text).
    pub prompt: NodeId,
    /// Rollouts per prompt and sampling settings, defaults filled in.
    pub args: BTreeMap<String, Const>,
    /// The statement.
    pub span: Span,
}

/// A `halt` or `drop` filter.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterDef {
    /// Before or after the main rollouts.
    pub kind: FilterKind,
    /// Group bool: remove the prompt where true.
    pub cond: NodeId,
    /// Group bool: keep it anyway where true.
    pub unless: Option<NodeId>,
    /// The statement.
    pub span: Span,
}

/// One policy-gradient term of the loss.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// The reward node whose advantages drive the term.
    pub target: NodeId,
    /// The branch trained on; `None` for the main rollouts.
    pub branch: Option<String>,
    /// Multiplier on the advantages.
    pub scale: Option<NodeId>,
    /// Weight of the term in the loss (a step-scope node: constant or schedule).
    pub weight: Option<NodeId>,
    /// `where M`: a bool node on the term's rollouts. At response scope or
    /// coarser (broadcast to each rollout) it selects the rollouts the
    /// advantage estimator sees and the term trains on; at token scope it
    /// selects the tokens that count in the term's loss.
    pub r#where: Option<NodeId>,
    /// The statement.
    pub span: Span,
}

/// Index of a node in [`RewardGraph::nodes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

/// Where a node came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// A binding in a reward block.
    Binding,
    /// A binding inside a user function, expanded at a call site.
    FnLocal {
        /// The function.
        function: String,
    },
    /// A non-trivial argument of a user function, bound once.
    FnArg {
        /// The function.
        function: String,
    },
    /// The prompt of a branch.
    BranchPrompt,
    /// The condition of a filter.
    Filter(FilterKind),
    /// The bypass condition of a filter.
    FilterUnless(FilterKind),
    /// An `optimize` target, scale, weight or `where` mask written as an expression.
    Objective,
}

/// The reward graph of one stage.
#[derive(Clone, Debug, Default)]
pub struct RewardGraph {
    /// Nodes in source order; `NodeId` indexes this.
    pub nodes: Vec<Node>,
    /// Every node in an order where inputs come first.
    pub order: Vec<NodeId>,
    /// Dependencies: an edge `a -> b` means `b` reads `a`.
    pub dag: petgraph::graph::DiGraph<NodeId, Span>,
}

impl RewardGraph {
    /// The node with this id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    /// The node called `name`.
    pub fn find(&self, name: &str) -> Option<NodeId> {
        self.nodes
            .iter()
            .position(|n| n.name == name)
            .map(|i| NodeId(i as u32))
    }
}

/// One node: a named, typed value computed each step.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Its name: the binding's name, `binding.local` for function locals,
    /// or `halt`, `optimize`, ... for statement inputs.
    pub name: String,
    /// Where it came from.
    pub origin: Origin,
    /// How it is computed.
    pub expr: Expr,
    /// The value where a `where` partition the expression reduces over is empty.
    pub fallback: Option<Expr>,
    /// Its type.
    pub ty: ValueType,
    /// The rollouts its values belong to: `None` for the main rollouts (or
    /// scopes coarser than a response), `Some(branch)` for an auxiliary branch.
    pub rollouts: Option<String>,
    /// What it is, for drawing and metrics: the family of its outermost built-in.
    pub family: Family,
    /// The expression's interval, when known (for gates and filters).
    pub range: Option<(f64, f64)>,
    /// The binding (or statement) it was written as.
    pub span: Span,
}

/// A typed expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Its type.
    pub ty: ValueType,
    /// Where it was written.
    pub span: Span,
}

/// Typed expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A constant (literals and stage settings fold to this).
    Const(Const),
    /// Another node's value.
    Node(NodeId),
    /// A context name of the rollouts the node belongs to (`text`, `answer`, `step`).
    Context(&'static str),
    /// A context name read from a branch (`probe.text`).
    BranchContext {
        /// The branch.
        branch: String,
        /// The context name.
        name: &'static str,
    },
    /// A field of the prompt's task record (`sample.answer`).
    Sample(String),
    /// The whole task record (`sample`), passed to judges.
    SampleRecord,
    /// A built-in called with its arguments matched to parameters.
    Call {
        /// The registry name.
        builtin: &'static str,
        /// Arguments by parameter name, in parameter order; defaults filled in.
        args: Vec<(&'static str, Arg)>,
        /// `where` partition of the first argument.
        partition: Option<Box<Expr>>,
    },
    /// `-x`, `not x`.
    Unary(UnaryOp, Box<Expr>),
    /// `a + b`, `a and b`, ...
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `if c then a else b` (both sides evaluated).
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `v when c else d` (`v` evaluated only where `c`).
    When(Box<Expr>, Box<Expr>, Box<Expr>),
}

/// An argument of a built-in call.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// A graph signal.
    Signal(Expr),
    /// A constant.
    Const(Const),
}

impl Expr {
    /// Every node this expression reads, with the place it is read.
    pub fn references(&self, out: &mut Vec<(NodeId, Span)>) {
        match &self.kind {
            ExprKind::Node(id) => out.push((*id, self.span)),
            ExprKind::Call {
                args, partition, ..
            } => {
                for (_, a) in args {
                    if let Arg::Signal(e) = a {
                        e.references(out);
                    }
                }
                if let Some(p) = partition {
                    p.references(out);
                }
            }
            ExprKind::Unary(_, e) => e.references(out),
            ExprKind::Binary(_, a, b) => {
                a.references(out);
                b.references(out);
            }
            ExprKind::If(a, b, c) | ExprKind::When(a, b, c) => {
                a.references(out);
                b.references(out);
                c.references(out);
            }
            ExprKind::Const(_)
            | ExprKind::Context(_)
            | ExprKind::BranchContext { .. }
            | ExprKind::Sample(_)
            | ExprKind::SampleRecord => {}
        }
    }

    /// Whether this expression or any part of it satisfies `pred` (the
    /// engine asks, e.g., whether a graph reads `ref_logprob`).
    pub fn any(&self, pred: &dyn Fn(&ExprKind) -> bool) -> bool {
        if pred(&self.kind) {
            return true;
        }
        match &self.kind {
            ExprKind::Call {
                args, partition, ..
            } => {
                args.iter()
                    .any(|(_, a)| matches!(a, Arg::Signal(e) if e.any(pred)))
                    || partition.as_ref().is_some_and(|p| p.any(pred))
            }
            ExprKind::Unary(_, e) => e.any(pred),
            ExprKind::Binary(_, a, b) => a.any(pred) || b.any(pred),
            ExprKind::If(a, b, c) | ExprKind::When(a, b, c) => {
                a.any(pred) || b.any(pred) || c.any(pred)
            }
            ExprKind::Const(_)
            | ExprKind::Node(_)
            | ExprKind::Context(_)
            | ExprKind::BranchContext { .. }
            | ExprKind::Sample(_)
            | ExprKind::SampleRecord => false,
        }
    }
}
