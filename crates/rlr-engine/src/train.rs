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
use rlr_lang::ast::{DeclKind, FilterKind};
use rlr_lang::ir::{Const, Program, Stage};
use rlr_reward::replay::Row;
use rlr_reward::{Batch, Group, Rollout, SetId, State};
use rlr_tasks::{Split, Task, Tool};
use serde_json::{Value, json};

use crate::backend;
use crate::branch::{BranchPlan, RowLayout};
use crate::checkpoint::{self, Position, Saved};
use crate::grad_clip::clip_global_norm;
use crate::heldout;
use crate::loss::{
    aggregation_weights, entropy, full_kl, gather_targets, log_probs, row_weights, sft_loss,
};
use crate::manifest::{self, Manifest, RecipeText};
use crate::pack::{Sequence, pack};
use crate::policy::{self, Policy};
use crate::probes::{ModelProbes, logprobs_of};
use crate::progress::{Clock, Progress};
use crate::round::{Round, SetRollouts};
use crate::rundir::RunDir;
use crate::sample::{Generated, Sampling, Tools, generate, generate_with_tools};
use crate::settings::Anchor;
use crate::settings::Settings;
use crate::vocab::Vocab;

/// How to run.
pub struct RunOptions<'a> {
    /// The run directory.
    pub out: PathBuf,
    /// The recipe's text as compiled (saved as `recipe.rlr`, hashed into the manifest).
    pub recipe: RecipeText,
    /// Continue the run in `out` from its checkpoint instead of starting afresh.
    pub resume: bool,
    /// Write a checkpoint every this many steps (and at the end of every stage; 0 = only then).
    pub checkpoint_every: u64,
    /// Stop (as if killed) after this many steps of the whole run, before
    /// their checkpoint: how the tests prove that resuming is exact.
    pub stop_after: Option<u64>,
    /// Reads data files named by tasks (relative to the recipe).
    pub read: &'a dyn Fn(&str) -> Result<String, String>,
    /// Where a relative model or tokenizer path points (the recipe's folder).
    pub locate: &'a dyn Fn(&str) -> PathBuf,
    /// Called after every step (the CLI draws its progress bar from it).
    pub progress: &'a mut dyn FnMut(&Progress<'_>),
}

/// Rollouts per forward/backward pass: a minibatch larger than this is
/// split and its gradients accumulated, which bounds memory (the attention
/// scores of 128 rollouts of 150 tokens alone are ~50 MB per layer and copy).
const MICRO: usize = 32;

/// What a run ended with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Held-out accuracy at the end of each stage, in order (`None` when
    /// the stage evaluated nothing).
    pub stages: Vec<(String, Option<f64>)>,
}

/// Where a stage starts: its first step, or a checkpoint inside it.
#[derive(Default)]
struct Resume {
    step: u64,
    updates: u64,
    accuracy: Option<f64>,
    optimizer: Option<burn::optim::OptimizerRecord>,
    reference: Option<burn::store::ModuleRecord>,
    reward_state: State,
}

/// The run as a whole: what a checkpoint must hold besides the stage's own state.
struct Whole<'a> {
    program: &'a Program,
    dir: RunDir,
    opts: RunOptions<'a>,
    rng: ChaCha8Rng,
    recipe_hash: String,
    /// Models not being trained by the current stage.
    models: BTreeMap<String, Policy>,
    /// Every model's vocabulary, from when it was built.
    vocabs: BTreeMap<String, Vocab>,
    /// Next train problem of each task.
    next: BTreeMap<String, u64>,
    /// Stages finished.
    finished: Vec<(String, Option<f64>)>,
    /// Steps run by this process (for `stop_after`).
    steps_run: u64,
}

/// One stage's shared context.
struct Cx<'a, 'w> {
    whole: &'w mut Whole<'a>,
    stage: &'a Stage,
    index: usize,
    task: Arc<dyn Task>,
    /// The stage model's vocabulary.
    vocab: Vocab,
    /// The stage's tools (`tools = [search]`) and calls allowed per rollout.
    tools: Tools,
    device: Device,
    plain: Device,
}

/// Runs every stage of `program`, or resumes the run in `opts.out`.
pub fn run<'a>(program: &'a Program, opts: RunOptions<'a>) -> Result<Summary, String> {
    let seed = program.seed();
    let device = backend::device();
    let plain = backend::plain();
    // Refuse before any training (and before touching the run directory),
    // not after an earlier stage has run.
    for stage in &program.stages {
        Settings::of(stage).refuse_unsupported()?;
    }
    // Every task up front: a missing data file fails now, and the manifest
    // records a hash of each file read.
    let data = std::cell::RefCell::new(BTreeMap::new());
    let read = |p: &str| {
        let text = (opts.read)(p)?;
        data.borrow_mut()
            .insert(p.to_string(), manifest::sha256(text.as_bytes()));
        Ok(text)
    };
    let mut tasks: BTreeMap<String, Arc<dyn Task>> = BTreeMap::new();
    for stage in &program.stages {
        if tasks.contains_key(&stage.task) {
            continue;
        }
        let decl = program
            .decl(&stage.task)
            .ok_or_else(|| format!("stage `{}`: no task `{}`", stage.name, stage.task))?;
        let t = rlr_tasks::build(decl, seed, &read)
            .map_err(|e| format!("task `{}`: {e}", stage.task))?;
        tasks.insert(stage.task.clone(), t);
    }
    // Tools after tasks: `kb_lookup(train)` searches a task's knowledge base.
    for decl in program.decls.iter().filter(|d| d.kind == DeclKind::Task) {
        if !tasks.contains_key(&decl.name) {
            let t = rlr_tasks::build(decl, seed, &read)
                .map_err(|e| format!("task `{}`: {e}", decl.name))?;
            tasks.insert(decl.name.clone(), t);
        }
    }
    let task_list: Vec<(String, Arc<dyn Task>)> =
        tasks.iter().map(|(n, t)| (n.clone(), t.clone())).collect();
    let mut tools: BTreeMap<String, Arc<dyn Tool>> = BTreeMap::new();
    for decl in program.decls.iter().filter(|d| d.kind == DeclKind::Tool) {
        let tool = rlr_tasks::build_tool(decl, &task_list)
            .map_err(|e| format!("tool `{}`: {e}", decl.name))?;
        tools.insert(decl.name.clone(), tool);
    }
    // Every stage's model up front, like the tasks: a missing or malformed
    // model file fails now, before the run directory is touched, and the
    // manifest records a hash of each file read.
    let mut models: BTreeMap<String, Policy> = BTreeMap::new();
    let mut vocabs: BTreeMap<String, Vocab> = BTreeMap::new();
    let mut data = data.into_inner();
    for stage in &program.stages {
        if !models.contains_key(&stage.model) {
            let built = build_model(program, &stage.model, seed, &device, opts.locate)?;
            data.extend(built.files);
            models.insert(stage.model.clone(), built.policy);
            vocabs.insert(stage.model.clone(), built.vocab);
        }
    }
    let manifest = Manifest::new(program, &opts.recipe, data);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut next = BTreeMap::new();
    let mut finished = Vec::new();
    let mut first = 0;
    let mut resume = None;
    let dir = if opts.resume {
        let before = Manifest::read(&opts.out)?;
        if let Some(why) = manifest.mismatch(&before) {
            return Err(format!(
                "cannot resume {}: {why}; resuming would not continue the same run",
                opts.out.display()
            ));
        }
        let loaded = checkpoint::load(&opts.out)?;
        let p = loaded.position;
        if p.recipe_hash != manifest.recipe_sha256 {
            return Err(format!(
                "cannot resume {}: its checkpoint belongs to another recipe",
                opts.out.display()
            ));
        }
        checkpoint::truncate(&opts.out.join("metrics.jsonl"), p.metrics_bytes)?;
        checkpoint::truncate(&opts.out.join("rollouts.jsonl"), p.rollouts_bytes)?;
        let word: u128 = p
            .rng_word_pos
            .parse()
            .map_err(|_| format!("checkpoint: bad RNG position `{}`", p.rng_word_pos))?;
        rng.set_word_pos(word);
        for (name, record) in loaded.models {
            let fresh = match models.remove(&name) {
                Some(m) => m,
                None => {
                    let built = build_model(program, &name, seed, &device, opts.locate)?;
                    vocabs.insert(name.clone(), built.vocab);
                    built.policy
                }
            };
            let model = checkpoint::restore(fresh, record, &format!("model `{name}`"))?;
            models.insert(name, model);
        }
        next = p.next;
        finished = p.finished;
        first = p.stage;
        tracing::info!(stage = %p.stage_name, step = p.step, "resuming");
        resume = Some(Resume {
            step: p.step,
            updates: p.updates,
            accuracy: p.accuracy,
            optimizer: loaded.optimizer,
            reference: loaded.reference,
            reward_state: p.reward_state,
        });
        RunDir::append(&opts.out)?
    } else {
        let dir = RunDir::create(&opts.out)?;
        // A fresh run in an old run's folder must not be resumable from
        // the old run's checkpoint.
        checkpoint::remove(&opts.out)?;
        dir.write("recipe.rlr", &opts.recipe.text)?;
        manifest.write(&opts.out)?;
        dir
    };
    let mut whole = Whole {
        program,
        dir,
        opts,
        rng,
        recipe_hash: manifest.recipe_sha256.clone(),
        models,
        vocabs,
        next,
        finished,
        steps_run: 0,
    };
    for (index, stage) in program.stages.iter().enumerate().skip(first) {
        let model = match whole.models.remove(&stage.model) {
            Some(m) => m,
            None => {
                let built = build_model(program, &stage.model, seed, &device, whole.opts.locate)?;
                whole.vocabs.insert(stage.model.clone(), built.vocab);
                built.policy
            }
        };
        let vocab = whole.vocabs.get(&stage.model).cloned().ok_or_else(|| {
            format!(
                "stage `{}`: model `{}` has no vocabulary",
                stage.name, stage.model
            )
        })?;
        let task = tasks
            .get(&stage.task)
            .cloned()
            .ok_or_else(|| format!("stage `{}`: no task `{}`", stage.name, stage.task))?;
        let stage_tools = stage_tools(stage, &tools)?;
        tracing::info!(stage = %stage.name, kind = %stage.kind, "stage starts");
        let mut cx = Cx {
            whole: &mut whole,
            stage,
            index,
            task,
            vocab,
            tools: stage_tools,
            device: device.clone(),
            plain: plain.clone(),
        };
        let start = resume.take().unwrap_or_default();
        let (model, accuracy) = if stage.kind == "sft" {
            sft_stage(&mut cx, model, start)?
        } else {
            rl_stage(&mut cx, model, start)?
        };
        tracing::info!(stage = %stage.name, ?accuracy, "stage ends");
        whole.finished.push((stage.name.clone(), accuracy));
        whole.models.insert(stage.model.clone(), model);
    }
    Ok(Summary {
        stages: whole.finished,
    })
}

/// The tools a stage lists, with `turns − 1` calls allowed per rollout.
fn stage_tools(stage: &Stage, tools: &BTreeMap<String, Arc<dyn Tool>>) -> Result<Tools, String> {
    let s = Settings::of(stage);
    let names: Vec<String> = match stage.settings.get("tools") {
        Some(Const::List(items)) => items
            .iter()
            .map(|c| match c {
                Const::Name(n) | Const::Str(n) => Ok(n.clone()),
                other => Err(format!("stage `{}`: `tools` holds {other:?}", stage.name)),
            })
            .collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    let list = names
        .iter()
        .map(|n| {
            tools
                .get(n)
                .cloned()
                .ok_or_else(|| format!("stage `{}`: no tool `{n}`", stage.name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let calls = if list.is_empty() {
        0
    } else {
        s.count_or("turns", 1)?.saturating_sub(1)
    };
    Ok(Tools { tools: list, calls })
}

fn build_model(
    program: &Program,
    name: &str,
    seed: u64,
    device: &Device,
    locate: &dyn Fn(&str) -> PathBuf,
) -> Result<policy::Built, String> {
    policy::build(policy::declared_model(program, name)?, seed, device, locate)
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
    model: Policy,
    optim: &mut ModuleOptimizer,
    mut grads: GradientsParams,
    lr: f64,
    grad_clip: f64,
) -> (Policy, f64) {
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

/// What a step hands to [`Cx::finish_step`] for its checkpoint.
struct StepState<'m> {
    model: &'m Policy,
    optimizer: &'m ModuleOptimizer,
    reference: Option<&'m Policy>,
    reward_state: Option<&'m State>,
    updates: u64,
    accuracy: Option<f64>,
}

impl Cx<'_, '_> {
    fn train_samples(&mut self, n: usize) -> Vec<rlr_tasks::Sample> {
        let next = self.whole.next.entry(self.stage.task.clone()).or_insert(0);
        (0..n)
            .map(|_| {
                let s = self.task.sample(Split::Train, *next);
                *next += 1;
                s
            })
            .collect()
    }

    /// Held-out evaluation when due (every `eval_every` steps and at the end).
    fn maybe_eval(
        &mut self,
        model: &Policy,
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
            &self.vocab,
            self.task.as_ref(),
            &self.tools,
            s.count_or("eval_prompts", 64)?,
            s.count_or("max_tokens", 128)?,
            &self.plain,
        )?;
        tracing::debug!(stage = %self.stage.name, step, accuracy = h.accuracy, "held-out evaluation");
        line["eval/accuracy"] = json!(h.accuracy);
        line["eval/length"] = json!(h.mean_length);
        let examples: Vec<Value> = h
            .examples
            .iter()
            .map(|e| {
                json!({
                    "stage": self.stage.name,
                    "step": step,
                    "index": e.index,
                    "prompt": e.prompt,
                    "response": e.response,
                    "answer": e.answer,
                    "correct": e.correct,
                })
            })
            .collect();
        self.whole.dir.evals(&examples)?;
        Ok(Some(h.accuracy))
    }

    /// Everything after a step's update: its logs, the progress event, a
    /// checkpoint when due, and the test hook that stops the run.
    fn finish_step(
        &mut self,
        step: u64,
        steps: u64,
        line: &Value,
        rows: &[Row],
        mut clock: Clock,
        state: StepState<'_>,
    ) -> Result<(), String> {
        self.whole.dir.metrics(line)?;
        if !rows.is_empty() {
            self.whole.dir.rollouts(rows)?;
        }
        self.whole.steps_run += 1;
        if self
            .whole
            .opts
            .stop_after
            .is_some_and(|n| self.whole.steps_run >= n)
        {
            return Err(format!(
                "stopped after {} steps (stop_after), before the checkpoint of `{}` step {step}",
                self.whole.steps_run, self.stage.name
            ));
        }
        let every = self.whole.opts.checkpoint_every;
        if step == steps || (every > 0 && step.is_multiple_of(every)) {
            clock.time("checkpoint", || self.checkpoint(step, &state))?;
        }
        let mut timing = clock.line(&self.stage.name, step);
        timing["resumed_run"] = json!(self.whole.opts.resume);
        self.whole.dir.timings(&timing)?;
        let event = Progress {
            stage: &self.stage.name,
            stage_index: (self.index, self.whole.program.stages.len()),
            step,
            steps,
            metrics: line,
            seconds: clock.seconds(),
        };
        (self.whole.opts.progress)(&event);
        Ok(())
    }

    fn checkpoint(&mut self, step: u64, state: &StepState<'_>) -> Result<(), String> {
        let (metrics_bytes, rollouts_bytes) = self.whole.dir.lengths();
        let position = Position {
            recipe_hash: self.whole.recipe_hash.clone(),
            stage: self.index,
            stage_name: self.stage.name.clone(),
            step,
            updates: state.updates,
            accuracy: state.accuracy,
            finished: self.whole.finished.clone(),
            next: self.whole.next.clone(),
            rng_word_pos: self.whole.rng.get_word_pos().to_string(),
            reward_state: state.reward_state.cloned().unwrap_or_default(),
            metrics_bytes,
            rollouts_bytes,
        };
        let mut models: Vec<(&str, &Policy)> = self
            .whole
            .models
            .iter()
            .map(|(n, m)| (n.as_str(), m))
            .collect();
        models.push((self.stage.model.as_str(), state.model));
        let saved = Saved {
            models,
            reference: state.reference,
            optimizer: Some(state.optimizer),
        };
        checkpoint::save(self.whole.dir.path(), &position, &saved)?;
        tracing::debug!(stage = %self.stage.name, step, "checkpoint written");
        Ok(())
    }

    /// Re-seeds Burn's generator for this step (dropout), so that a resumed
    /// run draws what an uninterrupted one would.
    fn seed_step(&self, step: u64) {
        let seed = self.whole.program.seed();
        let mixed = seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add((self.index as u64) << 32)
            .wrapping_add(step);
        backend::seeded(&self.device, mixed, |_| ());
    }
}

/// Supervised fine-tuning on demonstrations.
fn sft_stage(
    cx: &mut Cx<'_, '_>,
    mut model: Policy,
    start: Resume,
) -> Result<(Policy, Option<f64>), String> {
    let s = Settings::of(cx.stage);
    let steps = s.count("steps")? as u64;
    let batch = s.count("batch")?.max(1);
    let lr = s.real("lr")?;
    let warmup = s.count_or("warmup", 0)?;
    let max_tokens = s.count_or("max_tokens", 128)?;
    let grad_clip = s.real("grad_clip")?;
    let mut optim = optimizer(&s)?;
    if let Some(record) = start.optimizer {
        optim = optim.load_record(record);
    }
    let dft = matches!(s.weighting()?, "dft" | "asft");
    let kl = s.real_or("kl", 0.0)?;
    // ASFT's anchor: the model as the stage started, frozen.
    let reference = match (kl > 0.0, start.reference) {
        (false, _) => None,
        (true, Some(record)) => Some(checkpoint::restore(model.clone(), record, "reference")?),
        (true, None) => Some(model.clone()),
    };
    let mut accuracy = start.accuracy;
    let context = model.context();
    // `mask = "tool_output"`: the tools' outputs in a demonstration are
    // context, as in a rollout, not targets.
    let mask_tools = s.text_or("mask", "none")? == "tool_output";
    let mut warned_cut = false;
    for step in start.step + 1..=steps {
        let mut clock = Clock::start();
        cx.seed_step(step);
        let samples = cx.train_samples(batch);
        // Each problem's demonstration, then the extra prompts the task
        // teaches with it (PEARL's perception checklist).
        let seqs = samples
            .iter()
            .flat_map(|smp| {
                std::iter::once((smp.prompt(), smp.demonstration.as_str())).chain(
                    smp.auxiliary
                        .iter()
                        .map(|a| (a.prompt.as_str(), a.demonstration.as_str())),
                )
            })
            .map(|(prompt, demonstration)| {
                let prompt = cx.vocab.encode_prompt(prompt)?;
                if prompt.len() >= context {
                    return Err(format!(
                        "stage `{}`: a prompt of {} tokens does not fit model `{}`'s context of \
                         {context}; raise its `context`",
                        cx.stage.name,
                        prompt.len(),
                        cx.stage.model
                    ));
                }
                let (mut response, mut target) = if mask_tools {
                    // Piece by piece, as a rollout encodes them.
                    let (mut ids, mut target) = (Vec::new(), Vec::new());
                    for (piece, tool) in cx.tools.split_demonstration(demonstration) {
                        let piece = cx.vocab.encode(piece)?;
                        target.extend(std::iter::repeat_n(
                            if tool { 0.0 } else { 1.0 },
                            piece.len(),
                        ));
                        ids.extend(piece);
                    }
                    (ids, target)
                } else {
                    let ids = cx.vocab.encode(demonstration)?;
                    let n = ids.len();
                    (ids, vec![1.0f32; n])
                };
                // A cut demonstration gets no EOS: the model must not learn to stop there.
                let whole = response.len();
                if whole <= max_tokens {
                    response.push(cx.vocab.eos());
                    target.push(1.0);
                } else {
                    response.truncate(max_tokens);
                }
                // Prompt and demonstration together fit the context (the
                // cut takes the EOS with it).
                response.truncate(context - prompt.len());
                target.truncate(response.len());
                // The demonstration's full length when it lost its end.
                let cut = (response.len() <= whole).then_some(whole);
                Ok((Sequence { prompt, response }, target, cut))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let cut: Vec<usize> = seqs.iter().filter_map(|(_, _, cut)| *cut).collect();
        if !cut.is_empty() && !warned_cut {
            // Said once: a model trained on cut demonstrations never sees how
            // they end, and its rollouts run into max_tokens.
            warned_cut = true;
            tracing::warn!(
                "stage `{}` step {step}: {} of {} demonstrations are longer than max_tokens = \
                 {max_tokens} (or the context) and were cut without their end token, the longest \
                 at {} tokens; raise the stage's `max_tokens`",
                cx.stage.name,
                cut.len(),
                seqs.len(),
                cut.iter().max().copied().unwrap_or(0)
            );
        }
        let cut_share = cut.len() as f64 / seqs.len().max(1) as f64;
        let (seqs, targets): (Vec<Sequence>, Vec<Vec<f32>>) =
            seqs.into_iter().map(|(q, t, _)| (q, t)).unzip();
        let tokens: usize = seqs.iter().map(|q| q.response.len()).sum();
        clock.trained_tokens = tokens;
        let train = clock.time("train", || -> Result<_, String> {
            let packed = pack(&seqs, &cx.device)?;
            let mask: Vec<bool> = packed.spread(&targets).iter().map(|&x| x > 0.0).collect();
            let weights =
                aggregation_weights(&mask, packed.time, crate::loss::LossAgg::TokenMean, 0);
            let weights = packed.tensor(weights, &cx.device);
            let logits = model.forward(packed.inputs.clone(), packed.mask.clone(), None);
            let full = log_probs(logits, 1.0);
            let logp = gather_targets(full.clone(), packed.targets.clone());
            // DFT/ASFT: each token weighted by its own detached probability.
            let token_weights = if dft {
                weights.clone() * logp.clone().detach().exp()
            } else {
                weights.clone()
            };
            let mut loss = sft_loss(logp, token_weights);
            if let Some(r) = &reference {
                let r_logits = r.forward(packed.inputs.clone(), packed.mask.clone(), None);
                let r_full = log_probs(r_logits, 1.0).detach();
                loss = loss + (full_kl(r_full, full) * weights).sum().mul_scalar(kl);
            }
            let loss_value = scalar(loss.clone())?;
            if !loss_value.is_finite() {
                return Err(format!(
                    "stage `{}` step {step}: the loss is {loss_value}",
                    cx.stage.name
                ));
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            Ok((loss_value, grads, packed.lens.iter().sum::<usize>()))
        });
        let (loss_value, grads, tokens) = train?;
        let (m, grad_norm) = clock.time("train", || {
            update(model, &mut optim, grads, lr_at(lr, warmup, step), grad_clip)
        });
        model = m;
        let mut line = json!({
            "stage": cx.stage.name,
            "step": step,
            "loss": loss_value,
            "grad_norm": grad_norm,
            "length": tokens as f64 / seqs.len() as f64,
            "cut": cut_share,
        });
        if let Some(a) = clock.time("eval", || cx.maybe_eval(&model, step, steps, &mut line))? {
            accuracy = Some(a);
        }
        let state = StepState {
            model: &model,
            optimizer: &optim,
            reference: reference.as_ref(),
            reward_state: None,
            updates: step,
            accuracy,
        };
        cx.finish_step(step, steps, &line, &[], clock, state)?;
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

/// One set's per-rollout signal placed at its training rows; other rows
/// get zero advantages and a mask that leaves them out.
fn spread_rows(
    one: Signal,
    set: &SetId,
    gens: &[Generated],
    layout: &RowLayout,
    seqs: &[Sequence],
) -> Signal {
    let mut advantages: Vec<Vec<f32>> = seqs.iter().map(|q| vec![0.0; q.response.len()]).collect();
    let mut mask: Vec<Vec<bool>> = seqs.iter().map(|q| vec![false; q.response.len()]).collect();
    for (i, (a, m)) in one
        .advantages
        .into_iter()
        .zip(one.mask)
        .enumerate()
        .take(gens.len())
    {
        if let Some(row) = layout.row(set, i) {
            advantages[row] = a;
            mask[row] = m;
        }
    }
    Signal {
        weight: one.weight,
        advantages,
        mask,
    }
}

/// Each prompt's ids, `n` times in a row (a group's rollouts share a prompt).
fn encode_repeated<'p>(
    vocab: &Vocab,
    prompts: impl Iterator<Item = &'p str>,
    n: usize,
) -> Result<Vec<Vec<u32>>, String> {
    let mut out = Vec::new();
    for p in prompts {
        let ids = vocab.encode_prompt(p)?;
        out.extend(std::iter::repeat_n(ids, n));
    }
    Ok(out)
}
/// Whether a stage's reward graph reads the reference policy: its
/// log-probs (`kl_estimate`, or `ref_logprob` directly) or a probe of it
/// (`judge.listener`, `model = "reference"`). The engine then keeps a
/// reference even with `kl = 0`.
fn reads_reference(stage: &Stage) -> bool {
    use rlr_lang::ir::{Arg, ExprKind};
    let pred = |k: &ExprKind| match k {
        ExprKind::Context(name) => *name == "ref_logprob",
        ExprKind::Call { builtin, args, .. } => {
            matches!(*builtin, "kl_estimate" | "judge.listener")
                || args.iter().any(|(param, arg)| {
                    *param == "model"
                        && matches!(arg, Arg::Const(Const::Str(m)) if m == "reference")
                })
        }
        _ => false,
    };
    stage
        .graph
        .nodes
        .iter()
        .any(|n| n.expr.any(&pred) || n.fallback.as_ref().is_some_and(|f| f.any(&pred)))
}

/// The `once = true` branches' tables: branch → prompt → its rollouts.
type Tables = BTreeMap<String, BTreeMap<String, Vec<Generated>>>;

/// What a `once = true` branch samples with.
struct TableSpec<'t> {
    model: &'t Policy,
    plan: &'t BranchPlan,
    seed: u64,
    vocab: &'t Vocab,
    device: &'t Device,
}

/// A `once = true` branch's rollouts for this round's prompts (`texts`, one
/// per group; `ids`, `plan.n` per group): each prompt's row of the table,
/// sampled on first sight with a generator of its own, so the table does
/// not depend on which prompts came first or on a resume.
fn table_rollouts(
    table: &mut BTreeMap<String, Vec<Generated>>,
    t: TableSpec<'_>,
    texts: &[String],
    ids: &[Vec<u32>],
) -> Result<Vec<Generated>, String> {
    let n = t.plan.n;
    let mut out = Vec::with_capacity(ids.len());
    for (g, text) in texts.iter().enumerate() {
        if !table.contains_key(text) {
            let key = format!("{}\u{0}{text}", t.plan.name);
            let mut rng = ChaCha8Rng::seed_from_u64(t.seed ^ rlr_tasks::fingerprint(&key));
            let rows = ids
                .get(g * n..(g + 1) * n)
                .ok_or_else(|| format!("branch `{}`: no prompt ids for group {g}", t.plan.name))?;
            let gens = generate(t.model, t.vocab, rows, &t.plan.sampling, &mut rng, t.device)?;
            table.insert(text.clone(), gens);
        }
        out.extend(table.get(text).into_iter().flatten().cloned());
    }
    Ok(out)
}

/// What every generation round of one RL step shares.
struct RoundSpec<'r> {
    plans: &'r [BranchPlan],
    sampling: &'r Sampling,
    group: usize,
    /// Rows per reference forward pass.
    minibatch: usize,
    /// The policy (a non-autodiff copy) the main rollouts come from.
    policy: &'r Policy,
    reference: Option<&'r Policy>,
    options: &'r rlr_reward::Options<'r>,
    step: u64,
    steps: u64,
}

/// Samples one round: `prompts` fresh train problems, their branch
/// rollouts, then `group` main rollouts each, the training rows and the
/// reference's log-probs (which `kl_estimate` nodes read, so before scoring).
fn sample_round(
    cx: &mut Cx<'_, '_>,
    spec: &RoundSpec<'_>,
    tables: &mut Tables,
    prompts: usize,
    clock: &mut Clock,
) -> Result<Round, String> {
    let name = &cx.stage.name;
    let step = spec.step;
    let samples = cx.train_samples(prompts);
    let mut batch = Batch {
        step,
        steps: spec.steps,
        groups: samples
            .iter()
            .map(|smp| Group {
                sample: smp.fields.clone(),
                rollouts: Vec::new(),
                branches: BTreeMap::new(),
            })
            .collect(),
    };
    // Branches first: their prompts depend on no rollout (PEARL's
    // checklist). Halted prompts' main rollouts are still sampled and
    // then masked out of every loss term by the runtime.
    let mut sets: Vec<SetRollouts> = Vec::new();
    if !spec.plans.is_empty() {
        let texts = rlr_reward::branch_prompts(cx.stage, &batch, spec.options)
            .map_err(|e| format!("stage `{name}` step {step}: {e}"))?;
        for plan in spec.plans {
            let texts = texts.get(&plan.name).map(|t| t.as_slice());
            let ids = encode_repeated(
                &cx.vocab,
                texts.unwrap_or_default().iter().map(String::as_str),
                plan.n,
            )?;
            let sampler = match (spec.reference, plan.from_reference) {
                (Some(r), true) => r,
                (None, true) => {
                    return Err(format!(
                        "stage `{name}`: branch `{}` samples from a reference the stage does not keep",
                        plan.name
                    ));
                }
                (_, false) => spec.policy,
            };
            let gens = if plan.once {
                let table = tables.entry(plan.name.clone()).or_default();
                clock.time("sample", || {
                    table_rollouts(
                        table,
                        TableSpec {
                            model: sampler,
                            plan,
                            seed: spec.options.seed,
                            vocab: &cx.vocab,
                            device: &cx.plain,
                        },
                        texts.unwrap_or_default(),
                        &ids,
                    )
                })?
            } else {
                clock.time("sample", || {
                    generate(
                        sampler,
                        &cx.vocab,
                        &ids,
                        &plan.sampling,
                        &mut cx.whole.rng,
                        &cx.plain,
                    )
                })?
            };
            sets.push(SetRollouts {
                set: SetId::Branch(plan.name.clone()),
                per_group: plan.n,
                prompts: ids,
                gens,
            });
        }
    }
    let prompt_ids = encode_repeated(&cx.vocab, samples.iter().map(|s| s.prompt()), spec.group)?;
    let gens = clock.time("sample", || {
        generate_with_tools(
            spec.policy,
            &cx.vocab,
            &prompt_ids,
            spec.sampling,
            &cx.tools,
            &mut cx.whole.rng,
            &cx.plain,
        )
    })?;
    sets.insert(
        0,
        SetRollouts {
            set: SetId::Main,
            per_group: spec.group,
            prompts: prompt_ids,
            gens,
        },
    );
    let layout = RowLayout::new(samples.len(), spec.group, spec.plans);
    // Every set's rollouts as training rows, grouped by prompt.
    let mut slots: Vec<Option<Sequence>> = vec![None; layout.rows()];
    for s in &sets {
        for (i, (p, g)) in s.prompts.iter().zip(&s.gens).enumerate() {
            let row = layout
                .row(&s.set, i)
                .ok_or_else(|| format!("stage `{name}`: no training row for {:?} {i}", s.set))?;
            slots[row] = Some(Sequence {
                prompt: p.clone(),
                response: g
                    .tokens
                    .iter()
                    .copied()
                    .chain(g.eos.then_some(cx.vocab.eos()))
                    .collect(),
            });
        }
    }
    let seqs: Vec<Sequence> = slots
        .into_iter()
        .collect::<Option<_>>()
        .ok_or_else(|| format!("stage `{name}`: a training row has no rollout"))?;
    let reference_lp = match spec.reference {
        Some(r) => Some(clock.time("reference", || {
            logprobs_of(
                r,
                &seqs,
                spec.minibatch,
                spec.sampling.temperature,
                &cx.plain,
            )
        })?),
        None => None,
    };
    for s in &sets {
        for (i, g) in s.gens.iter().enumerate() {
            let row = layout.row(&s.set, i).unwrap_or(0);
            let rollout = Rollout {
                text: g.text.clone(),
                tokens: g.tokens.clone(),
                offsets: g.offsets.clone(),
                logprob: g.logprob.clone(),
                ref_logprob: reference_lp.as_ref().map_or_else(Vec::new, |r| {
                    r[row]
                        .iter()
                        .take(g.tokens.len())
                        .map(|&x| f64::from(x))
                        .collect()
                }),
                entropy: g.entropy.clone(),
                tool: g.tool.clone(),
                truncated: g.truncated,
            };
            let grp = &mut batch.groups[i / s.per_group.max(1)];
            match &s.set {
                SetId::Main => grp.rollouts.push(rollout),
                SetId::Branch(b) => grp.branches.entry(b.clone()).or_default().push(rollout),
            }
        }
    }
    Ok(Round {
        batch,
        sets,
        seqs,
        reference_lp,
        rows_per_group: layout.per_group,
    })
}

/// Runs the reward graph, filters and objectives on a round.
fn score(
    stage: &Stage,
    round: &Round,
    state: &mut State,
    options: &rlr_reward::Options<'_>,
    clock: &mut Clock,
) -> Result<rlr_reward::Evaluation, String> {
    clock
        .time("reward", || {
            rlr_reward::evaluate(stage, &round.batch, state, options)
        })
        .map_err(|e| {
            format!(
                "stage `{}` step {}: reward graph: {e}",
                stage.name, round.batch.step
            )
        })
}

/// The complement of a per-group flag vector.
fn not(flags: &[bool]) -> Vec<bool> {
    flags.iter().map(|f| !f).collect()
}

/// A reinforcement-learning stage (GRPO, DAPO, Dr.GRPO, ...: the reward
/// graph and the settings make the difference).
fn rl_stage(
    cx: &mut Cx<'_, '_>,
    mut model: Policy,
    start: Resume,
) -> Result<(Policy, Option<f64>), String> {
    let s = Settings::of(cx.stage);
    let name = cx.stage.name.clone();
    let steps = s.count("steps")? as u64;
    let prompts = s.count("prompts")?.max(1);
    let group = s.count("group")?.max(1);
    let mb_prompts = s.count_or("minibatch", prompts)?.max(1);
    let minibatch = mb_prompts * group;
    let epochs = s.count_or("epochs", 1)?.max(1);
    let lr = s.real("lr")?;
    let warmup = s.count_or("warmup", 0)?;
    let sampling = s.sampling()?;
    let policy_loss = s.policy_loss()?;
    let agg = s.loss_agg()?;
    let grad_clip = s.real("grad_clip")?;
    let plans: Vec<BranchPlan> = cx
        .stage
        .branches
        .iter()
        .map(|b| BranchPlan::of(cx.stage, b, &sampling))
        .collect::<Result<_, _>>()?;
    let max_rounds = s.count_or("max_rounds", 1)?.max(1);
    let refill = max_rounds > 1 && cx.stage.filters.iter().any(|f| f.kind == FilterKind::Drop);
    let mut optim = optimizer(&s)?;
    if let Some(record) = start.optimizer {
        optim = optim.load_record(record);
    }
    // The frozen reference: the policy as the stage starts (from the
    // checkpoint when resuming: the policy has moved since).
    let anchor = s.anchor()?;
    if !matches!(anchor, Anchor::Frozen)
        && let Some(p) = plans.iter().find(|p| p.once)
    {
        return Err(format!(
            "stage `{name}`, branch `{}`: `once = true` samples its table from a frozen reference; \
             this stage's `anchor` moves the reference",
            p.name
        ));
    }
    let mut tables = Tables::new();
    let graph_reads_reference = reads_reference(cx.stage);
    let mut reference = match (
        policy_loss.kl > 0.0
            || s.kl_in_reward()?
            || graph_reads_reference
            || plans.iter().any(|p| p.from_reference),
        start.reference,
    ) {
        (false, _) => None,
        (true, Some(record)) => Some(checkpoint::restore(model.valid(), record, "reference")?),
        (true, None) => Some(model.valid()),
    };
    let mut state = start.reward_state;
    let seed = cx.whole.program.seed();
    let mut accuracy = start.accuracy;
    let mut updates = start.updates;
    // Owned copies (an `Arc` and a handle): sampling borrows `cx` mutably
    // while the probes are lent to the reward graph.
    let (probe_vocab, probe_device) = (cx.vocab.clone(), cx.plain.clone());
    for step in start.step + 1..=steps {
        let mut clock = Clock::start();
        cx.seed_step(step);
        let policy = model.valid();
        let probes = ModelProbes {
            policy: &policy,
            reference: reference.as_ref(),
            vocab: &probe_vocab,
            chunk: minibatch,
            device: &probe_device,
        };
        let options = rlr_reward::Options {
            seed,
            probes: Some(&probes),
            before_rollout: false,
        };
        let spec = RoundSpec {
            plans: &plans,
            sampling: &sampling,
            group,
            minibatch,
            policy: &policy,
            reference: reference.as_ref(),
            options: &options,
            step,
            steps,
        };
        let mut round = sample_round(cx, &spec, &mut tables, prompts, &mut clock)?;
        clock.sampled_tokens = round.sampled_tokens();
        let mut evaluation = score(cx.stage, &round, &mut state, &options, &mut clock)?;
        // DAPO's dynamic sampling: refill what `drop` removed with fresh
        // prompts, re-scoring the final batch as one (group and batch
        // statistics, and staged state, belong to what is trained).
        let mut rounds = 1;
        if refill {
            let mut kept = round.clone().keep(&not(&evaluation.dropped));
            while kept.groups() < prompts && rounds < max_rounds {
                state.discard();
                let more = sample_round(cx, &spec, &mut tables, prompts, &mut clock)?;
                clock.sampled_tokens += more.sampled_tokens();
                rounds += 1;
                let ev = score(cx.stage, &more, &mut state, &options, &mut clock)?;
                round = more.clone();
                kept.extend(more.keep(&not(&ev.dropped)));
            }
            state.discard();
            if kept.groups() > 0 {
                round = kept.truncate(prompts);
            }
            evaluation = score(cx.stage, &round, &mut state, &options, &mut clock)?;
        }
        let rows_layout = RowLayout::new(round.groups(), group, &plans);
        let gens: Vec<Generated> = round.main().to_vec();
        let Round {
            batch,
            sets,
            seqs,
            reference_lp,
            ..
        } = round;
        let signals: Vec<Signal> = evaluation
            .objectives
            .iter()
            .map(|sig| {
                let gs = sets
                    .iter()
                    .find(|s| s.set == sig.set)
                    .map(|s| s.gens.as_slice())
                    .unwrap_or_default();
                per_rollout(cx.stage, sig, gs)
                    .map(|one| spread_rows(one, &sig.set, gs, &rows_layout, &seqs))
            })
            .collect::<Result<_, _>>()?;
        // π_old before any update of this step (later minibatches are
        // off-policy). With one update per step π_old is the current policy,
        // so its log-probs are the detached new ones: one forward saved.
        let training = std::time::Instant::now();
        clock.trained_tokens = epochs * seqs.iter().map(|q| q.response.len()).sum::<usize>();
        let batches = rows_layout.minibatches(mb_prompts);
        let on_policy = epochs == 1 && batches.len() == 1;
        let old = if on_policy {
            Vec::new()
        } else {
            logprobs_of(&policy, &seqs, minibatch, sampling.temperature, &cx.plain)?
        };
        let (mut loss_sum, mut kl_sum, mut clip_sum, mut norm_sum) = (0.0, 0.0, 0.0, 0.0);
        let mut passes = 0usize;
        let mut micro_terms = 0usize;
        for _ in 0..epochs {
            for range in &batches {
                let base = range.start;
                let part = &seqs[range.clone()];
                // Weights over the whole minibatch, so its micro-batches'
                // losses (and gradients) add up to the minibatch's.
                let weights: Vec<Vec<Vec<f32>>> = signals
                    .iter()
                    .map(|sig| {
                        row_weights(&sig.mask[base..base + part.len()], agg, sampling.max_tokens)
                    })
                    .collect();
                let mut accumulated = GradientsAccumulator::<Policy>::new();
                let mut value = 0.0;
                let mut any = false;
                for (u, micro) in part.chunks(MICRO).enumerate() {
                    let lo = u * MICRO;
                    let range = base + lo..base + lo + micro.len();
                    let packed = pack(micro, &cx.device)?;
                    let logits = model.forward(packed.inputs.clone(), packed.mask.clone(), None);
                    let full = log_probs(logits, sampling.temperature);
                    let logp = gather_targets(full.clone(), packed.targets.clone());
                    let h = policy_loss.entropy.active().then(|| entropy(full));
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
                        let parts = policy_loss.compute(
                            logp.clone(),
                            old_t.clone(),
                            ref_t.clone(),
                            adv,
                            w,
                            h.clone(),
                        );
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
        clock.add("train", training.elapsed());
        state.commit();
        // Move the KL reference (T1's periodic reset, or an EMA of the policy).
        match anchor {
            Anchor::Reset(every)
                if every > 0 && step.is_multiple_of(every) && reference.is_some() =>
            {
                reference = Some(model.valid());
            }
            Anchor::Ema(rate) => {
                if let Some(r) = reference.take() {
                    reference = Some(crate::anchor::ema(r, &model.valid(), rate)?);
                }
            }
            _ => {}
        }

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
        if refill {
            // How hard dynamic sampling worked, and what it kept.
            line["rounds"] = json!(rounds);
            line["kept_groups"] = json!(evaluation.dropped.iter().filter(|d| !**d).count());
        }
        if let Some(a) = clock.time("eval", || cx.maybe_eval(&model, step, steps, &mut line))? {
            accuracy = Some(a);
        }
        let rows: Vec<Row> = batch
            .groups
            .iter()
            .enumerate()
            .flat_map(|(g, grp)| {
                let name = name.clone();
                let main = grp.rollouts.iter().map(|r| (None, r));
                let branches = grp
                    .branches
                    .iter()
                    .flat_map(|(b, rs)| rs.iter().map(move |r| (Some(b.clone()), r)));
                main.chain(branches)
                    .map(move |(branch, r)| Row {
                        stage: name.clone(),
                        step,
                        group: g,
                        branch,
                        sample: grp.sample.clone(),
                        rollout: r.clone(),
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let state = StepState {
            model: &model,
            optimizer: &optim,
            reference: reference.as_ref(),
            reward_state: Some(&state),
            updates,
            accuracy,
        };
        cx.finish_step(step, steps, &line, &rows, clock, state)?;
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

    /// Runs `text` into `dir` (`resume`: from its checkpoint; `stop_after`:
    /// stop as if killed) and returns the summary and the two logs.
    fn run_with(
        dir: &std::path::Path,
        text: &str,
        resume: bool,
        stop_after: Option<u64>,
        checkpoint_every: u64,
    ) -> Result<(Summary, String, String), String> {
        let no_files = |p: &str| Err(format!("no file {p} in a test"));
        let mut quiet = |_: &Progress<'_>| {};
        let summary = run(
            &compile(text),
            RunOptions {
                out: dir.to_path_buf(),
                recipe: RecipeText {
                    origin: "tiny.rlr".into(),
                    text: text.into(),
                    sets: Vec::new(),
                },
                resume,
                checkpoint_every,
                stop_after,
                read: &no_files,
                locate: &|p: &str| std::path::PathBuf::from(p),
                progress: &mut quiet,
            },
        )?;
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        Ok((summary, read("metrics.jsonl"), read("rollouts.jsonl")))
    }

    fn run_into(dir: &std::path::Path, text: &str) -> Result<(Summary, String, String), String> {
        run_with(dir, text, false, None, 0)
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
    fn a_run_stopped_anywhere_and_resumed_writes_the_same_files() {
        let base = std::env::temp_dir().join(format!("rlr-engine-resume-{}", std::process::id()));
        let whole =
            run_with(&base.join("whole"), TINY, false, None, 1).unwrap_or_else(|e| panic!("{e}"));
        // Stopped after steps 2 (inside SFT), 3 (its last step, before the
        // stage's checkpoint) and 4 (inside RL, between checkpoints of every 2).
        for (stop, every) in [(2, 1), (3, 1), (4, 2)] {
            let dir = base.join(format!("stop{stop}"));
            let err = run_with(&dir, TINY, false, Some(stop), every)
                .err()
                .unwrap_or_default();
            assert!(err.contains("stopped after"), "{err}");
            let resumed = run_with(&dir, TINY, true, None, every)
                .unwrap_or_else(|e| panic!("resume after {stop}: {e}"));
            assert_eq!(resumed.0, whole.0, "summary after a stop at {stop}");
            assert_eq!(resumed.1, whole.1, "metrics.jsonl after a stop at {stop}");
            assert_eq!(resumed.2, whole.2, "rollouts.jsonl after a stop at {stop}");
        }
        // Another recipe cannot resume this run.
        let other = TINY.replace("seed = 3", "seed = 4");
        let err = run_with(&base.join("stop4"), &other, true, None, 2)
            .err()
            .unwrap_or_default();
        assert!(err.contains("changed since the run started"), "{err}");
        // Dynamic sampling draws a varying number of rounds (prompts and
        // sampler state) per step; a resumed run still draws the same.
        let refill = TINY.replace(
            "  optimize correct",
            "  max_rounds = 3\n  drop when std(correct) == 0\n  optimize correct",
        );
        let whole = run_with(&base.join("refill"), &refill, false, None, 1)
            .unwrap_or_else(|e| panic!("{e}"));
        let dir = base.join("refill-stop");
        let err = run_with(&dir, &refill, false, Some(4), 1)
            .err()
            .unwrap_or_default();
        assert!(err.contains("stopped after"), "{err}");
        let resumed = run_with(&dir, &refill, true, None, 1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            resumed.1, whole.1,
            "metrics.jsonl of a refilling run resumed"
        );
        assert_eq!(
            resumed.2, whole.2,
            "rollouts.jsonl of a refilling run resumed"
        );
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn demonstrations_are_cut_to_the_context_and_a_prompt_too_long_is_refused() {
        let dir = std::env::temp_dir().join(format!("rlr-engine-context-{}", std::process::id()));
        // "What is 3 + 4?" with BOS and a newline is 17 tokens: a context of
        // 20 leaves 3 for the demonstration (cut, so no EOS).
        let fits = TINY.replace("context = 48", "context = 20");
        let (_, cut, _) = run_into(&dir.join("cut"), &fits).unwrap_or_else(|e| panic!("{e}"));
        // Every demonstration was cut, and the metrics say so; with room
        // for them none is.
        let roomy = TINY.replace("context = 48", "context = 96").replace(
            "eval_prompts = 4, max_tokens = 24)",
            "eval_prompts = 4, max_tokens = 64)",
        );
        let (_, whole, _) = run_into(&dir.join("whole"), &roomy).unwrap_or_else(|e| panic!("{e}"));
        let sft_cut = |m: &str| -> Vec<f64> {
            m.lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|l| l["stage"] == "warmup")
                .filter_map(|l| l["cut"].as_f64())
                .collect()
        };
        assert_eq!(sft_cut(&cut), vec![1.0; 3], "{cut}");
        assert_eq!(sft_cut(&whole), vec![0.0; 3], "{whole}");
        let tight = TINY.replace("context = 48", "context = 12");
        let err = run_into(&dir, &tight).err().unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            err.contains("does not fit model `policy`'s context of 12"),
            "{err}"
        );
        assert!(err.contains("raise its `context`"), "{err}");
    }

    #[test]
    fn dynamic_sampling_refills_dropped_groups_up_to_max_rounds() {
        let dir = std::env::temp_dir().join(format!("rlr-engine-refill-{}", std::process::id()));
        // A group is dropped when its rollouts all score the same: with 3
        // rollouts of a barely trained model, most groups are.
        let text = TINY.replace(
            "  optimize correct",
            "  max_rounds = 4\n  drop when std(correct) == 0\n  optimize correct",
        );
        let (_, metrics, _) = run_into(&dir, &text).unwrap_or_else(|e| panic!("{e}"));
        // Every group dropped: all rounds are used and nothing is trained.
        let never = TINY.replace(
            "  optimize correct",
            "  max_rounds = 3\n  drop when std(correct) >= 0\n  optimize correct",
        );
        let (_, none, _) = run_into(&dir, &never).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_dir_all(&dir);
        let rl = |m: &str| -> Vec<Value> {
            m.lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|l| l["stage"] == "rl")
                .collect()
        };
        assert!(
            rl(&metrics).iter().any(|l| l["rounds"].as_u64() > Some(1)),
            "some step needed a refill: {metrics}"
        );
        for line in rl(&metrics) {
            let rounds = line["rounds"].as_u64().unwrap_or(0);
            let kept = line["kept_groups"].as_u64().unwrap_or(99);
            assert!((1..=4).contains(&rounds), "{line}");
            assert!(kept <= 2, "{line}");
            // Fewer than four rounds only when the batch was full.
            assert!(rounds == 4 || kept == 2, "{line}");
        }
        for line in rl(&none) {
            assert_eq!(line["rounds"], 3, "{line}");
            assert_eq!(line["kept_groups"], 0, "{line}");
            assert_eq!(line["loss"], 0.0, "nothing is trained: {line}");
        }
    }

    #[test]
    fn rl_moves_the_policy_towards_what_the_reward_prefers() {
        // Shorter is better: GRPO must learn to end responses sooner.
        let text = r#"recipe "short" { seed = 11 }
model policy = gpt(layers = 1, width = 16, heads = 2, context = 48)
task  train  = arith(max = 9)
stage rl = grpo(policy, train) {
  steps = 30
  prompts = 8
  group = 4
  lr = 1e-2
  kl = 0.0
  max_tokens = 16
  eval_prompts = 1
  reward { short = 0 - length }
  optimize short
}
"#;
        let dir = std::env::temp_dir().join(format!("rlr-engine-short-{}", std::process::id()));
        let (_, metrics, _) = run_into(&dir, text).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_dir_all(&dir);
        let lengths: Vec<f64> = metrics
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| v["length"].as_f64())
            .collect();
        let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len().max(1) as f64;
        let (first, last) = (mean(&lengths[..5]), mean(&lengths[lengths.len() - 5..]));
        assert!(
            last < first - 2.0,
            "mean length {first} -> {last}: {lengths:?}"
        );
    }

    #[test]
    fn kl_in_the_reward_lowers_the_rewards_and_leaves_the_loss_without_kl() {
        let text = TINY.replace(
            "kl = 0.04",
            "kl = 0.5\n  kl_in = \"reward\"\n  kl_anchor = \"reset\"\n  anchor_every = 100",
        );
        let dir = std::env::temp_dir().join(format!("rlr-engine-klr-{}", std::process::id()));
        let (_, metrics, rollouts) = run_into(&dir, &text).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_dir_all(&dir);
        let rl: Vec<Value> = metrics
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["stage"] == "rl")
            .collect();
        assert_eq!(rl.len(), 2);
        for v in &rl {
            // The loss carries no KL term; the rewards carry it instead.
            assert_eq!(v["kl"].as_f64(), Some(0.0), "{v}");
        }
        // Every rollout's logged reference log-probs are there for the penalty.
        for line in rollouts.lines().filter(|l| l.contains("\"stage\":\"rl\"")) {
            let r: Value = serde_json::from_str(line).unwrap_or(Value::Null);
            let n = r["tokens"].as_array().map_or(0, Vec::len);
            assert_eq!(r["ref_logprob"].as_array().map_or(0, Vec::len), n, "{line}");
        }
    }

    #[test]
    fn a_branch_is_sampled_scored_and_trained_with_its_own_weight() {
        let text = r#"recipe "branch" { seed = 2 }
model policy = gpt(layers = 1, width = 16, heads = 2, context = 640)
task  train  = evidence_math(facts = 3, distractors = 1, checklist = true)
stage rl = grpo(policy, train) {
  steps = 2
  prompts = 2
  group = 2
  lr = 1e-3
  max_tokens = 6
  eval_prompts = 2
  branch probe = rollout(sample.checklist_prompt, n = 3, temperature = 0.7)
  reward {
    perceived = answers_correct(probe.text, sample.checklist_answers)
    evidence  = mean(perceived)
    correct   = exact(answer, sample.answer)
  }
  halt when evidence <= 0.5 unless chance(0.0, per = "batch")
  optimize correct
  optimize perceived on probe weight 0.1
}
"#;
        let dir = std::env::temp_dir().join(format!("rlr-engine-branch-{}", std::process::id()));
        let (_, metrics, rollouts) = run_into(&dir, text).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_dir_all(&dir);
        let probe = rollouts
            .lines()
            .filter(|l| l.contains("\"branch\":\"probe\""))
            .count();
        let main = rollouts.lines().count() - probe;
        assert_eq!((main, probe), (2 * 2 * 2, 2 * 2 * 3));
        // A random policy perceives nothing: every prompt is halted.
        for line in metrics.lines() {
            let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
            assert!(v["loss"].as_f64().is_some_and(f64::is_finite), "{line}");
            assert!(line.contains("perceived"), "{line}");
            assert_eq!(v["metrics"]["halted"].as_f64(), Some(1.0), "{line}");
        }
    }

    #[test]
    fn gspo_entropy_terms_moving_anchors_and_asft_train_with_finite_losses() {
        let variants = [
            (
                "importance",
                "importance = \"sequence\"\n  entropy_coef = 0.01",
            ),
            (
                "band",
                "entropy_band = (0.5, 2.0)\n  entropy_band_coef = (0.1, 0.1)",
            ),
            ("ema", "kl_anchor = \"ema\"\n  anchor_rate = 0.5"),
            ("reset", "kl_anchor = \"reset\"\n  anchor_every = 1"),
        ];
        let base = std::env::temp_dir().join(format!("rlr-engine-loss-{}", std::process::id()));
        for (name, extra) in variants {
            let text = TINY
                .replace("kl = 0.04", &format!("kl = 0.04\n  {extra}"))
                .replace("lr = 1e-2,", "lr = 1e-2, weighting = \"asft\", kl = 0.1,");
            let (_, metrics, _) =
                run_into(&base.join(name), &text).unwrap_or_else(|e| panic!("{name}: {e}"));
            for line in metrics.lines() {
                let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
                assert!(
                    v["loss"].as_f64().is_some_and(f64::is_finite),
                    "{name}: {line}"
                );
            }
            // With an anchor that moves, KL is measured against something
            // other than the starting policy; with reset every step it is
            // the previous step's policy.
            assert!(metrics.lines().count() == 5, "{name}");
        }
        // KL in the reward, written in the graph: the engine keeps a
        // reference for it although `kl = 0`, and the penalty moves the reward.
        let text = TINY.replace("kl = 0.04", "kl = 0").replace(
            "reward { correct = exact(answer, sample.answer) }\n  optimize correct",
            "reward {\n    correct = exact(answer, sample.answer)\n    \
             kl_t = kl_estimate(estimator = \"k2\")\n    shaped = correct - 10 * sum(kl_t)\n  }\n  \
             optimize shaped",
        );
        let (_, metrics, _) =
            run_into(&base.join("kl_in_graph"), &text).unwrap_or_else(|e| panic!("{e}"));
        let last: Value = metrics
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or(Value::Null);
        let kl = &last["metrics"]["nodes"]["kl_t"];
        assert!(kl["mean"].as_f64().is_some_and(|m| m > 0.0), "{last}");
        let _ = std::fs::remove_dir_all(&base);
    }
}

#[cfg(test)]
mod table_tests {
    use super::*;
    use crate::model::GptSpec;
    use crate::tokenizer::CharTokenizer;

    #[test]
    fn a_once_table_row_depends_on_its_prompt_alone() {
        let device = backend::device();
        let m = backend::seeded(&device, 5, |d| GptSpec::tiny(CharTokenizer::VOCAB).init(d));
        let model = Policy::Gpt(m.valid());
        let plan = BranchPlan {
            name: "refs".into(),
            n: 2,
            sampling: Sampling {
                temperature: 1.0,
                top_p: 1.0,
                top_k: 0,
                max_tokens: 6,
                stop: Vec::new(),
            },
            from_reference: true,
            once: true,
        };
        let (vocab, plain) = (Vocab::Char, backend::plain());
        let spec = || TableSpec {
            model: &model,
            plan: &plan,
            seed: 11,
            vocab: &vocab,
            device: &plain,
        };
        let round = |table: &mut BTreeMap<String, Vec<Generated>>, prompts: &[&str]| {
            let texts: Vec<String> = prompts.iter().map(|p| p.to_string()).collect();
            let ids = encode_repeated(&vocab, prompts.iter().copied(), 2).expect("ids");
            table_rollouts(table, spec(), &texts, &ids).expect("rollouts")
        };
        let mut table = BTreeMap::new();
        let first = round(&mut table, &["a?", "b?"]);
        let again = round(&mut table, &["b?", "c?"]);
        assert_eq!(first.len(), 4);
        assert_eq!(first[2..], again[..2], "a prompt seen again reuses its row");
        // A fresh table (a resumed run) that meets `b?` first draws the same row.
        let fresh = round(&mut BTreeMap::new(), &["b?"]);
        assert_eq!(fresh[..], first[2..]);
        assert_ne!(first[..2], first[2..], "different prompts, different draws");
    }
}
