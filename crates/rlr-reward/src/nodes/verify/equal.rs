//! Answer comparison and extraction: `exact`, `numeric_equal`, `math_equal`,
//! `boxed`, `tag`.

use crate::error::Result;
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

use super::{
    Lab, aligned, boxed_content, close, format_number, labs, last_number, matching_brace,
    reals_out, tag_content,
};

/// `exact(a, b, normalize = true)`. Exact match: r = 1[norm(a) = norm(b)], else
/// 0. With `normalize` (the default) both labels are trimmed, runs of
/// whitespace become one space and letters are lower-cased; an empty label
/// never equals anything, so a response with no extractable answer scores 0.
/// The scope is the finer of the two inputs.
///
/// [PAPER] SophiaVL-R1 (arXiv:2505.17018) §3.3 numerical/multiple-choice
/// outcome reward; [CODE] TTRL majority check in EVOL-RL (YujunZhou/EVOL-RL,
/// verl/utils/reward_score/ttrl/ttt_metrics.py). The normalisation is rlr's.
pub(super) struct Exact;

impl Node for Exact {
    fn name(&self) -> &'static str {
        "exact"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let normalize = call.flag("normalize")?;
        let (vals, segs) = aligned(call, cx, &["a", "b"])?;
        let (a, b) = (labs(&vals[0], "a")?, labs(&vals[1], "b")?);
        let out = a
            .iter()
            .zip(&b)
            .map(|(x, y)| unit(exact_eq(*x, *y, normalize)))
            .collect();
        Ok(reals_out(call, out, segs))
    }
}

fn unit(b: bool) -> f64 {
    f64::from(u8::from(b))
}

/// Trim, collapse whitespace, lower-case.
pub(crate) fn normalize_label(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn exact_eq(a: Lab<'_>, b: Lab<'_>, normalize: bool) -> bool {
    let (Some(a), Some(b)) = (a.text(), b.text()) else {
        return false;
    };
    if normalize {
        let (a, b) = (normalize_label(&a), normalize_label(&b));
        !a.is_empty() && a == b
    } else {
        !a.trim().is_empty() && a == b
    }
}

/// `numeric_equal(a, b, tol = 1e-6)`. Numeric match: both sides are parsed as
/// numbers (integers, decimals, scientific notation, thousands separators
/// `1,234`, a leading sign, simple fractions `p/q`) and
/// r = 1[|a − b| <= tol · max(1, |b|)]; r = 0 if either side does not parse.
///
/// [PAPER] SophiaVL-R1 (arXiv:2505.17018) §3.3 numerical outcome reward;
/// parsing rules are rlr's [INFER].
pub(super) struct NumericEqual;

impl Node for NumericEqual {
    fn name(&self) -> &'static str {
        "numeric_equal"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let tol = call.real("tol")?;
        let (vals, segs) = aligned(call, cx, &["a", "b"])?;
        let (a, b) = (labs(&vals[0], "a")?, labs(&vals[1], "b")?);
        let num = |l: &Lab<'_>| match l {
            Lab::Missing => None,
            Lab::Num(x) => Some(*x),
            Lab::Text(s) => parse_number(s),
        };
        let out = a
            .iter()
            .zip(&b)
            .map(|(x, y)| match (num(x), num(y)) {
                (Some(x), Some(y)) => unit(close(x, y, tol)),
                _ => 0.0,
            })
            .collect();
        Ok(reals_out(call, out, segs))
    }
}

/// A number written as an integer, decimal, scientific number, with
/// thousands commas and a sign, or a simple fraction `p/q` of those.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    match s.split_once('/') {
        Some((p, q)) => {
            let (p, q) = (parse_plain(p)?, parse_plain(q)?);
            (q != 0.0).then(|| p / q)
        }
        None => parse_plain(s),
    }
}

fn parse_plain(s: &str) -> Option<f64> {
    let s = s.trim();
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((a, b)) => (a, b),
        None => (mantissa, ""),
    };
    let int = if int.contains(',') {
        let groups: Vec<&str> = int.split(',').collect();
        let first_ok = (1..=3).contains(&groups[0].len());
        let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
        if !first_ok || !rest_ok {
            return None;
        }
        groups.concat()
    } else {
        int.to_string()
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !digits(&int) || !digits(frac) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let mut text = String::from(if neg { "-" } else { "" });
    text.push_str(if int.is_empty() { "0" } else { &int });
    if !frac.is_empty() {
        text.push('.');
        text.push_str(frac);
    }
    if let Some(e) = exponent {
        let e_digits = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e_digits.is_empty() || !digits(e_digits) {
            return None;
        }
        text.push('e');
        text.push_str(e);
    }
    text.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// `math_equal(a, b, tol = 1e-6)`. Mathematical equivalence in the style of
/// mathruler's grade_answer: both sides are normalised (strip `$`,
/// `\text{...}` wrappers, `\left`/`\right`, `^\circ`, spaces and a trailing
/// period; `\dfrac`/`\tfrac` become `\frac`; thousands commas are removed),
/// then compared as numbers when both parse (integers, decimals, `p/q`,
/// `\frac{p}{q}`, percentages as written: r = 1[|a − b| <= tol · max(1, |b|)]),
/// otherwise as normalised strings. r ∈ {0, 1}; an empty side gives 0.
///
/// rlr's choices: a whole-answer `\boxed{...}` is unwrapped, `\textbf`,
/// `\mathrm` and `\mbox` are unwrapped like `\text`, `%`/`\%` and `\$` are
/// dropped (so `50\%` equals `50`), LaTeX spacing commands are removed,
/// enclosing braces are dropped, and the strings are lower-cased.
///
/// [CODE] PEARL accuracy reward via mathruler grade_answer
/// (MiliLab/PEARL@dab5b0a, examples/reward_function/math_mqa.py;
/// arXiv:2511.18437); DAPO rule reward (verl/utils/reward_score/math_dapo.py,
/// arXiv:2503.14476).
pub(super) struct MathEqual;

impl Node for MathEqual {
    fn name(&self) -> &'static str {
        "math_equal"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let tol = call.real("tol")?;
        let (vals, segs) = aligned(call, cx, &["a", "b"])?;
        let (a, b) = (labs(&vals[0], "a")?, labs(&vals[1], "b")?);
        let out = a
            .iter()
            .zip(&b)
            .map(|(x, y)| unit(math_equal_lab(*x, *y, tol)))
            .collect();
        Ok(reals_out(call, out, segs))
    }
}

/// One side of a `math_equal` comparison: its normalised text and, if it is one, its number.
fn math_side(l: Lab<'_>) -> Option<(String, Option<f64>)> {
    match l {
        Lab::Missing => None,
        Lab::Num(x) => Some((format_number(x), (!x.is_nan()).then_some(x))),
        Lab::Text(s) => {
            let t = math_norm(s);
            let n = math_number(&t);
            Some((t, n))
        }
    }
}

fn math_equal_lab(a: Lab<'_>, b: Lab<'_>, tol: f64) -> bool {
    let (Some((ta, na)), Some((tb, nb))) = (math_side(a), math_side(b)) else {
        return false;
    };
    if ta.is_empty() || tb.is_empty() {
        return false;
    }
    match (na, nb) {
        (Some(x), Some(y)) => close(x, y, tol),
        _ => ta == tb,
    }
}

/// `math_equal` on two texts.
pub(crate) fn math_equal_str(a: &str, b: &str, tol: f64) -> bool {
    math_equal_lab(Lab::Text(a), Lab::Text(b), tol)
}

/// Removes `\cmd` where it is not the start of a longer command name.
fn remove_command(t: &str, cmd: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(i) = rest.find(cmd) {
        let after = &rest[i + cmd.len()..];
        out.push_str(&rest[..i]);
        if after.starts_with(|c: char| c.is_ascii_alphabetic()) {
            out.push_str(cmd);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Replaces every `\cmd{X}` by `X`.
fn unwrap_command(t: &str, cmd: &str) -> String {
    let mut t = t.to_string();
    let mut from = 0;
    while let Some(i) = t[from..].find(cmd) {
        let i = from + i;
        let start = i + cmd.len();
        match matching_brace(&t, start) {
            Some(end) => {
                t = format!("{}{}{}", &t[..i], &t[start..end], &t[end + 1..]);
                from = i;
            }
            None => break,
        }
    }
    t
}

/// Removes commas between a digit and exactly three digits (`1,234` → `1234`).
fn strip_thousands(t: &str) -> String {
    let b = t.as_bytes();
    let mut out = String::with_capacity(t.len());
    for (i, c) in t.char_indices() {
        let thousands = c == ','
            && i > 0
            && b[i - 1].is_ascii_digit()
            && b.get(i + 1..i + 4)
                .is_some_and(|g| g.iter().all(u8::is_ascii_digit))
            && !b.get(i + 4).is_some_and(u8::is_ascii_digit);
        if !thousands {
            out.push(c);
        }
    }
    out
}

/// `math_equal`'s normalisation.
pub(crate) fn math_norm(s: &str) -> String {
    let mut t = s.trim().to_string();
    if t.starts_with("\\boxed{") && matching_brace(&t, "\\boxed{".len()) == Some(t.len() - 1) {
        t = t["\\boxed{".len()..t.len() - 1].to_string();
    }
    for cmd in ["\\text{", "\\textbf{", "\\mathrm{", "\\mbox{"] {
        t = unwrap_command(&t, cmd);
    }
    t = remove_command(&t, "\\left");
    t = remove_command(&t, "\\right");
    t = t
        .replace("^{\\circ}", "")
        .replace("^\\circ", "")
        .replace('°', "");
    t = t.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac");
    t = t
        .replace("\\%", "")
        .replace('%', "")
        .replace("\\$", "")
        .replace('$', "");
    for space in ["\\!", "\\,", "\\;", "\\:", "\\ "] {
        t = t.replace(space, "");
    }
    t.retain(|c| !c.is_whitespace());
    t = strip_thousands(&t);
    while t.ends_with('.') {
        t.pop();
    }
    t = t.to_lowercase();
    while t.starts_with('{') && matching_brace(&t, 1) == Some(t.len() - 1) {
        t = t[1..t.len() - 1].to_string();
    }
    t
}

/// The number a normalised answer writes: `parse_number`, or `\frac{p}{q}` / `\frac pq` with a sign.
fn math_number(t: &str) -> Option<f64> {
    if let Some(x) = parse_number(t) {
        return Some(x);
    }
    let (neg, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let rest = rest.strip_prefix("\\frac")?;
    let (p, rest) = frac_arg(rest)?;
    let (q, rest) = frac_arg(rest)?;
    if !rest.is_empty() {
        return None;
    }
    let (p, q) = (parse_number(p)?, parse_number(q)?);
    if q == 0.0 {
        return None;
    }
    Some(if neg { -p / q } else { p / q })
}

fn frac_arg(s: &str) -> Option<(&str, &str)> {
    if s.starts_with('{') {
        let end = matching_brace(s, 1)?;
        Some((&s[1..end], &s[end + 1..]))
    } else {
        let c = s.chars().next()?;
        c.is_ascii_digit().then(|| (&s[..1], &s[1..]))
    }
}

/// `boxed(text)`. The content of the last `\boxed{...}` in the text, with
/// balanced braces (`\boxed{\frac{1}{2}}` gives `\frac{1}{2}`); the empty
/// label if there is none. (As mathruler's `extract_boxed_content`: if the
/// last `\boxed{` is not closed, the label is empty.)
///
/// [CODE] PEARL extract_boxed (MiliLab/PEARL@dab5b0a, math_mqa.py); Climb
/// Carves Wisdom answer extraction (trestad/Noisy-Rewards-in-Learning-to-Reason,
/// math_score.py).
pub(super) struct Boxed;

impl Node for Boxed {
    fn name(&self) -> &'static str {
        "boxed"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let (vals, segs) = aligned(call, cx, &["text"])?;
        let texts = kit::texts(&vals[0], "text")?;
        let out = texts
            .iter()
            .map(|t| boxed_content(t).map(str::to_string))
            .collect();
        Ok(kit::output(call, Data::Label(out), segs))
    }
}

/// `last_number(text)`. The last number written in the text, as written
/// (sign, thousands groups and decimals included; [`last_number`]); the
/// empty label if there is none.
///
/// [INFER] rlr's reading of the last-number fallback of math graders.
pub(super) struct LastNumber;

impl Node for LastNumber {
    fn name(&self) -> &'static str {
        "last_number"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let (vals, segs) = aligned(call, cx, &["text"])?;
        let texts = kit::texts(&vals[0], "text")?;
        let out = texts
            .iter()
            .map(|t| last_number(t).map(str::to_string))
            .collect();
        Ok(kit::output(call, Data::Label(out), segs))
    }
}

/// `tag(text, name)`. The content of the last `<name>...</name>` block in the
/// text, trimmed; the empty label if there is none or it is not closed (the
/// last opening tag decides).
///
/// [CODE] tagged answers in ToolRL (qiancheng0/ToolRL,
/// verl/utils/reward_score/rlla.py) and SophiaVL-R1's judge parser
/// (kxfan2002/SophiaVL-R1@a818494, extract_score).
pub(super) struct Tag;

impl Node for Tag {
    fn name(&self) -> &'static str {
        "tag"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let name = call.text("name")?;
        let (vals, segs) = aligned(call, cx, &["text"])?;
        let texts = kit::texts(&vals[0], "text")?;
        let out = texts
            .iter()
            .map(|t| tag_content(t, name).map(str::to_string))
            .collect();
        Ok(kit::output(call, Data::Label(out), segs))
    }
}
