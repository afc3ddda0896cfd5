//! cleartext_credentials: USER and PASS crossed the network unencrypted. The password itself is
//! never kept, so it can never be said.

use super::{Cause, Words};
use crate::model::finding::Credentials;
use crate::model::{Details, Finding};
use std::fmt::{self, Formatter};

pub const CLEARTEXT_PASSWORD: Cause =
    Cause { name: "cleartext_password", sentence: "The password crossed the network in clear text.", brief: "password in clear text" };

impl Words for Credentials {
    fn summary(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        match &finding.details {
            Details::Credentials { user: Some(user), .. } => write!(f, "password for user '{user}' sent in clear text"),
            _ => f.write_str("password for user (unknown) sent in clear text"),
        }
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(
            "USER and PASS crossed the network unencrypted: anyone on the path can read them. (ftpscope never shows the password \
             itself.)",
        )
    }

    fn cause(&self) -> Cause {
        CLEARTEXT_PASSWORD
    }
}
