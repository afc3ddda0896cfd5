//! The `ftpscope` command: reads captures, feeds the analyzer, hands its events to an output.
//!
//! Owns the command line (clap types stay here) and the I/O edges: files, stdout, exit status.

use clap::{Parser, Subcommand};
use ftpscope::analyzer::{Analyzer, Settings};
use ftpscope::capture;
use ftpscope::capture::background::{read_in_background, Message};
use ftpscope::capture::progress::Progress;
use ftpscope::model::Event;
use ftpscope::report::json::JsonDocument;
use ftpscope::report::ndjson::Ndjson;
use ftpscope::report::text::Text;
use ftpscope::report::{InputSummary, Sink};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::{sync_channel, Receiver};

#[derive(Parser)]
#[command(name = "ftpscope", version, about = "Packet-inspecting FTP session analyzer: why LIST hangs, why passive mode fails behind NAT")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse saved captures (pcap, pcapng; "-" reads standard input).
    ///
    /// Several files are read in the order given as one capture (rotated files from
    /// tcpdump -C/-G); frames are numbered across them. Each session is reported when it
    /// settles and then forgotten, so memory follows the sessions open at once, not the size
    /// of the capture. Exit status: 0 no error finding, 1 at least one error finding, 2
    /// unusable input or usage.
    Analyze {
        /// Capture files; "-" for standard input.
        #[arg(required = true, value_name = "CAPTURE")]
        files: Vec<PathBuf>,
        /// Print the report as one JSON document (schema ftpscope/2, docs/schema.md).
        #[arg(long, conflicts_with = "ndjson")]
        json: bool,
        /// Print one JSON object per event, per line, as it becomes known (docs/schema.md).
        #[arg(long)]
        ndjson: bool,
        /// No colour, even on a terminal (NO_COLOR in the environment does the same).
        #[arg(long)]
        no_color: bool,
        /// No progress bar on standard error.
        #[arg(long, short)]
        quiet: bool,
        /// Show the sessions, negotiations and findings in a terminal UI (keys: ? for help).
        #[arg(long, conflicts_with_all = ["json", "ndjson"])]
        tui: bool,
        /// With --tui: print the text report on standard output once the UI is closed.
        #[arg(long, requires = "tui")]
        report: bool,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match cli.command {
        Command::Analyze { files, json, ndjson, no_color, quiet, tui, report } => {
            // Every input is opened before any is read: a missing second file must not leave a
            // report of half the input behind.
            let mut sources = Vec::new();
            for path in &files {
                match capture::Source::open(path) {
                    Ok(source) => sources.push((path, source)),
                    Err(e) => {
                        eprintln!("ftpscope: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            if tui {
                let color = !no_color && std::env::var_os("NO_COLOR").is_none();
                let sources = sources.into_iter().map(|(path, source)| (path.clone(), source)).collect();
                return ftpscope::tui::run(sources, ftpscope::tui::Options { report, color });
            }
            // One bar for all inputs, on a terminal only; its total is known when every input
            // is a file.
            let total = sources.iter().map(|(_, source)| source.size()).sum::<Option<u64>>();
            let progress = Progress::new(total, io::stderr().is_terminal() && !quiet);
            // Buffered: stdout alone flushes at every newline, one system call per line.
            let out = io::BufWriter::with_capacity(1 << 16, progress.writer(io::stdout()));
            let color = !no_color && std::env::var_os("NO_COLOR").is_none() && io::stdout().is_terminal();
            let sink: Box<dyn Sink + Send> = if json {
                Box::new(JsonDocument::new(out))
            } else if ndjson {
                Box::new(Ndjson::new(out))
            } else {
                Box::new(Text::new(out, color))
            };
            analyze(sources, sink, progress)
        }
    }
}

/// What the analysis hands the writer thread.
enum Output {
    Events(Vec<Event>),
    Finish(Vec<InputSummary>),
}

/// Batches of events in flight to the writer before the analysis waits for it.
const EVENTS_IN_FLIGHT: usize = 8;
/// Events per batch once the input has ended.
const FINAL_EVENTS_PER_BATCH: usize = 4096;

/// Three threads, each with one job: reading and parsing the capture, the analysis (this
/// thread: the deterministic core), and writing the report. On two cores, reading and writing
/// share one while the analysis has the other.
fn analyze(sources: Vec<(&PathBuf, capture::Source)>, sink: Box<dyn Sink + Send>, progress: Progress) -> ExitCode {
    let (paths, sources): (Vec<&PathBuf>, Vec<capture::Source>) = sources.into_iter().unzip();
    let reading = read_in_background(sources, progress.clone());
    let (to_writer, from_analysis) = sync_channel::<Output>(EVENTS_IN_FLIGHT);
    let settings = Settings { negotiation_events: sink.wants_negotiation_events(), ..Settings::default() };
    let writer = std::thread::spawn(move || write_all(sink, from_analysis));

    let mut analyzer = Analyzer::new(settings);
    let mut inputs = Vec::new();
    let mut next_frame = 1;
    let mut writer_gone = false;
    while let Some(message) = reading.next() {
        match message {
            Message::Frames(batch) => {
                for (frame, decoded) in batch.packets() {
                    analyzer.feed_decoded(&frame, decoded);
                }
                reading.recycle(batch);
                let events: Vec<Event> = std::iter::from_fn(|| analyzer.poll_event()).collect();
                if !events.is_empty() && to_writer.send(Output::Events(events)).is_err() {
                    writer_gone = true;
                    break;
                }
            }
            Message::End { index, result: Ok(summary) } => {
                inputs.push(InputSummary {
                    path: paths[index].display().to_string(),
                    first_frame: next_frame,
                    frames: summary.frames,
                    truncated: summary.truncated,
                });
                next_frame += summary.frames;
            }
            Message::End { result: Err(e), .. } => {
                progress.finish();
                eprintln!("ftpscope: {e}");
                return ExitCode::from(2);
            }
        }
    }
    // The reader stops by itself once the channel is dropped (a closed pipe on our output).
    drop(reading);
    // The bar's line goes before the last sessions and the totals are printed.
    progress.finish();
    if !writer_gone {
        analyzer.finish();
        // The sessions still open settle now, thousands at the end of a busy capture: their
        // events go out in batches, so the writer works while the rest settle.
        loop {
            let events: Vec<Event> = std::iter::from_fn(|| analyzer.poll_event()).take(FINAL_EVENTS_PER_BATCH).collect();
            if events.is_empty() || to_writer.send(Output::Events(events)).is_err() {
                break;
            }
        }
        let _ = to_writer.send(Output::Finish(inputs));
    }
    drop(to_writer);
    match writer.join() {
        Ok(Ok(())) => status(&analyzer),
        Ok(Err(e)) => output_error_with(e, &analyzer),
        Err(_) => ExitCode::from(2),
    }
}

/// The writer thread: every event into the sink, then its end.
fn write_all(mut sink: Box<dyn Sink + Send>, from_analysis: Receiver<Output>) -> io::Result<()> {
    for message in from_analysis {
        match message {
            Output::Events(events) => {
                for event in &events {
                    sink.event(event)?;
                }
            }
            Output::Finish(inputs) => sink.finish(&inputs)?,
        }
    }
    Ok(())
}

/// 1 when an error finding was reported, else 0.
fn status(analyzer: &Analyzer) -> ExitCode {
    if analyzer.stats().errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A closed pipe (`| head`) ends the run quietly, with the status so far; any other write error
/// is reported.
fn output_error_with(e: io::Error, analyzer: &Analyzer) -> ExitCode {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return status(analyzer);
    }
    let _ = writeln!(io::stderr(), "ftpscope: writing the report: {e}");
    ExitCode::from(2)
}

// The reader, the analysis and the writer hand each other memory (frame batches, events):
// glibc's allocator serialises frees of another thread's memory on its arena locks, mimalloc
// frees them without contention (bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
