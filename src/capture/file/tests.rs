use super::*;
use std::io::Cursor;

/// A frame as the callback saw it, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    number: u64,
    ts: i64,
    link: LinkType,
    data: Vec<u8>,
    orig_len: u32,
}

fn read_all(bytes: &[u8], first_frame: u64) -> (Result<ReadSummary, CaptureError>, Vec<Seen>) {
    read_from("test.cap", Cursor::new(bytes), first_frame)
}

fn read_from<R: Read>(name: &str, input: R, first_frame: u64) -> (Result<ReadSummary, CaptureError>, Vec<Seen>) {
    let mut seen = Vec::new();
    let result = read_capture(name, input, first_frame, &mut |frame| {
        seen.push(Seen { number: frame.number, ts: frame.ts.0, link: frame.link, data: frame.data.to_vec(), orig_len: frame.orig_len })
    });
    (result, seen)
}

/// Writes integers in one byte order, the way a capture's writer did.
#[derive(Clone, Copy)]
struct Order {
    big: bool,
}
const LE: Order = Order { big: false };
const BE: Order = Order { big: true };

impl Order {
    fn u16(self, v: u16) -> [u8; 2] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn u32(self, v: u32) -> [u8; 4] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
}

fn pcap_header(order: Order, magic: u32, linktype: u32) -> Vec<u8> {
    let mut out = order.u32(magic).to_vec();
    out.extend(order.u16(2));
    out.extend(order.u16(4));
    out.extend(order.u32(0)); // thiszone
    out.extend(order.u32(0)); // sigfigs
    out.extend(order.u32(65535)); // snaplen
    out.extend(order.u32(linktype));
    out
}

fn pcap_record(order: Order, secs: u32, fraction: u32, data: &[u8], orig_len: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for field in [secs, fraction, data.len() as u32, orig_len] {
        out.extend(order.u32(field));
    }
    out.extend_from_slice(data);
    out
}

/// One pcapng block: type, length, body padded to 4 bytes, length again.
fn block(order: Order, block_type: u32, body: &[u8]) -> Vec<u8> {
    let padded = body.len().div_ceil(4) * 4;
    let length = (12 + padded) as u32;
    let mut out = order.u32(block_type).to_vec();
    out.extend(order.u32(length));
    out.extend_from_slice(body);
    out.resize(8 + padded, 0);
    out.extend(order.u32(length));
    out
}

fn options(order: Order, list: &[(u16, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (code, value) in list {
        out.extend(order.u16(*code));
        out.extend(order.u16(value.len() as u16));
        out.extend_from_slice(value);
        out.resize(out.len().div_ceil(4) * 4, 0);
    }
    if !list.is_empty() {
        out.extend([0, 0, 0, 0]); // opt_endofopt
    }
    out
}

fn shb(order: Order) -> Vec<u8> {
    let mut body = order.u32(0x1A2B_3C4D).to_vec();
    body.extend(order.u16(1));
    body.extend(order.u16(0));
    body.extend([0xff; 8]); // section length unknown
    block(order, 0x0A0D_0D0A, &body)
}

fn idb(order: Order, linktype: u16, snaplen: u32, opts: &[(u16, &[u8])]) -> Vec<u8> {
    let mut body = order.u16(linktype).to_vec();
    body.extend(order.u16(0));
    body.extend(order.u32(snaplen));
    body.extend(options(order, opts));
    block(order, 1, &body)
}

fn epb(order: Order, interface: u32, ts: u64, data: &[u8], orig_len: u32) -> Vec<u8> {
    let mut body = Vec::new();
    for field in [interface, (ts >> 32) as u32, ts as u32, data.len() as u32, orig_len] {
        body.extend(order.u32(field));
    }
    body.extend_from_slice(data);
    block(order, 6, &body)
}

fn spb(order: Order, data: &[u8], orig_len: u32) -> Vec<u8> {
    let mut body = order.u32(orig_len).to_vec();
    body.extend_from_slice(data);
    block(order, 3, &body)
}

fn obsolete_pb(order: Order, interface: u16, ts: u64, data: &[u8]) -> Vec<u8> {
    let mut body = order.u16(interface).to_vec();
    body.extend(order.u16(0)); // drops
    for field in [(ts >> 32) as u32, ts as u32, data.len() as u32, data.len() as u32] {
        body.extend(order.u32(field));
    }
    body.extend_from_slice(data);
    block(order, 2, &body)
}

const SECS: i64 = 1_700_000_000;

#[test]
fn pcap_microseconds_little_endian() {
    let mut file = pcap_header(LE, 0xa1b2_c3d4, 1);
    file.extend(pcap_record(LE, SECS as u32, 123_456, b"first", 5));
    file.extend(pcap_record(LE, SECS as u32 + 1, 999_999, b"cut", 1500));
    assert_eq!(&file[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
    let (result, seen) = read_all(&file, 7);
    assert_eq!(result.unwrap(), ReadSummary { frames: 2, truncated: None });
    assert_eq!(
        seen,
        vec![
            Seen { number: 7, ts: SECS * 1_000_000_000 + 123_456_000, link: LinkType::Ethernet, data: b"first".to_vec(), orig_len: 5 },
            Seen {
                number: 8,
                ts: (SECS + 1) * 1_000_000_000 + 999_999_000,
                link: LinkType::Ethernet,
                data: b"cut".to_vec(),
                orig_len: 1500
            },
        ]
    );
}

#[test]
fn pcap_nanoseconds_big_endian() {
    let mut file = pcap_header(BE, 0xa1b2_3c4d, 113);
    file.extend(pcap_record(BE, SECS as u32, 123_456_789, b"sll", 3));
    assert_eq!(&file[..4], &[0xa1, 0xb2, 0x3c, 0x4d]);
    let (result, seen) = read_all(&file, 1);
    assert_eq!(result.unwrap().frames, 1);
    assert_eq!(seen[0].ts, SECS * 1_000_000_000 + 123_456_789);
    assert_eq!(seen[0].link, LinkType::LinuxSll);
    assert_eq!(seen[0].data, b"sll");
}

#[test]
fn pcap_link_type_ignores_fcs_bits() {
    // Bits 28..31 of the link type field say "frames carry a 4-byte FCS".
    let file = [pcap_header(LE, 0xa1b2_c3d4, 0x1000_0000 | 228 | 0x0400_0000), pcap_record(LE, 1, 0, b"x", 1)].concat();
    let (_, seen) = read_all(&file, 1);
    assert_eq!(seen[0].link, LinkType::Ipv4);
}

#[test]
fn pcapng_interfaces_with_their_own_resolution_and_offset() {
    let mut file = shb(LE);
    // Interface 0: Ethernet, default microseconds.
    file.extend(idb(LE, 1, 0, &[]));
    // Interface 1: raw IP, nanoseconds, clock offset of 100 s.
    file.extend(idb(LE, 101, 0, &[(9, &[9]), (14, &100i64.to_le_bytes())]));
    // Interface 2: Linux cooked v2, 2^-10 s units, snap length 4.
    file.extend(idb(LE, 276, 4, &[(9, &[0x80 | 10])]));
    file.extend(epb(LE, 0, SECS as u64 * 1_000_000 + 1, b"eth", 60));
    file.extend(epb(LE, 1, SECS as u64 * 1_000_000_000 + 7, b"raw!", 4));
    file.extend(epb(LE, 2, (SECS as u64) << 10 | 512, b"sll2", 100));
    // A simple packet block: interface 0, no timestamp, data capped by orig_len.
    file.extend(spb(LE, b"simple", 4));
    file.extend(obsolete_pb(LE, 1, 5, b"old"));
    let (result, seen) = read_all(&file, 1);
    assert_eq!(result.unwrap(), ReadSummary { frames: 5, truncated: None });
    let summary: Vec<_> = seen.iter().map(|s| (s.number, s.ts, s.link, s.data.as_slice(), s.orig_len)).collect();
    let ns = 1_000_000_000;
    assert_eq!(
        summary,
        vec![
            (1, SECS * ns + 1_000, LinkType::Ethernet, &b"eth"[..], 60),
            (2, (SECS + 100) * ns + 7, LinkType::Raw, &b"raw!"[..], 4),
            (3, SECS * ns + 500_000_000, LinkType::LinuxSll2, &b"sll2"[..], 100),
            (4, SECS * ns + 500_000_000, LinkType::Ethernet, &b"simp"[..], 4),
            (5, 100 * ns + 5, LinkType::Raw, &b"old"[..], 3),
        ]
    );
}

#[test]
fn pcapng_sections_reset_interfaces_and_byte_order() {
    let mut file = shb(LE);
    file.extend(idb(LE, 1, 0, &[]));
    file.extend(epb(LE, 0, 2_000_000, b"one", 3));
    // Second section, big-endian, its interface 0 is Linux cooked with a 10 s offset.
    file.extend(shb(BE));
    file.extend(idb(BE, 113, 0, &[(14, &10i64.to_be_bytes())]));
    file.extend(epb(BE, 0, 3_000_000, b"two", 3));
    let (result, seen) = read_all(&file, 1);
    assert_eq!(result.unwrap().frames, 2);
    assert_eq!((seen[0].link, seen[0].ts), (LinkType::Ethernet, 2_000_000_000));
    assert_eq!((seen[1].link, seen[1].ts), (LinkType::LinuxSll, 13_000_000_000));
    assert_eq!(seen[1].number, 2);
}

#[test]
fn pcapng_packet_on_undescribed_interface_stops_reading() {
    let file = [shb(LE), idb(LE, 1, 0, &[]), epb(LE, 0, 0, b"a", 1), epb(LE, 3, 0, b"b", 1)].concat();
    let (result, seen) = read_all(&file, 1);
    let summary = result.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(summary.truncated.as_deref(), Some("frame 2 names interface 3, but its section describes 1"));
}

#[test]
fn pcap_cut_inside_the_last_record() {
    let mut file = pcap_header(LE, 0xa1b2_c3d4, 1);
    file.extend(pcap_record(LE, 1, 0, b"whole", 5));
    let whole = file.len();
    file.extend(pcap_record(LE, 2, 0, b"second frame", 12));
    for cut in whole + 1..file.len() {
        let (result, seen) = read_all(&file[..cut], 1);
        let summary = result.unwrap();
        assert_eq!(seen.len(), 1, "cut at {cut}");
        assert_eq!(summary, ReadSummary { frames: 1, truncated: Some("file ends inside frame 2".to_string()) });
    }
}

#[test]
fn pcapng_cut_at_every_length_never_fails_or_hangs() {
    let blocks = [shb(LE), idb(LE, 1, 0, &[(9, &[9])]), epb(LE, 0, 0, b"abcdef", 6), spb(LE, b"xyz", 3)];
    let file = blocks.concat();
    let header_len = blocks[0].len();
    // Where a block ends, the file is short but not cut.
    let boundaries: Vec<usize> = (1..=blocks.len()).map(|n| blocks[..n].concat().len()).collect();
    for cut in 0..file.len() {
        let (result, seen) = read_all(&file[..cut], 1);
        match result {
            Ok(summary) => {
                assert!(cut >= header_len);
                assert_eq!(summary.frames as usize, seen.len());
                if !boundaries.contains(&cut) {
                    assert!(summary.truncated.is_some(), "cut at {cut}");
                }
            }
            Err(error) => assert!(cut < header_len, "cut at {cut}: {error}"),
        }
    }
    let (_, seen) = read_all(&file[..file.len() - 1], 1);
    assert_eq!(seen.len(), 1);
    let (result, _) = read_all(&file[..file.len() - 1], 1);
    assert_eq!(result.unwrap().truncated.as_deref(), Some("file ends inside frame 2"));
}

#[test]
fn pcapng_corrupt_block_lengths_stop_with_a_reason() {
    let good = [shb(LE), idb(LE, 1, 0, &[]), epb(LE, 0, 0, b"ok", 2)].concat();
    // Trailing length differs from the leading one.
    let mut mismatched = epb(LE, 0, 0, b"bad!", 4);
    let end = mismatched.len();
    mismatched[end - 4..].copy_from_slice(&LE.u32(999));
    // Length smaller than any block (followed by more blocks, or it would read as cut).
    let tiny = [&LE.u32(6)[..], &LE.u32(4), &LE.u32(4), &epb(LE, 0, 0, b"after", 5)].concat();
    // A process information block (Apple's) of 10 bytes: pcap-parser 0.17 computes its length
    // minus 12 unchecked (fuzz/capture_reader found it: a panic with overflow checks).
    let process = [&LE.u32(0x8000_0001)[..], &LE.u32(10), &[0; 4], &epb(LE, 0, 0, b"after", 5)].concat();
    for corrupt in [mismatched, tiny, process] {
        let (result, seen) = read_all(&[good.clone(), corrupt].concat(), 1);
        let reason = result.unwrap().truncated.expect("reading stops at the corrupt block");
        assert!(reason.starts_with("corrupt block at byte"), "{reason}");
        assert_eq!(seen.len(), 1);
    }
    // A huge length with plenty of data behind it: bounded growth, then a reason.
    let mut huge = good.clone();
    huge.extend(LE.u32(6));
    huge.extend(LE.u32(0x7fff_fff0));
    huge.resize(huge.len() + MAX_BLOCK + (1 << 20), 0);
    let (result, seen) = read_all(&huge, 1);
    let reason = result.unwrap().truncated.unwrap();
    assert!(reason.contains("claims 2147483632 bytes: corrupt block length"), "{reason}");
    assert_eq!(seen.len(), 1);
    // The same in a pcap record header.
    let mut pcap = pcap_header(LE, 0xa1b2_c3d4, 1);
    pcap.extend([LE.u32(1), LE.u32(0), LE.u32(0x7fff_0000), LE.u32(10)].concat());
    pcap.resize(pcap.len() + MAX_BLOCK + 100, 0);
    let (result, _) = read_all(&pcap, 1);
    assert_eq!(result.unwrap().truncated.as_deref(), Some("frame 1 claims 2147418112 captured bytes: corrupt record header"));
}

#[test]
fn not_a_capture_empty_and_cut_headers() {
    let error = read_from("capture.pcap", Cursor::new(b"<html><body>".to_vec()), 1).0.unwrap_err();
    assert_eq!(
        error.to_string(),
        "capture.pcap: not a pcap or pcapng file (starts with 3c 68 74 6d); ftpscope reads pcap and pcapng: a compressed capture \
         is unpacked first, other formats converted (editcap -F pcapng IN OUT)"
    );
    let error = read_all(b"", 1).0.unwrap_err();
    assert_eq!(
        error.to_string(),
        "test.cap: no capture header (the input is empty); a capture still being written may not be flushed yet (tcpdump -U \
         writes each packet at once)"
    );
    let error = read_all(b"ab", 1).0.unwrap_err();
    assert!(matches!(error, CaptureError::NotACapture { .. }), "{error}");
    let header = pcap_header(LE, 0xa1b2_c3d4, 1);
    for cut in 1..header.len() {
        let error = read_all(&header[..cut], 1).0.unwrap_err();
        assert_eq!(error.to_string(), "test.cap: file ends inside the capture header");
    }
    // A header alone is a valid, empty capture.
    assert_eq!(read_all(&header, 1).0.unwrap(), ReadSummary::default());
    let section = shb(BE);
    for cut in 1..section.len() {
        assert!(matches!(read_all(&section[..cut], 1).0, Err(CaptureError::HeaderCut { .. })));
    }
    let mut bad_order = shb(LE);
    bad_order[8..12].copy_from_slice(&[1, 2, 3, 4]);
    let error = read_all(&bad_order, 1).0.unwrap_err();
    assert_eq!(error.to_string(), "test.cap: damaged capture header: unknown pcapng byte-order magic 01 02 03 04");
}

/// Hands out at most one byte per read, like a slow pipe.
struct Trickle<'a>(&'a [u8]);
impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((byte, rest)), Some(slot)) => {
                *slot = *byte;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn short_reads_are_fine() {
    let long_header = idb(LE, 1, 0, &[(2, b"an interface with a long name"), (9, &[6])]);
    let file = [shb(LE), long_header, epb(LE, 0, 1, b"abc", 3), epb(LE, 0, 2, b"def", 3)].concat();
    let (result, seen) = read_from("pipe", Trickle(&file), 1);
    assert_eq!(result.unwrap(), ReadSummary { frames: 2, truncated: None });
    assert_eq!(seen[1].data, b"def");
}

/// Gives its bytes, then fails.
struct FailsAfter<'a>(&'a [u8]);
impl Read for FailsAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.0.is_empty() {
            return Err(io::Error::other("device went away"));
        }
        let n = self.0.len().min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn read_errors_keep_their_message() {
    let file = [pcap_header(LE, 0xa1b2_c3d4, 1), pcap_record(LE, 1, 0, b"a", 1)].concat();
    let (result, seen) = read_from("dev", FailsAfter(&file), 1);
    assert_eq!(seen.len(), 1);
    assert_eq!(result.unwrap().truncated.as_deref(), Some("read error after frame 1: device went away"));
    let error = read_from("dev", FailsAfter(&[]), 1).0.unwrap_err();
    assert_eq!(error.to_string(), "dev: device went away");
}

#[test]
fn read_path_errors_name_the_path() {
    let dir = std::env::temp_dir().join(format!("ftpscope-capture-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut ignore = |_: &Frame<'_>| {};
    let error = read_path(&dir, 1, &mut ignore).unwrap_err();
    assert_eq!(error.to_string(), format!("{}: is a directory; name the captures in it (DIR/*.pcap)", dir.display()));
    let missing = dir.join("missing.pcap");
    let error = read_path(&missing, 1, &mut ignore).unwrap_err();
    assert!(matches!(error, CaptureError::Io { .. }));
    assert!(error.to_string().starts_with(&format!("{}: ", missing.display())), "{error}");
    let empty = dir.join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let error = read_path(&empty, 1, &mut ignore).unwrap_err();
    assert!(error.to_string().contains("no capture header"), "{error}");
    let file = dir.join("one.pcap");
    std::fs::write(&file, [pcap_header(LE, 0xa1b2_c3d4, 1), pcap_record(LE, 1, 0, b"a", 1)].concat()).unwrap();
    assert_eq!(read_path(&file, 1, &mut ignore).unwrap().frames, 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // Each read zeroes a 1 MiB buffer, slow in debug builds: fewer, richer cases.
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Random bytes behind a valid file header, and random damage to a valid pcapng file.
        #[test]
        fn damaged_files_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..300),
                                     flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
            for header in [pcap_header(LE, 0xa1b2_c3d4, 1), pcap_header(BE, 0xa1b2_3c4d, 1), shb(LE), shb(BE)] {
                let _ = read_all(&[header, tail.clone()].concat(), 1);
            }
            let mut file = [shb(LE), idb(LE, 1, 0, &[(9, &[0x85]), (14, &[1; 8])]), epb(LE, 0, 9, b"abcdefgh", 8), spb(LE, b"s", 1), obsolete_pb(LE, 0, 1, b"o")].concat();
            for (at, byte) in &flips {
                let len = file.len();
                file[at % len] ^= byte;
            }
            let _ = read_all(&file, 1);
        }
    }
}
