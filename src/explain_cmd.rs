//! `ftpscope explain`: the command line and the I/O edges of explanations (part of the binary,
//! beside main.rs). Each capture file is analysed on its own through the driver (as `analyze`
//! is: a reader thread, the analysis, a writer thread, here a collecting sink), then all are
//! written.
//!
//! Owns the order: every file opened first, each analysed once, then two capture points paired
//! from what their explanations kept, then the output.

use clap::Args;
use ftpscope::analyzer::Settings;
use ftpscope::capture::progress::Progress;
use ftpscope::correlate;
use ftpscope::diagnose::servers;
use ftpscope::drive::{self, Inputs};
use ftpscope::report::explain::{self, Collector, Explained};
use ftpscope::report::points::{Compared, PointInput};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
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
    if args.files.len() == 2 && args.files.iter().any(|f| f.as_os_str() == "-") {
        return drive::fail("two capture points are compared from files, not standard input");
    }
    let inputs = match Inputs::open(&args.files) {
        Ok(inputs) => inputs,
        Err(e) => return drive::fail(e),
    };
    // Created before the analysis, so that a path that cannot be written fails at once.
    let mut page = match &args.html {
        None => None,
        Some(path) => match std::fs::File::create(path) {
            Ok(file) => Some((path, io::BufWriter::new(file))),
            Err(e) => return drive::fail(format_args!("{}: {e}", path.display())),
        },
    };
    // Two captures are two points of the same traffic: each is explained, and what pairing
    // compares of its sessions is kept as they settle, so that each file is read once.
    let two_points = args.files.len() == 2;
    let mut captures = Vec::new();
    let mut errors = 0;
    for input in inputs.each() {
        match analyse(input, two_points, !args.quiet && io::stderr().is_terminal(), args.intent.intent()) {
            Ok((explained, found)) => {
                captures.push(explained);
                errors += found;
            }
            Err(e) => return drive::fail(e),
        }
    }
    // What the device between the two points rewrote, let through and dropped.
    let points = match &mut captures[..] {
        [a, b] => Some(compare(a, b)),
        _ => None,
    };
    let vanished = points.as_ref().is_some_and(|p| p.crossing.vanished().next().is_some());
    // Each server once, from both points: its control connections paired say which is which.
    let servers = points.as_ref().map(|p| {
        let pairs = p.crossing.pairs.iter().map(|pair| (pair.control.a.server, pair.control.b.server));
        servers::merge_points(captures[0].servers.servers(), captures[1].servers.servers(), pairs, args.intent.intent())
    });
    if let Some((path, file)) = &mut page {
        if let Err(e) = ftpscope::report::html::write(file, &captures, points.as_ref()) {
            return drive::fail(format_args!("writing {}: {e}", path.display()));
        }
    }
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let written = if args.json {
        explain::json::write(&mut out, &captures, points.as_ref(), servers.as_deref())
    } else {
        explain::text::write(&mut out, &captures).and_then(|()| match &points {
            Some(p) => {
                writeln!(out, "\n=== Two capture points: the same traffic at {} and {}", p.a.input.path, p.b.input.path)?;
                ftpscope::report::points::write_text(&mut out, p)?;
                writeln!(out, "\n=== Servers, from both points")?;
                explain::text::servers(&mut out, servers.as_deref().unwrap_or_default())
            }
            None => Ok(()),
        })
    };
    drive::exit_status(written, "the explanation", errors > 0 || vanished)
}

/// One capture through the analysis, collected (with what pairing compares, for two points);
/// with its count of error findings.
fn analyse(input: Inputs, two_points: bool, bar: bool, intent: ftpscope::model::Intent) -> Result<(Explained, u64), String> {
    let progress = Progress::new(input.size(), bar);
    let settings = Settings { timeline_lines: TIMELINE_LINES, intent, ..Settings::default() };
    let (collector, collected) = Collector::new();
    let collector = if two_points { collector.for_pairing() } else { collector };
    let finished = drive::through(input, settings, Box::new(collector), &progress).map_err(|e| e.to_string())?;
    finished.written.map_err(|e| e.to_string())?;
    let explained = collected.recv().map_err(|_| "the analysis ended without a result".to_string())?;
    Ok((explained, finished.errors))
}

/// The sessions of two captures paired; what pairing compared is let go.
fn compare(a: &mut Explained, b: &mut Explained) -> Compared {
    let point = |e: &Explained| PointInput { input: e.inputs[0].clone(), sessions: e.seen.len() };
    let (point_a, point_b) = (point(a), point(b));
    let crossing = correlate::points::pair(std::mem::take(&mut a.seen), std::mem::take(&mut b.seen));
    Compared { a: point_a, b: point_b, crossing }
}
