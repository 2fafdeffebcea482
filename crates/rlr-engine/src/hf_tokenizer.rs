//! Hugging Face tokenizers for pretrained models: a `tokenizer.json` loaded
//! with the `tokenizers` crate (pure Rust, fancy-regex), the special-token
//! ids the model uses (BOS, EOS, PAD) and its chat template (`chat.rs`).
//!
//! Sources: a `tokenizer.json` file or text, a Hugging Face model directory
//! (`tokenizer.json` + `tokenizer_config.json`), or the tokenizer a GGUF
//! file carries, rebuilt by `rlr_weights::vocab`.

use std::path::Path;

use rlr_weights::gguf::Gguf;
use rlr_weights::vocab::Vocab;
use serde_json::Value as Json;
use tokenizers::Tokenizer;

pub mod chat;

pub use chat::{ChatTemplate, Message};

/// A Hugging Face tokenizer with its special ids and chat template.
#[derive(Clone, Debug)]
pub struct HfTokenizer {
    inner: Tokenizer,
    bos: Option<u32>,
    eos: Option<u32>,
    pad: Option<u32>,
    chat: Option<ChatTemplate>,
}

impl HfTokenizer {
    /// Parses `tokenizer.json` text. Special ids and the chat template are
    /// not part of that file: set them with [`HfTokenizer::with_special_ids`]
    /// and [`HfTokenizer::with_chat_template`].
    pub fn from_json(json: &str) -> Result<HfTokenizer, String> {
        let inner = Tokenizer::from_bytes(json.as_bytes())
            .map_err(|e| format!("not a usable tokenizer.json: {e}"))?;
        Ok(HfTokenizer {
            inner,
            bos: None,
            eos: None,
            pad: None,
            chat: None,
        })
    }

    /// Reads a `tokenizer.json` file.
    pub fn from_file(path: &Path) -> Result<HfTokenizer, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        HfTokenizer::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// A Hugging Face model directory: `tokenizer.json`, and when present
    /// `tokenizer_config.json` (`bos_token`, `eos_token`, `pad_token`,
    /// `chat_template`) or a `chat_template.jinja` file.
    pub fn from_dir(dir: &Path) -> Result<HfTokenizer, String> {
        let mut tok = HfTokenizer::from_file(&dir.join("tokenizer.json"))?;
        let config_path = dir.join("tokenizer_config.json");
        let config: Json = match std::fs::read_to_string(&config_path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| format!("{}: {e}", config_path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Json::Null,
            Err(e) => return Err(format!("cannot read {}: {e}", config_path.display())),
        };
        // A token is a string or an AddedToken object with `content`.
        let token = |key: &str| -> Option<String> {
            let v = config.get(key)?;
            v.as_str()
                .or_else(|| v.get("content").and_then(Json::as_str))
                .map(str::to_string)
        };
        let id = |key: &str| -> Result<Option<u32>, String> {
            match token(key) {
                None => Ok(None),
                Some(t) => tok.token_to_id(&t).map(Some).ok_or_else(|| {
                    format!(
                        "{}: `{key}` `{t}` is not in the vocabulary",
                        config_path.display()
                    )
                }),
            }
        };
        let (bos, eos, pad) = (id("bos_token")?, id("eos_token")?, id("pad_token")?);
        tok = tok.with_special_ids(bos, eos, pad);
        let jinja_path = dir.join("chat_template.jinja");
        let source = match config.get("chat_template").and_then(Json::as_str) {
            Some(s) => Some(s.to_string()),
            None => match std::fs::read_to_string(&jinja_path) {
                Ok(s) => Some(s),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(format!("cannot read {}: {e}", jinja_path.display())),
            },
        };
        if let Some(source) = source {
            let bos_text = token("bos_token").unwrap_or_default();
            let eos_text = token("eos_token").unwrap_or_default();
            let template = ChatTemplate::new(&source, &bos_text, &eos_text)
                .map_err(|e| format!("{}: {e}", dir.display()))?;
            tok = tok.with_chat_template(template);
        }
        Ok(tok)
    }

    /// The tokenizer a GGUF file's `tokenizer.*` keys describe.
    pub fn from_vocab(vocab: &Vocab) -> Result<HfTokenizer, String> {
        let json = vocab.tokenizer_json_string().map_err(|e| e.to_string())?;
        let tok = HfTokenizer::from_json(&json)?.with_special_ids(
            vocab.bos_token_id,
            vocab.eos_token_id,
            vocab.pad_token_id,
        );
        let text = |id: Option<u32>| id.and_then(|i| vocab.token(i)).unwrap_or_default();
        match &vocab.chat_template {
            None => Ok(tok),
            Some(source) => Ok(tok.with_chat_template(ChatTemplate::new(
                source,
                text(vocab.bos_token_id),
                text(vocab.eos_token_id),
            )?)),
        }
    }

    /// Reads the tokenizer of the GGUF file at `path` (the whole file is
    /// read; when the weights are wanted too, parse it once with
    /// [`Gguf::read_file`] and use [`HfTokenizer::from_vocab`]).
    pub fn from_gguf(path: &Path) -> Result<HfTokenizer, String> {
        let g = Gguf::read_file(path).map_err(|e| e.to_string())?;
        let vocab = Vocab::from_gguf(&g).map_err(|e| e.in_file(path).to_string())?;
        HfTokenizer::from_vocab(&vocab).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The same tokenizer with these special ids.
    pub fn with_special_ids(
        mut self,
        bos: Option<u32>,
        eos: Option<u32>,
        pad: Option<u32>,
    ) -> HfTokenizer {
        self.bos = bos;
        self.eos = eos;
        self.pad = pad;
        self
    }

    /// The same tokenizer with this chat template.
    pub fn with_chat_template(mut self, template: ChatTemplate) -> HfTokenizer {
        self.chat = Some(template);
        self
    }

    /// Token ids of `text`. Special-token strings in it (`<|im_start|>`)
    /// become their ids; nothing is added around it, since chat templates
    /// already write BOS/EOS where the model expects them.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        self.inner
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| format!("cannot tokenize: {e}"))
    }

    /// The text of `ids`, without special tokens when `skip_special`.
    pub fn decode(&self, ids: &[u32], skip_special: bool) -> Result<String, String> {
        self.inner
            .decode(ids, skip_special)
            .map_err(|e| format!("cannot decode: {e}"))
    }

    /// The id of one token string.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The string of one token id.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// Number of ids, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Beginning-of-sequence id, when known.
    pub fn bos_id(&self) -> Option<u32> {
        self.bos
    }

    /// End-of-sequence id (where generation stops), when known.
    pub fn eos_id(&self) -> Option<u32> {
        self.eos
    }

    /// Padding id, when known.
    pub fn pad_id(&self) -> Option<u32> {
        self.pad
    }

    /// Ids of every special added token (control tokens), ascending.
    pub fn special_ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self
            .inner
            .get_added_tokens_decoder()
            .into_iter()
            .filter(|(_, t)| t.special)
            .map(|(id, _)| id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// The chat template, when the model has one.
    pub fn chat_template(&self) -> Option<&ChatTemplate> {
        self.chat.as_ref()
    }

    /// The conversation rendered by the chat template (an error when there
    /// is none or it fails).
    pub fn apply_chat_template(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
    ) -> Result<String, String> {
        self.chat
            .as_ref()
            .ok_or_else(|| "this tokenizer has no chat template".to_string())?
            .render(messages, add_generation_prompt)
    }

    /// Token ids of the rendered conversation.
    pub fn encode_chat(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
    ) -> Result<Vec<u32>, String> {
        self.encode(&self.apply_chat_template(messages, add_generation_prompt)?)
    }
}

#[cfg(test)]
mod tests;
