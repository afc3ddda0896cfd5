//! Diagnosis: findings, with evidence frames, what to say and the fixes (all as values),
//! derived from a settled session's typed record. Pure: the same record always gives the same
//! findings.
//!
//! Owns the judgement (what is wrong, how bad, what to change). Must not touch packets or
//! parsing, nor word anything: the kinds (problems/) and report::fix render the words at output
//! time, so a settling session formats no text.

// Packet data and capture time reach every module below: no arithmetic that can overflow, no
// index that can panic (issue 20). An `allow` is narrow and says why its value stays small.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

pub mod across;
pub mod credentials;
pub mod fallback;
pub mod guessing;
mod login;
mod negotiation;
pub mod servers;
mod session;
// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests_table;
pub mod unclaimed;

use crate::model::finding::Group;
use crate::model::{classify, AddressClass, Finding, Fix, Intent, Known, Mode, PortRange, ServerSetup, Session};
use crate::AddrMap;

/// Evidence frames kept for a finding that repeats.
const MAX_FRAMES: usize = 12;

/// What diagnosis knows beyond the session: the operator's intended setup, and whether the
/// session's server has a fix block at the end (it does unless the bound on servers was met).
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    pub intent: Intent,
    pub server_block: bool,
}

/// A settled session's findings, in the order they were found, repeats merged, effects linked
/// to their causes (`caused_by`).
pub fn session_findings(s: &Session, cx: &Context) -> Vec<Finding> {
    let setup = server_setup(s, cx);
    let mut found = Vec::new();
    session::findings(s, cx, &setup, &mut found);
    login::findings(s, &mut found);
    let fell_back = crate::model::transfer::fallbacks_to_passive(&s.negotiations, |_, n| n.data.transfer);
    for (n, to_passive) in s.negotiations.iter().zip(fell_back) {
        negotiation::findings(s, n, to_passive, cx, &setup, &mut found);
    }
    login::not_logged_in(&mut found);
    // The session proves its own control connection went through: no rule for that port.
    if control_crossed(s) {
        for fix in found.iter_mut().flat_map(|f| f.fix.iter_mut()) {
            if let Fix::ForwardPassiveRange { crossed, .. } | Fix::AllowPassiveRange { crossed, .. } = fix {
                crossed.control_port = true;
            }
        }
    }
    merge_repeats(found)
}

/// A recognised session exchanged commands or replies: its control connection went through.
pub fn control_crossed(s: &Session) -> bool {
    s.commands > 0 || s.replies > 0
}

/// The passive ports a session shows its server using: those advertised in passive replies,
/// and under TLS the ports the client's probable data connections went to.
pub fn passive_ports(s: &Session) -> Option<PortRange> {
    let advertised = s.negotiations.iter().filter(|n| n.mode == Mode::Passive).filter_map(|n| n.advertised.map(|a| a.port()));
    let probable = s.probable_data_channels.iter().filter(|c| c.client.ip() == s.client.ip()).map(|c| c.server.port());
    advertised.chain(probable).fold(None, |r: Option<PortRange>, p| Some(r.map_or(PortRange { lo: p, hi: p }, |r| r.with(p))))
}

/// The server's setup as the fixes name it: each value from the intent, else the capture, else
/// left for the operator.
fn server_setup(s: &Session, cx: &Context) -> ServerSetup {
    let server = s.server.ip();
    let reached_publicly = !classify(server).is_unreachable_from_elsewhere();
    // Behind NAT the server tells its own LAN address (a leak) or its public one (configured).
    let advertised = |want_public: bool| {
        s.negotiations.iter().filter(|n| n.mode == Mode::Passive && !n.address_implied).filter_map(|n| n.advertised).map(|a| a.ip()).find(
            |&ip| {
                let class = classify(ip);
                if want_public {
                    class == AddressClass::Public && ip != server
                } else {
                    is_lan(class)
                }
            },
        )
    };
    let public = if reached_publicly { Some(server) } else { advertised(true) };
    let lan = if is_lan(classify(server)) { Some(server) } else { advertised(false).or_else(|| lan_address_under_tls(s)) };
    ServerSetup {
        software: s.software,
        public_address: Known::or_seen(cx.intent.public_ip, public),
        lan_address: lan.map_or(Known::Unknown, Known::Seen),
        control_port: s.control_port,
        // The server's block gives the range (intended, or from the whole capture: one
        // session's ports are too few to make a range of) with the lines to type; without a
        // block, the session's fixes carry them.
        passive_ports: match (cx.server_block, cx.intent.pasv_range) {
            (true, _) => Known::InServerBlock,
            (false, intended) => Known::or_seen(intended, passive_ports(s)),
        },
    }
}

/// Under TLS the passive reply cannot be read, but a client that trusts it dials the address
/// it named: a probable data connection to a LAN address other than the control connection's
/// is the server's own address behind its NAT.
pub(super) fn lan_address_under_tls(s: &Session) -> Option<std::net::IpAddr> {
    let server = s.server.ip();
    s.probable_data_channels
        .iter()
        .filter(|c| c.client.ip() == s.client.ip())
        .map(|c| c.server.ip())
        .find(|&ip| ip != server && is_lan(classify(ip)))
}

/// An address a server can have on a LAN behind NAT (not loopback, not "any").
pub(super) fn is_lan(class: AddressClass) -> bool {
    matches!(class, AddressClass::Private | AddressClass::CarrierGradeNat | AddressClass::UniqueLocal)
}

/// Folds findings of the same kind and cause into the first one: its frames gain the others'
/// (up to a bound), `also` their subjects and `occurrences` counts them. `caused_by` indexes
/// follow the folding. A hash map keeps this linear: one session can hold thousands of
/// identical findings.
pub(crate) fn merge_repeats(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len().min(16));
    // Where each finding went.
    let mut moved: Vec<u32> = Vec::with_capacity(findings.len());
    // Built only once a session has more distinct findings than a scan handles cheaply.
    let mut first: AddrMap<MergeKey, usize> = AddrMap::default();
    for mut f in findings {
        // A cause comes before its consequences: its new place is known.
        f.caused_by = f.caused_by.and_then(|c| moved.get(c as usize).copied());
        // Most sessions have a few findings: a scan is cheaper than a map there.
        let found = if out.len() <= 8 {
            out.iter().position(|o| same_cause(o, &f))
        } else {
            if first.is_empty() {
                first.extend(out.iter().enumerate().map(|(i, o)| (merge_key(o), i)));
            }
            first.get(&merge_key(&f)).copied()
        };
        match found.and_then(|i| Some((i, out.get_mut(i)?))) {
            Some((i, kept)) => {
                fold(kept, f);
                moved.push(i as u32);
            }
            None => {
                if !first.is_empty() {
                    first.insert(merge_key(&f), out.len());
                }
                moved.push(out.len() as u32);
                out.push(f);
            }
        }
    }
    out
}

/// What makes two findings of one session the same: kind, severity, cause group (its values,
/// not a digest of them) and the finding they are a consequence of.
type MergeKey = (crate::model::FindingKind, crate::model::Severity, Group, Option<u32>);

fn merge_key(f: &Finding) -> MergeKey {
    (f.kind, f.severity, f.group.clone(), f.caused_by)
}

/// [`MergeKey`]'s equality without building the keys.
fn same_cause(a: &Finding, b: &Finding) -> bool {
    a.kind == b.kind && a.severity == b.severity && a.group == b.group && a.caused_by == b.caused_by
}

/// One more occurrence of `kept`: its frames and subject join, up to the bounds.
fn fold(kept: &mut Finding, f: Finding) {
    kept.occurrences = kept.occurrences.saturating_add(1);
    for frame in f.frames {
        if kept.frames.len() < MAX_FRAMES && !kept.frames.contains(&frame) {
            kept.frames.push(frame);
        }
    }
    if kept.also.len() < crate::model::finding::MAX_ALSO {
        kept.also.push(f.text);
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::{FindingKind, Severity};

    #[test]
    fn repeats_merge_into_one_finding_with_a_count() {
        let f = |frame: u64, cause: &str| Finding {
            kind: FindingKind::PrivateAddressLeak,
            occurrences: 1,
            caused_by: None,
            also: Vec::new(),
            group: crate::model::finding::group(cause),
            severity: Severity::Error,
            session: 0,
            frames: vec![frame],
            text: crate::model::Text::Credentials(crate::model::finding::Credentials),
            fix: Vec::new(),
            details: crate::model::Details::Port { port: 21 },
        };
        // Both ways: a scan for a few, a map for many.
        for n in [5, 20] {
            let out = merge_repeats((0..n).map(|i| f(i, "a")).chain([f(99, "b")]).collect());
            assert_eq!(out.len(), 2);
            assert_eq!(out[0].occurrences, n as u32);
            assert_eq!(out[0].frames.len(), (n as usize).min(MAX_FRAMES));
            assert_eq!(out[1].frames, vec![99]);
        }
    }
}
