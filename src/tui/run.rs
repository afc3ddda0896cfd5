//! `ftpscope analyze FILE --tui`: three threads as in the plain command (reader, analysis,
//! and here the UI on the main thread instead of a writer). The analysis publishes to the UI
//! through a [`Feeder`] and never waits on it; the UI loop is synchronous: take what arrived,
//! redraw at most [`PUBLISH_EVERY`], wait for a key until then (trippy's frontend loop).
//!
//! Owns: the wiring of the UI run and its exit status. A live capture (issue 8) plugs in by
//! running its own analysis loop with a `Feeder` and calling [`ui_loop`].

use super::app::{App, RunState, Status};
use super::draw;
use super::feed::{self, Feeder, SourceCounters, UiFeed, Update, PUBLISH_EVERY};
use super::input;
use super::terminal::{Screen, Tty};
use crate::analyzer::{Analyzer, Settings};
use crate::capture::progress::Progress;
use crate::drive::{self, Inputs};
use crate::model::Event;
use crate::report::text::Text;
use crate::report::Sink;
use ratatui::crossterm::event::{self, Event as TermEvent};
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest time without a redraw.
const KEEPALIVE: Duration = Duration::from_secs(1);

pub struct Options {
    /// Print the text report on stdout once the UI has closed.
    pub report: bool,
    /// Colours allowed (no --no-color, no NO_COLOR).
    pub color: bool,
    /// Data streams hashed (`--hash`): each transfer's detail shows its hashes.
    pub hash: bool,
}

/// The analyzer's settings for a UI: the default ones, and each session keeps its control
/// channel's first lines for the detail screen.
pub fn settings() -> Settings {
    Settings { timeline_lines: crate::model::record::TIMELINE_LINES, ..Settings::default() }
}

/// What the analysis thread hands back when it is done.
struct Outcome {
    errors: u64,
    failure: Option<String>,
    report: Option<Vec<u8>>,
}

/// Runs the UI over already opened capture files. The UI needs a terminal: standard output,
/// or with `--report` redirected (the report goes there) the controlling terminal. Refuses
/// (exit 2) otherwise: a UI drawn into a pipe or a file is garbage.
pub fn run(inputs: Inputs, options: Options) -> ExitCode {
    run_with(inputs, options, Trial::NONE)
}

/// Where a test build steps into a UI run: examples/tui_panic.rs panics there to show that
/// the terminal is given back all the same (tests/tui.rs). A plain run's steps do nothing, and
/// no command line reaches them: the test's code is in the example, not in `ftpscope`.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Trial {
    /// On the UI thread, after each frame drawn.
    pub drawn: fn(),
    /// On the analysis thread, once the input is read and before the analysis finishes.
    pub read: fn(),
}

impl Trial {
    pub const NONE: Trial = Trial { drawn: nothing, read: nothing };
}

fn nothing() {}

#[doc(hidden)]
pub fn run_with(inputs: Inputs, options: Options, trial: Trial) -> ExitCode {
    if !io::stdout().is_terminal() && !options.report {
        return drive::fail(
            "--tui needs a terminal on standard output (add --report to see the UI on the terminal and write the text report \
             to standard output; or use the text, --json or --ndjson report in a pipe)",
        );
    }
    // Said before the analysis starts, not after it as a terminal error.
    if let Err(e) = Tty::open() {
        return drive::fail(format_args!("--tui needs a terminal: standard output is redirected and /dev/tty cannot be opened ({e})"));
    }
    let label = match inputs.paths() {
        [p] => format!("file {}", p.display()),
        [p, rest @ ..] => format!("files {} +{}", p.display(), rest.len()),
        [] => "no input".into(),
    };
    let total = inputs.size();
    let (feeder, ui_feed) = feed::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let analysis = {
        let stop = stop.clone();
        let settings = Settings { hash_data: options.hash, ..settings() };
        let report = options.report;
        std::thread::spawn(move || analyze(inputs, feeder, stop, (settings, report), trial))
    };

    let mut app = App::new(Status::new(label, total), options.color);
    let ui = ui_loop(&mut app, &ui_feed, trial);
    // The analysis stops reading (a file) and finishes with what it has read.
    stop.store(true, Ordering::Relaxed);
    drop(ui_feed);
    let outcome = analysis.join();
    if let Err(e) = ui {
        return drive::fail(format_args!("terminal: {e}"));
    }
    let Ok(outcome) = outcome else {
        return ExitCode::from(2);
    };
    let written = match &outcome.report {
        Some(report) => {
            let mut out = io::stdout().lock();
            out.write_all(report).and_then(|_| out.flush())
        }
        None => Ok(()),
    };
    if let Some(why) = outcome.failure {
        return drive::fail(why);
    }
    drive::exit_status(written, "the report", outcome.errors > 0)
}

/// The analysis thread: frames from the reader into the analyzer, its events to the UI (and to
/// the text report when asked), a snapshot at most every [`PUBLISH_EVERY`].
/// `run`: the analyzer's settings, and whether a text report is written too.
fn analyze(inputs: Inputs, mut feeder: Feeder, stop: Arc<AtomicBool>, (settings, report): (Settings, bool), trial: Trial) -> Outcome {
    // Never drawn: it counts the bytes read, for the status bar's progress.
    let progress = Progress::new(None, false);
    let mut text = report.then(|| Text::new(Vec::new(), false));
    let mut analyzer = Analyzer::new(settings);
    let counters = |p: &Progress| SourceCounters { bytes: p.position(), drops: None };
    let mut read = drive::read(inputs, &progress, |batch| {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        for (frame, decoded) in batch.packets() {
            analyzer.feed_decoded(&frame, decoded);
        }
        hand_over(std::iter::from_fn(|| analyzer.poll_event()), &mut feeder, &mut text);
        feeder.publish_if_due(&analyzer, counters(&progress));
        true
    });
    if read.stopped {
        // Quit before the end: the report says how far the reading went.
        read.cut_short(analyzer.stats().frames, "the terminal UI was closed before the end");
    }
    let failure = read.failure.take().map(|e| e.to_string());
    let inputs = read.into_inputs();
    // A file that ends inside a record reads to "100%": the bar must say it ended early.
    // Of several files, the one by its name; one file is named by the status bar's source.
    let several = inputs.len() > 1;
    let cut_short = inputs.iter().find_map(|i| {
        let name = std::path::Path::new(&i.path).file_name().map_or(i.path.clone(), |n| n.to_string_lossy().into_owned());
        i.truncated.as_ref().map(|why| if several { format!("{name}: {why}") } else { why.clone() })
    });
    (trial.read)();
    analyzer.finish();
    hand_over(std::iter::from_fn(|| analyzer.poll_event()), &mut feeder, &mut text);
    feeder.publish(&analyzer, counters(&progress), true);
    feeder.end(failure.clone(), cut_short);
    let report = text.and_then(|mut t| t.finish(&inputs).ok().map(|_| t.into_inner()));
    Outcome { errors: analyzer.stats().errors, failure, report }
}

/// Events to the UI, and to the text report when one was asked for (`--report`).
pub(crate) fn hand_over(events: impl IntoIterator<Item = Event>, feeder: &mut Feeder, text: &mut Option<Text<Vec<u8>>>) {
    for event in events {
        if let Some(t) = text.as_mut() {
            let _ = t.event(&event);
        }
        feeder.push(event);
    }
}

/// The UI loop, on a terminal, until `q`, Ctrl-C or a signal. Returns when the user quits; the
/// analysis may still be running.
pub fn ui_loop(app: &mut App, feed: &UiFeed, trial: Trial) -> io::Result<()> {
    let mut screen = Screen::enter()?;
    let keys = read_keys();
    let mut last_draw: Option<Instant> = None;
    let mut dirty = true;
    let mut focus = None;
    loop {
        dirty |= take_updates(app, feed);
        if app.focus() != focus {
            focus = app.focus();
            feed.focus(focus);
        }
        // A redraw at least every second even when nothing changed: on a terminal that hung up
        // (its window closed) the write fails and the UI ends.
        dirty |= last_draw.is_some_and(|t| t.elapsed() >= KEEPALIVE);
        if dirty && last_draw.is_none_or(|t| t.elapsed() >= PUBLISH_EVERY) {
            app.refresh();
            if !screen.draw(|f| draw::draw(f, app))? {
                // A panic elsewhere has given the terminal back; the process is ending.
                return Ok(());
            }
            (trial.drawn)();
            last_draw = Some(Instant::now());
            dirty = false;
        }
        if app.quit || screen.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        // Wait for a key until the next redraw is due.
        let wait = last_draw.map_or(Duration::ZERO, |t| PUBLISH_EVERY.saturating_sub(t.elapsed())).max(Duration::from_millis(10));
        match keys.recv_timeout(wait) {
            Ok(TermEvent::Key(key)) => {
                if let Some(action) = input::action(key, app.typing) {
                    app.apply(action);
                    // A key is answered at once, not at the next tick.
                    last_draw = None;
                    dirty = true;
                }
            }
            Ok(TermEvent::Resize(..)) => {
                last_draw = None;
                dirty = true;
            }
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Err(io::Error::other("the terminal's input ended")),
        }
    }
}

/// Terminal events from a thread of their own: reading a terminal that hung up can spin inside
/// crossterm without returning, and the UI loop must stay free to notice (its next draw fails)
/// and to end the process.
fn read_keys() -> Receiver<TermEvent> {
    let (tx, rx) = sync_channel(64);
    std::thread::spawn(move || {
        while let Ok(e) = event::read() {
            if tx.send(e).is_err() {
                break;
            }
        }
    });
    rx
}

/// Everything that arrived, into the app. True when something did.
fn take_updates(app: &mut App, feed: &UiFeed) -> bool {
    let mut any = false;
    loop {
        match feed.rx.try_recv() {
            Ok(Update::Batch { events, snapshot, dropped_events }) => {
                any = true;
                for event in events {
                    app.store.apply(event);
                }
                app.on_snapshot(&snapshot, dropped_events);
            }
            Ok(Update::Ended { error, cut_short }) => {
                any = true;
                app.status.state = match (error, cut_short) {
                    (Some(e), _) => RunState::Failed(e),
                    (None, Some(why)) => RunState::EndedEarly(why),
                    (None, None) => RunState::Ended,
                };
            }
            Err(TryRecvError::Empty) => return any,
            Err(TryRecvError::Disconnected) => {
                if app.status.state == RunState::Running {
                    app.status.state = RunState::Failed("the analysis stopped".into());
                    any = true;
                }
                return any;
            }
        }
    }
}
