//! `ftpscope live` on a terminal: the terminal UI instead of the text stream. The capture thread
//! is the same as for a report ([`super::capture`]); the analysis runs on a thread of its own and
//! publishes to the UI through a [`Feeder`] (it never waits for drawing); the UI runs on the
//! caller's thread until `q`, and quitting stops the capture. With `--report`, the text report
//! follows on stdout once the UI has closed.
//!
//! Owns: the wiring of a live run to the UI. Must not touch: the analysis, the UI's screens.

use super::capture::{Captured, Capturing, Limits};
use super::drops;
use super::source::{Counters, PacketSource};
use super::LiveOptions;
use crate::analyzer::{Analyzer, Settings};
use crate::capture::background::give_back;
use crate::model::Event;
use crate::report::text::Text;
use crate::report::Sink;
use crate::tui::app::{App, RunState, Status};
use crate::tui::feed::{self, SourceCounters};
use crate::tui::hand_over;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How a live run with the UI ended.
pub struct UiEnd {
    /// Error findings seen (the exit status).
    pub errors: u64,
    /// The text report, when asked for.
    pub report: Option<Vec<u8>>,
    /// Why the capture stopped, in words.
    pub ended: String,
    pub counters: Option<Counters>,
    pub write_error: Option<io::Error>,
    /// The terminal failed.
    pub terminal_error: Option<io::Error>,
}

/// Runs a live capture from `source` with the terminal UI, until the user quits (or `stop` is
/// set, a limit is reached or the source ends, and then the user quits).
pub fn run_with_ui<S: PacketSource + Send + 'static>(
    source: S,
    write: Option<Box<dyn Write + Send>>,
    options: LiveOptions,
    stop: Arc<AtomicBool>,
    report: bool,
    color: bool,
) -> UiEnd {
    let limits = Limits { duration: options.duration, count: options.count };
    let Capturing { from_capture, used, thread: capturing } = super::capture::start(source, write, limits, &stop);

    let (mut feeder, ui_feed) = feed::channel();
    let (intent, guessing) = (options.intent, options.guessing);
    let label = if options.filter == super::filter::DEFAULT_FILTER {
        format!("{} (default filter)", options.interface)
    } else {
        format!("{} (filter {})", options.interface, options.filter)
    };
    // Set when the user quits: the capture then stops as on a signal, and the report says why.
    let ui_closed = Arc::new(AtomicBool::new(false));
    let closed = ui_closed.clone();
    let analysis = std::thread::spawn(move || {
        let settings = Settings { negotiation_events: false, intent, guessing, ..crate::tui::settings() };
        let mut analyzer = Analyzer::new(settings);
        let mut text = report.then(|| Text::new(Vec::new(), false));
        let mut counters = Counters::default();
        let mut ending = None;
        let mut bytes = 0u64;
        let seen = |c: &Counters, bytes: u64| SourceCounters { bytes, drops: Some(c.dropped + c.interface_dropped) };
        for message in from_capture.iter() {
            match message {
                Captured::Frames(batch) => {
                    for (frame, decoded) in batch.packets() {
                        bytes += u64::from(frame.orig_len);
                        analyzer.feed_decoded(&frame, decoded);
                    }
                    give_back(&used, batch);
                }
                Captured::Quiet(now) => analyzer.advance(now),
                Captured::Counters(c) => counters = c,
                Captured::End(end) => {
                    counters = end.counters.unwrap_or(counters);
                    ending = Some(end);
                    break;
                }
            }
            hand_over(std::iter::from_fn(|| analyzer.poll_event()), &mut feeder, &mut text);
            feeder.publish_if_due(&analyzer, seen(&counters, bytes));
        }
        analyzer.finish();
        // Lost packets are a finding of their own, just before the summary.
        let mut last: Vec<Event> = std::iter::from_fn(|| analyzer.poll_event()).collect();
        let summary = last.pop_if(|e| matches!(e, Event::Summary { .. }));
        last.extend(drops::finding(&counters, analyzer.stats().frames));
        last.extend(summary);
        hand_over(last, &mut feeder, &mut text);
        feeder.publish(&analyzer, seen(&counters, bytes), true);
        feeder.end(None, None);
        let (detail, frames, write_error, kind) = match ending {
            Some(e) if e.kind == "signal" && closed.load(Ordering::Relaxed) => {
                ("the terminal UI was closed".to_string(), e.frames, e.write_error, "ui_closed")
            }
            Some(e) => (e.detail, e.frames, e.write_error, e.kind),
            None => ("the terminal UI was closed".to_string(), analyzer.stats().frames, None, "ui_closed"),
        };
        let report = text.and_then(|mut t| {
            let input = options.input(frames, &counters, kind, &detail);
            t.finish(&[input]).ok().map(|_| t.into_inner())
        });
        (analyzer.stats().errors, report, detail, counters, write_error)
    });

    let mut app = App::new(Status::new(label, None), color);
    let terminal_error = crate::tui::ui_loop(&mut app, &ui_feed, crate::tui::Trial::NONE).err();
    // Quitting the UI ends the capture; the analysis settles what it has and stops.
    ui_closed.store(true, Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    drop(ui_feed);
    let _ = capturing.join();
    let (errors, report, ended, counters, write_error) = match analysis.join() {
        Ok(r) => r,
        Err(_) => (0, None, "the analysis stopped".to_string(), Counters::default(), None),
    };
    if app.status.state == RunState::Running {
        app.status.state = RunState::Ended;
    }
    UiEnd { errors, report, ended, counters: Some(counters), write_error, terminal_error }
}
