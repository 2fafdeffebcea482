//! A run killed with SIGKILL and resumed with `rlr run --resume` writes the
//! same `metrics.jsonl` and `rollouts.jsonl` as a run that was never
//! interrupted (also with another thread count), and `--set` overrides reach the engine and the manifest.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RECIPE: &str = r#"recipe "kill" { seed = 5 }
model policy = gpt(layers = 1, width = 16, heads = 2, context = 48)
task  train  = arith(max = 9)
stage warmup = sft(policy, train, steps = 6, batch = 4, lr = 1e-2, eval_prompts = 4, max_tokens = 24)
stage rl = grpo(policy, train) {
  steps = 40
  prompts = 2
  group = 3
  lr = 1e-3
  kl = 0.04
  max_tokens = 12
  eval_prompts = 4
  eval_every = 10
  reward { correct = exact(answer, sample.answer) }
  optimize correct
}
"#;

fn rlr() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rlr"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rlr-kill-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_killed_run_resumes_to_the_same_files() {
    let dir = scratch("main");
    let recipe = dir.join("kill.rlr");
    std::fs::write(&recipe, RECIPE).unwrap_or_else(|e| panic!("{e}"));
    let whole = dir.join("whole");
    // The uninterrupted run on one thread, the killed one on the machine's
    // default: the files must not depend on the thread count either.
    let status = rlr()
        .env("RAYON_NUM_THREADS", "1")
        .arg("run")
        .arg(&recipe)
        .arg("--out")
        .arg(&whole)
        .args(["--checkpoint-every", "3", "--progress", "0"])
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
    let total = lines(&whole.join("metrics.jsonl"));
    assert_eq!(total, 6 + 40);

    // Kill when the run is well into the RL stage, between checkpoints.
    let killed = dir.join("killed");
    let mut child = rlr()
        .arg("run")
        .arg(&recipe)
        .arg("--out")
        .arg(&killed)
        .args(["--checkpoint-every", "3", "--progress", "0"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_secs(300);
    while lines(&killed.join("metrics.jsonl")) < 6 + 17 {
        assert!(Instant::now() < deadline, "the run made no progress");
        if child.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap_or_else(|e| panic!("{e}"));
    let _ = child.wait();
    let before = lines(&killed.join("metrics.jsonl"));
    assert!(before < total, "the run finished before it could be killed");

    let output = rlr()
        .args(["run", "--resume"])
        .arg(&killed)
        .args(["--progress", "0"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in ["metrics.jsonl", "rollouts.jsonl"] {
        assert_eq!(
            read(&killed.join(file)),
            read(&whole.join(file)),
            "{file} after a kill at line {before}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn set_overrides_reach_the_run_and_bad_ones_are_refused() {
    let dir = scratch("set");
    let recipe = dir.join("kill.rlr");
    std::fs::write(&recipe, RECIPE).unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("run");
    let status = rlr()
        .arg("run")
        .arg(&recipe)
        .arg("--out")
        .arg(&out)
        .args(["--set", "steps=2", "--set", "rl.group=2", "--progress", "0"])
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
    assert_eq!(lines(&out.join("metrics.jsonl")), 4);
    // Two RL steps of 2 prompts x 2 rollouts.
    assert_eq!(lines(&out.join("rollouts.jsonl")), 8);
    let manifest = read(&out.join("manifest.toml"));
    assert!(
        manifest.contains("steps=2") && manifest.contains("rl.group=2"),
        "{manifest}"
    );
    assert!(read(&out.join("recipe.rlr")).contains("group = 2"));

    let refused = rlr()
        .arg("run")
        .arg(&recipe)
        .args(["--set", "rl.lr=-1", "--out"])
        .arg(dir.join("bad"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(refused.status.code(), Some(1));
    let typo = rlr()
        .arg("run")
        .arg(&recipe)
        .args(["--set", "stepz=1"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(typo.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("did you mean `steps`"));
    let _ = std::fs::remove_dir_all(&dir);
}
