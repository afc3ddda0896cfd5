//! The prober's control connection: commands out, whole replies in, every read bounded in
//! time (the step's deadline) and in size (a line's length, a reply's lines), so that a server
//! that never answers, or answers without end, can neither hang the probe nor grow it.
//!
//! Owns the socket of the control connection. Must not decide anything: the session's steps
//! ([`super::session`]) do.

use super::observed::{Line, Reply};
use super::tls::{Tls, Wire};
use crate::model::Side;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime};

/// Longest control line kept; the rest of a longer one is read and dropped (RFC 959 sets no
/// limit; real replies stay far below).
pub const MAX_LINE: usize = 2048;
/// Most lines of one reply (a FEAT or a HELP list is a few dozen).
pub const MAX_REPLY_LINES: usize = 200;
/// Most control lines kept for the record; later ones are still read, not kept.
pub const MAX_KEPT_LINES: usize = 400;

/// Why a reply did not come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoReply {
    /// Nothing, or not all of it, within the deadline.
    Timeout,
    /// The server closed the connection.
    Closed,
    /// More lines than any reply has.
    Endless,
    Io(String),
}

impl NoReply {
    pub fn words(&self) -> String {
        match self {
            NoReply::Timeout => "no reply within the step's timeout".into(),
            NoReply::Closed => "the server closed the control connection".into(),
            NoReply::Endless => format!("a reply of more than {MAX_REPLY_LINES} lines"),
            NoReply::Io(e) => e.clone(),
        }
    }
}

pub struct Control {
    wire: Wire,
    /// Read, not yet taken as lines.
    pending: Vec<u8>,
    pub lines: Vec<Line>,
    pub overlong_lines: u64,
}

impl Control {
    pub fn new(stream: TcpStream) -> Control {
        Control { wire: Wire::Clear(stream), pending: Vec::new(), lines: Vec::new(), overlong_lines: 0 }
    }

    pub fn tcp(&self) -> &TcpStream {
        self.wire.tcp()
    }

    /// After the server's 234: the control connection in TLS, the handshake done by
    /// `deadline`; the error says why not (the certificate's problem, or the handshake's).
    pub fn start_tls(&mut self, tls: &Tls, deadline: Instant) -> Result<(), String> {
        let tcp = self.wire.tcp().try_clone().map_err(|e| e.to_string())?;
        self.wire = tls.wrap(tcp)?;
        let Wire::Tls(s) = &mut self.wire else { return Ok(()) };
        while s.conn.is_handshaking() {
            let timeout = left(deadline).map_err(|e| e.words())?;
            s.sock.set_read_timeout(Some(timeout)).and_then(|()| s.sock.set_write_timeout(Some(timeout))).map_err(|e| e.to_string())?;
            s.conn.complete_io(&mut s.sock).map_err(|e| match tls.problem() {
                Some(problem) => format!("the server's certificate: {problem}"),
                None => format!("the TLS handshake: {e}"),
            })?;
        }
        Ok(())
    }

    /// Sends one command; `shown` is what the record keeps of it (PASS masked).
    pub fn send(&mut self, command: &str, shown: &str, deadline: Instant) -> Result<SystemTime, NoReply> {
        self.wire.tcp().set_write_timeout(Some(left(deadline)?)).map_err(io_error)?;
        let at = SystemTime::now();
        self.wire.write_all(format!("{command}\r\n").as_bytes()).map_err(io_error)?;
        self.wire.flush().map_err(io_error)?;
        self.keep(at, Side::Client, shown.to_string());
        Ok(at)
    }

    /// The next whole reply (one line, or a multi-line one up to its closing `ddd `), by
    /// `deadline`.
    pub fn reply(&mut self, deadline: Instant) -> Result<(Reply, SystemTime), NoReply> {
        // Lines that are no reply (a server's noise) are kept in the record and skipped, as
        // many as a reply may have lines.
        let mut first = None;
        for _ in 0..MAX_REPLY_LINES {
            let (line, at) = self.line(deadline)?;
            if let Some(code) = code_of(&line) {
                first = Some((line, code, at));
                break;
            }
        }
        let (first, code, at) = first.ok_or(NoReply::Endless)?;
        if first.as_bytes().get(3) != Some(&b'-') {
            return Ok((Reply { code, text: text_of(&first) }, at));
        }
        for _ in 0..MAX_REPLY_LINES {
            let (line, at) = self.line(deadline)?;
            if code_of(&line) == Some(code) && line.as_bytes().get(3) == Some(&b' ') {
                return Ok((Reply { code, text: text_of(&first) }, at));
            }
        }
        Err(NoReply::Endless)
    }

    /// The lines of a multi-line reply, as read (FEAT's features).
    pub fn last_lines(&self, n: usize) -> impl Iterator<Item = &str> {
        self.lines.iter().rev().take(n).rev().map(|l| l.text.as_str())
    }

    /// One line, cut to [`MAX_LINE`] bytes, by `deadline`.
    fn line(&mut self, deadline: Instant) -> Result<(String, SystemTime), NoReply> {
        let mut cut = false;
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let raw: Vec<u8> = self.pending.drain(..=end).collect();
                let text = printable(&raw[..raw.len().min(MAX_LINE)]);
                let at = SystemTime::now();
                self.keep(at, Side::Server, text.clone());
                if cut || raw.len() > MAX_LINE {
                    self.overlong_lines += 1;
                }
                return Ok((text, at));
            }
            if self.pending.len() > MAX_LINE {
                // Only the beginning is kept: a line without end cannot grow the buffer.
                self.pending.truncate(MAX_LINE);
                cut = true;
            }
            self.wire.tcp().set_read_timeout(Some(left(deadline)?)).map_err(io_error)?;
            let mut buf = [0u8; 4096];
            match self.wire.read(&mut buf) {
                Ok(0) => return Err(NoReply::Closed),
                Ok(n) => self.take(&buf[..n], cut),
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => return Err(NoReply::Timeout),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(e)),
            }
        }
    }

    /// Bytes read: while a line is being cut, those before its end are dropped.
    fn take(&mut self, bytes: &[u8], cutting: bool) {
        if cutting {
            if let Some(end) = bytes.iter().position(|&b| b == b'\n') {
                self.pending.extend_from_slice(&bytes[end..]);
            }
        } else {
            self.pending.extend_from_slice(bytes);
        }
    }

    fn keep(&mut self, at: SystemTime, from: Side, text: String) {
        if self.lines.len() < MAX_KEPT_LINES {
            self.lines.push(Line { at, from, text });
        }
    }
}

/// Time left before `deadline`, or the timeout.
pub fn left(deadline: Instant) -> Result<Duration, NoReply> {
    let left = deadline.saturating_duration_since(Instant::now());
    // A zero read timeout means "none" to the socket: the deadline has passed.
    if left.is_zero() {
        Err(NoReply::Timeout)
    } else {
        Ok(left)
    }
}

fn io_error(e: io::Error) -> NoReply {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => NoReply::Timeout,
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof => NoReply::Closed,
        _ => NoReply::Io(e.to_string()),
    }
}

/// A reply line's code: three digits, then a space, a hyphen or the end.
fn code_of(line: &str) -> Option<u16> {
    let b = line.as_bytes();
    let digits = b.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) || !matches!(b.get(3), None | Some(b' ' | b'-')) {
        return None;
    }
    line.get(..3)?.parse().ok()
}

fn text_of(line: &str) -> String {
    line.get(4..).unwrap_or("").to_string()
}

/// A line as printable text, without its CR LF.
fn printable(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).trim_end_matches(['\r', '\n']).chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A control connection to a server that writes `script` and then stays silent.
    fn served(script: &'static [u8]) -> Control {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let _ = s.write_all(script);
            std::thread::sleep(Duration::from_secs(3));
        });
        Control::new(TcpStream::connect(addr).unwrap())
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_millis(500)
    }

    #[test]
    fn multi_line_replies_are_one_reply() {
        let mut c = served(b"220 hi\r\n211-Features:\r\n EPSV\r\n211 End\r\n");
        assert_eq!(c.reply(soon()).unwrap().0, Reply { code: 220, text: "hi".into() });
        assert_eq!(c.reply(soon()).unwrap().0.code, 211);
        assert_eq!(c.last_lines(2).collect::<Vec<_>>(), [" EPSV", "211 End"]);
    }

    #[test]
    fn silence_and_endless_lines_end_in_time_and_bounded() {
        let mut c = served(b"");
        let started = Instant::now();
        assert_eq!(c.reply(soon()), Err(NoReply::Timeout));
        assert!(started.elapsed() < Duration::from_secs(2));
        let mut c = served(&[b'A'; 100_000]);
        assert_eq!(c.reply(soon()), Err(NoReply::Timeout));
        assert!(c.pending.len() <= MAX_LINE + 4096, "a line without end does not grow the buffer");
    }
}
