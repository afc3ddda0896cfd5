//! Classic pcap records read straight from the buffer. The format is a 24-byte file header, then
//! records of a fixed header (16 bytes; 24 in Kuznetzov's modified format) and the captured
//! bytes. pcap-parser's reader cost 173 instructions per record on the reader thread (its
//! iterator behind a vtable, a pcapng-sized block enum per record); this loop costs 48
//! (callgrind, a-10000). It keeps pcap-parser's buffering and its reading of a damaged file step
//! for step, so every message and every frame read before a break stay as they were; pcapng
//! stays on pcap-parser.

use super::{FrameCounter, Input, Stop, BUFFER_SIZE, MAX_BLOCK, PCAP_RECORD_HEADER_LEN};
use crate::model::{Frame, LinkType, Timestamp};
use pcap_parser::PcapHeader;
use std::io::Read;

/// How the file header says its records are laid out.
pub(super) struct Layout {
    big_endian: bool,
    nanosecond: bool,
    /// 16, or 24 in the modified format.
    record_header: usize,
    link: LinkType,
}

impl Layout {
    pub(super) fn of(header: &PcapHeader) -> Layout {
        Layout {
            big_endian: header.is_bigendian(),
            nanosecond: header.is_nanosecond_precision(),
            record_header: if header.is_modified_format() { 24 } else { PCAP_RECORD_HEADER_LEN },
            // The upper bits of the link type field may carry FCS information.
            link: LinkType::from_linktype(header.network.0 as u32 & 0xFFFF),
        }
    }

    /// The u32 at `at`, if `bytes` holds it.
    fn u32_at(&self, bytes: &[u8], at: usize) -> Option<u32> {
        let &bytes = bytes.get(at..)?.first_chunk::<4>()?;
        Some(if self.big_endian { u32::from_be_bytes(bytes) } else { u32::from_le_bytes(bytes) })
    }
}

/// The read buffer: bytes `start..end` of `memory` are read and not consumed yet. As
/// pcap-parser's (circular::Buffer, used without shifting until more must be read).
struct Buffer {
    memory: Vec<u8>,
    start: usize,
    end: usize,
    /// The input returned no more bytes.
    exhausted: bool,
}

impl Buffer {
    fn data(&self) -> &[u8] {
        self.memory.get(self.start..self.end).unwrap_or_default()
    }

    /// Moves the unconsumed bytes to the front, then reads once into the space after them.
    fn refill<R: Read>(&mut self, input: &mut Input<R>) -> std::io::Result<()> {
        self.memory.copy_within(self.start..self.end, 0);
        self.end = self.end.saturating_sub(self.start);
        self.start = 0;
        let space = self.memory.get_mut(self.end..).unwrap_or_default();
        if space.is_empty() {
            return Ok(());
        }
        let read = input.read(space)?;
        self.exhausted = read == 0;
        // read() returns at most the space it was given.
        self.end = self.end.saturating_add(read).min(self.memory.len());
        Ok(())
    }

    /// Four times larger, up to MAX_BLOCK, as [`super::grow`] grows pcap-parser's buffer.
    fn grow(&mut self) -> bool {
        let capacity = self.memory.len();
        if capacity >= MAX_BLOCK {
            return false;
        }
        self.memory.resize(capacity.saturating_mul(4).min(MAX_BLOCK), 0);
        true
    }
}

/// What the front of the buffer holds.
enum Front<'a> {
    Record {
        ts_sec: u32,
        fraction: u32,
        orig_len: u32,
        data: &'a [u8],
    },
    /// A record not read whole yet, with its captured length once its header is there.
    Partial {
        caplen: Option<u32>,
    },
}

fn front<'a>(layout: &Layout, data: &'a [u8]) -> Front<'a> {
    // The four fields are the record header's first 16 bytes (of 24 in the modified format).
    let header = data.first_chunk::<16>().filter(|_| data.len() >= layout.record_header);
    let Some(header) = header else {
        return Front::Partial { caplen: None };
    };
    let field = |bytes: [u8; 4]| if layout.big_endian { u32::from_be_bytes(bytes) } else { u32::from_le_bytes(bytes) };
    let h = header;
    let ts_sec = field([h[0], h[1], h[2], h[3]]);
    let fraction = field([h[4], h[5], h[6], h[7]]);
    let caplen = field([h[8], h[9], h[10], h[11]]);
    let orig_len = field([h[12], h[13], h[14], h[15]]);
    match data.get(layout.record_header..).and_then(|rest| rest.get(..caplen as usize)) {
        Some(frame) => Front::Record { ts_sec, fraction, orig_len, data: frame },
        None => Front::Partial { caplen: Some(caplen) },
    }
}

/// Reads every record after the file header, as [`super::Reading::run`] reads pcap-parser's.
pub(super) fn read_records<R: Read>(
    input: &mut Input<R>,
    layout: &Layout,
    frames: &mut FrameCounter,
    on_frame: &mut dyn FnMut(&Frame<'_>),
) -> Stop {
    let mut buffer = Buffer { memory: vec![0; BUFFER_SIZE], start: 0, end: 0, exhausted: false };
    loop {
        if buffer.end == 0 && buffer.exhausted {
            return Stop::End;
        }
        let caplen = match front(layout, buffer.data()) {
            Front::Record { ts_sec, fraction, orig_len, data } => {
                let fraction = i64::from(fraction);
                let nanos = if layout.nanosecond { fraction } else { fraction.saturating_mul(1000) };
                let ts = Timestamp::from_secs_nanos(i64::from(ts_sec), nanos);
                on_frame(&Frame { number: frames.next, ts, link: layout.link, data, orig_len });
                frames.count_one();
                buffer.start = buffer.start.saturating_add(layout.record_header).saturating_add(data.len());
                continue;
            }
            Front::Partial { caplen } => caplen.map(|caplen| caplen as usize),
        };
        if buffer.exhausted {
            return Stop::Broken(format!("file ends inside frame {}", frames.next));
        }
        // A record the buffer cannot hold (pcap-parser's BufferTooSmall): grown for it, unless
        // its length is absurd.
        if let Some(caplen) = caplen.filter(|&caplen| caplen.saturating_add(layout.record_header) >= buffer.memory.len()) {
            if caplen.saturating_add(PCAP_RECORD_HEADER_LEN) > MAX_BLOCK || !buffer.grow() {
                return Stop::Broken(too_large(layout, &buffer, frames));
            }
            continue;
        }
        let before = buffer.data().len();
        if buffer.refill(input).is_err() {
            return Stop::ReadFailed;
        }
        // No new bytes while the input goes on: the buffer is full of one record.
        if buffer.data().len() == before && !buffer.exhausted && !buffer.grow() {
            return Stop::Broken(too_large(layout, &buffer, frames));
        }
    }
}

fn too_large(layout: &Layout, buffer: &Buffer, frames: &FrameCounter) -> String {
    let length = layout.u32_at(buffer.data(), 8).map_or_else(|| "?".to_string(), |l| l.to_string());
    format!("frame {} claims {length} captured bytes: corrupt record header", frames.next)
}
