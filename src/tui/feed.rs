//! What the analysis sends the terminal UI, and how, so that drawing never slows the analysis.
//!
//! The analysis thread owns a [`Feeder`]: after each batch of frames it hands over the
//! analyzer's new events ([`Feeder::collect`]) and, at most [`PUBLISH_EVERY`], publishes them
//! with a [`Snapshot`] of the counters and of the sessions still open ([`Feeder::publish_if_due`]).
//! Publishing never waits: the channel is bounded and, when the UI is behind, the events stay in
//! the feeder and go out coalesced with the next publication (periodic `stats` events are
//! dropped there, the snapshot supersedes them). The feeder's own backlog is bounded too: past
//! [`MAX_BACKLOG`] events it keeps only what the UI cannot rebuild (settled sessions, findings,
//! the summary) and counts what it dropped, which the status bar shows.
//!
//! Any source drives it the same way: a file here, a live interface later (issue 8). Owns: the
//! channel and its rules. Must not touch: the terminal, the analysis itself.

use crate::analyzer::Analyzer;
use crate::ftp::session::SessionState;
use crate::model::{Event, Mode, Stats, Timeline, Timestamp};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The UI redraws at most about 10 times a second; publishing more often would only queue.
pub const PUBLISH_EVERY: Duration = Duration::from_millis(100);
/// Publications in flight before the feeder holds events back (coalescing).
const IN_FLIGHT: usize = 4;
/// Events held back while the UI is behind before the feeder starts dropping the ones the UI
/// can do without (session starts, negotiations and outcomes of sessions still open).
pub const MAX_BACKLOG: usize = 200_000;
/// Open sessions described in one snapshot: the most recently active ones. With 50,000 open
/// sessions a full copy ten times a second would cost the analysis more than drawing is worth.
pub const MAX_OPEN_IN_SNAPSHOT: usize = 2_000;
/// No session is focused (see [`UiFeed::focus`]).
const NO_FOCUS: u32 = u32::MAX;

/// The source's own counters, which the analyzer does not know.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SourceCounters {
    /// Bytes read from the file (or captured on the interface).
    pub bytes: u64,
    /// Packets the capture lost (live capture only).
    pub drops: Option<u64>,
}

/// A session still open, as the list shows it (its addresses came with its `session_start`).
#[derive(Debug, Clone, PartialEq)]
pub struct OpenSession {
    pub id: u32,
    pub user: Option<String>,
    pub tls: bool,
    pub active: bool,
    pub passive: bool,
    pub commands: u64,
    /// The control connection has closed; the session settles once its data connections do.
    pub closing: bool,
    pub last_ts: Timestamp,
}

/// The state of the analysis at one moment, for the status bar and the open sessions.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub stats: Stats,
    pub counters: SourceCounters,
    /// Wall time since the analysis started: the rate is computed from two snapshots.
    pub elapsed: Duration,
    /// At most [`MAX_OPEN_IN_SNAPSHOT`], most recently active first.
    pub open: Vec<OpenSession>,
    /// The control-channel lines so far of the session the UI shows in detail, if still open.
    pub focused: Option<(u32, Timeline)>,
}

/// One message to the UI.
#[derive(Debug)]
pub enum Update {
    /// Events in the order the analyzer emitted them, then the state after them.
    Batch { events: Vec<Event>, snapshot: Box<Snapshot>, dropped_events: u64 },
    /// The input is over (the events before held the summary) or failed; `cut_short` when a
    /// file ended early (truncated), with why.
    Ended { error: Option<String>, cut_short: Option<String> },
}

/// The analysis side.
pub struct Feeder {
    tx: SyncSender<Update>,
    focus: Arc<AtomicU32>,
    backlog: Vec<Event>,
    dropped: u64,
    last: Option<Instant>,
    started: Instant,
    closed: bool,
}

/// The UI side.
pub struct UiFeed {
    pub rx: Receiver<Update>,
    focus: Arc<AtomicU32>,
}

impl UiFeed {
    /// The session the detail screen shows: its timeline so far comes with each snapshot.
    pub fn focus(&self, session: Option<u32>) {
        self.focus.store(session.unwrap_or(NO_FOCUS), Ordering::Relaxed);
    }
}

pub fn channel() -> (Feeder, UiFeed) {
    let (tx, rx) = sync_channel(IN_FLIGHT);
    let focus = Arc::new(AtomicU32::new(NO_FOCUS));
    let feeder = Feeder { tx, focus: focus.clone(), backlog: Vec::new(), dropped: 0, last: None, started: Instant::now(), closed: false };
    (feeder, UiFeed { rx, focus })
}

impl Feeder {
    /// Takes every event the analyzer has ready. Call after each batch of frames, whether or
    /// not the UI keeps up: the analyzer's own queue must not grow.
    pub fn collect(&mut self, analyzer: &mut Analyzer) {
        while let Some(event) = analyzer.poll_event() {
            self.push(event);
        }
    }

    /// Keeps one event for the next publication, within the backlog's bound.
    pub fn push(&mut self, event: Event) {
        if self.closed {
            return;
        }
        let keep = match &event {
            // The snapshot carries the counters.
            Event::Stats { .. } => false,
            Event::SessionEnd { .. } | Event::Finding { .. } | Event::Summary { .. } => self.backlog.len() < 2 * MAX_BACKLOG,
            _ => self.backlog.len() < MAX_BACKLOG,
        };
        if keep {
            self.backlog.push(event);
        } else if !matches!(event, Event::Stats { .. }) {
            self.dropped += 1;
        }
    }

    /// Publishes if [`PUBLISH_EVERY`] has passed since the last publication. Never waits.
    pub fn publish_if_due(&mut self, analyzer: &Analyzer, counters: SourceCounters) {
        if self.last.is_some_and(|t| t.elapsed() < PUBLISH_EVERY) {
            return;
        }
        self.publish(analyzer, counters, false);
    }

    /// Sends the backlog and a snapshot. `wait`: block until the UI takes it (the last
    /// publication, after the analysis is over: nothing is left to slow down).
    pub fn publish(&mut self, analyzer: &Analyzer, counters: SourceCounters, wait: bool) {
        if self.closed {
            return;
        }
        self.last = Some(Instant::now());
        let snapshot = Box::new(snapshot(analyzer, counters, self.started.elapsed(), self.focus.load(Ordering::Relaxed)));
        let update = Update::Batch { events: std::mem::take(&mut self.backlog), snapshot, dropped_events: self.dropped };
        let result = if wait { self.tx.send(update).map_err(|e| TrySendError::Disconnected(e.0)) } else { self.tx.try_send(update) };
        match result {
            Ok(()) => {}
            // The UI is behind: the events wait for the next publication; the snapshot is stale by then.
            Err(TrySendError::Full(Update::Batch { events, .. })) => self.backlog = events,
            Err(_) => self.closed = true,
        }
    }

    /// The input is over (cut short, when a file ended early), or failed: the last word.
    pub fn end(&mut self, error: Option<String>, cut_short: Option<String>) {
        if !self.closed {
            let _ = self.tx.send(Update::Ended { error, cut_short });
        }
    }

    /// Events dropped so far because the UI was behind.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Events waiting for the next publication.
    pub fn backlog(&self) -> usize {
        self.backlog.len()
    }

    /// The UI has gone (quit): the analysis need not publish any more.
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}

fn snapshot(analyzer: &Analyzer, counters: SourceCounters, elapsed: Duration, focus: u32) -> Snapshot {
    let mut open: Vec<&SessionState> = analyzer.open_sessions().collect();
    if open.len() > MAX_OPEN_IN_SNAPSHOT {
        open.select_nth_unstable_by_key(MAX_OPEN_IN_SNAPSHOT - 1, |s| std::cmp::Reverse(s.last_ts));
        open.truncate(MAX_OPEN_IN_SNAPSHOT);
    }
    open.sort_unstable_by_key(|s| std::cmp::Reverse(s.last_ts));
    let focused = analyzer.open_sessions().find(|s| s.id == focus).map(|s| (s.id, s.timeline.clone()));
    Snapshot { stats: analyzer.stats(), counters, elapsed, open: open.into_iter().map(open_session).collect(), focused }
}

fn open_session(s: &SessionState) -> OpenSession {
    OpenSession {
        id: s.id,
        user: s.user.clone(),
        tls: s.tls_frame.is_some(),
        active: s.negotiations.iter().any(|n| n.command.mode() == Mode::Active),
        passive: s.negotiations.iter().any(|n| n.command.mode() == Mode::Passive),
        commands: s.commands,
        closing: s.closed_at.is_some(),
        last_ts: s.last_ts,
    }
}
