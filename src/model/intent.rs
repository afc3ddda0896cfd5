//! What the operator meant to configure (`--public-ip`, `--pasv-range`, `--control-port`):
//! diagnosis checks the capture against it, and the fixes use it where the capture is silent.

use super::fix::PortRange;
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Intent {
    /// The address clients should reach the server at, announced in passive replies.
    pub public_ip: Option<IpAddr>,
    /// The passive port range the server should use and the router forward.
    pub pasv_range: Option<PortRange>,
    /// The control port clients should connect to.
    pub control_port: Option<u16>,
}
