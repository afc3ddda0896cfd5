//! The `ftpscope` command: reads captures (or, `live`, an interface), feeds the analyzer, hands
//! its events to an output.
//!
//! Owns the command line (clap types stay here) and the choice of output. Reading the inputs
//! and the exit status are the driver's (`ftpscope::drive`). `live`'s command line is in
//! live_cmd.rs, `explain`'s in explain_cmd.rs.

mod color_args;
mod explain_cmd;
mod intent_args;
mod live_cmd;

use clap::{Parser, Subcommand};
use ftpscope::analyzer::Settings;
use ftpscope::capture::progress::Progress;
use ftpscope::drive::{self, Inputs};
use ftpscope::report::json::JsonDocument;
use ftpscope::report::ndjson::Ndjson;
use ftpscope::report::text::Text;
use ftpscope::report::Sink;
use std::io::{self, IsTerminal};
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
        /// Print the report as one JSON document (schema ftpscope/3, docs/schema.md).
        #[arg(long, conflicts_with = "ndjson")]
        json: bool,
        /// Print one JSON object per event, per line, as it becomes known (docs/schema.md).
        #[arg(long)]
        ndjson: bool,
        /// With --ndjson: a `command` event per command and its reply (PASS and ACCT masked).
        #[arg(long, requires = "ndjson")]
        commands: bool,
        /// The text report with the command log: a line per command and its reply.
        #[arg(long, short, conflicts_with_all = ["json", "ndjson", "tui"])]
        verbose: bool,
        #[command(flatten)]
        color: color_args::ColorArgs,
        /// No progress bar on standard error.
        #[arg(long, short)]
        quiet: bool,
        /// Show the sessions, negotiations and findings in a terminal UI (keys: ? for help).
        #[arg(long, conflicts_with_all = ["json", "ndjson"])]
        tui: bool,
        /// With --tui: print the text report on standard output once the UI is closed. With
        /// standard output redirected (> FILE), the UI is drawn on the terminal and the report
        /// goes to the file.
        #[arg(long, requires = "tui")]
        report: bool,
        #[command(flatten)]
        intent: intent_args::IntentArgs,
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
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    // Only `live` may need capabilities (until its capture is open): the others parse files.
    #[cfg(feature = "live")]
    if !matches!(cli.command, Command::Live(_)) {
        if let Err(e) = ftpscope::live::privileges::drop_unneeded_capabilities() {
            return drive::fail(format_args!("cannot give up capabilities: {e}"));
        }
    }
    match cli.command {
        Command::Analyze { files, json, ndjson, commands, verbose, color, quiet, tui, report, intent } => {
            let inputs = match Inputs::open(&files) {
                Ok(inputs) => inputs,
                Err(e) => return drive::fail(e),
            };
            if tui {
                return ftpscope::tui::run(inputs, ftpscope::tui::Options { report, color: color.allowed() });
            }
            // One bar for all inputs, on a terminal only; its total is known when every input
            // is a file.
            let progress = Progress::new(inputs.size(), io::stderr().is_terminal() && !quiet);
            // Buffered: stdout alone flushes at every newline, one system call per line.
            let out = io::BufWriter::with_capacity(1 << 16, progress.writer(io::stdout()));
            let color = color.on_stdout();
            let sink: Box<dyn Sink + Send> = if json {
                Box::new(JsonDocument::new(out))
            } else if ndjson {
                Box::new(Ndjson::new(out).with_commands(commands))
            } else {
                Box::new(Text::new(out, color).with_commands(verbose))
            };
            let settings = Settings { intent: intent.intent(), guessing: intent.guessing_threshold, ..Settings::default() };
            match drive::through(inputs, settings, sink, &progress) {
                Ok(finished) => drive::finished_status(finished, "the report"),
                Err(e) => drive::fail(e),
            }
        }
        Command::Live(args) => live_cmd::live(args),
        Command::Explain(args) => explain_cmd::explain(args),
    }
}

// The reader, the analysis and the writer hand each other memory (frame batches, events):
// glibc's allocator serialises frees of another thread's memory on its arena locks, mimalloc
// frees them without contention (bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
