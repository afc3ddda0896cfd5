//! The `ftpscope` command: reads captures, feeds the analyzer, hands its events to an output.
//!
//! Owns the command line (clap types stay here) and the I/O edges: files, stdout, exit status.

use clap::{Parser, Subcommand};
use ftpscope::analyzer::{Analyzer, Settings};
use ftpscope::capture;
use ftpscope::capture::progress::Progress;
use ftpscope::report::json::JsonDocument;
use ftpscope::report::ndjson::Ndjson;
use ftpscope::report::text::Text;
use ftpscope::report::{InputSummary, Sink};
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
        Command::Analyze { files, json, ndjson, no_color, quiet } => {
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
            // One bar for all inputs, on a terminal only; its total is known when every input
            // is a file.
            let total = sources.iter().map(|(_, source)| source.size()).sum::<Option<u64>>();
            let progress = Progress::new(total, io::stderr().is_terminal() && !quiet);
            // Buffered: stdout alone flushes at every newline, one system call per line.
            let out = io::BufWriter::with_capacity(1 << 16, progress.writer(io::stdout().lock()));
            let color = !no_color && std::env::var_os("NO_COLOR").is_none() && io::stdout().is_terminal();
            let sink: Box<dyn Sink> = if json {
                Box::new(JsonDocument::new(out))
            } else if ndjson {
                Box::new(Ndjson::new(out))
            } else {
                Box::new(Text::new(out, color))
            };
            analyze(sources, sink, &progress)
        }
    }
}

fn analyze(sources: Vec<(&PathBuf, capture::Source)>, mut sink: Box<dyn Sink>, progress: &Progress) -> ExitCode {
    let mut analyzer = Analyzer::new(Settings::default());
    let mut inputs = Vec::new();
    let mut next_frame = 1;
    let mut failed: Option<io::Error> = None;
    for (path, source) in sources {
        let result = source.read_through(|input| progress.reader(input), next_frame, &mut |frame| {
            analyzer.feed(frame);
            if failed.is_none() {
                if let Err(e) = drain(&mut analyzer, sink.as_mut()) {
                    failed = Some(e);
                }
            }
        });
        if let Some(e) = failed.take() {
            progress.finish();
            return output_error_with(e, &analyzer);
        }
        match result {
            Ok(summary) => {
                inputs.push(InputSummary {
                    path: path.display().to_string(),
                    first_frame: next_frame,
                    frames: summary.frames,
                    truncated: summary.truncated,
                });
                next_frame += summary.frames;
            }
            Err(e) => {
                progress.finish();
                eprintln!("ftpscope: {e}");
                return ExitCode::from(2);
            }
        }
    }
    // The bar's line goes before the last sessions and the totals are printed.
    progress.finish();
    analyzer.finish();
    if let Err(e) = drain(&mut analyzer, sink.as_mut()).and_then(|_| sink.finish(&inputs)) {
        return output_error_with(e, &analyzer);
    }
    status(&analyzer)
}

fn drain(analyzer: &mut Analyzer, sink: &mut dyn Sink) -> io::Result<()> {
    while let Some(event) = analyzer.poll_event() {
        sink.event(&event)?;
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
    output_error(e)
}

fn output_error(e: io::Error) -> ExitCode {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return ExitCode::SUCCESS;
    }
    let _ = writeln!(io::stderr(), "ftpscope: writing the report: {e}");
    ExitCode::from(2)
}
