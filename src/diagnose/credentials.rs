//! Clear-text logins, told once per capture: which users' passwords crossed the network
//! unencrypted and in how many sessions. A fact about the capture, not a problem of a session:
//! twenty healthy sessions of one user are one thing to change (require TLS), not twenty
//! sessions "with a problem". So no session's findings hold it; the analyzer tells it as a
//! finding about the whole capture ([`NO_SESSION`]) just before the summary, and the totals do
//! not count it (a session with only this is healthy, the exit status unchanged).
//!
//! Owns the tally and its bounds. Must not word anything (problems::cleartext_credentials
//! does) nor judge a session.

use crate::model::finding::{Credentials, NO_SESSION};
use crate::model::{Details, Finding, FindingKind, Fix, Session, Severity, Software, Text};

/// User names kept; past it their sessions are counted (`unnamed_sessions`).
const MAX_USERS: usize = 16;
/// Evidence frames kept: the first sessions' PASS.
const MAX_FRAMES: usize = 12;

/// The clear-text logins seen so far.
#[derive(Debug, Default)]
pub struct CleartextLogins {
    /// Named users, each with the frame of its first PASS seen (sessions settle out of order).
    users: Vec<(u64, String)>,
    /// Sessions of users not named: past the first [`MAX_USERS`], or whose USER the capture
    /// does not hold.
    unnamed_sessions: u64,
    /// Sessions whose password crossed in clear text: a user's (named or not), and anonymous ones.
    sessions: u64,
    anonymous_sessions: u64,
    frames: Vec<u64>,
    /// The server software seen, each once: the fixes name its settings.
    software: Vec<Software>,
}

impl CleartextLogins {
    /// A settled session: its login, if its password crossed in clear text.
    pub fn see(&mut self, s: &Session) {
        let Some(frame) = s.password_frame else { return };
        // The earliest: settling order is not the capture's.
        if self.frames.len() < MAX_FRAMES {
            self.frames.push(frame);
        } else if let Some(latest) = self.frames.iter_mut().max().filter(|f| **f > frame) {
            *latest = frame;
        }
        if !self.software.contains(&s.software) {
            self.software.push(s.software);
        }
        match s.user.as_deref() {
            Some(user) if is_anonymous(user) => self.anonymous_sessions = self.anonymous_sessions.saturating_add(1),
            Some(user) => {
                self.sessions = self.sessions.saturating_add(1);
                let room = self.users.len() < MAX_USERS;
                match self.users.iter_mut().find(|(_, u)| u == user) {
                    Some((first, _)) => *first = (*first).min(frame),
                    None if room => self.users.push((frame, user.to_string())),
                    None => self.unnamed_sessions = self.unnamed_sessions.saturating_add(1),
                }
            }
            // Its USER is not in the capture: a password all the same, of a user not named.
            None => {
                self.sessions = self.sessions.saturating_add(1);
                self.unnamed_sessions = self.unnamed_sessions.saturating_add(1);
            }
        }
    }

    /// The finding about the capture, if any password crossed in clear text: a warning when a
    /// user's did, information when only anonymous logins' (a mail address by custom).
    pub fn finding(&self) -> Option<Finding> {
        if self.frames.is_empty() {
            return None;
        }
        let severity = if self.sessions > 0 { Severity::Warning } else { Severity::Info };
        // The software's own settings; "the FTP server" only when none is known.
        let known = self.software.iter().any(|&s| s != Software::Unknown);
        let software =
            self.software.iter().filter(|&&s| !known || s != Software::Unknown).map(|&software| Fix::ServerRequireTls { software });
        let fix = std::iter::once(Fix::RequireTls).chain(software).collect();
        // In the order of the capture, not of settling.
        let mut users = self.users.clone();
        users.sort_unstable();
        let mut frames = self.frames.clone();
        frames.sort_unstable();
        let details = Details::Credentials {
            users: users.into_iter().map(|(_, u)| u).collect(),
            unnamed_sessions: self.unnamed_sessions,
            sessions: self.sessions,
            anonymous_sessions: self.anonymous_sessions,
        };
        let finding =
            Finding::new(FindingKind::CleartextCredentials, severity, NO_SESSION, frames, Text::Credentials(Credentials), details);
        Some(Finding { fix, ..finding })
    }
}

/// `anonymous` and `ftp`: their password is a mail address by custom, no secret.
pub fn is_anonymous(user: &str) -> bool {
    user.eq_ignore_ascii_case("anonymous") || user.eq_ignore_ascii_case("ftp")
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::report::ladder::tests::sessions;

    fn login(user: &str, frame: u64) -> Session {
        let mut s = sessions("pasv-ok-forwarded/client.pcap").remove(0);
        (s.user, s.password_frame) = (Some(user.to_string()), Some(frame));
        s
    }

    #[test]
    fn twenty_logins_of_one_user_are_one_warning_about_the_capture() {
        let mut logins = CleartextLogins::default();
        for i in 0..20 {
            logins.see(&login("alice", 10 + i));
        }
        let f = logins.finding().unwrap();
        assert_eq!((f.kind, f.severity, f.session), (FindingKind::CleartextCredentials, Severity::Warning, NO_SESSION));
        assert_eq!(f.frames.len(), MAX_FRAMES);
        let Details::Credentials { users, sessions, anonymous_sessions, .. } = &f.details else { panic!() };
        assert_eq!((users.as_slice(), *sessions, *anonymous_sessions), (&["alice".to_string()][..], 20, 0));
        assert_eq!(f.fix, [Fix::RequireTls, Fix::ServerRequireTls { software: Software::Vsftpd }]);
    }

    #[test]
    fn anonymous_logins_alone_are_information_and_no_login_is_nothing() {
        let mut logins = CleartextLogins::default();
        assert!(logins.finding().is_none());
        let mut quiet = login("bob", 5);
        quiet.password_frame = None;
        logins.see(&quiet);
        assert!(logins.finding().is_none(), "no PASS in clear text");
        logins.see(&login("FTP", 7));
        let f = logins.finding().unwrap();
        assert_eq!(f.severity, Severity::Info);
        assert!(matches!(f.details, Details::Credentials { sessions: 0, anonymous_sessions: 1, .. }));
    }

    #[test]
    fn past_the_bound_other_users_are_counted_by_session() {
        let mut logins = CleartextLogins::default();
        for i in 0..MAX_USERS + 3 {
            logins.see(&login(&format!("user{i}"), i as u64 + 1));
        }
        logins.see(&login("user0", 99));
        let mut unknown = login("x", 100);
        unknown.user = None;
        logins.see(&unknown);
        let f = logins.finding().unwrap();
        let Details::Credentials { users, unnamed_sessions, sessions, .. } = &f.details else { panic!() };
        assert_eq!((users.len(), *unnamed_sessions, *sessions), (MAX_USERS, 4, MAX_USERS as u64 + 5), "a user not captured counts");
        assert_eq!(f.severity, Severity::Warning);
    }
}
