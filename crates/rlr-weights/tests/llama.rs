//! A tiny synthetic Llama GGUF (every supported type, llama.cpp's q/k
//! permutation applied by the test writer) read back as Hugging Face
//! weights and tokenizer.json.

mod common;

use common::*;
use rlr_weights::gguf::Gguf;
use rlr_weights::llama::{expected_shapes, weights_from_gguf};
use rlr_weights::vocab::Vocab;
use rlr_weights::{Location, Weights};

fn load(w: &Writer) -> Result<Weights, rlr_weights::Error> {
    let g = Gguf::from_bytes(w.bytes()).unwrap_or_else(|e| panic!("{e}"));
    weights_from_gguf(&g)
}

#[test]
fn tiny_model_reads_back_exactly_in_hf_layout() {
    for tied in [true, false] {
        let w = load(&tiny_gguf(tied)).unwrap_or_else(|e| panic!("{e}"));
        let c = &w.config;
        assert_eq!(
            (
                c.vocab_size,
                c.hidden_size,
                c.intermediate_size,
                c.num_hidden_layers
            ),
            (VOCAB, HIDDEN, FFN, LAYERS)
        );
        assert_eq!(
            (c.num_attention_heads, c.num_key_value_heads, c.head_dim),
            (HEADS, KV_HEADS, HEAD_DIM)
        );
        assert_eq!((c.rope_theta, c.rms_norm_eps), (100_000.0, 1e-5));
        assert_eq!(c.max_position_embeddings, 128);
        assert_eq!(c.tie_word_embeddings, tied);
        assert_eq!((c.bos_token_id, c.eos_token_id), (Some(1), Some(2)));
        let want = tiny_tensors(tied);
        assert_eq!(w.tensors.len(), want.len());
        for (name, shape, _, data) in &want {
            let t = w.get(name).unwrap_or_else(|| panic!("missing {name}"));
            assert_eq!(&t.shape, shape, "{name}");
            assert!(&t.data == data, "{name}: values differ");
        }
        w.validate().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Some(w.parameter_count()), c.parameter_count());
        let names: Vec<String> = expected_shapes(c).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), want.len());
        assert_eq!(names.contains(&"lm_head.weight".to_string()), !tied);
    }
}

#[test]
fn q_and_k_rows_come_back_in_rotate_half_order() {
    // A q_proj whose row r is all r: after un-permuting, HF row r of a head
    // (r < hd/2) is GGUF row 2r, and row hd/2 + r is GGUF row 2r + 1.
    let hf_rows: Vec<f32> = (0..HEADS * HEAD_DIM)
        .flat_map(|r| std::iter::repeat_n(r as f32 / 8.0, HIDDEN))
        .collect();
    let gguf_rows = llama_cpp_permute(&hf_rows, HEADS, HIDDEN);
    for h in 0..HEADS {
        for i in 0..HEAD_DIM / 2 {
            let row = |r: usize| gguf_rows[r * HIDDEN];
            assert_eq!(row(h * HEAD_DIM + 2 * i), (h * HEAD_DIM + i) as f32 / 8.0);
            assert_eq!(
                row(h * HEAD_DIM + 2 * i + 1),
                (h * HEAD_DIM + HEAD_DIM / 2 + i) as f32 / 8.0
            );
        }
    }
    let mut w = tiny_gguf(true);
    let q = w
        .tensors
        .iter_mut()
        .find(|t| t.name == "blk.0.attn_q.weight")
        .unwrap_or_else(|| panic!("no q"));
    q.ty = F32;
    q.data = f32_bytes(&gguf_rows);
    let weights = load(&w).unwrap_or_else(|e| panic!("{e}"));
    let got = &weights.tensors["model.layers.0.self_attn.q_proj.weight"].data;
    assert!(got == &hf_rows, "q_proj rows were not restored");
}

#[test]
fn unknown_missing_and_misshaped_tensors_are_all_reported() {
    let w = tiny_gguf(true).tensor("rope_freqs.weight", &[8], F32, f32_bytes(&[1.0; 8]));
    let e = load(&w).err().unwrap_or_else(|| panic!("accepted"));
    assert_eq!(
        e.location,
        Location::Tensors(vec!["rope_freqs.weight".into()])
    );

    let mut w = tiny_gguf(true);
    w.tensors
        .retain(|t| t.name != "blk.1.ffn_up.weight" && t.name != "output_norm.weight");
    let v = w
        .tensors
        .iter_mut()
        .find(|t| t.name == "blk.0.attn_v.weight")
        .unwrap_or_else(|| panic!("no v"));
    v.dims = vec![HIDDEN as u64, 2 * HEAD_DIM as u64];
    v.data = f16_bytes(&vec![0.0; HIDDEN * 2 * HEAD_DIM]);
    let e = load(&w).err().unwrap_or_else(|| panic!("accepted"));
    let Location::Tensors(names) = &e.location else {
        panic!("{e:?}")
    };
    assert_eq!(names.len(), 3, "{e}");
    assert!(e.message.starts_with("3 tensor problems"), "{e}");
    assert!(
        e.message
            .contains("missing `model.layers.1.mlp.up_proj.weight`"),
        "{e}"
    );
    assert!(e.message.contains("missing `model.norm.weight`"), "{e}");
    assert!(
        e.message.contains(
            "`model.layers.0.self_attn.v_proj.weight` has shape [32, 32], expected [16, 32]"
        ),
        "{e}"
    );
}

#[test]
fn config_errors_name_the_key() {
    let mut w = tiny_gguf(true);
    w.kv.retain(|(k, _)| k != "llama.block_count");
    let e = load(&w).err().unwrap_or_else(|| panic!("accepted"));
    assert_eq!(e.location, Location::Key("llama.block_count".into()));

    let mut w = tiny_gguf(true);
    w.kv[0].1 = W::Str("gpt2".into());
    let e = load(&w).err().unwrap_or_else(|| panic!("accepted"));
    assert_eq!(e.location, Location::Key("general.architecture".into()));

    let w = tiny_gguf(true).kv("llama.rope.scaling.type", W::Str("yarn".into()));
    let e = load(&w).err().unwrap_or_else(|| panic!("accepted"));
    assert!(e.message.contains("yarn"), "{e}");

    // A layer count beyond the tensors is refused before names are listed.
    let mut w = tiny_gguf(true);
    for (k, v) in &mut w.kv {
        if k == "llama.block_count" {
            *v = W::U64(1 << 40);
        }
    }
    let e = load(&w).err().unwrap_or_else(|| panic!("accepted"));
    assert!(e.message.contains("only 20 tensors"), "{e}");

    let mut w = tiny_gguf(true);
    w.tensors.iter_mut().for_each(|t| {
        if t.name == "blk.0.attn_q.weight" {
            t.ty = Q4_K;
            t.dims = vec![256, 4];
            t.data = vec![0; 4 * 144];
        }
    });
    let e = load(&w).err().unwrap_or_else(|| panic!("accepted"));
    assert!(e.message.contains("has shape [4, 256]"), "{e}");
}

#[test]
fn an_unsupported_tensor_type_names_tensor_and_type() {
    // Right shape, unsupported type: the error comes from dequantisation.
    let mut w = tiny_gguf(true);
    w.tensors.iter_mut().for_each(|t| {
        if t.name == "blk.1.ffn_gate.weight" {
            t.ty = 2; // Q4_0: 18-byte blocks of 32
            t.data = vec![0; FFN * HIDDEN / 32 * 18];
        }
    });
    let e = load(&w).err().unwrap_or_else(|| panic!("accepted"));
    assert_eq!(e.location, Location::Tensor("blk.1.ffn_gate.weight".into()));
    assert!(e.message.contains("Q4_0"), "{e}");
}

#[test]
fn tokenizer_json_from_the_gguf() {
    let g = Gguf::from_bytes(tiny_gguf(true).bytes()).unwrap_or_else(|e| panic!("{e}"));
    let v = Vocab::from_gguf(&g).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (v.bos_token_id, v.eos_token_id, v.pad_token_id),
        (Some(1), Some(2), Some(2))
    );
    assert!(
        v.chat_template
            .as_deref()
            .is_some_and(|t| t.contains("<|im_start|>"))
    );
    assert_eq!(v.token(8), Some("Ġa"));
    let j = v.tokenizer_json().unwrap_or_else(|e| panic!("{e}"));
    let vocab = j["model"]["vocab"]
        .as_object()
        .unwrap_or_else(|| panic!("no vocab"));
    assert_eq!(vocab.len(), VOCAB);
    assert_eq!(vocab["Ġab"], 9);
    assert_eq!(j["model"]["type"], "BPE");
    assert_eq!(
        j["model"]["merges"],
        serde_json::json!([["a", "b"], ["Ġ", "a"], ["Ġa", "b"], ["ab", "c"]])
    );
    let added = j["added_tokens"]
        .as_array()
        .unwrap_or_else(|| panic!("no added tokens"));
    let summary: Vec<(u64, &str, bool)> = added
        .iter()
        .map(|a| {
            (
                a["id"].as_u64().unwrap_or(99),
                a["content"].as_str().unwrap_or(""),
                a["special"] == true,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (0, "<|endoftext|>", true),
            (1, "<|im_start|>", true),
            (2, "<|im_end|>", true),
            (14, "<extra>", false)
        ]
    );
    assert_eq!(
        j["pre_tokenizer"],
        serde_json::json!({"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": true},
            {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
        ]})
    );
    assert_eq!(j["decoder"]["type"], "ByteLevel");
    assert_eq!(j["post_processor"]["type"], "ByteLevel");
    assert!(j["normalizer"].is_null());
    let text = v.tokenizer_json_string().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).ok(),
        Some(j)
    );
}

#[test]
fn tokenizer_errors() {
    let vocab = |w: Writer| {
        let g = Gguf::from_bytes(w.bytes()).unwrap_or_else(|e| panic!("{e}"));
        Vocab::from_gguf(&g).and_then(|v| v.tokenizer_json())
    };
    let set = |key: &str, value: W| {
        let mut w = tiny_gguf(true);
        for (k, v) in &mut w.kv {
            if k == key {
                *v = value.clone();
            }
        }
        w
    };
    let e = vocab(set("tokenizer.ggml.pre", W::Str("llama-bpe".into())))
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert!(e.message.contains("`llama-bpe` is not supported"), "{e}");
    let e = vocab(set("tokenizer.ggml.model", W::Str("llama".into())))
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert_eq!(e.location, Location::Key("tokenizer.ggml.model".into()));
    let mut dup = TOKENS;
    dup[15] = "a";
    let e = vocab(set("tokenizer.ggml.tokens", W::strs(&dup)))
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert!(e.message.contains("token 15 `a` repeats token 3"), "{e}");
    let e = vocab(set("tokenizer.ggml.merges", W::strs(&["a b", "b c"])))
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert!(
        e.message
            .contains("merge 1 `b c`: `bc` is not in the vocabulary"),
        "{e}"
    );
    let e = vocab(set("tokenizer.ggml.merges", W::strs(&["ab"])))
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert!(e.message.contains("separated by a space"), "{e}");
    let e = vocab(set("tokenizer.ggml.eos_token_id", W::U32(16)))
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert_eq!(
        e.location,
        Location::Key("tokenizer.ggml.eos_token_id".into())
    );
    let e = vocab(set("tokenizer.ggml.token_type", W::Arr(5, vec![W::I32(1)])))
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert!(e.message.contains("1 types for 16 tokens"), "{e}");
}
