//! Assembles server lines into FTP replies (RFC 959 4.2), single- or multi-line.
//!
//! Owns: reading the reply code, the `NNN-` ... `NNN ` multi-line block, and naming what is wrong
//! with a reply that real servers get wrong. Takes lines from `lines` (the split into lines and
//! resynchronisation after lost bytes are done there); does not match replies to commands and
//! does not read what the text says (see `parse` for 227/228/229 and the analyzer for the rest).

// Input from the wire: no arithmetic that can overflow, no index that can panic (issue 7).
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

/// Most bytes of text kept for the body of a reply. The closing line is added even past this, up to
/// as many bytes again: a multi-line 227 puts its address on the last line, so a long preamble must
/// not push the address out.
pub const MAX_REPLY_TEXT: usize = 4096;

/// A multi-line block is emitted (flagged) after this many lines even if it never closed: a server
/// that forgets to close a block must not swallow the rest of the session.
pub const MAX_REPLY_LINES: u32 = 1000;

/// One reply, as the client would read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// Text after the code (and its space or hyphen) of every line, joined with b'\n'. Lines inside
    /// a block that do not start with the code are kept whole. Bounded: see [`MAX_REPLY_TEXT`].
    pub text: Vec<u8>,
    /// Lines the reply took.
    pub lines: u32,
    /// What was wrong with it, e.g. "no space after reply code", "multi-line reply closed by
    /// another code". The reply is still usable.
    pub malformed: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyEvent {
    Reply(Reply),
    /// a line that is not a reply where a reply was expected (non-numeric code ...): the analyzer
    /// reports it as malformed_reply
    Garbage {
        reason: &'static str,
    },
}

/// Feeds on server lines, one at a time, and emits each reply when its last line arrives.
#[derive(Debug, Clone, Default)]
pub struct ReplyAssembler {
    /// The multi-line block being read, if any. Only the text so far is kept, bounded.
    block: Option<Reply>,
    /// A finished reply's text buffer, handed back ([`ReplyAssembler::recycle`]) for the next
    /// reply: a session's replies then cost no allocation each.
    spare: Vec<u8>,
}

/// A buffer larger than this is not kept for the next reply: a session holds at most this
/// much between replies, however long a reply it once read.
const SPARE_CAPACITY: usize = 256;
/// RFC 2228's protected replies: 631 integrity, 632 confidentiality and integrity, 633
/// confidentiality protected. Their text is the security mechanism's token (base64).
pub const PROTECTED_REPLIES: std::ops::RangeInclusive<u16> = 631..=633;

impl ReplyAssembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// One line (without its line end). Returns the reply it completes, a `Garbage` event for a
    /// line that cannot be a reply, or None while a multi-line block is still open.
    pub fn push_line(&mut self, line: &[u8]) -> Option<ReplyEvent> {
        match self.block.take() {
            Some(block) => self.continue_block(block, line),
            None => self.start(line),
        }
    }

    /// `reply` has been read: its buffer serves the next one (if it is small).
    pub fn recycle(&mut self, reply: Reply) {
        let mut text = reply.text;
        if text.capacity() <= SPARE_CAPACITY {
            text.clear();
            self.spare = text;
        }
    }

    /// the reply was cut by a gap: forget a half-read multi-line block
    pub fn reset(&mut self) {
        self.block = None;
    }

    pub fn in_multiline(&self) -> bool {
        self.block.is_some()
    }

    /// A line outside any block: a whole reply, the first line of a block, or garbage.
    fn start(&mut self, line: &[u8]) -> Option<ReplyEvent> {
        let Some((code, after_code)) = split_code(line) else {
            return Some(ReplyEvent::Garbage { reason: garbage_reason(line) });
        };
        // 631-633 are RFC 2228's protected replies (a security mechanism's token), not odd codes.
        let unusual_code = (!(1..=5).contains(&(code / 100)) && !PROTECTED_REPLIES.contains(&code)).then_some("reply code outside 100-599");
        let mut reply = Reply { code, text: std::mem::take(&mut self.spare), lines: 1, malformed: unusual_code };
        match after_code.split_first() {
            None => {}
            Some((b' ', text)) => append(&mut reply.text, text, MAX_REPLY_TEXT),
            Some((b'-', text)) => {
                append(&mut reply.text, text, MAX_REPLY_TEXT);
                self.block = Some(reply);
                return None;
            }
            // `230_no_space`, `230text`: clients that look only at the digits (most of them)
            // act on the code, so it is a reply; Zeek calls the same line "invalid reply line".
            Some(_) => {
                append(&mut reply.text, after_code, MAX_REPLY_TEXT);
                reply.malformed = Some("no space after reply code");
            }
        }
        Some(ReplyEvent::Reply(reply))
    }

    /// A line inside a block opened by `block.code` followed by a hyphen.
    fn continue_block(&mut self, mut block: Reply, line: &[u8]) -> Option<ReplyEvent> {
        block.lines = block.lines.saturating_add(1);
        match split_code(line) {
            // `NNN text` or a bare `NNN` ends the block. With another code than the one that
            // opened it, the block still ends here and takes the closing line's code: RFC 959
            // makes servers pad any inner line that starts with digits, so this line is the real
            // end and, like curl and FileZilla (which stop at any `NNN `), its code is the answer.
            // The text of the whole block is kept, and the reply is flagged.
            Some((code, after_code)) if matches!(after_code.first(), None | Some(b' ')) => {
                let text = after_code.get(1..).unwrap_or_default();
                append_line(&mut block.text, text, 2 * MAX_REPLY_TEXT);
                if code != block.code {
                    block.code = code;
                    block.malformed = Some("multi-line reply closed by another code");
                }
                return Some(ReplyEvent::Reply(block));
            }
            Some((code, [b'-', text @ ..])) if code == block.code => append_line(&mut block.text, text, MAX_REPLY_TEXT),
            // Free text: anything, including other digits.
            _ => append_line(&mut block.text, line, MAX_REPLY_TEXT),
        }
        if block.lines >= MAX_REPLY_LINES {
            block.malformed = Some("multi-line reply not closed after 1000 lines");
            return Some(ReplyEvent::Reply(block));
        }
        self.block = Some(block);
        None
    }
}

/// Three ASCII digits at the start of the line, as a number, and what follows them.
fn split_code(line: &[u8]) -> Option<(u16, &[u8])> {
    match line {
        [a, b, c, rest @ ..] if [a, b, c].iter().all(|d| d.is_ascii_digit()) => {
            let digit = |d: &u8| char::from(*d).to_digit(10).map_or(0, |v| v as u16);
            // At most 999.
            Some((digit(a).wrapping_mul(100).wrapping_add(digit(b).wrapping_mul(10)).wrapping_add(digit(c)), rest))
        }
        _ => None,
    }
}

fn garbage_reason(line: &[u8]) -> &'static str {
    let digits = line.iter().take_while(|b| b.is_ascii_digit()).count();
    match (line.is_empty(), digits) {
        (true, _) => "empty line where a reply was expected",
        // Zeek's word for `SYST not supported` and `99 PASV invalid` alike.
        (false, 0) => "non-numeric reply code",
        _ => "reply code shorter than 3 digits",
    }
}

/// Appends as much of `piece` as keeps `text` within `limit` bytes.
fn append(text: &mut Vec<u8>, piece: &[u8], limit: usize) {
    let room = limit.saturating_sub(text.len());
    text.extend_from_slice(piece.get(..room).unwrap_or(piece));
}

/// Appends a line separator and the next line's text, both within `limit`.
fn append_line(text: &mut Vec<u8>, piece: &[u8], limit: usize) {
    append(text, b"\n", limit);
    append(text, piece, limit);
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::ftp::lines::LineSplitter;

    /// Pushes every line and collects the events.
    fn events(lines: &[&[u8]]) -> Vec<ReplyEvent> {
        let mut assembler = ReplyAssembler::new();
        lines.iter().filter_map(|line| assembler.push_line(line)).collect()
    }

    fn reply(code: u16, text: &[u8], lines: u32, malformed: Option<&'static str>) -> ReplyEvent {
        ReplyEvent::Reply(Reply { code, text: text.to_vec(), lines, malformed })
    }

    #[test]
    fn single_line_replies() {
        assert_eq!(events(&[b"220 ready"]), vec![reply(220, b"ready", 1, None)]);
        assert_eq!(events(&[b"220 "]), vec![reply(220, b"", 1, None)]);
        assert_eq!(events(&[b"220"]), vec![reply(220, b"", 1, None)]);
        assert_eq!(
            events(&[b"227 Entering Passive Mode (10,0,0,1,4,1)."]),
            vec![reply(227, b"Entering Passive Mode (10,0,0,1,4,1).", 1, None)]
        );
    }

    #[test]
    fn no_space_after_code() {
        let flag = Some("no space after reply code");
        assert_eq!(events(&[b"230_no_space"]), vec![reply(230, b"_no_space", 1, flag)]);
        assert_eq!(events(&[b"230text"]), vec![reply(230, b"text", 1, flag)]);
        assert_eq!(events(&[b"2300 x"]), vec![reply(230, b"0 x", 1, flag)]);
    }

    #[test]
    fn codes_outside_the_rfc_range_are_flagged() {
        let flag = Some("reply code outside 100-599");
        assert_eq!(events(&[b"099 x"]), vec![reply(99, b"x", 1, flag)]);
        assert_eq!(events(&[b"999 x"]), vec![reply(999, b"x", 1, flag)]);
        assert_eq!(events(&[b"634 x"]), vec![reply(634, b"x", 1, flag)]);
        // RFC 2228's protected replies are not odd codes.
        assert_eq!(events(&[b"632 FwMBAD"]), vec![reply(632, b"FwMBAD", 1, None)]);
    }

    #[test]
    fn garbage_lines() {
        let garbage = |reason| ReplyEvent::Garbage { reason };
        assert_eq!(events(&[b"SYST not supported"]), vec![garbage("non-numeric reply code")]);
        assert_eq!(events(&[b"99 PASV invalid"]), vec![garbage("reply code shorter than 3 digits")]);
        assert_eq!(events(&[b"2"]), vec![garbage("reply code shorter than 3 digits")]);
        assert_eq!(events(&[b"22"]), vec![garbage("reply code shorter than 3 digits")]);
        assert_eq!(events(&[b""]), vec![garbage("empty line where a reply was expected")]);
        assert_eq!(events(&[b" 220 x"]), vec![garbage("non-numeric reply code")]);
        assert_eq!(events(&[b"\xff\xfe"]), vec![garbage("non-numeric reply code")]);
    }

    #[test]
    fn garbage_does_not_disturb_the_next_reply() {
        assert_eq!(
            events(&[b"SYST not supported", b"221 Bye"]),
            vec![ReplyEvent::Garbage { reason: "non-numeric reply code" }, reply(221, b"Bye", 1, None),]
        );
    }

    #[test]
    fn multi_line_block() {
        let lines: [&[u8]; 4] = [b"220-Welcome", b"   to the server", b"220-second", b"220 ready"];
        assert_eq!(events(&lines), vec![reply(220, b"Welcome\n   to the server\nsecond\nready", 4, None)]);
    }

    #[test]
    fn block_with_free_text_lines_that_look_like_codes() {
        let lines: [&[u8]; 6] = [b"211-Status", b"  234 padded", b"231-other hyphen", b"211x", b"", b"211 End"];
        assert_eq!(events(&lines), vec![reply(211, b"Status\n  234 padded\n231-other hyphen\n211x\n\nEnd", 6, None)]);
    }

    #[test]
    fn block_closed_by_bare_code() {
        assert_eq!(events(&[b"220-a", b"220"]), vec![reply(220, b"a\n", 2, None)]);
    }

    #[test]
    fn block_closed_by_another_code() {
        let mut assembler = ReplyAssembler::new();
        assert_eq!(assembler.push_line(b"230-a"), None);
        assert!(assembler.in_multiline());
        assert_eq!(assembler.push_line(b"231 b"), Some(reply(231, b"a\nb", 2, Some("multi-line reply closed by another code"))));
        assert!(!assembler.in_multiline());
        assert_eq!(assembler.push_line(b"257 \"/\""), Some(reply(257, b"\"/\"", 1, None)));
    }

    #[test]
    fn block_never_closed_is_emitted_at_the_cap() {
        let mut assembler = ReplyAssembler::new();
        assert_eq!(assembler.push_line(b"220-banner"), None);
        for _ in 2..MAX_REPLY_LINES {
            assert_eq!(assembler.push_line(b"more banner text that goes on and on"), None);
        }
        let Some(ReplyEvent::Reply(emitted)) = assembler.push_line(b"last") else {
            panic!("block not emitted at the cap");
        };
        assert_eq!(emitted.code, 220);
        assert_eq!(emitted.lines, MAX_REPLY_LINES);
        assert_eq!(emitted.malformed, Some("multi-line reply not closed after 1000 lines"));
        assert!(emitted.text.len() <= MAX_REPLY_TEXT);
        assert!(!assembler.in_multiline());
        assert_eq!(assembler.push_line(b"230 ok"), Some(reply(230, b"ok", 1, None)));
    }

    #[test]
    fn long_block_keeps_its_closing_line() {
        let mut assembler = ReplyAssembler::new();
        assert_eq!(assembler.push_line(b"227-listen socket created"), None);
        for _ in 0..200 {
            assert_eq!(assembler.push_line(b"227-a long preamble line of about forty bytes"), None);
        }
        let Some(ReplyEvent::Reply(emitted)) = assembler.push_line(b"227 (127,0,0,1,154,21)") else {
            panic!("no reply");
        };
        assert!(emitted.text.len() <= 2 * MAX_REPLY_TEXT);
        assert!(emitted.text.ends_with(b"\n(127,0,0,1,154,21)"));
        assert_eq!(crate::ftp::parse::parse_227(&emitted.text), Ok("127.0.0.1:39445".parse().expect("address")));
    }

    #[test]
    fn multi_line_227() {
        let lines: [&[u8]; 2] = [b"227-listen socket created", b"227 (127,0,0,1,154,21)"];
        assert_eq!(events(&lines), vec![reply(227, b"listen socket created\n(127,0,0,1,154,21)", 2, None)]);
    }

    #[test]
    fn vsftpd_oops_lines_are_separate_replies() {
        let lines: [&[u8]; 2] = [b"500 OOPS: vsf_sysutil_bind", b"500 OOPS: child died"];
        assert_eq!(events(&lines), vec![reply(500, b"OOPS: vsf_sysutil_bind", 1, None), reply(500, b"OOPS: child died", 1, None),]);
    }

    #[test]
    fn reset_forgets_a_half_read_block() {
        let mut assembler = ReplyAssembler::new();
        assert_eq!(assembler.push_line(b"220-Welcome"), None);
        assembler.reset();
        assert!(!assembler.in_multiline());
        assert_eq!(assembler.push_line(b"331 Password"), Some(reply(331, b"Password", 1, None)));
    }

    #[test]
    fn truncated_lines() {
        assert_eq!(events(&[b"2"]).len(), 1);
        assert_eq!(events(&[b"22"]).len(), 1);
        assert_eq!(events(&[b"220-"]), vec![]);
        assert_eq!(events(&[b"220-", b"22"]), vec![]);
        assert_eq!(events(&[b"220-", b"220"]), vec![reply(220, b"\n", 2, None)]);
    }

    #[test]
    fn banner_in_several_segments() {
        let mut splitter = LineSplitter::new(512);
        let mut assembler = ReplyAssembler::new();
        let mut got = Vec::new();
        for segment in [&b"220-Welc"[..], b"ome\r\n220-", b"line two\r\n", b"220 ", b"ready\r\n"] {
            splitter.push(segment, &mut |line| got.extend(assembler.push_line(line.bytes)));
        }
        assert_eq!(got, vec![reply(220, b"Welcome\nline two\nready", 3, None)]);
    }

    proptest::proptest! {
        /// Whatever the lines, the assembler never panics, never holds more than the bounded
        /// text, and never stays in a block for more than MAX_REPLY_LINES lines.
        #[test]
        fn any_lines_stay_bounded(lines in proptest::collection::vec(
            proptest::collection::vec(proptest::sample::select(b"0123- x".to_vec()), 0..8), 0..300)) {
            let mut assembler = ReplyAssembler::new();
            let mut open_for = 0u32;
            for line in &lines {
                let event = assembler.push_line(line);
                open_for = if assembler.in_multiline() { open_for + 1 } else { 0 };
                proptest::prop_assert!(open_for < MAX_REPLY_LINES);
                if let Some(ReplyEvent::Reply(reply)) = event {
                    proptest::prop_assert!(reply.text.len() <= 2 * MAX_REPLY_TEXT);
                }
            }
        }
    }

    /// Zeek's traces for malformed replies, as their server sent them.
    #[test]
    fn zeek_malformed_reply_traces() {
        let invalid_code: [&[u8]; 5] = [b"220 py.fake ready", b"230 USER OK", b"230 PASS OK", b"99 PASV invalid", b"221 Bye"];
        let got = events(&invalid_code);
        assert_eq!(got.get(3), Some(&ReplyEvent::Garbage { reason: "reply code shorter than 3 digits" }));
        assert_eq!(got.get(4), Some(&reply(221, b"Bye", 1, None)));

        let missing_code: [&[u8]; 2] = [b"SYST not supported", b"221 Bye"];
        assert_eq!(events(&missing_code).first(), Some(&ReplyEvent::Garbage { reason: "non-numeric reply code" }));

        let no_space: [&[u8]; 2] = [b"230_no_space", b"221 Bye"];
        assert_eq!(events(&no_space), vec![reply(230, b"_no_space", 1, Some("no space after reply code")), reply(221, b"Bye", 1, None),]);
    }

    #[test]
    fn zeek_multiline_banner() {
        let lines: [&[u8]; 4] = [b"220-     Welcome to FTP.JPIX.ad.jp,", b"220- ", b"220- ", b"220 FTP server ready."];
        assert_eq!(events(&lines), vec![reply(220, b"     Welcome to FTP.JPIX.ad.jp,\n \n \nFTP server ready.", 4, None)]);
    }
}
