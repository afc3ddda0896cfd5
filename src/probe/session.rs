//! The probe's FTP session, step by step: connect, banner, login, FEAT, SYST, PWD, then each
//! data mode (PASV, EPSV, PORT, EPRT) negotiated and a directory listed over it, QUIT. Every
//! step has a deadline (the step's timeout, never past the whole probe's), and every socket
//! only ever goes to the server's own address: a passive reply naming another host is judged,
//! not followed, unless the caller asks.
//!
//! Owns the sockets' I/O. What was seen goes into [`Observed`]; nothing is judged here.

use super::control::{left, Control, NoReply};
use super::observed::{Attempt, Dial, Observed, Reply, Stopped, TlsSeen};
use super::tls::{Tls, Wire};
use crate::ftp::parse::{parse_227, parse_229};
use crate::model::record::MASK;
use crate::model::NegotiationCommand;
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant, SystemTime};

/// Most bytes of one listing read (the verdict needs the transfer to complete, not the list).
const MAX_LISTING: u64 = 1 << 20;
/// Most replies read while waiting for one step's own (late replies of a failed transfer).
const MAX_STRAY_REPLIES: usize = 8;
/// A passive data connection is waited for at least this long, whatever the step's timeout:
/// long enough for one SYN retransmission (Linux sends it after 1 s), so that a capture shows
/// the SYN went unanswered rather than cut short.
const DATA_WAIT_MIN: Duration = Duration::from_millis(1500);
/// How often an active-mode listener is looked at.
const ACCEPT_POLL: Duration = Duration::from_millis(10);

/// How the session runs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub server: SocketAddr,
    pub user: Option<String>,
    /// The password (FTPSCOPE_PASSWORD or the prompt's), for a named user. Sent, never kept.
    pub password: Option<String>,
    pub path: String,
    pub step: Duration,
    pub total: Duration,
    /// Connect to a passive reply's address even when it is not the server's.
    pub follow_advertised: bool,
    pub modes: Vec<NegotiationCommand>,
    /// `--tls`: AUTH TLS, then PBSZ 0 and PROT P, every data connection in TLS.
    pub tls: Option<Tls>,
}

/// The data modes tried, in order: passive first (what works for most clients), the extended
/// commands after their classic ones. Over IPv6 only the extended ones: PASV and PORT carry
/// IPv4 addresses alone (RFC 2428).
pub fn modes(server: SocketAddr) -> Vec<NegotiationCommand> {
    use NegotiationCommand::*;
    if server.is_ipv6() {
        vec![EPSV, EPRT]
    } else {
        vec![PASV, EPSV, PORT, EPRT]
    }
}

/// Runs the session; `progress` hears each step's name.
pub fn run(plan: &Plan, progress: &mut dyn FnMut(&str)) -> Observed {
    let started = SystemTime::now();
    let end = Instant::now() + plan.total;
    let user = plan.user.clone().unwrap_or_else(|| "anonymous".into());
    let mut seen = Observed {
        server: plan.server,
        local: None,
        started,
        connected_at: None,
        ended: started,
        lines: Vec::new(),
        banner: None,
        user,
        login: None,
        features: None,
        attempts: Vec::new(),
        tls: None,
        stopped: None,
        overlong_lines: 0,
    };
    progress(&format!("connecting to {}", plan.server));
    let mut control = match dial(plan.server, step_end(plan, end)) {
        Ok(stream) => Control::new(stream),
        Err(dial) => {
            seen.local = source_for(plan.server);
            seen.stopped = Some(Stopped::Control { dial });
            seen.ended = SystemTime::now();
            return seen;
        }
    };
    seen.connected_at = Some(SystemTime::now());
    seen.local = control.tcp().local_addr().ok();
    let mut steps = Steps { plan, end, control: &mut control, seen: &mut seen };
    if let Err(stopped) = steps.all(progress) {
        steps.seen.stopped = Some(stopped);
    }
    steps.quit();
    seen.lines = std::mem::take(&mut control.lines);
    seen.overlong_lines = control.overlong_lines;
    seen.ended = SystemTime::now();
    seen
}

struct Steps<'a> {
    plan: &'a Plan,
    end: Instant,
    control: &'a mut Control,
    seen: &'a mut Observed,
}

impl Steps<'_> {
    fn all(&mut self, progress: &mut dyn FnMut(&str)) -> Result<(), Stopped> {
        let (banner, _) = self.reply("the banner")?;
        self.seen.banner = Some(banner.text.clone());
        if banner.code != 220 {
            return Err(Stopped::Refused { step: "the banner".into(), reply: banner });
        }
        if let Some(tls) = &self.plan.tls {
            progress("AUTH TLS");
            self.start_tls(tls)?;
        }
        progress("logging in");
        self.login()?;
        if self.plan.tls.is_some() {
            self.protect_data()?;
        }
        self.features()?;
        self.command("SYST")?;
        self.command("PWD")?;
        for &mode in &self.plan.modes {
            if Instant::now() >= self.end {
                return Err(Stopped::OutOfTime);
            }
            progress(&format!("{mode:?}"));
            self.settle()?;
            let attempt = match mode {
                NegotiationCommand::PORT | NegotiationCommand::EPRT => self.active(mode)?,
                _ => self.passive(mode)?,
            };
            self.seen.attempts.push(attempt);
        }
        // The last step's late reply too, for the record.
        self.settle()
    }

    fn deadline(&self) -> Instant {
        step_end(self.plan, self.end)
    }

    fn send(&mut self, command: &str) -> Result<SystemTime, Stopped> {
        let shown = if command.starts_with("PASS ") { format!("PASS {MASK}") } else { command.to_string() };
        let deadline = self.deadline();
        self.control.send(command, &shown, deadline).map_err(|e| stopped(command, e))
    }

    /// The next reply, within one step's time.
    fn reply(&mut self, step: &str) -> Result<(Reply, SystemTime), Stopped> {
        let deadline = self.deadline();
        self.control.reply(deadline).map_err(|e| stopped(step, e))
    }

    /// The final reply (past 1xx preliminary ones), or None when none came in time.
    fn final_reply(&mut self, step: &str) -> Result<Option<(Reply, SystemTime)>, Stopped> {
        for _ in 0..MAX_STRAY_REPLIES {
            match self.control.reply(self.deadline()) {
                Ok((r, at)) if r.code >= 200 => return Ok(Some((r, at))),
                Ok(_) => {}
                Err(NoReply::Timeout) => return Ok(None),
                Err(e) => return Err(stopped(step, e)),
            }
        }
        Ok(None)
    }

    fn command(&mut self, command: &str) -> Result<Reply, Stopped> {
        self.send(command)?;
        Ok(self.reply(command)?.0)
    }

    fn login(&mut self) -> Result<(), Stopped> {
        let user = self.seen.user.clone();
        let mut reply = self.command(&format!("USER {user}"))?;
        if reply.code == 331 || reply.code == 332 {
            // Anonymous: any address-like word, as browsers and curl send.
            let password = self.plan.password.clone().unwrap_or_else(|| "ftpscope@".into());
            reply = self.command(&format!("PASS {password}"))?;
        }
        self.seen.login = Some(reply.clone());
        match reply.code {
            230 | 232 => Ok(()),
            _ => Err(Stopped::Refused { step: "the login".into(), reply }),
        }
    }

    fn start_tls(&mut self, tls: &Tls) -> Result<(), Stopped> {
        let reply = self.command("AUTH TLS")?;
        if reply.code != 234 {
            return Err(Stopped::Refused { step: "AUTH TLS".into(), reply });
        }
        let at = SystemTime::now();
        let handshake = self.control.start_tls(tls, self.deadline());
        self.seen.tls = Some(TlsSeen { at, protected_data: false, certificate_problem: tls.problem() });
        handshake.map_err(|why| Stopped::Tls { why })
    }

    /// PBSZ 0 and PROT P (RFC 4217): the data connections in TLS too.
    fn protect_data(&mut self) -> Result<(), Stopped> {
        self.command("PBSZ 0")?;
        let reply = self.command("PROT P")?;
        if reply.code != 200 {
            return Err(Stopped::Refused { step: "PROT P".into(), reply });
        }
        if let Some(t) = &mut self.seen.tls {
            t.protected_data = true;
        }
        Ok(())
    }

    fn features(&mut self) -> Result<(), Stopped> {
        let before = self.control.lines.len();
        let reply = self.command("FEAT")?;
        if reply.code == 211 {
            let listed = self.control.lines.len().saturating_sub(before + 2);
            let features = self.control.last_lines(listed + 1).take(listed).map(|l| l.trim().to_ascii_uppercase()).collect();
            self.seen.features = Some(features);
        }
        Ok(())
    }

    /// A previous step left a reply unread (a transfer's late 425): NOOP, and the replies before
    /// its 200 go to that step, so that each step reads its own. The late reply comes when the
    /// server gives up: waited for within the whole probe's time, not one step's.
    fn settle(&mut self) -> Result<(), Stopped> {
        let Some(last) = self.seen.attempts.last() else { return Ok(()) };
        if last.listing.is_none() || last.transfer.is_some() {
            return Ok(());
        }
        self.send("NOOP")?;
        for _ in 0..MAX_STRAY_REPLIES {
            let (reply, at) = self.control.reply(self.end).map_err(|e| stopped("NOOP", e))?;
            if reply.code == 200 {
                return Ok(());
            }
            if let Some(last) = self.seen.attempts.last_mut().filter(|a| a.transfer.is_none() && reply.code >= 200) {
                (last.transfer, last.transfer_at) = (Some(reply), Some(at));
            }
        }
        Err(Stopped::Broken { step: "NOOP".into(), why: "no 200 among the replies to NOOP".into() })
    }

    fn listing(&self) -> String {
        if self.plan.path.is_empty() {
            "NLST".into()
        } else {
            format!("NLST /{}", self.plan.path)
        }
    }

    fn passive(&mut self, command: NegotiationCommand) -> Result<Attempt, Stopped> {
        let name = format!("{command:?}");
        let mut a = Attempt::new(command, self.send(&name)?);
        let (reply, at) = self.reply(&name)?;
        (a.reply, a.reply_at) = (Some(reply.clone()), Some(at));
        let server = self.plan.server;
        a.advertised = match (reply.code, command) {
            (227, NegotiationCommand::PASV) => parse_227(reply.text.as_bytes()).ok().map(SocketAddr::V4),
            (229, NegotiationCommand::EPSV) => {
                parse_229(reply.text.as_bytes()).ok().map(|e| SocketAddr::new(e.addr.unwrap_or(server.ip()), e.port))
            }
            _ => None,
        };
        let Some(advertised) = a.advertised else { return Ok(a) };
        // The server's own address with the advertised port (curl, lftp, FileZilla): a reply
        // naming another host does not aim the prober at it.
        let target = if self.plan.follow_advertised { advertised } else { SocketAddr::new(server.ip(), advertised.port()) };
        a.dialed = Some(target);
        let data = dial(target, self.deadline().max((Instant::now() + DATA_WAIT_MIN).min(self.end)));
        a.dial_at = Some(SystemTime::now());
        let stream = match data {
            Ok(stream) => {
                (a.dial, a.local_end) = (Some(Dial::Established), stream.local_addr().ok());
                stream
            }
            Err(dial) => {
                a.dial = Some(dial);
                return Ok(a);
            }
        };
        self.transfer(&mut a, |_| Ok(Some(stream)))?;
        Ok(a)
    }

    fn active(&mut self, command: NegotiationCommand) -> Result<Attempt, Stopped> {
        let local = self.seen.local.map_or(IpAddr::from([0, 0, 0, 0]), |l| l.ip());
        let listener = match TcpListener::bind((local, 0)).and_then(|l| l.set_nonblocking(true).map(|()| l)) {
            Ok(l) => l,
            Err(e) => {
                return Err(Stopped::Broken { step: format!("{command:?}"), why: format!("cannot listen for the data connection: {e}") })
            }
        };
        let mine = listener.local_addr().map_err(|e| Stopped::Broken { step: format!("{command:?}"), why: e.to_string() })?;
        let argument = match command {
            NegotiationCommand::PORT => match mine {
                SocketAddr::V4(v4) => {
                    let [a, b, c, d] = v4.ip().octets();
                    format!("{a},{b},{c},{d},{},{}", v4.port() >> 8, v4.port() & 0xff)
                }
                // PORT has no IPv6 form: `modes` tries EPRT alone over IPv6.
                SocketAddr::V6(_) => return Err(Stopped::Broken { step: "PORT".into(), why: "PORT cannot name an IPv6 address".into() }),
            },
            _ => format!("|{}|{}|{}|", if mine.is_ipv4() { 1 } else { 2 }, mine.ip(), mine.port()),
        };
        let mut a = Attempt::new(command, self.send(&format!("{command:?} {argument}"))?);
        (a.argument, a.advertised, a.dialed) = (Some(argument), Some(mine), Some(mine));
        // Some servers connect at PORT itself and answer once connected or given up (pyftpdlib,
        // for up to 30 s): the reply is waited for as long as the server's own connect timeout,
        // within the whole probe's time, as a client waits for it.
        let (reply, at) = match self.control.reply(self.end) {
            Ok(answered) => answered,
            // Out of time: no reply, and no connection, is a server that could not reach the
            // probe.
            Err(NoReply::Timeout) => {
                let arrived = accept(&listener, Instant::now()).ok().flatten();
                (a.dial, a.dial_at, a.peer) = match arrived {
                    Some(s) => (Some(Dial::Established), Some(SystemTime::now()), s.peer_addr().ok()),
                    None => (Some(Dial::Unanswered), Some(SystemTime::now()), None),
                };
                return Ok(a);
            }
            Err(e) => return Err(stopped(&format!("{command:?}"), e)),
        };
        (a.reply, a.reply_at) = (Some(reply.clone()), Some(at));
        if !(200..300).contains(&reply.code) {
            return Ok(a);
        }
        self.transfer(&mut a, |deadline| accept(&listener, deadline))?;
        Ok(a)
    }

    /// The listing over the data connection that `connected` gives (passive: already open;
    /// active: the server's, if it comes by the deadline).
    fn transfer(&mut self, a: &mut Attempt, connected: impl FnOnce(Instant) -> io::Result<Option<TcpStream>>) -> Result<(), Stopped> {
        let listing = self.listing();
        a.listing_at = Some(self.send(&listing)?);
        a.listing = Some(listing.clone());
        let deadline = self.deadline();
        match connected(deadline) {
            Ok(Some(stream)) => {
                if a.dial.is_none() {
                    (a.dial, a.dial_at, a.peer) = (Some(Dial::Established), Some(SystemTime::now()), stream.peer_addr().ok());
                }
                // In TLS the prober is the TLS client on every data connection, active or
                // passive; the handshake runs in the first read, within the deadline.
                let wire = match &self.plan.tls {
                    Some(tls) => tls.wrap(stream).ok(),
                    None => Some(Wire::Clear(stream)),
                };
                a.bytes = wire.map_or(0, |mut wire| drain(&mut wire, self.deadline()));
            }
            _ if a.dial.is_none() => (a.dial, a.dial_at) = (Some(Dial::Unanswered), Some(SystemTime::now())),
            _ => {}
        }
        if let Some((reply, at)) = self.final_reply(&listing)? {
            (a.transfer, a.transfer_at) = (Some(reply), Some(at));
        }
        Ok(())
    }

    fn quit(&mut self) {
        let deadline = Instant::now() + self.plan.step.min(Duration::from_secs(1));
        if self.control.send("QUIT", "QUIT", deadline).is_ok() {
            let _ = self.control.reply(deadline);
        }
    }
}

/// The address the kernel sends from to `server` (port 0): a connected UDP socket sends
/// nothing, it only asks the routing table. For the record of a control connection that never
/// opened.
fn source_for(server: SocketAddr) -> Option<SocketAddr> {
    let any: SocketAddr = if server.is_ipv4() { (IpAddr::from([0u8; 4]), 0).into() } else { (IpAddr::from([0u16; 8]), 0).into() };
    let socket = std::net::UdpSocket::bind(any).ok()?;
    socket.connect(server).ok()?;
    Some(SocketAddr::new(socket.local_addr().ok()?.ip(), 0))
}

/// One step's deadline: its timeout, never past the whole probe's.
fn step_end(plan: &Plan, end: Instant) -> Instant {
    (Instant::now() + plan.step).min(end)
}

fn stopped(step: &str, e: NoReply) -> Stopped {
    let step = step.split(' ').next().unwrap_or(step).to_string();
    match e {
        NoReply::Timeout => Stopped::NoReply { step },
        other => Stopped::Broken { step, why: other.words() },
    }
}

/// A TCP connection to `to` by `deadline`, or what became of its SYN.
fn dial(to: SocketAddr, deadline: Instant) -> Result<TcpStream, Dial> {
    let Ok(timeout) = left(deadline) else { return Err(Dial::Unanswered) };
    match TcpStream::connect_timeout(&to, timeout) {
        Ok(stream) => Ok(stream),
        Err(e) => Err(match e.kind() {
            io::ErrorKind::ConnectionRefused => Dial::Refused,
            io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => Dial::Unreachable,
            _ => Dial::Unanswered,
        }),
    }
}

/// The server's data connection, if it comes by `deadline`.
fn accept(listener: &TcpListener, deadline: Instant) -> io::Result<Option<TcpStream>> {
    // Looked at once at least, also when the deadline has passed.
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false)?;
                return Ok(Some(stream));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => std::thread::sleep(ACCEPT_POLL),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) => return Err(e),
        }
    }
}

/// Reads the listing to its end, bounded in bytes and time; the bytes read.
fn drain(stream: &mut Wire, deadline: Instant) -> u64 {
    let mut total = 0u64;
    let mut buf = [0u8; 8192];
    while total < MAX_LISTING {
        let Ok(timeout) = left(deadline) else { break };
        if stream.tcp().set_read_timeout(Some(timeout)).and_then(|()| stream.tcp().set_write_timeout(Some(timeout))).is_err() {
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n as u64,
        }
    }
    total
}
