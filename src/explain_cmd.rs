//! `ftpscope explain`: the command line and the I/O edges of explanations (part of the binary,
//! beside main.rs). Each capture file is analysed on its own through the driver (as `analyze`
//! is: a reader thread, the analysis, a writer thread, here a collecting sink), then all are
//! written.
//!
//! Owns the order: every file opened first, each capture point analysed once (its rotated
//! pieces read as one capture, as `analyze` reads several files), then two capture points
//! paired from what their explanations kept, then the output.

use clap::Args;
use ftpscope::analyzer::Settings;
use ftpscope::capture::progress::Progress;
use ftpscope::correlate;
use ftpscope::diagnose::servers;
use ftpscope::drive::{self, Inputs};
use ftpscope::report::explain::{self, Collector, Explained};
use ftpscope::report::ndjson::Ndjson;
use ftpscope::report::points::{Compared, PointInput};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Control lines kept per session: enough for the steps a diagram draws (AUTH's frame) in any
/// session short enough to be read as a story.
pub(crate) const TIMELINE_LINES: usize = 64;

#[derive(Args)]
pub struct ExplainArgs {
    /// One capture point, or two: the same traffic seen at two places (inside and outside a
    /// NAT router, client and server side), each explained, then paired. A point is a capture
    /// file ("-" for standard input), or the rotated pieces of one capture (tcpdump -C/-G)
    /// joined by commas, read in that order as one capture: a0.pcap,a1.pcap. To explain
    /// unrelated captures, run explain once per capture.
    #[arg(required = true, value_name = "POINT", value_parser = parse_point)]
    points: Vec<Point>,
    // --json: the explanation as one document (ftpscope-explain/1); --ndjson: analyze's events
    // of the one capture point, the same lines `analyze --ndjson` writes.
    #[command(flatten)]
    output: crate::output_args::OutputArgs,
    /// Also write the explanation as one self-contained HTML page (diagrams in SVG) to FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "ndjson")]
    html: Option<PathBuf>,
    /// Overwrite --html's file when it exists.
    #[arg(long, requires = "html")]
    force: bool,
    #[command(flatten)]
    intent: crate::intent_args::IntentArgs,
    /// Put each data connection's bytes in order and hash them: a transfer the story tells
    /// says the SHA-256 and MD5 of what crossed (or why there are none).
    #[arg(long)]
    hash: bool,
}

/// One capture point: a file, or the rotated pieces of one capture in the order given.
#[derive(Clone, Debug)]
struct Point(Vec<PathBuf>);

/// A capture point as typed: a file that exists is that file (commas in its name and all);
/// otherwise pieces joined by commas.
fn parse_point(s: &str) -> Result<Point, String> {
    if s == "-" || !s.contains(',') || Path::new(s).exists() {
        return Ok(Point(vec![PathBuf::from(s)]));
    }
    let pieces: Vec<&str> = s.split(',').collect();
    if pieces.iter().any(|p| p.is_empty()) {
        return Err(format!("{s:?}: an empty piece; rotated pieces of one capture join with single commas: a0.pcap,a1.pcap"));
    }
    if pieces.contains(&"-") {
        return Err(format!("{s:?}: standard input (\"-\") is a capture point of its own, not one of several pieces"));
    }
    Ok(Point(pieces.into_iter().map(PathBuf::from).collect()))
}

pub fn explain(args: ExplainArgs) -> ExitCode {
    // Pairing compares two points; a third has nothing to be paired with.
    if args.points.len() > 2 {
        return drive::fail(format_args!(
            "explain takes one capture point, or two of the same traffic (then paired), not {}; rotated pieces of one \
             capture join with commas (a0.pcap,a1.pcap); unrelated captures are explained one run each",
            args.points.len()
        ));
    }
    let two_points = args.points.len() == 2;
    if two_points && args.points.iter().any(|p| p.0.iter().any(|f| f.as_os_str() == "-")) {
        return drive::fail("two capture points are compared from files, not standard input");
    }
    let points = match args.points.iter().map(|p| Inputs::open(&p.0)).collect::<Result<Vec<_>, _>>() {
        Ok(points) => points,
        Err(e) => return drive::fail(e),
    };
    if args.output.ndjson {
        return events(points, &args);
    }
    // Created before the analysis, so that a path that cannot be written fails at once; an
    // existing page is kept unless --force says otherwise (a previous run's page, or a file
    // named by mistake).
    let mut page = match &args.html {
        None => None,
        Some(path) => match create(path, args.force) {
            Ok(file) => Some((path, io::BufWriter::new(file))),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return drive::fail(format_args!("{}: exists; --force overwrites it", path.display()))
            }
            Err(e) => return drive::fail(format_args!("{}: {e}", path.display())),
        },
    };
    // Two captures are two points of the same traffic: each is explained, and what pairing
    // compares of its sessions is kept as they settle, so that each file is read once.
    let mut captures = Vec::new();
    let mut found = Vec::new();
    let bar = !args.output.quiet && io::stderr().is_terminal();
    for input in points {
        match analyse(input, two_points, bar, &args.intent, args.hash) {
            Ok((explained, errors)) => {
                captures.push(explained);
                found.push(errors);
            }
            Err(e) => return drive::fail(e),
        }
    }
    // What the device between the two points rewrote, let through and dropped.
    let points = match &mut captures[..] {
        [a, b] => Some(compare(a, b)),
        _ => None,
    };
    // The point inside the server's NAT cannot see the address clients reach it at; the
    // pairing shows it. That point is explained again with it, as if given --public-ip, so that
    // its fixes are typed as written (its pairing facts are already taken).
    if let (Some(p), None) = (&points, args.intent.public_ip) {
        if let Some((inside, public)) = inside_the_servers_nat(p) {
            let intent = crate::intent_args::IntentArgs { public_ip: Some(public), ..args.intent.clone() };
            let input = match Inputs::open(&args.points[inside].0) {
                Ok(input) => input,
                Err(e) => return drive::fail(e),
            };
            match analyse(input, two_points, bar, &intent, args.hash) {
                Ok((explained, errors)) => (captures[inside], found[inside]) = (explained, errors),
                Err(e) => return drive::fail(e),
            }
        }
    }
    let errors: u64 = found.iter().sum();
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
    let written = if args.output.json {
        explain::json::write(&mut out, &captures, points.as_ref(), servers.as_deref())
    } else {
        explain::text::write(&mut out, &captures, args.output.color.on_stdout()).and_then(|()| match &points {
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

/// `--ndjson`: the events `analyze --ndjson` writes, of one capture point (two would number
/// their sessions alike in one stream: run explain, or analyze, once per point).
fn events(mut points: Vec<Inputs>, args: &ExplainArgs) -> ExitCode {
    let (Some(input), true) = (points.pop(), points.is_empty()) else {
        return drive::fail("--ndjson streams the events of one capture point; for two, run `ftpscope analyze --ndjson` on each");
    };
    let progress = Progress::new(input.size(), !args.output.quiet && io::stderr().is_terminal());
    let out = io::BufWriter::with_capacity(1 << 16, progress.writer(io::stdout()));
    let settings =
        Settings { intent: args.intent.intent(), guessing: args.intent.guessing_threshold, hash_data: args.hash, ..Settings::default() };
    match drive::through(input, settings, Box::new(Ndjson::new(out)), &progress) {
        Ok(finished) => drive::finished_status(finished, "the events"),
        Err(e) => drive::fail(e),
    }
}

/// The page's file: a new one, or with `force` whatever is there replaced.
pub(crate) fn create(path: &Path, force: bool) -> io::Result<std::fs::File> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true);
    if force {
        open.create(true).truncate(true);
    } else {
        open.create_new(true);
    }
    open.open(path)
}

/// One capture through the analysis, collected (with what pairing compares, for two points);
/// with its count of error findings.
/// `hash`: data streams hashed (`--hash`).
fn analyse(
    input: Inputs,
    two_points: bool,
    bar: bool,
    intent: &crate::intent_args::IntentArgs,
    hash: bool,
) -> Result<(Explained, u64), String> {
    let progress = Progress::new(input.size(), bar);
    let settings = Settings {
        timeline_lines: TIMELINE_LINES,
        intent: intent.intent(),
        guessing: intent.guessing_threshold,
        hash_data: hash,
        ..Settings::default()
    };
    let (collector, collected) = Collector::new();
    let collector = if two_points { collector.for_pairing() } else { collector };
    let finished = drive::through(input, settings, Box::new(collector), &progress).map_err(|e| e.to_string())?;
    finished.written.map_err(|e| e.to_string())?;
    let explained = collected.recv().map_err(|_| "the analysis ended without a result".to_string())?;
    Ok((explained, finished.errors))
}

/// The sessions of two captures paired; what pairing compared is let go.
/// Which point (0 or 1) sees the server at its LAN address where the other sees it at a public
/// one, and that public address: one answer for every paired session that shows a translation,
/// or none.
fn inside_the_servers_nat(p: &Compared) -> Option<(usize, std::net::IpAddr)> {
    use ftpscope::model::{classify, AddressClass};
    let mut found = None;
    for pair in &p.crossing.pairs {
        let (a, b) = (pair.control.a.server.ip(), pair.control.b.server.ip());
        let this = match (classify(a), classify(b)) {
            _ if a == b => continue,
            (AddressClass::Public, inside) if inside != AddressClass::Public => (1, a),
            (inside, AddressClass::Public) if inside != AddressClass::Public => (0, b),
            _ => return None,
        };
        if found.is_some_and(|f| f != this) {
            return None;
        }
        found = Some(this);
    }
    found
}

fn compare(a: &mut Explained, b: &mut Explained) -> Compared {
    let point = |e: &Explained| PointInput::of(&e.inputs, e.seen.len());
    let (point_a, point_b) = (point(a), point(b));
    let crossing = correlate::points::pair(std::mem::take(&mut a.seen), std::mem::take(&mut b.seen));
    Compared { a: point_a, b: point_b, crossing }
}
