//! The analyzer: fed captured frames one at a time, asked for a [`Report`] at any moment.
//!
//! Owns the glue between the layers: the flow table, finding FTP control channels by content,
//! feeding their lines to [`SessionState`], and tying new connections to negotiations. It never
//! reads a file, a socket or a clock: frames arrive with their capture time and number.

use crate::model::Frame;
use crate::correlate::{Expectation, Expectations};
use crate::decode::{self, Decoded, TcpSegment, Unreachable};
use crate::tcp::flow::{Conn, Dir, Evictable, FlowKey, FlowLimits, FlowTable};
use crate::ftp::lines::LineSplitter;
use crate::ftp::detect::{self, is_ftp_command, is_reply_line};
use crate::report::{self, CaptureSummary, ControlStats, Report};
use crate::ftp::session::{Effect, SessionState, MAX_PROBABLE};
use crate::tcp::reassembly::{Chunk, Reassembler, ReassemblyStats};
use crate::Timestamp;
use rustc_hash::FxHashMap;
use std::net::IpAddr;

/// Bounds on what the analyzer keeps.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub flows: FlowLimits,
    pub max_sessions: usize,
    /// Longest control line kept; longer ones are cut (and counted).
    pub max_line: usize,
    /// Out-of-order bytes buffered per control-channel direction.
    pub max_buffered: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { flows: FlowLimits::default(), max_sessions: 100_000, max_line: 4096, max_buffered: 256 * 1024 }
    }
}

/// Lines and bytes a connection may send before it must look like FTP.
/// Generous: some greetings run to dozens of lines before the client's first command.
const PROBE_MAX_LINES: usize = 200;
const PROBE_MAX_BYTES: usize = 32 * 1024;

/// One direction-pair of reassembly and line splitting for a control channel.
struct Channel {
    reasm: [Reassembler; 2],
    lines: [LineSplitter; 2],
    gaps_seen: bool,
}

struct LineOut {
    dir: Dir,
    bytes: Vec<u8>,
    overlong: bool,
}

impl Channel {
    fn new(conn: &Conn, settings: &Settings) -> Channel {
        let mut reasm = [Reassembler::new(settings.max_buffered), Reassembler::new(settings.max_buffered)];
        if let Some(isn) = conn.client_isn {
            reasm[0].start_at(isn.wrapping_add(1));
        }
        if let Some(isn) = conn.server_isn {
            reasm[1].start_at(isn.wrapping_add(1));
        }
        let lines = [
            LineSplitter::new(settings.max_line).keep_after_gap(is_ftp_command),
            LineSplitter::new(settings.max_line).keep_after_gap(is_reply_line),
        ];
        Channel { reasm, lines, gaps_seen: false }
    }

    /// Reassembles one segment. With `split`, complete lines go to `out`; without (the channel
    /// is TLS), the delivered bytes go to `raw` so clear text coming back can be spotted. The
    /// segment's ACK may also release the other direction past a hole the capture missed.
    fn push(&mut self, dir: Dir, seg: &TcpSegment<'_>, split: bool, out: &mut Vec<LineOut>, raw: &mut Vec<u8>) {
        // The ACK first: the peer had those bytes before it sent this segment, so a command
        // it releases comes before the reply this segment carries.
        // Under TLS (no splitting) holes do not matter, and `raw` must hold this direction only.
        if seg.flags.ack && split {
            let other = if dir == Dir::ToServer { Dir::ToClient } else { Dir::ToServer };
            self.deliver(other, split, out, raw, |r, sink| r.acked(seg.ack, sink));
        }
        self.deliver(dir, split, out, raw, |r, sink| r.push(seg.seq, seg.payload, seg.missing, sink));
    }

    fn deliver(
        &mut self,
        dir: Dir,
        split: bool,
        out: &mut Vec<LineOut>,
        raw: &mut Vec<u8>,
        step: impl FnOnce(&mut Reassembler, &mut dyn FnMut(Chunk<'_>)),
    ) {
        let i = dir as usize;
        let Channel { reasm, lines, gaps_seen } = self;
        let splitter = &mut lines[i];
        step(&mut reasm[i], &mut |chunk| match chunk {
            Chunk::Data(bytes) if split => splitter.push(bytes, &mut |line| {
                out.push(LineOut { dir, bytes: line.bytes.to_vec(), overlong: line.overlong })
            }),
            Chunk::Data(bytes) => raw.extend_from_slice(bytes),
            Chunk::Gap(_) => {
                splitter.gap();
                *gaps_seen = true;
                out.push(LineOut { dir, bytes: Vec::new(), overlong: false }.gap_marker());
            }
        });
    }

    fn flush(&mut self, out: &mut Vec<LineOut>) {
        let mut raw = Vec::new();
        for dir in [Dir::ToServer, Dir::ToClient] {
            self.deliver(dir, true, out, &mut raw, |r, sink| r.flush(sink));
        }
    }

    fn stats(&self) -> [ReassemblyStats; 2] {
        [self.reasm[0].stats(), self.reasm[1].stats()]
    }
}

impl LineOut {
    /// A gap travels in the line stream as an overlong empty line: no real line is both.
    fn gap_marker(mut self) -> LineOut {
        self.overlong = true;
        self
    }
    fn is_gap(&self) -> bool {
        self.overlong && self.bytes.is_empty()
    }
}

/// Lines held while deciding whether a connection is FTP, replayed once it is.
struct Probe {
    channel: Channel,
    lines: Vec<(u64, Timestamp, LineOut)>,
    bytes: usize,
}

enum Role {
    /// No payload yet.
    Fresh,
    Probing(Box<Probe>),
    Control { session: u32, channel: Box<Channel> },
    /// The data connection of a negotiation.
    Data { session: u32, negotiation: u32 },
    /// Under TLS: probably a data connection of this session.
    Probable { session: u32, index: u32 },
    Other,
}

struct Flow {
    conn: Conn,
    role: Role,
}

impl Evictable for Flow {
    fn conn(&self) -> &Conn {
        &self.conn
    }
    fn pinned(&self) -> bool {
        matches!(self.role, Role::Control { .. })
    }
}

pub struct Analyzer {
    settings: Settings,
    flows: FlowTable<Flow>,
    sessions: Vec<SessionState>,
    control_stats: Vec<ControlStats>,
    expectations: Expectations,
    /// Host address -> its latest session whose control channel went TLS.
    encrypted_by_host: FxHashMap<IpAddr, u32>,
    frames: u64,
    first_ts: Option<Timestamp>,
    last_ts: Timestamp,
    tcp_connections: u64,
    undecodable: u64,
    unsupported: u64,
    sessions_over_limit: u64,
    // Reused buffers: no allocation per packet on the hot path.
    lines: Vec<LineOut>,
    raw: Vec<u8>,
    effects: Vec<Effect>,
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
            flows: FlowTable::new(settings.flows),
            sessions: Vec::new(),
            control_stats: Vec::new(),
            expectations: Expectations::default(),
            encrypted_by_host: FxHashMap::default(),
            frames: 0,
            first_ts: None,
            last_ts: Timestamp::default(),
            tcp_connections: 0,
            undecodable: 0,
            unsupported: 0,
            sessions_over_limit: 0,
            lines: Vec::new(),
            raw: Vec::new(),
            effects: Vec::new(),
        }
    }

    /// Feeds one captured frame.
    pub fn feed(&mut self, frame: &Frame<'_>) {
        self.frames += 1;
        self.first_ts.get_or_insert(frame.ts);
        // Capture clocks can step back; time only moves forward for timeouts.
        self.last_ts = self.last_ts.max(frame.ts);
        match decode::decode(frame.link, frame.data, frame.orig_len) {
            Ok(Decoded::Tcp(seg)) => self.on_tcp(frame.number, frame.ts, &seg),
            Ok(Decoded::Unreachable(u)) => self.on_unreachable(frame.number, &u),
            Ok(Decoded::Ignored) => {}
            Ok(Decoded::Unsupported) => self.unsupported += 1,
            Err(_) => self.undecodable += 1,
        }
    }

    /// End of input: buffered out-of-order control data is delivered (after a gap).
    pub fn finish(&mut self) {
        let mut lines = std::mem::take(&mut self.lines);
        let mut effects = std::mem::take(&mut self.effects);
        let ts = self.last_ts;
        let frame = self.frames;
        for flow in self.flows.values_mut() {
            if let Role::Control { session, channel } = &mut flow.role {
                lines.clear();
                channel.flush(&mut lines);
                let s = &mut self.sessions[*session as usize];
                for line in lines.drain(..) {
                    apply_line(s, frame, ts, line, &mut effects);
                }
                self.control_stats[*session as usize] = control_stats(&flow.conn, channel, s);
            }
        }
        // Expectations made while flushing have no packets left to meet.
        effects.clear();
        self.lines = lines;
        self.effects = effects;
    }

    fn on_tcp(&mut self, frame: u64, ts: Timestamp, seg: &TcpSegment<'_>) {
        let key = FlowKey::new(seg.src, seg.dst);
        let opening = seg.flags.syn && !seg.flags.ack;
        let reuse = match self.flows.get_mut(&key) {
            Some(f) => opening && f.conn.is_closed() && f.conn.client_isn != Some(seg.seq),
            None => true,
        };
        if reuse {
            self.flows.remove(&key);
            let conn = if seg.flags.syn && seg.flags.ack {
                Conn::new(seg.dst, seg.src, frame, ts)
            } else {
                Conn::new(seg.src, seg.dst, frame, ts)
            };
            let role = if opening { self.correlate(seg, ts, &conn) } else { Role::Fresh };
            self.tcp_connections += 1;
            self.flows.insert(key, Flow { conn, role }, ts);
        }
        let Some(flow) = self.flows.get_mut(&key) else { return };
        let conn = &mut flow.conn;
        let dir = conn.dir_of(seg.src);
        conn.last_frame = frame;
        conn.last_ts = ts;
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
        let len = seg.payload.len() as u64 + seg.missing as u64;
        match dir {
            Dir::ToServer => conn.bytes_to_server += len,
            Dir::ToClient => conn.bytes_to_client += len,
        }

        if matches!(flow.role, Role::Fresh) && !seg.payload.is_empty() {
            flow.role = start_probe(&mut flow.conn, seg, &self.settings);
        }
        // Borrowed, not copied: data packets are the bulk of a capture.
        let conn = &flow.conn;
        match &mut flow.role {
            Role::Data { session, negotiation } => {
                if let Some(n) = self.sessions[*session as usize].negotiations.get_mut(*negotiation as usize) {
                    n.conn = Some(*conn);
                }
            }
            Role::Probable { session, index } => {
                if let Some(c) = self.sessions[*session as usize].probable.get_mut(*index as usize) {
                    *c = *conn;
                }
            }
            Role::Probing(probe) => {
                let dir = conn.dir_of(seg.src);
                self.lines.clear();
                probe.channel.push(dir, seg, true, &mut self.lines, &mut self.raw);
                probe.bytes += seg.payload.len();
                for line in self.lines.drain(..) {
                    probe.lines.push((frame, ts, line));
                }
                match judge(probe) {
                    Verdict::Undecided => {}
                    Verdict::NotFtp => flow.role = Role::Other,
                    Verdict::Ftp if self.sessions.len() >= self.settings.max_sessions => {
                        self.sessions_over_limit += 1;
                        flow.role = Role::Other;
                    }
                    Verdict::Ftp => {
                        let Role::Probing(probe) = std::mem::replace(&mut flow.role, Role::Other) else { unreachable!() };
                        let probe = *probe;
                        let id = self.sessions.len() as u32;
                        let mut s = SessionState::new(id, conn);
                        for (f, t, line) in probe.lines {
                            apply_line(&mut s, f, t, line, &mut self.effects);
                        }
                        self.control_stats.push(control_stats(conn, &probe.channel, &s));
                        self.sessions.push(s);
                        flow.role = Role::Control { session: id, channel: Box::new(probe.channel) };
                        self.apply_effects(id);
                    }
                }
            }
            Role::Control { session, channel } => {
                let id = *session;
                let s = &mut self.sessions[id as usize];
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
                    for splitter in &mut channel.lines {
                        splitter.gap();
                    }
                    channel.lines[dir as usize].push(&self.raw, &mut |line| {
                        self.lines.push(LineOut { dir, bytes: line.bytes.to_vec(), overlong: line.overlong })
                    });
                }
                for line in self.lines.drain(..) {
                    apply_line(s, frame, ts, line, &mut self.effects);
                }
                if seg.flags.fin || seg.flags.rst {
                    // Closing the control connection is moving on too.
                    if let Some(last) = s.negotiations.last_mut() {
                        last.followed = true;
                    }
                }
                self.control_stats[id as usize] = control_stats(conn, channel, s);
                self.apply_effects(id);
            }
            Role::Fresh | Role::Other => {}
        }
    }

    /// A new connection (its first SYN): the data connection of a negotiation, a probable data
    /// connection of an encrypted session, or nothing known yet.
    fn correlate(&mut self, seg: &TcpSegment<'_>, ts: Timestamp, conn: &Conn) -> Role {
        if let Some((e, how)) = self.expectations.take_match(seg.src, seg.dst, ts) {
            if let Some(n) = self.sessions[e.session as usize].negotiations.get_mut(e.negotiation as usize) {
                n.matched_by = Some(how);
                return Role::Data { session: e.session, negotiation: e.negotiation };
            }
        }
        let (src, dst) = (seg.src.ip(), seg.dst.ip());
        // Under TLS the negotiations are invisible: connections between the same two hosts that
        // open after the switch are most probably its data channels; a passive one may also go
        // to an unroutable address the server advertised.
        let fits = |s: &SessionState| {
            let (c, sv) = (s.client.ip(), s.server.ip());
            let unroutable = |ip| crate::model::address::classify(ip).is_unreachable_from_elsewhere();
            s.encrypted()
                && s.probable.len() < MAX_PROBABLE
                && seg.dst != s.server
                && ((src == c && (dst == sv || unroutable(dst) && !unroutable(sv))) || (src == sv && dst == c))
        };
        // The latest encrypted session of either host: a lookup, not a scan of every session.
        let found = [src, dst]
            .iter()
            .filter_map(|ip| self.encrypted_by_host.get(ip))
            .map(|&i| i as usize)
            .find(|&i| fits(&self.sessions[i]));
        if let Some(i) = found {
            let s = &mut self.sessions[i];
            s.probable.push(*conn);
            return Role::Probable { session: i as u32, index: s.probable.len() as u32 - 1 };
        }
        Role::Fresh
    }

    fn apply_effects(&mut self, session: u32) {
        for effect in self.effects.drain(..) {
            if effect == Effect::Encrypted {
                let s = &self.sessions[session as usize];
                self.encrypted_by_host.insert(s.client.ip(), session);
                self.encrypted_by_host.insert(s.server.ip(), session);
            }
            if let Effect::Expect(n) = effect {
                let s = &self.sessions[session as usize];
                let Some(neg) = s.negotiations.get(n as usize) else { continue };
                let Some(advertised) = neg.advertised else { continue };
                self.expectations.add(Expectation {
                    session,
                    negotiation: n,
                    mode: neg.command.mode(),
                    advertised,
                    control_client: s.client.ip(),
                    control_server: s.server.ip(),
                    created: neg.ts,
                });
            }
        }
    }

    fn on_unreachable(&mut self, frame: u64, u: &Unreachable) {
        let key = FlowKey::new(u.quoted_src, u.quoted_dst);
        let Some(flow) = self.flows.get_mut(&key) else { return };
        if flow.conn.synack_frame.is_some() || flow.conn.unreachable.is_some() {
            return;
        }
        flow.conn.unreachable = Some((frame, u.icmp_type, u.icmp_code, u.reporter));
        let conn = flow.conn;
        match flow.role {
            Role::Data { session, negotiation } => {
                if let Some(n) = self.sessions[session as usize].negotiations.get_mut(negotiation as usize) {
                    n.conn = Some(conn);
                }
            }
            Role::Probable { session, index } => {
                if let Some(c) = self.sessions[session as usize].probable.get_mut(index as usize) {
                    *c = conn;
                }
            }
            _ => {}
        }
    }

    /// The report as of now. Cheap enough to call for every screen refresh.
    pub fn report(&self) -> Report {
        let end = self.last_ts;
        let sessions: Vec<report::Session> =
            self.sessions.iter().zip(&self.control_stats).map(|(s, stats)| crate::correlate::outcome::session_report(s, *stats, end)).collect();
        let findings = crate::diagnose::findings(&sessions);
        Report {
            schema: report::SCHEMA,
            capture: CaptureSummary {
                inputs: Vec::new(),
                frames: self.frames,
                first_time: self.first_ts.map(Timestamp::as_secs_f64),
                last_time: self.first_ts.map(|_| end.as_secs_f64()),
                tcp_connections: self.tcp_connections,
                undecodable_frames: self.undecodable,
                unsupported_frames: self.unsupported,
                evicted_connections: self.flows.evicted,
                sessions_over_limit: self.sessions_over_limit,
                truncated: false,
            },
            sessions,
            findings,
        }
    }
}

/// Feeds one line (or gap) of a control channel to its session.
fn apply_line(s: &mut SessionState, frame: u64, ts: Timestamp, line: LineOut, effects: &mut Vec<Effect>) {
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
        Dir::ToServer => s.on_command(frame, ts, &line.bytes, effects),
        Dir::ToClient => s.on_reply_line(frame, ts, &line.bytes, effects),
    }
}

fn control_stats(conn: &Conn, channel: &Channel, s: &SessionState) -> ControlStats {
    let [a, b] = channel.stats();
    ControlStats {
        bytes_to_server: conn.bytes_to_server,
        bytes_to_client: conn.bytes_to_client,
        gaps: a.gaps + b.gaps,
        gap_bytes: a.gap_bytes + b.gap_bytes,
        retransmitted_bytes: a.retransmitted_bytes + b.retransmitted_bytes,
        conflicting_overlaps: a.conflicting_overlaps + b.conflicting_overlaps,
        out_of_order_segments: a.out_of_order_segments + b.out_of_order_segments,
        overlong_lines: s.overlong_lines,
        unanswered_commands: s.unanswered_commands(),
        closed: conn.is_closed(),
    }
}

/// A connection's first payload decides whether it is worth watching as a possible control
/// channel, without allocating for the vast majority that are not: the server speaks first
/// with a reply code. A capture that began mid-connection may show the client first.
fn start_probe(conn: &mut Conn, seg: &TcpSegment<'_>, settings: &Settings) -> Role {
    let reply_like = detect::could_start_reply(seg.payload);
    let command_like = detect::could_start_command(seg.payload);
    let handshake_seen = conn.syn.is_some() || conn.synack_frame.is_some();
    if handshake_seen {
        // The server speaks first, but a client may send before a slow greeting.
        let fits = if seg.src == conn.server { reply_like } else { command_like };
        if !fits {
            return Role::Other;
        }
    } else if reply_like {
        conn.orient(seg.src);
    } else if command_like {
        conn.orient(seg.dst);
    } else {
        return Role::Other;
    }
    Role::Probing(Box::new(Probe { channel: Channel::new(conn, settings), lines: Vec::new(), bytes: 0 }))
}

enum Verdict {
    Undecided,
    Ftp,
    NotFtp,
}

/// FTP when the server's first line is a reply and the client's first line an FTP command.
fn judge(probe: &Probe) -> Verdict {
    if probe.channel.gaps_seen || probe.lines.len() > PROBE_MAX_LINES || probe.bytes > PROBE_MAX_BYTES {
        return Verdict::NotFtp;
    }
    let first = |dir| probe.lines.iter().map(|(_, _, l)| l).find(|l| l.dir == dir && !l.bytes.is_empty());
    let server_ok = first(Dir::ToClient).map(|l| is_reply_line(&l.bytes));
    let client_ok = first(Dir::ToServer).map(|l| is_ftp_command(&l.bytes));
    match (server_ok, client_ok) {
        (Some(false), _) | (_, Some(false)) => Verdict::NotFtp,
        (Some(true), Some(true)) => Verdict::Ftp,
        _ => Verdict::Undecided,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LinkType;
    use etherparse::PacketBuilder;
    use proptest::prelude::*;

    #[derive(Clone, Copy, Default)]
    struct Flags {
        syn: bool,
        ack: bool,
        fin: bool,
        rst: bool,
    }

    /// A raw IPv4 frame (LINKTYPE_IPV4) carrying one TCP segment.
    fn segment(src: ([u8; 4], u16), dst: ([u8; 4], u16), seq: u32, ack: u32, f: Flags, payload: &[u8]) -> Vec<u8> {
        let mut b = PacketBuilder::ipv4(src.0, dst.0, 64).tcp(src.1, dst.1, seq, 64240);
        if f.syn {
            b = b.syn();
        }
        if f.ack {
            b = b.ack(ack);
        }
        if f.fin {
            b = b.fin();
        }
        if f.rst {
            b = b.rst();
        }
        let mut out = Vec::new();
        b.write(&mut out, payload).unwrap();
        out
    }

    struct Feeder {
        a: Analyzer,
        frame: u64,
    }

    impl Feeder {
        fn new(settings: Settings) -> Feeder {
            Feeder { a: Analyzer::new(settings), frame: 0 }
        }
        fn feed(&mut self, bytes: &[u8]) {
            self.frame += 1;
            let ts = Timestamp(self.frame as i64 * 1_000_000);
            self.a.feed(&Frame { number: self.frame, ts, link: LinkType::Ipv4, data: bytes, orig_len: bytes.len() as u32 });
        }
    }

    const C: ([u8; 4], u16) = ([192, 168, 1, 10], 40000);
    const S: ([u8; 4], u16) = ([203, 0, 113, 5], 21);
    const SYN: Flags = Flags { syn: true, ack: false, fin: false, rst: false };
    const SYNACK: Flags = Flags { syn: true, ack: true, fin: false, rst: false };
    const ACK: Flags = Flags { syn: false, ack: true, fin: false, rst: false };

    /// A control connection: handshake, then the lines in order, each in its own segment.
    fn control(f: &mut Feeder, lines: &[(bool, &[u8])]) {
        let (mut cs, mut ss) = (1000u32, 5000u32);
        f.feed(&segment(C, S, cs, 0, SYN, b""));
        f.feed(&segment(S, C, ss, cs + 1, SYNACK, b""));
        cs += 1;
        ss += 1;
        for (from_client, line) in lines {
            if *from_client {
                f.feed(&segment(C, S, cs, ss, ACK, line));
                cs += line.len() as u32;
            } else {
                f.feed(&segment(S, C, ss, cs, ACK, line));
                ss += line.len() as u32;
            }
        }
    }

    #[test]
    fn private_227_with_unanswered_syns_fails_and_says_why() {
        let mut f = Feeder::new(Settings::default());
        control(
            &mut f,
            &[(false, b"220 (vsFTPd 3.0.3)\r\n"), (true, b"USER ftp\r\n"), (false, b"230 Login successful.\r\n"), (true, b"PASV\r\n"),
              (false, b"227 Entering Passive Mode (10,0,0,20,156,64).\r\n")],
        );
        let data_dst = ([10, 0, 0, 20], 40000);
        for _ in 0..3 {
            f.feed(&segment(([192, 168, 1, 10], 40001), data_dst, 777, 0, SYN, b""));
        }
        // The client gives up much later: the capture goes on for 10 s.
        for _ in 0..10_000 {
            f.feed(&segment(([1, 1, 1, 1], 1), ([2, 2, 2, 2], 2), 1, 1, ACK, b""));
        }
        let r = f.a.report();
        let n = &r.sessions[0].negotiations[0];
        assert_eq!(n.advertised.as_deref(), Some("10.0.0.20:40000"));
        assert_eq!(n.data.outcome, report::Outcome::Unanswered);
        assert_eq!(n.data.connection.as_ref().map(|c| (c.syn_frame, c.syns)), Some((8, 3)));
        let kinds: Vec<_> = r.findings.iter().map(|f| (f.kind.as_str(), f.severity)).collect();
        assert!(kinds.contains(&("private_address_leak", report::Severity::Error)), "{kinds:?}");
        assert!(kinds.contains(&("data_connection_failed", report::Severity::Error)), "{kinds:?}");
        assert!(r.has_errors());
    }

    #[test]
    fn clear_text_after_ccc_is_read_again() {
        let mut f = Feeder::new(Settings::default());
        control(
            &mut f,
            &[(false, b"220 ready\r\n"), (true, b"AUTH TLS\r\n"), (false, b"234 Proceed.\r\n"), (true, b"\x16\x03\x01\x00\x05hello"),
              (false, b"\x16\x03\x03\x00\x05\x0a\x0d\x0a\x0d\x0a"), (true, b"\x17\x03\x03\x00\x03CCC"), (true, b"PASV\r\n"),
              (false, b"227 Entering Passive Mode (203,0,113,5,4,1)\r\n")],
        );
        let r = f.a.report();
        let s = &r.sessions[0];
        assert!(s.tls);
        assert_eq!(s.tls_frame, Some(5));
        assert_eq!(s.clear_again_frame, Some(9));
        assert!(s.anomalies.is_empty(), "TLS bytes are not lines: {:?}", s.anomalies);
        assert_eq!(s.negotiations.len(), 1);
        assert_eq!(s.negotiations[0].advertised.as_deref(), Some("203.0.113.5:1025"));
    }

    #[test]
    fn a_flood_of_connections_stays_within_the_flow_limit() {
        let settings = Settings { flows: FlowLimits { max_flows: 1_000, ..FlowLimits::default() }, ..Settings::default() };
        let mut f = Feeder::new(settings);
        for i in 0..20_000u32 {
            let src = ([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 1024 + (i % 60000) as u16);
            f.feed(&segment(src, ([10, 9, 9, 9], 80), i, 0, SYN, b""));
            assert!(f.a.flows.len() <= 1_000);
        }
        let r = f.a.report();
        assert_eq!(r.capture.tcp_connections, 20_000);
        assert!(r.capture.evicted_connections >= 19_000);
    }

    #[test]
    fn a_peer_that_never_ends_its_line_costs_bounded_memory() {
        let mut f = Feeder::new(Settings::default());
        control(&mut f, &[(false, b"220 ready\r\n"), (true, b"USER x\r\n"), (false, b"331 pw\r\n")]);
        let mut seq = 1001 + 8;
        let junk = vec![b'A'; 1400];
        for _ in 0..2_000 {
            f.feed(&segment(C, S, seq, 5000 + 1 + 18, ACK, &junk));
            seq += junk.len() as u32;
        }
        let r = f.a.report();
        assert_eq!(r.sessions.len(), 1);
        assert_eq!(r.sessions[0].control.bytes_to_server, 8 + 2_000 * 1400);
        let Some(Flow { role: Role::Control { channel, .. }, .. }) = f.a.flows.get_mut(&FlowKey::new("192.168.1.10:40000".parse().unwrap(), "203.0.113.5:21".parse().unwrap())) else {
            panic!("control flow")
        };
        assert!(channel.lines[0].pending().len() <= Settings::default().max_line);
        assert_eq!(channel.reasm[0].buffered_bytes(), 0);
    }


    proptest! {
        /// Any mix of segments, flags and FTP-ish or random payloads on a few connections: no
        /// panic, and a report that serialises.
        #[test]
        fn arbitrary_traffic_never_panics(
            segs in proptest::collection::vec((0usize..4, any::<u32>(), any::<u32>(), 0u8..16, 0usize..12, proptest::collection::vec(any::<u8>(), 0..40)), 0..120)
        ) {
            const WORDS: [&[u8]; 12] = [b"220 hi\r\n", b"USER a\r\n", b"PASV\r\n", b"227 (10,0,0,1,4,1)\r\n", b"EPSV\r\n", b"229 (|||70000|)\r\n",
                b"PORT 1,2,3,4,5,6\r\n", b"200 ok\r\n", b"AUTH TLS\r\n", b"234 go\r\n", b"230-", b"LIST\r\n"];
            let ends = [(C, S), (S, C), (([10, 0, 0, 1], 4), ([10, 0, 0, 2], 1025)), (([10, 0, 0, 2], 1025), ([10, 0, 0, 1], 4))];
            let mut f = Feeder::new(Settings::default());
            for (e, seq, ack, flags, word, junk) in segs {
                let fl = Flags { syn: flags & 1 != 0, ack: flags & 2 != 0, fin: flags & 4 != 0, rst: flags & 8 != 0 };
                let mut payload = WORDS[word % WORDS.len()].to_vec();
                if word >= WORDS.len() - 1 {
                    payload.extend_from_slice(&junk);
                }
                let (src, dst) = ends[e];
                f.feed(&segment(src, dst, seq, ack, fl, &payload));
            }
            f.a.finish();
            let r = f.a.report();
            prop_assert!(serde_json::to_string(&r).is_ok());
            prop_assert!(r.sessions.len() <= 2);
        }
    }
}
