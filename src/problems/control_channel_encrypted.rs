//! control_channel_encrypted: after AUTH TLS (or with RFC 2228's GSSAPI protection) nothing on
//! the control channel is readable, by ftpscope or by a NAT helper; the connections that opened
//! afterwards are probably its data channels.

use super::{Cause, Words};
use crate::model::finding::Encrypted;
use crate::model::{Finding, Protection};
use std::fmt::{self, Formatter};

/// The control channel is encrypted: no NAT helper can read or open the data ports.
pub const HELPER_BLIND_UNDER_TLS: Cause = Cause {
    name: "helper_blind_under_tls",
    sentence: "The control channel is encrypted: a NAT helper can neither read nor rewrite PASV/PORT nor open the data port, so \
               only a configured external address and a forwarded port range work.",
    brief: "NAT helper blind under TLS",
};

/// The same under RFC 2228's protection: the lines cross, but as tokens.
pub const HELPER_BLIND_UNDER_GSSAPI: Cause = Cause {
    name: "helper_blind_under_gssapi",
    sentence: "The control channel is protected by GSSAPI (RFC 2228): a NAT helper can neither read nor rewrite PASV/PORT nor \
               open the data port, so only a configured external address and a forwarded port range work.",
    brief: "NAT helper blind under GSSAPI",
};

/// The cause of what fails under a protection: a helper that cannot read the negotiation.
pub fn helper_blind(by: Protection) -> Cause {
    match by {
        Protection::Tls => HELPER_BLIND_UNDER_TLS,
        Protection::Gssapi => HELPER_BLIND_UNDER_GSSAPI,
    }
}

/// How the summary names the protection: "AUTH TLS", "AUTH GSSAPI, RFC 2228".
fn auth(by: Protection) -> &'static str {
    match by {
        Protection::Tls => "AUTH TLS",
        Protection::Gssapi => "AUTH GSSAPI, RFC 2228",
    }
}

impl Words for Encrypted {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let Encrypted { frame, by, channels, failed, first_failure } = *self;
        let auth = auth(by);
        match first_failure {
            None => {
                write!(f, "control channel encrypted ({auth}) from frame {frame}: {channels} probable data connection(s), none failed")
            }
            Some(o) => write!(
                f,
                "control channel encrypted ({auth}) from frame {frame}; {failed} of {channels} probable data connection(s) failed ({})",
                o.as_str()
            ),
        }
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        match self.by {
            Protection::Tls => write!(
                f,
                "After the 234 reply in frame {} the control channel is TLS: commands, replies and the addresses in PASV/PORT are no \
                 longer readable on the wire, neither by ftpscope nor by any NAT helper on the path.",
                self.frame
            )?,
            Protection::Gssapi => write!(
                f,
                "From frame {} the commands and replies are protected by GSSAPI (RFC 2228: ENC, MIC or CONF commands, 631-633 \
                 replies, as GridFTP and Kerberised FTP send them): they cross as the mechanism's tokens, and the addresses in \
                 PASV/PORT are no longer readable on the wire, neither by ftpscope nor by any NAT helper on the path.",
                self.frame
            )?,
        }
        f.write_str(" The connections listed opened between the same hosts afterwards and are most probably its data channels.")
    }

    fn cause(&self) -> Cause {
        helper_blind(self.by)
    }
}
