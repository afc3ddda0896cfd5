//! IP reassembly: the fragments of a TCP datagram (IPv4, or IPv6 Fragment headers) put back
//! together, as Wireshark, Zeek and Suricata do, so that a PORT or a 227 carried in fragments
//! is read like any other line. Owned by the analyzer (it needs the fragments in frame order);
//! decoding hands it [`Fragment`]s and decodes again what it gives back.
//!
//! Bounded: the bytes buffered in all pending datagrams, the number of pending datagrams, the
//! capture time a datagram may wait for its missing fragments (30 s, Linux's `ipfrag_time`),
//! the fragments of one datagram, and the size of a datagram (what its IP length field can
//! say). What is given up is counted ([`DefragCounts`]).
//!
//! Overlaps: the first bytes received win (Suricata's `first` policy); later bytes fill only
//! what is still missing. Each overlapping fragment is counted, and counted again as a conflict
//! when its bytes differ from those kept: receivers with other policies would have read another
//! datagram (an evasion, or a broken sender).
//!
//! Why not etherparse's `defrag::IpDefragPool`: it has no bound on pending datagrams or bytes,
//! lets the last fragment win without saying so, and reads only strictly sliced packets.
//! Must not touch: TCP, flows, FTP. Never reads a clock: time is the capture's.

// Fed by hostile input: no arithmetic that can overflow, no index that can panic. Lengths are
// bounded by the IP length fields (below 2^17), so saturation never changes a result.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use super::{DatagramId, Fragment};
use crate::model::Timestamp;
use crate::AddrMap;
use std::collections::VecDeque;
use std::net::IpAddr;

/// Bounds on what the reassembler keeps.
#[derive(Debug, Clone, Copy)]
pub struct DefragLimits {
    /// Bytes held by all pending datagrams (fragment bytes plus [`PIECE_OVERHEAD`] per piece).
    /// Past it, the oldest pending datagrams are dropped. Linux's `ipfrag_high_thresh`.
    pub max_bytes: usize,
    /// Datagrams waiting for fragments at once; past it, the oldest is dropped.
    pub max_datagrams: usize,
    /// Capture time from a datagram's first fragment after which it is given up as incomplete.
    pub timeout_ns: i64,
}

impl Default for DefragLimits {
    fn default() -> Self {
        DefragLimits { max_bytes: 4 << 20, max_datagrams: 4096, timeout_ns: 30 * 1_000_000_000 }
    }
}

/// What reassembly did and gave up, for the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefragCounts {
    /// Datagrams put back together from their fragments.
    pub reassembled: u64,
    /// Datagrams given up with a fragment missing: at their timeout, or at the end of the input.
    pub incomplete: u64,
    /// Datagrams dropped to stay within the bytes or the pending datagrams allowed.
    pub over_budget: u64,
    /// Datagrams dropped as impossible: larger than an IP length field can say, two different
    /// ends, a fragment past the end, a non-final fragment whose length is not a multiple of 8,
    /// too many fragments.
    pub invalid: u64,
    /// Fragments that repeated bytes already received (duplicates included).
    pub overlapping: u64,
    /// Overlapping fragments whose bytes differed from those kept.
    pub conflicting: u64,
}

/// Bytes counted per piece besides its data: tiny fragments cost what they hold in memory.
pub const PIECE_OVERHEAD: usize = 48;
/// Fragments one datagram may take. A 64 KiB datagram over IPv4's minimum MTU (68 bytes, 48 of
/// data per fragment) needs 1,366; more is an attack on the reassembler's time.
const MAX_FRAGMENTS: u32 = 2048;
/// The payload an IPv4 datagram can hold (total length 65,535, a 20-byte header), and an IPv6
/// one (payload length 65,535; jumbograms are not reassembled).
const MAX_V4_PAYLOAD: u32 = 65_515; // 65,535 - 20
const MAX_V6_PAYLOAD: u32 = 65_535;

/// Received bytes of a datagram: disjoint, sorted by `start`.
struct Piece {
    start: u32,
    bytes: Box<[u8]>,
}

impl Piece {
    fn end(&self) -> u32 {
        self.start.saturating_add(len_u32(&self.bytes))
    }
}

struct Pending {
    /// Which entry of the age queue is this one's (the id may be reused after it is gone).
    serial: u64,
    pieces: Vec<Piece>,
    /// Bytes in `pieces` (they are disjoint: the datagram is whole when this reaches `end`).
    received: u32,
    /// The payload's length, once the last fragment came.
    end: Option<u32>,
    fragments: u32,
    /// Held against the byte budget.
    held: usize,
}

pub struct Reassembler {
    limits: DefragLimits,
    pending: AddrMap<DatagramId, Pending>,
    /// Pending datagrams by first fragment, oldest first (time only moves forward): timeouts
    /// and evictions take from the front. Entries of datagrams gone since are skipped, and
    /// compacted away when they outnumber the live ones.
    ages: VecDeque<(Timestamp, DatagramId, u64)>,
    next_serial: u64,
    held: usize,
    counts: DefragCounts,
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler::new(DefragLimits::default())
    }
}

impl Reassembler {
    pub fn new(limits: DefragLimits) -> Reassembler {
        Reassembler { limits, pending: AddrMap::default(), ages: VecDeque::new(), next_serial: 0, held: 0, counts: DefragCounts::default() }
    }

    pub fn counts(&self) -> DefragCounts {
        self.counts
    }

    /// Bytes held now (for tests of the bounds).
    pub fn held(&self) -> usize {
        self.held
    }

    /// Adds a fragment at capture time `now` (never earlier than the last call's). True when it
    /// completed its datagram: `out` then holds the whole datagram as an IP packet (a plain
    /// IPv4 or IPv6 header, then the payload), ready to decode.
    pub fn add(&mut self, now: Timestamp, f: &Fragment<'_>, out: &mut Vec<u8>) -> bool {
        self.expire(now);
        let id = f.datagram;
        let len = len_u32(f.payload);
        let end = f.offset.saturating_add(len);
        let max = if id.src.is_ipv4() { MAX_V4_PAYLOAD } else { MAX_V6_PAYLOAD };
        // RFC 791 and 8200: every fragment but the last carries a multiple of 8 bytes.
        if end > max || (f.more && !len.is_multiple_of(8)) {
            self.give_up(&id);
            return false;
        }
        if len == 0 && f.more {
            return false; // nothing to keep, nothing to learn
        }
        let cost = f.payload.len().saturating_add(PIECE_OVERHEAD);
        if cost > self.limits.max_bytes {
            self.give_up(&id);
            return false;
        }
        while self.held.saturating_add(cost) > self.limits.max_bytes && self.evict_oldest() {}
        if !self.pending.contains_key(&id) {
            while self.pending.len() >= self.limits.max_datagrams.max(1) && self.evict_oldest() {}
            let serial = self.next_serial;
            self.next_serial = self.next_serial.wrapping_add(1);
            self.ages.push_back((now, id, serial));
            self.pending.insert(id, Pending { serial, pieces: Vec::new(), received: 0, end: None, fragments: 0, held: 0 });
        }
        let Some(p) = self.pending.get_mut(&id) else { return false };
        p.fragments = p.fragments.saturating_add(1);
        let last_end = p.pieces.last().map_or(0, Piece::end);
        let consistent = match (p.end, f.more) {
            // Two last fragments must agree; data past the end cannot be.
            (Some(known), false) => known == end,
            (None, false) => last_end <= end,
            (Some(known), true) => end <= known,
            (None, true) => true,
        };
        if !consistent || p.fragments > MAX_FRAGMENTS {
            self.give_up(&id);
            return false;
        }
        if !f.more {
            p.end = Some(end);
        }
        let before = p.held;
        let overlap = insert_first_wins(&mut p.pieces, f.offset, f.payload);
        let added = overlap.added.iter().fold(0u32, |sum, &(_, n)| sum.saturating_add(n));
        p.received = p.received.saturating_add(added);
        let overhead = overlap.added.len().saturating_mul(PIECE_OVERHEAD);
        p.held = p.held.saturating_add(added as usize).saturating_add(overhead);
        self.held = self.held.saturating_add(p.held.saturating_sub(before));
        bump(&mut self.counts.overlapping, overlap.overlapped);
        bump(&mut self.counts.conflicting, overlap.conflicting);
        if p.end != Some(p.received) {
            return false;
        }
        let Some(p) = self.remove(&id) else { return false };
        bump(&mut self.counts.reassembled, true);
        write_datagram(&id, p.received, &p.pieces, out);
        self.compact();
        true
    }

    /// Gives up the datagrams whose first fragment is older than the timeout at `now`.
    pub fn expire(&mut self, now: Timestamp) {
        while let Some(&(started, id, serial)) = self.ages.front() {
            if now < started.plus_ns(self.limits.timeout_ns) {
                break;
            }
            self.ages.pop_front();
            if self.pending.get(&id).is_some_and(|p| p.serial == serial) {
                self.remove(&id);
                bump(&mut self.counts.incomplete, true);
            }
        }
    }

    /// End of input: every datagram still waiting is incomplete.
    pub fn finish(&mut self) {
        self.counts.incomplete = self.counts.incomplete.saturating_add(self.pending.len() as u64);
        self.pending.clear();
        self.ages.clear();
        self.held = 0;
    }

    /// Drops the oldest pending datagram to make room; false when there is none.
    fn evict_oldest(&mut self) -> bool {
        while let Some((_, id, serial)) = self.ages.pop_front() {
            if self.pending.get(&id).is_some_and(|p| p.serial == serial) {
                self.remove(&id);
                bump(&mut self.counts.over_budget, true);
                return true;
            }
        }
        false
    }

    /// The datagram cannot be rebuilt: dropped and counted once (its later fragments start a
    /// new one, which times out).
    fn give_up(&mut self, id: &DatagramId) {
        self.remove(id);
        bump(&mut self.counts.invalid, true);
        self.compact();
    }

    fn remove(&mut self, id: &DatagramId) -> Option<Pending> {
        let p = self.pending.remove(id)?;
        self.held = self.held.saturating_sub(p.held);
        Some(p)
    }

    /// Drops the age entries of datagrams gone, once they outnumber the live ones: the queue
    /// stays within twice the pending datagrams (plus a little), at constant cost per datagram.
    fn compact(&mut self) {
        if self.ages.len() > self.pending.len().saturating_mul(2).saturating_add(64) {
            let pending = &self.pending;
            self.ages.retain(|(_, id, serial)| pending.get(id).is_some_and(|p| p.serial == *serial));
        }
    }
}

fn bump(count: &mut u64, happened: bool) {
    *count = count.saturating_add(u64::from(happened));
}

/// A fragment's length as IP offsets count it (a captured frame is far below 4 GiB).
fn len_u32(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.len()).unwrap_or(u32::MAX)
}

/// `bytes[from - offset .. to - offset]`: the part of a fragment starting at `offset` that
/// covers `[from, to)`; empty if the range is not inside it (callers keep it inside).
fn span(bytes: &[u8], offset: u32, from: u32, to: u32) -> &[u8] {
    let at = |x: u32| x.saturating_sub(offset) as usize;
    bytes.get(at(from)..at(to)).unwrap_or_default()
}

/// What inserting one fragment found.
struct Overlap {
    /// The new pieces: (start, length).
    added: Vec<(u32, u32)>,
    overlapped: bool,
    conflicting: bool,
}

/// Inserts the bytes of `[offset, offset + bytes.len())` not received yet; the bytes received
/// first are kept.
fn insert_first_wins(pieces: &mut Vec<Piece>, offset: u32, bytes: &[u8]) -> Overlap {
    let end = offset.saturating_add(len_u32(bytes));
    let mut result = Overlap { added: Vec::new(), overlapped: false, conflicting: false };
    let first = pieces.partition_point(|p| p.end() <= offset);
    let mut cursor = offset;
    for p in pieces.iter().skip(first).take_while(|p| p.start < end) {
        if p.start > cursor {
            result.added.push((cursor, p.start.saturating_sub(cursor)));
        }
        let (from, to) = (p.start.max(offset), p.end().min(end));
        result.overlapped = true;
        result.conflicting |= span(&p.bytes, p.start, from, to) != span(bytes, offset, from, to);
        cursor = cursor.max(p.end());
    }
    if cursor < end {
        result.added.push((cursor, end.saturating_sub(cursor)));
    }
    for &(start, len) in &result.added {
        let at = pieces.partition_point(|p| p.start < start);
        let piece = span(bytes, offset, start, start.saturating_add(len));
        pieces.insert(at, Piece { start, bytes: piece.into() });
    }
    result
}

/// The whole datagram as an IP packet: a plain header (no options, no extension headers; the
/// checksum is left zero, nothing checks it), then the pieces in order.
fn write_datagram(id: &DatagramId, len: u32, pieces: &[Piece], out: &mut Vec<u8>) {
    out.clear();
    const TCP: u8 = 6;
    match (id.src, id.dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            let total = len.saturating_add(20) as u16; // len <= MAX_V4_PAYLOAD
            out.extend_from_slice(&[0x45, 0]);
            out.extend_from_slice(&total.to_be_bytes());
            out.extend_from_slice(&[0, 0, 0, 0, 64, TCP, 0, 0]);
            out.extend_from_slice(&src.octets());
            out.extend_from_slice(&dst.octets());
        }
        _ => {
            let to_v6 = |a: IpAddr| match a {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            out.extend_from_slice(&[0x60, 0, 0, 0]);
            out.extend_from_slice(&(len as u16).to_be_bytes()); // len <= MAX_V6_PAYLOAD
            out.extend_from_slice(&[TCP, 64]);
            out.extend_from_slice(&to_v6(id.src).octets());
            out.extend_from_slice(&to_v6(id.dst).octets());
        }
    }
    for p in pieces {
        out.extend_from_slice(&p.bytes);
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::decode::{decode, Decoded, LinkType};
    use std::net::Ipv4Addr;

    const SRC: [u8; 4] = [192, 0, 2, 10];
    const DST: [u8; 4] = [203, 0, 113, 10];

    fn id(n: u32) -> DatagramId {
        DatagramId { src: Ipv4Addr::from(SRC).into(), dst: Ipv4Addr::from(DST).into(), id: n }
    }

    fn frag(n: u32, offset: u32, more: bool, payload: &[u8]) -> Fragment<'_> {
        Fragment { datagram: id(n), offset, more, payload }
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_secs(1_700_000_000 + secs)
    }

    /// A TCP header (20 bytes) and `text`: what a datagram's payload holds.
    fn segment(text: &[u8]) -> Vec<u8> {
        let mut t = vec![0x9c, 0x40, 0, 21, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0];
        t.extend_from_slice(text);
        t
    }

    #[test]
    fn fragments_out_of_order_give_the_datagram_once() {
        let payload = segment(b"227 Entering Passive Mode (203,0,113,10,195,80).\r\n");
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        assert!(!r.add(at(0), &frag(7, 48, false, &payload[48..]), &mut out));
        assert!(!r.add(at(0), &frag(7, 0, true, &payload[..24]), &mut out));
        assert!(r.add(at(1), &frag(7, 24, true, &payload[24..48]), &mut out));
        let Ok(Decoded::Tcp(seg)) = decode(LinkType::Raw, &out, out.len() as u32) else { panic!("{out:?}") };
        assert_eq!(seg.payload, &payload[20..]);
        assert_eq!(seg.dst.to_string(), "203.0.113.10:21");
        assert_eq!(r.counts(), DefragCounts { reassembled: 1, ..DefragCounts::default() });
        assert_eq!(r.held(), 0);
    }

    #[test]
    fn overlaps_keep_the_first_bytes_and_conflicts_are_counted() {
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        r.add(at(0), &frag(1, 0, true, b"AAAAAAAABBBBBBBB"), &mut out);
        // A duplicate: an overlap, no conflict.
        r.add(at(0), &frag(1, 0, true, b"AAAAAAAA"), &mut out);
        // Overlaps the second block with other bytes, and brings the end.
        assert!(r.add(at(0), &frag(1, 8, false, b"XXXXXXXXCC"), &mut out));
        assert_eq!(&out[20..], b"AAAAAAAABBBBBBBBCC");
        let c = r.counts();
        assert_eq!((c.reassembled, c.overlapping, c.conflicting), (1, 2, 1));
        // A gap filled from both sides by one fragment spanning it.
        r.add(at(0), &frag(2, 0, true, b"11111111"), &mut out);
        r.add(at(0), &frag(2, 16, false, b"333"), &mut out);
        assert!(r.add(at(0), &frag(2, 0, true, b"1111111122222222"), &mut out));
        assert_eq!(&out[20..], b"1111111122222222333");
    }

    #[test]
    fn a_datagram_missing_a_fragment_times_out_and_is_counted() {
        let mut r = Reassembler::new(DefragLimits { timeout_ns: 30_000_000_000, ..DefragLimits::default() });
        let mut out = Vec::new();
        r.add(at(0), &frag(1, 0, true, &[0; 16]), &mut out);
        r.add(at(29), &frag(2, 0, true, &[0; 16]), &mut out);
        r.expire(at(29));
        assert_eq!(r.counts().incomplete, 0);
        // The first one's time is up; its last fragment comes too late and starts anew.
        assert!(!r.add(at(30), &frag(1, 16, false, &[0; 4]), &mut out));
        assert_eq!(r.counts().incomplete, 1);
        r.finish();
        assert_eq!(r.counts().incomplete, 3);
        assert_eq!((r.counts().reassembled, r.held()), (0, 0));
    }

    #[test]
    fn over_the_byte_budget_the_oldest_datagram_is_dropped_and_counted() {
        let piece = 1000;
        let limits = DefragLimits { max_bytes: 3 * (piece + PIECE_OVERHEAD), ..DefragLimits::default() };
        let mut r = Reassembler::new(limits);
        let mut out = Vec::new();
        let bytes = vec![7u8; piece];
        for n in 0..3 {
            r.add(at(0), &frag(n, 0, true, &bytes), &mut out);
        }
        assert_eq!((r.counts().over_budget, r.held()), (0, limits.max_bytes));
        // The fourth does not fit: the oldest (datagram 0) goes.
        r.add(at(1), &frag(3, 0, true, &bytes), &mut out);
        assert_eq!(r.counts().over_budget, 1);
        assert!(r.held() <= limits.max_bytes);
        // Datagram 0's last fragment no longer completes it; datagram 1 still completes.
        assert!(!r.add(at(1), &frag(0, 1000, false, b"x"), &mut out));
        assert_eq!(r.counts().over_budget, 2, "datagram 1, the oldest, made room for it");
        assert!(r.add(at(1), &frag(2, 1000, false, b"x"), &mut out));
        assert!(r.held() <= limits.max_bytes);
    }

    #[test]
    fn over_the_count_of_pending_datagrams_the_oldest_is_dropped() {
        let mut r = Reassembler::new(DefragLimits { max_datagrams: 2, ..DefragLimits::default() });
        let mut out = Vec::new();
        for n in 0..5 {
            r.add(at(0), &frag(n, 0, true, &[1; 8]), &mut out);
        }
        assert_eq!(r.counts().over_budget, 3);
        assert!(r.add(at(0), &frag(4, 8, false, &[2]), &mut out));
    }

    #[test]
    fn impossible_datagrams_are_dropped_as_invalid() {
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        // Past what an IPv4 length field can say.
        r.add(at(0), &frag(1, 65_512, false, &[0; 8]), &mut out);
        // A non-final fragment of 5 bytes.
        r.add(at(0), &frag(2, 0, true, &[0; 5]), &mut out);
        // Two different ends.
        r.add(at(0), &frag(3, 8, false, &[0; 8]), &mut out);
        r.add(at(0), &frag(3, 8, false, &[0; 4]), &mut out);
        // Data past the end.
        r.add(at(0), &frag(4, 8, false, &[0; 8]), &mut out);
        r.add(at(0), &frag(4, 16, true, &[0; 8]), &mut out);
        assert_eq!(r.counts().invalid, 4);
        assert_eq!((r.counts().reassembled, r.held()), (0, 0));
    }

    #[test]
    fn one_datagram_may_not_take_endless_fragments() {
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        // The same 8 bytes again and again: no new bytes, but each costs a walk.
        for _ in 0..=MAX_FRAGMENTS {
            r.add(at(0), &frag(1, 0, true, &[0; 8]), &mut out);
        }
        assert_eq!(r.counts().invalid, 1);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any order of the fragments, any of them repeated: the first datagram completed is
            /// the original, and duplicates are overlaps, never conflicts.
            #[test]
            fn any_order_and_duplication_gives_the_datagram(
                payload in proptest::collection::vec(any::<u8>(), 1..300),
                cuts in proptest::collection::btree_set(1usize..40, 0..8),
                order in proptest::collection::vec(any::<prop::sample::Index>(), 1..24),
            ) {
                let mut starts: Vec<usize> = cuts.into_iter().map(|c| c * 8).filter(|&c| c < payload.len()).collect();
                starts.insert(0, 0);
                let pieces: Vec<(usize, usize)> =
                    starts.iter().enumerate().map(|(i, &s)| (s, starts.get(i + 1).copied().unwrap_or(payload.len()))).collect();
                // Every piece at least once, then the random picks (repeats), in a shuffled order.
                let mut sends: Vec<usize> = (0..pieces.len()).collect();
                sends.extend(order.iter().map(|i| i.index(pieces.len())));
                let n = sends.len();
                for (i, pick) in order.iter().enumerate() {
                    sends.swap(i % n, pick.index(n));
                }
                let mut r = Reassembler::default();
                let mut out = Vec::new();
                let mut first = None;
                for &k in &sends {
                    let (s, e) = pieces[k];
                    let f = frag(9, s as u32, e < payload.len(), &payload[s..e]);
                    if r.add(at(0), &f, &mut out) && first.is_none() {
                        first = Some(out.clone());
                    }
                }
                let first = first.expect("completed");
                prop_assert_eq!(&first[20..], &payload[..]);
                prop_assert_eq!(r.counts().conflicting, 0);
                prop_assert_eq!(r.counts().invalid, 0);
            }
        }
    }

    #[test]
    fn ipv6_datagrams_get_an_ipv6_header() {
        let payload = segment(b"229 Entering Extended Passive Mode (|||50001|)\r\n");
        let id = DatagramId { src: "2001:db8:1::10".parse().unwrap(), dst: "2001:db8:2::10".parse().unwrap(), id: 0x1234_5678 };
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        assert!(!r.add(at(0), &Fragment { datagram: id, offset: 32, more: false, payload: &payload[32..] }, &mut out));
        assert!(r.add(at(0), &Fragment { datagram: id, offset: 0, more: true, payload: &payload[..32] }, &mut out));
        let Ok(Decoded::Tcp(seg)) = decode(LinkType::Raw, &out, out.len() as u32) else { panic!("{out:?}") };
        assert_eq!(seg.src.to_string(), "[2001:db8:1::10]:40000");
        assert_eq!(seg.payload, &payload[20..]);
    }
}
