//! `ftpscope probe`: the command line and the I/O edges of a probe (part of the binary, beside
//! main.rs): the URL and the password in, the capture of its own traffic started before the
//! session and read after it by the same analysis as `explain`, or, without capture, the
//! sockets' record diagnosed; then the explanation with a verdict per data mode.
//!
//! Owns the order: bad input fails before anything is sent; the capture is open before the
//! first packet; the password is read once and never printed.

use clap::Args;
use ftpscope::drive;
use ftpscope::model::Event;
use ftpscope::probe::observed::{Observed, Stopped};
use ftpscope::probe::session::{self, Plan};
use ftpscope::probe::url::Target;
use ftpscope::probe::verdict::ModeVerdict;
use ftpscope::probe::{self, ProberSide};
use ftpscope::report::explain::{self, Collector, Explained};
use ftpscope::report::ndjson::Ndjson;
use ftpscope::report::{InputSummary, Sink};
use serde::Serialize;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct ProbeArgs {
    /// The server: ftp://[user@]host[:port][/directory]. Anonymous unless a user is named; the
    /// password comes from FTPSCOPE_PASSWORD or a prompt, never from the command line.
    #[arg(value_name = "URL")]
    url: String,
    /// Passive mode: connect to the address the server's reply names, even when it is not the
    /// server's own (by default the server's address with the advertised port, as curl, lftp
    /// and FileZilla do: a reply naming a third host does not aim the probe at it).
    #[arg(long)]
    follow_advertised: bool,
    /// Seconds each step may take (connect, a reply, a data connection).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = parse_seconds)]
    step_timeout: f64,
    /// Seconds the whole probe may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = parse_seconds)]
    timeout: f64,
    /// Explicit FTPS: AUTH TLS, then PBSZ 0 and PROT P, and the same tests inside TLS (every
    /// data connection in TLS too). The certificate is checked against the system's roots.
    #[arg(long)]
    tls: bool,
    /// With --tls: go on when the server's certificate does not verify (expired, another name,
    /// self-signed); the report still says why it did not.
    #[arg(long, requires = "tls")]
    insecure: bool,
    /// Do not capture: the sockets' observations are the evidence (thinner: no ICMP, no
    /// retransmissions), as without capture privilege.
    #[arg(long)]
    no_capture: bool,
    /// Keep the probe's own packets in FILE (pcap), to read again with analyze or explain.
    #[arg(long, short = 'w', value_name = "FILE", conflicts_with = "no_capture")]
    write: Option<PathBuf>,
    // --json: one document (ftpscope-probe/1); --ndjson: analyze's events of the probe's session,
    // then one `probe` event (the verdicts).
    #[command(flatten)]
    output: crate::output_args::OutputArgs,
    /// Also write the explanation as one self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Overwrite --write's or --html's file when it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    intent: crate::intent_args::IntentArgs,
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(s),
        _ => Err(format!("{text:?}: seconds, more than 0 and at most 3600")),
    }
}

/// Where the evidence came from.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Evidence {
    // A build without libpcap never captures (the sockets are its evidence).
    #[cfg_attr(not(feature = "live"), allow(dead_code))]
    Capture { interface: String, filter: String, packets: u64, helper: bool },
    /// The sockets alone, and why no capture.
    Sockets { why: String },
}

impl Evidence {
    fn words(&self) -> String {
        match self {
            Evidence::Capture { interface, filter, packets, helper } => {
                let via = if *helper { " (through the capture helper)" } else { "" };
                format!("the probe's own packets, captured on {interface}{via} with \"{filter}\": {packets} packets")
            }
            Evidence::Sockets { why } => format!(
                "the probe's sockets only ({why}): thinner than a capture (no ICMP errors or their senders, no \
                 retransmissions, no TCP details)"
            ),
        }
    }
}

/// The probe's own part of the JSON document.
#[derive(Serialize)]
struct ProbeView<'a> {
    url: String,
    #[serde(serialize_with = "ftpscope::model::notation::socket")]
    server: std::net::SocketAddr,
    evidence: &'a Evidence,
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped: Option<&'a Stopped>,
    prober: &'a ProberSide,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<&'a ftpscope::probe::observed::TlsSeen>,
    modes: &'a [ModeVerdict],
}

pub fn probe(args: ProbeArgs) -> ExitCode {
    let target = match Target::parse(&args.url) {
        Ok(t) => t,
        Err(e) => return drive::fail(e),
    };
    let server = match target.resolve() {
        Ok(s) => s,
        Err(e) => return drive::fail(e),
    };
    let password = match &target.user {
        Some(user) => match password(user) {
            Ok(p) => Some(p),
            Err(e) => return drive::fail(e),
        },
        None => None,
    };
    for path in [args.write.as_deref(), args.html.as_deref()].into_iter().flatten() {
        if !args.force && path.exists() {
            return drive::fail(format_args!("{}: exists; --force overwrites it", path.display()));
        }
    }
    let tls = match args.tls.then(|| ftpscope::probe::tls::Tls::new(&target.host, args.insecure)).transpose() {
        Ok(tls) => tls,
        Err(e) => return drive::fail(e),
    };
    let plan = Plan {
        server,
        user: target.user.clone(),
        password,
        path: target.path.clone(),
        step: Duration::from_secs_f64(args.step_timeout),
        total: Duration::from_secs_f64(args.timeout),
        follow_advertised: args.follow_advertised,
        modes: session::modes(server),
        tls,
    };
    let show = !args.output.quiet && io::stderr().is_terminal();
    let mut progress = |step: &str| {
        if show {
            let _ = writeln!(io::stderr(), "probe: {step}");
        }
    };
    let (seen, evidence, mut explained) = match run(&args, &plan, &mut progress) {
        Ok(run) => run,
        Err(e) => return drive::fail(e),
    };
    // The probe is the input, not the scratch file its packets passed through.
    if args.write.is_none() {
        for input in &mut explained.inputs {
            input.path = format!("probe of {}", target.display());
        }
    }
    let verdicts = probe::verdicts(&seen);
    let prober = probe::prober_side(&seen, &verdicts);
    let view = ProbeView {
        url: target.display(),
        server,
        evidence: &evidence,
        stopped: seen.stopped.as_ref(),
        prober: &prober,
        tls: seen.tls.as_ref(),
        modes: &verdicts,
    };
    if let Some(path) = &args.html {
        let page = crate::explain_cmd::create(path, args.force).and_then(|file| {
            let mut file = io::BufWriter::new(file);
            let (title, lines) = probe_lines(&view);
            let preface = ftpscope::report::html::Preface { title: &title, lines: &lines };
            ftpscope::report::html::write_with(&mut file, std::slice::from_ref(&explained), None, Some(&preface))?;
            file.flush()
        });
        if let Err(e) = page {
            return drive::fail(format_args!("writing {}: {e}", path.display()));
        }
    }
    let failed = explained.verdict.errors > 0 || seen.stopped.is_some();
    let mut out = io::BufWriter::new(io::stdout().lock());
    let written = if args.output.ndjson {
        // The analysis's events are out already: the probe's own part is the last line.
        serde_json::to_writer(&mut out, &serde_json::json!({ "event": "probe", "probe": view }))
            .map_err(io::Error::other)
            .and_then(|()| writeln!(out))
    } else if args.output.json {
        json(&mut out, &view, &explained)
    } else {
        // The verdict per mode first: what the person asked; then the explanation of the session.
        text(&mut out, &view).and_then(|()| explain::text::write(&mut out, std::slice::from_ref(&explained), args.output.color.on_stdout()))
    };
    drive::exit_status(written.and_then(|()| out.flush()), "the probe's report", failed)
}

/// The session, with its evidence analysed.
fn run(args: &ProbeArgs, plan: &Plan, progress: &mut dyn FnMut(&str)) -> Result<(Observed, Evidence, Explained), String> {
    #[cfg(feature = "live")]
    if !args.no_capture {
        match captured(args, plan, progress)? {
            Ok(done) => return Ok(done),
            Err(why) => return socket_evidence(args, plan, progress, why),
        }
    }
    let why = if args.no_capture { "--no-capture" } else { "this build has no live capture (libpcap)" };
    socket_evidence(args, plan, progress, why.to_string())
}

/// With capture: Ok(Err(why)) when the capture cannot start (then the sockets are the evidence).
#[cfg(feature = "live")]
fn captured(
    args: &ProbeArgs,
    plan: &Plan,
    progress: &mut dyn FnMut(&str),
) -> Result<Result<(Observed, Evidence, Explained), String>, String> {
    use ftpscope::probe::capture;
    let (path, keep) = match &args.write {
        Some(path) => (path.clone(), true),
        None => (temporary_path(), false),
    };
    if args.force && keep {
        let _ = std::fs::remove_file(&path);
    }
    let file = capture::private_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let own = match capture::start(plan.server, file) {
        Ok(own) => own,
        Err(why) => {
            let _ = std::fs::remove_file(&path);
            return Ok(Err(why));
        }
    };
    // The capture is open: nothing further needs privilege.
    if let Err(e) = ftpscope::live::privileges::drop_unneeded_capabilities() {
        return Err(format!("cannot give up capabilities: {e}"));
    }
    let seen = session::run(plan, progress);
    let done = own.finish();
    let analysed = done.and_then(|c| {
        let explained = analyse_capture(&path, args, plan)?;
        Ok((explained, Evidence::Capture { interface: c.interface, filter: c.filter, packets: c.packets, helper: c.helper }))
    });
    if !keep {
        let _ = std::fs::remove_file(&path);
    }
    let (explained, evidence) = analysed?;
    Ok(Ok((seen, evidence, explained)))
}

/// The captured packets through the analysis, as `explain` reads a capture (with --ndjson,
/// `analyze`'s events on standard output as well).
#[cfg(feature = "live")]
fn analyse_capture(path: &std::path::Path, args: &ProbeArgs, plan: &Plan) -> Result<Explained, String> {
    let input = drive::Inputs::open(&[path.to_path_buf()]).map_err(|e| e.to_string())?;
    let (collector, collected) = Collector::new();
    let settings = ftpscope::analyzer::Settings {
        timeline_lines: crate::explain_cmd::TIMELINE_LINES,
        intent: intent(args, plan),
        guessing: args.intent.guessing_threshold,
        ..Default::default()
    };
    let sink = Both::new(collector, args.output.ndjson);
    let finished = drive::through(input, settings, Box::new(sink), &ftpscope::capture::progress::Progress::new(None, false))
        .map_err(|e| e.to_string())?;
    finished.written.map_err(|e| e.to_string())?;
    collected.recv().map_err(|_| "the analysis ended without a result".to_string())
}

#[cfg(feature = "live")]
fn temporary_path() -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    std::env::temp_dir().join(format!("ftpscope-probe-{}-{nanos}.pcap", std::process::id()))
}

/// Without capture: the sockets' record, diagnosed by the same code, collected as explain does.
fn socket_evidence(
    args: &ProbeArgs,
    plan: &Plan,
    progress: &mut dyn FnMut(&str),
    why: String,
) -> Result<(Observed, Evidence, Explained), String> {
    let seen = session::run(plan, progress);
    let (collector, collected) = Collector::new();
    let mut collector = Both::new(collector, args.output.ndjson);
    let (events, frames) = probe::record::events(&seen, intent(args, plan));
    for event in &events {
        collector.event(event).map_err(|e| e.to_string())?;
    }
    let input = InputSummary { path: String::new(), first_frame: 1, frames, truncated: None, live: None };
    collector.finish(&[input]).map_err(|e| e.to_string())?;
    let explained = collected.recv().map_err(|_| "the diagnosis ended without a result".to_string())?;
    Ok((seen, Evidence::Sockets { why }, explained))
}

/// The intended setup as given, the probed port being the control port unless said otherwise:
/// so a control connection that failed is judged as one.
fn intent(args: &ProbeArgs, plan: &Plan) -> ftpscope::model::Intent {
    let given = args.intent.intent();
    ftpscope::model::Intent { control_port: given.control_port.or(Some(plan.server.port())), ..given }
}

/// Explain's collector and, with --ndjson, `analyze`'s events on standard output, from one
/// analysis.
struct Both {
    collector: Collector,
    events: Option<Ndjson<io::BufWriter<io::Stdout>>>,
}

impl Both {
    fn new(collector: Collector, ndjson: bool) -> Both {
        Both { collector, events: ndjson.then(|| Ndjson::new(io::BufWriter::new(io::stdout()))) }
    }
}

impl Sink for Both {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        self.collector.event(event)?;
        self.events.as_mut().map_or(Ok(()), |e| e.event(event))
    }

    fn wants_negotiation_events(&self) -> bool {
        self.events.as_ref().is_some_and(|e| e.wants_negotiation_events())
    }

    fn finish(&mut self, inputs: &[InputSummary]) -> io::Result<()> {
        if let Some(e) = &mut self.events {
            e.finish(inputs)?;
        }
        self.collector.finish(inputs)
    }
}

/// A named user's password: FTPSCOPE_PASSWORD, else a prompt on the terminal (not echoed).
fn password(user: &str) -> Result<String, String> {
    if let Ok(p) = std::env::var("FTPSCOPE_PASSWORD") {
        return Ok(p);
    }
    if !io::stdin().is_terminal() {
        return Err(format!("no password for {user}: set FTPSCOPE_PASSWORD (never on the command line)"));
    }
    eprint!("password for {user}: ");
    let echo_off =
        std::process::Command::new("stty").arg("-echo").stdin(std::process::Stdio::inherit()).status().is_ok_and(|s| s.success());
    let mut line = String::new();
    let read = io::stdin().read_line(&mut line);
    if echo_off {
        let _ = std::process::Command::new("stty").arg("echo").stdin(std::process::Stdio::inherit()).status();
    }
    eprintln!();
    read.map_err(|e| format!("reading the password: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn json(out: &mut dyn Write, view: &ProbeView<'_>, explained: &Explained) -> io::Result<()> {
    let mut explanation = Vec::new();
    explain::json::write(&mut explanation, std::slice::from_ref(explained), None, None)?;
    let explanation: serde_json::Value = serde_json::from_slice(&explanation).map_err(io::Error::other)?;
    let doc = serde_json::json!({ "schema": "ftpscope-probe/1", "probe": view, "explanation": explanation });
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}

fn text(out: &mut dyn Write, view: &ProbeView<'_>) -> io::Result<()> {
    let (title, lines) = probe_lines(view);
    writeln!(out, "=== {title}")?;
    for line in &lines {
        writeln!(out, "{line}")?;
    }
    writeln!(out)
}

/// The probe's own part in words, one line each: its title, then the evidence, TLS, where it
/// stopped, the verdict per mode and the probing side. The text and the page say the same.
fn probe_lines(view: &ProbeView<'_>) -> (String, Vec<String>) {
    let mut lines = vec![format!("evidence: {}", view.evidence.words())];
    if let Some(tls) = view.tls {
        let data = if tls.protected_data { "data connections in TLS too (PROT P)" } else { "data connections in clear text" };
        let certificate = tls.certificate_problem.as_deref().map_or("verified".to_string(), |p| format!("not verified: {p}"));
        lines.push(format!("TLS: the control connection after AUTH TLS, {data}; the certificate {certificate}"));
    }
    if let Some(stopped) = view.stopped {
        lines.push(format!("stopped: {}", stopped_words(stopped)));
    }
    for v in view.modes {
        lines.push(format!("{:<5} {}", format!("{:?}", v.command), mode_words(v)));
    }
    let p = view.prober;
    if let Some(local) = p.local {
        let side = match (p.behind_nat, p.path_helper) {
            (true, true) => "behind a NAT (a private address), whose FTP helper rewrote PORT/EPRT",
            (true, false) => "behind a NAT: PORT/EPRT name its private address",
            (false, _) => "reachable at its own address",
        };
        lines.push(format!("this side: {local}, {side}"));
    }
    (format!("Probe of {} ({})", view.url, view.server), lines)
}

fn mode_words(v: &ModeVerdict) -> String {
    use ftpscope::probe::verdict::Verdict;
    let mut words = v.verdict.words().to_string();
    if let Some(f) = v.failure {
        words.push_str(&format!(" ({})", f.as_str()));
    }
    match (v.verdict, v.advertised, v.dialed) {
        (Verdict::WorksOnlyIgnoringAddress, Some(adv), Some(to)) => {
            words.push_str(&format!(": the reply named {adv}, the data came through {to}"))
        }
        (_, Some(adv), _) if v.command.mode() == ftpscope::model::Mode::Passive => words.push_str(&format!(": the reply named {adv}")),
        (_, Some(adv), _) => words.push_str(&format!(": the probe listened at {adv}")),
        _ => {}
    }
    if let Some(from) = v.connected_from {
        words.push_str(&format!(", the server connected from {from}"));
    }
    if let Some(r) = &v.reply {
        words.push_str(&format!("; {} {}", r.code, r.text));
    }
    words
}

fn stopped_words(s: &Stopped) -> String {
    match s {
        Stopped::Control { dial } => format!("the control connection: {}", dial.as_str()),
        Stopped::Refused { step, reply } => format!("{step} refused: {} {}", reply.code, reply.text),
        Stopped::NoReply { step } => format!("no reply to {step} within the step's timeout"),
        Stopped::Broken { step, why } => format!("{step}: {why}"),
        Stopped::Tls { why } => format!("TLS: {why} (--insecure goes on all the same)"),
        Stopped::OutOfTime => "the probe's time ran out".into(),
    }
}
