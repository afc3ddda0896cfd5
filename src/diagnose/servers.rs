//! The servers of a capture, each pictured from all its settled sessions (model::server), and
//! each server's one fix block from its picture and the operator's intent.
//!
//! Owns the summing up across sessions and the rules of the block: the range is never narrower
//! than every passive port the capture saw for the server (without `--pasv-range` a suggestion
//! of at least [`MIN_SUGGESTED_PORTS`] ports, said to be one); no step the capture shows in
//! place (a control port or passive port that crossed, a public address the replies already
//! name); one value per fact. Pure and bounded (at most [`MAX_SERVERS`] servers, their first
//! ones); must not word anything (report::server) nor look at packets.

use super::is_lan;
use crate::model::finding::Details;
use crate::model::server::{CauseCount, Named};
use crate::model::{
    classify, AddressClass, Crossed, FindingKind, Fix, Intent, Known, Mode, OpenAlong, Outcome, PortRange, Server, ServerPicture,
    ServerSetup, Session, Software, Transfers,
};
use crate::AddrMap;
use std::net::{IpAddr, SocketAddr};

/// Servers pictured; the sessions of servers past it are counted, not pictured.
pub const MAX_SERVERS: usize = 1024;
/// The fewest ports a suggested passive range holds: one per simultaneous transfer, with room
/// for a few clients at once.
pub const MIN_SUGGESTED_PORTS: u16 = 10;

/// Every server's picture so far, in the order they were first seen.
#[derive(Debug, Default)]
pub struct Servers {
    index: AddrMap<SocketAddr, usize>,
    pictures: Vec<ServerPicture>,
    /// Which pictures changed since [`Servers::take_changed`] last looked.
    changed: Vec<bool>,
    /// Sessions of servers past [`MAX_SERVERS`].
    sessions_left_out: u64,
}

impl Servers {
    /// Whether this session's server is (or can be) pictured: then its findings point to the
    /// server's fix block for what one session cannot prove.
    pub fn has_room_for(&self, s: &Session) -> bool {
        self.index.contains_key(&s.server) || self.pictures.len() < MAX_SERVERS
    }

    /// Adds a settled session, its findings made.
    pub fn see(&mut self, s: &Session) {
        let at = match self.index.get(&s.server) {
            Some(&i) => i,
            None if self.pictures.len() < MAX_SERVERS => {
                let at = self.pictures.len();
                self.index.insert(s.server, at);
                self.pictures.push(ServerPicture::new(s.server.ip(), s.server.port()));
                self.changed.push(false);
                at
            }
            None => {
                self.sessions_left_out = self.sessions_left_out.saturating_add(1);
                return;
            }
        };
        // `pictures` and `changed` grow together, and the index names their places.
        if let (Some(picture), Some(changed)) = (self.pictures.get_mut(at), self.changed.get_mut(at)) {
            add(picture, s);
            *changed = true;
        }
    }

    /// Each server with its fix block.
    pub fn all(&self, intent: Intent) -> Vec<Server> {
        self.pictures.iter().map(|p| server(p, intent)).collect()
    }

    /// The servers whose picture changed since the last call, with their fix blocks.
    pub fn take_changed(&mut self, intent: Intent) -> Vec<Server> {
        let changed = self.pictures.iter().zip(self.changed.iter_mut()).filter_map(|(p, c)| std::mem::take(c).then_some(p));
        changed.map(|p| server(p, intent)).collect()
    }

    pub fn sessions_left_out(&self) -> u64 {
        self.sessions_left_out
    }
}

/// One server seen at two capture points (the same control connections, paired): one picture
/// from both. `a` names it; what either point shows of its addresses, ports and causes counts
/// (a port crossed at either point crossed; a cause counts the sessions of the point that saw
/// it most, the same sessions being seen twice).
pub fn merge(a: &ServerPicture, b: &ServerPicture) -> ServerPicture {
    let mut m = a.clone();
    m.sessions = a.sessions.max(b.sessions);
    if m.software == Software::Unknown {
        m.software = b.software;
    }
    // B's own address is its LAN or its public address, as it is seen from where B stands.
    let b_lan = b.lan_address.or_else(|| is_lan(classify(b.address)).then_some(b.address));
    m.lan_address = m.lan_address.or(b_lan);
    m.public_address = m.public_address.or(b.public_address);
    m.leaked |= b.leaked;
    m.announced_reachable |= b.announced_reachable;
    m.control_crossed |= b.control_crossed;
    // The same transfers seen twice: the point that saw more of them tells them (a server's
    // own capture misses the connections that never reached it).
    if b.transfers.total > a.transfers.total {
        m.transfers = b.transfers;
    }
    for (into, from) in [(&mut m.advertised, &b.advertised), (&mut m.crossed, &b.crossed), (&mut m.tried, &b.tried)] {
        for &p in from.ports() {
            into.insert(p);
        }
    }
    for c in &b.causes {
        match m.causes.iter_mut().find(|x| (x.cause, x.severity) == (c.cause, c.severity)) {
            Some(x) => {
                x.sessions = x.sessions.max(c.sessions);
                add_kinds(&mut x.kinds, &c.kinds);
            }
            None => m.causes.push(c.clone()),
        }
    }
    m.named = Named {
        server_settings: a.named.server_settings || b.named.server_settings,
        forward: a.named.forward || b.named.forward,
        allow: a.named.allow || b.named.allow,
        limit_per_address: a.named.limit_per_address || b.named.limit_per_address,
        limit_total: a.named.limit_total || b.named.limit_total,
    };
    m.peak_open = OpenAlong {
        from_client: a.peak_open.from_client.max(b.peak_open.from_client),
        at_server: a.peak_open.at_server.max(b.peak_open.at_server),
    };
    m
}

/// The servers of two capture points as one list: each server of `a` merged with the servers
/// of `b` its control connections were paired with (`pairs`: a's and b's server endpoints of
/// one control connection); b's servers paired with none stand alone after them.
pub fn merge_points(a: &[Server], b: &[Server], pairs: impl Iterator<Item = (SocketAddr, SocketAddr)>, intent: Intent) -> Vec<Server> {
    let key = |s: &Server| SocketAddr::new(s.picture.address, s.picture.control_port);
    let mut merged: Vec<ServerPicture> = a.iter().map(|s| s.picture.clone()).collect();
    let mut used = vec![false; b.len()];
    let mut linked: Vec<(SocketAddr, SocketAddr)> = Vec::new();
    for pair in pairs {
        if !linked.contains(&pair) {
            linked.push(pair);
        }
    }
    for (at_a, at_b) in linked {
        let (Some(i), Some(j)) = (a.iter().position(|s| key(s) == at_a), b.iter().position(|s| key(s) == at_b)) else { continue };
        if let (Some(m), Some(other), Some(used)) = (merged.get_mut(i), b.get(j), used.get_mut(j)) {
            *m = merge(m, &other.picture);
            *used = true;
        }
    }
    let alone = b.iter().zip(&used).filter(|(_, &u)| !u).map(|(s, _)| s.picture.clone());
    merged.into_iter().chain(alone).map(|p| server(&p, intent)).collect()
}

/// A picture with its fix block.
pub fn server(p: &ServerPicture, intent: Intent) -> Server {
    Server { picture: p.clone(), fix: fix_block(p, intent) }
}

/// What one settled session adds to its server's picture.
fn add(p: &mut ServerPicture, s: &Session) {
    p.sessions = p.sessions.saturating_add(1);
    if p.software == Software::Unknown {
        p.software = s.software;
    }
    p.control_crossed |= super::control_crossed(s);
    let along = s.login.open_along;
    p.peak_open.from_client = p.peak_open.from_client.max(along.from_client);
    p.peak_open.at_server = p.peak_open.at_server.max(along.at_server);
    p.transfers.add_all(Transfers::of(s));
    let server = s.server.ip();
    match classify(server) {
        class if is_lan(class) => {
            p.lan_address.get_or_insert(server);
        }
        AddressClass::Public => {
            p.public_address.get_or_insert(server);
        }
        _ => {}
    }
    if let Some(lan) = super::lan_address_under_tls(s) {
        p.lan_address.get_or_insert(lan);
    }
    for n in s.negotiations.iter().filter(|n| n.mode == Mode::Passive) {
        if let Some(adv) = n.advertised {
            p.advertised.insert(adv.port());
            p.announced_reachable |= n.address_implied || adv.ip() == server || is_public(adv.ip());
            if !n.address_implied {
                match classify(adv.ip()) {
                    class if is_lan(class) && adv.ip() != server => {
                        p.lan_address.get_or_insert(adv.ip());
                    }
                    // Captured inside, a reply naming a public address names the server's.
                    AddressClass::Public if !is_public(server) => {
                        p.public_address.get_or_insert(adv.ip());
                    }
                    _ => {}
                }
            }
        }
        let tries = n
            .data
            .connection
            .iter()
            .map(|c| (c.server, n.data.outcome))
            .chain(n.data.earlier_attempts.iter().map(|c| (c.server, c.outcome)));
        for (to, outcome) in tries {
            note_try(p, server, to, outcome);
        }
    }
    for c in s.probable_data_channels.iter().filter(|c| c.client.ip() == s.client.ip()) {
        note_try(p, server, c.server, c.outcome);
        // Under TLS, a trusting client's try at the server's LAN address shows the port the
        // encrypted reply named.
        if c.server.ip() != server && is_lan(classify(c.server.ip())) {
            p.advertised.insert(c.server.port());
        }
    }
    for f in &s.findings {
        match &f.details {
            Details::Leak { side: "server", .. } => p.leaked = true,
            // Captured at the server, behind NAT: the connection never arrived.
            Details::NotSeen { advertised, at_server: true } => {
                p.tried.insert(advertised.port());
            }
            _ => {}
        }
        for fix in &f.fix {
            name(&mut p.named, fix);
        }
    }
    // Causes: a consequence (`caused_by`) is its cause's, not one more.
    // Counted by cause (problems/ names it from the finding's values): a session counts once
    // per cause and severity, whichever of its kinds named it.
    let mut own: Vec<CauseCount> = Vec::new();
    for f in s.findings.iter().filter(|f| f.caused_by.is_none()) {
        let cause = crate::problems::cause(f);
        match own.iter_mut().find(|c| (c.cause, c.severity) == (cause, f.severity)) {
            Some(c) => add_kinds(&mut c.kinds, &[f.kind]),
            None => own.push(CauseCount { cause, severity: f.severity, kinds: vec![f.kind], sessions: 1 }),
        }
    }
    for c in own {
        match p.causes.iter_mut().find(|x| (x.cause, x.severity) == (c.cause, c.severity)) {
            Some(x) => {
                x.sessions = x.sessions.saturating_add(1);
                add_kinds(&mut x.kinds, &c.kinds);
            }
            None => p.causes.push(c),
        }
    }
}

/// Adds to `into` the kinds of `from` it does not hold yet, keeping the order of first appearance.
fn add_kinds(into: &mut Vec<FindingKind>, from: &[FindingKind]) {
    for &k in from {
        if !into.contains(&k) {
            into.push(k);
        }
    }
}

/// A data connection to the server's reachable address (its control address, or a public one
/// a reply named) crossed or did not; one to an address out of reach (a leak trusted) tells
/// nothing of the server's ports.
fn note_try(p: &mut ServerPicture, server: IpAddr, to: SocketAddr, outcome: Outcome) {
    if to.ip() != server && !is_public(to.ip()) {
        return;
    }
    if outcome == Outcome::Established {
        p.crossed.insert(to.port());
    } else if outcome.is_failure() {
        p.tried.insert(to.port());
    }
}

/// The server-side fixes a finding named.
fn name(named: &mut Named, fix: &Fix) {
    match fix {
        Fix::ServerPassiveSettings { .. } | Fix::ServerPassiveRange { .. } => named.server_settings = true,
        Fix::ForwardPassiveRange { .. } => named.forward = true,
        Fix::AllowPassiveRange { .. } => named.allow = true,
        Fix::RaiseConnectionLimit { per_address: true, .. } => named.limit_per_address = true,
        Fix::RaiseConnectionLimit { per_address: false, .. } => named.limit_total = true,
        _ => {}
    }
}

fn is_public(ip: IpAddr) -> bool {
    classify(ip) == AddressClass::Public
}

/// The server's one fix block: the server-side fixes its sessions named, each once, with the
/// whole capture's values and the intent, leaving out what the capture shows in place.
pub fn fix_block(p: &ServerPicture, intent: Intent) -> Vec<Fix> {
    let passive_ports = match (intent.pasv_range, p.ports_seen()) {
        (Some(r), _) => Known::Intended(r),
        (None, Some(seen)) => Known::Suggested(suggested_range(seen)),
        (None, None) => Known::Unknown,
    };
    let setup = ServerSetup {
        software: p.software,
        public_address: Known::or_seen(intent.public_ip, p.public_address),
        lan_address: p.lan_address.map_or(Known::Unknown, Known::Seen),
        control_port: p.control_port,
        passive_ports,
    };
    let crossed = Crossed { control_port: p.control_crossed, passive_ports: p.crossed.ports().to_vec() };
    // Something left to open: the control port, or ports of the range that never crossed.
    let to_open = !crossed.control_port || passive_ports.value().is_none_or(|r| !crossed.rest_of(r).is_empty());
    let mut fix = Vec::new();
    if p.named.server_settings {
        // Replies read naming the public address need the range alone.
        let wrong_address =
            p.leaked || !p.announced_reachable || p.causes.iter().any(|c| c.kinds.contains(&FindingKind::UnexpectedPublicAddress));
        fix.push(if wrong_address { Fix::ServerPassiveSettings { setup } } else { Fix::ServerPassiveRange { setup } });
    }
    if p.named.forward && to_open {
        fix.push(Fix::ForwardPassiveRange { setup, crossed: crossed.clone() });
    }
    // With the LAN address known, the server is behind NAT: forwarding is the fix.
    if p.named.allow && setup.lan_address == Known::Unknown && to_open {
        fix.push(Fix::AllowPassiveRange { setup, crossed });
    }
    // A limit that refused sessions: at least as many as the capture saw open at once, so that
    // every one of them is let in.
    for (named, per_address, peak) in
        [(p.named.limit_per_address, true, p.peak_open.from_client), (p.named.limit_total, false, p.peak_open.at_server)]
    {
        if named {
            fix.push(Fix::RaiseConnectionLimit { software: p.software, per_address, at_least: Known::Seen(peak.max(2)) });
        }
    }
    fix
}

/// A passive range for the operator to start from: every port seen, and at least
/// [`MIN_SUGGESTED_PORTS`] ports (upwards from the lowest seen, or below the top of the port
/// space).
pub fn suggested_range(seen: PortRange) -> PortRange {
    let min = u32::from(MIN_SUGGESTED_PORTS);
    if seen.ports() >= min {
        return seen;
    }
    // u16 values in u32: nothing saturates; `hi` is at least `min - 1`.
    let hi = u32::from(seen.lo).saturating_add(min).saturating_sub(1).min(u32::from(u16::MAX));
    PortRange { lo: seen.lo.min(hi.saturating_add(1).saturating_sub(min) as u16), hi: hi as u16 }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::server::PortSet;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn ports(list: &[u16]) -> PortSet {
        let mut set = PortSet::default();
        for &p in list {
            set.insert(p);
        }
        set
    }

    /// The server: pyftpdlib behind NAT leaking 10.0.0.20, seen from outside, its
    /// sessions named the leak's and the failures' fixes.
    fn leaking(crossed: &[u16], tried: &[u16], advertised: &[u16]) -> ServerPicture {
        let mut p = ServerPicture::new(ip("198.51.100.2"), 21);
        p.sessions = 9;
        p.software = Software::Pyftpdlib;
        p.public_address = Some(ip("198.51.100.2"));
        p.lan_address = Some(ip("10.0.0.20"));
        p.leaked = true;
        p.control_crossed = true;
        p.advertised = ports(advertised);
        p.crossed = ports(crossed);
        p.tried = ports(tried);
        p.named = Named { server_settings: true, forward: true, ..Named::default() };
        p
    }

    fn range(fix: &Fix) -> Known<PortRange> {
        fix.setup().unwrap_or_else(|| panic!("{fix:?} has no range")).passive_ports
    }

    #[test]
    fn the_range_is_never_narrower_than_every_port_seen() {
        let p = leaking(&[40000], &[40006, 40008], &[40000, 40001, 40006, 40008]);
        let block = fix_block(&p, Intent::default());
        assert_eq!(block.len(), 2);
        for f in &block {
            assert_eq!(range(f), Known::Suggested(PortRange { lo: 40000, hi: 40009 }), "{f:?}");
        }
        // Wider than the minimum: exactly what was seen.
        let p = leaking(&[40000], &[40017], &[40000, 40017]);
        assert_eq!(range(&fix_block(&p, Intent::default())[0]), Known::Suggested(PortRange { lo: 40000, hi: 40017 }));
    }

    #[test]
    fn one_port_seen_is_suggested_with_room_never_alone() {
        assert_eq!(suggested_range(PortRange { lo: 40002, hi: 40002 }), PortRange { lo: 40002, hi: 40011 });
        assert_eq!(suggested_range(PortRange { lo: 65533, hi: 65534 }), PortRange { lo: 65526, hi: 65535 });
        let p = leaking(&[40002], &[], &[40002]);
        for f in fix_block(&p, Intent::default()) {
            let r = range(&f).value().unwrap();
            assert!(r.ports() >= u32::from(MIN_SUGGESTED_PORTS) && r.contains(40002), "{f:?}");
        }
        // The operator's range is theirs, even of one port.
        let one = PortRange { lo: 40002, hi: 40002 };
        let intent = Intent { pasv_range: Some(one), ..Intent::default() };
        assert!(fix_block(&p, intent).iter().all(|f| range(f) == Known::Intended(one)));
    }

    #[test]
    fn what_already_crosses_is_not_opened_again() {
        // The workaround: 21 and 40002 crossed. Forward the rest of the range, not them.
        let p = leaking(&[40002], &[], &[40002]);
        let block = fix_block(&p, Intent::default());
        let Some(Fix::ForwardPassiveRange { crossed, setup }) = block.get(1) else { panic!("{block:?}") };
        assert!(crossed.control_port);
        assert_eq!(crossed.passive_ports, [40002]);
        let r = setup.passive_ports.value().unwrap();
        assert!(!crossed.rest_of(r).iter().any(|rest| rest.contains(40002)));
        // Everything of an intended range crossed: nothing to forward, the leak still to fix.
        let intent = Intent { pasv_range: Some(PortRange { lo: 40002, hi: 40003 }), ..Intent::default() };
        let p = leaking(&[40002, 40003], &[], &[40002, 40003]);
        let block = fix_block(&p, intent);
        assert!(matches!(block[..], [Fix::ServerPassiveSettings { .. }]), "{block:?}");
    }

    #[test]
    fn replies_that_name_the_public_address_need_the_range_alone() {
        let mut p = leaking(&[40000, 40002, 40004], &[40005, 40007, 40009], &[40000, 40002, 40004, 40005, 40007, 40009]);
        p.leaked = false;
        p.announced_reachable = true;
        p.lan_address = None;
        p.named.allow = true;
        let block = fix_block(&p, Intent::default());
        assert!(
            matches!(block[..], [Fix::ServerPassiveRange { .. }, Fix::ForwardPassiveRange { .. }, Fix::AllowPassiveRange { .. }]),
            "{block:?}"
        );
        // Under TLS no reply is read: the address is not known to be announced.
        p.announced_reachable = false;
        let block = fix_block(&p, Intent::default());
        assert!(matches!(block[0], Fix::ServerPassiveSettings { .. }), "{block:?}");
    }

    #[test]
    fn one_lan_address_for_the_server_in_every_fix() {
        let mut p = leaking(&[], &[40006], &[40006]);
        p.named.allow = true;
        let block = fix_block(&p, Intent::default());
        let lans: Vec<Known<IpAddr>> = block
            .iter()
            .map(|f| match f {
                Fix::ServerPassiveSettings { setup } | Fix::ForwardPassiveRange { setup, .. } => setup.lan_address,
                f => panic!("{f:?}: with the LAN address known, forwarding is the fix"),
            })
            .collect();
        assert!(lans.iter().all(|&l| l == Known::Seen(ip("10.0.0.20"))), "{lans:?}");
    }

    #[test]
    fn two_points_make_one_picture_with_the_lan_address_of_the_inside() {
        // Outside, the client saw 40000 cross and 40006 not; inside, 40001 arrived.
        let mut outside = leaking(&[40000], &[40006], &[40000, 40006]);
        outside.lan_address = None;
        let mut inside = ServerPicture::new(ip("10.0.0.20"), 21);
        inside.crossed = ports(&[40001]);
        let m = merge(&outside, &inside);
        assert_eq!(m.lan_address, Some(ip("10.0.0.20")));
        assert_eq!(m.crossed.ports(), &[40000, 40001]);
        assert_eq!(m.never().ports(), &[40006]);
        let pair = (SocketAddr::new(ip("198.51.100.2"), 21), SocketAddr::new(ip("10.0.0.20"), 21));
        let a = [server(&outside, Intent::default())];
        let b = [server(&inside, Intent::default())];
        let both = merge_points(&a, &b, [pair, pair].into_iter(), Intent::default());
        assert_eq!(both.len(), 1, "one server");
        assert_eq!(merge_points(&a, &b, std::iter::empty(), Intent::default()).len(), 2, "unpaired: two");
    }

    #[test]
    fn real_sessions_of_one_server_sum_up_across_sessions() {
        use crate::report::ladder::tests::sessions;
        // The workaround's two sessions cross on 40002; the partial range's crosses on 40000,
        // 40002 and 40004 and never on 40005, 40007 and 40009: one server (198.51.100.2:21).
        let mut servers = Servers::default();
        for s in sessions("pasv-private-leak-workaround/client.pcap").iter().chain(&sessions("pasv-range-partial/client.pcap")) {
            assert!(servers.has_room_for(s));
            servers.see(s);
        }
        let all = servers.all(Intent::default());
        assert_eq!(all.len(), 1);
        let p = &all[0].picture;
        assert_eq!((p.sessions, p.leaked, p.control_crossed, p.software), (3, true, true, Software::Vsftpd));
        assert_eq!((p.lan_address, p.public_address), (Some(ip("10.0.0.20")), Some(ip("198.51.100.2"))));
        assert_eq!(p.crossed.ports(), &[40000, 40002, 40004]);
        assert_eq!(p.never().ports(), &[40005, 40007, 40009]);
        assert_eq!(
            p.causes.iter().map(|c| (c.cause.name, c.kinds.as_slice(), c.sessions)).collect::<Vec<_>>(),
            [
                ("server_nat_private_address", [FindingKind::PrivateAddressLeak].as_slice(), 2),
                ("part_of_range", [FindingKind::DataConnectionFailed].as_slice(), 1)
            ]
        );
        // A consequence counts with its cause: the trusting client's failed connections are
        // the leak's.
        let mut trusting = Servers::default();
        sessions("pasv-private-leak-fail/client.pcap").iter().for_each(|s| trusting.see(s));
        let causes: Vec<_> = trusting.pictures[0].causes.iter().map(|c| (c.kinds.as_slice(), c.severity, c.sessions)).collect();
        assert_eq!(causes, [([FindingKind::PrivateAddressLeak].as_slice(), crate::model::Severity::Error, 1)]);
        // Told once when changed, then not again until another session comes.
        assert_eq!(servers.take_changed(Intent::default()).len(), 1);
        assert!(servers.take_changed(Intent::default()).is_empty());
    }

    #[test]
    fn past_the_bound_a_servers_sessions_are_counted_not_pictured() {
        let mut s = crate::report::ladder::tests::sessions("pasv-ok-forwarded/client.pcap").remove(0);
        let mut servers = Servers::default();
        for i in 0..=MAX_SERVERS as u32 {
            s.server = SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::from(0xC633_6400 + i)), 21);
            assert_eq!(servers.has_room_for(&s), i < MAX_SERVERS as u32);
            servers.see(&s);
        }
        assert_eq!((servers.all(Intent::default()).len(), servers.sessions_left_out()), (MAX_SERVERS, 1));
    }

    #[test]
    fn a_server_where_everything_crossed_needs_nothing() {
        let mut p = ServerPicture::new(ip("198.51.100.2"), 21);
        p.control_crossed = true;
        p.crossed = ports(&[40000, 40001]);
        p.advertised = ports(&[40000, 40001]);
        assert!(fix_block(&p, Intent::default()).is_empty());
    }
}
