//! What became of each data connection, and the session record built from the analyzer's state
//! when a session settles.
//!
//! Owns the outcome rules (established, refused, unanswered, unreachable, not_attempted,
//! rejected, unknown). Pure: state and a capture time in, record values out.

use super::retry;
use crate::ftp::session::{NegState, SessionState};
use crate::model::transfer_record::{Carried, Direction};
use crate::model::{self, Connection, Directions, EndReason, Icmp, Mode, Outcome, Side, Software, Timestamp};
use crate::tcp::flow::{Conn, Dir};

/// A connection whose SYN went unanswered for less than this before the capture ended may
/// still have been answered: its outcome is `unknown`, not `unanswered`.
const GRACE_NS: i64 = 3 * 1_000_000_000;

/// The record of a session as it stands at `end` (the capture time it settles at).
pub fn session_record(s: &SessionState, end: Timestamp, reason: EndReason) -> model::Session {
    let mut record = model::Session {
        id: s.id,
        client: s.client,
        server: s.server,
        control_port: s.server.port(),
        first_frame: s.first_frame,
        start_time: s.start_ts,
        last_frame: s.last_frame,
        end_time: s.last_ts,
        end: reason,
        user: s.user.clone(),
        banner: s.banner.clone(),
        software: Software::from_banner(s.banner.as_deref()),
        tls: s.tls_frame.is_some(),
        tls_frame: s.tls_frame,
        gssapi_frame: s.gssapi_frame,
        protected_data: s.protected_data,
        clear_again_frame: s.clear_again_frame,
        password_frame: s.password_frame,
        login: s.login.clone(),
        commands: s.commands,
        replies: s.replies,
        captured_directions: s.directions,
        one_direction_frame: s.one_way_frame,
        negotiations: s.negotiations.iter().map(|n| negotiation_record(n, end, s.directions)).collect(),
        negotiations_over_limit: s.negotiations_over_limit,
        probable_data_channels: s.probable.iter().map(|c| connection_record(c, None, end)).collect(),
        anomalies: s.anomalies.clone(),
        control: model::ControlStats { unanswered_commands: s.unanswered_commands(), ..s.control },
        passive_failed_first: None,
        findings: Vec::new(),
        timeline: s.timeline.clone(),
    };
    // Settled: each transfer's verdict can be read off the whole record.
    model::transfer::judge(&mut record);
    record
}

/// A negotiation's record as it stands at `end`. `captured` is its control connection's
/// directions in the capture: with one only, what the other side did is not concluded from
/// its absence.
pub fn negotiation_record(n: &NegState, end: Timestamp, captured: Directions) -> model::Negotiation {
    let transfer_reply = n.transfer.as_ref().and_then(|t| t.last.as_ref());
    let code = transfer_reply.map(|r| r.code);
    let mut earlier_attempts: Vec<Connection> = n.earlier.iter().map(|c| connection_record(c, code, end)).collect();
    let mut connection = n.conn.as_ref().map(|c| connection_record(c, code, end));
    let mut conn = n.conn;
    if connection.as_ref().is_some_and(|c| retry::carried_elsewhere(c.outcome, code)) {
        earlier_attempts.extend(connection.take());
        conn = None;
    }
    let mut outcome = match &connection {
        Some(c) => c.outcome,
        None => outcome_without_connection(n, end),
    };
    if captured != Directions::Both {
        outcome = one_way_outcome(outcome, connection.as_mut());
    }
    // A failed connection tied by a guess (another session's negotiation fitted it as well)
    // may not be this negotiation's: nothing is concluded from it (its own outcome stays in
    // `connection`).
    let ambiguous = conn.is_some() && n.tie_ambiguous;
    if ambiguous && outcome.is_failure() {
        outcome = Outcome::Unknown;
    }
    model::Negotiation {
        frame: n.frame,
        time: n.ts,
        command: n.command,
        mode: n.command.mode(),
        argument: n.argument.clone(),
        reply_code: n.reply.as_ref().map(|r| r.code),
        reply_frame: n.reply.as_ref().map(|r| r.frame),
        reply_text: n.reply.as_ref().map(|r| r.text.clone()),
        advertised: n.advertised,
        advertised_class: n.advertised.map(|a| model::classify(a.ip())),
        address_implied: n.implied,
        command_implied: n.command_implied,
        reply_implied: n.reply_implied,
        malformed: n.malformed,
        data: model::DataChannel {
            outcome,
            matched_by: conn.and(n.matched_by),
            tie_ambiguous: ambiguous,
            bytes: conn.map_or(0, |c| c.bytes_to_server.saturating_add(c.bytes_to_client)),
            duration: conn.and_then(|c| c.syn.map(|(_, t)| c.last_ts.since(t) as f64 / 1e9)),
            connection,
            command: n.transfer.as_ref().and_then(|t| t.command.clone()),
            command_frame: n.transfer.as_ref().filter(|t| t.command.is_some()).map(|t| t.frame),
            reply_code: transfer_reply.map(|r| r.code),
            reply_frame: transfer_reply.map(|r| r.frame),
            reply_text: transfer_reply.map(|r| r.text.clone()),
            aborted_frame: n.transfer.as_ref().and_then(|t| t.aborted),
            earlier_attempts,
            transfer: None,
            content: n.content.clone(),
            record: None,
            asked: n.transfer.as_ref().map(|t| t.asked.clone()),
            carried: carried(n, conn.as_ref()),
        },
    }
}

/// What the data connection carried the file's way. The FTP server is the data connection's
/// server in passive mode and its client in active mode; without a transfer command, the way
/// is not known and both count.
fn carried(n: &NegState, conn: Option<&Conn>) -> Carried {
    let Some(c) = conn else { return Carried::default() };
    let from_server = n.transfer.as_ref().and_then(|t| t.asked.direction).map(Direction::from_server);
    let toward = |from_server: bool| match (from_server, n.command.mode()) {
        (true, Mode::Passive) | (false, Mode::Active) => Dir::ToClient,
        (false, Mode::Passive) | (true, Mode::Active) => Dir::ToServer,
    };
    let (bytes, missing) = match from_server.map(toward) {
        Some(Dir::ToClient) => (c.bytes_to_client, c.missing(Dir::ToClient)),
        Some(Dir::ToServer) => (c.bytes_to_server, c.missing(Dir::ToServer)),
        None => (c.bytes_to_client.saturating_add(c.bytes_to_server), c.missing(Dir::ToClient).saturating_add(c.missing(Dir::ToServer))),
    };
    Carried {
        seen: true,
        bytes,
        missing,
        closed: c.fin_frame.is_some() || c.rst.is_some(),
        first: c.syn.map_or(c.first_ts, |(_, t)| t),
        last: c.last_ts,
        last_frame: c.last_frame,
        text: n.text_sample,
    }
}

/// What a one-way capture can conclude. The data connection may have taken the missing path,
/// so its absence is no sign that the client did not try (`not_attempted` becomes `unknown`).
/// A lone SYN with nothing after it was answered by a RST or by nothing, on a path the capture
/// does not see (`unanswered` becomes `unknown`); retransmitted SYNs did go unanswered, or the
/// sender would not have sent them again. Other outcomes rest on packets that were captured.
fn one_way_outcome(outcome: Outcome, connection: Option<&mut Connection>) -> Outcome {
    let outcome = match (outcome, &connection) {
        (Outcome::NotAttempted, _) => Outcome::Unknown,
        (Outcome::Unanswered, Some(c)) if c.syns <= 1 => Outcome::Unknown,
        (o, _) => o,
    };
    if let Some(c) = connection {
        if c.outcome == Outcome::Unanswered {
            c.outcome = outcome;
        }
    }
    outcome
}

/// The outcome the wire has already decided, whatever comes later: a SYN-ACK, a RST from the
/// server side, an ICMP error. None while only time can tell (unanswered, not attempted).
pub fn decided_outcome(c: &Conn) -> Option<Outcome> {
    // The SYN's sender acknowledging something after its SYN had the SYN-ACK, even when the
    // capture does not hold it (one direction only, or lost at the capture point).
    if c.synack_frame.is_some() || c.handshake_acked.is_some() {
        Some(Outcome::Established)
    } else if matches!(c.rst, Some((_, Dir::ToClient))) {
        Some(Outcome::Refused)
    } else if c.unreachable.is_some() {
        Some(Outcome::Unreachable)
    } else {
        None
    }
}

/// Nothing more can change this negotiation's record: its data connection is over (closed,
/// refused, unreachable) or the server refused it. A session whose negotiations are all final
/// can settle as soon as its control connection closes.
pub fn is_final(n: &NegState) -> bool {
    match &n.conn {
        Some(c) => c.is_closed() || c.unreachable.is_some(),
        // Refused by the server, or the client moved on without a transfer (not attempted).
        None => {
            n.reply.as_ref().is_some_and(|r| r.code >= 400)
                || n.transfer.as_ref().and_then(|t| t.last.as_ref()).is_some_and(|r| r.code >= 400)
                || (n.followed && n.transfer.is_none() && n.reply.is_some())
        }
    }
}

/// What became of a negotiation whose data connection never showed a SYN.
fn outcome_without_connection(n: &NegState, end: Timestamp) -> Outcome {
    if n.reply.as_ref().is_some_and(|r| r.code >= 400) {
        return Outcome::Rejected; // 500 Illegal PORT command, 501, 421 ...
    }
    if let Some(t) = &n.transfer {
        return match &t.last {
            // A 426 that answers the client's own ABOR refused nothing.
            Some(r) if r.code == 426 && t.aborted.is_some() => Outcome::Unknown,
            // The server could not or would not open it (vsftpd's "500 OOPS: vsf_sysutil_bind").
            Some(r) if matches!(r.code, 421 | 425 | 426 | 500 | 501 | 522) => Outcome::Rejected,
            // A completed transfer had a data connection: the capture did not hold it (a
            // capture filter on the control port, or it began later).
            Some(r) if model::record::transfer_completed(r.code) => Outcome::Unknown,
            Some(_) => Outcome::NotAttempted,
            None => Outcome::Unknown,
        };
    }
    // The client moved on (another command) without connecting: not attempted. Otherwise
    // the capture may just have ended too soon.
    if n.reply.is_none() || (!n.followed && end.since(n.ts) < GRACE_NS) {
        return Outcome::Unknown;
    }
    Outcome::NotAttempted
}

pub fn connection_record(c: &Conn, transfer_reply: Option<u16>, end: Timestamp) -> Connection {
    let outcome = match decided_outcome(c) {
        Some(o) => o,
        // One SYN just before the capture ended: an answer may have come after it. A
        // retransmitted SYN already waited a second or more for nothing.
        None if c.syns <= 1 && transfer_reply.is_none() && end.since(c.last_syn_ts) < GRACE_NS => Outcome::Unknown,
        None => Outcome::Unanswered,
    };
    let (syn_frame, syn_ts) = c.syn.unwrap_or((c.first_frame, c.first_ts));
    Connection {
        client: c.client,
        server: c.server,
        syn_frame,
        syn_time: syn_ts,
        outcome,
        syns: c.syns,
        client_isn: c.client_isn,
        server_isn: c.server_isn,
        synack_frame: c.synack_frame,
        rst_frame: c.rst.map(|(f, _)| f),
        rst_from: c.rst.map(|(_, d)| if d == Dir::ToServer { Side::Client } else { Side::Server }),
        unreachable_frame: c.unreachable.map(|(f, ..)| f),
        unreachable: c.unreachable.map(|(_, icmp_type, code, from)| Icmp { icmp_type, code, from }),
        fin_frame: c.fin_frame,
        bytes_to_server: c.bytes_to_server,
        bytes_to_client: c.bytes_to_client,
        last_frame: c.last_frame,
        last_time: c.last_ts,
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    fn syn_at(secs: i64, syns: u64) -> Conn {
        let mut c = Conn::new("192.168.1.10:40001".parse().unwrap(), "10.0.0.20:40000".parse().unwrap(), 7, Timestamp(secs * S));
        c.syn = Some((7, Timestamp(secs * S)));
        c.syns = syns;
        c.last_syn_ts = Timestamp((secs + syns as i64 - 1) * S);
        c
    }

    #[test]
    fn connection_outcomes() {
        let end = Timestamp(100 * S);
        let mut c = syn_at(10, 1);
        assert_eq!(connection_record(&c, None, end).outcome, Outcome::Unanswered);
        c.synack_frame = Some(8);
        assert_eq!(connection_record(&c, None, end).outcome, Outcome::Established);
        let mut c = syn_at(10, 1);
        c.rst = Some((8, Dir::ToClient));
        assert_eq!(connection_record(&c, None, end).outcome, Outcome::Refused);
        let mut c = syn_at(10, 1);
        c.unreachable = Some((8, 3, 1, "203.0.113.1".parse().unwrap()));
        let r = connection_record(&c, None, end);
        assert_eq!(r.outcome, Outcome::Unreachable);
        assert_eq!(r.unreachable.map(|i| i.to_string()).as_deref(), Some("ICMP 3/1 host unreachable from 203.0.113.1"));
    }

    #[test]
    fn an_acknowledgement_after_the_syn_means_the_syn_ack_came() {
        let end = Timestamp(100 * S);
        let mut c = syn_at(10, 1);
        c.handshake_acked = Some(9);
        assert_eq!(connection_record(&c, None, end).outcome, Outcome::Established);
        assert_eq!(decided_outcome(&c), Some(Outcome::Established));
    }

    #[test]
    fn one_way_nothing_is_concluded_from_what_is_missing() {
        let end = Timestamp(100 * S);
        // A lone SYN long ago: unanswered with both directions captured; one way, its answer
        // (a SYN-ACK the sender never acknowledged, or a RST) may be on the missing path.
        let lone = connection_record(&syn_at(10, 1), None, end);
        assert_eq!(lone.outcome, Outcome::Unanswered);
        let mut c = lone.clone();
        assert_eq!(one_way_outcome(Outcome::Unanswered, Some(&mut c)), Outcome::Unknown);
        assert_eq!(c.outcome, Outcome::Unknown, "the connection's own outcome says the same");
        // Retransmitted SYNs were not answered, whatever the capture misses: the sender says so.
        let mut c = connection_record(&syn_at(10, 3), None, end);
        assert_eq!(one_way_outcome(Outcome::Unanswered, Some(&mut c)), Outcome::Unanswered);
        // No connection seen after a negotiation: it may have taken the other path.
        assert_eq!(one_way_outcome(Outcome::NotAttempted, None), Outcome::Unknown);
        // What captured packets show stands.
        let mut c = syn_at(10, 1);
        c.rst = Some((8, Dir::ToClient));
        let mut r = connection_record(&c, None, end);
        assert_eq!(one_way_outcome(Outcome::Refused, Some(&mut r)), Outcome::Refused);
    }

    #[test]
    fn a_single_syn_at_the_very_end_is_unknown_but_retransmissions_are_not() {
        let end = Timestamp(100 * S);
        assert_eq!(connection_record(&syn_at(99, 1), None, end).outcome, Outcome::Unknown);
        assert_eq!(connection_record(&syn_at(98, 2), None, end).outcome, Outcome::Unanswered);
        // A 425 already said the connection never came.
        assert_eq!(connection_record(&syn_at(99, 1), Some(425), end).outcome, Outcome::Unanswered);
    }
}
