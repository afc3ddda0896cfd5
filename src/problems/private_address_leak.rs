//! private_address_leak: a negotiation names an address its peer cannot reach (a private,
//! loopback or link-local address): the server behind NAT in a passive reply, or the client
//! behind NAT in PORT/EPRT, and what followed.

use super::{Cause, Spaced, Subject, ViaText, Words};
use crate::model::finding::Leak;
use crate::model::notation::Sock;
use crate::model::{Consequence, Finding, MatchedBy, Mode, Outcome};
use std::fmt::{self, Formatter};

/// Passive: the server announces its private address.
pub const SERVER_NAT_PRIVATE_ADDRESS: Cause = Cause {
    name: "server_nat_private_address",
    sentence: "The server is behind NAT and announces its private address in its passive replies: clients outside cannot reach \
               it.",
    brief: "server behind NAT announcing its private address",
};

/// Passive, and the data connections worked all the same: the client ignored the address, or a
/// helper on the way rewrote the reply. Same cause (same name), told as what the capture shows.
pub const SERVER_NAT_PRIVATE_ADDRESS_WORKED: Cause = Cause {
    name: "server_nat_private_address",
    sentence: "The server is behind NAT and announces its private address in its passive replies. Here the data connections \
               worked all the same (the client ignored that address, or an FTP helper on the way rewrote the reply); clients \
               that trust the address fail, and so does every client once the control channel is encrypted (AUTH TLS).",
    brief: "server behind NAT announcing its private address",
};

/// Active: the client names its private address.
pub const CLIENT_NAT_ACTIVE_MODE: Cause = Cause {
    name: "client_nat_active_mode",
    sentence: "The client is behind NAT and uses active mode: it names its private address, which the server cannot reach (and \
               many servers refuse).",
    brief: "client behind NAT in active mode",
};

/// Active, and the server's connection arrived all the same: a helper rewrote PORT.
pub const CLIENT_NAT_ACTIVE_MODE_HELPED: Cause = Cause {
    name: "client_nat_active_mode",
    sentence: "The client is behind NAT and uses active mode: it names its private address. Here the server's connection \
               arrived all the same, because an FTP helper (ALG) on the client's router rewrote the PORT/EPRT; that stops working \
               once the control channel is encrypted (AUTH TLS), where the helper is blind.",
    brief: "client behind NAT in active mode",
};

/// Active, failed, and the client fell back to passive mode, which worked.
pub const CLIENT_NAT_ACTIVE_MODE_FELL_BACK: Cause = Cause {
    name: "client_nat_active_mode",
    sentence: "The client is behind NAT and uses active mode: it names its private address, which the server cannot reach (and \
               many servers refuse). This client then fell back to passive mode, which worked; clients without that fallback \
               fail.",
    brief: "client behind NAT in active mode",
};

impl Words for Leak {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.side)?;
        // Servers answer EPSV with 227 and PASV with 229: name the reply actually sent.
        match self.mode {
            Mode::Passive => write!(f, "{} reply", self.reply_code.unwrap_or(227))?,
            Mode::Active => write!(f, "{:?}", self.command)?,
        }
        let class = self.class.describe().trim_start_matches("a ").trim_start_matches("an ").trim_start_matches("the ");
        write!(f, " advertises {class} {}", Sock(self.advertised))
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let Leak { side, command, class, via, tried, consequence, promiscuous, .. } = *self;
        let (advertised, peer) = (Sock(self.advertised), Sock(self.peer));
        write!(f, "The {side} told its peer to use {advertised}, {} that cannot be reached from {peer}. ", class.describe())?;
        if promiscuous {
            match self.reply_code.filter(|c| (200..300).contains(c)) {
                Some(code) => write!(f, "The server accepted it ({code})")?,
                None => f.write_str("The server tried to connect there")?,
            }
            write!(
                f,
                " although it is not the client's address here: it takes {command:?} for any address, which also lets \
                 anyone use it for an FTP bounce. "
            )?;
        }
        if via.is_some_and(|v| v.matched_by == MatchedBy::AfterCommand) {
            write!(
                f,
                "Its reply is not in this capture: the client connected there after its {command:?}, and only the reply can have \
                 named that address. "
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
                "The client then worked around it: it tried again at the server's control address{via}. Clients that trust the \
                 227 address (older clients, Windows ftp.exe, strict libraries) will fail, and this one waited for its first try \
                 to time out."
            ),
            Consequence::WorkedAroundThenFailed(o) => write!(
                f,
                "The client worked around it: it ignored the advertised address and dialled the server's control address{via}. \
                 That connection failed ({}) for another reason: the port is not forwarded to the server or not let through \
                 (data_connection_failed says more). Clients that trust the 227 address (older clients, Windows ftp.exe, strict \
                 libraries) will fail even once that port works.",
                o.as_str()
            ),
            Consequence::WorkedAround => write!(
                f,
                "The client worked around it: it ignored the advertised address and connected to the server's control \
                 address{via}. Clients that trust the 227 address (older clients, Windows ftp.exe, strict libraries) will fail."
            ),
            Consequence::CompletedElsewhere { code, frame } => {
                write!(f, "Yet the transfer completed ({code}")?;
                if let Some(frame) = frame {
                    write!(f, " in frame {frame}")?;
                }
                f.write_str(
                    "): the client tried again where this capture does not see it (most fall back to the control connection's \
                     address). Clients that trust the 227 address will fail.",
                )
            }
            Consequence::StillSucceeded => write!(
                f,
                "The data connection still succeeded{via}: seen from this capture point, the client reached it (the capture is \
                 inside the server's network, or a NAT helper rewrote the reply for the client). Clients elsewhere will fail."
            ),
            Consequence::HelperRewrote => write!(
                f,
                "Yet the server's data connection arrived{via}: a NAT helper (ALG) on the client's router rewrote the PORT command \
                 outside and forwarded the connection. It will stop working under AUTH TLS, where the helper is blind."
            ),
            Consequence::Rejected => f.write_str("The server refused the negotiation or could not use it."),
            Consequence::FellBackToPassive { outcome, frame } => {
                match outcome {
                    Outcome::Rejected => f.write_str("The server refused the negotiation or could not use it")?,
                    o => write!(f, "The data connection to it failed ({}){via}", o.as_str())?,
                }
                write!(
                    f,
                    "; the client then fell back to passive mode (frame {frame}), which carried the transfer. Clients without \
                     that fallback fail."
                )
            }
            Consequence::Other(o) => write!(f, "The data connection's outcome: {}.", Spaced(o)),
        }
    }

    fn cause(&self) -> Cause {
        let worked = matches!(
            self.consequence,
            Consequence::WorkedAround | Consequence::StillSucceeded | Consequence::CompletedElsewhere { .. } | Consequence::HelperRewrote
        );
        if let Consequence::FellBackToPassive { .. } = self.consequence {
            return CLIENT_NAT_ACTIVE_MODE_FELL_BACK;
        }
        match (self.mode, worked) {
            (Mode::Passive, false) => SERVER_NAT_PRIVATE_ADDRESS,
            (Mode::Passive, true) => SERVER_NAT_PRIVATE_ADDRESS_WORKED,
            (Mode::Active, false) => CLIENT_NAT_ACTIVE_MODE,
            (Mode::Active, true) => CLIENT_NAT_ACTIVE_MODE_HELPED,
        }
    }

    fn subject(&self) -> Option<Subject> {
        Some(Subject::Advertised(self.advertised))
    }
}
