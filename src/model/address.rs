//! Address classes: can an advertised data-channel address be reached from elsewhere?
//!
//! Owns the list of address ranges from DOMAIN.md. The documentation ranges (192.0.2/24,
//! 198.51.100/24, 203.0.113/24, 2001:db8::/32) count as public, as they stand in for public
//! addresses in every lab and example.

use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why (or whether) an address is reachable from another network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressClass {
    Public,
    /// RFC 1918 (10/8, 172.16/12, 192.168/16).
    Private,
    /// RFC 6598 100.64/10: carrier-grade NAT.
    CarrierGradeNat,
    Loopback,
    LinkLocal,
    /// 0.0.0.0 or :: (a server that advertised "any").
    Unspecified,
    /// IPv6 fc00::/7.
    UniqueLocal,
}

impl AddressClass {
    /// True when a peer on another network cannot reach this address.
    pub fn is_unreachable_from_elsewhere(self) -> bool {
        self != AddressClass::Public
    }

    /// Plain words for reports.
    pub fn describe(self) -> &'static str {
        match self {
            AddressClass::Public => "a public address",
            AddressClass::Private => "a private (RFC 1918) address",
            AddressClass::CarrierGradeNat => "a carrier-grade NAT (100.64.0.0/10) address",
            AddressClass::Loopback => "a loopback address",
            AddressClass::LinkLocal => "a link-local address",
            AddressClass::Unspecified => "the unspecified address (any)",
            AddressClass::UniqueLocal => "an IPv6 unique-local address",
        }
    }
}

pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, ..] = ip.octets();
    match (a, b) {
        (0, _) if ip.is_unspecified() => AddressClass::Unspecified,
        (10, _) => AddressClass::Private,
        (172, 16..=31) => AddressClass::Private,
        (192, 168) => AddressClass::Private,
        (100, 64..=127) => AddressClass::CarrierGradeNat,
        (127, _) => AddressClass::Loopback,
        (169, 254) => AddressClass::LinkLocal,
        _ => AddressClass::Public,
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    // IPv4-mapped (::ffff:a.b.c.d) inherits the IPv4 class.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let first = ip.segments()[0];
    if ip.is_unspecified() {
        AddressClass::Unspecified
    } else if ip.is_loopback() {
        AddressClass::Loopback
    } else if first & 0xffc0 == 0xfe80 {
        AddressClass::LinkLocal
    } else if first & 0xfe00 == 0xfc00 {
        AddressClass::UniqueLocal
    } else {
        AddressClass::Public
    }
}

/// "ip:port", IPv6 as "[addr]:port": the notation used in every output.
pub fn fmt_endpoint(ip: IpAddr, port: u16) -> String {
    std::net::SocketAddr::new(ip, port).to_string()
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn class(s: &str) -> AddressClass {
        classify(s.parse().unwrap())
    }

    #[test]
    fn ipv4_ranges() {
        assert_eq!(class("10.0.0.20"), AddressClass::Private);
        assert_eq!(class("172.16.0.1"), AddressClass::Private);
        assert_eq!(class("172.31.255.255"), AddressClass::Private);
        assert_eq!(class("172.32.0.1"), AddressClass::Public);
        assert_eq!(class("192.168.1.10"), AddressClass::Private);
        assert_eq!(class("100.64.0.1"), AddressClass::CarrierGradeNat);
        assert_eq!(class("100.127.255.255"), AddressClass::CarrierGradeNat);
        assert_eq!(class("100.128.0.1"), AddressClass::Public);
        assert_eq!(class("127.0.0.1"), AddressClass::Loopback);
        assert_eq!(class("169.254.3.4"), AddressClass::LinkLocal);
        assert_eq!(class("0.0.0.0"), AddressClass::Unspecified);
        assert_eq!(class("0.1.2.3"), AddressClass::Public);
    }

    #[test]
    fn documentation_ranges_count_as_public() {
        for a in ["192.0.2.1", "198.51.100.7", "203.0.113.9", "2001:db8::21"] {
            assert_eq!(class(a), AddressClass::Public, "{a}");
        }
    }

    #[test]
    fn ipv6_ranges() {
        assert_eq!(class("::"), AddressClass::Unspecified);
        assert_eq!(class("::1"), AddressClass::Loopback);
        assert_eq!(class("fe80::1"), AddressClass::LinkLocal);
        assert_eq!(class("febf::1"), AddressClass::LinkLocal);
        assert_eq!(class("fc00::1"), AddressClass::UniqueLocal);
        assert_eq!(class("fd12:3456::1"), AddressClass::UniqueLocal);
        assert_eq!(class("2001:470:4867:99::21"), AddressClass::Public);
        assert_eq!(class("::ffff:192.168.1.2"), AddressClass::Private);
        assert_eq!(class("::ffff:127.0.0.1"), AddressClass::Loopback);
        assert_eq!(class("::ffff:203.0.113.5"), AddressClass::Public);
    }

    #[test]
    fn endpoint_notation() {
        assert_eq!(fmt_endpoint("10.0.0.1".parse().unwrap(), 21), "10.0.0.1:21");
        assert_eq!(fmt_endpoint("2001:db8::1".parse().unwrap(), 21), "[2001:db8::1]:21");
    }
}
