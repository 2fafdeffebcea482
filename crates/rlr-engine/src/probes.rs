//! Probes: the reward graph's questions to a model (`logprob_of`,
//! `perplexity`, `answer_likelihood`, `judge.listener`), answered by
//! teacher forcing: each request becomes a sequence of prompt, context and
//! continuation, and the continuation's token log-probabilities are summed.
//!
//! The prompt is encoded exactly as a task prompt is for sampling (chat
//! template or `BOS prompt \n`) and the context follows as response text, so
//! "the prompt, then this response" is read the way the rollout was
//! written. Probes read the model's own distribution (temperature 1), not
//! the sampling temperature.

use burn::prelude::*;
use rlr_reward::{ProbeRequest, Probes};

use crate::loss::token_logprobs;
use crate::pack::{Sequence, pack};
use crate::policy::Policy;
use crate::vocab::Vocab;

/// The models a training step can be asked about.
pub struct ModelProbes<'m> {
    /// The policy as it samples this step.
    pub policy: &'m Policy,
    /// The frozen reference, when the stage keeps one.
    pub reference: Option<&'m Policy>,
    /// Their tokenizer.
    pub vocab: &'m Vocab,
    /// Sequences per forward pass.
    pub chunk: usize,
    /// Where the forward passes run.
    pub device: &'m Device,
}

impl ModelProbes<'_> {
    /// The teacher-forcing sequence of a request, its prefix cut from the
    /// left to fit `context` (the continuation is never cut: its
    /// probability is the question).
    fn sequence(&self, r: &ProbeRequest, context: usize) -> Result<Sequence, String> {
        let mut prompt = self.vocab.encode_prompt(&r.prompt)?;
        prompt.extend(self.vocab.encode(&r.context)?);
        let response = self.vocab.encode(&r.continuation)?;
        if response.len() >= context {
            return Err(format!(
                "a probe's continuation of {} tokens does not fit the model's context of {context}",
                response.len()
            ));
        }
        // `pack` feeds all but the last token, so a sequence may be one longer than the context.
        let room = context + 1 - response.len();
        if prompt.len() > room {
            prompt.drain(..prompt.len() - room);
        }
        Ok(Sequence { prompt, response })
    }
}

impl Probes for ModelProbes<'_> {
    fn logprob(
        &self,
        requests: &[ProbeRequest],
        reference: bool,
    ) -> Result<Vec<(f64, usize)>, String> {
        let model = if reference {
            self.reference.ok_or(
                "the stage keeps no reference model (it is kept when the reward graph probes one)",
            )?
        } else {
            self.policy
        };
        let seqs: Vec<Sequence> = requests
            .iter()
            .map(|r| self.sequence(r, model.context()))
            .collect::<Result<_, _>>()?;
        // A continuation of no tokens has log-probability 0 and needs no pass.
        let asked: Vec<Sequence> = seqs
            .iter()
            .filter(|s| !s.response.is_empty())
            .cloned()
            .collect();
        let mut scored = logprobs_of(model, &asked, self.chunk, 1.0, self.device)?.into_iter();
        seqs.iter()
            .map(|s| {
                if s.response.is_empty() {
                    return Ok((0.0, 0));
                }
                let lp = scored
                    .next()
                    .ok_or("the model scored fewer sequences than it was given")?;
                let sum: f64 = lp.iter().map(|&x| f64::from(x)).sum();
                if sum.is_finite() {
                    Ok((sum, lp.len()))
                } else {
                    Err(format!("a non-finite log-probability ({sum})"))
                }
            })
            .collect()
    }
}

/// Each sequence's response-token log-probabilities under `model` (at
/// `temperature`), `chunk` sequences per forward pass.
pub(crate) fn logprobs_of(
    model: &Policy,
    seqs: &[Sequence],
    chunk: usize,
    temperature: f64,
    device: &Device,
) -> Result<Vec<Vec<f32>>, String> {
    let mut out = Vec::with_capacity(seqs.len());
    for part in seqs.chunks(chunk.max(1)) {
        let packed = pack(part, device)?;
        let logits = model.forward(packed.inputs.clone(), packed.mask.clone(), None);
        let flat = token_logprobs(logits, packed.targets.clone(), temperature)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .map_err(|e| format!("reading a tensor: {e:?}"))?;
        out.extend(packed.gather(&flat));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
