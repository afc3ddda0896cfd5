//! ftpscope: a packet-inspecting FTP session analyzer.
//!
//! Data flows one way: packets in, a report out.
//!
//! ```text
//! capture (file)  ->  decode (link, IP, TCP/ICMP)  ->  tcp (flows, reassembly)
//!     ->  ftp (control-channel lines, replies, negotiations)  ->  analyzer (sessions, data channels)
//!     ->  diagnose (findings)  ->  report (JSON, text)
//! ```
//!
//! Everything between `capture` and `report` is deterministic: it is fed packets with their
//! capture timestamps and frame numbers, never reads a clock or a socket, and can be asked for a
//! [`report::Report`] at any moment. Files, live capture and tests drive the same [`analyzer::Analyzer`].

pub mod addr;
pub mod analyzer;
pub mod capture;
pub mod correlate;
pub mod decode;
pub mod diagnose;
pub mod fixes;
pub mod flow;
pub mod ftp;
pub mod outcome;
pub mod report;
pub mod session;
pub mod tcp;
pub mod text;

/// A capture timestamp in nanoseconds since the Unix epoch. Comes from the capture, never a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_secs_nanos(secs: i64, nanos: i64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
    }
    /// Seconds as a float, for reports.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
}
