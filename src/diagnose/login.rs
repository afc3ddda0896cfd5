//! Findings about getting in: the server refused the session itself (service_refused), demanded
//! TLS (tls_required), or refused a login (login_failed). Judged from the session's login facts
//! (model::login): the reply's code, its words where a server's own wording is known
//! (../shared/FIXES.md, checked against each server's source and in the lab) and the software.
//!
//! Owns which refusal means what. Must not word it (problems/ does) nor read packets.

use crate::diagnose::credentials::is_anonymous;
use crate::model::finding::{group, LoginFailed, ServiceRefused, TlsRequired};
use crate::model::{
    Details, Directions, Finding, FindingKind, Fix, Known, LoginReason, LoginStep, Refusal, ServiceReason, Session, Severity, Side, Text,
};

pub(super) fn findings(s: &Session, out: &mut Vec<Finding>) {
    let login = &s.login;
    // The session ends once: vsftpd's `500 OOPS: child died` after its own OOPS is the same end.
    let mut ended = false;
    for r in &login.refusals {
        let service = if ended { None } else { service_refused(s, r) };
        ended |= service.is_some();
        if let Some(finding) = tls_required(s, r).or(service).or_else(|| login_failed(s, r)) {
            out.push(finding);
        }
    }
    if let Some(finding) = hung_up(s) {
        out.push(finding);
    }
}

/// The server's words, lower case, for the tests below.
fn words(r: &Refusal) -> String {
    r.text.to_ascii_lowercase()
}

/// A refusal that asks for TLS: 534 (RFC 2228: request denied for policy reasons), or words
/// about it (vsftpd `530 Non-anonymous sessions must use encryption.`, ProFTPD `550 SSL/TLS
/// required on the control channel`, Pure-FTPd's `Please reconnect using TLS security
/// mechanisms`, FileZilla Server's `You have to use FTP over TLS`).
fn asks_for_tls(r: &Refusal) -> bool {
    let w = words(r);
    r.code == 534 || w.contains("encryption") || w.contains("tls") || w.contains("ssl")
}

fn tls_required(s: &Session, r: &Refusal) -> Option<Finding> {
    if s.tls_frame.is_some() || !asks_for_tls(r) {
        return None;
    }
    let finding = Finding::new(
        FindingKind::TlsRequired,
        Severity::Error,
        s.id,
        frames(r),
        Text::TlsRequired(TlsRequired { code: r.code }),
        details(r, "tls_required", false),
    );
    Some(Finding {
        group: group(r.code),
        fix: vec![Fix::ClientExplicitTls, Fix::HelperBlindUnderTls, Fix::AllowClearLogins { software: s.software }],
        ..finding
    })
}

/// Why a reply refused the session itself, if it did: a 421 (but not an idle timeout: the
/// client left it idle, nothing was refused) or a `500 OOPS:`.
fn service_reason(r: &Refusal) -> Option<ServiceReason> {
    let w = words(r);
    match r.code {
        421 if w.contains("timeout") || w.contains("timed out") => None,
        421 if w.contains("from your") || w.contains("from this ip") || w.contains("from this host") || w.contains("per ip") => {
            Some(ServiceReason::TooManyFromAddress)
        }
        421 if w.contains("too many") || w.contains("maximum number") => Some(ServiceReason::TooManyUsers),
        421 => Some(ServiceReason::Unavailable),
        500 if w.starts_with("oops:") => Some(if w.contains("writable root inside chroot") || w.contains("writeable root") {
            ServiceReason::WritableChroot
        } else if w.contains("cannot change directory") {
            ServiceReason::CannotChangeDirectory
        } else if w.contains("vsf_sysutil_bind") {
            ServiceReason::BindFailed
        } else {
            ServiceReason::ServerError
        }),
        _ => None,
    }
}

fn service_refused(s: &Session, r: &Refusal) -> Option<Finding> {
    let reason = service_reason(r)?;
    // The server went on answering: whatever it said, it did not end the session.
    if s.login.last_reply_frame.is_some_and(|last| last > r.frame) {
        return None;
    }
    let fix = match reason {
        ServiceReason::TooManyFromAddress | ServiceReason::TooManyUsers => vec![Fix::RaiseConnectionLimit {
            software: s.software,
            per_address: reason == ServiceReason::TooManyFromAddress,
            at_least: Known::InServerBlock,
        }],
        ServiceReason::WritableChroot => vec![Fix::AllowWritableChroot { software: s.software }],
        _ => Vec::new(),
    };
    let finding = Finding::new(
        FindingKind::ServiceRefused,
        Severity::Error,
        s.id,
        frames(r),
        Text::ServiceRefused(ServiceRefused { reason, code: Some(r.code) }),
        details(r, reason.as_str(), false),
    );
    Some(Finding { group: group((reason, r.code)), fix, ..finding })
}

/// Why a login was refused: the server's words first (they name the setting), then what was
/// asked.
fn login_reason(r: &Refusal) -> LoginReason {
    let w = words(r);
    if r.code == 503 || r.step == Some(LoginStep::Other) {
        LoginReason::WrongOrder
    } else if w.contains("anonymous only") || w.contains("only anonymous") {
        LoginReason::AnonymousOnly
    } else if r.user.as_deref().is_some_and(is_anonymous) {
        LoginReason::AnonymousRefused
    } else if r.step == Some(LoginStep::User) && w.contains("permission denied") {
        // vsftpd refuses a user on its userlist at USER, before asking for a password.
        LoginReason::UserDenied
    } else {
        LoginReason::WrongCredentials
    }
}

fn login_failed(s: &Session, r: &Refusal) -> Option<Finding> {
    r.step?;
    let reason = login_reason(r);
    // A later try in the same session got in: a typo, not a failure to get in.
    let logged_in_later = s.login.accepted_after(r.frame);
    if s.login.probed(r) {
        return None;
    }
    let severity = if logged_in_later { Severity::Warning } else { Severity::Error };
    let user = r.user.clone();
    let fix = match reason {
        LoginReason::WrongCredentials => vec![Fix::CheckCredentials { user }],
        LoginReason::AnonymousOnly => vec![Fix::AllowLocalLogins { software: s.software }],
        LoginReason::UserDenied => match user {
            Some(user) => vec![Fix::UnlistUser { software: s.software, user }],
            None => Vec::new(),
        },
        LoginReason::AnonymousRefused => vec![Fix::AllowAnonymous { software: s.software }],
        LoginReason::WrongOrder => vec![Fix::LoginFirst],
    };
    let finding = Finding::new(
        FindingKind::LoginFailed,
        severity,
        s.id,
        frames(r),
        Text::LoginFailed(LoginFailed { reason, code: r.code, logged_in_later }),
        details(r, reason.as_str(), logged_in_later),
    );
    // A typo is a fix of its own only when nothing else is wrong: there is nothing to change.
    let fix = if logged_in_later { Vec::new() } else { fix };
    Some(Finding { group: group((reason, r.code, &r.user)), fix, ..finding })
}

/// The server hung up without a reply that says why: right after its greeting (no command
/// yet), or right after the password (left unanswered).
fn hung_up(s: &Session) -> Option<Finding> {
    let login = &s.login;
    let (Side::Server, frame) = login.closed_by? else { return None };
    // With one side captured, the other side's silence is the capture's, not the client's.
    if s.captured_directions != Directions::Both {
        return None;
    }
    // A refusal already says why the server hung up.
    if login.refusals.iter().any(|r| r.step.is_none() || service_reason(r).is_some() || asks_for_tls(r)) {
        return None;
    }
    let (reason, evidence) = match login.unanswered {
        Some((LoginStep::Pass, pass)) => (ServiceReason::ClosedAfterPassword, vec![pass, frame]),
        _ if s.commands == 0 && s.banner.is_some() => (ServiceReason::ClosedAfterGreeting, vec![s.first_frame, frame]),
        _ => return None,
    };
    let details = Details::Login {
        user: s.user.clone(),
        command: (reason == ServiceReason::ClosedAfterPassword).then_some("PASS"),
        reply_code: None,
        reply_text: None,
        reason: reason.as_str(),
        logged_in_later: false,
    };
    let text = Text::ServiceRefused(ServiceRefused { reason, code: None });
    Some(Finding { group: group(reason), ..Finding::new(FindingKind::ServiceRefused, Severity::Error, s.id, evidence, text, details) })
}

/// The command's frame (when there was one) and the reply's.
fn frames(r: &Refusal) -> Vec<u64> {
    r.command_frame.into_iter().chain([r.frame]).collect()
}

fn details(r: &Refusal, reason: &'static str, logged_in_later: bool) -> Details {
    Details::Login {
        user: r.user.clone(),
        command: r.step.map(LoginStep::as_str),
        reply_code: Some(r.code),
        reply_text: Some(r.text.clone()),
        reason,
        logged_in_later,
    }
}

/// Failed logins that count towards password guessing: a name or password tried and refused
/// (not a demand for TLS, nor the session refused, nor commands out of order).
pub fn is_guess(r: &Refusal) -> bool {
    r.step.is_some_and(|step| step != LoginStep::Other)
        && !asks_for_tls(r)
        && service_reason(r).is_none()
        && !matches!(login_reason(r), LoginReason::WrongOrder | LoginReason::AnonymousOnly)
}

/// A negotiation or transfer refused for want of a login (530) when the login itself failed:
/// the login's consequence, told with it, not a second problem (the transfer's verdict stays
/// refused; its reason is the login's).
pub(super) fn not_logged_in(found: &mut [Finding]) {
    let refused = |f: &Finding| matches!(f.kind, FindingKind::LoginFailed | FindingKind::ServiceRefused | FindingKind::TlsRequired);
    let Some(cause) = found.iter().position(|f| refused(f) && f.severity == Severity::Error) else { return };
    for f in found.iter_mut().filter(|f| f.caused_by.is_none()) {
        let for_want_of_login = matches!(&f.details, Details::Rejected { code: 530, .. } | Details::Transfer { reply_code: Some(530), .. });
        if for_want_of_login {
            f.caused_by = u32::try_from(cause).ok();
        }
    }
}
