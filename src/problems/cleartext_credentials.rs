//! cleartext_credentials: USER and PASS crossed the network unencrypted, told once per
//! capture with the users and how many sessions. The password itself is never kept, so it can
//! never be said; the user names are not secret.

use super::{Cause, Words};
use crate::model::finding::Credentials;
use crate::model::{Details, Finding};
use std::fmt::{self, Formatter};

pub const CLEARTEXT_PASSWORD: Cause =
    Cause { name: "cleartext_password", sentence: "The password crossed the network in clear text.", brief: "password in clear text" };

impl Words for Credentials {
    fn summary(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let Details::Credentials { users, unnamed_sessions, sessions, anonymous_sessions } = &finding.details else {
            return f.write_str("passwords sent in clear text");
        };
        if *sessions == 0 {
            return write!(f, "anonymous login(s) in clear text in {anonymous_sessions} session(s)");
        }
        match users.len() {
            0 => f.write_str("password of a user not in the capture")?,
            1 => write!(f, "password of user '{}'", users[0])?,
            _ => {
                let names: Vec<String> = users.iter().map(|u| format!("'{u}'")).collect();
                write!(f, "password of users {}", names.join(", "))?;
            }
        }
        write!(f, " sent in clear text in {sessions} session(s)")?;
        if *unnamed_sessions > 0 && !users.is_empty() {
            write!(f, " ({unnamed_sessions} of users not named here)")?;
        }
        if *anonymous_sessions > 0 {
            write!(f, ", and {anonymous_sessions} anonymous login(s)")?;
        }
        Ok(())
    }

    fn explanation(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let named = matches!(&finding.details, Details::Credentials { sessions, .. } if *sessions > 0);
        if named {
            f.write_str(
                "USER and PASS crossed the network unencrypted: anyone on the path can read them. Nothing else depends on it, so \
                 it is told once for the capture, not as a problem of each session. (ftpscope never shows the password itself.)",
            )
        } else {
            f.write_str(
                "Only anonymous logins crossed in clear text (their password is a mail address by custom, no secret); the data \
                 is readable on the path too. (ftpscope never shows the password itself.)",
            )
        }
    }

    fn cause(&self) -> Cause {
        CLEARTEXT_PASSWORD
    }
}

#[cfg(test)]
mod tests {
    use crate::model::finding::{Credentials, NO_SESSION};
    use crate::model::{Details, Finding, FindingKind, Severity, Text};
    use crate::problems::Summary;

    fn note(users: &[&str], unnamed_sessions: u64, sessions: u64, anonymous_sessions: u64) -> String {
        let details =
            Details::Credentials { users: users.iter().map(|u| u.to_string()).collect(), unnamed_sessions, sessions, anonymous_sessions };
        let f = Finding::new(
            FindingKind::CleartextCredentials,
            Severity::Warning,
            NO_SESSION,
            vec![11],
            Text::Credentials(Credentials),
            details,
        );
        Summary(&f).to_string()
    }

    #[test]
    fn the_users_and_the_sessions_are_said_once() {
        assert_eq!(note(&["alice"], 0, 20, 0), "password of user 'alice' sent in clear text in 20 session(s)");
        assert_eq!(
            note(&["alice", "bob"], 3, 9, 2),
            "password of users 'alice', 'bob' sent in clear text in 9 session(s) (3 of users not named here), and 2 anonymous login(s)"
        );
        assert_eq!(note(&[], 2, 2, 0), "password of a user not in the capture sent in clear text in 2 session(s)");
        assert_eq!(note(&[], 0, 0, 4), "anonymous login(s) in clear text in 4 session(s)");
    }
}
