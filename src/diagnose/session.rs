//! Findings about the control connection itself: its port, TLS (and the probable data
//! connections under it), malformed lines. Clear-text logins are told once per capture
//! (diagnose::credentials), not per session.

use super::negotiation::link;
use super::Context;
use crate::model::finding::group;
use crate::model::finding::{Encrypted, MalformedLine, NonstandardPort, OneDirection, ProbableFailed, UnexpectedControlPort};
use crate::model::{
    ChannelSeen, Connection, Details, Directions, Finding, FindingKind, Fix, Protection, ServerSetup, Session, Severity, Text,
};

pub(super) fn findings(s: &Session, cx: &Context, setup: &ServerSetup, out: &mut Vec<Finding>) {
    if let Some(intended) = cx.intent.control_port.filter(|&p| p != s.control_port) {
        out.push(Finding {
            kind: FindingKind::UnexpectedControlPort,
            group: Default::default(),
            occurrences: 1,
            caused_by: None,
            also: Vec::new(),
            severity: Severity::Warning,
            session: s.id,
            frames: vec![s.first_frame],
            text: Text::UnexpectedControlPort(UnexpectedControlPort { seen: s.control_port, intended, server: s.server }),
            fix: vec![Fix::UseControlPort { intended, seen: s.control_port }],
            details: Details::Port { port: s.control_port },
        });
    }
    if let (Some(frame), false) = (s.one_direction_frame, s.captured_directions == Directions::Both) {
        // Not a problem of the network but of the capture: what the other side did is unknown,
        // and the rest of the diagnosis concludes nothing from its absence.
        out.push(Finding::new(
            FindingKind::OneDirectionCaptured,
            Severity::Info,
            s.id,
            vec![s.first_frame, frame],
            Text::OneDirection(OneDirection { captured: s.captured_directions, negotiations: s.negotiations.len() }),
            Details::OneDirection { captured_directions: s.captured_directions },
        ));
    }
    if s.control_port != 21 {
        out.push(Finding {
            kind: FindingKind::NonstandardControlPort,
            group: Default::default(),
            occurrences: 1,
            caused_by: None,
            also: Vec::new(),
            severity: Severity::Info,
            session: s.id,
            frames: vec![s.first_frame],
            text: Text::NonstandardPort(NonstandardPort { port: s.control_port, server: s.server }),
            fix: vec![Fix::AttachHelper { control_port: s.control_port }],
            details: Details::Port { port: s.control_port },
        });
    }
    if let Some((frame, by)) = s.protected() {
        let cause = out.len();
        encrypted(s, frame, by, setup, out);
        for c in s.probable_data_channels.iter().filter(|c| c.outcome.is_failure()) {
            link(
                out,
                Some(cause),
                Finding {
                    kind: FindingKind::DataConnectionFailed,
                    group: group(("probable", c.outcome, c.server.ip())),
                    occurrences: 1,
                    caused_by: None,
                    also: Vec::new(),
                    severity: Severity::Error,
                    session: s.id,
                    frames: c.rst_frame.or(c.unreachable_frame).into_iter().chain([c.syn_frame]).collect(),
                    text: Text::ProbableFailed(ProbableFailed { client: c.client, server: c.server, outcome: c.outcome, by }),
                    fix: vec![Fix::forward(*setup)],
                    details: Details::ProbableFailed { probable: true, outcome: c.outcome, connection: seen(c, false) },
                },
            );
        }
    }
    for a in &s.anomalies {
        let kind = if a.kind == "malformed_command" { FindingKind::MalformedCommand } else { FindingKind::MalformedReply };
        out.push(Finding {
            kind,
            group: group(&a.reason),
            occurrences: 1,
            caused_by: None,
            also: Vec::new(),
            severity: Severity::Info,
            session: s.id,
            frames: vec![a.frame],
            text: Text::MalformedLine(MalformedLine),
            fix: Vec::new(),
            details: Details::Line { reason: a.reason.clone(), excerpt: a.excerpt.clone() },
        });
    }
}

fn encrypted(s: &Session, frame: u64, by: Protection, setup: &ServerSetup, out: &mut Vec<Finding>) {
    let failed: Vec<_> = s.probable_data_channels.iter().filter(|c| c.outcome.is_failure()).collect();
    let mut frames = vec![frame];
    frames.extend(s.probable_data_channels.iter().map(|c| c.syn_frame).take(20));
    let channels: Vec<_> = s.probable_data_channels.iter().map(|c| seen(c, true)).collect();
    let severity = if failed.is_empty() { Severity::Info } else { Severity::Error };
    let fix = if failed.is_empty() {
        Vec::new()
    } else {
        let blind = match by {
            Protection::Tls => Fix::HelperBlindUnderTls,
            Protection::Gssapi => Fix::HelperBlindUnderGssapi,
        };
        vec![blind, Fix::ServerPassiveSettings { setup: *setup }, Fix::forward(*setup)]
    };
    out.push(Finding {
        kind: FindingKind::ControlChannelEncrypted,
        group: Default::default(),
        occurrences: 1,
        caused_by: None,
        also: Vec::new(),
        severity,
        session: s.id,
        frames,
        text: Text::Encrypted(Encrypted {
            frame,
            by,
            channels: channels.len(),
            failed: failed.len(),
            first_failure: failed.first().map(|c| c.outcome),
        }),
        fix,
        details: Details::Encrypted { protection: by, probable_data_channels: channels, protected_data: s.protected_data },
    });
}

/// A connection as a finding names it, with its outcome when `with_outcome`.
fn seen(c: &Connection, with_outcome: bool) -> ChannelSeen {
    ChannelSeen { client: c.client, server: c.server, syn_frame: c.syn_frame, outcome: with_outcome.then_some(c.outcome) }
}
