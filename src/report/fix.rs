//! Fixes in words: each [`Fix`] value rendered for a person, with its parameters written in.
//! The settings and their names come from each server's own manual (../shared/FIXES.md in the
//! steering repo).
//!
//! Owns the wording of every fix. Must not decide whether something is wrong.

use super::addr::{Ip, Sock};
use super::Rendered;
use crate::model::{Fix, Mode, Software};
use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use serde_json::value::RawValue;
use std::fmt;

impl fmt::Display for Fix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Fix::AnnouncePublicAddress { address } => {
                let address = Ip(address);
                write!(f, "The server's public address, as the client reached it, is {address}: announce that in passive replies.")
            }
            Fix::ServerPassiveSettings { software } => f.write_str(passive_settings(software)),
            Fix::ForwardPassiveRange { server } => {
                let server = Ip(server);
                write!(
                    f,
                    "On the server's NAT router, forward the control port and the whole passive range to {server} (iptables -t nat -A \
                     PREROUTING -p tcp --dport LO:HI -j DNAT --to-destination {server}; a router that cannot forward ranges needs one \
                     rule per port)."
                )
            }
            Fix::AllowPassiveRange { port } => write!(
                f,
                "Forward (and allow) the passive range on the server's router/firewall, e.g. iptables -t nat -A PREROUTING -p tcp \
                 --dport LO:HI -j DNAT --to-destination SERVER, plus -A FORWARD -p tcp --dport LO:HI -j ACCEPT; port {port} must be in it."
            ),
            Fix::ForwardRangeUnderTls => f.write_str(
                "Forward that passive range on the server's router (DNAT) and allow it in the firewall: under TLS no helper opens it \
                 per transfer.",
            ),
            Fix::HelperBlindUnderTls => f.write_str(
                "A NAT helper (ALG) cannot read or rewrite PASV/PORT inside TLS: configure the server's external address and a fixed \
                 passive port range, and forward that range on the router.",
            ),
            Fix::CheckExternalAddress { advertised, server } => write!(
                f,
                "Check that {} is really the server's external address and that port {} is forwarded to {}.",
                Sock(advertised),
                advertised.port(),
                Ip(server)
            ),
            Fix::UsePassiveMode => f.write_str("Use passive mode (PASV/EPSV) on the client: it then opens every data connection itself."),
            Fix::ClientRouterHelper { control_port } => write!(
                f,
                "Or, for clear-text FTP only, enable the FTP helper on the client's NAT router: iptables -t raw -A PREROUTING -p tcp \
                 --dport {control_port} -j CT --helper ftp, and accept --ctstate RELATED (nft: ct helper set \"ftp-standard\"); it \
                 cannot help under TLS."
            ),
            Fix::AttachHelper { control_port } => write!(
                f,
                "If a Linux router's FTP helper should follow this session: iptables -t raw -A PREROUTING -p tcp --dport {control_port} \
                 -j CT --helper ftp"
            ),
            Fix::RequireTls => f.write_str("Require TLS on the server (explicit FTPS: AUTH TLS), or use SFTP."),
            Fix::ServerRequireTls { software } => match software {
                Software::Vsftpd => f.write_str("vsftpd: ssl_enable=YES, force_local_logins_ssl=YES, force_local_data_ssl=YES"),
                Software::ProFtpd => f.write_str("ProFTPD: mod_tls with TLSEngine on, TLSRequired on"),
                Software::PureFtpd => f.write_str("Pure-FTPd: -Y 2 (TLS required for control), -Y 3 for data too"),
                other => write!(f, "{}: require TLS for logins and data", other.name()),
            },
            Fix::RefuseForeignAddress => f.write_str(
                "Servers should refuse PORT/EPRT to an address other than the client's (vsftpd port_promiscuous=NO, ProFTPD \
                 AllowForeignAddress off, Pure-FTPd without FXP: all defaults).",
            ),
            Fix::KeepAntiBounce { software } => f.write_str(match software {
                Software::Vsftpd => {
                    "vsftpd refuses a PORT to another host by design (port_promiscuous=NO): do not turn that off; fix the client side."
                }
                Software::ProFtpd => "ProFTPD: AllowForeignAddress off (default) refuses it; keep it off and use passive mode.",
                Software::PureFtpd => "Pure-FTPd refuses FXP by default; keep it and use passive mode.",
                Software::Pyftpdlib => "pyftpdlib: permit_foreign_addresses=False (default); keep it and use passive mode.",
                _ => "The server's anti-bounce check is right to refuse; use passive mode.",
            }),
            Fix::SameNatAddress => f.write_str(
                "Make the NAT map the client's connections to one address (no address pools), or set pasv_promiscuous=YES on vsftpd.",
            ),
            Fix::PrepareForTls { mode: Mode::Passive } => f.write_str(
                "Nothing is broken now; before enabling TLS, configure the server's external address and passive range (the helper \
                 will be blind).",
            ),
            Fix::PrepareForTls { mode: Mode::Active } => {
                f.write_str("Nothing is broken now; before enabling AUTH TLS, switch the client to passive mode.")
            }
        }
    }
}

/// The server settings for an external passive address and a fixed passive port range.
fn passive_settings(software: Software) -> &'static str {
    match software {
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
    }
}

/// A finding's fixes, serialised by [`serialize_fixes`].
pub struct Fixes<'a>(pub &'a [Fix]);

impl Serialize for Fixes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_fixes(self.0, s)
    }
}

/// JSON: each fix as its action and parameters, plus the rendered text.
///
/// The same fix (same action, same parameters) recurs in session after session of one capture,
/// so each is written once into JSON and kept (a few hundred bytes each, at most
/// [`MAX_KEPT_FIXES`], per thread); later ones are copied out as written. The output is the same.
pub fn serialize_fixes<S: Serializer>(fixes: &[Fix], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(fixes.len()))?;
    for fix in fixes {
        match written(fix) {
            Some(json) => seq.serialize_element(&*json)?,
            None => seq.serialize_element(&WithText::of(fix))?,
        }
    }
    seq.end()
}

/// Distinct fixes kept as JSON; past it the store starts again.
const MAX_KEPT_FIXES: usize = 4096;

thread_local! {
    static WRITTEN: std::cell::RefCell<crate::AddrMap<Fix, std::rc::Rc<RawValue>>> = Default::default();
}

/// The fix as JSON, from the store or written now; None if it cannot be (it always can).
fn written(fix: &Fix) -> Option<std::rc::Rc<RawValue>> {
    WRITTEN.with(|kept| {
        let mut kept = kept.borrow_mut();
        if let Some(json) = kept.get(fix) {
            return Some(json.clone());
        }
        let json: std::rc::Rc<RawValue> = serde_json::value::to_raw_value(&WithText::of(fix)).ok()?.into();
        if kept.len() >= MAX_KEPT_FIXES {
            kept.clear();
        }
        kept.insert(fix.clone(), json.clone());
        Some(json)
    })
}

/// A fix with its words.
#[derive(Serialize)]
struct WithText<'a> {
    #[serde(flatten)]
    fix: &'a Fix,
    text: Rendered<&'a Fix>,
}

impl WithText<'_> {
    fn of(fix: &Fix) -> WithText<'_> {
        WithText { fix, text: Rendered(fix) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_carries_its_values_and_its_words() {
        let fix = Fix::ClientRouterHelper { control_port: 2121 };
        let v = serde_json::to_value(WithFixes { fix: vec![fix] }).unwrap();
        assert_eq!(v["fix"][0]["action"], "client_router_helper");
        assert_eq!(v["fix"][0]["control_port"], 2121);
        assert!(v["fix"][0]["text"].as_str().unwrap().contains("--dport 2121 -j CT --helper ftp"));
    }

    #[derive(Serialize)]
    struct WithFixes {
        #[serde(serialize_with = "serialize_fixes")]
        fix: Vec<Fix>,
    }
}
