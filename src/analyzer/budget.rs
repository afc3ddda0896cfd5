//! The buffer budget: the bytes all control channels and probes hold together (out-of-order
//! bytes, partial lines, lines held while deciding whether a connection is FTP), against one
//! limit (Suricata's stream memcap).
//!
//! Owns the running total and each flow's share of it ([`Held`]): a share changes only through
//! the budget, so the total is always the sum of the shares. Must not decide what a channel
//! gives up when the budget is spent: the analyzer flushes the channel and sets its new share.

/// One flow's share of the budget. Only [`BufferBudget`] changes it.
#[derive(Debug, Default)]
pub(super) struct Held(usize);

impl Held {
    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.0
    }
}

#[derive(Debug)]
pub(super) struct BufferBudget {
    limit: usize,
    held: usize,
}

impl BufferBudget {
    pub(super) fn new(limit: usize) -> BufferBudget {
        BufferBudget { limit, held: 0 }
    }

    /// Bytes held by all flows together.
    #[cfg(test)]
    pub(super) fn held(&self) -> usize {
        self.held
    }

    /// `share` holds `bytes` now.
    pub(super) fn set(&mut self, share: &mut Held, bytes: usize) {
        self.held = self.others(share).saturating_add(bytes);
        share.0 = bytes;
    }

    /// Bytes held by every flow but `share`'s. The total is the sum of the shares, never less
    /// than one of them, and the shares are bytes in memory, whose sum fits a usize; saturating
    /// all the same, so that what a channel asks for (`spent_by`) cannot wrap below the limit.
    fn others(&self, share: &Held) -> usize {
        self.held.saturating_sub(share.0)
    }

    /// `share` holds nothing any more (its flow is gone, or stopped buffering).
    pub(super) fn release(&mut self, share: &mut Held) {
        self.set(share, 0);
    }

    /// Would `share` holding `bytes` take the total past the limit? Then a channel stops
    /// waiting for holes and drops its partial lines rather than grow. Holding nothing never
    /// is: there is nothing to give up.
    pub(super) fn spent_by(&self, share: &Held, bytes: usize) -> bool {
        bytes > 0 && self.others(share).saturating_add(bytes) > self.limit
    }

    /// Probes may use a reserve, a quarter past the limit, so that channels holding the budget
    /// cannot stop new sessions from being recognised; is the reserve spent too? Then an
    /// undecided probe is given up: FTP sessions already followed matter more than a maybe.
    /// A limit within a quarter of usize::MAX has its reserve cut at usize::MAX.
    pub(super) fn reserve_spent(&self) -> bool {
        self.held > self.limit.saturating_add(self.limit / 4)
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn the_total_is_the_sum_of_the_shares() {
        let mut budget = BufferBudget::new(100);
        let (mut a, mut b) = (Held::default(), Held::default());
        budget.set(&mut a, 30);
        budget.set(&mut b, 50);
        assert_eq!(budget.held(), 80);
        budget.set(&mut a, 10);
        assert_eq!((budget.held(), a.bytes()), (60, 10), "a share that shrinks gives bytes back");
        budget.release(&mut b);
        assert_eq!((budget.held(), b.bytes()), (10, 0));
        budget.release(&mut b);
        assert_eq!(budget.held(), 10, "releasing twice gives back nothing more");
    }

    #[test]
    fn a_share_spends_the_budget_only_past_the_limit() {
        let mut budget = BufferBudget::new(100);
        let (mut a, b) = (Held::default(), Held::default());
        budget.set(&mut a, 60);
        assert!(!budget.spent_by(&a, 100), "a share is counted once: 100 in all");
        assert!(budget.spent_by(&a, 101));
        assert!(!budget.spent_by(&b, 40));
        assert!(budget.spent_by(&b, 41));
        budget.set(&mut a, 200);
        assert!(!budget.spent_by(&b, 0), "a share that holds nothing has nothing to give up");
    }

    #[test]
    fn probes_have_a_quarter_more_in_reserve() {
        let mut budget = BufferBudget::new(100);
        let mut probe = Held::default();
        budget.set(&mut probe, 125);
        assert!(!budget.reserve_spent());
        budget.set(&mut probe, 126);
        assert!(budget.reserve_spent());
    }

    /// A library user may set any limit (`Settings::buffer_budget`), and a share is whatever a
    /// channel asks for: no sum wraps (debug builds panic on one).
    #[test]
    fn no_sum_wraps_at_the_ends_of_usize() {
        let mut budget = BufferBudget::new(usize::MAX);
        let (mut a, b) = (Held::default(), Held::default());
        budget.set(&mut a, 1000);
        assert!(!budget.reserve_spent(), "the reserve is cut at usize::MAX");
        assert!(!budget.spent_by(&b, usize::MAX), "nothing is past a limit of usize::MAX");
        let (mut budget, mut a) = (BufferBudget::new(100), Held::default());
        budget.set(&mut a, 10);
        assert!(budget.spent_by(&b, usize::MAX), "a sum past usize::MAX is past the limit, not wrapped below it");
    }
}
