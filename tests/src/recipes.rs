//! Every recipe and example checks, and `rlr fmt` leaves it unchanged.

#[test]
fn recipes_and_examples_check() {
    let mut n = 0;
    for dir in ["recipes", "examples"] {
        for p in rlr_tests::files(dir, "rlr") {
            let c = rlr_tests::compile_file(&p);
            assert!(
                !c.has_errors(),
                "{}:\n{}",
                rlr_tests::rel(&p),
                rlr_tests::render(&c)
            );
            // Library files define functions only; recipes must compile to a program with stages.
            if !rlr_tests::rel(&p).contains("/lib/") {
                let program = c.program.as_ref().map(|p| p.stages.len()).unwrap_or(0);
                assert!(program > 0, "{} has no stage", rlr_tests::rel(&p));
                let warnings: Vec<_> = c.diagnostics.iter().map(|d| d.message.clone()).collect();
                assert!(warnings.is_empty(), "{}: {warnings:?}", rlr_tests::rel(&p));
            }
            n += 1;
        }
    }
    assert!(n >= 4, "only {n} recipes found");
}

#[test]
fn recipes_and_examples_are_formatted() {
    for dir in ["recipes", "examples", "tests/fixtures/check/ok"] {
        for p in rlr_tests::files(dir, "rlr") {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let formatted = rlr_lang::fmt::format(rlr_lang::SourceId(0), &text);
            assert_eq!(
                formatted.as_deref().ok(),
                Some(text.as_str()),
                "{} is not formatted: run `rlr fmt {}`",
                rlr_tests::rel(&p),
                rlr_tests::rel(&p)
            );
        }
    }
}

#[test]
fn graphs_render_with_graphviz() {
    let dot = std::process::Command::new("dot").arg("-V").output();
    if dot.is_err() {
        eprintln!(
            "SKIPPED graphs_render_with_graphviz: Graphviz `dot` is not installed (.ci/run installs it)"
        );
        return;
    }
    for p in rlr_tests::files("recipes", "rlr") {
        let Some(program) = rlr_tests::compile_file(&p).program else {
            continue;
        };
        let text = rlr_lang::dump::dot(&program);
        let mut child = std::process::Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("dot starts");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("dot runs");
        assert!(
            out.status.success(),
            "{}: dot failed: {}",
            rlr_tests::rel(&p),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("<svg"),
            "{}: no SVG",
            rlr_tests::rel(&p)
        );
    }
}

#[test]
fn huge_recipes_are_handled() {
    // Many bindings: compiles, in reasonable time and without deep recursion.
    let mut text = String::from(
        "recipe \"big\" { seed = 1 }\nmodel policy = gpt(layers = 2, width = 64, heads = 2)\ntask train = arith(max = 9)\nstage rl = grpo(policy, train) {\n  reward {\n    r0 = exact(answer, sample.answer)\n",
    );
    for i in 1..5000 {
        text.push_str(&format!("    r{i} = r{} * 0.5 + {i}\n", i - 1));
    }
    text.push_str("  }\n  optimize r4999\n}\n");
    let c = rlr_lang::compile("big.rlr", &text, &mut rlr_lang::NoImports);
    assert!(!c.has_errors(), "{}", rlr_tests::render(&c));
    // Over the size limit: one clear error at 1:1.
    let huge = "#".repeat(rlr_lang::parse::MAX_SIZE + 1);
    let c = rlr_lang::compile("huge.rlr", &huge, &mut rlr_lang::NoImports);
    assert_eq!(c.diagnostics.first().map(|d| d.code), Some("E0002"));
    // A long flat expression: refused with a clear error, not a stack overflow.
    let sum = (0..3000)
        .map(|i| format!("x{}", i % 2))
        .collect::<Vec<_>>()
        .join(" + ");
    let flat = format!(
        "recipe \"flat\" {{ seed = 1 }}\nmodel policy = gpt(layers = 2, width = 64, heads = 2)\ntask train = arith(max = 9)\nstage rl = grpo(policy, train) {{\n  reward {{\n    x0 = exact(answer, sample.answer)\n    x1 = x0\n    total = {sum}\n  }}\n  optimize total\n}}\n"
    );
    let c = rlr_lang::compile("flat.rlr", &flat, &mut rlr_lang::NoImports);
    assert_eq!(c.diagnostics.first().map(|d| d.code), Some("E0005"));
    // Deeply chained `if`s: the same.
    let chain = format!("fn f(x) = {}0", "if x > 0 then 1 else ".repeat(500));
    let c = rlr_lang::compile("chain.rlr", &chain, &mut rlr_lang::NoImports);
    assert_eq!(c.diagnostics.first().map(|d| d.code), Some("E0005"));
}
