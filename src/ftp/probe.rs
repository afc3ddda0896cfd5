//! Deciding whether a connection is an FTP control channel, on any port: its first lines are
//! held until the server's first line is a reply and the client's an FTP command (or until it
//! is clearly not FTP), then replayed to a new session.
//!
//! A capture of one direction only (asymmetric routing, a one-way mirror) is recognised from
//! that side alone, with more care: see [`Probe::judge`].
//!
//! Owns the detection policy (when to start looking, how long to wait). The byte-level tests
//! are in [`super::detect`].

use super::channel::{Channel, Lines};
use super::detect::{self, is_ftp_command, is_ftp_only_command, is_ftp_only_reply, is_reply_line};
use crate::decode::TcpSegment;
use crate::model::Timestamp;
use crate::tcp::flow::{Conn, Dir};

/// Lines and bytes a connection may send before it must look like FTP.
/// Generous: some greetings run to dozens of lines before the client's first command.
const PROBE_MAX_LINES: usize = 200;
pub const PROBE_MAX_BYTES: usize = 32 * 1024;
/// Lines one side must have sent before its side alone can make a session: a greeting and an
/// answer, or two commands.
const ONE_WAY_MIN_LINES: usize = 2;
/// Ports where FTP is expected; elsewhere a one-sided session needs a line only FTP sends.
const USUAL_CONTROL_PORTS: [u16; 2] = [21, 2121];

/// A connection under watch: its channel and the lines seen so far.
pub struct Probe {
    pub channel: Channel,
    pub lines: Lines,
    /// Frame and time of each line in `lines`.
    pub stamps: Vec<(u64, Timestamp)>,
    /// Payload bytes seen (bounded by [`PROBE_MAX_BYTES`]).
    pub bytes: usize,
    /// Per direction (to server, to client): the first acknowledgement number seen, and the
    /// first frame whose acknowledgement differed from it (the peer had sent bytes).
    acks: [Option<(u32, Option<u64>)>; 2],
}

#[derive(Debug, Clone, Copy)]
pub enum Verdict {
    Undecided,
    Ftp,
    /// FTP recognised from one side alone: the other direction is missing from the capture.
    /// The frame whose acknowledgement shows the missing side had sent bytes.
    FtpOneWay {
        evidence: u64,
    },
    NotFtp,
}

/// A connection's first payload decides whether it is worth watching as a possible control
/// channel, without allocating for the vast majority that are not: the server speaks first
/// with a reply code. A capture that began mid-connection may show the client first (the
/// connection is then oriented by content).
pub fn start(conn: &mut Conn, seg: &TcpSegment<'_>, max_line: usize, max_buffered: usize) -> Option<Box<Probe>> {
    let reply_like = detect::could_start_reply(seg.payload);
    let command_like = detect::could_start_command(seg.payload);
    let handshake_seen = conn.syn.is_some() || conn.synack_frame.is_some();
    if handshake_seen {
        // The server speaks first, but a client may send before a slow greeting.
        let fits = if seg.src == conn.server { reply_like } else { command_like };
        if !fits {
            return None;
        }
    } else if reply_like {
        conn.orient(seg.src);
    } else if command_like {
        conn.orient(seg.dst);
    } else {
        return None;
    }
    Some(Box::new(Probe {
        channel: Channel::new(conn, max_line, max_buffered),
        lines: Lines::default(),
        stamps: Vec::new(),
        bytes: 0,
        acks: [None; 2],
    }))
}

impl Probe {
    /// Memory held: buffered lines and the channel's buffers.
    pub fn held(&self) -> usize {
        self.lines.held().saturating_add(self.channel.buffered())
    }

    /// Notes a segment's acknowledgement number (any segment, payload or not, in `dir`).
    pub fn note_ack(&mut self, dir: Dir, seg: &TcpSegment<'_>, frame: u64) {
        if !seg.flags.ack || seg.flags.syn || seg.flags.rst {
            return;
        }
        match dir.of_mut(&mut self.acks) {
            slot @ None => *slot = Some((seg.ack, None)),
            Some((first, advanced)) => {
                if seg.ack != *first && advanced.is_none() {
                    *advanced = Some(frame);
                }
            }
        }
    }

    /// FTP when the server's first line is a reply and the client's first line an FTP command.
    /// From one side alone (`conn` saw no packet at all the other way) when that side's lines
    /// are FTP's, its acknowledgements show the other side did send bytes (they are missing
    /// from the capture, not unsent), and the port is FTP's usual one (or `intended_port`) or
    /// a line is one only FTP sends (SMTP servers and POP3 clients look like FTP otherwise).
    pub fn judge(&self, conn: &Conn, intended_port: Option<u16>) -> Verdict {
        if self.channel.gaps_seen || self.lines.len() > PROBE_MAX_LINES || self.bytes > PROBE_MAX_BYTES {
            return Verdict::NotFtp;
        }
        let first = |dir| self.lines.iter().find(|l| l.dir == dir && !l.bytes.is_empty());
        let server_ok = first(Dir::ToClient).map(|l| is_reply_line(l.bytes));
        let client_ok = first(Dir::ToServer).map(|l| is_ftp_command(l.bytes));
        match (server_ok, client_ok) {
            (Some(false), _) | (_, Some(false)) => Verdict::NotFtp,
            (Some(true), Some(true)) => Verdict::Ftp,
            (Some(true), None) if self.refused_before_any_command(conn, intended_port) => Verdict::Ftp,
            _ => self.one_way(conn, intended_port),
        }
    }

    /// The server answered and the connection closed before the client sent a command: a
    /// greeting that refuses the session (vsftpd's `421 There are too many connections from
    /// your internet address.`, a `500 OOPS:`), or a 220 after which the server itself hung up.
    /// On an FTP port only: SMTP servers greet with 421 too. A client that reads a 220 and
    /// leaves (a health check) is not a session: it refused nothing.
    fn refused_before_any_command(&self, conn: &Conn, intended_port: Option<u16>) -> bool {
        let port = conn.server.port();
        if !(USUAL_CONTROL_PORTS.contains(&port) || intended_port == Some(port)) {
            return false;
        }
        let Some(greeting) = self.lines.iter().find(|l| l.dir == Dir::ToClient && !l.bytes.is_empty()) else { return false };
        let refuses = matches!(greeting.bytes.first(), Some(b'4' | b'5'));
        let server_hung_up = conn.fins & 0b10 != 0 || conn.rst.is_some_and(|(_, dir)| dir == Dir::ToClient);
        let closed = conn.fins != 0 || conn.rst.is_some();
        (refuses && closed) || server_hung_up
    }

    fn one_way(&self, conn: &Conn, intended_port: Option<u16>) -> Verdict {
        let Some(dir) = conn.one_way() else { return Verdict::Undecided };
        let Some((_, Some(evidence))) = *dir.of(&self.acks) else { return Verdict::Undecided };
        let lines = self.lines.iter().filter(|l| !l.bytes.is_empty());
        type LineTest = fn(&[u8]) -> bool;
        let (fits, distinctive): (LineTest, LineTest) = match dir {
            // Continuation lines of a multi-line reply are not replies: count the reply lines.
            Dir::ToClient => (is_reply_line, is_ftp_only_reply),
            Dir::ToServer => (is_ftp_command, is_ftp_only_command),
        };
        let mut fitting: usize = 0;
        let mut ftp_only = false;
        for line in lines {
            if fits(line.bytes) {
                fitting = fitting.saturating_add(1);
                ftp_only |= distinctive(line.bytes);
            } else if dir == Dir::ToServer {
                return Verdict::NotFtp;
            }
        }
        let port = conn.server.port();
        let usual_port = USUAL_CONTROL_PORTS.contains(&port) || intended_port == Some(port);
        if fitting >= ONE_WAY_MIN_LINES && (usual_port || ftp_only) {
            Verdict::FtpOneWay { evidence }
        } else {
            Verdict::Undecided
        }
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::decode::TcpFlags;

    fn sa(s: &str) -> std::net::SocketAddr {
        s.parse().unwrap()
    }

    /// A probe fed `lines` as segments from `from` (each acknowledging 10 more bytes of the
    /// other side than the last), on a connection to `server`; the verdict after each.
    fn fed(server: &str, from_server: bool, lines: &[&[u8]]) -> Vec<Verdict> {
        let (client, server) = (sa("192.0.2.10:40000"), sa(server));
        let (src, dst) = if from_server { (server, client) } else { (client, server) };
        let mut conn = Conn::new(client, server, 1, Timestamp(0));
        let dir = conn.dir_of(src);
        let mut probe: Option<Box<Probe>> = None;
        let mut out = Vec::new();
        let (mut seq, mut raw) = (1000u32, Vec::new());
        for (i, line) in lines.iter().enumerate() {
            let flags = TcpFlags { syn: false, ack: true, fin: false, rst: false };
            let seg = TcpSegment { src, dst, seq, ack: 5000 + 10 * i as u32, flags, payload: line, missing: 0, ttl: 0 };
            seq += line.len() as u32;
            conn.sent |= 1 << dir as u8;
            let p = probe.get_or_insert_with(|| start(&mut conn, &seg, 4096, 65536).expect("worth watching"));
            p.note_ack(dir, &seg, i as u64 + 1);
            let mut lines = Lines::default();
            p.channel.push(dir, &seg, true, &mut lines, &mut raw);
            for l in lines.iter() {
                p.lines.push(l);
            }
            out.push(p.judge(&conn, None));
        }
        out
    }

    fn one_way_at(verdicts: &[Verdict]) -> Option<(usize, u64)> {
        verdicts.iter().enumerate().find_map(|(i, v)| match v {
            Verdict::FtpOneWay { evidence } => Some((i, *evidence)),
            _ => None,
        })
    }

    #[test]
    fn a_server_alone_on_port_21_is_ftp_once_it_answered_something_unseen() {
        let v = fed("203.0.113.10:21", true, &[b"220 (vsFTPd 3.0.5)\r\n", b"331 Please specify the password.\r\n"]);
        assert_eq!(one_way_at(&v), Some((1, 2)), "the second reply acknowledges the unseen USER");
    }

    #[test]
    fn a_client_alone_needs_ftp_lines_on_another_port() {
        let v = fed("203.0.113.10:4021", false, &[b"USER bob\r\n", b"PASS x\r\n", b"PASV\r\n"]);
        assert_eq!(one_way_at(&v), Some((2, 2)), "USER and PASS could be POP3; PASV is FTP's");
        // A POP3 client alone on port 110 is not an FTP session.
        let v = fed("203.0.113.10:110", false, &[b"USER bob\r\n", b"PASS x\r\n", b"STAT\r\n", b"RETR 1\r\n"]);
        assert_eq!(one_way_at(&v), None);
    }

    /// A server's greeting, then a close (`fins` as `Conn` keeps them), judged.
    fn greeting_then_close(server: &str, greeting: &[u8], fins: u8) -> Verdict {
        let (client, server) = (sa("192.0.2.10:40000"), sa(server));
        let mut conn = Conn::new(client, server, 1, Timestamp(0));
        conn.syn = Some((1, Timestamp(0)));
        conn.sent = 0b11;
        let flags = TcpFlags { syn: false, ack: true, fin: false, rst: false };
        let seg = TcpSegment { src: server, dst: client, seq: 1, ack: 1, flags, payload: greeting, missing: 0, ttl: 0 };
        let mut probe = start(&mut conn, &seg, 4096, 65536).expect("a reply from the server");
        let (mut lines, mut raw) = (Lines::default(), Vec::new());
        probe.channel.push(Dir::ToClient, &seg, true, &mut lines, &mut raw);
        for l in lines.iter() {
            probe.lines.push(l);
        }
        assert!(matches!(probe.judge(&conn, None), Verdict::Undecided), "open: the client may still speak");
        conn.fins = fins;
        probe.judge(&conn, None)
    }

    #[test]
    fn a_greeting_that_refuses_then_a_close_is_a_session() {
        let refusal = b"421 There are too many connections from your internet address.\r\n";
        assert!(matches!(greeting_then_close("203.0.113.10:21", refusal, 0b01), Verdict::Ftp), "whoever closes");
        assert!(matches!(greeting_then_close("203.0.113.10:21", b"220 (vsFTPd 3.0.5)\r\n", 0b10), Verdict::Ftp), "the server hung up");
        // A client that reads the greeting and leaves (a health check) refused nothing.
        assert!(matches!(greeting_then_close("203.0.113.10:21", b"220 (vsFTPd 3.0.5)\r\n", 0b01), Verdict::Undecided));
        // SMTP greets with 421 too: not on an FTP port.
        assert!(matches!(greeting_then_close("203.0.113.10:25", b"421 busy\r\n", 0b10), Verdict::Undecided));
    }

    #[test]
    fn an_smtp_server_alone_is_not_ftp() {
        let v = fed("203.0.113.10:25", true, &[b"220 mail.example.com ESMTP\r\n", b"250-mail.example.com\r\n", b"250 OK\r\n"]);
        assert_eq!(one_way_at(&v), None);
        assert!(matches!(v.last(), Some(Verdict::Undecided)));
    }
}
