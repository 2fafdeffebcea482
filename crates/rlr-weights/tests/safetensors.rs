//! The Hugging Face directory loader on files written here with the
//! `safetensors` crate's serializer, and agreement with the GGUF path.

mod common;

use std::path::Path;

use common::*;
use rlr_weights::gguf::Gguf;
use rlr_weights::llama::weights_from_gguf;
use rlr_weights::safetensors::{load_dir, weights_from_safetensors};
use rlr_weights::{LlamaConfig, Location};
use safetensors::tensor::{Dtype, TensorView};

fn config_json(tied: bool) -> String {
    serde_json::json!({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
        "vocab_size": VOCAB, "hidden_size": HIDDEN, "intermediate_size": FFN,
        "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS,
        "rope_theta": 100000, "rms_norm_eps": 1e-5, "max_position_embeddings": 128,
        "tie_word_embeddings": tied, "bos_token_id": 1, "eos_token_id": 2,
        "rope_scaling": null, "attention_bias": false, "torch_dtype": "bfloat16",
    })
    .to_string()
}

/// The tiny model's tensors as safetensors bytes, cycling F32, F16, BF16,
/// with `edit` applied to the (name, shape, dtype, values) list first.
fn safetensors_bytes(
    tied: bool,
    edit: impl Fn(&mut Vec<(String, Vec<usize>, Dtype, Vec<f32>)>),
) -> Vec<u8> {
    let dtypes = [Dtype::F32, Dtype::F16, Dtype::BF16];
    let mut list: Vec<_> = tiny_tensors(tied)
        .into_iter()
        .enumerate()
        .map(|(i, (n, s, _, d))| (n, s, dtypes[i % 3], d))
        .collect();
    edit(&mut list);
    let raw: Vec<(String, Vec<usize>, Dtype, Vec<u8>)> = list
        .into_iter()
        .map(|(n, s, dt, d)| {
            let b = match dt {
                Dtype::F16 => f16_bytes(&d),
                Dtype::BF16 => bf16_bytes(&d),
                Dtype::I32 => d.iter().flat_map(|&x| (x as i32).to_le_bytes()).collect(),
                _ => f32_bytes(&d),
            };
            (n, s, dt, b)
        })
        .collect();
    let views: Vec<(String, TensorView<'_>)> = raw
        .iter()
        .map(|(n, s, dt, b)| {
            (
                n.clone(),
                TensorView::new(*dt, s.clone(), b).unwrap_or_else(|e| panic!("{n}: {e}")),
            )
        })
        .collect();
    safetensors::serialize(views, None).unwrap_or_else(|e| panic!("{e}"))
}

fn write_dir(name: &str, tied: bool, st: &[u8]) -> std::path::PathBuf {
    let dir = scratch(name);
    let write = |p: &Path, b: &[u8]| {
        std::fs::write(p, b).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    write(&dir.join("config.json"), config_json(tied).as_bytes());
    write(&dir.join("model.safetensors"), st);
    dir
}

#[test]
fn a_model_directory_loads_with_every_float_dtype() {
    for tied in [true, false] {
        let dir = write_dir(
            &format!("st_ok_{tied}"),
            tied,
            &safetensors_bytes(tied, |_| {}),
        );
        let w = load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.config.tie_word_embeddings, tied);
        assert_eq!((w.config.head_dim, w.config.rms_norm_eps), (HEAD_DIM, 1e-5));
        for (name, shape, _, data) in tiny_tensors(tied) {
            let t = w.get(&name).unwrap_or_else(|| panic!("missing {name}"));
            assert_eq!(t.shape, shape, "{name}");
            assert!(t.data == data, "{name}: values differ");
        }
        w.validate().unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn gguf_and_safetensors_give_the_same_weights() {
    let g = Gguf::from_bytes(tiny_gguf(false).bytes()).unwrap_or_else(|e| panic!("{e}"));
    let from_gguf = weights_from_gguf(&g).unwrap_or_else(|e| panic!("{e}"));
    let config = LlamaConfig::from_hf_json(&config_json(false)).unwrap_or_else(|e| panic!("{e}"));
    let from_st = weights_from_safetensors(config, &safetensors_bytes(false, |_| {}))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(from_gguf == from_st, "the two loaders disagree");
}

#[test]
fn a_tied_models_redundant_head_is_dropped() {
    let st = safetensors_bytes(true, |l| {
        l.push((
            "lm_head.weight".into(),
            vec![VOCAB, HIDDEN],
            Dtype::F32,
            vec![0.0; VOCAB * HIDDEN],
        ));
    });
    let config = LlamaConfig::from_hf_json(&config_json(true)).unwrap_or_else(|e| panic!("{e}"));
    let w = weights_from_safetensors(config, &st).unwrap_or_else(|e| panic!("{e}"));
    assert!(w.get("lm_head.weight").is_none());
}

#[test]
fn every_missing_or_misshaped_tensor_is_reported_at_once() {
    let st = safetensors_bytes(false, |l| {
        l.retain(|t| t.0 != "model.layers.0.mlp.up_proj.weight" && t.0 != "lm_head.weight");
        for t in l.iter_mut() {
            if t.0 == "model.norm.weight" {
                t.1 = vec![HIDDEN / 2];
                t.3.truncate(HIDDEN / 2);
            }
        }
        l.push((
            "model.layers.0.self_attn.q_proj.bias".into(),
            vec![HIDDEN],
            Dtype::F32,
            vec![0.0; HIDDEN],
        ));
    });
    let dir = write_dir("st_bad_shapes", false, &st);
    let e = load_dir(&dir).err().unwrap_or_else(|| panic!("accepted"));
    assert_eq!(e.path, Some(dir.join("model.safetensors")));
    let Location::Tensors(names) = &e.location else {
        panic!("{e:?}")
    };
    assert_eq!(
        names,
        &[
            "model.layers.0.mlp.up_proj.weight",
            "model.norm.weight",
            "lm_head.weight",
            "model.layers.0.self_attn.q_proj.bias"
        ]
    );
    assert!(
        e.message
            .contains("`model.norm.weight` has shape [16], expected [32]"),
        "{e}"
    );
    assert!(
        e.message
            .contains("unexpected `model.layers.0.self_attn.q_proj.bias`"),
        "{e}"
    );
}

#[test]
fn unsupported_dtypes_and_bad_files() {
    let st = safetensors_bytes(true, |l| l[1].2 = Dtype::I32);
    let config = LlamaConfig::from_hf_json(&config_json(true)).unwrap_or_else(|e| panic!("{e}"));
    let e = weights_from_safetensors(config.clone(), &st)
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert!(e.message.contains("is I32"), "{e}");
    let e = weights_from_safetensors(config.clone(), b"not a file")
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert!(e.message.contains("not a valid safetensors file"), "{e}");
    let good = safetensors_bytes(true, |_| {});
    for n in (0..good.len()).step_by(7) {
        assert!(
            weights_from_safetensors(config.clone(), &good[..n]).is_err(),
            "truncated to {n}"
        );
    }
    let dir = scratch("st_no_config");
    let e = load_dir(&dir).err().unwrap_or_else(|| panic!("accepted"));
    assert_eq!(
        (e.location, e.path),
        (Location::File, Some(dir.join("config.json")))
    );
    let dir = scratch("st_bad_config");
    std::fs::write(
        dir.join("config.json"),
        config_json(true).replace("\"llama\"", "\"mistral\""),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let e = load_dir(&dir).err().unwrap_or_else(|| panic!("accepted"));
    assert_eq!(e.location, Location::Key("model_type".into()));
}
