//! Correlation: which new TCP connection is the data connection a negotiation announced.
//!
//! Owns the expectations (endpoints announced by PORT/EPRT/LPRT/227/228/229) and the rules for
//! matching a SYN to one, including through NAT, where the addresses seen at the capture point
//! differ from the advertised ones; and, across two captures of the same traffic, which session
//! and data connection at one point is which at the other (`points`). Must not touch: packets or
//! FTP parsing.

mod by_port;
mod hosts;
pub mod one_way;
pub mod outcome;
pub mod points;
pub mod retry;
pub mod tls;
pub mod untied;

use crate::model::{MatchedBy, Mode};
use crate::Timestamp;
use by_port::ByPort;
use std::net::{IpAddr, SocketAddr};

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
}

/// The expectations waiting for their connection, indexed by advertised port (see [`ByPort`]).
#[derive(Debug, Default)]
pub struct Expectations {
    waiting: ByPort<Expectation>,
    /// Expectations a connection took, kept as long as they would have waited (stamped when
    /// taken): a connection that did not open may be tried again ([`retry`]).
    taken: ByPort<Expectation>,
    pub dropped: u64,
    /// Expectations a SYN was compared with, to show that a SYN looks only at its port's.
    #[cfg(test)]
    fits_tried: u64,
}

impl Expectations {
    pub fn add(&mut self, e: Expectation) {
        if self.waiting.len() >= MAX_EXPECTATIONS {
            self.waiting.remove_oldest();
            self.dropped += 1;
        }
        self.waiting.push(e.advertised.port(), e.created, e);
    }

    /// The best expectation for a new connection from `src` to `dst`, consumed. Among equally
    /// good fits the newest wins: a client that negotiates twice uses the second answer.
    pub fn take_match(&mut self, src: SocketAddr, dst: SocketAddr, now: Timestamp) -> Option<(Expectation, MatchedBy)> {
        // Expiry goes from the oldest and stops at the first one still in time.
        while let Some(created) = self.waiting.oldest_time() {
            if now.0.saturating_sub(created.0) > EXPECTATION_TTL_NS {
                self.waiting.remove_oldest();
            } else {
                break;
            }
        }
        let mut best: Option<(usize, MatchedBy)> = None;
        for (i, e) in self.waiting.on(dst.port())?.enumerate().rev() {
            #[cfg(test)]
            {
                self.fits_tried += 1;
            }
            if let Some(m) = e.fit(src, dst) {
                if best.is_none_or(|(_, b)| rank(m) < rank(b)) {
                    best = Some((i, m));
                    if m == MatchedBy::Advertised {
                        break;
                    }
                }
            }
        }
        let (i, m) = best?;
        let e = self.waiting.take(dst.port(), i)?;
        if self.taken.len() >= MAX_EXPECTATIONS {
            self.taken.remove_oldest();
        }
        self.taken.push(dst.port(), now, e);
        Some((e, m))
    }

    /// The expectation, already taken, that a new connection from `src` to `dst` tries again:
    /// the best fit (the newest among equals) that `retried` accepts. It stays taken, for a
    /// third try.
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
        let fits = self.taken.on(dst.port())?.rev().filter_map(|e| e.fit(src, dst).map(|m| (*e, m)));
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

#[cfg(test)]
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
        let (e, _) = x.take_match(sa("192.168.1.10:1"), sa("10.0.0.20:5000"), Timestamp(1)).unwrap();
        assert_eq!(e.negotiation, 2);
        let (e, _) = x.take_match(sa("192.168.1.10:2"), sa("10.0.0.20:5000"), Timestamp(1)).unwrap();
        assert_eq!(e.negotiation, 1);
        assert!(x.take_match(sa("192.168.1.10:3"), sa("10.0.0.20:5000"), Timestamp(1)).is_none());
    }

    #[test]
    fn a_taken_expectation_can_be_tried_again_until_it_would_have_expired() {
        let mut x = Expectations::default();
        x.add(passive("10.0.0.20:5000"));
        let (first, _) = x.take_match(sa("192.168.1.10:1"), sa("10.0.0.20:5000"), Timestamp(1)).unwrap();
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

    #[test]
    fn expectations_expire_and_stay_bounded() {
        let mut x = Expectations::default();
        for _ in 0..(MAX_EXPECTATIONS + 10) {
            x.add(passive("10.0.0.20:5000"));
        }
        assert_eq!(x.dropped, 10);
        let late = Timestamp(EXPECTATION_TTL_NS + 1);
        assert!(x.take_match(sa("192.168.1.10:1"), sa("10.0.0.20:5000"), late).is_none());
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
        let (e, _) = x.take_match(sa("192.168.1.10:1"), sa("10.0.0.20:1001"), Timestamp(1)).unwrap();
        assert_eq!(e.negotiation, 1);
        // A port whose only expectation was taken or dropped leaves nothing behind.
        assert_eq!(x.waiting.ports(), MAX_EXPECTATIONS - 1);
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
        let (e, how) = x.take_match(sa("192.168.1.10:1"), sa("10.0.0.20:5000"), Timestamp(1)).unwrap();
        assert_eq!((e.negotiation, how), (1, MatchedBy::Advertised));
        let (e, how) = x.take_match(sa("192.168.1.10:1"), sa("10.0.0.20:5000"), Timestamp(1)).unwrap();
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
        // A SYN to a waiting port from a stranger is compared with that port's one expectation.
        assert!(x.take_match(sa("198.51.100.7:1"), sa("172.16.0.9:1000"), Timestamp(1)).is_none());
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

    /// The expectations as they were kept before the index by port: one list, scanned whole for
    /// every SYN. The index must choose exactly as this did.
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
            self.waiting.push_back(e);
        }

        fn take_match(&mut self, src: SocketAddr, dst: SocketAddr, now: Timestamp) -> Option<(Expectation, MatchedBy)> {
            while let Some(front) = self.waiting.front() {
                if now.0.saturating_sub(front.created.0) > EXPECTATION_TTL_NS {
                    self.waiting.pop_front();
                } else {
                    break;
                }
            }
            let mut best: Option<(usize, MatchedBy)> = None;
            for (i, e) in self.waiting.iter().enumerate().rev() {
                if let Some(m) = e.fit(src, dst) {
                    if best.is_none_or(|(_, b)| rank(m) < rank(b)) {
                        best = Some((i, m));
                        if m == MatchedBy::Advertised {
                            break;
                        }
                    }
                }
            }
            let (i, m) = best?;
            self.waiting.remove(i).map(|e| (e, m))
        }
    }

    #[derive(Debug, Clone)]
    enum Step {
        /// `copies` expectations: mode, advertised host and port, control client and server,
        /// created at this many TTL tenths.
        Add { copies: usize, active: bool, host: u8, port: u16, client: u8, server: u8, tenths: i64 },
        /// A SYN from host `src` to host `dst` at `port`, at this many TTL tenths.
        Syn { src: u8, dst: u8, port: u16, tenths: i64 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (prop_oneof![8 => Just(1usize), 2 => 1500..2500usize], any::<bool>(), 0..3u8, 0..3u16, 0..3u8, 0..3u8, 0..30i64)
                .prop_map(|(copies, active, host, port, client, server, tenths)| Step::Add { copies, active, host, port, client, server, tenths }),
            5 => (0..3u8, 0..3u8, 0..3u16, 0..30i64).prop_map(|(src, dst, port, tenths)| Step::Syn { src, dst, port, tenths }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Same choices as the scan of every expectation, bound and expiry included (creation
        /// times may go back, as capture clocks do).
        #[test]
        fn the_index_chooses_as_the_scan_did(steps in proptest::collection::vec(step(), 1..60)) {
            let host = |h: u8| IpAddr::from([10, 0, 0, h]);
            let at = |tenths: i64| Timestamp(tenths * EXPECTATION_TTL_NS / 10);
            let (mut indexed, mut scanned) = (Expectations::default(), Scanned::default());
            let mut negotiation = 0;
            for step in steps {
                match step {
                    Step::Add { copies, active, host: h, port, client, server, tenths } => {
                        for _ in 0..copies {
                            negotiation += 1;
                            let e = Expectation {
                                session: 0,
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
                        let taken = |m: Option<(Expectation, MatchedBy)>| m.map(|(e, how)| (e.negotiation, how));
                        prop_assert_eq!(taken(indexed.take_match(src, dst, at(tenths))), taken(scanned.take_match(src, dst, at(tenths))));
                    }
                }
                prop_assert_eq!(indexed.dropped, scanned.dropped);
                prop_assert_eq!(indexed.waiting.len(), scanned.waiting.len());
            }
        }
    }
}
