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

/// Encrypted sessions a host may have at once that a new connection is weighed against (a
/// client with several FTPS connections, clients behind one NAT address); past it the oldest
/// is no longer a candidate.
const PER_HOST: usize = 16;

#[derive(Default)]
pub struct EncryptedSessions {
    /// Host address -> its sessions whose control channel went TLS, oldest first.
    by_host: AddrMap<IpAddr, Vec<u32>>,
}

impl EncryptedSessions {
    pub fn note(&mut self, s: &SessionState) {
        for ip in [s.client.ip(), s.server.ip()] {
            let ids = self.by_host.entry(ip).or_default();
            if ids.len() == PER_HOST {
                ids.remove(0);
            }
            ids.push(s.id);
        }
    }

    /// The session settled: its hosts no longer point at it.
    pub fn forget(&mut self, s: &SessionState) {
        for ip in [s.client.ip(), s.server.ip()] {
            if let Some(ids) = self.by_host.get_mut(&ip) {
                ids.retain(|&id| id != s.id);
                if ids.is_empty() {
                    self.by_host.remove(&ip);
                }
            }
        }
    }

    /// The encrypted session a new connection from `src` to `dst` probably serves: a lookup by
    /// host, not a scan of every session. Of several that fit, the one whose control channel
    /// spoke last: a data connection follows the (encrypted) command and reply that asked for it.
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
        [src.ip(), dst.ip()]
            .iter()
            .filter_map(|ip| self.by_host.get(ip))
            .flatten()
            .filter_map(|&id| get(id).filter(|s| fits(s)))
            .max_by_key(|s| (s.last_ts, s.id))
            .map(|s| s.id)
    }
}
