//! What an explanation has already said, and where: the one rule every output that explains
//! many sessions follows (explain's text and its HTML page). What is told is a list of causes
//! with the fixes that answer them: a session's causes with its fixes, or one finding's cause
//! with its own fixes. The first session to tell it says it in full; a later session that would
//! say the same refers back to it (500 sessions with one problem read as one problem).
//!
//! Owns that rule only: each output words the reference its own way.

use super::Cause;
use crate::model::Fix;

/// The tellings so far, each with the session that told it first.
#[derive(Debug, Default)]
pub struct Told {
    first: Vec<(Vec<Cause>, Vec<Fix>, u32)>,
}

impl Told {
    /// The other session that already told `causes` with `fixes`, if one did; otherwise None,
    /// and `session` is now the one that told them. A session never refers to itself.
    pub fn earlier(&mut self, causes: &[Cause], fixes: &[Fix], session: u32) -> Option<u32> {
        // Told in the same words: one cause (one name) reads differently where its data
        // connections worked (private_address_leak), and that must not be referred away.
        let same_words = |c: &[Cause]| c.len() == causes.len() && c.iter().zip(causes).all(|(a, b)| a == b && a.sentence == b.sentence);
        match self.first.iter().find(|(c, f, _)| same_words(c) && f.as_slice() == fixes) {
            Some(&(_, _, first)) => (first != session).then_some(first),
            None => {
                self.first.push((causes.to_vec(), fixes.to_vec(), session));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problems::data_connection_failed::PASSIVE_PORT_DROPPED;
    use crate::problems::private_address_leak::SERVER_NAT_PRIVATE_ADDRESS;

    const LEAK: Cause = SERVER_NAT_PRIVATE_ADDRESS;
    const DROPPED: Cause = PASSIVE_PORT_DROPPED;

    #[test]
    fn the_first_session_tells_the_later_ones_refer_to_it() {
        let mut told = Told::default();
        let fixes = [Fix::UsePassiveMode];
        assert_eq!(told.earlier(&[LEAK], &fixes, 3), None);
        assert_eq!(told.earlier(&[LEAK], &fixes, 7), Some(3));
        assert_eq!(told.earlier(&[LEAK], &fixes, 9), Some(3));
    }

    #[test]
    fn other_causes_or_other_fixes_are_told_again() {
        let mut told = Told::default();
        assert_eq!(told.earlier(&[LEAK], &[Fix::UsePassiveMode], 1), None);
        assert_eq!(told.earlier(&[DROPPED], &[Fix::UsePassiveMode], 2), None, "another cause");
        assert_eq!(told.earlier(&[LEAK], &[], 3), None, "other fixes");
        assert_eq!(told.earlier(&[LEAK, DROPPED], &[Fix::UsePassiveMode], 4), None, "more causes");
        assert_eq!(told.earlier(&[DROPPED, LEAK], &[Fix::UsePassiveMode], 5), None, "in another order: worst first differs");
        let worked = crate::problems::private_address_leak::SERVER_NAT_PRIVATE_ADDRESS_WORKED;
        assert_eq!(worked, LEAK, "one cause by name");
        assert_eq!(told.earlier(&[worked], &[Fix::UsePassiveMode], 6), None, "the same cause, told in other words");
    }

    #[test]
    fn a_session_does_not_refer_to_itself() {
        // Two findings of one session with the same cause and fixes are both explained.
        let mut told = Told::default();
        assert_eq!(told.earlier(&[LEAK], &[], 4), None);
        assert_eq!(told.earlier(&[LEAK], &[], 4), None);
        assert_eq!(told.earlier(&[LEAK], &[], 5), Some(4));
    }
}
