//! What each TCP connection is to the analysis, its role, and how the role changes:
//!
//! ```text
//!   opening ──> Data | Probable | Fresh
//!   Fresh ──first payload──> Probing | Other
//!   Probing ──verdict──> Control | Other
//!   Fresh | Probing | Other ──its negotiation read late──> Data
//!   Data | Probable ──its session settles──> Retired
//!   Control ──its session settles──> Other
//! ```
//!
//! Owns [`Role`], the [`Flow`] (a connection, its role and its share of the buffer budget) and
//! the transitions; a flow that leaves the table hands its last facts to its session. Must not
//! read control lines nor build records or events: the analyzer does, with the session a role
//! names.

use super::budget::{BufferBudget, Held};
use super::content::{DataContent, SharedSink, TransferNames};
use crate::correlate::one_way::ClientOnlySessions;
use crate::correlate::retry;
use crate::correlate::tls::EncryptedSessions;
use crate::correlate::untied::{Untied, UntiedSyns};
use crate::correlate::{Expectation, Expectations, Tie};
use crate::decode::TcpSegment;
use crate::ftp::channel::Channel;
use crate::ftp::probe::{self, Probe};
use crate::ftp::session::SessionState;
use crate::model::text_sample::TextSample;
use crate::model::{MatchedBy, Timestamp};
use crate::tcp::flow::{Conn, Evictable, FlowKey};
use rustc_hash::FxHashMap;

pub(super) enum Role {
    /// No payload yet.
    Fresh,
    Probing(Box<Probe>),
    Control {
        session: u32,
        channel: Box<Channel>,
    },
    /// The data connection of a negotiation.
    Data {
        session: u32,
        negotiation: u32,
    },
    /// Under TLS: probably a data connection of this session.
    Probable {
        session: u32,
        index: u32,
    },
    /// A data connection of a settled session: kept only to recognise its last packets.
    Retired,
    Other,
}

pub(super) struct Flow {
    pub(super) conn: Conn,
    pub(super) role: Role,
    /// Bytes of the buffer budget this flow's probe or channel holds.
    pub(super) held: Held,
    /// The sender of its first payload, when that was a directory listing (the FTP server):
    /// evidence of FTP data should no session claim it (diagnose::unclaimed).
    pub(super) listing_from: Option<std::net::SocketAddr>,
    /// A data connection's bytes in order, hashed, when asked (`Settings::hash_data`).
    pub(super) content: Option<Box<DataContent>>,
    /// A data connection's first bytes, counted when its transfer is TYPE A (not for TYPE I:
    /// the default stays as fast).
    pub(super) sampling: Sampling,
}

/// Whether a data connection's bytes are sampled (see [`TextSample`]).
#[derive(Debug, Clone, Copy)]
pub(super) enum Sampling {
    /// No payload yet: decided with the first.
    Undecided,
    Off,
    On(TextSample),
}

impl Default for Flow {
    /// A placeholder, never observed: see [`crate::tcp::flow::FlowTable::get_or_replace`].
    fn default() -> Flow {
        let none = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
        Flow::new(Conn::new(none, none, 0, Timestamp::default()), Role::Other)
    }
}

impl Evictable for Flow {
    fn conn(&self) -> &Conn {
        &self.conn
    }
    fn pinned(&self) -> bool {
        matches!(self.role, Role::Control { .. })
    }
    fn retired(&self) -> bool {
        matches!(self.role, Role::Retired)
    }
}

impl Flow {
    pub(super) fn new(conn: Conn, role: Role) -> Flow {
        Flow { conn, role, held: Held::default(), listing_from: None, content: None, sampling: Sampling::Undecided }
    }

    /// A data connection's payload: sampled when `ascii` (asked once, at the first payload)
    /// says its transfer is TYPE A, until the sample is full.
    pub(super) fn sample(&mut self, payload: &[u8], ascii: impl FnOnce() -> bool) {
        if matches!(self.sampling, Sampling::Undecided) {
            self.sampling = if ascii() { Sampling::On(TextSample::default()) } else { Sampling::Off };
        }
        if let Sampling::On(s) = &mut self.sampling {
            if !s.full() {
                s.add(payload);
            }
        }
    }

    /// A fresh connection's first payload decides whether it is watched as a possible control
    /// channel.
    // Once per packet: inlined into `on_tcp`, as it was before that grew (measured: callgrind).
    #[inline(always)]
    pub(super) fn first_payload(&mut self, seg: &TcpSegment<'_>, max_line: usize, max_buffered: usize) {
        if matches!(self.role, Role::Fresh) && !seg.payload.is_empty() {
            self.listing_from = crate::ftp::listing::looks_like_listing(seg.payload).then_some(seg.src);
            self.role = match probe::start(&mut self.conn, seg, max_line, max_buffered) {
                Some(p) => Role::Probing(p),
                None => Role::Other,
            };
        }
    }

    /// No session claimed it (not a control channel, nor a data connection of a negotiation):
    /// what it is, if anything, is judged when it leaves (diagnose::unclaimed).
    pub(super) fn unclaimed(&self) -> bool {
        matches!(self.role, Role::Fresh | Role::Probing(_) | Role::Other)
    }

    /// Not (or no longer) followed: whatever it held goes back to the budget.
    pub(super) fn give_up(&mut self, budget: &mut BufferBudget) {
        budget.release(&mut self.held);
        self.role = Role::Other;
    }

    /// A probe that recognised FTP, taken out to become a session; the flow's share stays
    /// until [`Flow::become_control`] sets it.
    pub(super) fn take_probe(&mut self) -> Option<Box<Probe>> {
        match std::mem::replace(&mut self.role, Role::Other) {
            Role::Probing(p) => Some(p),
            other => {
                self.role = other;
                None
            }
        }
    }

    /// The control connection of `session`, holding what its channel buffers.
    pub(super) fn become_control(&mut self, session: u32, channel: Box<Channel>, budget: &mut BufferBudget) {
        budget.set(&mut self.held, channel.buffered());
        self.role = Role::Control { session, channel };
    }

    /// Is this the data connection of `session`'s negotiation `n`?
    pub(super) fn is_data_of(&self, session: u32, n: u32) -> bool {
        matches!(self.role, Role::Data { session: id, negotiation } if id == session && negotiation == n)
    }

    /// Makes a connection that opened before its negotiation was read (see [`UntiedSyns`]) the
    /// data connection of `session`'s negotiation `n`: its packets so far are in the flow and
    /// count. None when the flow is another connection (the 4-tuple reused) or already
    /// something else (a control channel, another negotiation's).
    pub(super) fn tie(&mut self, c: &Untied, session: u32, n: u32, budget: &mut BufferBudget) -> Option<Conn> {
        // Opened by a SYN-ACK (isn unknown), its own SYN may have come after, stamped late.
        let same = self.conn.client == c.client && (c.isn.is_none() || self.conn.client_isn == c.isn);
        if !same || !matches!(self.role, Role::Fresh | Role::Other | Role::Probing(_)) {
            return None;
        }
        // A probe of its first bytes (a listing that looked like a reply) is given up.
        budget.release(&mut self.held);
        self.role = Role::Data { session, negotiation: n };
        Some(self.conn)
    }

    /// As the data connection of `session`'s negotiation `n` (in `mode`), its bytes are
    /// followed, hashed and handed to `sink`.
    pub(super) fn follow_content(&mut self, session: u32, n: u32, mode: crate::model::Mode, sink: Option<SharedSink>) {
        self.content = Some(DataContent::new(session, n, mode, &self.conn, sink));
    }

    /// A data connection's stream is over: its content goes to its negotiation (unless an
    /// earlier connection of it carried more), its bytes' end to the sink. Its share of the
    /// budget goes back.
    fn end_content(&mut self, s: Option<&mut SessionState>, budget: &mut BufferBudget) {
        let Some(content) = self.content.take() else { return };
        budget.release(&mut self.held);
        let neg = match (&self.role, s) {
            (Role::Data { session, negotiation }, Some(s)) if *session == s.id => s.negotiations.get_mut(*negotiation as usize),
            _ => None,
        };
        let transfer = neg.as_ref().and_then(|n| n.transfer.as_ref());
        let command = transfer.and_then(|t| t.command.as_deref());
        let names = TransferNames { command_frame: transfer.filter(|t| t.command.is_some()).map(|t| t.frame), command };
        let upload = command.and_then(crate::ftp::is_upload);
        let ended = (*content).end(&self.conn, upload, &names);
        if let Some(n) = neg {
            if n.content.not_asked() || ended.bytes >= n.content.bytes {
                n.content = ended;
            }
        }
    }

    /// Copies a data connection's latest facts into its session (the flow is leaving, or the
    /// session settles).
    pub(super) fn sync_into(&self, s: &mut SessionState) {
        match self.role {
            Role::Data { session, negotiation } if session == s.id => {
                if let Some(n) = s.negotiations.get_mut(negotiation as usize) {
                    retry::update(n, &self.conn);
                    if let Sampling::On(sample) = self.sampling {
                        n.text_sample = Some(sample);
                    }
                }
            }
            Role::Probable { session, index } if session == s.id => {
                if let Some(c) = s.probable.get_mut(index as usize) {
                    *c = self.conn;
                }
            }
            _ => {}
        }
    }

    /// `s` settles: a data connection of it hands over its facts and is kept only to recognise
    /// its last packets; its control connection stays too (its last ACKs must not look like a
    /// new connection) but its buffers go. True when the flow was `s`'s.
    pub(super) fn settle(&mut self, s: &mut SessionState, budget: &mut BufferBudget) -> bool {
        match self.role {
            Role::Data { session, .. } | Role::Probable { session, .. } if session == s.id => {
                self.sync_into(s);
                self.end_content(Some(s), budget);
                self.role = Role::Retired;
                true
            }
            Role::Control { session, .. } if session == s.id => {
                self.give_up(budget);
                true
            }
            _ => false,
        }
    }

    /// The flow left the table (replaced, evicted): its buffers no longer count, a data
    /// connection's facts go to its session. A control connection's session has nothing more
    /// to wait for: it is closed as of the flow's last packet, and its id returned to be looked
    /// at again.
    pub(super) fn leave(mut self, budget: &mut BufferBudget, sessions: &mut FxHashMap<u32, Box<SessionState>>) -> Option<u32> {
        if let Role::Data { session, .. } = self.role {
            self.end_content(sessions.get_mut(&session).map(|s| &mut **s), budget);
        }
        budget.release(&mut self.held);
        match self.role {
            Role::Control { session, .. } => {
                let s = sessions.get_mut(&session)?;
                s.closed_at.get_or_insert(self.conn.last_ts);
                Some(session)
            }
            Role::Data { session, .. } | Role::Probable { session, .. } => {
                if let Some(s) = sessions.get_mut(&session) {
                    self.sync_into(s);
                }
                None
            }
            _ => None,
        }
    }
}

/// The flow keys of a session's data connections (and, under TLS, its probable ones).
pub(super) fn data_flow_keys(s: &SessionState) -> Vec<FlowKey> {
    let tries = s.negotiations.iter().flat_map(|n| n.conn.iter().chain(&n.earlier));
    let conns = tries.copied().chain(s.probable.iter().copied());
    conns.map(|c| FlowKey::new(c.client, c.server)).collect()
}

/// The role of a new connection (its first SYN, or its SYN-ACK when the SYN is not in the
/// capture): the data connection of a negotiation (expected, a retry of one, or after a
/// command whose reply is not captured), a probable data connection of an encrypted session,
/// or nothing known yet; then it is kept a while in case its negotiation is read just after.
pub(super) fn at_opening(
    expectations: &mut Expectations,
    untied: &mut UntiedSyns,
    sessions: &mut FxHashMap<u32, Box<SessionState>>,
    encrypted: &mut EncryptedSessions,
    client_only: &ClientOnlySessions,
    isn: Option<u32>,
    conn: &Conn,
) -> Role {
    let (client, server) = (conn.client, conn.server);
    if let Some(Tie { expectation: e, how, ambiguous }) = expectations.take_match(client, server, conn.first_ts) {
        if let Some(n) = sessions.get_mut(&e.session).and_then(|s| s.negotiations.get_mut(e.negotiation as usize)) {
            n.matched_by = Some(how);
            n.tie_ambiguous = ambiguous;
            return Role::Data { session: e.session, negotiation: e.negotiation };
        }
    }
    let negotiation = |e: &Expectation| sessions.get(&e.session).and_then(|s| s.negotiations.get(e.negotiation as usize));
    if let Some((e, how)) =
        expectations.retry_of(client, server, conn.first_ts, |e| negotiation(e).is_some_and(|n| retry::is_retry(n, conn)))
    {
        if let Some(n) = sessions.get_mut(&e.session).and_then(|s| s.negotiations.get_mut(e.negotiation as usize)) {
            retry::replace(n, how);
            return Role::Data { session: e.session, negotiation: e.negotiation };
        }
    }
    if let Some(tie) = client_only.negotiation_for(conn, |id| sessions.get(&id).map(|s| &**s)) {
        if let Some(n) = sessions.get_mut(&tie.session).and_then(|s| s.negotiations.get_mut(tie.negotiation as usize)) {
            if tie.retry {
                retry::replace(n, MatchedBy::AfterCommand);
            } else {
                n.matched_by = Some(MatchedBy::AfterCommand);
            }
            // A retry at the control address leaves what the first try showed.
            if n.advertised.is_none() {
                n.advertised = tie.implied;
                n.reply_implied = tie.implied.is_some();
            }
        }
        return Role::Data { session: tie.session, negotiation: tie.negotiation };
    }
    if let Some(id) = encrypted.session_for(client, server, |id| sessions.get(&id).map(|s| &**s)) {
        if let Some(s) = sessions.get_mut(&id) {
            let index = s.probable.len() as u32;
            s.probable.push(*conn);
            return Role::Probable { session: id, index };
        }
    }
    untied.add(Untied { client, server, isn, opened: conn.first_ts }, conn.first_ts);
    Role::Fresh
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::decode::TcpFlags;
    use crate::ftp::session::NegState;
    use crate::model::{Mode, NegotiationCommand};
    use std::net::SocketAddr;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    const CLIENT: &str = "192.168.1.10:40000";
    const SERVER: &str = "203.0.113.5:21";
    const DATA_CLIENT: &str = "192.168.1.10:40001";
    const DATA_SERVER: &str = "203.0.113.5:50000";

    /// A connection whose SYN (ISN 100) is in the capture, at frame `frame`.
    fn conn(client: &str, server: &str, frame: u64) -> Conn {
        let mut c = Conn::new(addr(client), addr(server), frame, Timestamp(frame as i64));
        c.syn = Some((frame, Timestamp(frame as i64)));
        c.client_isn = Some(100);
        c
    }

    fn from_server<'a>(c: &Conn, payload: &'a [u8]) -> TcpSegment<'a> {
        let flags = TcpFlags { ack: true, ..TcpFlags::default() };
        TcpSegment { src: c.server, dst: c.client, seq: 1, ack: 1, flags, payload, missing: 0, ttl: 0 }
    }

    /// A session with one passive negotiation.
    fn session(id: u32) -> SessionState {
        let mut s = SessionState::new(id, &conn(CLIENT, SERVER, 1));
        s.negotiations.push(NegState::new(5, Timestamp(5), NegotiationCommand::PASV));
        s
    }

    fn probing(budget: &mut BufferBudget, held: usize) -> Flow {
        let mut f = Flow::new(conn(DATA_CLIENT, DATA_SERVER, 7), Role::Fresh);
        f.first_payload(&from_server(&f.conn, b"220 "), 4096, 4096);
        assert!(matches!(f.role, Role::Probing(_)));
        budget.set(&mut f.held, held);
        f
    }

    #[test]
    fn a_fresh_flow_watches_only_first_bytes_that_could_be_ftp() {
        let mut f = Flow::new(conn(CLIENT, SERVER, 1), Role::Fresh);
        f.first_payload(&from_server(&f.conn, b""), 4096, 4096);
        assert!(matches!(f.role, Role::Fresh), "no payload, nothing to judge");
        f.first_payload(&from_server(&f.conn, b"220 ready\r\n"), 4096, 4096);
        assert!(matches!(f.role, Role::Probing(_)));
        let mut web = Flow::new(conn(CLIENT, "203.0.113.5:80", 1), Role::Fresh);
        web.first_payload(&from_server(&web.conn, b"HTTP/1.1 200 OK\r\n"), 4096, 4096);
        assert!(matches!(web.role, Role::Other));
    }

    #[test]
    fn a_recognised_probe_becomes_a_control_channel_holding_its_buffers() {
        let mut budget = BufferBudget::new(1 << 20);
        let mut f = probing(&mut budget, 30);
        let probe = f.take_probe().expect("a probe");
        assert!(f.take_probe().is_none(), "taken once");
        assert_eq!(budget.held(), 30, "held until the channel says what it holds");
        f.become_control(3, Box::new(probe.channel), &mut budget);
        assert!(matches!(f.role, Role::Control { session: 3, .. }));
        assert_eq!(budget.held(), f.held.bytes());
        assert!(f.pinned() && !f.retired(), "a control flow is not evicted");
    }

    #[test]
    fn a_connection_that_opened_early_is_tied_once_and_its_probe_given_up() {
        let mut budget = BufferBudget::new(1 << 20);
        let mut f = probing(&mut budget, 40);
        let untied = Untied { client: addr(DATA_CLIENT), server: addr(DATA_SERVER), isn: Some(100), opened: Timestamp(7) };
        let reused = Untied { isn: Some(999), ..untied };
        assert!(f.tie(&reused, 0, 0, &mut budget).is_none(), "another connection on the same ports");
        let tied = f.tie(&untied, 0, 0, &mut budget).expect("tied");
        assert_eq!(tied.first_frame, 7);
        assert!(f.is_data_of(0, 0) && !f.is_data_of(0, 1) && !f.is_data_of(1, 0));
        assert_eq!(budget.held(), 0, "the probe's bytes go back");
        assert!(f.tie(&untied, 0, 1, &mut budget).is_none(), "already another negotiation's");
        let mut control = Flow::new(conn(DATA_CLIENT, DATA_SERVER, 7), Role::Fresh);
        control.become_control(1, Box::new(Channel::new(&control.conn, 4096, 4096)), &mut budget);
        assert!(control.tie(&untied, 0, 0, &mut budget).is_none(), "a control channel stays one");
    }

    #[test]
    fn a_settling_session_retires_its_data_flows_and_frees_its_control_buffers() {
        let mut budget = BufferBudget::new(1 << 20);
        let mut s = session(0);
        let mut data = Flow::new(conn(DATA_CLIENT, DATA_SERVER, 7), Role::Data { session: 0, negotiation: 0 });
        data.conn.syns = 3;
        let mut others = Flow::new(conn(DATA_CLIENT, DATA_SERVER, 9), Role::Data { session: 1, negotiation: 0 });
        others.settle(&mut s, &mut budget);
        assert!(matches!(others.role, Role::Data { .. }), "another session's flow is left alone");
        assert!(s.negotiations[0].conn.is_none());
        data.settle(&mut s, &mut budget);
        assert!(data.retired());
        assert_eq!(s.negotiations[0].conn.map(|c| c.syns), Some(3), "its latest facts are handed over");
        let mut control = probing(&mut budget, 10);
        let probe = control.take_probe().unwrap();
        control.become_control(0, Box::new(probe.channel), &mut budget);
        budget.set(&mut control.held, 10);
        control.settle(&mut s, &mut budget);
        assert!(matches!(control.role, Role::Other) && !control.retired(), "kept to recognise its last ACKs");
        assert_eq!(budget.held(), 0);
    }

    #[test]
    fn a_flow_that_leaves_the_table_hands_over_what_it_knew() {
        let mut budget = BufferBudget::new(1 << 20);
        let mut sessions: FxHashMap<u32, Box<SessionState>> = FxHashMap::default();
        sessions.insert(0, Box::new(session(0)));
        let mut control = Flow::new(conn(CLIENT, SERVER, 1), Role::Fresh);
        control.become_control(0, Box::new(Channel::new(&control.conn, 4096, 4096)), &mut budget);
        budget.set(&mut control.held, 25);
        control.conn.last_ts = Timestamp(42);
        assert_eq!(control.leave(&mut budget, &mut sessions), Some(0), "its session is looked at again");
        assert_eq!(sessions[&0].closed_at, Some(Timestamp(42)), "closed as of its last packet");
        assert_eq!(budget.held(), 0);
        let mut data = Flow::new(conn(DATA_CLIENT, DATA_SERVER, 7), Role::Data { session: 0, negotiation: 0 });
        data.conn.bytes_to_client = 1234;
        assert_eq!(data.leave(&mut budget, &mut sessions), None);
        assert_eq!(sessions[&0].negotiations[0].conn.map(|c| c.bytes_to_client), Some(1234));
        let orphan = Flow::new(
            conn(CLIENT, SERVER, 1),
            Role::Control { session: 9, channel: Box::new(Channel::new(&conn(CLIENT, SERVER, 1), 1, 1)) },
        );
        assert_eq!(orphan.leave(&mut budget, &mut sessions), None, "a session already settled");
    }

    #[test]
    fn a_new_connection_is_a_negotiations_when_expected_else_kept_untied() {
        let (mut expectations, mut untied) = (Expectations::default(), UntiedSyns::default());
        let (mut encrypted, client_only) = (EncryptedSessions::default(), ClientOnlySessions::default());
        let mut sessions: FxHashMap<u32, Box<SessionState>> = FxHashMap::default();
        sessions.insert(0, Box::new(session(0)));
        let c = conn(DATA_CLIENT, DATA_SERVER, 7);
        let role = at_opening(&mut expectations, &mut untied, &mut sessions, &mut encrypted, &client_only, Some(100), &c);
        assert!(matches!(role, Role::Fresh));
        assert_eq!(untied.len(), 1, "kept in case its negotiation is read just after");
        expectations.add(Expectation {
            session: 0,
            negotiation: 0,
            mode: Mode::Passive,
            advertised: addr(DATA_SERVER),
            control_client: addr(CLIENT).ip(),
            control_server: addr(SERVER).ip(),
            created: Timestamp(5),
        });
        let role = at_opening(&mut expectations, &mut untied, &mut sessions, &mut encrypted, &client_only, Some(100), &c);
        assert!(matches!(role, Role::Data { session: 0, negotiation: 0 }));
        assert_eq!(sessions[&0].negotiations[0].matched_by, Some(MatchedBy::Advertised));
        assert_eq!(untied.len(), 1, "not kept again");
    }

    #[test]
    fn under_tls_a_new_connection_between_the_hosts_is_a_probable_data_connection() {
        let (mut expectations, mut untied) = (Expectations::default(), UntiedSyns::default());
        let (mut encrypted, client_only) = (EncryptedSessions::default(), ClientOnlySessions::default());
        let mut s = session(4);
        s.tls_frame = Some(3);
        encrypted.note(&s);
        let mut sessions: FxHashMap<u32, Box<SessionState>> = FxHashMap::default();
        sessions.insert(4, Box::new(s));
        let c = conn(DATA_CLIENT, DATA_SERVER, 7);
        let role = at_opening(&mut expectations, &mut untied, &mut sessions, &mut encrypted, &client_only, Some(100), &c);
        assert!(matches!(role, Role::Probable { session: 4, index: 0 }));
        assert_eq!(sessions[&4].probable.len(), 1);
        assert!(untied.is_empty());
    }
}
