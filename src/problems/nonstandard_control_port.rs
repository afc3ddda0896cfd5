//! nonstandard_control_port: the control connection is not on port 21, where firewalls and NAT
//! helpers look for FTP.

use super::{Cause, Words};
use crate::model::finding::NonstandardPort;
use crate::model::notation::Sock;
use crate::model::Finding;
use std::fmt::{self, Formatter};

pub const NONSTANDARD_PORT: Cause = Cause {
    name: "nonstandard_port",
    sentence: "The control connection is not on port 21: NAT helpers that watch port 21 do not see it.",
    brief: "control connection not on port 21",
};

impl Words for NonstandardPort {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "FTP control channel on port {} instead of 21", self.port)
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "The control connection goes to {}. Firewalls and NAT helpers that watch only port 21 do not see this session: a \
             helper (ALG) will not rewrite its addresses nor open its data ports unless it is attached to port {} explicitly.",
            Sock(self.server),
            self.port
        )
    }

    fn cause(&self) -> Cause {
        NONSTANDARD_PORT
    }
}
