//! The `ftpscope` command: reads captures (or, `live`, an interface), feeds the analyzer, hands
//! its events to an output.
//!
//! Owns the command line (clap types stay here) and the choice of output. Reading the inputs
//! and the exit status are the driver's (`ftpscope::drive`). `live`'s command line is in
//! live_cmd.rs, `explain`'s in explain_cmd.rs.

mod color_args;
mod explain_cmd;
mod generate_cmd;
mod intent_args;
mod live_cmd;
mod narrow_args;
mod output_args;
mod probe_cmd;

use clap::{CommandFactory, Parser, Subcommand};
use ftpscope::analyzer::Settings;
use ftpscope::capture::progress::Progress;
use ftpscope::drive::{self, Inputs};
use ftpscope::report::json::JsonDocument;
use ftpscope::report::narrow::Narrowed;
use ftpscope::report::ndjson::Ndjson;
use ftpscope::report::summary::SummaryLines;
use ftpscope::report::text::Text;
use ftpscope::report::Sink;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;

/// `--version`: the version, then what this build can do (live capture and `--filter` need
/// libpcap, a build-time choice). `-V` says the version alone.
#[cfg(feature = "live")]
const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\nlive capture: yes (libpcap)\n--filter on saved captures: yes (libpcap)");
#[cfg(not(feature = "live"))]
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\nlive capture: no (built without libpcap)\n--filter on saved captures: no (built without libpcap)"
);

#[derive(Parser)]
#[command(name = "ftpscope", version, long_version = LONG_VERSION, about = "Packet-inspecting FTP session analyzer: why LIST hangs, why passive mode fails behind NAT")]
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
        #[command(flatten)]
        output: output_args::OutputArgs,
        #[command(flatten)]
        log: output_args::CommandLogArgs,
        #[command(flatten)]
        view: narrow_args::ViewArgs,
        #[command(flatten)]
        narrow: narrow_args::NarrowArgs,
        /// Show the sessions, negotiations and findings in a terminal UI (keys: ? for help).
        #[arg(long, help_heading = "Terminal UI", conflicts_with_all = ["json", "ndjson", "summary", "errors_only", "session", "host", "verbose"])]
        tui: bool,
        /// With --tui: print the text report on standard output once the UI is closed. With
        /// standard output redirected (> FILE), the UI is drawn on the terminal and the report
        /// goes to the file.
        #[arg(long, help_heading = "Terminal UI", requires = "tui")]
        report: bool,
        #[command(flatten)]
        intent: intent_args::IntentArgs,
        #[command(flatten)]
        content: output_args::ContentArgs,
    },
    /// Watch an interface (libpcap): events as they happen, the report when stopped.
    ///
    /// Stops on Ctrl-C / SIGTERM, --duration or --count, or when the interface goes away;
    /// then prints the report (text, or one JSON document with --json) and exits with the
    /// status of `analyze`. Needs root, or membership in the group ftpscope (the Debian
    /// package's capture helper captures for it); privileges are given up once the capture is
    /// open. Built only with the `live` feature (libpcap).
    Live(live_cmd::LiveArgs),
    /// Explain each capture for a person: a verdict, then per session with a problem what
    /// happened on the wire (frame by frame), why, what to change, and a ladder diagram.
    ///
    /// Healthy sessions get one line each. One capture point is explained, or two of the same
    /// traffic, each on its own and then paired; rotated pieces of one point join with commas
    /// (a0.pcap,a1.pcap). Exit status as for analyze: 0 no error finding, 1 at least one, 2
    /// unusable input or usage.
    Explain(explain_cmd::ExplainArgs),
    /// Probe an FTP server from here: a short session of ftpscope's own in every data mode
    /// (PASV, EPSV, PORT, EPRT), its own packets captured and explained as `explain` does, and
    /// a verdict per mode.
    ///
    /// Only the named host is contacted, each step within --step-timeout and all within
    /// --timeout, QUIT at the end. Without capture privilege (or libpcap) the sockets'
    /// observations are diagnosed instead, and the report says the evidence is thinner. Exit
    /// status: 0 no error finding, 1 an error finding (or the session could not go on), 2 bad
    /// input (a malformed URL, an unknown host).
    Probe(probe_cmd::ProbeArgs),
    /// Print the shell completion script for bash, zsh or fish on standard output.
    ///
    /// bash: ftpscope completions bash > /usr/share/bash-completion/completions/ftpscope;
    /// zsh: ... zsh > _ftpscope in a directory of $fpath; fish: ... fish >
    /// ~/.config/fish/completions/ftpscope.fish.
    Completions {
        #[arg(value_enum)]
        shell: generate_cmd::Shell,
    },
    /// Print the man page (roff) on standard output: ftpscope man | man -l -
    Man,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    // Only `live` and `probe` may need capabilities (until their capture is open): the others
    // parse files.
    #[cfg(feature = "live")]
    if !matches!(cli.command, Command::Live(_) | Command::Probe(_)) {
        if let Err(e) = ftpscope::live::privileges::drop_unneeded_capabilities() {
            return drive::fail(format_args!("cannot give up capabilities: {e}"));
        }
    }
    match cli.command {
        Command::Analyze { files, output, log, view, narrow, tui, report, intent, content } => {
            analyze(&files, Analyze { output, log, view, narrow, tui, report, intent, content })
        }
        Command::Live(args) => live_cmd::live(args),
        Command::Explain(args) => explain_cmd::explain(args),
        Command::Probe(args) => probe_cmd::probe(args),
        Command::Completions { shell } => {
            let mut out = io::stdout().lock();
            generate_cmd::completions(shell, &mut Cli::command(), &mut out);
            drive::exit_status(out.flush(), "the completions", false)
        }
        Command::Man => {
            let mut out = io::stdout().lock();
            let written = generate_cmd::man(Cli::command(), &mut out).and_then(|()| out.flush());
            drive::exit_status(written, "the man page", false)
        }
    }
}

/// A command line clap refused (exit 2: the exit contract's "usage"), in the style of every
/// other error, `ftpscope: what went wrong`, with clap's tip (the closest option) and the
/// usage line; `--help` and `--version` are no errors (standard output, 0).
fn usage_error(e: &clap::Error) -> ExitCode {
    if !e.use_stderr() {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let rendered = e.render().to_string();
    let text = rendered.strip_prefix("error: ").unwrap_or(&rendered);
    let _ = write!(io::stderr(), "ftpscope: {text}");
    ExitCode::from(2)
}

/// `analyze`'s flags, past the files.
struct Analyze {
    output: output_args::OutputArgs,
    log: output_args::CommandLogArgs,
    view: narrow_args::ViewArgs,
    narrow: narrow_args::NarrowArgs,
    tui: bool,
    report: bool,
    intent: intent_args::IntentArgs,
    content: output_args::ContentArgs,
}

fn analyze(files: &[PathBuf], a: Analyze) -> ExitCode {
    let filter = match a.narrow.frame_filter() {
        Ok(filter) => filter,
        Err(e) => return drive::fail(e),
    };
    let inputs = match Inputs::open(files) {
        Ok(inputs) => inputs,
        Err(e) => return drive::fail(e),
    };
    let inputs = match filter {
        Some(filter) => inputs.filtered(filter),
        None => inputs,
    };
    if a.tui && a.content.extract.is_some() {
        return drive::fail("--extract writes files as the analysis goes: not with --tui (--hash is)");
    }
    let content = match a.content.sink() {
        Ok(content) => content,
        Err(e) => return drive::fail(e),
    };
    if a.tui {
        return ftpscope::tui::run(
            inputs,
            ftpscope::tui::Options { report: a.report, color: a.output.color.allowed(), hash: a.content.hash },
        );
    }
    // One bar for all inputs, on a terminal only; its total is known when every input is a
    // file.
    let progress = Progress::new(inputs.size(), io::stderr().is_terminal() && !a.output.quiet);
    // Buffered: stdout alone flushes at every newline, one system call per line.
    let out = io::BufWriter::with_capacity(1 << 16, progress.writer(io::stdout()));
    let sink = report_sink(out, &a);
    let selection = a.narrow.selection(a.view.errors_only);
    let (sink, errors_shown): (Box<dyn Sink + Send>, _) = if selection.is_everything() {
        (sink, None)
    } else {
        let (narrowed, errors_shown) = Narrowed::new(sink, selection);
        (Box::new(narrowed), Some(errors_shown))
    };
    let settings =
        Settings { intent: a.intent.intent(), guessing: a.intent.guessing_threshold, hash_data: a.content.asked(), ..Settings::default() };
    match drive::through_with(inputs, settings, sink, content, &progress) {
        // Narrowed, the status is that of what was shown (the chosen sessions and the whole
        // capture's findings).
        Ok(mut finished) => {
            if let Some(shown) = errors_shown {
                finished.errors = shown.load(Ordering::Relaxed);
            }
            drive::finished_status(finished, "the report")
        }
        Err(e) => drive::fail(e),
    }
}

/// The output `analyze`'s flags ask for, over `out`.
fn report_sink<W: Write + Send + 'static>(out: W, a: &Analyze) -> Box<dyn Sink + Send> {
    let color = a.output.color.on_stdout();
    if a.output.json {
        Box::new(JsonDocument::new(out))
    } else if a.output.ndjson {
        Box::new(Ndjson::new(out).with_commands(a.log.commands))
    } else if a.view.summary {
        Box::new(SummaryLines::new(out, color))
    } else {
        Box::new(Text::new(out, color).with_commands(a.log.verbose))
    }
}

// The reader, the analysis and the writer hand each other memory (frame batches, events):
// glibc's allocator serialises frees of another thread's memory on its arena locks, mimalloc
// frees them without contention (bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
