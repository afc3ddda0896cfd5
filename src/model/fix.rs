//! Fixes as values: what to change, with every value filled in from the capture or from what
//! the operator said they intended (`--public-ip`, `--pasv-range`), or marked as one the
//! operator must supply. Diagnosis chooses them; outputs render them (report::fix), so the
//! wording and the exact lines to type live in one place.

use super::{Mode, Software};
use serde::{Serialize, Serializer};
use std::net::{IpAddr, SocketAddr};

/// A value a fix needs, and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Known<T> {
    /// Read off the capture.
    Seen(T),
    /// Given by the operator as the intended setup (`--public-ip`, `--pasv-range`).
    Intended(T),
    /// Not in the capture and not given: the operator must supply it.
    Unknown,
    /// The operator's choice, not seen in the capture: a value that covers what the capture
    /// saw (a passive range with room for simultaneous transfers), offered as a start.
    Suggested(T),
    /// Given once for the server from the whole capture, in its fix block at the end: a
    /// session alone does not prove it (a passive range seen in one session is too narrow).
    InServerBlock,
}

impl<T: Copy> Known<T> {
    pub fn value(&self) -> Option<T> {
        match *self {
            Known::Seen(v) | Known::Intended(v) | Known::Suggested(v) => Some(v),
            Known::Unknown | Known::InServerBlock => None,
        }
    }

    /// The intended value if there is one, else the seen one.
    pub fn or_seen(intended: Option<T>, seen: Option<T>) -> Known<T> {
        match (intended, seen) {
            (Some(v), _) => Known::Intended(v),
            (None, Some(v)) => Known::Seen(v),
            (None, None) => Known::Unknown,
        }
    }

    fn origin(&self) -> &'static str {
        match self {
            Known::Seen(_) => "capture",
            Known::Intended(_) => "intended",
            Known::Unknown => "operator",
            Known::Suggested(_) => "suggested",
            Known::InServerBlock => "server_block",
        }
    }
}

/// JSON: `{"value": ..., "from": "capture" | "intended" | "operator" | "suggested" |
/// "server_block"}` (`value` null for operator and server_block).
impl<T: Copy + Serialize> Serialize for Known<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Known", 2)?;
        st.serialize_field("value", &self.value())?;
        st.serialize_field("from", self.origin())?;
        st.end()
    }
}

/// An inclusive range of TCP ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct PortRange {
    pub lo: u16,
    pub hi: u16,
}

impl PortRange {
    pub fn contains(self, port: u16) -> bool {
        (self.lo..=self.hi).contains(&port)
    }
    /// The range widened to hold `port`.
    pub fn with(self, port: u16) -> PortRange {
        PortRange { lo: self.lo.min(port), hi: self.hi.max(port) }
    }
    /// How many ports it holds.
    pub fn ports(self) -> u32 {
        // u16 bounds in a u32: neither step can saturate.
        u32::from(self.hi).saturating_sub(u32::from(self.lo)).saturating_add(1)
    }
}

/// What the fixes know of the server's setup: its software, public and LAN addresses, control
/// port and passive range, each from the capture, the operator's intent, or to be supplied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ServerSetup {
    pub software: Software,
    /// The address clients reach the server at (the router's WAN address behind NAT).
    #[serde(serialize_with = "known_ip")]
    pub public_address: Known<IpAddr>,
    /// The server's own address on its LAN, behind NAT.
    #[serde(serialize_with = "known_ip")]
    pub lan_address: Known<IpAddr>,
    pub control_port: u16,
    /// The passive port range: intended; in a server's fix block, suggested from the ports the
    /// whole capture saw; in a session's fixes, the server block's.
    pub passive_ports: Known<PortRange>,
}

fn known_ip<S: Serializer>(k: &Known<IpAddr>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut st = s.serialize_struct("Known", 2)?;
    st.serialize_field("value", &k.value().map(crate::model::notation::Ip))?;
    st.serialize_field("from", k.origin())?;
    st.end()
}

/// What the capture shows already crossing to the server: a forwarding fix leaves these out
/// (a server's fix block; a session's fixes leave it empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Crossed {
    /// Some control connection was established.
    pub control_port: bool,
    /// Passive ports whose data connection was established, sorted.
    pub passive_ports: Vec<u16>,
}

impl Crossed {
    pub fn is_empty(&self) -> bool {
        !self.control_port && self.passive_ports.is_empty()
    }

    /// The parts of `range` still to open: its ports that did not cross, as runs.
    pub fn rest_of(&self, range: PortRange) -> Vec<PortRange> {
        let mut rest: Vec<PortRange> = Vec::new();
        let mut lo = u32::from(range.lo);
        for &p in self.passive_ports.iter().filter(|&&p| range.contains(p)) {
            if u32::from(p) > lo {
                rest.push(PortRange { lo: lo as u16, hi: p.saturating_sub(1) });
            }
            lo = u32::from(p).saturating_add(1);
        }
        if lo <= u32::from(range.hi) {
            rest.push(PortRange { lo: lo as u16, hi: range.hi });
        }
        rest
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Fix {
    /// The server's settings for its external address and a fixed passive port range.
    ServerPassiveSettings { setup: ServerSetup },
    /// The server's settings for a fixed passive port range alone: its passive replies already
    /// name its public address.
    ServerPassiveRange { setup: ServerSetup },
    /// On the server's NAT router: forward the control port and the passive range to the
    /// server, save what already crosses.
    ForwardPassiveRange {
        setup: ServerSetup,
        #[serde(skip_serializing_if = "Crossed::is_empty")]
        crossed: Crossed,
    },
    /// On a firewall in front of a server with a public address (or on the server): let the
    /// control port and the passive range in, save what already crosses.
    AllowPassiveRange {
        setup: ServerSetup,
        #[serde(skip_serializing_if = "Crossed::is_empty")]
        crossed: Crossed,
    },
    /// A NAT helper cannot read PASV/PORT inside TLS: external address, fixed range, forwarded.
    HelperBlindUnderTls,
    /// The same under RFC 2228's GSSAPI protection.
    HelperBlindUnderGssapi,
    /// The advertised public address differs from the control connection's: check it and the forwarding.
    CheckExternalAddress { advertised: SocketAddr, server: IpAddr },
    /// Passive mode on the client: it then opens every data connection itself.
    UsePassiveMode,
    /// The client used passive mode first and fell back to active when that failed (`session`'s
    /// data connection, SYN or reply in `frame`): fix passive mode on the server.
    FixPassiveFirst { session: u32, frame: u64 },
    /// The FTP helper on the client's NAT router, for clear-text FTP on this control port.
    ClientRouterHelper { control_port: u16 },
    /// Active mode to a client with a public address: let the server's connections through.
    AllowActiveData { server: IpAddr, source_port: Option<u16>, client: IpAddr },
    /// Attach a Linux router's FTP helper to a non-standard control port.
    AttachHelper { control_port: u16 },
    /// Encrypt the session: explicit FTPS, or SFTP.
    RequireTls,
    /// The server software's settings to require TLS.
    ServerRequireTls { software: Software },
    /// Servers should refuse PORT/EPRT to a third host (the defaults do).
    RefuseForeignAddress,
    /// The server's anti-bounce check refused a foreign PORT: keep it, fix the client.
    KeepAntiBounce { software: Software },
    /// vsftpd pasv_promiscuous: data and control from one NAT address.
    SameNatAddress,
    /// Works now through a NAT helper; prepare before enabling TLS.
    PrepareForTls { mode: Mode },
    /// The control connection should use the intended control port.
    UseControlPort { intended: u16, seen: u16 },
    /// A control connection never opened: the server running, listening on that port, and the
    /// port let through (and forwarded) on the way.
    ReachControlPort { server: SocketAddr },
    /// Data connections were captured without their control channel: capture the control port
    /// too (the FTP server's address, whose control port is unknown when none was captured).
    CaptureControlPort { server: IpAddr },
    /// A login refused for its user name or password: nothing on the server to change.
    CheckCredentials { user: Option<String> },
    /// The server allows anonymous logins only: allow local users (vsftpd `local_enable=YES`).
    AllowLocalLogins { software: Software },
    /// The user is on the server's deny list (vsftpd's userlist): take it off.
    UnlistUser { software: Software, user: String },
    /// Anonymous logins refused: allow them, if that is intended.
    AllowAnonymous { software: Software },
    /// Commands out of order: the client logs in (USER, then PASS) before anything else.
    LoginFirst,
    /// vsftpd refuses a chroot the user can write: allow it (or make the root unwritable).
    AllowWritableChroot { software: Software },
    /// The server's connection limit refused the session: raise it to at least the sessions the
    /// capture shows open at once (per address, or in all), from the server's block.
    RaiseConnectionLimit { software: Software, per_address: bool, at_least: Known<u32> },
    /// The server requires TLS: the client connects with explicit FTPS (AUTH TLS).
    ClientExplicitTls,
    /// Or, knowingly, the server accepts clear-text logins again.
    AllowClearLogins { software: Software },
}

impl Fix {
    /// Forward the control port and the whole passive range (nothing known to cross yet).
    pub fn forward(setup: ServerSetup) -> Fix {
        Fix::ForwardPassiveRange { setup, crossed: Crossed::default() }
    }

    /// Let the control port and the whole passive range in (nothing known to cross yet).
    pub fn allow(setup: ServerSetup) -> Fix {
        Fix::AllowPassiveRange { setup, crossed: Crossed::default() }
    }

    /// A session's passive fix whose range (and so its lines to type) is its server's block's.
    pub fn in_server_block(&self) -> bool {
        self.setup().is_some_and(|s| s.passive_ports == Known::InServerBlock)
    }

    /// The server's setup a passive fix is written for.
    pub fn setup(&self) -> Option<&ServerSetup> {
        match self {
            Fix::ServerPassiveSettings { setup }
            | Fix::ServerPassiveRange { setup }
            | Fix::ForwardPassiveRange { setup, .. }
            | Fix::AllowPassiveRange { setup, .. } => Some(setup),
            _ => None,
        }
    }
}
