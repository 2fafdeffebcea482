//! The book (`book/`): every `rlr` code block in `book/src` compiles the way
//! its fence says, and the generated built-in reference matches the registry.
//!
//! Fences (documented in `book/src/contributing.md`):
//!
//! * ` ```rlr ` — a complete recipe; it must compile without errors (warnings allowed);
//! * ` ```rlr,warning=W0101 ` — the same, and it must report that warning;
//! * ` ```rlr,error=E0150 ` — a complete recipe that must fail with (at least) that code;
//! * ` ```rlr,fragment ` — must parse, nothing more (a lone `fn`, a partial example).
//!
//! Attributes can be repeated (`error=E0100,error=E0220`). A line
//! `{{#include PATH}}` inside a block is replaced by the file, as mdBook does.
//! Snippets import files as if they sat in `recipes/` (an included recipe: as
//! if it sat where the included file is), so `import "lib/trust.rlr"` works.
//!
//! The pages under `book/src/reference/builtins/` are generated from the
//! registry: their `rlr` blocks are signatures, not recipes, and are skipped.
//! So are the generated sections of hand-written pages (between
//! `<!-- TAG:start -->` and `<!-- TAG:end -->`), which hold no code blocks.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use rlr_lang::registry::{self, Builtin, Category, Family};
use rlr_lang::{Compilation, Loader, SourceId};

/// The folder of generated built-in pages, relative to `book/src`.
const BUILTIN_DIR: &str = "reference/builtins";
/// The generated index of built-ins, relative to `book/src`.
const BUILTIN_INDEX: &str = "reference/builtins.md";
/// The fewest snippets the book may have, so the test cannot pass vacuously.
const MIN_SNIPPETS: usize = 30;

fn book_src() -> PathBuf {
    rlr_tests::root().join("book/src")
}

// ------------------------------------------------------------------ snippets

/// What a fenced block must do.
#[derive(Debug, Default)]
struct Expect {
    /// Parse only.
    fragment: bool,
    /// Codes of errors it must report; empty means it must compile.
    errors: Vec<String>,
    /// Codes of warnings it must report.
    warnings: Vec<String>,
}

/// One `rlr` block of a page.
#[derive(Debug)]
struct Snippet {
    /// `book/src/<page>.md:<line>`, the line of the opening fence.
    name: String,
    /// The code, includes expanded.
    text: String,
    /// Where its imports are read from.
    import_dir: PathBuf,
    expect: Expect,
}

/// Parses a fence's info string; `Ok(None)` for blocks in other languages.
fn parse_info(info: &str) -> Result<Option<Expect>, String> {
    let mut parts = info.split(',').map(str::trim);
    if parts.next() != Some("rlr") {
        return Ok(None);
    }
    let mut e = Expect::default();
    for attr in parts.filter(|p| !p.is_empty()) {
        match attr.split_once('=') {
            None if attr == "fragment" => e.fragment = true,
            Some(("error", code)) if is_code(code, 'E') => e.errors.push(code.to_string()),
            Some(("warning", code)) if is_code(code, 'W') => e.warnings.push(code.to_string()),
            _ => {
                return Err(format!(
                    "unknown fence attribute `{attr}` (use `fragment`, `error=E0123` or `warning=W0123`)"
                ));
            }
        }
    }
    if e.fragment && !(e.errors.is_empty() && e.warnings.is_empty()) {
        return Err("a `fragment` is only parsed, so it cannot expect diagnostics".to_string());
    }
    Ok(Some(e))
}

fn is_code(code: &str, letter: char) -> bool {
    code.len() == 5 && code.starts_with(letter) && code[1..].chars().all(|c| c.is_ascii_digit())
}

/// Every `rlr` block of one page, or a problem with the page itself.
fn snippets_of(page: &Path, text: &str, out: &mut Vec<Snippet>, problems: &mut Vec<String>) {
    let page_name = rlr_tests::rel(page);
    let dir = page.parent().unwrap_or(Path::new(""));
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let fence_char = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        let fence_len = fence_char.map_or(0, |c| trimmed.chars().take_while(|x| *x == c).count());
        if indent > 3 || fence_len < 3 {
            i += 1;
            continue;
        }
        let fence_char = fence_char.unwrap_or('`');
        let info = trimmed[fence_len..].trim();
        let start = i + 1;
        let mut body = Vec::new();
        i += 1;
        let mut closed = false;
        while i < lines.len() {
            let t = lines[i].trim();
            if t.len() >= fence_len && t.chars().all(|c| c == fence_char) {
                closed = true;
                break;
            }
            let l = lines[i];
            let strip = l.len() - l.trim_start_matches(' ').len();
            body.push(&l[strip.min(indent)..]);
            i += 1;
        }
        i += 1;
        let name = format!("{page_name}:{start}");
        if !closed {
            problems.push(format!("{name}: this code block is never closed"));
            continue;
        }
        let expect = match parse_info(info) {
            Ok(Some(e)) => e,
            Ok(None) => continue,
            Err(why) => {
                problems.push(format!("{name}: {why}"));
                continue;
            }
        };
        let mut code = String::new();
        let mut import_dir = rlr_tests::root().join("recipes");
        for l in body {
            match l
                .trim()
                .strip_prefix("{{#include ")
                .and_then(|r| r.strip_suffix("}}"))
            {
                Some(path) => {
                    let file = dir.join(path.trim());
                    match std::fs::read_to_string(&file) {
                        Ok(t) => {
                            code.push_str(&t);
                            if !t.ends_with('\n') {
                                code.push('\n');
                            }
                            import_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
                        }
                        Err(e) => {
                            problems.push(format!("{name}: cannot include `{}`: {e}", path.trim()))
                        }
                    }
                }
                None => {
                    code.push_str(l);
                    code.push('\n');
                }
            }
        }
        out.push(Snippet {
            name,
            text: code,
            import_dir,
            expect,
        });
    }
}

/// Reads a snippet's imports as if the snippet were a file in the loader's base folder.
struct SnippetLoader {
    snippet: String,
    inner: rlr_cli::loader::FsLoader,
}

impl Loader for SnippetLoader {
    fn load(&mut self, from: &str, path: &str) -> Result<(String, String), String> {
        // The snippet's name (`book/src/x.md:12`) is not a path; its imports are relative to the base.
        let from = if from == self.snippet {
            "snippet.rlr"
        } else {
            from
        };
        self.inner.load(from, path)
    }
}

fn compile(s: &Snippet) -> Compilation {
    let mut loader = SnippetLoader {
        snippet: s.name.clone(),
        inner: rlr_cli::loader::FsLoader::in_dir(&s.import_dir),
    };
    rlr_lang::compile(&s.name, &s.text, &mut loader)
}

fn describe(c: &Compilation) -> String {
    let mut out = String::new();
    for d in &c.diagnostics {
        let sev = if d.is_error() { "error" } else { "warning" };
        let _ = write!(
            out,
            "\n    {}: {sev}[{}]: {}",
            c.sources.location(d.primary.span),
            d.code,
            d.message
        );
    }
    if out.is_empty() {
        out.push_str("\n    (no diagnostics)");
    }
    out
}

/// Checks one snippet; returns what is wrong with it.
fn check(s: &Snippet) -> Option<String> {
    if s.expect.fragment {
        return match rlr_lang::parse::parse(SourceId(0), &s.text) {
            Ok(_) => None,
            Err(d) => Some(format!(
                "{}: a `fragment` must parse, but: [{}] {}",
                s.name, d.code, d.message
            )),
        };
    }
    let c = match catch_unwind(AssertUnwindSafe(|| compile(s))) {
        Ok(c) => c,
        Err(_) => return Some(format!("{}: the compiler panicked on this snippet", s.name)),
    };
    let errors: BTreeSet<&str> = c
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect();
    let warnings: BTreeSet<&str> = c
        .diagnostics
        .iter()
        .filter(|d| !d.is_error())
        .map(|d| d.code)
        .collect();
    let mut wrong = Vec::new();
    if s.expect.errors.is_empty() {
        if !errors.is_empty() || c.program.is_none() {
            wrong.push("should compile, but does not".to_string());
        }
    } else {
        for code in &s.expect.errors {
            if !errors.contains(code.as_str()) {
                wrong.push(format!("should fail with {code}, but does not"));
            }
        }
    }
    for code in &s.expect.warnings {
        if !warnings.contains(code.as_str()) {
            wrong.push(format!("should warn {code}, but does not"));
        }
    }
    (!wrong.is_empty()).then(|| format!("{}: {}{}", s.name, wrong.join("; "), describe(&c)))
}

/// Every page of the book except the generated built-in pages.
fn pages() -> Vec<PathBuf> {
    let generated = book_src().join(BUILTIN_DIR);
    rlr_tests::files("book/src", "md")
        .into_iter()
        .filter(|p| !p.starts_with(&generated))
        .collect()
}

#[test]
fn book_snippets_compile() {
    let mut snippets = Vec::new();
    let mut problems = Vec::new();
    for page in pages() {
        match std::fs::read_to_string(&page) {
            Ok(text) => snippets_of(&page, &text, &mut snippets, &mut problems),
            Err(e) => problems.push(format!("{}: cannot read: {e}", rlr_tests::rel(&page))),
        }
    }
    problems.extend(snippets.iter().filter_map(check));
    assert!(
        problems.is_empty(),
        "{} of {} book snippets are wrong:\n{}",
        problems.len(),
        snippets.len(),
        problems.join("\n")
    );
    assert!(
        snippets.len() >= MIN_SNIPPETS,
        "only {} `rlr` snippets found under book/src; expected at least {MIN_SNIPPETS}",
        snippets.len()
    );
}

#[test]
fn fence_attributes_parse() {
    assert!(parse_info("text").expect("ok").is_none());
    assert!(parse_info("rlrx").expect("ok").is_none());
    let e = parse_info("rlr,error=E0150,warning=W0101")
        .expect("ok")
        .expect("rlr");
    assert_eq!(
        (e.errors, e.warnings, e.fragment),
        (vec!["E0150".to_string()], vec!["W0101".to_string()], false)
    );
    assert!(
        parse_info("rlr,fragment")
            .expect("ok")
            .expect("rlr")
            .fragment
    );
    assert!(parse_info("rlr,error=E150").is_err());
    assert!(parse_info("rlr,ignore").is_err());
    assert!(parse_info("rlr,fragment,error=E0100").is_err());
}

// --------------------------------------------------------- built-in reference

/// The page file of a built-in: dots become dashes (`judge.steps` → `judge-steps.md`).
fn page_file(b: &Builtin) -> String {
    format!("{}.md", b.name.replace('.', "-"))
}

/// Where a category is listed: models, tasks, tools, stages, then node families in registry order.
fn group_of(b: &Builtin) -> (u8, Option<Family>) {
    match b.category {
        Category::Model => (0, None),
        Category::Task => (1, None),
        Category::Tool => (2, None),
        Category::Stage => (3, None),
        Category::Node(f) => (4, Some(f)),
    }
}

fn group_heading(group: (u8, Option<Family>)) -> String {
    match group {
        (_, Some(f)) => {
            let name = format!("{}s", f.name());
            let mut chars = name.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
        (0, _) => "Models".to_string(),
        (1, _) => "Tasks".to_string(),
        (2, _) => "Tools".to_string(),
        _ => "Stages".to_string(),
    }
}

/// The first sentence of a doc paragraph, for the index.
fn first_sentence(doc: &str) -> String {
    let doc = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    let bytes = doc.as_bytes();
    let mut in_code = false;
    for (i, c) in doc.char_indices() {
        match c {
            '`' => in_code = !in_code,
            '.' | ':' if !in_code && bytes.get(i + 1) == Some(&b' ') => {
                let before = &doc[..i];
                let abbreviation = ["e.g", "i.e", "vs", "et al", "cf", "resp"]
                    .iter()
                    .any(|a| before.ends_with(a));
                if !abbreviation {
                    let mut s = doc[..i].to_string();
                    s.push('.');
                    return s;
                }
            }
            _ => {}
        }
    }
    doc
}

/// Escapes prose for Markdown: `<` outside code spans would open an HTML tag.
fn escape_md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' if !in_code => out.push_str("&lt;"),
            '|' => out.push_str("\\|"),
            _ => out.push(c),
        }
    }
    out
}

const GENERATED: &str = "<!-- Generated from the registry by tests/src/book.rs; do not edit by hand.\n     Regenerate with: RLR_BLESS=1 cargo test -p rlr-tests builtin_reference -->";

/// The index page of built-ins, grouped by category and family.
fn builtin_index(all: &[&'static Builtin]) -> String {
    let mut groups: BTreeMap<(u8, Option<Family>), Vec<&Builtin>> = BTreeMap::new();
    for b in all {
        groups.entry(group_of(b)).or_default().push(b);
    }
    let mut out = String::new();
    out.push_str("# Built-ins\n\n");
    out.push_str(GENERATED);
    out.push_str("\n\n");
    out.push_str(
        "Every name a recipe can call, grouped by what it is. Each page gives the signature, \
         every parameter with its type, default and allowed range, the output's scope and kind, \
         and the source the formula was taken from; `rlr explain NAME` prints the same. \
         Reward-graph nodes are grouped by family.\n",
    );
    for (group, builtins) in &groups {
        let _ = writeln!(out, "\n## {}\n", group_heading(*group));
        out.push_str("| built-in | what it does |\n|---|---|\n");
        for b in builtins {
            let _ = writeln!(
                out,
                "| [`{}`](builtins/{}) | {} |",
                b.name,
                page_file(b),
                escape_md(&first_sentence(b.doc))
            );
        }
    }
    out
}

/// The sidebar entries of the built-in pages, alphabetical, nested under the index.
fn summary_section(all: &[&'static Builtin]) -> String {
    let mut out = String::new();
    for b in all {
        let _ = writeln!(out, "  - [`{}`]({BUILTIN_DIR}/{})", b.name, page_file(b));
    }
    out
}

/// The table of recipe header fields, for `language/items.md`.
fn recipe_fields_section() -> String {
    let mut out = String::from("| field | type | default | description |\n|---|---|---|---|\n");
    for p in registry::RECIPE_FIELDS {
        let default = p
            .default
            .as_ref()
            .map(registry::describe_default)
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | {} |",
            p.name,
            escape_md(&registry::describe_type(&p.ty)),
            default,
            escape_md(p.doc)
        );
    }
    out
}

/// The table of context names, for `language/context.md`.
fn context_section() -> String {
    let mut out =
        String::from("| name | one value per | kind | description |\n|---|---|---|---|\n");
    for c in registry::CONTEXT {
        let (scope, kind) = match c.ty {
            Some(t) => (t.scope.name(), t.kind.name()),
            None => ("group", "record"),
        };
        let _ = writeln!(
            out,
            "| `{}` | {scope} | {kind} | {} |",
            c.name,
            escape_md(c.doc)
        );
    }
    out
}

/// `current` with the text between the markers `<!-- {tag}:start -->` and
/// `<!-- {tag}:end -->` replaced by `section`.
fn with_section(current: &str, tag: &str, section: &str, file: &str) -> Result<String, String> {
    let (start_marker, end_marker) = (
        format!("<!-- {tag}:start -->"),
        format!("<!-- {tag}:end -->"),
    );
    let start = current
        .find(&start_marker)
        .ok_or_else(|| format!("{file} has no `{start_marker}` marker"))?;
    let after_start = start + start_marker.len();
    let end = current[after_start..]
        .find(&end_marker)
        .map(|e| e + after_start)
        .ok_or_else(|| format!("{file} has no `{end_marker}` marker after `{start_marker}`"))?;
    Ok(format!(
        "{}\n{section}{}",
        &current[..after_start],
        &current[end..]
    ))
}

#[test]
fn builtin_reference_is_current() {
    let src = book_src();
    let all = registry::all();
    let mut expected: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut files = BTreeSet::new();
    for b in &all {
        let file = page_file(b);
        assert!(
            files.insert(file.clone()),
            "two built-ins share the page {file}"
        );
        expected.insert(src.join(BUILTIN_DIR).join(file), registry::markdown(b));
    }
    expected.insert(src.join(BUILTIN_INDEX), builtin_index(&all));
    // Generated sections inside hand-written pages, between `<!-- TAG:start -->` and `<!-- TAG:end -->`.
    let sections = [
        ("SUMMARY.md", "builtins", summary_section(&all)),
        (
            "language/items.md",
            "recipe-fields",
            recipe_fields_section(),
        ),
        ("language/context.md", "context", context_section()),
    ];
    for (file, tag, section) in sections {
        let path = src.join(file);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        match with_section(&current, tag, &section, &format!("book/src/{file}")) {
            Ok(text) => {
                expected.insert(path, text);
            }
            Err(why) => panic!("{why}"),
        }
    }
    let stale: Vec<PathBuf> = rlr_tests::files(&format!("book/src/{BUILTIN_DIR}"), "md")
        .into_iter()
        .filter(|p| !expected.contains_key(p))
        .collect();
    let differ: Vec<&PathBuf> = expected
        .iter()
        .filter(|(p, text)| std::fs::read_to_string(p).ok().as_deref() != Some(text.as_str()))
        .map(|(p, _)| p)
        .collect();
    if std::env::var("RLR_BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(src.join(BUILTIN_DIR)).expect("create the built-in folder");
        for p in differ {
            std::fs::write(p, &expected[p])
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
        }
        for p in stale {
            std::fs::remove_file(&p)
                .unwrap_or_else(|e| panic!("cannot remove {}: {e}", p.display()));
        }
        return;
    }
    let mut wrong: Vec<String> = differ
        .iter()
        .map(|p| format!("  out of date: {}", rlr_tests::rel(p)))
        .collect();
    wrong.extend(
        stale
            .iter()
            .map(|p| format!("  not a built-in any more: {}", rlr_tests::rel(p))),
    );
    assert!(
        wrong.is_empty(),
        "the book's built-in reference does not match the registry:\n{}\nrun RLR_BLESS=1 cargo test -p rlr-tests builtin_reference to regenerate",
        wrong.join("\n")
    );
}

#[test]
fn index_lines_are_first_sentences() {
    assert_eq!(first_sentence("Mean of x. More."), "Mean of x.");
    assert_eq!(first_sentence("DAPO: GRPO with clip-higher."), "DAPO.");
    assert_eq!(
        first_sentence("A (e.g. `a. b`) thing. Next"),
        "A (e.g. `a. b`) thing."
    );
    assert_eq!(first_sentence("No stop"), "No stop");
}
