//! # rlr-report: run reports with plots
//!
//! Reads run directories' `metrics.jsonl` (one JSON object per step, as the
//! engine writes it) into series, one per quantity, and draws them with
//! plotters as PNG and SVG: several runs overlaid with a legend, stage
//! boundaries marked, a standard-deviation band under every binding's mean.
//! An index page (Markdown and HTML) embeds every plot and lists each run's
//! final metrics. `rlr report` and `rlr graph --schedules` are built on it.
//!
//! ```text
//! metrics.jsonl ──metrics::Run::load──▶ Run (stages, series by key)
//!               ──report::charts──▶ chart::Chart per key ──draw──▶ KEY.png, KEY.svg
//!               ──index──▶ index.md, index.html
//! ```
//!
//! Text is drawn with an embedded font (DejaVu Sans, `assets/`) through
//! plotters' `ab_glyph` feature, so no system font library is needed at
//! build or run time. [`summary`] turns a sweep's runs into one table. Nothing here panics on what a file contains: a line
//! that is not what the engine writes is a [`ReportError`] naming the file
//! and line.

pub mod chart;
pub mod draw;
mod encode;
pub mod error;
mod font;
pub mod index;
pub mod metrics;
pub mod report;
pub mod schedule;
pub mod series;
pub mod summary;

pub use error::ReportError;
pub use metrics::{Run, Stage};
pub use report::{Written, write_report};
pub use schedule::{Trace, write_schedules};
pub use series::{Point, Series};
