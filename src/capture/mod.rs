//! Capture sources: saved files (pcap, pcapng) today. Each source yields [`Frame`]s, the
//! analyzer's own input type, numbered across inputs.

pub mod file;

pub use crate::model::Frame;
pub use file::{read_capture, read_path, CaptureError, ReadSummary, Source};
