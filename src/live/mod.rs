//! Live capture (`ftpscope live`): packets from an interface, analysed as they arrive, events
//! streamed, the report written when the capture stops.
//!
//! Three threads, as for files ([`crate::pipeline`]): the capture thread ([`capture`]: the
//! source, `--write`'s file, batches, quiet-time ticks, the limits), the analysis (the caller's
//! thread: the same deterministic core, told the time when the wire is quiet so that unanswered
//! SYNs and unused negotiations settle), and the report's writer.
//!
//! Owns: the live edge. The device itself ([`device`], libpcap), the capture helper that opens
//! it for users without privileges ([`helper`], whose pcap stream [`pcap_stream`] reads) and the
//! switch to an unprivileged user ([`privileges`]) are built only with the `live` feature;
//! everything else here is built always, so that tests drive it with generated packets on any
//! machine. Must not touch: the analysis and the output formats (it adds its own lines beside
//! them).

pub mod capture;
#[cfg(feature = "live")]
pub mod device;
mod drops;
pub mod filter;
#[cfg(feature = "live")]
pub mod helper;
pub mod pcap_stream;
#[cfg(feature = "live")]
pub mod privileges;
pub mod source;
pub mod ui;

use crate::analyzer::Settings;
use crate::capture::background::give_back;
use crate::capture::progress::Progress;
use crate::model::Stats;
use crate::pipeline::{Call, Finished, Pipeline, SharedOut};
use crate::report::json::JsonDocument;
use crate::report::ndjson::Ndjson;
use crate::report::text::Text;
use crate::report::{InputSummary, LiveInput, Sink, SCHEMA};
use capture::{Captured, Capturing, Limits};
use serde::Serialize;
use source::{Counters, PacketSource};
use std::io::{self, Write};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text { color: bool },
    Json,
    Ndjson,
}

/// Plain settings for a live run (the command line's clap types stay in main.rs).
pub struct LiveOptions {
    pub interface: String,
    pub filter: String,
    pub snaplen: u32,
    pub promiscuous: bool,
    pub format: Format,
    pub duration: Option<Duration>,
    pub count: Option<u64>,
    /// `--write`'s path, for the report (the file itself is opened by the caller, before
    /// privileges are dropped).
    pub written_to: Option<String>,
    /// The status line on stderr (hidden unless stderr is a terminal and not `-q`).
    pub status: Progress,
    /// How often (wall time) NDJSON gets a `capture_stats` line.
    pub stats_every: Duration,
    /// The operator's intended setup (`--public-ip`, `--pasv-range`, `--control-port`).
    pub intent: crate::model::Intent,
    /// `--guessing-threshold`.
    pub guessing: crate::diagnose::guessing::Rule,
    /// The command log (`--commands` with NDJSON, `-v` with text).
    pub commands: bool,
    /// Data streams in order and hashed (`--hash`, `--extract`).
    pub hash_data: bool,
    /// Where `--extract` writes them.
    pub content: Option<Box<dyn crate::model::ContentSink>>,
}

impl LiveOptions {
    /// The report's input: what was watched, what libpcap counted and why the capture ended.
    fn input(&self, frames: u64, c: &Counters, ended: &'static str, detail: &str) -> InputSummary {
        let live = LiveInput {
            interface: self.interface.clone(),
            filter: self.filter.clone(),
            filter_warning: filter::data_connections_warning(&self.filter),
            snaplen: self.snaplen,
            promiscuous: self.promiscuous,
            received: c.received,
            dropped: c.dropped,
            interface_dropped: c.interface_dropped,
            written_to: self.written_to.clone(),
            ended,
            ended_detail: detail.to_string(),
        };
        InputSummary { path: self.interface.clone(), first_frame: 1, frames, truncated: None, live: Some(Box::new(live)) }
    }
}

/// How a live run ended.
pub struct LiveEnd {
    pub finished: Finished,
    /// Why the capture stopped, in words (one line for stderr).
    pub ended: String,
    pub ended_kind: &'static str,
    pub counters: Option<Counters>,
    pub stats: Stats,
    pub frames: u64,
    /// The `--write` file could not be written completely.
    pub write_error: Option<io::Error>,
    /// The most sessions open at once.
    pub peak_open_sessions: u64,
}

/// Runs a live capture from `source` until `stop` is set, a limit is reached or the source ends;
/// then the report. `out` receives the report (stdout, through the status line's writer);
/// `write` the packets as pcap.
pub fn run<S: PacketSource + Send + 'static>(
    source: S,
    write: Option<Box<dyn Write + Send>>,
    mut options: LiveOptions,
    out: Box<dyn Write + Send>,
    stop: Arc<AtomicBool>,
) -> LiveEnd {
    let (format, commands) = (options.format, options.commands);
    let make_sink = Box::new(move |out: SharedOut| -> Box<dyn Sink> {
        match format {
            Format::Json => Box::new(JsonDocument::new(out)),
            Format::Ndjson => Box::new(Ndjson::new(out).with_commands(commands)),
            Format::Text { color } => Box::new(Text::new(out, color).with_commands(commands)),
        }
    });
    // Flushed after each batch of events: a reader of the output (jq, a person) sees them as
    // they happen, not when a buffer fills.
    // Negotiation and data_outcome events are built only for an output that writes them
    // (NDJSON); the sink itself is built on the writer thread.
    // Servers are told from time to time as well as at the end: a live capture may run for days.
    let settings = Settings {
        negotiation_events: format == Format::Ndjson,
        command_events: commands && format != Format::Json,
        intent: options.intent,
        guessing: options.guessing,
        server_events_every_ns: Some(crate::model::event::SERVERS_EVERY_NS),
        hash_data: options.hash_data,
        ..Settings::default()
    };
    let mut pipeline = Pipeline::start_streaming(settings, out, make_sink);
    if let Some(content) = options.content.take() {
        pipeline.set_content_sink(content);
    }
    if let Format::Text { .. } = options.format {
        let header = format!("live capture on {}, filter: {}\n\n", options.interface, options.filter);
        pipeline.call(move |out| out.write_all(header.as_bytes()));
    }

    let limits = Limits { duration: options.duration, count: options.count };
    let Capturing { from_capture, used, thread: capturing } = capture::start(source, write, limits, &stop);

    let mut last_stats = Instant::now();
    let mut counters = None;
    let mut ending = None;
    for message in from_capture.iter() {
        let alive = match message {
            Captured::Frames(batch) => {
                let alive = pipeline.feed(&batch);
                give_back(&used, batch);
                alive
            }
            Captured::Quiet(now) => pipeline.advance(now),
            Captured::Counters(c) => {
                counters = Some(c);
                options.status.set_message(status_line(&options.interface, pipeline.analyzer().stats(), c));
                if options.format == Format::Ndjson && last_stats.elapsed() >= options.stats_every {
                    last_stats = Instant::now();
                    let line = capture_stats_line(&options.interface, &pipeline, c);
                    pipeline.call(move |out| out.write_all(line.as_bytes()))
                } else {
                    true
                }
            }
            Captured::End(end) => {
                ending = Some(end);
                break;
            }
        };
        if !alive {
            // The report's output is gone (a closed pipe): stop capturing too.
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            break;
        }
    }
    drop(from_capture);
    let _ = capturing.join();
    options.status.finish();

    let (kind, detail, frames, write_error) = match ending {
        Some(e) => {
            counters = e.counters.or(counters);
            (e.kind, e.detail, e.frames, e.write_error)
        }
        None => ("output_closed", "the report's output was closed".to_string(), pipeline.analyzer().stats().frames, None),
    };
    let stats = pipeline.analyzer().stats();
    let peak_open_sessions = pipeline.analyzer().open_sessions_high_water();
    let c = counters.unwrap_or_default();
    let extra: Vec<_> = drops::finding(&c, stats.frames).into_iter().collect();
    let input = options.input(frames, &c, kind, &detail);
    let footer = match options.format {
        Format::Text { .. } => {
            let line = format!(
                "live capture on {}: {} packet(s) received by the filter, {} dropped by the kernel, {} by the interface; {}\n",
                options.interface, c.received, c.dropped, c.interface_dropped, detail
            );
            Some(Box::new(move |out: &mut dyn Write| out.write_all(line.as_bytes())) as Call)
        }
        _ => None,
    };
    let finished = pipeline.finish(extra, vec![input], footer);
    LiveEnd { finished, ended: detail, ended_kind: kind, counters, stats, frames, write_error, peak_open_sessions }
}

/// The status line: what libpcap counted and what the analysis holds.
fn status_line(interface: &str, s: Stats, c: Counters) -> String {
    format!(
        "{interface}: {} packets, {} dropped, {} if-dropped | {} FTP session(s), {} open | {} error(s), {} warning(s)",
        c.received, c.dropped, c.interface_dropped, s.sessions, s.open_sessions, s.errors, s.warnings
    )
}

/// NDJSON's `capture_stats` line (docs/schema.md): libpcap's counters beside the analysis's.
fn capture_stats_line(interface: &str, pipeline: &Pipeline, c: Counters) -> String {
    #[derive(Serialize)]
    struct Line<'a> {
        schema: &'static str,
        event: &'static str,
        interface: &'a str,
        time: crate::model::Timestamp,
        capture: Counters,
        stats: Stats,
    }
    let line = Line {
        schema: SCHEMA,
        event: "capture_stats",
        interface,
        time: capture::wall_clock(),
        capture: c,
        stats: pipeline.analyzer().stats(),
    };
    let mut text = sonic_rs::to_string(&line).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests;
