//! Correlation: which new TCP connection is the data connection a negotiation announced.
//!
//! Owns the expectations (endpoints announced by PORT/EPRT/LPRT/227/228/229) and the rules for
//! matching a SYN to one, including through NAT, where the addresses seen at the capture point
//! differ from the advertised ones; and, across two captures of the same traffic, which session
//! and data connection at one point is which at the other (`points`). Must not touch: packets or
//! FTP parsing.

// Packet data and capture time reach every module below: no arithmetic that can overflow, no
// index that can panic (issue 20). An `allow` is narrow and says why its value stays small.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

mod hosts;
pub mod one_way;
pub mod outcome;
pub mod points;
mod ports;
pub mod retry;
mod slab;
mod taken;
pub mod tls;
pub mod untied;
mod waiting;

use crate::model::{MatchedBy, Mode};
use crate::Timestamp;
use slab::Place;
use std::net::{IpAddr, SocketAddr};
use taken::Taken;
use waiting::Waiting;

/// Announced endpoints wait this long (capture time) for their connection.
pub(crate) const EXPECTATION_TTL_NS: i64 = 300 * 1_000_000_000;
/// Bound on waiting expectations: a flood of PORT commands cannot grow memory.
const MAX_EXPECTATIONS: usize = 4096;

#[derive(Debug, Clone, Copy)]
pub struct Expectation {
    pub session: u32,
    pub negotiation: u32,
    pub mode: Mode,
    pub advertised: SocketAddr,
    /// The control connection's endpoints as seen at this capture point.
    pub control_client: IpAddr,
    pub control_server: IpAddr,
    pub created: Timestamp,
}

impl Expectation {
    /// How well a SYN from `src` to `dst` fits, if at all.
    ///
    /// Passive: the client connects to the advertised endpoint, or to the control server's
    /// address with the advertised port (a client that ignores an unroutable 227 address), or to
    /// that port on another address from the same client (NAT between capture point and server).
    /// Active: the server connects to the advertised endpoint, or from the control server's
    /// address to the advertised port elsewhere (a NAT helper rewrote the address).
    fn fit(&self, src: SocketAddr, dst: SocketAddr) -> Option<MatchedBy> {
        if dst.port() != self.advertised.port() {
            return None;
        }
        if dst == self.advertised {
            return Some(MatchedBy::Advertised);
        }
        match self.mode {
            Mode::Passive if dst.ip() == self.control_server => Some(MatchedBy::ControlAddress),
            Mode::Passive if src.ip() == self.control_client => Some(MatchedBy::PortOnly),
            Mode::Active if src.ip() == self.control_server => Some(MatchedBy::ControlAddress),
            Mode::Active if dst.ip() == self.control_client => Some(MatchedBy::PortOnly),
            _ => None,
        }
    }

    /// Is a SYN from `src` to `dst` the control connection's client's own: passive, sent by
    /// the control client's address; active, sent to it. Otherwise only a NAT between the
    /// capture point and the client explains it, and it comes second.
    fn own(&self, src: SocketAddr, dst: SocketAddr) -> bool {
        match self.mode {
            Mode::Passive => src.ip() == self.control_client,
            Mode::Active => dst.ip() == self.control_client,
        }
    }

    /// Does it advertise the control connection's own host (passive: the server's address;
    /// active: the client's)? A connection there is between the control connection's hosts.
    fn direct(&self) -> bool {
        let host = match self.mode {
            Mode::Passive => self.control_server,
            Mode::Active => self.control_client,
        };
        self.advertised.ip() == host
    }

    /// The order of preference of fits, smallest first: the client's own first, then by
    /// [`rank`], and of two connections to the advertised endpoint, the one between the control
    /// connection's hosts (a capture on both sides of a port-forwarding router holds the session
    /// twice, both copies advertising the router's public endpoint: the copy addressed to the
    /// router is the outside one's).
    fn preference(&self, src: SocketAddr, dst: SocketAddr) -> Option<(Preference, MatchedBy)> {
        self.fit(src, dst).map(|m| ((!self.own(src, dst), rank(m), !(m == MatchedBy::Advertised && self.direct())), m))
    }
}

/// (not the client's own, [`rank`], not direct): smallest first.
type Preference = (bool, u8, bool);

/// A connection taken as a negotiation's data connection.
#[derive(Debug, Clone, Copy)]
pub struct Tie {
    pub expectation: Expectation,
    pub how: MatchedBy,
    /// Timing could not separate it from another session's negotiation that fits as well (two
    /// clients behind one address, waiting on one endpoint at once): the newest was chosen.
    pub ambiguous: bool,
}

/// The best of several candidates: the most preferred, the newest among equals; ambiguous when
/// the most preferred belong to two sessions or more.
#[derive(Default)]
struct Choice<K> {
    best: Option<(K, Place, u32, MatchedBy)>,
    several_sessions: bool,
}

impl<K: Ord + Copy> Choice<K> {
    fn offer(&mut self, preference: K, place: Place, session: u32, how: MatchedBy) {
        match self.best {
            Some((p, _, _, _)) if preference > p => {}
            Some((p, newest, s, _)) if preference == p => {
                self.several_sessions |= session != s;
                if place > newest {
                    self.best = Some((p, place, session, how));
                }
            }
            _ => {
                self.best = Some((preference, place, session, how));
                self.several_sessions = false;
            }
        }
    }

    /// (place, how, ambiguous)
    fn chosen(&self) -> Option<(Place, MatchedBy, bool)> {
        self.best.map(|(_, place, _, how)| (place, how, self.several_sessions))
    }
}

/// The expectations waiting for their connection, filed under what a SYN carries (see
/// [`Waiting`]), and those taken, kept for a retry (see [`Taken`]).
#[derive(Debug, Default)]
pub struct Expectations {
    waiting: Waiting,
    taken: Taken,
    /// Expectations pushed out by a bound (waiting or kept for a retry) before their time.
    pub dropped: u64,
    /// Expectations a SYN was compared with, to show that a SYN looks only at its own.
    #[cfg(test)]
    fits_tried: u64,
}

impl Expectations {
    pub fn add(&mut self, e: Expectation) {
        if self.waiting.len() >= MAX_EXPECTATIONS {
            if let Some((oldest, _)) = self.waiting.oldest() {
                self.waiting.remove(oldest);
            }
            self.dropped = self.dropped.saturating_add(1);
        }
        if !self.waiting.push(e) {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    /// The expectation a new connection from `src` to `dst` is tied to, consumed.
    ///
    /// A client's own negotiations first (passive: the SYN comes from the control client's
    /// address; active: it goes to it), however well another's fits; a connection from another
    /// address is tied only by what a NAT between the capture point and the client explains
    /// (the advertised endpoint, or the control server's address with the advertised port).
    /// Then the best fit, and among equally good fits the newest, the negotiation nearest in
    /// time: a client that negotiates twice uses the second answer. When equally good fits
    /// belong to two sessions or more, timing cannot separate them: the tie is ambiguous.
    pub fn take_match(&mut self, src: SocketAddr, dst: SocketAddr, now: Timestamp) -> Option<Tie> {
        // Expiry goes from the oldest and stops at the first one still in time.
        while let Some((oldest, created)) = self.waiting.oldest() {
            if now.0.saturating_sub(created.0) > EXPECTATION_TTL_NS {
                self.waiting.remove(oldest);
            } else {
                break;
            }
        }
        if !self.waiting.awaits(dst.port()) {
            return None;
        }
        let (place, how, ambiguous) = self.own_choice(src, dst).or_else(|| self.nat_choice(src, dst))?;
        let e = self.waiting.remove(place)?;
        self.dropped = self.dropped.saturating_add(self.taken.push(e, src.ip(), now, MAX_EXPECTATIONS));
        Some(Tie { expectation: e, how, ambiguous })
    }

    /// Among the client's own expectations on the port (at most [`waiting::MAX_PER_CLIENT`]
    /// of each mode).
    fn own_choice(&mut self, src: SocketAddr, dst: SocketAddr) -> Option<(Place, MatchedBy, bool)> {
        let port = dst.port();
        let mine = self.waiting.of_client(Mode::Passive, port, src.ip()).chain(self.waiting.of_client(Mode::Active, port, dst.ip()));
        let mut choice = Choice::default();
        for (place, e) in mine {
            #[cfg(test)]
            {
                self.fits_tried = self.fits_tried.saturating_add(1);
            }
            if let Some((preference, m)) = e.preference(src, dst) {
                choice.offer(preference, place, e.session, m);
            }
        }
        choice.chosen()
    }

    /// Another address's connection: the newest expectation of the advertised endpoint (direct
    /// ones first, see [`Expectation::preference`]), else of the control server's address with
    /// the port (passive: the SYN's destination; active: its source). Looked up, never scanned:
    /// the index says whether two sessions are filed.
    fn nat_choice(&self, src: SocketAddr, dst: SocketAddr) -> Option<(Place, MatchedBy, bool)> {
        let w = &self.waiting;
        let choose = |filed: [Option<&waiting::Filed>; 2], how: MatchedBy| {
            let newests = filed.iter().flatten().filter_map(|f| w.newest(f));
            let (newest, _) = newests.clone().max_by_key(|&(place, _)| place)?;
            let several = filed.iter().flatten().any(|f| f.several_sessions());
            // Two keys with one session each: the same one or not (their newest tell).
            let mut sessions = newests.map(|(_, e)| e.session);
            let first = sessions.next();
            let ambiguous = several || sessions.any(|s| Some(s) != first);
            Some((newest, how, ambiguous))
        };
        let advertising = |direct| [w.advertising(Mode::Passive, dst, direct), w.advertising(Mode::Active, dst, direct)];
        let at_server = [w.of_server(Mode::Passive, dst.ip(), dst.port()), w.of_server(Mode::Active, src.ip(), dst.port())];
        choose(advertising(true), MatchedBy::Advertised)
            .or_else(|| choose(advertising(false), MatchedBy::Advertised))
            .or_else(|| choose(at_server, MatchedBy::ControlAddress))
    }

    /// The expectation, already taken, that a new connection from `src` to `dst` tries again:
    /// of those a SYN from the same host took on that port, the best fit (the newest among
    /// equals) that `retried` accepts. It stays taken, for a third try.
    pub fn retry_of(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        now: Timestamp,
        mut retried: impl FnMut(&Expectation) -> bool,
    ) -> Option<(Expectation, MatchedBy)> {
        while let Some(taken) = self.taken.oldest_time() {
            if now.0.saturating_sub(taken.0) > EXPECTATION_TTL_NS {
                self.taken.remove_oldest();
            } else {
                break;
            }
        }
        let fits = self.taken.newest_first(dst.port(), src.ip()).filter_map(|e| e.fit(src, dst).map(|m| (e, m)));
        fits.filter(|(e, _)| retried(e)).min_by_key(|&(_, m)| rank(m))
    }
}

fn rank(m: MatchedBy) -> u8 {
    match m {
        MatchedBy::Advertised => 0,
        MatchedBy::ControlAddress => 1,
        MatchedBy::PortOnly => 2,
        MatchedBy::AfterCommand => 3,
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    pub(super) fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// Waiting for a passive connection from 192.168.1.10 to 203.0.113.5 (the control hosts).
    pub(super) fn passive(adv: &str) -> Expectation {
        Expectation {
            session: 0,
            negotiation: 0,
            mode: Mode::Passive,
            advertised: sa(adv),
            control_client: "192.168.1.10".parse().unwrap(),
            control_server: "203.0.113.5".parse().unwrap(),
            created: Timestamp(0),
        }
    }

    #[test]
    fn passive_fits_in_order_of_confidence() {
        let e = passive("10.0.0.20:5000");
        assert_eq!(e.fit(sa("192.168.1.10:40000"), sa("10.0.0.20:5000")), Some(MatchedBy::Advertised));
        assert_eq!(e.fit(sa("192.168.1.10:40000"), sa("203.0.113.5:5000")), Some(MatchedBy::ControlAddress));
        assert_eq!(e.fit(sa("192.168.1.10:40000"), sa("172.16.0.9:5000")), Some(MatchedBy::PortOnly));
        assert_eq!(e.fit(sa("192.168.1.99:40000"), sa("172.16.0.9:5000")), None);
        assert_eq!(e.fit(sa("192.168.1.10:40000"), sa("10.0.0.20:5001")), None);
    }

    #[test]
    fn active_fits_server_connections() {
        let mut e = passive("192.168.1.10:6000");
        e.mode = Mode::Active;
        assert_eq!(e.fit(sa("203.0.113.5:20"), sa("192.168.1.10:6000")), Some(MatchedBy::Advertised));
        assert_eq!(e.fit(sa("203.0.113.5:20"), sa("198.51.100.2:6000")), Some(MatchedBy::ControlAddress));
        assert_eq!(e.fit(sa("198.51.100.7:20"), sa("198.51.100.2:6000")), None);
    }

    #[test]
    fn newest_best_fit_is_taken_once() {
        let mut x = Expectations::default();
        let mut a = passive("10.0.0.20:5000");
        a.negotiation = 1;
        let mut b = passive("10.0.0.20:5000");
        b.negotiation = 2;
        x.add(a);
        x.add(b);
        let Tie { expectation: e, .. } = x.take_match(sa("192.168.1.10:1"), sa("10.0.0.20:5000"), Timestamp(1)).unwrap();
        assert_eq!(e.negotiation, 2);
        let Tie { expectation: e, .. } = x.take_match(sa("192.168.1.10:2"), sa("10.0.0.20:5000"), Timestamp(1)).unwrap();
        assert_eq!(e.negotiation, 1);
        assert!(x.take_match(sa("192.168.1.10:3"), sa("10.0.0.20:5000"), Timestamp(1)).is_none());
    }

    #[test]
    fn a_taken_expectation_can_be_tried_again_until_it_would_have_expired() {
        let mut x = Expectations::default();
        x.add(passive("10.0.0.20:5000"));
        let Tie { expectation: first, .. } = x.take_match(sa("192.168.1.10:1"), sa("10.0.0.20:5000"), Timestamp(1)).unwrap();
        assert!(x.take_match(sa("192.168.1.10:2"), sa("203.0.113.5:5000"), Timestamp(2)).is_none(), "taken");
        let again = |x: &mut Expectations, dst: &str, at: i64, ok: bool| x.retry_of(sa("192.168.1.10:2"), sa(dst), Timestamp(at), |_| ok);
        let (e, how) = again(&mut x, "203.0.113.5:5000", 2, true).unwrap();
        assert_eq!((e.negotiation, how), (first.negotiation, MatchedBy::ControlAddress));
        assert!(again(&mut x, "203.0.113.5:5000", 2, false).is_none(), "the caller decides whether it is a retry");
        assert!(again(&mut x, "203.0.113.5:5001", 2, true).is_none(), "another port fits nothing");
        assert!(again(&mut x, "203.0.113.5:5000", 3, true).is_some(), "still there for a third try");
        assert!(again(&mut x, "203.0.113.5:5000", EXPECTATION_TTL_NS + 2, true).is_none(), "expired");
        assert!(x.taken.is_empty());
    }

    /// Client `i`'s passive expectation in session `i`, all on one advertised endpoint.
    fn of_client(i: u32, adv: &str) -> Expectation {
        let [_, _, a, b] = i.to_be_bytes();
        Expectation { session: i, negotiation: 0, control_client: IpAddr::from([100, 64, a, b]), ..passive(adv) }
    }

    fn client(i: u32, port: u16) -> SocketAddr {
        SocketAddr::new(of_client(i, "10.0.0.20:5000").control_client, port)
    }

    fn tie(x: &mut Expectations, src: SocketAddr, dst: &str) -> Option<(u32, MatchedBy, bool)> {
        x.take_match(src, sa(dst), Timestamp(1)).map(|t| (t.expectation.session, t.how, t.ambiguous))
    }

    #[test]
    fn expectations_expire_and_stay_bounded() {
        let mut x = Expectations::default();
        for i in 0..(MAX_EXPECTATIONS + 10) as u32 {
            x.add(of_client(i, "10.0.0.20:5000"));
        }
        assert_eq!(x.dropped, 10);
        let late = Timestamp(EXPECTATION_TTL_NS + 1);
        assert!(x.take_match(client(20, 1), sa("10.0.0.20:5000"), late).is_none());
        // One client's flood on one port keeps its newest few, the rest counted.
        let mut x = Expectations::default();
        for _ in 0..waiting::MAX_PER_CLIENT + 3 {
            x.add(passive("10.0.0.20:6000"));
        }
        assert_eq!(x.dropped, 3);
    }

    #[test]
    fn a_clients_connection_goes_to_its_own_negotiation_not_a_newer_one_of_another() {
        let mut x = Expectations::default();
        // Client 1 and then client 2 are told the same private endpoint (vsftpd behind NAT);
        // both work around it and connect to the control server's address.
        x.add(of_client(1, "10.0.0.20:5000"));
        x.add(of_client(2, "10.0.0.20:5000"));
        assert_eq!(tie(&mut x, client(1, 40000), "203.0.113.5:5000"), Some((1, MatchedBy::ControlAddress, false)));
        assert_eq!(tie(&mut x, client(2, 40000), "203.0.113.5:5000"), Some((2, MatchedBy::ControlAddress, false)));
        // Its own worse fit beats another's better one: client 1's PortOnly over client 3's exact endpoint.
        x.add(of_client(1, "10.0.0.21:5000"));
        x.add(of_client(3, "10.0.0.20:5000"));
        assert_eq!(tie(&mut x, client(1, 40001), "10.0.0.20:5000"), Some((1, MatchedBy::PortOnly, false)));
    }

    #[test]
    fn an_active_connection_goes_to_the_client_it_calls() {
        let mut x = Expectations::default();
        let active = |i: u32| Expectation { mode: Mode::Active, ..of_client(i, "198.51.100.9:6000") };
        x.add(active(1));
        x.add(active(2));
        // The server connects from its port 20 to client 1's address at the advertised port
        // (a NAT rewrote client 1's PORT), though client 2's expectation came later.
        let to_client_1 = client(1, 6000).to_string();
        assert_eq!(tie(&mut x, sa("203.0.113.5:20"), &to_client_1), Some((1, MatchedBy::ControlAddress, false)));
    }

    #[test]
    fn another_addresss_connection_goes_to_the_nearest_negotiation_a_guess_when_two_wait() {
        let mut x = Expectations::default();
        let stranger = sa("198.51.100.7:40000");
        x.add(of_client(1, "10.0.0.20:5000"));
        assert_eq!(tie(&mut x, stranger, "10.0.0.20:5000"), Some((1, MatchedBy::Advertised, false)), "only one waits");
        x.add(of_client(1, "10.0.0.20:5000"));
        x.add(of_client(2, "10.0.0.20:5000"));
        assert_eq!(tie(&mut x, stranger, "10.0.0.20:5000"), Some((2, MatchedBy::Advertised, true)), "the newest, a guess");
        assert_eq!(tie(&mut x, stranger, "10.0.0.20:5000"), Some((1, MatchedBy::Advertised, false)), "the one left");
        // To the control server's address with the advertised port: the same.
        x.add(of_client(3, "10.0.0.20:5000"));
        x.add(of_client(3, "10.0.0.20:5000"));
        assert_eq!(tie(&mut x, stranger, "203.0.113.5:5000"), Some((3, MatchedBy::ControlAddress, false)), "one session twice");
        // Another address to another address is nothing a NAT explains.
        assert_eq!(tie(&mut x, stranger, "172.16.0.9:5000"), None);
    }

    #[test]
    fn two_sessions_of_one_address_waiting_at_once_make_an_ambiguous_tie() {
        let mut x = Expectations::default();
        let cgnat = |session: u32| Expectation { session, ..of_client(1, "10.0.0.20:5000") };
        x.add(cgnat(7));
        x.add(cgnat(8));
        assert_eq!(tie(&mut x, client(1, 40000), "10.0.0.20:5000"), Some((8, MatchedBy::Advertised, true)));
        assert_eq!(tie(&mut x, client(1, 40001), "10.0.0.20:5000"), Some((7, MatchedBy::Advertised, false)));
        // One after the other, timing separates them.
        x.add(cgnat(9));
        assert_eq!(tie(&mut x, client(1, 40002), "10.0.0.20:5000"), Some((9, MatchedBy::Advertised, false)));
    }

    #[test]
    fn both_sides_of_a_port_forward_each_get_their_copy() {
        // A capture on a router forwarding 198.51.100.2:2121 to 10.0.0.20:21 holds the session
        // twice, from one client, both copies' 227 naming the router's public endpoint.
        let mut x = Expectations::default();
        let outside = Expectation { session: 0, control_server: "198.51.100.2".parse().unwrap(), ..of_client(1, "198.51.100.2:40004") };
        let inside = Expectation { session: 1, control_server: "10.0.0.20".parse().unwrap(), ..outside };
        x.add(inside);
        x.add(outside);
        x.add(inside);
        assert_eq!(tie(&mut x, client(1, 55518), "198.51.100.2:40004"), Some((0, MatchedBy::Advertised, false)));
        assert_eq!(tie(&mut x, client(1, 55518), "10.0.0.20:40004"), Some((1, MatchedBy::ControlAddress, false)));
        // Not the client's own (a NAT between): the same order.
        x.add(inside);
        x.add(outside);
        x.add(inside);
        assert_eq!(tie(&mut x, sa("192.0.2.1:1"), "198.51.100.2:40004"), Some((0, MatchedBy::Advertised, false)));
    }

    #[test]
    fn a_retry_is_looked_for_among_what_its_host_took() {
        let mut x = Expectations::default();
        x.add(of_client(1, "10.0.0.20:5000"));
        assert!(tie(&mut x, client(1, 40000), "10.0.0.20:5000").is_some());
        let mut tried = 0;
        let mut retry = |x: &mut Expectations, src| {
            x.retry_of(src, sa("203.0.113.5:5000"), Timestamp(2), |_| {
                tried += 1;
                true
            })
        };
        assert!(retry(&mut x, client(2, 40001)).is_none(), "another host's SYN");
        assert!(retry(&mut x, client(1, 40001)).is_some());
        assert_eq!(tried, 1, "the other host's SYN was compared with nothing");
    }

    #[test]
    fn syns_of_many_clients_on_one_port_cost_the_same_each() {
        // The busy server's shape: every client told the same passive port, each connecting
        // to it in turn. Each SYN finds its client's expectation, not the port's thousands.
        let clients = |n: usize| n as u32;
        let Some(ratio) = crate::growth::growth(2_000, 8_000, clients, |&n| {
            let mut x = Expectations::default();
            for i in 0..n {
                x.add(of_client(i, "10.0.0.20:5000"));
                if i >= 500 {
                    // 500 wait at once, each client connecting after 500 more negotiated.
                    let old = i - 500;
                    assert_eq!(tie(&mut x, client(old, 40000), "203.0.113.5:5000").map(|t| t.0), Some(old));
                    assert!(x.retry_of(client(old, 40001), sa("203.0.113.5:5000"), Timestamp(1), |_| false).is_none());
                }
            }
        }) else {
            return;
        };
        // Linear gives about 4 (a little more: the large input fills the taken ones' bound of
        // 4,096, the small one does not); a scan of the port's taken expectations about 13.
        assert!(ratio < 8.0, "4x the sessions took {ratio:.1}x the time");
    }

    #[test]
    fn the_oldest_is_dropped_first_whatever_its_port() {
        let mut x = Expectations::default();
        for port in 0..=MAX_EXPECTATIONS as u16 {
            let mut e = passive(&format!("10.0.0.20:{}", 1000 + port));
            e.negotiation = u32::from(port);
            x.add(e);
        }
        assert_eq!(x.dropped, 1);
        assert!(x.take_match(sa("192.168.1.10:1"), sa("10.0.0.20:1000"), Timestamp(1)).is_none());
        let Tie { expectation: e, .. } = x.take_match(sa("192.168.1.10:1"), sa("10.0.0.20:1001"), Timestamp(1)).unwrap();
        assert_eq!(e.negotiation, 1);
        // A port whose only expectation was taken or dropped leaves nothing behind (one key in
        // each of the three indexes per expectation here).
        assert_eq!(x.waiting.keys(), 3 * (MAX_EXPECTATIONS - 1));
        assert_eq!(x.waiting.len(), MAX_EXPECTATIONS - 1);
    }

    #[test]
    fn an_older_better_fit_beats_a_newer_worse_one() {
        let mut x = Expectations::default();
        let mut a = passive("10.0.0.20:5000");
        a.negotiation = 1;
        let mut b = passive("10.0.0.99:5000");
        b.negotiation = 2;
        x.add(a);
        x.add(b);
        let Tie { expectation: e, how, .. } = x.take_match(sa("192.168.1.10:1"), sa("10.0.0.20:5000"), Timestamp(1)).unwrap();
        assert_eq!((e.negotiation, how), (1, MatchedBy::Advertised));
        let Tie { expectation: e, how, .. } = x.take_match(sa("192.168.1.10:1"), sa("10.0.0.20:5000"), Timestamp(1)).unwrap();
        assert_eq!((e.negotiation, how), (2, MatchedBy::PortOnly));
    }

    #[test]
    fn a_syn_to_a_port_nobody_waits_on_looks_at_nothing() {
        let mut x = Expectations::default();
        for port in 0..MAX_EXPECTATIONS as u16 {
            x.add(passive(&format!("10.0.0.20:{}", 1000 + port)));
        }
        assert!(x.take_match(sa("192.168.1.10:1"), sa("10.0.0.20:60000"), Timestamp(1)).is_none());
        assert_eq!(x.fits_tried, 0);
        // A stranger's SYN to a waiting port is compared with nothing: it has no expectation of
        // its own, and those a NAT could explain are looked up by its destination.
        assert!(x.take_match(sa("198.51.100.7:1"), sa("172.16.0.9:1000"), Timestamp(1)).is_none());
        assert_eq!(x.fits_tried, 0);
        // The client's SYN to that port is compared with its one expectation there.
        assert!(x.take_match(sa("192.168.1.10:1"), sa("172.16.0.9:1000"), Timestamp(1)).is_some());
        assert_eq!(x.fits_tried, 1);
    }

    #[test]
    fn syns_that_match_nothing_cost_the_same_each() {
        let mut x = Expectations::default();
        for port in 0..MAX_EXPECTATIONS as u16 {
            x.add(passive(&format!("10.0.0.20:{}", 1000 + port)));
        }
        // Strangers' SYNs to every port in turn: some ports have an expectation that does not fit.
        let syns = |n: usize| -> Vec<(SocketAddr, SocketAddr)> {
            (0..n).map(|i| (sa("198.51.100.7:40000"), SocketAddr::new([172, 16, 0, 9].into(), i as u16))).collect()
        };
        let Some(ratio) = crate::growth::growth(100_000, 400_000, syns, |syns| {
            for &(src, dst) in syns {
                assert!(x.take_match(src, dst, Timestamp(1)).is_none());
            }
        }) else {
            return;
        };
        // Linear gives about 4.
        assert!(ratio < 8.0, "4x the SYNs took {ratio:.1}x the time");
        assert_eq!(x.waiting.len(), MAX_EXPECTATIONS);
    }

    /// The rules of `take_match` as a scan of every expectation, in one list. The indexes
    /// must choose exactly as this does.
    #[derive(Default)]
    struct Scanned {
        waiting: VecDeque<Expectation>,
        dropped: u64,
    }

    impl Scanned {
        fn add(&mut self, e: Expectation) {
            if self.waiting.len() >= MAX_EXPECTATIONS {
                self.waiting.pop_front();
                self.dropped += 1;
            }
            let same_client =
                |w: &Expectation| (w.mode, w.advertised.port(), w.control_client) == (e.mode, e.advertised.port(), e.control_client);
            if self.waiting.iter().filter(|w| same_client(w)).count() >= waiting::MAX_PER_CLIENT {
                let oldest = self.waiting.iter().position(same_client).unwrap();
                self.waiting.remove(oldest);
                self.dropped += 1;
            }
            self.waiting.push_back(e);
        }

        fn take_match(&mut self, src: SocketAddr, dst: SocketAddr, now: Timestamp) -> Option<(Expectation, MatchedBy, bool)> {
            while let Some(front) = self.waiting.front() {
                if now.0.saturating_sub(front.created.0) > EXPECTATION_TTL_NS {
                    self.waiting.pop_front();
                } else {
                    break;
                }
            }
            let (best, how) = self.waiting.iter().filter_map(|e| e.preference(src, dst)).min_by_key(|&(p, _)| p)?;
            let preferred = |i: &usize| self.waiting[*i].preference(src, dst).is_some_and(|(p, _)| p == best);
            let equal: Vec<usize> = (0..self.waiting.len()).filter(preferred).collect();
            let ambiguous = equal.iter().any(|&i| self.waiting[i].session != self.waiting[equal[0]].session);
            let e = self.waiting.remove(*equal.last()?)?;
            Some((e, how, ambiguous))
        }
    }

    #[derive(Debug, Clone)]
    enum Step {
        /// `copies` expectations: mode, advertised host and port, control client and server,
        /// created at this many TTL tenths.
        Add { copies: usize, session: u32, active: bool, host: u8, port: u16, client: u8, server: u8, tenths: i64 },
        /// A SYN from host `src` to host `dst` at `port`, at this many TTL tenths.
        Syn { src: u8, dst: u8, port: u16, tenths: i64 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (prop_oneof![8 => Just(1usize), 2 => 1500..2500usize], 0..3u32, any::<bool>(), 0..3u8, 0..3u16, 0..3u8, 0..3u8, 0..30i64)
                .prop_map(|(copies, session, active, host, port, client, server, tenths)| Step::Add { copies, session, active, host, port, client, server, tenths }),
            5 => (0..3u8, 0..3u8, 0..3u16, 0..30i64).prop_map(|(src, dst, port, tenths)| Step::Syn { src, dst, port, tenths }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Same choices as the scan of every expectation, ambiguity, bounds and expiry included
        /// (creation times may go back, as capture clocks do).
        #[test]
        fn the_index_chooses_as_the_scan_did(steps in proptest::collection::vec(step(), 1..60)) {
            let host = |h: u8| IpAddr::from([10, 0, 0, h]);
            let at = |tenths: i64| Timestamp(tenths * EXPECTATION_TTL_NS / 10);
            let (mut indexed, mut scanned) = (Expectations::default(), Scanned::default());
            let mut negotiation = 0;
            for step in steps {
                match step {
                    Step::Add { copies, session, active, host: h, port, client, server, tenths } => {
                        for _ in 0..copies {
                            negotiation += 1;
                            let e = Expectation {
                                session,
                                negotiation,
                                mode: if active { Mode::Active } else { Mode::Passive },
                                advertised: SocketAddr::new(host(h), 5000 + port),
                                control_client: host(client),
                                control_server: host(server),
                                created: at(tenths),
                            };
                            indexed.add(e);
                            scanned.add(e);
                        }
                    }
                    Step::Syn { src, dst, port, tenths } => {
                        let (src, dst) = (SocketAddr::new(host(src), 40000), SocketAddr::new(host(dst), 5000 + port));
                        let indexed = indexed.take_match(src, dst, at(tenths)).map(|t| (t.expectation.negotiation, t.how, t.ambiguous));
                        let scanned = scanned.take_match(src, dst, at(tenths)).map(|(e, how, ambiguous)| (e.negotiation, how, ambiguous));
                        prop_assert_eq!(indexed, scanned);
                    }
                }
                prop_assert_eq!(indexed.dropped, scanned.dropped);
                prop_assert_eq!(indexed.waiting.len(), scanned.waiting.len());
            }
        }
    }
}
