//! What waits for a connection, indexed by the port that connection will go to: a SYN can only
//! fit what waits on its destination port, so it looks at those and no others, however many wait
//! on other ports. Kept in the order added too, so that the oldest (which expiry and the bounds
//! remove first) is found at once. Used for the announced endpoints ([`super::Expectations`]) and
//! the connections that opened before their announcement was read ([`super::untied`]).

use crate::Timestamp;
use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, VecDeque};

#[derive(Debug)]
pub struct ByPort<T> {
    /// By port, each list oldest first, every item tagged with its place in the order of
    /// [`ByPort::push`]. Ports are chosen by whoever is on the wire (an attacker, maybe), but
    /// only 65,536 exist and Fx spreads all of them evenly (in a table of 8,192 buckets, none is
    /// the home of more than 9 ports), so no choice of ports slows a lookup down: a plain Fx map,
    /// without a random seed, is fine. A port's list is removed when it empties, so the map holds
    /// only ports that have items.
    by_port: FxHashMap<u16, VecDeque<(u64, T)>>,
    /// Every item by its place in the order of `push`, with its port and time: the oldest is the
    /// first entry.
    order: BTreeMap<u64, (u16, Timestamp)>,
    /// Place in the order of `push` of the next item.
    next_place: u64,
}

impl<T> Default for ByPort<T> {
    fn default() -> Self {
        ByPort { by_port: FxHashMap::default(), order: BTreeMap::new(), next_place: 0 }
    }
}

impl<T> ByPort<T> {
    /// Adds an item waiting on `port`, stamped `time`.
    pub fn push(&mut self, port: u16, time: Timestamp, item: T) {
        let place = self.next_place;
        self.next_place += 1;
        self.order.insert(place, (port, time));
        self.by_port.entry(port).or_default().push_back((place, item));
    }

    /// Items waiting, all ports.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Ports with an item waiting.
    #[cfg(test)]
    pub fn ports(&self) -> usize {
        self.by_port.len()
    }

    /// The time of the oldest item.
    pub fn oldest_time(&self) -> Option<Timestamp> {
        self.order.first_key_value().map(|(_, &(_, time))| time)
    }

    /// The items waiting on `port`, oldest first (their positions are what [`ByPort::take`] takes).
    pub fn on(&self, port: u16) -> Option<impl DoubleEndedIterator<Item = &T> + ExactSizeIterator> {
        self.by_port.get(&port).map(|waiting| waiting.iter().map(|(_, item)| item))
    }

    /// Takes the item at `position` of `port`'s list.
    pub fn take(&mut self, port: u16, position: usize) -> Option<T> {
        let Entry::Occupied(mut waiting) = self.by_port.entry(port) else { return None };
        let (place, item) = waiting.get_mut().remove(position)?;
        if waiting.get().is_empty() {
            waiting.remove();
        }
        self.order.remove(&place);
        Some(item)
    }

    /// Removes the oldest item, which is also the oldest of its port.
    pub fn remove_oldest(&mut self) {
        let Some((_, (port, _))) = self.order.pop_first() else { return };
        if let Entry::Occupied(mut waiting) = self.by_port.entry(port) {
            waiting.get_mut().pop_front();
            if waiting.get().is_empty() {
                waiting.remove();
            }
        }
    }

    /// Removes the oldest item of `port`.
    pub fn remove_oldest_of(&mut self, port: u16) {
        self.take(port, 0);
    }
}
