//! The events the analyzer tells, oldest first: each built from what became known (a session
//! recognised, a negotiation answered, a data outcome decided, a session settled, statistics,
//! the summary), and each negotiation's told once.
//!
//! Owns the queue, the rule that a negotiation and its data outcome are each announced once
//! (the `announced` marks on the negotiation), and whether negotiation events are wanted at
//! all ([`super::Settings::negotiation_events`]). Must not decide anything about sessions: it
//! is told what happened.

use crate::correlate::outcome;
use crate::ftp::session::{NegState, SessionState};
use crate::model::{CommandLog, Directions, Event, Finding, Negotiation, Server, Session, Stats, Summary, Timestamp};
use std::collections::VecDeque;

pub(super) struct Events {
    queue: VecDeque<Event>,
    /// Announce each negotiation and each data outcome as it becomes known.
    negotiations: bool,
}

impl Events {
    pub(super) fn new(negotiation_events: bool) -> Events {
        Events { queue: VecDeque::new(), negotiations: negotiation_events }
    }

    pub(super) fn pop(&mut self) -> Option<Event> {
        self.queue.pop_front()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub(super) fn session_start(&mut self, s: &SessionState, frame: u64, time: Timestamp) {
        let (first_frame, start_time, client, server) = (s.first_frame, s.start_ts, s.client, s.server);
        self.queue.push_back(Event::SessionStart { session: s.id, frame, time, first_frame, start_time, client, server });
    }

    /// Negotiation `index` of `session` got its final reply: it counts as announced. True when
    /// its event is wanted: then the caller brings its data connection up to date and calls
    /// [`Events::negotiation`] (not copied as packets come, to spare the work where no one asks).
    pub(super) fn answered(&mut self, n: &mut NegState) -> bool {
        n.announced = true;
        self.negotiations
    }

    /// The `negotiation` event of an answered negotiation, as it is now.
    pub(super) fn negotiation(&mut self, session: u32, index: u32, n: &NegState, captured: Directions, frame: u64, time: Timestamp) {
        let record = outcome::negotiation_record(n, time, captured);
        self.queue.push_back(negotiation_event(session, index, &record, frame, time));
    }

    /// The data outcome of negotiation `index` is decided: announced once (a retry announces
    /// it again, see [`crate::correlate::retry::replace`]).
    pub(super) fn outcome(&mut self, session: u32, index: u32, n: &mut NegState, captured: Directions, frame: u64, time: Timestamp) {
        if n.outcome_announced {
            return;
        }
        n.outcome_announced = true;
        if self.negotiations {
            let record = outcome::negotiation_record(n, time, captured);
            self.queue.push_back(outcome_event(session, index, &record, frame, time));
        }
    }

    /// A session settled: what was not announced yet is, from its record (built once), then
    /// the record itself. `states` are its negotiations as followed, `record` as settled.
    pub(super) fn settled(&mut self, states: &[NegState], record: Session, frame: u64, time: Timestamp) {
        let announce = if self.negotiations { states.len() } else { 0 };
        let id = record.id;
        for ((i, n), r) in states.iter().enumerate().zip(&record.negotiations).take(announce) {
            if !n.announced {
                self.queue.push_back(negotiation_event(id, i as u32, r, frame, time));
            }
            if !n.outcome_announced {
                self.queue.push_back(outcome_event(id, i as u32, r, frame, time));
            }
        }
        self.queue.push_back(Event::SessionEnd { session: id, frame, time, record: Box::new(record) });
    }

    /// Commands of `session` settled (answered, or known never to be): one `command` event
    /// each, in the order they settled. Only a session that keeps the log has any.
    pub(super) fn commands(&mut self, session: u32, logged: &mut Vec<CommandLog>, frame: u64, time: Timestamp) {
        // Called for every batch of control lines; without the log (the default) an empty
        // `extend` still cost about 130 instructions each time.
        if logged.is_empty() {
            return;
        }
        self.queue.extend(logged.drain(..).map(|log| Event::Command { session, frame, time, log: Box::new(log) }));
    }

    /// A finding of its own (one across sessions): sessions' findings travel in their record.
    pub(super) fn finding(&mut self, finding: Finding, frame: u64, time: Timestamp) {
        self.queue.push_back(Event::Finding { session: finding.session, frame, time, finding: Box::new(finding) });
    }

    /// Servers' pictures and fix blocks.
    pub(super) fn servers(&mut self, servers: Vec<Server>, frame: u64, time: Timestamp) {
        self.queue.extend(servers.into_iter().map(|s| Event::Server { frame, time, server: Box::new(s) }));
    }

    pub(super) fn stats(&mut self, stats: Stats, frame: u64, time: Timestamp) {
        self.queue.push_back(Event::Stats { frame, time, stats });
    }

    /// The last event: the capture's summary.
    pub(super) fn summary(&mut self, summary: &Summary, frame: u64, time: Timestamp) {
        self.queue.push_back(Event::Summary { frame, time, summary: Box::new(summary.clone()) });
    }
}

fn negotiation_event(session: u32, index: u32, record: &Negotiation, frame: u64, time: Timestamp) -> Event {
    Event::Negotiation { session, frame, time, index, negotiation: Box::new(record.clone()) }
}

fn outcome_event(session: u32, index: u32, record: &Negotiation, frame: u64, time: Timestamp) -> Event {
    Event::DataOutcome {
        session,
        frame,
        time,
        index,
        command: record.command,
        outcome: record.data.outcome,
        matched_by: record.data.matched_by,
        tie_ambiguous: record.data.tie_ambiguous,
        connection: record.data.connection.clone().map(Box::new),
        earlier_attempts: record.data.earlier_attempts.clone(),
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::{EndReason, NegotiationCommand};
    use crate::tcp::flow::Conn;

    fn conn(client: &str, server: &str, frame: u64) -> Conn {
        Conn::new(client.parse().unwrap(), server.parse().unwrap(), frame, Timestamp(frame as i64))
    }

    fn session_with(negotiations: usize) -> SessionState {
        let mut s = SessionState::new(2, &conn("192.168.1.10:40000", "203.0.113.5:21", 1));
        for i in 0..negotiations as u64 {
            s.negotiations.push(NegState::new(5 + i, Timestamp(5 + i as i64), NegotiationCommand::PASV));
        }
        s
    }

    fn names(events: &mut Events) -> Vec<&'static str> {
        std::iter::from_fn(|| events.pop()).map(|e| e.name()).collect()
    }

    #[test]
    fn a_data_outcome_is_announced_once() {
        let mut events = Events::new(true);
        let mut s = session_with(1);
        let n = &mut s.negotiations[0];
        n.conn = Some(conn("192.168.1.10:40001", "203.0.113.5:50000", 7));
        events.outcome(2, 0, n, Directions::Both, 8, Timestamp(8));
        events.outcome(2, 0, n, Directions::Both, 9, Timestamp(9));
        let Some(Event::DataOutcome { session: 2, index: 0, frame: 8, connection: Some(c), .. }) = events.pop() else { panic!() };
        assert_eq!(c.syn_frame, 7);
        assert!(events.is_empty(), "once");
    }

    #[test]
    fn without_negotiation_events_negotiations_are_marked_but_not_told() {
        let mut events = Events::new(false);
        let mut s = session_with(1);
        assert!(!events.answered(&mut s.negotiations[0]));
        events.outcome(2, 0, &mut s.negotiations[0], Directions::Both, 8, Timestamp(8));
        assert!(s.negotiations[0].announced && s.negotiations[0].outcome_announced);
        let record = outcome::session_record(&s, Timestamp(10), EndReason::Closed);
        events.settled(&s.negotiations, record, 10, Timestamp(10));
        assert_eq!(names(&mut events), ["session_end"]);
    }

    #[test]
    fn a_settling_session_announces_what_was_not_yet() {
        let mut events = Events::new(true);
        let mut s = session_with(3);
        // The first was announced as it went, the second only answered, the third not at all.
        assert!(events.answered(&mut s.negotiations[0]));
        events.negotiation(2, 0, &s.negotiations[0], Directions::Both, 6, Timestamp(6));
        events.outcome(2, 0, &mut s.negotiations[0], Directions::Both, 6, Timestamp(6));
        assert!(events.answered(&mut s.negotiations[1]));
        events.negotiation(2, 1, &s.negotiations[1], Directions::Both, 7, Timestamp(7));
        assert_eq!(names(&mut events), ["negotiation", "data_outcome", "negotiation"]);
        let record = outcome::session_record(&s, Timestamp(10), EndReason::Closed);
        events.settled(&s.negotiations, record, 10, Timestamp(10));
        let told: Vec<_> = std::iter::from_fn(|| events.pop())
            .map(|e| match e {
                Event::Negotiation { index, .. } => ("negotiation", index),
                Event::DataOutcome { index, .. } => ("data_outcome", index),
                e => (e.name(), u32::MAX),
            })
            .collect();
        assert_eq!(told, [("data_outcome", 1), ("negotiation", 2), ("data_outcome", 2), ("session_end", u32::MAX)]);
    }

    #[test]
    fn a_session_start_names_its_control_connection() {
        let mut events = Events::new(true);
        events.session_start(&session_with(0), 3, Timestamp(3));
        let Some(Event::SessionStart { session: 2, frame: 3, first_frame: 1, client, .. }) = events.pop() else { panic!() };
        assert_eq!(client, "192.168.1.10:40000".parse().unwrap());
    }
}
