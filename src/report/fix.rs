//! Fixes in words: each [`Fix`] value rendered for a person, with its parameters written in.
//! The settings and their names come from each server's own manual (../shared/FIXES.md in the
//! steering repo).
//!
//! Owns the wording of every fix. Must not decide whether something is wrong.

use super::Rendered;
use crate::model::fix::{Crossed, Known, PortRange, ServerSetup};
use crate::model::notation::Ip;
use crate::model::{Fix, Mode, Software};
use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use sonic_rs::OwnedLazyValue;
use std::fmt;
use std::net::IpAddr;

impl fmt::Display for Fix {
    /// The advice in a sentence; the exact lines to type are [`apply`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Fix::ServerPassiveSettings { setup } => {
                let (public, range) = (Address(setup.public_address, PUBLIC), Span(setup.passive_ports, '-'));
                let (name, sep, place) = server_place(setup.software);
                write!(f, "{name}: announce {public} in passive replies and use the passive ports {range}{sep}{place}.")?;
                Notes { public: Some(setup.public_address), lan: None, range: Some(setup.passive_ports) }.fmt(f)
            }
            Fix::ServerPassiveRange { setup } => {
                let (name, sep, place) = server_place(setup.software);
                write!(f, "{name}: use the passive ports {}{sep}{place}.", Span(setup.passive_ports, '-'))?;
                if let Some(public) = setup.public_address.value() {
                    write!(f, " Its passive replies already name {}: leave that as it is.", Ip(public))?;
                }
                Notes { public: None, lan: None, range: Some(setup.passive_ports) }.fmt(f)
            }
            Fix::ForwardPassiveRange { setup, ref crossed } => {
                let (lan, open) = (Address(setup.lan_address, LAN), Opening { setup, crossed });
                if setup.lan_address == Known::Unknown {
                    f.write_str("If the server is behind a NAT router: ")?;
                } else {
                    f.write_str("On the server's NAT router: ")?;
                }
                write!(f, "forward {} to {lan}, and let them through (iptables", open.words())?;
                if setup.passive_ports.value().is_some() {
                    write!(f, "; nftables: tcp dport {{ {} }} dnat to {lan}", open.items('-').join(", "))?;
                }
                f.write_str(").")?;
                open.left_out(f)?;
                if setup.passive_ports.value().is_some() {
                    open.one_rule_per_port(f)?;
                }
                // Where the range came from is said with the server's settings, which go with it.
                Notes { public: Some(setup.public_address), lan: Some(setup.lan_address), range: None }.fmt(f)
            }
            Fix::AllowPassiveRange { setup, ref crossed } => {
                let open = Opening { setup, crossed };
                write!(
                    f,
                    "If the server has the public address {} itself: let {} in, on the firewall in front of it (FORWARD) or on the \
                     server (INPUT).",
                    Address(setup.public_address, PUBLIC),
                    open.words()
                )?;
                open.left_out(f)?;
                Notes { public: Some(setup.public_address), lan: None, range: Some(setup.passive_ports) }.fmt(f)
            }
            Fix::HelperBlindUnderTls => f.write_str(
                "A NAT helper (ALG) cannot read or rewrite PASV/PORT inside TLS: configure the server's external address and a fixed \
                 passive port range, and forward that range on the router.",
            ),
            Fix::HelperBlindUnderGssapi => f.write_str(
                "A NAT helper (ALG) cannot read or rewrite PASV/PORT under GSSAPI's protection (RFC 2228): configure the server's \
                 external address and a fixed passive port range, and forward that range on the router.",
            ),
            Fix::CheckExternalAddress { advertised, server } => write!(
                f,
                "Check that {} is really the server's external address and that port {} is forwarded to {}.",
                Ip(advertised.ip()),
                advertised.port(),
                Ip(server)
            ),
            Fix::UsePassiveMode => f.write_str("Use passive mode (PASV/EPSV) on the client: it then opens every data connection itself."),
            Fix::FixPassiveFirst { session, frame } => write!(
                f,
                "Fix passive mode on the server (see session {session}'s findings and the server's fix block, from the whole \
                 capture): this client tried passive mode first and fell back to active mode only because passive mode \
                 failed (session {session}, frame {frame}); with passive mode working it needs no active mode."
            ),
            Fix::ClientRouterHelper { .. } => f.write_str(
                "Or, for clear-text FTP only, attach the FTP helper on the client's NAT router to the control port and accept the \
                 related connections (nft: ct helper set \"ftp-standard\", ct state related accept); it cannot help under TLS:",
            ),
            Fix::AllowActiveData { server, source_port, client } => {
                write!(f, "In active mode {} connects back to each client (here {})", Ip(server), Ip(client))?;
                if let Some(port) = source_port {
                    write!(f, " from port {port}")?;
                }
                f.write_str(
                    ": let those connections through every firewall on the way, for every client, not this one alone: out of \
                     the server's network and into the client's (FORWARD on a firewall in between, ",
                )?;
                // Without the source port, an OUTPUT rule would open all of the server's TCP.
                f.write_str(if source_port.is_some() { "OUTPUT on the server, INPUT on the client)." } else { "INPUT on the client)." })
            }
            // A note on a session that may well work (passive mode with the server's settings
            // needs no helper): it names the port; a failure for want of the helper gets
            // client_router_helper with the same port from its own finding.
            Fix::AttachHelper { control_port } => write!(
                f,
                "A Linux router's FTP helper follows port 21 unless attached to another: if a router's helper should follow this \
                 session (active mode through the client's NAT, passive replies rewritten by the server's), attach it to port \
                 {control_port}:"
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
                "Make the client's NAT map all its connections to the server from one address (no round-robin address pool, no \
                 balancing over several WAN links); or, on the server, turn off vsftpd's check that a data connection comes from \
                 the control connection's address (it keeps another host from taking the data connection), in vsftpd.conf, then \
                 restart vsftpd:",
            ),
            Fix::PrepareForTls { mode: Mode::Passive } => f.write_str(
                "Nothing is broken now; before enabling TLS, configure the server's external address and passive range (the helper \
                 will be blind).",
            ),
            Fix::PrepareForTls { mode: Mode::Active } => {
                f.write_str("Nothing is broken now; before enabling AUTH TLS, switch the client to passive mode.")
            }
            // The intent against what the capture shows: a check, not a cure (nothing failed
            // for it; which port is right is the operator's to know).
            Fix::UseControlPort { intended, seen } => write!(
                f,
                "The session used control port {seen}, not the intended {intended}: check which is meant; if it is {intended}, point \
                 the client at it, or make the server (and the router's forwarding) listen on it."
            ),
            Fix::ReachControlPort { server } => {
                let (ip, port) = (Ip(server.ip()), server.port());
                write!(
                    f,
                    "Make {ip} answer on port {port}: check that the FTP server runs and listens on port {port} (on the server: \
                     ss -ltn 'sport = :{port}'), that no firewall on the server or in front of it drops or rejects port {port}, and, if \
                     {ip} is a NAT router, that it forwards port {port} to the server."
                )
            }
            Fix::CaptureControlPort { server } => write!(
                f,
                "Capture the control connection too: with a filter that keeps everything to and from the FTP server (host {}), \
                 not one that leaves out its control port (`not port 21`); the data connections alone do not tell what was \
                 transferred or why it failed.",
                Ip(server)
            ),
            Fix::CheckCredentials { ref user } => {
                f.write_str("Check the user name and password")?;
                if let Some(user) = user {
                    write!(f, " of '{user}'")?;
                }
                f.write_str(
                    ": the server refused them. Nothing on the network or in the server's FTP settings is at fault (unless the \
                     account should log in by FTP and may not: PAM, /etc/ftpusers).",
                )
            }
            Fix::AllowLocalLogins { software } => match software {
                Software::Vsftpd => {
                    f.write_str("If local users should log in by FTP: vsftpd: local_enable=YES in vsftpd.conf, then restart vsftpd.")
                }
                Software::PureFtpd => {
                    f.write_str("If local users should log in by FTP: Pure-FTPd: drop -e (anonymous only) from its command line.")
                }
                _ => f.write_str(
                    "If local users should log in by FTP: allow them in the server's settings (it allows anonymous logins only).",
                ),
            },
            Fix::UnlistUser { software, ref user } => match software {
                Software::Vsftpd => write!(
                    f,
                    "vsftpd: take '{user}' off its userlist (userlist_file, /etc/vsftpd.user_list by default), which lists the users \
                     refused while userlist_deny=YES; or set userlist_enable=NO if no user should be refused that way. The list is \
                     read at each login: no restart."
                ),
                _ => write!(f, "Take '{user}' off the server's list of users refused (its deny list, /etc/ftpusers)."),
            },
            Fix::AllowAnonymous { software } => match software {
                Software::Vsftpd => f.write_str(
                    "If anonymous access is intended: vsftpd: anonymous_enable=YES in vsftpd.conf (its anon_root must not be writable \
                     by the ftp user), then restart vsftpd.",
                ),
                Software::PureFtpd => {
                    f.write_str("If anonymous access is intended: Pure-FTPd: drop -E (no anonymous) from its command line.")
                }
                _ => f.write_str("If anonymous access is intended, allow it in the server's settings; otherwise log in as a named user."),
            },
            Fix::LoginFirst => f.write_str("The client must log in first: USER, then PASS, before any other command."),
            Fix::AllowWritableChroot { software } => match software {
                Software::Vsftpd => f.write_str(
                    "vsftpd: allow_writeable_chroot=YES in vsftpd.conf, then restart vsftpd; or make the user's home unwritable to \
                     the user (chmod a-w) with a writable directory inside it.",
                ),
                _ => f.write_str(
                    "Make the user's root directory unwritable to the user, or allow a writable chroot in the server's settings.",
                ),
            },
            Fix::RaiseConnectionLimit { software, per_address, at_least } => {
                let whom = if per_address { "sessions from one client address" } else { "sessions in all" };
                write!(f, "Raise the server's limit of {whom} to at least ")?;
                match at_least.value() {
                    Some(n) => write!(f, "{n}, the most this capture saw wanted at once (open, or refused while others were)")?,
                    None => f.write_str("the number in the server's fix block, which has the line to type")?,
                }
                if per_address {
                    f.write_str(" (behind a NAT many users share one address)")?;
                }
                match (software, per_address) {
                    (Software::Vsftpd, true) => f.write_str(": vsftpd max_per_ip in vsftpd.conf, then restart vsftpd."),
                    (Software::Vsftpd, false) => f.write_str(": vsftpd max_clients in vsftpd.conf, then restart vsftpd."),
                    (Software::ProFtpd, true) => f.write_str(": ProFTPD MaxClientsPerHost in proftpd.conf, then restart proftpd."),
                    (Software::ProFtpd, false) => f.write_str(": ProFTPD MaxClients in proftpd.conf, then restart proftpd."),
                    (Software::PureFtpd, true) => f.write_str(": Pure-FTPd -C on its command line."),
                    (Software::PureFtpd, false) => f.write_str(": Pure-FTPd -c on its command line."),
                    (Software::Pyftpdlib, true) => f.write_str(": pyftpdlib FTPServer.max_cons_per_ip."),
                    (Software::Pyftpdlib, false) => f.write_str(": pyftpdlib FTPServer.max_cons."),
                    _ => f.write_str(" in the server's settings."),
                }
            }
            Fix::ClientExplicitTls => f.write_str(
                "Connect with explicit FTPS (AUTH TLS) on the same port: FileZilla \"Require explicit FTP over TLS\", curl \
                 --ssl-reqd, lftp set ftp:ssl-force true, Python ftplib.FTP_TLS.",
            ),
            Fix::AllowClearLogins { software } => match software {
                Software::Vsftpd => f.write_str(
                    "Or, knowingly (passwords and files then cross in clear text): vsftpd force_local_logins_ssl=NO and \
                     force_local_data_ssl=NO in vsftpd.conf, then restart vsftpd.",
                ),
                Software::ProFtpd => f.write_str("Or, knowingly (passwords then cross in clear text): ProFTPD TLSRequired off."),
                Software::PureFtpd => f.write_str("Or, knowingly (passwords then cross in clear text): Pure-FTPd -Y 1 (TLS optional)."),
                _ => f.write_str("Or, knowingly (passwords then cross in clear text): make TLS optional in the server's settings."),
            },
        }
    }
}

/// The server software's name as a fix begins with it, the separator before where its settings
/// go, and where they go.
fn server_place(software: Software) -> (&'static str, &'static str, &'static str) {
    let place = match software {
        Software::Vsftpd => "in vsftpd.conf, then restart vsftpd",
        Software::ProFtpd => "in proftpd.conf, then restart proftpd",
        Software::PureFtpd => {
            "on its command line (Debian's wrapper reads the same from /etc/pure-ftpd/conf/ForcePassiveIP and PassivePortRange)"
        }
        Software::Pyftpdlib => "on the FTPHandler (command line: -n ADDRESS -r LO-HI)",
        Software::FileZilla => "in its Passive mode settings",
        Software::Iis => "with appcmd (or IIS Manager, FTP Firewall Support)",
        Software::Unknown => {
            "(software not recognised from its banner: vsftpd pasv_address, pasv_min_port, pasv_max_port; ProFTPD \
             MasqueradeAddress, PassivePorts; Pure-FTPd -P, -p; pyftpdlib masquerade_address, passive_ports)"
        }
    };
    // A place follows after a comma ("..., in vsftpd.conf"); the list of settings for an unknown
    // server is a parenthesis of its own.
    match software {
        Software::Unknown => ("On the server", " ", place),
        known => (known.name(), ", ", place),
    }
}

/// The exact lines to type for a fix (configuration lines, commands), with every value filled
/// in; a value the capture does not show is a `<placeholder>` that [`fmt`]'s note names.
/// Empty for advice that has no one right line.
pub fn apply(fix: &Fix) -> Vec<String> {
    // A session's fix whose range is the server's: its lines are in the server's block.
    if fix.in_server_block() {
        return Vec::new();
    }
    match *fix {
        Fix::ServerPassiveSettings { setup } => server_lines(setup, true),
        Fix::ServerPassiveRange { setup } => server_lines(setup, false),
        Fix::ForwardPassiveRange { setup, ref crossed } => {
            let (lan, open) = (Address(setup.lan_address, LAN), Opening { setup, crossed });
            let to = match setup.public_address.value() {
                Some(public) => format!("-d {} ", Ip(public)),
                None => "-d <public IP> ".to_string(),
            };
            let ipt = iptables(setup.lan_address.value().or(setup.public_address.value()));
            let mut lines = Vec::new();
            if let Some(cp) = open.control() {
                lines.push(format!("{ipt} -t nat -A PREROUTING {to}-p tcp --dport {cp} -j DNAT --to-destination {lan}"));
            }
            let passive = open.passive(':');
            let dports = match &passive[..] {
                [one] => vec![format!("--dport {one}")],
                more => multiport(more).into_iter().map(|list| format!("-m multiport --dports {list}")).collect(),
            };
            for d in dports {
                lines.push(format!("{ipt} -t nat -A PREROUTING {to}-p tcp {d} -j DNAT --to-destination {lan}"));
            }
            for list in multiport(&open.items(':')) {
                lines.push(format!("{ipt} -I FORWARD -d {lan} -p tcp -m multiport --dports {list} -j ACCEPT"));
            }
            lines
        }
        Fix::AllowPassiveRange { setup, ref crossed } => {
            let (public, open) = (Address(setup.public_address, PUBLIC), Opening { setup, crossed });
            let ipt = iptables(setup.public_address.value());
            let lists = multiport(&open.items(':'));
            let forward = lists.iter().map(|list| format!("{ipt} -I FORWARD -d {public} -p tcp -m multiport --dports {list} -j ACCEPT"));
            let input = lists.iter().map(|list| format!("{ipt} -I INPUT -p tcp -m multiport --dports {list} -j ACCEPT"));
            forward.chain(input).collect()
        }
        Fix::ClientRouterHelper { control_port } => vec![
            format!("iptables -t raw -A PREROUTING -p tcp --dport {control_port} -j CT --helper ftp"),
            "iptables -I FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT".to_string(),
        ],
        // Every client connects in active mode, not only the one captured: no rule names it.
        Fix::AllowActiveData { server, source_port, .. } => {
            let sport = source_port.map_or(String::new(), |p| format!(" --sport {p}"));
            let ipt = iptables(Some(server));
            let mut lines = vec![format!("{ipt} -I FORWARD -p tcp -s {}{sport} -j ACCEPT", Ip(server))];
            // Without the source port, an OUTPUT rule would let out all of the server's TCP.
            if source_port.is_some() {
                lines.push(format!("{ipt} -I OUTPUT -p tcp{sport} -j ACCEPT"));
            }
            lines.push(format!("{ipt} -I INPUT -p tcp -s {}{sport} -j ACCEPT", Ip(server)));
            lines
        }
        Fix::AttachHelper { control_port } => {
            vec![format!("iptables -t raw -A PREROUTING -p tcp --dport {control_port} -j CT --helper ftp")]
        }
        Fix::AllowLocalLogins { software: Software::Vsftpd } => vec!["local_enable=YES".to_string()],
        Fix::AllowAnonymous { software: Software::Vsftpd } => vec!["anonymous_enable=YES".to_string()],
        Fix::AllowWritableChroot { software: Software::Vsftpd } => vec!["allow_writeable_chroot=YES".to_string()],
        // Both: with ssl_enable=YES vsftpd forces TLS on the data connections too (the lab's
        // rerun with the first line alone met `522 Data connections must be encrypted.`).
        Fix::AllowClearLogins { software: Software::Vsftpd } => {
            vec!["force_local_logins_ssl=NO".to_string(), "force_local_data_ssl=NO".to_string()]
        }
        Fix::UnlistUser { software: Software::Vsftpd, ref user } => {
            // The name comes from the capture: a line for root to type only when it is a plain
            // account name (no quote, slash or pattern character could ride along).
            let plain = !user.is_empty() && user.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            if plain {
                vec![format!("sed -i '/^{}$/d' /etc/vsftpd.user_list", user.replace('.', "\\."))]
            } else {
                Vec::new()
            }
        }
        Fix::RaiseConnectionLimit { software, per_address, at_least: Known::Seen(n) } => match (software, per_address) {
            (Software::Vsftpd, true) => vec![format!("max_per_ip={n}")],
            (Software::Vsftpd, false) => vec![format!("max_clients={n}")],
            (Software::ProFtpd, true) => vec![format!("MaxClientsPerHost {n}")],
            (Software::ProFtpd, false) => vec![format!("MaxClients {n}")],
            (Software::PureFtpd, true) => vec![format!("-C {n}")],
            (Software::PureFtpd, false) => vec![format!("-c {n}")],
            _ => Vec::new(),
        },
        // The server's line; the client's NAT (the other way) is not in the capture.
        Fix::SameNatAddress => vec!["pasv_promiscuous=YES".to_string()],
        _ => Vec::new(),
    }
}

/// The server software's lines for its passive range, and (`address`) for its external address.
fn server_lines(setup: ServerSetup, address: bool) -> Vec<String> {
    let (public, range) = (Address(setup.public_address, PUBLIC), setup.passive_ports.value());
    let (lo, hi) = match range {
        Some(r) => (r.lo.to_string(), r.hi.to_string()),
        None => ("<LO>".to_string(), "<HI>".to_string()),
    };
    // Each software's (address line, range lines).
    let (set_address, set_range) = match setup.software {
        Software::Vsftpd => (format!("pasv_address={public}"), vec![format!("pasv_min_port={lo}"), format!("pasv_max_port={hi}")]),
        Software::ProFtpd => (format!("MasqueradeAddress {public}"), vec![format!("PassivePorts {lo} {hi}")]),
        // One command line: the options go together.
        Software::PureFtpd if address => return vec![format!("-P {public} -p {lo}:{hi}")],
        Software::PureFtpd => (String::new(), vec![format!("-p {lo}:{hi}")]),
        Software::Pyftpdlib => {
            let end = range.map_or("<HI + 1>".to_string(), |r| (u32::from(r.hi) + 1).to_string());
            (format!("handler.masquerade_address = '{public}'"), vec![format!("handler.passive_ports = range({lo}, {end})")])
        }
        Software::FileZilla => (format!("Use the following IP: {public}"), vec![format!("Use custom port range: {lo} - {hi}")]),
        Software::Iis => {
            let range = format!(
                "appcmd set config -section:system.ftpServer/firewallSupport /lowDataChannelPort:{lo} /highDataChannelPort:{hi} \
                 /commit:apphost"
            );
            let external = format!(
                "appcmd set config -section:system.applicationHost/sites \
                 /[name='<FTP site name>'].ftpServer.firewallSupport.externalIp4Address:{public} /commit:apphost"
            );
            // appcmd's order: the range first.
            return if address { vec![range, external] } else { vec![range] };
        }
        Software::Unknown => return Vec::new(),
    };
    if address {
        std::iter::once(set_address).chain(set_range).collect()
    } else {
        set_range
    }
}

/// What a forwarding or allowing fix opens: the control port unless it crossed already, and
/// the passive range's ports that did not cross.
struct Opening<'a> {
    setup: ServerSetup,
    crossed: &'a Crossed,
}

impl Opening<'_> {
    fn control(&self) -> Option<u16> {
        (!self.crossed.control_port).then_some(self.setup.control_port)
    }

    /// The passive ports to open, as runs written with `sep` (`LO-HI`, `LO:HI`); the range's
    /// placeholder when it is not known.
    fn passive(&self, sep: char) -> Vec<String> {
        match self.setup.passive_ports.value() {
            Some(r) => self.crossed.rest_of(r).into_iter().map(|run| Span(Known::Seen(run), sep).to_string()).collect(),
            None => vec![Span(self.setup.passive_ports, sep).to_string()],
        }
    }

    /// The control port (when open) and the passive runs.
    fn items(&self, sep: char) -> Vec<String> {
        self.control().map(|cp| cp.to_string()).into_iter().chain(self.passive(sep)).collect()
    }

    /// "the control port 21 and the passive ports 40000-40009" (those to open).
    fn words(&self) -> String {
        let range = Span(self.setup.passive_ports, '-');
        let mut w = String::new();
        if let Some(cp) = self.control() {
            w.push_str(&format!("the control port {cp} and "));
        }
        if self.crossed.passive_ports.is_empty() {
            w.push_str(&format!("the passive ports {range}"));
        } else {
            w.push_str(&format!("the passive ports {} of the range {range}", self.passive('-').join(", ")));
        }
        w
    }

    /// What the fix leaves out because the capture shows it crossing already: a sentence, or
    /// nothing.
    fn left_out(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut already: Vec<String> = Vec::new();
        if self.crossed.control_port {
            already.push(format!("the control port {}", self.setup.control_port));
        }
        if !self.crossed.passive_ports.is_empty() {
            let ports: Vec<String> = self.crossed.passive_ports.iter().map(u16::to_string).collect();
            already.push(format!("the passive port(s) {}", ports.join(", ")));
        }
        if already.is_empty() {
            return Ok(());
        }
        write!(f, " Left out: {}, which the capture shows crossing already.", already.join(" and "))
    }

    /// Routers that forward single ports only: how many rules, and which ports when few.
    fn one_rule_per_port(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(r) = self.setup.passive_ports.value() else { return Ok(()) };
        let runs = self.crossed.rest_of(r);
        let control = self.control().filter(|&cp| !runs.iter().any(|run| run.contains(cp)));
        let rules = runs.iter().map(|run| run.ports()).sum::<u32>() + u32::from(control.is_some());
        write!(f, " A router that forwards single ports only needs {rules} rules")?;
        if rules <= 12 {
            let ports = control.into_iter().chain(runs.iter().flat_map(|run| run.lo..=run.hi));
            f.write_str(":")?;
            for (i, port) in ports.enumerate() {
                write!(f, "{}{port}", if i == 0 { " " } else { ", " })?;
            }
        }
        f.write_str(".")
    }
}

/// iptables multiport lists (at most 15 ports each, a range counting as two), joined by commas.
fn multiport(items: &[String]) -> Vec<String> {
    let mut lists: Vec<(Vec<&str>, usize)> = Vec::new();
    for item in items {
        let slots = if item.contains(':') { 2 } else { 1 };
        match lists.last_mut() {
            Some((list, used)) if *used + slots <= 15 => {
                list.push(item);
                *used += slots;
            }
            _ => lists.push((vec![item], slots)),
        }
    }
    lists.into_iter().map(|(list, _)| list.join(",")).collect()
}

/// The command for the address family of a rule's addresses (IPv4 when none is known).
fn iptables(address: Option<IpAddr>) -> &'static str {
    if address.is_some_and(|a| a.is_ipv6()) {
        "ip6tables"
    } else {
        "iptables"
    }
}

/// What stands for a public address or a LAN address the capture does not show.
const PUBLIC: &str = "<public IP>";
const LAN: &str = "<server LAN IP>";
/// An address the fix needs, or the placeholder the operator fills in.
struct Address(Known<IpAddr>, &'static str);
/// A port range with its separator (`LO-HI` as people write it, `LO:HI` as iptables does), or
/// its placeholder; one port alone.
struct Span(Known<PortRange>, char);

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.value() {
            Some(a) => Ip(a).fmt(f),
            None => f.write_str(self.1),
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = self.1;
        match self.0.value() {
            Some(r) if r.lo == r.hi => write!(f, "{}", r.lo),
            Some(r) => write!(f, "{}{sep}{}", r.lo, r.hi),
            None if self.0 == Known::InServerBlock => {
                f.write_str("of the server's range (see the server's fix block, from the whole capture)")
            }
            None => write!(f, "<LO>{sep}<HI>"),
        }
    }
}

/// Where the values that the capture does not show must come from, and what a range read off
/// the capture means.
struct Notes {
    public: Option<Known<IpAddr>>,
    lan: Option<Known<IpAddr>>,
    range: Option<Known<PortRange>>,
}

impl Notes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.public == Some(Known::Unknown) {
            f.write_str(" <public IP> is not in this capture: the address clients connect to (the router's WAN address; --public-ip).")?;
        }
        if self.lan == Some(Known::Unknown) {
            f.write_str(" <server LAN IP> is not in this capture: the server's own address behind the router.")?;
        }
        match self.range {
            Some(Known::Seen(_)) => f.write_str(
                " The range is the ports this capture saw the server use: keep it the same on the server and the router \
                 (--pasv-range gives the one you intended).",
            ),
            Some(Known::Suggested(_)) => write!(
                f,
                " The range is yours to choose (--pasv-range gives the one you intend): this one is a suggestion that covers every \
                 passive port the capture saw for this server, with room for simultaneous transfers (at least {} ports, one per \
                 transfer). Keep it the same on the server and the router.",
                crate::diagnose::servers::MIN_SUGGESTED_PORTS
            ),
            Some(Known::Unknown) => {
                f.write_str(" Choose <LO>-<HI> (one port per simultaneous transfer), the same on the server and the router.")
            }
            _ => Ok(()),
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
    static WRITTEN: std::cell::RefCell<crate::AddrMap<Fix, std::rc::Rc<OwnedLazyValue>>> = Default::default();
}

/// The fix as JSON, from the store or written now; None if it cannot be (it always can).
fn written(fix: &Fix) -> Option<std::rc::Rc<OwnedLazyValue>> {
    WRITTEN.with(|kept| {
        let mut kept = kept.borrow_mut();
        if let Some(json) = kept.get(fix) {
            return Some(json.clone());
        }
        // Kept as raw JSON text, which sonic-rs's writer copies out as it is (see
        // crate::report::write_json: every report is written through it).
        let text = sonic_rs::to_string(&WithText::of(fix)).ok()?;
        let json: std::rc::Rc<OwnedLazyValue> = sonic_rs::from_str::<OwnedLazyValue>(&text).ok()?.into();
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
    /// The exact lines to type (empty when the advice has none).
    apply: Vec<String>,
}

impl WithText<'_> {
    fn of(fix: &Fix) -> WithText<'_> {
        WithText { fix, text: Rendered(fix), apply: apply(fix) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_carries_its_values_and_its_words() {
        let fix = Fix::ClientRouterHelper { control_port: 2121 };
        let v: serde_json::Value = serde_json::from_str(&sonic_rs::to_string(&WithFixes { fix: vec![fix] }).unwrap()).unwrap();
        assert_eq!(v["fix"][0]["action"], "client_router_helper");
        assert_eq!(v["fix"][0]["control_port"], 2121);
        assert!(v["fix"][0]["apply"][0].as_str().unwrap().contains("--dport 2121 -j CT --helper ftp"));
    }

    #[test]
    fn data_from_another_nat_address_prints_vsftpds_setting_and_no_router_line() {
        // The capture shows neither the client NAT's addresses nor its rules: vsftpd's line only.
        assert_eq!(apply(&Fix::SameNatAddress), ["pasv_promiscuous=YES"]);
        assert!(Fix::SameNatAddress.to_string().contains("one address"));
    }

    #[test]
    fn the_helper_note_names_its_port_in_words_and_line() {
        let fix = Fix::AttachHelper { control_port: 2121 };
        assert!(fix.to_string().contains("port 2121"));
        assert_eq!(apply(&fix), ["iptables -t raw -A PREROUTING -p tcp --dport 2121 -j CT --helper ftp"]);
    }

    #[derive(Serialize)]
    struct WithFixes {
        #[serde(serialize_with = "serialize_fixes")]
        fix: Vec<Fix>,
    }
}
