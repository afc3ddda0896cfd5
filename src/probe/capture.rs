//! The probe's evidence on the wire: its own packets to and from the server, captured with
//! libpcap on the interface its route to the server takes (as root, or through the capture
//! helper), into a pcap file that the analysis then reads as any capture.
//!
//! Owns the capture thread. Built with the `live` feature only; without it, or without the
//! privilege, the probe's sockets are the evidence (super::record).

use crate::capture::writer::{ByteOrder, PcapFormat, PcapWriter, Precision};
use crate::live::device::{OpenError, OpenOptions};
use crate::live::helper;
use crate::live::source::{Next, PacketSource};
use std::fs::File;
use std::io::{self, BufWriter};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// After the session, packets still on their way (the server's FIN, a late RST) are waited for
/// this long.
const TAIL: Duration = Duration::from_millis(300);
/// Enough for every header and the control lines; the listings' bytes need not be kept.
const SNAPLEN: u32 = 2048;
/// Most packets kept: a probe is a few dozen; a flood to the prober's address does not fill
/// the disk.
const MAX_PACKETS: u64 = 20_000;

/// A capture running beside the probe.
pub struct Own {
    pub interface: String,
    pub filter: String,
    pub helper: bool,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<io::Result<u64>>,
}

/// What the capture kept.
pub struct Captured {
    pub interface: String,
    pub filter: String,
    pub packets: u64,
    pub helper: bool,
}

/// Starts capturing the traffic with `server` into `file`; an error says why it cannot (no
/// privilege, no libpcap device), for the report's note on thinner evidence.
pub fn start(server: SocketAddr, file: File) -> Result<Own, String> {
    let interface = route_interface(server).unwrap_or_else(|| "any".to_string());
    let filter = format!("host {}", server.ip());
    let options = OpenOptions { interface: &interface, filter: &filter, snaplen: SNAPLEN, promiscuous: false, buffer_size: None };
    let opened = helper::open(&options).map_err(|e| match e {
        OpenError::Permission { .. } | OpenError::NotInGroup { .. } | OpenError::HelperWithoutCapabilities { .. } => {
            format!("no capture privilege: {e}")
        }
        other => other.to_string(),
    })?;
    let helper = opened.helper.is_some();
    let mut source = opened.source;
    let (_, linktype) = source.link();
    let format =
        PcapFormat { link_type: linktype, snaplen: source.snaplen(), precision: Precision::Nanos, byte_order: ByteOrder::LittleEndian };
    let mut writer = PcapWriter::new(BufWriter::new(file), format).map_err(|e| e.to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        let mut until: Option<Instant> = None;
        loop {
            if until.is_none() && stopping.load(Ordering::Relaxed) {
                until = Some(Instant::now() + TAIL);
            }
            if until.is_some_and(|u| Instant::now() >= u) {
                break;
            }
            match source.next_packet() {
                Next::Packet(p) if writer.packets() < MAX_PACKETS => writer.write_packet(p.ts, p.data, p.orig_len)?,
                Next::Packet(_) | Next::Timeout | Next::Idle => {}
                Next::End(..) => break,
            }
        }
        source.stop();
        writer.flush()?;
        Ok(writer.packets())
    });
    Ok(Own { interface, filter, helper, stop, thread })
}

impl Own {
    /// Stops after the tail of the session's packets; what was kept.
    pub fn finish(self) -> Result<Captured, String> {
        self.stop.store(true, Ordering::Relaxed);
        let packets = self.thread.join().map_err(|_| "the capture thread panicked".to_string())?.map_err(|e| e.to_string())?;
        Ok(Captured { interface: self.interface, filter: self.filter, packets, helper: self.helper })
    }
}

/// The interface holding the address the kernel would send from to `server` (a connected UDP
/// socket sends nothing: it only asks the routing table).
fn route_interface(server: SocketAddr) -> Option<String> {
    let bind: SocketAddr = if server.is_ipv4() { "0.0.0.0:0".parse().ok()? } else { "[::]:0".parse().ok()? };
    let socket = UdpSocket::bind(bind).ok()?;
    socket.connect(server).ok()?;
    let local: IpAddr = socket.local_addr().ok()?.ip();
    let devices = pcap::Device::list().ok()?;
    devices.into_iter().find(|d| d.addresses.iter().any(|a| a.addr == local)).map(|d| d.name)
}

/// A new file only this user can read, for the capture (created, never an existing one).
pub fn private_file(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}
