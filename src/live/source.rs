//! Where live packets come from, as the capture loop sees it: one packet at a time, a read that
//! timed out (the wire is quiet), or the end. The device (libpcap, `device.rs`) is one source;
//! tests drive the same loop with generated packets (tests/live_memory.rs), so everything but
//! the device is tested without privileges or libpcap.

use crate::model::{LinkType, Timestamp};

/// One captured packet, borrowed from the source until the next read.
pub struct Packet<'a> {
    pub ts: Timestamp,
    pub data: &'a [u8],
    /// Length on the wire (more than `data` when the snap length cut it).
    pub orig_len: u32,
}

/// What a read gave.
pub enum Next<'a> {
    Packet(Packet<'a>),
    /// Nothing arrived within the read timeout: capture time still moves on.
    Timeout,
    /// Nothing queued right now (the next read waits, up to the timeout).
    Idle,
    /// The source ended: `(kind, words)`, e.g. `("interface_gone", "The interface disappeared")`.
    End(&'static str, String),
}

/// libpcap's counters (pcap_stats): since the capture started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    /// Packets that passed the filter (Linux: including those dropped later for want of room).
    pub received: u64,
    /// Dropped because the capture buffer was full: the analysis did not see them.
    pub dropped: u64,
    /// Dropped by the interface or its driver.
    pub interface_dropped: u64,
}

impl Counters {
    pub fn lost(&self) -> u64 {
        self.dropped + self.interface_dropped
    }
}

/// A source of live packets. Reads must return within a short timeout ([`Next::Timeout`]) so
/// that stop requests and the passing of time are noticed on a quiet wire.
pub trait PacketSource {
    fn next_packet(&mut self) -> Next<'_>;
    /// The counters so far, when the source keeps any.
    fn counters(&mut self) -> Option<Counters>;
    /// Link type of every packet, and its pcap LINKTYPE_ number (for `--write`).
    fn link(&self) -> (LinkType, u32);
    fn snaplen(&self) -> u32;
}
