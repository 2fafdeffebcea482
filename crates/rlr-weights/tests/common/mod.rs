//! Test support: a small GGUF writer (independent of the reader), exact
//! encoders for the supported tensor types, and a tiny synthetic Llama.
#![allow(dead_code)]

use half::{bf16, f16};

/// ggml type ids.
pub const F32: u32 = 0;
pub const F16: u32 = 1;
pub const Q4_1: u32 = 3;
pub const Q8_0: u32 = 8;
pub const Q4_K: u32 = 12;
pub const BF16: u32 = 30;

/// A metadata value to write.
#[derive(Clone, Debug)]
pub enum W {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    Str(String),
    /// Element type id, elements.
    Arr(u32, Vec<W>),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl W {
    pub fn type_id(&self) -> u32 {
        match self {
            W::U8(_) => 0,
            W::I8(_) => 1,
            W::U16(_) => 2,
            W::I16(_) => 3,
            W::U32(_) => 4,
            W::I32(_) => 5,
            W::F32(_) => 6,
            W::Bool(_) => 7,
            W::Str(_) => 8,
            W::Arr(..) => 9,
            W::U64(_) => 10,
            W::I64(_) => 11,
            W::F64(_) => 12,
        }
    }

    pub fn strs(items: &[&str]) -> W {
        W::Arr(8, items.iter().map(|s| W::Str(s.to_string())).collect())
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            W::U8(v) => out.push(*v),
            W::I8(v) => out.push(*v as u8),
            W::U16(v) => out.extend(v.to_le_bytes()),
            W::I16(v) => out.extend(v.to_le_bytes()),
            W::U32(v) => out.extend(v.to_le_bytes()),
            W::I32(v) => out.extend(v.to_le_bytes()),
            W::F32(v) => out.extend(v.to_le_bytes()),
            W::Bool(v) => out.push(u8::from(*v)),
            W::Str(s) => write_str(out, s),
            W::Arr(t, items) => {
                out.extend(t.to_le_bytes());
                out.extend((items.len() as u64).to_le_bytes());
                for i in items {
                    i.write(out);
                }
            }
            W::U64(v) => out.extend(v.to_le_bytes()),
            W::I64(v) => out.extend(v.to_le_bytes()),
            W::F64(v) => out.extend(v.to_le_bytes()),
        }
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

/// One tensor to write: name, ggml dims (ne0 first), type id, raw data.
#[derive(Clone, Debug)]
pub struct TensorW {
    pub name: String,
    pub dims: Vec<u64>,
    pub ty: u32,
    pub data: Vec<u8>,
}

/// A GGUF file under construction.
#[derive(Clone, Debug)]
pub struct Writer {
    pub version: u32,
    pub alignment: u64,
    pub kv: Vec<(String, W)>,
    pub tensors: Vec<TensorW>,
}

/// Byte positions of a written file's parts, for corrupting tests.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// Start of each tensor info (its name length).
    pub tensor_infos: Vec<usize>,
    /// Position of each tensor info's offset field.
    pub offset_fields: Vec<usize>,
    /// Start of the data section.
    pub data: usize,
}

impl Default for Writer {
    fn default() -> Self {
        Writer {
            version: 3,
            alignment: 32,
            kv: Vec::new(),
            tensors: Vec::new(),
        }
    }
}

impl Writer {
    pub fn kv(mut self, key: &str, v: W) -> Self {
        self.kv.push((key.to_string(), v));
        self
    }

    /// Sets the alignment and writes it as `general.alignment`.
    pub fn aligned(mut self, a: u32) -> Self {
        self.alignment = u64::from(a);
        self.kv("general.alignment", W::U32(a))
    }

    pub fn tensor(mut self, name: &str, dims: &[u64], ty: u32, data: Vec<u8>) -> Self {
        self.tensors.push(TensorW {
            name: name.to_string(),
            dims: dims.to_vec(),
            ty,
            data,
        });
        self
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.bytes_with_layout().0
    }

    pub fn bytes_with_layout(&self) -> (Vec<u8>, Layout) {
        let a = self.alignment as usize;
        let pad = |n: usize| n.div_ceil(a) * a;
        let mut out = b"GGUF".to_vec();
        out.extend(self.version.to_le_bytes());
        out.extend((self.tensors.len() as u64).to_le_bytes());
        out.extend((self.kv.len() as u64).to_le_bytes());
        for (k, v) in &self.kv {
            write_str(&mut out, k);
            out.extend(v.type_id().to_le_bytes());
            v.write(&mut out);
        }
        let mut layout = Layout::default();
        let mut offset = 0usize;
        for t in &self.tensors {
            layout.tensor_infos.push(out.len());
            write_str(&mut out, &t.name);
            out.extend((t.dims.len() as u32).to_le_bytes());
            for d in &t.dims {
                out.extend(d.to_le_bytes());
            }
            out.extend(t.ty.to_le_bytes());
            layout.offset_fields.push(out.len());
            out.extend((offset as u64).to_le_bytes());
            offset = pad(offset + t.data.len());
        }
        out.resize(pad(out.len()), 0);
        layout.data = out.len();
        for (i, t) in self.tensors.iter().enumerate() {
            // Pad between tensors, not after the last, so that any truncation
            // of the file cuts into data the reader needs.
            if i > 0 {
                let end = out.len() - layout.data;
                out.resize(layout.data + pad(end), 0);
            }
            out.extend(&t.data);
        }
        (out, layout)
    }
}

pub fn f32_bytes(xs: &[f32]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Exact f16 encoding (panics if a value is not representable).
pub fn f16_bytes(xs: &[f32]) -> Vec<u8> {
    xs.iter()
        .flat_map(|&x| {
            let h = f16::from_f32(x);
            assert_eq!(h.to_f32(), x, "{x} is not an f16");
            h.to_bits().to_le_bytes()
        })
        .collect()
}

/// Exact bf16 encoding (panics if a value is not representable).
pub fn bf16_bytes(xs: &[f32]) -> Vec<u8> {
    xs.iter()
        .flat_map(|&x| {
            let h = bf16::from_f32(x);
            assert_eq!(h.to_f32(), x, "{x} is not a bf16");
            h.to_bits().to_le_bytes()
        })
        .collect()
}

/// Q8_0 blocks from values `d·q` (one `d` per block of 32); exact or panics.
pub fn q8_0_bytes(xs: &[f32], d: impl Fn(usize) -> f32) -> Vec<u8> {
    assert_eq!(xs.len() % 32, 0);
    let mut out = Vec::new();
    for (b, block) in xs.chunks(32).enumerate() {
        let d = d(b);
        out.extend(f16::from_f32(d).to_bits().to_le_bytes());
        for &x in block {
            let q = (x / d).round();
            assert!(
                (-128.0..=127.0).contains(&q) && q * d == x,
                "{x} is not {d}·q"
            );
            out.push(q as i8 as u8);
        }
    }
    out
}

/// Q4_1 blocks from values `d·q + m` (q in 0..16); exact or panics. The
/// nibble order is written out by hand here: element j (j < 16) in the low
/// nibble of byte j, element j + 16 in its high nibble.
pub fn q4_1_bytes(xs: &[f32], dm: impl Fn(usize) -> (f32, f32)) -> Vec<u8> {
    assert_eq!(xs.len() % 32, 0);
    let mut out = Vec::new();
    for (b, block) in xs.chunks(32).enumerate() {
        let (d, m) = dm(b);
        out.extend(f16::from_f32(d).to_bits().to_le_bytes());
        out.extend(f16::from_f32(m).to_bits().to_le_bytes());
        let q: Vec<u8> = block
            .iter()
            .map(|&x| {
                let q = ((x - m) / d).round();
                assert!(
                    (0.0..16.0).contains(&q) && q * d + m == x,
                    "{x} is not {d}·q + {m}"
                );
                q as u8
            })
            .collect();
        for j in 0..16 {
            out.push(q[j] | (q[j + 16] << 4));
        }
    }
    out
}

/// A deterministic value pattern: `n` integers in `lo..=hi`.
pub fn ints(n: usize, seed: u64, lo: i64, hi: i64) -> Vec<i64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            lo + ((s >> 33) % (hi - lo + 1) as u64) as i64
        })
        .collect()
}

/// llama.cpp's converter permutation, written from its numpy form
/// (`w.reshape(n_head, 2, hd/2, in).swapaxes(1, 2).reshape(out, in)`):
/// GGUF[h][i][j] = HF[h][j][i], independently of the crate's code.
pub fn llama_cpp_permute(hf: &[f32], n_head: usize, cols: usize) -> Vec<f32> {
    let hd = hf.len() / n_head / cols;
    let mut out = vec![0.0; hf.len()];
    for h in 0..n_head {
        for i in 0..hd / 2 {
            for j in 0..2 {
                for c in 0..cols {
                    out[((h * hd) + i * 2 + j) * cols + c] =
                        hf[((h * hd) + j * (hd / 2) + i) * cols + c];
                }
            }
        }
    }
    out
}

/// The tiny model's sizes.
pub const VOCAB: usize = 16;
pub const HIDDEN: usize = 32;
pub const HEADS: usize = 2;
pub const KV_HEADS: usize = 1;
pub const HEAD_DIM: usize = 16;
pub const FFN: usize = 64;
pub const LAYERS: usize = 2;

/// A tiny Llama: its tensors in Hugging Face names and layout (row-major
/// `[out, in]`), with values every type can hold exactly, and the GGUF type
/// each is stored as.
pub fn tiny_tensors(tied: bool) -> Vec<(String, Vec<usize>, u32, Vec<f32>)> {
    let mut t = Vec::new();
    let mut seed = 0;
    let mut add = |name: String, shape: Vec<usize>, ty: u32| {
        seed += 1;
        let n: usize = shape.iter().product();
        let data: Vec<f32> = match ty {
            // d = 1/64 (exact in f16), q in -100..=100.
            Q8_0 => ints(n, seed, -100, 100)
                .iter()
                .map(|&q| q as f32 / 64.0)
                .collect(),
            // d = 1/8, m = -1, q in 0..=15.
            Q4_1 => ints(n, seed, 0, 15)
                .iter()
                .map(|&q| q as f32 / 8.0 - 1.0)
                .collect(),
            // Eight significant bits at most: exact in bf16 and f16.
            _ => ints(n, seed, -128, 128)
                .iter()
                .map(|&q| q as f32 / 64.0)
                .collect(),
        };
        t.push((name, shape, ty, data));
    };
    add(
        "model.embed_tokens.weight".into(),
        vec![VOCAB, HIDDEN],
        Q8_0,
    );
    for l in 0..LAYERS {
        let p = format!("model.layers.{l}.");
        add(format!("{p}input_layernorm.weight"), vec![HIDDEN], F32);
        add(
            format!("{p}self_attn.q_proj.weight"),
            vec![HEADS * HEAD_DIM, HIDDEN],
            Q4_1,
        );
        add(
            format!("{p}self_attn.k_proj.weight"),
            vec![KV_HEADS * HEAD_DIM, HIDDEN],
            Q8_0,
        );
        add(
            format!("{p}self_attn.v_proj.weight"),
            vec![KV_HEADS * HEAD_DIM, HIDDEN],
            F16,
        );
        add(
            format!("{p}self_attn.o_proj.weight"),
            vec![HIDDEN, HEADS * HEAD_DIM],
            BF16,
        );
        add(
            format!("{p}post_attention_layernorm.weight"),
            vec![HIDDEN],
            F32,
        );
        add(format!("{p}mlp.gate_proj.weight"), vec![FFN, HIDDEN], Q4_1);
        add(format!("{p}mlp.up_proj.weight"), vec![FFN, HIDDEN], F16);
        add(format!("{p}mlp.down_proj.weight"), vec![HIDDEN, FFN], Q8_0);
    }
    add("model.norm.weight".into(), vec![HIDDEN], F32);
    if !tied {
        add("lm_head.weight".into(), vec![VOCAB, HIDDEN], BF16);
    }
    t
}

/// The GGUF name of a Hugging Face name (test-side table).
pub fn gguf_name(hf: &str) -> String {
    let global = [
        ("model.embed_tokens.weight", "token_embd.weight"),
        ("model.norm.weight", "output_norm.weight"),
        ("lm_head.weight", "output.weight"),
    ];
    if let Some((_, g)) = global.iter().find(|(h, _)| *h == hf) {
        return g.to_string();
    }
    let rest = hf
        .strip_prefix("model.layers.")
        .unwrap_or_else(|| panic!("{hf}"));
    let (n, suffix) = rest.split_once('.').unwrap_or_else(|| panic!("{hf}"));
    let g = match suffix {
        "input_layernorm.weight" => "attn_norm.weight",
        "self_attn.q_proj.weight" => "attn_q.weight",
        "self_attn.k_proj.weight" => "attn_k.weight",
        "self_attn.v_proj.weight" => "attn_v.weight",
        "self_attn.o_proj.weight" => "attn_output.weight",
        "post_attention_layernorm.weight" => "ffn_norm.weight",
        "mlp.gate_proj.weight" => "ffn_gate.weight",
        "mlp.up_proj.weight" => "ffn_up.weight",
        "mlp.down_proj.weight" => "ffn_down.weight",
        other => panic!("{other}"),
    };
    format!("blk.{n}.{g}")
}

/// The tiny model's tokens: 3 control tokens, then byte-level pieces.
pub const TOKENS: [&str; VOCAB] = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "a",
    "b",
    "c",
    "Ġ",
    "ab",
    "Ġa",
    "Ġab",
    "1",
    "2",
    "Ċ",
    "abc",
    "<extra>",
    "d",
];
pub const MERGES: [&str; 4] = ["a b", "Ġ a", "Ġa b", "ab c"];

/// The tiny model as a GGUF file (q/k rows permuted the way llama.cpp does).
pub fn tiny_gguf(tied: bool) -> Writer {
    let mut types = vec![W::I32(1); VOCAB];
    for t in types.iter_mut().take(3) {
        *t = W::I32(3);
    }
    types[14] = W::I32(4);
    let mut w = Writer::default()
        .kv("general.architecture", W::Str("llama".into()))
        .kv("general.name", W::Str("tiny".into()))
        .kv("llama.context_length", W::U32(128))
        .kv("llama.embedding_length", W::U32(HIDDEN as u32))
        .kv("llama.block_count", W::U32(LAYERS as u32))
        .kv("llama.feed_forward_length", W::U32(FFN as u32))
        .kv("llama.rope.dimension_count", W::U32(HEAD_DIM as u32))
        .kv("llama.attention.head_count", W::U32(HEADS as u32))
        .kv("llama.attention.head_count_kv", W::U32(KV_HEADS as u32))
        .kv("llama.rope.freq_base", W::F32(100_000.0))
        .kv("llama.attention.layer_norm_rms_epsilon", W::F32(1e-5))
        .kv("tokenizer.ggml.model", W::Str("gpt2".into()))
        .kv("tokenizer.ggml.pre", W::Str("smollm".into()))
        .kv("tokenizer.ggml.tokens", W::strs(&TOKENS))
        .kv("tokenizer.ggml.token_type", W::Arr(5, types))
        .kv("tokenizer.ggml.merges", W::strs(&MERGES))
        .kv("tokenizer.ggml.bos_token_id", W::U32(1))
        .kv("tokenizer.ggml.eos_token_id", W::U32(2))
        .kv("tokenizer.ggml.padding_token_id", W::U32(2))
        .kv(
            "tokenizer.chat_template",
            W::Str("{% for m in messages %}<|im_start|>{{ m.content }}{% endfor %}".into()),
        );
    for (name, shape, ty, data) in tiny_tensors(tied) {
        let data = if name.ends_with("q_proj.weight") {
            llama_cpp_permute(&data, HEADS, HIDDEN)
        } else if name.ends_with("k_proj.weight") {
            llama_cpp_permute(&data, KV_HEADS, HIDDEN)
        } else {
            data
        };
        let bytes = match ty {
            F32 => f32_bytes(&data),
            F16 => f16_bytes(&data),
            BF16 => bf16_bytes(&data),
            Q8_0 => q8_0_bytes(&data, |_| 1.0 / 64.0),
            Q4_1 => q4_1_bytes(&data, |_| (1.0 / 8.0, -1.0)),
            other => panic!("type {other}"),
        };
        let dims: Vec<u64> = shape.iter().rev().map(|&d| d as u64).collect();
        w = w.tensor(&gguf_name(&name), &dims, ty, bytes);
    }
    w
}

/// A fresh directory under the test target's scratch space.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}
