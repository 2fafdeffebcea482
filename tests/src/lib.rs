//! Shared helpers of rlr's test suite: loading fixtures and recipes from the
//! repository, and compiling them with imports resolved from disk.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Every file under `dir` (relative to the root) with the extension `ext`, sorted.
pub fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root().join(dir)];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A path relative to the root, with forward slashes, for stable names.
pub fn rel(p: &Path) -> String {
    p.strip_prefix(root())
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Compiles a file from disk, resolving imports next to it.
pub fn compile_file(p: &Path) -> rlr_lang::Compilation {
    let text = std::fs::read_to_string(p).unwrap_or_default();
    let mut loader = rlr_cli::loader::FsLoader::in_dir(root());
    rlr_lang::compile(&rel(p), &text, &mut loader)
}

/// Compiles a text under a name relative to the root, resolving imports from the root.
pub fn compile_text(name: &str, text: &str) -> rlr_lang::Compilation {
    let mut loader = rlr_cli::loader::FsLoader::in_dir(root());
    rlr_lang::compile(name, text, &mut loader)
}

/// Diagnostics rendered as the CLI prints them, without colour.
pub fn render(c: &rlr_lang::Compilation) -> String {
    rlr_cli::render::to_string(&c.sources, &c.diagnostics, rlr_cli::render::Style::Rich)
}

/// `rlr run` overrides that shrink any recipe to a two-step run of a
/// one-layer, width-16 model; `prompts=2` is for recipes with an RL stage,
/// `batch=2` for those with an SFT stage.
pub const TINY: &[&str] = &[
    "--set",
    "policy.layers=1",
    "--set",
    "policy.width=16",
    "--set",
    "policy.heads=2",
    "--set",
    "steps=2",
    "--set",
    "eval_prompts=2",
    "--set",
    "max_tokens=16",
];
