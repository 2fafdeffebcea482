//! Errors as data: what went wrong and where (a byte offset, a metadata key,
//! a tensor name), optionally in which file.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in the input an error was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A byte offset from the start of the file.
    Offset(u64),
    /// A metadata key (GGUF key/value table or `config.json` field).
    Key(String),
    /// A tensor, by the name it has in the file.
    Tensor(String),
    /// Several tensors: every name a validation found a problem with.
    Tensors(Vec<String>),
    /// The file as a whole (it could not be opened, or is not a directory).
    File,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Offset(o) => write!(f, "at byte {o}"),
            Location::Key(k) => write!(f, "key `{k}`"),
            Location::Tensor(t) => write!(f, "tensor `{t}`"),
            Location::Tensors(ts) => write!(f, "{} tensors", ts.len()),
            Location::File => f.write_str("file"),
        }
    }
}

/// An error reading or validating weights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// What was wrong, in words (for a validation, one problem per line).
    pub message: String,
    /// Where it was found.
    pub location: Location,
    /// The file it was found in, when known.
    pub path: Option<PathBuf>,
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error at a byte offset.
    pub fn at(offset: u64, message: impl Into<String>) -> Error {
        Error::new(Location::Offset(offset), message)
    }

    /// An error about a metadata key.
    pub fn key(key: &str, message: impl Into<String>) -> Error {
        Error::new(Location::Key(key.to_string()), message)
    }

    /// An error about one tensor.
    pub fn tensor(name: &str, message: impl Into<String>) -> Error {
        Error::new(Location::Tensor(name.to_string()), message)
    }

    /// An error at `location`.
    pub fn new(location: Location, message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            location,
            path: None,
        }
    }

    /// The same error, attributed to the file at `path`.
    pub fn in_file(mut self, path: &Path) -> Error {
        self.path = Some(path.to_path_buf());
        self
    }

    /// The byte offset, when the location is one.
    pub fn offset(&self) -> Option<u64> {
        match self.location {
            Location::Offset(o) => Some(o),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.path {
            write!(f, "{}: ", p.display())?;
        }
        match &self.location {
            // The message already lists every name, one per line.
            Location::Tensors(_) | Location::File => f.write_str(&self.message),
            loc => write!(f, "{loc}: {}", self.message),
        }
    }
}

impl std::error::Error for Error {}
