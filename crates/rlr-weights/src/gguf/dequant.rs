//! Dequantisation to f32 of the types small Llama GGUFs use: F32, F16, BF16,
//! Q8_0 and Q4_1. Byte lengths were checked when the header was parsed, so
//! these only walk whole elements or blocks.

use half::f16;

use super::types::GgmlType;

/// `bytes` (a whole number of blocks of `ty`) as f32 values, or `None` when
/// `ty` is not one of the supported types.
pub(crate) fn dequantize(ty: GgmlType, bytes: &[u8]) -> Option<Vec<f32>> {
    let n = bytes.len() as u64 / ty.block_bytes() * ty.block_elements();
    let mut out = Vec::with_capacity(n as usize);
    match ty {
        GgmlType::F32 => out.extend(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        ),
        GgmlType::F16 => out.extend(bytes.chunks_exact(2).map(|c| half_at(c, 0))),
        GgmlType::BF16 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|c| f32::from_bits(u32::from(u16::from_le_bytes([c[0], c[1]])) << 16)),
        ),
        GgmlType::Q8_0 => bytes.chunks_exact(34).for_each(|b| q8_0(b, &mut out)),
        GgmlType::Q4_1 => bytes.chunks_exact(20).for_each(|b| q4_1(b, &mut out)),
        _ => return None,
    }
    Some(out)
}

/// The little-endian f16 at byte `i` of `b`.
fn half_at(b: &[u8], i: usize) -> f32 {
    f16::from_bits(u16::from_le_bytes([b[i], b[i + 1]])).to_f32()
}

/// One Q8_0 block: f16 scale `d`, then 32 signed bytes `q`; x = d·q.
fn q8_0(block: &[u8], out: &mut Vec<f32>) {
    let d = half_at(block, 0);
    out.extend(block[2..34].iter().map(|&q| d * f32::from(q as i8)));
}

/// One Q4_1 block: f16 scale `d`, f16 minimum `m`, then 16 bytes whose low
/// nibbles are elements 0–15 and high nibbles elements 16–31; x = d·q + m.
fn q4_1(block: &[u8], out: &mut Vec<f32>) {
    let d = half_at(block, 0);
    let m = half_at(block, 2);
    let qs = &block[4..20];
    out.extend(qs.iter().map(|&q| d * f32::from(q & 0x0f) + m));
    out.extend(qs.iter().map(|&q| d * f32::from(q >> 4) + m));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f16_bytes(x: f32) -> [u8; 2] {
        f16::from_f32(x).to_bits().to_le_bytes()
    }

    #[test]
    fn q4_1_low_nibbles_come_first() {
        let mut b = Vec::new();
        b.extend_from_slice(&f16_bytes(0.5)); // d
        b.extend_from_slice(&f16_bytes(-1.0)); // m
        // Byte j holds element j (low) and element j + 16 (high).
        b.extend((0u8..16).map(|j| j | ((15 - j) << 4)));
        let x = dequantize(GgmlType::Q4_1, &b).unwrap_or_default();
        assert_eq!(x.len(), 32);
        for j in 0..16 {
            assert_eq!(x[j], 0.5 * j as f32 - 1.0, "element {j}");
            assert_eq!(x[j + 16], 0.5 * (15 - j) as f32 - 1.0, "element {}", j + 16);
        }
    }

    #[test]
    fn q8_0_is_signed() {
        let mut b = f16_bytes(0.25).to_vec();
        b.extend((0..32).map(|i: i32| (i - 16) as i8 as u8));
        let x = dequantize(GgmlType::Q8_0, &b).unwrap_or_default();
        let want: Vec<f32> = (0..32).map(|i| 0.25 * (i - 16) as f32).collect();
        assert_eq!(x, want);
    }

    #[test]
    fn plain_types() {
        let f32s: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(dequantize(GgmlType::F32, &f32s), Some(vec![1.5, -2.0]));
        let f16s = [f16_bytes(3.0), f16_bytes(-0.125)].concat();
        assert_eq!(dequantize(GgmlType::F16, &f16s), Some(vec![3.0, -0.125]));
        // bf16 is the top half of an f32: 1.0 = 0x3f80, -2.5 = 0xc020.
        assert_eq!(
            dequantize(GgmlType::BF16, &[0x80, 0x3f, 0x20, 0xc0]),
            Some(vec![1.0, -2.5])
        );
        assert_eq!(dequantize(GgmlType::Q4_K, &[0; 144]), None);
    }
}
