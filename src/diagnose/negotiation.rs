//! Findings about one data-channel negotiation: an address that cannot be reached (leak), one
//! that differs from the control connection's (NAT, multi-homing, bounce), a malformed one, a
//! data connection that failed, a negotiation or transfer the server refused, and a transfer
//! that failed (model::transfer) or stopped short (model::transfer_record) where none of those
//! tells why.

use super::Context;
use crate::model::finding::group;
use crate::model::finding::Intended;
use crate::model::finding::{
    AsciiBinary, Bounce, Failed, FellBack, Leak, Mismatch, NotSeen, OutsideRange, Rejected, RewriteSeen, TransferFailed,
    TransferIncomplete, UnexpectedPublic, Unparsable,
};
use crate::model::transfer::{self, Failure, Verdict};
use crate::model::transfer_record::Partial;
use crate::model::{
    classify, AddressClass, ChannelSeen, Connection, Consequence, Details, Endpoints, FailedHow, FailureCause, Finding, FindingKind, Fix,
    Known, Mode, Negotiation, Outcome, PortRange, Rejection, ServerSetup, Session, Severity, Text, Tried, Via,
};
use std::net::{IpAddr, SocketAddr};

/// `to_passive`: the frame of the passive negotiation this failed active one fell back to
/// (model::transfer::fallbacks_to_passive).
pub(super) fn findings(s: &Session, n: &Negotiation, to_passive: Option<u64>, cx: &Context, setup: &ServerSetup, out: &mut Vec<Finding>) {
    let (sender, peer) = match n.mode {
        Mode::Passive => (s.server.ip(), s.client.ip()),
        Mode::Active => (s.client.ip(), s.server.ip()),
    };
    let side = side(n.mode);
    let evidence_frame = n.evidence_frame();
    let mut frames = vec![evidence_frame];
    frames.extend(n.data.earlier_attempts.iter().map(|c| c.syn_frame));
    if let Some(c) = &n.data.connection {
        frames.push(c.syn_frame);
        frames.extend(c.rst_frame.or(c.unreachable_frame));
    }
    frames.extend(n.data.reply_frame);
    let outcome = n.data.outcome;
    // This negotiation's findings start here.
    let first = out.len();
    // One problem, one finding: the first finding about what was advertised (a leak, a
    // mismatch, an address or port other than intended) is the cause; a failed data
    // connection, a refusal and a helper's rewrite that follow are its consequences.
    let mut cause: Option<usize> = None;

    if let Some(reason) = n.malformed {
        let kind = match n.mode {
            Mode::Passive => FindingKind::MalformedReply,
            Mode::Active => FindingKind::MalformedCommand,
        };
        out.push(Finding {
            kind,
            group: group(reason),
            occurrences: 1,
            caused_by: None,
            also: Vec::new(),
            severity: Severity::Warning,
            session: s.id,
            frames: vec![evidence_frame],
            text: Text::Unparsable(Unparsable { mode: n.mode, command: n.command, reply_code: n.reply_code, side, reason }),
            fix: Vec::new(),
            details: Details::Unparsable { side, reason, text: n.reply_text.clone().or_else(|| n.argument.clone()) },
        });
    }

    if let (Some(adv), false) = (n.advertised, n.address_implied) {
        let class = classify(adv.ip());
        if leaks(class, adv.ip(), sender, peer) && !reached_unique_local(class, n, adv) {
            // A leak the client worked around is no cause of what failed after it.
            if !(n.mode == Mode::Passive && ignored_advertised(n, adv)) {
                cause = Some(out.len());
            }
            private_leak(s, n, adv, setup, &frames, to_passive, out);
        } else if adv.ip() != sender && !same_address_v4_mapped(adv.ip(), sender) {
            cause = Some(out.len());
            match n.mode {
                Mode::Passive => out.push(Finding {
                    kind: FindingKind::AddressMismatch,
                    group: group((adv.ip(), outcome)),
                    occurrences: 1,
                    caused_by: None,
                    also: Vec::new(),
                    severity: if outcome.is_failure() { Severity::Error } else { Severity::Info },
                    session: s.id,
                    frames: frames.clone(),
                    text: Text::Mismatch(Mismatch { advertised: adv, server: s.server.ip(), outcome, via: via(n) }),
                    fix: if outcome.is_failure() {
                        vec![Fix::CheckExternalAddress { advertised: adv, server: s.server.ip() }, Fix::forward(*setup)]
                    } else {
                        Vec::new()
                    },
                    details: Details::Mismatch { side, advertised: adv, control_address: s.server.ip() },
                }),
                Mode::Active => out.push(Finding {
                    kind: FindingKind::BounceAttempt,
                    group: group(adv.ip()),
                    occurrences: 1,
                    caused_by: None,
                    also: Vec::new(),
                    severity: Severity::Warning,
                    session: s.id,
                    frames: frames.clone(),
                    text: Text::Bounce(Bounce { command: n.command, advertised: adv, client: s.client.ip() }),
                    fix: vec![Fix::RefuseForeignAddress],
                    details: Details::Bounce { side, address: adv.ip(), client: s.client.ip() },
                }),
            }
        }
    }
    if let Some(found) = not_seen(s, n, cx, setup, evidence_frame) {
        // The consequence of a leaked address; otherwise its own problem (an address mismatch
        // here is only the NAT set up as intended).
        match cause.filter(|&c| out.get(c).is_some_and(|f| f.kind != FindingKind::AddressMismatch)) {
            Some(c) => link(out, Some(c), found),
            None => {
                cause = Some(out.len());
                out.push(found);
            }
        }
    }
    if n.mode == Mode::Passive {
        if let Some(found) = intent_findings(s, n, cx, setup, &frames) {
            // An intent mismatch names the cause more precisely than an address mismatch
            // (which is what a configured public address looks like from the server's LAN).
            if cause.is_none_or(|c| out.get(c).is_some_and(|f| f.kind == FindingKind::AddressMismatch)) {
                cause = Some(out.len());
            }
            out.push(found);
        }
    }

    if outcome.is_failure() {
        if let Some(c) = &n.data.connection {
            let failed = data_failed(s, n, c, cx, setup, &frames);
            link(out, cause, failed);
            cause = cause.or(out.len().checked_sub(1));
        }
    }

    let refused_negotiation = n.reply_code.filter(|&c| c >= 400);
    // A 426 after the client's own ABOR is the normal end of an aborted transfer (RFC 959).
    let refused_transfer =
        n.data.reply_code.filter(|&c| matches!(c, 421 | 425 | 426 | 500 | 501 | 522) && !(c == 426 && n.data.aborted_frame.is_some()));
    if let Some(code) = refused_negotiation.or(refused_transfer) {
        let (frame, text) = if refused_negotiation.is_some() {
            (n.reply_frame, n.reply_text.clone())
        } else {
            (n.data.reply_frame, n.data.reply_text.clone())
        };
        let text = text.unwrap_or_default();
        let (advice, fix) = rejection_advice(s, n, code, &text, setup);
        let rejected = Finding {
            kind: FindingKind::DataCommandRejected,
            group: group(code),
            occurrences: 1,
            caused_by: None,
            also: Vec::new(),
            severity: Severity::Error,
            session: s.id,
            frames: [n.frame].into_iter().chain(frame).collect(),
            text: Text::Rejected(Rejected { code, advice, command: n.command, client: s.client.ip() }),
            fix,
            details: Details::Rejected { code, text, command: n.data.command.clone() },
        };
        link(out, cause, rejected);
    }

    // A failed transfer is an error: told by the findings above when they name its cause (a
    // failed or missing data connection, a refusal of the data channel), else on its own.
    let told = out.get(first..).unwrap_or_default().iter().any(|f| f.severity == Severity::Error);
    // A transfer cut short says so with its numbers; it is told once, as that or as a failure.
    if let (Some(cut), false) = (transfer_incomplete(s, n), told) {
        out.push(cut);
    } else if let (Some(why), false) = (n.data.transfer.and_then(Verdict::failure), told) {
        out.push(transfer_failed(s, n, why));
    }
    out.extend(ascii_mode_binary(s, n));
    // Active mode failed, and the client carried the transfer in passive mode next: the session
    // worked, the failed attempts are a warning (their fix stays: clients without the fallback
    // fail).
    if to_passive.is_some() {
        for f in out.get_mut(first..).unwrap_or_default() {
            if f.severity == Severity::Error {
                f.severity = Severity::Warning;
            }
        }
    }
    // A client that fell back to active mode had already taken "use passive mode": what to fix
    // is the passive failure before it (diagnose::fallback). Where its first active data
    // connection worked, that is worth a note: passive mode is still broken for others.
    let fell_back = s.passive_failed_first.filter(|p| n.mode == Mode::Active && p.frame < n.frame);
    let worked = n.data.connection.as_ref().filter(|_| outcome == Outcome::Established);
    if let (Some(p), Some(c)) = (fell_back, worked) {
        // Once, on the session's first active negotiation.
        if s.negotiations.iter().find(|m| m.mode == Mode::Active).map(|m| m.frame) == Some(n.frame) {
            let text = Text::FellBack(FellBack { failed: p, command: n.command, reached: c.server });
            let details = Details::FellBack { failed_session: p.session, failed_frame: p.frame };
            out.push(Finding {
                fix: vec![Fix::FixPassiveFirst { session: p.session, frame: p.frame }],
                ..Finding::new(FindingKind::FellBackToActive, Severity::Info, s.id, vec![n.frame, c.syn_frame], text, details)
            });
        }
    }
    if let Some(p) = fell_back {
        for fix in out.get_mut(first..).unwrap_or_default().iter_mut().flat_map(|f| f.fix.iter_mut()) {
            if *fix == Fix::UsePassiveMode {
                *fix = Fix::FixPassiveFirst { session: p.session, frame: p.frame };
            }
        }
    }
}

/// The side a negotiation's address comes from: the server in passive mode, the client in active.
fn side(mode: Mode) -> &'static str {
    match mode {
        Mode::Passive => "server",
        Mode::Active => "client",
    }
}

/// ascii_mode_binary: a TYPE A transfer whose first bytes are not text (the record's sample).
fn ascii_mode_binary(s: &Session, n: &Negotiation) -> Option<Finding> {
    let d = &n.data;
    let r = d.record.as_ref()?;
    let (why, sample) = r.not_text.zip(r.ascii_sample)?;
    let (command, argument) = verb_and_argument(d.command.as_deref());
    let upload = r.direction == Some(crate::model::transfer_record::Direction::Upload);
    let frames: Vec<u64> = d.command_frame.into_iter().chain(d.connection.as_ref().map(|c| c.syn_frame)).collect();
    let frames = if frames.is_empty() { vec![n.evidence_frame()] } else { frames };
    // A download longer than announced: the server added bytes (CR before LF) on the way.
    let translated = match (upload, r.rest_offset, r.announced_size) {
        (false, None, Some(announced)) if r.bytes > announced => Some((r.bytes, announced)),
        _ => None,
    };
    let text = Text::AsciiBinary(AsciiBinary { why, software: s.software, upload, translated });
    let details = Details::AsciiBinary { command: command.clone(), argument, not_text: why, sample };
    Some(Finding {
        group: group((why, command)),
        ..Finding::new(FindingKind::AsciiModeBinary, Severity::Warning, s.id, frames, text, details)
    })
}

/// transfer_incomplete: a transfer whose record says it stopped short of its announced size or
/// was ended by the server without ABOR; its command, reply and the frame where the bytes
/// stopped. A gap in the capture, an ABOR or the capture's end are not the transfer's problem.
fn transfer_incomplete(s: &Session, n: &Negotiation) -> Option<Finding> {
    let d = &n.data;
    let r = d.record.as_ref()?;
    let why = r.completeness.partial().filter(|p| matches!(p, Partial::ClosedShort | Partial::ServerEnded))?;
    let (command, argument) = verb_and_argument(d.command.as_deref());
    let stopped_frame = r.last_frame;
    let mut frames: Vec<u64> = Vec::with_capacity(3);
    for frame in d.command_frame.into_iter().chain(stopped_frame).chain(d.reply_frame) {
        if !frames.contains(&frame) {
            frames.push(frame);
        }
    }
    if frames.is_empty() {
        frames.push(n.evidence_frame());
    }
    let text =
        TransferIncomplete { why, bytes: r.bytes, expected: r.expected(), rest_offset: r.rest_offset, code: d.reply_code, stopped_frame };
    let details = Details::Incomplete {
        command: command.clone(),
        argument,
        reply_code: d.reply_code,
        reply_text: d.reply_text.clone(),
        partial: why,
        bytes: r.bytes,
        expected_bytes: r.expected(),
        rest_offset: r.rest_offset,
        stopped_frame,
    };
    Some(Finding {
        group: group((why, d.reply_code, command)),
        ..Finding::new(FindingKind::TransferIncomplete, Severity::Error, s.id, frames, Text::TransferIncomplete(text), details)
    })
}

/// A transfer command's verb and its argument, if any.
fn verb_and_argument(command: Option<&str>) -> (Option<String>, Option<String>) {
    match command.map(|c| c.split_once(' ').unwrap_or((c, ""))) {
        Some((verb, arg)) => (Some(verb.to_string()), Some(arg.to_string()).filter(|a| !a.is_empty())),
        None => (None, None),
    }
}

/// transfer_failed: the transfer's command and reply, why it failed; no fix (the network is not
/// what failed: a name, a permission, space, or the client's own ABOR).
fn transfer_failed(s: &Session, n: &Negotiation, why: Failure) -> Finding {
    let d = &n.data;
    let (command, argument) = verb_and_argument(d.command.as_deref());
    let mut frames: Vec<u64> = Vec::with_capacity(3);
    for frame in d.command_frame.into_iter().chain(d.aborted_frame).chain(d.reply_frame) {
        if !frames.contains(&frame) {
            frames.push(frame);
        }
    }
    if frames.is_empty() {
        frames.push(n.evidence_frame());
    }
    Finding {
        // Repeats of one refusal to one kind of command merge (a client asking for 500 missing
        // files); a refused upload and a refused download stay apart: their words differ.
        group: group((why, d.reply_code, command.clone())),
        ..Finding::new(
            FindingKind::TransferFailed,
            Severity::Error,
            s.id,
            frames,
            Text::TransferFailed(TransferFailed { why, code: d.reply_code, aborted_frame: d.aborted_frame }),
            Details::Transfer { command, argument, reply_code: d.reply_code, reply_text: d.reply_text.clone(), reason: why },
        )
    }
}

/// Adds `effect`, as a consequence of `cause` when there is one. A cause is at least as severe
/// as its consequences: it is the problem they are counted under.
pub(super) fn link(out: &mut Vec<Finding>, cause: Option<usize>, mut effect: Finding) {
    if let Some(c) = cause {
        effect.caused_by = Some(c as u32);
        if let Some(cause) = out.get_mut(c) {
            cause.severity = cause.severity.max(effect.severity);
        }
    }
    out.push(effect);
}

/// A passive reply after which the client neither connected (at this capture point) nor sent a
/// transfer command: it gave up connecting (model::transfer's rule), and the transfer failed.
/// Seen at the server behind NAT (the reply names a public address, the control connection the
/// server's private one) the SYNs never reached the server: the router does not forward the
/// passive port, or a firewall drops it. Elsewhere the capture point is unknown, and the
/// finding says both readings; either way the file did not cross: an error.
fn not_seen(s: &Session, n: &Negotiation, cx: &Context, setup: &ServerSetup, frame: u64) -> Option<Finding> {
    if !transfer::gave_up(s, n) {
        return None;
    }
    let adv = n.advertised?;
    let at_server = classify(s.server.ip()).is_unreachable_from_elsewhere() && !classify(adv.ip()).is_unreachable_from_elsewhere();
    let mut fix = forward_or_allow(s, setup);
    // As for a connection seen failing: without an intended range, the server's own is set to
    // the one let through, so that the two stay the same.
    if cx.intent.pasv_range.is_none() && names_its_address(s, n, cx) {
        fix.push(Fix::ServerPassiveRange { setup: *setup });
    }
    Some(Finding {
        group: group((adv.ip(), at_server)),
        fix,
        ..Finding::new(
            FindingKind::DataConnectionNotSeen,
            Severity::Error,
            s.id,
            vec![frame],
            Text::NotSeen(NotSeen { advertised: adv, at_server }),
            Details::NotSeen { advertised: adv, at_server },
        )
    })
}

/// The passive port must be forwarded (behind NAT) or let in (a firewall): which one, the
/// capture tells when it shows the server's LAN address (forward), or when it was taken on the
/// server's own link at a public address (its segments' initial TTL: let in).
fn forward_or_allow(s: &Session, setup: &ServerSetup) -> Vec<Fix> {
    // Captured on the server's own link at a public address: the address is its own, no NAT
    // router stands in front to forward on, a firewall is all there is.
    if s.control.at_the_server() && classify(s.server.ip()) == AddressClass::Public {
        return vec![Fix::allow(*setup)];
    }
    let mut fix = vec![Fix::forward(*setup)];
    if setup.lan_address == Known::Unknown {
        fix.push(Fix::allow(*setup));
    }
    fix
}

/// The operator's intended setup against what a passive reply advertised: a port outside the
/// intended range, or a public address other than the intended one.
fn intent_findings(s: &Session, n: &Negotiation, cx: &Context, setup: &ServerSetup, frames: &[u64]) -> Option<Finding> {
    let adv = n.advertised?;
    let outcome = n.data.outcome;
    let severity = if outcome.is_failure() { Severity::Error } else { Severity::Warning };
    let finding = |kind, group, text, details| Finding {
        group,
        fix: vec![Fix::ServerPassiveSettings { setup: *setup }],
        ..Finding::new(kind, severity, s.id, frames.to_vec(), text, details)
    };
    let public = cx.intent.public_ip.filter(|&want| {
        !n.address_implied && classify(adv.ip()) == AddressClass::Public && adv.ip() != want && !same_address_v4_mapped(adv.ip(), want)
    });
    if let Some(intended) = public {
        return Some(finding(
            FindingKind::UnexpectedPublicAddress,
            group((adv.ip(), intended, outcome)),
            Text::UnexpectedPublic(UnexpectedPublic { advertised: adv, intended, outcome }),
            Details::Intended { advertised: adv, intended: Intended::Address(intended) },
        ));
    }
    let range = cx.intent.pasv_range.filter(|r| !r.contains(adv.port()))?;
    Some(finding(
        FindingKind::PortOutsideRange,
        group((range.lo, range.hi, outcome)),
        Text::OutsideRange(OutsideRange { advertised: adv, range, outcome }),
        Details::Intended { advertised: adv, intended: Intended::Range(range) },
    ))
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

/// An IPv6 unique-local address that the data connection reached as advertised: the site
/// routes its ULA prefix to the peer (NAT66 is rare, and a translated address would not have
/// been reached as named). Not globally routable, but no leak where it works.
fn reached_unique_local(class: AddressClass, n: &Negotiation, adv: SocketAddr) -> bool {
    class == AddressClass::UniqueLocal
        && n.data.outcome == Outcome::Established
        && n.data.connection.as_ref().is_some_and(|c| c.server == adv)
}

/// Did the client dial somewhere other than the advertised address (the control connection's
/// address, as clients that judge a 227 unroutable do)?
fn ignored_advertised(n: &Negotiation, adv: SocketAddr) -> bool {
    n.data.connection.as_ref().is_some_and(|c| c.server != adv)
}

/// The data connection a negotiation led to, if any, as explanations name it.
fn via(n: &Negotiation) -> Option<Via> {
    match (&n.data.connection, n.data.matched_by) {
        (Some(c), Some(matched_by)) => Some(Via { client: c.client, server: c.server, syn_frame: c.syn_frame, matched_by }),
        _ => None,
    }
}

fn private_leak(
    s: &Session,
    n: &Negotiation,
    adv: SocketAddr,
    setup: &ServerSetup,
    frames: &[u64],
    to_passive: Option<u64>,
    out: &mut Vec<Finding>,
) {
    let side = side(n.mode);
    let class = classify(adv.ip());
    let outcome = n.data.outcome;
    let went_to_advertised = n.data.connection.as_ref().is_some_and(|c| c.server == adv);
    let worked = outcome == Outcome::Established;
    let tried =
        n.data.earlier_attempts.first().map(|c| Tried { server: c.server, syn_frame: c.syn_frame, syns: c.syns, outcome: c.outcome });
    // Tried, failed, and yet completed: the try that carried the transfer is not in the capture.
    let elsewhere = n.data.completed().filter(|_| tried.is_some() && outcome == Outcome::Unknown);
    let (consequence, severity) = match (n.mode, outcome, elsewhere) {
        // The client did not use the leaked address: what failed is the way to the control
        // address's port, told by data_connection_failed. The leak stays a warning beside it.
        (Mode::Passive, o, _) if o.is_failure() && ignored_advertised(n, adv) => {
            (Consequence::WorkedAroundThenFailed(o), Severity::Warning)
        }
        (Mode::Active, o, _) if to_passive.is_some() => {
            (Consequence::FellBackToPassive { outcome: o, frame: to_passive.unwrap_or_default() }, Severity::Warning)
        }
        (_, o, _) if o.is_failure() => (Consequence::Failed(o), Severity::Error),
        (_, _, Some(code)) => (Consequence::CompletedElsewhere { code, frame: n.data.reply_frame }, Severity::Warning),
        (Mode::Passive, Outcome::Established, _) if !went_to_advertised => (Consequence::WorkedAround, Severity::Warning),
        (Mode::Passive, Outcome::Established, _) => (Consequence::StillSucceeded, Severity::Warning),
        (Mode::Active, Outcome::Established, _) => (Consequence::HelperRewrote, Severity::Warning),
        (_, Outcome::Rejected, _) => (Consequence::Rejected, Severity::Error),
        (_, o, _) => (Consequence::Other(o), Severity::Warning),
    };
    // Seen outside the client's NAT (the client's address here is not the one named), a 2xx,
    // the server's own SYN to it, or a 425 to the PORT itself (pyftpdlib connects before it
    // replies: "425 Can't connect to specified address.") says the server takes PORT for any
    // address: vsftpd, ProFTPD and Pure-FTPd refuse by default (500, 501).
    let accepted = n.reply_code.is_some_and(|c| (200..300).contains(&c) || c == 425) || went_to_advertised;
    let promiscuous = n.mode == Mode::Active && adv.ip() != s.client.ip() && accepted;
    let fix = match n.mode {
        // Forwarding needs the server's LAN address: an advertised loopback or "any" address is
        // not one, and without one the operator must supply it (the fix says so).
        Mode::Passive => vec![Fix::ServerPassiveSettings { setup: *setup }, Fix::forward(*setup)],
        Mode::Active => {
            let mut f = vec![Fix::UsePassiveMode];
            // Where the helper already did the rewriting, suggesting it would be noise.
            if !worked {
                f.push(Fix::ClientRouterHelper { control_port: s.control_port });
            }
            if promiscuous {
                f.push(Fix::RefuseForeignAddress);
            }
            f
        }
    };
    out.push(Finding {
        kind: FindingKind::PrivateAddressLeak,
        group: group((side, adv.ip(), outcome)),
        occurrences: 1,
        caused_by: None,
        also: Vec::new(),
        severity,
        session: s.id,
        frames: frames.to_vec(),
        text: Text::Leak(Leak {
            side,
            mode: n.mode,
            command: n.command,
            reply_code: n.reply_code,
            advertised: adv,
            class,
            peer: match n.mode {
                Mode::Passive => s.client,
                Mode::Active => s.server,
            },
            consequence,
            via: via(n),
            tried,
            promiscuous,
        }),
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
        // The leak just pushed.
        let leak = out.len().saturating_sub(1);
        link(
            out,
            Some(leak),
            Finding {
                fix: vec![Fix::PrepareForTls { mode: Mode::Active }],
                ..Finding::new(
                    FindingKind::AlgRewrite,
                    Severity::Info,
                    s.id,
                    frames.to_vec(),
                    Text::RewriteSeen(RewriteSeen { command: n.command, advertised: adv, client: c.client, server: c.server }),
                    Details::RewriteSeen { advertised: adv, connection: Endpoints { client: c.client, server: c.server } },
                )
            },
        );
    }
}

fn data_failed(s: &Session, n: &Negotiation, c: &Connection, cx: &Context, setup: &ServerSetup, frames: &[u64]) -> Finding {
    let outcome = n.data.outcome;
    let how = match outcome {
        Outcome::Refused => FailedHow::Refused { by: c.rst_from, frame: c.rst_frame },
        Outcome::Unreachable => FailedHow::Unreachable(c.unreachable),
        _ => FailedHow::NoAnswer { syns: c.syns, first: c.syn_frame },
    };
    let (cause, fix) = match n.mode {
        Mode::Passive => {
            let adv_private = n.advertised_class.is_some_and(|c| c.is_unreachable_from_elsewhere());
            let cause = if adv_private && n.advertised == Some(c.server) {
                FailureCause::PrivateAddressTried
            } else if let Some((worked, connections)) = worked_elsewhere(s, c) {
                FailureCause::PartOfRange { worked, connections }
            } else if outcome == Outcome::Refused {
                FailureCause::NothingAccepts
            } else {
                FailureCause::SynsVanish
            };
            let mut fix = forward_or_allow(s, setup);
            // Without an intended range, the server's own must be fixed to what is forwarded;
            // a reply that already named the server's address needs the range alone.
            if cx.intent.pasv_range.is_none() {
                fix.push(if names_its_address(s, n, cx) {
                    Fix::ServerPassiveRange { setup: *setup }
                } else {
                    Fix::ServerPassiveSettings { setup: *setup }
                });
            }
            (cause, fix)
        }
        Mode::Active => {
            let behind_nat = classify(s.client.ip()).is_unreachable_from_elsewhere()
                || n.advertised_class.is_some_and(|class| class.is_unreachable_from_elsewhere());
            if behind_nat {
                (FailureCause::ClientUnreachable, vec![Fix::UsePassiveMode, Fix::ClientRouterHelper { control_port: s.control_port }])
            } else {
                // c is the server's connection back: it sent the SYN.
                let allow = Fix::AllowActiveData {
                    server: c.client.ip(),
                    source_port: (c.client.port() == 20).then_some(20),
                    client: c.server.ip(),
                };
                (FailureCause::ActiveBlocked, vec![Fix::UsePassiveMode, allow])
            }
        }
    };
    Finding {
        kind: FindingKind::DataConnectionFailed,
        group: group((n.mode, outcome, c.server.ip())),
        occurrences: 1,
        caused_by: None,
        also: Vec::new(),
        severity: Severity::Error,
        session: s.id,
        frames: frames.to_vec(),
        text: Text::Failed(Failed {
            mode: n.mode,
            command: n.command,
            connection: Endpoints { client: c.client, server: c.server },
            outcome,
            how,
            cause,
        }),
        fix,
        details: Details::Failed {
            mode: n.mode,
            outcome,
            connection: ChannelSeen { client: c.client, server: c.server, syn_frame: c.syn_frame, outcome: None },
        },
    }
}

/// The passive ports of the same server address that this session's other data connections
/// reached: a range forwarded only in part shows as some ports working and others not.
fn worked_elsewhere(s: &Session, failed: &Connection) -> Option<(PortRange, u32)> {
    let worked = s.negotiations.iter().filter(|n| n.mode == Mode::Passive && n.data.outcome == Outcome::Established);
    let ports = worked.filter_map(|n| n.data.connection.as_ref()).filter(|c| c.server.ip() == failed.server.ip()).map(|c| c.server.port());
    ports.fold(None, |seen: Option<(PortRange, u32)>, p| match seen {
        None => Some((PortRange { lo: p, hi: p }, 1)),
        Some((r, n)) => Some((r.with(p), n.saturating_add(1))),
    })
}

fn rejection_advice(s: &Session, n: &Negotiation, code: u16, text: &str, setup: &ServerSetup) -> (Rejection, Vec<Fix>) {
    let lower = text.to_ascii_lowercase();
    let foreign = lower.contains("illegal port")
        || lower.contains("won't open a connection")
        || lower.contains("foreign address")
        || lower.contains("does not match control connection");
    if n.mode == Mode::Active && foreign {
        return (Rejection::ForeignAddress, vec![Fix::UsePassiveMode, Fix::KeepAntiBounce { software: s.software }]);
    }
    if lower.contains("bad ip connecting") {
        return (Rejection::DataFromOtherAddress, vec![Fix::SameNatAddress]);
    }
    match code {
        425 if n.mode == Mode::Passive && n.data.connection.is_none() && n.data.earlier_attempts.is_empty() => {
            // The server's own words that no connection came: as for a reply nothing followed.
            (Rejection::NoneArrived { advertised: n.advertised }, forward_or_allow(s, setup))
        }
        // pyftpdlib connects at once and answers EPRT itself: "421 Active data channel timed out."
        425 | 421
            if n.mode == Mode::Active
                && n.data.connection.is_none()
                && reaches_the_client(s, n)
                && (code == 425 || lower.contains("data")) =>
        {
            let allow = Fix::AllowActiveData { server: s.server.ip(), source_port: None, client: s.client.ip() };
            (Rejection::ActiveNotArrived, vec![Fix::UsePassiveMode, allow])
        }
        425 => (
            Rejection::CannotOpen,
            match n.mode {
                Mode::Active => vec![Fix::UsePassiveMode],
                Mode::Passive => vec![Fix::ServerPassiveSettings { setup: *setup }],
            },
        ),
        426 => (Rejection::Broken, Vec::new()),
        _ => (Rejection::Other, Vec::new()),
    }
}

/// Did PORT/EPRT name the client's own address as this capture sees it, a public one? Then no
/// NAT stands in the way, and a connection back that never came was dropped by a firewall.
fn reaches_the_client(s: &Session, n: &Negotiation) -> bool {
    n.advertised.is_some_and(|a| a.ip() == s.client.ip()) && classify(s.client.ip()) == AddressClass::Public
}

/// The passive reply named the address clients reach the server at: its own (captured
/// outside, or a public server), or a public one where the server has a LAN address (captured
/// inside its NAT); and not another than the intended one (`--public-ip`).
fn names_its_address(s: &Session, n: &Negotiation, cx: &Context) -> bool {
    let Some(adv) = n.advertised.map(|a| a.ip()) else { return false };
    let inside = classify(s.server.ip()).is_unreachable_from_elsewhere() && classify(adv) == AddressClass::Public;
    (adv == s.server.ip() || inside) && cx.intent.public_ip.is_none_or(|ip| ip == adv)
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
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
