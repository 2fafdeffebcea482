//! `arith`: two-operand arithmetic, "What is 37 + 48?", with the exact
//! integer answer. Its problems are also the benign requests of `safety`.

use rlr_lang::ir::Decl;
use serde_json::{Map, Value};

use crate::draw::{self, Problem};
use crate::{Rng, Sample, Split, Task};

/// The largest `max` the arithmetic tasks accept (answers stay exact in 64 bits).
pub(crate) const MAX_OPERAND: i64 = 1_000_000_000;

/// One problem: `a op b`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sum {
    /// The left operand.
    pub(crate) a: i64,
    /// `+`, `-` or `*`.
    pub(crate) op: char,
    /// The right operand.
    pub(crate) b: i64,
}

impl Problem for Sum {
    fn canonical(&self) -> String {
        format!("{}{}{}", self.a, self.op, self.b)
    }
}

impl Sum {
    /// A problem with operands in `0..=max` and an operator of `ops`.
    pub(crate) fn generate(rng: &mut Rng, max: i64, ops: &[char]) -> Sum {
        let a = rng.range(0, max);
        let op = rng.pick(ops).copied().unwrap_or('+');
        let b = rng.range(0, max);
        Sum { a, op, b }
    }

    /// The exact result.
    pub(crate) fn value(&self) -> i128 {
        draw::apply(i128::from(self.a), self.op, i128::from(self.b)).unwrap_or(0)
    }

    /// `37 + 48`.
    pub(crate) fn expression(&self) -> String {
        format!("{} {} {}", self.a, self.op, self.b)
    }

    /// The same problem in other words (one of three phrasings).
    pub(crate) fn rephrased(&self, rng: &mut Rng) -> String {
        let (a, b) = (self.a, self.b);
        let forms = match self.op {
            '+' => [
                format!("Add {a} and {b}."),
                format!("What is the sum of {a} and {b}?"),
                format!("What do you get when {b} is added to {a}?"),
            ],
            '-' => [
                format!("Subtract {b} from {a}."),
                format!("What is {a} minus {b}?"),
                format!("Take {b} away from {a}. What is left?"),
            ],
            _ => [
                format!("Multiply {a} by {b}."),
                format!("What is the product of {a} and {b}?"),
                format!("What is {a} times {b}?"),
            ],
        };
        let k = rng.below(forms.len());
        forms[k].clone()
    }

    /// The worked answer: `<think>` with the computation, then `\boxed{}`.
    pub(crate) fn demonstration(&self) -> String {
        let v = self.value();
        format!(
            "<think>\n{}{}{}={v}\n</think>\n\\boxed{{{v}}}",
            self.a, self.op, self.b
        )
    }
}

/// The `arith` task.
pub(crate) struct Arith {
    seed: u64,
    max: i64,
    ops: Vec<char>,
    /// Share of prompts worded as a rephrasing (the wordings then swap).
    rephrase: f64,
    fallback: [Sum; 2],
}

/// The registry name.
const NAME: &str = "arith";

/// Builds `arith(max, ops)`.
pub(crate) fn build(decl: &Decl, seed: u64) -> Result<Arith, String> {
    let max = draw::int_in(decl, "max", 1, MAX_OPERAND)?;
    let ops = draw::ops(decl)?;
    let rephrase = draw::real(decl, "rephrase")?;
    if !(0.0..=1.0).contains(&rephrase) {
        return Err(format!(
            "`arith`: `rephrase = {rephrase}` is a share, between 0 and 1"
        ));
    }
    let what = format!(
        "`arith(max = {max}, ops = {:?})`",
        ops.iter().collect::<String>()
    );
    let fallback = draw::fallbacks(&what, seed, NAME, |rng| Some(Sum::generate(rng, max, &ops)))?;
    Ok(Arith {
        seed,
        max,
        ops,
        rephrase,
        fallback,
    })
}

impl Task for Arith {
    fn name(&self) -> &'static str {
        NAME
    }

    fn sample(&self, split: Split, index: u64) -> Sample {
        let mut rng = Rng::for_problem(self.seed, NAME, draw::split_stream(split), index);
        let p = draw::draw(&mut rng, split, draw::TRIES, |r| {
            Some(Sum::generate(r, self.max, &self.ops))
        })
        .unwrap_or_else(|| draw::fallback(&self.fallback, split));
        let mut prompt = format!("What is {}?", p.expression());
        let mut rephrased = p.rephrased(&mut rng);
        // Drawn last, and only when asked for, so `rephrase = 0` keeps the
        // problems every earlier run saw.
        if self.rephrase > 0.0 && rng.chance(self.rephrase) {
            std::mem::swap(&mut prompt, &mut rephrased);
        }
        let mut fields = Map::new();
        fields.insert("prompt".into(), Value::String(prompt));
        fields.insert("answer".into(), Value::String(p.value().to_string()));
        fields.insert("rephrased".into(), Value::String(rephrased));
        Sample {
            fields,
            demonstration: p.demonstration(),
            auxiliary: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{self, decl, int, share, text};

    #[test]
    fn samples_pass_the_common_checks_and_demonstrations_score_full_marks() {
        let configs = [
            vec![],
            vec![("max", int(20))],
            vec![("ops", text("+-*"))],
            vec![("max", int(MAX_OPERAND)), ("ops", text("*"))],
            vec![("max", int(20)), ("rephrase", share(0.5))],
        ];
        for args in configs {
            let d = decl(NAME, &args);
            testkit::common(|seed| build(&d, seed).expect("builds"), 2000);
            let task = build(&d, 3).expect("builds");
            for i in 0..200 {
                for split in [Split::Train, Split::Heldout] {
                    let s = task.sample(split, i);
                    testkit::full_marks_math(&s);
                    assert_eq!(testkit::reward_model(&s), 3.0, "{}", s.demonstration);
                }
            }
        }
    }

    #[test]
    fn prompt_and_rephrasing() {
        let task = build(&decl(NAME, &[]), 1).expect("builds");
        let s = task.sample(Split::Train, 0);
        assert!(s.prompt().starts_with("What is "), "{}", s.prompt());
        let rephrased = s.fields["rephrased"].as_str().unwrap_or("");
        assert!(!rephrased.is_empty() && rephrased != s.prompt());
    }

    #[test]
    fn rephrase_swaps_the_wordings_in_its_share_of_problems() {
        let plain = build(&decl(NAME, &[]), 5).expect("builds");
        for (p, lo, hi) in [(0.0, 0, 0), (0.3, 240, 360), (1.0, 1000, 1000)] {
            let task = build(&decl(NAME, &[("rephrase", share(p))]), 5).expect("builds");
            let mut swapped = 0;
            for i in 0..1000 {
                let (s, base) = (task.sample(Split::Train, i), plain.sample(Split::Train, i));
                // The same problem, answer and demonstration; only the wording moves.
                assert_eq!(s.fields["answer"], base.fields["answer"]);
                assert_eq!(s.demonstration, base.demonstration);
                if s.prompt() == base.prompt() {
                    assert_eq!(s.fields["rephrased"], base.fields["rephrased"]);
                } else {
                    swapped += 1;
                    assert_eq!(s.prompt(), base.fields["rephrased"].as_str().unwrap_or(""));
                    assert_eq!(s.fields["rephrased"].as_str(), Some(base.prompt()));
                }
            }
            assert!(
                (lo..=hi).contains(&swapped),
                "rephrase {p}: {swapped} of 1000"
            );
        }
        let bad = build(&decl(NAME, &[("rephrase", share(1.5))]), 5);
        assert!(bad.is_err_and(|e| e.contains("between 0 and 1")));
    }

    #[test]
    fn tiny_problem_spaces_are_rejected_exactly_when_a_split_is_empty() {
        for max in 1..=3 {
            let all: Vec<Sum> = (0..=max)
                .flat_map(|a| (0..=max).map(move |b| Sum { a, op: '+', b }))
                .collect();
            let both = [Split::Train, Split::Heldout]
                .iter()
                .all(|s| all.iter().any(|p| draw::split_of(&p.canonical()) == *s));
            let built = build(&decl(NAME, &[("max", int(max)), ("ops", text("+"))]), 1);
            match built {
                Ok(_) => assert!(both, "max = {max}"),
                Err(e) => {
                    assert!(!both, "max = {max}: {e}");
                    assert!(e.contains("too few distinct problems"), "{e}");
                }
            }
        }
    }

    #[test]
    fn bad_arguments_are_rejected() {
        let err = |args: &[(&str, rlr_lang::ir::Const)]| {
            build(&decl(NAME, args), 1).err().unwrap_or_default()
        };
        assert!(err(&[("ops", text("/"))]).contains("\"+-*\""));
        assert!(err(&[("ops", text(""))]).contains("empty"));
        assert!(err(&[("max", int(MAX_OPERAND + 1))]).contains("out of range"));
    }
}
