//! Reading saved captures (pcap and pcapng) as a stream of frames. The I/O edge for files.
//!
//! Owns: file formats, timestamps, interfaces' link types, frame numbering. Must not touch:
//! decoding of the frames' bytes, analysis.

// Input from the wire: no arithmetic that can overflow, no index that can panic (issue 7).
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use crate::model::{Frame, LinkType};
use crate::Timestamp;

use std::io::{self, Read};
use std::path::Path;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{InterfaceDescriptionBlock, OptionCode, PcapBlockOwned, PcapError, PcapNGReader};

/// Why a capture could not be read at all. Every message starts with the file's name.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{name}: no capture header (the input is empty); a capture still being written may not be flushed yet (tcpdump -U writes each packet at once)")]
    Empty { name: String },
    #[error("{name}: not a pcap or pcapng file (starts with {start}); ftpscope reads pcap and pcapng: a compressed capture is unpacked first, other formats converted (editcap -F pcapng IN OUT)")]
    NotACapture { name: String, start: String },
    #[error("{name}: file ends inside the capture header")]
    HeaderCut { name: String },
    #[error("{name}: damaged capture header: {reason}")]
    BadHeader { name: String, reason: String },
    #[error("{name}: is a directory; name the captures in it (DIR/*.pcap)")]
    IsDirectory { name: String },
    /// The frame filter (`--filter`) could not judge a frame: the reading stopped there.
    #[error("{name}: {reason}")]
    Filter { name: String, reason: String },
    #[error("{name}: {source}")]
    Io {
        name: String,
        #[source]
        source: io::Error,
    },
}

/// What one capture yielded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSummary {
    pub frames: u64,
    /// Some(reason) when the file ended inside a block or a corrupt block stopped reading: what
    /// was read before is still valid.
    pub truncated: Option<String>,
}

/// Reads one capture, calling on_frame for every packet in order. Frames are numbered from
/// first_frame (1 for the first file). Returns Err only when nothing can be read at all (not a
/// capture, unreadable); a break in the middle is Ok with `truncated`.
pub fn read_capture<R: Read>(
    name: &str,
    input: R,
    first_frame: u64,
    on_frame: &mut dyn FnMut(&Frame<'_>),
) -> Result<ReadSummary, CaptureError> {
    let mut input = Input { prefix: Vec::new(), taken: 0, inner: input, error: None };
    let format = identify(name, &mut input)?;
    let mut frames = FrameCounter { next: first_frame, read: 0 };
    let stop = match format {
        // Records read directly (legacy.rs); the header by pcap-parser, from the bytes
        // `identify` read.
        Format::Pcap => match pcap_parser::parse_pcap_header(&input.prefix) {
            Ok((_, header)) => {
                input.taken = input.prefix.len();
                legacy::read_records(&mut input, &legacy::Layout::of(&header), &mut frames, on_frame)
            }
            // Not reached: `identify` read the 24 bytes and checked the magic, which is all
            // pcap-parser checks.
            Err(_) => return Err(CaptureError::BadHeader { name: name.to_string(), reason: "unknown magic".to_string() }),
        },
        Format::PcapNg => match PcapNGReader::new(BUFFER_SIZE, &mut input) {
            Ok(mut reader) => pump(&mut reader, format, &mut frames, on_frame),
            Err(error) => return Err(bad_header(name, &error)),
        },
    };
    let truncated = match stop {
        Stop::End => None,
        Stop::Broken(reason) => Some(reason),
        Stop::ReadFailed => {
            let error = input.error.take().unwrap_or_else(|| io::Error::other("read failed"));
            if frames.read == 0 {
                return Err(CaptureError::Io { name: name.to_string(), source: error });
            }
            Some(format!("read error after frame {}: {error}", frames.last()))
        }
    };
    Ok(ReadSummary { frames: frames.read, truncated })
}

/// Opens a path ("-" = standard input) and reads it; a directory, a missing file, an empty file
/// give a clear CaptureError.
pub fn read_path(path: &Path, first_frame: u64, on_frame: &mut dyn FnMut(&Frame<'_>)) -> Result<ReadSummary, CaptureError> {
    Source::open(path)?.read(first_frame, on_frame)
}

/// A capture input, opened and checked but not read yet: a file, or standard input ("-").
/// Opening every input before reading any lets a run fail before it reports anything.
pub struct Source {
    name: String,
    file: Option<std::fs::File>,
}

impl Source {
    pub fn open(path: &Path) -> Result<Source, CaptureError> {
        if path.as_os_str() == "-" {
            return Ok(Source { name: "standard input".into(), file: None });
        }
        let name = path.display().to_string();
        let io_error = |source| CaptureError::Io { name: name.clone(), source };
        // Checked before opening: on Linux a directory opens fine and only fails on the first
        // read (EISDIR), a message that does not say what is wrong.
        if std::fs::metadata(path).map_err(io_error)?.is_dir() {
            return Err(CaptureError::IsDirectory { name });
        }
        let file = std::fs::File::open(path).map_err(io_error)?;
        Ok(Source { name, file: Some(file) })
    }

    /// The name its errors use: the path as given, or "standard input".
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its size in bytes, when it is a regular file (for a progress bar).
    pub fn size(&self) -> Option<u64> {
        self.file.as_ref().and_then(|f| f.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len())
    }

    /// Reads every frame, numbered from `first_frame`.
    pub fn read(self, first_frame: u64, on_frame: &mut dyn FnMut(&Frame<'_>)) -> Result<ReadSummary, CaptureError> {
        self.read_through(|r| r, first_frame, on_frame)
    }

    /// Reads every frame through an adapter of the byte stream (e.g. one that counts bytes).
    pub fn read_through<R: Read>(
        self,
        wrap: impl FnOnce(Box<dyn Read>) -> R,
        first_frame: u64,
        on_frame: &mut dyn FnMut(&Frame<'_>),
    ) -> Result<ReadSummary, CaptureError> {
        // No BufReader: the parser reads in BUFFER_SIZE chunks already.
        let input: Box<dyn Read> = match self.file {
            Some(file) => Box::new(file),
            None => Box::new(io::stdin().lock()),
        };
        read_capture(&self.name, wrap(input), first_frame, on_frame)
    }
}

/// The parser's buffer: large reads, and room for any sane block (a 256 KiB snap length).
const BUFFER_SIZE: usize = 1 << 20;
/// A block that does not fit this is taken as a corrupt length: bounds memory on hostile input.
const MAX_BLOCK: usize = 16 << 20;
/// More interfaces than this in one section is a corrupt file, not a capture.
const MAX_INTERFACES: usize = 1 << 16;
/// A section header is a few hundred bytes; this bounds what is read before the format is known.
const MAX_SECTION_HEADER: usize = 1 << 16;

const PCAP_HEADER_LEN: usize = 24;
const PCAP_RECORD_HEADER_LEN: usize = 16;
const PCAPNG_SHB_MIN_LEN: usize = 28;
/// On-disk magics: pcap microsecond and nanosecond in both byte orders, Kuznetzov's modified
/// pcap (little-endian only, as pcap-parser reads it), and the pcapng section header type.
const PCAP_MAGICS: [[u8; 4]; 5] =
    [[0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d], [0x34, 0xcd, 0xb2, 0xa1]];
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const PCAPNG_BYTE_ORDER_LE: [u8; 4] = [0x4d, 0x3c, 0x2b, 0x1a];
const PCAPNG_BYTE_ORDER_BE: [u8; 4] = [0x1a, 0x2b, 0x3c, 0x4d];

// pcapng block types as read in the section's byte order.
const BLOCK_TYPE_SECTION_HEADER: u32 = 0x0A0D_0D0A;
const BLOCK_TYPE_OBSOLETE_PACKET: u32 = 0x0000_0002;
const BLOCK_TYPE_SIMPLE_PACKET: u32 = 0x0000_0003;
const BLOCK_TYPE_ENHANCED_PACKET: u32 = 0x0000_0006;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Pcap,
    PcapNg,
}

/// The caller's reader behind the bytes already read to identify the format. pcap-parser parses
/// the file header from its first `read` alone, so that read must return the whole header: it
/// returns the prefix, and only then the rest of the input. I/O errors are kept, with their
/// message, because pcap-parser reduces them to "ReadError".
struct Input<R> {
    prefix: Vec<u8>,
    taken: usize,
    inner: R,
    error: Option<io::Error>,
}

impl<R: Read> Input<R> {
    /// Reads into the prefix until it holds `want` bytes or the input ends.
    fn fill_prefix(&mut self, want: usize) -> io::Result<()> {
        let missing = want.saturating_sub(self.prefix.len()) as u64;
        // read_to_end retries interrupted reads and stops at the end of the input.
        (&mut self.inner).take(missing).read_to_end(&mut self.prefix)?;
        Ok(())
    }
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(rest) = self.prefix.get(self.taken..).filter(|rest| !rest.is_empty()) {
            // Reading from a slice copies what fits and never fails.
            let mut rest = rest;
            let n = rest.read(buf)?;
            self.taken = self.taken.saturating_add(n);
            return Ok(n);
        }
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let copy = io::Error::new(e.kind(), e.to_string());
                    self.error = Some(e);
                    return Err(copy);
                }
                done => return done,
            }
        }
    }
}

/// Reads enough of the input to name its format, and checks the file header can be complete.
fn identify<R: Read>(name: &str, input: &mut Input<R>) -> Result<Format, CaptureError> {
    let io_error = |source| CaptureError::Io { name: name.to_string(), source };
    let header_cut = || CaptureError::HeaderCut { name: name.to_string() };
    let bad_header = |reason: String| CaptureError::BadHeader { name: name.to_string(), reason };
    input.fill_prefix(4).map_err(io_error)?;
    let start = input.prefix.as_slice();
    if start.is_empty() {
        return Err(CaptureError::Empty { name: name.to_string() });
    }
    let is_pcap = PCAP_MAGICS.iter().any(|magic| magic.starts_with(start));
    let is_pcapng = PCAPNG_MAGIC.starts_with(start);
    if !is_pcap && !is_pcapng {
        return Err(CaptureError::NotACapture { name: name.to_string(), start: hex(start) });
    }
    if start.len() < 4 {
        return Err(header_cut());
    }
    if is_pcap {
        input.fill_prefix(PCAP_HEADER_LEN).map_err(io_error)?;
        return if input.prefix.len() < PCAP_HEADER_LEN { Err(header_cut()) } else { Ok(Format::Pcap) };
    }
    input.fill_prefix(12).map_err(io_error)?;
    let Some(head) = input.prefix.first_chunk::<12>() else {
        return Err(header_cut());
    };
    let length_bytes = [head[4], head[5], head[6], head[7]];
    let length = match [head[8], head[9], head[10], head[11]] {
        PCAPNG_BYTE_ORDER_LE => u32::from_le_bytes(length_bytes),
        PCAPNG_BYTE_ORDER_BE => u32::from_be_bytes(length_bytes),
        other => return Err(bad_header(format!("unknown pcapng byte-order magic {}", hex(&other)))),
    } as usize;
    if length < PCAPNG_SHB_MIN_LEN || !length.is_multiple_of(4) || length > MAX_SECTION_HEADER {
        return Err(bad_header(format!("section header block length {length} is impossible")));
    }
    input.fill_prefix(length).map_err(io_error)?;
    if input.prefix.len() < length {
        return Err(header_cut());
    }
    Ok(Format::PcapNg)
}

fn bad_header(name: &str, error: &PcapError<&[u8]>) -> CaptureError {
    CaptureError::BadHeader { name: name.to_string(), reason: describe(error) }
}

/// pcap-parser's own messages include the raw input; this keeps what a person can use.
fn describe(error: &PcapError<&[u8]>) -> String {
    match error {
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            format!("fields do not check out ({kind:?})")
        }
        PcapError::HeaderNotRecognized => "unknown magic".to_string(),
        other => other.to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

struct FrameCounter {
    next: u64,
    read: u64,
}

impl FrameCounter {
    /// The number of the last frame handed out (one before the first frame if none was).
    fn last(&self) -> u64 {
        self.next.saturating_sub(1)
    }

    /// A record that takes a frame number but carries no packet (a pcapng custom block).
    fn number_one(&mut self) {
        self.next = self.next.saturating_add(1);
    }

    fn count_one(&mut self) {
        self.next = self.next.saturating_add(1);
        self.read = self.read.saturating_add(1);
    }
}

enum Stop {
    End,
    Broken(String),
    ReadFailed,
}

/// How a pcapng interface's timestamps count: 10^-n or 2^-n seconds per unit (if_tsresol).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolution {
    Decimal(u8),
    Binary(u8),
}

impl Resolution {
    fn from_tsresol(value: u8) -> Resolution {
        if value & 0x80 == 0 {
            Resolution::Decimal(value)
        } else {
            Resolution::Binary(value & 0x7f)
        }
    }

    /// Nanoseconds in `units`, in i128 so no if_tsresol value can overflow.
    fn nanos(self, units: u64) -> i128 {
        // Below 2^64 units times at most 10^9 fits an i128 many times over: the saturating
        // operations never saturate, they only say so.
        let units = i128::from(units);
        match self {
            Resolution::Decimal(exp) if exp <= 9 => units.saturating_mul(10i128.pow(u32::from(9u8.saturating_sub(exp)))),
            Resolution::Decimal(exp) => {
                10i128.checked_pow(u32::from(exp.saturating_sub(9))).and_then(|div| units.checked_div(div)).unwrap_or(0)
            }
            // units < 2^64 and 1e9 < 2^30: the product fits; the shift is at most 127.
            Resolution::Binary(exp) => units.saturating_mul(1_000_000_000).checked_shr(u32::from(exp)).unwrap_or(0),
        }
    }
}

struct Interface {
    link: LinkType,
    resolution: Resolution,
    /// if_tsoffset: seconds added to every timestamp.
    offset_secs: i64,
    snaplen: u32,
}

impl Interface {
    fn from_block(idb: &InterfaceDescriptionBlock<'_>, big_endian: bool) -> Interface {
        // pcap-parser decodes if_tsoffset as little-endian whatever the section's byte order,
        // so it is read again here.
        let offset_secs =
            idb.options.iter().find(|option| option.code == OptionCode::IfTsoffset).and_then(|option| option.value().get(..8)).map_or(
                0,
                |bytes| {
                    let bytes: [u8; 8] = bytes.try_into().unwrap_or_default();
                    if big_endian {
                        i64::from_be_bytes(bytes)
                    } else {
                        i64::from_le_bytes(bytes)
                    }
                },
            );
        Interface {
            link: LinkType::from_linktype(u32::from(idb.linktype.0 as u16)),
            resolution: Resolution::from_tsresol(idb.if_tsresol),
            offset_secs,
            snaplen: idb.snaplen,
        }
    }

    fn timestamp(&self, high: u32, low: u32) -> Timestamp {
        let units = (u64::from(high) << 32) | u64::from(low);
        let nanos = self.resolution.nanos(units).saturating_add(i128::from(self.offset_secs).saturating_mul(1_000_000_000));
        Timestamp(nanos.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    }
}

/// The state of one file being read: what the headers said, and where frames go.
struct Reading<'a> {
    format: Format,
    frames: &'a mut FrameCounter,
    on_frame: &'a mut dyn FnMut(&Frame<'_>),
    /// Byte order of the pcap file or of the current pcapng section.
    big_endian: bool,
    /// pcap: the file's link type and whether fractions are nanoseconds.
    link: LinkType,
    nanosecond: bool,
    /// pcapng: the current section's interfaces, by interface id.
    interfaces: Vec<Interface>,
    /// Simple packet blocks carry no timestamp: they get the previous frame's.
    last_ts: Timestamp,
}

fn pump(reader: &mut dyn PcapReaderIterator, format: Format, frames: &mut FrameCounter, on_frame: &mut dyn FnMut(&Frame<'_>)) -> Stop {
    let mut reading = Reading {
        format,
        frames,
        on_frame,
        big_endian: false,
        link: LinkType::Ethernet,
        nanosecond: false,
        interfaces: Vec::new(),
        last_ts: Timestamp::default(),
    };
    reading.run(reader)
}

impl Reading<'_> {
    /// The refill loop. Every turn consumes a block, reads more input, grows the buffer (at
    /// most up to MAX_BLOCK) or stops: it cannot spin.
    fn run(&mut self, reader: &mut dyn PcapReaderIterator) -> Stop {
        let mut capacity = BUFFER_SIZE;
        loop {
            if self.too_short(reader.data()) {
                return Stop::Broken(self.corrupt(reader));
            }
            match reader.next() {
                Ok((offset, block)) => {
                    if let Err(reason) = self.block(block) {
                        return Stop::Broken(reason);
                    }
                    if offset == 0 {
                        return Stop::Broken(self.corrupt(reader));
                    }
                    // Not `consume`: past half the buffer it moves the unread half to the
                    // front, copying every byte of the capture a second time. `refill` moves
                    // only the incomplete block left at the end.
                    reader.consume_noshift(offset);
                }
                Err(PcapError::Eof) => return Stop::End,
                Err(PcapError::Incomplete(_)) => {
                    let before = reader.data().len();
                    if reader.refill().is_err() {
                        return Stop::ReadFailed;
                    }
                    // No new bytes while the input goes on: the buffer is full of one block.
                    if reader.data().len() == before && !reader.reader_exhausted() && !grow(reader, &mut capacity) {
                        return Stop::Broken(self.too_large(reader));
                    }
                }
                Err(PcapError::BufferTooSmall) => {
                    // An absurd length is corruption: stop before growing the buffer for it.
                    if self.claimed_len(reader.data()) > MAX_BLOCK || !grow(reader, &mut capacity) {
                        return Stop::Broken(self.too_large(reader));
                    }
                }
                Err(PcapError::UnexpectedEof) => return Stop::Broken(self.ends_inside(reader)),
                Err(PcapError::ReadError) => return Stop::ReadFailed,
                Err(_) => return Stop::Broken(self.corrupt(reader)),
            }
        }
    }

    fn block(&mut self, block: PcapBlockOwned<'_>) -> Result<(), String> {
        match block {
            PcapBlockOwned::LegacyHeader(header) => {
                // The upper bits of the link type field may carry FCS information.
                self.link = LinkType::from_linktype(header.network.0 as u32 & 0xFFFF);
                self.nanosecond = header.is_nanosecond_precision();
                self.big_endian = header.is_bigendian();
            }
            PcapBlockOwned::Legacy(record) => {
                let fraction = i64::from(record.ts_usec);
                let nanos = if self.nanosecond { fraction } else { fraction.saturating_mul(1000) };
                let ts = Timestamp::from_secs_nanos(i64::from(record.ts_sec), nanos);
                self.emit(ts, self.link, record.data, record.origlen);
            }
            PcapBlockOwned::NG(Block::SectionHeader(section)) => {
                self.interfaces.clear();
                self.big_endian = section.big_endian();
            }
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                if self.interfaces.len() >= MAX_INTERFACES {
                    return Err(format!("more than {MAX_INTERFACES} interfaces in one section"));
                }
                self.interfaces.push(Interface::from_block(&idb, self.big_endian));
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(packet)) => {
                let interface = self.interface(packet.if_id)?;
                let (ts, link) = (interface.timestamp(packet.ts_high, packet.ts_low), interface.link);
                self.emit(ts, link, packet.packet_data(), packet.origlen);
            }
            PcapBlockOwned::NG(Block::SimplePacket(packet)) => {
                let interface = self.interface(0)?;
                let mut data = packet.packet_data();
                // The block is padded; only the interface's snap length says where data ends.
                if interface.snaplen != 0 {
                    data = data.get(..interface.snaplen as usize).unwrap_or(data);
                }
                self.emit(self.last_ts, interface.link, data, packet.origlen);
            }
            // Wireshark gives these records frame numbers of their own (tshark lists a custom block
            // as `data`, a journal entry as `systemd_journal`): they carry no packet, but the
            // frames after them are numbered as Wireshark numbers them, as the schema promises.
            PcapBlockOwned::NG(Block::Custom(_) | Block::SystemdJournalExport(_)) => self.frames.number_one(),
            PcapBlockOwned::NG(Block::Unknown(unknown)) => {
                if self.native(unknown.block_type) == BLOCK_TYPE_OBSOLETE_PACKET {
                    self.obsolete_packet(unknown.data)?;
                }
            }
            PcapBlockOwned::NG(_) => {}
        }
        Ok(())
    }

    fn interface(&self, id: u32) -> Result<&Interface, String> {
        self.interfaces
            .get(id as usize)
            .ok_or_else(|| format!("frame {} names interface {id}, but its section describes {}", self.frames.next, self.interfaces.len()))
    }

    /// The pcapng 1.0 Packet Block (type 2), superseded by the EPB but still found in old files.
    fn obsolete_packet(&mut self, body: &[u8]) -> Result<(), String> {
        let corrupt = || "corrupt packet block (type 2)".to_string();
        let field = |at: usize| self.u32_at(body, at).ok_or_else(corrupt);
        let interface_id = body
            .first_chunk::<2>()
            .map(|&b| if self.big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
            .ok_or_else(corrupt)?;
        let (high, low, caplen, origlen) = (field(4)?, field(8)?, field(12)?, field(16)?);
        let data = body.get(20..).and_then(|rest| rest.get(..caplen as usize)).ok_or_else(corrupt)?;
        let interface = self.interface(u32::from(interface_id))?;
        let (ts, link) = (interface.timestamp(high, low), interface.link);
        self.emit(ts, link, data, origlen);
        Ok(())
    }

    fn emit(&mut self, ts: Timestamp, link: LinkType, data: &[u8], orig_len: u32) {
        self.last_ts = ts;
        (self.on_frame)(&Frame { number: self.frames.next, ts, link, data, orig_len });
        self.frames.count_one();
    }

    /// The u32 at `at` in the section's byte order, if `bytes` holds it.
    fn u32_at(&self, bytes: &[u8], at: usize) -> Option<u32> {
        let &bytes = bytes.get(at..)?.first_chunk::<4>()?;
        Some(if self.big_endian { u32::from_be_bytes(bytes) } else { u32::from_le_bytes(bytes) })
    }

    /// A block type as the section's byte order reads it (pcap-parser reports it little-endian).
    fn native(&self, block_type: u32) -> u32 {
        if self.big_endian {
            block_type.swap_bytes()
        } else {
            block_type
        }
    }

    /// The type and length fields of the pcapng block (or the length of the pcap record) at the
    /// front of the buffer.
    fn pending_header(&self, data: &[u8]) -> (Option<u32>, Option<u32>) {
        let field = |at: usize| self.u32_at(data, at);
        match self.format {
            Format::Pcap => (None, field(8)),
            Format::PcapNg => (field(0), field(4)),
        }
    }

    /// A pcapng block shorter than its own type and two length fields (12 bytes). Checked here
    /// because pcap-parser 0.17 subtracts 12 from the length of some block types (process
    /// information, 0x80000001) before checking it: an overflow, a panic in a debug build
    /// (found by fuzz/capture_reader). The section header is left to the parser: its byte
    /// order is its own, not the previous section's.
    fn too_short(&self, data: &[u8]) -> bool {
        match (self.format, self.pending_header(data)) {
            (Format::PcapNg, (Some(block_type), Some(length))) => block_type != BLOCK_TYPE_SECTION_HEADER && length < 12,
            _ => false,
        }
    }

    /// Bytes the pending block or record says it occupies (record header included).
    fn claimed_len(&self, data: &[u8]) -> usize {
        let (_, length) = self.pending_header(data);
        let header = if self.format == Format::Pcap { PCAP_RECORD_HEADER_LEN } else { 0 };
        length.map_or(0, |l| (l as usize).saturating_add(header))
    }

    fn is_packet_block(&self, block_type: Option<u32>) -> bool {
        match self.format {
            Format::Pcap => true,
            Format::PcapNg => {
                matches!(block_type, Some(BLOCK_TYPE_ENHANCED_PACKET | BLOCK_TYPE_SIMPLE_PACKET | BLOCK_TYPE_OBSOLETE_PACKET))
            }
        }
    }

    fn ends_inside(&self, reader: &dyn PcapReaderIterator) -> String {
        let (block_type, _) = self.pending_header(reader.data());
        match block_type {
            _ if self.is_packet_block(block_type) => {
                format!("file ends inside frame {}", self.frames.next)
            }
            Some(t) => format!("file ends inside a pcapng block of type 0x{t:08x} (after frame {})", self.frames.last()),
            None => format!("file ends inside a block header (after frame {})", self.frames.last()),
        }
    }

    fn too_large(&self, reader: &dyn PcapReaderIterator) -> String {
        let (_, length) = self.pending_header(reader.data());
        let length = length.map_or_else(|| "?".to_string(), |l| l.to_string());
        match self.format {
            Format::Pcap => format!("frame {} claims {length} captured bytes: corrupt record header", self.frames.next),
            Format::PcapNg => format!("block at byte {} claims {length} bytes: corrupt block length", reader.consumed()),
        }
    }

    fn corrupt(&self, reader: &dyn PcapReaderIterator) -> String {
        let (block_type, length) = self.pending_header(reader.data());
        let show = |v: Option<u32>, hex: bool| match v {
            Some(v) if hex => format!("0x{v:08x}"),
            Some(v) => v.to_string(),
            None => "?".to_string(),
        };
        format!(
            "corrupt block at byte {} (type {}, length {}) after frame {}",
            reader.consumed(),
            show(block_type, true),
            show(length, false),
            self.frames.last()
        )
    }
}

/// Grows the parser's buffer for one large block, up to MAX_BLOCK.
fn grow(reader: &mut dyn PcapReaderIterator, capacity: &mut usize) -> bool {
    if *capacity >= MAX_BLOCK {
        return false;
    }
    *capacity = capacity.saturating_mul(4).min(MAX_BLOCK);
    reader.grow(*capacity)
}

mod legacy;

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests;
