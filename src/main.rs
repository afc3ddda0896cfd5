//! The `ftpscope` command: reads captures, feeds the analyzer, prints the report.
//!
//! Owns the command line (clap types stay here) and the I/O edges: files, stdout, exit status.

use clap::{Parser, Subcommand};
use ftpscope::analyzer::{Analyzer, Settings};
use ftpscope::capture;
use ftpscope::report::InputSummary;
use std::io::{IsTerminal, Write};
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
    /// tcpdump -C/-G); frames are numbered across them. Exit status: 0 no error finding,
    /// 1 at least one error finding, 2 unusable input or usage.
    Analyze {
        /// Capture files; "-" for standard input.
        #[arg(required = true, value_name = "CAPTURE")]
        files: Vec<PathBuf>,
        /// Print the report as one JSON document (schema ftpscope/1).
        #[arg(long)]
        json: bool,
        /// No colour, even on a terminal (NO_COLOR in the environment does the same).
        #[arg(long)]
        no_color: bool,
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
        Command::Analyze { files, json, no_color } => analyze(&files, json, no_color),
    }
}

fn analyze(files: &[PathBuf], json: bool, no_color: bool) -> ExitCode {
    let mut analyzer = Analyzer::new(Settings::default());
    let mut inputs = Vec::new();
    let mut next_frame = 1;
    for path in files {
        let result = capture::read_path(path, next_frame, &mut |frame| analyzer.feed(frame));
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
                eprintln!("ftpscope: {e}");
                return ExitCode::from(2);
            }
        }
    }
    analyzer.finish();
    let mut report = analyzer.report();
    report.capture.truncated = inputs.iter().any(|i| i.truncated.is_some());
    report.capture.inputs = inputs;

    // Buffered: stdout alone flushes at every newline, one system call per JSON line.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = if json {
        serde_json::to_writer_pretty(&mut out, &report).map_err(std::io::Error::from).and_then(|_| writeln!(out))
    } else {
        let color = !no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
        out.write_all(ftpscope::report::text::render(&report, color).as_bytes())
    };
    if let Err(e) = written.and_then(|_| out.flush()) {
        // A closed pipe (| head) is not an error worth a message.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("ftpscope: writing the report: {e}");
            return ExitCode::from(2);
        }
    }
    if report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
