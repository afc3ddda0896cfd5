//! The analysis and the report's writer, as `ftpscope analyze` (files) and `ftpscope live` (an
//! interface) both run them: frames come in batches, the analyzer (on the caller's thread) turns
//! them into events, and a writer thread of its own hands the events to a [`Sink`].
//!
//! Owns: the analysis thread's loop body and the writer thread. Must not touch: where frames
//! come from (the caller reads files or an interface) and what the sinks write.

use crate::analyzer::{Analyzer, Settings};
use crate::capture::background::FrameBatch;
use crate::model::{Event, Timestamp};
use crate::report::{InputSummary, Sink};
use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Batches of events in flight to the writer before the analysis waits for it.
const EVENTS_IN_FLIGHT: usize = 8;
/// Events per batch once the input has ended.
const FINAL_EVENTS_PER_BATCH: usize = 4096;

/// Work for the writer thread, done in order, given the output the sink writes to.
pub type Call = Box<dyn FnOnce(&mut dyn Write) -> io::Result<()> + Send>;

/// Builds the sink on the writer thread, over the output it shares with [`Call`]s.
pub type MakeSink = Box<dyn FnOnce(SharedOut) -> Box<dyn Sink> + Send>;

/// One output for the sink and the [`Call`]s (live capture's own lines), owned by the writer
/// thread alone: a `RefCell`, no lock per write (serde writes JSON in many small pieces).
#[derive(Clone)]
pub struct SharedOut(Rc<RefCell<io::BufWriter<Box<dyn Write + Send>>>>);

impl Write for SharedOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.borrow_mut().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

/// What the writer thread writes into.
enum Target {
    /// `analyze`: the sink owns its output.
    Sink(Box<dyn Sink + Send>),
    /// `live`: the sink is built on the writer thread over a [`SharedOut`], flushed after every
    /// batch of events so that they are seen as they happen.
    Streaming(Box<dyn Write + Send>, MakeSink),
}

/// What the analysis hands the writer thread.
enum Output {
    Events(Vec<Event>),
    /// Something written beside the sink's output, in order with it (live capture's header,
    /// its `capture_stats` lines, its footer).
    Call(Call),
    Finish(Vec<InputSummary>),
}

/// The analyzer and its writer thread.
pub struct Pipeline {
    analyzer: Analyzer,
    to_writer: SyncSender<Output>,
    writer: JoinHandle<io::Result<()>>,
    /// The writer stopped (a closed pipe, a full disk): nothing more is sent.
    writer_gone: bool,
}

/// How a run ended: the error findings (the exit status) and the writer's result.
pub struct Finished {
    pub errors: u64,
    pub written: io::Result<()>,
}

impl Pipeline {
    /// The sink writes to its own output (`analyze`).
    pub fn start(settings: Settings, sink: Box<dyn Sink + Send>) -> Pipeline {
        Pipeline::spawn(settings, Target::Sink(sink))
    }

    /// The sink, built by `make_sink`, writes to `out`, which [`call`](Self::call)s write to as
    /// well; flushed after each batch of events (`live`).
    pub fn start_streaming(settings: Settings, out: Box<dyn Write + Send>, make_sink: MakeSink) -> Pipeline {
        Pipeline::spawn(settings, Target::Streaming(out, make_sink))
    }

    fn spawn(settings: Settings, target: Target) -> Pipeline {
        let (to_writer, from_analysis) = sync_channel::<Output>(EVENTS_IN_FLIGHT);
        let writer = std::thread::spawn(move || write_all(target, from_analysis));
        Pipeline { analyzer: Analyzer::new(settings), to_writer, writer, writer_gone: false }
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Data connections' bytes go to `sink` in order (`--extract`), before any frame is fed.
    pub fn set_content_sink(&mut self, sink: Box<dyn crate::model::ContentSink>) {
        self.analyzer.set_content_sink(sink);
    }

    /// False once the writer has stopped: the caller stops reading.
    pub fn writer_alive(&self) -> bool {
        !self.writer_gone
    }

    /// Feeds a batch and sends what became known. False when the writer has stopped.
    pub fn feed(&mut self, batch: &FrameBatch) -> bool {
        // Decoded where the batch was filled (the reader or capture thread), off this thread's
        // critical path.
        for (frame, decoded) in batch.packets() {
            self.analyzer.feed_decoded(&frame, decoded);
        }
        self.send_events(Vec::new())
    }

    /// Capture time reached `now` without a packet (a quiet interface): timers run.
    pub fn advance(&mut self, now: Timestamp) -> bool {
        self.analyzer.advance(now);
        self.send_events(Vec::new())
    }

    /// Runs `call` on the writer thread, after the events sent so far.
    pub fn call(&mut self, call: impl FnOnce(&mut dyn Write) -> io::Result<()> + Send + 'static) -> bool {
        self.send(Output::Call(Box::new(call)))
    }

    fn send_events(&mut self, mut events: Vec<Event>) -> bool {
        events.extend(std::iter::from_fn(|| self.analyzer.poll_event()));
        events.is_empty() || self.send(Output::Events(events))
    }

    fn send(&mut self, output: Output) -> bool {
        if !self.writer_gone && self.to_writer.send(output).is_err() {
            self.writer_gone = true;
        }
        !self.writer_gone
    }

    /// The input is over: open sessions settle, `extra` events (findings about the capture
    /// itself) go just before the `summary`, the sink closes its output with `inputs`, and
    /// `after` runs last on the writer thread.
    pub fn finish(mut self, extra: Vec<Event>, inputs: Vec<InputSummary>, after: Option<Call>) -> Finished {
        if !self.writer_gone {
            self.analyzer.finish();
            // The sessions still open settle now, thousands at the end of a busy capture: their
            // events go out in batches, so the writer works while the rest settle.
            let mut extra = Some(extra);
            loop {
                let mut events: Vec<Event> = std::iter::from_fn(|| self.analyzer.poll_event()).take(FINAL_EVENTS_PER_BATCH).collect();
                if events.is_empty() {
                    break;
                }
                // The summary is the very last event: the extra ones go just before it.
                if let Some(summary) = events.pop_if(|e| matches!(e, Event::Summary { .. })) {
                    events.extend(extra.take().unwrap_or_default());
                    events.push(summary);
                }
                if !self.send(Output::Events(events)) {
                    break;
                }
            }
            self.send(Output::Finish(inputs));
            if let Some(after) = after {
                self.send(Output::Call(after));
            }
        }
        let Pipeline { analyzer, to_writer, writer, .. } = self;
        drop(to_writer);
        let written = writer.join().unwrap_or_else(|_| Err(io::Error::other("the report's writer thread panicked")));
        Finished { errors: analyzer.stats().errors, written }
    }
}

/// The writer thread: every event into the sink, then its end.
fn write_all(target: Target, from_analysis: Receiver<Output>) -> io::Result<()> {
    let (mut sink, mut shared) = match target {
        Target::Sink(sink) => (sink as Box<dyn Sink>, None),
        Target::Streaming(out, make_sink) => {
            let shared = SharedOut(Rc::new(RefCell::new(io::BufWriter::with_capacity(1 << 16, out))));
            (make_sink(shared.clone()), Some(shared))
        }
    };
    for message in from_analysis {
        match message {
            Output::Events(events) => {
                for event in &events {
                    sink.event(event)?;
                }
                if let Some(out) = &mut shared {
                    out.flush()?;
                }
            }
            Output::Call(call) => match &mut shared {
                // Flushed at once too: live's header and `capture_stats` lines are news.
                Some(out) => {
                    call(out)?;
                    out.flush()?;
                }
                None => call(&mut io::sink())?,
            },
            Output::Finish(inputs) => sink.finish(&inputs)?,
        }
    }
    match &mut shared {
        Some(out) => out.flush(),
        None => Ok(()),
    }
}
