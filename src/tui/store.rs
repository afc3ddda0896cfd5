//! The UI's own record of sessions and findings, updated from the analyzer's events (the
//! analyzer forgets a session once it has settled: the UI is the one place that keeps it).
//!
//! Bounded: at most [`MAX_SESSIONS`] sessions. Past it, the oldest settled sessions without a
//! problem (no warning or error, no failed data connection) are dropped first, a thousand at a
//! time; only when none is left do sessions with problems go, oldest first. The counts are kept
//! and shown on screen. Findings across sessions are kept up to [`MAX_ACROSS`].
//!
//! Owns: rows and findings. Must not touch: the terminal, the layout.

use super::feed::Snapshot;
use crate::model::{Event, Finding, FindingKind, Negotiation, Outcome, Session, Severity, Timeline, Timestamp};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::SocketAddr;

/// Sessions the UI keeps. A list this long still scrolls without lag: only visible rows are drawn.
pub const MAX_SESSIONS: usize = 100_000;
/// Sessions dropped at once when the store is full: one pass over the settled order per batch.
const EVICT_BATCH: usize = 1_000;
/// Findings across sessions kept; the rest are counted.
pub const MAX_ACROSS: usize = 10_000;
/// Negotiations of a session still open kept from events (the settled record has them all).
const MAX_OPEN_NEGOTIATIONS: usize = 1_000;

/// One session as the UI knows it.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: u32,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub first_frame: u64,
    pub start: Timestamp,
    pub user: Option<String>,
    pub tls: bool,
    pub active: bool,
    pub passive: bool,
    /// Data connections established, and failed (refused, unanswered, unreachable, rejected).
    pub ok: u32,
    pub failed: u32,
    pub worst: Option<Severity>,
    /// The control connection closed; the session waits for its data connections to settle.
    pub closing: bool,
    /// The whole record, once settled.
    pub record: Option<Box<Session>>,
    /// While open: the negotiations announced so far, by index.
    pub negotiations: Vec<Negotiation>,
    /// While open and shown in detail: the control channel so far.
    pub live_timeline: Option<Timeline>,
    /// Finding kinds across sessions that name this session.
    pub across_kinds: Vec<FindingKind>,
    /// Lower-case text the filter searches: addresses, user, finding kinds.
    pub haystack: String,
    /// How much of `haystack` is addresses and user (the rest is finding kinds).
    who_len: usize,
}

impl Row {
    fn new(id: u32, client: SocketAddr, server: SocketAddr, first_frame: u64, start: Timestamp) -> Row {
        let mut row = Row {
            id,
            client,
            server,
            first_frame,
            start,
            user: None,
            tls: false,
            active: false,
            passive: false,
            ok: 0,
            failed: 0,
            worst: None,
            closing: false,
            record: None,
            negotiations: Vec::new(),
            live_timeline: None,
            across_kinds: Vec::new(),
            haystack: String::new(),
            who_len: 0,
        };
        row.reindex();
        row
    }

    pub fn settled(&self) -> bool {
        self.record.is_some()
    }

    /// Worth keeping when memory runs short: a warning or an error, or a failed data connection.
    pub fn has_problem(&self) -> bool {
        self.failed > 0 || self.worst.is_some_and(|s| s >= Severity::Warning)
    }

    /// The negotiations to show: the record's once settled, else those announced so far.
    pub fn negotiations(&self) -> &[Negotiation] {
        match &self.record {
            Some(r) => &r.negotiations,
            None => &self.negotiations,
        }
    }

    pub fn timeline(&self) -> Option<&Timeline> {
        match &self.record {
            Some(r) => Some(&r.timeline),
            None => self.live_timeline.as_ref(),
        }
    }

    pub fn findings(&self) -> &[Finding] {
        self.record.as_ref().map_or(&[], |r| &r.findings)
    }

    /// The addresses and the user, lower case: what a finding's session is found by.
    pub fn who(&self) -> &str {
        self.haystack.get(..self.who_len).unwrap_or("")
    }

    fn recount(&mut self) {
        let (mut ok, mut failed) = (0u32, 0u32);
        let mut count = |o: Outcome| {
            if o == Outcome::Established {
                ok += 1;
            } else if o.is_failure() || o == Outcome::Rejected {
                failed += 1;
            }
        };
        for n in self.negotiations() {
            count(n.data.outcome);
        }
        if let Some(r) = &self.record {
            for c in &r.probable_data_channels {
                count(c.outcome);
            }
        }
        self.ok = ok;
        self.failed = failed;
        let modes = self.negotiations().iter().map(|n| n.mode).collect::<Vec<_>>();
        self.active |= modes.contains(&crate::model::Mode::Active);
        self.passive |= modes.contains(&crate::model::Mode::Passive);
    }

    fn reindex(&mut self) {
        let mut h = String::with_capacity(64);
        let _ = write!(h, "{} {}", self.client, self.server);
        if let Some(u) = &self.user {
            h.push(' ');
            h.push_str(u);
        }
        self.who_len = h.len();
        for f in self.findings() {
            h.push(' ');
            h.push_str(f.kind.as_str());
        }
        for k in &self.across_kinds {
            h.push(' ');
            h.push_str(k.as_str());
        }
        h.make_ascii_lowercase();
        self.haystack = h;
    }
}

/// Where a finding lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingId {
    /// The `n`th finding of a settled session.
    Session(u32, usize),
    /// The `n`th finding across sessions.
    Across(usize),
}

#[derive(Debug)]
pub struct Store {
    /// Sessions kept at most ([`MAX_SESSIONS`]).
    capacity: usize,
    rows: FxHashMap<u32, Row>,
    /// Session ids in the order they began (ids grow with their start).
    order: Vec<u32>,
    /// Settled session ids in the order they settled: the eviction order.
    settled: VecDeque<u32>,
    across: Vec<Finding>,
    pub across_not_kept: u64,
    /// Each server's latest picture and fix block (the analyzer bounds how many servers).
    pub servers: crate::report::server::Latest,
    /// Sessions dropped to stay within [`MAX_SESSIONS`]: without a problem, and with one.
    pub dropped_healthy: u64,
    pub dropped_with_problems: u64,
    /// Changes with every change of content: views built from an older one are stale.
    pub generation: u64,
    pub summary_seen: bool,
}

impl Default for Store {
    fn default() -> Self {
        Store::with_capacity(MAX_SESSIONS)
    }
}

impl Store {
    pub fn with_capacity(capacity: usize) -> Store {
        Store {
            capacity,
            rows: FxHashMap::default(),
            order: Vec::new(),
            settled: VecDeque::new(),
            across: Vec::new(),
            servers: Default::default(),
            across_not_kept: 0,
            dropped_healthy: 0,
            dropped_with_problems: 0,
            generation: 0,
            summary_seen: false,
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn get(&self, id: u32) -> Option<&Row> {
        self.rows.get(&id)
    }

    /// Every row, in the order the sessions began.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.order.iter().filter_map(|id| self.rows.get(id))
    }

    pub fn finding(&self, id: FindingId) -> Option<&Finding> {
        match id {
            FindingId::Session(s, n) => self.rows.get(&s)?.findings().get(n),
            FindingId::Across(n) => self.across.get(n),
        }
    }

    /// Every finding: each session's (in the order sessions began), then those across sessions.
    pub fn findings(&self) -> impl Iterator<Item = (FindingId, &Finding)> {
        let own = self.rows().flat_map(|r| r.findings().iter().enumerate().map(|(i, f)| (FindingId::Session(r.id, i), f)));
        own.chain(self.across.iter().enumerate().map(|(i, f)| (FindingId::Across(i), f)))
    }

    pub fn apply(&mut self, event: Event) {
        self.generation += 1;
        match event {
            Event::SessionStart { session, first_frame, start_time, client, server, .. } => {
                self.insert(Row::new(session, client, server, first_frame, start_time));
            }
            Event::Negotiation { session, index, negotiation, .. } => {
                if let Some(row) = self.rows.get_mut(&session).filter(|r| !r.settled()) {
                    let i = index as usize;
                    if i < MAX_OPEN_NEGOTIATIONS {
                        if row.negotiations.len() <= i {
                            row.negotiations.resize(i + 1, (*negotiation).clone());
                        }
                        row.negotiations[i] = *negotiation;
                        row.recount();
                    }
                }
            }
            Event::DataOutcome { session, index, outcome, matched_by, connection, .. } => {
                if let Some(row) = self.rows.get_mut(&session).filter(|r| !r.settled()) {
                    if let Some(n) = row.negotiations.get_mut(index as usize) {
                        n.data.outcome = outcome;
                        n.data.matched_by = matched_by;
                        n.data.connection = connection.map(|c| *c);
                    }
                    row.recount();
                }
            }
            Event::Finding { finding, .. } => {
                if let Some(row) = self.rows.get_mut(&finding.session) {
                    row.across_kinds.push(finding.kind);
                    row.worst = row.worst.max(Some(finding.severity));
                    row.reindex();
                }
                if self.across.len() < MAX_ACROSS {
                    self.across.push(*finding);
                } else {
                    self.across_not_kept += 1;
                }
            }
            Event::SessionEnd { session, record, .. } => {
                let row = match self.rows.get_mut(&session) {
                    Some(row) => row,
                    None => {
                        // Its start was not seen (dropped while the UI was behind).
                        self.insert(Row::new(session, record.client, record.server, record.first_frame, record.start_time));
                        match self.rows.get_mut(&session) {
                            Some(row) => row,
                            None => return,
                        }
                    }
                };
                row.user = record.user.clone();
                row.tls = record.tls;
                row.worst = row.worst.max(record.findings.iter().map(|f| f.severity).max());
                row.closing = false;
                row.live_timeline = None;
                row.negotiations = Vec::new();
                row.record = Some(record);
                row.recount();
                row.reindex();
                self.settled.push_back(session);
                self.bound();
            }
            Event::Server { server, .. } => self.servers.tell(&server),
            // The terminal UI keeps its own timeline of each session (Settings::timeline_lines).
            Event::Stats { .. } | Event::Command { .. } => {}
            Event::Summary { .. } => self.summary_seen = true,
        }
    }

    /// What the snapshot says of sessions still open: user, TLS, modes, closing; and the timeline
    /// of the one in focus.
    pub fn apply_snapshot(&mut self, snapshot: &Snapshot) {
        for open in &snapshot.open {
            if let Some(row) = self.rows.get_mut(&open.id).filter(|r| !r.settled()) {
                let changed = row.user != open.user || row.tls != open.tls || row.closing != open.closing;
                row.active |= open.active;
                row.passive |= open.passive;
                row.tls = open.tls;
                row.closing = open.closing;
                if row.user != open.user {
                    row.user = open.user.clone();
                    row.reindex();
                }
                if changed {
                    self.generation += 1;
                }
            }
        }
        if let Some((id, timeline)) = &snapshot.focused {
            if let Some(row) = self.rows.get_mut(id).filter(|r| !r.settled()) {
                row.live_timeline = Some(timeline.clone());
                self.generation += 1;
            }
        }
    }

    fn insert(&mut self, row: Row) {
        let id = row.id;
        if self.rows.insert(id, row).is_none() {
            // Ids grow with the start of their session; a late insert (a start that was
            // dropped) goes to its place.
            match self.order.last() {
                Some(&last) if last > id => {
                    let at = self.order.partition_point(|&x| x < id);
                    self.order.insert(at, id);
                }
                _ => self.order.push(id),
            }
        }
    }

    /// Drops settled sessions, healthy ones first, when over [`MAX_SESSIONS`].
    fn bound(&mut self) {
        if self.rows.len() <= self.capacity {
            return;
        }
        let want = (self.rows.len() - self.capacity).max(EVICT_BATCH.min(self.capacity / 10)).min(self.settled.len());
        let mut gone = Vec::with_capacity(want);
        let rows = &self.rows;
        // Healthy ones first, oldest first.
        self.settled.retain(|id| {
            let healthy = rows.get(id).is_some_and(|r| !r.has_problem());
            if healthy && gone.len() < want {
                gone.push(*id);
                false
            } else {
                true
            }
        });
        self.dropped_healthy += gone.len() as u64;
        while gone.len() < want {
            let Some(id) = self.settled.pop_front() else { break };
            gone.push(id);
            self.dropped_with_problems += 1;
        }
        for id in &gone {
            self.rows.remove(id);
        }
        let rows = &self.rows;
        self.order.retain(|id| rows.contains_key(id));
    }
}
