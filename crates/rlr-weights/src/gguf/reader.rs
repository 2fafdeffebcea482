//! A bounds-checked little-endian cursor over the file's bytes: every read
//! either succeeds or says at which byte offset what was expected.

use crate::error::{Error, Result};

/// A position in a byte buffer; reads advance it.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// The current byte offset.
    pub(crate) fn pos(&self) -> u64 {
        self.pos as u64
    }

    /// Bytes left after the current position.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next `n` bytes, holding `what`.
    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::at(
                self.pos(),
                format!(
                    "expected {what} ({n} bytes), but the file ends at byte {}",
                    self.buf.len()
                ),
            ));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// A `u8`.
    pub(crate) fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    /// A little-endian `u16`.
    pub(crate) fn u16(&mut self, what: &str) -> Result<u16> {
        self.array(what).map(u16::from_le_bytes)
    }

    /// A little-endian `u32`.
    pub(crate) fn u32(&mut self, what: &str) -> Result<u32> {
        self.array(what).map(u32::from_le_bytes)
    }

    /// A little-endian `u64`.
    pub(crate) fn u64(&mut self, what: &str) -> Result<u64> {
        self.array(what).map(u64::from_le_bytes)
    }

    /// A GGUF string: a `u64` length, then that many bytes of UTF-8.
    pub(crate) fn string(&mut self, what: &str) -> Result<&'a str> {
        let at = self.pos();
        let len = self.u64(&format!("the length of {what}"))?;
        let rem = self.remaining();
        if len > rem as u64 {
            return Err(Error::at(
                at,
                format!("{what}: length {len} exceeds the {rem} bytes left in the file"),
            ));
        }
        let start = self.pos();
        let bytes = self.take(len as usize, what)?;
        std::str::from_utf8(bytes).map_err(|e| {
            Error::at(
                start + e.valid_up_to() as u64,
                format!("{what}: expected UTF-8 text"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_reports_the_offset_of_a_short_read() {
        let mut r = Reader::new(&[1, 0, 2, 0, 0, 0, 9]);
        assert_eq!(r.u16("a").ok(), Some(1));
        assert_eq!(r.u32("b").ok(), Some(2));
        let e = r
            .u64("the count")
            .err()
            .unwrap_or_else(|| panic!("read past the end"));
        assert_eq!(e.offset(), Some(6));
        assert!(e.message.contains("the count (8 bytes)"), "{}", e.message);
    }

    #[test]
    fn a_string_longer_than_the_file_is_refused_before_allocating() {
        let mut bytes = u64::MAX.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"abc");
        let e = Reader::new(&bytes)
            .string("a key")
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert_eq!(e.offset(), Some(0));
        assert!(
            e.message.contains("exceeds the 3 bytes left"),
            "{}",
            e.message
        );
    }

    #[test]
    fn invalid_utf8_names_the_byte() {
        let mut bytes = 3u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[b'a', 0xff, b'b']);
        let e = Reader::new(&bytes)
            .string("a key")
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert_eq!(e.offset(), Some(9));
    }
}
