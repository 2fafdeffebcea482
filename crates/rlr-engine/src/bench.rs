//! `rlr bench`: how fast the engine samples and trains a model on this
//! machine's backend, and how that compares with the backend's own matmul
//! rate (the practical peak: a model step cannot beat its largest matmuls).
//!
//! FLOP counts are the usual analytic ones (Kaplan et al. 2020, PaLM
//! appendix B): a forward pass costs 2 FLOPs per weight per token plus the
//! attention's `2·2·layers·width·keys` for the scores and the mix; a
//! training step costs three forward passes (backward ≈ 2×). Embedding
//! look-ups are free; the tied output head is a `width × vocab` matmul.

use std::time::{Duration, Instant};

use burn::optim::{AdamWConfig, GradientsParams};
use burn::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use rlr_lang::ir::Program;

use crate::backend;
use crate::loss::token_logprobs;
use crate::model::GptSpec;
use crate::pack::{Sequence, pack};
use crate::sample::{Sampling, generate};
use crate::settings::Settings;
use crate::tokenizer::{BOS, CharTokenizer};

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// The model (the recipe's policy).
    pub spec: GptSpec,
    /// Sequences sampled or trained at once.
    pub batch: usize,
    /// Prompt tokens per sequence.
    pub prompt: usize,
    /// New tokens sampled per sequence (no early stop: EOS is not special here).
    pub new_tokens: usize,
    /// Timed repetitions of each measurement (the best is reported).
    pub reps: usize,
    /// Side of the square matmul that measures the backend's peak.
    pub matmul: usize,
}

/// One measurement: the best of the repetitions.
#[derive(Clone, Debug, PartialEq)]
pub struct Rate {
    /// Tokens processed in one repetition.
    pub tokens: usize,
    /// FLOPs of one repetition (analytic).
    pub flops: f64,
    /// The fastest repetition.
    pub seconds: f64,
}

impl Rate {
    /// Tokens per second.
    pub fn tokens_per_second(&self) -> f64 {
        self.tokens as f64 / self.seconds.max(1e-12)
    }

    /// Achieved GFLOP/s.
    pub fn gflops(&self) -> f64 {
        self.flops / self.seconds.max(1e-12) / 1e9
    }
}

/// What `rlr bench` reports.
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// The backend's name.
    pub backend: &'static str,
    /// Worker threads (rayon's pool).
    pub threads: usize,
    /// Parameters of the model (embedding counted once: it is tied).
    pub params: usize,
    /// The square matmul.
    pub matmul: Rate,
    /// Sampling with the key/value cache.
    pub sample: Rate,
    /// Forward, backward and an AdamW step on packed sequences.
    pub train: Rate,
    /// Peak resident memory of the process so far, in bytes (Linux; `None` elsewhere).
    pub peak_rss: Option<u64>,
}

impl BenchReport {
    /// The report as a table for people.
    pub fn table(&self, o: &BenchOptions) -> String {
        let s = &o.spec;
        let peak = self.matmul.gflops();
        let mut t = format!(
            "backend {} ({} threads); model gpt(layers = {}, width = {}, heads = {}, vocab = {}): {} parameters\n",
            self.backend, self.threads, s.layers, s.width, s.heads, s.vocab, self.params
        );
        t.push_str(&format!(
            "{:<10} {:>12} {:>10} {:>10} {:>9}\n",
            "", "tokens/s", "GFLOP/s", "of peak", "seconds"
        ));
        let row = |name: &str, r: &Rate, tokens: bool| {
            format!(
                "{name:<10} {:>12} {:>10.2} {:>9.1}% {:>9.4}\n",
                if tokens {
                    format!("{:.0}", r.tokens_per_second())
                } else {
                    "-".into()
                },
                r.gflops(),
                100.0 * r.gflops() / peak.max(1e-12),
                r.seconds
            )
        };
        t.push_str(&row(&format!("matmul {}", o.matmul), &self.matmul, false));
        t.push_str(&row("sample", &self.sample, true));
        t.push_str(&row("train", &self.train, true));
        t.push_str(&format!(
            "sample: {} sequences x {} new tokens after {} prompt tokens (KV cache); train: {} sequences x {} tokens\n",
            o.batch,
            o.new_tokens,
            o.prompt,
            o.batch,
            o.prompt + o.new_tokens
        ));
        if let Some(rss) = self.peak_rss {
            t.push_str(&format!(
                "peak RSS {:.1} MiB\n",
                rss as f64 / (1024.0 * 1024.0)
            ));
        }
        t
    }

    /// The report as one JSON object.
    pub fn json(&self) -> serde_json::Value {
        let rate = |r: &Rate| {
            serde_json::json!({
                "tokens": r.tokens, "flops": r.flops, "seconds": r.seconds,
                "tokens_per_second": r.tokens_per_second(), "gflops": r.gflops(),
            })
        };
        serde_json::json!({
            "backend": self.backend,
            "threads": self.threads,
            "params": self.params,
            "matmul": rate(&self.matmul),
            "sample": rate(&self.sample),
            "train": rate(&self.train),
            "peak_rss_bytes": self.peak_rss,
        })
    }
}

/// Weights in the model: per block four `width²` projections, a gated MLP
/// (three `width × hidden` matrices) and two norms; one tied embedding.
pub fn parameters(s: &GptSpec) -> usize {
    let hidden = s.width * s.mlp_ratio;
    let block = 4 * s.width * s.width + 3 * s.width * hidden + 2 * s.width;
    s.layers * block + s.vocab * s.width + s.width
}

/// Forward FLOPs for one token that attends to `keys` positions.
pub fn forward_flops(s: &GptSpec, keys: usize) -> f64 {
    let hidden = s.width * s.mlp_ratio;
    let matmuls = s.layers * (4 * s.width * s.width + 3 * s.width * hidden) + s.width * s.vocab;
    let attention = 2 * s.layers * s.width * keys;
    2.0 * (matmuls + attention) as f64
}

impl BenchOptions {
    /// What the main job of `program` does: its first RL stage's policy,
    /// `prompts × group` sequences, and its `max_tokens` (at most what fits
    /// after a 16-token prompt, a typical arithmetic question).
    pub fn of(program: &Program) -> Result<BenchOptions, String> {
        let stage = program
            .stages
            .iter()
            .find(|s| s.kind != "sft")
            .or_else(|| program.stages.first())
            .ok_or("bench: the recipe has no stage")?;
        let decl = program
            .decl(&stage.model)
            .ok_or_else(|| format!("bench: no model `{}`", stage.model))?;
        let spec = GptSpec::from_decl(decl, CharTokenizer::VOCAB)?;
        let s = Settings::of(stage);
        let batch = s.count_or("prompts", 8)? * s.count_or("group", 8)?;
        let prompt = 16.min(spec.context / 2);
        let new_tokens = s
            .count_or("max_tokens", 48)?
            .clamp(1, spec.context - prompt);
        Ok(BenchOptions {
            spec,
            batch,
            prompt,
            new_tokens,
            reps: 3,
            matmul: 1024,
        })
    }
}

/// Runs every measurement.
pub fn run(o: &BenchOptions) -> Result<BenchReport, String> {
    if o.batch == 0 || o.prompt == 0 || o.new_tokens == 0 || o.reps == 0 || o.matmul == 0 {
        return Err(
            "bench: batch, prompt, new tokens, repetitions and matmul size must be positive".into(),
        );
    }
    if o.prompt + o.new_tokens > o.spec.context {
        return Err(format!(
            "bench: {} prompt + {} new tokens exceed the model's context of {}",
            o.prompt, o.new_tokens, o.spec.context
        ));
    }
    let plain = backend::plain();
    let matmul = Rate {
        flops: matmul_flops(o.matmul),
        ..measure(o.reps, || matmul(o.matmul, &plain))?
    };

    let policy = backend::seeded(&plain, 7, |d| o.spec.init(d));
    let vocab = o.spec.vocab as u32;
    // Prompts of printable ids; the content does not change the cost.
    let prompts: Vec<Vec<u32>> = (0..o.batch)
        .map(|b| {
            std::iter::once(BOS)
                .chain((1..o.prompt).map(|i| 4 + ((b * 31 + i * 7) as u32 % (vocab - 4))))
                .collect()
        })
        .collect();
    // No stop strings; a random policy may still end a row with EOS, so
    // the tokens are counted, and the cost follows the decode steps run
    // (finished rows stay in the batch until every row is done).
    let sampling = Sampling {
        temperature: 1.0,
        top_p: 1.0,
        top_k: 0,
        max_tokens: o.new_tokens,
        stop: Vec::new(),
    };
    let (mut sampled, mut steps) = (0, 0);
    let sample = measure(o.reps, || {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let gens = generate(&policy, &prompts, &sampling, &mut rng, &plain)?;
        sampled = gens
            .iter()
            .map(|g| g.tokens.len() + usize::from(g.eos))
            .sum();
        steps = gens
            .iter()
            .map(|g| g.tokens.len() + usize::from(g.eos))
            .max()
            .unwrap_or(0);
        Ok(())
    })?;
    // Decode step j attends to prompt + j keys; the prompt's prefill is
    // counted too, but not as sampled tokens.
    let prefill: f64 = (1..=o.prompt).map(|k| forward_flops(&o.spec, k)).sum();
    let decode: f64 = (0..steps)
        .map(|j| forward_flops(&o.spec, o.prompt + j + 1))
        .sum();
    let sample = Rate {
        tokens: sampled,
        flops: o.batch as f64 * (prefill + decode),
        ..sample
    };

    let device = backend::device();
    let mut model = backend::seeded(&device, 7, |d| o.spec.init(d));
    let mut optim = AdamWConfig::new().init();
    let seqs: Vec<Sequence> = prompts
        .iter()
        .map(|p| Sequence {
            prompt: p.clone(),
            response: (0..o.new_tokens)
                .map(|i| 4 + (i as u32 * 13 % (vocab - 4)))
                .collect(),
        })
        .collect();
    let packed = pack(&seqs, &device)?;
    let time = packed.time;
    let train = measure(o.reps, || {
        let logits = model.forward(packed.inputs.clone(), packed.mask.clone(), None);
        let logp = token_logprobs(logits, packed.targets.clone(), 1.0);
        let loss = logp.sum().neg();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-4, model.clone(), grads);
        Ok(())
    })?;
    let per_row: f64 = (1..=time).map(|k| forward_flops(&o.spec, k)).sum();
    let train = Rate {
        tokens: o.batch * time,
        flops: 3.0 * o.batch as f64 * per_row,
        ..train
    };
    Ok(BenchReport {
        backend: backend::NAME,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        params: parameters(&o.spec),
        matmul,
        sample,
        train,
        peak_rss: peak_rss(),
    })
}

/// One warm-up call, then the fastest of `reps` timed calls.
fn measure(reps: usize, mut f: impl FnMut() -> Result<(), String>) -> Result<Rate, String> {
    f()?;
    let mut best = Duration::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed());
    }
    Ok(Rate {
        tokens: 0,
        flops: 0.0,
        seconds: best.as_secs_f64(),
    })
}

fn matmul(n: usize, device: &Device) -> Result<(), String> {
    let a: Tensor<2> = Tensor::ones([n, n], device);
    let b: Tensor<2> = Tensor::ones([n, n], device);
    a.matmul(b)
        .slice([0..1, 0..1])
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map(|_| ())
        .map_err(|e| format!("bench: reading the matmul: {e:?}"))
}

/// The matmul's FLOPs: `2n³`.
pub fn matmul_flops(n: usize) -> f64 {
    2.0 * (n as f64).powi(3)
}

/// `VmHWM` from `/proc/self/status`: the process's peak resident set.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_count_matches_the_built_model() {
        use burn::module::Module;
        let spec = GptSpec {
            layers: 2,
            width: 16,
            heads: 2,
            context: 32,
            dropout: 0.0,
            mlp_ratio: 3,
            vocab: 11,
        };
        let model = backend::seeded(&backend::plain(), 1, |d| spec.init(d));
        assert_eq!(model.num_params(), parameters(&spec));
    }

    #[test]
    fn a_small_bench_measures_every_part() {
        let o = BenchOptions {
            spec: GptSpec::tiny(11),
            batch: 2,
            prompt: 3,
            new_tokens: 4,
            reps: 1,
            matmul: 16,
        };
        let r = run(&o).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.sample.tokens > 0 && r.sample.tokens <= 2 * 4);
        assert_eq!(r.train.tokens, 2 * 6);
        assert!(r.sample.flops > 0.0 && r.train.flops > r.sample.flops);
        assert!(r.matmul.seconds > 0.0);
        assert!(r.table(&o).contains("sample"));
        assert_eq!(r.json()["params"], parameters(&o.spec));
    }
}
