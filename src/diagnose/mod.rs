//! Diagnosis: findings, with evidence frames, what to say and the fixes (all as values),
//! derived from a settled session's typed record. Pure: the same record always gives the same
//! findings.
//!
//! Owns the judgement (what is wrong, how bad, what to change). Must not touch packets or
//! parsing, nor word anything: report::finding and report::fix render the words at output
//! time, so a settling session formats no text.

pub mod across;
mod negotiation;
mod session;

use crate::model::{Finding, Session};
use crate::AddrMap;

/// Evidence frames kept for a finding that repeats.
const MAX_FRAMES: usize = 12;

/// A settled session's findings, in the order they were found, repeats merged.
pub fn session_findings(s: &Session) -> Vec<Finding> {
    let mut found = Vec::new();
    session::findings(s, &mut found);
    for n in &s.negotiations {
        negotiation::findings(s, n, &mut found);
    }
    merge_repeats(found)
}

/// Folds findings of the same kind and cause into the first one: its frames gain the others'
/// (up to a bound) and `occurrences` counts them. A hash map keeps this linear: one session can
/// hold thousands of identical findings.
pub(crate) fn merge_repeats(findings: Vec<Finding>) -> Vec<Finding> {
    // Most sessions have a few findings: a scan is cheaper than a map there.
    if findings.len() <= 8 {
        let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
        for f in findings {
            match out.iter_mut().find(|o| o.kind == f.kind && o.severity == f.severity && o.session == f.session && o.group == f.group) {
                Some(kept) => fold(kept, f),
                None => out.push(f),
            }
        }
        return out;
    }
    let mut out: Vec<Finding> = Vec::new();
    let mut first: AddrMap<(crate::model::FindingKind, crate::model::Severity, u32, u64), usize> = AddrMap::default();
    for f in findings {
        let key = (f.kind, f.severity, f.session, f.group);
        match first.get(&key) {
            Some(&i) => fold(&mut out[i], f),
            None => {
                first.insert(key, out.len());
                out.push(f);
            }
        }
    }
    out
}

/// One more occurrence of `kept`: its frames join, up to the bound.
fn fold(kept: &mut Finding, f: Finding) {
    kept.occurrences += 1;
    for frame in f.frames {
        if kept.frames.len() < MAX_FRAMES && !kept.frames.contains(&frame) {
            kept.frames.push(frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FindingKind, Severity};

    #[test]
    fn repeats_merge_into_one_finding_with_a_count() {
        let f = |frame: u64, cause: &str| Finding {
            kind: FindingKind::PrivateAddressLeak,
            occurrences: 1,
            group: crate::model::finding::group(cause),
            severity: Severity::Error,
            session: 0,
            frames: vec![frame],
            text: crate::model::Text::Credentials,
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
