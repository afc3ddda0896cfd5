//! password_guessing: many failed logins from one client address within a short time, across
//! sessions (Zeek's FTP::Bruteforcing rule, 20 in 15 minutes by default). One per address, with
//! the count, the user names tried and the time span; never a password.

use super::{Cause, Words};
use crate::model::finding::Guessing;
use crate::model::notation::Ip;
use crate::model::{Details, Finding};
use std::fmt::{self, Formatter};

pub const PASSWORD_GUESSING: Cause = Cause {
    name: "password_guessing",
    sentence: "One address tried many passwords in a short time: someone is guessing.",
    brief: "password guessing",
};

impl Words for Guessing {
    fn summary(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let Details::Guessing { client, failed_logins, sessions, users, other_users, first_time, last_time, .. } = &finding.details else {
            return f.write_str("password guessing");
        };
        let minutes = last_time.since(*first_time).max(0) as f64 / 60e9;
        write!(f, "{failed_logins} failed logins from {} in {sessions} session(s) over {minutes:.1} min", Ip(*client))?;
        if !users.is_empty() {
            let names: Vec<String> = users.iter().map(|u| format!("'{u}'")).collect();
            write!(f, ", users tried: {}", names.join(", "))?;
            if *other_users > 0 {
                write!(f, " and {other_users} more")?;
            }
        }
        Ok(())
    }

    fn explanation(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let (threshold, window) = match &finding.details {
            Details::Guessing { threshold, window_minutes, .. } => (*threshold, *window_minutes),
            _ => (0, 0),
        };
        write!(
            f,
            "At least {threshold} logins from one address were refused within {window} minutes (the rule, like Zeek's \
             FTP::Bruteforcing; --guessing-threshold changes it): a password being guessed, or a client retrying a wrong one \
             in a loop. Block the address or limit failed logins (vsftpd max_login_fails, fail2ban), and require TLS so that \
             passwords do not cross in clear text. (ftpscope never shows a password.)"
        )
    }

    fn cause(&self) -> Cause {
        PASSWORD_GUESSING
    }
}
