//! Clipping the gradient's global norm (`grad_clip`). Burn's own
//! `GradientClippingConfig::Norm` clips each parameter's gradient separately,
//! which is not what the setting (and verl/TRL) means.

use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    total: f64,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            let sq = g.powi_scalar(2).sum().into_data().convert::<f64>();
            self.total += sq.iter::<f64>().sum::<f64>();
        }
    }
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f64,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, g.mul_scalar(self.factor));
        }
    }
}

/// The global L2 norm of `grads` over `module`'s parameters.
pub fn global_norm<M: Module>(module: &M, grads: &GradientsParams) -> f64 {
    let mut v = SquaredNorm { grads, total: 0.0 };
    module.visit(&mut v);
    v.total.sqrt()
}

/// Scales every gradient so the global norm is at most `max_norm` (0 = off);
/// returns the norm before clipping (logged as `grad_norm`).
pub fn clip_global_norm<M: Module>(module: &M, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    let norm = global_norm(module, grads);
    if max_norm > 0.0 && norm > max_norm {
        let mut v = Scale {
            grads,
            factor: max_norm / (norm + 1e-6),
        };
        module.visit(&mut v);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend;
    use crate::model::{GptSpec, attention_mask};

    #[test]
    fn clipping_brings_the_global_norm_down_to_the_limit() {
        let device = backend::device();
        let model = backend::seeded(&device, 2, |d| GptSpec::tiny(11).init(d));
        let x: Tensor<2, Int> =
            Tensor::from_data(TensorData::new(vec![1i64, 2, 3], [1, 3]), &device);
        let logits = model.forward(x, attention_mask(&[vec![false; 3]], 3, &device), None);
        let loss = logits.powi_scalar(2).sum().mul_scalar(1000.0);
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        let before = clip_global_norm(&model, &mut grads, 0.5);
        assert!(before > 0.5, "{before}");
        let after = global_norm(&model, &grads);
        assert!((after - 0.5).abs() < 1e-3, "{after}");
        // Under the limit nothing changes.
        assert!((clip_global_norm(&model, &mut grads, 10.0) - after).abs() < 1e-9);
    }
}
