//! control_channel_encrypted: after AUTH TLS nothing on the control channel is readable, by
//! ftpscope or by a NAT helper; the connections that opened afterwards are probably its data
//! channels.

use super::{Cause, Words};
use crate::model::finding::Encrypted;
use crate::model::Finding;
use std::fmt::{self, Formatter};

/// The control channel is encrypted: no NAT helper can read or open the data ports.
pub const HELPER_BLIND_UNDER_TLS: Cause = Cause {
    name: "helper_blind_under_tls",
    sentence: "The control channel is encrypted: a NAT helper can neither read nor rewrite PASV/PORT nor open the data port, so \
               only a configured external address and a forwarded port range work.",
    brief: "NAT helper blind under TLS",
};

impl Words for Encrypted {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let Encrypted { tls_frame, channels, failed, first_failure } = *self;
        match first_failure {
            None => write!(
                f,
                "control channel encrypted (AUTH TLS) from frame {tls_frame}: {channels} probable data connection(s), none failed"
            ),
            Some(o) => write!(
                f,
                "control channel encrypted (AUTH TLS) from frame {tls_frame}; {failed} of {channels} probable data connection(s) \
                 failed ({})",
                o.as_str()
            ),
        }
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "After the 234 reply in frame {} the control channel is TLS: commands, replies and the addresses in PASV/PORT are no \
             longer readable on the wire, neither by ftpscope nor by any NAT helper on the path. The connections listed opened \
             between the same hosts afterwards and are most probably its data channels.",
            self.tls_frame
        )
    }

    fn cause(&self) -> Cause {
        HELPER_BLIND_UNDER_TLS
    }
}
