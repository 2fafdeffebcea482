//! One-input functions: exponentials, logarithms, roots, signs and the
//! logistic family. NaN inputs give NaN outputs.

use crate::error::Result;
use crate::kit;
use crate::node::{Call, Cx, Node};
use crate::value::{Data, Value};

use super::common::{error_at, map_real, rows};
use super::func;

/// A unary node computed by a plain function of x.
macro_rules! unary {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $f:expr) => {
        $(#[$doc])*
        pub(crate) struct $ty;

        impl Node for $ty {
            fn name(&self) -> &'static str {
                $name
            }

            fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
                let f: fn(f64) -> f64 = $f;
                map_real(call, cx, &[call.value("x")?], |row| f(row[0]))
            }
        }
    };
}

unary!(
    /// `exp`: e^x.
    ///
    /// [INFER] standard function; part of methods.md §P.2's closed Map library.
    Exp,
    "exp",
    f64::exp
);

unary!(
    /// `abs`: |x|.
    ///
    /// [INFER] standard function; part of methods.md §P.2's closed Map library.
    Abs,
    "abs",
    f64::abs
);

unary!(
    /// `sign`: −1, 0 or 1 as x is negative, zero or positive (NaN stays NaN).
    ///
    /// [INFER] standard function; part of methods.md §P.2's closed Map library.
    Sign,
    "sign",
    |x| if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x * 0.0
    }
);

unary!(
    /// `tanh`: tanh x. PAR's centred-tanh baseline is `relate(r, refs, kernel = "tanh")`.
    ///
    /// [CODE] PAR reward_tanh (PorUna-byte/PAR, trainers/reward_shaper.py; arXiv:2502.18770).
    Tanh,
    "tanh",
    f64::tanh
);

unary!(
    /// `floor`: the largest integer <= x.
    ///
    /// [INFER] standard function; part of methods.md §P.2's closed Map library.
    Floor,
    "floor",
    f64::floor
);

unary!(
    /// `sigmoid_poly`: PAR's fitted polynomial: the least-squares degree-5
    /// polynomial fit of σ on [−5, 5] (fitted on 1001 evenly spaced points), 0
    /// below −5 and 1 above 5 (at exactly ±5 too, as PAR's code does).
    ///
    /// [CODE] PAR reward_fittedpoly (PorUna-byte/PAR, trainers/reward_shaper.py;
    /// arXiv:2502.18770).
    SigmoidPoly,
    "sigmoid_poly",
    func::sigmoid_poly
);

/// `log`: natural logarithm ln x; x must be > 0 (a non-positive input is a run
/// error naming the binding and the rollout).
///
/// [INFER] standard function; part of methods.md §P.2's closed Map library.
pub(crate) struct Log;

impl Node for Log {
    fn name(&self) -> &'static str {
        "log"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let (out, segs) = rows(call, cx, &[call.value("x")?], |i, row| {
            let x = row[0];
            if x <= 0.0 {
                Err(error_at(
                    call,
                    cx,
                    call.value("x")?.segs.as_ref(),
                    i,
                    format!("log of {x}, which is not > 0"),
                ))
            } else {
                Ok(x.ln())
            }
        })?;
        Ok(kit::output(call, Data::Real(out), segs))
    }
}

/// `sqrt`: √x; x must be >= 0 (a negative input is a run error naming the
/// binding and the rollout).
///
/// [INFER] standard function; part of methods.md §P.2's closed Map library.
pub(crate) struct Sqrt;

impl Node for Sqrt {
    fn name(&self) -> &'static str {
        "sqrt"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let (out, segs) = rows(call, cx, &[call.value("x")?], |i, row| {
            let x = row[0];
            if x < 0.0 {
                Err(error_at(
                    call,
                    cx,
                    call.value("x")?.segs.as_ref(),
                    i,
                    format!("sqrt of {x}, which is negative"),
                ))
            } else {
                Ok(x.sqrt())
            }
        })?;
        Ok(kit::output(call, Data::Real(out), segs))
    }
}

/// `sigmoid`: logistic σ(k·x) = 1 / (1 + e^{−k·x}). Plain (uncentred) sigmoid
/// shaping in PAR; the centred, reference-relative form is `par`.
///
/// [CODE] PAR reward_sigmoid without reward_relative (PorUna-byte/PAR,
/// trainers/reward_shaper.py; arXiv:2502.18770).
pub(crate) struct Sigmoid;

impl Node for Sigmoid {
    fn name(&self) -> &'static str {
        "sigmoid"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let k = call.real("k")?;
        map_real(call, cx, &[call.value("x")?], |row| {
            func::sigmoid(k * row[0])
        })
    }
}

/// `log_sigmoid`: log σ(k·x) = −log(1 + e^{−k·x}), computed stably. The LSC
/// transformation is `log_sigmoid(r - reference)`; summing it over several
/// rewards is the LSC conjunction log Π_k P(good_k).
///
/// [PAPER] Transforming and Combining Rewards (arXiv:2402.00742) §7.1–7.2;
/// [CODE] PAR reward_lsc.
pub(crate) struct LogSigmoid;

impl Node for LogSigmoid {
    fn name(&self) -> &'static str {
        "log_sigmoid"
    }

    fn eval(&self, call: &Call<'_>, cx: &mut Cx<'_>) -> Result<Value> {
        let k = call.real("k")?;
        map_real(call, cx, &[call.value("x")?], |row| {
            func::log_sigmoid(k * row[0])
        })
    }
}
