//! The `rlr` command, driven through `rlr_cli::run` with in-memory streams:
//! exit codes, what goes to stdout and stderr, and the files `fmt` rewrites.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

const TINY: &str = r#"recipe "tiny" { seed = 1 }
model policy = gpt(layers = 2, width = 64, heads = 2)
task  train  = arith(max = 9)
stage rl = grpo(policy, train) {
  reward { correct = exact(answer, sample.answer) }
  optimize correct
}
"#;

/// What one `rlr` invocation did.
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn rlr_with_stdin(args: &[&str], input: &[u8]) -> Outcome {
    let args: Vec<String> = args.iter().map(|a| (*a).to_string()).collect();
    let mut stdin = input;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = rlr_cli::run(&args, &mut stdin, &mut stdout, &mut stderr);
    Outcome {
        code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn rlr(args: &[&str]) -> Outcome {
    rlr_with_stdin(args, b"")
}

/// A fresh, empty directory for one test; removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("rlr-cli-test-{}-{n}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    /// Writes `name` (which may contain folders) and returns its path as a string.
    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("create folder");
        }
        fs::write(&p, contents).expect("write temp file");
        self.path(name)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }

    /// `text` with this directory's path replaced by `[TMP]`, for snapshots.
    fn redact(&self, text: &str) -> String {
        text.replace(&*self.0.to_string_lossy(), "[TMP]")
            .replace('\\', "/")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn read(p: &str) -> String {
    fs::read_to_string(Path::new(p)).expect("read back")
}

// ---- check -----------------------------------------------------------------------------------

#[test]
fn check_accepts_a_good_recipe() {
    let t = TempDir::new("ok");
    let f = t.write("tiny.rlr", TINY);
    let o = rlr(&["check", &f]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "");
    assert_eq!(o.stderr, "checked 1 recipe: 0 errors, 0 warnings\n");
}

#[test]
fn check_reports_errors_rich() {
    let o = rlr_with_stdin(&["check", "-"], TINY.replace("exact(", "exakt(").as_bytes());
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "");
    insta::assert_snapshot!("check_rich", o.stderr);
}

#[test]
fn check_reports_errors_short() {
    let o = rlr_with_stdin(
        &["check", "--format", "short", "-"],
        TINY.replace("exact(", "exakt(").as_bytes(),
    );
    assert_eq!(o.code, 1);
    insta::assert_snapshot!("check_short", o.stderr);
}

#[test]
fn check_counts_every_file() {
    let t = TempDir::new("many");
    let good = t.write("good.rlr", TINY);
    let bad = t.write("bad.rlr", TINY.replace("exact(", "exakt("));
    let o = rlr(&["check", &good, &bad, &good]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .ends_with("checked 3 recipes: 1 error, 0 warnings\n"),
        "{}",
        o.stderr
    );
}

#[test]
fn check_warnings_pass_unless_denied() {
    let t = TempDir::new("warn");
    let f = t.write(
        "warn.rlr",
        TINY.replace("reward { correct", "reward { unused = length\n correct"),
    );
    let o = rlr(&["check", &f]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("warning[W0101]"), "{}", o.stderr);
    assert!(
        o.stderr
            .ends_with("checked 1 recipe: 0 errors, 1 warning\n"),
        "{}",
        o.stderr
    );
    let o = rlr(&["check", "--deny-warnings", &f]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.ends_with("1 warning (warnings denied)\n"),
        "{}",
        o.stderr
    );
}

#[test]
fn check_missing_file() {
    let t = TempDir::new("missing");
    let f = t.path("nope.rlr");
    let o = rlr(&["check", &f]);
    assert_eq!(o.code, 1);
    insta::assert_snapshot!("check_missing", t.redact(&o.stderr));
}

#[test]
fn check_directory() {
    let t = TempDir::new("dir");
    let o = rlr(&["check", &t.path("")]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("is a directory, not a recipe file"),
        "{}",
        o.stderr
    );
}

#[test]
fn check_empty_file_does_not_crash() {
    let t = TempDir::new("empty");
    let f = t.write("empty.rlr", "");
    let o = rlr(&["check", &f]);
    assert!(o.code == 0 || o.code == 1, "{}", o.stderr);
    assert!(o.stderr.contains("checked 1 recipe"), "{}", o.stderr);
}

#[test]
fn check_binary_garbage() {
    let t = TempDir::new("binary");
    let f = t.write(
        "garbage.rlr",
        [0x7f, b'E', b'L', b'F', 0x02, 0x01, 0xff, 0xfe, 0x00, 0x9c],
    );
    let o = rlr(&["check", &f]);
    assert_eq!(o.code, 1);
    insta::assert_snapshot!("check_binary", t.redact(&o.stderr));
    // Valid UTF-8 that is still not text is the language's business (E0003).
    let f = t.write("nul.rlr", "recipe \"x\"\0\0\0");
    let o = rlr(&["check", &f]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("error[E0003]"), "{}", o.stderr);
}

#[test]
fn check_error_at_end_of_file() {
    for text in [
        "recipe \"x\" {",
        "recipe",
        "stage rl = grpo(",
        "model p = gpt(\n",
    ] {
        let o = rlr_with_stdin(&["check", "-"], text.as_bytes());
        assert_eq!(o.code, 1, "{text:?}: {}", o.stderr);
        assert!(o.stderr.contains("┌─ <stdin>:"), "{text:?}: {}", o.stderr);
        let o = rlr_with_stdin(&["check", "--format", "short", "-"], text.as_bytes());
        assert!(o.stderr.starts_with("<stdin>:"), "{text:?}: {}", o.stderr);
    }
}

#[test]
fn check_follows_imports_relative_to_the_importer() {
    let t = TempDir::new("imports");
    t.write(
        "lib/shared.rlr",
        "import \"more.rlr\"\nfn twice(x) = x * 2\n",
    );
    t.write("lib/more.rlr", "fn half(x) = x / 2\n");
    let main = t.write(
        "recipes/main.rlr",
        TINY.replace("optimize correct", "optimize twice(half(correct))")
            .replace(
                "recipe \"tiny\"",
                "import \"../lib/shared.rlr\"\nrecipe \"tiny\"",
            ),
    );
    let o = rlr(&["check", &main]);
    assert_eq!(o.code, 0, "{}", o.stderr);

    let broken = t.write(
        "recipes/broken.rlr",
        format!("import \"../lib/none.rlr\"\n{TINY}"),
    );
    let o = rlr(&["check", &broken]);
    assert_eq!(o.code, 1);
    insta::assert_snapshot!("check_import_missing", t.redact(&o.stderr));
}

#[test]
fn check_detects_import_cycles_back_to_the_root() {
    let t = TempDir::new("cycle");
    t.write("lib.rlr", "import \"main.rlr\"\nfn f(x) = x\n");
    let main = t.write("main.rlr", format!("import \"./lib.rlr\"\n{TINY}"));
    let o = rlr(&["check", &main]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("error[E0273]"), "{}", o.stderr);
}

// ---- colour ----------------------------------------------------------------------------------

#[test]
fn colour_only_when_asked() {
    let bad = TINY.replace("exact(", "exakt(");
    let plain = rlr_with_stdin(&["check", "-"], bad.as_bytes());
    assert!(!plain.stderr.contains('\u{1b}'));
    let never = rlr_with_stdin(&["--color", "never", "check", "-"], bad.as_bytes());
    assert_eq!(never.stderr, plain.stderr);
    let always = rlr_with_stdin(&["check", "--color=always", "-"], bad.as_bytes());
    assert!(always.stderr.contains("\u{1b}["), "{}", always.stderr);
}

// ---- graph -----------------------------------------------------------------------------------

#[test]
fn graph_dot_and_text() {
    let o = rlr_with_stdin(&["graph", "-"], TINY.as_bytes());
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with("digraph"), "{}", o.stdout);
    assert_eq!(o.stderr, "");
    let o = rlr_with_stdin(
        &["graph", "--format", "text", "--stage", "rl", "-"],
        TINY.as_bytes(),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with("recipe \"tiny\""), "{}", o.stdout);
    assert!(o.stdout.contains("\nstage rl = grpo("), "{}", o.stdout);
}

#[test]
fn graph_unknown_stage() {
    let o = rlr_with_stdin(&["graph", "--stage", "lr", "-"], TINY.as_bytes());
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "");
    insta::assert_snapshot!("graph_unknown_stage", o.stderr);
}

#[test]
fn graph_of_a_wrong_recipe() {
    let o = rlr_with_stdin(&["graph", "-"], TINY.replace("exact(", "exakt(").as_bytes());
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "");
    assert!(o.stderr.contains("error[E0100]"), "{}", o.stderr);
}

// ---- explain ---------------------------------------------------------------------------------

#[test]
fn explain_one_builtin() {
    let o = rlr(&["explain", "zscore"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with("zscore("), "{}", o.stdout);
    assert!(o.stdout.ends_with('\n'));
    let o = rlr(&["explain", "text"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with("text: "), "{}", o.stdout);
}

#[test]
fn explain_unknown_name() {
    let o = rlr(&["explain", "zscor"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "");
    insta::assert_snapshot!("explain_unknown", o.stderr);
    let o = rlr(&["explain", "qqqqqqqqqq"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("run `rlr explain` to list every built-in"),
        "{}",
        o.stderr
    );
}

#[test]
fn explain_lists_every_builtin() {
    let o = rlr(&["explain"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for heading in [
        "models:",
        "tasks:",
        "stages:",
        "verifier nodes:",
        "context names:",
    ] {
        assert!(
            o.stdout.contains(&format!("\n{heading}\n")) || o.stdout.starts_with(heading),
            "{heading}"
        );
    }
    for b in rlr_lang::registry::all() {
        assert!(
            o.stdout.contains(&format!("  {}(", b.name)),
            "{} is not listed",
            b.name
        );
    }
}

// ---- fmt -------------------------------------------------------------------------------------

#[test]
fn fmt_check_then_rewrite() {
    let t = TempDir::new("fmt");
    let messy = "recipe   \"tiny\"{seed=1}\n\n\n\nmodel policy=gpt(layers=2,width=64,heads=2)\n";
    let f = t.write("messy.rlr", messy);
    let o = rlr(&["fmt", "--check", &f]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(o.stdout, format!("{f}\n"));
    assert_eq!(read(&f), messy, "--check must not write");

    let o = rlr(&["fmt", &f]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "");
    let formatted = read(&f);
    assert_ne!(formatted, messy);

    let o = rlr(&["fmt", "--check", &f]);
    assert_eq!(o.code, 0, "formatting is not idempotent:\n{formatted}");
    assert_eq!(o.stdout, "");
    let o = rlr(&["fmt", &f]);
    assert_eq!(o.code, 0);
    assert_eq!(read(&f), formatted);
}

#[test]
fn fmt_stdin_to_stdout() {
    let messy = "recipe   \"tiny\"{seed=1}\n";
    let o = rlr_with_stdin(&["fmt", "-"], messy.as_bytes());
    assert_eq!(o.code, 0, "{}", o.stderr);
    let again = rlr_with_stdin(&["fmt", "-"], o.stdout.as_bytes());
    assert_eq!(again.stdout, o.stdout);
    let check = rlr_with_stdin(&["fmt", "--check", "-"], messy.as_bytes());
    assert_eq!(check.code, 1);
    assert_eq!(check.stdout, "<stdin>\n");
}

#[test]
fn fmt_refuses_what_does_not_parse() {
    let t = TempDir::new("fmt-bad");
    let text = "recipe \"x\" {\n";
    let f = t.write("bad.rlr", text);
    let o = rlr(&["fmt", &f]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("error[E0"), "{}", o.stderr);
    assert_eq!(read(&f), text);
    let o = rlr(&["fmt", "--check", &t.path("missing.rlr")]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("no such file"), "{}", o.stderr);
}

// ---- run -------------------------------------------------------------------------------------

#[test]
fn run_checks_then_refuses_what_the_engine_does_not_support_yet() {
    // A device this build lacks, before anything is read or trained.
    let o = rlr_with_stdin(&["run", "-", "--device", "cuda:0"], TINY.as_bytes());
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "");
    assert!(
        o.stderr.contains("device `cuda:0` is not in this build"),
        "{}",
        o.stderr
    );
    // A setting the engine does not do yet is refused by name, not ignored.
    let once = TINY.replace(
        "  optimize",
        "  branch again = rollout(sample.rephrased, once = true)\n  optimize",
    );
    let o = rlr_with_stdin(&["run", "-", "--out", "runs/x"], once.as_bytes());
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("`once = true`"), "{}", o.stderr);
    assert!(
        !std::path::Path::new("runs/x").exists(),
        "refused before the run directory"
    );
    let o = rlr_with_stdin(&["run", "-"], TINY.replace("exact(", "exakt(").as_bytes());
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("error[E0100]"), "{}", o.stderr);
    let o = rlr_with_stdin(&["run", "-", "--set", "seed"], TINY.as_bytes());
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("expected KEY=VALUE"), "{}", o.stderr);
}

#[test]
fn diff_compares_the_recipes_two_runs_used() {
    let recipe = r#"recipe "tiny" { seed = 1 }
model policy = gpt(layers = 1, width = 16, heads = 2, context = 48)
task  train  = arith(max = 9)
stage rl = grpo(policy, train, steps = 1, prompts = 1, group = 2, max_tokens = 4, eval_prompts = 1) {
  reward { correct = exact(answer, sample.answer) }
  optimize correct
}
"#;
    let t = TempDir::new("diff-runs");
    let a = t.path("a");
    let b = t.path("b");
    let o = rlr_with_stdin(
        &["run", "-", "--out", &a, "--progress", "0"],
        recipe.as_bytes(),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = rlr_with_stdin(
        &[
            "run",
            "-",
            "--out",
            &b,
            "--progress",
            "0",
            "--set",
            "rl.lr=3e-4",
        ],
        recipe.as_bytes(),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = rlr(&["diff", &a, &b]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("lr"), "{}", o.stdout);
    assert!(o.stdout.contains("run: overrides"), "{}", o.stdout);
    let o = rlr(&["diff", "--exit-code", &a, &a]);
    assert_eq!(o.code, 0, "{}", o.stdout);
}

#[test]
fn run_trains_a_tiny_recipe_and_writes_the_run_directory() {
    let recipe = r#"recipe "tiny" { seed = 1 }
model policy = gpt(layers = 1, width = 16, heads = 2, context = 48)
task  train  = arith(max = 9)
stage warmup = sft(policy, train, steps = 2, batch = 2, eval_prompts = 2, max_tokens = 24)
stage rl = grpo(policy, train, steps = 2, prompts = 2, group = 2, max_tokens = 8, eval_prompts = 2) {
  reward { correct = exact(answer, sample.answer) }
  optimize correct
}
"#;
    let dir = std::env::temp_dir().join(format!("rlr-cli-run-{}", std::process::id()));
    let out = dir.to_string_lossy().into_owned();
    let o = rlr_with_stdin(
        &["run", "-", "--out", &out, "--progress", "1"],
        recipe.as_bytes(),
    );
    let metrics = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap_or_default();
    let rollouts = std::fs::read_to_string(dir.join("rollouts.jsonl")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("[2/2 rl]"), "{}", o.stderr);
    assert!(
        o.stderr.contains("stage `rl`: held-out accuracy"),
        "{}",
        o.stderr
    );
    assert_eq!(metrics.lines().count(), 4);
    assert_eq!(rollouts.lines().count(), 8);
}

// ---- usage -----------------------------------------------------------------------------------

#[test]
fn usage_errors_and_help() {
    let o = rlr(&[]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("Usage: rlr"), "{}", o.stderr);
    let o = rlr(&["--help"]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("Usage: rlr"), "{}", o.stdout);
    assert_eq!(o.stderr, "");
    let o = rlr(&["--version"]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.starts_with("rlr "), "{}", o.stdout);
    let o = rlr(&["chek", "x.rlr"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("'check'"), "{}", o.stderr);
    let o = rlr(&["check"]);
    assert_eq!(o.code, 1);
    let o = rlr(&["graph", "--format", "svg", "x.rlr"]);
    assert_eq!(o.code, 1);
}

#[test]
fn replay_scores_and_compares() {
    let root = rlr_tests::root();
    let recipe = root
        .join("recipes/sophiavl_r1.rlr")
        .to_string_lossy()
        .into_owned();
    let rollouts = root
        .join("tests/fixtures/rollouts/sophiavl_r1.jsonl")
        .to_string_lossy()
        .into_owned();
    let args: Vec<String> = ["replay", &recipe, "--rollouts", &rollouts, "--out", "-"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = rlr_cli::run(&args, &mut std::io::empty(), &mut out, &mut err);
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    let out = String::from_utf8_lossy(&out);
    assert_eq!(out.lines().count(), 8, "one line per rollout");
    let first: serde_json::Value =
        serde_json::from_str(out.lines().next().unwrap_or("")).expect("json");
    assert_eq!(first["values"]["outcome"], 1.0);
    // Comparing a recipe with itself finds nothing.
    let args: Vec<String> = [
        "replay",
        &recipe,
        "--rollouts",
        &rollouts,
        "--against",
        &recipe,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(
        rlr_cli::run(&args, &mut std::io::empty(), &mut out, &mut err),
        0
    );
    assert!(String::from_utf8_lossy(&out).contains("no differences"));
}

// ---- diff ------------------------------------------------------------------------------------

#[test]
fn diff_reports_a_threshold_and_an_added_node() {
    const GATED: &str = r#"recipe "gated" { seed = 1 }
model policy = gpt(layers = 2, width = 64, heads = 2)
task  train  = arith(max = 9)
stage rl = grpo(policy, train) {
  reward {
    outcome = exact(answer, sample.answer)
    form    = matches(text, "^[0-9]+$")
    gated   = if outcome >= 0.5 then outcome + form else 0
  }
  optimize gated
}
"#;
    let t = TempDir::new("diff");
    let a = t.write("a.rlr", GATED);
    let b = t.write(
        "b.rlr",
        GATED
            .replace(">= 0.5", ">= 0.7")
            .replace("else 0\n", "else 0\n    _bonus  = 0.1 * form\n"),
    );
    let o = rlr(&["diff", &a, &b]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stderr, "");
    assert_eq!(
        o.stdout,
        "~ stage rl: node gated: if outcome >= 0.5 then outcome + form else 0.0 \
         → if outcome >= 0.7 then outcome + form else 0.0 (0.5 → 0.7)\n\
         + stage rl: node _bonus = 0.1 * form\n\
         + stage rl: edge form -> _bonus\n"
    );
    let o = rlr(&["diff", "--exit-code", &a, &b]);
    assert_eq!(o.code, 1);
    // Formatting and comments are no difference.
    let c = t.write(
        "c.rlr",
        format!(
            "# the same recipe\n{}",
            GATED.replace("  reward {", "\n  reward {  # rewards")
        ),
    );
    let o = rlr(&["diff", "--exit-code", &a, &c]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "no semantic differences\n");
    // Standard input for one side.
    let o = rlr_with_stdin(&["diff", &a, "-"], GATED.as_bytes());
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "no semantic differences\n")
    );
    // A wrong recipe: its diagnostics, exit 1, nothing on standard output.
    let bad = t.write("bad.rlr", GATED.replace("exact(", "exakt("));
    let o = rlr(&["diff", &a, &bad]);
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "");
    assert!(o.stderr.contains("error[E0"), "{}", o.stderr);
    // A folder that is not a run directory says so; `--help` names run directories.
    let o = rlr(&["diff", &a, &t.path("")]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("not a run directory"), "{}", o.stderr);
    let o = rlr(&["diff", "--help"]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("run directories"), "{}", o.stdout);
}

#[test]
fn diff_of_every_pair_of_shipped_recipes() {
    let dir = rlr_tests::root().join("recipes");
    let mut recipes: Vec<String> = fs::read_dir(&dir)
        .expect("recipes/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rlr"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    recipes.sort();
    assert!(recipes.len() >= 8, "{recipes:?}");
    for a in &recipes {
        for b in &recipes {
            let o = rlr(&["diff", "--exit-code", a, b]);
            if a == b {
                assert_eq!(
                    (o.code, o.stdout.as_str()),
                    (0, "no semantic differences\n"),
                    "{a}"
                );
            } else {
                assert_eq!(o.code, 1, "{a} {b}: {}", o.stderr);
                assert!(o.stdout.lines().count() > 1, "{a} {b}: {}", o.stdout);
                assert!(
                    o.stdout
                        .lines()
                        .all(|l| ["+ ", "- ", "~ "].iter().any(|m| l.starts_with(m))),
                    "{a} {b}: {}",
                    o.stdout
                );
            }
        }
    }
}

// ---- sweep -----------------------------------------------------------------------------------

/// The example template, by its absolute path.
fn pearl_gate() -> String {
    rlr_tests::root()
        .join("examples/sweeps/pearl_gate.rlr.j2")
        .to_string_lossy()
        .into_owned()
}

/// Every file of a folder, by name, with its contents.
fn folder(dir: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(dir)
        .expect("folder")
        .filter_map(|e| e.ok())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, read(&e.path().to_string_lossy()))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn sweep_renders_checks_and_writes_every_point() {
    let t = TempDir::new("sweep");
    let out = t.path("out");
    let template = pearl_gate();
    let args = [
        "sweep",
        &template,
        "--grid",
        "gate=0.01,0.05,0.1",
        "--grid",
        "bypass=0.1,0.3",
        "--out",
        &out,
    ];
    let mut checked = args.to_vec();
    checked.push("--check");
    let o = rlr(&checked);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "");
    assert_eq!(
        t.redact(&o.stderr),
        "6 points rendered and checked in [TMP]/out\n"
    );
    let files = folder(&out);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "point-000.rlr",
            "point-001.rlr",
            "point-002.rlr",
            "point-003.rlr",
            "point-004.rlr",
            "point-005.rlr",
            "points.csv"
        ]
    );
    assert_eq!(
        files[6].1,
        "index,gate,bypass,file\n\
         0,0.01,0.1,point-000.rlr\n\
         1,0.01,0.3,point-001.rlr\n\
         2,0.05,0.1,point-002.rlr\n\
         3,0.05,0.3,point-003.rlr\n\
         4,0.1,0.1,point-004.rlr\n\
         5,0.1,0.3,point-005.rlr\n"
    );
    // Point 1 is the paper's setting: the rendered recipe is recipes/pearl.rlr
    // but for its title.
    let pearl = read(
        &rlr_tests::root()
            .join("recipes/pearl.rlr")
            .to_string_lossy(),
    );
    assert_eq!(
        files[1].1,
        pearl.replace("\"PEARL\"", "\"PEARL gate 0.01, bypass 0.3\"")
    );
    assert!(
        files[4]
            .1
            .contains("halt when evidence <= 0.1 unless chance(0.1, per = \"batch\")")
    );
    // Every written point checks on its own.
    let o = rlr(&["check", &t.path("out/point-005.rlr")]);
    assert_eq!(o.code, 0, "{}", o.stderr);

    // Without `--check`: the same files, then the points would run as
    // children of `rlr`, which this in-process harness is not (exit 2;
    // crates/rlr-cli/tests/sweep_runs.rs runs them with the binary).
    let o = rlr(&args);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let stderr = t.redact(&o.stderr);
    let mut lines = stderr.lines();
    assert_eq!(
        lines.next(),
        Some("6 points rendered and checked in [TMP]/out")
    );
    let second = lines.next().unwrap_or_default();
    assert!(
        second.starts_with("error: cannot run the points: this program (")
            && second.ends_with(") is not `rlr`"),
        "{second}"
    );
    assert_eq!(folder(&out), files);

    // A smaller sweep into the same folder leaves only its own points.
    let o = rlr(&[
        "sweep",
        &template,
        "--zip",
        "gate=0.2,0.3",
        "--zip",
        "bypass=0.5,0.6",
        "--out",
        &out,
        "--check",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let files = folder(&out);
    assert_eq!(files.len(), 3);
    assert_eq!(
        files[2].1,
        "index,gate,bypass,file\n0,0.2,0.5,point-000.rlr\n1,0.3,0.6,point-001.rlr\n"
    );
}

#[test]
fn sweep_random_points_are_reproducible() {
    let t = TempDir::new("sweep-random");
    let template = pearl_gate();
    let run = |dir: &str| {
        let out = t.path(dir);
        let o = rlr(&[
            "sweep",
            &template,
            "--grid",
            "gate=0.01,0.02,0.05,0.1",
            "--grid",
            "bypass=0.1,0.2,0.3",
            "--random",
            "5",
            "--seed",
            "11",
            "--out",
            &out,
            "--check",
        ]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        folder(&out)
    };
    let a = run("a");
    assert_eq!(a.len(), 6);
    assert_eq!(a, run("b"));
    let o = rlr(&[
        "sweep",
        &template,
        "--grid",
        "gate=0.01",
        "--random",
        "2",
        "--seed",
        "1",
    ]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("cannot draw 2 random points from a grid of 1"),
        "{}",
        o.stderr
    );
}

#[test]
fn sweep_stops_at_a_bad_point_and_writes_nothing() {
    let t = TempDir::new("sweep-bad");
    let out = t.path("out");
    let template = pearl_gate();
    let o = rlr(&[
        "sweep",
        &template,
        "--grid",
        "gate=0.01,0.05",
        "--grid",
        "bypass=0.3,1.5",
        "--out",
        &out,
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(o.stdout, "");
    let err = o
        .stderr
        .replace(&*rlr_tests::root().to_string_lossy(), "[ROOT]");
    assert!(
        err.contains("error[E0312]: `p` must be [0, 1], but is 1.5"),
        "{err}"
    );
    assert!(
        err.contains("┌─ [ROOT]/examples/sweeps/pearl_gate.rlr.j2 [gate=0.01, bypass=1.5]:51:44"),
        "{err}"
    );
    assert!(
        err.contains("┌─ [ROOT]/examples/sweeps/pearl_gate.rlr.j2:59:3"),
        "{err}"
    );
    assert!(err.contains("rendered from this template line"), "{err}");
    assert!(
        err.contains("error: point 2 of 4 (`[ROOT]/examples/sweeps/pearl_gate.rlr.j2 [gate=0.01, bypass=1.5]`) does not check; nothing was written"),
        "{err}"
    );
    assert!(!Path::new(&out).exists());
}

#[test]
fn sweep_set_overrides_every_point_and_is_checked() {
    let t = TempDir::new("sweep-set");
    let out = t.path("out");
    let template = pearl_gate();
    let sweep = |set: &str| {
        rlr(&[
            "sweep",
            &template,
            "--grid",
            "gate=0.01,0.1",
            "--grid",
            "bypass=0.3",
            "--set",
            set,
            "--set",
            "warmup.steps=5",
            "--out",
            &out,
            "--check",
        ])
    };
    let o = sweep("rl.steps=7");
    assert_eq!(o.code, 0, "{}", o.stderr);
    for (name, text) in folder(&out).iter().filter(|(n, _)| n.ends_with(".rlr")) {
        assert!(text.contains("steps        = 7"), "{name}: {text}");
        assert!(text.contains("steps = 5, batch"), "{name}: {text}");
    }
    let again = t.path("again");
    let o = rlr(&[
        "sweep",
        &template,
        "--grid",
        "gate=0.01",
        "--grid",
        "bypass=0.3",
        "--set",
        "rl.steps=0",
        "--out",
        &again,
        "--check",
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("`steps` must be >= 1, but is 0"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr
            .contains("does not check with the `--set` overrides"),
        "{}",
        o.stderr
    );
    assert!(!Path::new(&again).exists());
}

#[test]
fn undefined_template_variables_are_located() {
    let t = TempDir::new("sweep-undefined");
    let template = pearl_gate();
    let root = rlr_tests::root().to_string_lossy().into_owned();
    // `rlr check` without variables: the first one used is undefined.
    let o = rlr(&["check", &template]);
    assert_eq!(o.code, 1);
    let err = o.stderr.replace(&root, "[ROOT]");
    assert!(
        err.contains("error[E0281]: `gate` is not defined in the template"),
        "{err}"
    );
    assert!(
        err.contains("┌─ [ROOT]/examples/sweeps/pearl_gate.rlr.j2:32:23"),
        "{err}"
    );
    assert!(
        err.ends_with("checked 1 recipe: 1 error, 0 warnings\n"),
        "{err}"
    );
    // A sweep that forgets one.
    let out = t.path("out");
    let o = rlr(&[
        "sweep",
        &template,
        "--grid",
        "gate=0.01,0.05",
        "--out",
        &out,
    ]);
    assert_eq!(o.code, 1);
    let err = o.stderr.replace(&root, "[ROOT]");
    assert!(
        err.contains("error[E0281]: `bypass` is not defined in the template"),
        "{err}"
    );
    assert!(
        err.contains("┌─ [ROOT]/examples/sweeps/pearl_gate.rlr.j2:32:42"),
        "{err}"
    );
    assert!(!Path::new(&out).exists());
    // With every variable, the variant checks.
    let o = rlr(&[
        "check",
        &template,
        "--var",
        "gate=0.01",
        "--var",
        "bypass=0.3",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    // `--var` needs a template.
    let f = t.write("tiny.rlr", TINY);
    let o = rlr(&["check", &f, "--var", "gate=1"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("no file is a template"), "{}", o.stderr);
}

#[test]
fn template_includes_come_from_its_own_folder() {
    let t = TempDir::new("sweep-include");
    t.write(
        "sub/reward.j2",
        "  reward { correct = {{ weight }} * exact(answer, sample.answer) }\n",
    );
    t.write("secret.j2", "x\n");
    let body = TINY.replace(
        "  reward { correct = exact(answer, sample.answer) }\n",
        "{% include \"reward.j2\" %}\n",
    );
    let good = t.write("sub/t.rlr.j2", &body);
    let o = rlr(&["check", &good, "--var", "weight=2"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let bad = t.write("sub/bad.rlr.j2", body.replace("reward.j2", "../secret.j2"));
    let o = rlr(&["check", &bad, "--var", "weight=2"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("error[E0282]: cannot include `../secret.j2`"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("own folder"), "{}", o.stderr);
}

// ---- sample ----------------------------------------------------------------------------------

#[test]
fn sample_prints_problems_as_json_lines() {
    let t = TempDir::new("sample");
    let recipe = t.write("tiny.rlr", TINY);
    let o = rlr(&["sample", &recipe, "-n", "4"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stderr, "");
    let lines: Vec<serde_json::Value> = o
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 4);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["task"], "train");
        assert_eq!(l["split"], "train");
        assert_eq!(l["index"], i);
        let sample = l["sample"].as_object().expect("an object");
        let keys: Vec<&str> = sample.keys().map(String::as_str).collect();
        assert_eq!(keys, ["answer", "prompt", "rephrased"]);
        let answer = sample["answer"].as_str().expect("text");
        let demo = l["demonstration"].as_str().expect("text");
        assert!(demo.ends_with(&format!("\\boxed{{{answer}}}")), "{demo}");
    }
    // the same problems again, and `--from` continues the sequence
    assert_eq!(rlr(&["sample", &recipe, "-n", "4"]).stdout, o.stdout);
    let later = rlr(&["sample", &recipe, "-n", "2", "--from", "2"]);
    let tail: Vec<&str> = o.stdout.lines().skip(2).collect();
    assert_eq!(later.stdout.lines().collect::<Vec<_>>(), tail);
    // held-out problems never appear among training ones
    let train = rlr(&["sample", &recipe, "-n", "200"]).stdout;
    let held = rlr(&["sample", &recipe, "-n", "20", "--split", "heldout"]);
    assert_eq!(held.code, 0, "{}", held.stderr);
    let prompt = |l: &str| -> String {
        let v: serde_json::Value = serde_json::from_str(l).expect("json");
        v["sample"]["prompt"].as_str().unwrap_or("").to_string()
    };
    let train: Vec<String> = train.lines().map(prompt).collect();
    for l in held.stdout.lines() {
        assert!(l.contains("\"split\":\"heldout\""), "{l}");
        assert!(!train.contains(&prompt(l)), "{l}");
    }
}

#[test]
fn sample_picks_a_task_and_reads_data_next_to_the_recipe() {
    let t = TempDir::new("sample-data");
    let data: String = (0..60)
        .map(|i| format!("{{\"prompt\": \"{i}+{i}?\", \"answer\": \"{}\"}}\n", 2 * i))
        .collect();
    t.write("data/qa.jsonl", data);
    let body = TINY.replace(
        "task  train  = arith(max = 9)\n",
        "task  train  = arith(max = 9)\ntask  qa     = jsonl(path = \"data/qa.jsonl\")\n",
    );
    let recipe = t.write("r.rlr", &body);
    let o = rlr(&["sample", &recipe, "--task", "qa", "-n", "1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(o.stdout.trim()).expect("json");
    assert_eq!(v["task"], "qa");
    assert!(v["sample"]["prompt"].is_string(), "{v}");
    // without --task, every task in declaration order
    let o = rlr(&["sample", &recipe, "-n", "1"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let tasks: Vec<String> = o
        .stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            v["task"].as_str().unwrap_or("").to_string()
        })
        .collect();
    assert_eq!(tasks, ["train", "qa"]);
}

#[test]
fn sample_reports_unknown_tasks_bad_arguments_and_wrong_recipes() {
    let t = TempDir::new("sample-errors");
    let recipe = t.write("tiny.rlr", TINY);
    let o = rlr(&["sample", &recipe, "--task", "trainn"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("no task called `trainn`"), "{}", o.stderr);
    assert!(o.stderr.contains("did you mean `train`?"), "{}", o.stderr);
    assert_eq!(o.stdout, "");
    let tiny = t.write(
        "one.rlr",
        TINY.replace("arith(max = 9)", "countdown(numbers = 1, max_target = 1)"),
    );
    let o = rlr(&["sample", &tiny]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("task `train`"), "{}", o.stderr);
    assert!(
        o.stderr.contains("too few distinct problems"),
        "{}",
        o.stderr
    );
    let missing = t.write(
        "missing.rlr",
        TINY.replace("arith(max = 9)", "jsonl(path = \"nope.jsonl\")"),
    );
    let o = rlr(&["sample", &missing]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("nope.jsonl"), "{}", o.stderr);
    let wrong = t.write(
        "wrong.rlr",
        TINY.replace("arith(max = 9)", "arith(max = 0)"),
    );
    let o = rlr(&["sample", &wrong]);
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "");
    let o = rlr(&["sample", &recipe, "--split", "test"]);
    assert_eq!(o.code, 1);
}

/// The samples printed in `book/src/tasks.md` are what `rlr sample` prints today: every
/// "`rlr sample ARGS`:" line is run (from the repository root) and its output compared,
/// as JSON, with the ```json block after it; every built-in task has one.
#[test]
fn book_task_samples_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let page = fs::read_to_string(root.join("book/src/tasks.md")).expect("read tasks.md");
    let mut shown = Vec::new();
    let mut lines = page.lines();
    while let Some(l) = lines.next() {
        let Some(cmd) = l
            .strip_prefix("`rlr sample ")
            .and_then(|c| c.strip_suffix("`:"))
        else {
            continue;
        };
        let block: Vec<&str> = lines
            .by_ref()
            .skip_while(|l| l.trim().is_empty())
            .skip(1)
            .take_while(|l| *l != "```")
            .collect();
        let want: serde_json::Value = serde_json::from_str(&block.join("\n")).expect("json block");
        let mut args: Vec<String> = vec!["sample".to_string()];
        for a in cmd.split_whitespace() {
            args.push(if a.ends_with(".rlr") {
                root.join(a).to_string_lossy().into_owned()
            } else {
                a.to_string()
            });
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = rlr(&args);
        assert_eq!(o.code, 0, "{cmd}: {}", o.stderr);
        let got: serde_json::Value = serde_json::from_str(o.stdout.trim()).expect("one line");
        assert_eq!(got, want, "`rlr sample {cmd}` prints something else now");
        shown.push(cmd.to_string());
    }
    let headings: Vec<&str> = page
        .lines()
        .filter_map(|l| l.strip_prefix("## `").and_then(|h| h.strip_suffix('`')))
        .collect();
    let tasks = rlr_lang::registry::names_in(|c| c == rlr_lang::registry::Category::Task);
    for t in &tasks {
        assert!(
            headings.contains(t),
            "book/src/tasks.md has no section for `{t}`"
        );
    }
    assert_eq!(headings.len(), tasks.len(), "{headings:?}");
    assert_eq!(shown.len(), tasks.len(), "one sample per task: {shown:?}");
}

#[test]
fn every_recipe_and_example_trains_a_few_steps_at_tiny_size() {
    // The library's recipes must run, not only check: two steps of every
    // stage with a one-layer, width-16 model. SmolLM2's recipe has its own
    // test (it needs the model file).
    let t = TempDir::new("tiny-runs");
    let root = rlr_tests::root();
    let mut files: Vec<PathBuf> = ["recipes", "examples"]
        .iter()
        .flat_map(|d| {
            fs::read_dir(root.join(d))
                .expect("folder")
                .filter_map(|e| e.ok())
        })
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rlr"))
        .filter(|p| !p.ends_with("smollm2_arith.rlr"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    for file in files {
        let text = fs::read_to_string(&file).expect("recipe");
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let out = t.path(&name);
        let path = file.to_string_lossy().into_owned();
        let mut args = vec!["run", &path, "--out", &out];
        args.extend_from_slice(rlr_tests::TINY);
        if text.contains("= sft(") {
            args.extend(["--set", "batch=2"]);
        }
        if text
            .lines()
            .any(|l| l.starts_with("stage") && !l.contains("= sft("))
        {
            args.extend(["--set", "prompts=2"]);
        }
        let o = rlr(&args);
        assert_eq!(o.code, 0, "{name}: {}", o.stderr);
        let metrics = fs::read_to_string(Path::new(&out).join("metrics.jsonl")).expect("metrics");
        let lines: Vec<serde_json::Value> = metrics
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert!(!lines.is_empty(), "{name}");
        for line in &lines {
            assert!(
                line["loss"].as_f64().is_some_and(f64::is_finite),
                "{name}: {line}"
            );
            if line.get("reward").is_some() {
                // RL steps log every binding of the reward graph.
                assert!(
                    line["metrics"]["nodes"]
                        .as_object()
                        .is_some_and(|n| !n.is_empty()),
                    "{name}: {line}"
                );
            }
        }
    }
}

#[test]
fn a_reduction_of_a_branch_expression_written_inline_equals_the_named_one() {
    // `mean(length_of(refs.text))` inside a main-set binding once read the
    // branch's values against the main rollouts' layout and gave NaN.
    let t = TempDir::new("inline-branch");
    let recipe = t.write(
        "r.rlr",
        r#"recipe "t" { seed = 1 }
model policy = gpt(layers = 1, width = 16, heads = 2, tokenizer = "char")
task  train  = arith(max = 20)
stage rl = grpo(policy, train) {
  steps      = 1
  prompts    = 2
  group      = 2
  max_tokens = 8
  branch refs = rollout(sample.prompt, n = 3)
  reward {
    lengths = length_of(refs.text)
    scores  = judge.reward_model(refs.text, sample)
    named   = mean(lengths) + mean(scores)
    inline  = mean(length_of(refs.text)) + mean(judge.reward_model(refs.text, sample))
    total   = judge.reward_model(text, sample) + 0 * (named + inline)
  }
  optimize total
}
"#,
    );
    let out = t.path("run");
    let o = rlr(&["run", &recipe, "--out", &out]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let metrics = fs::read_to_string(Path::new(&out).join("metrics.jsonl")).expect("metrics");
    let line: serde_json::Value =
        serde_json::from_str(metrics.lines().last().unwrap_or("{}")).expect("a JSON line");
    let nodes = &line["metrics"]["nodes"];
    let (named, inline) = (&nodes["named"]["mean"], &nodes["inline"]["mean"]);
    assert!(named.as_f64().is_some_and(f64::is_finite), "{nodes}");
    assert_eq!(named, inline, "{nodes}");
}
