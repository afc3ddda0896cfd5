//! Sessions wanted at once: from one client address to one server, and at one server. Each
//! session takes the counts at its start (itself included) into its login facts: a connection
//! limit's refusal (421 too many) is fixed by a limit at least that high, and the server's fix
//! block names the highest its sessions saw. A session the limit refused closes at once, yet it
//! was wanted along with the others: it counts until every session open with it has settled
//! (with a limit of 1, three sessions at once show one open and two refused one after the
//! other, and need a limit of 3).

use crate::model::OpenAlong;
use crate::AddrMap;
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Default)]
pub(super) struct OpenCounts {
    from_client: AddrMap<(IpAddr, SocketAddr), Wanted>,
    at_server: AddrMap<SocketAddr, Wanted>,
}

/// Sessions open now, and sessions refused by a limit since some were open without a pause.
#[derive(Debug, Default, Clone, Copy)]
struct Wanted {
    open: u32,
    refused: u32,
}

impl Wanted {
    fn at_once(self) -> u32 {
        self.open.saturating_add(self.refused)
    }
}

impl OpenCounts {
    /// A session began: the counts with it.
    pub(super) fn opened(&mut self, client: IpAddr, server: SocketAddr) -> OpenAlong {
        let from_client = self.from_client.entry((client, server)).or_default();
        from_client.open = from_client.open.saturating_add(1);
        let at_server = self.at_server.entry(server).or_default();
        at_server.open = at_server.open.saturating_add(1);
        OpenAlong { from_client: from_client.at_once(), at_server: at_server.at_once() }
    }

    /// A session settled (`refused`: by a connection limit): it no longer counts as open; once
    /// none is, the count goes.
    pub(super) fn settled(&mut self, client: IpAddr, server: SocketAddr, refused: bool) {
        fn down<K: std::hash::Hash + Eq>(map: &mut AddrMap<K, Wanted>, key: K, refused: bool) {
            if let Some(w) = map.get_mut(&key) {
                w.open = w.open.saturating_sub(1);
                if w.open == 0 {
                    map.remove(&key);
                } else if refused {
                    w.refused = w.refused.saturating_add(1);
                }
            }
        }
        down(&mut self.from_client, (client, server), refused);
        down(&mut self.at_server, server, refused);
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
        counts.settled(a, server, false);
        counts.settled(a, server, false);
        assert_eq!(counts.opened(a, server), OpenAlong { from_client: 1, at_server: 2 });
        counts.settled(a, server, false);
        counts.settled(b, server, false);
        assert!(counts.from_client.is_empty() && counts.at_server.is_empty(), "nothing left behind");
    }

    #[test]
    fn sessions_a_limit_refused_count_while_the_others_stay_open() {
        // vsftpd max_per_ip=1, three sessions wanted at once: the second is refused and gone
        // before the third comes.
        let (a, server): (IpAddr, SocketAddr) = ("192.0.2.1".parse().unwrap(), "198.51.100.2:21".parse().unwrap());
        let mut counts = OpenCounts::default();
        counts.opened(a, server);
        assert_eq!(counts.opened(a, server).from_client, 2);
        counts.settled(a, server, true);
        assert_eq!(counts.opened(a, server).from_client, 3, "wanted along with the one still open");
        counts.settled(a, server, true);
        counts.settled(a, server, false);
        assert_eq!(counts.opened(a, server).from_client, 1, "a pause: a new start");
    }
}
