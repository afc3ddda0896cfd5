//! FTP server software, recognised from the 220 banner (banners from ../shared/FIXES.md in the
//! steering repo). The fix advice names this software's own settings.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Software {
    Vsftpd,
    #[serde(rename = "proftpd")]
    ProFtpd,
    #[serde(rename = "pure-ftpd")]
    PureFtpd,
    #[serde(rename = "filezilla")]
    FileZilla,
    Iis,
    Pyftpdlib,
    Unknown,
}

impl Software {
    pub fn from_banner(banner: Option<&str>) -> Software {
        let Some(b) = banner else { return Software::Unknown };
        let b = b.to_ascii_lowercase();
        if b.contains("vsftpd") {
            Software::Vsftpd
        } else if b.contains("proftpd") {
            Software::ProFtpd
        } else if b.contains("pure-ftpd") {
            Software::PureFtpd
        } else if b.contains("filezilla") {
            Software::FileZilla
        } else if b.contains("microsoft ftp") {
            Software::Iis
        } else if b.contains("pyftpdlib") {
            Software::Pyftpdlib
        } else {
            Software::Unknown
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Software::Vsftpd => "vsftpd",
            Software::ProFtpd => "ProFTPD",
            Software::PureFtpd => "Pure-FTPd",
            Software::FileZilla => "FileZilla Server",
            Software::Iis => "IIS FTP",
            Software::Pyftpdlib => "pyftpdlib",
            Software::Unknown => "the FTP server",
        }
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn banners_from_fixes_md() {
        assert_eq!(Software::from_banner(Some("(vsFTPd 3.0.3)")), Software::Vsftpd);
        assert_eq!(Software::from_banner(Some("ProFTPD Server (Debian) [::ffff:10.0.0.2]")), Software::ProFtpd);
        assert_eq!(Software::from_banner(Some("---------- Welcome to Pure-FTPd [privsep] [TLS] ----------")), Software::PureFtpd);
        assert_eq!(Software::from_banner(Some("-FileZilla Server 0.9.60 beta")), Software::FileZilla);
        assert_eq!(Software::from_banner(Some("Microsoft FTP Service")), Software::Iis);
        assert_eq!(Software::from_banner(Some("pyftpdlib 2.2.1 ready.")), Software::Pyftpdlib);
        assert_eq!(Software::from_banner(None), Software::Unknown);
    }
}
