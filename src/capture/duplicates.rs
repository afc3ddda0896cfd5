//! Frames captured twice. A SPAN port that mirrors both the ingress and the egress of a switch
//! port, or two mirrored ports on one path, delivers every packet twice, a few microseconds
//! apart. Fed to the analysis, each SYN would count as a retransmission and every line as sent
//! twice. A TCP segment (with a SYN, a FIN or data) whose bytes equal one of the last [`WINDOW`] frames', captured within
//! [`WINDOW_NS`] of it, is such a copy (editcap -d/-D/-w find them the same way): the analyzer
//! counts it and skips it.
//!
//! A TCP sender hardly ever emits the same bytes twice that close together: a retransmission
//! comes a retransmission timeout later (200 ms at least on Linux, 1 s for a SYN), with a new
//! IP ID and TCP timestamp. A fast retransmission on a LAN can come sooner, and over IPv6
//! without timestamps it can be byte for byte the same: skipping it loses nothing but the count
//! of retransmitted bytes.

use std::hash::BuildHasher;

/// How many earlier frames a frame is compared with.
pub const WINDOW: usize = 16;
/// How far apart in capture time a copy may be.
pub const WINDOW_NS: i64 = 10_000_000;
/// Bytes of a frame's start and end that are hashed: the link, IP and TCP headers (with the IP
/// and TCP checksums, which cover the rest) and the payload's tail.
const HEAD: usize = 128;
const TAIL: usize = 64;

pub struct Duplicates {
    /// Fingerprints and capture times of the latest frames, a ring.
    recent: [(u64, i64); WINDOW],
    next: usize,
    /// Per process, so that nobody can aim a collision that hides a frame.
    hasher: foldhash::fast::RandomState,
}

impl Default for Duplicates {
    fn default() -> Self {
        Duplicates { recent: [(0, i64::MIN); WINDOW], next: 0, hasher: Default::default() }
    }
}

impl Duplicates {
    /// True when this frame is a copy of a recent one; else remembers it.
    pub fn is_copy(&mut self, ts: i64, data: &[u8], orig_len: u32) -> bool {
        let head = data.get(..HEAD).unwrap_or(data);
        let tail = data.get(data.len().saturating_sub(TAIL).max(head.len())..).unwrap_or_default();
        let print = self.hasher.hash_one((orig_len, data.len(), head, tail));
        let copy = self.recent.iter().any(|&(p, t)| p == print && ts.abs_diff(t) <= WINDOW_NS as u64);
        if !copy {
            if let Some(slot) = self.recent.get_mut(self.next) {
                *slot = (print, ts);
            }
            self.next = self.next.saturating_add(1) % WINDOW;
        }
        copy
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    #[test]
    fn a_copy_within_the_window_is_found_once() {
        let mut d = Duplicates::default();
        let a = [1u8; 200];
        let mut b = a;
        b[150] = 2; // differs past the head: the tail covers it
        assert!(!d.is_copy(0, &a, 200));
        assert!(d.is_copy(MS / 100, &a, 200));
        assert!(!d.is_copy(MS / 50, &b, 200));
        assert!(d.is_copy(10 * MS, &b, 200));
    }

    #[test]
    fn the_same_bytes_later_or_further_back_are_not_a_copy() {
        let mut d = Duplicates::default();
        let frame = |i: u8| [i; 60];
        assert!(!d.is_copy(0, &frame(0), 60));
        // A retransmission with the same bytes a retransmission timeout later.
        assert!(!d.is_copy(200 * MS, &frame(0), 60));
        assert!(!d.is_copy(211 * MS, &frame(0), 60));
        // WINDOW other frames push it out of the ring.
        for i in 1..=WINDOW as u8 {
            assert!(!d.is_copy(200 * MS, &frame(i), 60));
        }
        assert!(!d.is_copy(200 * MS, &frame(0), 60));
        // Same bytes, another length on the wire (cut by the snap length): not the same frame.
        assert!(!d.is_copy(200 * MS, &frame(0), 1500));
    }
}
