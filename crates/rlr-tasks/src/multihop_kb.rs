//! `multihop_kb`: multi-hop questions over a seeded knowledge base of
//! invented people and relations ("Who is the mentor of the advisor of Kemi
//! Dorusa?"), answered by looking facts up with `kb_lookup` over several
//! turns.
//!
//! The knowledge base is built once from the seed: `entities` invented
//! two-word names and `relations` relation types (a verb and the noun of its
//! subject's role: "mentored", "mentor"). For every entity and relation there
//! is at most one subject (the entity's mentor), and every entity has at
//! least one, so a question follows `hops` relations from a start entity and
//! has exactly one answer. A fact is written `SUBJECT VERB OBJECT` ("Tal
//! Renuka mentored Kemi Dorusa"); `sample.path` and `sample.facts` hold the
//! question's facts, one hop per line, in the order they are looked up.
//!
//! The demonstration is a multi-turn transcript in Atom-Searcher's format:
//! `<think>`, then for each hop a `<search>ROLE of ENTITY</search>` call
//! followed by the tool's `<result>...</result>` (the facts `kb_lookup` with
//! with the task's `top_k` returns) and one atomic thought that states the
//! fact found (`<reflect>` for intermediate hops, `<verify>` for the last),
//! then `</think>` and `<answer>NAME</answer>`.

use std::collections::BTreeSet;
use std::sync::Arc;

use rlr_lang::ir::{Const, Decl};
use serde_json::{Map, Value as Json};

use crate::{Rng, Sample, Split, Task, arg, fingerprint};

/// The stream name of the task's random draws.
const NAME: &str = "multihop_kb";
/// Most entities a knowledge base may have.
const MAX_ENTITIES: i64 = 100_000;
/// Most relation types.
const MAX_RELATIONS: i64 = 1_000;
/// Most facts slots (entities × relations).
const MAX_SLOTS: i64 = 2_000_000;
/// Most hops per question.
const MAX_HOPS: i64 = 16;
/// Problem spaces up to this size are enumerated and sampled from lists.
const ENUMERATE: u64 = 20_000;
/// Draws per sample in a large problem space before using the build-time fallback.
const TRIES: usize = 1_000;
/// Draws at build time to find one problem of each split in a large space.
const SEARCH: usize = 100_000;
/// The default `top_k`: facts per search in the demonstrations (and in a
/// `kb_lookup` that gives none).
pub const DEMO_TOP_K: usize = 3;
/// Most facts per search.
const MAX_TOP_K: i64 = 100;
/// The default instruction before the question.
pub const INSTRUCTION: &str = "Answer the question using a knowledge base of facts. To look facts \
     up, write <search>query</search>; the facts found come back in <result>...</result>. Reason \
     inside <think>...</think> in atomic thoughts, each in its own tag (<plan>, <reflect>, \
     <verify>, <act>), then give only the final answer inside <answer>...</answer>.";

/// Relation types: the verb of a fact and the noun of its subject's role.
const RELATIONS: &[(&str, &str)] = &[
    ("mentored", "mentor"),
    ("advised", "advisor"),
    ("hired", "employer"),
    ("trained", "trainer"),
    ("funded", "funder"),
    ("sponsored", "sponsor"),
    ("recruited", "recruiter"),
    ("taught", "teacher"),
    ("coached", "coach"),
    ("succeeded", "successor"),
    ("nominated", "nominator"),
    ("rescued", "rescuer"),
    ("interviewed", "interviewer"),
    ("supervised", "supervisor"),
    ("tutored", "tutor"),
    ("photographed", "photographer"),
    ("painted", "painter"),
    ("represented", "representative"),
    ("insured", "insurer"),
    ("challenged", "challenger"),
    ("financed", "financier"),
    ("promoted", "promoter"),
];

const CONSONANTS: &[u8] = b"bdfghklmnprstvz";
const VOWELS: &[u8] = b"aeiou";

/// One relation type.
#[derive(Clone, Debug)]
struct Relation {
    verb: String,
    role: String,
}

/// One fact: `subject` is the `relation` of `object`.
#[derive(Clone, Debug)]
struct Fact {
    subject: usize,
    relation: usize,
    object: usize,
    /// `SUBJECT VERB OBJECT`.
    text: String,
    /// Lower-cased words of the subject.
    subject_words: Vec<String>,
    /// Lower-cased words of the object.
    object_words: Vec<String>,
}

/// A seeded knowledge base of invented entities and relations.
#[derive(Debug)]
pub struct KnowledgeBase {
    names: Vec<String>,
    relations: Vec<Relation>,
    facts: Vec<Fact>,
    /// For each entity, the facts whose object it is (by relation order).
    about: Vec<Vec<usize>>,
}

/// Lower-cased alphanumeric words of a text.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Syllable `k` of a (shuffled) table of consonant-vowel syllables.
fn syllable(table: &[[u8; 2]], k: u64) -> String {
    let s = table[(k % table.len() as u64) as usize];
    String::from_utf8_lossy(&s).into_owned()
}

fn capitalised(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn gcd(a: u128, b: u128) -> u128 {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl KnowledgeBase {
    /// Builds the knowledge base of a seed.
    fn new(seed: u64, entities: usize, relations: usize) -> KnowledgeBase {
        let mut rng = Rng::for_problem(seed, "multihop_kb/kb", 0, 0);
        let mut table: Vec<[u8; 2]> = CONSONANTS
            .iter()
            .flat_map(|c| VOWELS.iter().map(move |v| [*c, *v]))
            .collect();
        for i in (1..table.len()).rev() {
            let j = rng.below(i + 1);
            table.swap(i, j);
        }
        let k = table.len() as u128;
        // Names: an affine bijection of 0..K^5 spreads the entities' digits;
        // two syllables make the first name, three the last (so first and
        // last names never share a word).
        let m = k.pow(5);
        let mut a = u128::from(rng.next_u64()) % m;
        while gcd(a, m) != 1 {
            a = (a + 1) % m;
        }
        let b = u128::from(rng.next_u64()) % m;
        let names: Vec<String> = (0..entities as u128)
            .map(|i| {
                let n = (a * i + b) % m;
                let d = |p: u32| (n / k.pow(p)) as u64;
                let first = syllable(&table, d(0)) + &syllable(&table, d(1));
                let last =
                    syllable(&table, d(2)) + &syllable(&table, d(3)) + &syllable(&table, d(4));
                format!("{} {}", capitalised(&first), capitalised(&last))
            })
            .collect();
        // Relations: a seeded choice of the built-in ones, then invented ones.
        let mut order: Vec<usize> = (0..RELATIONS.len()).collect();
        for i in (1..order.len()).rev() {
            let j = rng.below(i + 1);
            order.swap(i, j);
        }
        let relations: Vec<Relation> = (0..relations)
            .map(|r| match order.get(r) {
                Some(&i) => Relation {
                    verb: RELATIONS[i].0.to_string(),
                    role: RELATIONS[i].1.to_string(),
                },
                None => {
                    let j = (r - RELATIONS.len()) as u64;
                    let stem = syllable(&table, j) + &syllable(&table, j / k as u64 + 1);
                    Relation {
                        verb: format!("{stem}ed"),
                        role: format!("{stem}er"),
                    }
                }
            })
            .collect();
        let mut facts = Vec::new();
        let mut about = vec![Vec::new(); entities];
        if entities >= 2 {
            for (object, slot) in about.iter_mut().enumerate() {
                let mut chosen: Vec<usize> =
                    (0..relations.len()).filter(|_| rng.chance(0.5)).collect();
                if chosen.is_empty() {
                    chosen.push(rng.below(relations.len()));
                }
                for relation in chosen {
                    let mut subject = rng.below(entities - 1);
                    if subject >= object {
                        subject += 1;
                    }
                    let text = format!(
                        "{} {} {}",
                        names[subject], relations[relation].verb, names[object]
                    );
                    slot.push(facts.len());
                    facts.push(Fact {
                        subject,
                        relation,
                        object,
                        text,
                        subject_words: words(&names[subject]),
                        object_words: words(&names[object]),
                    });
                }
            }
        }
        KnowledgeBase {
            names,
            relations,
            facts,
            about,
        }
    }

    /// The `top_k` facts best matching a query, best first: ranked by the
    /// number of distinct query words among the fact's entity and relation
    /// words (subject, verb, role noun, object), then by those among the
    /// role noun and the object (so "mentor of Kemi Dorusa" prefers the fact
    /// about Kemi Dorusa's mentor to the one about whom she mentored), then by
    /// fact order. Facts sharing no word with the query are left out.
    pub fn search(&self, query: &str, top_k: usize) -> Vec<&str> {
        let q: BTreeSet<String> = words(query).into_iter().collect();
        if q.is_empty() {
            return Vec::new();
        }
        let mut scored: Vec<(usize, usize, usize)> = self
            .facts
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let rel = &self.relations[f.relation];
                let (mut primary, mut secondary) = (0, 0);
                for w in &q {
                    let in_object = f.object_words.contains(w) || *w == rel.role;
                    if in_object || f.subject_words.contains(w) || *w == rel.verb {
                        primary += 1;
                    }
                    secondary += usize::from(in_object);
                }
                (primary > 0).then_some((primary, secondary, i))
            })
            .collect();
        scored.sort_by(|x, y| y.0.cmp(&x.0).then(y.1.cmp(&x.1)).then(x.2.cmp(&y.2)));
        scored
            .into_iter()
            .take(top_k)
            .map(|(_, _, i)| self.facts[i].text.as_str())
            .collect()
    }

    /// A tool output: the facts of [`KnowledgeBase::search`], one per line, in `<result>...</result>`.
    pub fn lookup(&self, query: &str, top_k: usize) -> String {
        let found = self.search(query, top_k);
        if found.is_empty() {
            "<result>no matching facts</result>".to_string()
        } else {
            format!("<result>{}</result>", found.join("\n"))
        }
    }
}

/// A question: a start entity and the facts followed, one per hop.
#[derive(Clone, Debug)]
struct Walk {
    start: usize,
    facts: Vec<usize>,
}

/// The `multihop_kb` task.
pub struct MultihopKb {
    seed: u64,
    hops: usize,
    top_k: usize,
    instruction: String,
    kb: Arc<KnowledgeBase>,
    /// All questions of each split, when the space is small enough to list.
    lists: Option<[Vec<Walk>; 2]>,
    /// One question of each split, for when bounded draws run out.
    fallback: [Walk; 2],
}

fn int(decl: &Decl, name: &str, default: i64) -> i64 {
    match arg(decl, name) {
        Some(Const::Int(i)) => *i,
        Some(c) => c.as_f64().map_or(default, |x| x as i64),
        None => default,
    }
}

fn index(split: Split) -> usize {
    match split {
        Split::Train => 0,
        Split::Heldout => 1,
    }
}

impl MultihopKb {
    /// Builds the task from its declaration.
    pub fn build(decl: &Decl, seed: u64) -> Result<MultihopKb, String> {
        let hops = int(decl, "hops", 2);
        let entities = int(decl, "entities", 200);
        let relations = int(decl, "relations", 8);
        let top_k = int(decl, "top_k", DEMO_TOP_K as i64);
        if !(1..=MAX_TOP_K).contains(&top_k) {
            return Err(format!(
                "multihop_kb: `top_k` must be in 1..={MAX_TOP_K}, not {top_k}"
            ));
        }
        if !(1..=MAX_HOPS).contains(&hops) {
            return Err(format!(
                "multihop_kb: `hops` must be in 1..={MAX_HOPS}, not {hops}"
            ));
        }
        if !(2..=MAX_ENTITIES).contains(&entities) {
            return Err(format!(
                "multihop_kb: `entities` must be in 2..={MAX_ENTITIES} (a fact relates two entities), not {entities}"
            ));
        }
        if !(1..=MAX_RELATIONS).contains(&relations) {
            return Err(format!(
                "multihop_kb: `relations` must be in 1..={MAX_RELATIONS}, not {relations}"
            ));
        }
        if entities * relations > MAX_SLOTS {
            return Err(format!(
                "multihop_kb: `entities` × `relations` must be at most {MAX_SLOTS}, not {}",
                entities * relations
            ));
        }
        let kb = Arc::new(KnowledgeBase::new(
            seed,
            entities as usize,
            relations as usize,
        ));
        let hops = hops as usize;
        let mut task = MultihopKb {
            seed,
            hops,
            top_k: top_k as usize,
            instruction: match arg(decl, "instruction") {
                Some(Const::Str(s)) => s.clone(),
                _ => INSTRUCTION.to_string(),
            },
            kb,
            lists: None,
            fallback: [
                Walk {
                    start: 0,
                    facts: Vec::new(),
                },
                Walk {
                    start: 0,
                    facts: Vec::new(),
                },
            ],
        };
        // Walks of each length from each entity (saturating).
        let mut count = vec![1u64; entities as usize];
        for _ in 0..hops {
            count = task
                .kb
                .about
                .iter()
                .map(|fs| {
                    fs.iter().fold(0u64, |acc, f| {
                        acc.saturating_add(count[task.kb.facts[*f].subject])
                    })
                })
                .collect();
        }
        let total = count.iter().fold(0u64, |a, c| a.saturating_add(*c));
        let empty = |s: Split| {
            format!(
                "multihop_kb(hops = {hops}, entities = {entities}, relations = {relations}) has {total} questions, none of them in the {} split; use more entities or relations",
                match s {
                    Split::Train => "train",
                    Split::Heldout => "held-out",
                }
            )
        };
        if total <= ENUMERATE {
            let mut lists: [Vec<Walk>; 2] = [Vec::new(), Vec::new()];
            for start in 0..entities as usize {
                task.enumerate(
                    Walk {
                        start,
                        facts: Vec::new(),
                    },
                    &mut lists,
                );
            }
            for s in [Split::Train, Split::Heldout] {
                match lists[index(s)].first() {
                    Some(w) => task.fallback[index(s)] = w.clone(),
                    None => return Err(empty(s)),
                }
            }
            task.lists = Some(lists);
        } else {
            for s in [Split::Train, Split::Heldout] {
                let mut rng = Rng::for_problem(seed, "multihop_kb/fallback", index(s) as u64, 0);
                match (0..SEARCH)
                    .map(|_| task.walk(&mut rng))
                    .find(|w| task.split_of(w) == s)
                {
                    Some(w) => task.fallback[index(s)] = w,
                    None => return Err(empty(s)),
                }
            }
        }
        Ok(task)
    }

    /// Facts per search in the demonstrations.
    pub fn top_k(&self) -> usize {
        self.top_k
    }

    /// The knowledge base `kb_lookup` searches.
    pub fn knowledge_base(&self) -> Arc<KnowledgeBase> {
        self.kb.clone()
    }

    fn enumerate(&self, walk: Walk, lists: &mut [Vec<Walk>; 2]) {
        if walk.facts.len() == self.hops {
            let s = self.split_of(&walk);
            lists[index(s)].push(walk);
            return;
        }
        let at = self.end(&walk);
        for f in &self.kb.about[at] {
            let mut next = walk.clone();
            next.facts.push(*f);
            self.enumerate(next, lists);
        }
    }

    /// The entity a walk has reached.
    fn end(&self, walk: &Walk) -> usize {
        walk.facts
            .last()
            .map_or(walk.start, |f| self.kb.facts[*f].subject)
    }

    /// A random walk of `hops` facts.
    fn walk(&self, rng: &mut Rng) -> Walk {
        let mut w = Walk {
            start: rng.below(self.kb.names.len()),
            facts: Vec::with_capacity(self.hops),
        };
        for _ in 0..self.hops {
            let at = self.end(&w);
            match rng.pick(&self.kb.about[at]) {
                Some(f) => w.facts.push(*f),
                None => break,
            }
        }
        w
    }

    /// The question, e.g. "Who is the mentor of the advisor of Kemi Dorusa?".
    fn question(&self, walk: &Walk) -> String {
        let mut q = String::from("Who is");
        for f in walk.facts.iter().rev() {
            q.push_str(" the ");
            q.push_str(&self.kb.relations[self.kb.facts[*f].relation].role);
            q.push_str(" of");
        }
        q.push(' ');
        q.push_str(&self.kb.names[walk.start]);
        q.push('?');
        q
    }

    fn split_of(&self, walk: &Walk) -> Split {
        if fingerprint(&self.question(walk)).is_multiple_of(10) {
            Split::Heldout
        } else {
            Split::Train
        }
    }

    fn sample_of(&self, walk: &Walk) -> Sample {
        let kb = &self.kb;
        let question = self.question(walk);
        let prompt = if self.instruction.is_empty() {
            format!("Question: {question}")
        } else {
            format!("{}\nQuestion: {question}", self.instruction)
        };
        let answer = kb.names[self.end(walk)].clone();
        let path: Vec<&str> = walk
            .facts
            .iter()
            .map(|f| kb.facts[*f].text.as_str())
            .collect();
        let mut demo = String::from("<think>");
        for (i, f) in walk.facts.iter().enumerate() {
            let fact = &kb.facts[*f];
            let role = &kb.relations[fact.relation].role;
            let object = &kb.names[fact.object];
            let subject = &kb.names[fact.subject];
            let query = format!("{role} of {object}");
            if i > 0 {
                demo.push('\n');
            }
            demo.push_str(&format!(
                "<search>{query}</search>{}\n",
                kb.lookup(&query, self.top_k)
            ));
            match walk.facts.get(i + 1) {
                Some(next) => {
                    let next_role = &kb.relations[kb.facts[*next].relation].role;
                    demo.push_str(&format!(
                        "<reflect>{}, so the {role} of {object} is {subject}. Next I need the {next_role} of {subject}.</reflect>",
                        fact.text
                    ));
                }
                None => demo.push_str(&format!(
                    "<verify>{}, so the answer is {subject}.</verify>",
                    fact.text
                )),
            }
        }
        demo.push_str(&format!("</think>\n<answer>{answer}</answer>"));
        let mut fields = Map::new();
        fields.insert("prompt".into(), Json::String(prompt));
        fields.insert("answer".into(), Json::String(answer));
        fields.insert("path".into(), Json::String(path.join("\n")));
        fields.insert("facts".into(), Json::String(path.join("\n")));
        Sample {
            fields,
            demonstration: demo,
            auxiliary: Vec::new(),
        }
    }
}

impl Task for MultihopKb {
    fn name(&self) -> &'static str {
        NAME
    }

    fn sample(&self, split: Split, index_: u64) -> Sample {
        let mut rng = Rng::for_problem(self.seed, NAME, index(split) as u64, index_);
        let walk = match &self.lists {
            Some(lists) => rng.pick(&lists[index(split)]).cloned(),
            None => (0..TRIES)
                .map(|_| self.walk(&mut rng))
                .find(|w| self.split_of(w) == split),
        };
        let walk = walk.unwrap_or_else(|| self.fallback[index(split)].clone());
        self.sample_of(&walk)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use rlr_lang::ir::Const;
    use rlr_lang::{Kind, Scope};
    use rlr_reward::node::Arg;
    use rlr_reward::nodes::verify::extract_answer;
    use rlr_reward::testing::{Fixture, call, constant};
    use rlr_reward::{Data, SetId, Value};

    use super::*;
    use crate::testkit::{common, decl, int};

    fn task(seed: u64, args: &[(&str, Const)]) -> MultihopKb {
        MultihopKb::build(&decl("multihop_kb", args), seed).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Evaluates `name` on the demonstration (one response of one group with the sample).
    fn eval(
        fx: &mut Fixture,
        name: &str,
        args: Vec<(&'static str, Arg<'static>)>,
        out: (Scope, Kind),
    ) -> Value {
        let node = rlr_reward::nodes::lookup(name).unwrap_or_else(|| panic!("no node `{name}`"));
        node.eval(&call(name, args, out, &[]), &mut fx.cx("test"))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn text(t: &str) -> Arg<'static> {
        Arg::from(Value::new(
            Scope::Response,
            SetId::Main,
            Data::Text(vec![t.to_string()]),
        ))
    }

    fn strs(xs: &[&str]) -> Arg<'static> {
        constant(Const::List(
            xs.iter().map(|s| Const::Str(s.to_string())).collect(),
        ))
    }

    fn bools(v: &Value) -> Vec<bool> {
        match &v.data {
            Data::Bool(b) => b.clone(),
            other => panic!("not flags: {other:?}"),
        }
    }

    fn reals(v: &Value) -> Vec<f64> {
        v.reals().map(|r| r.into_owned()).unwrap_or_default()
    }

    /// Atom-Searcher's and G-RA's rewards on a demonstration.
    fn full_marks(s: &Sample) {
        let d = s.demonstration.as_str();
        let mut fx = Fixture::new(&[(&[d], Json::Object(s.fields.clone()))]);
        let well_formed = eval(
            &mut fx,
            "atomic_format",
            vec![("text", text(d))],
            (Scope::Response, Kind::Bool),
        );
        assert_eq!(bools(&well_formed), [true], "atomic_format: {d}");
        let atoms = eval(
            &mut fx,
            "segments",
            vec![
                ("text", text(d)),
                ("tags", strs(&["plan", "reflect", "verify", "act"])),
            ],
            (Scope::Segment, Kind::Text),
        );
        let hops = s.fields["path"].as_str().unwrap_or("").lines().count();
        let scores = reals(&eval(
            &mut fx,
            "judge.atoms",
            vec![("segments", Arg::from(atoms))],
            (Scope::Segment, Kind::Real),
        ));
        assert_eq!(scores, vec![1.0; hops], "judge.atoms: {d}");
        let answer = Arg::from(Value::new(
            Scope::Response,
            SetId::Main,
            Data::Label(vec![extract_answer(d)]),
        ));
        let gold = Arg::from(Value::new(
            Scope::Group,
            SetId::Main,
            Data::Label(vec![Some(s.answer().to_string())]),
        ));
        let f1 = eval(
            &mut fx,
            "token_f1",
            vec![("a", answer), ("b", gold)],
            (Scope::Response, Kind::Real),
        );
        assert_eq!(reals(&f1), [1.0], "token_f1: {d}");
        // G-RA: every turn (cut at tool outputs) makes a search call or gives the answer.
        let turns = eval(
            &mut fx,
            "turns_of",
            vec![("text", text(d))],
            (Scope::Segment, Kind::Text),
        );
        let step = |fx: &mut Fixture, pattern: &str| {
            let p = constant(Const::Str(pattern.to_string()));
            bools(&eval(
                fx,
                "matches",
                vec![("text", Arg::from(turns.clone())), ("pattern", p)],
                (Scope::Segment, Kind::Bool),
            ))
        };
        assert_eq!(
            step(&mut fx, "<search>|<answer>"),
            vec![true; hops + 1],
            "turns: {d}"
        );
        // The recipe's pattern names ToolRL's call tag, so only the answering turn matches.
        let recipe = step(&mut fx, "<tool_call>|<answer>");
        assert_eq!(recipe.iter().filter(|b| **b).count(), 1);
    }

    #[test]
    fn common_checks() {
        common(|seed| task(seed, &[]), 2000);
        common(
            |seed| {
                task(
                    seed,
                    &[
                        ("hops", int(3)),
                        ("entities", int(30)),
                        ("relations", int(3)),
                    ],
                )
            },
            1000,
        );
    }

    #[test]
    fn demonstrations_score_full_marks() {
        for args in [
            vec![],
            vec![("hops", int(1))],
            vec![("hops", int(3)), ("relations", int(30))],
            vec![
                ("hops", int(2)),
                ("entities", int(40)),
                ("relations", int(2)),
            ],
        ] {
            let t = task(5, &args);
            for split in [Split::Train, Split::Heldout] {
                for i in 0..40 {
                    full_marks(&t.sample(split, i));
                }
            }
        }
    }

    #[test]
    fn demonstration_results_are_what_kb_lookup_returns() {
        let t = task(3, &[]);
        let s = t.sample(Split::Train, 0);
        assert!(
            s.prompt().contains("Question: Who is the "),
            "{}",
            s.prompt()
        );
        let d = &s.demonstration;
        let mut rest = d.as_str();
        let mut calls = 0;
        while let Some(i) = rest.find("<search>") {
            let after = &rest[i + "<search>".len()..];
            let Some(j) = after.find("</search>") else {
                break;
            };
            let query = &after[..j];
            let output = t.kb.lookup(query, DEMO_TOP_K);
            let tail = &after[j + "</search>".len()..];
            assert!(tail.starts_with(&output), "{tail}");
            // The fact asked for is ranked first.
            let first = output
                .trim_start_matches("<result>")
                .lines()
                .next()
                .unwrap_or("");
            assert!(
                s.fields["path"]
                    .as_str()
                    .unwrap_or("")
                    .lines()
                    .any(|l| l == first),
                "{first}"
            );
            rest = tail;
            calls += 1;
        }
        assert_eq!(calls, 2);
        assert_eq!(s.fields["path"], s.fields["facts"]);
        // An empty instruction leaves the question alone.
        let bare = task(3, &[("instruction", Const::Str(String::new()))]);
        let p = bare.sample(Split::Train, 0).fields["prompt"].clone();
        assert_eq!(
            p.as_str().map(|p| p.starts_with("Question: Who is the ")),
            Some(true)
        );
        // With `top_k = 1` each result is the one fact asked for.
        let one = task(3, &[("top_k", Const::Int(1))]);
        let s = one.sample(Split::Train, 0);
        let path: Vec<&str> = s.fields["path"].as_str().unwrap_or("").lines().collect();
        for fact in &path {
            assert!(
                s.demonstration
                    .contains(&format!("<result>{fact}</result>")),
                "{}",
                s.demonstration
            );
        }
    }

    #[test]
    fn search_ranks_the_asked_direction_first() {
        let t = task(1, &[("entities", int(50))]);
        for f in &t.kb.facts {
            let role = &t.kb.relations[f.relation].role;
            let q = format!("{role} of {}", t.kb.names[f.object]);
            assert_eq!(t.kb.search(&q, 1), vec![f.text.as_str()]);
        }
        assert_eq!(t.kb.lookup("", 3), "<result>no matching facts</result>");
        assert_eq!(
            t.kb.lookup("zzz qqq", 3),
            "<result>no matching facts</result>"
        );
        assert_eq!(t.kb.search("mentor advisor", 2).len(), 2);
    }

    #[test]
    fn names_are_unique_and_relations_distinct() {
        let t = task(9, &[("entities", int(5000)), ("relations", int(40))]);
        let names: BTreeSet<&String> = t.kb.names.iter().collect();
        assert_eq!(names.len(), 5000);
        let mut words: Vec<&str> =
            t.kb.relations
                .iter()
                .flat_map(|r| [r.verb.as_str(), r.role.as_str()])
                .collect();
        words.sort_unstable();
        let n = words.len();
        words.dedup();
        assert_eq!(words.len(), n);
        // Large spaces are sampled by drawing.
        assert!(t.lists.is_none());
        let s = t.sample(Split::Heldout, 7);
        assert_eq!(
            fingerprint(s.prompt().rsplit("Question: ").next().unwrap_or("")) % 10,
            0
        );
    }

    #[test]
    fn the_default_instruction_is_the_registry_default() {
        crate::testkit::assert_registry_default(NAME, "instruction", INSTRUCTION);
    }

    #[test]
    fn bad_arguments_are_errors() {
        for args in [
            vec![("entities", int(1))],
            vec![("hops", int(0))],
            vec![("hops", int(1000))],
            vec![("entities", int(10_000_000))],
            vec![("relations", int(0))],
            vec![("top_k", int(0))],
            vec![
                ("entities", int(2)),
                ("relations", int(1)),
                ("hops", int(1)),
            ],
        ] {
            let e = MultihopKb::build(&decl("multihop_kb", &args), 1).err();
            assert!(e.is_some(), "{args:?}");
        }
    }
}
