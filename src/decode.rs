//! Link, IP, TCP and ICMP decoding: one captured frame's bytes in, a [`Decoded`] value out.
//!
//! Owns: link types (Ethernet with 802.1Q/QinQ, Linux cooked v1/v2, raw IP, BSD NULL/loopback),
//! IPv4 and IPv6 (with extension headers), TCP, and ICMP/ICMPv6 destination-unreachable messages
//! quoting a TCP header. Must not touch: flows, reassembly, FTP. Never panics on any input.

use std::net::{IpAddr, SocketAddr};

/// The link-layer header type of a capture interface (pcap LINKTYPE_ values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    Ethernet,
    /// Linux cooked capture v1 (`tcpdump -i any`).
    LinuxSll,
    /// Linux cooked capture v2 (`tcpdump -y LINUX_SLL2`).
    LinuxSll2,
    /// Raw IP, version taken from the first nibble (LINKTYPE_RAW, DLT_RAW 12/14).
    Raw,
    Ipv4,
    Ipv6,
    /// BSD loopback (DLT_NULL, host byte order family) and OpenBSD DLT_LOOP (network order).
    Null,
    Loop,
    /// Anything else: its packets decode to [`Decoded::Unsupported`].
    Other(u32),
}

impl LinkType {
    /// Maps a pcap/pcapng LINKTYPE_ number.
    pub fn from_linktype(value: u32) -> LinkType {
        match value {
            1 => LinkType::Ethernet,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            12 | 14 | 101 => LinkType::Raw,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            0 => LinkType::Null,
            108 => LinkType::Loop,
            other => LinkType::Other(other),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
}

/// One TCP segment. `payload` holds the captured bytes; `missing` counts payload bytes the
/// snap length cut off (they are a gap, not data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub payload: &'a [u8],
    pub missing: u32,
}

/// An ICMP or ICMPv6 destination-unreachable (or time-exceeded) message quoting a TCP header:
/// the answer a router or host gives to a SYN it cannot deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable {
    /// Who sent the ICMP message.
    pub reporter: IpAddr,
    /// ICMP type and code, as on the wire (v4: 3/x or 11/x; v6: 1/x or 3/x).
    pub icmp_type: u8,
    pub icmp_code: u8,
    /// The quoted (original) packet's source and destination.
    pub quoted_src: SocketAddr,
    pub quoted_dst: SocketAddr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<'a> {
    Tcp(TcpSegment<'a>),
    Unreachable(Unreachable),
    /// Well-formed but of no interest (UDP, ARP, an IP fragment after the first ...).
    Ignored,
    /// The link type is not one ftpscope decodes.
    Unsupported,
}

/// Why a frame could not be decoded. Counted by the analyzer, never fatal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame too short for its {0} header")]
    Truncated(&'static str),
    #[error("malformed {0} header")]
    Malformed(&'static str),
}

/// Decodes one frame. `orig_len` is the frame's length on the wire, which may exceed
/// `data.len()` when the snap length cut it.
pub fn decode(link: LinkType, data: &[u8], orig_len: u32) -> Result<Decoded<'_>, DecodeError> {
    let _ = (link, data, orig_len);
    unimplemented!("decode: being written")
}
