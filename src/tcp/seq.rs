//! TCP sequence numbers read as 64-bit stream offsets.
//!
//! Owns: the one rule for unwrapping a 32-bit sequence number, shared by the reassembler and
//! the connections' byte counts, so that a stream past 4 GiB (or one whose ISN sits just below
//! `u32::MAX`) reads straight through in both. Must not touch: what a stream holds, flows.

// Input from the wire: no arithmetic that can overflow (issue 7).
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

/// How far `seq` lies from stream offset `from`, in a stream whose offset 0 has sequence number
/// `base`: the nearest of the offsets that share `seq`'s 32 bits, so within ±2^31.
///
/// The low 32 bits of an offset are its sequence number relative to `base`, so the wrapped
/// difference read as signed is that nearest unwrapping. Callers keep `from` at the sender's
/// frontier: a sender never has 2 GiB in flight, so every honest segment lies within reach.
pub fn distance(seq: u32, base: u32, from: u64) -> i64 {
    // Only the low 32 bits of `from` matter here: the truncation is the point.
    let from_seq = from as u32;
    i64::from(seq.wrapping_sub(base).wrapping_sub(from_seq) as i32)
}

// Tests compute their expectations from literals: an overflow there is a failing test.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn nearby_sequence_numbers_are_small_distances_either_way() {
        assert_eq!(distance(1_100, 1_000, 0), 100);
        assert_eq!(distance(1_100, 1_000, 150), -50);
        assert_eq!(distance(1_000, 1_000, 0), 0);
    }

    #[test]
    fn the_wrap_of_the_sequence_space_is_invisible() {
        // An ISN just below 2^32: offset 0 is u32::MAX - 4, and the wrap comes 5 bytes in.
        let base = u32::MAX - 4;
        assert_eq!(distance(0, base, 0), 5);
        assert_eq!(distance(10, base, 5), 10);
        assert_eq!(distance(u32::MAX, base, 10), -6, "a retransmission from before the wrap");
    }

    #[test]
    fn offsets_past_4_gib_keep_counting() {
        const GIB: u64 = 1 << 30;
        let base = 7;
        // The frontier 5 GiB in: its sequence number has wrapped once (4 GiB) and 1 GiB more.
        let frontier = 5 * GIB;
        let seq_there = base + (GIB as u32);
        assert_eq!(distance(seq_there, base, frontier), 0);
        assert_eq!(distance(seq_there.wrapping_add(1_460), base, frontier), 1_460);
        assert_eq!(distance(seq_there.wrapping_sub(1_460), base, frontier), -1_460);
        // Exactly at 4 GiB and 2 GiB the space folds; the distance does not notice.
        assert_eq!(distance(base, base, 4 * GIB), 0);
        assert_eq!(distance(base.wrapping_add(1 << 31), base, 2 * GIB), 0);
    }

    #[test]
    fn half_the_space_is_the_limit_of_reach() {
        assert_eq!(distance((1 << 31) - 1, 0, 0), i64::from(i32::MAX));
        assert_eq!(distance(1 << 31, 0, 0), i64::from(i32::MIN), "as far behind as ahead: read as behind");
    }
}
