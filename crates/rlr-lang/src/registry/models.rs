//! Policy model constructors: `model policy = gpt(...)` or `load(...)`.

use super::spec::{AT_LEAST_ONE, int, item, optional, real, required, string};
use super::{Builtin, Category, DefaultValue, NumRange, ParamType};

/// `[0, 1)`: dropout probability.
const DROPOUT: NumRange = NumRange {
    min: Some(0.0),
    max: Some(1.0),
    min_inclusive: true,
    max_inclusive: false,
};

/// The model constructors.
pub static ALL: &[Builtin] = &[
    item(
        "gpt",
        Category::Model,
        &[
            required(
                "layers",
                ParamType::Int,
                Some(AT_LEAST_ONE),
                "number of transformer blocks",
            ),
            required(
                "width",
                ParamType::Int,
                Some(AT_LEAST_ONE),
                "model dimension d_model; a multiple of `heads`",
            ),
            required(
                "heads",
                ParamType::Int,
                Some(AT_LEAST_ONE),
                "attention heads per block",
            ),
            string(
                "tokenizer",
                "char",
                "\"char\" (one token per character of the task's alphabet), \"byte\" (256 \
                 byte tokens), or the path of a tokenizer.json",
            ),
            int(
                "context",
                256,
                Some(AT_LEAST_ONE),
                "maximum sequence length, prompt plus response (learned positions)",
            ),
            int(
                "mlp_ratio",
                4,
                Some(AT_LEAST_ONE),
                "feed-forward width as a multiple of `width`",
            ),
            real(
                "dropout",
                0.0,
                Some(DROPOUT),
                "dropout probability during SFT and RL",
            ),
        ],
        "A decoder-only transformer initialised from the recipe's seed: token and learned \
         position embeddings, `layers` pre-norm blocks of causal multi-head self-attention \
         (`heads` heads of width/heads) and a GELU MLP of mlp_ratio·width, a final LayerNorm and \
         an output projection tied to the token embedding. Small enough to train on a CPU.",
        "[INFER] GPT-2-style architecture (Radford et al. 2019); rlr's built-in model.",
    ),
    item(
        "load",
        Category::Model,
        &[
            required(
                "path",
                ParamType::Str,
                None,
                "a .gguf file or a folder with model.safetensors and config.json",
            ),
            optional(
                "tokenizer",
                ParamType::Str,
                DefaultValue::Str(""),
                None,
                "path of a tokenizer.json; empty uses the one stored with the model (GGUF \
                 metadata or tokenizer.json beside the weights)",
            ),
        ],
        "A pretrained Llama-architecture causal LM (RMSNorm, RoPE, grouped-query attention, \
         SwiGLU), e.g. SmolLM2-135M-Instruct, loaded from GGUF (quantised tensors are \
         dequantised to f32) or from HF-layout safetensors. The path is read when the run \
         starts, not by `rlr check`.",
        "[INFER] Llama architecture as stored by llama.cpp/HF; see design/models.md for the \
         tested SmolLM2 file.",
    ),
];
