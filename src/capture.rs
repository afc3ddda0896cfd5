//! Reading saved captures (pcap and pcapng) as a stream of frames. The I/O edge for files.
//!
//! Owns: file formats, timestamps, interfaces' link types, frame numbering. Must not touch:
//! decoding of the frames' bytes, analysis.

use crate::decode::LinkType;
use crate::Timestamp;

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
