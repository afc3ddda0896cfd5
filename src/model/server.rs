//! A server as the whole capture shows it: its sessions, software and addresses, whether its
//! control port and which of its passive ports crossed to it, the causes its sessions were found
//! to have, and its one fix block. Sessions are told one by one as they settle; a server's
//! picture sums them up, so that a range forwarded in part shows across sessions ("40000
//! crosses; 40006 and 40008 never do") and the fixes name one range for the server.
//!
//! Owns the values only: diagnose::servers builds them, report renders them. Bounded: a port
//! set lists at most [`MAX_PORTS`] ports and counts the rest (its span still covers them).

use super::{FindingKind, Fix, OpenAlong, PortRange, Severity, Software, Transfers};
use std::net::IpAddr;

/// Ports a [`PortSet`] lists; past it they are counted (and still widen its span).
pub const MAX_PORTS: usize = 256;

/// A bounded set of TCP ports, sorted: which ports, how many were left out, and the span of
/// all of them (those left out too).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortSet {
    ports: Vec<u16>,
    left_out: u64,
    span: Option<PortRange>,
}

impl PortSet {
    /// Adds a port; true when the set changed.
    pub fn insert(&mut self, port: u16) -> bool {
        let Err(at) = self.ports.binary_search(&port) else { return false };
        let span = self.span.map_or(PortRange { lo: port, hi: port }, |s| s.with(port));
        let widened = self.span != Some(span);
        self.span = Some(span);
        if self.ports.len() < MAX_PORTS {
            self.ports.insert(at, port);
            true
        } else {
            self.left_out = self.left_out.saturating_add(1);
            widened
        }
    }

    pub fn contains(&self, port: u16) -> bool {
        self.ports.binary_search(&port).is_ok()
    }

    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    /// Sightings of ports not listed for want of room (past [`MAX_PORTS`]; one port left out
    /// counts each time it is seen: remembering it would cost what the bound saves).
    pub fn left_out(&self) -> u64 {
        self.left_out
    }

    /// From the lowest port to the highest, listed or not.
    pub fn span(&self) -> Option<PortRange> {
        self.span
    }

    /// The listed ports that `other` does not list.
    pub fn without(&self, other: &PortSet) -> PortSet {
        let mut out = PortSet::default();
        for &p in self.ports.iter().filter(|&&p| !other.contains(p)) {
            out.insert(p);
        }
        out
    }
}

/// How many of a server's sessions had a cause of one severity: a finding that is not the
/// consequence of another. Counted by cause, not by kind: one kind can name two causes (a 227
/// leaking the server's address, a PORT naming the client's are both `private_address_leak`,
/// and only the first is the server's to fix), and two kinds one cause (a malformed command and
/// a malformed reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CauseCount {
    pub cause: super::cause::Cause,
    pub severity: Severity,
    /// The kinds of the findings that named it, in order of first appearance.
    pub kinds: Vec<FindingKind>,
    pub sessions: u64,
}

/// The server-side fixes its sessions' findings named: the block gives each at most once,
/// with the whole capture's values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Named {
    pub server_settings: bool,
    pub forward: bool,
    pub allow: bool,
    /// A connection limit refused sessions: per client address, and in all.
    pub limit_per_address: bool,
    pub limit_total: bool,
}

/// One server, keyed by the address and port its control connections went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerPicture {
    /// The control connections' server address, as captured.
    pub address: IpAddr,
    pub control_port: u16,
    pub sessions: u64,
    /// The first software a banner named.
    pub software: Software,
    /// Its address on its LAN: its own address where captured inside, or one a passive reply
    /// named (a leak).
    pub lan_address: Option<IpAddr>,
    /// The address clients reach it at: its own where captured outside, or a public address
    /// a passive reply named.
    pub public_address: Option<IpAddr>,
    /// Some passive reply named an address out of clients' reach.
    pub leaked: bool,
    /// Some passive reply was read naming an address clients reach (its own, a public one, or
    /// none at all: EPSV): under TLS none is read.
    pub announced_reachable: bool,
    /// Some control connection to it was established (commands and replies went through).
    pub control_crossed: bool,
    /// Its sessions' transfers by verdict.
    pub transfers: Transfers,
    /// The passive ports its replies advertised.
    pub advertised: PortSet,
    /// Passive ports whose data connection was established in some session.
    pub crossed: PortSet,
    /// Passive ports a client dialled (at the server's reachable address) without the
    /// connection opening, or, captured at the server, that never arrived.
    pub tried: PortSet,
    /// Sessions per cause, in order of first appearance.
    pub causes: Vec<CauseCount>,
    pub named: Named,
    /// The most sessions seen open at once from one client address, and in all.
    pub peak_open: OpenAlong,
}

impl ServerPicture {
    pub fn new(address: IpAddr, control_port: u16) -> ServerPicture {
        ServerPicture {
            address,
            control_port,
            sessions: 0,
            software: Software::Unknown,
            lan_address: None,
            public_address: None,
            leaked: false,
            announced_reachable: false,
            control_crossed: false,
            transfers: Transfers::default(),
            advertised: PortSet::default(),
            crossed: PortSet::default(),
            tried: PortSet::default(),
            causes: Vec::new(),
            named: Named::default(),
            peak_open: OpenAlong::default(),
        }
    }

    /// The ports tried that crossed in no session.
    pub fn never(&self) -> PortSet {
        self.tried.without(&self.crossed)
    }

    /// Every passive port the capture saw for this server, advertised, crossed or tried: from
    /// the lowest to the highest.
    pub fn ports_seen(&self) -> Option<PortRange> {
        [&self.advertised, &self.crossed, &self.tried].into_iter().filter_map(PortSet::span).reduce(|a, b| a.with(b.lo).with(b.hi))
    }

    /// Sightings of ports left out of its lists (past the bound).
    pub fn ports_left_out(&self) -> u64 {
        self.advertised.left_out().saturating_add(self.crossed.left_out()).saturating_add(self.tried.left_out())
    }
}

/// A server's picture and its one fix block (empty: its sessions' findings name no change on
/// its side; the findings about the whole capture carry their own fixes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub picture: ServerPicture,
    pub fix: Vec<Fix>,
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_port_set_is_sorted_bounded_and_spans_what_it_left_out() {
        let mut s = PortSet::default();
        assert!(s.insert(40008));
        assert!(s.insert(40000));
        assert!(!s.insert(40000));
        assert_eq!(s.ports(), &[40000, 40008]);
        for p in 1..=MAX_PORTS as u16 {
            s.insert(p);
        }
        assert_eq!(s.ports().len(), MAX_PORTS);
        assert!(s.left_out() > 0);
        assert_eq!(s.span(), Some(PortRange { lo: 1, hi: 40008 }));
    }
}
