//! Values of the reward graph: one column of numbers, flags, texts, labels
//! or vectors, with the scope (and, below group scope, the rollouts and
//! segmentation) it is laid out by.

use rlr_lang::{Kind, Scope};

use crate::layout::{Layout, Segs, SetId};

/// The data of a value, one entry per step/batch (1), group, response, segment or token.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// Numbers.
    Real(Vec<f64>),
    /// Flags.
    Bool(Vec<bool>),
    /// Texts.
    Text(Vec<String>),
    /// Extracted answers; `None` where nothing could be extracted.
    Label(Vec<Option<String>>),
    /// Embeddings or per-prompt reference sets.
    Vector(Vec<Vec<f64>>),
}

impl Data {
    /// Number of entries.
    pub fn len(&self) -> usize {
        match self {
            Data::Real(v) => v.len(),
            Data::Bool(v) => v.len(),
            Data::Text(v) => v.len(),
            Data::Label(v) => v.len(),
            Data::Vector(v) => v.len(),
        }
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The kind of the entries.
    pub fn kind(&self) -> Kind {
        match self {
            Data::Real(_) => Kind::Real,
            Data::Bool(_) => Kind::Bool,
            Data::Text(_) => Kind::Text,
            Data::Label(_) => Kind::Label,
            Data::Vector(_) => Kind::Vector,
        }
    }

    /// The entries picked by `index` (entry `index[i]` becomes entry `i`).
    pub fn gather(&self, index: &[usize]) -> Data {
        match self {
            Data::Real(v) => Data::Real(index.iter().map(|i| v[*i]).collect()),
            Data::Bool(v) => Data::Bool(index.iter().map(|i| v[*i]).collect()),
            Data::Text(v) => Data::Text(index.iter().map(|i| v[*i].clone()).collect()),
            Data::Label(v) => Data::Label(index.iter().map(|i| v[*i].clone()).collect()),
            Data::Vector(v) => Data::Vector(index.iter().map(|i| v[*i].clone()).collect()),
        }
    }

    /// `n` copies of entry 0.
    pub fn repeat(&self, n: usize) -> Data {
        self.gather(&vec![0; n])
    }
}

/// A value of the graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// How many entries, and what they are per.
    pub scope: Scope,
    /// Whose rollouts, for response scope and finer.
    pub set: SetId,
    /// The segmentation, for segment scope.
    pub segs: Option<Segs>,
    /// The entries.
    pub data: Data,
}

impl Value {
    /// A step-scope value of one entry.
    pub fn scalar(data: Data) -> Value {
        Value {
            scope: Scope::Step,
            set: SetId::Main,
            segs: None,
            data,
        }
    }

    /// A real step-scope value.
    pub fn real(x: f64) -> Value {
        Value::scalar(Data::Real(vec![x]))
    }

    /// A value of `scope` for the rollouts `set`.
    pub fn new(scope: Scope, set: SetId, data: Data) -> Value {
        Value {
            scope,
            set,
            segs: None,
            data,
        }
    }

    /// The numbers, bools as 0/1. `None` for text, labels and vectors.
    pub fn reals(&self) -> Option<std::borrow::Cow<'_, [f64]>> {
        match &self.data {
            Data::Real(v) => Some(std::borrow::Cow::Borrowed(v)),
            Data::Bool(v) => Some(std::borrow::Cow::Owned(
                v.iter().map(|b| f64::from(u8::from(*b))).collect(),
            )),
            _ => None,
        }
    }

    /// The flags. `None` unless the value is bool.
    pub fn bools(&self) -> Option<&[bool]> {
        match &self.data {
            Data::Bool(v) => Some(v),
            _ => None,
        }
    }

    /// Texts: text as it is, labels with missing ones as empty strings.
    pub fn texts(&self) -> Option<Vec<&str>> {
        match &self.data {
            Data::Text(v) => Some(v.iter().map(String::as_str).collect()),
            Data::Label(v) => Some(v.iter().map(|l| l.as_deref().unwrap_or("")).collect()),
            _ => None,
        }
    }
}

/// Index maps from one scope to a finer one, for broadcasting.
pub fn broadcast_index(
    from: Scope,
    to: Scope,
    layout: &Layout,
    segs: Option<&Segs>,
) -> Option<Vec<usize>> {
    use Scope::*;
    if from == to {
        return None;
    }
    // Entries of the target scope, each mapped to its response (or group).
    let per_response_group = || layout.group_of.clone();
    Some(match (from, to) {
        (Step | Batch, Group) => vec![0; layout.groups],
        (Step | Batch, Response) => vec![0; layout.responses()],
        (Step | Batch, Segment) => vec![0; segs.map_or(0, |s| s.len())],
        (Step | Batch, Token) => vec![0; layout.tokens()],
        (Step, Batch) => vec![0],
        (Group, Response) => per_response_group(),
        (Group, Segment) => {
            let s = segs?;
            s.response_of()
                .into_iter()
                .map(|r| layout.group_of[r])
                .collect()
        }
        (Group, Token) => layout
            .response_of_tokens()
            .into_iter()
            .map(|r| layout.group_of[r])
            .collect(),
        (Response, Segment) => segs?.response_of(),
        (Response, Token) => layout.response_of_tokens(),
        _ => return None,
    })
}

/// Spreads a value to a finer scope (`from` broadcasts to `to`).
pub fn broadcast(v: &Value, to: Scope, set: &SetId, layout: &Layout, segs: Option<&Segs>) -> Value {
    if v.scope == to {
        return v.clone();
    }
    // Group to response, the most common case: fill each group's run directly.
    if let (Scope::Group, Scope::Response, Data::Real(xs)) = (v.scope, to, &v.data)
        && xs.len() == layout.groups
    {
        let mut out = Vec::with_capacity(layout.responses());
        for (g, x) in xs.iter().enumerate() {
            out.extend(std::iter::repeat_n(*x, layout.group(g).len()));
        }
        return Value {
            scope: to,
            set: set.clone(),
            segs: None,
            data: Data::Real(out),
        };
    }
    match broadcast_index(v.scope, to, layout, segs) {
        Some(index) => Value {
            scope: to,
            set: if to >= Scope::Response {
                set.clone()
            } else {
                SetId::Main
            },
            segs: if to == Scope::Segment {
                segs.cloned()
            } else {
                None
            },
            data: if v.data.len() == 1 && v.scope <= Scope::Batch {
                v.data.repeat(index.len())
            } else {
                v.data.gather(&index)
            },
        },
        None => v.clone(),
    }
}
