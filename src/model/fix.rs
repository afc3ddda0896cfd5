//! Fixes as values: what to change, with the parameters the capture showed (addresses, ports,
//! the server software). Diagnosis chooses them; outputs render them (report::fix), so the
//! wording lives in one place and a later stage can fill in more values.

use super::Software;
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Fix {
    /// The server's public address, as the client reached it: announce it in passive replies.
    AnnouncePublicAddress { address: IpAddr },
    /// The server's settings for its external address and a fixed passive port range.
    ServerPassiveSettings { software: Software },
    /// On the server's NAT router: forward the control port and the passive range to the server.
    ForwardPassiveRange { server: IpAddr },
    /// On the server's router or firewall: forward and allow the passive range, which must hold `port`.
    AllowPassiveRange { port: u16 },
    /// Under TLS no helper opens the passive port per transfer: forward and allow the range.
    ForwardRangeUnderTls,
    /// A NAT helper cannot read PASV/PORT inside TLS: external address, fixed range, forwarded.
    HelperBlindUnderTls,
    /// The advertised public address differs from the control connection's: check it and the forwarding.
    CheckExternalAddress { advertised: SocketAddr, server: IpAddr },
    /// Passive mode on the client: it then opens every data connection itself.
    UsePassiveMode,
    /// The FTP helper on the client's NAT router, for clear-text FTP on this control port.
    ClientRouterHelper { control_port: u16 },
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
    PrepareForTls { mode: super::Mode },
}
