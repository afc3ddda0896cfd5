//! A data connection that did not open, tried again: a client given an unroutable 227 address
//! tries it, times out, and connects to the control address instead (or retries the same
//! endpoint from a new port). The later try is the negotiation's data connection; the failed
//! ones are its earlier attempts, kept as evidence, and the transfer is judged by the try that
//! carried it, not reported as a failure.
//!
//! Owns when a new connection is a retry, which connection a negotiation's facts come from as
//! packets arrive on its tries, and the reading of a failed connection whose transfer completed
//! all the same (the retry took a path this capture does not see). Pure: no packets, no I/O.

use super::outcome::decided_outcome;
use crate::ftp::session::NegState;
use crate::model::record::transfer_completed;
use crate::model::{MatchedBy, Outcome};
use crate::tcp::flow::Conn;

/// Failed tries one negotiation keeps: a client that retries more is a flood, and its later
/// connections are left untied.
pub const MAX_EARLIER_ATTEMPTS: usize = 4;

/// Is `new` another try at negotiation `n`'s data connection? Yes when the connection tied to
/// it has not opened (no SYN-ACK: unanswered so far, refused or unreachable), `new` comes from
/// the same host, and the transfer has not ended (its final reply would close the attempt).
pub fn is_retry(n: &NegState, new: &Conn) -> bool {
    let Some(tied) = &n.conn else { return false };
    !tied.same(new)
        && decided_outcome(tied) != Some(Outcome::Established)
        && tied.client.ip() == new.client.ip()
        && n.earlier.len() < MAX_EARLIER_ATTEMPTS
        && n.transfer.as_ref().is_none_or(|t| t.last.is_none())
}

/// Makes the connection that opens next (the retry) the negotiation's own; the one it replaces
/// becomes an earlier attempt. Its outcome is announced again when it is decided.
pub fn replace(n: &mut NegState, how: MatchedBy) {
    if let Some(tied) = n.conn.take() {
        n.earlier.push(tied);
    }
    n.matched_by = Some(how);
    n.outcome_announced = false;
}

/// Copies the latest facts of `c`, one of the negotiation's connections, into the negotiation.
/// True when `c` is its data connection (the one its outcome is read from), false for an
/// earlier attempt. An earlier attempt answered late stays an earlier attempt: the client had
/// moved on to its retry.
pub fn update(n: &mut NegState, c: &Conn) -> bool {
    match &mut n.conn {
        Some(tied) if !tied.same(c) => {
            if let Some(earlier) = n.earlier.iter_mut().find(|e| e.same(c)) {
                *earlier = *c;
            }
            false
        }
        slot => {
            *slot = Some(*c);
            true
        }
    }
}

/// A data connection that failed although the transfer's final reply says it completed (2xx):
/// the client connected again where this capture does not see it. The failed connection is an
/// earlier attempt, and the outcome is `unknown`, not a failure.
pub fn carried_elsewhere(connection_outcome: Outcome, transfer_reply: Option<u16>) -> bool {
    connection_outcome.is_failure() && transfer_reply.is_some_and(transfer_completed)
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::ftp::session::{ReplyRef, Transfer};
    use crate::model::NegotiationCommand;
    use crate::tcp::flow::Dir;
    use crate::Timestamp;

    fn conn(client: &str, server: &str, frame: u64) -> Conn {
        Conn::new(client.parse().unwrap(), server.parse().unwrap(), frame, Timestamp(frame as i64))
    }

    /// A PASV whose data connection (SYN in frame 11, not answered yet) went to a private address.
    fn tried_once() -> NegState {
        let mut n = NegState::new(9, Timestamp(9), NegotiationCommand::PASV);
        n.conn = Some(conn("192.0.2.50:41300", "10.0.0.50:10025", 11));
        n.matched_by = Some(MatchedBy::Advertised);
        n
    }

    #[test]
    fn a_later_connection_from_the_same_host_replaces_one_that_did_not_open() {
        let mut n = tried_once();
        let retry = conn("192.0.2.50:41301", "203.0.113.50:10025", 14);
        assert!(is_retry(&n, &retry));
        replace(&mut n, MatchedBy::ControlAddress);
        assert!(update(&mut n, &retry));
        assert!(n.conn.is_some_and(|c| c.same(&retry)));
        assert_eq!(n.earlier.len(), 1);
        assert_eq!(n.matched_by, Some(MatchedBy::ControlAddress));
        // Packets on the first try still update it, as an earlier attempt.
        let mut first = n.earlier[0];
        first.rst = Some((20, Dir::ToClient));
        assert!(!update(&mut n, &first));
        assert_eq!(n.earlier[0].rst, Some((20, Dir::ToClient)));
        assert!(n.conn.is_some_and(|c| c.same(&retry)));
    }

    #[test]
    fn no_retry_after_an_opened_connection_from_another_host_or_once_the_transfer_ended() {
        let from_elsewhere = conn("198.51.100.7:41301", "203.0.113.50:10025", 14);
        assert!(!is_retry(&tried_once(), &from_elsewhere));
        let retry = conn("192.0.2.50:41301", "203.0.113.50:10025", 14);
        let mut opened = tried_once();
        opened.conn.as_mut().unwrap().synack_frame = Some(12);
        assert!(!is_retry(&opened, &retry), "an established data connection is not retried");
        let mut ended = tried_once();
        let reply = ReplyRef { code: 425, frame: 13, text: "Failed to establish connection.".into() };
        ended.transfer = Some(Transfer {
            frame: 12,
            command: Some("LIST".into()),
            preliminary: None,
            last: Some(reply),
            aborted: None,
            asked: Default::default(),
        });
        assert!(!is_retry(&ended, &retry), "after the transfer's final reply, a new connection is not this one's");
        assert!(!is_retry(&tried_once(), &tried_once().conn.unwrap()), "the same connection is no retry of itself");
    }

    #[test]
    fn tries_are_bounded() {
        let mut n = tried_once();
        for k in 0..10 {
            let retry = conn(&format!("192.0.2.50:{}", 42000 + k), "203.0.113.50:10025", 20 + k);
            if is_retry(&n, &retry) {
                replace(&mut n, MatchedBy::ControlAddress);
                update(&mut n, &retry);
            }
        }
        assert_eq!(n.earlier.len(), MAX_EARLIER_ATTEMPTS);
    }

    #[test]
    fn a_failed_connection_with_a_completed_transfer_was_not_the_one_that_carried_it() {
        assert!(carried_elsewhere(Outcome::Unanswered, Some(226)));
        assert!(carried_elsewhere(Outcome::Refused, Some(250)));
        assert!(!carried_elsewhere(Outcome::Unanswered, Some(425)));
        assert!(!carried_elsewhere(Outcome::Unanswered, None));
        assert!(!carried_elsewhere(Outcome::Established, Some(226)));
    }
}
