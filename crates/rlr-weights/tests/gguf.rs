//! The GGUF reader on synthetic files from the test writer: every value
//! type, every supported tensor type, alignment, and malformed input.

mod common;

use common::*;
use rlr_weights::gguf::{GgmlType, Gguf, Value, ValueType};
use rlr_weights::{Error, Location};

fn parse(bytes: Vec<u8>) -> Gguf {
    Gguf::from_bytes(bytes).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(bytes: Vec<u8>) -> Error {
    match Gguf::from_bytes(bytes) {
        Ok(_) => panic!("a malformed file was accepted"),
        Err(e) => e,
    }
}

fn tensor_of(ty: u32, dims: &[u64], data: Vec<u8>) -> Writer {
    Writer::default().tensor("t", dims, ty, data)
}

#[test]
fn every_value_type_round_trips_in_v2_and_v3() {
    for version in [2, 3] {
        let mut w = Writer::default()
            .kv("u8", W::U8(200))
            .kv("i8", W::I8(-100))
            .kv("u16", W::U16(60_000))
            .kv("i16", W::I16(-30_000))
            .kv("u32", W::U32(4_000_000_000))
            .kv("i32", W::I32(-2_000_000_000))
            .kv("f32", W::F32(0.1))
            .kv("bool", W::Bool(true))
            .kv("str", W::Str("héllo ✓".into()))
            .kv("u64", W::U64(u64::MAX))
            .kv("i64", W::I64(i64::MIN))
            .kv("f64", W::F64(-1e300))
            .kv("strs", W::strs(&["", "a b", "Ġthe", "<|im_start|>"]))
            .kv("empty", W::Arr(4, vec![]))
            .kv(
                "nested",
                W::Arr(
                    9,
                    vec![
                        W::Arr(0, vec![W::U8(1), W::U8(2)]),
                        W::Arr(8, vec![W::Str("x".into())]),
                    ],
                ),
            )
            .kv("empty_key_next", W::Bool(false))
            .kv("", W::U8(0));
        w.version = version;
        let g = parse(w.bytes());
        assert_eq!(g.version, version);
        assert!(g.tensors.is_empty());
        assert_eq!(g.alignment, 32);
        let m = &g.metadata;
        assert_eq!(m.len(), 17);
        assert_eq!(m["u8"], Value::U8(200));
        assert_eq!(m["i8"], Value::I8(-100));
        assert_eq!(m["u16"], Value::U16(60_000));
        assert_eq!(m["i16"], Value::I16(-30_000));
        assert_eq!(m["u32"], Value::U32(4_000_000_000));
        assert_eq!(m["i32"], Value::I32(-2_000_000_000));
        assert_eq!(m["f32"], Value::F32(0.1));
        assert_eq!(m["bool"], Value::Bool(true));
        assert_eq!(m["str"], Value::String("héllo ✓".into()));
        assert_eq!(m["u64"], Value::U64(u64::MAX));
        assert_eq!(m["i64"], Value::I64(i64::MIN));
        assert_eq!(m["f64"], Value::F64(-1e300));
        let strs: Vec<&str> = m["strs"]
            .as_array()
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(strs, ["", "a b", "Ġthe", "<|im_start|>"]);
        assert_eq!(m["empty"], Value::Array(ValueType::U32, vec![]));
        assert_eq!(
            m["nested"],
            Value::Array(
                ValueType::Array,
                vec![
                    Value::Array(ValueType::U8, vec![Value::U8(1), Value::U8(2)]),
                    Value::Array(ValueType::String, vec![Value::String("x".into())]),
                ]
            )
        );
        assert_eq!(m[""], Value::U8(0));
        // Typed accessors.
        assert_eq!(g.get_u64("u32").ok().flatten(), Some(4_000_000_000));
        assert_eq!(g.get_str("str").ok().flatten(), Some("héllo ✓"));
        assert_eq!(g.get_u64("missing").ok().flatten(), None);
        let e = g
            .get_u64("str")
            .err()
            .unwrap_or_else(|| panic!("a string read as a number"));
        assert_eq!(e.location, Location::Key("str".into()));
        assert!(e.message.contains("found a String"), "{e}");
        assert!(g.get_u64("i8").is_err(), "a negative value read as u64");
    }
}

#[test]
fn every_supported_type_dequantises_to_the_written_values() {
    let plain: Vec<f32> = (0..64).map(|i| (i as f32 - 31.0) / 8.0).collect();
    // Q8_0: two blocks with different scales, q spanning -128..=127.
    let q8: Vec<f32> = (0..64)
        .map(|i| {
            if i < 32 {
                (-128 + 8 * i) as f32 * 0.5
            } else {
                (127 - 8 * (i - 32)) as f32 / 128.0
            }
        })
        .collect();
    // Q4_1: two blocks, different scale and minimum, every nibble value.
    let q4: Vec<f32> = (0..64)
        .map(|i| {
            if i < 32 {
                (i % 16) as f32 * 0.25 - 2.0
            } else {
                ((i * 7) % 16) as f32 * 2.0 + 0.5
            }
        })
        .collect();
    let w = Writer::default()
        .kv("general.name", W::Str("dtypes".into()))
        .tensor("f32", &[16, 4], F32, f32_bytes(&plain))
        .tensor("f16", &[64], F16, f16_bytes(&plain))
        .tensor("bf16", &[8, 8], BF16, bf16_bytes(&plain))
        .tensor(
            "q8_0",
            &[32, 2],
            Q8_0,
            q8_0_bytes(&q8, |b| if b == 0 { 0.5 } else { 1.0 / 128.0 }),
        )
        .tensor(
            "q4_1",
            &[64],
            Q4_1,
            q4_1_bytes(&q4, |b| if b == 0 { (0.25, -2.0) } else { (2.0, 0.5) }),
        );
    let g = parse(w.bytes());
    let get = |n: &str| g.tensor_f32(n).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(get("f32"), plain);
    assert_eq!(get("f16"), plain);
    assert_eq!(get("bf16"), plain);
    assert_eq!(get("q8_0"), q8);
    assert_eq!(get("q4_1"), q4);
    let info = g.tensor_info("f32").unwrap_or_else(|| panic!("no f32"));
    assert_eq!(
        (info.shape(), info.n_elements, info.n_bytes),
        (vec![4, 16], 64, 256)
    );
    let info = g.tensor_info("q4_1").unwrap_or_else(|| panic!("no q4_1"));
    assert_eq!((info.ggml_type, info.n_bytes), (GgmlType::Q4_1, 40));
}

#[test]
fn q4_1_nibble_order_from_hand_written_bytes() {
    // d = 1, m = 0: byte j = 0xBA holds element j = 0xA and element j+16 = 0xB.
    let mut b = f16_bytes(&[1.0, 0.0]);
    b.extend((0..16).map(|j: u8| (j % 16) | (((15 - j) % 16) << 4)));
    let g = parse(tensor_of(Q4_1, &[32], b).bytes());
    let x = g.tensor_f32("t").unwrap_or_else(|e| panic!("{e}"));
    let want: Vec<f32> = (0..16)
        .map(|j| j as f32)
        .chain((0..16).map(|j| 15.0 - j as f32))
        .collect();
    assert_eq!(x, want);
}

#[test]
fn data_offsets_respect_the_alignment() {
    for a in [1u32, 8, 32, 64, 4096] {
        let w = Writer::default()
            .aligned(a)
            .tensor("a", &[3], F32, f32_bytes(&[1.0, 2.0, 3.0]))
            .tensor("b", &[1], F16, f16_bytes(&[4.0]))
            .tensor("c", &[2], F32, f32_bytes(&[5.0, 6.0]));
        let g = parse(w.bytes());
        assert_eq!(g.alignment, u64::from(a));
        assert_eq!(g.data_offset % u64::from(a), 0);
        for t in &g.tensors {
            assert_eq!(t.offset % u64::from(a), 0, "{} at {}", t.name, t.offset);
        }
        assert_eq!(
            g.tensor_f32("c").ok(),
            Some(vec![5.0, 6.0]),
            "alignment {a}"
        );
        assert_eq!(g.tensor_f32("b").ok(), Some(vec![4.0]));
    }
}

#[test]
fn unsupported_types_parse_but_do_not_dequantise() {
    let g = parse(tensor_of(Q4_K, &[256], vec![0; 144]).bytes());
    assert_eq!(g.tensors[0].ggml_type, GgmlType::Q4_K);
    let e = g
        .tensor_f32("t")
        .err()
        .unwrap_or_else(|| panic!("Q4_K dequantised"));
    assert_eq!(e.location, Location::Tensor("t".into()));
    assert!(e.message.contains("Q4_K"), "{e}");
    assert!(g.tensor_f32("nope").is_err());
}

#[test]
fn a_truncated_file_is_always_an_error() {
    let (bytes, layout) = tiny_gguf(false).bytes_with_layout();
    parse(bytes.clone());
    // Every cut inside the header; inside the data, every third byte and the last.
    let cuts = (0..layout.data)
        .chain((layout.data..bytes.len()).step_by(3))
        .chain([bytes.len() - 1]);
    for n in cuts {
        let cut = bytes[..n].to_vec();
        let e = std::panic::catch_unwind(|| Gguf::from_bytes(cut))
            .unwrap_or_else(|_| panic!("panicked on a file truncated to {n} bytes"))
            .err()
            .unwrap_or_else(|| panic!("accepted a file truncated to {n} bytes"));
        // A cut into the tables is reported where the read failed; a cut into
        // the data at the offset field of the first tensor it cuts.
        let at = e
            .offset()
            .unwrap_or_else(|| panic!("no offset for truncation at {n}: {e}"));
        assert!(at <= n as u64, "{n}: {e}");
    }
}

#[test]
fn corrupt_bytes_never_panic() {
    let (bytes, layout) = tiny_gguf(true).bytes_with_layout();
    // Every header byte (metadata and tensor table), set to a few values.
    for i in 0..layout.data {
        for v in [0u8, 1, 0x7f, 0x80, 0xff, bytes[i].wrapping_add(1)] {
            let mut b = bytes.clone();
            b[i] = v;
            if std::panic::catch_unwind(|| Gguf::from_bytes(b)).is_err() {
                panic!("panicked with byte {i} set to {v:#x}");
            }
        }
    }
}

#[test]
fn bad_magic_and_versions() {
    let good = tensor_of(F32, &[1], f32_bytes(&[1.0])).bytes();
    let mut b = good.clone();
    b[..4].copy_from_slice(b"GGML");
    let e = parse_err(b);
    assert_eq!(e.offset(), Some(0));
    assert!(e.message.contains("magic"), "{e}");
    for (v, words) in [
        (1u32, "version 1"),
        (4, "version 4"),
        (3u32.swap_bytes(), "big-endian"),
    ] {
        let mut b = good.clone();
        b[4..8].copy_from_slice(&v.to_le_bytes());
        let e = parse_err(b);
        assert_eq!(e.offset(), Some(4));
        assert!(e.message.contains(words), "{e}");
    }
}

#[test]
fn absurd_counts_are_refused_without_allocating() {
    let good = Writer::default().kv("k", W::U8(1)).bytes();
    let mut b = good.clone();
    b[16..24].copy_from_slice(&u64::MAX.to_le_bytes()); // key/value count
    let e = parse_err(b);
    assert_eq!(e.offset(), Some(16));
    assert!(e.message.contains("metadata entries"), "{e}");
    let mut b = good.clone();
    b[8..16].copy_from_slice(&(1u64 << 60).to_le_bytes()); // tensor count
    let e = parse_err(b);
    assert_eq!(e.offset(), Some(8));
    assert!(e.message.contains("tensor infos"), "{e}");
    // An array claiming 2^62 strings.
    let mut b = Writer::default().kv("a", W::strs(&["x"])).bytes();
    let count_at = 24 + 8 + 1 + 4 + 4;
    b[count_at..count_at + 8].copy_from_slice(&(1u64 << 62).to_le_bytes());
    let e = parse_err(b);
    assert_eq!(e.offset(), Some(count_at as u64));
    // A key claiming to be longer than the file.
    let mut b = good;
    b[24..32].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let e = parse_err(b);
    assert_eq!(e.offset(), Some(24));
    assert!(e.message.contains("exceeds"), "{e}");
}

#[test]
fn an_unknown_value_type_names_its_key_and_offset() {
    let mut b = Writer::default().kv("general.x", W::U8(1)).bytes();
    let type_at = 24 + 8 + "general.x".len();
    b[type_at..type_at + 4].copy_from_slice(&13u32.to_le_bytes());
    let e = parse_err(b);
    assert_eq!(e.offset(), Some(type_at as u64));
    assert!(
        e.message.contains("`general.x`") && e.message.contains("unknown value type 13"),
        "{e}"
    );
}

#[test]
fn tensor_table_errors() {
    // Data past the end of the file.
    let (mut b, l) = tensor_of(F32, &[4], f32_bytes(&[1.0; 4])).bytes_with_layout();
    let at = l.offset_fields[0];
    b[at..at + 8].copy_from_slice(&64u64.to_le_bytes());
    let e = parse_err(b);
    assert_eq!(e.offset(), Some(at as u64));
    assert!(
        e.message.contains("`t`") && e.message.contains("past the end"),
        "{e}"
    );
    // An offset near u64::MAX must not overflow.
    let (mut b, l) = tensor_of(F32, &[4], f32_bytes(&[1.0; 4])).bytes_with_layout();
    b[l.offset_fields[0]..l.offset_fields[0] + 8].copy_from_slice(&(u64::MAX - 31).to_le_bytes());
    assert!(parse_err(b).message.contains("past the end"));
    // A misaligned offset.
    let (mut b, l) = tensor_of(F32, &[4], f32_bytes(&[1.0; 4])).bytes_with_layout();
    b[l.offset_fields[0]..l.offset_fields[0] + 8].copy_from_slice(&4u64.to_le_bytes());
    assert!(
        parse_err(b)
            .message
            .contains("not a multiple of the alignment")
    );
    // Dimensions whose product overflows.
    let e = parse_err(tensor_of(F32, &[1 << 40, 1 << 40], vec![]).bytes());
    assert!(e.message.contains("overflows"), "{e}");
    // Too many dimensions.
    let e = parse_err(tensor_of(F32, &[1, 1, 1, 1, 1], f32_bytes(&[1.0])).bytes());
    assert!(e.message.contains("5 dimensions"), "{e}");
    // Rows that are not whole blocks.
    let e = parse_err(tensor_of(Q8_0, &[16, 2], vec![0; 34]).bytes());
    assert!(e.message.contains("whole Q8_0 blocks"), "{e}");
    // An unknown ggml type names the tensor.
    let e = parse_err(tensor_of(99, &[4], vec![0; 16]).bytes());
    assert!(e.message.contains("`t`") && e.message.contains("99"), "{e}");
    // Duplicate tensor names.
    let w = tensor_of(F32, &[1], f32_bytes(&[1.0])).tensor("t", &[1], F32, f32_bytes(&[2.0]));
    assert!(parse_err(w.bytes()).message.contains("twice"));
}

#[test]
fn metadata_errors() {
    let e = parse_err(
        Writer::default()
            .kv("k", W::U8(1))
            .kv("k", W::U8(2))
            .bytes(),
    );
    assert!(e.message.contains("`k` appears twice"), "{e}");
    let e = parse_err(
        Writer::default()
            .kv("general.alignment", W::U32(48))
            .bytes(),
    );
    assert_eq!(e.location, Location::Key("general.alignment".into()));
    let e = parse_err(
        Writer::default()
            .kv("general.alignment", W::Str("32".into()))
            .bytes(),
    );
    assert_eq!(e.location, Location::Key("general.alignment".into()));
    let e = parse_err(Writer::default().kv("general.alignment", W::U32(0)).bytes());
    assert_eq!(e.location, Location::Key("general.alignment".into()));
}

#[test]
fn read_file_names_the_path() {
    let dir = scratch("gguf_read_file");
    let path = dir.join("model.gguf");
    std::fs::write(&path, tensor_of(F32, &[1], f32_bytes(&[7.0])).bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let g = Gguf::read_file(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(g.tensor_f32("t").ok(), Some(vec![7.0]));
    std::fs::write(&path, b"GGUF").unwrap_or_else(|e| panic!("{e}"));
    let e = Gguf::read_file(&path)
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert_eq!(e.path.as_deref(), Some(path.as_path()));
    assert!(
        e.to_string().starts_with(&path.display().to_string()),
        "{e}"
    );
    let missing = dir.join("absent.gguf");
    let e = Gguf::read_file(&missing)
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert_eq!((e.location, e.path), (Location::File, Some(missing)));
}
