//! Running a compiled recipe: every stage in order on the same model. `sft`
//! stages fit demonstrations; every other stage kind is an RL stage whose
//! step samples `prompts × group` rollouts, scores them with the reward
//! runtime, and takes `epochs` passes of clipped policy-gradient updates over
//! minibatches. Every source of randomness is seeded from the recipe seed:
//! weights (Burn's device seed), sampling (a ChaCha generator), data order
//! (task problems by index).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsAccumulator, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rlr_lang::ir::{Const, Program, Stage};
use rlr_reward::replay::Row;
use rlr_reward::{Batch, Group, Rollout, SetId, State};
use rlr_tasks::{Split, Task};
use serde_json::{Value, json};

use crate::backend;
use crate::grad_clip::clip_global_norm;
use crate::heldout;
use crate::loss::{aggregation_weights, row_weights, sft_loss, token_logprobs};
use crate::model::{Gpt, GptSpec};
use crate::pack::{Sequence, encode_prompt, pack};
use crate::rundir::RunDir;
use crate::sample::{Generated, generate};
use crate::settings::Settings;
use crate::tokenizer::{CharTokenizer, EOS};

/// How to run.
pub struct RunOptions<'a> {
    /// The run directory.
    pub out: PathBuf,
    /// Print a progress line every this many steps (0 = never).
    pub progress_every: u64,
    /// Reads data files named by tasks (relative to the recipe).
    pub read: &'a dyn Fn(&str) -> Result<String, String>,
    /// Where progress lines go (stderr in the CLI).
    pub progress: &'a mut dyn FnMut(&str),
}

/// Rollouts per forward/backward pass: a minibatch larger than this is
/// split and its gradients accumulated, which bounds memory (the attention
/// scores of 128 rollouts of 150 tokens alone are ~50 MB per layer and copy).
const MICRO: usize = 32;

/// What a run ended with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Held-out accuracy at the end of each stage, in order.
    pub stages: Vec<(String, f64)>,
}

/// One stage's shared context.
struct Cx<'a, 'o> {
    program: &'a Program,
    stage: &'a Stage,
    task: Arc<dyn Task>,
    device: Device,
    plain: Device,
    dir: &'a mut RunDir,
    opts: &'a mut RunOptions<'o>,
    rng: &'a mut ChaCha8Rng,
    /// Next train problem of this stage's task.
    next: &'a mut u64,
}

/// Runs every stage of `program`.
pub fn run(program: &Program, mut opts: RunOptions<'_>) -> Result<Summary, String> {
    let seed = program.seed();
    let device = backend::device();
    let plain = backend::plain();
    // Refuse before any training (and before touching the run directory),
    // not after an earlier stage has run.
    for stage in &program.stages {
        Settings::of(stage).refuse_unsupported()?;
    }
    let mut dir = RunDir::create(&opts.out)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut models: BTreeMap<String, Gpt> = BTreeMap::new();
    let mut tasks: BTreeMap<String, Arc<dyn Task>> = BTreeMap::new();
    let mut next: BTreeMap<String, u64> = BTreeMap::new();
    let mut summary = Summary::default();
    for stage in &program.stages {
        let model = match models.remove(&stage.model) {
            Some(m) => m,
            None => build_model(program, &stage.model, seed, &device)?,
        };
        let task = match tasks.get(&stage.task) {
            Some(t) => t.clone(),
            None => {
                let decl = program
                    .decl(&stage.task)
                    .ok_or_else(|| format!("stage `{}`: no task `{}`", stage.name, stage.task))?;
                let t = rlr_tasks::build(decl, seed, opts.read)
                    .map_err(|e| format!("task `{}`: {e}", stage.task))?;
                tasks.insert(stage.task.clone(), t.clone());
                t
            }
        };
        let mut counter = next.get(&stage.task).copied().unwrap_or(0);
        let mut cx = Cx {
            program,
            stage,
            task,
            device: device.clone(),
            plain: plain.clone(),
            dir: &mut dir,
            opts: &mut opts,
            rng: &mut rng,
            next: &mut counter,
        };
        let (model, accuracy) = if stage.kind == "sft" {
            sft_stage(&mut cx, model)?
        } else {
            rl_stage(&mut cx, model)?
        };
        next.insert(stage.task.clone(), counter);
        summary.stages.push((stage.name.clone(), accuracy));
        models.insert(stage.model.clone(), model);
    }
    Ok(summary)
}

fn build_model(program: &Program, name: &str, seed: u64, device: &Device) -> Result<Gpt, String> {
    let decl = program
        .decl(name)
        .ok_or_else(|| format!("no model `{name}`"))?;
    match decl.args.get("tokenizer") {
        Some(Const::Str(t)) if t == "char" => {}
        other => {
            return Err(format!(
                "model `{name}`: the engine has only the \"char\" tokenizer so far, found {other:?}"
            ));
        }
    }
    let spec = GptSpec::from_decl(decl, CharTokenizer::VOCAB)?;
    Ok(backend::seeded(device, seed, |d| spec.init(d)))
}

fn optimizer(s: &Settings<'_>) -> Result<ModuleOptimizer, String> {
    // No Burn grad clipping: it is per parameter; `grad_clip` is the global
    // norm, applied in `update`.
    Ok(AdamWConfig::new()
        .with_weight_decay(s.real_or("weight_decay", 0.0)? as f32)
        .init())
}

/// Global-norm clipping and one AdamW step; returns the model and the
/// gradient norm before clipping.
fn update(
    model: Gpt,
    optim: &mut ModuleOptimizer,
    mut grads: GradientsParams,
    lr: f64,
    grad_clip: f64,
) -> (Gpt, f64) {
    let norm = clip_global_norm(&model, &mut grads, grad_clip);
    (optim.step(lr, model, grads), norm)
}

/// The learning rate at `step` (1-based) with linear warm-up.
fn lr_at(lr: f64, warmup: usize, step: u64) -> f64 {
    if warmup == 0 {
        lr
    } else {
        lr * (step as f64 / warmup as f64).min(1.0)
    }
}

fn scalar(t: Tensor<1>) -> Result<f64, String> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| format!("reading a scalar: {e:?}"))?
        .first()
        .map(|&x| f64::from(x))
        .ok_or_else(|| "an empty scalar".to_string())
}

fn host(t: Tensor<2>) -> Result<Vec<f32>, String> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| format!("reading a tensor: {e:?}"))
}

impl Cx<'_, '_> {
    fn train_samples(&mut self, n: usize) -> Vec<rlr_tasks::Sample> {
        (0..n)
            .map(|_| {
                let s = self.task.sample(Split::Train, *self.next);
                *self.next += 1;
                s
            })
            .collect()
    }

    /// Held-out evaluation when due (every `eval_every` steps and at the end).
    fn maybe_eval(
        &mut self,
        model: &Gpt,
        step: u64,
        steps: u64,
        line: &mut Value,
    ) -> Result<Option<f64>, String> {
        let s = Settings::of(self.stage);
        let every = s.count_or("eval_every", 0)? as u64;
        if step != steps && (every == 0 || !step.is_multiple_of(every)) {
            return Ok(None);
        }
        let h = heldout::evaluate(
            &model.valid(),
            self.task.as_ref(),
            s.count_or("eval_prompts", 64)?,
            s.count_or("max_tokens", 128)?,
            &self.plain,
        )?;
        line["eval/accuracy"] = json!(h.accuracy);
        line["eval/length"] = json!(h.mean_length);
        Ok(Some(h.accuracy))
    }

    fn progress(&mut self, step: u64, steps: u64, line: &Value) {
        let every = self.opts.progress_every;
        if every == 0 || (!step.is_multiple_of(every) && step != steps) {
            return;
        }
        let mut text = format!("[{} {step}/{steps}]", self.stage.name);
        for key in ["loss", "reward", "kl", "length", "eval/accuracy"] {
            if let Some(v) = line.get(key).and_then(Value::as_f64) {
                text.push_str(&format!(" {key} {v:.4}"));
            }
        }
        (self.opts.progress)(&text);
    }
}

/// Supervised fine-tuning on demonstrations.
fn sft_stage(cx: &mut Cx<'_, '_>, mut model: Gpt) -> Result<(Gpt, f64), String> {
    let s = Settings::of(cx.stage);
    let steps = s.count("steps")? as u64;
    let batch = s.count("batch")?.max(1);
    let lr = s.real("lr")?;
    let warmup = s.count_or("warmup", 0)?;
    let max_tokens = s.count_or("max_tokens", 128)?;
    let grad_clip = s.real("grad_clip")?;
    let mut optim = optimizer(&s)?;
    let tokenizer = CharTokenizer;
    let mut accuracy = f64::NAN;
    for step in 1..=steps {
        let samples = cx.train_samples(batch);
        let seqs: Vec<Sequence> = samples
            .iter()
            .map(|smp| {
                let mut response = tokenizer.encode(&smp.demonstration);
                // A cut demonstration gets no EOS: the model must not learn to stop there.
                if response.len() <= max_tokens {
                    response.push(EOS);
                } else {
                    response.truncate(max_tokens);
                }
                Sequence {
                    prompt: encode_prompt(smp.prompt()),
                    response,
                }
            })
            .collect();
        let packed = pack(&seqs, &cx.device)?;
        let ones: Vec<Vec<f32>> = packed.lens.iter().map(|&n| vec![1.0; n]).collect();
        let mask: Vec<bool> = packed.spread(&ones).iter().map(|&x| x > 0.0).collect();
        let weights = aggregation_weights(&mask, packed.time, crate::loss::LossAgg::TokenMean, 0);
        let weights = packed.tensor(weights, &cx.device);
        let logits = model.forward(packed.inputs.clone(), packed.mask.clone(), None);
        let logp = token_logprobs(logits, packed.targets.clone(), 1.0);
        let loss = sft_loss(logp, weights);
        let loss_value = scalar(loss.clone())?;
        if !loss_value.is_finite() {
            return Err(format!(
                "stage `{}` step {step}: the loss is {loss_value}",
                cx.stage.name
            ));
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let (m, grad_norm) = update(model, &mut optim, grads, lr_at(lr, warmup, step), grad_clip);
        model = m;
        let tokens: usize = packed.lens.iter().sum();
        let mut line = json!({
            "stage": cx.stage.name,
            "step": step,
            "loss": loss_value,
            "grad_norm": grad_norm,
            "length": tokens as f64 / seqs.len() as f64,
        });
        if let Some(a) = cx.maybe_eval(&model, step, steps, &mut line)? {
            accuracy = a;
        }
        cx.dir.metrics(&line)?;
        cx.progress(step, steps, &line);
    }
    Ok((model, accuracy))
}

/// One objective's per-token signal on every rollout (EOS included).
struct Signal {
    weight: f64,
    advantages: Vec<Vec<f32>>,
    mask: Vec<Vec<bool>>,
}

/// Splits the runtime's flat token vectors (group, response, token order)
/// into one vector per rollout, extending each by its EOS token, which
/// takes the last token's advantage and mask (the outcome decided there).
fn per_rollout(
    stage: &Stage,
    sig: &rlr_reward::objective::ObjectiveSignal,
    gens: &[Generated],
) -> Result<Signal, String> {
    if sig.set != SetId::Main {
        return Err(format!(
            "stage `{}`: objectives on branches are not supported yet",
            stage.name
        ));
    }
    let total: usize = gens.iter().map(|g| g.tokens.len()).sum();
    if sig.advantages.len() != total || sig.mask.len() != total {
        return Err(format!(
            "stage `{}`: the runtime gave {} advantages for {total} tokens",
            stage.name,
            sig.advantages.len()
        ));
    }
    let mut at = 0;
    let mut advantages = Vec::with_capacity(gens.len());
    let mut mask = Vec::with_capacity(gens.len());
    for g in gens {
        let n = g.tokens.len();
        let mut a: Vec<f32> = sig.advantages[at..at + n]
            .iter()
            .map(|&x| x as f32)
            .collect();
        let mut m = sig.mask[at..at + n].to_vec();
        if g.eos {
            a.push(a.last().copied().unwrap_or(0.0));
            m.push(m.last().copied().unwrap_or(false));
        }
        at += n;
        advantages.push(a);
        mask.push(m);
    }
    Ok(Signal {
        weight: sig.weight,
        advantages,
        mask,
    })
}

/// Log-probabilities of each rollout's tokens under a (non-autodiff) model.
fn logprobs_of(
    model: &Gpt,
    seqs: &[Sequence],
    chunk: usize,
    temperature: f64,
    device: &Device,
) -> Result<Vec<Vec<f32>>, String> {
    let mut out = Vec::with_capacity(seqs.len());
    for part in seqs.chunks(chunk.max(1)) {
        let packed = pack(part, device)?;
        let logits = model.forward(packed.inputs.clone(), packed.mask.clone(), None);
        let flat = host(token_logprobs(logits, packed.targets.clone(), temperature))?;
        out.extend(packed.gather(&flat));
    }
    Ok(out)
}

/// A reinforcement-learning stage (GRPO, DAPO, Dr.GRPO, ...: the reward
/// graph and the settings make the difference).
fn rl_stage(cx: &mut Cx<'_, '_>, mut model: Gpt) -> Result<(Gpt, f64), String> {
    let s = Settings::of(cx.stage);
    let name = cx.stage.name.clone();
    let steps = s.count("steps")? as u64;
    let prompts = s.count("prompts")?.max(1);
    let group = s.count("group")?.max(1);
    let minibatch = s.count_or("minibatch", prompts)?.max(1) * group;
    let epochs = s.count_or("epochs", 1)?.max(1);
    let lr = s.real("lr")?;
    let warmup = s.count_or("warmup", 0)?;
    let sampling = s.sampling()?;
    let policy_loss = s.policy_loss()?;
    let agg = s.loss_agg()?;
    let grad_clip = s.real("grad_clip")?;
    let mut optim = optimizer(&s)?;
    // The frozen reference: the policy as the stage starts.
    let reference = (policy_loss.kl > 0.0).then(|| model.valid());
    let mut state = State::default();
    let seed = cx.program.seed();
    let mut accuracy = f64::NAN;
    let mut updates = 0u64;
    for step in 1..=steps {
        let samples = cx.train_samples(prompts);
        let policy = model.valid();
        let prompt_ids: Vec<Vec<u32>> = samples
            .iter()
            .flat_map(|smp| std::iter::repeat_n(encode_prompt(smp.prompt()), group))
            .collect();
        let gens = generate(&policy, &prompt_ids, &sampling, cx.rng, &cx.plain)?;
        let rollouts: Vec<Rollout> = gens
            .iter()
            .map(|g| Rollout {
                text: g.text.clone(),
                tokens: g.tokens.clone(),
                logprob: g.logprob.clone(),
                entropy: g.entropy.clone(),
                truncated: g.truncated,
                ..Rollout::default()
            })
            .collect();
        let batch = Batch {
            step,
            steps,
            groups: samples
                .iter()
                .zip(rollouts.chunks(group))
                .map(|(smp, rs)| Group {
                    sample: smp.fields.clone(),
                    rollouts: rs.to_vec(),
                    branches: BTreeMap::new(),
                })
                .collect(),
        };
        let options = rlr_reward::Options {
            seed,
            probes: None,
            before_rollout: false,
        };
        let evaluation = rlr_reward::evaluate(cx.stage, &batch, &mut state, &options)
            .map_err(|e| format!("stage `{name}` step {step}: reward graph: {e}"))?;
        let signals: Vec<Signal> = evaluation
            .objectives
            .iter()
            .map(|sig| per_rollout(cx.stage, sig, &gens))
            .collect::<Result<_, _>>()?;
        let seqs: Vec<Sequence> = prompt_ids
            .iter()
            .zip(&gens)
            .map(|(p, g)| Sequence {
                prompt: p.clone(),
                response: g
                    .tokens
                    .iter()
                    .copied()
                    .chain(g.eos.then_some(EOS))
                    .collect(),
            })
            .collect();
        // π_old before any update of this step (later minibatches are
        // off-policy). With one update per step π_old is the current policy,
        // so its log-probs are the detached new ones: one forward saved.
        let on_policy = epochs == 1 && minibatch >= seqs.len();
        let old = if on_policy {
            Vec::new()
        } else {
            logprobs_of(&policy, &seqs, minibatch, sampling.temperature, &cx.plain)?
        };
        let reference_lp = match &reference {
            Some(r) => Some(logprobs_of(
                r,
                &seqs,
                minibatch,
                sampling.temperature,
                &cx.plain,
            )?),
            None => None,
        };
        let (mut loss_sum, mut kl_sum, mut clip_sum, mut norm_sum) = (0.0, 0.0, 0.0, 0.0);
        let mut passes = 0usize;
        let mut micro_terms = 0usize;
        for _ in 0..epochs {
            for (c, part) in seqs.chunks(minibatch).enumerate() {
                let base = c * minibatch;
                // Weights over the whole minibatch, so its micro-batches'
                // losses (and gradients) add up to the minibatch's.
                let weights: Vec<Vec<Vec<f32>>> = signals
                    .iter()
                    .map(|sig| {
                        row_weights(&sig.mask[base..base + part.len()], agg, sampling.max_tokens)
                    })
                    .collect();
                let mut accumulated = GradientsAccumulator::<Gpt>::new();
                let mut value = 0.0;
                let mut any = false;
                for (u, micro) in part.chunks(MICRO).enumerate() {
                    let lo = u * MICRO;
                    let range = base + lo..base + lo + micro.len();
                    let packed = pack(micro, &cx.device)?;
                    let logits = model.forward(packed.inputs.clone(), packed.mask.clone(), None);
                    let logp = token_logprobs(logits, packed.targets.clone(), sampling.temperature);
                    let old_t = if on_policy {
                        logp.clone().detach()
                    } else {
                        packed.tensor(packed.spread(&old[range.clone()]), &cx.device)
                    };
                    let ref_t = reference_lp
                        .as_ref()
                        .map(|r| packed.tensor(packed.spread(&r[range.clone()]), &cx.device));
                    let mut total: Option<Tensor<1>> = None;
                    for (sig, w) in signals.iter().zip(&weights) {
                        let adv = packed
                            .tensor(packed.spread(&sig.advantages[range.clone()]), &cx.device);
                        let w = packed.tensor(packed.spread(&w[lo..lo + micro.len()]), &cx.device);
                        let parts =
                            policy_loss.compute(logp.clone(), old_t.clone(), ref_t.clone(), adv, w);
                        kl_sum += scalar(parts.kl)?;
                        clip_sum += scalar(parts.clip_fraction)?;
                        micro_terms += 1;
                        let term = parts.loss.mul_scalar(sig.weight);
                        total = Some(match total {
                            Some(t) => t + term,
                            None => term,
                        });
                    }
                    let Some(loss) = total else { continue };
                    let v = scalar(loss.clone())?;
                    if !v.is_finite() {
                        return Err(format!("stage `{name}` step {step}: the loss is {v}"));
                    }
                    value += v;
                    any = true;
                    accumulated
                        .accumulate(&model, GradientsParams::from_grads(loss.backward(), &model));
                }
                if !any {
                    continue;
                }
                loss_sum += value;
                passes += 1;
                updates += 1;
                let (m, norm) = update(
                    model,
                    &mut optim,
                    accumulated.grads(),
                    lr_at(lr, warmup, updates),
                    grad_clip,
                );
                model = m;
                norm_sum += norm;
            }
        }
        state.commit();

        let n = gens.len().max(1) as f64;
        let tokens: usize = gens.iter().map(|g| g.tokens.len()).sum();
        let entropy: f64 = gens.iter().flat_map(|g| &g.entropy).sum::<f64>() / tokens.max(1) as f64;
        let reward = evaluation
            .objectives
            .first()
            .map(|o| o.rewards.iter().sum::<f64>() / n);
        let terms = micro_terms.max(1) as f64;
        let mut line = json!({
            "stage": name,
            "step": step,
            "loss": loss_sum / passes.max(1) as f64,
            "kl": kl_sum / terms,
            "clip_fraction": clip_sum / terms,
            "grad_norm": norm_sum / passes.max(1) as f64,
            "entropy": entropy,
            "length": tokens as f64 / n,
            "truncated": gens.iter().filter(|g| g.truncated).count() as f64 / n,
            "reward": reward,
            "metrics": serde_json::to_value(&evaluation.metrics)
                .map_err(|e| format!("encoding metrics: {e}"))?,
        });
        if let Some(a) = cx.maybe_eval(&model, step, steps, &mut line)? {
            accuracy = a;
        }
        cx.dir.metrics(&line)?;
        let rows: Vec<Row> = batch
            .groups
            .iter()
            .enumerate()
            .flat_map(|(g, grp)| {
                let name = name.clone();
                grp.rollouts.iter().map(move |r| Row {
                    stage: name.clone(),
                    step,
                    group: g,
                    branch: None,
                    sample: grp.sample.clone(),
                    rollout: r.clone(),
                })
            })
            .collect();
        cx.dir.rollouts(&rows)?;
        cx.progress(step, steps, &line);
    }
    Ok((model, accuracy))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = r#"recipe "tiny" { seed = 3 }
model policy = gpt(layers = 1, width = 16, heads = 2, context = 48)
task  train  = arith(max = 9)
stage warmup = sft(policy, train, steps = 3, batch = 4, lr = 1e-2, eval_prompts = 4, max_tokens = 24)
stage rl = grpo(policy, train) {
  steps = 2
  prompts = 2
  group = 3
  minibatch = 1
  epochs = 2
  lr = 1e-3
  kl = 0.04
  temperature = 1.0
  max_tokens = 12
  eval_prompts = 4
  eval_every = 1
  reward { correct = exact(answer, sample.answer) }
  optimize correct
}
"#;

    fn compile(text: &str) -> Program {
        let c = rlr_lang::compile("tiny.rlr", text, &mut rlr_lang::NoImports);
        c.program.unwrap_or_else(|| panic!("{:?}", c.diagnostics))
    }

    fn run_into(dir: &std::path::Path, text: &str) -> Result<(Summary, String, String), String> {
        let no_files = |p: &str| Err(format!("no file {p} in a test"));
        let mut quiet = |_: &str| {};
        let summary = run(
            &compile(text),
            RunOptions {
                out: dir.to_path_buf(),
                progress_every: 0,
                read: &no_files,
                progress: &mut quiet,
            },
        )?;
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        Ok((summary, read("metrics.jsonl"), read("rollouts.jsonl")))
    }

    #[test]
    fn a_tiny_recipe_runs_every_stage_and_the_same_seed_gives_identical_files() {
        let base = std::env::temp_dir().join(format!("rlr-engine-test-{}", std::process::id()));
        let (a, metrics, rollouts) =
            run_into(&base.join("a"), TINY).unwrap_or_else(|e| panic!("{e}"));
        let (b, metrics_b, rollouts_b) =
            run_into(&base.join("b"), TINY).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_dir_all(&base);
        assert_eq!(a.stages.len(), 2);
        assert_eq!(a, b);
        assert_eq!(metrics, metrics_b);
        assert_eq!(rollouts, rollouts_b);
        let lines: Vec<Value> = metrics
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect();
        assert_eq!(lines.len(), 3 + 2);
        assert!(
            lines
                .iter()
                .all(|l| l["loss"].as_f64().is_some_and(f64::is_finite))
        );
        assert!(lines[2]["eval/accuracy"].is_number() && lines[1].get("eval/accuracy").is_none());
        assert!(lines[3]["metrics"]["nodes"]["correct"].is_object());
        assert!(lines[4]["eval/accuracy"].is_number());
        // Two steps of 2 prompts x 3 rollouts, each a replay row.
        let rows: Vec<Row> = rollouts
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert_eq!(rows.len(), 12);
        assert!(
            rows.iter()
                .all(|r| r.rollout.logprob.len() == r.rollout.tokens.len())
        );
        // The SFT loss falls on the (repeated) arithmetic demonstrations.
        let first = lines[0]["loss"].as_f64().unwrap_or(0.0);
        let third = lines[2]["loss"].as_f64().unwrap_or(0.0);
        assert!(third < first, "{first} -> {third}");
    }

    #[test]
    fn unsupported_settings_are_refused_by_name() {
        let text = TINY.replace("kl = 0.04", "kl = 0.04\n  entropy_coef = 0.01");
        let dir = std::env::temp_dir().join(format!("rlr-engine-refuse-{}", std::process::id()));
        let err = run_into(&dir, &text).err().unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(err.contains("entropy_coef"), "{err}");
    }
}
