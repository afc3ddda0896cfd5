//! The words of an explanation: each fact of a story, the verdict, a healthy session's line and
//! the advice for a capture without FTP. Rendered from the values when written. A cause's
//! sentence and brief are its kind's (problems/), as a finding's words are.
//!
//! Owns the wording of `explain` but causes. Must not choose facts (story does) nor lay out
//! (text, json).

use super::story::{Answer, Fact};
use super::{Explained, Healthy, Verdict};
use crate::model::notation::Sock;
use crate::model::{AddressClass, Directions, Mode, Outcome, Protection, Software};
use crate::problems::Brief;
use std::fmt::{self, Display, Formatter};

impl Display for Fact {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Fact::Parties { client, server, frame, software, banner, user } => {
                write!(f, "The client {} opened the control connection to the server {} in frame {frame}", Sock(*client), Sock(*server))?;
                match (software, banner) {
                    (Software::Unknown, Some(b)) => write!(f, "; the server greets with \"{b}\"")?,
                    (Software::Unknown, None) => {}
                    (s, _) => write!(f, "; the server runs {}", s.name())?,
                }
                match user {
                    Some(u) => write!(f, ", user {u}."),
                    None => f.write_str("."),
                }
            }
            Fact::Encrypted { frame, by: Protection::Tls } => write!(
                f,
                "In frame {frame} the server accepted AUTH (234): from there on the control channel is TLS, unreadable here and to any \
                 NAT helper on the path."
            ),
            Fact::Encrypted { frame, by: Protection::Gssapi } => write!(
                f,
                "From frame {frame} the control channel is protected by GSSAPI (RFC 2228: ENC, MIC or CONF commands, 631-633 \
                 replies): its lines carry the mechanism's tokens, unreadable here and to any NAT helper on the path."
            ),
            Fact::Refused { frame, command: Some(command), user, code, reply_text } => {
                write!(f, "In frame {frame} the server refused {command}")?;
                if let (Some(user), "USER" | "PASS") = (user, *command) {
                    write!(f, " (user {user})")?;
                }
                write!(f, ": {code} \"{}\".", reply_text.trim())
            }
            Fact::Refused { frame, code, reply_text, .. } => {
                write!(f, "In frame {frame} the server refused the session: {code} \"{}\".", reply_text.trim())
            }
            Fact::HungUp { frame } => write!(f, "In frame {frame} the server closed the control connection without a reply saying why."),
            Fact::Asked { frame, command, mode: Mode::Passive, .. } => {
                write!(f, "In frame {frame} the client asked for passive mode ({command:?}): the client is to connect to the server.")
            }
            Fact::Asked { frame, command, address, class, .. } => {
                write!(f, "In frame {frame} the client asked for active mode ({command:?}")?;
                if let Some(a) = address {
                    write!(f, " {}", Sock(*a))?;
                    if let Some(c) = class.filter(|c| *c != AddressClass::Public) {
                        write!(f, ", {}", c.describe())?;
                    }
                }
                f.write_str("): the server is to connect to the client.")
            }
            Fact::Answered { frame, code, address: Some(a), class, .. } if *code < 300 => {
                write!(f, "In frame {frame} the server answered {code} and advertised {}", Sock(*a))?;
                match class {
                    Some(c) => write!(f, ", {}.", c.describe()),
                    None => f.write_str("."),
                }
            }
            Fact::Answered { frame, code, reply_text, .. } => {
                write!(f, "In frame {frame} the server answered {code}")?;
                match reply_text {
                    Some(t) => write!(f, " \"{}\".", t.trim()),
                    None => f.write_str("."),
                }
            }
            Fact::NotAnswered { command } => write!(f, "The {command:?} got no reply in this capture."),
            Fact::ReplyNotCaptured { implied: None, .. } => {
                f.write_str("Its reply is not in this capture (only the client's side was captured).")
            }
            Fact::ReplyNotCaptured { command, implied: Some((address, class)) } => write!(
                f,
                "Its reply is not in this capture (only the client's side was captured), but the client's connection after the \
                 {command:?} shows that it named {}, {}.",
                Sock(*address),
                class.describe()
            ),
            Fact::DataSyn { frame, from, to, under: None } => {
                write!(f, "In frame {frame} the data connection's SYN went from {} to {}.", Sock(*from), Sock(*to))
            }
            Fact::DataSyn { frame, from, to, under: Some(under) } => write!(
                f,
                "In frame {frame} a connection opened from {} to {}: most probably a data connection (its negotiation is {}).",
                Sock(*from),
                Sock(*to),
                match under {
                    Protection::Gssapi => "protected by GSSAPI",
                    Protection::Tls => "inside TLS",
                }
            ),
            Fact::DataAnswer { answer } => match answer {
                Answer::Established { frame: Some(n) } => write!(f, "SYN-ACK in frame {n}: the data connection was established."),
                Answer::Established { frame: None } => f.write_str("The data connection was established."),
                Answer::Refused { frame, by } => {
                    write!(f, "It was refused: RST")?;
                    if let Some(by) = by {
                        write!(f, " from the {} side", by.as_str())?;
                    }
                    match frame {
                        Some(n) => write!(f, " in frame {n}."),
                        None => f.write_str("."),
                    }
                }
                Answer::Unreachable { frame, icmp } => {
                    f.write_str("It was unreachable")?;
                    if let Some(icmp) = icmp {
                        write!(f, ": {icmp}")?;
                    }
                    match frame {
                        Some(n) => write!(f, " in frame {n}."),
                        None => f.write_str("."),
                    }
                }
                Answer::NoAnswer { syns, seconds } => {
                    write!(f, "It got no answer: {syns} SYN(s) over {seconds:.1} s, no SYN-ACK, RST or ICMP.")
                }
                Answer::Unknown => f.write_str("The capture ends before anything answered it."),
            },
            Fact::TriedAgain => f.write_str("The data connection was tried again."),
            Fact::CompletedElsewhere { reply } => write!(
                f,
                "The transfer completed all the same ({reply}): the data connection was tried again where this capture \
                 does not see it."
            ),
            Fact::NoDataConnection { outcome } => match outcome {
                Outcome::Rejected => f.write_str("No data connection followed: the server refused or could not open it."),
                Outcome::NotAttempted => f.write_str("No data connection appeared in this capture."),
                _ => f.write_str("What became of the data connection is not known from this capture."),
            },
            Fact::Transfer { frame, command, reply, reply_frame, reply_text, content, record } => {
                match command {
                    Some(command) => write!(f, "In frame {frame} the client sent {command}; ")?,
                    None => f.write_str("The server answered a transfer command this capture does not hold; ")?,
                }
                match (reply, reply_frame) {
                    (Some(code), Some(n)) => {
                        write!(f, "the final reply was {code}")?;
                        if let Some(t) = reply_text {
                            write!(f, " \"{}\"", t.trim())?;
                        }
                        write!(f, " in frame {n}.")?;
                    }
                    _ => f.write_str("no final reply in this capture.")?,
                }
                if let Some(r) = record {
                    write!(f, " What crossed: {}.", crate::report::transfer::RecordLine(r))?;
                }
                match content {
                    Some(c) => write!(f, " Its bytes: {}.", crate::report::notes::content(c)),
                    None => Ok(()),
                }
            }
            Fact::More { negotiations } => write!(f, "({negotiations} more negotiation(s) of this session are not told here.)"),
            Fact::Why { cause, finding, frames, .. } => {
                let frames: Vec<String> = frames.iter().map(|n| n.to_string()).collect();
                write!(f, "{cause} ({}, frame(s) {})", finding.as_str(), frames.join(", "))
            }
        }
    }
}

impl Display for Verdict {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} FTP session(s)", self.sessions)?;
        if self.problem_sessions == 0 {
            // Healthy: said first, with what the transfers did (under TLS none can be read).
            if self.unread > 0 {
                return write!(
                    f,
                    ", none with a problem this capture can show: {} of them encrypted, with no data connection seen here (what \
                     they asked for cannot be read; a data connection that failed elsewhere would not show).",
                    self.unread
                );
            }
            return match self.transfers {
                t if t.total == 0 => f.write_str(", none with a problem."),
                t if t.ok == t.total => write!(f, ", none with a problem: {} transfer(s), all done.", t.total),
                t => write!(f, ", none with a problem: {t} (the capture does not show how the others ended)."),
            };
        }
        write!(f, ", {} with a problem ({} error(s), {} warning(s)). By cause: ", self.problem_sessions, self.errors, self.warnings)?;
        for (i, (cause, sessions)) in self.causes.iter().enumerate() {
            let sep = if i == 0 { "" } else { "; " };
            write!(f, "{sep}{} in {sessions} session(s)", Brief(*cause))?;
        }
        f.write_str(".")?;
        self.transfers_sentence(f)?;
        self.guessing_sentence(f)
    }
}

impl Verdict {
    /// " Password guessing from 1 client address (told at the end)." when there was any.
    fn guessing_sentence(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.guessing_addresses {
            0 => Ok(()),
            n => write!(f, " Password guessing from {n} client address(es) (told at the end)."),
        }
    }

    /// " 3 transfer(s): 2 ok, 1 failed." when the capture shows any transfer.
    fn transfers_sentence(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.transfers.total {
            0 => Ok(()),
            _ => write!(f, " {}.", self.transfers),
        }
    }
}

impl Display for Healthy {
    /// One line, never wrapped.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "session {}  {} -> {}", self.session, Sock(self.client), Sock(self.server))?;
        if let Some(u) = &self.user {
            write!(f, "  user {u}")?;
        }
        match (self.transfers, self.transfers_ok) {
            (0, _) if self.unread => f.write_str("  encrypted: no data connection seen here, its commands unread"),
            (0, _) => f.write_str("  no transfer"),
            (n, ok) if ok == n => write!(f, "  {n} transfer(s) ok"),
            // The others failed nowhere (that would be a finding): the capture does not show
            // them (only the control connection was captured, or it ended first).
            (n, ok) => write!(f, "  {n} transfer(s), {ok} seen established"),
        }?;
        if self.bytes > 0 {
            write!(f, ", {} bytes", self.bytes)?;
        }
        if !self.like.is_empty() {
            write!(f, "; {} more like it: session(s) {}", self.like.count(), self.like)?;
        }
        match self.captured_directions {
            Directions::Both => Ok(()),
            Directions::ClientToServer => f.write_str(" (only the client's side captured)"),
            Directions::ServerToClient => f.write_str(" (only the server's side captured)"),
        }
    }
}

/// What a capture without an FTP session shows instead, and what to capture.
pub struct NoFtp<'a>(pub &'a Explained);

impl Display for NoFtp<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let e = self.0;
        if let Some(shows) = crate::report::notes::without_sessions(&e.summary) {
            f.write_str(&shows)?;
        }
        if let Some(note) = crate::report::notes::implicit_ftps_note(&e.summary) {
            write!(f, " {note}.")?;
        }
        Ok(())
    }
}
