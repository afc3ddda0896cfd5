//! The intended setup on the command line (`--public-ip`, `--pasv-range`, `--control-port`):
//! what the operator meant to configure. Diagnosis reports where the capture differs and fills
//! the fixes with these values where the capture is silent.

use clap::Args;
use ftpscope::model::{Intent, PortRange};
use std::net::IpAddr;

#[derive(Args, Debug, Clone, Default)]
pub struct IntentArgs {
    /// The address clients should reach the server at (announced in passive replies).
    #[arg(long, value_name = "ADDR")]
    pub public_ip: Option<IpAddr>,
    /// The passive port range the server should use and the router forward, e.g. 10000-10010.
    #[arg(long, value_name = "LO-HI", value_parser = parse_range)]
    pub pasv_range: Option<PortRange>,
    /// The control port clients should connect to.
    #[arg(long, value_name = "PORT")]
    pub control_port: Option<u16>,
}

impl IntentArgs {
    pub fn intent(&self) -> Intent {
        Intent { public_ip: self.public_ip, pasv_range: self.pasv_range, control_port: self.control_port }
    }
}

fn parse_range(s: &str) -> Result<PortRange, String> {
    let (lo, hi) = s.split_once(['-', ':']).ok_or_else(|| format!("{s:?}: expected LO-HI, e.g. 10000-10010"))?;
    let port = |p: &str| p.trim().parse::<u16>().map_err(|_| format!("{p:?} is not a port (1-65535)"));
    let (lo, hi) = (port(lo)?, port(hi)?);
    if lo == 0 || lo > hi {
        return Err(format!("{s:?}: expected LO-HI with 1 <= LO <= HI"));
    }
    Ok(PortRange { lo, hi })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_read_as_operators_write_them() {
        assert_eq!(parse_range("10000-10010"), Ok(PortRange { lo: 10000, hi: 10010 }));
        assert_eq!(parse_range("40000:40009"), Ok(PortRange { lo: 40000, hi: 40009 }));
        assert!(parse_range("10010-10000").is_err());
        assert!(parse_range("0-10").is_err());
        assert!(parse_range("10000").is_err());
        assert!(parse_range("1-70000").is_err());
    }
}
