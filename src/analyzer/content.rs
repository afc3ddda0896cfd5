//! What a data connection carried, when asked (`Settings::hash_data`): each direction's bytes
//! put in stream order as they pass (tcp::reassembly, the control channel's rules:
//! retransmissions, overlaps and out-of-order segments), hashed (SHA-256, MD5), handed to the
//! [`ContentSink`] in order, and at the connection's end judged whole or not.
//!
//! Owns the per-connection stream state and the rule for "seen whole": every byte from the
//! SYN's sequence number to the FIN's, none missing. Must not touch: where bytes go (the sink
//! does), the budget's total (the analyzer sets this flow's share), the transfer's verdict.

use crate::decode::TcpSegment;
use crate::model::{Content, ContentSink, HashAbsent, Kept, Mode, Side, StreamEnd, StreamId};
use crate::tcp::flow::{Conn, Dir};
use crate::tcp::reassembly::{Chunk, Reassembler};
use md5::{Digest, Md5};
use sha2::Sha256;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Out-of-order bytes one data stream may hold while a hole waits for its retransmission: a
/// data connection has a window in flight (megabytes on a fast path), a control channel does
/// not. The buffer budget bounds all streams together.
const DATA_BUFFERED: usize = 16 << 20;
/// Out-of-order segments one data stream may hold: the byte bound in full-sized segments.
const DATA_SEGMENTS: usize = 16 * 1024;

/// The sink every followed stream hands its bytes to (the analysis runs on one thread: the
/// lock is never contended).
pub(super) type SharedSink = Arc<Mutex<Box<dyn ContentSink>>>;

/// The sink, even if a panic elsewhere poisoned its lock (what it holds is still whole files).
pub(super) fn lock(sink: &SharedSink) -> MutexGuard<'_, Box<dyn ContentSink>> {
    sink.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The content of one data connection: each direction that sent something.
pub(super) struct DataContent {
    session: u32,
    negotiation: u32,
    conn_frame: u64,
    /// The negotiation's mode: which end of the connection is the FTP server.
    mode: Mode,
    /// Followed only after bytes had passed (its negotiation was read late): its start was
    /// not seen by this state.
    late: bool,
    /// `[toward the TCP server, toward the TCP client]`.
    streams: [Option<Box<Stream>>; 2],
    /// Where the bytes go; None: nowhere (`--hash` alone).
    sink: Option<SharedSink>,
}

struct Stream {
    reassembler: Reassembler,
    digest: Digest_,
    /// The stream began at the SYN's sequence number (it was captured, and this state saw
    /// every packet after it).
    from_syn: bool,
    /// Stream offset of the sender's FIN.
    fin_at: Option<u64>,
}

/// The ordered bytes as they come out of reassembly: hashed until the first gap, handed on.
struct Digest_ {
    sha256: Sha256,
    md5: Md5,
    /// Stream offset of the next byte out.
    next: u64,
    /// Bytes seen (handed out as data).
    bytes: u64,
    first_gap: Option<u64>,
    /// Bytes the sink refused (its disk allowance used up).
    refused: u64,
}

/// A settled session's transfers judged: the sink learns each followed negotiation's record
/// (its streams all ended when the session's flows settled).
pub(super) fn settled(sink: &SharedSink, record: &crate::model::Session) {
    let mut sink = lock(sink);
    for (i, n) in record.negotiations.iter().enumerate() {
        if n.data.content.not_asked() {
            continue;
        }
        let Ok(negotiation) = u32::try_from(i) else { break };
        sink.settled(record.id, negotiation, n.data.record.as_ref());
    }
}

/// A discarding sink: `--hash` alone keeps nothing.
struct Discard;

impl ContentSink for Discard {
    fn bytes(&mut self, _: StreamId, _: Option<&str>, _: u64, _: &[u8]) -> Kept {
        Kept::Written
    }
    fn gap(&mut self, _: StreamId, _: u64, _: u64) {}
    fn end(&mut self, _: StreamId, _: &StreamEnd<'_>) {}
    fn settled(&mut self, _: u32, _: u32, _: Option<&crate::model::transfer_record::TransferRecord>) {}
    fn finish(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// What the stream's end needs to know of its negotiation's transfer.
pub(super) struct TransferNames<'a> {
    pub command_frame: Option<u64>,
    pub command: Option<&'a str>,
}

impl DataContent {
    /// The content of `conn`, the data connection of `session`'s negotiation `negotiation`.
    pub(super) fn new(session: u32, negotiation: u32, mode: Mode, conn: &Conn, sink: Option<SharedSink>) -> Box<DataContent> {
        let late = conn.bytes_to_server > 0 || conn.bytes_to_client > 0;
        Box::new(DataContent { session, negotiation, conn_frame: conn.first_frame, mode, late, streams: [None, None], sink })
    }

    /// One segment of the connection (its facts already recorded on `conn`). Returns the bytes
    /// the sink refused.
    pub(super) fn segment(&mut self, conn: &Conn, seg: &TcpSegment<'_>, command: Option<&str>) -> u64 {
        let shared = self.sink.clone();
        let mut guard = shared.as_ref().map(lock);
        let sink: &mut dyn ContentSink = match &mut guard {
            Some(guard) => &mut ***guard,
            None => &mut Discard,
        };
        let dir = conn.dir_of(seg.src);
        let mut refused = 0;
        // Data on a SYN follows the SYN's own sequence number.
        let seq = if seg.flags.syn { seg.seq.wrapping_add(1) } else { seg.seq };
        if !seg.payload.is_empty() || seg.missing > 0 || seg.flags.fin {
            let id = self.id(dir);
            let late = self.late;
            let stream = dir.of_mut(&mut self.streams).get_or_insert_with(|| Stream::new(conn, dir, late));
            let Stream { reassembler, digest, fin_at, .. } = &mut **stream;
            let before = digest.refused;
            reassembler.push(seq, seg.payload, seg.missing, &mut |chunk| digest.take(chunk, id, command, sink));
            if seg.flags.fin && fin_at.is_none() {
                let len = u32::try_from(seg.payload.len()).unwrap_or(u32::MAX).saturating_add(seg.missing);
                *fin_at = reassembler.offset_of(seq.wrapping_add(len));
            }
            refused = digest.refused.saturating_sub(before);
        }
        // The peer's acknowledgement: a hole it acknowledged was lost before the capture point.
        if seg.flags.ack {
            let other = opposite(dir);
            let id = self.id(other);
            if let Some(stream) = other.of_mut(&mut self.streams) {
                let Stream { reassembler, digest, .. } = &mut **stream;
                let before = digest.refused;
                reassembler.acked(seg.ack, &mut |chunk| digest.take(chunk, id, command, sink));
                refused = refused.saturating_add(digest.refused.saturating_sub(before));
            }
        }
        refused
    }

    /// Out-of-order bytes held by both directions.
    pub(super) fn buffered(&self) -> usize {
        self.streams.iter().flatten().map(|s| s.reassembler.buffered_bytes()).sum()
    }

    /// The buffer budget is spent: the holes are given up (gaps) and what waited behind them
    /// is handed out.
    pub(super) fn give_up_holes(&mut self, command: Option<&str>) {
        let shared = self.sink.clone();
        let mut guard = shared.as_ref().map(lock);
        let sink: &mut dyn ContentSink = match &mut guard {
            Some(guard) => &mut ***guard,
            None => &mut Discard,
        };
        for dir in [Dir::ToServer, Dir::ToClient] {
            let id = self.id(dir);
            if let Some(stream) = dir.of_mut(&mut self.streams) {
                let Stream { reassembler, digest, .. } = &mut **stream;
                reassembler.flush(&mut |chunk| digest.take(chunk, id, command, sink));
            }
        }
    }

    /// The connection is over (or its session settled): what waited behind holes goes out
    /// after gaps, each direction that sent bytes ends at the sink, and the content of the
    /// direction that carried the transfer is its record's.
    pub(super) fn end(mut self, conn: &Conn, upload: Option<bool>, names: &TransferNames<'_>) -> Content {
        self.give_up_holes(names.command);
        let shared = self.sink.take();
        let mut guard = shared.as_ref().map(lock);
        let sink: &mut dyn ContentSink = match &mut guard {
            Some(guard) => &mut ***guard,
            None => &mut Discard,
        };
        let sender_dir = self.sender_dir(upload);
        let mut chosen = None;
        for dir in [Dir::ToServer, Dir::ToClient] {
            let id = self.id(dir);
            let late = self.late;
            let stream = dir.of_mut(&mut self.streams).take();
            if stream.is_none() && dir != sender_dir {
                continue;
            }
            let stream = stream.unwrap_or_else(|| Stream::new(conn, dir, late));
            let content = stream.content(id.sender);
            if content.bytes > 0 || dir == sender_dir {
                sink.end(id, &StreamEnd { command_frame: names.command_frame, command: names.command, content: &content });
            }
            if dir == sender_dir {
                chosen = Some(content);
            }
        }
        chosen.unwrap_or_default()
    }

    /// The direction that carried the transfer: the command's (an upload is the client's),
    /// else the one that sent the most.
    fn sender_dir(&self, upload: Option<bool>) -> Dir {
        let ftp_server_dir = match self.mode {
            Mode::Passive => Dir::ToClient,
            Mode::Active => Dir::ToServer,
        };
        match upload {
            Some(false) => ftp_server_dir,
            Some(true) => opposite(ftp_server_dir),
            None => {
                let sent = |d: Dir| d.of(&self.streams).as_ref().map_or(0, |s| s.digest.bytes);
                if sent(opposite(ftp_server_dir)) > sent(ftp_server_dir) {
                    opposite(ftp_server_dir)
                } else {
                    ftp_server_dir
                }
            }
        }
    }

    fn id(&self, dir: Dir) -> StreamId {
        // The FTP server is the TCP server in passive mode, the TCP client in active mode.
        let from_tcp_server = dir == Dir::ToClient;
        let sender = if from_tcp_server == (self.mode == Mode::Passive) { Side::Server } else { Side::Client };
        StreamId { session: self.session, negotiation: self.negotiation, conn_frame: self.conn_frame, sender }
    }
}

fn opposite(dir: Dir) -> Dir {
    match dir {
        Dir::ToServer => Dir::ToClient,
        Dir::ToClient => Dir::ToServer,
    }
}

impl Stream {
    /// The stream `dir` of `conn`, starting at its sender's SYN when that was captured (and
    /// this state saw everything after it).
    fn new(conn: &Conn, dir: Dir, late: bool) -> Box<Stream> {
        let isn = match dir {
            Dir::ToServer => conn.client_isn,
            Dir::ToClient => conn.server_isn,
        };
        let mut reassembler = Reassembler::new(DATA_BUFFERED).max_segments(DATA_SEGMENTS);
        let from_syn = !late && isn.is_some();
        if let (Some(isn), false) = (isn, late) {
            reassembler.start_at(isn.wrapping_add(1));
        }
        let digest = Digest_ { sha256: Sha256::new(), md5: Md5::new(), next: 0, bytes: 0, first_gap: None, refused: 0 };
        Box::new(Stream { reassembler, digest, from_syn, fin_at: None })
    }

    /// The stream as its record tells it, once everything it held has been handed out.
    fn content(self: Box<Self>, sender: Side) -> Content {
        let Stream { digest, from_syn, fin_at, .. } = *self;
        // The FIN's offset beyond the last byte seen: the stream's tail never came.
        let tail_missing = fin_at.filter(|&fin| digest.next < fin).map(|_| digest.next);
        let gap_at = digest.first_gap.or(tail_missing);
        let hash_absent = if !from_syn {
            Some(HashAbsent::NoStart)
        } else if gap_at.is_some() {
            Some(HashAbsent::Gap)
        } else if fin_at.is_none() {
            Some(HashAbsent::NotClosed)
        } else {
            None
        };
        let complete = hash_absent.is_none();
        let (sha256, md5) = if complete { (Some(hex(&digest.sha256.finalize())), Some(hex(&digest.md5.finalize()))) } else { (None, None) };
        Content { sender: Some(sender), bytes: digest.bytes, sha256, md5, hash_absent, gap_at, complete }
    }
}

impl Digest_ {
    fn take(&mut self, chunk: Chunk<'_>, id: StreamId, command: Option<&str>, sink: &mut dyn ContentSink) {
        match chunk {
            Chunk::Data(bytes) => {
                // A hash of bytes after a gap would be of another file: no more hashing.
                if self.first_gap.is_none() {
                    self.sha256.update(bytes);
                    self.md5.update(bytes);
                }
                let len = bytes.len() as u64;
                if sink.bytes(id, command, self.next, bytes) == Kept::Refused {
                    self.refused = self.refused.saturating_add(len);
                }
                self.bytes = self.bytes.saturating_add(len);
                self.next = self.next.saturating_add(len);
            }
            Chunk::Gap(len) => {
                self.first_gap.get_or_insert(self.next);
                sink.gap(id, self.next, len);
                self.next = self.next.saturating_add(len);
            }
        }
    }
}

/// Lowercase hex, as sha256sum and md5sum print it.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}
