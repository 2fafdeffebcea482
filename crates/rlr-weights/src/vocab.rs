//! The tokenizer a GGUF file carries (`tokenizer.ggml.*` keys), rebuilt as
//! a Hugging Face `tokenizer.json` for byte-level BPE models. llama.cpp's
//! converter copies the vocabulary and merges verbatim from Hugging Face;
//! what it does not keep is the pre-tokenizer, which `tokenizer.ggml.pre`
//! names and this module spells out again (`smollm`, `gpt2`).

use std::collections::HashMap;

use serde_json::{Value as Json, json};

use crate::error::{Error, Result};
use crate::gguf::Gguf;

/// Token type of an ordinary token.
pub const TOKEN_NORMAL: i32 = 1;
/// Token type of the unknown token.
pub const TOKEN_UNKNOWN: i32 = 2;
/// Token type of a control token (`<|im_start|>`): a special added token.
pub const TOKEN_CONTROL: i32 = 3;
/// Token type of a user-defined token: an added token that is not special.
pub const TOKEN_USER_DEFINED: i32 = 4;

/// Tokenizer data read from a GGUF file.
#[derive(Clone, Debug, PartialEq)]
pub struct Vocab {
    /// `tokenizer.ggml.model` (`gpt2` for byte-level BPE).
    pub model: String,
    /// `tokenizer.ggml.pre`, the pre-tokenizer's name, when present.
    pub pre: Option<String>,
    /// Token strings by id.
    pub tokens: Vec<String>,
    /// Token types by id (empty when the file has none: all normal).
    pub token_types: Vec<i32>,
    /// BPE merges, in rank order, each `"left right"`.
    pub merges: Vec<String>,
    /// Beginning-of-sequence token id.
    pub bos_token_id: Option<u32>,
    /// End-of-sequence token id.
    pub eos_token_id: Option<u32>,
    /// Padding token id.
    pub pad_token_id: Option<u32>,
    /// `tokenizer.chat_template`, a Jinja template.
    pub chat_template: Option<String>,
}

impl Vocab {
    /// Reads the `tokenizer.*` keys.
    pub fn from_gguf(g: &Gguf) -> Result<Vocab> {
        let model_key = "tokenizer.ggml.model";
        let model = g
            .get_str(model_key)?
            .ok_or_else(|| Error::key(model_key, "missing; the file has no tokenizer"))?
            .to_string();
        let tokens_key = "tokenizer.ggml.tokens";
        let tokens = strings(g, tokens_key)?
            .ok_or_else(|| Error::key(tokens_key, "missing; the file has no vocabulary"))?;
        let types_key = "tokenizer.ggml.token_type";
        let token_types = match g.get_array(types_key)? {
            None => Vec::new(),
            Some(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.as_int()
                        .and_then(|t| i32::try_from(t).ok())
                        .ok_or_else(|| {
                            Error::key(
                                types_key,
                                format!("element {i}: expected an integer, found {}", v.describe()),
                            )
                        })
                })
                .collect::<Result<_>>()?,
        };
        if !token_types.is_empty() && token_types.len() != tokens.len() {
            return Err(Error::key(
                types_key,
                format!("{} types for {} tokens", token_types.len(), tokens.len()),
            ));
        }
        let id = |k: &str| -> Result<Option<u32>> {
            let key = format!("tokenizer.ggml.{k}");
            match g.get_u64(&key)? {
                None => Ok(None),
                Some(v) if v < tokens.len() as u64 => Ok(Some(v as u32)),
                Some(v) => Err(Error::key(
                    &key,
                    format!(
                        "token id {v} is not below the vocabulary size {}",
                        tokens.len()
                    ),
                )),
            }
        };
        Ok(Vocab {
            model,
            pre: g.get_str("tokenizer.ggml.pre")?.map(str::to_string),
            merges: strings(g, "tokenizer.ggml.merges")?.unwrap_or_default(),
            bos_token_id: id("bos_token_id")?,
            eos_token_id: id("eos_token_id")?,
            pad_token_id: id("padding_token_id")?,
            chat_template: g.get_str("tokenizer.chat_template")?.map(str::to_string),
            tokens,
            token_types,
        })
    }

    /// The string of token `id`.
    pub fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// The type of token `id` ([`TOKEN_NORMAL`] when the file lists none).
    pub fn token_type(&self, id: u32) -> i32 {
        self.token_types
            .get(id as usize)
            .copied()
            .unwrap_or(TOKEN_NORMAL)
    }

    /// A Hugging Face `tokenizer.json` for this vocabulary: a BPE model with
    /// the GGUF's tokens and merges, control tokens as special added tokens
    /// (user-defined ones as plain added tokens), no normalizer, the
    /// pre-tokenizer `tokenizer.ggml.pre` names, and byte-level decoding and
    /// post-processing. Only byte-level BPE (`gpt2`) vocabularies with the
    /// `smollm` or `gpt2` pre-tokenizer are supported; tokens must be unique
    /// and every merge must join two tokens into a third.
    pub fn tokenizer_json(&self) -> Result<Json> {
        if self.model != "gpt2" {
            return Err(Error::key(
                "tokenizer.ggml.model",
                format!(
                    "`{}` is not supported (expected `gpt2`, byte-level BPE)",
                    self.model
                ),
            ));
        }
        let byte_level = json!({
            "type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true
        });
        let pre_tokenizer = match self.pre.as_deref() {
            Some("smollm") => json!({
                "type": "Sequence",
                "pretokenizers": [{"type": "Digits", "individual_digits": true}, byte_level],
            }),
            Some("gpt2") => byte_level,
            other => {
                return Err(Error::key(
                    "tokenizer.ggml.pre",
                    format!(
                        "{} is not supported (expected `smollm` or `gpt2`)",
                        other.map_or_else(
                            || "a missing pre-tokenizer".to_string(),
                            |p| format!("`{p}`")
                        )
                    ),
                ));
            }
        };
        let mut ids: HashMap<&str, usize> = HashMap::with_capacity(self.tokens.len());
        let mut vocab = serde_json::Map::new();
        for (i, t) in self.tokens.iter().enumerate() {
            if let Some(first) = ids.insert(t, i) {
                return Err(Error::key(
                    "tokenizer.ggml.tokens",
                    format!("token {i} `{t}` repeats token {first}"),
                ));
            }
            vocab.insert(t.clone(), json!(i));
        }
        let mut merges = Vec::with_capacity(self.merges.len());
        for (i, m) in self.merges.iter().enumerate() {
            let Some((a, b)) = m.split_once(' ') else {
                return Err(Error::key(
                    "tokenizer.ggml.merges",
                    format!("merge {i} `{m}`: expected two tokens separated by a space"),
                ));
            };
            for part in [a, b, &format!("{a}{b}")] {
                if !ids.contains_key(part) {
                    return Err(Error::key(
                        "tokenizer.ggml.merges",
                        format!("merge {i} `{m}`: `{part}` is not in the vocabulary"),
                    ));
                }
            }
            merges.push(json!([a, b]));
        }
        let added: Vec<Json> = (0..self.tokens.len() as u32)
            .filter_map(|id| {
                let special = match self.token_type(id) {
                    TOKEN_CONTROL => true,
                    TOKEN_USER_DEFINED => false,
                    _ => return None,
                };
                Some(json!({
                    "id": id, "content": self.tokens[id as usize], "single_word": false,
                    "lstrip": false, "rstrip": false, "normalized": false, "special": special,
                }))
            })
            .collect();
        Ok(json!({
            "version": "1.0",
            "truncation": null,
            "padding": null,
            "added_tokens": added,
            "normalizer": null,
            "pre_tokenizer": pre_tokenizer,
            "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
            "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
            "model": {
                "type": "BPE", "dropout": null, "unk_token": null,
                "continuing_subword_prefix": null, "end_of_word_suffix": null,
                "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                "vocab": vocab, "merges": merges,
            },
        }))
    }

    /// [`Vocab::tokenizer_json`] as text, ready to write to `tokenizer.json`.
    pub fn tokenizer_json_string(&self) -> Result<String> {
        Ok(self.tokenizer_json()?.to_string())
    }
}

/// The array of strings under `key`.
fn strings(g: &Gguf, key: &str) -> Result<Option<Vec<String>>> {
    let Some(items) = g.get_array(key)? else {
        return Ok(None);
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str().map(str::to_string).ok_or_else(|| {
                Error::key(
                    key,
                    format!("element {i}: expected a string, found {}", v.describe()),
                )
            })
        })
        .collect::<Result<_>>()
        .map(Some)
}
