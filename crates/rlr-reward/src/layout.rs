//! How the values of one set of rollouts line up: groups, responses, tokens
//! and segments, as offsets into flat arrays.
//!
//! The main rollouts and each auxiliary branch are separate sets with the
//! same groups (one per prompt) but their own responses and tokens.

use std::sync::Arc;

/// Which rollouts a value belongs to: the main rollouts or a branch.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum SetId {
    /// The stage's main rollouts.
    #[default]
    Main,
    /// An auxiliary branch (`branch probe = rollout(...)`).
    Branch(String),
}

impl std::fmt::Display for SetId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetId::Main => f.write_str("main"),
            SetId::Branch(b) => f.write_str(b),
        }
    }
}

/// The shape of one set of rollouts. Responses of a group are contiguous.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    /// Number of groups (prompts).
    pub groups: usize,
    /// `group_start[g]..group_start[g + 1]` are group `g`'s responses; length `groups + 1`.
    pub group_start: Vec<usize>,
    /// The group of each response.
    pub group_of: Vec<usize>,
    /// `token_start[r]..token_start[r + 1]` are response `r`'s generated tokens; length `responses + 1`.
    pub token_start: Vec<usize>,
}

impl Layout {
    /// A layout from the number of responses per group and tokens per response.
    pub fn new(responses_per_group: &[usize], tokens_per_response: &[usize]) -> Layout {
        let mut group_start = vec![0];
        let mut group_of = Vec::new();
        for (g, n) in responses_per_group.iter().enumerate() {
            group_of.extend(std::iter::repeat_n(g, *n));
            group_start.push(group_start[g] + n);
        }
        let mut token_start = vec![0];
        for (r, n) in tokens_per_response.iter().enumerate() {
            token_start.push(token_start[r] + n);
        }
        Layout {
            groups: responses_per_group.len(),
            group_start,
            group_of,
            token_start,
        }
    }

    /// Number of responses.
    pub fn responses(&self) -> usize {
        self.group_of.len()
    }

    /// Number of generated tokens over all responses.
    pub fn tokens(&self) -> usize {
        self.token_start.last().copied().unwrap_or(0)
    }

    /// The responses of group `g`.
    pub fn group(&self, g: usize) -> std::ops::Range<usize> {
        self.group_start[g]..self.group_start[g + 1]
    }

    /// The tokens of response `r`.
    pub fn response_tokens(&self, r: usize) -> std::ops::Range<usize> {
        self.token_start[r]..self.token_start[r + 1]
    }

    /// The response each token belongs to.
    pub fn response_of_tokens(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.tokens());
        for r in 0..self.responses() {
            out.extend(std::iter::repeat_n(
                r,
                self.token_start[r + 1] - self.token_start[r],
            ));
        }
        out
    }
}

/// How responses are cut into segments (steps, turns, atomic thoughts).
///
/// Different segmenters (`segments(text, tags)`, `steps_of(think)`) make
/// different segmentations; values of two segmentations do not line up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Segmentation {
    /// `seg_start[r]..seg_start[r + 1]` are response `r`'s segments; length `responses + 1`.
    pub seg_start: Vec<usize>,
    /// For each segment, the index (within its response) of the token that ends it.
    pub end_token: Vec<usize>,
    /// A name for messages: the node that made it.
    pub origin: String,
}

impl Segmentation {
    /// Number of segments over all responses.
    pub fn len(&self) -> usize {
        self.seg_start.last().copied().unwrap_or(0)
    }

    /// Whether there are no segments at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The segments of response `r`.
    pub fn of(&self, r: usize) -> std::ops::Range<usize> {
        self.seg_start[r]..self.seg_start[r + 1]
    }

    /// The response each segment belongs to.
    pub fn response_of(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.len());
        for r in 0..self.seg_start.len().saturating_sub(1) {
            out.extend(std::iter::repeat_n(
                r,
                self.seg_start[r + 1] - self.seg_start[r],
            ));
        }
        out
    }
}

/// A shared segmentation.
pub type Segs = Arc<Segmentation>;
