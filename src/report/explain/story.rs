//! A problem session's story as values: who talks to whom, what was negotiated, what the wire
//! showed, why it failed (the causes the findings name) and what to change (their fixes). Built
//! from the settled record; report::explain::words says it (the causes' words are the kinds',
//! problems/).
//!
//! Owns which facts a narrative tells and in what order. Must not judge (the findings do) nor
//! word anything.

use crate::model::{
    AddressClass, Connection, Content, Directions, Finding, FindingKind, Fix, Icmp, LoginStep, Mode, Negotiation, NegotiationCommand,
    Outcome, Protection, Session, Severity, Side, Software, Text,
};
pub use crate::problems::Cause;
use crate::report::ladder::worth_telling;
use serde::Serialize;
use std::net::SocketAddr;

/// The facts, in the order they are told.
#[derive(Debug, Clone, Serialize)]
pub struct Story {
    pub steps: Vec<Fact>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum Fact {
    /// The control connection and who is at each end.
    Parties { client: SocketAddr, server: SocketAddr, frame: u64, software: Software, banner: Option<String>, user: Option<String> },
    /// AUTH TLS answered 234 in `frame` (`by` TLS), or the first line protected by RFC 2228's
    /// mechanism crossed in `frame` (`by` GSSAPI): nothing after it is readable.
    Encrypted { frame: u64, by: Protection },
    /// The server refused a login command (`command`; none: its greeting, or no command) in
    /// `frame`, with the reply's code and first line.
    Refused { frame: u64, command: Option<&'static str>, user: Option<String>, code: u16, reply_text: String },
    /// The server closed the control connection in `frame` without a reply saying why.
    HungUp { frame: u64 },
    /// The client asked for a data channel; in active mode with the address it named.
    Asked { frame: u64, command: NegotiationCommand, mode: Mode, address: Option<SocketAddr>, class: Option<AddressClass> },
    /// The server's answer; in passive mode with the address it advertised.
    Answered { frame: u64, code: u16, reply_text: Option<String>, address: Option<SocketAddr>, class: Option<AddressClass> },
    /// The negotiation got no reply in the capture.
    NotAnswered { command: NegotiationCommand },
    /// With only the client's side captured, a passive reply is not in the capture; the data
    /// connection may show the (unroutable) address it named.
    ReplyNotCaptured { command: NegotiationCommand, implied: Option<(SocketAddr, AddressClass)> },
    /// The data connection's first SYN; a probable one (written `probable`) when the protection
    /// `under` hides its negotiation.
    DataSyn {
        frame: u64,
        from: SocketAddr,
        to: SocketAddr,
        #[serde(rename = "probable", serialize_with = "is_some")]
        under: Option<Protection>,
    },
    /// What answered it.
    DataAnswer { answer: Answer },
    /// The data connection was tried again after a try that did not open.
    TriedAgain,
    /// The tries seen did not open, yet the transfer completed (`reply`, 2xx): the one that
    /// carried it is not in the capture.
    CompletedElsewhere { reply: u16 },
    /// No data connection appeared for the negotiation.
    NoDataConnection { outcome: Outcome },
    /// The transfer command it served and its final reply.
    /// `command` is None when only the server's side was captured (`frame` is then the reply's).
    /// `record` is what it moved, when something crossed or might have.
    /// `content`: what its data connection carried, hashed (`--hash`); absent when not asked.
    Transfer {
        frame: u64,
        command: Option<String>,
        reply: Option<u16>,
        reply_frame: Option<u64>,
        reply_text: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        content: Option<Content>,
        #[serde(skip_serializing_if = "Option::is_none")]
        record: Option<Box<crate::model::transfer_record::TransferRecord>>,
    },
    /// More negotiations than told.
    More { negotiations: u64 },
    /// One cause, with the finding that shows it.
    Why { cause: Cause, finding: FindingKind, severity: Severity, frames: Vec<u64> },
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum Answer {
    Established {
        frame: Option<u64>,
    },
    Refused {
        frame: Option<u64>,
        by: Option<Side>,
    },
    Unreachable {
        frame: Option<u64>,
        icmp: Option<Icmp>,
    },
    /// `syns` SYNs over `seconds`, never answered.
    NoAnswer {
        syns: u64,
        seconds: f64,
    },
    /// The capture ended before anything answered.
    Unknown,
}

/// The findings that make a session a problem: errors and warnings that are causes (a
/// consequence is told with its cause, and its fixes are the cause's).
pub fn problems(session: &Session) -> impl Iterator<Item = &Finding> {
    session.findings.iter().filter(|f| f.severity >= Severity::Warning && f.caused_by.is_none())
}

/// The session's distinct causes, worst first, each with the first finding that shows it.
pub fn causes(session: &Session) -> Vec<(Cause, &Finding)> {
    let mut found: Vec<(Cause, &Finding)> = Vec::new();
    for f in problems(session) {
        let cause = crate::problems::cause(f);
        if !found.iter().any(|(c, _)| *c == cause) {
            found.push((cause, f));
        }
    }
    // Stable: among equals, the order diagnosis found them in.
    found.sort_by_key(|(_, f)| std::cmp::Reverse(f.severity));
    found
}

/// The fixes of the session's problem findings, each once: the errors' first, then in the
/// order diagnosis found them.
pub fn fixes(session: &Session) -> Vec<Fix> {
    let mut problems: Vec<&Finding> = problems(session).collect();
    problems.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let mut fixes: Vec<Fix> = Vec::new();
    for fix in problems.into_iter().flat_map(|f| &f.fix) {
        if !fixes.contains(fix) {
            fixes.push(fix.clone());
        }
    }
    fixes
}

/// The story of `session`.
pub fn story(session: &Session) -> Story {
    let mut steps = vec![Fact::Parties {
        client: session.client,
        server: session.server,
        frame: session.first_frame,
        software: session.software,
        banner: session.banner.clone(),
        user: session.user.clone(),
    }];
    if let Some((frame, by)) = session.protected() {
        steps.push(Fact::Encrypted { frame, by });
    }
    refusals(session, &mut steps);
    let told = worth_telling(session);
    let more = (session.negotiations.len() - told.len()) as u64 + session.negotiations_over_limit;
    // With one direction captured, a missing reply is not a reply the server did not send.
    let replies_seen = session.captured_directions != Directions::ClientToServer;
    for n in told {
        negotiation(n, replies_seen, &mut steps);
    }
    if more > 0 {
        steps.push(Fact::More { negotiations: more });
    }
    let under = session.protected().map(|(_, by)| by);
    for c in session.probable_data_channels.iter().filter(|c| c.outcome.is_failure()).take(crate::report::ladder::PROBABLE_DRAWN) {
        steps.extend(connection(c, under.or(Some(Protection::Tls))));
    }
    for (cause, f) in causes(session) {
        steps.push(Fact::Why { cause, finding: f.kind, severity: f.severity, frames: f.frames.clone() });
    }
    Story { steps }
}

/// Refusals at the login (those a finding names: a command before the login refused and then the
/// login is how clients probe), and a hang-up that is itself the refusal.
fn refusals(session: &Session, steps: &mut Vec<Fact>) {
    let told = |kind| session.findings.iter().any(|f| f.kind == kind);
    if !(told(FindingKind::LoginFailed) || told(FindingKind::ServiceRefused) || told(FindingKind::TlsRequired)) {
        return;
    }
    let login = &session.login;
    for r in login.refusals.iter().filter(|r| !login.probed(r)).take(MAX_REFUSALS_TOLD) {
        let command = r.step.map(LoginStep::as_str);
        steps.push(Fact::Refused { frame: r.frame, command, user: r.user.clone(), code: r.code, reply_text: r.text.clone() });
    }
    let hung_up = session.findings.iter().any(|f| matches!(f.text, Text::ServiceRefused(t) if t.code.is_none()));
    if let (true, Some((Side::Server, frame))) = (hung_up, login.closed_by) {
        steps.push(Fact::HungUp { frame });
    }
}

/// Refusals told in a story; the finding counts the rest.
const MAX_REFUSALS_TOLD: usize = 3;

/// A negotiation's facts in frame order: in active mode the server may connect (and fail)
/// before it replies to PORT.
fn negotiation(n: &Negotiation, replies_seen: bool, steps: &mut Vec<Fact>) {
    let active = n.mode == Mode::Active;
    let (address, class) = (n.advertised, n.advertised_class);
    let mut told: Vec<(u64, Vec<Fact>)> = Vec::new();
    let asked = Fact::Asked {
        frame: n.frame,
        command: n.command,
        mode: n.mode,
        address: address.filter(|_| active),
        class: class.filter(|_| active),
    };
    // A command implied by its reply (only the server's side captured) was not seen asked.
    if !n.command_implied {
        told.push((n.frame, vec![asked]));
    }
    match (n.reply_code, n.reply_frame) {
        (Some(code), Some(frame)) => {
            let (address, class) = (address.filter(|_| !active), class.filter(|_| !active));
            told.push((frame, vec![Fact::Answered { frame, code, reply_text: n.reply_text.clone(), address, class }]));
        }
        _ if replies_seen => told.push((n.frame, vec![Fact::NotAnswered { command: n.command }])),
        _ if !active => {
            let implied = address.zip(class).filter(|_| n.reply_implied);
            told.push((n.frame, vec![Fact::ReplyNotCaptured { command: n.command, implied }]));
        }
        _ => {}
    }
    for c in &n.data.earlier_attempts {
        told.push((c.syn_frame, connection(c, None)));
    }
    if let Some(c) = &n.data.connection {
        let again = (!n.data.earlier_attempts.is_empty()).then_some(Fact::TriedAgain);
        told.push((c.syn_frame, again.into_iter().chain(connection(c, None)).collect()));
    }
    let d = &n.data;
    if let Some(frame) = d.command_frame.or(d.reply_frame) {
        let transfer = Fact::Transfer {
            frame,
            command: d.command.clone(),
            reply: d.reply_code,
            reply_frame: d.reply_frame,
            reply_text: d.reply_text.clone(),
            content: (!d.content.not_asked()).then(|| d.content.clone()),
            record: d.record.as_ref().filter(|r| crate::report::transfer::worth_a_line(r)).map(|r| Box::new(r.clone())),
        };
        told.push((frame, vec![transfer]));
    }
    // Stable: what has no frame of its own stays after what it follows.
    told.sort_by_key(|(frame, _)| *frame);
    steps.extend(told.into_iter().flat_map(|(_, facts)| facts));
    // Known only once everything else was seen.
    match (&n.data.connection, n.data.earlier_attempts.is_empty(), n.data.completed()) {
        (Some(_), ..) => {}
        (None, false, Some(reply)) => steps.push(Fact::CompletedElsewhere { reply }),
        (None, ..) => steps.push(Fact::NoDataConnection { outcome: n.data.outcome }),
    }
}

/// A data connection's SYN and what answered it; `under` a protection when it is a probable one.
fn connection(c: &Connection, under: Option<Protection>) -> Vec<Fact> {
    let answer = match c.outcome {
        Outcome::Established => Answer::Established { frame: c.synack_frame },
        Outcome::Refused => Answer::Refused { frame: c.rst_frame, by: c.rst_from },
        Outcome::Unreachable => Answer::Unreachable { frame: c.unreachable_frame, icmp: c.unreachable },
        Outcome::Unanswered => Answer::NoAnswer { syns: c.syns, seconds: c.last_time.since(c.syn_time) as f64 / 1e9 },
        _ => Answer::Unknown,
    };
    vec![Fact::DataSyn { frame: c.syn_frame, from: c.client, to: c.server, under }, Fact::DataAnswer { answer }]
}

/// `probable` of a `data_syn` fact: whether a protection hid its negotiation.
fn is_some<S: serde::Serializer>(under: &Option<Protection>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(under.is_some())
}
