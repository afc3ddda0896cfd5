//! Fix advice per server software, recognised from the 220 banner. The settings and their names
//! come from each project's own manual (see ../shared/FIXES.md in the steering repo).
//!
//! Owns the wording of server-side fixes. Must not decide whether something is wrong.

/// FTP server software, as far as the banner tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Software {
    Vsftpd,
    ProFtpd,
    PureFtpd,
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

    /// Server settings: announce the external address and use a fixed passive port range.
    pub fn passive_address_and_range(self) -> Vec<String> {
        let s = match self {
            Software::Vsftpd => "vsftpd: pasv_address=<public IP> (pasv_addr_resolve=YES for a host name), pasv_min_port=LO, pasv_max_port=HI",
            Software::ProFtpd => "ProFTPD: MasqueradeAddress <public IP or name>, PassivePorts LO HI",
            Software::PureFtpd => "Pure-FTPd: -P <public IP or name> (ForcePassiveIP), -p LO:HI (PassivePortRange)",
            Software::FileZilla => "FileZilla Server: Passive mode settings: 'Use the following IP' (or host), 'Use custom port range' LO-HI",
            Software::Iis => "IIS: site FTP Firewall Support: 'External IP Address of Firewall'; server 'Data Channel Port Range' LO-HI",
            Software::Pyftpdlib => "pyftpdlib: masquerade_address='<public IP>', passive_ports=range(LO, HI+1) (CLI: -n IP -r LO-HI)",
            Software::Unknown => {
                "On the server: set its external (public) address for passive mode (vsftpd pasv_address, ProFTPD MasqueradeAddress, \
                 Pure-FTPd -P) and a fixed passive port range (pasv_min_port/pasv_max_port, PassivePorts, -p LO:HI)"
            }
        };
        vec![s.to_string()]
    }

    pub fn require_tls(self) -> String {
        match self {
            Software::Vsftpd => "vsftpd: ssl_enable=YES, force_local_logins_ssl=YES, force_local_data_ssl=YES".into(),
            Software::ProFtpd => "ProFTPD: mod_tls with TLSEngine on, TLSRequired on".into(),
            Software::PureFtpd => "Pure-FTPd: -Y 2 (TLS required for control), -Y 3 for data too".into(),
            _ => format!("{}: require TLS for logins and data", self.name()),
        }
    }

    /// The setting behind a refused PORT to another address.
    pub fn foreign_port_setting(self) -> String {
        match self {
            Software::Vsftpd => "vsftpd refuses a PORT to another host by design (port_promiscuous=NO): do not turn that off; fix the client side.".into(),
            Software::ProFtpd => "ProFTPD: AllowForeignAddress off (default) refuses it; keep it off and use passive mode.".into(),
            Software::PureFtpd => "Pure-FTPd refuses FXP by default; keep it and use passive mode.".into(),
            Software::Pyftpdlib => "pyftpdlib: permit_foreign_addresses=False (default); keep it and use passive mode.".into(),
            _ => "The server's anti-bounce check is right to refuse; use passive mode.".into(),
        }
    }
}

#[cfg(test)]
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
