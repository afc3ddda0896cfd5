//! Crafts the captures in `fixtures/crafted/`, byte by byte: edge cases the lab's real servers do
//! not produce (odd 227/229 forms, odd commands, ICMP unreachable, NAT helpers, TLS, mid-session
//! starts, loss, every link type and file format, a SYN flood).
//!
//! Run: `cargo run --example craft -- fixtures/crafted`
//!
//! Deterministic: fixed timestamps (a clock that advances by a fixed step per packet), fixed ISNs
//! and ports, a fixed-seed generator for the flood; running it twice gives byte-identical files.
//! Packets are etherparse's: its `PacketBuilder` for TCP segments and ICMP errors (lengths and
//! checksums), its header types for fragments and link layers; classic pcap files go through
//! the library's `PcapWriter`. Hand-built: what neither has, the Linux cooked v2 and BSD
//! loopback link headers and the pcapng blocks.

#[path = "../tests/common/segment.rs"]
mod segment;

use etherparse::icmpv4::DestUnreachableHeader;
use etherparse::icmpv6::DestUnreachableCode;
use etherparse::{
    ArpHardwareId, EtherType, Ethernet2Header, Icmpv4Type, Icmpv6Type, IpFragOffset, IpHeaders, IpNumber, IpSlice, Ipv4Header,
    Ipv6FragmentHeader, Ipv6Header, LinuxSllHeader, LinuxSllPacketType, LinuxSllProtocolType, PacketBuilder, SingleVlanHeader, VlanId,
    VlanPcp,
};
use ftpscope::capture::writer::{
    ByteOrder, PcapFormat, PcapWriter, Precision, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_NULL, LINKTYPE_RAW,
};
use ftpscope::Timestamp;
use segment::{ACK, FIN, PSH, RST, SYN};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// Packets

/// The one-file listing that most crafted transfers carry.
const README_LISTING: &[u8] = b"-rw-r--r-- 1 ftp ftp   39 Nov 14 22:00 readme\r\n";

/// The IP header of every crafted packet: IPv4 with DF, TTL 64 and identification `id`, or
/// IPv6 with hop limit 64 (the builder fills in lengths, protocol and checksum).
fn ip_header(src: IpAddr, dst: IpAddr, id: u16) -> IpHeaders {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let header =
                Ipv4Header { source: s.octets(), destination: d.octets(), time_to_live: 64, identification: id, ..Default::default() };
            IpHeaders::Ipv4(header, Default::default())
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => IpHeaders::Ipv6(
            Ipv6Header { source: s.octets(), destination: d.octets(), hop_limit: 64, ..Default::default() },
            Default::default(),
        ),
        _ => panic!("mixed address families"),
    }
}

/// A TCP segment without options (window 64240, Linux's first) in an IP packet of [`ip_header`].
fn tcp_packet(src: SocketAddr, dst: SocketAddr, seq: u32, ack: u32, flags: u8, id: u16, payload: &[u8]) -> Vec<u8> {
    let header = segment::header(src.port(), dst.port(), seq, ack, flags, 0xfaf0);
    let mut p = Vec::new();
    PacketBuilder::ip(ip_header(src.ip(), dst.ip(), id)).tcp_header(header).write(&mut p, payload).expect("a segment that fits IP");
    p
}

/// ICMP host unreachable (v4: type 3 code 1) or ICMPv6 address unreachable (type 1 code 3) from
/// `router` to the sender of `invoking`, quoting its IPv4 header + 8 bytes (RFC 792) or the
/// whole packet (v6).
fn unreachable(router: IpAddr, invoking: &[u8], id: u16) -> Vec<u8> {
    let to = IpSlice::from_slice(invoking).expect("an IP packet").source_addr();
    let builder = PacketBuilder::ip(ip_header(router, to, id));
    let mut p = Vec::new();
    let written = match router {
        IpAddr::V4(_) => builder.icmpv4(Icmpv4Type::DestinationUnreachable(DestUnreachableHeader::Host)).write(&mut p, &invoking[..28]),
        IpAddr::V6(_) => builder.icmpv6(Icmpv6Type::DestinationUnreachable(DestUnreachableCode::Address)).write(&mut p, invoking),
    };
    written.expect("an ICMP error that fits IP");
    p
}

// ---------------------------------------------------------------------------------------------
// Capture under construction: IP packets with timestamps and a tag saying which stream they
// belong to (so that formats can wrap or cut some packets differently).

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    Control,
    Data,
    Other,
}

struct Pkt {
    t_ns: u64,
    ip: Vec<u8>,
    tag: Tag,
}

struct Cap {
    t_ns: u64,
    step_ns: u64,
    id: u16,
    pkts: Vec<Pkt>,
    /// Tag given to packets from now on.
    tag: Tag,
}

/// 2023-11-14 22:13:20 UTC.
const EPOCH_NS: u64 = 1_700_000_000_000_000_000;

impl Cap {
    fn new() -> Cap {
        Cap { t_ns: EPOCH_NS, step_ns: 1_000_000, id: 1, pkts: Vec::new(), tag: Tag::Control }
    }

    fn push(&mut self, ip: Vec<u8>) -> usize {
        self.t_ns += self.step_ns;
        self.id = self.id.wrapping_add(1);
        self.pkts.push(Pkt { t_ns: self.t_ns, ip, tag: self.tag });
        self.pkts.len()
    }

    /// Moves the clock forward (a pause in the conversation).
    fn wait_ms(&mut self, ms: u64) {
        self.t_ns += ms * 1_000_000;
    }

    fn tcp(&mut self, src: SocketAddr, dst: SocketAddr, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> usize {
        let p = tcp_packet(src, dst, seq, ack, flags, self.id, payload);
        self.push(p)
    }

    /// A bare SYN (no answer follows unless the caller adds one).
    fn syn(&mut self, src: SocketAddr, dst: SocketAddr, isn: u32) -> Vec<u8> {
        let p = tcp_packet(src, dst, isn, 0, SYN, self.id, &[]);
        self.push(p.clone());
        p
    }

    /// Three-way handshake; returns the connection ready for data.
    fn open(&mut self, client: SocketAddr, server: SocketAddr, cisn: u32, sisn: u32) -> Conn {
        self.tcp(client, server, cisn, 0, SYN, &[]);
        self.tcp(server, client, sisn, cisn + 1, SYN | ACK, &[]);
        self.tcp(client, server, cisn + 1, sisn + 1, ACK, &[]);
        Conn { client, server, cseq: cisn + 1, sseq: sisn + 1 }
    }
}

/// A TCP connection in progress: next sequence number each way.
#[derive(Clone, Copy)]
struct Conn {
    client: SocketAddr,
    server: SocketAddr,
    cseq: u32,
    sseq: u32,
}

impl Conn {
    /// One that began before the capture did: no handshake.
    fn midway(client: SocketAddr, server: SocketAddr, cseq: u32, sseq: u32) -> Conn {
        Conn { client, server, cseq, sseq }
    }

    /// Client sends `data` in one segment.
    fn c(&mut self, cap: &mut Cap, data: &[u8]) -> usize {
        let n = cap.tcp(self.client, self.server, self.cseq, self.sseq, PSH | ACK, data);
        self.cseq = self.cseq.wrapping_add(data.len() as u32);
        n
    }

    /// Server sends `data` in one segment.
    fn s(&mut self, cap: &mut Cap, data: &[u8]) -> usize {
        let n = cap.tcp(self.server, self.client, self.sseq, self.cseq, PSH | ACK, data);
        self.sseq = self.sseq.wrapping_add(data.len() as u32);
        n
    }

    /// Client command, then the server's reply (each one segment).
    fn cmd(&mut self, cap: &mut Cap, command: &str, reply: &str) -> (usize, usize) {
        let a = self.c(cap, command.as_bytes());
        let b = self.s(cap, reply.as_bytes());
        (a, b)
    }

    /// Server-side close first (FIN, FIN, ACK).
    fn close_by_server(&mut self, cap: &mut Cap) {
        cap.tcp(self.server, self.client, self.sseq, self.cseq, FIN | ACK, &[]);
        self.sseq += 1;
        cap.tcp(self.client, self.server, self.cseq, self.sseq, FIN | ACK, &[]);
        self.cseq += 1;
        cap.tcp(self.server, self.client, self.sseq, self.cseq, ACK, &[]);
    }

    /// Client-side close first.
    fn close_by_client(&mut self, cap: &mut Cap) {
        cap.tcp(self.client, self.server, self.cseq, self.sseq, FIN | ACK, &[]);
        self.cseq += 1;
        cap.tcp(self.server, self.client, self.sseq, self.cseq, FIN | ACK, &[]);
        self.sseq += 1;
        cap.tcp(self.client, self.server, self.cseq, self.sseq, ACK, &[]);
    }
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn ipa(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A complete passive data connection: handshake, `bytes` from the server, close by the server.
fn transfer_to_client(cap: &mut Cap, client: SocketAddr, server: SocketAddr, isn: u32, bytes: &[u8]) {
    let saved = cap.tag;
    cap.tag = Tag::Data;
    let mut d = cap.open(client, server, isn, isn ^ 0x5a5a_0000);
    if !bytes.is_empty() {
        d.s(cap, bytes);
    }
    d.close_by_server(cap);
    cap.tag = saved;
}

/// A passive transfer: the command, the data connection carrying `bytes`, 150 and 226.
fn passive_transfer(cap: &mut Cap, c: &mut Conn, command: &str, from: &str, to: &str, isn: u32, bytes: &[u8]) {
    c.c(cap, format!("{command}\r\n").as_bytes());
    transfer_to_client(cap, sa(from), sa(to), isn, bytes);
    c.s(cap, b"150 Here comes the directory listing.\r\n");
    c.s(cap, b"226 Directory send OK.\r\n");
}

/// QUIT, 221, and the server closes.
fn quit(cap: &mut Cap, c: &mut Conn) {
    c.cmd(cap, "QUIT\r\n", "221 Goodbye.\r\n");
    c.close_by_server(cap);
}

/// SYN and SYN-ACK only (the data connection is established, nothing more is captured).
fn syn_synack(cap: &mut Cap, client: SocketAddr, server: SocketAddr, isn: u32) {
    let saved = cap.tag;
    cap.tag = Tag::Data;
    cap.tcp(client, server, isn, 0, SYN, &[]);
    cap.tcp(server, client, isn ^ 0x5a5a_0000, isn + 1, SYN | ACK, &[]);
    cap.tag = saved;
}

// ---------------------------------------------------------------------------------------------
// Link layers and file formats

#[derive(Clone, Copy)]
enum Link {
    Ethernet,
    /// 802.1Q tag with this VLAN id.
    Vlan(u16),
    /// 802.1ad outer tag + 802.1Q inner tag.
    QinQ(u16, u16),
    Raw,
    Sll,
    Sll2,
    Null,
}

impl Link {
    fn linktype(self) -> u32 {
        match self {
            Link::Ethernet | Link::Vlan(_) | Link::QinQ(..) => LINKTYPE_ETHERNET,
            Link::Raw => LINKTYPE_RAW,
            Link::Sll => LINKTYPE_LINUX_SLL,
            Link::Sll2 => LINKTYPE_LINUX_SLL2,
            Link::Null => LINKTYPE_NULL,
        }
    }

    fn wrap(self, ip: &[u8]) -> Vec<u8> {
        let v6 = ip[0] >> 4 == 6;
        let ether_type = if v6 { EtherType::IPV6 } else { EtherType::IPV4 };
        // Ethernet addresses: client side 02:00:00:00:00:01, the other 02:00:00:00:00:02;
        // direction does not matter to the analyzer, keep them fixed.
        const A: [u8; 6] = [2, 0, 0, 0, 0, 1];
        const B: [u8; 6] = [2, 0, 0, 0, 0, 2];
        let ethernet = |ether_type| Ethernet2Header { source: A, destination: B, ether_type }.to_bytes();
        let tag = |id, ether_type| {
            let vlan_id = VlanId::try_new(id).expect("a 12-bit VLAN id");
            SingleVlanHeader { pcp: VlanPcp::ZERO, drop_eligible_indicator: false, vlan_id, ether_type }.to_bytes()
        };
        let mut f = Vec::with_capacity(ip.len() + 24);
        match self {
            Link::Ethernet => f.extend_from_slice(&ethernet(ether_type)),
            Link::Vlan(id) => {
                f.extend_from_slice(&ethernet(EtherType::VLAN_TAGGED_FRAME));
                f.extend_from_slice(&tag(id, ether_type));
            }
            Link::QinQ(outer, inner) => {
                f.extend_from_slice(&ethernet(EtherType::PROVIDER_BRIDGING));
                f.extend_from_slice(&tag(outer, EtherType::VLAN_TAGGED_FRAME));
                f.extend_from_slice(&tag(inner, ether_type));
            }
            Link::Raw => {}
            Link::Sll => {
                let mut sender_address = [0; 8];
                sender_address[..6].copy_from_slice(&A);
                let sll = LinuxSllHeader {
                    packet_type: LinuxSllPacketType::HOST,
                    arp_hrd_type: ArpHardwareId::ETHERNET,
                    sender_address_valid_length: 6,
                    sender_address,
                    protocol_type: LinuxSllProtocolType::EtherType(ether_type),
                };
                f.extend_from_slice(&sll.to_bytes());
            }
            // etherparse has no header type for the two below: written by hand.
            Link::Sll2 => {
                // protocol, reserved, interface index, ARPHRD_ETHER, packet type, address length, address.
                f.extend_from_slice(&ether_type.0.to_be_bytes());
                f.extend_from_slice(&[0, 0]);
                f.extend_from_slice(&2u32.to_be_bytes());
                f.extend_from_slice(&[0, 1, 0, 6]);
                f.extend_from_slice(&A);
                f.extend_from_slice(&[0, 0]);
            }
            Link::Null => {
                // Host byte order (little-endian writer): AF_INET 2, AF_INET6 24 (BSD).
                let af: u32 = if v6 { 24 } else { 2 };
                f.extend_from_slice(&af.to_le_bytes());
            }
        }
        f.extend_from_slice(ip);
        f
    }
}

/// A frame ready to be written: link-layer bytes as captured, original length, interface.
struct Frame {
    t_ns: u64,
    iface: u32,
    data: Vec<u8>,
    orig_len: u32,
}

fn frames(cap: &Cap, link: impl Fn(&Pkt) -> (u32, Link), snap: impl Fn(&Pkt) -> Option<usize>) -> Vec<Frame> {
    cap.pkts
        .iter()
        .map(|p| {
            let (iface, l) = link(p);
            let mut data = l.wrap(&p.ip);
            let orig_len = data.len() as u32;
            if let Some(n) = snap(p) {
                data.truncate(n);
            }
            Frame { t_ns: p.t_ns, iface, data, orig_len }
        })
        .collect()
}

fn simple(cap: &Cap, link: Link) -> Vec<Frame> {
    frames(cap, |_| (0, link), |_| None)
}

/// Classic pcap through the library's writer.
fn pcap(format: PcapFormat, frames: &[Frame]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), format).expect("writing to memory");
    for f in frames {
        w.write_packet(Timestamp(f.t_ns as i64), &f.data, f.orig_len).expect("a frame pcap can hold");
    }
    w.into_inner()
}

/// Classic pcap as most fixtures are: microseconds, little-endian, snap length 65535.
fn pcap_us(link_type: u32, frames: &[Frame]) -> Vec<u8> {
    pcap(PcapFormat { link_type, snaplen: 65535, ..PcapFormat::default() }, frames)
}

// pcapng stays hand-built: the library writes classic pcap only, and these files need what only
// pcapng holds (an interface per link type and resolution, blocks that carry no packet).
fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
    let mut body = body.to_vec();
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
    let len = (12 + body.len()) as u32;
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&len.to_le_bytes());
}

/// pcapng (little-endian): one SHB, an IDB per interface `(linktype, tsresol, tsoffset)` with an
/// `if_tsresol` option (6 = µs, 9 = ns) and, where not 0, an `if_tsoffset` option (seconds added
/// to every timestamp of the interface), EPBs; `blocks` are (frame index, block type, body), each
/// written before that frame.
fn pcapng(ifaces: &[(u32, u8, i64)], frames: &[Frame], blocks: &[(usize, u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&u64::MAX.to_le_bytes());
    block(&mut out, 0x0a0d_0d0a, &shb);
    for &(linktype, tsresol, tsoffset) in ifaces {
        let mut idb = Vec::new();
        idb.extend_from_slice(&(linktype as u16).to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&65535u32.to_le_bytes());
        // if_tsresol (9), length 1, value, padding; if_tsoffset (14), length 8; opt_endofopt.
        idb.extend_from_slice(&9u16.to_le_bytes());
        idb.extend_from_slice(&1u16.to_le_bytes());
        idb.extend_from_slice(&[tsresol, 0, 0, 0]);
        if tsoffset != 0 {
            idb.extend_from_slice(&14u16.to_le_bytes());
            idb.extend_from_slice(&8u16.to_le_bytes());
            idb.extend_from_slice(&tsoffset.to_le_bytes());
        }
        idb.extend_from_slice(&[0, 0, 0, 0]);
        block(&mut out, 1, &idb);
    }
    for (i, f) in frames.iter().enumerate() {
        for (_, kind, body) in blocks.iter().filter(|b| b.0 == i) {
            block(&mut out, *kind, body);
        }
        let per_sec = 10u64.pow(u32::from(ifaces[f.iface as usize].1));
        let ts = f.t_ns / (1_000_000_000 / per_sec);
        let mut epb = Vec::new();
        epb.extend_from_slice(&f.iface.to_le_bytes());
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&(f.data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&f.orig_len.to_le_bytes());
        epb.extend_from_slice(&f.data);
        block(&mut out, 6, &epb);
    }
    out
}

/// Blocks that carry no packet, placed among the frames: a custom block that may be copied
/// (0x00000BAD) and one that may not (0x40000BAD), each with a Private Enterprise Number; a
/// systemd journal entry (9); decryption secrets (10); name resolution (4); interface
/// statistics (5). Wireshark numbers the first three as frames, not the others.
fn other_blocks() -> Vec<(usize, u32, Vec<u8>)> {
    let custom = |text: &[u8]| [&32473u32.to_le_bytes()[..], text].concat();
    vec![
        (2, 0x0000_0bad, custom(b"copy me")),
        (5, 0x4000_0bad, custom(b"do not copy me")),
        (8, 9, b"__REALTIME_TIMESTAMP=1700000000000000\nMESSAGE=hello\n".to_vec()),
        (11, 10, [&0x544c_534bu32.to_le_bytes()[..], &4u32.to_le_bytes(), b"keys"].concat()),
        (14, 4, vec![0, 0, 0, 0]),
        (17, 5, vec![0; 12]),
    ]
}

// ---------------------------------------------------------------------------------------------
// The captures

const BANNER: &str = "220 (vsFTPd 3.0.5)\r\n";

/// Greeting and anonymous login.
fn login(cap: &mut Cap, c: &mut Conn) {
    c.s(cap, BANNER.as_bytes());
    c.cmd(cap, "USER anonymous\r\n", "331 Please specify the password.\r\n");
    c.cmd(cap, "PASS guest@\r\n", "230 Login successful.\r\n");
}

/// 1. Every odd 227/229/228 form, some with a data connection.
fn odd_227_forms() -> Cap {
    let mut cap = Cap::new();
    let client = sa("192.0.2.10:40000");
    let server = sa("198.51.100.20:21");
    let mut c = cap.open(client, server, 1000, 5000);
    login(&mut cap, &mut c);
    c.cmd(&mut cap, "TYPE I\r\n", "200 Switching to Binary mode.\r\n");
    // (reply, optional data connection target)
    let forms: &[(&str, &str, Option<&str>)] = &[
        ("PASV", "227 Entering Passive Mode (198,51,100,20,4,5)\r\n", Some("198.51.100.20:1029")),
        ("PASV", "227 Entering Passive Mode (198,51,100,20,4,6).\r\n", None),
        ("PASV", "227 Entering passive mode. 198,51,100,20,4,7\r\n", None),
        ("PASV", "227 Data transfer will passively listen to 198,51,100,20,4,8\r\n", None),
        ("PASV", "227 198,51,100,20,4,9\r\n", Some("198.51.100.20:1033")),
        ("PASV", "227 =198,51,100,20,4,10\r\n", None),
        ("PASV", "227 Entering Passive Mode (198, 51, 100, 20, 4, 11)\r\n", None),
        ("PASV", "227-listen socket created\r\n227 (198,51,100,20,4,12)\r\n", Some("198.51.100.20:1036")),
        // "Any": the client uses the control connection's address.
        ("PASV", "227 Entering Passive Mode (0,0,0,0,4,13)\r\n", Some("198.51.100.20:1037")),
        ("PASV", "227 Entering Passive Mode (198,51,100,20,257,1)\r\n", None),
        ("PASV", "227 Entering Passive Mode (\r\n", None),
        ("EPSV", "229 Entering Extended Passive Mode (|||6446|)\r\n", Some("198.51.100.20:6446")),
        ("EPSV", "229 Entering Extended Passive Mode (|||48758|).\r\n", None),
        ("EPSV", "229 Entering Extended Passive Mode (!!!6447!)\r\n", None),
        ("EPSV", "229 Entering Extended Passive Mode (||6448|)\r\n", None),
        ("EPSV", "229 Entering Extended Passive Mode (|1|10.0.0.5|4000|)\r\n", None),
        ("EPSV", "229 Entering Extended Passive Mode (|||0|)\r\n", None),
        ("EPSV", "227 Entering Passive Mode (198,51,100,20,4,20)\r\n", Some("198.51.100.20:1044")),
        ("PASV", "229 Entering Extended Passive Mode (|||6449|)\r\n", Some("198.51.100.20:6449")),
        ("LPSV", "228 Entering Long Passive Mode (4,4,198,51,100,20,2,4,21)\r\n", Some("198.51.100.20:1045")),
    ];
    for (i, (cmd, reply, data)) in forms.iter().enumerate() {
        c.cmd(&mut cap, &format!("{cmd}\r\n"), reply);
        if let Some(target) = data {
            let dport = 41000 + i as u16;
            let from = SocketAddr::new(client.ip(), dport);
            if i == 0 {
                // A complete LIST on the first one.
                let listing = b"-rw-r--r-- 1 ftp ftp 42 Nov 14 22:00 a.txt\r\n";
                passive_transfer(&mut cap, &mut c, "LIST", &from.to_string(), target, 7000, listing);
            } else {
                syn_synack(&mut cap, from, sa(target), 7000 + i as u32 * 100);
            }
        }
    }
    // Long enough after the last negotiation that "no SYN seen" means not attempted.
    cap.wait_ms(5000);
    quit(&mut cap, &mut c);
    cap
}

/// 2. Odd commands and replies; the banner in three segments.
fn odd_commands() -> Cap {
    let mut cap = Cap::new();
    let client = sa("10.0.0.1:40001");
    let server = sa("10.0.0.2:21");
    let mut c = cap.open(client, server, 2000, 6000);
    c.s(&mut cap, b"220-Welcome to");
    c.s(&mut cap, b" the crafted server\r\n220-second line\r\n22");
    c.s(&mut cap, b"0 Ready.\r\n");
    c.cmd(&mut cap, "USER anonymous\r\n", "331 Please specify the password.\r\n");
    // A 230- block closed by another code.
    c.cmd(&mut cap, "PASS guest@\r\n", "230-Welcome\r\n230-Be nice\r\n200 Login fine.\r\n");
    c.cmd(&mut cap, "NOOP\r\n", "230_no_space\r\n");
    c.cmd(&mut cap, "SYST\r\n", "2x5 UNIX Type: L8\r\n");
    c.cmd(&mut cap, "port 10,0,0,1,4,1\r\n", "200 PORT command successful.\r\n");
    c.cmd(&mut cap, "PORT 10, 0, 0, 1, 4, 2\r\n", "200 PORT command successful.\r\n");
    c.cmd(&mut cap, "PORT 10,0,0,1,4,3\n", "200 PORT command successful.\r\n");
    c.cmd(&mut cap, "EPRT !1!10.0.0.1!2000!\r\n", "200 EPRT command successful.\r\n");
    c.cmd(&mut cap, "EPRT |1|fe80::1|5282|\r\n", "501 Illegal EPRT command.\r\n");
    c.cmd(&mut cap, "EPRT |1|10.0.0.1|70000|\r\n", "501 Illegal EPRT command.\r\n");
    c.cmd(&mut cap, "LPRT 4,4,10,0,0,1,2,4,4\r\n", "200 LPRT command successful.\r\n");
    c.cmd(&mut cap, "LPRT 6,16,253,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,2,4,5\r\n", "200 LPRT command successful.\r\n");
    c.c(&mut cap, b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\xff\xfe\r\n");
    c.s(&mut cap, b"500 Unknown command.\r\n");
    cap.wait_ms(5000);
    c.cmd(&mut cap, "CWD /nonexistent\r\n", "500 OOPS: vsf_sysutil_bind\r\n500 OOPS: child died\r\n");
    c.close_by_server(&mut cap);
    cap
}

/// 2b. The first segment each way shorter than a reply code or a verb: "22" then "0 ...", "US"
/// then "ER ...". A detector that judges the first segment alone misses the session.
fn banner_split_in_code() -> Cap {
    let mut cap = Cap::new();
    let mut c = cap.open(sa("192.0.2.10:40012"), sa("198.51.100.20:21"), 13_000, 23_000);
    c.s(&mut cap, b"22");
    c.s(&mut cap, b"0 (vsFTPd 3.0.5)\r\n");
    c.c(&mut cap, b"US");
    c.cmd(&mut cap, "ER anonymous\r\n", "331 Please specify the password.\r\n");
    c.cmd(&mut cap, "PASS guest@\r\n", "230 Login successful.\r\n");
    c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (198,51,100,20,200,6).\r\n");
    passive_transfer(&mut cap, &mut c, "NLST", "192.0.2.10:41013", "198.51.100.20:51206", 10_100, b"x\r\n");
    quit(&mut cap, &mut c);
    cap
}

/// 3. Server behind NAT advertises its private address; the client trusts it; SYNs unanswered.
fn private_leak_unanswered() -> Cap {
    let mut cap = Cap::new();
    let client = sa("192.0.2.10:40002");
    let server = sa("203.0.113.10:21");
    let mut c = cap.open(client, server, 3000, 7000);
    login(&mut cap, &mut c);
    c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (10,0,0,20,39,23).\r\n");
    cap.tag = Tag::Data;
    let from = sa("192.0.2.10:41002");
    let to = sa("10.0.0.20:10007");
    cap.syn(from, to, 9000);
    cap.wait_ms(1000);
    cap.syn(from, to, 9000);
    cap.wait_ms(2000);
    cap.syn(from, to, 9000);
    cap.tag = Tag::Control;
    cap.wait_ms(4000);
    c.c(&mut cap, b"LIST\r\n");
    cap.wait_ms(500);
    c.s(&mut cap, b"425 Failed to establish connection.\r\n");
    quit(&mut cap, &mut c);
    cap
}

/// 4. SYN to the advertised public port answered by RST.
fn passive_refused() -> Cap {
    let mut cap = Cap::new();
    let client = sa("192.0.2.10:40003");
    let server = sa("203.0.113.10:21");
    let mut c = cap.open(client, server, 4000, 8000);
    login(&mut cap, &mut c);
    c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (203,0,113,10,195,80).\r\n");
    cap.tag = Tag::Data;
    let from = sa("192.0.2.10:41003");
    let to = sa("203.0.113.10:50000");
    cap.syn(from, to, 9100);
    cap.tcp(to, from, 0, 9101, RST | ACK, &[]);
    cap.tag = Tag::Control;
    c.cmd(&mut cap, "QUIT\r\n", "221 Goodbye.\r\n");
    c.close_by_client(&mut cap);
    cap
}

/// 5. SYN answered by ICMP host unreachable from a router (v4), or ICMPv6 address unreachable.
fn passive_icmp_unreachable(v6: bool) -> Cap {
    let mut cap = Cap::new();
    let (client, server, router, from, to) = if v6 {
        (
            sa("[2001:db8:1::10]:40004"),
            sa("[2001:db8:2::10]:21"),
            ipa("2001:db8:1::1"),
            sa("[2001:db8:1::10]:41004"),
            sa("[2001:db8:2::10]:50001"),
        )
    } else {
        (sa("192.0.2.10:40004"), sa("203.0.113.10:21"), ipa("198.51.100.1"), sa("192.0.2.10:41004"), sa("203.0.113.10:50001"))
    };
    let mut c = cap.open(client, server, 5000, 9000);
    login(&mut cap, &mut c);
    if v6 {
        c.cmd(&mut cap, "EPSV\r\n", "229 Entering Extended Passive Mode (|||50001|)\r\n");
    } else {
        c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (203,0,113,10,195,81).\r\n");
    }
    cap.tag = Tag::Data;
    let syn = cap.syn(from, to, 9200);
    let icmp = unreachable(router, &syn, cap.id);
    cap.push(icmp);
    cap.tag = Tag::Control;
    c.c(&mut cap, b"LIST\r\n");
    c.s(&mut cap, b"425 Failed to establish connection.\r\n");
    c.cmd(&mut cap, "QUIT\r\n", "221 Goodbye.\r\n");
    c.close_by_client(&mut cap);
    cap
}

/// A listing whose first segment the server sends again (a retransmission: same sequence
/// number, same bytes), and whose second segment overtakes the first: 91 bytes of data, not 135.
fn retransmitted_data() -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("192.0.2.10:40014"), sa("203.0.113.10:21"));
    let mut c = cap.open(client, server, 5200, 9200);
    login(&mut cap, &mut c);
    c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (203,0,113,10,195,83).\r\n");
    c.c(&mut cap, b"LIST\r\n");
    cap.tag = Tag::Data;
    let (dc, ds) = (sa("192.0.2.10:41014"), sa("203.0.113.10:50003"));
    let d = cap.open(dc, ds, 9400, 9500);
    let first = b"drwxr-xr-x 2 ftp ftp 4096 Nov 14 22:00 pub\r\n";
    let second = README_LISTING;
    // The second segment arrives first, then the first, then the first again.
    cap.tcp(ds, dc, d.sseq + first.len() as u32, d.cseq, PSH | ACK, second);
    cap.tcp(ds, dc, d.sseq, d.cseq, PSH | ACK, first);
    cap.tcp(ds, dc, d.sseq, d.cseq, PSH | ACK, first);
    let mut d = Conn::midway(dc, ds, d.cseq, d.sseq + (first.len() + second.len()) as u32);
    d.close_by_server(&mut cap);
    cap.tag = Tag::Control;
    c.s(&mut cap, b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n");
    c.cmd(&mut cap, "QUIT\r\n", "221 Goodbye.\r\n");
    c.close_by_client(&mut cap);
    cap
}

/// An ICMP host unreachable that quotes a SYN of the passive data connection's ports but another
/// sequence number (about an earlier connection on those ports, or forged: RFC 5927), then the
/// real SYN's retries go unanswered.
fn icmp_other_sequence() -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("192.0.2.10:40013"), sa("203.0.113.10:21"));
    let (from, to) = (sa("192.0.2.10:41013"), sa("203.0.113.10:50002"));
    let mut c = cap.open(client, server, 5100, 9100);
    login(&mut cap, &mut c);
    c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (203,0,113,10,195,82).\r\n");
    cap.tag = Tag::Data;
    cap.syn(from, to, 9300);
    let stale = tcp_packet(from, to, 4242, 0, SYN, 0, &[]);
    let icmp = unreachable(ipa("198.51.100.1"), &stale, cap.id);
    cap.push(icmp);
    for _ in 0..2 {
        cap.wait_ms(1000);
        cap.syn(from, to, 9300);
    }
    cap.tag = Tag::Control;
    c.c(&mut cap, b"LIST\r\n");
    c.s(&mut cap, b"425 Failed to establish connection.\r\n");
    c.cmd(&mut cap, "QUIT\r\n", "221 Goodbye.\r\n");
    c.close_by_client(&mut cap);
    cap
}

/// Two listings over the same 4-tuple: the client's port is reused, the server hands out the
/// same passive port again, and the first connection's FINs are not in the capture. The second
/// SYN carries a new ISN after the first connection's SYN-ACK: a new connection, not a
/// retransmission (44 bytes, then 47, not 91 on one connection).
fn reused_four_tuple() -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("192.0.2.10:40015"), sa("203.0.113.10:21"));
    let (dc, ds) = (sa("192.0.2.10:41015"), sa("203.0.113.10:50004"));
    let mut c = cap.open(client, server, 5300, 9600);
    login(&mut cap, &mut c);
    let listings: [&[u8]; 2] = [b"drwxr-xr-x 2 ftp ftp 4096 Nov 14 22:00 pub\r\n", README_LISTING];
    for (i, listing) in listings.into_iter().enumerate() {
        c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (203,0,113,10,195,84).\r\n");
        c.c(&mut cap, b"LIST\r\n");
        cap.tag = Tag::Data;
        let mut d = cap.open(dc, ds, 9700 + 1000 * i as u32, 9800 + 1000 * i as u32);
        d.s(&mut cap, listing);
        // The FINs of the first connection are missing from the capture.
        if i == 1 {
            d.close_by_server(&mut cap);
        }
        cap.tag = Tag::Control;
        c.s(&mut cap, b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n");
    }
    quit(&mut cap, &mut c);
    cap
}

/// 6. Client behind NAT, capture inside: PORT with its private address refused by the server.
fn active_refused_illegal_port() -> Cap {
    let mut cap = Cap::new();
    let client = sa("192.168.1.10:40005");
    let server = sa("203.0.113.10:21");
    let mut c = cap.open(client, server, 6000, 10000);
    login(&mut cap, &mut c);
    c.cmd(&mut cap, "PORT 192,168,1,10,200,10\r\n", "500 Illegal PORT command.\r\n");
    c.cmd(&mut cap, "QUIT\r\n", "221 Goodbye.\r\n");
    c.close_by_client(&mut cap);
    cap
}

/// A client that sends PORT again after each refusal (vsftpd's 500 to a PORT naming another
/// address than the client's), eight times with a new port each, then falls back to PASV and
/// lists: the text report folds the alike refusals, and the one that differs is not folded.
fn port_refused_repeatedly() -> Cap {
    let mut cap = Cap::new();
    let client = sa("192.0.2.10:40020");
    let server = sa("203.0.113.10:21");
    let mut c = cap.open(client, server, 6100, 10100);
    login(&mut cap, &mut c);
    for port in 51000u16..51008 {
        let command = format!("PORT 10,0,0,5,{},{}\r\n", port >> 8, port & 0xff);
        c.cmd(&mut cap, &command, "500 Illegal PORT command.\r\n");
    }
    c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (203,0,113,10,195,90).\r\n");
    passive_transfer(
        &mut cap,
        &mut c,
        "LIST",
        "192.0.2.10:41020",
        "203.0.113.10:50010",
        9300,
        b"-rw-r--r-- 1 0 0 39 Jan 01 00:00 readme.txt\r\n",
    );
    quit(&mut cap, &mut c);
    cap
}

/// 7. Client behind NAT with an FTP helper: the server's connection from port 20 arrives.
fn alg_active_rewrite() -> Cap {
    let mut cap = Cap::new();
    let mut c = cap.open(sa("192.168.1.10:40006"), sa("203.0.113.10:21"), 7000, 11000);
    login(&mut cap, &mut c);
    let port = ("PORT 192,168,1,10,200,11\r\n", "200 PORT command successful. Consider using PASV.\r\n");
    active_listing(&mut cap, &mut c, port, sa("203.0.113.10:20"), sa("192.168.1.10:51211"), 9300);
    cap
}

/// An active-mode LIST after `negotiation` (command and reply): the server connects from
/// `from` to `to` and sends one line of listing; 150, 226, then QUIT and the close.
fn active_listing(cap: &mut Cap, c: &mut Conn, negotiation: (&str, &str), from: SocketAddr, to: SocketAddr, isn: u32) {
    c.cmd(cap, negotiation.0, negotiation.1);
    active_listing_after(cap, c, from, to, isn);
}

/// The rest of [`active_listing`] once the negotiation is answered: LIST, the server's
/// connection from `from` to `to`, 150, 226, QUIT and the close.
fn active_listing_after(cap: &mut Cap, c: &mut Conn, from: SocketAddr, to: SocketAddr, isn: u32) {
    c.c(cap, b"LIST\r\n");
    cap.tag = Tag::Data;
    let mut d = cap.open(from, to, isn, isn + 100);
    cap.tag = Tag::Control;
    c.s(cap, b"150 Here comes the directory listing.\r\n");
    cap.tag = Tag::Data;
    // In active mode the server is the TCP client of the data connection and sends the listing.
    d.c(cap, b"drwxr-xr-x 2 ftp ftp 4096 Nov 14 22:00 pub\r\n");
    d.close_by_client(cap);
    cap.tag = Tag::Control;
    c.s(cap, b"226 Directory send OK.\r\n");
    c.cmd(cap, "QUIT\r\n", "221 Goodbye.\r\n");
    c.close_by_client(cap);
}

/// A dual-stack client on IPv4 names itself in EPRT as an IPv4-mapped IPv6 address
/// (`|2|::ffff:192.0.2.10|5003|`, as Java's sockets do); the server connects to 192.0.2.10 over
/// IPv4: the same host, the same data connection.
fn eprt_v4_mapped() -> Cap {
    let mut cap = Cap::new();
    let mut c = cap.open(sa("192.0.2.10:40011"), sa("203.0.113.10:21"), 7100, 11100);
    login(&mut cap, &mut c);
    let eprt = ("EPRT |2|::ffff:192.0.2.10|5003|\r\n", "200 EPRT command successful. Consider using EPSV.\r\n");
    active_listing(&mut cap, &mut c, eprt, sa("203.0.113.10:20"), sa("192.0.2.10:5003"), 9500);
    cap
}

/// The server answers the SYN with its banner in the SYN-ACK (TCP Fast Open lets a server send
/// data there: it starts at the ISN + 1), and at the end resets the control connection with a
/// RST that carries text (RFC 1122 4.2.2.12: diagnostic data, not stream data).
fn tfo_banner_and_rst_text() -> Cap {
    let mut cap = Cap::new();
    let client = sa("192.0.2.10:40012");
    let server = sa("203.0.113.10:21");
    let (cisn, sisn) = (7200u32, 11200u32);
    cap.tcp(client, server, cisn, 0, SYN, &[]);
    let banner = b"220 (vsFTPd 3.0.5)\r\n";
    cap.tcp(server, client, sisn, cisn + 1, SYN | ACK, banner);
    cap.tcp(client, server, cisn + 1, sisn + 1 + banner.len() as u32, ACK, &[]);
    let mut c = Conn::midway(client, server, cisn + 1, sisn + 1 + banner.len() as u32);
    c.cmd(&mut cap, "USER anonymous\r\n", "331 Please specify the password.\r\n");
    c.cmd(&mut cap, "PASS \r\n", "230 Login successful.\r\n");
    c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (203,0,113,10,156,70).\r\n");
    c.c(&mut cap, b"LIST\r\n");
    passive_transfer_data(&mut cap, sa("192.0.2.10:51212"), sa("203.0.113.10:40006"), 9700);
    c.s(&mut cap, b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n");
    cap.tcp(server, client, c.sseq, c.cseq, RST | ACK, b"421 Connection reset by peer.\r\n");
    cap
}

/// A passive data connection that opens, carries a line of listing and closes.
fn passive_transfer_data(cap: &mut Cap, client: SocketAddr, server: SocketAddr, isn: u32) {
    cap.tag = Tag::Data;
    let mut d = cap.open(client, server, isn, isn + 100);
    d.s(cap, b"drwxr-xr-x 2 ftp ftp 4096 Nov 14 22:00 pub\r\n");
    d.close_by_server(cap);
    cap.tag = Tag::Control;
}

/// 8. AUTH TLS, then TLS records both ways, then SYNs to a private address: unanswered.
fn tls_blind() -> Cap {
    let mut cap = Cap::new();
    let client = sa("192.0.2.10:40007");
    let server = sa("203.0.113.10:21");
    let mut c = cap.open(client, server, 8000, 12000);
    start_tls(&mut cap, &mut c);
    for round in 0..4u8 {
        tls_exchange(&mut cap, &mut c, round);
    }
    cap.tag = Tag::Data;
    let from = sa("192.0.2.10:41007");
    let to = sa("10.0.0.20:40001");
    for wait in [0, 1000, 2000] {
        cap.wait_ms(wait);
        cap.syn(from, to, 9500);
    }
    cap.wait_ms(10_000);
    cap.tag = Tag::Control;
    let mut alert = vec![0x15, 0x03, 0x03, 0x00, 0x1a];
    alert.extend([0x5a; 26]);
    c.s(&mut cap, &alert);
    c.close_by_client(&mut cap);
    cap
}

/// AUTH TLS and a TLS handshake on control connection `c` (records that look like TLS).
fn start_tls(cap: &mut Cap, c: &mut Conn) {
    c.s(cap, BANNER.as_bytes());
    c.cmd(cap, "AUTH TLS\r\n", "234 Proceed with negotiation.\r\n");
    let mut hello = vec![0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c, 0x03, 0x03];
    hello.extend((0..58u8).map(|i| i.wrapping_mul(37)));
    c.c(cap, &hello);
    let mut server_hello = vec![0x16, 0x03, 0x03, 0x00, 0x30, 0x02, 0x00, 0x00, 0x2c, 0x03, 0x03];
    server_hello.extend((0..43u8).map(|i| i.wrapping_mul(91)));
    c.s(cap, &server_hello);
}

/// An encrypted command and its reply (a PASV and its 227, say), as TLS application data.
fn tls_exchange(cap: &mut Cap, c: &mut Conn, round: u8) {
    let mut app = vec![0x17, 0x03, 0x03, 0x00, 0x20];
    app.extend((0..32u8).map(|i| i ^ round.wrapping_mul(53)));
    c.c(cap, &app);
    app[5] ^= 0xaa;
    c.s(cap, &app);
}

/// Two FTPS sessions at once between the same two hosts (a client with two connections, or two
/// clients behind one NAT address). Each encrypted exchange is followed by its data connection:
/// session A's, then B's, then A's again. Each data connection belongs to the session whose
/// control channel spoke just before it, not to the one that went TLS last.
fn parallel_ftps() -> Cap {
    let mut cap = Cap::new();
    let server = sa("203.0.113.10:21");
    let mut a = cap.open(sa("192.0.2.10:40021"), server, 8100, 12_100);
    let mut b = cap.open(sa("192.0.2.10:40022"), server, 8200, 12_200);
    start_tls(&mut cap, &mut a);
    start_tls(&mut cap, &mut b);
    for (round, port) in [(0u8, 0u16), (1, 1), (2, 2)] {
        cap.wait_ms(500);
        let c = if round == 1 { &mut b } else { &mut a };
        tls_exchange(&mut cap, c, round);
        let listing = vec![0x17; 40 + usize::from(round)];
        transfer_to_client(
            &mut cap,
            sa(&format!("192.0.2.10:{}", 41_021 + port)),
            sa(&format!("203.0.113.10:{}", 50_010 + port)),
            9600 + 100 * u32::from(round),
            &listing,
        );
    }
    for c in [&mut a, &mut b] {
        c.close_by_client(&mut cap);
    }
    cap
}

/// 9. A capture that begins mid-session, control on port 2121.
fn mid_connection() -> Cap {
    let mut cap = Cap::new();
    let client = sa("192.0.2.10:40008");
    let server = sa("198.51.100.20:2121");
    let mut c = Conn::midway(client, server, 0x1000_0000, 0x2000_0000);
    c.cmd(&mut cap, "SYST\r\n", "215 UNIX Type: L8\r\n");
    c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (198,51,100,20,200,1).\r\n");
    passive_transfer(
        &mut cap,
        &mut c,
        "LIST",
        "192.0.2.10:41008",
        "198.51.100.20:51201",
        9600,
        b"-rw-r--r-- 1 ftp ftp 7 Nov 14 22:00 b\r\n",
    );
    quit(&mut cap, &mut c);
    cap
}

/// 9b. Control segments retransmitted, reordered, overlapped and one lost for good (its bytes are
/// acknowledged by the peer): the negotiations after the gap must still be read.
fn lossy_control() -> Cap {
    let mut cap = Cap::new();
    cap.step_ns = 1_000_123; // not a whole number of microseconds: nanosecond timestamps matter
    let client = sa("192.0.2.10:40009");
    let server = sa("198.51.100.20:21");
    let mut c = cap.open(client, server, 10_000, 20_000);
    login(&mut cap, &mut c);
    // Retransmission: the same command twice.
    let seq = c.cseq;
    c.c(&mut cap, b"TYPE I\r\n");
    cap.tcp(client, server, seq, c.sseq, PSH | ACK, b"TYPE I\r\n");
    c.s(&mut cap, b"200 Switching to Binary mode.\r\n");
    // Reordering: the server's reply in two segments, the second arrives first.
    c.c(&mut cap, b"PWD\r\n");
    let part1 = b"257 \"/\" is the ";
    let part2 = b"current directory\r\n";
    let s0 = c.sseq;
    cap.tcp(server, client, s0 + part1.len() as u32, c.cseq, PSH | ACK, part2);
    cap.tcp(server, client, s0, c.cseq, ACK, part1);
    c.sseq = s0 + (part1.len() + part2.len()) as u32;
    // Overlap with the same bytes: "CWD /pub\r\n" as "CWD /p" then "/pub\r\n" from offset 4.
    let cmd = b"CWD /pub\r\n";
    let s0 = c.cseq;
    cap.tcp(client, server, s0, c.sseq, ACK, &cmd[..6]);
    cap.tcp(client, server, s0 + 4, c.sseq, PSH | ACK, &cmd[4..]);
    c.cseq = s0 + cmd.len() as u32;
    c.s(&mut cap, b"250 Directory successfully changed.\r\n");
    // Lost for good: the client's "NOOP\r\n" never appears; the server's reply acknowledges it.
    c.cseq += b"NOOP\r\n".len() as u32;
    c.s(&mut cap, b"200 NOOP ok.\r\n");
    // After the gap: a negotiation and its data connection.
    c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (198,51,100,20,200,2).\r\n");
    passive_transfer(
        &mut cap,
        &mut c,
        "LIST",
        "192.0.2.10:41009",
        "198.51.100.20:51202",
        9700,
        b"-rw-r--r-- 1 ftp ftp 7 Nov 14 22:00 c\r\n",
    );
    c.cmd(&mut cap, "EPSV\r\n", "229 Entering Extended Passive Mode (|||51203|)\r\n");
    passive_transfer(&mut cap, &mut c, "NLST", "192.0.2.10:41010", "198.51.100.20:51203", 9800, b"c\r\n");
    quit(&mut cap, &mut c);
    cap
}

/// 10. The small session every format variant carries.
fn formats_session() -> Cap {
    let mut cap = Cap::new();
    let client = sa("192.0.2.10:40010");
    let server = sa("198.51.100.20:21");
    let mut c = cap.open(client, server, 11_000, 21_000);
    login(&mut cap, &mut c);
    c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (198,51,100,20,200,4).\r\n");
    c.c(&mut cap, b"RETR big.bin\r\n");
    cap.tag = Tag::Data;
    let mut d = cap.open(sa("192.0.2.10:41011"), sa("198.51.100.20:51204"), 9900, 19900);
    cap.tag = Tag::Control;
    c.s(&mut cap, b"150 Opening BINARY mode data connection for big.bin (3000 bytes).\r\n");
    cap.tag = Tag::Data;
    for i in 0..3u8 {
        d.s(&mut cap, &vec![b'a' + i; 1000]);
    }
    d.close_by_server(&mut cap);
    cap.tag = Tag::Control;
    c.s(&mut cap, b"226 Transfer complete.\r\n");
    quit(&mut cap, &mut c);
    cap
}

/// Every packet of `cap` twice, 20 µs apart: a SPAN port that mirrors both directions of a
/// switch port sees each packet on the way in and on the way out.
fn seen_twice(cap: &Cap) -> Cap {
    let mut twice = Cap::new();
    for p in &cap.pkts {
        for t_ns in [p.t_ns, p.t_ns + 20_000] {
            twice.pkts.push(Pkt { t_ns, ip: p.ip.clone(), tag: p.tag });
        }
    }
    twice
}

/// A reply captured again 20 µs later with the same headers, length, checksum and last bytes,
/// but two bytes in its middle changed so that the TCP checksum still holds: not a copy of the
/// frame but a retransmission that differs, which a digest of a frame's head and tail took for a
/// copy and skipped.
fn forged_copy() -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("192.0.2.10:40031"), sa("203.0.113.10:21"));
    let mut c = cap.open(client, server, 5600, 9960);
    login(&mut cap, &mut c);
    c.c(&mut cap, b"HELP\r\n");
    let reply = format!("214 {}\r\n", "a".repeat(300));
    c.s(&mut cap, reply.as_bytes());
    let sent = cap.pkts.last().expect("the reply's segment");
    let mut ip = sent.ip.clone();
    let at = ip.windows(reply.len()).position(|w| w == reply.as_bytes()).expect("the reply in its segment");
    // The payload starts at an even offset of the TCP segment, so payload bytes 150..154 are two
    // 16-bit words of the checksum's sum: "aa" + 1 and "aa" - 1 keep it.
    assert!(at % 2 == 0);
    ip[at + 151] = b'b';
    ip[at + 153] = b'`';
    let forged = Pkt { t_ns: sent.t_ns + 20_000, ip, tag: sent.tag };
    cap.pkts.push(forged);
    quit(&mut cap, &mut c);
    cap
}

/// A session protected by GSSAPI (RFC 2228), as GridFTP and Kerberised FTP run it: AUTH GSSAPI,
/// one ADAT exchange, then only protected lines: a MIC command (integrity only: its token carries
/// the command in clear) and ENC commands, answered by 631 and 632 replies; between them a data
/// connection that a protected PASV asked for, another refused (RST), then a protected QUIT.
fn gssapi_protected() -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("192.0.2.10:40032"), sa("203.0.113.10:21"));
    let mut c = cap.open(client, server, 5700, 9970);
    c.s(&mut cap, b"220 FTP server (Version 6.00LS) ready.\r\n");
    c.cmd(&mut cap, "AUTH GSSAPI\r\n", "334 Using authentication type GSSAPI; ADAT must follow\r\n");
    c.cmd(&mut cap, "ADAT YIIBzwYJKoZIhvcSAQICAQBuggG+MIIBuqADAgEF\r\n", "235 ADAT=YGsGCSqGSIb3EgECAgIAb1wwWqADAgEF\r\n");
    c.cmd(&mut cap, &format!("MIC {GSSAPI_MIC_TOKEN}\r\n"), "631 YDMGCSqGSIb3EgECAgEBAAD/////MjMwIFVzZXIgbG9nZ2Vk\r\n");
    c.cmd(&mut cap, "ENC YDMGCSqGSIb3EgECAgIBAAD/////4n0ytP7k3P1qkzF1\r\n", "632 YDMGCSqGSIb3EgECAgIBAAD/////kWb5N0Qh3yhO2jlG\r\n");
    c.c(&mut cap, b"ENC YDMGCSqGSIb3EgECAgIBAAD/////Vn6xT0mMx1ZL3kQo\r\n");
    cap.tag = Tag::Data;
    let mut d = cap.open(sa("192.0.2.10:41032"), sa("203.0.113.10:50100"), 9910, 19910);
    cap.tag = Tag::Control;
    c.s(&mut cap, b"632 YDMGCSqGSIb3EgECAgIBAAD/////a1RzYk9JeU1jR3dF\r\n");
    cap.tag = Tag::Data;
    d.s(&mut cap, &[b'g'; 400]);
    d.close_by_server(&mut cap);
    cap.tag = Tag::Control;
    c.s(&mut cap, b"632 YDMGCSqGSIb3EgECAgIBAAD/////S2p2cXNhV0ZxT2dV\r\n");
    // Another protected PASV: its port refused (RST).
    c.cmd(&mut cap, "ENC YDMGCSqGSIb3EgECAgIBAAD/////cGFzdjJwYXN2MnBh\r\n", "632 YDMGCSqGSIb3EgECAgIBAAD/////MjI3MjI3MjI3MjI3\r\n");
    cap.tag = Tag::Data;
    let (from, to) = (sa("192.0.2.10:41033"), sa("203.0.113.10:50101"));
    cap.syn(from, to, 9920);
    cap.tcp(to, from, 0, 9921, RST | ACK, &[]);
    cap.tag = Tag::Control;
    c.cmd(&mut cap, "ENC YDMGCSqGSIb3EgECAgIBAAD/////UVVJVGhlcmVRVUlU\r\n", "632 YDMGCSqGSIb3EgECAgIBAAD/////MjIxIEdvb2RieWUu\r\n");
    c.close_by_server(&mut cap);
    cap
}

/// gssapi_protected's MIC token: never to be shown (tests/crafted.rs looks for it).
const GSSAPI_MIC_TOKEN: &str = "YDMGCSqGSIb3EgECAgEBAAD/////UEFTUyBzM2NyM3QtbWljLXRva2Vu";

/// A session whose server, after the login, sends 20,000 bytes of one line that never ends
/// (in 1,000-byte segments); the capture stops before the line does, the connection still open.
fn endless_last_line() -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("192.0.2.10:40016"), sa("203.0.113.10:21"));
    let mut c = cap.open(client, server, 5400, 9900);
    login(&mut cap, &mut c);
    c.c(&mut cap, b"STAT\r\n");
    c.s(&mut cap, b"211-");
    for _ in 0..20 {
        c.s(&mut cap, &[b'A'; 1000]);
    }
    cap
}

/// A plain FTP session, then the same client to the server's port 990 (implicit FTPS): a
/// handshake, a TLS ClientHello's first bytes and the server's ServerHello's, then a close.
fn implicit_ftps_beside_ftp() -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("192.0.2.10:40017"), sa("203.0.113.10:21"));
    let mut c = cap.open(client, server, 5500, 10_100);
    login(&mut cap, &mut c);
    quit(&mut cap, &mut c);
    let mut tls = cap.open(sa("192.0.2.10:40018"), sa("203.0.113.10:990"), 5600, 10_200);
    tls.c(&mut cap, &[0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03]);
    tls.s(&mut cap, &[0x16, 0x03, 0x03, 0x00, 0x31, 0x02, 0x00, 0x00, 0x2d, 0x03, 0x03]);
    tls.close_by_client(&mut cap);
    cap
}

/// One client address and port (a port-preserving NAT, or ephemeral port reuse) in two
/// sessions at once, to two servers, both anonymous, each with a PASV: two different
/// connections (other ISNs, other banners), not the two sides of one NAT.
fn one_client_port_two_servers() -> Cap {
    let mut cap = Cap::new();
    let client = sa("192.0.2.10:40020");
    let mut a = cap.open(client, sa("203.0.113.10:21"), 5700, 10_300);
    let mut b = cap.open(client, sa("198.51.100.20:21"), 6700, 11_300);
    a.s(&mut cap, BANNER.as_bytes());
    b.s(&mut cap, b"220 ProFTPD Server (Debian) [198.51.100.20]\r\n");
    for (c, reply) in [(&mut a, "230 Login successful.\r\n"), (&mut b, "230 Anonymous access granted.\r\n")] {
        c.cmd(&mut cap, "USER anonymous\r\n", "331 Please specify the password.\r\n");
        c.cmd(&mut cap, "PASS guest@\r\n", reply);
    }
    a.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (203,0,113,10,195,85).\r\n");
    b.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (198,51,100,20,195,86).\r\n");
    passive_transfer(&mut cap, &mut a, "LIST", "192.0.2.10:41020", "203.0.113.10:50005", 7700, b"pub\r\n");
    passive_transfer(&mut cap, &mut b, "LIST", "192.0.2.10:41021", "198.51.100.20:50006", 8700, b"incoming\r\n");
    quit(&mut cap, &mut a);
    quit(&mut cap, &mut b);
    cap
}

/// 11. 5,000 lone SYNs to random ports, and one FTP session in the middle.
fn flood() -> Cap {
    let mut cap = Cap::new();
    cap.step_ns = 100_000;
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        // xorshift64*: fixed seed, deterministic.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    };
    cap.tag = Tag::Other;
    let flood_syn = |cap: &mut Cap, r: u32, r2: u32| {
        let src = SocketAddr::new(ipa(&format!("198.18.{}.{}", (r >> 8) & 0xff, r & 0xff)), 1024 + (r2 % 60000) as u16);
        let dst = SocketAddr::new(ipa("203.0.113.50"), (r2 >> 16) as u16 | 1);
        cap.tcp(src, dst, r ^ r2, 0, SYN, &[]);
    };
    for _ in 0..2500 {
        let (a, b) = (next(), next());
        flood_syn(&mut cap, a, b);
    }
    cap.tag = Tag::Control;
    let client = sa("192.0.2.10:40011");
    let server = sa("198.51.100.20:21");
    let mut c = cap.open(client, server, 12_000, 22_000);
    login(&mut cap, &mut c);
    c.cmd(&mut cap, "EPSV\r\n", "229 Entering Extended Passive Mode (|||51205|)\r\n");
    passive_transfer(&mut cap, &mut c, "NLST", "192.0.2.10:41012", "198.51.100.20:51205", 10_000, b"x\r\n");
    cap.tag = Tag::Other;
    for _ in 0..2500 {
        let (a, b) = (next(), next());
        flood_syn(&mut cap, a, b);
    }
    cap.tag = Tag::Control;
    quit(&mut cap, &mut c);
    cap
}

/// What a capture point sees when only the packets from `from` pass it (asymmetric routing, a
/// mirror port copying one direction): the same packets and times, the others left out.
fn only_from(mut cap: Cap, from: IpAddr) -> Cap {
    cap.pkts.retain(|p| IpSlice::from_slice(&p.ip).is_ok_and(|ip| ip.source_addr() == from));
    cap
}

/// A passive session with only the server's packets: its SYN-ACK, greeting and replies (227
/// among them), its side of the data connection (SYN-ACK, the listing, FIN).
fn one_way_server_passive() -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("192.0.2.10:40015"), sa("203.0.113.10:21"));
    let mut c = cap.open(client, server, 5300, 9300);
    login(&mut cap, &mut c);
    c.cmd(&mut cap, "TYPE A\r\n", "200 Switching to ASCII mode.\r\n");
    c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (203,0,113,10,195,84).\r\n");
    passive_transfer(&mut cap, &mut c, "LIST", "192.0.2.10:41015", "203.0.113.10:50004", 9410, README_LISTING);
    quit(&mut cap, &mut c);
    only_from(cap, server.ip())
}

/// A passive session with only the server's packets whose data connection never reaches the
/// server: the 227 names its public address, nothing connects, the LIST (not captured) gets 425
/// five seconds later.
fn one_way_server_425() -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("192.0.2.10:40019"), sa("203.0.113.10:21"));
    let mut c = pasv_session(&mut cap, client, server, (5700, 9700), "203,0,113,10,195,89");
    c.c(&mut cap, b"LIST\r\n");
    cap.wait_ms(5000);
    c.s(&mut cap, b"425 Failed to establish connection.\r\n");
    quit(&mut cap, &mut c);
    only_from(cap, server.ip())
}

/// An active session with only the client's packets: its SYN and commands (PORT among them),
/// its side of the data connection the server opened (SYN-ACK, the uploaded bytes, FIN).
fn one_way_client_active() -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("192.0.2.10:40016"), sa("203.0.113.10:21"));
    let mut c = cap.open(client, server, 5400, 9400);
    login(&mut cap, &mut c);
    c.cmd(&mut cap, "TYPE I\r\n", "200 Switching to Binary mode.\r\n");
    c.cmd(&mut cap, "PORT 192,0,2,10,200,21\r\n", "200 PORT command successful. Consider using PASV.\r\n");
    c.c(&mut cap, b"STOR upload.bin\r\n");
    cap.tag = Tag::Data;
    // The server connects from port 20; the client, the data connection's TCP server, uploads.
    let mut d = cap.open(sa("203.0.113.10:20"), sa("192.0.2.10:51221"), 9420, 9520);
    cap.tag = Tag::Control;
    c.s(&mut cap, b"150 Ok to send data.\r\n");
    cap.tag = Tag::Data;
    d.s(&mut cap, &[b'u'; 700]);
    d.close_by_server(&mut cap);
    cap.tag = Tag::Control;
    c.s(&mut cap, b"226 Transfer complete.\r\n");
    c.cmd(&mut cap, "QUIT\r\n", "221 Goodbye.\r\n");
    c.close_by_client(&mut cap);
    only_from(cap, client.ip())
}

/// Passive sessions with only the client's packets, three. 1: the 227 (not captured) names the
/// server's public address; the client connects to it and the listing comes (the client's ACKs
/// of it). 2: the 227 (not captured) names a private address; the client's SYNs to it go
/// unanswered, then LIST, whose 425 is not captured, and QUIT. 3: the same private address, and
/// after its unanswered SYNs the client connects to the control address with the same port
/// (FileZilla's fallback): the listing comes.
fn one_way_client_passive() -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("192.0.2.10:40020"), sa("203.0.113.10:21"));
    let mut c = pasv_session(&mut cap, client, server, (5800, 9800), "203,0,113,10,195,90");
    passive_transfer(&mut cap, &mut c, "LIST", "192.0.2.10:41020", "203.0.113.10:50010", 9810, README_LISTING);
    quit(&mut cap, &mut c);

    let client = sa("192.0.2.10:40021");
    let mut c = pasv_session(&mut cap, client, server, (5900, 9900), "10,0,0,5,195,91");
    unanswered_syns(&mut cap, sa("192.0.2.10:41021"), sa("10.0.0.5:50011"), 9910);
    c.cmd(&mut cap, "LIST\r\n", "425 Failed to establish connection.\r\n");
    quit(&mut cap, &mut c);

    let mut c = pasv_session(&mut cap, sa("192.0.2.10:40022"), server, (6000, 10000), "10,0,0,5,195,92");
    unanswered_syns(&mut cap, sa("192.0.2.10:41022"), sa("10.0.0.5:50012"), 10010);
    passive_transfer(&mut cap, &mut c, "LIST", "192.0.2.10:41023", "203.0.113.10:50012", 10020, README_LISTING);
    quit(&mut cap, &mut c);
    only_from(cap, client.ip())
}

/// The data connection's SYN stamped 0.2 ms before the 227 that announced it (a multi-queue NIC
/// stamps each queue on its own clock reading), then the transfer as usual.
fn syn_before_227() -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("192.0.2.10:40017"), sa("203.0.113.10:21"));
    let mut c = cap.open(client, server, 5500, 9500);
    login(&mut cap, &mut c);
    c.c(&mut cap, b"PASV\r\n");
    let (dc, ds) = (sa("192.0.2.10:41017"), sa("203.0.113.10:50005"));
    cap.tag = Tag::Data;
    cap.syn(dc, ds, 9430);
    cap.tag = Tag::Control;
    cap.step_ns = 200_000;
    c.s(&mut cap, b"227 Entering Passive Mode (203,0,113,10,195,85).\r\n");
    cap.step_ns = 1_000_000;
    cap.tag = Tag::Data;
    cap.tcp(ds, dc, 9530, 9431, SYN | ACK, &[]);
    cap.tcp(dc, ds, 9431, 9531, ACK, &[]);
    let mut d = Conn::midway(dc, ds, 9431, 9531);
    cap.tag = Tag::Control;
    list_over(&mut cap, &mut c, &mut d, b"drwxr-xr-x 2 ftp ftp 4096 Nov 14 22:00 pub\r\n");
    cap
}

/// LIST over the data connection `d`, open already: 150, the listing, the server's close, 226,
/// then QUIT and the close.
fn list_over(cap: &mut Cap, c: &mut Conn, d: &mut Conn, listing: &[u8]) {
    cap.tag = Tag::Control;
    c.c(cap, b"LIST\r\n");
    c.s(cap, b"150 Here comes the directory listing.\r\n");
    cap.tag = Tag::Data;
    d.s(cap, listing);
    d.close_by_server(cap);
    cap.tag = Tag::Control;
    c.s(cap, b"226 Directory send OK.\r\n");
    quit(cap, c);
}

/// The 227 segment is not in the capture (the capture point dropped it, and the client's ACK of
/// it after); the client, which had it, connects at once; 300 ms later the server retransmits
/// the 227 (the ACK was lost), which completes the control stream; then the transfer.
fn retransmitted_227_after_syn() -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("192.0.2.10:40018"), sa("203.0.113.10:21"));
    let mut c = cap.open(client, server, 5600, 9600);
    login(&mut cap, &mut c);
    c.c(&mut cap, b"PASV\r\n");
    let reply = b"227 Entering Passive Mode (203,0,113,10,195,86).\r\n";
    // The original: sent, not captured.
    let original = c.sseq;
    c.sseq += reply.len() as u32;
    cap.wait_ms(1);
    cap.tag = Tag::Data;
    let (dc, ds) = (sa("192.0.2.10:41018"), sa("203.0.113.10:50006"));
    let mut d = cap.open(dc, ds, 9440, 9540);
    cap.tag = Tag::Control;
    cap.wait_ms(300);
    cap.tcp(server, client, original, c.cseq, PSH | ACK, reply);
    cap.tcp(client, server, c.cseq, c.sseq, ACK, &[]);
    list_over(&mut cap, &mut c, &mut d, README_LISTING);
    cap
}

/// SYNs from `from` to `to` that nothing answers: the first, then retransmissions 1 s and 2 s
/// apart (Linux's backoff), then the wait before the client gives up.
fn unanswered_syns(cap: &mut Cap, from: SocketAddr, to: SocketAddr, isn: u32) {
    let saved = cap.tag;
    cap.tag = Tag::Data;
    for wait in [0, 1000, 2000] {
        cap.wait_ms(wait);
        cap.syn(from, to, isn);
    }
    cap.wait_ms(4000);
    cap.tag = saved;
}

/// A control connection from `client`, the login, then PASV answered by a 227 with `numbers`.
fn pasv_session(cap: &mut Cap, client: SocketAddr, server: SocketAddr, isns: (u32, u32), numbers: &str) -> Conn {
    let mut c = cap.open(client, server, isns.0, isns.1);
    login(cap, &mut c);
    c.cmd(cap, "PASV\r\n", &format!("227 Entering Passive Mode ({numbers}).\r\n"));
    c
}

/// Data connections tried again, three sessions. 1: the 227 names a private address; the
/// client's SYNs to it go unanswered, then it connects to the control address with the same
/// port (FileZilla's fallback) and the listing comes, 226. 2: the same, but the second try is
/// not in the capture: 226 all the same. 3: a public 227; the SYNs to it go unanswered, then
/// the client tries the same endpoint again from a new port, which opens. 4: a public 227; the
/// first SYN is refused (the server was not listening yet), the next try 50 ms later opens.
fn retried_elsewhere() -> Cap {
    let mut cap = Cap::new();
    let server = sa("203.0.113.50:21");
    let listing = README_LISTING;
    // 1. Private address, retried at the control address.
    let mut c = pasv_session(&mut cap, sa("192.0.2.50:40300"), server, (60_000, 61_000), "10,0,0,50,39,41");
    unanswered_syns(&mut cap, sa("192.0.2.50:41300"), sa("10.0.0.50:10025"), 62_000);
    cap.tag = Tag::Data;
    let mut d = cap.open(sa("192.0.2.50:41301"), sa("203.0.113.50:10025"), 63_000, 64_000);
    list_over(&mut cap, &mut c, &mut d, listing);
    // 2. Private address; the retry is not in the capture.
    let mut c = pasv_session(&mut cap, sa("192.0.2.50:40301"), server, (65_000, 66_000), "10,0,0,50,39,42");
    unanswered_syns(&mut cap, sa("192.0.2.50:41310"), sa("10.0.0.50:10026"), 67_000);
    c.c(&mut cap, b"LIST\r\n");
    c.s(&mut cap, b"150 Here comes the directory listing.\r\n");
    cap.wait_ms(20);
    c.s(&mut cap, b"226 Directory send OK.\r\n");
    quit(&mut cap, &mut c);
    // 3. Public address, retried from another port.
    let mut c = pasv_session(&mut cap, sa("192.0.2.50:40302"), server, (68_000, 69_000), "203,0,113,50,39,43");
    unanswered_syns(&mut cap, sa("192.0.2.50:41320"), sa("203.0.113.50:10027"), 70_000);
    cap.tag = Tag::Data;
    let mut d = cap.open(sa("192.0.2.50:41321"), sa("203.0.113.50:10027"), 71_000, 72_000);
    list_over(&mut cap, &mut c, &mut d, listing);
    // 4. Refused, then open.
    let mut c = pasv_session(&mut cap, sa("192.0.2.50:40303"), server, (73_000, 74_000), "203,0,113,50,39,44");
    cap.tag = Tag::Data;
    let (first, to) = (sa("192.0.2.50:41330"), sa("203.0.113.50:10028"));
    cap.syn(first, to, 75_000);
    cap.tcp(to, first, 0, 75_001, RST | ACK, &[]);
    cap.wait_ms(50);
    let mut d = cap.open(sa("192.0.2.50:41331"), to, 76_000, 77_000);
    list_over(&mut cap, &mut c, &mut d, listing);
    cap
}

/// Two clients behind one carrier-grade NAT address (100.64.0.7) in two sessions to a server
/// whose passive range is one port: both PASV, both told 203.0.113.60:10050, both waiting at
/// once. A first data connection from the shared address goes unanswered (which client's, the
/// capture cannot tell), a second opens and carries the first client's LIST; the second client
/// quits without a transfer. Then a third client behind the address negotiates alone.
fn cgnat_one_port() -> Cap {
    let mut cap = Cap::new();
    let (server, data) = (sa("203.0.113.60:21"), sa("203.0.113.60:10050"));
    let mut a = pasv_session(&mut cap, sa("100.64.0.7:40400"), server, (80_000, 81_000), "203,0,113,60,39,66");
    let mut b = pasv_session(&mut cap, sa("100.64.0.7:40401"), server, (82_000, 83_000), "203,0,113,60,39,66");
    unanswered_syns(&mut cap, sa("100.64.0.7:41400"), data, 84_000);
    passive_transfer(&mut cap, &mut a, "LIST", "100.64.0.7:41401", "203.0.113.60:10050", 85_000, README_LISTING);
    quit(&mut cap, &mut a);
    quit(&mut cap, &mut b);
    let mut c = pasv_session(&mut cap, sa("100.64.0.7:40402"), server, (86_000, 87_000), "203,0,113,60,39,66");
    passive_transfer(&mut cap, &mut c, "LIST", "100.64.0.7:41402", "203.0.113.60:10050", 88_000, README_LISTING);
    quit(&mut cap, &mut c);
    cap
}

/// Six clients (192.0.2.70..75) of one server behind NAT whose passive range is one port: each
/// is told the private 10.0.0.61:10051 and connects to the control address with that port
/// instead, 203.0.113.61:10051. All six negotiate, then connect and list in the same order.
fn one_port_interleaved() -> Cap {
    let mut cap = Cap::new();
    let server = sa("203.0.113.61:21");
    let clients: Vec<u16> = (0..6).collect();
    let mut sessions: Vec<Conn> = clients
        .iter()
        .map(|&i| {
            let client = SocketAddr::new(ipa(&format!("192.0.2.{}", 70 + i)), 40500 + i);
            let isn = 90_000 + u32::from(i) * 10_000;
            pasv_session(&mut cap, client, server, (isn, isn + 1_000), "10,0,0,61,39,67")
        })
        .collect();
    for (c, &i) in sessions.iter_mut().zip(&clients) {
        let from = format!("192.0.2.{}:{}", 70 + i, 41500 + i);
        passive_transfer(&mut cap, c, "LIST", &from, "203.0.113.61:10051", 200_000 + u32::from(i) * 1_000, README_LISTING);
    }
    for c in &mut sessions {
        quit(&mut cap, c);
    }
    cap
}

/// A data connection 200 s after its 227 (expectations wait 300 s). Client 192.0.2.80 is told
/// 203.0.113.62:10052 and waits; 150 s later client 192.0.2.81 is told the same endpoint (one
/// passive port) and waits too; 50 s later the first client connects and lists, then the
/// second.
fn late_syn() -> Cap {
    let mut cap = Cap::new();
    let server = sa("203.0.113.62:21");
    let mut a = pasv_session(&mut cap, sa("192.0.2.80:40600"), server, (300_000, 301_000), "203,0,113,62,39,68");
    cap.wait_ms(150_000);
    let mut b = pasv_session(&mut cap, sa("192.0.2.81:40601"), server, (302_000, 303_000), "203,0,113,62,39,68");
    cap.wait_ms(50_000);
    passive_transfer(&mut cap, &mut a, "LIST", "192.0.2.80:41600", "203.0.113.62:10052", 304_000, README_LISTING);
    passive_transfer(&mut cap, &mut b, "LIST", "192.0.2.81:41601", "203.0.113.62:10052", 305_000, README_LISTING);
    quit(&mut cap, &mut a);
    quit(&mut cap, &mut b);
    cap
}

/// `packet` (as [`tcp_packet`] builds it: no IPv4 options, no IPv6 extension headers) as IP
/// fragments whose payloads begin at `cuts` (byte offsets into the IP payload, multiples of 8,
/// the first 0), in the natural order: IPv4 with the more-fragments flag and DF cleared, IPv6
/// with a Fragment header (RFC 8200 4.5) carrying `id`. etherparse's header types, not its
/// `PacketBuilder`: a fragment's payload is a piece of a segment, which the builder cannot cut.
fn fragments(packet: &[u8], cuts: &[usize], id: u32) -> Vec<Vec<u8>> {
    let ip = IpSlice::from_slice(packet).expect("an IP packet");
    let payload = ip.payload().payload;
    let mut out = Vec::new();
    for (i, &start) in cuts.iter().enumerate() {
        let end = cuts.get(i + 1).copied().unwrap_or(payload.len());
        let more_fragments = i + 1 < cuts.len();
        let fragment_offset = IpFragOffset::try_new((start / 8) as u16).expect("an offset IP can carry");
        let part = &payload[start..end];
        let mut f = Vec::new();
        match &ip {
            IpSlice::Ipv4(v4) => {
                let mut header = v4.header().to_header();
                header.identification = id as u16;
                header.dont_fragment = false;
                header.more_fragments = more_fragments;
                header.fragment_offset = fragment_offset;
                header.set_payload_len(part.len()).expect("a fragment IPv4 can carry");
                header.write(&mut f).expect("writing to memory"); // with its checksum
            }
            IpSlice::Ipv6(v6) => {
                let mut header = v6.header().to_header();
                let fragment = Ipv6FragmentHeader::new(header.next_header, fragment_offset, more_fragments, id);
                header.next_header = IpNumber::IPV6_FRAGMENTATION_HEADER;
                header.set_payload_length(Ipv6FragmentHeader::LEN + part.len()).expect("a fragment IPv6 can carry");
                f.extend_from_slice(&header.to_bytes());
                f.extend_from_slice(&fragment.to_bytes());
            }
        }
        f.extend_from_slice(part);
        out.push(f);
    }
    out
}

/// One TCP segment of `data` on `c` (from the server, or the client), sent as the IP fragments
/// cut at `cuts` and pushed in `order` (indices into the fragments). Returns the frame number of
/// each fragment pushed, in push order.
fn fragmented(cap: &mut Cap, c: &mut Conn, from_server: bool, data: &[u8], cuts: &[usize], order: &[usize]) -> Vec<usize> {
    let (src, dst, seq, ack) = if from_server { (c.server, c.client, c.sseq, c.cseq) } else { (c.client, c.server, c.cseq, c.sseq) };
    let packet = tcp_packet(src, dst, seq, ack, PSH | ACK, 0, data);
    let pieces = fragments(&packet, cuts, 0x4000 + u32::from(cap.id));
    if from_server {
        c.sseq = c.sseq.wrapping_add(data.len() as u32);
    } else {
        c.cseq = c.cseq.wrapping_add(data.len() as u32);
    }
    order.iter().map(|&i| cap.push(pieces[i].clone())).collect()
}

/// IPv4 fragments. A passive session whose 227 comes in three fragments, last first, then the
/// data connection to the advertised port, whose listing comes in two fragments; then an active
/// session whose PORT comes in two fragments, the first too short for the whole TCP header.
fn fragmented_ipv4() -> Cap {
    let mut cap = Cap::new();
    let mut c = cap.open(sa("192.0.2.10:40020"), sa("203.0.113.10:21"), 7300, 11300);
    login(&mut cap, &mut c);
    c.c(&mut cap, b"PASV\r\n");
    // 20 bytes of TCP header and 50 of reply: fragments of 24, 24 and 22 bytes.
    fragmented(&mut cap, &mut c, true, b"227 Entering Passive Mode (203,0,113,10,195,90).\r\n", &[0, 24, 48], &[2, 0, 1]);
    c.c(&mut cap, b"LIST\r\n");
    cap.tag = Tag::Data;
    let mut d = cap.open(sa("192.0.2.10:41020"), sa("203.0.113.10:50010"), 9900, 9950);
    let listing = b"drwxr-xr-x 2 ftp ftp 4096 Nov 14 22:00 pub\r\n-rw-r--r-- 1 ftp ftp   39 Nov 14 22:00 readme\r\n";
    fragmented(&mut cap, &mut d, true, listing, &[0, 64], &[0, 1]);
    d.close_by_server(&mut cap);
    cap.tag = Tag::Control;
    c.s(&mut cap, b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n");
    quit(&mut cap, &mut c);

    let mut c = cap.open(sa("192.0.2.10:40021"), sa("203.0.113.10:21"), 7400, 11400);
    login(&mut cap, &mut c);
    // 20 bytes of TCP header and 24 of command: 16 bytes (part of the header), then 28.
    fragmented(&mut cap, &mut c, false, b"PORT 192,0,2,10,195,91\r\n", &[0, 16], &[0, 1]);
    c.s(&mut cap, b"200 PORT command successful. Consider using PASV.\r\n");
    active_listing_after(&mut cap, &mut c, sa("203.0.113.10:20"), sa("192.0.2.10:50011"), 9960);
    cap
}

/// IPv6 Fragment headers: a 229 in two fragments (last first), its data connection; then an
/// EPRT in three fragments and the server's connection to the port it names.
fn fragmented_ipv6() -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("[2001:db8:1::10]:40022"), sa("[2001:db8:2::10]:21"));
    let mut c = cap.open(client, server, 7500, 11500);
    login(&mut cap, &mut c);
    c.c(&mut cap, b"EPSV\r\n");
    fragmented(&mut cap, &mut c, true, b"229 Entering Extended Passive Mode (|||50012|)\r\n", &[0, 32], &[1, 0]);
    passive_transfer(&mut cap, &mut c, "LIST", "[2001:db8:1::10]:41022", "[2001:db8:2::10]:50012", 10_000, b"x\r\n");
    fragmented(&mut cap, &mut c, false, b"EPRT |2|2001:db8:1::10|50013|\r\n", &[0, 16, 40], &[0, 2, 1]);
    c.s(&mut cap, b"200 EPRT command successful. Consider using EPSV.\r\n");
    active_listing_after(&mut cap, &mut c, sa("[2001:db8:2::10]:20"), sa("[2001:db8:1::10]:50013"), 10_100);
    cap
}

/// Fragments missing: a 227 whose middle fragment the capture lost (its datagram times out when
/// the next fragment comes, 31 s later), and a 221 whose last fragment is lost at the end.
fn fragment_missing() -> Cap {
    let mut cap = Cap::new();
    let mut c = cap.open(sa("192.0.2.10:40023"), sa("203.0.113.10:21"), 7600, 11600);
    login(&mut cap, &mut c);
    c.c(&mut cap, b"PASV\r\n");
    fragmented(&mut cap, &mut c, true, b"227 Entering Passive Mode (203,0,113,10,195,92).\r\n", &[0, 24, 48], &[0, 2]);
    // The client read the reply (the capture did not) and connects.
    syn_synack(&mut cap, sa("192.0.2.10:41023"), sa("203.0.113.10:50012"), 10_300);
    cap.wait_ms(31_000);
    c.c(&mut cap, b"QUIT\r\n");
    fragmented(&mut cap, &mut c, true, b"221 Goodbye. Come back soon.\r\n", &[0, 24], &[0]);
    c.close_by_server(&mut cap);
    cap
}

/// The password of `passwords()`: distinctive pieces, so that a leak of any part is found.
const SECRET: &str = "Tr0ub4dor&3-horse-staple-7731";

/// Passwords in every shape a control channel can carry them: PASS before USER, `pass` in
/// lowercase, a PASS line split inside the password, one of 5,000 bytes (overlong, over four
/// segments), one with a segment lost inside the password, a session first seen at its PASS
/// (no handshake), and an endless PASS line cut by the end of the capture. One session fails
/// (a private 227 address, SYNs unanswered), so that explain tells a story with a ladder.
fn passwords() -> Cap {
    let mut cap = Cap::new();
    let server = sa("203.0.113.30:21");
    let pass = format!("PASS {SECRET}\r\n");
    // 1. PASS before USER, then the login, then the failing transfer.
    let mut c = cap.open(sa("192.0.2.40:40100"), server, 30_000, 31_000);
    c.s(&mut cap, BANNER.as_bytes());
    c.cmd(&mut cap, &pass, "503 Login with USER first.\r\n");
    c.cmd(&mut cap, "USER alice\r\n", "331 Please specify the password.\r\n");
    c.cmd(&mut cap, &format!("pass {SECRET}\r\n"), "230 Login successful.\r\n");
    c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (10,0,0,30,39,40).\r\n");
    cap.tag = Tag::Data;
    let (from, to) = (sa("192.0.2.40:41100"), sa("10.0.0.30:10024"));
    for wait in [0, 1000, 2000] {
        cap.wait_ms(wait);
        cap.syn(from, to, 32_000);
    }
    cap.tag = Tag::Control;
    c.c(&mut cap, b"LIST\r\n");
    c.s(&mut cap, b"425 Failed to establish connection.\r\n");
    quit(&mut cap, &mut c);
    // 2. Split inside the password, over two segments.
    let mut c = cap.open(sa("192.0.2.40:40101"), server, 33_000, 34_000);
    c.s(&mut cap, BANNER.as_bytes());
    c.cmd(&mut cap, "USER bob\r\n", "331 Please specify the password.\r\n");
    let (head, tail) = pass.split_at(12);
    c.c(&mut cap, head.as_bytes());
    c.cmd(&mut cap, tail, "230 Login successful.\r\n");
    quit(&mut cap, &mut c);
    // 3. Overlong: the password over and over, 5,000 bytes before the line end, in four segments.
    let mut c = cap.open(sa("192.0.2.40:40102"), server, 35_000, 36_000);
    c.s(&mut cap, BANNER.as_bytes());
    c.cmd(&mut cap, "USER carol\r\n", "331 Please specify the password.\r\n");
    let long = format!("PASS {}\r\n", SECRET.repeat(5000 / SECRET.len() + 1));
    for piece in long.as_bytes().chunks(1448) {
        c.c(&mut cap, piece);
    }
    c.s(&mut cap, b"530 Login incorrect.\r\n");
    quit(&mut cap, &mut c);
    // 4. A segment lost inside the password ("horse-" never captured; the server acknowledges it).
    let mut c = cap.open(sa("192.0.2.40:40103"), server, 37_000, 38_000);
    c.s(&mut cap, BANNER.as_bytes());
    c.cmd(&mut cap, "USER dave\r\n", "331 Please specify the password.\r\n");
    let at = pass.find("horse-").unwrap();
    c.c(&mut cap, &pass.as_bytes()[..at]);
    c.cseq += "horse-".len() as u32;
    c.cmd(&mut cap, &pass[at + "horse-".len()..], "230 Login successful.\r\n");
    quit(&mut cap, &mut c);
    // 5. First seen at its PASS: a capture started after the handshake and the greeting.
    let mut c = Conn::midway(sa("192.0.2.40:40104"), server, 39_000, 40_000);
    c.cmd(&mut cap, &pass, "230 Login successful.\r\n");
    quit(&mut cap, &mut c);
    // 6. An endless PASS line: the capture ends before its line end.
    let mut c = cap.open(sa("192.0.2.40:40105"), server, 41_000, 42_000);
    c.s(&mut cap, BANNER.as_bytes());
    c.cmd(&mut cap, "USER erin\r\n", "331 Please specify the password.\r\n");
    let endless = format!("PASS {}", SECRET.repeat(200));
    for piece in endless.as_bytes().chunks(1448) {
        c.c(&mut cap, piece);
    }
    cap
}

/// A control connection that never opens: three SYNs to :21 unanswered, a SYN refused by RST,
/// or a SYN answered by ICMP host unreachable from a router. Nothing else is captured.
/// One listing session as a capture on one side of a source NAT sees it, the client at
/// `client` (the NAT keeps the ports and the sequence numbers).
fn listing_from(client: IpAddr) -> Cap {
    let mut cap = Cap::new();
    let server = ipa("198.51.100.20");
    let mut c = cap.open(SocketAddr::new(client, 40020), SocketAddr::new(server, 21), 12_000, 22_000);
    login(&mut cap, &mut c);
    c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (198,51,100,20,200,5).\r\n");
    c.c(&mut cap, b"LIST\r\n");
    transfer_to_client(&mut cap, SocketAddr::new(client, 41020), SocketAddr::new(server, 51205), 9950, README_LISTING);
    c.s(&mut cap, b"150 Here comes the directory listing.\r\n");
    c.s(&mut cap, b"226 Directory send OK.\r\n");
    quit(&mut cap, &mut c);
    cap
}

/// if_tsoffset (seconds) that puts [`EPOCH_NS`] 0.85 s inside the latest (2262) and the
/// earliest (1677) instants of i64 nanoseconds.
const LATEST_OFFSET: i64 = 9_223_372_036 - 1_700_000_000;
const EARLIEST_OFFSET: i64 = -9_223_372_036 - 1_700_000_000;

/// [`listing_from`] `client` in pcapng, its interface's clock moved by `offset` seconds
/// (if_tsoffset): two captures of one session on either side of a source NAT, their clocks at
/// opposite ends of pcapng's time, give a clock offset that no i64 of nanoseconds holds.
fn time_extreme(client: &str, offset: i64) -> Vec<u8> {
    pcapng(&[(LINKTYPE_ETHERNET, 9, offset)], &simple(&listing_from(ipa(client)), Link::Ethernet), &[])
}

fn control_never_opened(how: &str) -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("192.0.2.10:40020"), sa("203.0.113.10:21"));
    match how {
        "unanswered" => unanswered_syns(&mut cap, client, server, 7000),
        "refused" => {
            cap.syn(client, server, 7000);
            cap.tcp(server, client, 0, 7001, RST | ACK, &[]);
        }
        _ => {
            let syn = cap.syn(client, server, 7000);
            let icmp = unreachable(ipa("198.51.100.1"), &syn, cap.id);
            cap.push(icmp);
        }
    }
    cap
}

/// A control connection whose three SYNs go unanswered, then another from the next port that
/// opens: login and QUIT.
fn control_retried() -> Cap {
    let mut cap = Cap::new();
    let server = sa("203.0.113.10:21");
    unanswered_syns(&mut cap, sa("192.0.2.10:40021"), server, 7100);
    let mut c = cap.open(sa("192.0.2.10:40022"), server, 7200, 8200);
    login(&mut cap, &mut c);
    quit(&mut cap, &mut c);
    cap
}

/// An active-mode data connection from the server's port 20, without its control connection,
/// that the client resets after 1,380,000 bytes: the first eight segments and the last one are
/// in the capture, the ones between are not (their sequence numbers still count as sent).
fn active_port20_reset() -> Cap {
    let mut cap = Cap::new();
    cap.tag = Tag::Data;
    let (server, client) = (sa("203.0.113.10:20"), sa("192.0.2.10:41020"));
    // The server opens an active data connection: it is the SYN's sender.
    let mut d = cap.open(server, client, 9400, 9500);
    let chunk = [0x5au8; 1448];
    for _ in 0..8 {
        d.c(&mut cap, &chunk);
    }
    d.cseq = d.cseq.wrapping_add(1_380_000 - 9 * 1448);
    d.c(&mut cap, &chunk);
    cap.tcp(client, server, d.sseq, d.cseq, RST | ACK, &[]);
    cap
}

/// One download of [`transfer_records`]: its file, a REST offset, the size its 150 announces,
/// the bytes the server sends, how many of them the capture misses, the final reply.
struct Download {
    name: &'static str,
    rest: Option<u32>,
    announced: u32,
    carried: u32,
    missed: u32,
    last: &'static str,
}

/// Transfer records (issue 22): one session 192.0.2.10:40030 -> 203.0.113.30:21 whose directory
/// is known (PWD, then CWD pub), TYPE I, and four downloads, each on its own passive connection:
/// short.bin, 150 announcing 5000 bytes, 2000 carried and the data connection closed, 226
/// (closed short); resumed.bin after REST 1000 (350), 150 announcing the whole 3000, 2000
/// carried, 226 (complete); gap.bin, 150 announcing 3000, all sent, 1000 the capture misses in the
/// middle, 226 (a gap); broken.bin, 150 announcing 4000, 1000 carried, 451 (ended by the
/// server); then TYPE A and logo.png, 120 bytes of a PNG (NUL among them), 226 (a binary file in
/// ASCII mode). Correct: transfer_incomplete twice (short.bin, broken.bin), ascii_mode_binary
/// (logo.png), exit 1.
fn transfer_records() -> Cap {
    let mut cap = Cap::new();
    let (client, server) = (sa("192.0.2.10:40030"), sa("203.0.113.30:21"));
    let mut c = cap.open(client, server, 30_000, 31_000);
    login(&mut cap, &mut c);
    c.cmd(&mut cap, "PWD\r\n", "257 \"/srv/ftp\" is the current directory\r\n");
    c.cmd(&mut cap, "CWD pub\r\n", "250 Directory successfully changed.\r\n");
    c.cmd(&mut cap, "TYPE I\r\n", "200 Switching to Binary mode.\r\n");
    let done = "226 Transfer complete.\r\n";
    let downloads = [
        Download { name: "short.bin", rest: None, announced: 5000, carried: 2000, missed: 0, last: done },
        Download { name: "resumed.bin", rest: Some(1000), announced: 3000, carried: 2000, missed: 0, last: done },
        Download { name: "gap.bin", rest: None, announced: 3000, carried: 3000, missed: 1000, last: done },
        Download { name: "broken.bin", rest: None, announced: 4000, carried: 1000, missed: 0, last: "451 Local error in processing.\r\n" },
    ];
    for (i, Download { name, rest, announced, carried, missed, last }) in downloads.into_iter().enumerate() {
        let port = 50_300 + i as u16;
        let pasv = format!("227 Entering Passive Mode (203,0,113,30,{},{}).\r\n", port >> 8, port & 0xff);
        c.cmd(&mut cap, "PASV\r\n", &pasv);
        if let Some(offset) = rest {
            c.cmd(&mut cap, &format!("REST {offset}\r\n"), &format!("350 Restart position accepted ({offset}).\r\n"));
        }
        c.c(&mut cap, format!("RETR {name}\r\n").as_bytes());
        cap.tag = Tag::Data;
        let (dc, ds) = (SocketAddr::new(client.ip(), 41_030 + i as u16), SocketAddr::new(server.ip(), port));
        let mut d = cap.open(dc, ds, 32_000 + 1000 * i as u32, 33_000 + 1000 * i as u32);
        cap.tag = Tag::Control;
        c.s(&mut cap, format!("150 Opening BINARY mode data connection for {name} ({announced} bytes).\r\n").as_bytes());
        cap.tag = Tag::Data;
        let half = (carried - missed) / 2;
        d.s(&mut cap, &vec![0x42; half as usize]);
        d.sseq += missed;
        d.s(&mut cap, &vec![0x42; (carried - missed - half) as usize]);
        d.close_by_server(&mut cap);
        cap.tag = Tag::Control;
        c.s(&mut cap, last.as_bytes());
    }
    // A binary file in ASCII mode: a PNG's first bytes, NUL among them.
    c.cmd(&mut cap, "TYPE A\r\n", "200 Switching to ASCII mode.\r\n");
    c.cmd(&mut cap, "PASV\r\n", "227 Entering Passive Mode (203,0,113,30,196,160).\r\n");
    c.c(&mut cap, b"RETR logo.png\r\n");
    cap.tag = Tag::Data;
    let mut d = cap.open(SocketAddr::new(client.ip(), 41_040), SocketAddr::new(server.ip(), 50_336), 37_000, 38_000);
    cap.tag = Tag::Control;
    c.s(&mut cap, b"150 Opening ASCII mode data connection for logo.png (120 bytes).\r\n");
    cap.tag = Tag::Data;
    let png: Vec<u8> = [&b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..], &[0u8; 104]].concat();
    d.s(&mut cap, &png);
    d.close_by_server(&mut cap);
    cap.tag = Tag::Control;
    c.s(&mut cap, b"226 Transfer complete.\r\n");
    quit(&mut cap, &mut c);
    cap
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "fixtures/crafted".into());
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir).expect("create the output folder");
    let write = |name: &str, bytes: Vec<u8>| {
        std::fs::write(dir.join(name), &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        println!("{name}: {} bytes", bytes.len());
    };
    let one = |cap: &Cap, link: Link| pcap_us(link.linktype(), &simple(cap, link));
    let eth = |cap: &Cap| one(cap, Link::Ethernet);

    write("odd-227-forms.pcap", eth(&odd_227_forms()));
    write("odd-commands.pcap", eth(&odd_commands()));
    write("banner-split-in-code.pcap", eth(&banner_split_in_code()));
    write("private-leak-unanswered.pcap", eth(&private_leak_unanswered()));
    write("passive-refused.pcap", eth(&passive_refused()));
    write("passive-icmp-unreachable.pcap", eth(&passive_icmp_unreachable(false)));
    write("passive-icmp6-unreachable.pcap", eth(&passive_icmp_unreachable(true)));
    write("active-refused-illegal-port.pcap", eth(&active_refused_illegal_port()));
    write("port-refused-repeatedly.pcap", eth(&port_refused_repeatedly()));
    write("alg-active-rewrite.pcap", eth(&alg_active_rewrite()));
    write("tls-blind.pcap", eth(&tls_blind()));
    write("eprt-v4-mapped.pcap", eth(&eprt_v4_mapped()));
    write("tfo-banner-rst-text.pcap", eth(&tfo_banner_and_rst_text()));
    write("icmp-other-sequence.pcap", eth(&icmp_other_sequence()));
    write("retransmitted-data.pcap", eth(&retransmitted_data()));
    write("reused-four-tuple.pcap", eth(&reused_four_tuple()));
    write("span-duplicates.pcap", eth(&seen_twice(&formats_session())));
    write("endless-last-line.pcap", eth(&endless_last_line()));
    write("forged-copy.pcap", eth(&forged_copy()));
    write("gssapi-protected.pcap", eth(&gssapi_protected()));
    write("implicit-ftps.pcap", eth(&implicit_ftps_beside_ftp()));
    write("one-client-port-two-servers.pcap", eth(&one_client_port_two_servers()));
    write("parallel-ftps.pcap", eth(&parallel_ftps()));
    write("retried-elsewhere.pcap", eth(&retried_elsewhere()));
    write("mid-connection.pcap", eth(&mid_connection()));
    write("lossy-control.pcapng", pcapng(&[(LINKTYPE_ETHERNET, 9, 0)], &simple(&lossy_control(), Link::Ethernet), &[]));

    let f = formats_session();
    write("formats-plain.pcap", eth(&f));
    let ns_be = PcapFormat { link_type: LINKTYPE_ETHERNET, snaplen: 65535, precision: Precision::Nanos, byte_order: ByteOrder::BigEndian };
    write("formats-ns-be.pcap", pcap(ns_be, &simple(&f, Link::Ethernet)));
    let two_if = frames(&f, |p| if p.tag == Tag::Data { (1, Link::Raw) } else { (0, Link::Ethernet) }, |_| None);
    write("formats-two-if.pcapng", pcapng(&[(LINKTYPE_ETHERNET, 6, 0), (LINKTYPE_RAW, 9, 0)], &two_if, &[]));
    write("formats-sll.pcap", one(&f, Link::Sll));
    write("formats-sll2.pcap", one(&f, Link::Sll2));
    let vlan = frames(&f, |p| (0, if p.tag == Tag::Data { Link::QinQ(200, 100) } else { Link::Vlan(100) }), |_| None);
    write("formats-vlan.pcap", pcap_us(LINKTYPE_ETHERNET, &vlan));
    write("formats-null.pcap", one(&f, Link::Null));
    write("formats-blocks.pcapng", pcapng(&[(LINKTYPE_ETHERNET, 6, 0)], &simple(&f, Link::Ethernet), &other_blocks()));
    let snapped = frames(&f, |_| (0, Link::Ethernet), |p| (p.tag == Tag::Data).then_some(64));
    write("formats-snaplen.pcap", pcap_us(LINKTYPE_ETHERNET, &snapped));

    write("flood.pcap", one(&flood(), Link::Raw));
    write("one-way-server-passive.pcap", eth(&one_way_server_passive()));
    write("one-way-client-active.pcap", eth(&one_way_client_active()));
    write("one-way-server-425.pcap", eth(&one_way_server_425()));
    write("one-way-client-passive.pcap", eth(&one_way_client_passive()));
    write("syn-before-227.pcap", eth(&syn_before_227()));
    write("227-retransmitted-after-syn.pcap", eth(&retransmitted_227_after_syn()));
    write("fragmented-ipv4.pcap", eth(&fragmented_ipv4()));
    write("fragmented-ipv6.pcap", eth(&fragmented_ipv6()));
    write("fragment-missing.pcap", eth(&fragment_missing()));
    write("fragmented-ipv4-twice.pcap", eth(&seen_twice(&fragmented_ipv4())));
    write("passwords.pcap", eth(&passwords()));
    write("cgnat-one-port.pcap", eth(&cgnat_one_port()));
    write("one-port-interleaved.pcap", eth(&one_port_interleaved()));
    write("late-syn.pcap", eth(&late_syn()));
    for how in ["unanswered", "refused", "unreachable"] {
        write(&format!("control-{how}.pcap"), eth(&control_never_opened(how)));
    }
    write("control-retried.pcap", eth(&control_retried()));
    write("active-port20-reset.pcap", eth(&active_port20_reset()));
    write("time-earliest.pcapng", time_extreme("192.0.2.10", EARLIEST_OFFSET));
    write("time-latest.pcapng", time_extreme("203.0.113.5", LATEST_OFFSET));
    write("transfer-records.pcap", eth(&transfer_records()));
}
