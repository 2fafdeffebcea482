//! `jsonl(path, prompt, answer, fields)`: prompts from a user's JSON Lines
//! file.
//!
//! Every non-blank line is one JSON object. `sample.prompt` and
//! `sample.answer` come from the keys named by `prompt` and `answer`, and
//! each key listed in `fields` is exposed as `sample.KEY`. Values become
//! JSON strings (a string as it is, a number or boolean as written, an array
//! of strings one element per line, anything else as JSON text), except that
//! an array of numbers under a `fields` key stays an array (a vector). A line
//! that is not a JSON object, or that lacks one of these keys (or holds null
//! there), is an error naming the line.
//!
//! A line's split is decided by the fingerprint of its prompt (held-out iff
//! it is 0 modulo 10), so equal prompts are always in the same split; problem
//! `index` of a split is its `index mod n`-th line in file order. The
//! demonstration is the answer as written.

use rlr_lang::ir::{Const, Decl};
use serde_json::{Map, Value as Json};

use crate::{Sample, Split, Task, arg, fingerprint};

/// The `jsonl` task: the file's rows, split.
pub struct Jsonl {
    /// Train rows, then held-out rows, in file order.
    rows: [Vec<Sample>; 2],
}

fn index(split: Split) -> usize {
    match split {
        Split::Train => 0,
        Split::Heldout => 1,
    }
}

fn text_of(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Array(items) if items.iter().all(Json::is_string) => items
            .iter()
            .filter_map(Json::as_str)
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

fn string_arg(decl: &Decl, name: &str, default: &str) -> String {
    match arg(decl, name) {
        Some(Const::Str(s)) => s.clone(),
        _ => default.to_string(),
    }
}

impl Jsonl {
    /// Reads the file named by `path` through `read` and builds the task.
    pub fn build(
        decl: &Decl,
        read: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<Jsonl, String> {
        let Some(Const::Str(path)) = arg(decl, "path") else {
            return Err("jsonl: the `path` argument is missing".to_string());
        };
        let prompt_key = string_arg(decl, "prompt", "prompt");
        let answer_key = string_arg(decl, "answer", "answer");
        let extra: Vec<String> = match arg(decl, "fields") {
            Some(Const::List(items)) => items
                .iter()
                .map(|c| match c {
                    Const::Str(s) | Const::Name(s) => Ok(s.clone()),
                    other => Err(format!("jsonl: `fields` must list strings, not {other:?}")),
                })
                .collect::<Result<_, _>>()?,
            Some(Const::Str(s)) => vec![s.clone()],
            _ => Vec::new(),
        };
        for k in &extra {
            if k == "prompt" || k == "answer" {
                return Err(format!(
                    "jsonl: `fields` lists `{k}`, which is already `sample.{k}` (set by the `{k}` argument)"
                ));
            }
        }
        let text = read(path).map_err(|e| format!("jsonl: cannot read {path:?}: {e}"))?;
        let mut rows: [Vec<Sample>; 2] = [Vec::new(), Vec::new()];
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            let obj = match serde_json::from_str::<Json>(line) {
                Ok(Json::Object(o)) => o,
                Ok(_) => return Err(format!("{path}:{n}: the line is not a JSON object")),
                Err(e) => return Err(format!("{path}:{n}: malformed JSON: {e}")),
            };
            let get = |key: &str| match obj.get(key) {
                None | Some(Json::Null) => Err(format!("{path}:{n}: the line has no key `{key}`")),
                Some(v) => Ok(v),
            };
            let prompt = text_of(get(&prompt_key)?);
            let answer = text_of(get(&answer_key)?);
            let mut fields = Map::new();
            fields.insert("prompt".into(), Json::String(prompt.clone()));
            fields.insert("answer".into(), Json::String(answer.clone()));
            for k in &extra {
                let v = get(k)?;
                let value = match v {
                    Json::Array(items) if items.iter().all(Json::is_number) => v.clone(),
                    other => Json::String(text_of(other)),
                };
                fields.insert(k.clone(), value);
            }
            let split = if fingerprint(&prompt).is_multiple_of(10) {
                Split::Heldout
            } else {
                Split::Train
            };
            rows[index(split)].push(Sample {
                fields,
                demonstration: answer,
                auxiliary: Vec::new(),
            });
        }
        let total = rows[0].len() + rows[1].len();
        if total == 0 {
            return Err(format!("jsonl: {path:?} has no prompts"));
        }
        for (s, name) in [(Split::Train, "train"), (Split::Heldout, "held-out")] {
            if rows[index(s)].is_empty() {
                return Err(format!(
                    "jsonl: none of the {total} prompts of {path:?} falls in the {name} split (about one prompt in ten is held out, by a fingerprint of its text); add prompts"
                ));
            }
        }
        Ok(Jsonl { rows })
    }
}

impl Task for Jsonl {
    fn name(&self) -> &'static str {
        "jsonl"
    }

    fn sample(&self, split: Split, idx: u64) -> Sample {
        let rows = &self.rows[index(split)];
        let n = rows.len().max(1) as u64;
        rows.get((idx % n) as usize)
            .cloned()
            .unwrap_or_else(|| Sample {
                fields: Map::new(),
                demonstration: String::new(),
                auxiliary: Vec::new(),
            })
    }

    fn len(&self, split: Split) -> Option<u64> {
        Some(self.rows[index(split)].len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::testkit::{decl, text};

    fn file(n: usize) -> String {
        (0..n)
            .map(|i| format!("{{\"question\": \"What is {i} + 1?\", \"solution\": {}, \"refs\": [0.5, {i}], \"tags\": [\"a\", \"b\"], \"meta\": {{\"k\": {i}}}}}\n", i + 1))
            .collect()
    }

    fn build(content: &str, args: &[(&str, Const)]) -> Result<Jsonl, String> {
        let mut a: Vec<(&str, Const)> = vec![("path", text("data.jsonl"))];
        a.extend(args.iter().cloned());
        let content = content.to_string();
        Jsonl::build(&decl("jsonl", &a), &move |p: &str| {
            if p == "data.jsonl" {
                Ok(content.clone())
            } else {
                Err(format!("no file {p}"))
            }
        })
    }

    fn mapping() -> Vec<(&'static str, Const)> {
        vec![
            ("prompt", text("question")),
            ("answer", text("solution")),
            (
                "fields",
                Const::List(vec![text("refs"), text("tags"), text("meta")]),
            ),
        ]
    }

    #[test]
    fn rows_fields_and_splits() {
        let t = build(&file(300), &mapping()).unwrap_or_else(|e| panic!("{e}"));
        let (train, held) = (
            t.len(Split::Train).unwrap_or(0),
            t.len(Split::Heldout).unwrap_or(0),
        );
        assert_eq!(train + held, 300);
        assert!(held > 10 && train > 200, "{train} {held}");
        let mut prompts = [BTreeSet::new(), BTreeSet::new()];
        for (k, split) in [Split::Train, Split::Heldout].into_iter().enumerate() {
            for i in 0..600 {
                let s = t.sample(split, i);
                assert_eq!(s, t.sample(split, i));
                let keys: Vec<&str> = s.fields.keys().map(String::as_str).collect();
                assert_eq!(keys, ["answer", "meta", "prompt", "refs", "tags"]);
                assert!(s.fields["answer"].is_string() && s.fields["prompt"].is_string());
                assert!(s.fields["refs"].as_array().is_some_and(|a| a.len() == 2));
                assert_eq!(s.fields["tags"], Json::String("a\nb".into()));
                assert!(
                    s.fields["meta"]
                        .as_str()
                        .is_some_and(|m| m.starts_with("{\"k\":"))
                );
                assert_eq!(s.demonstration, s.answer());
                assert_eq!(
                    fingerprint(s.prompt()).is_multiple_of(10),
                    split == Split::Heldout
                );
                prompts[k].insert(s.prompt().to_string());
            }
        }
        assert_eq!(prompts[0].len() as u64, train);
        assert_eq!(prompts[0].intersection(&prompts[1]).count(), 0);
        // Default keys; a file too small to split is an error.
        let t = build("{\"prompt\": \"p1\", \"answer\": \"a\"}\n\n", &[]);
        assert!(t.is_err(), "one prompt cannot fill both splits");
    }

    #[test]
    fn errors_name_the_line_and_the_key() {
        let mut f = file(50);
        f.push_str("{\"question\": \"x\", \"solution\": 1\n");
        let e = build(&f, &mapping()).err().unwrap_or_default();
        assert!(
            e.contains("data.jsonl:51") && e.contains("malformed"),
            "{e}"
        );
        let f = file(3) + "[1, 2]\n";
        let e = build(&f, &mapping()).err().unwrap_or_default();
        assert!(
            e.contains("data.jsonl:4") && e.contains("not a JSON object"),
            "{e}"
        );
        let f = file(3) + "{\"question\": \"q\", \"solution\": 2, \"refs\": [], \"meta\": 1}\n";
        let e = build(&f, &mapping()).err().unwrap_or_default();
        assert!(e.contains("data.jsonl:4") && e.contains("`tags`"), "{e}");
        let e = build(&file(3), &[("answer", text("nope"))])
            .err()
            .unwrap_or_default();
        assert!(e.contains(":1") && e.contains("`prompt`"), "{e}");
        let e = build(&file(3), &[("prompt", text("question"))])
            .err()
            .unwrap_or_default();
        assert!(e.contains("`answer`"), "{e}");
        let e = Jsonl::build(&decl("jsonl", &[("path", text("other"))]), &|p: &str| {
            Err(format!("no file {p}"))
        })
        .err()
        .unwrap_or_default();
        assert!(
            e.contains("cannot read") && e.contains("no file other"),
            "{e}"
        );
        assert!(build("\n\n", &[]).is_err());
    }
}
