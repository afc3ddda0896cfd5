//! Writing classic pcap files: the one writer for tests, examples (crafted fixtures, the benchmark
//! generator) and, later, live capture's `--write`.
//!
//! Owns: the file header and record headers of classic pcap (microsecond or nanosecond
//! timestamps, either byte order, a link type and a snap length). Must not touch: the frames'
//! bytes (written as given, never cut to the snap length: the caller captured them), buffering
//! (wrap the output in a `BufWriter` when writing many records; call [`PcapWriter::flush`] after
//! each packet when a reader follows the file as it grows).

use crate::model::Timestamp;
use std::io::{self, Write};

/// pcap LINKTYPE_ values the project writes.
pub const LINKTYPE_NULL: u32 = 0;
pub const LINKTYPE_ETHERNET: u32 = 1;
pub const LINKTYPE_RAW: u32 = 101;
pub const LINKTYPE_LINUX_SLL: u32 = 113;
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
const VERSION_MAJOR: u16 = 2;
const VERSION_MINOR: u16 = 4;
pub const FILE_HEADER_LEN: u64 = 24;
pub const RECORD_HEADER_LEN: u64 = 16;

/// Resolution of the record timestamps (the file header's magic number says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    #[default]
    Micros,
    Nanos,
}

/// Byte order of every header field. Readers accept both; little-endian is what x86 and ARM
/// hosts write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ByteOrder {
    #[default]
    LittleEndian,
    BigEndian,
}

/// What the file header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcapFormat {
    /// pcap LINKTYPE_ value of every frame ([`LINKTYPE_ETHERNET`], ...).
    pub link_type: u32,
    pub snaplen: u32,
    pub precision: Precision,
    pub byte_order: ByteOrder,
}

impl Default for PcapFormat {
    /// Ethernet, snap length 262144 (tcpdump's default), microseconds, little-endian.
    fn default() -> Self {
        PcapFormat { link_type: LINKTYPE_ETHERNET, snaplen: 262_144, precision: Precision::Micros, byte_order: ByteOrder::LittleEndian }
    }
}

/// Writes a classic pcap file to `W`: the file header on creation, then one record per
/// [`write_packet`](PcapWriter::write_packet).
pub struct PcapWriter<W: Write> {
    out: W,
    format: PcapFormat,
    packets: u64,
    bytes: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header.
    pub fn new(mut out: W, format: PcapFormat) -> io::Result<Self> {
        let magic = match format.precision {
            Precision::Micros => MAGIC_MICROS,
            Precision::Nanos => MAGIC_NANOS,
        };
        let mut header = [0u8; FILE_HEADER_LEN as usize];
        let o = format.byte_order;
        header[0..4].copy_from_slice(&u32_bytes(o, magic));
        header[4..6].copy_from_slice(&u16_bytes(o, VERSION_MAJOR));
        header[6..8].copy_from_slice(&u16_bytes(o, VERSION_MINOR));
        // thiszone and sigfigs: 0, as every modern writer.
        header[16..20].copy_from_slice(&u32_bytes(o, format.snaplen));
        header[20..24].copy_from_slice(&u32_bytes(o, format.link_type));
        out.write_all(&header)?;
        Ok(PcapWriter { out, format, packets: 0, bytes: FILE_HEADER_LEN })
    }

    /// Ethernet, microseconds, little-endian, snap length 262144.
    pub fn ethernet(out: W) -> io::Result<Self> {
        Self::new(out, PcapFormat::default())
    }

    /// One record: `data` as captured, `orig_len` its length on the wire (at least `data.len()`;
    /// larger when the capture cut the frame). A timestamp before 1970 or after 2106 does not
    /// fit classic pcap and is an error, as is `orig_len < data.len()`. Microsecond files keep
    /// the timestamp's whole microseconds (truncated, as libpcap does).
    pub fn write_packet(&mut self, ts: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()> {
        let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
        let caplen = u32::try_from(data.len()).map_err(|_| invalid(format!("a frame of {} bytes does not fit pcap", data.len())))?;
        if orig_len < caplen {
            return Err(invalid(format!("original length {orig_len} is shorter than the {caplen} bytes captured")));
        }
        let secs = u32::try_from(ts.0.div_euclid(1_000_000_000))
            .map_err(|_| invalid(format!("timestamp {} ns is outside classic pcap's range (1970 to 2106)", ts.0)))?;
        let nanos = ts.0.rem_euclid(1_000_000_000) as u32;
        let fraction = match self.format.precision {
            Precision::Micros => nanos / 1000,
            Precision::Nanos => nanos,
        };
        let o = self.format.byte_order;
        let mut header = [0u8; RECORD_HEADER_LEN as usize];
        header[0..4].copy_from_slice(&u32_bytes(o, secs));
        header[4..8].copy_from_slice(&u32_bytes(o, fraction));
        header[8..12].copy_from_slice(&u32_bytes(o, caplen));
        header[12..16].copy_from_slice(&u32_bytes(o, orig_len));
        self.out.write_all(&header)?;
        self.out.write_all(data)?;
        self.packets = self.packets.saturating_add(1);
        self.bytes = self.bytes.saturating_add(RECORD_HEADER_LEN + u64::from(caplen));
        Ok(())
    }

    /// Flushes the underlying writer: after this every record written so far is in the file
    /// (for a live `--write` that another program reads as it grows).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn format(&self) -> PcapFormat {
        self.format
    }

    /// Records written.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Bytes written, file header included: the file's size once flushed.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// The underlying writer, not flushed (a `BufWriter` flushes itself when dropped, but
    /// reports no error then: call [`flush`](Self::flush) first).
    pub fn into_inner(self) -> W {
        self.out
    }
}

fn u32_bytes(order: ByteOrder, v: u32) -> [u8; 4] {
    match order {
        ByteOrder::LittleEndian => v.to_le_bytes(),
        ByteOrder::BigEndian => v.to_be_bytes(),
    }
}

fn u16_bytes(order: ByteOrder, v: u16) -> [u8; 2] {
    match order {
        ByteOrder::LittleEndian => v.to_le_bytes(),
        ByteOrder::BigEndian => v.to_be_bytes(),
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::capture::read_capture;
    use crate::model::LinkType;

    const SECS: i64 = 1_700_000_000;

    /// Reads a written file back with the project's reader: (ts, link, data, orig_len) per frame.
    fn read_back(file: &[u8]) -> Vec<(i64, LinkType, Vec<u8>, u32)> {
        let mut seen = Vec::new();
        let summary = read_capture("written", file, 1, &mut |f| seen.push((f.ts.0, f.link, f.data.to_vec(), f.orig_len))).unwrap();
        assert_eq!(summary.truncated, None);
        assert_eq!(summary.frames, seen.len() as u64);
        seen
    }

    fn write(format: PcapFormat, packets: &[(i64, &[u8], u32)]) -> Vec<u8> {
        let mut w = PcapWriter::new(Vec::new(), format).unwrap();
        for &(ts, data, orig_len) in packets {
            w.write_packet(Timestamp(ts), data, orig_len).unwrap();
        }
        w.flush().unwrap();
        assert_eq!(w.packets(), packets.len() as u64);
        let bytes = w.bytes();
        let file = w.into_inner();
        assert_eq!(bytes, file.len() as u64);
        file
    }

    #[test]
    fn microseconds_little_endian_read_back() {
        let ts = SECS * 1_000_000_000 + 123_456_789;
        let file = write(PcapFormat::default(), &[(ts, b"first", 5), (ts + 1_000_000_000, b"cut", 1500)]);
        assert_eq!(&file[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(file.len(), 24 + 16 + 5 + 16 + 3);
        let seen = read_back(&file);
        // The nanoseconds below a microsecond are dropped.
        assert_eq!(seen[0], (SECS * 1_000_000_000 + 123_456_000, LinkType::Ethernet, b"first".to_vec(), 5));
        assert_eq!(seen[1], ((SECS + 1) * 1_000_000_000 + 123_456_000, LinkType::Ethernet, b"cut".to_vec(), 1500));
    }

    #[test]
    fn nanoseconds_big_endian_read_back() {
        let format =
            PcapFormat { link_type: LINKTYPE_LINUX_SLL, snaplen: 65535, precision: Precision::Nanos, byte_order: ByteOrder::BigEndian };
        let ts = SECS * 1_000_000_000 + 123_456_789;
        let file = write(format, &[(ts, b"sll", 3)]);
        assert_eq!(&file[..4], &[0xa1, 0xb2, 0x3c, 0x4d]);
        assert_eq!(&file[16..20], &65535u32.to_be_bytes(), "snap length");
        assert_eq!(read_back(&file), vec![(ts, LinkType::LinuxSll, b"sll".to_vec(), 3)]);
    }

    #[test]
    fn link_types_and_empty_file() {
        for (link_type, want) in
            [(LINKTYPE_RAW, LinkType::Raw), (LINKTYPE_NULL, LinkType::Null), (LINKTYPE_LINUX_SLL2, LinkType::LinuxSll2)]
        {
            let file = write(PcapFormat { link_type, ..PcapFormat::default() }, &[(SECS * 1_000_000_000, b"x", 1)]);
            assert_eq!(read_back(&file)[0].1, want);
        }
        let empty = write(PcapFormat::default(), &[]);
        assert_eq!(empty.len(), 24);
        assert!(read_back(&empty).is_empty());
    }

    #[test]
    fn timestamps_outside_pcap_and_short_original_lengths_are_errors() {
        let mut w = PcapWriter::ethernet(Vec::new()).unwrap();
        assert_eq!(w.write_packet(Timestamp(-1), b"x", 1).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        assert!(w.write_packet(Timestamp((1i64 << 32) * 1_000_000_000), b"x", 1).is_err());
        assert!(w.write_packet(Timestamp(0), b"four", 3).is_err());
        assert_eq!(w.packets(), 0);
        assert_eq!(w.into_inner().len(), 24, "nothing written for a refused record");
    }

    /// A writer that records when it was flushed: flush reaches the underlying writer.
    #[test]
    fn flush_reaches_the_underlying_writer() {
        struct Counting(Vec<u8>, usize);
        impl Write for Counting {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                self.1 += 1;
                Ok(())
            }
        }
        let mut w = PcapWriter::ethernet(io::BufWriter::new(Counting(Vec::new(), 0))).unwrap();
        w.write_packet(Timestamp(SECS * 1_000_000_000), b"frame", 5).unwrap();
        assert!(w.get_ref().get_ref().0.is_empty(), "still in the BufWriter");
        w.flush().unwrap();
        let inner = w.get_ref().get_ref();
        assert_eq!(inner.0.len(), 24 + 16 + 5);
        assert_eq!(inner.1, 1);
    }
}
