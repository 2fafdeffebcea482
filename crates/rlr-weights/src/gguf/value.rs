//! Metadata values: the thirteen GGUF value types, arrays (of any type,
//! nested) included.

use super::reader::Reader;
use crate::error::{Error, Result};

/// Deepest nesting of arrays accepted: real files use one level; a bound
/// keeps a crafted file from exhausting the stack.
const MAX_ARRAY_DEPTH: usize = 8;

/// The type tag of a metadata value.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    Bool,
    String,
    Array,
    U64,
    I64,
    F64,
}

impl ValueType {
    /// The type with this tag (0..=12).
    pub fn from_id(id: u32) -> Option<ValueType> {
        use ValueType::*;
        Some(match id {
            0 => U8,
            1 => I8,
            2 => U16,
            3 => I16,
            4 => U32,
            5 => I32,
            6 => F32,
            7 => Bool,
            8 => String,
            9 => Array,
            10 => U64,
            11 => I64,
            12 => F64,
            _ => return None,
        })
    }

    /// The tag stored in the file.
    pub fn id(self) -> u32 {
        self as u32
    }

    /// The fewest bytes one value of this type occupies: what an array's
    /// count is checked against before anything is allocated for it.
    fn min_bytes(self) -> usize {
        use ValueType::*;
        match self {
            U8 | I8 | Bool => 1,
            U16 | I16 => 2,
            U32 | I32 | F32 => 4,
            U64 | I64 | F64 | String => 8,
            Array => 12,
        }
    }
}

/// A metadata value.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    /// The element type (kept so that an empty array still has one) and the elements.
    Array(ValueType, Vec<Value>),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl Value {
    /// This value's type tag.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::U8(_) => ValueType::U8,
            Value::I8(_) => ValueType::I8,
            Value::U16(_) => ValueType::U16,
            Value::I16(_) => ValueType::I16,
            Value::U32(_) => ValueType::U32,
            Value::I32(_) => ValueType::I32,
            Value::F32(_) => ValueType::F32,
            Value::Bool(_) => ValueType::Bool,
            Value::String(_) => ValueType::String,
            Value::Array(..) => ValueType::Array,
            Value::U64(_) => ValueType::U64,
            Value::I64(_) => ValueType::I64,
            Value::F64(_) => ValueType::F64,
        }
    }

    /// Any integer value, as `i128` (every GGUF integer type fits).
    pub fn as_int(&self) -> Option<i128> {
        Some(match *self {
            Value::U8(v) => v.into(),
            Value::I8(v) => v.into(),
            Value::U16(v) => v.into(),
            Value::I16(v) => v.into(),
            Value::U32(v) => v.into(),
            Value::I32(v) => v.into(),
            Value::U64(v) => v.into(),
            Value::I64(v) => v.into(),
            _ => return None,
        })
    }

    /// A non-negative integer value of any integer type, as `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_int().and_then(|v| u64::try_from(v).ok())
    }

    /// A float, or an integer converted to one.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v.into()),
            Value::F64(v) => Some(v),
            _ => self.as_int().map(|v| v as f64),
        }
    }

    /// A boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// A string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// An array's elements.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(_, items) => Some(items),
            _ => None,
        }
    }

    /// A short description for error messages: the type, and an array's
    /// element type and length.
    pub fn describe(&self) -> String {
        match self {
            Value::Array(t, items) => format!("an array of {} {t:?}", items.len()),
            v => format!("a {:?}", v.value_type()),
        }
    }
}

/// Reads a value type tag.
pub(crate) fn read_type(r: &mut Reader<'_>, what: &str) -> Result<ValueType> {
    let at = r.pos();
    let id = r.u32(what)?;
    ValueType::from_id(id).ok_or_else(|| {
        Error::at(
            at,
            format!("{what}: unknown value type {id} (expected 0 to 12)"),
        )
    })
}

/// Reads one value of type `t`.
pub(crate) fn read_value(r: &mut Reader<'_>, t: ValueType, depth: usize) -> Result<Value> {
    Ok(match t {
        ValueType::U8 => Value::U8(r.u8("a u8 value")?),
        ValueType::I8 => Value::I8(r.u8("an i8 value")? as i8),
        ValueType::U16 => Value::U16(r.u16("a u16 value")?),
        ValueType::I16 => Value::I16(r.u16("an i16 value")? as i16),
        ValueType::U32 => Value::U32(r.u32("a u32 value")?),
        ValueType::I32 => Value::I32(r.u32("an i32 value")? as i32),
        ValueType::F32 => Value::F32(f32::from_bits(r.u32("an f32 value")?)),
        ValueType::U64 => Value::U64(r.u64("a u64 value")?),
        ValueType::I64 => Value::I64(r.u64("an i64 value")? as i64),
        ValueType::F64 => Value::F64(f64::from_bits(r.u64("an f64 value")?)),
        ValueType::Bool => {
            let at = r.pos();
            match r.u8("a bool value")? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => {
                    return Err(Error::at(
                        at,
                        format!("expected a bool (0 or 1), found {b}"),
                    ));
                }
            }
        }
        ValueType::String => Value::String(r.string("a string value")?.to_string()),
        ValueType::Array => read_array(r, depth)?,
    })
}

fn read_array(r: &mut Reader<'_>, depth: usize) -> Result<Value> {
    let at = r.pos();
    if depth >= MAX_ARRAY_DEPTH {
        return Err(Error::at(
            at,
            format!("arrays nested more than {MAX_ARRAY_DEPTH} deep"),
        ));
    }
    let elem = read_type(r, "an array's element type")?;
    let count_at = r.pos();
    let n = r.u64("an array's length")?;
    let need = n.checked_mul(elem.min_bytes() as u64);
    let rem = r.remaining();
    if need.is_none_or(|need| need > rem as u64) {
        return Err(Error::at(
            count_at,
            format!(
                "an array of {n} {elem:?} needs at least {} bytes, but only {rem} are left in the file",
                need.map_or_else(|| "2^64".to_string(), |b| b.to_string())
            ),
        ));
    }
    let mut items = Vec::with_capacity(n as usize);
    for _ in 0..n {
        items.push(read_value(r, elem, depth + 1)?);
    }
    Ok(Value::Array(elem, items))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8], t: ValueType) -> Result<Value> {
        read_value(&mut Reader::new(bytes), t, 0)
    }

    #[test]
    fn every_scalar_type_reads_little_endian() {
        assert_eq!(parse(&[0xfe], ValueType::I8).ok(), Some(Value::I8(-2)));
        assert_eq!(
            parse(&[0xfe, 0xff], ValueType::I16).ok(),
            Some(Value::I16(-2))
        );
        assert_eq!(
            parse(&1.5f32.to_le_bytes(), ValueType::F32).ok(),
            Some(Value::F32(1.5))
        );
        assert_eq!(
            parse(&(-3i64).to_le_bytes(), ValueType::I64).ok(),
            Some(Value::I64(-3))
        );
        assert_eq!(parse(&[1], ValueType::Bool).ok(), Some(Value::Bool(true)));
        let e = parse(&[2], ValueType::Bool)
            .err()
            .unwrap_or_else(|| panic!("bool 2"));
        assert!(e.message.contains("0 or 1"));
    }

    #[test]
    fn an_array_count_beyond_the_file_is_refused_at_the_count() {
        let mut b = 4u32.to_le_bytes().to_vec(); // of u32
        b.extend_from_slice(&(u64::MAX / 2).to_le_bytes());
        b.extend_from_slice(&[0; 16]);
        let e = parse(&b, ValueType::Array)
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert_eq!(e.offset(), Some(4));
        assert!(e.message.contains("2^64"), "{}", e.message);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let mut b = Vec::new();
        for _ in 0..100 {
            b.extend_from_slice(&9u32.to_le_bytes());
            b.extend_from_slice(&1u64.to_le_bytes());
        }
        let e = parse(&b, ValueType::Array)
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert!(e.message.contains("nested"), "{}", e.message);
    }

    #[test]
    fn conversions() {
        assert_eq!(Value::I32(-1).as_u64(), None);
        assert_eq!(Value::U32(7).as_u64(), Some(7));
        assert_eq!(Value::U32(7).as_f64(), Some(7.0));
        assert_eq!(Value::String("x".into()).as_u64(), None);
        assert_eq!(
            Value::Array(ValueType::U8, vec![]).describe(),
            "an array of 0 U8"
        );
    }
}
