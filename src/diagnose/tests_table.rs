//! Diagnosis's decisions, table-driven: a session record built by hand in, findings out. Each
//! row names the branch it pins (a kind, its severity, what links it to its cause) and asserts
//! every finding's kind, severity, cause, evidence frames and fix actions: never their words,
//! which report-side code chooses.

use super::across::{NatPairing, MAX_KEPT};
use super::{session_findings, Context};
use crate::model::record::{Anomaly, ControlStats, DataChannel, Timeline};
use crate::model::{
    classify, Connection, Directions, EndReason, Finding, FindingKind, Fix, Intent, LoginStep, Mode, Negotiation, NegotiationCommand,
    Outcome, PortRange, Refusal, Session, Severity, Side, Software, Timestamp,
};
use std::net::{IpAddr, SocketAddr};

const SECOND: i64 = 1_000_000_000;
/// The usual picture: a client on a LAN behind NAT, a server with a public address.
const CLIENT: &str = "192.168.1.10:40000";
const SERVER: &str = "203.0.113.5:21";
/// The client's data connections come from here.
const DATA_CLIENT: &str = "192.168.1.10:40001";
/// A client with a public address (active mode without NAT).
const PUBLIC_CLIENT: &str = "198.51.100.7:40000";
/// A server on its LAN behind NAT, captured there.
const LAN_SERVER: &str = "10.0.0.20:21";
/// The record's id: every finding names it.
const ID: u32 = 3;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A session between `client` and `server`, closed after a minute, nothing negotiated yet.
fn session(client: &str, server: &str) -> Session {
    let (client, server) = (addr(client), addr(server));
    Session {
        id: ID,
        client,
        server,
        control_port: server.port(),
        first_frame: 1,
        start_time: Timestamp(0),
        last_frame: 50,
        end_time: Timestamp(60 * SECOND),
        end: EndReason::Closed,
        user: None,
        banner: None,
        software: Software::Vsftpd,
        tls: false,
        tls_frame: None,
        gssapi_frame: None,
        protected_data: false,
        clear_again_frame: None,
        password_frame: None,
        login: Default::default(),
        commands: 4,
        replies: 4,
        captured_directions: Directions::Both,
        one_direction_frame: None,
        negotiations: Vec::new(),
        negotiations_over_limit: 0,
        probable_data_channels: Vec::new(),
        anomalies: Vec::new(),
        control: ControlStats::default(),
        passive_failed_first: None,
        findings: Vec::new(),
        timeline: Timeline::default(),
    }
}

/// A negotiation at frame 10 (1 s in), answered at frame 11, advertising `advertised`; no data
/// connection and no transfer yet.
fn negotiation(command: NegotiationCommand, advertised: Option<&str>, reply_code: u16) -> Negotiation {
    let advertised = advertised.map(addr);
    Negotiation {
        frame: 10,
        time: Timestamp(SECOND),
        command,
        mode: command.mode(),
        argument: None,
        reply_code: Some(reply_code),
        reply_frame: Some(11),
        reply_text: Some(String::from("reply")),
        advertised,
        advertised_class: advertised.map(|a| classify(a.ip())),
        address_implied: false,
        command_implied: false,
        reply_implied: false,
        malformed: None,
        data: DataChannel {
            outcome: Outcome::NotAttempted,
            matched_by: None,
            tie_ambiguous: false,
            connection: None,
            bytes: 0,
            duration: None,
            command: None,
            command_frame: None,
            reply_code: None,
            reply_frame: None,
            reply_text: None,
            aborted_frame: None,
            earlier_attempts: Vec::new(),
            transfer: None,
            content: Default::default(),
            record: None,
            asked: None,
            carried: Default::default(),
        },
    }
}

/// PASV answered by a 227 naming `advertised` (evidence: the reply, frame 11).
fn passive(advertised: &str) -> Negotiation {
    negotiation(NegotiationCommand::PASV, Some(advertised), 227)
}

/// PORT naming `advertised`, accepted (evidence: the command, frame 10).
fn active(advertised: &str) -> Negotiation {
    negotiation(NegotiationCommand::PORT, Some(advertised), 200)
}

/// A data connection from `client` to `server` whose SYN is frame `syn`; its SYN-ACK, RST or
/// ICMP error (as the outcome says) is the next frame.
fn connection(client: &str, server: &str, outcome: Outcome, syn: u64) -> Connection {
    let next = Some(syn + 1);
    Connection {
        client: addr(client),
        server: addr(server),
        syn_frame: syn,
        syn_time: Timestamp(syn as i64),
        outcome,
        syns: if outcome == Outcome::Unanswered { 3 } else { 1 },
        client_isn: Some(1),
        server_isn: None,
        synack_frame: next.filter(|_| outcome == Outcome::Established),
        rst_frame: next.filter(|_| outcome == Outcome::Refused),
        rst_from: (outcome == Outcome::Refused).then_some(Side::Server),
        unreachable_frame: next.filter(|_| outcome == Outcome::Unreachable),
        unreachable: None,
        fin_frame: None,
        bytes_to_server: 0,
        bytes_to_client: 0,
        last_frame: syn + 1,
        last_time: Timestamp(syn as i64 + 1),
    }
}

/// What a test adds to a negotiation.
trait Build: Sized {
    /// Its data connection (SYN at frame 12), with the outcome the record reads from it.
    fn connected(self, client: &str, server: &str, outcome: Outcome) -> Self;
    /// Its transfer: the command at frame 14, the final reply at frame 15.
    fn transfer(self, command: &str, code: u16, text: &str) -> Self;
    fn with(self, change: impl FnOnce(&mut Negotiation)) -> Self;
}

impl Build for Negotiation {
    fn connected(mut self, client: &str, server: &str, outcome: Outcome) -> Self {
        self.data.connection = Some(connection(client, server, outcome, 12));
        self.data.outcome = outcome;
        self.data.matched_by = Some(crate::model::MatchedBy::Advertised);
        self
    }
    fn transfer(mut self, command: &str, code: u16, text: &str) -> Self {
        self.data.command = Some(command.to_string());
        self.data.command_frame = Some(14);
        self.data.reply_code = Some(code);
        self.data.reply_frame = Some(15);
        self.data.reply_text = Some(text.to_string());
        self
    }
    fn with(mut self, change: impl FnOnce(&mut Negotiation)) -> Self {
        change(&mut self);
        self
    }
}

/// A download of 100 bytes announced that carried 40, its data connection's last frame 20.
fn cut_short() -> crate::model::transfer_record::TransferRecord {
    use crate::model::transfer_record::{Asked, Carried, Ending, SizeFrom, TransferRecord};
    let asked = Asked { announced: Some((100, SizeFrom::Preliminary)), ..Asked::default() };
    let carried = Carried { seen: true, bytes: 40, closed: true, last_frame: 20, ..Carried::default() };
    TransferRecord::new(
        asked,
        &carried,
        &Ending { verdict: Some(crate::model::Verdict::Ok), reply_code: Some(226), aborted: false, capture_ended: false },
    )
}

/// A TYPE A download of 100 bytes whose sample holds NUL bytes.
fn binary_in_ascii() -> crate::model::transfer_record::TransferRecord {
    use crate::model::text_sample::TextSample;
    use crate::model::transfer_record::{Asked, Carried, Ending, TransferRecord};
    let mut sample = TextSample::default();
    sample.add(&[0u8; 100]);
    let carried = Carried { seen: true, bytes: 100, closed: true, last_frame: 20, text: Some(sample), ..Carried::default() };
    TransferRecord::new(
        Asked::default(),
        &carried,
        &Ending { verdict: Some(crate::model::Verdict::Ok), reply_code: Some(226), aborted: false, capture_ended: false },
    )
}

/// A finding as a row expects it.
#[derive(Debug, PartialEq, Eq)]
struct Want {
    kind: FindingKind,
    severity: Severity,
    caused_by: Option<u32>,
    frames: Vec<u64>,
    /// The fix actions in order (the `Fix` variants' names).
    fix: Vec<String>,
    occurrences: u32,
}

fn want(kind: FindingKind, severity: Severity, frames: &[u64], fix: &[&str]) -> Want {
    Want { kind, severity, caused_by: None, frames: frames.to_vec(), fix: fix.iter().map(|a| a.to_string()).collect(), occurrences: 1 }
}

impl Want {
    fn caused_by(self, cause: u32) -> Want {
        Want { caused_by: Some(cause), ..self }
    }
    fn times(self, occurrences: u32) -> Want {
        Want { occurrences, ..self }
    }
}

/// A fix's action: its variant's name (what the JSON's `action` says, in another case).
fn action(fix: &Fix) -> String {
    format!("{fix:?}").chars().take_while(char::is_ascii_alphanumeric).collect()
}

fn got(f: &Finding) -> Want {
    Want {
        kind: f.kind,
        severity: f.severity,
        caused_by: f.caused_by,
        frames: f.frames.clone(),
        fix: f.fix.iter().map(action).collect(),
        occurrences: f.occurrences,
    }
}

struct Row {
    /// The branch it pins.
    name: &'static str,
    session: Session,
    intent: Intent,
    want: Vec<Want>,
}

fn row(name: &'static str, session: Session, want: Vec<Want>) -> Row {
    Row { name, session, intent: Intent::default(), want }
}

fn with_intent(name: &'static str, intent: Intent, session: Session, want: Vec<Want>) -> Row {
    Row { name, session, intent, want }
}

/// `session` with these negotiations.
/// `s` with `negotiations`, settled: each transfer judged, as a session record is.
fn negotiating(mut s: Session, negotiations: Vec<Negotiation>) -> Session {
    s.negotiations = negotiations;
    crate::model::transfer::judge(&mut s);
    s
}

fn changed(mut s: Session, change: impl FnOnce(&mut Session)) -> Session {
    change(&mut s);
    s
}

use FindingKind::*;
use Outcome::*;
use Severity::{Error, Info, Warning};

/// Fix actions, by the names the table uses.
const SERVER_PASSIVE: &str = "ServerPassiveSettings";
/// The range alone: the reply already named the address clients reach.
const SERVER_RANGE: &str = "ServerPassiveRange";
const FORWARD: &str = "ForwardPassiveRange";
const ALLOW: &str = "AllowPassiveRange";
const USE_PASSIVE: &str = "UsePassiveMode";
const CLIENT_HELPER: &str = "ClientRouterHelper";

fn control_rows() -> Vec<Row> {
    let base = || session(CLIENT, SERVER);
    vec![
        row(
            "a clean passive transfer: nothing to say",
            negotiating(
                base(),
                vec![passive("203.0.113.5:50000").connected(DATA_CLIENT, "203.0.113.5:50000", Established).transfer("RETR f", 226, "ok")],
            ),
            vec![],
        ),
        row(
            "control port other than 21: the router's helper must be told",
            session(CLIENT, "203.0.113.5:2121"),
            vec![want(NonstandardControlPort, Info, &[1], &["AttachHelper"])],
        ),
        with_intent(
            "control port other than the intended one",
            Intent { control_port: Some(990), ..Intent::default() },
            base(),
            vec![want(UnexpectedControlPort, Warning, &[1], &["UseControlPort"])],
        ),
        row(
            "one direction captured: a fact about the capture",
            changed(base(), |s| {
                s.captured_directions = Directions::ClientToServer;
                s.one_direction_frame = Some(5);
            }),
            vec![want(OneDirectionCaptured, Info, &[1, 5], &[])],
        ),
        row("both directions captured: the one-direction frame says nothing", changed(base(), |s| s.one_direction_frame = Some(5)), vec![]),
        row(
            "a password in clear text: told once per capture (diagnose::credentials), not a finding of the session",
            changed(base(), |s| {
                s.user = Some("alice".into());
                s.password_frame = Some(4);
            }),
            vec![],
        ),
        row(
            "TLS, its probable data connections fine",
            changed(base(), |s| {
                s.tls = true;
                s.tls_frame = Some(6);
                s.probable_data_channels = vec![connection(DATA_CLIENT, "203.0.113.5:50000", Established, 20)];
            }),
            vec![want(ControlChannelEncrypted, Info, &[6, 20], &[])],
        ),
        row(
            "TLS, a probable data connection refused: the helper cannot help",
            changed(base(), |s| {
                s.tls = true;
                s.tls_frame = Some(6);
                s.probable_data_channels = vec![connection(DATA_CLIENT, "203.0.113.5:50000", Refused, 20)];
            }),
            vec![
                want(ControlChannelEncrypted, Error, &[6, 20], &["HelperBlindUnderTls", SERVER_PASSIVE, FORWARD]),
                want(DataConnectionFailed, Error, &[21, 20], &[FORWARD]).caused_by(0),
            ],
        ),
        row(
            "malformed lines the parser met",
            changed(base(), |s| {
                let line = |frame, kind| Anomaly { frame, kind, reason: format!("reason {frame}"), excerpt: String::new() };
                s.anomalies = vec![line(7, "malformed_command"), line(8, "malformed_reply")];
            }),
            vec![want(MalformedCommand, Info, &[7], &[]), want(MalformedReply, Info, &[8], &[])],
        ),
    ]
}

fn leak_rows() -> Vec<Row> {
    let base = || session(CLIENT, SERVER);
    let leaked = "10.0.0.20:40000";
    let leak_fix: &[&str] = &[SERVER_PASSIVE, FORWARD];
    vec![
        row(
            "passive leak, nothing followed: the leak, and the connection not seen (a failed transfer) as its consequence",
            negotiating(base(), vec![passive(leaked)]),
            vec![want(PrivateAddressLeak, Error, &[11], leak_fix), want(DataConnectionNotSeen, Error, &[11], &[FORWARD]).caused_by(0)],
        ),
        row(
            "passive leak, the client's SYNs to it unanswered",
            negotiating(base(), vec![passive(leaked).connected(DATA_CLIENT, leaked, Unanswered)]),
            vec![
                want(PrivateAddressLeak, Error, &[11, 12], leak_fix),
                want(DataConnectionFailed, Error, &[11, 12], &[FORWARD, SERVER_PASSIVE]).caused_by(0),
            ],
        ),
        row(
            "passive leak worked around: the client went to the control address",
            negotiating(base(), vec![passive(leaked).connected(DATA_CLIENT, "203.0.113.5:40000", Established).transfer("LIST", 226, "ok")]),
            vec![want(PrivateAddressLeak, Warning, &[11, 12, 15], leak_fix)],
        ),
        row(
            "passive leak ignored, the control address's port unanswered: a forwarding error, the leak a warning beside it",
            negotiating(base(), vec![passive(leaked).connected(DATA_CLIENT, "203.0.113.5:40000", Unanswered)]),
            vec![
                want(PrivateAddressLeak, Warning, &[11, 12], leak_fix),
                want(DataConnectionFailed, Error, &[11, 12], &[FORWARD, SERVER_PASSIVE]),
            ],
        ),
        row(
            "passive leak ignored, the control address's port refused: the same",
            negotiating(base(), vec![passive(leaked).connected(DATA_CLIENT, "203.0.113.5:40000", Refused)]),
            vec![
                want(PrivateAddressLeak, Warning, &[11, 12, 13], leak_fix),
                want(DataConnectionFailed, Error, &[11, 12, 13], &[FORWARD, SERVER_PASSIVE]),
            ],
        ),
        row(
            "passive leak, and yet the advertised address answered (a VPN)",
            negotiating(base(), vec![passive(leaked).connected(DATA_CLIENT, leaked, Established)]),
            vec![want(PrivateAddressLeak, Warning, &[11, 12], leak_fix)],
        ),
        row(
            "passive leak, tried, and the transfer completed where the capture does not see",
            negotiating(
                base(),
                vec![passive(leaked).transfer("RETR f", 226, "ok").with(|n| {
                    n.data.outcome = Unknown;
                    n.data.earlier_attempts = vec![connection(DATA_CLIENT, leaked, Unanswered, 12)];
                })],
            ),
            vec![want(PrivateAddressLeak, Warning, &[11, 12, 15], leak_fix)],
        ),
        row(
            "passive leak, the transfer rejected: 425 with no connection means forwarding",
            negotiating(
                base(),
                vec![passive(leaked).transfer("LIST", 425, "Can't open data connection.").with(|n| n.data.outcome = Rejected)],
            ),
            vec![
                want(PrivateAddressLeak, Error, &[11, 15], leak_fix),
                want(DataCommandRejected, Error, &[10, 15], &[FORWARD]).caused_by(0),
            ],
        ),
        row(
            "passive leak, outcome unknown: a warning, raised to an error by the transfer broken after it",
            negotiating(
                base(),
                vec![passive(leaked).transfer("RETR f", 426, "Failure writing network stream.").with(|n| n.data.outcome = Unknown)],
            ),
            vec![want(PrivateAddressLeak, Error, &[11, 15], leak_fix), want(DataCommandRejected, Error, &[10, 15], &[]).caused_by(0)],
        ),
        row(
            "active leak rewritten by the client's router: the rewrite is its consequence",
            negotiating(base(), vec![active("192.168.1.10:50000").connected("203.0.113.5:20", "192.168.1.10:50000", Established)]),
            vec![
                want(PrivateAddressLeak, Warning, &[10, 12], &[USE_PASSIVE]),
                want(AlgRewrite, Info, &[10, 12], &["PrepareForTls"]).caused_by(0),
            ],
        ),
        row(
            "active leak, no connection back: passive mode, or the client's router helper",
            negotiating(base(), vec![active("192.168.1.10:50000")]),
            vec![want(PrivateAddressLeak, Warning, &[10], &[USE_PASSIVE, CLIENT_HELPER])],
        ),
        row(
            "active leak, the server's connection back unanswered: the client cannot be reached",
            negotiating(base(), vec![active("192.168.1.10:50000").connected("203.0.113.5:20", "192.168.1.10:50000", Unanswered)]),
            vec![
                want(PrivateAddressLeak, Error, &[10, 12], &[USE_PASSIVE, CLIENT_HELPER]),
                want(DataConnectionFailed, Error, &[10, 12], &[USE_PASSIVE, CLIENT_HELPER]).caused_by(0),
            ],
        ),
        row(
            "two identical leaks are one finding, counted twice",
            negotiating(
                base(),
                vec![
                    passive(leaked),
                    passive(leaked).with(|n| {
                        n.frame = 20;
                        n.reply_frame = Some(21);
                        n.time = Timestamp(5 * SECOND);
                    }),
                ],
            ),
            vec![
                want(PrivateAddressLeak, Error, &[11, 21], leak_fix).times(2),
                want(DataConnectionNotSeen, Error, &[11, 21], &[FORWARD]).caused_by(0).times(2),
            ],
        ),
    ]
}

fn address_rows() -> Vec<Row> {
    let base = || session(CLIENT, SERVER);
    let elsewhere = "198.51.100.20:50000";
    vec![
        row(
            "passive, another public address, the transfer worked: NAT set up as meant",
            negotiating(base(), vec![passive(elsewhere).connected(DATA_CLIENT, elsewhere, Established).transfer("LIST", 226, "ok")]),
            vec![want(AddressMismatch, Info, &[11, 12, 15], &[])],
        ),
        row(
            "passive, another public address, unanswered: check it, and the failure is its consequence",
            negotiating(base(), vec![passive(elsewhere).connected(DATA_CLIENT, elsewhere, Unanswered)]),
            vec![
                want(AddressMismatch, Error, &[11, 12], &["CheckExternalAddress", FORWARD]),
                want(DataConnectionFailed, Error, &[11, 12], &[FORWARD, ALLOW, SERVER_PASSIVE]).caused_by(0),
            ],
        ),
        row(
            "passive, another public address, nothing followed: not seen (a failed transfer) is a problem of its own",
            negotiating(base(), vec![passive(elsewhere)]),
            vec![want(AddressMismatch, Info, &[11], &[]), want(DataConnectionNotSeen, Error, &[11], &[FORWARD, ALLOW])],
        ),
        row(
            "captured at the server behind NAT, the client never arrived: an error, forward the port",
            negotiating(session(PUBLIC_CLIENT, LAN_SERVER), vec![passive("203.0.113.5:50000")]),
            vec![want(AddressMismatch, Info, &[11], &[]), want(DataConnectionNotSeen, Error, &[11], &[FORWARD, "ServerPassiveRange"])],
        ),
        row(
            "a client that moves on at once never meant to connect",
            negotiating(
                base(),
                vec![
                    passive("203.0.113.5:50000"),
                    passive("203.0.113.5:50001")
                        .with(|n| n.time = Timestamp(SECOND + SECOND / 5))
                        .connected(DATA_CLIENT, "203.0.113.5:50001", Established)
                        .transfer("LIST", 226, "ok"),
                ],
            ),
            vec![],
        ),
        row(
            "PORT naming a third host: a bounce",
            negotiating(session(PUBLIC_CLIENT, SERVER), vec![active("198.51.100.99:8080")]),
            vec![want(BounceAttempt, Warning, &[10], &["RefuseForeignAddress"])],
        ),
        row(
            "active to a public client, the server's connection refused: let it through",
            negotiating(
                session(PUBLIC_CLIENT, SERVER),
                vec![active("198.51.100.7:50000").connected("203.0.113.5:20", "198.51.100.7:50000", Refused)],
            ),
            vec![want(DataConnectionFailed, Error, &[10, 12, 13], &[USE_PASSIVE, "AllowActiveData"])],
        ),
        row(
            "active to a public client refused, then passive mode carried the transfer: the client fell back, a warning",
            negotiating(
                session(PUBLIC_CLIENT, SERVER),
                vec![
                    active("198.51.100.7:50000").connected("203.0.113.5:20", "198.51.100.7:50000", Refused),
                    passive("203.0.113.5:50000")
                        .connected("198.51.100.7:40001", "203.0.113.5:50000", Established)
                        .transfer("LIST", 226, "Transfer complete.")
                        .with(|n| n.frame = 20),
                ],
            ),
            vec![want(DataConnectionFailed, Warning, &[10, 12, 13], &[USE_PASSIVE, "AllowActiveData"])],
        ),
        row(
            "passive refused earlier (diagnose::fallback), then a private PORT: fix passive mode first, not 'use passive mode'",
            {
                let mut s =
                    negotiating(base(), vec![active("192.168.1.10:50000").connected("203.0.113.5:20", "192.168.1.10:50000", Unanswered)]);
                s.passive_failed_first =
                    Some(crate::model::PassiveFailure { session: 0, frame: 5, time: Timestamp(5), session_ended: Timestamp(6) });
                s
            },
            vec![
                want(PrivateAddressLeak, Error, &[10, 12], &["FixPassiveFirst", CLIENT_HELPER]),
                want(DataConnectionFailed, Error, &[10, 12], &["FixPassiveFirst", CLIENT_HELPER]).caused_by(0),
            ],
        ),
        row(
            "passive failed earlier (diagnose::fallback), then active mode to a public client worked: a note, the fix is passive mode",
            {
                let mut s = negotiating(
                    session(PUBLIC_CLIENT, SERVER),
                    vec![active("198.51.100.7:50000").connected("203.0.113.5:20", "198.51.100.7:50000", Established)],
                );
                s.passive_failed_first =
                    Some(crate::model::PassiveFailure { session: 0, frame: 5, time: Timestamp(5), session_ended: Timestamp(6) });
                s
            },
            vec![want(FellBackToActive, Info, &[10, 12], &["FixPassiveFirst"])],
        ),
        row(
            "passive to the server itself, refused: nothing listens, the failure is the problem",
            negotiating(base(), vec![passive("203.0.113.5:50000").connected(DATA_CLIENT, "203.0.113.5:50000", Refused)]),
            vec![want(DataConnectionFailed, Error, &[11, 12, 13], &[FORWARD, ALLOW, SERVER_RANGE])],
        ),
        row(
            "passive 227 that cannot be read",
            negotiating(base(), vec![negotiation(NegotiationCommand::PASV, None, 227).with(|n| n.malformed = Some("no address"))]),
            vec![want(MalformedReply, Warning, &[11], &[])],
        ),
        row(
            "PORT that cannot be read",
            negotiating(base(), vec![negotiation(NegotiationCommand::PORT, None, 500).with(|n| n.malformed = Some("5 numbers"))]),
            vec![want(MalformedCommand, Warning, &[10], &[]), want(DataCommandRejected, Error, &[10, 11], &[])],
        ),
    ]
}

fn intent_rows() -> Vec<Row> {
    let base = || session(CLIENT, SERVER);
    let public = Intent { public_ip: Some(ip("203.0.113.9")), ..Intent::default() };
    let range = Intent { pasv_range: Some(PortRange { lo: 50000, hi: 50100 }), ..Intent::default() };
    vec![
        with_intent(
            "a public address other than intended, the transfer worked",
            public,
            negotiating(base(), vec![passive("203.0.113.5:50000").connected(DATA_CLIENT, "203.0.113.5:50000", Established)]),
            vec![want(UnexpectedPublicAddress, Warning, &[11, 12], &[SERVER_PASSIVE])],
        ),
        with_intent(
            "a public address other than intended, unanswered: the cause of the failure",
            public,
            negotiating(base(), vec![passive("203.0.113.5:50000").connected(DATA_CLIENT, "203.0.113.5:50000", Unanswered)]),
            vec![
                want(UnexpectedPublicAddress, Error, &[11, 12], &[SERVER_PASSIVE]),
                want(DataConnectionFailed, Error, &[11, 12], &[FORWARD, ALLOW, SERVER_PASSIVE]).caused_by(0),
            ],
        ),
        with_intent(
            "another public address than the server's and than intended: the intent names the cause",
            public,
            negotiating(base(), vec![passive("198.51.100.20:50000").connected(DATA_CLIENT, "198.51.100.20:50000", Unanswered)]),
            vec![
                want(AddressMismatch, Error, &[11, 12], &["CheckExternalAddress", FORWARD]),
                want(UnexpectedPublicAddress, Error, &[11, 12], &[SERVER_PASSIVE]),
                want(DataConnectionFailed, Error, &[11, 12], &[FORWARD, ALLOW, SERVER_PASSIVE]).caused_by(1),
            ],
        ),
        with_intent(
            "a port outside the intended range, the transfer worked",
            range,
            negotiating(base(), vec![passive("203.0.113.5:40000").connected(DATA_CLIENT, "203.0.113.5:40000", Established)]),
            vec![want(PortOutsideRange, Warning, &[11, 12], &[SERVER_PASSIVE])],
        ),
        with_intent(
            "a port outside the intended range, refused: the range is known, not to be set",
            range,
            negotiating(base(), vec![passive("203.0.113.5:40000").connected(DATA_CLIENT, "203.0.113.5:40000", Refused)]),
            vec![
                want(PortOutsideRange, Error, &[11, 12, 13], &[SERVER_PASSIVE]),
                want(DataConnectionFailed, Error, &[11, 12, 13], &[FORWARD, ALLOW]).caused_by(0),
            ],
        ),
    ]
}

fn rejection_rows() -> Vec<Row> {
    let base = || session(CLIENT, SERVER);
    let worked = || passive("203.0.113.5:50000").connected(DATA_CLIENT, "203.0.113.5:50000", Established);
    let public = || session(PUBLIC_CLIENT, SERVER);
    vec![
        row(
            "PORT refused by the server's anti-bounce check",
            negotiating(
                public(),
                vec![active("198.51.100.7:50000").with(|n| {
                    n.reply_code = Some(500);
                    n.reply_text = Some("Illegal PORT command.".into());
                })],
            ),
            vec![want(DataCommandRejected, Error, &[10, 11], &[USE_PASSIVE, "KeepAntiBounce"])],
        ),
        row(
            "PORT refused, then the client's next negotiation, passive, carried the transfer: it fell back, a warning",
            negotiating(
                public(),
                vec![
                    active("198.51.100.7:50000").with(|n| {
                        n.reply_code = Some(500);
                        n.reply_text = Some("Illegal PORT command.".into());
                        n.data.outcome = Rejected;
                    }),
                    worked().transfer("LIST", 226, "Transfer complete.").with(|n| n.frame = 20),
                ],
            ),
            vec![want(DataCommandRejected, Warning, &[10, 11], &[USE_PASSIVE, "KeepAntiBounce"])],
        ),
        row(
            "the data connection came from another address than the control's",
            negotiating(base(), vec![worked().transfer("LIST", 425, "Security: Bad IP connecting.")]),
            vec![want(DataCommandRejected, Error, &[10, 15], &["SameNatAddress"])],
        ),
        row(
            "passive 425, no connection came: forward or let in the passive port",
            negotiating(
                base(),
                vec![passive("203.0.113.5:50000")
                    .transfer("LIST", 425, "Failed to establish connection.")
                    .with(|n| n.data.outcome = Rejected)],
            ),
            vec![want(DataCommandRejected, Error, &[10, 15], &[FORWARD, ALLOW])],
        ),
        row(
            "passive 425 with a connection: the server's passive settings",
            negotiating(base(), vec![worked().transfer("LIST", 425, "Failed to establish connection.")]),
            vec![want(DataCommandRejected, Error, &[10, 15], &[SERVER_PASSIVE])],
        ),
        row(
            "active 425 to the client's own public address, nothing seen: passive mode, or let the server's connection through",
            negotiating(
                public(),
                vec![active("198.51.100.7:50000").transfer("LIST", 425, "Can't open data connection.").with(|n| n.data.outcome = Rejected)],
            ),
            vec![want(DataCommandRejected, Error, &[10, 15], &[USE_PASSIVE, "AllowActiveData"])],
        ),
        row(
            "426, the transfer broken: no fix to give",
            negotiating(base(), vec![worked().transfer("RETR f", 426, "Failure writing network stream.")]),
            vec![want(DataCommandRejected, Error, &[10, 15], &[])],
        ),
        row(
            "226 after fewer bytes than the 150 announced: incomplete, with the frame where the bytes stopped",
            negotiating(base(), vec![worked().transfer("RETR f", 226, "Transfer complete.").with(|n| n.data.record = Some(cut_short()))]),
            vec![want(TransferIncomplete, Error, &[14, 20, 15], &[])],
        ),
        row(
            "a TYPE A download whose first bytes hold NUL: a binary file in ASCII mode",
            negotiating(
                base(),
                vec![worked().transfer("RETR f", 226, "Transfer complete.").with(|n| n.data.record = Some(binary_in_ascii()))],
            ),
            vec![want(AsciiModeBinary, Warning, &[14, 12], &[])],
        ),
        row(
            "426 answering the client's ABOR: no data-channel problem, but the file did not come whole",
            negotiating(
                base(),
                vec![worked().transfer("RETR f", 426, "Failure writing network stream.").with(|n| n.data.aborted_frame = Some(14))],
            ),
            vec![want(TransferFailed, Error, &[14, 15], &[])],
        ),
        row(
            "PASV refused outright",
            negotiating(base(), vec![negotiation(NegotiationCommand::PASV, None, 502)]),
            vec![want(DataCommandRejected, Error, &[10, 11], &[])],
        ),
        row(
            "a transfer refused for its own reasons (550) is not a data-channel problem, but a failed transfer",
            negotiating(base(), vec![worked().transfer("RETR f", 550, "No such file.")]),
            vec![want(TransferFailed, Error, &[14, 15], &[])],
        ),
        row(
            "a transfer the server never answered before the control connection closed: failed",
            negotiating(base(), vec![worked().with(|n| n.data.command_frame = Some(14)).with(|n| n.data.command = Some("RETR f".into()))]),
            vec![want(TransferFailed, Error, &[14], &[])],
        ),
        row(
            "a transfer without its reply when the capture ended: not known, no finding",
            negotiating(
                changed(base(), |s| s.end = EndReason::CaptureEnd),
                vec![worked().with(|n| n.data.command_frame = Some(14)).with(|n| n.data.command = Some("RETR f".into()))],
            ),
            vec![],
        ),
        row(
            "a transfer whose data connection failed: data_connection_failed tells it, no second finding",
            negotiating(
                base(),
                vec![passive("203.0.113.5:50000").connected(DATA_CLIENT, "203.0.113.5:50000", Unanswered).transfer(
                    "RETR f",
                    550,
                    "Failed to open file.",
                )],
            ),
            vec![want(DataConnectionFailed, Error, &[11, 12, 15], &[FORWARD, ALLOW, SERVER_RANGE])],
        ),
    ]
}

/// A refusal of `step` for `user`: the command in frame `frame - 1`, the reply in `frame`.
fn refusal(step: Option<LoginStep>, user: Option<&str>, frame: u64, code: u16, text: &str) -> Refusal {
    Refusal {
        step,
        command_frame: step.map(|_| frame - 1),
        user: user.map(String::from),
        code,
        frame,
        time: Timestamp(frame as i64 * SECOND),
        text: text.to_string(),
    }
}

/// `software`'s session whose login met these refusals; the server's last reply is the last
/// refusal's, and the session logged in at `accepted` if given.
fn refused(software: Software, refusals: Vec<Refusal>, accepted: Option<u64>) -> Session {
    changed(session(CLIENT, SERVER), |s| {
        s.software = software;
        s.login.last_reply_frame = refusals.iter().map(|r| r.frame).chain(accepted).max();
        for r in refusals {
            s.login.refuse(r);
        }
        s.login.accepted_frame = accepted;
    })
}

fn login_rows() -> Vec<Row> {
    use LoginStep::{Other, Pass, User};
    use Software::{ProFtpd, Vsftpd};
    vec![
        row(
            "a wrong password: nothing on the server to change",
            refused(Vsftpd, vec![refusal(Some(Pass), Some("alice"), 6, 530, "Login incorrect.")], None),
            vec![want(LoginFailed, Error, &[5, 6], &["CheckCredentials"])],
        ),
        row(
            "a typo: a later try in the session got in",
            refused(Vsftpd, vec![refusal(Some(Pass), Some("alice"), 6, 530, "Login incorrect.")], Some(10)),
            vec![want(LoginFailed, Warning, &[5, 6], &[])],
        ),
        row(
            "vsftpd anonymous only: local_enable",
            refused(Vsftpd, vec![refusal(Some(Pass), Some("alice"), 6, 530, "This FTP server is anonymous only.")], None),
            vec![want(LoginFailed, Error, &[5, 6], &["AllowLocalLogins"])],
        ),
        row(
            "vsftpd userlist: refused at USER",
            refused(Vsftpd, vec![refusal(Some(User), Some("alice"), 4, 530, "Permission denied.")], None),
            vec![want(LoginFailed, Error, &[3, 4], &["UnlistUser"])],
        ),
        row(
            "anonymous refused",
            refused(Vsftpd, vec![refusal(Some(Pass), Some("anonymous"), 6, 530, "Login incorrect.")], None),
            vec![want(LoginFailed, Error, &[5, 6], &["AllowAnonymous"])],
        ),
        row(
            "PASS before USER",
            refused(Vsftpd, vec![refusal(Some(Pass), None, 4, 503, "Login with USER first.")], None),
            vec![want(LoginFailed, Error, &[3, 4], &["LoginFirst"])],
        ),
        row(
            "never logged in, then a transfer refused for it (530): the login's consequence",
            negotiating(
                refused(Vsftpd, vec![refusal(Some(Pass), Some("alice"), 6, 530, "Login incorrect.")], None),
                vec![negotiation(NegotiationCommand::PASV, None, 530)
                    .with(|n| n.reply_text = Some("Please login with USER and PASS.".into()))],
            ),
            vec![want(LoginFailed, Error, &[5, 6], &["CheckCredentials"]), want(DataCommandRejected, Error, &[10, 11], &[]).caused_by(0)],
        ),
        row(
            "a command before the login refused, then the login: how clients probe, nothing to say",
            refused(Vsftpd, vec![refusal(Some(Other), None, 4, 530, "Please login with USER and PASS.")], Some(8)),
            vec![],
        ),
        row(
            "vsftpd requires TLS: told as that, not as a failed login",
            refused(Vsftpd, vec![refusal(Some(User), Some("alice"), 4, 530, "Non-anonymous sessions must use encryption.")], None),
            vec![want(TlsRequired, Error, &[3, 4], &["ClientExplicitTls", "HelperBlindUnderTls", "AllowClearLogins"])],
        ),
        row(
            "ProFTPD requires TLS",
            refused(ProFtpd, vec![refusal(Some(User), Some("alice"), 4, 550, "SSL/TLS required on the control channel")], None),
            vec![want(TlsRequired, Error, &[3, 4], &["ClientExplicitTls", "HelperBlindUnderTls", "AllowClearLogins"])],
        ),
        row(
            "a greeting that refuses: too many from the address, the limit raised from the server's block",
            refused(Vsftpd, vec![refusal(None, None, 2, 421, "There are too many connections from your internet address.")], None),
            vec![want(ServiceRefused, Error, &[2], &["RaiseConnectionLimit"])],
        ),
        row(
            "vsftpd's writable chroot",
            refused(
                Vsftpd,
                vec![refusal(Some(Pass), Some("alice"), 6, 500, "OOPS: vsftpd: refusing to run with writable root inside chroot()")],
                None,
            ),
            vec![want(ServiceRefused, Error, &[5, 6], &["AllowWritableChroot"])],
        ),
        row(
            "vsftpd's bind failure, then its parent's `child died`: one end of the session",
            refused(
                Vsftpd,
                vec![refusal(None, None, 34, 500, "OOPS: vsf_sysutil_bind"), refusal(None, None, 34, 500, "OOPS: child died")],
                None,
            ),
            vec![want(ServiceRefused, Error, &[34], &[])],
        ),
        row(
            "an OOPS the server talked on after: it ended nothing",
            changed(refused(Vsftpd, vec![refusal(None, None, 6, 500, "OOPS: something")], None), |s| s.login.last_reply_frame = Some(9)),
            vec![],
        ),
        row(
            "an idle timeout's 421: the client left it idle, nothing was refused",
            refused(Vsftpd, vec![refusal(None, None, 60, 421, "Timeout.")], Some(6)),
            vec![],
        ),
        row(
            "the server hung up right after the password",
            changed(session(CLIENT, SERVER), |s| {
                s.login.unanswered = Some((Pass, 6));
                s.login.closed_by = Some((Side::Server, 7));
            }),
            vec![want(ServiceRefused, Error, &[6, 7], &[])],
        ),
        row(
            "the server hung up right after its greeting",
            changed(session(CLIENT, SERVER), |s| {
                (s.commands, s.banner) = (0, Some("(vsFTPd 3.0.3)".into()));
                s.login.closed_by = Some((Side::Server, 3));
            }),
            vec![want(ServiceRefused, Error, &[1, 3], &[])],
        ),
        row(
            "the server's side alone, its close after the greeting: the client's silence is the capture's",
            changed(session(CLIENT, SERVER), |s| {
                (s.commands, s.banner, s.captured_directions) = (0, Some("(vsFTPd 3.0.3)".into()), Directions::ServerToClient);
                s.login.closed_by = Some((Side::Server, 3));
            }),
            vec![],
        ),
        row(
            "the client hung up after the greeting: a health check, not a refusal",
            changed(session(CLIENT, SERVER), |s| {
                (s.commands, s.banner) = (0, Some("(vsFTPd 3.0.3)".into()));
                s.login.closed_by = Some((Side::Client, 3));
            }),
            vec![],
        ),
    ]
}

#[test]
fn each_decision_gives_its_findings() {
    let rows: Vec<Row> =
        [control_rows(), leak_rows(), address_rows(), intent_rows(), rejection_rows(), login_rows()].into_iter().flatten().collect();
    let mut failed = Vec::new();
    for r in &rows {
        let cx = Context { intent: r.intent, server_block: true };
        let found = session_findings(&r.session, &cx);
        assert!(found.iter().all(|f| f.session == ID), "{}: every finding names its session", r.name);
        let found: Vec<Want> = found.iter().map(got).collect();
        if found != r.want {
            failed.push(format!("{}:\n  want {:?}\n  got  {:?}", r.name, r.want, found));
        }
    }
    assert!(failed.is_empty(), "{} of {} rows:\n{}", failed.len(), rows.len(), failed.join("\n"));
    // Every kind diagnosis produces, in every severity it can have, has a row.
    let seen = |kind: FindingKind, severity: Severity| rows.iter().flat_map(|r| &r.want).any(|w| w.kind == kind && w.severity == severity);
    let missing: Vec<_> = all_kinds_and_severities().into_iter().filter(|&(k, s)| !seen(k, s)).collect();
    // Across sessions: [`alg_rewrite_across_a_nat_router`].
    assert!(missing.is_empty(), "no row for {missing:?}");
}

/// Each kind diagnosis produces (from one session's record) with the severities its code can
/// give it. Exhaustive: a new kind does not compile until it is listed here, and its rows added.
fn all_kinds_and_severities() -> Vec<(FindingKind, Severity)> {
    let severities = |k: FindingKind| -> &'static [Severity] {
        match k {
            PrivateAddressLeak => &[Warning, Error],
            AddressMismatch => &[Info, Error],
            // A warning when the client fell back to passive mode, which carried the transfer.
            DataConnectionFailed => &[Warning, Error],
            DataCommandRejected => &[Warning, Error],
            BounceAttempt => &[Warning],
            ControlChannelEncrypted => &[Info, Error],
            AlgRewrite => &[Info],
            NonstandardControlPort => &[Info],
            // Once per capture (diagnose::credentials), not from one session's record.
            CleartextCredentials => &[],
            MalformedReply => &[Info, Warning],
            MalformedCommand => &[Info, Warning],
            // Live capture only (live::drops), not diagnosis.
            CaptureDrops => &[],
            DataConnectionNotSeen => &[Error],
            PortOutsideRange => &[Warning, Error],
            UnexpectedPublicAddress => &[Warning, Error],
            UnexpectedControlPort => &[Warning],
            OneDirectionCaptured => &[Info],
            TransferFailed | TransferIncomplete => &[Error],
            AsciiModeBinary => &[Warning],
            FellBackToActive => &[Info],
            // Outside any session (diagnose::unclaimed, tested there), not from a record.
            ControlConnectionFailed | DataWithoutControl => &[],
            LoginFailed => &[Warning, Error],
            ServiceRefused | TlsRequired => &[Error],
            // Across sessions (diagnose::guessing, tested there).
            PasswordGuessing => &[],
        }
    };
    let kinds = [
        PrivateAddressLeak,
        AddressMismatch,
        DataConnectionFailed,
        DataCommandRejected,
        BounceAttempt,
        ControlChannelEncrypted,
        AlgRewrite,
        NonstandardControlPort,
        CleartextCredentials,
        MalformedReply,
        MalformedCommand,
        CaptureDrops,
        DataConnectionNotSeen,
        PortOutsideRange,
        UnexpectedPublicAddress,
        UnexpectedControlPort,
        OneDirectionCaptured,
        ControlConnectionFailed,
        DataWithoutControl,
        TransferFailed,
        TransferIncomplete,
        AsciiModeBinary,
        LoginFailed,
        ServiceRefused,
        TlsRequired,
        PasswordGuessing,
        FellBackToActive,
    ];
    kinds.into_iter().flat_map(|k| severities(k).iter().map(move |&s| (k, s))).collect()
}

/// Both copies of one control connection, before and after a NAT router (DNAT in front of the
/// server): the inside copy advertises the server's LAN address, the outside one the router's.
fn copies(isn: u32) -> (Session, Session) {
    let copy = |id, server: &str, advertised: &str, reply_frame| {
        let mut s = negotiating(session(PUBLIC_CLIENT, server), vec![passive(advertised).with(|n| n.reply_frame = Some(reply_frame))]);
        s.id = id;
        s.user = Some("alice".into());
        s.control = ControlStats { client_isn: Some(isn), server_isn: Some(500), ..ControlStats::default() };
        s
    };
    (copy(1, LAN_SERVER, "10.0.0.20:50000", 11), copy(2, SERVER, "203.0.113.5:50000", 111))
}

#[test]
fn alg_rewrite_across_a_nat_router() {
    let (inside, outside) = copies(100);
    let mut pairing = NatPairing::default();
    assert!(pairing.settle(&inside, Timestamp(10 * SECOND)).is_empty(), "its other copy has not settled yet");
    let found = pairing.settle(&outside, Timestamp(11 * SECOND));
    let want = vec![want(AlgRewrite, Info, &[11, 111], &["PrepareForTls"])];
    assert_eq!(found.iter().map(got).collect::<Vec<_>>(), want);
    assert_eq!(found[0].session, 1, "named by the inside copy");
    assert!(matches!(found[0].fix[..], [Fix::PrepareForTls { mode: Mode::Passive }]));

    // Another connection that only shares the client's endpoint (its own sequence numbers).
    let (inside, _) = copies(100);
    let (_, other) = copies(999);
    let mut pairing = NatPairing::default();
    pairing.settle(&inside, Timestamp(10 * SECOND));
    assert!(pairing.settle(&other, Timestamp(11 * SECOND)).is_empty());

    // Copies whose start times sit at the two ends of capture time (if_tsoffset on two
    // interfaces of one pcapng): 584 years apart, not one connection, and no wrap (debug builds
    // panic on one).
    let (mut inside, mut outside) = copies(100);
    (inside.start_time, outside.start_time) = (Timestamp(i64::MIN), Timestamp(i64::MAX));
    let mut pairing = NatPairing::default();
    pairing.settle(&outside, Timestamp(10 * SECOND));
    assert!(pairing.settle(&inside, Timestamp(11 * SECOND)).is_empty());
}

/// Copies are one connection only when their texts are equal, not their digests: two users
/// (or banners) whose digests collide are two connections.
#[test]
fn copies_with_other_texts_are_other_connections_whatever_their_digests() {
    let [a, b] = crate::model::finding::COLLIDING_TEXTS;
    for user in [true, false] {
        let (mut inside, mut outside) = copies(100);
        let (x, y) = if user { (&mut inside.user, &mut outside.user) } else { (&mut inside.banner, &mut outside.banner) };
        (*x, *y) = (Some(a.into()), Some(b.into()));
        let mut pairing = NatPairing::default();
        pairing.settle(&inside, Timestamp(10 * SECOND));
        assert!(pairing.settle(&outside, Timestamp(11 * SECOND)).is_empty(), "user {user}");
        // The same texts: one connection.
        let (mut inside, mut outside) = copies(100);
        if user {
            (inside.user, outside.user) = (Some(a.into()), Some(a.into()));
        } else {
            (inside.banner, outside.banner) = (Some(b.into()), Some(b.into()));
        }
        pairing.settle(&inside, Timestamp(20 * SECOND));
        assert_eq!(pairing.settle(&outside, Timestamp(21 * SECOND)).len(), 1, "user {user}");
    }
}

/// The texts a digest holds are given back when it expires: none are kept past their sessions.
#[test]
fn nat_pairing_holds_its_texts_only_while_it_holds_their_sessions() {
    let mut pairing = NatPairing::default();
    for i in 0..100 {
        let (mut s, _) = copies(i);
        s.user = Some(format!("user{i}"));
        s.banner = Some("220 (vsFTPd 3.0.5)".into());
        pairing.settle(&s, Timestamp(i64::from(i) * SECOND));
    }
    // 15 s kept: the last 15 digests, 15 users and the one banner.
    assert_eq!((pairing.len(), pairing.texts()), (15, 16));
    pairing.settle(&copies(0).0, Timestamp(1000 * SECOND));
    assert_eq!((pairing.len(), pairing.texts()), (1, 1));
}

/// A capture that settles more sessions within 15 s than pairing keeps holds the newest and
/// counts the rest, which still pair with a copy that settles just after them.
#[test]
fn nat_pairing_holds_at_most_its_bound_and_counts_what_it_let_go() {
    let mut pairing = NatPairing::default();
    let at = Timestamp(10 * SECOND);
    for i in 0..MAX_KEPT as u32 + 10 {
        pairing.settle(&copies(i).0, at);
    }
    assert_eq!((pairing.len(), pairing.dropped), (MAX_KEPT, 10));
    let (inside, outside) = copies(1_000_000);
    pairing.settle(&inside, at);
    assert_eq!(pairing.settle(&outside, Timestamp(11 * SECOND)).len(), 1, "the newest still pair");
    assert_eq!(pairing.dropped, 12);
}
