//! `rlr bench`: how fast the engine samples and trains a model on this
//! machine's backend, and how that compares with the backend's own matmul
//! rate (the practical peak: a model step cannot beat its largest matmuls).
//!
//! FLOP counts are the usual analytic ones (Kaplan et al. 2020, PaLM
//! appendix B), from the policy's sizes ([`crate::policy::Dims`], the same
//! for the built-in model and a pretrained one): a forward pass costs 2
//! FLOPs per weight per token plus the attention's
//! `2·2·layers·heads·head_dim·keys` for the scores and the mix; a training
//! step costs three forward passes (backward ≈ 2×). Embedding look-ups are
//! free; the output head is a `width × vocab` matmul.

use std::time::{Duration, Instant};

use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use rlr_lang::ir::{Decl, Program, Stage};

use crate::backend;
use crate::loss::token_logprobs;
use crate::pack::{Sequence, pack};
use crate::policy::{self, Policy};
use crate::sample::{Sampling, generate};
use crate::settings::Settings;
use crate::vocab::Vocab;

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Sequences sampled or trained at once.
    pub batch: usize,
    /// Prompt tokens per sequence.
    pub prompt: usize,
    /// New tokens sampled per sequence (a row may end sooner at EOS).
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
    /// The model, in one line ([`Policy::describe`]).
    pub model: String,
    /// Parameters of the model (a tied embedding counted once).
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
        let peak = self.matmul.gflops();
        let mut t = format!(
            "backend {} ({} threads); model {}: {} parameters\n",
            self.backend, self.threads, self.model, self.params
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
            "sample: {} sequences x up to {} new tokens after {} prompt tokens (KV cache; {} sampled); train: {} sequences x {} tokens\n",
            o.batch,
            o.new_tokens,
            o.prompt,
            self.sample.tokens,
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
            "model": self.model,
            "params": self.params,
            "matmul": rate(&self.matmul),
            "sample": rate(&self.sample),
            "train": rate(&self.train),
            "peak_rss_bytes": self.peak_rss,
        })
    }
}

/// The stage whose policy and batch the benchmark measures: the first RL
/// stage (the main job), else the first stage.
fn bench_stage(program: &Program) -> Result<&Stage, String> {
    program
        .stages
        .iter()
        .find(|s| s.kind != "sft")
        .or_else(|| program.stages.first())
        .ok_or_else(|| "bench: the recipe has no stage".to_string())
}

/// The declaration of the model the benchmark measures (build it with
/// [`policy::build`] on [`backend::device`]).
pub fn bench_model(program: &Program) -> Result<&Decl, String> {
    let stage = bench_stage(program)?;
    policy::declared_model(program, &stage.model).map_err(|e| format!("bench: {e}"))
}

impl BenchOptions {
    /// What the main job of `program` does with `policy`: `prompts × group`
    /// sequences and its `max_tokens`, after a 16-token prompt (a typical
    /// arithmetic question), all within the model's context.
    pub fn of(program: &Program, policy: &Policy) -> Result<BenchOptions, String> {
        let s = Settings::of(bench_stage(program)?);
        let context = policy.context();
        let batch = s.count_or("prompts", 8)? * s.count_or("group", 8)?;
        let prompt = 16.min(context / 2).max(1);
        let new_tokens = s
            .count_or("max_tokens", 48)?
            .clamp(1, context.saturating_sub(prompt).max(1));
        Ok(BenchOptions {
            batch,
            prompt,
            new_tokens,
            reps: 3,
            matmul: 1024,
        })
    }
}

/// Runs every measurement on `model` (built on the autodiff device; its
/// `valid()` copy samples).
pub fn run(o: &BenchOptions, model: Policy, vocab: &Vocab) -> Result<BenchReport, String> {
    if o.batch == 0 || o.prompt == 0 || o.new_tokens == 0 || o.reps == 0 || o.matmul == 0 {
        return Err(
            "bench: batch, prompt, new tokens, repetitions and matmul size must be positive".into(),
        );
    }
    let dims = model.dims();
    if o.prompt + o.new_tokens > dims.context {
        return Err(format!(
            "bench: {} prompt + {} new tokens exceed the model's context of {}",
            o.prompt, o.new_tokens, dims.context
        ));
    }
    let plain = backend::plain();
    let matmul = Rate {
        flops: matmul_flops(o.matmul),
        ..measure(o.reps, || matmul(o.matmul, &plain))?
    };

    let policy = model.valid();
    // Ids spread over the vocabulary (past its first few, often special);
    // what they say does not change the cost.
    let size = vocab.size().max(1) as u32;
    let id = |x: usize| {
        if size > 4 {
            4 + x as u32 % (size - 4)
        } else {
            x as u32 % size
        }
    };
    let prompts: Vec<Vec<u32>> = (0..o.batch)
        .map(|b| {
            vocab
                .bos()
                .into_iter()
                .chain((usize::from(vocab.bos().is_some())..o.prompt).map(|i| id(b * 31 + i * 7)))
                .collect()
        })
        .collect();
    // No stop strings; a row may still end with EOS, so the tokens are
    // counted, and the cost follows the decode steps run (finished rows
    // stay in the batch until every row is done).
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
        let gens = generate(&policy, vocab, &prompts, &sampling, &mut rng, &plain)?;
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
    drop(policy);
    // Decode step j attends to prompt + j keys; the prompt's prefill is
    // counted too, but not as sampled tokens.
    let prefill: f64 = (1..=o.prompt).map(|k| dims.forward_flops(k)).sum();
    let decode: f64 = (0..steps)
        .map(|j| dims.forward_flops(o.prompt + j + 1))
        .sum();
    let sample = Rate {
        tokens: sampled,
        flops: o.batch as f64 * (prefill + decode),
        ..sample
    };

    let device = backend::device();
    let mut model = model;
    let mut optim = AdamWConfig::new().init();
    let seqs: Vec<Sequence> = prompts
        .iter()
        .map(|p| Sequence {
            prompt: p.clone(),
            response: (0..o.new_tokens).map(|i| id(i * 13)).collect(),
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
    let per_row: f64 = (1..=time).map(|k| dims.forward_flops(k)).sum();
    let train = Rate {
        tokens: o.batch * time,
        flops: 3.0 * o.batch as f64 * per_row,
        ..train
    };
    Ok(BenchReport {
        backend: backend::NAME,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        model: model.describe(),
        params: dims.parameters(),
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
    use crate::model::GptSpec;
    use crate::tokenizer::CharTokenizer;

    #[test]
    fn a_small_bench_measures_every_part() {
        let o = BenchOptions {
            batch: 2,
            prompt: 3,
            new_tokens: 4,
            reps: 1,
            matmul: 16,
        };
        let spec = GptSpec::tiny(CharTokenizer::VOCAB);
        let model = backend::seeded(&backend::device(), 1, |d| spec.init(d));
        let r = run(&o, Policy::Gpt(model), &Vocab::Char).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.sample.tokens > 0 && r.sample.tokens <= 2 * 4);
        assert_eq!(r.train.tokens, 2 * 6);
        assert!(r.sample.flops > 0.0 && r.train.flops > r.sample.flops);
        assert!(r.matmul.seconds > 0.0);
        assert!(r.table(&o).contains("sample"));
        assert!(
            r.model.starts_with("gpt(layers = 2, width = 16"),
            "{}",
            r.model
        );
        assert_eq!(r.json()["params"], r.params);
        // Too long for the context: refused, not clamped.
        let long = BenchOptions {
            new_tokens: 40,
            ..o.clone()
        };
        let model = backend::seeded(&backend::device(), 1, |d| spec.init(d));
        let e = run(&long, Policy::Gpt(model), &Vocab::Char)
            .err()
            .unwrap_or_default();
        assert!(e.contains("exceed the model's context of 32"), "{e}");
    }
}
