//! The domain's words, shared by every stage: capture time, frames, data-channel modes and
//! commands, outcomes, address classes, severities, finding kinds, fixes, a transfer's verdict
//! and the events the analyzer emits. Lower stages use these types; the report and the outputs
//! are views of them.
//!
//! Owns vocabulary only: no parsing, no analysis, no I/O. The one rule here is what a transfer's
//! verdict is (transfer.rs): a definition over a settled record's values, kept beside the type so
//! that every count and every later extension reads the same one.

// Packet data and capture time reach every module below: no arithmetic that can overflow, no
// index that can panic (issue 20). An `allow` is narrow and says why its value stays small.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

pub mod address;
pub mod cause;
pub mod content;
pub mod event;
pub mod finding;
pub mod fix;
pub mod intent;
pub mod login;
pub mod notation;
pub mod points;
pub mod record;
pub mod server;
pub mod software;
pub mod text_sample;
pub mod transfer;
pub mod transfer_record;

pub use address::{classify, AddressClass};
pub use content::{Content, ContentSink, HashAbsent, Kept, StreamEnd, StreamId};
pub use event::{CommandLog, CommandReply, Event, Stats, Summary};
pub use finding::{
    ChannelSeen, Consequence, DataEnd, DataEvidence, Details, Endpoints, FailedHow, FailureCause, Finding, FindingKind, Rejection, Text,
    Tried, Via,
};
pub use fix::{Crossed, Fix, Known, PortRange, ServerSetup};
pub use intent::Intent;
pub use login::{Login, LoginReason, LoginStep, OpenAlong, Refusal, ServiceReason};
pub use record::{
    Anomaly, Connection, ControlLine, ControlStats, DataChannel, Directions, EndReason, Icmp, Negotiation, PassiveFailure, Protection,
    Session, Side, Timeline,
};
pub use server::{Server, ServerPicture};
pub use software::Software;
pub use transfer::{Failure, Transfers, Verdict};

use serde::Serialize;

/// A capture timestamp in nanoseconds since the Unix epoch. Comes from the capture, never a clock.
/// Serialised as seconds (a float), as in Wireshark's `frame.time_epoch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_secs_f64())
    }
}

impl Timestamp {
    pub fn from_secs_nanos(secs: i64, nanos: i64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
    }
    pub fn from_secs(secs: i64) -> Self {
        Timestamp::from_secs_nanos(secs, 0)
    }
    /// Seconds as a float, for reports. The whole seconds and the fraction are added once, so
    /// the float is the one nearest the capture's time and a microsecond time prints as its own
    /// digits: 1795634789.51253, where dividing the nanoseconds (1.8e18, already rounded to a
    /// float) printed 1795634789.5125299.
    pub fn as_secs_f64(self) -> f64 {
        let (secs, nanos) = (self.0.div_euclid(1_000_000_000), self.0.rem_euclid(1_000_000_000));
        secs as f64 + nanos as f64 / 1e9
    }
    /// Nanoseconds from `earlier` to `self`, never negative (capture clocks can step back).
    pub fn since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0).max(0)
    }
    pub fn plus_ns(self, ns: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ns))
    }
}

/// The link-layer header type of a capture interface (pcap LINKTYPE_ values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    Ethernet,
    /// Linux cooked capture v1 (`tcpdump -i any`).
    LinuxSll,
    /// Linux cooked capture v2 (`tcpdump -y LINUX_SLL2`).
    LinuxSll2,
    /// Raw IP, version taken from the first nibble (LINKTYPE_RAW, DLT_RAW 12/14).
    Raw,
    Ipv4,
    Ipv6,
    /// BSD loopback (DLT_NULL, host byte order family) and OpenBSD DLT_LOOP (network order).
    Null,
    Loop,
    /// Anything else: its packets decode to [`Decoded::Unsupported`].
    Other(u32),
}

impl LinkType {
    /// Maps a pcap/pcapng LINKTYPE_ number.
    pub fn from_linktype(value: u32) -> LinkType {
        match value {
            1 => LinkType::Ethernet,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            12 | 14 | 101 => LinkType::Raw,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            0 => LinkType::Null,
            108 => LinkType::Loop,
            other => LinkType::Other(other),
        }
    }
}

/// One captured frame, borrowed from the reader's buffer for the duration of the callback.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// 1-based, counted across all inputs of one run (Wireshark's frame number for one file).
    pub number: u64,
    pub ts: Timestamp,
    pub link: LinkType,
    pub data: &'a [u8],
    /// Length on the wire; larger than `data.len()` when the snap length cut the frame.
    pub orig_len: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Active,
    Passive,
}

#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NegotiationCommand {
    PORT,
    EPRT,
    LPRT,
    PASV,
    EPSV,
    LPSV,
}

impl std::fmt::Debug for NegotiationCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl NegotiationCommand {
    /// Its name on the wire: what `{:?}` writes too (the one list of names), and what a busy
    /// report writes without the formatting machinery.
    pub fn as_str(self) -> &'static str {
        match self {
            NegotiationCommand::PORT => "PORT",
            NegotiationCommand::EPRT => "EPRT",
            NegotiationCommand::LPRT => "LPRT",
            NegotiationCommand::PASV => "PASV",
            NegotiationCommand::EPSV => "EPSV",
            NegotiationCommand::LPSV => "LPSV",
        }
    }

    pub fn mode(self) -> Mode {
        match self {
            NegotiationCommand::PORT | NegotiationCommand::EPRT | NegotiationCommand::LPRT => Mode::Active,
            _ => Mode::Passive,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Established,
    Refused,
    Unanswered,
    Unreachable,
    NotAttempted,
    Rejected,
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Established => "established",
            Outcome::Refused => "refused",
            Outcome::Unanswered => "unanswered",
            Outcome::Unreachable => "unreachable",
            Outcome::NotAttempted => "not_attempted",
            Outcome::Rejected => "rejected",
            Outcome::Unknown => "unknown",
        }
    }
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Refused | Outcome::Unanswered | Outcome::Unreachable)
    }
}

/// How the data connection was tied to its negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// To the advertised address and port.
    Advertised,
    /// Passive: to the control connection's server address with the advertised port (the client
    /// ignored the advertised address). Active: from the server to the advertised port.
    ControlAddress,
    /// To the advertised port on another address (NAT between the peers).
    PortOnly,
    /// Passive, with only the client's side captured: the client's next connection to the
    /// server (or to an unroutable address) after its command; the reply naming the endpoint is
    /// not in the capture.
    AfterCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn a_time_prints_as_the_capture_wrote_it() {
        // Microseconds, as a classic pcap holds them: the float nearest the time, whose shortest
        // form is the capture's own digits (dividing the nanoseconds gave 1795634789.5125299).
        assert_eq!(Timestamp::from_secs_nanos(1_795_634_789, 512_530_000).as_secs_f64().to_string(), "1795634789.51253");
        assert_eq!(Timestamp::from_secs_nanos(1_795_634_814, 374_782_000).as_secs_f64().to_string(), "1795634814.374782");
        // Before 1970 (a pcapng if_tsoffset can put it there), the fraction still counts up.
        assert_eq!(Timestamp(-1_500_000_000).as_secs_f64(), -1.5);
        // The extremes do not overflow.
        assert!(Timestamp(i64::MIN).as_secs_f64() < -9.2e9);
        assert!(Timestamp(i64::MAX).as_secs_f64() > 9.2e9);
    }
}
