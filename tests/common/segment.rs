//! TCP headers for the capture generators: the crafted fixtures (examples/craft.rs), the
//! benchmark's synthetic capture (examples/gen_capture.rs) and the hostile captures
//! (tests/common/hostile.rs) share this file (each includes it with `#[path]`).
//!
//! Owns: the flags as the wire's bits (what the generators' scripts store) and which header
//! fields a flag set fills. Must not touch: IP, link layers, options, checksums (etherparse's
//! `PacketBuilder` computes lengths and checksums around the header; a generator that writes the
//! header itself leaves the checksum as it is).

#![allow(dead_code)] // each includer uses part of it

use etherparse::TcpHeader;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// A TCP header without options, its checksum zero. `flags` is a set of the bits above; the
/// acknowledgment number is written only with ACK (a sender leaves it zero otherwise).
pub fn header(src_port: u16, dst_port: u16, seq: u32, ack: u32, flags: u8, window: u16) -> TcpHeader {
    debug_assert_eq!(flags & !(FIN | SYN | RST | PSH | ACK), 0, "a flag the generators do not send");
    let mut h = TcpHeader::new(src_port, dst_port, seq, window);
    h.fin = flags & FIN != 0;
    h.syn = flags & SYN != 0;
    h.rst = flags & RST != 0;
    h.psh = flags & PSH != 0;
    h.ack = flags & ACK != 0;
    if h.ack {
        h.acknowledgment_number = ack;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes the generators wrote by hand before etherparse did: ports, sequence,
    /// acknowledgment, data offset 5, flags, window, checksum and urgent pointer zero.
    #[test]
    fn header_bytes_are_the_wire_layout() {
        let bytes = header(21, 40000, 0x0102_0304, 0x0a0b_0c0d, SYN | ACK, 0xfaf0).to_bytes();
        let want = [0, 21, 0x9c, 0x40, 1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 0x50, 0x12, 0xfa, 0xf0, 0, 0, 0, 0];
        assert_eq!(&bytes[..], &want[..]);
        let flags = [FIN, SYN, RST, PSH, ACK, FIN | PSH | ACK];
        let wire: Vec<u8> = flags.iter().map(|&f| header(1, 2, 3, 4, f, 5).to_bytes()[13]).collect();
        assert_eq!(wire, flags, "each flag on its own bit");
        assert_eq!(&header(1, 2, 3, 4, SYN, 5).to_bytes()[8..12], &[0; 4], "no acknowledgment number without ACK");
    }
}
