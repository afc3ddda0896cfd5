//! Adversarial captures, generated as a stream (no file needed): what someone who wants to
//! exhaust ftpscope's memory or time would put on the wire. Each writes a classic pcap
//! through the library's `PcapWriter` (Ethernet, IPv4, TCP headers from etherparse's types;
//! checksums left zero: ftpscope does not check them) of a size given by `n`, so that tests can
//! compare n with 4n (tests/hostile.rs) and examples/hostile.rs can write them to files.
//!
//! - `syn_flood`: n SYNs from n different sources to one FTP server (n half-open connections);
//! - `idle_flows`: n connections to the FTP port that complete their handshake, then say nothing;
//! - `ports`: one FTP session sending n PORT commands, each answered 200;
//! - `endless_line`: one session whose client sends a line of n bytes (then its LF);
//! - `one_byte_segments`: one session whose n bytes of commands come one byte per segment, each
//!   block of 4,096 bytes in reverse order (every segment ahead of a hole);
//! - `conflicting_retransmissions`: one session whose n commands are each sent again with other
//!   bytes at the same sequence numbers.
//! - `tls_connections`: one session whose control channel goes TLS (AUTH TLS, 234), then n new
//!   connections between its two hosts, each refused, 10 ms apart (each a probable data
//!   connection of it, up to 1,000);
//! - `tls_sessions`: n sessions from one client address to one server, each gone TLS, 32 open
//!   at once (a host's sessions weighed by address: 16).

#[path = "segment.rs"]
pub mod segment;

use etherparse::{EtherType, Ethernet2Header, IpNumber, Ipv4Header};
use ftpscope::capture::writer::{PcapFormat, PcapWriter};
use ftpscope::Timestamp;
use segment::{ACK, FIN, PSH, RST, SYN};
use std::io::{self, Write};
use std::net::Ipv4Addr;

/// A pcap being written: one microsecond between frames.
pub struct Pcap<W: Write> {
    out: PcapWriter<W>,
    usec: u64,
    frame: Vec<u8>,
}

impl<W: Write> Pcap<W> {
    pub fn new(out: W) -> io::Result<Pcap<W>> {
        Pcap::with_snaplen(out, 65535)
    }

    /// A pcap whose header says it kept at most `snaplen` bytes of each frame (tests/bytes.rs
    /// writes frames cut to it).
    pub fn with_snaplen(out: W, snaplen: u32) -> io::Result<Pcap<W>> {
        let out = PcapWriter::new(out, PcapFormat { snaplen, ..PcapFormat::default() })?;
        Ok(Pcap { out, usec: 1_700_000_000_000_000, frame: Vec::new() })
    }

    /// Lets `us` microseconds of capture time pass before the next frame.
    pub fn wait(&mut self, us: u64) {
        self.usec += us;
    }

    pub fn into_inner(self) -> W {
        self.out.into_inner()
    }

    /// One TCP segment from `src` to `dst`. Written with etherparse's header types rather than
    /// its `PacketBuilder`, which would compute the checksums these captures leave zero.
    pub fn tcp(&mut self, src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), seq: u32, ack: u32, flags: u8, payload: &[u8]) -> io::Result<()> {
        self.tcp_cut(src, dst, seq, ack, flags, payload, 0)
    }

    /// The same, followed on the wire by `unseen` more payload bytes that the frame does not
    /// hold: the IP length and the frame's original length count them, as in a capture cut by
    /// its snap length. (A `PacketBuilder` computes the lengths from the payload it is given.)
    #[allow(clippy::too_many_arguments)] // a segment's fields, in the wire's order
    pub fn tcp_cut(
        &mut self,
        src: (Ipv4Addr, u16),
        dst: (Ipv4Addr, u16),
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
        unseen: u16,
    ) -> io::Result<()> {
        self.usec += 1;
        let tcp = segment::header(src.1, dst.1, seq, ack, flags, 0xffff);
        let mut ip = Ipv4Header::new(0, 64, IpNumber::TCP, src.0.octets(), dst.0.octets()).expect("no options");
        let on_wire = tcp.header_len() + payload.len() + usize::from(unseen);
        ip.set_payload_len(on_wire).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let ethernet = Ethernet2Header { source: [2, 0, 0, 0, 0, 1], destination: [2, 0, 0, 0, 0, 2], ether_type: EtherType::IPV4 };
        let f = &mut self.frame;
        f.clear();
        f.extend_from_slice(&ethernet.to_bytes());
        f.extend_from_slice(&ip.to_bytes());
        f.extend_from_slice(&tcp.to_bytes());
        f.extend_from_slice(payload);
        self.out.write_packet(Timestamp(self.usec as i64 * 1000), f, (f.len() + usize::from(unseen)) as u32)
    }
}

const SERVER: (Ipv4Addr, u16) = (Ipv4Addr::new(203, 0, 113, 21), 21);
const CLIENT: (Ipv4Addr, u16) = (Ipv4Addr::new(192, 0, 2, 21), 40000);

/// The `i`-th source address of many: 10.0.0.0/8 and 1,000 ports, all different.
fn source(i: u64) -> (Ipv4Addr, u16) {
    let host = (i / 1000) as u32;
    (Ipv4Addr::from(0x0a00_0000 | (host & 0x00ff_ffff)), 20_000 + (i % 1000) as u16)
}

pub fn syn_flood<W: Write>(out: W, n: u64) -> io::Result<W> {
    let mut p = Pcap::new(out)?;
    for i in 0..n {
        p.tcp(source(i), SERVER, i as u32, 0, SYN, &[])?;
    }
    Ok(p.into_inner())
}

pub fn idle_flows<W: Write>(out: W, n: u64) -> io::Result<W> {
    let mut p = Pcap::new(out)?;
    for i in 0..n {
        let (c, isn) = (source(i), i as u32);
        p.tcp(c, SERVER, isn, 0, SYN, &[])?;
        p.tcp(SERVER, c, !isn, isn.wrapping_add(1), SYN | ACK, &[])?;
        p.tcp(c, SERVER, isn.wrapping_add(1), (!isn).wrapping_add(1), ACK, &[])?;
    }
    Ok(p.into_inner())
}

/// A control connection in progress: the next sequence number each way.
struct Session<W: Write> {
    p: Pcap<W>,
    cseq: u32,
    sseq: u32,
}

impl<W: Write> Session<W> {
    /// Handshake, banner, login.
    fn open(out: W) -> io::Result<Session<W>> {
        let mut p = Pcap::new(out)?;
        p.tcp(CLIENT, SERVER, 999, 0, SYN, &[])?;
        p.tcp(SERVER, CLIENT, 4999, 1000, SYN | ACK, &[])?;
        p.tcp(CLIENT, SERVER, 1000, 5000, ACK, &[])?;
        let mut s = Session { p, cseq: 1000, sseq: 5000 };
        s.server(b"220 (vsFTPd 3.0.5)\r\n")?;
        s.client(b"USER anonymous\r\n")?;
        s.server(b"331 Please specify the password.\r\n")?;
        s.client(b"PASS guest@\r\n")?;
        s.server(b"230 Login successful.\r\n")?;
        Ok(s)
    }

    fn client(&mut self, data: &[u8]) -> io::Result<()> {
        self.p.tcp(CLIENT, SERVER, self.cseq, self.sseq, PSH | ACK, data)?;
        self.cseq = self.cseq.wrapping_add(data.len() as u32);
        Ok(())
    }

    fn server(&mut self, data: &[u8]) -> io::Result<()> {
        self.p.tcp(SERVER, CLIENT, self.sseq, self.cseq, PSH | ACK, data)?;
        self.sseq = self.sseq.wrapping_add(data.len() as u32);
        Ok(())
    }

    /// QUIT, 221, FIN both ways.
    fn close(mut self) -> io::Result<W> {
        self.client(b"QUIT\r\n")?;
        self.server(b"221 Goodbye.\r\n")?;
        self.end()
    }

    /// FIN both ways (after TLS, QUIT would be encrypted).
    fn end(mut self) -> io::Result<W> {
        self.p.tcp(SERVER, CLIENT, self.sseq, self.cseq, FIN | ACK, &[])?;
        self.p.tcp(CLIENT, SERVER, self.cseq, self.sseq.wrapping_add(1), FIN | ACK, &[])?;
        Ok(self.p.into_inner())
    }
}

pub fn ports<W: Write>(out: W, n: u64) -> io::Result<W> {
    let mut s = Session::open(out)?;
    for i in 0..n {
        let port = 1024 + (i % 60_000) as u16;
        s.client(format!("PORT 192,0,2,21,{},{}\r\n", port >> 8, port & 0xff).as_bytes())?;
        s.server(b"200 PORT command successful. Consider using PASV.\r\n")?;
    }
    s.close()
}

pub fn endless_line<W: Write>(out: W, n: u64) -> io::Result<W> {
    let mut s = Session::open(out)?;
    let chunk = [b'A'; 1448];
    s.client(b"SITE ")?;
    let mut left = n;
    while left > 0 {
        let take = left.min(chunk.len() as u64) as usize;
        s.client(&chunk[..take])?;
        left -= take as u64;
    }
    s.client(b"\r\n")?;
    s.server(b"500 Unknown SITE command.\r\n")?;
    s.close()
}

pub fn one_byte_segments<W: Write>(out: W, n: u64) -> io::Result<W> {
    let mut s = Session::open(out)?;
    const BLOCK: u64 = 4096;
    let commands: Vec<u8> = b"NOOP\r\n".iter().copied().cycle().take(BLOCK as usize).collect();
    let mut sent = 0;
    while sent < n {
        let block = BLOCK.min(n - sent) as usize;
        let base = s.cseq;
        for i in (0..block).rev() {
            s.p.tcp(CLIENT, SERVER, base.wrapping_add(i as u32), s.sseq, ACK, &commands[i..i + 1])?;
        }
        s.cseq = base.wrapping_add(block as u32);
        sent += block as u64;
    }
    s.server(b"200 NOOP ok.\r\n")?;
    s.close()
}

pub fn conflicting_retransmissions<W: Write>(out: W, n: u64) -> io::Result<W> {
    let mut s = Session::open(out)?;
    for _ in 0..n {
        let seq = s.cseq;
        s.client(b"NOOP\r\n")?;
        // The same sequence numbers, other bytes: which copy did the server read?
        s.p.tcp(CLIENT, SERVER, seq, s.sseq, PSH | ACK, b"QUIT\r\n")?;
        s.server(b"200 NOOP ok.\r\n")?;
    }
    s.close()
}

pub fn tls_connections<W: Write>(out: W, n: u64) -> io::Result<W> {
    let mut s = Session::open(out)?;
    s.client(b"AUTH TLS\r\n")?;
    s.server(b"234 Proceed with negotiation.\r\n")?;
    for i in 0..n {
        // Each its own connection: 40,000 client ports to each server port from 50,000.
        let (from, to) = ((CLIENT.0, 10_000 + (i % 40_000) as u16), (SERVER.0, 50_000 + (i / 40_000) as u16));
        s.p.tcp(from, to, i as u32, 0, SYN, &[])?;
        // Refused, and 10 ms apart: each connection closes and leaves the flow table (5 to 10 s
        // after), so that at most about 1,000 are held at any n and only the bound under test
        // holds what grows with n.
        s.p.tcp(to, from, 0, (i as u32).wrapping_add(1), RST | ACK, &[])?;
        s.p.wait(10_000);
    }
    s.end()
}

/// Sessions open at once in `tls_sessions`: past the 16 a host keeps, and the same at any n.
const OPEN_AT_ONCE: usize = 32;

pub fn tls_sessions<W: Write>(out: W, n: u64) -> io::Result<W> {
    let mut p = Pcap::new(out)?;
    // The open sessions' client endpoints and next sequence numbers each way, oldest first.
    let mut open = std::collections::VecDeque::with_capacity(OPEN_AT_ONCE);
    let close = |p: &mut Pcap<W>, (client, c, s): ((Ipv4Addr, u16), u32, u32)| -> io::Result<()> {
        p.tcp(client, SERVER, c, s, FIN | ACK, &[])?;
        p.tcp(SERVER, client, s, c.wrapping_add(1), FIN | ACK, &[])
    };
    for i in 0..n {
        let client = (CLIENT.0, 10_000 + i as u16);
        let (mut c, mut s) = (i as u32 * 1000, !(i as u32 * 1000));
        p.tcp(client, SERVER, c, 0, SYN, &[])?;
        p.tcp(SERVER, client, s, c.wrapping_add(1), SYN | ACK, &[])?;
        (c, s) = (c.wrapping_add(1), s.wrapping_add(1));
        p.tcp(client, SERVER, c, s, ACK, &[])?;
        for (from_client, line) in
            [(false, &b"220 (vsFTPd 3.0.5)\r\n"[..]), (true, b"AUTH TLS\r\n"), (false, b"234 Proceed with negotiation.\r\n")]
        {
            if from_client {
                p.tcp(client, SERVER, c, s, PSH | ACK, line)?;
                c = c.wrapping_add(line.len() as u32);
            } else {
                p.tcp(SERVER, client, s, c, PSH | ACK, line)?;
                s = s.wrapping_add(line.len() as u32);
            }
        }
        open.push_back((client, c, s));
        // 100 ms a session: what is held for a while after a session ends (its close grace,
        // 5 s; NAT pairing's window, 15 s; a closed connection's key) covers the same few
        // sessions at any n, so memory measures the hosts' bound, not every session of a
        // capture held at once (at 10 ms, 1.52 times the memory for 4 times the sessions).
        p.wait(100_000);
        if open.len() == OPEN_AT_ONCE {
            close(&mut p, open.pop_front().expect("full"))?;
        }
    }
    for session in open {
        close(&mut p, session)?;
    }
    Ok(p.into_inner())
}

/// Every generator by name (examples/hostile.rs, tests/hostile.rs).
pub type Generator = fn(Box<dyn Write + Send>, u64) -> io::Result<Box<dyn Write + Send>>;

pub const ALL: [(&str, Generator); 8] = [
    ("syn-flood", syn_flood),
    ("idle-flows", idle_flows),
    ("ports", ports),
    ("endless-line", endless_line),
    ("one-byte-segments", one_byte_segments),
    ("conflicting-retransmissions", conflicting_retransmissions),
    ("tls-connections", tls_connections),
    ("tls-sessions", tls_sessions),
];
