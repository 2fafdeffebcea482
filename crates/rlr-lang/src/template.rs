//! Templated recipes (`.rlr.j2`) and the points of a sweep.
//!
//! A template is a recipe with [minijinja] placeholders. [`compile`] renders it
//! with one set of variables ([`Param`]s) and compiles the result:
//!
//! * undefined variables are errors (minijinja's strict mode), located in the
//!   template (`E0280` for a syntax or rendering error, `E0281` for an
//!   undefined variable, `E0282` for an include that cannot be read);
//! * `{% include "NAME" %}` reads only files in the template's own folder,
//!   through a caller-supplied closure (this crate does no I/O);
//! * the rendered text is its own [`Source`], named like
//!   `sweep.rlr.j2 [lr=3e-4, tau=0.5]`, so a diagnostic in it names the
//!   variant; it also gets a label on the template line that produced the
//!   offending rendered line.
//!
//! To trace rendered lines back to template lines, the template is rendered a
//! second time with an invisible marker at the first text character of every
//! line; the markers in the output say which template line each rendered line
//! came from (for a `{% for %}` body, the body's line; for an include, the
//! included file's line). If stripping the markers does not give back the
//! plain rendering exactly, no line is traced and a note says so.
//!
//! [`points`] expands `--grid`, `--zip` and `--random` into the list of points.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use minijinja::{Environment, ErrorKind, UndefinedBehavior};

use crate::Compilation;
use crate::diagnostic::Diagnostic;
use crate::resolve::Loader;
use crate::source::{Source, SourceId, Sources, Span};

/// The most points one sweep may have.
pub const MAX_POINTS: usize = 10_000;

/// The most distinct files one rendering may include.
const MAX_INCLUDES: usize = 64;

/// A template variable's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A whole number, such as `3` or `-1`.
    Int(i64),
    /// Any other number, such as `0.5` or `3e-4`.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// Anything else (quotes, if any, removed).
    Str(String),
    /// `[a, b, ...]`.
    List(Vec<Value>),
}

impl Value {
    /// Parses a value as written on the command line: a number when it looks
    /// like one, `true`/`false`, `[a, b]` a list, `"…"` or `'…'` a string
    /// without its quotes, anything else a string as written.
    pub fn parse(text: &str) -> Value {
        let t = text.trim();
        if t == "true" || t == "false" {
            return Value::Bool(t == "true");
        }
        if let Some(inner) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            if inner.trim().is_empty() {
                return Value::List(Vec::new());
            }
            return Value::List(
                split_top_level(inner)
                    .iter()
                    .map(|v| Value::parse(v))
                    .collect(),
            );
        }
        for q in ['"', '\''] {
            if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
                return Value::Str(t[1..t.len() - 1].to_string());
            }
        }
        if looks_like_number(t) {
            if !t.contains(['.', 'e', 'E'])
                && let Ok(i) = t.parse::<i64>()
            {
                return Value::Int(i);
            }
            if let Ok(f) = t.parse::<f64>() {
                return Value::Float(f);
            }
        }
        Value::Str(t.to_string())
    }

    fn to_jinja(&self) -> minijinja::Value {
        match self {
            Value::Int(i) => minijinja::Value::from(*i),
            Value::Float(f) => minijinja::Value::from(*f),
            Value::Bool(b) => minijinja::Value::from(*b),
            Value::Str(s) => minijinja::Value::from(s.as_str()),
            Value::List(items) => items.iter().map(Value::to_jinja).collect(),
        }
    }
}

/// `[+-]digits[.digits][e[+-]digits]` (or `.5`).
fn looks_like_number(t: &str) -> bool {
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(int) && digits(frac) && !(int.is_empty() && frac.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// Splits `a, [b, c], "d,e"` at the commas outside brackets and quotes; each
/// piece is trimmed.
pub fn split_top_level(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0usize, None, 0);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, ',') if depth == 0 => {
                out.push(text[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(text[start..].trim().to_string());
    out
}

/// One template variable with its value, and the value as the user wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The variable's name.
    pub name: String,
    /// The value as written (shown in variant names and `points.csv`).
    pub text: String,
    /// The parsed value.
    pub value: Value,
}

impl Param {
    /// A parameter `name` whose value is parsed from `text`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Param {
        let text = text.into().trim().to_string();
        Param {
            name: name.into(),
            value: Value::parse(&text),
            text,
        }
    }

    /// Parses `NAME=VALUE` (one value, as for `rlr check --var`).
    pub fn parse(s: &str) -> Result<Param, String> {
        let (name, value) = s
            .split_once('=')
            .ok_or_else(|| format!("expected NAME=VALUE, found `{s}`"))?;
        let name = name.trim();
        check_name(name)?;
        Ok(Param::new(name, value))
    }
}

/// One point of a sweep: a value for each variable.
pub type Point = Vec<Param>;

/// One swept variable and its values as written (`--grid lr=1e-5,3e-5`).
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// The variable.
    pub name: String,
    /// Its values, as written.
    pub values: Vec<String>,
}

impl Axis {
    /// Parses `NAME=V1,V2,...` (commas inside `[...]` or quotes do not split).
    pub fn parse(s: &str) -> Result<Axis, String> {
        let (name, values) = s
            .split_once('=')
            .ok_or_else(|| format!("expected NAME=V1,V2,..., found `{s}`"))?;
        let name = name.trim();
        check_name(name)?;
        let values = split_top_level(values);
        if values.iter().any(String::is_empty) {
            return Err(format!("`{s}` has an empty value"));
        }
        Ok(Axis {
            name: name.to_string(),
            values,
        })
    }
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a variable name (letters, digits and `_`, not starting with a digit)"
        ))
    }
}

/// `--random N --seed S`: sample `count` points of the grid, without replacement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Random {
    /// How many points.
    pub count: usize,
    /// The generator's seed.
    pub seed: u64,
}

/// The points of a sweep. Grid axes form a cartesian product in the order
/// given (the last varies fastest); the zipped axes, which must all have the
/// same length, advance together and form one more axis after the grid's.
/// With `random`, that many distinct points are drawn with a seeded generator
/// and kept in grid order. No axes at all is one point with no variables.
pub fn points(grid: &[Axis], zip: &[Axis], random: Option<Random>) -> Result<Vec<Point>, String> {
    let mut seen = HashSet::new();
    for a in grid.iter().chain(zip) {
        if !seen.insert(a.name.as_str()) {
            return Err(format!("`{}` is swept twice", a.name));
        }
        if a.values.is_empty() {
            return Err(format!("`{}` has no values", a.name));
        }
    }
    if let Some(first) = zip.first()
        && let Some(other) = zip.iter().find(|a| a.values.len() != first.values.len())
    {
        return Err(format!(
            "zipped lists must have the same length: `{}` has {}, `{}` has {}",
            first.name,
            first.values.len(),
            other.name,
            other.values.len()
        ));
    }
    // Each axis of the product: a list of rows, each row a list of params.
    let mut axes: Vec<Vec<Vec<Param>>> = grid
        .iter()
        .map(|a| {
            a.values
                .iter()
                .map(|v| vec![Param::new(&a.name, v)])
                .collect()
        })
        .collect();
    if let Some(first) = zip.first() {
        axes.push(
            (0..first.values.len())
                .map(|i| {
                    zip.iter()
                        .map(|a| Param::new(&a.name, &a.values[i]))
                        .collect()
                })
                .collect(),
        );
    }
    let total = axes
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.len()))
        .filter(|n| *n <= MAX_POINTS)
        .ok_or_else(|| format!("the sweep has more than {MAX_POINTS} points"))?;
    let indices: Vec<usize> = match random {
        None => (0..total).collect(),
        Some(r) if r.count == 0 => return Err("`--random` needs at least 1 point".to_string()),
        Some(r) if r.count > total => {
            return Err(format!(
                "cannot draw {} random points from a grid of {total}",
                r.count
            ));
        }
        Some(r) => sample(total, r.count, r.seed),
    };
    Ok(indices
        .into_iter()
        .map(|mut i| {
            // Mixed radix, last axis fastest.
            let mut rows = Vec::with_capacity(axes.len());
            for a in axes.iter().rev() {
                rows.push(&a[i % a.len()]);
                i /= a.len();
            }
            rows.into_iter().rev().flatten().cloned().collect()
        })
        .collect())
}

/// `count` distinct indices below `total`, drawn with a seeded SplitMix64
/// (a partial Fisher–Yates shuffle), in increasing order.
fn sample(total: usize, count: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut all: Vec<usize> = (0..total).collect();
    for i in 0..count {
        let span = (total - i) as u128;
        let j = i + ((u128::from(next()) * span) >> 64) as usize;
        all.swap(i, j);
    }
    let mut chosen = all[..count].to_vec();
    chosen.sort_unstable();
    chosen
}

/// The name of a rendered variant: `sweep.rlr.j2 [lr=3e-4, tau=0.5]` (the
/// template's name alone when there are no variables).
pub fn variant_name(template: &str, point: &[Param]) -> String {
    if point.is_empty() {
        return template.to_string();
    }
    let params: Vec<String> = point
        .iter()
        .map(|p| format!("{}={}", p.name, p.text))
        .collect();
    format!("{template} [{}]", params.join(", "))
}

/// Reads an included file on behalf of the renderer: given the include's name
/// (a plain file name, already checked to have no folder part), returns its text
/// or a sentence saying why it cannot be read.
pub type Includes<'a> = dyn FnMut(&str) -> Result<String, String> + 'a;

/// A template rendered with one point, and the rendered recipe compiled.
#[derive(Debug)]
pub struct Variant {
    /// The variant's source name (see [`variant_name`]).
    pub name: String,
    /// The rendered recipe; `None` when the template failed to render.
    pub text: Option<String>,
    /// The compilation: its sources hold the variant (first, when rendered),
    /// its imports, the template and its includes; a template error is its
    /// only diagnostic.
    pub compilation: Compilation,
}

/// Renders the template `name` (text `text`) with `point` and compiles the
/// result. Includes are read through `includes`, imports of the rendered
/// recipe through `loader` (relative to the template's folder).
pub fn compile(
    name: &str,
    text: &str,
    point: &[Param],
    includes: &mut Includes<'_>,
    loader: &mut dyn Loader,
) -> Variant {
    let variant = variant_name(name, point);
    let rendered = match render(name, text, point, includes) {
        Ok(r) => r,
        Err(failure) => {
            return Variant {
                name: variant,
                text: None,
                compilation: Compilation {
                    sources: failure.sources,
                    program: None,
                    diagnostics: vec![failure.diagnostic],
                },
            };
        }
    };
    let mut imports = VariantLoader {
        inner: loader,
        variant: &variant,
        template: name,
    };
    let mut c = crate::compile(&variant, &rendered.text, &mut imports);
    let root = SourceId(0);
    // The template and its includes join the compilation's sources.
    let ids: Vec<SourceId> = rendered
        .files
        .iter()
        .map(|(n, t)| c.sources.add(Source::new(n.clone(), t.clone())))
        .collect();
    let rendered_source = Source::new(variant.clone(), rendered.text.clone());
    for d in &mut c.diagnostics {
        if d.primary.span.source != root {
            continue;
        }
        let (line, _) = rendered_source.line_col(d.primary.span.start as usize);
        match rendered
            .lines
            .as_ref()
            .and_then(|m| m.get(line - 1).copied().flatten())
        {
            Some((file, tline)) => {
                let src = c.sources.get(ids[file]);
                let span = line_span(src, ids[file], tline);
                d.secondary.push(crate::diagnostic::Label {
                    span,
                    message: "rendered from this template line".to_string(),
                });
            }
            None => d.notes.push(format!(
                "`{variant}` is rendered from the template `{name}`"
            )),
        }
    }
    Variant {
        name: variant,
        text: Some(rendered.text),
        compilation: c,
    }
}

/// The trimmed text of 1-based `line` in `src`, as a span.
fn line_span(src: &Source, id: SourceId, line: usize) -> Span {
    let starts = src.line_starts();
    let start = starts.get(line - 1).copied().unwrap_or(src.text.len());
    let end = starts.get(line).map_or(src.text.len(), |e| e - 1);
    let text = &src.text[start..end.max(start)];
    let lead = text.len() - text.trim_start().len();
    let trimmed = text.trim();
    if trimmed.is_empty() {
        Span::new(id, start, start)
    } else {
        Span::new(id, start + lead, start + lead + trimmed.len())
    }
}

/// Imports of a variant are read as if from the template itself.
struct VariantLoader<'a> {
    inner: &'a mut dyn Loader,
    variant: &'a str,
    template: &'a str,
}

impl Loader for VariantLoader<'_> {
    fn load(&mut self, from: &str, path: &str) -> Result<(String, String), String> {
        let from = if from == self.variant {
            self.template
        } else {
            from
        };
        self.inner.load(from, path)
    }
}

/// A successful rendering.
#[derive(Debug)]
pub struct Rendered {
    /// The rendered recipe.
    pub text: String,
    /// The template (first) and each file it included: display name and text.
    pub files: Vec<(String, String)>,
    /// For each rendered line, the file (index into `files`) and 1-based line
    /// it came from; `None` when lines could not be traced.
    pub lines: Option<Vec<Option<(usize, usize)>>>,
}

/// A failed rendering: the diagnostic and the sources it points into.
#[derive(Debug)]
pub struct RenderFailure {
    /// The template (first) and the files it included.
    pub sources: Sources,
    /// What went wrong, located in the template or an include.
    pub diagnostic: Diagnostic,
}

/// The folder part of a display name, with its trailing `/` (or nothing).
fn folder_of(name: &str) -> &str {
    match name.rfind(['/', '\\']) {
        Some(i) => &name[..=i],
        None => "",
    }
}

/// Why an include name is refused, if it is: only plain file names in the
/// template's own folder can be included.
fn refuse_include(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the include name is empty".to_string());
    }
    if name.contains(['/', '\\', ':']) || name == "." || name == ".." {
        return Some(
            "a template can include only files in its own folder (a plain file name)".to_string(),
        );
    }
    None
}

/// Renders the template with `point`, strictly (every variable used must be
/// given). See [`compile`].
pub fn render(
    name: &str,
    text: &str,
    point: &[Param],
    includes: &mut Includes<'_>,
) -> Result<Rendered, RenderFailure> {
    let main = name.rsplit(['/', '\\']).next().unwrap_or(name).to_string();
    let folder = folder_of(name);
    let ctx: BTreeMap<String, minijinja::Value> = point
        .iter()
        .map(|p| (p.name.clone(), p.value.to_jinja()))
        .collect();
    let ctx = minijinja::Value::from_iter(ctx);
    // Include name → its text, or why it cannot be read; in first-read order.
    let mut read: Vec<(String, Result<String, String>)> = Vec::new();
    let files =
        |read: &[(String, Result<String, String>)]| -> Vec<(String, String)> {
            std::iter::once((name.to_string(), text.to_string()))
                .chain(read.iter().filter_map(|(n, t)| {
                    t.as_ref().ok().map(|t| (format!("{folder}{n}"), t.clone()))
                }))
                .collect()
        };
    let output = loop {
        let misses = Arc::new(Mutex::new(Vec::<String>::new()));
        let result = environment(&main, text, &read, &misses, None)
            .and_then(|env| env.get_template(&main)?.render(&ctx));
        let misses: Vec<String> = misses
            .lock()
            .map(|m| m.clone())
            .unwrap_or_else(|e| e.into_inner().clone());
        let new: Vec<String> = misses
            .iter()
            .filter(|m| **m != main && !read.iter().any(|(n, _)| n == *m))
            .cloned()
            .collect();
        if !new.is_empty() && read.len() < MAX_INCLUDES {
            for n in new {
                let got = match refuse_include(&n) {
                    Some(why) => Err(why),
                    None => includes(&n),
                };
                read.push((n, got));
            }
            continue;
        }
        match result {
            Ok(out) => break out,
            Err(e) => {
                let files = files(&read);
                let refused = misses
                    .last()
                    .and_then(|m| read.iter().find(|(n, _)| n == m))
                    .and_then(|(n, t)| t.as_ref().err().map(|why| (n.clone(), why.clone())));
                return Err(failure(
                    &main,
                    &files,
                    &e,
                    refused,
                    read.len() >= MAX_INCLUDES,
                ));
            }
        }
    };
    let files = files(&read);
    let lines = trace(&main, text, &read, &ctx, &output);
    Ok(Rendered {
        text: output,
        files,
        lines,
    })
}

/// A strict environment holding the template (under `main`) and the includes
/// read so far; any other name asked for is recorded in `misses`. With
/// `markers`, every text is instrumented for line tracing (the main template
/// as file 0, each include as its position in `read` plus one).
fn environment(
    main: &str,
    text: &str,
    read: &[(String, Result<String, String>)],
    misses: &Arc<Mutex<Vec<String>>>,
    markers: Option<()>,
) -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_debug(true);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    let prepare = |file: usize, t: &str| match markers {
        Some(()) => instrument(file, t),
        None => t.to_string(),
    };
    env.add_template_owned(main.to_string(), prepare(0, text))?;
    for (i, (n, t)) in read.iter().enumerate() {
        if let Ok(t) = t {
            env.add_template_owned(n.clone(), prepare(i + 1, t))?;
        }
    }
    let misses = Arc::clone(misses);
    env.set_loader(move |name| {
        if let Ok(mut m) = misses.lock() {
            m.push(name.to_string());
        }
        Ok(None)
    });
    Ok(env)
}

/// Turns a minijinja error into a diagnostic located in the file it names.
fn failure(
    main: &str,
    files: &[(String, String)],
    e: &minijinja::Error,
    refused: Option<(String, String)>,
    too_many: bool,
) -> RenderFailure {
    let mut sources = Sources::new();
    let ids: Vec<SourceId> = files
        .iter()
        .map(|(n, t)| sources.add(Source::new(n.clone(), t.clone())))
        .collect();
    // Which file: the main template (named `main` in the environment) or an include.
    let file = match e.name() {
        Some(n) if n != main => files
            .iter()
            .position(|(shown, _)| shown.rsplit(['/', '\\']).next() == Some(n))
            .unwrap_or(0),
        _ => 0,
    };
    let src = sources.get(ids[file]);
    let span = match (e.range(), e.line()) {
        (Some(r), _) if r.end <= src.text.len() && r.start <= r.end => {
            Span::new(ids[file], r.start, r.end)
        }
        (_, Some(line)) => line_span(src, ids[file], line),
        _ => Span::new(ids[file], 0, 0),
    };
    let snippet = sources.slice(span).to_string();
    let detail = e.detail().map(str::to_string);
    let diagnostic = match e.kind() {
        ErrorKind::UndefinedError => {
            let what = if snippet.is_empty() {
                "a variable".to_string()
            } else {
                format!("`{snippet}`")
            };
            Diagnostic::error("E0281", format!("{what} is not defined in the template"), span)
                .label("undefined")
                .help(
                    "give every template variable a value: `rlr check FILE --var NAME=VALUE`, or `rlr sweep FILE --grid NAME=V1,V2`",
                )
        }
        ErrorKind::TemplateNotFound => {
            let (what, why) = match refused {
                Some((n, why)) => (format!("`{n}`"), why),
                None if too_many => (
                    "a file".to_string(),
                    format!("a template can include at most {MAX_INCLUDES} files"),
                ),
                None => ("a file".to_string(), detail.unwrap_or_default()),
            };
            Diagnostic::error("E0282", format!("cannot include {what}"), span).label(why)
        }
        ErrorKind::SyntaxError => Diagnostic::error(
            "E0280",
            format!(
                "template syntax error: {}",
                detail.unwrap_or_else(|| "invalid syntax".to_string())
            ),
            span,
        ),
        kind => {
            let mut message = format!("the template cannot be rendered: {kind}");
            if let Some(d) = detail {
                message.push_str(": ");
                message.push_str(&d);
            }
            Diagnostic::error("E0280", message, span)
        }
    };
    RenderFailure {
        sources,
        diagnostic,
    }
}

/// Start and end of a line marker (Unicode private-use characters).
const MARK_START: char = '\u{e000}';
const MARK_END: char = '\u{e001}';

/// Renders again with markers and maps each rendered line to its origin;
/// `None` if the markers changed the output.
fn trace(
    main: &str,
    text: &str,
    read: &[(String, Result<String, String>)],
    ctx: &minijinja::Value,
    plain: &str,
) -> Option<Vec<Option<(usize, usize)>>> {
    let has_marks = |t: &str| t.contains([MARK_START, MARK_END]);
    if has_marks(text)
        || read
            .iter()
            .any(|(_, t)| t.as_ref().is_ok_and(|t| has_marks(t)))
    {
        return None;
    }
    let misses = Arc::new(Mutex::new(Vec::new()));
    let env = environment(main, text, read, &misses, Some(())).ok()?;
    let out = env.get_template(main).and_then(|t| t.render(ctx)).ok()?;
    let mut lines = Vec::new();
    let mut stripped = String::with_capacity(out.len());
    let mut carry: Option<(usize, usize)> = None;
    for line in out.split('\n') {
        let mut first = None;
        let mut rest = line;
        while let Some(i) = rest.find(MARK_START) {
            stripped.push_str(&rest[..i]);
            let after = &rest[i + MARK_START.len_utf8()..];
            let j = after.find(MARK_END)?;
            let (f, l) = after[..j].split_once('.')?;
            let origin = (f.parse().ok()?, l.parse().ok()?);
            first.get_or_insert(origin);
            carry = Some(origin);
            rest = &after[j + MARK_END.len_utf8()..];
        }
        stripped.push_str(rest);
        stripped.push('\n');
        lines.push(first.or(carry));
    }
    stripped.pop();
    (stripped == plain).then_some(lines)
}

/// What a stretch of template text is.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    Text,
    Tag,
}

/// Inserts a marker `\u{e000}FILE.LINE\u{e001}` before the first non-blank
/// text character (outside tags, expressions and comments) of every line.
fn instrument(file: usize, text: &str) -> String {
    let parts = lex(text);
    let mut out = String::with_capacity(text.len() * 2);
    let mut line = 1;
    let mut marked = false;
    let mut pos = 0;
    for (part, range) in parts {
        let s = &text[range.clone()];
        if part == Part::Tag {
            line += s.matches('\n').count();
            if s.contains('\n') {
                marked = false;
            }
            out.push_str(s);
            pos = range.end;
            continue;
        }
        for c in s.chars() {
            if c == '\n' {
                line += 1;
                marked = false;
            } else if !marked && !c.is_whitespace() {
                out.push(MARK_START);
                out.push_str(&format!("{file}.{line}"));
                out.push(MARK_END);
                marked = true;
            }
            out.push(c);
        }
        pos = range.end;
    }
    out.push_str(&text[pos..]);
    out
}

/// Splits a template into text and tags (`{{ }}`, `{% %}`, `{# #}`); the
/// inside of `{% raw %}` is text.
fn lex(text: &str) -> Vec<(Part, std::ops::Range<usize>)> {
    let b = text.as_bytes();
    let mut parts = Vec::new();
    let (mut i, mut start) = (0, 0);
    while i + 1 < b.len() {
        let close: &[u8] = match (b[i], b[i + 1]) {
            (b'{', b'{') => b"}}",
            (b'{', b'%') => b"%}",
            (b'{', b'#') => b"#}",
            _ => {
                i += 1;
                continue;
            }
        };
        if start < i {
            parts.push((Part::Text, start..i));
        }
        let end = tag_end(b, i + 2, close);
        parts.push((Part::Tag, i..end));
        start = end;
        i = end;
        if close == b"%}" && is_raw(&text[parts.last().map_or(0, |p| p.1.start)..end]) {
            // Text up to the `{%` of `{% endraw %}`.
            let mut j = end;
            while j + 1 < b.len() {
                if b[j] == b'{' && b[j + 1] == b'%' {
                    let e = tag_end(b, j + 2, b"%}");
                    if text[j..e].contains("endraw") {
                        break;
                    }
                }
                j += 1;
            }
            let j = j.min(b.len());
            if end < j {
                parts.push((Part::Text, end..j));
            }
            start = j;
            i = j;
        }
    }
    if start < b.len() {
        parts.push((Part::Text, start..b.len()));
    }
    parts
}

/// The byte after the closing delimiter, skipping string literals.
fn tag_end(b: &[u8], mut i: usize, close: &[u8]) -> usize {
    let mut quote = None;
    while i < b.len() {
        match quote {
            Some(q) => {
                if b[i] == b'\\' {
                    i += 1;
                } else if b[i] == q {
                    quote = None;
                }
            }
            None if close != b"#}" && (b[i] == b'"' || b[i] == b'\'') => quote = Some(b[i]),
            None if b[i..].starts_with(close) => return i + close.len(),
            None => {}
        }
        i += 1;
    }
    b.len()
}

/// Whether a `{% ... %}` tag is `{% raw %}`.
fn is_raw(tag: &str) -> bool {
    let inner = tag
        .trim_start_matches("{%")
        .trim_end_matches("%}")
        .trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
    inner == "raw"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NoImports;

    const TEMPLATE: &str = r#"recipe "tiny" { seed = {{ seed }} }
model policy = gpt(layers = 2, width = 64, heads = 2)
task  train  = arith(max = 9)
stage rl = grpo(policy, train) {
  lr = {{ lr }}
  reward {
{% for w in weights %}
    r{{ loop.index }} = {{ w }} * exact(answer, sample.answer)
{% endfor %}
  }
  optimize r1
}
"#;

    fn no_includes(name: &str) -> Result<String, String> {
        Err(format!("no `{name}` here"))
    }

    fn point(pairs: &[(&str, &str)]) -> Point {
        pairs.iter().map(|(k, v)| Param::new(*k, *v)).collect()
    }

    fn axis(name: &str, values: &[&str]) -> Axis {
        Axis {
            name: name.to_string(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn parses_values() {
        assert_eq!(Value::parse("3"), Value::Int(3));
        assert_eq!(Value::parse("-3"), Value::Int(-3));
        assert_eq!(Value::parse("3e-4"), Value::Float(3e-4));
        assert_eq!(Value::parse(".5"), Value::Float(0.5));
        assert_eq!(Value::parse("true"), Value::Bool(true));
        assert_eq!(Value::parse("inf"), Value::Str("inf".into()));
        assert_eq!(Value::parse("1e"), Value::Str("1e".into()));
        assert_eq!(Value::parse("\"3\""), Value::Str("3".into()));
        assert_eq!(
            Value::parse("[1, x, [2]]"),
            Value::List(vec![
                Value::Int(1),
                Value::Str("x".into()),
                Value::List(vec![Value::Int(2)])
            ])
        );
        assert_eq!(
            Axis::parse("w=[1,2],'a,b',3").map(|a| a.values),
            Ok(vec![
                "[1,2]".to_string(),
                "'a,b'".to_string(),
                "3".to_string()
            ])
        );
        assert!(Axis::parse("1x=1").is_err());
        assert!(Axis::parse("x=1,,2").is_err());
        assert!(Param::parse("novalue").is_err());
    }

    #[test]
    fn renders_and_compiles_a_variant() {
        let p = point(&[("seed", "3"), ("lr", "3e-4"), ("weights", "[1, 0.5]")]);
        let v = compile(
            "sweeps/t.rlr.j2",
            TEMPLATE,
            &p,
            &mut no_includes,
            &mut NoImports,
        );
        assert_eq!(
            v.name,
            "sweeps/t.rlr.j2 [seed=3, lr=3e-4, weights=[1, 0.5]]"
        );
        let text = v.text.as_deref().expect("renders");
        assert!(text.contains("seed = 3 }"), "{text}");
        assert!(text.contains("lr = 0.0003\n"), "{text}");
        assert!(text.contains("    r2 = 0.5 * exact("), "{text}");
        assert!(!text.contains("{%"), "{text}");
        assert!(text.ends_with("}\n"));
        assert!(
            !v.compilation.has_errors(),
            "{:?}",
            v.compilation.diagnostics
        );
        assert_eq!(v.compilation.sources.get(SourceId(0)).name, v.name);
    }

    #[test]
    fn undefined_variable_is_located_in_the_template() {
        let p = point(&[("seed", "3"), ("weights", "[1]")]);
        let v = compile("t.rlr.j2", TEMPLATE, &p, &mut no_includes, &mut NoImports);
        assert!(v.text.is_none());
        let d = &v.compilation.diagnostics[0];
        assert_eq!(d.code, "E0281");
        assert_eq!(d.message, "`lr` is not defined in the template");
        assert_eq!(
            v.compilation.sources.location(d.primary.span),
            "t.rlr.j2:5:11"
        );
    }

    #[test]
    fn syntax_error_is_located_in_the_template() {
        let v = compile(
            "t.rlr.j2",
            "a\n{% for x in %}\n{% endfor %}\n",
            &[],
            &mut no_includes,
            &mut NoImports,
        );
        let d = &v.compilation.diagnostics[0];
        assert_eq!(d.code, "E0280");
        assert!(
            d.message.starts_with("template syntax error"),
            "{}",
            d.message
        );
        let loc = v.compilation.sources.location(d.primary.span);
        assert!(loc.starts_with("t.rlr.j2:2:"), "{loc}");
    }

    #[test]
    fn checker_error_points_at_variant_and_template_line() {
        // Each loop iteration renders a wrong line (`exakt`): the errors are in
        // the variant, and labelled on the loop body's template line.
        let t = TEMPLATE.replace("{{ w }} * exact", "{{ w }} * {{ fn }}");
        let p = point(&[
            ("seed", "1"),
            ("lr", "0.1"),
            ("weights", "[1, 2]"),
            ("fn", "exakt(answer, sample.answer) + exact"),
        ]);
        let v = compile("dir/t.rlr.j2", &t, &p, &mut no_includes, &mut NoImports);
        let c = &v.compilation;
        let errors: Vec<_> = c.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        for (d, line) in errors.iter().zip([7, 8]) {
            let loc = c.sources.location(d.primary.span);
            assert!(loc.starts_with(&format!("{}:{line}:", v.name)), "{loc}");
            let label = d.secondary.last().expect("a template label");
            assert_eq!(label.message, "rendered from this template line");
            assert_eq!(c.sources.location(label.span), "dir/t.rlr.j2:8:5");
            assert_eq!(
                c.sources.slice(label.span),
                "r{{ loop.index }} = {{ w }} * {{ fn }}(answer, sample.answer)"
            );
        }
    }

    #[test]
    fn lines_map_through_loops_and_includes() {
        let t = "a = 1\n{% for i in [1, 2] %}\nb{{ i }} = {{ i }}\n{% endfor %}\n{% include \"part.j2\" %}\nc = 3\n";
        let mut inc = |n: &str| match n {
            "part.j2" => Ok("p = 1\nq = 2\n".to_string()),
            _ => Err("missing".to_string()),
        };
        let r = render("t.j2", t, &[], &mut inc).expect("renders");
        assert_eq!(r.text, "a = 1\nb1 = 1\nb2 = 2\np = 1\nq = 2\nc = 3\n");
        let lines = r.lines.expect("traced");
        assert_eq!(
            &lines[..6],
            &[
                Some((0, 1)),
                Some((0, 3)),
                Some((0, 3)),
                Some((1, 1)),
                Some((1, 2)),
                Some((0, 6))
            ]
        );
        assert_eq!(r.files[1].0, "part.j2");
    }

    #[test]
    fn includes_only_from_the_same_folder() {
        let mut asked = Vec::new();
        let mut inc = |n: &str| {
            asked.push(n.to_string());
            Ok("x = 1\n".to_string())
        };
        let ok = render("d/t.j2", "{% include 'a.j2' %}", &[], &mut inc).expect("renders");
        assert_eq!(ok.text, "x = 1\n");
        assert_eq!(ok.files[1].0, "d/a.j2");
        let bad = render("d/t.j2", "line\n{% include '../a.j2' %}\n", &[], &mut inc)
            .expect_err("refused");
        assert_eq!(bad.diagnostic.code, "E0282");
        assert_eq!(bad.diagnostic.message, "cannot include `../a.j2`");
        assert!(bad.diagnostic.primary.message.contains("own folder"));
        assert!(
            bad.sources
                .location(bad.diagnostic.primary.span)
                .starts_with("d/t.j2:2:")
        );
        assert_eq!(asked, ["a.j2"]);
        let mut missing = |_: &str| Err("no such file `d/m.j2`".to_string());
        let gone =
            render("d/t.j2", "{% include 'm.j2' %}", &[], &mut missing).expect_err("missing");
        assert_eq!(gone.diagnostic.primary.message, "no such file `d/m.j2`");
    }

    #[test]
    fn grid_zip_and_random_points() {
        let names = |ps: &[Point]| -> Vec<String> {
            ps.iter()
                .map(|p| {
                    p.iter()
                        .map(|x| x.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        };
        let grid = [axis("a", &["1", "2"]), axis("b", &["x", "y", "z"])];
        let ps = points(&grid, &[], None).expect("grid");
        assert_eq!(names(&ps), ["1 x", "1 y", "1 z", "2 x", "2 y", "2 z"]);
        let zip = [axis("c", &["5", "6"]), axis("d", &["p", "q"])];
        let ps = points(&grid[..1], &zip, None).expect("zip");
        assert_eq!(names(&ps), ["1 5 p", "1 6 q", "2 5 p", "2 6 q"]);
        assert!(points(&[], &[axis("c", &["1"]), axis("d", &["1", "2"])], None).is_err());
        assert!(points(&[axis("a", &["1"]), axis("a", &["2"])], &[], None).is_err());
        assert_eq!(points(&[], &[], None).expect("one").len(), 1);

        let r = |count, seed| Some(Random { count, seed });
        let a = points(&grid, &[], r(4, 7)).expect("random");
        assert_eq!(a.len(), 4);
        assert_eq!(
            names(&a),
            names(&points(&grid, &[], r(4, 7)).expect("again"))
        );
        let all = names(&points(&grid, &[], None).expect("grid"));
        let picked = names(&a);
        let mut last = 0;
        for p in &picked {
            let i = all.iter().position(|x| x == p).expect("a grid point");
            assert!(i >= last, "grid order");
            last = i;
        }
        assert_eq!(names(&points(&grid, &[], r(6, 1)).expect("all")), all);
        assert!(points(&grid, &[], r(7, 1)).is_err());
        let seeds: HashSet<Vec<String>> = (0..20)
            .map(|s| names(&points(&grid, &[], r(2, s)).expect("r")))
            .collect();
        assert!(seeds.len() > 3, "the seed matters");
    }

    #[test]
    fn instrumenting_skips_tags_and_raw() {
        let t =
            "{# c\nd #}x {{ '}}' }}\n  {% if true %}y{% endif %}\n{% raw %}{{ z }}{% endraw %}\n";
        let r = render("t.j2", t, &[], &mut no_includes).expect("renders");
        // `trim_blocks`: the newline after a block tag goes.
        assert_eq!(r.text, "x }}\ny{{ z }}");
        assert_eq!(r.lines.expect("traced"), [Some((0, 2)), Some((0, 3))]);
    }
}
