//! Many copies of one real FTP session: the benchmark's many-sessions capture
//! (`gen_capture --replicate`, bench/sessions.sh) and the growth test (tests/growth.rs) share
//! this file (the example includes it with `#[path]`).
//!
//! A [`Template`] is one session taken from a lab capture: its control connection (the K-th
//! client SYN to the control port) and every other IPv4 packet to or from the client while that
//! connection lives (its data connections, their retransmitted SYNs, ICMP errors about them),
//! less other control connections. Ethernet captures only.
//!
//! Copy `i` is the same packets with the client moved: its address becomes
//! [`client_address`]`(i)` (in 172.16.0.0/12, private like the lab client's 192.168.1.10) and
//! the ports it opened connections from are shifted (a bijection on 1024..=65535), inside ICMP
//! quotes too. IP, TCP, UDP and ICMP checksums are updated incrementally (RFC 1624), so a
//! correct checksum stays correct. Payloads are untouched: every copy's 227 advertises the same
//! private address and port, and its data SYNs differ from the other copies' by the client.
//!
//! With a passive range (`Shape::passive_ports`), copy `i` is also moved to its own passive
//! port, `first + i % count`: the port in its 227 replies' text and the server's port of the
//! connections to the advertised port (both directions, ICMP quotes too), as a server with a
//! passive range of `count` ports hands them out. The text is rewritten digit for digit, so a
//! range must write the port with as many characters as the template's 227 does (the segment
//! keeps its length and the control connection its sequence numbers): `load` checks it.
//!
//! Copies start `spacing` apart, spacing = the session's duration / concurrency, so about
//! `concurrency` sessions are open at any time; their packets are merged in time order (ties by
//! copy number). Deterministic: the same arguments write the same bytes.

#![allow(dead_code)] // each includer uses part of it

use ftpscope::capture::writer::{PcapFormat, PcapWriter, Precision, LINKTYPE_ETHERNET};
use ftpscope::model::LinkType;
use ftpscope::Timestamp;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::Path;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETH_LEN: usize = 14;
const TCP_SYN: u8 = 0x02;
const TCP_ACK: u8 = 0x10;

/// One session of a lab capture, ready to be copied.
pub struct Template {
    pub source: String,
    /// Which control connection of the source (0 = the first client SYN to the control port).
    pub session: usize,
    pub client: Ipv4Addr,
    pub client_port: u16,
    pub server: Ipv4Addr,
    pub server_port: u16,
    /// Source ports of the connections the client opened (control and passive data): remapped.
    pub client_ports: Vec<u16>,
    /// The port the 227 replies advertise, when the session has any (all must name the same).
    pub passive_port: Option<u16>,
    /// Capture time of the control SYN, nanoseconds since the epoch.
    pub start_ns: i64,
    /// From the control SYN to the session's last packet.
    pub duration_ns: i64,
    pub packets: Vec<TemplatePacket>,
}

pub struct TemplatePacket {
    /// Since the control SYN.
    pub offset_ns: i64,
    pub data: Vec<u8>,
    pub orig_len: u32,
    /// In a 227 reply: where in `data` its port's text ("156,66") is, rewritten for a range.
    pub passive_port_text: Option<std::ops::Range<usize>>,
}

impl Template {
    /// Bytes one copy adds to a pcap file (record headers included).
    pub fn bytes_per_copy(&self) -> u64 {
        self.packets.iter().map(|p| 16 + p.data.len() as u64).sum()
    }

    /// Data connections the client opens in one copy: its connections other than the control
    /// one (retransmitted SYNs are one connection). Each must be tied to the copy's session.
    pub fn data_connections(&self) -> usize {
        self.client_ports.len().saturating_sub(1)
    }

    /// Whether `range` can be written into this template's 227 replies digit for digit (see the
    /// module's doc); the error says why not.
    pub fn check_passive_range(&self, range: &PassiveRange) -> Result<(), String> {
        let Some(port) = self.passive_port else {
            return Err(format!("{}: session {} has no 227 reply to give a passive port", self.source, self.session));
        };
        let width = self.packets.iter().find_map(|p| p.passive_port_text.as_ref()).map_or(0, |r| r.len());
        match (range.first..=range.last()).find(|&p| port_text(p).len() != width) {
            Some(p) => Err(format!(
                "passive port {p} is written \"{}\", the 227 of {} writes {port} in {width} characters: a range must keep \
                 the text's length (e.g. 25444-25543, \"99,100\" to \"99,199\", for 6 characters)",
                port_text(p),
                self.source,
            )),
            None => Ok(()),
        }
    }
}

/// Passive ports handed out in turn: copy `i` gets `first + i % count`.
#[derive(Clone, Copy, Debug)]
pub struct PassiveRange {
    pub first: u16,
    pub count: u16,
}

impl PassiveRange {
    /// "FIRST-LAST", both included.
    pub fn parse(s: &str) -> Result<PassiveRange, String> {
        let (a, b) = s.split_once('-').ok_or_else(|| format!("passive ports {s}: FIRST-LAST expected"))?;
        let port = |v: &str| v.trim().parse::<u16>().map_err(|e| format!("passive ports {s}: {e}"));
        let (first, last) = (port(a)?, port(b)?);
        if first == 0 || last < first {
            return Err(format!("passive ports {s}: FIRST from 1, LAST not below it"));
        }
        Ok(PassiveRange { first, count: last - first + 1 })
    }

    pub fn last(&self) -> u16 {
        self.first + (self.count - 1)
    }

    pub fn port(&self, copy: u64) -> u16 {
        self.first + (copy % u64::from(self.count)) as u16
    }
}

/// A port as a 227 reply writes it: "p1,p2" (RFC 959), high byte first.
fn port_text(port: u16) -> String {
    format!("{},{}", port >> 8, port & 0xff)
}

/// In a server's TCP payload, the first 227 reply's address "(h1,h2,h3,h4,p1,p2)": the port it
/// advertises and where its "p1,p2" text is (offsets in `payload`).
fn pasv_reply_port(payload: &[u8]) -> Option<(u16, std::ops::Range<usize>)> {
    let start = payload.windows(4).position(|w| w == b"227 ")?;
    let open = start + payload[start..].iter().position(|&b| b == b'(')? + 1;
    let close = open + payload[open..].iter().position(|&b| b == b')')?;
    let inside = std::str::from_utf8(&payload[open..close]).ok()?;
    let numbers: Vec<u8> = inside.split(',').map(|v| v.trim().parse().ok()).collect::<Option<_>>()?;
    let [.., p1, p2] = numbers[..] else { return None };
    if numbers.len() != 6 {
        return None;
    }
    // "p1,p2" is the text after the fourth comma.
    let fourth_comma = inside.match_indices(',').nth(3)?.0;
    Some((u16::from(p1) << 8 | u16::from(p2), open + fourth_comma + 1..close))
}

/// The fields of an Ethernet/IPv4 frame the selection looks at.
struct Ipv4Summary {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    /// (source port, destination port, flags) for a TCP segment whose header is there.
    tcp: Option<(u16, u16, u8)>,
    /// Where that segment's payload is in the frame (empty when none or cut).
    payload: std::ops::Range<usize>,
}

fn ipv4_summary(frame: &[u8]) -> Option<Ipv4Summary> {
    if frame.len() < ETH_LEN + 20 || u16::from_be_bytes([frame[12], frame[13]]) != ETHERTYPE_IPV4 {
        return None;
    }
    let ip = &frame[ETH_LEN..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    if ip[0] >> 4 != 4 || ihl < 20 || ip.len() < ihl {
        return None;
    }
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let first_fragment = u16::from_be_bytes([ip[6], ip[7]]) & 0x1fff == 0;
    let l4 = &ip[ihl..];
    let tcp = (ip[9] == 6 && first_fragment && l4.len() >= 14)
        .then(|| (u16::from_be_bytes([l4[0], l4[1]]), u16::from_be_bytes([l4[2], l4[3]]), l4[13]));
    let ip_end = (ETH_LEN + usize::from(u16::from_be_bytes([ip[2], ip[3]]))).min(frame.len());
    let payload_start = tcp.map_or(ip_end, |_| ETH_LEN + ihl + usize::from(l4[12] >> 4) * 4);
    Some(Ipv4Summary { src, dst, tcp, payload: payload_start.min(ip_end)..ip_end })
}

/// Takes session `session` (0-based) of the capture at `path`: the `session`-th client SYN to
/// `control_port` and what belongs to it (see the module's doc).
pub fn load(path: &Path, session: usize, control_port: u16) -> Result<Template, String> {
    let mut frames: Vec<(i64, Vec<u8>, u32)> = Vec::new();
    let mut link_error = None;
    ftpscope::capture::read_path(path, 1, &mut |f| {
        if f.link != LinkType::Ethernet {
            link_error.get_or_insert(format!("frame {}: link type {:?}; only Ethernet captures are replicated", f.number, f.link));
        }
        frames.push((f.ts.0, f.data.to_vec(), f.orig_len));
    })
    .map_err(|e| e.to_string())?;
    if let Some(e) = link_error {
        return Err(format!("{}: {e}", path.display()));
    }
    let summaries: Vec<Option<Ipv4Summary>> = frames.iter().map(|(_, data, _)| ipv4_summary(data)).collect();
    let syns: Vec<usize> = summaries
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s, Some(Ipv4Summary { tcp: Some((_, dport, flags)), .. }) if *dport == control_port && flags & (TCP_SYN | TCP_ACK) == TCP_SYN))
        .map(|(i, _)| i)
        .collect();
    let &first = syns.get(session).ok_or_else(|| {
        format!("{}: session {session} asked for, {} client SYN(s) to port {control_port} in the capture", path.display(), syns.len())
    })?;
    let syn = summaries[first].as_ref().unwrap();
    let (client, server) = (syn.src, syn.dst);
    let (client_port, server_port, _) = syn.tcp.unwrap();
    let is_control = |s: &Ipv4Summary| match s.tcp {
        Some((sp, dp, _)) => {
            (s.src, sp, s.dst, dp) == (client, client_port, server, server_port)
                || (s.src, sp, s.dst, dp) == (server, server_port, client, client_port)
        }
        None => false,
    };
    let last = (first..frames.len()).rev().find(|&i| summaries[i].as_ref().is_some_and(is_control)).unwrap();

    let mut packets = Vec::new();
    let mut client_ports = Vec::new();
    let mut passive_port = None;
    for i in first..=last {
        let Some(s) = &summaries[i] else { continue };
        if s.src != client && s.dst != client {
            continue;
        }
        if let Some((sp, dp, flags)) = s.tcp {
            let other_control = (sp == control_port || dp == control_port) && !is_control(s);
            if other_control {
                continue;
            }
            if s.src == client && flags & (TCP_SYN | TCP_ACK) == TCP_SYN && !client_ports.contains(&sp) {
                client_ports.push(sp);
            }
        }
        // The server's 227 replies, for a passive range (a retransmitted one is found again).
        let from_server = s.src == server && s.tcp.is_some_and(|(sp, _, _)| sp == server_port) && is_control(s);
        let (ts, data, orig_len) = &frames[i];
        let pasv = from_server.then(|| pasv_reply_port(&data[s.payload.clone()])).flatten();
        if let Some((port, _)) = &pasv {
            if let Some(earlier) = passive_port.filter(|p| p != port) {
                return Err(format!("{}: session {session}'s 227 replies advertise {earlier} and {port}", path.display()));
            }
            passive_port = Some(*port);
        }
        let passive_port_text = pasv.map(|(_, at)| s.payload.start + at.start..s.payload.start + at.end);
        packets.push(TemplatePacket { offset_ns: ts - frames[first].0, data: data.clone(), orig_len: *orig_len, passive_port_text });
    }
    Ok(Template {
        source: path.display().to_string(),
        session,
        client,
        client_port,
        server,
        server_port,
        client_ports,
        passive_port,
        start_ns: frames[first].0,
        duration_ns: frames[last].0 - frames[first].0,
        packets,
    })
}

// ------------------------------------------------------------------------------ remapping

/// Addresses available in 172.16.0.0/12 (network and broadcast addresses left out).
pub const CLIENT_ADDRESSES: u32 = (1 << 20) - 2;

/// The client address of copy `i`: 172.16.0.1, 172.16.0.2, ... (wrapping after 1,048,574
/// copies, when the ports have moved on).
pub fn client_address(i: u64) -> Ipv4Addr {
    Ipv4Addr::from(0xac10_0000 + 1 + (i % u64::from(CLIENT_ADDRESSES)) as u32)
}

/// The shift of copy `i`'s client ports; a port p >= 1024 becomes 1024 + (p - 1024 + shift) mod 64512.
fn port_shift(i: u64) -> u32 {
    (i.wrapping_mul(9973) % 64512) as u32
}

pub fn client_port(port: u16, i: u64) -> u16 {
    if port < 1024 {
        return port;
    }
    (1024 + (u32::from(port) - 1024 + port_shift(i)) % 64512) as u16
}

/// The client endpoint of copy `i`'s control connection, "a.b.c.d:port" as ftpscope prints it.
pub fn client_endpoint(t: &Template, i: u64) -> String {
    format!("{}:{}", client_address(i), client_port(t.client_port, i))
}

struct Remap {
    old_ip: [u8; 4],
    new_ip: [u8; 4],
    /// (template port, this copy's port).
    ports: Vec<(u16, u16)>,
    /// With a passive range: (the template's passive port, this copy's), on the server's side.
    passive: Option<(u16, u16)>,
}

/// RFC 1624 eqn. 3: the checksum after 16-bit words changed from `old` to `new`.
fn adjust(checksum: u16, changes: &[(u16, u16)]) -> u16 {
    let mut sum = u32::from(!checksum);
    for &(old, new) in changes {
        sum += u32::from(!old) + u32::from(new);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn word(p: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([p[at], p[at + 1]])
}

fn set_word(p: &mut [u8], at: usize, v: u16, changes: &mut Vec<(u16, u16)>) {
    let old = word(p, at);
    if old != v {
        p[at..at + 2].copy_from_slice(&v.to_be_bytes());
        changes.push((old, v));
    }
}

/// Moves the client in the IPv4 packet `p` (possibly cut short, as in an ICMP quote) and fixes
/// the checksums whose fields are present; appends every 16-bit change made to `changes`, for
/// the checksum of an enclosing ICMP message.
fn remap_ipv4(p: &mut [u8], m: &Remap, changes: &mut Vec<(u16, u16)>) {
    if p.len() < 20 || p[0] >> 4 != 4 {
        return;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    if ihl < 20 || p.len() < ihl {
        return;
    }
    let src_is_client = p[12..16] == m.old_ip;
    let dst_is_client = p[16..20] == m.old_ip;
    if !src_is_client && !dst_is_client {
        return;
    }
    // Addresses: in the IP header and in the TCP/UDP pseudo-header.
    let mut addr = Vec::with_capacity(4);
    for (is_client, at) in [(src_is_client, 12), (dst_is_client, 16)] {
        if is_client {
            set_word(p, at, u16::from_be_bytes([m.new_ip[0], m.new_ip[1]]), &mut addr);
            set_word(p, at + 2, u16::from_be_bytes([m.new_ip[2], m.new_ip[3]]), &mut addr);
        }
    }
    let ip_sum = adjust(word(p, 10), &addr);
    changes.extend_from_slice(&addr);
    set_word(p, 10, ip_sum, changes);
    let proto = p[9];
    let first_fragment = word(p, 6) & 0x1fff == 0;
    if !first_fragment {
        return;
    }
    let l4 = &mut p[ihl..];
    match proto {
        6 if l4.len() >= 4 => {
            let mut tcp = addr.clone();
            for (is_client, at) in [(src_is_client, 0), (dst_is_client, 2)] {
                let port = word(l4, at);
                let new = if is_client {
                    m.ports.iter().find(|(old, _)| *old == port).map(|&(_, new)| new)
                } else {
                    m.passive.filter(|(old, _)| *old == port).map(|(_, new)| new)
                };
                if let Some(new) = new {
                    set_word(l4, at, new, &mut tcp);
                }
            }
            changes.extend_from_slice(&tcp[addr.len()..]);
            if l4.len() >= 18 {
                let sum = adjust(word(l4, 16), &tcp);
                set_word(l4, 16, sum, changes);
            }
        }
        17 if l4.len() >= 8 && word(l4, 6) != 0 => {
            // Zero means "no checksum"; a computed zero is sent as 0xffff.
            let sum = match adjust(word(l4, 6), &addr) {
                0 => 0xffff,
                s => s,
            };
            set_word(l4, 6, sum, changes);
        }
        // ICMP errors quote the packet that caused them: move the client there too.
        1 if l4.len() > 8 && matches!(l4[0], 3 | 4 | 5 | 11 | 12) => {
            let mut quoted = Vec::new();
            remap_ipv4(&mut l4[8..], m, &mut quoted);
            let sum = adjust(word(l4, 2), &quoted);
            changes.extend_from_slice(&quoted);
            set_word(l4, 2, sum, changes);
        }
        _ => {}
    }
}

/// Copy `i` of the template's packet `p` (an Ethernet frame), into `out`.
fn copy_frame(p: &TemplatePacket, m: &Remap, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&p.data);
    if let (Some(at), Some((_, port))) = (&p.passive_port_text, m.passive) {
        rewrite_port_text(out, at.clone(), port);
    }
    if out.len() > ETH_LEN && u16::from_be_bytes([out[12], out[13]]) == ETHERTYPE_IPV4 {
        remap_ipv4(&mut out[ETH_LEN..], m, &mut Vec::new());
    }
}

/// Writes `port` as "p1,p2" over the 227's text at `at` (as long: `Template::check_passive_range`)
/// and adjusts the TCP checksum. Its 16-bit words start at even offsets of the frame (the TCP
/// header does: 14 bytes of Ethernet, an IP header of 4-byte words).
fn rewrite_port_text(frame: &mut [u8], at: std::ops::Range<usize>, port: u16) {
    let text = port_text(port);
    assert_eq!(text.len(), at.len(), "a passive range keeps the 227's length");
    let ihl = usize::from(frame[ETH_LEN] & 0x0f) * 4;
    let checksum_at = ETH_LEN + ihl + 16;
    let words = at.start & !1..(at.end + 1) & !1;
    let read = |f: &[u8]| words.clone().step_by(2).map(|w| word(f, w)).collect::<Vec<u16>>();
    let before = read(frame);
    frame[at].copy_from_slice(text.as_bytes());
    let changes: Vec<(u16, u16)> = before.into_iter().zip(read(frame)).collect();
    let sum = adjust(word(frame, checksum_at), &changes);
    frame[checksum_at..checksum_at + 2].copy_from_slice(&sum.to_be_bytes());
}

fn remap_for(t: &Template, i: u64, passive: Option<PassiveRange>) -> Remap {
    Remap {
        old_ip: t.client.octets(),
        new_ip: client_address(i).octets(),
        ports: t.client_ports.iter().map(|&p| (p, client_port(p, i))).collect(),
        passive: t.passive_port.zip(passive.map(|r| r.port(i))),
    }
}

// ------------------------------------------------------------------------------ writing

/// What [`write`] wrote.
pub struct Written {
    pub sessions: u64,
    pub packets: u64,
    pub bytes: u64,
    /// Between the first copy's first packet and the last copy's last one.
    pub duration_ns: i64,
    pub spacing_ns: i64,
}

/// Writes `sessions` copies of `t`, about `concurrency` open at once, as an Ethernet pcap with
/// microsecond timestamps (as the lab captures). `out` should be buffered.
pub fn write<W: Write>(t: &Template, sessions: u64, concurrency: u64, out: W) -> std::io::Result<(Written, W)> {
    write_shape(t, &Shape { sessions, concurrency, passive_ports: None }, out)
}

/// What a capture of copies is made of, besides the template.
pub struct Shape {
    pub sessions: u64,
    /// Sessions open at once.
    pub concurrency: u64,
    /// Each copy on its own passive port of this range (`Template::check_passive_range` first);
    /// None keeps the template's.
    pub passive_ports: Option<PassiveRange>,
}

/// [`write`] with a passive range.
pub fn write_shape<W: Write>(t: &Template, shape: &Shape, out: W) -> std::io::Result<(Written, W)> {
    let Shape { sessions, concurrency, passive_ports } = *shape;
    let format = PcapFormat { link_type: LINKTYPE_ETHERNET, snaplen: 262_144, precision: Precision::Micros, ..PcapFormat::default() };
    let mut w = PcapWriter::new(out, format)?;
    // Whole microseconds, so that the file's timestamps are the exact ones merged here.
    let spacing_ns = (t.duration_ns / concurrency.max(1) as i64 / 1000).max(1) * 1000;
    let start = |i: u64| t.start_ns + i as i64 * spacing_ns;
    // (time of the copy's next packet, copy, packet index), earliest first.
    let mut heap: BinaryHeap<Reverse<(i64, u64, usize)>> = BinaryHeap::new();
    let mut remaps: std::collections::HashMap<u64, Remap> = Default::default();
    let mut next_copy = 0u64;
    let mut frame = Vec::with_capacity(2048);
    let mut last_ts = t.start_ns;
    loop {
        // Start every copy whose first packet comes before the earliest pending one.
        while next_copy < sessions && heap.peek().is_none_or(|Reverse((ts, _, _))| start(next_copy) <= *ts) {
            heap.push(Reverse((start(next_copy), next_copy, 0)));
            remaps.insert(next_copy, remap_for(t, next_copy, passive_ports));
            next_copy += 1;
        }
        let Some(Reverse((ts, copy, k))) = heap.pop() else { break };
        let p = &t.packets[k];
        copy_frame(p, &remaps[&copy], &mut frame);
        w.write_packet(Timestamp(ts), &frame, p.orig_len)?;
        last_ts = ts;
        match t.packets.get(k + 1) {
            Some(next) => heap.push(Reverse((start(copy) + next.offset_ns, copy, k + 1))),
            None => {
                remaps.remove(&copy);
            }
        }
    }
    let written = Written { sessions, packets: w.packets(), bytes: w.bytes(), duration_ns: last_ts - t.start_ns, spacing_ns };
    Ok((written, w.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ones_complement_sum(data: &[u8], mut acc: u32) -> u16 {
        for c in data.chunks(2) {
            acc += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    }

    #[test]
    fn incremental_checksum_matches_a_full_one() {
        let mut header = [0x45, 0, 0, 60, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 192, 168, 1, 10, 198, 51, 100, 2];
        let sum = !ones_complement_sum(&header, 0);
        header[10..12].copy_from_slice(&sum.to_be_bytes());
        let m = Remap { old_ip: [192, 168, 1, 10], new_ip: [172, 16, 3, 7], ports: vec![], passive: None };
        remap_ipv4(&mut header, &m, &mut Vec::new());
        assert_eq!(&header[12..16], &[172, 16, 3, 7]);
        assert_eq!(ones_complement_sum(&header, 0), 0xffff, "checksum still verifies");
    }

    #[test]
    fn ports_are_a_bijection_per_copy() {
        for i in [0, 1, 77, 1 << 20] {
            let mapped: std::collections::HashSet<u16> = (1024..=65535u16).map(|p| client_port(p, i)).collect();
            assert_eq!(mapped.len(), 64512);
        }
        assert_eq!(client_port(21, 5), 21);
        assert_eq!(client_address(0), Ipv4Addr::new(172, 16, 0, 1));
        assert_eq!(client_address(u64::from(CLIENT_ADDRESSES)), Ipv4Addr::new(172, 16, 0, 1));
    }

    /// Copies of the lab session where clients reach the server's control address (two passive
    /// transfers), on a 100-port range: each copy's 227 names its port, its data connections use
    /// it, and every checksum still verifies.
    #[test]
    fn a_passive_range_moves_the_227_and_the_data_connections() {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pasv-private-leak-workaround/client.pcap");
        let t = load(&source, 1, 21).unwrap();
        assert_eq!((t.passive_port, t.data_connections()), (Some(40002), 2));
        let range = PassiveRange::parse("25444-25543").unwrap();
        t.check_passive_range(&range).unwrap();
        assert!(t.check_passive_range(&PassiveRange::parse("40000-40099").unwrap()).is_err(), "156,99 then 156,100: one character more");
        let shape = Shape { sessions: 3, concurrency: 3, passive_ports: Some(range) };
        let (_, pcap) = write_shape(&t, &shape, Vec::new()).unwrap();
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("replicate-passive-range.pcap");
        std::fs::write(&path, pcap).unwrap();
        let (mut replies, mut syns) = (Vec::new(), Vec::new());
        ftpscope::capture::read_path(&path, 1, &mut |f| {
            let s = ipv4_summary(f.data).unwrap();
            let ip = &f.data[ETH_LEN..];
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            assert_eq!(ones_complement_sum(&ip[..ihl], 0), 0xffff, "IP checksum of frame {}", f.number);
            let tcp = &f.data[ETH_LEN + ihl..s.payload.end];
            let addresses: u32 = [12, 14, 16, 18].into_iter().map(|at| u32::from(word(ip, at))).sum();
            let pseudo = addresses + 6 + tcp.len() as u32;
            assert_eq!(ones_complement_sum(tcp, pseudo), 0xffff, "TCP checksum of frame {}", f.number);
            let (_, dport, flags) = s.tcp.unwrap();
            if let Some((port, _)) = pasv_reply_port(&f.data[s.payload.clone()]) {
                replies.push((s.dst, port));
            }
            if flags & (TCP_SYN | TCP_ACK) == TCP_SYN && dport != 21 {
                syns.push((s.src, dport));
            }
        })
        .unwrap();
        let expected: Vec<(Ipv4Addr, u16)> = (0..3).flat_map(|i| [(client_address(i), 25444 + i as u16); 2]).collect();
        replies.sort();
        syns.sort();
        assert_eq!(replies, expected);
        assert_eq!(syns, expected);
    }
}
