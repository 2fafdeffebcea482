//! `evidence_math`: word problems over an evidence passage. The passage
//! states `facts` facts ("Ann has 7 apples.", amounts from 2 to `max_value`), `distractors` of which the
//! question does not need; the question adds the needed amounts up (or, with
//! two, may ask for their difference). The checklist asks for each needed
//! fact on its own, to be answered as `<a1>..</a1><a2>..</a2>`.

use rlr_lang::ir::Decl;
use serde_json::{Map, Value};

use crate::draw::{self, Problem};
use crate::{Auxiliary, Rng, Sample, Split, Task};

/// The registry name.
const NAME: &str = "evidence_math";

const NAMES: [&str; 16] = [
    "Ann", "Bob", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kim", "Lee", "Max", "Ned",
    "Oli", "Pam",
];

const ITEMS: [&str; 8] = [
    "apples", "pears", "marbles", "coins", "books", "stamps", "shells", "pens",
];

/// The most facts in a passage.
const MAX_FACTS: i64 = 32;
/// The largest amount a fact may state.
const MAX_VALUE: i64 = 1_000_000;

/// One fact: person `name` has `value` of `item` (indices into the tables).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Fact {
    name: usize,
    item: usize,
    value: i64,
}

impl Fact {
    fn sentence(&self) -> String {
        format!(
            "{} has {} {}.",
            NAMES[self.name], self.value, ITEMS[self.item]
        )
    }
}

/// One problem: the passage (in order), the needed facts (in the question's
/// order) and whether the question asks for a difference.
#[derive(Clone, Debug, PartialEq)]
struct Passage {
    facts: Vec<Fact>,
    needed: Vec<Fact>,
    difference: bool,
}

impl Problem for Passage {
    fn canonical(&self) -> String {
        format!("{}\n{}", self.passage(), self.question())
    }
}

fn shuffle<T>(rng: &mut Rng, xs: &mut [T]) {
    for i in (1..xs.len()).rev() {
        let j = rng.below(i + 1);
        xs.swap(i, j);
    }
}

/// "Ann and Bob", "Ann, Bob and Cy".
fn and_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

impl Passage {
    fn generate(rng: &mut Rng, needed: usize, distractors: usize, max_value: i64) -> Passage {
        let item = rng.below(ITEMS.len());
        let mut names: Vec<usize> = (0..NAMES.len()).collect();
        shuffle(rng, &mut names);
        let mut chosen: Vec<Fact> = names[..needed]
            .iter()
            .map(|&name| Fact {
                name,
                item,
                value: rng.range(2, max_value),
            })
            .collect();
        let difference = needed == 2 && rng.chance(0.5);
        if difference && chosen[0].value < chosen[1].value {
            chosen.swap(0, 1);
        }
        let mut others: Vec<(usize, usize)> = (0..NAMES.len())
            .flat_map(|n| (0..ITEMS.len()).map(move |i| (n, i)))
            .filter(|(n, i)| !chosen.iter().any(|f| f.name == *n && f.item == *i))
            .collect();
        shuffle(rng, &mut others);
        let mut facts = chosen.clone();
        facts.extend(others.iter().take(distractors).map(|&(name, item)| Fact {
            name,
            item,
            value: rng.range(2, max_value),
        }));
        shuffle(rng, &mut facts);
        Passage {
            facts,
            needed: chosen,
            difference,
        }
    }

    fn passage(&self) -> String {
        let sentences: Vec<String> = self.facts.iter().map(Fact::sentence).collect();
        sentences.join(" ")
    }

    fn item(&self) -> &'static str {
        self.needed.first().map_or(ITEMS[0], |f| ITEMS[f.item])
    }

    fn question(&self) -> String {
        let names: Vec<&str> = self.needed.iter().map(|f| NAMES[f.name]).collect();
        let item = self.item();
        match names.as_slice() {
            [one] => format!("How many {item} does {one} have?"),
            [a, b] if self.difference => format!("How many more {item} does {a} have than {b}?"),
            _ => format!("How many {item} do {} have in total?", and_list(&names)),
        }
    }

    /// The running results of the computation (empty for a single fact).
    fn results(&self) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        let mut it = self.needed.iter();
        let Some(first) = it.next() else {
            return out;
        };
        let mut v = first.value;
        for f in it {
            let op = if self.difference { '-' } else { '+' };
            let next = if self.difference {
                v - f.value
            } else {
                v + f.value
            };
            out.push((format!("{v}{op}{}={next}", f.value), next));
            v = next;
        }
        out
    }

    fn answer(&self) -> i64 {
        self.results()
            .last()
            .map_or(self.needed.first().map_or(0, |f| f.value), |r| r.1)
    }

    fn checklist(&self) -> (String, String) {
        let tags: String = (1..=self.needed.len())
            .map(|k| format!("<a{k}>...</a{k}>"))
            .collect();
        let questions: Vec<String> = self
            .needed
            .iter()
            .enumerate()
            .map(|(k, f)| {
                format!(
                    "{}. How many {} does {} have?",
                    k + 1,
                    ITEMS[f.item],
                    NAMES[f.name]
                )
            })
            .collect();
        let prompt = format!(
            "Passage: {}\nAnswer each question from the passage, as {tags}.\n{}",
            self.passage(),
            questions.join("\n")
        );
        let answers: Vec<String> = self.needed.iter().map(|f| f.value.to_string()).collect();
        (prompt, answers.join("\n"))
    }

    fn demonstration(&self) -> String {
        let mut lines: Vec<String> = self.needed.iter().map(Fact::sentence).collect();
        lines.extend(
            self.results()
                .iter()
                .enumerate()
                .map(|(k, (line, _))| format!("Step {}: {line}", k + 1)),
        );
        format!(
            "<think>\n{}\n</think>\n\\boxed{{{}}}",
            lines.join("\n"),
            self.answer()
        )
    }
}

/// The `evidence_math` task.
pub(crate) struct EvidenceMath {
    seed: u64,
    needed: usize,
    distractors: usize,
    max_value: i64,
    checklist: bool,
    fallback: [Passage; 2],
}

/// Builds `evidence_math(facts, checklist, distractors, max_value)`.
pub(crate) fn build(decl: &Decl, seed: u64) -> Result<EvidenceMath, String> {
    let facts = draw::int_in(decl, "facts", 1, MAX_FACTS)?;
    let distractors = draw::int_in(decl, "distractors", 0, MAX_FACTS)?;
    let checklist = draw::flag(decl, "checklist")?;
    let max_value = draw::int_in(decl, "max_value", 2, MAX_VALUE)?;
    let needed = facts - distractors;
    if needed < 1 {
        return Err(format!(
            "`evidence_math`: `distractors = {distractors}` leaves no needed fact among \
             `facts = {facts}`; make `distractors` smaller than `facts`"
        ));
    }
    if needed > NAMES.len() as i64 {
        return Err(format!(
            "`evidence_math`: a question combines at most {} facts, but `facts - distractors` \
             is {needed}; raise `distractors` or lower `facts`",
            NAMES.len()
        ));
    }
    let (needed, distractors) = (needed as usize, distractors as usize);
    let what = format!("`evidence_math(facts = {facts}, distractors = {distractors})`");
    let fallback = draw::fallbacks(&what, seed, NAME, |rng| {
        Some(Passage::generate(rng, needed, distractors, max_value))
    })?;
    Ok(EvidenceMath {
        seed,
        needed,
        distractors,
        max_value,
        checklist,
        fallback,
    })
}

impl Task for EvidenceMath {
    fn name(&self) -> &'static str {
        NAME
    }

    fn sample(&self, split: Split, index: u64) -> Sample {
        let mut rng = Rng::for_problem(self.seed, NAME, draw::split_stream(split), index);
        let p = draw::draw(&mut rng, split, draw::TRIES, |r| {
            Some(Passage::generate(
                r,
                self.needed,
                self.distractors,
                self.max_value,
            ))
        })
        .unwrap_or_else(|| draw::fallback(&self.fallback, split));
        let steps: Vec<String> = p.results().iter().map(|r| r.1.to_string()).collect();
        let facts: Vec<String> = p.facts.iter().map(Fact::sentence).collect();
        let (checklist_prompt, checklist_answers) = if self.checklist {
            p.checklist()
        } else {
            (String::new(), String::new())
        };
        let mut fields = Map::new();
        let prompt = format!("Passage: {}\nQuestion: {}", p.passage(), p.question());
        fields.insert("prompt".into(), Value::String(prompt));
        fields.insert("answer".into(), Value::String(p.answer().to_string()));
        fields.insert("steps".into(), Value::String(steps.join("\n")));
        fields.insert("facts".into(), Value::String(facts.join("\n")));
        // The checklist's reference response, in the tags `answers_correct` reads.
        let auxiliary = if self.checklist {
            let answers: String = checklist_answers
                .lines()
                .enumerate()
                .map(|(k, a)| format!("<a{0}>{a}</a{0}>", k + 1))
                .collect();
            vec![Auxiliary {
                prompt: checklist_prompt.clone(),
                demonstration: answers,
            }]
        } else {
            Vec::new()
        };
        fields.insert("checklist_prompt".into(), Value::String(checklist_prompt));
        fields.insert("checklist_answers".into(), Value::String(checklist_answers));
        Sample {
            fields,
            demonstration: p.demonstration(),
            auxiliary,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{self, decl, int};
    use rlr_lang::ir::Const;

    fn field<'s>(s: &'s Sample, k: &str) -> &'s str {
        s.fields[k].as_str().unwrap_or("")
    }

    #[test]
    fn samples_pass_the_common_checks_and_demonstrations_score_full_marks() {
        let configs = [
            vec![],
            vec![("facts", int(1)), ("distractors", int(0))],
            vec![("facts", int(3)), ("distractors", int(0))],
            vec![("facts", int(32)), ("distractors", int(16))],
            vec![("checklist", Const::Bool(false))],
            vec![("max_value", int(2))],
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
                    assert_eq!(
                        field(&s, "facts").lines().count(),
                        task.needed + task.distractors
                    );
                    if task.checklist {
                        // The checklist is taught in SFT: its demonstration scores full marks.
                        let [aux] = s.auxiliary.as_slice() else {
                            panic!("one auxiliary demonstration: {:?}", s.auxiliary)
                        };
                        assert_eq!(aux.prompt, field(&s, "checklist_prompt"));
                        assert_eq!(testkit::answers_correct(&s, &aux.demonstration), 1.0);
                        assert_eq!(field(&s, "checklist_answers").lines().count(), task.needed);
                        assert!(
                            field(&s, "checklist_prompt")
                                .contains(field(&s, "facts").lines().next().unwrap_or("?"))
                        );
                    } else {
                        assert_eq!(field(&s, "checklist_prompt"), "");
                        assert_eq!(field(&s, "checklist_answers"), "");
                        assert!(s.auxiliary.is_empty());
                    }
                }
            }
        }
    }

    #[test]
    fn an_example() {
        let task = build(&decl(NAME, &[]), 7).expect("builds");
        let s = task.sample(Split::Train, 0);
        assert!(s.prompt().starts_with("Passage: "), "{}", s.prompt());
        assert!(
            s.prompt().contains("\nQuestion: How many"),
            "{}",
            s.prompt()
        );
        assert_eq!(field(&s, "facts").lines().count(), 4);
        assert_eq!(field(&s, "steps").lines().count(), 1);
    }

    #[test]
    fn impossible_counts_are_rejected() {
        let e = build(
            &decl(NAME, &[("facts", int(2)), ("distractors", int(2))]),
            1,
        )
        .err()
        .unwrap_or_default();
        assert!(e.contains("smaller than `facts`"), "{e}");
        let e = build(
            &decl(NAME, &[("facts", int(20)), ("distractors", int(0))]),
            1,
        )
        .err()
        .unwrap_or_default();
        assert!(e.contains("at most 16"), "{e}");
        assert!(build(&decl(NAME, &[("facts", int(33))]), 1).is_err());
    }
}
