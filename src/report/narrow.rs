//! Narrowing a report to some sessions (`--session ID`, `--host ADDR`, `--errors-only`): a
//! [`Sink`] in front of any output, which passes on the events of the sessions chosen and holds
//! back the others'. A session is chosen or not as a whole: its start, negotiations, data
//! outcomes, commands and end go out together or not at all.
//!
//! What is about the whole capture passes unchanged: the findings outside a session's record
//! (across sessions, about the capture), each server's picture (its fix needs every session's
//! ports), the periodic stats and the summary (the totals are what was analysed). The output is
//! told how many sessions were shown ([`Sink::narrowed`]).
//!
//! Owns: the choice of sessions and the holding back. Must not touch what the outputs write.

use super::{InputSummary, Sink};
use crate::model::{Event, Session, Severity};
use crate::AddrMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Which sessions to show: every test given must pass (an empty list tests nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Session ids, any of them (`--session`).
    pub sessions: Vec<u32>,
    /// Addresses, any of them, on either side of the control connection or of any data
    /// connection or try, or advertised in a negotiation (`--host`).
    pub hosts: Vec<IpAddr>,
    /// Only sessions with an error finding (`--errors-only`).
    pub errors_only: bool,
}

impl Selection {
    /// Whether it narrows anything.
    pub fn is_everything(&self) -> bool {
        self.sessions.is_empty() && self.hosts.is_empty() && !self.errors_only
    }

    /// What the choice is, in the command line's words: `--session 3 --host 10.0.0.20`.
    pub fn describe(&self) -> String {
        let sessions = self.sessions.iter().map(|s| format!("--session {s}"));
        let hosts = self.hosts.iter().map(|h| format!("--host {h}"));
        let errors = self.errors_only.then(|| "--errors-only".to_string());
        sessions.chain(hosts).chain(errors).collect::<Vec<_>>().join(" ")
    }

    /// Decided from a session's start, when its id or control endpoints settle it: `Some(true)`
    /// shown, `Some(false)` not, `None` when only its end can tell (a data connection may touch
    /// the host yet, an error may be found yet).
    fn at_start(&self, session: u32, client: SocketAddr, server: SocketAddr) -> Option<bool> {
        if !self.sessions.is_empty() && !self.sessions.contains(&session) {
            return Some(false);
        }
        let host_known = self.hosts.is_empty() || self.hosts.iter().any(|h| *h == client.ip() || *h == server.ip());
        (host_known && !self.errors_only).then_some(true)
    }

    /// Decided from the session's record.
    pub fn chooses(&self, s: &Session) -> bool {
        let id = self.sessions.is_empty() || self.sessions.contains(&s.id);
        let host = self.hosts.is_empty() || touched(s).any(|a| self.hosts.contains(&a));
        let errors = !self.errors_only || s.findings.iter().any(|f| f.severity == Severity::Error);
        id && host && errors
    }
}

/// Every address a session touched or named: its control connection's two ends, each data
/// connection and earlier try (both ends), each probable data connection, each advertised
/// endpoint.
fn touched(s: &Session) -> impl Iterator<Item = IpAddr> + '_ {
    let control = [s.client.ip(), s.server.ip()];
    let data = s.negotiations.iter().flat_map(|n| {
        let tries = n.data.connection.iter().chain(&n.data.earlier_attempts);
        tries.flat_map(|c| [c.client.ip(), c.server.ip()]).chain(n.advertised.map(|a| a.ip()))
    });
    let probable = s.probable_data_channels.iter().flat_map(|c| [c.client.ip(), c.server.ip()]);
    control.into_iter().chain(data).chain(probable)
}

/// A session's fate while it is open.
enum Open {
    Shown,
    Hidden,
    /// Undecided: its events so far, held until its end decides.
    Held(Vec<Event>),
}

/// The sink that shows the chosen sessions and the whole-capture parts.
pub struct Narrowed {
    inner: Box<dyn Sink + Send>,
    selection: Selection,
    open: AddrMap<u32, Open>,
    sessions: u64,
    shown: u64,
    /// Error findings in what was shown (the shown sessions' and the whole capture's): the exit
    /// status of a narrowed run.
    errors_shown: Arc<AtomicU64>,
}

impl Narrowed {
    /// `inner` fed the chosen sessions; the returned count follows the error findings shown.
    pub fn new(inner: Box<dyn Sink + Send>, selection: Selection) -> (Narrowed, Arc<AtomicU64>) {
        let errors_shown = Arc::new(AtomicU64::new(0));
        let narrowed = Narrowed { inner, selection, open: AddrMap::default(), sessions: 0, shown: 0, errors_shown: errors_shown.clone() };
        (narrowed, errors_shown)
    }

    fn count_errors(&self, n: usize) {
        self.errors_shown.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// A session event before its end: passed on, dropped or held as its session's fate says.
    fn during(&mut self, session: u32, event: &Event) -> io::Result<()> {
        match self.open.get_mut(&session) {
            Some(Open::Shown) => self.inner.event(event),
            Some(Open::Held(events)) => {
                events.push(event.clone());
                Ok(())
            }
            // Hidden, or a session whose start this sink never saw (not one of the analyzer's).
            _ => Ok(()),
        }
    }

    fn end(&mut self, record: &Session, event: &Event) -> io::Result<()> {
        self.sessions += 1;
        let open = self.open.remove(&record.id);
        if !self.selection.chooses(record) {
            return Ok(());
        }
        self.shown += 1;
        self.count_errors(record.findings.iter().filter(|f| f.severity == Severity::Error).count());
        if let Some(Open::Held(events)) = open {
            for held in &events {
                self.inner.event(held)?;
            }
        }
        self.inner.event(event)
    }
}

impl Sink for Narrowed {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::SessionStart { session, client, server, .. } => {
                let mut open = match self.selection.at_start(*session, *client, *server) {
                    Some(true) => Open::Shown,
                    Some(false) => Open::Hidden,
                    None => Open::Held(Vec::new()),
                };
                let passed = match &mut open {
                    Open::Shown => self.inner.event(event),
                    Open::Held(events) => {
                        events.push(event.clone());
                        Ok(())
                    }
                    Open::Hidden => Ok(()),
                };
                self.open.insert(*session, open);
                passed
            }
            Event::Negotiation { session, .. } | Event::DataOutcome { session, .. } | Event::Command { session, .. } => {
                self.during(*session, event)
            }
            Event::SessionEnd { record, .. } => self.end(record, event),
            Event::Finding { finding, .. } => {
                // Across sessions or about the capture: a session's own are in its record.
                self.count_errors(usize::from(finding.severity == Severity::Error));
                self.inner.event(event)
            }
            Event::Server { .. } | Event::Stats { .. } | Event::Summary { .. } => self.inner.event(event),
        }
    }

    fn wants_negotiation_events(&self) -> bool {
        self.inner.wants_negotiation_events()
    }

    fn wants_command_events(&self) -> bool {
        self.inner.wants_command_events()
    }

    fn finish(&mut self, inputs: &[InputSummary]) -> io::Result<()> {
        self.inner.narrowed(self.shown, self.sessions, &self.selection.describe());
        self.inner.finish(inputs)
    }
}
