//! # rlr-lang: the recipe language
//!
//! Parses, checks and compiles `.rlr` recipes into typed reward graphs.
//! Pure: no file system, environment, clock or GPU. The caller hands in
//! source text (and a [`Loader`] for imports) and gets back a [`Compilation`]:
//! the compiled [`ir::Program`] and every [`Diagnostic`].
//!
//! ```text
//! text ─parse─▶ ast::File ─resolve (imports)─▶ check (names, types, scopes,
//!      cycles, fn expansion) ─▶ ir::Program ─graph─▶ petgraph DAG per stage
//! ```
//!
//! ```
//! let src = r#"
//! recipe "tiny" { seed = 1 }
//! model policy = gpt(layers = 2, width = 64, heads = 2)
//! task  train  = arith(max = 9)
//! stage rl = grpo(policy, train) {
//!   reward { correct = exact(answer, sample.answer) }
//!   optimize correct
//! }
//! "#;
//! let c = rlr_lang::compile("tiny.rlr", src, &mut rlr_lang::NoImports);
//! assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
//! let program = c.program.expect("compiles");
//! assert_eq!(program.stages[0].graph.nodes[0].name, "correct");
//! ```

pub mod ast;
pub mod check;
pub mod diagnostic;
pub mod diff;
pub mod dump;
pub mod fmt;
pub mod graph;
pub mod ir;
pub mod overrides;
pub mod parse;
pub mod registry;
pub mod resolve;
pub mod source;
pub mod template;
pub mod types;

pub use diagnostic::{Diagnostic, Label, Severity};
pub use resolve::{Loader, NoImports};
pub use source::{Source, SourceId, Sources, Span};
pub use types::{Kind, Scope, ValueType};

/// The outcome of compiling a recipe.
#[derive(Debug)]
pub struct Compilation {
    /// The recipe and every file it imports, for rendering diagnostics.
    pub sources: Sources,
    /// The compiled program; `None` when any error was found.
    pub program: Option<ir::Program>,
    /// Every error and warning, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Compilation {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses, checks and compiles a recipe named `name` with text `text`.
pub fn compile(name: &str, text: &str, loader: &mut dyn Loader) -> Compilation {
    let loaded = resolve::load(name, text, loader);
    let mut diagnostics = loaded.diagnostics;
    let mut program = None;
    if diagnostics.iter().all(|d| !d.is_error()) {
        let (p, mut ds) = check::check(&loaded.files);
        diagnostics.append(&mut ds);
        program = p;
    }
    Compilation {
        sources: loaded.sources,
        program,
        diagnostics,
    }
}
