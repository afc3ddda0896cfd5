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
//!
//! The frames are compared by value, not by a digest: a digest of part of a frame (its headers
//! and tail) let a sender craft a second segment with the same headers, checksum and tail but
//! other bytes in the middle, skipped as a copy and so hidden from reassembly's conflicting
//! overlaps. The lengths and a word of the header filter first, so bytes are compared only for
//! a likely copy. bench/README.md has the cost: the same instructions as the digest on the busy
//! shapes, 5% more on bulk transfers, where each data segment is copied into the ring.

/// How many earlier frames a frame is compared with.
pub const WINDOW: usize = 16;
/// How far apart in capture time a copy may be.
pub const WINDOW_NS: i64 = 10_000_000;
/// The largest frame compared. A mirror port copies wire frames (jumbo ones are 9 KiB); only a
/// host's own capture with receive offloads has larger ones (up to 64 KiB a segment), and that
/// is not where frames come twice. Larger frames are never called copies, so a capture of huge
/// frames cannot make the ring hold more than [`WINDOW`] times this.
const LARGEST: usize = 128 * 1024;

/// The latest frames that carried something, a ring, in three arrays: the comparison reads a
/// frame's sizes and a sample of its header first, and nearly every frame stops there.
pub struct Duplicates {
    /// Each frame's captured and original length (`len << 32 | orig_len`) and [`sample`].
    keys: [(u64, u64); WINDOW],
    /// Capture times.
    times: [i64; WINDOW],
    /// Captured bytes, each in a buffer reused from frame to frame.
    bytes: [Vec<u8>; WINDOW],
    next: usize,
}

impl Default for Duplicates {
    fn default() -> Self {
        Duplicates { keys: [(u64::MAX, 0); WINDOW], times: [i64::MIN; WINDOW], bytes: Default::default(), next: 0 }
    }
}

impl Duplicates {
    /// True when this frame is a copy of a recent one; else remembers it.
    pub fn is_copy(&mut self, ts: i64, data: &[u8], orig_len: u32) -> bool {
        if data.len() > LARGEST {
            return false;
        }
        // LARGEST fits in 32 bits, so no frame's sizes are u64::MAX (an empty slot's).
        let key = ((data.len() as u64) << 32 | u64::from(orig_len), sample(data));
        let copy = self
            .keys
            .iter()
            .zip(&self.times)
            .zip(&self.bytes)
            .any(|((&k, &t), b)| k == key && ts.abs_diff(t) <= WINDOW_NS as u64 && b.as_slice() == data);
        if !copy {
            let i = self.next % WINDOW;
            if let (Some(k), Some(t), Some(b)) = (self.keys.get_mut(i), self.times.get_mut(i), self.bytes.get_mut(i)) {
                *k = key;
                *t = ts;
                b.clear();
                b.extend_from_slice(data);
            }
            self.next = i.saturating_add(1);
        }
        copy
    }
}

/// Bytes 16 to 31 of a frame folded into a word: with Ethernet, the IPv4 header's length, ID,
/// checksum and addresses (an IPv6 header's addresses), which differ from frame to frame on
/// nearly every link; 0 for what a short frame lacks. Only a filter: a copy is confirmed by all
/// its bytes.
fn sample(data: &[u8]) -> u64 {
    let word = |at: usize| data.get(at..at.saturating_add(8)).and_then(|b| b.try_into().ok()).map_or(0, u64::from_le_bytes);
    word(16) ^ word(24).rotate_left(32)
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

    #[test]
    fn a_frame_that_differs_only_in_its_middle_is_not_a_copy() {
        // Same length, headers and tail: what a digest of a frame's head and tail could not
        // tell apart, and a sender can craft (the TCP checksum is easily kept the same).
        let mut d = Duplicates::default();
        let a = [7u8; 1500];
        let mut b = a;
        b[700] = 8;
        b[701] = 6;
        assert!(!d.is_copy(0, &a, 1500));
        assert!(!d.is_copy(MS / 100, &b, 1500));
        assert!(d.is_copy(MS / 50, &b, 1500));
    }

    #[test]
    fn frames_over_the_largest_are_not_kept() {
        let mut d = Duplicates::default();
        let huge = vec![1u8; LARGEST + 1];
        assert!(!d.is_copy(0, &huge, huge.len() as u32));
        assert!(!d.is_copy(1, &huge, huge.len() as u32));
        assert!(d.bytes.iter().all(|b| b.capacity() == 0));
    }
}
