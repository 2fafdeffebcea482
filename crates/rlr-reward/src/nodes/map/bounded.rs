//! Functions with bounds or breakpoints: clamping, rounding to a grid,
//! interval tests and piecewise-linear interpolation.

use rlr_lang::ir::Const;

use crate::error::{EvalError, Result};
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

use super::common::{map_real, rows, signal};

/// `clamp`: min(max(x, lo), hi). PAR's Clip baseline uses running bounds
/// (`running_clip`); ToolRL's scheduled reward ranges clamp a linear schedule.
/// `lo` and `hi` may be schedules or group values; where lo > hi the result is hi.
///
/// [CODE] ToolRL SCHEDULEREWARD bounds (qiancheng0/ToolRL, rlla.py; arXiv:2504.13958).
pub(crate) struct Clamp;

impl Node for Clamp {
    fn name(&self) -> &'static str {
        "clamp"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let lo = signal(call, "lo")?;
        let hi = signal(call, "hi")?;
        map_real(call, cx, &[call.value("x")?, &lo, &hi], |r| {
            if r[0].is_nan() {
                r[0]
            } else {
                r[0].max(r[1]).min(r[2])
            }
        })
    }
}

/// Rounds q to the nearest integer, halves away from zero, treating values
/// within 1e-9 of a half as halves (so 0.25 / 0.1 = 2.4999… rounds to 3).
fn round_half_away(q: f64) -> f64 {
    let t = q.trunc();
    let frac = (q - t).abs();
    if (frac - 0.5).abs() < 1e-9 {
        t + q.signum()
    } else {
        q.round()
    }
}

/// `round`: the nearest multiple of `to`, halves away from zero (SophiaVL-R1's
/// thinking scores lie on a 0.1 grid): round(x / to) · to.
///
/// [INFER] standard function; part of methods.md §P.2's closed Map library.
pub(crate) struct Round;

impl Node for Round {
    fn name(&self) -> &'static str {
        "round"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let to = call.real("to")?;
        if to.is_nan() || to <= 0.0 {
            return Err(EvalError::new(format!("`round`: `to` = {to} must be > 0")));
        }
        map_real(call, cx, &[call.value("x")?], |r| {
            round_half_away(r[0] / to) * to
        })
    }
}

/// `between`: lo < x < hi (or lo <= x <= hi with `inclusive`); false for NaN.
/// PEARL's dynamic sampling keeps a group iff between(mean(accuracy), 0.01,
/// 0.99) or between(mean(perceived), 0.01, 0.99).
///
/// [CODE] PEARL mixfilter (MiliLab/PEARL@dab5b0a, verl/trainer/ray_trainer.py;
/// arXiv:2511.18437).
pub(crate) struct Between;

impl Node for Between {
    fn name(&self) -> &'static str {
        "between"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let inclusive = call.flag("inclusive")?;
        let lo = signal(call, "lo")?;
        let hi = signal(call, "hi")?;
        let (out, segs) = rows(call, cx, &[call.value("x")?, &lo, &hi], |_, r| {
            Ok(if inclusive {
                r[1] <= r[0] && r[0] <= r[2]
            } else {
                r[1] < r[0] && r[0] < r[2]
            })
        })?;
        Ok(kit::output(call, Data::Bool(out), segs))
    }
}

/// The `(x, y)` points of `interp`, checked to have non-decreasing x.
fn points(call: &Call<'_>) -> Result<Vec<(f64, f64)>> {
    let pts = match call.points("points") {
        Ok(p) => p,
        Err(e) => match call.constant("points")? {
            Const::List(items) => items
                .iter()
                .map(|c| match c {
                    Const::Pair(a, b) => Some((*a, *b)),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .ok_or(e)?,
            _ => return Err(e),
        },
    };
    if pts.is_empty() {
        return Err(EvalError::new("`interp` needs at least one (x, y) point"));
    }
    if pts.iter().any(|(x, y)| !x.is_finite() || y.is_nan()) {
        return Err(EvalError::new(
            "`interp`: every point needs a finite x and a number y",
        ));
    }
    if pts.windows(2).any(|w| w[1].0 < w[0].0) {
        return Err(EvalError::new("`interp`: the points' x must increase"));
    }
    Ok(pts)
}

/// Piecewise-linear interpolation through `pts`; the first/last y outside.
/// At a repeated x (a jump) the later point's y applies from that x on.
fn interpolate(pts: &[(f64, f64)], x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let (first, last) = (pts[0], pts[pts.len() - 1]);
    if x < first.0 {
        return first.1;
    }
    if x >= last.0 {
        return last.1;
    }
    // The last segment [a, b] with a.x <= x < b.x.
    let i = pts.partition_point(|p| p.0 <= x);
    let (a, b) = (pts[i - 1], pts[i]);
    a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0)
}

/// `interp`: piecewise-linear interpolation through the points: y at each
/// listed x, linear in between, the first/last y outside.
///
/// [INFER] methods.md §P.2 Map "piecewise-linear".
pub(crate) struct Interp;

impl Node for Interp {
    fn name(&self) -> &'static str {
        "interp"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let pts = points(call)?;
        map_real(call, cx, &[call.value("x")?], |r| interpolate(&pts, r[0]))
    }
}
