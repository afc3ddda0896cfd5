//! TCP connections: the facts the correlator needs about each one (SYN, SYN-ACK, RST, FIN, ICMP,
//! bytes), kept in a flow table whose memory is bounded.
//!
//! Owns: connection identity and lifetime, eviction. Must not touch: FTP, reassembly (a control
//! channel's reassembly state rides along in the flow's [`Role`], owned by the analyzer).

use crate::Timestamp;
use std::collections::hash_map::Entry;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

/// A connection's two endpoints in a canonical order, so both directions find the same flow.
/// Packed into words (an IPv4 address as its IPv6-mapped form, the family kept apart): a key
/// of 40 bytes that hashes and compares a word at a time, where two `SocketAddr`s take 64
/// bytes and hash field by field. It is looked up for every packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowKey {
    /// The lower endpoint's address, then the higher one's, as big-endian halves.
    ips: [u64; 4],
    /// The lower endpoint's port in the high half, the higher one's in the low half.
    ports: u32,
    v6: bool,
}

impl FlowKey {
    pub fn new(a: SocketAddr, b: SocketAddr) -> FlowKey {
        let (a_ip, b_ip) = (ip_bits(a), ip_bits(b));
        let ((lo_ip, lo_port), (hi_ip, hi_port)) =
            if (a_ip, a.port()) <= (b_ip, b.port()) { ((a_ip, a.port()), (b_ip, b.port())) } else { ((b_ip, b.port()), (a_ip, a.port())) };
        FlowKey {
            ips: [(lo_ip >> 64) as u64, lo_ip as u64, (hi_ip >> 64) as u64, hi_ip as u64],
            ports: (lo_port as u32) << 16 | hi_port as u32,
            v6: a.is_ipv6(),
        }
    }
}

impl Hash for FlowKey {
    /// Word by word into the seeded hasher (a derived hash would take the array as bytes).
    fn hash<H: Hasher>(&self, h: &mut H) {
        for word in self.ips {
            h.write_u64(word);
        }
        h.write_u64(u64::from(self.ports) << 1 | u64::from(self.v6));
    }
}

fn ip_bits(a: SocketAddr) -> u128 {
    match a.ip() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().to_bits(),
        IpAddr::V6(v6) => v6.to_bits(),
    }
}

/// Which way a packet travels relative to the connection's client (the SYN sender).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    ToServer,
    ToClient,
}

impl Dir {
    /// This direction's half of what is kept per direction, `[toward the server, toward the
    /// client]`: no index to get wrong.
    pub fn of<T>(self, pair: &[T; 2]) -> &T {
        let [to_server, to_client] = pair;
        match self {
            Dir::ToServer => to_server,
            Dir::ToClient => to_client,
        }
    }

    pub fn of_mut<T>(self, pair: &mut [T; 2]) -> &mut T {
        let [to_server, to_client] = pair;
        match self {
            Dir::ToServer => to_server,
            Dir::ToClient => to_client,
        }
    }
}

/// The observable life of one TCP connection. Small and `Copy`: data connections' facts are
/// copied into their negotiation after every packet, so evicting the flow loses nothing.
#[derive(Debug, Clone, Copy)]
pub struct Conn {
    /// The side that sent the first SYN; without a SYN, the side that sent the first packet
    /// (possibly swapped later once the FTP server side is known).
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub first_frame: u64,
    pub first_ts: Timestamp,
    pub syn: Option<(u64, Timestamp)>,
    pub last_syn_ts: Timestamp,
    /// SYNs sent on this 4-tuple: 64 bits, as a flood of them on one 4-tuple that a long live
    /// capture keeps alive passes 2^32.
    pub syns: u64,
    pub client_isn: Option<u32>,
    pub server_isn: Option<u32>,
    /// The TTL (hop limit) of the server's first segment as captured: see TcpSegment::ttl.
    pub server_ttl: Option<u8>,
    pub synack_frame: Option<u64>,
    pub rst: Option<(u64, Dir)>,
    /// Frame, ICMP type, code and reporter of an unreachable message quoting this connection.
    pub unreachable: Option<(u64, u8, u8, std::net::IpAddr)>,
    pub fin_frame: Option<u64>,
    /// Directions that sent a FIN: bit 0 toward the server, bit 1 toward the client.
    pub fins: u8,
    /// Directions that sent any packet, the same bits: a connection seen one way only is a
    /// capture of one direction (asymmetric routing, a one-way mirror) or one never answered.
    pub sent: u8,
    /// The first segment after its SYN in which the SYN's sender acknowledged something (not
    /// a SYN, not a RST): it had the SYN-ACK, whether or not the capture holds it.
    pub handshake_acked: Option<u64>,
    /// Payload bytes each way: the span of sequence space the sender covered, so that a
    /// retransmission is not counted twice and a hole still counts (it was sent).
    pub bytes_to_server: u64,
    pub bytes_to_client: u64,
    /// Per direction (to server, to client): the payload's sequence space seen, for the byte
    /// counts.
    spans: [Option<Span>; 2],
    pub last_frame: u64,
    pub last_ts: Timestamp,
}

/// The sequence space one direction's payload covered, as stream offsets from the first
/// payload byte seen, so that it keeps counting past 2 and 4 GiB.
#[derive(Debug, Clone, Copy)]
struct Span {
    /// Sequence number of offset 0: the first payload byte seen.
    base: u32,
    /// Offset of the earliest byte seen: at or below 0, since a segment captured late may have
    /// been sent before the first one seen.
    low: i64,
    /// Offset just past the furthest byte seen: the sender's frontier, never below 0.
    high: u64,
    /// Ranges inside the span no segment has covered yet, `[start, end)`: the first
    /// [`HOLES`] of them; a retransmission or a late segment fills them.
    holes: [(i64, i64); HOLES],
    open_holes: u8,
}

/// Holes a direction follows at once: a few lost segments in flight, each refilled by its
/// retransmission. Kept small: the connection's facts are copied after every packet.
const HOLES: usize = 4;

impl Span {
    /// Widens the span to hold `[seq, seq + len)`. The segment is placed nearest the frontier
    /// (within half the sequence space, far more than any window: RFC 7323).
    fn cover(&mut self, seq: u32, len: u32) {
        let high = i64::try_from(self.high).unwrap_or(i64::MAX);
        let start = high.saturating_add(super::seq::distance(seq, self.base, self.high));
        let end = start.saturating_add(i64::from(len));
        if start > high {
            self.hole(high, start);
        }
        if end < self.low {
            self.hole(end, self.low);
        }
        self.fill(start, end);
        self.low = self.low.min(start);
        self.high = self.high.max(u64::try_from(end).unwrap_or(0));
    }

    fn hole(&mut self, start: i64, end: i64) {
        // Past the first [`HOLES`] open at once a hole is not followed, nor counted: a fast
        // sender recovering from loss has many in flight, and each is refilled by its
        // retransmission (counted missing for good, they made whole streams read as cut: the
        // lab's lossy transfers). `missing` is then a lower bound; `--hash` knows.
        if let Some(slot) = self.holes.get_mut(usize::from(self.open_holes)) {
            *slot = (start, end);
            self.open_holes = self.open_holes.saturating_add(1);
        }
    }

    /// `[start, end)` was seen: the holes lose what it covers (a hole covered in its middle
    /// becomes two).
    fn fill(&mut self, start: i64, end: i64) {
        let open = self.holes.get(..usize::from(self.open_holes)).unwrap_or_default();
        if open.iter().all(|&(a, b)| end <= a || start >= b) {
            return;
        }
        let before = *self;
        self.open_holes = 0;
        for &(a, b) in before.holes.get(..usize::from(before.open_holes)).unwrap_or_default() {
            if end <= a || start >= b {
                self.hole(a, b);
                continue;
            }
            if a < start {
                self.hole(a, start);
            }
            if end < b {
                self.hole(end, b);
            }
        }
    }

    /// Bytes inside the span no segment carried.
    fn missing(&self) -> u64 {
        let open = self.holes.get(..usize::from(self.open_holes)).unwrap_or_default();
        open.iter().fold(0, |sum: u64, &(a, b)| sum.saturating_add(b.abs_diff(a)))
    }

    /// Bytes the span holds, holes included (they were sent).
    fn len(&self) -> u64 {
        // `high` is at least 0 and `low` at most 0: the difference is their magnitudes' sum.
        self.high.saturating_add(self.low.unsigned_abs())
    }
}

impl Conn {
    /// The same connection at another moment (a copy taken earlier): same endpoints, same
    /// first frame. A reused 4-tuple is another connection.
    pub fn same(&self, other: &Conn) -> bool {
        self.client == other.client && self.server == other.server && self.first_frame == other.first_frame
    }

    /// Payload `[seq, seq + len)` sent toward `dir`: the byte count grows by what is new.
    pub fn count_payload(&mut self, dir: Dir, seq: u32, len: u32) {
        if len == 0 {
            return;
        }
        let span = dir.of_mut(&mut self.spans).get_or_insert(Span { base: seq, low: 0, high: 0, holes: [(0, 0); HOLES], open_holes: 0 });
        span.cover(seq, len);
        let bytes = span.len();
        match dir {
            Dir::ToServer => self.bytes_to_server = bytes,
            Dir::ToClient => self.bytes_to_client = bytes,
        }
    }

    /// Payload bytes sent toward `dir` that the capture does not hold: holes in the sequence
    /// space seen that no segment filled (a retransmission fills the hole its loss left).
    pub fn missing(&self, dir: Dir) -> u64 {
        dir.of(&self.spans).as_ref().map_or(0, Span::missing)
    }

    pub fn new(client: SocketAddr, server: SocketAddr, frame: u64, ts: Timestamp) -> Conn {
        Conn {
            client,
            server,
            first_frame: frame,
            first_ts: ts,
            syn: None,
            last_syn_ts: ts,
            syns: 0,
            client_isn: None,
            server_isn: None,
            server_ttl: None,
            synack_frame: None,
            rst: None,
            unreachable: None,
            fin_frame: None,
            fins: 0,
            sent: 0,
            handshake_acked: None,
            bytes_to_server: 0,
            bytes_to_client: 0,
            spans: [None; 2],
            last_frame: frame,
            last_ts: ts,
        }
    }

    pub fn dir_of(&self, src: SocketAddr) -> Dir {
        if src == self.client {
            Dir::ToServer
        } else {
            Dir::ToClient
        }
    }

    /// Makes `server` the server side: for captures that began mid-connection, once content
    /// shows which side is the FTP server.
    pub fn orient(&mut self, server: SocketAddr) {
        if self.server != server {
            std::mem::swap(&mut self.client, &mut self.server);
            std::mem::swap(&mut self.bytes_to_server, &mut self.bytes_to_client);
            self.spans.swap(0, 1);
            std::mem::swap(&mut self.client_isn, &mut self.server_isn);
            // Read from the side now known to be the client's.
            self.server_ttl = None;
            self.fins = (self.fins & 1) << 1 | (self.fins >> 1);
            self.sent = (self.sent & 1) << 1 | (self.sent >> 1);
        }
    }

    /// Only one direction's packets were seen (bit 0: toward the server, bit 1: toward the
    /// client).
    pub fn one_way(&self) -> Option<Dir> {
        match self.sent {
            0b01 => Some(Dir::ToServer),
            0b10 => Some(Dir::ToClient),
            _ => None,
        }
    }

    /// Both sides closed or one reset: the flow can go soon. Seen one way only, the other
    /// side's FIN cannot be in the capture: the seen side's FIN is the end.
    pub fn is_closed(&self) -> bool {
        self.rst.is_some() || self.fins == 0b11 || (self.fins != 0 && self.one_way().is_some())
    }
}

/// Bounds for the flow table.
#[derive(Debug, Clone, Copy)]
pub struct FlowLimits {
    pub max_flows: usize,
    /// Ended connections remembered for their stragglers (see [`FlowTable::end`]).
    pub max_ended: usize,
    /// A connection with no packet for this long is forgotten (its facts stay wherever they
    /// were copied).
    pub idle_timeout_ns: i64,
    /// Same, for connections that closed (FIN both ways or RST).
    pub closed_timeout_ns: i64,
    /// Same, for connections that never got past the SYN: Linux gives up retransmitting a SYN
    /// after about 127 s (tcp_syn_retries=6).
    pub half_open_timeout_ns: i64,
}

impl Default for FlowLimits {
    fn default() -> Self {
        FlowLimits {
            max_flows: 200_000,
            // Stragglers come within a round trip or two, and no server ends 65,536 connections
            // in one. The 200,000 of `max_flows` it was made a table of 32 MiB (at half load)
            // that every ended connection wrote to at random, beside the open sessions in the
            // cache: with NAT pairing's 50,000 digests, 6% of the CPU time per session of the
            // busy benchmark at 300k sessions (bench/README.md).
            max_ended: 65_536,
            idle_timeout_ns: 600 * 1_000_000_000,
            // Stragglers of a closed connection (the last ACK, a retransmitted FIN) come within
            // round trips, not seconds.
            closed_timeout_ns: 5 * 1_000_000_000,
            half_open_timeout_ns: 130 * 1_000_000_000,
        }
    }
}

/// The flow table: flows keyed by endpoints, evicted when idle or when the table is full.
///
/// Keyed by addresses and ports that anyone on the path chooses, so the hasher is seeded per
/// process (foldhash: as fast as Fx here, without Fx's predictable collisions).
pub struct FlowTable<F> {
    flows: crate::AddrMap<FlowKey, F>,
    /// Connections that ended and that their owner has nothing more to learn from (see
    /// [`FlowTable::end`]): only what recognises their last packets is kept.
    ended: crate::AddrMap<FlowKey, Ended>,
    /// The same keys in the order they ended, for their expiry.
    ended_order: VecDeque<(Timestamp, FlowKey)>,
    limits: FlowLimits,
    next_sweep: Timestamp,
    pub evicted: u64,
}

/// An ended connection, as much as its stragglers need: its last packet's time (it is forgotten
/// `closed_timeout_ns` after it) and the client's ISN (a SYN with another one opens a new
/// connection on the same endpoints).
#[derive(Debug, Clone, Copy)]
struct Ended {
    last_ts: Timestamp,
    client_isn: Option<u32>,
}

/// What the table needs to know about a flow to evict it.
pub trait Evictable {
    fn conn(&self) -> &Conn;
    /// Flows that must survive idleness (live FTP control channels).
    fn pinned(&self) -> bool;
    /// Flows nothing waits for any more (a settled session's data connections): they go as
    /// soon as they are quiet, like closed ones.
    fn retired(&self) -> bool;
}

impl<F: Evictable> Evictable for Box<F> {
    fn conn(&self) -> &Conn {
        (**self).conn()
    }
    fn pinned(&self) -> bool {
        (**self).pinned()
    }
    fn retired(&self) -> bool {
        (**self).retired()
    }
}

/// Sweeps run this often (capture time), so a dead flow lingers at most its timeout plus this.
const SWEEP_EVERY_NS: i64 = 5 * 1_000_000_000;

impl<F: Evictable> FlowTable<F> {
    pub fn new(limits: FlowLimits) -> Self {
        FlowTable {
            flows: Default::default(),
            ended: Default::default(),
            ended_order: VecDeque::new(),
            limits,
            next_sweep: Timestamp(i64::MIN),
            evicted: 0,
        }
    }

    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut F> {
        self.flows.get_mut(key)
    }

    pub fn remove(&mut self, key: &FlowKey) -> Option<F> {
        self.flows.remove(key)
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut F> {
        self.flows.values_mut()
    }

    pub fn get(&self, key: &FlowKey) -> Option<&F> {
        self.flows.get(key)
    }

    /// Sweeps when a sweep is due or the table is full; evicted flows are handed to `evicted`,
    /// so their owner can release what it accounted for them. Cheap when nothing is due.
    pub fn make_room(&mut self, now: Timestamp, evicted: &mut dyn FnMut(F)) {
        if now >= self.next_sweep || self.flows.len() >= self.limits.max_flows {
            self.sweep(now, evicted);
        }
    }

    /// The flow for `key`, with one lookup: kept if `keep` says so, else replaced by `make`,
    /// which gets the flow it replaces (if any). (`F: Default` lends a placeholder while the old
    /// flow is handed over.) None when the packet belongs to a connection that ended (see
    /// [`FlowTable::end`]) and `reopens`, given that connection's client ISN, says it does not
    /// open a new one: it is a straggler, with nothing left to tell.
    pub fn get_or_replace(
        &mut self,
        key: FlowKey,
        ts: Timestamp,
        keep: impl FnOnce(&F) -> bool,
        make: impl FnOnce(Option<F>) -> F,
        reopens: impl FnOnce(Option<u32>) -> bool,
    ) -> Option<&mut F>
    where
        F: Default,
    {
        match self.flows.entry(key) {
            Entry::Occupied(mut o) => {
                if !keep(o.get()) {
                    let old = std::mem::take(o.get_mut());
                    *o.get_mut() = make(Some(old));
                }
                Some(o.into_mut())
            }
            Entry::Vacant(v) => {
                // Only a packet without a flow pays this second lookup: a new connection's
                // first, or a straggler of an ended one.
                if let Some(e) = self.ended.get_mut(&key) {
                    if !reopens(e.client_isn) {
                        e.last_ts = e.last_ts.max(ts);
                        return None;
                    }
                    self.ended.remove(&key);
                }
                Some(v.insert(make(None)))
            }
        }
    }

    /// The connection `key` ended (closed, or reset) and its owner has taken what it needs from
    /// it: the flow leaves the table now (handed back, not counted as evicted), and only its
    /// key waits `closed_timeout_ns` for the connection's last packets (the final ACK, a
    /// retransmitted FIN, a RST). A busy server ends connections faster than any timeout lets
    /// whole flows go: the table then holds what is open, not what ended recently, and an
    /// ended connection costs a key and two words. At most `max_ended` wait; past that the
    /// oldest is forgotten early (its stragglers, if any, look like a connection of their own).
    pub fn end(&mut self, key: &FlowKey) -> Option<F> {
        let flow = self.flows.remove(key)?;
        let c = flow.conn();
        let ended = Ended { last_ts: c.last_ts, client_isn: c.client_isn };
        self.ended.insert(*key, ended);
        self.ended_order.push_back((ended.last_ts, *key));
        if self.ended_order.len() > self.limits.max_ended {
            if let Some((_, oldest)) = self.ended_order.pop_front() {
                self.ended.remove(&oldest);
            }
        }
        Some(flow)
    }

    /// Ended connections whose last packet is older than the closed timeout are forgotten;
    /// one seen again meanwhile waits its turn again.
    fn expire_ended(&mut self, now: Timestamp) {
        let timeout = self.limits.closed_timeout_ns;
        while let Some(&(ts, key)) = self.ended_order.front() {
            if now.0.saturating_sub(ts.0) < timeout {
                break;
            }
            self.ended_order.pop_front();
            match self.ended.get(&key) {
                Some(e) if now.0.saturating_sub(e.last_ts.0) < timeout => self.ended_order.push_back((e.last_ts, key)),
                Some(_) => {
                    self.ended.remove(&key);
                }
                None => {}
            }
        }
        if self.ended.len() < self.ended.capacity() / 4 {
            self.ended.shrink_to_fit();
        }
    }

    /// Drops idle flows; if the table is still too full, drops the older half of the unpinned
    /// ones. Runs at most every 30 s of capture time unless the table is full, so its O(n) cost
    /// is spread over many packets.
    fn sweep(&mut self, now: Timestamp, evicted: &mut dyn FnMut(F)) {
        self.next_sweep = Timestamp(now.0.saturating_add(SWEEP_EVERY_NS));
        self.expire_ended(now);
        let limits = self.limits;
        let before = self.flows.len();
        let stale = |f: &F| {
            let c = f.conn();
            let idle = now.0.saturating_sub(c.last_ts.0);
            let timeout = if c.is_closed() || f.retired() {
                limits.closed_timeout_ns
            } else if c.synack_frame.is_none() && c.bytes_to_server == 0 && c.bytes_to_client == 0 {
                limits.half_open_timeout_ns
            } else {
                limits.idle_timeout_ns
            };
            // A live control channel stays, however quiet.
            idle >= timeout && (!f.pinned() || c.is_closed())
        };
        // A flow that ended (closed, or retired with its session) and went quiet is done, not
        // dropped early: it is not counted as evicted.
        let mut done = 0usize;
        self.flows.extract_if(|_, f| stale(f)).for_each(|(_, f)| {
            done = done.saturating_add(usize::from(f.conn().is_closed() || f.retired()));
            evicted(f)
        });
        if self.flows.len().saturating_mul(4) >= self.limits.max_flows.saturating_mul(3) {
            let mut ages: Vec<i64> = self.flows.values().filter(|f| !f.pinned()).map(|f| f.conn().last_ts.0).collect();
            if !ages.is_empty() {
                let mid = ages.len() / 2;
                let (_, cut, _) = ages.select_nth_unstable(mid);
                let cut = *cut;
                self.flows.extract_if(|_, f| !f.pinned() && f.conn().last_ts.0 <= cut).for_each(|(_, f)| evicted(f));
            }
        }
        // Flows taken out, less the ones that were done (counted among them).
        let dropped = before.saturating_sub(self.flows.len()).saturating_sub(done);
        self.evicted = self.evicted.saturating_add(dropped as u64);
        // Removed entries leave tombstones, and a table full of them grows instead of reusing
        // them: rebuilt smaller, it stays within one doubling of what the flow limit needs. Only
        // when it is mostly empty, or every sweep would shrink it and the next inserts grow it.
        if self.flows.len() < self.flows.capacity() / 4 {
            self.flows.shrink_to_fit();
        }
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    struct F(Conn, bool);
    impl Default for F {
        fn default() -> F {
            F(Conn::new(sa("0.0.0.0:0"), sa("0.0.0.0:0"), 0, Timestamp(0)), false)
        }
    }

    /// A new flow, the way the analyzer adds one.
    fn add(t: &mut FlowTable<F>, key: FlowKey, flow: F, now: Timestamp) {
        t.make_room(now, &mut drop);
        t.get_or_replace(key, now, |_| false, |_| flow, |_| true);
    }
    impl Evictable for F {
        fn conn(&self) -> &Conn {
            &self.0
        }
        fn pinned(&self) -> bool {
            self.1
        }
        fn retired(&self) -> bool {
            false
        }
    }

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn key_is_direction_free() {
        assert_eq!(FlowKey::new(sa("10.0.0.1:1000"), sa("10.0.0.2:21")), FlowKey::new(sa("10.0.0.2:21"), sa("10.0.0.1:1000")));
    }

    #[test]
    fn orient_swaps_sides_and_counters() {
        let mut c = Conn::new(sa("10.0.0.2:21"), sa("10.0.0.1:1000"), 1, Timestamp(0));
        c.count_payload(Dir::ToServer, 100, 5);
        c.orient(sa("10.0.0.2:21"));
        assert_eq!(c.server, sa("10.0.0.2:21"));
        assert_eq!(c.bytes_to_client, 5);
        // The span moved with it: more of the same direction adds to the same count.
        c.count_payload(Dir::ToClient, 105, 3);
        assert_eq!((c.bytes_to_client, c.bytes_to_server), (8, 0));
    }

    #[test]
    fn payload_bytes_count_the_sequence_space_covered_once() {
        let mut c = Conn::new(sa("10.0.0.1:1000"), sa("10.0.0.2:21"), 1, Timestamp(0));
        c.count_payload(Dir::ToClient, 1000, 100);
        c.count_payload(Dir::ToClient, 1000, 100); // retransmitted
        assert_eq!(c.bytes_to_client, 100);
        c.count_payload(Dir::ToClient, 1200, 100); // a hole before it: sent all the same
        c.count_payload(Dir::ToClient, 1100, 100); // the hole, late
        c.count_payload(Dir::ToClient, 1150, 10); // a piece again
        assert_eq!(c.bytes_to_client, 300);
        assert_eq!(c.missing(Dir::ToClient), 0, "the hole was filled");
        // Across the wrap of the sequence space.
        let mut w = Conn::new(sa("10.0.0.1:1000"), sa("10.0.0.2:21"), 1, Timestamp(0));
        w.count_payload(Dir::ToServer, u32::MAX - 9, 10);
        w.count_payload(Dir::ToServer, 0, 10);
        w.count_payload(Dir::ToServer, u32::MAX - 9, 20);
        assert_eq!(w.bytes_to_server, 20);
    }

    /// Sends `total` bytes toward the client from sequence number `first`, in 64 KiB segments.
    fn download(c: &mut Conn, first: u32, total: u64) {
        const SEG: u64 = 64 * 1024;
        let mut at = 0;
        while at < total {
            let len = SEG.min(total - at);
            c.count_payload(Dir::ToClient, first.wrapping_add(at as u32), len as u32);
            at += len;
        }
    }

    #[test]
    fn payload_bytes_count_past_2_and_4_gib() {
        for total in [1_500_000_000, 2_147_483_648, 3_500_000_000, 4_294_967_296, 5_000_000_000] {
            for first in [1, 1 << 31, u32::MAX - 100, u32::MAX] {
                let mut c = Conn::new(sa("10.0.0.1:1000"), sa("10.0.0.2:21"), 1, Timestamp(0));
                download(&mut c, first, total);
                assert_eq!(c.bytes_to_client, total, "{total} bytes from sequence number {first}");
                assert_eq!(c.bytes_to_server, 0);
            }
        }
    }

    #[test]
    fn past_4_gib_retransmissions_do_not_count_twice_and_holes_count() {
        let mut c = Conn::new(sa("10.0.0.1:1000"), sa("10.0.0.2:21"), 1, Timestamp(0));
        let isn_next = u32::MAX - 2;
        download(&mut c, isn_next, 5_000_000_000);
        let frontier = isn_next.wrapping_add(5_000_000_000u64 as u32);
        // The last segment again, and one from 1 GB back (within the window of the reader).
        c.count_payload(Dir::ToClient, frontier.wrapping_sub(1_000), 1_000);
        c.count_payload(Dir::ToClient, frontier.wrapping_sub(1_000_000_000), 1_460);
        assert_eq!(c.bytes_to_client, 5_000_000_000);
        // A hole of 10 bytes, then a segment: the hole was sent.
        c.count_payload(Dir::ToClient, frontier.wrapping_add(10), 20);
        assert_eq!(c.bytes_to_client, 5_000_000_030);
    }

    #[test]
    fn holes_no_segment_filled_are_missing_bytes() {
        let mut c = Conn::new(sa("10.0.0.1:1000"), sa("10.0.0.2:21"), 1, Timestamp(0));
        c.count_payload(Dir::ToClient, 1000, 100);
        c.count_payload(Dir::ToClient, 1200, 100); // [1100, 1200) not seen
        c.count_payload(Dir::ToClient, 1400, 100); // [1300, 1400) not seen
        assert_eq!((c.bytes_to_client, c.missing(Dir::ToClient)), (500, 200));
        c.count_payload(Dir::ToClient, 1120, 10); // splits the first hole
        assert_eq!(c.missing(Dir::ToClient), 190);
        c.count_payload(Dir::ToClient, 1100, 100);
        assert_eq!(c.missing(Dir::ToClient), 100);
        c.count_payload(Dir::ToClient, 900, 50); // late, from before the first: [950, 1000) not seen
        assert_eq!(c.missing(Dir::ToClient), 150);
        assert_eq!(c.missing(Dir::ToServer), 0);
        // Past the holes followed, the rest is neither followed nor counted (a lower bound):
        // nine holes of 10 bytes, the first four counted; their retransmissions empty them.
        let mut m = Conn::new(sa("10.0.0.1:1000"), sa("10.0.0.2:21"), 1, Timestamp(0));
        for i in 0..10u32 {
            m.count_payload(Dir::ToServer, i * 20, 10);
        }
        assert_eq!(m.missing(Dir::ToServer), 40);
        for i in 0..9u32 {
            m.count_payload(Dir::ToServer, i * 20 + 10, 10);
        }
        assert_eq!(m.missing(Dir::ToServer), 0, "a stream whose every hole was refilled misses nothing");
    }

    #[test]
    fn a_segment_captured_late_from_before_the_first_still_counts() {
        // The capture began mid-stream, just after the wrap; the earlier bytes come later.
        let mut c = Conn::new(sa("10.0.0.1:1000"), sa("10.0.0.2:21"), 1, Timestamp(0));
        c.count_payload(Dir::ToServer, 5, 100);
        c.count_payload(Dir::ToServer, u32::MAX - 9, 15);
        assert_eq!(c.bytes_to_server, 115);
        download(&mut c, 105, 3_000_000_000);
        assert_eq!(c.bytes_to_client, 3_000_000_000);
        assert_eq!(c.bytes_to_server, 115, "the other direction is its own span");
    }

    #[test]
    fn table_stays_bounded_and_keeps_pinned_flows() {
        let limits = FlowLimits {
            max_flows: 100,
            max_ended: 100,
            idle_timeout_ns: i64::MAX,
            closed_timeout_ns: i64::MAX,
            half_open_timeout_ns: i64::MAX,
        };
        let mut t: FlowTable<F> = FlowTable::new(limits);
        let pinned = FlowKey::new(sa("10.0.0.1:1"), sa("10.0.0.2:21"));
        add(&mut t, pinned, F(Conn::new(sa("10.0.0.1:1"), sa("10.0.0.2:21"), 0, Timestamp(0)), true), Timestamp(0));
        for i in 0..10_000u32 {
            let a = SocketAddr::new(std::net::Ipv4Addr::from(i).into(), 80);
            let k = FlowKey::new(a, sa("10.9.9.9:80"));
            add(&mut t, k, F(Conn::new(a, sa("10.9.9.9:80"), i as u64, Timestamp(i as i64 + 1)), false), Timestamp(i as i64 + 1));
            assert!(t.len() <= 100);
        }
        assert!(t.get_mut(&pinned).is_some());
        assert!(t.evicted >= 9_900);
    }

    #[test]
    fn idle_flows_are_swept() {
        let mut t: FlowTable<F> = FlowTable::new(FlowLimits::default());
        let k1 = FlowKey::new(sa("10.0.0.1:1"), sa("10.0.0.2:80"));
        add(&mut t, k1, F(Conn::new(sa("10.0.0.1:1"), sa("10.0.0.2:80"), 1, Timestamp(0)), false), Timestamp(0));
        let k2 = FlowKey::new(sa("10.0.0.1:2"), sa("10.0.0.2:80"));
        let later = Timestamp(3600 * 1_000_000_000);
        add(&mut t, k2, F(Conn::new(sa("10.0.0.1:2"), sa("10.0.0.2:80"), 2, later), false), later);
        assert!(t.get_mut(&k1).is_none());
        assert_eq!(t.evicted, 1);
    }

    #[test]
    fn closed_flows_swept_are_not_counted_as_evicted() {
        let mut t: FlowTable<F> = FlowTable::new(FlowLimits::default());
        let k1 = FlowKey::new(sa("10.0.0.1:1"), sa("10.0.0.2:80"));
        let mut closed = Conn::new(sa("10.0.0.1:1"), sa("10.0.0.2:80"), 1, Timestamp(0));
        closed.fins = 0b11;
        add(&mut t, k1, F(closed, false), Timestamp(0));
        let k2 = FlowKey::new(sa("10.0.0.1:2"), sa("10.0.0.2:80"));
        let later = Timestamp(60 * 1_000_000_000);
        add(&mut t, k2, F(Conn::new(sa("10.0.0.1:2"), sa("10.0.0.2:80"), 2, later), false), later);
        assert!(t.get_mut(&k1).is_none(), "swept after the closed timeout");
        assert_eq!(t.evicted, 0);
    }

    /// Looks `key` up the way the analyzer does for a packet (`syn`: a SYN with another ISN):
    /// true when it found or made a flow, false for a straggler of an ended connection.
    fn packet(t: &mut FlowTable<F>, key: FlowKey, at: Timestamp, syn: bool) -> bool {
        t.make_room(at, &mut drop);
        let conn = Conn::new(sa("10.0.0.1:1"), sa("10.0.0.2:80"), 9, at);
        t.get_or_replace(key, at, |_| true, |_| F(conn, false), |_| syn).is_some()
    }

    #[test]
    fn an_ended_connection_keeps_only_its_key_for_its_stragglers() {
        let mut t: FlowTable<F> = FlowTable::new(FlowLimits::default());
        let k = FlowKey::new(sa("10.0.0.1:1"), sa("10.0.0.2:80"));
        let mut c = Conn::new(sa("10.0.0.1:1"), sa("10.0.0.2:80"), 1, Timestamp(0));
        c.fins = 0b11;
        add(&mut t, k, F(c, false), Timestamp(0));
        assert!(t.end(&k).is_some(), "the flow is handed back");
        assert!(t.is_empty() && t.end(&k).is_none());
        // Its final ACK, a second later: known, and no new flow.
        assert!(!packet(&mut t, k, Timestamp(1_000_000_000), false));
        assert!(t.is_empty());
        // A new SYN on the same endpoints is a new connection.
        assert!(packet(&mut t, k, Timestamp(2_000_000_000), true));
        assert_eq!(t.len(), 1);
        assert_eq!(t.evicted, 0, "ending is not evicting");
    }

    #[test]
    fn an_ended_connection_is_forgotten_after_the_closed_timeout_or_past_the_bound() {
        let limits = FlowLimits { max_ended: 2, ..FlowLimits::default() };
        let mut t: FlowTable<F> = FlowTable::new(limits);
        let key = |port| FlowKey::new(SocketAddr::new([10, 0, 0, 1].into(), port), sa("10.0.0.2:80"));
        for port in 1..=3 {
            add(&mut t, key(port), F(Conn::new(sa("10.0.0.1:1"), sa("10.0.0.2:80"), 1, Timestamp(0)), false), Timestamp(0));
            t.end(&key(port));
        }
        // The oldest went past the bound: its next packet makes a flow again.
        assert!(packet(&mut t, key(1), Timestamp(0), false));
        assert!(!packet(&mut t, key(2), Timestamp(0), false));
        // A straggler keeps its key a closed timeout more; after that it is gone.
        let t4 = Timestamp(4_000_000_000);
        assert!(!packet(&mut t, key(3), t4, false));
        assert!(packet(&mut t, key(2), Timestamp(6_000_000_000), false), "2 expired at 5 s");
        assert!(!packet(&mut t, key(3), Timestamp(8_000_000_000), false), "3 was seen at 4 s");
        assert!(packet(&mut t, key(3), Timestamp(20_000_000_000), false));
    }

    /// However large the flow table may grow, ended connections are remembered up to their own
    /// bound: a busy server's closes within the closed timeout do not fill a table of 200,000.
    #[test]
    fn ended_connections_have_their_own_bound_below_the_flow_tables() {
        let limits = FlowLimits::default();
        assert!(limits.max_ended < limits.max_flows);
        let mut t: FlowTable<F> = FlowTable::new(limits);
        let key = |i: usize| FlowKey::new(SocketAddr::new([10, (i >> 16) as u8, (i >> 8) as u8, i as u8].into(), 1), sa("10.255.0.2:80"));
        for i in 0..=limits.max_ended {
            add(&mut t, key(i), F(Conn::new(sa("10.0.0.1:1"), sa("10.0.0.2:80"), 1, Timestamp(0)), false), Timestamp(0));
            t.end(&key(i));
        }
        assert!(packet(&mut t, key(0), Timestamp(0), false), "the oldest went past the bound");
        assert!(!packet(&mut t, key(1), Timestamp(0), false), "the next is still known");
        assert!(!packet(&mut t, key(limits.max_ended), Timestamp(0), false));
    }
}
