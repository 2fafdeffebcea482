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
