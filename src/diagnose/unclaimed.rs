//! Connections no FTP session claimed, judged as they leave the analysis: a connection to the
//! control port that never opened (the server cannot be reached), and one that looks like FTP
//! data without its control channel (the capture left the control port out). Only real
//! evidence names a connection FTP data: port 20, a port a server of this capture advertised,
//! a listing in its first bytes; any other TCP stream is none of ours.
//!
//! Owns those two judgements and their bounds: findings kept (repeats of one server's failure
//! merge), advertised endpoints remembered. Must not touch flows or packets: the analyzer hands
//! over each connection's record as it leaves, and takes the findings at the end.

use super::{fold, MAX_FRAMES};
use crate::model::finding::{group, ControlFailed, DataEnd, DataEvidence, Uncontrolled, NO_SESSION};
use crate::model::{ChannelSeen, Connection, Details, FailedHow, Finding, FindingKind, Fix, Outcome, Severity, Side, Text};
use crate::AddrMap;
use std::net::{IpAddr, SocketAddr};

/// The usual control port; `--control-port` names another one.
const CONTROL_PORT: u16 = 21;
/// The port an FTP server opens active-mode data connections from (RFC 959 section 3.2).
const ACTIVE_DATA_PORT: u16 = 20;
/// Findings kept: past it, a connection that repeats none of them is only counted.
const MAX_FINDINGS: usize = 64;
/// Endpoints remembered (advertised, and control ports that began sessions): past it, new ones
/// are not (a connection to them then needs other evidence; a failure there reads as the
/// server's).
const MAX_REMEMBERED: usize = 4096;

#[derive(Default)]
pub struct Unclaimed {
    /// `--control-port`, besides 21.
    intended_control_port: Option<u16>,
    advertised: AddrMap<SocketAddr, ()>,
    /// Control endpoints where an FTP session began.
    reached: AddrMap<SocketAddr, ()>,
    findings: Vec<Finding>,
    /// Connections judged so, all of them (the findings hold the first few of each group).
    pub control_failed: u64,
    pub data_without_control: u64,
}

impl Unclaimed {
    pub fn new(intended_control_port: Option<u16>) -> Unclaimed {
        Unclaimed { intended_control_port, ..Unclaimed::default() }
    }

    /// A passive reply of some session advertised `endpoint` (with the session's control address
    /// and that port, where a client that ignores the advertised address goes).
    pub fn advertised(&mut self, endpoint: SocketAddr) {
        if self.advertised.len() < MAX_REMEMBERED {
            self.advertised.insert(endpoint, ());
        }
    }

    /// An FTP session began on a control connection to `server`.
    pub fn reached(&mut self, server: SocketAddr) {
        if self.reached.len() < MAX_REMEMBERED {
            self.reached.insert(server, ());
        }
    }

    /// Whether a connection between these endpoints can be anything to [`Unclaimed::judge`]:
    /// cheap, so that only those get a record built (most of a busy capture is other traffic).
    pub fn candidate(&self, client: SocketAddr, server: SocketAddr, listing: bool) -> bool {
        self.control_port(server.port()) || self.data_evidence(client, server, listing).is_some()
    }

    /// A connection no session claimed; `listing_from`: the sender of its first payload, when
    /// that was a directory listing.
    pub fn judge(&mut self, c: &Connection, listing_from: Option<SocketAddr>) {
        if self.control_port(c.server.port()) {
            if let Some(how) = never_opened(c) {
                self.control_failed = self.control_failed.saturating_add(1);
                self.keep(control_failed(c, how));
            }
            return;
        }
        let Some(evidence) = self.data_evidence(c.client, c.server, listing_from.is_some()) else { return };
        // The FTP server the evidence points at.
        let server = match (evidence, listing_from) {
            (DataEvidence::SourcePort20, _) if c.client.port() == ACTIVE_DATA_PORT => c.client.ip(),
            (DataEvidence::Listing, Some(sender)) => sender.ip(),
            _ => c.server.ip(),
        };
        // A lone SYN as the capture ended tells nothing yet.
        if c.outcome == Outcome::Unknown && c.bytes_to_client == 0 && c.bytes_to_server == 0 {
            return;
        }
        self.data_without_control = self.data_without_control.saturating_add(1);
        self.keep(uncontrolled(c, evidence, server));
    }

    /// The findings, at the end of the input.
    /// In the order of their first frames (connections are judged as they leave, which is not
    /// the order they began).
    /// A control connection that failed where others began sessions is a warning: the server can
    /// be reached, that attempt failed on the way; known only now, when every session began.
    pub fn take(&mut self) -> Vec<Finding> {
        let mut findings = std::mem::take(&mut self.findings);
        for f in &mut findings {
            if let Text::ControlFailed(t) = &mut f.text {
                if self.reached.contains_key(&t.server) {
                    t.others_opened = true;
                    f.severity = Severity::Warning;
                    f.fix.clear();
                }
            }
        }
        findings.sort_by_key(|f| f.frames.first().copied());
        findings
    }

    fn control_port(&self, port: u16) -> bool {
        port == CONTROL_PORT || Some(port) == self.intended_control_port
    }

    /// What makes a connection FTP data, strongest first: port 20, an advertised port, a listing.
    fn data_evidence(&self, client: SocketAddr, server: SocketAddr, listing: bool) -> Option<DataEvidence> {
        if client.port() == ACTIVE_DATA_PORT || server.port() == ACTIVE_DATA_PORT {
            Some(DataEvidence::SourcePort20)
        } else if self.advertised.contains_key(&server) {
            Some(DataEvidence::AdvertisedPort)
        } else {
            listing.then_some(DataEvidence::Listing)
        }
    }

    fn keep(&mut self, f: Finding) {
        let room = self.findings.len() < MAX_FINDINGS;
        match self.findings.iter_mut().find(|k| k.kind == f.kind && k.severity == f.severity && k.group == f.group) {
            Some(kept) => fold(kept, f),
            None if room => self.findings.push(f),
            None => {}
        }
    }
}

/// How a connection failed to open, if it did: unanswered SYNs, a RST from the server's side,
/// an ICMP error.
fn never_opened(c: &Connection) -> Option<FailedHow> {
    match c.outcome {
        Outcome::Unanswered => Some(FailedHow::NoAnswer { syns: c.syns, first: c.syn_frame }),
        Outcome::Refused => Some(FailedHow::Refused { by: c.rst_from, frame: c.rst_frame }),
        Outcome::Unreachable => Some(FailedHow::Unreachable(c.unreachable)),
        _ => None,
    }
}

fn seen(c: &Connection) -> ChannelSeen {
    ChannelSeen { client: c.client, server: c.server, syn_frame: c.syn_frame, outcome: Some(c.outcome) }
}

/// Its evidence frames: the SYN, then what decided or ended it.
fn frames(c: &Connection) -> Vec<u64> {
    let mut frames = vec![c.syn_frame];
    for f in [c.synack_frame, c.rst_frame, c.unreachable_frame, c.fin_frame].into_iter().flatten() {
        if frames.len() < MAX_FRAMES && !frames.contains(&f) {
            frames.push(f);
        }
    }
    frames
}

fn control_failed(c: &Connection, how: FailedHow) -> Finding {
    let text = Text::ControlFailed(ControlFailed { client: c.client, server: c.server, outcome: c.outcome, how, others_opened: false });
    let details = Details::ControlFailed { outcome: c.outcome, connection: seen(c), syns: c.syns };
    Finding {
        // One server's control port failing the same way is one problem, however many tries.
        group: group((c.server, c.outcome.as_str())),
        fix: vec![Fix::ReachControlPort { server: c.server }],
        ..Finding::new(FindingKind::ControlConnectionFailed, Severity::Error, NO_SESSION, frames(c), text, details)
    }
}

/// `server`: the FTP server's address, as the evidence names it.
fn uncontrolled(c: &Connection, evidence: DataEvidence, server: IpAddr) -> Finding {
    let ended = match (c.rst_frame, c.fin_frame) {
        _ if c.outcome != Outcome::Established => DataEnd::NeverOpened,
        (Some(frame), _) => DataEnd::Reset { frame, by: c.rst_from.unwrap_or(Side::Server) },
        (None, Some(_)) => DataEnd::Closed,
        (None, None) => DataEnd::Open,
    };
    let bytes = c.bytes_to_client.saturating_add(c.bytes_to_server);
    // Cut short or never opened: a transfer that failed (as a data connection that failed in a
    // session is an error), whatever the missing control channel would have added. Otherwise
    // a fact to know.
    let incomplete = matches!(ended, DataEnd::Reset { .. } | DataEnd::NeverOpened);
    let severity = if incomplete { Severity::Error } else { Severity::Info };
    let text = Text::Uncontrolled(Uncontrolled { client: c.client, server: c.server, outcome: c.outcome, evidence, bytes, ended });
    let details = Details::Uncontrolled { evidence, outcome: c.outcome, connection: seen(c), bytes, ended };
    Finding {
        group: group((c.client.ip(), c.server.ip(), evidence, incomplete)),
        fix: vec![Fix::CaptureControlPort { server }],
        ..Finding::new(FindingKind::DataWithoutControl, severity, NO_SESSION, frames(c), text, details)
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::Timestamp;

    /// A connection record as the analyzer hands it over: established and closed unless the
    /// caller changes it.
    fn conn(client: &str, server: &str) -> Connection {
        Connection {
            client: client.parse().unwrap(),
            server: server.parse().unwrap(),
            syn_frame: 1,
            syn_time: Timestamp(0),
            outcome: Outcome::Established,
            syns: 1,
            client_isn: Some(1),
            server_isn: Some(2),
            synack_frame: Some(2),
            rst_frame: None,
            rst_from: None,
            unreachable_frame: None,
            unreachable: None,
            fin_frame: Some(9),
            bytes_to_server: 0,
            bytes_to_client: 129,
            last_frame: 10,
            last_time: Timestamp(0),
        }
    }

    fn unanswered(mut c: Connection) -> Connection {
        (c.outcome, c.syns, c.synack_frame, c.fin_frame, c.bytes_to_client) = (Outcome::Unanswered, 3, None, None, 0);
        c
    }

    #[test]
    fn a_control_connection_that_never_opened_is_an_error_with_its_fix_and_repeats_merge() {
        let mut u = Unclaimed::new(None);
        let c = unanswered(conn("192.0.2.10:40020", "203.0.113.10:21"));
        u.judge(&c, None);
        u.judge(&Connection { client: "192.0.2.10:40021".parse().unwrap(), syn_frame: 5, ..c.clone() }, None);
        let found = u.take();
        assert_eq!(found.len(), 1, "two tries at one server's port: one problem");
        let f = &found[0];
        assert_eq!((f.kind, f.severity, f.session, f.occurrences), (FindingKind::ControlConnectionFailed, Severity::Error, NO_SESSION, 2));
        assert_eq!(f.frames, vec![1, 5]);
        assert_eq!(f.fix, vec![Fix::ReachControlPort { server: c.server }]);
        assert_eq!(u.control_failed, 2);
        // Established (not FTP, or its FTP not recognised) is not "cannot be reached".
        let mut u = Unclaimed::new(None);
        u.judge(&conn("192.0.2.10:40020", "203.0.113.10:21"), None);
        assert!(u.take().is_empty());
    }

    #[test]
    fn a_failed_try_where_other_connections_began_sessions_is_a_warning_without_the_servers_fix() {
        let mut u = Unclaimed::new(None);
        u.judge(&unanswered(conn("192.0.2.10:40020", "203.0.113.10:21")), None);
        u.judge(&unanswered(conn("192.0.2.10:40021", "203.0.113.11:21")), None);
        u.reached("203.0.113.10:21".parse().unwrap());
        let found = u.take();
        let said: Vec<(Severity, usize, &str)> = found.iter().map(|f| (f.severity, f.fix.len(), crate::problems::cause(f).name)).collect();
        assert_eq!(said, vec![(Severity::Warning, 0, "control_attempt_failed"), (Severity::Error, 1, "control_port_unreachable")]);
    }

    #[test]
    fn the_intended_control_port_counts_as_one_and_other_ports_do_not() {
        let mut u = Unclaimed::new(Some(2121));
        u.judge(&unanswered(conn("192.0.2.10:40020", "203.0.113.10:2121")), None);
        u.judge(&unanswered(conn("192.0.2.10:40021", "203.0.113.10:2222")), None);
        let found = u.take();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].details_connection_server(), "203.0.113.10:2121".parse().unwrap());
    }

    #[test]
    fn data_evidence_is_port_20_an_advertised_port_or_a_listing_and_names_the_ftp_server() {
        let mut u = Unclaimed::new(None);
        // Active: the server's port 20 opens to the client.
        u.judge(&conn("203.0.113.10:20", "192.0.2.10:41020"), None);
        // Passive, to a port a session of the capture advertised.
        u.advertised("198.51.100.2:40003".parse().unwrap());
        u.judge(&conn("192.0.2.11:50000", "198.51.100.2:40003"), None);
        // A listing sent by the accepting side.
        let listing = conn("192.0.2.12:50001", "198.51.100.3:40004");
        u.judge(&listing, Some(listing.server));
        // Any other stream: nothing.
        u.judge(&conn("192.0.2.13:50002", "198.51.100.4:443"), None);
        let found = u.take();
        let said: Vec<(DataEvidence, Fix)> = found
            .iter()
            .map(|f| match (&f.details, &f.fix[0]) {
                (Details::Uncontrolled { evidence, .. }, fix) => (*evidence, fix.clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        let server = |s: &str| Fix::CaptureControlPort { server: s.parse().unwrap() };
        assert_eq!(
            said,
            vec![
                (DataEvidence::SourcePort20, server("203.0.113.10")),
                (DataEvidence::AdvertisedPort, server("198.51.100.2")),
                (DataEvidence::Listing, server("198.51.100.3")),
            ]
        );
        assert!(found.iter().all(|f| f.severity == Severity::Info), "complete transfers are facts to know");
        assert_eq!(u.data_without_control, 3);
    }

    #[test]
    fn a_data_connection_reset_midway_or_never_opened_is_a_failed_transfer() {
        let mut u = Unclaimed::new(None);
        let mut reset = conn("203.0.113.10:20", "192.0.2.10:41020");
        (reset.fin_frame, reset.rst_frame, reset.rst_from, reset.bytes_to_server) = (None, Some(13), Some(Side::Server), 1_380_000);
        u.judge(&reset, None);
        u.judge(&unanswered(conn("203.0.113.10:20", "192.0.2.11:41021")), None);
        let found = u.take();
        let ends: Vec<(Severity, u64, DataEnd)> = found
            .iter()
            .map(|f| match f.details {
                Details::Uncontrolled { bytes, ended, .. } => (f.severity, bytes, ended),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            ends,
            vec![(Severity::Error, 1_380_129, DataEnd::Reset { frame: 13, by: Side::Server }), (Severity::Error, 0, DataEnd::NeverOpened)]
        );
    }

    #[test]
    fn a_flood_of_unrelated_connections_costs_nothing_and_failures_stay_bounded() {
        let mut u = Unclaimed::new(None);
        for i in 0..100_000u32 {
            let client = format!("10.{}.{}.{}:{}", i >> 16, (i >> 8) & 255, i & 255, 1024 + (i % 60_000));
            u.judge(&conn(&client, "198.51.100.4:443"), None);
            u.judge(&unanswered(conn(&client, "198.51.100.4:8080")), None);
        }
        assert!(u.findings.is_empty() && u.findings.capacity() == 0, "no evidence, nothing kept");
        let (client, other) = ("10.0.0.1:1024".parse().unwrap(), "198.51.100.4:443".parse().unwrap());
        assert!(!u.candidate(client, other, false), "no record is even built for them");
        assert!(u.candidate(client, other, true) && u.candidate(client, "198.51.100.4:21".parse().unwrap(), false));
        // A scan of many servers' port 21: every one counted, a bounded number kept.
        for i in 0..10_000u32 {
            let server = format!("198.18.{}.{}:21", i >> 8, i & 255);
            u.judge(&unanswered(conn("192.0.2.10:40000", &server)), None);
        }
        assert_eq!(u.control_failed, 10_000);
        assert_eq!(u.take().len(), MAX_FINDINGS);
    }

    impl Finding {
        fn details_connection_server(&self) -> SocketAddr {
            match &self.details {
                Details::ControlFailed { connection, .. } | Details::Uncontrolled { connection, .. } => connection.server,
                _ => panic!("{:?}", self.details),
            }
        }
    }
}
