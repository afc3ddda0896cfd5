//! Expectations a connection took, kept as long as they would have waited (stamped when taken):
//! a connection that did not open may be tried again ([`super::retry`]), and a retry comes from
//! the host that made the first try, to the same port. So they are filed under that port and
//! that host, and a SYN looks at those only, not at everything its port has had taken.
//!
//! Owns the index, the order of taking (expiry and the bounds remove the oldest first) and the
//! bounds. Must not judge whether a connection is a retry: the caller does.

use super::slab::{List, Place, Slab};
use super::waiting::MAX_PER_CLIENT;
use super::Expectation;
use crate::{AddrMap, Timestamp};
use std::net::IpAddr;

/// (advertised port, address of the host whose SYN took it)
type Key = (u16, IpAddr);

/// The slab's list of a taker's expectations on a port (list 0 is the order of taking).
const BY_TAKER: usize = 1;

#[derive(Debug, Default)]
pub struct Taken {
    /// In the order taken, each also on its taker's list: (key, when taken, expectation).
    slab: Slab<(Key, Timestamp, Expectation), 2>,
    by_taker: AddrMap<Key, List>,
}

impl Taken {
    /// Keeps `e`, taken at `now` by a SYN from `taker`; the number of older ones pushed out by
    /// the bounds (`max` in all, [`MAX_PER_CLIENT`] per port and host).
    pub fn push(&mut self, e: Expectation, taker: IpAddr, now: Timestamp, max: usize) -> u64 {
        let key = (e.advertised.port(), taker);
        let mut pushed_out: u64 = 0;
        let of_taker = self.by_taker.get(&key).filter(|l| l.len() >= MAX_PER_CLIENT);
        if let Some((oldest, _)) = of_taker.and_then(|l| self.slab.oldest_of(l)) {
            self.remove(oldest);
            pushed_out = 1;
        }
        if self.slab.len() >= max {
            self.remove_oldest();
            pushed_out = pushed_out.saturating_add(1);
        }
        let place = self.slab.insert((key, now, e));
        self.slab.file(self.by_taker.entry(key).or_default(), BY_TAKER, place);
        pushed_out
    }

    /// When the oldest was taken.
    pub fn oldest_time(&self) -> Option<Timestamp> {
        self.slab.oldest().map(|(_, (_, time, _))| time)
    }

    pub fn remove_oldest(&mut self) {
        if let Some((place, _)) = self.slab.oldest() {
            self.remove(place);
        }
    }

    /// The expectations on `port` that a SYN from `taker` took, newest first.
    pub fn newest_first(&self, port: u16, taker: IpAddr) -> impl Iterator<Item = Expectation> + '_ {
        let taken = self.by_taker.get(&(port, taker)).into_iter().flat_map(|l| self.slab.newest_first(l, BY_TAKER));
        taken.map(|(_, (_, _, e))| e)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }

    fn remove(&mut self, place: Place) {
        let Some((key, _, _)) = self.slab.get(place) else { return };
        if let Some(list) = self.by_taker.get_mut(&key) {
            self.slab.unfile(list, BY_TAKER, place);
            if list.is_empty() {
                self.by_taker.remove(&key);
            }
        }
        self.slab.remove(place);
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::super::tests::passive;
    use super::*;

    #[test]
    fn filed_by_port_and_taker_and_bounded_both_ways() {
        let mut t = Taken::default();
        let (a, b): (IpAddr, IpAddr) = ("192.168.1.10".parse().unwrap(), "192.168.1.11".parse().unwrap());
        for n in 0..MAX_PER_CLIENT as u32 + 2 {
            let mut e = passive("10.0.0.20:5000");
            e.negotiation = n;
            assert_eq!(t.push(e, a, Timestamp(1), 100), u64::from(n as usize >= MAX_PER_CLIENT));
        }
        assert_eq!(t.newest_first(5000, a).last().map(|e| e.negotiation), Some(2), "the oldest of the host went");
        assert_eq!(t.newest_first(5000, b).count(), 0);
        assert_eq!(t.newest_first(5001, a).count(), 0);
        // The bound in all pushes out the oldest whoever took it.
        assert_eq!(t.push(passive("10.0.0.20:5000"), b, Timestamp(2), MAX_PER_CLIENT), 1);
        assert_eq!(t.len(), MAX_PER_CLIENT);
        assert_eq!(t.newest_first(5000, a).last().map(|e| e.negotiation), Some(3));
        while !t.is_empty() {
            t.remove_oldest();
        }
        assert!(t.by_taker.is_empty(), "an emptied key is removed");
    }
}
