//! Sessions open at once: from one client address to one server, and at one server. Each
//! session takes the counts at its start (itself included) into its login facts: a connection
//! limit's refusal (421 too many) is fixed by a limit at least that high, and the server's fix
//! block names the highest its sessions saw.

use crate::model::OpenAlong;
use crate::AddrMap;
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Default)]
pub(super) struct OpenCounts {
    from_client: AddrMap<(IpAddr, SocketAddr), u32>,
    at_server: AddrMap<SocketAddr, u32>,
}

impl OpenCounts {
    /// A session began: the counts with it.
    pub(super) fn opened(&mut self, client: IpAddr, server: SocketAddr) -> OpenAlong {
        let from_client = self.from_client.entry((client, server)).or_default();
        *from_client = from_client.saturating_add(1);
        let at_server = self.at_server.entry(server).or_default();
        *at_server = at_server.saturating_add(1);
        OpenAlong { from_client: *from_client, at_server: *at_server }
    }

    /// A session settled: it no longer counts; a count that falls to 0 goes.
    pub(super) fn settled(&mut self, client: IpAddr, server: SocketAddr) {
        fn down<K: std::hash::Hash + Eq>(map: &mut AddrMap<K, u32>, key: K) {
            if let Some(n) = map.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&key);
                }
            }
        }
        down(&mut self.from_client, (client, server));
        down(&mut self.at_server, server);
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn counts_rise_with_each_session_and_fall_as_they_settle() {
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let server: SocketAddr = "198.51.100.2:21".parse().unwrap();
        let mut counts = OpenCounts::default();
        assert_eq!(counts.opened(a, server), OpenAlong { from_client: 1, at_server: 1 });
        assert_eq!(counts.opened(a, server), OpenAlong { from_client: 2, at_server: 2 });
        assert_eq!(counts.opened(b, server), OpenAlong { from_client: 1, at_server: 3 });
        counts.settled(a, server);
        counts.settled(a, server);
        assert_eq!(counts.opened(a, server), OpenAlong { from_client: 1, at_server: 2 });
        counts.settled(a, server);
        counts.settled(b, server);
        assert!(counts.from_client.is_empty() && counts.at_server.is_empty(), "nothing left behind");
    }
}
