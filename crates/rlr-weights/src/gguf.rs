//! GGUF files (versions 2 and 3, little-endian): the metadata table, the
//! tensor table, and each tensor's data dequantised to f32.
//!
//! Layout: `GGUF`, a `u32` version, `u64` tensor and key/value counts, the
//! key/value entries (`u64`-length UTF-8 key, `u32` type tag, value), the
//! tensor infos (name, `u32` dimension count, `u64` dimensions with the
//! fastest-varying first, `u32` ggml type, `u64` offset into the data
//! section), padding to `general.alignment` (default 32), then the data.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Location, Result};

mod dequant;
mod header;
mod reader;
mod types;
mod value;

pub use types::GgmlType;
pub use value::{Value, ValueType};

/// The metadata key holding the data alignment.
pub const ALIGNMENT_KEY: &str = "general.alignment";
/// The data alignment when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;

/// One entry of the tensor table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// The tensor's name in the file (`blk.0.attn_q.weight`).
    pub name: String,
    /// Dimensions as ggml orders them: `dims[0]` (ne0) varies fastest, so a
    /// matrix `[in, out]` here is row-major `[out, in]`.
    pub dims: Vec<u64>,
    /// The element type.
    pub ggml_type: GgmlType,
    /// Byte offset of the data from the start of the data section.
    pub offset: u64,
    /// The product of `dims`.
    pub n_elements: u64,
    /// Bytes of data.
    pub n_bytes: u64,
}

impl TensorInfo {
    /// The dimensions in row-major order (slowest first), as Hugging Face and
    /// numpy write them.
    pub fn shape(&self) -> Vec<usize> {
        self.dims.iter().rev().map(|&d| d as usize).collect()
    }
}

/// A parsed GGUF file, holding its bytes.
#[derive(Clone, Debug)]
pub struct Gguf {
    /// The format version (2 or 3).
    pub version: u32,
    /// The key/value table, by key.
    pub metadata: BTreeMap<String, Value>,
    /// The tensor table, in file order.
    pub tensors: Vec<TensorInfo>,
    /// The data alignment in bytes.
    pub alignment: u64,
    /// Where the data section starts, in bytes from the start of the file.
    pub data_offset: u64,
    bytes: Vec<u8>,
}

impl Gguf {
    /// Reads and parses the file at `path`; errors name the file.
    pub fn read_file(path: &Path) -> Result<Gguf> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::new(Location::File, format!("cannot read: {e}")).in_file(path))?;
        Gguf::from_bytes(bytes).map_err(|e| e.in_file(path))
    }

    /// Parses a whole GGUF file held in memory. Every tensor's data range is
    /// checked to lie inside `bytes`.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Gguf> {
        let h = header::parse(&bytes)?;
        Ok(Gguf {
            version: h.version,
            metadata: h.metadata,
            tensors: h.tensors,
            alignment: h.alignment,
            data_offset: h.data_offset,
            bytes,
        })
    }

    /// The metadata value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.get(key)
    }

    /// The string under `key`; `Ok(None)` when absent, an error when it is
    /// not a string.
    pub fn get_str(&self, key: &str) -> Result<Option<&str>> {
        self.typed(key, "a string", Value::as_str)
    }

    /// The non-negative integer (of any integer type) under `key`.
    pub fn get_u64(&self, key: &str) -> Result<Option<u64>> {
        self.typed(key, "a non-negative integer", Value::as_u64)
    }

    /// The number (float or integer) under `key`.
    pub fn get_f64(&self, key: &str) -> Result<Option<f64>> {
        self.typed(key, "a number", Value::as_f64)
    }

    /// The boolean under `key`.
    pub fn get_bool(&self, key: &str) -> Result<Option<bool>> {
        self.typed(key, "a bool", Value::as_bool)
    }

    /// The array under `key`.
    pub fn get_array(&self, key: &str) -> Result<Option<&[Value]>> {
        self.typed(key, "an array", Value::as_array)
    }

    fn typed<'a, T>(
        &'a self,
        key: &str,
        expected: &str,
        f: impl Fn(&'a Value) -> Option<T>,
    ) -> Result<Option<T>> {
        match self.metadata.get(key) {
            None => Ok(None),
            Some(v) => f(v).map(Some).ok_or_else(|| {
                Error::key(key, format!("expected {expected}, found {}", v.describe()))
            }),
        }
    }

    /// The tensor table entry named `name`.
    pub fn tensor_info(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// The raw bytes of a tensor's data (ranges were checked at parse time).
    pub fn tensor_bytes(&self, info: &TensorInfo) -> &[u8] {
        let start = (self.data_offset + info.offset) as usize;
        let end = start + info.n_bytes as usize;
        self.bytes.get(start..end).unwrap_or(&[])
    }

    /// The tensor `name`'s elements as f32, in file order (ne0 fastest).
    /// Errors when there is no such tensor or its type is not F32, F16,
    /// BF16, Q8_0 or Q4_1.
    pub fn tensor_f32(&self, name: &str) -> Result<Vec<f32>> {
        let info = self
            .tensor_info(name)
            .ok_or_else(|| Error::tensor(name, "no such tensor in the file"))?;
        self.dequantize(info)
    }

    /// The elements of the tensor `info` (an entry of [`Gguf::tensors`]) as f32.
    pub fn dequantize(&self, info: &TensorInfo) -> Result<Vec<f32>> {
        dequant::dequantize(info.ggml_type, self.tensor_bytes(info)).ok_or_else(|| {
            Error::tensor(
                &info.name,
                format!(
                    "type {} cannot be dequantised (supported: F32, F16, BF16, Q8_0, Q4_1)",
                    info.ggml_type
                ),
            )
        })
    }

    /// The file's length in bytes.
    pub fn file_len(&self) -> usize {
        self.bytes.len()
    }
}
