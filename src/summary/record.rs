//! TFRecord framing, the container of TensorBoard's event files: each record is its length as a
//! little-endian `u64`, the masked CRC32C of those 8 bytes, the data, and the masked CRC32C of
//! the data.

use crate::error::{Error, Result};
use std::io::Write;

/// The bytes a record adds around its data: length, length CRC and data CRC.
pub const RECORD_OVERHEAD: usize = 8 + 4 + 4;

/// TFRecord's CRC: the CRC32C (Castagnoli) of `data`, rotated right by 15 bits and offset by a
/// constant, so that the CRC of data holding CRCs is not trivially related to them.
///
/// ```
/// use stepflow::summary::masked_crc32c;
/// // The masked CRC of no bytes: CRC32C("") is 0, so only the offset remains.
/// assert_eq!(masked_crc32c(b""), 0xa282_ead8);
/// ```
pub fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Appends one record holding `data` to `out`.
///
/// ```
/// use stepflow::summary::{write_record, Records};
/// let mut file = Vec::new();
/// write_record(&mut file, b"hello")?;
/// let records: Vec<&[u8]> = Records::new(&file, "inline").collect::<Result<_, _>>()?;
/// assert_eq!(records, [b"hello"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_record(out: &mut impl Write, data: &[u8]) -> std::io::Result<()> {
    let length = (data.len() as u64).to_le_bytes();
    out.write_all(&length)?;
    out.write_all(&masked_crc32c(&length).to_le_bytes())?;
    out.write_all(data)?;
    out.write_all(&masked_crc32c(data).to_le_bytes())
}

/// The records of a TFRecord file's bytes, each checked against both its CRCs. A bad or
/// truncated record is an [`Error::Format`] naming the file and the record's byte offset, and
/// ends the iteration.
pub struct Records<'a> {
    bytes: &'a [u8],
    offset: usize,
    file: &'a str,
    failed: bool,
}

impl<'a> Records<'a> {
    /// The records of `bytes`; `file` names them in errors.
    pub fn new(bytes: &'a [u8], file: &'a str) -> Records<'a> {
        Records { bytes, offset: 0, file, failed: false }
    }

    fn fail(&mut self, message: String) -> Option<Result<&'a [u8]>> {
        self.failed = true;
        Some(Err(Error::format(self.file, format!("record at byte {}: {message}", self.offset))))
    }

    /// The next `n` bytes after `at`, when there are that many.
    fn bytes_at(&self, at: usize, n: usize) -> Option<&'a [u8]> {
        self.bytes.get(at..at.checked_add(n)?)
    }
}

fn crc_at(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<&'a [u8]>;

    fn next(&mut self) -> Option<Result<&'a [u8]>> {
        if self.failed || self.offset >= self.bytes.len() {
            return None;
        }
        let Some(header) = self.bytes_at(self.offset, 12) else {
            let left = self.bytes.len() - self.offset;
            return self.fail(format!("truncated: {left} bytes, shorter than a record header (12)"));
        };
        if masked_crc32c(&header[..8]) != crc_at(&header[8..]) {
            return self.fail("the length's CRC does not match".into());
        }
        let length = u64::from_le_bytes([
            header[0], header[1], header[2], header[3], header[4], header[5], header[6], header[7],
        ]);
        let start = self.offset + 12;
        let data = usize::try_from(length).ok().and_then(|n| self.bytes_at(start, n));
        let Some(data) = data else {
            return self.fail(format!("truncated: its length is {length} bytes"));
        };
        let Some(crc) = self.bytes_at(start + data.len(), 4) else {
            return self.fail("truncated: the data's CRC is missing".into());
        };
        if masked_crc32c(data) != crc_at(crc) {
            return self.fail("the data's CRC does not match".into());
        }
        self.offset = start + data.len() + 4;
        Some(Ok(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_is_castagnolis() {
        // The check value of CRC-32C (RFC 3720): the CRC of the ASCII digits 1 to 9.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn a_flipped_bit_anywhere_is_caught() {
        let mut file = Vec::new();
        write_record(&mut file, b"some data").unwrap();
        for i in 0..file.len() {
            let mut bad = file.clone();
            bad[i] ^= 0x10;
            let first = Records::new(&bad, "f").next().unwrap();
            assert!(first.is_err(), "a flip in byte {i} went unnoticed");
        }
    }

    #[test]
    fn truncation_names_the_file_and_offset() {
        let mut file = Vec::new();
        write_record(&mut file, b"one").unwrap();
        write_record(&mut file, b"two").unwrap();
        file.pop();
        let all: Vec<_> = Records::new(&file, "events.out").collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].as_ref().unwrap(), b"one");
        let e = all[1].as_ref().unwrap_err().to_string();
        assert!(e.contains("events.out") && e.contains("record at byte 19") && e.contains("CRC is missing"), "{e}");
    }
}
