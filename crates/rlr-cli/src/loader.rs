//! Reading recipe files from disk: the root file given on the command line and,
//! through [`FsLoader`], every file it imports.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// The largest recipe file read, in bytes: the language's own limit (4 MiB).
pub const MAX_FILE_SIZE: usize = rlr_lang::parse::MAX_SIZE;

/// Reads a recipe file as text, refusing directories, files over
/// [`MAX_FILE_SIZE`] and anything that is not UTF-8. `shown` is the name used
/// in the error sentence. A leading byte-order mark is dropped.
pub fn read_recipe(path: &Path, shown: &str) -> Result<String, String> {
    let meta = fs::metadata(path).map_err(|e| io_error(shown, &e))?;
    if meta.is_dir() {
        return Err(format!("`{shown}` is a directory, not a recipe file"));
    }
    if meta.len() > MAX_FILE_SIZE as u64 {
        return Err(too_large(shown, meta.len()));
    }
    let file = fs::File::open(path).map_err(|e| io_error(shown, &e))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_SIZE as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(shown, &e))?;
    if bytes.len() > MAX_FILE_SIZE {
        return Err(too_large(shown, bytes.len() as u64));
    }
    decode(bytes, shown)
}

/// Reads a data file (such as logged rollouts) as UTF-8 text, of any size.
pub fn read_text(path: &Path, shown: &str) -> Result<String, String> {
    let meta = fs::metadata(path).map_err(|e| io_error(shown, &e))?;
    if meta.is_dir() {
        return Err(format!("`{shown}` is a directory, not a file"));
    }
    let bytes = fs::read(path).map_err(|e| io_error(shown, &e))?;
    decode(bytes, shown)
}

/// Reads standard input as recipe text, with the same limits as [`read_recipe`].
pub fn read_stdin(stdin: &mut dyn Read, shown: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    stdin
        .take(MAX_FILE_SIZE as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(shown, &e))?;
    if bytes.len() > MAX_FILE_SIZE {
        return Err(format!(
            "{shown} holds more than 4 MiB; recipes are limited to 4 MiB"
        ));
    }
    decode(bytes, shown)
}

fn decode(bytes: Vec<u8>, shown: &str) -> Result<String, String> {
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..'\u{feff}'.len_utf8());
            }
            Ok(text)
        }
        Err(e) => {
            // Locate the bad byte as line:col, counting characters in the valid prefix.
            let valid = e.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(&e.as_bytes()[..valid]);
            let line = prefix.matches('\n').count() + 1;
            let col = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Err(format!(
                "{shown}:{line}:{col}: `{shown}` is not UTF-8 text (invalid byte at offset {valid}); is it a binary file?"
            ))
        }
    }
}

fn too_large(shown: &str, len: u64) -> String {
    format!(
        "{shown}:1:1: `{shown}` is {len} bytes; recipes are limited to {} ({MAX_FILE_SIZE} bytes)",
        mib(MAX_FILE_SIZE as u64)
    )
}

/// A byte count in MiB, for messages: `4 MiB`, `2.5 MiB`.
fn mib(bytes: u64) -> String {
    let m = bytes as f64 / (1u64 << 20) as f64;
    if m.fract() == 0.0 {
        format!("{m} MiB")
    } else {
        format!("{m:.1} MiB")
    }
}

fn io_error(shown: &str, e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => format!("no such file `{shown}`"),
        io::ErrorKind::PermissionDenied => format!("cannot read `{shown}`: permission denied"),
        io::ErrorKind::IsADirectory => format!("`{shown}` is a directory, not a recipe file"),
        io::ErrorKind::InvalidData => format!("`{shown}` is not UTF-8 text; is it a binary file?"),
        _ => format!("cannot read `{shown}`: {e}"),
    }
}

/// The path with `.` removed and `dir/..` folded, without touching the file
/// system. A relative path stays relative; `..` that climbs above the start is kept.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// An [`rlr_lang::Loader`] that reads imports from the file system.
///
/// An import path is resolved relative to the directory of the importing file
/// (whose name is the display name this loader returned for it, or the root
/// file's name as given). The display name of an imported file is its
/// normalised path; a file reached twice by different paths (or through a link)
/// gets the name it was first seen under, so the compiler loads it once.
///
/// Relative names are read relative to the working directory, or to the base
/// directory given to [`FsLoader::in_dir`].
#[derive(Debug, Default)]
pub struct FsLoader {
    /// Where relative names are read from; empty means the working directory.
    base: PathBuf,
    /// Canonical path to the display name first used for it.
    seen: HashMap<PathBuf, String>,
}

impl FsLoader {
    /// A loader with no files seen yet.
    pub fn new() -> FsLoader {
        FsLoader::default()
    }

    /// A loader whose relative names are relative to `base` rather than to the
    /// working directory: a recipe compiled under the name `recipes/a.rlr` has
    /// its imports read from `base/recipes/`.
    pub fn in_dir(base: impl Into<PathBuf>) -> FsLoader {
        FsLoader {
            base: base.into(),
            seen: HashMap::new(),
        }
    }

    /// A loader that knows the root recipe `path` is shown as `name`, so that an
    /// import leading back to it is recognised as the same file.
    pub fn with_root(name: &str, path: &Path) -> FsLoader {
        let mut loader = FsLoader::new();
        if let Ok(canonical) = fs::canonicalize(path) {
            loader.seen.insert(canonical, name.to_string());
        }
        loader
    }
}

impl rlr_lang::Loader for FsLoader {
    fn load(&mut self, from: &str, path: &str) -> Result<(String, String), String> {
        if path.is_empty() {
            return Err("the import path is empty".to_string());
        }
        let dir = Path::new(from).parent().unwrap_or(Path::new(""));
        let joined = dir.join(path);
        let shown = normalize(&joined).to_string_lossy().into_owned();
        let real = self.base.join(&joined);
        let text = read_recipe(&real, &shown)?;
        let name = match fs::canonicalize(&real) {
            Ok(canonical) => self.seen.entry(canonical).or_insert(shown).clone(),
            Err(_) => shown,
        };
        Ok((name, text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rlr_lang::Loader;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rlr-cli-loader-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("lib")).expect("temp dir");
        dir
    }

    #[test]
    fn normalizes_lexically() {
        assert_eq!(
            normalize(Path::new("a/./b/../c.rlr")),
            PathBuf::from("a/c.rlr")
        );
        assert_eq!(normalize(Path::new("../x.rlr")), PathBuf::from("../x.rlr"));
        assert_eq!(
            normalize(Path::new("a/../../x.rlr")),
            PathBuf::from("../x.rlr")
        );
        assert_eq!(normalize(Path::new("/../x.rlr")), PathBuf::from("/x.rlr"));
        assert_eq!(normalize(Path::new("./")), PathBuf::from("."));
    }

    #[test]
    fn resolves_relative_to_importer_and_dedups() {
        let dir = temp_dir("dedup");
        fs::write(dir.join("lib/a.rlr"), "fn f(x) = x\n").expect("write");
        let root = dir.join("main.rlr");
        fs::write(&root, "").expect("write");
        let root_name = root.to_string_lossy().into_owned();
        let mut l = FsLoader::with_root(&root_name, &root);
        let (n1, t1) = l.load(&root_name, "lib/a.rlr").expect("loads");
        assert!(n1.ends_with("lib/a.rlr"), "{n1}");
        assert_eq!(t1, "fn f(x) = x\n");
        let (n2, _) = l.load(&n1, "../lib/./a.rlr").expect("loads");
        assert_eq!(n1, n2);
        let (n3, _) = l.load(&n1, "../main.rlr").expect("loads");
        assert_eq!(n3, root_name);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn reads_relative_to_base() {
        let dir = temp_dir("base");
        fs::write(dir.join("lib/a.rlr"), "fn f(x) = x\n").expect("write");
        let mut l = FsLoader::in_dir(&dir);
        let (name, text) = l.load("main.rlr", "./lib/../lib/a.rlr").expect("loads");
        assert_eq!(name, "lib/a.rlr");
        assert_eq!(text, "fn f(x) = x\n");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn clear_errors() {
        let dir = temp_dir("errors");
        fs::write(dir.join("bin.rlr"), [0xff, 0xfe, 0x00]).expect("write");
        fs::write(dir.join("big.rlr"), vec![b' '; MAX_FILE_SIZE + 1]).expect("write");
        let from = dir.join("main.rlr").to_string_lossy().into_owned();
        let mut l = FsLoader::new();
        let missing = l.load(&from, "nope.rlr").expect_err("missing");
        assert!(
            missing.starts_with("no such file `") && missing.ends_with("nope.rlr`"),
            "{missing}"
        );
        let is_dir = l.load(&from, "lib").expect_err("dir");
        assert!(is_dir.contains("is a directory"), "{is_dir}");
        let binary = l.load(&from, "bin.rlr").expect_err("binary");
        assert!(binary.contains("is not UTF-8 text"), "{binary}");
        let big = l.load(&from, "big.rlr").expect_err("big");
        assert!(big.contains("limited to 4 MiB"), "{big}");
        assert_eq!(
            l.load(&from, "").expect_err("empty"),
            "the import path is empty"
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
