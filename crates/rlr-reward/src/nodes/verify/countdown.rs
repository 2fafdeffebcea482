//! Countdown: `equation_valid`, with exact rational arithmetic.

use crate::error::Result;
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::Value;

use super::{Lab, aligned, labs, parse_number, reals_out};

/// An exact rational with a positive denominator, in lowest terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Rat {
    n: i128,
    d: i128,
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Rat {
    fn new(n: i128, d: i128) -> Option<Rat> {
        if d == 0 {
            return None;
        }
        let g = gcd(n.unsigned_abs(), d.unsigned_abs()).max(1);
        let g = i128::try_from(g).ok()?;
        let (mut n, mut d) = (n / g, d / g);
        if d < 0 {
            n = n.checked_neg()?;
            d = d.checked_neg()?;
        }
        Some(Rat { n, d })
    }
    fn add(self, o: Rat) -> Option<Rat> {
        Rat::new(
            self.n
                .checked_mul(o.d)?
                .checked_add(o.n.checked_mul(self.d)?)?,
            self.d.checked_mul(o.d)?,
        )
    }
    fn sub(self, o: Rat) -> Option<Rat> {
        self.add(Rat {
            n: o.n.checked_neg()?,
            d: o.d,
        })
    }
    fn mul(self, o: Rat) -> Option<Rat> {
        Rat::new(self.n.checked_mul(o.n)?, self.d.checked_mul(o.d)?)
    }
    fn div(self, o: Rat) -> Option<Rat> {
        Rat::new(self.n.checked_mul(o.d)?, self.d.checked_mul(o.n)?)
    }
    /// The value as a float.
    pub(crate) fn to_f64(self) -> f64 {
        self.n as f64 / self.d as f64
    }
}

/// An unsigned decimal literal `12` or `2.5` as a rational.
fn decimal(s: &str) -> Option<Rat> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut n: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        n = n.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    let d = 10i128.checked_pow(u32::try_from(frac.len()).ok()?)?;
    Rat::new(n, d)
}

/// A signed decimal or fraction `p/q` as a rational.
fn rational(s: &str) -> Option<Rat> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r.trim_start()),
        None => (false, s.strip_prefix('+').unwrap_or(s).trim_start()),
    };
    let v = match s.split_once('/') {
        Some((p, q)) => decimal(p.trim())?.div(decimal(q.trim())?)?,
        None => decimal(s)?,
    };
    if neg {
        Rat { n: 0, d: 1 }.sub(v)
    } else {
        Some(v)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tok {
    Num(Rat),
    Op(u8),
    Open,
    Close,
}

fn tokenize(expr: &str) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut chars = expr.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '0'..='9' | '.' => {
                let mut end = i + c.len_utf8();
                while let Some((j, d)) = chars.peek().copied() {
                    if d.is_ascii_digit() || d == '.' {
                        end = j + 1;
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Tok::Num(decimal(&expr[i..end])?));
            }
            '+' => out.push(Tok::Op(b'+')),
            '-' | '−' | '–' => out.push(Tok::Op(b'-')),
            '*' | '×' | '·' => out.push(Tok::Op(b'*')),
            '/' | '÷' => out.push(Tok::Op(b'/')),
            '(' | '[' => out.push(Tok::Open),
            ')' | ']' => out.push(Tok::Close),
            _ => return None,
        }
    }
    Some(out)
}

/// Recursive-descent evaluation over binary + − × ÷ and parentheses, recording the literals used.
struct Parser<'t> {
    toks: &'t [Tok],
    pos: usize,
    used: Vec<Rat>,
}

impl Parser<'_> {
    fn expr(&mut self, depth: usize) -> Option<Rat> {
        let mut v = self.term(depth)?;
        while let Some(Tok::Op(op @ (b'+' | b'-'))) = self.toks.get(self.pos).copied() {
            self.pos += 1;
            let w = self.term(depth)?;
            v = if op == b'+' { v.add(w)? } else { v.sub(w)? };
        }
        Some(v)
    }
    fn term(&mut self, depth: usize) -> Option<Rat> {
        let mut v = self.factor(depth)?;
        while let Some(Tok::Op(op @ (b'*' | b'/'))) = self.toks.get(self.pos).copied() {
            self.pos += 1;
            let w = self.factor(depth)?;
            v = if op == b'*' { v.mul(w)? } else { v.div(w)? };
        }
        Some(v)
    }
    fn factor(&mut self, depth: usize) -> Option<Rat> {
        if depth > 64 {
            return None;
        }
        match self.toks.get(self.pos).copied()? {
            Tok::Num(x) => {
                self.pos += 1;
                self.used.push(x);
                Some(x)
            }
            Tok::Open => {
                self.pos += 1;
                let v = self.expr(depth + 1)?;
                (self.toks.get(self.pos) == Some(&Tok::Close)).then_some(())?;
                self.pos += 1;
                Some(v)
            }
            _ => None,
        }
    }
}

/// The value of a countdown expression and the numbers it uses; `None` if it is not one.
pub(crate) fn evaluate(expr: &str) -> Option<(Rat, Vec<Rat>)> {
    let mut e = expr.split('=').next().unwrap_or("").to_string();
    for (from, to) in [
        ("\\times", "*"),
        ("\\cdot", "*"),
        ("\\div", "/"),
        ("\\left", ""),
        ("\\right", ""),
        ("$", ""),
    ] {
        e = e.replace(from, to);
    }
    let toks = tokenize(&e)?;
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        used: Vec::new(),
    };
    let v = p.expr(0)?;
    (p.pos == toks.len()).then_some((v, p.used))
}

/// `equation_valid` of one expression.
pub(crate) fn equation_valid(expr: Lab<'_>, numbers: &str, target: Lab<'_>) -> bool {
    let Lab::Text(expr) = expr else {
        return false;
    };
    let Some((value, mut used)) = evaluate(expr) else {
        return false;
    };
    let given: Option<Vec<Rat>> = numbers
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(rational)
        .collect();
    let Some(mut given) = given else {
        return false;
    };
    used.sort();
    given.sort();
    if used != given {
        return false;
    }
    match target {
        Lab::Missing => false,
        Lab::Text(t) => match rational(t) {
            Some(r) => r == value,
            None => parse_number(t)
                .is_some_and(|x| (value.to_f64() - x).abs() <= 1e-9 * x.abs().max(1.0)),
        },
        Lab::Num(x) => {
            if x.fract() == 0.0 && x.abs() < 1e18 {
                Rat::new(x as i128, 1) == Some(value)
            } else {
                (value.to_f64() - x).abs() <= 1e-9 * x.abs().max(1.0)
            }
        }
    }
}

/// `equation_valid(expr, numbers, target)`. Countdown check: 1 iff `expr` is
/// an arithmetic expression over + − × ÷ and parentheses that uses each of
/// `numbers` exactly once (whitespace-separated) and evaluates exactly
/// (rational arithmetic) to `target`; else 0.
///
/// rlr's choices: operators are binary only (no unary minus); `*`, `×`, `·`,
/// `\times`, `\cdot` multiply and `/`, `÷`, `\div` divide; literals are
/// decimals compared by value; if `expr` contains `=`, only the part before
/// the first `=` is the expression; division by zero or an overflowing
/// intermediate gives 0; `numbers` may also be comma-separated, and one that
/// does not parse as a number gives 0.
///
/// [INFER] Countdown task reward as popularised by TinyZero; the exact rule is rlr's.
pub(super) struct EquationValid;

impl Node for EquationValid {
    fn name(&self) -> &'static str {
        "equation_valid"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let (vals, segs) = aligned(call, cx, &["expr", "numbers", "target"])?;
        let expr = labs(&vals[0], "expr")?;
        let numbers = kit::texts(&vals[1], "numbers")?;
        let target = labs(&vals[2], "target")?;
        let out = expr
            .iter()
            .zip(&numbers)
            .zip(&target)
            .map(|((e, n), t)| f64::from(u8::from(equation_valid(*e, n, *t))))
            .collect();
        Ok(reals_out(call, out, segs))
    }
}
