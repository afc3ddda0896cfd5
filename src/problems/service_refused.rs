//! service_refused: the server refused the session itself, before or at the login: a 421 (too
//! many connections from the address, too many users, not available), vsftpd's `500 OOPS:` (a
//! chroot the user can write, a home it cannot enter, another configuration error), or a hang-up
//! right after the greeting or the password with no reply saying why.

use super::{Cause, Words};
use crate::model::finding::ServiceRefused;
use crate::model::{Details, Finding, ServiceReason};
use std::fmt::{self, Formatter};

pub const SERVICE_REFUSED: Cause = Cause {
    name: "service_refused",
    sentence: "The server refused the session itself, before any transfer.",
    brief: "session refused by the server",
};

impl Words for ServiceRefused {
    fn summary(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        if let (Some(code), Details::Login { reply_text, .. }) = (self.code, &finding.details) {
            return write!(f, "the server ended the session: {code} {}", reply_text.as_deref().unwrap_or("").trim());
        }
        match self.reason {
            ServiceReason::ClosedAfterPassword => f.write_str("the server hung up right after the password, without a reply"),
            _ => f.write_str("the server hung up right after its greeting, before any command"),
        }
    }

    fn explanation(&self, _finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self.reason {
            ServiceReason::TooManyFromAddress => {
                "The server already holds as many sessions from this client's address as it allows (vsftpd max_per_ip, ProFTPD \
                 MaxClientsPerHost, Pure-FTPd -C). Behind a NAT, many users share that address."
            }
            ServiceReason::TooManyUsers => {
                "The server already holds as many sessions as it allows in all (vsftpd max_clients, ProFTPD MaxClients, \
                 Pure-FTPd -c)."
            }
            ServiceReason::WritableChroot => {
                "vsftpd refuses to lock a user into a home directory the user can write (chroot_local_user=YES): its process \
                 gives up after the password, whatever the password."
            }
            ServiceReason::CannotChangeDirectory => {
                "vsftpd could not enter the user's home directory (missing, or not accessible to the user): its process gave up \
                 after the login."
            }
            ServiceReason::BindFailed => {
                "vsftpd could not bind the local port for an active-mode data connection (connect_from_port_20=YES: port 20 \
                 taken, or not allowed to it) and its process gave up, ending the session. Passive mode avoids it; on the server, \
                 connect_from_port_20=NO."
            }
            ServiceReason::ServerError => {
                "The server's process gave up with an error of its own configuration (vsftpd's 500 OOPS): its log and its \
                 configuration say which."
            }
            ServiceReason::Unavailable => "The server said it is not available (421) and closed the control connection.",
            ServiceReason::ClosedAfterGreeting => {
                "The server closed the control connection right after its greeting, before the client sent anything: a limit \
                 or an access rule (tcp_wrappers, a deny list) that answers by hanging up. Its log says which."
            }
            ServiceReason::ClosedAfterPassword => {
                "The server closed the control connection after the password without answering it: its process ended at the \
                 login (a crash, a configuration error, a limit on failed logins). Its log says which."
            }
        })
    }

    fn cause(&self) -> Cause {
        SERVICE_REFUSED
    }
}
