//! Two capture points of the same traffic: pairs the sessions of capture A with those of capture
//! B, then each negotiation and its data connection, and says what the device between changed,
//! let through or dropped.
//!
//! A control connection is recognised at both points by its initial sequence numbers: Linux NAT
//! rewrites addresses and ports but keeps them (an FTP helper that changes a reply's length
//! shifts the numbers only after that reply, never the SYN's). The same user must be on it. A
//! device that also changes sequence numbers leaves content: the same user, banner, commands
//! and negotiations, starting at the same time once the clocks' offset (estimated from the
//! pairs by sequence numbers) is taken out. Content is compared by value: a digest of it only
//! finds the candidates quickly, as text on the wire could be chosen to make digests collide. Data connections pair through their negotiations,
//! which both points see in the same order.
//!
//! Pure: what pairing compares of each settled session ([`Seen`], taken from the record as it
//! settles) in, a [`Crossing`] out. Ordered tables searched by range, so the cost grows as
//! n log n in the sessions, never with all pairs.

use crate::interned::Interned;
use crate::model::points::{Crossing, DataCrossing, Endpoints, LoneSession, NegotiationPair, PairedBy, Point, SessionPair, Translation};
use crate::model::{Connection, Negotiation, NegotiationCommand, Outcome, Session};
use crate::Timestamp;
use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;

/// Content pairs start within this of each other, the clocks' offset taken out.
const CONTENT_WINDOW_NS: i64 = 2_000_000_000;
/// Candidates looked at per session: sessions alike in every respect (the same sequence numbers
/// in replicated traffic, the same content started in the same instant) must not make pairing
/// quadratic.
const MAX_CANDIDATES: usize = 64;

/// What pairing compares of one settled session, and what its report names: every session of
/// two captures is held until they are paired, so not the whole record (its timeline, findings
/// and anomalies are most of its memory).
#[derive(Debug, Clone)]
pub struct Seen {
    pub id: u32,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub first_frame: u64,
    pub start_time: Timestamp,
    /// Shared, as the banner, with every session of the same user.
    pub user: Option<Arc<str>>,
    /// The control connection's initial sequence numbers.
    pub client_isn: Option<u32>,
    pub server_isn: Option<u32>,
    /// With the user, the negotiations' commands and these, what both copies carry unchanged
    /// through NAT: their content.
    pub banner: Option<Arc<str>>,
    /// Commands read on the control channel: none, no content to pair by.
    pub commands: u64,
    pub replies: u64,
    // Boxed slices, not vectors: two captures' worth of these are held at once.
    pub negotiations: Box<[SeenNegotiation]>,
    pub probable_data_channels: Box<[Connection]>,
}

/// What pairing compares of one negotiation.
#[derive(Debug, Clone)]
pub struct SeenNegotiation {
    pub command: NegotiationCommand,
    /// [`Negotiation::evidence_frame`].
    pub evidence_frame: u64,
    pub advertised: Option<SocketAddr>,
    pub address_implied: bool,
    pub outcome: Outcome,
    pub connection: Option<Box<Connection>>,
}

impl Seen {
    /// `texts`: where the users and banners of one capture's sessions are held, each once.
    pub fn of(s: &Session, texts: &mut Interned) -> Seen {
        Seen {
            id: s.id,
            client: s.client,
            server: s.server,
            first_frame: s.first_frame,
            start_time: s.start_time,
            user: s.user.as_deref().map(|u| texts.get(u)),
            client_isn: s.control.client_isn,
            server_isn: s.control.server_isn,
            banner: s.banner.as_deref().map(|b| texts.get(b)),
            commands: s.commands,
            replies: s.replies,
            negotiations: s.negotiations.iter().map(SeenNegotiation::of).collect(),
            probable_data_channels: s.probable_data_channels.clone().into_boxed_slice(),
        }
    }
}

impl SeenNegotiation {
    fn of(n: &Negotiation) -> SeenNegotiation {
        SeenNegotiation {
            command: n.command,
            evidence_frame: n.evidence_frame(),
            advertised: n.advertised,
            address_implied: n.address_implied,
            outcome: n.data.outcome,
            connection: n.data.connection.clone().map(Box::new),
        }
    }
}

/// Pairs the settled sessions of two captures of the same traffic. The data connections move
/// into the crossing rather than being copied: every session of both captures is held here.
pub fn pair(mut a: Vec<Seen>, mut b: Vec<Seen>) -> Crossing {
    let Matches { partner, taken, offset } = matches(&a, &b);
    // In the order A's sessions began; sorted before the pairs are built, so that they are
    // built once, in place.
    let mut order: Vec<(Timestamp, u32, usize, usize, PairedBy)> =
        partner.iter().zip(&a).enumerate().filter_map(|(i, (p, s))| p.map(|(j, by)| (s.start_time, s.id, i, j, by))).collect();
    order.sort_unstable_by_key(|&(start, id, ..)| (start, id));
    Crossing {
        clock_offset_ns: offset,
        // Indexes from enumerating `a` and `b`: every one is in range.
        pairs: order.into_iter().filter_map(|(.., i, j, by)| Some(session_pair(a.get_mut(i)?, b.get_mut(j)?, by))).collect(),
        only_a: lone(&a, &|i| partner.get(i).is_some_and(Option::is_some)),
        only_b: lone(&b, &|j| taken.get(j).is_some_and(|&t| t)),
    }
}

/// Which session of B each session of A is, and how that was found.
struct Matches {
    /// Per session of A: its partner in B.
    partner: Vec<Option<(usize, PairedBy)>>,
    /// Per session of B: it has a partner in A.
    taken: Vec<bool>,
    /// B's clock minus A's, from the pairs by sequence numbers.
    offset: Option<i64>,
}

fn matches(a: &[Seen], b: &[Seen]) -> Matches {
    let mut partner: Vec<Option<(usize, PairedBy)>> = vec![None; a.len()];
    let mut taken = vec![false; b.len()];
    by_sequence_numbers(a, b, &mut partner, &mut taken);
    // Saturating: two clocks at opposite ends of pcapng's time (if_tsoffset) differ by more
    // than an i64 of nanoseconds holds; such an offset reads as the limit (292 years).
    let offset = median(
        partner.iter().zip(a).filter_map(|(p, s)| Some(b.get(p.as_ref()?.0)?.start_time.0.saturating_sub(s.start_time.0))).collect(),
    );
    let digest = foldhash::fast::RandomState::default();
    by_content(a, b, offset.unwrap_or(0), &|s| content_key(s, &digest), &mut partner, &mut taken);
    Matches { partner, taken, offset }
}

/// Same client ISN, the server's ISN too where both points saw it, and the same user. Of two
/// copies of one connection in B (a capture on both sides of a device), the one that looks
/// most like A's: fewest endpoints translated.
fn by_sequence_numbers(a: &[Seen], b: &[Seen], partner: &mut [Option<(usize, PairedBy)>], taken: &mut [bool]) {
    // Only sessions not taken yet: a group of equal numbers (crafted or replicated traffic)
    // costs a bounded look each time, not a walk past every session already paired.
    let mut open: BTreeSet<(u32, usize)> = b.iter().enumerate().filter_map(|(j, s)| Some((s.client_isn?, j))).collect();
    for (s, partner) in a.iter().zip(partner) {
        let Some(isn) = s.client_isn else { continue };
        let best = open
            .range((isn, 0)..=(isn, usize::MAX))
            .take(MAX_CANDIDATES)
            .filter_map(|&(_, j)| Some((j, b.get(j)?)))
            .filter(|(_, o)| o.user == s.user && agree(s.server_isn, o.server_isn))
            .min_by_key(|(_, o)| [o.client != s.client, o.server != s.server].into_iter().filter(|&translated| translated).count());
        if let Some((j, _)) = best {
            open.remove(&(isn, j));
            if let Some(t) = taken.get_mut(j) {
                *t = true;
            }
            *partner = Some((j, PairedBy::SequenceNumbers));
        }
    }
}

/// The sessions left: same content (user, banner, commands, replies, negotiations), nearest in
/// time within [`CONTENT_WINDOW_NS`] of `offset`. `key`: a digest of the content, which only
/// orders the table; sessions under one key are compared by value.
type ContentKey<'k> = &'k dyn Fn(&Seen) -> u64;

fn by_content(a: &[Seen], b: &[Seen], offset: i64, key: ContentKey<'_>, partner: &mut [Option<(usize, PairedBy)>], taken: &mut [bool]) {
    let mut open: BTreeSet<(u64, i64, usize)> = b
        .iter()
        .zip(taken.iter())
        .enumerate()
        .filter(|&(_, (s, &taken))| !taken && s.commands > 0)
        .map(|(j, (s, _))| (key(s), s.start_time.0, j))
        .collect();
    for (s, partner) in a.iter().zip(partner) {
        if partner.is_some() || s.commands == 0 {
            continue;
        }
        let (key, expected) = (key(s), s.start_time.0.saturating_add(offset));
        let window = (key, expected.saturating_sub(CONTENT_WINDOW_NS), 0)..=(key, expected.saturating_add(CONTENT_WINDOW_NS), usize::MAX);
        let nearest = open
            .range(window)
            .take(MAX_CANDIDATES)
            .filter(|&&(.., j)| b.get(j).is_some_and(|o| same_content(s, o)))
            .min_by_key(|&&(_, t, _)| t.abs_diff(expected))
            .copied();
        if let Some(entry @ (.., j)) = nearest {
            open.remove(&entry);
            if let Some(t) = taken.get_mut(j) {
                *t = true;
            }
            *partner = Some((j, PairedBy::Content));
        }
    }
}

/// The sessions of one capture left unpaired, in the order they began; each marked when it is
/// the other copy of a paired session of the same capture.
fn lone(sessions: &[Seen], paired: &dyn Fn(usize) -> bool) -> Vec<LoneSession> {
    let mut by_isn: Vec<(u32, usize)> = sessions.iter().enumerate().filter_map(|(i, s)| Some((s.client_isn?, i))).collect();
    by_isn.sort_unstable();
    let mut out: Vec<LoneSession> = sessions
        .iter()
        .enumerate()
        .filter(|&(i, _)| !paired(i))
        .map(|(i, s)| {
            let copy_of = s.client_isn.and_then(|isn| {
                let from = by_isn.partition_point(|&(k, _)| k < isn);
                let same = by_isn.get(from..).unwrap_or_default().iter().take_while(|&&(k, _)| k == isn).take(MAX_CANDIDATES);
                same.filter(|&&(_, k)| k != i && paired(k)).find_map(|&(_, k)| sessions.get(k).filter(|o| o.user == s.user)).map(|o| o.id)
            });
            LoneSession {
                id: s.id,
                client: s.client,
                server: s.server,
                first_frame: s.first_frame,
                start_time: s.start_time,
                user: s.user.as_deref().map(String::from),
                copy_of,
            }
        })
        .collect();
    out.sort_by_key(|l| (l.start_time, l.id));
    out
}

/// A digest of what both copies of a session carry unchanged through NAT ([`same_content`]),
/// seeded per process so that nobody can aim collisions at it.
fn content_key(s: &Seen, digest: &foldhash::fast::RandomState) -> u64 {
    let mut h = digest.build_hasher();
    (&s.user, &s.banner, s.commands, s.replies).hash(&mut h);
    for n in &s.negotiations {
        (n.command as u8).hash(&mut h);
    }
    h.finish()
}

/// Both copies carry the same user, banner, counts of commands and replies, and negotiations'
/// commands.
fn same_content(x: &Seen, y: &Seen) -> bool {
    x.user == y.user
        && x.banner == y.banner
        && (x.commands, x.replies) == (y.commands, y.replies)
        && x.negotiations.len() == y.negotiations.len()
        && x.negotiations.iter().zip(&y.negotiations).all(|(m, n)| m.command == n.command)
}

/// Two values seen at both points agree; one seen at one point only does not contradict.
fn agree(x: Option<u32>, y: Option<u32>) -> bool {
    x.zip(y).is_none_or(|(x, y)| x == y)
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

/// The pair of `a` and `b`, their data connections moved into it.
fn session_pair(a: &mut Seen, b: &mut Seen, paired_by: PairedBy) -> SessionPair {
    let same = a.negotiations.iter().zip(&b.negotiations).take_while(|(x, y)| x.command == y.command).count();
    SessionPair {
        a: a.id,
        b: b.id,
        paired_by,
        user: a.user.as_deref().map(String::from),
        control: Translation { a: Endpoints { client: a.client, server: a.server }, b: Endpoints { client: b.client, server: b.server } },
        negotiations: a.negotiations.iter_mut().zip(&mut b.negotiations).take(same).map(|(x, y)| negotiation_pair(x, y)).collect(),
        // `same` counts pairs of both lists: neither is shorter.
        negotiations_only_a: a.negotiations.len().saturating_sub(same),
        negotiations_only_b: b.negotiations.len().saturating_sub(same),
        probable_data_channels: probable(
            std::mem::take(&mut a.probable_data_channels).into_vec(),
            std::mem::take(&mut b.probable_data_channels).into_vec(),
        ),
    }
}

fn negotiation_pair(a: &mut SeenNegotiation, b: &mut SeenNegotiation) -> NegotiationPair {
    let rewritten = match (a.advertised, b.advertised) {
        // EPSV carries a port only: its address is each point's own control address.
        (Some(x), Some(y)) if a.address_implied || b.address_implied => x.port() != y.port(),
        (x, y) => x != y,
    };
    let data = match (a.connection.take(), b.connection.take()) {
        (Some(x), Some(y)) => crossed(x, y),
        (Some(x), None) => vanished(Point::A, x, Some(b.outcome)),
        (None, Some(y)) => vanished(Point::B, y, Some(a.outcome)),
        (None, None) => DataCrossing::NotSeen,
    };
    NegotiationPair {
        command: a.command,
        a_frame: a.evidence_frame,
        b_frame: b.evidence_frame,
        a_advertised: a.advertised,
        b_advertised: b.advertised,
        rewritten,
        data,
    }
}

/// Under TLS: connections with the same initial sequence number are one; the others were seen
/// at one point only. A connection whose SYN neither point saw cannot be told apart and is left
/// out.
fn probable(a: Vec<Connection>, b: Vec<Connection>) -> Vec<DataCrossing> {
    let mut index: Vec<(u32, usize)> = b.iter().enumerate().filter_map(|(j, c)| Some((c.client_isn?, j))).collect();
    index.sort_unstable();
    let mut b: Vec<Option<Connection>> = b.into_iter().map(Some).collect();
    let mut out = Vec::new();
    for x in a {
        let Some(isn) = x.client_isn else { continue };
        let from = index.partition_point(|&(k, _)| k < isn);
        let mut same = index.get(from..).unwrap_or_default().iter().take_while(|&&(k, _)| k == isn);
        match same.find_map(|&(_, j)| b.get_mut(j).and_then(Option::take)) {
            Some(y) => out.push(crossed(Box::new(x), Box::new(y))),
            None => out.push(vanished(Point::A, Box::new(x), None)),
        }
    }
    let seen_at_b_only = b.into_iter().flatten().filter(|c| c.client_isn.is_some());
    out.extend(seen_at_b_only.map(|c| vanished(Point::B, Box::new(c), None)));
    out
}

fn crossed(a: Box<Connection>, b: Box<Connection>) -> DataCrossing {
    let same_isn = a.client_isn.zip(b.client_isn).map(|(x, y)| x == y);
    DataCrossing::Crossed { a, b, same_isn }
}

fn vanished(seen_at: Point, c: Box<Connection>, outcome_where_missing: Option<Outcome>) -> DataCrossing {
    let missing_at = if seen_at == Point::A { Point::B } else { Point::A };
    DataCrossing::Vanished { seen_at, missing_at, connection: c, outcome_where_missing }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::analyzer::Settings;
    use crate::capture::progress::Progress;
    use crate::drive::{self, Inputs};
    use crate::growth::growth;
    use crate::report::explain::Collector;
    use std::path::Path;

    /// What pairing compares of each session of a lab capture (fixtures/README.md), as
    /// `explain A B` keeps it.
    fn lab(name: &str) -> Vec<Seen> {
        let inputs = Inputs::open(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)]).unwrap();
        let (collector, collected) = Collector::new();
        drive::through(inputs, Settings::default(), Box::new(collector.for_pairing()), &Progress::hidden()).unwrap();
        collected.recv().unwrap().seen
    }

    /// The alg-active sessions inside (client) and outside (router-wan) the client's NAT.
    fn alg_active() -> (Vec<Seen>, Vec<Seen>) {
        (lab("alg-active/client.pcap"), lab("alg-active/router-wan.pcap"))
    }

    #[test]
    fn the_same_sequence_numbers_with_another_user_are_another_connection() {
        let (a, mut b) = alg_active();
        assert_eq!(pair(a.clone(), b.clone()).pairs.len(), 2);
        // Another user: other content too.
        b[0].user = Some("mallory".into());
        let c = pair(a.clone(), b.clone());
        assert_eq!(c.pairs.len(), 1);
        assert_eq!((c.only_a.len(), c.only_b.len()), (1, 1));
    }

    /// Every session under one content key, as if every digest collided: only sessions whose
    /// content is equal, value by value, pair.
    #[test]
    fn sessions_under_one_content_key_pair_only_by_equal_content() {
        let (a, b) = alg_active();
        let no_isn = |v: Vec<Seen>| -> Vec<Seen> { v.into_iter().map(|s| Seen { client_isn: None, ..s }).collect() };
        let (a, mut b) = (no_isn(a), no_isn(b));
        let paired = |a: &[Seen], b: &[Seen]| {
            let (mut partner, mut taken) = (vec![None; a.len()], vec![false; b.len()]);
            by_content(a, b, 0, &|_| 0, &mut partner, &mut taken);
            partner.iter().filter(|p| p.is_some()).count()
        };
        assert_eq!(paired(&a, &b), 2);
        b[0].user = Some("mallory".into());
        assert_eq!(paired(&a, &b), 1, "another user");
        b[1].banner = Some("220 another server".into());
        assert_eq!(paired(&a, &b), 0, "another banner");
    }

    #[test]
    fn content_pairs_only_within_the_window_of_the_measured_offset() {
        let (a, b) = alg_active();
        let shifted = |b: &[Seen], secs: i64, isn: bool| -> Vec<Seen> {
            let mut b = b.to_vec();
            for s in &mut b {
                s.start_time = s.start_time.plus_ns(secs * 1_000_000_000);
                if !isn {
                    s.client_isn = None;
                }
            }
            b
        };
        // Without sequence numbers, the clocks are taken as in step: 1 s apart pairs, 3 s not.
        assert!(pair(a.clone(), shifted(&b, 1, false)).pairs.iter().all(|p| p.paired_by == PairedBy::Content));
        assert_eq!(pair(a.clone(), shifted(&b, 1, false)).pairs.len(), 2);
        assert_eq!(pair(a.clone(), shifted(&b, 3, false)).pairs.len(), 0);
        // One session pairs by sequence numbers: the offset it measures (100 s) lets the other
        // pair by content.
        let mut b = shifted(&b, 100, true);
        b[1].client_isn = None;
        let c = pair(a.clone(), b.clone());
        assert_eq!(c.clock_offset_ns.map(|ns| ns / 1_000_000_000), Some(100));
        let by: Vec<PairedBy> = c.pairs.iter().map(|p| p.paired_by).collect();
        assert_eq!(by, [PairedBy::SequenceNumbers, PairedBy::Content]);
    }

    /// `n` copies of each session of a capture, started 1 ms apart; the copies' sequence
    /// numbers differ unless `same_isn` (replicated traffic), and are gone with `no_isn`.
    fn copies(sessions: &[Seen], n: usize, same_isn: bool, no_isn: bool) -> Vec<Seen> {
        let mut out = Vec::with_capacity(n * sessions.len());
        for k in 0..n {
            for s in sessions {
                let mut s = s.clone();
                s.id = out.len() as u32;
                s.start_time = s.start_time.plus_ns(k as i64 * 1_000_000);
                s.client_isn = match (no_isn, same_isn) {
                    (true, _) => None,
                    (false, true) => s.client_isn,
                    (false, false) => s.client_isn.map(|isn| isn.wrapping_add(k as u32 * 7919)),
                };
                out.push(s);
            }
        }
        out
    }

    /// 8,000 and 32,000 sessions a side: past the caches at both sizes, so the ratio shows the
    /// algorithm (n log n: about 4.5; all pairs: 16), not a working set outgrowing a cache.
    #[test]
    fn pairing_grows_near_linearly_with_the_sessions() {
        let (a, b) = alg_active();
        for (same_isn, no_isn) in [(false, false), (true, false), (false, true)] {
            let input = |n: usize| (copies(&a, n, same_isn, no_isn), copies(&b, n, same_isn, no_isn));
            let (x, y) = input(500);
            assert_eq!(pair(x.clone(), y).pairs.len(), x.len(), "every copy pairs (same_isn {same_isn}, no_isn {no_isn})");
            let Some(ratio) = growth(8000, 32000, input, |(x, y)| {
                std::hint::black_box(matches(x, y));
            }) else {
                return;
            };
            assert!(ratio < 6.0, "4x the sessions took {ratio:.1}x the time (same_isn {same_isn}, no_isn {no_isn}); linear is 4");
        }
    }
}
