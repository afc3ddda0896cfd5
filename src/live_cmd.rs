//! `ftpscope live`: the command line of live capture (part of the binary, beside main.rs).
//!
//! Owns the order of the privileged steps: the device is opened and `--write`'s file created
//! while privileged, then privileges are given up, and only then are threads started and
//! packets parsed. A build without the `live` feature (no libpcap) keeps the same arguments and
//! says what to install.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct LiveArgs {
    /// Interface to capture on ("any" for all); see --list.
    #[arg(short, long, value_name = "IFACE", required_unless_present = "list")]
    interface: Option<String>,
    /// List the interfaces with their addresses and link state (like tcpdump -D), then exit.
    #[arg(long, conflicts_with = "interface")]
    list: bool,
    /// BPF capture filter. Default: TCP and ICMP/ICMPv6, VLAN-tagged too. A filter on ports
    /// hides the data connections (their ports are negotiated at run time).
    #[arg(long, value_name = "BPF")]
    filter: Option<String>,
    /// Bytes kept of each packet.
    #[arg(long, value_name = "N", default_value_t = 262_144)]
    snaplen: u32,
    /// Do not put the interface in promiscuous mode.
    #[arg(long)]
    no_promisc: bool,
    /// Kernel capture buffer in bytes (suffixes K, M, G); more absorbs longer bursts. The
    /// default, 32 MiB, is sixteen times libpcap's: the analysis costs more per packet than
    /// writing a file, so it needs more room to catch up after a burst (bench/README.md).
    #[arg(long, value_name = "BYTES", value_parser = parse_size, default_value = "32M")]
    buffer_size: u32,
    /// Also save the packets as pcap, flushed as they come (valid after Ctrl-C).
    #[arg(long, short = 'w', value_name = "FILE")]
    write: Option<PathBuf>,
    /// Overwrite --write's file when it exists.
    #[arg(long, requires = "write")]
    force: bool,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    duration: Option<f64>,
    /// Stop after this many packets.
    #[arg(long, short = 'c', value_name = "PACKETS")]
    count: Option<u64>,
    /// User to switch to once the capture is open, when started as root ("root" keeps root).
    #[arg(long, short = 'Z', value_name = "NAME", default_value = "nobody")]
    user: String,
    // --json: the report when the capture stops; --ndjson: the events as they happen.
    #[command(flatten)]
    output: crate::output_args::OutputArgs,
    #[command(flatten)]
    log: crate::output_args::CommandLogArgs,
    /// The text stream instead of the terminal UI, which opens by default on a terminal.
    #[arg(long)]
    no_tui: bool,
    /// With the terminal UI: print the text report on standard output once the UI is closed.
    #[arg(long, conflicts_with_all = ["json", "ndjson", "no_tui"])]
    report: bool,
    #[command(flatten)]
    intent: crate::intent_args::IntentArgs,
    #[command(flatten)]
    content: crate::output_args::ContentArgs,
}

/// What to install, for a build without libpcap.
#[cfg(not(feature = "live"))]
pub const NOT_BUILT: &str = "ftpscope: this build has no live capture (it was built without libpcap). Install libpcap's \
development files (Debian/Ubuntu: apt-get install libpcap-dev; Fedora: dnf install libpcap-devel), then build with the \
live feature: cargo install --path . --features live";

fn parse_size(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let n: u64 = digits.parse().map_err(|_| format!("not a size: {text:?}"))?;
    let scale = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("unknown unit in {text:?} (K, M or G)")),
    };
    u32::try_from(n.saturating_mul(scale)).map_err(|_| format!("{text} is more than libpcap takes (4 GiB)"))
}

#[cfg(not(feature = "live"))]
pub fn live(_args: LiveArgs) -> ExitCode {
    eprintln!("{NOT_BUILT}");
    ExitCode::from(2)
}

#[cfg(feature = "live")]
pub fn live(args: LiveArgs) -> ExitCode {
    use ftpscope::capture::progress::Progress;
    use ftpscope::drive;
    use ftpscope::live::{self, device, filter, privileges, Format, LiveOptions};
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::flag;
    use std::io::{self, IsTerminal, Write};
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use std::time::Duration;

    if args.list {
        return match device::list() {
            Ok(lines) => {
                let mut out = io::stdout().lock();
                for line in lines {
                    let _ = writeln!(out, "{line}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => drive::fail(format!("cannot list interfaces: {e}")),
        };
    }
    let Some(interface) = args.interface else { return drive::fail("live needs -i IFACE (or --list)") };
    let duration = match args.duration {
        Some(s) if !(s.is_finite() && s > 0.0) => return drive::fail(format!("--duration {s}: needs a positive number of seconds")),
        Some(s) => Some(Duration::from_secs_f64(s.min(1e9))),
        None => None,
    };
    // Refused before anything is captured.
    if let Some(path) = &args.write {
        if !args.force && path.exists() {
            return drive::fail(format!("{}: exists; --force overwrites it", path.display()));
        }
    }
    let filter_text = args.filter.clone().unwrap_or_else(|| filter::DEFAULT_FILTER.to_string());
    let options = device::OpenOptions {
        interface: &interface,
        filter: &filter_text,
        snaplen: args.snaplen,
        promiscuous: !args.no_promisc,
        buffer_size: Some(args.buffer_size),
    };
    // The interface itself when this process may open it, else through the capture helper.
    let live::helper::Opened { source: device, helper } = match live::helper::open(&options) {
        Ok(opened) => opened,
        Err(e) => return drive::fail(e),
    };
    // Created while still privileged: the directory may be root's.
    let write: Option<Box<dyn Write + Send>> = match &args.write {
        Some(path) => {
            let mut open = std::fs::OpenOptions::new();
            open.write(true);
            if args.force {
                open.create(true).truncate(true);
            } else {
                open.create_new(true);
            }
            match open.open(path) {
                Ok(file) => Some(Box::new(io::BufWriter::with_capacity(1 << 16, file))),
                Err(e) => return drive::fail(format!("{}: {e}", path.display())),
            }
        }
        None => None,
    };
    // From here on packets are parsed: without privileges (README, "Privileges").
    let running_as = match (privileges::drop_privileges(&args.user), &helper) {
        (Ok(_), Some(helper)) => format!("captured by {}", helper.display()),
        (Ok(privileges::Dropped::User { name, .. }), None) => format!("running as {name}"),
        (Ok(privileges::Dropped::Capabilities), None) => "capabilities dropped".to_string(),
        (Ok(privileges::Dropped::Kept), None) => "still root (--user root)".to_string(),
        (Err(e), _) => return drive::fail(format!("cannot give up privileges: {e}")),
    };
    let stop = Arc::new(AtomicBool::new(false));
    // First Ctrl-C, SIGTERM or SIGHUP: stop and report. A second one: the user means it (the
    // exit comes first: it is armed by the first signal's flag).
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        let handled = flag::register_conditional_shutdown(signal, 130, stop.clone()).and_then(|_| flag::register(signal, stop.clone()));
        if let Err(e) = handled {
            return drive::fail(format!("cannot handle signals: {e}"));
        }
    }
    let filter_warning = filter::data_connections_warning(&filter_text);
    if !args.output.quiet {
        eprintln!("ftpscope: listening on {interface} (snaplen {}, {running_as}), filter: {filter_text}", args.snaplen);
    }
    if let Some(w) = &filter_warning {
        eprintln!("ftpscope: warning: {w}");
    }
    // The terminal UI by default on a terminal; a report or a stream otherwise.
    let tui = !args.no_tui && !args.output.json && !args.output.ndjson && io::stdout().is_terminal();
    let status_line = Progress::status(io::stderr().is_terminal() && !args.output.quiet && !tui);
    let color = args.output.color.on_stdout();
    let format = if args.output.json {
        Format::Json
    } else if args.output.ndjson {
        Format::Ndjson
    } else {
        Format::Text { color }
    };
    if tui && args.content.asked() {
        return drive::fail("--hash and --extract write into the report: add --no-tui");
    }
    // Made after privileges are given up: the files are the user's, not root's.
    let content = match args.content.sink() {
        Ok(content) => content,
        Err(e) => return drive::fail(e),
    };
    let options = LiveOptions {
        interface: interface.clone(),
        filter: filter_text,
        snaplen: args.snaplen,
        promiscuous: !args.no_promisc,
        format,
        duration,
        count: args.count,
        written_to: args.write.as_ref().map(|p| p.display().to_string()),
        status: status_line.clone(),
        stats_every: Duration::from_secs(10),
        intent: args.intent.intent(),
        guessing: args.intent.guessing_threshold,
        commands: args.log.commands || args.log.verbose,
        hash_data: args.content.asked(),
        content,
    };
    // Either way the run ends alike: why the capture stopped, then the status: the --write
    // file first (what it saved is incomplete), then the report's output.
    let saved_to = args.write.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    let ended = |why: &str, c: live::source::Counters| {
        eprintln!(
            "ftpscope: capture on {interface} ended: {why}; {} packet(s) received, {} dropped by the kernel, {} by the interface",
            c.received, c.dropped, c.interface_dropped
        );
    };
    let status = |write_error: Option<io::Error>, written: io::Result<()>, found_errors: bool| match write_error {
        Some(e) => drive::fail(format_args!("writing {saved_to}: {e}")),
        None => drive::exit_status(written, "the report", found_errors),
    };
    if tui {
        let end = live::ui::run_with_ui(device, write, options, stop, args.report, color);
        let written = match &end.report {
            Some(report) => {
                let mut out = io::stdout().lock();
                out.write_all(report).and_then(|_| out.flush())
            }
            None => Ok(()),
        };
        ended(&end.ended, end.counters.unwrap_or_default());
        if let Some(e) = end.terminal_error {
            return drive::fail(format_args!("terminal: {e}"));
        }
        return status(end.write_error, written, end.errors > 0);
    }
    let out = Box::new(status_line.writer(io::stdout()));
    let end = live::run(device, write, options, out, stop);
    // One line saying why it stopped, always when the interface or the capture helper went away.
    if !args.output.quiet || matches!(end.ended_kind, "interface_gone" | "helper_end") {
        ended(&end.ended, end.counters.unwrap_or_default());
    }
    status(end.write_error, end.finished.written, end.finished.errors > 0)
}
