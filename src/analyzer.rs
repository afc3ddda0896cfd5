//! The analyzer: the wiring of the stages. Fed frames one at a time (`feed`), told when capture
//! time passes without packets (`advance`), asked for what became known (`poll_event`).
//!
//! A session lives while its control connection is open; once it is closed (or idle, or the
//! input ends) and its data connections are settled, its record and findings are built, sent
//! out as events, and its state is dropped: memory follows what is open, not what was seen.
//! It never reads a file, a socket or a clock: frames arrive with their capture time and number.

use crate::capture::duplicates::Duplicates;
use crate::correlate::one_way::ClientOnlySessions;
use crate::correlate::outcome::{self, decided_outcome, is_final};
use crate::correlate::retry;
use crate::correlate::tls::EncryptedSessions;
use crate::correlate::untied::{Untied, UntiedSyns};
use crate::correlate::{Expectation, Expectations};
use crate::decode::defrag::{DefragLimits, Reassembler};
use crate::decode::{self, Decoded, Fragment, LinkType, TcpSegment, Unreachable};
use crate::diagnose::{self, across::NatPairing, Context, PortsSeen};
use crate::ftp::channel::{Channel, LineRef, Lines};
use crate::ftp::detect;
use crate::ftp::probe::{self, Probe, Verdict};
use crate::ftp::session::{Effect, SessionState};
use crate::model::event::STATS_EVERY_NS;
use crate::model::{Directions, EndReason, Event, Finding, Frame, Intent, MatchedBy, Severity, Stats, Summary, Timestamp};
use crate::tcp::flow::{Conn, Dir, Evictable, FlowKey, FlowLimits, FlowTable};
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Bounds on what the analyzer keeps.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub flows: FlowLimits,
    /// IP fragments waiting for the rest of their datagram.
    pub fragments: DefragLimits,
    /// FTP sessions held open at once; sessions recognised beyond it are counted, not analysed.
    pub max_open_sessions: usize,
    /// Longest control line kept; longer ones are cut (and counted).
    pub max_line: usize,
    /// Out-of-order bytes buffered per control-channel direction.
    pub max_buffered: usize,
    /// All control-channel and probe buffers together (out-of-order bytes, partial lines, lines
    /// held while deciding whether a connection is FTP). Past it, a channel stops waiting for
    /// holes and drops partial lines; what it gave up is counted (Suricata's stream memcap).
    /// Probes have a reserve of a quarter more.
    pub buffer_budget: usize,
    /// A session whose control connection closed settles after this much capture time even
    /// if a data connection is still unresolved (an unanswered SYN, a lost FIN).
    pub settle_grace_ns: i64,
    /// A session with no packet on its control connection, nor on its latest data connection,
    /// for this long is settled as idle.
    pub idle_timeout_ns: i64,
    /// Control-channel lines each session keeps in its record's timeline (the terminal UI's
    /// detail; the reports do not show them): 0, the default, keeps none and costs nothing.
    pub timeline_lines: usize,
    /// Announce each negotiation and each data outcome as it becomes known (the `negotiation`
    /// and `data_outcome` events). A consumer that reads only settled sessions (a report
    /// written at the end) turns this off and is spared building them.
    pub negotiation_events: bool,
    /// The operator's intended setup, checked by diagnosis and used in its fixes.
    pub intent: Intent,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            flows: FlowLimits::default(),
            fragments: DefragLimits::default(),
            max_open_sessions: 50_000,
            max_line: 4096,
            max_buffered: 256 * 1024,
            buffer_budget: 64 << 20,
            settle_grace_ns: 5 * 1_000_000_000,
            idle_timeout_ns: 600 * 1_000_000_000,
            timeline_lines: 0,
            negotiation_events: true,
            intent: Intent::default(),
        }
    }
}

enum Role {
    /// No payload yet.
    Fresh,
    Probing(Box<Probe>),
    Control {
        session: u32,
        channel: Box<Channel>,
    },
    /// The data connection of a negotiation.
    Data {
        session: u32,
        negotiation: u32,
    },
    /// Under TLS: probably a data connection of this session.
    Probable {
        session: u32,
        index: u32,
    },
    /// A data connection of a settled session: kept only to recognise its last packets.
    Retired,
    Other,
}

struct Flow {
    conn: Conn,
    role: Role,
    /// Bytes of the buffer budget this flow's probe or channel holds.
    held: usize,
}

impl Default for Flow {
    /// A placeholder, never observed: see [`FlowTable::get_or_replace`].
    fn default() -> Flow {
        let none = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
        Flow { conn: Conn::new(none, none, 0, Timestamp::default()), role: Role::Other, held: 0 }
    }
}

impl Evictable for Flow {
    fn conn(&self) -> &Conn {
        &self.conn
    }
    fn pinned(&self) -> bool {
        matches!(self.role, Role::Control { .. })
    }
    fn retired(&self) -> bool {
        matches!(self.role, Role::Retired)
    }
}

pub struct Analyzer {
    settings: Settings,
    /// IP fragments put back together, in frame order, before TCP sees them.
    fragments: Reassembler,
    flows: FlowTable<Flow>,
    /// Open sessions by id. Settled ones are gone. Boxed: the table stays small enough for the
    /// cache, and growing it moves pointers, not whole sessions.
    sessions: FxHashMap<u32, Box<SessionState>>,
    next_session: u32,
    /// When to look at a session again (its close grace or idle deadline), earliest first.
    /// Entries can be stale: the session is re-examined and rescheduled.
    wakeups: BinaryHeap<Reverse<(Timestamp, u32)>>,
    expectations: Expectations,
    /// Connections that matched no expectation, for a short while: their negotiation may be
    /// read just after them.
    untied: UntiedSyns,
    encrypted: EncryptedSessions,
    client_only: ClientOnlySessions,
    pairing: NatPairing,
    ports_seen: PortsSeen,
    duplicates: Duplicates,
    events: VecDeque<Event>,
    /// Bytes held against `settings.buffer_budget`.
    held: usize,
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
    // Reused buffers: no allocation per packet on the hot path.
    lines: Lines,
    raw: Vec<u8>,
    effects: Vec<Effect>,
    /// The datagram the last fragment completed.
    datagram: Vec<u8>,
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
            wakeups: BinaryHeap::new(),
            expectations: Expectations::default(),
            untied: UntiedSyns::default(),
            encrypted: EncryptedSessions::default(),
            client_only: ClientOnlySessions::default(),
            pairing: NatPairing::default(),
            ports_seen: PortsSeen::default(),
            duplicates: Duplicates::default(),
            events: VecDeque::new(),
            held: 0,
            summary: Summary::default(),
            open_high_water: 0,
            answered: 0,
            now: Timestamp(i64::MIN),
            last_frame: 0,
            next_stats: None,
            finished: false,
            finishing: None,
            lines: Lines::default(),
            raw: Vec::new(),
            effects: Vec::new(),
            datagram: Vec::new(),
        }
    }

    /// Feeds one captured frame.
    pub fn feed(&mut self, frame: &Frame<'_>) {
        self.feed_decoded(frame, decode::decode(frame.link, frame.data, frame.orig_len));
    }

    /// Feeds one captured frame decoded already (by [`decode::decode`], e.g. on the thread that
    /// read it): the same as [`Analyzer::feed`].
    pub fn feed_decoded(&mut self, frame: &Frame<'_>, decoded: Result<Decoded<'_>, decode::DecodeError>) {
        self.summary.frames += 1;
        self.last_frame = frame.number;
        self.summary.first_time.get_or_insert(frame.ts);
        // Capture clocks can step back; time only moves forward for timeouts.
        self.now = self.now.max(frame.ts);
        if frame.orig_len as usize > frame.data.len() {
            self.summary.cut_frames += 1;
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
            self.summary.duplicate_frames += 1;
            self.run_timers();
            return;
        }
        match decoded {
            Ok(Decoded::Tcp(seg)) => self.on_tcp(frame.number, frame.ts, &seg),
            Ok(Decoded::Unreachable(u)) => self.on_unreachable(frame.number, &u),
            Ok(Decoded::Fragment(f)) => self.on_fragment(frame.number, frame.ts, &f),
            Ok(Decoded::Ignored) => {}
            Ok(Decoded::Unsupported) => self.summary.unsupported_frames += 1,
            Err(_) => self.summary.undecodable_frames += 1,
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
        let wake = self.wakeups.peek().map(|Reverse((t, _))| *t);
        [wake, self.next_stats].into_iter().flatten().min()
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
                    self.summary.last_time = self.summary.first_time.map(|_| self.now);
                    self.summary.evicted_connections = self.flows.evicted;
                    self.summary.peak_open_sessions = self.open_high_water;
                    self.summary.expectations_dropped = self.expectations.dropped;
                    self.summary.untied_connections_dropped = self.untied.dropped;
                    let defrag = self.fragments.counts();
                    self.summary.reassembled_datagrams = defrag.reassembled;
                    self.summary.incomplete_datagrams = defrag.incomplete;
                    self.summary.datagrams_over_budget = defrag.over_budget;
                    self.summary.invalid_datagrams = defrag.invalid;
                    self.summary.overlapping_fragments = defrag.overlapping;
                    self.summary.conflicting_fragments = defrag.conflicting;
                    // An empty input has no capture time at all.
                    let time = self.summary.last_time.unwrap_or_default();
                    self.events.push_back(Event::Summary { frame: self.last_frame, time, summary: Box::new(self.summary.clone()) });
                }
            }
        }
        self.events.pop_front()
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
        let mut lines = std::mem::take(&mut self.lines);
        let mut effects = std::mem::take(&mut self.effects);
        let (ts, frame) = (self.now, self.last_frame);
        for flow in self.flows.values_mut() {
            if let Role::Control { session, channel } = &mut flow.role {
                lines.clear();
                channel.flush(&mut lines);
                if let Some(s) = self.sessions.get_mut(session) {
                    for line in lines.iter() {
                        apply_line(s, frame, ts, line, &mut effects);
                    }
                    update_control(s, &flow.conn, channel);
                }
            }
        }
        // Expectations made while flushing have no packets left to meet.
        effects.clear();
        self.lines = lines;
        self.effects = effects;
        // The sessions still open settle one at a time as events are polled, so the queue of
        // events never holds more than one session's worth.
        let mut open: Vec<u32> = self.sessions.keys().copied().collect();
        open.sort_unstable();
        self.finishing = Some(open.into());
    }

    /// A fragment goes to the reassembler; the datagram it completes is decoded and analysed
    /// as if it had come whole in this frame (Wireshark's "reassembled in" frame: the last).
    fn on_fragment(&mut self, frame: u64, ts: Timestamp, f: &Fragment<'_>) {
        let mut datagram = std::mem::take(&mut self.datagram);
        if self.fragments.add(self.now, f, &mut datagram) {
            match decode::decode(LinkType::Raw, &datagram, datagram.len() as u32) {
                Ok(Decoded::Tcp(seg)) => self.on_tcp(frame, ts, &seg),
                Ok(_) => {}
                Err(_) => self.summary.undecodable_frames += 1,
            }
        }
        self.datagram = datagram;
    }

    fn on_tcp(&mut self, frame: u64, ts: Timestamp, seg: &TcpSegment<'_>) {
        // Text on a RST explains the reset (RFC 1122 4.2.2.12): it is not stream data, neither
        // a line of the control channel nor bytes of a transfer.
        let without_text;
        let seg = if seg.flags.rst && (!seg.payload.is_empty() || seg.missing > 0) {
            without_text = TcpSegment { payload: &[], missing: 0, ..seg.clone() };
            &without_text
        } else {
            seg
        };
        let key = FlowKey::new(seg.src, seg.dst);
        let opening = seg.flags.syn && !seg.flags.ack;
        {
            let Analyzer { flows, held, sessions, wakeups, now, .. } = self;
            flows.make_room(ts, &mut |f| release(held, sessions, wakeups, *now, f));
        }
        // One lookup per packet. A SYN with a new ISN on the 4-tuple of a connection that was
        // closed, or whose own SYN was answered (its FINs may be missing from the capture), opens
        // a new connection: ports are reused. Before the SYN-ACK, the SYN is retried; a SYN-ACK
        // seen before any SYN may be its own SYN stamped late.
        let Analyzer { flows, held, sessions, wakeups, now, expectations, untied, encrypted, client_only, summary, .. } = self;
        let flow = flows.get_or_replace(
            key,
            |f| {
                let c = &f.conn;
                let new_isn = c.client_isn != Some(seg.seq);
                let reused = c.is_closed() || (c.synack_frame.is_some() && c.client_isn.is_some());
                !(opening && reused && new_isn)
            },
            |old| {
                if let Some(old) = old {
                    release(held, sessions, wakeups, *now, old);
                }
                let conn = if seg.flags.syn && seg.flags.ack {
                    Conn::new(seg.dst, seg.src, frame, ts)
                } else {
                    Conn::new(seg.src, seg.dst, frame, ts)
                };
                // A SYN-ACK opens it when the SYN is not in the capture (one direction only).
                let role = if seg.flags.syn {
                    correlate(expectations, untied, sessions, encrypted, client_only, opening.then_some(seg.seq), &conn)
                } else {
                    Role::Fresh
                };
                summary.tcp_connections += 1;
                if conn.server.port() == crate::ftp::IMPLICIT_FTPS_PORT {
                    summary.implicit_ftps_connections += 1;
                }
                Flow { conn, role, held: 0 }
            },
        );
        let conn = &mut flow.conn;
        let dir = conn.dir_of(seg.src);
        conn.last_frame = frame;
        conn.last_ts = ts;
        conn.sent |= 1 << dir as u8;
        // The SYN's sender acknowledging something proves the SYN-ACK came, captured or not.
        let handshake_acked = dir == Dir::ToServer
            && seg.flags.ack
            && !seg.flags.syn
            && !seg.flags.rst
            && conn.syn.is_some()
            && conn.handshake_acked.is_none();
        if handshake_acked {
            conn.handshake_acked = Some(frame);
        }
        if opening {
            if conn.syn.is_none() {
                conn.syn = Some((frame, ts));
                conn.client_isn = Some(seg.seq);
            }
            conn.syns += 1;
            conn.last_syn_ts = ts;
        } else if seg.flags.syn && seg.flags.ack {
            conn.synack_frame.get_or_insert(frame);
            conn.server_isn = Some(seg.seq);
        }
        if seg.flags.rst && conn.rst.is_none() {
            conn.rst = Some((frame, dir));
        }
        if seg.flags.fin {
            conn.fin_frame.get_or_insert(frame);
            // One bit per direction: a retransmitted FIN closes nothing more.
            conn.fins |= 1 << dir as u8;
        }
        // Data on a SYN follows the SYN's own sequence number.
        let payload_seq = if seg.flags.syn { seg.seq.wrapping_add(1) } else { seg.seq };
        conn.count_payload(dir, payload_seq, (seg.payload.len() as u32).saturating_add(seg.missing));

        if matches!(flow.role, Role::Fresh) && !seg.payload.is_empty() {
            flow.role = match probe::start(&mut flow.conn, seg, self.settings.max_line, self.settings.max_buffered) {
                Some(p) => Role::Probing(p),
                None => Role::Other,
            };
        }
        // Borrowed, not copied: data packets are the bulk of a capture. A data connection's
        // facts are copied into its negotiation only when its state changes (SYN, SYN-ACK, FIN,
        // RST); its byte counts are read from the flow when the session settles, or copied
        // when the flow is evicted.
        let conn = &flow.conn;
        // A retransmitted SYN changes only the SYN count, which settling reads from the flow:
        // the session (elsewhere in memory) is not touched for it.
        let retransmitted_syn = opening && conn.syns > 1;
        // An acknowledgement decides the outcome only where the SYN-ACK is missing.
        let state_changed =
            (seg.flags.syn && !retransmitted_syn) || seg.flags.fin || seg.flags.rst || (handshake_acked && conn.synack_frame.is_none());
        match &mut flow.role {
            Role::Data { session, negotiation } if state_changed => {
                let (id, n) = (*session, *negotiation);
                let Some(s) = self.sessions.get_mut(&id) else { return };
                let Some(neg) = s.negotiations.get_mut(n as usize) else { return };
                if !retry::update(neg, conn) {
                    return; // an earlier attempt: the negotiation's outcome is its retry's
                }
                if !neg.outcome_announced && decided_outcome(conn).is_some() {
                    neg.outcome_announced = true;
                    if self.settings.negotiation_events {
                        let record = outcome::negotiation_record(neg, ts, s.directions);
                        self.events.push_back(outcome_event(id, n, &record, frame, ts));
                    }
                }
            }
            Role::Probable { session, index } if state_changed => {
                if let Some(c) = self.sessions.get_mut(session).and_then(|s| s.probable.get_mut(*index as usize)) {
                    *c = *conn;
                }
            }
            Role::Data { .. } | Role::Probable { .. } => {}
            Role::Probing(probe) => {
                let dir = conn.dir_of(seg.src);
                probe.note_ack(dir, seg, frame);
                self.lines.clear();
                probe.channel.push(dir, seg, true, &mut self.lines, &mut self.raw);
                probe.bytes += seg.payload.len();
                for line in self.lines.iter() {
                    probe.lines.push(line);
                    probe.stamps.push((frame, ts));
                }
                let held = probe.held();
                self.held = self.held + held - flow.held;
                flow.held = held;
                let verdict = match probe.judge(conn, self.settings.intent.control_port) {
                    // Probes may use a reserve past the budget, so that channels holding it
                    // cannot stop new sessions from being recognised; past the reserve a
                    // probe is given up (FTP sessions already followed matter more than a maybe).
                    Verdict::Undecided if self.held > self.settings.buffer_budget + self.settings.buffer_budget / 4 => Verdict::NotFtp,
                    v => v,
                };
                match verdict {
                    Verdict::Undecided => {}
                    Verdict::NotFtp => {
                        self.held -= flow.held;
                        flow.held = 0;
                        flow.role = Role::Other;
                    }
                    Verdict::Ftp | Verdict::FtpOneWay { .. } if self.sessions.len() >= self.settings.max_open_sessions => {
                        self.summary.sessions_over_limit += 1;
                        self.held -= flow.held;
                        flow.held = 0;
                        flow.role = Role::Other;
                    }
                    Verdict::Ftp | Verdict::FtpOneWay { .. } => {
                        let one_way_frame = match verdict {
                            Verdict::FtpOneWay { evidence } => Some(evidence),
                            _ => None,
                        };
                        let Role::Probing(probe) = std::mem::replace(&mut flow.role, Role::Other) else { unreachable!() };
                        let probe = *probe;
                        let id = self.next_session;
                        self.next_session += 1;
                        self.summary.sessions += 1;
                        let mut s = SessionState::new(id, conn);
                        s.timeline.keep(self.settings.timeline_lines);
                        s.directions = directions(conn);
                        s.one_way_frame = one_way_frame;
                        if s.directions == Directions::ClientToServer {
                            self.client_only.note(&s);
                        }
                        self.events.push_back(Event::SessionStart {
                            session: id,
                            frame,
                            time: ts,
                            first_frame: s.first_frame,
                            start_time: s.start_ts,
                            client: s.client,
                            server: s.server,
                        });
                        for (line, &(f, t)) in probe.lines.iter().zip(&probe.stamps) {
                            apply_line(&mut s, f, t, line, &mut self.effects);
                        }
                        s.last_frame = frame;
                        s.last_ts = s.last_ts.max(ts);
                        update_control(&mut s, conn, &probe.channel);
                        let held = probe.channel.buffered();
                        self.held = self.held + held - flow.held;
                        flow.held = held;
                        self.wakeups.push(Reverse((ts.plus_ns(self.settings.idle_timeout_ns), id)));
                        self.sessions.insert(id, Box::new(s));
                        self.open_high_water = self.open_high_water.max(self.sessions.len() as u64);
                        flow.role = Role::Control { session: id, channel: Box::new(probe.channel) };
                        self.apply_effects(id, frame, ts);
                    }
                }
            }
            Role::Control { session, channel } => {
                let id = *session;
                let Some(s) = self.sessions.get_mut(&id) else { return };
                s.directions = directions(conn);
                let dir = conn.dir_of(seg.src);
                self.lines.clear();
                self.raw.clear();
                let encrypted = s.encrypted();
                channel.push(dir, seg, !encrypted, &mut self.lines, &mut self.raw);
                let clear = match dir {
                    Dir::ToClient => detect::looks_like_clear_reply(&self.raw),
                    Dir::ToServer => detect::looks_like_clear_command(&self.raw),
                };
                if encrypted && clear {
                    // Clear text after TLS: the client sent CCC inside TLS and the server agreed.
                    s.clear_again(frame);
                    channel.resume_clear(dir, &self.raw, &mut self.lines);
                }
                for line in self.lines.iter() {
                    apply_line(s, frame, ts, line, &mut self.effects);
                }
                s.last_frame = frame;
                s.last_ts = s.last_ts.max(ts);
                if seg.flags.fin || seg.flags.rst {
                    // Closing the control connection is moving on too.
                    if let Some(last) = s.negotiations.last_mut() {
                        last.followed = true;
                    }
                }
                // The global budget: past it, this channel stops waiting for holes and drops
                // its partial lines rather than grow.
                let mut held = channel.buffered();
                if self.held + held - flow.held > self.settings.buffer_budget && held > 0 {
                    let before = held;
                    // The lines above were applied already.
                    self.lines.clear();
                    channel.flush(&mut self.lines);
                    channel.drop_partial_lines();
                    for line in self.lines.iter() {
                        apply_line(s, frame, ts, line, &mut self.effects);
                    }
                    held = channel.buffered();
                    s.control.over_budget_bytes += (before - held) as u64;
                    self.summary.control_over_budget_bytes += (before - held) as u64;
                }
                self.held = self.held + held - flow.held;
                flow.held = held;
                update_control(s, conn, channel);
                if conn.is_closed() && s.closed_at.is_none() {
                    s.closed_at = Some(ts);
                    // Due now: it settles at once if nothing is left to wait for.
                    self.wakeups.push(Reverse((ts, id)));
                }
                self.apply_effects(id, frame, ts);
            }
            Role::Fresh | Role::Retired | Role::Other => {}
        }
    }

    fn apply_effects(&mut self, session: u32, frame: u64, ts: Timestamp) {
        let Some(s) = self.sessions.get_mut(&session) else {
            self.effects.clear();
            return;
        };
        for effect in self.effects.drain(..) {
            match effect {
                Effect::Encrypted => self.encrypted.note(s),
                Effect::Answered(n) => {
                    let Some(neg) = s.negotiations.get_mut(n as usize) else { continue };
                    self.answered += 1;
                    neg.announced = true;
                    if !self.settings.negotiation_events {
                        continue;
                    }
                    // The event shows the data connection as it is now (SYN retransmissions
                    // are not copied as they come).
                    if let Some(f) = neg.conn.and_then(|c| self.flows.get(&FlowKey::new(c.client, c.server))) {
                        if matches!(f.role, Role::Data { session: id, negotiation } if id == session && negotiation == n) {
                            retry::update(neg, &f.conn);
                        }
                    }
                    let record = outcome::negotiation_record(neg, ts, s.directions);
                    self.events.push_back(negotiation_event(session, n, &record, frame, ts));
                }
                Effect::Expect(n) => {
                    let Some(neg) = s.negotiations.get_mut(n as usize) else { continue };
                    let Some(advertised) = neg.advertised else { continue };
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
                    let tied =
                        early.and_then(|(c, how)| tie_untied(&mut self.flows, &mut self.held, &c, session, n).map(|conn| (conn, how)));
                    let Some((conn, how)) = tied else {
                        self.expectations.add(expectation);
                        continue;
                    };
                    neg.conn = Some(conn);
                    neg.matched_by = Some(how);
                    if !neg.outcome_announced && decided_outcome(&conn).is_some() {
                        neg.outcome_announced = true;
                        if self.settings.negotiation_events {
                            let record = outcome::negotiation_record(neg, ts, s.directions);
                            self.events.push_back(outcome_event(session, n, &record, frame, ts));
                        }
                    }
                }
            }
        }
    }

    fn on_unreachable(&mut self, frame: u64, u: &Unreachable) {
        let key = FlowKey::new(u.quoted_src, u.quoted_dst);
        let Some(flow) = self.flows.get_mut(&key) else { return };
        if flow.conn.synack_frame.is_some() || flow.conn.unreachable.is_some() {
            return;
        }
        // An error about this connection quotes its SYN: another sequence number is about an
        // earlier connection on the same ports, or forged (RFC 5927), and changes nothing.
        if let (Some(quoted), Some(isn)) = (u.quoted_seq, flow.conn.client_isn) {
            if quoted != isn {
                return;
            }
        }
        flow.conn.unreachable = Some((frame, u.icmp_type, u.icmp_code, u.reporter));
        let conn = flow.conn;
        match flow.role {
            Role::Data { session, negotiation } => {
                let Some(s) = self.sessions.get_mut(&session) else { return };
                let captured = s.directions;
                let Some(n) = s.negotiations.get_mut(negotiation as usize) else { return };
                if !retry::update(n, &conn) {
                    return;
                }
                if !n.outcome_announced {
                    n.outcome_announced = true;
                    if self.settings.negotiation_events {
                        let record = outcome::negotiation_record(n, self.now, captured);
                        self.events.push_back(outcome_event(session, negotiation, &record, frame, self.now));
                    }
                }
            }
            Role::Probable { session, index } => {
                if let Some(c) = self.sessions.get_mut(&session).and_then(|s| s.probable.get_mut(index as usize)) {
                    *c = conn;
                }
            }
            _ => {}
        }
    }

    /// Settles the sessions whose time has come, and emits statistics when due.
    fn run_timers(&mut self) {
        let now = self.now;
        while let Some(&Reverse((due, id))) = self.wakeups.peek() {
            if due > now {
                break;
            }
            self.wakeups.pop();
            let Some(s) = self.sessions.get_mut(&id) else { continue };
            if let Some(closed) = s.closed_at {
                let deadline = closed.plus_ns(self.settings.settle_grace_ns);
                if now >= deadline || s.negotiations.iter().all(is_final) {
                    self.settle(id, EndReason::Closed);
                } else {
                    self.wakeups.push(Reverse((deadline, id)));
                }
            } else {
                // The latest data connection counts as activity: the control channel is quiet
                // during a long transfer.
                if let Some(c) = s.negotiations.last().and_then(|n| n.conn) {
                    if let Some(f) = self.flows.get(&FlowKey::new(c.client, c.server)) {
                        sync_data(s, f);
                    }
                }
                let data = s.negotiations.last().and_then(|n| n.conn).map(|c| c.last_ts);
                let active = data.map_or(s.last_ts, |d| d.max(s.last_ts));
                let deadline = active.plus_ns(self.settings.idle_timeout_ns);
                if now >= deadline {
                    self.settle(id, EndReason::Idle);
                } else {
                    self.wakeups.push(Reverse((deadline, id)));
                }
            }
        }
        let due = *self.next_stats.get_or_insert(now.plus_ns(STATS_EVERY_NS));
        if now >= due && !self.finished {
            self.next_stats = Some(now.plus_ns(STATS_EVERY_NS));
            self.events.push_back(Event::Stats { frame: self.last_frame, time: now, stats: self.stats() });
        }
    }

    /// The session is over: its record and findings go out as events, its state is dropped.
    fn settle(&mut self, id: u32, reason: EndReason) {
        let Some(mut s) = self.sessions.remove(&id) else { return };
        // Its data connections' latest facts come from their flows, which are then retired.
        for key in data_flow_keys(&s) {
            if let Some(f) = self.flows.get_mut(&key) {
                if matches!(f.role, Role::Data { session, .. } | Role::Probable { session, .. } if session == id) {
                    sync_data(&mut s, f);
                    f.role = Role::Retired;
                }
            }
        }
        // The control flow stays (its last ACKs must not look like a new connection), but its
        // buffers go.
        if let Some(f) = self.flows.get_mut(&FlowKey::new(s.client, s.server)) {
            if matches!(f.role, Role::Control { session, .. } if session == id) {
                f.role = Role::Other;
                self.held -= std::mem::take(&mut f.held);
            }
        }
        self.encrypted.forget(&s);
        self.client_only.forget(&s);
        let (now, frame) = (self.now, self.last_frame);
        let mut record = outcome::session_record(&s, now, reason);
        // What was not announced yet is announced from the record: it is built once.
        let announce = if self.settings.negotiation_events { s.negotiations.len() } else { 0 };
        for ((i, n), r) in s.negotiations.iter().enumerate().zip(&record.negotiations).take(announce) {
            if !n.announced {
                self.events.push_back(negotiation_event(id, i as u32, r, frame, now));
            }
            if !n.outcome_announced {
                self.events.push_back(outcome_event(id, i as u32, r, frame, now));
            }
        }
        drop(s);
        self.summary.negotiations += record.negotiations.len() as u64 + record.negotiations_over_limit;
        // What this session's control channel lost or cut, in the capture's totals.
        let (c, total) = (&record.control, &mut self.summary);
        total.overlong_lines = total.overlong_lines.saturating_add(c.overlong_lines);
        total.conflicting_overlaps = total.conflicting_overlaps.saturating_add(c.conflicting_overlaps);
        total.control_gap_bytes = total.control_gap_bytes.saturating_add(c.gap_bytes);
        total.negotiations_over_limit = total.negotiations_over_limit.saturating_add(record.negotiations_over_limit);
        let context = Context { intent: self.settings.intent, passive_ports: self.ports_seen.see(&record) };
        record.findings = diagnose::session_findings(&record, &context);
        for f in &record.findings {
            self.count(f);
        }
        let across = self.pairing.settle(&record, now);
        self.events.push_back(Event::SessionEnd { session: id, frame, time: now, record: Box::new(record) });
        for f in across {
            self.count(&f);
            self.events.push_back(Event::Finding { session: f.session, frame, time: now, finding: Box::new(f) });
        }
    }

    /// Counts a problem: a consequence is counted with its cause, not again.
    fn count(&mut self, f: &Finding) {
        if f.caused_by.is_some() {
            return;
        }
        match f.severity {
            Severity::Error => self.summary.errors += 1,
            Severity::Warning => self.summary.warnings += 1,
            Severity::Info => self.summary.infos += 1,
        }
    }
}

/// A flow left the table (replaced, evicted): its buffers no longer count, and a control
/// channel's session has nothing more to wait for. A function of the fields it needs, so the
/// flow table can call it while it evicts.
fn release(
    held: &mut usize,
    sessions: &mut FxHashMap<u32, Box<SessionState>>,
    wakeups: &mut BinaryHeap<Reverse<(Timestamp, u32)>>,
    now: Timestamp,
    flow: Flow,
) {
    *held -= flow.held;
    match flow.role {
        Role::Control { session, .. } => {
            if let Some(s) = sessions.get_mut(&session) {
                s.closed_at.get_or_insert(flow.conn.last_ts);
                wakeups.push(Reverse((now, session)));
            }
        }
        Role::Data { session, .. } | Role::Probable { session, .. } => {
            if let Some(s) = sessions.get_mut(&session) {
                sync_data(s, &flow);
            }
        }
        _ => {}
    }
}

/// Copies a data connection's latest facts into its session (its flow is being evicted, or the
/// session settles).
fn sync_data(s: &mut SessionState, flow: &Flow) {
    match flow.role {
        Role::Data { session, negotiation } if session == s.id => {
            if let Some(n) = s.negotiations.get_mut(negotiation as usize) {
                retry::update(n, &flow.conn);
            }
        }
        Role::Probable { session, index } if session == s.id => {
            if let Some(c) = s.probable.get_mut(index as usize) {
                *c = flow.conn;
            }
        }
        _ => {}
    }
}

/// The flow keys of a session's data connections (and, under TLS, its probable ones).
fn data_flow_keys(s: &SessionState) -> Vec<FlowKey> {
    let tries = s.negotiations.iter().flat_map(|n| n.conn.iter().chain(&n.earlier));
    let conns = tries.copied().chain(s.probable.iter().copied());
    conns.map(|c| FlowKey::new(c.client, c.server)).collect()
}

/// A new connection (its first SYN, or its SYN-ACK when the SYN is not in the capture): the
/// data connection of a negotiation, a probable data connection of an encrypted session, or
/// nothing known yet; then it is kept a while in case its negotiation is read just after.
fn correlate(
    expectations: &mut Expectations,
    untied: &mut UntiedSyns,
    sessions: &mut FxHashMap<u32, Box<SessionState>>,
    encrypted: &EncryptedSessions,
    client_only: &ClientOnlySessions,
    isn: Option<u32>,
    conn: &Conn,
) -> Role {
    let (client, server) = (conn.client, conn.server);
    if let Some((e, how)) = expectations.take_match(client, server, conn.first_ts) {
        if let Some(n) = sessions.get_mut(&e.session).and_then(|s| s.negotiations.get_mut(e.negotiation as usize)) {
            n.matched_by = Some(how);
            return Role::Data { session: e.session, negotiation: e.negotiation };
        }
    }
    let negotiation = |e: &Expectation| sessions.get(&e.session).and_then(|s| s.negotiations.get(e.negotiation as usize));
    if let Some((e, how)) =
        expectations.retry_of(client, server, conn.first_ts, |e| negotiation(e).is_some_and(|n| retry::is_retry(n, conn)))
    {
        if let Some(n) = sessions.get_mut(&e.session).and_then(|s| s.negotiations.get_mut(e.negotiation as usize)) {
            retry::replace(n, how);
            return Role::Data { session: e.session, negotiation: e.negotiation };
        }
    }
    if let Some(tie) = client_only.negotiation_for(conn, |id| sessions.get(&id).map(|s| &**s)) {
        if let Some(n) = sessions.get_mut(&tie.session).and_then(|s| s.negotiations.get_mut(tie.negotiation as usize)) {
            if tie.retry {
                retry::replace(n, MatchedBy::AfterCommand);
            } else {
                n.matched_by = Some(MatchedBy::AfterCommand);
            }
            // A retry at the control address leaves what the first try showed.
            if n.advertised.is_none() {
                n.advertised = tie.implied;
                n.reply_implied = tie.implied.is_some();
            }
        }
        return Role::Data { session: tie.session, negotiation: tie.negotiation };
    }
    if let Some(id) = encrypted.session_for(client, server, |id| sessions.get(&id).map(|s| &**s)) {
        if let Some(s) = sessions.get_mut(&id) {
            s.probable.push(*conn);
            return Role::Probable { session: id, index: s.probable.len() as u32 - 1 };
        }
    }
    untied.add(Untied { client, server, isn, opened: conn.first_ts }, conn.first_ts);
    Role::Fresh
}

/// Makes a connection that opened before its negotiation was read (see [`UntiedSyns`]) the data
/// connection of negotiation `n`: its packets so far are in its flow and count, its later ones
/// go to the negotiation. None when it is gone, reused, or already something else (a control
/// channel, another negotiation's).
fn tie_untied(flows: &mut FlowTable<Flow>, held: &mut usize, c: &Untied, session: u32, n: u32) -> Option<Conn> {
    let flow = flows.get_mut(&FlowKey::new(c.client, c.server))?;
    // Opened by a SYN-ACK (isn unknown), its own SYN may have come after, stamped late.
    let same = flow.conn.client == c.client && (c.isn.is_none() || flow.conn.client_isn == c.isn);
    if !same || !matches!(flow.role, Role::Fresh | Role::Other | Role::Probing(_)) {
        return None;
    }
    // A probe of its first bytes (a listing that looked like a reply) is given up.
    *held -= std::mem::take(&mut flow.held);
    flow.role = Role::Data { session, negotiation: n };
    Some(flow.conn)
}

fn negotiation_event(session: u32, index: u32, record: &crate::model::Negotiation, frame: u64, now: Timestamp) -> Event {
    Event::Negotiation { session, frame, time: now, index, negotiation: Box::new(record.clone()) }
}

fn outcome_event(session: u32, index: u32, record: &crate::model::Negotiation, frame: u64, now: Timestamp) -> Event {
    Event::DataOutcome {
        session,
        frame,
        time: now,
        index,
        command: record.command,
        outcome: record.data.outcome,
        matched_by: record.data.matched_by,
        connection: record.data.connection.clone().map(Box::new),
        earlier_attempts: record.data.earlier_attempts.clone(),
    }
}

/// Feeds one line (or gap) of a control channel to its session.
fn apply_line(s: &mut SessionState, frame: u64, ts: Timestamp, line: LineRef<'_>, effects: &mut Vec<Effect>) {
    if line.is_gap() {
        if line.dir == Dir::ToClient {
            s.server_gap();
        }
        return;
    }
    if s.encrypted() {
        return; // TLS bytes split at a stray LF are not lines
    }
    if line.overlong {
        s.overlong_lines += 1;
    }
    match line.dir {
        Dir::ToServer => s.on_command(frame, ts, line.bytes, effects),
        Dir::ToClient => s.on_reply_line(frame, ts, line.bytes, effects),
    }
}

/// The directions of a connection the capture holds so far.
fn directions(conn: &Conn) -> Directions {
    match conn.one_way() {
        None => Directions::Both,
        Some(Dir::ToServer) => Directions::ClientToServer,
        Some(Dir::ToClient) => Directions::ServerToClient,
    }
}

/// The control connection's transport facts, copied into its session.
fn update_control(s: &mut SessionState, conn: &Conn, channel: &Channel) {
    let [a, b] = channel.stats();
    let c = &mut s.control;
    c.bytes_to_server = conn.bytes_to_server;
    c.bytes_to_client = conn.bytes_to_client;
    c.gaps = a.gaps + b.gaps;
    c.gap_bytes = a.gap_bytes + b.gap_bytes;
    c.retransmitted_bytes = a.retransmitted_bytes + b.retransmitted_bytes;
    c.conflicting_overlaps = a.conflicting_overlaps + b.conflicting_overlaps;
    c.out_of_order_segments = a.out_of_order_segments + b.out_of_order_segments;
    c.overlong_lines = s.overlong_lines + channel.overlong_unfinished();
    c.closed = conn.is_closed();
    c.client_isn = conn.client_isn;
    c.server_isn = conn.server_isn;
}

#[cfg(test)]
mod tests;
