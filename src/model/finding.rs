//! A finding: one problem (or fact worth knowing) with its evidence frames, a plain-words
//! explanation and the fixes, as values.

use super::{AddressClass, FindingKind, Fix, Mode, Outcome, Severity};
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};

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
    /// Each fix as `{"action": ..., its parameters, "text": the rendered advice}`.
    #[serde(serialize_with = "crate::report::fix::serialize_fixes")]
    pub fix: Vec<Fix>,
    pub details: Details,
}

/// A finding's facts as values, one shape per family (docs/schema.md lists the keys): typed, so
/// that diagnosis builds no JSON and the output serialises them directly.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Details {
    /// nonstandard_control_port
    Port { port: u16 },
    /// cleartext_credentials
    Credentials { user: Option<String>, anonymous: bool },
    /// control_channel_encrypted
    Encrypted { probable_data_channels: Vec<ChannelSeen>, protected_data: bool },
    /// data_connection_failed, probable under TLS
    ProbableFailed { probable: bool, outcome: Outcome, connection: ChannelSeen },
    /// data_connection_failed of a negotiation
    Failed { mode: Mode, outcome: Outcome, connection: ChannelSeen },
    /// malformed_reply / malformed_command from a line that is not one
    Line { reason: String, excerpt: String },
    /// malformed_reply / malformed_command from an address that could not be parsed
    Unparsable { side: &'static str, reason: &'static str, text: Option<String> },
    /// address_mismatch
    Mismatch { side: &'static str, advertised: SocketAddr, control_address: IpAddr },
    /// bounce_attempt
    Bounce { side: &'static str, address: IpAddr, client: IpAddr },
    /// data_command_rejected
    Rejected { code: u16, text: String, command: Option<String> },
    /// private_address_leak
    Leak { side: &'static str, address: IpAddr, port: u16, class: AddressClass, worked_around: bool, outcome: Outcome, alg_suspected: bool },
    /// alg_rewrite seen from one side: a private PORT whose connection still arrived
    RewriteSeen { advertised: SocketAddr, connection: Endpoints },
    /// alg_rewrite across the two copies of one connection
    RewriteAcross { inside: SocketAddr, outside: SocketAddr, inside_session: u32, outside_session: u32 },
}

/// A connection named in a finding.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Endpoints {
    pub client: SocketAddr,
    pub server: SocketAddr,
}

/// A data connection named in a finding, with its SYN's frame (and, in a list, its outcome).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ChannelSeen {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub syn_frame: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}
