//! A reward binding bound to a number can stand where a constant is expected
//! (`gra(..., delta = d)`), so `--set` reaches constant-only arguments.

use crate::ir::{Arg, Const, ExprKind, Program};

fn recipe(bindings: &str, delta: &str) -> String {
    format!(
        "recipe \"c\" {{ seed = 1 }}\nmodel policy = gpt(layers = 2, width = 64, heads = 2)\n\
         task  train  = arith(max = 9)\nstage rl = grpo(policy, train) {{\n  reward {{\n\
         {bindings}\n    correct = exact(answer, sample.answer)\n    \
         total = gra(correct, 0.1 * (length <= 8), delta = {delta})\n  }}\n  optimize total\n}}\n"
    )
}

fn compile(text: &str) -> crate::Compilation {
    crate::compile("c.rlr", text, &mut crate::NoImports)
}

/// The constant `gra`'s `delta` received.
fn delta(p: &Program) -> Const {
    let g = &p.stages[0].graph;
    let node = g.node(g.find("total").expect("total"));
    let ExprKind::Call { args, .. } = &node.expr.kind else {
        panic!("total is not a call: {:?}", node.expr.kind)
    };
    match args.iter().find(|(n, _)| *n == "delta") {
        Some((_, Arg::Const(c))) => c.clone(),
        other => panic!("delta: {other:?}"),
    }
}

#[test]
fn a_numeric_binding_is_a_constant_argument_and_counts_as_used() {
    for (bindings, arg, want) in [
        ("    d = 0.3", "d", 0.3),
        ("    d = 0.3", "d * 2", 0.6),
        ("    half = 1 / 2", "half + 0.1", 0.6),
    ] {
        let text = recipe(bindings, arg);
        let c = compile(&text);
        assert!(c.diagnostics.is_empty(), "{arg}: {:?}", c.diagnostics);
        let got = delta(c.program.as_ref().expect("compiles")).as_f64();
        assert!(
            (got.expect("a number") - want).abs() < 1e-12,
            "{arg}: {got:?}"
        );
    }
}

#[test]
fn set_reaches_a_constant_argument_through_its_binding() {
    let text = recipe("    d = 0.3", "d");
    let sets = [("rl.d".to_string(), "0.7".to_string())];
    let text = crate::overrides::apply(&text, &sets).expect("the binding is a constant");
    let c = compile(&text);
    let got = delta(c.program.as_ref().expect("compiles")).as_f64();
    assert_eq!(got, Some(0.7));
}

#[test]
fn a_binding_computed_during_the_run_is_refused_where_a_constant_is_expected() {
    let text = recipe("    d = mean(correct)", "d");
    let c = compile(&text);
    let errors: Vec<_> = c.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{:?}", c.diagnostics);
    let e = errors[0];
    assert_eq!(e.code, "E0305");
    assert!(
        e.message.contains("`d` is computed during the run"),
        "{}",
        e.message
    );
    assert_eq!(&text[e.primary.span.range()], "d");
    assert!(
        e.help.as_deref().unwrap_or("").contains("d = 0.5"),
        "{:?}",
        e.help
    );
}
