//! Auxiliary rollout branches (`branch probe = rollout(sample.checklist_prompt, n = 5)`):
//! their sampling settings, and the order in which a step's rollouts of
//! every set (main and branches) are laid out for training.
//!
//! Training rows are ordered by prompt: group 0's main rollouts, then its
//! branch rollouts (branches in declaration order), then group 1's, so a
//! minibatch of k prompts holds everything those prompts produced.

use rlr_lang::ir::{BranchDef, Const, Stage};
use rlr_reward::SetId;

use crate::sample::Sampling;

/// How one branch samples.
#[derive(Clone, Debug)]
pub struct BranchPlan {
    /// The branch's name (`probe`).
    pub name: String,
    /// Rollouts per prompt.
    pub n: usize,
    /// Its sampling settings (the stage's unless the branch sets them).
    pub sampling: Sampling,
    /// Sample from the frozen reference rather than the policy.
    pub from_reference: bool,
    /// A fixed table per prompt (PAR's reference responses): sampled the
    /// first time a prompt is seen, with a generator seeded by the run's
    /// seed, the branch and the prompt, then reused. A pure function of the
    /// prompt, so a resumed run rebuilds the same table without saving it.
    pub once: bool,
}

impl BranchPlan {
    /// The plan of `def` in `stage`, whose own sampling is `stage_sampling`.
    pub fn of(
        stage: &Stage,
        def: &BranchDef,
        stage_sampling: &Sampling,
    ) -> Result<BranchPlan, String> {
        let where_ = || format!("stage `{}`, branch `{}`", stage.name, def.name);
        let int = |k: &str, default: usize| match def.args.get(k) {
            None => Ok(default),
            Some(Const::Int(i)) if *i >= 0 => Ok(*i as usize),
            Some(other) => Err(format!(
                "{}: `{k}` should be a count, found {other:?}",
                where_()
            )),
        };
        let real = |k: &str, default: f64| match def.args.get(k) {
            None => Ok(default),
            Some(c) => c
                .as_f64()
                .ok_or_else(|| format!("{}: `{k}` should be a number, found {c:?}", where_())),
        };
        let from_reference = match def.args.get("model") {
            None => false,
            Some(Const::Str(m)) if m == "policy" => false,
            Some(Const::Str(m)) if m == "reference" => true,
            Some(other) => {
                return Err(format!(
                    "{}: `model` should be \"policy\" or \"reference\", found {other:?}",
                    where_()
                ));
            }
        };
        let once = matches!(def.args.get("once"), Some(Const::Bool(true)));
        if once && !from_reference {
            return Err(format!(
                "{}: `once = true` samples a fixed table of reference responses per prompt, so it \
                 needs `model = \"reference\"` (the frozen model); the policy changes every step",
                where_()
            ));
        }
        Ok(BranchPlan {
            once,
            name: def.name.clone(),
            n: int("n", 1)?.max(1),
            sampling: Sampling {
                temperature: real("temperature", stage_sampling.temperature)?,
                top_p: real("top_p", stage_sampling.top_p)?,
                top_k: int("top_k", stage_sampling.top_k)?,
                max_tokens: int("max_tokens", stage_sampling.max_tokens)?,
                stop: stage_sampling.stop.clone(),
            },
            from_reference,
        })
    }
}

/// Where each set's rollouts sit among the training rows.
#[derive(Clone, Debug, PartialEq)]
pub struct RowLayout {
    /// Rows of each group: main rollouts per group, then each branch's n.
    pub per_group: usize,
    /// `(set, rollouts per group, offset within a group's rows)`.
    pub sets: Vec<(SetId, usize, usize)>,
    /// Groups in the step.
    pub groups: usize,
}

impl RowLayout {
    /// `group` main rollouts per prompt, then the branches' in order.
    pub fn new(groups: usize, group: usize, branches: &[BranchPlan]) -> RowLayout {
        let mut sets = vec![(SetId::Main, group, 0)];
        let mut offset = group;
        for b in branches {
            sets.push((SetId::Branch(b.name.clone()), b.n, offset));
            offset += b.n;
        }
        RowLayout {
            per_group: offset,
            sets,
            groups,
        }
    }

    /// Total training rows.
    pub fn rows(&self) -> usize {
        self.per_group * self.groups
    }

    /// The row of `set`'s `i`-th rollout (in the runtime's group-major order).
    pub fn row(&self, set: &SetId, i: usize) -> Option<usize> {
        let &(_, n, offset) = self.sets.iter().find(|(s, _, _)| s == set)?;
        Some((i / n) * self.per_group + offset + i % n)
    }

    /// Row ranges of minibatches of `prompts` groups each.
    pub fn minibatches(&self, prompts: usize) -> Vec<std::ops::Range<usize>> {
        let step = prompts.max(1) * self.per_group;
        (0..self.rows())
            .step_by(step.max(1))
            .map(|lo| lo..(lo + step).min(self.rows()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(name: &str, n: usize) -> BranchPlan {
        BranchPlan {
            name: name.into(),
            n,
            sampling: Sampling::greedy(4),
            from_reference: false,
            once: false,
        }
    }

    #[test]
    fn rows_interleave_each_groups_main_and_branch_rollouts() {
        let l = RowLayout::new(2, 3, &[plan("probe", 2)]);
        assert_eq!((l.per_group, l.rows()), (5, 10));
        let main: Vec<_> = (0..6).filter_map(|i| l.row(&SetId::Main, i)).collect();
        assert_eq!(main, vec![0, 1, 2, 5, 6, 7]);
        let probe = SetId::Branch("probe".into());
        let branch: Vec<_> = (0..4).filter_map(|i| l.row(&probe, i)).collect();
        assert_eq!(branch, vec![3, 4, 8, 9]);
        assert_eq!(l.row(&SetId::Branch("other".into()), 0), None);
        assert_eq!(l.minibatches(1), vec![0..5, 5..10]);
        assert_eq!(l.minibatches(4), vec![0..10]);
    }
}
