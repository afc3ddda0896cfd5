//! Sessions by host address: which sessions a new connection between two hosts may belong to
//! when no announced endpoint says (an encrypted control channel, a reply not captured), found
//! by a lookup of its hosts instead of a scan of every session.
//!
//! Owns the index and its bound, and counts what the bound pushes out. Must not judge which
//! session fits: its users do.

use crate::AddrMap;
use std::net::IpAddr;

/// Sessions a host may have at once that a new connection is weighed against (a client with
/// several connections, clients behind one NAT address); past it the oldest is no longer a
/// candidate.
const PER_HOST: usize = 16;

#[derive(Default)]
pub struct SessionsByHost {
    /// Host address -> session ids, oldest first.
    by_host: AddrMap<IpAddr, Vec<u32>>,
    /// Sessions pushed out of a host's list by a newer one (`host_sessions_dropped`).
    pub dropped: u64,
}

impl SessionsByHost {
    pub fn note(&mut self, ip: IpAddr, id: u32) {
        let ids = self.by_host.entry(ip).or_default();
        if ids.contains(&id) {
            return;
        }
        if ids.len() == PER_HOST {
            ids.remove(0);
            self.dropped = self.dropped.saturating_add(1);
        }
        ids.push(id);
    }

    pub fn forget(&mut self, ip: IpAddr, id: u32) {
        if let Some(ids) = self.by_host.get_mut(&ip) {
            ids.retain(|&i| i != id);
            if ids.is_empty() {
                self.by_host.remove(&ip);
            }
        }
    }

    pub fn of(&self, ip: IpAddr) -> &[u32] {
        self.by_host.get(&ip).map_or(&[], Vec::as_slice)
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_host_keeps_its_newest_sessions_once_each() {
        let mut h = SessionsByHost::default();
        let ip: IpAddr = "192.0.2.10".parse().unwrap();
        for id in 0..20 {
            h.note(ip, id);
            h.note(ip, id);
        }
        assert_eq!(h.of(ip), (4..20).collect::<Vec<u32>>());
        assert_eq!(h.dropped, 4, "each session pushed out, once");
        for id in 4..20 {
            h.forget(ip, id);
        }
        assert!(h.of(ip).is_empty());
        assert!(h.by_host.is_empty(), "a host with no session left is removed");
    }
}
