//! The report: what ftpscope found, as plain values. The JSON output serialises it as is; the
//! text output and the terminal UI render it. Schema "ftpscope/1", documented in docs/schema.md.
//!
//! Owns the report's shape and nothing else: no analysis happens here.

pub mod text;

use crate::model::AddressClass;
pub use crate::model::{FindingKind, MatchedBy, Mode, NegotiationCommand, Outcome, Severity};
use serde::Serialize;

pub const SCHEMA: &str = "ftpscope/1";

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub capture: CaptureSummary,
    pub sessions: Vec<Session>,
    pub findings: Vec<Finding>,
}

impl Report {
    /// The worst severity among the findings, for the exit status.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CaptureSummary {
    /// Filled by the caller that read the files; the analyzer knows only frames.
    pub inputs: Vec<InputSummary>,
    pub frames: u64,
    /// Capture time of the first and last frame, seconds since the Unix epoch.
    pub first_time: Option<f64>,
    pub last_time: Option<f64>,
    pub tcp_connections: u64,
    /// Frames whose headers could not be decoded (too short, malformed).
    pub undecodable_frames: u64,
    /// Frames of a link type ftpscope does not decode.
    pub unsupported_frames: u64,
    /// Connections dropped from the flow table to bound memory (idle or over the limit).
    pub evicted_connections: u64,
    /// FTP sessions seen beyond the session limit: counted, not analysed.
    pub sessions_over_limit: u64,
    /// True when an input ended early; see inputs[].truncated.
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputSummary {
    pub path: String,
    /// Global number of this input's first frame (frames are numbered across inputs).
    pub first_frame: u64,
    pub frames: u64,
    /// Why the input ended early, when it did.
    pub truncated: Option<String>,
}

/// One FTP control connection and everything negotiated on it.
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub id: u32,
    pub client: String,
    pub server: String,
    pub control_port: u16,
    /// Frame of the control connection's SYN, or of its first packet when the capture began later.
    pub first_frame: u64,
    pub start_time: f64,
    pub user: Option<String>,
    /// The server's greeting (220), first line, for recognising the software.
    pub banner: Option<String>,
    pub tls: bool,
    /// Frame of the 234 reply after which the control channel is encrypted.
    pub tls_frame: Option<u64>,
    /// PROT P seen in clear text (data channels encrypted too).
    pub protected_data: bool,
    /// Frame where clear text resumed after TLS (CCC).
    pub clear_again_frame: Option<u64>,
    pub commands: u32,
    pub replies: u32,
    pub negotiations: Vec<Negotiation>,
    /// Negotiations beyond the per-session limit: counted, not kept.
    pub negotiations_over_limit: u64,
    /// Under TLS: connections opened between the same two hosts after the control channel was
    /// encrypted, most probably its data channels.
    pub probable_data_channels: Vec<Connection>,
    pub anomalies: Vec<Anomaly>,
    pub control: ControlStats,
    /// Internal: addresses as values, for diagnosis; not serialised.
    #[serde(skip)]
    pub client_addr: std::net::SocketAddr,
    #[serde(skip)]
    pub server_addr: std::net::SocketAddr,
    #[serde(skip)]
    pub password_frame: Option<u64>,
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
    /// Commands still waiting for a reply when the report was made.
    pub unanswered_commands: u32,
    pub closed: bool,
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
    pub time: f64,
    pub command: NegotiationCommand,
    pub mode: Mode,
    /// The command's argument as sent (PORT/EPRT/LPRT), printable, bounded.
    pub argument: Option<String>,
    pub reply_code: Option<u16>,
    pub reply_frame: Option<u64>,
    pub reply_text: Option<String>,
    /// "ip:port" the peer is told to use; for EPSV without an address, the control connection's
    /// server address with the given port. None when nothing usable was advertised.
    pub advertised: Option<String>,
    pub advertised_class: Option<AddressClass>,
    /// True when the address came from the control connection (EPSV), not from the wire text.
    pub address_implied: bool,
    /// Why the advertised address could not be parsed.
    pub malformed: Option<String>,
    pub data: DataChannel,
    #[serde(skip)]
    pub advertised_addr: Option<std::net::SocketAddr>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DataChannel {
    pub outcome: Outcome,
    pub matched_by: Option<MatchedBy>,
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
}

/// The facts of one TCP connection, as seen at this capture point.
#[derive(Debug, Clone, Serialize)]
pub struct Connection {
    /// The side that sent the SYN.
    pub client: String,
    pub server: String,
    pub syn_frame: u64,
    pub syn_time: f64,
    /// What became of it: established, refused, unanswered, unreachable or unknown.
    pub outcome: Outcome,
    /// SYNs sent (1 + retransmissions).
    pub syns: u32,
    pub synack_frame: Option<u64>,
    pub rst_frame: Option<u64>,
    /// "client" or "server": who reset it.
    pub rst_from: Option<&'static str>,
    pub unreachable_frame: Option<u64>,
    /// "ICMP 3/3 port unreachable from 10.0.0.1".
    pub unreachable: Option<String>,
    pub fin_frame: Option<u64>,
    pub bytes_to_server: u64,
    pub bytes_to_client: u64,
    pub last_frame: u64,
    pub last_time: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// Findings of one kind and cause in one session are reported once, with the frames of
    /// the first few and this count (689 identical PASV replies are one problem).
    pub occurrences: u32,
    /// What makes two findings "the same" for that merge.
    #[serde(skip)]
    pub group: String,
    pub severity: Severity,
    pub session: u32,
    pub frames: Vec<u64>,
    pub summary: String,
    pub explanation: String,
    pub fix: Vec<String>,
    pub details: serde_json::Value,
}

