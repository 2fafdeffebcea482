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
                "\"char\" (one token per printable ASCII character or newline, plus PAD, BOS \
                 and EOS) or the path of a Hugging Face tokenizer.json (relative to the recipe's \
                 folder, `$VARIABLE`s expanded when the run starts): the model then has that \
                 vocabulary plus its own PAD, BOS and EOS. \"byte\" (256 byte tokens) is \
                 reserved; the engine refuses it",
            ),
            int(
                "context",
                256,
                Some(AT_LEAST_ONE),
                "maximum sequence length, prompt plus response (the rotary table's length)",
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
        "A decoder-only transformer initialised from the recipe's seed: a token embedding, \
         `layers` pre-norm blocks of causal multi-head self-attention (`heads` heads of \
         width/heads, rotary positions) and a gated SwiGLU MLP of mlp_ratio·width, RMSNorm, a \
         final RMSNorm and an output projection tied to the token embedding. Small enough to \
         train on a CPU. Prompts are read as BOS, the prompt, a newline.",
        "[INFER] GPT-2-style decoder (Radford et al. 2019) with Llama's RMSNorm, RoPE and \
         SwiGLU; rlr's built-in model.",
    ),
    item(
        "load",
        Category::Model,
        &[
            required(
                "path",
                ParamType::Str,
                None,
                "a .gguf file or a folder with model.safetensors and config.json; relative \
                 to the recipe's folder; `$NAME` or `${NAME}` is replaced by that environment \
                 variable when the run starts (`load(\"$SMOLLM2_GGUF\")`)",
            ),
            optional(
                "tokenizer",
                ParamType::Str,
                DefaultValue::Str(""),
                None,
                "path of a tokenizer.json (same rules as `path`); empty uses the one stored \
                 with the model (GGUF metadata, or tokenizer.json and tokenizer_config.json \
                 beside the weights). With a path, special ids come from the model's config \
                 and the chat template from the model's own tokenizer",
            ),
        ],
        "A pretrained Llama-architecture causal LM (RMSNorm, RoPE, grouped-query attention, \
         SwiGLU), e.g. SmolLM2-135M-Instruct, loaded from GGUF (quantised tensors are \
         dequantised to f32) or from HF-layout safetensors. The files are read when the run \
         starts, not by `rlr check`; a missing variable or file, or a malformed one, stops \
         the run with an error naming the model and the path. Prompts go through the model's \
         chat template (one user turn and the generation prompt) when it has one; generation \
         ends at its end-of-sequence token, and special tokens are never sampled.",
        "[INFER] Llama architecture as stored by llama.cpp/HF; see design/models.md for the \
         tested SmolLM2 file.",
    ),
];
