//! Writes a large synthetic but realistic pcap for benchmarking ftpscope (bench/run.sh).
//!
//! Ethernet/IPv4/TCP with valid IP and TCP checksums (etherparse's `PacketBuilder` writes the
//! headers), TCP timestamps (so full-size segments carry 1448 bytes), correct sequence and
//! acknowledgement numbers, microsecond timestamps.
//! Many FTP sessions run at once, interleaved in time: greeting, USER/PASS, SYST, TYPE, then
//! several transfers (LIST or RETR) each over PASV+227 or PORT+200 with its own data connection
//! (SYN, SYN-ACK, bulk data with delayed ACKs, FIN both ways) and 150/226 replies, then QUIT.
//! Some sessions fail:
//!   - pasv_private: the 227 advertises a private address; the client's SYNs to it go
//!     unanswered (sent three times), the client gives up and quits;
//!   - port_refused: active mode, the server's SYN to the client's PORT is answered by a RST,
//!     the server replies 425.
//!
//! Background traffic: HTTP and TLS-like TCP connections (bulk both ways) and DNS over UDP.
//!
//! Deterministic: a fixed seed and a SplitMix64 generator of its own. The output is
//! streamed through a BufWriter; memory stays small whatever the size.
//!
//! Usage: cargo run --release --example gen_capture -- OUT.pcap [--size BYTES|1G|512M]
//!        [--concurrency N] [--seed N] [--manifest PATH] [--bulk-scale X]
//! The manifest (default OUT.pcap.manifest.json) says what was written: sessions, failing
//! sessions by kind with their client endpoints, transfers, data bytes, packets.
//!
//! Many sessions (bench/sessions.sh): N copies of one real lab session instead of the synthetic
//! mix, C open at once (see tests/common/replicate.rs for how a copy differs):
//!   gen_capture --replicate fixtures/pasv-private-leak-unanswered/client.pcap
//!        (--sessions 100000 | --size 10G) [--concurrency 5000] [--session K] [--control-port 21]
//!        [--passive-ports FIRST-LAST] [--manifest PATH] OUT.pcap
//! --passive-ports moves copy i to passive port FIRST + i % (LAST - FIRST + 1): its 227's text
//! and its data connections' server port (a busy server's passive range).
//! OUT "-" writes to standard output (no manifest unless --manifest is given). Every capture is
//! written through the library's `PcapWriter`.

#[path = "../tests/common/replicate.rs"]
mod replicate;
#[path = "../tests/common/segment.rs"]
mod segment;

use etherparse::{IpHeaders, Ipv4Header, PacketBuilder, TcpOptionElement};
use ftpscope::capture::writer::PcapWriter;
use ftpscope::Timestamp;
use segment::{ACK, FIN, PSH, RST, SYN};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io::{BufWriter, Write};

// ---------------------------------------------------------------- PRNG

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in lo..=hi.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, per_thousand: u64) -> bool {
        self.next() % 1000 < per_thousand
    }
    /// Log-uniform in lo..=hi: many small values, a few large ones.
    fn log_range(&mut self, lo: u64, hi: u64) -> u64 {
        let (l, h) = ((lo as f64).ln(), (hi as f64).ln());
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((l + (h - l) * u).exp() as u64).clamp(lo, hi)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------- packets

type Ip = [u8; 4];

#[derive(Clone, Copy)]
struct Ep {
    ip: Ip,
    port: u16,
}

const MSS_PAYLOAD: usize = 1448;

/// The MAC address of the next hop towards `ip`, as the capturing router sees it: `salt` 0x10
/// for the side that sends first (a connection's opener, a query's client), 0x20 for its peer.
fn mac_of(ip: Ip, salt: u8) -> [u8; 6] {
    [0x02, salt, ip[0], ip[1], ip[2], ip[3]]
}

/// One TCP connection's state as both ends see it: a is the side that sends the SYN.
struct Tcp {
    a: Ep,
    b: Ep,
    isn: [u32; 2],
    /// Next sequence number each side sends.
    nxt: [u32; 2],
    /// Whether each side has sent its SYN (so the other side's ACKs are meaningful).
    synced: [bool; 2],
    mac: [[u8; 6]; 2],
    ttl: [u8; 2],
    /// Offset added to the capture clock (ms) for each side's TCP timestamp value.
    ts_off: [u32; 2],
    /// Last timestamp value received by each side, echoed in its TSecr.
    ts_recent: [u32; 2],
    window: [u16; 2],
}

impl Tcp {
    fn new(rng: &mut Rng, a: Ep, b: Ep) -> Tcp {
        let isn = [rng.next() as u32, rng.next() as u32];
        Tcp {
            a,
            b,
            isn,
            nxt: isn,
            synced: [false, false],
            // Captured on a router between them: the MACs are the two sides' next hops.
            mac: [mac_of(a.ip, 0x10), mac_of(b.ip, 0x20)],
            ttl: [*rng.pick(&[64u8, 63, 57, 52, 128, 116]), *rng.pick(&[64u8, 63, 56, 50, 128])],
            ts_off: [rng.next() as u32, rng.next() as u32],
            ts_recent: [0, 0],
            window: [rng.range(500, 2000) as u16, rng.range(500, 2000) as u16],
        }
    }
}

/// The byte layout of one frame, built in a reused buffer, and the file it goes to.
struct Writer {
    pcap: PcapWriter<BufWriter<Box<dyn Write>>>,
    frame: Vec<u8>,
    ip_id: u16,
}

impl Writer {
    fn new(path: &str) -> std::io::Result<Writer> {
        // Classic pcap, microsecond timestamps, snap length 262144, Ethernet.
        let pcap = PcapWriter::ethernet(output(path)?)?;
        Ok(Writer { pcap, frame: Vec::with_capacity(2048), ip_id: 1 })
    }

    fn record(&mut self, ts_us: u64) -> std::io::Result<()> {
        let len = self.frame.len() as u32;
        self.pcap.write_packet(Timestamp(ts_us as i64 * 1000), &self.frame, len)
    }

    /// The IPv4 header of the next packet: DF, `ttl`, the next identification (lengths,
    /// protocol and checksum are the builder's). `ips` are [source, destination].
    fn ipv4(&mut self, ips: [Ip; 2], ttl: u8) -> IpHeaders {
        self.ip_id = self.ip_id.wrapping_add(1);
        let [source, destination] = ips;
        let header = Ipv4Header { source, destination, time_to_live: ttl, identification: self.ip_id, ..Default::default() };
        IpHeaders::Ipv4(header, Default::default())
    }

    /// One TCP segment from side `from` (0 = a, 1 = b) of `t`, advancing its sequence number.
    fn tcp(&mut self, ts_us: u64, t: &mut Tcp, from: usize, flags: u8, payload: &[u8]) -> std::io::Result<()> {
        let to = 1 - from;
        let (src, dst) = if from == 0 { (t.a, t.b) } else { (t.b, t.a) };
        let seq = if flags & SYN != 0 { t.isn[from] } else { t.nxt[from] };
        let tsval = ((ts_us / 1000) as u32).wrapping_add(t.ts_off[from]);
        let tsecr = if flags & ACK != 0 { t.ts_recent[from] } else { 0 };
        t.ts_recent[to] = tsval;
        use TcpOptionElement::*;
        let (window, options): (u16, &[TcpOptionElement]) = if flags & SYN != 0 {
            (64240, &[MaximumSegmentSize(1460), SelectiveAcknowledgementPermitted, Timestamp(tsval, tsecr), Noop, WindowScale(7)])
        } else if flags & RST != 0 {
            (0, &[])
        } else {
            (t.window[from], &[Noop, Noop, Timestamp(tsval, tsecr)])
        };
        let mut header = segment::header(src.port, dst.port, seq, t.nxt[to], flags, window);
        header.set_options(options).expect("options fit the header");
        let ip = self.ipv4([src.ip, dst.ip], t.ttl[from]);
        self.frame.clear();
        PacketBuilder::ethernet2(t.mac[from], t.mac[to])
            .ip(ip)
            .tcp_header(header)
            .write(&mut self.frame, payload)
            .expect("a segment that fits IPv4");

        if flags & SYN != 0 {
            t.nxt[from] = t.isn[from].wrapping_add(1);
            t.synced[from] = true;
        }
        t.nxt[from] = t.nxt[from].wrapping_add(payload.len() as u32);
        if flags & FIN != 0 {
            t.nxt[from] = t.nxt[from].wrapping_add(1);
        }
        self.record(ts_us)
    }

    fn udp(&mut self, ts_us: u64, src: Ep, dst: Ep, payload: &[u8]) -> std::io::Result<()> {
        let ip = self.ipv4([src.ip, dst.ip], 64);
        self.frame.clear();
        PacketBuilder::ethernet2(mac_of(src.ip, 0x10), mac_of(dst.ip, 0x20))
            .ip(ip)
            .udp(src.port, dst.port)
            .write(&mut self.frame, payload)
            .expect("a datagram that fits IPv4");
        self.record(ts_us)
    }
}

// ---------------------------------------------------------------- sessions as scripts

enum Step {
    /// One segment on connection `conn` from side `from`.
    Seg { conn: usize, from: usize, flags: u8, body: Vec<u8>, delay_us: u64 },
    /// `remaining` bytes from side `from` in full-size segments, the receiver ACKing every
    /// second segment; the last one carries PSH.
    Bulk { conn: usize, from: usize, remaining: u64, gap_us: u64, unacked: u32 },
    /// A DNS lookup over UDP before the session (query and answer).
    Dns { client: Ep, name: String, answer: Ip, delay_us: u64, answered: bool },
}

struct Script {
    conns: Vec<Tcp>,
    steps: VecDeque<Step>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Ok,
    PasvPrivate,
    PortRefused,
}

struct Manifest {
    sessions: u64,
    transfers: u64,
    data_bytes: u64,
    background_connections: u64,
    failing: Vec<(Kind, String)>,
}

struct World {
    rng: Rng,
    clients: Vec<Ip>,
    client_port: Vec<u16>,
    servers: Vec<(Ip, &'static str)>,
    pasv_port: Vec<u16>,
    /// Multiplies every bulk transfer's size (RETR files, HTTP bodies): a larger capture with
    /// the same number of sessions, to see what memory follows (bytes or sessions).
    bulk_scale: f64,
}

const BANNERS: &[&str] = &[
    "220 (vsFTPd 3.0.3)",
    "220 ProFTPD Server (Debian) [::ffff:198.51.100.7]",
    "220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n220-You are user number 3 of 50 allowed.\r\n220 This is a private system - No anonymous login",
    "220 Microsoft FTP Service",
    "220 FileZilla Server 1.8.0",
];

impl World {
    fn new(seed: u64) -> World {
        let mut rng = Rng(seed);
        let mut clients = Vec::new();
        for i in 1..=254u8 {
            clients.push([192, 0, 2, i]);
            clients.push([203, 0, 113, i]);
        }
        let client_port = clients.iter().map(|_| rng.range(32768, 60000) as u16).collect();
        let servers: Vec<(Ip, &'static str)> = (1..=40u8).map(|i| ([198, 51, 100, i], *rng.pick(BANNERS))).collect();
        let pasv_port = servers.iter().map(|_| rng.range(40000, 49000) as u16).collect();
        World { rng, clients, client_port, servers, pasv_port, bulk_scale: 1.0 }
    }

    fn client(&mut self) -> usize {
        (self.rng.next() % self.clients.len() as u64) as usize
    }

    fn ephemeral(&mut self, c: usize) -> Ep {
        let p = &mut self.client_port[c];
        *p = if *p >= 60999 { 32768 } else { *p + 1 };
        Ep { ip: self.clients[c], port: *p }
    }

    fn passive(&mut self, s: usize) -> u16 {
        let p = &mut self.pasv_port[s];
        *p = if *p >= 49999 { 40000 } else { *p + 1 };
        *p
    }

    /// One FTP session's whole script.
    fn ftp_session(&mut self, kind: Kind, m: &mut Manifest) -> Script {
        let ci = self.client();
        let si = (self.rng.next() % self.servers.len() as u64) as usize;
        let ctl_client = self.ephemeral(ci);
        let (server_ip, banner) = self.servers[si];
        let server = Ep { ip: server_ip, port: 21 };
        let rtt = self.rng.log_range(2_000, 120_000); // µs
        let half = rtt / 2;
        // Per-session transfer rate 20 KB/s .. 1 MB/s: the gap between full-size segments.
        let rate = self.rng.log_range(20_000, 1_000_000);
        let gap_us = (MSS_PAYLOAD as u64 * 1_000_000 / rate).max(5);
        let user = if self.rng.chance(300) { "anonymous".to_string() } else { format!("user{}", self.rng.range(1, 500)) };

        let mut conns = vec![Tcp::new(&mut self.rng, ctl_client, server)];
        let mut steps = VecDeque::new();
        let seg = |from: usize, flags: u8, text: &str, delay_us: u64| Step::Seg {
            conn: 0,
            from,
            flags,
            body: text.as_bytes().to_vec(),
            delay_us,
        };
        let pure = |conn: usize, from: usize, flags: u8, delay_us: u64| Step::Seg { conn, from, flags, body: Vec::new(), delay_us };
        let c2s = |text: String, delay: u64| seg(0, ACK | PSH, &format!("{text}\r\n"), delay);
        let s2c = |text: String, delay: u64| seg(1, ACK | PSH, &format!("{text}\r\n"), delay);

        steps.push_back(Step::Dns {
            client: Ep { ip: ctl_client.ip, port: self.rng.range(1024, 65000) as u16 },
            name: format!("ftp{si}.example.net"),
            answer: server_ip,
            delay_us: 0,
            answered: false,
        });
        steps.push_back(pure(0, 0, SYN, 2_000));
        steps.push_back(pure(0, 1, SYN | ACK, half));
        steps.push_back(pure(0, 0, ACK, half));
        steps.push_back(s2c(banner.to_string(), 300));
        steps.push_back(c2s(format!("USER {user}"), half + 200));
        steps.push_back(s2c("331 Please specify the password.".into(), half + 100));
        steps.push_back(c2s("PASS s3cret-pw".into(), half + 200));
        steps.push_back(s2c("230 Login successful.".into(), half + 5_000));
        steps.push_back(c2s("SYST".into(), half + 100));
        steps.push_back(s2c("215 UNIX Type: L8".into(), half + 50));
        steps.push_back(c2s("TYPE I".into(), half + 100));
        steps.push_back(s2c("200 Switching to Binary mode.".into(), half + 50));

        let transfers = if kind == Kind::Ok { self.rng.range(1, 4) } else { 1 };
        for t in 0..transfers {
            let passive = match kind {
                Kind::PasvPrivate => true,
                Kind::PortRefused => false,
                Kind::Ok => !self.rng.chance(300),
            };
            let (command, size) = if t == 0 && (kind != Kind::Ok || self.rng.chance(600)) {
                ("LIST".to_string(), 0)
            } else {
                let size = (self.rng.log_range(1_000, 1_000_000) as f64 * self.bulk_scale) as u64;
                (format!("RETR file{:05}.bin", self.rng.range(0, 99_999)), size)
            };
            // Data connection: c = 1 + index; side 0 is the one that sends the SYN.
            let dc = conns.len();
            let data_from;
            if passive {
                let port = self.passive(si);
                let advertised = if kind == Kind::PasvPrivate { [10, 20, (si % 250) as u8, 5] } else { server_ip };
                let a = advertised;
                steps.push_back(c2s("PASV".into(), half + 100));
                steps.push_back(s2c(
                    format!("227 Entering Passive Mode ({},{},{},{},{},{}).", a[0], a[1], a[2], a[3], port >> 8, port & 0xff),
                    half + 50,
                ));
                let data_client = self.ephemeral(ci);
                conns.push(Tcp::new(&mut self.rng, data_client, Ep { ip: advertised, port }));
                data_from = 1; // the server (side b) sends
                if kind == Kind::PasvPrivate {
                    // The SYN goes nowhere: sent three times (1 s, 2 s backoff), then the client
                    // gives up on the transfer and leaves.
                    steps.push_back(pure(dc, 0, SYN, half + 300));
                    steps.push_back(pure(dc, 0, SYN, 1_000_000));
                    steps.push_back(pure(dc, 0, SYN, 2_000_000));
                    steps.push_back(c2s("QUIT".into(), 4_000_000));
                    steps.push_back(s2c("221 Goodbye.".into(), half + 50));
                    m.failing.push((kind, fmt_ep(ctl_client)));
                    break;
                }
                steps.push_back(pure(dc, 0, SYN, half + 300));
                steps.push_back(pure(dc, 1, SYN | ACK, half));
                steps.push_back(pure(dc, 0, ACK, half));
                steps.push_back(c2s(command.clone(), 100));
            } else {
                let data_client = self.ephemeral(ci);
                let p = data_client.port;
                let c = data_client.ip;
                steps.push_back(c2s(format!("PORT {},{},{},{},{},{}", c[0], c[1], c[2], c[3], p >> 8, p & 0xff), half + 100));
                steps.push_back(s2c("200 PORT command successful. Consider using PASV.".into(), half + 50));
                steps.push_back(c2s(command.clone(), half + 100));
                // The server connects from port 20: it is side a of this connection.
                conns.push(Tcp::new(&mut self.rng, Ep { ip: server_ip, port: 20 }, data_client));
                data_from = 0;
                steps.push_back(pure(dc, 0, SYN, half + 200));
                if kind == Kind::PortRefused {
                    steps.push_back(pure(dc, 1, RST | ACK, half));
                    steps.push_back(s2c("425 Failed to establish connection.".into(), half + 300));
                    steps.push_back(c2s("QUIT".into(), half + 20_000));
                    steps.push_back(s2c("221 Goodbye.".into(), half + 50));
                    m.failing.push((kind, fmt_ep(ctl_client)));
                    break;
                }
                steps.push_back(pure(dc, 1, SYN | ACK, half));
                steps.push_back(pure(dc, 0, ACK, half));
            }
            let mut listing = String::new();
            let bytes = if command == "LIST" {
                let n = self.rng.range(3, 80);
                let mut l = String::new();
                for _ in 0..n {
                    l.push_str(&format!(
                        "-rw-r--r--    1 1000     1000     {:>10} Mar {:>2} {:02}:{:02} file{:05}.bin\r\n",
                        self.rng.log_range(100, 8_000_000),
                        self.rng.range(1, 28),
                        self.rng.range(0, 23),
                        self.rng.range(0, 59),
                        self.rng.range(0, 99_999)
                    ));
                }
                listing = l;
                listing.len() as u64
            } else {
                size
            };
            let opening = if command == "LIST" {
                "150 Here comes the directory listing.".to_string()
            } else {
                format!("150 Opening BINARY mode data connection for {} ({} bytes).", &command[5..], size)
            };
            steps.push_back(s2c(opening, half + 200));
            if command == "LIST" {
                // The listing as text segments of at most 1448 bytes.
                let text = listing.as_bytes();
                for chunk in text.chunks(MSS_PAYLOAD) {
                    steps.push_back(Step::Seg { conn: dc, from: data_from, flags: ACK | PSH, body: chunk.to_vec(), delay_us: 200 });
                }
                steps.push_back(pure(dc, 1 - data_from, ACK, half));
            } else {
                steps.push_back(Step::Bulk { conn: dc, from: data_from, remaining: size, gap_us, unacked: 0 });
            }
            // The sender closes, the receiver closes, the last ACK.
            steps.push_back(pure(dc, data_from, FIN | ACK, 100));
            steps.push_back(pure(dc, 1 - data_from, FIN | ACK, half + 100));
            steps.push_back(pure(dc, data_from, ACK, half));
            steps.push_back(s2c("226 Transfer complete.".into(), 300));
            steps.push_back(pure(0, 0, ACK, half));
            m.transfers += 1;
            m.data_bytes += bytes;
            if t + 1 == transfers {
                steps.push_back(c2s("QUIT".into(), self.rng.range(10_000, 2_000_000)));
                steps.push_back(s2c("221 Goodbye.".into(), half + 50));
            }
        }
        // The server closes the control connection.
        steps.push_back(pure(0, 1, FIN | ACK, 100));
        steps.push_back(pure(0, 0, FIN | ACK, half + 100));
        steps.push_back(pure(0, 1, ACK, half));
        m.sessions += 1;
        Script { conns, steps }
    }

    /// A non-FTP connection: HTTP on port 80 or TLS-like bytes on 443, bulk both ways.
    fn background(&mut self, m: &mut Manifest) -> Script {
        let ci = self.client();
        let client = self.ephemeral(ci);
        let tls = self.rng.chance(600);
        let server = Ep { ip: [198, 51, 100, 200 + self.rng.range(0, 20) as u8], port: if tls { 443 } else { 80 } };
        let rtt = self.rng.log_range(2_000, 80_000);
        let half = rtt / 2;
        let rate = self.rng.log_range(100_000, 5_000_000);
        let gap_us = (MSS_PAYLOAD as u64 * 1_000_000 / rate).max(5);
        let mut steps = VecDeque::new();
        let pure = |from: usize, flags: u8, delay_us: u64| Step::Seg { conn: 0, from, flags, body: Vec::new(), delay_us };
        steps.push_back(pure(0, SYN, 0));
        steps.push_back(pure(1, SYN | ACK, half));
        steps.push_back(pure(0, ACK, half));
        let requests = self.rng.range(1, 5);
        for _ in 0..requests {
            if tls {
                steps.push_back(Step::Bulk { conn: 0, from: 0, remaining: self.rng.range(100, 2_000), gap_us: 50, unacked: 0 });
            } else {
                let req = format!(
                    "GET /static/{}.js HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\n\r\n",
                    self.rng.range(0, 1_000_000)
                );
                steps.push_back(Step::Seg { conn: 0, from: 0, flags: ACK | PSH, body: req.into_bytes(), delay_us: 100 });
            }
            let size = (self.rng.log_range(500, 3_000_000) as f64 * self.bulk_scale) as u64;
            if !tls {
                let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n");
                steps.push_back(Step::Seg { conn: 0, from: 1, flags: ACK, body: head.into_bytes(), delay_us: half + 500 });
            }
            steps.push_back(Step::Bulk { conn: 0, from: 1, remaining: size, gap_us, unacked: 0 });
        }
        steps.push_back(pure(0, FIN | ACK, half + 50_000));
        steps.push_back(pure(1, FIN | ACK, half));
        steps.push_back(pure(0, ACK, half));
        m.background_connections += 1;
        let conns = vec![Tcp::new(&mut self.rng, client, server)];
        Script { conns, steps }
    }
}

fn fmt_ep(e: Ep) -> String {
    format!("{}.{}.{}.{}:{}", e.ip[0], e.ip[1], e.ip[2], e.ip[3], e.port)
}

fn dns_query(id: u16, name: &str, answer: Option<Ip>) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(if answer.is_some() { &[0x81, 0x80] } else { &[0x01, 0x00] });
    p.extend_from_slice(&[0, 1, 0, if answer.is_some() { 1 } else { 0 }, 0, 0, 0, 0]);
    for label in name.split('.') {
        p.push(label.len() as u8);
        p.extend_from_slice(label.as_bytes());
    }
    p.extend_from_slice(&[0, 0, 1, 0, 1]);
    if let Some(ip) = answer {
        p.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
        p.extend_from_slice(&ip);
    }
    p
}

// ---------------------------------------------------------------- the interleaving driver

/// Bytes the script will write, roughly (headers included): to stop starting new scripts in
/// time for the file to end near the requested size.
fn planned_bytes(s: &Script) -> u64 {
    const PER_PACKET: u64 = 16 + 14 + 20 + 32;
    s.steps
        .iter()
        .map(|st| match st {
            Step::Seg { body, .. } => PER_PACKET + body.len() as u64,
            Step::Bulk { remaining, .. } => {
                let segs = remaining.div_ceil(MSS_PAYLOAD as u64);
                remaining + segs * PER_PACKET + segs.div_ceil(2) * PER_PACKET
            }
            Step::Dns { .. } => 2 * 100,
        })
        .sum()
}

struct Active {
    script: Script,
    next_us: u64,
}

/// Emits the script's next packet at `now`; returns the delay before the following one, or
/// None when the script is done.
fn step(w: &mut Writer, blob: &[u8], a: &mut Active, now: u64, rng: &mut Rng) -> std::io::Result<Option<u64>> {
    let s = &mut a.script;
    let Some(front) = s.steps.front_mut() else { return Ok(None) };
    let mut pop = true;
    match front {
        Step::Seg { conn, from, flags, body, .. } => {
            let t = &mut s.conns[*conn];
            let mut f = *flags;
            // A segment other than a lone SYN acknowledges the peer once the peer has synced.
            if f & SYN == 0 && f & ACK == 0 && t.synced[1 - *from] {
                f |= ACK;
            }
            w.tcp(now, t, *from, f, body)?;
        }
        Step::Bulk { conn, from, remaining, unacked, .. } => {
            let t = &mut s.conns[*conn];
            if *unacked >= 2 {
                w.tcp(now, t, 1 - *from, ACK, &[])?;
                *unacked = 0;
                pop = false;
            } else if *remaining > 0 {
                let n = (*remaining).min(MSS_PAYLOAD as u64) as usize;
                let off = (t.nxt[*from] as usize).wrapping_mul(7) % (blob.len() - MSS_PAYLOAD);
                let flags = if n < MSS_PAYLOAD || *remaining == n as u64 { ACK | PSH } else { ACK };
                w.tcp(now, t, *from, flags, &blob[off..off + n])?;
                *remaining -= n as u64;
                *unacked += 1;
                pop = false;
            } else if *unacked > 0 {
                w.tcp(now, t, 1 - *from, ACK, &[])?;
                *unacked = 0;
            }
        }
        Step::Dns { client, name, answer, answered, .. } => {
            let resolver = Ep { ip: [198, 51, 100, 53], port: 53 };
            let id = client.port ^ 0x5a5a;
            if !*answered {
                w.udp(now, *client, resolver, &dns_query(id, name, None))?;
                *answered = true;
                pop = false;
            } else {
                w.udp(now, resolver, *client, &dns_query(id, name, Some(*answer)))?;
            }
        }
    }
    if pop {
        s.steps.pop_front();
    }
    // Delay before the next packet of this script.
    let jitter = |rng: &mut Rng, d: u64| d + rng.range(0, d / 8 + 1);
    Ok(match s.steps.front() {
        None => None,
        Some(Step::Seg { delay_us, .. }) => Some(jitter(rng, *delay_us)),
        Some(Step::Dns { answered: true, .. }) => Some(jitter(rng, 800)),
        Some(Step::Dns { delay_us, .. }) => Some(*delay_us),
        Some(Step::Bulk { unacked, gap_us, remaining, .. }) => {
            // Within a bulk step: ACKs follow shortly, segments every gap.
            if pop {
                Some(jitter(rng, 200))
            } else if *unacked >= 2 || *remaining == 0 {
                Some(20 + rng.range(0, 40))
            } else {
                Some(jitter(rng, *gap_us))
            }
        }
    })
}

/// A count: 10000, 10k (10,000), 1M (1,000,000): decimal, unlike sizes.
fn parse_count(s: &str) -> u64 {
    let (num, mult) = match s.trim().char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1_000),
        Some((i, 'm' | 'M')) => (&s[..i], 1_000_000),
        _ => (s, 1),
    };
    let v: f64 = num.parse().unwrap_or_else(|_| panic!("bad count {s}"));
    (v * mult as f64).round() as u64
}

/// A file, or standard output for "-", buffered.
fn output(path: &str) -> std::io::Result<BufWriter<Box<dyn Write>>> {
    let out: Box<dyn Write> = if path == "-" { Box::new(std::io::stdout().lock()) } else { Box::new(std::fs::File::create(path)?) };
    Ok(BufWriter::with_capacity(1 << 20, out))
}

fn parse_size(s: &str) -> u64 {
    let s = s.trim();
    let (num, mult) = match s.chars().last() {
        Some('G') | Some('g') => (&s[..s.len() - 1], 1u64 << 30),
        Some('M') | Some('m') => (&s[..s.len() - 1], 1u64 << 20),
        Some('K') | Some('k') => (&s[..s.len() - 1], 1u64 << 10),
        _ => (s, 1),
    };
    let v: f64 = num.parse().unwrap_or_else(|_| panic!("bad size {s}"));
    (v * mult as f64) as u64
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = None;
    let mut size = None;
    let mut concurrency = None;
    let mut seed = 0x00F7_95C0_9E00_0001u64;
    let mut manifest_path = None;
    let mut bulk_scale = 1.0f64;
    let mut replicate = None;
    let mut sessions = None;
    let mut session = 0usize;
    let mut control_port = 21u16;
    let mut passive_ports = None;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let mut val = || {
            i += 1;
            args.get(i).cloned().unwrap_or_else(|| panic!("{a} needs a value"))
        };
        match a.as_str() {
            "--size" => size = Some(parse_size(&val())),
            "--concurrency" => concurrency = Some(val().parse::<usize>().expect("concurrency")),
            "--replicate" => replicate = Some(val()),
            "--sessions" => sessions = Some(parse_count(&val()).max(1)),
            "--session" => session = val().parse().expect("session"),
            "--control-port" => control_port = val().parse().expect("control-port"),
            "--passive-ports" => passive_ports = Some(replicate::PassiveRange::parse(&val()).unwrap_or_else(|e| panic!("{e}"))),
            "--seed" => seed = val().parse().expect("seed"),
            "--manifest" => manifest_path = Some(val()),
            "--bulk-scale" => bulk_scale = val().parse().expect("bulk-scale"),
            "-h" | "--help" => {
                eprintln!("usage: gen_capture OUT.pcap [--size 1G] [--concurrency 400] [--seed N] [--manifest PATH] [--bulk-scale X]");
                eprintln!("       gen_capture --replicate SRC.pcap (--sessions N | --size 10G) [--concurrency 5000] [--session K] [--control-port 21] [--passive-ports FIRST-LAST] [--manifest PATH] OUT.pcap");
                eprintln!("OUT \"-\" is standard output.");
                return Ok(());
            }
            _ if out.is_none() => out = Some(a.clone()),
            _ => panic!("unexpected argument {a}"),
        }
        i += 1;
    }
    let out = out.expect("usage: gen_capture OUT.pcap [--size 1G]");
    // Standard output gets a manifest only when asked for one.
    let manifest_path = manifest_path.or_else(|| (out != "-").then(|| format!("{out}.manifest.json")));
    if let Some(src) = replicate {
        let how_many = match (sessions, size) {
            (Some(n), _) => HowMany::Sessions(n),
            (None, Some(bytes)) => HowMany::Bytes(bytes),
            (None, None) => panic!("--replicate needs --sessions N or --size BYTES"),
        };
        let spec = ReplicateSpec { src, session, control_port, how_many, concurrency: concurrency.unwrap_or(5000) as u64, passive_ports };
        return replicate_main(&spec, &out, manifest_path.as_deref());
    }
    let size = size.unwrap_or(1 << 30);
    let concurrency = concurrency.unwrap_or(400);

    let mut world = World::new(seed);
    world.bulk_scale = bulk_scale;
    let mut blob = vec![0u8; 1 << 20];
    for c in blob.chunks_mut(8) {
        let v = world.rng.next().to_le_bytes();
        c.copy_from_slice(&v[..c.len()]);
    }
    let mut w = Writer::new(&out)?;
    let mut m = Manifest { sessions: 0, transfers: 0, data_bytes: 0, background_connections: 0, failing: Vec::new() };

    // 2024-03-01 09:00:00 UTC.
    let start_us = 1_709_283_600u64 * 1_000_000;
    let mut now = start_us;
    let mut active: Vec<Active> = Vec::new();
    let mut queue: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let mut free: Vec<usize> = Vec::new();
    let mut started = 0u64;
    let mut live = 0usize;
    let mut planned = 24u64;

    loop {
        // Keep `concurrency` scripts running until the size is reached.
        while live < concurrency && planned < size {
            let r = world.rng.next() % 1000;
            let script = if r < 120 {
                world.background(&mut m)
            } else if r < 150 {
                world.ftp_session(Kind::PasvPrivate, &mut m)
            } else if r < 180 {
                world.ftp_session(Kind::PortRefused, &mut m)
            } else {
                world.ftp_session(Kind::Ok, &mut m)
            };
            // Stagger the start over the next 2 s so sessions do not begin in lockstep.
            let at = now + if started < concurrency as u64 { world.rng.range(0, 2_000_000) } else { world.rng.range(0, 50_000) };
            planned += planned_bytes(&script);
            let a = Active { script, next_us: at };
            let idx = match free.pop() {
                Some(i) => {
                    active[i] = a;
                    i
                }
                None => {
                    active.push(a);
                    active.len() - 1
                }
            };
            queue.push(Reverse((at, idx)));
            started += 1;
            live += 1;
        }
        let Some(Reverse((at, idx))) = queue.pop() else { break };
        now = now.max(at);
        let a = &mut active[idx];
        debug_assert_eq!(a.next_us, at);
        match step(&mut w, &blob, a, now, &mut world.rng)? {
            Some(delay) => {
                a.next_us = now + delay;
                queue.push(Reverse((a.next_us, idx)));
            }
            None => {
                free.push(idx);
                live -= 1;
            }
        }
    }
    w.pcap.flush()?;

    let count = |k: Kind| m.failing.iter().filter(|(kk, _)| *kk == k).count();
    let list = |k: Kind| m.failing.iter().filter(|(kk, _)| *kk == k).map(|(_, e)| format!("\"{e}\"")).collect::<Vec<_>>().join(",");
    let manifest = format!(
        "{{\"file\":\"{out}\",\"seed\":{seed},\"concurrency\":{concurrency},\"bulk_scale\":{bulk_scale},\"bytes\":{},\"packets\":{},\"duration_s\":{:.3},\"sessions\":{},\"transfers\":{},\"data_bytes\":{},\
         \"background_connections\":{},\"failing\":{{\"pasv_private\":{},\"port_refused\":{}}},\
         \"failing_clients\":{{\"pasv_private\":[{}],\"port_refused\":[{}]}}}}\n",
        w.pcap.bytes(),
        w.pcap.packets(),
        (now - start_us) as f64 / 1e6,
        m.sessions,
        m.transfers,
        m.data_bytes,
        m.background_connections,
        count(Kind::PasvPrivate),
        count(Kind::PortRefused),
        list(Kind::PasvPrivate),
        list(Kind::PortRefused),
    );
    if let Some(path) = &manifest_path {
        std::fs::write(path, &manifest)?;
    }
    eprintln!(
        "gen_capture: wrote {} ({:.1} MiB, {} packets, {:.1} s of traffic): {} FTP sessions ({} pasv_private, {} port_refused), {} transfers, {} background connections",
        out,
        w.pcap.bytes() as f64 / (1u64 << 20) as f64,
        w.pcap.packets(),
        (now - start_us) as f64 / 1e6,
        m.sessions,
        count(Kind::PasvPrivate),
        count(Kind::PortRefused),
        m.transfers,
        m.background_connections
    );
    Ok(())
}

// ---------------------------------------------------------------- many copies of a real session

enum HowMany {
    Sessions(u64),
    /// As many sessions as fit in this many bytes.
    Bytes(u64),
}

struct ReplicateSpec {
    src: String,
    session: usize,
    control_port: u16,
    how_many: HowMany,
    concurrency: u64,
    passive_ports: Option<replicate::PassiveRange>,
}

fn replicate_main(spec: &ReplicateSpec, out: &str, manifest_path: Option<&str>) -> std::io::Result<()> {
    let fail = |e: String| -> ! {
        eprintln!("gen_capture: {e}");
        std::process::exit(2);
    };
    let t = replicate::load(std::path::Path::new(&spec.src), spec.session, spec.control_port).unwrap_or_else(|e| fail(e));
    if let Some(range) = &spec.passive_ports {
        t.check_passive_range(range).unwrap_or_else(|e| fail(e));
    }
    let per_copy = t.bytes_per_copy();
    let sessions = match spec.how_many {
        HowMany::Sessions(n) => n,
        HowMany::Bytes(bytes) => (bytes.saturating_sub(24) / per_copy).max(1),
    };
    let shape = replicate::Shape { sessions, concurrency: spec.concurrency, passive_ports: spec.passive_ports };
    let (written, mut sink) = replicate::write_shape(&t, &shape, output(out)?)?;
    sink.flush()?;
    let secs = |ns: i64| ns as f64 / 1e9;
    let manifest = serde_json::json!({
        "file": out,
        "mode": "replicate",
        "source": t.source,
        "source_session": t.session,
        "source_client": format!("{}:{}", t.client, t.client_port),
        "server": format!("{}:{}", t.server, t.server_port),
        "session_packets": t.packets.len(),
        "session_bytes": per_copy,
        "session_duration_s": secs(t.duration_ns),
        "sessions": written.sessions,
        "concurrency": spec.concurrency,
        "spacing_us": written.spacing_ns / 1000,
        "packets": written.packets,
        "bytes": written.bytes,
        "duration_s": secs(written.duration_ns),
        "clients": "copy i: client 172.16.0.1 + (i mod 1048574) in 172.16.0.0/12, its own ports shifted by i * 9973 mod 64512 within 1024..65535",
        "remapped_client_ports": t.client_ports,
        "session_data_connections": t.data_connections(),
        "data_connections": t.data_connections() as u64 * written.sessions,
        "passive_port": t.passive_port,
        "passive_ports": spec.passive_ports.map(|r| serde_json::json!({"first": r.first, "last": r.last(), "copy_i": "first + i % (last - first + 1)"})),
        "first_client": replicate::client_endpoint(&t, 0),
        "last_client": replicate::client_endpoint(&t, written.sessions - 1),
    });
    if let Some(path) = manifest_path {
        std::fs::write(path, format!("{manifest}\n"))?;
    }
    eprintln!(
        "gen_capture: wrote {} ({:.1} MiB, {} packets, {:.1} s of traffic): {} copies of session {} of {} ({} packets, {:.2} s each), {} at once",
        out,
        written.bytes as f64 / (1u64 << 20) as f64,
        written.packets,
        secs(written.duration_ns),
        written.sessions,
        t.session,
        t.source,
        t.packets.len(),
        secs(t.duration_ns),
        spec.concurrency
    );
    Ok(())
}
