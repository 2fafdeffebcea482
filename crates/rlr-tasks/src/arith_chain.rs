//! `arith_chain`: left-to-right chains, "12 + 7 - 5 + 30 = ?", with the
//! running results as `sample.steps` (one number per line, the last one the
//! answer), so `judge.steps` and per-step verifiers have a ground truth.
//!
//! When a `*` follows additions, the chain so far is put in parentheses
//! ("(2 + 3) * 4 = ?"), so the usual precedence and left-to-right evaluation
//! agree.

use rlr_lang::ir::Decl;
use serde_json::{Map, Value};

use crate::arith::MAX_OPERAND;
use crate::draw::{self, Problem};
use crate::{Rng, Sample, Split, Task};

/// The registry name.
const NAME: &str = "arith_chain";

/// The most operands in a chain.
const MAX_OPERANDS: i64 = 64;

/// The largest result a chain may reach (checked at build time when `*` is allowed).
const MAX_RESULT: i128 = 1_000_000_000_000_000_000;

/// One chain: the first operand, then `(op, operand)` pairs.
#[derive(Clone, Debug, PartialEq)]
struct Chain {
    first: i64,
    rest: Vec<(char, i64)>,
}

impl Problem for Chain {
    fn canonical(&self) -> String {
        self.expression()
    }
}

impl Chain {
    fn generate(rng: &mut Rng, operands: i64, max: i64, ops: &[char]) -> Chain {
        let first = rng.range(0, max);
        let rest = (1..operands)
            .map(|_| {
                let op = rng.pick(ops).copied().unwrap_or('+');
                (op, rng.range(0, max))
            })
            .collect();
        Chain { first, rest }
    }

    /// The chain as written in the prompt, parenthesised where `*` follows `+` or `-`.
    fn expression(&self) -> String {
        let mut s = self.first.to_string();
        let mut additive = false;
        for (op, x) in &self.rest {
            if *op == '*' && additive {
                s = format!("({s})");
            }
            additive = *op != '*';
            s = format!("{s} {op} {x}");
        }
        s
    }

    /// The running results, one per operator (the last is the answer).
    fn results(&self) -> Vec<i128> {
        let mut v = i128::from(self.first);
        self.rest
            .iter()
            .map(|(op, x)| {
                v = draw::apply(v, *op, i128::from(*x)).unwrap_or(0);
                v
            })
            .collect()
    }

    fn answer(&self) -> i128 {
        self.results()
            .last()
            .copied()
            .unwrap_or(i128::from(self.first))
    }

    fn rephrased(&self) -> String {
        let mut s = format!("Start with {}.", self.first);
        for (op, x) in &self.rest {
            s.push_str(&match op {
                '+' => format!(" Add {x}."),
                '-' => format!(" Subtract {x}."),
                _ => format!(" Multiply by {x}."),
            });
        }
        s.push_str(" What number do you end with?");
        s
    }

    fn demonstration(&self, show_steps: bool) -> String {
        let answer = self.answer();
        let think = if self.rest.is_empty() {
            format!("The chain is just {answer}.")
        } else if show_steps {
            let mut prev = i128::from(self.first);
            let lines: Vec<String> = self
                .rest
                .iter()
                .zip(self.results())
                .enumerate()
                .map(|(k, ((op, x), r))| {
                    let line = format!("Step {}: {prev}{op}{x}={r}", k + 1);
                    prev = r;
                    line
                })
                .collect();
            lines.join("\n")
        } else {
            format!("Working left to right, the chain comes to {answer}.")
        };
        format!("<think>\n{think}\n</think>\n\\boxed{{{answer}}}")
    }
}

/// The `arith_chain` task.
pub(crate) struct ArithChain {
    seed: u64,
    operands: i64,
    max: i64,
    show_steps: bool,
    ops: Vec<char>,
    fallback: [Chain; 2],
}

/// Builds `arith_chain(operands, max, show_steps, ops)`.
pub(crate) fn build(decl: &Decl, seed: u64) -> Result<ArithChain, String> {
    let operands = draw::int_in(decl, "operands", 1, MAX_OPERANDS)?;
    let max = draw::int_in(decl, "max", 1, MAX_OPERAND)?;
    let show_steps = draw::flag(decl, "show_steps")?;
    let ops = draw::ops(decl)?;
    if ops.contains(&'*') {
        let base = i128::from(max) + 1;
        let worst = (0..operands).try_fold(1i128, |acc, _| {
            acc.checked_mul(base).filter(|v| *v <= MAX_RESULT)
        });
        if worst.is_none() {
            return Err(format!(
                "`arith_chain`: with `*` in `ops`, {operands} operands up to {max} can reach \
                 ({max} + 1)^{operands}, more than 10^18; lower `operands` or `max`"
            ));
        }
    }
    let what = format!(
        "`arith_chain(operands = {operands}, max = {max}, ops = {:?})`",
        ops.iter().collect::<String>()
    );
    let fallback = draw::fallbacks(&what, seed, NAME, |rng| {
        Some(Chain::generate(rng, operands, max, &ops))
    })?;
    Ok(ArithChain {
        seed,
        operands,
        max,
        show_steps,
        ops,
        fallback,
    })
}

impl Task for ArithChain {
    fn name(&self) -> &'static str {
        NAME
    }

    fn sample(&self, split: Split, index: u64) -> Sample {
        let mut rng = Rng::for_problem(self.seed, NAME, draw::split_stream(split), index);
        let p = draw::draw(&mut rng, split, draw::TRIES, |r| {
            Some(Chain::generate(r, self.operands, self.max, &self.ops))
        })
        .unwrap_or_else(|| draw::fallback(&self.fallback, split));
        let steps: Vec<String> = p.results().iter().map(i128::to_string).collect();
        let mut fields = Map::new();
        fields.insert(
            "prompt".into(),
            Value::String(format!("{} = ?", p.expression())),
        );
        fields.insert("answer".into(), Value::String(p.answer().to_string()));
        fields.insert("steps".into(), Value::String(steps.join("\n")));
        fields.insert("rephrased".into(), Value::String(p.rephrased()));
        Sample {
            fields,
            demonstration: p.demonstration(self.show_steps),
            auxiliary: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{self, decl, int, text};
    use rlr_lang::ir::Const;

    #[test]
    fn samples_pass_the_common_checks_and_demonstrations_score_full_marks() {
        let configs = [
            vec![],
            vec![("operands", int(1)), ("max", int(50))],
            vec![("operands", int(6)), ("max", int(9)), ("ops", text("+-*"))],
            vec![("operands", int(64)), ("max", int(2))],
            vec![("show_steps", Const::Bool(false))],
        ];
        for args in configs {
            let d = decl(NAME, &args);
            testkit::common(|seed| build(&d, seed).expect("builds"), 2000);
            let task = build(&d, 3).expect("builds");
            for i in 0..200 {
                for split in [Split::Train, Split::Heldout] {
                    let s = task.sample(split, i);
                    assert_eq!(testkit::exact(&s.demonstration, s.answer()), 1.0);
                    assert_eq!(testkit::math_equal_boxed(&s, &s.demonstration), 1.0);
                    if task.show_steps {
                        testkit::full_marks_math(&s);
                        assert_eq!(testkit::reward_model(&s), 3.0, "{}", s.demonstration);
                    }
                }
            }
        }
    }

    #[test]
    fn an_example() {
        let p = Chain {
            first: 12,
            rest: vec![('+', 7), ('-', 5), ('*', 30), ('+', 1)],
        };
        assert_eq!(p.expression(), "(12 + 7 - 5) * 30 + 1");
        assert_eq!(p.results(), vec![19, 14, 420, 421]);
        assert_eq!(
            p.demonstration(true),
            "<think>\nStep 1: 12+7=19\nStep 2: 19-5=14\nStep 3: 14*30=420\nStep 4: 420+1=421\n</think>\n\\boxed{421}"
        );
        assert_eq!(
            p.rephrased(),
            "Start with 12. Add 7. Subtract 5. Multiply by 30. Add 1. What number do you end with?"
        );
    }

    #[test]
    fn products_that_could_overflow_are_rejected() {
        let d = decl(
            NAME,
            &[("operands", int(10)), ("max", int(99)), ("ops", text("*"))],
        );
        let e = build(&d, 1).err().unwrap_or_default();
        assert!(e.contains("10^18"), "{e}");
        let d = decl(
            NAME,
            &[("operands", int(9)), ("max", int(99)), ("ops", text("+*"))],
        );
        assert!(build(&d, 1).is_ok());
        let d = decl(NAME, &[("operands", int(65))]);
        assert!(build(&d, 1).is_err());
    }
}
