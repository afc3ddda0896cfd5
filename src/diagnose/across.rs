//! Findings across sessions: one capture that holds both sides of a NAT router (`tcpdump -i any`
//! on it) shows each control connection twice, before and after translation. Where the two
//! copies advertise different addresses for the same negotiation, the router's FTP helper
//! rewrote it in transit.
//!
//! Owns a compact digest of recently settled sessions, kept only while a partner can still
//! settle (both copies of one connection close within moments of each other). The copies are
//! compared by value (user, banner, endpoints, sequence numbers): the texts are shared handles
//! (crate::interned), not digests an attacker could make collide.

use crate::interned::Interned;
use crate::model::finding::group;
use crate::model::finding::RewriteAcross;
use crate::model::{classify, Details, Finding, FindingKind, Fix, Mode, NegotiationCommand, Session, Severity, Text, Timestamp};
use crate::AddrMap;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// How long (capture time) a settled session's digest waits for its other copy. Both copies
/// see the same packets, so they settle moments apart (at most the settle grace apart, 5 s).
const KEEP_NS: i64 = 15 * 1_000_000_000;
/// Digests held at most. Copies of one connection settle moments apart, so the newest this
/// many are where a partner is: a busy capture (or one whose clock runs fast, as generated
/// ones do) settling more than this in [`KEEP_NS`] lets the oldest go early, counted
/// (`pairing_digests_dropped`), rather than hold every session of those 15 s. 8192, not the
/// 50,000 it was: the two copies settle within the same few packets, and a full 50,000 (12 MiB
/// of digests and their index) sat in the cache beside the open sessions (with the flow
/// table's ended connections, 6% of the CPU time per session of the busy benchmark at 300k
/// sessions: bench/README.md).
pub const MAX_KEPT: usize = 8192;
/// Candidates compared per group: ports reused by a busy NAT must not make this quadratic.
const MAX_CANDIDATES: usize = 8;
/// Two copies of one connection start within this of each other.
const SAME_START_NS: u64 = 1_000_000_000;

/// A negotiation as pairing compares it: command, mode, advertised endpoint, evidence frame.
type Advertised = (NegotiationCommand, Mode, Option<SocketAddr>, u64);

/// What pairing needs to know of a settled session.
struct Digest {
    id: u32,
    client: SocketAddr,
    server: SocketAddr,
    start: Timestamp,
    settled: Timestamp,
    /// The user name: both copies of one connection carry the same USER line. Shared, as the
    /// banner, with every digest of the same text.
    user: Option<Arc<str>>,
    /// The banner: both copies carry the same one (a server's, shared by its sessions).
    banner: Option<Arc<str>>,
    /// The control connection's initial sequence numbers, client's and server's, when the
    /// handshake is in the capture: a NAT passes them through (a helper that resizes a PORT
    /// line shifts the numbers after it, not the first), while two connections that only share
    /// a client port (a port-preserving NAT, ephemeral port reuse) have their own.
    isns: [Option<u32>; 2],
    negotiations: Box<[Advertised]>,
    /// The previous digest of each of its two groups, by sequence number (a list through the
    /// digests, newest first, so that a group costs no allocation of its own).
    earlier: [Option<u64>; 2],
}

/// The two ways copies of one connection can share an endpoint: DNAT in front of the server
/// changes the server's address (the client endpoint is shared); masquerade changes the
/// client's address but keeps its port where it can (the server endpoint and client port are
/// shared). Addresses as 128-bit numbers (IPv4 mapped): a small key that hashes in one pass.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct GroupKey {
    address: u128,
    port: u16,
    client_port: u16,
    /// 0: the client endpoint; 1: the server endpoint and the client's port.
    shape: u8,
}

impl GroupKey {
    fn of(client: SocketAddr, server: SocketAddr) -> [GroupKey; 2] {
        let bits = |a: SocketAddr| match a.ip() {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().to_bits(),
            IpAddr::V6(v6) => v6.to_bits(),
        };
        [
            GroupKey { address: bits(client), port: client.port(), client_port: 0, shape: 0 },
            GroupKey { address: bits(server), port: server.port(), client_port: client.port(), shape: 1 },
        ]
    }
}

/// Digests of recently settled sessions, oldest first; each is named by its sequence number
/// (its place in settle order), so expiry is a pop from the front and no map of ids is needed.
#[derive(Default)]
pub struct NatPairing {
    digests: VecDeque<Digest>,
    /// Sequence number of `digests[0]`.
    first: u64,
    /// The newest digest of each group.
    newest: AddrMap<GroupKey, u64>,
    /// The users and banners the digests hold, each once.
    texts: Interned,
    /// Digests let go before their time, past [`MAX_KEPT`].
    pub dropped: u64,
}

impl NatPairing {
    /// A session settled: findings for every earlier copy it pairs with; then it waits for its
    /// own partner.
    pub fn settle(&mut self, s: &Session, now: Timestamp) -> Vec<Finding> {
        self.expire(now);
        // Nothing advertised, nothing an ALG could have rewritten.
        if s.negotiations.iter().all(|n| n.advertised.is_none()) {
            return Vec::new();
        }
        let keys = GroupKey::of(s.client, s.server);
        let mut d = Digest {
            id: s.id,
            client: s.client,
            server: s.server,
            start: s.start_time,
            settled: now,
            user: s.user.as_deref().map(|u| self.texts.get(u)),
            banner: s.banner.as_deref().map(|b| self.texts.get(b)),
            isns: [s.control.client_isn, s.control.server_isn],
            negotiations: s.negotiations.iter().map(|n| (n.command, n.mode, n.advertised, n.evidence_frame())).collect(),
            earlier: [None; 2],
        };
        let mut out = Vec::new();
        for (g, key) in keys.iter().enumerate() {
            let mut next = self.newest.get(key).copied();
            if let Some(earlier) = d.earlier.get_mut(g) {
                *earlier = next;
            }
            for _ in 0..MAX_CANDIDATES {
                let Some(other) = next.and_then(|seq| self.get(seq)) else { break };
                next = other.earlier.get(g).copied().flatten();
                let other_side_differs = match g {
                    0 => other.server != d.server,
                    _ => other.client.ip() != d.client.ip(),
                };
                let same_connection = other_side_differs
                    && other.negotiations.len() == d.negotiations.len()
                    && other.user == d.user
                    && other.banner == d.banner
                    && same_isns(other.isns, d.isns)
                    && other.start.0.abs_diff(d.start.0) < SAME_START_NS;
                if same_connection {
                    rewritten(other, &d, &mut out);
                }
            }
        }
        let seq = self.first.saturating_add(self.digests.len() as u64);
        for key in keys {
            self.newest.insert(key, seq);
        }
        self.digests.push_back(d);
        if out.is_empty() {
            out
        } else {
            super::merge_repeats(out)
        }
    }

    fn get(&self, seq: u64) -> Option<&Digest> {
        self.digests.get(usize::try_from(seq.checked_sub(self.first)?).ok()?)
    }

    fn expire(&mut self, now: Timestamp) {
        while let Some(d) = self.digests.front() {
            let early = self.digests.len() >= MAX_KEPT;
            if now.since(d.settled) < KEEP_NS && !early {
                break;
            }
            self.dropped = self.dropped.saturating_add(u64::from(early));
            let seq = self.first;
            for key in GroupKey::of(d.client, d.server) {
                if self.newest.get(&key) == Some(&seq) {
                    self.newest.remove(&key);
                }
            }
            if let Some(d) = self.digests.pop_front() {
                for text in [d.user, d.banner].into_iter().flatten() {
                    self.texts.release(text);
                }
            }
            self.first = self.first.saturating_add(1);
        }
    }

    /// Digests held: what this costs in memory.
    pub fn len(&self) -> usize {
        self.digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// Distinct users and banners held.
    #[cfg(test)]
    pub fn texts(&self) -> usize {
        self.texts.len()
    }
}

/// Each initial sequence number known in both copies is the same.
fn same_isns(a: [Option<u32>; 2], b: [Option<u32>; 2]) -> bool {
    a.iter().zip(&b).all(|pair| match pair {
        (Some(x), Some(y)) => x == y,
        _ => true,
    })
}

/// The two copies of one control connection: negotiations whose addresses differ were rewritten.
fn rewritten(a: &Digest, b: &Digest, out: &mut Vec<Finding>) {
    for (na, nb) in a.negotiations.iter().zip(&b.negotiations) {
        let ((cmd_a, mode, Some(x), frame_a), (cmd_b, _, Some(y), frame_b)) = (*na, *nb) else { continue };
        if x.ip() == y.ip() || cmd_a != cmd_b {
            continue;
        }
        // The inside copy is the one with the address the outside cannot reach.
        let ((inside, adv_in, f_in), (outside, adv_out, f_out)) = if classify(x.ip()).is_unreachable_from_elsewhere() {
            ((a, x, frame_a), (b, y, frame_b))
        } else {
            ((b, y, frame_b), (a, x, frame_a))
        };
        out.push(Finding {
            kind: FindingKind::AlgRewrite,
            group: group((adv_in.ip(), adv_out.ip())),
            occurrences: 1,
            caused_by: None,
            also: Vec::new(),
            severity: Severity::Info,
            session: inside.id,
            frames: vec![f_in, f_out],
            text: Text::RewriteAcross(RewriteAcross {
                command: cmd_a,
                inside: adv_in,
                inside_frame: f_in,
                inside_session: inside.id,
                outside: adv_out,
                outside_frame: f_out,
                outside_session: outside.id,
            }),
            fix: vec![Fix::PrepareForTls { mode }],
            details: Details::RewriteAcross { inside: adv_in, outside: adv_out, inside_session: inside.id, outside_session: outside.id },
        });
    }
}
