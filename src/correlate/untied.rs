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

use super::ports::PortCounts;
use super::slab::{List, Place, Slab};
use super::Expectation;
use crate::model::MatchedBy;
use crate::{AddrMap, Timestamp};
use std::net::{IpAddr, SocketAddr};

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
/// SYNs kept per caller and port called, so that a flood from one address to one port neither
/// makes each negotiation compare thousands nor pushes out the others' (counted too).
pub const MAX_PER_PORT: usize = 16;
/// SYNs of one index key a negotiation compares, the newest: a busy server's passive port
/// receives many callers' SYNs at once, and only the few newest can be a connection that
/// opened just before its negotiation was read.
const NEWEST_COMPARED: usize = MAX_PER_PORT;

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

/// (port called, an address: the caller's or the one called)
type Key = (u16, IpAddr);

/// The slab's lists a connection is on besides the order kept (list 0).
const BY_CALLER: usize = 1;
const BY_CALLEE: usize = 2;

/// The untied connections of the last [`WINDOW_NS`], filed under the port they called with the
/// caller's address, and with the address called: a negotiation looks up its client's and its
/// server's, not everything its port received.
#[derive(Debug, Default)]
pub struct UntiedSyns {
    /// In the order kept (the oldest, which expiry and the bounds remove first, is the first),
    /// each also on its caller's and its callee's list.
    slab: Slab<Untied, 3>,
    /// Addresses are chosen by whoever is on the wire: a seeded hash (`AddrMap`).
    by_caller: AddrMap<Key, List>,
    by_callee: AddrMap<Key, List>,
    /// By port called: a negotiation of another port has no candidate.
    ports: PortCounts,
    /// Connections pushed out by the bounds before their window ended.
    pub dropped: u64,
}

fn caller(c: &Untied) -> Key {
    (c.server.port(), c.client.ip())
}

fn callee(c: &Untied) -> Key {
    (c.server.port(), c.server.ip())
}

impl UntiedSyns {
    /// Keeps a connection that matched nothing when it opened, at capture time `now`.
    pub fn add(&mut self, c: Untied, now: Timestamp) {
        self.expire(now);
        let of_caller = self.by_caller.get(&caller(&c)).filter(|l| l.len() >= MAX_PER_PORT);
        if let Some((oldest, _)) = of_caller.and_then(|l| self.slab.oldest_of(l)) {
            self.remove(oldest);
            self.dropped = self.dropped.saturating_add(1);
        }
        if self.slab.len() >= MAX_UNTIED {
            if let Some((oldest, _)) = self.slab.oldest() {
                self.remove(oldest);
            }
            self.dropped = self.dropped.saturating_add(1);
        }
        let place = self.slab.insert(c);
        self.ports.add(c.server.port());
        self.slab.file(self.by_caller.entry(caller(&c)).or_default(), BY_CALLER, place);
        self.slab.file(self.by_callee.entry(callee(&c)).or_default(), BY_CALLEE, place);
    }

    /// The connection that best fits `e`, announced at capture time `now`, if one opened in
    /// the window before: taken out. By the preference of [`Expectation`]s (the client's own
    /// first, then the best fit); among equals the latest. Candidates are looked up where a
    /// fitting SYN is filed: its client's (passive: the caller; active: the one called), the
    /// advertised endpoint's, the control server's (passive: called; active: calling).
    pub fn take_match(&mut self, e: &Expectation, now: Timestamp) -> Option<(Untied, MatchedBy)> {
        self.expire(now);
        let port = e.advertised.port();
        if !self.ports.any(port) {
            return None;
        }
        let (client, server) = (e.control_client, e.control_server);
        let keys = [
            (&self.by_caller, BY_CALLER, client),
            (&self.by_callee, BY_CALLEE, client),
            (&self.by_callee, BY_CALLEE, e.advertised.ip()),
            (&self.by_callee, BY_CALLEE, server),
            (&self.by_caller, BY_CALLER, server),
        ];
        let candidates = keys.into_iter().filter_map(|(index, which, ip)| Some((index.get(&(port, ip))?, which)));
        let candidates = candidates.flat_map(|(list, which)| self.slab.newest_first(list, which).take(NEWEST_COMPARED));
        let mut best: Option<(super::Preference, Place, MatchedBy)> = None;
        for (place, c) in candidates {
            if now.since(c.opened) > WINDOW_NS {
                continue;
            }
            if let Some((p, m)) = e.preference(c.client, c.server) {
                if best.is_none_or(|(b, newest, _)| p < b || p == b && place > newest) {
                    best = Some((p, place, m));
                }
            }
        }
        let (_, place, m) = best?;
        self.remove(place).map(|c| (c, m))
    }

    /// Connections kept now.
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }

    fn remove(&mut self, place: Place) -> Option<Untied> {
        let c = self.slab.get(place)?;
        self.ports.remove(c.server.port());
        for (index, which, key) in [(&mut self.by_caller, BY_CALLER, caller(&c)), (&mut self.by_callee, BY_CALLEE, callee(&c))] {
            if let Some(list) = index.get_mut(&key) {
                self.slab.unfile(list, which, place);
                if list.is_empty() {
                    index.remove(&key);
                }
            }
        }
        self.slab.remove(place)
    }

    /// Forgets the connections whose window ended, oldest first, up to the first still in it
    /// (capture clocks can step back: one out of order lingers a little, within the bounds).
    fn expire(&mut self, now: Timestamp) {
        while let Some((place, c)) = self.slab.oldest() {
            if now.since(c.opened) <= WINDOW_NS {
                break;
            }
            self.remove(place);
        }
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
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
    fn callers_on_one_busy_port_do_not_push_each_other_out_and_each_gets_its_own() {
        let mut u = UntiedSyns::default();
        // A thousand clients' SYNs to one passive port, each before its own 227 is read.
        let of = |i: u16| SocketAddr::new([172, 16, (i >> 8) as u8, i as u8].into(), 41000);
        for i in 0..1000 {
            u.add(Untied { client: of(i), server: sa("203.0.113.5:50000"), isn: Some(7), opened: Timestamp(0) }, Timestamp(0));
        }
        assert_eq!((u.len(), u.dropped), (1000, 0));
        for i in (0..1000).step_by(7) {
            let e = Expectation { control_client: of(i).ip(), ..passive("203.0.113.5:50000") };
            let (c, how) = u.take_match(&e, Timestamp(MS)).unwrap();
            assert_eq!((c.client, how), (of(i), MatchedBy::Advertised), "its own, not the newest of the port");
        }
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
