//! Capture sources and sinks: saved files (pcap, pcapng) read as [`Frame`]s, the analyzer's own
//! input type, numbered across inputs; classic pcap written by [`writer::PcapWriter`]; a
//! progress bar for long reads ([`progress::Progress`]).

// Packet data and capture time reach every module below: no arithmetic that can overflow, no
// index that can panic (issue 20). An `allow` is narrow and says why its value stays small.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

pub mod background;
#[cfg(feature = "live")]
pub mod bpf;
pub mod duplicates;
pub mod file;
pub mod progress;
pub mod writer;

pub use crate::model::Frame;
pub use file::{read_capture, read_path, CaptureError, ReadSummary, Source};
pub use writer::{PcapFormat, PcapWriter};
