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
use std::io;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Batches of events in flight to the writer before the analysis waits for it.
const EVENTS_IN_FLIGHT: usize = 8;
/// Events per batch once the input has ended.
const FINAL_EVENTS_PER_BATCH: usize = 4096;

/// Work for the writer thread, done in order.
type Call = Box<dyn FnOnce() -> io::Result<()> + Send>;
/// Run by the writer thread after each batch of events (live capture flushes its output there,
/// so that events are seen as they happen).
pub type AfterBatch = Box<dyn FnMut() -> io::Result<()> + Send>;

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
    pub fn start(settings: Settings, sink: Box<dyn Sink + Send>, after_batch: Option<AfterBatch>) -> Pipeline {
        let (to_writer, from_analysis) = sync_channel::<Output>(EVENTS_IN_FLIGHT);
        let writer = std::thread::spawn(move || write_all(sink, from_analysis, after_batch));
        Pipeline { analyzer: Analyzer::new(settings), to_writer, writer, writer_gone: false }
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
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
    pub fn call(&mut self, call: impl FnOnce() -> io::Result<()> + Send + 'static) -> bool {
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
fn write_all(mut sink: Box<dyn Sink + Send>, from_analysis: Receiver<Output>, mut after_batch: Option<AfterBatch>) -> io::Result<()> {
    for message in from_analysis {
        match message {
            Output::Events(events) => {
                for event in &events {
                    sink.event(event)?;
                }
                if let Some(after) = &mut after_batch {
                    after()?;
                }
            }
            Output::Call(call) => call()?,
            Output::Finish(inputs) => sink.finish(&inputs)?,
        }
    }
    Ok(())
}
