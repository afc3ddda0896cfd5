//! A segment's transport facts, recorded on its connection: when a segment opens a new
//! connection, which side is the server, its SYN, SYN-ACK, FIN, RST, the handshake's
//! acknowledgement and payload counts, and whether the segment changed the connection's state
//! (what a data connection's negotiation must be told).
//!
//! Owns nothing but these rules; must not know what the connection is to the analysis (its
//! role) nor touch sessions.

use crate::decode::{TcpSegment, Unreachable};
use crate::model::Timestamp;
use crate::tcp::flow::{Conn, Dir};

/// A SYN that opens a connection (not a SYN-ACK).
pub(super) fn is_opening(seg: &TcpSegment<'_>) -> bool {
    seg.flags.syn && !seg.flags.ack
}

/// Does `seg` open a new connection on the 4-tuple of `c`? A SYN with a new ISN on a connection
/// that was closed, or whose own SYN was answered (its FINs may be missing from the capture),
/// does: ports are reused. Before the SYN-ACK, the SYN is retried; a SYN-ACK seen before any
/// SYN may be its own SYN stamped late.
pub(super) fn opens_anew(c: &Conn, seg: &TcpSegment<'_>) -> bool {
    let reused = c.is_closed() || (c.synack_frame.is_some() && c.client_isn.is_some());
    reused && reopens(c.client_isn, seg)
}

/// Whether a segment on the endpoints of a connection that is over (client ISN `client_isn`:
/// a closed one, or one that ended and left the flow table) opens a new one: a SYN with
/// another ISN.
pub(super) fn reopens(client_isn: Option<u32>, seg: &TcpSegment<'_>) -> bool {
    is_opening(seg) && client_isn != Some(seg.seq)
}

/// The connection a first packet opens: its sender is the client, unless it is a SYN-ACK
/// (the SYN is not in the capture: one direction only).
pub(super) fn opened_by(seg: &TcpSegment<'_>, frame: u64, ts: Timestamp) -> Conn {
    if seg.flags.syn && seg.flags.ack {
        Conn::new(seg.dst, seg.src, frame, ts)
    } else {
        Conn::new(seg.src, seg.dst, frame, ts)
    }
}

/// The segment as stream data: text on a RST explains the reset (RFC 1122 4.2.2.12), it is
/// neither a line of the control channel nor bytes of a transfer.
pub(super) fn stream_part<'s, 'a>(seg: &'s TcpSegment<'a>) -> std::borrow::Cow<'s, TcpSegment<'a>> {
    if seg.flags.rst && (!seg.payload.is_empty() || seg.missing > 0) {
        std::borrow::Cow::Owned(TcpSegment { payload: &[], missing: 0, ..seg.clone() })
    } else {
        std::borrow::Cow::Borrowed(seg)
    }
}

/// Records `seg` on its connection. True when it changed the connection's state in a way its
/// negotiation must be told: a SYN (not retransmitted), a SYN-ACK, a FIN, a RST, or the first
/// acknowledgement where the SYN-ACK is missing. A retransmitted SYN changes only the SYN
/// count, which settling reads from the flow.
// Once per packet: inlined into `on_tcp`, as it was before that grew (measured: callgrind).
#[inline(always)]
pub(super) fn track(conn: &mut Conn, seg: &TcpSegment<'_>, frame: u64, ts: Timestamp) -> bool {
    let dir = conn.dir_of(seg.src);
    let opening = is_opening(seg);
    conn.last_frame = frame;
    conn.last_ts = ts;
    conn.sent |= 1 << dir as u8;
    // The SYN's sender acknowledging something proves the SYN-ACK came, captured or not.
    let handshake_acked =
        dir == Dir::ToServer && seg.flags.ack && !seg.flags.syn && !seg.flags.rst && conn.syn.is_some() && conn.handshake_acked.is_none();
    if handshake_acked {
        conn.handshake_acked = Some(frame);
    }
    if dir == Dir::ToClient && conn.server_ttl.is_none() && seg.ttl != 0 {
        conn.server_ttl = Some(seg.ttl);
    }
    if opening {
        if conn.syn.is_none() {
            conn.syn = Some((frame, ts));
            conn.client_isn = Some(seg.seq);
        }
        conn.syns = conn.syns.saturating_add(1);
        conn.last_syn_ts = ts;
    } else if seg.flags.syn && seg.flags.ack {
        conn.synack_frame.get_or_insert(frame);
        conn.server_isn = Some(seg.seq);
    }
    if seg.flags.rst && conn.rst.is_none() {
        conn.rst = Some((frame, dir));
    }
    if seg.flags.fin {
        conn.fin_frame.get_or_insert(frame);
        // One bit per direction: a retransmitted FIN closes nothing more.
        conn.fins |= 1 << dir as u8;
    }
    // Data on a SYN follows the SYN's own sequence number.
    let payload_seq = if seg.flags.syn { seg.seq.wrapping_add(1) } else { seg.seq };
    conn.count_payload(dir, payload_seq, (seg.payload.len() as u32).saturating_add(seg.missing));
    let retransmitted_syn = opening && conn.syns > 1;
    // An acknowledgement decides the outcome only where the SYN-ACK is missing.
    (seg.flags.syn && !retransmitted_syn) || seg.flags.fin || seg.flags.rst || (handshake_acked && conn.synack_frame.is_none())
}

/// Records an ICMP error that quotes the connection's SYN. False when it changes nothing: the
/// connection was answered or found unreachable already, or the error quotes another sequence
/// number (about an earlier connection on the same ports, or forged: RFC 5927).
pub(super) fn unreachable(conn: &mut Conn, u: &Unreachable, frame: u64) -> bool {
    if conn.synack_frame.is_some() || conn.unreachable.is_some() {
        return false;
    }
    if let (Some(quoted), Some(isn)) = (u.quoted_seq, conn.client_isn) {
        if quoted != isn {
            return false;
        }
    }
    conn.unreachable = Some((frame, u.icmp_type, u.icmp_code, u.reporter));
    true
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::decode::TcpFlags;
    use std::net::SocketAddr;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn seg<'a>(src: &str, dst: &str, seq: u32, flags: &str, payload: &'a [u8]) -> TcpSegment<'a> {
        let has = |c| flags.contains(c);
        let flags = TcpFlags { syn: has('S'), ack: has('A'), fin: has('F'), rst: has('R') };
        TcpSegment { src: addr(src), dst: addr(dst), seq, ack: 0, flags, payload, missing: 0, ttl: 0 }
    }

    const C: &str = "192.168.1.10:40001";
    const S: &str = "203.0.113.5:50000";

    #[test]
    fn a_syn_ack_without_its_syn_makes_its_sender_the_server() {
        let c = opened_by(&seg(S, C, 9, "SA", b""), 1, Timestamp(0));
        assert_eq!((c.client, c.server), (addr(C), addr(S)));
        let c = opened_by(&seg(C, S, 9, "S", b""), 1, Timestamp(0));
        assert_eq!((c.client, c.server), (addr(C), addr(S)));
    }

    #[test]
    fn the_state_changes_a_negotiation_is_told_of() {
        let mut c = opened_by(&seg(C, S, 100, "S", b""), 1, Timestamp(0));
        assert!(track(&mut c, &seg(C, S, 100, "S", b""), 1, Timestamp(0)), "the SYN");
        assert!(!track(&mut c, &seg(C, S, 100, "S", b""), 2, Timestamp(1)), "its retransmission: only the count");
        assert_eq!(c.syns, 2);
        // The SYN-ACK is not captured: the client's first acknowledgement shows it came.
        assert!(track(&mut c, &seg(C, S, 101, "A", b""), 3, Timestamp(2)));
        assert_eq!(c.handshake_acked, Some(3));
        assert!(!track(&mut c, &seg(C, S, 101, "A", b"data"), 4, Timestamp(3)), "data changes nothing");
        assert_eq!(c.bytes_to_server, 4);
        assert!(track(&mut c, &seg(S, C, 7, "FA", b""), 5, Timestamp(4)));
        assert_eq!((c.fin_frame, c.fins), (Some(5), 0b10));
        assert!(track(&mut c, &seg(S, C, 8, "R", b""), 6, Timestamp(5)));
        assert_eq!(c.rst, Some((6, Dir::ToClient)));
        assert_eq!((c.last_frame, c.sent), (6, 0b11));
    }

    #[test]
    fn an_acknowledgement_after_a_captured_syn_ack_changes_nothing() {
        let mut c = opened_by(&seg(C, S, 100, "S", b""), 1, Timestamp(0));
        track(&mut c, &seg(C, S, 100, "S", b""), 1, Timestamp(0));
        assert!(track(&mut c, &seg(S, C, 500, "SA", b""), 2, Timestamp(1)));
        assert_eq!((c.synack_frame, c.server_isn), (Some(2), Some(500)));
        assert!(!track(&mut c, &seg(C, S, 101, "A", b""), 3, Timestamp(2)));
    }

    #[test]
    fn a_new_isn_reopens_only_a_connection_that_ended_or_was_answered() {
        let mut c = opened_by(&seg(C, S, 100, "S", b""), 1, Timestamp(0));
        track(&mut c, &seg(C, S, 100, "S", b""), 1, Timestamp(0));
        assert!(!opens_anew(&c, &seg(C, S, 200, "S", b"")), "not answered yet: a retry");
        track(&mut c, &seg(S, C, 500, "SA", b""), 2, Timestamp(1));
        assert!(opens_anew(&c, &seg(C, S, 200, "S", b"")));
        assert!(!opens_anew(&c, &seg(C, S, 100, "S", b"")), "the same ISN: the same connection");
        assert!(!opens_anew(&c, &seg(S, C, 600, "SA", b"")), "only a SYN opens");
    }

    #[test]
    fn an_icmp_error_counts_only_for_the_syn_it_quotes_before_an_answer() {
        let mut c = opened_by(&seg(C, S, 100, "S", b""), 1, Timestamp(0));
        track(&mut c, &seg(C, S, 100, "S", b""), 1, Timestamp(0));
        let reporter = "198.51.100.1".parse().unwrap();
        let u = |seq| Unreachable { reporter, icmp_type: 3, icmp_code: 1, quoted_src: addr(C), quoted_dst: addr(S), quoted_seq: seq };
        assert!(!unreachable(&mut c, &u(Some(7)), 2), "about another connection on the same ports");
        assert!(unreachable(&mut c, &u(Some(100)), 3));
        assert_eq!(c.unreachable, Some((3, 3, 1, reporter)));
        assert!(!unreachable(&mut c, &u(None), 4), "once");
        let mut answered = opened_by(&seg(C, S, 100, "S", b""), 1, Timestamp(0));
        track(&mut answered, &seg(S, C, 500, "SA", b""), 2, Timestamp(1));
        assert!(!unreachable(&mut answered, &u(None), 3), "it was answered");
    }

    #[test]
    fn text_on_a_reset_is_not_stream_data() {
        let reset = seg(S, C, 1, "R", b"connection refused");
        assert!(stream_part(&reset).payload.is_empty());
        let data = seg(S, C, 1, "A", b"220 hi\r\n");
        assert_eq!(stream_part(&data).payload, b"220 hi\r\n");
    }
}
