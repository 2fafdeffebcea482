//! The policy and vocabulary a `model` declaration describes, with its
//! files read: `gpt(...)` over the character tokenizer or a tokenizer.json,
//! or `load(path, tokenizer)` of a GGUF file or a Hugging Face model folder
//! (`config.json`, `model.safetensors`, `tokenizer.json`). Every error names
//! the model and the path, as the recipe wrote it and as it was resolved.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use rlr_lang::ir::{Const, Decl, Program};
use rlr_weights::gguf::Gguf;

use super::Policy;
use super::path::expand_env;
use crate::backend;
use crate::hf_tokenizer::HfTokenizer;
use crate::llama::Llama;
use crate::manifest::sha256;
use crate::model::GptSpec;
use crate::vocab::Vocab;

/// A built policy, its vocabulary and the files they came from.
pub struct Built {
    /// The model.
    pub policy: Policy,
    /// Its vocabulary.
    pub vocab: Vocab,
    /// SHA-256 of every file read, keyed by the model and the path as the
    /// recipe wrote it (`model policy: $SMOLLM2_GGUF`), so that resuming
    /// with another file behind the same name is refused.
    pub files: Vec<(String, String)>,
}

/// The declaration of model `name`.
pub fn declared_model<'p>(program: &'p Program, name: &str) -> Result<&'p Decl, String> {
    program
        .decl(name)
        .ok_or_else(|| format!("no model `{name}`"))
}

/// Builds the model `decl` declares on `device`; the built-in model draws
/// its weights from `seed`. `locate` turns a relative path (after
/// `$VARIABLE` expansion) into where the file is: the recipe's folder.
pub fn build(
    decl: &Decl,
    seed: u64,
    device: &Device,
    locate: &dyn Fn(&str) -> PathBuf,
) -> Result<Built, String> {
    match decl.builtin {
        "gpt" => {
            let mut files = Vec::new();
            let vocab = match text_arg(decl, "tokenizer")?.as_deref() {
                None | Some("char") => Vocab::Char,
                Some("byte") => {
                    return Err(format!(
                        "model `{}`: the \"byte\" tokenizer is not in the engine yet; use \"char\" or the path of a tokenizer.json",
                        decl.name
                    ));
                }
                Some(path) => {
                    let file = File::resolve(&decl.name, "tokenizer", path, locate)?;
                    let tok = HfTokenizer::from_file(&file.path).map_err(|e| file.error(&e))?;
                    files.push(file.hashed()?);
                    Vocab::for_gpt(tok)
                }
            };
            let spec = GptSpec::from_decl(decl, vocab.size())?;
            let model = backend::seeded(device, seed, |d| spec.init(d));
            Ok(Built {
                policy: Policy::Gpt(model),
                vocab,
                files,
            })
        }
        "load" => load(decl, device, locate),
        other => Err(format!(
            "model `{}` is `{other}`; the engine builds `gpt` and `load`",
            decl.name
        )),
    }
}

/// A string argument, `None` when absent or empty.
fn text_arg(decl: &Decl, name: &str) -> Result<Option<String>, String> {
    match decl.args.get(name) {
        None => Ok(None),
        Some(Const::Str(s)) if s.is_empty() => Ok(None),
        Some(Const::Str(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "model `{}`: `{name}` must be a string, found {other:?}",
            decl.name
        )),
    }
}

/// A file a declaration names, resolved.
struct File {
    /// `model `policy``.
    model: String,
    /// As the recipe wrote it.
    written: String,
    /// As written, and what it resolved to when that differs.
    shown: String,
    path: PathBuf,
}

impl File {
    fn resolve(
        model: &str,
        what: &str,
        written: &str,
        locate: &dyn Fn(&str) -> PathBuf,
    ) -> Result<File, String> {
        let model = format!("model `{model}`");
        let expanded = expand_env(written).map_err(|e| format!("{model}: {what} {e}"))?;
        let path = if Path::new(&expanded).is_absolute() {
            PathBuf::from(&expanded)
        } else {
            locate(&expanded)
        };
        let shown = if path.as_os_str() == written {
            format!("`{written}`")
        } else {
            format!("`{written}` ({})", path.display())
        };
        if !path.exists() {
            return Err(format!("{model}: {what} {shown}: no such file or folder"));
        }
        Ok(File {
            model,
            written: written.to_string(),
            shown,
            path,
        })
    }

    fn error(&self, e: &str) -> String {
        format!("{}: {}: {e}", self.model, self.shown)
    }

    /// The manifest entry of `bytes` read from this file.
    fn entry(&self, bytes: &[u8]) -> (String, String) {
        (format!("{}: {}", self.model, self.written), sha256(bytes))
    }

    /// The manifest entry of this file, read again (a folder: its files).
    fn hashed(&self) -> Result<(String, String), String> {
        let read =
            |p: &Path| std::fs::read(p).map_err(|e| self.error(&format!("{}: {e}", p.display())));
        if self.path.is_dir() {
            // Every file a model folder is read from, the tokenizer's when present.
            let mut all = Vec::new();
            let required = [
                rlr_weights::safetensors::CONFIG_FILE,
                rlr_weights::safetensors::WEIGHTS_FILE,
            ];
            let optional = [
                "tokenizer.json",
                "tokenizer_config.json",
                "chat_template.jinja",
            ];
            for name in required.into_iter().chain(optional) {
                let path = self.path.join(name);
                if required.contains(&name) || path.is_file() {
                    all.extend(format!("{name} {}\n", sha256(&read(&path)?)).into_bytes());
                }
            }
            Ok(self.entry(&all))
        } else {
            Ok(self.entry(&read(&self.path)?))
        }
    }
}

/// `load(path, tokenizer)`: the weights, and the tokenizer stored with them
/// unless `tokenizer` names a tokenizer.json (whose special ids then come
/// from the model's config, and its chat template from the model's own
/// tokenizer when there is one).
fn load(decl: &Decl, device: &Device, locate: &dyn Fn(&str) -> PathBuf) -> Result<Built, String> {
    let written = text_arg(decl, "path")?
        .ok_or_else(|| format!("model `{}`: `load` needs a path", decl.name))?;
    let file = File::resolve(&decl.name, "path", &written, locate)?;
    let mut files = Vec::new();
    let (weights, own) = if file.path.is_dir() {
        let weights = rlr_weights::safetensors::load_dir(&file.path)
            .map_err(|e| file.error(&e.to_string()))?;
        files.push(file.hashed()?);
        let own = HfTokenizer::from_dir(&file.path);
        (weights, own)
    } else {
        let bytes = std::fs::read(&file.path).map_err(|e| file.error(&e.to_string()))?;
        files.push(file.entry(&bytes));
        let g = Gguf::from_bytes(bytes).map_err(|e| file.error(&e.to_string()))?;
        let weights =
            rlr_weights::llama::weights_from_gguf(&g).map_err(|e| file.error(&e.to_string()))?;
        let own = rlr_weights::vocab::Vocab::from_gguf(&g)
            .map_err(|e| e.to_string())
            .and_then(|v| HfTokenizer::from_vocab(&v));
        (weights, own)
    };
    let config = weights.config.clone();
    let tokenizer = match text_arg(decl, "tokenizer")? {
        None => own.map_err(|e| file.error(&format!("its tokenizer: {e}")))?,
        Some(path) => {
            let tf = File::resolve(&decl.name, "tokenizer", &path, locate)?;
            let tok = HfTokenizer::from_file(&tf.path).map_err(|e| tf.error(&e))?;
            files.push(tf.hashed()?);
            let tok = tok.with_special_ids(config.bos_token_id, config.eos_token_id, None);
            match own.ok().and_then(|o| o.chat_template().cloned()) {
                Some(t) => tok.with_chat_template(t),
                None => tok,
            }
        }
    };
    let model = Llama::from_weights(&weights, device).map_err(|e| file.error(&e))?;
    // The host copy (540 MB for SmolLM2 in f32) is not needed any more.
    drop(weights);
    let vocab = Vocab::for_pretrained(tokenizer, model.vocab(), config.eos_token_id)
        .map_err(|e| file.error(&e))?;
    tracing::info!(model = %decl.name, path = %file.path.display(), "pretrained model loaded");
    Ok(Built {
        policy: Policy::Llama(model),
        vocab,
        files,
    })
}
