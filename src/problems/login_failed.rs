//! login_failed: the server refused a login (530 or another 4xx/5xx to USER, PASS or ACCT), and
//! why, as its words and the command tell: wrong credentials, anonymous only, a denied user,
//! anonymous refused, commands out of order. A warning when a later try in the same session got
//! in (a typo). The password is never kept, so it can never be said.

use super::{Cause, Words};
use crate::model::finding::LoginFailed;
use crate::model::{Details, Finding, LoginReason};
use std::fmt::{self, Formatter};

pub const LOGIN_REFUSED: Cause = Cause {
    name: "login_refused",
    sentence: "The server refused the login: the session never got as far as a transfer.",
    brief: "login refused",
};

impl Words for LoginFailed {
    fn summary(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let (user, command, text) = match &finding.details {
            Details::Login { user, command, reply_text, .. } => (user.as_deref(), *command, reply_text.as_deref()),
            _ => (None, None, None),
        };
        match (command, user) {
            (Some("USER" | "PASS" | "ACCT"), Some(user)) => write!(f, "login of '{user}' refused at {}", command.unwrap_or_default())?,
            (Some(command @ ("USER" | "PASS" | "ACCT")), None) => write!(f, "login refused at {command}")?,
            _ => f.write_str("a command before the login refused")?,
        }
        write!(f, ": {} {}", self.code, text.unwrap_or("").trim())?;
        if self.logged_in_later {
            f.write_str(" (a later try got in)")?;
        }
        Ok(())
    }

    fn explanation(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let user = match &finding.details {
            Details::Login { user: Some(user), .. } => format!("'{user}'"),
            _ => "the user".to_string(),
        };
        match self.reason {
            LoginReason::WrongCredentials => write!(
                f,
                "The server did not accept the user name or password given for {user} (or the account may not log in by FTP: \
                 PAM, ftpusers). The network carried the login and the answer: nothing on the way is at fault."
            )?,
            LoginReason::AnonymousOnly => write!(
                f,
                "The server allows anonymous logins only, so it refused {user} whatever the password (vsftpd: local_enable=NO, \
                 its default)."
            )?,
            LoginReason::UserDenied => write!(
                f,
                "The server refused {user} at USER, before any password: the user is on its deny list (vsftpd: userlist_enable=YES \
                 with userlist_deny=YES and the name in userlist_file)."
            )?,
            LoginReason::AnonymousRefused => {
                f.write_str("The server does not allow anonymous logins (vsftpd: anonymous_enable=NO); it wants a named user.")?
            }
            LoginReason::WrongOrder => f.write_str(
                "The client sent its commands out of order: a password before a user name (503), or other commands before \
                 logging in (530).",
            )?,
        }
        if self.logged_in_later {
            f.write_str(" A later try in the same session logged in: a typo, corrected.")?;
        }
        Ok(())
    }

    fn cause(&self) -> Cause {
        LOGIN_REFUSED
    }
}
