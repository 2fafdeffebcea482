//! ASFT has no reward: its method is the loss, DFT's probability-weighted
//! cross-entropy plus λ times a full-vocabulary KL to the model as the stage
//! began. The loss is all a run reports of it, so the test compares the
//! logged losses of variants that differ in one term.

use super::*;

/// The `tune` stage's loss at its two steps, with `sets` applied (and a
/// learning rate large enough that one step moves the policy measurably).
fn tune_losses(variant: &str, sets: &[&str]) -> [f64; 2] {
    let dir =
        std::env::temp_dir().join(format!("rlr-methods-{}-asft-{variant}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let out = dir.to_string_lossy().into_owned();
    let path = rlr_tests::root()
        .join("recipes/asft.rlr")
        .to_string_lossy()
        .into_owned();
    let mut args = vec!["run", &path, "--out", &out];
    args.extend_from_slice(rlr_tests::TINY);
    args.extend(["--set", "batch=2", "--set", "tune.lr=3e-2"]);
    args.extend_from_slice(sets);
    rlr(&args);
    let metrics = fs::read_to_string(dir.join("metrics.jsonl")).expect("metrics");
    let losses: Vec<f64> = metrics
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["stage"] == "tune")
        .filter_map(|m| m["loss"].as_f64())
        .collect();
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(losses.len(), 2, "{losses:?}");
    [losses[0], losses[1]]
}

#[test]
fn asft_weights_tokens_by_their_probability_and_adds_lambda_times_the_kl() {
    let plain = tune_losses(
        "sft",
        &["--set", "tune.weighting=\"none\"", "--set", "tune.kl=0"],
    );
    let dft = tune_losses(
        "dft",
        &["--set", "tune.weighting=\"dft\"", "--set", "tune.kl=0"],
    );
    let asft = tune_losses("asft", &[]);
    let doubled = tune_losses("asft2", &["--set", "tune.kl=0.2"]);
    // Step 1 sees the same model and batch in every variant. The anchor is
    // the policy itself, so the KL is 0 and ASFT's loss is DFT's.
    assert!((asft[0] - dft[0]).abs() < 1e-9 && (doubled[0] - dft[0]).abs() < 1e-9);
    // DFT's loss is the token mean of p·(−log p). A tiny model is near
    // uniform, so every p is about e^(−L) with L the plain loss: about
    // L·e^(−L), far from L itself.
    let l = plain[0];
    assert!(
        (dft[0] - l * (-l).exp()).abs() < 0.01 * dft[0],
        "DFT {} vs L e^-L {}",
        dft[0],
        l * (-l).exp()
    );
    // The KL's gradient is 0 at the anchor, so after step 1 the three
    // weighted variants hold the same policy; their step-2 losses differ by
    // λ·KL alone: positive, and twice as much for λ = 0.2 as for λ = 0.1.
    let (gap, gap2) = (asft[1] - dft[1], doubled[1] - dft[1]);
    assert!(gap > 1e-4, "λ·KL = {gap}");
    assert!((gap2 / gap - 2.0).abs() < 1e-3, "{gap2} / {gap}");
}
