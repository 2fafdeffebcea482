//! Loading a recipe and everything it imports.
//!
//! The language core does no I/O: the caller supplies a [`Loader`] that reads
//! imported files. Imported files may only define functions (and import more).

use std::collections::HashMap;

use crate::ast::{self, Item};
use crate::diagnostic::Diagnostic;
use crate::parse;
use crate::source::{Source, SourceId, Sources, Span};

/// Reads imported files on behalf of the compiler.
pub trait Loader {
    /// Reads `path` as imported from the source named `from`. Returns the name
    /// to show in diagnostics (a canonical path, so that one file loaded twice
    /// is recognised) and the text, or a sentence saying why it cannot be read.
    fn load(&mut self, from: &str, path: &str) -> Result<(String, String), String>;
}

/// A loader for contexts without files: every import fails with a clear error.
pub struct NoImports;

impl Loader for NoImports {
    fn load(&mut self, _from: &str, path: &str) -> Result<(String, String), String> {
        Err(format!(
            "cannot read `{path}`: imports are not available here"
        ))
    }
}

/// The deepest chain of imports followed.
const MAX_IMPORT_DEPTH: usize = 32;

/// The root file and every file it imports, parsed.
pub struct Loaded {
    /// Every source text.
    pub sources: Sources,
    /// Parsed files; the root is first.
    pub files: Vec<(SourceId, ast::File)>,
    /// Problems found while loading and parsing.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses `text` (named `name`) and, recursively, its imports.
pub fn load(name: &str, text: &str, loader: &mut dyn Loader) -> Loaded {
    let mut out = Loaded {
        sources: Sources::new(),
        files: Vec::new(),
        diagnostics: Vec::new(),
    };
    let root = out.sources.add(Source::new(name, text));
    let mut seen: HashMap<String, SourceId> = HashMap::new();
    seen.insert(name.to_string(), root);
    let mut chain = vec![name.to_string()];
    visit(root, true, &mut out, loader, &mut seen, &mut chain);
    out
}

fn visit(
    id: SourceId,
    is_root: bool,
    out: &mut Loaded,
    loader: &mut dyn Loader,
    seen: &mut HashMap<String, SourceId>,
    chain: &mut Vec<String>,
) {
    let text = out.sources.get(id).text.clone();
    let file = match parse::parse(id, &text) {
        Ok(f) => f,
        Err(d) => {
            out.diagnostics.push(d);
            return;
        }
    };
    let from = out.sources.get(id).name.clone();
    let mut imports = Vec::new();
    for item in &file.items {
        match item {
            Item::Import(imp) => imports.push(imp.clone()),
            Item::Fn(_) => {}
            other if !is_root => out.diagnostics.push(
                Diagnostic::error(
                    "E0270",
                    "an imported file can only define functions",
                    other.span(),
                )
                .label("not a function definition")
                .help("keep models, tasks and stages in the recipe itself; put shared `fn`s in the imported file"),
            ),
            _ => {}
        }
    }
    out.files.push((id, file));
    for imp in imports {
        import(&imp, &from, out, loader, seen, chain);
    }
}

fn import(
    imp: &ast::Import,
    from: &str,
    out: &mut Loaded,
    loader: &mut dyn Loader,
    seen: &mut HashMap<String, SourceId>,
    chain: &mut Vec<String>,
) {
    let span: Span = imp.path.span;
    if chain.len() > MAX_IMPORT_DEPTH {
        out.diagnostics.push(
            Diagnostic::error("E0271", "imports are nested too deep", span).help(format!(
                "at most {MAX_IMPORT_DEPTH} files can import each other in a chain"
            )),
        );
        return;
    }
    match loader.load(from, &imp.path.value) {
        Err(why) => out.diagnostics.push(
            Diagnostic::error("E0272", format!("cannot import `{}`", imp.path.value), span)
                .label(why)
                .help("import paths are relative to the importing file"),
        ),
        Ok((name, text)) => {
            if let Some(pos) = chain.iter().position(|c| *c == name) {
                let cycle = chain[pos..]
                    .iter()
                    .chain(std::iter::once(&name))
                    .cloned()
                    .collect::<Vec<_>>();
                out.diagnostics.push(
                    Diagnostic::error("E0273", "files import each other in a cycle", span)
                        .label("this import closes the cycle")
                        .note(format!("cycle: {}", cycle.join(" -> ")))
                        .help("move the shared functions into a third file that both import"),
                );
                return;
            }
            if seen.contains_key(&name) {
                return; // Already loaded through another import.
            }
            let id = out.sources.add(Source::new(name.clone(), text));
            seen.insert(name.clone(), id);
            chain.push(name);
            visit(id, false, out, loader, seen, chain);
            chain.pop();
        }
    }
}
