//! A tiny byte-level BPE vocabulary in GGUF form (rebuilt into a
//! tokenizer.json by rlr-weights), read directly, from a file and from a
//! model directory; the errors of bad inputs. The real SmolLM2 tokenizer is
//! checked in `llama/golden.rs`.

use std::path::PathBuf;

use super::*;
use crate::testkit::{TINY_TEMPLATE as TEMPLATE, tiny_bpe as tiny_vocab};

fn ok<T>(r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// A fresh directory under the system temp dir, unique to this test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rlr-hf-tok-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    ok(std::fs::create_dir_all(&dir).map_err(|e| e.to_string()));
    dir
}

#[test]
fn encodes_decodes_and_knows_its_special_tokens() {
    let vocab = tiny_vocab();
    let tok = ok(HfTokenizer::from_vocab(&vocab));
    let id = |t: &str| tok.token_to_id(t).unwrap_or_else(|| panic!("no `{t}`"));
    // "hello world": merges give `hell` `o` `Ġw` `o` `r` `l` `d`.
    let ids = ok(tok.encode("hello world"));
    let want: Vec<u32> = ["hell", "o", "Ġw", "o", "r", "l", "d"].map(id).to_vec();
    assert_eq!(ids, want);
    assert_eq!(ok(tok.decode(&ids, false)), "hello world");
    // Special strings inside text are single ids, skipped on request.
    let ids = ok(tok.encode("<|im_start|>hello<|im_end|>"));
    assert_eq!(ids, vec![1, id("hell"), id("o"), 2]);
    assert_eq!(ok(tok.decode(&ids, true)), "hello");
    assert_eq!(ok(tok.decode(&ids, false)), "<|im_start|>hello<|im_end|>");
    assert_eq!(
        (tok.bos_id(), tok.eos_id(), tok.pad_id()),
        (Some(1), Some(2), Some(0))
    );
    assert_eq!(tok.special_ids(), vec![0, 1, 2]);
    assert_eq!(tok.vocab_size(), vocab.tokens.len());
    assert_eq!(tok.id_to_token(1).as_deref(), Some("<|im_start|>"));
    // Non-ASCII bytes round-trip through the byte alphabet.
    let text = "é ≠ 😀\n\t";
    assert_eq!(ok(tok.decode(&ok(tok.encode(text)), false)), text);
}

#[test]
fn renders_and_encodes_a_conversation_with_the_gguf_template() {
    let tok = ok(HfTokenizer::from_vocab(&tiny_vocab()));
    let messages = [Message::user("hello")];
    let text = ok(tok.apply_chat_template(&messages, true));
    assert_eq!(
        text,
        "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n"
    );
    let ids = ok(tok.encode_chat(&messages, true));
    assert_eq!(ids, ok(tok.encode(&text)));
    assert_eq!((ids[0], ids.iter().filter(|&&i| i == 1).count()), (1, 2));
}

#[test]
fn reads_a_file_and_a_model_directory() {
    let json = ok(tiny_vocab()
        .tokenizer_json_string()
        .map_err(|e| e.to_string()));
    let dir = scratch("dir");
    ok(std::fs::write(dir.join("tokenizer.json"), &json).map_err(|e| e.to_string()));
    let plain = ok(HfTokenizer::from_file(&dir.join("tokenizer.json")));
    assert_eq!(plain.eos_id(), None);
    assert!(plain.apply_chat_template(&[], true).is_err());
    // Without tokenizer_config.json: no special ids, no template.
    let bare = ok(HfTokenizer::from_dir(&dir));
    assert!(bare.chat_template().is_none());
    let config = serde_json::json!({
        "bos_token": {"content": "<|im_start|>", "special": true},
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "chat_template": TEMPLATE,
    });
    ok(
        std::fs::write(dir.join("tokenizer_config.json"), config.to_string())
            .map_err(|e| e.to_string()),
    );
    let tok = ok(HfTokenizer::from_dir(&dir));
    assert_eq!(
        (tok.bos_id(), tok.eos_id(), tok.pad_id()),
        (Some(1), Some(2), Some(0))
    );
    let text = ok(tok.apply_chat_template(&[Message::user("hi")], false));
    assert_eq!(text, "<|im_start|>user\nhi<|im_end|>\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let missing = std::env::temp_dir().join("rlr-hf-tok-no-such-file.json");
    let e = HfTokenizer::from_file(&missing).err().unwrap_or_default();
    assert!(e.contains("rlr-hf-tok-no-such-file.json"), "{e}");
    assert!(HfTokenizer::from_json("{").is_err());
    assert!(HfTokenizer::from_json(r#"{"model": {"type": "Nope"}}"#).is_err());
    assert!(HfTokenizer::from_gguf(&missing).is_err());

    let mut vocab = tiny_vocab();
    vocab.chat_template = Some("{% if %}".into());
    let e = HfTokenizer::from_vocab(&vocab).err().unwrap_or_default();
    assert!(e.contains("chat template"), "{e}");
    let mut vocab = tiny_vocab();
    vocab.model = "llama".into();
    assert!(HfTokenizer::from_vocab(&vocab).is_err());

    let dir = scratch("bad");
    let json = ok(tiny_vocab()
        .tokenizer_json_string()
        .map_err(|e| e.to_string()));
    ok(std::fs::write(dir.join("tokenizer.json"), &json).map_err(|e| e.to_string()));
    ok(std::fs::write(
        dir.join("tokenizer_config.json"),
        r#"{"eos_token": "</s>"}"#,
    )
    .map_err(|e| e.to_string()));
    let e = HfTokenizer::from_dir(&dir).err().unwrap_or_default();
    assert!(
        e.contains("`eos_token` `</s>` is not in the vocabulary"),
        "{e}"
    );
    ok(std::fs::write(dir.join("tokenizer_config.json"), "not json").map_err(|e| e.to_string()));
    assert!(HfTokenizer::from_dir(&dir).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
