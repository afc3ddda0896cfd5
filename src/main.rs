//! The `ftpscope` command: reads captures (or, `live`, an interface), feeds the analyzer, hands
//! its events to an output.
//!
//! Owns the command line (clap types stay here) and the I/O edges: files, stdout, exit status.
//! `live`'s command line is in live_cmd.rs, `explain`'s in explain_cmd.rs.

mod explain_cmd;
mod intent_args;
mod live_cmd;

use clap::{Parser, Subcommand};
use ftpscope::analyzer::Settings;
use ftpscope::capture;
use ftpscope::capture::background::{read_in_background, Message};
use ftpscope::capture::progress::Progress;
use ftpscope::model::Intent;
use ftpscope::pipeline::{Finished, Pipeline};
use ftpscope::report::json::JsonDocument;
use ftpscope::report::ndjson::Ndjson;
use ftpscope::report::text::Text;
use ftpscope::report::{InputsRead, Sink};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

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
        #[command(flatten)]
        intent: intent_args::IntentArgs,
    },
    /// Watch an interface (libpcap): events as they happen, the report when stopped.
    ///
    /// Stops on Ctrl-C / SIGTERM, --duration or --count, or when the interface goes away;
    /// then prints the report (text, or one JSON document with --json) and exits with the
    /// status of `analyze`. Needs permission to capture (root, or setcap
    /// cap_net_raw,cap_net_admin=eip on the binary); privileges are given up once the
    /// capture is open. Built only with the `live` feature (libpcap).
    Live(live_cmd::LiveArgs),
    /// Explain each capture for a person: a verdict, then per session with a problem what
    /// happened on the wire (frame by frame), why, what to change, and a ladder diagram.
    ///
    /// Healthy sessions get one line each. Each file is explained on its own. Exit status as
    /// for analyze: 0 no error finding, 1 at least one, 2 unusable input or usage.
    Explain(explain_cmd::ExplainArgs),
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
        Command::Analyze { files, json, ndjson, no_color, quiet, tui, report, intent } => {
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
            analyze(sources, sink, progress, intent.intent())
        }
        Command::Live(args) => live_cmd::live(args),
        Command::Explain(args) => explain_cmd::explain(args),
    }
}

/// Three threads, each with one job: reading and parsing the capture, the analysis (this
/// thread: the deterministic core), and writing the report ([`Pipeline`]). On two cores,
/// reading and writing share one while the analysis has the other.
fn analyze(sources: Vec<(&PathBuf, capture::Source)>, sink: Box<dyn Sink + Send>, progress: Progress, intent: Intent) -> ExitCode {
    let (paths, sources): (Vec<&PathBuf>, Vec<capture::Source>) = sources.into_iter().unzip();
    let reading = read_in_background(sources, progress.clone());
    // Negotiation and data_outcome events are built only for an output that writes them.
    let settings = Settings { negotiation_events: sink.wants_negotiation_events(), intent, ..Settings::default() };
    let mut pipeline = Pipeline::start(settings, sink);
    let mut inputs = InputsRead::default();
    while let Some(message) = reading.next() {
        match message {
            Message::Frames(batch) => {
                let alive = pipeline.feed(&batch);
                reading.recycle(batch);
                if !alive {
                    break;
                }
            }
            Message::End { index, result: Ok(summary) } => inputs.ended(paths[index], summary.frames, summary.truncated),
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
    exit_code(pipeline.finish(Vec::new(), inputs.into_vec(), None))
}

/// 0 without error findings, 1 with; a closed pipe (`| head`) ends the run quietly with that
/// status, any other write error is reported (2).
fn exit_code(finished: Finished) -> ExitCode {
    match finished.written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            let _ = writeln!(io::stderr(), "ftpscope: writing the report: {e}");
            ExitCode::from(2)
        }
        _ if finished.errors > 0 => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

// The reader, the analysis and the writer hand each other memory (frame batches, events):
// glibc's allocator serialises frees of another thread's memory on its arena locks, mimalloc
// frees them without contention (bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
