//! control_connection_failed: a connection to the control port (21, or `--control-port`) that
//! never opened: unanswered, refused or unreachable. No session began, so nothing else about
//! the server can be judged: it cannot be reached.

use super::{Cause, Subject, Words};
use crate::model::finding::ControlFailed;
use crate::model::notation::Sock;
use crate::model::{FailedHow, Finding};
use std::fmt::{self, Formatter};

pub const CONTROL_PORT_UNREACHABLE: Cause = Cause {
    name: "control_port_unreachable",
    sentence: "The FTP server cannot be reached on its control port: the server is not running or not listening on that port, \
               or a firewall or NAT router on the way drops, refuses or does not forward it.",
    brief: "FTP server not reachable on its control port",
};

pub const CONTROL_ATTEMPT_FAILED: Cause = Cause {
    name: "control_attempt_failed",
    sentence: "A control connection failed where others to the same server opened: the server can be reached, that attempt \
               failed on the way (a lost SYN, a full listen backlog, a firewall's limit on new connections).",
    brief: "a control connection attempt failed (others worked)",
};

impl Words for ControlFailed {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "control connection {} -> {} {}", Sock(self.client), Sock(self.server), self.outcome.as_str())?;
        match self.others_opened {
            true => f.write_str(" (other connections to it opened)"),
            false => f.write_str(": the FTP server cannot be reached"),
        }
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let (client, server) = (Sock(self.client), Sock(self.server));
        write!(f, "{client} tried to open an FTP control connection to {server} and ")?;
        match self.how {
            FailedHow::NoAnswer { syns, first } => write!(f, "got no answer: {syns} SYN(s) from frame {first}, no SYN-ACK")?,
            FailedHow::Refused { frame, .. } => match frame {
                Some(frame) => write!(f, "was refused: the SYN was answered with RST (frame {frame})")?,
                None => f.write_str("was refused: the SYN was answered with RST")?,
            },
            FailedHow::Unreachable(Some(icmp)) => write!(f, "was told it cannot be reached: {icmp}")?,
            FailedHow::Unreachable(None) => f.write_str("was told it cannot be reached (ICMP)")?,
        }
        if self.others_opened {
            return write!(
                f,
                ". Other connections to {server} began FTP sessions in this capture: the server can be reached, and this \
                 attempt failed on the way (a lost SYN, a full listen backlog, a firewall's limit on new connections)."
            );
        }
        write!(
            f,
            ". No FTP session began, so there is no login, command or data connection to judge: {} must first answer on port \
             {}.",
            crate::model::notation::Ip(self.server.ip()),
            self.server.port()
        )
    }

    fn cause(&self) -> Cause {
        match self.others_opened {
            true => CONTROL_ATTEMPT_FAILED,
            false => CONTROL_PORT_UNREACHABLE,
        }
    }

    fn subject(&self) -> Option<Subject> {
        Some(Subject::Connection { client: self.client, server: self.server, outcome: self.outcome })
    }
}
