//! transfer_incomplete: a transfer that ended short of the size the server announced (less a
//! REST offset), or that the server ended (426, 451, 552) without the client asking (ABOR),
//! where no other finding of its negotiation tells it. "The download is always a few KB short":
//! the numbers and the frame where the bytes stopped say how short and where to look.

use super::{Cause, Words};
use crate::model::finding::TransferIncomplete;
use crate::model::transfer_record::Partial;
use crate::model::{Details, Finding};
use std::fmt::{self, Formatter};

/// The transfer stopped before the whole file crossed.
pub const TRANSFER_CUT_SHORT: Cause = Cause {
    name: "transfer_cut_short",
    sentence: "The transfer stopped before the whole file crossed: the data connection closed short of the size the server \
               announced, or the server ended the transfer without the client asking.",
    brief: "transfer cut short",
};

impl Words for TransferIncomplete {
    fn summary(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} incomplete: {} byte(s)", Asked(finding), self.bytes)?;
        if let Some(expected) = self.expected {
            write!(f, " of {expected}")?;
        }
        match (self.why, &finding.details) {
            (Partial::ServerEnded, Details::Incomplete { reply_code: Some(code), reply_text, .. }) => {
                write!(f, ", ended by the server: {code} {}", reply_text.as_deref().unwrap_or("").trim())
            }
            _ => f.write_str(", the data connection closed short"),
        }
    }

    fn explanation(&self, _finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let at = |f: &mut Formatter<'_>| match self.stopped_frame {
            Some(frame) => write!(f, " (its last frame: {frame})"),
            None => Ok(()),
        };
        match self.why {
            Partial::ServerEnded => {
                write!(f, "The server ended the transfer")?;
                if let Some(code) = self.code {
                    write!(f, " with {code}{}", meaning(code))?;
                }
                write!(f, " after {} byte(s) had crossed", self.bytes)?;
                at(f)?;
                f.write_str(
                    ", and the client had not asked it to (no ABOR): the file is incomplete. A 426 is the data connection \
                     broken in between (a reset, a cut, a device's timeout); 451 and 552 are the server's own (its disk, a \
                     quota, a process stopped): its log says which.",
                )
            }
            _ => {
                write!(f, "The data connection carried {} byte(s)", self.bytes)?;
                if let Some(expected) = self.expected {
                    write!(f, " of the {expected} expected")?;
                    if let Some(offset) = self.rest_offset {
                        write!(f, " (the size announced less the resume offset {offset})")?;
                    }
                    write!(f, ", {} short,", expected.saturating_sub(self.bytes))?;
                }
                f.write_str(" and closed")?;
                at(f)?;
                f.write_str(
                    ": the file is incomplete. When the server still said it completed, it sent what it had (a file that \
                     changed while it was read) or something in between ended the connection early (a firewall, a proxy \
                     or a NAT device's limit); compare the size on the server with what arrived.",
                )
            }
        }
    }

    fn cause(&self) -> Cause {
        TRANSFER_CUT_SHORT
    }
}

/// The transfer as asked for: "RETR big.iso", or "the transfer" when only the server's side is
/// captured.
struct Asked<'a>(&'a Finding);

impl fmt::Display for Asked<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.0.details {
            Details::Incomplete { command: Some(verb), argument, .. } => {
                f.write_str(verb)?;
                match argument {
                    Some(arg) => write!(f, " {arg}"),
                    None => Ok(()),
                }
            }
            _ => f.write_str("the transfer"),
        }
    }
}

/// What the code that ended a transfer means (RFC 959 4.2).
fn meaning(code: u16) -> &'static str {
    match code {
        426 => " (connection closed, transfer aborted)",
        451 => " (a local error on the server)",
        552 => " (the storage allocation is exceeded)",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FindingKind, Severity, Text};
    use crate::problems::{Explanation, Summary};

    fn incomplete(why: Partial, bytes: u64, expected: Option<u64>, rest: Option<u64>, reply: Option<(u16, &str)>) -> Finding {
        let details = Details::Incomplete {
            command: Some("RETR".into()),
            argument: Some("big.iso".into()),
            reply_code: reply.map(|r| r.0),
            reply_text: reply.map(|r| r.1.to_string()),
            partial: why,
            bytes,
            expected_bytes: expected,
            rest_offset: rest,
            stopped_frame: Some(90),
        };
        let text = Text::TransferIncomplete(TransferIncomplete {
            why,
            bytes,
            expected,
            rest_offset: rest,
            code: reply.map(|r| r.0),
            stopped_frame: Some(90),
        });
        Finding::new(FindingKind::TransferIncomplete, Severity::Error, 0, vec![20, 90, 91], text, details)
    }

    #[test]
    fn a_download_closed_short_says_how_short_and_where() {
        let f = incomplete(Partial::ClosedShort, 40_000, Some(50_000), Some(1000), Some((226, "Transfer complete.")));
        assert_eq!(Summary(&f).to_string(), "RETR big.iso incomplete: 40000 byte(s) of 50000, the data connection closed short");
        let why = Explanation(&f).to_string();
        assert!(
            why.starts_with(
                "The data connection carried 40000 byte(s) of the 50000 expected (the size announced less the resume offset 1000), \
                 10000 short, and closed (its last frame: 90)"
            ),
            "{why}"
        );
        assert_eq!(crate::problems::cause(&f), TRANSFER_CUT_SHORT);
    }

    #[test]
    fn a_transfer_the_server_ended_names_its_reply() {
        let f = incomplete(Partial::ServerEnded, 512, None, None, Some((451, "Local error in processing.")));
        assert_eq!(Summary(&f).to_string(), "RETR big.iso incomplete: 512 byte(s), ended by the server: 451 Local error in processing.");
        assert!(Explanation(&f).to_string().starts_with("The server ended the transfer with 451 (a local error on the server) after 512"));
    }
}
