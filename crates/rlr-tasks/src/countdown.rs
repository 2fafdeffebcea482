//! `countdown`: combine the given numbers, each exactly once, with + − × ÷
//! and parentheses, to reach the target. Problems are made backwards: the
//! numbers are drawn, a random expression over all of them is built (only
//! exact divisions, only positive differences) and its value, when it lies in
//! `1..=max_target`, is the target; that expression is `sample.answer`.

use rlr_lang::ir::Decl;
use serde_json::{Map, Value};

use crate::draw::{self, Problem};
use crate::{Rng, Sample, Split, Task};

/// The registry name.
const NAME: &str = "countdown";

/// The most numbers a problem gives.
const MAX_NUMBERS: i64 = 6;

/// One problem: the numbers (in the order given), the target, and one
/// expression reaching it with the steps that build it.
#[derive(Clone, Debug, PartialEq)]
struct Game {
    numbers: Vec<i64>,
    target: i64,
    expression: String,
    steps: Vec<String>,
}

impl Problem for Game {
    fn canonical(&self) -> String {
        let mut sorted = self.numbers.clone();
        sorted.sort_unstable();
        let sorted: Vec<String> = sorted.iter().map(i64::to_string).collect();
        format!("{} -> {}", sorted.join(" "), self.target)
    }
}

/// A partial expression: its value, its text, and whether it needs
/// parentheses as an operand.
struct Part {
    value: i64,
    text: String,
    compound: bool,
}

impl Part {
    fn operand(&self) -> String {
        if self.compound {
            format!("({})", self.text)
        } else {
            self.text.clone()
        }
    }
}

/// `a op b` if it is allowed: positive differences and exact divisions only.
fn combine(a: i64, op: char, b: i64) -> Option<i64> {
    match op {
        '+' => a.checked_add(b),
        '-' => (a > b).then(|| a - b),
        '*' => a.checked_mul(b),
        _ => (b != 0 && a % b == 0).then(|| a / b),
    }
}

impl Game {
    fn generate(rng: &mut Rng, count: usize, number_max: i64, max_target: i64) -> Option<Game> {
        let numbers: Vec<i64> = (0..count).map(|_| rng.range(1, number_max)).collect();
        let mut parts: Vec<Part> = numbers
            .iter()
            .map(|&n| Part {
                value: n,
                text: n.to_string(),
                compound: false,
            })
            .collect();
        let mut steps = Vec::new();
        while parts.len() > 1 {
            let i = rng.below(parts.len());
            let a = parts.swap_remove(i);
            let j = rng.below(parts.len());
            let b = parts.swap_remove(j);
            let op = *rng.pick(&['+', '-', '*', '/'])?;
            let (a, b, op, value) = match combine(a.value, op, b.value) {
                Some(v) => (a, b, op, v),
                None => match combine(b.value, op, a.value) {
                    Some(v) => (b, a, op, v),
                    None => {
                        let v = a.value.checked_add(b.value)?;
                        (a, b, '+', v)
                    }
                },
            };
            steps.push(format!("{}{op}{}={value}", a.value, b.value));
            parts.push(Part {
                value,
                text: format!("{} {op} {}", a.operand(), b.operand()),
                compound: true,
            });
        }
        let last = parts.pop()?;
        (1..=max_target).contains(&last.value).then_some(Game {
            numbers,
            target: last.value,
            expression: last.text,
            steps,
        })
    }

    fn demonstration(&self) -> String {
        let think = if self.steps.is_empty() {
            format!("{} is already the target.", self.expression)
        } else {
            self.steps.join("\n")
        };
        format!("<think>\n{think}\n</think>\n\\boxed{{{}}}", self.expression)
    }
}

/// The `countdown` task.
pub(crate) struct Countdown {
    seed: u64,
    count: usize,
    number_max: i64,
    max_target: i64,
    fallback: [Game; 2],
}

/// Builds `countdown(numbers, max_target)`. The numbers are drawn from
/// `1..=clamp(max_target, 9, 99)`.
pub(crate) fn build(decl: &Decl, seed: u64) -> Result<Countdown, String> {
    let count = draw::int_in(decl, "numbers", 1, MAX_NUMBERS)?;
    let max_target = draw::int_in(decl, "max_target", 1, i64::MAX)?;
    let number_max = max_target.clamp(9, 99);
    let count = count as usize;
    let what = format!("`countdown(numbers = {count}, max_target = {max_target})`");
    let fallback = draw::fallbacks(&what, seed, NAME, |rng| {
        Game::generate(rng, count, number_max, max_target)
    })?;
    Ok(Countdown {
        seed,
        count,
        number_max,
        max_target,
        fallback,
    })
}

impl Task for Countdown {
    fn name(&self) -> &'static str {
        NAME
    }

    fn sample(&self, split: Split, index: u64) -> Sample {
        let mut rng = Rng::for_problem(self.seed, NAME, draw::split_stream(split), index);
        let p = draw::draw(&mut rng, split, draw::TRIES, |r| {
            Game::generate(r, self.count, self.number_max, self.max_target)
        })
        .unwrap_or_else(|| draw::fallback(&self.fallback, split));
        let numbers: Vec<String> = p.numbers.iter().map(i64::to_string).collect();
        let numbers = numbers.join(" ");
        let prompt = format!(
            "Using the numbers {numbers}, each exactly once, with + - * / and parentheses, \
             write an expression equal to {}.",
            p.target
        );
        let mut fields = Map::new();
        fields.insert("prompt".into(), Value::String(prompt));
        fields.insert("answer".into(), Value::String(p.expression.clone()));
        fields.insert("numbers".into(), Value::String(numbers));
        fields.insert("target".into(), Value::String(p.target.to_string()));
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
    use crate::testkit::{self, decl, int};

    #[test]
    fn samples_pass_the_common_checks_and_demonstrations_are_valid() {
        let configs = [
            vec![],
            vec![("numbers", int(3)), ("max_target", int(30))],
            vec![("numbers", int(1)), ("max_target", int(100))],
            vec![("numbers", int(6)), ("max_target", int(1000))],
            vec![("numbers", int(2)), ("max_target", int(i64::MAX))],
        ];
        for args in configs {
            let d = decl(NAME, &args);
            testkit::common(|seed| build(&d, seed).expect("builds"), 2000);
            let task = build(&d, 3).expect("builds");
            for i in 0..300 {
                for split in [Split::Train, Split::Heldout] {
                    let s = task.sample(split, i);
                    assert_eq!(testkit::equation_valid(&s, &s.demonstration), 1.0, "{s:?}");
                    assert_eq!(testkit::equation_valid(&s, s.answer()), 1.0, "{s:?}");
                    let target: i64 = s.fields["target"]
                        .as_str()
                        .unwrap_or("")
                        .parse()
                        .unwrap_or(0);
                    assert!((1..=task.max_target).contains(&target));
                    assert_eq!(
                        s.fields["numbers"]
                            .as_str()
                            .unwrap_or("")
                            .split(' ')
                            .count(),
                        task.count
                    );
                }
            }
        }
    }

    #[test]
    fn an_example() {
        let task = build(
            &decl(NAME, &[("numbers", int(3)), ("max_target", int(30))]),
            11,
        )
        .expect("builds");
        let s = task.sample(Split::Train, 0);
        assert!(
            s.prompt().starts_with("Using the numbers "),
            "{}",
            s.prompt()
        );
        assert!(s.demonstration.starts_with("<think>\n"));
        assert!(
            s.demonstration
                .ends_with(&format!("\\boxed{{{}}}", s.answer()))
        );
    }

    #[test]
    fn tiny_problem_spaces_are_rejected() {
        // numbers = 1 and max_target = 1: the only problem is "1 -> 1".
        let e = build(
            &decl(NAME, &[("numbers", int(1)), ("max_target", int(1))]),
            1,
        )
        .err()
        .unwrap_or_default();
        assert!(e.contains("too few distinct problems"), "{e}");
        assert!(build(&decl(NAME, &[("numbers", int(7))]), 1).is_err());
    }
}
