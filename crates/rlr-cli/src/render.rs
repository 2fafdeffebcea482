//! Drawing diagnostics for people: the only module that knows
//! codespan-reporting exists.
//!
//! [`Renderer`] turns an rlr [`Diagnostic`] (plain data from `rlr-lang`) into
//! either the rich style (source snippet, underlines, notes) or the short style
//! (one `file:line:col: error[E0100]: message` line), with or without ANSI
//! colour. Spans are clamped to their source before drawing, so a span past the
//! end of a file, inside a multi-byte character or in an unknown source never
//! panics; if codespan still refuses, a plain one-line header is written.

use std::io::{self, Write};
use std::ops::Range;

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{self, Files};
use codespan_reporting::term::termcolor::{Ansi, NoColor, WriteColor};
use codespan_reporting::term::{self, Config, DisplayStyle};
use rlr_lang::{Diagnostic, Severity, Source, SourceId, Sources, Span};

/// How much of a diagnostic to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Style {
    /// Header, source snippet with underlined labels, notes and help.
    #[default]
    Rich,
    /// One line per diagnostic: `file:line:col: error[CODE]: message`.
    Short,
}

/// Renders diagnostics in one [`Style`], with or without colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Renderer {
    /// Rich or short.
    pub style: Style,
    /// Whether to emit ANSI colour codes.
    pub color: bool,
}

impl Renderer {
    /// A renderer with the given style and colour setting.
    pub fn new(style: Style, color: bool) -> Renderer {
        Renderer { style, color }
    }

    /// Writes one diagnostic about `sources` to `w`.
    pub fn diagnostic(
        &self,
        sources: &Sources,
        d: &Diagnostic,
        w: &mut dyn Write,
    ) -> io::Result<()> {
        let files = SourceFiles(sources);
        let converted = convert(sources, d);
        let mut buf = Vec::new();
        let drawn = self.emit(&files, &converted, &mut buf);
        if drawn.is_err() {
            buf.clear();
            buf.extend_from_slice(fallback(sources, d).as_bytes());
        }
        w.write_all(&buf)
    }

    /// Writes every diagnostic about `sources` to `w`, in order.
    pub fn diagnostics(
        &self,
        sources: &Sources,
        ds: &[Diagnostic],
        w: &mut dyn Write,
    ) -> io::Result<()> {
        ds.iter().try_for_each(|d| self.diagnostic(sources, d, w))
    }

    /// Writes a diagnostic that has no source location, such as a file that
    /// cannot be read: `error: MESSAGE`, then each note and the help.
    pub fn message(
        &self,
        severity: Severity,
        message: &str,
        notes: &[String],
        help: Option<&str>,
        w: &mut dyn Write,
    ) -> io::Result<()> {
        let d = cs::Diagnostic::new(severity_of(severity))
            .with_message(message)
            .with_notes(note_lines(notes, help));
        let empty = Sources::new();
        let mut buf = Vec::new();
        if self.emit(&SourceFiles(&empty), &d, &mut buf).is_err() {
            buf.clear();
            buf.extend_from_slice(format!("{}: {message}\n", severity_name(severity)).as_bytes());
        }
        w.write_all(&buf)
    }

    fn emit(
        &self,
        files: &SourceFiles<'_>,
        d: &cs::Diagnostic<SourceId>,
        buf: &mut Vec<u8>,
    ) -> Result<(), files::Error> {
        let config = Config {
            display_style: match self.style {
                Style::Rich => DisplayStyle::Rich,
                Style::Short => DisplayStyle::Short,
            },
            ..Config::default()
        };
        if self.color {
            let mut out = Ansi::new(&mut *buf);
            term::emit_to_write_style(&mut out, &config, files, d)?;
            out.reset()?;
        } else {
            let mut out = NoColor::new(&mut *buf);
            term::emit_to_write_style(&mut out, &config, files, d)?;
        }
        Ok(())
    }
}

/// Renders diagnostics to a string without colour (for tests and snapshots).
pub fn to_string(sources: &Sources, ds: &[Diagnostic], style: Style) -> String {
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = Renderer::new(style, false).diagnostics(sources, ds, &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

fn severity_of(s: Severity) -> cs::Severity {
    match s {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn note_lines(notes: &[String], help: Option<&str>) -> Vec<String> {
    notes
        .iter()
        .map(|n| format!("note: {n}"))
        .chain(help.map(|h| format!("help: {h}")))
        .collect()
}

fn convert(sources: &Sources, d: &Diagnostic) -> cs::Diagnostic<SourceId> {
    let mut labels = Vec::new();
    if let Some(range) = clamp(sources, d.primary.span) {
        labels.push(
            cs::Label::primary(d.primary.span.source, range).with_message(&d.primary.message),
        );
    }
    for l in &d.secondary {
        if let Some(range) = clamp(sources, l.span) {
            labels.push(cs::Label::secondary(l.span.source, range).with_message(&l.message));
        }
    }
    let mut out = cs::Diagnostic::new(severity_of(d.severity))
        .with_message(&d.message)
        .with_labels(labels)
        .with_notes(note_lines(&d.notes, d.help.as_deref()));
    if !d.code.is_empty() {
        out = out.with_code(d.code);
    }
    out
}

/// The source a span points into, if the table has it.
fn source(sources: &Sources, id: SourceId) -> Option<&Source> {
    sources.iter().nth(id.0 as usize).map(|(_, s)| s)
}

/// The span's byte range, cut to the source's length and to character boundaries.
fn clamp(sources: &Sources, span: Span) -> Option<Range<usize>> {
    let text = &source(sources, span.source)?.text;
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let end = floor(span.end as usize);
    let start = floor((span.start as usize).min(end));
    Some(start..end)
}

/// The header alone, for the (unexpected) case that codespan refuses a diagnostic.
fn fallback(sources: &Sources, d: &Diagnostic) -> String {
    let place = match source(sources, d.primary.span.source) {
        Some(src) => {
            let (line, col) = src.line_col(d.primary.span.start as usize);
            format!("{}:{line}:{col}: ", src.name)
        }
        None => String::new(),
    };
    let code = if d.code.is_empty() {
        String::new()
    } else {
        format!("[{}]", d.code)
    };
    format!(
        "{place}{}{code}: {}\n",
        severity_name(d.severity),
        d.message
    )
}

/// [`Sources`] seen through codespan's [`Files`] trait.
struct SourceFiles<'a>(&'a Sources);

impl<'a> SourceFiles<'a> {
    fn get(&self, id: SourceId) -> Result<&'a Source, files::Error> {
        source(self.0, id).ok_or(files::Error::FileMissing)
    }

    fn line_start(src: &Source, line: usize) -> Result<usize, files::Error> {
        let starts = src.line_starts();
        match line.cmp(&starts.len()) {
            std::cmp::Ordering::Less => Ok(starts[line]),
            std::cmp::Ordering::Equal => Ok(src.text.len()),
            std::cmp::Ordering::Greater => Err(files::Error::LineTooLarge {
                given: line,
                max: starts.len().saturating_sub(1),
            }),
        }
    }
}

impl<'a> Files<'a> for SourceFiles<'a> {
    type FileId = SourceId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: SourceId) -> Result<&'a str, files::Error> {
        Ok(&self.get(id)?.name)
    }

    fn source(&'a self, id: SourceId) -> Result<&'a str, files::Error> {
        Ok(&self.get(id)?.text)
    }

    fn line_index(&'a self, id: SourceId, byte_index: usize) -> Result<usize, files::Error> {
        let starts = self.get(id)?.line_starts();
        Ok(match starts.binary_search(&byte_index) {
            Ok(line) => line,
            Err(next) => next.saturating_sub(1),
        })
    }

    fn line_range(&'a self, id: SourceId, line_index: usize) -> Result<Range<usize>, files::Error> {
        let src = self.get(id)?;
        let start = Self::line_start(src, line_index)?;
        let end = Self::line_start(src, line_index + 1)?;
        Ok(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(texts: &[&str]) -> Sources {
        let mut s = Sources::new();
        for (i, t) in texts.iter().enumerate() {
            s.add(Source::new(format!("f{i}.rlr"), *t));
        }
        s
    }

    fn diag(span: Span) -> Diagnostic {
        Diagnostic::error("E0100", "something is wrong", span)
            .label("here")
            .with(Span::new(span.source, 0, 1), "and here")
            .note("a note")
            .help("a hint")
    }

    #[test]
    fn rich_has_location_labels_notes_and_help() {
        let s = table(&["model p = gpt()\ntask t = arith()\n"]);
        let out = to_string(&s, &[diag(Span::new(SourceId(0), 21, 26))], Style::Rich);
        assert!(
            out.starts_with("error[E0100]: something is wrong\n"),
            "{out}"
        );
        assert!(out.contains("┌─ f0.rlr:2:6"), "{out}");
        assert!(out.contains("^^^^^ here"), "{out}");
        assert!(out.contains("and here"), "{out}");
        assert!(out.contains("= note: a note"), "{out}");
        assert!(out.contains("= help: a hint"), "{out}");
    }

    #[test]
    fn short_is_one_line() {
        let s = table(&["model p = gpt()\ntask t = arith()\n"]);
        let out = to_string(&s, &[diag(Span::new(SourceId(0), 21, 26))], Style::Short);
        assert_eq!(out, "f0.rlr:2:6: error[E0100]: something is wrong\n");
    }

    #[test]
    fn colour_adds_escapes_only_when_asked() {
        let s = table(&["abc"]);
        let d = diag(Span::new(SourceId(0), 0, 3));
        let mut plain = Vec::new();
        Renderer::new(Style::Rich, false)
            .diagnostic(&s, &d, &mut plain)
            .expect("vec");
        let mut coloured = Vec::new();
        Renderer::new(Style::Rich, true)
            .diagnostic(&s, &d, &mut coloured)
            .expect("vec");
        assert!(!plain.contains(&0x1b));
        assert!(coloured.contains(&0x1b));
    }

    #[test]
    fn never_panics_on_odd_spans() {
        let texts = ["", "\n", "a", "ab\n", "a\r\nb", "é\n∑x\n\n", "x\n\ny"];
        let s = table(&texts);
        for style in [Style::Rich, Style::Short] {
            for (i, t) in texts.iter().enumerate() {
                let id = SourceId(i as u32);
                for start in 0..t.len() + 3 {
                    for end in 0..t.len() + 3 {
                        let d = Diagnostic::error("E0100", "m", Span::new(id, start, end))
                            .label("l")
                            .with(Span::new(id, end, start + 1), "s");
                        let out = to_string(&s, &[d], style);
                        assert!(out.contains("error[E0100]: m"), "{out}");
                    }
                }
            }
            let stray = Diagnostic::error("E0100", "m", Span::new(SourceId(99), 5, 9));
            assert!(to_string(&s, &[stray], style).contains("error[E0100]: m"));
        }
    }

    #[test]
    fn message_without_location() {
        let mut out = Vec::new();
        Renderer::new(Style::Rich, false)
            .message(
                Severity::Error,
                "no such file `x.rlr`",
                &[],
                Some("check the path"),
                &mut out,
            )
            .expect("vec");
        let out = String::from_utf8(out).expect("utf8");
        assert_eq!(
            out,
            "error: no such file `x.rlr`\n = help: check the path\n\n"
        );
    }
}
