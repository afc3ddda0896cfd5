//! How many records of an index are filed under each port: a SYN to a port nothing waits on
//! (a control connection to port 21, a web page), or a negotiation whose port no untied SYN
//! called, is answered by one read instead of the index's hash lookups (eight for a SYN, five
//! for a negotiation).
//!
//! Owns the counts only. Must not know what is counted: its owner adds and removes in step
//! with its own records.

/// A count per port, allocated (128 KiB) when the first record is filed.
#[derive(Debug, Default)]
pub struct PortCounts {
    counts: Vec<u16>,
}

impl PortCounts {
    pub fn add(&mut self, port: u16) {
        if self.counts.is_empty() {
            self.counts = vec![0; usize::from(u16::MAX).saturating_add(1)];
        }
        // The owners' bounds keep at most a few thousand records: a count never saturates.
        if let Some(count) = self.counts.get_mut(usize::from(port)) {
            *count = count.saturating_add(1);
        }
    }

    pub fn remove(&mut self, port: u16) {
        if let Some(count) = self.counts.get_mut(usize::from(port)) {
            *count = count.saturating_sub(1);
        }
    }

    /// Is anything filed under `port`?
    pub fn any(&self, port: u16) -> bool {
        self.counts.get(usize::from(port)).is_some_and(|&count| count > 0)
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_port_counts_until_its_last_record_goes() {
        let mut p = PortCounts::default();
        assert!(!p.any(21));
        p.add(5000);
        p.add(5000);
        p.add(u16::MAX);
        p.remove(5000);
        assert!(p.any(5000) && p.any(u16::MAX) && !p.any(21));
        p.remove(5000);
        assert!(!p.any(5000));
    }
}
