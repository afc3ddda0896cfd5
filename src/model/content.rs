//! What crossed a data connection, when asked (`--hash`, `--extract`): the bytes its sender
//! carried, in stream order, hashed, and whether the capture saw them whole. And the interface
//! through which the analysis hands those bytes out to whoever keeps them (an extractor at the
//! edge): [`ContentSink`].
//!
//! Owns the vocabulary only. Must not touch: reassembly (tcp::reassembly), where the bytes go
//! (the extractor), the transfer's verdict (model::transfer).

use super::Side;
use serde::Serialize;

/// What crossed one data connection, in its sender's direction. `Default` is not asked: the
/// stream was only counted, and the record shows nothing of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Content {
    /// Who sent the bytes: the server for a download or a listing, the client for an upload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<Side>,
    /// Bytes seen in stream order (the gaps not counted).
    pub bytes: u64,
    /// SHA-256 and MD5 of the whole stream, lowercase hex; only when it was seen whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// Why there is no hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_absent: Option<HashAbsent>,
    /// Stream offset of the first byte the capture did not hold (with `hash_absent: gap`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap_at: Option<u64>,
    /// Every byte from the SYN's sequence number to the FIN's was seen, none missing.
    pub complete: bool,
}

/// Why a data stream has no hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HashAbsent {
    /// Neither `--hash` nor `--extract`: the stream was only counted.
    NotAsked,
    /// The capture missed bytes (lost before the capture point, cut by the snap length, or
    /// a hole the buffer budget could not wait for): `gap_at` says where the first one began.
    Gap,
    /// The sender's FIN was not seen: the capture ended mid-stream, or a RST ended it.
    NotClosed,
    /// The connection's SYN (or SYN-ACK) is not in the capture, or it was followed only after
    /// its first bytes: where the stream began is not known.
    NoStart,
}

impl Default for Content {
    fn default() -> Content {
        Content { sender: None, bytes: 0, sha256: None, md5: None, hash_absent: Some(HashAbsent::NotAsked), gap_at: None, complete: false }
    }
}

impl Content {
    /// Nothing was asked: the record leaves the content out, so that a run without `--hash`
    /// writes what it always did.
    pub fn not_asked(&self) -> bool {
        self.hash_absent == Some(HashAbsent::NotAsked)
    }
}

impl HashAbsent {
    pub fn as_str(self) -> &'static str {
        match self {
            HashAbsent::NotAsked => "not_asked",
            HashAbsent::Gap => "gap",
            HashAbsent::NotClosed => "not_closed",
            HashAbsent::NoStart => "no_start",
        }
    }
}

/// One direction of one data connection, as the analysis names it to a [`ContentSink`]: unique
/// in a run (a connection's first frame is its own; a 4-tuple reused is another connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamId {
    pub session: u32,
    pub negotiation: u32,
    /// The data connection's first frame (its SYN, when captured).
    pub conn_frame: u64,
    pub sender: Side,
}

/// A stream's end, with what names it: handed to the sink once, after its last bytes.
#[derive(Debug, Clone)]
pub struct StreamEnd<'a> {
    /// The transfer command's frame, when it was read.
    pub command_frame: Option<u64>,
    /// The transfer command as sent ("RETR reports/q3.pdf"), when it was read.
    pub command: Option<&'a str>,
    pub content: &'a Content,
}

/// Where the ordered bytes of data streams go as they pass: the analysis calls it on its own
/// thread, in stream order per stream, and never waits for an answer but [`Kept`].
pub trait ContentSink: Send {
    /// The stream's bytes from offset `at`. `command` is the transfer command when it was read
    /// by now (a name for what is being written).
    fn bytes(&mut self, stream: StreamId, command: Option<&str>, at: u64, bytes: &[u8]) -> Kept;
    /// `len` bytes of the stream from offset `at` were never seen.
    fn gap(&mut self, stream: StreamId, at: u64, len: u64);
    /// The stream is over: nothing more comes for it.
    fn end(&mut self, stream: StreamId, end: &StreamEnd<'_>);
    /// The session settled: negotiation `negotiation`'s transfer is judged (`record`, None when
    /// it served no transfer). Called after every stream of the session ended, so that what is
    /// said of a stream can say whether the transfer it carried was whole.
    fn settled(&mut self, session: u32, negotiation: u32, record: Option<&crate::model::transfer_record::TransferRecord>);
    /// The input is over: anything left is closed, and what went wrong is said, once.
    fn finish(&mut self) -> Result<(), String>;
}

/// What a sink did with bytes handed to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    Written,
    /// Not written: the disk allowed (`--extract-max`) is used up, or writing failed.
    Refused,
}
