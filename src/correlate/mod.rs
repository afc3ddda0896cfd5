//! Correlation: which new TCP connection is the data connection a negotiation announced.
//!
//! Owns the expectations (endpoints announced by PORT/EPRT/LPRT/227/228/229) and the rules for
//! matching a SYN to one, including through NAT, where the addresses seen at the capture point
//! differ from the advertised ones. Must not touch: packets or FTP parsing.

pub mod outcome;
pub mod tls;

use crate::model::{MatchedBy, Mode};
use crate::Timestamp;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

/// Announced endpoints wait this long (capture time) for their connection.
const EXPECTATION_TTL_NS: i64 = 300 * 1_000_000_000;
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

#[derive(Debug, Default)]
pub struct Expectations {
    waiting: VecDeque<Expectation>,
    pub dropped: u64,
}

impl Expectations {
    pub fn add(&mut self, e: Expectation) {
        if self.waiting.len() >= MAX_EXPECTATIONS {
            self.waiting.pop_front();
            self.dropped += 1;
        }
        self.waiting.push_back(e);
    }

    /// The best expectation for a new connection from `src` to `dst`, consumed. Among equally
    /// good fits the newest wins: a client that negotiates twice uses the second answer.
    pub fn take_match(&mut self, src: SocketAddr, dst: SocketAddr, now: Timestamp) -> Option<(Expectation, MatchedBy)> {
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

fn rank(m: MatchedBy) -> u8 {
    match m {
        MatchedBy::Advertised => 0,
        MatchedBy::ControlAddress => 1,
        MatchedBy::PortOnly => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn passive(adv: &str) -> Expectation {
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
    fn expectations_expire_and_stay_bounded() {
        let mut x = Expectations::default();
        for _ in 0..(MAX_EXPECTATIONS + 10) {
            x.add(passive("10.0.0.20:5000"));
        }
        assert_eq!(x.dropped, 10);
        let late = Timestamp(EXPECTATION_TTL_NS + 1);
        assert!(x.take_match(sa("192.168.1.10:1"), sa("10.0.0.20:5000"), late).is_none());
    }
}
