//! `rlr report` on handwritten run directories and `rlr graph --schedules`
//! on a recipe with schedules, in process (nothing trains).

use std::path::{Path, PathBuf};

/// Two stages as the engine writes them: SFT, then RL with a binding's
/// statistics and held-out evaluations.
const METRICS: &str = r#"{"stage":"warmup","step":1,"loss":2.0,"grad_norm":1.0,"length":5.0}
{"stage":"warmup","step":2,"loss":1.5,"grad_norm":0.9,"length":5.0,"eval/accuracy":0.25,"eval/length":4.0}
{"stage":"rl","step":1,"loss":0.1,"kl":0.0,"entropy":1.2,"length":6.0,"reward":0.5,"metrics":{"nodes":{"correct":{"count":6,"mean":0.5,"std":0.5}},"halted":0.0,"dropped":0.0,"zero_variance":[0.5]}}
{"stage":"rl","step":2,"loss":0.2,"kl":0.01,"entropy":1.1,"length":7.0,"reward":0.75,"metrics":{"nodes":{"correct":{"count":6,"mean":0.75,"std":0.25}},"halted":0.0,"dropped":0.0,"zero_variance":[0.0]},"eval/accuracy":0.5,"eval/length":4.5}
"#;

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn rlr(args: &[&str]) -> Outcome {
    let args: Vec<String> = args.iter().map(|a| (*a).to_string()).collect();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = rlr_cli::run(&args, &mut &b""[..], &mut stdout, &mut stderr);
    Outcome {
        code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rlr-report-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[test]
fn a_report_of_one_run_plots_every_quantity_into_the_run() {
    let dir = scratch("one");
    let run = dir.join("grpo");
    write(&run.join("metrics.jsonl"), METRICS);
    let o = rlr(&["report", &s(&run)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "");
    let report = run.join("report");
    // reward, eval/accuracy, kl, entropy, length, loss, eval/length,
    // grad_norm, metrics/{dropped,halted,zero_variance/0}, binding/correct.
    assert_eq!(
        o.stderr,
        format!(
            "report of 1 run: 12 plots in {} (index.md, index.html)\n",
            report.display()
        )
    );
    for stem in [
        "reward",
        "eval-accuracy",
        "kl",
        "loss",
        "binding-correct",
        "metrics-zero_variance-0",
    ] {
        let png = std::fs::read(report.join(format!("{stem}.png")))
            .unwrap_or_else(|e| panic!("{stem}: {e}"));
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{stem}");
        assert!(
            read(&report.join(format!("{stem}.svg"))).starts_with("<svg"),
            "{stem}"
        );
    }
    let md = read(&report.join("index.md"));
    assert!(md.starts_with("# Run report: grpo\n"), "{md}");
    assert!(
        md.contains("| grpo | rl | 2 | 0.75 | 0.5 | 0.01 | 1.1 | 7 | 0.2 |"),
        "{md}"
    );
    let html = read(&report.join("index.html"));
    assert!(
        html.contains("<img src=\"reward.svg\" alt=\"reward\">"),
        "{html}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_report_of_several_runs_overlays_them_and_notes_a_run_without_metrics() {
    let dir = scratch("several");
    let (a, b, empty) = (dir.join("a"), dir.join("b"), dir.join("empty"));
    write(&a.join("metrics.jsonl"), METRICS);
    write(&b.join("metrics.jsonl"), &METRICS.replace("0.75", "0.6"));
    std::fs::create_dir_all(&empty).unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("out");
    let o = rlr(&["report", &s(&a), &s(&b), &s(&empty), "--out", &s(&out)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr
            .starts_with("note: `empty` has no metrics: no metrics.jsonl (no step logged yet)\n"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("report of 3 runs: 12 plots in"),
        "{}",
        o.stderr
    );
    // Both runs overlaid; the loss spans both stages and marks both, the
    // reward (logged in `rl` only) marks only its own stage.
    let labels = |file: &str| {
        let svg = read(&out.join(file));
        ["a", "b", "warmup", "rl"].map(|name| svg.contains(&format!("\n{name}\n</text>")))
    };
    assert_eq!(labels("loss.svg"), [true, true, true, true]);
    assert_eq!(labels("reward.svg"), [true, true, false, true]);
    let md = read(&out.join("index.md"));
    assert!(md.contains("| b | rl | 2 | 0.6 |"), "{md}");
    assert!(md.contains("`empty` has no metrics"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_malformed_metrics_line_or_no_metrics_at_all_is_an_input_error() {
    let dir = scratch("bad");
    let run = dir.join("broken");
    let mut lines: Vec<&str> = METRICS.lines().collect();
    lines[1] = r#"{"stage":"warmup","step":"two"}"#;
    write(&run.join("metrics.jsonl"), &(lines.join("\n") + "\n"));
    let o = rlr(&["report", &s(&run)]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(
        o.stderr,
        format!(
            "error: {}:2: no `step` (a whole number)\n\n",
            run.join("metrics.jsonl").display()
        )
    );
    assert!(!run.join("report").exists());
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap_or_else(|e| panic!("{e}"));
    let o = rlr(&["report", &s(&empty)]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("error: nothing to report: no run has metrics"),
        "{}",
        o.stderr
    );
    let o = rlr(&["report", &s(&dir.join("missing"))]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("not a run directory"), "{}", o.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn graph_schedules_plots_each_schedule_binding_over_its_stage() {
    let dir = scratch("schedules");
    let recipe = dir.join("sched.rlr");
    write(
        &recipe,
        r#"recipe "sched" { seed = 1 }
model policy = gpt(layers = 1, width = 16, heads = 2, context = 48)
task  train  = arith(max = 9)
stage warmup = sft(policy, train, steps = 3)
stage rl = grpo(policy, train) {
  steps = 10
  reward {
    correct = exact(answer, sample.answer)
    alpha   = linear(0.5 -> 0, over = steps)
    warm    = warmup(over = 4)
    total   = correct + alpha * warm * correct
  }
  optimize total
}
"#,
    );
    let out = dir.join("plots");
    let o = rlr(&["graph", "--schedules", &s(&recipe), "--out", &s(&out)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stdout,
        "rl.alpha: 0.45 at step 1 -> 0 at step 10 (min 0, max 0.45)\n\
         rl.warm: 0.25 at step 1 -> 1 at step 10 (min 0.25, max 1)\n"
    );
    assert_eq!(
        o.stderr,
        format!(
            "2 schedule plots in {} (index.md, index.html)\n",
            out.display()
        )
    );
    for f in [
        "rl-alpha.png",
        "rl-alpha.svg",
        "rl-warm.png",
        "rl-warm.svg",
        "index.html",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let md = read(&out.join("index.md"));
    assert!(
        md.contains("| rl | alpha | 10 | 0.45 | 0 | 0 | 0.45 |"),
        "{md}"
    );

    // No schedules: said so, nothing written.
    let plain = dir.join("plain.rlr");
    write(
        &plain,
        &read(&recipe)
            .replace("linear(0.5 -> 0, over = steps)", "0.5")
            .replace("warmup(over = 4)", "1"),
    );
    let o = rlr(&[
        "graph",
        "--schedules",
        &s(&plain),
        "--out",
        &s(&dir.join("none")),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stderr,
        format!("no schedule bindings in {}\n", plain.display())
    );
    assert!(!dir.join("none").exists());
    // `--out` belongs to `--schedules`.
    assert_eq!(rlr(&["graph", &s(&recipe), "--out", "x"]).code, 1);
    let _ = std::fs::remove_dir_all(&dir);
}
