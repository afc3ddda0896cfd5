//! transfer_failed: a transfer that failed (model::transfer's verdict) where no other finding of
//! its negotiation tells why: the server refused it for its own reasons (550 no such file, 553,
//! 452 ...), never answered it, or the client aborted it.

use super::{Cause, Words};
use crate::model::finding::TransferFailed;
use crate::model::{Details, Failure, Finding};
use std::fmt::{self, Formatter};

/// The server refused the transfer itself: not the network.
pub const SERVER_REFUSED_TRANSFER: Cause = Cause {
    name: "server_refused_transfer",
    sentence: "The server refused the transfer itself (a missing file, a permission, a full disk, a name it does not allow): \
               the network carried the request and the answer; what was asked for is what failed.",
    brief: "transfer refused by the server (file, permission or space)",
};

/// The server never answered a transfer command.
pub const TRANSFER_UNANSWERED: Cause = Cause {
    name: "transfer_unanswered",
    sentence: "The server never answered the transfer command before the control connection ended.",
    brief: "transfer command never answered",
};

/// The client aborted the transfer.
pub const TRANSFER_ABORTED: Cause = Cause {
    name: "transfer_aborted",
    sentence: "The client aborted the transfer (ABOR) before it completed.",
    brief: "transfer aborted by the client",
};

/// No data connection carried the transfer, and no other finding names one.
pub const NO_DATA_CONNECTION: Cause =
    Cause { name: "no_data_connection", sentence: "No data connection carried the transfer.", brief: "transfer without a data connection" };

impl Words for TransferFailed {
    fn summary(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Asked(finding))?;
        match self.why {
            Failure::Refused => f.write_str(" refused")?,
            Failure::NoReply => f.write_str(" never answered")?,
            Failure::Aborted => f.write_str(" aborted by the client")?,
            Failure::NoDataConnection => f.write_str(" failed: no data connection")?,
        }
        if let Details::Transfer { reply_code: Some(code), reply_text, .. } = &finding.details {
            write!(f, ": {code} {}", reply_text.as_deref().unwrap_or("").trim())?;
        }
        Ok(())
    }

    fn explanation(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let upload =
            matches!(&finding.details, Details::Transfer { command: Some(c), .. } if matches!(c.as_str(), "STOR" | "STOU" | "APPE"));
        let lost = if upload { "the file was not stored" } else { "nothing came" };
        match (self.why, self.code) {
            (Failure::Refused, Some(code)) => {
                write!(f, "The server refused the transfer ({code}{}): {lost}. ", meaning(code).unwrap_or(""))?;
                f.write_str(
                    "The control connection worked and the server gave its reason: check the name, the path and the rights on the \
                     server (its words are in the reply), not the network.",
                )
            }
            (Failure::Refused, None) => write!(f, "The server refused the transfer: {lost}."),
            (Failure::NoReply, _) => write!(
                f,
                "The server never answered the transfer command, and the control connection ended (or fell idle) without a reply \
                 saying it completed: {lost}, as far as the server told."
            ),
            (Failure::Aborted, _) => {
                f.write_str("The client aborted the transfer")?;
                if let Some(frame) = self.aborted_frame {
                    write!(f, " (ABOR in frame {frame})")?;
                }
                write!(f, " before the server said it completed: {lost} whole. A person or a client's timeout stopped it.")
            }
            (Failure::NoDataConnection, _) => {
                write!(f, "No data connection carried the transfer and the server never said it completed: {lost}.")
            }
        }
    }

    fn cause(&self) -> Cause {
        match self.why {
            Failure::Refused => SERVER_REFUSED_TRANSFER,
            Failure::NoReply => TRANSFER_UNANSWERED,
            Failure::Aborted => TRANSFER_ABORTED,
            Failure::NoDataConnection => NO_DATA_CONNECTION,
        }
    }
}

/// The transfer as it was asked for: "RETR SiteStat.xml", or "the transfer" when only the server's
/// side is captured.
struct Asked<'a>(&'a Finding);

impl fmt::Display for Asked<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.0.details {
            Details::Transfer { command: Some(verb), argument, .. } => {
                f.write_str(verb)?;
                if let Some(arg) = argument {
                    write!(f, " {arg}")?;
                }
                Ok(())
            }
            _ => f.write_str("the transfer"),
        }
    }
}

/// What a refusal's code means (RFC 959 4.2), as the explanation's aside.
fn meaning(code: u16) -> Option<&'static str> {
    Some(match code {
        421 => ": the server is closing the control connection",
        425 => ": it could not open the data connection",
        426 => ": the data connection closed and the transfer was aborted",
        450 => ": the file is unavailable, busy",
        451 => ": a local error on the server",
        452 => ": not enough storage space on the server",
        530 => ": not logged in",
        550 => ": the file is unavailable: not found, or no access",
        551 => ": the page type is unknown",
        552 => ": the storage allocation is exceeded",
        553 => ": the file name is not allowed",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FindingKind, Severity, Text};
    use crate::problems::{Explanation, Summary};

    fn failed(why: Failure, command: &str, argument: Option<&str>, code: Option<u16>, text: Option<&str>) -> Finding {
        let details = Details::Transfer {
            command: Some(command.into()),
            argument: argument.map(String::from),
            reply_code: code,
            reply_text: text.map(String::from),
            reason: why,
        };
        let text = Text::TransferFailed(TransferFailed { why, code, aborted_frame: Some(30) });
        Finding::new(FindingKind::TransferFailed, Severity::Error, 0, vec![43, 44], text, details)
    }

    #[test]
    fn a_refused_download_names_the_file_the_code_and_the_servers_words() {
        let f = failed(Failure::Refused, "RETR", Some("SiteStat.xml"), Some(550), Some("SiteStat.xml: No such file or directory"));
        assert_eq!(Summary(&f).to_string(), "RETR SiteStat.xml refused: 550 SiteStat.xml: No such file or directory");
        let why = Explanation(&f).to_string();
        assert!(why.starts_with("The server refused the transfer (550: the file is unavailable: not found, or no access): nothing came."));
        let upload = failed(Failure::Refused, "STOR", Some("up.bin"), Some(452), Some("Insufficient storage space"));
        assert!(Explanation(&upload).to_string().contains("(452: not enough storage space on the server): the file was not stored."));
        assert_eq!(crate::problems::cause(&f), SERVER_REFUSED_TRANSFER);
    }

    #[test]
    fn each_reason_reads_as_what_happened() {
        let aborted = failed(Failure::Aborted, "RETR", Some("big.iso"), Some(426), Some("Transfer aborted."));
        assert_eq!(Summary(&aborted).to_string(), "RETR big.iso aborted by the client: 426 Transfer aborted.");
        assert!(Explanation(&aborted).to_string().contains("(ABOR in frame 30)"));
        let silent = failed(Failure::NoReply, "LIST", None, None, None);
        assert_eq!(Summary(&silent).to_string(), "LIST never answered");
        assert_eq!(crate::problems::cause(&silent), TRANSFER_UNANSWERED);
    }
}
