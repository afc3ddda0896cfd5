//! The record of a settled FTP session: the control connection, each negotiation and the data
//! connection that followed it, with typed values (addresses, times, outcomes). Built once, when
//! the session settles; diagnosis reads it, and every output (JSON, NDJSON, text, UI) is a view.
//! The JSON field names are the schema (docs/schema.md).

use super::transfer_record::{Asked, Carried, TransferRecord};
use super::{AddressClass, Finding, MatchedBy, Mode, NegotiationCommand, Outcome, Software, Timestamp, Verdict};
use serde::{Serialize, Serializer};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// One FTP control connection and everything negotiated on it.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: u32,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub control_port: u16,
    /// Frame of the control connection's SYN, or of its first packet when the capture began later.
    pub first_frame: u64,
    pub start_time: Timestamp,
    /// Frame and time of the control connection's last packet.
    pub last_frame: u64,
    pub end_time: Timestamp,
    /// Why the session was settled: closed, idle, or the capture ended with it open.
    pub end: EndReason,
    pub user: Option<String>,
    /// The server's greeting (220), first line, for recognising the software.
    pub banner: Option<String>,
    /// The server software recognised from the banner.
    pub software: Software,
    pub tls: bool,
    /// Frame of the 234 reply after which the control channel is encrypted.
    pub tls_frame: Option<u64>,
    /// Frame of the first command or reply protected by RFC 2228's mechanism (GSSAPI: ENC, MIC,
    /// CONF, 631-633), from which the control channel is unreadable.
    pub gssapi_frame: Option<u64>,
    /// PROT P seen in clear text (data channels encrypted too).
    pub protected_data: bool,
    /// Frame where clear text resumed after TLS (CCC).
    pub clear_again_frame: Option<u64>,
    /// Frame of a PASS sent in clear text. The password itself is never kept (nor is this
    /// frame written out: the finding names it).
    pub password_frame: Option<u64>,
    /// How the login went: refusals, the reply that let the client in, who hung up.
    pub login: super::Login,
    pub commands: u64,
    pub replies: u64,
    /// Which directions of the control connection the capture holds: one only behind
    /// asymmetric routing or on a one-way mirror port.
    pub captured_directions: Directions,
    /// Captured one way: the frame whose acknowledgement shows the other side sent bytes the
    /// capture does not hold (not written out: the finding names it).
    pub one_direction_frame: Option<u64>,
    pub negotiations: Vec<Negotiation>,
    /// Negotiations beyond the per-session limit: counted, not kept.
    pub negotiations_over_limit: u64,
    /// Under TLS: connections opened between the same two hosts after the control channel was
    /// encrypted, most probably its data channels.
    pub probable_data_channels: Vec<Connection>,
    pub anomalies: Vec<Anomaly>,
    pub control: ControlStats,
    /// This client's passive data connection to this server failed before this session's
    /// first active negotiation (in this session, or in one shortly before): the client fell
    /// back to active mode. Set when the session settles (diagnose::fallback); not written out
    /// (the fix names it).
    pub passive_failed_first: Option<PassiveFailure>,
    /// This session's findings, in the order diagnosis found them (the control connection's
    /// first, then each negotiation's), repeats merged.
    pub findings: Vec<Finding>,
    /// The control channel's first lines, passwords masked: for the terminal UI's detail
    /// screen. Not part of the JSON or text report (the report's size must not follow the
    /// number of commands): report::record's `SessionView` leaves it out.
    pub timeline: Timeline,
}

impl Session {
    /// Where its control channel became unreadable, and by what: TLS (a 234 to AUTH TLS), else
    /// RFC 2228's protection (GSSAPI).
    pub fn protected(&self) -> Option<(u64, Protection)> {
        self.tls_frame.map(|f| (f, Protection::Tls)).or(self.gssapi_frame.map(|f| (f, Protection::Gssapi)))
    }
}

/// A passive negotiation whose data connection failed (refused, unanswered, unreachable) or
/// that the server refused: its session and the frame that shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct PassiveFailure {
    pub session: u32,
    /// The data connection's SYN, else the negotiation's evidence (its reply).
    pub frame: u64,
    #[serde(skip)]
    pub time: Timestamp,
    /// When that session's control connection ended.
    #[serde(skip)]
    pub session_ended: Timestamp,
}

/// What made a control channel unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protection {
    /// AUTH TLS (or SSL) accepted: the channel is TLS.
    Tls,
    /// AUTH GSSAPI (RFC 2228): the lines still cross, as ENC/MIC/CONF commands and 631-633
    /// replies carrying the mechanism's tokens.
    Gssapi,
}

impl Protection {
    /// As the reports name it: "TLS", "GSSAPI".
    pub fn name(self) -> &'static str {
        match self {
            Protection::Tls => "TLS",
            Protection::Gssapi => "GSSAPI",
        }
    }
}

/// Lines of the control channel a session keeps for the terminal UI (`Settings::timeline_lines`).
pub const TIMELINE_LINES: usize = 200;
/// Longest text kept of one line (a 227 or a 550 with its reason fits; a long directory name is cut).
pub const TIMELINE_TEXT: usize = 160;
/// Replaces the argument of PASS and ACCT: a password never reaches the timeline.
pub const MASK: &str = "••••";

/// The first lines of a control channel in wire order (as many as [`Timeline::keep`] says, none
/// by default), each as printable text. The texts share one buffer: a session's timeline is two allocations, and copying it
/// into the record is two more, whatever its length.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    lines: Vec<LineRef>,
    text: String,
    /// Lines after the first `limit`: counted, not kept.
    pub not_kept: u64,
    limit: u32,
}

#[derive(Debug, Clone, Copy)]
struct LineRef {
    frame: u64,
    time: Timestamp,
    from: Side,
    start: u32,
    len: u32,
}

/// One line of a [`Timeline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlLine<'a> {
    pub frame: u64,
    pub time: Timestamp,
    /// Who sent it: the client (a command) or the server (a reply line).
    pub from: Side,
    pub text: &'a str,
}

impl Timeline {
    /// Keeps the first `lines` lines from now on.
    pub fn keep(&mut self, lines: usize) {
        self.limit = lines.min(u32::MAX as usize) as u32;
    }

    /// Lines kept at most.
    pub fn limit(&self) -> usize {
        self.limit as usize
    }

    /// Keeps one line (already printable and masked), cut to [`TIMELINE_TEXT`] bytes at a
    /// character boundary.
    pub fn push(&mut self, frame: u64, time: Timestamp, from: Side, text: &str) {
        self.push_with(frame, time, from, |buf| buf.push_str(text));
    }

    /// Keeps one line that `write` appends to the shared buffer (no string of its own), cut to
    /// [`TIMELINE_TEXT`] bytes at a character boundary, trailing blanks dropped. Past the
    /// limit, `write` is not called and the line is counted.
    pub fn push_with(&mut self, frame: u64, time: Timestamp, from: Side, write: impl FnOnce(&mut String)) {
        if self.lines.len() >= self.limit as usize {
            self.not_kept = self.not_kept.saturating_add(1);
            return;
        }
        let start = self.text.len();
        write(&mut self.text);
        let mut end = self.text.len().min(start.saturating_add(TIMELINE_TEXT));
        // `start` is a boundary (the text before it is whole): the walk stops there at the latest.
        while !self.text.is_char_boundary(end) {
            end = end.saturating_sub(1);
        }
        let len = self.text.get(start..end).map_or(0, |line| line.trim_end().len());
        self.text.truncate(start.saturating_add(len));
        self.lines.push(LineRef { frame, time, from, start: start as u32, len: len as u32 });
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<ControlLine<'_>> {
        let l = self.lines.get(i)?;
        let text = self.text.get(l.start as usize..l.start.saturating_add(l.len) as usize).unwrap_or("");
        Some(ControlLine { frame: l.frame, time: l.time, from: l.from, text })
    }

    pub fn iter(&self) -> impl Iterator<Item = ControlLine<'_>> {
        (0..self.lines.len()).filter_map(|i| self.get(i))
    }
}

/// Why a session was settled and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// FIN both ways or a RST on the control connection.
    Closed,
    /// No packet on the control connection for the idle timeout.
    Idle,
    /// Still open when the capture ended.
    CaptureEnd,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ControlStats {
    pub bytes_to_server: u64,
    pub bytes_to_client: u64,
    pub gaps: u64,
    pub gap_bytes: u64,
    pub retransmitted_bytes: u64,
    pub conflicting_overlaps: u64,
    pub out_of_order_segments: u64,
    /// Lines longer than the line limit (cut).
    pub overlong_lines: u64,
    /// Bytes given up on because the global budget for control-channel buffers was exhausted.
    pub over_budget_bytes: u64,
    /// Commands still waiting for a reply when the session settled.
    pub unanswered_commands: u32,
    pub closed: bool,
    /// Initial sequence numbers of the SYN and the SYN-ACK: NAT keeps them, so they tell the
    /// same connection apart in two captures taken on either side of a router.
    pub client_isn: Option<u32>,
    pub server_isn: Option<u32>,
    /// The IPv4 TTL or IPv6 hop limit of the server's first segment as captured. An initial
    /// value (64, 128, 255) says the capture is on the server's own host or link, before any
    /// router: a public server address seen so is the server's own, with no NAT in front.
    pub server_ttl: Option<u8>,
}

impl ControlStats {
    /// Captured on the server's own host or link (nothing routed the server's segments yet).
    pub fn at_the_server(&self) -> bool {
        matches!(self.server_ttl, Some(64 | 128 | 255))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Anomaly {
    pub frame: u64,
    /// `malformed_reply` or `malformed_command`.
    pub kind: &'static str,
    pub reason: String,
    /// The start of the offending line, made printable. Never the argument of a command, which
    /// could be a password.
    pub excerpt: String,
}

/// One data-channel negotiation and what happened to the data connection it announced.
#[derive(Debug, Clone, Serialize)]
pub struct Negotiation {
    pub frame: u64,
    pub time: Timestamp,
    pub command: NegotiationCommand,
    pub mode: Mode,
    /// The command's argument as sent (PORT/EPRT/LPRT), printable, bounded.
    pub argument: Option<String>,
    pub reply_code: Option<u16>,
    pub reply_frame: Option<u64>,
    pub reply_text: Option<String>,
    /// The endpoint the peer is told to use; for EPSV without an address, the control
    /// connection's server address with the given port. None when nothing usable was advertised.
    #[serde(serialize_with = "crate::model::notation::socket_opt")]
    pub advertised: Option<SocketAddr>,
    pub advertised_class: Option<AddressClass>,
    /// True when the address came from the control connection (EPSV), not from the wire text.
    pub address_implied: bool,
    /// True when the command is not in the capture (one direction only): it is inferred from
    /// the reply code (227 PASV, 228 LPSV, 229 EPSV), and `frame`/`time` are the reply's.
    pub command_implied: bool,
    /// True when the reply is not in the capture (the client's side only) and `advertised` is
    /// where the client connected after its command: an unroutable address while the server's
    /// is public, which only the reply can have named.
    pub reply_implied: bool,
    /// Why the advertised address could not be parsed.
    pub malformed: Option<&'static str>,
    pub data: DataChannel,
}

impl Negotiation {
    /// The frame that shows what was advertised: the reply in passive mode, the command in active.
    pub fn evidence_frame(&self) -> u64 {
        match self.mode {
            Mode::Passive => self.reply_frame.unwrap_or(self.frame),
            Mode::Active => self.frame,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DataChannel {
    pub outcome: Outcome,
    pub matched_by: Option<MatchedBy>,
    /// Another session's negotiation fitted the connection as well (two clients behind one
    /// address): the tie is a guess, and no error is concluded from it. Only shown when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tie_ambiguous: bool,
    pub connection: Option<Connection>,
    /// Payload bytes both ways on the data connection.
    pub bytes: u64,
    /// Seconds from the SYN to the last packet.
    pub duration: Option<f64>,
    /// The transfer command it served ("LIST", "RETR robots.txt").
    pub command: Option<String>,
    pub command_frame: Option<u64>,
    /// The transfer's final reply (226, 425, 426, 550 ...).
    pub reply_code: Option<u16>,
    pub reply_frame: Option<u64>,
    pub reply_text: Option<String>,
    /// Frame of the client's ABOR while the transfer ran (its 426 answers that, RFC 959 4.1.3).
    pub aborted_frame: Option<u64>,
    /// Connections to the same endpoint that did not open before `connection` did (or before
    /// the transfer completed elsewhere), oldest first.
    pub earlier_attempts: Vec<Connection>,
    /// The transfer's verdict (model::transfer), once the session settled; None for a
    /// negotiation that served no transfer, and in a `negotiation` event (not settled yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Verdict>,
    /// What the data connection carried, hashed (`--hash`, `--extract`); left out when not asked.
    #[serde(skip_serializing_if = "super::Content::not_asked")]
    pub content: super::Content,
    /// What the transfer moved (model::transfer_record), once the session settled; None for a
    /// negotiation without a transfer command (or its replies) and in a `negotiation` event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<TransferRecord>,
    /// What the control channel told of the transfer, for its record.
    #[serde(skip)]
    pub asked: Option<Asked>,
    /// What its data connection carried the file's way, for its record.
    #[serde(skip)]
    pub carried: Carried,
}

impl DataChannel {
    /// The transfer's final reply when it says the transfer completed.
    pub fn completed(&self) -> Option<u16> {
        self.reply_code.filter(|&code| transfer_completed(code))
    }
}

/// A transfer's final reply that says it completed (226, 250): whatever the connection seen
/// did, some data connection carried it.
pub fn transfer_completed(code: u16) -> bool {
    (200..300).contains(&code)
}

/// The facts of one TCP connection, as seen at this capture point.
#[derive(Debug, Clone, Serialize)]
pub struct Connection {
    /// The side that sent the SYN.
    #[serde(serialize_with = "crate::model::notation::socket")]
    pub client: SocketAddr,
    #[serde(serialize_with = "crate::model::notation::socket")]
    pub server: SocketAddr,
    pub syn_frame: u64,
    pub syn_time: Timestamp,
    /// What became of it: established, refused, unanswered, unreachable or unknown.
    pub outcome: Outcome,
    /// SYNs sent (1 + retransmissions).
    pub syns: u64,
    /// Initial sequence numbers of the SYN and the SYN-ACK (as for [`ControlStats`]).
    pub client_isn: Option<u32>,
    pub server_isn: Option<u32>,
    pub synack_frame: Option<u64>,
    pub rst_frame: Option<u64>,
    /// Who reset it.
    pub rst_from: Option<Side>,
    pub unreachable_frame: Option<u64>,
    /// "ICMP 3/3 port unreachable from 10.0.0.1".
    pub unreachable: Option<Icmp>,
    pub fin_frame: Option<u64>,
    pub bytes_to_server: u64,
    pub bytes_to_client: u64,
    pub last_frame: u64,
    pub last_time: Timestamp,
}

/// The directions of a connection a capture holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Directions {
    Both,
    /// Only the client's packets (asymmetric routing, a mirror of one port's ingress).
    ClientToServer,
    /// Only the server's packets.
    ServerToClient,
}

impl Directions {
    pub fn as_str(self) -> &'static str {
        match self {
            Directions::Both => "both",
            Directions::ClientToServer => "client_to_server",
            Directions::ServerToClient => "server_to_client",
        }
    }
}

/// One end of a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

/// An ICMP or ICMPv6 error that quoted a connection's SYN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmp {
    pub icmp_type: u8,
    pub code: u8,
    /// The router or host that sent it.
    pub from: IpAddr,
}

impl fmt::Display for Icmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match (self.from.is_ipv4(), self.icmp_type, self.code) {
            (true, 3, 0) => "network unreachable",
            (true, 3, 1) => "host unreachable",
            (true, 3, 3) => "port unreachable",
            (true, 3, 9 | 10 | 13) => "administratively prohibited",
            (true, 11, _) => "time exceeded",
            (false, 1, 0) => "no route to destination",
            (false, 1, 1) => "administratively prohibited",
            (false, 1, 3) => "address unreachable",
            (false, 1, 4) => "port unreachable",
            (false, 3, _) => "time exceeded",
            _ => "unreachable",
        };
        let proto = if self.from.is_ipv4() { "ICMP" } else { "ICMPv6" };
        write!(f, "{proto} {}/{} {what} from {}", self.icmp_type, self.code, self.from)
    }
}

impl Serialize for Icmp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn timeline_keeps_the_first_lines_and_counts_the_rest() {
        let mut t = Timeline::default();
        t.push(1, Timestamp(0), Side::Client, "USER bob");
        assert!(t.is_empty() && t.not_kept == 1, "none kept unless asked");
        let mut t = Timeline::default();
        t.keep(TIMELINE_LINES);
        for i in 0..TIMELINE_LINES as u64 + 5 {
            t.push(i, Timestamp(i as i64), Side::Client, "NOOP");
        }
        assert_eq!(t.len(), TIMELINE_LINES);
        assert_eq!(t.not_kept, 5);
        assert_eq!(t.get(3).map(|l| (l.frame, l.text)), Some((3, "NOOP")));
        let mut t = Timeline::default();
        t.keep(1);
        let long = "é".repeat(TIMELINE_TEXT);
        t.push(1, Timestamp(0), Side::Server, &long);
        let kept = t.get(0).unwrap().text;
        assert!(kept.len() <= TIMELINE_TEXT && kept.chars().all(|c| c == 'é'), "cut at a character boundary");
    }

    #[test]
    fn icmp_reads_as_a_person_would_say_it() {
        let icmp = Icmp { icmp_type: 3, code: 1, from: "203.0.113.1".parse().unwrap() };
        assert_eq!(icmp.to_string(), "ICMP 3/1 host unreachable from 203.0.113.1");
        let v6 = Icmp { icmp_type: 1, code: 4, from: "2001:db8::1".parse().unwrap() };
        assert_eq!(serde_json::to_value(v6).unwrap(), "ICMPv6 1/4 port unreachable from 2001:db8::1");
    }
}
