//! The expectations waiting for their connection, filed under what a SYN carries, so that a SYN
//! finds its candidates by a few lookups however many expectations the port has accumulated
//! (thousands of clients on a server's one passive port):
//!
//! - by client: the advertised port and the control connection's client address, which is the
//!   SYN's source in passive mode and its destination in active mode (a client's own
//!   negotiations, [`super::Expectations::take_match`]'s first choice);
//! - by advertised endpoint, and by the control server's address with the advertised port (the
//!   fits a connection from another address can have: NAT between the capture point and the
//!   client).
//!
//! Owns the indexes, the order of arrival (expiry and the bounds remove the oldest first) and
//! the bound per client. Must not judge how well an expectation fits: the caller does.

use super::Expectation;
use crate::model::Mode;
use crate::{AddrMap, Timestamp};
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

/// Expectations one client address may have waiting on one port at once. A client negotiates
/// one connection at a time; a few clients behind one address (carrier-grade NAT) a few more.
/// Past it the oldest is dropped (counted): a flood of PASV from one address costs each SYN of
/// that address at most this many comparisons.
pub const MAX_PER_CLIENT: usize = 16;

/// Places (order of arrival) filed under one key, and how many belong to each session: two or
/// more sessions under one key are candidates timing cannot separate.
#[derive(Debug, Default)]
pub struct Filed {
    places: BTreeSet<u64>,
    sessions: FxHashMap<u32, u32>,
}

impl Filed {
    fn insert(&mut self, place: u64, session: u32) {
        self.places.insert(place);
        let places = self.sessions.entry(session).or_default();
        *places = places.saturating_add(1);
    }

    /// Removes `place`; true when nothing is left.
    fn remove(&mut self, place: u64, session: u32) -> bool {
        self.places.remove(&place);
        if let Some(n) = self.sessions.get_mut(&session) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.sessions.remove(&session);
            }
        }
        self.places.is_empty()
    }

    /// The newest place.
    pub fn newest(&self) -> Option<u64> {
        self.places.last().copied()
    }

    /// Places of two sessions or more are filed here.
    pub fn several_sessions(&self) -> bool {
        self.sessions.len() > 1
    }
}

type ClientKey = (Mode, u16, IpAddr);
type ServerKey = (Mode, IpAddr, u16);
type AdvertisedKey = (Mode, SocketAddr, bool);

#[derive(Debug, Default)]
pub struct Waiting {
    by_place: BTreeMap<u64, Expectation>,
    next_place: u64,
    /// Addresses are chosen by whoever is on the wire: a seeded hash (`AddrMap`).
    by_client: AddrMap<ClientKey, BTreeSet<u64>>,
    /// By advertised endpoint, and whether it is the control connection's own host.
    by_advertised: AddrMap<AdvertisedKey, Filed>,
    by_server: AddrMap<ServerKey, Filed>,
}

fn client_key(e: &Expectation) -> ClientKey {
    (e.mode, e.advertised.port(), e.control_client)
}

fn advertised_key(e: &Expectation) -> AdvertisedKey {
    (e.mode, e.advertised, e.direct())
}

fn server_key(e: &Expectation) -> ServerKey {
    (e.mode, e.control_server, e.advertised.port())
}

impl Waiting {
    /// Files `e`; false when its client's bound pushed out the client's oldest on that port.
    pub fn push(&mut self, e: Expectation) -> bool {
        let mut within_bound = true;
        let oldest_of_client = self.by_client.get(&client_key(&e)).filter(|p| p.len() >= MAX_PER_CLIENT).and_then(|p| p.first().copied());
        if let Some(oldest) = oldest_of_client {
            self.remove(oldest);
            within_bound = false;
        }
        let place = self.next_place;
        self.next_place = self.next_place.saturating_add(1);
        self.by_client.entry(client_key(&e)).or_default().insert(place);
        self.by_advertised.entry(advertised_key(&e)).or_default().insert(place, e.session);
        self.by_server.entry(server_key(&e)).or_default().insert(place, e.session);
        self.by_place.insert(place, e);
        within_bound
    }

    pub fn len(&self) -> usize {
        self.by_place.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.by_place.is_empty()
    }

    pub fn get(&self, place: u64) -> Option<&Expectation> {
        self.by_place.get(&place)
    }

    /// The oldest expectation's place and creation time.
    pub fn oldest(&self) -> Option<(u64, Timestamp)> {
        self.by_place.first_key_value().map(|(&place, e)| (place, e.created))
    }

    /// The places of `client`'s expectations of `mode` on `port`, oldest first (at most
    /// [`MAX_PER_CLIENT`]).
    pub fn of_client(&self, mode: Mode, port: u16, client: IpAddr) -> impl DoubleEndedIterator<Item = u64> + '_ {
        self.by_client.get(&(mode, port, client)).into_iter().flatten().copied()
    }

    /// The expectations of `mode` advertising exactly `endpoint`, [`Expectation::direct`] or not.
    pub fn advertising(&self, mode: Mode, endpoint: SocketAddr, direct: bool) -> Option<&Filed> {
        self.by_advertised.get(&(mode, endpoint, direct))
    }

    /// The expectations of `mode` whose control server is `server`, advertising `port`.
    pub fn of_server(&self, mode: Mode, server: IpAddr, port: u16) -> Option<&Filed> {
        self.by_server.get(&(mode, server, port))
    }

    /// Takes the expectation at `place` out of every index.
    pub fn remove(&mut self, place: u64) -> Option<Expectation> {
        let e = self.by_place.remove(&place)?;
        if let Some(places) = self.by_client.get_mut(&client_key(&e)) {
            places.remove(&place);
            if places.is_empty() {
                self.by_client.remove(&client_key(&e));
            }
        }
        if self.by_advertised.get_mut(&advertised_key(&e)).is_some_and(|f| f.remove(place, e.session)) {
            self.by_advertised.remove(&advertised_key(&e));
        }
        if self.by_server.get_mut(&server_key(&e)).is_some_and(|f| f.remove(place, e.session)) {
            self.by_server.remove(&server_key(&e));
        }
        Some(e)
    }

    /// Keys filed under, all indexes: each is removed when it empties.
    #[cfg(test)]
    pub fn keys(&self) -> usize {
        self.by_client.len().saturating_add(self.by_advertised.len()).saturating_add(self.by_server.len())
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::super::tests::passive;
    use super::*;

    #[test]
    fn each_index_finds_what_is_filed_and_forgets_what_is_removed() {
        let mut w = Waiting::default();
        let mut a = passive("10.0.0.20:5000");
        a.session = 1;
        let mut b = passive("10.0.0.20:5000");
        b.session = 2;
        b.control_client = "192.168.1.11".parse().unwrap();
        assert!(w.push(a) && w.push(b));
        let client: IpAddr = "192.168.1.10".parse().unwrap();
        assert_eq!(w.of_client(Mode::Passive, 5000, client).collect::<Vec<_>>(), vec![0]);
        assert_eq!(w.of_client(Mode::Active, 5000, client).count(), 0, "modes are filed apart");
        let adv = w.advertising(Mode::Passive, "10.0.0.20:5000".parse().unwrap(), false).unwrap();
        assert_eq!((adv.newest(), adv.several_sessions()), (Some(1), true));
        let srv = w.of_server(Mode::Passive, "203.0.113.5".parse().unwrap(), 5000).unwrap();
        assert_eq!(srv.newest(), Some(1));
        assert_eq!(w.remove(1).map(|e| e.session), Some(2));
        let adv = w.advertising(Mode::Passive, "10.0.0.20:5000".parse().unwrap(), false).unwrap();
        assert_eq!((adv.newest(), adv.several_sessions()), (Some(0), false));
        w.remove(0);
        assert!(w.is_empty());
        assert_eq!(w.keys(), 0, "an emptied key is removed");
    }

    #[test]
    fn a_client_keeps_its_newest_few_on_a_port() {
        let mut w = Waiting::default();
        for n in 0..MAX_PER_CLIENT as u32 + 3 {
            let mut e = passive("10.0.0.20:5000");
            e.negotiation = n;
            assert_eq!(w.push(e), (n as usize) < MAX_PER_CLIENT);
        }
        let client: IpAddr = "192.168.1.10".parse().unwrap();
        let kept: Vec<u32> = w.of_client(Mode::Passive, 5000, client).map(|p| w.get(p).unwrap().negotiation).collect();
        assert_eq!(kept, (3..MAX_PER_CLIENT as u32 + 3).collect::<Vec<_>>());
        assert_eq!(w.len(), MAX_PER_CLIENT);
        // Another client on the same port is not pushed out.
        let mut other = passive("10.0.0.20:5000");
        other.control_client = "192.168.1.11".parse().unwrap();
        assert!(w.push(other));
    }
}
