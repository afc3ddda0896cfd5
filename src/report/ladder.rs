//! The ladder (sequence) diagram of one session, as data: who is on the path (lanes) and the
//! packets and control lines that matter (steps), each with its frame and how it ended. Built
//! from the session's record alone; the text renderer (report::ladder_text) and the HTML page
//! draw it, the JSON writes it as it is.
//!
//! Owns which boxes a capture implies between client and server and which steps are worth
//! drawing. Must not decide what is wrong (the findings do) nor lay anything out.

use crate::model::{classify, AddressClass, Connection, Mode, Negotiation, Outcome, Session, Side, Timestamp};
use serde::Serialize;
use std::net::IpAddr;

/// Negotiations drawn per session: a session with hundreds of them reads from the first few
/// that went wrong.
pub const NEGOTIATIONS_DRAWN: usize = 3;
/// Probable data connections (under TLS) drawn per session.
pub const PROBABLE_DRAWN: usize = 2;
/// Routers (ICMP senders) drawn: more would not fit 80 columns beside the other lanes.
const ROUTERS_DRAWN: usize = 2;
/// Longest label kept (a directory name in RETR can be long).
const LABEL_CHARS: usize = 48;

#[derive(Debug, Clone, Serialize)]
pub struct Ladder {
    /// Left to right: the client, the boxes between, the server.
    pub lanes: Vec<Lane>,
    /// In frame order.
    pub steps: Vec<Step>,
    /// Negotiations of the session not drawn (beyond [`NEGOTIATIONS_DRAWN`] or not kept).
    pub negotiations_not_drawn: u64,
}

/// One participant: a host, or a box on the path the capture implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lane {
    pub role: Role,
    /// None when the capture implies the box but not its address (a client's NAT router seen
    /// from inside: its public address appears only outside).
    pub address: Option<IpAddr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Client,
    /// The client is private and the server public, or the client announced a private address
    /// while reached at a public one.
    ClientNat,
    /// Sent an ICMP error about a data connection.
    Router,
    /// The server announced a private address while reached at a public one, or is private
    /// and reached from a public client.
    ServerNat,
    Server,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub frame: u64,
    pub time: Timestamp,
    /// Lane indexes. For a step that did not arrive, `to` is the lane where it was lost or
    /// refused.
    pub from: usize,
    pub to: usize,
    pub channel: Channel,
    /// Protocol text: "PASV", "227 10.0.0.20:40005", "SYN :40005 (x4)", "ICMP 3/1 host unreachable".
    pub label: String,
    pub ending: Ending,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Control,
    Data,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    Delivered,
    /// Answered by RST.
    Refused,
    /// Answered by an ICMP error from a router.
    Unreachable,
    /// No answer seen.
    Lost,
}

/// The diagram of `session`.
pub fn ladder(session: &Session) -> Ladder {
    let mut ladder = Ladder { lanes: lanes(session), steps: Vec::new(), negotiations_not_drawn: 0 };
    let (client, server) = (ladder.index(Role::Client), ladder.index(Role::Server));
    let mut control = |frame: u64, time: Timestamp, from: usize, to: usize, label: String| {
        ladder.steps.push(Step { frame, time, from, to, channel: Channel::Control, label, ending: Ending::Delivered })
    };
    control(session.first_frame, session.start_time, client, server, format!("connect :{}", session.control_port));
    // AUTH's own frame is only on the timeline; the 234 that switched to TLS is in the record.
    if let Some(auth) = session.timeline.iter().find(|l| l.from == Side::Client && l.text.to_ascii_uppercase().starts_with("AUTH")) {
        control(auth.frame, auth.time, client, server, auth.text.to_string());
        // Refused ("500 AUTH not understood"): drawn, so that AUTH alone does not read as TLS.
        if session.tls_frame.is_none() {
            if let Some(reply) = session.timeline.iter().find(|l| l.from == Side::Server && l.frame > auth.frame) {
                control(reply.frame, reply.time, server, client, reply.text.to_string());
            }
        }
    }
    if let Some(frame) = session.tls_frame {
        let time = session.timeline.iter().find(|l| l.frame == frame).map_or(session.start_time, |l| l.time);
        control(frame, time, server, client, "234 TLS from here on".to_string());
    }
    let drawn = worth_telling(session);
    ladder.negotiations_not_drawn = (session.negotiations.len() - drawn.len()) as u64 + session.negotiations_over_limit;
    for n in drawn {
        ladder.negotiation(n, client, server);
    }
    let failed_first = session.probable_data_channels.iter().filter(|c| c.outcome.is_failure()).chain(&session.probable_data_channels);
    let mut probable: Vec<&Connection> = Vec::new();
    for c in failed_first {
        if probable.len() < PROBABLE_DRAWN && !probable.iter().any(|p| p.syn_frame == c.syn_frame) {
            probable.push(c);
        }
    }
    for c in probable {
        ladder.connection(c, Mode::Passive);
    }
    // Stable: a command and its reply in one frame keep their order.
    ladder.steps.sort_by_key(|s| s.frame);
    ladder
}

/// The negotiations worth telling (drawn here, told by explain's story): the first few that went
/// wrong (failed data connection, refused, private address), or the first one when none did.
pub fn worth_telling(session: &Session) -> Vec<&Negotiation> {
    let wrong = |n: &&Negotiation| {
        n.data.outcome != Outcome::Established
            || n.reply_code.is_some_and(|c| c >= 400)
            || n.data.reply_code.is_some_and(|c| c >= 400)
            || n.advertised_class.is_some_and(AddressClass::is_unreachable_from_elsewhere)
    };
    let mut drawn: Vec<&Negotiation> = session.negotiations.iter().filter(wrong).take(NEGOTIATIONS_DRAWN).collect();
    if drawn.is_empty() {
        drawn.extend(session.negotiations.first());
    }
    drawn
}

impl Ladder {
    /// The lane of `role` (client and server are always there).
    pub fn index(&self, role: Role) -> usize {
        self.lanes.iter().position(|l| l.role == role).unwrap_or(0)
    }

    /// The lane holding `ip`, else the lane of `role`. A connection that arrived went through
    /// a NAT lane to the host behind it; one that did not stopped there.
    fn lane_of(&self, ip: IpAddr, role: Role, arrived: bool) -> usize {
        match self.lanes.iter().position(|l| l.address == Some(ip)) {
            Some(i) if arrived && self.lanes[i].role == Role::ServerNat => self.index(Role::Server),
            Some(i) if arrived && self.lanes[i].role == Role::ClientNat => self.index(Role::Client),
            Some(i) => i,
            None => self.index(role),
        }
    }

    fn push(&mut self, frame: u64, time: Timestamp, (from, to): (usize, usize), channel: Channel, label: String, ending: Ending) {
        self.steps.push(Step { frame, time, from, to, channel, label: cut(label), ending });
    }

    fn negotiation(&mut self, n: &Negotiation, client: usize, server: usize) {
        let command = match (n.mode, n.advertised) {
            (Mode::Active, Some(a)) => format!("{:?} {a}", n.command),
            _ => format!("{:?}", n.command),
        };
        // A command implied by its reply (only the server's side captured) was not seen sent.
        if !n.command_implied {
            self.push(n.frame, n.time, (client, server), Channel::Control, command, Ending::Delivered);
        }
        if let (Some(code), Some(frame)) = (n.reply_code, n.reply_frame) {
            let label = match (n.mode, n.advertised) {
                (Mode::Passive, Some(a)) if code < 300 => format!("{code} {a}"),
                _ => format!("{code} {}", n.reply_text.as_deref().unwrap_or("")),
            };
            // The reply's own time is not kept: the negotiation's is close enough for a diagram.
            self.push(frame, n.time, (server, client), Channel::Control, label, Ending::Delivered);
        }
        for c in n.data.earlier_attempts.iter().chain(&n.data.connection) {
            self.connection(c, n.mode);
        }
        let d = &n.data;
        if let (Some(command), Some(frame)) = (&d.command, d.command_frame) {
            self.push(frame, n.time, (client, server), Channel::Control, command.clone(), Ending::Delivered);
        }
        if let (Some(code), Some(frame)) = (d.reply_code, d.reply_frame) {
            let label = format!("{code} {}", d.reply_text.as_deref().unwrap_or(""));
            self.push(frame, n.time, (server, client), Channel::Control, label, Ending::Delivered);
        }
    }

    /// A data connection's SYN and what answered it. In active mode the server opens it.
    fn connection(&mut self, c: &Connection, mode: Mode) {
        let (opener, target) = match mode {
            Mode::Passive => (Role::Client, Role::Server),
            Mode::Active => (Role::Server, Role::Client),
        };
        let arrived = c.outcome == Outcome::Established;
        let from = self.lane_of(c.client.ip(), opener, true);
        let mut to = self.lane_of(c.server.ip(), target, arrived);
        let ending = match c.outcome {
            Outcome::Established => Ending::Delivered,
            Outcome::Refused => Ending::Refused,
            Outcome::Unreachable => Ending::Unreachable,
            _ => Ending::Lost,
        };
        let router = c.unreachable.map(|icmp| self.lane_of(icmp.from, target, false));
        if let Some(r) = router.filter(|_| ending == Ending::Unreachable) {
            to = r;
        }
        let mut syn = format!("SYN :{}", c.server.port());
        if c.syns > 1 {
            syn.push_str(&format!(" (x{})", c.syns));
        }
        self.push(c.syn_frame, c.syn_time, (from, to), Channel::Data, syn, ending);
        // Answers carry the connection's last time: the record keeps no time per answer.
        if let Some(frame) = c.synack_frame {
            self.push(frame, c.last_time, (to, from), Channel::Data, "SYN-ACK".to_string(), Ending::Delivered);
        }
        if let Some(frame) = c.rst_frame.filter(|_| ending == Ending::Refused) {
            self.push(frame, c.last_time, (to, from), Channel::Data, "RST".to_string(), Ending::Delivered);
        }
        if let (Some(frame), Some(icmp), Some(router)) = (c.unreachable_frame, c.unreachable, router) {
            // Icmp's words end with " from ADDRESS": the lane names the sender already.
            let words = icmp.to_string();
            let label = words.split(" from ").next().unwrap_or(&words).to_string();
            self.push(frame, c.last_time, (router, from), Channel::Data, label, Ending::Delivered);
        }
    }
}

/// The participants the session's addresses imply, left to right.
fn lanes(s: &Session) -> Vec<Lane> {
    let public = |ip: IpAddr| classify(ip) == AddressClass::Public;
    let (client, server) = (s.client.ip(), s.server.ip());
    let advertised = |mode: Mode, private: bool, own: IpAddr| {
        s.negotiations
            .iter()
            .filter(|n| n.mode == mode)
            .filter_map(|n| n.advertised.map(|a| a.ip()))
            .find(|&ip| ip != own && public(ip) != private)
    };
    let lane = |role: Role, address: Option<IpAddr>| Lane { role, address };
    let mut lanes = Vec::new();
    match advertised(Mode::Active, true, client) {
        _ if !public(client) && public(server) => lanes.extend([lane(Role::Client, Some(client)), lane(Role::ClientNat, None)]),
        Some(inside) if public(client) => lanes.extend([lane(Role::Client, Some(inside)), lane(Role::ClientNat, Some(client))]),
        _ => lanes.push(lane(Role::Client, Some(client))),
    }
    let mut server_side = match advertised(Mode::Passive, true, server) {
        Some(inside) if public(server) => vec![lane(Role::ServerNat, Some(server)), lane(Role::Server, Some(inside))],
        _ if !public(server) && public(client) => {
            vec![lane(Role::ServerNat, advertised(Mode::Passive, false, server)), lane(Role::Server, Some(server))]
        }
        _ => vec![lane(Role::Server, Some(server))],
    };
    let tries = s.negotiations.iter().flat_map(|n| n.data.earlier_attempts.iter().chain(&n.data.connection));
    let connections = tries.chain(&s.probable_data_channels);
    for from in connections.filter_map(|c| c.unreachable.map(|icmp| icmp.from)) {
        let known = lanes.iter().chain(&server_side).any(|l| l.address == Some(from));
        if !known && lanes.iter().filter(|l| l.role == Role::Router).count() < ROUTERS_DRAWN {
            lanes.push(lane(Role::Router, Some(from)));
        }
    }
    lanes.append(&mut server_side);
    lanes
}

/// At most [`LABEL_CHARS`] characters, trailing blanks dropped.
fn cut(label: String) -> String {
    match label.char_indices().nth(LABEL_CHARS) {
        Some((at, _)) => label[..at].trim_end().to_string(),
        None => label.trim_end().to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analyzer::{Analyzer, Settings};
    use crate::report::Report;

    /// The sessions of a lab capture, in the order they began, with a 64-line timeline.
    pub(crate) fn sessions(fixture: &str) -> Vec<Session> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(fixture);
        let mut analyzer = Analyzer::new(Settings { timeline_lines: 64, ..Settings::default() });
        crate::capture::file::read_path(&path, 1, &mut |frame| analyzer.feed(frame)).unwrap();
        let mut sessions = Report::collect(&mut analyzer).sessions;
        sessions.sort_by_key(|s| s.id);
        sessions
    }

    /// "client 192.168.1.10 | client_nat ? | ...".
    fn roles(l: &Ladder) -> String {
        let lane = |l: &Lane| {
            format!("{} {}", serde_json::to_value(l.role).unwrap().as_str().unwrap(), l.address.map_or("?".into(), |a| a.to_string()))
        };
        l.lanes.iter().map(lane).collect::<Vec<_>>().join(" | ")
    }

    fn data_steps(l: &Ladder) -> Vec<(u64, Role, Role, &str, Ending)> {
        let role = |i: usize| l.lanes[i].role;
        l.steps
            .iter()
            .filter(|s| s.channel == Channel::Data)
            .map(|s| (s.frame, role(s.from), role(s.to), s.label.as_str(), s.ending))
            .collect()
    }

    #[test]
    fn a_leaked_private_address_dies_at_the_router_that_sent_the_icmp() {
        let l = ladder(&sessions("pasv-private-leak-fail/client.pcap")[0]);
        assert_eq!(roles(&l), "client 192.168.1.10 | client_nat ? | router 203.0.113.1 | server_nat 198.51.100.2 | server 10.0.0.20");
        let data = data_steps(&l);
        assert_eq!(data[0], (17, Role::Client, Role::Router, "SYN :40005", Ending::Unreachable));
        assert_eq!(data[1], (18, Role::Router, Role::Client, "ICMP 3/1 host unreachable", Ending::Delivered));
        let reply = l.steps.iter().find(|s| s.frame == 16).expect("the 227 is drawn");
        assert_eq!((reply.label.as_str(), l.lanes[reply.from].role), ("227 10.0.0.20:40005", Role::Server));
        assert_eq!(l.steps[0].label, "connect :21");
        assert!(l.steps.windows(2).all(|w| w[0].frame <= w[1].frame), "frame order");
    }

    #[test]
    fn a_refused_or_unanswered_passive_port_stops_at_the_server_side() {
        let l = ladder(&sessions("pasv-range-rejected/client.pcap")[0]);
        assert_eq!(l.lanes.iter().map(|l| l.role).collect::<Vec<_>>(), [Role::Client, Role::ClientNat, Role::Server]);
        assert_eq!(
            data_steps(&l),
            [(16, Role::Client, Role::Server, "SYN :40007", Ending::Refused), (17, Role::Server, Role::Client, "RST", Ending::Delivered)]
        );
        let l = ladder(&sessions("pasv-range-dropped/client.pcap")[0]);
        assert_eq!(data_steps(&l), [(18, Role::Client, Role::Server, "SYN :40003 (x4)", Ending::Lost)]);
    }

    #[test]
    fn seen_from_the_server_an_active_client_behind_nat_has_its_router_drawn() {
        let l = ladder(&sessions("active-unreachable/server.pcap")[0]);
        assert_eq!(roles(&l), "client 192.168.1.10 | client_nat 203.0.113.2 | router 192.0.2.1 | server 192.0.2.30");
        let data = data_steps(&l);
        assert_eq!((data[0].1, data[0].2, data[0].4), (Role::Server, Role::Router, Ending::Unreachable));
        let port = l.steps.iter().find(|s| s.label.starts_with("PORT")).expect("PORT drawn");
        assert_eq!(port.label, "PORT 192.168.1.10:42967");
    }

    #[test]
    fn a_working_session_arrives_through_the_nat_at_the_server() {
        for s in sessions("pasv-ok-forwarded/server.pcap") {
            let l = ladder(&s);
            assert_eq!(roles(&l), "client 203.0.113.2 | server_nat 198.51.100.2 | server 10.0.0.20");
            assert!(l.steps.iter().all(|s| s.ending == Ending::Delivered));
            let data = data_steps(&l);
            assert_eq!((data[0].1, data[0].2, data[1].3), (Role::Client, Role::Server, "SYN-ACK"), "{data:?}");
            let transfer = l.steps.iter().find(|s| s.label.starts_with("226")).expect("the transfer's 226");
            assert_eq!(l.lanes[transfer.to].role, Role::Client);
        }
    }

    #[test]
    fn a_refused_auth_is_drawn_with_its_reply() {
        let mut s = sessions("pasv-ok-forwarded/client.pcap")[0].clone();
        let (first, time) = (s.first_frame, s.start_time);
        let mut timeline = crate::model::Timeline::default();
        timeline.keep(8);
        timeline.push(first + 1, time, Side::Client, "AUTH TLS");
        timeline.push(first + 2, time, Side::Server, "500 AUTH not understood.");
        s.timeline = timeline;
        let l = ladder(&s);
        let labels: Vec<&str> = l.steps.iter().map(|s| s.label.as_str()).collect();
        let auth = labels.iter().position(|l| *l == "AUTH TLS").expect("AUTH drawn");
        assert_eq!(labels[auth + 1], "500 AUTH not understood.", "{labels:?}");
        assert!(!labels.contains(&"234 TLS from here on"), "{labels:?}");
    }

    #[test]
    fn under_tls_the_auth_and_the_probable_data_connection_are_drawn() {
        let l = ladder(&sessions("alg-blind-tls/client.pcap")[0]);
        let labels: Vec<&str> = l.steps.iter().map(|s| s.label.as_str()).collect();
        assert!(labels.iter().any(|l| l.starts_with("AUTH")), "{labels:?}");
        assert!(labels.contains(&"234 TLS from here on"), "{labels:?}");
        let data = data_steps(&l);
        assert_eq!((data[0].0, data[0].4), (30, Ending::Lost));
    }

    #[test]
    fn labels_are_cut_at_a_character_boundary() {
        let long = "RETR ".to_string() + &"é".repeat(100);
        let cut = cut(long);
        assert_eq!(cut.chars().count(), LABEL_CHARS);
    }
}
