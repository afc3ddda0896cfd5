//! The device: an interface opened with libpcap (the `pcap` crate) in immediate mode, with a
//! short read timeout, nanosecond timestamps and a BPF filter; its packets and counters as a
//! [`PacketSource`]; and the list of interfaces (`ftpscope live --list`).
//!
//! Owns every call into libpcap. Must not touch: the analysis. Errors are one line a person can
//! act on (no permission, no such interface, a bad filter), never a panic.

use super::helper::{CAPTURE_GROUP, HELPER_NAME};
use super::source::{Accumulated, Counters, Next, Packet, PacketSource};
use crate::capture::writer::LINKTYPE_RAW;
use crate::model::{LinkType, Timestamp};
use pcap::{Active, Capture, Error};
use std::fmt;

/// A wait for packets returns after this long, so that stop requests and quiet time are
/// noticed (the analysis is then told the time). libpcap's own read timeout is not used for
/// this: on Linux, with immediate mode, pcap_next_ex keeps polling past it and never returns on
/// a quiet interface (libpcap 1.10). So the handle is non-blocking and we poll its descriptor.
const READ_TIMEOUT_MS: i32 = 50;

pub struct OpenOptions<'a> {
    pub interface: &'a str,
    pub filter: &'a str,
    pub snaplen: u32,
    pub promiscuous: bool,
    /// The kernel's capture buffer, bytes; libpcap's default (2 MiB on Linux) when None.
    pub buffer_size: Option<u32>,
}

/// Why the capture could not start.
#[derive(Debug)]
pub enum OpenError {
    /// Not root and no capabilities, and no capture helper installed.
    Permission {
        interface: String,
        detail: String,
    },
    /// The capture helper is there but this user may not run it (not in the group).
    NotInGroup {
        interface: String,
    },
    /// The capture helper runs but has no capture capabilities either (opted out, or never set).
    HelperWithoutCapabilities {
        interface: String,
        helper: std::path::PathBuf,
    },
    /// The capture helper refused, in its words (a bad filter, no such interface).
    Helper {
        text: String,
    },
    NoSuchInterface {
        interface: String,
        detail: String,
    },
    BadFilter {
        filter: String,
        detail: String,
    },
    Other {
        interface: String,
        detail: String,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Permission { interface, detail } => write!(
                f,
                "no permission to capture on {interface} ({detail}), and no capture helper ({HELPER_NAME}) is installed: \
                 run as root, or install the Debian package and join the group {CAPTURE_GROUP}"
            ),
            OpenError::NotInGroup { interface } => write!(
                f,
                "no permission to capture on {interface}: join the group {CAPTURE_GROUP} (sudo adduser $USER {CAPTURE_GROUP}, \
                 then log in again), or run as root"
            ),
            OpenError::HelperWithoutCapabilities { interface, helper } => write!(
                f,
                "no permission to capture on {interface}: the capture helper {} has no capture capabilities \
                 (setcap cap_net_raw,cap_net_admin=eip on it), or run as root",
                helper.display()
            ),
            OpenError::Helper { text } => f.write_str(text),
            OpenError::NoSuchInterface { interface, detail } => {
                write!(f, "no interface {interface} ({detail}); `ftpscope live --list` shows the interfaces")
            }
            OpenError::BadFilter { filter, detail } => write!(f, "bad capture filter \"{filter}\": {detail}"),
            OpenError::Other { interface, detail } => write!(f, "cannot capture on {interface}: {detail}"),
        }
    }
}

fn message(e: &Error) -> String {
    match e {
        Error::PcapError(s) => s.clone(),
        other => other.to_string(),
    }
}

fn classify(interface: &str, e: Error) -> OpenError {
    let detail = message(&e);
    let lower = detail.to_ascii_lowercase();
    let interface = interface.to_string();
    if lower.contains("permission") || lower.contains("not permitted") {
        OpenError::Permission { interface, detail }
    } else if lower.contains("no such device") {
        OpenError::NoSuchInterface { interface, detail }
    } else {
        OpenError::Other { interface, detail }
    }
}

/// An open interface.
pub struct Device {
    cap: Capture<Active>,
    fd: std::os::fd::RawFd,
    /// The last read found nothing: wait on the descriptor before the next.
    drained: bool,
    /// The descriptor reported an error or hang-up.
    hangup: bool,
    link: LinkType,
    linktype: u32,
    snaplen: u32,
    /// libpcap's 32-bit counters, accumulated into exact totals.
    counted: Accumulated,
}

/// Opens `options.interface` and installs the filter. Needs CAP_NET_RAW (root, or setcap).
pub fn open(options: &OpenOptions<'_>) -> Result<Device, OpenError> {
    let interface = options.interface;
    let snaplen = i32::try_from(options.snaplen.clamp(64, 262_144)).unwrap_or(262_144);
    let mut inactive = Capture::from_device(interface)
        .map_err(|e| classify(interface, e))?
        .promisc(options.promiscuous)
        .snaplen(snaplen)
        // Immediate mode: packets are handed over as they arrive, not when a kernel block
        // fills, so events follow the wire closely.
        .immediate_mode(true)
        .timeout(READ_TIMEOUT_MS)
        .precision(pcap::Precision::Nano);
    if let Some(bytes) = options.buffer_size {
        inactive = inactive.buffer_size(i32::try_from(bytes).unwrap_or(i32::MAX));
    }
    let mut cap = inactive.open().map_err(|e| classify(interface, e))?;
    cap.filter(options.filter, true).map_err(|e| OpenError::BadFilter { filter: options.filter.to_string(), detail: message(&e) })?;
    let cap = cap.setnonblock().map_err(|e| classify(interface, e))?;
    let fd = std::os::fd::AsRawFd::as_raw_fd(&cap);
    let dlt = cap.get_datalink().0 as u32;
    // DLT_RAW is 12 (or 14) on some systems; files say LINKTYPE_RAW.
    let linktype = if dlt == 12 || dlt == 14 { LINKTYPE_RAW } else { dlt };
    let link = LinkType::from_linktype(linktype);
    Ok(Device { cap, fd, drained: false, hangup: false, link, linktype, snaplen: snaplen as u32, counted: Accumulated::default() })
}

impl PacketSource for Device {
    fn next_packet(&mut self) -> Next<'_> {
        if self.drained {
            self.drained = false;
            let mut poll = libc::pollfd { fd: self.fd, events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd, for the handle's own descriptor.
            let ready = unsafe { libc::poll(&mut poll, 1, READ_TIMEOUT_MS) };
            if ready == 0 || (ready < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted) {
                return Next::Timeout;
            }
            if ready > 0 && poll.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
                // The interface went away or down; the read below gets libpcap's words for it.
                self.hangup = true;
            }
        }
        match self.cap.next_packet() {
            Ok(p) => {
                // Nanosecond precision was asked for: tv_usec holds nanoseconds. The casts are
                // for systems where time_t or suseconds_t are narrower than i64. Saturating, as
                // a file's times are: a clock set past 2262 cannot wrap to before 1970.
                #[allow(clippy::unnecessary_cast)]
                let ts = Timestamp::from_secs_nanos(p.header.ts.tv_sec as i64, p.header.ts.tv_usec as i64);
                Next::Packet(Packet { ts, data: p.data, orig_len: p.header.len })
            }
            // Non-blocking: nothing queued right now.
            Err(Error::TimeoutExpired) if self.hangup => Next::End("interface_gone", "the interface went away".into()),
            Err(Error::TimeoutExpired) => {
                self.drained = true;
                Next::Idle
            }
            Err(Error::NoMorePackets) => Next::End("input_end", "no more packets".into()),
            // libpcap says "The interface disappeared" (deleted) or "The interface went down".
            Err(e) => Next::End("interface_gone", message(&e)),
        }
    }

    fn counters(&mut self) -> Option<Counters> {
        let s = self.cap.stats().ok()?;
        Some(self.counted.read(s.received, s.dropped, s.if_dropped))
    }

    fn link(&self) -> (LinkType, u32) {
        (self.link, self.linktype)
    }

    fn snaplen(&self) -> u32 {
        self.snaplen
    }
}

/// The interfaces libpcap can open, one line each, like `tcpdump -D`, with their addresses:
/// `1.eth0 [Up, Running, Connected] 10.0.0.20/24 fe80::1/64`.
pub fn list() -> Result<Vec<String>, String> {
    let devices = pcap::Device::list().map_err(|e| message(&e))?;
    Ok(devices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut state = Vec::new();
            if d.flags.is_up() {
                state.push("Up");
            }
            if d.flags.is_running() {
                state.push("Running");
            }
            if d.flags.is_wireless() {
                state.push("Wireless");
            }
            if d.flags.is_loopback() {
                state.push("Loopback");
            }
            state.push(match d.flags.connection_status {
                pcap::ConnectionStatus::Connected => "Connected",
                pcap::ConnectionStatus::Disconnected => "Disconnected",
                pcap::ConnectionStatus::NotApplicable => "Not applicable",
                _ => "Unknown",
            });
            let addresses: Vec<String> = d
                .addresses
                .iter()
                .map(|a| match a.netmask.map(prefix_len) {
                    Some(Some(len)) => format!("{}/{len}", a.addr),
                    _ => a.addr.to_string(),
                })
                .collect();
            let desc = d.desc.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
            format!("{}.{}{desc} [{}] {}", i + 1, d.name, state.join(", "), addresses.join(" ")).trim_end().to_string()
        })
        .collect())
}

/// The prefix length of a netmask, when it is one.
fn prefix_len(mask: std::net::IpAddr) -> Option<u32> {
    let bits: u128 = match mask {
        std::net::IpAddr::V4(m) => u128::from(u32::from(m)) << 96,
        std::net::IpAddr::V6(m) => u128::from(m),
    };
    let len = bits.leading_ones();
    (bits.count_ones() == len).then_some(len)
}
