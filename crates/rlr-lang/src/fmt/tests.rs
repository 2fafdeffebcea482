use super::*;
use crate::ast::{Arg, BinaryOp, Call, Expr, ExprKind, Ident, Item, Path, UnaryOp};
use crate::source::Span;

fn fmt(text: &str) -> String {
    match format(SourceId(0), text) {
        Ok(s) => s,
        Err(d) => panic!("format failed: {d:?}\n--- input ---\n{text}"),
    }
}

fn parse_ok(text: &str) -> crate::ast::File {
    match parse::parse(SourceId(0), text) {
        Ok(f) => f,
        Err(d) => panic!("parse failed: {d:?}\n--- input ---\n{text}"),
    }
}

/// Formats `text` and checks every promise: idempotent, same tree, same
/// comments (every one, by text, in a line of its own or after code).
fn check(text: &str) -> String {
    let out = fmt(text);
    assert_eq!(fmt(&out), out, "not idempotent; first pass:\n{out}");
    let (a, b) = (parse_ok(text), parse_ok(&out));
    assert_eq!(
        verify::without_spans(&a.items),
        verify::without_spans(&b.items),
        "tree changed:\n{out}"
    );
    let mut ta: Vec<&str> = a.comments.iter().map(|c| c.text.as_str()).collect();
    let mut tb: Vec<&str> = b.comments.iter().map(|c| c.text.as_str()).collect();
    ta.sort_unstable();
    tb.sort_unstable();
    assert_eq!(ta, tb, "comments changed:\n{out}");
    for line in out.lines() {
        assert_eq!(line.trim_end(), line, "trailing blanks in {line:?}");
    }
    assert!(!out.contains("\n\n\n"), "two blank lines in a row:\n{out}");
    out
}

const SOPHIAVL: &str = r#"# recipes/sophiavl_r1.rlr
# SophiaVL-R1: a rule-based outcome reward plus a thinking reward that is trusted
# only as far as it agrees with correctness (Trust-GRPO) and annealed away over training.
recipe "SophiaVL-R1" { paper = "arXiv:2505.17018", seed = 17 }

model policy = gpt(layers = 4, width = 256, heads = 4, tokenizer = "char")
task  train  = arith_chain(operands = 3, max = 99, show_steps = true)

stage warmup = sft(policy, train, steps = 400, lr = 3e-4)

stage rl = grpo(policy, train) {
  steps = 300   prompts = 16   group = 8   lr = 2e-5   kl = 0.04

  reward {
    outcome  = exact(answer, sample.answer)                       # response, real
    thinking = judge.steps(think, sample) when outcome >= 0.2 else 0
    correct  = outcome >= 0.5
    gap      = mean(thinking where correct) - mean(thinking where not correct) else 0
    trust    = if gap < 0 then exp(gap) else 1                    # group, real
    alpha    = 0.3 * exp(-step / steps)                           # step, real
    total    = outcome + trust * alpha * thinking
  }
  optimize total
}
"#;

const PEARL: &str = r#"# recipes/pearl.rlr
# PEARL: the policy first answers a perception checklist about the evidence; the
# perceptual reward trains perception directly, halts reasoning on prompts whose
# evidence was not perceived, and scales the reasoning advantage of the others.
recipe "PEARL" { paper = "arXiv:2511.18437", seed = 7 }

model policy = gpt(layers = 4, width = 256, heads = 4, tokenizer = "char")
task  train  = evidence_math(facts = 4, checklist = true)

stage warmup = sft(policy, train, steps = 400, lr = 3e-4)

stage rl = dapo(policy, train) {
  steps = 300   prompts = 16   group = 5   clip = (0.2, 0.28)

  branch probe = rollout(sample.checklist_prompt, n = group)

  reward {
    perceived = answers_correct(probe.text, sample.checklist_answers)   # on the probe branch
    evidence  = mean(perceived)                                         # group
    accuracy  = math_equal(boxed(text), sample.answer)
    form      = matches(text, "<think>.*</think>.*\\boxed\\{.*\\}")
    outcome   = 0.9 * accuracy + 0.1 * form
  }

  halt when evidence <= 0.01 unless chance(0.3)        # fidelity gate, before main rollouts
  optimize outcome  scaled by max(evidence, 0.5)       # evidence-anchored advantage
  optimize perceived on probe  weight 0.1              # direct perception reinforcement
}
"#;

const ATOM_SEARCHER: &str = r#"# recipes/atom_searcher.rlr
# Atom-Searcher: a reasoning reward model scores each atomic thought; a curriculum moves
# the weight from that process reward to the outcome F1 as training goes on.
recipe "Atom-Searcher" { paper = "arXiv:2508.12800", seed = 3 }

model policy = gpt(layers = 4, width = 256, heads = 4, tokenizer = "char")
task  train  = multihop_kb(hops = 2, entities = 200)
tool  search = kb_lookup(train)

stage warmup = sft(policy, train, steps = 600, lr = 3e-4)

stage rl = grpo(policy, train) {
  steps = 300   group = 8   turns = 4   tools = [search]   mask = tool_output

  reward {
    well_formed = atomic_format(text)
    atoms       = segments(text, tags = ["plan", "reflect", "verify", "act"])
    atr         = mean(judge.atoms(atoms, sample))                  # segment -> response
    f1          = token_f1(answer, sample.answer)
    alpha       = linear(0.5 -> 0, over = steps)
    total       = if well_formed then alpha * atr + (1 - alpha) * f1 else -1
  }
  optimize total
}
"#;

const EXAMPLES: [&str; 3] = [SOPHIAVL, PEARL, ATOM_SEARCHER];

#[test]
fn examples_are_stable_and_keep_their_meaning_and_comments() {
    for text in EXAMPLES {
        let out = check(text);
        assert_eq!(parse_ok(text).comments.len(), parse_ok(&out).comments.len());
    }
}

#[test]
fn pearl_reads_as_expected() {
    let expected = r#"# recipes/pearl.rlr
# PEARL: the policy first answers a perception checklist about the evidence; the
# perceptual reward trains perception directly, halts reasoning on prompts whose
# evidence was not perceived, and scales the reasoning advantage of the others.
recipe "PEARL" { paper = "arXiv:2511.18437", seed = 7 }

model policy = gpt(layers = 4, width = 256, heads = 4, tokenizer = "char")
task  train  = evidence_math(facts = 4, checklist = true)

stage warmup = sft(policy, train, steps = 400, lr = 3e-4)

stage rl = dapo(policy, train) {
  steps   = 300
  prompts = 16
  group   = 5
  clip    = (0.2, 0.28)

  branch probe = rollout(sample.checklist_prompt, n = group)

  reward {
    perceived = answers_correct(probe.text, sample.checklist_answers)  # on the probe branch
    evidence  = mean(perceived)  # group
    accuracy  = math_equal(boxed(text), sample.answer)
    form      = matches(text, "<think>.*</think>.*\\boxed\\{.*\\}")
    outcome   = 0.9 * accuracy + 0.1 * form
  }

  halt when evidence <= 0.01 unless chance(0.3)  # fidelity gate, before main rollouts
  optimize outcome scaled by max(evidence, 0.5)  # evidence-anchored advantage
  optimize perceived on probe weight 0.1  # direct perception reinforcement
}
"#;
    assert_eq!(fmt(PEARL), expected);
}

#[test]
fn examples_survive_comments_everywhere() {
    // A trailing comment on every line and a full-line comment between
    // every two lines, in turn and together.
    for text in EXAMPLES {
        for mode in 0..3 {
            let mut src = String::new();
            for (i, line) in text.lines().enumerate() {
                if mode != 0 {
                    src.push_str(&format!("# full {i}\n"));
                }
                src.push_str(line);
                if mode != 1 {
                    src.push_str(&format!(" # trail {i}"));
                }
                src.push('\n');
            }
            let out = check(&src);
            for (i, line) in text.lines().enumerate() {
                let code = !line.trim().is_empty() && !line.contains('#');
                if mode != 0 {
                    assert!(out.contains(&format!("# full {i}\n")), "{out}");
                }
                if mode != 1 && code {
                    assert!(out.contains(&format!("  # trail {i}\n")), "{i}: {out}");
                }
            }
        }
    }
}

#[test]
fn examples_survive_squashed_whitespace() {
    for text in EXAMPLES {
        // Drop comments, then put everything on one line.
        let squashed: Vec<&str> = text
            .lines()
            .map(|l| l.split(" #").next().unwrap_or(""))
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect();
        let squashed = squashed.join(" ");
        let out = check(&squashed);
        let tall: Vec<&str> = squashed.split(' ').filter(|w| !w.is_empty()).collect();
        // Without blank lines in the input, the layout does not depend on
        // the input's.
        assert_eq!(check(&tall.join("\n")), out);
        check(&tall.join("\n\n\n"));
    }
}

#[test]
fn settings_split_and_align() {
    let out = check("stage s = g(p, t) { steps = 300   prompts = 16 kl = 0.04 }");
    assert_eq!(
        out,
        "stage s = g(p, t) {\n  steps   = 300\n  prompts = 16\n  kl      = 0.04\n}\n"
    );
}

#[test]
fn alignment_runs_break_at_blank_and_comment_lines() {
    let src = "stage s = g(p, t) {\n  reward {\n    a = 1\n    long_name = 2\n\n    b = 3\n    # about cc\n    cc = 4\n    dddd = 5  # trailing does not break\n    e = 6\n  }\n}\n";
    let expected = "stage s = g(p, t) {\n  reward {\n    a         = 1\n    long_name = 2\n\n    b = 3\n    # about cc\n    cc   = 4\n    dddd = 5  # trailing does not break\n    e    = 6\n  }\n}\n";
    assert_eq!(check(src), expected);
}

#[test]
fn fn_blocks_align_and_keep_their_form() {
    let src = "fn trust(score, correct, floor = 0.1) { gap = mean(score where correct) else 0\n weight = max(exp(gap), floor)\n weight * score }\nfn half(x) = x / 2\nfn id(x) { x }";
    let expected = "fn trust(score, correct, floor = 0.1) {\n  gap    = mean(score where correct) else 0\n  weight = max(exp(gap), floor)\n  weight * score\n}\n\nfn half(x) = x / 2\n\nfn id(x) {\n  x\n}\n";
    assert_eq!(check(src), expected);
}

#[test]
fn declarations_align_keyword_and_name() {
    let src = "model policy = gpt(layers = 4)\ntask train = arith()\ntool search = kb(train)\n\nmodel r = gpt()";
    let expected = "model policy = gpt(layers = 4)\ntask  train  = arith()\ntool  search = kb(train)\n\nmodel r = gpt()\n";
    assert_eq!(check(src), expected);
}

#[test]
fn blank_lines() {
    // Collapsed to one; forced before fn and stage; none after `{` or before `}`.
    let src = "import \"a.rlr\"\n\n\n\nimport \"b.rlr\"\nmodel p = gpt()\nfn f(x) = x\nstage s = g(p, t) {\n\n\n  steps = 1\n\n\n\n  lr = 2\n\n\n}\nstage t = g(p, t)";
    let expected = "import \"a.rlr\"\n\nimport \"b.rlr\"\nmodel p = gpt()\n\nfn f(x) = x\n\nstage s = g(p, t) {\n  steps = 1\n\n  lr = 2\n}\n\nstage t = g(p, t)\n";
    assert_eq!(check(src), expected);
    // The forced blank line goes before a stage's leading comments.
    let src = "model p = gpt()\n# the stage\nstage s = g(p, t)\n";
    assert_eq!(
        check(src),
        "model p = gpt()\n\n# the stage\nstage s = g(p, t)\n"
    );
}

#[test]
fn empty_forms_keep_their_shape() {
    let src =
        "recipe \"x\" {}\nstage a = g(p, t) {}\nstage b = g(p, t)\nstage c = g() { reward {} }\n";
    let expected = "recipe \"x\"\n\nstage a = g(p, t) {}\n\nstage b = g(p, t)\n\nstage c = g() {\n  reward {}\n}\n";
    assert_eq!(check(src), expected);
    assert_eq!(check(""), "");
    assert_eq!(check("  \n\n"), "");
    assert_eq!(check("# only\n\n\n# comments"), "# only\n\n# comments\n");
}

fn expr_of(src: &str) -> String {
    let out = check(&format!("fn f() = {src}"));
    out.trim_end().trim_start_matches("fn f() = ").to_string()
}

#[test]
fn parentheses_only_where_needed() {
    for (src, want) in [
        ("(a + b) * c", "(a + b) * c"),
        ("a + (b * c)", "a + b * c"),
        ("a - (b - c)", "a - (b - c)"),
        ("(a - b) - c", "a - b - c"),
        ("a / (b * c)", "a / (b * c)"),
        ("-(x ^ 2)", "-x ^ 2"),
        ("-x ^ 2", "-x ^ 2"),
        ("(-x) ^ 2", "(-x) ^ 2"),
        ("2 ^ 3 ^ 2", "2 ^ 3 ^ 2"),
        ("2 ^ (3 ^ 2)", "2 ^ 3 ^ 2"),
        ("(2 ^ 3) ^ 2", "(2 ^ 3) ^ 2"),
        ("not (a and b)", "not (a and b)"),
        ("not a and b", "not a and b"),
        ("(not a) and b", "not a and b"),
        ("not (a == b)", "not a == b"),
        ("(not a) == b", "(not a) == b"),
        ("a * (not b)", "a * (not b)"),
        ("a or (b and c)", "a or (b and c)"),
        ("a and b or c", "(a and b) or c"),
        ("(a or b) and c", "(a or b) and c"),
        ("a < (b < c)", "a < (b < c)"),
        ("a - -b", "a - -b"),
        ("2 ^ (-x)", "2 ^ (-x)"),
        ("--x", "--x"),
        ("((((a))))", "a"),
        ("(if c then a else b) + 1", "(if c then a else b) + 1"),
        ("1 + (if c then a else b)", "1 + (if c then a else b)"),
        ("-(if c then a else b)", "-(if c then a else b)"),
        ("if c then a else (b + 1)", "if c then a else b + 1"),
        ("(a when c else b) * 2", "(a when c else b) * 2"),
        (
            "(a when c else b) when d else e",
            "(a when c else b) when d else e",
        ),
        (
            "a when c else (b when d else e)",
            "a when c else b when d else e",
        ),
        (
            "(if c then a else b) when d else e",
            "(if c then a else b) when d else e",
        ),
        ("f((a, b), [c, (d)], x.y)", "f((a, b), [c, d], x.y)"),
        (
            "linear(0.5 -> 0, over = steps)",
            "linear(0.5 -> 0, over = steps)",
        ),
        ("mean(x where (c and d))", "mean(x where c and d)"),
        ("1_000 + 3E-4 + 0.50", "1_000 + 3E-4 + 0.50"),
    ] {
        assert_eq!(expr_of(src), want, "formatting {src}");
    }
}

#[test]
fn string_escapes_are_canonical() {
    assert_eq!(
        expr_of(r#""a\u{41}\t\"\\\r\n\u{1b}\u{7f}é""#),
        r#""aA\t\"\\\r\n\u{1B}\u{7F}é""#
    );
    assert_eq!(
        check("recipe \"say \\\"hi\\\"\""),
        "recipe \"say \\\"hi\\\"\"\n"
    );
}

#[test]
fn long_calls_break_one_argument_per_line() {
    let src = "model policy = gpt(layers = 4, width = 256, heads = 4, tokenizer = \"char\", context = 1024, dropout = 0.1)\n";
    let expected = "model policy = gpt(\n    layers = 4,\n    width = 256,\n    heads = 4,\n    tokenizer = \"char\",\n    context = 1024,\n    dropout = 0.1,\n)\n";
    assert_eq!(check(src), expected);
    let src = "stage rl = grpo(policy, train, steps = 300, prompts = 16, group = 8, lr = 2e-5, kl = 0.04, clip = 0.2) { optimize total }";
    let expected = "stage rl = grpo(\n    policy,\n    train,\n    steps = 300,\n    prompts = 16,\n    group = 8,\n    lr = 2e-5,\n    kl = 0.04,\n    clip = 0.2,\n) {\n  optimize total\n}\n";
    assert_eq!(check(src), expected);
    let src = "stage s = g(p, t) { reward { x = some_long_function_name(first_argument, second_argument, third_argument = 3) else fallback_value\n yy = 1 } }";
    let expected = "stage s = g(p, t) {\n  reward {\n    x  = some_long_function_name(\n        first_argument,\n        second_argument,\n        third_argument = 3,\n    ) else fallback_value\n    yy = 1\n  }\n}\n";
    assert_eq!(check(src), expected);
    // Exactly 100 columns stays on one line.
    let name = "n".repeat(100 - "model m = f()".len());
    let src = format!("model m = f({name})\n");
    assert_eq!(check(&src), src);
    let src = format!("model m = f({name}x)\n");
    assert_eq!(check(&src), format!("model m = f(\n    {name}x,\n)\n"));
}

#[test]
fn long_recipe_header_takes_a_field_per_line() {
    let src = "recipe \"A recipe with a long name\" { paper = \"arXiv:2505.17018\", seed = 17, authors = \"Somebody et al.\" }";
    let expected = "recipe \"A recipe with a long name\" {\n  paper   = \"arXiv:2505.17018\",\n  seed    = 17,\n  authors = \"Somebody et al.\",\n}\n";
    assert_eq!(check(src), expected);
}

#[test]
fn comments_stay_put() {
    let src = "\
# file header

recipe \"x\" { seed = 1 } # trailing the recipe
# before the model
model p = gpt() # after the model
stage s = g(p, t) { # after the brace
  # before steps
  steps = 1 # after steps
  reward { # after reward brace
    a = 1 # after a
    # end of reward
  } # after reward
  optimize a
  # end of stage
} # after stage
# end of file
";
    let expected = "\
# file header

recipe \"x\" { seed = 1 }  # trailing the recipe
# before the model
model p = gpt()  # after the model

stage s = g(p, t) {  # after the brace
  # before steps
  steps = 1  # after steps
  reward {  # after reward brace
    a = 1  # after a
    # end of reward
  }  # after reward
  optimize a
  # end of stage
}  # after stage
# end of file
";
    assert_eq!(check(src), expected);
}

#[test]
fn comments_inside_calls_break_them() {
    let src = "model p = gpt(layers = 4, # depth\n  width = 256)\nstage s = g( # open\n  p,\n  # the task\n  t\n  # end of args\n) { optimize x }\n";
    let expected = "model p = gpt(\n    layers = 4,  # depth\n    width = 256,\n)\n\nstage s = g(  # open\n    p,\n    # the task\n    t,\n    # end of args\n) {\n  optimize x\n}\n";
    assert_eq!(check(src), expected);
    let src = "recipe \"x\" { seed = 1, # the seed\n paper = \"p\" }";
    let expected = "recipe \"x\" {\n  seed  = 1,  # the seed\n  paper = \"p\",\n}\n";
    assert_eq!(check(src), expected);
}

#[test]
fn comments_inside_expressions_move_before_their_statement() {
    let src = "stage s = g(p, t) {\n  reward {\n    a = 1\n    b = a + # one\n        2 * # two\n        a\n    c = 3\n  }\n  optimize b + # three\n    c\n}\n";
    let expected = "stage s = g(p, t) {\n  reward {\n    a = 1\n    # one\n    # two\n    b = a + 2 * a\n    c = 3\n  }\n  # three\n  optimize b + c\n}\n";
    assert_eq!(check(src), expected);
    // A comment before the brace of a block has nowhere better to go.
    let src =
        "stage s = g(p, t) # odd\n{ optimize x }\nfn f(a, # param\n b) { a # inside result\n + b }";
    let out = check(src);
    assert!(out.starts_with("# odd\nstage s = g(p, t) {\n"), "{out}");
    assert!(
        out.contains("# param\nfn f(a, b) {\n  # inside result\n  a + b\n}"),
        "{out}"
    );
}

#[test]
fn crlf_and_tabs() {
    let src = "stage s = g(p, t) {\r\n\tsteps = 1\t# tab\r\n\r\n\tlr = 2\r\n}\r\n";
    assert_eq!(
        check(src),
        "stage s = g(p, t) {\n  steps = 1  # tab\n\n  lr = 2\n}\n"
    );
}

#[test]
fn syntax_errors_are_reported() {
    let d = format(SourceId(3), "model policy gpt()").err();
    assert!(d.is_some_and(|d| d.primary.span.source == SourceId(3)));
}

#[test]
fn optimize_and_filters() {
    let src = "stage s = g(p, t) {\n optimize x weight 2 on probe scaled by max(e, 0.5)\n drop when a when b else c unless chance(0.3)\n weight = 3\n}";
    let expected = "stage s = g(p, t) {\n  optimize x on probe scaled by max(e, 0.5) weight 2\n  drop when a when b else c unless chance(0.3)\n  weight = 3\n}\n";
    assert_eq!(check(src), expected);
}

#[test]
fn optimize_where_goes_last_and_keeps_comments() {
    let src = "stage s = g(p, t) {\n optimize x where  kept and not mean(y where c) > 0 # the subset\n optimize x   where\n  m # split\n weight 0.5\n}";
    let expected = "stage s = g(p, t) {\n  optimize x where kept and not mean(y where c) > 0  # the subset\n  # split\n  optimize x weight 0.5 where m\n}\n";
    assert_eq!(check(src), expected);
}

// ------------------------------------------------------------ random trees

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn node(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

fn path(names: &[&str]) -> Path {
    Path {
        segments: names
            .iter()
            .map(|n| Ident {
                name: n.to_string(),
                span: Span::default(),
            })
            .collect(),
        span: Span::default(),
    }
}

const OPS: [BinaryOp; 13] = [
    BinaryOp::Or,
    BinaryOp::And,
    BinaryOp::Eq,
    BinaryOp::Ne,
    BinaryOp::Lt,
    BinaryOp::Le,
    BinaryOp::Gt,
    BinaryOp::Ge,
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Pow,
];

/// A random expression the parser could have produced.
fn gen_expr(rng: &mut Rng, depth: usize) -> Expr {
    let leaf = depth == 0 || rng.below(4) == 0;
    if leaf {
        return match rng.below(6) {
            0 => node(ExprKind::Number {
                value: 2.5,
                raw: "2.5".into(),
            }),
            1 => node(ExprKind::Number {
                value: 3e-4,
                raw: "3e-4".into(),
            }),
            2 => node(ExprKind::Str("q\"\\\u{1}\n".into())),
            3 => node(ExprKind::Bool(rng.below(2) == 0)),
            4 => node(ExprKind::Path(path(&["sample", "answer"]))),
            _ => node(ExprKind::Path(path(&[
                ["x", "on", "weight", "by"][rng.below(4)]
            ]))),
        };
    }
    let sub = |rng: &mut Rng| Box::new(gen_expr(rng, depth - 1));
    match rng.below(10) {
        0..=3 => {
            let mut op = OPS[rng.below(OPS.len())];
            let lhs = sub(rng);
            if op.is_comparison()
                && matches!(&lhs.kind, ExprKind::Binary { op, .. } if op.is_comparison())
            {
                op = BinaryOp::Add;
            }
            let rhs = sub(rng);
            node(ExprKind::Binary { op, lhs, rhs })
        }
        4 => {
            let op = if rng.below(2) == 0 {
                UnaryOp::Neg
            } else {
                UnaryOp::Not
            };
            let operand = sub(rng);
            node(ExprKind::Unary { op, operand })
        }
        5 => {
            let (cond, then, otherwise) = (sub(rng), sub(rng), sub(rng));
            node(ExprKind::If {
                cond,
                then,
                otherwise,
            })
        }
        6 => {
            let (value, cond, otherwise) = (sub(rng), sub(rng), sub(rng));
            node(ExprKind::When {
                value,
                cond,
                otherwise,
            })
        }
        7 => node(ExprKind::Tuple(vec![*sub(rng), *sub(rng)])),
        8 => node(ExprKind::List(
            (0..rng.below(3)).map(|_| *sub(rng)).collect(),
        )),
        _ => {
            let args = (0..rng.below(4))
                .map(|i| {
                    let mut value = *sub(rng);
                    if rng.below(4) == 0 {
                        value = node(ExprKind::Range {
                            from: Box::new(value),
                            to: sub(rng),
                        });
                    }
                    Arg {
                        name: (rng.below(2) == 0).then(|| Ident {
                            name: format!("k{i}"),
                            span: Span::default(),
                        }),
                        value,
                        filter: (rng.below(4) == 0).then(|| *sub(rng)),
                        span: Span::default(),
                    }
                })
                .collect();
            node(ExprKind::Call(Call {
                callee: path(&["judge", "steps"]),
                args,
                span: Span::default(),
            }))
        }
    }
}

#[test]
fn random_expressions_print_back_to_the_same_tree() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..1000 {
        let e = gen_expr(&mut rng, 5);
        let text = format!("fn f() = {}", expr::expr(&e));
        let file = parse_ok(&text);
        let Some(Item::Fn(f)) = file.items.first() else {
            panic!("not a fn: {text}");
        };
        let mut got = f.result.clone();
        verify::expr(&mut got);
        assert_eq!(got, e, "{text}");
    }
}

#[test]
fn random_statements_format_stably() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for _ in 0..60 {
        let mut e = || expr::expr(&gen_expr(&mut rng, 3));
        let text = format!(
            "fn f(a = {}) {{ x = {} else ({})\n ({}) }}\nstage s = g(k = {}) {{\n reward {{ y = {} else {} }}\n halt when {} unless {}\n optimize {} on b scaled by {} weight {}\n w = {}\n}}\n",
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            e()
        );
        check(&text);
    }
}

#[test]
fn fn_result_stays_apart_from_the_last_binding() {
    // `x = a` then `-b` would read as `x = a - b`; `x = a` then `(b, c)` as a call.
    for (src, want) in [
        (
            "fn f(a, b) { x = (a)\n (-b) }",
            "fn f(a, b) {\n  x = (a)\n  (-b)\n}\n",
        ),
        (
            "fn f(a, b) { x = 1\n (-b) }",
            "fn f(a, b) {\n  x = 1\n  (-b)\n}\n",
        ),
        (
            "fn f(a, b) { x = (a) else (b)\n (a, b) }",
            "fn f(a, b) {\n  x = a else (b)\n  (a, b)\n}\n",
        ),
        (
            "fn f(a, b) { x = g(a)\n (a, b) }",
            "fn f(a, b) {\n  x = g(a)\n  (a, b)\n}\n",
        ),
        ("fn f(a) { -a }", "fn f(a) {\n  -a\n}\n"),
    ] {
        assert_eq!(check(src), want, "formatting {src}");
    }
}

#[test]
fn a_comment_after_every_token() {
    for text in EXAMPLES {
        let tokens: Vec<String> = text
            .lines()
            .map(|l| l.split(" #").next().unwrap_or(""))
            .filter(|l| !l.trim_start().starts_with('#'))
            .flat_map(|l| l.split_whitespace())
            .enumerate()
            .map(|(i, t)| format!("{t} # c{i}"))
            .collect();
        let src = tokens.join("\n");
        let out = check(&src);
        assert_eq!(parse_ok(&out).comments.len(), tokens.len());
    }
}

#[test]
fn random_comments_and_blank_lines() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for round in 0..60 {
        let text = EXAMPLES[round % 3];
        let mut src = String::new();
        for (i, token) in text.split_inclusive(char::is_whitespace).enumerate() {
            src.push_str(token);
            // Never inside a string or a comment of the example itself.
            let safe = src.matches('"').count() & 1 == 0
                && !src.rsplit('\n').next().unwrap_or("").contains('#');
            match rng.below(12) {
                0 if safe => src.push_str(&format!("# t{i}\n")),
                1 if safe => src.push_str(&format!("\n# f{i}\n")),
                2 if safe => src.push_str("\n\n"),
                _ => {}
            }
        }
        check(&src);
    }
}
