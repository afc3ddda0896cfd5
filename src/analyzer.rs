//! The analyzer: the wiring of the stages. Fed frames one at a time (`feed`), told when capture
//! time passes without packets (`advance`), asked for what became known (`poll_event`).
//!
//! A frame is decoded (IP fragments put back together), its TCP segment recorded on its
//! connection (`transport`), and the connection's role (`role`) says where it goes: a probe
//! deciding whether it is FTP, a control channel whose lines feed its session (`control`), or
//! a data connection whose facts feed its negotiation. Negotiations become expectations that
//! tie data connections (correlate). Control channels and probes share one buffer budget
//! (`budget`).
//!
//! A session lives while its control connection is open; once it is closed (or idle, or the
//! input ends: `deadlines`) and its data connections are settled, its record and findings are
//! built (diagnose), counted (`totals`), told as events (`events`), and its state is dropped:
//! memory follows what is open, not what was seen. It never reads a file, a socket or a clock:
//! frames arrive with their capture time and number.

// Packet data and capture time reach every module below: no arithmetic that can overflow, no
// index that can panic (issue 20). An `allow` is narrow and says why its value stays small.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

mod along;
mod budget;
mod content;
mod control;
mod deadlines;
mod events;
mod role;
mod settings;
pub mod totals;
mod transport;

pub use settings::Settings;

use crate::capture::duplicates::Duplicates;
use crate::correlate::one_way::ClientOnlySessions;
use crate::correlate::outcome::{self, decided_outcome};
use crate::correlate::retry;
use crate::correlate::tls::EncryptedSessions;
use crate::correlate::untied::UntiedSyns;
use crate::correlate::{Expectation, Expectations};
use crate::decode::defrag::Reassembler;
use crate::decode::{self, Decoded, Fragment, LinkType, TcpSegment, Unreachable};
use crate::diagnose::{
    self, across::NatPairing, credentials::CleartextLogins, fallback::Fallbacks, guessing::Guessing, servers::Servers,
    unclaimed::Unclaimed, Context,
};
use crate::ftp::probe::Verdict;
use crate::ftp::session::{Effect, SessionState};
use crate::model::event::STATS_EVERY_NS;
use crate::model::finding::NO_SESSION;
use crate::model::{ContentSink, Directions, EndReason, Event, Frame, Stats, Summary, Timestamp};
use crate::tcp::flow::{Conn, FlowKey, FlowTable};
use along::OpenCounts;
use budget::BufferBudget;
use content::SharedSink;
use control::Scratch;
use deadlines::Deadlines;
use events::Events;
use role::{Flow, Role};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

pub struct Analyzer {
    settings: Settings,
    /// IP fragments put back together, in frame order, before TCP sees them.
    fragments: Reassembler,
    /// Boxed: the table's entries are a key and a pointer (48 bytes, not 600), so the lookup
    /// every packet makes probes a dense table, and a flow ending or the table growing moves a
    /// pointer, not the flow.
    flows: FlowTable<Box<Flow>>,
    /// Open sessions by id. Settled ones are gone. Boxed: the table stays small enough for the
    /// cache, and growing it moves pointers, not whole sessions.
    sessions: FxHashMap<u32, Box<SessionState>>,
    /// The next session's id. Ids are never reused (a finding, an event names its session by
    /// it); once all are used (4G sessions in one run: a live capture of weeks), new sessions
    /// are counted over the limit. `NO_SESSION` is never one.
    next_session: u32,
    /// When to look at a session again (its close grace or idle deadline).
    deadlines: Deadlines,
    expectations: Expectations,
    /// Connections that matched no expectation, for a short while: their negotiation may be
    /// read just after them.
    untied: UntiedSyns,
    encrypted: EncryptedSessions,
    client_only: ClientOnlySessions,
    pairing: NatPairing,
    /// Connections no session claimed: a control connection that never opened, FTP data
    /// without its control channel.
    unclaimed: Unclaimed,
    /// Each server as its settled sessions show it.
    servers: Servers,
    /// When servers whose picture changed are next told (a live capture).
    next_servers: Option<Timestamp>,
    /// Clear-text logins, told once when the input ends.
    logins: CleartextLogins,
    /// Failed logins by client address, told once when the input ends.
    guessing: Guessing,
    fallbacks: Fallbacks,
    /// Sessions open at once, per client address and server.
    open_counts: OpenCounts,
    duplicates: Duplicates,
    events: Events,
    budget: BufferBudget,
    summary: Summary,
    open_high_water: u64,
    /// Negotiations answered so far (the summary counts them per settled session).
    answered: u64,
    now: Timestamp,
    last_frame: u64,
    next_stats: Option<Timestamp>,
    finished: bool,
    /// After `finish`: the sessions left to settle, in the order they began.
    finishing: Option<VecDeque<u32>>,
    scratch: Scratch,
    /// The datagram the last fragment completed.
    datagram: Vec<u8>,
    /// Where data connections' ordered bytes go when they are followed (`Settings::hash_data`),
    /// shared by every followed stream; None: they go nowhere (`--hash` alone).
    content_sink: Option<SharedSink>,
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer::new(Settings::default())
    }
}

impl Analyzer {
    pub fn new(settings: Settings) -> Analyzer {
        Analyzer {
            settings,
            fragments: Reassembler::new(settings.fragments),
            flows: FlowTable::new(settings.flows),
            sessions: FxHashMap::default(),
            next_session: 0,
            deadlines: Deadlines::new(settings.settle_grace_ns, settings.idle_timeout_ns),
            expectations: Expectations::default(),
            untied: UntiedSyns::default(),
            encrypted: EncryptedSessions::default(),
            client_only: ClientOnlySessions::default(),
            pairing: NatPairing::default(),
            unclaimed: Unclaimed::new(settings.intent.control_port),
            servers: Servers::default(),
            next_servers: None,
            logins: CleartextLogins::default(),
            guessing: Guessing::new(settings.guessing),
            fallbacks: Fallbacks::default(),
            open_counts: OpenCounts::default(),
            duplicates: Duplicates::default(),
            events: Events::new(settings.negotiation_events),
            budget: BufferBudget::new(settings.buffer_budget),
            summary: Summary::default(),
            open_high_water: 0,
            answered: 0,
            now: Timestamp(i64::MIN),
            last_frame: 0,
            next_stats: None,
            finished: false,
            finishing: None,
            scratch: Scratch::default(),
            datagram: Vec::new(),
            content_sink: None,
        }
    }

    /// Data connections' bytes are followed, hashed and handed to `sink` in stream order (the
    /// edge writes them: `--extract`).
    pub fn set_content_sink(&mut self, sink: Box<dyn ContentSink>) {
        self.settings.hash_data = true;
        self.content_sink = Some(std::sync::Arc::new(std::sync::Mutex::new(sink)));
    }

    /// An analyzer whose next session id is `next`: a run that has used the ids before it,
    /// without making 4G sessions.
    #[cfg(test)]
    fn with_next_session(settings: Settings, next: u32) -> Analyzer {
        Analyzer { next_session: next, ..Analyzer::new(settings) }
    }

    /// Feeds one captured frame.
    pub fn feed(&mut self, frame: &Frame<'_>) {
        self.feed_decoded(frame, decode::decode(frame.link, frame.data, frame.orig_len));
    }

    /// Feeds one captured frame decoded already (by [`decode::decode`], e.g. on the thread that
    /// read it): the same as [`Analyzer::feed`].
    pub fn feed_decoded(&mut self, frame: &Frame<'_>, decoded: Result<Decoded<'_>, decode::DecodeError>) {
        self.summary.frames = self.summary.frames.saturating_add(1);
        self.last_frame = frame.number;
        self.summary.first_time.get_or_insert(frame.ts);
        // Capture clocks can step back; time only moves forward for timeouts.
        self.now = self.now.max(frame.ts);
        if frame.orig_len as usize > frame.data.len() {
            self.summary.cut_frames = self.summary.cut_frames.saturating_add(1);
            self.summary.cut_kept = self.summary.cut_kept.max(frame.data.len() as u32);
        }
        // Only TCP segments that carry something (a SYN, a FIN, data): hosts send other packets
        // twice on purpose (MLD reports, a RST to each segment that arrives, duplicate ACKs),
        // and copies of those change nothing in the analysis. An IP fragment always carries
        // data: a copy would leave a datagram waiting for fragments it already had.
        let carries = match &decoded {
            Ok(Decoded::Tcp(s)) => s.flags.syn || s.flags.fin || !s.payload.is_empty(),
            Ok(Decoded::Fragment(_)) => true,
            _ => false,
        };
        if carries && self.duplicates.is_copy(frame.ts.0, frame.data, frame.orig_len) {
            self.summary.duplicate_frames = self.summary.duplicate_frames.saturating_add(1);
            self.run_timers();
            return;
        }
        match decoded {
            Ok(Decoded::Tcp(seg)) => self.on_tcp(frame.number, frame.ts, &seg),
            Ok(Decoded::Unreachable(u)) => self.on_unreachable(frame.number, &u),
            Ok(Decoded::Fragment(f)) => self.on_fragment(frame.number, frame.ts, &f),
            Ok(Decoded::Ignored) => {}
            Ok(Decoded::Unsupported) => self.summary.unsupported_frames = self.summary.unsupported_frames.saturating_add(1),
            Err(_) => self.summary.undecodable_frames = self.summary.undecodable_frames.saturating_add(1),
        }
        self.run_timers();
    }

    /// Capture time has reached `now` without a packet (live capture on a quiet wire): sessions
    /// whose grace or idle time ran out settle, and statistics fall due.
    pub fn advance(&mut self, now: Timestamp) {
        self.now = self.now.max(now);
        self.run_timers();
    }

    /// The capture time at which [`Analyzer::advance`] next has something to do, if any.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        [self.deadlines.next(), self.next_stats, self.next_servers].into_iter().flatten().min()
    }

    /// The next thing that became known, oldest first. After [`Analyzer::finish`], the sessions
    /// still open settle as their events are asked for, then the `summary` comes last.
    pub fn poll_event(&mut self) -> Option<Event> {
        while self.events.is_empty() {
            let queue = self.finishing.as_mut()?;
            match queue.pop_front() {
                Some(id) => {
                    let closed = self.sessions.get(&id).map(|s| s.closed_at.is_some());
                    self.settle(id, if closed == Some(true) { EndReason::Closed } else { EndReason::CaptureEnd });
                }
                None => {
                    self.finishing = None;
                    self.close_summary();
                }
            }
        }
        self.events.pop()
    }

    /// Counters as of now: cheap, for a status line.
    pub fn stats(&self) -> Stats {
        Stats {
            frames: self.summary.frames,
            tcp_connections: self.summary.tcp_connections,
            sessions: self.summary.sessions,
            open_sessions: self.sessions.len() as u64,
            negotiations_answered: self.answered,
            errors: self.summary.errors,
            warnings: self.summary.warnings,
            infos: self.summary.infos,
        }
    }

    /// The sessions still open, in no particular order: the live view of a terminal UI.
    pub fn open_sessions(&self) -> impl Iterator<Item = &SessionState> {
        self.sessions.values().map(|s| &**s)
    }

    /// The most sessions held open at once so far.
    pub fn open_sessions_high_water(&self) -> u64 {
        self.open_high_water
    }

    /// End of input: buffered out-of-order control data is delivered (after a gap), every
    /// session still open settles (in the order they began), and a `summary` event closes the
    /// stream. Feeding after this starts nothing new.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        // Datagrams still missing a fragment will not get it.
        self.fragments.finish();
        let at = (self.last_frame, self.now);
        for flow in self.flows.values_mut() {
            if let Role::Control { session, channel } = &mut flow.role {
                if let Some(s) = self.sessions.get_mut(session) {
                    control::flush(channel, &flow.conn, s, at, &mut self.scratch);
                }
            }
        }
        // Expectations made while flushing have no packets left to meet.
        self.scratch.effects.clear();
        // What no session claimed is judged now, in the order the connections began; a record is
        // built only for those that can be something to it.
        let mut unclaimed: Vec<(u64, crate::model::Connection, Option<std::net::SocketAddr>)> = Vec::new();
        for flow in self.flows.values_mut().filter(|f| f.unclaimed()) {
            let (c, listing_from) = (&flow.conn, flow.listing_from);
            if self.unclaimed.candidate(c.client, c.server, listing_from.is_some()) {
                unclaimed.push((c.first_frame, outcome::connection_record(c, None, self.now), listing_from));
            }
        }
        unclaimed.sort_unstable_by_key(|u| u.0);
        for (_, c, listing_from) in &unclaimed {
            self.unclaimed.judge(c, *listing_from);
        }
        // The sessions still open settle one at a time as events are polled, so the queue of
        // events never holds more than one session's worth.
        let mut open: Vec<u32> = self.sessions.keys().copied().collect();
        open.sort_unstable();
        self.finishing = Some(open.into());
    }

    /// The input is over and every session settled: the summary's last counts, and its event.
    fn close_summary(&mut self) {
        for f in self.unclaimed.take() {
            totals::count(&mut self.summary, &f);
            self.events.finding(f, self.last_frame, self.now);
        }
        let s = &mut self.summary;
        s.extract_error = self.content_sink.as_ref().and_then(|sink| content::lock(sink).finish().err());
        s.control_connections_failed = self.unclaimed.control_failed;
        s.data_connections_without_control = self.unclaimed.data_without_control;
        s.last_time = s.first_time.map(|_| self.now);
        s.evicted_connections = self.flows.evicted;
        s.peak_open_sessions = self.open_high_water;
        s.expectations_dropped = self.expectations.dropped;
        s.untied_connections_dropped = self.untied.dropped;
        s.probable_channels_dropped = self.encrypted.dropped;
        s.host_sessions_dropped = self.encrypted.hosts_dropped().saturating_add(self.client_only.hosts_dropped());
        s.pairing_digests_dropped = self.pairing.dropped;
        s.guessing_addresses_dropped = self.guessing.dropped;
        s.fallback_pairs_dropped = self.fallbacks.dropped;
        totals::add_fragments(s, self.fragments.counts());
        s.server_sessions_over_limit = self.servers.sessions_left_out();
        // An empty input has no capture time at all.
        let time = s.last_time.unwrap_or_default();
        // About the capture, not a session's problem: not in the totals.
        if let Some(f) = self.logins.finding() {
            self.events.finding(f, self.last_frame, time);
        }
        for f in self.guessing.findings() {
            self.events.finding(f, self.last_frame, time);
        }
        // Each server from the whole capture, with its fix block: the closing summary's own.
        self.events.servers(self.servers.all(self.settings.intent), self.last_frame, time);
        self.events.summary(s, self.last_frame, time);
    }

    /// A fragment goes to the reassembler; the datagram it completes is decoded and analysed
    /// as if it had come whole in this frame (Wireshark's "reassembled in" frame: the last).
    fn on_fragment(&mut self, frame: u64, ts: Timestamp, f: &Fragment<'_>) {
        let mut datagram = std::mem::take(&mut self.datagram);
        if self.fragments.add(self.now, f, &mut datagram) {
            match decode::decode(LinkType::Raw, &datagram, datagram.len() as u32) {
                Ok(Decoded::Tcp(seg)) => self.on_tcp(frame, ts, &seg),
                Ok(_) => {}
                Err(_) => self.summary.undecodable_frames = self.summary.undecodable_frames.saturating_add(1),
            }
        }
        self.datagram = datagram;
    }

    /// A segment: its connection's flow (one lookup per packet; a new one takes its role at
    /// opening), its transport facts, then whatever its role does with it.
    fn on_tcp(&mut self, frame: u64, ts: Timestamp, seg: &TcpSegment<'_>) {
        let seg = &*transport::stream_part(seg);
        let key = FlowKey::new(seg.src, seg.dst);
        let Analyzer { flows, budget, sessions, deadlines, now, expectations, untied, encrypted, client_only, summary, unclaimed, .. } =
            self;
        flows.make_room(ts, &mut |f| leave(f, budget, sessions, deadlines, unclaimed, *now));
        let flow = flows.get_or_replace(
            key,
            ts,
            |f| !transport::opens_anew(&f.conn, seg),
            |old| {
                if let Some(old) = old {
                    leave(old, budget, sessions, deadlines, unclaimed, *now);
                }
                let conn = transport::opened_by(seg, frame, ts);
                // A SYN-ACK opens it when the SYN is not in the capture (one direction only).
                let role = if seg.flags.syn {
                    let isn = transport::is_opening(seg).then_some(seg.seq);
                    role::at_opening(expectations, untied, sessions, encrypted, client_only, isn, &conn)
                } else {
                    Role::Fresh
                };
                summary.tcp_connections = summary.tcp_connections.saturating_add(1);
                if conn.server.port() == crate::ftp::IMPLICIT_FTPS_PORT {
                    summary.implicit_ftps_connections = summary.implicit_ftps_connections.saturating_add(1);
                }
                Box::new(Flow::new(conn, role))
            },
            |client_isn| transport::reopens(client_isn, seg),
        );
        let Some(flow) = flow else { return };
        // Asked for, a data connection is followed from its first packet as one (its SYN, or
        // the first after its negotiation was read late), before this packet counts. Not asked,
        // a data packet costs this one test.
        let follow = self.settings.hash_data;
        if follow {
            follow_data(flow, &self.sessions, self.content_sink.as_ref());
        }
        let state_changed = transport::track(&mut flow.conn, seg, frame, ts);
        flow.first_payload(seg, self.settings.max_line, self.settings.max_buffered);
        if follow && flow.content.is_some() {
            content_segment(flow, seg, &self.sessions, &mut self.budget, &mut self.summary);
        }
        if let (Role::Data { session, negotiation }, false) = (&flow.role, seg.payload.is_empty()) {
            let (session, negotiation) = (*session, *negotiation);
            flow.sample(seg.payload, || self.sessions.get(&session).is_some_and(|s| s.ascii_transfer(negotiation)));
        }
        // Data packets are the bulk of a capture: a data connection's facts are copied into its
        // negotiation only when its state changes (SYN, SYN-ACK, FIN, RST); its byte counts are
        // read from the flow when the session settles, or copied when the flow is evicted.
        match flow.role {
            Role::Data { session, negotiation } if state_changed => {
                let conn = flow.conn;
                self.data_changed(session, negotiation, &conn, frame, ts);
            }
            Role::Probable { session, .. } if state_changed => {
                if let Some(s) = self.sessions.get_mut(&session) {
                    flow.sync_into(s);
                }
            }
            Role::Probing(_) => {
                let port = self.settings.intent.control_port;
                // Another session can begin: fewer open than the limit, and an id left for it.
                let room = self.sessions.len() < self.settings.max_open_sessions && self.next_session < NO_SESSION;
                match control::probe_segment(flow, seg, (frame, ts), &mut self.scratch, &mut self.budget, port) {
                    Verdict::Undecided => {}
                    Verdict::NotFtp => flow.give_up(&mut self.budget),
                    Verdict::Ftp | Verdict::FtpOneWay { .. } if !room => {
                        self.summary.sessions_over_limit = self.summary.sessions_over_limit.saturating_add(1);
                        flow.give_up(&mut self.budget);
                    }
                    Verdict::Ftp => self.open_session(key, frame, ts, None),
                    Verdict::FtpOneWay { evidence } => self.open_session(key, frame, ts, Some(evidence)),
                }
            }
            Role::Control { session: id, .. } => {
                let Some(s) = self.sessions.get_mut(&id) else { return };
                let given_up = control::control_segment(flow, s, seg, (frame, ts), &mut self.scratch, &mut self.budget);
                self.summary.control_over_budget_bytes = self.summary.control_over_budget_bytes.saturating_add(given_up);
                if flow.conn.is_closed() && s.closed_at.is_none() {
                    s.closed_at = Some(ts);
                    // Due now: it settles at once if nothing is left to wait for.
                    self.deadlines.at(ts, id);
                }
                self.apply_effects(id, frame, ts);
            }
            // A settled session's data connection that just closed has nothing more to tell.
            Role::Retired if state_changed && flow.conn.is_closed() => self.end_flow(&key),
            Role::Data { .. } | Role::Probable { .. } | Role::Fresh | Role::Retired | Role::Other => {}
        }
    }

    /// A closed connection that no session waits for any more leaves the flow table now,
    /// leaving only its key for its last packets (see [`crate::tcp::flow::FlowTable::end`]).
    fn end_flow(&mut self, key: &FlowKey) {
        if let Some(f) = self.flows.end(key) {
            leave(f, &mut self.budget, &mut self.sessions, &mut self.deadlines, &mut self.unclaimed, self.now);
        }
    }

    /// The data connection of `session`'s negotiation `n` changed state: the negotiation takes
    /// its facts, and its outcome is told once decided.
    fn data_changed(&mut self, session: u32, n: u32, conn: &Conn, frame: u64, ts: Timestamp) {
        let Some(s) = self.sessions.get_mut(&session) else { return };
        let Some(neg) = s.negotiations.get_mut(n as usize) else { return };
        // An earlier attempt: the negotiation's outcome is its retry's.
        if retry::update(neg, conn) && decided_outcome(conn).is_some() {
            self.events.outcome(session, n, neg, s.directions, frame, ts);
        }
    }

    /// A probe recognised FTP on flow `key`: a session begins, the lines held are replayed to
    /// it, and the flow becomes its control connection.
    fn open_session(&mut self, key: FlowKey, frame: u64, ts: Timestamp, one_way_frame: Option<u64>) {
        let Some(flow) = self.flows.get_mut(&key) else { return };
        let Some(probe) = flow.take_probe() else { return };
        // Ids are never reused: the caller saw one left (below NO_SESSION; past the last, a new
        // session is over the limit), so this does not saturate.
        let id = self.next_session;
        self.next_session = id.saturating_add(1);
        self.summary.sessions = self.summary.sessions.saturating_add(1);
        let settings = &self.settings;
        let (mut s, channel) = control::recognised(*probe, id, &flow.conn, (frame, ts), one_way_frame, settings, &mut self.scratch.effects);
        s.login.open_along = self.open_counts.opened(s.client.ip(), s.server);
        flow.become_control(id, Box::new(channel), &mut self.budget);
        if s.directions == Directions::ClientToServer {
            self.client_only.note(&s);
        }
        self.unclaimed.reached(s.server);
        self.events.session_start(&s, frame, ts);
        self.deadlines.started(ts, id);
        self.sessions.insert(id, Box::new(s));
        self.open_high_water = self.open_high_water.max(self.sessions.len() as u64);
        self.apply_effects(id, frame, ts);
    }

    /// What the control lines just taken in did: commands settled (the log), announcements,
    /// TLS, and expectations of data connections (tied at once to one that opened just before).
    fn apply_effects(&mut self, session: u32, frame: u64, ts: Timestamp) {
        let Some(s) = self.sessions.get_mut(&session) else {
            self.scratch.effects.clear();
            return;
        };
        self.events.commands(session, &mut s.logged, frame, ts);
        for effect in self.scratch.effects.drain(..) {
            match effect {
                Effect::Encrypted => self.encrypted.note(s),
                Effect::Answered(n) => {
                    let Some(neg) = s.negotiations.get_mut(n as usize) else { continue };
                    self.answered = self.answered.saturating_add(1);
                    if !self.events.answered(neg) {
                        continue;
                    }
                    // The event shows the data connection as it is now (SYN retransmissions
                    // are not copied as they come).
                    if let Some(f) = neg.conn.and_then(|c| self.flows.get(&FlowKey::new(c.client, c.server))) {
                        if f.is_data_of(session, n) {
                            retry::update(neg, &f.conn);
                        }
                    }
                    self.events.negotiation(session, n, neg, s.directions, frame, ts);
                }
                Effect::Expect(n) => {
                    let Some(neg) = s.negotiations.get_mut(n as usize) else { continue };
                    let Some(advertised) = neg.advertised else { continue };
                    if neg.command.mode() == crate::model::Mode::Passive {
                        self.unclaimed.advertised(advertised);
                        self.unclaimed.advertised(std::net::SocketAddr::new(s.server.ip(), advertised.port()));
                    }
                    let expectation = Expectation {
                        session,
                        negotiation: n,
                        mode: neg.command.mode(),
                        advertised,
                        control_client: s.client.ip(),
                        control_server: s.server.ip(),
                        created: neg.ts,
                    };
                    // The connection may have opened already, stamped just before this reply or
                    // while the reply waited behind a hole in the control stream.
                    let early = self.untied.take_match(&expectation, ts);
                    let tied = early.and_then(|(c, how)| {
                        let flow = self.flows.get_mut(&FlowKey::new(c.client, c.server))?;
                        flow.tie(&c, session, n, &mut self.budget).map(|conn| (conn, how))
                    });
                    let Some((conn, how)) = tied else {
                        self.expectations.add(expectation);
                        continue;
                    };
                    neg.conn = Some(conn);
                    neg.matched_by = Some(how);
                    if decided_outcome(&conn).is_some() {
                        self.events.outcome(session, n, neg, s.directions, frame, ts);
                    }
                }
            }
        }
    }

    /// An ICMP error quoting a connection's SYN: the connection is unreachable, and that decides
    /// its outcome.
    fn on_unreachable(&mut self, frame: u64, u: &Unreachable) {
        let Some(flow) = self.flows.get_mut(&FlowKey::new(u.quoted_src, u.quoted_dst)) else { return };
        if !transport::unreachable(&mut flow.conn, u, frame) {
            return;
        }
        match flow.role {
            Role::Data { session, negotiation } => {
                let conn = flow.conn;
                self.data_changed(session, negotiation, &conn, frame, self.now);
            }
            Role::Probable { session, .. } => {
                if let Some(s) = self.sessions.get_mut(&session) {
                    flow.sync_into(s);
                }
            }
            _ => {}
        }
    }

    /// Settles the sessions whose time has come, and emits statistics when due.
    fn run_timers(&mut self) {
        let now = self.now;
        while let Some(id) = self.deadlines.due(now) {
            let Some(s) = self.sessions.get_mut(&id) else { continue };
            // The latest data connection counts as activity while the control connection is open.
            let latest = s.negotiations.last().and_then(|n| n.conn).filter(|_| s.closed_at.is_none());
            if let Some(f) = latest.and_then(|c| self.flows.get(&FlowKey::new(c.client, c.server))) {
                f.sync_into(s);
            }
            if let Some(reason) = self.deadlines.settles(s, now) {
                self.settle(id, reason);
            }
        }
        if let Some(every) = self.settings.server_events_every_ns.filter(|_| !self.finished) {
            let due = *self.next_servers.get_or_insert(now.plus_ns(every));
            if now >= due {
                self.next_servers = Some(now.plus_ns(every));
                let changed = self.servers.take_changed(self.settings.intent);
                self.events.servers(changed, self.last_frame, now);
            }
        }
        let due = *self.next_stats.get_or_insert(now.plus_ns(STATS_EVERY_NS));
        if now >= due && !self.finished {
            self.next_stats = Some(now.plus_ns(STATS_EVERY_NS));
            self.events.stats(self.stats(), self.last_frame, now);
        }
    }

    /// The session is over: its record and findings go out as events, its state is dropped.
    fn settle(&mut self, id: u32, reason: EndReason) {
        let Some(mut s) = self.sessions.remove(&id) else { return };
        // Its data connections' latest facts come from their flows, which are then retired;
        // its control flow's buffers go.
        for key in role::data_flow_keys(&s).into_iter().chain([FlowKey::new(s.client, s.server)]) {
            if let Some(f) = self.flows.get_mut(&key) {
                if f.settle(&mut s, &mut self.budget) && f.conn.is_closed() {
                    self.end_flow(&key);
                }
            }
        }
        self.encrypted.forget(&s);
        self.client_only.forget(&s);
        // Refused by a connection limit: a 421 greeting.
        let refused = s.login.refusals.iter().any(|r| r.step.is_none() && r.code == 421);
        self.open_counts.settled(s.client.ip(), s.server, refused);
        let (now, frame) = (self.now, self.last_frame);
        let mut record = outcome::session_record(&s, now, reason);
        record.passive_failed_first = self.fallbacks.before(&record);
        let context = Context { intent: self.settings.intent, server_block: self.servers.has_room_for(&record) };
        record.findings = diagnose::session_findings(&record, &context);
        if let Some(sink) = &self.content_sink {
            content::settled(sink, &record);
        }
        self.servers.see(&record);
        self.logins.see(&record);
        self.guessing.see(&record);
        self.fallbacks.see(&record);
        totals::add_session(&mut self.summary, &record);
        let across = self.pairing.settle(&record, now);
        s.settle_commands();
        self.events.commands(id, &mut s.logged, frame, now);
        self.events.settled(&s.negotiations, record, frame, now);
        for f in across {
            totals::count(&mut self.summary, &f);
            self.events.finding(f, frame, now);
        }
    }
}

/// A data connection not followed yet starts to be (`Settings::hash_data`), its bytes handed
/// to `sink`. Out of line, as `content_segment`: the default path (nothing followed) keeps
/// `on_tcp` as small as it was, with what it inlines.
#[inline(never)]
fn follow_data(flow: &mut Flow, sessions: &FxHashMap<u32, Box<SessionState>>, sink: Option<&SharedSink>) {
    let (None, Role::Data { session, negotiation }) = (&flow.content, &flow.role) else { return };
    let neg = sessions.get(session).and_then(|s| s.negotiations.get(*negotiation as usize));
    if let Some(mode) = neg.map(|n| n.command.mode()) {
        let (session, negotiation) = (*session, *negotiation);
        flow.follow_content(session, negotiation, mode, sink.cloned());
    }
}

/// A followed data connection's segment: its bytes in order to the hash and the sink, within
/// the buffer budget (past it, the holes it waits on become gaps); the bytes the sink refused
/// are counted in `summary`.
#[inline(never)]
fn content_segment(
    flow: &mut Flow,
    seg: &TcpSegment<'_>,
    sessions: &FxHashMap<u32, Box<SessionState>>,
    budget: &mut BufferBudget,
    summary: &mut Summary,
) {
    let Some(content) = flow.content.as_deref_mut() else { return };
    let command = match flow.role {
        Role::Data { session, negotiation } => sessions
            .get(&session)
            .and_then(|s| s.negotiations.get(negotiation as usize))
            .and_then(|n| n.transfer.as_ref()?.command.as_deref()),
        _ => None,
    };
    let refused = content.segment(&flow.conn, seg, command);
    let held = content.buffered();
    if budget.spent_by(&flow.held, held) {
        content.give_up_holes(command);
    }
    budget.set(&mut flow.held, content.buffered());
    summary.extract_refused_bytes = summary.extract_refused_bytes.saturating_add(refused);
}

/// A flow left the table (replaced, evicted): a function of the fields it needs, so the flow
/// table can call it while it evicts. A control connection's session is looked at now; a
/// connection no session claimed is judged.
fn leave(
    flow: Box<Flow>,
    budget: &mut BufferBudget,
    sessions: &mut FxHashMap<u32, Box<SessionState>>,
    deadlines: &mut Deadlines,
    unclaimed: &mut Unclaimed,
    now: Timestamp,
) {
    let c = &flow.conn;
    if flow.unclaimed() && unclaimed.candidate(c.client, c.server, flow.listing_from.is_some()) {
        unclaimed.judge(&outcome::connection_record(c, None, now), flow.listing_from);
    }
    if let Some(session) = flow.leave(budget, sessions) {
        deadlines.at(now, session);
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests;
