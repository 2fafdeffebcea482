//! The built-in tools: `kb_lookup(task, top_k)` searches a `multihop_kb`
//! knowledge base, `calculator(digits)` evaluates arithmetic exactly.
//!
//! A call's input is what the policy wrote: the query or expression, with or
//! without its `<search>`/`<calc>` tags. The output is the tool's
//! `<result>...</result>` block, inserted into the rollout as written.

use std::sync::Arc;

use rlr_lang::ir::{Const, Decl};

use crate::multihop_kb::{KnowledgeBase, MultihopKb};
use crate::{Task, Tool, arg};

/// Most decimal places `calculator` may keep.
const MAX_DIGITS: i64 = 100;

/// The content of `<tag>...</tag>` if the input is written that way, else the input; trimmed.
fn unwrap_tag<'t>(input: &'t str, tag: &str) -> &'t str {
    let t = input.trim();
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let t = t.strip_prefix(open.as_str()).unwrap_or(t);
    t.strip_suffix(close.as_str()).unwrap_or(t).trim()
}

fn int(decl: &Decl, name: &str, default: i64) -> i64 {
    match arg(decl, name) {
        Some(Const::Int(i)) => *i,
        Some(c) => c.as_f64().map_or(default, |x| x as i64),
        None => default,
    }
}

/// `kb_lookup`: the `top_k` facts of a knowledge base that best match a query.
pub struct KbLookup {
    name: String,
    kb: Arc<KnowledgeBase>,
    top_k: usize,
}

impl KbLookup {
    /// Builds the tool; `tasks` are the recipe's tasks by name, and the one
    /// named by the `task` argument must be a `multihop_kb`.
    pub fn build(decl: &Decl, tasks: &[(String, Arc<dyn Task>)]) -> Result<KbLookup, String> {
        let task_name = match arg(decl, "task") {
            Some(Const::Name(n) | Const::Str(n)) => n.as_str(),
            _ => {
                return Err(format!(
                    "kb_lookup `{}`: the `task` argument is missing",
                    decl.name
                ));
            }
        };
        let Some((_, task)) = tasks.iter().find(|(n, _)| n == task_name) else {
            return Err(format!(
                "kb_lookup `{}`: there is no task `{task_name}`",
                decl.name
            ));
        };
        let kb_task = task
            .as_any()
            .and_then(|a| a.downcast_ref::<MultihopKb>())
            .ok_or_else(|| {
                format!(
                    "kb_lookup `{}`: the task `{task_name}` is a `{}`, not a `multihop_kb`; kb_lookup searches a multihop_kb knowledge base",
                    decl.name,
                    task.name()
                )
            })?;
        // 0: what the task's demonstrations show.
        let top_k = match int(decl, "top_k", 0) {
            0 => kb_task.top_k(),
            k if k < 0 => {
                return Err(format!(
                    "kb_lookup `{}`: `top_k` must be at least 0, not {k}",
                    decl.name
                ));
            }
            k => usize::try_from(k).unwrap_or(usize::MAX),
        };
        Ok(KbLookup {
            name: decl.name.clone(),
            kb: kb_task.knowledge_base(),
            top_k,
        })
    }
}

impl Tool for KbLookup {
    fn name(&self) -> &str {
        &self.name
    }

    fn tag(&self) -> &str {
        "search"
    }

    /// `<result>FACT\nFACT...</result>`, or `<result>no matching facts</result>`.
    fn call(&self, input: &str) -> String {
        self.kb.lookup(unwrap_tag(input, "search"), self.top_k)
    }
}

/// `calculator`: exact rational arithmetic, printed with at most `digits` decimal places.
pub struct Calculator {
    name: String,
    digits: usize,
}

impl Calculator {
    /// Builds the tool.
    pub fn build(decl: &Decl) -> Result<Calculator, String> {
        let digits = int(decl, "digits", 6);
        if !(0..=MAX_DIGITS).contains(&digits) {
            return Err(format!(
                "calculator `{}`: `digits` must be in 0..={MAX_DIGITS}, not {digits}",
                decl.name
            ));
        }
        Ok(Calculator {
            name: decl.name.clone(),
            digits: digits as usize,
        })
    }
}

impl Tool for Calculator {
    fn name(&self) -> &str {
        &self.name
    }

    fn tag(&self) -> &str {
        "calc"
    }

    /// `<result>VALUE</result>` or `<result>error</result>`.
    fn call(&self, input: &str) -> String {
        let value = Parser::new(unwrap_tag(input, "calc"))
            .parse()
            .and_then(|q| q.decimal(self.digits));
        format!(
            "<result>{}</result>",
            value.unwrap_or_else(|| "error".to_string())
        )
    }
}

/// A rational number n/d with d > 0, in lowest terms.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Q {
    n: i128,
    d: i128,
}

fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    i128::try_from(a).unwrap_or(1).max(1)
}

impl Q {
    fn new(n: i128, d: i128) -> Option<Q> {
        if d == 0 {
            return None;
        }
        let g = gcd(n, d);
        let (n, d) = (n / g, d / g);
        if d < 0 {
            Some(Q {
                n: n.checked_neg()?,
                d: d.checked_neg()?,
            })
        } else {
            Some(Q { n, d })
        }
    }
    fn int(n: i128) -> Q {
        Q { n, d: 1 }
    }
    fn add(self, o: Q) -> Option<Q> {
        Q::new(
            self.n
                .checked_mul(o.d)?
                .checked_add(o.n.checked_mul(self.d)?)?,
            self.d.checked_mul(o.d)?,
        )
    }
    fn neg(self) -> Option<Q> {
        Some(Q {
            n: self.n.checked_neg()?,
            d: self.d,
        })
    }
    fn mul(self, o: Q) -> Option<Q> {
        Q::new(self.n.checked_mul(o.n)?, self.d.checked_mul(o.d)?)
    }
    fn div(self, o: Q) -> Option<Q> {
        Q::new(self.n.checked_mul(o.d)?, self.d.checked_mul(o.n)?)
    }
    fn pow(self, e: Q) -> Option<Q> {
        if e.d != 1 || e.n.abs() > 256 {
            return None;
        }
        let mut r = Q::int(1);
        for _ in 0..e.n.abs() {
            r = r.mul(self)?;
        }
        if e.n < 0 { Q::int(1).div(r) } else { Some(r) }
    }

    /// The value rounded half away from zero to `digits` decimal places, trailing zeros dropped.
    fn decimal(self, digits: usize) -> Option<String> {
        let neg = self.n < 0;
        let n = self.n.unsigned_abs();
        let d = self.d.unsigned_abs();
        let mut int = n / d;
        let mut rem = n % d;
        let mut frac: Vec<u8> = Vec::with_capacity(digits);
        for _ in 0..digits {
            rem = rem.checked_mul(10)?;
            frac.push((rem / d) as u8);
            rem %= d;
        }
        // Round half away from zero on the next digit.
        if rem.checked_mul(2)? >= d {
            let mut i = frac.len();
            loop {
                if i == 0 {
                    int = int.checked_add(1)?;
                    break;
                }
                i -= 1;
                if frac[i] == 9 {
                    frac[i] = 0;
                } else {
                    frac[i] += 1;
                    break;
                }
            }
        }
        while frac.last() == Some(&0) {
            frac.pop();
        }
        let mut s = String::new();
        if neg && (int != 0 || !frac.is_empty()) {
            s.push('-');
        }
        s.push_str(&int.to_string());
        if !frac.is_empty() {
            s.push('.');
            s.extend(frac.iter().map(|f| char::from(b'0' + f)));
        }
        Some(s)
    }
}

/// A recursive-descent parser of `+ - * / ^` (also `×`, `÷`, `**`), parentheses, unary minus and decimals.
struct Parser<'t> {
    chars: Vec<char>,
    at: usize,
    depth: usize,
    _text: &'t str,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Parser<'t> {
        Parser {
            chars: text
                .chars()
                .filter(|c| !c.is_whitespace() && *c != ',')
                .collect(),
            at: 0,
            depth: 0,
            _text: text,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn parse(mut self) -> Option<Q> {
        let v = self.sum()?;
        (self.at == self.chars.len()).then_some(v)
    }

    fn sum(&mut self) -> Option<Q> {
        let mut v = self.product()?;
        loop {
            match self.peek() {
                Some('+') => {
                    self.at += 1;
                    v = v.add(self.product()?)?;
                }
                Some('-' | '−') => {
                    self.at += 1;
                    v = v.add(self.product()?.neg()?)?;
                }
                _ => return Some(v),
            }
        }
    }

    fn product(&mut self) -> Option<Q> {
        let mut v = self.unary()?;
        loop {
            match (self.peek(), self.chars.get(self.at + 1)) {
                (Some('*'), Some('*')) => return Some(v),
                (Some('*' | '×' | '·'), _) => {
                    self.at += 1;
                    v = v.mul(self.unary()?)?;
                }
                (Some('/' | '÷'), _) => {
                    self.at += 1;
                    v = v.div(self.unary()?)?;
                }
                _ => return Some(v),
            }
        }
    }

    fn unary(&mut self) -> Option<Q> {
        match self.peek() {
            Some('-' | '−') => {
                self.at += 1;
                self.nest(|p| p.unary())?.neg()
            }
            Some('+') => {
                self.at += 1;
                self.nest(|p| p.unary())
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Option<Q> {
        let base = self.atom()?;
        let star = self.peek() == Some('*') && self.chars.get(self.at + 1) == Some(&'*');
        if self.peek() == Some('^') || star {
            self.at += if star { 2 } else { 1 };
            let e = self.nest(|p| p.unary())?;
            return base.pow(e);
        }
        Some(base)
    }

    fn nest(&mut self, f: impl FnOnce(&mut Self) -> Option<Q>) -> Option<Q> {
        self.depth += 1;
        if self.depth > 64 {
            return None;
        }
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn atom(&mut self) -> Option<Q> {
        match self.peek()? {
            '(' => {
                self.at += 1;
                let v = self.nest(|p| p.sum())?;
                (self.peek() == Some(')')).then(|| self.at += 1)?;
                Some(v)
            }
            c if c.is_ascii_digit() || c == '.' => {
                let (mut n, mut d) = (0i128, 1i128);
                let mut seen_dot = false;
                let mut any = false;
                while let Some(c) = self.peek() {
                    if let Some(x) = c.to_digit(10) {
                        n = n.checked_mul(10)?.checked_add(i128::from(x))?;
                        if seen_dot {
                            d = d.checked_mul(10)?;
                        }
                        any = true;
                    } else if c == '.' && !seen_dot {
                        seen_dot = true;
                    } else {
                        break;
                    }
                    self.at += 1;
                }
                if any { Q::new(n, d) } else { None }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calc(e: &str, digits: usize) -> String {
        Calculator {
            name: "calc".into(),
            digits,
        }
        .call(e)
    }

    fn tool_decl(builtin: &str, args: &[(&str, Const)]) -> Decl {
        let mut d = crate::testkit::decl(builtin, args);
        d.kind = rlr_lang::ast::DeclKind::Tool;
        d.name = "search".into();
        d
    }

    #[test]
    fn kb_lookup_searches_the_named_multihop_kb() {
        let no_file = |p: &str| Err(format!("no file {p}"));
        let kb = crate::build(&crate::testkit::decl("multihop_kb", &[]), 3, &no_file)
            .unwrap_or_else(|e| panic!("{e}"));
        let calls = crate::build(&crate::testkit::decl("tool_call", &[]), 3, &no_file)
            .unwrap_or_else(|e| panic!("{e}"));
        let tasks = vec![
            ("train".to_string(), kb.clone()),
            ("calls".to_string(), calls),
        ];
        let name = |n: &str| ("task", Const::Name(n.to_string()));
        let tool = crate::build_tool(&tool_decl("kb_lookup", &[name("train")]), &tasks)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tool.name(), "search");
        // The demonstration's tool outputs are what the tool answers.
        let s = kb.sample(crate::Split::Train, 4);
        let d = &s.demonstration;
        let (start, end) = (
            d.find("<search>").unwrap_or(0),
            d.find("</search>").unwrap_or(0),
        );
        let out = tool.call(&d[start..end + "</search>".len()]);
        assert!(d[end + "</search>".len()..].starts_with(&out), "{out}");
        assert_eq!(out.lines().count(), 3);
        assert_eq!(out, tool.call(&d[start + "<search>".len()..end]));
        let one = crate::build_tool(
            &tool_decl("kb_lookup", &[name("train"), ("top_k", Const::Int(1))]),
            &tasks,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            one.call(&d[start..end + "</search>".len()]).lines().count(),
            1
        );
        let e = crate::build_tool(&tool_decl("kb_lookup", &[name("calls")]), &tasks)
            .err()
            .unwrap_or_default();
        assert!(
            e.contains("`calls` is a `tool_call`, not a `multihop_kb`"),
            "{e}"
        );
        let e = crate::build_tool(&tool_decl("kb_lookup", &[name("nope")]), &tasks)
            .err()
            .unwrap_or_default();
        assert!(e.contains("no task `nope`"), "{e}");
        let c = crate::build_tool(&tool_decl("calculator", &[]), &tasks)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.call("<calc>22/7</calc>"), "<result>3.142857</result>");
        assert!(
            crate::build_tool(
                &tool_decl("calculator", &[("digits", Const::Int(1000))]),
                &tasks
            )
            .is_err()
        );
    }

    #[test]
    fn calculator_is_exact_and_rounds() {
        assert_eq!(calc("<calc>2 + 3 * 4</calc>", 6), "<result>14</result>");
        assert_eq!(calc("1/3", 6), "<result>0.333333</result>");
        assert_eq!(calc("2/3", 2), "<result>0.67</result>");
        assert_eq!(calc("-(7 - 10) / 4", 6), "<result>0.75</result>");
        assert_eq!(calc("0.1 + 0.2", 6), "<result>0.3</result>");
        assert_eq!(calc("2^10 - 2**3", 0), "<result>1016</result>");
        assert_eq!(calc("-2^2", 0), "<result>-4</result>");
        assert_eq!(calc("12 × 3 ÷ 4", 3), "<result>9</result>");
        assert_eq!(calc("-1/3", 0), "<result>0</result>");
        assert_eq!(calc("-2/3", 0), "<result>-1</result>");
        assert_eq!(calc("1,000 + 1", 0), "<result>1001</result>");
        for bad in [
            "1/0", "2 +", "abc", "", "(1", "1)", "2^0.5", "9^999", "1..2",
        ] {
            assert_eq!(calc(bad, 6), "<result>error</result>", "{bad}");
        }
        let deep = "(".repeat(500) + "1" + &")".repeat(500);
        assert_eq!(calc(&deep, 6), "<result>error</result>");
        assert_eq!(
            calc("99999999999999999999999999999999999999999 * 10", 6),
            "<result>error</result>"
        );
        assert!(calc("1/7", 100).len() > 100);
    }
}
