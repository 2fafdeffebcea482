//! The registry of built-ins: every name a recipe can call, with its typed
//! signature, defaults, ranges, documentation and source.
//!
//! The checker reads it to type recipes, `rlr explain` prints it, the book's
//! reference pages are generated from it, and the runtime implements each
//! entry under the same name, so no name exists twice.

mod context;
mod doc;
mod models;
mod nodes;
mod spec;
mod stages;
mod tasks;
#[cfg(test)]
mod tests;

pub use context::{CONTEXT, RECIPE_FIELDS};
pub use doc::{describe_default, describe_type, explain, markdown, signature};

use crate::types::{Kind, Scope, ValueType};

/// What a built-in is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// A reward-graph node of the given family.
    Node(Family),
    /// A policy model constructor (`model policy = gpt(...)`).
    Model,
    /// A task constructor (`task train = arith(...)`).
    Task,
    /// A tool constructor (`tool search = kb_lookup(train)`).
    Tool,
    /// A stage kind (`stage rl = grpo(...)`).
    Stage,
}

/// The node families of the reward graph (methods.md §P.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// Rule checks on text: exact match, math equality, regex, F1, lengths.
    Verify,
    /// Model or endpoint scores, called only where `when` holds, with an error policy.
    Judge,
    /// Log-probabilities, perplexities and entropies from the policy or reference.
    Probe,
    /// Auxiliary rollout branches.
    Rollout,
    /// Element-wise maths on one scope.
    Map,
    /// Several inputs of one scope combined into one.
    Combine,
    /// Reductions to a coarser scope, optionally over a `where` partition.
    Reduce,
    /// Group normalisers: z-score, centre, min-max, rank; ReNorm.
    Normalize,
    /// Each response compared with its group or a reference set.
    Relate,
    /// Gates: conditions that select or zero other rewards.
    Gate,
    /// Functions of the training step.
    Schedule,
    /// Statistics kept across steps and checkpointed.
    RunningStat,
    /// Random or rule-based group conditions used by `halt`/`drop` filters.
    Filter,
    /// Moving values between response, segment and token scope.
    Place,
    /// Sequential scans along segments or tokens.
    Scan,
    /// Advantage estimators.
    Advantage,
    /// Advantage weights and token masks.
    Weight,
}

impl Family {
    /// The family's name in the book and in `rlr explain`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Verify => "verifier",
            Family::Judge => "judge",
            Family::Probe => "probe",
            Family::Rollout => "rollout",
            Family::Map => "map",
            Family::Combine => "combinator",
            Family::Reduce => "reduction",
            Family::Normalize => "normaliser",
            Family::Relate => "relation",
            Family::Gate => "gate",
            Family::Schedule => "schedule",
            Family::RunningStat => "running statistic",
            Family::Filter => "filter",
            Family::Place => "placement",
            Family::Scan => "scan",
            Family::Advantage => "advantage estimator",
            Family::Weight => "weight",
        }
    }
}

/// The type a parameter accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamType {
    /// A graph signal of one of `kinds`, at one of `scopes` (after broadcasting).
    Signal {
        /// Accepted kinds.
        kinds: &'static [Kind],
        /// Accepted scopes.
        scopes: &'static [Scope],
    },
    /// A real constant known before the run (a literal, a setting, or arithmetic on them).
    Real,
    /// An integer constant.
    Int,
    /// A boolean constant.
    Bool,
    /// A string constant.
    Str,
    /// One of the listed strings (written as a string or a bare name).
    Choice(&'static [&'static str]),
    /// A list of string constants.
    StrList,
    /// A list of real constants.
    RealList,
    /// A `(real, real)` pair such as `(0.2, 0.28)`, or one real meaning both.
    RealPair,
    /// `start -> end`.
    Range,
    /// A list of `(step, value)` tuples.
    Points,
    /// A declared model.
    Model,
    /// A declared task.
    Task,
    /// A list of declared tools.
    Tools,
    /// A declared branch (`branch probe = ...`).
    Branch,
    /// The whole `sample` record of the current prompt.
    Sample,
}

/// A default value, as recorded in the registry and printed by `rlr explain`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DefaultValue {
    /// A real.
    Real(f64),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A string or choice.
    Str(&'static str),
    /// The value of a stage setting or context name, e.g. `steps`.
    Ref(&'static str),
    /// A pair of reals.
    Pair(f64, f64),
    /// An empty list.
    EmptyList,
}

/// An allowed interval for a numeric constant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NumRange {
    /// Lower bound.
    pub min: Option<f64>,
    /// Upper bound.
    pub max: Option<f64>,
    /// Whether the lower bound itself is allowed.
    pub min_inclusive: bool,
    /// Whether the upper bound itself is allowed.
    pub max_inclusive: bool,
}

impl NumRange {
    /// `[min, max]`.
    pub const fn closed(min: f64, max: f64) -> NumRange {
        NumRange {
            min: Some(min),
            max: Some(max),
            min_inclusive: true,
            max_inclusive: true,
        }
    }
    /// `>= min`.
    pub const fn at_least(min: f64) -> NumRange {
        NumRange {
            min: Some(min),
            max: None,
            min_inclusive: true,
            max_inclusive: true,
        }
    }
    /// `> min`.
    pub const fn above(min: f64) -> NumRange {
        NumRange {
            min: Some(min),
            max: None,
            min_inclusive: false,
            max_inclusive: true,
        }
    }

    /// Whether `x` lies in the interval.
    pub fn contains(&self, x: f64) -> bool {
        let lo = match self.min {
            None => true,
            Some(m) if self.min_inclusive => x >= m,
            Some(m) => x > m,
        };
        let hi = match self.max {
            None => true,
            Some(m) if self.max_inclusive => x <= m,
            Some(m) => x < m,
        };
        lo && hi && !x.is_nan()
    }
}

impl std::fmt::Display for NumRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.min, self.max) {
            (Some(a), Some(b)) => write!(
                f,
                "{}{}, {}{}",
                if self.min_inclusive { "[" } else { "(" },
                a,
                b,
                if self.max_inclusive { "]" } else { ")" }
            ),
            (Some(a), None) => write!(f, "{} {}", if self.min_inclusive { ">=" } else { ">" }, a),
            (None, Some(b)) => write!(f, "{} {}", if self.max_inclusive { "<=" } else { "<" }, b),
            (None, None) => f.write_str("any"),
        }
    }
}

/// One parameter of a built-in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamSpec {
    /// Its name, usable as a named argument.
    pub name: &'static str,
    /// What it accepts.
    pub ty: ParamType,
    /// Its default; `None` means the argument is required.
    pub default: Option<DefaultValue>,
    /// Allowed values for numeric constants.
    pub range: Option<NumRange>,
    /// One line on what it does.
    pub doc: &'static str,
}

/// How a built-in's output scope follows from its inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScopeRule {
    /// Always this scope.
    Fixed(Scope),
    /// The finest scope among its signal arguments (element-wise operations).
    Inputs,
    /// One step coarser than its first argument (`Scope::reduced`), or the scope
    /// named by its `over` argument.
    Reduce,
    /// The scope named by its `at` argument (placement), defaulting to token.
    Place,
}

/// How a built-in's output kind follows from its inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KindRule {
    /// Always this kind.
    Fixed(Kind),
    /// The kind of its first argument.
    First,
}

/// A built-in's output type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Output {
    /// How the scope is found.
    pub scope: ScopeRule,
    /// How the kind is found.
    pub kind: KindRule,
    /// The interval values lie in, when known (used to check gates and filters).
    pub range: Option<NumRange>,
}

/// One field of a task's `sample` record (`sample.answer`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleField {
    /// Field name.
    pub name: &'static str,
    /// Its type (usually group scope: one per prompt).
    pub ty: ValueType,
    /// What it holds.
    pub doc: &'static str,
}

/// A built-in: everything the checker, `rlr explain` and the runtime agree on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Builtin {
    /// The name recipes call, e.g. `mean`, `judge.steps`, `grpo`.
    pub name: &'static str,
    /// What it is.
    pub category: Category,
    /// Its parameters, positional order.
    pub params: &'static [ParamSpec],
    /// Whether extra positional signal arguments of the last parameter's type are accepted
    /// (`max(a, b, c)`).
    pub variadic: bool,
    /// Its output (meaningless for models, tasks, tools and stages).
    pub output: Output,
    /// Whether its first argument accepts a `where` partition (`mean(x where correct)`).
    pub partition: bool,
    /// Whether calling it is expensive enough that `when` should guard it (judges, probes).
    pub expensive: bool,
    /// For tasks: the fields of `sample`.
    pub sample_fields: &'static [SampleField],
    /// One paragraph: what it computes, with the formula.
    pub doc: &'static str,
    /// Where it comes from, with the evidence tag of methods.md: `[CODE]`, `[PAPER]`, `[2ND]`, `[INFER]`.
    pub source: &'static str,
}

impl Builtin {
    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// Every built-in, sorted by name.
pub fn all() -> Vec<&'static Builtin> {
    let mut v: Vec<&'static Builtin> = nodes::ALL
        .iter()
        .flat_map(|group| group.iter())
        .chain(models::ALL.iter())
        .chain(tasks::ALL.iter())
        .chain(stages::ALL.iter())
        .collect();
    v.sort_by_key(|b| b.name);
    v
}

/// The built-in called `name`.
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    nodes::ALL
        .iter()
        .flat_map(|group| group.iter())
        .chain(models::ALL.iter())
        .chain(tasks::ALL.iter())
        .chain(stages::ALL.iter())
        .find(|b| b.name == name)
}

/// The names of every built-in of a category, for "did you mean".
pub fn names_in(pred: impl Fn(Category) -> bool) -> Vec<&'static str> {
    all()
        .into_iter()
        .filter(|b| pred(b.category))
        .map(|b| b.name)
        .collect()
}

/// A name every reward expression can read without declaring it (`text`, `step`, `sample`, ...).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ContextName {
    /// The name.
    pub name: &'static str,
    /// Its type; `None` for `sample`, the record of the prompt's task fields.
    pub ty: Option<ValueType>,
    /// What it holds.
    pub doc: &'static str,
}
