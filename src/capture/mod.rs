//! Capture sources and sinks: saved files (pcap, pcapng) read as [`Frame`]s, the analyzer's own
//! input type, numbered across inputs; classic pcap written by [`writer::PcapWriter`]; a
//! progress bar for long reads ([`progress::Progress`]).

pub mod background;
pub mod duplicates;
pub mod file;
pub mod progress;
pub mod writer;

pub use crate::model::Frame;
pub use file::{read_capture, read_path, CaptureError, ReadSummary, Source};
pub use writer::{PcapFormat, PcapWriter};
