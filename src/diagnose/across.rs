//! Findings across sessions: one capture that holds both sides of a NAT router (`tcpdump -i any`
//! on it) shows each control connection twice, before and after translation. Where the two
//! copies advertise different addresses for the same negotiation, the router's FTP helper
//! rewrote it in transit.
//!
//! Owns a compact digest of recently settled sessions, kept only while a partner can still
//! settle (both copies of one connection close within moments of each other).

use crate::model::{classify, Details, Finding, FindingKind, Fix, Mode, NegotiationCommand, Session, Severity, Timestamp};
use crate::AddrMap;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::net::SocketAddr;

/// How long (capture time) a settled session's digest waits for its other copy. Both copies
/// see the same packets, so they settle moments apart (at most the settle grace apart, 5 s).
const KEEP_NS: i64 = 15 * 1_000_000_000;
/// Candidates compared per group: ports reused by a busy NAT must not make this quadratic.
const MAX_CANDIDATES: usize = 8;
/// Two copies of one connection start within this of each other.
const SAME_START_NS: i64 = 1_000_000_000;

/// What pairing needs to know of a settled session.
struct Digest {
    id: u32,
    client: SocketAddr,
    server: SocketAddr,
    start: Timestamp,
    user: Option<String>,
    negotiations: Vec<(NegotiationCommand, Mode, Option<SocketAddr>, u64)>,
    /// The previous digest of each of its two groups (a list through the digests, newest
    /// first, so that a group costs no allocation of its own).
    earlier: [Option<u32>; 2],
}

/// The two ways copies of one connection can share an endpoint: DNAT in front of the server
/// changes the server's address (the client endpoint is shared); masquerade changes the
/// client's address but keeps its port where it can (the server endpoint and client port are
/// shared).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum GroupKey {
    Client(SocketAddr),
    ServerAndClientPort(SocketAddr, u16),
}

impl GroupKey {
    fn of(client: SocketAddr, server: SocketAddr) -> [GroupKey; 2] {
        [GroupKey::Client(client), GroupKey::ServerAndClientPort(server, client.port())]
    }
}

#[derive(Default)]
pub struct NatPairing {
    digests: FxHashMap<u32, Digest>,
    /// The newest digest of each group.
    newest: AddrMap<GroupKey, u32>,
    /// Settle time and id, oldest first, for expiry.
    order: VecDeque<(Timestamp, u32)>,
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
            user: s.user.clone(),
            negotiations: s.negotiations.iter().map(|n| (n.command, n.mode, n.advertised, n.evidence_frame())).collect(),
            earlier: [None; 2],
        };
        let mut out = Vec::new();
        for (g, key) in keys.iter().enumerate() {
            let mut next = self.newest.get(key).copied();
            d.earlier[g] = next;
            for _ in 0..MAX_CANDIDATES {
                let Some(other) = next.and_then(|id| self.digests.get(&id)) else { break };
                next = other.earlier[g];
                let other_side_differs = match key {
                    GroupKey::Client(_) => other.server != d.server,
                    GroupKey::ServerAndClientPort(..) => other.client.ip() != d.client.ip(),
                };
                let same_connection = other_side_differs
                    && other.negotiations.len() == d.negotiations.len()
                    && other.user == d.user
                    && (other.start.0 - d.start.0).abs() < SAME_START_NS;
                if same_connection {
                    rewritten(other, &d, &mut out);
                }
            }
        }
        for key in keys {
            self.newest.insert(key, d.id);
        }
        self.order.push_back((now, d.id));
        self.digests.insert(d.id, d);
        super::merge_repeats(out)
    }

    fn expire(&mut self, now: Timestamp) {
        while let Some(&(at, id)) = self.order.front() {
            if now.since(at) < KEEP_NS {
                break;
            }
            self.order.pop_front();
            if let Some(d) = self.digests.remove(&id) {
                for key in GroupKey::of(d.client, d.server) {
                    if self.newest.get(&key) == Some(&id) {
                        self.newest.remove(&key);
                    }
                }
            }
        }
    }

    /// Digests held: what this costs in memory.
    pub fn len(&self) -> usize {
        self.digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }
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
            group: format!("{} {}", adv_in.ip(), adv_out.ip()),
            occurrences: 1,
            severity: Severity::Info,
            session: inside.id,
            frames: vec![f_in, f_out],
            summary: format!(
                "NAT helper rewrote {cmd_a:?} {adv_in} (frame {f_in}, session {}) to {adv_out} (frame {f_out}, session {})",
                inside.id, outside.id
            ),
            explanation: "The same control connection appears on both sides of a NAT router, and the address in \
                          the negotiation differs between them: the router's FTP helper (ALG) rewrote it in clear \
                          text. It cannot do that once the session uses AUTH TLS."
                .into(),
            fix: vec![Fix::PrepareForTls { mode }],
            details: Details::RewriteAcross { inside: adv_in, outside: adv_out, inside_session: inside.id, outside_session: outside.id },
        });
    }
}
