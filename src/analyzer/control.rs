//! A control connection's segments into lines, and its lines into its session: while a probe
//! decides whether the connection is FTP, and once it is. Each flow's buffers are counted
//! against the buffer budget as they change.
//!
//! Owns the buffers reused for every packet ([`Scratch`]) and the order in which a control
//! segment is taken in (ACK, lines, clear text after CCC, the budget, transport facts). Must
//! not correlate data connections or build events: the effects the lines produce are left in
//! [`Scratch::effects`] for the analyzer.

use super::budget::BufferBudget;
use super::role::{Flow, Role};
use super::Settings;
use crate::decode::TcpSegment;
use crate::ftp::channel::{Channel, LineRef, Lines};
use crate::ftp::detect;
use crate::ftp::probe::{Probe, Verdict};
use crate::ftp::session::{Effect, SessionState};
use crate::model::{Directions, Side, Timestamp};
use crate::tcp::flow::{Conn, Dir};

/// Buffers reused for every packet: no allocation per packet on the hot path.
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) lines: Lines,
    raw: Vec<u8>,
    /// What the lines taken in did that the analyzer must act on.
    pub(super) effects: Vec<Effect>,
}

/// A segment of a connection under watch: its lines are held (with their frame and time)
/// until the probe decides. Probes may use the budget's reserve; past it an undecided probe is
/// given up.
pub(super) fn probe_segment(
    flow: &mut Flow,
    seg: &TcpSegment<'_>,
    (frame, ts): (u64, Timestamp),
    scratch: &mut Scratch,
    budget: &mut BufferBudget,
    control_port: Option<u16>,
) -> Verdict {
    let Flow { conn, role: Role::Probing(probe), held: share, .. } = flow else { return Verdict::Undecided };
    let dir = conn.dir_of(seg.src);
    probe.note_ack(dir, seg, frame);
    scratch.lines.clear();
    probe.channel.push(dir, seg, true, &mut scratch.lines, &mut scratch.raw);
    probe.bytes = probe.bytes.saturating_add(seg.payload.len());
    for line in scratch.lines.iter() {
        probe.lines.push(line);
        probe.stamps.push((frame, ts));
    }
    budget.set(share, probe.held());
    match probe.judge(conn, control_port) {
        Verdict::Undecided if budget.reserve_spent() => Verdict::NotFtp,
        v => v,
    }
}

/// A probe that recognised FTP: the session it begins (the lines the probe held replayed to it,
/// the control connection's transport facts taken) and the channel that reads its lines on.
pub(super) fn recognised(
    probe: Probe,
    id: u32,
    conn: &Conn,
    (frame, ts): (u64, Timestamp),
    one_way_frame: Option<u64>,
    settings: &Settings,
    effects: &mut Vec<Effect>,
) -> (SessionState, Channel) {
    let mut s = SessionState::new(id, conn);
    s.timeline.keep(settings.timeline_lines);
    s.log_commands = settings.command_events;
    s.directions = directions(conn);
    s.one_way_frame = one_way_frame;
    for (line, &(f, t)) in probe.lines.iter().zip(&probe.stamps) {
        apply_line(&mut s, f, t, line, effects);
    }
    s.last_frame = frame;
    s.last_ts = s.last_ts.max(ts);
    // Closed while it was watched (a greeting that refused, then the close): who began it.
    s.login.closed_by = first_close(conn);
    update_control(&mut s, conn, &probe.channel);
    (s, probe.channel)
}

/// A segment of a session's control connection. Past the buffer budget, the channel stops
/// waiting for holes and drops its partial lines rather than grow: the bytes it gave up are
/// returned (and counted in the session's record).
pub(super) fn control_segment(
    flow: &mut Flow,
    s: &mut SessionState,
    seg: &TcpSegment<'_>,
    (frame, ts): (u64, Timestamp),
    scratch: &mut Scratch,
    budget: &mut BufferBudget,
) -> u64 {
    let Flow { conn, role: Role::Control { channel, .. }, held: share, .. } = flow else { return 0 };
    s.directions = directions(conn);
    let dir = conn.dir_of(seg.src);
    let Scratch { lines, raw, effects } = scratch;
    lines.clear();
    raw.clear();
    let encrypted = s.encrypted();
    channel.push(dir, seg, !encrypted, lines, raw);
    let clear = match dir {
        Dir::ToClient => detect::looks_like_clear_reply(raw),
        Dir::ToServer => detect::looks_like_clear_command(raw),
    };
    if encrypted && clear {
        // Clear text after TLS: the client sent CCC inside TLS and the server agreed.
        s.clear_again(frame);
        channel.resume_clear(dir, raw, lines);
    }
    for line in lines.iter() {
        apply_line(s, frame, ts, line, effects);
    }
    s.last_frame = frame;
    s.last_ts = s.last_ts.max(ts);
    if seg.flags.fin || seg.flags.rst {
        // Closing the control connection is moving on too.
        if let Some(last) = s.negotiations.last_mut() {
            last.followed = true;
        }
        // Who hung up first: the server right after a password is a refusal of its own.
        let by = match dir {
            Dir::ToServer => Side::Client,
            Dir::ToClient => Side::Server,
        };
        s.login.closed_by.get_or_insert((by, frame));
    }
    let mut held = channel.buffered();
    let mut given_up = 0;
    if budget.spent_by(share, held) {
        let before = held;
        // The lines above were applied already.
        lines.clear();
        channel.flush(lines);
        channel.drop_partial_lines();
        for line in lines.iter() {
            apply_line(s, frame, ts, line, effects);
        }
        held = channel.buffered();
        // Flushing only gives bytes up: `held` is not more than before.
        given_up = before.saturating_sub(held) as u64;
        s.control.over_budget_bytes = s.control.over_budget_bytes.saturating_add(given_up);
    }
    budget.set(share, held);
    update_control(s, conn, channel);
    given_up
}

/// End of input: what a control channel still buffers (after a gap) is delivered.
pub(super) fn flush(channel: &mut Channel, conn: &Conn, s: &mut SessionState, (frame, ts): (u64, Timestamp), scratch: &mut Scratch) {
    scratch.lines.clear();
    channel.flush(&mut scratch.lines);
    for line in scratch.lines.iter() {
        apply_line(s, frame, ts, line, &mut scratch.effects);
    }
    update_control(s, conn, channel);
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
        s.overlong_lines = s.overlong_lines.saturating_add(1);
    }
    match line.dir {
        Dir::ToServer => s.on_command(frame, ts, line.bytes, effects),
        Dir::ToClient => s.on_reply_line(frame, ts, line.bytes, effects),
    }
}

/// Which side closed a connection first and in which frame, as far as its flags tell: a RST,
/// or a FIN from one side only (from both, the first is not known).
fn first_close(conn: &Conn) -> Option<(Side, u64)> {
    let side = |dir| if dir == Dir::ToServer { Side::Client } else { Side::Server };
    if let Some((frame, dir)) = conn.rst {
        return Some((side(dir), frame));
    }
    let dir = match conn.fins {
        0b01 => Dir::ToServer,
        0b10 => Dir::ToClient,
        _ => return None,
    };
    Some((side(dir), conn.fin_frame?))
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
    c.gaps = a.gaps.saturating_add(b.gaps);
    c.gap_bytes = a.gap_bytes.saturating_add(b.gap_bytes);
    c.retransmitted_bytes = a.retransmitted_bytes.saturating_add(b.retransmitted_bytes);
    c.conflicting_overlaps = a.conflicting_overlaps.saturating_add(b.conflicting_overlaps);
    c.out_of_order_segments = a.out_of_order_segments.saturating_add(b.out_of_order_segments);
    c.overlong_lines = s.overlong_lines.saturating_add(channel.overlong_unfinished());
    c.closed = conn.is_closed();
    c.client_isn = conn.client_isn;
    c.server_isn = conn.server_isn;
    c.server_ttl = conn.server_ttl;
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::decode::TcpFlags;

    const ACK: TcpFlags = TcpFlags { syn: false, ack: true, fin: false, rst: false };

    /// A control connection whose handshake is in the capture: the client's bytes start at
    /// 101, the server's at 501.
    fn conn() -> Conn {
        let mut c = Conn::new("192.168.1.10:40000".parse().unwrap(), "203.0.113.5:21".parse().unwrap(), 1, Timestamp(1));
        c.syn = Some((1, Timestamp(1)));
        c.client_isn = Some(100);
        c.server_isn = Some(500);
        c.synack_frame = Some(2);
        c
    }

    fn from_client<'a>(c: &Conn, seq: u32, payload: &'a [u8]) -> TcpSegment<'a> {
        TcpSegment { src: c.client, dst: c.server, seq, ack: 501, flags: ACK, payload, missing: 0, ttl: 0 }
    }

    fn from_server<'a>(c: &Conn, seq: u32, payload: &'a [u8]) -> TcpSegment<'a> {
        TcpSegment { src: c.server, dst: c.client, seq, ack: 101, flags: ACK, payload, missing: 0, ttl: 0 }
    }

    #[test]
    fn a_probe_holds_the_lines_until_it_decides_and_its_session_gets_them() {
        let (mut scratch, mut budget) = (Scratch::default(), BufferBudget::new(1 << 20));
        let c = conn();
        let mut flow = Flow::new(c, Role::Fresh);
        let greeting = from_server(&c, 501, b"220 ready\r\n");
        flow.first_payload(&greeting, 4096, 4096);
        let verdict = probe_segment(&mut flow, &greeting, (3, Timestamp(3)), &mut scratch, &mut budget, None);
        assert!(matches!(verdict, Verdict::Undecided), "the client has not spoken");
        assert!(budget.held() > 0 && budget.held() == flow.held.bytes(), "the held line counts");
        let user = from_client(&c, 101, b"USER bob\r\n");
        let verdict = probe_segment(&mut flow, &user, (4, Timestamp(4)), &mut scratch, &mut budget, None);
        assert!(matches!(verdict, Verdict::Ftp));
        let probe = flow.take_probe().unwrap();
        let (s, _channel) = recognised(*probe, 7, &c, (4, Timestamp(4)), None, &Settings::default(), &mut scratch.effects);
        assert_eq!((s.id, s.first_frame, s.last_frame), (7, 1, 4));
        assert_eq!((s.replies, s.commands, s.user.as_deref()), (1, 1, Some("bob")), "both held lines replayed");
        assert_eq!(s.directions, Directions::Both);
    }

    #[test]
    fn past_the_budget_a_control_channel_gives_up_what_waits_behind_a_hole() {
        let c = conn();
        // 64 bytes after a hole of 100: held while the hole may still be filled.
        let run = |limit: usize| {
            let (mut scratch, mut budget) = (Scratch::default(), BufferBudget::new(limit));
            let mut flow = Flow::new(c, Role::Fresh);
            flow.become_control(0, Box::new(Channel::new(&c, 4096, 4096)), &mut budget);
            let mut s = SessionState::new(0, &c);
            let late = from_client(&c, 201, &[b'x'; 64]);
            let given_up = control_segment(&mut flow, &mut s, &late, (5, Timestamp(5)), &mut scratch, &mut budget);
            (given_up, s.control.over_budget_bytes, budget.held(), flow.held.bytes())
        };
        let (given_up, counted, held, share) = run(1 << 20);
        assert_eq!((given_up, counted), (0, 0));
        assert!(held >= 64 && held == share, "within the budget it waits: {held}");
        let (given_up, counted, held, share) = run(16);
        assert!(given_up >= 64 && counted == given_up, "{given_up}");
        assert!(held <= 16 && held == share, "{held}");
    }
}
