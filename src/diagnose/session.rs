//! Findings about the control connection itself: its port, clear-text credentials, TLS (and
//! the probable data connections under it), malformed lines.

use crate::model::{classify, ChannelSeen, Connection, Details, Finding, FindingKind, Fix, Outcome, Session, Severity};

pub(super) fn findings(s: &Session, out: &mut Vec<Finding>) {
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
            fix: vec![Fix::AttachHelper { control_port: s.control_port }],
            details: Details::Port { port: s.control_port },
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
            fix: vec![Fix::RequireTls, Fix::ServerRequireTls { software: s.software }],
            details: Details::Credentials { user: s.user.clone(), anonymous },
        });
    }
    if let Some(frame) = s.tls_frame {
        encrypted(s, frame, out);
        for c in s.probable_data_channels.iter().filter(|c| c.outcome.is_failure()) {
            out.push(Finding {
                kind: FindingKind::DataConnectionFailed,
                group: format!("probable {} {}", c.outcome.as_str(), c.server.ip()),
                occurrences: 1,
                severity: Severity::Error,
                session: s.id,
                frames: c.rst_frame.or(c.unreachable_frame).into_iter().chain([c.syn_frame]).collect(),
                summary: format!(
                    "probable data connection {} -> {} {} (control channel under TLS)",
                    c.client,
                    c.server,
                    c.outcome.as_str()
                ),
                explanation: probable_failure_cause(c),
                fix: vec![Fix::ServerPassiveSettings { software: s.software }, Fix::ForwardRangeUnderTls],
                details: Details::ProbableFailed { probable: true, outcome: c.outcome, connection: seen(c, false) },
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
            details: Details::Line { reason: a.reason.clone(), excerpt: a.excerpt.clone() },
        });
    }
}

fn encrypted(s: &Session, frame: u64, out: &mut Vec<Finding>) {
    let failed: Vec<_> = s.probable_data_channels.iter().filter(|c| c.outcome.is_failure()).collect();
    let mut frames = vec![frame];
    frames.extend(s.probable_data_channels.iter().map(|c| c.syn_frame).take(20));
    let channels: Vec<_> = s.probable_data_channels.iter().map(|c| seen(c, true)).collect();
    let (severity, summary) = match failed.first() {
        None => (
            Severity::Info,
            format!("control channel encrypted (AUTH TLS) from frame {frame}: {} probable data connection(s), none failed", channels.len()),
        ),
        Some(first) => (
            Severity::Error,
            format!(
                "control channel encrypted (AUTH TLS) from frame {frame}; {} of {} probable data connection(s) failed ({})",
                failed.len(),
                channels.len(),
                first.outcome.as_str()
            ),
        ),
    };
    let fix =
        if failed.is_empty() { Vec::new() } else { vec![Fix::HelperBlindUnderTls, Fix::ServerPassiveSettings { software: s.software }] };
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
        details: Details::Encrypted { probable_data_channels: channels, protected_data: s.protected_data },
    });
}

/// A connection as a finding names it, with its outcome when `with_outcome`.
fn seen(c: &Connection, with_outcome: bool) -> ChannelSeen {
    ChannelSeen { client: c.client, server: c.server, syn_frame: c.syn_frame, outcome: with_outcome.then_some(c.outcome) }
}

/// Why a probable data connection under TLS failed, from where it went.
fn probable_failure_cause(c: &Connection) -> String {
    let how = match c.outcome {
        Outcome::Refused => "was refused (RST)",
        Outcome::Unreachable => "was unreachable (ICMP)",
        _ => "got no answer",
    };
    let cause = if classify(c.server.ip()).is_unreachable_from_elsewhere() {
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
