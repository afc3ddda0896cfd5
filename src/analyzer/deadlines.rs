//! When each open session is looked at again, and whether it settles then: a session whose
//! control connection closed settles once nothing is left to wait for or its grace ran out; an
//! open one settles when it (and its latest data connection) went quiet for the idle timeout.
//!
//! Owns the schedule (earliest first; entries can be stale: a session looked at too early is
//! rescheduled) and the rule. Must not settle anything: it says which session is due and why
//! it settles, the analyzer settles it.

use crate::correlate::outcome::is_final;
use crate::ftp::session::SessionState;
use crate::model::{EndReason, Timestamp};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub(super) struct Deadlines {
    due: BinaryHeap<Reverse<(Timestamp, u32)>>,
    settle_grace_ns: i64,
    idle_timeout_ns: i64,
}

impl Deadlines {
    pub(super) fn new(settle_grace_ns: i64, idle_timeout_ns: i64) -> Deadlines {
        Deadlines { due: BinaryHeap::new(), settle_grace_ns, idle_timeout_ns }
    }

    /// Looks at `session` again at `time` (at the next check, if that is past already).
    pub(super) fn at(&mut self, time: Timestamp, session: u32) {
        self.due.push(Reverse((time, session)));
    }

    /// A session recognised at `time`: it is idle if nothing happens before its timeout.
    pub(super) fn started(&mut self, time: Timestamp, session: u32) {
        self.at(time.plus_ns(self.idle_timeout_ns), session);
    }

    /// The earliest time a session is to be looked at.
    pub(super) fn next(&self) -> Option<Timestamp> {
        self.due.peek().map(|Reverse((t, _))| *t)
    }

    /// A session due by `now`, taken off the schedule.
    pub(super) fn due(&mut self, now: Timestamp) -> Option<u32> {
        let &Reverse((time, id)) = self.due.peek()?;
        if time > now {
            return None;
        }
        self.due.pop();
        Some(id)
    }

    /// Does `s`, looked at `now`, settle (and why)? If not, it is looked at again when it
    /// could. Its latest data connection counts as activity (the control channel is quiet
    /// during a long transfer): its facts must be up to date.
    pub(super) fn settles(&mut self, s: &SessionState, now: Timestamp) -> Option<EndReason> {
        let (deadline, reason) = match s.closed_at {
            Some(closed) => (closed.plus_ns(self.settle_grace_ns), EndReason::Closed),
            None => {
                let data = s.negotiations.last().and_then(|n| n.conn).map(|c| c.last_ts);
                let active = data.map_or(s.last_ts, |d| d.max(s.last_ts));
                (active.plus_ns(self.idle_timeout_ns), EndReason::Idle)
            }
        };
        let nothing_to_wait_for = s.closed_at.is_some() && s.negotiations.iter().all(is_final);
        if now >= deadline || nothing_to_wait_for {
            Some(reason)
        } else {
            self.at(deadline, s.id);
            None
        }
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::ftp::session::NegState;
    use crate::model::NegotiationCommand;
    use crate::tcp::flow::Conn;

    const SECOND: i64 = 1_000_000_000;

    fn session(negotiations: usize) -> SessionState {
        let conn = Conn::new("192.168.1.10:40000".parse().unwrap(), "203.0.113.5:21".parse().unwrap(), 1, Timestamp(0));
        let mut s = SessionState::new(7, &conn);
        for _ in 0..negotiations {
            s.negotiations.push(NegState::new(5, Timestamp(SECOND), NegotiationCommand::PASV));
        }
        s
    }

    #[test]
    fn sessions_come_due_earliest_first() {
        let mut d = Deadlines::new(5 * SECOND, 600 * SECOND);
        d.at(Timestamp(30), 1);
        d.at(Timestamp(10), 2);
        d.started(Timestamp(0), 3);
        assert_eq!(d.next(), Some(Timestamp(10)));
        assert_eq!(d.due(Timestamp(9)), None);
        assert_eq!((d.due(Timestamp(30)), d.due(Timestamp(30)), d.due(Timestamp(30))), (Some(2), Some(1), None));
        assert_eq!(d.next(), Some(Timestamp(600 * SECOND)));
    }

    #[test]
    fn a_closed_session_waits_its_grace_for_what_is_not_final() {
        let mut d = Deadlines::new(5 * SECOND, 600 * SECOND);
        let mut s = session(1);
        // A data connection whose SYN is not answered yet: it may still be.
        s.negotiations[0].conn =
            Some(Conn::new("192.168.1.10:40001".parse().unwrap(), "10.0.0.20:40000".parse().unwrap(), 3, Timestamp(2)));
        s.closed_at = Some(Timestamp(10 * SECOND));
        assert_eq!(d.settles(&s, Timestamp(11 * SECOND)), None);
        assert_eq!(d.next(), Some(Timestamp(15 * SECOND)), "looked at again when the grace ends");
        assert_eq!(d.settles(&s, Timestamp(15 * SECOND)), Some(EndReason::Closed));
    }

    #[test]
    fn a_closed_session_with_nothing_to_wait_for_settles_at_once() {
        let mut d = Deadlines::new(5 * SECOND, 600 * SECOND);
        let mut s = session(0);
        s.closed_at = Some(Timestamp(10 * SECOND));
        assert_eq!(d.settles(&s, Timestamp(10 * SECOND)), Some(EndReason::Closed));
        assert_eq!(d.next(), None);
    }

    #[test]
    fn an_open_session_is_idle_only_when_its_latest_data_connection_is_quiet_too() {
        let mut d = Deadlines::new(5 * SECOND, 600 * SECOND);
        let mut s = session(1);
        s.last_ts = Timestamp(SECOND);
        let mut data = Conn::new("192.168.1.10:40001".parse().unwrap(), "203.0.113.5:50000".parse().unwrap(), 3, Timestamp(2));
        data.last_ts = Timestamp(500 * SECOND);
        s.negotiations[0].conn = Some(data);
        assert_eq!(d.settles(&s, Timestamp(601 * SECOND)), None, "a long transfer");
        assert_eq!(d.next(), Some(Timestamp(1100 * SECOND)));
        assert_eq!(d.settles(&s, Timestamp(1100 * SECOND)), Some(EndReason::Idle));
    }
}
