//! Link, IP, TCP and ICMP decoding: one captured frame's bytes in, a [`Decoded`] value out.
//!
//! Owns: link types (Ethernet with 802.1Q/QinQ, Linux cooked v1/v2, raw IP, BSD NULL/loopback),
//! IPv4 and IPv6 (with extension headers), TCP, and ICMP/ICMPv6 destination-unreachable messages
//! quoting a TCP header. IP fragments of TCP datagrams are handed on as [`Fragment`]s: putting
//! them back together needs state in frame order, which [`defrag`] keeps for the analyzer.
//! Must not touch: flows, reassembly, FTP. Never panics on any input.

// Input from the wire: no arithmetic that can overflow, no index that can panic (issue 7).
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

pub mod defrag;

use std::net::{IpAddr, SocketAddr};

use etherparse::err::ip::LaxHeaderSliceError;
use etherparse::{IpAuthHeaderSlice, IpNumber, Ipv6ExtensionsSlice, Ipv6FragmentHeaderSlice, Ipv6RawExtHeaderSlice, LaxIpSlice, TcpSlice};

pub use crate::model::LinkType;

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
    /// The IPv4 TTL or IPv6 hop limit as captured (0 when unknown): an initial value (64, 128,
    /// 255) says the capture is on the sender's own host or link, before any router.
    pub ttl: u8,
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
    /// The quoted TCP sequence number (within the 8 bytes RFC 792 guarantees), when quoted.
    pub quoted_seq: Option<u32>,
}

/// Which datagram an IP fragment belongs to. IPv4 keys on source, destination, protocol and
/// identification (RFC 791), IPv6 on source, destination and the Fragment header's
/// identification (RFC 8200); only fragments of TCP datagrams are handed on, so the protocol is
/// TCP for both and not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatagramId {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The IPv4 identification (16 bits) or the IPv6 Fragment header's (32 bits).
    pub id: u32,
}

/// One IP fragment of a TCP datagram (IPv4 with more-fragments set or a non-zero offset, or an
/// IPv6 Fragment header that fragments): its bytes, and where they go in the datagram's payload
/// (what follows the IPv4 header, or the IPv6 Fragment header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment<'a> {
    pub datagram: DatagramId,
    /// Byte offset of `payload` in the datagram's payload (the header's offset times 8).
    pub offset: u32,
    /// More fragments follow; false on the last one.
    pub more: bool,
    /// The captured bytes (the snap length may have cut them: the datagram then stays incomplete).
    pub payload: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<'a> {
    Tcp(TcpSegment<'a>),
    Unreachable(Unreachable),
    /// A piece of a fragmented TCP datagram, for the reassembler ([`defrag`]).
    Fragment(Fragment<'a>),
    /// Well-formed but of no interest (UDP, ARP, a fragment of anything but TCP ...).
    Ignored,
    /// The link type is not one ftpscope decodes.
    Unsupported,
}

/// A decoded frame that does not borrow the frame's bytes (the TCP payload is kept as a range
/// into them): decoding can run on the thread that read the frame, and the analysis picks the
/// result up with the same bytes ([`Detached::attach`]).
#[derive(Debug, Clone)]
pub struct Detached(Result<DetachedKind, DecodeError>);

#[derive(Debug, Clone)]
enum DetachedKind {
    /// The segment with an empty payload, and where its payload lies in the frame.
    Tcp(TcpSegment<'static>, std::ops::Range<usize>),
    Unreachable(Unreachable),
    /// The fragment with an empty payload, and where its payload lies in the frame.
    Fragment(Fragment<'static>, std::ops::Range<usize>),
    Ignored,
    Unsupported,
}

impl Detached {
    /// Decodes `data` (see [`decode`]) and detaches the result from it.
    pub fn decode(link: LinkType, data: &[u8], orig_len: u32) -> Detached {
        Detached(decode(link, data, orig_len).map(|d| match d {
            Decoded::Tcp(seg) => DetachedKind::Tcp(TcpSegment { payload: &[], ..seg }, place_in(data, seg.payload)),
            Decoded::Fragment(f) => DetachedKind::Fragment(Fragment { payload: &[], ..f }, place_in(data, f.payload)),
            Decoded::Unreachable(u) => DetachedKind::Unreachable(u),
            Decoded::Ignored => DetachedKind::Ignored,
            Decoded::Unsupported => DetachedKind::Unsupported,
        }))
    }

    /// The decoded frame again, borrowing from `data`: the bytes it was decoded from.
    pub fn attach<'a>(&self, data: &'a [u8]) -> Result<Decoded<'a>, DecodeError> {
        match &self.0 {
            Ok(DetachedKind::Tcp(seg, range)) => {
                Ok(Decoded::Tcp(TcpSegment { payload: data.get(range.clone()).unwrap_or_default(), ..seg.clone() }))
            }
            Ok(DetachedKind::Fragment(f, range)) => {
                Ok(Decoded::Fragment(Fragment { payload: data.get(range.clone()).unwrap_or_default(), ..f.clone() }))
            }
            Ok(DetachedKind::Unreachable(u)) => Ok(Decoded::Unreachable(u.clone())),
            Ok(DetachedKind::Ignored) => Ok(Decoded::Ignored),
            Ok(DetachedKind::Unsupported) => Ok(Decoded::Unsupported),
            Err(e) => Err(e.clone()),
        }
    }
}

/// Where `part`, a sub-slice of `data` (or empty), lies in it.
fn place_in(data: &[u8], part: &[u8]) -> std::ops::Range<usize> {
    let start = (part.as_ptr() as usize).wrapping_sub(data.as_ptr() as usize);
    if part.is_empty() || start > data.len() {
        0..0
    } else {
        // Within `data`, so the end cannot overflow; `attach` reads it with `get` anyway.
        start..start.saturating_add(part.len())
    }
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
///
/// Borrows from `data` and allocates nothing: this runs once per packet.
pub fn decode(link: LinkType, data: &[u8], orig_len: u32) -> Result<Decoded<'_>, DecodeError> {
    // Bytes the snap length removed from the end of the frame. The IP length fields say how many
    // bytes the packet should have; this caps that claim so a bogus length field in a frame that
    // was captured whole is not mistaken for a cut.
    let cut = (orig_len as usize).saturating_sub(data.len());
    match link {
        LinkType::Ethernet => ether_typed(&ETHERNET, data, cut),
        LinkType::LinuxSll => ether_typed(&LINUX_SLL, data, cut),
        LinkType::LinuxSll2 => ether_typed(&LINUX_SLL2, data, cut),
        // etherparse picks IPv4 or IPv6 from the version nibble, which is all raw IP needs.
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => ip(data, cut),
        LinkType::Null | LinkType::Loop => {
            let (header, rest) = data.split_first_chunk::<NULL_HEADER_LEN>().ok_or(DecodeError::Truncated("loopback"))?;
            let be = u32::from_be_bytes(*header);
            // DLT_NULL stores the family in the capturing host's byte order, which the file does
            // not record: small values are unambiguous, so try both. DLT_LOOP is always network order.
            let family = if link == LinkType::Loop || be <= 0xFFFF { be } else { be.swap_bytes() };
            match family {
                AF_INET | AF_INET6_LINUX | AF_INET6_BSD | AF_INET6_FREEBSD | AF_INET6_DARWIN => ip(rest, cut),
                _ => Ok(Decoded::Ignored),
            }
        }
        LinkType::Other(_) => Ok(Decoded::Unsupported),
    }
}

// Link-layer field offsets (all big-endian on the wire except the DLT_NULL family).
/// A link header of fixed length that names its payload with an EtherType.
struct EtherTypedHeader {
    name: &'static str,
    len: usize,
    type_offset: usize,
}
const ETHERNET: EtherTypedHeader = EtherTypedHeader { name: "Ethernet", len: 14, type_offset: 12 };
/// Linux cooked v1: packet type, ARPHRD type, address length, 8 address bytes, protocol.
const LINUX_SLL: EtherTypedHeader = EtherTypedHeader { name: "Linux cooked", len: 16, type_offset: 14 };
/// Linux cooked v2: protocol first, then reserved, ifindex, ARPHRD type, packet type, address.
const LINUX_SLL2: EtherTypedHeader = EtherTypedHeader { name: "Linux cooked v2", len: 20, type_offset: 0 };
/// An 802.1Q/802.1ad tag: 2 bytes of tag control, then the next EtherType.
const VLAN_TAG_LEN: usize = 4;
const VLAN_TYPE_OFFSET: usize = 2;
const NULL_HEADER_LEN: usize = 4;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
/// Pre-standard QinQ outer tag, still emitted by some switches.
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

const AF_INET: u32 = 2;
const AF_INET6_LINUX: u32 = 10;
const AF_INET6_BSD: u32 = 24;
const AF_INET6_FREEBSD: u32 = 28;
const AF_INET6_DARWIN: u32 = 30;

/// ICMP header length before the quoted packet (type, code, checksum, 4 bytes unused/MTU).
const ICMP_HEADER_LEN: usize = 8;
const ICMPV4_DEST_UNREACHABLE: u8 = 3;
const ICMPV4_TIME_EXCEEDED: u8 = 11;
const ICMPV6_DEST_UNREACHABLE: u8 = 1;
const ICMPV6_TIME_EXCEEDED: u8 = 3;
const IPV6_HEADER_LEN: usize = 40;

/// The big-endian u16 at `at`, if `bytes` holds it.
fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    bytes.get(at..)?.first_chunk().map(|b| u16::from_be_bytes(*b))
}

fn ether_typed<'a>(link: &EtherTypedHeader, data: &'a [u8], cut: usize) -> Result<Decoded<'a>, DecodeError> {
    let truncated = || DecodeError::Truncated(link.name);
    // The EtherType lies inside the header: a frame long enough for the header has it.
    let rest = data.get(link.len..).ok_or_else(truncated)?;
    by_ether_type(be16(data, link.type_offset).ok_or_else(truncated)?, rest, cut)
}

/// Skips any stack of VLAN tags (802.1Q, QinQ), then dispatches on the final EtherType.
fn by_ether_type(mut ether_type: u16, mut rest: &[u8], cut: usize) -> Result<Decoded<'_>, DecodeError> {
    // Each tag consumes 4 bytes, so the loop ends with the data.
    while matches!(ether_type, ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD) {
        let (tag, after) = rest.split_first_chunk::<VLAN_TAG_LEN>().ok_or(DecodeError::Truncated("VLAN"))?;
        ether_type = u16::from_be_bytes([tag[VLAN_TYPE_OFFSET], tag[VLAN_TYPE_OFFSET + 1]]);
        rest = after;
    }
    match ether_type {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => ip(rest, cut),
        // ARP, LLDP, 802.3 length fields, ...
        _ => Ok(Decoded::Ignored),
    }
}

/// Parses the IP layer laxly (a snap-length cut or an unset length field still yields the
/// headers) and dispatches on the transport protocol.
fn ip(bytes: &[u8], cut: usize) -> Result<Decoded<'_>, DecodeError> {
    if let Some(plain) = plain_ipv4_tcp(bytes) {
        return Ok(Decoded::Tcp(plain.segment(bytes)));
    }
    general_ip(bytes, cut)
}

/// The common case read directly: IPv4 without options, not a fragment, carrying a whole
/// TCP header, its length field within the captured bytes. Anything else (and anything odd) is
/// left to [`general_ip`], which gives the same result for these packets (a property test
/// checks it); this runs for nearly every packet of a capture.
// Inlined into its two callers: called, its result went through memory, 32 more instructions
// per packet on the reader thread (callgrind, a-10000).
#[inline(always)]
fn plain_ipv4_tcp(bytes: &[u8]) -> Option<PlainTcp> {
    // Fixed-size views: every field below is read at a constant offset the type guarantees.
    let ip: &[u8; 20] = bytes.first_chunk()?;
    // More-fragments flag and offset: any fragment is left to the general parser (same cost).
    if ip[0] != 0x45 || ip[9] != 6 || u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0 {
        return None;
    }
    let total = u32::from(u16::from_be_bytes([ip[2], ip[3]]));
    if total < 40 || total as usize > bytes.len() {
        return None;
    }
    let header: &[u8; 20] = bytes.get(20..)?.first_chunk()?;
    // The data offset counts 32-bit words: at most 15 * 4 = 60 bytes.
    let header_len = u32::from(header[12] >> 4).wrapping_mul(4);
    // The payload starts after both headers, and within the packet's length.
    let payload_start = header_len.wrapping_add(20);
    if header_len < 20 || payload_start > total {
        return None;
    }
    let flags = header[13];
    Some(PlainTcp {
        src: [ip[12], ip[13], ip[14], ip[15]],
        dst: [ip[16], ip[17], ip[18], ip[19]],
        src_port: u16::from_be_bytes([header[0], header[1]]),
        dst_port: u16::from_be_bytes([header[2], header[3]]),
        seq: u32::from_be_bytes([header[4], header[5], header[6], header[7]]),
        ack: u32::from_be_bytes([header[8], header[9], header[10], header[11]]),
        flags: TcpFlags { fin: flags & 0x01 != 0, syn: flags & 0x02 != 0, rst: flags & 0x04 != 0, ack: flags & 0x10 != 0 },
        ttl: ip[8],
        payload: (payload_start, total),
    })
}

/// What [`plain_ipv4_tcp`] reads: the fields without the std address types (36 bytes; a
/// [`TcpSegment`] takes 104), the payload as offsets into the bytes it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PlainTcp {
    src: [u8; 4],
    dst: [u8; 4],
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    ttl: u8,
    /// Start and end of the payload; the end is where the IP packet's total length ends.
    payload: (u32, u32),
}

impl PlainTcp {
    /// The segment, its payload borrowed from `bytes`: those it was read from.
    fn segment<'a>(&self, bytes: &'a [u8]) -> TcpSegment<'a> {
        let address = |ip: [u8; 4], port| SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::from(ip)), port);
        TcpSegment {
            src: address(self.src, self.src_port),
            dst: address(self.dst, self.dst_port),
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            payload: bytes.get(self.payload.0 as usize..self.payload.1 as usize).unwrap_or_default(),
            // The length field fits in what was captured: nothing is missing.
            missing: 0,
            ttl: self.ttl,
        }
    }
}

/// A frame that [`Plain::decode`] read: a plain IPv4 TCP segment ([`plain_ipv4_tcp`]) behind
/// a link header of fixed length, its payload placed in the frame. The fast path for decoding
/// on the reader's thread: no std address types built there, and 36 bytes to keep per frame
/// where a [`Detached`] takes 120.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plain(PlainTcp);

impl Plain {
    /// The frame as [`decode`] reads it when it is a plain IPv4 TCP segment behind an Ethernet
    /// II (untagged), Linux cooked or raw IP link header; None for anything else.
    #[inline]
    pub fn decode(link: LinkType, data: &[u8]) -> Option<Plain> {
        let ip_at = match link {
            LinkType::Ethernet => ipv4_after(&ETHERNET, data)?,
            LinkType::LinuxSll => ipv4_after(&LINUX_SLL, data)?,
            LinkType::LinuxSll2 => ipv4_after(&LINUX_SLL2, data)?,
            LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => 0,
            _ => return None,
        };
        let mut tcp = plain_ipv4_tcp(data.get(ip_at as usize..)?)?;
        // From the IP packet's start to the frame's: both ends are below 2^16 + 20.
        tcp.payload = (tcp.payload.0.saturating_add(ip_at), tcp.payload.1.saturating_add(ip_at));
        Some(Plain(tcp))
    }

    /// The decoded frame, borrowing from `data`: the bytes it was decoded from.
    pub fn attach<'a>(&self, data: &'a [u8]) -> Decoded<'a> {
        Decoded::Tcp(self.0.segment(data))
    }
}

/// Where the IP packet starts behind `link`'s header, when its EtherType says IPv4.
fn ipv4_after(link: &EtherTypedHeader, data: &[u8]) -> Option<u32> {
    let ip_at = u32::try_from(link.len).ok()?;
    (be16(data, link.type_offset)? == ETHERTYPE_IPV4).then_some(ip_at)
}

fn general_ip(bytes: &[u8], cut: usize) -> Result<Decoded<'_>, DecodeError> {
    let (packet, ext_error) = LaxIpSlice::from_slice(bytes).map_err(|e| ip_error(e, bytes))?;
    // Before the extension headers' errors: after an IPv6 Fragment header come fragment bytes,
    // which etherparse may have tried to read as more headers.
    if let Some(fragment) = tcp_fragment(&packet, bytes) {
        return Ok(Decoded::Fragment(fragment));
    }
    if is_later_fragment(&packet) {
        // A later fragment of something other than TCP.
        return Ok(Decoded::Ignored);
    }
    if let Some((error, _layer)) = ext_error {
        return Err(match error {
            etherparse::err::ipv6_exts::HeaderSliceError::Len(_) => DecodeError::Truncated("IP extension"),
            etherparse::err::ipv6_exts::HeaderSliceError::Content(_) => DecodeError::Malformed("IP extension"),
        });
    }
    let payload = packet.payload();
    match payload.ip_number {
        IpNumber::TCP => tcp(&packet, payload.payload, missing_bytes(&packet, bytes.len(), cut)),
        IpNumber::ICMP if matches!(packet, LaxIpSlice::Ipv4(_)) => icmp(&packet, payload.payload),
        IpNumber::IPV6_ICMP if matches!(packet, LaxIpSlice::Ipv6(_)) => icmp(&packet, payload.payload),
        _ => Ok(Decoded::Ignored),
    }
}

fn ip_error(error: LaxHeaderSliceError, bytes: &[u8]) -> DecodeError {
    let name = match bytes.first().map(|b| b >> 4) {
        Some(4) => "IPv4",
        Some(6) => "IPv6",
        _ => "IP",
    };
    match error {
        LaxHeaderSliceError::Len(_) => DecodeError::Truncated(name),
        LaxHeaderSliceError::Content(_) => DecodeError::Malformed(name),
    }
}

/// The packet as a fragment of a TCP datagram (the first one too: its TCP header alone is not
/// the segment); None when it is not fragmented, or not TCP (the first fragment of an ICMP error
/// is still read as one).
fn tcp_fragment<'a>(packet: &LaxIpSlice<'a>, bytes: &'a [u8]) -> Option<Fragment<'a>> {
    match packet {
        LaxIpSlice::Ipv4(v4) => {
            let header = v4.header();
            if !header.is_fragmenting_payload() || header.protocol() != IpNumber::TCP {
                return None;
            }
            Some(Fragment {
                datagram: DatagramId { src: packet.source_addr(), dst: packet.destination_addr(), id: u32::from(header.identification()) },
                offset: u32::from(header.fragments_offset().byte_offset()),
                more: header.more_fragments(),
                payload: v4.payload().payload,
            })
        }
        LaxIpSlice::Ipv6(v6) => {
            if !v6.is_payload_fragmented() {
                return None;
            }
            // The first Fragment header that fragments (an atomic one, offset 0 and no more
            // fragments, leaves the packet whole: RFC 8200 4.5).
            let header = v6_fragment_headers(v6.extensions()).find(|f| f.is_fragmenting_payload())?;
            if header.next_header() != IpNumber::TCP {
                return None;
            }
            // The fragment's bytes follow its header, up to the end of the IPv6 payload as
            // the length field (or the capture) bounds it.
            let end = (IPV6_HEADER_LEN + usize::from(v6.header().payload_length())).min(bytes.len());
            let start = place_in(bytes, header.slice()).end;
            Some(Fragment {
                datagram: DatagramId { src: packet.source_addr(), dst: packet.destination_addr(), id: header.identification() },
                offset: u32::from(header.fragment_offset().byte_offset()),
                more: header.more_fragments(),
                payload: bytes.get(start..end).unwrap_or_default(),
            })
        }
    }
}

/// True for a fragment with a non-zero offset (it holds no transport header).
fn is_later_fragment(packet: &LaxIpSlice<'_>) -> bool {
    match packet {
        LaxIpSlice::Ipv4(v4) => v4.header().fragments_offset().value() != 0,
        // Cheap flag first: the extension headers are walked only when a fragment header exists.
        LaxIpSlice::Ipv6(v6) => {
            v6.is_payload_fragmented() && v6_fragment_headers(v6.extensions()).any(|f| f.fragment_offset().value() != 0)
        }
    }
}

/// The Fragment headers in a chain of IPv6 extension headers, each header checked against the
/// bytes before it is read. Not etherparse's own iterator (0.21): after a lax parse that stopped
/// inside the chain, the last header it validated names a next extension header that is not in
/// the slice, and the iterator reads it unchecked, past the slice's end (found by fuzzing:
/// fuzz/README.md).
fn v6_fragment_headers<'a>(chain: &Ipv6ExtensionsSlice<'a>) -> impl Iterator<Item = Ipv6FragmentHeaderSlice<'a>> {
    let mut next = chain.first_header();
    let mut rest = chain.slice();
    std::iter::from_fn(move || loop {
        let header = next.take()?;
        let (len, after, fragment) = match header {
            IpNumber::IPV6_FRAGMENTATION_HEADER => {
                let f = Ipv6FragmentHeaderSlice::from_slice(rest).ok()?;
                (f.slice().len(), f.next_header(), Some(f))
            }
            IpNumber::IPV6_HEADER_HOP_BY_HOP | IpNumber::IPV6_ROUTE_HEADER | IpNumber::IPV6_DESTINATION_OPTIONS => {
                let h = Ipv6RawExtHeaderSlice::from_slice(rest).ok()?;
                (h.slice().len(), h.next_header(), None)
            }
            IpNumber::AUTHENTICATION_HEADER => {
                let h = IpAuthHeaderSlice::from_slice(rest).ok()?;
                (h.slice().len(), h.next_header(), None)
            }
            _ => return None,
        };
        rest = rest.get(len..)?;
        next = Some(after);
        if fragment.is_some() {
            return fragment;
        }
    })
}

/// Payload bytes the IP length field promises beyond what was captured, capped by what the
/// capture says it cut. A zero length field (IPv4 TSO, IPv6 jumbo/BIG TCP) promises nothing,
/// and Linux GSO super-segments larger than the MTU carry a correct length: neither is a cut.
fn missing_bytes(packet: &LaxIpSlice<'_>, captured: usize, cut: usize) -> u32 {
    let declared = match packet {
        LaxIpSlice::Ipv4(v4) => usize::from(v4.header().total_len()),
        LaxIpSlice::Ipv6(v6) => match v6.header().payload_length() {
            0 => 0,
            len => IPV6_HEADER_LEN + usize::from(len),
        },
    };
    if declared == 0 {
        return 0;
    }
    let missing = declared.saturating_sub(captured).min(cut);
    u32::try_from(missing).unwrap_or(u32::MAX)
}

fn tcp<'a>(packet: &LaxIpSlice<'a>, bytes: &'a [u8], missing: u32) -> Result<Decoded<'a>, DecodeError> {
    let segment = TcpSlice::from_slice(bytes).map_err(|e| match e {
        etherparse::err::tcp::HeaderSliceError::Len(_) => DecodeError::Truncated("TCP"),
        etherparse::err::tcp::HeaderSliceError::Content(_) => DecodeError::Malformed("TCP"),
    })?;
    Ok(Decoded::Tcp(TcpSegment {
        src: SocketAddr::new(packet.source_addr(), segment.source_port()),
        dst: SocketAddr::new(packet.destination_addr(), segment.destination_port()),
        seq: segment.sequence_number(),
        ack: segment.acknowledgment_number(),
        flags: TcpFlags { syn: segment.syn(), ack: segment.ack(), fin: segment.fin(), rst: segment.rst() },
        payload: segment.payload(),
        missing,
        ttl: match packet {
            LaxIpSlice::Ipv4(v4) => v4.header().ttl(),
            LaxIpSlice::Ipv6(v6) => v6.header().hop_limit(),
        },
    }))
}

/// ICMP/ICMPv6 errors that quote a TCP packet: the reply a SYN gets from a router or host that
/// cannot deliver it. Only the quoted TCP ports are read: RFC 792 guarantees just 8 bytes of it.
fn icmp<'a>(packet: &LaxIpSlice<'a>, bytes: &'a [u8]) -> Result<Decoded<'a>, DecodeError> {
    let (header, quoted_bytes) = bytes.split_first_chunk::<ICMP_HEADER_LEN>().ok_or(DecodeError::Truncated("ICMP"))?;
    let (icmp_type, icmp_code) = (header[0], header[1]);
    let is_error = match packet {
        LaxIpSlice::Ipv4(_) => matches!(icmp_type, ICMPV4_DEST_UNREACHABLE | ICMPV4_TIME_EXCEEDED),
        LaxIpSlice::Ipv6(_) => matches!(icmp_type, ICMPV6_DEST_UNREACHABLE | ICMPV6_TIME_EXCEEDED),
    };
    if !is_error {
        return Ok(Decoded::Ignored);
    }
    // The quoted packet's length fields describe the original, longer packet: lax slicing
    // falls back to the bytes present.
    let (quoted, ext_error) = LaxIpSlice::from_slice(quoted_bytes).map_err(|e| match e {
        LaxHeaderSliceError::Len(_) => DecodeError::Truncated("ICMP quoted IP"),
        LaxHeaderSliceError::Content(_) => DecodeError::Malformed("ICMP quoted IP"),
    })?;
    if is_later_fragment(&quoted) {
        return Ok(Decoded::Ignored);
    }
    if ext_error.is_some() {
        return Err(DecodeError::Truncated("ICMP quoted IP"));
    }
    let payload = quoted.payload();
    if payload.ip_number != IpNumber::TCP {
        return Ok(Decoded::Ignored);
    }
    let (ports, after_ports) = payload.payload.split_first_chunk::<4>().ok_or(DecodeError::Truncated("ICMP quoted TCP"))?;
    Ok(Decoded::Unreachable(Unreachable {
        reporter: packet.source_addr(),
        icmp_type,
        icmp_code,
        quoted_src: SocketAddr::new(quoted.source_addr(), u16::from_be_bytes([ports[0], ports[1]])),
        quoted_dst: SocketAddr::new(quoted.destination_addr(), u16::from_be_bytes([ports[2], ports[3]])),
        quoted_seq: after_ports.first_chunk().map(|b| u32::from_be_bytes(*b)),
    }))
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const CLIENT4: [u8; 4] = [192, 168, 1, 10];
    const SERVER4: [u8; 4] = [203, 0, 113, 5];
    const CLIENT6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10];
    const SERVER6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05];

    /// An IPv4 packet carrying a TCP segment from CLIENT4:40000 to SERVER4:21.
    fn ipv4_tcp(payload: &[u8]) -> Vec<u8> {
        let builder = PacketBuilder::ipv4(CLIENT4, SERVER4, 64).tcp(40000, 21, 1000, 65535).ack(2000);
        let mut out = Vec::new();
        builder.write(&mut out, payload).unwrap();
        out
    }

    fn ipv4_syn() -> Vec<u8> {
        let builder = PacketBuilder::ipv4(CLIENT4, SERVER4, 64).tcp(40000, 21, 1000, 65535).syn();
        let mut out = Vec::new();
        builder.write(&mut out, &[]).unwrap();
        out
    }

    fn ipv6_tcp(payload: &[u8]) -> Vec<u8> {
        let builder = PacketBuilder::ipv6(CLIENT6, SERVER6, 64).tcp(40000, 21, 1000, 65535).ack(2000);
        let mut out = Vec::new();
        builder.write(&mut out, payload).unwrap();
        out
    }

    fn ethernet(ether_type: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
        out.extend_from_slice(&ether_type.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn vlan_tag(id: u16, next: u16) -> Vec<u8> {
        let mut out = id.to_be_bytes().to_vec();
        out.extend_from_slice(&next.to_be_bytes());
        out
    }

    fn sll(protocol: u16, payload: &[u8]) -> Vec<u8> {
        // packet type 0 (to us), ARPHRD_ETHER, address length 6, address padded to 8.
        let mut out = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
        out.extend_from_slice(&protocol.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn sll2(protocol: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = protocol.to_be_bytes().to_vec();
        out.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
        out.extend_from_slice(payload);
        out
    }

    fn expect_tcp<'a>(decoded: Result<Decoded<'a>, DecodeError>) -> TcpSegment<'a> {
        match decoded {
            Ok(Decoded::Tcp(segment)) => segment,
            other => panic!("expected a TCP segment, got {other:?}"),
        }
    }

    fn decode_whole(link: LinkType, frame: &[u8]) -> Result<Decoded<'_>, DecodeError> {
        decode(link, frame, frame.len() as u32)
    }

    #[test]
    fn ethernet_ipv4_tcp() {
        let frame = ethernet(ETHERTYPE_IPV4, &ipv4_tcp(b"USER ftp\r\n"));
        let segment = expect_tcp(decode_whole(LinkType::Ethernet, &frame));
        assert_eq!(segment.src, SocketAddr::new(Ipv4Addr::from(CLIENT4).into(), 40000));
        assert_eq!(segment.dst, SocketAddr::new(Ipv4Addr::from(SERVER4).into(), 21));
        assert_eq!((segment.seq, segment.ack), (1000, 2000));
        assert_eq!(segment.flags, TcpFlags { ack: true, ..TcpFlags::default() });
        assert_eq!(segment.payload, b"USER ftp\r\n");
        assert_eq!(segment.missing, 0);
    }

    #[test]
    fn ethernet_padding_is_not_payload() {
        let mut frame = ethernet(ETHERTYPE_IPV4, &ipv4_syn());
        frame.resize(60, 0);
        let segment = expect_tcp(decode_whole(LinkType::Ethernet, &frame));
        assert!(segment.flags.syn && !segment.flags.ack);
        assert_eq!(segment.payload, b"");
    }

    #[test]
    fn vlan_and_qinq() {
        let ip = ipv4_tcp(b"PASV\r\n");
        let mut single = vlan_tag(100, ETHERTYPE_IPV4);
        single.extend_from_slice(&ip);
        let frame = ethernet(ETHERTYPE_VLAN, &single);
        assert_eq!(expect_tcp(decode_whole(LinkType::Ethernet, &frame)).payload, b"PASV\r\n");

        let mut double = vlan_tag(10, ETHERTYPE_VLAN);
        double.extend_from_slice(&vlan_tag(200, ETHERTYPE_IPV4));
        double.extend_from_slice(&ip);
        for outer in [ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD] {
            let frame = ethernet(outer, &double);
            assert_eq!(expect_tcp(decode_whole(LinkType::Ethernet, &frame)).payload, b"PASV\r\n");
        }
    }

    #[test]
    fn linux_cooked_v1_and_v2() {
        let ip = ipv6_tcp(b"EPSV\r\n");
        let v1 = sll(ETHERTYPE_IPV6, &ip);
        let segment = expect_tcp(decode_whole(LinkType::LinuxSll, &v1));
        assert_eq!(segment.dst, SocketAddr::new(Ipv6Addr::from(SERVER6).into(), 21));
        assert_eq!(segment.payload, b"EPSV\r\n");
        let v2 = sll2(ETHERTYPE_IPV6, &ip);
        assert_eq!(expect_tcp(decode_whole(LinkType::LinuxSll2, &v2)).payload, b"EPSV\r\n");
        // ARP over cooked capture is of no interest.
        assert_eq!(decode_whole(LinkType::LinuxSll, &sll(0x0806, &[0; 28])), Ok(Decoded::Ignored));
    }

    #[test]
    fn raw_ip_and_ip_link_types() {
        let v4 = ipv4_tcp(b"x");
        let v6 = ipv6_tcp(b"y");
        assert_eq!(expect_tcp(decode_whole(LinkType::Raw, &v4)).payload, b"x");
        assert_eq!(expect_tcp(decode_whole(LinkType::Raw, &v6)).payload, b"y");
        assert_eq!(expect_tcp(decode_whole(LinkType::Ipv4, &v4)).payload, b"x");
        assert_eq!(expect_tcp(decode_whole(LinkType::Ipv6, &v6)).payload, b"y");
        assert_eq!(decode_whole(LinkType::Raw, &[0x50; 40]), Err(DecodeError::Malformed("IP")));
    }

    #[test]
    fn bsd_null_both_byte_orders_and_loop() {
        let v4 = ipv4_tcp(b"a");
        let v6 = ipv6_tcp(b"b");
        for header in [AF_INET.to_le_bytes(), AF_INET.to_be_bytes()] {
            let frame = [&header[..], &v4].concat();
            assert_eq!(expect_tcp(decode_whole(LinkType::Null, &frame)).payload, b"a");
        }
        for family in [10u32, 24, 28, 30] {
            for header in [family.to_le_bytes(), family.to_be_bytes()] {
                let frame = [&header[..], &v6].concat();
                assert_eq!(expect_tcp(decode_whole(LinkType::Null, &frame)).payload, b"b");
            }
            let frame = [&family.to_be_bytes()[..], &v6].concat();
            assert_eq!(expect_tcp(decode_whole(LinkType::Loop, &frame)).payload, b"b");
        }
        // Unknown family (AF_APPLETALK 16), and DLT_LOOP does not accept host order.
        let frame = [&16u32.to_le_bytes()[..], &v4].concat();
        assert_eq!(decode_whole(LinkType::Null, &frame), Ok(Decoded::Ignored));
        let frame = [&2u32.to_le_bytes()[..], &v4].concat();
        assert_eq!(decode_whole(LinkType::Loop, &frame), Ok(Decoded::Ignored));
    }

    #[test]
    fn unknown_link_type_is_unsupported() {
        assert_eq!(decode_whole(LinkType::Other(147), &[1, 2, 3]), Ok(Decoded::Unsupported));
        assert_eq!(decode_whole(LinkType::from_linktype(105), &[]), Ok(Decoded::Unsupported));
    }

    /// Inserts an 8-byte hop-by-hop header (one PadN option) after the IPv6 header.
    fn with_hop_by_hop(mut packet: Vec<u8>) -> Vec<u8> {
        let next = packet[6];
        let hop_by_hop = [next, 0, 1, 4, 0, 0, 0, 0];
        packet[6] = 0;
        let len = be16(&packet, 4).unwrap() + 8;
        packet[4..6].copy_from_slice(&len.to_be_bytes());
        packet.splice(40..40, hop_by_hop);
        packet
    }

    #[test]
    fn ipv6_with_hop_by_hop_header() {
        let packet = with_hop_by_hop(ipv6_tcp(b"LIST\r\n"));
        let frame = ethernet(ETHERTYPE_IPV6, &packet);
        let segment = expect_tcp(decode_whole(LinkType::Ethernet, &frame));
        assert_eq!(segment.payload, b"LIST\r\n");
        assert_eq!(segment.src.port(), 40000);
    }

    #[test]
    fn fragments_of_tcp_go_to_the_reassembler() {
        let whole = ipv4_tcp(b"data");
        let ip_payload = &whole[20..];
        let mut later = whole.clone();
        later[6..8].copy_from_slice(&0x0010u16.to_be_bytes()); // offset 16 * 8 bytes, last
        let datagram = DatagramId { src: Ipv4Addr::from(CLIENT4).into(), dst: Ipv4Addr::from(SERVER4).into(), id: 0 };
        let fragment = |offset, more, payload| Ok(Decoded::Fragment(Fragment { datagram, offset, more, payload }));
        assert_eq!(decode_whole(LinkType::Raw, &later), fragment(128, false, ip_payload));
        // The first fragment (more-fragments set, offset 0) holds the TCP header, but not the
        // whole segment: the fast path must leave it to the reassembler too.
        let mut first = whole.clone();
        first[6] = 0x20;
        assert_eq!(plain_ipv4_tcp(&first), None);
        assert_eq!(decode_whole(LinkType::Raw, &first), fragment(0, true, ip_payload));
        // Through the link layer and detached, the payload is the same bytes.
        let frame = ethernet(ETHERTYPE_IPV4, &first);
        let detached = Detached::decode(LinkType::Ethernet, &frame, frame.len() as u32);
        assert_eq!(detached.attach(&frame), fragment(0, true, ip_payload));

        // IPv6: a Fragment header with offset 8 (bytes 2..4 = offset << 3), identification 1.
        let mut v6 = ipv6_tcp(b"data");
        let next = v6[6];
        v6[6] = 44;
        let len = be16(&v6, 4).unwrap() + 8;
        v6[4..6].copy_from_slice(&len.to_be_bytes());
        v6.splice(40..40, [next, 0, 0, 8 << 3, 0, 0, 0, 1]);
        let datagram = DatagramId { src: Ipv6Addr::from(CLIENT6).into(), dst: Ipv6Addr::from(SERVER6).into(), id: 1 };
        let expected = Fragment { datagram, offset: 64, more: false, payload: &v6[48..] };
        assert_eq!(decode_whole(LinkType::Raw, &v6), Ok(Decoded::Fragment(expected)));
        // An atomic fragment (offset 0, no more fragments) is a whole packet (RFC 8200 4.5).
        v6[42..44].copy_from_slice(&[0, 0]);
        assert_eq!(expect_tcp(decode_whole(LinkType::Raw, &v6)).payload, b"data");

        // Fragments of other protocols are of no interest.
        let builder = PacketBuilder::ipv4(CLIENT4, SERVER4, 64).udp(5353, 53);
        let mut udp = Vec::new();
        builder.write(&mut udp, b"query").unwrap();
        udp[6..8].copy_from_slice(&0x0010u16.to_be_bytes());
        assert_eq!(decode_whole(LinkType::Raw, &udp), Ok(Decoded::Ignored));
    }

    #[test]
    fn icmpv4_unreachable_quoting_a_syn() {
        // A router answers the client's SYN with "host unreachable"; it quotes the IP header
        // and the first 8 bytes of TCP.
        let syn = ipv4_syn();
        let quoted = &syn[..20 + 8];
        let router = [10, 0, 0, 1];
        let builder = PacketBuilder::ipv4(router, CLIENT4, 64).icmpv4_raw(3, 1, [0; 4]);
        let mut packet = Vec::new();
        builder.write(&mut packet, quoted).unwrap();
        let frame = ethernet(ETHERTYPE_IPV4, &packet);
        let expected = Unreachable {
            reporter: Ipv4Addr::from(router).into(),
            icmp_type: 3,
            icmp_code: 1,
            quoted_src: SocketAddr::new(Ipv4Addr::from(CLIENT4).into(), 40000),
            quoted_dst: SocketAddr::new(Ipv4Addr::from(SERVER4).into(), 21),
            quoted_seq: Some(1000),
        };
        assert_eq!(decode_whole(LinkType::Ethernet, &frame), Ok(Decoded::Unreachable(expected)));

        // Echo reply: not an error message.
        let builder = PacketBuilder::ipv4(router, CLIENT4, 64).icmpv4_raw(0, 0, [0; 4]);
        let mut echo = Vec::new();
        builder.write(&mut echo, b"ping").unwrap();
        assert_eq!(decode_whole(LinkType::Raw, &echo), Ok(Decoded::Ignored));
    }

    #[test]
    fn icmpv6_unreachable_quoting_a_syn() {
        let builder = PacketBuilder::ipv6(CLIENT6, SERVER6, 64).tcp(40001, 2121, 7, 1000).syn();
        let mut syn = Vec::new();
        builder.write(&mut syn, &[]).unwrap();
        let quoted = &syn[..40 + 8];
        let builder = PacketBuilder::ipv6(SERVER6, CLIENT6, 64).icmpv6_raw(1, 4, [0; 4]);
        let mut packet = Vec::new();
        builder.write(&mut packet, quoted).unwrap();
        let expected = Unreachable {
            reporter: Ipv6Addr::from(SERVER6).into(),
            icmp_type: 1,
            icmp_code: 4,
            quoted_src: SocketAddr::new(Ipv6Addr::from(CLIENT6).into(), 40001),
            quoted_dst: SocketAddr::new(Ipv6Addr::from(SERVER6).into(), 2121),
            quoted_seq: Some(7),
        };
        assert_eq!(decode_whole(LinkType::Raw, &packet), Ok(Decoded::Unreachable(expected)));
    }

    #[test]
    fn udp_and_arp_are_ignored() {
        let builder = PacketBuilder::ipv4(CLIENT4, SERVER4, 64).udp(5353, 53);
        let mut udp = Vec::new();
        builder.write(&mut udp, b"q").unwrap();
        assert_eq!(decode_whole(LinkType::Ethernet, &ethernet(ETHERTYPE_IPV4, &udp)), Ok(Decoded::Ignored));
        assert_eq!(decode_whole(LinkType::Ethernet, &ethernet(0x0806, &[0; 28])), Ok(Decoded::Ignored));
    }

    #[test]
    fn snap_length_cut_counts_missing_payload() {
        let payload = [b'x'; 100];
        let frame = ethernet(ETHERTYPE_IPV4, &ipv4_tcp(&payload));
        let captured = &frame[..14 + 20 + 20 + 30];
        let segment = expect_tcp(decode(LinkType::Ethernet, captured, frame.len() as u32));
        assert_eq!(segment.payload.len(), 30);
        assert_eq!(segment.missing, 70);

        let frame6 = sll(ETHERTYPE_IPV6, &ipv6_tcp(&payload));
        let captured = &frame6[..16 + 40 + 20 + 1];
        let segment = expect_tcp(decode(LinkType::LinuxSll, captured, frame6.len() as u32));
        assert_eq!((segment.payload.len(), segment.missing), (1, 99));

        // Cut right after the TCP header: no payload captured, all of it missing.
        let captured = &frame[..14 + 20 + 20];
        let segment = expect_tcp(decode(LinkType::Ethernet, captured, frame.len() as u32));
        assert_eq!((segment.payload.len(), segment.missing), (0, 100));
    }

    #[test]
    fn length_fields_that_promise_nothing_mean_nothing_missing() {
        // TSO: IPv4 total length 0, the segment is all there.
        let mut packet = ipv4_tcp(&[b'y'; 3000]);
        packet[2..4].copy_from_slice(&[0, 0]);
        let segment = expect_tcp(decode_whole(LinkType::Raw, &packet));
        assert_eq!((segment.payload.len(), segment.missing), (3000, 0));
        // A length field larger than the frame the capture says it saw whole is no snap cut.
        let mut packet = ipv4_tcp(b"abc");
        packet[2..4].copy_from_slice(&1000u16.to_be_bytes());
        let segment = expect_tcp(decode_whole(LinkType::Raw, &packet));
        assert_eq!((segment.payload, segment.missing), (&b"abc"[..], 0));
        // GSO: larger than any MTU, length field correct.
        let big = ipv6_tcp(&[b'z'; 30000]);
        let segment = expect_tcp(decode_whole(LinkType::Ipv6, &big));
        assert_eq!((segment.payload.len(), segment.missing), (30000, 0));
    }

    #[test]
    fn every_prefix_of_every_frame_decodes_without_panic() {
        let v4 = ipv4_tcp(b"RETR file\r\n");
        let v6 = with_hop_by_hop(ipv6_tcp(b"STOR file\r\n"));
        let mut qinq = vlan_tag(10, ETHERTYPE_VLAN);
        qinq.extend_from_slice(&vlan_tag(20, ETHERTYPE_IPV6));
        qinq.extend_from_slice(&v6);
        let builder = PacketBuilder::ipv4([10, 0, 0, 1], CLIENT4, 64).icmpv4_raw(3, 3, [0; 4]);
        let mut icmp = Vec::new();
        builder.write(&mut icmp, &ipv4_syn()[..28]).unwrap();
        let frames = [
            (LinkType::Ethernet, ethernet(ETHERTYPE_IPV4, &v4)),
            (LinkType::Ethernet, ethernet(ETHERTYPE_QINQ, &qinq)),
            (LinkType::Ethernet, ethernet(ETHERTYPE_IPV4, &icmp)),
            (LinkType::LinuxSll, sll(ETHERTYPE_IPV4, &v4)),
            (LinkType::LinuxSll2, sll2(ETHERTYPE_IPV6, &v6)),
            (LinkType::Raw, v6.clone()),
            (LinkType::Null, [&2u32.to_le_bytes()[..], &v4].concat()),
            (LinkType::Loop, [&24u32.to_be_bytes()[..], &v6].concat()),
        ];
        for (link, frame) in &frames {
            assert!(matches!(decode_whole(*link, frame), Ok(Decoded::Tcp(_) | Decoded::Unreachable(_))));
            for len in 0..frame.len() {
                let prefix = &frame[..len];
                // Both as a snap-length cut and as a frame that claims to be whole.
                let _ = decode(*link, prefix, frame.len() as u32);
                let _ = decode(*link, prefix, len as u32);
                let _ = decode(*link, prefix, 0);
            }
        }
        assert_eq!(decode(LinkType::Ethernet, &[], 0), Err(DecodeError::Truncated("Ethernet")));
        let cut_in_tcp = &frames[0].1[..14 + 20 + 10];
        assert_eq!(decode(LinkType::Ethernet, cut_in_tcp, 200), Err(DecodeError::Truncated("TCP")));
    }

    #[test]
    fn detached_decoding_gives_the_same_result_on_the_same_bytes() {
        let frames = [ethernet(ETHERTYPE_IPV4, &ipv4_tcp(b"PASV\r\n")), ethernet(ETHERTYPE_IPV4, &ipv4_syn()), ethernet(0x0806, &[0; 28])];
        for frame in frames {
            let len = frame.len() as u32;
            let copy = frame.clone();
            assert_eq!(Detached::decode(LinkType::Ethernet, &frame, len).attach(&copy), decode(LinkType::Ethernet, &copy, len));
        }
        assert_eq!(Plain::decode(LinkType::Ethernet, &ethernet(0x0806, &[0; 28])), None);
    }

    #[test]
    fn the_fast_path_reads_plain_frames_as_decode_does() {
        let v4 = ipv4_tcp(b"PASV\r\n");
        let frames = [
            (LinkType::Ethernet, ethernet(ETHERTYPE_IPV4, &v4)),
            (LinkType::LinuxSll, sll(ETHERTYPE_IPV4, &v4)),
            (LinkType::LinuxSll2, sll2(ETHERTYPE_IPV4, &v4)),
            (LinkType::Raw, v4.clone()),
            (LinkType::Ethernet, ethernet(ETHERTYPE_IPV4, &ipv4_syn())),
        ];
        for (link, frame) in frames {
            let plain = Plain::decode(link, &frame).expect("a plain IPv4 TCP frame");
            assert_eq!(Ok(plain.attach(&frame)), decode(link, &frame, frame.len() as u32));
        }
        // Left to the general decoder: IPv6, VLAN tags, loopback.
        assert_eq!(Plain::decode(LinkType::Ethernet, &ethernet(ETHERTYPE_IPV6, &ipv6_tcp(b"x"))), None);
        let mut tagged = vlan_tag(10, ETHERTYPE_IPV4);
        tagged.extend_from_slice(&v4);
        assert_eq!(Plain::decode(LinkType::Ethernet, &ethernet(ETHERTYPE_VLAN, &tagged)), None);
        assert_eq!(Plain::decode(LinkType::Null, &[&2u32.to_le_bytes()[..], &v4].concat()), None);
        assert_eq!(Detached::decode(LinkType::Ethernet, &[1, 2], 2).attach(&[1, 2]), Err(DecodeError::Truncated("Ethernet")));
    }

    mod hostile {
        use super::super::*;
        use proptest::prelude::*;

        /// Found by fuzzing (fuzz/README.md): an IPv6 packet cut inside its Fragment header.
        /// etherparse's own walk of the extension chain read past the slice there (a panic
        /// with debug assertions, an out-of-bounds read without).
        #[test]
        fn an_ipv6_packet_cut_in_its_extension_chain_is_read_within_its_bytes() {
            let frame = [
                2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd, // Ethernet, IPv6
                0x60, 0, 0, 0, 0x10, 0x58, 44, 195, // 4184 bytes of payload promised, next: Fragment
                0x51, 1, 13, 184, 0, 1, 0, 0, 0, 0, 0, 0, 121, 0, 0, 0, 1, 134, 221, 20, 93, 38, 0, 0, 0, 41, 0, 0, 2, 2, 0, 121, 0, 0, 0,
                1, 93, 38, 0, 0, // 8 of the Fragment header's bytes, and not all of them
            ];
            let decoded = decode(LinkType::Ethernet, &frame, frame.len() as u32);
            assert_eq!(Detached::decode(LinkType::Ethernet, &frame, frame.len() as u32).attach(&frame), decoded);
            let chain = match LaxIpSlice::from_slice(&frame[14..]) {
                Ok((LaxIpSlice::Ipv6(v6), _)) => v6.extensions().clone(),
                other => panic!("{other:?}"),
            };
            assert!(v6_fragment_headers(&chain).all(|f| f.slice().len() == 8));
        }

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), orig_len: u32) {
                for link in [LinkType::Ethernet, LinkType::LinuxSll, LinkType::LinuxSll2, LinkType::Raw,
                             LinkType::Null, LinkType::Loop] {
                    let direct = decode(link, &bytes, orig_len);
                    prop_assert_eq!(Detached::decode(link, &bytes, orig_len).attach(&bytes), direct.clone());
                    if let Some(plain) = Plain::decode(link, &bytes) {
                        prop_assert_eq!(Ok(plain.attach(&bytes)), direct);
                    }
                }
            }

            /// Random bytes behind a valid IPv4 or IPv6 header start reach the deeper parsers.
            #[test]
            fn arbitrary_ip_payloads_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..120),
                                                 protocol in prop_oneof![Just(6u8), Just(1), Just(58), Just(0), Just(44)],
                                                 v6: bool) {
                let mut packet = if v6 {
                    let mut h = vec![0x60, 0, 0, 0, 0, tail.len() as u8, protocol, 64];
                    h.extend_from_slice(&[1; 32]);
                    h
                } else {
                    vec![0x45, 0, 0, 20 + tail.len() as u8, 0, 0, 0, 0, 64, protocol, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]
                };
                packet.extend_from_slice(&tail);
                let _ = decode(LinkType::Raw, &packet, packet.len() as u32 + 50);
            }
        }

        proptest! {
            // Most random headers are left to the general parser: enough cases that many are not.
            #![proptest_config(ProptestConfig::with_cases(4096))]

            /// The IPv4/TCP fast path reads what the general parser reads, or leaves the packet
            /// to it: random headers (options, fragments, odd lengths and offsets) and payloads.
            #[test]
            fn fast_path_agrees_with_the_general_parser(
                version_ihl in prop_oneof![Just(0x45u8), Just(0x46), Just(0x44), Just(0x55), any::<u8>()],
                total in prop_oneof![0u16..100, any::<u16>()],
                fragment in prop_oneof![Just(0u16), Just(0x4000), Just(0x2000), any::<u16>()],
                protocol in prop_oneof![Just(6u8), any::<u8>()],
                data_offset in prop_oneof![Just(5u8), 0u8..16],
                flags: u8,
                tail in proptest::collection::vec(any::<u8>(), 0..80),
                cut in 0usize..100,
            ) {
                let mut packet = vec![version_ihl, 0, 0, 0, 0, 0, 0, 0, 64, protocol, 0, 0, 10, 0, 0, 1, 203, 0, 113, 5];
                packet[2..4].copy_from_slice(&total.to_be_bytes());
                packet[6..8].copy_from_slice(&fragment.to_be_bytes());
                let mut tcp = vec![0x9c, 0x40, 0, 21, 1, 2, 3, 4, 5, 6, 7, 8, data_offset << 4, flags, 0xff, 0xff, 0, 0, 0, 0];
                tcp.extend_from_slice(&tail);
                packet.extend_from_slice(&tcp);
                if let Some(fast) = plain_ipv4_tcp(&packet) {
                    prop_assert_eq!(Ok(Decoded::Tcp(fast.segment(&packet))), general_ip(&packet, cut));
                }
            }
        }
    }
}
