//! Moving KL references (`kl_anchor = "ema"`): π_ref ← (1 − rate)·π_ref +
//! rate·π_θ, parameter by parameter. The policy's parameters are collected
//! in visiting order, then the reference is mapped in the same order (both
//! are the same architecture, so the orders agree; shapes are checked).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;

/// Collects float parameters, flattened, in visiting order.
struct Collect {
    flat: Vec<(Vec<usize>, Tensor<1>)>,
}

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let dims = t.dims().to_vec();
        let n: usize = dims.iter().product();
        self.flat.push((dims, t.reshape([n])));
    }
}

/// Blends each float parameter with the collected one at the same position.
struct Blend {
    from: std::vec::IntoIter<(Vec<usize>, Tensor<1>)>,
    rate: f64,
    error: Option<String>,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let rate = self.rate;
        match self.from.next() {
            Some((dims, flat)) => param.map(|t| {
                if t.dims().as_slice() != dims.as_slice() {
                    self.error = Some(format!(
                        "EMA anchor: a parameter of shape {:?} meets one of {dims:?}",
                        t.dims()
                    ));
                    return t;
                }
                let other: Tensor<D> = flat.reshape(t.dims());
                t.mul_scalar(1.0 - rate) + other.mul_scalar(rate)
            }),
            None => {
                self.error = Some("EMA anchor: the policy has fewer parameters".into());
                param
            }
        }
    }
}

/// `(1 − rate)·reference + rate·policy`, parameter by parameter.
pub fn ema<M: Module>(reference: M, policy: &M, rate: f64) -> Result<M, String> {
    let mut collect = Collect { flat: Vec::new() };
    policy.visit(&mut collect);
    let mut blend = Blend {
        from: collect.flat.into_iter(),
        rate,
        error: None,
    };
    let out = reference.map(&mut blend);
    match blend.error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend;
    use crate::model::GptSpec;

    fn first_weights<M: Module>(m: &M) -> Vec<f32> {
        let mut c = Collect { flat: Vec::new() };
        m.visit(&mut c);
        c.flat
            .into_iter()
            .next()
            .map(|(_, t)| {
                t.into_data()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    }

    #[test]
    fn ema_moves_the_reference_a_rate_of_the_way_to_the_policy() {
        let device = backend::plain();
        let a = backend::seeded(&device, 1, |d| GptSpec::tiny(11).init(d));
        let b = backend::seeded(&device, 2, |d| GptSpec::tiny(11).init(d));
        let (wa, wb) = (first_weights(&a), first_weights(&b));
        let mixed = ema(a, &b, 0.25).unwrap_or_else(|e| panic!("{e}"));
        let wm = first_weights(&mixed);
        assert_eq!(wm.len(), wa.len());
        for ((m, x), y) in wm.iter().zip(&wa).zip(&wb) {
            assert!((m - (0.75 * x + 0.25 * y)).abs() < 1e-6);
        }
    }
}
