//! Splits one direction of a reassembled FTP control stream into lines.
//!
//! Owns: finding line ends (LF, with an optional CR before it), bounding the memory an unfinished
//! line may take, and resynchronising after the reassembler reports lost bytes. It knows nothing
//! of commands or replies (see `parse` and `reply`) and never looks at TCP.

// Input from the wire: no arithmetic that can overflow, no index that can panic (issue 7).
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

/// One line of the control stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// The line without its CR LF (or bare LF).
    pub bytes: &'a [u8],
    /// The line was longer than `max_line`: `bytes` holds its first `max_line` bytes and the rest,
    /// up to the line end, was discarded.
    pub overlong: bool,
}

/// Turns stream bytes into [`Line`]s, whatever the segment boundaries.
///
/// Memory is bounded by `max_line` whatever the peer sends: a peer that never sends LF costs at
/// most `max_line` bytes, the rest of its line is only counted.
#[derive(Debug, Clone)]
pub struct LineSplitter {
    max_line: usize,
    /// The first raw bytes (a CR included) of the unfinished line, at most `max_line` of them.
    partial: Vec<u8>,
    /// Raw length of the unfinished line, counting the bytes that did not fit in `partial`.
    partial_len: usize,
    /// The last raw byte of the unfinished line is a CR. Kept apart from `partial` because on an
    /// overlong line that CR was not stored, yet it must not count towards the line's length.
    partial_ends_cr: bool,
    /// Set by [`LineSplitter::gap`]: everything up to and including the next LF is a fragment
    /// whose start was lost, so it is discarded rather than emitted as a (wrong) line...
    resync: bool,
    /// ...unless this says it is a whole line: a gap that ends exactly at a line boundary (a
    /// whole segment lost) must not cost the next, intact line.
    whole_after_gap: fn(&[u8]) -> bool,
}

impl LineSplitter {
    pub fn new(max_line: usize) -> Self {
        LineSplitter { max_line, partial: Vec::new(), partial_len: 0, partial_ends_cr: false, resync: false, whole_after_gap: |_| false }
    }

    /// Keeps the first line after a gap when `whole` accepts it (e.g. it starts with a reply
    /// code or an FTP verb), instead of always discarding it as a fragment.
    pub fn keep_after_gap(mut self, whole: fn(&[u8]) -> bool) -> Self {
        self.whole_after_gap = whole;
        self
    }

    /// Feeds stream bytes; calls `out` for every complete line (ending in LF, optional CR before
    /// it stripped).
    pub fn push(&mut self, data: &[u8], out: &mut dyn FnMut(Line<'_>)) {
        let mut rest = data;
        while let Some(lf) = memchr::memchr(b'\n', rest) {
            let (segment, from_lf) = rest.split_at(lf);
            rest = from_lf.get(1..).unwrap_or_default();
            let after_gap = std::mem::take(&mut self.resync);
            let whole = self.whole_after_gap;
            if self.partial_len == 0 {
                // The whole line is inside `data`: hand it out without copying.
                let ends_cr = segment.last() == Some(&b'\r');
                let kept = segment.get(..self.max_line).unwrap_or(segment);
                let line = finish(kept, segment.len(), ends_cr, self.max_line);
                if !after_gap || whole(line.bytes) {
                    out(line);
                }
            } else {
                self.append(segment);
                let line = self.partial_as_line();
                if !after_gap || whole(line.bytes) {
                    out(line);
                }
                self.clear_partial();
            }
        }
        self.append(rest);
    }

    /// Stream bytes were lost: drop the partial line and resynchronise at the next line end (the
    /// first line end after a gap ends a fragment that must NOT be emitted).
    pub fn gap(&mut self) {
        self.clear_partial();
        // Even with nothing pending the gap may have swallowed the start of the next line.
        self.resync = true;
    }

    /// Bytes of an unfinished line (e.g. to emit at end of capture); bounded by max_line. A CR at
    /// its end is left out: a capture that stops between CR and LF still shows the whole line.
    pub fn pending(&self) -> &[u8] {
        self.pending_line().map_or(&[], |line| line.bytes)
    }

    /// The unfinished line with its `overlong` flag, or `None` when no bytes are pending (nothing
    /// since the last line end, or only the fragment that follows a gap).
    pub fn pending_line(&self) -> Option<Line<'_>> {
        if self.resync || self.partial_len == 0 {
            return None;
        }
        Some(self.partial_as_line())
    }

    /// The longest line kept whole.
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    fn partial_as_line(&self) -> Line<'_> {
        finish(&self.partial, self.partial_len, self.partial_ends_cr, self.max_line)
    }

    fn append(&mut self, raw: &[u8]) {
        if let Some(&last) = raw.last() {
            self.partial_ends_cr = last == b'\r';
        }
        self.partial_len = self.partial_len.saturating_add(raw.len());
        let room = self.max_line.saturating_sub(self.partial.len());
        self.partial.extend_from_slice(raw.get(..room).unwrap_or(raw));
    }

    fn clear_partial(&mut self) {
        self.partial.clear();
        self.partial_len = 0;
        self.partial_ends_cr = false;
    }
}

/// Builds the line from the kept prefix of its raw bytes, the raw length and whether the raw bytes
/// end in CR. `kept` is at most `max_line` bytes long.
fn finish(kept: &[u8], raw_len: usize, ends_cr: bool, max_line: usize) -> Line<'_> {
    let len = raw_len.saturating_sub(usize::from(ends_cr));
    Line { bytes: kept.get(..len).unwrap_or(kept), overlong: len > max_line }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    #[test]
    fn a_whole_line_after_a_gap_is_kept_when_it_looks_whole() {
        let mut s = super::LineSplitter::new(64).keep_after_gap(|l| l.starts_with(b"226 "));
        let mut got = Vec::new();
        s.push(b"150 Opening\r\n", &mut |l| got.push(l.bytes.to_vec()));
        s.gap();
        s.push(b"226 Transfer complete\r\n", &mut |l| got.push(l.bytes.to_vec()));
        s.gap();
        s.push(b"ing tail\r\n227 ok\r\n", &mut |l| got.push(l.bytes.to_vec()));
        assert_eq!(got, vec![b"150 Opening".to_vec(), b"226 Transfer complete".to_vec(), b"227 ok".to_vec()]);
    }

    use super::*;

    /// Feeds the chunks in order and returns every emitted line as (bytes, overlong).
    fn split(max_line: usize, chunks: &[&[u8]]) -> Vec<(Vec<u8>, bool)> {
        let mut splitter = LineSplitter::new(max_line);
        let mut lines = Vec::new();
        for chunk in chunks {
            splitter.push(chunk, &mut |line| lines.push((line.bytes.to_vec(), line.overlong)));
        }
        lines
    }

    fn whole(lines: &[&[u8]]) -> Vec<(Vec<u8>, bool)> {
        lines.iter().map(|l| (l.to_vec(), false)).collect()
    }

    #[test]
    fn crlf_and_bare_lf() {
        let lines = split(512, &[b"USER a\r\nPORT 10,0,0,1,4,1\nPASS b\r\n"]);
        assert_eq!(lines, whole(&[b"USER a", b"PORT 10,0,0,1,4,1", b"PASS b"]));
    }

    #[test]
    fn empty_lines_are_emitted() {
        assert_eq!(split(512, &[b"\r\n\n"]), whole(&[b"", b""]));
    }

    #[test]
    fn only_one_cr_is_stripped() {
        assert_eq!(split(512, &[b"a\r\r\n"]), whole(&[b"a\r"]));
        assert_eq!(split(512, &[b"a\rb\n"]), whole(&[b"a\rb"]));
    }

    #[test]
    fn every_split_point_gives_the_same_lines() {
        let stream: &[u8] = b"220-Welcome\r\n220 ready\r\nUSER x\n";
        let expected = whole(&[b"220-Welcome", b"220 ready", b"USER x"]);
        for cut in 0..=stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(split(512, &[a, b]), expected, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(split(512, &bytes), expected);
    }

    #[test]
    fn cr_and_lf_in_different_segments() {
        assert_eq!(split(512, &[b"PASV\r", b"\n"]), whole(&[b"PASV"]));
        assert_eq!(split(4, &[b"PASV\r", b"\n"]), whole(&[b"PASV"]));
    }

    #[test]
    fn overlong_line_in_one_segment() {
        let lines = split(4, &[b"abcdefgh\r\nok\r\n"]);
        assert_eq!(lines, vec![(b"abcd".to_vec(), true), (b"ok".to_vec(), false)]);
    }

    #[test]
    fn overlong_line_across_segments() {
        let lines = split(4, &[b"ab", b"cdef", b"gh\r", b"\nok\n"]);
        assert_eq!(lines, vec![(b"abcd".to_vec(), true), (b"ok".to_vec(), false)]);
    }

    #[test]
    fn line_of_exactly_max_line_is_not_overlong() {
        assert_eq!(split(4, &[b"abcd\r\n"]), whole(&[b"abcd"]));
        assert_eq!(split(4, &[b"ab", b"cd\r\n"]), whole(&[b"abcd"]));
        assert_eq!(split(4, &[b"abcde\n"]), vec![(b"abcd".to_vec(), true)]);
    }

    #[test]
    fn zero_max_line_does_not_panic() {
        assert_eq!(split(0, &[b"ab\r\n\r\n"]), vec![(Vec::new(), true), (Vec::new(), false)]);
    }

    #[test]
    fn peer_that_never_sends_lf_is_bounded() {
        let mut splitter = LineSplitter::new(16);
        let junk = [b'x'; 4096];
        for _ in 0..256 {
            splitter.push(&junk, &mut |_| panic!("no line end was sent"));
        }
        assert_eq!(splitter.pending().len(), 16);
        assert!(splitter.partial.capacity() < 4096);
        assert_eq!(splitter.pending_line().map(|l| l.overlong), Some(true));
        let mut lines = Vec::new();
        splitter.push(b"\nQUIT\r\n", &mut |l| lines.push((l.bytes.to_vec(), l.overlong)));
        assert_eq!(lines, vec![(vec![b'x'; 16], true), (b"QUIT".to_vec(), false)]);
    }

    #[test]
    fn pending_holds_the_unfinished_line() {
        let mut splitter = LineSplitter::new(512);
        splitter.push(b"USER a\r\nPORT 10,0", &mut |_| {});
        assert_eq!(splitter.pending(), b"PORT 10,0");
        splitter.push(b",0,1,4,1\r", &mut |_| {});
        assert_eq!(splitter.pending(), b"PORT 10,0,0,1,4,1");
        splitter.push(b"\n", &mut |_| {});
        assert_eq!(splitter.pending(), b"");
        assert_eq!(splitter.pending_line(), None);
    }

    #[test]
    fn gap_drops_partial_line_and_next_fragment() {
        let mut splitter = LineSplitter::new(512);
        let mut lines: Vec<Vec<u8>> = Vec::new();
        splitter.push(b"USER a\r\nPORT 10,0", &mut |l| lines.push(l.bytes.to_vec()));
        splitter.gap();
        assert_eq!(splitter.pending(), b"");
        // The rest of the line whose middle was lost: never emitted, even across segments.
        splitter.push(b"0,1,4", &mut |l| lines.push(l.bytes.to_vec()));
        assert_eq!(splitter.pending(), b"");
        splitter.push(b",1\r\nPASV\r\n", &mut |l| lines.push(l.bytes.to_vec()));
        assert_eq!(lines, vec![b"USER a".to_vec(), b"PASV".to_vec()]);
    }

    #[test]
    fn gap_at_a_line_boundary_still_discards_one_fragment() {
        let mut splitter = LineSplitter::new(512);
        let mut lines: Vec<Vec<u8>> = Vec::new();
        splitter.push(b"USER a\r\n", &mut |l| lines.push(l.bytes.to_vec()));
        splitter.gap();
        splitter.push(b"RT 10,0,0,1,4,1\r\nPASV\r\n", &mut |l| lines.push(l.bytes.to_vec()));
        assert_eq!(lines, vec![b"USER a".to_vec(), b"PASV".to_vec()]);
    }

    proptest::proptest! {
        /// Segment boundaries never change the lines: the stream split anywhere gives what the
        /// whole stream gives, and no line is ever longer than max_line.
        #[test]
        fn any_chunking_gives_the_same_lines(
            stream in proptest::collection::vec(proptest::sample::select(b"ab\r\n".to_vec()), 0..200),
            cuts in proptest::collection::vec(0usize..200, 0..8),
            max_line in 0usize..12,
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(stream.len())).collect();
            cuts.sort_unstable();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut from = 0;
            for cut in cuts.into_iter().chain([stream.len()]) {
                chunks.push(&stream[from..cut]);
                from = cut;
            }
            let lines = split(max_line, &chunks);
            proptest::prop_assert_eq!(&lines, &split(max_line, &[&stream]));
            proptest::prop_assert!(lines.iter().all(|(bytes, _)| bytes.len() <= max_line));
        }
    }

    #[test]
    fn gap_then_lf_first_byte() {
        let mut splitter = LineSplitter::new(512);
        let mut lines: Vec<Vec<u8>> = Vec::new();
        splitter.gap();
        splitter.push(b"\nQUIT\n", &mut |l| lines.push(l.bytes.to_vec()));
        assert_eq!(lines, vec![b"QUIT".to_vec()]);
    }
}
