//! What the prober's own sockets saw, in order: the control lines, and per data mode the
//! negotiation and what became of its data connection. Plain values, filled by the session's
//! I/O ([`super::session`]), read by the verdicts ([`super::verdict`]) and, without a capture,
//! turned into the analysis's session record ([`super::record`]).

use crate::model::{NegotiationCommand, Side};
use serde::Serialize;
use std::net::SocketAddr;
use std::time::SystemTime;

/// One whole reply: its code and its text (the last line's, or the first's of a multi-line one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

/// A control line as the prober sent or read it (PASS masked before it is kept).
#[derive(Debug, Clone)]
pub struct Line {
    pub at: SystemTime,
    pub from: Side,
    pub text: String,
}

/// What became of a TCP connection the prober opened or waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dial {
    Established,
    /// A RST answered the SYN.
    Refused,
    /// Nothing answered within the step's timeout (passive), or the server never connected
    /// (active).
    Unanswered,
    /// An ICMP error came back (no route, host unreachable).
    Unreachable,
}

impl Dial {
    /// As the JSON names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Dial::Established => "established",
            Dial::Refused => "refused",
            Dial::Unanswered => "unanswered",
            Dial::Unreachable => "unreachable",
        }
    }
}

/// One data mode tried: the negotiation, the connection, the listing.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub command: NegotiationCommand,
    /// The argument sent (PORT/EPRT: the prober's own address).
    pub argument: Option<String>,
    pub sent_at: SystemTime,
    pub reply: Option<Reply>,
    pub reply_at: Option<SystemTime>,
    /// The endpoint the reply (passive) or the command (active) named.
    pub advertised: Option<SocketAddr>,
    /// Passive: the endpoint the prober connected to. Active: the prober's listening endpoint.
    pub dialed: Option<SocketAddr>,
    /// Active: where the server's connection came from.
    pub peer: Option<SocketAddr>,
    /// Passive: the prober's end of the data connection, once it opened.
    pub local_end: Option<SocketAddr>,
    pub dial: Option<Dial>,
    pub dial_at: Option<SystemTime>,
    /// The listing command ("NLST", "LIST") when it was sent.
    pub listing: Option<String>,
    pub listing_at: Option<SystemTime>,
    /// The listing's final reply (226, 425, 550 ...).
    pub transfer: Option<Reply>,
    pub transfer_at: Option<SystemTime>,
    pub bytes: u64,
}

impl Attempt {
    pub fn new(command: NegotiationCommand, sent_at: SystemTime) -> Attempt {
        Attempt {
            command,
            argument: None,
            sent_at,
            reply: None,
            reply_at: None,
            advertised: None,
            dialed: None,
            peer: None,
            local_end: None,
            dial: None,
            dial_at: None,
            listing: None,
            listing_at: None,
            transfer: None,
            transfer_at: None,
            bytes: 0,
        }
    }
}

/// Why the session ended before every mode was tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Stopped {
    /// The control connection did not open.
    Control { dial: Dial },
    /// The server refused the session or the login, with its reply.
    Refused { step: String, reply: Reply },
    /// A reply never came within the step's timeout.
    NoReply { step: String },
    /// The server broke the protocol (an overlong reply, the connection closed mid-session).
    Broken { step: String, why: String },
    /// The TLS handshake failed (the certificate did not verify, without `--insecure`).
    Tls { why: String },
    /// The whole probe's time ran out.
    OutOfTime,
}

/// The control connection in TLS (`--tls`).
#[derive(Debug, Clone, Serialize)]
pub struct TlsSeen {
    /// The 234 reply to AUTH TLS, after which the control connection is encrypted.
    #[serde(skip)]
    pub at: SystemTime,
    /// PROT P accepted: the data connections in TLS too.
    pub protected_data: bool,
    /// Why the server's certificate did not verify (expired, another name, self-signed).
    pub certificate_problem: Option<String>,
}

/// Everything the sockets saw.
#[derive(Debug, Clone)]
pub struct Observed {
    pub server: SocketAddr,
    /// The control connection's local end; when it never opened, the address it was sent from
    /// (port 0).
    pub local: Option<SocketAddr>,
    pub started: SystemTime,
    pub connected_at: Option<SystemTime>,
    pub ended: SystemTime,
    pub lines: Vec<Line>,
    pub banner: Option<String>,
    pub user: String,
    /// The login's last reply: 230 lets in.
    pub login: Option<Reply>,
    /// FEAT listed EPSV / EPRT (None: FEAT was refused or not answered).
    pub features: Option<Vec<String>>,
    pub attempts: Vec<Attempt>,
    pub tls: Option<TlsSeen>,
    pub stopped: Option<Stopped>,
    /// Control lines beyond the bound: cut, counted.
    pub overlong_lines: u64,
}
