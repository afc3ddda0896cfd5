//! unexpected_public_address: a passive reply's public address other than the intended one
//! (`--public-ip`).

use super::{Cause, Spaced, Subject, Words};
use crate::model::finding::UnexpectedPublic;
use crate::model::notation::{Ip, Sock};
use crate::model::Finding;
use std::fmt::{self, Formatter};

pub const UNEXPECTED_PUBLIC_ADDRESS: Cause = Cause {
    name: "unexpected_public_address",
    sentence: "The server announces a public address other than the intended one: its external address setting is wrong or \
               stale.",
    brief: "passive replies naming another public address than intended",
};

impl Words for UnexpectedPublic {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "passive reply advertises {}, not the intended public address {}", Sock(self.advertised), Ip(self.intended))
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "The server announced {} in its passive reply, but clients should reach it at {}: its configured external address is \
             wrong or stale (a changed WAN address, a second router). The data connection was {}.",
            Ip(self.advertised.ip()),
            Ip(self.intended),
            Spaced(self.outcome)
        )
    }

    fn cause(&self) -> Cause {
        UNEXPECTED_PUBLIC_ADDRESS
    }

    fn subject(&self) -> Option<Subject> {
        Some(Subject::Advertised(self.advertised))
    }
}
