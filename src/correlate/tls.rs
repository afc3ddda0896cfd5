//! Data channels under TLS: once a control channel is encrypted its negotiations cannot be
//! read, so connections opened afterwards between the same two hosts (or from the client to an
//! unroutable address, when the server's public one is known) are taken as its probable data
//! channels.
//!
//! Owns the rule for which encrypted session a connection serves, and the count of connections
//! left out because the session that fits holds [`MAX_PROBABLE`] already. Must not touch
//! packets.

use super::hosts::SessionsByHost;
use crate::ftp::session::{SessionState, MAX_PROBABLE};
use crate::model::classify;
use std::net::SocketAddr;

/// The sessions whose control channel went TLS, by both of their hosts.
#[derive(Default)]
pub struct EncryptedSessions {
    hosts: SessionsByHost,
    /// New connections that only sessions holding [`MAX_PROBABLE`] probable data connections
    /// fit: not kept as any session's (`probable_channels_dropped`).
    pub dropped: u64,
}

impl EncryptedSessions {
    pub fn note(&mut self, s: &SessionState) {
        for ip in [s.client.ip(), s.server.ip()] {
            self.hosts.note(ip, s.id);
        }
    }

    /// The session settled: its hosts no longer point at it.
    pub fn forget(&mut self, s: &SessionState) {
        for ip in [s.client.ip(), s.server.ip()] {
            self.hosts.forget(ip, s.id);
        }
    }

    /// The encrypted session a new connection from `src` to `dst` probably serves: a lookup by
    /// host, not a scan of every session. Of several that fit, the one whose control channel
    /// spoke last: a data connection follows the (encrypted) command and reply that asked for it.
    /// One that only full sessions fit is counted.
    pub fn session_for<'s>(&mut self, src: SocketAddr, dst: SocketAddr, get: impl Fn(u32) -> Option<&'s SessionState>) -> Option<u32> {
        let fits = |s: &SessionState| {
            let (c, sv) = (s.client.ip(), s.server.ip());
            let unroutable = |ip| classify(ip).is_unreachable_from_elsewhere();
            let (a, b) = (src.ip(), dst.ip());
            s.unreadable() && dst != s.server && ((a == c && (b == sv || unroutable(b) && !unroutable(sv))) || (a == sv && b == c))
        };
        let mut full = false;
        let chosen = [src.ip(), dst.ip()]
            .iter()
            .flat_map(|&ip| self.hosts.of(ip))
            .filter_map(|&id| get(id).filter(|s| fits(s)))
            .filter(|s| {
                let room = s.probable.len() < MAX_PROBABLE;
                full |= !room;
                room
            })
            .max_by_key(|s| (s.last_ts, s.id))
            .map(|s| s.id);
        if chosen.is_none() && full {
            self.dropped = self.dropped.saturating_add(1);
        }
        chosen
    }

    /// Sessions pushed out of a host's list (`host_sessions_dropped`).
    pub fn hosts_dropped(&self) -> u64 {
        self.hosts.dropped
    }
}
