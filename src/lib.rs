//! ftpscope: a packet-inspecting FTP session analyzer.
//!
//! Data flows one way: packets in, events and a report out.
//!
//! ```text
//! capture (file | live)  ->  decode (link, IP, TCP/ICMP)  ->  tcp (flows, reassembly)
//!     ->  ftp (control-channel lines, replies, negotiations, sessions)
//!     ->  correlate (negotiation <-> data connection, outcomes)  ->  diagnose (findings, fixes)
//!     ->  report (JSON, NDJSON, text)
//! ```
//!
//! Everything between `capture` and `report` is deterministic: the [`analyzer::Analyzer`] is
//! fed frames with their capture timestamps and frame numbers, told when time passes without
//! packets, and asked for the [`model::Event`]s that became known. It never reads a clock or a
//! socket. Files, live capture ([`live`]) and tests drive the same analyzer through
//! [`pipeline`]. Start reading at [`model`].

pub mod analyzer;
pub mod capture;
pub mod correlate;
pub mod decode;
pub mod diagnose;
pub mod drive;
pub mod extract;
pub mod ftp;
pub mod interned;
pub mod live;
pub mod model;
pub mod pipeline;
pub mod probe;
pub mod problems;
pub mod report;
pub mod tcp;
pub mod tui;

#[cfg(test)]
mod growth;

pub use model::Timestamp;

/// A hash map for keys that whoever is on the wire chooses (addresses, ports, text from the
/// control channel): seeded per process (foldhash), so that nobody can aim collisions at it.
/// Maps keyed by ftpscope's own numbers use `rustc_hash::FxHashMap`.
pub type AddrMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
