//! alg_rewrite: a NAT helper (ALG) rewrote the address in a negotiation: seen from one side (a
//! private PORT whose connection still arrived), or across the two copies of one control
//! connection on both sides of the router.

use super::{Cause, Subject, Words};
use crate::model::finding::{RewriteAcross, RewriteSeen};
use crate::model::notation::Sock;
use crate::model::Finding;
use std::fmt::{self, Formatter};

pub const HELPER_REWROTE: Cause = Cause {
    name: "helper_rewrote",
    sentence: "A NAT helper rewrote the address in PASV/PORT: that works in clear text only.",
    brief: "NAT helper rewriting the negotiation",
};

impl Words for RewriteSeen {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let (advertised, client, server) = (Sock(self.advertised), Sock(self.client), Sock(self.server));
        write!(f, "{:?} names {advertised}, yet the server's data connection arrived ({client} -> {server})", self.command)
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(
            "A server on another network cannot reach a private address by itself: the client's NAT router rewrote the \
             PORT/EPRT address in transit and opened the port (an FTP helper, ALG). This works only while the control channel \
             is clear text.",
        )
    }

    fn cause(&self) -> Cause {
        HELPER_REWROTE
    }

    fn subject(&self) -> Option<Subject> {
        Some(Subject::Advertised(self.advertised))
    }
}

impl Words for RewriteAcross {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let RewriteAcross { command, inside_frame, inside_session, outside_frame, outside_session, .. } = *self;
        let (inside, outside) = (Sock(self.inside), Sock(self.outside));
        write!(
            f,
            "NAT helper rewrote {command:?} {inside} (frame {inside_frame}, session {inside_session}) to {outside} (frame \
             {outside_frame}, session {outside_session})"
        )
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(
            "The same control connection appears on both sides of a NAT router, and the address in the negotiation differs \
             between them: the router's FTP helper (ALG) rewrote it in clear text. It cannot do that once the session uses AUTH \
             TLS.",
        )
    }

    fn cause(&self) -> Cause {
        HELPER_REWROTE
    }
}
