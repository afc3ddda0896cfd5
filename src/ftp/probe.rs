//! Deciding whether a connection is an FTP control channel, on any port: its first lines are
//! held until the server's first line is a reply and the client's an FTP command (or until it
//! is clearly not FTP), then replayed to a new session.
//!
//! Owns the detection policy (when to start looking, how long to wait). The byte-level tests
//! are in [`super::detect`].

use super::channel::{Channel, Lines};
use super::detect::{self, is_ftp_command, is_reply_line};
use crate::decode::TcpSegment;
use crate::model::Timestamp;
use crate::tcp::flow::{Conn, Dir};

/// Lines and bytes a connection may send before it must look like FTP.
/// Generous: some greetings run to dozens of lines before the client's first command.
const PROBE_MAX_LINES: usize = 200;
pub const PROBE_MAX_BYTES: usize = 32 * 1024;

/// A connection under watch: its channel and the lines seen so far.
pub struct Probe {
    pub channel: Channel,
    pub lines: Lines,
    /// Frame and time of each line in `lines`.
    pub stamps: Vec<(u64, Timestamp)>,
    /// Payload bytes seen (bounded by [`PROBE_MAX_BYTES`]).
    pub bytes: usize,
}

pub enum Verdict {
    Undecided,
    Ftp,
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
    Some(Box::new(Probe { channel: Channel::new(conn, max_line, max_buffered), lines: Lines::default(), stamps: Vec::new(), bytes: 0 }))
}

impl Probe {
    /// Memory held: buffered lines and the channel's buffers.
    pub fn held(&self) -> usize {
        self.lines.held() + self.channel.buffered()
    }

    /// FTP when the server's first line is a reply and the client's first line an FTP command.
    pub fn judge(&self) -> Verdict {
        if self.channel.gaps_seen || self.lines.len() > PROBE_MAX_LINES || self.bytes > PROBE_MAX_BYTES {
            return Verdict::NotFtp;
        }
        let first = |dir| self.lines.iter().find(|l| l.dir == dir && !l.bytes.is_empty());
        let server_ok = first(Dir::ToClient).map(|l| is_reply_line(l.bytes));
        let client_ok = first(Dir::ToServer).map(|l| is_ftp_command(l.bytes));
        match (server_ok, client_ok) {
            (Some(false), _) | (_, Some(false)) => Verdict::NotFtp,
            (Some(true), Some(true)) => Verdict::Ftp,
            _ => Verdict::Undecided,
        }
    }
}
