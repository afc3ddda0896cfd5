//! data_connection_not_seen: a passive reply followed by neither a data connection nor a
//! transfer command; seen at the server, the client's connection did not reach it.

use super::{Cause, Subject, Words};
use crate::model::finding::NotSeen;
use crate::model::notation::Sock;
use crate::model::Finding;
use std::fmt::{self, Formatter};

/// No data connection reached the server after a passive reply: not forwarded, or dropped.
pub const PASSIVE_PORT_NOT_REACHED: Cause = Cause {
    name: "passive_port_not_reached",
    sentence: "The client's data connections never reached the server: the router does not forward the passive ports to it, or \
               a firewall drops them.",
    brief: "data connections not reaching the server",
};

impl Words for NotSeen {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "no data connection to {} and no transfer: the client gave up connecting", Sock(self.advertised))
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let advertised = self.advertised;
        if self.at_server {
            write!(
                f,
                "The server advertised {} (its public address: it is behind NAT, and this capture is inside), yet no connection \
                 to port {} arrived here and the client sent no transfer command: its connection attempt did not reach the \
                 server. The router does not forward the passive port to the server, or a firewall drops it.",
                Sock(advertised),
                advertised.port()
            )
        } else {
            write!(
                f,
                "After the server advertised {}, no connection to it appears in this capture and the client sent no transfer \
                 command: it gave up connecting. Captured at the server, its SYNs did not reach it (a firewall drops the passive \
                 port, or a router does not forward it); captured at the client, the client did not try.",
                Sock(advertised)
            )
        }
    }

    fn cause(&self) -> Cause {
        PASSIVE_PORT_NOT_REACHED
    }

    fn subject(&self) -> Option<Subject> {
        Some(Subject::Advertised(self.advertised))
    }
}
