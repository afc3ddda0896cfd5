//! The packet decoder on arbitrary frames of every link type it reads (and one it does not):
//! Ethernet with VLAN tags, Linux cooked v1/v2, raw IP, BSD loopback; IPv4/IPv6 with extension
//! headers, TCP, ICMP errors quoting TCP. Never a panic, and decoding on another thread
//! (`Detached`) and the fast path for plain IPv4 TCP frames (`Plain`) give the same result.
#![no_main]

use ftpscope::decode::{decode, Detached, LinkType, Plain};
use libfuzzer_sys::fuzz_target;

/// LINKTYPE_ numbers: Ethernet, Linux SLL, SLL2, raw (three spellings), IPv4, IPv6, NULL, LOOP,
/// and one ftpscope does not decode.
const LINKTYPES: [u32; 11] = [1, 113, 276, 12, 14, 101, 228, 229, 0, 108, 147];

fuzz_target!(|input: &[u8]| {
    let [pick, cut_hi, cut_lo, data @ ..] = input else { return };
    let link = LinkType::from_linktype(LINKTYPES[usize::from(*pick) % LINKTYPES.len()]);
    // A snap length may have cut the frame: its length on the wire is up to 64 KiB more.
    let orig_len = (data.len() as u32).saturating_add(u32::from(u16::from_be_bytes([*cut_hi, *cut_lo])));
    let direct = decode(link, data, orig_len);
    if let Ok(ftpscope::decode::Decoded::Tcp(seg)) = &direct {
        let range = data.as_ptr_range();
        assert!(seg.payload.is_empty() || range.contains(&seg.payload.as_ptr()), "the payload lies in the frame");
    }
    assert_eq!(Detached::decode(link, data, orig_len).attach(data), direct, "detached decoding agrees");
    if let Some(plain) = Plain::decode(link, data) {
        assert_eq!(Ok(plain.attach(data)), direct, "the fast path agrees");
    }
});
