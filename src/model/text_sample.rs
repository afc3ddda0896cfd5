//! Do the bytes of a TYPE A (ASCII) transfer read as text? A bounded sample of its data
//! connection's payload, in arrival order (good enough for a heuristic), counted as it passes:
//! NUL bytes, line ends (CRLF, a bare CR, a bare LF) and other control bytes. A binary file sent
//! in ASCII mode is corrupted by a server that translates line ends (issue 22, item 4).
//!
//! Owns the counting and the rule. Must not keep the bytes: only counts.

use serde::Serialize;

/// Bytes sampled per data connection.
pub const SAMPLE_BYTES: u32 = 64 * 1024;
/// Fewer bytes than this say nothing either way.
const ENOUGH: u32 = 64;

/// What the first bytes of a data connection held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct TextSample {
    pub sampled: u32,
    pub nul: u32,
    pub crlf: u32,
    pub bare_cr: u32,
    pub bare_lf: u32,
    /// Control bytes other than NUL, TAB, CR, LF, FF and ESC (and DEL).
    pub non_printable: u32,
    #[serde(skip)]
    after_cr: bool,
}

/// A byte that counts for nothing in itself: text, TAB, FF, ESC, and every byte past ASCII
/// (UTF-8 and the Latin code pages). NUL, CR, LF and the other control bytes are counted.
fn is_ordinary(b: u8) -> bool {
    matches!(b, b'\t' | 0x0c | 0x1b | 0x20..=0x7e | 0x80..=0xff)
}

/// Why a sample is not text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotText {
    /// NUL bytes: no text file holds them.
    Nul,
    /// CRLF and a bare CR or LF together: two conventions at once.
    MixedLineEnds,
    /// More than one byte in ten is a control byte.
    NonPrintable,
}

impl TextSample {
    /// Counts `bytes`, up to [`SAMPLE_BYTES`] in all.
    pub fn add(&mut self, bytes: &[u8]) {
        let room = SAMPLE_BYTES.saturating_sub(self.sampled) as usize;
        let take = bytes.get(..room).unwrap_or(bytes);
        let mut rest = take;
        loop {
            // Runs of ordinary bytes count for nothing except ending a CR before them: skipped
            // at once, instead of a match per byte (a third of the instructions of a text
            // transfer's sample).
            let run = rest.iter().position(|&b| !is_ordinary(b)).unwrap_or(rest.len());
            if run > 0 && std::mem::take(&mut self.after_cr) {
                self.bare_cr = self.bare_cr.saturating_add(1);
            }
            let Some((&b, after)) = rest.get(run..).and_then(<[u8]>::split_first) else { break };
            match b {
                0 => self.nul = self.nul.saturating_add(1),
                b'\n' if self.after_cr => self.crlf = self.crlf.saturating_add(1),
                b'\n' => self.bare_lf = self.bare_lf.saturating_add(1),
                b'\r' => {}
                _ => self.non_printable = self.non_printable.saturating_add(1),
            }
            if self.after_cr && b != b'\n' {
                self.bare_cr = self.bare_cr.saturating_add(1);
            }
            self.after_cr = b == b'\r';
            rest = after;
        }
        self.sampled = self.sampled.saturating_add(take.len() as u32);
    }

    pub fn full(&self) -> bool {
        self.sampled >= SAMPLE_BYTES
    }

    /// Why the sample is not text, if it is not.
    pub fn not_text(&self) -> Option<NotText> {
        if self.sampled < ENOUGH {
            return None;
        }
        if self.nul > 0 {
            return Some(NotText::Nul);
        }
        if self.crlf > 0 && self.bare_cr.saturating_add(self.bare_lf) > 0 {
            return Some(NotText::MixedLineEnds);
        }
        (u64::from(self.non_printable).saturating_mul(10) > u64::from(self.sampled)).then_some(NotText::NonPrintable)
    }
}

// Tests count their own literals: an overflow there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    fn sample(bytes: &[u8]) -> TextSample {
        let mut s = TextSample::default();
        for chunk in bytes.chunks(7) {
            s.add(chunk);
        }
        s
    }

    #[test]
    fn text_in_either_convention_is_text() {
        let unix = "a line of text, the kind a README has\n".repeat(10);
        assert_eq!(sample(unix.as_bytes()).not_text(), None);
        let dos = unix.replace('\n', "\r\n");
        let s = sample(dos.as_bytes());
        assert_eq!((s.crlf, s.bare_lf, s.bare_cr, s.not_text()), (10, 0, 0, None), "a CRLF split across chunks is one");
        assert_eq!(sample("héllo wörld, ça va\n".repeat(5).as_bytes()).not_text(), None, "UTF-8 is text");
    }

    #[test]
    fn binary_bytes_say_why() {
        let mut gz = vec![0x1f, 0x8b, 0x08, 0x00];
        gz.extend((0..200u8).map(|i| i.wrapping_mul(37)));
        assert_eq!(sample(&gz).not_text(), Some(NotText::Nul));
        let mixed = "line\r\n".repeat(20) + "bare\n";
        assert_eq!(sample(mixed.as_bytes()).not_text(), Some(NotText::MixedLineEnds));
        let controls: Vec<u8> = (0..100).map(|i| if i % 5 == 0 { 0x01 } else { b'x' }).collect();
        assert_eq!(sample(&controls).not_text(), Some(NotText::NonPrintable));
        assert_eq!(sample(&[0, 1, 2]).not_text(), None, "too few bytes to tell");
    }

    /// The rule byte by byte, as it was first written: the fast path must count the same.
    fn counted_byte_by_byte(bytes: &[u8]) -> [u32; 5] {
        let (mut nul, mut crlf, mut bare_cr, mut bare_lf, mut non_printable, mut after_cr) = (0, 0, 0, 0, 0, false);
        for &b in bytes {
            match b {
                0 => nul += 1,
                b'\n' if after_cr => crlf += 1,
                b'\n' => bare_lf += 1,
                b'\r' | b'\t' | 0x0c | 0x1b | 0x20..=0x7e | 0x80..=0xff => {}
                _ => non_printable += 1,
            }
            if after_cr && b != b'\n' {
                bare_cr += 1;
            }
            after_cr = b == b'\r';
        }
        [nul, crlf, bare_cr, bare_lf, non_printable]
    }

    proptest::proptest! {
        #[test]
        fn runs_skipped_count_as_each_byte(bytes in proptest::collection::vec(proptest::prop_oneof![
            proptest::prelude::Just(b'\r'), proptest::prelude::Just(b'\n'), proptest::prelude::Just(0u8),
            proptest::prelude::Just(b'a'), proptest::prelude::Just(0x7f), proptest::prelude::Just(0x01),
            proptest::prelude::any::<u8>()], 0..300), chunk in 1usize..9) {
            let mut s = TextSample::default();
            for piece in bytes.chunks(chunk) {
                s.add(piece);
            }
            proptest::prop_assert_eq!([s.nul, s.crlf, s.bare_cr, s.bare_lf, s.non_printable], counted_byte_by_byte(&bytes));
        }
    }

    #[test]
    fn the_sample_is_bounded() {
        let mut s = TextSample::default();
        s.add(&vec![b'a'; SAMPLE_BYTES as usize + 10]);
        s.add(&[0; 10]);
        assert!(s.full());
        assert_eq!((s.sampled, s.nul), (SAMPLE_BYTES, 0), "bytes past the sample are not looked at");
    }
}
