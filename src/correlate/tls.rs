//! Data channels under TLS: once a control channel is encrypted its negotiations cannot be
//! read, so connections opened afterwards between the same two hosts (or from the client to an
//! unroutable address, when the server's public one is known) are taken as its probable data
//! channels.
//!
//! Owns the lookup from a host to its latest encrypted session. Must not touch packets.

use crate::ftp::session::{SessionState, MAX_PROBABLE};
use crate::model::classify;
use crate::AddrMap;
use std::net::{IpAddr, SocketAddr};

#[derive(Default)]
pub struct EncryptedSessions {
    /// Host address -> its latest session whose control channel went TLS.
    by_host: AddrMap<IpAddr, u32>,
}

impl EncryptedSessions {
    pub fn note(&mut self, s: &SessionState) {
        self.by_host.insert(s.client.ip(), s.id);
        self.by_host.insert(s.server.ip(), s.id);
    }

    /// The session settled: its hosts no longer point at it.
    pub fn forget(&mut self, s: &SessionState) {
        for ip in [s.client.ip(), s.server.ip()] {
            if self.by_host.get(&ip) == Some(&s.id) {
                self.by_host.remove(&ip);
            }
        }
    }

    /// The encrypted session a new connection from `src` to `dst` probably serves: a lookup by
    /// host, not a scan of every session.
    pub fn session_for<'s>(&self, src: SocketAddr, dst: SocketAddr, get: impl Fn(u32) -> Option<&'s SessionState>) -> Option<u32> {
        let fits = |s: &SessionState| {
            let (c, sv) = (s.client.ip(), s.server.ip());
            let unroutable = |ip| classify(ip).is_unreachable_from_elsewhere();
            let (a, b) = (src.ip(), dst.ip());
            s.encrypted()
                && s.probable.len() < MAX_PROBABLE
                && dst != s.server
                && ((a == c && (b == sv || unroutable(b) && !unroutable(sv))) || (a == sv && b == c))
        };
        [src.ip(), dst.ip()].iter().filter_map(|ip| self.by_host.get(ip)).copied().find(|&id| get(id).is_some_and(fits))
    }
}
