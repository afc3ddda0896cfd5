//! One passive FTP session with transfers whose data segments reach the capture in a chosen
//! order (lost, late, shuffled, the FIN first), for the crafted captures of tests/extract.rs
//! and the 1 GiB capture of bench/extract.sh (examples/big_transfer.rs). A file's bytes are a
//! function of their offset ([`body_at`]), so a transfer of any size is written without holding
//! it.

#![allow(dead_code)] // each includer uses part of it

use super::hostile::segment::{ACK, FIN, PSH, SYN};
use super::hostile::Pcap;
use std::io::{self, Write};
use std::net::Ipv4Addr;

pub const SERVER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 21);
pub const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 21);
pub const MSS: usize = 1000;

/// How a transfer's data segments reach the capture.
#[derive(Clone, Copy, PartialEq)]
pub enum Arrival {
    InOrder,
    /// Segment `k` is never captured (lost before the capture point, never retransmitted).
    Lost(usize),
    /// The server's FIN is captured before the last two data segments.
    FinFirst,
    /// Every other pair of segments swapped, and each segment captured twice.
    Shuffled,
    /// One pair of segments in `n` swapped, the later one captured again after them.
    Swapped(usize),
    /// The server's SYN-ACK is not captured: where its stream began is not known.
    NoSynAck,
    /// The capture ends after the data: no FIN either way, no 226.
    NoFin,
}

/// One passive session being written: its control connection, then transfers.
pub struct Session<W: Write> {
    p: Pcap<W>,
    cseq: u32,
    sseq: u32,
}

impl<W: Write> Session<W> {
    pub fn open(out: W) -> io::Result<Session<W>> {
        let mut p = Pcap::new(out)?;
        let (c, s) = ((CLIENT, 40_000), (SERVER, 21));
        p.tcp(c, s, 999, 0, SYN, &[])?;
        p.tcp(s, c, 4999, 1000, SYN | ACK, &[])?;
        p.tcp(c, s, 1000, 5000, ACK, &[])?;
        let mut session = Session { p, cseq: 1000, sseq: 5000 };
        for (from_client, line) in
            [(false, "220 (vsFTPd 3.0.5)"), (true, "USER anonymous"), (false, "331 Password?"), (true, "PASS x"), (false, "230 In.")]
        {
            session.line(from_client, line)?;
        }
        Ok(session)
    }

    pub fn line(&mut self, from_client: bool, text: &str) -> io::Result<()> {
        let mut bytes = text.as_bytes().to_vec();
        bytes.extend_from_slice(b"\r\n");
        let (c, s) = ((CLIENT, 40_000), (SERVER, 21));
        if from_client {
            self.p.tcp(c, s, self.cseq, self.sseq, PSH | ACK, &bytes)?;
            self.cseq = self.cseq.wrapping_add(bytes.len() as u32);
        } else {
            self.p.tcp(s, c, self.sseq, self.cseq, PSH | ACK, &bytes)?;
            self.sseq = self.sseq.wrapping_add(bytes.len() as u32);
        }
        Ok(())
    }

    /// PASV (port `port`), a data connection from client port `client_port` (server ISN
    /// `isn`), `command`, the `len` bytes of file `salt` ([`body_at`]) as `arrival` says, FIN
    /// both ways, 226.
    #[allow(clippy::too_many_arguments)] // a transfer's facts, in the order they happen
    pub fn transfer(
        &mut self,
        port: u16,
        client_port: u16,
        isn: u32,
        command: &str,
        len: usize,
        salt: u32,
        arrival: Arrival,
    ) -> io::Result<()> {
        self.line(true, "PASV")?;
        self.line(false, &format!("227 Entering Passive Mode (203,0,113,21,{},{}).", port >> 8, port & 0xff))?;
        let (dc, ds) = ((CLIENT, client_port), (SERVER, port));
        let cisn = isn.wrapping_add(77_777);
        self.p.tcp(dc, ds, cisn, 0, SYN, &[])?;
        if arrival != Arrival::NoSynAck {
            self.p.tcp(ds, dc, isn, cisn.wrapping_add(1), SYN | ACK, &[])?;
        }
        self.p.tcp(dc, ds, cisn.wrapping_add(1), isn.wrapping_add(1), ACK, &[])?;
        self.line(true, command)?;
        self.line(false, "150 Opening BINARY mode data connection.")?;
        let start = isn.wrapping_add(1);
        let ack = cisn.wrapping_add(1);
        let count = len.div_ceil(MSS);
        let mut buf = vec![0; MSS];
        let mut send = |p: &mut Pcap<W>, i: usize| -> io::Result<()> {
            let at = i * MSS;
            let piece = &mut buf[..MSS.min(len - at)];
            body_at(at, salt, piece);
            p.tcp(ds, dc, start.wrapping_add(at as u32), ack, PSH | ACK, piece)
        };
        let tail_from = if arrival == Arrival::FinFirst { count.saturating_sub(2) } else { count };
        let mut i = 0;
        while i < tail_from {
            match arrival {
                Arrival::Lost(k) if k == i => {}
                // Each pair swapped, each segment captured twice.
                Arrival::Shuffled if i + 1 < tail_from => {
                    for j in [i + 1, i + 1, i, i] {
                        send(&mut self.p, j)?;
                    }
                    i += 1;
                }
                Arrival::Shuffled => {
                    send(&mut self.p, i)?;
                    send(&mut self.p, i)?;
                }
                Arrival::Swapped(n) if i % n == 0 && i + 1 < tail_from => {
                    for j in [i + 1, i, i + 1] {
                        send(&mut self.p, j)?;
                    }
                    i += 1;
                }
                _ => send(&mut self.p, i)?,
            }
            i += 1;
        }
        if arrival == Arrival::NoFin {
            return Ok(());
        }
        let fin_seq = start.wrapping_add(len as u32);
        self.p.tcp(ds, dc, fin_seq, ack, FIN | ACK, &[])?;
        for i in tail_from..count {
            send(&mut self.p, i)?;
        }
        self.p.tcp(dc, ds, ack, fin_seq.wrapping_add(1), FIN | ACK, &[])?;
        self.line(false, "226 Transfer complete.")
    }

    /// The capture ends here, every connection still open.
    pub fn cut(self) -> io::Result<W> {
        let mut out = self.p.into_inner();
        out.flush()?;
        Ok(out)
    }

    pub fn close(mut self) -> io::Result<W> {
        self.line(true, "QUIT")?;
        self.line(false, "221 Goodbye.")?;
        let (c, s) = ((CLIENT, 40_000), (SERVER, 21));
        self.p.tcp(s, c, self.sseq, self.cseq, FIN | ACK, &[])?;
        self.p.tcp(c, s, self.cseq, self.sseq.wrapping_add(1), FIN | ACK, &[])?;
        let mut out = self.p.into_inner();
        out.flush()?;
        Ok(out)
    }
}

/// Bytes `at..at + out.len()` of file `salt`: each 4-byte word its own index (xor the salt), so
/// that any misplaced piece shows.
pub fn body_at(at: usize, salt: u32, out: &mut [u8]) {
    for (k, b) in out.iter_mut().enumerate() {
        let offset = at + k;
        *b = ((offset / 4) as u32 ^ salt).to_be_bytes()[offset % 4];
    }
}

/// The whole file `salt` of `len` bytes.
pub fn body(len: usize, salt: u32) -> Vec<u8> {
    let mut b = vec![0; len];
    body_at(0, salt, &mut b);
    b
}
