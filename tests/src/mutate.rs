//! Random mutations of valid recipes never make the toolchain panic: each
//! mutant is compiled and formatted; when it formats, the output parses to
//! the same diagnostics codes and formatting it again changes nothing.

use std::panic::{AssertUnwindSafe, catch_unwind};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const TOKENS: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    "=",
    "==",
    "->",
    "+",
    "-",
    "*",
    "/",
    "^",
    "<=",
    "\"",
    "\\",
    "#",
    "\n",
    " ",
    "when",
    "else",
    "where",
    "if",
    "then",
    "not",
    "and",
    "or",
    "reward",
    "optimize",
    "stage",
    "fn",
    "import",
    "halt",
    "drop",
    "branch",
    "1e309",
    "0",
    "-1",
    "1_000",
    "sample.",
    "probe.text",
    "mean(",
    "max(",
    "judge.steps(",
    "x",
    "é",
    "\u{0}",
    "step",
    "steps",
    "linear(1 -> 0)",
    "__",
    ".",
    "\t",
];

fn char_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i.min(s.len())
}

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut s = text.to_string();
    for _ in 0..1 + rng.below(3) {
        let at = char_boundary(&s, rng.below(s.len() + 1));
        match rng.below(5) {
            0 => {
                let end = char_boundary(&s, at + rng.below(12));
                s.replace_range(at..end, "");
            }
            1 => s.insert_str(at, TOKENS[rng.below(TOKENS.len())]),
            2 => {
                let end = char_boundary(&s, at + rng.below(8));
                let tok = TOKENS[rng.below(TOKENS.len())];
                s.replace_range(at..end, tok);
            }
            3 => {
                let lines: Vec<&str> = s.lines().collect();
                if lines.len() > 2 {
                    let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                    let mut l: Vec<&str> = lines.clone();
                    l.swap(a, b);
                    s = l.join("\n");
                }
            }
            _ => {
                let lines: Vec<&str> = s.lines().collect();
                if !lines.is_empty() {
                    let line = lines[rng.below(lines.len())].to_string();
                    s.insert_str(at, &format!("\n{line}\n"));
                }
            }
        }
    }
    s
}

#[test]
fn random_mutations_never_panic() {
    let mut sources = Vec::new();
    for dir in [
        "recipes",
        "tests/fixtures/check/ok",
        "tests/fixtures/parse/ok",
    ] {
        for p in rlr_tests::files(dir, "rlr") {
            sources.push((
                rlr_tests::rel(&p),
                std::fs::read_to_string(&p).unwrap_or_default(),
            ));
        }
    }
    assert!(!sources.is_empty());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let rounds = 2500;
    for round in 0..rounds {
        let (name, text) = &sources[round % sources.len()];
        let mutant = mutate(&mut rng, text);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let c = rlr_tests::compile_text(name, &mutant);
            let _ = rlr_tests::render(&c);
            if let Ok(formatted) = rlr_lang::fmt::format(rlr_lang::SourceId(0), &mutant) {
                let again = rlr_lang::fmt::format(rlr_lang::SourceId(0), &formatted);
                assert_eq!(
                    again.as_deref().ok(),
                    Some(formatted.as_str()),
                    "fmt is not idempotent"
                );
                let c2 = rlr_tests::compile_text(name, &formatted);
                let codes = |c: &rlr_lang::Compilation| {
                    let mut v: Vec<&str> = c.diagnostics.iter().map(|d| d.code).collect();
                    v.sort_unstable();
                    v
                };
                assert_eq!(codes(&c), codes(&c2), "fmt changed what the checker says");
            }
        }));
        if let Err(e) = outcome {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
            panic!("round {round}, mutant of {name} failed: {msg:?}\n----- mutant -----\n{mutant}");
        }
    }
}
