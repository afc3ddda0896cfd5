//! Connections that opened before the negotiation announcing them was read: a data SYN stamped
//! a fraction of a millisecond before the 227 that announced it (a multi-queue NIC stamps each
//! queue on its own), or a 227 held behind a hole in the control stream until a retransmission
//! fills it, while the client, which had the original, already connected. Such a SYN matches no
//! expectation when it arrives; it is kept here for a short window of capture time and tied
//! when a negotiation it fits arrives (by the rules of [`super::Expectations::take_match`]: the
//! client's own connection first, then the best fit).
//!
//! Owns the window and its bounds. Must not touch the flows: the analyzer retags the
//! connection it is handed.

use super::{ByPort, Expectation};
use crate::model::MatchedBy;
use crate::Timestamp;
use std::net::SocketAddr;

/// How long (capture time) a SYN waits for the negotiation it belongs to. Timestamp skew
/// between NIC queues is far below a millisecond; the longer case is a reply lost between the
/// capture point and nothing (the capture dropped it, the client had it) and retransmitted by
/// the server: after one retransmission timeout, at least 200 ms on Linux, 1 s before the
/// connection has a round-trip estimate (RFC 6298). 2 s covers both and one doubling of the
/// shortest; a negotiation read later than that was not what the client connected for.
pub const WINDOW_NS: i64 = 2_000_000_000;
/// SYNs kept at once: a busy capture opens many connections that are not FTP's, and a SYN
/// flood more. Past it the oldest go (counted).
pub const MAX_UNTIED: usize = 4096;
/// SYNs kept per destination port, so that a flood to one port neither makes each negotiation
/// on that port compare thousands nor pushes out the others' (counted too).
pub const MAX_PER_PORT: usize = 16;

/// A connection that matched no expectation when it opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Untied {
    /// The side that opened it (its SYN's sender) and the side it called.
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// Its SYN's sequence number (None when only its SYN-ACK is in the capture): a connection
    /// that reused the 4-tuple since is another one.
    pub isn: Option<u32>,
    pub opened: Timestamp,
}

/// The untied connections of the last [`WINDOW_NS`], indexed by the port they called (as
/// expectations are by advertised port).
#[derive(Debug, Default)]
pub struct UntiedSyns {
    waiting: ByPort<Untied>,
    /// Connections pushed out by the bounds before their window ended.
    pub dropped: u64,
}

impl UntiedSyns {
    /// Keeps a connection that matched nothing when it opened, at capture time `now`.
    pub fn add(&mut self, c: Untied, now: Timestamp) {
        self.expire(now);
        let port = c.server.port();
        if self.waiting.on(port).is_some_and(|l| l.len() >= MAX_PER_PORT) {
            self.waiting.remove_oldest_of(port);
            self.dropped += 1;
        }
        if self.waiting.len() >= MAX_UNTIED {
            self.waiting.remove_oldest();
            self.dropped += 1;
        }
        self.waiting.push(port, c.opened, c);
    }

    /// The connection that best fits `e`, announced at capture time `now`, if one opened in
    /// the window before: taken out. Among equal fits the latest wins, as for expectations.
    pub fn take_match(&mut self, e: &Expectation, now: Timestamp) -> Option<(Untied, MatchedBy)> {
        self.expire(now);
        let port = e.advertised.port();
        let mut best: Option<(usize, super::Preference, MatchedBy)> = None;
        for (i, c) in self.waiting.on(port)?.enumerate().rev() {
            if now.since(c.opened) > WINDOW_NS {
                continue;
            }
            if let Some((p, m)) = e.preference(c.client, c.server) {
                if best.is_none_or(|(_, b, _)| p < b) {
                    best = Some((i, p, m));
                }
            }
        }
        let (i, _, m) = best?;
        self.waiting.take(port, i).map(|c| (c, m))
    }

    /// Connections kept now.
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Forgets the connections whose window ended, oldest first, up to the first still in it
    /// (capture clocks can step back: one out of order lingers a little, within the bounds).
    fn expire(&mut self, now: Timestamp) {
        while let Some(opened) = self.waiting.oldest_time() {
            if now.since(opened) <= WINDOW_NS {
                break;
            }
            self.waiting.remove_oldest();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{passive, sa};
    use super::*;

    const MS: i64 = 1_000_000;

    fn syn(from_port: u16, to: &str, at_ms: i64) -> Untied {
        Untied { client: SocketAddr::new([192, 168, 1, 10].into(), from_port), server: sa(to), isn: Some(7), opened: Timestamp(at_ms * MS) }
    }

    #[test]
    fn a_syn_just_before_its_reply_is_tied_once() {
        let mut u = UntiedSyns::default();
        u.add(syn(41000, "203.0.113.5:50000", 1000), Timestamp(1000 * MS));
        // Another port, another host: no fit.
        assert!(u.take_match(&passive("203.0.113.5:50001"), Timestamp(1000 * MS)).is_none());
        let (c, how) = u.take_match(&passive("203.0.113.5:50000"), Timestamp(1000 * MS + MS / 5)).unwrap();
        assert_eq!((c.client.port(), how), (41000, MatchedBy::Advertised));
        assert!(u.take_match(&passive("203.0.113.5:50000"), Timestamp(1001 * MS)).is_none(), "taken");
        assert!(u.is_empty());
    }

    #[test]
    fn the_window_ends_after_two_seconds() {
        let mut u = UntiedSyns::default();
        u.add(syn(41000, "203.0.113.5:50000", 0), Timestamp(0));
        u.add(syn(41001, "203.0.113.5:50001", 0), Timestamp(0));
        // At the window's last instant it still ties.
        assert!(u.take_match(&passive("203.0.113.5:50000"), Timestamp(WINDOW_NS)).is_some());
        // A nanosecond later it is gone, and forgotten (not counted as dropped: its time ended).
        assert!(u.take_match(&passive("203.0.113.5:50001"), Timestamp(WINDOW_NS + 1)).is_none());
        assert_eq!((u.len(), u.dropped), (0, 0));
    }

    #[test]
    fn the_count_is_bounded_and_what_goes_is_counted() {
        let mut u = UntiedSyns::default();
        // More than the bound, all within the window, each to its own port.
        for i in 0..MAX_UNTIED + 10 {
            u.add(syn(40000, &format!("203.0.113.5:{}", 1000 + i), 0), Timestamp(0));
        }
        assert_eq!(u.len(), MAX_UNTIED);
        assert_eq!(u.dropped, 10);
        // The oldest went first.
        assert!(u.take_match(&passive("203.0.113.5:1000"), Timestamp(0)).is_none());
        assert!(u.take_match(&passive("203.0.113.5:1010"), Timestamp(0)).is_some());
        // A flood to one port keeps that port's latest few, and pushes out nothing else.
        let mut u = UntiedSyns::default();
        u.add(syn(39999, "203.0.113.5:2000", 0), Timestamp(0));
        for i in 0..MAX_PER_PORT as u16 + 5 {
            u.add(syn(40000 + i, "203.0.113.5:3000", 0), Timestamp(0));
        }
        assert_eq!((u.len(), u.dropped), (MAX_PER_PORT + 1, 5));
        let (c, _) = u.take_match(&passive("203.0.113.5:3000"), Timestamp(0)).unwrap();
        assert_eq!(c.client.port(), 40000 + MAX_PER_PORT as u16 + 4, "the latest");
        assert!(u.take_match(&passive("203.0.113.5:2000"), Timestamp(0)).is_some());
    }

    #[test]
    fn a_better_fit_wins_over_a_later_one() {
        let mut u = UntiedSyns::default();
        u.add(syn(41000, "203.0.113.5:50000", 0), Timestamp(0));
        u.add(syn(41001, "172.16.0.9:50000", 1), Timestamp(MS));
        let (c, how) = u.take_match(&passive("203.0.113.5:50000"), Timestamp(2 * MS)).unwrap();
        assert_eq!((c.client.port(), how), (41000, MatchedBy::Advertised));
    }
}
