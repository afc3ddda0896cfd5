//! Recognising an FTP control channel by content, on any port: the server's lines start with a
//! reply code, the client's with an FTP verb.
//!
//! Owns the byte-level tests. Must not decide when to look (that is the analyzer's probe).

use super::parse::{self, Verb};

/// Verbs of RFC 959 and its extensions that `parse` has no `Verb` for (it names only those the
/// analyzer acts on). SMTP shares the reply format and a few verbs, but its clients open with
/// EHLO/HELO, which are in neither list.
const OTHER_FTP_VERBS: &[&[u8]] = &[
    b"CWD", b"CDUP", b"SMNT", b"REIN", b"STRU", b"MODE", b"ALLO", b"RNFR", b"RNTO", b"ABOR", b"DELE", b"RMD", b"MKD", b"PWD", b"SITE",
    b"SYST", b"STAT", b"HELP", b"NOOP", b"FEAT", b"OPTS", b"MLST", b"SIZE", b"MDTM", b"HOST", b"LANG", b"ADAT", b"CLNT", b"XPWD", b"XCWD",
    b"XMKD", b"XRMD", b"MFMT", b"SBUF", b"ESTA", b"ESTP",
];

/// A command name that FTP defines, in any case.
fn is_ftp_verb(name: &[u8]) -> bool {
    Verb::from_name(name) != Verb::Other || OTHER_FTP_VERBS.iter().any(|v| v.eq_ignore_ascii_case(name))
}

/// A complete line that is a reply: three digits, then a space, a hyphen or the end.
pub fn is_reply_line(line: &[u8]) -> bool {
    line.get(..3).is_some_and(|code| code.iter().all(u8::is_ascii_digit)) && matches!(line.get(3), None | Some(b' ') | Some(b'-'))
}

/// A complete line that is an FTP command with a known verb.
pub fn is_ftp_command(line: &[u8]) -> bool {
    parse::parse_command(line).is_some_and(|c| is_ftp_verb(c.name))
}

/// A connection's first payload from the server could start a reply. A segment may hold only
/// the start of the code ("22").
pub fn could_start_reply(payload: &[u8]) -> bool {
    let code = payload.get(..3).unwrap_or(payload);
    payload.first().is_some_and(|b| (b'1'..=b'6').contains(b)) && code.iter().all(u8::is_ascii_digit)
}

/// A connection's first payload from the client could start an FTP command: its first word is
/// an FTP verb, or a short piece of one ("US"). HTTP, SMTP and the like fail here.
pub fn could_start_command(payload: &[u8]) -> bool {
    let word = payload.split(|&b| b == b' ' || b == b'\r' || b == b'\n').next().unwrap_or(payload);
    is_ftp_verb(word) || (!payload.is_empty() && payload.len() < 4 && payload.iter().all(u8::is_ascii_alphabetic))
}

/// Reply codes only FTP uses among the protocols that share its reply format (SMTP, NNTP):
/// the transfer replies, the passive-mode replies, "need password" and "created".
const FTP_ONLY_CODES: &[&[u8]] = &[b"125", b"150", b"226", b"227", b"228", b"229", b"257", b"331", b"332"];

/// Verbs only FTP uses among the protocols whose clients send the same kind of lines: POP3
/// clients send USER, PASS, LIST, RETR, STAT, DELE, NOOP and QUIT too.
const FTP_ONLY_VERBS: &[&[u8]] = &[
    b"PORT", b"EPRT", b"LPRT", b"PASV", b"EPSV", b"LPSV", b"TYPE", b"PWD", b"XPWD", b"CWD", b"CDUP", b"SYST", b"FEAT", b"MLSD", b"NLST",
    b"STOR", b"STOU", b"APPE", b"SIZE", b"MDTM", b"MKD", b"RMD", b"RNFR", b"RNTO", b"PBSZ", b"PROT",
];

/// A reply line only an FTP server sends (seen from the server's side alone, SMTP's 220 and
/// 250 look the same).
pub fn is_ftp_only_reply(line: &[u8]) -> bool {
    is_reply_line(line) && FTP_ONLY_CODES.iter().any(|c| line.starts_with(c))
}

/// A command line only an FTP client sends (seen from the client's side alone, a POP3
/// client's USER, PASS, LIST and RETR look the same).
pub fn is_ftp_only_command(line: &[u8]) -> bool {
    parse::parse_command(line).is_some_and(|c| FTP_ONLY_VERBS.iter().any(|v| v.eq_ignore_ascii_case(c.name)))
}

/// Clear-text replies after TLS (the client sent CCC inside TLS): printable lines starting with
/// a reply code. TLS records start with a content type byte (0x14..0x17), never a digit.
pub fn looks_like_clear_reply(bytes: &[u8]) -> bool {
    is_reply_line(bytes.get(..4).unwrap_or(bytes))
        && bytes.ends_with(b"\n")
        && bytes.iter().all(|&b| (0x20..0x7f).contains(&b) || b == b'\r' || b == b'\n' || b == b'\t')
}

/// Clear-text commands after TLS: printable lines whose first is an FTP command.
pub fn looks_like_clear_command(bytes: &[u8]) -> bool {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    is_ftp_command(first.strip_suffix(b"\r").unwrap_or(first))
        && bytes.ends_with(b"\n")
        && bytes.iter().all(|&b| (0x20..0x7f).contains(&b) || b == b'\r' || b == b'\n' || b == b'\t')
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn replies_and_commands() {
        assert!(is_reply_line(b"220 ready") && is_reply_line(b"220-ready") && is_reply_line(b"220"));
        assert!(!is_reply_line(b"2201") && !is_reply_line(b"22") && !is_reply_line(b"HTTP/1.1 200 OK"));
        assert!(is_ftp_command(b"USER anonymous") && is_ftp_command(b"feat") && is_ftp_command(b"XPWD"));
        assert!(!is_ftp_command(b"EHLO mail") && !is_ftp_command(b"GET / HTTP/1.1"));
    }

    #[test]
    fn first_payloads() {
        assert!(could_start_reply(b"220 (vsFTPd 3.0.3)\r\n") && could_start_reply(b"22") && could_start_reply(b"1"));
        assert!(
            !could_start_reply(b"") && !could_start_reply(b"720 x") && !could_start_reply(b"2a0") && !could_start_reply(b"\x16\x03\x01")
        );
        assert!(could_start_command(b"USER x\r\n") && could_start_command(b"US") && could_start_command(b"PASV\r\n"));
        assert!(!could_start_command(b"GET / HTTP/1.1\r\n") && !could_start_command(b"EHLO x\r\n") && !could_start_command(b""));
    }

    #[test]
    fn lines_only_ftp_sends() {
        assert!(is_ftp_only_reply(b"227 Entering Passive Mode (10,0,0,1,4,1)") && is_ftp_only_reply(b"331 Password required"));
        assert!(!is_ftp_only_reply(b"220 mail.example.com ESMTP") && !is_ftp_only_reply(b"250 OK") && !is_ftp_only_reply(b"2270"));
        assert!(is_ftp_only_command(b"PASV") && is_ftp_only_command(b"port 10,0,0,1,4,1") && is_ftp_only_command(b"TYPE I"));
        assert!(!is_ftp_only_command(b"USER bob") && !is_ftp_only_command(b"RETR 1") && !is_ftp_only_command(b"EHLO x"));
    }

    #[test]
    fn clear_text_after_tls() {
        assert!(looks_like_clear_reply(b"200 CCC ok\r\n"));
        assert!(!looks_like_clear_reply(b"\x17\x03\x03\x00\x20garbage"));
        assert!(!looks_like_clear_reply(b"200 half a line"));
        assert!(looks_like_clear_command(b"PASV\r\n"));
        assert!(!looks_like_clear_command(b"\x17\x03\x03PASV\r\n"));
        assert!(!looks_like_clear_command(b"HELLO\r\n"));
    }
}
