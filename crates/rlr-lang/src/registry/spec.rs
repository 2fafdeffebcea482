//! Short constructors for the registry tables.
//!
//! The tables in `context`, `nodes`, `models`, `tasks` and `stages` are
//! `const`/`static` data; these `const fn`s keep each entry to a few lines.

use super::{
    Builtin, Category, DefaultValue, Family, KindRule, NumRange, Output, ParamSpec, ParamType,
    ScopeRule,
};
use crate::types::{Kind, Scope};

// ---- numeric ranges ------------------------------------------------------------------------

/// `[0, 1]`: probabilities, quantiles, verifier scores.
pub(super) const UNIT: NumRange = NumRange::closed(0.0, 1.0);
/// `[-1, 1]`: cosine similarities, ReNorm.
pub(super) const SIGNED_UNIT: NumRange = NumRange::closed(-1.0, 1.0);
/// `> 0`.
pub(super) const POSITIVE: NumRange = NumRange::above(0.0);
/// `>= 0`.
pub(super) const NON_NEGATIVE: NumRange = NumRange::at_least(0.0);
/// `>= 1`: counts of steps, rollouts, layers.
pub(super) const AT_LEAST_ONE: NumRange = NumRange::at_least(1.0);
/// `<= 0`: penalties and log-probabilities.
pub(super) const NON_POSITIVE: NumRange = NumRange {
    min: None,
    max: Some(0.0),
    min_inclusive: true,
    max_inclusive: true,
};
/// `(0, 1)`: open unit interval (sigmoid outputs).
pub(super) const OPEN_UNIT: NumRange = NumRange {
    min: Some(0.0),
    max: Some(1.0),
    min_inclusive: false,
    max_inclusive: false,
};
/// `(0, 1]`: nucleus sampling mass.
pub(super) const HALF_OPEN_UNIT: NumRange = NumRange {
    min: Some(0.0),
    max: Some(1.0),
    min_inclusive: false,
    max_inclusive: true,
};

// ---- signal kinds --------------------------------------------------------------------------

/// Numbers: reals, and bools counting as 0/1.
pub(super) const REAL: &[Kind] = &[Kind::Real, Kind::Bool];
/// Conditions.
pub(super) const BOOL: &[Kind] = &[Kind::Bool];
/// Text.
pub(super) const TEXT: &[Kind] = &[Kind::Text];
/// Extracted answers (text converts to label).
pub(super) const LABEL: &[Kind] = &[Kind::Label, Kind::Text];
/// Anything a number can be read from: labels and text are parsed, reals taken as they are.
pub(super) const NUMERIC_LABEL: &[Kind] = &[Kind::Label, Kind::Text, Kind::Real];
/// Embeddings.
pub(super) const VECTOR: &[Kind] = &[Kind::Vector];
/// Partition keys: a bool splits in two, a label into one part per distinct value.
pub(super) const PARTITION: &[Kind] = &[Kind::Bool, Kind::Label];
/// Reference sets: a per-prompt vector of values, or a real signal of another branch.
pub(super) const REFERENCE: &[Kind] = &[Kind::Vector, Kind::Real];
/// Values a vote can be taken over.
pub(super) const VOTABLE: &[Kind] = &[Kind::Label, Kind::Text, Kind::Bool, Kind::Real];

// ---- signal scopes (after broadcasting) ----------------------------------------------------

/// Any scope.
pub(super) const ANY: &[Scope] = &Scope::ALL;
/// Per prompt.
pub(super) const GROUP: &[Scope] = &[Scope::Group];
/// Per rollout.
pub(super) const RESPONSE: &[Scope] = &[Scope::Response];
/// Per rollout or per segment of a rollout: where text lives.
pub(super) const TEXTUAL: &[Scope] = &[Scope::Response, Scope::Segment];
/// Per segment.
pub(super) const SEGMENT: &[Scope] = &[Scope::Segment];
/// Per token.
pub(super) const TOKEN: &[Scope] = &[Scope::Token];
/// Sequences inside a response: segments or tokens.
pub(super) const SEQUENCE: &[Scope] = &[Scope::Segment, Scope::Token];
/// Rewards an advantage estimator reads: one per response, or placed on tokens.
pub(super) const REWARD: &[Scope] = &[Scope::Response, Scope::Token];
/// Anything finer than a group.
pub(super) const MEMBERS: &[Scope] = &[Scope::Response, Scope::Segment, Scope::Token];

// ---- parameters ----------------------------------------------------------------------------

/// A required signal parameter.
pub(super) const fn signal(
    name: &'static str,
    kinds: &'static [Kind],
    scopes: &'static [Scope],
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        ty: ParamType::Signal { kinds, scopes },
        default: None,
        range: None,
        doc,
    }
}

/// A signal parameter with a constant default.
pub(super) const fn signal_or(
    name: &'static str,
    kinds: &'static [Kind],
    scopes: &'static [Scope],
    default: DefaultValue,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        ty: ParamType::Signal { kinds, scopes },
        default: Some(default),
        range: None,
        doc,
    }
}

/// A required parameter of any type.
pub(super) const fn required(
    name: &'static str,
    ty: ParamType,
    range: Option<NumRange>,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        default: None,
        range,
        doc,
    }
}

/// An optional parameter of any type.
pub(super) const fn optional(
    name: &'static str,
    ty: ParamType,
    default: DefaultValue,
    range: Option<NumRange>,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        default: Some(default),
        range,
        doc,
    }
}

/// A real constant with a default.
pub(super) const fn real(
    name: &'static str,
    default: f64,
    range: Option<NumRange>,
    doc: &'static str,
) -> ParamSpec {
    optional(
        name,
        ParamType::Real,
        DefaultValue::Real(default),
        range,
        doc,
    )
}

/// An integer constant with a default.
pub(super) const fn int(
    name: &'static str,
    default: i64,
    range: Option<NumRange>,
    doc: &'static str,
) -> ParamSpec {
    optional(name, ParamType::Int, DefaultValue::Int(default), range, doc)
}

/// A boolean constant with a default.
pub(super) const fn flag(name: &'static str, default: bool, doc: &'static str) -> ParamSpec {
    optional(
        name,
        ParamType::Bool,
        DefaultValue::Bool(default),
        None,
        doc,
    )
}

/// A string constant with a default.
pub(super) const fn string(
    name: &'static str,
    default: &'static str,
    doc: &'static str,
) -> ParamSpec {
    optional(name, ParamType::Str, DefaultValue::Str(default), None, doc)
}

/// One of `choices`, defaulting to `default`.
pub(super) const fn choice(
    name: &'static str,
    choices: &'static [&'static str],
    default: &'static str,
    doc: &'static str,
) -> ParamSpec {
    optional(
        name,
        ParamType::Choice(choices),
        DefaultValue::Str(default),
        None,
        doc,
    )
}

/// A string list defaulting to the empty list.
pub(super) const fn strings(name: &'static str, doc: &'static str) -> ParamSpec {
    optional(name, ParamType::StrList, DefaultValue::EmptyList, None, doc)
}

/// The error policy every judge takes.
pub(super) const ON_ERROR: ParamSpec = choice(
    "on_error",
    &["fail", "default", "skip"],
    "fail",
    "what a failed or unparsable judgement does: stop the run (`fail`), take `default` \
     (`default`), or drop the rollout from the step's loss (`skip`)",
);

/// The value a judge takes where it is not called (`when`) or failed with `on_error = "default"`.
pub(super) const JUDGE_DEFAULT: ParamSpec = real(
    "default",
    0.0,
    None,
    "the value where the judge is not called or failed under `on_error = \"default\"`",
);

// ---- outputs -------------------------------------------------------------------------------

/// An output type.
pub(super) const fn out(scope: ScopeRule, kind: KindRule, range: Option<NumRange>) -> Output {
    Output { scope, kind, range }
}

/// A real at the scope of the inputs (element-wise operations).
pub(super) const fn same_real(range: Option<NumRange>) -> Output {
    out(ScopeRule::Inputs, KindRule::Fixed(Kind::Real), range)
}

/// A bool at the scope of the inputs.
pub(super) const SAME_BOOL: Output = out(ScopeRule::Inputs, KindRule::Fixed(Kind::Bool), None);

/// A fixed scope and kind.
pub(super) const fn fixed(scope: Scope, kind: Kind, range: Option<NumRange>) -> Output {
    out(ScopeRule::Fixed(scope), KindRule::Fixed(kind), range)
}

/// The placeholder output of models, tasks, tools and stages (ignored by the checker).
pub(super) const NO_OUTPUT: Output = fixed(Scope::Step, Kind::Real, None);

// ---- built-ins -----------------------------------------------------------------------------

/// A reward-graph node; set `variadic`, `partition`, `expensive` with struct update syntax.
pub(super) const fn node(
    name: &'static str,
    family: Family,
    params: &'static [ParamSpec],
    output: Output,
    doc: &'static str,
    source: &'static str,
) -> Builtin {
    Builtin {
        name,
        category: Category::Node(family),
        params,
        variadic: false,
        output,
        partition: false,
        expensive: false,
        sample_fields: &[],
        doc,
        source,
    }
}

/// A model, task, tool or stage constructor.
pub(super) const fn item(
    name: &'static str,
    category: Category,
    params: &'static [ParamSpec],
    doc: &'static str,
    source: &'static str,
) -> Builtin {
    Builtin {
        name,
        category,
        params,
        variadic: false,
        output: NO_OUTPUT,
        partition: false,
        expensive: false,
        sample_fields: &[],
        doc,
        source,
    }
}
