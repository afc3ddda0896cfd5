//! `ftpscope-capture`: the capture helper, ftpscope's dumpcap. The Debian package installs it
//! root:ftpscope, mode 0750, with `cap_net_raw,cap_net_admin=eip`, so that members of the group
//! `ftpscope` capture without root while `ftpscope` itself stays an ordinary program.
//!
//! It opens the interface, applies the BPF filter, gives up its capabilities (the open socket
//! is all it needs), and writes the packets to stdout as a pcap stream (nanosecond timestamps),
//! nothing else: it never looks inside a packet, so the privileged program parses nothing that
//! came off the wire. On stderr it says libpcap's counters every second and at the end, and why
//! its capture ended (ftpscope reads both: src/live/helper.rs). It stops on SIGTERM, SIGINT or
//! SIGHUP, when the interface goes away, or when its reader goes.

use clap::Parser;
use ftpscope::capture::writer::{PcapFormat, PcapWriter, Precision};
use ftpscope::live::device::{self, OpenError, OpenOptions};
use ftpscope::live::filter::DEFAULT_FILTER;
use ftpscope::live::helper::{counters_line, end_line, EXIT_NO_PERMISSION};
use ftpscope::live::privileges;
use ftpscope::live::source::{Next, PacketSource};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::flag;
use std::fs::File;
use std::io::{self, BufWriter};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Counters are said this often.
const COUNTERS_EVERY: Duration = Duration::from_secs(1);
/// On a busy wire the clock is read once per this many packets.
const CLOCK_EVERY: u64 = 1024;

#[derive(Parser)]
#[command(
    name = "ftpscope-capture",
    version,
    about = "ftpscope's capture helper: writes an interface's packets to stdout as a pcap stream (run by `ftpscope live`)"
)]
struct Args {
    /// Interface to capture on.
    #[arg(short, long, value_name = "IFACE")]
    interface: String,
    /// BPF capture filter.
    #[arg(long, value_name = "BPF", default_value = DEFAULT_FILTER)]
    filter: String,
    /// Bytes kept of each packet.
    #[arg(long, value_name = "N", default_value_t = 262_144)]
    snaplen: u32,
    /// Do not put the interface in promiscuous mode.
    #[arg(long)]
    no_promisc: bool,
    /// Kernel capture buffer in bytes (libpcap's default when not given).
    #[arg(long, value_name = "BYTES")]
    buffer_size: Option<u32>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let options = OpenOptions {
        interface: &args.interface,
        filter: &args.filter,
        snaplen: args.snaplen,
        promiscuous: !args.no_promisc,
        buffer_size: args.buffer_size,
    };
    let mut device = match device::open(&options) {
        Ok(device) => device,
        Err(OpenError::Permission { interface, detail }) => {
            eprintln!(
                "ftpscope-capture: no permission to capture on {interface} ({detail}): this helper needs \
                 cap_net_raw,cap_net_admin=eip (setcap, as the Debian package's postinst does), or root"
            );
            return ExitCode::from(EXIT_NO_PERMISSION);
        }
        Err(e) => return fail(e),
    };
    // The socket is open: nothing from here on needs a privilege.
    if let Err(e) = privileges::drop_privileges("nobody") {
        return fail(format_args!("cannot give up privileges: {e}"));
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        let handled = flag::register_conditional_shutdown(signal, 130, stop.clone()).and_then(|_| flag::register(signal, stop.clone()));
        if let Err(e) = handled {
            return fail(format_args!("cannot handle signals: {e}"));
        }
    }
    // stdout as a plain file: Rust's stdout would flush at every newline byte of the packets.
    let stdout = match io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => File::from(fd),
        Err(e) => return fail(format_args!("stdout: {e}")),
    };
    let reader = stdout.as_raw_fd();
    let (_, linktype) = device.link();
    let format = PcapFormat { link_type: linktype, snaplen: device.snaplen(), precision: Precision::Nanos, ..PcapFormat::default() };
    // The header goes at once: it tells ftpscope that the capture is open.
    let mut out = match PcapWriter::new(BufWriter::with_capacity(1 << 16, stdout), format).and_then(|mut w| w.flush().map(|_| w)) {
        Ok(out) => out,
        Err(e) => return fail(format_args!("writing the stream: {e}")),
    };
    let (kind, detail) = relay(&mut device, &mut out, &stop, reader);
    let _ = out.flush();
    if let Some(c) = device.counters() {
        eprintln!("{}", counters_line(&c));
    }
    eprintln!("{}", end_line(kind, &detail));
    ExitCode::SUCCESS
}

/// Copies packets from the device to the stream until a stop, the device's end or the reader's:
/// why it ended, as `(kind, words)`.
fn relay(
    device: &mut impl PacketSource,
    out: &mut PcapWriter<BufWriter<File>>,
    stop: &AtomicBool,
    reader: RawFd,
) -> (&'static str, String) {
    let mut counted_at = Instant::now();
    let mut packets = 0u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            return ("signal", "stopped by a signal".into());
        }
        let check = match device.next_packet() {
            Next::Packet(p) => {
                let orig_len = p.orig_len.max(p.data.len() as u32);
                if let Err(e) = out.write_packet(p.ts, p.data, orig_len) {
                    return ("output_closed", format!("writing the stream: {e}"));
                }
                packets += 1;
                packets.is_multiple_of(CLOCK_EVERY)
            }
            // Nothing queued: what was written goes to ftpscope now, not when a buffer fills.
            Next::Idle | Next::Timeout => {
                if let Err(e) = out.flush() {
                    return ("output_closed", format!("writing the stream: {e}"));
                }
                if reader_gone(reader) {
                    return ("output_closed", "the stream's reader is gone".into());
                }
                true
            }
            Next::End(kind, detail) => return (kind, detail),
        };
        if check && counted_at.elapsed() >= COUNTERS_EVERY {
            counted_at = Instant::now();
            if let Some(c) = device.counters() {
                eprintln!("{}", counters_line(&c));
            }
        }
    }
}

/// The pipe's reading end was closed (ftpscope exited): on a quiet wire no write would tell.
fn reader_gone(fd: RawFd) -> bool {
    let mut poll = libc::pollfd { fd, events: 0, revents: 0 };
    // SAFETY: one valid pollfd, for our own stdout, with no wait.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready > 0 && poll.revents & (libc::POLLERR | libc::POLLHUP) != 0
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("ftpscope-capture: {message}");
    ExitCode::from(2)
}
