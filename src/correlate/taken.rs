//! Expectations a connection took, kept as long as they would have waited (stamped when taken):
//! a connection that did not open may be tried again ([`super::retry`]), and a retry comes from
//! the host that made the first try, to the same port. So they are filed under that port and
//! that host, and a SYN looks at those only, not at everything its port has had taken.
//!
//! Owns the index, the order of taking (expiry and the bounds remove the oldest first) and the
//! bounds. Must not judge whether a connection is a retry: the caller does.

use super::waiting::MAX_PER_CLIENT;
use super::Expectation;
use crate::{AddrMap, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// (advertised port, address of the host whose SYN took it)
type Key = (u16, IpAddr);

#[derive(Debug, Default)]
pub struct Taken {
    by_place: BTreeMap<u64, (Key, Timestamp, Expectation)>,
    next_place: u64,
    by_taker: AddrMap<Key, BTreeSet<u64>>,
}

impl Taken {
    /// Keeps `e`, taken at `now` by a SYN from `taker`; the number of older ones pushed out by
    /// the bounds (`max` in all, [`MAX_PER_CLIENT`] per port and host).
    pub fn push(&mut self, e: Expectation, taker: IpAddr, now: Timestamp, max: usize) -> u64 {
        let key = (e.advertised.port(), taker);
        let mut pushed_out: u64 = 0;
        let oldest_of_taker = self.by_taker.get(&key).filter(|p| p.len() >= MAX_PER_CLIENT).and_then(|p| p.first().copied());
        if let Some(oldest) = oldest_of_taker {
            self.remove(oldest);
            pushed_out = 1;
        }
        if self.by_place.len() >= max {
            self.remove_oldest();
            pushed_out = pushed_out.saturating_add(1);
        }
        let place = self.next_place;
        self.next_place = self.next_place.saturating_add(1);
        self.by_taker.entry(key).or_default().insert(place);
        self.by_place.insert(place, (key, now, e));
        pushed_out
    }

    /// When the oldest was taken.
    pub fn oldest_time(&self) -> Option<Timestamp> {
        self.by_place.first_key_value().map(|(_, &(_, time, _))| time)
    }

    pub fn remove_oldest(&mut self) {
        if let Some((&place, _)) = self.by_place.first_key_value() {
            self.remove(place);
        }
    }

    /// The expectations on `port` that a SYN from `taker` took, oldest first.
    pub fn of(&self, port: u16, taker: IpAddr) -> impl DoubleEndedIterator<Item = &Expectation> + '_ {
        let places = self.by_taker.get(&(port, taker)).into_iter().flatten();
        places.filter_map(|place| self.by_place.get(place).map(|(_, _, e)| e))
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_place.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.by_place.is_empty()
    }

    fn remove(&mut self, place: u64) {
        let Some((key, _, _)) = self.by_place.remove(&place) else { return };
        if let Some(places) = self.by_taker.get_mut(&key) {
            places.remove(&place);
            if places.is_empty() {
                self.by_taker.remove(&key);
            }
        }
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
        assert_eq!(t.of(5000, a).next().map(|e| e.negotiation), Some(2), "the oldest of the host went");
        assert_eq!(t.of(5000, b).count(), 0);
        assert_eq!(t.of(5001, a).count(), 0);
        // The bound in all pushes out the oldest whoever took it.
        assert_eq!(t.push(passive("10.0.0.20:5000"), b, Timestamp(2), MAX_PER_CLIENT), 1);
        assert_eq!(t.len(), MAX_PER_CLIENT);
        assert_eq!(t.of(5000, a).next().map(|e| e.negotiation), Some(3));
        while !t.is_empty() {
            t.remove_oldest();
        }
        assert!(t.by_taker.is_empty(), "an emptied key is removed");
    }
}
