//! address_mismatch: a passive reply names a public address other than the one the client
//! reaches the server at (NAT on purpose, or a multi-homed server).

use super::{Cause, Spaced, Subject, ViaText, Words};
use crate::model::finding::Mismatch;
use crate::model::notation::{Ip, Sock};
use crate::model::Finding;
use std::fmt::{self, Formatter};

/// The passive reply names another public address than the one the client reached.
pub const ADDRESS_MISMATCH: Cause = Cause {
    name: "address_mismatch",
    sentence: "The passive reply names another public address than the one the client reached (NAT set up on purpose, or a \
               multi-homed server).",
    brief: "passive reply naming another public address",
};

impl Words for Mismatch {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let (advertised, server) = (Sock(self.advertised), Ip(self.server));
        write!(f, "server advertised {advertised} but the control connection reaches it at {server}")
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "The passive reply names a public address other than the one the client talks to: the server is behind NAT and \
             announces its external address (normal when configured on purpose), or it is multi-homed. The data connection was \
             {}{}.",
            Spaced(self.outcome),
            ViaText(self.via)
        )
    }

    fn cause(&self) -> Cause {
        ADDRESS_MISMATCH
    }

    fn subject(&self) -> Option<Subject> {
        Some(Subject::Advertised(self.advertised))
    }
}
