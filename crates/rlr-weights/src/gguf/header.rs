//! The file header: magic, version, the key/value table, the tensor info
//! table, alignment and where tensor data starts. Every count is checked
//! against the bytes left before anything is allocated for it, and every
//! tensor's data range against the file's length.

use std::collections::BTreeMap;

use super::reader::Reader;
use super::types::GgmlType;
use super::value::{Value, read_type, read_value};
use super::{ALIGNMENT_KEY, DEFAULT_ALIGNMENT, TensorInfo};
use crate::error::{Error, Result};

/// ggml's `GGML_MAX_DIMS`.
const MAX_DIMS: u32 = 4;
/// Fewest bytes of one key/value entry: key length, type tag, a 1-byte value.
const MIN_KV_BYTES: u64 = 8 + 4 + 1;
/// Fewest bytes of one tensor info: name length, dimension count, type, offset.
const MIN_TENSOR_INFO_BYTES: u64 = 8 + 4 + 4 + 8;

/// Everything before the tensor data.
pub(crate) struct Header {
    pub(crate) version: u32,
    pub(crate) metadata: BTreeMap<String, Value>,
    pub(crate) tensors: Vec<TensorInfo>,
    pub(crate) alignment: u64,
    pub(crate) data_offset: u64,
}

/// Parses and validates the header of the GGUF file `buf`.
pub(crate) fn parse(buf: &[u8]) -> Result<Header> {
    let mut r = Reader::new(buf);
    let magic = r.take(4, "the magic bytes `GGUF`")?;
    if magic != b"GGUF" {
        return Err(Error::at(
            0,
            format!("expected the magic bytes `GGUF`, found {magic:02x?}: not a GGUF file"),
        ));
    }
    let version = r.u32("the format version")?;
    match version {
        2 | 3 => {}
        v if matches!(v.swap_bytes(), 2 | 3) => {
            return Err(Error::at(
                4,
                "a big-endian GGUF file; only little-endian files are supported",
            ));
        }
        1 => {
            return Err(Error::at(
                4,
                "GGUF version 1 is not supported (expected version 2 or 3)",
            ));
        }
        v => {
            return Err(Error::at(
                4,
                format!("unknown GGUF version {v} (expected 2 or 3)"),
            ));
        }
    }
    let n_tensors = r.u64("the tensor count")?;
    let n_kv = r.u64("the metadata key/value count")?;
    check_count(&r, 16, n_kv, MIN_KV_BYTES, "metadata entries")?;
    let metadata = read_metadata(&mut r, n_kv)?;
    check_count(&r, 8, n_tensors, MIN_TENSOR_INFO_BYTES, "tensor infos")?;
    let alignment = alignment(&metadata)?;
    let mut infos = Vec::with_capacity(n_tensors as usize);
    for _ in 0..n_tensors {
        infos.push(read_tensor_info(&mut r)?);
    }
    let end = r.pos();
    let data_offset = end
        .checked_next_multiple_of(alignment)
        .ok_or_else(|| Error::at(end, "the data offset overflows"))?;
    let len = buf.len() as u64;
    if !infos.is_empty() && data_offset > len {
        return Err(Error::at(
            end,
            format!(
                "expected padding to byte {data_offset} (alignment {alignment}) before the tensor data, but the file ends at byte {len}"
            ),
        ));
    }
    let mut names = BTreeMap::new();
    let mut tensors = Vec::with_capacity(infos.len());
    for (info, at) in infos {
        if names.insert(info.name.clone(), ()).is_some() {
            return Err(Error::at(
                at.name,
                format!("tensor `{}` appears twice in the tensor table", info.name),
            ));
        }
        check_data_range(&info, &at, data_offset, alignment, len)?;
        tensors.push(info);
    }
    Ok(Header {
        version,
        metadata,
        tensors,
        alignment,
        data_offset,
    })
}

/// Refuses a count whose entries could not fit in what is left of the file.
fn check_count(r: &Reader<'_>, at: u64, n: u64, min: u64, what: &str) -> Result<()> {
    let rem = r.remaining() as u64;
    if n.checked_mul(min).is_none_or(|b| b > rem) {
        return Err(Error::at(
            at,
            format!(
                "{n} {what} need at least {min} bytes each, but only {rem} bytes are left after byte {}",
                r.pos()
            ),
        ));
    }
    Ok(())
}

fn read_metadata(r: &mut Reader<'_>, n: u64) -> Result<BTreeMap<String, Value>> {
    let mut map = BTreeMap::new();
    for _ in 0..n {
        let at = r.pos();
        let key = r.string("a metadata key")?.to_string();
        let t = read_type(r, &format!("the value type of `{key}`"))?;
        let value = read_value(r, t, 0)?;
        if map.contains_key(&key) {
            return Err(Error::at(at, format!("metadata key `{key}` appears twice")));
        }
        map.insert(key, value);
    }
    Ok(map)
}

fn alignment(metadata: &BTreeMap<String, Value>) -> Result<u64> {
    let Some(v) = metadata.get(ALIGNMENT_KEY) else {
        return Ok(DEFAULT_ALIGNMENT);
    };
    match v.as_u64() {
        Some(a) if a.is_power_of_two() => Ok(a),
        _ => Err(Error::key(
            ALIGNMENT_KEY,
            format!("expected a power of two, found {} {v:?}", v.describe()),
        )),
    }
}

/// Offsets of a tensor info's fields, for error messages.
struct InfoAt {
    name: u64,
    offset: u64,
}

fn read_tensor_info(r: &mut Reader<'_>) -> Result<(TensorInfo, InfoAt)> {
    let name_at = r.pos();
    let name = r.string("a tensor name")?.to_string();
    let dims_at = r.pos();
    let n_dims = r.u32(&format!("the dimension count of `{name}`"))?;
    if n_dims > MAX_DIMS {
        return Err(Error::at(
            dims_at,
            format!("tensor `{name}` has {n_dims} dimensions (expected at most {MAX_DIMS})"),
        ));
    }
    let mut dims = Vec::with_capacity(n_dims as usize);
    for i in 0..n_dims {
        let at = r.pos();
        let d = r.u64(&format!("dimension {i} of `{name}`"))?;
        if d > i64::MAX as u64 {
            return Err(Error::at(
                at,
                format!("dimension {i} of `{name}` is {d} (negative as ggml's int64)"),
            ));
        }
        dims.push(d);
    }
    let ty_at = r.pos();
    let id = r.u32(&format!("the type of `{name}`"))?;
    let ggml_type = GgmlType::from_id(id).ok_or_else(|| {
        Error::at(
            ty_at,
            format!("tensor `{name}` has unknown ggml type id {id}"),
        )
    })?;
    let offset_at = r.pos();
    let offset = r.u64(&format!("the data offset of `{name}`"))?;
    let n_elements = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            Error::at(
                dims_at,
                format!("tensor `{name}`: the element count of {dims:?} overflows"),
            )
        })?;
    let block = ggml_type.block_elements();
    let ne0 = dims.first().copied().unwrap_or(1);
    if !ne0.is_multiple_of(block) {
        return Err(Error::at(
            dims_at,
            format!(
                "tensor `{name}`: rows of {ne0} elements are not whole {ggml_type} blocks of {block}"
            ),
        ));
    }
    let n_bytes = (n_elements / block)
        .checked_mul(ggml_type.block_bytes())
        .ok_or_else(|| {
            Error::at(
                dims_at,
                format!("tensor `{name}`: the byte size of {dims:?} overflows"),
            )
        })?;
    let info = TensorInfo {
        name,
        dims,
        ggml_type,
        offset,
        n_elements,
        n_bytes,
    };
    let at = InfoAt {
        name: name_at,
        offset: offset_at,
    };
    Ok((info, at))
}

fn check_data_range(
    info: &TensorInfo,
    at: &InfoAt,
    data_offset: u64,
    alignment: u64,
    len: u64,
) -> Result<()> {
    if !info.offset.is_multiple_of(alignment) {
        return Err(Error::at(
            at.offset,
            format!(
                "tensor `{}`: data offset {} is not a multiple of the alignment {alignment}",
                info.name, info.offset
            ),
        ));
    }
    let end = data_offset
        .checked_add(info.offset)
        .and_then(|s| s.checked_add(info.n_bytes));
    if end.is_none_or(|e| e > len) {
        return Err(Error::at(
            at.offset,
            format!(
                "tensor `{}`: its {} bytes at data offset {} (file byte {}) extend past the end of the file ({len} bytes)",
                info.name,
                info.n_bytes,
                info.offset,
                data_offset.saturating_add(info.offset)
            ),
        ));
    }
    Ok(())
}
