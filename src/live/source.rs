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

/// libpcap's counters made exact past 4G packets: pcap_stats gives each as a 32-bit `u_int`
/// that wraps (a day of a busy 10 Gbit/s link). Each reading adds what every counter moved since
/// the one before, modulo 2^32, to 64-bit totals: exact while the counters are read more often
/// than they can move 4G (the capture thread reads them every second; a wire carries at most
/// some hundred million packets a second).
#[derive(Debug, Default)]
pub struct Accumulated {
    /// The latest reading: received, dropped, dropped by the interface.
    last: [u32; 3],
    total: Counters,
}

impl Accumulated {
    /// The totals after a reading of libpcap's counters.
    pub fn read(&mut self, received: u32, dropped: u32, interface_dropped: u32) -> Counters {
        let t = &mut self.total;
        let totals = [&mut t.received, &mut t.dropped, &mut t.interface_dropped];
        for ((total, last), now) in totals.into_iter().zip(&mut self.last).zip([received, dropped, interface_dropped]) {
            // A counter below its last reading wrapped past 2^32: it moved on, never back.
            *total += u64::from(now.wrapping_sub(*last));
            *last = now;
        }
        self.total
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
    /// The capture is over: a source with a process behind it (the capture helper) ends it and
    /// takes its last counters, so that [`PacketSource::counters`] then gives the final ones.
    fn stop(&mut self) {}
}

/// The device or the helper's stream, chosen at run time (helper.rs).
impl<S: PacketSource + ?Sized> PacketSource for Box<S> {
    fn next_packet(&mut self) -> Next<'_> {
        (**self).next_packet()
    }
    fn counters(&mut self) -> Option<Counters> {
        (**self).counters()
    }
    fn link(&self) -> (LinkType, u32) {
        (**self).link()
    }
    fn snaplen(&self) -> u32 {
        (**self).snaplen()
    }
    fn stop(&mut self) {
        (**self).stop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_stay_exact_across_libpcaps_32_bit_wrap() {
        let mut a = Accumulated::default();
        assert_eq!(a.read(10, 1, 0), Counters { received: 10, dropped: 1, interface_dropped: 0 });
        assert_eq!(a.read(u32::MAX - 5, 2, 0).received, u64::from(u32::MAX) - 5);
        // received wraps: 6 packets to reach 2^32, then 100 more.
        let c = a.read(100, 3, 7);
        assert_eq!(c, Counters { received: (1 << 32) + 100, dropped: 3, interface_dropped: 7 });
        // Twice round, a reading a second apart each time.
        for _ in 0..2 {
            a.read(u32::MAX / 2, 3, 7);
            a.read(100, 3, 7);
        }
        assert_eq!(a.read(150, 3, 7).received, (3 << 32) + 150);
    }
}
