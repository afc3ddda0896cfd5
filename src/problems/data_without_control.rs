//! data_without_control: a connection that looks like FTP data (from port 20, to a port a
//! server of the capture advertised, a directory listing in its first bytes) whose control
//! channel is not in the capture: what it carried and how it ended can be told, which transfer
//! it was and why it ended cannot.

use super::{Cause, Subject, Words};
use crate::model::finding::{DataEnd, DataEvidence, Uncontrolled};
use crate::model::notation::Sock;
use crate::model::{Finding, Outcome, Side};
use std::fmt::{self, Formatter};

pub const CONTROL_NOT_CAPTURED: Cause = Cause {
    name: "control_channel_not_captured",
    sentence: "The capture holds FTP data connections but not their control channel: it was filtered out (`not port 21`) or \
               the capture point does not see it, so the transfers' commands, files and final replies cannot be read.",
    brief: "control channel not in the capture",
};

impl Words for Uncontrolled {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "data connection without its control channel {} -> {} {}", Sock(self.client), Sock(self.server), self.outcome.as_str())?;
        match self.ended {
            DataEnd::Reset { .. } => write!(f, ", reset after {} byte(s): an incomplete transfer", self.bytes),
            DataEnd::NeverOpened => f.write_str(": the transfer failed"),
            _ => write!(f, ", {} byte(s)", self.bytes),
        }
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let (client, server) = (Sock(self.client), Sock(self.server));
        write!(f, "{client} -> {server} looks like an FTP data connection: ")?;
        match self.evidence {
            DataEvidence::SourcePort20 => f.write_str("it comes from port 20, where an FTP server opens active-mode data connections")?,
            DataEvidence::AdvertisedPort => {
                write!(f, "port {} was advertised for passive data by a server in this capture", self.server.port())?
            }
            DataEvidence::Listing => f.write_str("its first bytes are a directory listing")?,
        }
        f.write_str(". Its control connection is not in the capture. ")?;
        match (self.outcome, self.ended) {
            (Outcome::Established, DataEnd::Reset { frame, by }) => write!(
                f,
                "It carried {} byte(s), then {} reset it (frame {frame}): the transfer was cut short, an incomplete data transfer.",
                self.bytes,
                if by == Side::Client { client } else { server }
            )?,
            (Outcome::Established, DataEnd::Closed) => write!(f, "It carried {} byte(s) and closed normally.", self.bytes)?,
            (Outcome::Established, _) => write!(f, "It carried {} byte(s) and was still open when the capture ended.", self.bytes)?,
            (outcome, _) => write!(f, "It never opened ({}): whatever it was to carry did not come.", outcome.as_str())?,
        }
        f.write_str(" Without the control channel, which command it served, which file and the server's final reply cannot be read.")
    }

    fn cause(&self) -> Cause {
        CONTROL_NOT_CAPTURED
    }

    fn subject(&self) -> Option<Subject> {
        Some(Subject::Connection { client: self.client, server: self.server, outcome: self.outcome })
    }
}
