//! Records kept in order of arrival in a slab, each also filed on a few lists of its own kind
//! (one list per index key it is filed under), linked through the records themselves: a record
//! is found, filed, unfiled and removed in a few steps, the oldest of a list or of all is at
//! hand, and nothing is allocated once the slab has grown to its owner's bound.
//!
//! The correlation indexes ([`super::waiting`], [`super::taken`], [`super::untied`]) were
//! B-tree maps of places with a B-tree set of places under each key: on /tmp/a-10000.pcap
//! (thousands of expectations on one endpoint) a SYN's take and a negotiation's filing walked
//! five to eight trees of thousands each, ~1.5-3k instructions a call.
//!
//! Owns the slots, the order of arrival and the links. Must not know what a record is filed
//! under: its owner keeps the [`List`] of each key and says which of a record's lists it means.

/// No slot: the end of a list.
const NIL: u32 = u32::MAX;

/// Where a record is: its slot, and its number in order of arrival (a slot is reused; the
/// number tells a record from the ones that had its slot before). Ordered by arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    seq: u64,
    slot: u32,
}

impl Place {
    /// Its number in order of arrival, from 0.
    #[cfg(test)]
    pub fn seq(self) -> u64 {
        self.seq
    }
}

/// A record's neighbours on one list (older, newer).
#[derive(Debug, Clone, Copy)]
pub struct Link {
    older: u32,
    newer: u32,
}

const UNLINKED: Link = Link { older: NIL, newer: NIL };

/// The records filed under one key, oldest first.
#[derive(Debug, Clone, Copy)]
pub struct List {
    oldest: u32,
    newest: u32,
    len: u32,
}

impl Default for List {
    fn default() -> Self {
        List { oldest: NIL, newest: NIL, len: 0 }
    }
}

impl List {
    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[derive(Debug)]
struct Slot<T, const L: usize> {
    seq: u64,
    value: Option<T>,
    /// Link 0 is the order of arrival of all; the others are the owner's lists.
    links: [Link; L],
}

/// Records of type `T`, each on `L` lists: list 0, the order of arrival, is the slab's own;
/// lists 1 to `L - 1` are its owner's.
#[derive(Debug)]
pub struct Slab<T, const L: usize> {
    slots: Vec<Slot<T, L>>,
    free: Vec<u32>,
    arrival: List,
    next_seq: u64,
}

impl<T, const L: usize> Default for Slab<T, L> {
    fn default() -> Self {
        Slab { slots: Vec::new(), free: Vec::new(), arrival: List::default(), next_seq: 0 }
    }
}

const ARRIVAL: usize = 0;

impl<T: Copy, const L: usize> Slab<T, L> {
    /// Keeps `value`, the newest; the owner files it on its lists.
    pub fn insert(&mut self, value: T) -> Place {
        let seq = self.next_seq;
        self.next_seq = seq.saturating_add(1);
        let record = Slot { seq, value: Some(value), links: [UNLINKED; L] };
        let slot = match self.free.pop() {
            Some(slot) => {
                if let Some(s) = self.slots.get_mut(slot as usize) {
                    *s = record;
                }
                slot
            }
            None => {
                // The owners' bounds keep a few thousand records at once: far below NIL.
                let slot = u32::try_from(self.slots.len()).expect("a slab holds fewer than u32::MAX records");
                self.slots.push(record);
                slot
            }
        };
        let mut arrival = self.arrival;
        self.push_newest(&mut arrival, ARRIVAL, slot);
        self.arrival = arrival;
        Place { seq, slot }
    }

    /// Takes the record at `place` out of the order of arrival; the owner must have taken it off
    /// its lists.
    pub fn remove(&mut self, place: Place) -> Option<T> {
        let value = self.get(place)?;
        let mut arrival = self.arrival;
        self.unlink(&mut arrival, ARRIVAL, place);
        self.arrival = arrival;
        if let Some(s) = self.slots.get_mut(place.slot as usize) {
            s.value = None;
        }
        self.free.push(place.slot);
        Some(value)
    }

    /// The record at `place`, if it is still kept.
    pub fn get(&self, place: Place) -> Option<T> {
        self.slots.get(place.slot as usize).filter(|s| s.seq == place.seq).and_then(|s| s.value)
    }

    pub fn len(&self) -> usize {
        self.arrival.len()
    }

    pub fn is_empty(&self) -> bool {
        self.arrival.is_empty()
    }

    /// The oldest record.
    pub fn oldest(&self) -> Option<(Place, T)> {
        self.at(self.arrival.oldest)
    }

    /// The newest record of `list`.
    pub fn newest_of(&self, list: &List) -> Option<(Place, T)> {
        self.at(list.newest)
    }

    /// The oldest record of `list`.
    pub fn oldest_of(&self, list: &List) -> Option<(Place, T)> {
        self.at(list.oldest)
    }

    /// Files the record at `place` as the newest of `list`, the owner's list number `which`.
    pub fn file(&mut self, list: &mut List, which: usize, place: Place) {
        self.push_newest(list, which, place.slot);
    }

    /// Takes the record at `place` off `list` (its list number `which`); returns its
    /// neighbours there, older and newer, as they were.
    pub fn unfile(&mut self, list: &mut List, which: usize, place: Place) -> (Option<T>, Option<T>) {
        let link = self.unlink(list, which, place);
        (self.value_at(link.older), self.value_at(link.newer))
    }

    /// The records of `list` (list number `which`), oldest first.
    pub fn oldest_first<'a>(&'a self, list: &List, which: usize) -> impl Iterator<Item = (Place, T)> + 'a {
        self.walk(list.oldest, which, |link| link.newer)
    }

    /// The records of `list` (list number `which`), newest first.
    pub fn newest_first<'a>(&'a self, list: &List, which: usize) -> impl Iterator<Item = (Place, T)> + 'a {
        self.walk(list.newest, which, |link| link.older)
    }

    /// The records from slot `at` on, following `next` on list number `which`.
    fn walk<'a>(&'a self, mut at: u32, which: usize, next: fn(Link) -> u32) -> impl Iterator<Item = (Place, T)> + 'a {
        std::iter::from_fn(move || {
            let found = self.at(at)?;
            at = next(self.link(at, which));
            Some(found)
        })
    }

    fn at(&self, slot: u32) -> Option<(Place, T)> {
        let s = self.slots.get(slot as usize)?;
        Some((Place { seq: s.seq, slot }, s.value?))
    }

    fn value_at(&self, slot: u32) -> Option<T> {
        self.slots.get(slot as usize).and_then(|s| s.value)
    }

    fn link(&self, slot: u32, which: usize) -> Link {
        self.slots.get(slot as usize).and_then(|s| s.links.get(which)).copied().unwrap_or(UNLINKED)
    }

    fn link_mut(&mut self, slot: u32, which: usize) -> Option<&mut Link> {
        self.slots.get_mut(slot as usize)?.links.get_mut(which)
    }

    fn push_newest(&mut self, list: &mut List, which: usize, slot: u32) {
        let newest = list.newest;
        if let Some(link) = self.link_mut(slot, which) {
            *link = Link { older: newest, newer: NIL };
        }
        match self.link_mut(newest, which) {
            Some(link) => link.newer = slot,
            None => list.oldest = slot,
        }
        list.newest = slot;
        list.len = list.len.saturating_add(1);
    }

    fn unlink(&mut self, list: &mut List, which: usize, place: Place) -> Link {
        let link = self.link(place.slot, which);
        match self.link_mut(link.older, which) {
            Some(older) => older.newer = link.newer,
            None => list.oldest = link.newer,
        }
        match self.link_mut(link.newer, which) {
            Some(newer) => newer.older = link.older,
            None => list.newest = link.older,
        }
        if let Some(own) = self.link_mut(place.slot, which) {
            *own = UNLINKED;
        }
        list.len = list.len.saturating_sub(1);
        link
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn lists_keep_order_through_removals_and_reused_slots() {
        let mut s: Slab<u32, 2> = Slab::default();
        let mut even = List::default();
        let places: Vec<Place> = (0..6).map(|v| s.insert(v)).collect();
        for &p in places.iter().step_by(2) {
            s.file(&mut even, 1, p);
        }
        let values = |s: &Slab<u32, 2>, l: &List| s.oldest_first(l, 1).map(|(_, v)| v).collect::<Vec<_>>();
        assert_eq!(values(&s, &even), [0, 2, 4]);
        assert_eq!(s.unfile(&mut even, 1, places[2]), (Some(0), Some(4)));
        assert_eq!(s.remove(places[2]), Some(2));
        assert_eq!(s.get(places[2]), None, "removed");
        assert_eq!(values(&s, &even), [0, 4]);
        assert_eq!(s.newest_first(&even, 1).map(|(_, v)| v).collect::<Vec<_>>(), [4, 0]);
        // The slot is reused; the old place does not find the new record.
        let reused = s.insert(6);
        assert_eq!(s.get(places[2]), None);
        assert_eq!(s.get(reused), Some(6));
        assert!(reused > places[5], "newer");
        assert_eq!(s.oldest().map(|(_, v)| v), Some(0));
        s.unfile(&mut even, 1, places[0]);
        s.remove(places[0]);
        assert_eq!(s.oldest().map(|(_, v)| v), Some(1));
        assert_eq!((s.len(), even.len()), (5, 1));
        assert_eq!(s.oldest_of(&even).map(|(_, v)| v), Some(4));
        assert_eq!(s.newest_of(&even).map(|(_, v)| v), Some(4));
    }
}
