//! The policy behind one interface: the same logits as the model it wraps
//! (with and without the cache), sizes that count the parameters Burn
//! builds, checkpoints that refuse the other kind, and building from
//! declarations, with the errors of missing and malformed files.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;

use super::*;
use crate::backend;
use crate::model::{GptSpec, attention_mask};
use crate::testkit::{max_abs_diff, random_weights, tiny_bpe, tiny_llama_config, tokens};

fn ok<T>(r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn gpt(seed: u64) -> Gpt {
    backend::seeded(&backend::plain(), seed, |d| GptSpec::tiny(37).init(d))
}

fn llama(tied: bool) -> Llama {
    ok(Llama::from_weights(
        &random_weights(tiny_llama_config(tied), 4),
        &backend::plain(),
    ))
}

/// A forward pass: ids, mask, cache to logits.
type Forward<'a> = &'a dyn Fn(Tensor<2, Int>, Tensor<3, Bool>, Option<&mut KvCache>) -> Tensor<3>;

/// Full logits, then the same sequence fed as a prefix and single steps.
fn full_and_cached(forward: Forward<'_>) -> (Tensor<3>, Tensor<3>) {
    let device = backend::plain();
    let row = vec![1i64, 5, 6, 7, 8];
    let full = forward(
        tokens(std::slice::from_ref(&row), &device),
        attention_mask(&[vec![false; 5]], 5, &device),
        None,
    );
    let mut cache = KvCache::new();
    let mut parts = vec![forward(
        tokens(&[row[..3].to_vec()], &device),
        attention_mask(&[vec![false; 3]], 3, &device),
        Some(&mut cache),
    )];
    for (t, &id) in row.iter().enumerate().skip(3) {
        parts.push(forward(
            tokens(&[vec![id]], &device),
            attention_mask(&[vec![false; t + 1]], 1, &device),
            Some(&mut cache),
        ));
    }
    (full, Tensor::cat(parts, 1))
}

#[test]
fn the_policy_gives_exactly_the_logits_of_the_model_it_wraps() {
    let g = gpt(3);
    let p = Policy::Gpt(g.clone());
    let (direct, _) = full_and_cached(&|t, m, c| g.forward(t, m, c));
    let (wrapped, cached) = full_and_cached(&|t, m, c| p.forward(t, m, c));
    assert_eq!(max_abs_diff(direct, wrapped.clone()), 0.0);
    assert!(max_abs_diff(wrapped, cached) < 1e-4);

    let l = llama(true);
    let p = Policy::Llama(l.clone());
    let (direct, _) = full_and_cached(&|t, m, c| l.forward(t, m, c));
    let (wrapped, cached) = full_and_cached(&|t, m, c| p.forward(t, m, c));
    assert_eq!(max_abs_diff(direct, wrapped.clone()), 0.0);
    assert!(max_abs_diff(wrapped, cached) < 1e-4);
    assert_eq!((p.context(), Policy::Gpt(g).context()), (64, 32));
}

#[test]
fn sizes_count_exactly_the_parameters_burn_builds() {
    let spec = GptSpec {
        mlp_ratio: 3,
        ..GptSpec::tiny(11)
    };
    let g = Policy::Gpt(backend::seeded(&backend::plain(), 1, |d| spec.init(d)));
    let d = g.dims();
    assert_eq!(
        (
            d.layers, d.width, d.heads, d.kv_heads, d.head_dim, d.hidden, d.vocab
        ),
        (2, 16, 2, 2, 8, 48, 11)
    );
    assert_eq!(d.parameters(), g.num_params());
    for tied in [true, false] {
        let l = Policy::Llama(llama(tied));
        let d = l.dims();
        assert_eq!(
            (d.layers, d.width, d.heads, d.kv_heads, d.head_dim, d.hidden),
            (2, 24, 4, 2, 8, 40)
        );
        assert_eq!(d.tied, tied);
        assert_eq!(d.parameters(), l.num_params(), "tied = {tied}");
        assert!(
            l.describe().contains("heads = 4 (2 key/value)"),
            "{}",
            l.describe()
        );
    }
    // Grouped-query attention costs less than full attention of the same width.
    let mut full = Policy::Llama(llama(true)).dims();
    let gqa = full.forward_flops(10);
    full.kv_heads = full.heads;
    assert!(full.forward_flops(10) > gqa);
}

#[test]
fn a_checkpoint_of_one_kind_does_not_load_into_the_other() {
    let record = Policy::Llama(llama(true)).into_record();
    let e = crate::checkpoint::restore(Policy::Gpt(gpt(1)), record, "model `policy`")
        .err()
        .unwrap_or_default();
    assert!(e.contains("does not fit"), "{e}");
    // The same kind round-trips.
    let a = Policy::Gpt(gpt(1));
    let b = ok(crate::checkpoint::restore(
        Policy::Gpt(gpt(2)),
        a.clone().into_record(),
        "model",
    ));
    let (x, _) = full_and_cached(&|t, m, c| a.forward(t, m, c));
    let (y, _) = full_and_cached(&|t, m, c| b.forward(t, m, c));
    assert_eq!(max_abs_diff(x, y), 0.0);
}

/// A fresh folder under the system temp dir, unique to this test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rlr-policy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    ok(std::fs::create_dir_all(&dir).map_err(|e| e.to_string()));
    dir
}

fn decl(text: &str) -> rlr_lang::ir::Decl {
    let recipe = format!(
        "recipe \"t\" {{ seed = 1 }}\n{text}\ntask train = arith(max = 9)\nstage s = sft(policy, train, steps = 1)\n"
    );
    let c = rlr_lang::compile("t.rlr", &recipe, &mut rlr_lang::NoImports);
    let program = c.program.unwrap_or_else(|| panic!("{:?}", c.diagnostics));
    ok(declared_model(&program, "policy")).clone()
}

fn build_in(dir: &Path, text: &str) -> Result<Built, String> {
    let locate = |p: &str| dir.join(p);
    build(&decl(text), 1, &backend::device(), &locate)
}

#[test]
fn the_built_in_model_is_built_over_the_char_vocabulary_or_a_tokenizer_json() {
    let dir = scratch("gpt");
    let b = ok(build_in(
        &dir,
        "model policy = gpt(layers = 1, width = 16, heads = 2)",
    ));
    assert!(b.vocab.is_char() && b.files.is_empty());
    assert_eq!(b.policy.dims().vocab, 99);

    let json = ok(tiny_bpe()
        .tokenizer_json_string()
        .map_err(|e| e.to_string()));
    ok(std::fs::create_dir_all(dir.join("tok")).map_err(|e| e.to_string()));
    ok(std::fs::write(dir.join("tok/tokenizer.json"), &json).map_err(|e| e.to_string()));
    // Relative to the recipe's folder (what `locate` gives).
    let b = ok(build_in(
        &dir,
        "model policy = gpt(layers = 1, width = 16, heads = 2, tokenizer = \"tok/tokenizer.json\")",
    ));
    let n = 263;
    assert_eq!((b.vocab.size(), b.policy.dims().vocab), (n + 3, n + 3));
    assert_eq!(b.files.len(), 1);
    assert_eq!(b.files[0].0, "model `policy`: tok/tokenizer.json");
    assert_eq!(b.files[0].1, crate::manifest::sha256(json.as_bytes()));

    let e = build_in(
        &dir,
        "model policy = gpt(layers = 1, width = 16, heads = 2, tokenizer = \"byte\")",
    )
    .err()
    .unwrap_or_default();
    assert!(e.contains("\"byte\" tokenizer is not in the engine"), "{e}");
    let e = build_in(
        &dir,
        "model policy = gpt(layers = 1, width = 16, heads = 2, tokenizer = \"nope.json\")",
    )
    .err()
    .unwrap_or_default();
    assert!(
        e.contains("model `policy`") && e.contains("nope.json") && e.contains("no such file"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_unset_and_malformed_model_files_are_errors_naming_model_and_path() {
    let dir = scratch("load");
    let e = build_in(&dir, "model policy = load(\"missing.gguf\")")
        .err()
        .unwrap_or_default();
    assert!(
        e.starts_with("model `policy`: path `missing.gguf`") && e.contains("no such file"),
        "{e}"
    );
    // A variable nobody sets.
    let e = build_in(&dir, "model policy = load(\"$RLR_TEST_UNSET_MODEL_PATH\")")
        .err()
        .unwrap_or_default();
    assert!(
        e.contains("model `policy`") && e.contains("RLR_TEST_UNSET_MODEL_PATH is not set"),
        "{e}"
    );
    ok(std::fs::write(dir.join("junk.gguf"), b"not a model").map_err(|e| e.to_string()));
    let e = build_in(&dir, "model policy = load(\"junk.gguf\")")
        .err()
        .unwrap_or_default();
    assert!(
        e.contains("model `policy`") && e.contains("junk.gguf") && e.contains("GGUF"),
        "{e}"
    );
    // A folder without config.json.
    let e = build_in(&dir, &format!("model policy = load(\"{}\")", dir.display()))
        .err()
        .unwrap_or_default();
    assert!(e.contains("config.json"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
