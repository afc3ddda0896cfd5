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
use crate::decode::TcpSegment;
use crate::ftp::channel::{Channel, LineRef, Lines};
use crate::ftp::detect;
use crate::ftp::probe::{Probe, Verdict};
use crate::ftp::session::{Effect, SessionState};
use crate::model::{Directions, Timestamp};
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
    let Flow { conn, role: Role::Probing(probe), held: share } = flow else { return Verdict::Undecided };
    let dir = conn.dir_of(seg.src);
    probe.note_ack(dir, seg, frame);
    scratch.lines.clear();
    probe.channel.push(dir, seg, true, &mut scratch.lines, &mut scratch.raw);
    probe.bytes += seg.payload.len();
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

/// A probe that recognised FTP: the lines it held are replayed to the new session, which
/// takes the control connection's transport facts.
pub(super) fn replay(s: &mut SessionState, probe: &Probe, conn: &Conn, effects: &mut Vec<Effect>) {
    for (line, &(f, t)) in probe.lines.iter().zip(&probe.stamps) {
        apply_line(s, f, t, line, effects);
    }
    update_control(s, conn, &probe.channel);
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
    let Flow { conn, role: Role::Control { channel, .. }, held: share } = flow else { return 0 };
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
        given_up = (before - held) as u64;
        s.control.over_budget_bytes += given_up;
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
        s.overlong_lines += 1;
    }
    match line.dir {
        Dir::ToServer => s.on_command(frame, ts, line.bytes, effects),
        Dir::ToClient => s.on_reply_line(frame, ts, line.bytes, effects),
    }
}

/// The directions of a connection the capture holds so far.
pub(super) fn directions(conn: &Conn) -> Directions {
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
