//! The intended setup on the command line (`--public-ip`, `--pasv-range`, `--control-port`):
//! what the operator meant to configure. Diagnosis reports where the capture differs and fills
//! the fixes with these values where the capture is silent. With them, the one rule an operator
//! tunes to their site: how many failed logins read as password guessing.

use clap::Args;
use ftpscope::diagnose::guessing::Rule;
use ftpscope::model::{Intent, PortRange};
use std::net::IpAddr;

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "The intended setup")]
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
    /// Password guessing: this many failed logins from one address within so many minutes
    /// (Zeek's default, 20/15).
    #[arg(long, value_name = "N/MINUTES", value_parser = parse_rule, default_value = "20/15")]
    pub guessing_threshold: Rule,
}

impl IntentArgs {
    pub fn intent(&self) -> Intent {
        Intent { public_ip: self.public_ip, pasv_range: self.pasv_range, control_port: self.control_port }
    }
}

fn parse_rule(s: &str) -> Result<Rule, String> {
    let (n, minutes) = s.split_once('/').ok_or_else(|| format!("{s:?}: expected N/MINUTES, e.g. 20/15"))?;
    let threshold: u32 = n.trim().parse().map_err(|_| format!("{n:?} is not a count"))?;
    let window_minutes: u32 = minutes.trim().parse().map_err(|_| format!("{minutes:?} is not a number of minutes"))?;
    // Each address keeps up to N times while it is watched: a bound keeps that small.
    if !(2..=10_000).contains(&threshold) || !(1..=1440).contains(&window_minutes) {
        return Err(format!("{s:?}: expected 2 <= N <= 10000 failed logins within 1 to 1440 minutes"));
    }
    Ok(Rule { threshold, window_minutes })
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

    #[test]
    fn the_guessing_rule_reads_as_zeek_states_it() {
        assert_eq!(parse_rule("20/15"), Ok(Rule { threshold: 20, window_minutes: 15 }));
        assert_eq!(parse_rule("5 / 1"), Ok(Rule { threshold: 5, window_minutes: 1 }));
        assert!(parse_rule("20").is_err());
        assert!(parse_rule("1/15").is_err(), "one failure is no guessing");
        assert!(parse_rule("20/0").is_err());
        assert!(parse_rule("99999/15").is_err());
    }
}
