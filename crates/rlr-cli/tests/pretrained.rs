//! `rlr run` and `rlr bench` on `recipes/smollm2_arith.rlr` without its
//! model: an unset `SMOLLM2_GGUF`, a missing file and a malformed one are
//! each one error line naming the model and the path, exit code 2 (run) or
//! 1 (bench), no panic, and no run directory. `rlr check` needs no file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn recipe() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes/smollm2_arith.rlr")
}

fn rlr(gguf: Option<&Path>, args: &[&str], out: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rlr"));
    cmd.env_remove("SMOLLM2_GGUF");
    if let Some(g) = gguf {
        cmd.env("SMOLLM2_GGUF", g);
    }
    cmd.args(args)
        .arg(recipe())
        .args(["--set", "steps=3", "--out"])
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("running rlr: {e}"))
}

#[test]
fn smollm2s_recipe_without_its_model_fails_with_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("rlr-pretrained-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let junk = dir.join("junk.gguf");
    std::fs::write(&junk, b"not a model").unwrap_or_else(|e| panic!("{e}"));
    let missing = dir.join("missing.gguf");
    let out = dir.join("run");
    let cases: [(Option<&Path>, &str); 3] = [
        (None, "the environment variable SMOLLM2_GGUF is not set"),
        (Some(&missing), "no such file or folder"),
        (Some(&junk), "not a GGUF file"),
    ];
    for (gguf, why) in cases {
        let o = rlr(gguf, &["run"], &out);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{gguf:?}: {stderr}");
        assert!(
            stderr.contains("model `policy`") && stderr.contains("$SMOLLM2_GGUF"),
            "{gguf:?}: {stderr}"
        );
        assert!(stderr.contains(why), "{gguf:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        // The model is built before the run directory is made.
        assert!(!out.exists(), "{gguf:?}: {} was created", out.display());
    }
    // `rlr bench` reports the same error as a bad input.
    let mut bench = Command::new(env!("CARGO_BIN_EXE_rlr"));
    let o = bench
        .env_remove("SMOLLM2_GGUF")
        .arg("bench")
        .arg(recipe())
        .output()
        .unwrap_or_else(|e| panic!("running rlr: {e}"));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("SMOLLM2_GGUF is not set"), "{stderr}");
    // Checking needs no file.
    let o = Command::new(env!("CARGO_BIN_EXE_rlr"))
        .env_remove("SMOLLM2_GGUF")
        .arg("check")
        .arg(recipe())
        .output()
        .unwrap_or_else(|e| panic!("running rlr: {e}"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}
