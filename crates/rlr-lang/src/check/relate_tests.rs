//! Whose rollouts a relation (`similarity`, `win_rate`, ...) belongs to when
//! its inputs come from different rollout sets.

use crate::types::Scope;

fn recipe(binding: &str) -> String {
    format!(
        "recipe \"r\" {{ seed = 1 }}\nmodel policy = gpt(layers = 2, width = 64, heads = 2)\n\
         task  train  = arith(max = 9)\nstage rl = grpo(policy, train) {{\n  \
         branch refs = rollout(sample.prompt, n = 2)\n  reward {{\n    \
         correct = exact(answer, sample.answer)\n    _sim = {binding}\n  }}\n  \
         optimize correct\n}}\n"
    )
}

/// The scope and rollout set `_sim` is typed with.
fn typed(binding: &str) -> (Scope, Option<String>) {
    let c = crate::compile("r.rlr", &recipe(binding), &mut crate::NoImports);
    assert!(!c.has_errors(), "{binding}: {:?}", c.diagnostics);
    let p = c.program.expect("compiles");
    let g = &p.stages[0].graph;
    let n = g.node(g.find("_sim").expect("_sim"));
    (n.ty.scope, n.rollouts.clone())
}

#[test]
fn a_prompt_compared_with_branch_rollouts_belongs_to_the_branch() {
    // The prompt's embedding is one per group: it has no rollouts, so the
    // reference rollouts decide, in either order. (Typed as a group value
    // before, it failed at run time reading the branch's responses.)
    for b in [
        "similarity(judge.embed(sample.prompt), judge.embed(refs.text))",
        "similarity(judge.embed(refs.text), judge.embed(sample.prompt))",
    ] {
        assert_eq!(typed(b), (Scope::Response, Some("refs".into())), "{b}");
    }
}

#[test]
fn the_first_per_response_input_decides_between_two_rollout_sets() {
    // PAR's shape: the main responses against the reference table.
    let b = "similarity(judge.embed(text), judge.embed(refs.text))";
    assert_eq!(typed(b), (Scope::Response, None));
    let b = "similarity(judge.embed(text), judge.embed(sample.prompt))";
    assert_eq!(typed(b), (Scope::Response, None));
}
