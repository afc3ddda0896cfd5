//! Diagnosis: findings, with evidence frames, plain-words explanations and fixes, derived from
//! the report's sessions. Pure: the same sessions always give the same findings.
//!
//! Owns the judgement (what is wrong, how bad, what to change). Must not touch packets or parsing.

pub mod software;

use crate::model::address::{classify, AddressClass};
use crate::report::{Finding, FindingKind, Mode, Negotiation, Outcome, Session, Severity};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};

/// Findings for every session, in session then frame order.
pub fn findings(sessions: &[Session]) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in sessions {
        let mut own = Vec::new();
        session_findings(s, &mut own);
        merge_repeats(own, &mut out);
    }
    let mut across = Vec::new();
    rewrites_across_capture_points(sessions, &mut across);
    merge_repeats(across, &mut out);
    out
}

/// One capture that holds both sides of a NAT router (`tcpdump -i any` on it) shows each control
/// connection twice: before and after translation. Where the two copies advertise different
/// addresses for the same negotiation, the router's FTP helper rewrote it in transit.
fn rewrites_across_capture_points(sessions: &[Session], out: &mut Vec<Finding>) {
    // Candidates share the client endpoint (DNAT in front of the server changed the server's
    // address) or the server endpoint and the client's port (masquerade keeps the port where it
    // can). Grouping by those keys keeps this linear in the number of sessions.
    let mut groups: rustc_hash::FxHashMap<(SocketAddr, u16, bool), Vec<&Session>> = Default::default();
    for s in sessions {
        groups.entry((s.client_addr, 0, true)).or_default().push(s);
        groups.entry((s.server_addr, s.client_addr.port(), false)).or_default().push(s);
    }
    let mut groups: Vec<_> = groups.into_iter().filter(|(_, g)| g.len() > 1).collect();
    groups.sort_by_key(|(_, g)| g[0].id);
    for ((_, _, by_client), group) in groups {
        for (i, a) in group.iter().enumerate() {
            for b in group.iter().skip(i + 1).take(8) {
                let other_side_differs = if by_client {
                    a.server_addr != b.server_addr
                } else {
                    a.client_addr.ip() != b.client_addr.ip()
                };
                let same_connection = other_side_differs
                    && a.negotiations.len() == b.negotiations.len()
                    && a.user == b.user
                    && (a.start_time - b.start_time).abs() < 1.0;
                if same_connection {
                    alg_pair(a, b, out);
                }
            }
        }
    }
}

/// The two copies of one control connection: negotiations whose addresses differ were rewritten.
fn alg_pair(a: &Session, b: &Session, out: &mut Vec<Finding>) {
    for (na, nb) in a.negotiations.iter().zip(&b.negotiations) {
        let (Some(x), Some(y)) = (na.advertised_addr, nb.advertised_addr) else { continue };
        if x.ip() == y.ip() || na.command != nb.command {
            continue;
        }
        // The inside copy is the one with the address the outside cannot reach.
        let ((inside, n_in, adv_in), (outside, n_out, adv_out)) =
            if classify(x.ip()).is_unreachable_from_elsewhere() { ((a, na, x), (b, nb, y)) } else { ((b, nb, y), (a, na, x)) };
        let frame = |n: &Negotiation| if n.mode == Mode::Passive { n.reply_frame.unwrap_or(n.frame) } else { n.frame };
        out.push(Finding {
            kind: FindingKind::AlgRewrite,
            group: format!("{} {}", adv_in.ip(), adv_out.ip()),
            occurrences: 1,
            severity: Severity::Info,
            session: inside.id,
            frames: vec![frame(n_in), frame(n_out)],
            summary: format!(
                "NAT helper rewrote {:?} {adv_in} (frame {}, session {}) to {adv_out} (frame {}, session {})",
                n_in.command,
                frame(n_in),
                inside.id,
                frame(n_out),
                outside.id
            ),
            explanation: "The same control connection appears on both sides of a NAT router, and the address in \
                          the negotiation differs between them: the router's FTP helper (ALG) rewrote it in clear \
                          text. It cannot do that once the session uses AUTH TLS."
                .into(),
            fix: vec!["Nothing is broken now; before enabling TLS, configure the server's external address and passive \
                       range (the helper will be blind)."
                .into()],
            details: json!({ "inside": adv_in.to_string(), "outside": adv_out.to_string(), "inside_session": inside.id, "outside_session": outside.id }),
        });
    }
}

/// Evidence frames kept for a finding that repeats.
const MAX_FRAMES: usize = 12;

/// Folds findings of the same kind and cause into the first one: its frames gain the others'
/// (up to a bound) and `occurrences` counts them.
fn merge_repeats(findings: Vec<Finding>, out: &mut Vec<Finding>) {
    let start = out.len();
    for f in findings {
        match out[start..].iter_mut().find(|o| o.session == f.session && o.kind == f.kind && o.group == f.group && o.severity == f.severity) {
            Some(first) => {
                first.occurrences += 1;
                for frame in f.frames {
                    if first.frames.len() < MAX_FRAMES && !first.frames.contains(&frame) {
                        first.frames.push(frame);
                    }
                }
            }
            None => out.push(f),
        }
    }
}

fn session_findings(s: &Session, out: &mut Vec<Finding>) {
    let software = crate::diagnose::software::Software::from_banner(s.banner.as_deref());
    if s.control_port != 21 {
        out.push(Finding {
            kind: FindingKind::NonstandardControlPort,
            group: String::new(),
            occurrences: 1,
            severity: Severity::Info,
            session: s.id,
            frames: vec![s.first_frame],
            summary: format!("FTP control channel on port {} instead of 21", s.control_port),
            explanation: format!(
                "The control connection goes to {}. Firewalls and NAT helpers that watch only port 21 do not see this session: \
                 a helper (ALG) will not rewrite its addresses nor open its data ports unless it is attached to port {} explicitly.",
                s.server, s.control_port
            ),
            fix: vec![format!(
                "If a Linux router's FTP helper should follow this session: iptables -t raw -A PREROUTING -p tcp --dport {} -j CT --helper ftp",
                s.control_port
            )],
            details: json!({ "port": s.control_port }),
        });
    }
    if let Some(frame) = s.password_frame {
        let anonymous = s.user.as_deref().is_some_and(|u| u.eq_ignore_ascii_case("anonymous") || u.eq_ignore_ascii_case("ftp"));
        out.push(Finding {
            kind: FindingKind::CleartextCredentials,
            group: String::new(),
            occurrences: 1,
            severity: if anonymous { Severity::Info } else { Severity::Warning },
            session: s.id,
            frames: vec![frame],
            summary: format!(
                "password for user {} sent in clear text",
                s.user.as_deref().map_or("(unknown)".to_string(), |u| format!("'{u}'"))
            ),
            explanation: "USER and PASS crossed the network unencrypted: anyone on the path can read them. \
                          (ftpscope never shows the password itself.)"
                .into(),
            fix: vec!["Require TLS on the server (explicit FTPS: AUTH TLS), or use SFTP.".into(), software.require_tls()],
            details: json!({ "user": s.user, "anonymous": anonymous }),
        });
    }
    if let Some(frame) = s.tls_frame {
        encrypted_finding(s, frame, software, out);
        for c in s.probable_data_channels.iter().filter(|c| c.outcome.is_failure()) {
            out.push(Finding {
                kind: FindingKind::DataConnectionFailed,
                group: format!("probable {} {}", c.outcome.as_str(), ip_of(&c.server).map_or(String::new(), |ip| ip.to_string())),
                occurrences: 1,
                severity: Severity::Error,
                session: s.id,
                frames: c.rst_frame.or(c.unreachable_frame).into_iter().chain([c.syn_frame]).collect(),
                summary: format!("probable data connection {} -> {} {} (control channel under TLS)", c.client, c.server, c.outcome.as_str()),
                explanation: probable_failure_cause(c),
                fix: {
                    let mut fix = software.passive_address_and_range();
                    fix.push(
                        "Forward that passive range on the server's router (DNAT) and allow it in the firewall: under TLS no \
                         helper opens it per transfer."
                            .into(),
                    );
                    fix
                },
                details: json!({ "probable": true, "outcome": c.outcome, "connection": { "client": c.client, "server": c.server, "syn_frame": c.syn_frame } }),
            });
        }
    }
    for a in &s.anomalies {
        let kind = if a.kind == "malformed_command" { FindingKind::MalformedCommand } else { FindingKind::MalformedReply };
        out.push(Finding {
            kind,
            group: a.reason.clone(),
            occurrences: 1,
            severity: Severity::Info,
            session: s.id,
            frames: vec![a.frame],
            summary: format!("{}: {}", a.reason, a.excerpt),
            explanation: "A line on the control channel breaks RFC 959's format. Strict peers, firewalls and NAT helpers may \
                          misread or drop it."
                .into(),
            fix: Vec::new(),
            details: json!({ "reason": a.reason, "excerpt": a.excerpt }),
        });
    }
    for n in &s.negotiations {
        negotiation_findings(s, n, software, out);
    }
}

fn encrypted_finding(s: &Session, frame: u64, software: crate::diagnose::software::Software, out: &mut Vec<Finding>) {
    let failed: Vec<_> = s.probable_data_channels.iter().filter(|c| c.outcome.is_failure()).collect();
    let mut frames = vec![frame];
    frames.extend(s.probable_data_channels.iter().map(|c| c.syn_frame).take(20));
    let channels: Vec<_> = s
        .probable_data_channels
        .iter()
        .map(|c| json!({ "client": c.client, "server": c.server, "syn_frame": c.syn_frame, "outcome": c.outcome }))
        .collect();
    let (severity, summary) = if failed.is_empty() {
        (Severity::Info, format!("control channel encrypted (AUTH TLS) from frame {frame}: {} probable data connection(s), none failed", channels.len()))
    } else {
        (
            Severity::Error,
            format!(
                "control channel encrypted (AUTH TLS) from frame {frame}; {} of {} probable data connection(s) failed ({})",
                failed.len(),
                channels.len(),
                failed[0].outcome.as_str()
            ),
        )
    };
    let mut fix = Vec::new();
    if !failed.is_empty() {
        fix.push(
            "A NAT helper (ALG) cannot read or rewrite PASV/PORT inside TLS: configure the server's external address and a fixed \
             passive port range, and forward that range on the router."
                .into(),
        );
        fix.extend(software.passive_address_and_range());
    }
    out.push(Finding {
        kind: FindingKind::ControlChannelEncrypted,
        group: String::new(),
        occurrences: 1,
        severity,
        session: s.id,
        frames,
        summary,
        explanation: format!(
            "After the 234 reply in frame {frame} the control channel is TLS: commands, replies and the addresses in PASV/PORT \
             are no longer readable on the wire, neither by ftpscope nor by any NAT helper on the path. The connections listed \
             opened between the same hosts afterwards and are most probably its data channels."
        ),
        fix,
        details: json!({ "probable_data_channels": channels, "protected_data": s.protected_data }),
    });
}

/// Why a probable data connection under TLS failed, from where it went.
fn probable_failure_cause(c: &crate::report::Connection) -> String {
    let how = match c.outcome {
        Outcome::Refused => "was refused (RST)",
        Outcome::Unreachable => "was unreachable (ICMP)",
        _ => "got no answer",
    };
    let target = ip_of(&c.server);
    let private = target.is_some_and(|ip| classify(ip).is_unreachable_from_elsewhere());
    let cause = if private {
        "It went to an address the client cannot reach: the server advertised its private address inside TLS, where no \
         NAT helper could rewrite it."
    } else {
        "It went to the server's address: the passive port is not forwarded or allowed on the way. In clear text a NAT \
         helper opens each negotiated port; under TLS it cannot see the negotiation, so only a forwarded range works."
    };
    format!(
        "Under TLS the negotiation is unreadable, but this connection opened between the session's hosts after the switch \
         and {how}. {cause}"
    )
}

fn ip_of(addr: &str) -> Option<IpAddr> {
    addr.parse::<SocketAddr>().ok().map(|a| a.ip())
}

fn negotiation_findings(s: &Session, n: &Negotiation, software: crate::diagnose::software::Software, out: &mut Vec<Finding>) {
    let (sender, peer) = match n.mode {
        Mode::Passive => (s.server_addr.ip(), s.client_addr.ip()),
        Mode::Active => (s.client_addr.ip(), s.server_addr.ip()),
    };
    let side = if n.mode == Mode::Passive { "server" } else { "client" };
    let evidence_frame = if n.mode == Mode::Passive { n.reply_frame.unwrap_or(n.frame) } else { n.frame };
    let mut frames = vec![evidence_frame];
    if let Some(c) = &n.data.connection {
        frames.push(c.syn_frame);
        frames.extend(c.rst_frame.or(c.unreachable_frame));
    }
    frames.extend(n.data.reply_frame);
    let outcome = n.data.outcome;

    if let Some(reason) = &n.malformed {
        let (kind, what) = match n.mode {
            Mode::Passive => (FindingKind::MalformedReply, format!("{} reply", n.reply_code.map_or("passive".into(), |c| c.to_string()))),
            Mode::Active => (FindingKind::MalformedCommand, format!("{:?} command", n.command)),
        };
        out.push(Finding {
            kind,
            group: reason.clone(),
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
            details: json!({ "side": side, "reason": reason, "text": n.reply_text.as_ref().or(n.argument.as_ref()) }),
        });
    }

    let advertised = n.advertised_addr;
    if let (Some(adv), false) = (advertised, n.address_implied) {
        let class = classify(adv.ip());
        if leaks(class, adv.ip(), sender, peer) {
            private_leak(s, n, adv, class, side, &frames, software, out);
        } else if adv.ip() != sender && !same_family_mismatch_is_v4_mapped(adv.ip(), sender) {
            match n.mode {
                Mode::Passive => out.push(Finding {
                    kind: FindingKind::AddressMismatch,
                    group: format!("{} {}", adv.ip(), outcome.as_str()),
                    occurrences: 1,
                    severity: if outcome.is_failure() { Severity::Error } else { Severity::Info },
                    session: s.id,
                    frames: frames.clone(),
                    summary: format!(
                        "server advertised {adv} but the control connection reaches it at {}",
                        s.server_addr.ip()
                    ),
                    explanation: format!(
                        "The passive reply names a public address other than the one the client talks to: the server is behind NAT \
                         and announces its external address (normal when configured on purpose), or it is multi-homed. The data \
                         connection was {}{}.",
                        outcome.as_str().replace('_', " "),
                        via(n)
                    ),
                    fix: if outcome.is_failure() {
                        let mut f = vec![format!(
                            "Check that {adv} is really the server's external address and that port {} is forwarded to {}.",
                            adv.port(),
                            s.server_addr.ip()
                        )];
                        f.extend(software.passive_address_and_range());
                        f
                    } else {
                        Vec::new()
                    },
                    details: json!({ "side": side, "advertised": adv.to_string(), "control_address": s.server_addr.ip().to_string() }),
                }),
                Mode::Active => out.push(Finding {
                    kind: FindingKind::BounceAttempt,
                    group: adv.ip().to_string(),
                    occurrences: 1,
                    severity: Severity::Warning,
                    session: s.id,
                    frames: frames.clone(),
                    summary: format!(
                        "{:?} asks the server to connect to {adv}, a third host (the client is {})",
                        n.command,
                        s.client_addr.ip()
                    ),
                    explanation: "The client named an address that is not its own, and that its peer can reach. That is an FTP \
                                  bounce: the server is used to open connections to another host (port scanning, relaying). A \
                                  client behind NAT leaking its private address looks different (an address the server cannot \
                                  reach). A multi-homed client can also cause this."
                        .into(),
                    fix: vec![
                        "Servers should refuse PORT/EPRT to an address other than the client's (vsftpd port_promiscuous=NO, ProFTPD \
                         AllowForeignAddress off, Pure-FTPd without FXP: all defaults)."
                            .into(),
                    ],
                    details: json!({ "side": side, "address": adv.ip().to_string(), "client": s.client_addr.ip().to_string() }),
                }),
            }
        }
    }

    if outcome.is_failure() {
        if let Some(c) = &n.data.connection {
            out.push(data_failed(s, n, c, &frames, software));
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
        let (explanation, fix) = rejection_advice(s, n, code, &text, software);
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
            details: json!({ "code": code, "text": text, "command": n.data.command }),
        });
    }
}

/// IPv4-mapped senders compare equal to their plain IPv4 form.
fn same_family_mismatch_is_v4_mapped(a: IpAddr, b: IpAddr) -> bool {
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
        AddressClass::Loopback | AddressClass::Unspecified => !classify(peer).eq(&AddressClass::Loopback),
        AddressClass::LinkLocal => adv != sender || classify(peer) != AddressClass::LinkLocal,
        _ => !(classify(sender).is_unreachable_from_elsewhere() && classify(peer).is_unreachable_from_elsewhere()),
    }
}

fn via(n: &Negotiation) -> String {
    match (&n.data.connection, n.data.matched_by) {
        (Some(c), Some(m)) => format!(
            " ({} -> {}, SYN in frame {}{})",
            c.client,
            c.server,
            c.syn_frame,
            match m {
                crate::report::MatchedBy::Advertised => "",
                crate::report::MatchedBy::ControlAddress => ", to the control connection's address",
                crate::report::MatchedBy::PortOnly => ", to the advertised port on another address",
            }
        ),
        _ => String::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn private_leak(
    s: &Session,
    n: &Negotiation,
    adv: SocketAddr,
    class: AddressClass,
    side: &str,
    frames: &[u64],
    software: crate::diagnose::software::Software,
    out: &mut Vec<Finding>,
) {
    let outcome = n.data.outcome;
    let c = n.data.connection.as_ref();
    let went_to_advertised = n.data.matched_by == Some(crate::report::MatchedBy::Advertised);
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
            if !classify(s.server_addr.ip()).is_unreachable_from_elsewhere() {
                f.push(format!(
                    "The server's public address, as the client reached it, is {}: announce that in passive replies.",
                    s.server_addr.ip()
                ));
            }
            f.extend(software.passive_address_and_range());
            f.push(format!(
                "On the server's NAT router, forward the control port and the whole passive range to {} (iptables -t nat -A \
                 PREROUTING -p tcp --dport LO:HI -j DNAT --to-destination {}; a router that cannot forward ranges needs one rule per port).",
                adv.ip(),
                adv.ip()
            ));
            f
        }
        Mode::Active => {
            let mut f = vec!["Use passive mode from behind NAT (PASV/EPSV): the client then opens every connection itself.".into()];
            // Where the helper already did the rewriting, suggesting it would be noise.
            if !worked {
                f.push(
                    "Or enable the FTP helper on the client's router for clear-text FTP: iptables -t raw -A PREROUTING -p tcp \
                     --dport 21 -j CT --helper ftp (nft: ct helper set \"ftp-standard\"); it cannot help under TLS."
                        .into(),
                );
            }
            f
        }
    };
    out.push(Finding {
        kind: FindingKind::PrivateAddressLeak,
        group: format!("{side} {} {}", adv.ip(), outcome.as_str()),
        occurrences: 1,
        severity,
        session: s.id,
        frames: frames.to_vec(),
        summary: format!(
            "{} {} advertises {} {}",
            side,
            match n.command {
                // Servers answer EPSV with 227 and PASV with 229: name the reply actually sent.
                _ if n.mode == Mode::Passive => format!("{} reply", n.reply_code.unwrap_or(227)),
                other => format!("{other:?}"),
            },
            class.describe().trim_start_matches("a ").trim_start_matches("an ").trim_start_matches("the "),
            adv,
        ),
        explanation: format!(
            "The {side} told its peer to use {adv}, {} that cannot be reached from {}. {}",
            class.describe(),
            match n.mode {
                Mode::Passive => s.client.clone(),
                Mode::Active => s.server.clone(),
            },
            consequence
        ),
        fix,
        details: json!({
            "side": side,
            "address": adv.ip().to_string(),
            "port": adv.port(),
            "class": class,
            "worked_around": worked,
            "outcome": outcome,
            "alg_suspected": n.mode == Mode::Active && worked,
        }),
    });
    if n.mode == Mode::Active && worked {
        if let Some(c) = c {
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
                fix: vec!["Nothing is broken now; before enabling AUTH TLS, switch the client to passive mode.".into()],
                details: json!({ "advertised": adv.to_string(), "connection": { "client": c.client, "server": c.server } }),
            });
        }
    }
}

fn data_failed(s: &Session, n: &Negotiation, c: &crate::report::Connection, frames: &[u64], software: crate::diagnose::software::Software) -> Finding {
    let outcome = n.data.outcome;
    let target = &c.server;
    let what = match outcome {
        Outcome::Refused => format!("was refused: {} answered the SYN with RST (frame {})", c.rst_from.unwrap_or("peer"), c.rst_frame.unwrap_or(0)),
        Outcome::Unreachable => format!("was unreachable: {}", c.unreachable.clone().unwrap_or_default()),
        _ => format!("got no answer: {} SYN(s) from frame {}, no SYN-ACK", c.syns, c.syn_frame),
    };
    let (cause, fix) = match n.mode {
        Mode::Passive => {
            let adv_private = n.advertised_class.is_some_and(|c| c.is_unreachable_from_elsewhere());
            let cause = if adv_private && n.data.matched_by == Some(crate::report::MatchedBy::Advertised) {
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
            let mut fix = software.passive_address_and_range();
            fix.push(format!(
                "Forward (and allow) the passive range on the server's router/firewall, e.g. iptables -t nat -A PREROUTING -p tcp \
                 --dport LO:HI -j DNAT --to-destination SERVER, plus -A FORWARD -p tcp --dport LO:HI -j ACCEPT; port {} must be in it.",
                target.parse::<SocketAddr>().map_or(0, |a| a.port())
            ));
            (cause, fix)
        }
        Mode::Active => (
            format!(
                "The server could not connect back to the client at {target}: the client is behind NAT or a firewall that does \
                 not accept incoming connections."
            ),
            vec![
                "Use passive mode (PASV/EPSV) on the client.".into(),
                "Or, for clear-text FTP only, enable the FTP helper on the client's NAT router (iptables -t raw -A PREROUTING -p \
                 tcp --dport 21 -j CT --helper ftp, and accept --ctstate RELATED)."
                    .into(),
            ],
        ),
    };
    Finding {
        kind: FindingKind::DataConnectionFailed,
        group: format!("{:?} {} {}", n.mode, outcome.as_str(), ip_of(&c.server).map_or(String::new(), |ip| ip.to_string())),
        occurrences: 1,
        severity: Severity::Error,
        session: s.id,
        frames: frames.to_vec(),
        summary: format!("{} data connection {} -> {} {}", match n.mode { Mode::Passive => "passive", Mode::Active => "active" }, c.client, c.server, outcome.as_str()),
        explanation: format!("The {:?} data connection {what}. {cause}", n.command),
        fix,
        details: json!({ "mode": n.mode, "outcome": outcome, "connection": { "client": c.client, "server": c.server, "syn_frame": c.syn_frame } }),
    }
}

fn rejection_advice(s: &Session, n: &Negotiation, code: u16, text: &str, software: crate::diagnose::software::Software) -> (String, Vec<String>) {
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
                s.client_addr.ip()
            ),
            vec!["Use passive mode on the client (PASV/EPSV).".into(), software.foreign_port_setting()],
        );
    }
    if lower.contains("bad ip connecting") {
        return (
            "The data connection came from another address than the control connection, and the server refused it \
             (vsftpd pasv_promiscuous=NO). NAT between client and server maps the two connections differently."
                .into(),
            vec!["Make the NAT map the client's connections to one address (no address pools), or set pasv_promiscuous=YES on vsftpd.".into()],
        );
    }
    match code {
        425 => (
            "The server could not open or accept the data connection (425). In active mode it could not connect to the client; \
             in passive mode the client never connected to the advertised port."
                .into(),
            match n.mode {
                Mode::Active => vec!["Use passive mode from behind NAT or a firewall.".into()],
                Mode::Passive => software.passive_address_and_range(),
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

    #[test]
    fn repeats_merge_into_one_finding_with_a_count() {
        let f = |frame: u64, group: &str| Finding {
            kind: FindingKind::PrivateAddressLeak,
            occurrences: 1,
            group: group.into(),
            severity: Severity::Error,
            session: 0,
            frames: vec![frame],
            summary: String::new(),
            explanation: String::new(),
            fix: Vec::new(),
            details: serde_json::Value::Null,
        };
        let mut out = Vec::new();
        merge_repeats((0..20).map(|i| f(i, "a")).chain([f(99, "b")]).collect(), &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].occurrences, 20);
        assert_eq!(out[0].frames.len(), MAX_FRAMES);
        assert_eq!(out[1].frames, vec![99]);
    }
}
