//! Reading on a thread of its own: the sources are parsed there, each frame is decoded there
//! (link, IP and TCP headers: pure work that takes the analysis' critical path no time), and the
//! frames cross to the analysis in batches (copied out of the reader's buffer) through a bounded
//! channel, so that reading and analysis use both cores and memory stays bounded when the
//! analysis is slower.
//! Live capture (`crate::live`) fills the same batches from an interface.
//!
//! Owns the reader thread and the batch format. Must not touch the analysis.

use super::progress::Progress;
use super::{CaptureError, Frame, ReadSummary, Source};
use crate::decode::{DecodeError, Decoded, Detached, Plain};
use crate::model::{LinkType, Timestamp};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// A batch is sent when it holds this many frames or bytes. 256 KiB, not 1 MiB: as fast on the
/// 1 GiB benchmark, and the batches in flight weigh a quarter (peak memory there 40 MiB instead
/// of 46 to 58 MiB).
const BATCH_FRAMES: usize = 2048;
const BATCH_BYTES: usize = 256 << 10;
/// Batches in flight: the reader waits when the analysis is this far behind.
const IN_FLIGHT: usize = 8;

/// Frames copied out of the reader's buffer, to cross a thread.
#[derive(Default)]
pub struct FrameBatch {
    data: Vec<u8>,
    frames: Vec<Meta>,
    /// What the frames marked [`Decoding::Detached`] decoded to, in frame order.
    detached: Vec<Detached>,
}

struct Meta {
    number: u64,
    ts: Timestamp,
    link: LinkType,
    start: usize,
    len: usize,
    orig_len: u32,
    decoded: Decoding,
}

/// What became of a frame's decoding when it was added. Kept small: a Meta is written and read
/// once per packet (80 bytes with the fast path's 36; 176 when every Meta held a Detached).
enum Decoding {
    /// The common case, read by the fast path.
    Plain(Plain),
    /// Anything else: the batch's next [`Detached`].
    Detached,
    /// Left to the analysis.
    Undecoded,
}

impl FrameBatch {
    /// Empty, with room for a full batch (and a last frame of up to 64 KiB past its byte limit).
    pub(crate) fn with_room() -> FrameBatch {
        FrameBatch { data: Vec::with_capacity(BATCH_BYTES + (64 << 10)), frames: Vec::with_capacity(BATCH_FRAMES), detached: Vec::new() }
    }

    /// Copies `f` in, decoded here (the reader thread has time to spare; the analysis has not).
    pub fn push(&mut self, f: &Frame<'_>) {
        let decoded = match Plain::decode(f.link, f.data) {
            Some(plain) => Decoding::Plain(plain),
            None => {
                self.detached.push(Detached::decode(f.link, f.data, f.orig_len));
                Decoding::Detached
            }
        };
        self.add(f, decoded);
    }

    /// Adds a frame without decoding it: for a capture thread, where every cycle per packet
    /// counts against the kernel's buffer; the analysis decodes it.
    pub fn push_undecoded(&mut self, f: &Frame<'_>) {
        self.add(f, Decoding::Undecoded);
    }

    fn add(&mut self, f: &Frame<'_>, decoded: Decoding) {
        let start = self.data.len();
        self.data.extend_from_slice(f.data);
        self.frames.push(Meta { number: f.number, ts: f.ts, link: f.link, start, len: f.data.len(), orig_len: f.orig_len, decoded });
    }

    pub fn is_full(&self) -> bool {
        self.frames.len() >= BATCH_FRAMES || self.data.len() >= BATCH_BYTES
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Empty again, its buffers kept.
    fn clear(&mut self) {
        self.data.clear();
        self.frames.clear();
        self.detached.clear();
    }

    /// The frames with what decoding them gave (for [`crate::analyzer::Analyzer::feed_decoded`]).
    pub fn packets(&self) -> Packets<'_> {
        Packets { batch: self, frames: self.frames.iter(), detached: self.detached.iter() }
    }
}

/// A batch's frames with what decoding them gave, in order.
pub struct Packets<'a> {
    batch: &'a FrameBatch,
    frames: std::slice::Iter<'a, Meta>,
    detached: std::slice::Iter<'a, Detached>,
}

impl<'a> Iterator for Packets<'a> {
    type Item = (Frame<'a>, Result<Decoded<'a>, DecodeError>);

    // Inlined into the analysis' loop, the frame and its segment are built where they are used:
    // called, they went through memory, 32 more instructions per packet on the analysis thread
    // (callgrind, a-10000).
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        let m = self.frames.next()?;
        // Each frame's bytes were appended at `start` as it was read: always in range.
        let data = self.batch.data.get(m.start..m.start.saturating_add(m.len)).unwrap_or_default();
        let decoded = match &m.decoded {
            Decoding::Plain(plain) => Ok(plain.attach(data)),
            // One Detached was pushed for each such frame, in order: always there.
            Decoding::Detached => match self.detached.next() {
                Some(d) => d.attach(data),
                None => crate::decode::decode(m.link, data, m.orig_len),
            },
            Decoding::Undecoded => crate::decode::decode(m.link, data, m.orig_len),
        };
        Some((Frame { number: m.number, ts: m.ts, link: m.link, data, orig_len: m.orig_len }, decoded))
    }
}

/// What the reader thread sends, in order.
pub enum Message {
    Frames(FrameBatch),
    /// Input number `index` ended (read through, cut short, or unreadable).
    End {
        index: usize,
        result: Result<ReadSummary, CaptureError>,
    },
}

/// The reading side: batches come in order; [`Reading::recycle`] hands a used batch back so its
/// buffers are used again (memory stays at a few batches, and no thread frees another's).
pub struct Reading {
    batches: Receiver<Message>,
    used: SyncSender<FrameBatch>,
    pub thread: JoinHandle<()>,
}

impl Reading {
    pub fn next(&self) -> Option<Message> {
        self.batches.recv().ok()
    }

    pub fn recycle(&self, batch: FrameBatch) {
        give_back(&self.used, batch);
    }
}

/// A used batch if one came back, else a new one with room for a full batch: grown by doubling
/// instead, each batch would leave its smaller buffers behind, and the thread filling it (a
/// reader, a capture thread racing the kernel's buffer) would copy and fault in fresh memory.
pub(crate) fn fresh_batch(used: &Receiver<FrameBatch>) -> FrameBatch {
    used.try_recv().unwrap_or_else(|_| FrameBatch::with_room())
}

/// Hands an analysed batch back, emptied, to the thread that fills them ([`fresh_batch`]).
pub(crate) fn give_back(used: &SyncSender<FrameBatch>, mut batch: FrameBatch) {
    batch.clear();
    // A full return channel, or a filler that has stopped: the batch is just dropped.
    let _ = used.try_send(batch);
}

/// Which frames of the files go on to the analysis (`analyze --filter`, a BPF program:
/// capture::bpf): `Ok(true)` kept, `Ok(false)` left out, `Err` why this frame cannot be judged
/// (the input's reading fails there). A frame left out keeps its number: the frames kept are
/// numbered as in the file, as `tcpdump -r FILE EXPR` and Wireshark's display filter show them.
pub type FrameFilter = Box<dyn FnMut(&Frame<'_>) -> Result<bool, String> + Send>;

/// Reads `sources` one after the other on a new thread, numbering frames from 1 across them,
/// each through `filter` when there is one. The thread stops after an input that cannot be read
/// at all, or when the [`Reading`] is dropped.
pub fn read_in_background(sources: Vec<Source>, filter: Option<FrameFilter>, progress: Progress) -> Reading {
    let (tx, batches) = sync_channel(IN_FLIGHT);
    let (used, used_rx) = sync_channel(IN_FLIGHT + 2);
    let thread = std::thread::spawn(move || read_all(sources, filter, progress, tx, used_rx));
    Reading { batches, used, thread }
}

fn read_all(
    sources: Vec<Source>,
    mut filter: Option<FrameFilter>,
    progress: Progress,
    tx: SyncSender<Message>,
    used: Receiver<FrameBatch>,
) {
    let mut next_frame = 1;
    let fresh = || fresh_batch(&used);
    for (index, source) in sources.into_iter().enumerate() {
        let mut batch = fresh();
        let mut receiver_gone = false;
        let name = source.name().to_string();
        // Why the filter could not judge a frame: the frames after it are left out, and the
        // input's reading fails with this.
        let mut unjudged: Option<String> = None;
        let result = source.read_through(|input| progress.reader(input), next_frame, &mut |frame| {
            if receiver_gone || unjudged.is_some() {
                return;
            }
            match filter.as_mut().map_or(Ok(true), |keep| keep(frame)) {
                Ok(true) => {}
                Ok(false) => return,
                Err(why) => {
                    unjudged = Some(why);
                    return;
                }
            }
            batch.push(frame);
            if batch.is_full() {
                receiver_gone = tx.send(Message::Frames(std::mem::replace(&mut batch, fresh()))).is_err();
            }
        });
        if receiver_gone || (!batch.is_empty() && tx.send(Message::Frames(batch)).is_err()) {
            return;
        }
        let result = match unjudged {
            Some(reason) => Err(CaptureError::Filter { name, reason }),
            None => result,
        };
        let failed = result.is_err();
        if let Ok(summary) = &result {
            next_frame = next_frame.saturating_add(summary.frames);
        }
        if tx.send(Message::End { index, result }).is_err() || failed {
            return;
        }
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn batches_carry_every_frame_in_order_across_inputs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let path = root.join("fixtures/pasv-ok-forwarded/client.pcap");
        let mut direct = Vec::new();
        crate::capture::read_path(&path, 1, &mut |f| direct.push((f.number, f.ts, f.data.to_vec()))).unwrap();
        let sources = vec![Source::open(&path).unwrap(), Source::open(&path).unwrap()];
        let reading = read_in_background(sources, None, Progress::hidden());
        let (mut seen, mut ends) = (Vec::new(), Vec::new());
        while let Some(message) = reading.next() {
            match message {
                Message::Frames(batch) => {
                    seen.extend(batch.packets().map(|(f, _)| (f.number, f.ts, f.data.to_vec())));
                    reading.recycle(batch);
                }
                Message::End { index, result } => ends.push((index, result.unwrap().frames)),
            }
        }
        reading.thread.join().unwrap();
        let n = direct.len() as u64;
        assert_eq!(ends, vec![(0, n), (1, n)]);
        assert_eq!(seen.len() as u64, 2 * n);
        assert_eq!(&seen[..direct.len()], &direct[..]);
        // The second input's frames are numbered after the first's.
        assert_eq!(seen[direct.len()].0, n + 1);
        assert_eq!(seen[direct.len()].2, direct[0].2);
    }
}
