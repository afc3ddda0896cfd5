//! Per-direction TCP byte-stream reassembly for FTP control channels.
//!
//! Owns: turning the payloads of one direction's TCP segments, in whatever order and with
//! whatever repetition they were captured, into the stream the application saw, as a sequence
//! of [`Chunk`]s: bytes, or an explicit [`Chunk::Gap`] where bytes were never captured.
//! Sequence numbers are unwrapped into 64-bit stream offsets (0 = first data byte), so a
//! connection that crosses `u32::MAX` reads straight through.
//!
//! Must not touch: flow lookup, TCP flags and connection state (the caller decides when a
//! stream starts and ends and calls [`Reassembler::start_at`] / [`Reassembler::flush`]),
//! and anything FTP: it hands out bytes and never interprets them.
//!
//! Input may be hostile: nothing here panics, and memory stays proportional to
//! `max_buffered` whatever arrives, held in at most [`MAX_PENDING_SEGMENTS`] pieces (by default).

// Input from the wire: no arithmetic that can overflow, no index that can panic (issue 7).
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::collections::{BTreeMap, VecDeque};

/// A segment whose bytes lie further than this from the next expected byte is not trusted:
/// a control channel never has a gigabyte in flight, so such a segment is a bogus sequence
/// number (or belongs to another incarnation of the connection), not data to wait for.
const WINDOW: u64 = 1 << 30;

/// Most recently delivered bytes kept to tell an honest retransmission from one that says
/// something else. Retransmissions re-send recent, unacknowledged data, so a short tail is enough.
const HISTORY_LIMIT: usize = 16 * 1024;

/// Most snap-length cuts remembered for segments that arrived ahead of a hole. A forgotten cut
/// costs only timeliness: its bytes still become a gap, at the latest on overflow or flush.
const MAX_LOST_MARKS: usize = 256;

/// Most out-of-order segments held at once. The byte bound alone would let one-byte segments
/// build a map of `max_buffered` entries, each its own allocation, and make every insert walk
/// more of it; a control channel never has this many segments in flight beyond a hole.
pub const MAX_PENDING_SEGMENTS: usize = 1024;

/// A piece of the reassembled stream, handed out in stream order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    Data(&'a [u8]),
    /// this many bytes of the stream were never seen (lost before the capture point, cut by the
    /// snap length, or dropped because the out-of-order buffer was full)
    Gap(u64),
}

/// What reassembly had to repair or discard; evidence for diagnosis, not errors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Bytes that arrived again after already being delivered or buffered (same content or not).
    pub retransmitted_bytes: u64,
    /// overlapping bytes whose content differed from what was already delivered/buffered (first data wins)
    pub conflicting_overlaps: u64,
    /// Number of [`Chunk::Gap`]s handed out.
    pub gaps: u64,
    /// Total length of those gaps.
    pub gap_bytes: u64,
    /// Segments that started beyond the next expected byte, i.e. arrived ahead of a hole.
    pub out_of_order_segments: u64,
    /// Segments ignored because they lay more than 1 GiB from the next expected byte.
    pub out_of_window_segments: u64,
    /// Times more segments than the segment bound waited beyond a hole, so that the hole became
    /// a gap early, as it does past the byte bound.
    pub segment_limit_hits: u64,
}

/// Reassembles one direction of one TCP connection.
#[derive(Debug, Clone)]
pub struct Reassembler {
    max_buffered: usize,
    /// Bound on the number of entries in `pending`.
    max_segments: usize,
    /// Sequence number of stream offset 0; `None` until `start_at` or the first segment.
    base: Option<u32>,
    /// Stream offset of the next byte to hand out.
    next: u64,
    /// Out-of-order data by stream offset. Entries never overlap and all start after `next`
    /// (a hole always precedes the first), and none is empty, so there are at most
    /// `buffered` entries, and at most `max_segments` once a push is done.
    pending: BTreeMap<u64, Vec<u8>>,
    /// Sum of the lengths in `pending`.
    buffered: usize,
    /// Ranges (start -> end) that snap length cut from segments which arrived ahead of a hole.
    /// They may overlap `pending` and each other: known data wins over a cut.
    lost: BTreeMap<u64, u64>,
    /// The last bytes handed out, ending at `next`; cleared at a gap, as it must stay contiguous.
    history: VecDeque<u8>,
    history_limit: usize,
    stats: ReassemblyStats,
}

impl Reassembler {
    /// max_buffered: bound on out-of-order bytes held; past it the reassembler declares a gap up to the earliest buffered segment and delivers what it can.
    /// The same happens past [`MAX_PENDING_SEGMENTS`] segments held (see [`Reassembler::max_segments`]).
    ///
    /// The byte bound also caps the tail of delivered bytes kept for spotting conflicting
    /// retransmissions (at most 16 KiB).
    pub fn new(max_buffered: usize) -> Self {
        Reassembler {
            max_buffered,
            max_segments: MAX_PENDING_SEGMENTS,
            base: None,
            next: 0,
            pending: BTreeMap::new(),
            buffered: 0,
            lost: BTreeMap::new(),
            history: VecDeque::new(),
            history_limit: max_buffered.min(HISTORY_LIMIT),
            stats: ReassemblyStats::default(),
        }
    }

    /// Holds at most `max_segments` out-of-order segments instead of [`MAX_PENDING_SEGMENTS`];
    /// past it, as past the byte bound, the hole before them becomes a gap.
    pub fn max_segments(mut self, max_segments: usize) -> Self {
        self.max_segments = max_segments;
        self
    }

    /// The stream's first data byte has sequence number `seq` (the SYN's seq + 1). Optional: without it the first segment seen starts the stream (a capture that began mid-connection).
    ///
    /// Ignored once the stream has started: a late or retransmitted SYN must not re-base
    /// offsets already handed out.
    pub fn start_at(&mut self, seq: u32) {
        if self.base.is_none() {
            self.base = Some(seq);
        }
    }

    /// One segment's payload at `seq`. `missing` = bytes of this segment's payload after `payload` that the snap length cut off (they become a Gap after the payload's data). Calls `out` in stream order for every byte range that becomes contiguous.
    pub fn push(&mut self, seq: u32, payload: &[u8], missing: u32, out: &mut dyn FnMut(Chunk<'_>)) {
        // A pure ACK carries no stream bytes, and a keep-alive's seq is one behind: letting
        // either start the stream could misplace offset 0.
        if payload.is_empty() && missing == 0 {
            return;
        }
        let base = *self.base.get_or_insert(seq);

        // Positions relative to `next`, unwrapped to the nearest: a wrapped stream keeps going.
        let start = super::seq::distance(seq, base, self.next);
        let data_end = start.saturating_add(i64::try_from(payload.len()).unwrap_or(i64::MAX));
        let end = data_end.saturating_add(i64::from(missing));
        if start.unsigned_abs() > WINDOW || end > WINDOW as i64 {
            self.stats.out_of_window_segments = self.stats.out_of_window_segments.saturating_add(1);
            return;
        }

        // Bytes before `next` were delivered (or declared lost) already: compare, never buffer.
        let behind = if start < 0 { start.unsigned_abs() } else { 0 };
        let old_len = usize::try_from(behind).unwrap_or(usize::MAX).min(payload.len());
        let (old, fresh) = payload.split_at_checked(old_len).unwrap_or((payload, &[]));
        self.compare_with_delivered(behind, old);
        // Stream offsets: `next` plus at most the window. They cannot reach u64::MAX; the
        // saturating additions say so without a check that can panic.
        let fresh_at = self.next.saturating_add(start.max(0).unsigned_abs());
        let lost_start = self.next.saturating_add(data_end.max(0).unsigned_abs());
        let lost_end = self.next.saturating_add(end.max(0).unsigned_abs());

        if start > 0 {
            self.stats.out_of_order_segments = self.stats.out_of_order_segments.saturating_add(1);
            self.insert(fresh_at, fresh);
            self.record_lost(lost_start, lost_end);
            self.drain(0, out);
        } else {
            // The new part begins exactly at `next`. With nothing buffered (the usual case)
            // it goes straight out without a copy; otherwise it is merged first, because
            // buffered bytes it overlaps arrived first and win.
            if self.pending.is_empty() {
                self.emit_data(fresh, out);
            } else {
                self.insert(fresh_at, fresh);
            }
            // Every byte up to `lost_start` is now delivered or buffered at the front, so
            // draining to `lost_end` gaps only what the snap length cut and nothing filled.
            self.drain(lost_end, out);
        }

        // Past either bound, give up on the hole before the earliest buffered segment. Each round
        // hands out at least that segment, so the map shrinks.
        loop {
            let over_segments = self.pending.len() > self.max_segments;
            if self.buffered <= self.max_buffered && !over_segments {
                break;
            }
            let Some(&first) = self.pending.keys().next() else { break };
            if over_segments {
                self.stats.segment_limit_hits = self.stats.segment_limit_hits.saturating_add(1);
            }
            self.drain(first, out);
        }
    }

    /// The peer acknowledged every byte before `ack`. A hole before buffered data that the peer
    /// already acknowledged was lost before the capture point and will never be seen: it
    /// becomes a gap now, instead of stalling the stream until the buffer fills or the capture
    /// ends. Only with data buffered past the hole: an ACK alone may be captured just before
    /// the segment it acknowledges.
    pub fn acked(&mut self, ack: u32, out: &mut dyn FnMut(Chunk<'_>)) {
        let (Some(base), Some(&first)) = (self.base, self.pending.keys().next()) else { return };
        let ahead = super::seq::distance(ack, base, self.next);
        if ahead <= 0 || ahead as u64 > WINDOW {
            return;
        }
        self.drain(self.next.saturating_add(ahead.unsigned_abs()).min(first), out);
    }

    /// End of stream / end of capture: deliver the buffered out-of-order data, with Gaps for the holes.
    pub fn flush(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        let data_end = self.pending.iter().next_back().map_or(0, |(&at, bytes)| end_of(at, bytes));
        let lost_end = self.lost.values().copied().max().unwrap_or(0);
        self.drain(data_end.max(lost_end), out);
    }

    pub fn stats(&self) -> ReassemblyStats {
        self.stats
    }

    /// Out-of-order bytes held, waiting for a hole before them to fill.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    /// Out-of-order segments (or the parts of them not held already) waiting for a hole to fill.
    pub fn buffered_segments(&self) -> usize {
        self.pending.len()
    }

    /// Stream offset of the next byte expected (bytes delivered or skipped so far).
    pub fn delivered(&self) -> u64 {
        self.next
    }

    /// The stream offset of sequence number `seq` (unwrapped nearest the next byte expected,
    /// as a segment's is); None before the stream has started, or before its offset 0.
    pub fn offset_of(&self, seq: u32) -> Option<u64> {
        let base = self.base?;
        let from = i64::try_from(self.next).ok()?;
        u64::try_from(from.checked_add(super::seq::distance(seq, base, self.next))?).ok()
    }

    /// `old` are bytes of a segment starting `behind` bytes before `next`, none at or after
    /// `next`. Counts them as retransmitted and, where the history still holds what was
    /// delivered there, counts the ones that differ.
    fn compare_with_delivered(&mut self, behind: u64, old: &[u8]) {
        if old.is_empty() {
            return;
        }
        self.stats.retransmitted_bytes = self.stats.retransmitted_bytes.saturating_add(old.len() as u64);
        let held = self.history.len() as u64;
        // Segment byte i sits at next - behind + i, which is history index held - behind + i:
        // the segment's first `behind - held` bytes are older than the history, and the others
        // are compared from history index `held - behind` (0 when the segment reaches back
        // further than the history).
        let Ok(first) = usize::try_from(behind.saturating_sub(held)) else {
            return;
        };
        let Some(compared) = old.get(first..).filter(|c| !c.is_empty()) else {
            return;
        };
        let from = usize::try_from(held.saturating_sub(behind)).unwrap_or(usize::MAX);
        let differing = compared.iter().zip(self.history.range(from..)).filter(|(new, seen)| new != seen).count();
        self.stats.conflicting_overlaps = self.stats.conflicting_overlaps.saturating_add(differing as u64);
    }

    /// Buffers the parts of `bytes` (starting at stream offset `at`) that no buffered segment
    /// holds yet; the overlapping parts are compared and dropped, since first data wins.
    fn insert(&mut self, at: u64, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let end = end_of(at, bytes);
        // Entries never overlap, so only the one just before `at` can reach into the range.
        let from = match self.pending.range(..at).next_back() {
            Some((&k, held)) if end_of(k, held) > at => k,
            _ => at,
        };
        let mut uncovered = Vec::new();
        let mut cursor = at;
        for (&k, held) in self.pending.range(from..end) {
            if k > cursor {
                uncovered.push((cursor, k));
            }
            let lo = k.max(cursor);
            let hi = end_of(k, held).min(end);
            if lo < hi {
                let (seen, new) = (between(held, k, lo, hi), between(bytes, at, lo, hi));
                self.stats.retransmitted_bytes = self.stats.retransmitted_bytes.saturating_add(hi.abs_diff(lo));
                let differing = seen.iter().zip(new).filter(|(a, b)| a != b).count();
                self.stats.conflicting_overlaps = self.stats.conflicting_overlaps.saturating_add(differing as u64);
                cursor = hi;
            }
        }
        if cursor < end {
            uncovered.push((cursor, end));
        }
        for (lo, hi) in uncovered {
            let part = between(bytes, at, lo, hi);
            self.buffered = self.buffered.saturating_add(part.len());
            self.pending.insert(lo, part.to_vec());
        }
    }

    fn record_lost(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        if let Some(known) = self.lost.get_mut(&start) {
            *known = (*known).max(end);
        } else if self.lost.len() < MAX_LOST_MARKS {
            self.lost.insert(start, end);
        }
    }

    /// Hands out everything contiguous from `next`. Bytes before `skip_to` that nobody holds
    /// are declared a gap, and so are the snap-length cuts that this reaches.
    fn drain(&mut self, mut skip_to: u64, out: &mut dyn FnMut(Chunk<'_>)) {
        loop {
            if let Some(entry) = self.pending.first_entry() {
                if *entry.key() <= self.next {
                    let (at, bytes) = entry.remove_entry();
                    self.buffered = self.buffered.saturating_sub(bytes.len());
                    // Entries start at or after `next`; the clamp only guards that invariant.
                    let skip = usize::try_from(self.next.saturating_sub(at)).unwrap_or(usize::MAX);
                    self.emit_data(bytes.get(skip..).unwrap_or_default(), out);
                    continue;
                }
            }
            while let Some(entry) = self.lost.first_entry() {
                if *entry.key() > skip_to.max(self.next) {
                    break;
                }
                skip_to = skip_to.max(entry.remove());
            }
            let until = skip_to.min(self.pending.keys().next().copied().unwrap_or(u64::MAX));
            match until.checked_sub(self.next) {
                Some(len) if len > 0 => self.emit_gap(len, out),
                _ => return,
            }
        }
    }

    fn emit_data(&mut self, bytes: &[u8], out: &mut dyn FnMut(Chunk<'_>)) {
        if bytes.is_empty() {
            return;
        }
        self.next = end_of(self.next, bytes);
        let keep = bytes.get(bytes.len().saturating_sub(self.history_limit)..).unwrap_or(bytes);
        if self.history.capacity() == 0 {
            // A control channel's history soon holds a few hundred bytes: one allocation,
            // not a dozen doublings from four.
            self.history.reserve(self.history_limit.min(1024));
        }
        // From a slice iterator, VecDeque copies in bulk.
        self.history.extend(keep.iter());
        let excess = self.history.len().saturating_sub(self.history_limit);
        self.history.drain(..excess);
        out(Chunk::Data(bytes));
    }

    fn emit_gap(&mut self, len: u64, out: &mut dyn FnMut(Chunk<'_>)) {
        self.next = self.next.saturating_add(len);
        self.stats.gaps = self.stats.gaps.saturating_add(1);
        self.stats.gap_bytes = self.stats.gap_bytes.saturating_add(len);
        self.history.clear();
        out(Chunk::Gap(len));
    }
}

/// The stream offset just past `bytes`, which start at offset `at`.
fn end_of(at: u64, bytes: &[u8]) -> u64 {
    at.saturating_add(bytes.len() as u64)
}

/// The part of `bytes` (which start at stream offset `from`) between offsets `lo` and `hi`;
/// empty unless `bytes` holds all of it (callers ask only for parts it holds).
fn between(bytes: &[u8], from: u64, lo: u64, hi: u64) -> &[u8] {
    let index = |offset: u64| offset.checked_sub(from).and_then(|i| usize::try_from(i).ok());
    match (index(lo), index(hi)) {
        (Some(lo), Some(hi)) => bytes.get(lo..hi).unwrap_or_default(),
        _ => &[],
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Renders what one call hands out: data as is, a gap as `<gap N>`.
    fn collect(call: impl FnOnce(&mut dyn FnMut(Chunk<'_>))) -> Vec<u8> {
        let mut text = Vec::new();
        call(&mut |chunk| match chunk {
            Chunk::Data(bytes) => text.extend_from_slice(bytes),
            Chunk::Gap(len) => text.extend_from_slice(format!("<gap {len}>").as_bytes()),
        });
        text
    }

    fn push(r: &mut Reassembler, seq: u32, payload: &[u8]) -> Vec<u8> {
        collect(|out| r.push(seq, payload, 0, out))
    }

    fn push_cut(r: &mut Reassembler, seq: u32, payload: &[u8], missing: u32) -> Vec<u8> {
        collect(|out| r.push(seq, payload, missing, out))
    }

    fn flush(r: &mut Reassembler) -> Vec<u8> {
        collect(|out| r.flush(out))
    }

    #[test]
    fn acked_hole_becomes_a_gap_at_once() {
        let mut r = Reassembler::new(1 << 16);
        r.start_at(1000);
        assert_eq!(push(&mut r, 1000, b"USER a\r\n"), b"USER a\r\n");
        // "PASS b\r\n" (8 bytes at 1008) is lost before the capture point; the next arrives.
        assert_eq!(push(&mut r, 1016, b"PASV\r\n"), b"");
        // An ACK short of the hole's end proves nothing about the data after it.
        let got = collect(|out| r.acked(1008, out));
        assert_eq!(got, b"");
        let got = collect(|out| r.acked(1022, out));
        assert_eq!(got, b"<gap 8>PASV\r\n");
        assert_eq!(r.stats().gaps, 1);
    }

    #[test]
    fn ack_without_buffered_data_declares_nothing() {
        let mut r = Reassembler::new(1 << 16);
        r.start_at(1000);
        let got = collect(|out| r.acked(1100, out));
        assert_eq!(got, b"");
        assert_eq!(push(&mut r, 1000, b"ok"), b"ok");
    }

    #[test]
    fn in_order_segments_pass_straight_through() {
        let mut r = Reassembler::new(1024);
        r.start_at(1000);
        assert_eq!(push(&mut r, 1000, b"220 ready\r\n"), b"220 ready\r\n");
        assert_eq!(push(&mut r, 1011, b"331 ok\r\n"), b"331 ok\r\n");
        assert_eq!(r.delivered(), 19);
        assert_eq!(r.stats(), ReassemblyStats::default());
        assert_eq!(flush(&mut r), b"");
    }

    #[test]
    fn out_of_order_segment_waits_for_the_hole() {
        let mut r = Reassembler::new(1024);
        r.start_at(100);
        assert_eq!(push(&mut r, 100, b"USER "), b"USER ");
        assert_eq!(push(&mut r, 111, b"\r\n"), b"");
        assert_eq!(push(&mut r, 109, b"ym"), b"");
        assert_eq!(r.buffered_bytes(), 4);
        assert_eq!(push(&mut r, 105, b"anon"), b"anonym\r\n");
        assert_eq!(r.buffered_bytes(), 0);
        assert_eq!(r.stats().out_of_order_segments, 2);
        assert_eq!(r.stats().gaps, 0);
    }

    #[test]
    fn exact_retransmission_is_dropped_and_counted() {
        let mut r = Reassembler::new(1024);
        r.start_at(0);
        assert_eq!(push(&mut r, 0, b"PASV\r\n"), b"PASV\r\n");
        assert_eq!(push(&mut r, 0, b"PASV\r\n"), b"");
        // A duplicate of a buffered segment is dropped too.
        assert_eq!(push(&mut r, 10, b"LIST"), b"");
        assert_eq!(push(&mut r, 10, b"LIST"), b"");
        assert_eq!(r.buffered_bytes(), 4);
        let stats = r.stats();
        assert_eq!(stats.retransmitted_bytes, 10);
        assert_eq!(stats.conflicting_overlaps, 0);
    }

    #[test]
    fn overlap_with_same_bytes_delivers_only_the_new_part() {
        let mut r = Reassembler::new(1024);
        r.start_at(0);
        assert_eq!(push(&mut r, 0, b"RETR a"), b"RETR a");
        // Straddles the delivered point: "RETR a" again, then ".txt".
        assert_eq!(push(&mut r, 0, b"RETR a.txt"), b".txt");
        assert_eq!(r.stats().retransmitted_bytes, 6);
        assert_eq!(r.stats().conflicting_overlaps, 0);
    }

    #[test]
    fn overlap_with_different_bytes_keeps_the_first_and_counts_them() {
        let mut r = Reassembler::new(1024);
        r.start_at(0);
        assert_eq!(push(&mut r, 0, b"USER bob"), b"USER bob");
        assert_eq!(push(&mut r, 5, b"eve\r\n"), b"\r\n");
        let stats = r.stats();
        assert_eq!(stats.retransmitted_bytes, 3);
        assert_eq!(stats.conflicting_overlaps, 3);

        // Against buffered data: the buffered "CWD /a" wins over the later "CWD /b" bytes.
        let mut r = Reassembler::new(1024);
        r.start_at(0);
        assert_eq!(push(&mut r, 4, b"CWD /a"), b"");
        assert_eq!(push(&mut r, 0, b"NOOPCWD /b\r\n"), b"NOOPCWD /a\r\n");
        assert_eq!(r.stats().retransmitted_bytes, 6);
        assert_eq!(r.stats().conflicting_overlaps, 1);
    }

    #[test]
    fn sequence_numbers_wrap_around() {
        let mut r = Reassembler::new(1024);
        r.start_at(0xFFFF_FFF0);
        assert_eq!(push(&mut r, 0xFFFF_FFF0, b"0123456789"), b"0123456789");
        // The segments after the wrap arrive before the one that reaches it.
        assert_eq!(push(&mut r, 0x0000_0004, b"wxyz"), b"");
        assert_eq!(push(&mut r, 0x0000_0000, b"ABCD"), b"");
        assert_eq!(push(&mut r, 0xFFFF_FFFA, b"abcdef"), b"abcdefABCDwxyz");
        assert_eq!(r.delivered(), 24);
        assert_eq!(r.stats().gaps, 0);
    }

    #[test]
    fn mid_connection_capture_starts_at_the_first_segment() {
        let mut r = Reassembler::new(1024);
        // A pure ACK must not start the stream.
        assert_eq!(push(&mut r, 4999, b""), b"");
        assert_eq!(push(&mut r, 5000, b"226 done\r\n"), b"226 done\r\n");
        assert_eq!(push(&mut r, 5010, b"221 bye\r\n"), b"221 bye\r\n");
        assert_eq!(r.delivered(), 19);
    }

    #[test]
    fn snap_length_cut_becomes_a_gap_after_the_data() {
        let mut r = Reassembler::new(1024);
        r.start_at(0);
        assert_eq!(push_cut(&mut r, 0, b"227 Entering", 10), b"227 Entering<gap 10>");
        assert_eq!(push(&mut r, 22, b"\r\n"), b"\r\n");
        assert_eq!(r.stats().gap_bytes, 10);

        // A cut segment that arrives ahead of a hole: its cut is gapped once the hole fills.
        let mut r = Reassembler::new(1024);
        r.start_at(0);
        assert_eq!(push_cut(&mut r, 4, b"QUIT", 3), b"");
        assert_eq!(push(&mut r, 11, b"!"), b"");
        assert_eq!(push(&mut r, 0, b"ABCD"), b"ABCDQUIT<gap 3>!");
    }

    #[test]
    fn full_buffer_turns_the_hole_into_a_gap() {
        let mut r = Reassembler::new(8);
        r.start_at(0);
        assert_eq!(push(&mut r, 0, b"AB"), b"AB");
        assert_eq!(push(&mut r, 4, b"EFGH"), b"");
        assert_eq!(push(&mut r, 10, b"KL"), b"");
        assert_eq!(r.buffered_bytes(), 6);
        // Over the bound: give up on bytes 2..4 and deliver what follows them.
        assert_eq!(push(&mut r, 14, b"OPQ"), b"<gap 2>EFGH");
        assert_eq!(r.buffered_bytes(), 5);
        assert_eq!(r.delivered(), 8);
        // The lost bytes arriving late change nothing.
        assert_eq!(push(&mut r, 2, b"CD"), b"");
        assert_eq!(r.stats().gaps, 1);
        assert_eq!(r.stats().retransmitted_bytes, 2);
    }

    #[test]
    fn flush_delivers_buffered_data_with_gaps_for_holes() {
        let mut r = Reassembler::new(1024);
        r.start_at(0);
        assert_eq!(push(&mut r, 0, b"AB"), b"AB");
        assert_eq!(push(&mut r, 5, b"FG"), b"");
        assert_eq!(push_cut(&mut r, 10, b"K", 2), b"");
        assert_eq!(flush(&mut r), b"<gap 3>FG<gap 3>K<gap 2>");
        assert_eq!(r.buffered_bytes(), 0);
        assert_eq!(r.delivered(), 13);
        assert_eq!(r.stats().gaps, 3);
        assert_eq!(r.stats().gap_bytes, 8);
        assert_eq!(flush(&mut r), b"");
    }

    #[test]
    fn first_segment_lost_after_syn_is_a_gap_at_the_start() {
        let mut r = Reassembler::new(1024);
        r.start_at(7001);
        assert_eq!(push(&mut r, 7011, b"PASS x\r\n"), b"");
        assert_eq!(flush(&mut r), b"<gap 10>PASS x\r\n");
    }

    #[test]
    fn far_away_segments_are_ignored() {
        let mut r = Reassembler::new(1024);
        r.start_at(0);
        assert_eq!(push(&mut r, 0, b"AB"), b"AB");
        assert_eq!(push(&mut r, 0x8000_0000, b"far ahead"), b"");
        assert_eq!(push(&mut r, 0xC000_0000, b"far behind"), b"");
        // A snap-length claim of 4 GiB is no more plausible.
        assert_eq!(push_cut(&mut r, 2, b"C", u32::MAX), b"");
        assert_eq!(r.stats().out_of_window_segments, 3);
        assert_eq!(r.buffered_bytes(), 0);
        assert_eq!(push(&mut r, 2, b"C"), b"C");
    }

    #[test]
    fn start_at_after_the_stream_began_changes_nothing() {
        let mut r = Reassembler::new(1024);
        assert_eq!(push(&mut r, 50, b"abc"), b"abc");
        r.start_at(10);
        assert_eq!(push(&mut r, 53, b"d"), b"d");
    }

    #[test]
    fn zero_budget_still_delivers_everything_it_can() {
        let mut r = Reassembler::new(0);
        r.start_at(0);
        assert_eq!(push(&mut r, 3, b"DE"), b"<gap 3>DE");
        assert_eq!(push(&mut r, 0, b"ABCDEF"), b"F");
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn one_byte_segments_keep_the_segment_bound() {
        // 100,000 one-byte segments after a one-byte hole, in a scrambled order, then the hole.
        let data: Vec<u8> = (0..=100_000u32).map(|i| (i % 251) as u8).collect();
        let mut order: Vec<usize> = (1..data.len()).collect();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for i in (1..order.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        order.push(0);
        let mut r = Reassembler::new(1 << 20);
        r.start_at(7);
        // What was handed out, offset by offset: the byte, or None inside a gap.
        let mut stream: Vec<Option<u8>> = Vec::new();
        let mut sink = |chunk: Chunk<'_>| match chunk {
            Chunk::Data(bytes) => stream.extend(bytes.iter().map(|&b| Some(b))),
            Chunk::Gap(len) => stream.resize(stream.len() + len as usize, None),
        };
        for at in order {
            r.push(7 + at as u32, &data[at..=at], 0, &mut sink);
            assert!(r.buffered_segments() <= MAX_PENDING_SEGMENTS, "{} held", r.buffered_segments());
        }
        // Once the hole has filled, everything is handed out: nothing waits for a flush.
        assert_eq!((r.buffered_segments(), r.buffered_bytes()), (0, 0));
        assert_eq!(r.delivered(), data.len() as u64);
        assert_eq!(stream.len(), data.len());
        // Every byte handed out is the right one at the right place; the rest are gaps.
        assert!(stream.iter().zip(&data).all(|(got, &sent)| got.is_none_or(|b| b == sent)));
        let stats = r.stats();
        assert!(stats.segment_limit_hits > 0);
        // Only the segment bound made gaps here (the byte bound was never reached), one each time.
        assert_eq!(stats.gaps, stats.segment_limit_hits);
        assert_eq!(stats.gap_bytes, stream.iter().filter(|b| b.is_none()).count() as u64);
        // The stream goes on as usual afterwards.
        assert_eq!(push(&mut r, 7 + data.len() as u32, b"QUIT\r\n"), b"QUIT\r\n");
    }

    #[test]
    fn up_to_the_segment_bound_the_hole_still_fills_without_a_gap() {
        let mut r = Reassembler::new(1 << 20);
        r.start_at(0);
        let segments = MAX_PENDING_SEGMENTS as u32;
        // One-byte segments after a one-byte hole, last first: each is its own entry.
        for at in (1..=segments).rev() {
            assert_eq!(push(&mut r, at, b"x"), b"");
        }
        assert_eq!(r.buffered_segments(), MAX_PENDING_SEGMENTS);
        let all = collect(|out| r.push(0, b"x", 0, out));
        assert_eq!(all, vec![b'x'; MAX_PENDING_SEGMENTS + 1]);
        assert_eq!(r.stats().gaps, 0);

        // One more than the bound: the hole becomes a gap at once, as past the byte bound.
        let mut r = Reassembler::new(1 << 20);
        r.start_at(0);
        for at in (2..=segments + 1).rev() {
            assert_eq!(push(&mut r, at, b"x"), b"");
        }
        let got = push(&mut r, 1, b"y");
        assert_eq!(got, [&b"<gap 1>y"[..], &vec![b'x'; MAX_PENDING_SEGMENTS]].concat());
        assert_eq!(r.stats().segment_limit_hits, 1);
        assert_eq!(r.buffered_segments(), 0);
        // The lost byte arriving late changes nothing.
        assert_eq!(push(&mut r, 0, b"z"), b"");
    }

    #[test]
    fn segment_bound_can_be_set() {
        let mut r = Reassembler::new(1024).max_segments(2);
        r.start_at(0);
        assert_eq!(push(&mut r, 2, b"C"), b"");
        assert_eq!(push(&mut r, 4, b"E"), b"");
        assert_eq!(push(&mut r, 6, b"G"), b"<gap 2>C");
        assert_eq!(r.buffered_segments(), 2);
        assert_eq!(r.stats().segment_limit_hits, 1);
    }

    /// The segments of `data`: a partition at `cuts`, plus extra arbitrary slices of it
    /// (overlapping, consistent retransmissions), each as (offset, bytes).
    fn segments(data: &[u8], cuts: &[usize], extra: &[(usize, usize)]) -> Vec<(usize, Vec<u8>)> {
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c % data.len()).collect();
        bounds.push(0);
        bounds.push(data.len());
        bounds.sort_unstable();
        bounds.dedup();
        let mut out: Vec<(usize, Vec<u8>)> = bounds.windows(2).map(|w| (w[0], data[w[0]..w[1]].to_vec())).collect();
        for &(from, len) in extra {
            let from = from % data.len();
            let to = (from + len).min(data.len());
            out.push((from, data[from..to].to_vec()));
        }
        out
    }

    proptest! {
        #[test]
        fn any_order_and_duplication_yields_the_original(
            data in proptest::collection::vec(any::<u8>(), 1..400),
            cuts in proptest::collection::vec(any::<usize>(), 0..30),
            extra in proptest::collection::vec((any::<usize>(), 1usize..60), 0..20),
            isn in prop_oneof![any::<u32>(), (0u32..512).prop_map(|d| u32::MAX - d)],
            order_seed in any::<u64>(),
        ) {
            let mut segs = segments(&data, &cuts, &extra);
            // A deterministic shuffle from the seed (proptest shrinks the seed like any value).
            let mut state = order_seed | 1;
            for i in (1..segs.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                segs.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let mut r = Reassembler::new(data.len());
            r.start_at(isn);
            let mut stream = Vec::new();
            let mut sink = |chunk: Chunk<'_>| match chunk {
                Chunk::Data(bytes) => stream.extend_from_slice(bytes),
                Chunk::Gap(len) => panic!("unexpected gap of {len}"),
            };
            for (at, bytes) in &segs {
                r.push(isn.wrapping_add(*at as u32), bytes, 0, &mut sink);
            }
            r.flush(&mut sink);
            prop_assert_eq!(&stream, &data);
            prop_assert_eq!(r.delivered(), data.len() as u64);
            prop_assert_eq!(r.buffered_bytes(), 0);
            prop_assert_eq!(r.stats().conflicting_overlaps, 0);
            prop_assert_eq!(r.stats().gaps, 0);
        }

        #[test]
        fn hostile_segments_keep_the_bound_and_the_accounting(
            budget in 0usize..64,
            max_segments in proptest::option::of(0usize..8),
            start in proptest::option::of(any::<u32>()),
            pushes in proptest::collection::vec(
                (any::<u32>(), 0u32..200, proptest::collection::vec(any::<u8>(), 0..40), 0u32..50),
                0..60,
            ),
        ) {
            let mut r = Reassembler::new(budget);
            if let Some(max_segments) = max_segments {
                r = r.max_segments(max_segments);
            }
            if let Some(seq) = start {
                r.start_at(seq);
            }
            let mut handed_out = 0u64;
            let mut sink = |chunk: Chunk<'_>| match chunk {
                Chunk::Data(bytes) => handed_out += bytes.len() as u64,
                Chunk::Gap(len) => handed_out += len,
            };
            // Half the segments land near the stream so that overlaps actually happen.
            let anchor = start.unwrap_or(0);
            for (i, (seq, near, payload, missing)) in pushes.iter().enumerate() {
                let seq = if i % 2 == 0 { anchor.wrapping_add(*near) } else { *seq };
                r.push(seq, payload, *missing, &mut sink);
                prop_assert!(r.buffered_bytes() <= budget);
                prop_assert!(r.buffered_segments() <= max_segments.unwrap_or(MAX_PENDING_SEGMENTS));
            }
            r.flush(&mut sink);
            prop_assert_eq!(r.buffered_bytes(), 0);
            prop_assert_eq!(handed_out, r.delivered());
        }
    }
}
