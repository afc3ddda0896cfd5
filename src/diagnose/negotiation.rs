//! Findings about one data-channel negotiation: an address that cannot be reached (leak), one
//! that differs from the control connection's (NAT, multi-homing, bounce), a malformed one, a
//! data connection that failed, a negotiation or transfer the server refused.

use crate::model::{
    classify, AddressClass, ChannelSeen, Connection, Details, Endpoints, Finding, FindingKind, Fix, MatchedBy, Mode, Negotiation, Outcome,
    Session, Severity,
};
use std::net::{IpAddr, SocketAddr};

pub(super) fn findings(s: &Session, n: &Negotiation, out: &mut Vec<Finding>) {
    let (sender, peer) = match n.mode {
        Mode::Passive => (s.server.ip(), s.client.ip()),
        Mode::Active => (s.client.ip(), s.server.ip()),
    };
    let side = if n.mode == Mode::Passive { "server" } else { "client" };
    let evidence_frame = n.evidence_frame();
    let mut frames = vec![evidence_frame];
    if let Some(c) = &n.data.connection {
        frames.push(c.syn_frame);
        frames.extend(c.rst_frame.or(c.unreachable_frame));
    }
    frames.extend(n.data.reply_frame);
    let outcome = n.data.outcome;

    if let Some(reason) = n.malformed {
        let (kind, what) = match n.mode {
            Mode::Passive => (FindingKind::MalformedReply, format!("{} reply", n.reply_code.map_or("passive".into(), |c| c.to_string()))),
            Mode::Active => (FindingKind::MalformedCommand, format!("{:?} command", n.command)),
        };
        out.push(Finding {
            kind,
            group: reason.to_string(),
            occurrences: 1,
            severity: Severity::Warning,
            session: s.id,
            frames: vec![evidence_frame],
            summary: format!("{what} could not be parsed: {reason}"),
            explanation: format!(
                "The {side} announced a data endpoint ftpscope cannot read ({reason}). Clients and NAT helpers that parse strictly \
                 will fail the same way, so the transfer that follows may not work."
            ),
            fix: Vec::new(),
            details: Details::Unparsable { side, reason, text: n.reply_text.clone().or_else(|| n.argument.clone()) },
        });
    }

    if let (Some(adv), false) = (n.advertised, n.address_implied) {
        let class = classify(adv.ip());
        if leaks(class, adv.ip(), sender, peer) {
            private_leak(s, n, adv, class, side, &frames, out);
        } else if adv.ip() != sender && !same_address_v4_mapped(adv.ip(), sender) {
            match n.mode {
                Mode::Passive => out.push(Finding {
                    kind: FindingKind::AddressMismatch,
                    group: format!("{} {}", adv.ip(), outcome.as_str()),
                    occurrences: 1,
                    severity: if outcome.is_failure() { Severity::Error } else { Severity::Info },
                    session: s.id,
                    frames: frames.clone(),
                    summary: format!("server advertised {adv} but the control connection reaches it at {}", s.server.ip()),
                    explanation: format!(
                        "The passive reply names a public address other than the one the client talks to: the server is behind NAT \
                         and announces its external address (normal when configured on purpose), or it is multi-homed. The data \
                         connection was {}{}.",
                        outcome.as_str().replace('_', " "),
                        via(n)
                    ),
                    fix: if outcome.is_failure() {
                        vec![
                            Fix::CheckExternalAddress { advertised: adv, server: s.server.ip() },
                            Fix::ServerPassiveSettings { software: s.software },
                        ]
                    } else {
                        Vec::new()
                    },
                    details: Details::Mismatch { side, advertised: adv, control_address: s.server.ip() },
                }),
                Mode::Active => out.push(Finding {
                    kind: FindingKind::BounceAttempt,
                    group: adv.ip().to_string(),
                    occurrences: 1,
                    severity: Severity::Warning,
                    session: s.id,
                    frames: frames.clone(),
                    summary: format!("{:?} asks the server to connect to {adv}, a third host (the client is {})", n.command, s.client.ip()),
                    explanation: "The client named an address that is not its own, and that its peer can reach. That is an FTP \
                                  bounce: the server is used to open connections to another host (port scanning, relaying). A \
                                  client behind NAT leaking its private address looks different (an address the server cannot \
                                  reach). A multi-homed client can also cause this."
                        .into(),
                    fix: vec![Fix::RefuseForeignAddress],
                    details: Details::Bounce { side, address: adv.ip(), client: s.client.ip() },
                }),
            }
        }
    }

    if outcome.is_failure() {
        if let Some(c) = &n.data.connection {
            out.push(data_failed(s, n, c, &frames));
        }
    }

    let refused_negotiation = n.reply_code.filter(|&c| c >= 400);
    let refused_transfer = n.data.reply_code.filter(|&c| matches!(c, 421 | 425 | 426 | 500 | 501 | 522));
    if let Some(code) = refused_negotiation.or(refused_transfer) {
        let (frame, text) = if refused_negotiation.is_some() {
            (n.reply_frame, n.reply_text.clone())
        } else {
            (n.data.reply_frame, n.data.reply_text.clone())
        };
        let text = text.unwrap_or_default();
        let (explanation, fix) = rejection_advice(s, n, code, &text);
        out.push(Finding {
            kind: FindingKind::DataCommandRejected,
            group: code.to_string(),
            occurrences: 1,
            severity: Severity::Error,
            session: s.id,
            frames: frame.into_iter().chain([n.frame]).collect(),
            summary: format!("{code} {text}", text = text.trim()),
            explanation,
            fix,
            details: Details::Rejected { code, text, command: n.data.command.clone() },
        });
    }
}

/// An IPv4-mapped IPv6 address is the same host as its plain IPv4 form.
fn same_address_v4_mapped(a: IpAddr, b: IpAddr) -> bool {
    match (a, b) {
        (IpAddr::V4(v4), IpAddr::V6(v6)) | (IpAddr::V6(v6), IpAddr::V4(v4)) => v6.to_ipv4_mapped() == Some(v4),
        _ => false,
    }
}

/// Is an advertised address out of the peer's reach? Loopback and "any" always are (unless the
/// peers share a host). Other non-public addresses are, unless the control connection itself
/// runs between non-public addresses (both peers on one private network, as seen here).
fn leaks(class: AddressClass, adv: IpAddr, sender: IpAddr, peer: IpAddr) -> bool {
    match class {
        AddressClass::Public => false,
        AddressClass::Loopback | AddressClass::Unspecified => classify(peer) != AddressClass::Loopback,
        AddressClass::LinkLocal => adv != sender || classify(peer) != AddressClass::LinkLocal,
        _ => !(classify(sender).is_unreachable_from_elsewhere() && classify(peer).is_unreachable_from_elsewhere()),
    }
}

/// " (client -> server, SYN in frame N, how it was tied)" for the data connection, if any.
fn via(n: &Negotiation) -> String {
    match (&n.data.connection, n.data.matched_by) {
        (Some(c), Some(m)) => format!(
            " ({} -> {}, SYN in frame {}{})",
            c.client,
            c.server,
            c.syn_frame,
            match m {
                MatchedBy::Advertised => "",
                MatchedBy::ControlAddress => ", to the control connection's address",
                MatchedBy::PortOnly => ", to the advertised port on another address",
            }
        ),
        _ => String::new(),
    }
}

fn private_leak(
    s: &Session,
    n: &Negotiation,
    adv: SocketAddr,
    class: AddressClass,
    side: &'static str,
    frames: &[u64],
    out: &mut Vec<Finding>,
) {
    let outcome = n.data.outcome;
    let went_to_advertised = n.data.matched_by == Some(MatchedBy::Advertised);
    let worked = outcome == Outcome::Established;
    let (consequence, severity) = match (n.mode, outcome) {
        (_, o) if o.is_failure() => (
            format!("The data connection to it failed ({}){}: that is why the transfer did not work.", o.as_str(), via(n)),
            Severity::Error,
        ),
        (Mode::Passive, Outcome::Established) if !went_to_advertised => (
            format!(
                "The client worked around it: it ignored the advertised address and connected to the server's control address{}. \
                 Clients that trust the 227 address (older clients, Windows ftp.exe, strict libraries) will fail.",
                via(n)
            ),
            Severity::Warning,
        ),
        (Mode::Passive, Outcome::Established) => (
            format!(
                "The data connection still succeeded{}: seen from this capture point, the client reached it (the capture is inside \
                 the server's network, or a NAT helper rewrote the reply for the client). Clients elsewhere will fail.",
                via(n)
            ),
            Severity::Warning,
        ),
        (Mode::Active, Outcome::Established) => (
            format!(
                "Yet the server's data connection arrived{}: a NAT helper (ALG) on the client's router rewrote the PORT \
                 command outside and forwarded the connection. It will stop working under AUTH TLS, where the helper is blind.",
                via(n)
            ),
            Severity::Warning,
        ),
        (_, Outcome::Rejected) => ("The server refused the negotiation or could not use it.".into(), Severity::Error),
        (_, o) => (format!("The data connection's outcome: {}.", o.as_str().replace('_', " ")), Severity::Warning),
    };
    let fix = match n.mode {
        Mode::Passive => {
            let mut f = Vec::new();
            // The address the client reached the server at is, seen from its side, the public one.
            if !classify(s.server.ip()).is_unreachable_from_elsewhere() {
                f.push(Fix::AnnouncePublicAddress { address: s.server.ip() });
            }
            f.push(Fix::ServerPassiveSettings { software: s.software });
            // Forwarding needs the server's LAN address: an advertised loopback or "any"
            // address is not one.
            if !matches!(class, AddressClass::Loopback | AddressClass::Unspecified) {
                f.push(Fix::ForwardPassiveRange { server: adv.ip() });
            }
            f
        }
        Mode::Active => {
            let mut f = vec![Fix::UsePassiveMode];
            // Where the helper already did the rewriting, suggesting it would be noise.
            if !worked {
                f.push(Fix::ClientRouterHelper { control_port: s.control_port });
            }
            f
        }
    };
    // Servers answer EPSV with 227 and PASV with 229: name the reply actually sent.
    let what = match n.mode {
        Mode::Passive => format!("{} reply", n.reply_code.unwrap_or(227)),
        Mode::Active => format!("{:?}", n.command),
    };
    out.push(Finding {
        kind: FindingKind::PrivateAddressLeak,
        group: format!("{side} {} {}", adv.ip(), outcome.as_str()),
        occurrences: 1,
        severity,
        session: s.id,
        frames: frames.to_vec(),
        summary: format!(
            "{side} {what} advertises {} {adv}",
            class.describe().trim_start_matches("a ").trim_start_matches("an ").trim_start_matches("the "),
        ),
        explanation: format!(
            "The {side} told its peer to use {adv}, {} that cannot be reached from {}. {consequence}",
            class.describe(),
            match n.mode {
                Mode::Passive => s.client,
                Mode::Active => s.server,
            },
        ),
        fix,
        details: Details::Leak {
            side,
            address: adv.ip(),
            port: adv.port(),
            class,
            worked_around: worked,
            outcome,
            alg_suspected: n.mode == Mode::Active && worked,
        },
    });
    if let (Mode::Active, true, Some(c)) = (n.mode, worked, &n.data.connection) {
        out.push(Finding {
            kind: FindingKind::AlgRewrite,
            group: String::new(),
            occurrences: 1,
            severity: Severity::Info,
            session: s.id,
            frames: frames.to_vec(),
            summary: format!("{:?} names {adv}, yet the server's data connection arrived ({} -> {})", n.command, c.client, c.server),
            explanation: "A server on another network cannot reach a private address by itself: the client's NAT router \
                          rewrote the PORT/EPRT address in transit and opened the port (an FTP helper, ALG). This works only \
                          while the control channel is clear text."
                .into(),
            fix: vec![Fix::PrepareForTls { mode: Mode::Active }],
            details: Details::RewriteSeen { advertised: adv, connection: Endpoints { client: c.client, server: c.server } },
        });
    }
}

fn data_failed(s: &Session, n: &Negotiation, c: &Connection, frames: &[u64]) -> Finding {
    let outcome = n.data.outcome;
    let target = c.server;
    let what = match outcome {
        Outcome::Refused => format!(
            "was refused: {} answered the SYN with RST (frame {})",
            c.rst_from.map_or("peer", |side| side.as_str()),
            c.rst_frame.unwrap_or(0)
        ),
        Outcome::Unreachable => format!("was unreachable: {}", c.unreachable.map(|i| i.to_string()).unwrap_or_default()),
        _ => format!("got no answer: {} SYN(s) from frame {}, no SYN-ACK", c.syns, c.syn_frame),
    };
    let (cause, fix) = match n.mode {
        Mode::Passive => {
            let adv_private = n.advertised_class.is_some_and(|c| c.is_unreachable_from_elsewhere());
            let cause = if adv_private && n.data.matched_by == Some(MatchedBy::Advertised) {
                "The client tried the private address the server advertised, which does not exist on its network.".to_string()
            } else if outcome == Outcome::Refused {
                format!(
                    "Nothing accepts connections on {target}: the passive port is not forwarded by the server's router to the \
                     server, a firewall rejects it, or the server's passive range differs from the forwarded one."
                )
            } else {
                format!(
                    "SYNs to {target} vanish: a firewall drops them, or the router does not forward the passive port range to \
                     the server."
                )
            };
            (cause, vec![Fix::ServerPassiveSettings { software: s.software }, Fix::AllowPassiveRange { port: target.port() }])
        }
        Mode::Active => (
            format!(
                "The server could not connect back to the client at {target}: the client is behind NAT or a firewall that does \
                 not accept incoming connections."
            ),
            vec![Fix::UsePassiveMode, Fix::ClientRouterHelper { control_port: s.control_port }],
        ),
    };
    let mode = match n.mode {
        Mode::Passive => "passive",
        Mode::Active => "active",
    };
    Finding {
        kind: FindingKind::DataConnectionFailed,
        group: format!("{:?} {} {}", n.mode, outcome.as_str(), c.server.ip()),
        occurrences: 1,
        severity: Severity::Error,
        session: s.id,
        frames: frames.to_vec(),
        summary: format!("{mode} data connection {} -> {} {}", c.client, c.server, outcome.as_str()),
        explanation: format!("The {:?} data connection {what}. {cause}", n.command),
        fix,
        details: Details::Failed {
            mode: n.mode,
            outcome,
            connection: ChannelSeen { client: c.client, server: c.server, syn_frame: c.syn_frame, outcome: None },
        },
    }
}

fn rejection_advice(s: &Session, n: &Negotiation, code: u16, text: &str) -> (String, Vec<Fix>) {
    let lower = text.to_ascii_lowercase();
    let foreign = lower.contains("illegal port")
        || lower.contains("won't open a connection")
        || lower.contains("foreign address")
        || lower.contains("does not match control connection");
    if n.mode == Mode::Active && foreign {
        return (
            format!(
                "The server refused to connect to the address in {:?} because it differs from the client's address on the control \
                 connection ({}): its anti-bounce check. From behind NAT this happens whenever the client sends its private address.",
                n.command,
                s.client.ip()
            ),
            vec![Fix::UsePassiveMode, Fix::KeepAntiBounce { software: s.software }],
        );
    }
    if lower.contains("bad ip connecting") {
        return (
            "The data connection came from another address than the control connection, and the server refused it \
             (vsftpd pasv_promiscuous=NO). NAT between client and server maps the two connections differently."
                .into(),
            vec![Fix::SameNatAddress],
        );
    }
    match code {
        425 => (
            "The server could not open or accept the data connection (425). In active mode it could not connect to the client; \
             in passive mode the client never connected to the advertised port."
                .into(),
            match n.mode {
                Mode::Active => vec![Fix::UsePassiveMode],
                Mode::Passive => vec![Fix::ServerPassiveSettings { software: s.software }],
            },
        ),
        426 => ("The data connection broke during the transfer (426): a firewall timeout or reset on the path.".into(), Vec::new()),
        _ => (format!("The server answered {code} to the data-channel negotiation or transfer."), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn leak(adv: &str, sender: &str, peer: &str) -> bool {
        leaks(classify(ip(adv)), ip(adv), ip(sender), ip(peer))
    }

    #[test]
    fn which_advertised_addresses_the_peer_cannot_reach() {
        // Seen from the client's LAN: the server is public, its 227 names a private address.
        assert!(leak("10.0.0.20", "203.0.113.5", "192.168.1.10"));
        // Seen from the server's LAN: the 227 names the server's own private address, the
        // client arrives from a public one.
        assert!(leak("10.0.0.20", "10.0.0.20", "203.0.113.2"));
        // Both peers on one private network: reachable.
        assert!(!leak("192.168.1.20", "192.168.1.20", "192.168.1.10"));
        // CGNAT is not reachable from the internet either (FileZilla misses this one).
        assert!(leak("100.64.1.2", "203.0.113.5", "198.51.100.7"));
        // Loopback and "any" are never reachable from another host.
        assert!(leak("127.0.0.1", "192.168.1.20", "192.168.1.10"));
        assert!(leak("0.0.0.0", "203.0.113.5", "198.51.100.7"));
        assert!(!leak("127.0.0.1", "127.0.0.1", "127.0.0.1"));
        // Public addresses never leak (they may mismatch, which is another finding).
        assert!(!leak("198.51.100.2", "10.0.0.20", "203.0.113.2"));
        assert!(leak("fd00::5", "2001:db8::5", "2001:db8:c::10"));
    }
}
