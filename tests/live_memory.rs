//! Live capture runs in bounded memory: the live path's code (the capture thread's loop,
//! batching, the analysis, the NDJSON writer; everything but the device) is driven with a
//! generated stream of a million short FTP sessions (copies of a real lab session, 5,000 open
//! at once, tests/common/replicate.rs), and the process's resident memory after a quarter of
//! them and after all of them must be about the same. The stream is generated on the fly
//! through a pipe: nothing of it is held in memory or on disk.
//!
//! In its own test binary (its own process), so no other test's memory is counted. A million
//! sessions in release builds (`cargo test --release`, about 20 s on two cores); 40,000 in
//! debug builds, where the analysis is ten times slower.
//!
//! The memory is compared where CI asks for ratios (CI=true), and bench/ measures at scale: it
//! varies with the machine's load. A user's plain `cargo test` drives 40,000 sessions through the
//! live path, checks what went through, and says in one line that the ratio was skipped.

mod common;
#[path = "common/replicate.rs"]
mod replicate;

use common::needs::{self, Need};
use ftpscope::capture::progress::Progress;
use ftpscope::live::source::{Counters, Next, Packet, PacketSource};
use ftpscope::live::{self, Format, LiveOptions};
use ftpscope::model::{LinkType, Timestamp};
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SOURCE: &str = "fixtures/pasv-private-leak-unanswered/client.pcap";
const SESSIONS: u64 = if cfg!(debug_assertions) { 40_000 } else { 1_000_000 };
/// Without the ratio: enough sessions to go past the concurrency many times over.
const SESSIONS_UNMEASURED: u64 = 40_000;

/// FTPSCOPE_LIVE_SESSIONS overrides the number (to try other sizes by hand).
fn sessions(measured: bool) -> u64 {
    let default = if measured { SESSIONS } else { SESSIONS_UNMEASURED };
    std::env::var("FTPSCOPE_LIVE_SESSIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}
const CONCURRENCY: u64 = 5_000;
/// Resident memory after all sessions, at most this many times that after a quarter of them.
const MAX_GROWTH: f64 = 1.3;

/// Resident set size of this process, bytes (Linux).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    pages * 4096
}

/// A classic pcap stream (microseconds, little-endian, as replicate::write makes it) read one
/// record at a time: the device's stand-in.
struct PipeSource {
    input: BufReader<std::io::PipeReader>,
    buf: Vec<u8>,
    packets: u64,
    /// Resident memory sampled when these many packets had been read.
    samples: Arc<Mutex<Vec<(u64, u64)>>>,
    sample_at: Vec<u64>,
}

impl PacketSource for PipeSource {
    fn next_packet(&mut self) -> Next<'_> {
        let mut header = [0u8; 16];
        if self.input.read_exact(&mut header).is_err() {
            return Next::End("input_end", "end of the generated stream".into());
        }
        let field = |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
        let (secs, micros, caplen, orig_len) = (field(0), field(4), field(8), field(12));
        self.buf.resize(caplen as usize, 0);
        if self.input.read_exact(&mut self.buf).is_err() {
            return Next::End("input_end", "cut record".into());
        }
        self.packets += 1;
        if self.sample_at.first() == Some(&self.packets) {
            self.sample_at.remove(0);
            self.samples.lock().unwrap().push((self.packets, rss()));
        }
        let ts = Timestamp(i64::from(secs) * 1_000_000_000 + i64::from(micros) * 1000);
        Next::Packet(Packet { ts, data: &self.buf, orig_len })
    }

    fn counters(&mut self) -> Option<Counters> {
        Some(Counters { received: self.packets, dropped: 0, interface_dropped: 0 })
    }

    fn link(&self) -> (LinkType, u32) {
        (LinkType::Ethernet, 1)
    }

    fn snaplen(&self) -> u32 {
        262_144
    }
}

#[test]
fn a_million_sessions_through_the_live_path_in_flat_memory() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let template = replicate::load(&root.join(SOURCE), 0, 21).unwrap();
    let per_copy = template.packets.len() as u64;
    let measured = needs::part_met("the memory ratio", &[Need::Ratios]);
    let sessions = sessions(measured);
    let (reader, writer) = std::io::pipe().unwrap();
    let generator = std::thread::spawn(move || {
        let out = std::io::BufWriter::with_capacity(1 << 20, writer);
        // The reader gone early ends the writing with an error: the assertions below tell why.
        replicate::write(&template, sessions, CONCURRENCY, out).map(|(w, _)| w.packets)
    });
    let mut input = BufReader::with_capacity(1 << 20, reader);
    let mut file_header = [0u8; 24];
    input.read_exact(&mut file_header).unwrap();
    let samples = Arc::new(Mutex::new(Vec::new()));
    let total = sessions * per_copy;
    let source = PipeSource { input, buf: Vec::new(), packets: 0, samples: samples.clone(), sample_at: vec![total / 4, total - 1] };
    let options = LiveOptions {
        intent: Default::default(),
        guessing: Default::default(),
        interface: "generated".into(),
        filter: ftpscope::live::filter::DEFAULT_FILTER.into(),
        snaplen: 262_144,
        promiscuous: false,
        format: Format::Ndjson,
        duration: None,
        count: None,
        written_to: None,
        status: Progress::hidden(),
        stats_every: Duration::from_secs(10),
        commands: false,
        hash_data: false,
        content: None,
    };
    let start = Instant::now();
    let end = live::run(source, None, options, Box::new(std::io::sink()), Arc::new(AtomicBool::new(false)));
    let took = start.elapsed();
    let written = generator.join().unwrap().unwrap();
    assert!(end.finished.written.is_ok());
    assert_eq!(end.ended_kind, "input_end");
    assert_eq!(end.frames, written, "every generated packet went through");
    assert_eq!(end.stats.sessions, sessions, "every session was recognised");
    // The analysis held what was open, not what was seen.
    assert!(end.peak_open_sessions <= 4 * CONCURRENCY, "peak open sessions {}", end.peak_open_sessions);
    let samples = samples.lock().unwrap().clone();
    assert_eq!(samples.len(), 2, "{samples:?}");
    let (quarter, all) = (samples[0].1 as f64, samples[1].1 as f64);
    eprintln!(
        "live_memory: {sessions} sessions, {written} packets in {:.1} s; resident {:.0} MiB after a quarter, {:.0} MiB at the end; peak {} open",
        took.as_secs_f64(),
        quarter / 1048576.0,
        all / 1048576.0,
        end.peak_open_sessions
    );
    assert!(
        !measured || all <= quarter * MAX_GROWTH,
        "memory grew from {quarter} to {all} bytes between a quarter and all of the sessions"
    );
}
