//! The one driver of saved captures: every input opened before any is read, then read on a
//! thread of its own ([`read_in_background`]: parsed and decoded there) batch by batch into the
//! caller's analysis, with progress. `analyze` and `explain` (and through it the pairing of two
//! capture points) hand the analysis' events to a [`Sink`] on a writer thread ([`through`]);
//! the terminal UI runs its own analysis loop over [`read`]. `live` has a source of its own and
//! shares the end of a run: the exit status and what is said about a failed write.
//!
//! Owns: opening inputs, the reading loop, the exit contract (0 no error finding, 1 at least
//! one, 2 unusable input, usage or a failed write). Must not touch: the analysis, what the
//! sinks write.

use crate::analyzer::Settings;
use crate::capture::background::{read_in_background, FrameBatch, FrameFilter, Message};
use crate::capture::progress::Progress;
use crate::capture::{CaptureError, Source};
use crate::model::ContentSink;
use crate::pipeline::{Finished, Pipeline};
use crate::report::{InputSummary, InputsRead, Sink};
use std::fmt::Display;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Capture files (or standard input), opened, not read yet.
pub struct Inputs {
    paths: Vec<PathBuf>,
    sources: Vec<Source>,
    /// Which frames go on to the analysis (`--filter`); all of them without one.
    filter: Option<FrameFilter>,
}

impl Inputs {
    /// Opens every input before any is read: a missing second file must not leave a report of
    /// half the input behind.
    pub fn open(paths: &[PathBuf]) -> Result<Inputs, CaptureError> {
        let sources = paths.iter().map(|p| Source::open(p)).collect::<Result<_, _>>()?;
        Ok(Inputs { paths: paths.to_vec(), sources, filter: None })
    }

    /// Only the frames `filter` keeps are analysed (numbered as in the files).
    pub fn filtered(self, filter: FrameFilter) -> Inputs {
        Inputs { filter: Some(filter), ..self }
    }

    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// The bytes to read, known when every input is a file (not a pipe).
    pub fn size(&self) -> Option<u64> {
        self.sources.iter().map(Source::size).sum()
    }
}

/// What was read, input by input, and how the reading ended.
pub struct Read {
    paths: Vec<PathBuf>,
    inputs: InputsRead,
    /// The caller stopped the reading before the end.
    pub stopped: bool,
    /// An input could not be read: the reading ended there (the inputs before it were read).
    pub failure: Option<CaptureError>,
}

impl Read {
    /// Reading was stopped after `frames` frames in all: the input being read then ended there,
    /// cut short for `why`.
    pub fn cut_short(&mut self, frames: u64, why: &str) {
        if let Some(path) = self.paths.get(self.inputs.len()) {
            let frames = frames - self.inputs.frames();
            self.inputs.ended(path, frames, Some(why.to_string()));
        }
    }

    pub fn into_inputs(self) -> Vec<InputSummary> {
        self.inputs.into_vec()
    }
}

/// Reads `inputs` one after the other (frames numbered from 1 across them), each batch into
/// `feed`, which says whether to go on. An input that cannot be read ends the reading
/// ([`Read::failure`]).
pub fn read(inputs: Inputs, progress: &Progress, mut feed: impl FnMut(&FrameBatch) -> bool) -> Read {
    let Inputs { paths, sources, filter } = inputs;
    let reading = read_in_background(sources, filter, progress.clone());
    let mut read = Read { paths, inputs: InputsRead::default(), stopped: false, failure: None };
    while let Some(message) = reading.next() {
        match message {
            Message::Frames(batch) => {
                let go_on = feed(&batch);
                reading.recycle(batch);
                if !go_on {
                    read.stopped = true;
                    break;
                }
            }
            Message::End { index, result: Ok(summary) } => read.inputs.ended(&read.paths[index], summary.frames, summary.truncated),
            Message::End { result: Err(e), .. } => {
                read.failure = Some(e);
                break;
            }
        }
    }
    // Dropping the reading stops the reader thread, if it has not ended (a closed output).
    read
}

/// Three threads, each with one job: reading and parsing the captures, the analysis (this
/// thread: the deterministic core), and the sink's writer ([`Pipeline`]). On two cores,
/// reading and writing share one while the analysis has the other. Reading stops early when
/// the writer has stopped (a closed pipe on the output).
pub fn through(inputs: Inputs, settings: Settings, sink: Box<dyn Sink + Send>, progress: &Progress) -> Result<Finished, CaptureError> {
    through_with(inputs, settings, sink, None, progress)
}

/// [`through`], data connections' bytes handed to `content` in order (`--extract`).
pub fn through_with(
    inputs: Inputs,
    settings: Settings,
    sink: Box<dyn Sink + Send>,
    content: Option<Box<dyn ContentSink>>,
    progress: &Progress,
) -> Result<Finished, CaptureError> {
    // Negotiation and data_outcome events are built only for an output that writes them.
    let settings =
        Settings { negotiation_events: sink.wants_negotiation_events(), command_events: sink.wants_command_events(), ..settings };
    let mut pipeline = Pipeline::start(settings, sink);
    if let Some(content) = content {
        pipeline.set_content_sink(content);
    }
    let mut read = read(inputs, progress, |batch| pipeline.feed(batch));
    // The bar's line goes before the last sessions and the totals are written.
    progress.finish();
    if let Some(e) = read.failure.take() {
        return Err(e);
    }
    Ok(pipeline.finish(Vec::new(), read.into_inputs(), None))
}

/// Unusable input, a usage error or a failed write: said on standard error, status 2.
pub fn fail(message: impl Display) -> ExitCode {
    let _ = writeln!(io::stderr(), "ftpscope: {message}");
    ExitCode::from(2)
}

/// The status of a run whose output was `written`: 1 when it `found_errors`, else 0. A closed
/// pipe (`| head`) ends the run quietly with that status; any other write error is said, with
/// `what` was being written (2).
pub fn exit_status(written: io::Result<()>, what: &str, found_errors: bool) -> ExitCode {
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => fail(format!("writing {what}: {e}")),
        _ => ExitCode::from(u8::from(found_errors)),
    }
}

/// [`exit_status`] of a [`Pipeline`] run.
pub fn finished_status(finished: Finished, what: &str) -> ExitCode {
    exit_status(finished.written, what, finished.errors > 0)
}
