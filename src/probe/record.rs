//! Without a capture, the prober's observations become the session record the analysis builds
//! from packets, so that the same diagnosis (findings, causes, fixes) reads them. Thinner than a
//! capture: no ICMP errors' senders, no retransmissions, no TCP details; what the sockets could
//! tell (established, refused, unreachable, no answer) is all there is. The frame numbers count
//! the observations in time order.

use super::observed::{Attempt, Dial, Observed, Stopped};
use crate::analyzer::totals;
use crate::diagnose::servers::Servers;
use crate::diagnose::unclaimed::Unclaimed;
use crate::diagnose::{self, Context};
use crate::model::record::{ControlStats, DataChannel, Directions, EndReason};
use crate::model::transfer_record::{Asked, Carried, Direction};
use crate::model::{
    classify, transfer, Connection, Event, Finding, Intent, Login, LoginStep, MatchedBy, Negotiation, Outcome, Refusal, Session, Side,
    Software, Summary, Timeline, Timestamp,
};
use std::net::SocketAddr;
use std::time::SystemTime;

/// The observations' times in order: an observation's frame is its place among them.
struct Frames(Vec<SystemTime>);

impl Frames {
    fn of(seen: &Observed) -> Frames {
        let mut times: Vec<SystemTime> = seen.lines.iter().map(|l| l.at).collect();
        times.extend(seen.connected_at);
        times.extend(seen.tls.as_ref().map(|t| t.at));
        // The attempts' moments are their control lines' (kept once), and their connections'.
        for a in &seen.attempts {
            times.extend([Some(a.sent_at), a.reply_at, a.dial_at, a.listing_at, a.transfer_at].into_iter().flatten());
        }
        times.sort();
        times.dedup();
        Frames(times)
    }

    fn at(&self, t: SystemTime) -> u64 {
        self.0.partition_point(|&x| x < t) as u64 + 1
    }

    fn last(&self) -> u64 {
        self.0.len() as u64
    }
}

pub fn timestamp(t: SystemTime) -> Timestamp {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    Timestamp::from_secs_nanos(since.as_secs() as i64, i64::from(since.subsec_nanos()))
}

/// What the analysis of a capture would hand its outputs, made from what the sockets saw: the
/// session's record (with the server's picture and fix block), or the findings about a control
/// connection that never opened; then the summary. With the frames counted.
pub fn events(seen: &Observed, intent: Intent) -> (Vec<Event>, u64) {
    let record = session(seen, intent);
    let failed = control_failure(seen, intent);
    let frames = record.as_ref().map_or(if failed.is_empty() { 0 } else { CONTROL_FRAMES }, |r| r.last_frame);
    let time = record.as_ref().map_or(timestamp(seen.ended), |r| r.end_time);
    let mut summary = Summary { sessions: u64::from(record.is_some()), tcp_connections: 1, ..Summary::default() };
    let mut events = Vec::new();
    if let Some(record) = record {
        totals::add_session(&mut summary, &record);
        let mut servers = Servers::default();
        servers.see(&record);
        events.push(Event::SessionEnd { session: record.id, frame: record.last_frame, time, record: Box::new(record) });
        events.extend(servers.all(intent).into_iter().map(|server| Event::Server { frame: frames, time, server: Box::new(server) }));
    }
    summary.control_connections_failed = u64::from(!failed.is_empty());
    summary.frames = frames;
    for f in failed {
        totals::count(&mut summary, &f);
        events.push(Event::Finding { session: f.session, frame: frames, time, finding: Box::new(f) });
    }
    events.push(Event::Summary { frame: frames, time, summary: Box::new(summary) });
    (events, frames)
}

/// A control connection that never opened: its SYN, and what answered it.
const CONTROL_FRAMES: u64 = 2;

/// The session record of what was seen, diagnosed as the analyzer diagnoses a settled session;
/// None when the control connection never opened (no session to record: see
/// [`control_failure`]).
pub fn session(seen: &Observed, intent: Intent) -> Option<Session> {
    seen.connected_at?;
    let client = seen.local?;
    let frames = Frames::of(seen);
    let frame = |t: SystemTime| frames.at(t);
    let mut timeline = Timeline::default();
    timeline.keep(crate::model::record::TIMELINE_LINES);
    for l in &seen.lines {
        timeline.push(frame(l.at), timestamp(l.at), l.from, &l.text);
    }
    let commands = seen.lines.iter().filter(|l| l.from == Side::Client).count() as u64;
    let replies = seen.lines.iter().filter(|l| l.from == Side::Server).count() as u64;
    let mut s = Session {
        id: 1,
        client,
        server: seen.server,
        control_port: seen.server.port(),
        first_frame: 1,
        start_time: timestamp(seen.connected_at.unwrap_or(seen.started)),
        last_frame: frames.last(),
        end_time: timestamp(seen.ended),
        end: EndReason::Closed,
        user: Some(seen.user.clone()),
        banner: seen.banner.clone(),
        software: Software::from_banner(seen.banner.as_deref()),
        tls: seen.tls.is_some(),
        tls_frame: seen.tls.as_ref().map(|t| frame(t.at)),
        gssapi_frame: None,
        // Sent inside TLS: a capture would not read it either.
        protected_data: false,
        clear_again_frame: None,
        password_frame: None,
        login: login(seen, &frame),
        commands,
        replies,
        captured_directions: Directions::Both,
        one_direction_frame: None,
        negotiations: seen.attempts.iter().filter(|a| a.reply.is_some()).map(|a| negotiation(seen, a, &frame)).collect(),
        negotiations_over_limit: 0,
        probable_data_channels: Vec::new(),
        anomalies: Vec::new(),
        control: ControlStats { overlong_lines: seen.overlong_lines, closed: true, ..ControlStats::default() },
        // The probe tries each mode on purpose: its active attempts are no fallback.
        passive_failed_first: None,
        findings: Vec::new(),
        timeline,
    };
    transfer::judge(&mut s);
    let cx = Context { intent, server_block: true };
    s.findings = diagnose::session_findings(&s, &cx);
    Some(s)
}

/// A control connection that never opened, judged as the analysis judges one no session
/// claimed: the findings about it (the server cannot be reached).
pub fn control_failure(seen: &Observed, intent: Intent) -> Vec<Finding> {
    let Some(Stopped::Control { dial }) = &seen.stopped else { return Vec::new() };
    let client = seen.local.unwrap_or(SocketAddr::new(std::net::Ipv4Addr::UNSPECIFIED.into(), 0));
    let outcome = outcome(Some(*dial));
    let connection = Connection {
        client,
        server: seen.server,
        syn_frame: 1,
        syn_time: timestamp(seen.started),
        outcome,
        syns: 1,
        client_isn: None,
        server_isn: None,
        synack_frame: None,
        rst_frame: (outcome == Outcome::Refused).then_some(CONTROL_FRAMES),
        rst_from: (outcome == Outcome::Refused).then_some(Side::Server),
        unreachable_frame: None,
        unreachable: None,
        fin_frame: None,
        bytes_to_server: 0,
        bytes_to_client: 0,
        last_frame: CONTROL_FRAMES,
        last_time: timestamp(seen.ended),
    };
    let mut unclaimed = Unclaimed::new(Some(intent.control_port.unwrap_or(seen.server.port())));
    unclaimed.judge(&connection, None);
    unclaimed.take()
}

fn login(seen: &Observed, frame: &dyn Fn(SystemTime) -> u64) -> Login {
    let mut login = Login::default();
    let server_lines = || seen.lines.iter().filter(|l| l.from == Side::Server);
    login.last_reply_frame = server_lines().next_back().map(|l| frame(l.at));
    if let Some(reply) = &seen.login {
        let at = server_lines().find(|l| l.text.starts_with(&format!("{} ", reply.code)) && l.text.ends_with(&reply.text));
        let at = at.map(|l| l.at).unwrap_or(seen.ended);
        if matches!(reply.code, 230 | 232) {
            login.accepted_frame = Some(frame(at));
        }
    }
    if let Some(Stopped::Refused { step, reply }) = &seen.stopped {
        let at = server_lines().rfind(|l| l.text.starts_with(&reply.code.to_string())).map_or(seen.ended, |l| l.at);
        let step = match step.as_str() {
            "the banner" => None,
            _ => Some(if seen.lines.iter().rev().any(|l| l.text.starts_with("PASS")) { LoginStep::Pass } else { LoginStep::User }),
        };
        login.refuse(Refusal {
            step,
            command_frame: None,
            user: Some(seen.user.clone()),
            code: reply.code,
            frame: frame(at),
            time: timestamp(at),
            text: format!("{} {}", reply.code, reply.text),
        });
    }
    login
}

fn outcome(dial: Option<Dial>) -> Outcome {
    match dial {
        Some(Dial::Established) => Outcome::Established,
        Some(Dial::Refused) => Outcome::Refused,
        Some(Dial::Unanswered) => Outcome::Unanswered,
        Some(Dial::Unreachable) => Outcome::Unreachable,
        None => Outcome::NotAttempted,
    }
}

fn negotiation(seen: &Observed, a: &Attempt, frame: &dyn Fn(SystemTime) -> u64) -> Negotiation {
    let reply = a.reply.as_ref();
    let at = |t: Option<SystemTime>| t.map(frame);
    let outcome = outcome(a.dial);
    // The data connection's two ends: passive, the prober's to what it dialed; active, the
    // server's (as it arrived, or as it should have) to the prober's listener.
    let ends: Option<(SocketAddr, SocketAddr)> = match a.command.mode() {
        crate::model::Mode::Passive => {
            a.dialed.map(|to| (a.local_end.unwrap_or(SocketAddr::new(seen.local.map_or(to.ip(), |l| l.ip()), 0)), to))
        }
        crate::model::Mode::Active => a.dialed.map(|mine| (a.peer.unwrap_or(SocketAddr::new(seen.server.ip(), 0)), mine)),
    };
    let connection = match (ends, a.dial_at) {
        (Some((client, server)), Some(dial_at)) => Some(Connection {
            client,
            server,
            syn_frame: frame(dial_at),
            syn_time: timestamp(dial_at),
            outcome,
            syns: 1,
            client_isn: None,
            server_isn: None,
            synack_frame: (outcome == Outcome::Established).then(|| frame(dial_at)),
            rst_frame: (outcome == Outcome::Refused).then(|| frame(dial_at)),
            rst_from: (outcome == Outcome::Refused).then_some(Side::Server),
            unreachable_frame: None,
            unreachable: None,
            fin_frame: None,
            bytes_to_server: 0,
            bytes_to_client: a.bytes,
            last_frame: frame(a.transfer_at.unwrap_or(dial_at)),
            last_time: timestamp(a.transfer_at.unwrap_or(dial_at)),
        }),
        _ => None,
    };
    // Active mode: a connection the server never made is no connection seen at all.
    let connection = connection.filter(|c| a.command.mode() == crate::model::Mode::Passive || c.outcome == Outcome::Established);
    let matched_by = connection.as_ref().and_then(|c| match (a.command.mode(), a.advertised) {
        (crate::model::Mode::Passive, Some(adv)) if adv == c.server => Some(MatchedBy::Advertised),
        (crate::model::Mode::Passive, Some(_)) => Some(MatchedBy::ControlAddress),
        (crate::model::Mode::Active, _) => Some(MatchedBy::Advertised),
        _ => None,
    });
    // What its socket read of the listing, as a capture's data connection would show it.
    let carried = Carried {
        seen: connection.as_ref().is_some_and(|c| c.outcome == Outcome::Established),
        bytes: a.bytes,
        closed: a.transfer.is_some(),
        first: connection.as_ref().map_or_else(Timestamp::default, |c| c.syn_time),
        last: connection.as_ref().map_or_else(Timestamp::default, |c| c.last_time),
        last_frame: connection.as_ref().map_or(0, |c| c.last_frame),
        ..Carried::default()
    };
    let data_outcome = match (a.command.mode(), &connection) {
        (_, Some(c)) => c.outcome,
        (crate::model::Mode::Active, None) if a.listing.is_some() => Outcome::Unanswered,
        _ => Outcome::NotAttempted,
    };
    Negotiation {
        frame: frame(a.sent_at),
        time: timestamp(a.sent_at),
        command: a.command,
        mode: a.command.mode(),
        argument: a.argument.clone(),
        reply_code: reply.map(|r| r.code),
        reply_frame: at(a.reply_at),
        reply_text: reply.map(|r| r.text.clone()),
        advertised: a.advertised,
        advertised_class: a.advertised.map(|x| classify(x.ip())),
        address_implied: a.command == crate::model::NegotiationCommand::EPSV,
        command_implied: false,
        reply_implied: false,
        malformed: None,
        data: DataChannel {
            outcome: data_outcome,
            matched_by,
            tie_ambiguous: false,
            connection,
            bytes: a.bytes,
            duration: None,
            command: a.listing.clone(),
            command_frame: at(a.listing_at),
            reply_code: a.transfer.as_ref().map(|r| r.code),
            reply_frame: at(a.transfer_at),
            reply_text: a.transfer.as_ref().map(|r| r.text.clone()),
            aborted_frame: None,
            earlier_attempts: Vec::new(),
            transfer: None,
            content: Default::default(),
            record: None,
            // The listing the probe asked for, and what its socket read: judged into a transfer
            // record as a captured one is (model::transfer_record).
            asked: a.listing.as_ref().map(|_| Asked { direction: Some(Direction::Listing), ..Asked::default() }),
            carried,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FindingKind, NegotiationCommand};
    use crate::probe::observed::{Line, Reply};
    use std::time::Duration;

    /// A session from 192.168.1.10 to 198.51.100.2:21 that logged in, then `attempts`; the
    /// control lines one 10 ms apart.
    fn seen(attempts: Vec<Attempt>) -> Observed {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let lines = [(Side::Server, "220 (vsFTPd 3.0.3)"), (Side::Client, "USER anonymous"), (Side::Server, "230 Login successful.")];
        Observed {
            server: "198.51.100.2:21".parse().unwrap(),
            local: Some("192.168.1.10:40000".parse().unwrap()),
            started: t0,
            connected_at: Some(t0),
            ended: at(10_000),
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, (from, text))| Line { at: at(10 * i as u64 + 1), from: *from, text: text.to_string() })
                .collect(),
            banner: Some("(vsFTPd 3.0.3)".into()),
            user: "anonymous".into(),
            login: Some(Reply { code: 230, text: "Login successful.".into() }),
            features: None,
            attempts,
            tls: None,
            stopped: None,
            overlong_lines: 0,
        }
    }

    /// PASV at 1 s answered with `advertised`, dialled at the server's address with its port.
    fn pasv(advertised: &str, dial: Dial, transfer: Option<u16>) -> Attempt {
        let t = |ms: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000) + Duration::from_millis(ms);
        let advertised: SocketAddr = advertised.parse().unwrap();
        let mut a = Attempt::new(NegotiationCommand::PASV, t(1000));
        (a.reply, a.reply_at) = (Some(Reply { code: 227, text: "Entering Passive Mode".into() }), Some(t(1010)));
        (a.advertised, a.dialed, a.dial, a.dial_at) =
            (Some(advertised), Some(SocketAddr::new([198, 51, 100, 2].into(), advertised.port())), Some(dial), Some(t(1020)));
        if let Some(code) = transfer {
            (a.listing, a.listing_at) = (Some("NLST".into()), Some(t(1030)));
            (a.transfer, a.transfer_at) = (Some(Reply { code, text: String::new() }), Some(t(1040)));
        }
        a
    }

    fn kinds(s: &Session) -> Vec<FindingKind> {
        s.findings.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn the_sockets_record_is_diagnosed_as_a_capture_would_be() {
        let leak = session(&seen(vec![pasv("10.0.0.20:40003", Dial::Established, Some(226))]), Intent::default()).unwrap();
        assert_eq!(leak.negotiations[0].data.outcome, Outcome::Established);
        assert_eq!(leak.negotiations[0].data.matched_by, Some(MatchedBy::ControlAddress));
        assert!(kinds(&leak).contains(&FindingKind::PrivateAddressLeak), "{:?}", kinds(&leak));
        let dropped = session(&seen(vec![pasv("198.51.100.2:40003", Dial::Unanswered, None)]), Intent::default()).unwrap();
        assert_eq!(dropped.negotiations[0].data.outcome, Outcome::Unanswered);
        assert!(kinds(&dropped).contains(&FindingKind::DataConnectionFailed), "{:?}", kinds(&dropped));
        let healthy = session(&seen(vec![pasv("198.51.100.2:40003", Dial::Established, Some(226))]), Intent::default()).unwrap();
        assert!(healthy.findings.iter().all(|f| f.severity == crate::model::Severity::Info), "{:?}", kinds(&healthy));
        // Frames follow time: the negotiation's command before its reply before the SYN.
        let n = &healthy.negotiations[0];
        assert!(n.frame < n.reply_frame.unwrap() && n.reply_frame.unwrap() < n.data.connection.as_ref().unwrap().syn_frame);
    }

    #[test]
    fn a_control_connection_that_never_opened_is_its_own_finding() {
        let mut s = seen(Vec::new());
        (s.connected_at, s.lines, s.stopped) = (None, Vec::new(), Some(Stopped::Control { dial: Dial::Unanswered }));
        assert!(session(&s, Intent::default()).is_none());
        let (events, frames) = events(&s, Intent::default());
        assert_eq!(frames, CONTROL_FRAMES);
        let found: Vec<FindingKind> =
            events.iter().filter_map(|e| if let Event::Finding { finding, .. } = e { Some(finding.kind) } else { None }).collect();
        assert_eq!(found, [FindingKind::ControlConnectionFailed]);
        assert!(
            matches!(events.last(), Some(Event::Summary { summary, .. }) if summary.errors == 1 && summary.control_connections_failed == 1)
        );
    }
}
