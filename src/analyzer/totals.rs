//! The capture's totals (the summary) as sessions settle and as the input ends: negotiations,
//! transfers by verdict, what control channels lost or cut, problems by severity, and the counts
//! other stages kept.
//!
//! Owns how a settled session and a finding add up; must not count packets or frames (the
//! analyzer does as they come).

use crate::decode::defrag::DefragCounts;
use crate::model::{Finding, Session, Severity, Summary, Transfers};

/// A settled session, diagnosed: its negotiations and transfers, what its control channel lost
/// or cut, and its problems.
pub fn add_session(total: &mut Summary, record: &Session) {
    let negotiations = (record.negotiations.len() as u64).saturating_add(record.negotiations_over_limit);
    total.negotiations = total.negotiations.saturating_add(negotiations);
    total.transfers.add_all(Transfers::of(record));
    let c = &record.control;
    total.overlong_lines = total.overlong_lines.saturating_add(c.overlong_lines);
    total.conflicting_overlaps = total.conflicting_overlaps.saturating_add(c.conflicting_overlaps);
    total.control_gap_bytes = total.control_gap_bytes.saturating_add(c.gap_bytes);
    total.negotiations_over_limit = total.negotiations_over_limit.saturating_add(record.negotiations_over_limit);
    for f in &record.findings {
        count(total, f);
    }
}

/// Counts a problem: a consequence is counted with its cause, not again.
pub fn count(total: &mut Summary, f: &Finding) {
    if f.caused_by.is_some() {
        return;
    }
    let counted = match f.severity {
        Severity::Error => &mut total.errors,
        Severity::Warning => &mut total.warnings,
        Severity::Info => &mut total.infos,
    };
    *counted = counted.saturating_add(1);
}

/// What the IP reassembler did, in the totals.
pub(super) fn add_fragments(total: &mut Summary, defrag: DefragCounts) {
    total.reassembled_datagrams = defrag.reassembled;
    total.incomplete_datagrams = defrag.incomplete;
    total.datagrams_over_budget = defrag.over_budget;
    total.invalid_datagrams = defrag.invalid;
    total.overlapping_fragments = defrag.overlapping;
    total.conflicting_fragments = defrag.conflicting;
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::correlate::outcome::session_record;
    use crate::ftp::session::{NegState, SessionState};
    use crate::model::finding::Credentials;
    use crate::model::{Details, EndReason, FindingKind, NegotiationCommand, Text, Timestamp};
    use crate::tcp::flow::Conn;

    fn finding(severity: Severity, caused_by: Option<u32>) -> Finding {
        let f = Finding::new(
            FindingKind::DataConnectionFailed,
            severity,
            0,
            vec![1],
            Text::Credentials(Credentials),
            Details::Port { port: 21 },
        );
        Finding { caused_by, ..f }
    }

    #[test]
    fn a_consequence_is_counted_with_its_cause() {
        let mut total = Summary::default();
        count(&mut total, &finding(Severity::Error, None));
        count(&mut total, &finding(Severity::Error, Some(0)));
        count(&mut total, &finding(Severity::Warning, None));
        count(&mut total, &finding(Severity::Info, None));
        assert_eq!((total.errors, total.warnings, total.infos), (1, 1, 1));
    }

    #[test]
    fn a_settled_session_adds_its_negotiations_transfers_losses_and_problems() {
        let conn = Conn::new("192.168.1.10:40000".parse().unwrap(), "203.0.113.5:21".parse().unwrap(), 1, Timestamp(1));
        let mut s = SessionState::new(0, &conn);
        s.negotiations.push(NegState::new(5, Timestamp(5), NegotiationCommand::PASV));
        s.negotiations_over_limit = 2;
        let mut record = session_record(&s, Timestamp(9), EndReason::Closed);
        record.control.gap_bytes = 100;
        record.control.overlong_lines = u64::MAX;
        record.findings = vec![finding(Severity::Warning, None), finding(Severity::Error, Some(0))];
        record.negotiations[0].data.transfer = Some(crate::model::Verdict::Failed(crate::model::Failure::Refused));
        let mut total = Summary { overlong_lines: 1, ..Summary::default() };
        add_session(&mut total, &record);
        add_session(&mut total, &record);
        assert_eq!((total.negotiations, total.negotiations_over_limit), (6, 4));
        assert_eq!(total.control_gap_bytes, 200);
        assert_eq!(total.overlong_lines, u64::MAX, "saturates");
        assert_eq!((total.errors, total.warnings), (0, 2));
        assert_eq!(total.transfers, Transfers { total: 2, ok: 0, failed: 2, unknown: 0 });
    }
}
