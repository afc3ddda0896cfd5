//! ascii_mode_binary: a TYPE A (ASCII) transfer whose first bytes are not text: "the file
//! arrives corrupted". Whether it was corrupted depends on the server: ProFTPD translates line
//! ends in ASCII mode by default; vsftpd only with `ascii_download_enable` /
//! `ascii_upload_enable` (off by default: it sends the bytes as they are whatever TYPE says).
//! The fix is the client's: TYPE I (binary mode).

use super::{Cause, Words};
use crate::model::finding::AsciiBinary;
use crate::model::text_sample::NotText;
use crate::model::{Details, Finding, Software};
use std::fmt::{self, Formatter};

/// A binary file crossed in ASCII mode.
pub const BINARY_IN_ASCII_MODE: Cause = Cause {
    name: "binary_in_ascii_mode",
    sentence: "A binary file crossed in ASCII mode (TYPE A): a server that translates line ends changes its bytes.",
    brief: "binary file sent in ASCII mode",
};

impl Words for AsciiBinary {
    fn summary(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        match &finding.details {
            Details::AsciiBinary { command: Some(verb), argument, .. } => {
                f.write_str(verb)?;
                if let Some(arg) = argument {
                    write!(f, " {arg}")?;
                }
            }
            _ => f.write_str("a transfer")?,
        }
        f.write_str(" in ASCII mode (TYPE A), but its bytes are not text: ")?;
        f.write_str(match self.why {
            NotText::Nul => "NUL bytes",
            NotText::MixedLineEnds => "CRLF and bare line ends together",
            NotText::NonPrintable => "many control bytes",
        })
    }

    fn explanation(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let (way, setting) = if self.upload { ("upload", "ascii_upload_enable") } else { ("download", "ascii_download_enable") };
        f.write_str("The transfer ran in ASCII mode (TYPE A, the default until the client sends TYPE I)")?;
        if let Details::AsciiBinary { sample, .. } = &finding.details {
            write!(
                f,
                " and its first {} byte(s) are not text ({} NUL, {} CRLF, {} bare CR, {} bare LF, {} other control byte(s))",
                sample.sampled, sample.nul, sample.crlf, sample.bare_cr, sample.bare_lf, sample.non_printable
            )?;
        }
        f.write_str(": a binary file. ")?;
        match (self.translated, self.software) {
            // The wire answers what the server's settings would: it added bytes.
            (Some((carried, announced)), _) => write!(
                f,
                "The server translated it: {carried} bytes crossed for the {announced} it announced (line ends \
                     rewritten), so the file that arrived is corrupted."
            )?,
            (None, Software::ProFtpd) => f.write_str(
                "ProFTPD translates line ends in ASCII mode by default: the file that arrived is corrupted (each LF byte \
                 became CRLF, or the reverse).",
            )?,
            (None, Software::Vsftpd) => write!(
                f,
                "vsftpd translates only with {setting}=YES (off by default): with it off, this {way} crossed unchanged; \
                 with it on, the file is corrupted."
            )?,
            _ => f.write_str(
                "Whether it was corrupted depends on the server: one that translates line ends in ASCII mode (ProFTPD by \
                 default, vsftpd with ascii_download_enable/ascii_upload_enable) changes the bytes.",
            )?,
        }
        f.write_str(" Fix: binary mode in the client (TYPE I: `binary` in the ftp command, \"Binary\" in a graphical client).")
    }

    fn cause(&self) -> Cause {
        BINARY_IN_ASCII_MODE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::text_sample::TextSample;
    use crate::model::{FindingKind, Severity, Text};
    use crate::problems::{Explanation, Summary};

    fn binary(software: Software, upload: bool) -> Finding {
        let mut sample = TextSample::default();
        sample.add(&[[b'x'; 127].as_slice(), &[0; 1]].concat().repeat(32));
        let details =
            Details::AsciiBinary { command: Some("RETR".into()), argument: Some("photo.jpg".into()), not_text: NotText::Nul, sample };
        let text = Text::AsciiBinary(AsciiBinary { why: NotText::Nul, software, upload, translated: None });
        Finding::new(FindingKind::AsciiModeBinary, Severity::Warning, 0, vec![20], text, details)
    }

    #[test]
    fn it_names_the_file_why_and_whether_the_server_translates() {
        let f = binary(Software::ProFtpd, false);
        assert_eq!(Summary(&f).to_string(), "RETR photo.jpg in ASCII mode (TYPE A), but its bytes are not text: NUL bytes");
        let why = Explanation(&f).to_string();
        assert!(why.contains("first 4096 byte(s) are not text (32 NUL") && why.contains("ProFTPD translates"), "{why}");
        assert!(why.ends_with("(TYPE I: `binary` in the ftp command, \"Binary\" in a graphical client)."));
        let vsftpd = Explanation(&binary(Software::Vsftpd, true)).to_string();
        assert!(vsftpd.contains("ascii_upload_enable=YES (off by default): with it off, this upload crossed unchanged"), "{vsftpd}");
        assert_eq!(crate::problems::cause(&f), BINARY_IN_ASCII_MODE);
        // More bytes than announced: the wire shows the translation, whatever the settings.
        let mut seen = binary(Software::Vsftpd, false);
        seen.text = Text::AsciiBinary(AsciiBinary {
            why: NotText::Nul,
            software: Software::Vsftpd,
            upload: false,
            translated: Some((200_819, 200_000)),
        });
        let why = Explanation(&seen).to_string();
        assert!(why.contains("The server translated it: 200819 bytes crossed for the 200000 it announced"), "{why}");
        assert!(!why.contains("with it off"), "no hedge where the wire answers: {why}");
    }
}
