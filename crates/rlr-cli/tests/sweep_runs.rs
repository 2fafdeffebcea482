//! `rlr sweep` trains its points: two points of a tiny template with
//! `--jobs 2`, a summary that matches each run's own `metrics.jsonl`, and a
//! second identical command that runs nothing (then one that resumes a point
//! whose marker is gone, leaving its files as they were).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TEMPLATE: &str = r#"recipe "tiny lr {{ lr }}" { seed = 3 }
model policy = gpt(layers = 1, width = 16, heads = 2, context = 48)
task  train  = arith(max = 9)
stage warmup = sft(policy, train, steps = 3, batch = 4, lr = {{ lr }}, eval_prompts = 4, max_tokens = 24)
stage rl = grpo(policy, train) {
  steps = 2
  prompts = 2
  group = 3
  lr = 1e-3
  kl = 0.04
  max_tokens = 12
  eval_prompts = 4
  eval_every = 1
  reward { correct = exact(answer, sample.answer) }
  optimize correct
}
"#;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rlr-sweep-runs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sweep(template: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rlr"))
        .arg("sweep")
        .arg(template)
        .args(["--grid", "lr=1e-3,1e-2", "--jobs", "2", "--out"])
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The last value of `key` in a metrics file.
fn last(metrics: &str, key: &str) -> Option<f64> {
    metrics
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v.get(key).and_then(serde_json::Value::as_f64))
}

#[test]
fn a_sweep_trains_every_point_summarises_them_and_resumes_nothing_twice() {
    let dir = scratch("main");
    let template = dir.join("tiny.rlr.j2");
    std::fs::write(&template, TEMPLATE).unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("out");

    let first = sweep(&template, &out);
    let err = stderr(&first);
    assert!(first.status.success(), "{err}");
    assert!(err.contains("2 points rendered and checked in"), "{err}");
    assert!(err.contains("running 2 points (2 at a time)"), "{err}");
    assert!(err.contains("point-000 (lr=1e-3): finished in"), "{err}");
    assert!(err.contains("point-001 (lr=1e-2): finished in"), "{err}");
    assert!(err.contains("2 points done; summary in"), "{err}");

    // The summary: one row per point, its values read from its own run.
    let csv = read(&out.join("summary.csv"));
    let mut rows = csv.lines();
    let header: Vec<&str> = rows.next().unwrap_or_default().split(',').collect();
    assert_eq!(
        header[..6],
        ["index", "lr", "file", "run", "status", "steps"],
        "{csv}"
    );
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name} in {csv}"))
    };
    let rows: Vec<Vec<&str>> = rows.map(|r| r.split(',').collect()).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    for (i, (row, lr)) in rows.iter().zip(["1e-3", "1e-2"]).enumerate() {
        let name = format!("point-00{i}");
        let run = out.join("runs").join(&name);
        assert_eq!(
            row[..5],
            [
                &i.to_string(),
                lr,
                &format!("{name}.rlr"),
                &format!("runs/{name}"),
                "done"
            ]
        );
        assert!(run.join("done").is_file());
        assert!(run.join("sweep.log").is_file());
        let metrics = read(&run.join("metrics.jsonl"));
        assert_eq!(row[col("steps")], metrics.lines().count().to_string());
        assert_eq!(metrics.lines().count(), 3 + 2);
        for key in ["eval/accuracy", "reward", "loss", "kl"] {
            let want = last(&metrics, key).unwrap_or_else(|| panic!("{name}: no {key}"));
            let got: f64 = row[col(&format!("final {key}"))]
                .parse()
                .unwrap_or_else(|e| panic!("{name} {key}: {e} in {csv}"));
            assert!((got - want).abs() < 5e-5, "{name} {key}: {got} vs {want}");
        }
        // Each point trained its own recipe (the value rendered as a number).
        let rendered = ["lr = 0.001, eval", "lr = 0.01, eval"][i];
        assert!(read(&run.join("recipe.rlr")).contains(rendered), "{name}");
    }
    let md = read(&out.join("summary.md"));
    assert!(
        md.contains("| 1 | 1e-2 | point-001.rlr | runs/point-001 | done | 5 |"),
        "{md}"
    );

    // The same command again trains nothing and changes nothing.
    let metrics_of = |i: usize| {
        let p = out.join(format!("runs/point-00{i}/metrics.jsonl"));
        let modified = std::fs::metadata(&p)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{e}"));
        (read(&p), modified)
    };
    let before: Vec<_> = (0..2).map(metrics_of).collect();
    let again = sweep(&template, &out);
    let err = stderr(&again);
    assert!(again.status.success(), "{err}");
    assert!(err.contains("every point is already done (2)"), "{err}");
    assert!(!err.contains("finished in"), "{err}");
    assert_eq!((0..2).map(metrics_of).collect::<Vec<_>>(), before);
    assert_eq!(read(&out.join("summary.csv")), csv);

    // A point without its marker (as if the sweep died as its run ended) is
    // resumed from its last checkpoint: nothing is left to train, and its
    // files stay as they were.
    std::fs::remove_file(out.join("runs/point-001/done")).unwrap_or_else(|e| panic!("{e}"));
    let resumed = sweep(&template, &out);
    let err = stderr(&resumed);
    assert!(resumed.status.success(), "{err}");
    assert!(
        err.contains("running 1 point (1 at a time), 1 of them resumed; 1 already done"),
        "{err}"
    );
    assert!(out.join("runs/point-001/done").is_file());
    assert_eq!(metrics_of(1).0, before[1].0);
    assert_eq!(read(&out.join("summary.csv")), csv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failing_point_is_reported_and_the_others_still_run() {
    let dir = scratch("fail");
    // Point 1's task reads a data file that is not there: its run fails
    // as it starts (the checker does not read data); point 0 trains.
    let template = dir.join("missing.rlr.j2");
    let text = TEMPLATE.replace(
        "task  train  = arith(max = 9)",
        "task  train  = {% if lr == 0.01 %}jsonl(path = \"missing.jsonl\"){% else %}arith(max = 9){% endif %}",
    );
    std::fs::write(&template, text).unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("out");
    let o = sweep(&template, &out);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("point-001 (lr=1e-2): failed: `rlr run` exited with 2"),
        "{err}"
    );
    assert!(err.contains("error: 1 of 2 points failed"), "{err}");
    let csv = read(&out.join("summary.csv"));
    assert!(
        csv.lines().nth(1).is_some_and(|l| l.contains(",done,")),
        "{csv}"
    );
    assert!(
        csv.lines().nth(2).is_some_and(|l| l.contains(",failed,")),
        "{csv}"
    );
    assert!(read(&out.join("runs/point-001/sweep.log")).contains("missing.jsonl"));
    assert!(!out.join("runs/point-001/done").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
