//! Checking `optimize ... where M`: the mask's kinds and scopes, its node,
//! and the errors a wrong mask gets.

use crate::diagnostic::Diagnostic;
use crate::ir::Program;
use crate::types::{Kind, Scope};

fn recipe(reward: &str, optimize: &str) -> String {
    format!(
        "recipe \"w\" {{ seed = 1 }}\nmodel policy = gpt(layers = 2, width = 64, heads = 2)\n\
         task  train  = arith(max = 9)\nstage rl = grpo(policy, train) {{\n  branch again = \
         rollout(sample.prompt)\n  reward {{\n{reward}\n  }}\n  {optimize}\n}}\n"
    )
}

const REWARD: &str = "    correct = exact(answer, sample.answer)
    short   = length <= 8
    _again  = exact(again.answer, sample.answer)";

fn program(text: &str) -> Program {
    let c = crate::compile("t.rlr", text, &mut crate::NoImports);
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    c.program.expect("compiles")
}

fn error(text: &str) -> Diagnostic {
    let c = crate::compile("t.rlr", text, &mut crate::NoImports);
    let errors: Vec<&Diagnostic> = c.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{:?}", c.diagnostics);
    errors[0].clone()
}

#[test]
fn where_takes_response_token_and_coarser_bools() {
    for (m, scope) in [
        ("short", Scope::Response),
        ("entropy > 1", Scope::Token),
        ("forking_tokens(entropy)", Scope::Token),
        ("any(correct >= 0.5)", Scope::Group),
        ("true", Scope::Step),
    ] {
        let text = recipe(REWARD, &format!("optimize correct where {m}"));
        let p = program(&text);
        let s = &p.stages[0];
        let o = &s.objectives[0];
        let n = s.graph.node(o.r#where.expect("a mask"));
        assert_eq!((n.ty.scope, n.ty.kind), (scope, Kind::Bool), "{m}");
        // A binding is used by name; an expression becomes `optimize.where`.
        let name = if m == "short" {
            "short"
        } else {
            "optimize.where"
        };
        assert_eq!(n.name, name);
        let dump = crate::dump::text(&p);
        assert!(
            dump.contains(&format!("optimize correct where {name}\n")),
            "{dump}"
        );
    }
    // With the other clauses, in any order, and on a branch.
    let text = recipe(
        REWARD,
        "optimize correct where short weight 0.5 scaled by 2\n  optimize _again on again where again.length <= 8",
    );
    let p = program(&text);
    assert!(crate::dump::text(&p).contains(
        "optimize correct scaled by optimize.scale weight optimize.weight where short\n"
    ));
}

#[test]
fn a_numeric_mask_is_an_error_with_its_span() {
    let text = recipe(REWARD, "optimize correct where correct * 2");
    let d = error(&text);
    assert_eq!(d.code, "E0186");
    assert_eq!(&text[d.primary.span.range()], "correct * 2");
    assert!(d.message.contains("found response real"), "{}", d.message);
    assert!(
        d.help.as_deref().unwrap_or("").contains("scaled by"),
        "{d:?}"
    );
    let d = error(&recipe(REWARD, "optimize correct where answer"));
    assert_eq!(d.code, "E0186");
}

#[test]
fn a_segment_mask_must_be_reduced_first() {
    let text = recipe(REWARD, "optimize correct where steps_of(text) == \"a\"");
    let d = error(&text);
    assert_eq!(d.code, "E0186");
    assert!(d.message.contains("segment bool"), "{}", d.message);
    assert!(d.help.as_deref().unwrap_or("").contains("all("), "{d:?}");
}

#[test]
fn a_mask_from_other_rollouts_is_an_error() {
    let text = recipe(REWARD, "optimize correct where again.length <= 8");
    let d = error(&text);
    assert_eq!(d.code, "E0221");
    assert_eq!(&text[d.primary.span.range()], "again.length <= 8");
    // Reduced to the group, it broadcasts to the main rollouts.
    program(&recipe(
        REWARD,
        "optimize correct where any(again.length <= 8)",
    ));
}
