//! One FTP control connection's protocol state: commands matched to replies, negotiations,
//! transfers, TLS, credentials and anomalies. Fed complete lines in stream order.
//!
//! Owns: the meaning of the control channel. Must not touch: packets, reassembly, the data
//! connections themselves (it only announces, through [`Effect`], what the analyzer must expect).

use crate::ftp::in_force::{InForce, Setting};
use crate::ftp::parse::{self, Verb};
use crate::ftp::reply::{Reply, ReplyAssembler, ReplyEvent, PROTECTED_REPLIES};
use crate::model::login::REFUSAL_TEXT;
use crate::model::record::{MASK, TIMELINE_TEXT};
use crate::model::text_sample::TextSample;
use crate::model::transfer_record::{announced_in, Asked, DataType, SizeFrom};
use crate::model::{
    Anomaly, CommandLog, CommandReply, ControlStats, Directions, Login, LoginStep, MatchedBy, Mode, NegotiationCommand, Refusal, Side,
    Timeline, Timestamp,
};
use crate::tcp::flow::Conn;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

/// Limits that keep one hostile session from growing without bound.
const MAX_PENDING: usize = 64;
/// Negotiations kept per session; the rest are counted. One hostile session with 100k PASV
/// would otherwise hold hundreds of megabytes until it ends.
pub const MAX_NEGOTIATIONS: usize = 10_000;
const MAX_ANOMALIES: usize = 100;
pub const MAX_PROBABLE: usize = 1_000;
const MAX_TEXT: usize = 200;

#[derive(Debug, Clone)]
pub struct ReplyRef {
    pub code: u16,
    pub frame: u64,
    pub text: String,
}

/// The transfer command that used a negotiation.
#[derive(Debug, Clone)]
pub struct Transfer {
    /// The command's frame, or (command not captured) its first reply's.
    pub frame: u64,
    /// "RETR robots.txt", "LIST"; None when only the server's side is captured: the transfer is
    /// known from its replies (150, 226, 425), not which command asked for it.
    pub command: Option<String>,
    pub preliminary: Option<ReplyRef>,
    pub last: Option<ReplyRef>,
    /// The client sent ABOR while the transfer was running (frame): the 426 that follows is
    /// RFC 959's answer to it, not a failure.
    pub aborted: Option<u64>,
    /// What the control channel told of it: direction, path, directory, TYPE, REST, size.
    pub asked: Asked,
}

#[derive(Debug, Clone)]
pub struct NegState {
    pub frame: u64,
    pub ts: Timestamp,
    pub command: NegotiationCommand,
    pub argument: Option<String>,
    pub reply: Option<ReplyRef>,
    pub advertised: Option<SocketAddr>,
    pub implied: bool,
    /// The command is not in the capture (one direction only): inferred from its reply.
    pub command_implied: bool,
    /// The reply is not in the capture (one direction only): `advertised` is where the client
    /// connected after its command.
    pub reply_implied: bool,
    pub malformed: Option<&'static str>,
    pub transfer: Option<Transfer>,
    /// The data connection that followed, updated by the analyzer with every packet on it.
    pub conn: Option<Conn>,
    /// Its first bytes, counted for a TYPE A transfer (the analyzer's sample).
    pub text_sample: Option<TextSample>,
    /// Earlier connections to this negotiation's endpoint that did not open, oldest first: the
    /// client (or, active, the server) tried again and `conn` is the later try.
    pub earlier: Vec<Conn>,
    pub matched_by: Option<MatchedBy>,
    /// Another session's negotiation fitted `conn` as well and timing could not separate them
    /// (correlate's `Tie::ambiguous`).
    pub tie_ambiguous: bool,
    /// Another command, or the end of the control connection, came after this negotiation:
    /// the client moved on.
    pub followed: bool,
    /// Already announced: the negotiation itself (a `negotiation` event), its data outcome
    /// (a `data_outcome` event).
    pub announced: bool,
    pub outcome_announced: bool,
    /// What its data connection carried, hashed, once that connection's stream ended (only
    /// when asked: `Settings::hash_data`).
    pub content: crate::model::Content,
}

#[derive(Debug, Clone)]
struct Pending {
    verb: Verb,
    /// The command's frame (for an implied command, its reply's).
    frame: u64,
    /// The negotiation this command created.
    negotiation: Option<u32>,
    /// The negotiation whose data connection this transfer command uses.
    transfer_of: Option<u32>,
    /// Its entry in the command log, filled as its replies come: only for a command read on
    /// the wire (not a malformed line, not one implied by its reply), and only when the log is
    /// kept.
    log: Option<Box<CommandLog>>,
    /// What the command changes once its reply accepts it (TYPE, CWD, REST ...).
    setting: Option<Box<Setting>>,
}

/// What a line did that the analyzer must act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Negotiation `n` advertised an endpoint: a data connection may now follow.
    Expect(u32),
    /// The control channel is TLS, or protected by RFC 2228's mechanism, from now on.
    Encrypted,
    /// Negotiation `n` got its final reply: what it advertised is known.
    Answered(u32),
}

#[derive(Debug)]
pub struct SessionState {
    pub id: u32,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub first_frame: u64,
    pub start_ts: Timestamp,
    pub last_ts: Timestamp,
    pub user: Option<String>,
    pub banner: Option<String>,
    pub password_frame: Option<u64>,
    /// How the login goes: refusals, the reply that let the client in, who hung up.
    pub login: Login,
    pub tls_frame: Option<u64>,
    /// The first command or reply protected by RFC 2228's security mechanism (GSSAPI: ENC,
    /// MIC, CONF, 631-633): from there the lines are tokens, unreadable here and to any helper.
    pub gssapi_frame: Option<u64>,
    pub protected_data: bool,
    pub clear_again_frame: Option<u64>,
    /// Commands and replies read: 64 bits, as a control connection open for weeks (NOOPs)
    /// may pass 2^32.
    pub commands: u64,
    pub replies: u64,
    /// Which directions of the control connection the capture holds (kept up to date by the
    /// analyzer): with the server's side only, a passive reply is a negotiation of its own.
    pub directions: Directions,
    /// Captured one way: the frame that showed the other side's bytes are missing.
    pub one_way_frame: Option<u64>,
    pub negotiations: Vec<NegState>,
    pub negotiations_over_limit: u64,
    pub probable: Vec<Conn>,
    pub anomalies: Vec<Anomaly>,
    pub overlong_lines: u64,
    /// The control connection's transport facts, kept up to date by the analyzer.
    pub control: ControlStats,
    /// Frame and time of the last packet on the control connection.
    pub last_frame: u64,
    /// When the control connection closed (FIN both ways or RST).
    pub closed_at: Option<Timestamp>,
    /// The first lines of the control channel, passwords masked (the terminal UI shows them;
    /// none are kept unless the analyzer's settings ask).
    pub timeline: Timeline,
    /// Keep the command log: each command with its reply (the `command` events). Off, nothing
    /// of it is built.
    pub log_commands: bool,
    /// Commands settled (answered, or known never to be) since the analyzer last took them:
    /// it drains them after every segment, so this holds a segment's worth.
    pub logged: Vec<CommandLog>,
    /// TYPE, MODE, STRU, the directory, REST and SIZE, as the replies accepted them.
    in_force: InForce,
    replies_in: ReplyAssembler,
    pending: VecDeque<Pending>,
    auth_requested: bool,
}

impl SessionState {
    pub fn new(id: u32, conn: &Conn) -> SessionState {
        SessionState {
            id,
            client: conn.client,
            server: conn.server,
            first_frame: conn.first_frame,
            start_ts: conn.first_ts,
            last_ts: conn.first_ts,
            user: None,
            banner: None,
            password_frame: None,
            login: Login::default(),
            tls_frame: None,
            gssapi_frame: None,
            protected_data: false,
            clear_again_frame: None,
            commands: 0,
            replies: 0,
            directions: Directions::Both,
            one_way_frame: None,
            negotiations: Vec::new(),
            negotiations_over_limit: 0,
            probable: Vec::new(),
            anomalies: Vec::new(),
            overlong_lines: 0,
            control: ControlStats::default(),
            last_frame: conn.first_frame,
            closed_at: None,
            timeline: Timeline::default(),
            log_commands: false,
            logged: Vec::new(),
            in_force: InForce::default(),
            replies_in: ReplyAssembler::new(),
            pending: VecDeque::new(),
            auth_requested: false,
        }
    }

    /// Negotiation `n`'s transfer is TYPE A (its own, or, its command not read yet, the type in
    /// force) and its data in clear text: its bytes are worth a look as text.
    pub fn ascii_transfer(&self, n: u32) -> bool {
        if self.tls_frame.is_some() || self.protected_data {
            return false;
        }
        let asked = self.negotiations.get(n as usize).and_then(|neg| neg.transfer.as_ref()).map(|t| t.asked.data_type);
        asked.unwrap_or(self.in_force.data_type()) == DataType::Ascii
    }

    pub fn encrypted(&self) -> bool {
        self.tls_frame.is_some() && self.clear_again_frame.is_none()
    }

    /// Its commands cannot be read: under TLS, or protected by RFC 2228's mechanism (GSSAPI),
    /// whose lines still cross but as tokens.
    pub fn unreadable(&self) -> bool {
        self.encrypted() || self.gssapi_frame.is_some()
    }

    /// A line protected by RFC 2228's mechanism: the first one starts the protection.
    fn protected_line(&mut self, frame: u64, effects: &mut Vec<Effect>) {
        if self.gssapi_frame.is_none() && !self.encrypted() {
            self.gssapi_frame = Some(frame);
            effects.push(Effect::Encrypted);
        }
    }

    pub fn unanswered_commands(&self) -> u32 {
        self.pending.len() as u32
    }

    /// Bytes were lost on the server's side: a half-read multi-line reply is abandoned.
    pub fn server_gap(&mut self) {
        self.replies_in.reset();
    }

    /// Clear text resumed after TLS (CCC): what was pending was answered inside TLS.
    pub fn clear_again(&mut self, frame: u64) {
        self.clear_again_frame = Some(frame);
        for p in std::mem::take(&mut self.pending) {
            self.unanswered(p);
        }
        self.replies_in.reset();
    }

    /// The session settles: the commands still waiting are logged without a reply.
    pub fn settle_commands(&mut self) {
        for p in std::mem::take(&mut self.pending) {
            self.unanswered(p);
        }
    }

    /// A command that will get no reply the capture shows (or none readable): logged so.
    fn unanswered(&mut self, pending: Pending) {
        if let Some(log) = pending.log {
            self.logged.push(*log);
        }
    }

    fn anomaly(&mut self, frame: u64, kind: &'static str, reason: String, excerpt: String) {
        if self.anomalies.len() < MAX_ANOMALIES {
            self.anomalies.push(Anomaly { frame, kind, reason, excerpt });
        }
    }

    /// One line from the client.
    pub fn on_command(&mut self, frame: u64, ts: Timestamp, line: &[u8], effects: &mut Vec<Effect>) {
        self.last_ts = ts;
        let Some(cmd) = parse::parse_command(line) else {
            if !line.iter().all(|b| b.is_ascii_whitespace()) {
                // Only the leading letters are shown (the verb, if any): the rest of a garbled
                // line, even of its first word ("PASS:secret"), could be a password.
                let letters = line.iter().take(8).take_while(|b| b.is_ascii_alphabetic()).count();
                let mut excerpt = printable(at_most(line, letters));
                if letters < line.len() {
                    excerpt.push_str("...");
                }
                self.timeline.push(frame, ts, Side::Client, &excerpt);
                self.anomaly(frame, "malformed_command", format!("not an FTP command ({} bytes)", line.len()), excerpt);
                // The server answers it ("500 Unknown command."): it waits for a reply like any
                // command, or that reply would be paired with the next one.
                self.push_pending(Pending { verb: Verb::Other, frame, negotiation: None, transfer_of: None, log: None, setting: None });
            }
            return;
        };
        self.commands = self.commands.saturating_add(1);
        self.remember_command(frame, ts, line, &cmd);
        if let Some(last) = self.negotiations.last_mut() {
            last.followed = true;
        }
        let log = self.log_commands.then(|| Box::new(logged_command(frame, line, &cmd)));
        let setting = Setting::of(&cmd, || printable(at_most(cmd.arg, MAX_TEXT))).map(Box::new);
        let mut pending = Pending { verb: cmd.verb, frame, negotiation: None, transfer_of: None, log, setting };
        if let Some(step) = login_step(cmd.verb) {
            self.login.unanswered = Some((step, frame));
        }
        match cmd.verb {
            Verb::User => self.user = Some(printable(at_most(cmd.arg, 64))),
            // The password itself is never kept: only the fact that it crossed in clear text.
            Verb::Pass => self.password_frame = Some(frame),
            Verb::Auth => {
                let arg = cmd.arg.to_ascii_uppercase();
                self.auth_requested = arg.starts_with(b"TLS") || arg.starts_with(b"SSL");
            }
            Verb::Prot => self.protected_data = cmd.arg.eq_ignore_ascii_case(b"P"),
            Verb::Protected => self.protected_line(frame, effects),
            Verb::Port | Verb::Eprt | Verb::Lprt => {
                let (command, parsed) = match cmd.verb {
                    Verb::Port => (NegotiationCommand::PORT, parse::parse_port(cmd.arg).map(SocketAddr::V4)),
                    Verb::Eprt => (NegotiationCommand::EPRT, parse::parse_eprt(cmd.arg)),
                    _ => (NegotiationCommand::LPRT, parse::parse_lprt(cmd.arg)),
                };
                let mut neg = NegState::new(frame, ts, command);
                neg.argument = Some(printable(at_most(cmd.arg, MAX_TEXT)));
                match parsed {
                    // An IPv4-mapped IPv6 address (`EPRT |2|::ffff:192.0.2.10|..|`, from dual-stack
                    // sockets) is the IPv4 host: its data connection runs over IPv4.
                    Ok(addr) => neg.advertised = Some(SocketAddr::new(addr.ip().to_canonical(), addr.port())),
                    Err(m) => neg.malformed = Some(m.0),
                }
                let has_addr = neg.advertised.is_some();
                if let Some(n) = self.push_negotiation(neg) {
                    pending.negotiation = Some(n);
                    if has_addr {
                        effects.push(Effect::Expect(n));
                    }
                }
            }
            Verb::Pasv | Verb::Epsv | Verb::Lpsv => {
                let command = match cmd.verb {
                    Verb::Pasv => NegotiationCommand::PASV,
                    Verb::Epsv => NegotiationCommand::EPSV,
                    _ => NegotiationCommand::LPSV,
                };
                // "EPSV ALL" is a promise, not a request for a port.
                if !(command == NegotiationCommand::EPSV && cmd.arg.eq_ignore_ascii_case(b"ALL")) {
                    pending.negotiation = self.push_negotiation(NegState::new(frame, ts, command));
                }
            }
            Verb::List | Verb::Nlst | Verb::Mlsd | Verb::Retr | Verb::Stor | Verb::Stou | Verb::Appe => {
                // A transfer uses the latest negotiation, if no transfer used it yet.
                let n = self.negotiations.len().checked_sub(1);
                if let Some((n, neg)) = n.zip(self.negotiations.last_mut()) {
                    if neg.transfer.is_none() {
                        let verb = printable(cmd.name).to_ascii_uppercase();
                        let path = (!cmd.arg.is_empty()).then(|| printable(at_most(cmd.arg, MAX_TEXT)));
                        let mut text = verb.clone();
                        if let Some(path) = &path {
                            text.push(' ');
                            text.push_str(path);
                        }
                        let asked = self.in_force.for_transfer(&verb, path);
                        neg.transfer = Some(Transfer { frame, command: Some(text), preliminary: None, last: None, aborted: None, asked });
                        pending.transfer_of = Some(n as u32);
                    }
                }
            }
            Verb::Abor => {
                // The transfer still waiting for its final reply, if any.
                if let Some(t) = self.negotiations.last_mut().and_then(|n| n.transfer.as_mut()).filter(|t| t.last.is_none()) {
                    t.aborted.get_or_insert(frame);
                }
            }
            _ => {}
        }
        self.push_pending(pending);
    }

    /// Puts a command on the timeline; the argument of PASS and ACCT never: it is a secret.
    fn remember_command(&mut self, frame: u64, ts: Timestamp, line: &[u8], cmd: &parse::CommandLine<'_>) {
        self.timeline.push_with(frame, ts, Side::Client, |buf| masked_into(buf, line, cmd));
    }

    /// Past [`MAX_PENDING`] commands waiting, the oldest is given up: its reply was lost, or
    /// the capture holds the client's side only.
    fn push_pending(&mut self, pending: Pending) {
        if self.pending.len() >= MAX_PENDING {
            if let Some(oldest) = self.pending.pop_front() {
                self.unanswered(oldest);
            }
        }
        self.pending.push_back(pending);
    }

    /// Replies pair with commands in order, until the capture loses one (a reply, or a command
    /// and its reply). Codes that belong to one kind of command put the pairing right again:
    /// a 227 answers a passive-mode command, a 150 or 226 a transfer. Commands before the one
    /// such a reply fits were answered in the lost bytes. In order, nothing is dropped.
    fn realign(&mut self, code: u16) {
        let fits: fn(&Pending) -> bool = match code {
            227..=229 => |p| matches!(p.verb, Verb::Pasv | Verb::Epsv | Verb::Lpsv),
            125 | 150 | 226 => {
                |p| matches!(p.verb, Verb::List | Verb::Nlst | Verb::Mlsd | Verb::Retr | Verb::Stor | Verb::Stou | Verb::Appe)
            }
            _ => return,
        };
        if self.pending.front().is_none_or(fits) {
            return;
        }
        if let Some(i) = self.pending.iter().position(fits) {
            for _ in 0..i {
                if let Some(p) = self.pending.pop_front() {
                    self.unanswered(p);
                }
            }
        }
    }

    fn push_negotiation(&mut self, neg: NegState) -> Option<u32> {
        if self.negotiations.len() >= MAX_NEGOTIATIONS {
            self.negotiations_over_limit = self.negotiations_over_limit.saturating_add(1);
            return None;
        }
        if self.negotiations.is_empty() {
            // Most sessions negotiate once or twice: Vec's first allocation (four of these)
            // would be most of a session's memory.
            self.negotiations.reserve_exact(1);
        }
        let index = u32::try_from(self.negotiations.len()).ok()?;
        self.negotiations.push(neg);
        Some(index)
    }

    /// One line from the server.
    pub fn on_reply_line(&mut self, frame: u64, ts: Timestamp, line: &[u8], effects: &mut Vec<Effect>) {
        self.last_ts = ts;
        self.timeline.push_with(frame, ts, Side::Server, |buf| printable_into(buf, at_most(line, TIMELINE_TEXT)));
        match self.replies_in.push_line(line) {
            None => {}
            Some(ReplyEvent::Garbage { reason }) => {
                self.anomaly(frame, "malformed_reply", reason.to_string(), printable(at_most(line, 80)));
                // Still the server's answer to the oldest command: leaving that command pending
                // would pair every later reply with the wrong command.
                if let Some(p) = self.pending.pop_front() {
                    self.unanswered(p);
                }
            }
            Some(ReplyEvent::Reply(reply)) => {
                if let Some(reason) = reply.malformed {
                    self.anomaly(frame, "malformed_reply", reason.to_string(), printable(at_most(line, 80)));
                }
                self.on_reply(frame, ts, &reply, effects);
                self.replies_in.recycle(reply);
            }
        }
    }

    fn on_reply(&mut self, frame: u64, ts: Timestamp, reply: &Reply, effects: &mut Vec<Effect>) {
        self.replies = self.replies.saturating_add(1);
        if PROTECTED_REPLIES.contains(&reply.code) {
            self.protected_line(frame, effects);
        }
        self.login.last_reply_frame = Some(frame);
        let first_line = reply.text.split(|&b| b == b'\n').next().unwrap_or(&[]);
        // Made only for the replies that are kept: most (331, 230, 200 ...) are not.
        let reply_ref = || ReplyRef { code: reply.code, frame, text: printable(at_most(first_line, MAX_TEXT)) };
        // The greeting is the first reply, whatever the client sent before it.
        if reply.code == 220 && self.banner.is_none() && self.replies == 1 {
            self.banner = Some(reply_ref().text);
            return;
        }
        // A greeting that refuses (421 too many connections, 500 OOPS): the session itself. With
        // a command waiting, the first reply may be its answer (the greeting not captured).
        if reply.code >= 400 && self.banner.is_none() && self.replies == 1 && self.pending.is_empty() {
            self.refused(None, None, frame, ts, reply.code, first_line);
            return;
        }
        let preliminary = (100..200).contains(&reply.code);
        self.realign(reply.code);
        if self.pending.is_empty() && self.directions == Directions::ServerToClient {
            self.implied_command(frame, ts, reply.code);
        }
        let Some(front) = self.pending.front_mut() else {
            // Unsolicited: 421 on timeout or shutdown, a second greeting line ...
            if refuses_session(reply.code, first_line) {
                self.refused(None, None, frame, ts, reply.code, first_line);
            }
            return;
        };
        let command_reply = || CommandReply { code: reply.code, text: printable(at_most(first_line, MAX_TEXT)), frame };
        if preliminary {
            // The first preliminary reply is kept ("150 Opening ..."); later ones add nothing.
            if let Some(log) = front.log.as_mut() {
                log.preliminary.get_or_insert_with(command_reply);
            }
        }
        let front = Pending { log: None, setting: None, ..*front };
        if !preliminary {
            if let Some(answered) = self.pending.pop_front() {
                if let Some(mut log) = answered.log {
                    log.reply = Some(command_reply());
                    self.logged.push(*log);
                }
                if let Some(setting) = answered.setting {
                    self.in_force.answered(*setting, reply.code, &printable(at_most(first_line, MAX_TEXT)));
                }
            }
            self.on_login_reply(&front, frame, ts, reply.code, first_line);
        }
        if front.verb == Verb::Auth && reply.code == 234 && self.auth_requested {
            self.tls_frame = Some(frame);
            effects.push(Effect::Encrypted);
        }
        if let Some(n) = front.transfer_of {
            if let Some(t) = self.negotiations.get_mut(n as usize).and_then(|neg| neg.transfer.as_mut()) {
                if preliminary {
                    let first = reply_ref();
                    if let Some(size) = announced_in(&first.text) {
                        t.asked.announced = Some((size, SizeFrom::Preliminary));
                    }
                    t.preliminary = Some(first);
                } else {
                    t.last = Some(reply_ref());
                }
            }
        }
        if let Some(n) = front.negotiation {
            if preliminary {
                return;
            }
            let server_ip = self.server.ip();
            let Some(neg) = self.negotiations.get_mut(n as usize) else { return };
            neg.reply = Some(reply_ref());
            effects.push(Effect::Answered(n));
            if neg.command.mode() == Mode::Passive {
                if let Some(result) = parse_passive_reply(reply.code, &reply.text, server_ip) {
                    match result {
                        Ok((addr, implied)) => {
                            neg.advertised = Some(addr);
                            neg.implied = implied;
                            effects.push(Effect::Expect(n));
                        }
                        Err(m) => neg.malformed = Some(m.0),
                    }
                }
            }
        }
    }
}

impl SessionState {
    /// A final reply: what it says of the login, if anything. Replies to a negotiation or a
    /// transfer are theirs (a 421 there is the transfer's reply too, told by its verdict).
    fn on_login_reply(&mut self, front: &Pending, frame: u64, ts: Timestamp, code: u16, text: &[u8]) {
        let step = login_step(front.verb);
        if step.is_some() && self.login.unanswered.is_some_and(|(_, f)| f == front.frame) {
            self.login.unanswered = None;
        }
        if front.negotiation.is_some() || front.transfer_of.is_some() {
            return;
        }
        match (step, code) {
            (Some(_), 230 | 232) => self.login.accepted_frame = Some(frame),
            (Some(step), 400..) => self.refused(Some(step), Some(front.frame), frame, ts, code, text),
            // Another command refused with the session, or for want of a login.
            (None, _) if refuses_session(code, text) || (code == 530 && self.login.accepted_frame.is_none()) => {
                self.refused(Some(LoginStep::Other), Some(front.frame), frame, ts, code, text)
            }
            _ => {}
        }
    }

    fn refused(&mut self, step: Option<LoginStep>, command_frame: Option<u64>, frame: u64, time: Timestamp, code: u16, text: &[u8]) {
        let text = printable(at_most(text, REFUSAL_TEXT));
        self.login.refuse(Refusal { step, command_frame, user: self.user.clone(), code, frame, time, text });
    }

    /// Only the server's side is captured: a passive-mode reply answers a command the capture
    /// does not hold, named by the reply's code. It still advertises an endpoint, and the data
    /// connection that follows is tied to it as usual. A transfer's first reply (125, 150, or
    /// 425 when the data connection never came) after an answered negotiation starts a
    /// transfer of that negotiation, its command unknown: its final reply (226, 425, 426) is
    /// read as the transfer's. Other replies answer commands that cannot be known: they stay
    /// unsolicited.
    fn implied_command(&mut self, frame: u64, ts: Timestamp, code: u16) {
        let (verb, command) = match code {
            227 => (Verb::Pasv, NegotiationCommand::PASV),
            228 => (Verb::Lpsv, NegotiationCommand::LPSV),
            229 => (Verb::Epsv, NegotiationCommand::EPSV),
            125 | 150 | 425 => return self.implied_transfer(frame),
            _ => return,
        };
        if let Some(last) = self.negotiations.last_mut() {
            last.followed = true;
        }
        let mut neg = NegState::new(frame, ts, command);
        neg.command_implied = true;
        let negotiation = self.push_negotiation(neg);
        self.push_pending(Pending { verb, frame, negotiation, transfer_of: None, log: None, setting: None });
    }

    fn implied_transfer(&mut self, frame: u64) {
        let Some(n) = self.negotiations.len().checked_sub(1) else { return };
        let Some(neg) = self.negotiations.get_mut(n) else { return };
        if neg.transfer.is_some() || neg.reply.as_ref().is_none_or(|r| r.code >= 300) {
            return;
        }
        let asked = self.in_force.for_unknown_transfer();
        neg.transfer = Some(Transfer { frame, command: None, preliminary: None, last: None, aborted: None, asked });
        // Any transfer verb: what the replies are matched against.
        self.push_pending(Pending { verb: Verb::List, frame, negotiation: None, transfer_of: Some(n as u32), log: None, setting: None });
    }
}

/// A command as the log and the timeline show it: its line, printable, cut at
/// [`TIMELINE_TEXT`] bytes; the argument of PASS and ACCT never (it is a secret), only [`MASK`].
fn masked_into(buf: &mut String, line: &[u8], cmd: &parse::CommandLine<'_>) {
    // A protected command's token: MIC's (integrity only) carries the command in clear, which
    // may be a PASS. ADAT's carries the client's credentials (a Kerberos ticket).
    if matches!(cmd.verb, Verb::Pass | Verb::Acct | Verb::Protected) || cmd.name.eq_ignore_ascii_case(b"ADAT") {
        printable_into(buf, cmd.name);
        if !cmd.arg.is_empty() {
            buf.push(' ');
            buf.push_str(MASK);
        }
    } else {
        printable_into(buf, at_most(line, TIMELINE_TEXT));
    }
}

/// A command's entry in the log, its replies still to come.
fn logged_command(frame: u64, line: &[u8], cmd: &parse::CommandLine<'_>) -> CommandLog {
    let mut command = String::new();
    masked_into(&mut command, line, cmd);
    command.truncate(command.trim_end().len());
    CommandLog { command, command_frame: frame, preliminary: None, reply: None }
}

/// The login command a verb is, if it is one.
fn login_step(verb: Verb) -> Option<LoginStep> {
    match verb {
        Verb::User => Some(LoginStep::User),
        Verb::Pass => Some(LoginStep::Pass),
        Verb::Acct => Some(LoginStep::Acct),
        _ => None,
    }
}

/// A reply that ends the session whatever it answers: 421 (service not available, closing the
/// control connection) and vsftpd's `500 OOPS:` (its process gave up).
fn refuses_session(code: u16, text: &[u8]) -> bool {
    code == 421 || (code == 500 && text.get(..5).is_some_and(|t| t.eq_ignore_ascii_case(b"OOPS:")))
}

/// The endpoint announced by a passive-mode reply, by reply code (servers answer EPSV with 227
/// and PASV with 229): None when the code announces nothing. The bool says the address was
/// implied (EPSV gives only a port: the control connection's server address is meant).
fn parse_passive_reply(code: u16, text: &[u8], server: IpAddr) -> Option<Result<(SocketAddr, bool), parse::Malformed>> {
    Some(match code {
        227 => parse::parse_227(text).map(|a| (SocketAddr::V4(a), false)),
        228 => parse::parse_228(text).map(|a| (SocketAddr::new(a.ip().to_canonical(), a.port()), false)),
        229 => parse::parse_229(text).map(|e| match e.addr {
            Some(ip) => (SocketAddr::new(ip.to_canonical(), e.port), false),
            None => (SocketAddr::new(server, e.port), true),
        }),
        _ => return None,
    })
}

impl NegState {
    pub(crate) fn new(frame: u64, ts: Timestamp, command: NegotiationCommand) -> NegState {
        NegState {
            frame,
            ts,
            command,
            argument: None,
            reply: None,
            advertised: None,
            implied: false,
            command_implied: false,
            reply_implied: false,
            malformed: None,
            transfer: None,
            conn: None,
            text_sample: None,
            earlier: Vec::new(),
            matched_by: None,
            tie_ambiguous: false,
            followed: false,
            announced: false,
            outcome_announced: false,
            content: crate::model::Content::default(),
        }
    }
}

/// Bytes from the wire made safe to print: printable ASCII kept, anything else escaped.
pub fn printable(bytes: &[u8]) -> String {
    // Escapes end in a hex digit, so the output's trailing blanks are the input's trailing spaces:
    // they are left out before, not trimmed after.
    let end = bytes.iter().rposition(|&b| b != b' ').map_or(0, |last| last.saturating_add(1));
    let bytes = bytes.get(..end).unwrap_or(bytes);
    let mut s = String::with_capacity(bytes.len());
    printable_into(&mut s, bytes);
    s
}

/// The first `n` bytes of `bytes`, or all of them if fewer.
fn at_most(bytes: &[u8], n: usize) -> &[u8] {
    bytes.get(..n).unwrap_or(bytes)
}

/// [`printable`] appended to `out` (trailing blanks kept).
pub fn printable_into(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let is_printable = |b: &u8| (0x20..0x7f).contains(b);
    // Nearly every line is printable throughout: one pass without an early exit (the compiler
    // checks many bytes at a time), then one copy.
    if bytes.iter().fold(true, |all, b| all & is_printable(b)) {
        // Printable ASCII is UTF-8: the conversion cannot fail.
        out.push_str(std::str::from_utf8(bytes).unwrap_or_default());
        return;
    }
    let mut rest = bytes;
    loop {
        // Runs of printable ASCII are copied at once, not a char at a time.
        let run = rest.iter().position(|b| !is_printable(b)).unwrap_or(rest.len());
        let (printable, after) = rest.split_at(run);
        out.push_str(std::str::from_utf8(printable).unwrap_or_default());
        let Some((&b, after)) = after.split_first() else { return };
        // A nibble (b >> 4, b & 15) is below 16, the table's length.
        #[allow(clippy::indexing_slicing)]
        let (high, low) = (HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]);
        out.push_str("\\x");
        out.push(high as char);
        out.push(low as char);
        rest = after;
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::login::MAX_REFUSALS;

    fn session() -> SessionState {
        let conn = Conn::new("192.168.1.10:40000".parse().unwrap(), "203.0.113.5:21".parse().unwrap(), 1, Timestamp(0));
        SessionState::new(0, &conn)
    }

    /// Feeds a script of ("C"|"S", line) with frames numbered from 1; returns the effects.
    fn feed(s: &mut SessionState, script: &[(&str, &[u8])]) -> Vec<Effect> {
        let mut effects = Vec::new();
        for (i, (side, line)) in script.iter().enumerate() {
            let frame = i as u64 + 1;
            match *side {
                "C" => s.on_command(frame, Timestamp(frame as i64), line, &mut effects),
                _ => s.on_reply_line(frame, Timestamp(frame as i64), line, &mut effects),
            }
        }
        effects
    }

    #[test]
    fn pipelined_commands_pair_with_replies_in_order() {
        let mut s = session();
        let effects = feed(
            &mut s,
            &[
                ("S", b"220 (vsFTPd 3.0.3)"),
                ("C", b"USER anonymous"),
                ("C", b"PASS secret"),
                ("C", b"PASV"),
                ("S", b"331 Please specify the password."),
                ("S", b"230 Login successful."),
                ("S", b"227 Entering Passive Mode (10,0,0,20,156,64)."),
            ],
        );
        assert_eq!(s.banner.as_deref(), Some("(vsFTPd 3.0.3)"));
        assert_eq!(s.user.as_deref(), Some("anonymous"));
        assert_eq!(s.password_frame, Some(3));
        let n = &s.negotiations[0];
        assert_eq!(n.reply.as_ref().map(|r| (r.code, r.frame)), Some((227, 7)));
        assert_eq!(n.advertised, Some("10.0.0.20:40000".parse().unwrap()));
        assert_eq!(effects, vec![Effect::Answered(0), Effect::Expect(0)]);
        assert_eq!(s.unanswered_commands(), 0);
    }

    #[test]
    fn passive_replies_are_read_by_code_not_by_command() {
        let mut s = session();
        feed(
            &mut s,
            &[("C", b"EPSV"), ("S", b"227 Entering Passive Mode (203,0,113,5,4,1)"), ("C", b"PASV"), ("S", b"229 Extended (|||6446|)")],
        );
        assert_eq!(s.negotiations[0].advertised, Some("203.0.113.5:1025".parse().unwrap()));
        assert!(!s.negotiations[0].implied);
        assert_eq!(s.negotiations[1].advertised, Some("203.0.113.5:6446".parse().unwrap()));
        assert!(s.negotiations[1].implied, "229 without an address means the control connection's");
    }

    #[test]
    fn transfer_replies_and_abort_pair_up() {
        let mut s = session();
        feed(
            &mut s,
            &[
                ("C", b"PORT 192,168,1,10,20,0"),
                ("S", b"200 PORT command successful."),
                ("C", b"RETR big.iso"),
                ("S", b"150 Opening BINARY mode"),
                ("C", b"\xff\xf4\xff\xf2ABOR"),
                ("S", b"426 Transfer aborted."),
                ("S", b"226 Abort successful"),
            ],
        );
        let t = s.negotiations[0].transfer.as_ref().unwrap();
        assert_eq!(t.command.as_deref(), Some("RETR big.iso"));
        assert!(t.aborted.is_some(), "the ABOR came while the transfer ran");
        assert_eq!(t.preliminary.as_ref().map(|r| r.code), Some(150));
        assert_eq!(t.last.as_ref().map(|r| r.code), Some(426));
        assert_eq!(s.negotiations[0].command.mode(), Mode::Active);
        assert_eq!(s.unanswered_commands(), 0);
    }

    #[test]
    fn a_lost_reply_does_not_shift_the_227() {
        let mut s = session();
        // "200 Switching to Binary mode." to TYPE I was lost before the capture point.
        feed(&mut s, &[("C", b"TYPE I"), ("C", b"PASV"), ("S", b"227 Entering Passive Mode (203,0,113,5,4,1)")]);
        assert_eq!(s.negotiations[0].reply.as_ref().map(|r| r.code), Some(227));
        assert!(s.negotiations[0].advertised.is_some());
    }

    #[test]
    fn a_garbled_reply_still_answers_its_command() {
        let mut s = session();
        feed(&mut s, &[("C", b"SYST"), ("S", b"2x5 UNIX Type: L8"), ("C", b"PASV"), ("S", b"227 (203,0,113,5,4,1)")]);
        assert_eq!(s.anomalies.len(), 1);
        assert_eq!(s.negotiations[0].reply.as_ref().map(|r| r.frame), Some(4));
    }

    #[test]
    fn auth_tls_encrypts_and_garbage_commands_show_only_their_leading_letters() {
        let mut s = session();
        let effects = feed(
            &mut s,
            &[("C", b"pass:hunter2 extra"), ("C", b"AUTH TLS"), ("S", b"500 Unknown command."), ("S", b"234 Proceed with negotiation.")],
        );
        assert_eq!(s.anomalies[0].excerpt, "pass...");
        assert!(!s.anomalies[0].excerpt.contains("hunter2"), "a password glued to its verb stays hidden");
        assert!(!s.anomalies[0].excerpt.contains("extra"));
        assert_eq!(s.tls_frame, Some(4));
        assert!(s.encrypted());
        assert_eq!(effects, vec![Effect::Encrypted]);
    }

    #[test]
    fn the_login_keeps_its_refusals_and_the_reply_that_let_the_client_in() {
        let mut s = session();
        feed(
            &mut s,
            &[
                ("S", b"220 (vsFTPd 3.0.3)"),
                ("C", b"USER alice"),
                ("S", b"331 Please specify the password."),
                ("C", b"PASS wrong"),
                ("S", b"530 Login incorrect."),
                ("C", b"USER alice"),
                ("S", b"331 Please specify the password."),
                ("C", b"PASS right"),
                ("S", b"230 Login successful."),
                ("C", b"QUIT"),
                ("S", b"221 Goodbye."),
            ],
        );
        let r = &s.login.refusals;
        assert_eq!(s.login.refused, 1);
        assert_eq!((r[0].step, r[0].command_frame, r[0].frame, r[0].code), (Some(LoginStep::Pass), Some(4), 5, 530));
        assert_eq!((r[0].user.as_deref(), r[0].text.as_str()), (Some("alice"), "Login incorrect."));
        assert_eq!(s.login.accepted_frame, Some(9));
        assert!(s.login.accepted_after(5));
        assert_eq!(s.login.unanswered, None, "every login command answered");
        assert_eq!(s.login.last_reply_frame, Some(11));
        let kept = format!("{:?}", s.login);
        assert!(!kept.contains("wrong") && !kept.contains("right"), "no password kept: {kept}");
    }

    #[test]
    fn a_refusing_greeting_and_an_unanswered_password_are_kept() {
        let mut s = session();
        feed(&mut s, &[("S", b"421 There are too many connections from your internet address.")]);
        let r = &s.login.refusals[0];
        assert_eq!((r.step, r.command_frame, r.code, s.banner.as_deref()), (None, None, 421, None));
        let mut s = session();
        feed(&mut s, &[("S", b"220 ready"), ("C", b"USER bob"), ("S", b"331 Password?"), ("C", b"PASS x")]);
        assert_eq!(s.login.unanswered, Some((LoginStep::Pass, 4)));
        assert!(s.login.refusals.is_empty());
        // Past the bound, refusals are counted.
        let mut s = session();
        let mut script: Vec<(&str, &[u8])> = vec![("S", b"220 ready")];
        for _ in 0..MAX_REFUSALS + 3 {
            script.extend([("C", &b"USER root"[..]), ("S", b"331 Password?"), ("C", b"PASS guess"), ("S", b"530 Login incorrect.")]);
        }
        feed(&mut s, &script);
        assert_eq!((s.login.refusals.len(), s.login.refused), (MAX_REFUSALS, MAX_REFUSALS as u32 + 3));
    }

    #[test]
    fn a_refusal_of_the_session_is_kept_whatever_it_answers_but_a_transfer_s_is_the_transfer_s() {
        let mut s = session();
        feed(&mut s, &[("S", b"220 ready"), ("C", b"CWD /x"), ("S", b"500 OOPS: cannot change directory:/x")]);
        assert_eq!(s.login.refusals[0].step, Some(LoginStep::Other));
        let mut s = session();
        feed(
            &mut s,
            &[("S", b"220 ready"), ("C", b"PORT 10,0,0,1,4,1"), ("S", b"200 ok"), ("C", b"LIST"), ("S", b"500 OOPS: vsf_sysutil_bind")],
        );
        assert!(s.login.refusals.is_empty(), "the transfer's reply: its verdict tells it");
    }

    #[test]
    fn malformed_port_is_kept_as_a_negotiation_with_its_reason() {
        let mut s = session();
        let effects = feed(&mut s, &[("C", b"PORT 10,0,0,257,4,1"), ("S", b"501 Illegal PORT command.")]);
        assert_eq!(effects, vec![Effect::Answered(0)], "nothing to expect, but the answer is news");
        let n = &s.negotiations[0];
        assert!(n.malformed.is_some() && n.advertised.is_none());
        assert_eq!(n.reply.as_ref().map(|r| r.code), Some(501));
    }

    #[test]
    fn the_timeline_keeps_lines_in_order_and_never_a_password() {
        let mut s = session();
        s.timeline.keep(crate::model::record::TIMELINE_LINES);
        feed(
            &mut s,
            &[
                ("S", b"220 (vsFTPd 3.0.3)"),
                ("C", b"USER bob"),
                ("S", b"331 Please specify the password."),
                ("C", b"pass hunter2"),
                ("C", b"ACCT hunter3"),
                ("C", b"PASS:hunter4"),
                ("C", b"PASV"),
            ],
        );
        let lines: Vec<(u64, Side, &str)> = s.timeline.iter().map(|l| (l.frame, l.from, l.text)).collect();
        assert_eq!(
            lines,
            vec![
                (1, Side::Server, "220 (vsFTPd 3.0.3)"),
                (2, Side::Client, "USER bob"),
                (3, Side::Server, "331 Please specify the password."),
                (4, Side::Client, "pass ••••"),
                (5, Side::Client, "ACCT ••••"),
                (6, Side::Client, "PASS..."),
                (7, Side::Client, "PASV"),
            ]
        );
        assert!(s.timeline.iter().all(|l| !l.text.contains("hunter")));
    }

    #[test]
    fn with_the_server_side_only_a_passive_reply_is_a_negotiation() {
        let mut s = session();
        // Both sides captured: a 227 nobody asked for is unsolicited.
        feed(&mut s, &[("S", b"220 (vsFTPd 3.0.3)"), ("S", b"227 Entering Passive Mode (203,0,113,5,4,1)")]);
        assert!(s.negotiations.is_empty());
        let mut s = session();
        s.directions = Directions::ServerToClient;
        let effects = feed(
            &mut s,
            &[
                ("S", b"220 (vsFTPd 3.0.3)"),
                ("S", b"331 Please specify the password."),
                ("S", b"229 Entering Extended Passive Mode (|||6446|)"),
                ("S", b"150 Here comes the directory listing."),
                ("S", b"226 Directory send OK."),
            ],
        );
        assert_eq!(effects, vec![Effect::Answered(0), Effect::Expect(0)]);
        let n = &s.negotiations[0];
        assert!(n.command_implied);
        assert_eq!((n.command, n.frame), (NegotiationCommand::EPSV, 3));
        assert_eq!(n.reply.as_ref().map(|r| (r.code, r.frame)), Some((229, 3)));
        assert_eq!(n.advertised, Some("203.0.113.5:6446".parse().unwrap()));
        // Its transfer, from its replies alone: 150 (frame 4) starts it, 226 (frame 5) ends it.
        let t = n.transfer.as_ref().expect("a transfer implied by 150");
        assert_eq!((t.command.as_deref(), t.frame), (None, 4));
        assert_eq!((t.preliminary.as_ref().map(|r| r.code), t.last.as_ref().map(|r| r.code)), (Some(150), Some(226)));
    }

    #[test]
    fn with_the_server_side_only_a_transfer_needs_an_answered_negotiation_without_one() {
        let mut s = session();
        s.directions = Directions::ServerToClient;
        // A 150 before any negotiation, and a second 150 after the first transfer: neither is
        // a transfer of the negotiation (the second LIST would have needed its own PASV).
        let lines: [(&str, &[u8]); 6] = [
            ("S", b"220 (vsFTPd 3.0.3)"),
            ("S", b"150 Here comes the directory listing."),
            ("S", b"227 Entering Passive Mode (203,0,113,5,4,1)"),
            ("S", b"425 Failed to establish connection."),
            ("S", b"150 Here comes the directory listing."),
            ("S", b"226 Directory send OK."),
        ];
        feed(&mut s, &lines);
        assert_eq!(s.negotiations.len(), 1);
        let t = s.negotiations[0].transfer.as_ref().unwrap();
        assert_eq!((t.frame, t.preliminary.is_none(), t.last.as_ref().map(|r| r.code)), (4, true, Some(425)));
    }

    /// A session that keeps the command log.
    fn logging() -> SessionState {
        SessionState { log_commands: true, ..session() }
    }

    /// A log entry as (command, command frame, preliminary code, final code and frame).
    type Entry<'a> = (&'a str, u64, Option<u16>, Option<(u16, u64)>);

    fn log(s: &SessionState) -> Vec<Entry<'_>> {
        s.logged
            .iter()
            .map(|l| {
                (l.command.as_str(), l.command_frame, l.preliminary.as_ref().map(|p| p.code), l.reply.as_ref().map(|r| (r.code, r.frame)))
            })
            .collect()
    }

    #[test]
    fn the_command_log_pairs_each_command_with_its_final_reply_and_masks_passwords() {
        let mut s = logging();
        feed(
            &mut s,
            &[
                ("S", b"220 ready"),
                ("C", b"USER carol"),
                ("S", b"331 Please specify the password."),
                ("C", b"pass hunter2"),
                ("S", b"230 Login successful."),
                ("C", b"garbage\x01"),
                ("S", b"500 Unknown command."),
                ("C", b"PASV"),
                ("S", b"227 Entering Passive Mode (203,0,113,5,4,1)."),
                ("C", b"RETR a.txt"),
                ("S", b"150 Opening BINARY mode data connection."),
                ("S", b"150 Again."),
                ("S", b"226 Transfer complete."),
                ("C", b"ACCT hunter3"),
                ("C", b"QUIT"),
            ],
        );
        // The malformed line is answered (its 500 pairs with it) but is no command of the log;
        // the two last are waiting.
        assert_eq!(
            log(&s),
            vec![
                ("USER carol", 2, None, Some((331, 3))),
                ("pass ••••", 4, None, Some((230, 5))),
                ("PASV", 8, None, Some((227, 9))),
                ("RETR a.txt", 10, Some(150), Some((226, 13))),
            ]
        );
        assert_eq!(
            s.logged[3].preliminary.as_ref().map(|p| (p.frame, p.text.as_str())),
            Some((11, "Opening BINARY mode data connection."))
        );
        assert_eq!(s.logged[3].reply.as_ref().map(|r| r.text.as_str()), Some("Transfer complete."));
        s.logged.clear();
        s.settle_commands();
        assert_eq!(log(&s), vec![("ACCT ••••", 14, None, None), ("QUIT", 15, None, None)], "settled unanswered");
        assert!(s.logged.iter().all(|l| !l.command.contains("hunter")));
    }

    #[test]
    fn the_command_log_settles_commands_whose_replies_were_lost_and_logs_no_implied_command() {
        let mut s = logging();
        // The 200 to TYPE I was lost: the 227 shows it will not come.
        feed(&mut s, &[("C", b"TYPE I"), ("C", b"PASV"), ("S", b"227 Entering Passive Mode (203,0,113,5,4,1)")]);
        assert_eq!(log(&s), vec![("TYPE I", 1, None, None), ("PASV", 2, None, Some((227, 3)))]);
        // The server's side only: replies without commands log nothing.
        let mut s = logging();
        s.directions = Directions::ServerToClient;
        feed(
            &mut s,
            &[("S", b"220 ready"), ("S", b"227 Entering Passive Mode (203,0,113,5,4,1)"), ("S", b"150 Here."), ("S", b"226 Done.")],
        );
        assert!(s.logged.is_empty() && s.negotiations.len() == 1);
        // The client's side only: past the bound of waiting commands, the oldest settle unanswered.
        let mut s = logging();
        s.directions = Directions::ClientToServer;
        let script: Vec<(&str, &[u8])> = (0..MAX_PENDING + 2).map(|_| ("C", &b"NOOP"[..])).collect();
        feed(&mut s, &script);
        assert_eq!(log(&s), vec![("NOOP", 1, None, None), ("NOOP", 2, None, None)]);
        // Off (the default): nothing of the log is built.
        let mut s = session();
        feed(&mut s, &[("C", b"USER bob"), ("S", b"331 Password?"), ("C", b"QUIT")]);
        s.settle_commands();
        assert!(s.logged.is_empty());
    }

    #[test]
    fn printable_escapes_bytes() {
        assert_eq!(printable(b"a\x00b\xffc  "), "a\\x00b\\xffc");
        // Only the trailing blanks go: one before an escaped byte stays.
        assert_eq!(printable(b"227 ok \r"), "227 ok \\x0d");
        assert_eq!((printable(b"   "), printable(b"")), (String::new(), String::new()));
    }
}
