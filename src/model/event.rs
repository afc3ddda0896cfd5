//! What the analyzer tells its outputs, as it becomes known: a session starts, a negotiation is
//! answered, a data connection's outcome is settled, a finding is made, a session ends (its whole
//! record), periodic statistics, and the final summary. Outputs (NDJSON, the JSON document, text,
//! the terminal UI) are sinks of these events.

use super::{Connection, Finding, MatchedBy, Negotiation, NegotiationCommand, Outcome, Server, Session, Timestamp, Transfers};
use serde::Serialize;
use std::net::SocketAddr;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A connection was recognised as an FTP control channel (at `frame`); it began at
    /// `first_frame` (its SYN, or its first packet when the capture began later).
    SessionStart {
        session: u32,
        frame: u64,
        time: Timestamp,
        first_frame: u64,
        start_time: Timestamp,
        #[serde(serialize_with = "crate::model::notation::socket")]
        client: SocketAddr,
        #[serde(serialize_with = "crate::model::notation::socket")]
        server: SocketAddr,
    },
    /// A negotiation was answered (its reply tells what it advertised), or, never answered,
    /// its session settled. Every `data_outcome` follows its `negotiation`.
    Negotiation { session: u32, frame: u64, time: Timestamp, index: u32, negotiation: Box<Negotiation> },
    /// What became of a negotiation's data connection: as soon as the wire shows it (SYN-ACK,
    /// RST, ICMP), otherwise when the session settles.
    DataOutcome {
        session: u32,
        frame: u64,
        time: Timestamp,
        index: u32,
        command: NegotiationCommand,
        outcome: Outcome,
        matched_by: Option<MatchedBy>,
        /// As the record's `data.tie_ambiguous`: only shown when true.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        tie_ambiguous: bool,
        connection: Option<Box<Connection>>,
        /// Tries that did not open before `connection` (a retry announces again).
        earlier_attempts: Vec<Connection>,
    },
    /// A finding across sessions (the two copies of one connection on both sides of a NAT
    /// router), when the second copy settles: part of neither session's record. A session's own
    /// findings come inside its `SessionEnd` record.
    ///
    /// Not serialised from here: a finding's JSON carries its words, so the report writes it
    /// (report::record), as it writes `SessionEnd`.
    #[serde(skip_serializing)]
    Finding { session: u32, frame: u64, time: Timestamp, finding: Box<Finding> },
    /// A command of the control channel and the reply that settled it (the log Zeek's ftp.log
    /// keeps): when its final reply is read, or, never answered, when its session settles or
    /// the capture shows it will not be (see [`CommandLog`]). Only when asked for
    /// ([`crate::analyzer::Settings::command_events`]).
    Command {
        session: u32,
        frame: u64,
        time: Timestamp,
        #[serde(flatten)]
        log: Box<CommandLog>,
    },
    /// A settled session's whole record, findings included; its state is then forgotten.
    #[serde(skip_serializing)]
    SessionEnd { session: u32, frame: u64, time: Timestamp, record: Box<Session> },
    /// A server's picture from all its settled sessions, and its fix block: at the end of the
    /// input for every server (before the summary), and in a live capture from time to time
    /// for those that changed. A later one replaces an earlier one of the same server.
    ///
    /// Not serialised from here: the report writes it with its words (report::server).
    #[serde(skip_serializing)]
    Server { frame: u64, time: Timestamp, server: Box<Server> },
    /// Counters, every [`STATS_EVERY_NS`] of capture time.
    Stats { frame: u64, time: Timestamp, stats: Stats },
    /// The end of the input.
    Summary { frame: u64, time: Timestamp, summary: Box<Summary> },
}

/// One command and its reply, as read: the command's line (PASS and ACCT arguments masked), its
/// frame, the first preliminary reply (1xx) if any, and the final reply; None when the capture
/// holds no final reply to it (one direction only, lost bytes, the session ended first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandLog {
    pub command: String,
    pub command_frame: u64,
    pub preliminary: Option<CommandReply>,
    pub reply: Option<CommandReply>,
}

/// A reply's code, its first line's text (printable, cut at 200 bytes) and its frame (the
/// frame of its last line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandReply {
    pub code: u16,
    pub text: String,
    pub frame: u64,
}

/// How often (capture time) a `stats` event is emitted.
pub const STATS_EVERY_NS: i64 = 10 * 1_000_000_000;

/// How often (capture time) a live capture tells the servers whose picture changed.
pub const SERVERS_EVERY_NS: i64 = 60 * 1_000_000_000;

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::SessionStart { .. } => "session_start",
            Event::Negotiation { .. } => "negotiation",
            Event::DataOutcome { .. } => "data_outcome",
            Event::Command { .. } => "command",
            Event::Finding { .. } => "finding",
            Event::SessionEnd { .. } => "session_end",
            Event::Server { .. } => "server",
            Event::Stats { .. } => "stats",
            Event::Summary { .. } => "summary",
        }
    }
}

/// Running counters: cheap to read at any time (the terminal UI's status bar).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub frames: u64,
    pub tcp_connections: u64,
    /// FTP sessions recognised so far.
    pub sessions: u64,
    /// Sessions still held in memory (not settled yet).
    pub open_sessions: u64,
    /// Negotiations answered so far (the summary counts every negotiation of settled sessions).
    pub negotiations_answered: u64,
    pub errors: u64,
    pub warnings: u64,
    pub infos: u64,
}

/// The totals at the end of the input, and what was dropped or cut to bound memory.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub frames: u64,
    /// Capture time of the first and last frame.
    pub first_time: Option<Timestamp>,
    pub last_time: Option<Timestamp>,
    pub tcp_connections: u64,
    /// Frames whose headers could not be decoded (too short, malformed).
    pub undecodable_frames: u64,
    /// Frames of a link type ftpscope does not decode.
    pub unsupported_frames: u64,
    /// Frames the capture's snap length cut (fewer bytes captured than were on the wire), and the
    /// most bytes kept of one: what they carried past it is missing.
    pub cut_frames: u64,
    pub cut_kept: u32,
    /// TCP connections to port 990 (implicit FTPS): encrypted from the first byte, not analysed.
    pub implicit_ftps_connections: u64,
    /// TCP segments with a SYN, a FIN or data captured twice (the same bytes within 16 frames
    /// and 10 ms): analysed once.
    pub duplicate_frames: u64,
    /// Connections dropped from the flow table to bound memory (idle or over the limit).
    pub evicted_connections: u64,
    /// FTP sessions seen while the limit of open sessions was reached, or once every session id
    /// was used: counted, not analysed.
    pub sessions_over_limit: u64,
    /// Data-channel expectations dropped (over the limit of waiting ones).
    pub expectations_dropped: u64,
    /// Connections that opened before their negotiation was read, pushed out of the short
    /// window they wait in (more than 4,096 at once, or 16 to one port) before it ended.
    pub untied_connections_dropped: u64,
    /// Control-channel bytes given up on because the global buffer budget was exhausted.
    pub control_over_budget_bytes: u64,
    /// IP datagrams (of TCP) put back together from their fragments.
    pub reassembled_datagrams: u64,
    /// Fragmented datagrams given up with a fragment missing (at their 30 s timeout, or at the
    /// end of the input): their bytes never reached TCP.
    pub incomplete_datagrams: u64,
    /// Fragmented datagrams dropped to bound the reassembler's memory.
    pub datagrams_over_budget: u64,
    /// Fragmented datagrams that cannot be (too large, inconsistent ends or lengths).
    pub invalid_datagrams: u64,
    /// Fragments that repeated bytes already received (the first bytes are kept).
    pub overlapping_fragments: u64,
    /// Overlapping fragments whose bytes differed from those kept.
    pub conflicting_fragments: u64,
    /// Control lines longer than the line limit, cut (all sessions).
    pub overlong_lines: u64,
    /// Retransmitted control-channel bytes that differed from the first copy (all sessions;
    /// the first copy was kept).
    pub conflicting_overlaps: u64,
    /// Control-channel bytes never read: lost before the capture point, cut by the snap length,
    /// or given up on past a reassembly bound (all sessions).
    pub control_gap_bytes: u64,
    /// Negotiations past the per-session limit: counted, not kept (all sessions).
    pub negotiations_over_limit: u64,
    /// Sessions of servers past the limit of servers pictured: told, but in no server's picture.
    pub server_sessions_over_limit: u64,
    pub sessions: u64,
    /// The most sessions held open at once: what memory followed.
    pub peak_open_sessions: u64,
    pub negotiations: u64,
    /// Transfers by verdict (model::transfer), of every settled session.
    pub transfers: Transfers,
    pub errors: u64,
    pub warnings: u64,
    pub infos: u64,
    /// Data bytes `--extract` did not write: the disk allowed (`--extract-max`) was used up,
    /// or writing failed. Shown when there are some.
    #[serde(skip_serializing_if = "is_zero")]
    pub extract_refused_bytes: u64,
    /// What went wrong writing `--extract`'s files, first thing only. Shown when something did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extract_error: Option<String>,
    /// Connections to the control port that never opened (unanswered, refused, unreachable):
    /// no session began on them. Shown when there are some.
    #[serde(skip_serializing_if = "is_zero")]
    pub control_connections_failed: u64,
    /// Connections that look like FTP data whose control channel is not in the capture.
    /// Shown when there are some.
    #[serde(skip_serializing_if = "is_zero")]
    pub data_connections_without_control: u64,
    /// New connections between an encrypted session's hosts not kept as its probable data
    /// connections: the session held 1,000 already (ftp::session::MAX_PROBABLE). Shown when
    /// there are some.
    #[serde(skip_serializing_if = "is_zero")]
    pub probable_channels_dropped: u64,
    /// Sessions no longer weighed for a new connection by host address: a host with more than
    /// 16 encrypted (or seen from the client only) sessions open at once, its oldest pushed out
    /// (correlate::hosts). Shown when there are some.
    #[serde(skip_serializing_if = "is_zero")]
    pub host_sessions_dropped: u64,
    /// Settled sessions let go before a copy of them (the other side of a NAT router in the
    /// same capture) could pair with them: more than 50,000 settled within 15 s
    /// (diagnose::across). Shown when there are some.
    #[serde(skip_serializing_if = "is_zero")]
    pub pairing_digests_dropped: u64,
    /// Client addresses whose failed logins were not followed: the password-guessing table was
    /// full of addresses still within a window (diagnose::guessing).
    #[serde(skip_serializing_if = "is_zero")]
    pub guessing_addresses_dropped: u64,
    /// Failed passive negotiations not kept for recognising a client's fallback to active mode:
    /// the table was full of client and server pairs still within the window
    /// (diagnose::fallback).
    #[serde(skip_serializing_if = "is_zero")]
    pub fallback_pairs_dropped: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
