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
}

impl Template {
    /// Bytes one copy adds to a pcap file (record headers included).
    pub fn bytes_per_copy(&self) -> u64 {
        self.packets.iter().map(|p| 16 + p.data.len() as u64).sum()
    }
}

/// The fields of an Ethernet/IPv4 frame the selection looks at.
struct Ipv4Summary {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    /// (source port, destination port, flags) for a TCP segment whose header is there.
    tcp: Option<(u16, u16, u8)>,
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
    Some(Ipv4Summary { src, dst, tcp })
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
        let (ts, data, orig_len) = &frames[i];
        packets.push(TemplatePacket { offset_ns: ts - frames[first].0, data: data.clone(), orig_len: *orig_len });
    }
    Ok(Template {
        source: path.display().to_string(),
        session,
        client,
        client_port,
        server,
        server_port,
        client_ports,
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
                if is_client {
                    let port = word(l4, at);
                    if let Some(&(_, new)) = m.ports.iter().find(|(old, _)| *old == port) {
                        set_word(l4, at, new, &mut tcp);
                    }
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

/// Copy `i` of the template's packet `data` (an Ethernet frame), into `out`.
fn copy_frame(data: &[u8], m: &Remap, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(data);
    if out.len() > ETH_LEN && u16::from_be_bytes([out[12], out[13]]) == ETHERTYPE_IPV4 {
        remap_ipv4(&mut out[ETH_LEN..], m, &mut Vec::new());
    }
}

fn remap_for(t: &Template, i: u64) -> Remap {
    Remap {
        old_ip: t.client.octets(),
        new_ip: client_address(i).octets(),
        ports: t.client_ports.iter().map(|&p| (p, client_port(p, i))).collect(),
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
            remaps.insert(next_copy, remap_for(t, next_copy));
            next_copy += 1;
        }
        let Some(Reverse((ts, copy, k))) = heap.pop() else { break };
        let p = &t.packets[k];
        copy_frame(&p.data, &remaps[&copy], &mut frame);
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
        let m = Remap { old_ip: [192, 168, 1, 10], new_ip: [172, 16, 3, 7], ports: vec![] };
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
}
