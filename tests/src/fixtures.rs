//! Fixture files: each `.rlr` file under `tests/fixtures/` is a test with a
//! snapshot next to the suite (`tests/src/snapshots/`).
//!
//! - `parse/ok/`: must parse; the snapshot is the syntax tree.
//! - `parse/err/`, `check/err/`: must fail; the snapshot is the source and the
//!   rendered diagnostics. A first line `# error: E0150 E0100` lists codes
//!   that must be among the diagnostics.
//! - `check/ok/`: must compile without errors; the snapshot is the graph dump
//!   and any warnings.

use rlr_lang::{Source, SourceId};

fn expected_codes(text: &str) -> Vec<String> {
    text.lines()
        .next()
        .and_then(|l| l.strip_prefix("# error:"))
        .map(|codes| codes.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

#[test]
fn parse_ok() {
    insta::glob!("../fixtures/parse/ok", "*.rlr", |path| {
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned();
        let src = Source::new(rlr_tests::rel(path), text.clone());
        match rlr_lang::parse::parse(SourceId(0), &text) {
            Ok(file) => insta::assert_snapshot!(crate::tree::render(&src, &file)),
            Err(d) => panic!("{}: {}", rlr_tests::rel(path), d.message),
        }
    });
}

fn check_errors(kind: &str, dir: &str) {
    insta::glob!(dir, "*.rlr", |path| {
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned();
        let name = rlr_tests::rel(path);
        let c = rlr_tests::compile_text(&name, &text);
        assert!(c.has_errors(), "{name} compiled without errors");
        for code in expected_codes(&text) {
            assert!(
                c.diagnostics.iter().any(|d| d.code == code),
                "{name}: expected {code}, got {:?}",
                c.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>()
            );
        }
        let rendered = rlr_tests::render(&c);
        assert!(
            !rendered.contains("Rule::") && !rendered.contains("kw_"),
            "{name}: a grammar rule leaked:\n{rendered}"
        );
        for d in &c.diagnostics {
            let loc = c.sources.location(d.primary.span);
            assert!(loc.contains(':'), "{name}: diagnostic without a location");
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        insta::assert_snapshot!(
            format!("{kind}__{stem}"),
            format!("----- SOURCE -----\n{text}\n----- DIAGNOSTICS -----\n{rendered}")
        );
    });
}

#[test]
fn parse_err() {
    check_errors("parse_err", "../fixtures/parse/err");
}

#[test]
fn check_err() {
    check_errors("check_err", "../fixtures/check/err");
}

#[test]
fn check_ok() {
    insta::glob!("../fixtures/check/ok", "*.rlr", |path| {
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned();
        let name = rlr_tests::rel(path);
        let c = rlr_tests::compile_text(&name, &text);
        let rendered = rlr_tests::render(&c);
        let Some(program) = &c.program else {
            panic!("{name} failed:\n{rendered}");
        };
        insta::assert_snapshot!(format!(
            "{}\n----- WARNINGS -----\n{rendered}",
            rlr_lang::dump::text(program)
        ));
    });
}
