//! `ftpscope explain`: the command line and the I/O edges of explanations (part of the binary,
//! beside main.rs). Each capture file is analysed on its own (as `analyze` does: a reader
//! thread, the analysis, a writer thread, here a collecting sink), then all are written.
//!
//! Owns the order: every file opened first, each analysed, then the output. Pairing two
//! capture points belongs between the analysis and the output.

use clap::Args;
use ftpscope::analyzer::Settings;
use ftpscope::capture;
use ftpscope::capture::background::{read_in_background, Message};
use ftpscope::capture::progress::Progress;
use ftpscope::pipeline::Pipeline;
use ftpscope::report::explain::{self, Collector, Explained};
use ftpscope::report::InputsRead;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Control lines kept per session: enough for the steps a diagram draws (AUTH's frame) in any
/// session short enough to be read as a story.
const TIMELINE_LINES: usize = 64;

#[derive(Args)]
pub struct ExplainArgs {
    /// A capture file ("-" for standard input), or two: the same traffic at two points (inside
    /// and outside a NAT router, client and server side), each explained, then paired.
    #[arg(required = true, num_args = 1..=2, value_name = "CAPTURE")]
    files: Vec<PathBuf>,
    /// Print one JSON document (schema ftpscope-explain/1, docs/schema.md).
    #[arg(long)]
    json: bool,
    /// No progress bar on standard error.
    #[arg(long, short)]
    quiet: bool,
    /// Also write the explanation as one self-contained HTML page (diagrams in SVG) to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    #[command(flatten)]
    intent: crate::intent_args::IntentArgs,
}

pub fn explain(args: ExplainArgs) -> ExitCode {
    // Every input is opened before any is read: a missing second file must not leave half an
    // explanation behind.
    if args.files.len() == 2 && args.files.iter().any(|f| f.as_os_str() == "-") {
        eprintln!("ftpscope: two capture points are compared from files, not standard input");
        return ExitCode::from(2);
    }
    let mut sources = Vec::new();
    for path in &args.files {
        match capture::Source::open(path) {
            Ok(source) => sources.push((path, source)),
            Err(e) => {
                eprintln!("ftpscope: {e}");
                return ExitCode::from(2);
            }
        }
    }
    // Created before the analysis, so that a path that cannot be written fails at once.
    let mut page = match &args.html {
        None => None,
        Some(path) => match std::fs::File::create(path) {
            Ok(file) => Some((path, io::BufWriter::new(file))),
            Err(e) => {
                eprintln!("ftpscope: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
    };
    let mut captures = Vec::new();
    let mut errors = 0;
    for (path, source) in sources {
        match analyse(path, source, !args.quiet && io::stderr().is_terminal(), args.intent.intent()) {
            Ok((explained, found)) => {
                captures.push(explained);
                errors += found;
            }
            Err(e) => {
                eprintln!("ftpscope: {e}");
                return ExitCode::from(2);
            }
        }
    }
    // Two captures are two points of the same traffic: what the device between them rewrote,
    // let through and dropped.
    let points = match &args.files[..] {
        [a, b] => match ftpscope::points::compare(a, b) {
            Ok(compared) => Some(compared),
            Err(e) => {
                eprintln!("ftpscope: {e}");
                return ExitCode::from(2);
            }
        },
        _ => None,
    };
    let vanished = points.as_ref().is_some_and(|p| p.crossing.vanished().next().is_some());
    if let Some((path, file)) = &mut page {
        if let Err(e) = ftpscope::report::html::write(file, &captures, points.as_ref()) {
            eprintln!("ftpscope: writing {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let written = if args.json {
        explain::json::write(&mut out, &captures, points.as_ref())
    } else {
        explain::text::write(&mut out, &captures).and_then(|()| match &points {
            Some(p) => {
                writeln!(out, "\n=== Two capture points: the same traffic at {} and {}", p.a.input.path, p.b.input.path)?;
                ftpscope::report::points::write_text(&mut out, p)
            }
            None => Ok(()),
        })
    };
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            let _ = writeln!(io::stderr(), "ftpscope: writing the explanation: {e}");
            ExitCode::from(2)
        }
        _ if errors > 0 || vanished => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

/// One capture through the analysis, collected; with its count of error findings.
fn analyse(path: &Path, source: capture::Source, bar: bool, intent: ftpscope::model::Intent) -> Result<(Explained, u64), String> {
    let progress = Progress::new(source.size(), bar);
    let reading = read_in_background(vec![source], progress.clone());
    let settings = Settings { negotiation_events: false, timeline_lines: TIMELINE_LINES, intent, ..Settings::default() };
    let (collector, collected) = Collector::new();
    let mut pipeline = Pipeline::start(settings, Box::new(collector));
    let mut inputs = InputsRead::default();
    while let Some(message) = reading.next() {
        match message {
            Message::Frames(batch) => {
                pipeline.feed(&batch);
                reading.recycle(batch);
            }
            Message::End { result: Ok(summary), .. } => inputs.ended(path, summary.frames, summary.truncated),
            Message::End { result: Err(e), .. } => {
                progress.finish();
                return Err(e.to_string());
            }
        }
    }
    drop(reading);
    progress.finish();
    let finished = pipeline.finish(Vec::new(), inputs.into_vec(), None);
    finished.written.map_err(|e| e.to_string())?;
    let explained = collected.recv().map_err(|_| "the analysis ended without a result".to_string())?;
    Ok((explained, finished.errors))
}
