//! The capture thread: reads the source, writes `--write`'s file, fills frame batches for the
//! analysis, notices quiet time, stop requests and the limits, and polls libpcap's counters.
//!
//! Owns: the capture side of the live pipeline. Must not touch: the analysis (it runs on the
//! caller's thread, fed through a bounded channel; when it falls behind, this thread waits and
//! the kernel's buffer absorbs the burst or counts drops, so memory stays bounded). The batches
//! come back emptied through `used`, so that filling one neither grows nor faults in memory.

use super::source::{Counters, Next, PacketSource};
use crate::capture::background::{fresh_batch, FrameBatch};
use crate::capture::writer::{PcapFormat, PcapWriter, Precision};
use crate::model::{Frame, Timestamp};
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A batch goes to the analysis when it is full or this old: events follow packets closely.
const BATCH_AGE: Duration = Duration::from_millis(10);
/// Batches in flight from the capture thread before it waits (and the kernel buffer fills).
const BATCHES_IN_FLIGHT: usize = 16;
/// Counters are read (a system call) this often.
const COUNTERS_EVERY: Duration = Duration::from_secs(1);
/// On a busy wire the clock is read once per this many packets, not per packet: at hundreds of
/// thousands of packets a second every cycle on this thread counts (bench/live.sh).
const CLOCK_EVERY: u64 = 32;

/// What the capture thread sends, in order.
pub(crate) enum Captured {
    Frames(FrameBatch),
    /// The read timed out at this (wall-clock) time: capture time passes without packets.
    Quiet(Timestamp),
    Counters(Counters),
    /// The last message.
    End(Ending),
}

pub(crate) struct Ending {
    /// `signal`, `duration`, `count`, or the source's own kind (`interface_gone`, `input_end`,
    /// `helper_end`).
    pub kind: &'static str,
    pub detail: String,
    pub counters: Option<Counters>,
    pub frames: u64,
    /// The `--write` file's last error (it stopped being written then), if any.
    pub write_error: Option<io::Error>,
}

pub(crate) struct Limits {
    pub duration: Option<Duration>,
    pub count: Option<u64>,
}

/// The wall clock as a capture timestamp: libpcap stamps packets with the same clock.
pub(crate) fn wall_clock() -> Timestamp {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp(i64::try_from(since.as_nanos()).unwrap_or(i64::MAX))
}

/// A capture thread started: what it sends, where the analysed batches go back to it, and the
/// thread itself (it ends once `from_capture` is dropped or the capture stops).
pub(crate) struct Capturing {
    pub from_capture: Receiver<Captured>,
    pub used: SyncSender<FrameBatch>,
    pub thread: JoinHandle<()>,
}

/// Starts the capture thread on `source` ([`capture_loop`]), at most
/// [`BATCHES_IN_FLIGHT`] batches on their way to the analysis.
pub(crate) fn start<S: PacketSource + Send + 'static>(
    source: S,
    write: Option<Box<dyn Write + Send>>,
    limits: Limits,
    stop: &Arc<AtomicBool>,
) -> Capturing {
    let (tx, from_capture) = sync_channel(BATCHES_IN_FLIGHT);
    let (used, used_rx) = sync_channel(BATCHES_IN_FLIGHT + 2);
    let stop = stop.clone();
    let thread = std::thread::spawn(move || capture_loop(source, write, limits, &stop, tx, used_rx));
    Capturing { from_capture, used, thread }
}

fn capture_loop<S: PacketSource>(
    mut source: S,
    write: Option<Box<dyn Write + Send>>,
    limits: Limits,
    stop: &AtomicBool,
    tx: SyncSender<Captured>,
    used: Receiver<FrameBatch>,
) {
    let (link, linktype) = source.link();
    let mut write_error = None;
    // Nanosecond records: libpcap is asked for nanosecond timestamps, so none is lost.
    let format = PcapFormat { link_type: linktype, snaplen: source.snaplen(), precision: Precision::Nanos, ..PcapFormat::default() };
    let mut writer = match write.map(|out| PcapWriter::new(out, format)) {
        Some(Ok(w)) => Some(w),
        Some(Err(e)) => {
            write_error = Some(e);
            None
        }
        None => None,
    };
    let started = Instant::now();
    let mut counters_at = started;
    let mut batch = fresh_batch(&used);
    let mut batch_started = started;
    let mut frames = 0u64;
    // Sends the batch (and makes the file whole up to it); false when the analysis is gone.
    let send = |batch: &mut FrameBatch, writer: &mut Option<PcapWriter<Box<dyn Write + Send>>>, write_error: &mut Option<io::Error>| {
        if let Some(w) = writer {
            // Flushed with each batch: a capture stopped at any moment leaves whole records.
            if let Err(e) = w.flush() {
                *write_error = Some(e);
                *writer = None;
            }
        }
        batch.is_empty() || tx.send(Captured::Frames(std::mem::replace(batch, fresh_batch(&used)))).is_ok()
    };
    // The clock is read after the wire paused and every CLOCK_EVERY packets.
    let mut check = true;
    let (kind, detail) = loop {
        if stop.load(Ordering::Relaxed) {
            break ("signal", "stopped by a signal (Ctrl-C or SIGTERM)".to_string());
        }
        if check && limits.duration.is_some_and(|d| started.elapsed() >= d) {
            break ("duration", format!("--duration {} s reached", limits.duration.unwrap_or_default().as_secs_f64()));
        }
        if limits.count.is_some_and(|c| frames >= c) {
            break ("count", format!("--count {frames} packets reached"));
        }
        match source.next_packet() {
            Next::Packet(p) => {
                frames += 1;
                check = frames.is_multiple_of(CLOCK_EVERY);
                if batch.is_empty() {
                    batch_started = Instant::now();
                }
                // A frame longer than the snap length said is never trusted for orig_len.
                let orig_len = p.orig_len.max(p.data.len() as u32);
                batch.push_undecoded(&Frame { number: frames, ts: p.ts, link, data: p.data, orig_len });
                if let Some(w) = &mut writer {
                    if let Err(e) = w.write_packet(p.ts, p.data, orig_len) {
                        write_error = Some(e);
                        writer = None;
                    }
                }
                let old = check && batch_started.elapsed() >= BATCH_AGE;
                if (batch.is_full() || old) && !send(&mut batch, &mut writer, &mut write_error) {
                    return;
                }
            }
            // The source's queue is drained: a batch old enough goes now, the rest waits for
            // more packets or the timeout.
            Next::Idle => {
                check = true;
                if batch_started.elapsed() >= BATCH_AGE && !send(&mut batch, &mut writer, &mut write_error) {
                    return;
                }
            }
            Next::Timeout => {
                check = true;
                if !send(&mut batch, &mut writer, &mut write_error) || tx.send(Captured::Quiet(wall_clock())).is_err() {
                    return;
                }
            }
            Next::End(kind, detail) => break (kind, detail),
        }
        if check && counters_at.elapsed() >= COUNTERS_EVERY {
            counters_at = Instant::now();
            if let Some(c) = source.counters() {
                if tx.send(Captured::Counters(c)).is_err() {
                    return;
                }
            }
        }
    };
    if !send(&mut batch, &mut writer, &mut write_error) {
        return;
    }
    source.stop();
    let counters = source.counters();
    let _ = tx.send(Captured::End(Ending { kind, detail, counters, frames, write_error }));
}
