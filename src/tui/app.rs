//! The view's state: which screen, what is selected, the filter, the sort, follow, errors only,
//! pause, and the status counters. Actions change it; drawing reads it (and keeps the
//! selection on screen).
//!
//! Owns: navigation and the lists shown (filtered, sorted ids). Must not touch: the terminal,
//! the channel (the run loop feeds it).

use super::feed::{Snapshot, SourceCounters};
use super::input::Action;
use super::store::{FindingId, Store};
use crate::model::{Severity, Stats};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Sessions,
    Findings,
    Detail,
    Help,
}

/// The two panes of the detail screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Data,
    Timeline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Start,
    Severity,
    Failures,
    Client,
    Server,
    User,
}

impl SortKey {
    pub fn name(self) -> &'static str {
        match self {
            SortKey::Start => "start",
            SortKey::Severity => "severity",
            SortKey::Failures => "failures",
            SortKey::Client => "client",
            SortKey::Server => "server",
            SortKey::User => "user",
        }
    }
    fn next(self) -> SortKey {
        match self {
            SortKey::Start => SortKey::Severity,
            SortKey::Severity => SortKey::Failures,
            SortKey::Failures => SortKey::Client,
            SortKey::Client => SortKey::Server,
            SortKey::Server => SortKey::User,
            SortKey::User => SortKey::Start,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    Running,
    Ended,
    /// Read to its end, but the capture itself ends early (cut in a record, a damaged block):
    /// what the rest of the traffic did is not known. Why, and in which file.
    EndedEarly(String),
    Failed(String),
}

/// What the status bar shows.
#[derive(Debug, Clone)]
pub struct Status {
    /// "file PATH" or "interface IFACE".
    pub source: String,
    /// Size of the input when known: progress is `counters.bytes` of it.
    pub total_bytes: Option<u64>,
    pub stats: Stats,
    pub counters: SourceCounters,
    /// Packets per second between the last two snapshots.
    pub rate: f64,
    pub elapsed: Duration,
    pub state: RunState,
    /// Events the analysis dropped because the UI was behind.
    pub dropped_events: u64,
}

impl Status {
    pub fn new(source: String, total_bytes: Option<u64>) -> Status {
        Status {
            source,
            total_bytes,
            stats: Stats::default(),
            counters: SourceCounters::default(),
            rate: 0.0,
            elapsed: Duration::ZERO,
            state: RunState::Running,
            dropped_events: 0,
        }
    }
}

/// A selection in a list, and the first row shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub selected: usize,
    pub offset: usize,
}

impl Cursor {
    fn step(&mut self, delta: isize, len: usize) {
        let last = len.saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    /// Keeps the selection within `len` rows and on a screen of `height` rows; returns the
    /// range of rows to draw. Only these are ever looked at.
    pub fn visible(&mut self, len: usize, height: usize) -> std::ops::Range<usize> {
        self.selected = self.selected.min(len.saturating_sub(1));
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if height > 0 && self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset = self.offset.min(len.saturating_sub(height.max(1)));
        self.offset..(self.offset + height).min(len)
    }
}

pub struct App {
    pub store: Store,
    pub status: Status,
    pub screen: Screen,
    /// Where Esc goes back to from the detail and from help.
    detail_from: Screen,
    help_from: Screen,
    pub sessions: Cursor,
    pub findings: Cursor,
    /// The session shown in detail.
    pub detail: Option<u32>,
    pub pane: Pane,
    /// First line shown of each detail pane, and of help.
    pub scroll: [usize; 2],
    pub help_scroll: usize,
    /// First line shown of the selected finding's text.
    pub finding_scroll: usize,
    pub filter: String,
    pub typing: bool,
    pub sort: SortKey,
    pub follow: bool,
    pub errors_only: bool,
    pub paused: bool,
    pub color: bool,
    /// The sessions and the findings shown, filtered and sorted.
    pub view: Vec<u32>,
    pub finding_view: Vec<FindingId>,
    /// The store generation and settings the views were built from.
    built: Option<(u64, String, SortKey, bool)>,
    /// Rows of the list on screen at the last draw: a page.
    pub page: usize,
    pub quit: bool,
}

impl App {
    pub fn new(status: Status, color: bool) -> App {
        App {
            store: Store::default(),
            status,
            screen: Screen::Sessions,
            detail_from: Screen::Sessions,
            help_from: Screen::Sessions,
            sessions: Cursor::default(),
            findings: Cursor::default(),
            detail: None,
            pane: Pane::Data,
            scroll: [0, 0],
            help_scroll: 0,
            finding_scroll: 0,
            filter: String::new(),
            typing: false,
            sort: SortKey::Start,
            follow: false,
            errors_only: false,
            paused: false,
            color,
            view: Vec::new(),
            finding_view: Vec::new(),
            built: None,
            page: 10,
            quit: false,
        }
    }

    /// Takes a snapshot's counters (always, even paused: the status bar shows the analysis
    /// going on) and its open sessions.
    pub fn on_snapshot(&mut self, snapshot: &Snapshot, dropped_events: u64) {
        let s = &mut self.status;
        let dt = snapshot.elapsed.saturating_sub(s.elapsed).as_secs_f64();
        if dt > 0.0 {
            s.rate = snapshot.stats.frames.saturating_sub(s.stats.frames) as f64 / dt;
        }
        s.elapsed = snapshot.elapsed;
        s.stats = snapshot.stats;
        s.counters = snapshot.counters;
        s.dropped_events = dropped_events;
        self.store.apply_snapshot(snapshot);
    }

    /// Rebuilds the lists if the store or the settings changed, unless the display is paused.
    /// The selection stays on the same session (or finding) when it is still shown.
    pub fn refresh(&mut self) {
        let key = (self.store.generation, self.filter.to_ascii_lowercase(), self.sort, self.errors_only);
        if self.paused && self.built.is_some() || self.built.as_ref() == Some(&key) {
            return;
        }
        let selected = self.view.get(self.sessions.selected).copied();
        let selected_finding = self.finding_view.get(self.findings.selected).copied();
        let needle = &key.1;
        let store = &self.store;
        let shown = |r: &super::store::Row| {
            (!self.errors_only || r.failed > 0 || r.worst == Some(Severity::Error))
                && (needle.is_empty() || r.haystack.contains(needle.as_str()))
        };
        let mut view: Vec<&super::store::Row> = store.rows().filter(|r| shown(r)).collect();
        match self.sort {
            SortKey::Start => {}
            SortKey::Severity => view.sort_by_key(|r| std::cmp::Reverse((r.worst, r.failed))),
            SortKey::Failures => view.sort_by_key(|r| std::cmp::Reverse((r.failed, r.worst))),
            SortKey::Client => view.sort_by_key(|r| (r.client.ip(), r.client.port())),
            SortKey::Server => view.sort_by_key(|r| (r.server.ip(), r.server.port())),
            SortKey::User => view.sort_by(|a, b| a.user.cmp(&b.user)),
        }
        self.view = view.into_iter().map(|r| r.id).collect();
        // Findings: errors first, then in the order found; a finding is shown when its session
        // would be, or, across sessions, when its kind or its session matches.
        let mut findings: Vec<(FindingId, Severity)> = store
            .findings()
            .filter(|(id, f)| {
                let row = match id {
                    FindingId::Session(s, _) => store.get(*s),
                    FindingId::Across(_) => store.get(f.session),
                };
                let text_ok = needle.is_empty()
                    || f.kind.as_str().contains(needle.as_str())
                    || row.is_some_and(|r| r.who().contains(needle.as_str()));
                // A consequence is shown under its cause, not as a problem of its own, unless
                // its kind is what the filter asks for.
                let shown = f.caused_by.is_none() || (!needle.is_empty() && f.kind.as_str().contains(needle.as_str()));
                shown && text_ok && (!self.errors_only || f.severity == Severity::Error)
            })
            .map(|(id, f)| (id, f.severity))
            .collect();
        findings.sort_by_key(|(_, sev)| std::cmp::Reverse(*sev));
        self.finding_view = findings.into_iter().map(|(id, _)| id).collect();
        self.built = Some(key);
        if self.follow {
            self.select_newest();
        } else if let Some(id) = selected {
            if let Some(i) = self.view.iter().position(|&x| x == id) {
                self.sessions.selected = i;
            }
        }
        if let Some(id) = selected_finding {
            if let Some(i) = self.finding_view.iter().position(|&x| x == id) {
                self.findings.selected = i;
            }
        }
    }

    fn select_newest(&mut self) {
        if let Some((i, _)) = self.view.iter().enumerate().max_by_key(|(_, &id)| id) {
            self.sessions.selected = i;
        }
    }

    pub fn selected_session(&self) -> Option<u32> {
        self.view.get(self.sessions.selected).copied()
    }

    pub fn selected_finding(&self) -> Option<FindingId> {
        self.finding_view.get(self.findings.selected).copied()
    }

    pub fn apply(&mut self, action: Action) {
        if self.typing {
            match action {
                Action::Type(c) => self.filter.push(c),
                Action::Erase => {
                    self.filter.pop();
                }
                Action::Open => self.typing = false,
                Action::Back => {
                    self.typing = false;
                    self.filter.clear();
                }
                Action::Quit => self.quit = true,
                _ => {}
            }
            self.sessions.selected = 0;
            self.findings.selected = 0;
            return;
        }
        let page = self.page.max(1) as isize;
        match action {
            Action::Up => self.step(-1),
            Action::Down => self.step(1),
            // On findings, a page scrolls the finding's text (the list moves with j/k).
            Action::PageUp if self.screen == Screen::Findings => self.finding_scroll = self.finding_scroll.saturating_sub(self.page.max(1)),
            Action::PageDown if self.screen == Screen::Findings => self.finding_scroll += self.page.max(1),
            Action::PageUp => self.step(-page),
            Action::PageDown => self.step(page),
            Action::Home => self.step(isize::MIN / 2),
            Action::End => self.step(isize::MAX / 2),
            Action::Open => self.open(),
            Action::Back => self.back(),
            Action::NextPane => match self.screen {
                Screen::Sessions => self.screen = Screen::Findings,
                Screen::Findings => self.screen = Screen::Sessions,
                Screen::Detail => self.pane = if self.pane == Pane::Data { Pane::Timeline } else { Pane::Data },
                Screen::Help => {}
            },
            Action::Filter => {
                if !matches!(self.screen, Screen::Sessions | Screen::Findings) {
                    self.screen = Screen::Sessions;
                }
                self.typing = true;
            }
            Action::Sort => self.sort = self.sort.next(),
            Action::Follow => {
                self.follow = !self.follow;
                if self.follow {
                    self.select_newest();
                }
            }
            Action::ErrorsOnly => self.errors_only = !self.errors_only,
            Action::Pause => self.paused = !self.paused,
            Action::Help => {
                if self.screen != Screen::Help {
                    self.help_from = self.screen;
                    self.screen = Screen::Help;
                    self.help_scroll = 0;
                }
            }
            Action::Quit => self.quit = true,
            Action::Type(_) | Action::Erase => {}
        }
    }

    fn step(&mut self, delta: isize) {
        match self.screen {
            Screen::Sessions => {
                // Moving by hand stops following, as in htop; End is where following stays.
                if delta != isize::MAX / 2 {
                    self.follow = false;
                }
                self.sessions.step(delta, self.view.len());
            }
            Screen::Findings => {
                self.findings.step(delta, self.finding_view.len());
                self.finding_scroll = 0;
            }
            Screen::Detail => {
                let s = &mut self.scroll[self.pane as usize];
                *s = s.saturating_add_signed(delta);
            }
            Screen::Help => self.help_scroll = self.help_scroll.saturating_add_signed(delta),
        }
    }

    fn open(&mut self) {
        let target = match self.screen {
            Screen::Sessions => self.selected_session(),
            Screen::Findings => self.selected_finding().and_then(|id| match id {
                FindingId::Session(s, _) => Some(s),
                FindingId::Across(_) => self.store.finding(id).map(|f| f.session),
            }),
            _ => None,
        };
        if let Some(id) = target.filter(|id| self.store.get(*id).is_some()) {
            self.detail_from = self.screen;
            self.screen = Screen::Detail;
            self.detail = Some(id);
            self.pane = Pane::Data;
            self.scroll = [0, 0];
        }
    }

    fn back(&mut self) {
        match self.screen {
            Screen::Detail => self.screen = self.detail_from,
            Screen::Help => self.screen = self.help_from,
            Screen::Findings => self.screen = Screen::Sessions,
            Screen::Sessions => {
                self.filter.clear();
                self.errors_only = false;
            }
        }
    }

    /// The session whose live timeline the analysis should send (the detail screen's).
    pub fn focus(&self) -> Option<u32> {
        (self.screen == Screen::Detail).then_some(self.detail).flatten()
    }
}
