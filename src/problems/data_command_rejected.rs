//! data_command_rejected: the server refused a negotiation or a transfer (425, 426, 500 ...),
//! and what the code and text say it means ([`Rejection`]).

use super::data_connection_failed::ACTIVE_BLOCKED;
use super::data_connection_not_seen::PASSIVE_PORT_NOT_REACHED;
use super::{Cause, Words};
use crate::model::finding::Rejected;
use crate::model::notation::{Ip, Sock};
use crate::model::{Details, Finding, Rejection};
use std::fmt::{self, Formatter};

/// The server refused a PORT/EPRT naming another address (its anti-bounce check).
pub const SERVER_REFUSES_PORT: Cause = Cause {
    name: "server_refuses_port",
    sentence: "The server refuses a PORT naming another address than the client's (its anti-bounce check): from behind NAT the \
               client names its private address.",
    brief: "server refusing PORT to a foreign address",
};

/// The data connection came from another address than the control connection.
pub const DATA_FROM_OTHER_ADDRESS: Cause = Cause {
    name: "data_from_other_address",
    sentence: "The data connection came from another address than the control connection and the server refused it: NAT maps \
               the two connections differently.",
    brief: "data connection from another address refused",
};

/// The server could not open, or broke, the data connection (425/426/other).
pub const TRANSFER_REFUSED: Cause = Cause {
    name: "transfer_refused",
    sentence: "The server could not open the data connection, or it broke during the transfer.",
    brief: "data connection refused or broken by the server",
};

impl Words for Rejected {
    fn summary(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let code = self.code;
        match &finding.details {
            Details::Rejected { text, .. } => write!(f, "{code} {}", text.trim()),
            _ => write!(f, "{code}"),
        }
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let Rejected { code, advice, command, client } = *self;
        match advice {
            Rejection::ForeignAddress => write!(
                f,
                "The server refused to connect to the address in {command:?} because it differs from the client's address on the \
                 control connection ({}): its anti-bounce check. From behind NAT this happens whenever the client sends its \
                 private address.",
                Ip(client)
            ),
            Rejection::DataFromOtherAddress => f.write_str(
                "The data connection came from another address than the control connection, and the server refused it (vsftpd \
                 pasv_promiscuous=NO). NAT between client and server maps the two connections differently.",
            ),
            Rejection::NoneArrived { advertised } => {
                f.write_str("The server waited for the client's data connection")?;
                if let Some(a) = advertised {
                    write!(f, " to {}", Sock(a))?;
                }
                f.write_str(
                    ", none came, and it gave up (425). No SYN to it is in this capture: seen at the server, the client's \
                     connection never arrived (a NAT router that does not forward the passive port, or a firewall that drops it); \
                     seen elsewhere, the client did not try.",
                )
            }
            Rejection::ActiveNotArrived => f.write_str(
                "The server accepted the client's PORT, tried to connect back, and gave up (425). The address it was given is \
                 the client's own and public, yet no connection from the server is in this capture: a firewall drops it, \
                 outbound at the server or on the way (captured at the client, its SYNs would show here even if the client's \
                 own firewall then dropped them).",
            ),
            Rejection::CannotOpen => f.write_str(
                "The server could not open or accept the data connection (425). In active mode it could not connect to the client; \
                 in passive mode the client never connected to the advertised port.",
            ),
            Rejection::Broken => {
                f.write_str("The data connection broke during the transfer (426): a firewall timeout or reset on the path.")
            }
            Rejection::Other => write!(f, "The server answered {code} to the data-channel negotiation or transfer."),
        }
    }

    fn cause(&self) -> Cause {
        match self.advice {
            Rejection::ForeignAddress => SERVER_REFUSES_PORT,
            Rejection::DataFromOtherAddress => DATA_FROM_OTHER_ADDRESS,
            Rejection::NoneArrived { .. } => PASSIVE_PORT_NOT_REACHED,
            Rejection::ActiveNotArrived => ACTIVE_BLOCKED,
            _ => TRANSFER_REFUSED,
        }
    }
}
