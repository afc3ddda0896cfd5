//! The words of a finding: its one-line summary and its explanation, rendered from the values
//! diagnosis chose ([`Text`]) when the finding is written, straight into the output.
//!
//! Owns the wording of findings, as report::fix owns the wording of fixes. Diagnosis decides
//! what is wrong; this says it.

use crate::model::notation::{Ip, Sock};
use crate::model::{
    classify, Consequence, Details, Directions, FailedHow, FailureCause, Finding, MatchedBy, Mode, Outcome, Rejection, Text, Via,
};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::fmt::{self, Display, Formatter};
use std::net::SocketAddr;

/// A finding's one-line summary.
pub struct Summary<'a>(pub &'a Finding);

/// A finding's explanation: what happened and why, in plain words.
pub struct Explanation<'a>(pub &'a Finding);

impl Display for Summary<'_> {
    /// The first occurrence's words, then the other subjects of a merged finding.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        First(self.0).fmt(f)?;
        let others: Vec<Subject> = self.0.also.iter().filter_map(subject).collect();
        if others.is_empty() {
            return Ok(());
        }
        f.write_str(" (and ")?;
        for (i, other) in others.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            other.fmt(f)?;
        }
        let unnamed = u64::from(self.0.occurrences).saturating_sub(1 + others.len() as u64);
        if unnamed > 0 {
            write!(f, ", {unnamed} more")?;
        }
        f.write_str(")")
    }
}

/// What one occurrence of a finding is about: the endpoint advertised, or the connection.
#[derive(Clone, Copy)]
enum Subject {
    Advertised(SocketAddr),
    Connection { client: SocketAddr, server: SocketAddr, outcome: Outcome },
}

fn subject(t: &Text) -> Option<Subject> {
    match *t {
        Text::Leak { advertised, .. } | Text::Mismatch { advertised, .. } | Text::Bounce { advertised, .. } => {
            Some(Subject::Advertised(advertised))
        }
        Text::RewriteSeen { advertised, .. }
        | Text::OutsideRange { advertised, .. }
        | Text::NotSeen { advertised, .. }
        | Text::UnexpectedPublic { advertised, .. } => Some(Subject::Advertised(advertised)),
        Text::Failed { connection, outcome, .. } => {
            Some(Subject::Connection { client: connection.client, server: connection.server, outcome })
        }
        Text::ProbableFailed { client, server, outcome } => Some(Subject::Connection { client, server, outcome }),
        _ => None,
    }
}

impl Display for Subject {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match *self {
            Subject::Advertised(a) => Sock(a).fmt(f),
            Subject::Connection { client, server, outcome } => write!(f, "{} -> {} {}", Sock(client), Sock(server), outcome.as_str()),
        }
    }
}

impl Serialize for Subject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_map(None)?;
        match *self {
            Subject::Advertised(a) => st.serialize_entry("advertised", &Sock(a))?,
            Subject::Connection { client, server, outcome } => {
                st.serialize_entry("client", &Sock(client))?;
                st.serialize_entry("server", &Sock(server))?;
                st.serialize_entry("outcome", &outcome)?;
            }
        }
        st.end()
    }
}

/// JSON: the subjects of a merged finding's other occurrences (`also`).
pub struct Also<'a>(pub &'a Finding);

impl Serialize for Also<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.also.iter().filter_map(subject))
    }
}

/// A finding's words for its first occurrence.
struct First<'a>(&'a Finding);

impl Display for First<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let finding = self.0;
        match finding.text {
            Text::NonstandardPort { port, .. } => write!(f, "FTP control channel on port {port} instead of 21"),
            Text::NotSeen { advertised, .. } => {
                write!(f, "no data connection to {} and no transfer: the client gave up connecting", Sock(advertised))
            }
            Text::OutsideRange { advertised, range, .. } => {
                write!(f, "passive reply advertises port {}, outside the intended range {}-{}", advertised.port(), range.lo, range.hi)
            }
            Text::UnexpectedPublic { advertised, intended, .. } => {
                write!(f, "passive reply advertises {}, not the intended public address {}", Sock(advertised), Ip(intended))
            }
            Text::OneDirection { captured, .. } => match captured {
                Directions::ServerToClient => f.write_str("only the server's packets of this control connection were captured"),
                _ => f.write_str("only the client's packets of this control connection were captured"),
            },
            Text::UnexpectedControlPort { seen, intended, .. } => {
                write!(f, "control connection on port {seen}, not the intended {intended}")
            }
            Text::CaptureDrops => match &finding.details {
                Details::Drops { received, dropped, interface_dropped } => write!(
                    f,
                    "the capture dropped {} of {received} packet(s): {dropped} for want of buffer room, {interface_dropped} by the interface",
                    dropped + interface_dropped
                ),
                _ => f.write_str("the capture dropped packets"),
            },
            Text::Credentials => match &finding.details {
                Details::Credentials { user: Some(user), .. } => write!(f, "password for user '{user}' sent in clear text"),
                _ => f.write_str("password for user (unknown) sent in clear text"),
            },
            Text::ProbableFailed { client, server, outcome } => {
                let (client, server) = (Sock(client), Sock(server));
                write!(f, "probable data connection {client} -> {server} {} (control channel under TLS)", outcome.as_str())
            }
            Text::MalformedLine => match &finding.details {
                Details::Line { reason, excerpt } => write!(f, "{reason}: {excerpt}"),
                _ => f.write_str("malformed line"),
            },
            Text::Encrypted { tls_frame, channels, failed, first_failure } => match first_failure {
                None => write!(
                    f,
                    "control channel encrypted (AUTH TLS) from frame {tls_frame}: {channels} probable data connection(s), none failed"
                ),
                Some(o) => write!(
                    f,
                    "control channel encrypted (AUTH TLS) from frame {tls_frame}; {failed} of {channels} probable data connection(s) \
                     failed ({})",
                    o.as_str()
                ),
            },
            Text::Unparsable { mode, command, reply_code, reason, .. } => {
                match (mode, reply_code) {
                    (Mode::Passive, Some(code)) => write!(f, "{code} reply")?,
                    (Mode::Passive, None) => f.write_str("passive reply")?,
                    (Mode::Active, _) => write!(f, "{command:?} command")?,
                }
                write!(f, " could not be parsed: {reason}")
            }
            Text::Mismatch { advertised, server, .. } => {
                let (advertised, server) = (Sock(advertised), Ip(server));
                write!(f, "server advertised {advertised} but the control connection reaches it at {server}")
            }
            Text::Bounce { command, advertised, client } => {
                let (advertised, client) = (Sock(advertised), Ip(client));
                write!(f, "{command:?} asks the server to connect to {advertised}, a third host (the client is {client})")
            }
            Text::Failed { mode, connection, outcome, .. } => {
                let mode = match mode {
                    Mode::Passive => "passive",
                    Mode::Active => "active",
                };
                write!(f, "{mode} data connection {} -> {} {}", Sock(connection.client), Sock(connection.server), outcome.as_str())
            }
            Text::Rejected { code, .. } => match &finding.details {
                Details::Rejected { text, .. } => write!(f, "{code} {}", text.trim()),
                _ => write!(f, "{code}"),
            },
            Text::Leak { side, mode, command, reply_code, advertised, class, .. } => {
                write!(f, "{side} ")?;
                // Servers answer EPSV with 227 and PASV with 229: name the reply actually sent.
                match mode {
                    Mode::Passive => write!(f, "{} reply", reply_code.unwrap_or(227))?,
                    Mode::Active => write!(f, "{command:?}")?,
                }
                let class = class.describe().trim_start_matches("a ").trim_start_matches("an ").trim_start_matches("the ");
                write!(f, " advertises {class} {}", Sock(advertised))
            }
            Text::RewriteSeen { command, advertised, client, server } => {
                let (advertised, client, server) = (Sock(advertised), Sock(client), Sock(server));
                write!(f, "{command:?} names {advertised}, yet the server's data connection arrived ({client} -> {server})")
            }
            Text::RewriteAcross { command, inside, inside_frame, inside_session, outside, outside_frame, outside_session } => {
                let (inside, outside) = (Sock(inside), Sock(outside));
                write!(
                    f,
                    "NAT helper rewrote {command:?} {inside} (frame {inside_frame}, session {inside_session}) to {outside} (frame \
                     {outside_frame}, session {outside_session})"
                )
            }
        }
    }
}

impl Display for Explanation<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0.text {
            Text::NotSeen { advertised, at_server: true } => write!(
                f,
                "The server advertised {} (its public address: it is behind NAT, and this capture is inside), yet no \
                 connection to port {} arrived here and the client sent no transfer command: its connection attempt did not \
                 reach the server. The router does not forward the passive port to the server, or a firewall drops it.",
                Sock(advertised),
                advertised.port()
            ),
            Text::NotSeen { advertised, at_server: false } => write!(
                f,
                "After the server advertised {}, no connection to it appears in this capture and the client sent no transfer \
                 command: it gave up connecting. Captured at the server, its SYNs did not reach it (a firewall drops the passive \
                 port, or a router does not forward it); captured at the client, the client did not try.",
                Sock(advertised)
            ),
            Text::OutsideRange { advertised, range, outcome } => write!(
                f,
                "The server advertised {} although the intended passive range is {}-{}: the router forwards (or the firewall \
                 allows) the intended range, so a port outside it is not reached. The data connection was {}. The server's own \
                 passive range differs from the intended one.",
                Sock(advertised),
                range.lo,
                range.hi,
                Spaced(outcome)
            ),
            Text::UnexpectedPublic { advertised, intended, outcome } => write!(
                f,
                "The server announced {} in its passive reply, but clients should reach it at {}: its configured external address \
                 is wrong or stale (a changed WAN address, a second router). The data connection was {}.",
                Ip(advertised.ip()),
                Ip(intended),
                Spaced(outcome)
            ),
            Text::OneDirection { captured: Directions::ServerToClient, negotiations } => write!(
                f,
                "The capture holds what the server sent on the control connection, not what the client sent (asymmetric \
                 routing, or a mirror port that copies one direction): the other side's bytes were acknowledged but never \
                 captured. The commands are unknown: {negotiations} negotiation(s) read from passive replies (227/228/229) alone, \
                 their command implied; PORT/EPRT and what each transfer asked for cannot be seen. The data connections are \
                 judged from the server's packets; nothing is concluded from what is missing. Capture where both directions \
                 pass (on the server or the client, or mirror both directions of the port) to judge the rest."
            ),
            Text::OneDirection { negotiations, .. } => write!(
                f,
                "The capture holds what the client sent on the control connection, not what the server sent (asymmetric \
                 routing, or a mirror port that copies one direction): the other side's bytes were acknowledged but never \
                 captured. The replies are unknown: whether the server accepted or refused a command (425, 500, 530 ...) \
                 cannot be judged, nor where a passive reply told the client to connect: the client's next connection after \
                 its PASV is taken as its data connection, and shows the address only when it is one the client cannot have \
                 made up (a private address of a public server). {negotiations} negotiation(s) read from the commands; a data \
                 connection counts as established when its opener acknowledged the answer to its \
                 SYN, and nothing is concluded from what is missing. Capture where both directions pass (on the server or the \
                 client, or mirror both directions of the port) to judge the rest."
            ),
            Text::UnexpectedControlPort { seen, intended, server } => write!(
                f,
                "The control connection goes to {} (port {seen}), not to port {intended} as intended: the client was pointed at \
                 another port, or the server or the router's forwarding listens elsewhere.",
                Sock(server)
            ),
            Text::CaptureDrops => f.write_str(
                "Packets that were dropped were never analysed: a missing SYN-ACK, reply or FIN can make an outcome read wrong \
                 (unanswered instead of established, unknown instead of closed), and a missing reply can hide a negotiation. \
                 Capture less (a narrower --filter, e.g. on the FTP hosts, but not on ports: the data connections use \
                 others) or give the kernel more room (--buffer-size, e.g. 128M).",
            ),
            Text::NonstandardPort { port, server } => write!(
                f,
                "The control connection goes to {}. Firewalls and NAT helpers that watch only port 21 do not see this session: \
                 a helper (ALG) will not rewrite its addresses nor open its data ports unless it is attached to port {port} explicitly.",
                Sock(server)
            ),
            Text::Credentials => f.write_str(
                "USER and PASS crossed the network unencrypted: anyone on the path can read them. \
                 (ftpscope never shows the password itself.)",
            ),
            Text::ProbableFailed { server, outcome, .. } => {
                let how = match outcome {
                    Outcome::Refused => "was refused (RST)",
                    Outcome::Unreachable => "was unreachable (ICMP)",
                    _ => "got no answer",
                };
                let cause = if classify(server.ip()).is_unreachable_from_elsewhere() {
                    "It went to an address the client cannot reach: the server advertised its private address inside TLS, where no \
                     NAT helper could rewrite it."
                } else {
                    "It went to the server's address: the passive port is not forwarded or allowed on the way. In clear text a NAT \
                     helper opens each negotiated port; under TLS it cannot see the negotiation, so only a forwarded range works."
                };
                write!(
                    f,
                    "Under TLS the negotiation is unreadable, but this connection opened between the session's hosts after the switch \
                     and {how}. {cause}"
                )
            }
            Text::MalformedLine => f.write_str(
                "A line on the control channel breaks RFC 959's format. Strict peers, firewalls and NAT helpers may \
                 misread or drop it.",
            ),
            Text::Encrypted { tls_frame, .. } => write!(
                f,
                "After the 234 reply in frame {tls_frame} the control channel is TLS: commands, replies and the addresses in PASV/PORT \
                 are no longer readable on the wire, neither by ftpscope nor by any NAT helper on the path. The connections listed \
                 opened between the same hosts afterwards and are most probably its data channels."
            ),
            Text::Unparsable { side, reason, .. } => write!(
                f,
                "The {side} announced a data endpoint ftpscope cannot read ({reason}). Clients and NAT helpers that parse strictly \
                 will fail the same way, so the transfer that follows may not work."
            ),
            Text::Mismatch { outcome, via, .. } => write!(
                f,
                "The passive reply names a public address other than the one the client talks to: the server is behind NAT \
                 and announces its external address (normal when configured on purpose), or it is multi-homed. The data \
                 connection was {}{}.",
                Spaced(outcome),
                ViaText(via)
            ),
            Text::Bounce { .. } => f.write_str(
                "The client named an address that is not its own, and that its peer can reach. That is an FTP \
                 bounce: the server is used to open connections to another host (port scanning, relaying). A \
                 client behind NAT leaking its private address looks different (an address the server cannot \
                 reach). A multi-homed client can also cause this.",
            ),
            Text::Failed { command, connection, how, cause, .. } => {
                write!(f, "The {command:?} data connection ")?;
                match how {
                    FailedHow::Refused { by, frame } => write!(
                        f,
                        "was refused: {} answered the SYN with RST (frame {})",
                        by.map_or("peer", |side| side.as_str()),
                        frame.unwrap_or(0)
                    )?,
                    FailedHow::Unreachable(icmp) => {
                        f.write_str("was unreachable: ")?;
                        if let Some(icmp) = icmp {
                            write!(f, "{icmp}")?;
                        }
                    }
                    FailedHow::NoAnswer { syns, first } => write!(f, "got no answer: {syns} SYN(s) from frame {first}, no SYN-ACK")?,
                }
                let target = Sock(connection.server);
                match cause {
                    FailureCause::PrivateAddressTried => {
                        f.write_str(". The client tried the private address the server advertised, which does not exist on its network.")
                    }
                    FailureCause::NothingAccepts => write!(
                        f,
                        ". Nothing accepts connections on {target}: the passive port is not forwarded by the server's router to the \
                         server, a firewall rejects it, or the server's passive range differs from the forwarded one."
                    ),
                    FailureCause::SynsVanish => write!(
                        f,
                        ". SYNs to {target} vanish: a firewall drops them, or the router does not forward the passive port range to \
                         the server."
                    ),
                    FailureCause::PartOfRange { worked, connections } => {
                        write!(f, ". Yet {connections} other data connection(s) of this session to the same address worked (port")?;
                        if worked.lo == worked.hi {
                            write!(f, " {}", worked.lo)?;
                        } else {
                            write!(f, "s {} to {}", worked.lo, worked.hi)?;
                        }
                        write!(
                            f,
                            "): only part of the passive range reaches the server. The router forwards (or the firewall allows) \
                             fewer ports than the server uses: port {} is not among them.",
                            connection.server.port()
                        )
                    }
                    FailureCause::ActiveBlocked => write!(
                        f,
                        ". The client's address {} is public, so no NAT is in the way: a firewall drops or rejects the server's \
                         connection, leaving the server's network (outbound from its data port) or entering the client's.",
                        Ip(connection.server.ip())
                    ),
                    FailureCause::ClientUnreachable => write!(
                        f,
                        ". The server could not connect back to the client at {target}: the client is behind NAT or a firewall that \
                         does not accept incoming connections."
                    ),
                }
            }
            Text::Rejected { code, advice, command, client } => match advice {
                Rejection::ForeignAddress => write!(
                    f,
                    "The server refused to connect to the address in {command:?} because it differs from the client's address on the \
                     control connection ({}): its anti-bounce check. From behind NAT this happens whenever the client sends its \
                     private address.",
                    Ip(client)
                ),
                Rejection::DataFromOtherAddress => f.write_str(
                    "The data connection came from another address than the control connection, and the server refused it \
                     (vsftpd pasv_promiscuous=NO). NAT between client and server maps the two connections differently.",
                ),
                Rejection::NoneArrived { advertised } => {
                    f.write_str("The server waited for the client's data connection")?;
                    if let Some(a) = advertised {
                        write!(f, " to {}", Sock(a))?;
                    }
                    f.write_str(
                        ", none came, and it gave up (425). No SYN to it is in this capture: seen at the server, the client's \
                         connection never arrived (a NAT router that does not forward the passive port, or a firewall that drops \
                         it); seen elsewhere, the client did not try.",
                    )
                }
                Rejection::CannotOpen => f.write_str(
                    "The server could not open or accept the data connection (425). In active mode it could not connect to the \
                     client; in passive mode the client never connected to the advertised port.",
                ),
                Rejection::Broken => {
                    f.write_str("The data connection broke during the transfer (426): a firewall timeout or reset on the path.")
                }
                Rejection::Other => write!(f, "The server answered {code} to the data-channel negotiation or transfer."),
            },
            Text::Leak { side, command, advertised, class, peer, consequence, via, tried, .. } => {
                let (advertised, peer) = (Sock(advertised), Sock(peer));
                write!(f, "The {side} told its peer to use {advertised}, {} that cannot be reached from {peer}. ", class.describe())?;
                if via.is_some_and(|v| v.matched_by == MatchedBy::AfterCommand) {
                    write!(
                        f,
                        "Its reply is not in this capture: the client connected there after its {command:?}, and only the reply \
                         can have named that address. "
                    )?;
                }
                if let Some(t) = tried {
                    write!(f, "The first connection, to {}, was {} (SYN in frame {}", Sock(t.server), Spaced(t.outcome), t.syn_frame)?;
                    if t.syns > 1 {
                        write!(f, ", {} SYNs", t.syns)?;
                    }
                    f.write_str("). ")?;
                }
                let via = ViaText(via);
                match consequence {
                    Consequence::Failed(o) => {
                        write!(f, "The data connection to it failed ({}){via}: that is why the transfer did not work.", o.as_str())
                    }
                    Consequence::WorkedAround if tried.is_some() => write!(
                        f,
                        "The client then worked around it: it tried again at the server's control address{via}. Clients that \
                         trust the 227 address (older clients, Windows ftp.exe, strict libraries) will fail, and this one waited \
                         for its first try to time out."
                    ),
                    Consequence::WorkedAround => write!(
                        f,
                        "The client worked around it: it ignored the advertised address and connected to the server's control \
                         address{via}. Clients that trust the 227 address (older clients, Windows ftp.exe, strict libraries) will \
                         fail."
                    ),
                    Consequence::CompletedElsewhere { code, frame } => {
                        write!(f, "Yet the transfer completed ({code}")?;
                        if let Some(frame) = frame {
                            write!(f, " in frame {frame}")?;
                        }
                        f.write_str(
                            "): the client tried again where this capture does not see it (most fall back to the control \
                             connection's address). Clients that trust the 227 address will fail.",
                        )
                    }
                    Consequence::StillSucceeded => write!(
                        f,
                        "The data connection still succeeded{via}: seen from this capture point, the client reached it (the capture \
                         is inside the server's network, or a NAT helper rewrote the reply for the client). Clients elsewhere will \
                         fail."
                    ),
                    Consequence::HelperRewrote => write!(
                        f,
                        "Yet the server's data connection arrived{via}: a NAT helper (ALG) on the client's router rewrote the PORT \
                         command outside and forwarded the connection. It will stop working under AUTH TLS, where the helper is blind."
                    ),
                    Consequence::Rejected => f.write_str("The server refused the negotiation or could not use it."),
                    Consequence::Other(o) => write!(f, "The data connection's outcome: {}.", Spaced(o)),
                }
            }
            Text::RewriteSeen { .. } => f.write_str(
                "A server on another network cannot reach a private address by itself: the client's NAT router \
                 rewrote the PORT/EPRT address in transit and opened the port (an FTP helper, ALG). This works only \
                 while the control channel is clear text.",
            ),
            Text::RewriteAcross { .. } => f.write_str(
                "The same control connection appears on both sides of a NAT router, and the address in \
                 the negotiation differs between them: the router's FTP helper (ALG) rewrote it in clear \
                 text. It cannot do that once the session uses AUTH TLS.",
            ),
        }
    }
}

/// An outcome in words: "not attempted", not "not_attempted".
struct Spaced(Outcome);

impl Display for Spaced {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, word) in self.0.as_str().split('_').enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(word)?;
        }
        Ok(())
    }
}

/// " (client -> server, SYN in frame N, how it was tied)" for the data connection, if any.
struct ViaText(Option<Via>);

impl Display for ViaText {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let Some(v) = self.0 else { return Ok(()) };
        let how = match v.matched_by {
            MatchedBy::Advertised => "",
            MatchedBy::ControlAddress => ", to the control connection's address",
            MatchedBy::PortOnly => ", to the advertised port on another address",
            MatchedBy::AfterCommand => ", the client's next connection after its command",
        };
        write!(f, " ({} -> {}, SYN in frame {}{how})", Sock(v.client), Sock(v.server), v.syn_frame)
    }
}
