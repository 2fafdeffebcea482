//! Losses from the runtime's signals (methods.md §0): PPO's clipped
//! surrogate with (ε_low, ε_high) and dual clip, the KL estimators k1/k2/k3
//! in the loss, the four aggregation modes, and SFT's teacher-forced
//! cross-entropy. Aggregation is a per-token weight computed on the host, so
//! every mode is one weighted sum on the device.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

/// How token losses are averaged (`loss_agg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossAgg {
    /// Sum over every valid token of the minibatch / number of valid tokens (DAPO).
    TokenMean,
    /// Mean over sequences of each sequence's token mean (original GRPO).
    SeqMeanTokenMean,
    /// Mean over sequences of each sequence's token sum.
    SeqMeanTokenSum,
    /// Sum over all tokens / (sequences × max_tokens) (Dr.GRPO).
    SeqMeanTokenSumNorm,
}

impl LossAgg {
    /// The mode a `loss_agg` setting names.
    pub fn parse(name: &str) -> Result<LossAgg, String> {
        Ok(match name {
            "token-mean" => LossAgg::TokenMean,
            "seq-mean-token-mean" => LossAgg::SeqMeanTokenMean,
            "seq-mean-token-sum" => LossAgg::SeqMeanTokenSum,
            "seq-mean-token-sum-norm" => LossAgg::SeqMeanTokenSumNorm,
            other => return Err(format!("unknown loss_agg `{other}`")),
        })
    }
}

/// The KL estimator (`kl_estimator`), with d = log π_θ − log π_ref.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KlEstimator {
    /// k1 = d.
    K1,
    /// k2 = d²/2.
    K2,
    /// k3 = e^{−d} + d − 1, clamped to ±10 as verl's `low_var_kl`.
    K3,
}

impl KlEstimator {
    /// The estimator a `kl_estimator` setting names.
    pub fn parse(name: &str) -> Result<KlEstimator, String> {
        Ok(match name {
            "k1" => KlEstimator::K1,
            "k2" => KlEstimator::K2,
            "k3" => KlEstimator::K3,
            other => return Err(format!("unknown kl_estimator `{other}`")),
        })
    }
}

/// Per-token weights `[sequences × tokens]` (row-major) that turn a sum of
/// token losses into the chosen aggregate. Sequences without a valid token
/// weigh nothing and are not counted (verl's 0/0 would be NaN).
pub fn aggregation_weights(
    mask: &[bool],
    tokens: usize,
    agg: LossAgg,
    max_tokens: usize,
) -> Vec<f32> {
    let rows: Vec<Vec<bool>> = mask.chunks(tokens.max(1)).map(<[bool]>::to_vec).collect();
    row_weights(&rows, agg, max_tokens).concat()
}

/// [`aggregation_weights`] for sequences of any lengths, one vector per
/// sequence. Computed over a whole minibatch, they let micro-batches of it
/// add up to exactly the minibatch's loss.
pub fn row_weights(masks: &[Vec<bool>], agg: LossAgg, max_tokens: usize) -> Vec<Vec<f32>> {
    let counts: Vec<usize> = masks
        .iter()
        .map(|r| r.iter().filter(|&&m| m).count())
        .collect();
    let total: usize = counts.iter().sum();
    let sequences = counts.iter().filter(|&&c| c > 0).count();
    masks
        .iter()
        .zip(&counts)
        .map(|(row, &count)| {
            let w = if count == 0 {
                0.0
            } else {
                match agg {
                    LossAgg::TokenMean => 1.0 / total as f64,
                    LossAgg::SeqMeanTokenMean => 1.0 / (count as f64 * sequences as f64),
                    LossAgg::SeqMeanTokenSum => 1.0 / sequences as f64,
                    LossAgg::SeqMeanTokenSumNorm => {
                        1.0 / (sequences as f64 * max_tokens.max(1) as f64)
                    }
                }
            };
            row.iter()
                .map(|&m| if m { w as f32 } else { 0.0 })
                .collect()
        })
        .collect()
}

/// Where the importance ratio lives (`importance`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Importance {
    /// One ratio per token, π_θ(y_t)/π_old(y_t) (PPO, GRPO).
    Token,
    /// GSPO: one ratio per sequence, exp of the mean per-token log-ratio
    /// over its valid tokens, shared (and clipped) by all of its tokens.
    Sequence,
}

impl Importance {
    /// The level an `importance` setting names.
    pub fn parse(name: &str) -> Result<Importance, String> {
        Ok(match name {
            "token" => Importance::Token,
            "sequence" => Importance::Sequence,
            other => return Err(format!("unknown importance `{other}`")),
        })
    }
}

/// The entropy terms of a stage's loss.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EntropyTerms {
    /// c_H: the bonus, `− c_H · H` per token.
    pub coef: f64,
    /// (τ_low, τ_high): the band of SPINE's penalty.
    pub band: (f64, f64),
    /// (λ_low, λ_high): `λ_low·[τ_low − H]₊ + λ_high·[H − τ_high]₊` per token; (0, 0) is off.
    pub band_coef: (f64, f64),
}

impl EntropyTerms {
    /// Whether any term is on (the entropy is then computed with gradient).
    pub fn active(&self) -> bool {
        self.coef != 0.0 || self.band_coef != (0.0, 0.0)
    }

    /// The per-token entropy terms to add to the loss.
    fn per_token(&self, h: Tensor<2>) -> Tensor<2> {
        let (low, high) = self.band;
        let (l_low, l_high) = self.band_coef;
        let below = h.clone().neg().add_scalar(low).clamp_min(0.0);
        let above = h.clone().sub_scalar(high).clamp_min(0.0);
        h.mul_scalar(-self.coef) + below.mul_scalar(l_low) + above.mul_scalar(l_high)
    }
}

/// The clipped policy-gradient settings of a stage.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyLoss {
    /// ε_low: the ratio's floor is 1 − ε_low.
    pub clip_low: f64,
    /// ε_high: the ratio's ceiling is 1 + ε_high.
    pub clip_high: f64,
    /// c: for A < 0 the token loss is capped at −A·c; 0 is off.
    pub dual_clip: f64,
    /// β: the KL coefficient in the loss (0 = none).
    pub kl: f64,
    /// The KL estimator.
    pub estimator: KlEstimator,
    /// Token or sequence (GSPO) importance ratios.
    pub importance: Importance,
    /// Entropy bonus and band.
    pub entropy: EntropyTerms,
}

/// The loss of one minibatch and what to log about it.
#[derive(Clone, Debug)]
pub struct LossParts {
    /// The scalar to minimise.
    pub loss: Tensor<1>,
    /// Masked token mean of the KL estimate (0 without a reference).
    pub kl: Tensor<1>,
    /// Fraction of valid tokens whose ratio was clipped.
    pub clip_fraction: Tensor<1>,
    /// Masked token mean of the policy's entropy (0 when not computed).
    pub entropy: Tensor<1>,
}

/// Per-token KL estimate from the policy's and the reference's log-probs.
pub fn kl_estimate(logp: Tensor<2>, ref_logp: Tensor<2>, estimator: KlEstimator) -> Tensor<2> {
    let d = logp - ref_logp;
    match estimator {
        KlEstimator::K1 => d,
        KlEstimator::K2 => d.powi_scalar(2).mul_scalar(0.5),
        // e^{−d} + d − 1; the clamp keeps one wild token from dominating (verl).
        KlEstimator::K3 => (d.clone().neg().exp() + d)
            .sub_scalar(1.0)
            .clamp(-10.0, 10.0),
    }
}

impl PolicyLoss {
    /// The loss Σ weights · (pg + β·KL + entropy terms) over tokens
    /// `[sequences, tokens]`. `weights` come from [`aggregation_weights`]
    /// (zero off the mask); `old` and `reference` carry no gradient;
    /// `entropy` is the policy's per-token entropy (needed when
    /// [`EntropyTerms::active`]).
    pub fn compute(
        &self,
        logp: Tensor<2>,
        old: Tensor<2>,
        reference: Option<Tensor<2>>,
        advantages: Tensor<2>,
        weights: Tensor<2>,
        entropy: Option<Tensor<2>>,
    ) -> LossParts {
        let valid = weights.clone().greater_elem(0.0).float();
        let ratio = match self.importance {
            Importance::Token => (logp.clone() - old).exp(),
            Importance::Sequence => {
                let [rows, tokens] = logp.dims();
                let d = (logp.clone() - old) * valid.clone();
                let count = valid.clone().sum_dim(1).clamp_min(1.0);
                (d.sum_dim(1) / count)
                    .exp()
                    .repeat_dim(1, tokens)
                    .reshape([rows, tokens])
            }
        };
        let unclipped = advantages.clone().neg() * ratio.clone();
        let bounded = ratio
            .clone()
            .clamp(1.0 - self.clip_low, 1.0 + self.clip_high);
        let clipped = advantages.clone().neg() * bounded;
        let was_clipped = clipped.clone().greater(unclipped.clone()).float();
        let mut pg = unclipped.max_pair(clipped);
        if self.dual_clip > 0.0 {
            // For A < 0 the surrogate grows without bound in the ratio; cap it at −A·c.
            let cap = advantages.clone().neg().mul_scalar(self.dual_clip);
            let capped = pg.clone().min_pair(cap);
            pg = pg.mask_where(advantages.lower_elem(0.0), capped);
        }
        let tokens = valid.clone().sum().clamp_min(1.0);
        let (pg, entropy_mean) = match entropy {
            Some(h) => {
                let mean = (h.clone().detach() * valid.clone()).sum() / tokens.clone();
                let terms = if self.entropy.active() {
                    pg + self.entropy.per_token(h)
                } else {
                    pg
                };
                (terms, mean)
            }
            None => (pg, Tensor::zeros([1], &weights.device())),
        };
        let (per_token, kl) = match reference {
            Some(r) if self.kl > 0.0 => {
                let kl = kl_estimate(logp, r, self.estimator);
                let mean = (kl.clone() * valid.clone()).sum() / tokens.clone();
                (pg + kl.mul_scalar(self.kl), mean)
            }
            _ => (pg, Tensor::zeros([1], &weights.device())),
        };
        LossParts {
            loss: (per_token * weights).sum(),
            kl,
            clip_fraction: (was_clipped * valid).sum() / tokens,
            entropy: entropy_mean,
        }
    }
}

/// Log-probability of each target token `[sequences, tokens]` under logits
/// `[sequences, tokens, vocab]` divided by `temperature`.
pub fn token_logprobs(logits: Tensor<3>, targets: Tensor<2, Int>, temperature: f64) -> Tensor<2> {
    gather_targets(log_probs(logits, temperature), targets)
}

/// Log-probabilities over the vocabulary, `[sequences, tokens, vocab]`.
pub fn log_probs(logits: Tensor<3>, temperature: f64) -> Tensor<3> {
    let logits = if temperature > 0.0 && temperature != 1.0 {
        logits.div_scalar(temperature)
    } else {
        logits
    };
    log_softmax(logits, 2)
}

/// The target tokens' entries of full log-probabilities.
pub fn gather_targets(logp: Tensor<3>, targets: Tensor<2, Int>) -> Tensor<2> {
    logp.gather(2, targets.unsqueeze_dim::<3>(2))
        .squeeze_dim::<2>(2)
}

/// Entropy of each position's distribution, `−Σ_v p log p`: `[sequences, tokens]`.
pub fn entropy(logp: Tensor<3>) -> Tensor<2> {
    (logp.clone().exp() * logp)
        .sum_dim(2)
        .squeeze_dim::<2>(2)
        .neg()
}

/// Forward KL(π_ref ‖ π_θ) per position over the full vocabulary (ASFT):
/// `Σ_v p_ref (log p_ref − log p_θ)`, `[sequences, tokens]`.
pub fn full_kl(reference_logp: Tensor<3>, logp: Tensor<3>) -> Tensor<2> {
    (reference_logp.clone().exp() * (reference_logp - logp))
        .sum_dim(2)
        .squeeze_dim::<2>(2)
}

/// SFT: teacher-forced cross-entropy, −Σ weights · log p(target); prompt
/// tokens have weight zero, so only the demonstration (and its EOS) trains.
pub fn sft_loss(logp: Tensor<2>, weights: Tensor<2>) -> Tensor<1> {
    (logp * weights).sum().neg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend;

    fn t2(rows: &[[f64; 2]; 2], device: &Device) -> Tensor<2> {
        let flat: Vec<f32> = rows.iter().flatten().map(|&x| x as f32).collect();
        Tensor::from_data(TensorData::new(flat, [2, 2]), device)
    }

    fn scalar(t: Tensor<1>) -> f64 {
        f64::from(
            t.into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .unwrap_or_default()[0],
        )
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-5
    }

    const PPO: PolicyLoss = PolicyLoss {
        clip_low: 0.2,
        clip_high: 0.2,
        dual_clip: 3.0,
        kl: 0.0,
        estimator: KlEstimator::K3,
        importance: Importance::Token,
        entropy: EntropyTerms {
            coef: 0.0,
            band: (0.0, 0.0),
            band_coef: (0.0, 0.0),
        },
    };

    /// Ratios 1.5, 0.5 | 5, 0.9 with advantages 1, −1 | −1, 2:
    /// token losses −1.2 (clipped at 1.2), 0.8 (clipped at 0.8) | 3 (dual clip
    /// caps 5 at 3), −1.8 (inside the range).
    fn case(device: &Device) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
        let old = t2(&[[0.0, 0.0], [0.0, 0.0]], device);
        let new = t2(
            &[[1.5f64.ln(), 0.5f64.ln()], [5f64.ln(), 0.9f64.ln()]],
            device,
        );
        let adv = t2(&[[1.0, -1.0], [-1.0, 2.0]], device);
        (new, old, adv)
    }

    #[test]
    fn clipped_surrogate_with_dual_clip_matches_hand_computed_values() {
        let device = backend::plain();
        let (new, old, adv) = case(&device);
        let all = aggregation_weights(&[true; 4], 2, LossAgg::TokenMean, 0);
        let w = Tensor::from_data(TensorData::new(all, [2, 2]), &device);
        let parts = PPO.compute(new.clone(), old.clone(), None, adv.clone(), w.clone(), None);
        // (−1.2 + 0.8 + 3 − 1.8) / 4
        assert!(close(scalar(parts.loss), 0.2));
        assert!(close(scalar(parts.clip_fraction), 0.5));
        let no_dual = PolicyLoss {
            dual_clip: 0.0,
            ..PPO
        };
        let parts = no_dual.compute(new, old, None, adv, w, None);
        assert!(close(scalar(parts.loss), (-1.2 + 0.8 + 5.0 - 1.8) / 4.0));
    }

    #[test]
    fn clip_higher_uses_the_upper_bound_for_positive_advantages() {
        let device = backend::plain();
        let (new, old, adv) = case(&device);
        let dapo = PolicyLoss {
            clip_high: 0.28,
            ..PPO
        };
        let w = aggregation_weights(&[true, false, false, false], 2, LossAgg::TokenMean, 0);
        let w = Tensor::from_data(TensorData::new(w, [2, 2]), &device);
        assert!(close(
            scalar(dapo.compute(new, old, None, adv, w, None).loss),
            -1.28
        ));
    }

    #[test]
    fn the_four_aggregation_modes_match_hand_computed_values() {
        let device = backend::plain();
        // Last token masked out: token losses −1.2, 0.8 | 3.
        let mask = [true, true, true, false];
        let expected = [
            (LossAgg::TokenMean, (-1.2 + 0.8 + 3.0) / 3.0),
            (LossAgg::SeqMeanTokenMean, ((-1.2 + 0.8) / 2.0 + 3.0) / 2.0),
            (LossAgg::SeqMeanTokenSum, (-0.4 + 3.0) / 2.0),
            (LossAgg::SeqMeanTokenSumNorm, (-0.4 + 3.0) / (2.0 * 4.0)),
        ];
        for (agg, want) in expected {
            let (new, old, adv) = case(&device);
            let w = aggregation_weights(&mask, 2, agg, 4);
            let w = Tensor::from_data(TensorData::new(w, [2, 2]), &device);
            let got = scalar(PPO.compute(new, old, None, adv, w, None).loss);
            assert!(close(got, want), "{agg:?}: {got} != {want}");
        }
        // A sequence with no valid token is not counted.
        let w = aggregation_weights(&[true, true, false, false], 2, LossAgg::SeqMeanTokenSum, 4);
        assert_eq!(w, vec![1.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn micro_batches_with_minibatch_row_weights_add_up_to_the_minibatch_loss() {
        let device = backend::plain();
        let masks = vec![vec![true, true], vec![true, false]];
        for agg in [
            LossAgg::TokenMean,
            LossAgg::SeqMeanTokenMean,
            LossAgg::SeqMeanTokenSum,
            LossAgg::SeqMeanTokenSumNorm,
        ] {
            let rows = row_weights(&masks, agg, 4);
            let (new, old, adv) = case(&device);
            let whole = Tensor::from_data(TensorData::new(rows.concat(), [2, 2]), &device);
            let full = scalar(
                PPO.compute(new.clone(), old.clone(), None, adv.clone(), whole, None)
                    .loss,
            );
            let mut parts = 0.0;
            for (r, row) in rows.iter().enumerate() {
                let w = Tensor::from_data(TensorData::new(row.clone(), [1, 2]), &device);
                let pick = |t: Tensor<2>| t.slice([r..r + 1, 0..2]);
                parts += scalar(
                    PPO.compute(
                        pick(new.clone()),
                        pick(old.clone()),
                        None,
                        pick(adv.clone()),
                        w,
                        None,
                    )
                    .loss,
                );
            }
            assert!(close(full, parts), "{agg:?}: {full} != {parts}");
        }
    }

    #[test]
    fn kl_estimators_match_hand_computed_values_and_k3_is_clamped() {
        let device = backend::plain();
        let logp = t2(&[[0.0, 0.0], [0.0, -20.0]], &device);
        let reference = t2(&[[2f64.ln(), 0.0], [0.0, 0.0]], &device);
        let values = |e| {
            kl_estimate(logp.clone(), reference.clone(), e)
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .unwrap_or_default()
        };
        let ln2 = 2f64.ln();
        let k1 = values(KlEstimator::K1);
        assert!(close(f64::from(k1[0]), -ln2) && close(f64::from(k1[3]), -20.0));
        let k2 = values(KlEstimator::K2);
        assert!(close(f64::from(k2[0]), 0.5 * ln2 * ln2) && close(f64::from(k2[3]), 200.0));
        let k3 = values(KlEstimator::K3);
        // e^{ln 2} − ln 2 − 1, and e^{20} − 20 − 1 clamped to 10.
        assert!(close(f64::from(k3[0]), 2.0 - ln2 - 1.0));
        assert!(close(f64::from(k3[1]), 0.0));
        assert!(close(f64::from(k3[3]), 10.0));

        // In the loss: ratio 1, advantages 0 → loss = β · mean KL.
        let w = aggregation_weights(&[true, true, false, false], 2, LossAgg::TokenMean, 0);
        let w = Tensor::from_data(TensorData::new(w, [2, 2]), &device);
        let zeros = t2(&[[0.0, 0.0], [0.0, 0.0]], &device);
        let with_kl = PolicyLoss { kl: 0.1, ..PPO };
        let parts = with_kl.compute(logp.clone(), logp, Some(reference), zeros, w, None);
        let mean_kl = (2.0 - ln2 - 1.0) / 2.0;
        assert!(close(scalar(parts.kl), mean_kl));
        assert!(close(scalar(parts.loss), 0.1 * mean_kl));
    }

    #[test]
    fn sft_loss_is_the_weighted_negative_log_likelihood_of_the_targets() {
        let device = backend::plain();
        // Two positions, vocabulary 2: logits (0, 0) and (ln 3, 0).
        let logits: Tensor<3> = Tensor::from_data(
            TensorData::new(vec![0.0f32, 0.0, 3f32.ln(), 0.0], [1, 2, 2]),
            &device,
        );
        let targets: Tensor<2, Int> =
            Tensor::from_data(TensorData::new(vec![1i64, 0], [1, 2]), &device);
        let logp = token_logprobs(logits, targets, 1.0);
        let w = Tensor::from_data(TensorData::new(vec![0.5f32, 0.5], [1, 2]), &device);
        // −(ln ½ + ln ¾)/2
        let want = -(0.5f64.ln() + 0.75f64.ln()) / 2.0;
        assert!(close(scalar(sft_loss(logp, w)), want));
    }

    #[test]
    fn gspo_shares_one_clipped_sequence_ratio_across_a_sequence() {
        let device = backend::plain();
        // Row 0 log-ratios ln 1.5 and ln 0.5: the sequence ratio is
        // exp((ln 1.5 + ln 0.5) / 2) = sqrt(0.75) ≈ 0.866, inside [0.8, 1.2].
        let (new, old, _) = case(&device);
        let adv = t2(&[[1.0, 1.0], [0.0, 0.0]], &device);
        let gspo = PolicyLoss {
            importance: Importance::Sequence,
            dual_clip: 0.0,
            ..PPO
        };
        let w = aggregation_weights(&[true, true, false, false], 2, LossAgg::SeqMeanTokenMean, 0);
        let w = Tensor::from_data(TensorData::new(w, [2, 2]), &device);
        let got = scalar(gspo.compute(new, old, None, adv, w, None).loss);
        assert!(close(got, -(0.75f64.sqrt())), "{got}");
    }

    #[test]
    fn entropy_bonus_and_band_match_hand_computed_values() {
        let device = backend::plain();
        // Uniform over 4 tokens: H = ln 4 ≈ 1.386 at every position.
        let logits = Tensor::<3>::zeros([1, 2, 4], &device);
        let h = entropy(log_probs(logits, 1.0));
        let hv = scalar(h.clone().mean());
        assert!(close(hv, 4f64.ln()), "{hv}");
        let zeros = t2(&[[0.0, 0.0], [0.0, 0.0]], &device).slice([0..1, 0..2]);
        let w = Tensor::from_data(TensorData::new(vec![0.5f32, 0.5], [1, 2]), &device);
        let with = PolicyLoss {
            entropy: EntropyTerms {
                coef: 0.1,
                band: (0.5, 1.0),
                band_coef: (2.0, 3.0),
            },
            ..PPO
        };
        let parts = with.compute(zeros.clone(), zeros.clone(), None, zeros, w, Some(h));
        // −0.1·H + 3·(H − 1): the bonus, and the penalty above the band.
        let want = -0.1 * 4f64.ln() + 3.0 * (4f64.ln() - 1.0);
        assert!(close(scalar(parts.loss), want), "{}", want);
        assert!(close(scalar(parts.entropy), 4f64.ln()));
    }

    #[test]
    fn full_kl_is_zero_for_equal_distributions_and_matches_by_hand() {
        let device = backend::plain();
        let a = log_probs(Tensor::<3>::zeros([1, 1, 2], &device), 1.0);
        assert!(close(scalar(full_kl(a.clone(), a.clone()).sum()), 0.0));
        // p_ref = (0.5, 0.5), p_θ = (0.8, 0.2): KL = 0.5 ln(0.5/0.8) + 0.5 ln(0.5/0.2).
        let q = Tensor::from_data(
            TensorData::new(vec![0.8f32.ln(), 0.2f32.ln()], [1, 1, 2]),
            &device,
        );
        let want = 0.5 * (0.5f64 / 0.8).ln() + 0.5 * (0.5f64 / 0.2).ln();
        assert!(close(scalar(full_kl(a, q).sum()), want));
    }
}
