//! Each data mode's verdict, from what the prober's sockets saw: it works, it works only for
//! clients that ignore the address the server advertised, it fails (how, with the server's
//! reply), or the server does not offer it. Pure: attempts in, verdicts out.

use super::observed::{Attempt, Dial, Reply};
use crate::model::{Mode, NegotiationCommand};
use serde::Serialize;
use std::net::SocketAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Works,
    /// The data connection worked at the server's own address; the address the reply named is
    /// another (a private one behind NAT): clients that trust it fail.
    WorksOnlyIgnoringAddress,
    Fails,
    NotOffered,
}

impl Verdict {
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Works => "works",
            Verdict::WorksOnlyIgnoringAddress => "works only for clients that ignore the address",
            Verdict::Fails => "fails",
            Verdict::NotOffered => "not offered",
        }
    }
}

/// How a failing mode failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// The data connection was refused (a RST).
    Refused,
    /// Passive: nothing answered the SYN. Active: the server never connected.
    Unanswered,
    /// An ICMP error answered the SYN.
    Unreachable,
    /// The server refused the command, or the transfer (its reply says how).
    Rejected,
    /// The negotiation's reply never came, or named no endpoint.
    NoEndpoint,
}

impl Failure {
    /// As the JSON names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Refused => "refused",
            Failure::Unanswered => "unanswered",
            Failure::Unreachable => "unreachable",
            Failure::Rejected => "rejected",
            Failure::NoEndpoint => "no_endpoint",
        }
    }
}

/// One mode's verdict with its facts.
#[derive(Debug, Clone, Serialize)]
pub struct ModeVerdict {
    pub command: NegotiationCommand,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// The reply that decided it: the negotiation's, or the transfer's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<Reply>,
    #[serde(serialize_with = "crate::model::notation::socket_opt")]
    pub advertised: Option<SocketAddr>,
    /// Passive: where the prober connected. Active: where it listened.
    #[serde(serialize_with = "crate::model::notation::socket_opt")]
    pub dialed: Option<SocketAddr>,
    /// Active: where the server's connection came from (another address than the server's:
    /// a NAT on its side).
    #[serde(serialize_with = "crate::model::notation::socket_opt")]
    pub connected_from: Option<SocketAddr>,
    pub bytes: u64,
}

/// Replies that say a command is not implemented: RFC 959 502 and 504, RFC 2428 522 (a
/// protocol the server does not do), and 500 when its words say the command is unknown (vsftpd
/// also answers 500 "Illegal PORT command." to a PORT it refuses: that is a refusal).
fn not_implemented(reply: &Reply) -> bool {
    let text = reply.text.to_ascii_lowercase();
    let unknown = ["unknown", "not understood", "unrecognized", "not implemented", "not supported"];
    matches!(reply.code, 502 | 504 | 522) || reply.code == 500 && unknown.iter().any(|w| text.contains(w))
}

pub fn judge(a: &Attempt) -> ModeVerdict {
    let (verdict, failure, reply) = decide(a);
    ModeVerdict {
        command: a.command,
        verdict,
        failure,
        reply,
        advertised: a.advertised,
        dialed: a.dialed,
        connected_from: a.peer,
        bytes: a.bytes,
    }
}

fn decide(a: &Attempt) -> (Verdict, Option<Failure>, Option<Reply>) {
    let fails = |f: Failure, reply: Option<&Reply>| (Verdict::Fails, Some(f), reply.cloned());
    let Some(negotiated) = &a.reply else {
        // Active, unanswered in time and no connection came: the server could not reach the
        // probe (it answers when it gives up).
        let failure = if a.dial == Some(Dial::Unanswered) { Failure::Unanswered } else { Failure::NoEndpoint };
        return fails(failure, None);
    };
    if not_implemented(negotiated) {
        return (Verdict::NotOffered, None, Some(negotiated.clone()));
    }
    // Active: a server that tried to connect and gave up (421 timed out, 425 cannot open) at the
    // negotiation itself (pyftpdlib connects at PORT): no connection reached the probe.
    if a.command.mode() == Mode::Active && matches!(negotiated.code, 421 | 425) && a.dial != Some(Dial::Established) {
        return fails(Failure::Unanswered, Some(negotiated));
    }
    if !(200..300).contains(&negotiated.code) {
        return fails(Failure::Rejected, Some(negotiated));
    }
    if a.advertised.is_none() {
        return fails(Failure::NoEndpoint, Some(negotiated));
    }
    let transfer = a.transfer.as_ref();
    match a.dial {
        Some(Dial::Established) => match transfer {
            Some(t) if (200..300).contains(&t.code) => {
                (if trusted_address_fails(a) { Verdict::WorksOnlyIgnoringAddress } else { Verdict::Works }, None, Some(t.clone()))
            }
            Some(t) => fails(Failure::Rejected, Some(t)),
            None => fails(Failure::NoEndpoint, None),
        },
        Some(Dial::Refused) => fails(Failure::Refused, transfer.or(Some(negotiated))),
        Some(Dial::Unreachable) => fails(Failure::Unreachable, transfer.or(Some(negotiated))),
        Some(Dial::Unanswered) | None => fails(Failure::Unanswered, transfer.or(Some(negotiated))),
    }
}

/// Passive: the reply named another address than the server's, and the prober connected to the
/// server's own (a client that trusts the reply goes elsewhere). A reply naming the server's
/// address, or a public one the prober followed, is no such case.
fn trusted_address_fails(a: &Attempt) -> bool {
    let (Some(advertised), Some(dialed)) = (a.advertised, a.dialed) else { return false };
    a.command.mode() == Mode::Passive && advertised.ip() != dialed.ip()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn attempt(
        command: NegotiationCommand,
        code: u16,
        advertised: &str,
        dialed: &str,
        dial: Option<Dial>,
        transfer: Option<u16>,
    ) -> Attempt {
        let mut a = Attempt::new(command, SystemTime::UNIX_EPOCH);
        a.reply = Some(Reply { code, text: String::new() });
        a.advertised = advertised.parse().ok();
        a.dialed = dialed.parse().ok();
        a.dial = dial;
        a.transfer = transfer.map(|code| Reply { code, text: String::new() });
        a
    }

    #[test]
    fn verdicts_per_mode() {
        use Dial::*;
        use NegotiationCommand::*;
        let cases = [
            (attempt(PASV, 227, "198.51.100.2:40001", "198.51.100.2:40001", Some(Established), Some(226)), Verdict::Works, None),
            (
                attempt(PASV, 227, "10.0.0.20:40001", "198.51.100.2:40001", Some(Established), Some(226)),
                Verdict::WorksOnlyIgnoringAddress,
                None,
            ),
            (
                attempt(PASV, 227, "198.51.100.2:40001", "198.51.100.2:40001", Some(Unanswered), None),
                Verdict::Fails,
                Some(Failure::Unanswered),
            ),
            (attempt(PASV, 227, "198.51.100.2:40001", "198.51.100.2:40001", Some(Refused), None), Verdict::Fails, Some(Failure::Refused)),
            (attempt(EPSV, 502, "", "", None, None), Verdict::NotOffered, None),
            (attempt(PORT, 500, "", "", None, None), Verdict::Fails, Some(Failure::Rejected)),
            (attempt(EPRT, 421, "[2001:db8:c::10]:5000", "[2001:db8:c::10]:5000", None, None), Verdict::Fails, Some(Failure::Unanswered)),
            (attempt(PASV, 421, "", "", None, None), Verdict::Fails, Some(Failure::Rejected)),
            (
                attempt(PORT, 200, "192.168.1.10:5000", "192.168.1.10:5000", Some(Unanswered), Some(425)),
                Verdict::Fails,
                Some(Failure::Unanswered),
            ),
            (attempt(PORT, 200, "192.168.1.10:5000", "192.168.1.10:5000", Some(Established), Some(226)), Verdict::Works, None),
            (
                attempt(EPRT, 200, "192.168.1.10:5000", "192.168.1.10:5000", Some(Established), Some(550)),
                Verdict::Fails,
                Some(Failure::Rejected),
            ),
        ];
        for (a, verdict, failure) in cases {
            let v = judge(&a);
            assert_eq!((v.verdict, v.failure), (verdict, failure), "{a:?}");
            // The words the text uses are the JSON's names.
            if let Some(f) = v.failure {
                assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
            }
        }
    }
}
