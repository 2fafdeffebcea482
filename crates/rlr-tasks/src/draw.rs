//! Drawing a problem of one split, and reading a declaration's arguments,
//! shared by the synthetic generators (`arith`, `arith_chain`,
//! `evidence_math`, `countdown`, `safety`).
//!
//! A problem belongs to the held-out split iff the fingerprint of its
//! canonical text is 0 modulo 10, so the two splits never share a problem. A
//! generator draws until it gets a problem of the split asked for; the draws
//! are bounded, and when they run out the problem found for that split when
//! the task was built is used instead. Building fails, with a message, when
//! one split has no problem at all (a problem space too small to split).

use rlr_lang::ir::{Const, Decl};

use crate::{Rng, Split, fingerprint};

/// Draws per sample before falling back to the problem found at build time.
pub(crate) const TRIES: usize = 1000;

/// Draws made at build time to find one problem of each split.
pub(crate) const SEARCH: usize = 20_000;

/// The split a problem belongs to, from its canonical text.
pub(crate) fn split_of(canonical: &str) -> Split {
    if fingerprint(canonical).is_multiple_of(10) {
        Split::Heldout
    } else {
        Split::Train
    }
}

/// The split's number in [`Rng::for_problem`].
pub(crate) fn split_stream(split: Split) -> u64 {
    match split {
        Split::Train => 0,
        Split::Heldout => 1,
    }
}

/// A generated problem: what decides its split.
pub(crate) trait Problem: Clone {
    /// The problem's canonical text (equal problems, equal texts).
    fn canonical(&self) -> String;
}

/// Draws with `generate` (which may reject a draw with `None`) until a
/// problem of `split` comes out; at most `tries` draws.
pub(crate) fn draw<P: Problem>(
    rng: &mut Rng,
    split: Split,
    tries: usize,
    mut generate: impl FnMut(&mut Rng) -> Option<P>,
) -> Option<P> {
    (0..tries).find_map(|_| generate(rng).filter(|p| split_of(&p.canonical()) == split))
}

/// One problem of each split (train, held-out), found with a generator
/// seeded from `seed` and `stream`; an error naming `what` if a split has none.
pub(crate) fn fallbacks<P: Problem>(
    what: &str,
    seed: u64,
    stream: &str,
    mut generate: impl FnMut(&mut Rng) -> Option<P>,
) -> Result<[P; 2], String> {
    let mut find = |split: Split| {
        let mut rng = Rng::for_problem(seed, stream, split_stream(split) + 2, 0);
        draw(&mut rng, split, SEARCH, &mut generate).ok_or_else(|| {
            let part = match split {
                Split::Train => "training",
                Split::Heldout => "held-out",
            };
            format!(
                "{what} has too few distinct problems to keep a {part} split apart \
                 (none found in {SEARCH} draws); allow more problems"
            )
        })
    };
    Ok([find(Split::Train)?, find(Split::Heldout)?])
}

/// The problem for `split` of a pair made by [`fallbacks`].
pub(crate) fn fallback<P: Clone>(pair: &[P; 2], split: Split) -> P {
    match split {
        Split::Train => pair[0].clone(),
        Split::Heldout => pair[1].clone(),
    }
}

/// An integer argument.
pub(crate) fn int(decl: &Decl, name: &str) -> Result<i64, String> {
    match decl.args.get(name) {
        Some(Const::Int(i)) => Ok(*i),
        Some(Const::Real(x)) if x.fract() == 0.0 && x.abs() < 9e15 => Ok(*x as i64),
        _ => Err(missing(decl, name, "an integer")),
    }
}

/// A real argument.
pub(crate) fn real(decl: &Decl, name: &str) -> Result<f64, String> {
    match decl.args.get(name) {
        Some(Const::Real(x)) => Ok(*x),
        Some(Const::Int(i)) => Ok(*i as f64),
        _ => Err(missing(decl, name, "a number")),
    }
}

/// A boolean argument.
pub(crate) fn flag(decl: &Decl, name: &str) -> Result<bool, String> {
    match decl.args.get(name) {
        Some(Const::Bool(b)) => Ok(*b),
        _ => Err(missing(decl, name, "true or false")),
    }
}

/// A string argument.
pub(crate) fn text<'d>(decl: &'d Decl, name: &str) -> Result<&'d str, String> {
    match decl.args.get(name) {
        Some(Const::Str(s)) => Ok(s),
        _ => Err(missing(decl, name, "a string")),
    }
}

/// An integer argument that must lie in `lo..=hi`.
pub(crate) fn int_in(decl: &Decl, name: &str, lo: i64, hi: i64) -> Result<i64, String> {
    let v = int(decl, name)?;
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "`{}`: `{name} = {v}` is out of range; this task supports {lo} to {hi}",
            decl.builtin
        ))
    }
}

fn missing(decl: &Decl, name: &str, what: &str) -> String {
    format!("`{}` needs `{name}` to be {what}", decl.builtin)
}

/// The operators of an `ops` argument: characters of "+-*", each once, in
/// the order first written.
pub(crate) fn ops(decl: &Decl) -> Result<Vec<char>, String> {
    let given = text(decl, "ops")?;
    let mut out = Vec::new();
    for c in given.chars() {
        if !"+-*".contains(c) {
            return Err(format!(
                "`{}`: `ops = {given:?}` has `{c}`; the operators are the characters of \"+-*\"",
                decl.builtin
            ));
        }
        if !out.contains(&c) {
            out.push(c);
        }
    }
    if out.is_empty() {
        return Err(format!(
            "`{}`: `ops` is empty; give at least one of \"+-*\"",
            decl.builtin
        ));
    }
    Ok(out)
}

/// `a op b` for an operator of "+-*", in i128 (operands are bounded by the
/// tasks, so this cannot overflow for them; `None` if it would).
pub(crate) fn apply(a: i128, op: char, b: i128) -> Option<i128> {
    match op {
        '+' => a.checked_add(b),
        '-' => a.checked_sub(b),
        '*' => a.checked_mul(b),
        _ => None,
    }
}
