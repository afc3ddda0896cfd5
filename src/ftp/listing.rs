//! Recognising a directory listing by its first bytes: what a LIST or MLSD data connection
//! carries, so that a data connection whose control channel is not in the capture can still be
//! told apart from any other TCP stream.
//!
//! Owns the byte-level test only; must not decide what a connection is (diagnose::unclaimed
//! weighs this with its other evidence). Strict on purpose: a false "listing" would name an
//! unrelated stream as FTP data.

/// The first line of `payload` is a listing line: `ls -l` style (`-rw-r--r--  1 ftp ftp ...`,
/// `drwxr-xr-x ...`, after an optional `total N` line), an MLSD fact list (`type=file;size=39;
/// ... name`, RFC 3659 section 7.2), or the DOS style IIS writes (`01-15-24  10:00AM  <DIR>  name`).
pub fn looks_like_listing(payload: &[u8]) -> bool {
    let mut lines = payload.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let Some(mut first) = lines.next() else { return false };
    if is_total(first) {
        match lines.next() {
            Some(next) => first = next,
            None => return false,
        }
    }
    is_ls_line(first) || is_mlsd_line(first) || is_dos_line(first)
}

/// `total 12`: the line `ls -l` writes before its entries.
fn is_total(line: &[u8]) -> bool {
    line.strip_prefix(b"total ").is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
}

/// A file type letter, nine permission letters (an ACL mark may follow), then blanks and a
/// link count.
fn is_ls_line(line: &[u8]) -> bool {
    let Some((&kind, rest)) = line.split_first() else { return false };
    if !b"-dlbcps".contains(&kind) || rest.len() < 11 {
        return false;
    }
    let (mode, rest) = rest.split_at(9);
    let modes_ok = mode.iter().all(|b| b"rwxsStTl-".contains(b));
    let rest = rest.strip_prefix(b"+").or_else(|| rest.strip_prefix(b".")).or_else(|| rest.strip_prefix(b"@")).unwrap_or(rest);
    let blanks = rest.iter().take_while(|&&b| b == b' ').count();
    modes_ok && blanks > 0 && rest.get(blanks).is_some_and(u8::is_ascii_digit)
}

/// `fact=value;` pairs, one of them `type=`, a space, then the name.
fn is_mlsd_line(line: &[u8]) -> bool {
    let Some((facts, name)) = line.iter().position(|&b| b == b' ').and_then(|space| line.split_at_checked(space)) else { return false };
    let mut pairs = facts.split(|&b| b == b';');
    // The fact list ends with ';': the last piece is empty.
    let ends_right = facts.last() == Some(&b';');
    let well_formed = pairs.all(|p| {
        p.is_empty()
            || p.iter()
                .position(|&b| b == b'=')
                .and_then(|eq| p.get(..eq))
                .is_some_and(|fact| !fact.is_empty() && fact.iter().all(|b| b.is_ascii_alphanumeric() || b"-.".contains(b)))
    });
    let typed = facts.split(|&b| b == b';').any(|p| p.len() > 5 && p.get(..5).is_some_and(|t| t.eq_ignore_ascii_case(b"type=")));
    // `name` is the space and what follows it: a name of one byte at least.
    ends_right && well_formed && typed && name.len() > 1
}

/// `MM-DD-YY  HH:MM(AM|PM)` then `<DIR>` or a size.
fn is_dos_line(line: &[u8]) -> bool {
    let digits = |s: &[&u8]| s.iter().all(|b| b.is_ascii_digit());
    let [m1, m2, b'-', d1, d2, b'-', y1, y2, rest @ ..] = line else { return false };
    if line.len() < 24 || !digits(&[m1, m2, d1, d2, y1, y2]) {
        return false;
    }
    let [h1, h2, b':', n1, n2, b'A' | b'P', b'M', what @ ..] = rest.trim_ascii_start() else { return false };
    if !digits(&[h1, h2, n1, n2]) {
        return false;
    }
    let what = what.trim_ascii_start();
    what.starts_with(b"<DIR>") || what.first().is_some_and(u8::is_ascii_digit)
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::looks_like_listing;

    #[test]
    fn listings_of_every_style_are_recognised() {
        // vsftpd's LIST, as in fixtures/alg-active.
        assert!(looks_like_listing(b"-rw-r--r--    1 0        0              39 Jan 01 00:00 readme.txt\r\n"));
        assert!(looks_like_listing(b"drwxr-xr-x    2 ftp      ftp          4096 Mar 03 12:00 pub\r\n"));
        assert!(looks_like_listing(b"total 8\r\nlrwxrwxrwx. 1 root root 7 Jan  1  2024 bin -> usr/bin\r\n"));
        assert!(looks_like_listing(b"type=file;size=39;modify=20240101000000;perm=r; readme.txt\r\n"));
        assert!(looks_like_listing(b"Type=cdir;Modify=20240101000000; /pub\r\n"));
        assert!(looks_like_listing(b"01-15-24  10:00AM       <DIR>          pub\r\n"));
        assert!(looks_like_listing(b"01-15-24  10:00AM                   39 readme.txt\r\n"));
    }

    #[test]
    fn other_streams_and_truncated_lines_are_not() {
        for not in [
            &b""[..],
            b"GET / HTTP/1.1\r\n",
            b"220 (vsFTPd 3.0.3)\r\n",
            b"SSH-2.0-OpenSSH_9.2\r\n",
            b"\x16\x03\x01\x02\x00\x01",
            b"-rw-r--r",
            b"-rw-r--r--",
            b"total 8\r\n",
            b"-not a mode at all 1\r\n",
            b"size=39; readme.txt\r\n",
            b"type=file;size=39;\r\n",
            b"key=value; and more\r\n",
            b"01-15-24 hello world and then some\r\n",
            b"hello=world;type=file",
        ] {
            assert!(!looks_like_listing(not), "{:?}", String::from_utf8_lossy(not));
        }
    }
}
