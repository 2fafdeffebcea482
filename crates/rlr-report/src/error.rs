//! What can go wrong while reading runs and writing reports, as data: the
//! CLI renders it.

use std::fmt;
use std::path::{Path, PathBuf};

/// A failed read, parse or write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportError {
    /// A file or folder could not be read or written.
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A line of `metrics.jsonl` is not what the engine writes.
    Malformed {
        /// The file.
        path: PathBuf,
        /// The line, 1-based.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// plotters could not draw a chart.
    Draw {
        /// The file being drawn.
        path: PathBuf,
        /// plotters' message.
        message: String,
    },
}

impl ReportError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, e: impl fmt::Display) -> ReportError {
        ReportError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Io { path, message } => write!(f, "{}: {message}", path.display()),
            ReportError::Malformed {
                path,
                line,
                message,
            } => write!(f, "{}:{line}: {message}", path.display()),
            ReportError::Draw { path, message } => {
                write!(f, "cannot draw {}: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for ReportError {}
