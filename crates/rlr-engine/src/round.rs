//! One generation round of an RL step, and how DAPO's dynamic sampling
//! merges rounds: a round's groups that a `drop when` filter removed are
//! left out, further rounds of fresh prompts refill the batch (up to
//! `max_rounds`), and the batch is cut to the stage's `prompts` groups, as
//! verl's DAPO trainer does with `max_num_gen_batches`.
//!
//! Everything a round holds is laid out group-major (group 0's rollouts,
//! then group 1's, per set; training rows likewise, see [`crate::branch`]),
//! so keeping or appending groups is slicing.

use rlr_reward::{Batch, SetId};

use crate::pack::Sequence;
use crate::sample::Generated;

/// One set's rollouts in a round: its prompt ids and responses, `per_group` per group.
#[derive(Clone, Debug, PartialEq)]
pub struct SetRollouts {
    /// The main rollouts or a branch.
    pub set: SetId,
    /// Rollouts of this set per group.
    pub per_group: usize,
    /// Prompt ids of each rollout.
    pub prompts: Vec<Vec<u32>>,
    /// The responses.
    pub gens: Vec<Generated>,
}

/// What one round sampled and what training needs of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    /// The runtime's view: one group per prompt.
    pub batch: Batch,
    /// The main rollouts first, then each branch.
    pub sets: Vec<SetRollouts>,
    /// Training rows (prompt + response ids), `rows_per_group` per group.
    pub seqs: Vec<Sequence>,
    /// The reference's log-probs of each row's response tokens, when kept.
    pub reference_lp: Option<Vec<Vec<f32>>>,
    /// Training rows per group (all sets).
    pub rows_per_group: usize,
}

impl Round {
    /// Groups (prompts) in the round.
    pub fn groups(&self) -> usize {
        self.batch.groups.len()
    }

    /// The main rollouts.
    pub fn main(&self) -> &[Generated] {
        self.sets
            .iter()
            .find(|s| s.set == SetId::Main)
            .map_or(&[], |s| s.gens.as_slice())
    }

    /// Tokens sampled in the round, over every set.
    pub fn sampled_tokens(&self) -> usize {
        self.sets
            .iter()
            .flat_map(|s| &s.gens)
            .map(|g| g.tokens.len())
            .sum()
    }

    /// The round with only the groups where `keep` is true.
    pub fn keep(self, keep: &[bool]) -> Round {
        let chosen = |g: usize| keep.get(g).copied().unwrap_or(false);
        let rows = self.rows_per_group;
        Round {
            batch: Batch {
                groups: pick_groups(self.batch.groups, 1, &chosen),
                ..self.batch
            },
            sets: self
                .sets
                .into_iter()
                .map(|s| SetRollouts {
                    prompts: pick_groups(s.prompts, s.per_group, &chosen),
                    gens: pick_groups(s.gens, s.per_group, &chosen),
                    ..s
                })
                .collect(),
            seqs: pick_groups(self.seqs, rows, &chosen),
            reference_lp: self.reference_lp.map(|r| pick_groups(r, rows, &chosen)),
            rows_per_group: rows,
        }
    }

    /// Appends `other`'s groups (a later round of the same step).
    pub fn extend(&mut self, other: Round) {
        self.batch.groups.extend(other.batch.groups);
        for (mine, theirs) in self.sets.iter_mut().zip(other.sets) {
            mine.prompts.extend(theirs.prompts);
            mine.gens.extend(theirs.gens);
        }
        self.seqs.extend(other.seqs);
        if let (Some(mine), Some(theirs)) = (&mut self.reference_lp, other.reference_lp) {
            mine.extend(theirs);
        }
    }

    /// Keeps the first `groups` groups.
    pub fn truncate(self, groups: usize) -> Round {
        let keep: Vec<bool> = (0..self.groups()).map(|g| g < groups).collect();
        self.keep(&keep)
    }
}

/// The items of the groups `chosen` picks, `per` items per group in order.
fn pick_groups<T>(items: Vec<T>, per: usize, chosen: &dyn Fn(usize) -> bool) -> Vec<T> {
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| chosen(i / per.max(1)))
        .map(|(_, x)| x)
        .collect()
}

#[cfg(test)]
mod tests {
    use rlr_reward::{Group, Rollout};

    use super::*;

    /// A round of `groups` groups with 2 main rollouts and 1 probe rollout
    /// each, every item tagged with its group.
    fn round(groups: usize, tag: u32) -> Round {
        let gen_of = |g: usize| Generated {
            text: format!("{tag}:{g}"),
            ..Generated::default()
        };
        let set = |set: SetId, per: usize| SetRollouts {
            set,
            per_group: per,
            prompts: (0..groups * per)
                .map(|i| vec![tag, (i / per) as u32])
                .collect(),
            gens: (0..groups * per).map(|i| gen_of(i / per)).collect(),
        };
        Round {
            batch: Batch {
                step: 1,
                steps: 1,
                groups: (0..groups)
                    .map(|g| Group {
                        rollouts: vec![Rollout::from_text(&format!("{tag}:{g}")); 2],
                        ..Group::default()
                    })
                    .collect(),
            },
            sets: vec![set(SetId::Main, 2), set(SetId::Branch("probe".into()), 1)],
            seqs: (0..groups * 3)
                .map(|i| Sequence {
                    prompt: vec![tag, (i / 3) as u32],
                    response: vec![],
                })
                .collect(),
            reference_lp: Some((0..groups * 3).map(|i| vec![(i / 3) as f32]).collect()),
            rows_per_group: 3,
        }
    }

    /// The group tags of every item of a round, per field, to compare.
    fn tags(r: &Round) -> Vec<Vec<String>> {
        let mut out = vec![
            r.batch
                .groups
                .iter()
                .map(|g| g.rollouts[0].text.clone())
                .collect(),
        ];
        for s in &r.sets {
            out.push(s.gens.iter().map(|g| g.text.clone()).collect());
            out.push(
                s.prompts
                    .iter()
                    .map(|p| format!("{}:{}", p[0], p[1]))
                    .collect(),
            );
        }
        out.push(
            r.seqs
                .iter()
                .map(|q| format!("{}:{}", q.prompt[0], q.prompt[1]))
                .collect(),
        );
        out
    }

    #[test]
    fn dropped_groups_leave_every_field_and_later_rounds_refill_in_order() {
        let mut kept = round(3, 1).keep(&[true, false, true]);
        assert_eq!(kept.groups(), 2);
        kept.extend(round(2, 2).keep(&[false, true]));
        let merged = kept.truncate(2);
        let t = tags(&merged);
        assert_eq!(t[0], vec!["1:0", "1:2"]);
        // Main: two per group; probe: one; rows: three.
        assert_eq!(t[1], vec!["1:0", "1:0", "1:2", "1:2"]);
        assert_eq!(t[3], vec!["1:0", "1:2"]);
        assert_eq!(t[5].len(), 6);
        assert_eq!(
            merged.reference_lp.as_ref().map(|r| r.len()),
            Some(6),
            "reference rows follow the training rows"
        );
        let mut all = round(3, 1).keep(&[true, false, true]);
        all.extend(round(2, 2).keep(&[false, true]));
        assert_eq!(all.groups(), 3);
        assert_eq!(tags(&all)[0], vec!["1:0", "1:2", "2:1"]);
        assert_eq!(tags(&all)[5][6..], ["2:1", "2:1", "2:1"]);
        assert_eq!(all.main().len(), 6);
        assert_eq!(all.truncate(1).groups(), 1);
    }
}
