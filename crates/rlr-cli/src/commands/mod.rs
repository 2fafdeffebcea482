//! One module per subcommand, and what they share: the standard streams, the
//! diagnostic renderer, reading the recipe given on the command line and
//! compiling it with diagnostics printed.

pub mod bench;
pub mod check;
pub mod diff;
pub mod explain;
pub mod fmt;
pub mod graph;
pub mod replay;
pub mod report;
pub mod run;
pub mod sample;
pub mod sweep;

use std::io::{self, Read, Write};
use std::path::Path;

use rlr_lang::{Compilation, Diagnostic, Severity, Sources};

use crate::loader::{self, FsLoader};
use crate::render::Renderer;

/// The name shown for a recipe read from standard input (`-` on the command line).
pub const STDIN_NAME: &str = "<stdin>";

/// What every command gets: the standard streams and the diagnostic renderer.
pub struct Ctx<'a> {
    /// Standard input (read by `rlr fmt -` and other `-` arguments).
    pub stdin: &'a mut dyn Read,
    /// Standard output: only the command's product (graphs, explanations, formatted text).
    pub stdout: &'a mut dyn Write,
    /// Standard error: diagnostics and summaries.
    pub stderr: &'a mut dyn Write,
    /// How diagnostics are drawn.
    pub renderer: Renderer,
    /// Whether standard error is a terminal (progress bars redraw in place).
    pub terminal: bool,
}

impl Ctx<'_> {
    /// Prints diagnostics about `sources` to standard error.
    pub fn diagnostics(&mut self, sources: &Sources, ds: &[Diagnostic]) {
        // A closed standard error leaves nowhere to report to.
        let _ = self.renderer.diagnostics(sources, ds, self.stderr);
    }

    /// Prints an error that has no source location to standard error.
    pub fn error(&mut self, message: &str, notes: &[String], help: Option<&str>) {
        let _ = self
            .renderer
            .message(Severity::Error, message, notes, help, self.stderr);
    }

    /// Prints a plain line (a summary) to standard error.
    pub fn status(&mut self, line: &str) {
        let _ = writeln!(self.stderr, "{line}");
    }

    /// Writes the command's product to standard output.
    pub fn out(&mut self, text: &str) -> io::Result<()> {
        self.stdout.write_all(text.as_bytes())
    }

    /// Reads the recipe named on the command line (`-` is standard input) and
    /// returns its display name and text; on failure prints why and returns `None`.
    pub fn read_input(&mut self, path: &str) -> Option<(String, String)> {
        let read = if path == "-" {
            loader::read_stdin(self.stdin, STDIN_NAME).map(|t| (STDIN_NAME.to_string(), t))
        } else {
            loader::read_recipe(Path::new(path), path).map(|t| (path.to_string(), t))
        };
        match read {
            Ok(ok) => Some(ok),
            Err(why) => {
                self.error(&why, &[], None);
                None
            }
        }
    }

    /// Reads and compiles one recipe, printing every diagnostic.
    pub fn compile(&mut self, path: &str) -> Compiled {
        let Some((name, text)) = self.read_input(path) else {
            return Compiled {
                compilation: None,
                errors: 1,
                warnings: 0,
            };
        };
        self.compile_text(path, &name, &text)
    }

    /// Compiles `text`, shown as `name`, whose imports are relative to
    /// `path` (`-`: the working directory), printing every diagnostic.
    pub fn compile_text(&mut self, path: &str, name: &str, text: &str) -> Compiled {
        let mut loader = if path == "-" {
            FsLoader::new()
        } else {
            FsLoader::with_root(name, Path::new(path))
        };
        let c = rlr_lang::compile(name, text, &mut loader);
        self.diagnostics(&c.sources, &c.diagnostics);
        let errors = c.diagnostics.iter().filter(|d| d.is_error()).count();
        Compiled {
            errors,
            warnings: c.diagnostics.len() - errors,
            compilation: Some(c),
        }
    }
}

/// The outcome of [`Ctx::compile`].
pub struct Compiled {
    /// The compilation, or `None` when the file could not be read.
    pub compilation: Option<Compilation>,
    /// Errors found (an unreadable file counts as one).
    pub errors: usize,
    /// Warnings found.
    pub warnings: usize,
}

impl Compiled {
    /// The compiled program, if there were no errors.
    pub fn program(self) -> Option<rlr_lang::ir::Program> {
        if self.errors > 0 {
            return None;
        }
        self.compilation.and_then(|c| c.program)
    }
}

/// `n thing` or `n things`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
