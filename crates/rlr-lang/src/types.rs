//! Scopes and kinds: the type of every value in a reward graph.

use std::fmt;

/// How many values a signal has: one per step, batch, group, response, segment or token.
///
/// Ordered from coarsest to finest. Coarse values broadcast down implicitly
/// (a step-scope schedule multiplies a response reward); going up needs a named
/// reduction (`mean`, `max`, ...). Response and segment values reach tokens only
/// through `place`, because "at the last token" and "at every token" differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// One value per training step (schedules, constants).
    Step,
    /// One value for the step's whole batch.
    Batch,
    /// One value per prompt (its group of rollouts).
    Group,
    /// One value per rollout.
    Response,
    /// One value per segment of a rollout (step, turn, atomic thought, tool call).
    Segment,
    /// One value per generated token.
    Token,
}

impl Scope {
    /// Every scope, coarsest first.
    pub const ALL: [Scope; 6] = [
        Scope::Step,
        Scope::Batch,
        Scope::Group,
        Scope::Response,
        Scope::Segment,
        Scope::Token,
    ];

    /// The name used in recipes and messages.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Step => "step",
            Scope::Batch => "batch",
            Scope::Group => "group",
            Scope::Response => "response",
            Scope::Segment => "segment",
            Scope::Token => "token",
        }
    }

    /// Parses a scope name.
    pub fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether a value of scope `self` may be used where `target` is expected without a reduction.
    pub fn broadcasts_to(self, target: Scope) -> bool {
        if self == target {
            return true;
        }
        match target {
            // Per-token values need an explicit placement of response and segment values.
            Scope::Token => self <= Scope::Group,
            _ => self < target,
        }
    }

    /// The scope a plain reduction (`mean(x)`) of this scope produces.
    pub fn reduced(self) -> Option<Scope> {
        match self {
            Scope::Token | Scope::Segment => Some(Scope::Response),
            Scope::Response => Some(Scope::Group),
            Scope::Group => Some(Scope::Batch),
            Scope::Batch | Scope::Step => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a single value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A real number.
    Real,
    /// True or false; counts as 0 or 1 in arithmetic.
    Bool,
    /// A piece of text.
    Text,
    /// An extracted answer, compared by a verifier's equality (`mode`, `==`).
    Label,
    /// An embedding vector.
    Vector,
}

impl Kind {
    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Real => "real",
            Kind::Bool => "bool",
            Kind::Text => "text",
            Kind::Label => "label",
            Kind::Vector => "vector",
        }
    }

    /// Whether a value of this kind can be used where `target` is expected.
    /// Bools count as 0/1 reals; labels and text compare as text.
    pub fn converts_to(self, target: Kind) -> bool {
        self == target
            || matches!(
                (self, target),
                (Kind::Bool, Kind::Real) | (Kind::Text, Kind::Label)
            )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The type of a graph signal: one value of `kind` per `scope`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueType {
    /// How many values.
    pub scope: Scope,
    /// What each value is.
    pub kind: Kind,
}

impl ValueType {
    /// A `scope kind` type.
    pub const fn new(scope: Scope, kind: Kind) -> ValueType {
        ValueType { scope, kind }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.scope, self.kind)
    }
}
