//! unexpected_control_port: the control connection uses another port than the intended one
//! (`--control-port`).

use super::{Cause, Words};
use crate::model::finding::UnexpectedControlPort;
use crate::model::notation::Sock;
use crate::model::Finding;
use std::fmt::{self, Formatter};

pub const UNEXPECTED_CONTROL_PORT: Cause = Cause {
    name: "unexpected_control_port",
    sentence: "The control connection uses another port than the intended one.",
    brief: "control port other than intended",
};

impl Words for UnexpectedControlPort {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "control connection on port {}, not the intended {}", self.seen, self.intended)
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "The control connection goes to {} (port {}), not to port {} as intended: the client was pointed at another port, or \
             the server or the router's forwarding listens elsewhere.",
            Sock(self.server),
            self.seen,
            self.intended
        )
    }

    fn cause(&self) -> Cause {
        UNEXPECTED_CONTROL_PORT
    }
}
