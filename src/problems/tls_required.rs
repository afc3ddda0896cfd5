//! tls_required: the server demands TLS (explicit FTPS) and the client spoke clear text: vsftpd
//! `530 Non-anonymous sessions must use encryption.`, ProFTPD `550 SSL/TLS required on the
//! control channel`, a 534. Told instead of login_failed: the password was not the problem.

use super::{Cause, Words};
use crate::model::finding::TlsRequired;
use crate::model::{Details, Finding};
use std::fmt::{self, Formatter};

pub const TLS_REQUIRED: Cause = Cause {
    name: "tls_required",
    sentence: "The server requires TLS (explicit FTPS) and the client logged in in clear text.",
    brief: "TLS required, clear text used",
};

impl Words for TlsRequired {
    fn summary(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let text = match &finding.details {
            Details::Login { reply_text, .. } => reply_text.as_deref().unwrap_or(""),
            _ => "",
        };
        write!(f, "the server requires TLS, the client spoke clear text: {} {}", self.code, text.trim())
    }

    fn explanation(&self, _finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(
            "The server refuses logins in clear text (vsftpd: ssl_enable=YES with force_local_logins_ssl, its default then; \
             ProFTPD: TLSRequired on). The client must connect with explicit FTPS (AUTH TLS). Once it does, a NAT router's FTP \
             helper can no longer read the data ports in PASV/PORT: the server's external address and passive range must be \
             configured, and the range forwarded.",
        )
    }

    fn cause(&self) -> Cause {
        TLS_REQUIRED
    }
}
