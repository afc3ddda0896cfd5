//! one_direction_captured: the capture holds one direction of the control connection only
//! (asymmetric routing, a one-way mirror port): what the other side said cannot be judged.

use super::{Cause, Words};
use crate::model::finding::OneDirection;
use crate::model::{Directions, Finding};
use std::fmt::{self, Formatter};

pub const ONE_DIRECTION: Cause = Cause {
    name: "one_direction",
    sentence: "The capture holds one direction of the control connection only (asymmetric routing, or a mirror port that copies \
               one direction): what the other side sent cannot be judged.",
    brief: "one direction of the control connection captured",
};

impl Words for OneDirection {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        match self.captured {
            Directions::ServerToClient => f.write_str("only the server's packets of this control connection were captured"),
            _ => f.write_str("only the client's packets of this control connection were captured"),
        }
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let negotiations = self.negotiations;
        match self.captured {
            Directions::ServerToClient => write!(
                f,
                "The capture holds what the server sent on the control connection, not what the client sent (asymmetric routing, \
                 or a mirror port that copies one direction): the other side's bytes were acknowledged but never captured. The \
                 commands are unknown: {negotiations} negotiation(s) read from passive replies (227/228/229) alone, their command \
                 implied; PORT/EPRT and what each transfer asked for cannot be seen. The data connections are judged from the \
                 server's packets; nothing is concluded from what is missing. Capture where both directions pass (on the server \
                 or the client, or mirror both directions of the port) to judge the rest."
            ),
            _ => write!(
                f,
                "The capture holds what the client sent on the control connection, not what the server sent (asymmetric routing, \
                 or a mirror port that copies one direction): the other side's bytes were acknowledged but never captured. The \
                 replies are unknown: whether the server accepted or refused a command (425, 500, 530 ...) cannot be judged, nor \
                 where a passive reply told the client to connect: the client's next connection after its PASV is taken as its \
                 data connection, and shows the address only when it is one the client cannot have made up (a private address \
                 of a public server). {negotiations} negotiation(s) read from the commands; a data connection counts as \
                 established when its opener acknowledged the answer to its SYN, and nothing is concluded from what is missing. \
                 Capture where both directions pass (on the server or the client, or mirror both directions of the port) to \
                 judge the rest."
            ),
        }
    }

    fn cause(&self) -> Cause {
        ONE_DIRECTION
    }
}
