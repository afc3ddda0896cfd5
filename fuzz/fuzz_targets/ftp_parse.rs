//! The FTP line and address parsers on arbitrary bytes: command lines, PORT / EPRT / LPRT
//! arguments, 227 / 228 / 229 reply text, the multi-line reply assembler, the line splitter
//! (arbitrary segment boundaries and losses), and the content tests that recognise FTP.
//!
//! Input: the first byte sets the longest line kept (1..=256); the rest is the stream. A 0xFE
//! byte ends a segment (the bytes around it arrive in separate pushes), a 0xFD byte is a loss
//! (the reassembler reported a gap there).
#![no_main]

use ftpscope::ftp::detect;
use ftpscope::ftp::lines::LineSplitter;
use ftpscope::ftp::parse;
use ftpscope::ftp::reply::{ReplyAssembler, ReplyEvent, MAX_REPLY_LINES, MAX_REPLY_TEXT};
use libfuzzer_sys::fuzz_target;
use std::net::SocketAddr;

/// Every parser on one line. Addresses that parse are written back the way a client would send
/// them and must parse to the same address.
fn parse_line(line: &[u8]) {
    if let Some(cmd) = parse::parse_command(line) {
        assert!((3..=4).contains(&cmd.name.len()));
        let _ = parse::Verb::from_name(cmd.name);
    }
    if let Ok(a) = parse::parse_port(line) {
        let [h1, h2, h3, h4] = a.ip().octets();
        let text = format!("{h1},{h2},{h3},{h4},{},{}", a.port() >> 8, a.port() & 0xff);
        assert_eq!(parse::parse_port(text.as_bytes()), Ok(a));
    }
    if let Ok(a) = parse::parse_eprt(line) {
        let family = if a.is_ipv4() { 1 } else { 2 };
        let text = format!("|{family}|{}|{}|", a.ip(), a.port());
        assert_eq!(parse::parse_eprt(text.as_bytes()), Ok(a));
    }
    if let Ok(a) = parse::parse_227(line) {
        let [h1, h2, h3, h4] = a.ip().octets();
        let text = format!("Entering Passive Mode ({h1},{h2},{h3},{h4},{},{}).", a.port() >> 8, a.port() & 0xff);
        assert_eq!(parse::parse_227(text.as_bytes()), Ok(a));
    }
    if let Ok(e) = parse::parse_229(line) {
        assert_ne!(e.port, 0, "port 0 is malformed");
    }
    let _: Option<SocketAddr> = parse::parse_lprt(line).ok();
    let _: Option<SocketAddr> = parse::parse_228(line).ok();
    let _ = (detect::is_reply_line(line), detect::is_ftp_command(line));
}

fuzz_target!(|input: &[u8]| {
    let Some((&max, stream)) = input.split_first() else { return };
    let max_line = usize::from(max) + 1;
    // Content tests look at whole payloads, not lines.
    let _ = (
        detect::could_start_reply(stream),
        detect::could_start_command(stream),
        detect::looks_like_clear_reply(stream),
        detect::looks_like_clear_command(stream),
    );
    let mut splitter = LineSplitter::new(max_line);
    let mut replies = ReplyAssembler::new();
    let mut lines: Vec<(Vec<u8>, bool)> = Vec::new();
    for segment in stream.split(|&b| b == 0xFE) {
        for (j, piece) in segment.split(|&b| b == 0xFD).enumerate() {
            if j > 0 {
                splitter.gap();
                // A gap marker: the reply assembler forgets a half-read block.
                lines.push((Vec::new(), true));
            }
            splitter.push(piece, &mut |line| lines.push((line.bytes.to_vec(), line.overlong)));
        }
    }
    if let Some(line) = splitter.pending_line() {
        lines.push((line.bytes.to_vec(), line.overlong));
    }
    for (bytes, overlong) in &lines {
        if bytes.is_empty() && *overlong {
            replies.reset();
            continue;
        }
        assert!(bytes.len() <= max_line, "a line is cut at max_line");
        assert!(!overlong || bytes.len() == max_line, "an overlong line keeps max_line bytes");
        parse_line(bytes);
        if let Some(ReplyEvent::Reply(r)) = replies.push_line(bytes) {
            assert!(r.code < 1000, "three digits");
            assert!(r.lines >= 1 && r.lines <= MAX_REPLY_LINES + 1);
            assert!(r.text.len() <= 2 * MAX_REPLY_TEXT + 1, "reply text is bounded: {}", r.text.len());
        }
    }
    // The whole input as one reply text, too (a 227's text may span lines).
    parse_line(stream);
});
