//! malformed_reply and malformed_command, one description for both sides: a control line that
//! breaks RFC 959's format, or a negotiation whose address cannot be read.

use super::{Cause, Words};
use crate::model::finding::{MalformedLine, Unparsable};
use crate::model::{Details, Finding, Mode};
use std::fmt::{self, Formatter};

pub const MALFORMED: Cause =
    Cause { name: "malformed", sentence: "A control line breaks RFC 959's format.", brief: "malformed control line" };

impl Words for MalformedLine {
    fn summary(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        match &finding.details {
            Details::Line { reason, excerpt } => write!(f, "{reason}: {excerpt}"),
            _ => f.write_str("malformed line"),
        }
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(
            "A line on the control channel breaks RFC 959's format. Strict peers, firewalls and NAT helpers may misread or drop \
             it.",
        )
    }

    fn cause(&self) -> Cause {
        MALFORMED
    }
}

impl Words for Unparsable {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        match (self.mode, self.reply_code) {
            (Mode::Passive, Some(code)) => write!(f, "{code} reply")?,
            (Mode::Passive, None) => f.write_str("passive reply")?,
            (Mode::Active, _) => write!(f, "{:?} command", self.command)?,
        }
        write!(f, " could not be parsed: {}", self.reason)
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "The {} announced a data endpoint ftpscope cannot read ({}). Clients and NAT helpers that parse strictly will fail \
             the same way, so the transfer that follows may not work.",
            self.side, self.reason
        )
    }

    fn cause(&self) -> Cause {
        MALFORMED
    }
}
