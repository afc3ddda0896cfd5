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

use super::ports::PortCounts;
use super::slab::{List, Place, Slab};
use super::Expectation;
use crate::model::Mode;
use crate::{AddrMap, Timestamp};
use std::net::{IpAddr, SocketAddr};

/// Expectations one client address may have waiting on one port at once. A client negotiates
/// one connection at a time; a few clients behind one address (carrier-grade NAT) a few more.
/// Past it the oldest is dropped (counted): a flood of PASV from one address costs each SYN of
/// that address at most this many comparisons.
pub const MAX_PER_CLIENT: usize = 16;

/// The slab's lists an expectation is on besides the order of arrival (list 0).
const BY_CLIENT: usize = 1;
const BY_ADVERTISED: usize = 2;
const BY_SERVER: usize = 3;

/// The expectations filed under one key, and whether they belong to two sessions or more:
/// candidates timing cannot separate.
#[derive(Debug, Default)]
pub struct Filed {
    list: List,
    /// Neighbours in order of arrival that are of two sessions: none exactly when all are one
    /// session's. Kept as each is filed and unfiled, in place of a count per session (a hash map
    /// under each key, a hash insert and remove per expectation).
    session_changes: u32,
}

impl Filed {
    fn file(&mut self, slab: &mut Slab<Expectation, 4>, which: usize, place: Place, e: &Expectation) {
        if slab.newest_of(&self.list).is_some_and(|(_, newest)| newest.session != e.session) {
            self.session_changes = self.session_changes.saturating_add(1);
        }
        slab.file(&mut self.list, which, place);
    }

    /// Takes `e`, at `place`, off the list; true when nothing is left.
    fn unfile(&mut self, slab: &mut Slab<Expectation, 4>, which: usize, place: Place, e: &Expectation) -> bool {
        let (older, newer) = slab.unfile(&mut self.list, which, place);
        let changes =
            |a: Option<&Expectation>, b: Option<&Expectation>| u32::from(matches!((a, b), (Some(a), Some(b)) if a.session != b.session));
        let (older, newer) = (older.as_ref(), newer.as_ref());
        let gone = changes(older, Some(e)).saturating_add(changes(Some(e), newer));
        self.session_changes = self.session_changes.saturating_sub(gone).saturating_add(changes(older, newer));
        self.list.is_empty()
    }

    /// Places of two sessions or more are filed here.
    pub fn several_sessions(&self) -> bool {
        self.session_changes > 0
    }
}

type ClientKey = (Mode, u16, IpAddr);
type ServerKey = (Mode, IpAddr, u16);
type AdvertisedKey = (Mode, SocketAddr, bool);

#[derive(Debug, Default)]
pub struct Waiting {
    /// In order of arrival, each also on its client's, its advertised endpoint's and its
    /// server's list.
    slab: Slab<Expectation, 4>,
    /// Addresses are chosen by whoever is on the wire: a seeded hash (`AddrMap`).
    by_client: AddrMap<ClientKey, List>,
    /// By advertised endpoint, and whether it is the control connection's own host.
    by_advertised: AddrMap<AdvertisedKey, Filed>,
    by_server: AddrMap<ServerKey, Filed>,
    /// By advertised port: a SYN to another port is no candidate's.
    ports: PortCounts,
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
        let of_client = self.by_client.get(&client_key(&e)).filter(|l| l.len() >= MAX_PER_CLIENT);
        if let Some((oldest, _)) = of_client.and_then(|l| self.slab.oldest_of(l)) {
            self.remove(oldest);
            within_bound = false;
        }
        let place = self.slab.insert(e);
        self.ports.add(e.advertised.port());
        self.slab.file(self.by_client.entry(client_key(&e)).or_default(), BY_CLIENT, place);
        self.by_advertised.entry(advertised_key(&e)).or_default().file(&mut self.slab, BY_ADVERTISED, place, &e);
        self.by_server.entry(server_key(&e)).or_default().file(&mut self.slab, BY_SERVER, place, &e);
        within_bound
    }

    pub fn len(&self) -> usize {
        self.slab.len()
    }

    /// Does an expectation wait on `port`?
    pub fn awaits(&self, port: u16) -> bool {
        self.ports.any(port)
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }

    /// The oldest expectation's place and creation time.
    pub fn oldest(&self) -> Option<(Place, Timestamp)> {
        self.slab.oldest().map(|(place, e)| (place, e.created))
    }

    /// `client`'s expectations of `mode` on `port`, oldest first (at most [`MAX_PER_CLIENT`]).
    pub fn of_client(&self, mode: Mode, port: u16, client: IpAddr) -> impl Iterator<Item = (Place, Expectation)> + '_ {
        self.by_client.get(&(mode, port, client)).into_iter().flat_map(|l| self.slab.oldest_first(l, BY_CLIENT))
    }

    /// The expectations of `mode` advertising exactly `endpoint`, [`Expectation::direct`] or not.
    pub fn advertising(&self, mode: Mode, endpoint: SocketAddr, direct: bool) -> Option<&Filed> {
        self.by_advertised.get(&(mode, endpoint, direct))
    }

    /// The expectations of `mode` whose control server is `server`, advertising `port`.
    pub fn of_server(&self, mode: Mode, server: IpAddr, port: u16) -> Option<&Filed> {
        self.by_server.get(&(mode, server, port))
    }

    /// The newest of the expectations `filed` under one key.
    pub fn newest(&self, filed: &Filed) -> Option<(Place, Expectation)> {
        self.slab.newest_of(&filed.list)
    }

    /// Takes the expectation at `place` out of every index.
    pub fn remove(&mut self, place: Place) -> Option<Expectation> {
        let e = self.slab.get(place)?;
        self.ports.remove(e.advertised.port());
        let key = client_key(&e);
        if let Some(list) = self.by_client.get_mut(&key) {
            self.slab.unfile(list, BY_CLIENT, place);
            if list.is_empty() {
                self.by_client.remove(&key);
            }
        }
        let key = advertised_key(&e);
        if self.by_advertised.get_mut(&key).is_some_and(|f| f.unfile(&mut self.slab, BY_ADVERTISED, place, &e)) {
            self.by_advertised.remove(&key);
        }
        let key = server_key(&e);
        if self.by_server.get_mut(&key).is_some_and(|f| f.unfile(&mut self.slab, BY_SERVER, place, &e)) {
            self.by_server.remove(&key);
        }
        self.slab.remove(place)
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
        let seqs = |w: &Waiting, mode| w.of_client(mode, 5000, client).map(|(p, _)| p.seq()).collect::<Vec<_>>();
        assert_eq!(seqs(&w, Mode::Passive), vec![0]);
        assert!(seqs(&w, Mode::Active).is_empty(), "modes are filed apart");
        let adv = w.advertising(Mode::Passive, "10.0.0.20:5000".parse().unwrap(), false).unwrap();
        let (newest, _) = w.newest(adv).unwrap();
        assert_eq!((newest.seq(), adv.several_sessions()), (1, true));
        let srv = w.of_server(Mode::Passive, "203.0.113.5".parse().unwrap(), 5000).unwrap();
        assert_eq!(w.newest(srv).map(|(p, _)| p), Some(newest));
        assert_eq!(w.remove(newest).map(|e| e.session), Some(2));
        let adv = w.advertising(Mode::Passive, "10.0.0.20:5000".parse().unwrap(), false).unwrap();
        let (oldest, _) = w.newest(adv).unwrap();
        assert_eq!((oldest.seq(), adv.several_sessions()), (0, false));
        w.remove(oldest);
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
        let kept: Vec<u32> = w.of_client(Mode::Passive, 5000, client).map(|(_, e)| e.negotiation).collect();
        assert_eq!(kept, (3..MAX_PER_CLIENT as u32 + 3).collect::<Vec<_>>());
        assert_eq!(w.len(), MAX_PER_CLIENT);
        // Another client on the same port is not pushed out.
        let mut other = passive("10.0.0.20:5000");
        other.control_client = "192.168.1.11".parse().unwrap();
        assert!(w.push(other));
    }
}
