//! The capture helper's pipe, read as a classic pcap stream: the file header once, then records
//! as they arrive. Unlike a saved file the stream is read a piece at a time, whatever the pipe
//! holds, so a record may be split across reads: [`StreamHeader::record`] says when one is
//! complete and never reads past what it was given. (The file reader, capture/file.rs, blocks in
//! its read until a record is whole; live capture must come back every 50 ms on a quiet wire, to
//! tell the analysis that time passes and to notice a stop.)
//!
//! Owns: the byte layout of classic pcap's headers (as [`crate::capture::writer`] writes them,
//! either byte order, micro- or nanosecond magic). Must not touch: the packets' bytes.

use crate::capture::writer::{FILE_HEADER_LEN, RECORD_HEADER_LEN};
use crate::model::Timestamp;

/// The file header's length, and a record header's.
pub const HEADER_LEN: usize = FILE_HEADER_LEN as usize;
const RECORD_LEN: usize = RECORD_HEADER_LEN as usize;
const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// The largest record accepted whatever the header's snap length says: libpcap's own ceiling
/// (MAXIMUM_SNAPLEN), so that a corrupt length cannot make the reader buffer gigabytes.
pub const MAX_CAPLEN: u32 = 262_144;

/// What the stream's file header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamHeader {
    pub linktype: u32,
    pub snaplen: u32,
    nanos: bool,
    big_endian: bool,
}

/// One record's header: its packet follows, `caplen` bytes from `data_start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub ts: Timestamp,
    pub data_start: usize,
    pub caplen: usize,
    pub orig_len: u32,
}

impl Record {
    /// Bytes the record takes in the stream, header included.
    pub fn stream_len(&self) -> usize {
        self.data_start + self.caplen
    }
}

impl StreamHeader {
    /// Reads the file header; an error says what was wrong with it.
    pub fn parse(bytes: &[u8; HEADER_LEN]) -> Result<StreamHeader, String> {
        let magic_le = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let (nanos, big_endian) = match (magic_le, magic_le.swap_bytes()) {
            (MAGIC_MICROS, _) => (false, false),
            (MAGIC_NANOS, _) => (true, false),
            (_, MAGIC_MICROS) => (false, true),
            (_, MAGIC_NANOS) => (true, true),
            _ => return Err(format!("not a pcap stream (magic number {magic_le:#010x})")),
        };
        let mut header = StreamHeader { linktype: 0, snaplen: 0, nanos, big_endian };
        header.snaplen = header.u32_at(bytes, 16);
        header.linktype = header.u32_at(bytes, 20);
        Ok(header)
    }

    /// The record at the start of `bytes`: None while it is incomplete, an error when its
    /// lengths cannot be right.
    pub fn record(&self, bytes: &[u8]) -> Result<Option<Record>, String> {
        let Some(head) = bytes.get(..RECORD_LEN) else { return Ok(None) };
        let (secs, fraction, caplen, orig_len) = (self.u32_at(head, 0), self.u32_at(head, 4), self.u32_at(head, 8), self.u32_at(head, 12));
        if caplen > MAX_CAPLEN.max(self.snaplen) {
            return Err(format!("a record of {caplen} bytes, more than a capture of snap length {} can hold", self.snaplen));
        }
        let nanos = if self.nanos { fraction } else { fraction.saturating_mul(1000) };
        let ts = Timestamp::from_secs_nanos(i64::from(secs), i64::from(nanos));
        let record = Record { ts, data_start: RECORD_LEN, caplen: caplen as usize, orig_len };
        Ok((bytes.len() >= record.stream_len()).then_some(record))
    }

    /// The u32 at `at` in the stream's byte order (callers pass slices at least `at + 4` long).
    fn u32_at(&self, bytes: &[u8], at: usize) -> u32 {
        let four = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        if self.big_endian {
            u32::from_be_bytes(four)
        } else {
            u32::from_le_bytes(four)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::writer::{ByteOrder, PcapFormat, PcapWriter, Precision, LINKTYPE_LINUX_SLL2};

    fn stream(format: PcapFormat, packets: &[(i64, &[u8], u32)]) -> Vec<u8> {
        let mut w = PcapWriter::new(Vec::new(), format).unwrap();
        for &(ts, data, orig_len) in packets {
            w.write_packet(Timestamp(ts), data, orig_len).unwrap();
        }
        w.into_inner()
    }

    fn header(bytes: &[u8]) -> StreamHeader {
        StreamHeader::parse(bytes[..HEADER_LEN].try_into().unwrap()).unwrap()
    }

    #[test]
    fn reads_what_the_writer_wrote_in_either_byte_order_and_precision() {
        for byte_order in [ByteOrder::LittleEndian, ByteOrder::BigEndian] {
            for precision in [Precision::Nanos, Precision::Micros] {
                let format = PcapFormat { link_type: LINKTYPE_LINUX_SLL2, snaplen: 96, precision, byte_order };
                let bytes = stream(format, &[(1_700_000_000_123_456_789, b"abc", 3), (1_700_000_001_000_001_000, b"de", 60)]);
                let h = header(&bytes);
                assert_eq!((h.linktype, h.snaplen), (LINKTYPE_LINUX_SLL2, 96));
                let rest = &bytes[HEADER_LEN..];
                let first = h.record(rest).unwrap().unwrap();
                let want = if precision == Precision::Nanos { 1_700_000_000_123_456_789 } else { 1_700_000_000_123_456_000 };
                assert_eq!((first.ts, first.caplen, first.orig_len), (Timestamp(want), 3, 3));
                assert_eq!(&rest[first.data_start..first.stream_len()], b"abc");
                let second = h.record(&rest[first.stream_len()..]).unwrap().unwrap();
                assert_eq!((second.ts, second.caplen, second.orig_len), (Timestamp(1_700_000_001_000_001_000), 2, 60));
                assert_eq!(first.stream_len() + second.stream_len(), rest.len());
            }
        }
    }

    #[test]
    fn a_record_split_across_reads_waits_for_the_rest() {
        let bytes = stream(PcapFormat::default(), &[(5_000_000_000, b"0123456789", 10)]);
        let h = header(&bytes);
        let rest = &bytes[HEADER_LEN..];
        for cut in 0..rest.len() {
            assert_eq!(h.record(&rest[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(h.record(rest).unwrap().is_some());
    }

    #[test]
    fn a_corrupt_length_or_magic_is_an_error_not_a_huge_buffer() {
        let mut bytes = stream(PcapFormat::default(), &[(0, b"x", 1)]);
        let h = header(&bytes);
        bytes[HEADER_LEN + 8..HEADER_LEN + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(h.record(&bytes[HEADER_LEN..]).unwrap_err().contains("4294967295 bytes"));
        let text: [u8; HEADER_LEN] = *b"ftpscope-capture: error\n";
        assert!(StreamHeader::parse(&text).unwrap_err().contains("not a pcap stream"));
    }
}
