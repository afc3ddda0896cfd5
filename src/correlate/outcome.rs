//! What became of each data connection, and the report values built from the analyzer's state.
//!
//! Owns the outcome rules (established, refused, unanswered, unreachable, not_attempted,
//! rejected, unknown). Pure: state and the capture's end time in, report values out.

use crate::tcp::flow::{Conn, Dir};
use crate::report::{self, ControlStats, Outcome};
use crate::ftp::session::{NegState, SessionState};
use crate::Timestamp;
use std::net::IpAddr;

/// A connection whose SYN went unanswered for less than this before the capture ended may
/// still have been answered: its outcome is `unknown`, not `unanswered`.
const GRACE_NS: i64 = 3 * 1_000_000_000;

pub fn session_report(s: &SessionState, control: ControlStats, end: Timestamp) -> report::Session {
    report::Session {
        id: s.id,
        client: s.client.to_string(),
        server: s.server.to_string(),
        control_port: s.server.port(),
        first_frame: s.first_frame,
        start_time: s.start_ts.as_secs_f64(),
        user: s.user.clone(),
        banner: s.banner.clone(),
        tls: s.tls_frame.is_some(),
        tls_frame: s.tls_frame,
        protected_data: s.protected_data,
        clear_again_frame: s.clear_again_frame,
        commands: s.commands,
        replies: s.replies,
        negotiations: s.negotiations.iter().map(|n| negotiation_report(n, end)).collect(),
        negotiations_over_limit: s.negotiations_over_limit,
        probable_data_channels: s.probable.iter().map(|c| connection_report(c, None, end)).collect(),
        anomalies: s.anomalies.clone(),
        control,
        client_addr: s.client,
        server_addr: s.server,
        password_frame: s.password_frame,
    }
}

fn negotiation_report(n: &NegState, end: Timestamp) -> report::Negotiation {
    let transfer_reply = n.transfer.as_ref().and_then(|t| t.last.as_ref());
    let connection = n.conn.as_ref().map(|c| connection_report(c, transfer_reply.map(|r| r.code), end));
    let outcome = match &connection {
        Some(c) => c.outcome,
        None => outcome_without_connection(n, end),
    };
    report::Negotiation {
        frame: n.frame,
        time: n.ts.as_secs_f64(),
        command: n.command,
        mode: n.command.mode(),
        argument: n.argument.clone(),
        reply_code: n.reply.as_ref().map(|r| r.code),
        reply_frame: n.reply.as_ref().map(|r| r.frame),
        reply_text: n.reply.as_ref().map(|r| r.text.clone()),
        advertised: n.advertised.map(|a| a.to_string()),
        advertised_class: n.advertised.map(|a| crate::model::address::classify(a.ip())),
        address_implied: n.implied,
        malformed: n.malformed.map(str::to_string),
        data: report::DataChannel {
            outcome,
            matched_by: n.matched_by,
            bytes: n.conn.map_or(0, |c| c.bytes_to_server + c.bytes_to_client),
            duration: n.conn.and_then(|c| c.syn.map(|(_, t)| (c.last_ts.0 - t.0) as f64 / 1e9)),
            connection,
            command: n.transfer.as_ref().map(|t| t.command.clone()),
            command_frame: n.transfer.as_ref().map(|t| t.frame),
            reply_code: transfer_reply.map(|r| r.code),
            reply_frame: transfer_reply.map(|r| r.frame),
            reply_text: transfer_reply.map(|r| r.text.clone()),
        },
        advertised_addr: n.advertised,
    }
}

/// What became of a negotiation whose data connection never showed a SYN.
fn outcome_without_connection(n: &NegState, end: Timestamp) -> Outcome {
    if n.reply.as_ref().is_some_and(|r| r.code >= 400) {
        return Outcome::Rejected; // 500 Illegal PORT command, 501, 421 ...
    }
    if let Some(t) = &n.transfer {
        return match &t.last {
            // The server could not or would not open it (vsftpd's "500 OOPS: vsf_sysutil_bind").
            Some(r) if matches!(r.code, 421 | 425 | 426 | 500 | 501 | 522) => Outcome::Rejected,
            // A completed transfer had a data connection: the capture did not hold it (a
            // capture filter on the control port, or it began later).
            Some(r) if r.code < 300 => Outcome::Unknown,
            Some(_) => Outcome::NotAttempted,
            None => Outcome::Unknown,
        };
    }
    // The client moved on (another command) without connecting: not attempted. Otherwise
    // the capture may just have ended too soon.
    if n.reply.is_none() || (!n.followed && end.0.saturating_sub(n.ts.0) < GRACE_NS) {
        return Outcome::Unknown;
    }
    Outcome::NotAttempted
}

fn connection_report(c: &Conn, transfer_reply: Option<u16>, end: Timestamp) -> report::Connection {
    let outcome = if c.synack_frame.is_some() {
        Outcome::Established
    } else if matches!(c.rst, Some((_, Dir::ToClient))) {
        Outcome::Refused
    } else if c.unreachable.is_some() {
        Outcome::Unreachable
    } else if c.syns <= 1 && transfer_reply.is_none() && end.0.saturating_sub(c.last_syn_ts.0) < GRACE_NS {
        // One SYN just before the capture ended: an answer may have come after it. A
        // retransmitted SYN already waited a second or more for nothing.
        Outcome::Unknown
    } else {
        Outcome::Unanswered
    };
    let (syn_frame, syn_ts) = c.syn.unwrap_or((c.first_frame, c.first_ts));
    report::Connection {
        client: c.client.to_string(),
        server: c.server.to_string(),
        syn_frame,
        syn_time: syn_ts.as_secs_f64(),
        outcome,
        syns: c.syns,
        synack_frame: c.synack_frame,
        rst_frame: c.rst.map(|(f, _)| f),
        rst_from: c.rst.map(|(_, d)| if d == Dir::ToServer { "client" } else { "server" }),
        unreachable_frame: c.unreachable.map(|(f, ..)| f),
        unreachable: c.unreachable.map(|(_, t, code, from)| describe_icmp(t, code, from)),
        fin_frame: c.fin_frame,
        bytes_to_server: c.bytes_to_server,
        bytes_to_client: c.bytes_to_client,
        last_frame: c.last_frame,
        last_time: c.last_ts.as_secs_f64(),
    }
}

fn describe_icmp(t: u8, code: u8, from: IpAddr) -> String {
    let what = match (from.is_ipv4(), t, code) {
        (true, 3, 0) => "network unreachable",
        (true, 3, 1) => "host unreachable",
        (true, 3, 3) => "port unreachable",
        (true, 3, 9 | 10 | 13) => "administratively prohibited",
        (true, 11, _) => "time exceeded",
        (false, 1, 0) => "no route to destination",
        (false, 1, 1) => "administratively prohibited",
        (false, 1, 3) => "address unreachable",
        (false, 1, 4) => "port unreachable",
        (false, 3, _) => "time exceeded",
        _ => "unreachable",
    };
    let proto = if from.is_ipv4() { "ICMP" } else { "ICMPv6" };
    format!("{proto} {t}/{code} {what} from {from}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    fn syn_at(secs: i64, syns: u32) -> Conn {
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
        assert_eq!(connection_report(&c, None, end).outcome, Outcome::Unanswered);
        c.synack_frame = Some(8);
        assert_eq!(connection_report(&c, None, end).outcome, Outcome::Established);
        let mut c = syn_at(10, 1);
        c.rst = Some((8, Dir::ToClient));
        assert_eq!(connection_report(&c, None, end).outcome, Outcome::Refused);
        let mut c = syn_at(10, 1);
        c.unreachable = Some((8, 3, 1, "203.0.113.1".parse().unwrap()));
        let r = connection_report(&c, None, end);
        assert_eq!(r.outcome, Outcome::Unreachable);
        assert_eq!(r.unreachable.as_deref(), Some("ICMP 3/1 host unreachable from 203.0.113.1"));
    }

    #[test]
    fn a_single_syn_at_the_very_end_is_unknown_but_retransmissions_are_not() {
        let end = Timestamp(100 * S);
        assert_eq!(connection_report(&syn_at(99, 1), None, end).outcome, Outcome::Unknown);
        assert_eq!(connection_report(&syn_at(98, 2), None, end).outcome, Outcome::Unanswered);
        // A 425 already said the connection never came.
        assert_eq!(connection_report(&syn_at(99, 1), Some(425), end).outcome, Outcome::Unanswered);
    }
}
