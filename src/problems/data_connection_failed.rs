//! data_connection_failed: a data connection that was refused, unreachable or unanswered, with
//! why as far as the capture tells ([`FailureCause`]); and, under TLS, a probable data
//! connection that failed (its negotiation unreadable).

use super::control_channel_encrypted::helper_blind;
use super::private_address_leak::SERVER_NAT_PRIVATE_ADDRESS;
use super::{Cause, Subject, Words};
use crate::model::finding::{Failed, ProbableFailed};
use crate::model::notation::{Ip, Sock};
use crate::model::{classify, FailedHow, FailureCause, Finding, Mode, Outcome};
use std::fmt::{self, Formatter};

/// SYNs to the passive port vanish: range not forwarded, or dropped by a firewall.
pub const PASSIVE_PORT_DROPPED: Cause = Cause {
    name: "passive_port_dropped",
    sentence: "The passive port is not forwarded to the server, or a firewall drops connections to it: the SYNs vanish.",
    brief: "passive port range not forwarded or dropped",
};

/// RST from the passive port: range not forwarded, or a firewall refuses it.
pub const PASSIVE_PORT_REFUSED: Cause = Cause {
    name: "passive_port_refused",
    sentence: "Nothing accepts connections on the passive port: it is not forwarded to the server, a firewall refuses it, or the \
               server's passive range differs from the forwarded one.",
    brief: "passive port refused (not forwarded, or a firewall rejects it)",
};

/// The server could not connect back to the client (active mode).
pub const CLIENT_UNREACHABLE: Cause = Cause {
    name: "client_unreachable",
    sentence: "The server could not connect back to the client (active mode): a NAT or firewall in front of the client does not \
               let the connection in.",
    brief: "server cannot connect back to the client",
};

/// Active mode to a client with a public address: a firewall blocks the server's connection.
pub const ACTIVE_BLOCKED: Cause = Cause {
    name: "active_blocked",
    sentence: "The server's connection back to the client (active mode) is blocked: the client's address is public, so a \
               firewall drops or refuses it, outbound from the server's data port or inbound at the client.",
    brief: "firewall blocking active-mode connections",
};

/// Some passive ports work and others do not: the router forwards part of the range.
pub const PART_OF_RANGE: Cause = Cause {
    name: "part_of_range",
    sentence: "Some passive ports of the server work and others do not: the router forwards (or the firewall allows) only part \
               of the range the server uses.",
    brief: "passive range forwarded only in part",
};

impl Words for Failed {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            Mode::Passive => "passive",
            Mode::Active => "active",
        };
        let c = self.connection;
        write!(f, "{mode} data connection {} -> {} {}", Sock(c.client), Sock(c.server), self.outcome.as_str())
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let Failed { command, connection, how, cause, .. } = *self;
        write!(f, "The {command:?} data connection ")?;
        match how {
            FailedHow::Refused { by, frame } => write!(
                f,
                "was refused: {} answered the SYN with RST (frame {})",
                by.map_or("peer", |side| side.as_str()),
                frame.unwrap_or(0)
            )?,
            FailedHow::Unreachable(icmp) => {
                f.write_str("was unreachable: ")?;
                if let Some(icmp) = icmp {
                    write!(f, "{icmp}")?;
                }
            }
            FailedHow::NoAnswer { syns, first } => write!(f, "got no answer: {syns} SYN(s) from frame {first}, no SYN-ACK")?,
        }
        let target = Sock(connection.server);
        match cause {
            FailureCause::PrivateAddressTried => {
                f.write_str(". The client tried the private address the server advertised, which does not exist on its network.")
            }
            FailureCause::NothingAccepts => write!(
                f,
                ". Nothing accepts connections on {target}: the passive port is not forwarded by the server's router to the \
                 server, a firewall rejects it, or the server's passive range differs from the forwarded one."
            ),
            FailureCause::SynsVanish => write!(
                f,
                ". SYNs to {target} vanish: a firewall drops them, or the router does not forward the passive port range to the \
                 server."
            ),
            FailureCause::PartOfRange { worked, connections } => {
                write!(f, ". Yet {connections} other data connection(s) of this session to the same address worked (port")?;
                if worked.lo == worked.hi {
                    write!(f, " {}", worked.lo)?;
                } else {
                    write!(f, "s {} to {}", worked.lo, worked.hi)?;
                }
                write!(
                    f,
                    "): only part of the passive range reaches the server. The router forwards (or the firewall allows) fewer \
                     ports than the server uses: port {} is not among them.",
                    connection.server.port()
                )
            }
            FailureCause::ActiveBlocked => write!(
                f,
                ". The client's address {} is public, so no NAT is in the way: a firewall drops or rejects the server's \
                 connection, leaving the server's network (outbound from its data port) or entering the client's.",
                Ip(connection.server.ip())
            ),
            FailureCause::ClientUnreachable => write!(
                f,
                ". The server could not connect back to the client at {target}: the client is behind NAT or a firewall that does \
                 not accept incoming connections."
            ),
        }
    }

    fn cause(&self) -> Cause {
        match self.cause {
            FailureCause::PrivateAddressTried => SERVER_NAT_PRIVATE_ADDRESS,
            FailureCause::NothingAccepts => PASSIVE_PORT_REFUSED,
            FailureCause::SynsVanish => PASSIVE_PORT_DROPPED,
            FailureCause::ClientUnreachable => CLIENT_UNREACHABLE,
            FailureCause::ActiveBlocked => ACTIVE_BLOCKED,
            FailureCause::PartOfRange { .. } => PART_OF_RANGE,
        }
    }

    fn subject(&self) -> Option<Subject> {
        Some(Subject::Connection { client: self.connection.client, server: self.connection.server, outcome: self.outcome })
    }
}

impl Words for ProbableFailed {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let (client, server) = (Sock(self.client), Sock(self.server));
        write!(f, "probable data connection {client} -> {server} {} (control channel under {})", self.outcome.as_str(), self.by.name())
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let how = match self.outcome {
            Outcome::Refused => "was refused (RST)",
            Outcome::Unreachable => "was unreachable (ICMP)",
            _ => "got no answer",
        };
        let by = self.by.name();
        if classify(self.server.ip()).is_unreachable_from_elsewhere() {
            write!(
                f,
                "Under {by} the negotiation is unreadable, but this connection opened between the session's hosts after the switch \
                 and {how}. It went to an address the client cannot reach: the server advertised its private address inside {by}, \
                 where no NAT helper could rewrite it."
            )
        } else {
            write!(
                f,
                "Under {by} the negotiation is unreadable, but this connection opened between the session's hosts after the switch \
                 and {how}. It went to the server's address: the passive port is not forwarded or allowed on the way. In clear text \
                 a NAT helper opens each negotiated port; under {by} it cannot see the negotiation, so only a forwarded range works."
            )
        }
    }

    fn cause(&self) -> Cause {
        helper_blind(self.by)
    }

    fn subject(&self) -> Option<Subject> {
        Some(Subject::Connection { client: self.client, server: self.server, outcome: self.outcome })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoints, FindingKind, NegotiationCommand, PortRange, Severity, Text};
    use crate::problems::{cause, Explanation, Summary};

    fn failed(cause: FailureCause) -> Finding {
        let connection = Endpoints { client: "198.51.100.7:50123".parse().unwrap(), server: "203.0.113.9:40010".parse().unwrap() };
        let text = Text::Failed(Failed {
            mode: Mode::Passive,
            command: NegotiationCommand::PASV,
            connection,
            outcome: Outcome::Unanswered,
            how: FailedHow::NoAnswer { syns: 3, first: 41 },
            cause,
        });
        let details = crate::model::Details::Port { port: 21 };
        Finding::new(FindingKind::DataConnectionFailed, Severity::Error, 2, vec![41], text, details)
    }

    #[test]
    fn the_failure_s_cause_names_explain_s_cause() {
        assert_eq!(cause(&failed(FailureCause::SynsVanish)), PASSIVE_PORT_DROPPED);
        assert_eq!(cause(&failed(FailureCause::NothingAccepts)), PASSIVE_PORT_REFUSED);
        // A client that tried the leaked address: the leak's cause, told once with it.
        assert_eq!(cause(&failed(FailureCause::PrivateAddressTried)), SERVER_NAT_PRIVATE_ADDRESS);
        let part = FailureCause::PartOfRange { worked: PortRange { lo: 40000, hi: 40000 }, connections: 1 };
        assert_eq!(cause(&failed(part)), PART_OF_RANGE);
    }

    #[test]
    fn summary_and_explanation_say_the_connection_and_why() {
        let f = failed(FailureCause::SynsVanish);
        assert_eq!(Summary(&f).to_string(), "passive data connection 198.51.100.7:50123 -> 203.0.113.9:40010 unanswered");
        assert_eq!(
            Explanation(&f).to_string(),
            "The PASV data connection got no answer: 3 SYN(s) from frame 41, no SYN-ACK. SYNs to 203.0.113.9:40010 vanish: a \
             firewall drops them, or the router does not forward the passive port range to the server."
        );
        let one = failed(FailureCause::PartOfRange { worked: PortRange { lo: 40000, hi: 40000 }, connections: 1 });
        assert!(Explanation(&one).to_string().contains("worked (port 40000): only part"), "{}", Explanation(&one));
        let many = failed(FailureCause::PartOfRange { worked: PortRange { lo: 40000, hi: 40005 }, connections: 4 });
        assert!(Explanation(&many).to_string().contains("worked (ports 40000 to 40005): only part"), "{}", Explanation(&many));
    }
}
