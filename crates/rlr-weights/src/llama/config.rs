//! The hyper-parameters of a Llama-architecture model, read from GGUF
//! metadata (`llama.*` keys) or a Hugging Face `config.json`. Field names are
//! Hugging Face's, so the struct serialises to a usable `config.json`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result};
use crate::gguf::{Gguf, Value};

/// A Llama model's shape and constants.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LlamaConfig {
    /// Tokens in the vocabulary (rows of the embedding).
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the SwiGLU MLP.
    pub intermediate_size: usize,
    /// Transformer blocks.
    pub num_hidden_layers: usize,
    /// Query heads.
    pub num_attention_heads: usize,
    /// Key/value heads (grouped-query attention when fewer than query heads).
    pub num_key_value_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// RoPE base frequency.
    pub rope_theta: f64,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f64,
    /// Context length the model was trained for.
    pub max_position_embeddings: usize,
    /// Whether the output head is the token embedding (no `lm_head.weight`).
    pub tie_word_embeddings: bool,
    /// Beginning-of-sequence token id.
    pub bos_token_id: Option<u32>,
    /// End-of-sequence token id (the first, when the source lists several).
    pub eos_token_id: Option<u32>,
}

impl LlamaConfig {
    /// Checks that the sizes are positive and consistent: heads divide
    /// evenly into key/value groups, the head width is even (RoPE rotates
    /// pairs), and the parameter count does not overflow.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("num_key_value_heads", self.num_key_value_heads),
            ("head_dim", self.head_dim),
        ];
        for (key, v) in positive {
            if v == 0 {
                return Err(Error::key(key, "must be positive"));
            }
        }
        if !self
            .num_attention_heads
            .is_multiple_of(self.num_key_value_heads)
        {
            return Err(Error::key(
                "num_key_value_heads",
                format!(
                    "{} key/value heads do not divide {} attention heads",
                    self.num_key_value_heads, self.num_attention_heads
                ),
            ));
        }
        if !self.head_dim.is_multiple_of(2) {
            return Err(Error::key(
                "head_dim",
                format!("{} is odd; RoPE rotates pairs", self.head_dim),
            ));
        }
        for (key, v) in [
            ("rope_theta", self.rope_theta),
            ("rms_norm_eps", self.rms_norm_eps),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::key(
                    key,
                    format!("expected a positive number, found {v}"),
                ));
            }
        }
        if self.parameter_count().is_none() {
            return Err(Error::key(
                "num_hidden_layers",
                "the parameter count overflows; the sizes are absurd",
            ));
        }
        Ok(())
    }

    /// Parameters the model has for this config (the embedding counted once
    /// when tied); `None` on overflow.
    pub fn parameter_count(&self) -> Option<usize> {
        // Arithmetic rather than a walk over the names: a config may claim
        // an absurd number of layers.
        let h = self.hidden_size;
        let q = self.num_attention_heads.checked_mul(self.head_dim)?;
        let kv = self.num_key_value_heads.checked_mul(self.head_dim)?;
        let attn = q
            .checked_mul(2)?
            .checked_add(kv.checked_mul(2)?)?
            .checked_mul(h)?;
        let mlp = self.intermediate_size.checked_mul(3)?.checked_mul(h)?;
        let layer = attn.checked_add(mlp)?.checked_add(h.checked_mul(2)?)?;
        let embed = self.vocab_size.checked_mul(h)?;
        let heads = if self.tie_word_embeddings { 1 } else { 2 };
        layer
            .checked_mul(self.num_hidden_layers)?
            .checked_add(embed.checked_mul(heads)?)?
            .checked_add(h)
    }

    /// Reads the `llama.*` and `tokenizer.ggml.*` keys of a GGUF file. The
    /// embeddings are tied when the file has no `output.weight` tensor.
    pub fn from_gguf(g: &Gguf) -> Result<LlamaConfig> {
        let arch_key = "general.architecture";
        match g.get_str(arch_key)? {
            Some("llama") => {}
            Some(a) => {
                return Err(Error::key(
                    arch_key,
                    format!("architecture `{a}` is not supported (expected `llama`)"),
                ));
            }
            None => {
                return Err(Error::key(
                    arch_key,
                    "missing; cannot tell the architecture",
                ));
            }
        }
        let req = |k: &str| -> Result<usize> {
            let key = format!("llama.{k}");
            let v = g
                .get_u64(&key)?
                .ok_or_else(|| Error::key(&key, "missing"))?;
            to_usize(&key, v)
        };
        let opt = |k: &str| -> Result<Option<usize>> {
            let key = format!("llama.{k}");
            g.get_u64(&key)?.map(|v| to_usize(&key, v)).transpose()
        };
        let hidden_size = req("embedding_length")?;
        let num_attention_heads = req("attention.head_count")?;
        let num_key_value_heads = opt("attention.head_count_kv")?.unwrap_or(num_attention_heads);
        // A zero head count gives 0 here, which validation then refuses.
        let head_dim = match opt("attention.key_length")? {
            Some(d) => d,
            None => hidden_size.checked_div(num_attention_heads).unwrap_or(0),
        };
        for k in ["attention.value_length", "rope.dimension_count"] {
            if let Some(d) = opt(k)?
                && d != head_dim
            {
                return Err(Error::key(
                    &format!("llama.{k}"),
                    format!(
                        "{d} differs from the head width {head_dim}; only full-width RoPE heads are supported"
                    ),
                ));
            }
        }
        let scaling = "llama.rope.scaling.type";
        if let Some(t) = g.get_str(scaling)?
            && t != "none"
        {
            return Err(Error::key(
                scaling,
                format!("RoPE scaling `{t}` is not supported"),
            ));
        }
        let vocab_size = match opt("vocab_size")? {
            Some(v) => v,
            None => match g.get_array("tokenizer.ggml.tokens")? {
                Some(tokens) => tokens.len(),
                None => g
                    .tensor_info("token_embd.weight")
                    .and_then(|t| t.dims.get(1))
                    .map_or(0, |&d| d as usize),
            },
        };
        let float = |k: &str, default: Option<f64>| -> Result<f64> {
            let key = format!("llama.{k}");
            match g.get(&key) {
                // An f32 read as its shortest decimal: 1e-5, not 9.99999974e-6.
                Some(Value::F32(v)) => Ok(v.to_string().parse().unwrap_or(f64::from(*v))),
                _ => g
                    .get_f64(&key)?
                    .or(default)
                    .ok_or_else(|| Error::key(&key, "missing")),
            }
        };
        let token_id = |k: &str| -> Result<Option<u32>> {
            let key = format!("tokenizer.ggml.{k}");
            g.get_u64(&key)?
                .map(|v| {
                    u32::try_from(v)
                        .map_err(|_| Error::key(&key, format!("token id {v} is too large")))
                })
                .transpose()
        };
        let config = LlamaConfig {
            vocab_size,
            hidden_size,
            intermediate_size: req("feed_forward_length")?,
            num_hidden_layers: req("block_count")?,
            num_attention_heads,
            num_key_value_heads,
            head_dim,
            rope_theta: float("rope.freq_base", Some(10_000.0))?,
            rms_norm_eps: float("attention.layer_norm_rms_epsilon", None)?,
            max_position_embeddings: req("context_length")?,
            tie_word_embeddings: g.tensor_info("output.weight").is_none(),
            bos_token_id: token_id("bos_token_id")?,
            eos_token_id: token_id("eos_token_id")?,
        };
        config.validate()?;
        Ok(config)
    }

    /// Parses a Hugging Face `config.json` of a `LlamaForCausalLM`. Settings
    /// this crate cannot honour (RoPE scaling, biases, another activation or
    /// model type) are errors, not silently ignored.
    pub fn from_hf_json(text: &str) -> Result<LlamaConfig> {
        let raw: RawHf = serde_json::from_str(text).map_err(|e| {
            Error::new(
                Location::File,
                format!("config.json line {} column {}: {e}", e.line(), e.column()),
            )
        })?;
        raw.into_config()
    }

    /// This config as a Hugging Face `config.json` value.
    pub fn to_hf_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            m.insert("model_type".into(), "llama".into());
            m.insert(
                "architectures".into(),
                serde_json::json!(["LlamaForCausalLM"]),
            );
            m.insert("hidden_act".into(), "silu".into());
        }
        v
    }
}

fn to_usize(key: &str, v: u64) -> Result<usize> {
    usize::try_from(v)
        .map_err(|_| Error::key(key, format!("{v} does not fit this machine's usize")))
}

/// The fields of `config.json` this crate reads; others are ignored.
#[derive(Deserialize)]
struct RawHf {
    model_type: Option<String>,
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    head_dim: Option<usize>,
    rope_theta: Option<f64>,
    rms_norm_eps: Option<f64>,
    max_position_embeddings: Option<usize>,
    tie_word_embeddings: Option<bool>,
    bos_token_id: Option<u32>,
    eos_token_id: Option<OneOrMany>,
    hidden_act: Option<String>,
    rope_scaling: Option<serde_json::Value>,
    attention_bias: Option<bool>,
    mlp_bias: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(u32),
    Many(Vec<u32>),
}

impl RawHf {
    fn into_config(self) -> Result<LlamaConfig> {
        if let Some(t) = &self.model_type
            && t != "llama"
        {
            return Err(Error::key(
                "model_type",
                format!("`{t}` is not supported (expected `llama`)"),
            ));
        }
        if let Some(a) = &self.hidden_act
            && a != "silu"
        {
            return Err(Error::key(
                "hidden_act",
                format!("`{a}` is not supported (expected `silu`)"),
            ));
        }
        if self.rope_scaling.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(Error::key("rope_scaling", "RoPE scaling is not supported"));
        }
        for (key, on) in [
            ("attention_bias", self.attention_bias),
            ("mlp_bias", self.mlp_bias),
        ] {
            if on == Some(true) {
                return Err(Error::key(key, "biases are not supported"));
            }
        }
        let heads = self.num_attention_heads;
        let config = LlamaConfig {
            vocab_size: self.vocab_size,
            hidden_size: self.hidden_size,
            intermediate_size: self.intermediate_size,
            num_hidden_layers: self.num_hidden_layers,
            num_attention_heads: heads,
            num_key_value_heads: self.num_key_value_heads.unwrap_or(heads),
            head_dim: self
                .head_dim
                .unwrap_or(self.hidden_size.checked_div(heads).unwrap_or(0)),
            // transformers' LlamaConfig defaults.
            rope_theta: self.rope_theta.unwrap_or(10_000.0),
            rms_norm_eps: self.rms_norm_eps.unwrap_or(1e-6),
            max_position_embeddings: self.max_position_embeddings.unwrap_or(2048),
            tie_word_embeddings: self.tie_word_embeddings.unwrap_or(false),
            bos_token_id: self.bos_token_id,
            eos_token_id: match self.eos_token_id {
                Some(OneOrMany::One(id)) => Some(id),
                Some(OneOrMany::Many(ids)) => ids.first().copied(),
                None => None,
            },
        };
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMOL: &str = r#"{"architectures":["LlamaForCausalLM"],"attention_bias":false,
      "bos_token_id":1,"eos_token_id":2,"hidden_act":"silu","hidden_size":576,
      "intermediate_size":1536,"max_position_embeddings":8192,"mlp_bias":false,
      "model_type":"llama","num_attention_heads":9,"num_hidden_layers":30,
      "num_key_value_heads":3,"rms_norm_eps":1e-05,"rope_scaling":null,
      "rope_theta":100000,"tie_word_embeddings":true,"vocab_size":49152}"#;

    #[test]
    fn reads_smollm2s_config_json() {
        let c = LlamaConfig::from_hf_json(SMOL).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (c.hidden_size, c.head_dim, c.num_key_value_heads),
            (576, 64, 3)
        );
        assert_eq!(c.rope_theta, 100_000.0);
        assert!(c.tie_word_embeddings);
        assert_eq!(c.parameter_count(), Some(134_515_008));
        let back = LlamaConfig::from_hf_json(&c.to_hf_json().to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, c);
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        let scaled = SMOL.replace(
            r#""rope_scaling":null"#,
            r#""rope_scaling":{"type":"llama3"}"#,
        );
        let e = LlamaConfig::from_hf_json(&scaled)
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert_eq!(e.location, Location::Key("rope_scaling".into()));
        let bad = SMOL.replace(r#""num_key_value_heads":3"#, r#""num_key_value_heads":4"#);
        let e = LlamaConfig::from_hf_json(&bad)
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert!(e.message.contains("do not divide"), "{e}");
        let e = LlamaConfig::from_hf_json("{")
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert!(e.message.contains("line 1"), "{e}");
        let zero = SMOL.replace(r#""num_attention_heads":9"#, r#""num_attention_heads":0"#);
        assert!(LlamaConfig::from_hf_json(&zero).is_err());
    }

    #[test]
    fn eos_may_be_a_list() {
        let many = SMOL.replace(r#""eos_token_id":2"#, r#""eos_token_id":[7,8]"#);
        let c = LlamaConfig::from_hf_json(&many).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.eos_token_id, Some(7));
    }
}
