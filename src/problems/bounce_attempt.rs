//! bounce_attempt: PORT/EPRT names a third host the server can reach, an FTP bounce.

use super::{Cause, Subject, Words};
use crate::model::finding::Bounce;
use crate::model::notation::{Ip, Sock};
use crate::model::Finding;
use std::fmt::{self, Formatter};

pub const BOUNCE: Cause = Cause { name: "bounce", sentence: "A PORT names a third host: an FTP bounce.", brief: "FTP bounce" };

impl Words for Bounce {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let (advertised, client) = (Sock(self.advertised), Ip(self.client));
        write!(f, "{:?} asks the server to connect to {advertised}, a third host (the client is {client})", self.command)
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(
            "The client named an address that is not its own, and that its peer can reach. That is an FTP bounce: the server is \
             used to open connections to another host (port scanning, relaying). A client behind NAT leaking its private \
             address looks different (an address the server cannot reach). A multi-homed client can also cause this.",
        )
    }

    fn cause(&self) -> Cause {
        BOUNCE
    }

    fn subject(&self) -> Option<Subject> {
        Some(Subject::Advertised(self.advertised))
    }
}
